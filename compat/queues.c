/*
 * queues: -q NAME[,WEIGHT] parsing, the queue mode, and the queue order of each fetch.
 *
 * DESIGN: Sidekiq shuffles the list with every queue repeated max(weight, 1) times and
 * keeps the first occurrence of each name. The order of first occurrences in a uniform
 * shuffle of a multiset is the same distribution as drawing names one after another
 * without replacement, each with probability weight / (sum of the weights not yet drawn):
 * once some names are out, the rest of the shuffle is a uniform shuffle of the remaining
 * copies. queues_order draws that way, which costs O(n^2) in the number of names instead
 * of O(sum of weights), and allocates nothing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queues.h"
#include "banned.h"

void queues_init(struct queues *qs)
{
	qs->q = NULL;
	qs->n = 0;
	qs->mode = QUEUES_STRICT;
	qs->expanded = NULL;
	qs->expanded_n = 0;
}

void queues_release(struct queues *qs)
{
	int i;

	for (i = 0; i < qs->n; i++)
		free(qs->q[i].name);
	free(qs->q);
	free(qs->expanded);
	queues_init(qs);
}

static int queues_find(const struct queues *qs, const char *name, size_t len)
{
	int i;

	for (i = 0; i < qs->n; i++) {
		if (strlen(qs->q[i].name) == len && memcmp(qs->q[i].name, name, len) == 0)
			return i;
	}
	return -1;
}

static int parse_weight(const char *s, int *out)
{
	long v;

	if (*s < '0' || *s > '9') /* no sign, no blank: strtol would take both */
		return -1;
	if (parse_long(s, 0, QUEUE_WEIGHT_MAX, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

int queues_add(struct queues *qs, const char *arg, char *err, size_t errlen)
{
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);
	int weight = 0, i;

	if (len == 0) {
		snprintf(err, errlen, "queue '%s': empty name", arg);
		return -1;
	}
	if (len > QUEUE_NAME_MAX) {
		snprintf(err, errlen, "queue name longer than %d bytes", QUEUE_NAME_MAX);
		return -1;
	}
	if (comma && parse_weight(comma + 1, &weight) < 0) {
		snprintf(err, errlen, "queue '%s': weight must be an integer from 0 to %d", arg,
			 QUEUE_WEIGHT_MAX);
		return -1;
	}
	i = queues_find(qs, arg, len);
	if (i >= 0) {
		qs->q[i].weight = weight;
		return 0;
	}
	if (qs->n >= QUEUES_MAX) {
		snprintf(err, errlen, "more than %d queues", QUEUES_MAX);
		return -1;
	}
	qs->q = xrealloc(qs->q, sizeof(*qs->q) * (size_t)(qs->n + 1));
	qs->q[qs->n].name = xstrndup(arg, len);
	qs->q[qs->n].weight = weight;
	qs->n++;
	return 0;
}

static int queues_copies(const struct queue_def *d)
{
	return d->weight > 1 ? d->weight : 1;
}

void queues_finish(struct queues *qs)
{
	int i, j, k, all0 = 1, all1 = 1;

	if (qs->n == 0) {
		qs->q = xmalloc(sizeof(*qs->q));
		qs->q[0].name = xstrdup("default");
		qs->q[0].weight = 0;
		qs->n = 1;
	}
	qs->expanded_n = 0;
	for (i = 0; i < qs->n; i++) {
		all0 = all0 && qs->q[i].weight == 0;
		all1 = all1 && qs->q[i].weight == 1;
		qs->expanded_n += queues_copies(&qs->q[i]);
	}
	qs->mode = all0 ? QUEUES_STRICT : all1 ? QUEUES_RANDOM : QUEUES_WEIGHTED;

	free(qs->expanded);
	qs->expanded = xmalloc(sizeof(*qs->expanded) * (size_t)qs->expanded_n);
	k = 0;
	for (i = 0; i < qs->n; i++) {
		for (j = 0; j < queues_copies(&qs->q[i]); j++)
			qs->expanded[k++] = qs->q[i].name;
	}
}

int queues_order(const struct queues *qs, const char **out, uint32_t (*rnd)(uint32_t))
{
	int idx[QUEUES_MAX];
	uint32_t total = 0, r, w;
	int i, pick, tmp;

	if (qs->mode == QUEUES_STRICT || qs->n > QUEUES_MAX) {
		for (i = 0; i < qs->n; i++)
			out[i] = qs->q[i].name;
		return qs->n;
	}
	for (i = 0; i < qs->n; i++) {
		idx[i] = i;
		total += (uint32_t)queues_copies(&qs->q[i]);
	}
	/* idx[0..i) is drawn; idx[i..n) are the candidates and total their summed weight. */
	for (i = 0; i < qs->n; i++) {
		r = qs->n - i > 1 ? rnd(total) : 0;
		for (pick = i; pick < qs->n - 1; pick++) {
			w = (uint32_t)queues_copies(&qs->q[idx[pick]]);
			if (r < w)
				break;
			r -= w;
		}
		tmp = idx[i];
		idx[i] = idx[pick];
		idx[pick] = tmp;
		total -= (uint32_t)queues_copies(&qs->q[idx[i]]);
		out[i] = qs->q[idx[i]].name;
	}
	return qs->n;
}
