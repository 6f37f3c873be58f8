/* test_jsonraw: the raw JSON scanner and the byte-preserving member rewriter. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonraw.h"
#include "util.h"
#include "../support/payload_examples.h"
#include "sbuf_fixture.h"
#include "banned.h"

static const char plain_job[] = EX_PLAIN_JOB;
static const char retry_job[] = EX_RETRY_JOB;
static const char activejob_job[] = EX_ACTIVEJOB_JOB;

static int validate(const char *text)
{
	char err[128];

	return jsonraw_validate(text, strlen(text), 128, err, sizeof(err));
}

/* text nested depth deep: [[[...0...]]] */
static char *nested(size_t depth)
{
	char *s = xmalloc(2 * depth + 2);

	memset(s, '[', depth);
	s[depth] = '0';
	memset(s + depth + 1, ']', depth);
	s[2 * depth + 1] = '\0';
	return s;
}

static void test_validate_accepts(void **state)
{
	static const char *good[] = {
	    "{}",
	    " { } ",
	    "[]",
	    "0",
	    "-0",
	    "1.5e+10",
	    "-2E-3",
	    "123456789012345678901234567890",
	    "\"\"",
	    "true",
	    "false",
	    "null",
	    " \t\r\n[1, \"a\", {\"b\": [null]}]\n",
	    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"",
	    "\"caf\xc3\xa9 \xe2\x82\xac\"",
	    "{\"\":{}}",
	    "[[],[[]],{}]",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		if (validate(good[i]) != 0)
			fail_msg("refused %s", good[i]);
	}
	assert_int_equal(validate(plain_job), 0);
	assert_int_equal(validate(EX_SCHEDULED_JOB), 0);
	assert_int_equal(validate(EX_DEAD_JOB), 0);
	assert_int_equal(validate(EX_GEN8_JOB), 0);
	assert_int_equal(validate(retry_job), 0);
	assert_int_equal(validate(activejob_job), 0);
}

static void test_validate_refuses(void **state)
{
	static const char *bad[] = {
	    "",	     "   ",	  "{",	     "}",	  "[1,]",	 "{\"a\":1,}", "{\"a\" 1}",
	    "{a:1}", "{'a':1}",	  "[1 2]",   "01",	  "1.",		 ".5",	       "-",
	    "+1",    "1e",	  "0x10",    "NaN",	  "Infinity",	 "tru",	       "nul",
	    "\"abc", "\"a\nb\"",  "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "{} {}",      "[1]]",
	    "[}",    "{\"a\":1]", "[1,2",    "\"a\"x",	  "{\"a\":}",	 "{,}",	       "[,1]",
	};
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (validate(bad[i]) != -1)
			fail_msg("accepted '%s'", bad[i]);
	}
	/* An embedded NUL is not JSON, even though strlen would stop before it. */
	assert_int_equal(jsonraw_validate("[1]\0", 4, 8, err, sizeof(err)), -1);
	assert_int_equal(jsonraw_validate("\"a\0b\"", 5, 8, err, sizeof(err)), -1);
	assert_string_equal(err, "control character in string at byte 2");
}

static void test_validate_reasons(void **state)
{
	char err[64];

	(void)state;
	assert_int_equal(jsonraw_validate("[1,]", 4, 8, err, sizeof(err)), -1);
	assert_string_equal(err, "unexpected character at byte 3");
	assert_int_equal(jsonraw_validate("{\"a\":1} x", 9, 8, err, sizeof(err)), -1);
	assert_string_equal(err, "trailing data at byte 8");
	assert_int_equal(jsonraw_validate("{\"a\"", 4, 8, err, sizeof(err)), -1);
	assert_string_equal(err, "expected ':' at end of text");
	assert_int_equal(jsonraw_validate("", 0, 8, err, sizeof(err)), -1);
	assert_string_equal(err, "expected a value at end of text");
	assert_int_equal(jsonraw_validate("[[1]]", 5, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "nested deeper than 1");
	/* A NULL or short error buffer is fine. */
	assert_int_equal(jsonraw_validate("[", 1, 8, NULL, 0), -1);
	assert_int_equal(jsonraw_validate("[", 1, 8, err, 4), -1);
	assert_string_equal(err, "exp");
}

static void test_validate_depth(void **state)
{
	char err[64];
	char *s;

	(void)state;
	s = nested(100);
	assert_int_equal(jsonraw_validate(s, strlen(s), 128, err, sizeof(err)), 0);
	assert_int_equal(jsonraw_validate(s, strlen(s), 100, err, sizeof(err)), 0);
	assert_int_equal(jsonraw_validate(s, strlen(s), 99, err, sizeof(err)), -1);
	assert_string_equal(err, "nested deeper than 99");
	free(s);

	s = nested(10000);
	assert_int_equal(jsonraw_validate(s, strlen(s), 128, err, sizeof(err)), -1);
	assert_string_equal(err, "nested deeper than 128");
	/* Deep but allowed: the stack moves to the heap, not onto the C stack. */
	assert_int_equal(jsonraw_validate(s, strlen(s), 10000, err, sizeof(err)), 0);
	free(s);

	/* Objects count too, and depth 0 allows only scalars. */
	assert_int_equal(jsonraw_validate("{\"a\":{\"b\":{}}}", 14, 2, err, sizeof(err)), -1);
	assert_int_equal(jsonraw_validate("{\"a\":{\"b\":{}}}", 14, 3, err, sizeof(err)), 0);
	assert_int_equal(jsonraw_validate("7", 1, 0, err, sizeof(err)), 0);
	assert_int_equal(jsonraw_validate("[]", 2, 0, err, sizeof(err)), -1);
}

static void test_deep_without_bound(void **state)
{
	/* members/find/rewrite have no depth bound: a million levels must not crash. */
	size_t depth = 1000000;
	char *inner = nested(depth);
	char *s = xasprintf("{\"deep\":%s,\"x\":1}", inner);
	struct jsonraw_span v;
	struct sbuf *sb = *state;
	struct jsonraw_edit del = {"deep", NULL, 0};

	assert_int_equal(jsonraw_find(s, strlen(s), "x", &v), 1);
	assert_int_equal(v.off, strlen(s) - 2);
	assert_int_equal(jsonraw_find(s, strlen(s), "deep", &v), 1);
	assert_int_equal(v.len, 2 * depth + 1);
	assert_int_equal(jsonraw_rewrite(s, strlen(s), &del, 1, sb), 0);
	assert_string_equal(sbuf_str(sb), "{\"x\":1}");
	s[strlen(s) - 8] = '}'; /* break the outermost ']' of the deep value */
	assert_int_equal(jsonraw_find(s, strlen(s), "x", &v), -1);
	free(inner);
	free(s);
}

static void span_is(const char *text, struct jsonraw_span sp, const char *want)
{
	if (sp.len != strlen(want) || memcmp(text + sp.off, want, sp.len) != 0)
		fail_msg("span is '%.*s', want '%s'", (int)sp.len, text + sp.off, want);
}

static void test_members(void **state)
{
	struct jsonraw_member m[8];
	const char *ws = " {\n \"a\" :\t[1, {\"}\": \"]\"}] , \"b\":\"x\\\"y\"\n} ";

	(void)state;
	assert_int_equal(jsonraw_members(plain_job, strlen(plain_job), m, 8), 7);
	span_is(plain_job, m[0].key, "\"retry\"");
	span_is(plain_job, m[0].value, "true");
	span_is(plain_job, m[2].key, "\"args\"");
	span_is(plain_job, m[2].value, "[1,\"two\",{\"three\":3}]");
	span_is(plain_job, m[6].key, "\"enqueued_at\"");
	span_is(plain_job, m[6].value, "1795797610.94076");

	assert_int_equal(jsonraw_members(ws, strlen(ws), m, 8), 2);
	span_is(ws, m[0].key, "\"a\"");
	span_is(ws, m[0].value, "[1, {\"}\": \"]\"}]");
	span_is(ws, m[1].value, "\"x\\\"y\"");

	/* More members than room: the count is still exact, and out may be NULL. */
	assert_int_equal(jsonraw_members(plain_job, strlen(plain_job), m, 2), 7);
	span_is(plain_job, m[1].value, "\"default\"");
	assert_int_equal(jsonraw_members(plain_job, strlen(plain_job), NULL, 0), 7);
	assert_int_equal(jsonraw_members("{}", 2, m, 8), 0);
	assert_int_equal(jsonraw_members(" { } ", 5, m, 8), 0);

	assert_int_equal(jsonraw_members("[1]", 3, m, 8), -1);
	assert_int_equal(jsonraw_members("\"{}\"", 4, m, 8), -1);
	assert_int_equal(jsonraw_members("{\"a\":1", 6, m, 8), -1);
	assert_int_equal(jsonraw_members("{\"a\":1}x", 8, m, 8), -1);
	assert_int_equal(jsonraw_members("{\"a\":[}", 7, m, 8), -1);
	assert_int_equal(jsonraw_members("", 0, m, 8), -1);
}

static void test_elements(void **state)
{
	struct jsonraw_span e[4];
	const char *a = "[ 1 , \"two\",{\"three\":3},[ ], -1.5e3 ,null]";

	(void)state;
	assert_int_equal(jsonraw_elements(a, strlen(a), e, 4), 6);
	span_is(a, e[0], "1");
	span_is(a, e[1], "\"two\"");
	span_is(a, e[2], "{\"three\":3}");
	span_is(a, e[3], "[ ]");
	assert_int_equal(jsonraw_elements("[]", 2, e, 4), 0);
	assert_int_equal(jsonraw_elements("[ ]", 3, NULL, 0), 0);
	assert_int_equal(jsonraw_elements("{}", 2, e, 4), -1);
	assert_int_equal(jsonraw_elements("[1,]", 4, e, 4), -1);
	assert_int_equal(jsonraw_elements("7", 1, e, 4), -1);
}

static void test_find(void **state)
{
	struct jsonraw_span v;
	const char *esc = "{\"cl\\u0061ss\":\"A\",\"a\\\"b\":1,\"caf\\u00e9\":2,\"caf\xc3\xa9\":3,"
			  "\"\\ud83d\\ude00\":4,\"t\\tab\":5,\"\\/\":6,\"\\ud800\":7}";

	(void)state;
	assert_int_equal(jsonraw_find(plain_job, strlen(plain_job), "args", &v), 1);
	span_is(plain_job, v, "[1,\"two\",{\"three\":3}]");
	assert_int_equal(jsonraw_find(plain_job, strlen(plain_job), "at", &v), 0);
	assert_int_equal(jsonraw_find(plain_job, strlen(plain_job), "Args", &v), 0);
	assert_int_equal(jsonraw_find(plain_job, strlen(plain_job), "arg", &v), 0);
	assert_int_equal(jsonraw_find(plain_job, strlen(plain_job), "jid", NULL), 1);
	/* A key inside a nested object is not a top-level member. */
	assert_int_equal(jsonraw_find(plain_job, strlen(plain_job), "three", &v), 0);
	assert_int_equal(jsonraw_find(activejob_job, strlen(activejob_job), "wrapped", &v), 1);
	span_is(activejob_job, v, "\"MyJob\"");
	assert_int_equal(jsonraw_find(activejob_job, strlen(activejob_job), "job_id", &v), 0);

	/* Keys are compared after unescaping. */
	assert_int_equal(jsonraw_find(esc, strlen(esc), "class", &v), 1);
	span_is(esc, v, "\"A\"");
	assert_int_equal(jsonraw_find(esc, strlen(esc), "a\"b", &v), 1);
	span_is(esc, v, "1");
	assert_int_equal(jsonraw_find(esc, strlen(esc), "caf\xc3\xa9", &v), 1);
	span_is(esc, v, "3"); /* "caf\u00e9" and "café" are one key: the last wins */
	assert_int_equal(jsonraw_find(esc, strlen(esc), "\xf0\x9f\x98\x80", &v), 1);
	span_is(esc, v, "4");
	assert_int_equal(jsonraw_find(esc, strlen(esc), "t\tab", &v), 1);
	span_is(esc, v, "5");
	assert_int_equal(jsonraw_find(esc, strlen(esc), "/", &v), 1);
	span_is(esc, v, "6");
	assert_int_equal(jsonraw_find(esc, strlen(esc), "\xef\xbf\xbd", &v), 1);
	span_is(esc, v, "7");
	assert_int_equal(jsonraw_find(esc, strlen(esc), "caf", &v), 0);
	assert_int_equal(jsonraw_find(esc, strlen(esc), "cafe", &v), 0);

	/* Duplicate keys: the last one, as json-c and Ruby read it. */
	assert_int_equal(jsonraw_find("{\"a\":1,\"a\":22}", 14, "a", &v), 1);
	assert_int_equal(v.off, 11);
	assert_int_equal(v.len, 2);

	assert_int_equal(jsonraw_find("[1]", 3, "a", &v), -1);
	assert_int_equal(jsonraw_find("{\"a\":1,}", 8, "a", &v), -1);
	assert_int_equal(jsonraw_find("{}", 2, "a", &v), 0);
}

static void rewrite_is(struct sbuf *sb, const char *text, const struct jsonraw_edit *e, size_t n,
		       const char *want)
{
	sbuf_reset(sb);
	assert_int_equal(jsonraw_rewrite(text, strlen(text), e, n, sb), 0);
	assert_string_equal(sbuf_str(sb), want);
}

static void test_rewrite_big_numbers(void **state)
{
	struct sbuf *sb = *state;
	const char *text = "{\"id\":123456789012345678901234567890,\"at\":1795801210.9430647,"
			   "\"f\":1.10,\"e\":-1E+400,\"args\":[18446744073709551616,0."
			   "1000000000000000055511151231257827]}";
	struct jsonraw_edit e[] = {
	    {"at", NULL, 0},
	    {"enqueued_at", "1795797610.0", 12},
	};

	rewrite_is(sb, text, e, 2,
		   "{\"id\":123456789012345678901234567890,\"f\":1.10,\"e\":-1E+400,"
		   "\"args\":[18446744073709551616,0.1000000000000000055511151231257827],"
		   "\"enqueued_at\":1795797610.0}");
}

static void test_rewrite_delete(void **state)
{
	struct sbuf *sb = *state;
	struct jsonraw_edit del_a = {"a", NULL, 0};
	struct jsonraw_edit del_c = {"c", NULL, 0};
	struct jsonraw_edit del_b = {"b", NULL, 0};
	struct jsonraw_edit both[] = {{"a", NULL, 0}, {"c", NULL, 0}};
	struct jsonraw_edit all[] = {{"a", NULL, 0}, {"b", NULL, 0}, {"c", NULL, 0}};
	const char *abc = "{\"a\":1,\"b\":2,\"c\":3}";

	rewrite_is(sb, abc, &del_a, 1, "{\"b\":2,\"c\":3}");
	rewrite_is(sb, abc, &del_c, 1, "{\"a\":1,\"b\":2}");
	rewrite_is(sb, abc, &del_b, 1, "{\"a\":1,\"c\":3}");
	rewrite_is(sb, abc, both, 2, "{\"b\":2}");
	rewrite_is(sb, abc, all, 3, "{}");
	rewrite_is(sb, "{\"a\":1}", &del_a, 1, "{}");
	rewrite_is(sb, "{\"a\":1}", &del_b, 1, "{\"a\":1}");
	rewrite_is(sb, "{}", &del_a, 1, "{}");
	/* White space stays where it was. */
	rewrite_is(sb, " { \"a\" : 1 ,\n \"b\" : 2 ,\n \"c\" : 3 } \n", &del_a, 1,
		   " { \"b\" : 2 ,\n \"c\" : 3 } \n");
	rewrite_is(sb, " { \"a\" : 1 ,\n \"b\" : 2 ,\n \"c\" : 3 } \n", &del_c, 1,
		   " { \"a\" : 1 ,\n \"b\" : 2 } \n");
	rewrite_is(sb, "{\n  \"a\": 1\n}", &del_a, 1, "{\n  \n}");
	/* The key is matched unescaped, and every duplicate goes. */
	rewrite_is(sb, "{\"\\u0061\":1,\"b\":2,\"a\":3}", &del_a, 1, "{\"b\":2}");
}

static void test_rewrite_replace(void **state)
{
	struct sbuf *sb = *state;
	struct jsonraw_edit rep_b = {"b", "\"x\"", 3};
	struct jsonraw_edit rep_a = {"a", "[1, 2]", 6};
	const char *abc = "{\"a\":1,\"b\":2,\"c\":3}";

	rewrite_is(sb, abc, &rep_b, 1, "{\"a\":1,\"b\":\"x\",\"c\":3}");
	rewrite_is(sb, abc, &rep_a, 1, "{\"a\":[1, 2],\"b\":2,\"c\":3}");
	rewrite_is(sb, "{ \"a\" :  {\"deep\":[1]} , \"z\":0 }", &rep_a, 1,
		   "{ \"a\" :  [1, 2] , \"z\":0 }");
	/* value_len is honoured: the value need not be NUL-terminated. */
	rep_b.value = "1234xyz";
	rep_b.value_len = 4;
	rewrite_is(sb, abc, &rep_b, 1, "{\"a\":1,\"b\":1234,\"c\":3}");
	/* With duplicate keys the last one is replaced and the others dropped. */
	rewrite_is(sb, "{\"b\":0,\"a\":1,\"b\":2}", &rep_b, 1, "{\"a\":1,\"b\":1234}");
	rewrite_is(sb, "{\"b\":0,\"b\":2,\"a\":1}", &rep_b, 1, "{\"b\":1234,\"a\":1}");
}

static void test_rewrite_append(void **state)
{
	struct sbuf *sb = *state;
	struct jsonraw_edit e[] = {
	    {"x", "1", 1},
	    {"y", "\"two\"", 5},
	};
	struct jsonraw_edit odd = {"q\"\xc3\xa9", "true", 4};

	rewrite_is(sb, "{}", e, 2, "{\"x\":1,\"y\":\"two\"}");
	rewrite_is(sb, "  { }  ", e, 1, "  {\"x\":1 }  ");
	rewrite_is(sb, "{\"a\":0}", e, 2, "{\"a\":0,\"x\":1,\"y\":\"two\"}");
	/* The original's own separators and colon spacing are reused. */
	rewrite_is(sb, "{\n  \"a\": 0,\n  \"b\": 1\n}\n", e, 2,
		   "{\n  \"a\": 0,\n  \"b\": 1,\n  \"x\": 1,\n  \"y\": \"two\"\n}\n");
	/* A key that needs escaping is escaped. */
	rewrite_is(sb, "{}", &odd, 1, "{\"q\\\"\xc3\xa9\":true}");
	/* Deleting everything, then appending. */
	e[0].key = "a";
	e[0].value = NULL;
	rewrite_is(sb, "{\"a\":0}", e, 2, "{\"y\":\"two\"}");
}

static void test_rewrite_mixed(void **state)
{
	struct sbuf *sb = *state;
	struct jsonraw_edit e[] = {
	    {"queue", "\"low\"", 5},
	    {"retry_count", "0", 1},
	    {"at", NULL, 0},
	    {"retry_count", "1", 1}, /* the last edit of a key wins */
	    {"error_class", "\"RuntimeError\"", 14},
	};
	const char *in =
	    "{\"retry\":true,\"queue\":\"default\",\"class\":\"OkJob\",\"args\":[\"later\"],"
	    "\"at\":1795801210.9430647,\"jid\":\"59dae77f53fa7ddf32a12f29\"}";

	rewrite_is(sb, in, e, ARRAY_SIZE(e),
		   "{\"retry\":true,\"queue\":\"low\",\"class\":\"OkJob\",\"args\":[\"later\"],"
		   "\"jid\":\"59dae77f53fa7ddf32a12f29\",\"retry_count\":1,"
		   "\"error_class\":\"RuntimeError\"}");
	/* No edits: a verbatim copy. */
	rewrite_is(sb, retry_job, NULL, 0, retry_job);
	rewrite_is(sb, activejob_job, NULL, 0, activejob_job);
}

static void test_rewrite_refuses(void **state)
{
	struct sbuf *sb = *state;
	struct jsonraw_edit e = {"a", "1", 1};

	sbuf_adds(sb, "keep");
	assert_int_equal(jsonraw_rewrite("[1]", 3, &e, 1, sb), -1);
	assert_int_equal(jsonraw_rewrite("{\"a\":1,}", 8, &e, 1, sb), -1);
	assert_int_equal(jsonraw_rewrite("{\"a\":1", 6, &e, 1, sb), -1);
	assert_int_equal(jsonraw_rewrite("", 0, &e, 1, sb), -1);
	assert_string_equal(sbuf_str(sb), "keep");
	/* Appends to what out holds. */
	assert_int_equal(jsonraw_rewrite("{}", 2, &e, 1, sb), 0);
	assert_string_equal(sbuf_str(sb), "keep{\"a\":1}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validate_accepts),
	    cmocka_unit_test(test_validate_refuses),
	    cmocka_unit_test(test_validate_reasons),
	    cmocka_unit_test(test_validate_depth),
	    cmocka_unit_test_setup_teardown(test_deep_without_bound, sb_setup, sb_teardown),
	    cmocka_unit_test(test_members),
	    cmocka_unit_test(test_elements),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test_setup_teardown(test_rewrite_big_numbers, sb_setup, sb_teardown),
	    cmocka_unit_test_setup_teardown(test_rewrite_delete, sb_setup, sb_teardown),
	    cmocka_unit_test_setup_teardown(test_rewrite_replace, sb_setup, sb_teardown),
	    cmocka_unit_test_setup_teardown(test_rewrite_append, sb_setup, sb_teardown),
	    cmocka_unit_test_setup_teardown(test_rewrite_mixed, sb_setup, sb_teardown),
	    cmocka_unit_test_setup_teardown(test_rewrite_refuses, sb_setup, sb_teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
