/* test_procinfo: identity, the heartbeat info JSON superset, work-hash values, tids, RSS. */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json.h>

#include "procinfo.h"
#include "banned.h"

struct fixture {
	struct procinfo pi;
	struct queues qs;
	struct sbuf out;
};

static const char *const no_labels[] = {NULL};

static void add_queues(struct queues *qs, const char *const *args, size_t n)
{
	char err[128];
	size_t i;

	for (i = 0; i < n; i++) {
		if (queues_add(qs, args[i], err, sizeof(err)) < 0)
			fail_msg("queues_add('%s'): %s", args[i], err);
	}
	queues_finish(qs);
}

/* The process of SIDEKIQ-PROTOCOL.md §9.3's observed 6.4.1 info. */
static int setup(void **state)
{
	static const char *const args[] = {"default", "low"};
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	queues_init(&fx->qs);
	add_queues(&fx->qs, args, ARRAY_SIZE(args));
	sbuf_init(&fx->out);
	snprintf(fx->pi.hostname, sizeof(fx->pi.hostname), "vm");
	fx->pi.pid = 11800;
	snprintf(fx->pi.nonce, sizeof(fx->pi.nonce), "6ca7d4a4967a");
	snprintf(fx->pi.identity, sizeof(fx->pi.identity), "vm:11800:6ca7d4a4967a");
	fx->pi.started_at = 1795797613.759905;
	fx->pi.tag = "mytag";
	fx->pi.labels = no_labels;
	fx->pi.n_labels = 0;
	fx->pi.concurrency = 3;
	fx->pi.queues = &fx->qs;
	fx->pi.gen = SIDEKIQ_6;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	queues_release(&fx->qs);
	sbuf_release(&fx->out);
	test_free(fx);
	return 0;
}

static void test_identity(void **state)
{
	struct procinfo pi;
	char host[256], want[400];
	size_t i;

	(void)state;
	memset(&pi, 0, sizeof(pi));
	assert_int_equal(setenv("DYNO", "web.1", 1), 0);
	procinfo_init_identity(&pi);
	assert_string_equal(pi.hostname, "web.1");
	assert_int_equal(pi.pid, getpid());
	assert_int_equal(strlen(pi.nonce), 12);
	for (i = 0; i < 12; i++)
		assert_true(isdigit((unsigned char)pi.nonce[i]) ||
			    (pi.nonce[i] >= 'a' && pi.nonce[i] <= 'f'));
	snprintf(want, sizeof(want), "web.1:%ld:%s", (long)getpid(), pi.nonce);
	assert_string_equal(pi.identity, want);

	assert_int_equal(unsetenv("DYNO"), 0);
	memset(&pi, 0, sizeof(pi));
	procinfo_init_identity(&pi);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	assert_string_equal(pi.hostname, host);
	snprintf(want, sizeof(want), "%s:%ld:%s", host, (long)getpid(), pi.nonce);
	assert_string_equal(pi.identity, want);
}

static void test_version(void **state)
{
	(void)state;
	assert_string_equal(procinfo_version(SIDEKIQ_6), "6.4.1");
	assert_string_equal(procinfo_version(SIDEKIQ_7), "7.3.9");
	assert_string_equal(procinfo_version(SIDEKIQ_8), "8.1.7");
}

/* 6.4.1's observed info, byte for byte, followed by the members newer readers use. */
static void test_info_exact(void **state)
{
	struct fixture *fx = *state;

	procinfo_info_json(&fx->pi, &fx->out);
	assert_string_equal(
		sbuf_str(&fx->out),
		"{\"hostname\":\"vm\",\"started_at\":1795797613.759905,\"pid\":11800,"
		"\"tag\":\"mytag\",\"concurrency\":3,\"queues\":[\"default\",\"low\"],"
		"\"labels\":[],\"identity\":\"vm:11800:6ca7d4a4967a\","
		"\"weights\":[{\"default\":0,\"low\":0}],\"version\":\"6.4.1\",\"embedded\":false,"
		"\"capsules\":{\"default\":{\"concurrency\":3,\"mode\":\"strict\","
		"\"weights\":{\"default\":0,\"low\":0}}}}");
}

static struct json_object *member(struct json_object *o, const char *key, enum json_type type)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("info has no '%s'", key);
	if (!json_object_is_type(v, type))
		fail_msg("info '%s' is a %s, expected a %s", key,
			 json_type_to_name(json_object_get_type(v)), json_type_to_name(type));
	return v;
}

static void assert_weights(struct json_object *w)
{
	assert_int_equal(json_object_object_length(w), 3);
	assert_int_equal(json_object_get_int(member(w, "critical", json_type_int)), 5);
	assert_int_equal(json_object_get_int(member(w, "default", json_type_int)), 0);
	assert_int_equal(json_object_get_int(member(w, "low", json_type_int)), 1);
}

/* Every key with its JSON type, for a weighted 8.x process with labels and a whole second. */
static void test_info_parses_with_types(void **state)
{
	static const char *const args[] = {"critical,5", "default", "low,1"};
	static const char *const labels[] = {"blue", "r\xc3\xa9gion \"eu\""};
	struct fixture *fx = *state;
	struct json_object *root, *v, *caps, *cap;
	const char *started;

	queues_release(&fx->qs);
	add_queues(&fx->qs, args, ARRAY_SIZE(args));
	fx->pi.labels = labels;
	fx->pi.n_labels = 2;
	fx->pi.tag = NULL;
	fx->pi.started_at = 1795797613.0;
	fx->pi.concurrency = 25;
	fx->pi.gen = SIDEKIQ_8;
	procinfo_info_json(&fx->pi, &fx->out);

	/* a whole second still carries a decimal point, or 8.x would read milliseconds */
	started = strstr(sbuf_str(&fx->out), "\"started_at\":");
	assert_non_null(started);
	assert_memory_equal(started, "\"started_at\":1795797613.0,", 26);

	root = json_tokener_parse(sbuf_str(&fx->out));
	assert_non_null(root);
	assert_true(json_object_is_type(root, json_type_object));
	assert_int_equal(json_object_object_length(root), 12);
	v = member(root, "hostname", json_type_string);
	assert_string_equal(json_object_get_string(v), "vm");
	v = member(root, "started_at", json_type_double);
	assert_true(json_object_get_double(v) == 1795797613.0);
	assert_int_equal(json_object_get_int(member(root, "pid", json_type_int)), 11800);
	assert_string_equal(json_object_get_string(member(root, "tag", json_type_string)), "");
	assert_int_equal(json_object_get_int(member(root, "concurrency", json_type_int)), 25);

	v = member(root, "queues", json_type_array);
	assert_int_equal(json_object_array_length(v), 3);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "critical");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)), "default");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 2)), "low");

	v = member(root, "labels", json_type_array);
	assert_int_equal(json_object_array_length(v), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "blue");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)),
			    "r\xc3\xa9gion \"eu\"");

	assert_string_equal(json_object_get_string(member(root, "identity", json_type_string)),
			    "vm:11800:6ca7d4a4967a");
	v = member(root, "weights", json_type_array);
	assert_int_equal(json_object_array_length(v), 1);
	assert_true(json_object_is_type(json_object_array_get_idx(v, 0), json_type_object));
	assert_weights(json_object_array_get_idx(v, 0));
	assert_string_equal(json_object_get_string(member(root, "version", json_type_string)),
			    "8.1.7");
	assert_false(json_object_get_boolean(member(root, "embedded", json_type_boolean)));

	caps = member(root, "capsules", json_type_object);
	assert_int_equal(json_object_object_length(caps), 1);
	cap = member(caps, "default", json_type_object);
	assert_int_equal(json_object_object_length(cap), 3);
	assert_int_equal(json_object_get_int(member(cap, "concurrency", json_type_int)), 25);
	assert_string_equal(json_object_get_string(member(cap, "mode", json_type_string)),
			    "weighted");
	assert_weights(member(cap, "weights", json_type_object));
	json_object_put(root);
}

static void test_info_modes(void **state)
{
	static const char *const random1[] = {"a,1", "b,1"};
	struct fixture *fx = *state;

	queues_release(&fx->qs);
	add_queues(&fx->qs, random1, ARRAY_SIZE(random1));
	procinfo_info_json(&fx->pi, &fx->out);
	assert_non_null(strstr(sbuf_str(&fx->out),
			       ",\"weights\":[{\"a\":1,\"b\":1}],\"version\":\"6.4.1\","));
	assert_non_null(strstr(sbuf_str(&fx->out), "{\"concurrency\":3,\"mode\":\"random\","
						    "\"weights\":{\"a\":1,\"b\":1}}"));
}

/* §9.3's observed work-hash value, byte for byte: the payload is a JSON string. */
static void test_work_json(void **state)
{
	static const char payload[] =
		"{\"retry\":true,\"queue\":\"default\",\"args\":[8],\"class\":\"SlowJob\","
		"\"jid\":\"fdd2fe4a137a048fbb259ca7\",\"created_at\":1795797610.941897,"
		"\"enqueued_at\":1795797610.9419453}";
	struct fixture *fx = *state;
	struct json_object *root, *v;

	procinfo_work_json(&fx->out, "default", payload, strlen(payload), 1795797613.98);
	assert_string_equal(
		sbuf_str(&fx->out),
		"{\"queue\":\"default\",\"payload\":\"{\\\"retry\\\":true,"
		"\\\"queue\\\":\\\"default\\\",\\\"args\\\":[8],\\\"class\\\":\\\"SlowJob\\\","
		"\\\"jid\\\":\\\"fdd2fe4a137a048fbb259ca7\\\","
		"\\\"created_at\\\":1795797610.941897,\\\"enqueued_at\\\":1795797610.9419453}\","
		"\"run_at\":1795797613}");

	root = json_tokener_parse(sbuf_str(&fx->out));
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "payload", &v));
	assert_string_equal(json_object_get_string(v), payload);
	assert_true(json_object_object_get_ex(root, "run_at", &v));
	assert_true(json_object_is_type(v, json_type_int));
	json_object_put(root);

	/* only payload_len bytes are taken */
	sbuf_reset(&fx->out);
	procinfo_work_json(&fx->out, "q", "{}trailing", 2, 5.0);
	assert_string_equal(sbuf_str(&fx->out),
			    "{\"queue\":\"q\",\"payload\":\"{}\",\"run_at\":5}");
}

static void test_tid(void **state)
{
	char tid[16], other[16], tiny[3];
	int i, j;

	(void)state;
	procinfo_tid(11800, 0, tid, sizeof(tid));
	assert_string_equal(tid, "9o7"); /* 7919 ^ 11800 = 12535 */
	procinfo_tid(11800, 1, tid, sizeof(tid));
	assert_string_equal(tid, "3wm");
	procinfo_tid(4194304, 999, tid, sizeof(tid));
	assert_string_equal(tid, "27tzs");
	procinfo_tid(1, 0, tid, sizeof(tid));
	assert_string_equal(tid, "63y");
	procinfo_tid(11800, 0, tiny, sizeof(tiny));
	assert_string_equal(tiny, "9o");
	/* distinct threads of one process get distinct tids */
	for (i = 0; i < 200; i++) {
		procinfo_tid(32768, i, tid, sizeof(tid));
		for (j = i + 1; j < 200; j++) {
			procinfo_tid(32768, j, other, sizeof(other));
			assert_string_not_equal(tid, other);
		}
	}
}

static void test_rss(void **state)
{
	long kb = procinfo_rss_kb();

	(void)state;
	/* a test binary with libc, json-c and cmocka: between 100 KB and 10 GB */
	assert_true(kb > 100);
	assert_true(kb < 10L * 1024 * 1024);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity),
		T(test_version),
		T(test_info_exact),
		T(test_info_parses_with_types),
		T(test_info_modes),
		T(test_work_json),
		T(test_tid),
		T(test_rss),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
