/*
 * test_builtin: each built-in handler run on a job built as the engine builds one (job_new +
 * payload_parse), with the push hook recording what a handler enqueues.
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

#include "builtin.h"
#include "job.h"
#include "payload.h"
#include "util.h"

#define MAX_PUSHES 8
#define JID "b5af1712fc33ab3186279caf"

struct push {
	char *queue;
	char *payload;
	size_t len;
	double at;
};

struct fixture {
	struct winch_job *job;
	struct push pushes[MAX_PUSHES];
	int npushes;
};

/* The job's push hook: runs on the handler thread; both strings are transferred to us. */
static void record_push(void *ctx, char *queue, char *payload, size_t len, double at)
{
	struct fixture *f = ctx;

	assert_true(f->npushes < MAX_PUSHES);
	f->pushes[f->npushes].queue = queue;
	f->pushes[f->npushes].payload = payload;
	f->pushes[f->npushes].len = len;
	f->pushes[f->npushes].at = at;
	f->npushes++;
}

static winch_handler_fn builtin(const char *name)
{
	const struct winch_handler_def *d;

	for (d = builtin_handlers; d->class_name; d++)
		if (strcmp(d->class_name, name) == 0)
			return d->fn;
	fail_msg("no built-in handler '%s'", name);
	return NULL;
}

/*
 * A job of class klass with the args text as given, built as the engine builds one; its
 * handler is called directly (no retry decision, no hooks: those are test_job's).
 */
static enum winch_result run(struct fixture *f, const char *klass, const char *args)
{
	double t0;

	struct sbuf sb;
	char err[160] = "";

	sbuf_init(&sb);
	sbuf_addf(&sb, "{\"retry\":true,\"queue\":\"default\",\"class\":\"%s\",\"args\":%s,"
		       "\"jid\":\"" JID "\",\"created_at\":1795797610.9403284,"
		       "\"enqueued_at\":1795797610.94076}",
		  klass, args);
	f->job = job_new();
	assert_int_equal(payload_parse(&f->job->p, sb.buf, sb.len, NULL, err, sizeof(err)),
			 PAYLOAD_OK);
	sbuf_release(&sb);
	f->job->queue = xstrdup("default");
	f->job->dispatch_class = f->job->p.klass;
	f->job->fn = builtin(klass);
	f->job->push = record_push;
	f->job->push_ctx = f;
	f->job->gen = SIDEKIQ_7;
	t0 = time_mono();
	f->job->result = f->job->fn(f->job);
	f->job->elapsed = time_mono() - t0;
	return f->job->result;
}

static int setup(void **state)
{
	*state = xcalloc(1, sizeof(struct fixture));
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int i;

	for (i = 0; i < f->npushes; i++) {
		free(f->pushes[i].queue);
		free(f->pushes[i].payload);
	}
	job_free(f->job);
	free(f);
	return 0;
}

/* Run klass with args and expect an ArgumentError failure that pushed nothing. */
static void expect_arg_error(void **state, const char *klass, const char *args)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, klass, args), WINCH_FAIL);
	assert_string_equal(f->job->error_class, "ArgumentError");
	assert_non_null(strstr(f->job->error_message, klass));
	assert_int_equal(f->npushes, 0);
	job_free(f->job);
	f->job = NULL;
}

/*
 * The one push must be a Winch::EchoReply on queue, as the Ruby client writes it, whose args
 * are exactly args_text (with its jid prefix).
 */
static void expect_reply(struct fixture *f, const char *queue, const char *args_text, double t0)
{
	struct push *p = &f->pushes[0];
	struct payload reply;
	char err[160] = "";
	double t1 = time_real();

	assert_int_equal(f->npushes, 1);
	assert_string_equal(p->queue, queue);
	assert_true(p->at == 0); /* enqueued now, not scheduled */
	assert_int_equal(strlen(p->payload), p->len);
	payload_init(&reply);
	assert_int_equal(payload_parse(&reply, p->payload, p->len, NULL, err, sizeof(err)),
			 PAYLOAD_OK);
	assert_string_equal(reply.klass, "Winch::EchoReply");
	assert_string_equal(reply.queue, queue);
	assert_int_equal(strlen(reply.jid), 24);
	assert_int_equal(strspn(reply.jid, "0123456789abcdef"), 24);
	assert_string_not_equal(reply.jid, JID);
	assert_int_equal(reply.retry, PAYLOAD_RETRY_DEFAULT);
	assert_non_null(strstr(p->payload, "\"retry\":true"));
	assert_true(reply.created_at >= t0 - 0.001 && reply.created_at <= t1 + 0.001);
	assert_true(reply.enqueued_at == reply.created_at);
	assert_int_equal(reply.args_raw.len, strlen(args_text));
	assert_memory_equal(reply.raw + reply.args_raw.off, args_text, reply.args_raw.len);
	payload_release(&reply);
}

static void test_noop(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, "Winch::Noop", "[1,\"two\",{\"three\":[3]},null]"), WINCH_OK);
	assert_null(f->job->error_class);
	assert_int_equal(f->job->backtrace_n, 0);
	assert_int_equal(f->npushes, 0);
	assert_true(f->job->elapsed >= 0 && f->job->elapsed < 1);
}

static void test_echo_byte_exact(void **state)
{
	struct fixture *f = *state;
	double t0 = time_real();

	/* Numbers json-c cannot hold, spacing inside elements, escapes: all as they came. */
	assert_int_equal(run(f, "Winch::Echo",
			     "[ \"echo_replies\" , 1,123456789012345678901234567890, "
			     "{\"a\" : [1.50, -0.0, 1e2]},\"\\u00fcn\\u00ef ✓\",null,true,[ ] ]"),
			 WINCH_OK);
	assert_null(f->job->error_class);
	expect_reply(f, "echo_replies",
		     "[\"" JID "\",1,123456789012345678901234567890,{\"a\" : [1.50, -0.0, 1e2]},"
		     "\"\\u00fcn\\u00ef ✓\",null,true,[ ]]",
		     t0);
}

static void test_echo_queue_only(void **state)
{
	struct fixture *f = *state;
	double t0 = time_real();

	assert_int_equal(run(f, "Winch::Echo", "[\"q\"]"), WINCH_OK);
	expect_reply(f, "q", "[\"" JID "\"]", t0);
}

static void test_echo_many_args(void **state)
{
	struct fixture *f = *state;
	struct sbuf args, want;
	int i;

	/* 4096 elements is the documented limit: the queue and 4095 more. */
	sbuf_init(&args);
	sbuf_init(&want);
	sbuf_adds(&args, "[\"q\"");
	sbuf_adds(&want, "[\"" JID "\"");
	for (i = 1; i < 4096; i++) {
		sbuf_addf(&args, ",%d", i);
		sbuf_addf(&want, ",%d", i);
	}
	sbuf_addc(&args, ']');
	sbuf_addc(&want, ']');
	assert_int_equal(run(f, "Winch::Echo", args.buf), WINCH_OK);
	expect_reply(f, "q", want.buf, 0);
	sbuf_release(&want);
	job_free(f->job);
	f->job = NULL;
	free(f->pushes[0].queue);
	free(f->pushes[0].payload);
	f->npushes = 0;
	/* One more: refused, nothing pushed. */
	args.buf[args.len - 1] = ',';
	sbuf_adds(&args, "4096]");
	assert_int_equal(run(f, "Winch::Echo", args.buf), WINCH_FAIL);
	assert_string_equal(f->job->error_class, "ArgumentError");
	assert_int_equal(f->npushes, 0);
	sbuf_release(&args);
}

static void test_echo_bad_args(void **state)
{
	expect_arg_error(state, "Winch::Echo", "[]");
	expect_arg_error(state, "Winch::Echo", "[5]");
	expect_arg_error(state, "Winch::Echo", "[\"\"]");
	expect_arg_error(state, "Winch::Echo", "[null,1]");
	expect_arg_error(state, "Winch::Echo", "[[\"q\"]]");
}

static void test_fail(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, "Winch::Fail", "[\"Custom::Error\",\"it broke: ✓\"]"), WINCH_FAIL);
	assert_string_equal(f->job->error_class, "Custom::Error");
	assert_string_equal(f->job->error_message, "it broke: ✓");
	assert_true(f->job->backtrace_n >= 1);
	assert_non_null(strstr(f->job->backtrace[0], "Winch::Fail"));
	assert_int_equal(f->npushes, 0);
}

static void test_fail_without_args_still_fails(void **state)
{
	struct fixture *f = *state;

	/* as the Ruby stand-in: perform(error_class, message) with no arguments */
	assert_int_equal(run(f, "Winch::Fail", "[]"), WINCH_FAIL);
	assert_string_equal(f->job->error_class, "ArgumentError");
	assert_string_equal(f->job->error_message, "wrong number of arguments (given 0, expected 2)");
}

static void test_sleep(void **state)
{
	struct fixture *f = *state;
	double t0 = time_mono();

	assert_int_equal(run(f, "Winch::Sleep", "[20]"), WINCH_OK);
	assert_true(time_mono() - t0 >= 0.020);
	assert_true(f->job->elapsed >= 0.020 && f->job->elapsed < 1);
	assert_null(f->job->error_class);
	assert_int_equal(f->npushes, 0);
}

static void test_sleep_then_reply(void **state)
{
	struct fixture *f = *state;
	double t0 = time_real(), m0 = time_mono();

	assert_int_equal(run(f, "Winch::Sleep", "[20,\"sleep_replies\",\"slept\",98765432109876543210]"),
			 WINCH_OK);
	assert_true(time_mono() - m0 >= 0.020);
	expect_reply(f, "sleep_replies", "[\"" JID "\",\"slept\",98765432109876543210]", t0);
	/* The reply is made after the sleep. */
	assert_true(time_real() - t0 >= 0.020);
}

static void test_sleep_null_queue(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, "Winch::Sleep", "[0,null,\"ignored\"]"), WINCH_OK);
	assert_int_equal(f->npushes, 0);
}

static void test_sleep_bad_args(void **state)
{
	expect_arg_error(state, "Winch::Sleep", "[]");
	expect_arg_error(state, "Winch::Sleep", "[\"20\"]");
	expect_arg_error(state, "Winch::Sleep", "[-1]");
	expect_arg_error(state, "Winch::Sleep", "[86400001]");
	expect_arg_error(state, "Winch::Sleep", "[1e300]"); /* no double-to-int overflow */
	expect_arg_error(state, "Winch::Sleep", "[-1e300]");
	expect_arg_error(state, "Winch::Sleep", "[86400001.0]");
	expect_arg_error(state, "Winch::Sleep", "[0,5]");
	expect_arg_error(state, "Winch::Sleep", "[0,\"\"]");
}

static void test_digest(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, "Winch::Digest", "[\"abc\",2000]"), WINCH_OK);
	assert_null(f->job->error_class);
	assert_int_equal(f->npushes, 0);
	job_free(f->job);
	assert_int_equal(run(f, "Winch::Digest", "[\"\",0]"), WINCH_OK);
	assert_null(f->job->error_class);
}

static void test_digest_bad_args(void **state)
{
	expect_arg_error(state, "Winch::Digest", "[]");
	expect_arg_error(state, "Winch::Digest", "[\"abc\"]");
	expect_arg_error(state, "Winch::Digest", "[\"abc\",\"3\"]");
	expect_arg_error(state, "Winch::Digest", "[\"abc\",2.5]");
	expect_arg_error(state, "Winch::Digest", "[1,3]");
	expect_arg_error(state, "Winch::Digest", "[\"abc\",-1]");
	expect_arg_error(state, "Winch::Digest", "[\"abc\",100000001]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_noop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_byte_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_queue_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_many_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_without_args_still_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sleep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sleep_then_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sleep_null_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sleep_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_bad_args, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("builtin", tests, NULL, NULL);
}
