/*
 * push: the payload of a job the client enqueues, as Sidekiq's Ruby client writes it
 * (SIDEKIQ-PROTOCOL.md §2.2, §3), and where it goes (its queue now, or the schedule set).
 * Pure functions: no Redis, no clock (now is given).
 */
#ifndef WINCH_PUSH_H
#define WINCH_PUSH_H

#include "timestamp.h"
#include "util.h"
#include "winch/client.h"

/* The Ruby client's payload size is unbounded; ours is bounded to what winch will run. */
#define PUSH_MAX_DEPTH 128

/*
 * The deepest JSON nesting a push may carry (default PUSH_MAX_DEPTH). winch sets its
 * --max-depth at start, so a handler can push what the process runs. Call before any push.
 */
void push_set_max_depth(int depth);

/*
 * When a job with options opt (NULL: defaults) runs, as perform_at/perform_in decide it:
 * the epoch time it is scheduled for, or 0 when it runs now (no time given, or a time not
 * after now). at_override > 0 replaces opt's at and in (push_bulk's per-job times).
 */
double push_when(const struct winch_push_options *opt, double at_override, double now);

/*
 * Check a push before anything is built: klass non-empty, queue (NULL: "default") non-empty
 * and at most QUEUE_NAME_MAX bytes, args_json (NULL: "[]") a JSON array, opt's retry count
 * >= 0, backtrace >= -1, times finite, extra_json an object that names no member the client
 * writes. Returns 0, or -1 with a
 * one-line reason in err ("args: '{}' is not a JSON array"). All borrowed.
 */
int push_check(const char *klass, const char *queue, const char *args_json,
	       const struct winch_push_options *opt, char *err, size_t errlen) WINCH_MUSTCHECK;

/*
 * Append the payload to out, in the Ruby client's member order: retry, queue, backtrace,
 * the extra members, args (byte for byte, surrounding white space trimmed), class, jid,
 * created_at, and enqueued_at unless scheduled (at > 0). Times in gen's unit (now for both).
 * jid_out (WINCH_JID_SIZE bytes) gets the fresh jid, if not NULL. The push must have passed
 * push_check(): -1 otherwise, with out unchanged.
 */
int push_build(struct sbuf *out, const char *klass, const char *queue, const char *args_json,
	       const struct winch_push_options *opt, double at, double now, enum sidekiq_gen gen,
	       char *jid_out) WINCH_MUSTCHECK;

/* The queue a push goes to: queue, or "default" for NULL or "". Borrowed. */
const char *push_queue(const char *queue);

#endif
