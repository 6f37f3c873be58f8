/* test_push: the payload the client pushes, as the Ruby client writes it, and its checks. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "payload.h"
#include "push.h"
#include "queues.h"
#include "util.h"
#include "sbuf_fixture.h"
#include "banned.h"

#define NOW 1795797610.5

static void test_when(void **state)
{
	struct winch_push_options o;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_true(push_when(NULL, 0, NOW) == 0);
	assert_true(push_when(&o, 0, NOW) == 0);
	o.in = 60;
	assert_true(push_when(&o, 0, NOW) == NOW + 60);
	o.in = -5; /* in the past: now */
	assert_true(push_when(&o, 0, NOW) == 0);
	o.in = 1795800000; /* as perform_in: this large is an epoch time */
	assert_true(push_when(&o, 0, NOW) == 1795800000);
	o.in = 0;
	o.at = NOW + 1;
	assert_true(push_when(&o, 0, NOW) == NOW + 1);
	o.at = NOW; /* not after now: now */
	assert_true(push_when(&o, 0, NOW) == 0);
	o.at = NOW + 1;
	o.in = 500; /* at wins over in */
	assert_true(push_when(&o, 0, NOW) == NOW + 1);
	assert_true(push_when(&o, NOW + 7, NOW) == NOW + 7); /* a bulk job's own time wins */
	assert_true(push_when(NULL, NOW - 7, NOW) == 0);
}

/* push_check refuses, and its message starts with what. */
static void refused(const char *klass, const char *queue, const char *args,
		    const struct winch_push_options *o, const char *what)
{
	char err[256] = "";

	if (push_check(klass, queue, args, o, err, sizeof(err)) != -1)
		fail_msg("accepted class '%s' args '%s'", klass ? klass : "(null)",
			 args ? args : "(null)");
	if (strncmp(err, what, strlen(what)) != 0)
		fail_msg("message '%s' does not start with '%s'", err, what);
}

static void test_check(void **state)
{
	static const char *const bad_args[] = {"", "{}", "1", "[1,", "[1] [2]", "\"[]\"", "nul"};
	struct winch_push_options o;
	char err[128];
	size_t i;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(push_check("A", NULL, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(push_check("A", "q", " [1, {\"a\": [2]}] \n", &o, err, sizeof(err)), 0);
	refused(NULL, NULL, NULL, NULL, "class");
	refused("", NULL, NULL, NULL, "class");
	refused("A", "", NULL, NULL, "queue");
	{
		char name[QUEUE_NAME_MAX + 2];

		memset(name, 'q', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		refused("A", name, NULL, NULL, "queue: longer than 256 bytes");
		name[QUEUE_NAME_MAX] = '\0';
		assert_int_equal(push_check("A", name, NULL, NULL, err, sizeof(err)), 0);
	}
	for (i = 0; i < ARRAY_SIZE(bad_args); i++)
		refused("A", NULL, bad_args[i], NULL, "args");

	o.extra_json = "[1]";
	refused("A", NULL, NULL, &o, "extra");
	o.extra_json = "{\"tags\":";
	refused("A", NULL, NULL, &o, "extra");
	o.extra_json = "{\"tags\":[\"a\"],\"queue\":\"x\"}";
	refused("A", NULL, NULL, &o, "extra: names 'queue'");
	o.extra_json = "{\"jid\":\"x\"}";
	refused("A", NULL, NULL, &o, "extra: names 'jid'");
	o.extra_json = "{\"enqueued_at\":1}";
	refused("A", NULL, NULL, &o, "extra: names 'enqueued_at'");
	o.extra_json = "{\"tags\":[\"a\"],\"dead\":false}";
	assert_int_equal(push_check("A", NULL, NULL, &o, err, sizeof(err)), 0);

	memset(&o, 0, sizeof(o));
	o.retry = WINCH_CLIENT_RETRY_COUNT;
	o.retry_count = -1;
	refused("A", NULL, NULL, &o, "retry");
	o.retry = (enum winch_client_retry)7;
	refused("A", NULL, NULL, &o, "retry");
	memset(&o, 0, sizeof(o));
	o.backtrace = -2;
	refused("A", NULL, NULL, &o, "backtrace");
	memset(&o, 0, sizeof(o));
	o.at = NAN;
	refused("A", NULL, NULL, &o, "at");
	o.at = -1;
	refused("A", NULL, NULL, &o, "at");
	memset(&o, 0, sizeof(o));
	o.in = INFINITY;
	refused("A", NULL, NULL, &o, "in");
}

/* The built payload with its jid replaced by "J", for comparing whole texts. */
static char *without_jid(const struct sbuf *sb, const char *jid)
{
	const char *p = strstr(sbuf_str(sb), jid);
	struct sbuf out;

	assert_non_null(p);
	sbuf_init(&out);
	sbuf_add(&out, sb->buf, (size_t)(p - sb->buf));
	sbuf_addc(&out, 'J');
	sbuf_adds(&out, p + strlen(jid));
	return sbuf_detach(&out, NULL);
}

static void test_build_default(void **state)
{
	struct sbuf *sb = *state;
	struct payload p;
	char jid[WINCH_JID_SIZE], jid2[WINCH_JID_SIZE], err[128], *text;
	size_t i;

	assert_int_equal(push_build(sb, "OkJob", NULL, "[1,\"two\",{\"three\":3}]", NULL, 0, NOW,
				    SIDEKIQ_7, jid),
			 0);
	assert_int_equal(strlen(jid), 24);
	for (i = 0; i < 24; i++)
		assert_non_null(strchr("0123456789abcdef", jid[i]));
	/* The Ruby client's members, in its order (SIDEKIQ-PROTOCOL.md §2.2). */
	text = without_jid(sb, jid);
	assert_string_equal(text, "{\"retry\":true,\"queue\":\"default\",\"args\":[1,\"two\",{\"three\":3}],"
				  "\"class\":\"OkJob\",\"jid\":\"J\",\"created_at\":1795797610.5,"
				  "\"enqueued_at\":1795797610.5}");
	free(text);
	payload_init(&p);
	assert_int_equal(payload_parse(&p, sb->buf, sb->len, NULL, err, sizeof(err)), PAYLOAD_OK);
	assert_string_equal(p.jid, jid);
	assert_int_equal(p.retry, PAYLOAD_RETRY_DEFAULT);
	payload_release(&p);

	/* A fresh jid every time. */
	sbuf_reset(sb);
	assert_int_equal(push_build(sb, "OkJob", NULL, NULL, NULL, 0, NOW, SIDEKIQ_7, jid2), 0);
	assert_string_not_equal(jid, jid2);
	assert_non_null(strstr(sbuf_str(sb), "\"args\":[],"));
}

static void test_build_options(void **state)
{
	struct sbuf *sb = *state;
	struct winch_push_options o;
	struct payload p;
	char jid[WINCH_JID_SIZE], err[128], *text;

	memset(&o, 0, sizeof(o));
	o.retry = WINCH_CLIENT_RETRY_COUNT;
	o.retry_count = 3;
	o.backtrace = WINCH_BACKTRACE_ALL;
	o.extra_json = " {\"tags\": [\"a\"], \"big\":123456789012345678901234567890} ";
	/* Scheduled: no enqueued_at; Sidekiq 8: integer milliseconds; names escaped; args
	 * trimmed and otherwise byte for byte. */
	assert_int_equal(push_build(sb, "Re\"port", "lo\\w", " [1.50, 123456789012345678901234567890]\n",
				    &o, NOW + 60, NOW, SIDEKIQ_8, jid),
			 0);
	text = without_jid(sb, jid);
	assert_string_equal(text,
			    "{\"retry\":3,\"queue\":\"lo\\\\w\",\"backtrace\":true,\"tags\":[\"a\"],"
			    "\"big\":123456789012345678901234567890,"
			    "\"args\":[1.50, 123456789012345678901234567890],\"class\":\"Re\\\"port\","
			    "\"jid\":\"J\",\"created_at\":1795797610500}");
	free(text);
	payload_init(&p);
	assert_int_equal(payload_parse(&p, sb->buf, sb->len, NULL, err, sizeof(err)), PAYLOAD_OK);
	assert_int_equal(p.retry, PAYLOAD_RETRY_COUNT);
	assert_int_equal(p.retry_max, 3);
	assert_int_equal(p.backtrace, 0);
	assert_string_equal(p.queue, "lo\\w");
	payload_release(&p);

	sbuf_reset(sb);
	o.retry = WINCH_CLIENT_RETRY_FALSE;
	o.backtrace = 5;
	o.extra_json = NULL;
	assert_int_equal(push_build(sb, "A", "q", "[]", &o, 0, NOW, SIDEKIQ_6, NULL), 0);
	assert_non_null(strstr(sbuf_str(sb), "{\"retry\":false,\"queue\":\"q\",\"backtrace\":5,"
					     "\"args\":[],\"class\":\"A\""));
	assert_non_null(strstr(sbuf_str(sb), ",\"enqueued_at\":1795797610.5}"));

	/* A push that fails its checks builds nothing. */
	sbuf_reset(sb);
	sbuf_adds(sb, "keep");
	assert_int_equal(push_build(sb, "A", NULL, "{}", NULL, 0, NOW, SIDEKIQ_7, NULL), -1);
	assert_int_equal(push_build(sb, "", NULL, "[]", NULL, 0, NOW, SIDEKIQ_7, NULL), -1);
	assert_string_equal(sbuf_str(sb), "keep");
	assert_string_equal(push_queue(NULL), "default");
	assert_string_equal(push_queue(""), "default");
	assert_string_equal(push_queue("x"), "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_when),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test_setup_teardown(test_build_default, sb_setup, sb_teardown),
	    cmocka_unit_test_setup_teardown(test_build_options, sb_setup, sb_teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
