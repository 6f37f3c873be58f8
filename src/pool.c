/* pool: handler threads with one task each, and a FIFO of calls back to the loop thread. */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "log.h"
#include "pool.h"
#include "util.h"
#include "banned.h"

#define POOL_DRAIN_MAX 512 /* posts handled per wake-up of the loop */

struct pool_call {
	struct pool_call *next;
	pool_fn fn;
	void *arg;
};

struct pool_thread {
	struct pool *pool;
	int index;
	pthread_t thread;
	pthread_cond_t cond;
	pool_fn fn;   /* the task not yet taken by the thread, or NULL (guarded by pool->lock) */
	void *arg;
	int busy;     /* loop-side view: given a task and not yet released */
	int started;
};

struct pool {
	struct ev_loop *loop;
	ev_async async;
	pthread_mutex_t lock;
	int stopping;
	struct pool_thread *threads;
	int n;
	int busy;
	struct pool_call *calls_head, *calls_tail; /* guarded by lock */
};

static __thread int current_index = -1;

static void *thread_main(void *data)
{
	struct pool_thread *t = data;
	struct pool *p = t->pool;
	pool_fn fn;
	void *arg;

	current_index = t->index;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (t->fn == NULL && !p->stopping)
			pthread_cond_wait(&t->cond, &p->lock);
		if (t->fn == NULL)
			break;
		/* Take the task before running it: the loop may hand over the next one as soon
		 * as fn has posted its completion. */
		fn = t->fn;
		arg = t->arg;
		t->fn = NULL;
		t->arg = NULL;
		pthread_mutex_unlock(&p->lock);
		fn(arg);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents)
{
	struct pool *p = w->data;
	struct pool_call *c;
	int budget = POOL_DRAIN_MAX;

	(void)revents;
	while (budget-- > 0) {
		pthread_mutex_lock(&p->lock);
		c = p->calls_head;
		if (c) {
			p->calls_head = c->next;
			if (p->calls_head == NULL)
				p->calls_tail = NULL;
		}
		pthread_mutex_unlock(&p->lock);
		if (c == NULL)
			return;
		c->fn(c->arg);
		free(c);
	}
	/* More left: yield to the loop and come back. */
	ev_async_send(loop, &p->async);
}

struct pool *pool_new(struct ev_loop *loop, int n)
{
	struct pool *p = xcalloc(1, sizeof(*p));
	sigset_t all, old;
	int i, rc;

	p->loop = loop;
	p->n = n;
	pthread_mutex_init(&p->lock, NULL);
	p->threads = xcalloc((size_t)n, sizeof(*p->threads));
	ev_async_init(&p->async, on_async);
	p->async.data = p;
	ev_async_start(loop, &p->async);
	/* Handler threads take no signals: the loop's ev_signal watchers get them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < n; i++) {
		struct pool_thread *t = &p->threads[i];

		t->pool = p;
		t->index = i;
		pthread_cond_init(&t->cond, NULL);
		rc = pthread_create(&t->thread, NULL, thread_main, t);
		if (rc != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			log_error("cannot start handler thread %d of %d: %s", i + 1, n, strerror(rc));
			pool_free(p);
			return NULL;
		}
		t->started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p;
}

void pool_free(struct pool *p)
{
	struct pool_call *c;
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	for (i = 0; i < p->n; i++)
		pthread_cond_signal(&p->threads[i].cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->n; i++) {
		struct pool_thread *t = &p->threads[i];

		if (!t->started)
			continue;
		if (t->busy)
			pthread_detach(t->thread); /* still in a handler: left to the exit */
		else
			pthread_join(t->thread, NULL);
	}
	ev_async_stop(p->loop, &p->async);
	pthread_mutex_lock(&p->lock);
	while ((c = p->calls_head) != NULL) {
		p->calls_head = c->next;
		free(c);
	}
	p->calls_tail = NULL;
	pthread_mutex_unlock(&p->lock);
	/* A detached thread may still touch p: the process exits right after this. */
	for (i = 0; i < p->n; i++)
		if (p->threads[i].busy)
			return;
	free(p->threads);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int pool_size(const struct pool *p)
{
	return p->n;
}

int pool_idle(const struct pool *p)
{
	int i;

	if (p->busy >= p->n)
		return -1;
	for (i = 0; i < p->n; i++)
		if (!p->threads[i].busy)
			return i;
	return -1;
}

int pool_busy_count(const struct pool *p)
{
	return p->busy;
}

void pool_run(struct pool *p, int index, pool_fn fn, void *arg)
{
	struct pool_thread *t = &p->threads[index];

	if (t->busy)
		abort(); /* BUG: the loop gave a busy thread a second task */
	t->busy = 1;
	p->busy++;
	pthread_mutex_lock(&p->lock);
	t->fn = fn;
	t->arg = arg;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&p->lock);
}

void pool_release(struct pool *p, int index)
{
	struct pool_thread *t = &p->threads[index];

	if (!t->busy)
		abort(); /* BUG: released twice */
	t->busy = 0;
	p->busy--;
}

void pool_post(struct pool *p, pool_fn fn, void *arg)
{
	struct pool_call *c = xmalloc(sizeof(*c));

	c->next = NULL;
	c->fn = fn;
	c->arg = arg;
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		free(c);
		return;
	}
	if (p->calls_tail)
		p->calls_tail->next = c;
	else
		p->calls_head = c;
	p->calls_tail = c;
	pthread_mutex_unlock(&p->lock);
	ev_async_send(p->loop, &p->async);
}

int pool_thread_index(void)
{
	return current_index;
}
