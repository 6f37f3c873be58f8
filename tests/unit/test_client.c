/*
 * test_client: the client without a Redis: settings, errors by kind, bad input refused before
 * anything is sent, an unreachable Redis, key names, commands and replies as Ruby reads them.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "client.h"
#include "util.h"
#include "banned.h"

/* Nothing listens on port 1: connecting is refused at once. */
#define DEAD_URL "redis://127.0.0.1:1/0"

static int setup(void **state)
{
	(void)state;
	unsetenv("REDIS_URL");
	unsetenv("REDIS_PROVIDER");
	return 0;
}

static void test_bad_url(void **state)
{
	struct winch_client *c;
	char jid[WINCH_JID_SIZE];

	(void)state;
	c = winch_client_new("http://x");
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_ECONFIG);
	assert_non_null(strstr(winch_client_error(c), "scheme"));
	assert_int_equal(winch_client_push(c, "A", NULL, "[]", NULL, jid), -1);
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_ECONFIG);
	assert_int_equal(winch_client_connect(c), -1);
	winch_client_free(c);

	/* From the environment, as winch reads it. */
	setenv("REDIS_PROVIDER", "WINCH_TEST_UNSET_URL", 1);
	unsetenv("WINCH_TEST_UNSET_URL");
	c = winch_client_new(NULL);
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_ECONFIG);
	assert_non_null(strstr(winch_client_error(c), "REDIS_PROVIDER"));
	winch_client_free(c);
	setenv("REDIS_PROVIDER", "WINCH_TEST_URL", 1);
	setenv("WINCH_TEST_URL", "redis://10.1.2.3:6380/4", 1);
	c = winch_client_new(NULL);
	assert_null(winch_client_error(c));
	assert_string_equal(client_describe(c), "10.1.2.3:6380/4");
	winch_client_free(c);
	unsetenv("WINCH_TEST_URL");
	winch_client_free(NULL);
}

static void test_settings(void **state)
{
	struct winch_client *c = winch_client_new(DEAD_URL);

	(void)state;
	assert_null(winch_client_error(c));
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_OK);
	assert_int_equal(client_gen(c), SIDEKIQ_7);
	assert_int_equal(winch_client_set_sidekiq(c, 9), -1);
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_EINVAL);
	assert_non_null(strstr(winch_client_error(c), "sidekiq"));
	assert_int_equal(winch_client_set_sidekiq(c, 8), 0);
	assert_int_equal(client_gen(c), SIDEKIQ_8);
	assert_int_equal(winch_client_set_timeout(c, 0), -1);
	assert_int_equal(winch_client_set_timeout(c, 0.5), 0);
	winch_client_free(c);
}

static void test_bad_input_is_not_sent(void **state)
{
	struct winch_client *c = winch_client_new(DEAD_URL);
	const char *args[] = {"[1]", "{}", "[3]"};
	struct winch_push_options o;
	char jids[3 * WINCH_JID_SIZE];

	(void)state;
	/* EINVAL, not ECONNECT: checked before connecting. */
	assert_int_equal(winch_client_push(c, "", NULL, "[]", NULL, NULL), -1);
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_EINVAL);
	assert_non_null(strstr(winch_client_error(c), "class"));
	assert_int_equal(winch_client_push(c, "A", NULL, "[1", NULL, NULL), -1);
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_EINVAL);
	assert_int_equal(strncmp(winch_client_error(c), "args:", 5), 0);
	memset(&o, 0, sizeof(o));
	o.extra_json = "{\"class\":\"B\"}";
	assert_int_equal(winch_client_push(c, "A", NULL, NULL, &o, NULL), -1);
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_EINVAL);
	/* Bulk: all or nothing, the bad job named. */
	assert_int_equal(winch_client_push_bulk(c, "A", "q", args, 3, NULL, NULL, jids), -1);
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_EINVAL);
	assert_non_null(strstr(winch_client_error(c), "job 2"));
	/* Nothing to push is no error and sends nothing. */
	assert_int_equal(winch_client_push_bulk(c, "A", "q", args, 0, NULL, NULL, jids), 0);
	assert_null(winch_client_error(c));
	winch_client_free(c);
}

static void test_unreachable(void **state)
{
	struct winch_client *c = winch_client_new(DEAD_URL);
	struct client_cmd cmd;
	char jid[WINCH_JID_SIZE];

	(void)state;
	assert_int_equal(winch_client_push(c, "A", NULL, "[]", NULL, jid), -1);
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_ECONNECT);
	assert_non_null(strstr(winch_client_error(c), "127.0.0.1:1/0 unreachable"));
	assert_int_equal(winch_client_connect(c), -1);
	client_cmd_init(&cmd);
	client_cmd_adds(&cmd, "PING");
	assert_null(client_command(c, &cmd));
	assert_int_equal(winch_client_error_kind(c), WINCH_CLIENT_ECONNECT);
	assert_int_equal(client_begin(c), -1);
	client_cmd_release(&cmd);
	winch_client_free(c);
}

static void test_keys(void **state)
{
	struct winch_client *c = winch_client_new(DEAD_URL);
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	client_key(c, &sb, "retry");
	assert_string_equal(sbuf_str(&sb), "retry");
	sbuf_reset(&sb);
	assert_int_equal(winch_client_set_namespace(c, "myapp"), 0);
	client_key(c, &sb, "retry");
	assert_string_equal(sbuf_str(&sb), "myapp:retry");
	sbuf_reset(&sb);
	client_key_queue(c, &sb, "low");
	assert_string_equal(sbuf_str(&sb), "myapp:queue:low");
	sbuf_reset(&sb);
	assert_int_equal(winch_client_set_namespace(c, ""), 0);
	client_key_queue(c, &sb, "low");
	assert_string_equal(sbuf_str(&sb), "queue:low");
	sbuf_release(&sb);
	winch_client_free(c);
}

static void test_cmd_and_strings(void **state)
{
	struct client_cmd cmd;
	struct client_strings s;
	int i;

	(void)state;
	client_cmd_init(&cmd);
	client_cmd_adds(&cmd, "ZADD");
	client_cmd_add(&cmd, "a\0b", 3);
	client_cmd_addf(&cmd, "%d-%s", 42, "x");
	for (i = 0; i < 20; i++)
		client_cmd_adds(&cmd, "m");
	assert_int_equal(cmd.argc, 23);
	assert_string_equal(cmd.argv[0], "ZADD");
	assert_int_equal(cmd.lens[1], 3);
	assert_memory_equal(cmd.argv[1], "a\0b", 3);
	assert_string_equal(cmd.argv[2], "42-x");
	client_cmd_release(&cmd);
	assert_int_equal(cmd.argc, 0);

	/* Byte order, as Ruby's sort: "B" < "a" < "a:1" < "ab". */
	client_strings_init(&s);
	client_strings_add(&s, "ab", 2);
	client_strings_add(&s, "a:1", 3);
	client_strings_add(&s, "B", 1);
	client_strings_add(&s, "a", 1);
	client_strings_sort(&s);
	assert_string_equal(s.v[0], "B");
	assert_string_equal(s.v[1], "a");
	assert_string_equal(s.v[2], "a:1");
	assert_string_equal(s.v[3], "ab");
	client_strings_release(&s);
	assert_int_equal(s.n, 0);
}

static void test_reply_values(void **state)
{
	redisReply r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(client_reply_ll(NULL), 0);
	r.type = REDIS_REPLY_INTEGER;
	r.integer = 7;
	assert_int_equal(client_reply_ll(&r), 7);
	assert_true(client_reply_double(&r) == 7.0);
	r.type = REDIS_REPLY_STRING;
	r.str = (char *)"12abc";
	r.len = 5;
	assert_int_equal(client_reply_ll(&r), 12); /* to_i */
	r.str = (char *)"1795797613.759905";
	r.len = strlen(r.str);
	assert_true(client_reply_double(&r) == 1795797613.759905); /* to_f */
	r.str = (char *)"x";
	assert_int_equal(client_reply_ll(&r), 0);
	r.type = REDIS_REPLY_NIL;
	assert_int_equal(client_reply_ll(&r), 0);
	assert_true(client_reply_double(&r) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_bad_url, setup),
	    cmocka_unit_test_setup(test_settings, setup),
	    cmocka_unit_test_setup(test_bad_input_is_not_sent, setup),
	    cmocka_unit_test_setup(test_unreachable, setup),
	    cmocka_unit_test_setup(test_keys, setup),
	    cmocka_unit_test(test_cmd_and_strings),
	    cmocka_unit_test(test_reply_values),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
