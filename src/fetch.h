/*
 * fetch: reliable fetch. A job moves from queue:<q> into this process's in-progress list
 * winch:wip:<identity>:<q> in the same step that takes it off the queue, and leaves that
 * list only in the step that records its outcome (outcome.c). fetch_kick and fetch_halt are
 * declared in engine.h.
 */
#ifndef WINCH_FETCH_H
#define WINCH_FETCH_H

#include "engine.h"
#include "rconn.h"

#define FETCH_BLOCK_SECONDS "2" /* BLMOVE's timeout: the queue order is rebuilt this often */

struct fetch;

/* One blocking connection per queue (see fetch.c's DESIGN note). */
struct fetch *fetch_new(struct engine *e);
void fetch_start(struct fetch *f);
void fetch_free(struct fetch *f);
/* Every fetch connection is up. */
int fetch_all_up(const struct fetch *f);
/* Connections waiting out their backoff try now (Redis answered on another one). */
void fetch_retry_now(struct fetch *f);
/* Report every fetch connection's events to fn. */
void fetch_on_event(struct fetch *f, rconn_event_fn fn, void *priv);
/* rc is one of the fetcher's connections. */
int fetch_owns(const struct fetch *f, const struct rconn *rc);

#endif
