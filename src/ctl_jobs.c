/*
 * ctl_jobs: the retry, schedule and dead sets for an operator.
 *
 * Reading is bounded: pages of ZREVRANGE (the order of JobSet#each, highest score first)
 * until --limit jobs matched, or, for jids, ZSCAN MATCH *<jid>* as the API's find_job.
 * Acting is per member, by its exact bytes: delete is ZREM (delete_by_value); retry and kill
 * are one Lua script each that pushes only if its ZREM removed the member, so the job is
 * moved exactly once even when a worker's poller or another operator races us. The API does
 * the same in two steps (remove_job, then push or DeadSet#kill); what lands in Redis is the
 * same.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "client.h"
#include "ctl_entry.h"
#include "ctl_jobs.h"
#include "ctl_table.h"
#include "banned.h"

#define PAGE 100
#define LIST_LIMIT 100

/* Retry now: ZREM the member, and only then SADD queues + LPUSH queue:<q> the new payload. */
static const char retry_script[] =
	"if redis.call('zrem', KEYS[1], ARGV[1]) == 1 then\n"
	"  redis.call('sadd', KEYS[2], ARGV[2])\n"
	"  redis.call('lpush', KEYS[3], ARGV[3])\n"
	"  return 1\n"
	"end\n"
	"return 0\n";

/* Kill: ZREM the member, and only then DeadSet#kill it (ZADD dead now + both trims). */
static const char kill_script[] =
	"if redis.call('zrem', KEYS[1], ARGV[1]) == 1 then\n"
	"  redis.call('zadd', KEYS[2], ARGV[2], ARGV[1])\n"
	"  redis.call('zremrangebyscore', KEYS[2], '-inf', ARGV[3])\n"
	"  redis.call('zremrangebyrank', KEYS[2], 0, ARGV[4])\n"
	"  return 1\n"
	"end\n"
	"return 0\n";

enum set_action {
	ACT_LIST,   /* show the jobs */
	ACT_RETRY,  /* push to the queue now */
	ACT_DELETE, /* remove */
	ACT_KILL,   /* move to the dead set */
};

static const char *const action_names[] = {"list", "retry", "delete", "kill"};
static const char *const action_done[] = {"listed", "retried", "deleted", "killed"};

struct set_kind {
	const char *key;     /* the sorted set */
	const char *command; /* winchctl's name for it */
	const char *when;    /* table header of the score */
	int decrement;       /* retry: retry_count - 1 (SortedEntry#retry), or not (#add_to_queue) */
	int can_kill;
	int show_error;
	int show_count;
};

static const struct set_kind retries_kind = {"retry", "retries", "NEXT RETRY", 1, 1, 1, 1};
static const struct set_kind scheduled_kind = {"schedule", "scheduled", "AT", 0, 1, 0, 0};
static const struct set_kind dead_kind = {"dead", "dead", "DIED", 1, 0, 1, 1};

/* One run of a set command. */
struct run {
	struct ctl *ctl;
	const struct set_kind *kind;
	enum set_action action;
	const char *jids[2 * CTL_MAX_WORDS];
	int n_jids;
	size_t limit;
	size_t count;              /* jobs listed or acted on */
	struct sbuf key;           /* the set's full key */
	struct ctl_table table;    /* listing, human */
	struct sbuf json_out;      /* listing or report, --json */
	struct ctl_json json;
	struct sbuf report;        /* actions, human */
};

/* ---- one entry ------------------------------------------------------------------------ */

static void list_entry(struct run *r, const struct ctl_entry *e)
{
	const char *cls = ctl_entry_display_class(e), *args;
	char when[48];
	size_t args_len;

	if (r->ctl->args->json) {
		ctl_entry_json(e, &r->json);
		return;
	}
	ctl_entry_args_text(e, &args, &args_len);
	ctl_format_when(e->score, r->ctl->now, when, sizeof(when));
	ctl_table_cell(&r->table, "%s", e->perr == PAYLOAD_OK ? e->p.jid : "-");
	ctl_table_cell(&r->table, "%s", cls ? cls : "(not a job)");
	ctl_table_cell(&r->table, "%s", e->perr == PAYLOAD_OK && e->p.queue ? e->p.queue : "");
	if (r->kind->show_count) {
		if (e->perr == PAYLOAD_OK && e->p.has_retry_count)
			ctl_table_cell(&r->table, "%d", e->p.retry_count);
		else
			ctl_table_cell(&r->table, "-");
	}
	ctl_table_cell(&r->table, "%s", when);
	if (r->kind->show_error)
		ctl_table_cell(&r->table, "%s%s%s", e->error_class ? e->error_class : "",
			       e->error_class && e->error_message ? ": " : "",
			       e->error_message ? e->error_message : "");
	ctl_table_cell(&r->table, "%.*s", (int)args_len, args);
}

/* An EVAL of script with the set's key and keys[], member then argv[] as arguments. */
static int eval_move(struct run *r, const char *script, const struct sbuf *keys, int nkeys,
		     const struct ctl_entry *e, const char *const *argv, const size_t *lens,
		     int nargs)
{
	struct client_cmd cmd;
	redisReply *rep;
	long long moved;
	int i;

	client_cmd_init(&cmd);
	client_cmd_adds(&cmd, "EVAL");
	client_cmd_adds(&cmd, script);
	client_cmd_addf(&cmd, "%d", nkeys + 1);
	client_cmd_add(&cmd, r->key.buf, r->key.len);
	for (i = 0; i < nkeys; i++)
		client_cmd_add(&cmd, keys[i].buf, keys[i].len);
	client_cmd_add(&cmd, e->p.raw, e->p.raw_len);
	for (i = 0; i < nargs; i++)
		client_cmd_add(&cmd, argv[i], lens[i]);
	rep = client_command(r->ctl->client, &cmd);
	client_cmd_release(&cmd);
	if (rep == NULL)
		return -1;
	moved = client_reply_ll(rep);
	client_reply_free(rep);
	return moved == 1;
}

/* retry: 1 moved, 0 gone meanwhile or not a job, -1 Redis failed. */
static int retry_entry(struct run *r, const struct ctl_entry *e)
{
	struct winch_client *c = r->ctl->client;
	struct sbuf keys[2], payload;
	const char *queue = NULL, *argv[2];
	size_t lens[2];
	int rc;

	sbuf_init(&payload);
	if (ctl_entry_requeue(e, time_real(), client_gen(c), r->kind->decrement, &payload,
			      &queue) < 0) {
		sbuf_release(&payload);
		ctl_fail(r->ctl, 0, "%s: a member that is not a job cannot be retried (delete it)",
			 r->kind->command);
		return 0;
	}
	sbuf_init(&keys[0]);
	sbuf_init(&keys[1]);
	client_key(c, &keys[0], "queues");
	client_key_queue(c, &keys[1], queue);
	argv[0] = queue;
	lens[0] = strlen(queue);
	argv[1] = payload.buf;
	lens[1] = payload.len;
	rc = eval_move(r, retry_script, keys, 2, e, argv, lens, 2);
	sbuf_release(&keys[0]);
	sbuf_release(&keys[1]);
	sbuf_release(&payload);
	return rc;
}

static int kill_entry(struct run *r, const struct ctl_entry *e)
{
	const struct ctl_args *a = r->ctl->args;
	struct sbuf keys[1], now, cutoff, rank;
	const char *argv[3];
	size_t lens[3];
	double t = time_real();
	int rc;

	sbuf_init(&keys[0]);
	sbuf_init(&now);
	sbuf_init(&cutoff);
	sbuf_init(&rank);
	client_key(r->ctl->client, &keys[0], "dead");
	ts_append_seconds(&now, t);
	ts_append_seconds(&cutoff, t - (double)a->dead_timeout);
	sbuf_addf(&rank, "-%ld", a->dead_max_jobs);
	argv[0] = now.buf;
	lens[0] = now.len;
	argv[1] = cutoff.buf;
	lens[1] = cutoff.len;
	argv[2] = rank.buf;
	lens[2] = rank.len;
	rc = eval_move(r, kill_script, keys, 1, e, argv, lens, 3);
	sbuf_release(&keys[0]);
	sbuf_release(&now);
	sbuf_release(&cutoff);
	sbuf_release(&rank);
	return rc;
}

static int delete_entry(struct run *r, const struct ctl_entry *e)
{
	struct client_cmd cmd;
	redisReply *rep;
	long long n;

	client_cmd_init(&cmd);
	client_cmd_adds(&cmd, "ZREM");
	client_cmd_add(&cmd, r->key.buf, r->key.len);
	client_cmd_add(&cmd, e->p.raw, e->p.raw_len);
	rep = client_command(r->ctl->client, &cmd);
	client_cmd_release(&cmd);
	if (rep == NULL)
		return -1;
	n = client_reply_ll(rep);
	client_reply_free(rep);
	return n == 1;
}

static void report_entry(struct run *r, const struct ctl_entry *e)
{
	const char *jid = e->perr == PAYLOAD_OK ? e->p.jid : NULL;
	const char *cls = ctl_entry_display_class(e);

	if (r->ctl->args->json) {
		ctl_json_string(&r->json, NULL, jid);
		return;
	}
	sbuf_addf(&r->report, "%s %s %s", action_done[r->action], jid ? jid : "-",
		  cls ? cls : "(not a job)");
	if (r->action == ACT_RETRY)
		sbuf_addf(&r->report, " -> queue %s", e->p.queue ? e->p.queue : "default");
	sbuf_addc(&r->report, '\n');
}

/* Visit one member: 1 if it counted (listed or acted on), 0 if not, -1 if Redis failed. */
static int visit(struct run *r, const struct ctl_entry *e)
{
	const struct ctl_args *a = r->ctl->args;
	int rc;

	if (!ctl_entry_matches(e, a->klass, r->jids, r->n_jids))
		return 0;
	switch (r->action) {
	case ACT_LIST:
		list_entry(r, e);
		return 1;
	case ACT_RETRY:
		rc = retry_entry(r, e);
		break;
	case ACT_KILL:
		rc = kill_entry(r, e);
		break;
	default:
		rc = delete_entry(r, e);
		break;
	}
	if (rc == 1)
		report_entry(r, e);
	return rc;
}

/* ---- walking the set ------------------------------------------------------------------ */

/* Visit the members of a ZREVRANGE/ZSCAN pair list [member, score, ...]. *removed counts
 * the members that left the set. */
static int visit_pairs(struct run *r, const redisReply *pairs, size_t *removed)
{
	struct ctl_entry e;
	size_t i;
	int rc = 0, v;

	ctl_entry_init(&e);
	for (i = 0; i + 1 < pairs->elements && r->count < r->limit; i += 2) {
		const redisReply *m = pairs->element[i], *s = pairs->element[i + 1];

		if (m->type != REDIS_REPLY_STRING)
			continue;
		ctl_entry_set(&e, m->str, m->len, client_reply_double(s));
		v = visit(r, &e);
		if (v < 0) {
			rc = -1;
			break;
		}
		r->count += (size_t)v;
		if (v == 1 && r->action != ACT_LIST)
			(*removed)++;
	}
	ctl_entry_release(&e);
	return rc;
}

/* Page through the set, highest score first, as JobSet#each. */
static int walk_pages(struct run *r)
{
	struct client_cmd cmd;
	redisReply *rep;
	long start = 0;
	size_t removed, n;
	int rc = 0;

	while (rc == 0 && r->count < r->limit) {
		client_cmd_init(&cmd);
		client_cmd_adds(&cmd, "ZREVRANGE");
		client_cmd_add(&cmd, r->key.buf, r->key.len);
		client_cmd_addf(&cmd, "%ld", start);
		client_cmd_addf(&cmd, "%ld", start + PAGE - 1);
		client_cmd_adds(&cmd, "WITHSCORES");
		rep = client_command(r->ctl->client, &cmd);
		client_cmd_release(&cmd);
		if (rep == NULL)
			return -1;
		n = rep->type == REDIS_REPLY_ARRAY ? rep->elements / 2 : 0;
		removed = 0;
		if (n > 0)
			rc = visit_pairs(r, rep, &removed);
		client_reply_free(rep);
		if (n < PAGE)
			break;
		/* What we removed shifted the rest of the set up by as many places. */
		start += (long)(n - removed);
	}
	return rc;
}

/* One jid: ZSCAN MATCH *jid*, as SortedSet#find_job. */
static int walk_jid(struct run *r, const char *jid)
{
	struct client_cmd cmd;
	struct sbuf pattern;
	redisReply *rep;
	char cursor[32] = "0";
	size_t removed = 0;
	int rc = 0;

	sbuf_init(&pattern);
	ctl_entry_jid_pattern(&pattern, jid);
	do {
		client_cmd_init(&cmd);
		client_cmd_adds(&cmd, "ZSCAN");
		client_cmd_add(&cmd, r->key.buf, r->key.len);
		client_cmd_adds(&cmd, cursor);
		client_cmd_adds(&cmd, "MATCH");
		client_cmd_add(&cmd, pattern.buf, pattern.len);
		client_cmd_adds(&cmd, "COUNT");
		client_cmd_addf(&cmd, "%d", PAGE);
		rep = client_command(r->ctl->client, &cmd);
		client_cmd_release(&cmd);
		if (rep == NULL) {
			rc = -1;
			break;
		}
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
		    rep->element[0]->type == REDIS_REPLY_STRING &&
		    rep->element[1]->type == REDIS_REPLY_ARRAY) {
			snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
			rc = visit_pairs(r, rep->element[1], &removed);
		} else {
			snprintf(cursor, sizeof(cursor), "0");
		}
		client_reply_free(rep);
	} while (rc == 0 && strcmp(cursor, "0") != 0 && r->count < r->limit);
	sbuf_release(&pattern);
	return rc;
}

/* ---- the command ---------------------------------------------------------------------- */

/* Read ACTION and JIDs from the words and flags into r; an exit code, or -1 to go on. */
static int read_words(struct run *r)
{
	const struct ctl_args *a = r->ctl->args;
	int i, w = 0;

	r->action = ACT_LIST;
	if (a->n_words > 0) {
		for (i = 1; i < (int)ARRAY_SIZE(action_names); i++) {
			if (strcmp(a->words[0], action_names[i]) == 0)
				r->action = (enum set_action)i;
		}
		if (r->action == ACT_LIST && strcmp(a->words[0], "list") != 0)
			return ctl_fail(r->ctl, CTL_EXIT_USAGE,
					"%s: '%s': not an action (retry, delete, kill)",
					r->kind->command, a->words[0]);
		w = 1;
	}
	if (r->action == ACT_KILL && !r->kind->can_kill)
		return ctl_fail(r->ctl, CTL_EXIT_USAGE, "%s: kill: the job is dead already",
				r->kind->command);
	for (i = 0; i < a->n_jids; i++)
		r->jids[r->n_jids++] = a->jids[i];
	for (i = w; i < a->n_words; i++)
		r->jids[r->n_jids++] = a->words[i];
	if (r->action != ACT_LIST && r->n_jids == 0 && a->klass == NULL && !a->all)
		return ctl_fail(r->ctl, CTL_EXIT_USAGE,
				"%s %s: a JID, --jid, --class or --all is needed", r->kind->command,
				action_names[r->action]);
	if (a->limit > 0)
		r->limit = (size_t)a->limit;
	else
		r->limit = r->action == ACT_LIST ? LIST_LIMIT : (size_t)-1;
	return -1;
}

static void run_begin_output(struct run *r)
{
	static const char *const headers[] = {"JID", "CLASS", "QUEUE", ">RETRY", "WHEN", "ERROR",
					      "ARGS"};
	const char *h[ARRAY_SIZE(headers)];
	int n = 0;

	sbuf_init(&r->json_out);
	sbuf_init(&r->report);
	ctl_json_init(&r->json, &r->json_out);
	if (r->action != ACT_LIST) {
		ctl_json_begin_object(&r->json, NULL);
		ctl_json_string(&r->json, "action", action_names[r->action]);
		ctl_json_begin_array(&r->json, "jids");
	} else {
		ctl_json_begin_array(&r->json, NULL);
	}
	h[n++] = headers[0];
	h[n++] = headers[1];
	h[n++] = headers[2];
	if (r->kind->show_count)
		h[n++] = headers[3];
	h[n++] = r->kind->when;
	if (r->kind->show_error)
		h[n++] = headers[5];
	h[n++] = headers[6];
	ctl_table_init(&r->table, h, n);
}

static void run_end_output(struct run *r)
{
	struct sbuf text;

	if (r->ctl->args->json) {
		ctl_json_end_array(&r->json);
		if (r->action != ACT_LIST)
			ctl_json_end_object(&r->json);
		sbuf_addc(&r->json_out, '\n');
		ctl_print(r->ctl, &r->json_out, 0);
	} else if (r->action == ACT_LIST) {
		sbuf_init(&text);
		ctl_table_render(&r->table, &text);
		ctl_print(r->ctl, &text, 0);
		sbuf_release(&text);
	} else {
		ctl_print(r->ctl, &r->report, 0);
	}
}

static int run_set(struct ctl *ctl, const struct set_kind *kind)
{
	const struct ctl_args *a = ctl->args;
	struct run r;
	int i, rc;

	memset(&r, 0, sizeof(r));
	r.ctl = ctl;
	r.kind = kind;
	rc = read_words(&r);
	if (rc >= 0)
		return rc;
	sbuf_init(&r.key);
	client_key(ctl->client, &r.key, kind->key);
	run_begin_output(&r);
	rc = 0;
	if (r.n_jids > 0) {
		for (i = 0; i < r.n_jids && rc == 0 && r.count < r.limit; i++)
			rc = walk_jid(&r, r.jids[i]);
	} else {
		rc = walk_pages(&r);
	}
	run_end_output(&r);
	if (rc < 0)
		rc = ctl_client_failed(ctl);
	else if (r.count == 0 && (r.action != ACT_LIST || r.n_jids > 0 || a->klass))
		rc = ctl_fail(ctl, CTL_EXIT_NOT_FOUND, "%s: no job matched", kind->command);
	else
		rc = CTL_EXIT_OK;
	ctl_table_release(&r.table);
	sbuf_release(&r.json_out);
	sbuf_release(&r.report);
	sbuf_release(&r.key);
	return rc;
}

int ctl_jobs_retries(struct ctl *ctl)
{
	return run_set(ctl, &retries_kind);
}

int ctl_jobs_scheduled(struct ctl *ctl)
{
	return run_set(ctl, &scheduled_kind);
}

int ctl_jobs_dead(struct ctl *ctl)
{
	return run_set(ctl, &dead_kind);
}
