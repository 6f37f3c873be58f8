/* test_util: sbuf, JSON string escaping, checked number parsing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void test_sbuf_grows_and_terminates(void **state)
{
	struct sbuf sb;
	int i;

	(void)state;
	sbuf_init(&sb);
	assert_string_equal(sbuf_str(&sb), "");
	for (i = 0; i < 1000; i++)
		sbuf_addf(&sb, "%d,", i % 10);
	assert_int_equal(sb.len, 2000);
	assert_int_equal(sb.buf[sb.len], '\0');
	assert_memory_equal(sb.buf, "0,1,2,", 6);
	sbuf_reset(&sb);
	assert_string_equal(sbuf_str(&sb), "");
	sbuf_release(&sb);
}

static void test_json_string_escapes(void **state)
{
	struct sbuf sb;
	const char in[] = "a\"b\\c\n\t\x01/é";

	(void)state;
	sbuf_init(&sb);
	sbuf_add_json_string(&sb, in, sizeof(in) - 1);
	assert_string_equal(sbuf_str(&sb), "\"a\\\"b\\\\c\\n\\t\\u0001/é\"");
	sbuf_release(&sb);
}

static void test_json_string_invalid_utf8(void **state)
{
	struct sbuf sb;
	const char in[] = "x\xff\xc3y\xed\xa0\x80z";

	(void)state;
	sbuf_init(&sb);
	sbuf_add_json_string(&sb, in, sizeof(in) - 1);
	/* each bad byte becomes U+FFFD; a lone lead byte and a surrogate too */
	assert_string_equal(sbuf_str(&sb),
			    "\"x\xef\xbf\xbd\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\"");
	sbuf_release(&sb);
}

static void test_parse_long(void **state)
{
	long v = 0;

	(void)state;
	assert_int_equal(parse_long("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_long("101", 0, 100, &v), -1);
	assert_int_equal(parse_long("4x", 0, 100, &v), -1);
	assert_int_equal(parse_long("", 0, 100, &v), -1);
	assert_int_equal(parse_long("99999999999999999999999", 0, 100, &v), -1);
}

static void test_rand_hex(void **state)
{
	char a[25], b[25];
	size_t i;

	(void)state;
	rand_hex(a, 12);
	rand_hex(b, 12);
	assert_int_equal(strlen(a), 24);
	for (i = 0; i < 24; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sbuf_grows_and_terminates),
		cmocka_unit_test(test_json_string_escapes),
		cmocka_unit_test(test_json_string_invalid_utf8),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_rand_hex),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
