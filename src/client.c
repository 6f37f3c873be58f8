/*
 * client: a blocking Redis client (hiredis's synchronous API) that pushes jobs as Sidekiq's
 * Ruby client does, and runs the commands winchctl needs. Connects on first use, reconnects
 * on the call after a lost connection, and keeps hiredis's error detail inside.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "client.h"
#include "push.h"
#include "redisurl.h"
#include "banned.h"

struct winch_client {
	redisContext *ctx;     /* owned; NULL while not connected */
	struct redis_url url;  /* where Redis is (unset when config_bad) */
	char *where;           /* owned: redis_url_describe(), for messages */
	char *prefix;          /* owned: "<ns>:", or NULL for no namespace */
	enum sidekiq_gen gen;
	double timeout;        /* seconds, for connect and each reply */
	int config_bad;        /* the URL could not be read: every call fails */
	int pending;           /* replies of appended commands not read yet */
	enum winch_client_error_kind kind;
	char *error;           /* owned; NULL when the last call succeeded */
};

/* ---- arguments ------------------------------------------------------------------------ */

void client_cmd_init(struct client_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
}

void client_cmd_release(struct client_cmd *cmd)
{
	int i;

	for (i = 0; i < cmd->argc; i++)
		free(cmd->argv[i]);
	free(cmd->argv);
	free(cmd->lens);
	client_cmd_init(cmd);
}

void client_cmd_add(struct client_cmd *cmd, const void *data, size_t len)
{
	if (cmd->argc == cmd->cap) {
		cmd->cap = cmd->cap ? cmd->cap * 2 : 8;
		cmd->argv = xrealloc(cmd->argv, sizeof(*cmd->argv) * (size_t)cmd->cap);
		cmd->lens = xrealloc(cmd->lens, sizeof(*cmd->lens) * (size_t)cmd->cap);
	}
	cmd->argv[cmd->argc] = xstrndup(data, len);
	cmd->lens[cmd->argc] = len;
	cmd->argc++;
}

void client_cmd_adds(struct client_cmd *cmd, const char *s)
{
	client_cmd_add(cmd, s, strlen(s));
}

void client_cmd_addf(struct client_cmd *cmd, const char *fmt, ...)
{
	struct sbuf sb;
	va_list ap;

	sbuf_init(&sb);
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	client_cmd_add(cmd, sbuf_str(&sb), sb.len);
	sbuf_release(&sb);
}

/* ---- errors --------------------------------------------------------------------------- */

void client_clear_error(struct winch_client *c)
{
	FREE_AND_NULL(c->error);
	c->kind = WINCH_CLIENT_OK;
}

int client_fail(struct winch_client *c, enum winch_client_error_kind kind, const char *fmt, ...)
{
	struct sbuf sb;
	va_list ap;

	sbuf_init(&sb);
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(c->error);
	c->error = sbuf_detach(&sb, NULL);
	c->kind = kind;
	return -1;
}

const char *winch_client_error(const struct winch_client *c)
{
	return c->error;
}

enum winch_client_error_kind winch_client_error_kind(const struct winch_client *c)
{
	return c->kind;
}

/* ---- life ----------------------------------------------------------------------------- */

struct winch_client *winch_client_new(const char *url)
{
	struct winch_client *c = xcalloc(1, sizeof(*c));
	char reason[512];
	int rc;

	c->gen = SIDEKIQ_7;
	c->timeout = 5;
	redis_url_init(&c->url);
	if (url)
		rc = redis_url_parse(&c->url, url, reason, sizeof(reason));
	else
		rc = redis_url_from_env(&c->url, NULL, reason, sizeof(reason));
	if (rc < 0) {
		c->config_bad = 1;
		c->where = xstrdup("?");
		if (url)
			client_fail(c, WINCH_CLIENT_ECONFIG, "redis url '%s': %s", url, reason);
		else
			client_fail(c, WINCH_CLIENT_ECONFIG, "%s", reason);
		return c;
	}
	c->where = redis_url_describe(&c->url);
	return c;
}

static void disconnect(struct winch_client *c)
{
	if (c->ctx)
		redisFree(c->ctx);
	c->ctx = NULL;
	c->pending = 0;
}

void winch_client_free(struct winch_client *c)
{
	if (c == NULL)
		return;
	disconnect(c);
	redis_url_release(&c->url);
	free(c->where);
	free(c->prefix);
	free(c->error);
	free(c);
}

int winch_client_set_namespace(struct winch_client *c, const char *ns)
{
	FREE_AND_NULL(c->prefix);
	if (ns && *ns)
		c->prefix = xasprintf("%s:", ns);
	return 0;
}

int winch_client_set_sidekiq(struct winch_client *c, int generation)
{
	if (generation < 6 || generation > 8)
		return client_fail(c, WINCH_CLIENT_EINVAL,
				   "sidekiq: %d is not a Sidekiq generation: 6, 7 or 8", generation);
	c->gen = (enum sidekiq_gen)generation;
	return 0;
}

int winch_client_set_timeout(struct winch_client *c, double seconds)
{
	if (!isfinite(seconds) || seconds <= 0 || seconds > 86400)
		return client_fail(c, WINCH_CLIENT_EINVAL, "timeout: not a number of seconds");
	c->timeout = seconds;
	return 0;
}

enum sidekiq_gen client_gen(const struct winch_client *c)
{
	return c->gen;
}

const char *client_describe(const struct winch_client *c)
{
	return c->where;
}

void client_key(const struct winch_client *c, struct sbuf *out, const char *name)
{
	if (c->prefix)
		sbuf_adds(out, c->prefix);
	sbuf_adds(out, name);
}

void client_key_queue(const struct winch_client *c, struct sbuf *out, const char *queue)
{
	client_key(c, out, "queue:");
	sbuf_adds(out, queue);
}

/* ---- the connection ------------------------------------------------------------------- */

/* hiredis's error as our message; the context is dropped, so the next call reconnects. */
static int io_failed(struct winch_client *c, const char *when)
{
	const char *why = "connection lost";

	if (c->ctx && c->ctx->err) {
		why = c->ctx->errstr;
		/* A blocking read past its timeout fails with EAGAIN. */
		if (c->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
			why = "no reply in time";
	}
	client_fail(c, WINCH_CLIENT_ECONNECT, "redis at %s %s: %s", c->where, when, why);
	disconnect(c);
	return -1;
}

static struct timeval to_timeval(double seconds)
{
	struct timeval tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	return tv;
}

/* One handshake command; 0 if Redis says OK. */
static int handshake(struct winch_client *c, const char *what, struct client_cmd *cmd)
{
	redisReply *r;
	int rc = 0;

	r = redisCommandArgv(c->ctx, cmd->argc, (const char **)cmd->argv, cmd->lens);
	client_cmd_release(cmd);
	if (r == NULL)
		return io_failed(c, "unreachable");
	if (r->type == REDIS_REPLY_ERROR) {
		rc = client_fail(c, WINCH_CLIENT_EREDIS, "redis at %s refused %s: %s", c->where,
				 what, r->str);
		disconnect(c);
	}
	freeReplyObject(r);
	return rc;
}

int winch_client_connect(struct winch_client *c)
{
	struct timeval tv = to_timeval(c->timeout);
	struct client_cmd cmd;

	if (c->config_bad)
		return -1; /* the ECONFIG error from winch_client_new stays */
	if (c->ctx)
		return 0;
	if (c->url.path)
		c->ctx = redisConnectUnixWithTimeout(c->url.path, tv);
	else
		c->ctx = redisConnectWithTimeout(c->url.host, c->url.port, tv);
	if (c->ctx == NULL)
		return client_fail(c, WINCH_CLIENT_ECONNECT, "redis at %s unreachable", c->where);
	if (c->ctx->err)
		return io_failed(c, "unreachable");
	if (redisSetTimeout(c->ctx, tv) != REDIS_OK)
		return io_failed(c, "unreachable");
	client_cmd_init(&cmd);
	if (c->url.password) {
		client_cmd_adds(&cmd, "AUTH");
		if (c->url.user)
			client_cmd_adds(&cmd, c->url.user);
		client_cmd_adds(&cmd, c->url.password);
		if (handshake(c, "AUTH", &cmd) < 0)
			return -1;
	}
	if (c->url.db != 0) {
		client_cmd_adds(&cmd, "SELECT");
		client_cmd_addf(&cmd, "%d", c->url.db);
		if (handshake(c, "SELECT", &cmd) < 0)
			return -1;
	}
	return 0;
}

/* Connect if needed, and drop the replies of a pipeline left unread. */
static int ready(struct winch_client *c)
{
	void *r;

	if (c->config_bad)
		return -1;
	client_clear_error(c);
	if (winch_client_connect(c) < 0)
		return -1;
	while (c->pending > 0) {
		if (redisGetReply(c->ctx, &r) != REDIS_OK)
			return io_failed(c, "failed");
		freeReplyObject(r);
		c->pending--;
	}
	return 0;
}

int client_begin(struct winch_client *c)
{
	return ready(c);
}

int client_append(struct winch_client *c, const struct client_cmd *cmd)
{
	if (c->ctx == NULL)
		return client_fail(c, WINCH_CLIENT_ECONNECT, "redis at %s: not connected",
				   c->where);
	if (redisAppendCommandArgv(c->ctx, cmd->argc, (const char **)cmd->argv, cmd->lens) !=
	    REDIS_OK)
		return io_failed(c, "failed");
	c->pending++;
	return 0;
}

struct redisReply *client_read(struct winch_client *c)
{
	void *r = NULL;

	if (c->ctx == NULL || c->pending == 0) {
		client_fail(c, WINCH_CLIENT_ECONNECT, "redis at %s: no reply pending", c->where);
		return NULL;
	}
	if (redisGetReply(c->ctx, &r) != REDIS_OK) {
		io_failed(c, "failed");
		return NULL;
	}
	c->pending--;
	return r;
}

int client_reply_check(struct winch_client *c, const struct redisReply *r)
{
	if (r == NULL) {
		if (c->kind == WINCH_CLIENT_OK)
			client_fail(c, WINCH_CLIENT_ECONNECT, "redis at %s: no reply", c->where);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR)
		return client_fail(c, WINCH_CLIENT_EREDIS, "redis at %s: %s", c->where, r->str);
	return 0;
}

struct redisReply *client_command(struct winch_client *c, const struct client_cmd *cmd)
{
	redisReply *r;

	if (ready(c) < 0)
		return NULL;
	r = redisCommandArgv(c->ctx, cmd->argc, (const char **)cmd->argv, cmd->lens);
	if (r == NULL) {
		io_failed(c, "failed");
		return NULL;
	}
	if (client_reply_check(c, r) < 0) {
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

void client_reply_free(struct redisReply *r)
{
	if (r)
		freeReplyObject(r);
}

long long client_reply_ll(const struct redisReply *r)
{
	if (r == NULL)
		return 0;
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
		return strtoll(r->str, NULL, 10);
	return 0;
}

double client_reply_double(const struct redisReply *r)
{
	if (r == NULL)
		return 0;
	if (r->type == REDIS_REPLY_INTEGER)
		return (double)r->integer;
	if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
		return strtod(r->str, NULL);
	return 0;
}

/* ---- string lists --------------------------------------------------------------------- */

void client_strings_init(struct client_strings *s)
{
	memset(s, 0, sizeof(*s));
}

void client_strings_release(struct client_strings *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	free(s->lens);
	client_strings_init(s);
}

void client_strings_add(struct client_strings *s, const char *data, size_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, sizeof(*s->v) * s->cap);
		s->lens = xrealloc(s->lens, sizeof(*s->lens) * s->cap);
	}
	s->v[s->n] = xstrndup(data, len);
	s->lens[s->n] = len;
	s->n++;
}

/* Byte order over the whole length (members may hold NUL bytes). */
static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen;
}

void client_strings_sort(struct client_strings *s)
{
	size_t i, j;
	char *v;
	size_t len;

	/* Insertion sort: lists here are queue and process names, rarely more than hundreds. */
	for (i = 1; i < s->n; i++) {
		v = s->v[i];
		len = s->lens[i];
		for (j = i; j > 0 && bytes_cmp(s->v[j - 1], s->lens[j - 1], v, len) > 0; j--) {
			s->v[j] = s->v[j - 1];
			s->lens[j] = s->lens[j - 1];
		}
		s->v[j] = v;
		s->lens[j] = len;
	}
}

int client_sscan(struct winch_client *c, const char *name, struct client_strings *out,
		 size_t max)
{
	struct client_cmd cmd;
	struct sbuf key;
	redisReply *r;
	char cursor[32] = "0";
	size_t i, start = out->n;
	int rc = 0;

	sbuf_init(&key);
	client_key(c, &key, name);
	do {
		client_cmd_init(&cmd);
		client_cmd_adds(&cmd, "SSCAN");
		client_cmd_add(&cmd, key.buf, key.len);
		client_cmd_adds(&cmd, cursor);
		client_cmd_adds(&cmd, "COUNT");
		client_cmd_adds(&cmd, "100");
		r = client_command(c, &cmd);
		client_cmd_release(&cmd);
		if (r == NULL) {
			rc = -1;
			break;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			client_reply_free(r);
			rc = client_fail(c, WINCH_CLIENT_EREDIS, "redis at %s: odd SSCAN reply",
					 c->where);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (i = 0; i < r->element[1]->elements && rc == 0; i++) {
			const redisReply *m = r->element[1]->element[i];

			if (out->n - start == max)
				rc = 1;
			else if (m->type == REDIS_REPLY_STRING)
				client_strings_add(out, m->str, m->len);
		}
		client_reply_free(r);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	sbuf_release(&key);
	return rc;
}

/* ---- pushing -------------------------------------------------------------------------- */

/* The commands of one push_bulk: SADD + LPUSH for jobs to run now, ZADD for the others. */
struct push_batch {
	struct client_cmd sadd;
	struct client_cmd lpush;
	struct client_cmd zadd;
	size_t now_n;
	size_t later_n;
};

static void batch_init(struct winch_client *c, struct push_batch *b, const char *queue)
{
	struct sbuf key;

	memset(b, 0, sizeof(*b));
	client_cmd_init(&b->sadd);
	client_cmd_init(&b->lpush);
	client_cmd_init(&b->zadd);
	sbuf_init(&key);
	client_cmd_adds(&b->sadd, "SADD");
	client_key(c, &key, "queues");
	client_cmd_add(&b->sadd, key.buf, key.len);
	client_cmd_adds(&b->sadd, queue);
	sbuf_reset(&key);
	client_cmd_adds(&b->lpush, "LPUSH");
	client_key_queue(c, &key, queue);
	client_cmd_add(&b->lpush, key.buf, key.len);
	sbuf_reset(&key);
	client_cmd_adds(&b->zadd, "ZADD");
	client_key(c, &key, "schedule");
	client_cmd_add(&b->zadd, key.buf, key.len);
	sbuf_release(&key);
}

static void batch_release(struct push_batch *b)
{
	client_cmd_release(&b->sadd);
	client_cmd_release(&b->lpush);
	client_cmd_release(&b->zadd);
}

/* Is this error reply one after which Sidekiq reconnects and tries again (a failover)? */
static int is_failover(const char *msg)
{
	return msg && (strncmp(msg, "READONLY", 8) == 0 || strncmp(msg, "NOREPLICAS", 10) == 0 ||
		       strncmp(msg, "UNBLOCKED", 9) == 0);
}

/* Send the batch in one pipeline. 1 when the error is a failover worth one more try. */
static int batch_send(struct winch_client *c, struct push_batch *b)
{
	const struct client_cmd *cmds[3];
	redisReply *r;
	int n = 0, i, rc = 0, failover = 0;

	if (b->now_n > 0) {
		cmds[n++] = &b->sadd;
		cmds[n++] = &b->lpush;
	}
	if (b->later_n > 0)
		cmds[n++] = &b->zadd;
	if (client_begin(c) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (client_append(c, cmds[i]) < 0)
			return -1;
	}
	for (i = 0; i < n; i++) {
		r = client_read(c);
		if (r == NULL)
			return -1;
		if (rc == 0 && client_reply_check(c, r) < 0) {
			rc = -1;
			failover = is_failover(r->str);
		}
		freeReplyObject(r);
	}
	if (failover)
		disconnect(c);
	return failover ? 1 : rc;
}

/* Check every job of a bulk push before anything is built. */
static int bulk_check(struct winch_client *c, const char *klass, const char *queue,
		      const char *const *args_list, size_t n, const struct winch_push_options *opt,
		      const double *at_list)
{
	char err[256];
	size_t i;

	if (push_check(klass, queue, NULL, opt, err, sizeof(err)) < 0)
		return client_fail(c, WINCH_CLIENT_EINVAL, "%s", err);
	for (i = 0; i < n; i++) {
		if (push_check(klass, queue, args_list[i], opt, err, sizeof(err)) < 0) {
			if (n == 1)
				return client_fail(c, WINCH_CLIENT_EINVAL, "%s", err);
			return client_fail(c, WINCH_CLIENT_EINVAL, "job %zu: %s", i + 1, err);
		}
		if (at_list && (!isfinite(at_list[i]) || at_list[i] < 0))
			return client_fail(c, WINCH_CLIENT_EINVAL, "job %zu: at: not an epoch time",
					   i + 1);
	}
	return 0;
}

int winch_client_push_bulk(struct winch_client *c, const char *class_name, const char *queue,
			   const char *const *args_list, size_t n,
			   const struct winch_push_options *opt, const double *at_list,
			   char *jids_out)
{
	struct push_batch b;
	struct sbuf payload, score;
	char jid[WINCH_JID_SIZE];
	double now, at;
	size_t i;
	int rc, attempt;

	if (c->config_bad)
		return -1;
	client_clear_error(c);
	if (bulk_check(c, class_name, queue, args_list, n, opt, at_list) < 0)
		return -1;
	if (n == 0)
		return 0;
	queue = push_queue(queue);
	batch_init(c, &b, queue);
	sbuf_init(&payload);
	sbuf_init(&score);
	now = time_real();
	for (i = 0; i < n; i++) {
		at = push_when(opt, at_list ? at_list[i] : 0, now);
		sbuf_reset(&payload);
		if (push_build(&payload, class_name, queue, args_list[i], opt, at, now, c->gen, jid) <
		    0)
			abort(); /* push_check passed: a bug */
		if (at > 0) {
			sbuf_reset(&score);
			ts_append_seconds(&score, at);
			client_cmd_add(&b.zadd, score.buf, score.len);
			client_cmd_add(&b.zadd, payload.buf, payload.len);
			b.later_n++;
		} else {
			client_cmd_add(&b.lpush, payload.buf, payload.len);
			b.now_n++;
		}
		if (jids_out)
			memcpy(jids_out + i * WINCH_JID_SIZE, jid, WINCH_JID_SIZE);
	}
	sbuf_release(&payload);
	sbuf_release(&score);
	rc = -1;
	for (attempt = 0; attempt < 2; attempt++) {
		rc = batch_send(c, &b);
		if (rc <= 0)
			break;
		rc = -1; /* a failover: reconnect (in the next send) and try once more */
	}
	batch_release(&b);
	if (rc == 0)
		client_clear_error(c);
	return rc;
}

int winch_client_push(struct winch_client *c, const char *class_name, const char *queue,
		      const char *args_json, const struct winch_push_options *opt, char *jid_out)
{
	const char *args[1];

	args[0] = args_json;
	return winch_client_push_bulk(c, class_name, queue, args, 1, opt, NULL, jid_out);
}
