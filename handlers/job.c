/* job: the handler-facing accessors of struct winch_job, and running a handler. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "job.h"
#include "jsonraw.h"
#include "push.h"
#include "log.h"
#include "registry.h"
#include "banned.h"

struct winch_job *job_new(void)
{
	struct winch_job *j = xcalloc(1, sizeof(*j));

	payload_init(&j->p);
	retry_outcome_init(&j->outcome);
	j->slot = -1;
	return j;
}

void job_free(struct winch_job *j)
{
	size_t i;

	if (j == NULL)
		return;
	payload_release(&j->p);
	retry_outcome_release(&j->outcome);
	free(j->queue);
	if (j->aj.arguments)
		json_object_put(j->aj.arguments);
	free(j->args_raw);
	free(j->error_class);
	free(j->error_message);
	for (i = 0; i < j->backtrace_n; i++)
		free(j->backtrace[i]);
	free(j->backtrace);
	free(j);
}

/* The class's retry_in: -1 for Sidekiq's formula, else the delay; *force for kill/discard. */
static int class_delay(struct winch_job *j, int count, int *force)
{
	const struct winch_class_options *o = j->def ? j->def->options : NULL;
	int r;

	*force = 0;
	if (o == NULL || o->retry_in == NULL)
		return -1;
	r = o->retry_in(j, count, j->error_class, j->error_message);
	if (r == WINCH_RETRY_KILL || r == WINCH_RETRY_DISCARD) {
		*force = r;
		return -1;
	}
	return r > 0 ? r : -1;
}

int job_decide_failure(struct winch_job *j, int run_hooks)
{
	const struct winch_class_options *o = j->def ? j->def->options : NULL;
	struct retry_failure f;
	int count = j->p.has_retry_count ? j->p.retry_count + 1 : 0;
	int force = 0;

	memset(&f, 0, sizeof(f));
	f.error_class = j->error_class;
	f.message = j->error_message;
	f.backtrace = (const char *const *)j->backtrace;
	f.backtrace_n = j->backtrace_n;
	f.fetched_queue = j->queue;
	f.delay_override = run_hooks ? class_delay(j, count, &force) : -1;
	if (retry_apply(&j->p, &f, &j->retry_cfg, time_real(), rand_below, &j->outcome) < 0)
		return -1;
	if (force == WINCH_RETRY_KILL) {
		j->outcome.action = RETRY_ACTION_DEAD;
		j->outcome.score = time_real();
	} else if (force == WINCH_RETRY_DISCARD) {
		j->outcome.action = RETRY_ACTION_DISCARD;
	} else if (run_hooks && j->outcome.action != RETRY_ACTION_RETRY && o && o->exhausted &&
		   o->exhausted(j, j->error_class, j->error_message) == WINCH_RETRY_DISCARD) {
		j->outcome.action = RETRY_ACTION_DISCARD;
	}
	if (run_hooks && j->outcome.action != RETRY_ACTION_RETRY)
		registry_run_death_hooks(j, j->error_class, j->error_message);
	j->outcome_ready = 1;
	return 0;
}

void job_execute(struct winch_job *j)
{
	double t0 = time_mono();

	j->result = j->fn(j);
	j->elapsed = time_mono() - t0;
	if (j->result != WINCH_OK && j->result != WINCH_FAIL && j->result != WINCH_REQUEUE) {
		winch_job_set_error(j, "Winch::BadResult", "handler returned an unknown result");
		j->result = WINCH_FAIL;
	}
	if (j->result == WINCH_REQUEUE && !winch_job_stopping(j)) {
		/* It would be fetched again at once by this very process: a failure instead. */
		winch_job_set_error(j, "Winch::BadResult",
				    "handler returned WINCH_REQUEUE while the process is not stopping");
		j->result = WINCH_FAIL;
	}
	if (j->result != WINCH_FAIL)
		return;
	if (j->error_class == NULL)
		winch_job_set_error(j, "RuntimeError", "handler failed");
	registry_run_error_hooks(j, j->error_class, j->error_message);
	if (job_decide_failure(j, 1) < 0)
		j->outcome_ready = 0; /* the loop sends the payload to the dead set verbatim */
}

const char *winch_job_jid(const struct winch_job *job)
{
	return job->p.jid;
}

const char *winch_job_class(const struct winch_job *job)
{
	return job->dispatch_class;
}

const char *winch_job_queue(const struct winch_job *job)
{
	return job->queue;
}

struct json_object *winch_job_args(const struct winch_job *job)
{
	return job->is_activejob ? job->aj.arguments : job->p.args;
}

const char *winch_job_args_raw(const struct winch_job *job, size_t *len)
{
	if (job->args_raw) {
		*len = job->args_raw_len;
		return job->args_raw;
	}
	*len = job->p.args_raw.len;
	return job->p.raw + job->p.args_raw.off;
}

const char *winch_job_payload(const struct winch_job *job, size_t *len)
{
	*len = job->p.raw_len;
	return job->p.raw;
}

int winch_job_retry_count(const struct winch_job *job)
{
	return job->p.has_retry_count ? job->p.retry_count : -1;
}

double winch_job_created_at(const struct winch_job *job)
{
	return job->p.created_at;
}

double winch_job_enqueued_at(const struct winch_job *job)
{
	return job->p.enqueued_at;
}

const char *winch_job_aj_job_id(const struct winch_job *job)
{
	return job->is_activejob ? job->aj.job_id : NULL;
}

long winch_job_aj_executions(const struct winch_job *job)
{
	return job->is_activejob ? job->aj.executions : -1;
}

const char *winch_job_aj_locale(const struct winch_job *job)
{
	return job->is_activejob ? job->aj.locale : NULL;
}

int winch_job_stopping(const struct winch_job *job)
{
	return job->stopping ? *job->stopping : 0;
}

void winch_job_set_error(struct winch_job *job, const char *error_class, const char *message)
{
	free(job->error_class);
	free(job->error_message);
	job->error_class = xstrdup(error_class && *error_class ? error_class : "RuntimeError");
	job->error_message = xstrdup(message ? message : "");
}

void winch_job_add_backtrace(struct winch_job *job, const char *line)
{
	job->backtrace = xrealloc(job->backtrace, sizeof(*job->backtrace) * (job->backtrace_n + 1));
	job->backtrace[job->backtrace_n++] = xstrdup(line);
}

/* Build one push's payload into out (push.c, as the C client does); *at_out: when, or 0. */
static int build_push(struct winch_job *job, const struct winch_push *push, struct sbuf *out,
		      char *jid, double *at_out)
{
	char err[256];
	double now = time_real();

	if (push_check(push->class_name, push->queue, push->args_json, push->options, err,
		       sizeof(err)) < 0) {
		winch_job_log_at(job, WINCH_LOG_ERROR, "cannot push a '%s' job: %s",
				 push->class_name ? push->class_name : "(no class)", err);
		return -1;
	}
	*at_out = push_when(push->options, 0, now);
	return push_build(out, push->class_name, push->queue, push->args_json, push->options,
			  *at_out, now, job->gen, jid);
}

int winch_job_push_bulk(struct winch_job *job, const struct winch_push *pushes, size_t n,
			char *jids_out)
{
	struct sbuf *bufs = xcalloc(n + 1, sizeof(*bufs));
	double *ats = xcalloc(n + 1, sizeof(*ats));
	char jid[25];
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		sbuf_init(&bufs[i]);
		rc = build_push(job, &pushes[i], &bufs[i], jid, &ats[i]);
		if (rc == 0 && jids_out)
			memcpy(jids_out + 25 * i, jid, 25);
	}
	for (i = 0; i < n; i++) {
		if (rc == 0) {
			const char *q = push_queue(pushes[i].queue);
			size_t len;
			char *data = sbuf_detach(&bufs[i], &len);

			job->push(job->push_ctx, xstrdup(q), data, len, ats[i]);
		}
		sbuf_release(&bufs[i]);
	}
	free(bufs);
	free(ats);
	return rc;
}

int winch_job_push(struct winch_job *job, const struct winch_push *push, char *jid_out)
{
	return winch_job_push_bulk(job, push, 1, jid_out);
}

int winch_job_enqueue(struct winch_job *job, const char *class_name, const char *queue,
		      const char *args_json, char *jid_out)
{
	struct winch_push p = {class_name, queue, args_json, NULL};

	if (queue == NULL || *queue == '\0' || args_json == NULL)
		return -1;
	return winch_job_push(job, &p, jid_out);
}

static void job_vlog(const struct winch_job *job, enum winch_log_level level, const char *fmt,
		     va_list ap)
{
	struct log_ctx ctx = {job->tid, job->dispatch_class, job->p.jid, NULL};
	enum log_level l = level <= WINCH_LOG_DEBUG ? (enum log_level)level : LOG_DEBUG;

	if (l > log_current_level)
		return;
	log_vwrite(l, &ctx, fmt, ap);
}

void winch_job_log(const struct winch_job *job, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	job_vlog(job, WINCH_LOG_INFO, fmt, ap);
	va_end(ap);
}

void winch_job_log_at(const struct winch_job *job, enum winch_log_level level, const char *fmt,
		      ...)
{
	va_list ap;

	va_start(ap, fmt);
	job_vlog(job, level, fmt, ap);
	va_end(ap);
}
