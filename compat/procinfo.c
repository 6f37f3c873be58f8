/*
 * procinfo: the identity, heartbeat info JSON, work-hash values, thread ids and RSS that a
 * Sidekiq process publishes about itself (SIDEKIQ-PROTOCOL.md §1, §9).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procinfo.h"
#include "banned.h"

void procinfo_init_identity(struct procinfo *pi)
{
	const char *dyno = getenv("DYNO");

	if (dyno != NULL && *dyno != '\0') {
		snprintf(pi->hostname, sizeof(pi->hostname), "%s", dyno);
	} else if (gethostname(pi->hostname, sizeof(pi->hostname)) < 0) {
		snprintf(pi->hostname, sizeof(pi->hostname), "localhost");
	}
	pi->hostname[sizeof(pi->hostname) - 1] = '\0';
	pi->pid = getpid();
	rand_hex(pi->nonce, 6);
	snprintf(pi->identity, sizeof(pi->identity), "%s:%ld:%s", pi->hostname, (long)pi->pid,
		 pi->nonce);
}

const char *procinfo_version(enum sidekiq_gen gen)
{
	switch (gen) {
	case SIDEKIQ_6:
		return "6.4.1";
	case SIDEKIQ_7:
		return "7.3.9";
	case SIDEKIQ_8:
		return "8.1.7";
	}
	return "6.4.1";
}

static void add_key(struct sbuf *out, const char *key)
{
	sbuf_add_json_string(out, key, strlen(key));
	sbuf_addc(out, ':');
}

static void add_string_member(struct sbuf *out, const char *key, const char *value)
{
	add_key(out, key);
	sbuf_add_json_string(out, value, strlen(value));
}

static const char *mode_name(const struct queues *qs)
{
	if (qs == NULL)
		return "strict";
	switch (qs->mode) {
	case QUEUES_STRICT:
		return "strict";
	case QUEUES_RANDOM:
		return "random";
	case QUEUES_WEIGHTED:
		return "weighted";
	}
	return "strict";
}

/* {"q1":w1,"q2":w2}: every unique queue with its integer weight (0 when none was given). */
static void add_weights_object(struct sbuf *out, const struct queues *qs)
{
	int i;

	sbuf_addc(out, '{');
	for (i = 0; qs != NULL && i < qs->n; i++) {
		if (i > 0)
			sbuf_addc(out, ',');
		add_key(out, qs->q[i].name);
		sbuf_addf(out, "%d", qs->q[i].weight);
	}
	sbuf_addc(out, '}');
}

static void add_queue_names(struct sbuf *out, const struct queues *qs)
{
	int i;

	sbuf_addc(out, '[');
	for (i = 0; qs != NULL && i < qs->n; i++) {
		if (i > 0)
			sbuf_addc(out, ',');
		sbuf_add_json_string(out, qs->q[i].name, strlen(qs->q[i].name));
	}
	sbuf_addc(out, ']');
}

static void add_labels(struct sbuf *out, const struct procinfo *pi)
{
	int i;

	sbuf_addc(out, '[');
	for (i = 0; pi->labels != NULL && i < pi->n_labels; i++) {
		if (i > 0)
			sbuf_addc(out, ',');
		sbuf_add_json_string(out, pi->labels[i], strlen(pi->labels[i]));
	}
	sbuf_addc(out, ']');
}

void procinfo_info_json(const struct procinfo *pi, struct sbuf *out)
{
	sbuf_addc(out, '{');
	add_string_member(out, "hostname", pi->hostname);
	sbuf_addc(out, ',');
	add_key(out, "started_at");
	ts_append_seconds(out, pi->started_at);
	sbuf_addf(out, ",\"pid\":%ld,", (long)pi->pid);
	add_string_member(out, "tag", pi->tag ? pi->tag : "");
	sbuf_addf(out, ",\"concurrency\":%d,\"queues\":", pi->concurrency);
	add_queue_names(out, pi->queues);
	sbuf_adds(out, ",\"labels\":");
	add_labels(out, pi);
	sbuf_addc(out, ',');
	add_string_member(out, "identity", pi->identity);
	sbuf_adds(out, ",\"weights\":[");
	add_weights_object(out, pi->queues);
	sbuf_adds(out, "],");
	add_string_member(out, "version", procinfo_version(pi->gen));
	sbuf_addf(out, ",\"embedded\":false,\"capsules\":{\"default\":{\"concurrency\":%d,",
		  pi->concurrency);
	add_string_member(out, "mode", mode_name(pi->queues));
	sbuf_adds(out, ",\"weights\":");
	add_weights_object(out, pi->queues);
	sbuf_adds(out, "}}}");
}

void procinfo_work_json(struct sbuf *out, const char *queue, const char *payload,
			size_t payload_len, double run_at)
{
	sbuf_addc(out, '{');
	add_string_member(out, "queue", queue);
	sbuf_adds(out, ",\"payload\":");
	sbuf_add_json_string(out, payload, payload_len);
	sbuf_addf(out, ",\"run_at\":%lld}", (long long)run_at);
}

void procinfo_tid(pid_t pid, int index, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned long long v = ((unsigned long long)index + 1) * 7919ULL;
	char tmp[16];
	size_t i = sizeof(tmp) - 1;

	v ^= (unsigned long long)pid;
	tmp[i] = '\0';
	do {
		tmp[--i] = digits[v % 36];
		v /= 36;
	} while (v != 0 && i > 0);
	snprintf(out, outlen, "%s", tmp + i);
}

long procinfo_rss_kb(void)
{
	char line[256];
	long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *end;

		if (strncmp(line, "VmRSS:", 6) != 0)
			continue;
		kb = strtol(line + 6, &end, 10);
		if (end == line + 6 || kb < 0)
			kb = 0;
		break;
	}
	fclose(f);
	return kb;
}
