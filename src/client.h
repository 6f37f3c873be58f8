/*
 * client: the blocking Redis client behind include/winch/client.h (hiredis's synchronous
 * API), and what winchctl's commands build on: Redis commands, pipelines and key names with
 * the client's namespace. Everything here is for use inside libwinch.
 *
 * Replies: a struct redisReply returned here is owned by the caller, who frees it with
 * client_reply_free(); it never refers to the client.
 */
#ifndef WINCH_CLIENT_INTERNAL_H
#define WINCH_CLIENT_INTERNAL_H

#include <stddef.h>

#include "timestamp.h"
#include "util.h"
#include "winch/client.h"

struct redisReply;

/* One command's arguments, each an owned binary-safe copy. */
struct client_cmd {
	int argc;
	int cap;
	char **argv;  /* owned */
	size_t *lens; /* owned */
};

void client_cmd_init(struct client_cmd *cmd);
void client_cmd_release(struct client_cmd *cmd); /* frees the arguments; back to init */
void client_cmd_add(struct client_cmd *cmd, const void *data, size_t len);
void client_cmd_adds(struct client_cmd *cmd, const char *s);
void client_cmd_addf(struct client_cmd *cmd, const char *fmt, ...) WINCH_PRINTF(2, 3);

/* Settings read back. */
enum sidekiq_gen client_gen(const struct winch_client *c);
/* "host:port/db" or "unix:/path?db=N", never the password. Borrowed from c. */
const char *client_describe(const struct winch_client *c);

/* Append name with the namespace prefix ("<ns>:") to out: "retry" -> "myapp:retry". */
void client_key(const struct winch_client *c, struct sbuf *out, const char *name);
/* queue:<name>, with the prefix. */
void client_key_queue(const struct winch_client *c, struct sbuf *out, const char *queue);

/*
 * Send one command and read its reply. Returns the reply, or NULL with the error set
 * (ECONNECT, ECONFIG, or EREDIS for an error reply, which is freed). Clears the error first.
 */
struct redisReply *client_command(struct winch_client *c, const struct client_cmd *cmd)
	WINCH_MUSTCHECK;

/*
 * A pipeline: client_begin (connects, clears the error, drops any replies an earlier
 * pipeline left unread), then append commands (buffered), then read one reply per command
 * in order. client_begin and client_append return 0 or -1 with the error set. client_read
 * returns the next reply, error replies included (check with client_reply_check), or NULL
 * with ECONNECT when the connection failed: the replies still pending are then lost.
 */
int client_begin(struct winch_client *c) WINCH_MUSTCHECK;
int client_append(struct winch_client *c, const struct client_cmd *cmd) WINCH_MUSTCHECK;
struct redisReply *client_read(struct winch_client *c) WINCH_MUSTCHECK;

/* 0 if r is a reply that is not an error; else -1 with the error set (EREDIS, or ECONNECT
 * for NULL). r stays the caller's. */
int client_reply_check(struct winch_client *c, const struct redisReply *r);

void client_reply_free(struct redisReply *r); /* NULL is fine */

/* A reply as Ruby's to_i reads it: an integer, a string's leading integer, else 0. */
long long client_reply_ll(const struct redisReply *r);
/* A reply as Ruby's to_f reads it: a string's leading number (a score), else 0. */
double client_reply_double(const struct redisReply *r);

/* A list of strings, each owned. */
struct client_strings {
	char **v;   /* owned, n strings (each owned) */
	size_t *lens;
	size_t n;
	size_t cap;
};

void client_strings_init(struct client_strings *s);
void client_strings_release(struct client_strings *s);
void client_strings_add(struct client_strings *s, const char *data, size_t len);
void client_strings_sort(struct client_strings *s); /* byte order, as Ruby's String#<=> */

/*
 * Every member of the set name (namespaced here) with SSCAN, as Sidekiq's API reads
 * `queues` and `processes`, appended to out. At most max members: returns 1 when the set
 * had more (out holds max of them), 0 when complete, -1 with the error set.
 */
int client_sscan(struct winch_client *c, const char *name, struct client_strings *out,
		 size_t max) WINCH_MUSTCHECK;

/* Record an error of kind with a message (printf-style); returns -1. */
int client_fail(struct winch_client *c, enum winch_client_error_kind kind, const char *fmt, ...)
	WINCH_PRINTF(3, 4);
void client_clear_error(struct winch_client *c);

#endif
