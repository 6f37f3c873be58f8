/* test_keys: Sidekiq key names, with and without a redis-namespace prefix. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "util.h"
#include "sbuf_fixture.h"
#include "banned.h"

static int keys_teardown(void **state)
{
	keys_set_namespace(NULL);
	return sb_teardown(state);
}

static void test_plain_keys(void **state)
{
	struct sbuf *sb = *state;
	char *k;

	keys_set_namespace(NULL);
	assert_string_equal(keys_namespace(), "");
	key_queue(sb, "default");
	assert_string_equal(sbuf_str(sb), "queue:default");
	sbuf_reset(sb);
	key_plain(sb, "stat:processed");
	assert_string_equal(sbuf_str(sb), "stat:processed");
	sbuf_reset(sb);
	key_identity(sb, "host:42:0123456789ab", ":work");
	assert_string_equal(sbuf_str(sb), "host:42:0123456789ab:work");
	sbuf_reset(sb);
	key_identity(sb, "host:42:0123456789ab", "-signals");
	assert_string_equal(sbuf_str(sb), "host:42:0123456789ab-signals");
	sbuf_reset(sb);
	key_identity(sb, "host:42:0123456789ab", NULL);
	assert_string_equal(sbuf_str(sb), "host:42:0123456789ab");
	sbuf_reset(sb);
	key_stat_daily(sb, "failed", "2026-11-27");
	assert_string_equal(sbuf_str(sb), "stat:failed:2026-11-27");
	k = key_dup("schedule");
	assert_string_equal(k, "schedule");
	free(k);
	assert_string_equal(key_queue_name("queue:low"), "low");
	assert_string_equal(key_queue_name("queue:"), "");
	assert_null(key_queue_name("queues"));
	assert_null(key_queue_name("app:queue:low"));
	assert_null(key_queue_name(NULL));
}

static void test_namespaced_keys(void **state)
{
	struct sbuf *sb = *state;
	char *k;

	keys_set_namespace("app");
	assert_string_equal(keys_namespace(), "app");
	key_queue(sb, "default");
	assert_string_equal(sbuf_str(sb), "app:queue:default");
	sbuf_reset(sb);
	key_plain(sb, "retry");
	assert_string_equal(sbuf_str(sb), "app:retry");
	sbuf_reset(sb);
	key_identity(sb, "h:1:abc", ":workers");
	assert_string_equal(sbuf_str(sb), "app:h:1:abc:workers");
	sbuf_reset(sb);
	key_stat_daily(sb, "processed", "2024-02-29");
	assert_string_equal(sbuf_str(sb), "app:stat:processed:2024-02-29");
	k = key_dup("processes");
	assert_string_equal(k, "app:processes");
	free(k);
	assert_string_equal(key_queue_name("app:queue:low"), "low");
	assert_null(key_queue_name("queue:low"));
	assert_null(key_queue_name("other:queue:low"));
	assert_null(key_queue_name("app:queues"));
	/* Set again, or back to none. */
	keys_set_namespace("");
	assert_string_equal(keys_namespace(), "");
	assert_string_equal(key_queue_name("queue:low"), "low");
	keys_set_namespace("b");
	assert_string_equal(key_queue_name("b:queue:x"), "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain_keys, sb_setup, keys_teardown),
	    cmocka_unit_test_setup_teardown(test_namespaced_keys, sb_setup, keys_teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
