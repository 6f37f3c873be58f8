/* test_timestamp: payload time units per Sidekiq generation, reading both, UTC dates. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json.h>

#include "timestamp.h"
#include "util.h"
#include "sbuf_fixture.h"
#include "banned.h"

static void seconds_is(struct sbuf *sb, double t, const char *want)
{
	sbuf_reset(sb);
	ts_append_seconds(sb, t);
	assert_string_equal(sbuf_str(sb), want);
}

static void payload_is(struct sbuf *sb, double t, enum sidekiq_gen gen, const char *want)
{
	sbuf_reset(sb);
	ts_append_payload(sb, t, gen);
	assert_string_equal(sbuf_str(sb), want);
}

static void test_seconds_format(void **state)
{
	struct sbuf *sb = *state;

	/* Whole seconds keep a ".0": an 8.x reader would take an integer for milliseconds. */
	seconds_is(sb, 1795797610.0, "1795797610.0");
	/* Every digit the double holds, as Ruby's Float#to_s writes them (§2.2). */
	seconds_is(sb, 1795797610.9403284, "1795797610.9403284");
	seconds_is(sb, 1795797610.94076, "1795797610.94076");
	seconds_is(sb, 1795801210.9430647, "1795801210.9430647");
	seconds_is(sb, 1795797610.000001, "1795797610.000001");
	seconds_is(sb, 1795797610.5, "1795797610.5");
	seconds_is(sb, 0.0, "0.0");
	seconds_is(sb, -1.5, "-1.5");
	seconds_is(sb, 0.1 + 0.2, "0.30000000000000004");
	seconds_is(sb, 1e20, "1e+20"); /* an exponent reads as a float too */
	seconds_is(sb, NAN, "0.0");
	/* Appends. */
	sbuf_reset(sb);
	sbuf_adds(sb, "score ");
	ts_append_seconds(sb, 2.25);
	assert_string_equal(sbuf_str(sb), "score 2.25");
}

static void test_payload_units(void **state)
{
	struct sbuf *sb = *state;

	payload_is(sb, 1795797610.0, SIDEKIQ_6, "1795797610.0");
	payload_is(sb, 1795797610.0, SIDEKIQ_7, "1795797610.0");
	payload_is(sb, 1795797610.9403284, SIDEKIQ_7, "1795797610.9403284");
	/* Sidekiq 8: integer milliseconds, rounded. */
	payload_is(sb, 1795797610.0, SIDEKIQ_8, "1795797610000");
	payload_is(sb, 1734000000.123, SIDEKIQ_8, "1734000000123");
	payload_is(sb, 1734000000.9996, SIDEKIQ_8, "1734000001000");
	payload_is(sb, 1734000000.1234, SIDEKIQ_8, "1734000000123");
	payload_is(sb, NAN, SIDEKIQ_8, "0");
}

static double parse_text(const char *s)
{
	double t = -12345;

	assert_int_equal(ts_parse_text(s, strlen(s), &t), 0);
	return t;
}

static void test_parse_text(void **state)
{
	static const char *bad[] = {
	    "",
	    "abc",
	    "12x",
	    " 12",
	    "12 ",
	    "+12",
	    "0x10",
	    "inf",
	    "nan",
	    "1e999",
	    "\"12\"",
	    "-",
	    "1.2.3.4.5.6.7.8.9.0.1.2.3.4.5.6.7.8.9.0.1.2.3.4.5.6.7.8.9.0.1.2.3.4.5.6.7.8.9.0.1.2.3",
	};
	double t = 7;
	size_t i;

	(void)state;
	assert_true(parse_text("1795797610.0") == 1795797610.0);
	assert_true(parse_text("1795797610.9403284") == 1795797610.9403284);
	assert_true(parse_text("1.7e9") == 1.7e9);
	assert_true(parse_text("17E8") == 1.7e9);
	/* A plain integer is milliseconds (Sidekiq 8). */
	assert_true(parse_text("1734000000123") == 1734000000.123);
	assert_true(parse_text("0") == 0.0);
	assert_true(parse_text("-5") == -0.005);
	/* len is honoured: no NUL needed. */
	assert_int_equal(ts_parse_text("1500,\"x\"", 4, &t), 0);
	assert_true(t == 1.5);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		t = 7;
		if (ts_parse_text(bad[i], strlen(bad[i]), &t) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(t == 7);
	}
}

static void test_parse_json(void **state)
{
	struct json_object *v;
	double t = 7;

	(void)state;
	/* The JSON type decides, as Sidekiq 8's readers do. */
	v = json_tokener_parse("1795797610.0");
	assert_int_equal(ts_parse_json(v, &t), 0);
	assert_true(t == 1795797610.0);
	json_object_put(v);
	v = json_tokener_parse("1734000000125");
	assert_int_equal(ts_parse_json(v, &t), 0);
	assert_true(t == 1734000000.125);
	json_object_put(v);
	v = json_object_new_double(1795797610.94076);
	assert_int_equal(ts_parse_json(v, &t), 0);
	assert_true(t == 1795797610.94076);
	json_object_put(v);
	v = json_object_new_int(1500);
	assert_int_equal(ts_parse_json(v, &t), 0);
	assert_true(t == 1.5);
	json_object_put(v);

	t = 7;
	v = json_object_new_string("1795797610.0");
	assert_int_equal(ts_parse_json(v, &t), -1);
	json_object_put(v);
	v = json_object_new_boolean(1);
	assert_int_equal(ts_parse_json(v, &t), -1);
	json_object_put(v);
	assert_int_equal(ts_parse_json(NULL, &t), -1);
	assert_true(t == 7);
}

static void date_is(double t, const char *want)
{
	char out[11];

	memset(out, 'x', sizeof(out));
	ts_utc_date(t, out);
	assert_string_equal(out, want);
}

static void test_utc_date(void **state)
{
	(void)state;
	date_is(1795797610.9403284, "2026-11-27");
	date_is(1704164645.0, "2024-01-02");
	date_is(1709164800.0, "2024-02-29");
	date_is(1709164799.999, "2024-02-28");
	date_is(951782400.0, "2000-02-29");
	date_is(0.0, "1970-01-01");
	date_is(86399.999, "1970-01-01");
	date_is(86400.0, "1970-01-02");
	date_is(-0.5, "1969-12-31");  /* toward the past, not toward zero */
	date_is(1e300, "1970-01-01"); /* no year fits: a harmless date rather than garbage */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_seconds_format, sb_setup, sb_teardown),
	    cmocka_unit_test_setup_teardown(test_payload_units, sb_setup, sb_teardown),
	    cmocka_unit_test(test_parse_text),
	    cmocka_unit_test(test_parse_json),
	    cmocka_unit_test(test_utc_date),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
