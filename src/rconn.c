/*
 * rconn: a Redis connection on libev with its own socket, timeouts and reconnects;
 * hiredis provides only the RESP reader and the command formatter.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>
#include <hiredis/hiredis.h>

#include "log.h"
#include "rconn.h"
#include "banned.h"

#define RCONN_CONNECT_TIMEOUT 5.0
#define RCONN_BACKOFF_MIN 0.1
#define RCONN_BACKOFF_MAX 5.0
#define RCONN_READ_CHUNK 65536

struct rcmd {
	struct sbuf buf; /* formatted RESP commands */
	size_t n;        /* commands in buf */
	int multi;
};

/* A queued command: sits in the queue from rconn_send() until its reply or failure. */
struct rentry {
	struct rentry *next;
	char *data;         /* the bytes to send (owned) */
	size_t len;
	size_t nreplies;    /* replies expected */
	size_t got;         /* replies read so far */
	struct redisReply *last_error; /* first error among intermediate replies (owned) */
	unsigned flags;
	double extra_timeout;
	double sent_at;     /* monotonic seconds; 0 when not sent on this connection */
	int internal;       /* part of the connect handshake */
	int refused;        /* its reply was over the limit: fail it, never resend it */
	rconn_reply_fn fn;
	void *priv;
};

enum rconn_state {
	RCONN_IDLE,       /* not started, or stopped */
	RCONN_CONNECTING, /* socket connecting */
	RCONN_HANDSHAKE,  /* AUTH / SELECT / CLIENT ID under way */
	RCONN_READY,      /* up */
	RCONN_BACKOFF,    /* waiting to reconnect */
};

struct rconn {
	struct ev_loop *loop;
	const struct redis_url *url;
	char *name;
	enum rconn_state state;
	int fd;
	ev_io rio, wio;
	ev_timer timer;
	redisReader *reader;
	redisReplyObjectFunctions reader_fns; /* hiredis's, with createArray bounded */
	void *(*create_array)(const redisReadTask *task, int elements); /* hiredis's own */
	size_t max_reply;   /* bytes one reply may take on the wire */
	size_t reply_bytes; /* bytes read of the reply being read */
	int too_big;        /* the reply being read announced more than max_reply allows */
	int in_refused_cb;  /* calling back the command whose reply was refused */
	struct sbuf out;    /* bytes to write */
	size_t out_pos;
	struct rentry *head, *tail; /* every entry, in order */
	struct rentry *unsent;      /* first entry not yet written on this connection */
	size_t pending;
	double timeout;
	double backoff;
	double attempt_at;
	long long client_id;
	rconn_event_fn event_fn;
	void *event_priv;
	int in_read;        /* inside read processing: defer closing */
	int stop_pending;   /* rconn_stop() from a reply callback: done after the read loop */
	int close_pending;
	char close_why[160];
};

static void rconn_close(struct rconn *rc, const char *why);
static void rconn_flush(struct rconn *rc);
static void rconn_arm_timer(struct rconn *rc);

struct rcmd *rcmd_new(void)
{
	struct rcmd *c = xcalloc(1, sizeof(*c));

	sbuf_init(&c->buf);
	return c;
}

void rcmd_free(struct rcmd *c)
{
	if (c == NULL)
		return;
	sbuf_release(&c->buf);
	free(c);
}

void rcmd_multi(struct rcmd *c)
{
	c->multi = 1;
}

void rcmd_argv(struct rcmd *c, int argc, const char **argv, const size_t *lens)
{
	char *cmd = NULL;
	int len;

	len = redisFormatCommandArgv(&cmd, argc, argv, lens);
	if (len < 0 || cmd == NULL)
		abort(); /* only fails on OOM */
	sbuf_add(&c->buf, cmd, (size_t)len);
	free(cmd);
	c->n++;
}

void rcmd_args(struct rcmd *c, const char *first, ...)
{
	const char *argv[32];
	size_t lens[32];
	va_list ap;
	int argc = 0;
	const char *a;

	va_start(ap, first);
	for (a = first; a && argc < 32; a = va_arg(ap, const char *)) {
		argv[argc] = a;
		lens[argc] = strlen(a);
		argc++;
	}
	va_end(ap);
	rcmd_argv(c, argc, argv, lens);
}

void rcmd_key_value(struct rcmd *c, const char *cmd, const char *key, const char *value,
		    size_t len)
{
	const char *argv[3] = {cmd, key, value};
	size_t lens[3] = {strlen(cmd), strlen(key), len};

	rcmd_argv(c, 3, argv, lens);
}

void rcmd_eval(struct rcmd *c, const char *script, int nkeys, const char *const *kv,
	       const size_t *kvlen, int n)
{
	const char **argv = xcalloc((size_t)n + 3, sizeof(*argv));
	size_t *lens = xcalloc((size_t)n + 3, sizeof(*lens));
	char nk[16];
	int i;

	snprintf(nk, sizeof(nk), "%d", nkeys);
	argv[0] = "EVAL";
	argv[1] = script;
	argv[2] = nk;
	for (i = 0; i < 3; i++)
		lens[i] = strlen(argv[i]);
	for (i = 0; i < n; i++) {
		argv[3 + i] = kv[i];
		lens[3 + i] = kvlen ? kvlen[i] : strlen(kv[i]);
	}
	rcmd_argv(c, n + 3, argv, lens);
	free(lens);
	free(argv);
}

size_t rcmd_count(const struct rcmd *c)
{
	return c->n;
}

const char *rconn_reply_str(const struct redisReply *r)
{
	static __thread char buf[128];

	if (r == NULL)
		return "(no reply)";
	switch (r->type) {
	case REDIS_REPLY_NIL:
		return "(nil)";
	case REDIS_REPLY_ERROR:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_STRING:
		snprintf(buf, sizeof(buf), "%.*s", (int)(r->len > 120 ? 120 : r->len), r->str);
		return buf;
	case REDIS_REPLY_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", r->integer);
		return buf;
	case REDIS_REPLY_ARRAY:
		snprintf(buf, sizeof(buf), "(array of %zu)", r->elements);
		return buf;
	default:
		return "(reply)";
	}
}

struct rconn *rconn_new(struct ev_loop *loop, const struct redis_url *url, const char *name)
{
	struct rconn *rc = xcalloc(1, sizeof(*rc));

	rc->loop = loop;
	rc->url = url;
	rc->name = xstrdup(name);
	rc->fd = -1;
	rc->timeout = 10;
	rc->backoff = RCONN_BACKOFF_MIN;
	rc->client_id = -1;
	rc->max_reply = RCONN_DEFAULT_MAX_REPLY;
	sbuf_init(&rc->out);
	ev_init(&rc->timer, NULL);
	rc->timer.data = rc;
	return rc;
}

void rconn_on_event(struct rconn *rc, rconn_event_fn fn, void *priv)
{
	rc->event_fn = fn;
	rc->event_priv = priv;
}

void rconn_set_timeout(struct rconn *rc, double seconds)
{
	rc->timeout = seconds;
}

int rconn_is_up(const struct rconn *rc)
{
	return rc->state == RCONN_READY;
}

const char *rconn_name(const struct rconn *rc)
{
	return rc->name;
}

long long rconn_client_id(const struct rconn *rc)
{
	return rc->state == RCONN_READY ? rc->client_id : -1;
}

size_t rconn_pending(const struct rconn *rc)
{
	return rc->pending;
}

void rconn_set_max_reply(struct rconn *rc, size_t bytes)
{
	rc->max_reply = bytes > 0 ? bytes : RCONN_DEFAULT_MAX_REPLY;
}

int rconn_reply_refused(const struct rconn *rc)
{
	return rc->in_refused_cb;
}

static void entry_free(struct rentry *e)
{
	if (e->last_error)
		freeReplyObject(e->last_error);
	free(e->data);
	free(e);
}

static struct rentry *entry_new(struct rcmd *c, unsigned flags, double extra, rconn_reply_fn fn,
				void *priv)
{
	static const char multi[] = "*1\r\n$5\r\nMULTI\r\n";
	static const char exec[] = "*1\r\n$4\r\nEXEC\r\n";
	struct rentry *e = xcalloc(1, sizeof(*e));
	struct sbuf sb;

	sbuf_init(&sb);
	if (c->multi)
		sbuf_add(&sb, multi, sizeof(multi) - 1);
	sbuf_add(&sb, c->buf.buf, c->buf.len);
	if (c->multi)
		sbuf_add(&sb, exec, sizeof(exec) - 1);
	e->data = sbuf_detach(&sb, &e->len);
	e->nreplies = c->n + (c->multi ? 2 : 0);
	e->flags = flags;
	e->extra_timeout = extra;
	e->fn = fn;
	e->priv = priv;
	return e;
}

static void queue_append(struct rconn *rc, struct rentry *e)
{
	if (rc->tail)
		rc->tail->next = e;
	else
		rc->head = e;
	rc->tail = e;
	if (rc->unsent == NULL)
		rc->unsent = e;
	rc->pending++;
}

/* Put e before every entry not yet sent (the handshake goes first). */
static void queue_insert_unsent_front(struct rconn *rc, struct rentry *e)
{
	struct rentry **pp = &rc->head;

	while (*pp && *pp != rc->unsent)
		pp = &(*pp)->next;
	e->next = *pp;
	*pp = e;
	if (e->next == NULL)
		rc->tail = e;
	rc->unsent = e;
	rc->pending++;
}

static struct rentry *queue_pop(struct rconn *rc)
{
	struct rentry *e = rc->head;

	if (e == NULL)
		return NULL;
	rc->head = e->next;
	if (rc->head == NULL)
		rc->tail = NULL;
	if (rc->unsent == e)
		rc->unsent = e->next;
	rc->pending--;
	e->next = NULL;
	return e;
}

void rconn_send(struct rconn *rc, struct rcmd *c, unsigned flags, double extra_timeout,
		rconn_reply_fn fn, void *priv)
{
	struct rentry *e = entry_new(c, flags, extra_timeout, fn, priv);

	rcmd_free(c);
	queue_append(rc, e);
	if (rc->state == RCONN_READY || rc->state == RCONN_HANDSHAKE)
		rconn_flush(rc);
}

static void send_internal(struct rconn *rc, struct rentry *e)
{
	e->internal = 1;
	queue_insert_unsent_front(rc, e);
}

/* Write as much of the output buffer as the socket takes. */
static void write_out(struct rconn *rc)
{
	while (rc->out_pos < rc->out.len) {
		ssize_t n = write(rc->fd, rc->out.buf + rc->out_pos, rc->out.len - rc->out_pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(rc->loop, &rc->wio);
			return;
		}
		if (n < 0) {
			char why[120];

			snprintf(why, sizeof(why), "write: %s", strerror(errno));
			rconn_close(rc, why);
			return;
		}
		rc->out_pos += (size_t)n;
	}
	sbuf_reset(&rc->out);
	rc->out_pos = 0;
	ev_io_stop(rc->loop, &rc->wio);
}

/* Move every unsent entry into the output buffer and write. */
static void rconn_flush(struct rconn *rc)
{
	double now = ev_now(rc->loop);
	struct rentry *e;

	if (rc->fd < 0)
		return;
	for (e = rc->unsent; e; e = e->next) {
		sbuf_add(&rc->out, e->data, e->len);
		e->sent_at = now;
	}
	rc->unsent = NULL;
	if (rc->out.len > rc->out_pos)
		write_out(rc);
	rconn_arm_timer(rc);
}

static void fire_event(struct rconn *rc, enum rconn_event ev, const char *why)
{
	if (rc->event_fn)
		rc->event_fn(rc, ev, why, rc->event_priv);
}

static void handshake_done(struct rconn *rc, struct redisReply *r, void *priv)
{
	(void)priv;
	if (r == NULL)
		return;
	if (r->type == REDIS_REPLY_INTEGER)
		rc->client_id = r->integer;
	rc->state = RCONN_READY;
	rc->backoff = RCONN_BACKOFF_MIN;
	log_debug("redis '%s': connected (client id %lld)", rc->name, rc->client_id);
	fire_event(rc, RCONN_UP, NULL);
}

static void handshake_check(struct rconn *rc, struct redisReply *r, void *priv)
{
	const char *what = priv;
	char why[200];

	if (r == NULL || r->type != REDIS_REPLY_ERROR)
		return;
	snprintf(why, sizeof(why), "%s: %s", what, r->str);
	rconn_close(rc, why);
}

/*
 * A replica answers every write with READONLY: during a failover the address may point at
 * one for a while. It is not "up" then (that would reset the backoff and reconnect every
 * 0.1 s); the connection is closed and retried with the growing backoff. A ROLE refused by
 * an ACL is not an error.
 */
static void handshake_role(struct rconn *rc, struct redisReply *r, void *priv)
{
	(void)priv;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(r->element[0]->str, "slave") == 0 || strcmp(r->element[0]->str, "replica") == 0)
		rconn_close(rc, "server is a read-only replica");
}

static void start_handshake(struct rconn *rc)
{
	struct rcmd *c;
	char db[16];

	rc->state = RCONN_HANDSHAKE;
	/* Inserted at the front in reverse: AUTH, SELECT, ROLE, CLIENT ID go out in order. */
	c = rcmd_new();
	rcmd_args(c, "CLIENT", "ID", NULL);
	send_internal(rc, entry_new(c, 0, 0, handshake_done, NULL));
	rcmd_free(c);
	c = rcmd_new();
	rcmd_args(c, "ROLE", NULL);
	send_internal(rc, entry_new(c, 0, 0, handshake_role, NULL));
	rcmd_free(c);
	if (rc->url->db != 0) {
		snprintf(db, sizeof(db), "%d", rc->url->db);
		c = rcmd_new();
		rcmd_args(c, "SELECT", db, NULL);
		send_internal(rc, entry_new(c, 0, 0, handshake_check, "SELECT"));
		rcmd_free(c);
	}
	if (rc->url->password) {
		c = rcmd_new();
		if (rc->url->user)
			rcmd_args(c, "AUTH", rc->url->user, rc->url->password, NULL);
		else
			rcmd_args(c, "AUTH", rc->url->password, NULL);
		send_internal(rc, entry_new(c, 0, 0, handshake_check, "AUTH"));
		rcmd_free(c);
	}
	rconn_flush(rc);
}

/* Errors after which Sidekiq reconnects (a failover under way). */
static int is_failover_error(const struct redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR &&
	       (strncmp(r->str, "READONLY", 8) == 0 || strncmp(r->str, "NOREPLICAS", 10) == 0 ||
		strncmp(r->str, "UNBLOCKED", 9) == 0 || strncmp(r->str, "LOADING", 7) == 0 ||
		strncmp(r->str, "MASTERDOWN", 10) == 0);
}

static void handle_reply(struct rconn *rc, struct redisReply *r)
{
	struct rentry *e = rc->head;

	if (e == NULL || e->sent_at == 0) {
		freeReplyObject(r);
		rconn_close(rc, "reply with no command waiting for it");
		return;
	}
	if (is_failover_error(r) && !(e->internal)) {
		char why[160];

		snprintf(why, sizeof(why), "server says %.120s", r->str);
		freeReplyObject(r);
		rconn_close(rc, why);
		return;
	}
	e->got++;
	if (e->got < e->nreplies) {
		freeReplyObject(r);
		return;
	}
	queue_pop(rc);
	if (e->fn)
		e->fn(rc, r, e->priv);
	freeReplyObject(r);
	entry_free(e);
}

/*
 * hiredis's createArray, refusing an array longer than the reply limit can hold (every
 * element takes at least 3 bytes): the reader allocates 8 bytes per element as soon as it
 * reads the header, so "*2147483647\r\n" alone would ask for 16 GiB.
 */
static void *limited_array(const redisReadTask *task, int elements)
{
	struct rconn *rc = task->privdata;

	if (elements > 0 && (size_t)elements > rc->max_reply / 3) {
		rc->too_big = 1;
		return NULL; /* the reader fails with "out of memory" */
	}
	return rc->create_array(task, elements);
}

static redisReader *reader_new(struct rconn *rc)
{
	redisReader *r = redisReaderCreate();

	if (r == NULL)
		abort(); /* only fails on OOM */
	rc->reader_fns = *r->fn;
	rc->create_array = r->fn->createArray;
	rc->reader_fns.createArray = limited_array;
	r->fn = &rc->reader_fns;
	r->privdata = rc;
	rc->reply_bytes = 0;
	rc->too_big = 0;
	return r;
}

/* A reply grew past the limit: fail its command and replace the connection. */
static void refuse_reply(struct rconn *rc)
{
	char why[160];

	snprintf(why, sizeof(why), "refused a reply of more than %zu bytes (the reply limit)",
		 rc->max_reply);
	log_warn("redis '%s': %s; reconnecting", rc->name, why);
	if (rc->head && rc->head->sent_at > 0)
		rc->head->refused = 1;
	rconn_close(rc, why);
}

/*
 * Feed n bytes read from the socket to the reply reader and handle every reply they
 * complete, then hold the reply still being read to the limit. Returns 0, or -1 when the
 * connection was closed or stopped.
 */
static int rconn_input(struct rconn *rc, const char *buf, size_t n)
{
	const char *bad = NULL;
	size_t left;
	void *reply;

	if (redisReaderFeed(rc->reader, buf, n) != REDIS_OK) {
		rconn_close(rc, "bad reply from server");
		return -1;
	}
	rc->reply_bytes += n;
	rc->in_read = 1;
	while (!rc->close_pending) {
		reply = NULL;
		if (redisReaderGetReply(rc->reader, &reply) != REDIS_OK) {
			bad = "protocol error in reply";
			break;
		}
		if (reply == NULL)
			break;
		/* What the reader has not consumed yet is the start of the next reply. */
		left = rc->reader->len - rc->reader->pos;
		if (rc->reply_bytes - left > rc->max_reply) {
			freeReplyObject(reply); /* whole in one read, but still too big */
			rc->too_big = 1;
			break;
		}
		rc->reply_bytes = left;
		handle_reply(rc, reply);
	}
	rc->in_read = 0;
	if (rc->stop_pending) {
		rc->stop_pending = 0;
		rc->close_pending = 0;
		rconn_stop(rc);
		return -1;
	}
	if (rc->close_pending) {
		rc->close_pending = 0;
		rconn_close(rc, rc->close_why);
		return -1;
	}
	if (rc->too_big || rc->reply_bytes > rc->max_reply) {
		refuse_reply(rc);
		return -1;
	}
	if (bad) {
		rconn_close(rc, bad);
		return -1;
	}
	return 0;
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rconn *rc = w->data;
	char buf[RCONN_READ_CHUNK];
	ssize_t n;
	int budget = 64;

	(void)loop;
	(void)revents;
	while (budget-- > 0) {
		n = read(rc->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			rconn_close(rc, n == 0 ? "connection closed by server" : strerror(errno));
			return;
		}
		/* Chunk by chunk, so that no more than one chunk goes past the limit. */
		if (rconn_input(rc, buf, (size_t)n) < 0)
			return;
		if ((size_t)n < sizeof(buf))
			break;
	}
	rconn_arm_timer(rc);
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rconn *rc = w->data;

	(void)loop;
	(void)revents;
	if (rc->state == RCONN_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		ev_io_stop(rc->loop, &rc->wio);
		if (getsockopt(rc->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			rconn_close(rc, strerror(err));
			return;
		}
		ev_io_start(rc->loop, &rc->rio);
		start_handshake(rc);
		return;
	}
	write_out(rc);
}

static int open_socket(struct rconn *rc, char *why, size_t whylen)
{
	const struct redis_url *u = rc->url;
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int fd = -1, rv, one = 1;

	if (u->path) {
		struct sockaddr_un sa;

		if (strlen(u->path) >= sizeof(sa.sun_path)) {
			snprintf(why, whylen, "socket path too long");
			return -1;
		}
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		memcpy(sa.sun_path, u->path, strlen(u->path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0 || (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
			       errno != EINPROGRESS && errno != EAGAIN)) {
			snprintf(why, whylen, "%s", strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", u->port);
	/* Blocking name resolution: only at connect, and numeric addresses skip it. */
	rv = getaddrinfo(u->host, port, &hints, &res);
	if (rv != 0) {
		snprintf(why, whylen, "cannot resolve '%s': %s", u->host, gai_strerror(rv));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
			break;
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0 && why[0] == '\0')
		snprintf(why, whylen, "no address for '%s'", u->host);
	return fd;
}

static void attempt_connect(struct rconn *rc)
{
	char why[200] = "";

	rc->fd = open_socket(rc, why, sizeof(why));
	rc->attempt_at = ev_now(rc->loop);
	if (rc->fd < 0) {
		rc->state = RCONN_CONNECTING; /* so that rconn_close schedules a retry */
		rconn_close(rc, why);
		return;
	}
	rc->reader = reader_new(rc);
	ev_io_init(&rc->rio, on_readable, rc->fd, EV_READ);
	ev_io_init(&rc->wio, on_writable, rc->fd, EV_WRITE);
	rc->rio.data = rc;
	rc->wio.data = rc;
	rc->state = RCONN_CONNECTING;
	ev_io_start(rc->loop, &rc->wio);
	rconn_arm_timer(rc);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rconn *rc = w->data;
	double now = ev_now(loop);
	char why[160];

	(void)revents;
	switch (rc->state) {
	case RCONN_BACKOFF:
		attempt_connect(rc);
		return;
	case RCONN_CONNECTING:
		if (now - rc->attempt_at >= RCONN_CONNECT_TIMEOUT) {
			rconn_close(rc, "connect timed out");
			return;
		}
		break;
	case RCONN_HANDSHAKE:
	case RCONN_READY:
		if (rc->head && rc->head->sent_at > 0 &&
		    now - rc->head->sent_at > rc->timeout + rc->head->extra_timeout) {
			snprintf(why, sizeof(why), "no reply in %.1f s", now - rc->head->sent_at);
			rconn_close(rc, why);
			return;
		}
		break;
	case RCONN_IDLE:
		return;
	}
	rconn_arm_timer(rc);
}

/* One timer per connection: backoff, connect timeout, or the oldest command's deadline. */
static void rconn_arm_timer(struct rconn *rc)
{
	double now = ev_now(rc->loop), at;

	ev_timer_stop(rc->loop, &rc->timer);
	switch (rc->state) {
	case RCONN_CONNECTING:
		at = rc->attempt_at + RCONN_CONNECT_TIMEOUT;
		break;
	case RCONN_HANDSHAKE:
	case RCONN_READY:
		if (rc->head == NULL || rc->head->sent_at == 0)
			return;
		at = rc->head->sent_at + rc->timeout + rc->head->extra_timeout;
		break;
	default:
		return;
	}
	ev_timer_set(&rc->timer, at > now ? at - now + 0.001 : 0.001, 0);
	ev_set_cb(&rc->timer, on_timer);
	ev_timer_start(rc->loop, &rc->timer);
}

static void schedule_reconnect(struct rconn *rc)
{
	double delay = rc->backoff * (0.75 + 0.5 * rand_unit());

	rc->backoff = rc->backoff * 2 > RCONN_BACKOFF_MAX ? RCONN_BACKOFF_MAX : rc->backoff * 2;
	rc->state = RCONN_BACKOFF;
	ev_timer_stop(rc->loop, &rc->timer);
	ev_timer_set(&rc->timer, delay, 0);
	ev_set_cb(&rc->timer, on_timer);
	ev_timer_start(rc->loop, &rc->timer);
}

/*
 * Drop the socket. Entries that were sent fail (or wait to be sent again when
 * RCONN_PERSIST); entries not sent stay queued. Handshake entries are dropped silently.
 */
static void drop_socket(struct rconn *rc, int fail_all)
{
	struct rentry *keep_head = NULL, **keep_tail = &keep_head;
	struct rentry *failed = NULL, **failed_tail = &failed;
	struct rentry *e, *next;

	if (rc->fd >= 0) {
		ev_io_stop(rc->loop, &rc->rio);
		ev_io_stop(rc->loop, &rc->wio);
		close(rc->fd);
		rc->fd = -1;
	}
	if (rc->reader) {
		redisReaderFree(rc->reader);
		rc->reader = NULL;
	}
	ev_timer_stop(rc->loop, &rc->timer);
	sbuf_reset(&rc->out);
	rc->out_pos = 0;
	rc->client_id = -1;
	for (e = rc->head; e; e = next) {
		next = e->next;
		e->next = NULL;
		if (e->internal) {
			entry_free(e);
			continue;
		}
		if (!fail_all && !e->refused && (e->sent_at == 0 || (e->flags & RCONN_PERSIST))) {
			e->sent_at = 0;
			e->got = 0;
			if (e->last_error) {
				freeReplyObject(e->last_error);
				e->last_error = NULL;
			}
			*keep_tail = e;
			keep_tail = &e->next;
		} else {
			*failed_tail = e;
			failed_tail = &e->next;
		}
	}
	rc->head = keep_head;
	rc->unsent = keep_head;
	rc->tail = NULL;
	rc->pending = 0;
	for (e = keep_head; e; e = e->next) {
		rc->tail = e;
		rc->pending++;
	}
	/* Callbacks run last: they may queue new commands. */
	for (e = failed; e; e = next) {
		next = e->next;
		rc->in_refused_cb = e->refused;
		if (e->fn)
			e->fn(rc, NULL, e->priv);
		rc->in_refused_cb = 0;
		entry_free(e);
	}
}

static void rconn_close(struct rconn *rc, const char *why)
{
	int was_up = rc->state == RCONN_READY;
	int refused = rc->head && rc->head->refused;

	if (rc->in_read) {
		rc->close_pending = 1;
		snprintf(rc->close_why, sizeof(rc->close_why), "%s", why);
		return;
	}
	if (rc->state == RCONN_IDLE)
		return;
	log_debug("redis '%s': %s", rc->name, why);
	drop_socket(rc, 0);
	schedule_reconnect(rc);
	(void)was_up;
	/* A refused reply is not an outage: Redis answered, too much. */
	if (!refused)
		fire_event(rc, RCONN_DOWN, why);
}

void rconn_retry_now(struct rconn *rc)
{
	if (rc->state != RCONN_BACKOFF)
		return;
	ev_timer_stop(rc->loop, &rc->timer);
	attempt_connect(rc);
}

void rconn_start(struct rconn *rc)
{
	if (rc->state != RCONN_IDLE)
		return;
	attempt_connect(rc);
}

void rconn_stop(struct rconn *rc)
{
	if (rc->in_read) {
		/* From a reply callback: the reader is still in use. Stop once it is done. */
		rc->stop_pending = 1;
		rc->close_pending = 1;
		return;
	}
	rc->state = RCONN_IDLE;
	drop_socket(rc, 1);
	/* Entries never sent fail too. */
	while (rc->head) {
		struct rentry *e = queue_pop(rc);

		if (e->fn && !e->internal)
			e->fn(rc, NULL, e->priv);
		entry_free(e);
	}
}

void rconn_free(struct rconn *rc)
{
	if (rc == NULL)
		return;
	if (rc->in_read)
		abort(); /* BUG: freed from its own reply callback; use rconn_stop there */
	rconn_stop(rc);
	sbuf_release(&rc->out);
	free(rc->name);
	free(rc);
}
