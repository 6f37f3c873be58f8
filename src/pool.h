/*
 * pool: the -c handler threads, and the way back to the loop thread.
 *
 * Each thread has a fixed index (its slot: the work hash's tid comes from it) and runs one
 * task at a time, given to it by the loop thread. Anything a thread wants done on the loop
 * (a finished job, a push) goes through pool_post(): a mutex-protected FIFO plus
 * ev_async_send, drained on the loop in order, a bounded number per wake-up.
 */
#ifndef WINCH_POOL_H
#define WINCH_POOL_H

struct ev_loop;
struct pool;

typedef void (*pool_fn)(void *arg);

/* Start n threads. Returns NULL (after logging) if a thread cannot be created. */
struct pool *pool_new(struct ev_loop *loop, int n);
/*
 * Stop the threads that are idle and free what can be freed. Threads still inside a handler
 * are left running (their process is about to exit); their later posts are dropped.
 */
void pool_free(struct pool *p);

int pool_size(const struct pool *p);
/* Loop thread: the index of an idle thread, or -1 if all are busy. */
int pool_idle(const struct pool *p);
int pool_busy_count(const struct pool *p);
/* Loop thread: run fn(arg) on idle thread index (which becomes busy). */
void pool_run(struct pool *p, int index, pool_fn fn, void *arg);
/* Loop thread: mark thread index idle again (after its completion was handled). */
void pool_release(struct pool *p, int index);
/* Any thread: call fn(arg) on the loop thread, after everything posted before it. */
void pool_post(struct pool *p, pool_fn fn, void *arg);
/* The calling handler thread's index, or -1 on any other thread. */
int pool_thread_index(void);

#endif
