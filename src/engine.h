/*
 * engine: the worker process's state on the loop thread: the Redis connections, the handler
 * threads and the jobs they run, the run/quiet/stop state machine, signals, and the
 * counters the heartbeat flushes. fetch, outcome, heartbeat and poller are parts of it and
 * share this struct; nothing outside the loop thread touches it except through pool_post.
 */
#ifndef WINCH_ENGINE_H
#define WINCH_ENGINE_H

#include <stdint.h>

#include <ev.h>

#include "options.h"
#include "procinfo.h"
#include "util.h"

struct fetch;
struct pool;
struct rconn;
struct winch_job;

/* The life of the process. Moves only forward, through engine_change_state(). */
enum engine_state {
	ENGINE_RUNNING,  /* fetching and running jobs */
	ENGINE_QUIET,    /* TSTP: running jobs finish, nothing new is fetched, still beating */
	ENGINE_STOPPING, /* TERM/INT: waiting up to -t for running jobs */
	ENGINE_CLOSING,  /* requeueing what still runs, leaving the process set */
	ENGINE_DONE,     /* the loop ends */
};

/* One handler thread's current job, for the work hash and the shutdown requeue. */
struct engine_slot {
	struct winch_job *job; /* or NULL when idle */
	uint64_t generation;   /* bumped whenever the slot is given up for its job */
	char tid[16];
};

struct engine {
	struct ev_loop *loop;
	struct options *opt;          /* borrowed */
	struct procinfo pi;
	enum engine_state state;
	volatile int stopping;        /* read by handler threads (winch_job_stopping) */
	int exit_code;

	struct rconn *cmd;            /* acks, retries, heartbeat, poller */
	struct fetch *fetcher;        /* reliable fetch, with a blocking connection per queue */
	int redis_down;               /* an outage is under way (logged once) */
	double down_since;

	struct pool *pool;
	struct engine_slot *slots;    /* one per handler thread */

	/* counters since the last flush */
	long processed;
	long failed;
	unsigned long flush_seq;      /* numbers each stats flush, for its guard key */

	/* heartbeat */
	ev_timer beat_timer;
	int beat_inflight;
	long rtt_us;
	char *info_json;              /* computed once */
	char ttl[24];                 /* --heartbeat-ttl as text, for EXPIRE */
	/* recovery of dead processes' in-progress lists */
	ev_timer recovery_timer;
	/* poller */
	ev_timer poll_timer;
	int poll_inflight;
	/* shutdown */
	ev_timer stop_timer;
	double deadline;
	int close_pending;            /* replies still awaited before the loop may end */
	long outcome_pending;         /* outcome writes (requeue, retry, dead, push) not yet acknowledged */
	ev_signal sig_term, sig_int, sig_tstp, sig_ttin, sig_hup, sig_usr1;

	/* classes already warned about (unknown / Pro fields), as "\n"-separated names */
	struct sbuf warned;
};

/* Set everything up (threads, connections, watchers). Returns 0 or -1 (logged). */
int engine_init(struct engine *e, struct ev_loop *loop, struct options *opt) WINCH_MUSTCHECK;
/* Run until the process has stopped; returns the exit code. */
int engine_run(struct engine *e);
void engine_release(struct engine *e);

void engine_change_state(struct engine *e, enum engine_state to);
/* TSTP from a signal or the Web UI. */
void engine_quiet(struct engine *e, const char *why);
/* TERM/INT from a signal or the Web UI; a second call shortens the wait. */
void engine_stop(struct engine *e, const char *why);
/* TTIN: log every running job. */
void engine_dump(struct engine *e);

/* fetch.c hands over a fetched job (raw text, borrowed) taken from queue (a name). */
void engine_accept(struct engine *e, const char *queue, const char *raw, size_t len);
/* Anything that may free a slot or end a wait calls this: fetch more, or finish stopping. */
void engine_progress(struct engine *e);
/* Log a warning once per (kind, class). */
void engine_warn_once(struct engine *e, const char *kind, const char *klass, const char *fmt,
		      ...) WINCH_PRINTF(4, 5);

/* fetch.c */
void fetch_kick(struct engine *e);
void fetch_halt(struct engine *e);

/* heartbeat.c */
void heartbeat_start(struct engine *e);
void heartbeat_beat(struct engine *e);
/* Flush stats and leave the process set; calls engine_progress when the replies are in. */
void heartbeat_clear(struct engine *e);

/* poller.c */
void poller_start(struct engine *e);
void poller_halt(struct engine *e);

/* outcome.c: the job's end, on the loop thread. They take ownership of job. */
void outcome_apply(struct engine *e, struct winch_job *job);
/*
 * Every outcome of a fetched job removes it from this process's in-progress list in the
 * same MULTI that records the outcome.
 */
/* Push raw back to the tail of its queue (RPUSH, original bytes). */
void outcome_requeue_raw(struct engine *e, const char *queue, const char *raw, size_t len);
/* A payload that cannot run at all: ZADD dead verbatim, with the dead set's trims. */
void outcome_dead_raw(struct engine *e, const char *queue, const char *raw, size_t len);
/*
 * A job that failed before reaching a handler (unknown class, bad field): the retry path.
 * logged: the caller has already logged the job's end (one event, one line).
 */
void outcome_fail_unrun(struct engine *e, struct winch_job *job, int logged);
/* ZADD schedule <at> raw: a fetched job (from queue) for a process that knows its class, or
 * a handler's scheduled push (queue NULL). */
void outcome_schedule_raw(struct engine *e, const char *queue, const char *raw, size_t len,
			  double at);
/* LPUSH a new job made on a handler thread (SADD queues first). Takes queue and data. */
void outcome_push(struct engine *e, char *queue, char *data, size_t len);

#endif
