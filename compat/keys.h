/*
 * keys: the names of Sidekiq's Redis keys, with the optional redis-namespace prefix
 * ("<ns>:") that Sidekiq 6 apps may use. Every key winch touches is built here.
 */
#ifndef WINCH_KEYS_H
#define WINCH_KEYS_H

#include "util.h"

/*
 * Set the namespace (copied; NULL or "" for none, which also frees the copy). Call once at
 * start, before any key_* and before other threads start: it is read without a lock.
 */
void keys_set_namespace(const char *ns);
const char *keys_namespace(void); /* "" when none */

/* Each appends the full key (namespace included) to out. */
void key_queue(struct sbuf *out, const char *queue); /* queue:<q> */
/* queues, schedule, retry, dead, processes, stat:processed, ... */
void key_plain(struct sbuf *out, const char *name);
/* <id><suffix>, suffix "" or NULL, ":work", ":workers", "-signals" */
void key_identity(struct sbuf *out, const char *identity, const char *suffix);
void key_stat_daily(struct sbuf *out, const char *stat, const char *date); /* stat:<stat>:<date> */

/*
 * winch's own keys, all under "<ns>winch:" (docs/ARCHITECTURE.md lists them):
 * key_winch appends "<ns>winch:<name>"; key_wip the in-progress list of one process and
 * queue, "<ns>winch:wip:<identity>:<queue>".
 */
void key_winch(struct sbuf *out, const char *name);
void key_wip(struct sbuf *out, const char *identity, const char *queue);

/* Strip the namespace and "queue:" from a queue key; returns a pointer into key, or NULL. */
const char *key_queue_name(const char *key);

/* Convenience: a newly allocated full key for a plain name. Caller frees. */
char *key_dup(const char *name);

#endif
