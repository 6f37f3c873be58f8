/*
 * procinfo: what a process says about itself in the heartbeat (SIDEKIQ-PROTOCOL.md §9):
 * the identity, the `info` JSON superset that Sidekiq 6.4 to 8.x readers all accept, the
 * work-hash entries the Busy page reads, and the tid of a handler thread.
 */
#ifndef WINCH_PROCINFO_H
#define WINCH_PROCINFO_H

#include <sys/types.h>

#include "queues.h"
#include "timestamp.h"
#include "util.h"

struct procinfo {
	char hostname[256];  /* $DYNO, else gethostname() */
	pid_t pid;
	char nonce[13];      /* 12 lowercase hex, once per process */
	char identity[300];  /* hostname:pid:nonce */
	double started_at;   /* float seconds */
	const char *tag;     /* borrowed; "" when none */
	const char *const *labels; /* borrowed, n_labels strings */
	int n_labels;
	int concurrency;
	const struct queues *queues; /* borrowed */
	enum sidekiq_gen gen;
};

/*
 * Fill hostname, pid, nonce and identity from the environment and the kernel; the other
 * fields are left alone. An empty $DYNO counts as unset; a hostname is cut at 255 bytes.
 */
void procinfo_init_identity(struct procinfo *pi);

/* The Sidekiq version winch reports for gen: "6.4.1", "7.3.9", "8.1.7" (static strings). */
const char *procinfo_version(enum sidekiq_gen gen);

/*
 * Append the info JSON: hostname, started_at, pid, tag, concurrency, queues, labels,
 * identity, weights ([{q: w}], integer weights), version, embedded:false and
 * capsules {"default": {concurrency, mode, weights}}. 6.4.1's members come first in 6.4.1's
 * order. pi is borrowed (queues may be NULL: no queues, mode "strict"); out is the caller's.
 */
void procinfo_info_json(const struct procinfo *pi, struct sbuf *out);

/*
 * Append one work-hash value: {"queue":q,"payload":<payload text as a JSON string>,
 * "run_at":<integer seconds>}. All borrowed; out is the caller's.
 */
void procinfo_work_json(struct sbuf *out, const char *queue, const char *payload,
			size_t payload_len, double run_at);

/*
 * The tid of handler thread index i: base 36 of ((i + 1) * 7919 XOR pid), lowercase,
 * into out (outlen bytes, truncated if short; 14 always suffice).
 */
void procinfo_tid(pid_t pid, int index, char *out, size_t outlen);

/* VmRSS of this process in KB, from /proc/self/status; 0 if unknown. */
long procinfo_rss_kb(void);

#endif
