/* main: winch's entry point: read the options, set up logging and the engine, run. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <ev.h>

#include "builtin.h"
#include "engine.h"
#include "log.h"
#include "module.h"
#include "options.h"
#include "registry.h"
#include "banned.h"

/* The built-in handlers, then -M modules in order, then --handlers DIR. */
static int load_handlers(const struct options *opt)
{
	int i;

	if (registry_add(builtin_handlers, "built-in") < 0)
		return -1;
	for (i = 0; i < opt->n_modules; i++)
		if (module_load(opt->modules[i]) < 0)
			return -1;
	if (opt->handlers_dir && module_load_dir(opt->handlers_dir) < 0)
		return -1;
	if (opt->n_modules || opt->handlers_dir)
		log_info("handler modules: %s", module_summary());
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct engine engine;
	struct ev_loop *loop;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	options_init(&opt);
	switch (options_parse(&opt, argc, argv, stdout, stderr)) {
	case OPTIONS_RUN:
		break;
	case OPTIONS_EXIT_OK:
		options_release(&opt);
		return 0;
	case OPTIONS_EXIT_BAD:
		options_release(&opt);
		return 2;
	}
	log_setup(opt.log_level, opt.log_format);
	if (opt.logfile) {
		rc = log_open_file(opt.logfile);
		if (rc < 0) {
			fprintf(stderr, "winch: --logfile: cannot open '%s': %s\n", opt.logfile,
				strerror(-rc));
			options_release(&opt);
			return 2;
		}
	}
	if (load_handlers(&opt) < 0) {
		options_release(&opt);
		return 2;
	}
	loop = ev_default_loop(EVFLAG_AUTO);
	if (engine_init(&engine, loop, &opt) < 0) {
		options_release(&opt);
		return 1;
	}
	rc = engine_run(&engine);
	engine_release(&engine);
	options_release(&opt);
	return rc;
}
