/*
 * test_ctl_args: winchctl's command line: words and flags in any order, every value checked
 * and refused by name, and what ctl_main does with usage errors before it reaches Redis.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"
#include "ctl_args.h"
#include "banned.h"

static char errbuf[512];

/* Parse a NULL-ended word list into a; returns ctl_args_parse's result. */
static int parse(struct ctl_args *a, const char *const *words)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = (char *)"winchctl";
	while (*words)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	memset(errbuf, 0, sizeof(errbuf));
	ctl_args_init(a);
	return ctl_args_parse(a, argc, argv, errbuf, sizeof(errbuf));
}

static void refused(const char *const *words, const char *message)
{
	struct ctl_args a;

	if (parse(&a, words) != -1)
		fail_msg("accepted '%s ...'", words[0]);
	if (strncmp(errbuf, message, strlen(message)) != 0)
		fail_msg("message '%s' does not start with '%s'", errbuf, message);
}

static void test_defaults(void **state)
{
	const char *w[] = {NULL};
	struct ctl_args a;

	(void)state;
	assert_int_equal(parse(&a, w), 0);
	assert_null(a.command);
	assert_int_equal(a.n_words, 0);
	assert_int_equal(a.given, 0);
	assert_int_equal(a.gen, 7);
	assert_int_equal(a.dead_max_jobs, 10000);
	assert_int_equal(a.dead_timeout, 15552000);
	assert_int_equal(a.push.retry, WINCH_CLIENT_RETRY_TRUE);
	assert_int_equal(a.push.backtrace, 0);
	assert_int_equal(a.limit, 0);
}

static void test_words_and_flags_anywhere(void **state)
{
	const char *w[] = {"--json", "push", "Reports::Extract", "--queue=low", "[1, 2]",
			   "--in", "-5", "--namespace", "app", "--retry", "3", "--sidekiq", "8",
			   NULL};
	const char *w2[] = {"retries", "retry", "abc", "--jid", "def", "--", "--not-a-flag",
			    "--limit", "5", NULL};
	struct ctl_args a;

	(void)state;
	assert_int_equal(parse(&a, w), 0);
	assert_string_equal(a.command, "push");
	assert_int_equal(a.n_words, 2);
	assert_string_equal(a.words[0], "Reports::Extract");
	assert_string_equal(a.words[1], "[1, 2]");
	assert_int_equal(a.json, 1);
	assert_string_equal(a.queue, "low");
	assert_true(a.push.in == -5);
	assert_string_equal(a.name_space, "app");
	assert_int_equal(a.push.retry, WINCH_CLIENT_RETRY_COUNT);
	assert_int_equal(a.push.retry_count, 3);
	assert_int_equal(a.gen, 8);
	assert_int_equal(a.given, CTL_F_JSON | CTL_F_QUEUE | CTL_F_IN | CTL_F_NAMESPACE |
					  CTL_F_RETRY | CTL_F_SIDEKIQ);

	/* "--" ends the flags. */
	assert_int_equal(parse(&a, w2), 0);
	assert_string_equal(a.command, "retries");
	assert_int_equal(a.n_words, 5);
	assert_string_equal(a.words[0], "retry");
	assert_string_equal(a.words[1], "abc");
	assert_string_equal(a.words[2], "--not-a-flag");
	assert_string_equal(a.words[3], "--limit");
	assert_int_equal(a.n_jids, 1);
	assert_string_equal(a.jids[0], "def");
	assert_int_equal(a.limit, 0);
}

static void test_values(void **state)
{
	const char *w1[] = {"push", "X", "--retry", "false", "--backtrace", "true", "--at",
			    "1795797610.25", "--extra", "{\"tags\":[]}", "--bulk", "-", NULL};
	const char *w2[] = {"push", "X", "--retry", "true", "--backtrace", "12", NULL};
	const char *w3[] = {"dead", "--class", "C", "--jid", "a", "--jid", "b", "--limit", "7",
			    "--all", "--dead-max-jobs", "50", "--dead-timeout", "60", "-h", "-V",
			    NULL};
	struct ctl_args a;

	(void)state;
	assert_int_equal(parse(&a, w1), 0);
	assert_int_equal(a.push.retry, WINCH_CLIENT_RETRY_FALSE);
	assert_int_equal(a.push.backtrace, WINCH_BACKTRACE_ALL);
	assert_true(a.push.at == 1795797610.25);
	assert_string_equal(a.push.extra_json, "{\"tags\":[]}");
	assert_string_equal(a.bulk, "-");
	assert_int_equal(parse(&a, w2), 0);
	assert_int_equal(a.push.retry, WINCH_CLIENT_RETRY_TRUE);
	assert_int_equal(a.push.backtrace, 12);
	assert_int_equal(parse(&a, w3), 0);
	assert_string_equal(a.klass, "C");
	assert_int_equal(a.n_jids, 2);
	assert_string_equal(a.jids[1], "b");
	assert_int_equal(a.limit, 7);
	assert_int_equal(a.all, 1);
	assert_int_equal(a.dead_max_jobs, 50);
	assert_int_equal(a.dead_timeout, 60);
	assert_true(a.given & CTL_F_HELP);
	assert_true(a.given & CTL_F_VERSION);
}

static void test_refused_by_name(void **state)
{
	const char *unknown[] = {"stats", "--frob", NULL};
	const char *short_unknown[] = {"stats", "-x", NULL};
	const char *no_value[] = {"push", "X", "--queue", NULL};
	const char *value_given[] = {"stats", "--json=yes", NULL};
	const char *empty_queue[] = {"push", "X", "--queue", "", NULL};
	const char *in_at[] = {"push", "X", "--at", "5", "--in", "6", NULL};
	const char *bad_in[] = {"push", "X", "--in", "soon", NULL};
	const char *bad_at[] = {"push", "X", "--at", "-1", NULL};
	const char *bad_retry[] = {"push", "X", "--retry", "-1", NULL};
	const char *bad_retry2[] = {"push", "X", "--retry", "maybe", NULL};
	const char *bad_bt[] = {"push", "X", "--backtrace", "0", NULL};
	const char *bad_gen[] = {"stats", "--sidekiq", "5", NULL};
	const char *bad_ns[] = {"stats", "--namespace", "a b", NULL};
	const char *bad_limit[] = {"dead", "--limit", "0", NULL};
	const char *bad_limit2[] = {"dead", "--limit", "1x", NULL};
	const char *bad_class[] = {"dead", "--class", "", NULL};
	const char *bad_max[] = {"dead", "--dead-max-jobs", "0", NULL};
	const char *bad_timeout[] = {"dead", "--dead-timeout", "x", NULL};

	(void)state;
	refused(unknown, "--frob: unknown flag");
	refused(short_unknown, "-x: unknown flag");
	refused(no_value, "--queue: needs a value");
	refused(value_given, "--json: takes no value");
	refused(empty_queue, "--queue:");
	refused(in_at, "--at: cannot be given with --in");
	refused(bad_in, "--in: 'soon'");
	refused(bad_at, "--at: '-1'");
	refused(bad_retry, "--retry: '-1'");
	refused(bad_retry2, "--retry: 'maybe'");
	refused(bad_bt, "--backtrace: '0'");
	refused(bad_gen, "--sidekiq: '5'");
	refused(bad_ns, "--namespace: 'a b'");
	refused(bad_limit, "--limit: '0'");
	refused(bad_limit2, "--limit: '1x'");
	refused(bad_class, "--class:");
	refused(bad_max, "--dead-max-jobs: '0'");
	refused(bad_timeout, "--dead-timeout: 'x'");
}

static void test_unknown_for_command(void **state)
{
	const char *w[] = {"queues", "--json", "--in", "5", "--class", "C", NULL};
	struct ctl_args a;

	(void)state;
	assert_int_equal(parse(&a, w), 0);
	assert_null(ctl_args_unknown(&a, CTL_F_GLOBAL | CTL_F_IN | CTL_F_CLASS));
	assert_string_equal(ctl_args_unknown(&a, CTL_F_GLOBAL | CTL_F_CLASS), "in");
	assert_string_equal(ctl_args_unknown(&a, CTL_F_GLOBAL), "in");
	assert_string_equal(ctl_args_unknown(&a, CTL_F_IN), "json");
}

/* ctl_main's exit code for words, with its stdout and stderr in out/err. */
static int run(const char *const *words, char *out, size_t outlen, char *err, size_t errlen)
{
	char *argv[32];
	FILE *o = fmemopen(out, outlen, "w");
	FILE *e = fmemopen(err, errlen, "w");
	int argc = 0, rc;

	memset(out, 0, outlen);
	memset(err, 0, errlen);
	argv[argc++] = (char *)"winchctl";
	while (*words)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	rc = ctl_main(argc, argv, o, e);
	fclose(o);
	fclose(e);
	return rc;
}

static void test_main_usage(void **state)
{
	static char out[8192], err[512];
	const char *help[] = {"stats", "-h", NULL};
	const char *version[] = {"--version", NULL};
	const char *none[] = {"--json", NULL};
	const char *unknown[] = {"frob", NULL};
	const char *not_its_flag[] = {"queues", "--in", "5", NULL};
	const char *bad_value[] = {"dead", "--limit", "x", NULL};
	const char *bad_env[] = {"stats", NULL};

	(void)state;
	assert_int_equal(run(help, out, sizeof(out), err, sizeof(err)), CTL_EXIT_OK);
	assert_non_null(strstr(out, "usage: winchctl"));
	assert_non_null(strstr(out, "Exit codes:"));
	assert_non_null(strstr(out, "  3  Redis unreachable"));
	assert_string_equal(err, "");
	assert_int_equal(run(version, out, sizeof(out), err, sizeof(err)), CTL_EXIT_OK);
	assert_int_equal(strncmp(out, "winchctl " PACKAGE_VERSION " (commit ", 10), 0);
	assert_int_equal(run(none, out, sizeof(out), err, sizeof(err)), CTL_EXIT_USAGE);
	assert_string_equal(err, "winchctl: a command is needed (see winchctl -h)\n");
	assert_int_equal(run(unknown, out, sizeof(out), err, sizeof(err)), CTL_EXIT_USAGE);
	assert_string_equal(err, "winchctl: 'frob': unknown command (see winchctl -h)\n");
	assert_int_equal(run(not_its_flag, out, sizeof(out), err, sizeof(err)), CTL_EXIT_USAGE);
	assert_string_equal(err, "winchctl: --in: not a flag of 'queues' (see winchctl -h)\n");
	assert_int_equal(run(bad_value, out, sizeof(out), err, sizeof(err)), CTL_EXIT_USAGE);
	assert_string_equal(err, "winchctl: --limit: 'x' is not a number from 1 to 1000000\n");
	setenv("REDIS_URL", "http://nope", 1);
	assert_int_equal(run(bad_env, out, sizeof(out), err, sizeof(err)), CTL_EXIT_USAGE);
	assert_non_null(strstr(err, "winchctl: REDIS_URL: 'http://nope': scheme"));
	setenv("REDIS_URL", "redis://127.0.0.1:1/0", 1);
	assert_int_equal(run(bad_env, out, sizeof(out), err, sizeof(err)), CTL_EXIT_REDIS);
	assert_non_null(strstr(err, "unreachable"));
	unsetenv("REDIS_URL");
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_words_and_flags_anywhere),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_refused_by_name),
	    cmocka_unit_test(test_unknown_for_command),
	    cmocka_unit_test(test_main_usage),
	};

	unsetenv("REDIS_PROVIDER");
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
