/* fake_redis: the fake Redis that test_rconn talks to (see fake_redis.h). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <ev.h>
#include <hiredis/hiredis.h>

#include "fake_redis.h"
#include "banned.h"

/* ---- the fake server ---------------------------------------------------------------- */

static void fconn_close(struct fconn *c)
{
	struct fixture *f = c->f;

	ev_io_stop(f->loop, &c->rio);
	ev_io_stop(f->loop, &c->wio);
	close(c->fd);
	redisReaderFree(c->reader);
	sbuf_release(&c->out);
	sbuf_release(&c->queued);
	if (f->conn == c)
		f->conn = NULL;
	free(c);
}

static void fconn_write(struct fconn *c)
{
	while (c->out_pos < c->out.len) {
		ssize_t n = write(c->fd, c->out.buf + c->out_pos, c->out.len - c->out_pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(c->f->loop, &c->wio);
			return;
		}
		if (n < 0)
			return; /* the client went away; its read side will see it */
		c->out_pos += (size_t)n;
	}
	sbuf_reset(&c->out);
	c->out_pos = 0;
	ev_io_stop(c->f->loop, &c->wio);
}

static void on_fconn_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	fconn_write(w->data);
}

static int fake_find(struct fixture *f, const char *key, size_t len)
{
	int i;

	for (i = 0; i < f->nkv; i++)
		if (f->kv[i][0].len == len && memcmp(f->kv[i][0].buf, key, len) == 0)
			return i;
	return -1;
}

static void fake_set(struct fixture *f, char **argv, const size_t *lens, struct sbuf *r)
{
	int i = fake_find(f, argv[1], lens[1]);

	if (i < 0) {
		assert_true(f->nkv < 8);
		i = f->nkv++;
		sbuf_init(&f->kv[i][0]);
		sbuf_init(&f->kv[i][1]);
		sbuf_add(&f->kv[i][0], argv[1], lens[1]);
	}
	sbuf_reset(&f->kv[i][1]);
	sbuf_add(&f->kv[i][1], argv[2], lens[2]);
	sbuf_adds(r, "+OK\r\n");
}

static void fake_get(struct fixture *f, char **argv, const size_t *lens, struct sbuf *r)
{
	int i = fake_find(f, argv[1], lens[1]);

	if (i < 0) {
		sbuf_adds(r, "$-1\r\n");
		return;
	}
	sbuf_addf(r, "$%zu\r\n", f->kv[i][1].len);
	sbuf_add(r, f->kv[i][1].buf, f->kv[i][1].len);
	sbuf_adds(r, "\r\n");
}

/* What a small Redis would answer. */
static enum fake_action default_reply(struct fconn *c, int argc, char **argv,
				      const size_t *lens, struct sbuf *r)
{
	const char *cmd = argv[0];

	if (c->stuck || strcmp(cmd, "HANG") == 0) {
		c->stuck = 1;
		return FAKE_SILENT;
	}
	if (strcmp(cmd, "CLOSE") == 0)
		return FAKE_CLOSE;
	if (strcmp(cmd, "MULTI") == 0) {
		c->in_multi = 1;
		sbuf_adds(r, "+OK\r\n");
		return FAKE_REPLY;
	}
	if (strcmp(cmd, "EXEC") == 0) {
		sbuf_addf(r, "*%d\r\n", c->nqueued);
		sbuf_add(r, c->queued.buf, c->queued.len);
		sbuf_reset(&c->queued);
		c->nqueued = 0;
		c->in_multi = 0;
		return FAKE_REPLY;
	}
	if (c->in_multi) {
		struct sbuf *saved = r;

		r = &c->queued;
		c->nqueued++;
		sbuf_adds(saved, "+QUEUED\r\n");
	}
	if (strcmp(cmd, "CLIENT") == 0 && argc == 2 && strcmp(argv[1], "ID") == 0)
		sbuf_addf(r, ":%d\r\n", 100 + c->num);
	else if (strcmp(cmd, "ROLE") == 0)
		sbuf_adds(r, c->f->replica ? "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n"
					      "$9\r\nconnected\r\n:1\r\n"
					    : "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
	else if (strcmp(cmd, "AUTH") == 0 && strcmp(argv[argc - 1], "wrong") == 0)
		sbuf_adds(r, "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
	else if (strcmp(cmd, "SET") == 0 && argc == 3)
		fake_set(c->f, argv, lens, r);
	else if (strcmp(cmd, "GET") == 0 && argc == 2)
		fake_get(c->f, argv, lens, r);
	else if (strcmp(cmd, "AUTH") == 0 || strcmp(cmd, "SELECT") == 0)
		sbuf_adds(r, "+OK\r\n");
	else if (strcmp(cmd, "PING") == 0)
		sbuf_adds(r, "+PONG\r\n");
	else if (strcmp(cmd, "ECHO") == 0 && argc == 2) {
		sbuf_addf(r, "$%zu\r\n", lens[1]);
		sbuf_add(r, argv[1], lens[1]);
		sbuf_adds(r, "\r\n");
	}
	else if (strcmp(cmd, "INCR") == 0)
		sbuf_addf(r, ":%lld\r\n", ++c->f->counter);
	else
		sbuf_addf(r, "-ERR unknown command '%s'\r\n", cmd);
	return FAKE_REPLY;
}

static void log_request(struct fconn *c, int argc, char **argv, const size_t *lens)
{
	struct fixture *f = c->f;
	struct sbuf sb;
	int i;

	/* Every handshake asks ROLE: answered, not logged (test_handshake_replica covers it). */
	if (strcmp(argv[0], "ROLE") == 0)
		return;
	assert_true(f->nlog < MAX_LOG);
	sbuf_init(&sb);
	sbuf_addf(&sb, "%d:", c->num);
	for (i = 0; i < argc; i++) {
		if (i)
			sbuf_addc(&sb, ' ');
		/* Long arguments are logged by length only. */
		if (lens[i] > 64 || strlen(argv[i]) != lens[i])
			sbuf_addf(&sb, "<%zu bytes>", lens[i]);
		else
			sbuf_adds(&sb, argv[i]);
	}
	f->log[f->nlog++] = sbuf_detach(&sb, NULL);
}

/* Handle one request; returns 0, or -1 when the connection was closed. */
static int handle_request(struct fconn *c, redisReply *req)
{
	struct fixture *f = c->f;
	char *argv[64];
	size_t lens[64];
	int argc = 0, action = -1;
	size_t i;
	struct sbuf reply;

	assert_int_equal(req->type, REDIS_REPLY_ARRAY);
	for (i = 0; i < req->elements && argc < 64; i++) {
		argv[argc] = req->element[i]->str;
		lens[argc] = req->element[i]->len;
		argc++;
	}
	log_request(c, argc, argv, lens);
	if (strcmp(argv[0], "ECHO") == 0)
		c->echoes++;
	sbuf_init(&reply);
	if (f->policy)
		action = f->policy(c, argc, argv, &reply);
	if (action < 0)
		action = default_reply(c, argc, argv, lens, &reply);
	if (action == FAKE_CLOSE) {
		sbuf_release(&reply);
		fconn_close(c);
		return -1;
	}
	if (action == FAKE_REPLY)
		sbuf_add(&c->out, reply.buf, reply.len);
	sbuf_release(&reply);
	return 0;
}

static void on_fconn_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fconn *c = w->data;
	struct fixture *f = c->f;
	char buf[65536];
	void *req;
	ssize_t n;

	(void)loop;
	(void)revents;
	for (;;) {
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			fconn_close(c); /* the client closed */
			return;
		}
		assert_int_equal(redisReaderFeed(c->reader, buf, (size_t)n), REDIS_OK);
	}
	for (;;) {
		req = NULL;
		assert_int_equal(redisReaderGetReply(c->reader, &req), REDIS_OK);
		if (req == NULL)
			break;
		if (handle_request(c, req) < 0) {
			freeReplyObject(req);
			return;
		}
		freeReplyObject(req);
	}
	/* In batch mode the ECHO replies wait until the whole batch has come in. */
	if (f->batch == 0 || c->echoes == 0 || c->echoes >= f->batch)
		fconn_write(c);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fixture *f = w->data;
	struct fconn *c;
	int fd;

	(void)revents;
	fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (f->conn) /* rconn replaced its connection: the old one is gone for it */
		fconn_close(f->conn);
	c = xcalloc(1, sizeof(*c));
	c->f = f;
	c->fd = fd;
	c->num = ++f->accepts;
	c->reader = redisReaderCreate();
	sbuf_init(&c->out);
	sbuf_init(&c->queued);
	ev_io_init(&c->rio, on_fconn_readable, fd, EV_READ);
	ev_io_init(&c->wio, on_fconn_writable, fd, EV_WRITE);
	c->rio.data = c;
	c->wio.data = c;
	ev_io_start(loop, &c->rio);
	f->conn = c;
}

void fake_start(struct fixture *f)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &len), 0);
	f->port = ntohs(sa.sin_port);
	ev_io_init(&f->accept_io, on_accept, f->lfd, EV_READ);
	f->accept_io.data = f;
	ev_io_start(f->loop, &f->accept_io);
}

void fake_stop(struct fixture *f)
{
	if (f->conn)
		fconn_close(f->conn);
	if (f->lfd >= 0) {
		ev_io_stop(f->loop, &f->accept_io);
		close(f->lfd);
		f->lfd = -1;
	}
}
