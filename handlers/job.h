/*
 * job: the struct behind the public `struct winch_job`: one fetched job from the moment it
 * is accepted until its outcome is written. Created and freed on the loop thread; between
 * pool_run() and its completion post, only the handler thread touches it.
 */
#ifndef WINCH_JOB_H
#define WINCH_JOB_H

#include <stddef.h>
#include <stdint.h>

#include <winch/winch.h>

#include "activejob.h"
#include "payload.h"
#include "retry.h"
#include "util.h"

/*
 * Sends a push on the loop thread; called from the handler thread. queue and payload are
 * transferred. at is 0 for now, else the schedule set's score.
 */
typedef void (*job_push_fn)(void *ctx, char *queue, char *payload, size_t len, double at);

struct winch_job {
	struct payload p;          /* the parsed payload; p.raw is the truth */
	char *queue;               /* the queue it was fetched from (owned) */
	const char *dispatch_class;/* class, or the wrapped class for ActiveJob (borrowed) */
	int is_activejob;
	struct activejob_info aj;  /* when is_activejob; aj.arguments owned */
	char *args_raw;            /* owned text of the arguments given to the handler, or NULL to use p.raw */
	size_t args_raw_len;
	winch_handler_fn fn;
	const struct winch_handler_def *def; /* borrowed from the registry, or NULL */
	struct retry_config retry_cfg;
	struct retry_outcome outcome;  /* a failure's outcome, decided on the handler thread */
	int outcome_ready;
	int slot;                  /* handler thread index, -1 before dispatch */
	uint64_t generation;       /* slot generation at dispatch: a stale completion is ignored */
	char tid[16];
	double run_at;             /* real time when it started (seconds) */
	double started_mono;
	double elapsed;            /* seconds the handler ran */
	enum winch_result result;
	char *error_class;         /* owned, set by winch_job_set_error */
	char *error_message;
	char **backtrace;          /* owned lines */
	size_t backtrace_n;
	const volatile int *stopping; /* the engine's flag (borrowed) */
	job_push_fn push;
	void *push_ctx;
	enum sidekiq_gen gen;
};

struct winch_job *job_new(void);
void job_free(struct winch_job *j);
/*
 * Run the handler (handler thread): fills result, error and elapsed. A failure then runs the
 * error hooks, decides its outcome (the retry rules, with the class's retry_in and exhausted
 * callbacks) and runs the death hooks when the job dies or is dropped: all module code runs
 * on handler threads, never on the loop.
 */
void job_execute(struct winch_job *j);
/* The same failure processing for a job that did not run (loop thread: no module code). */
int job_decide_failure(struct winch_job *j, int run_hooks) WINCH_MUSTCHECK;

#endif
