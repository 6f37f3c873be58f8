/* test_options: flags and environment into struct options; bad values refused by name. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

static char errbuf[512];

static enum options_action parse(struct options *o, const char *const *args)
{
	char *argv[32];
	int argc = 0;
	FILE *out = fopen("/dev/null", "w");
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
	enum options_action a;

	argv[argc++] = (char *)"winch";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	memset(errbuf, 0, sizeof(errbuf));
	options_init(o);
	a = options_parse(o, argc, argv, out, err);
	fclose(out);
	fclose(err);
	return a;
}

static int setup(void **state)
{
	(void)state;
	unsetenv("RAILS_MAX_THREADS");
	unsetenv("REDIS_URL");
	unsetenv("REDIS_PROVIDER");
	unsetenv("RAILS_ENV");
	return 0;
}

/* A parse stopped inside "-v~c" must leave nothing for the next one to read (fuzz_options). */
static void test_parse_after_a_half_read_cluster(void **state)
{
	struct options o;
	const char *bad[] = {"-vv~c9", NULL};
	const char *good[] = {"-c", "3", NULL};

	(void)state;
	assert_int_equal(parse(&o, bad), OPTIONS_EXIT_BAD);
	options_release(&o);
	assert_int_equal(parse(&o, good), OPTIONS_RUN);
	assert_int_equal(o.concurrency, 3);
	options_release(&o);
}

static void test_defaults(void **state)
{
	struct options o;
	const char *args[] = {NULL};

	(void)state;
	assert_int_equal(parse(&o, args), OPTIONS_RUN);
	assert_int_equal(o.concurrency, 10);
	assert_int_equal(o.queues.n, 1);
	assert_string_equal(o.queues.q[0].name, "default");
	assert_true(o.timeout == 25);
	assert_int_equal(o.gen, SIDEKIQ_7);
	assert_string_equal(o.redis.host, "127.0.0.1");
	assert_int_equal(o.redis.port, 6379);
	options_release(&o);
}

static void test_flags(void **state)
{
	struct options o;
	const char *args[] = {"-c", "25", "-q", "critical,3", "-q", "low", "-t", "8", "-g",
			      "box1", "--sidekiq", "8", "--poll-interval", "0.5", "-v", NULL};

	(void)state;
	assert_int_equal(parse(&o, args), OPTIONS_RUN);
	assert_int_equal(o.concurrency, 25);
	assert_int_equal(o.queues.n, 2);
	assert_int_equal(o.queues.q[0].weight, 3);
	assert_true(o.timeout == 8);
	assert_string_equal(o.tag, "box1");
	assert_int_equal(o.gen, SIDEKIQ_8);
	assert_true(o.poll_interval == 0.5);
	assert_int_equal(o.poll_interval_given, 1);
	assert_int_equal(o.log_level, LOG_DEBUG);
	options_release(&o);
}

static void test_environment(void **state)
{
	struct options o;
	const char *args[] = {NULL};
	const char *args_c[] = {"-c", "3", NULL};

	(void)state;
	setenv("RAILS_MAX_THREADS", "7", 1);
	setenv("REDIS_PROVIDER", "MY_REDIS", 1);
	setenv("MY_REDIS", "redis://10.0.0.5:6380/2", 1);
	assert_int_equal(parse(&o, args), OPTIONS_RUN);
	assert_int_equal(o.concurrency, 7);
	assert_string_equal(o.redis.host, "10.0.0.5");
	assert_int_equal(o.redis.db, 2);
	options_release(&o);
	assert_int_equal(parse(&o, args_c), OPTIONS_RUN);
	assert_int_equal(o.concurrency, 3); /* the flag wins */
	options_release(&o);
	unsetenv("MY_REDIS");
	assert_int_equal(parse(&o, args), OPTIONS_EXIT_BAD);
	assert_non_null(strstr(errbuf, "REDIS_PROVIDER"));
	options_release(&o);
	setup(NULL);
}

static void expect_bad(const char *const *args, const char *names)
{
	struct options o;

	assert_int_equal(parse(&o, args), OPTIONS_EXIT_BAD);
	assert_non_null(strstr(errbuf, names));
	/* one line */
	assert_ptr_equal(strchr(errbuf, '\n'), errbuf + strlen(errbuf) - 1);
	options_release(&o);
}

/* --max-reply: a default that follows --max-payload, and never less than a job needs. */
static void test_max_reply(void **state)
{
	struct options o;
	const char *none[] = {NULL};
	const char *set[] = {"--max-payload", "1048576", "--max-reply", "1100000", NULL};
	const char *big[] = {"--max-payload", "134217728", NULL};
	const char *tight[] = {"--max-payload", "1048576", "--max-reply", "1050000", NULL};
	const char *tiny[] = {"--max-reply", "100", NULL};

	(void)state;
	assert_int_equal(parse(&o, none), OPTIONS_RUN);
	assert_int_equal(o.max_reply, 64 * 1024 * 1024);
	options_release(&o);
	assert_int_equal(parse(&o, set), OPTIONS_RUN);
	assert_int_equal(o.max_reply, 1100000);
	options_release(&o);
	assert_int_equal(parse(&o, big), OPTIONS_RUN);
	assert_int_equal(o.max_reply, 134217728 + OPTIONS_REPLY_SLACK);
	options_release(&o);
	expect_bad(tight, "--max-reply: 1050000 bytes is less than --max-payload (1048576) + 4096");
	expect_bad(tiny, "--max-reply: '100' is not a number of bytes");
}

static void test_bad_values_named(void **state)
{
	const char *a1[] = {"-c", "0", NULL};
	const char *a2[] = {"--sidekiq", "9", NULL};
	const char *a3[] = {"-q", "a,x", NULL};
	const char *a4[] = {"-C", "sidekiq.yml", NULL};
	const char *a5[] = {"--nope", NULL};
	const char *a6[] = {"-c", NULL};
	const char *a7[] = {"--log-format", "xml", NULL};

	(void)state;
	expect_bad(a1, "-c: '0'");
	expect_bad(a2, "--sidekiq: '9'");
	expect_bad(a3, "-q:");
	expect_bad(a4, "-C: 'sidekiq.yml'");
	expect_bad(a5, "--nope: unknown flag");
	expect_bad(a6, "-c: needs a value");
	expect_bad(a7, "--log-format: 'xml'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_parse_after_a_half_read_cluster, setup),
		cmocka_unit_test_setup(test_flags, setup),
		cmocka_unit_test_setup(test_environment, setup),
		cmocka_unit_test_setup(test_bad_values_named, setup),
		cmocka_unit_test_setup(test_max_reply, setup),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
