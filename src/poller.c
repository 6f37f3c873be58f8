/*
 * poller: Sidekiq's scheduled-set poller (SIDEKIQ-PROTOCOL.md §8) for `retry` then
 * `schedule`, with its jittered interval scaled by the number of processes.
 *
 * DESIGN: Sidekiq pops a due member with one script and pushes it with another call, so a
 * crash between the two loses the job. winch reads due members (ZRANGEBYSCORE), rewrites
 * each in C (no `at`, a fresh `enqueued_at`, every other byte kept), and then moves it in
 * one script that pushes only if its ZREM succeeded: atomic, and never enqueued twice when
 * several processes poll at once. A member that is not a job goes to the dead set the same
 * way. The read is a script that keeps its reply within --max-reply: it stops before the
 * member that would pass the budget (the round reads again), and moves a member over
 * --max-payload to the dead set in Redis, returning only its size.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "keys.h"
#include "log.h"
#include "poll.h"
#include "poller.h"
#include "rconn.h"
#include "banned.h"

/*
 * KEYS: set, dead. ARGV: now, batch, max payload, byte budget, time of death, dead age
 * cutoff, -dead max. Returns {more, member or size, ...}: more is 1 when members may be
 * left (a whole batch, or the budget reached); a size stands for a member over the max
 * payload, moved to the dead set.
 */
static const char due_script[] =
	"local due = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2]) "
	"local out, total, killed = {#due >= tonumber(ARGV[2]) and 1 or 0}, 0, false "
	"for _, m in ipairs(due) do "
	"if #m > tonumber(ARGV[3]) then "
	"redis.call('zrem', KEYS[1], m) "
	"redis.call('zadd', KEYS[2], ARGV[5], m) "
	"killed = true "
	"out[#out + 1] = #m "
	"elseif total > 0 and total + #m + 32 > tonumber(ARGV[4]) then "
	"out[1] = 1 "
	"break "
	"else "
	"total = total + #m + 32 "
	"out[#out + 1] = m "
	"end "
	"end "
	"if killed then "
	"redis.call('zremrangebyscore', KEYS[2], '-inf', ARGV[6]) "
	"redis.call('zremrangebyrank', KEYS[2], 0, ARGV[7]) "
	"end "
	"return out";

/* KEYS: set, queues, queue:<q>. ARGV: member, new payload, queue name. */
static const char move_script[] =
	"if redis.call('zrem', KEYS[1], ARGV[1]) == 1 then "
	"redis.call('sadd', KEYS[2], ARGV[3]) "
	"redis.call('lpush', KEYS[3], ARGV[2]) "
	"return 1 end return 0";

/* KEYS: set, dead. ARGV: member, now, age cutoff, -max. */
static const char kill_script[] =
	"if redis.call('zrem', KEYS[1], ARGV[1]) == 1 then "
	"redis.call('zadd', KEYS[2], ARGV[2], ARGV[1]) "
	"redis.call('zremrangebyscore', KEYS[2], '-inf', ARGV[3]) "
	"redis.call('zremrangebyrank', KEYS[2], 0, ARGV[4]) "
	"return 1 end return 0";

static const char *const poll_sets[] = {"retry", "schedule"};

struct poll_round {
	struct engine *e;
	int set;       /* index into poll_sets */
	int pending;   /* move replies awaited */
	int full;      /* the read returned a whole batch: read again */
};

static void poll_set(struct engine *e, int set);
static void schedule_next(struct engine *e);

static void round_step_done(struct poll_round *pr)
{
	struct engine *e = pr->e;

	if (--pr->pending > 0)
		return;
	e->poll_inflight = 0;
	if (e->state != ENGINE_RUNNING) {
		free(pr);
		return;
	}
	if (pr->full)
		poll_set(e, pr->set);
	else if (pr->set + 1 < (int)ARRAY_SIZE(poll_sets))
		poll_set(e, pr->set + 1);
	else
		schedule_next(e);
	free(pr);
}

static void on_moved(struct rconn *rc, struct redisReply *r, void *priv)
{
	(void)rc;
	if (r && r->type == REDIS_REPLY_ERROR)
		log_error("poller: move failed: %s", r->str);
	round_step_done(priv);
}

static void send_script(struct engine *e, const char *script, int nkeys, const char **kv,
			const size_t *kvlen, int nkv, struct poll_round *pr)
{
	struct rcmd *c = rcmd_new();

	rcmd_eval(c, script, nkeys, kv, kvlen, nkv);
	pr->pending++;
	rconn_send(e->cmd, c, 0, 0, on_moved, pr);
}

static void move_member(struct engine *e, struct poll_round *pr, const char *setkey,
			const char *member, size_t len)
{
	struct payload p;
	struct sbuf out, qkey;
	char err[200];
	enum payload_error pe;
	char *queues, *dead;
	const char *kv[7];
	size_t kvlen[7];
	double now = time_real();

	payload_init(&p);
	sbuf_init(&out);
	sbuf_init(&qkey);
	pe = payload_parse(&p, member, len, &e->opt->limits, err, sizeof(err));
	if ((pe == PAYLOAD_OK || pe == PAYLOAD_BAD_FIELD) &&
	    payload_for_enqueue(&p, now, e->opt->gen, &out) == 0) {
		const char *q = p.queue ? p.queue : "default";

		queues = key_dup("queues");
		key_queue(&qkey, q);
		kv[0] = setkey;
		kv[1] = queues;
		kv[2] = qkey.buf;
		kv[3] = member;
		kv[4] = out.buf;
		kv[5] = q;
		kvlen[0] = strlen(setkey);
		kvlen[1] = strlen(queues);
		kvlen[2] = qkey.len;
		kvlen[3] = len;
		kvlen[4] = out.len;
		kvlen[5] = strlen(q);
		send_script(e, move_script, 3, kv, kvlen, 6, pr);
		free(queues);
	} else {
		char nowbuf[64], cutoff[64], rank[32];

		log_error("poller: a member of '%s' is not a job (%s); moved to the dead set",
			  setkey, err);
		dead = key_dup("dead");
		snprintf(nowbuf, sizeof(nowbuf), "%.6f", now);
		snprintf(cutoff, sizeof(cutoff), "%.6f", now - (double)e->opt->dead_timeout);
		snprintf(rank, sizeof(rank), "-%ld", e->opt->dead_max_jobs);
		kv[0] = setkey;
		kv[1] = dead;
		kv[2] = member;
		kv[3] = nowbuf;
		kv[4] = cutoff;
		kv[5] = rank;
		kvlen[0] = strlen(setkey);
		kvlen[1] = strlen(dead);
		kvlen[2] = len;
		kvlen[3] = strlen(nowbuf);
		kvlen[4] = strlen(cutoff);
		kvlen[5] = strlen(rank);
		send_script(e, kill_script, 2, kv, kvlen, 6, pr);
		free(dead);
	}
	payload_release(&p);
	sbuf_release(&out);
	sbuf_release(&qkey);
}

static void on_due(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct poll_round *pr = priv;
	struct engine *e = pr->e;
	char *setkey;
	size_t i;

	(void)rc;
	pr->pending = 1; /* held until every move is sent */
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		if (r && r->type == REDIS_REPLY_ERROR)
			log_error("poller: reading '%s' failed: %s", poll_sets[pr->set], r->str);
		pr->set = (int)ARRAY_SIZE(poll_sets); /* end this round */
		round_step_done(pr);
		return;
	}
	setkey = key_dup(poll_sets[pr->set]);
	pr->full = r->element[0]->integer == 1;
	for (i = 1; i < r->elements && e->state == ENGINE_RUNNING; i++) {
		const struct redisReply *m = r->element[i];

		if (m->type == REDIS_REPLY_STRING)
			move_member(e, pr, setkey, m->str, m->len);
		else if (m->type == REDIS_REPLY_INTEGER)
			log_error("poller: a member of '%s' of %lld bytes is over the limit of %zu "
				  "bytes (--max-payload); moved to the dead set verbatim",
				  setkey, m->integer, e->opt->limits.max_bytes);
	}
	free(setkey);
	round_step_done(pr);
}

static void poll_set(struct engine *e, int set)
{
	struct poll_round *pr;
	struct sbuf now;
	char *key, *dead;
	char maxp[32], budget[32], died[64], cutoff[64], rank[32];
	const char *kv[9];
	double t = time_real();

	if (e->state != ENGINE_RUNNING)
		return;
	pr = xcalloc(1, sizeof(*pr));
	pr->e = e;
	pr->set = set;
	e->poll_inflight = 1;
	sbuf_init(&now);
	ts_append_seconds(&now, t);
	key = key_dup(poll_sets[set]);
	dead = key_dup("dead");
	snprintf(maxp, sizeof(maxp), "%zu", e->opt->limits.max_bytes);
	/* The members' bytes; the slack covers each one's framing (the script counts 32). */
	snprintf(budget, sizeof(budget), "%zu", e->opt->max_reply - OPTIONS_REPLY_SLACK);
	snprintf(died, sizeof(died), "%.6f", t);
	snprintf(cutoff, sizeof(cutoff), "%.6f", t - (double)e->opt->dead_timeout);
	snprintf(rank, sizeof(rank), "-%ld", e->opt->dead_max_jobs);
	kv[0] = key;
	kv[1] = dead;
	kv[2] = now.buf;
	kv[3] = POLLER_BATCH;
	kv[4] = maxp;
	kv[5] = budget;
	kv[6] = died;
	kv[7] = cutoff;
	kv[8] = rank;
	{
		struct rcmd *c = rcmd_new();

		rcmd_eval(c, due_script, 2, kv, NULL, 9);
		rconn_send(e->cmd, c, 0, 0, on_due, pr);
	}
	sbuf_release(&now);
	free(key);
	free(dead);
}

static void on_poll_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct engine *e = w->data;

	(void)loop;
	(void)revents;
	if (e->state != ENGINE_RUNNING || e->poll_inflight)
		return;
	poll_set(e, 0);
}

static void arm(struct engine *e, double after)
{
	ev_timer_stop(e->loop, &e->poll_timer);
	ev_timer_set(&e->poll_timer, after, 0);
	ev_timer_start(e->loop, &e->poll_timer);
}

static void on_scard(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct engine *e = priv;
	long n = 1;

	(void)rc;
	if (e->state != ENGINE_RUNNING)
		return;
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		n = (long)r->integer;
	arm(e, poll_next_interval(e->opt->poll_interval, n, e->opt->gen, rand_unit()));
}

static void schedule_next(struct engine *e)
{
	struct rcmd *c = rcmd_new();
	char *processes = key_dup("processes");

	rcmd_args(c, "SCARD", processes, NULL);
	rconn_send(e->cmd, c, 0, 0, on_scard, e);
	free(processes);
}

void poller_start(struct engine *e)
{
	ev_init(&e->poll_timer, on_poll_timer);
	e->poll_timer.data = e;
	arm(e, poll_initial_wait(e->opt->poll_interval, e->opt->poll_interval_given, rand_unit()));
}

void poller_halt(struct engine *e)
{
	ev_timer_stop(e->loop, &e->poll_timer);
}
