/*
 * payload: read a fetched Sidekiq job into struct payload, and write the payloads winch
 * pushes (a re-enqueue from the scheduled/retry sets, a job built from scratch).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "payload.h"
#include "jsonraw.h"
#include "queues.h"
#include "timestamp.h"
#include "util.h"
#include "banned.h"

/*
 * Keys that Sidekiq Pro and Enterprise middleware put in payloads and act on server-side:
 * batches (bid), unique jobs (unique_for, unique_until, unique_token), expiring jobs
 * (expires_in, expires_at) and encryption (encrypt). winch keeps them but cannot honour them.
 */
static const char *const pro_keys[] = {
    "bid", "unique_for", "unique_until", "unique_token", "expires_in", "expires_at", "encrypt",
};

void payload_init(struct payload *p)
{
	memset(p, 0, sizeof(*p));
	p->retry = PAYLOAD_RETRY_DEFAULT;
	p->retry_count = -1;
	p->backtrace = -1;
	p->dead = 1;
	p->retry_for = -1;
}

void payload_release(struct payload *p)
{
	free(p->raw);
	if (p->root)
		json_object_put(p->root);
	payload_init(p);
}

/* Set err to msg and return e. */
static enum payload_error fail(enum payload_error e, char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return e;
}

/* A required field is wrong: "'<key>' <problem>". */
static enum payload_error bad_field(char *err, size_t errlen, const char *key, const char *problem)
{
	if (err && errlen)
		snprintf(err, errlen, "'%s' %s", key, problem);
	return PAYLOAD_BAD_FIELD;
}

/* A member of root, or NULL when absent or JSON null. */
static struct json_object *member(struct json_object *root, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(root, key, &v))
		return NULL;
	return v;
}

/*
 * A string member. Absent (or null) is 0 with *out NULL; -1 if not a string, -2 if it holds
 * a NUL byte ("\u0000"), which C string users would silently cut.
 */
static int string_member(struct json_object *root, const char *key, const char **out)
{
	struct json_object *v = member(root, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return -2;
	*out = json_object_get_string(v);
	return 0;
}

static int clamp_int(int64_t v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

/* A string member that must be there (null is not a string); *out borrows from root. */
static enum payload_error need_string(struct payload *p, const char *key, const char **out,
				      char *err, size_t errlen)
{
	int r;

	if (!json_object_object_get_ex(p->root, key, NULL))
		return bad_field(err, errlen, key, "is missing");
	r = string_member(p->root, key, out);
	if (r == -2)
		return bad_field(err, errlen, key, "contains a NUL byte");
	if (r < 0 || *out == NULL)
		return bad_field(err, errlen, key, "is not a string");
	return PAYLOAD_OK;
}

/* The fields winch cannot run without: class, args, jid, and queue when present. */
static enum payload_error parse_required(struct payload *p, char *err, size_t errlen)
{
	if (need_string(p, "class", &p->klass, err, errlen) != PAYLOAD_OK)
		return PAYLOAD_BAD_FIELD;
	if (p->klass[0] == '\0')
		return bad_field(err, errlen, "class", "is empty");
	if (!json_object_object_get_ex(p->root, "args", &p->args))
		return bad_field(err, errlen, "args", "is missing");
	if (!json_object_is_type(p->args, json_type_array))
		return bad_field(err, errlen, "args", "is not an array");
	if (need_string(p, "jid", &p->jid, err, errlen) != PAYLOAD_OK)
		return PAYLOAD_BAD_FIELD;
	if (json_object_object_get_ex(p->root, "queue", NULL) &&
	    need_string(p, "queue", &p->queue, err, errlen) != PAYLOAD_OK)
		return PAYLOAD_BAD_FIELD;
	if (p->queue && strlen(p->queue) > QUEUE_NAME_MAX) {
		char problem[64];

		/* It would become a key and a member of `queues`, as the Web UI lists it. */
		p->queue = NULL;
		snprintf(problem, sizeof(problem), "is longer than %d bytes", QUEUE_NAME_MAX);
		return bad_field(err, errlen, "queue", problem);
	}
	if (jsonraw_find(p->raw, p->raw_len, "args", &p->args_raw) != 1) /* cannot happen */
		return bad_field(err, errlen, "args", "is missing");
	return PAYLOAD_OK;
}

/*
 * `retry` as Sidekiq 6.4.1's JobRetry reads it: false disables retries, an Integer is the
 * limit, and anything else (true, null or absent, "5", 5.0) means the default limit.
 */
static void parse_retry(struct payload *p)
{
	struct json_object *v = member(p->root, "retry");

	p->retry = PAYLOAD_RETRY_DEFAULT;
	p->retry_max = 0;
	if (json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v)) {
		p->retry = PAYLOAD_RETRY_NONE;
	} else if (json_object_is_type(v, json_type_int)) {
		p->retry = PAYLOAD_RETRY_COUNT;
		p->retry_max = clamp_int(json_object_get_int64(v), 0, INT_MAX);
	}
}

/*
 * `backtrace`: true keeps every line (0), a positive number or numeric string the first N
 * (Ruby's to_i), false/null/absent none (-1). 0 or a negative count also reads as none.
 */
static int parse_backtrace(struct json_object *v)
{
	int64_t n;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return -1;
	case json_type_boolean:
		return json_object_get_boolean(v) ? 0 : -1;
	case json_type_int:
	case json_type_double:
		n = json_object_get_int64(v);
		break;
	case json_type_string:
		n = strtoll(json_object_get_string(v), NULL, 10);
		break;
	default:
		return 0;
	}
	return n > 0 ? clamp_int(n, 1, INT_MAX) : -1;
}

static double parse_time(struct json_object *root, const char *key)
{
	double t;

	if (ts_parse_json(member(root, key), &t) < 0)
		return 0;
	return t;
}

static int parse_has_pro(struct json_object *root)
{
	struct json_object *v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pro_keys); i++) {
		v = member(root, pro_keys[i]);
		if (v == NULL)
			continue;
		if (json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v))
			continue;
		return 1;
	}
	return 0;
}

/* The optional fields: none of them makes a job unrunnable, a wrong type reads as absent. */
static void parse_optional(struct payload *p)
{
	struct json_object *v;

	if (string_member(p->root, "wrapped", &p->wrapped) < 0)
		p->wrapped = NULL;
	if (string_member(p->root, "retry_queue", &p->retry_queue) < 0 ||
	    (p->retry_queue && strlen(p->retry_queue) > QUEUE_NAME_MAX))
		p->retry_queue = NULL;
	parse_retry(p);
	p->retry_given = member(p->root, "retry") != NULL;
	p->backtrace_given = member(p->root, "backtrace") != NULL;
	v = member(p->root, "retry_count");
	if (json_object_is_type(v, json_type_int)) {
		p->retry_count = clamp_int(json_object_get_int64(v), -1000000, 1000000);
		p->has_retry_count = 1;
	}
	p->backtrace = parse_backtrace(member(p->root, "backtrace"));
	v = member(p->root, "dead");
	p->dead = json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v) ? 0 : 1;
	v = member(p->root, "retry_for");
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		p->retry_for = (long)json_object_get_int64(v);
	p->created_at = parse_time(p->root, "created_at");
	p->enqueued_at = parse_time(p->root, "enqueued_at");
	p->failed_at = parse_time(p->root, "failed_at");
	p->has_pro_fields = parse_has_pro(p->root);
}

static int is_json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Validate raw and parse it with json-c. */
static enum payload_error parse_json(struct payload *p, int depth, char *err, size_t errlen)
{
	struct json_tokener *tok;
	size_t at = 0;

	if (jsonraw_validate(p->raw, p->raw_len, depth, err, errlen) < 0) {
		/* Say what kind of problem it is: "not valid JSON: ..." or the depth limit. */
		if (err && errlen) {
			char why[200];
			int deep = strncmp(err, "nested", 6) == 0;

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, deep ? "%s (--max-depth)" : "not valid JSON: %s", why);
		}
		return PAYLOAD_NOT_JSON;
	}
	while (at < p->raw_len && is_json_ws(p->raw[at]))
		at++;
	if (p->raw[at] != '{')
		return fail(PAYLOAD_NOT_OBJECT, err, errlen, "not a JSON object");
	/* json-c counts the outermost value as one level: allow depth containers. */
	tok = json_tokener_new_ex(depth + 1);
	if (tok == NULL)
		return fail(PAYLOAD_NOT_JSON, err, errlen, "out of memory for the JSON parser");
	p->root = json_tokener_parse_ex(tok, p->raw, (int)p->raw_len);
	if (p->root == NULL || !json_object_is_type(p->root, json_type_object)) {
		if (err && errlen)
			snprintf(err, errlen, "json-c: %s",
				 json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		if (p->root)
			json_object_put(p->root);
		p->root = NULL;
		return PAYLOAD_NOT_JSON;
	}
	json_tokener_free(tok);
	return PAYLOAD_OK;
}

enum payload_error payload_parse(struct payload *p, const char *text, size_t len,
				 const struct payload_limits *lim, char *err, size_t errlen)
{
	size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : PAYLOAD_DEFAULT_MAX_BYTES;
	int depth = lim && lim->max_depth > 0 ? lim->max_depth : PAYLOAD_DEFAULT_MAX_DEPTH;
	enum payload_error e;

	if (depth > PAYLOAD_MAX_DEPTH_CAP)
		depth = PAYLOAD_MAX_DEPTH_CAP;
	payload_release(p);
	if (err && errlen)
		err[0] = '\0';
	p->raw = xstrndup(text, len);
	p->raw_len = len;
	if (len > max_bytes || len > INT_MAX) {
		if (err && errlen)
			snprintf(err, errlen,
				 "payload of %zu bytes is over the limit of %zu bytes (--max-payload)",
				 len, max_bytes);
		return PAYLOAD_TOO_BIG;
	}
	e = parse_json(p, depth, err, errlen);
	if (e != PAYLOAD_OK)
		return e;
	e = parse_required(p, err, errlen);
	if (e != PAYLOAD_OK)
		return e;
	parse_optional(p);
	return PAYLOAD_OK;
}

int payload_for_enqueue(const struct payload *p, double now, enum sidekiq_gen gen, struct sbuf *out)
{
	struct sbuf ts;
	struct jsonraw_edit edits[2];
	int r;

	if (p->raw == NULL)
		return -1;
	sbuf_init(&ts);
	ts_append_payload(&ts, now, gen);
	edits[0].key = "at";
	edits[0].value = NULL;
	edits[0].value_len = 0;
	edits[1].key = "enqueued_at";
	edits[1].value = sbuf_str(&ts);
	edits[1].value_len = ts.len;
	r = jsonraw_rewrite(p->raw, p->raw_len, edits, ARRAY_SIZE(edits), out);
	sbuf_release(&ts);
	return r;
}
