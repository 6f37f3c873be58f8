/* test_retry: payload rewriting and the retry / dead / discard decision, per generation. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json.h>

#include "backtrace.h"
#include "payload.h"
#include "retry.h"
#include "banned.h"

/* rnd stub: returns stub_value (or n - 1 if that is out of range) and records n. */
static uint32_t stub_value = 4;
static uint32_t stub_last_n;
static int stub_calls;

static uint32_t stub_rnd(uint32_t n)
{
	stub_last_n = n;
	stub_calls++;
	return stub_value < n ? stub_value : n - 1;
}

/* Frames as Ruby 6.4.1 recorded them; the job keeps the first 3 of these 5. */
static const char *const frames[] = {
	"app/jobs/fail_job.rb:5:in `perform'",
	"/usr/share/rubygems-integration/all/gems/sidekiq-6.4.1/lib/sidekiq/processor.rb:196:"
	"in `execute_job'",
	"/usr/share/rubygems-integration/all/gems/sidekiq-6.4.1/lib/sidekiq/processor.rb:164:"
	"in `block (2 levels) in process'",
	"/usr/share/rubygems-integration/all/gems/sidekiq-6.4.1/lib/sidekiq/processor.rb:136:"
	"in `block in process'",
	"bin/sidekiq:31:in `<main>'",
};

/* Base64.strict_encode64(Zlib::Deflate.deflate(JSON.generate(frames[0, 3]))) from Ruby 3.1. */
#define FRAMES3_B64                                                                                \
	"eJy1zdEKgkAQheFXWfamgnQwTMhXiahdG21ydLcZjXr7VOoRujv8HPiO1sUI9+AVakd8nlYqvtyX1JtLRKmDdCu7" \
	"tTCqgN6cIMjo3w12mlA/YCNuoNCDY4Y5gtIVW3okRZqnGTD5X4EooULVIDOQHYqFwBdW44Cz+xemyBfGc6has94Z" \
	"xieybswUv8eVPX0Al3pcMQ=="

/* SIDEKIQ-PROTOCOL.md §2.2: FailJob (retry: 2, backtrace: 3) as the client pushed it. */
#define FAILJOB                                                                                    \
	"{\"retry\":2,\"queue\":\"default\",\"backtrace\":3,\"args\":[7],"                         \
	"\"class\":\"FailJob\",\"jid\":\"4111b8224cc6b51d59fab755\","                              \
	"\"created_at\":1795797610.94225,\"enqueued_at\":1795797610.9422736"

static const char failjob[] = FAILJOB "}";

/* ... after its first failure at 1795797613.7632022 (§2.2, with a strict base64 backtrace) */
static const char failjob_retry0[] =
	FAILJOB ",\"error_message\":\"boom 7\",\"error_class\":\"ArgumentError\","
	"\"failed_at\":1795797613.7632022,\"retry_count\":0,\"error_backtrace\":\"" FRAMES3_B64
	"\"}";

/* ... and after its second failure, 30.5 s later: retry_count in place, retried_at last */
static const char failjob_retry1[] =
	FAILJOB ",\"error_message\":\"boom 8\",\"error_class\":\"ArgumentError\","
	"\"failed_at\":1795797613.7632022,\"retry_count\":1,\"error_backtrace\":\"" FRAMES3_B64
	"\",\"retried_at\":1795797644.2632022}";

#define NOW 1795797613.7632022

/* What a first failure with the fixture's error appends, failed at t. */
#define FIRST_TAIL(t)                                                                              \
	",\"error_message\":\"boom 7\",\"error_class\":\"ArgumentError\",\"failed_at\":" t         \
	",\"retry_count\":0}"

struct fixture {
	struct payload p;
	struct retry_outcome out;
	struct retry_config cfg;
	struct retry_failure f;
};

static int setup(void **state)
{
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	payload_init(&fx->p);
	retry_outcome_init(&fx->out);
	fx->cfg.gen = SIDEKIQ_6;
	fx->cfg.max_retries = RETRY_DEFAULT_MAX;
	fx->f.error_class = "ArgumentError";
	fx->f.message = "boom 7";
	fx->f.backtrace = frames;
	fx->f.backtrace_n = ARRAY_SIZE(frames);
	fx->f.fetched_queue = "default";
	fx->f.delay_override = -1;
	stub_value = 4;
	stub_last_n = 0;
	stub_calls = 0;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	payload_release(&fx->p);
	retry_outcome_release(&fx->out);
	test_free(fx);
	return 0;
}

/* Parse json into fx->p (dropping any previous payload) and apply one failure at now. */
static void fail_at(struct fixture *fx, const char *json, double now)
{
	char err[128] = "";
	enum payload_error pe;

	payload_release(&fx->p);
	payload_init(&fx->p);
	pe = payload_parse(&fx->p, json, strlen(json), NULL, err, sizeof(err));
	if (pe != PAYLOAD_OK)
		fail_msg("payload_parse: %d %s", (int)pe, err);
	assert_int_equal(retry_apply(&fx->p, &fx->f, &fx->cfg, now, stub_rnd, &fx->out), 0);
}

#define assert_double_exact(got, want)                                                             \
	do {                                                                                       \
		double g_ = (got), w_ = (want);                                                    \
		if (g_ != w_)                                                                      \
			fail_msg("%s = %.17g, expected %.17g", #got, g_, w_);                      \
	} while (0)

static void test_first_failure_matches_spec(void **state)
{
	struct fixture *fx = *state;

	fail_at(fx, failjob, NOW);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	assert_int_equal(fx->out.count, 0);
	/* 0**4 + 15 + rand(10) * 1 with rand(10) = 4 */
	assert_double_exact(fx->out.score, NOW + 19);
	assert_int_equal(stub_last_n, 10);
	assert_int_equal(stub_calls, 1);
	assert_string_equal(sbuf_str(&fx->out.json), failjob_retry0);
}

static void test_second_failure(void **state)
{
	struct fixture *fx = *state;
	double now2 = NOW + 30.5;

	fx->f.message = "boom 8";
	fail_at(fx, failjob_retry0, now2);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	assert_int_equal(fx->out.count, 1);
	/* 1**4 + 15 + rand(10) * 2 */
	assert_double_exact(fx->out.score, now2 + 24);
	assert_int_equal(stub_last_n, 10);
	assert_string_equal(sbuf_str(&fx->out.json), failjob_retry1);
}

static void test_exhaustion_to_dead(void **state)
{
	struct fixture *fx = *state;
	double now3 = NOW + 100.25;
	char *want;

	fx->f.message = "boom 9";
	fail_at(fx, failjob_retry1, now3);
	assert_int_equal(fx->out.action, RETRY_ACTION_DEAD);
	assert_int_equal(fx->out.count, 2);
	assert_double_exact(fx->out.score, now3);
	assert_int_equal(stub_calls, 0);
	want = xasprintf(FAILJOB ",\"error_message\":\"boom 9\",\"error_class\":\"ArgumentError\","
			 "\"failed_at\":1795797613.7632022,\"retry_count\":2,\"error_backtrace\":\""
			 FRAMES3_B64 "\",\"retried_at\":1795797714.0132022}");
	assert_string_equal(sbuf_str(&fx->out.json), want);
	free(want);
}

/* §2.2's dead-set member for retry: 0, byte for byte. */
static void test_retry_zero_dead_at_once(void **state)
{
	static const char job[] =
		"{\"retry\":0,\"queue\":\"default\",\"args\":[],\"class\":\"ZeroRetryJob\","
		"\"jid\":\"8d8e39eeeb9cb4240f3445d2\",\"created_at\":1795797610.9428434,"
		"\"enqueued_at\":1795797610.942865}";
	static const char dead[] =
		"{\"retry\":0,\"queue\":\"default\",\"args\":[],\"class\":\"ZeroRetryJob\","
		"\"jid\":\"8d8e39eeeb9cb4240f3445d2\",\"created_at\":1795797610.9428434,"
		"\"enqueued_at\":1795797610.942865,\"error_message\":\"zero\","
		"\"error_class\":\"RuntimeError\",\"failed_at\":1795797613.7661488,"
		"\"retry_count\":0}";
	struct fixture *fx = *state;

	fx->f.error_class = "RuntimeError";
	fx->f.message = "zero";
	fail_at(fx, job, 1795797613.7661488);
	assert_int_equal(fx->out.action, RETRY_ACTION_DEAD);
	assert_int_equal(fx->out.count, 0);
	assert_double_exact(fx->out.score, 1795797613.7661488);
	assert_string_equal(sbuf_str(&fx->out.json), dead);
}

static void test_retry_false_discards(void **state)
{
	static const char job[] = "{\"retry\":false,\"queue\":\"q\",\"args\":[],\"class\":\"K\","
				  "\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}";
	struct fixture *fx = *state;

	fail_at(fx, job, 1000.5);
	assert_int_equal(fx->out.action, RETRY_ACTION_DISCARD);
	assert_int_equal(stub_calls, 0);
	/* the rewritten payload is still there, for the log and death hooks */
	assert_string_equal(sbuf_str(&fx->out.json),
			    "{\"retry\":false,\"queue\":\"default\",\"args\":[],\"class\":\"K\","
			    "\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"" FIRST_TAIL("1000.5"));
}

static void test_dead_false(void **state)
{
	static const char job[] = "{\"retry\":1,\"dead\":false,\"queue\":\"q\",\"args\":[],"
				  "\"class\":\"K\",\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}";
	struct fixture *fx = *state;

	fx->f.fetched_queue = "q";
	fail_at(fx, job, 1000.0);
	/* dead: false only matters at exhaustion */
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	assert_double_exact(fx->out.score, 1019.0);
	assert_string_equal(sbuf_str(&fx->out.json),
			    "{\"retry\":1,\"dead\":false,\"queue\":\"q\",\"args\":[],"
			    "\"class\":\"K\",\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\""
			    FIRST_TAIL("1000.0"));
	fail_at(fx, sbuf_str(&fx->out.json), 2000.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_DISCARD);
	assert_int_equal(fx->out.count, 1);
}

static void test_default_max_and_config(void **state)
{
	static const char job24[] = "{\"retry\":true,\"queue\":\"q\",\"args\":[],\"class\":\"K\","
				    "\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\",\"retry_count\":23,"
				    "\"failed_at\":10.0}";
	static const char job25[] = "{\"retry\":true,\"queue\":\"q\",\"args\":[],\"class\":\"K\","
				    "\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\",\"retry_count\":24,"
				    "\"failed_at\":10.0}";
	struct fixture *fx = *state;

	/* count 24 < 25: 24**4 + 15 + 4 * 25 */
	fail_at(fx, job24, 5000000.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	assert_int_equal(fx->out.count, 24);
	assert_double_exact(fx->out.score, 5000000.0 + 331776 + 15 + 100);
	/* count 25: the 26th run failed, off to the morgue */
	fail_at(fx, job25, 5000000.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_DEAD);
	assert_int_equal(fx->out.count, 25);
	/* a smaller max_retries applies to retry: true */
	fx->cfg.max_retries = 10;
	fail_at(fx, job24, 5000000.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_DEAD);
}

static void test_queue_choice_and_delay_override(void **state)
{
	static const char job[] = "{\"queue\":\"default\",\"retry_queue\":\"slow\",\"args\":[1],"
				  "\"class\":\"K\",\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}";
	static const char nojobqueue[] = "{\"args\":[1],\"class\":\"K\","
					 "\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}";
	struct fixture *fx = *state;

	fx->f.fetched_queue = "other";
	fx->f.delay_override = 300;
	stub_value = 9;
	fail_at(fx, job, 100.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	assert_double_exact(fx->out.score, 100.0 + 300 + 9);
	assert_string_equal(sbuf_str(&fx->out.json),
			    "{\"queue\":\"slow\",\"retry_queue\":\"slow\",\"args\":[1],"
			    "\"class\":\"K\",\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\""
			    FIRST_TAIL("100.0"));
	/* no retry_queue: the queue it was fetched from; a zero override means the default */
	fx->f.delay_override = 0;
	fail_at(fx, nojobqueue, 100.0);
	assert_double_exact(fx->out.score, 100.0 + 15 + 9);
	assert_string_equal(sbuf_str(&fx->out.json),
			    "{\"args\":[1],\"class\":\"K\",\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\","
			    "\"queue\":\"other\"" FIRST_TAIL("100.0"));
}

static void test_backtrace_all_lines(void **state)
{
	static const char job[] = "{\"retry\":true,\"backtrace\":true,\"queue\":\"q\",\"args\":[],"
				  "\"class\":\"K\",\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}";
	struct fixture *fx = *state;
	const struct sbuf *out = &fx->out.json;
	struct jsonraw_span v;
	struct sbuf dec;

	sbuf_init(&dec);
	fx->f.backtrace = frames + 3;
	fx->f.backtrace_n = 2;
	fail_at(fx, job, 100.0);
	assert_int_equal(jsonraw_find(out->buf, out->len, "error_backtrace", &v), 1);
	assert_int_equal(backtrace_decode(out->buf + v.off + 1, v.len - 2, &dec), 0);
	assert_string_equal(sbuf_str(&dec),
			    "[\"/usr/share/rubygems-integration/all/gems/sidekiq-6.4.1/lib/sidekiq/"
			    "processor.rb:136:in `block in process'\","
			    "\"bin/sidekiq:31:in `<main>'\"]");
	/* no frames at all: an empty array, as Ruby would store for an empty backtrace */
	fx->f.backtrace = NULL;
	fx->f.backtrace_n = 0;
	fail_at(fx, job, 100.0);
	assert_int_equal(jsonraw_find(out->buf, out->len, "error_backtrace", &v), 1);
	assert_int_equal(v.len, 2 + strlen("eJyLjgUAARUAuQ=="));
	assert_memory_equal(out->buf + v.off, "\"eJyLjgUAARUAuQ==\"", v.len);
	sbuf_release(&dec);
}

/* 8.x: payload times in integer milliseconds, jitter rand(10 * (count + 1)). */
static void test_gen8_millis_and_jitter(void **state)
{
	static const char job[] =
		"{\"retry\":true,\"queue\":\"default\",\"args\":[],\"class\":\"X\","
		"\"jid\":\"0123456789abcdef01234567\",\"created_at\":1734000000123,"
		"\"enqueued_at\":1734000000125}";
	static const char first[] =
		"{\"retry\":true,\"queue\":\"default\",\"args\":[],\"class\":\"X\","
		"\"jid\":\"0123456789abcdef01234567\",\"created_at\":1734000000123,"
		"\"enqueued_at\":1734000000125,\"error_message\":\"boom 7\","
		"\"error_class\":\"ArgumentError\",\"failed_at\":1734000001456,\"retry_count\":0}";
	static const char second[] =
		"{\"retry\":true,\"queue\":\"default\",\"args\":[],\"class\":\"X\","
		"\"jid\":\"0123456789abcdef01234567\",\"created_at\":1734000000123,"
		"\"enqueued_at\":1734000000125,\"error_message\":\"boom 7\","
		"\"error_class\":\"ArgumentError\",\"failed_at\":1734000001456,\"retry_count\":1,"
		"\"retried_at\":1734000100250}";
	struct fixture *fx = *state;

	fx->cfg.gen = SIDEKIQ_8;
	fail_at(fx, job, 1734000001.456);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	assert_int_equal(stub_last_n, 10);
	assert_double_exact(fx->out.score, 1734000001.456 + 19);
	assert_string_equal(sbuf_str(&fx->out.json), first);

	stub_value = 17;
	fail_at(fx, first, 1734000100.25);
	assert_int_equal(stub_last_n, 20);
	/* 1 + 15 + 17: 8.x's jitter is not a multiple of count + 1 */
	assert_double_exact(fx->out.score, 1734000100.25 + 33);
	assert_string_equal(sbuf_str(&fx->out.json), second);
}

static void test_jitter(void **state)
{
	(void)state;
	stub_value = 9;
	assert_double_exact(retry_jitter(SIDEKIQ_6, 0, stub_rnd), 9);
	assert_int_equal(stub_last_n, 10);
	assert_double_exact(retry_jitter(SIDEKIQ_7, 3, stub_rnd), 36);
	assert_int_equal(stub_last_n, 10);
	stub_value = 1000;
	assert_double_exact(retry_jitter(SIDEKIQ_8, 3, stub_rnd), 39);
	assert_int_equal(stub_last_n, 40);
	stub_value = 0;
	assert_double_exact(retry_jitter(SIDEKIQ_8, 24, stub_rnd), 0);
	assert_int_equal(stub_last_n, 250);
}

#define RF_JOB(retry, extra)                                                                       \
	"{\"retry\":" retry ",\"retry_for\":3600,\"queue\":\"q\",\"args\":[],"                     \
	"\"class\":\"K\",\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"" extra "}"

/* 7.1.3+: retry_for closes the window in addition to the count. */
static void test_retry_for_gen7(void **state)
{
	struct fixture *fx = *state;

	fx->cfg.gen = SIDEKIQ_7;
	/* inside the window with retries left */
	fail_at(fx, RF_JOB("true", ",\"retry_count\":3,\"failed_at\":1000000.5"), 1003599.5);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	/* exactly at the edge: failed_at + retry_for < now is false */
	fail_at(fx, RF_JOB("true", ",\"retry_count\":3,\"failed_at\":1000000.5"), 1003600.5);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	/* past the window: dead although count 4 < 25 */
	fail_at(fx, RF_JOB("true", ",\"retry_count\":3,\"failed_at\":1000000.5"), 1003601.5);
	assert_int_equal(fx->out.action, RETRY_ACTION_DEAD);
	/* inside the window but out of retries: the count still applies */
	fail_at(fx, RF_JOB("2", ",\"retry_count\":1,\"failed_at\":1000000.5"), 1000100.5);
	assert_int_equal(fx->out.action, RETRY_ACTION_DEAD);
	/* a first failure starts the window now */
	fail_at(fx, RF_JOB("true", ""), 1000000.5);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
}

/* 8.1+: with retry_for only the window counts. */
static void test_retry_for_gen8(void **state)
{
	struct fixture *fx = *state;

	fx->cfg.gen = SIDEKIQ_8;
	/* out of retries by count, but inside the window: retried; failed_at in ms */
	fail_at(fx, RF_JOB("2", ",\"retry_count\":5,\"failed_at\":1000000500"), 1003000.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	assert_int_equal(fx->out.count, 6);
	/* the same window from a float-seconds failed_at written by 7.x */
	fail_at(fx, RF_JOB("2", ",\"retry_count\":5,\"failed_at\":1000000.5"), 1003000.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	/* past the window */
	fail_at(fx, RF_JOB("true", ",\"retry_count\":0,\"failed_at\":1000000500"), 1003601.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_DEAD);
	/* dead: false still discards at the end of the window */
	fail_at(fx, RF_JOB("true", ",\"dead\":false,\"retry_count\":0,\"failed_at\":1000000500"),
		1003601.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_DISCARD);
}

/* 6.x knows nothing of retry_for. */
static void test_retry_for_gen6_ignored(void **state)
{
	struct fixture *fx = *state;

	fail_at(fx, RF_JOB("true", ",\"retry_count\":3,\"failed_at\":1000000.5"), 9000000.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_RETRY);
	fail_at(fx, RF_JOB("2", ",\"retry_count\":1,\"failed_at\":1000000.5"), 1000001.0);
	assert_int_equal(fx->out.action, RETRY_ACTION_DEAD);
}

/* The error_message member of out->json, decoded by json-c. */
static char *message_of(const struct fixture *fx)
{
	struct json_object *root = json_tokener_parse(sbuf_str(&fx->out.json)), *m;
	char *s;

	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "error_message", &m));
	s = xstrdup(json_object_get_string(m));
	json_object_put(root);
	return s;
}

static void fail_with_message(struct fixture *fx, const char *msg)
{
	static const char job[] = "{\"retry\":true,\"queue\":\"q\",\"args\":[],\"class\":\"K\","
				  "\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}";

	fx->f.message = msg;
	fail_at(fx, job, 100.0);
}

static void test_message_truncation(void **state)
{
	struct fixture *fx = *state;
	struct sbuf msg, want;
	char *got;
	int i;

	sbuf_init(&msg);
	sbuf_init(&want);
	/* 9,998 two-byte characters, "ab", then more: 10,000 characters kept */
	for (i = 0; i < 9998; i++)
		sbuf_adds(&msg, "\xc3\xa9");
	sbuf_adds(&want, sbuf_str(&msg));
	sbuf_adds(&want, "ab");
	sbuf_adds(&msg, "ab\xe2\x82\xac\xe2\x82\xac tail");
	fail_with_message(fx, sbuf_str(&msg));
	got = message_of(fx);
	assert_int_equal(strlen(got), 9998 * 2 + 2);
	assert_string_equal(got, sbuf_str(&want));
	free(got);

	/* a four-byte character as the 10,000th is kept whole ... */
	sbuf_reset(&msg);
	for (i = 0; i < 9999; i++)
		sbuf_addc(&msg, 'a');
	sbuf_adds(&msg, "\xf0\x9f\x98\x80" "b");
	fail_with_message(fx, sbuf_str(&msg));
	got = message_of(fx);
	assert_int_equal(strlen(got), 9999 + 4);
	assert_memory_equal(got + 9999, "\xf0\x9f\x98\x80", 4);
	free(got);

	/* ... and as the 10,001st it is dropped whole, never cut */
	sbuf_reset(&msg);
	for (i = 0; i < 10000; i++)
		sbuf_addc(&msg, 'a');
	sbuf_adds(&msg, "\xf0\x9f\x98\x80");
	fail_with_message(fx, sbuf_str(&msg));
	got = message_of(fx);
	assert_int_equal(strlen(got), 10000);
	free(got);

	/* an invalid byte counts as one character and becomes U+FFFD */
	sbuf_reset(&msg);
	for (i = 0; i < 9999; i++)
		sbuf_addc(&msg, 'a');
	sbuf_adds(&msg, "\xffzzz");
	fail_with_message(fx, sbuf_str(&msg));
	got = message_of(fx);
	assert_int_equal(strlen(got), 9999 + 3);
	assert_memory_equal(got + 9999, "\xef\xbf\xbd", 3);
	free(got);

	/* short messages: escapes, a stray byte and a cut-off sequence, exact JSON */
	fail_with_message(fx, "x\xffy \"q\"\n\xe2\x82");
	assert_non_null(strstr(sbuf_str(&fx->out.json),
			       ",\"error_message\":\"x\xef\xbf\xbdy \\\"q\\\"\\n"
			       "\xef\xbf\xbd\xef\xbf\xbd\","));
	sbuf_release(&msg);
	sbuf_release(&want);
}

/* Numbers winch does not own stay byte for byte, however big. */
static void test_bigints_untouched(void **state)
{
	static const char job[] =
		"{\"retry\":true,\"queue\":\"q\",\"args\":[123456789012345678901234567890,"
		"-98765432109876543210.123456789012345678901,1.0e+400,"
		"0.1000000000000000055511151231257827],"
		"\"class\":\"K\",\"jid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\",\"bid\":\"b-1\","
		"\"cattr\":{\"tenant\":18446744073709551617},\"enqueued_at\":1795797610.9422736}";
	struct fixture *fx = *state;
	char *want;

	fx->f.fetched_queue = "q";
	fail_at(fx, job, 100.0);
	want = xasprintf("%.*s,\"error_message\":\"boom 7\",\"error_class\":\"ArgumentError\","
			 "\"failed_at\":100.0,\"retry_count\":0}",
			 (int)(sizeof(job) - 2), job);
	assert_string_equal(sbuf_str(&fx->out.json), want);
	free(want);
}

static void test_not_an_object(void **state)
{
	struct fixture *fx = *state;
	char err[128];

	payload_release(&fx->p);
	payload_init(&fx->p);
	assert_int_equal(payload_parse(&fx->p, "[1,2]", 5, NULL, err, sizeof(err)),
			 PAYLOAD_NOT_OBJECT);
	assert_int_equal(retry_apply(&fx->p, &fx->f, &fx->cfg, 1.0, stub_rnd, &fx->out), -1);
	assert_int_equal(fx->out.json.len, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_first_failure_matches_spec),
		T(test_second_failure),
		T(test_exhaustion_to_dead),
		T(test_retry_zero_dead_at_once),
		T(test_retry_false_discards),
		T(test_dead_false),
		T(test_default_max_and_config),
		T(test_queue_choice_and_delay_override),
		T(test_backtrace_all_lines),
		T(test_gen8_millis_and_jitter),
		T(test_jitter),
		T(test_retry_for_gen7),
		T(test_retry_for_gen8),
		T(test_retry_for_gen6_ignored),
		T(test_message_truncation),
		T(test_bigints_untouched),
		T(test_not_an_object),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
