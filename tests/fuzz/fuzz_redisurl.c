/*
 * fuzz_redisurl: libFuzzer harness for REDIS_URL parsing: the input (up to its first NUL)
 * as a URL, directly and through the environment, and, when it holds a NUL, the part before
 * it as REDIS_PROVIDER naming a variable that holds the part after. Built and run by
 * tests/fuzz/run.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisurl.h"
#include "util.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_redisurl: %s:%d: invariant failed: %s\n", __FILE__,  \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void check_parsed(const struct redis_url *u)
{
	char *d;

	CHECK((u->host != NULL) != (u->path != NULL));
	CHECK(u->port >= 1 && u->port <= 65535);
	CHECK(u->db >= 0);
	CHECK(!u->tls);
	d = redis_url_describe(u);
	CHECK(d != NULL);
	free(d);
}

static void check_failed(const struct redis_url *u, const char *err)
{
	CHECK(u->host == NULL && u->path == NULL && u->user == NULL && u->password == NULL);
	CHECK(err[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = xstrndup((const char *)data, size);
	size_t first = strlen(url);
	struct redis_url u;
	char err[512], *text = NULL;

	redis_url_init(&u);
	err[0] = '\0';
	if (redis_url_parse(&u, url, err, sizeof(err)) == 0)
		check_parsed(&u);
	else
		check_failed(&u, err);

	redis_url_release(&u);
	clearenv();
	if (first < size) {
		/* "NAME\0URL": REDIS_PROVIDER=NAME, NAME=URL (when NAME can be a variable). */
		char *value = xstrndup((const char *)data + first + 1, size - first - 1);

		setenv("REDIS_PROVIDER", url, 1);
		if (url[0] && strchr(url, '=') == NULL)
			setenv(url, value, 1);
		free(value);
	} else {
		setenv("REDIS_URL", url, 1);
	}
	err[0] = '\0';
	if (redis_url_from_env(&u, &text, err, sizeof(err)) == 0) {
		check_parsed(&u);
		CHECK(text != NULL);
		free(text);
	} else {
		check_failed(&u, err);
		CHECK(text == NULL);
	}
	redis_url_release(&u);
	free(url);
	return 0;
}
