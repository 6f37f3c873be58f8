/*
 * ctl_procs: the processes as Sidekiq 6.4.1's ProcessSet#each reads them (SSCAN processes,
 * sorted, one HMGET per member in a pipeline, members without `info` skipped), and the
 * signals the Web UI's Quiet and Stop buttons send.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json.h>

#include "client.h"
#include "ctl_procs.h"
#include "ctl_table.h"
#include "jsonraw.h"
#include "banned.h"

#define MAX_PROCESSES 100000
/* Nesting allowed in an `info` JSON. */
#define INFO_MAX_DEPTH 32

/* One process: its hash fields, owned. */
struct proc {
	char *info;              /* the info JSON text */
	size_t info_len;
	struct json_object *obj; /* info parsed (owned), or NULL */
	long long busy;
	double beat;
	char *quiet;             /* the string, or NULL */
	long long rss;
	long long rtt_us;
	long long concurrency;   /* the 8.1.2+ hash field, or -1 when absent */
};

struct procs {
	struct proc *v;
	size_t n;
};

static void procs_release(struct procs *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++) {
		free(ps->v[i].info);
		free(ps->v[i].quiet);
		if (ps->v[i].obj)
			json_object_put(ps->v[i].obj);
	}
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

static struct json_object *parse_info(const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (jsonraw_validate(text, len, INFO_MAX_DEPTH, NULL, 0) < 0)
		return NULL;
	tok = json_tokener_new_ex(INFO_MAX_DEPTH + 1);
	if (tok == NULL)
		return NULL;
	obj = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (obj && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

static const char *info_string(const struct proc *p, const char *key)
{
	struct json_object *v;

	if (p->obj == NULL || !json_object_object_get_ex(p->obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static long long info_int(const struct proc *p, const char *key)
{
	struct json_object *v;

	if (p->obj == NULL || !json_object_object_get_ex(p->obj, key, &v))
		return 0;
	return json_object_get_int64(v);
}

/* An HMGET field as an owned string, or NULL for nil. */
static char *field_dup(const redisReply *r)
{
	if (r->type != REDIS_REPLY_STRING)
		return NULL;
	return xstrndup(r->str, r->len);
}

/* Keep one HMGET reply (info busy beat quiet rss rtt_us concurrency) if it has an info. */
static void keep_proc(struct procs *ps, const redisReply *r)
{
	struct proc *p;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 7 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return; /* gone between SSCAN and HMGET, or pruned: skipped as the API does */
	p = &ps->v[ps->n++];
	memset(p, 0, sizeof(*p));
	p->info = xstrndup(r->element[0]->str, r->element[0]->len);
	p->info_len = r->element[0]->len;
	p->obj = parse_info(p->info, p->info_len);
	p->busy = client_reply_ll(r->element[1]);
	p->beat = client_reply_double(r->element[2]);
	p->quiet = field_dup(r->element[3]);
	p->rss = client_reply_ll(r->element[4]);
	p->rtt_us = client_reply_ll(r->element[5]);
	p->concurrency = r->element[6]->type == REDIS_REPLY_STRING
				 ? client_reply_ll(r->element[6])
				 : -1;
}

/* Every live process, in the order ProcessSet#each gives them. */
static int procs_read(struct ctl *ctl, struct procs *ps)
{
	static const char *const fields[] = {"info", "busy", "beat", "quiet", "rss", "rtt_us",
					     "concurrency"};
	struct winch_client *c = ctl->client;
	struct client_strings ids;
	struct client_cmd cmd;
	struct sbuf key;
	redisReply *r;
	size_t i, k;
	int rc = -1, sent;

	client_strings_init(&ids);
	sbuf_init(&key);
	if (client_sscan(c, "processes", &ids, MAX_PROCESSES) < 0 || client_begin(c) < 0)
		goto out;
	client_strings_sort(&ids);
	for (i = 0; i < ids.n; i++) {
		sbuf_reset(&key);
		client_key(c, &key, ids.v[i]);
		client_cmd_init(&cmd);
		client_cmd_adds(&cmd, "HMGET");
		client_cmd_add(&cmd, key.buf, key.len);
		for (k = 0; k < ARRAY_SIZE(fields); k++)
			client_cmd_adds(&cmd, fields[k]);
		sent = client_append(c, &cmd);
		client_cmd_release(&cmd);
		if (sent < 0)
			goto out;
	}
	ps->v = xcalloc(ids.n + 1, sizeof(*ps->v));
	for (i = 0; i < ids.n; i++) {
		r = client_read(c);
		if (r == NULL || client_reply_check(c, r) < 0) {
			client_reply_free(r);
			goto out;
		}
		keep_proc(ps, r);
		client_reply_free(r);
	}
	rc = 0;
out:
	sbuf_release(&key);
	client_strings_release(&ids);
	return rc;
}

/* Process#[] as the API builds it: info merged with busy, beat, quiet, rss, rtt_us. */
static void proc_json(const struct proc *p, struct ctl_json *j)
{
	struct jsonraw_edit e[6];
	struct sbuf busy, beat, quiet, rss, rtt, conc, merged;
	size_t n = 0;

	sbuf_init(&busy);
	sbuf_init(&beat);
	sbuf_init(&quiet);
	sbuf_init(&rss);
	sbuf_init(&rtt);
	sbuf_init(&conc);
	sbuf_init(&merged);
	sbuf_addf(&busy, "%lld", p->busy);
	ts_append_seconds(&beat, p->beat);
	if (p->quiet)
		sbuf_add_json_string(&quiet, p->quiet, strlen(p->quiet));
	else
		sbuf_adds(&quiet, "null");
	sbuf_addf(&rss, "%lld", p->rss);
	sbuf_addf(&rtt, "%lld", p->rtt_us);
	e[n++] = (struct jsonraw_edit){"busy", busy.buf, busy.len};
	e[n++] = (struct jsonraw_edit){"beat", beat.buf, beat.len};
	e[n++] = (struct jsonraw_edit){"quiet", quiet.buf, quiet.len};
	e[n++] = (struct jsonraw_edit){"rss", rss.buf, rss.len};
	e[n++] = (struct jsonraw_edit){"rtt_us", rtt.buf, rtt.len};
	if (p->concurrency >= 0) {
		/* Sidekiq 8.1.2+ keeps concurrency in its own field, over info's. */
		sbuf_addf(&conc, "%lld", p->concurrency);
		e[n++] = (struct jsonraw_edit){"concurrency", conc.buf, conc.len};
	}
	if (p->obj && jsonraw_rewrite(p->info, p->info_len, e, n, &merged) == 0)
		ctl_json_raw(j, NULL, merged.buf, merged.len);
	else
		ctl_json_null(j, NULL);
	sbuf_release(&busy);
	sbuf_release(&beat);
	sbuf_release(&quiet);
	sbuf_release(&rss);
	sbuf_release(&rtt);
	sbuf_release(&conc);
	sbuf_release(&merged);
}

/* info's labels, comma-separated, into out. */
static void labels_text(const struct proc *p, struct sbuf *out)
{
	struct json_object *v;
	size_t i, n;

	if (p->obj == NULL || !json_object_object_get_ex(p->obj, "labels", &v) ||
	    !json_object_is_type(v, json_type_array))
		return;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		if (i > 0)
			sbuf_addc(out, ',');
		sbuf_adds(out, json_object_get_string(json_object_array_get_idx(v, i)));
	}
}

static void proc_row(struct ctl *ctl, const struct proc *p, struct ctl_table *t)
{
	struct sbuf labels;
	char rss[32], beat[32];
	long long conc = p->concurrency >= 0 ? p->concurrency : info_int(p, "concurrency");

	sbuf_init(&labels);
	labels_text(p, &labels);
	ctl_format_kb((long)p->rss, rss, sizeof(rss));
	ctl_format_when(p->beat, ctl->now, beat, sizeof(beat));
	ctl_table_cell(t, "%s", info_string(p, "hostname") ? info_string(p, "hostname") : "?");
	ctl_table_cell(t, "%lld", info_int(p, "pid"));
	ctl_table_cell(t, "%s", info_string(p, "tag") ? info_string(p, "tag") : "");
	ctl_table_cell(t, "%s", sbuf_str(&labels));
	ctl_table_cell(t, "%lld/%lld", p->busy, conc);
	ctl_table_cell(t, "%s", p->quiet && strcmp(p->quiet, "true") == 0 ? "yes" : "no");
	ctl_table_cell(t, "%s", rss);
	ctl_table_cell(t, "%s", beat);
	ctl_table_cell(t, "%s", info_string(p, "identity") ? info_string(p, "identity") : "?");
	sbuf_release(&labels);
}

int ctl_procs_list(struct ctl *ctl)
{
	static const char *const headers[] = {"HOST", ">PID", "TAG", "LABELS", ">BUSY", "QUIET",
					      ">RSS", "BEAT", "IDENTITY"};
	struct procs ps;
	struct ctl_table t;
	struct ctl_json j;
	struct sbuf sb;
	size_t i;

	if (ctl->args->n_words > 0)
		return ctl_fail(ctl, CTL_EXIT_USAGE, "processes: '%s': unexpected word",
				ctl->args->words[0]);
	memset(&ps, 0, sizeof(ps));
	if (procs_read(ctl, &ps) < 0) {
		procs_release(&ps);
		return ctl_client_failed(ctl);
	}
	sbuf_init(&sb);
	if (ctl->args->json) {
		ctl_json_init(&j, &sb);
		ctl_json_begin_array(&j, NULL);
		for (i = 0; i < ps.n; i++)
			proc_json(&ps.v[i], &j);
		ctl_json_end_array(&j);
		sbuf_addc(&sb, '\n');
	} else {
		ctl_table_init(&t, headers, (int)ARRAY_SIZE(headers));
		for (i = 0; i < ps.n; i++)
			proc_row(ctl, &ps.v[i], &t);
		ctl_table_render(&t, &sb);
		ctl_table_release(&t);
	}
	ctl_print(ctl, &sb, 0);
	sbuf_release(&sb);
	procs_release(&ps);
	return CTL_EXIT_OK;
}

/* Process#signal: LPUSH <identity>-signals sig, EXPIRE 60, in one MULTI. */
static int send_signal(struct ctl *ctl, const char *identity, const char *sig)
{
	struct winch_client *c = ctl->client;
	struct client_cmd cmd[4];
	struct sbuf key;
	redisReply *r;
	int i, rc = 0;

	sbuf_init(&key);
	client_key(c, &key, identity);
	sbuf_adds(&key, "-signals");
	for (i = 0; i < 4; i++)
		client_cmd_init(&cmd[i]);
	client_cmd_adds(&cmd[0], "MULTI");
	client_cmd_adds(&cmd[1], "LPUSH");
	client_cmd_add(&cmd[1], key.buf, key.len);
	client_cmd_adds(&cmd[1], sig);
	client_cmd_adds(&cmd[2], "EXPIRE");
	client_cmd_add(&cmd[2], key.buf, key.len);
	client_cmd_adds(&cmd[2], "60");
	client_cmd_adds(&cmd[3], "EXEC");
	if (client_begin(c) < 0)
		rc = -1;
	for (i = 0; i < 4 && rc == 0; i++)
		rc = client_append(c, &cmd[i]);
	for (i = 0; i < 4 && rc == 0; i++) {
		r = client_read(c);
		if (client_reply_check(c, r) < 0)
			rc = -1;
		else if (i == 3 && r->type != REDIS_REPLY_ARRAY)
			rc = client_fail(c, WINCH_CLIENT_EREDIS, "EXEC for '%s' was aborted",
					 identity);
		client_reply_free(r);
	}
	for (i = 0; i < 4; i++)
		client_cmd_release(&cmd[i]);
	sbuf_release(&key);
	return rc;
}

/* Is this process one of the words (by its identity)? */
static int is_target(const struct ctl_args *a, const char *identity, unsigned char *used)
{
	int i, hit = 0;

	for (i = 0; i < a->n_words; i++) {
		if (strcmp(a->words[i], identity) == 0) {
			used[i] = 1;
			hit = 1;
		}
	}
	return hit;
}

static void signal_report(struct ctl *ctl, const char *sig, const struct client_strings *done)
{
	struct ctl_json j;
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb);
	if (ctl->args->json) {
		ctl_json_init(&j, &sb);
		ctl_json_begin_object(&j, NULL);
		ctl_json_string(&j, "signal", sig);
		ctl_json_begin_array(&j, "identities");
		for (i = 0; i < done->n; i++)
			ctl_json_string(&j, NULL, done->v[i]);
		ctl_json_end_array(&j);
		ctl_json_end_object(&j);
		sbuf_addc(&sb, '\n');
	} else {
		for (i = 0; i < done->n; i++)
			sbuf_addf(&sb, "%s sent to %s\n", sig, done->v[i]);
	}
	ctl_print(ctl, &sb, 0);
	sbuf_release(&sb);
}

static int signal_procs(struct ctl *ctl, const char *sig)
{
	const struct ctl_args *a = ctl->args;
	unsigned char used[CTL_MAX_WORDS];
	struct client_strings done;
	struct procs ps;
	const char *id;
	size_t i;
	int rc = CTL_EXIT_OK, k;

	if (a->n_words == 0 && !a->all)
		return ctl_fail(ctl, CTL_EXIT_USAGE, "%s: IDENTITY or --all is needed",
				a->command);
	if (a->n_words > 0 && a->all)
		return ctl_fail(ctl, CTL_EXIT_USAGE, "--all: cannot be given with identities");
	memset(&ps, 0, sizeof(ps));
	memset(used, 0, sizeof(used));
	client_strings_init(&done);
	if (procs_read(ctl, &ps) < 0) {
		rc = ctl_client_failed(ctl);
		goto out;
	}
	for (i = 0; i < ps.n; i++) {
		id = info_string(&ps.v[i], "identity");
		if (id == NULL || (!a->all && !is_target(a, id, used)))
			continue;
		if (ps.v[i].obj && json_object_get_boolean(json_object_object_get(ps.v[i].obj,
										"embedded"))) {
			/* Sidekiq 7.0.3+ refuses to signal an embedded process. */
			ctl_fail(ctl, 0, "'%s' is embedded in its app: not signalled", id);
			continue;
		}
		if (send_signal(ctl, id, sig) < 0) {
			rc = ctl_client_failed(ctl);
			break;
		}
		client_strings_add(&done, id, strlen(id));
	}
	signal_report(ctl, sig, &done);
	for (k = 0; k < a->n_words && rc != CTL_EXIT_REDIS; k++) {
		if (!used[k])
			rc = ctl_fail(ctl, CTL_EXIT_NOT_FOUND, "no process '%s'", a->words[k]);
	}
	if (rc == CTL_EXIT_OK && done.n == 0)
		rc = ctl_fail(ctl, CTL_EXIT_NOT_FOUND, "no process was signalled");
out:
	client_strings_release(&done);
	procs_release(&ps);
	return rc;
}

int ctl_procs_quiet(struct ctl *ctl)
{
	return signal_procs(ctl, "TSTP");
}

int ctl_procs_stop(struct ctl *ctl)
{
	return signal_procs(ctl, "TERM");
}
