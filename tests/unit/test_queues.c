/* test_queues: -q parsing, queue modes, and the per-fetch order's distribution. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "queues.h"
#include "banned.h"

#define DRAWS 200000

/* A deterministic stand-in for rand_below: Knuth's MMIX LCG, high bits scaled to [0, n). */
static uint64_t lcg_state;
static unsigned long lcg_calls;

static uint32_t lcg_rnd(uint32_t n)
{
	lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
	lcg_calls++;
	return (uint32_t)(((lcg_state >> 32) * (uint64_t)n) >> 32);
}

static uint32_t never_rnd(uint32_t n)
{
	(void)n;
	fail_msg("strict order must not draw random numbers");
	return 0;
}

static int setup(void **state)
{
	struct queues *qs = test_malloc(sizeof(*qs));

	queues_init(qs);
	lcg_state = 42;
	lcg_calls = 0;
	*state = qs;
	return 0;
}

static int teardown(void **state)
{
	struct queues *qs = *state;

	queues_release(qs);
	test_free(qs);
	return 0;
}

static void add_all(struct queues *qs, const char *const *args, size_t n)
{
	char err[128];
	size_t i;

	for (i = 0; i < n; i++) {
		err[0] = '\0';
		if (queues_add(qs, args[i], err, sizeof(err)) < 0)
			fail_msg("queues_add('%s'): %s", args[i], err);
	}
	queues_finish(qs);
}

static void test_parse_names_and_weights(void **state)
{
	static const char *const args[] = {"critical,5", "default", "low,0", "mail,1"};
	struct queues *qs = *state;

	add_all(qs, args, ARRAY_SIZE(args));
	assert_int_equal(qs->n, 4);
	assert_string_equal(qs->q[0].name, "critical");
	assert_int_equal(qs->q[0].weight, 5);
	assert_string_equal(qs->q[1].name, "default");
	assert_int_equal(qs->q[1].weight, 0);
	assert_string_equal(qs->q[2].name, "low");
	assert_int_equal(qs->q[2].weight, 0);
	assert_string_equal(qs->q[3].name, "mail");
	assert_int_equal(qs->q[3].weight, 1);
	assert_int_equal(qs->mode, QUEUES_WEIGHTED);
	/* critical x5, default, low, mail */
	assert_int_equal(qs->expanded_n, 8);
	assert_ptr_equal(qs->expanded[0], qs->q[0].name);
	assert_ptr_equal(qs->expanded[4], qs->q[0].name);
	assert_ptr_equal(qs->expanded[5], qs->q[1].name);
	assert_ptr_equal(qs->expanded[6], qs->q[2].name);
	assert_ptr_equal(qs->expanded[7], qs->q[3].name);
}

static void test_parse_errors(void **state)
{
	static const char *const bad[] = {
		"", ",3", "a,-1", "a,x", "a,1.5", "a,", "a, 2", "a,+2", "a,100001",
		"a,99999999999999999999",
	};
	struct queues *qs = *state;
	char err[128], longname[QUEUE_NAME_MAX + 2];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(queues_add(qs, bad[i], err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(qs->n, 0);

	memset(longname, 'q', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(queues_add(qs, longname, err, sizeof(err)), -1);
	assert_string_equal(err, "queue name longer than 256 bytes");
	longname[QUEUE_NAME_MAX] = '\0';
	assert_int_equal(queues_add(qs, longname, err, sizeof(err)), 0);
	assert_int_equal(queues_add(qs, "a,100000", err, sizeof(err)), 0);
	assert_int_equal(queues_add(qs, "x,3,junk", err, sizeof(err)), -1);
	assert_string_equal(err, "queue 'x,3,junk': weight must be an integer from 0 to 100000");
	assert_int_equal(qs->n, 2);
}

static void test_too_many_queues(void **state)
{
	struct queues *qs = *state;
	char name[16], err[128];
	int i;

	for (i = 0; i < QUEUES_MAX; i++) {
		snprintf(name, sizeof(name), "q%d,%d", i, i % 3);
		assert_int_equal(queues_add(qs, name, err, sizeof(err)), 0);
	}
	/* a repeated name still updates its weight; a new one is refused */
	assert_int_equal(queues_add(qs, "q7,9", err, sizeof(err)), 0);
	assert_int_equal(qs->q[7].weight, 9);
	assert_int_equal(queues_add(qs, "one-more", err, sizeof(err)), -1);
	assert_string_equal(err, "more than 250 queues");
	assert_int_equal(qs->n, QUEUES_MAX);
}

static void test_repeated_name(void **state)
{
	static const char *const args[] = {"a,1", "b", "a,5"};
	struct queues *qs = *state;

	add_all(qs, args, ARRAY_SIZE(args));
	assert_int_equal(qs->n, 2);
	assert_string_equal(qs->q[0].name, "a");
	assert_int_equal(qs->q[0].weight, 5);
	assert_string_equal(qs->q[1].name, "b");
	assert_int_equal(qs->expanded_n, 6);
}

static void test_default_queue(void **state)
{
	struct queues *qs = *state;
	const char *order[1];

	queues_finish(qs);
	assert_int_equal(qs->n, 1);
	assert_string_equal(qs->q[0].name, "default");
	assert_int_equal(qs->mode, QUEUES_STRICT);
	assert_int_equal(queues_order(qs, order, never_rnd), 1);
	assert_string_equal(order[0], "default");
}

static void test_modes(void **state)
{
	static const char *const strict[] = {"a", "b,0", "c"};
	static const char *const random1[] = {"a,1", "b,1"};
	static const char *const mixed01[] = {"a", "b,1"};
	struct queues *qs = *state;

	add_all(qs, strict, ARRAY_SIZE(strict));
	assert_int_equal(qs->mode, QUEUES_STRICT);
	queues_release(qs);
	add_all(qs, random1, ARRAY_SIZE(random1));
	assert_int_equal(qs->mode, QUEUES_RANDOM);
	queues_release(qs);
	add_all(qs, mixed01, ARRAY_SIZE(mixed01));
	assert_int_equal(qs->mode, QUEUES_WEIGHTED);
	assert_int_equal(qs->expanded_n, 2);
}

static void test_strict_order(void **state)
{
	static const char *const args[] = {"critical", "default", "low"};
	struct queues *qs = *state;
	const char *order[3];
	int round;

	add_all(qs, args, ARRAY_SIZE(args));
	for (round = 0; round < 3; round++) {
		assert_int_equal(queues_order(qs, order, never_rnd), 3);
		assert_string_equal(order[0], "critical");
		assert_string_equal(order[1], "default");
		assert_string_equal(order[2], "low");
	}
}

static int index_of(const struct queues *qs, const char *name)
{
	int i;

	for (i = 0; i < qs->n; i++) {
		if (qs->q[i].name == name)
			return i;
	}
	fail_msg("'%s' is not one of the queues", name);
	return -1;
}

/* Queue q first with probability max(w_q, 1) / sum: 5, 3, 1 and 0 (counted as 1) of 10. */
static void test_weighted_first_distribution(void **state)
{
	static const char *const args[] = {"a,5", "b,3", "c,1", "d"};
	static const double expect[] = {0.5, 0.3, 0.1, 0.1};
	struct queues *qs = *state;
	const char *order[4];
	long first[4] = {0};
	int i, j, seen;

	add_all(qs, args, ARRAY_SIZE(args));
	assert_int_equal(qs->mode, QUEUES_WEIGHTED);
	for (i = 0; i < DRAWS; i++) {
		assert_int_equal(queues_order(qs, order, lcg_rnd), 4);
		seen = 0;
		for (j = 0; j < 4; j++)
			seen |= 1 << index_of(qs, order[j]);
		assert_int_equal(seen, 0xf); /* a permutation: every queue exactly once */
		first[index_of(qs, order[0])]++;
	}
	/* sigma of a share is at most sqrt(0.25 / DRAWS) = 0.0011: allow about 4 sigma */
	for (i = 0; i < 4; i++) {
		double share = (double)first[i] / DRAWS;

		if (share < expect[i] - 0.005 || share > expect[i] + 0.005)
			fail_msg("queue %d first %.4f of the time, expected %.2f", i, share,
				 expect[i]);
	}
}

/*
 * The whole order must follow Sidekiq's shuffle-then-uniq of [a, a, b, c]:
 * abc 1/4, acb 1/4, bac 1/6, bca 1/12, cab 1/6, cba 1/12.
 */
static void test_weighted_full_order_distribution(void **state)
{
	static const char *const args[] = {"a,2", "b,1", "c,1"};
	static const char *const perms[] = {"abc", "acb", "bac", "bca", "cab", "cba"};
	static const double expect[] = {3.0 / 12, 3.0 / 12, 2.0 / 12, 1.0 / 12, 2.0 / 12,
					1.0 / 12};
	struct queues *qs = *state;
	const char *order[3];
	long count[6] = {0};
	char key[4];
	int i, k;

	add_all(qs, args, ARRAY_SIZE(args));
	for (i = 0; i < DRAWS; i++) {
		assert_int_equal(queues_order(qs, order, lcg_rnd), 3);
		for (k = 0; k < 3; k++)
			key[k] = order[k][0];
		key[3] = '\0';
		for (k = 0; k < 6; k++) {
			if (strcmp(key, perms[k]) == 0)
				break;
		}
		assert_true(k < 6);
		count[k]++;
	}
	for (k = 0; k < 6; k++) {
		double share = (double)count[k] / DRAWS;

		if (share < expect[k] - 0.005 || share > expect[k] + 0.005)
			fail_msg("order %s %.4f of the time, expected %.4f", perms[k], share,
				 expect[k]);
	}
	/* two draws per fetch: the last remaining queue needs none */
	assert_int_equal(lcg_calls, 2L * DRAWS);
}

/* Random mode (all weights 1): every queue first equally often. */
static void test_random_uniform(void **state)
{
	static const char *const args[] = {"a,1", "b,1", "c,1", "d,1", "e,1"};
	struct queues *qs = *state;
	const char *order[5];
	long first[5] = {0};
	int i;

	add_all(qs, args, ARRAY_SIZE(args));
	assert_int_equal(qs->mode, QUEUES_RANDOM);
	for (i = 0; i < DRAWS; i++) {
		assert_int_equal(queues_order(qs, order, lcg_rnd), 5);
		first[index_of(qs, order[0])]++;
	}
	for (i = 0; i < 5; i++) {
		double share = (double)first[i] / DRAWS;

		if (share < 0.2 - 0.005 || share > 0.2 + 0.005)
			fail_msg("queue %d first %.4f of the time, expected 0.2", i, share);
	}
}

/* A stub that always returns its top value picks the last candidate every time. */
static uint32_t top_rnd(uint32_t n)
{
	return n - 1;
}

static uint32_t zero_rnd(uint32_t n)
{
	(void)n;
	return 0;
}

static void test_order_with_extreme_draws(void **state)
{
	static const char *const args[] = {"a,3", "b,2", "c"};
	struct queues *qs = *state;
	const char *order[3];

	add_all(qs, args, ARRAY_SIZE(args));
	assert_int_equal(queues_order(qs, order, zero_rnd), 3);
	assert_string_equal(order[0], "a");
	assert_string_equal(order[1], "b");
	assert_string_equal(order[2], "c");
	/* c is drawn first and swapped with a, so the candidates left are b then a */
	assert_int_equal(queues_order(qs, order, top_rnd), 3);
	assert_string_equal(order[0], "c");
	assert_string_equal(order[1], "a");
	assert_string_equal(order[2], "b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse_names_and_weights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeated_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strict_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weighted_first_distribution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weighted_full_order_distribution, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_random_uniform, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_with_extreme_draws, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
