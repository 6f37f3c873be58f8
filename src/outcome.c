/*
 * outcome: how each job's end reaches Redis: retries (ZADD retry), deaths (ZADD dead plus
 * Sidekiq's trims), requeues (RPUSH, original bytes) and pushes from handlers (SADD queues,
 * LPUSH). Every such write is RCONN_PERSIST: made after a reconnect rather than dropped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "job.h"
#include "keys.h"
#include "log.h"
#include "outcome.h"
#include "rconn.h"
#include "retry.h"
#include "banned.h"

struct write_ctx {
	struct engine *e;
	const char *what;
};

static void on_write(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct write_ctx *w = priv;
	const char *what = w->what;
	struct engine *e = w->e;

	(void)rc;
	free(w);
	e->outcome_pending--;
	if (r == NULL)
		log_error("redis write (%s) failed: connection stopped", what);
	else if (r->type == REDIS_REPLY_ERROR)
		log_error("redis write (%s) refused: %s", what, r->str);
	if (e->state == ENGINE_CLOSING)
		engine_progress(e);
}

/* Send an outcome write: persistent, and counted until Redis has acknowledged it. */
static void send_outcome(struct engine *e, struct rcmd *c, const char *what)
{
	struct write_ctx *w = xmalloc(sizeof(*w));

	w->e = e;
	w->what = what;
	e->outcome_pending++;
	rconn_send(e->cmd, c, RCONN_PERSIST, 0, on_write, w);
}

/* Append the dead set's trims (age, then size) to c. */
static void add_dead_trims(struct engine *e, struct rcmd *c, const char *dead, double now)
{
	char cutoff[64], rank[32];

	snprintf(cutoff, sizeof(cutoff), "%.6f", now - (double)e->opt->dead_timeout);
	snprintf(rank, sizeof(rank), "-%ld", e->opt->dead_max_jobs);
	rcmd_args(c, "ZREMRANGEBYSCORE", dead, "-inf", cutoff, NULL);
	rcmd_args(c, "ZREMRANGEBYRANK", dead, "0", rank, NULL);
}

/* Append the ack of a fetched job: LREM it from this process's in-progress list. */
static void add_ack(struct engine *e, struct rcmd *c, const char *queue, const char *raw,
		    size_t len)
{
	struct sbuf wip;
	const char *argv[4];
	size_t lens[4];

	sbuf_init(&wip);
	key_wip(&wip, e->pi.identity, queue);
	argv[0] = "LREM";
	argv[1] = wip.buf;
	argv[2] = "-1"; /* from the tail: the oldest fetches sit there */
	argv[3] = raw;
	lens[0] = 4;
	lens[1] = wip.len;
	lens[2] = 2;
	lens[3] = len;
	rcmd_argv(c, 4, argv, lens);
	sbuf_release(&wip);
}

/*
 * ZADD member to set (plus the dead set's trims), in the same MULTI as the ack of the fetched
 * job it came from (from_queue/from_raw), if any.
 */
static void send_zadd(struct engine *e, const char *set, double score, const char *member,
		      size_t len, int dead, const char *from_queue, const char *from_raw,
		      size_t from_len)
{
	struct rcmd *c = rcmd_new();
	char *key = key_dup(set);
	struct sbuf sc;
	const char *argv[4];
	size_t lens[4];

	sbuf_init(&sc);
	ts_append_seconds(&sc, score);
	argv[0] = "ZADD";
	argv[1] = key;
	argv[2] = sc.buf;
	argv[3] = member;
	lens[0] = 4;
	lens[1] = strlen(key);
	lens[2] = sc.len;
	lens[3] = len;
	if (dead || from_queue)
		rcmd_multi(c);
	if (from_queue)
		add_ack(e, c, from_queue, from_raw, from_len);
	rcmd_argv(c, 4, argv, lens);
	if (dead)
		add_dead_trims(e, c, key, score);
	send_outcome(e, c, set);
	sbuf_release(&sc);
	free(key);
}

void outcome_dead_raw(struct engine *e, const char *queue, const char *raw, size_t len)
{
	send_zadd(e, "dead", time_real(), raw, len, 1, queue, raw, len);
}

void outcome_schedule_raw(struct engine *e, const char *queue, const char *raw, size_t len,
			  double at)
{
	send_zadd(e, "schedule", at, raw, len, 0, queue, raw, len);
}

/*
 * KEYS: wip, queue. ARGV: job. Pushed back only if it was still in the list: sent again after
 * a reconnect (RCONN_PERSIST), or raced by a recovery, it is not pushed twice.
 */
static const char requeue_script[] =
	"if redis.call('lrem', KEYS[1], -1, ARGV[1]) > 0 then "
	"redis.call('rpush', KEYS[2], ARGV[1]) return 1 end return 0";

void outcome_requeue_raw(struct engine *e, const char *queue, const char *raw, size_t len)
{
	struct rcmd *c = rcmd_new();
	struct sbuf key, wip;
	const char *kv[3];
	size_t kvlen[3];

	sbuf_init(&key);
	sbuf_init(&wip);
	key_queue(&key, queue);
	key_wip(&wip, e->pi.identity, queue);
	kv[0] = wip.buf;
	kv[1] = key.buf;
	kv[2] = raw;
	kvlen[0] = wip.len;
	kvlen[1] = key.len;
	kvlen[2] = len;
	rcmd_eval(c, requeue_script, 2, kv, kvlen, 3);
	send_outcome(e, c, "requeue");
	sbuf_release(&key);
	sbuf_release(&wip);
}

static void outcome_ack(struct engine *e, const char *queue, const char *raw, size_t len)
{
	struct rcmd *c = rcmd_new();

	add_ack(e, c, queue, raw, len);
	send_outcome(e, c, "ack");
}

void outcome_push(struct engine *e, char *queue, char *data, size_t len)
{
	struct rcmd *c = rcmd_new();
	struct sbuf key;
	char *queues = key_dup("queues");

	sbuf_init(&key);
	key_queue(&key, queue);
	rcmd_multi(c);
	rcmd_args(c, "SADD", queues, queue, NULL);
	rcmd_key_value(c, "LPUSH", key.buf, data, len);
	send_outcome(e, c, "push");
	sbuf_release(&key);
	free(queues);
	free(queue);
	free(data);
}

/*
 * Write what the retry rules decided: on the handler thread for jobs that ran (with the
 * class's callbacks, job_execute), here for those that did not.
 */
static void write_failure(struct engine *e, struct winch_job *job, int logged)
{
	struct retry_outcome *out = &job->outcome;
	const char *jid = job->p.jid ? job->p.jid : "?";
	const char *cls = job->dispatch_class ? job->dispatch_class : "?";

	if (!job->outcome_ready && job_decide_failure(job, 0) < 0) {
		log_error("job '%s': cannot build its retry payload; moved to the dead set verbatim",
			  jid);
		outcome_dead_raw(e, job->queue, job->p.raw, job->p.raw_len);
		return;
	}
	switch (out->action) {
	case RETRY_ACTION_RETRY:
		log_debug("job '%s': retry %d scheduled in %.0f s", jid, out->count,
			  out->score - time_real());
		send_zadd(e, "retry", out->score, out->json.buf, out->json.len, 0, job->queue,
			  job->p.raw, job->p.raw_len);
		break;
	case RETRY_ACTION_DEAD:
		if (!logged)
			log_warn("job '%s' (%s): no retries left after %d; moved to the dead set",
				 jid, cls, out->count);
		send_zadd(e, "dead", out->score, out->json.buf, out->json.len, 1, job->queue,
			  job->p.raw, job->p.raw_len);
		break;
	case RETRY_ACTION_DISCARD:
		log_warn("job '%s' (%s) failed and is discarded, as its options say (%s)", jid, cls,
			 job->p.retry == PAYLOAD_RETRY_NONE ? "retry: false"
			 : job->p.dead == 0		    ? "dead: false"
							    : "its class callback");
		outcome_ack(e, job->queue, job->p.raw, job->p.raw_len);
		break;
	}
}

void outcome_fail_unrun(struct engine *e, struct winch_job *job, int logged)
{
	e->processed++;
	e->failed++;
	write_failure(e, job, logged);
	job_free(job);
}

void outcome_apply(struct engine *e, struct winch_job *job)
{
	switch (job->result) {
	case WINCH_OK:
		e->processed++;
		outcome_ack(e, job->queue, job->p.raw, job->p.raw_len);
		break;
	case WINCH_FAIL:
		e->processed++;
		e->failed++;
		write_failure(e, job, 0);
		break;
	case WINCH_REQUEUE:
		outcome_requeue_raw(e, job->queue, job->p.raw, job->p.raw_len);
		break;
	}
	job_free(job);
}
