/*
 * heartbeat: every beat, as Sidekiq's launcher does (SIDEKIQ-PROTOCOL.md §9.2): flush the
 * processed/failed counters, rewrite the work hash (under both :work and :workers, for
 * 6.4.1 and later readers), time a PING, then in one MULTI register the process, write its
 * hash and pop one signal sent by the Web UI.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "heartbeat.h"
#include "job.h"
#include "keys.h"
#include "log.h"
#include "pool.h"
#include "rconn.h"
#include "banned.h"

/*
 * KEYS: guard, stat:processed, stat:processed:<date>, stat:failed, stat:failed:<date>.
 * ARGV: processed, failed, the daily keys' TTL. Both are INCRBY'd even when 0, as Sidekiq
 * does (a reader sees "0", not nil). Counted once per guard key: a flush sent
 * again after a reconnect, or run late by a server that was frozen after winch gave up on
 * the connection, does not count twice.
 */
static const char flush_script[] =
	"if not redis.call('set', KEYS[1], '1', 'NX', 'EX', 3600) then return 0 end "
	"for i = 0, 1 do "
	"redis.call('incrby', KEYS[2 + 2 * i], ARGV[1 + i]) "
	"redis.call('incrby', KEYS[3 + 2 * i], ARGV[1 + i]) "
	"redis.call('expire', KEYS[3 + 2 * i], ARGV[3]) "
	"end return 1";

struct stats_flush {
	struct engine *e;
	long processed;
	long failed;
	int closing;
};

static void on_stats(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct stats_flush *sf = priv;
	struct engine *e = sf->e;

	(void)rc;
	if (r == NULL) {
		/* Stopped before Redis had it (a persistent write fails only then). */
		e->processed += sf->processed;
		e->failed += sf->failed;
	} else if (r->type == REDIS_REPLY_ERROR) {
		log_error("stats flush refused: %s", r->str);
		e->processed += sf->processed;
		e->failed += sf->failed;
	}
	if (sf->closing) {
		e->close_pending--;
		engine_progress(e);
	}
	free(sf);
}

static char *stat_key(const char *stat, const char *date)
{
	struct sbuf sb;

	sbuf_init(&sb);
	if (date) {
		key_stat_daily(&sb, stat, date);
	} else {
		char *total = xasprintf("stat:%s", stat);

		key_plain(&sb, total);
		free(total);
	}
	return sbuf_detach(&sb, NULL);
}

/* Send the counters gathered since the last flush; returns 1 if it sent anything. */
static int flush_stats(struct engine *e, int closing)
{
	struct stats_flush *sf;
	struct rcmd *c;
	char date[16], p[32], f[32], name[400];
	char *kv[8];
	struct sbuf guard;
	int i;

	if (e->processed == 0 && e->failed == 0)
		return 0;
	sf = xcalloc(1, sizeof(*sf));
	sf->e = e;
	sf->processed = e->processed;
	sf->failed = e->failed;
	sf->closing = closing;
	e->processed = 0;
	e->failed = 0;
	ts_utc_date(time_real(), date);
	snprintf(name, sizeof(name), "flush:%s:%lu", e->pi.identity, ++e->flush_seq);
	sbuf_init(&guard);
	key_winch(&guard, name);
	snprintf(p, sizeof(p), "%ld", sf->processed);
	snprintf(f, sizeof(f), "%ld", sf->failed);
	kv[0] = sbuf_detach(&guard, NULL);
	kv[1] = stat_key("processed", NULL);
	kv[2] = stat_key("processed", date);
	kv[3] = stat_key("failed", NULL);
	kv[4] = stat_key("failed", date);
	kv[5] = p;
	kv[6] = f;
	kv[7] = (char *)STATS_DAILY_TTL;
	c = rcmd_new();
	rcmd_eval(c, flush_script, 5, (const char *const *)kv, NULL, 8);
	for (i = 0; i < 5; i++)
		free(kv[i]);
	rconn_send(e->cmd, c, RCONN_PERSIST, 0, on_stats, sf);
	return 1;
}

static void add_work(struct engine *e, struct rcmd *c, const char *key)
{
	const char **argv;
	size_t *lens;
	struct sbuf *vals;
	int n = pool_size(e->pool), i, argc = 2;

	argv = xcalloc((size_t)(2 * n + 2), sizeof(*argv));
	lens = xcalloc((size_t)(2 * n + 2), sizeof(*lens));
	vals = xcalloc((size_t)n, sizeof(*vals));
	argv[0] = "HSET";
	argv[1] = key;
	for (i = 0; i < n; i++) {
		const struct winch_job *job = e->slots[i].job;

		sbuf_init(&vals[i]);
		if (job == NULL)
			continue;
		procinfo_work_json(&vals[i], job->queue, job->p.raw, job->p.raw_len, job->run_at);
		argv[argc] = e->slots[i].tid;
		argv[argc + 1] = vals[i].buf;
		argc += 2;
	}
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (argc > 2) {
		rcmd_argv(c, argc, argv, lens);
		rcmd_args(c, "EXPIRE", key, e->ttl, NULL);
	}
	for (i = 0; i < n; i++)
		sbuf_release(&vals[i]);
	free(vals);
	free(lens);
	free(argv);
}

static void send_work(struct engine *e)
{
	struct sbuf work, workers;
	struct rcmd *c = rcmd_new();

	sbuf_init(&work);
	sbuf_init(&workers);
	key_identity(&work, e->pi.identity, ":work");
	key_identity(&workers, e->pi.identity, ":workers");
	rcmd_multi(c);
	rcmd_args(c, "UNLINK", work.buf, workers.buf, NULL);
	add_work(e, c, work.buf);
	add_work(e, c, workers.buf);
	rconn_send(e->cmd, c, 0, 0, NULL, NULL);
	sbuf_release(&work);
	sbuf_release(&workers);
}

static void handle_signal(struct engine *e, const char *sig)
{
	log_info("signal %s from Redis (Web UI or API)", sig);
	if (strcmp(sig, "TSTP") == 0)
		engine_quiet(e, "TSTP from the Web UI");
	else if (strcmp(sig, "TERM") == 0 || strcmp(sig, "INT") == 0)
		engine_stop(e, "TERM from the Web UI");
	else if (strcmp(sig, "TTIN") == 0 || strcmp(sig, "INFO") == 0)
		engine_dump(e);
	else
		log_warn("unknown signal '%s' from Redis ignored", sig);
}

static void on_beat(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct engine *e = priv;
	struct redisReply *sig;

	(void)rc;
	e->beat_inflight = 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 5) {
		if (r && r->type == REDIS_REPLY_ERROR)
			log_error("heartbeat refused: %s", r->str);
		return;
	}
	if (r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer == 0)
		log_debug("heartbeat: registered as %s", e->pi.identity);
	sig = r->element[4];
	if (sig->type == REDIS_REPLY_STRING && e->state < ENGINE_CLOSING) {
		char name[16];

		snprintf(name, sizeof(name), "%.*s", (int)sig->len, sig->str);
		handle_signal(e, name);
	}
}

static void send_beat(struct engine *e)
{
	struct sbuf id, sigs, beat;
	struct rcmd *c = rcmd_new();
	char *processes = key_dup("processes");
	char busy[16], rtt[32], rss[32], conc[16];

	sbuf_init(&id);
	sbuf_init(&sigs);
	sbuf_init(&beat);
	key_identity(&id, e->pi.identity, "");
	key_identity(&sigs, e->pi.identity, "-signals");
	ts_append_seconds(&beat, time_real());
	snprintf(busy, sizeof(busy), "%d", pool_busy_count(e->pool));
	snprintf(rtt, sizeof(rtt), "%ld", e->rtt_us);
	snprintf(rss, sizeof(rss), "%ld", procinfo_rss_kb());
	snprintf(conc, sizeof(conc), "%d", e->opt->concurrency);
	rcmd_multi(c);
	rcmd_args(c, "SADD", processes, e->pi.identity, NULL);
	rcmd_args(c, "EXISTS", id.buf, NULL);
	rcmd_args(c, "HSET", id.buf, "info", e->info_json, "busy", busy, "beat", beat.buf,
		  "rtt_us", rtt, "quiet", e->state == ENGINE_RUNNING ? "false" : "true", "rss",
		  rss, "concurrency", conc, NULL);
	rcmd_args(c, "EXPIRE", id.buf, e->ttl, NULL);
	rcmd_args(c, "RPOP", sigs.buf, NULL);
	rconn_send(e->cmd, c, 0, 0, on_beat, e);
	sbuf_release(&id);
	sbuf_release(&sigs);
	sbuf_release(&beat);
	free(processes);
}

struct ping {
	struct engine *e;
	int64_t sent_us;
};

static void on_ping(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct ping *p = priv;
	struct engine *e = p->e;

	(void)rc;
	if (r != NULL && r->type != REDIS_REPLY_ERROR) {
		e->rtt_us = (long)(time_mono_us() - p->sent_us);
		if (e->state < ENGINE_CLOSING)
			send_beat(e);
	} else {
		e->beat_inflight = 0;
	}
	free(p);
}

void heartbeat_beat(struct engine *e)
{
	struct ping *p;
	struct rcmd *c;

	if (e->beat_inflight || e->state >= ENGINE_CLOSING)
		return; /* Redis is slow or away: one beat at a time */
	e->beat_inflight = 1;
	flush_stats(e, 0);
	send_work(e);
	p = xmalloc(sizeof(*p));
	p->e = e;
	p->sent_us = time_mono_us();
	c = rcmd_new();
	rcmd_args(c, "PING", NULL);
	rconn_send(e->cmd, c, 0, 0, on_ping, p);
}

static void on_beat_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	heartbeat_beat(w->data);
}

void heartbeat_start(struct engine *e)
{
	ev_timer_init(&e->beat_timer, on_beat_timer, 0, e->opt->beat_interval);
	e->beat_timer.data = e;
	ev_timer_start(e->loop, &e->beat_timer);
}

static void on_cleared(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct engine *e = priv;

	(void)rc;
	(void)r;
	e->close_pending--;
	engine_progress(e);
}

void heartbeat_clear(struct engine *e)
{
	struct sbuf work, workers;
	struct rcmd *c = rcmd_new();
	char *processes = key_dup("processes");

	ev_timer_stop(e->loop, &e->beat_timer);
	if (flush_stats(e, 1))
		e->close_pending++;
	sbuf_init(&work);
	sbuf_init(&workers);
	key_identity(&work, e->pi.identity, ":work");
	key_identity(&workers, e->pi.identity, ":workers");
	rcmd_multi(c);
	rcmd_args(c, "SREM", processes, e->pi.identity, NULL);
	rcmd_args(c, "UNLINK", work.buf, workers.buf, NULL);
	e->close_pending++;
	rconn_send(e->cmd, c, RCONN_PERSIST, 0, on_cleared, e);
	sbuf_release(&work);
	sbuf_release(&workers);
	free(processes);
}
