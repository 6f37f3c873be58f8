/* job: the handler-facing accessors of struct winch_job, and running a handler. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "job.h"
#include "log.h"
#include "banned.h"

struct winch_job *job_new(void)
{
	struct winch_job *j = xcalloc(1, sizeof(*j));

	payload_init(&j->p);
	j->slot = -1;
	return j;
}

void job_free(struct winch_job *j)
{
	size_t i;

	if (j == NULL)
		return;
	payload_release(&j->p);
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

void job_execute(struct winch_job *j)
{
	double t0 = time_mono();

	j->result = j->fn(j);
	j->elapsed = time_mono() - t0;
	if (j->result != WINCH_OK && j->result != WINCH_FAIL && j->result != WINCH_REQUEUE) {
		winch_job_set_error(j, "Winch::BadResult", "handler returned an unknown result");
		j->result = WINCH_FAIL;
	}
	if (j->result == WINCH_FAIL && j->error_class == NULL)
		winch_job_set_error(j, "RuntimeError", "handler failed");
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

int winch_job_enqueue(struct winch_job *job, const char *class_name, const char *queue,
		      const char *args_json, char *jid_out)
{
	struct sbuf sb;
	char *data;
	size_t len;

	if (class_name == NULL || *class_name == '\0' || queue == NULL || *queue == '\0' ||
	    args_json == NULL)
		return -1;
	sbuf_init(&sb);
	if (payload_build(&sb, class_name, queue, args_json, strlen(args_json), time_real(),
			  job->gen, jid_out) < 0) {
		sbuf_release(&sb);
		return -1;
	}
	data = sbuf_detach(&sb, &len);
	job->push(job->push_ctx, xstrdup(queue), data, len);
	return 0;
}

void winch_job_log(const struct winch_job *job, const char *fmt, ...)
{
	struct log_ctx ctx = {job->tid, job->dispatch_class, job->p.jid, NULL};
	va_list ap;

	if (LOG_INFO > log_current_level)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_INFO, &ctx, fmt, ap);
	va_end(ap);
}
