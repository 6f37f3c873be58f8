/*
 * redisurl: where Redis is, from a URL as redis-rb reads it:
 *   redis://[user[:password]@]host[:port][/db]   (default 127.0.0.1:6379, db 0)
 *   rediss://...                                  (TLS; refused until the transport has it)
 *   unix://[user[:password]@]/path/to/socket[?db=N]
 * User and password are percent-decoded.
 */
#ifndef WINCH_REDISURL_H
#define WINCH_REDISURL_H

#include "util.h"

struct redis_url {
	char *host;     /* owned; NULL for a unix socket */
	int port;
	char *path;     /* owned; unix socket path, or NULL */
	char *user;     /* owned or NULL */
	char *password; /* owned or NULL */
	int db;
	int tls;
};

#define REDIS_URL_DEFAULT "redis://127.0.0.1:6379/0"

void redis_url_init(struct redis_url *u);
void redis_url_release(struct redis_url *u);
/* Parse url into u (released first). Returns 0, or -1 with a reason in err. */
int redis_url_parse(struct redis_url *u, const char *url, char *err, size_t errlen) WINCH_MUSTCHECK;
/*
 * Where Redis is, from the environment as Sidekiq reads it: the URL in the variable that
 * REDIS_PROVIDER names (it must name a variable, not hold a URL), else $REDIS_URL, else
 * REDIS_URL_DEFAULT. Parses it into u (released first); *text, when text is not NULL, gets a
 * copy of the URL read (the caller frees it). Returns 0, or -1 with one line in err that
 * names the variable: "REDIS_PROVIDER: names 'X', which is not set",
 * "REDIS_URL: 'http://x': scheme must be ...". Reads getenv(); not thread-safe against setenv.
 */
int redis_url_from_env(struct redis_url *u, char **text, char *err, size_t errlen)
	WINCH_MUSTCHECK;
/* "host:port/db" or "unix:/path?db=N", never the password: for log lines. Caller frees. */
char *redis_url_describe(const struct redis_url *u);

#endif
