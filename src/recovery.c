/*
 * recovery: find the in-progress lists of dead processes (their heartbeat hash expired) in
 * the winch:wip registry, never by KEYS or SCAN, and move their jobs back, atomically and
 * once each; a job recovered too often goes to the dead set as a poison pill.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "job.h"
#include "keys.h"
#include "log.h"
#include "rconn.h"
#include "recovery.h"
#include "banned.h"

/*
 * KEYS: wip, queue, dead, counter, identity. ARGV: entry, dead payload, max, now, age cutoff,
 * -max dead. Returns -1 (owner alive), 0 (already taken), 1 (requeued), 2 (dead).
 */
static const char recover_script[] =
	"if redis.call('exists', KEYS[5]) == 1 then return -1 end "
	"if redis.call('lrem', KEYS[1], -1, ARGV[1]) == 0 then return 0 end "
	"local n = redis.call('incr', KEYS[4]) "
	"redis.call('expire', KEYS[4], " RECOVERY_COUNT_TTL ") "
	"if n > tonumber(ARGV[3]) then "
	"redis.call('zadd', KEYS[3], ARGV[4], ARGV[2]) "
	"redis.call('zremrangebyscore', KEYS[3], '-inf', ARGV[5]) "
	"redis.call('zremrangebyrank', KEYS[3], 0, ARGV[6]) "
	"return 2 end "
	"redis.call('rpush', KEYS[2], ARGV[1]) "
	"return 1";

/*
 * KEYS: wip, queue, identity. ARGV: batch, max payload, byte budget. The tail of a dead
 * process's list, its reply kept within --max-reply: {more, job or size, ...}, more being 1
 * when jobs may be left. A job over the max payload goes back to the front of its queue
 * here, its size standing in its place (the fetch that takes it moves it to the dead set):
 * it never crosses the wire. Only {0} while the owner lives.
 */
static const char read_script[] =
	"if redis.call('exists', KEYS[3]) == 1 then return {0} end "
	"local list = redis.call('lrange', KEYS[1], -tonumber(ARGV[1]), -1) "
	"local out, total = {#list >= tonumber(ARGV[1]) and 1 or 0}, 0 "
	"for _, job in ipairs(list) do "
	"if #job > tonumber(ARGV[2]) then "
	"redis.call('lrem', KEYS[1], -1, job) "
	"redis.call('rpush', KEYS[2], job) "
	"out[#out + 1] = #job "
	"elseif total > 0 and total + #job + 32 > tonumber(ARGV[3]) then "
	"out[1] = 1 "
	"break "
	"else "
	"total = total + #job + 32 "
	"out[#out + 1] = job "
	"end "
	"end "
	"return out";

/* KEYS: registry, wip, identity. ARGV: member. Drop the member once its list is empty. */
static const char forget_script[] =
	"if redis.call('exists', KEYS[3]) == 1 then return 0 end "
	"if redis.call('llen', KEYS[2]) > 0 then return 0 end "
	"return redis.call('srem', KEYS[1], ARGV[1])";

/* One dead process's list being emptied. */
struct orphan_list {
	struct engine *e;
	char *identity;
	char *queue;
	char *member;
	int pending; /* script replies awaited */
	int full;    /* the last read was a whole batch: read again */
};

static void read_list(struct orphan_list *ol);

static void orphan_free(struct orphan_list *ol)
{
	free(ol->identity);
	free(ol->queue);
	free(ol->member);
	free(ol);
}

static char *winch_key(const char *name)
{
	struct sbuf sb;

	sbuf_init(&sb);
	key_winch(&sb, name);
	return sbuf_detach(&sb, NULL);
}

static void send_eval(struct engine *e, const char *script, int nkeys, const char **kv,
		      const size_t *kvlen, int n, rconn_reply_fn fn, void *priv)
{
	struct rcmd *c = rcmd_new();

	rcmd_eval(c, script, nkeys, kv, kvlen, n);
	rconn_send(e->cmd, c, 0, 0, fn, priv);
}

static void on_forget(struct rconn *rc, struct redisReply *r, void *priv)
{
	(void)rc;
	(void)r;
	orphan_free(priv);
}

static void list_step_done(struct orphan_list *ol)
{
	char *registry, *wip, *id;
	struct sbuf sb;
	const char *kv[4];

	if (--ol->pending > 0)
		return;
	if (ol->full && ol->e->state < ENGINE_CLOSING) {
		read_list(ol);
		return;
	}
	registry = winch_key("wip");
	sbuf_init(&sb);
	key_wip(&sb, ol->identity, ol->queue);
	wip = sbuf_detach(&sb, NULL);
	key_identity(&sb, ol->identity, "");
	id = sbuf_detach(&sb, NULL);
	kv[0] = registry;
	kv[1] = wip;
	kv[2] = id;
	kv[3] = ol->member;
	send_eval(ol->e, forget_script, 3, kv, NULL, 4, on_forget, ol);
	free(registry);
	free(wip);
	free(id);
}

struct recover_one {
	struct orphan_list *ol;
	char *jid;
	char *klass;
};

static void on_recovered(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct recover_one *ro = priv;
	struct orphan_list *ol = ro->ol;

	(void)rc;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
		log_warn("recovered job '%s' (%s) of dead process %s: back at the front of queue "
			 "'%s'",
			 ro->jid, ro->klass, ol->identity, ol->queue);
	else if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 2)
		log_error("job '%s' (%s) was running in more than %d processes that died: moved "
			  "to the dead set as a poison pill",
			  ro->jid, ro->klass, ol->e->opt->max_recoveries);
	else if (r && r->type == REDIS_REPLY_ERROR)
		log_error("recovery of job '%s' failed: %s", ro->jid, r->str);
	free(ro->jid);
	free(ro->klass);
	free(ro);
	list_step_done(ol);
}

/* The job as the dead set gets it when it is a poison pill. */
static void poison_payload(struct engine *e, struct winch_job *j, struct sbuf *out)
{
	char msg[200];

	snprintf(msg, sizeof(msg),
		 "the job was running in more than %d winch processes that died (killed, out of "
		 "memory, crashed); not retried again",
		 e->opt->max_recoveries);
	winch_job_set_error(j, "Winch::PoisonPill", msg);
	j->p.retry = PAYLOAD_RETRY_COUNT;
	j->p.retry_max = 0;
	j->p.dead = 1;
	j->retry_cfg.gen = e->opt->gen;
	j->retry_cfg.max_retries = e->opt->max_retries;
	if (j->p.root && job_decide_failure(j, 0) == 0)
		sbuf_add(out, j->outcome.json.buf, j->outcome.json.len);
	else
		sbuf_add(out, j->p.raw, j->p.raw_len); /* not an object: kept verbatim */
}

static void recover_entry(struct orphan_list *ol, const char *raw, size_t len)
{
	struct engine *e = ol->e;
	struct winch_job *j = job_new();
	struct recover_one *ro = xcalloc(1, sizeof(*ro));
	struct sbuf dead, wip, queue, counter, id;
	char err[200], now[64], cutoff[64], rank[32], max[16];
	char *deadkey = key_dup("dead");
	const char *kv[11];
	size_t kvlen[11];
	int i;

	sbuf_init(&dead);
	sbuf_init(&wip);
	sbuf_init(&queue);
	sbuf_init(&counter);
	sbuf_init(&id);
	j->queue = xstrdup(ol->queue);
	payload_parse(&j->p, raw, len, &e->opt->limits, err, sizeof(err));
	ro->ol = ol;
	ro->jid = xstrdup(j->p.jid ? j->p.jid : "?");
	ro->klass = xstrdup(j->p.klass ? j->p.klass : "?");
	poison_payload(e, j, &dead);
	key_wip(&wip, ol->identity, ol->queue);
	key_queue(&queue, ol->queue);
	if (j->p.jid)
		sbuf_addf(&counter, "orphaned:%s", j->p.jid);
	else
		sbuf_addf(&counter, "orphaned:len%zu", len); /* no jid to count by */
	{
		char *ck = winch_key(counter.buf);

		sbuf_reset(&counter);
		sbuf_adds(&counter, ck);
		free(ck);
	}
	key_identity(&id, ol->identity, "");
	snprintf(now, sizeof(now), "%.6f", time_real());
	snprintf(cutoff, sizeof(cutoff), "%.6f", time_real() - (double)e->opt->dead_timeout);
	snprintf(rank, sizeof(rank), "-%ld", e->opt->dead_max_jobs);
	snprintf(max, sizeof(max), "%d", e->opt->max_recoveries);
	kv[0] = wip.buf;
	kv[1] = queue.buf;
	kv[2] = deadkey;
	kv[3] = counter.buf;
	kv[4] = id.buf;
	kv[5] = raw;
	kv[6] = dead.buf;
	kv[7] = max;
	kv[8] = now;
	kv[9] = cutoff;
	kv[10] = rank;
	for (i = 0; i < 11; i++)
		kvlen[i] = strlen(kv[i]);
	kvlen[5] = len;
	kvlen[6] = dead.len;
	ol->pending++;
	send_eval(e, recover_script, 5, kv, kvlen, 11, on_recovered, ro);
	job_free(j);
	sbuf_release(&dead);
	sbuf_release(&wip);
	sbuf_release(&queue);
	sbuf_release(&counter);
	sbuf_release(&id);
	free(deadkey);
}

static void on_list(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct orphan_list *ol = priv;
	size_t i;

	(void)rc;
	ol->pending = 1; /* held while the entries are sent */
	ol->full = 0;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER) {
		ol->full = r->element[0]->integer == 1;
		for (i = 1; i < r->elements; i++) {
			const struct redisReply *el = r->element[i];

			if (el->type == REDIS_REPLY_STRING)
				recover_entry(ol, el->str, el->len);
			else if (el->type == REDIS_REPLY_INTEGER)
				log_warn("recovered a job of %lld bytes, over --max-payload, of dead "
					 "process %s: back at the front of queue '%s'",
					 el->integer, ol->identity, ol->queue);
		}
	} else if (r && r->type == REDIS_REPLY_ERROR) {
		log_error("recovery: reading the jobs of dead process %s failed: %s", ol->identity,
			  r->str);
	}
	list_step_done(ol);
}

static void read_list(struct orphan_list *ol)
{
	const struct options *opt = ol->e->opt;
	struct sbuf wip, queue, id;
	struct rcmd *c = rcmd_new();
	char batch[16], maxp[32], budget[32];
	const char *kv[6];

	sbuf_init(&wip);
	sbuf_init(&queue);
	sbuf_init(&id);
	key_wip(&wip, ol->identity, ol->queue);
	key_queue(&queue, ol->queue);
	key_identity(&id, ol->identity, "");
	snprintf(batch, sizeof(batch), "%d", RECOVERY_BATCH);
	snprintf(maxp, sizeof(maxp), "%zu", opt->limits.max_bytes);
	/* The jobs' bytes; the slack covers each one's framing (the script counts 32). */
	snprintf(budget, sizeof(budget), "%zu", opt->max_reply - OPTIONS_REPLY_SLACK);
	kv[0] = wip.buf;
	kv[1] = queue.buf;
	kv[2] = id.buf;
	kv[3] = batch;
	kv[4] = maxp;
	kv[5] = budget;
	rcmd_eval(c, read_script, 3, kv, NULL, 6);
	rconn_send(ol->e->cmd, c, 0, 0, on_list, ol);
	sbuf_release(&wip);
	sbuf_release(&queue);
	sbuf_release(&id);
}

static void on_exists(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct orphan_list *ol = priv;

	(void)rc;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0 &&
	    ol->e->state < ENGINE_CLOSING) {
		read_list(ol);
		return;
	}
	orphan_free(ol);
}

static void on_registry(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct engine *e = priv;
	size_t i;

	(void)rc;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < r->elements; i++) {
		const struct redisReply *m = r->element[i];
		const char *nl;
		struct orphan_list *ol;
		struct sbuf id;
		struct rcmd *c;

		if (m->type != REDIS_REPLY_STRING)
			continue;
		nl = memchr(m->str, '\n', m->len);
		if (nl == NULL)
			continue;
		ol = xcalloc(1, sizeof(*ol));
		ol->e = e;
		ol->identity = xstrndup(m->str, (size_t)(nl - m->str));
		ol->queue = xstrndup(nl + 1, m->len - (size_t)(nl - m->str) - 1);
		ol->member = xstrndup(m->str, m->len);
		if (strcmp(ol->identity, e->pi.identity) == 0) {
			orphan_free(ol);
			continue;
		}
		sbuf_init(&id);
		key_identity(&id, ol->identity, "");
		c = rcmd_new();
		rcmd_args(c, "EXISTS", id.buf, NULL);
		rconn_send(e->cmd, c, 0, 0, on_exists, ol);
		sbuf_release(&id);
	}
}

static void on_lock(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct engine *e = priv;
	struct rcmd *c;
	char *registry;

	(void)rc;
	if (r == NULL || r->type != REDIS_REPLY_STATUS || e->state >= ENGINE_CLOSING)
		return; /* another process holds this round */
	registry = winch_key("wip");
	c = rcmd_new();
	rcmd_args(c, "SMEMBERS", registry, NULL);
	rconn_send(e->cmd, c, 0, 0, on_registry, e);
	free(registry);
}

static void on_round(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct engine *e = w->data;
	struct rcmd *c;
	char *lock;

	(void)revents;
	ev_timer_stop(loop, w);
	ev_timer_set(w, e->opt->recovery_interval * (0.75 + 0.5 * rand_unit()), 0);
	ev_timer_start(loop, w);
	if (e->state >= ENGINE_CLOSING || !rconn_is_up(e->cmd))
		return;
	/* One round at a time cluster-wide; the scripts stay correct without it. */
	lock = winch_key("recovery_lock");
	c = rcmd_new();
	rcmd_args(c, "SET", lock, e->pi.identity, "NX", "EX", "10", NULL);
	rconn_send(e->cmd, c, 0, 0, on_lock, e);
	free(lock);
}

static void add_members(struct engine *e, struct rcmd *c, const char *verb)
{
	char *registry = winch_key("wip");
	int i;

	for (i = 0; i < e->opt->queues.n; i++) {
		char *member = xasprintf("%s\n%s", e->pi.identity, e->opt->queues.q[i].name);

		rcmd_args(c, verb, registry, member, NULL);
		free(member);
	}
	free(registry);
}

void recovery_register(struct engine *e)
{
	struct rcmd *c = rcmd_new();

	rcmd_multi(c);
	add_members(e, c, "SADD");
	rconn_send(e->cmd, c, RCONN_PERSIST, 0, NULL, NULL);
}

void recovery_start(struct engine *e)
{
	double first = 1.0 + 2.0 * rand_unit(); /* 1-3 s, or sooner with a short interval */

	if (e->opt->recovery_interval < 3)
		first *= e->opt->recovery_interval / 3;
	ev_init(&e->recovery_timer, on_round);
	e->recovery_timer.data = e;
	ev_timer_set(&e->recovery_timer, first, 0);
	ev_timer_start(e->loop, &e->recovery_timer);
}

void recovery_halt(struct engine *e)
{
	ev_timer_stop(e->loop, &e->recovery_timer);
}

/*
 * After an outage: jobs in this process's own lists that no thread runs. A fetch whose reply
 * was lost with the connection (Redis applied the LMOVE, the process never heard) leaves
 * one there; it goes back to the front of its queue.
 */
struct reconcile {
	struct engine *e;
	int queue;
};

static int running_here(struct engine *e, const char *raw, size_t len)
{
	int i;

	for (i = 0; i < e->opt->concurrency; i++) {
		const struct winch_job *j = e->slots[i].job;

		if (j && j->p.raw_len == len && memcmp(j->p.raw, raw, len) == 0)
			return 1;
	}
	return 0;
}

static void on_own_list(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct reconcile *rq = priv;
	struct engine *e = rq->e;
	const char *queue = e->opt->queues.q[rq->queue].name;
	size_t i;

	(void)rc;
	if (r && r->type == REDIS_REPLY_ARRAY && e->state < ENGINE_CLOSING) {
		for (i = 0; i < r->elements; i++) {
			const struct redisReply *el = r->element[i];

			if (el->type != REDIS_REPLY_STRING || running_here(e, el->str, el->len))
				continue;
			log_warn("a job that reached this process's in-progress list while the "
				 "connection was lost goes back to queue '%s'",
				 queue);
			outcome_requeue_raw(e, queue, el->str, el->len);
		}
	}
	free(rq);
}

void recovery_reconcile(struct engine *e)
{
	int i;

	for (i = 0; i < e->opt->queues.n; i++) {
		struct reconcile *rq = xcalloc(1, sizeof(*rq));
		struct rcmd *c = rcmd_new();
		struct sbuf wip;

		rq->e = e;
		rq->queue = i;
		sbuf_init(&wip);
		key_wip(&wip, e->pi.identity, e->opt->queues.q[i].name);
		rcmd_args(c, "LRANGE", wip.buf, "0", "-1", NULL);
		rconn_send(e->cmd, c, 0, 0, on_own_list, rq);
		sbuf_release(&wip);
	}
}

struct unregister {
	struct engine *e;
	void (*done)(struct engine *e);
	int pending;
};

static void on_unregistered(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct unregister *u = priv;

	(void)rc;
	(void)r;
	if (--u->pending == 0) {
		u->done(u->e);
		free(u);
	}
}

void recovery_unregister(struct engine *e, void (*done)(struct engine *e))
{
	struct unregister *u = xcalloc(1, sizeof(*u));
	char *registry = winch_key("wip");
	int i;

	u->e = e;
	u->done = done;
	u->pending = e->opt->queues.n;
	for (i = 0; i < e->opt->queues.n; i++) {
		/* Only an empty list leaves the registry: whatever is left gets recovered. */
		static const char script[] = "if redis.call('llen', KEYS[2]) > 0 then return 0 end "
					     "return redis.call('srem', KEYS[1], ARGV[1])";
		char *member = xasprintf("%s\n%s", e->pi.identity, e->opt->queues.q[i].name);
		struct sbuf wip;
		const char *kv[3];

		sbuf_init(&wip);
		key_wip(&wip, e->pi.identity, e->opt->queues.q[i].name);
		kv[0] = registry;
		kv[1] = wip.buf;
		kv[2] = member;
		send_eval(e, script, 2, kv, NULL, 3, on_unregistered, u);
		sbuf_release(&wip);
		free(member);
	}
	free(registry);
}
