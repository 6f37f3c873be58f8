/*
 * retry: one failure of one job, as Sidekiq's JobRetry handles it: the payload members it
 * rewrites, the retry/dead/discard decision for each Sidekiq generation, and the delay.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "backtrace.h"
#include "jsonraw.h"
#include "retry.h"
#include "banned.h"

/* The members retry_apply writes, in the order Ruby assigns them (new keys go last). */
enum retry_member {
	RM_QUEUE,
	RM_MESSAGE,
	RM_CLASS,
	RM_TIME,      /* failed_at or retried_at */
	RM_COUNT,
	RM_BACKTRACE, /* only when the job asks for it */
	RM_N,
};

void retry_outcome_init(struct retry_outcome *o)
{
	o->action = RETRY_ACTION_DISCARD;
	o->count = 0;
	o->score = 0;
	sbuf_init(&o->json);
}

void retry_outcome_release(struct retry_outcome *o)
{
	sbuf_release(&o->json);
	retry_outcome_init(o);
}

double retry_jitter(enum sidekiq_gen gen, int count, uint32_t (*rnd)(uint32_t))
{
	uint32_t times = count < 0 ? 1 : (uint32_t)count + 1;

	if (gen >= SIDEKIQ_8) {
		if (times > UINT32_MAX / 10)
			times = UINT32_MAX / 10;
		return (double)rnd(10 * times);
	}
	return (double)rnd(10) * (double)times;
}

/*
 * Length in bytes of the first max_chars characters of s[0..n). A character is one valid
 * UTF-8 sequence, or one stray byte (which sbuf_add_json_string turns into U+FFFD).
 */
static size_t utf8_prefix(const char *s, size_t n, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, chars = 0, need, k;

	while (i < n && chars < max_chars) {
		if (p[i] < 0xc2 || p[i] > 0xf4)
			need = 1; /* ASCII, or a byte that cannot start a sequence */
		else
			need = p[i] < 0xe0 ? 2 : p[i] < 0xf0 ? 3 : 4;
		for (k = 1; k < need; k++) {
			if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
				break;
		}
		/* An incomplete sequence is at least one stray byte; overlong and surrogate
		 * forms are cut into stray bytes the same way sbuf_add_json_string sees them. */
		if (k < need || (need == 3 && p[i] == 0xe0 && p[i + 1] < 0xa0) ||
		    (need == 3 && p[i] == 0xed && p[i + 1] >= 0xa0) ||
		    (need == 4 && p[i] == 0xf0 && p[i + 1] < 0x90) ||
		    (need == 4 && p[i] == 0xf4 && p[i + 1] >= 0x90))
			need = 1;
		i += need;
		chars++;
	}
	return i;
}

/* Whether the job has used up its retries (SIDEKIQ-PROTOCOL.md §7.1 step 5). */
static int retry_exhausted(const struct payload *p, const struct retry_config *cfg, int count,
			   double failed_at, double now)
{
	int max = p->retry == PAYLOAD_RETRY_COUNT ? p->retry_max : cfg->max_retries;
	int window_over = p->retry_for >= 0 && failed_at + (double)p->retry_for < now;

	switch (cfg->gen) {
	case SIDEKIQ_6:
		break;
	case SIDEKIQ_7:
		if (window_over)
			return 1;
		break;
	case SIDEKIQ_8:
		if (p->retry_for >= 0)
			return window_over;
		break;
	}
	return count >= max;
}

static void add_backtrace_value(const struct payload *p, const struct retry_failure *f,
				struct sbuf *v, int *rc)
{
	size_t n = f->backtrace ? f->backtrace_n : 0;

	if (p->backtrace > 0 && (size_t)p->backtrace < n)
		n = (size_t)p->backtrace;
	sbuf_addc(v, '"');
	if (backtrace_encode(f->backtrace, n, v) < 0)
		*rc = -1;
	sbuf_addc(v, '"');
}

/* Fill the new members' JSON text; returns 0, or -1 if the backtrace cannot be encoded. */
static int retry_values(const struct payload *p, const struct retry_failure *f,
			const struct retry_config *cfg, double now, int count,
			struct sbuf vals[RM_N])
{
	const char *queue = p->retry_queue ? p->retry_queue : f->fetched_queue;
	const char *msg = f->message ? f->message : "";
	const char *cls = f->error_class ? f->error_class : "";
	size_t msg_len = utf8_prefix(msg, strlen(msg), RETRY_MESSAGE_MAX);
	int rc = 0;

	if (queue == NULL)
		queue = p->queue ? p->queue : "default";
	sbuf_add_json_string(&vals[RM_QUEUE], queue, strlen(queue));
	sbuf_add_json_string(&vals[RM_MESSAGE], msg, msg_len);
	sbuf_add_json_string(&vals[RM_CLASS], cls, strlen(cls));
	ts_append_payload(&vals[RM_TIME], now, cfg->gen);
	sbuf_addf(&vals[RM_COUNT], "%d", count);
	if (p->backtrace >= 0)
		add_backtrace_value(p, f, &vals[RM_BACKTRACE], &rc);
	return rc;
}

static int retry_rewrite(const struct payload *p, const struct retry_failure *f,
			 const struct retry_config *cfg, double now, int count, struct sbuf *out)
{
	static const char *const names[RM_N] = {
		"queue", "error_message", "error_class", "failed_at", "retry_count",
		"error_backtrace",
	};
	struct jsonraw_edit edits[RM_N];
	struct sbuf vals[RM_N];
	size_t n = RM_N, i;
	int rc;

	for (i = 0; i < RM_N; i++)
		sbuf_init(&vals[i]);
	rc = retry_values(p, f, cfg, now, count, vals);
	if (rc < 0)
		goto out;
	if (p->backtrace < 0)
		n = RM_BACKTRACE;
	for (i = 0; i < n; i++) {
		edits[i].key = names[i];
		edits[i].value = sbuf_str(&vals[i]);
		edits[i].value_len = vals[i].len;
	}
	if (p->has_retry_count)
		edits[RM_TIME].key = "retried_at";
	rc = jsonraw_rewrite(p->raw, p->raw_len, edits, n, out);
out:
	for (i = 0; i < RM_N; i++)
		sbuf_release(&vals[i]);
	return rc;
}

int retry_apply(const struct payload *p, const struct retry_failure *f,
		const struct retry_config *cfg, double now, uint32_t (*rnd)(uint32_t),
		struct retry_outcome *out)
{
	double failed_at, delay;
	int count;

	if (p->raw == NULL)
		return -1;
	count = p->has_retry_count ? p->retry_count + 1 : 0;

	sbuf_reset(&out->json);
	if (retry_rewrite(p, f, cfg, now, count, &out->json) < 0)
		return -1;
	out->count = count;
	out->score = now;

	failed_at = !p->has_retry_count || p->failed_at <= 0 ? now : p->failed_at;
	if (p->retry == PAYLOAD_RETRY_NONE) {
		out->action = RETRY_ACTION_DISCARD;
	} else if (retry_exhausted(p, cfg, count, failed_at, now)) {
		out->action = p->dead ? RETRY_ACTION_DEAD : RETRY_ACTION_DISCARD;
	} else {
		if (f->delay_override > 0)
			delay = (double)f->delay_override;
		else
			delay = (double)count * count * count * count + 15;
		/* delay and jitter are whole seconds: add them first, then round once */
		out->action = RETRY_ACTION_RETRY;
		out->score = now + (delay + retry_jitter(cfg->gen, count, rnd));
	}
	return 0;
}
