/*
 * argprobe: a test handler module. ArgProbeJob replies with what the handler API shows it,
 * as one ArgProbeReply job on queue "probes" whose only argument is an object:
 *
 *   {"args": winch_job_args, "args_raw": "<winch_job_args_raw, as a string>",
 *    "payload": "<winch_job_payload>", "jid", "class", "queue", "retry_count",
 *    "created_at", "enqueued_at", "aj_job_id", "aj_executions", "aj_locale"}
 *
 * Built by tests/interop/test_modules_activejob.rb against a staged install, as a user would.
 */
#include <json-c/json.h>
#include <winch/winch.h>

static struct json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static enum winch_result probe_perform(struct winch_job *job)
{
	struct json_object *reply = json_object_new_object();
	struct json_object *reply_args = json_object_new_array();
	struct json_object *args = NULL;
	const char *text;
	size_t len;
	int rc;

	/* A copy: the job's json-c tree is borrowed, and adding it here would change it. */
	if (json_object_deep_copy(winch_job_args(job), &args, NULL) < 0) {
		winch_job_set_error(job, "RuntimeError", "cannot copy the args");
		json_object_put(reply);
		json_object_put(reply_args);
		return WINCH_FAIL;
	}
	json_object_object_add(reply, "args", args);
	text = winch_job_args_raw(job, &len);
	json_object_object_add(reply, "args_raw", json_object_new_string_len(text, (int)len));
	text = winch_job_payload(job, &len);
	json_object_object_add(reply, "payload", json_object_new_string_len(text, (int)len));
	json_object_object_add(reply, "jid", string_or_null(winch_job_jid(job)));
	json_object_object_add(reply, "class", string_or_null(winch_job_class(job)));
	json_object_object_add(reply, "queue", string_or_null(winch_job_queue(job)));
	json_object_object_add(reply, "retry_count",
			       json_object_new_int(winch_job_retry_count(job)));
	json_object_object_add(reply, "created_at",
			       json_object_new_double(winch_job_created_at(job)));
	json_object_object_add(reply, "enqueued_at",
			       json_object_new_double(winch_job_enqueued_at(job)));
	json_object_object_add(reply, "aj_job_id", string_or_null(winch_job_aj_job_id(job)));
	json_object_object_add(reply, "aj_executions",
			       json_object_new_int64(winch_job_aj_executions(job)));
	json_object_object_add(reply, "aj_locale", string_or_null(winch_job_aj_locale(job)));
	json_object_array_add(reply_args, reply);

	text = json_object_to_json_string_ext(reply_args, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = winch_job_enqueue(job, "ArgProbeReply", "probes", text, NULL);
	json_object_put(reply_args);
	if (rc < 0) {
		winch_job_set_error(job, "RuntimeError", "cannot enqueue ArgProbeReply");
		return WINCH_FAIL;
	}
	return WINCH_OK;
}

static const struct winch_handler_def probe_handlers[] = {
	{"ArgProbeJob", probe_perform, NULL},
	{NULL, NULL, NULL},
};

WINCH_MODULE("argprobe", probe_handlers, NULL, NULL, NULL);
