/* test_payload: reading Sidekiq jobs, re-enqueueing them byte for byte, building new ones. */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json.h>

#include "payload.h"
#include "queues.h"
#include "util.h"
#include "../support/payload_examples.h"
#include "banned.h"

/* One payload, its error text and an output buffer per test. */
struct fixture {
	struct payload p;
	char err[128];
	struct sbuf out;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	payload_init(&f->p);
	sbuf_init(&f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	payload_release(&f->p);
	payload_release(&f->p); /* twice is harmless */
	sbuf_release(&f->out);
	free(f);
	return 0;
}

static enum payload_error parse(struct fixture *f, const char *text)
{
	return payload_parse(&f->p, text, strlen(text), NULL, f->err, sizeof(f->err));
}

static void parse_ok(struct fixture *f, const char *text)
{
	if (parse(f, text) != PAYLOAD_OK)
		fail_msg("refused (%s): %s", f->err, text);
	assert_string_equal(f->err, "");
}

static void span_is(const struct payload *p, struct jsonraw_span sp, const char *want)
{
	if (sp.len != strlen(want) || memcmp(p->raw + sp.off, want, sp.len) != 0)
		fail_msg("span is '%.*s', want '%s'", (int)sp.len, p->raw + sp.off, want);
}

static void test_plain_job(void **state)
{
	struct fixture *f = *state;
	struct payload *p = &f->p;

	parse_ok(f, EX_PLAIN_JOB);
	assert_int_equal(p->raw_len, strlen(EX_PLAIN_JOB));
	assert_memory_equal(p->raw, EX_PLAIN_JOB, p->raw_len + 1);
	assert_non_null(p->root);
	assert_string_equal(p->klass, "OkJob");
	assert_string_equal(p->jid, "b5af1712fc33ab3186279caf");
	assert_string_equal(p->queue, "default");
	assert_null(p->wrapped);
	assert_null(p->retry_queue);
	assert_int_equal(json_object_array_length(p->args), 3);
	span_is(p, p->args_raw, "[1,\"two\",{\"three\":3}]");
	assert_int_equal(p->retry, PAYLOAD_RETRY_DEFAULT);
	assert_int_equal(p->has_retry_count, 0);
	assert_int_equal(p->backtrace, -1);
	assert_int_equal(p->dead, 1);
	assert_int_equal(p->retry_for, -1);
	assert_true(p->created_at == 1795797610.9403284);
	assert_true(p->enqueued_at == 1795797610.94076);
	assert_true(p->failed_at == 0);
	assert_int_equal(p->has_pro_fields, 0);
}

static void test_observed_jobs(void **state)
{
	struct fixture *f = *state;
	struct payload *p = &f->p;

	parse_ok(f, EX_SCHEDULED_JOB);
	span_is(p, p->args_raw, "[\"later\"]");
	assert_true(p->created_at == 1795797610.943112);
	assert_true(p->enqueued_at == 0);

	parse_ok(f, EX_RETRY_JOB);
	assert_string_equal(p->klass, "FailJob");
	assert_int_equal(p->retry, PAYLOAD_RETRY_COUNT);
	assert_int_equal(p->retry_max, 2);
	assert_int_equal(p->backtrace, 3);
	assert_int_equal(p->retry_count, 0);
	assert_true(p->failed_at == 1795797613.7632022);

	parse_ok(f, EX_DEAD_JOB);
	assert_int_equal(p->retry, PAYLOAD_RETRY_COUNT);
	assert_int_equal(p->retry_max, 0);
	assert_int_equal(json_object_array_length(p->args), 0);
	span_is(p, p->args_raw, "[]");

	parse_ok(f, EX_ACTIVEJOB_JOB);
	assert_string_equal(p->klass, "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper");
	assert_string_equal(p->wrapped, "MyJob");
	assert_string_equal(p->queue, "mailers");
	assert_string_equal(p->jid, "db8bdf8fcf21c6fed9e1edef");
	assert_int_equal(json_object_array_length(p->args), 1);
	assert_int_equal(p->args_raw.off,
			 strstr(EX_ACTIVEJOB_JOB, "[{\"job_class\"") - EX_ACTIVEJOB_JOB);
	assert_true(p->enqueued_at == 1795797788.972601);
}

static void test_gen8_units(void **state)
{
	struct fixture *f = *state;
	struct payload *p = &f->p;

	/* Integer milliseconds in Sidekiq 8, float seconds before: both read as seconds. */
	parse_ok(f, EX_GEN8_JOB);
	assert_true(p->created_at == 1734000000.123);
	assert_true(p->enqueued_at == 1734000000.125);
	assert_true(p->failed_at == 1734000001.456);
	parse_ok(f, "{\"class\":\"A\",\"jid\":\"j\",\"args\":[],\"created_at\":1734000000.0,"
		    "\"enqueued_at\":\"1734000000.0\",\"failed_at\":null}");
	assert_true(p->created_at == 1734000000.0);
	assert_true(p->enqueued_at == 0); /* a string is no time */
	assert_true(p->failed_at == 0);
}

struct bad_case {
	const char *text;
	const char *err;
};

static void test_bad_fields(void **state)
{
	static const struct bad_case cases[] = {
	    {"{\"args\":[],\"jid\":\"j\"}", "'class' is missing"},
	    {"{\"class\":5,\"args\":[],\"jid\":\"j\"}", "'class' is not a string"},
	    {"{\"class\":null,\"args\":[],\"jid\":\"j\"}", "'class' is not a string"},
	    {"{\"class\":[\"A\"],\"args\":[],\"jid\":\"j\"}", "'class' is not a string"},
	    {"{\"class\":\"\",\"args\":[],\"jid\":\"j\"}", "'class' is empty"},
	    {"{\"class\":\"A\\u0000B\",\"args\":[],\"jid\":\"j\"}", "'class' contains a NUL byte"},
	    {"{\"class\":\"A\",\"jid\":\"j\"}", "'args' is missing"},
	    {"{\"class\":\"A\",\"args\":{},\"jid\":\"j\"}", "'args' is not an array"},
	    {"{\"class\":\"A\",\"args\":\"[]\",\"jid\":\"j\"}", "'args' is not an array"},
	    {"{\"class\":\"A\",\"args\":null,\"jid\":\"j\"}", "'args' is not an array"},
	    {"{\"class\":\"A\",\"args\":[]}", "'jid' is missing"},
	    {"{\"class\":\"A\",\"args\":[],\"jid\":123}", "'jid' is not a string"},
	    {"{\"class\":\"A\",\"args\":[],\"jid\":true}", "'jid' is not a string"},
	    {"{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"queue\":5}", "'queue' is not a string"},
	    {"{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"queue\":null}",
	     "'queue' is not a string"},
	    {"{\"class\":\"A\",\"args\":[],\"jid\":\"j\",\"queue\":{}}", "'queue' is not a string"},
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (parse(f, cases[i].text) != PAYLOAD_BAD_FIELD)
			fail_msg("not a bad field: %s", cases[i].text);
		assert_string_equal(f->err, cases[i].err);
		/* The raw text stays for the dead set, and so does the tree. */
		assert_string_equal(f->p.raw, cases[i].text);
		assert_non_null(f->p.root);
	}
	/* Fields read before the bad one are set. */
	assert_string_equal(f->p.klass, "A");
	assert_string_equal(f->p.jid, "j");
}

static void test_not_json(void **state)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "not json",
	    "{}x",
	    "{\"class\":\"A\",}",
	    "{'class':'A'}",
	    "{\"a\":NaN}",
	    "{\"a\":1} {\"b\":2}",
	    "{\"a\":\"\x01\"}",
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse(f, bad[i]) != PAYLOAD_NOT_JSON)
			fail_msg("not refused as JSON: '%s'", bad[i]);
		assert_string_equal(f->p.raw, bad[i]);
		assert_null(f->p.root);
		assert_true(f->err[0] != '\0');
	}
	assert_int_equal(parse(f, "{}x"), PAYLOAD_NOT_JSON);
	assert_string_equal(f->err, "not valid JSON: trailing data at byte 2");
}

static void test_not_object(void **state)
{
	static const char *const texts[] = {"[1]", "\"s\"", "1", "null", " [ ] "};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		assert_int_equal(parse(f, texts[i]), PAYLOAD_NOT_OBJECT);
		assert_string_equal(f->err, "not a JSON object");
		assert_string_equal(f->p.raw, texts[i]);
		assert_null(f->p.root);
	}
}

/* {"class":"A","jid":"j","args":<depth - 1 nested arrays>}: depth levels in all. */
static char *nested_job(size_t depth)
{
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb);
	sbuf_adds(&sb, "{\"class\":\"A\",\"jid\":\"j\",\"args\":");
	for (i = 1; i < depth; i++)
		sbuf_addc(&sb, '[');
	for (i = 1; i < depth; i++)
		sbuf_addc(&sb, ']');
	sbuf_addc(&sb, '}');
	return sbuf_detach(&sb, NULL);
}

static void test_limits(void **state)
{
	struct fixture *f = *state;
	struct payload_limits lim = {0, 0};
	char *s;

	s = nested_job(100);
	parse_ok(f, s);
	assert_int_equal(json_object_array_length(f->p.args), 1);
	free(s);
	s = nested_job(128);
	parse_ok(f, s); /* the default bound is inclusive, in json-c's tree too */
	free(s);
	s = nested_job(129);
	assert_int_equal(parse(f, s), PAYLOAD_NOT_JSON);
	assert_string_equal(f->err, "nested deeper than 128 (--max-depth)");
	free(s);
	s = nested_job(10000);
	assert_int_equal(parse(f, s), PAYLOAD_NOT_JSON);
	assert_string_equal(f->err, "nested deeper than 128 (--max-depth)");
	assert_int_equal(f->p.raw_len, strlen(s));
	free(s);

	lim.max_depth = 3;
	s = nested_job(3);
	assert_int_equal(payload_parse(&f->p, s, strlen(s), &lim, f->err, sizeof(f->err)),
			 PAYLOAD_OK);
	free(s);
	s = nested_job(4);
	assert_int_equal(payload_parse(&f->p, s, strlen(s), &lim, f->err, sizeof(f->err)),
			 PAYLOAD_NOT_JSON);
	assert_string_equal(f->err, "nested deeper than 3 (--max-depth)");
	free(s);

	lim.max_depth = 0;
	lim.max_bytes = 20;
	assert_int_equal(
	    payload_parse(&f->p, EX_PLAIN_JOB, strlen(EX_PLAIN_JOB), &lim, f->err, sizeof(f->err)),
	    PAYLOAD_TOO_BIG);
	assert_string_equal(f->err,
			    "payload of 173 bytes is over the limit of 20 bytes (--max-payload)");
	assert_string_equal(f->p.raw, EX_PLAIN_JOB);
	assert_null(f->p.root);
	/* Exactly the limit is fine; no err buffer is fine. */
	lim.max_bytes = strlen(EX_PLAIN_JOB);
	assert_int_equal(payload_parse(&f->p, EX_PLAIN_JOB, strlen(EX_PLAIN_JOB), &lim, NULL, 0),
			 PAYLOAD_OK);
}

static struct payload *with(struct fixture *f, const char *extra)
{
	char *s = xasprintf("{\"class\":\"A\",\"jid\":\"j\",\"args\":[]%s}", extra);

	parse_ok(f, s);
	free(s);
	return &f->p;
}

static void retry_is(struct fixture *f, const char *extra, enum payload_retry r, int max)
{
	struct payload *p = with(f, extra);

	if (p->retry != r || p->retry_max != max)
		fail_msg("%s: retry %d max %d, want %d max %d", extra, p->retry, p->retry_max, r,
			 max);
}

/* A queue name longer than QUEUE_NAME_MAX never becomes a key. */
static void test_queue_name_limit(void **state)
{
	struct fixture *f = *state;
	char name[QUEUE_NAME_MAX + 2], *s;

	memset(name, 'q', sizeof(name) - 2);
	name[sizeof(name) - 2] = '\0';
	s = xasprintf("{\"class\":\"A\",\"jid\":\"j\",\"args\":[],\"queue\":\"%s\","
		      "\"retry_queue\":\"%s\"}", name, name);
	parse_ok(f, s); /* exactly the limit */
	assert_int_equal(strlen(f->p.queue), QUEUE_NAME_MAX);
	assert_int_equal(strlen(f->p.retry_queue), QUEUE_NAME_MAX);
	free(s);
	name[sizeof(name) - 2] = 'q';
	name[sizeof(name) - 1] = '\0';
	s = xasprintf("{\"class\":\"A\",\"jid\":\"j\",\"args\":[],\"retry_queue\":\"%s\"}",
		      name);
	parse_ok(f, s);
	assert_null(f->p.retry_queue); /* read as absent, as a wrong type is */
	free(s);
	s = xasprintf("{\"class\":\"A\",\"jid\":\"j\",\"args\":[],\"queue\":\"%s\"}", name);
	assert_int_equal(parse(f, s), PAYLOAD_BAD_FIELD);
	assert_string_equal(f->err, "'queue' is longer than 256 bytes");
	assert_null(f->p.queue);
	assert_string_equal(f->p.jid, "j");
	free(s);
}

static void test_retry(void **state)
{
	struct fixture *f = *state;

	retry_is(f, "", PAYLOAD_RETRY_DEFAULT, 0);
	retry_is(f, ",\"retry\":true", PAYLOAD_RETRY_DEFAULT, 0);
	retry_is(f, ",\"retry\":null", PAYLOAD_RETRY_DEFAULT, 0);
	retry_is(f, ",\"retry\":false", PAYLOAD_RETRY_NONE, 0);
	retry_is(f, ",\"retry\":0", PAYLOAD_RETRY_COUNT, 0);
	retry_is(f, ",\"retry\":5", PAYLOAD_RETRY_COUNT, 5);
	retry_is(f, ",\"retry\":-3", PAYLOAD_RETRY_COUNT, 0);
	retry_is(f, ",\"retry\":99999999999999999999", PAYLOAD_RETRY_COUNT, INT_MAX);
	/* Ruby: a truthy non-Integer means the default limit. */
	retry_is(f, ",\"retry\":\"5\"", PAYLOAD_RETRY_DEFAULT, 0);
	retry_is(f, ",\"retry\":5.0", PAYLOAD_RETRY_DEFAULT, 0);
	retry_is(f, ",\"retry\":\"false\"", PAYLOAD_RETRY_DEFAULT, 0);
	retry_is(f, ",\"retry\":[]", PAYLOAD_RETRY_DEFAULT, 0);
	/* Duplicate keys: the last wins, as in Ruby. */
	retry_is(f, ",\"retry\":false,\"retry\":3", PAYLOAD_RETRY_COUNT, 3);
}

static void test_optional_fields(void **state)
{
	static const struct {
		const char *extra;
		int backtrace;
	} bt[] = {
	    {"", -1},
	    {",\"backtrace\":true", 0},
	    {",\"backtrace\":false", -1},
	    {",\"backtrace\":null", -1},
	    {",\"backtrace\":10", 10},
	    {",\"backtrace\":\"7\"", 7},
	    {",\"backtrace\":2.9", 2},
	    {",\"backtrace\":0", -1},
	    {",\"backtrace\":-4", -1},
	    {",\"backtrace\":\"all\"", -1},
	    {",\"backtrace\":[1]", 0},
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bt); i++) {
		if (with(f, bt[i].extra)->backtrace != bt[i].backtrace)
			fail_msg("%s: backtrace %d", bt[i].extra, f->p.backtrace);
	}
	assert_int_equal(with(f, ",\"dead\":false")->dead, 0);
	assert_int_equal(with(f, ",\"dead\":true")->dead, 1);
	assert_int_equal(with(f, ",\"dead\":null")->dead, 1);
	assert_int_equal(with(f, ",\"dead\":\"false\"")->dead, 1);
	assert_int_equal(with(f, ",\"retry_for\":3600")->retry_for, 3600);
	assert_int_equal(with(f, ",\"retry_for\":3600.7")->retry_for, 3600);
	assert_int_equal(with(f, ",\"retry_for\":\"1h\"")->retry_for, -1);
	assert_int_equal(with(f, ",\"retry_count\":4")->retry_count, 4);
	/* Sidekiq's API "retry now" decrements it: -1 is a real value, not "absent" */
	assert_int_equal(with(f, ",\"retry_count\":-1")->retry_count, -1);
	assert_int_equal(with(f, ",\"retry_count\":-1")->has_retry_count, 1);
	assert_int_equal(with(f, ",\"retry_count\":\"4\"")->has_retry_count, 0);
	assert_string_equal(with(f, ",\"retry_queue\":\"low\"")->retry_queue, "low");
	assert_null(with(f, ",\"retry_queue\":7")->retry_queue);
	assert_null(with(f, ",\"wrapped\":{}")->wrapped);
	assert_null(with(f, "")->queue);
}

static void test_pro_fields(void **state)
{
	static const char *const pro[] = {
	    ",\"bid\":\"Xa3kl9\"", ",\"unique_for\":3600", ",\"unique_until\":\"start\"",
	    ",\"expires_in\":60",  ",\"encrypt\":true",	   ",\"expires_at\":1795797610.0",
	};
	static const char *const plain[] = {
	    "", ",\"bid\":null", ",\"encrypt\":false", ",\"tags\":[\"a\"]", ",\"cattr\":{\"u\":1}",
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pro); i++) {
		if (!with(f, pro[i])->has_pro_fields)
			fail_msg("%s: no Pro field seen", pro[i]);
	}
	for (i = 0; i < ARRAY_SIZE(plain); i++) {
		if (with(f, plain[i])->has_pro_fields)
			fail_msg("%s: a Pro field seen", plain[i]);
	}
}

static void test_raw_is_truth(void **state)
{
	struct fixture *f = *state;
	const char *big =
	    " {\"class\":\"A\",\"jid\":\"j\",\"args\":[123456789012345678901234567890, "
	    "1.0000000000000000001]}\n";

	parse_ok(f, big);
	span_is(&f->p, f->p.args_raw, "[123456789012345678901234567890, 1.0000000000000000001]");
	/* An escaped key is still the key. */
	parse_ok(f, "{\"cl\\u0061ss\":\"A\",\"jid\":\"j\",\"\\u0061rgs\":[\"x\"]}");
	assert_string_equal(f->p.klass, "A");
	span_is(&f->p, f->p.args_raw, "[\"x\"]");
	/* Unicode passes through. */
	parse_ok(f,
		 "{\"class\":\"Caf\xc3\xa9Job\",\"jid\":\"j\",\"args\":[\"\\u00e9\xe2\x82\xac\"]}");
	assert_string_equal(f->p.klass, "Caf\xc3\xa9Job");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(f->p.args, 0)),
			    "\xc3\xa9\xe2\x82\xac");
	/* With duplicate keys, tree and span agree on the last. */
	parse_ok(f, "{\"class\":\"A\",\"args\":[1],\"jid\":\"j\",\"args\":[2]}");
	span_is(&f->p, f->p.args_raw, "[2]");
	assert_int_equal(json_object_get_int(json_object_array_get_idx(f->p.args, 0)), 2);
	/* Not NUL-terminated input: len is what counts. */
	assert_int_equal(payload_parse(&f->p, EX_PLAIN_JOB "garbage", strlen(EX_PLAIN_JOB), NULL,
				       f->err, sizeof(f->err)),
			 PAYLOAD_OK);
	assert_string_equal(f->p.raw, EX_PLAIN_JOB);
}

static void enqueue_is(struct fixture *f, const char *text, double now, enum sidekiq_gen gen,
		       const char *want)
{
	parse_ok(f, text);
	sbuf_reset(&f->out);
	assert_int_equal(payload_for_enqueue(&f->p, now, gen, &f->out), 0);
	assert_string_equal(sbuf_str(&f->out), want);
}

static void test_for_enqueue(void **state)
{
	struct fixture *f = *state;

	/* A scheduled member: enqueued_at appended, in each generation's unit. */
	enqueue_is(f, EX_SCHEDULED_JOB, 1795801211.0, SIDEKIQ_7,
		   "{\"retry\":true,\"queue\":\"default\",\"class\":\"OkJob\",\"args\":[\"later\"],"
		   "\"jid\":\"59dae77f53fa7ddf32a12f29\",\"created_at\":1795797610.943112,"
		   "\"enqueued_at\":1795801211.0}");
	enqueue_is(f, EX_SCHEDULED_JOB, 1795801211.25, SIDEKIQ_8,
		   "{\"retry\":true,\"queue\":\"default\",\"class\":\"OkJob\",\"args\":[\"later\"],"
		   "\"jid\":\"59dae77f53fa7ddf32a12f29\",\"created_at\":1795797610.943112,"
		   "\"enqueued_at\":1795801211250}");
	/* A member still carrying `at` (older clients): removed, comma and all. */
	enqueue_is(f,
		   "{\"at\":1795801210.9430647,\"class\":\"A\",\"jid\":\"j\",\"args\":[1e400,"
		   "123456789012345678901234567890]}",
		   1795801211.5, SIDEKIQ_6,
		   "{\"class\":\"A\",\"jid\":\"j\",\"args\":[1e400,123456789012345678901234567890],"
		   "\"enqueued_at\":1795801211.5}");
	/* A retry member: enqueued_at refreshed in place, the error fields kept. */
	enqueue_is(
	    f, EX_DEAD_JOB, 1795797700.125, SIDEKIQ_6,
	    "{\"retry\":0,\"queue\":\"default\",\"args\":[],\"class\":\"ZeroRetryJob\","
	    "\"jid\":\"8d8e39eeeb9cb4240f3445d2\",\"created_at\":1795797610.9428434,"
	    "\"enqueued_at\":1795797700.125,\"error_message\":\"zero\","
	    "\"error_class\":\"RuntimeError\",\"failed_at\":1795797613.7661488,\"retry_count\":0}");
	/* Nothing to rewrite. */
	payload_release(&f->p);
	assert_int_equal(payload_for_enqueue(&f->p, 1.0, SIDEKIQ_7, &f->out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain_job, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_observed_jobs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gen8_units, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_object, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_name_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_optional_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pro_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_raw_is_truth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_for_enqueue, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
