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
	int max_depth;    /* JSON nesting; default 128 (Ruby's JSON default is 100) */
};

#define PAYLOAD_DEFAULT_MAX_BYTES (16u * 1024 * 1024)
#define PAYLOAD_DEFAULT_MAX_DEPTH 128

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
	int retry_count;             /* -1 when absent (first failure) */
	int backtrace;               /* -1 absent/false, 0 true (all lines), N > 0 first N lines */
	int dead;                    /* 0 when `dead` is false, else 1 */
	long retry_for;              /* seconds, -1 when absent */
	double created_at;           /* seconds, 0 when absent */
	double enqueued_at;          /* seconds, 0 when absent */
	double failed_at;            /* seconds, 0 when absent */
	int has_pro_fields;          /* carries keys of Sidekiq Pro/Enterprise features (bid, unique_for, ...) */
};

void payload_init(struct payload *p);
void payload_release(struct payload *p);

/*
 * Parse text (copied). On error the payload still holds raw, so the caller can send it
 * to the dead set verbatim, and err gets a one-line reason naming the field
 * ("'class' is missing", "nested deeper than 128", ...).
 */
enum payload_error payload_parse(struct payload *p, const char *text, size_t len,
				 const struct payload_limits *lim, char *err, size_t errlen);

/* For the scheduled/retry poller: raw with `at` removed and `enqueued_at` = now in gen's unit. */
int payload_for_enqueue(const struct payload *p, double now, enum sidekiq_gen gen,
			struct sbuf *out) WINCH_MUSTCHECK;

/*
 * Build a new job as the Ruby client writes it: {"retry":true,"queue":q,"args":<args_json
 * verbatim>,"class":c,"jid":<fresh 24 hex>,"created_at":now,"enqueued_at":now}.
 * jid_out (25 bytes) gets the jid if not NULL. args_json must be a JSON array: -1 otherwise.
 */
int payload_build(struct sbuf *out, const char *klass, const char *queue, const char *args_json,
		  size_t args_len, double now, enum sidekiq_gen gen, char *jid_out) WINCH_MUSTCHECK;

#endif
