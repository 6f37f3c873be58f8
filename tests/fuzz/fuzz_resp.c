/*
 * fuzz_resp: libFuzzer harness for the RESP replies winch reads. Two passes over the input:
 *   - hiredis's redisReader as src/rconn.c sets it up (reader_new: arrays bounded by the
 *     reply limit), fed in chunks of random size, every complete reply walked (with
 *     rconn_reply_str, the one reply-handling function outside a callback) and freed;
 *   - rconn's own read path (rconn_input: the reply limit, FIFO matching, MULTI/EXEC
 *     counting, failover errors) with a few commands queued as if sent, each of whose
 *     callbacks must run exactly once, after which the connection is freed.
 * The first 4 bytes choose the reply limit and the commands; the rest is the byte stream.
 * rconn.c is included whole to reach its static read path. Built by tests/fuzz/run.sh.
 */
#include "rconn.c"

#include <stdint.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_resp: %s:%d: invariant failed: %s\n", __FILE__,      \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAX_CMDS 8

static const size_t limits[] = {16, 100, 1000, 65536, RCONN_DEFAULT_MAX_REPLY};

struct call {
	int calls;
	int refused;
};

/* A small PRNG seeded from the input, so that a reproducer replays the same chunks. */
static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static size_t next_chunk(uint32_t *seed, size_t left)
{
	size_t n = 1 + xorshift(seed) % (xorshift(seed) % 4 == 0 ? 4096 : 16);

	return n > left ? left : n;
}

static void walk(const redisReply *r, int depth)
{
	size_t i;

	CHECK(depth < 16);
	CHECK(strlen(rconn_reply_str(r)) < 128);
	switch (r->type) {
	case REDIS_REPLY_ARRAY:
		CHECK(r->elements == 0 || r->element != NULL);
		for (i = 0; i < r->elements; i++)
			walk(r->element[i], depth + 1);
		break;
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		CHECK(r->str != NULL && r->str[r->len] == '\0');
		break;
	default:
		break;
	}
}

static void on_reply(struct rconn *rc, struct redisReply *r, void *priv)
{
	struct call *c = priv;

	c->calls++;
	c->refused = rconn_reply_refused(rc);
	CHECK(r == NULL || !c->refused);
	if (r)
		walk(r, 0);
}

/* The reader alone, as rconn configures it. */
static void fuzz_reader(struct rconn *rc, const uint8_t *data, size_t size, uint32_t seed)
{
	redisReader *reader = reader_new(rc);
	size_t pos = 0, n;
	void *reply;

	while (pos < size) {
		n = next_chunk(&seed, size - pos);
		if (redisReaderFeed(reader, (const char *)data + pos, n) != REDIS_OK)
			break;
		pos += n;
		for (;;) {
			reply = NULL;
			if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
				CHECK(reply == NULL);
				goto out;
			}
			if (reply == NULL)
				break;
			walk(reply, 0);
			freeReplyObject(reply);
		}
	}
out:
	redisReaderFree(reader);
}

static struct ev_loop *loop;
static struct redis_url url;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct call calls[MAX_CMDS];
	struct rconn *rc;
	struct rentry *e;
	uint32_t seed = 2463534242u;
	size_t pos, n, i;
	int ncmds, k;

	if (loop == NULL) {
		loop = ev_loop_new(EVFLAG_AUTO);
		redis_url_init(&url);
		log_setup(LOG_ERROR, LOG_FORMAT_TEXT);
	}
	if (size < 4)
		return 0;
	for (i = 0; i < size && i < 8; i++)
		seed = seed * 31 + data[i];
	if (seed == 0)
		seed = 1;
	rc = rconn_new(loop, &url, "fuzz");
	rconn_set_max_reply(rc, limits[data[0] % ARRAY_SIZE(limits)]);
	fuzz_reader(rc, data + 4, size - 4, seed);

	/* Commands queued and marked sent, as if written on a connection that is up. */
	ncmds = data[1] % (MAX_CMDS + 1);
	memset(calls, 0, sizeof(calls));
	for (k = 0; k < ncmds; k++) {
		struct rcmd *c = rcmd_new();
		int j, parts = (data[2] >> (k % 8)) & 1 ? 1 + k % 3 : 1;

		if (parts > 1 || k == 7)
			rcmd_multi(c);
		for (j = 0; j < parts; j++)
			rcmd_args(c, "PING", NULL);
		rconn_send(rc, c, (data[3] >> k) & 1 ? RCONN_PERSIST : 0, 0, on_reply, &calls[k]);
	}
	rc->state = RCONN_READY;
	for (e = rc->head; e; e = e->next)
		e->sent_at = 1;
	rc->unsent = NULL;
	rc->reader = reader_new(rc);
	for (pos = 4; pos < size; pos += n) {
		n = next_chunk(&seed, size - pos);
		if (rconn_input(rc, (const char *)data + pos, n) < 0)
			break;
	}
	rconn_free(rc);
	for (k = 0; k < ncmds; k++)
		CHECK(calls[k].calls == 1);
	return 0;
}
