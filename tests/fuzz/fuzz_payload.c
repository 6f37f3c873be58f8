/*
 * fuzz_payload: libFuzzer harness for everything winch does with a fetched payload's text:
 * payload_parse (default limits), the poller's rewrite, a failure's rewrite, ActiveJob
 * unwrapping and the jsonraw scanner and rewriter, with the invariants that are cheap to
 * check. Built and run by tests/fuzz/run.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "activejob.h"
#include "jsonraw.h"
#include "payload.h"
#include "queues.h"
#include "retry.h"
#include "util.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_payload: %s:%d: invariant failed: %s\n", __FILE__,   \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAX_MEMBERS 64

static uint32_t fixed_rnd(uint32_t n)
{
	return n > 3 ? 3 : 0;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Output that winch writes back must be one JSON object, as deep as its input at most. */
static void check_object(const char *text, size_t len)
{
	size_t i = 0;

	CHECK(jsonraw_validate(text, len, PAYLOAD_DEFAULT_MAX_DEPTH, NULL, 0) == 0);
	while (i < len && is_ws(text[i]))
		i++;
	CHECK(i < len && text[i] == '{');
	CHECK(jsonraw_members(text, len, NULL, 0) >= 0);
}

static void check_span(struct jsonraw_span s, size_t len)
{
	CHECK(s.off <= len && s.len <= len - s.off);
}

/* The scanner and the rewriter on any text: spans in bounds, and a no-edit rewrite is exact. */
static void fuzz_jsonraw(const char *text, size_t len)
{
	struct jsonraw_member m[MAX_MEMBERS];
	struct jsonraw_span el[MAX_MEMBERS], v;
	struct sbuf out;
	int n, i, valid;
#define LIT(s) s, sizeof(s) - 1
	static const struct jsonraw_edit edits[] = {
		{"at", NULL, 0},
		{"queue", LIT("\"q\"")},
		{"retry_count", LIT("7")},
		{"error_message", LIT("\"m\\u00e9\"")},
		{"queue", LIT("\"last\"")},
	};

	valid = jsonraw_validate(text, len, 1000000, NULL, 0) == 0;
	n = jsonraw_members(text, len, m, MAX_MEMBERS);
	CHECK(n < 0 || valid);
	for (i = 0; i < n && i < MAX_MEMBERS; i++) {
		check_span(m[i].key, len);
		check_span(m[i].value, len);
		CHECK(m[i].key.len >= 2 && text[m[i].key.off] == '"');
		CHECK(jsonraw_validate(text + m[i].value.off, m[i].value.len, 1000000, NULL, 0) == 0);
	}
	n = jsonraw_elements(text, len, el, MAX_MEMBERS);
	CHECK(n < 0 || valid);
	for (i = 0; i < n && i < MAX_MEMBERS; i++)
		check_span(el[i], len);
	if (jsonraw_find(text, len, "class", &v) == 1)
		check_span(v, len);

	sbuf_init(&out);
	if (jsonraw_rewrite(text, len, NULL, 0, &out) == 0) {
		CHECK(valid);
		CHECK(out.len == len && memcmp(out.buf, text, len) == 0);
		sbuf_reset(&out);
		CHECK(jsonraw_rewrite(text, len, edits, ARRAY_SIZE(edits), &out) == 0);
		CHECK(jsonraw_validate(out.buf, out.len, 1000000, NULL, 0) == 0);
		CHECK(jsonraw_find(out.buf, out.len, "at", NULL) == 0);
		CHECK(jsonraw_find(out.buf, out.len, "queue", &v) == 1);
		CHECK(v.len == 6 && memcmp(out.buf + v.off, "\"last\"", 6) == 0);
	} else {
		CHECK(out.len == 0);
	}
	sbuf_release(&out);
}

static void fuzz_activejob(struct payload *p)
{
	struct activejob_info info;
	struct sbuf raw;
	char err[200];

	if (activejob_unwrap(p->args, p->wrapped, &info, err, sizeof(err)) == 0) {
		CHECK(info.job_class != NULL && info.job_class[0] != '\0');
		json_object_put(info.arguments);
	} else {
		CHECK(info.arguments == NULL && err[0] != '\0');
	}
	sbuf_init(&raw);
	if (activejob_arguments_raw(p->raw + p->args_raw.off, p->args_raw.len, &raw) == 0) {
		CHECK(jsonraw_validate(raw.buf, raw.len, PAYLOAD_DEFAULT_MAX_DEPTH, NULL, 0) == 0);
		CHECK(jsonraw_elements(raw.buf, raw.len, NULL, 0) >= 0);
	}
	sbuf_release(&raw);
}

static void fuzz_retry(struct payload *p, enum sidekiq_gen gen)
{
	static const char *const lines[] = {
		"app/jobs/x.rb:12:in `perform'", "", "\xff\xfe not utf-8", "\"quoted\"\n\ttab",
	};
	struct retry_failure f = {
		"RuntimeError", "boom \xe2\x82 \xf0\x9f\x98\x80 \\ \" \x01", lines, ARRAY_SIZE(lines),
		"fetched", -1,
	};
	struct retry_config cfg = {gen, RETRY_DEFAULT_MAX};
	struct retry_outcome o;

	retry_outcome_init(&o);
	CHECK(retry_apply(p, &f, &cfg, 1795797613.7632022, fixed_rnd, &o) == 0);
	check_object(o.json.buf, o.json.len);
	CHECK(jsonraw_find(o.json.buf, o.json.len, "error_class", NULL) == 1);
	CHECK(jsonraw_find(o.json.buf, o.json.len, "retry_count", NULL) == 1);
	CHECK(o.action == RETRY_ACTION_RETRY || o.action == RETRY_ACTION_DEAD ||
	      o.action == RETRY_ACTION_DISCARD);
	f.delay_override = 30;
	f.backtrace = NULL;
	f.backtrace_n = 0;
	f.message = NULL;
	CHECK(retry_apply(p, &f, &cfg, 1734000001.456, fixed_rnd, &o) == 0);
	check_object(o.json.buf, o.json.len);
	retry_outcome_release(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	enum sidekiq_gen gen = (enum sidekiq_gen)(SIDEKIQ_6 + (int)(size % 3));
	struct payload p;
	struct sbuf out;
	char err[256];
	enum payload_error pe;

	fuzz_jsonraw(text, size);

	payload_init(&p);
	pe = payload_parse(&p, text, size, NULL, err, sizeof(err));
	CHECK(p.raw != NULL && p.raw_len == size && memcmp(p.raw, text, size) == 0);
	CHECK(pe == PAYLOAD_OK || err[0] != '\0');
	CHECK((pe == PAYLOAD_OK || pe == PAYLOAD_BAD_FIELD) == (p.root != NULL));
	if (pe == PAYLOAD_OK) {
		CHECK(p.klass && p.klass[0] && p.jid && p.args);
		CHECK(p.queue == NULL || strlen(p.queue) <= QUEUE_NAME_MAX);
		CHECK(p.retry_queue == NULL || strlen(p.retry_queue) <= QUEUE_NAME_MAX);
		check_span(p.args_raw, size);
		CHECK(text[p.args_raw.off] == '[');
	}
	sbuf_init(&out);
	/* As the poller calls it: for text that parsed as an object. */
	if (pe == PAYLOAD_OK || pe == PAYLOAD_BAD_FIELD) {
		CHECK(payload_for_enqueue(&p, 1795797610.94076, gen, &out) == 0);
		check_object(out.buf, out.len);
		CHECK(jsonraw_find(out.buf, out.len, "at", NULL) == 0);
		CHECK(jsonraw_find(out.buf, out.len, "enqueued_at", NULL) == 1);
	}
	sbuf_release(&out);
	if (pe == PAYLOAD_OK || pe == PAYLOAD_BAD_FIELD)
		fuzz_retry(&p, gen);
	if (pe == PAYLOAD_OK && activejob_is_wrapper(p.klass))
		fuzz_activejob(&p);
	payload_release(&p);
	return 0;
}
