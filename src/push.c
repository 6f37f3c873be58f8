/* push: a new job's payload in the Ruby client's shape, checked before anything is sent. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonraw.h"
#include "push.h"
#include "queues.h"
#include "banned.h"

static int push_max_depth = PUSH_MAX_DEPTH;

void push_set_max_depth(int depth)
{
	push_max_depth = depth > 0 ? depth : PUSH_MAX_DEPTH;
}

/* Members the client writes itself: extra_json may not name them. */
static const char *const own_members[] = {
	"class", "args", "queue", "jid", "retry", "backtrace", "created_at", "enqueued_at", "at",
};

/* Ruby's perform_in: an interval this large is an epoch time. */
#define PUSH_EPOCH_THRESHOLD 1e9

static const struct winch_push_options no_options;

const char *push_queue(const char *queue)
{
	return queue && *queue ? queue : "default";
}

double push_when(const struct winch_push_options *opt, double at_override, double now)
{
	double t = 0;

	if (opt == NULL)
		opt = &no_options;
	if (at_override > 0)
		t = at_override;
	else if (opt->at > 0)
		t = opt->at;
	else if (opt->in != 0)
		t = opt->in >= PUSH_EPOCH_THRESHOLD ? opt->in : now + opt->in;
	return t > now ? t : 0;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The JSON text s without surrounding white space: *len set, start returned. */
static const char *trimmed(const char *s, size_t *len)
{
	size_t n = strlen(s);

	while (n > 0 && is_ws(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_ws(s[n - 1]))
		n--;
	*len = n;
	return s;
}

/* For messages: at most 40 bytes of s, "..." after a cut. */
static void shorten(const char *s, char *out, size_t outlen)
{
	if (strlen(s) > 40 && outlen > 44)
		snprintf(out, outlen, "%.40s...", s);
	else
		snprintf(out, outlen, "%s", s);
}

static int check_args(const char *args_json, char *err, size_t errlen)
{
	char shown[48], why[96];
	const char *a;
	size_t len;

	if (args_json == NULL)
		return 0;
	a = trimmed(args_json, &len);
	shorten(args_json, shown, sizeof(shown));
	if (jsonraw_validate(a, len, push_max_depth, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "args: '%s' is not JSON (%s)", shown, why);
		return -1;
	}
	if (len == 0 || a[0] != '[') {
		snprintf(err, errlen, "args: '%s' is not a JSON array", shown);
		return -1;
	}
	return 0;
}

static int check_extra(const char *extra, char *err, size_t errlen)
{
	char shown[48], why[96];
	const char *e;
	size_t len, i;

	if (extra == NULL)
		return 0;
	e = trimmed(extra, &len);
	shorten(extra, shown, sizeof(shown));
	if (jsonraw_validate(e, len, push_max_depth, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "extra: '%s' is not JSON (%s)", shown, why);
		return -1;
	}
	if (len == 0 || e[0] != '{') {
		snprintf(err, errlen, "extra: '%s' is not a JSON object", shown);
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(own_members); i++) {
		if (jsonraw_find(e, len, own_members[i], NULL) == 1) {
			snprintf(err, errlen, "extra: names '%s', which the client writes itself",
				 own_members[i]);
			return -1;
		}
	}
	return 0;
}

static int check_options(const struct winch_push_options *o, char *err, size_t errlen)
{
	if (o->retry != WINCH_CLIENT_RETRY_TRUE && o->retry != WINCH_CLIENT_RETRY_FALSE &&
	    o->retry != WINCH_CLIENT_RETRY_COUNT) {
		snprintf(err, errlen, "retry: %d is not a retry mode", (int)o->retry);
		return -1;
	}
	if (o->retry == WINCH_CLIENT_RETRY_COUNT && o->retry_count < 0) {
		snprintf(err, errlen, "retry: %d is not a number of retries (>= 0)", o->retry_count);
		return -1;
	}
	if (o->backtrace < WINCH_BACKTRACE_ALL) {
		snprintf(err, errlen, "backtrace: %d is not a number of lines (> 0)", o->backtrace);
		return -1;
	}
	if (!isfinite(o->at) || o->at < 0) {
		snprintf(err, errlen, "at: not an epoch time");
		return -1;
	}
	if (!isfinite(o->in)) {
		snprintf(err, errlen, "in: not a number of seconds");
		return -1;
	}
	return 0;
}

int push_check(const char *klass, const char *queue, const char *args_json,
	       const struct winch_push_options *opt, char *err, size_t errlen)
{
	if (opt == NULL)
		opt = &no_options;
	if (klass == NULL || *klass == '\0') {
		snprintf(err, errlen, "class: missing (a job needs a class name)");
		return -1;
	}
	if (queue != NULL && *queue == '\0') {
		/* NULL means "default"; "" is what Ruby refuses: "a valid queue name". */
		snprintf(err, errlen, "queue: empty (a job needs a valid queue name)");
		return -1;
	}
	if (queue != NULL && strlen(queue) > QUEUE_NAME_MAX) {
		snprintf(err, errlen, "queue: longer than %d bytes", QUEUE_NAME_MAX);
		return -1;
	}
	if (check_args(args_json, err, errlen) < 0 || check_extra(opt->extra_json, err, errlen) < 0)
		return -1;
	return check_options(opt, err, errlen);
}

static void add_retry(struct sbuf *out, const struct winch_push_options *o)
{
	switch (o->retry) {
	case WINCH_CLIENT_RETRY_FALSE:
		sbuf_adds(out, "false");
		break;
	case WINCH_CLIENT_RETRY_COUNT:
		sbuf_addf(out, "%d", o->retry_count);
		break;
	default:
		sbuf_adds(out, "true");
		break;
	}
}

/* Each member of the extra object, verbatim, each followed by a comma. */
static void add_extra(struct sbuf *out, const char *extra)
{
	struct jsonraw_member *m;
	const char *e;
	size_t len;
	int n, i;

	e = trimmed(extra, &len);
	n = jsonraw_members(e, len, NULL, 0);
	if (n <= 0)
		return;
	m = xcalloc((size_t)n, sizeof(*m));
	n = jsonraw_members(e, len, m, n);
	for (i = 0; i < n; i++) {
		sbuf_add(out, e + m[i].key.off, m[i].key.len);
		sbuf_addc(out, ':');
		sbuf_add(out, e + m[i].value.off, m[i].value.len);
		sbuf_addc(out, ',');
	}
	free(m);
}

int push_build(struct sbuf *out, const char *klass, const char *queue, const char *args_json,
	       const struct winch_push_options *opt, double at, double now, enum sidekiq_gen gen,
	       char *jid_out)
{
	char err[16], jid[WINCH_JID_SIZE];
	const char *args;
	size_t args_len;

	if (opt == NULL)
		opt = &no_options;
	if (push_check(klass, queue, args_json, opt, err, sizeof(err)) < 0)
		return -1;
	queue = push_queue(queue);
	args = trimmed(args_json ? args_json : "[]", &args_len);
	rand_hex(jid, 12);

	sbuf_adds(out, "{\"retry\":");
	add_retry(out, opt);
	sbuf_adds(out, ",\"queue\":");
	sbuf_add_json_string(out, queue, strlen(queue));
	sbuf_addc(out, ',');
	if (opt->backtrace == WINCH_BACKTRACE_ALL)
		sbuf_adds(out, "\"backtrace\":true,");
	else if (opt->backtrace > 0)
		sbuf_addf(out, "\"backtrace\":%d,", opt->backtrace);
	if (opt->extra_json)
		add_extra(out, opt->extra_json);
	sbuf_adds(out, "\"args\":");
	sbuf_add(out, args, args_len);
	sbuf_adds(out, ",\"class\":");
	sbuf_add_json_string(out, klass, strlen(klass));
	sbuf_adds(out, ",\"jid\":\"");
	sbuf_adds(out, jid);
	sbuf_adds(out, "\",\"created_at\":");
	ts_append_payload(out, now, gen);
	if (at <= 0) {
		sbuf_adds(out, ",\"enqueued_at\":");
		ts_append_payload(out, now, gen);
	}
	sbuf_addc(out, '}');
	if (jid_out)
		memcpy(jid_out, jid, sizeof(jid));
	return 0;
}
