/*
 * engine: the worker's loop-thread state machine: accept fetched jobs, hand them to handler
 * threads, take their results back, and stop (quiet, wait, requeue, leave) as Sidekiq does.
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "activejob.h"
#include "engine.h"
#include "fetch.h"
#include "recovery.h"
#include "job.h"
#include "keys.h"
#include "log.h"
#include "pool.h"
#include "push.h"
#include "rconn.h"
#include "registry.h"
#include "banned.h"

#define ENGINE_CLOSE_GRACE 10.0 /* seconds to get the last writes out at exit */

static const char *const state_names[] = {"running", "quiet", "stopping", "closing", "done"};

void engine_change_state(struct engine *e, enum engine_state to)
{
	if (to <= e->state) {
		log_error("BUG: engine state %s -> %s", state_names[e->state], state_names[to]);
		abort();
	}
	log_debug("engine: %s -> %s", state_names[e->state], state_names[to]);
	e->state = to;
	if (to >= ENGINE_STOPPING)
		e->stopping = 1;
	if (to == ENGINE_DONE)
		ev_break(e->loop, EVBREAK_ALL);
}

void engine_warn_once(struct engine *e, const char *kind, const char *klass, const char *fmt, ...)
{
	struct sbuf needle;
	va_list ap;
	int seen;

	sbuf_init(&needle);
	sbuf_addf(&needle, "\n%s:%s\n", kind, klass);
	seen = e->warned.len && strstr(sbuf_str(&e->warned), needle.buf) != NULL;
	if (!seen) {
		if (e->warned.len == 0)
			sbuf_addc(&e->warned, '\n');
		sbuf_addf(&e->warned, "%s:%s\n", kind, klass);
		va_start(ap, fmt);
		log_vwrite(LOG_WARN, NULL, fmt, ap);
		va_end(ap);
	}
	sbuf_release(&needle);
}

/* --- running a job --- */

static void job_thread_done(void *arg);
static enum winch_result unknown_class_perform(struct winch_job *job);

/* Handler thread. */
static void job_thread_run(void *arg)
{
	struct winch_job *job = arg;
	struct engine *e = job->push_ctx;
	struct log_ctx ctx = {job->tid, job->dispatch_class, job->p.jid, NULL};

	log_at(LOG_INFO, &ctx, "start");
	job_execute(job);
	pool_post(e->pool, job_thread_done, job);
}

static void log_job_end(const struct winch_job *job)
{
	char elapsed[32];
	struct log_ctx ctx = {job->tid, job->dispatch_class, job->p.jid, elapsed};

	snprintf(elapsed, sizeof(elapsed), "%.3f", job->elapsed);
	switch (job->result) {
	case WINCH_OK:
		log_at(LOG_INFO, &ctx, "done");
		break;
	case WINCH_FAIL:
		log_at(LOG_INFO, &ctx, "fail");
		/* A missing handler was warned about once for its class (engine_accept). */
		if (job->fn != unknown_class_perform)
			log_at(LOG_WARN, &ctx, "%s: %s", job->error_class, job->error_message);
		break;
	case WINCH_REQUEUE:
		log_at(LOG_INFO, &ctx, "requeued: the handler stopped early");
		break;
	}
}

/* Loop thread: a handler finished. */
static void job_thread_done(void *arg)
{
	struct winch_job *job = arg;
	struct engine *e = job->push_ctx;
	struct engine_slot *slot = &e->slots[job->slot];

	if (slot->generation != job->generation || slot->job != job) {
		/* Requeued at the shutdown deadline; it has run anyway (at least once). */
		log_info("job '%s' finished after it was requeued at shutdown; result ignored",
			 job->p.jid ? job->p.jid : "?");
		job_free(job);
		return;
	}
	slot->job = NULL;
	pool_release(e->pool, job->slot);
	log_job_end(job);
	outcome_apply(e, job);
	engine_progress(e);
}

/* Handler thread: a push from winch_job_enqueue, sent on the loop thread. */
static void job_push_post(void *arg);

struct push_msg {
	struct engine *e;
	char *queue;
	char *data;
	size_t len;
	double at;
};

static void job_push(void *ctx, char *queue, char *data, size_t len, double at)
{
	struct engine *e = ctx;
	struct push_msg *m = xmalloc(sizeof(*m));

	m->e = e;
	m->queue = queue;
	m->data = data;
	m->len = len;
	m->at = at;
	pool_post(e->pool, job_push_post, m);
}

static void job_push_post(void *arg)
{
	struct push_msg *m = arg;

	if (m->at > 0) {
		outcome_schedule_raw(m->e, NULL, m->data, m->len, m->at);
		free(m->queue);
		free(m->data);
	} else {
		outcome_push(m->e, m->queue, m->data, m->len);
	}
	free(m);
}

/* A class no module handles: Sidekiq's NameError, on the handler thread like any failure. */
static enum winch_result unknown_class_perform(struct winch_job *job)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "uninitialized constant %s", job->dispatch_class);
	winch_job_set_error(job, "NameError", msg);
	return WINCH_FAIL;
}

/* A class's options fill what the payload does not say, as Sidekiq's class options do. */
static void apply_class_options(struct winch_job *job)
{
	const struct winch_class_options *o = job->def ? job->def->options : NULL;

	if (o == NULL)
		return;
	if (!job->p.retry_given && o->retry == WINCH_RETRY_NONE) {
		job->p.retry = PAYLOAD_RETRY_NONE;
	} else if (!job->p.retry_given && o->retry == WINCH_RETRY_COUNT) {
		job->p.retry = PAYLOAD_RETRY_COUNT;
		job->p.retry_max = o->retry_count < 0 ? 0 : o->retry_count;
	}
	if (!job->p.backtrace_given && o->backtrace != 0)
		job->p.backtrace = o->backtrace < 0 ? 0 : o->backtrace;
}

/* Resolve the class to dispatch by; ActiveJob jobs by their wrapped class. */
static int job_prepare(struct engine *e, struct winch_job *job, char *err, size_t errlen)
{
	struct sbuf raw;

	(void)e;
	job->dispatch_class = job->p.klass;
	if (!activejob_is_wrapper(job->p.klass))
		return 0;
	if (activejob_unwrap(job->p.args, job->p.wrapped, &job->aj, err, errlen) < 0)
		return -1;
	job->is_activejob = 1;
	job->dispatch_class = job->aj.job_class;
	sbuf_init(&raw);
	if (activejob_arguments_raw(job->p.raw + job->p.args_raw.off, job->p.args_raw.len, &raw) <
	    0) {
		sbuf_release(&raw);
		snprintf(err, errlen, "ActiveJob 'arguments' is not an array");
		return -1;
	}
	job->args_raw = sbuf_detach(&raw, &job->args_raw_len);
	return 0;
}

/* The jid to name a job by in a log line, even one whose fields are wrong. */
static const char *job_name(const struct winch_job *job)
{
	struct json_object *v;

	if (job->p.jid)
		return job->p.jid;
	if (job->p.root && json_object_object_get_ex(job->p.root, "jid", &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "(no jid)";
}

static void job_reject(struct engine *e, struct winch_job *job, const char *why)
{
	log_error("job '%s' from queue '%s' cannot run: %s; moved to the dead set", job_name(job),
		  job->queue, why);
	/* Straight to the dead set, whatever its retry options say: nothing here can retry. */
	job->p.retry = PAYLOAD_RETRY_COUNT;
	job->p.retry_max = 0;
	job->p.dead = 1;
	winch_job_set_error(job, "Winch::InvalidJob", why);
	outcome_fail_unrun(e, job, 1);
}

void engine_accept(struct engine *e, const char *queue, const char *raw, size_t len)
{
	struct winch_job *job;
	enum payload_error pe;
	char err[256];
	int idx;

	if (e->state != ENGINE_RUNNING) {
		/* Fetched after quiet or stop: straight back to the front of the line. */
		outcome_requeue_raw(e, queue, raw, len);
		return;
	}
	job = job_new();
	job->queue = xstrdup(queue);
	job->gen = e->opt->gen;
	pe = payload_parse(&job->p, raw, len, &e->opt->limits, err, sizeof(err));
	if (pe == PAYLOAD_TOO_BIG || pe == PAYLOAD_NOT_JSON || pe == PAYLOAD_NOT_OBJECT) {
		log_error("payload from queue '%s' cannot run: %s; moved to the dead set verbatim",
			  queue, err);
		outcome_dead_raw(e, queue, raw, len);
		job_free(job);
		return;
	}
	if (pe == PAYLOAD_BAD_FIELD || job_prepare(e, job, err, sizeof(err)) < 0) {
		job_reject(e, job, err);
		return;
	}
	if (job->p.has_pro_fields)
		engine_warn_once(e, "pro", job->dispatch_class,
				 "jobs of class '%s' carry Sidekiq Pro/Enterprise fields that winch "
				 "does not implement (batches, unique jobs, ...): they run without "
				 "them",
				 job->dispatch_class);
	job->def = registry_find(job->dispatch_class);
	job->fn = job->def ? job->def->fn : NULL;
	job->retry_cfg.gen = e->opt->gen;
	job->retry_cfg.max_retries = e->opt->max_retries;
	apply_class_options(job);
	if (job->fn == NULL && e->opt->unknown_class == UNKNOWN_CLASS_REQUEUE) {
		engine_warn_once(e, "unknown", job->dispatch_class,
				 "no handler for job class '%s': its jobs go back to the schedule "
				 "set for %.0f s, for a process that knows them",
				 job->dispatch_class, e->opt->unknown_class_delay);
		outcome_schedule_raw(e, queue, raw, len,
				     time_real() + e->opt->unknown_class_delay);
		job_free(job);
		return;
	}
	if (job->fn == NULL) {
		engine_warn_once(e, "unknown", job->dispatch_class,
				 "no handler for job class '%s': its jobs fail with NameError and "
				 "follow their retry rules",
				 job->dispatch_class);
		job->fn = unknown_class_perform;
	}
	idx = pool_idle(e->pool);
	if (idx < 0) {
		/* Cannot happen: fetch asks only while a thread is idle. Never lose the job. */
		log_error("BUG: job '%s' fetched with no idle thread; requeued", job->p.jid);
		outcome_requeue_raw(e, queue, raw, len);
		job_free(job);
		return;
	}
	job->slot = idx;
	job->generation = e->slots[idx].generation;
	memcpy(job->tid, e->slots[idx].tid, sizeof(job->tid));
	job->run_at = time_real();
	job->stopping = &e->stopping;
	job->push = job_push;
	job->push_ctx = e;
	e->slots[idx].job = job;
	pool_run(e->pool, idx, job_thread_run, job);
}

/* --- stopping --- */

static void engine_close(struct engine *e);

void engine_progress(struct engine *e)
{
	switch (e->state) {
	case ENGINE_RUNNING:
		fetch_kick(e);
		break;
	case ENGINE_STOPPING:
		if (pool_busy_count(e->pool) == 0)
			engine_close(e);
		break;
	case ENGINE_CLOSING:
		if (e->close_pending == 0) {
			engine_change_state(e, ENGINE_DONE);
		} else if (e->redis_down && e->outcome_pending == 0) {
			/* Nothing of a job's is waiting: only leaving the process set, which
			 * expires by itself. Do not hold the exit for it. */
			log_warn("redis unreachable at exit: the process entry expires within 60 s");
			engine_change_state(e, ENGINE_DONE);
		}
		break;
	default:
		break;
	}
}

static void on_close_grace(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct engine *e = w->data;

	(void)loop;
	(void)revents;
	if (e->state != ENGINE_CLOSING)
		return;
	if (e->outcome_pending > 0) {
		log_error("redis unreachable at exit: %ld job outcomes not written (requeues, "
			  "retries, dead, pushes); they are lost",
			  e->outcome_pending);
		e->exit_code = 1;
	} else {
		log_warn("redis unreachable at exit: stats not flushed; the process entry "
			 "expires within 60 s");
	}
	engine_change_state(e, ENGINE_DONE);
}

static void on_unregistered(struct engine *e)
{
	e->close_pending--;
	engine_progress(e);
}

/* Requeue what still runs, flush and leave the process set; DONE when Redis has it all. */
static void engine_close(struct engine *e)
{
	int i;

	engine_change_state(e, ENGINE_CLOSING);
	ev_timer_stop(e->loop, &e->stop_timer);
	for (i = 0; i < pool_size(e->pool); i++) {
		struct engine_slot *s = &e->slots[i];
		struct winch_job *job = s->job;

		if (job == NULL)
			continue;
		log_warn("job '%s' (%s) still running at the shutdown deadline: pushed back to "
			 "queue '%s'",
			 job->p.jid, job->dispatch_class, job->queue);
		outcome_requeue_raw(e, job->queue, job->p.raw, job->p.raw_len);
		/* As Sidekiq counts a job its shutdown interrupts. */
		e->processed++;
		e->failed++;
		s->generation++;
		s->job = NULL; /* the handler thread still holds it; its completion frees it */
	}
	ev_timer_set(&e->stop_timer, ENGINE_CLOSE_GRACE, 0);
	ev_set_cb(&e->stop_timer, on_close_grace);
	ev_timer_start(e->loop, &e->stop_timer);
	recovery_halt(e);
	e->close_pending++;
	recovery_unregister(e, on_unregistered);
	heartbeat_clear(e);
	engine_progress(e);
}

static void on_stop_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct engine *e = w->data;

	(void)loop;
	(void)revents;
	if (e->state == ENGINE_STOPPING)
		engine_close(e);
}

void engine_quiet(struct engine *e, const char *why)
{
	if (e->state != ENGINE_RUNNING)
		return;
	log_info("quiet (%s): finishing %d running jobs, fetching no more", why,
		 pool_busy_count(e->pool));
	engine_change_state(e, ENGINE_QUIET);
	fetch_halt(e);
	poller_halt(e);
}

void engine_stop(struct engine *e, const char *why)
{
	switch (e->state) {
	case ENGINE_RUNNING:
	case ENGINE_QUIET:
		log_info("shutting down (%s): waiting up to %.1f s for %d running jobs", why,
			 e->opt->timeout, pool_busy_count(e->pool));
		engine_change_state(e, ENGINE_STOPPING);
		fetch_halt(e);
		poller_halt(e);
		ev_timer_set(&e->stop_timer, e->opt->timeout, 0);
		ev_set_cb(&e->stop_timer, on_stop_deadline);
		ev_timer_start(e->loop, &e->stop_timer);
		engine_progress(e);
		break;
	case ENGINE_STOPPING:
		log_info("stopping now (%s): requeueing the running jobs", why);
		engine_close(e);
		break;
	default:
		log_info("already stopping (%s)", why);
	}
}

void engine_dump(struct engine *e)
{
	double now = time_real();
	int i, n = 0;

	for (i = 0; i < pool_size(e->pool); i++) {
		const struct winch_job *job = e->slots[i].job;

		if (job == NULL)
			continue;
		n++;
		log_info("thread tid=%s running job '%s' (%s) from queue '%s' for %.3f s",
			 e->slots[i].tid, job->p.jid, job->dispatch_class, job->queue,
			 now - job->run_at);
	}
	log_info("%s: %d of %d threads busy", state_names[e->state], n, pool_size(e->pool));
}

/* --- signals and Redis events --- */

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct engine *e = w->data;

	(void)loop;
	(void)revents;
	switch (w->signum) {
	case SIGTERM:
		engine_stop(e, "SIGTERM");
		break;
	case SIGINT:
		engine_stop(e, "SIGINT");
		break;
	case SIGTSTP:
		engine_quiet(e, "SIGTSTP");
		break;
	case SIGTTIN:
		engine_dump(e);
		break;
	case SIGHUP:
		log_reopen();
		log_info("SIGHUP: log reopened");
		break;
	}
}

static void on_redis_event(struct rconn *rc, enum rconn_event ev, const char *why, void *priv)
{
	struct engine *e = priv;
	char *where;

	if (ev == RCONN_DOWN) {
		if (!e->redis_down) {
			where = redis_url_describe(&e->opt->redis);
			log_warn("redis at %s unreachable (%s: %s); retrying with backoff", where,
				 rconn_name(rc), why);
			free(where);
			e->redis_down = 1;
			e->down_since = ev_now(e->loop);
		}
		return;
	}
	if (e->redis_down) {
		/* Redis answers again: the connections still in their backoff try at once. */
		rconn_retry_now(e->cmd);
		fetch_retry_now(e->fetcher);
		if (!rconn_is_up(e->cmd) || !fetch_all_up(e->fetcher)) {
			fetch_kick(e); /* the scan needs only the command connection */
			return;
		}
		log_info("redis is reachable again after %.1f s", ev_now(e->loop) - e->down_since);
		e->redis_down = 0;
		/* Before the fetch kicked below: the command connection is FIFO. */
		recovery_reconcile(e);
	}
	fetch_kick(e);
}

static void signal_watch(struct engine *e, ev_signal *w, int signum)
{
	ev_signal_init(w, on_signal, signum);
	w->data = e;
	ev_signal_start(e->loop, w);
}

int engine_init(struct engine *e, struct ev_loop *loop, struct options *opt)
{
	struct sbuf sb;
	int i;

	memset(e, 0, sizeof(*e));
	e->loop = loop;
	e->opt = opt;
	sbuf_init(&e->warned);
	keys_set_namespace(opt->namespace);
	push_set_max_depth(opt->limits.max_depth); /* handlers push what the process runs */
	procinfo_init_identity(&e->pi);
	e->pi.started_at = time_real();
	e->pi.tag = opt->tag;
	e->pi.labels = (const char *const *)opt->labels;
	e->pi.n_labels = opt->n_labels;
	e->pi.concurrency = opt->concurrency;
	e->pi.queues = &opt->queues;
	e->pi.gen = opt->gen;
	sbuf_init(&sb);
	procinfo_info_json(&e->pi, &sb);
	e->info_json = sbuf_detach(&sb, NULL);
	snprintf(e->ttl, sizeof(e->ttl), "%ld", opt->heartbeat_ttl);

	e->pool = pool_new(loop, opt->concurrency);
	if (e->pool == NULL)
		return -1;
	e->slots = xcalloc((size_t)opt->concurrency, sizeof(*e->slots));
	for (i = 0; i < opt->concurrency; i++)
		procinfo_tid(e->pi.pid, i, e->slots[i].tid, sizeof(e->slots[i].tid));

	e->cmd = rconn_new(loop, &opt->redis, "commands");
	rconn_set_max_reply(e->cmd, opt->max_reply);
	e->fetcher = fetch_new(e);
	rconn_on_event(e->cmd, on_redis_event, e);
	fetch_on_event(e->fetcher, on_redis_event, e);

	ev_init(&e->stop_timer, on_stop_deadline);
	e->stop_timer.data = e;
	signal_watch(e, &e->sig_term, SIGTERM);
	signal_watch(e, &e->sig_int, SIGINT);
	signal_watch(e, &e->sig_tstp, SIGTSTP);
	signal_watch(e, &e->sig_ttin, SIGTTIN);
	signal_watch(e, &e->sig_hup, SIGHUP);
	return 0;
}

int engine_run(struct engine *e)
{
	char *where = redis_url_describe(&e->opt->redis);

	log_info("%s starting: identity %s, concurrency %d, redis %s%s%s, Sidekiq %d format",
		 options_version_string(), e->pi.identity, e->opt->concurrency, where,
		 *keys_namespace() ? ", namespace " : "", keys_namespace(), (int)e->opt->gen);
	free(where);
	rconn_start(e->cmd);
	recovery_register(e); /* queued first: before any fetch */
	fetch_start(e->fetcher);
	recovery_start(e);
	heartbeat_start(e);
	poller_start(e);
	ev_run(e->loop, 0);
	log_info("stopped");
	return e->exit_code;
}

void engine_release(struct engine *e)
{
	ev_timer_stop(e->loop, &e->stop_timer);
	ev_timer_stop(e->loop, &e->beat_timer);
	ev_timer_stop(e->loop, &e->poll_timer);
	recovery_halt(e);
	ev_signal_stop(e->loop, &e->sig_term);
	ev_signal_stop(e->loop, &e->sig_int);
	ev_signal_stop(e->loop, &e->sig_tstp);
	ev_signal_stop(e->loop, &e->sig_ttin);
	ev_signal_stop(e->loop, &e->sig_hup);
	fetch_free(e->fetcher);
	rconn_free(e->cmd);
	pool_free(e->pool);
	free(e->slots);
	free(e->info_json);
	sbuf_release(&e->warned);
}
