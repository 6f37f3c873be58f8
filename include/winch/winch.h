/*
 * winch.h: the API a handler is written against.
 *
 * A handler is a C function that runs one job on one of winch's handler
 * threads. It may block (disk, network, CPU); it must not keep any pointer it
 * got from the job after it returns. It ends the job by returning one of the
 * results below. Jobs are registered by their Ruby class name
 * ("ExtractJob", "Reports::Extract"); for ActiveJob jobs that is the wrapped
 * job class.
 *
 * Ownership: every pointer a winch_job_* accessor returns is borrowed from the
 * job and valid until the handler returns. Strings passed in are copied.
 */
#ifndef WINCH_WINCH_H
#define WINCH_WINCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WINCH_API_VERSION 1

struct json_object;
struct winch_job;

/* How a handler ends a job. */
enum winch_result {
	WINCH_OK = 0,      /* success: acknowledged, counted as processed */
	WINCH_FAIL = 1,    /* failure: the job's retry rules apply; counted as processed and failed */
	WINCH_REQUEUE = 2, /* the process is stopping: put the job back unchanged, count nothing */
};

typedef enum winch_result (*winch_handler_fn)(struct winch_job *job);

/* What a class's jobs default to when the payload does not say. */
struct winch_handler_def {
	const char *class_name; /* Ruby class name; borrowed, must outlive the process */
	winch_handler_fn fn;
};

/* --- the job, for the handler --- */
const char *winch_job_jid(const struct winch_job *job);
/* The class the job was dispatched by: the `wrapped` class for ActiveJob jobs. */
const char *winch_job_class(const struct winch_job *job);
const char *winch_job_queue(const struct winch_job *job);
/* The arguments: `args`, or for ActiveJob the resolved `arguments`. Borrowed json-c array. */
struct json_object *winch_job_args(const struct winch_job *job);
/* The arguments as the JSON text they came in (exact numbers); *len gets its length. */
const char *winch_job_args_raw(const struct winch_job *job, size_t *len);
/* The whole payload as fetched from Redis, byte for byte. */
const char *winch_job_payload(const struct winch_job *job, size_t *len);
/* retry_count from the payload, or -1 on the first attempt. */
int winch_job_retry_count(const struct winch_job *job);
/* created_at / enqueued_at in float epoch seconds whatever unit the producer wrote; 0 if absent. */
double winch_job_created_at(const struct winch_job *job);
double winch_job_enqueued_at(const struct winch_job *job);
/* Nonzero once the process has begun to stop: a long handler may return WINCH_REQUEUE. */
int winch_job_stopping(const struct winch_job *job);

/*
 * Record why the job failed; call it before returning WINCH_FAIL. error_class is a Ruby-style
 * class name ("ArgumentError"); message is any text. Both are copied. Later calls replace
 * earlier ones. A handler that returns WINCH_FAIL without calling this fails as
 * "RuntimeError" with the message "handler failed".
 */
void winch_job_set_error(struct winch_job *job, const char *error_class, const char *message);
/* Add one backtrace line (copied), stored when the job's `backtrace` option asks for it. */
void winch_job_add_backtrace(struct winch_job *job, const char *line);

/*
 * Enqueue a job as the Ruby client would: class, queue and args (a JSON array text, kept
 * byte for byte); a fresh jid, created_at, enqueued_at and "retry":true are added. The push
 * is sent when called, not when this job ends. jid_out (25 bytes) receives the new jid if
 * not NULL. Returns 0, or -1 if args_json is not a JSON array.
 */
int winch_job_enqueue(struct winch_job *job, const char *class_name, const char *queue,
		      const char *args_json, char *jid_out);

/* Log a line at info level with the job's context (jid, class). */
void winch_job_log(const struct winch_job *job, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
