/*
 * activejob: unwrap the envelope Rails' ActiveJob puts around a job on Sidekiq, and turn
 * its serialized arguments back into the values perform() receives.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "activejob.h"
#include "jsonraw.h"
#include "payload.h"
#include "util.h"
#include "banned.h"

static const char *const wrapper_classes[] = {
    "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper", /* Rails' adapter, Sidekiq 7.3.3+ too */
    "Sidekiq::ActiveJob::Wrapper",			    /* Sidekiq 8's own adapter */
};

/* Marker keys ActiveJob adds to a serialized hash; never user keys. */
static const char *const hash_markers[] = {
    "_aj_symbol_keys",
    "_aj_ruby2_keywords",
    "_aj_hash_with_indifferent_access",
};

int activejob_is_wrapper(const char *klass)
{
	size_t i;

	if (klass == NULL)
		return 0;
	for (i = 0; i < ARRAY_SIZE(wrapper_classes); i++) {
		if (strcmp(klass, wrapper_classes[i]) == 0)
			return 1;
	}
	return 0;
}

static int is_marker(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hash_markers); i++) {
		if (strcmp(key, hash_markers[i]) == 0)
			return 1;
	}
	return 0;
}

/* {"_aj_globalid": "<uri>"} and nothing else: the URI, else NULL. */
static struct json_object *global_id(struct json_object *obj)
{
	struct json_object *gid;

	if (json_object_object_length(obj) != 1 ||
	    !json_object_object_get_ex(obj, "_aj_globalid", &gid) ||
	    !json_object_is_type(gid, json_type_string))
		return NULL;
	return gid;
}

/*
 * A copy of obj with each value resolved; hash markers are dropped unless obj is an
 * _aj_serialized object, which is kept whole for the handler to interpret.
 */
static struct json_object *resolve_object(struct json_object *obj)
{
	struct json_object *gid = global_id(obj), *copy;
	int keep_all = json_object_object_get_ex(obj, "_aj_serialized", NULL);

	if (gid != NULL)
		return json_object_new_string_len(json_object_get_string(gid),
						  json_object_get_string_len(gid));
	copy = json_object_new_object();
	json_object_object_foreach(obj, key, val)
	{
		if (!keep_all && is_marker(key))
			continue;
		json_object_object_add(copy, key, activejob_resolve(val));
	}
	return copy;
}

/*
 * Recursion is bounded here: every tree winch resolves came from payload_parse(), whose
 * json-c tokener refused anything nested deeper than its max_depth.
 */
struct json_object *activejob_resolve(struct json_object *v)
{
	struct json_object *copy = NULL;
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return NULL;
	case json_type_object:
		return resolve_object(v);
	case json_type_array:
		n = json_object_array_length(v);
		copy = json_object_new_array_ext((int)n);
		for (i = 0; i < n; i++)
			json_object_array_add(copy,
					      activejob_resolve(json_object_array_get_idx(v, i)));
		return copy;
	default:
		/* A scalar: a copy, so the handler may change it without touching the payload. */
		if (json_object_deep_copy(v, &copy, NULL) < 0)
			return NULL;
		return copy;
	}
}

static void info_clear(struct activejob_info *out)
{
	out->job_class = NULL;
	out->job_id = NULL;
	out->executions = -1;
	out->locale = NULL;
	out->arguments = NULL;
}

static int unwrap_fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

static const char *string_or_null(struct json_object *job, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(job, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int activejob_unwrap(struct json_object *args, const char *wrapped, struct activejob_info *out,
		     char *err, size_t errlen)
{
	struct json_object *job, *arguments, *v;

	info_clear(out);
	if (!json_object_is_type(args, json_type_array) || json_object_array_length(args) < 1)
		return unwrap_fail(err, errlen, "ActiveJob 'args' is not an array of one job hash");
	job = json_object_array_get_idx(args, 0);
	if (!json_object_is_type(job, json_type_object))
		return unwrap_fail(err, errlen, "ActiveJob args[0] is not a hash");
	if (!json_object_object_get_ex(job, "arguments", &arguments) ||
	    !json_object_is_type(arguments, json_type_array))
		return unwrap_fail(err, errlen, "ActiveJob 'arguments' is not an array");
	out->job_class = wrapped && wrapped[0] ? wrapped : string_or_null(job, "job_class");
	if (out->job_class == NULL || out->job_class[0] == '\0') {
		info_clear(out);
		return unwrap_fail(err, errlen, "ActiveJob 'job_class' is missing");
	}
	out->job_id = string_or_null(job, "job_id");
	out->locale = string_or_null(job, "locale");
	if (json_object_object_get_ex(job, "executions", &v) &&
	    json_object_is_type(v, json_type_int))
		out->executions = (long)json_object_get_int64(v);
	out->arguments = activejob_resolve(arguments);
	return 0;
}

/*
 * The raw resolution walks the text once, with a cursor: rescanning each container's
 * members at every level (as jsonraw_members would) costs depth x size, seconds of the
 * loop's time for a deep 16 MiB payload. The text was checked as JSON by the caller; the
 * walk still never reads past its end.
 */
struct raw_walk {
	const char *t;
	size_t len;
	size_t pos;
};

static int walk_value(struct raw_walk *w, struct sbuf *out, int depth);

static int walk_ws_is(struct raw_walk *w, char c)
{
	while (w->pos < w->len && (w->t[w->pos] == ' ' || w->t[w->pos] == '\t' ||
				   w->t[w->pos] == '\n' || w->t[w->pos] == '\r'))
		w->pos++;
	return w->pos < w->len && w->t[w->pos] == c;
}

/* A string at the cursor, copied to out (NULL: skipped). */
static int walk_string(struct raw_walk *w, struct sbuf *out)
{
	size_t start;

	if (!walk_ws_is(w, '"'))
		return -1;
	start = w->pos;
	for (w->pos++; w->pos < w->len; w->pos++) {
		if (w->t[w->pos] == '\\') {
			w->pos++;
		} else if (w->t[w->pos] == '"') {
			w->pos++;
			if (out)
				sbuf_add(out, w->t + start, w->pos - start);
			return 0;
		}
	}
	return -1;
}

/* A number, true, false or null: byte for byte (numbers stay exact). */
static int walk_scalar(struct raw_walk *w, struct sbuf *out)
{
	size_t start = w->pos;

	while (w->pos < w->len && strchr(",}] \t\n\r", w->t[w->pos]) == NULL)
		w->pos++;
	if (w->pos == start)
		return -1;
	if (out)
		sbuf_add(out, w->t + start, w->pos - start);
	return 0;
}

static int is_marker_key(const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hash_markers); i++) {
		if (len == strlen(hash_markers[i]) + 2 && memcmp(key + 1, hash_markers[i], len - 2) == 0)
			return 1;
	}
	return 0;
}

/*
 * An object: its members resolved, markers dropped; {"_aj_globalid": "<uri>"} (that one
 * member, a string) becomes the string.
 */
static int walk_object(struct raw_walk *w, struct sbuf *out, int depth)
{
	size_t start = out ? out->len : 0, key, klen, vstart = 0;
	int members = 0, written = 0, gid = 0;

	w->pos++; /* '{' */
	if (out)
		sbuf_addc(out, '{');
	if (walk_ws_is(w, '}')) {
		w->pos++;
		if (out)
			sbuf_addc(out, '}');
		return 0;
	}
	for (;;) {
		walk_ws_is(w, '"');
		key = w->pos;
		if (walk_string(w, NULL) < 0)
			return -1;
		klen = w->pos - key; /* quotes included, as written */
		if (!walk_ws_is(w, ':'))
			return -1;
		w->pos++;
		members++;
		gid = 0;
		if (is_marker_key(w->t + key, klen)) {
			if (walk_value(w, NULL, depth + 1) < 0)
				return -1;
		} else {
			if (out && written++)
				sbuf_addc(out, ',');
			if (out) {
				sbuf_add(out, w->t + key, klen);
				sbuf_addc(out, ':');
			}
			gid = klen == 14 && memcmp(w->t + key, "\"_aj_globalid\"", 14) == 0 &&
			      walk_ws_is(w, '"');
			vstart = out ? out->len : 0;
			if (walk_value(w, out, depth + 1) < 0)
				return -1;
		}
		if (walk_ws_is(w, ','))
			w->pos++;
		else if (walk_ws_is(w, '}'))
			break;
		else
			return -1;
	}
	w->pos++; /* '}' */
	if (out && members == 1 && gid) {
		size_t n = out->len - vstart;

		memmove(out->buf + start, out->buf + vstart, n);
		out->len = start + n;
		out->buf[out->len] = '\0';
	} else if (out) {
		sbuf_addc(out, '}');
	}
	return 0;
}

static int walk_array(struct raw_walk *w, struct sbuf *out, int depth)
{
	int n = 0;

	w->pos++; /* '[' */
	if (out)
		sbuf_addc(out, '[');
	if (walk_ws_is(w, ']')) {
		w->pos++;
		if (out)
			sbuf_addc(out, ']');
		return 0;
	}
	for (;;) {
		if (out && n++)
			sbuf_addc(out, ',');
		if (walk_value(w, out, depth + 1) < 0)
			return -1;
		if (walk_ws_is(w, ','))
			w->pos++;
		else if (walk_ws_is(w, ']'))
			break;
		else
			return -1;
	}
	w->pos++; /* ']' */
	if (out)
		sbuf_addc(out, ']');
	return 0;
}

/* Recursion is bounded: the payload passed the depth check before it got here. */
static int walk_value(struct raw_walk *w, struct sbuf *out, int depth)
{
	if (depth > PAYLOAD_MAX_DEPTH_CAP)
		return -1;
	if (walk_ws_is(w, '{'))
		return walk_object(w, out, depth);
	if (walk_ws_is(w, '['))
		return walk_array(w, out, depth);
	if (walk_ws_is(w, '"'))
		return walk_string(w, out);
	return walk_scalar(w, out);
}

int activejob_arguments_raw(const char *args, size_t len, struct sbuf *out)
{
	struct jsonraw_span job, arguments;
	struct raw_walk w;
	size_t mark;
	int n;

	n = jsonraw_elements(args, len, &job, 1);
	if (n < 1 || jsonraw_find(args + job.off, job.len, "arguments", &arguments) != 1)
		return -1;
	if (args[job.off + arguments.off] != '[')
		return -1;
	w.t = args + job.off + arguments.off;
	w.len = arguments.len;
	w.pos = 0;
	mark = out->len;
	if (walk_value(&w, out, 0) < 0) {
		out->len = mark; /* cannot happen: jsonraw checked the text */
		if (out->buf)
			out->buf[mark] = '\0';
		return -1;
	}
	return 0;
}
