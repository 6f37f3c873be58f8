/*
 * test_ctl_entry: a sorted-set member as Sidekiq's SortedEntry reads it: fields, filters,
 * the "retry now" payload (SortedEntry#retry / #add_to_queue then Client.push), --json.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_entry.h"
#include "util.h"
#include "banned.h"

#define NOW 1795800000.25

/* A retry-set member as a worker leaves it (SIDEKIQ-PROTOCOL.md §2.2), with a bignum. */
static const char retry_member[] =
	"{\"retry\":2,\"queue\":\"default\",\"backtrace\":3,\"args\":[7,123456789012345678901234567890],"
	"\"class\":\"FailJob\",\"jid\":\"4111b8224cc6b51d59fab755\",\"created_at\":1795797610.94225,"
	"\"enqueued_at\":1795797610.9422736,\"error_message\":\"boom 7\","
	"\"error_class\":\"ArgumentError\",\"failed_at\":1795797613.7632022,\"retry_count\":0}";

static const char aj_member[] =
	"{\"retry\":true,\"queue\":\"mailers\","
	"\"class\":\"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper\",\"wrapped\":\"MyJob\","
	"\"args\":[{\"job_class\":\"MyJob\",\"arguments\":[]}],\"jid\":\"db8bdf8fcf21c6fed9e1edef\","
	"\"created_at\":1795797788.9723458}";

struct fixture {
	struct ctl_entry e;
	struct sbuf out;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	ctl_entry_init(&f->e);
	sbuf_init(&f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ctl_entry_release(&f->e);
	sbuf_release(&f->out);
	free(f);
	return 0;
}

static void set(struct fixture *f, const char *member, double score)
{
	ctl_entry_set(&f->e, member, strlen(member), score);
}

static void test_fields_and_filters(void **state)
{
	struct fixture *f = *state;
	const char *jids[] = {"nope", "4111b8224cc6b51d59fab755"};
	const char *args;
	size_t len;

	set(f, retry_member, 1795797632.7639906);
	assert_int_equal(f->e.perr, PAYLOAD_OK);
	assert_int_equal(f->e.raw_is_json, 1);
	assert_true(f->e.score == 1795797632.7639906);
	assert_string_equal(f->e.error_class, "ArgumentError");
	assert_string_equal(f->e.error_message, "boom 7");
	assert_string_equal(ctl_entry_display_class(&f->e), "FailJob");
	ctl_entry_args_text(&f->e, &args, &len);
	assert_int_equal(len, strlen("[7,123456789012345678901234567890]"));
	assert_memory_equal(args, "[7,123456789012345678901234567890]", len);

	assert_true(ctl_entry_matches(&f->e, NULL, NULL, 0));
	assert_true(ctl_entry_matches(&f->e, "FailJob", NULL, 0));
	assert_false(ctl_entry_matches(&f->e, "Fail", NULL, 0));
	assert_true(ctl_entry_matches(&f->e, NULL, jids, 2));
	assert_false(ctl_entry_matches(&f->e, NULL, jids, 1));
	assert_false(ctl_entry_matches(&f->e, "Other", jids, 2));

	/* ActiveJob: the job class is shown and matched too. */
	set(f, aj_member, 1);
	assert_string_equal(ctl_entry_display_class(&f->e), "MyJob");
	assert_true(ctl_entry_matches(&f->e, "MyJob", NULL, 0));
	assert_true(
	    ctl_entry_matches(&f->e, "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper", NULL, 0));
	assert_null(f->e.error_class);

	/* Not JSON (the dead set keeps such members raw): no class, only unfiltered. */
	set(f, "not json {", 2);
	assert_int_not_equal(f->e.perr, PAYLOAD_OK);
	assert_int_equal(f->e.raw_is_json, 0);
	assert_null(ctl_entry_display_class(&f->e));
	assert_true(ctl_entry_matches(&f->e, NULL, NULL, 0));
	assert_false(ctl_entry_matches(&f->e, "X", NULL, 0));
	assert_false(ctl_entry_matches(&f->e, NULL, jids, 2));
	ctl_entry_args_text(&f->e, &args, &len);
	assert_memory_equal(args, "not json {", len);
}

static void test_requeue_as_retry_now(void **state)
{
	struct fixture *f = *state;
	const char *queue = NULL;

	/* SortedEntry#retry: retry_count - 1 and a fresh enqueued_at; every other byte kept. */
	set(f, retry_member, 1);
	assert_int_equal(ctl_entry_requeue(&f->e, NOW, SIDEKIQ_7, 1, &f->out, &queue), 0);
	assert_string_equal(queue, "default");
	assert_string_equal(
	    sbuf_str(&f->out),
	    "{\"retry\":2,\"queue\":\"default\",\"backtrace\":3,\"args\":[7,123456789012345678901234567890],"
	    "\"class\":\"FailJob\",\"jid\":\"4111b8224cc6b51d59fab755\",\"created_at\":1795797610.94225,"
	    "\"enqueued_at\":1795800000.25,\"error_message\":\"boom 7\","
	    "\"error_class\":\"ArgumentError\",\"failed_at\":1795797613.7632022,\"retry_count\":-1}");

	/* #add_to_queue (the schedule set): retry_count untouched; Sidekiq 8 milliseconds. */
	sbuf_reset(&f->out);
	assert_int_equal(ctl_entry_requeue(&f->e, NOW, SIDEKIQ_8, 0, &f->out, &queue), 0);
	assert_non_null(strstr(sbuf_str(&f->out), "\"enqueued_at\":1795800000250,"));
	assert_non_null(strstr(sbuf_str(&f->out), "\"retry_count\":0}"));

	/* Client.push's defaults fill what is missing; `at` goes. */
	set(f, "{\"class\":\"A\",\"args\":[],\"jid\":\"abc\",\"at\":5.0}", 1);
	sbuf_reset(&f->out);
	assert_int_equal(ctl_entry_requeue(&f->e, NOW, SIDEKIQ_7, 1, &f->out, &queue), 0);
	assert_string_equal(queue, "default");
	assert_string_equal(sbuf_str(&f->out),
			    "{\"class\":\"A\",\"args\":[],\"jid\":\"abc\",\"enqueued_at\":1795800000.25,"
			    "\"retry\":true,\"queue\":\"default\",\"created_at\":1795800000.25}");

	/* The AJ job goes back to its own queue. */
	set(f, aj_member, 1);
	sbuf_reset(&f->out);
	assert_int_equal(ctl_entry_requeue(&f->e, NOW, SIDEKIQ_7, 1, &f->out, &queue), 0);
	assert_string_equal(queue, "mailers");

	/* Not a job: nothing to push. */
	set(f, "[1,2]", 1);
	sbuf_reset(&f->out);
	assert_int_equal(ctl_entry_requeue(&f->e, NOW, SIDEKIQ_7, 1, &f->out, &queue), -1);
	assert_string_equal(sbuf_str(&f->out), "");
}

static void test_json(void **state)
{
	struct fixture *f = *state;
	struct ctl_json j;

	set(f, retry_member, 1795797632.7639906);
	ctl_json_init(&j, &f->out);
	ctl_entry_json(&f->e, &j);
	assert_int_equal(strncmp(sbuf_str(&f->out),
				 "{\"score\":1795797632.7639906,\"jid\":\"4111b8224cc6b51d59fab755\","
				 "\"class\":\"FailJob\",\"display_class\":\"FailJob\",\"queue\":\"default\","
				 "\"retry_count\":0,\"error_class\":\"ArgumentError\","
				 "\"error_message\":\"boom 7\",\"item\":{\"retry\":2,",
				 200),
			 0);
	assert_non_null(strstr(sbuf_str(&f->out), retry_member));

	set(f, "not \"json\"", 5);
	sbuf_reset(&f->out);
	ctl_json_init(&j, &f->out);
	ctl_entry_json(&f->e, &j);
	assert_string_equal(sbuf_str(&f->out),
			    "{\"score\":5.0,\"jid\":null,\"class\":null,\"display_class\":null,"
			    "\"queue\":null,\"retry_count\":null,\"error_class\":null,"
			    "\"error_message\":null,\"item\":null,\"value\":\"not \\\"json\\\"\"}");
}

static void test_jid_pattern(void **state)
{
	struct fixture *f = *state;

	ctl_entry_jid_pattern(&f->out, "4111b8224cc6b51d59fab755");
	assert_string_equal(sbuf_str(&f->out), "*4111b8224cc6b51d59fab755*");
	sbuf_reset(&f->out);
	ctl_entry_jid_pattern(&f->out, "a*b?[c]\\");
	assert_string_equal(sbuf_str(&f->out), "*a\\*b\\?\\[c\\]\\\\*");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fields_and_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_requeue_as_retry_now, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_jid_pattern, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
