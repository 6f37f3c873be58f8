/*
 * activejob: Rails ActiveJob jobs on Sidekiq. The payload's class is a wrapper
 * (ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper, or Sidekiq::ActiveJob::Wrapper in
 * Sidekiq 8), `wrapped` names the job class and args[0] is the job's serialize() hash.
 * The handler gets `arguments` resolved as Rails hands them to perform().
 */
#ifndef WINCH_ACTIVEJOB_H
#define WINCH_ACTIVEJOB_H

#include "util.h"

struct json_object;

/* Nonzero if klass is one of the two wrapper class names. */
int activejob_is_wrapper(const char *klass);

/*
 * From the payload's `args` (borrowed), find the job hash (args[0]) and return the job
 * class (`wrapped` if given, else job_class), job_id, executions (or -1) and locale (or
 * NULL) - all borrowed from args - and a new json-c array of the resolved arguments
 * (owned by the caller, json_object_put it):
 *   - hashes lose their _aj_symbol_keys, _aj_ruby2_keywords and
 *     _aj_hash_with_indifferent_access markers;
 *   - {"_aj_globalid": "gid://..."} (exactly that one key) becomes the URI string;
 *   - {"_aj_serialized": ...} objects stay as they are (their members still resolved).
 * Returns 0, or -1 with a reason in err if args is not an ActiveJob envelope (args[0] not a
 * hash, its `arguments` not an array, no class name); out is then all NULL / -1.
 */
struct activejob_info {
	const char *job_class;
	const char *job_id;
	long executions;
	const char *locale;
	struct json_object *arguments; /* owned */
};

int activejob_unwrap(struct json_object *args, const char *wrapped, struct activejob_info *out,
		     char *err, size_t errlen) WINCH_MUSTCHECK;

/*
 * Resolve one serialized ActiveJob argument value into a new json-c value (owned; a deep
 * copy, scalars included, so the caller may change it). JSON null (NULL) gives NULL. This
 * recurses: pass only trees json-c parsed with a bounded depth (payload_parse does).
 */
struct json_object *activejob_resolve(struct json_object *v);

/*
 * The same resolution on text, for the handler's raw arguments: from the payload's `args`
 * text, append the resolved `arguments` array of the job hash (args[0]) to out, copying
 * every scalar byte for byte (json-c cannot hold integers beyond 64 bits). Returns 0, or -1
 * if the envelope has no `arguments` array.
 */
int activejob_arguments_raw(const char *args, size_t len, struct sbuf *out) WINCH_MUSTCHECK;

#endif
