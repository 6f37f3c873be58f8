/* test_job: the handler API on a job: accessors, pushes, and a failure's outcome with class
 * options and hooks. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "job.h"
#include "jsonraw.h"
#include "registry.h"

#define MAX_PUSHES 8

struct pushed {
	char *queue;
	char *data;
	double at;
};

static struct pushed pushes[MAX_PUSHES];
static int npushes;
static int deaths, retry_in_count = -100;
static int retry_in_answer, exhausted_answer;

static void record_push(void *ctx, char *queue, char *data, size_t len, double at)
{
	(void)ctx;
	(void)len;
	assert_true(npushes < MAX_PUSHES);
	pushes[npushes].queue = queue;
	pushes[npushes].data = data;
	pushes[npushes].at = at;
	npushes++;
}

static int count_retry_in(const struct winch_job *job, int count, const char *cls, const char *m)
{
	(void)job;
	(void)cls;
	(void)m;
	retry_in_count = count;
	return retry_in_answer;
}

static int answer_exhausted(const struct winch_job *job, const char *cls, const char *m)
{
	(void)job;
	(void)cls;
	(void)m;
	return exhausted_answer;
}

static void count_death(const struct winch_job *job, const char *cls, const char *m)
{
	(void)job;
	(void)cls;
	(void)m;
	deaths++;
}

static enum winch_result failing(struct winch_job *job)
{
	winch_job_set_error(job, "KeyError", "key not found: \"x\"");
	return WINCH_FAIL;
}

static enum winch_result requeueing(struct winch_job *job)
{
	(void)job;
	return WINCH_REQUEUE;
}

static struct winch_class_options opts;
static const struct winch_handler_def defs[] = {{"Test::Job", failing, &opts}, {NULL, NULL, NULL}};

static struct winch_job *make_job(const char *payload)
{
	struct winch_job *j = job_new();
	struct payload_limits lim = {PAYLOAD_DEFAULT_MAX_BYTES, PAYLOAD_DEFAULT_MAX_DEPTH};
	char err[128];

	assert_int_equal(payload_parse(&j->p, payload, strlen(payload), &lim, err, sizeof(err)),
			 PAYLOAD_OK);
	j->queue = xstrdup("default");
	j->dispatch_class = j->p.klass;
	j->gen = SIDEKIQ_7;
	j->retry_cfg.gen = SIDEKIQ_7;
	j->retry_cfg.max_retries = 25;
	j->push = record_push;
	j->def = registry_find(j->p.klass);
	j->fn = j->def ? j->def->fn : failing;
	return j;
}

static int setup(void **state)
{
	(void)state;
	registry_clear();
	assert_int_equal(registry_add(defs, "test"), 0);
	registry_add_hooks(NULL, count_death);
	memset(&opts, 0, sizeof(opts));
	npushes = 0;
	deaths = 0;
	retry_in_count = -100;
	retry_in_answer = 0;
	exhausted_answer = 0;
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < npushes; i++) {
		free(pushes[i].queue);
		free(pushes[i].data);
	}
	registry_clear();
	return 0;
}

static void test_push_with_extra_and_at(void **state)
{
	struct winch_job *j = make_job("{\"class\":\"Test::Job\",\"args\":[],\"jid\":\"a\"}");
	struct winch_push_options now_opt = {WINCH_CLIENT_RETRY_COUNT, 3, 0, 0, 0,
					     "{\"tags\":[\"x\"]}"};
	struct winch_push_options later_opt = {WINCH_CLIENT_RETRY_TRUE, 0, 0, 0, 60, NULL};
	struct winch_push_options bad_opt = {WINCH_CLIENT_RETRY_TRUE, 0, 0, 0, 0,
					     "{\"jid\":\"mine\"}"};
	struct winch_push now = {"Reply", "replies", "[1,123456789012345678901234567890]", &now_opt};
	struct winch_push later = {"Later", NULL, NULL, &later_opt};
	struct winch_push bad = {"Reply", NULL, NULL, &bad_opt};
	struct jsonraw_span v;
	char jid[25];

	(void)state;
	assert_int_equal(winch_job_push(j, &now, jid), 0);
	assert_int_equal(strlen(jid), 24);
	assert_int_equal(npushes, 1);
	assert_string_equal(pushes[0].queue, "replies");
	assert_true(pushes[0].at == 0);
	assert_non_null(strstr(pushes[0].data, "\"retry\":3"));
	assert_non_null(strstr(pushes[0].data, "\"args\":[1,123456789012345678901234567890]"));
	assert_non_null(strstr(pushes[0].data, "\"tags\":[\"x\"]"));
	assert_non_null(strstr(pushes[0].data, jid));
	assert_int_equal(jsonraw_find(pushes[0].data, strlen(pushes[0].data), "enqueued_at", &v), 1);

	assert_int_equal(winch_job_push(j, &later, NULL), 0);
	assert_int_equal(npushes, 2);
	assert_string_equal(pushes[1].queue, "default");
	assert_true(pushes[1].at > time_real() + 50);
	assert_non_null(strstr(pushes[1].data, "\"args\":[]"));
	assert_int_equal(jsonraw_find(pushes[1].data, strlen(pushes[1].data), "enqueued_at", &v), 0);
	/* extra members may not replace what the client writes (the jid it reports) */
	assert_int_equal(winch_job_push(j, &bad, NULL), -1);
	assert_int_equal(npushes, 2);
	job_free(j);
}

static void test_bulk_is_all_or_none(void **state)
{
	struct winch_job *j = make_job("{\"class\":\"Test::Job\",\"args\":[],\"jid\":\"a\"}");
	struct winch_push p[3] = {
		{"A", "q", "[1]", NULL},
		{"B", "q", "{\"not\":\"an array\"}", NULL},
		{"C", "q", "[3]", NULL},
	};
	char jids[3 * 25];

	(void)state;
	assert_int_equal(winch_job_push_bulk(j, p, 3, jids), -1);
	assert_int_equal(npushes, 0);
	p[1].args_json = "[2]";
	assert_int_equal(winch_job_push_bulk(j, p, 3, jids), 0);
	assert_int_equal(npushes, 3);
	assert_string_not_equal(jids, jids + 25);
	assert_int_equal(winch_job_enqueue(j, NULL, "q", "[]", NULL), -1);
	job_free(j);
}

static void test_failure_follows_retry_in(void **state)
{
	struct winch_job *j =
		make_job("{\"class\":\"Test::Job\",\"args\":[],\"jid\":\"a\",\"retry_count\":2}");

	(void)state;
	opts.retry_in = count_retry_in;
	retry_in_answer = 100;
	job_execute(j);
	assert_int_equal(j->result, WINCH_FAIL);
	assert_int_equal(retry_in_count, 3);
	assert_int_equal(j->outcome_ready, 1);
	assert_int_equal(j->outcome.action, RETRY_ACTION_RETRY);
	/* 100 s plus Sidekiq's jitter rand(10) * (count + 1) */
	assert_true(j->outcome.score >= time_real() + 99 && j->outcome.score <= time_real() + 137);
	assert_int_equal(deaths, 0);
	job_free(j);

	j = make_job("{\"class\":\"Test::Job\",\"args\":[],\"jid\":\"b\"}");
	retry_in_answer = WINCH_RETRY_KILL;
	job_execute(j);
	assert_int_equal(j->outcome.action, RETRY_ACTION_DEAD);
	assert_int_equal(deaths, 1);
	job_free(j);

	j = make_job("{\"class\":\"Test::Job\",\"args\":[],\"jid\":\"c\"}");
	retry_in_answer = WINCH_RETRY_DISCARD;
	job_execute(j);
	assert_int_equal(j->outcome.action, RETRY_ACTION_DISCARD);
	assert_int_equal(deaths, 2);
	job_free(j);
}

static void test_exhausted_may_discard(void **state)
{
	struct winch_job *j =
		make_job("{\"class\":\"Test::Job\",\"args\":[],\"jid\":\"a\",\"retry\":0}");

	(void)state;
	opts.exhausted = answer_exhausted;
	job_execute(j);
	assert_int_equal(j->outcome.action, RETRY_ACTION_DEAD);
	assert_int_equal(deaths, 1);
	job_free(j);
	j = make_job("{\"class\":\"Test::Job\",\"args\":[],\"jid\":\"a\",\"retry\":0}");
	exhausted_answer = WINCH_RETRY_DISCARD;
	job_execute(j);
	assert_int_equal(j->outcome.action, RETRY_ACTION_DISCARD);
	assert_int_equal(deaths, 2);
	job_free(j);
}

static void test_accessors(void **state)
{
	struct winch_job *j = make_job("{\"class\":\"Test::Job\",\"args\":[7],\"jid\":\"abc\","
				       "\"created_at\":1700000000123,\"enqueued_at\":1.5}");
	size_t len;

	(void)state;
	assert_string_equal(winch_job_jid(j), "abc");
	assert_string_equal(winch_job_class(j), "Test::Job");
	assert_string_equal(winch_job_queue(j), "default");
	assert_int_equal(json_object_get_int(json_object_array_get_idx(winch_job_args(j), 0)), 7);
	assert_memory_equal(winch_job_args_raw(j, &len), "[7]", 3);
	assert_int_equal(len, 3);
	assert_int_equal(winch_job_retry_count(j), -1);
	/* integer milliseconds (Sidekiq 8) and float seconds read as the same unit */
	assert_true(winch_job_created_at(j) > 1700000000.1 && winch_job_created_at(j) < 1700000000.2);
	assert_true(winch_job_enqueued_at(j) == 1.5);
	assert_null(winch_job_aj_job_id(j));
	assert_int_equal(winch_job_aj_executions(j), -1);
	assert_int_equal(winch_job_stopping(j), 0);
	job_free(j);
}

/* WINCH_REQUEUE is for a stopping process; otherwise the same process would fetch it again. */
static void test_requeue_only_when_stopping(void **state)
{
	struct winch_job *j = make_job("{\"class\":\"Test::Job\",\"args\":[],\"jid\":\"a\"}");
	int stopping = 0;

	(void)state;
	j->fn = requeueing;
	j->stopping = &stopping;
	job_execute(j);
	assert_int_equal(j->result, WINCH_FAIL);
	assert_string_equal(j->error_class, "Winch::BadResult");
	job_free(j);
	j = make_job("{\"class\":\"Test::Job\",\"args\":[],\"jid\":\"a\"}");
	stopping = 1;
	j->fn = requeueing;
	j->stopping = &stopping;
	job_execute(j);
	assert_int_equal(j->result, WINCH_REQUEUE);
	assert_int_equal(j->outcome_ready, 0);
	job_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_with_extra_and_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_is_all_or_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_follows_retry_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhausted_may_discard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accessors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requeue_only_when_stopping, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("job", tests, NULL, NULL);
}
