/*
 * payload: a Sidekiq job as fetched from Redis. payload_parse() reads the fields winch
 * needs (json-c, bounded depth and size) and keeps the raw text, which stays the truth:
 * anything winch writes back is the raw text with only winch's own members changed
 * (jsonraw_rewrite), never a re-serialization.
 */
#ifndef WINCH_PAYLOAD_H
#define WINCH_PAYLOAD_H

#include <stddef.h>

#include "jsonraw.h"
#include "timestamp.h"
#include "util.h"

struct json_object;

struct payload_limits {
	size_t max_bytes; /* payload size; default 16 MiB */
	int max_depth;    /* JSON nesting; default 128 (Ruby's JSON default is 100), at most
			   * PAYLOAD_MAX_DEPTH_CAP */
};

#define PAYLOAD_DEFAULT_MAX_BYTES (16u * 1024 * 1024)
#define PAYLOAD_DEFAULT_MAX_DEPTH 128
#define PAYLOAD_MAX_DEPTH_CAP 10000 /* a larger max_depth is lowered to this */

/* What payload_parse() found wrong; the job cannot run and goes to the dead set. */
enum payload_error {
	PAYLOAD_OK = 0,
	PAYLOAD_TOO_BIG,    /* over max_bytes: dead set verbatim */
	PAYLOAD_NOT_JSON,   /* not JSON, or nested deeper than max_depth: dead set verbatim */
	PAYLOAD_NOT_OBJECT, /* JSON but not an object: dead set verbatim */
	PAYLOAD_BAD_FIELD,  /* an object whose class/args/jid/queue... are missing or of a wrong type */
};

/* How `retry` reads. */
enum payload_retry {
	PAYLOAD_RETRY_DEFAULT, /* true or missing: max_retries (25) */
	PAYLOAD_RETRY_NONE,    /* false: no retry, no dead set */
	PAYLOAD_RETRY_COUNT,   /* an integer N (0 = straight to the dead set) */
};

/*
 * A parsed job. The struct owns raw (a copy) and root; every const char * field points
 * into root and lives as long as the payload. Absent optional fields are NULL, -1 or 0 as
 * noted.
 */
struct payload {
	char *raw;                   /* owned copy of the fetched text, NUL-terminated */
	size_t raw_len;
	struct json_object *root;    /* owned; NULL when the text is not a JSON object */
	const char *klass;           /* `class` */
	const char *jid;             /* `jid` */
	const char *queue;           /* `queue`, or NULL */
	const char *wrapped;         /* `wrapped` (ActiveJob), or NULL */
	const char *retry_queue;     /* or NULL */
	struct json_object *args;    /* `args` array, borrowed from root */
	struct jsonraw_span args_raw; /* where `args` sits in raw */
	enum payload_retry retry;
	int retry_max;               /* for PAYLOAD_RETRY_COUNT */
	int retry_count;             /* when has_retry_count; may be -1 after the API's "retry now" */
	int has_retry_count;         /* 0 on the first failure */
	int backtrace;               /* -1 absent/false, 0 true (all lines), N > 0 first N lines */
	int retry_given;             /* `retry` is in the payload (else a class default may apply) */
	int backtrace_given;         /* `backtrace` is in the payload */
	int dead;                    /* 0 when `dead` is false, else 1 */
	long retry_for;              /* seconds, -1 when absent */
	double created_at;           /* seconds, 0 when absent */
	double enqueued_at;          /* seconds, 0 when absent */
	double failed_at;            /* seconds, 0 when absent */
	int has_pro_fields;          /* a non-null, non-false bid, unique_for, unique_until,
				      * unique_token, expires_in, expires_at or encrypt: a
				      * Pro/Enterprise feature winch cannot honour */
};

void payload_init(struct payload *p);
void payload_release(struct payload *p);

/*
 * Parse text (copied) into p, which must have been through payload_init (what it held is
 * released first). lim may be NULL, and zero fields in it mean the defaults. On error the
 * payload still holds raw, so the caller can send it to the dead set verbatim, and err gets
 * a one-line reason naming the field or the limit ("'class' is missing", "'args' is not an
 * array", "nested deeper than 128 (--max-depth)", ...). On PAYLOAD_BAD_FIELD root is kept,
 * and the fields read before the bad one (class, args, jid, queue, in that order) are set.
 *
 * Behaviour where Sidekiq 6.4.1's own reading decided (SIDEKIQ-PROTOCOL.md §7):
 *   - class must be a non-empty string, args an array, jid a string, queue a string when
 *     present (null is not a string); a NUL byte in them is refused; so is a queue name
 *     longer than QUEUE_NAME_MAX (a retry_queue that long reads as absent);
 *   - retry: false -> NONE; an integer -> COUNT, clamped to 0..INT_MAX; anything else
 *     (true, null, absent, "5", 5.0) -> DEFAULT, as Ruby takes any non-Integer truthy value;
 *   - backtrace: true -> 0; a positive integer, float or numeric string -> its integer
 *     part (Ruby's to_i); false, null, 0 or negative -> -1; an array or object -> 0;
 *   - retry_count: an integer, clamped to -1000000..1000000 (Sidekiq's API "retry now"
 *     decrements it, so 0 becomes -1), else absent; retry_for: a number's integer
 *     part, else -1; dead: 0 only for a literal false;
 *   - created_at/enqueued_at/failed_at: by JSON type (float seconds, integer ms), else 0;
 *   - wrapped/retry_queue of a wrong type read as absent: they never make a job unrunnable.
 */
enum payload_error payload_parse(struct payload *p, const char *text, size_t len,
				 const struct payload_limits *lim, char *err, size_t errlen);

/*
 * For the scheduled/retry poller: raw with `at` removed and `enqueued_at` = now in gen's
 * unit, every other byte kept (jsonraw_rewrite), appended to out. -1 if p holds no JSON
 * object (out unchanged). p needs only raw: payload_parse() may have failed on a field.
 */
int payload_for_enqueue(const struct payload *p, double now, enum sidekiq_gen gen,
			struct sbuf *out) WINCH_MUSTCHECK;

#endif
