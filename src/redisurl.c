/* redisurl: parse redis://, rediss:// and unix:// URLs the way redis-rb reads them. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisurl.h"
#include "banned.h"

void redis_url_init(struct redis_url *u)
{
	memset(u, 0, sizeof(*u));
	u->port = 6379;
}

void redis_url_release(struct redis_url *u)
{
	free(u->host);
	free(u->path);
	free(u->user);
	free(u->password);
	redis_url_init(u);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into a new string; NULL if an escape is malformed. */
static char *pct_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, j = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[j++] = s[i];
			continue;
		}
		if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
			free(out);
			return NULL;
		}
		out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 2;
	}
	out[j] = '\0';
	return out;
}

static int parse_userinfo(struct redis_url *u, const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL) {
		/* redis-rb reads "redis://secret@host" as a password. */
		u->password = pct_decode(s, n);
		return u->password ? 0 : -1;
	}
	if (colon > s) {
		u->user = pct_decode(s, (size_t)(colon - s));
		if (u->user == NULL)
			return -1;
	}
	u->password = pct_decode(colon + 1, n - (size_t)(colon - s) - 1);
	return u->password ? 0 : -1;
}

static int parse_db(struct redis_url *u, const char *s, char *err, size_t errlen)
{
	long db;

	if (*s == '\0')
		return 0;
	if (parse_long(s, 0, 1 << 20, &db) < 0) {
		snprintf(err, errlen, "database '%s' is not a number", s);
		return -1;
	}
	u->db = (int)db;
	return 0;
}

static int parse_unix(struct redis_url *u, const char *rest, char *err, size_t errlen)
{
	const char *at = strchr(rest, '@');
	const char *q;

	if (at && at < strchr(rest, '/')) {
		if (parse_userinfo(u, rest, (size_t)(at - rest)) < 0) {
			snprintf(err, errlen, "bad percent-escape in user or password");
			return -1;
		}
		rest = at + 1;
	}
	if (rest[0] != '/') {
		snprintf(err, errlen, "unix socket path must be absolute");
		return -1;
	}
	q = strchr(rest, '?');
	u->path = q ? xstrndup(rest, (size_t)(q - rest)) : xstrdup(rest);
	if (q) {
		if (strncmp(q + 1, "db=", 3) != 0) {
			snprintf(err, errlen, "unknown query '%s' (only db=N)", q + 1);
			return -1;
		}
		return parse_db(u, q + 4, err, errlen);
	}
	return 0;
}

static int parse_tcp(struct redis_url *u, const char *rest, char *err, size_t errlen)
{
	const char *slash = strchr(rest, '/');
	const char *hostpart, *at, *colon, *end;
	char *db = NULL;
	long port;
	int rc = 0;

	end = slash ? slash : rest + strlen(rest);
	at = memchr(rest, '@', (size_t)(end - rest));
	/* A password may contain '@' when escaped; take the last '@' before the path. */
	while (at && memchr(at + 1, '@', (size_t)(end - at - 1)))
		at = memchr(at + 1, '@', (size_t)(end - at - 1));
	if (at) {
		if (parse_userinfo(u, rest, (size_t)(at - rest)) < 0) {
			snprintf(err, errlen, "bad percent-escape in user or password");
			return -1;
		}
		hostpart = at + 1;
	} else {
		hostpart = rest;
	}
	if (hostpart[0] == '[') {
		const char *rb = memchr(hostpart, ']', (size_t)(end - hostpart));

		if (rb == NULL) {
			snprintf(err, errlen, "unterminated IPv6 address");
			return -1;
		}
		u->host = xstrndup(hostpart + 1, (size_t)(rb - hostpart - 1));
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(hostpart, ':', (size_t)(end - hostpart));
		u->host = xstrndup(hostpart, (size_t)((colon ? colon : end) - hostpart));
	}
	if (u->host[0] == '\0') {
		free(u->host);
		u->host = xstrdup("127.0.0.1");
	}
	if (colon) {
		char *p = xstrndup(colon + 1, (size_t)(end - colon - 1));

		if (parse_long(p, 1, 65535, &port) < 0) {
			snprintf(err, errlen, "port '%s' is not a number from 1 to 65535", p);
			rc = -1;
		} else {
			u->port = (int)port;
		}
		free(p);
		if (rc < 0)
			return rc;
	}
	if (slash) {
		db = xstrdup(slash + 1);
		rc = parse_db(u, db, err, errlen);
		free(db);
	}
	return rc;
}

int redis_url_parse(struct redis_url *u, const char *url, char *err, size_t errlen)
{
	int rc;

	redis_url_release(u);
	if (strncmp(url, "redis://", 8) == 0) {
		rc = parse_tcp(u, url + 8, err, errlen);
	} else if (strncmp(url, "rediss://", 9) == 0) {
		u->tls = 1;
		rc = parse_tcp(u, url + 9, err, errlen);
		if (rc == 0) {
			snprintf(err, errlen, "TLS (rediss://) is not supported yet");
			rc = -1;
		}
	} else if (strncmp(url, "unix://", 7) == 0) {
		rc = parse_unix(u, url + 7, err, errlen);
	} else {
		snprintf(err, errlen, "scheme must be redis://, rediss:// or unix://");
		rc = -1;
	}
	if (rc < 0)
		redis_url_release(u);
	return rc;
}

char *redis_url_describe(const struct redis_url *u)
{
	if (u->path)
		return xasprintf("unix:%s?db=%d", u->path, u->db);
	return xasprintf("%s:%d/%d", u->host, u->port, u->db);
}

int redis_url_from_env(struct redis_url *u, char **text, char *err, size_t errlen)
{
	const char *provider, *url, *var;
	char reason[256];

	/* As Sidekiq: REDIS_PROVIDER names the variable that holds the URL. */
	provider = getenv("REDIS_PROVIDER");
	var = "REDIS_URL";
	if (provider && *provider) {
		if (strstr(provider, "://")) {
			snprintf(err, errlen,
				 "REDIS_PROVIDER: '%s' must name a variable (like REDIS_URL), "
				 "not hold a URL",
				 provider);
			return -1;
		}
		url = getenv(provider);
		if (url == NULL || *url == '\0') {
			snprintf(err, errlen, "REDIS_PROVIDER: names '%s', which is not set",
				 provider);
			return -1;
		}
		var = provider;
	} else {
		url = getenv("REDIS_URL");
	}
	if (url == NULL || *url == '\0')
		url = REDIS_URL_DEFAULT;
	if (redis_url_parse(u, url, reason, sizeof(reason)) < 0) {
		snprintf(err, errlen, "%s: '%s': %s", var, url, reason);
		return -1;
	}
	if (text)
		*text = xstrdup(url);
	return 0;
}
