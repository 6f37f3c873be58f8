/*
 * recovery: the in-progress lists of processes that died. Every process registers its lists
 * in the set winch:wip ("<identity>\n<queue>") before it fetches. Any live process, now and
 * then, looks for members whose <identity> heartbeat hash has expired and moves each job of
 * theirs back to the front of its queue, one job per atomic script, so two processes never
 * both recover a job, and a live process's jobs are never touched. A job recovered more than
 * --max-recoveries times (it keeps killing its process: a poison pill) goes to the dead set.
 */
#ifndef WINCH_RECOVERY_H
#define WINCH_RECOVERY_H

#include "engine.h"

#define RECOVERY_BATCH 50       /* entries of one list read per round trip */
#define RECOVERY_COUNT_TTL "604800" /* a job's recovery count lives a week */

/* SADD this process's lists to the registry (queued before any fetch). */
void recovery_register(struct engine *e);
/* Start the periodic rounds; the first comes within a few seconds. */
void recovery_start(struct engine *e);
void recovery_halt(struct engine *e);
/*
 * After an outage, before fetching again: push back the jobs of this process's own lists
 * that no handler thread runs (their fetch reply was lost with the connection).
 */
void recovery_reconcile(struct engine *e);
/* At a clean exit: SREM this process's lists that are empty (they all should be). */
void recovery_unregister(struct engine *e, void (*done)(struct engine *e));

#endif
