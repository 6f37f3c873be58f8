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

static int raw_is(const char *text, const struct jsonraw_span *s, const char *quoted)
{
	size_t n = strlen(quoted);

	return s->len == n && memcmp(text + s->off, quoted, n) == 0;
}

static int resolve_raw_value(const char *text, size_t len, struct sbuf *out, int depth);

static int resolve_raw_object(const char *text, size_t len, struct sbuf *out, int depth)
{
	struct jsonraw_member *m;
	int n, i, rc = 0, first = 1;

	n = jsonraw_members(text, len, NULL, 0);
	if (n < 0)
		return -1;
	m = xcalloc((size_t)n + 1, sizeof(*m));
	jsonraw_members(text, len, m, n);
	if (n == 1 && raw_is(text, &m[0].key, "\"_aj_globalid\"") && text[m[0].value.off] == '"') {
		sbuf_add(out, text + m[0].value.off, m[0].value.len);
		free(m);
		return 0;
	}
	sbuf_addc(out, '{');
	for (i = 0; i < n && rc == 0; i++) {
		if (raw_is(text, &m[i].key, "\"_aj_symbol_keys\"") ||
		    raw_is(text, &m[i].key, "\"_aj_ruby2_keywords\"") ||
		    raw_is(text, &m[i].key, "\"_aj_hash_with_indifferent_access\""))
			continue;
		if (!first)
			sbuf_addc(out, ',');
		first = 0;
		sbuf_add(out, text + m[i].key.off, m[i].key.len);
		sbuf_addc(out, ':');
		rc = resolve_raw_value(text + m[i].value.off, m[i].value.len, out, depth + 1);
	}
	sbuf_addc(out, '}');
	free(m);
	return rc;
}

static int resolve_raw_array(const char *text, size_t len, struct sbuf *out, int depth)
{
	struct jsonraw_span *el;
	int n, i, rc = 0;

	n = jsonraw_elements(text, len, NULL, 0);
	if (n < 0)
		return -1;
	el = xcalloc((size_t)n + 1, sizeof(*el));
	jsonraw_elements(text, len, el, n);
	sbuf_addc(out, '[');
	for (i = 0; i < n && rc == 0; i++) {
		if (i)
			sbuf_addc(out, ',');
		rc = resolve_raw_value(text + el[i].off, el[i].len, out, depth + 1);
	}
	sbuf_addc(out, ']');
	free(el);
	return rc;
}

/* Recursion is bounded: the payload passed the depth check before it got here. */
static int resolve_raw_value(const char *text, size_t len, struct sbuf *out, int depth)
{
	size_t i = 0;

	if (depth > PAYLOAD_MAX_DEPTH_CAP)
		return -1;
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
		i++;
	if (i < len && text[i] == '{')
		return resolve_raw_object(text, len, out, depth);
	if (i < len && text[i] == '[')
		return resolve_raw_array(text, len, out, depth);
	sbuf_add(out, text, len); /* scalars byte for byte: numbers stay exact */
	return 0;
}

int activejob_arguments_raw(const char *args, size_t len, struct sbuf *out)
{
	struct jsonraw_span job, arguments;
	int n;

	n = jsonraw_elements(args, len, &job, 1);
	if (n < 1 || jsonraw_find(args + job.off, job.len, "arguments", &arguments) != 1)
		return -1;
	if (args[job.off + arguments.off] != '[')
		return -1;
	return resolve_raw_value(args + job.off + arguments.off, arguments.len, out, 0);
}
