/*
 * winch/client.h: enqueue Sidekiq jobs from C, as the Ruby client does (Sidekiq::Client#push
 * and #push_bulk): the same payload, the same Redis commands (SIDEKIQ-PROTOCOL.md §3).
 *
 * The client is blocking: each call sends its commands and waits for Redis (up to the
 * timeout, 5 s by default). It is for programs that only enqueue, and for winchctl; a
 * handler running inside winch should use winch_job_push() instead. A client is not
 * thread-safe: use one per thread.
 *
 * Errors: every function that can fail returns -1 (or NULL) and leaves a one-line message in
 * winch_client_error() and a kind in winch_client_error_kind(); the next successful call
 * clears them. After a lost connection the next call reconnects.
 *
 * Ownership: a client is created by winch_client_new() and owned by the caller until
 * winch_client_free(). Every pointer passed in is borrowed for the call only: strings are
 * copied or sent before the call returns. Strings returned are borrowed from the client and
 * valid until its next call.
 */
#ifndef WINCH_CLIENT_H
#define WINCH_CLIENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct winch_client;

/* A jid is 24 lowercase hex characters; buffers for one hold this many bytes (NUL included). */
#define WINCH_JID_SIZE 25

/* What kind of error the last call had. */
enum winch_client_error_kind {
	WINCH_CLIENT_OK = 0,   /* no error */
	WINCH_CLIENT_EINVAL,   /* a bad argument (class, args, options): nothing was sent */
	WINCH_CLIENT_ECONFIG,  /* a bad URL or REDIS_URL/REDIS_PROVIDER: nothing can be sent */
	WINCH_CLIENT_ECONNECT, /* Redis unreachable, or the connection broke or timed out
				* mid-call: the commands may or may not have run */
	WINCH_CLIENT_EREDIS,   /* Redis answered with an error (NOAUTH, WRONGTYPE, OOM, ...) */
};

/* `retry` of the jobs pushed. */
enum winch_client_retry {
	WINCH_CLIENT_RETRY_TRUE = 0, /* "retry":true, Sidekiq's default: the worker's max
				      * retries (25 unless configured) */
	WINCH_CLIENT_RETRY_FALSE,    /* "retry":false: no retries and no dead set */
	WINCH_CLIENT_RETRY_COUNT,    /* "retry":N, N = retry_count (0: dead on first failure) */
};

#define WINCH_BACKTRACE_ALL (-1)

/*
 * Options of a push, as Sidekiq's sidekiq_options. A zeroed struct (or NULL) is Sidekiq's
 * defaults: retry true, no backtrace, run now.
 */
struct winch_push_options {
	enum winch_client_retry retry;
	int retry_count;        /* with WINCH_CLIENT_RETRY_COUNT, >= 0 */
	int backtrace;          /* 0: not written (no backtrace is kept), WINCH_BACKTRACE_ALL:
				 * "backtrace":true, N > 0: "backtrace":N (the first N lines) */
	double at;              /* run at this epoch time (seconds): the job goes to the
				 * schedule set; 0: not given */
	double in;              /* run this many seconds from now, when at is 0; as Ruby's
				 * perform_in, a value >= 1e9 is an epoch time. A time not after
				 * now pushes the job now, as perform_at/perform_in do. */
	const char *extra_json; /* NULL, or a JSON object whose members are added to each
				 * payload verbatim (tags, retry_queue, dead, retry_for, ...); it
				 * may not name a member the client writes (class, args, queue,
				 * jid, retry, backtrace, created_at, enqueued_at, at) */
};

/*
 * A new client for url ("redis://[user:password@]host[:port][/db]" or
 * "unix:///path.sock?db=N"), or NULL for the environment, as winch reads it (REDIS_URL, or
 * the variable REDIS_PROVIDER names; default redis://127.0.0.1:6379/0). It connects on
 * first use. Never returns NULL (it aborts on out-of-memory): a bad URL leaves the client
 * failing every call with WINCH_CLIENT_ECONFIG and the reason in winch_client_error().
 */
struct winch_client *winch_client_new(const char *url);
void winch_client_free(struct winch_client *c); /* NULL is fine; closes the connection */

/* The last error's message (e.g. "redis at 127.0.0.1:6379/0 unreachable: Connection
 * refused"), or NULL when the last call succeeded. Borrowed from c. */
const char *winch_client_error(const struct winch_client *c);
enum winch_client_error_kind winch_client_error_kind(const struct winch_client *c);

/*
 * Settings; each returns 0, or -1 (EINVAL) for a bad value. Call them before pushing.
 *   namespace: the redis-namespace prefix of a Sidekiq 6 app ("myapp" -> "myapp:queue:x");
 *     NULL or "" for none (the default). Copied.
 *   sidekiq: the Sidekiq generation of the app, 6, 7 (default) or 8: the unit of the
 *     payload timestamps written (8: integer milliseconds; else float seconds).
 *   timeout: seconds allowed for connecting and for each reply (default 5; > 0).
 */
int winch_client_set_namespace(struct winch_client *c, const char *ns);
int winch_client_set_sidekiq(struct winch_client *c, int generation);
int winch_client_set_timeout(struct winch_client *c, double seconds);

/* Connect now (AUTH, SELECT) if not connected: 0, or -1 (ECONFIG, ECONNECT, EREDIS). */
int winch_client_connect(struct winch_client *c);

/*
 * Push one job of class_name (non-empty) to queue (NULL or "": "default") with args_json,
 * a JSON array text written byte for byte (NULL: []), and opt (NULL: defaults). A job to
 * run now gets enqueued_at and goes to its queue (SADD queues + LPUSH queue:<q>); a job
 * scheduled later goes to the schedule set without enqueued_at (ZADD schedule <at>).
 * jid_out (WINCH_JID_SIZE bytes), if not NULL, gets the new jid. Returns 0 or -1.
 * On READONLY/NOREPLICAS/UNBLOCKED (a failover) it reconnects and tries once more, as
 * Sidekiq does.
 */
int winch_client_push(struct winch_client *c, const char *class_name, const char *queue,
		      const char *args_json, const struct winch_push_options *opt, char *jid_out);

/*
 * Push n jobs of one class, queue and options in one pipeline, as push_bulk: args_list[i]
 * is the i-th job's args (a JSON array text each), at_list, if not NULL, the i-th job's
 * epoch run time (0: opt's at/in), overriding opt. All or nothing on bad input: every job is
 * checked before anything is sent. jids_out, if not NULL, gets n jids of WINCH_JID_SIZE
 * bytes each (jid i at jids_out + i * WINCH_JID_SIZE). n = 0 sends nothing. Returns 0 or -1.
 */
int winch_client_push_bulk(struct winch_client *c, const char *class_name, const char *queue,
			   const char *const *args_list, size_t n,
			   const struct winch_push_options *opt, const double *at_list,
			   char *jids_out);

#ifdef __cplusplus
}
#endif
#endif
