/*
 * retry: what Sidekiq does with a job whose handler failed (SIDEKIQ-PROTOCOL.md §7):
 * the members it changes in the payload, whether the job is retried, killed (dead set)
 * or discarded, and when the retry runs.
 */
#ifndef WINCH_RETRY_H
#define WINCH_RETRY_H

#include "payload.h"
#include "timestamp.h"
#include "util.h"

#define RETRY_DEFAULT_MAX 25
#define RETRY_MESSAGE_MAX 10000
#define DEAD_DEFAULT_MAX_JOBS 10000
#define DEAD_DEFAULT_TIMEOUT (180L * 24 * 3600)

enum retry_action {
	RETRY_ACTION_RETRY,   /* ZADD retry <score> <payload> */
	RETRY_ACTION_DEAD,    /* ZADD dead <now> <payload>, then trim */
	RETRY_ACTION_DISCARD, /* retry: false, or dead: false at exhaustion: drop and log */
};

/* One failure of one job. Strings are borrowed; a NULL message or class reads as "". */
struct retry_failure {
	const char *error_class;
	const char *message;          /* any bytes: truncated and made valid UTF-8 on output */
	const char *const *backtrace; /* lines, or NULL */
	size_t backtrace_n;
	const char *fetched_queue;    /* the queue the job was fetched from */
	int delay_override;           /* seconds from a handler's retry-in function, or -1;
				       * like Sidekiq, a value <= 0 means the default delay */
};

struct retry_config {
	enum sidekiq_gen gen;
	int max_retries; /* default RETRY_DEFAULT_MAX */
};

struct retry_outcome {
	enum retry_action action;
	int count;        /* retry_count written into the payload */
	double score;     /* RETRY: when it runs (epoch float seconds); DEAD and DISCARD: now */
	struct sbuf json; /* the rewritten payload, for every action (a DISCARD's is for the
			   * log and death hooks); owned, release with retry_outcome_release */
};

void retry_outcome_init(struct retry_outcome *o);
void retry_outcome_release(struct retry_outcome *o);

/*
 * Apply one failure at time now: rewrite the payload's queue, error_message (truncated to
 * 10,000 characters, valid UTF-8), error_class, failed_at or retried_at, retry_count and
 * error_backtrace; then decide by the job's retry option, retry_for and max_retries, with
 * the delay count**4 + 15 (or delay_override) plus gen's jitter. rnd(n) returns an integer
 * in [0, n) (rand_below in production; a fixed stub in tests); it is called once, for a
 * RETRY only.
 *
 * Members keep their place in the raw text; new ones are appended in Ruby's order (queue,
 * error_message, error_class, failed_at | retried_at, retry_count, error_backtrace). queue
 * is retry_queue, else fetched_queue, else the payload's queue, else "default". A character
 * of error_message is one valid UTF-8 sequence or one invalid byte (written as U+FFFD).
 * Exhaustion: max is `retry` when it is an integer, else cfg->max_retries; gen 6 exhausts
 * at count >= max; gen 7 also when failed_at + retry_for < now; gen 8, when retry_for is
 * set, only then. failed_at is now on a first failure, else the payload's (now if absent).
 *
 * p is borrowed; the payload must have parsed as an object (PAYLOAD_OK or
 * PAYLOAD_BAD_FIELD). out must have been initialised; its json is replaced. Returns 0, or
 * -1 (out->json then empty) if the text is not an object or zlib fails.
 */
int retry_apply(const struct payload *p, const struct retry_failure *f,
		const struct retry_config *cfg, double now, uint32_t (*rnd)(uint32_t),
		struct retry_outcome *out) WINCH_MUSTCHECK;

/* The jitter alone, for tests: 6/7: rnd(10) * (count + 1); 8: rnd(10 * (count + 1)). */
double retry_jitter(enum sidekiq_gen gen, int count, uint32_t (*rnd)(uint32_t));

#endif
