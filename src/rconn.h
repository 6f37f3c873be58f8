/*
 * rconn: one Redis connection, owned by the loop thread. winch owns the transport (a
 * non-blocking socket on libev: TCP or a unix socket; TLS later behind the same calls) and
 * uses hiredis only for its reply reader and command formatter, because Debian's hiredis
 * 0.14.1 has no timeouts and no TLS.
 *
 * DESIGN: commands are queued in order and pipelined; replies come back in the same order.
 * A command is queued whether or not the connection is up: it is sent as soon as it is.
 * When the connection drops, commands already sent either fail (their callback gets NULL)
 * or, with RCONN_PERSIST, are sent again after the reconnect (at least once; use it for
 * idempotent writes such as ZADD and for MULTI blocks whose repetition is harmless).
 * Connects and commands have timeouts; a stuck connection is closed and replaced, with
 * backoff and jitter between attempts.
 */
#ifndef WINCH_RCONN_H
#define WINCH_RCONN_H

#include <stddef.h>

#include "redisurl.h"
#include "util.h"

struct ev_loop;
struct redisReply;
struct rconn;
struct rcmd;

/* reply is borrowed (valid during the call only) and NULL when the command failed. */
typedef void (*rconn_reply_fn)(struct rconn *rc, struct redisReply *reply, void *priv);

enum rconn_event {
	RCONN_UP,   /* connected, authenticated, database selected (after every connect) */
	RCONN_DOWN, /* the connection was lost or could not be made; reconnecting */
};
typedef void (*rconn_event_fn)(struct rconn *rc, enum rconn_event ev, const char *why, void *priv);

enum rconn_flags {
	RCONN_PERSIST = (1 << 0),  /* resend after a reconnect instead of failing */
	RCONN_BLOCKING = (1 << 1), /* a blocking command: its timeout adds the block time */
};

/* url is borrowed and must outlive the connection; name is copied (for log lines). */
struct rconn *rconn_new(struct ev_loop *loop, const struct redis_url *url, const char *name);
/* Never from one of its own reply callbacks (rconn_stop there, free later). */
void rconn_free(struct rconn *rc);
void rconn_on_event(struct rconn *rc, rconn_event_fn fn, void *priv);
/* Seconds a reply may take before the connection is replaced (default 10). */
void rconn_set_timeout(struct rconn *rc, double seconds);
#define RCONN_DEFAULT_MAX_REPLY (64u * 1024 * 1024)

/*
 * The most bytes one reply may take on the wire (default RCONN_DEFAULT_MAX_REPLY, which 0
 * also sets; hiredis 0.14.1 has no limit of its own). A reply that grows past it, or an array announcing more elements than it
 * could hold, is refused: one warning, the connection is closed and replaced at once, and
 * the command it answers fails (callback with NULL, rconn_reply_refused() true during that
 * call; never sent again, even with RCONN_PERSIST). The commands sent behind it fail or are
 * resent as after any lost connection, but no RCONN_DOWN is reported: Redis is not down.
 */
void rconn_set_max_reply(struct rconn *rc, size_t bytes);
/* In a reply callback: nonzero when the reply was NULL because it was over the limit. */
int rconn_reply_refused(const struct rconn *rc);
/* Begin connecting (and reconnecting whenever the connection drops). */
void rconn_start(struct rconn *rc);
/* Waiting to reconnect: try now (another connection to the same server just came up). */
void rconn_retry_now(struct rconn *rc);
/* Close and stop reconnecting; queued commands fail with NULL. From a reply callback, this
 * happens once the replies already read are handled. */
void rconn_stop(struct rconn *rc);
int rconn_is_up(const struct rconn *rc);
const char *rconn_name(const struct rconn *rc);
/* The server's CLIENT ID of the current connection, or -1. */
long long rconn_client_id(const struct rconn *rc);
/* Commands queued or awaiting replies. */
size_t rconn_pending(const struct rconn *rc);

/*
 * A command, or a MULTI/EXEC block of commands, built before sending. rconn_send() takes
 * ownership of it. The callback gets the reply of the single command, or EXEC's reply.
 */
struct rcmd *rcmd_new(void);
void rcmd_free(struct rcmd *c);
/* Wrap the commands in MULTI ... EXEC. */
void rcmd_multi(struct rcmd *c);
/* Append a command; arguments are copied. */
void rcmd_argv(struct rcmd *c, int argc, const char **argv, const size_t *lens);
/* Append a command from string arguments ended by NULL. */
void rcmd_args(struct rcmd *c, const char *first, ...) __attribute__((sentinel));
/* Append `cmd key value` where value is binary (len bytes): RPUSH, LPUSH, ... */
void rcmd_key_value(struct rcmd *c, const char *cmd, const char *key, const char *value,
		    size_t len);
/*
 * Append `EVAL script nkeys kv...`: the n values kv[0..n) are the keys, then the arguments;
 * kvlen gives their lengths (binary values), or NULL when all are C strings.
 */
void rcmd_eval(struct rcmd *c, const char *script, int nkeys, const char *const *kv,
	       const size_t *kvlen, int n);
size_t rcmd_count(const struct rcmd *c);

/*
 * Queue c and send it when the connection is up. fn (may be NULL) is called exactly once:
 * with the reply, or NULL if the command failed or the connection was stopped.
 * extra_timeout adds seconds to the command timeout (for BRPOP's block time).
 */
void rconn_send(struct rconn *rc, struct rcmd *c, unsigned flags, double extra_timeout,
		rconn_reply_fn fn, void *priv);

/* A reply as text for log lines ("(nil)", error text, "(array of 3)"). */
const char *rconn_reply_str(const struct redisReply *r);

#endif
