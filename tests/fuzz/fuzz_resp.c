/*
 * fuzz_resp: libFuzzer harness for the RESP replies winch reads: hiredis's redisReader as
 * src/rconn.c drives it (bytes fed in chunks of random size, every complete reply taken
 * and freed), and rconn_reply_str, the one reply-handling function outside a callback, on
 * every reply and element. Built and run by tests/fuzz/run.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "rconn.h"
#include "util.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_resp: %s:%d: invariant failed: %s\n", __FILE__,      \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A small PRNG seeded from the input, so that a reproducer replays the same chunks. */
static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void walk(const redisReply *r, int depth)
{
	size_t i;

	CHECK(depth < 16);
	CHECK(strlen(rconn_reply_str(r)) < 128);
	switch (r->type) {
	case REDIS_REPLY_ARRAY:
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *reader = redisReaderCreate();
	uint32_t seed = 2463534242u;
	size_t pos = 0, n, i;
	void *reply;

	for (i = 0; i < size && i < 8; i++)
		seed = seed * 31 + data[i];
	if (seed == 0)
		seed = 1;
	CHECK(reader != NULL);
	while (pos < size) {
		n = 1 + xorshift(&seed) % (xorshift(&seed) % 4 == 0 ? 4096 : 16);
		if (n > size - pos)
			n = size - pos;
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
	CHECK(strlen(rconn_reply_str(NULL)) > 0);
	redisReaderFree(reader);
	return 0;
}
