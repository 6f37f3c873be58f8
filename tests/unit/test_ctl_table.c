/* test_ctl_table: winchctl's tables, its JSON writer, and the human formats of times and sizes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_table.h"
#include "util.h"
#include "sbuf_fixture.h"
#include "banned.h"

static void test_aligned_columns(void **state)
{
	static const char *const headers[] = {"QUEUE", ">SIZE", "NOTE"};
	struct sbuf *sb = *state;
	struct ctl_table t;

	ctl_table_init(&t, headers, 3);
	ctl_table_cell(&t, "default");
	ctl_table_cell(&t, "%d", 12345);
	ctl_table_cell(&t, "%s", "");
	ctl_table_cell(&t, "ü");
	ctl_table_cell(&t, "%d", 7);
	ctl_table_cell(&t, "two\nlines\t!");
	ctl_table_cell(&t, "incomplete");
	assert_int_equal(ctl_table_rows(&t), 2);
	ctl_table_render(&t, sb);
	/* Right-aligned numbers, UTF-8 counted as one column, control characters as spaces,
	 * no trailing spaces, the incomplete row left out. */
	assert_string_equal(sbuf_str(sb), "QUEUE     SIZE  NOTE\n"
					  "default  12345\n"
					  "ü            7  two lines !\n");
	ctl_table_release(&t);
}

static void test_long_cells_are_cut(void **state)
{
	static const char *const headers[] = {"ARGS"};
	struct sbuf *sb = *state;
	struct ctl_table t;
	char want[128];
	size_t i;

	ctl_table_init(&t, headers, 1);
	for (i = 0; i < 70; i++)
		sbuf_addc(sb, 'a' + (char)(i % 26));
	ctl_table_cell(&t, "%s", sbuf_str(sb));
	sbuf_reset(sb);
	for (i = 0; i < 63; i++)
		sbuf_adds(sb, "\xc3\xa9"); /* U+00E9 */
	ctl_table_cell(&t, "%s", sbuf_str(sb));
	sbuf_reset(sb);
	ctl_table_render(&t, sb);
	memset(want, 0, sizeof(want));
	memcpy(want, "ARGS\n", 5);
	for (i = 0; i < CTL_CELL_MAX; i++)
		want[5 + i] = (char)('a' + (char)(i % 26));
	memcpy(want + 5 + CTL_CELL_MAX, "...\n", 4);
	assert_int_equal(strncmp(sbuf_str(sb), want, strlen(want)), 0);
	/* A cut never splits a UTF-8 character: 60 of them, two bytes each. */
	assert_int_equal(strlen(sbuf_str(sb) + strlen(want)), 2 * CTL_CELL_MAX + 4);
	ctl_table_release(&t);
}

static void test_json_writer(void **state)
{
	struct sbuf *sb = *state;
	struct ctl_json j;

	ctl_json_init(&j, sb);
	ctl_json_begin_array(&j, NULL);
	ctl_json_begin_object(&j, NULL);
	ctl_json_string(&j, "name", "q\"1\n");
	ctl_json_int(&j, "size", -3);
	ctl_json_double(&j, "latency", 1.5);
	ctl_json_double(&j, "zero", 0);
	ctl_json_double(&j, "at", 1795797610.9403284);
	ctl_json_bool(&j, "paused", 0);
	ctl_json_null(&j, "none");
	ctl_json_string(&j, "also_none", NULL);
	ctl_json_raw(&j, "item", "{\"n\":123456789012345678901234567890}",
		     strlen("{\"n\":123456789012345678901234567890}"));
	ctl_json_stringn(&j, "bin", "a\0b", 3);
	ctl_json_begin_array(&j, "jids");
	ctl_json_string(&j, NULL, "a");
	ctl_json_string(&j, NULL, "b");
	ctl_json_end_array(&j);
	ctl_json_begin_array(&j, "empty");
	ctl_json_end_array(&j);
	ctl_json_end_object(&j);
	ctl_json_bool(&j, NULL, 1);
	ctl_json_end_array(&j);
	assert_string_equal(sbuf_str(sb),
			    "[{\"name\":\"q\\\"1\\n\",\"size\":-3,\"latency\":1.5,\"zero\":0.0,"
			    "\"at\":1795797610.9403284,\"paused\":false,\"none\":null,"
			    "\"also_none\":null,\"item\":{\"n\":123456789012345678901234567890},"
			    "\"bin\":\"a\\u0000b\",\"jids\":[\"a\",\"b\"],\"empty\":[]},true]");
}

static void test_formats(void **state)
{
	char b[32];

	(void)state;
	ctl_format_duration(0.4, b, sizeof(b));
	assert_string_equal(b, "0s");
	ctl_format_duration(59.9, b, sizeof(b));
	assert_string_equal(b, "59s");
	ctl_format_duration(-125, b, sizeof(b));
	assert_string_equal(b, "2m");
	ctl_format_duration(7200, b, sizeof(b));
	assert_string_equal(b, "2h");
	ctl_format_duration(3 * 86400 + 5, b, sizeof(b));
	assert_string_equal(b, "3d");
	ctl_format_when(1000, 1000.2, b, sizeof(b));
	assert_string_equal(b, "now");
	ctl_format_when(1045, 1000, b, sizeof(b));
	assert_string_equal(b, "in 45s");
	ctl_format_when(1000, 1720, b, sizeof(b));
	assert_string_equal(b, "12m ago");
	ctl_format_kb(812, b, sizeof(b));
	assert_string_equal(b, "812K");
	ctl_format_kb(46285, b, sizeof(b));
	assert_string_equal(b, "45.2M");
	ctl_format_kb(1363149, b, sizeof(b));
	assert_string_equal(b, "1.3G");
	ctl_format_kb(-1, b, sizeof(b));
	assert_string_equal(b, "0K");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_aligned_columns, sb_setup, sb_teardown),
	    cmocka_unit_test_setup_teardown(test_long_cells_are_cut, sb_setup, sb_teardown),
	    cmocka_unit_test_setup_teardown(test_json_writer, sb_setup, sb_teardown),
	    cmocka_unit_test(test_formats),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
