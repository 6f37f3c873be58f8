/*
 * test_registry: class name -> handler definition and origin; refusals logged in one line
 * naming the class; hooks in order; clear; growth past thousands of classes.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "registry.h"

#define MANY 5000

static enum winch_result h_one(struct winch_job *job)
{
	(void)job;
	return WINCH_OK;
}

static enum winch_result h_two(struct winch_job *job)
{
	(void)job;
	return WINCH_FAIL;
}

static enum winch_result h_three(struct winch_job *job)
{
	(void)job;
	return WINCH_REQUEUE;
}

static enum winch_result h_four(struct winch_job *job)
{
	(void)job;
	return WINCH_OK;
}

static const winch_handler_fn fns[] = {h_one, h_two, h_three, h_four};

/* Registered tables must outlive the registry: these are static. */
static char many_names[MANY][24];
static struct winch_handler_def many_defs[MANY + 1];

/* What the hooks saw, in call order. */
static char hook_trace[256];

static void hook_note(const char *who, const char *cls, const char *msg)
{
	size_t n = strlen(hook_trace);

	snprintf(hook_trace + n, sizeof(hook_trace) - n, "%s(%s,%s) ", who, cls, msg);
}

static void error_a(const struct winch_job *job, const char *cls, const char *msg)
{
	(void)job;
	hook_note("error_a", cls, msg);
}

static void error_b(const struct winch_job *job, const char *cls, const char *msg)
{
	(void)job;
	hook_note("error_b", cls, msg);
}

static void death_a(const struct winch_job *job, const char *cls, const char *msg)
{
	(void)job;
	hook_note("death_a", cls, msg);
}

/* registry_add(defs, origin) with stderr (where the log goes) captured into out. */
static int add_capturing_log(const struct winch_handler_def *defs, const char *origin, char *out,
			     size_t outlen)
{
	FILE *tmp = tmpfile();
	int saved, rc;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	rc = registry_add(defs, origin);
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, outlen - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return rc;
}

/* The log holds exactly one line, and it contains each of the NULL-ended strings. */
static void expect_one_line(const char *logged, ...)
{
	const char *want;
	va_list ap;

	assert_true(strlen(logged) > 0);
	assert_ptr_equal(strchr(logged, '\n'), logged + strlen(logged) - 1);
	va_start(ap, logged);
	while ((want = va_arg(ap, const char *)) != NULL)
		if (strstr(logged, want) == NULL)
			fail_msg("log line '%s' does not name '%s'", logged, want);
	va_end(ap);
}

static int setup(void **state)
{
	(void)state;
	registry_clear();
	hook_trace[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	registry_clear();
	return 0;
}

static void test_add_and_find(void **state)
{
	static const struct winch_handler_def defs[] = {
		{"OkJob", h_one, NULL},
		{"Reports::Extract", h_two, NULL},
		{"Reports::ExtractJob", h_three, NULL},
		{NULL, NULL, NULL},
	};
	char origin[32] = "built-in";

	(void)state;
	assert_null(registry_find("OkJob")); /* nothing registered yet */
	assert_null(registry_origin("OkJob"));
	assert_int_equal(registry_count(), 0);
	assert_int_equal(registry_add(defs, origin), 0);
	memset(origin, 'x', sizeof(origin) - 1); /* the origin was copied */
	assert_int_equal(registry_count(), 3);
	/* The definition itself is returned: borrowed, not a copy. */
	assert_ptr_equal(registry_find("OkJob"), &defs[0]);
	assert_ptr_equal(registry_find("Reports::Extract"), &defs[1]);
	assert_ptr_equal(registry_find("Reports::ExtractJob")->fn, h_three);
	assert_string_equal(registry_origin("Reports::Extract"), "built-in");
	/* Names match exactly: no prefix, case or namespace folding. */
	assert_null(registry_find("okjob"));
	assert_null(registry_find("Reports"));
	assert_null(registry_find("Reports::Extrac"));
	assert_null(registry_find("::OkJob"));
	assert_null(registry_find(""));
	assert_null(registry_find(NULL));
	assert_null(registry_origin("Reports"));
	assert_null(registry_origin(NULL));
}

static void test_empty_table(void **state)
{
	static const struct winch_handler_def none[] = {{NULL, NULL, NULL}};

	(void)state;
	assert_int_equal(registry_add(none, "empty.so"), 0);
	assert_int_equal(registry_count(), 0);
	assert_null(registry_find("OkJob"));
}

static void test_several_tables(void **state)
{
	static const struct winch_handler_def a[] = {{"A", h_one, NULL}, {NULL, NULL, NULL}};
	static const struct winch_handler_def b[] = {
		{"B", h_two, NULL}, {"C", h_three, NULL}, {NULL, NULL, NULL}};

	(void)state;
	assert_int_equal(registry_add(a, "built-in"), 0);
	assert_int_equal(registry_add(b, "/opt/winch/b.so"), 0);
	assert_int_equal(registry_count(), 3);
	assert_ptr_equal(registry_find("A")->fn, h_one);
	assert_ptr_equal(registry_find("B")->fn, h_two);
	assert_ptr_equal(registry_find("C")->fn, h_three);
	assert_string_equal(registry_origin("A"), "built-in");
	assert_string_equal(registry_origin("C"), "/opt/winch/b.so");
}

static void test_duplicate_refused(void **state)
{
	static const struct winch_handler_def first[] = {{"Dup", h_one, NULL}, {NULL, NULL, NULL}};
	static const struct winch_handler_def again[] = {{"Dup", h_two, NULL}, {NULL, NULL, NULL}};
	static const struct winch_handler_def twice[] = {
		{"X", h_three, NULL}, {"X", h_four, NULL}, {NULL, NULL, NULL}};
	char logged[512];

	(void)state;
	assert_int_equal(registry_add(first, "a.so"), 0);
	assert_int_equal(add_capturing_log(again, "b.so", logged, sizeof(logged)), -1);
	expect_one_line(logged, "'Dup'", "'b.so'", "'a.so'", NULL);
	/* The first registration stays. */
	assert_ptr_equal(registry_find("Dup"), &first[0]);
	assert_string_equal(registry_origin("Dup"), "a.so");
	/* Twice within one table. */
	assert_int_equal(add_capturing_log(twice, "c.so", logged, sizeof(logged)), -1);
	expect_one_line(logged, "'X'", "'c.so'", NULL);
	assert_ptr_equal(registry_find("X")->fn, h_three);
}

static void test_no_function_refused(void **state)
{
	static const struct winch_handler_def defs[] = {{"NoFn", NULL, NULL}, {NULL, NULL, NULL}};
	char logged[512];

	(void)state;
	assert_int_equal(add_capturing_log(defs, "bad.so", logged, sizeof(logged)), -1);
	expect_one_line(logged, "'NoFn'", "'bad.so'", NULL);
	assert_null(registry_find("NoFn"));
	assert_int_equal(registry_count(), 0);
}

static void test_hooks_in_order(void **state)
{
	(void)state;
	registry_run_error_hooks(NULL, "E", "none yet");
	registry_run_death_hooks(NULL, "E", "none yet");
	assert_string_equal(hook_trace, "");
	registry_add_hooks(error_a, NULL);
	registry_add_hooks(NULL, NULL);
	registry_add_hooks(error_b, death_a);
	registry_run_error_hooks(NULL, "KeyError", "m1");
	registry_run_death_hooks(NULL, "RuntimeError", "m2");
	assert_string_equal(hook_trace,
			    "error_a(KeyError,m1) error_b(KeyError,m1) death_a(RuntimeError,m2) ");
	registry_clear();
	hook_trace[0] = '\0';
	registry_run_error_hooks(NULL, "E", "m");
	registry_run_death_hooks(NULL, "E", "m");
	assert_string_equal(hook_trace, ""); /* clear drops the hooks too */
}

static void test_clear(void **state)
{
	static const struct winch_handler_def defs[] = {{"Gone", h_one, NULL}, {NULL, NULL, NULL}};

	(void)state;
	assert_int_equal(registry_add(defs, "built-in"), 0);
	assert_non_null(registry_find("Gone"));
	registry_clear();
	assert_null(registry_find("Gone"));
	assert_null(registry_origin("Gone"));
	assert_int_equal(registry_count(), 0);
	registry_clear(); /* twice is harmless */
	/* After a clear the same table registers again: nothing of it was remembered. */
	assert_int_equal(registry_add(defs, "built-in"), 0);
	assert_ptr_equal(registry_find("Gone"), &defs[0]);
}

static void test_many_classes(void **state)
{
	char name[32], logged[512];
	int i;

	(void)state;
	for (i = 0; i < MANY; i++) {
		snprintf(many_names[i], sizeof(many_names[i]), "App::Job%d", i);
		many_defs[i].class_name = many_names[i];
		many_defs[i].fn = fns[i % 4];
		many_defs[i].options = NULL;
	}
	many_defs[MANY].class_name = NULL;
	/* In two halves, so that the table grows both within one call and across calls. */
	many_defs[MANY / 2].class_name = NULL;
	assert_int_equal(registry_add(many_defs, "first-half"), 0);
	many_defs[MANY / 2].class_name = many_names[MANY / 2];
	assert_int_equal(registry_add(many_defs + MANY / 2, "second-half"), 0);
	assert_int_equal(registry_count(), MANY);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "App::Job%d", i); /* a copy: lookups compare text */
		assert_ptr_equal(registry_find(name), &many_defs[i]);
		assert_string_equal(registry_origin(name), i < MANY / 2 ? "first-half" : "second-half");
	}
	assert_null(registry_find("App::Job5000"));
	assert_null(registry_find("App::Job-1"));
	assert_null(registry_find("App::Job"));
	/* A duplicate is still found among thousands. */
	assert_int_equal(add_capturing_log(many_defs + MANY - 1, "late.so", logged, sizeof(logged)),
			 -1);
	expect_one_line(logged, "'App::Job4999'", "'second-half'", NULL);
	assert_int_equal(registry_count(), MANY);
	registry_clear();
	assert_null(registry_find("App::Job0"));
	assert_null(registry_find("App::Job4999"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_and_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_function_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hooks_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_classes, setup, teardown),
	};

	log_setup(LOG_ERROR, LOG_FORMAT_TEXT);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
