/*
 * ctl_entry: one member of the retry, schedule or dead set as Sidekiq's API sees it
 * (SortedEntry): its score, the job's fields, the filters winchctl applies, the payload that
 * "retry now" pushes (§7.5), and its --json form. Pure: no Redis.
 */
#ifndef WINCH_CTL_ENTRY_H
#define WINCH_CTL_ENTRY_H

#include <stddef.h>

#include "ctl_table.h"
#include "payload.h"
#include "timestamp.h"
#include "util.h"

/*
 * The struct owns its payload (and so the member's bytes, p.raw). Strings below are borrowed
 * from p and live as long as the entry.
 */
struct ctl_entry {
	struct payload p;          /* the member, parsed (p.raw is the member byte for byte) */
	enum payload_error perr;   /* PAYLOAD_OK for a job; else what the member is not */
	int raw_is_json;           /* p.raw is valid JSON (shown verbatim in --json) */
	double score;
	const char *error_class;   /* or NULL */
	const char *error_message; /* or NULL */
};

void ctl_entry_init(struct ctl_entry *e);
void ctl_entry_release(struct ctl_entry *e);

/* Read a member (copied) and its score into e (released first). */
void ctl_entry_set(struct ctl_entry *e, const char *member, size_t len, double score);

/* The class to show: `wrapped` for an ActiveJob job, else `class`; NULL when not a job. */
const char *ctl_entry_display_class(const struct ctl_entry *e);

/*
 * Does e pass the filters? klass (or NULL) matches `class` or `wrapped`; jids (n of them,
 * n = 0 for no filter) match `jid` exactly. A member that is not a job matches only when no
 * filter is given.
 */
int ctl_entry_matches(const struct ctl_entry *e, const char *klass, const char *const *jids,
		      int n_jids);

/*
 * The ZSCAN MATCH pattern Sidekiq's find_job uses for a jid, "*<jid>*", with the glob's
 * special characters (* ? [ ] \) escaped so the jid matches only itself. Appended to out.
 */
void ctl_entry_jid_pattern(struct sbuf *out, const char *jid);

/*
 * The payload "retry now" pushes, as SortedEntry#retry (decrement 1: retry_count - 1 when
 * it is an integer) or #add_to_queue (decrement 0) then Client.push: `at` removed,
 * `enqueued_at` = now in gen's unit, `retry` true, `queue` "default" and `created_at` now
 * added when missing; every other byte kept. Appended to out; *queue gets the queue to push
 * to (borrowed from e, or "default"). -1 when e is not a job (nothing appended).
 */
int ctl_entry_requeue(const struct ctl_entry *e, double now, enum sidekiq_gen gen,
		      int decrement, struct sbuf *out, const char **queue) WINCH_MUSTCHECK;

/*
 * e as a JSON object: score, jid, class, display_class, queue, retry_count (or null),
 * error_class, error_message, and item (the member verbatim) or, for a member that is not
 * JSON, item null and value (the member as a string).
 */
void ctl_entry_json(const struct ctl_entry *e, struct ctl_json *j);

/* The args to show in a table: the raw args text, or the member itself when not a job. */
void ctl_entry_args_text(const struct ctl_entry *e, const char **text, size_t *len);

#endif
