/*
 * timestamp: the units Sidekiq writes times in. Payload times (created_at, enqueued_at,
 * failed_at, retried_at) are float epoch seconds up to 7.x and integer epoch milliseconds
 * in 8.x; readers tell them apart by JSON type. Zset scores and heartbeat times are always
 * float seconds; the work hash's run_at is integer seconds.
 */
#ifndef WINCH_TIMESTAMP_H
#define WINCH_TIMESTAMP_H

#include "util.h"

struct json_object;

/* The Sidekiq generation winch writes for (--sidekiq 6|7|8). */
enum sidekiq_gen {
	SIDEKIQ_6 = 6,
	SIDEKIQ_7 = 7,
	SIDEKIQ_8 = 8,
};

/*
 * Append a payload timestamp for time t (epoch seconds) in gen's unit: integer milliseconds
 * for 8, else float seconds that always carry a decimal point ("1795797610.0", never
 * "1795797610"), with microsecond precision or better: the shortest text that reads back
 * as the same double, as Ruby's Float#to_s writes it ("1795797610.9403284"). A NaN or
 * infinite t is written as 0.
 */
void ts_append_payload(struct sbuf *out, double t, enum sidekiq_gen gen);

/* Append a float-seconds value (zset scores, beat, started_at), always with a decimal point. */
void ts_append_seconds(struct sbuf *out, double t);

/*
 * Read a payload timestamp given as JSON number text: a number with '.', 'e' or 'E' is
 * seconds, a plain integer is milliseconds. Returns 0 and sets *seconds, or -1 if text is
 * not a number.
 */
int ts_parse_text(const char *text, size_t len, double *seconds) WINCH_MUSTCHECK;

/* The same for a json-c value (double = seconds, int = milliseconds); -1 if not a number. */
int ts_parse_json(struct json_object *v, double *seconds) WINCH_MUSTCHECK;

/*
 * The UTC date of t as "YYYY-MM-DD" into out (at least 11 bytes), for the daily stat keys.
 * Seconds before the epoch count toward the past; a t with no 4-digit year gives 1970-01-01.
 */
void ts_utc_date(double t, char *out);

#endif
