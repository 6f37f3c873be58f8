/* ctl_entry: a retry/schedule/dead member as Sidekiq's SortedEntry reads, filters and re-pushes it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "ctl_entry.h"
#include "jsonraw.h"
#include "banned.h"

void ctl_entry_init(struct ctl_entry *e)
{
	memset(e, 0, sizeof(*e));
	payload_init(&e->p);
	e->perr = PAYLOAD_NOT_JSON;
}

void ctl_entry_release(struct ctl_entry *e)
{
	payload_release(&e->p);
	ctl_entry_init(e);
}

/* A string member of the job, or NULL. */
static const char *string_of(const struct ctl_entry *e, const char *key)
{
	struct json_object *v = NULL;

	if (e->p.root == NULL || !json_object_object_get_ex(e->p.root, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

void ctl_entry_set(struct ctl_entry *e, const char *member, size_t len, double score)
{
	char err[128];

	ctl_entry_release(e);
	e->score = score;
	e->perr = payload_parse(&e->p, member, len, NULL, err, sizeof(err));
	if (e->p.raw == NULL) {
		/* payload_parse keeps raw on every error; this is only belt and braces. */
		e->p.raw = xstrndup(member, len);
		e->p.raw_len = len;
	}
	e->raw_is_json =
		jsonraw_validate(e->p.raw, e->p.raw_len, PAYLOAD_MAX_DEPTH_CAP, NULL, 0) == 0;
	e->error_class = string_of(e, "error_class");
	e->error_message = string_of(e, "error_message");
}

const char *ctl_entry_display_class(const struct ctl_entry *e)
{
	if (e->perr != PAYLOAD_OK)
		return NULL;
	return e->p.wrapped ? e->p.wrapped : e->p.klass;
}

int ctl_entry_matches(const struct ctl_entry *e, const char *klass, const char *const *jids,
		      int n_jids)
{
	int i;

	if (klass == NULL && n_jids == 0)
		return 1;
	if (e->perr != PAYLOAD_OK)
		return 0;
	if (klass && strcmp(e->p.klass, klass) != 0 &&
	    (e->p.wrapped == NULL || strcmp(e->p.wrapped, klass) != 0))
		return 0;
	if (n_jids == 0)
		return 1;
	for (i = 0; i < n_jids; i++) {
		if (strcmp(e->p.jid, jids[i]) == 0)
			return 1;
	}
	return 0;
}

void ctl_entry_jid_pattern(struct sbuf *out, const char *jid)
{
	sbuf_addc(out, '*');
	for (; *jid; jid++) {
		if (strchr("*?[]\\", *jid))
			sbuf_addc(out, '\\');
		sbuf_addc(out, *jid);
	}
	sbuf_addc(out, '*');
}

/* An edit whose value is built into buf (which must outlive the rewrite). */
static void edit_value(struct jsonraw_edit *ed, const char *key, const struct sbuf *buf)
{
	ed->key = key;
	ed->value = buf->buf;
	ed->value_len = buf->len;
}

int ctl_entry_requeue(const struct ctl_entry *e, double now, enum sidekiq_gen gen,
		      int decrement, struct sbuf *out, const char **queue)
{
	struct jsonraw_edit edits[6];
	struct jsonraw_span span;
	struct sbuf ts, count;
	char *text;
	long n;
	size_t k = 0;
	int rc;

	if (e->perr != PAYLOAD_OK)
		return -1;
	sbuf_init(&ts);
	sbuf_init(&count);
	ts_append_payload(&ts, now, gen);
	memset(edits, 0, sizeof(edits));
	edits[k++].key = "at"; /* value NULL: removed */
	edit_value(&edits[k++], "enqueued_at", &ts);
	if (decrement && jsonraw_find(e->p.raw, e->p.raw_len, "retry_count", &span) == 1) {
		text = xstrndup(e->p.raw + span.off, span.len);
		if (parse_long(text, -1000000000L, 1000000000L, &n) == 0) {
			sbuf_addf(&count, "%ld", n - 1);
			edit_value(&edits[k++], "retry_count", &count);
		}
		free(text);
	}
	/* Client.push merges its defaults under the payload's own members. */
	if (jsonraw_find(e->p.raw, e->p.raw_len, "retry", NULL) != 1) {
		edits[k].key = "retry";
		edits[k].value = "true";
		edits[k++].value_len = 4;
	}
	if (jsonraw_find(e->p.raw, e->p.raw_len, "queue", NULL) != 1) {
		edits[k].key = "queue";
		edits[k].value = "\"default\"";
		edits[k++].value_len = 9;
	}
	if (jsonraw_find(e->p.raw, e->p.raw_len, "created_at", NULL) != 1)
		edit_value(&edits[k++], "created_at", &ts);
	rc = jsonraw_rewrite(e->p.raw, e->p.raw_len, edits, k, out);
	sbuf_release(&ts);
	sbuf_release(&count);
	if (rc == 0)
		*queue = e->p.queue ? e->p.queue : "default";
	return rc;
}

void ctl_entry_json(const struct ctl_entry *e, struct ctl_json *j)
{
	int job = e->perr == PAYLOAD_OK;

	ctl_json_begin_object(j, NULL);
	ctl_json_double(j, "score", e->score);
	ctl_json_string(j, "jid", job ? e->p.jid : NULL);
	ctl_json_string(j, "class", job ? e->p.klass : NULL);
	ctl_json_string(j, "display_class", ctl_entry_display_class(e));
	ctl_json_string(j, "queue", job ? e->p.queue : NULL);
	if (job && e->p.has_retry_count)
		ctl_json_int(j, "retry_count", e->p.retry_count);
	else
		ctl_json_null(j, "retry_count");
	ctl_json_string(j, "error_class", e->error_class);
	ctl_json_string(j, "error_message", e->error_message);
	if (e->raw_is_json) {
		ctl_json_raw(j, "item", e->p.raw, e->p.raw_len);
	} else {
		ctl_json_null(j, "item");
		ctl_json_stringn(j, "value", e->p.raw, e->p.raw_len);
	}
	ctl_json_end_object(j);
}

void ctl_entry_args_text(const struct ctl_entry *e, const char **text, size_t *len)
{
	if (e->perr == PAYLOAD_OK) {
		*text = e->p.raw + e->p.args_raw.off;
		*len = e->p.args_raw.len;
	} else {
		*text = e->p.raw;
		*len = e->p.raw_len;
	}
}
