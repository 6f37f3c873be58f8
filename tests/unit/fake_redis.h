/*
 * fake_redis: a small Redis for test_rconn, listening on 127.0.0.1 in the test's own ev_loop:
 * it logs every request, answers as a tiny Redis would, and lets a test's policy hold,
 * drop, close or rewrite replies. The fixture is shared by the fake and the client side.
 */
#ifndef WINCH_TEST_FAKE_REDIS_H
#define WINCH_TEST_FAKE_REDIS_H

#include <ev.h>

#include "rconn.h"
#include "redisurl.h"
#include "util.h"

#define TIMEOUT 5.0 /* seconds a test's loop may run */
#define MAX_LOG 256
#define MAX_RESULTS 16

struct fixture;

/* One accepted connection of the fake server. */
struct fconn {
	struct fixture *f;
	int fd;
	int num;            /* 1 for the first connection accepted, 2 for the next, ... */
	ev_io rio, wio;
	redisReader *reader;
	struct sbuf out;    /* replies not yet written */
	size_t out_pos;
	int in_multi;
	struct sbuf queued; /* replies of the commands queued in MULTI */
	int nqueued;
	int stuck;          /* a HANG came: nothing more is answered, as a blocked server */
	int echoes;         /* ECHO requests seen */
};

enum fake_action {
	FAKE_REPLY,  /* send what was put in the reply buffer */
	FAKE_SILENT, /* send nothing */
	FAKE_CLOSE,  /* close the connection without answering */
};

/* A test's server behaviour: decides for one request, or returns -1 for the default. */
typedef int (*fake_policy)(struct fconn *c, int argc, char **argv, struct sbuf *reply);

/* What a reply callback saw, copied while the reply was valid. */
struct result {
	struct fixture *f;
	int calls;
	int order;     /* 1 for the first callback of the test, 2 for the next, ... */
	char text[256];
	char *data;    /* a string reply's bytes (owned), or NULL */
	size_t len;
	int refused;   /* rconn_reply_refused() during the call */
};

struct fixture {
	struct ev_loop *loop;
	ev_timer timeout;
	ev_prepare until;
	ev_timer sleeper;
	int (*pred)(struct fixture *f);
	int timed_out;
	/* the fake server */
	int lfd;
	int port;
	ev_io accept_io;
	struct fconn *conn;  /* the current connection */
	int accepts;
	char *log[MAX_LOG];  /* "N:ARG ARG ...", N the connection number */
	int nlog;
	long long counter;   /* for INCR */
	struct sbuf kv[8][2]; /* for SET and GET: keys and values */
	int nkv;
	int batch;           /* hold ECHO replies until this many ECHOs came (0: never hold) */
	int replica;         /* ROLE answers "slave" (a failover under way) */
	fake_policy policy;
	/* the client */
	struct redis_url url;
	struct rconn *rc;
	int ups, downs;
	char why[200];
	struct result res[MAX_RESULTS];
	int ncallbacks;
};

/* Listen on a free loopback port (f->port) / close everything the fake opened. */
void fake_start(struct fixture *f);
void fake_stop(struct fixture *f);

#endif
