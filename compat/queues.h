/*
 * queues: the queue list a process fetches from (-q NAME[,WEIGHT]) and the order of each
 * fetch, as Sidekiq's BasicFetch builds it (SIDEKIQ-PROTOCOL.md §4): strict order when no
 * weight is given, otherwise the list repeated max(weight, 1) times, shuffled and
 * deduplicated keeping the first occurrence, anew for every fetch.
 */
#ifndef WINCH_QUEUES_H
#define WINCH_QUEUES_H

#include <stdint.h>

#include "util.h"

#define QUEUE_NAME_MAX 256
#define QUEUE_WEIGHT_MAX 100000 /* keeps the expanded list and the weight sum bounded */
#define QUEUES_MAX 250 /* names in one BRPOP; callers may size queues_order() arrays by it */

enum queues_mode {
	QUEUES_STRICT,   /* every weight 0: configured order */
	QUEUES_RANDOM,   /* every weight 1 */
	QUEUES_WEIGHTED, /* otherwise */
};

struct queue_def {
	char *name; /* owned */
	int weight; /* 0 when none was given */
};

struct queues {
	struct queue_def *q; /* unique names, in configured order; owned */
	int n;
	enum queues_mode mode;
	char **expanded; /* each name repeated max(weight,1) times; borrowed from q[] */
	int expanded_n;
};

void queues_init(struct queues *qs);
void queues_release(struct queues *qs);

/*
 * Add one -q argument, "name" or "name,weight" (split at the first comma). A repeated name
 * keeps its first place; the weight given last wins (as Sidekiq 7's hash does; 6.4.1 refuses
 * a repeated name). arg is borrowed; the name is copied. Returns 0, or -1 with a reason in
 * err (empty name, name longer than QUEUE_NAME_MAX, weight not a plain decimal integer in
 * [0, QUEUE_WEIGHT_MAX], more than QUEUES_MAX names).
 */
int queues_add(struct queues *qs, const char *arg, char *err, size_t errlen) WINCH_MUSTCHECK;

/*
 * Decide the mode and build the expanded list; call after the last queues_add. With no
 * queue added, the list is Sidekiq's default: "default" alone, strict.
 */
void queues_finish(struct queues *qs);

/*
 * The order for one fetch: fills out[0..qs->n) with names borrowed from qs and returns n.
 * Strict: configured order, rnd unused. Otherwise queue q comes first with probability
 * max(w_q, 1) / sum(max(w, 1)), and the whole order has the distribution of Sidekiq's
 * shuffle of the expanded list deduplicated. rnd(n) returns an integer in [0, n).
 */
int queues_order(const struct queues *qs, const char **out, uint32_t (*rnd)(uint32_t));

#endif
