/*
 * timestamp: write times in the unit each Sidekiq generation uses (float seconds, or integer
 * milliseconds in 8.x payloads) and read either, telling them apart by JSON type.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json.h>

#include "timestamp.h"
#include "util.h"
#include "banned.h"

/*
 * The shortest "%.Ng" text that reads back as t exactly, as Ruby's Float#to_s does: at
 * 1.8e9 a double resolves about 0.24 microseconds, so every digit it holds is written.
 * winch never calls setlocale(), so the decimal point is '.'.
 */
static int shortest_double(char *buf, size_t size, double t)
{
	int prec, n = 0;

	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, size, "%.*g", prec, t);
		if (strtod(buf, NULL) == t)
			break;
	}
	return n;
}

void ts_append_seconds(struct sbuf *out, double t)
{
	char buf[64];
	int n;

	if (!isfinite(t)) {
		sbuf_adds(out, "0.0");
		return;
	}
	n = shortest_double(buf, sizeof(buf), t);
	sbuf_add(out, buf, (size_t)n);
	/* "1795797610" would read as integer milliseconds in Sidekiq 8: force a float. */
	if (strpbrk(buf, ".eE") == NULL)
		sbuf_adds(out, ".0");
}

/* t in whole milliseconds, rounded half away from zero (without libm, which is not linked). */
static long long round_ms(double t)
{
	double ms = t * 1000.0;

	if (!isfinite(ms) || ms >= 9.2e18 || ms <= -9.2e18)
		return 0;
	return (long long)(ms < 0 ? ms - 0.5 : ms + 0.5);
}

void ts_append_payload(struct sbuf *out, double t, enum sidekiq_gen gen)
{
	if (gen < SIDEKIQ_8) {
		ts_append_seconds(out, t);
		return;
	}
	sbuf_addf(out, "%lld", round_ms(t));
}

/* Does text look like a JSON number? Only these characters, starting with '-' or a digit. */
static int looks_numeric(const char *text, size_t len)
{
	size_t i;

	if (len == 0 || (text[0] != '-' && (text[0] < '0' || text[0] > '9')))
		return 0;
	for (i = 0; i < len; i++) {
		if (strchr("0123456789+-.eE", text[i]) == NULL || text[i] == '\0')
			return 0;
	}
	return 1;
}

int ts_parse_text(const char *text, size_t len, double *seconds)
{
	char buf[64];
	char *end;
	double v;

	if (len >= sizeof(buf) || !looks_numeric(text, len))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	v = strtod(buf, &end);
	if (*end != '\0' || !isfinite(v))
		return -1;
	*seconds = memchr(buf, '.', len) || memchr(buf, 'e', len) || memchr(buf, 'E', len)
		       ? v
		       : v / 1000.0;
	return 0;
}

int ts_parse_json(struct json_object *v, double *seconds)
{
	double d;

	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		if (!isfinite(d))
			return -1;
		*seconds = d;
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		*seconds = (double)json_object_get_int64(v) / 1000.0;
		return 0;
	}
	return -1;
}

void ts_utc_date(double t, char *out)
{
	struct tm tm;
	time_t tt;

	tt = isfinite(t) && t < 9.2e18 && t > -9.2e18 ? (time_t)t : 0;
	if ((double)tt > t)
		tt--; /* round toward the past, not toward zero */
	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		snprintf(out, 11, "1970-01-01");
}
