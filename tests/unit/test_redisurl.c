/* test_redisurl: REDIS_URL forms as redis-rb reads them. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "redisurl.h"

static void test_default_form(void **state)
{
	struct redis_url u;
	char err[128];

	(void)state;
	redis_url_init(&u);
	assert_int_equal(redis_url_parse(&u, "redis://127.0.0.1:6379/0", err, sizeof(err)), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_null(u.password);
	redis_url_release(&u);
}

static void test_user_password_db(void **state)
{
	struct redis_url u;
	char err[128];

	(void)state;
	redis_url_init(&u);
	assert_int_equal(redis_url_parse(&u, "redis://app:s%40cr%3At@redis.local:7000/3", err,
					 sizeof(err)),
			 0);
	assert_string_equal(u.user, "app");
	assert_string_equal(u.password, "s@cr:t");
	assert_string_equal(u.host, "redis.local");
	assert_int_equal(u.port, 7000);
	assert_int_equal(u.db, 3);
	assert_int_equal(redis_url_parse(&u, "redis://:pw@h", err, sizeof(err)), 0);
	assert_null(u.user);
	assert_string_equal(u.password, "pw");
	assert_int_equal(u.port, 6379);
	redis_url_release(&u);
}

static void test_unix_socket(void **state)
{
	struct redis_url u;
	char err[128];

	(void)state;
	redis_url_init(&u);
	assert_int_equal(redis_url_parse(&u, "unix:///run/redis/redis.sock?db=2", err,
					 sizeof(err)),
			 0);
	assert_null(u.host);
	assert_string_equal(u.path, "/run/redis/redis.sock");
	assert_int_equal(u.db, 2);
	redis_url_release(&u);
}

static void test_refusals_name_the_problem(void **state)
{
	struct redis_url u;
	char err[128];

	(void)state;
	redis_url_init(&u);
	assert_int_equal(redis_url_parse(&u, "http://x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "scheme"));
	assert_int_equal(redis_url_parse(&u, "redis://h:99999", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "port"));
	assert_int_equal(redis_url_parse(&u, "redis://h/x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "database"));
	assert_int_equal(redis_url_parse(&u, "rediss://h", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "TLS"));
	assert_int_equal(redis_url_parse(&u, "redis://a:%zz@h", err, sizeof(err)), -1);
	redis_url_release(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_form),
		cmocka_unit_test(test_user_password_db),
		cmocka_unit_test(test_unix_socket),
		cmocka_unit_test(test_refusals_name_the_problem),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("redisurl", tests, NULL, NULL);
}
