/* main: winch's entry point: read the options, set up logging and the engine, run. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <ev.h>

#include "builtin.h"
#include "engine.h"
#include "log.h"
#include "options.h"
#include "registry.h"
#include "banned.h"

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
	if (registry_add(builtin_handlers) < 0) {
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
