/*
 * fetch: Sidekiq's BasicFetch on its own connection: one BRPOP at a time over the queues
 * in strict or weighted order, while a handler thread is idle. Quiet and stop unblock it
 * with CLIENT UNBLOCK; a job that still arrives goes straight back (engine_accept).
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

static void on_pause_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	fetch_kick(w->data);
}

static void on_brpop(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct engine *e = priv;
	const char *name;

	(void)rc;
	e->fetch_inflight = 0;
	if (r == NULL)
		return; /* connection lost: the next RCONN_UP kicks the fetch again */
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
		name = key_queue_name(r->element[0]->str);
		engine_accept(e, name ? name : r->element[0]->str, r->element[1]->str,
			      r->element[1]->len);
	} else if (r->type == REDIS_REPLY_ERROR) {
		/* e.g. WRONGTYPE: a queue key that is not a list. Pause, never spin. */
		log_error("fetch failed: %s; retrying in %.0f s", r->str, FETCH_ERROR_PAUSE);
		ev_timer_init(&e->fetch_timer, on_pause_end, FETCH_ERROR_PAUSE, 0);
		e->fetch_timer.data = e;
		ev_timer_start(e->loop, &e->fetch_timer);
		return;
	}
	engine_progress(e);
}

void fetch_kick(struct engine *e)
{
	const char *order[QUEUES_MAX];
	const char **argv;
	size_t *lens;
	struct sbuf *keys;
	struct rcmd *c;
	int n, i;

	if (e->state != ENGINE_RUNNING || e->fetch_inflight || !rconn_is_up(e->fetch) ||
	    pool_idle(e->pool) < 0 || ev_is_active(&e->fetch_timer))
		return;
	n = queues_order(&e->opt->queues, order, rand_below);
	argv = xcalloc((size_t)n + 2, sizeof(*argv));
	lens = xcalloc((size_t)n + 2, sizeof(*lens));
	keys = xcalloc((size_t)n, sizeof(*keys));
	argv[0] = "BRPOP";
	lens[0] = 5;
	for (i = 0; i < n; i++) {
		sbuf_init(&keys[i]);
		key_queue(&keys[i], order[i]);
		argv[i + 1] = keys[i].buf;
		lens[i + 1] = keys[i].len;
	}
	argv[n + 1] = "2";
	lens[n + 1] = 1;
	c = rcmd_new();
	rcmd_argv(c, n + 2, argv, lens);
	for (i = 0; i < n; i++)
		sbuf_release(&keys[i]);
	free(keys);
	free(lens);
	free(argv);
	e->fetch_inflight = 1;
	rconn_send(e->fetch, c, RCONN_BLOCKING, FETCH_BLOCK_SECONDS + 1, on_brpop, e);
}

void fetch_halt(struct engine *e)
{
	char id[32];
	struct rcmd *c;

	ev_timer_stop(e->loop, &e->fetch_timer);
	if (!e->fetch_inflight || rconn_client_id(e->fetch) < 0)
		return;
	snprintf(id, sizeof(id), "%lld", rconn_client_id(e->fetch));
	c = rcmd_new();
	rcmd_args(c, "CLIENT", "UNBLOCK", id, NULL);
	rconn_send(e->cmd, c, 0, 0, NULL, NULL);
}
