/* test_module: the module loader with good and bad modules built beside the tests. */
#include "config.h"

#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "module.h"
#include "registry.h"

#ifndef TEST_MODULE_DIR
#error TEST_MODULE_DIR must name the directory of the built test modules
#endif

static char *mod(const char *name)
{
	return xasprintf("%s/%s.so", TEST_MODULE_DIR, name);
}

static int reset(void **state)
{
	(void)state;
	registry_clear();
	return 0;
}

static int *module_counter(const char *path, const char *sym)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);

	assert_non_null(h);
	return dlsym(h, sym);
}

static void test_good_module_registers(void **state)
{
	char *path = mod("good");
	const struct winch_handler_def *def;
	int *init_calls, *errors, *deaths;

	(void)state;
	assert_int_equal(module_load(path), 0);
	def = registry_find("Test::Good");
	assert_non_null(def);
	assert_non_null(def->options);
	assert_int_equal(def->options->retry, WINCH_RETRY_COUNT);
	assert_int_equal(def->options->retry_count, 3);
	assert_string_equal(registry_origin("Test::Good"), path);
	assert_non_null(strstr(module_summary(), "good ("));
	init_calls = module_counter(path, "good_init_calls");
	errors = module_counter(path, "good_error_calls");
	deaths = module_counter(path, "good_death_calls");
	assert_int_equal(*init_calls, 1);
	registry_run_error_hooks(NULL, "E", "m");
	registry_run_death_hooks(NULL, "E", "m");
	registry_run_death_hooks(NULL, "E", "m");
	assert_int_equal(*errors, 1);
	assert_int_equal(*deaths, 2);
	free(path);
}

static void test_duplicate_class_refused(void **state)
{
	char *good = mod("good"), *dup = mod("dup");

	(void)state;
	assert_int_equal(module_load(good), 0);
	assert_int_equal(module_load(dup), -1);
	free(good);
	free(dup);
}

static void test_bad_modules_refused(void **state)
{
	const char *names[] = {"oldapi", "nosym", "refuse"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *path = mod(names[i]);

		if (module_load(path) != -1)
			fail_msg("module '%s' was not refused", names[i]);
		free(path);
	}
	assert_int_equal(module_load("/nonexistent/winch-test.so"), -1);
	assert_int_equal(module_load("/etc/hostname"), -1); /* not a shared object */
	assert_int_equal(module_load(TEST_MODULE_DIR), -1); /* a directory */
	assert_null(registry_find("Test::Refused"));
	assert_int_equal(registry_count(), 0);
}

static void test_writable_module_refused(void **state)
{
	char dir[] = "/tmp/winch-test-module.XXXXXX";
	char *src = mod("good"), *dst, *cmd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	dst = xasprintf("%s/good.so", dir);
	cmd = xasprintf("cp '%s' '%s'", src, dst);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chmod(dst, 0775), 0);
	assert_int_equal(module_load(dst), -1);
	assert_int_equal(chmod(dst, 0757), 0);
	assert_int_equal(module_load(dst), -1);
	assert_null(registry_find("Test::Good"));
	assert_int_equal(chmod(dst, 0755), 0);
	assert_int_equal(module_load_dir(dir), 0); /* the same file, now safe */
	assert_non_null(registry_find("Test::Good"));
	unlink(dst);
	rmdir(dir);
	free(cmd);
	free(dst);
	free(src);
}

static void test_missing_dir_refused(void **state)
{
	(void)state;
	assert_int_equal(module_load_dir("/nonexistent/winch-handlers"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good_module_registers, reset),
		cmocka_unit_test_setup(test_duplicate_class_refused, reset),
		cmocka_unit_test_setup(test_bad_modules_refused, reset),
		cmocka_unit_test_setup(test_writable_module_refused, reset),
		cmocka_unit_test_setup(test_missing_dir_refused, reset),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("module", tests, NULL, NULL);
}
