/*
 * winch.h: the API a handler module is written against.
 *
 * A module is a shared object that defines one symbol, `winch_module` (use WINCH_MODULE),
 * naming the job classes it handles. winch loads it at start (`winch -M path.so` or
 * `--handlers DIR`) and refuses it, before fetching any job, if it was built for another
 * WINCH_API_VERSION.
 *
 * A handler is a C function that runs one job on one of winch's -c handler threads. It may
 * block (disk, network, CPU). Several handlers run at once, on different threads: module
 * code must be thread-safe. It ends the job by returning one of enum winch_result.
 *
 * Ownership: every pointer a winch_job_* accessor returns is borrowed from the job and valid
 * until the handler (or callback) returns; copy what you keep. Strings passed in are copied
 * before the call returns. Definitions passed to winch (struct winch_module, the handler
 * table, options) are borrowed for the life of the process: make them static.
 */
#ifndef WINCH_WINCH_H
#define WINCH_WINCH_H

#include <stddef.h>
#include <stdint.h>

#include <winch/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below or a function's meaning changes incompatibly. */
#define WINCH_API_VERSION 1

struct json_object;
struct winch_job;

/* How a handler ends a job. */
enum winch_result {
	WINCH_OK = 0,      /* success: acknowledged, counted as processed */
	WINCH_FAIL = 1,    /* failure: the job's retry rules apply; counted as processed and failed */
	WINCH_REQUEUE = 2, /* the process is stopping (winch_job_stopping) and the handler ended
			    * early: the job goes back to its queue unchanged, counted as neither.
			    * Returned while the process is not stopping, it counts as a failure
			    * (Winch::BadResult): to try again later, fail. */
};

typedef enum winch_result (*winch_handler_fn)(struct winch_job *job);

/*
 * Sidekiq's `sidekiq_retry_in`: seconds until the next attempt after failure number count
 * (0 for the first). Return > 0 for that delay (Sidekiq's jitter is still added), 0 for
 * Sidekiq's own formula, WINCH_RETRY_KILL to send the job to the dead set now, or
 * WINCH_RETRY_DISCARD to drop it. Runs on the handler thread.
 */
#define WINCH_RETRY_KILL (-1)
#define WINCH_RETRY_DISCARD (-2)
typedef int (*winch_retry_in_fn)(const struct winch_job *job, int count, const char *error_class,
				 const char *message);

/*
 * Sidekiq's `sidekiq_retries_exhausted`: the job has no retries left (or its retry is false).
 * Return 0 to let it go to the dead set (or be dropped if its options say dead: false), or
 * WINCH_RETRY_DISCARD to drop it. Runs on the handler thread; a crash in it is a crash.
 */
typedef int (*winch_exhausted_fn)(const struct winch_job *job, const char *error_class,
				  const char *message);

/* Process-wide hooks, as Sidekiq's error_handlers and death_handlers (for an error tracker). */
typedef void (*winch_error_fn)(const struct winch_job *job, const char *error_class,
			       const char *message);
typedef void (*winch_death_fn)(const struct winch_job *job, const char *error_class,
			       const char *message);

/* `retry` for a class: used when a payload carries no `retry` of its own. */
enum winch_retry_mode {
	WINCH_RETRY_DEFAULT = 0, /* Sidekiq's default: true, i.e. --max-retries (25) */
	WINCH_RETRY_NONE,        /* retry: false */
	WINCH_RETRY_COUNT,       /* retry: N (retry_count below; 0 = straight to the dead set) */
};

/* Per-class options, as a Ruby class's sidekiq_options. Zeroed = Sidekiq's defaults. */
struct winch_class_options {
	enum winch_retry_mode retry;
	int retry_count;               /* with WINCH_RETRY_COUNT */
	int backtrace;                 /* when the payload has none: 0 none, -1 all lines, N first N */
	winch_retry_in_fn retry_in;    /* or NULL */
	winch_exhausted_fn exhausted;  /* or NULL */
};

/* One job class: `{ "ExtractJob", extract_perform, &extract_options }`; options may be NULL. */
struct winch_handler_def {
	const char *class_name; /* Ruby class name, e.g. "Reports::Extract" */
	winch_handler_fn fn;
	const struct winch_class_options *options;
};

/* What a module exports as `winch_module`. */
struct winch_module {
	int api_version;                          /* WINCH_API_VERSION: always first */
	const char *name;                         /* for log lines */
	const struct winch_handler_def *handlers; /* ended by { NULL, NULL, NULL } */
	winch_error_fn on_error;                  /* or NULL: every failed attempt */
	winch_death_fn on_death;                  /* or NULL: every job that dies or is dropped */
	int (*init)(void);                        /* or NULL: called once at load; -1 refuses */
};

/* Define the module: WINCH_MODULE("extract", extract_handlers, NULL, NULL, NULL); */
#define WINCH_MODULE(name, handlers, on_error, on_death, init)                                     \
	const struct winch_module winch_module = {WINCH_API_VERSION, (name), (handlers),           \
						  (on_error), (on_death), (init)}

/* --- the job --- */
const char *winch_job_jid(const struct winch_job *job);
/* The class the job was dispatched by: the job class for ActiveJob jobs. */
const char *winch_job_class(const struct winch_job *job);
const char *winch_job_queue(const struct winch_job *job);
/* The arguments: `args`, or for ActiveJob the `arguments` resolved as Rails hands them to
 * perform (symbol-key and keyword markers removed, a GlobalID as its URI string). A json-c
 * array; json-c clamps integers beyond 64 bits: use winch_job_args_raw for those. */
struct json_object *winch_job_args(const struct winch_job *job);
/* The same arguments as JSON text, numbers byte for byte as the producer wrote them. */
const char *winch_job_args_raw(const struct winch_job *job, size_t *len);
/* The whole payload as fetched from Redis, byte for byte. */
const char *winch_job_payload(const struct winch_job *job, size_t *len);
/* retry_count from the payload, or -1 when absent (the first attempt). */
int winch_job_retry_count(const struct winch_job *job);
/* created_at / enqueued_at in float epoch seconds, whatever unit the producer wrote; 0 if absent. */
double winch_job_created_at(const struct winch_job *job);
double winch_job_enqueued_at(const struct winch_job *job);
/*
 * ActiveJob jobs: the job_id (UUID), executions and locale as the payload stores them; NULL /
 * -1 for other jobs. executions is 0 on a first run: Rails' `executions` inside perform is
 * this value + 1.
 */
const char *winch_job_aj_job_id(const struct winch_job *job);
long winch_job_aj_executions(const struct winch_job *job);
const char *winch_job_aj_locale(const struct winch_job *job);
/* Nonzero once the process is stopping: a long handler may return WINCH_REQUEUE. */
int winch_job_stopping(const struct winch_job *job);

/*
 * Record why the job failed; call it before returning WINCH_FAIL. error_class is a Ruby-style
 * class name ("ArgumentError"); message any text. Later calls replace earlier ones. A handler
 * that returns WINCH_FAIL without calling it fails as "RuntimeError", "handler failed".
 */
void winch_job_set_error(struct winch_job *job, const char *error_class, const char *message);
/* Add one backtrace line, stored when the job's `backtrace` option asks for it. */
void winch_job_add_backtrace(struct winch_job *job, const char *line);

/*
 * A job to enqueue, as the Ruby client writes it (SIDEKIQ-PROTOCOL.md §3). Its options
 * (retry, backtrace, at/in to schedule it, extra payload members) are the C client's
 * struct winch_push_options (<winch/client.h>): one description of a push for both.
 */
struct winch_push {
	const char *class_name;                   /* required */
	const char *queue;                        /* NULL: "default" */
	const char *args_json;                    /* a JSON array, kept byte for byte; NULL: [] */
	const struct winch_push_options *options; /* NULL: the Ruby client's defaults */
};

/*
 * Enqueue one job (fresh jid, created_at, enqueued_at unless scheduled, "retry":true unless
 * the options say otherwise). The push is sent when called, not when this job ends.
 * jid_out (25 bytes) receives the jid if not NULL. Returns 0, or -1 if the push is not valid
 * (as winch_client_push checks it: class missing, args not an array, extra members not an
 * object or naming a member the client writes); the reason is logged with the job.
 */
int winch_job_push(struct winch_job *job, const struct winch_push *push, char *jid_out);
/* Enqueue n jobs; jids_out (n * 25 bytes) if not NULL. All or none: -1 if any is invalid. */
int winch_job_push_bulk(struct winch_job *job, const struct winch_push *pushes, size_t n,
			char *jids_out);
/* Shorthand for winch_job_push of class, queue, args now. */
int winch_job_enqueue(struct winch_job *job, const char *class_name, const char *queue,
		      const char *args_json, char *jid_out);

/* Log with the job's context (tid, class, jid). */
enum winch_log_level {
	WINCH_LOG_ERROR = 0,
	WINCH_LOG_WARN = 1,
	WINCH_LOG_INFO = 2,
	WINCH_LOG_DEBUG = 3,
};
void winch_job_log(const struct winch_job *job, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))); /* at info */
void winch_job_log_at(const struct winch_job *job, enum winch_log_level level, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
