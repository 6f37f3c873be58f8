/*
 * fuzz_options: libFuzzer harness for winch's flag parser: argv is the input split at NUL
 * bytes (after "winch"), the environment is empty, help and errors go to /dev/null; two
 * parses in a row must not affect each other.
 * Built and run by tests/fuzz/run.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "util.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_options: %s:%d: invariant failed: %s\n", __FILE__,   \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAX_ARGS 64

static FILE *devnull;

/* What one parse decided, to compare two parses of the same arguments. */
struct outcome {
	enum options_action act;
	int concurrency;
	int n_queues;
	int max_depth;
	size_t max_bytes;
	double timeout;
};

static void parse_once(int argc, char **argv, struct outcome *o)
{
	struct options cfg;
	int k;

	memset(o, 0, sizeof(*o));
	options_init(&cfg);
	o->act = options_parse(&cfg, argc, argv, devnull, devnull);
	CHECK(o->act == OPTIONS_RUN || o->act == OPTIONS_EXIT_OK || o->act == OPTIONS_EXIT_BAD);
	if (o->act == OPTIONS_RUN) {
		CHECK(cfg.concurrency >= 1 && cfg.concurrency <= 10000);
		CHECK(cfg.queues.n >= 1 && cfg.queues.n <= QUEUES_MAX);
		for (k = 0; k < cfg.queues.n; k++)
			CHECK(strlen(cfg.queues.q[k].name) <= QUEUE_NAME_MAX);
		CHECK(cfg.limits.max_bytes >= 1024 && cfg.limits.max_depth >= 4);
		CHECK(cfg.redis.host != NULL || cfg.redis.path != NULL);
		o->concurrency = cfg.concurrency;
		o->n_queues = cfg.queues.n;
		o->max_depth = cfg.limits.max_depth;
		o->max_bytes = cfg.limits.max_bytes;
		o->timeout = cfg.timeout;
	}
	options_release(&cfg);
}

/* argv from the input: "winch", then one string per NUL-separated piece. */
static int build_argv(const uint8_t *data, size_t size, char **argv)
{
	char *copy = xmalloc(size + 1);
	size_t i, start = 0;
	int argc = 0;

	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = xstrdup("winch");
	for (i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (i < size && copy[i] != '\0')
			continue;
		argv[argc++] = xstrdup(copy + start);
		start = i + 1;
	}
	argv[argc] = NULL;
	free(copy);
	return argc;
}

static void free_argv(int argc, char **argv)
{
	int k;

	for (k = 0; k < argc; k++)
		free(argv[k]);
}

/* Leave getopt's state as a first call would find it (glibc re-initialises at optind 0). */
static void reset_getopt(void)
{
	char *argv[] = {(char *)"x", NULL};

	optind = 0;
	opterr = 0;
	if (getopt(1, argv, "") != -1)
		abort();
}

static void parse_input(const uint8_t *data, size_t size, struct outcome *o)
{
	char *argv[MAX_ARGS + 2];
	int argc = build_argv(data, size, argv);

	parse_once(argc, argv, o);
	free_argv(argc, argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is one argument list, or two separated by the first newline: A then B. A parse
 * must depend on nothing but its own arguments, whatever was parsed before (getopt keeps
 * state between calls, and A's strings are freed before B is parsed): B parsed after A
 * must decide what B parsed first decides.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	const uint8_t *b = nl ? nl + 1 : data;
	size_t alen = nl ? (size_t)(nl - data) : size, blen = size - (size_t)(b - data);
	struct outcome fresh, after;

	if (devnull == NULL) {
		devnull = fopen("/dev/null", "w");
		if (devnull == NULL)
			abort();
	}
	clearenv();
	reset_getopt();
	parse_input(b, blen, &fresh);
	parse_input(data, alen, &after);
	parse_input(b, blen, &after);
	CHECK(memcmp(&fresh, &after, sizeof(fresh)) == 0);
	return 0;
}
