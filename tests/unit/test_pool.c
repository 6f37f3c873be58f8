/*
 * test_pool: handler threads and the way back to the loop, in libuv's style: count the
 * completions, run the loop under a timeout, then check that no watcher is left active.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ev.h>

#include "pool.h"
#include "util.h"

#define NTHREADS 3
#define TIMEOUT 5.0  /* seconds a test's loop may run */
#define MANY_POSTS 1000
#define FIFO_POSTS 200

struct fixture;

/*
 * One task given to a handler thread. cmocka's asserts must stay on the main thread, so a
 * task only records what it saw; the loop-side callbacks and the test check it (the pool's
 * mutex orders the task's writes before the loop's reads).
 */
struct task {
	struct fixture *f;
	int index;        /* the thread it was given to */
	int seen_index;   /* pool_thread_index() inside the task */
	int signals_blocked;
	int nposts;       /* calls to post before the completion */
	int next_seq;     /* loop side: the next sequence number expected from this task */
	int out_of_order;
	int gate;         /* open the fixture's gate once every call is posted */
};

/* A call posted by a task. */
struct call {
	struct task *t;
	int seq;
};

struct fixture {
	struct ev_loop *loop;
	struct pool *pool;
	ev_timer timeout;
	int timed_out;
	int completions;
	int expected;
	int calls;
	int on_loop_thread;  /* callbacks that ran where pool_thread_index() is -1 */
	int wrong_thread;    /* callbacks that ran anywhere else */
	unsigned last_iter;  /* ev_iteration() of the previous call */
	int in_iter;         /* calls handled in that iteration */
	int max_in_iter;
	int wakeups;         /* iterations that handled calls */
	int chain;           /* tasks still to start as threads come free */
	int no_release;      /* completions leave their thread busy */
	struct task tasks[64];
	int ntasks;
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	int gate_open;
};

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fixture *f = w->data;

	(void)revents;
	f->timed_out = 1;
	ev_break(loop, EVBREAK_ALL);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	f->pool = pool_new(f->loop, NTHREADS);
	assert_non_null(f->pool);
	ev_timer_init(&f->timeout, on_timeout, TIMEOUT, 0);
	f->timeout.data = f;
	ev_timer_start(f->loop, &f->timeout);
	pthread_mutex_init(&f->gate_lock, NULL);
	pthread_cond_init(&f->gate_cond, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ev_timer_stop(f->loop, &f->timeout);
	if (f->pool) /* a failed test: its threads are idle once their tasks are done */
		pool_free(f->pool);
	ev_loop_destroy(f->loop);
	pthread_mutex_destroy(&f->gate_lock);
	pthread_cond_destroy(&f->gate_cond);
	free(f);
	return 0;
}

/* Run the loop until a callback breaks it; fail if the timeout fired instead. */
static void run_loop(struct fixture *f)
{
	ev_run(f->loop, 0);
	assert_false(f->timed_out);
}

/*
 * The end of every test: with the timeout stopped, the pool's ev_async is the only active
 * watcher (ev_run returns true: something is active), and after pool_free() nothing is.
 */
static void finish(struct fixture *f)
{
	ev_timer_stop(f->loop, &f->timeout);
	assert_false(ev_is_active(&f->timeout));
	assert_int_equal(pool_busy_count(f->pool), 0);
	assert_true(ev_run(f->loop, EVRUN_NOWAIT));
	pool_free(f->pool);
	f->pool = NULL;
	assert_false(ev_run(f->loop, EVRUN_NOWAIT));
}

static void note_thread(struct fixture *f)
{
	if (pool_thread_index() == -1)
		f->on_loop_thread++;
	else
		f->wrong_thread++;
}

static void start_task(struct fixture *f, int index, int nposts, pool_fn fn);

/* Loop thread: a task is done. Release its thread and give it the next task, if any. */
static void on_complete(void *arg)
{
	struct task *t = arg;
	struct fixture *f = t->f;

	note_thread(f);
	f->completions++;
	if (!f->no_release)
		pool_release(f->pool, t->index);
	if (f->chain > 0) {
		f->chain--;
		start_task(f, pool_idle(f->pool), t->nposts, NULL);
	}
	if (f->completions == f->expected)
		ev_break(f->loop, EVBREAK_ALL);
}

/* Loop thread: one of a task's numbered calls. */
static void on_call(void *arg)
{
	struct call *c = arg;
	struct fixture *f = c->t->f;
	unsigned iter = ev_iteration(f->loop);

	note_thread(f);
	if (c->seq != c->t->next_seq)
		c->t->out_of_order++;
	c->t->next_seq = c->seq + 1;
	f->calls++;
	if (f->calls == 1 || iter != f->last_iter) {
		f->wakeups++;
		f->in_iter = 0;
		f->last_iter = iter;
	}
	f->in_iter++;
	if (f->in_iter > f->max_in_iter)
		f->max_in_iter = f->in_iter;
	free(c);
}

/* Handler thread: record where we are, post the numbered calls, then the completion. */
static void task_main(void *arg)
{
	struct task *t = arg;
	sigset_t mask;
	int i;

	t->seen_index = pool_thread_index();
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	t->signals_blocked = sigismember(&mask, SIGTERM) == 1 && sigismember(&mask, SIGINT) == 1 &&
			     sigismember(&mask, SIGHUP) == 1 && sigismember(&mask, SIGTSTP) == 1;
	for (i = 0; i < t->nposts; i++) {
		struct call *c = xmalloc(sizeof(*c));

		c->t = t;
		c->seq = i;
		pool_post(t->f->pool, on_call, c);
	}
	if (t->gate) {
		pthread_mutex_lock(&t->f->gate_lock);
		t->f->gate_open = 1;
		pthread_cond_signal(&t->f->gate_cond);
		pthread_mutex_unlock(&t->f->gate_lock);
	}
	pool_post(t->f->pool, on_complete, t);
}

static void start_task(struct fixture *f, int index, int nposts, pool_fn fn)
{
	struct task *t;

	assert_true(index >= 0 && index < NTHREADS);
	assert_true(f->ntasks < (int)ARRAY_SIZE(f->tasks));
	t = &f->tasks[f->ntasks++];
	memset(t, 0, sizeof(*t));
	t->f = f;
	t->index = index;
	t->seen_index = -2;
	t->nposts = nposts;
	pool_run(f->pool, index, fn ? fn : task_main, t);
}

static void test_bookkeeping(void **state)
{
	struct fixture *f = *state;
	int i;

	assert_int_equal(pool_size(f->pool), NTHREADS);
	assert_int_equal(pool_busy_count(f->pool), 0);
	assert_int_equal(pool_thread_index(), -1); /* the test's own thread */
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pool_idle(f->pool), i); /* the first idle thread */
		start_task(f, i, 0, NULL);
		assert_int_equal(pool_busy_count(f->pool), i + 1);
	}
	assert_int_equal(pool_idle(f->pool), -1);
	f->expected = NTHREADS;
	run_loop(f);
	assert_int_equal(f->completions, NTHREADS);
	assert_int_equal(f->on_loop_thread, NTHREADS);
	assert_int_equal(f->wrong_thread, 0);
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(f->tasks[i].seen_index, i);
		assert_true(f->tasks[i].signals_blocked);
	}
	/* Released by the completions: all idle again. */
	assert_int_equal(pool_busy_count(f->pool), 0);
	assert_int_equal(pool_idle(f->pool), 0);
	finish(f);
}

/* A thread stays busy after its task is done, until the loop releases it. */
static void test_release_is_the_loop_s(void **state)
{
	struct fixture *f = *state;
	int i;

	f->no_release = 1;
	for (i = 0; i < NTHREADS; i++)
		start_task(f, i, 0, NULL);
	f->expected = NTHREADS;
	run_loop(f);
	assert_int_equal(f->completions, NTHREADS);
	assert_int_equal(pool_busy_count(f->pool), NTHREADS);
	assert_int_equal(pool_idle(f->pool), -1);
	pool_release(f->pool, 1);
	assert_int_equal(pool_busy_count(f->pool), 2);
	assert_int_equal(pool_idle(f->pool), 1);
	pool_release(f->pool, 2);
	assert_int_equal(pool_idle(f->pool), 1); /* the lowest idle index */
	pool_release(f->pool, 0);
	assert_int_equal(pool_idle(f->pool), 0);
	assert_int_equal(pool_busy_count(f->pool), 0);
	/* A released thread takes a new task. */
	f->no_release = 0;
	start_task(f, 1, 0, NULL);
	f->expected = NTHREADS + 1;
	run_loop(f);
	assert_int_equal(f->tasks[NTHREADS].seen_index, 1);
	finish(f);
}

static void test_many_tasks_on_three_threads(void **state)
{
	struct fixture *f = *state;
	int i;

	/* Each completion hands the freed thread the next task, as the engine does. */
	f->chain = 60 - NTHREADS;
	for (i = 0; i < NTHREADS; i++)
		start_task(f, i, 1, NULL);
	f->expected = 60;
	run_loop(f);
	assert_int_equal(f->completions, 60);
	assert_int_equal(f->calls, 60);
	assert_int_equal(f->wrong_thread, 0);
	for (i = 0; i < f->ntasks; i++) {
		assert_int_equal(f->tasks[i].seen_index, f->tasks[i].index);
		assert_int_equal(f->tasks[i].out_of_order, 0);
		assert_int_equal(f->tasks[i].next_seq, 1); /* its call came before its completion */
	}
	finish(f);
}

static void test_fifo_per_thread(void **state)
{
	struct fixture *f = *state;
	int i;

	for (i = 0; i < NTHREADS; i++)
		start_task(f, i, FIFO_POSTS, NULL);
	f->expected = NTHREADS;
	run_loop(f);
	assert_int_equal(f->calls, NTHREADS * FIFO_POSTS);
	for (i = 0; i < NTHREADS; i++) {
		/* Every call in order, and all before the completion posted after them. */
		assert_int_equal(f->tasks[i].out_of_order, 0);
		assert_int_equal(f->tasks[i].next_seq, FIFO_POSTS);
	}
	assert_int_equal(f->wrong_thread, 0);
	finish(f);
}

/*
 * 1000 posts queued before the loop runs: the drain handles a bounded number per wake-up
 * and comes back for the rest by itself (no further post wakes it).
 */
static void test_thousand_posts_all_arrive(void **state)
{
	struct fixture *f = *state;
	struct task *t;

	t = &f->tasks[f->ntasks++];
	memset(t, 0, sizeof(*t));
	t->f = f;
	t->index = 1;
	t->nposts = MANY_POSTS;
	t->gate = 1;
	pool_run(f->pool, 1, task_main, t);
	/* Wait (loop not running) until every post is queued. */
	pthread_mutex_lock(&f->gate_lock);
	while (!f->gate_open)
		pthread_cond_wait(&f->gate_cond, &f->gate_lock);
	pthread_mutex_unlock(&f->gate_lock);
	f->expected = 1;
	run_loop(f);
	assert_int_equal(f->calls, MANY_POSTS);
	assert_int_equal(t->next_seq, MANY_POSTS);
	assert_int_equal(t->out_of_order, 0);
	assert_int_equal(f->completions, 1);
	assert_true(f->max_in_iter <= 512);
	assert_true(f->wakeups >= 2); /* capped: it took more than one wake-up */
	finish(f);
}

static void *other_thread(void *arg)
{
	*(int *)arg = pool_thread_index();
	return NULL;
}

static void test_thread_index_off_handler_threads(void **state)
{
	struct fixture *f = *state;
	pthread_t th;
	int seen = -2;

	assert_int_equal(pool_thread_index(), -1);
	assert_int_equal(pthread_create(&th, NULL, other_thread, &seen), 0);
	pthread_join(th, NULL);
	assert_int_equal(seen, -1); /* a thread the pool did not start */
	start_task(f, 2, 0, NULL);
	f->expected = 1;
	run_loop(f);
	assert_int_equal(f->tasks[0].seen_index, 2);
	assert_int_equal(f->on_loop_thread, 1); /* the completion ran on the loop thread */
	finish(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bookkeeping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_is_the_loop_s, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_tasks_on_three_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_per_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thousand_posts_all_arrive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_index_off_handler_threads, setup,
						teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
