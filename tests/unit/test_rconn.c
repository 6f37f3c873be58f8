/*
 * test_rconn: the Redis transport against a fake Redis listening on 127.0.0.1 in the same
 * ev_loop; every test runs under a timeout timer and ends with no watcher active.
 */
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

/* ---- the client side ---------------------------------------------------------------- */

static void on_event(struct rconn *rc, enum rconn_event ev, const char *why, void *priv)
{
	struct fixture *f = priv;

	(void)rc;
	if (ev == RCONN_UP) {
		f->ups++;
	} else {
		f->downs++;
		snprintf(f->why, sizeof(f->why), "%s", why ? why : "");
	}
}

static void describe(struct sbuf *sb, const redisReply *r)
{
	size_t i;

	switch (r->type) {
	case REDIS_REPLY_STATUS:
		sbuf_addf(sb, "+%s", r->str);
		break;
	case REDIS_REPLY_ERROR:
		sbuf_addf(sb, "-%s", r->str);
		break;
	case REDIS_REPLY_INTEGER:
		sbuf_addf(sb, ":%lld", r->integer);
		break;
	case REDIS_REPLY_STRING:
		if (r->len > 64)
			sbuf_addf(sb, "$<%zu bytes>", r->len);
		else
			sbuf_addf(sb, "$%s", r->str);
		break;
	case REDIS_REPLY_NIL:
		sbuf_adds(sb, "(nil)");
		break;
	case REDIS_REPLY_ARRAY:
		sbuf_addc(sb, '[');
		for (i = 0; i < r->elements; i++) {
			if (i)
				sbuf_adds(sb, ", ");
			describe(sb, r->element[i]);
		}
		sbuf_addc(sb, ']');
		break;
	default:
		sbuf_adds(sb, "?");
	}
}

/* A reply callback: priv is the struct result to fill. The reply is borrowed: copy it. */
static void on_reply(struct rconn *rc, struct redisReply *reply, void *priv)
{
	struct result *res = priv;
	struct sbuf sb;

	res->calls++;
	res->order = ++res->f->ncallbacks;
	res->refused = rconn_reply_refused(rc);
	sbuf_init(&sb);
	if (reply == NULL)
		sbuf_adds(&sb, "NULL");
	else
		describe(&sb, reply);
	snprintf(res->text, sizeof(res->text), "%s", sbuf_str(&sb));
	sbuf_release(&sb);
	if (reply && reply->type == REDIS_REPLY_STRING && res->data == NULL) {
		res->data = xmalloc(reply->len + 1);
		memcpy(res->data, reply->str, reply->len + 1);
		res->len = reply->len;
	}
}

/* Queue c, its reply going to f->res[i]. */
static void send_rcmd(struct fixture *f, int i, struct rcmd *c, unsigned flags, double extra)
{
	f->res[i].f = f;
	rconn_send(f->rc, c, flags, extra, on_reply, &f->res[i]);
}

/* Send a command (string arguments, NULL-ended) whose reply goes to f->res[i]. */
static void send_cmd(struct fixture *f, int i, unsigned flags, double extra, const char *first,
		     ...)
{
	struct rcmd *c = rcmd_new();
	const char *argv[16];
	size_t lens[16];
	int argc = 0;
	const char *a;
	va_list ap;

	va_start(ap, first);
	for (a = first; a && argc < 16; a = va_arg(ap, const char *)) {
		argv[argc] = a;
		lens[argc] = strlen(a);
		argc++;
	}
	va_end(ap);
	rcmd_argv(c, argc, argv, lens);
	send_rcmd(f, i, c, flags, extra);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fixture *f = w->data;

	(void)revents;
	f->timed_out = 1;
	ev_break(loop, EVBREAK_ALL);
}

/* Checked before the loop blocks, after every callback of the iteration has run. */
static void on_until(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct fixture *f = w->data;

	(void)revents;
	if (f->pred(f))
		ev_break(loop, EVBREAK_ALL);
}

static void run_until(struct fixture *f, int (*pred)(struct fixture *f))
{
	f->pred = pred;
	ev_prepare_start(f->loop, &f->until);
	if (!pred(f))
		ev_run(f->loop, 0);
	ev_prepare_stop(f->loop, &f->until);
	assert_false(f->timed_out);
}

static void on_sleeper(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static int sleeper_done(struct fixture *f)
{
	return !ev_is_active(&f->sleeper);
}

/* Let the loop run for seconds (the fake answers, timers fire). */
static void run_for(struct fixture *f, double seconds)
{
	ev_timer_set(&f->sleeper, seconds, 0);
	ev_timer_start(f->loop, &f->sleeper);
	run_until(f, sleeper_done);
}

/* The loop's clock, brought up to date: rconn times its commands with it. */
static double loop_now(struct fixture *f)
{
	ev_now_update(f->loop);
	return ev_now(f->loop);
}

static int is_up(struct fixture *f)
{
	return rconn_is_up(f->rc);
}

static int ups_2(struct fixture *f)
{
	return f->ups >= 2 && rconn_is_up(f->rc);
}

static int nothing_pending(struct fixture *f)
{
	return rconn_pending(f->rc) == 0;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	ev_timer_init(&f->timeout, on_timeout, TIMEOUT, 0);
	f->timeout.data = f;
	ev_timer_start(f->loop, &f->timeout);
	ev_prepare_init(&f->until, on_until);
	f->until.data = f;
	ev_timer_init(&f->sleeper, on_sleeper, 0, 0);
	f->lfd = -1;
	fake_start(f);
	redis_url_init(&f->url);
	*state = f;
	return 0;
}

/* Connect a client to the fake with url_fmt (%d is the port). */
static void client(struct fixture *f, const char *url_fmt)
{
	char url[128], err[128];

	snprintf(url, sizeof(url), url_fmt, f->port);
	assert_int_equal(redis_url_parse(&f->url, url, err, sizeof(err)), 0);
	f->rc = rconn_new(f->loop, &f->url, "test");
	rconn_on_event(f->rc, on_event, f);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int i;

	rconn_free(f->rc);
	fake_stop(f);
	ev_timer_stop(f->loop, &f->timeout);
	ev_timer_stop(f->loop, &f->sleeper);
	ev_prepare_stop(f->loop, &f->until);
	ev_loop_destroy(f->loop);
	redis_url_release(&f->url);
	for (i = 0; i < f->nlog; i++)
		free(f->log[i]);
	for (i = 0; i < MAX_RESULTS; i++)
		free(f->res[i].data);
	for (i = 0; i < f->nkv; i++) {
		sbuf_release(&f->kv[i][0]);
		sbuf_release(&f->kv[i][1]);
	}
	free(f);
	return 0;
}

/* The end of every test: after the client and the fake are gone, no watcher is active. */
static void finish(struct fixture *f)
{
	rconn_free(f->rc);
	f->rc = NULL;
	fake_stop(f);
	ev_timer_stop(f->loop, &f->timeout);
	assert_false(ev_run(f->loop, EVRUN_NOWAIT));
}

/* The fake's log from entry first on equals the NULL-ended list. */
static void expect_log(struct fixture *f, int first, ...)
{
	const char *want;
	va_list ap;
	int i = first;

	va_start(ap, first);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < f->nlog);
		assert_string_equal(f->log[i], want);
		i++;
	}
	va_end(ap);
	assert_int_equal(i, f->nlog);
}

static int log_has(struct fixture *f, const char *line)
{
	int i;

	for (i = 0; i < f->nlog; i++)
		if (strcmp(f->log[i], line) == 0)
			return 1;
	return 0;
}

static void expect_result(struct fixture *f, int i, int order, const char *text)
{
	assert_int_equal(f->res[i].calls, 1);
	assert_string_equal(f->res[i].text, text);
	if (order)
		assert_int_equal(f->res[i].order, order);
}

/* ---- the tests ---------------------------------------------------------------------- */

static void test_handshake_client_id(void **state)
{
	struct fixture *f = *state;

	client(f, "redis://127.0.0.1:%d/0");
	assert_false(rconn_is_up(f->rc));
	assert_int_equal(rconn_client_id(f->rc), -1);
	assert_string_equal(rconn_name(f->rc), "test");
	rconn_start(f->rc);
	run_until(f, is_up);
	assert_int_equal(f->ups, 1);
	assert_int_equal(f->downs, 0);
	assert_int_equal(rconn_client_id(f->rc), 101);
	assert_int_equal(rconn_pending(f->rc), 0);
	expect_log(f, 0, "1:CLIENT ID", NULL);
	finish(f);
}

static void test_handshake_auth_select(void **state)
{
	struct fixture *f = *state;

	client(f, "redis://:s3cret@127.0.0.1:%d/3");
	send_cmd(f, 0, 0, 0, "PING", NULL);
	rconn_start(f->rc);
	run_until(f, nothing_pending);
	expect_result(f, 0, 1, "+PONG");
	assert_true(rconn_is_up(f->rc));
	assert_int_equal(rconn_client_id(f->rc), 101);
	expect_log(f, 0, "1:AUTH s3cret", "1:SELECT 3", "1:CLIENT ID", "1:PING", NULL);
	finish(f);
}

static void test_handshake_auth_with_user(void **state)
{
	struct fixture *f = *state;

	client(f, "redis://alice:s3cret@127.0.0.1:%d");
	rconn_start(f->rc);
	run_until(f, is_up);
	expect_log(f, 0, "1:AUTH alice s3cret", "1:CLIENT ID", NULL);
	finish(f);
}

static int two_accepts(struct fixture *f)
{
	return f->accepts >= 2 && f->downs >= 2;
}

static void test_handshake_auth_refused(void **state)
{
	struct fixture *f = *state;

	client(f, "redis://:wrong@127.0.0.1:%d");
	rconn_start(f->rc);
	run_until(f, two_accepts); /* refused, then tried again after the backoff */
	assert_int_equal(f->ups, 0);
	assert_false(rconn_is_up(f->rc));
	assert_non_null(strstr(f->why, "AUTH"));
	assert_non_null(strstr(f->why, "WRONGPASS"));
	finish(f);
}

/* A replica (READONLY to every write) is not "up": closed, then retried with backoff. */
static void test_handshake_replica(void **state)
{
	struct fixture *f = *state;

	f->replica = 1;
	client(f, "redis://127.0.0.1:%d");
	rconn_start(f->rc);
	run_until(f, two_accepts);
	assert_int_equal(f->ups, 0);
	assert_false(rconn_is_up(f->rc));
	assert_non_null(strstr(f->why, "replica"));
	f->replica = 0; /* promoted */
	run_until(f, is_up);
	assert_int_equal(f->ups, 1);
	finish(f);
}

static void test_pipeline_fifo(void **state)
{
	struct fixture *f = *state;
	char v[8][4];
	int i;

	client(f, "redis://127.0.0.1:%d");
	rconn_start(f->rc);
	run_until(f, is_up);
	/* The fake holds every ECHO reply until all five have come: only a pipeline gets them. */
	f->batch = 5;
	for (i = 0; i < 5; i++) {
		snprintf(v[i], sizeof(v[i]), "v%d", i);
		send_cmd(f, i, 0, 0, "ECHO", v[i], NULL);
	}
	send_cmd(f, 5, 0, 0, "NOSUCH", NULL); /* an error reply goes to its command */
	send_cmd(f, 6, 0, 0, "INCR", "n", NULL);
	assert_int_equal(rconn_pending(f->rc), 7);
	run_until(f, nothing_pending);
	for (i = 0; i < 5; i++) {
		char want[8];

		snprintf(want, sizeof(want), "$v%d", i);
		expect_result(f, i, i + 1, want);
	}
	expect_result(f, 5, 6, "-ERR unknown command 'NOSUCH'");
	expect_result(f, 6, 7, ":1");
	assert_int_equal(f->downs, 0); /* an error reply is not a connection problem */
	finish(f);
}

static void test_multi_exec(void **state)
{
	struct fixture *f = *state;
	struct rcmd *c;

	client(f, "redis://127.0.0.1:%d");
	rconn_start(f->rc);
	run_until(f, is_up);
	c = rcmd_new();
	rcmd_multi(c);
	rcmd_args(c, "SET", "k", "v", NULL);
	rcmd_args(c, "INCR", "n", NULL);
	rcmd_args(c, "ECHO", "hi", NULL);
	rcmd_args(c, "GET", "missing", NULL);
	assert_int_equal(rcmd_count(c), 4);
	send_rcmd(f, 0, c, 0, 0);
	send_cmd(f, 1, 0, 0, "PING", NULL);
	run_until(f, nothing_pending);
	expect_result(f, 0, 1, "[+OK, :1, $hi, (nil)]");
	expect_result(f, 1, 2, "+PONG");
	expect_log(f, 1, "1:MULTI", "1:SET k v", "1:INCR n", "1:ECHO hi", "1:GET missing", "1:EXEC",
		   "1:PING", NULL);
	finish(f);
}

static void test_large_binary_value(void **state)
{
	struct fixture *f = *state;
	size_t n = 3 * 1024 * 1024, i;
	char *big = xmalloc(n);
	struct rcmd *c;

	/* 3 MB with NUL bytes and CRLFs, each way: more than one write and one read. */
	for (i = 0; i < n; i++)
		big[i] = (char)(i % 251);
	client(f, "redis://127.0.0.1:%d");
	rconn_start(f->rc);
	c = rcmd_new();
	rcmd_key_value(c, "SET", "bin", big, n);
	send_rcmd(f, 0, c, 0, 0);
	send_cmd(f, 1, 0, 0, "GET", "bin", NULL);
	c = rcmd_new();
	rcmd_argv(c, 2, (const char *[]){"ECHO", big}, (const size_t[]){4, n});
	send_rcmd(f, 2, c, 0, 0);
	send_cmd(f, 3, 0, 0, "PING", NULL);
	run_until(f, nothing_pending);
	expect_result(f, 0, 1, "+OK");
	expect_result(f, 1, 2, "$<3145728 bytes>");
	assert_int_equal(f->res[1].len, n);
	assert_memory_equal(f->res[1].data, big, n);
	expect_result(f, 2, 3, "$<3145728 bytes>");
	assert_int_equal(f->res[2].len, n);
	assert_memory_equal(f->res[2].data, big, n);
	expect_result(f, 3, 4, "+PONG");
	expect_log(f, 0, "1:CLIENT ID", "1:SET bin <3145728 bytes>", "1:GET bin",
		   "1:ECHO <3145728 bytes>", "1:PING", NULL);
	free(big);
	finish(f);
}

static void test_send_before_connect(void **state)
{
	struct fixture *f = *state;

	client(f, "redis://127.0.0.1:%d");
	send_cmd(f, 0, 0, 0, "ECHO", "early", NULL);
	assert_int_equal(rconn_pending(f->rc), 1);
	run_for(f, 0.05); /* not started: nothing happens */
	assert_int_equal(f->accepts, 0);
	assert_int_equal(f->res[0].calls, 0);
	rconn_start(f->rc);
	send_cmd(f, 1, 0, 0, "ECHO", "connecting", NULL); /* while the socket connects */
	assert_false(rconn_is_up(f->rc));
	run_until(f, nothing_pending);
	expect_result(f, 0, 1, "$early");
	expect_result(f, 1, 2, "$connecting");
	expect_log(f, 0, "1:CLIENT ID", "1:ECHO early", "1:ECHO connecting", NULL);
	finish(f);
}

/* Connection 1 never answers user commands and closes after the MULTI block's EXEC. */
static int close_after_exec(struct fconn *c, int argc, char **argv, struct sbuf *reply)
{
	(void)argc;
	(void)reply;
	if (c->num != 1 || strcmp(argv[0], "CLIENT") == 0 ||
	    strcmp(argv[0], "ROLE") == 0)
		return -1;
	return strcmp(argv[0], "EXEC") == 0 ? FAKE_CLOSE : FAKE_SILENT;
}

static int three_results(struct fixture *f)
{
	return f->res[0].calls && f->res[1].calls && f->res[2].calls && rconn_pending(f->rc) == 0;
}

static void test_server_closes(void **state)
{
	struct fixture *f = *state;
	struct rcmd *c;

	client(f, "redis://127.0.0.1:%d");
	f->policy = close_after_exec;
	rconn_start(f->rc);
	run_until(f, is_up);
	send_cmd(f, 0, 0, 0, "SET", "a", "1", NULL);
	send_cmd(f, 1, RCONN_PERSIST, 0, "SET", "b", "2", NULL);
	c = rcmd_new();
	rcmd_multi(c);
	rcmd_args(c, "INCR", "n", NULL);
	send_rcmd(f, 2, c, RCONN_PERSIST, 0);
	run_until(f, three_results);
	expect_result(f, 0, 1, "NULL");  /* sent, lost with the connection */
	expect_result(f, 1, 2, "+OK");   /* sent again after the reconnect, answered once */
	expect_result(f, 2, 3, "[:1]");  /* the whole block again; EXEC's reply once */
	assert_int_equal(f->downs, 1);
	assert_non_null(strstr(f->why, "closed"));
	assert_int_equal(f->ups, 2);
	assert_int_equal(rconn_client_id(f->rc), 102);
	expect_log(f, 0, "1:CLIENT ID", "1:SET a 1", "1:SET b 2", "1:MULTI", "1:INCR n", "1:EXEC",
		   "2:CLIENT ID", "2:SET b 2", "2:MULTI", "2:INCR n", "2:EXEC", NULL);
	run_for(f, 0.2); /* nothing arrives twice */
	assert_int_equal(f->res[1].calls, 1);
	assert_int_equal(f->res[2].calls, 1);
	finish(f);
}

static int first_result(struct fixture *f)
{
	return f->res[0].calls > 0;
}

static void test_command_timeout(void **state)
{
	struct fixture *f = *state;
	double t0;

	client(f, "redis://127.0.0.1:%d");
	rconn_set_timeout(f->rc, 0.2);
	rconn_start(f->rc);
	run_until(f, is_up);
	t0 = loop_now(f);
	send_cmd(f, 0, 0, 0, "HANG", NULL);
	run_until(f, first_result);
	assert_true(loop_now(f) - t0 > 0.2);
	assert_true(loop_now(f) - t0 < 2.0);
	expect_result(f, 0, 1, "NULL");
	assert_int_equal(f->downs, 1);
	assert_non_null(strstr(f->why, "no reply"));
	run_until(f, ups_2);
	assert_int_equal(rconn_client_id(f->rc), 102);
	send_cmd(f, 1, 0, 0, "PING", NULL); /* the new connection works */
	run_until(f, nothing_pending);
	expect_result(f, 1, 2, "+PONG");
	assert_int_equal(f->downs, 1);
	finish(f);
}

static void test_blocking_command_gets_extra_time(void **state)
{
	struct fixture *f = *state;
	double t0;

	client(f, "redis://127.0.0.1:%d");
	rconn_set_timeout(f->rc, 0.2);
	rconn_start(f->rc);
	run_until(f, is_up);
	t0 = loop_now(f);
	send_cmd(f, 0, RCONN_BLOCKING, 0.4, "HANG", NULL);
	run_until(f, first_result);
	assert_true(loop_now(f) - t0 > 0.6);
	assert_true(loop_now(f) - t0 < 2.0);
	expect_result(f, 0, 1, "NULL");
	assert_int_equal(f->downs, 1);
	finish(f);
}

/* Connection 1 answers SET as a replica does after a failover. */
static int readonly_on_first(struct fconn *c, int argc, char **argv, struct sbuf *reply)
{
	(void)argc;
	if (c->num != 1 || strcmp(argv[0], "SET") != 0)
		return -1;
	sbuf_adds(reply, "-READONLY You can't write against a read only replica.\r\n");
	return FAKE_REPLY;
}

static int two_results(struct fixture *f)
{
	return f->res[0].calls && f->res[1].calls && rconn_pending(f->rc) == 0;
}

static void test_readonly_reconnects(void **state)
{
	struct fixture *f = *state;

	client(f, "redis://127.0.0.1:%d");
	f->policy = readonly_on_first;
	rconn_start(f->rc);
	run_until(f, is_up);
	send_cmd(f, 0, 0, 0, "SET", "a", "1", NULL);
	send_cmd(f, 1, RCONN_PERSIST, 0, "SET", "b", "2", NULL);
	run_until(f, two_results);
	expect_result(f, 0, 1, "NULL");
	expect_result(f, 1, 2, "+OK");
	assert_int_equal(f->downs, 1);
	assert_non_null(strstr(f->why, "READONLY"));
	assert_int_equal(f->ups, 2);
	assert_true(log_has(f, "2:SET b 2"));
	assert_false(log_has(f, "2:SET a 1"));
	finish(f);
}

/* Connection 1 sends a reply nobody asked for after PONG. */
static int extra_reply(struct fconn *c, int argc, char **argv, struct sbuf *reply)
{
	(void)argc;
	if (c->num != 1 || strcmp(argv[0], "PING") != 0)
		return -1;
	sbuf_adds(reply, "+PONG\r\n+EXTRA\r\n");
	return FAKE_REPLY;
}

static void test_unexpected_reply_reconnects(void **state)
{
	struct fixture *f = *state;

	client(f, "redis://127.0.0.1:%d");
	f->policy = extra_reply;
	rconn_start(f->rc);
	run_until(f, is_up);
	send_cmd(f, 0, 0, 0, "PING", NULL);
	run_until(f, ups_2);
	expect_result(f, 0, 1, "+PONG");
	assert_int_equal(f->downs, 1);
	assert_non_null(strstr(f->why, "no command"));
	finish(f);
}

static void test_stop_fails_everything(void **state)
{
	struct fixture *f = *state;
	int accepts;

	client(f, "redis://127.0.0.1:%d");
	rconn_start(f->rc);
	run_until(f, is_up);
	send_cmd(f, 0, 0, 0, "HANG", NULL);
	send_cmd(f, 1, RCONN_PERSIST, 0, "SET", "p", "1", NULL);
	run_for(f, 0.05); /* both sent, no reply */
	assert_true(log_has(f, "1:SET p 1"));
	send_cmd(f, 2, 0, 0, "PING", NULL);
	assert_int_equal(rconn_pending(f->rc), 3);
	rconn_stop(f->rc);
	expect_result(f, 0, 1, "NULL");
	expect_result(f, 1, 2, "NULL"); /* persistent or not: stop fails it */
	expect_result(f, 2, 3, "NULL");
	assert_int_equal(rconn_pending(f->rc), 0);
	assert_false(rconn_is_up(f->rc));
	assert_int_equal(rconn_client_id(f->rc), -1);
	assert_int_equal(f->downs, 0);
	accepts = f->accepts;
	run_for(f, 0.4); /* longer than the first backoff: no reconnect */
	assert_int_equal(f->accepts, accepts);
	assert_int_equal(f->res[0].calls, 1);
	assert_int_equal(f->res[1].calls, 1);
	/* Queued after the stop: never sent; rconn_free fails it. */
	send_cmd(f, 3, 0, 0, "PING", NULL);
	run_for(f, 0.05);
	assert_int_equal(f->res[3].calls, 0);
	rconn_free(f->rc);
	f->rc = NULL;
	expect_result(f, 3, 4, "NULL");
	finish(f);
}

/* BIG n: a bulk string of n bytes. WIDE: an array that announces 2^31 - 1 elements. */
static int big_replies(struct fconn *c, int argc, char **argv, struct sbuf *r)
{
	(void)c;
	if (strcmp(argv[0], "BIG") == 0 && argc == 2) {
		size_t n = strtoul(argv[1], NULL, 10);

		sbuf_addf(r, "$%zu\r\n", n);
		sbuf_grow(r, n + 2);
		memset(r->buf + r->len, 'x', n);
		r->len += n;
		sbuf_adds(r, "\r\n");
		return FAKE_REPLY;
	}
	if (strcmp(argv[0], "WIDE") == 0) {
		sbuf_adds(r, "*2147483647\r\n:1\r\n");
		return FAKE_REPLY;
	}
	return -1;
}

static int three_done(struct fixture *f)
{
	return f->res[0].calls && f->res[1].calls && f->res[2].calls;
}

static void test_reply_over_the_limit_is_refused(void **state)
{
	struct fixture *f = *state;

	client(f, "redis://127.0.0.1:%d");
	rconn_set_max_reply(f->rc, 1000);
	f->policy = big_replies;
	rconn_start(f->rc);
	run_until(f, is_up);
	send_cmd(f, 0, 0, 0, "BIG", "992", NULL); /* "$992\r\n" + 992 + "\r\n": 1000 bytes */
	send_cmd(f, 1, RCONN_PERSIST, 0, "BIG", "993", NULL);
	send_cmd(f, 2, 0, 0, "PING", NULL);       /* sent behind it: fails with the connection */
	run_until(f, three_done);
	expect_result(f, 0, 1, "$<992 bytes>");
	expect_result(f, 1, 2, "NULL");
	assert_true(f->res[1].refused);
	expect_result(f, 2, 3, "NULL");
	assert_false(f->res[2].refused);
	run_until(f, ups_2);
	send_cmd(f, 3, RCONN_PERSIST, 0, "PING", NULL);
	run_until(f, nothing_pending);
	expect_result(f, 3, 4, "+PONG");
	assert_int_equal(f->downs, 0); /* Redis answered: not an outage */
	assert_true(log_has(f, "1:BIG 993"));
	assert_false(log_has(f, "2:BIG 993")); /* refused once, never sent again */
	finish(f);
}

static void test_reply_limit_is_per_reply(void **state)
{
	struct fixture *f = *state;
	int i;

	client(f, "redis://127.0.0.1:%d");
	rconn_set_max_reply(f->rc, 1000);
	f->policy = big_replies;
	rconn_start(f->rc);
	run_until(f, is_up);
	/* Pipelined: 12 kB of replies arrive together, each under the limit. */
	for (i = 0; i < MAX_RESULTS; i++)
		send_cmd(f, i, 0, 0, "BIG", "700", NULL);
	run_until(f, nothing_pending);
	for (i = 0; i < MAX_RESULTS; i++)
		expect_result(f, i, i + 1, "$<700 bytes>");
	assert_int_equal(f->accepts, 1);
	finish(f);
}

static void test_wide_array_is_refused(void **state)
{
	struct fixture *f = *state;

	client(f, "redis://127.0.0.1:%d");
	rconn_set_max_reply(f->rc, 1 << 20);
	f->policy = big_replies;
	rconn_start(f->rc);
	run_until(f, is_up);
	send_cmd(f, 0, 0, 0, "WIDE", NULL); /* without the limit: a 16 GiB allocation */
	run_until(f, ups_2);
	expect_result(f, 0, 1, "NULL");
	assert_true(f->res[0].refused);
	assert_int_equal(f->downs, 0);
	finish(f);
}

static void test_stop_before_connect(void **state)
{
	struct fixture *f = *state;

	client(f, "redis://127.0.0.1:%d");
	send_cmd(f, 0, RCONN_PERSIST, 0, "PING", NULL);
	rconn_start(f->rc);
	rconn_stop(f->rc); /* while connecting */
	expect_result(f, 0, 1, "NULL");
	run_for(f, 0.3);
	assert_int_equal(f->res[0].calls, 1);
	assert_int_equal(f->ups, 0);
	assert_int_equal(rconn_pending(f->rc), 0);
	finish(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_client_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_auth_select, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_auth_with_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_auth_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_replica, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_binary_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_before_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_command_gets_extra_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_readonly_reconnects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unexpected_reply_reconnects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_fails_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_before_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_over_the_limit_is_refused, setup,
						 teardown),
		cmocka_unit_test_setup_teardown(test_reply_limit_is_per_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_array_is_refused, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN); /* as winch's main() does: a closed peer is a write error */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("rconn", tests, NULL, NULL);
}
