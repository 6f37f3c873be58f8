/* test_poll: the scheduled-set poller's sleep lengths for each cluster size and generation. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "poll.h"
#include "banned.h"

/* The values below are exact in binary floating point, so they are compared exactly. */
#define assert_double_exact(got, want)                                                             \
	do {                                                                                       \
		double g_ = (got), w_ = (want);                                                    \
		if (g_ != w_)                                                                      \
			fail_msg("%s = %.17g, expected %.17g", #got, g_, w_);                      \
	} while (0)

static void test_small_cluster_band(void **state)
{
	(void)state;
	/* one process: avg 5 s, uniform in [2.5, 7.5) */
	assert_double_exact(poll_next_interval(5, 1, SIDEKIQ_6, 0.0), 2.5);
	assert_double_exact(poll_next_interval(5, 1, SIDEKIQ_6, 0.5), 5.0);
	assert_double_exact(poll_next_interval(5, 1, SIDEKIQ_6, 0.75), 6.25);
	/* an empty or failed SCARD counts as one process */
	assert_double_exact(poll_next_interval(5, 0, SIDEKIQ_7, 0.5), 5.0);
	assert_double_exact(poll_next_interval(5, -3, SIDEKIQ_8, 0.0), 2.5);
	/* three processes: avg 15 s */
	assert_double_exact(poll_next_interval(5, 3, SIDEKIQ_6, 0.0), 7.5);
	assert_double_exact(poll_next_interval(5, 3, SIDEKIQ_8, 0.5), 15.0);
	/* nine processes is still a small cluster, in every generation */
	assert_double_exact(poll_next_interval(5, 9, SIDEKIQ_6, 0.25), 33.75);
	assert_double_exact(poll_next_interval(5, 9, SIDEKIQ_8, 0.25), 33.75);
}

static void test_large_cluster(void **state)
{
	(void)state;
	/* ten processes: avg 50 s, uniform in [0, 50) for 6 and 7, [0, 100) for 8 */
	assert_double_exact(poll_next_interval(5, 10, SIDEKIQ_6, 0.0), 0.0);
	assert_double_exact(poll_next_interval(5, 10, SIDEKIQ_6, 0.5), 25.0);
	assert_double_exact(poll_next_interval(5, 10, SIDEKIQ_7, 0.5), 25.0);
	assert_double_exact(poll_next_interval(5, 10, SIDEKIQ_8, 0.5), 50.0);
	assert_double_exact(poll_next_interval(5, 20, SIDEKIQ_8, 0.75), 150.0);
	assert_double_exact(poll_next_interval(2, 40, SIDEKIQ_7, 0.125), 10.0);
}

static void test_cluster_average(void **state)
{
	double sum;
	long pcs[] = {1, 4, 9, 10, 25};
	int i, k, gen;

	(void)state;
	/* Averaged over u, a process sleeps avg; from 10 processes on avg / 2 (8: avg again). */
	for (gen = SIDEKIQ_6; gen <= SIDEKIQ_8; gen++) {
		for (k = 0; k < (int)ARRAY_SIZE(pcs); k++) {
			double avg = 5.0 * (double)pcs[k];
			double want = avg;

			if (pcs[k] >= 10 && gen != SIDEKIQ_8)
				want = avg / 2;
			sum = 0;
			for (i = 0; i < 1000; i++)
				sum += poll_next_interval(5, pcs[k], (enum sidekiq_gen)gen,
							  (i + 0.5) / 1000);
			if (sum / 1000 < want - 1e-9 || sum / 1000 > want + 1e-9)
				fail_msg("gen %d, %ld processes: mean %.6f, expected %.6f", gen,
					 pcs[k], sum / 1000, want);
		}
	}
}

static void test_initial_wait(void **state)
{
	(void)state;
	/* default: 10 s plus up to 5 s */
	assert_double_exact(poll_initial_wait(5, 0, 0.0), 10.0);
	assert_double_exact(poll_initial_wait(5, 0, 0.5), 12.5);
	assert_double_exact(poll_initial_wait(60, 0, 0.75), 13.75);
	/* interval given: up to 5 s as Sidekiq does ... */
	assert_double_exact(poll_initial_wait(15, 1, 0.5), 2.5);
	assert_double_exact(poll_initial_wait(5, 1, 0.75), 3.75);
	/* ... but no longer than the interval itself */
	assert_double_exact(poll_initial_wait(1, 1, 0.5), 0.5);
	assert_double_exact(poll_initial_wait(0.25, 1, 0.5), 0.125);
	assert_double_exact(poll_initial_wait(1, 1, 0.0), 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_cluster_band),
		cmocka_unit_test(test_large_cluster),
		cmocka_unit_test(test_cluster_average),
		cmocka_unit_test(test_initial_wait),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
