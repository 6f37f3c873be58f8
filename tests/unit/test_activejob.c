/* test_activejob: the ActiveJob envelope and the arguments perform() receives. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json.h>

#include "activejob.h"
#include "payload.h"
#include "util.h"
#include "../support/payload_examples.h"
#include "banned.h"

struct fixture {
	struct payload p;
	struct activejob_info info;
	char err[128];
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	payload_init(&f->p);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	json_object_put(f->info.arguments);
	payload_release(&f->p);
	free(f);
	return 0;
}

static const char *to_json(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void parse(struct fixture *f, const char *text)
{
	if (payload_parse(&f->p, text, strlen(text), NULL, f->err, sizeof(f->err)) != PAYLOAD_OK)
		fail_msg("payload refused (%s)", f->err);
}

/* Unwrap a payload {"class":<wrapper>,"wrapped":..,"args":[job]} built around job. */
static int unwrap_job(struct fixture *f, const char *job, const char *wrapped)
{
	char *text = xasprintf("{\"class\":\"Sidekiq::ActiveJob::Wrapper\",\"jid\":\"j\","
			       "\"args\":[%s]}",
			       job);

	parse(f, text);
	free(text);
	json_object_put(f->info.arguments);
	return activejob_unwrap(f->p.args, wrapped, &f->info, f->err, sizeof(f->err));
}

/* The arguments resolved from the serialized ones in args. */
static void resolves_to(struct fixture *f, const char *args, const char *want)
{
	char *job = xasprintf("{\"job_class\":\"J\",\"arguments\":%s}", args);

	assert_int_equal(unwrap_job(f, job, NULL), 0);
	free(job);
	assert_string_equal(to_json(f->info.arguments), want);
}

static void test_is_wrapper(void **state)
{
	(void)state;
	assert_true(activejob_is_wrapper("ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"));
	assert_true(activejob_is_wrapper("Sidekiq::ActiveJob::Wrapper"));
	assert_false(activejob_is_wrapper("MyJob"));
	assert_false(activejob_is_wrapper("Sidekiq::ActiveJob::Wrapper2"));
	assert_false(activejob_is_wrapper("Sidekiq::ActiveJob"));
	assert_false(activejob_is_wrapper(""));
	assert_false(activejob_is_wrapper(NULL));
}

static void test_observed_rails61(void **state)
{
	struct fixture *f = *state;

	parse(f, EX_ACTIVEJOB_JOB);
	assert_true(activejob_is_wrapper(f->p.klass));
	assert_int_equal(
	    activejob_unwrap(f->p.args, f->p.wrapped, &f->info, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->info.job_class, "MyJob");
	assert_string_equal(f->info.job_id, "bb027ec8-4621-4b9f-9be8-a0f80b9b07b5");
	assert_int_equal(f->info.executions, 0);
	assert_string_equal(f->info.locale, "en");
	/* :sym stays serialized, the hash loses its marker, the GlobalID becomes its URI. */
	assert_string_equal(
	    to_json(f->info.arguments),
	    "[1,\"s\",{\"_aj_serialized\":\"ActiveJob::Serializers::SymbolSerializer\","
	    "\"value\":\"sym\"},{\"a\":1,\"b\":2},\"gid://myapp/User/42\","
	    "{\"_aj_serialized\":\"ActiveJob::Serializers::TimeSerializer\","
	    "\"value\":\"2024-01-02T03:04:05.000000000Z\"},1.5,null,[1,[2]]]");
	/* The payload's own tree is untouched. */
	assert_non_null(strstr(to_json(f->p.args), "\"_aj_symbol_keys\":[\"b\"]"));
}

static void test_markers(void **state)
{
	struct fixture *f = *state;

	resolves_to(f, EX_ACTIVEJOB_KW_ARGS, "[7,{\"b\":\"x\"}]");
	resolves_to(f, "[{\"a\":1,\"_aj_hash_with_indifferent_access\":true}]", "[{\"a\":1}]");
	resolves_to(f, "[{\"_aj_symbol_keys\":[]}]", "[{}]");
	resolves_to(f, "[]", "[]");
	/* ActionMailer deliver_later. */
	resolves_to(f,
		    "[\"UserMailer\",\"welcome\",\"deliver_now\",{\"args\":[{\"_aj_globalid\":"
		    "\"gid://app/User/1\"}],\"params\":{\"x\":{\"_aj_symbol_keys\":[]}},"
		    "\"_aj_ruby2_keywords\":[\"args\",\"params\"]}]",
		    "[\"UserMailer\",\"welcome\",\"deliver_now\",{\"args\":[\"gid://app/User/1\"],"
		    "\"params\":{\"x\":{}}}]");
	/* A GlobalID is exactly one string key; anything else is an ordinary hash. */
	resolves_to(f, "[{\"_aj_globalid\":\"gid://a/B/1\",\"x\":1}]",
		    "[{\"_aj_globalid\":\"gid://a/B/1\",\"x\":1}]");
	resolves_to(f, "[{\"_aj_globalid\":42}]", "[{\"_aj_globalid\":42}]");
	/* A serialized object keeps its keys; its values are still resolved. */
	resolves_to(f,
		    "[{\"_aj_serialized\":\"RangeSerializer\",\"begin\":{\"_aj_globalid\":"
		    "\"gid://a/B/1\"},\"opts\":{\"k\":1,\"_aj_symbol_keys\":[\"k\"]},"
		    "\"_aj_symbol_keys\":[]}]",
		    "[{\"_aj_serialized\":\"RangeSerializer\",\"begin\":\"gid://a/B/1\","
		    "\"opts\":{\"k\":1},\"_aj_symbol_keys\":[]}]");
	/* Unicode and big numbers (as far as json-c holds them). */
	resolves_to(f, "[\"caf\xc3\xa9\",\"\\u00e9\",-0.5,9007199254740993]",
		    "[\"caf\xc3\xa9\",\"\xc3\xa9\",-0.5,9007199254740993]");
}

static void test_fields(void **state)
{
	struct fixture *f = *state;

	/* `wrapped` wins; without it, job_class. */
	assert_int_equal(unwrap_job(f,
				    "{\"job_class\":\"Inner\",\"job_id\":\"u\",\"executions\":3,"
				    "\"locale\":null,\"arguments\":[]}",
				    "Outer"),
			 0);
	assert_string_equal(f->info.job_class, "Outer");
	assert_string_equal(f->info.job_id, "u");
	assert_int_equal(f->info.executions, 3);
	assert_null(f->info.locale);
	assert_int_equal(unwrap_job(f, "{\"job_class\":\"Inner\",\"arguments\":[]}", NULL), 0);
	assert_string_equal(f->info.job_class, "Inner");
	assert_null(f->info.job_id);
	assert_int_equal(f->info.executions, -1);
	assert_int_equal(unwrap_job(f, "{\"job_class\":\"Inner\",\"arguments\":[]}", ""), 0);
	assert_string_equal(f->info.job_class, "Inner");
}

struct bad_case {
	const char *args;
	const char *wrapped;
	const char *err;
};

static void test_refuses(void **state)
{
	static const struct bad_case cases[] = {
	    {"[]", "J", "ActiveJob 'args' is not an array of one job hash"},
	    {"[1]", "J", "ActiveJob args[0] is not a hash"},
	    {"[[]]", "J", "ActiveJob args[0] is not a hash"},
	    {"[{\"job_class\":\"J\"}]", NULL, "ActiveJob 'arguments' is not an array"},
	    {"[{\"job_class\":\"J\",\"arguments\":{}}]", NULL,
	     "ActiveJob 'arguments' is not an array"},
	    {"[{\"arguments\":[]}]", NULL, "ActiveJob 'job_class' is missing"},
	    {"[{\"job_class\":7,\"arguments\":[]}]", NULL, "ActiveJob 'job_class' is missing"},
	    {"[{\"job_class\":\"\",\"arguments\":[]}]", "", "ActiveJob 'job_class' is missing"},
	};
	struct fixture *f = *state;
	struct json_object *args;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		args = json_tokener_parse(cases[i].args);
		assert_non_null(args);
		f->info.job_id = "stale";
		if (activejob_unwrap(args, cases[i].wrapped, &f->info, f->err, sizeof(f->err)) !=
		    -1)
			fail_msg("unwrapped %s", cases[i].args);
		assert_string_equal(f->err, cases[i].err);
		assert_null(f->info.arguments);
		assert_null(f->info.job_class);
		assert_null(f->info.job_id);
		json_object_put(args);
	}
	args = json_object_new_object();
	assert_int_equal(activejob_unwrap(args, "J", &f->info, NULL, 0), -1);
	json_object_put(args);
	assert_int_equal(activejob_unwrap(NULL, "J", &f->info, f->err, sizeof(f->err)), -1);
}

static void test_resolve_owned(void **state)
{
	struct json_object *orig = json_tokener_parse("{\"s\":\"x\",\"n\":[1]}");
	struct json_object *copy, *s;

	(void)state;
	assert_null(activejob_resolve(NULL));
	copy = activejob_resolve(orig);
	assert_ptr_not_equal(copy, orig);
	/* Changing the copy leaves the original alone, scalars included. */
	assert_true(json_object_object_get_ex(copy, "s", &s));
	json_object_set_string(s, "changed");
	json_object_array_add(json_object_object_get(copy, "n"), json_object_new_int(2));
	assert_string_equal(to_json(orig), "{\"s\":\"x\",\"n\":[1]}");
	assert_string_equal(to_json(copy), "{\"s\":\"changed\",\"n\":[1,2]}");
	json_object_put(copy);
	json_object_put(orig);

	orig = json_object_new_string("gid");
	copy = activejob_resolve(orig);
	assert_ptr_not_equal(copy, orig);
	assert_string_equal(json_object_get_string(copy), "gid");
	json_object_put(copy);
	json_object_put(orig);
}

static void test_resolve_deep(void **state)
{
	struct fixture *f = *state;
	struct sbuf in, want;
	int i;

	/*
	 * About as deep as payload_parse lets through (128): the payload, args, the job hash
	 * and arguments, then 61 pairs of array and hash, and the innermost marker's array at
	 * 127. The recursion is bounded by that limit.
	 */
	sbuf_init(&in);
	sbuf_init(&want);
	sbuf_adds(&in, "[");
	sbuf_adds(&want, "[");
	for (i = 0; i < 61; i++) {
		sbuf_adds(&in, "[{\"_aj_symbol_keys\":[],\"k\":");
		sbuf_adds(&want, "[{\"k\":");
	}
	sbuf_adds(&in, "1");
	sbuf_adds(&want, "1");
	for (i = 0; i < 61; i++) {
		sbuf_adds(&in, "}]");
		sbuf_adds(&want, "}]");
	}
	sbuf_adds(&in, "]");
	sbuf_adds(&want, "]");
	resolves_to(f, sbuf_str(&in), sbuf_str(&want));
	sbuf_release(&in);
	sbuf_release(&want);
}

/* The raw resolution keeps numbers byte for byte and removes the same markers. */
static void test_arguments_raw(void **state)
{
	const char args[] =
		"[{\"job_class\":\"Winch::Echo\",\"job_id\":\"x\",\"arguments\":[\"replies\","
		"123456789012345678901234567890,{\"a\":1,\"b\":2.50,\"_aj_symbol_keys\":[\"b\"]},"
		"{\"_aj_globalid\":\"gid://app/User/42\"},{\"kw\":[1,{\"_aj_hash_with_indifferent_"
		"access\":true,\"z\":null}],\"_aj_ruby2_keywords\":[\"kw\"]},"
		"{\"_aj_serialized\":\"ActiveJob::Serializers::SymbolSerializer\",\"value\":\"sym\"}]"
		",\"executions\":0}]";
	const char spaced[] = " [ { \"arguments\" : [ 1 , { \"_aj_globalid\" : \"gid://x\" } , "
			      "{ \"_aj_globalid\" : \"a\" , \"_aj_symbol_keys\" : [ ] } , { } , [ ] , "
			      "-1.5e+3 , \"s\\\"\" ] } ] ";
	struct sbuf out;

	(void)state;
	sbuf_init(&out);
	assert_int_equal(activejob_arguments_raw(args, sizeof(args) - 1, &out), 0);
	assert_string_equal(sbuf_str(&out),
			    "[\"replies\",123456789012345678901234567890,{\"a\":1,\"b\":2.50},"
			    "\"gid://app/User/42\",{\"kw\":[1,{\"z\":null}]},"
			    "{\"_aj_serialized\":\"ActiveJob::Serializers::SymbolSerializer\","
			    "\"value\":\"sym\"}]");
	sbuf_reset(&out);
	/* White space anywhere, as a pretty-printing producer writes it, is dropped. */
	assert_int_equal(activejob_arguments_raw(spaced, sizeof(spaced) - 1, &out), 0);
	assert_string_equal(sbuf_str(&out),
			    "[1,\"gid://x\",{\"_aj_globalid\":\"a\"},{},[],-1.5e+3,\"s\\\"\"]");
	sbuf_reset(&out);
	assert_int_equal(activejob_arguments_raw("[{\"job_class\":\"X\"}]", 20, &out), -1);
	assert_int_equal(activejob_arguments_raw("[{\"arguments\":{}}]", 18, &out), -1);
	sbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_is_wrapper),
	    cmocka_unit_test_setup_teardown(test_observed_rails61, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_markers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses, setup, teardown),
	    cmocka_unit_test(test_resolve_owned),
	    cmocka_unit_test(test_arguments_raw),
	    cmocka_unit_test_setup_teardown(test_resolve_deep, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
