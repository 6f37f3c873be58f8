/*
 * fetch: reliable fetch over strict or weighted queues, blocking in Redis while they are
 * empty.
 *
 * DESIGN: Redis's LMOVE/BLMOVE move a job atomically from a queue into a list, but BLMOVE
 * waits on one source only. So fetching has two modes:
 *   - scan: while a handler thread is idle, one script tries the queues in this fetch's order
 *     (strict, or weighted as Sidekiq shuffles it) with LMOVE into the matching in-progress
 *     list, and returns the first job found. While there is work, order holds exactly.
 *   - block: when the scan finds every queue empty, each queue's own connection sends
 *     BLMOVE <queue> <wip> with a 2 s timeout. The first job to arrive wakes the process at
 *     once (no polling); the other BLMOVEs are cancelled with CLIENT UNBLOCK. A job that
 *     still arrives on one of them while no thread is idle goes back to the front of its
 *     queue in one step. When every BLMOVE has answered, the next fetch is a scan again.
 * Idle boxes therefore cost Redis nothing but blocked connections, and a job pushed to an
 * idle box is picked up within a round trip.
 *
 * A job over --max-payload never crosses the wire whole: the scan moves it to the dead set
 * in Redis and says only its size; the scan stops taking jobs before its reply would pass
 * --max-reply. A BLMOVE cannot look first, so a fetch connection's reply limit is
 * --max-payload plus room for framing: a bigger job's reply is refused (rconn closes the
 * connection), and a script then moves every job over --max-payload in that queue's
 * in-progress list to the dead set, where the BLMOVE left it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "fetch.h"
#include "keys.h"
#include "log.h"
#include "pool.h"
#include "rconn.h"
#include "banned.h"

#define FETCH_ERROR_PAUSE 1.0

/*
 * KEYS: queue1, wip1, queue2, wip2, ... (each queue once), then dead. ARGV: max payload,
 * byte budget, now, dead age cutoff, -dead max, then one fetch order per idle thread,
 * "3,1,2" (1-based queue numbers), each drawn as Sidekiq draws one fetch's order. Each
 * order takes the first job found along it, so strict and weighted order hold per job as
 * with one fetch at a time. A job over the max payload goes to the dead set instead (its
 * size is returned in its place); a job that would take the reply past the budget goes
 * back to the front of its queue, and the scan ends there. Returns {queue number, job or
 * size, ...}, or nil when all are empty.
 */
static const char scan_script[] =
	"local out, total, killed, dead = {}, 0, false, KEYS[#KEYS] "
	"local maxp, budget = tonumber(ARGV[1]), tonumber(ARGV[2]) "
	"for j = 6, #ARGV do "
	"local got, full = false, false "
	"for q in string.gmatch(ARGV[j], '%d+') do "
	"local i = 2 * tonumber(q) - 1 "
	"local job = redis.call('lmove', KEYS[i], KEYS[i + 1], 'right', 'left') "
	"if job and #job > maxp then "
	"redis.call('lpop', KEYS[i + 1]) "
	"redis.call('zadd', dead, ARGV[3], job) "
	"killed = true "
	"job = #job "
	"elseif job and total > 0 and total + #job + 32 > budget then "
	"redis.call('lmove', KEYS[i + 1], KEYS[i], 'left', 'right') "
	"full = true break "
	"elseif job then total = total + #job + 32 end "
	"if job then out[#out + 1] = tonumber(q) out[#out + 1] = job got = true break end "
	"end "
	"if full or not got then break end "
	"end "
	"if killed then "
	"redis.call('zremrangebyscore', dead, '-inf', ARGV[4]) "
	"redis.call('zremrangebyrank', dead, 0, ARGV[5]) "
	"end "
	"if #out == 0 then return false end "
	"return out";

/*
 * After a BLMOVE's reply was refused for its size. KEYS: wip, dead. ARGV: max payload,
 * now, dead age cutoff, -dead max. Moves every job over the max payload from the list to
 * the dead set; returns their sizes.
 */
static const char cull_script[] =
	"local sizes = {} "
	"for _, job in ipairs(redis.call('lrange', KEYS[1], 0, -1)) do "
	"if #job > tonumber(ARGV[1]) then "
	"redis.call('lrem', KEYS[1], 1, job) "
	"redis.call('zadd', KEYS[2], ARGV[2], job) "
	"sizes[#sizes + 1] = #job "
	"end "
	"end "
	"if #sizes > 0 then "
	"redis.call('zremrangebyscore', KEYS[2], '-inf', ARGV[3]) "
	"redis.call('zremrangebyrank', KEYS[2], 0, ARGV[4]) "
	"end "
	"return sizes";

struct fetch_queue {
	struct fetch *f;
	int index;           /* into the options' queue list */
	char *qkey;          /* queue:<q> */
	char *wipkey;        /* winch:wip:<identity>:<q> */
	struct rconn *conn;  /* for this queue's BLMOVE */
	int blocking;        /* a BLMOVE is in flight */
};

struct fetch {
	struct engine *e;
	struct fetch_queue *q;
	int n;
	char *deadkey;       /* dead */
	int scanning;        /* a scan is in flight */
	int n_blocking;      /* BLMOVEs in flight */
	ev_timer pause;      /* after an error: never spin */
};

static const char *queue_name(const struct fetch *f, int i)
{
	return f->e->opt->queues.q[i].name;
}

static void on_pause_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	fetch_kick(((struct fetch *)w->data)->e);
}

static void pause_after_error(struct fetch *f, const char *what, const char *err)
{
	log_error("fetch: %s failed: %s; retrying in %.0f s", what, err, FETCH_ERROR_PAUSE);
	ev_timer_stop(f->e->loop, &f->pause);
	ev_timer_set(&f->pause, FETCH_ERROR_PAUSE, 0);
	ev_timer_start(f->e->loop, &f->pause);
}

/* A fetched job: run it, or, with no idle thread (a second BLMOVE answered), give it back. */
static void take(struct fetch *f, int qi, const char *raw, size_t len)
{
	struct engine *e = f->e;

	if (e->state == ENGINE_RUNNING && pool_idle(e->pool) < 0)
		outcome_requeue_raw(e, queue_name(f, qi), raw, len);
	else
		engine_accept(e, queue_name(f, qi), raw, len);
}

static void unblock_all(struct fetch *f)
{
	char id[32];
	struct rcmd *c;
	int i;

	for (i = 0; i < f->n; i++) {
		if (!f->q[i].blocking || rconn_client_id(f->q[i].conn) < 0)
			continue;
		snprintf(id, sizeof(id), "%lld", rconn_client_id(f->q[i].conn));
		c = rcmd_new();
		rcmd_args(c, "CLIENT", "UNBLOCK", id, NULL);
		rconn_send(f->e->cmd, c, 0, 0, NULL, NULL);
	}
}

/* The dead set's score and trims, as text: now, the age cutoff and -max. */
struct dead_args {
	char now[64];
	char cutoff[64];
	char rank[32];
};

static void dead_args_init(struct dead_args *d, const struct engine *e)
{
	double now = time_real();

	snprintf(d->now, sizeof(d->now), "%.6f", now);
	snprintf(d->cutoff, sizeof(d->cutoff), "%.6f", now - (double)e->opt->dead_timeout);
	snprintf(d->rank, sizeof(d->rank), "-%ld", e->opt->dead_max_jobs);
}

/* A job too big to run went to the dead set in Redis: the line engine_accept writes. */
static void log_killed(struct fetch *f, int qi, long long size)
{
	log_error("payload from queue '%s' cannot run: payload of %lld bytes is over the limit "
		  "of %zu bytes (--max-payload); moved to the dead set verbatim",
		  queue_name(f, qi), size, f->e->opt->limits.max_bytes);
}

struct cull {
	struct fetch *f;
	int qi;
};

static void on_cull(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct cull *cu = priv;
	size_t i;

	(void)rc;
	if (r && r->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < r->elements; i++)
			if (r->element[i]->type == REDIS_REPLY_INTEGER)
				log_killed(cu->f, cu->qi, r->element[i]->integer);
	} else if (r && r->type == REDIS_REPLY_ERROR) {
		log_error("fetch: moving a job too big to read from '%s' to the dead set failed: %s",
			  cu->f->q[cu->qi].wipkey, r->str);
	}
	free(cu);
}

/*
 * A BLMOVE's reply was refused for its size: the job is at the head of the queue's
 * in-progress list. Move what is too big to run from there to the dead set, in Redis.
 * Persistent: if the connection drops, the script runs again and finds the same.
 */
static void cull(struct fetch *f, int qi)
{
	struct cull *cu = xcalloc(1, sizeof(*cu));
	struct dead_args d;
	char maxp[32];
	const char *kv[6];
	struct rcmd *c = rcmd_new();

	cu->f = f;
	cu->qi = qi;
	dead_args_init(&d, f->e);
	snprintf(maxp, sizeof(maxp), "%zu", f->e->opt->limits.max_bytes);
	kv[0] = f->q[qi].wipkey;
	kv[1] = f->deadkey;
	kv[2] = maxp;
	kv[3] = d.now;
	kv[4] = d.cutoff;
	kv[5] = d.rank;
	rcmd_eval(c, cull_script, 2, kv, NULL, 6);
	rconn_send(f->e->cmd, c, RCONN_PERSIST, 0, on_cull, cu);
}

static void on_blmove(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct fetch_queue *fq = priv;
	struct fetch *f = fq->f;

	fq->blocking = 0;
	f->n_blocking--;
	if (r == NULL && rconn_reply_refused(rc)) {
		cull(f, fq->index); /* before the next scan, which the command connection orders */
		unblock_all(f);     /* as after a job: scan again once they have all answered */
	} else if (r && r->type == REDIS_REPLY_STRING) {
		take(f, fq->index, r->str, r->len);
		unblock_all(f); /* back to scanning, in order, once they have all answered */
	} else if (r && r->type == REDIS_REPLY_ERROR) {
		pause_after_error(f, "BLMOVE", r->str);
	}
	if (f->n_blocking == 0)
		engine_progress(f->e);
}

static void block(struct fetch *f)
{
	struct rcmd *c;
	int i;

	for (i = 0; i < f->n; i++) {
		struct fetch_queue *fq = &f->q[i];

		if (!rconn_is_up(fq->conn))
			continue;
		c = rcmd_new();
		rcmd_args(c, "BLMOVE", fq->qkey, fq->wipkey, "RIGHT", "LEFT", FETCH_BLOCK_SECONDS,
			  NULL);
		fq->blocking = 1;
		f->n_blocking++;
		rconn_send(fq->conn, c, RCONN_BLOCKING, 3, on_blmove, fq);
	}
}

static void on_scan(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct fetch *f = priv;
	long long qi;
	size_t i;

	(void)rc;
	f->scanning = 0;
	if (r == NULL)
		return; /* the command connection is down: its RCONN_UP kicks again */
	if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
		for (i = 0; i + 1 < r->elements; i += 2) {
			const struct redisReply *job = r->element[i + 1];

			qi = r->element[i]->type == REDIS_REPLY_INTEGER ? r->element[i]->integer - 1
									 : -1;
			if (qi < 0 || qi >= f->n ||
			    (job->type != REDIS_REPLY_STRING && job->type != REDIS_REPLY_INTEGER))
				abort(); /* BUG: the scan script returned something else */
			if (job->type == REDIS_REPLY_INTEGER)
				log_killed(f, (int)qi, job->integer);
			else
				take(f, (int)qi, job->str, job->len);
		}
		engine_progress(f->e);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		pause_after_error(f, "scan", r->str);
		return;
	}
	if (f->e->state == ENGINE_RUNNING && pool_idle(f->e->pool) >= 0)
		block(f); /* every queue empty: wait in Redis */
}

/* Append one fetch order as "3,1,2" (1-based queue numbers). */
static void add_order(struct fetch *f, struct sbuf *out)
{
	const char *order[QUEUES_MAX];
	int n, i, k;

	n = queues_order(&f->e->opt->queues, order, rand_below);
	for (i = 0; i < n; i++) {
		/* order[] holds the queues' own name pointers: find each one's number. */
		for (k = 0; k < f->n && queue_name(f, k) != order[i]; k++)
			;
		if (k == f->n)
			abort(); /* BUG: queues_order returned a name not in the list */
		sbuf_addf(out, i ? ",%d" : "%d", k + 1);
	}
}

/* One scan fetches a job for every idle thread, each along its own order. */
static void scan(struct fetch *f)
{
	struct pool *pool = f->e->pool;
	int want = pool_size(pool) - pool_busy_count(pool);
	int nkv = 2 * f->n + 6 + want, i, k = 0;
	const char **kv = xcalloc((size_t)nkv, sizeof(*kv));
	struct sbuf *orders = xcalloc((size_t)want, sizeof(*orders));
	struct dead_args d;
	char maxp[32], budget[32];
	struct rcmd *c;

	for (i = 0; i < f->n; i++) {
		kv[k++] = f->q[i].qkey;
		kv[k++] = f->q[i].wipkey;
	}
	kv[k++] = f->deadkey;
	/* The jobs' bytes; the slack covers each one's framing (the script counts 32). */
	snprintf(maxp, sizeof(maxp), "%zu", f->e->opt->limits.max_bytes);
	snprintf(budget, sizeof(budget), "%zu", f->e->opt->max_reply - OPTIONS_REPLY_SLACK);
	dead_args_init(&d, f->e);
	kv[k++] = maxp;
	kv[k++] = budget;
	kv[k++] = d.now;
	kv[k++] = d.cutoff;
	kv[k++] = d.rank;
	for (i = 0; i < want; i++) {
		sbuf_init(&orders[i]);
		add_order(f, &orders[i]);
		kv[k++] = orders[i].buf;
	}
	c = rcmd_new();
	rcmd_eval(c, scan_script, 2 * f->n + 1, kv, NULL, nkv);
	for (i = 0; i < want; i++)
		sbuf_release(&orders[i]);
	free(orders);
	free(kv);
	f->scanning = 1;
	rconn_send(f->e->cmd, c, 0, 0, on_scan, f);
}

void fetch_kick(struct engine *e)
{
	struct fetch *f = e->fetcher;

	if (f == NULL || e->state != ENGINE_RUNNING || f->scanning || f->n_blocking > 0 ||
	    pool_idle(e->pool) < 0 || ev_is_active(&f->pause) || !rconn_is_up(e->cmd))
		return;
	scan(f);
}

void fetch_halt(struct engine *e)
{
	struct fetch *f = e->fetcher;

	if (f == NULL)
		return;
	ev_timer_stop(e->loop, &f->pause);
	unblock_all(f);
}

static char *build_key(int wip, const char *identity, const char *queue)
{
	struct sbuf sb;

	sbuf_init(&sb);
	if (wip)
		key_wip(&sb, identity, queue);
	else
		key_queue(&sb, queue);
	return sbuf_detach(&sb, NULL);
}

struct fetch *fetch_new(struct engine *e)
{
	struct fetch *f = xcalloc(1, sizeof(*f));
	int i;

	f->e = e;
	f->n = e->opt->queues.n;
	f->q = xcalloc((size_t)f->n, sizeof(*f->q));
	for (i = 0; i < f->n; i++) {
		struct fetch_queue *fq = &f->q[i];
		char *name = xasprintf("fetch %s", queue_name(f, i));

		fq->f = f;
		fq->index = i;
		fq->qkey = build_key(0, NULL, queue_name(f, i));
		fq->wipkey = build_key(1, e->pi.identity, queue_name(f, i));
		fq->conn = rconn_new(e->loop, &e->opt->redis, name);
		/* A BLMOVE's reply is one job: a bigger one could not run anyway. */
		rconn_set_max_reply(fq->conn, e->opt->limits.max_bytes + OPTIONS_REPLY_SLACK);
		free(name);
	}
	f->deadkey = key_dup("dead");
	ev_init(&f->pause, on_pause_end);
	f->pause.data = f;
	return f;
}

void fetch_start(struct fetch *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		rconn_start(f->q[i].conn);
}

int fetch_all_up(const struct fetch *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (!rconn_is_up(f->q[i].conn))
			return 0;
	return 1;
}

void fetch_retry_now(struct fetch *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		rconn_retry_now(f->q[i].conn);
}

void fetch_on_event(struct fetch *f, rconn_event_fn fn, void *priv)
{
	int i;

	for (i = 0; i < f->n; i++)
		rconn_on_event(f->q[i].conn, fn, priv);
}

int fetch_owns(const struct fetch *f, const struct rconn *rc)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (f->q[i].conn == rc)
			return 1;
	return 0;
}

void fetch_free(struct fetch *f)
{
	int i;

	if (f == NULL)
		return;
	ev_timer_stop(f->e->loop, &f->pause);
	for (i = 0; i < f->n; i++) {
		rconn_free(f->q[i].conn);
		free(f->q[i].qkey);
		free(f->q[i].wipkey);
	}
	free(f->q);
	free(f->deadkey);
	free(f);
}
