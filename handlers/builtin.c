/* builtin: Winch::Noop, Echo, Fail, Sleep and Digest, for tests, the demo and benchmarks. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "builtin.h"
#include "jsonraw.h"
#include "util.h"
#include "banned.h"

#define ECHO_MAX_ARGS 4096

static enum winch_result arg_error(struct winch_job *job, const char *msg)
{
	winch_job_set_error(job, "ArgumentError", msg);
	return WINCH_FAIL;
}

static enum winch_result noop_perform(struct winch_job *job)
{
	(void)job;
	return WINCH_OK;
}

/*
 * Enqueue Winch::EchoReply on reply_queue with args [jid, <elements first.. of this job's
 * args, byte for byte>].
 */
static enum winch_result reply(struct winch_job *job, const char *reply_queue, int first)
{
	struct jsonraw_span el[ECHO_MAX_ARGS];
	const char *raw;
	size_t rawlen;
	struct sbuf args;
	int n, i, rc;

	raw = winch_job_args_raw(job, &rawlen);
	n = jsonraw_elements(raw, rawlen, el, ECHO_MAX_ARGS);
	if (n < 0 || n > ECHO_MAX_ARGS)
		return arg_error(job, "args must be an array of at most 4096 elements");
	sbuf_init(&args);
	sbuf_addc(&args, '[');
	sbuf_add_json_string(&args, winch_job_jid(job), strlen(winch_job_jid(job)));
	for (i = first; i < n; i++) {
		sbuf_addc(&args, ',');
		sbuf_add(&args, raw + el[i].off, el[i].len);
	}
	sbuf_addc(&args, ']');
	rc = winch_job_enqueue(job, "Winch::EchoReply", reply_queue, sbuf_str(&args), NULL);
	sbuf_release(&args);
	if (rc < 0)
		return arg_error(job, "cannot build the reply job");
	return WINCH_OK;
}

static enum winch_result echo_perform(struct winch_job *job)
{
	struct json_object *args = winch_job_args(job), *q;

	q = json_object_array_length(args) > 0 ? json_object_array_get_idx(args, 0) : NULL;
	if (q == NULL || !json_object_is_type(q, json_type_string) ||
	    json_object_get_string_len(q) == 0)
		return arg_error(job, "Winch::Echo needs args [reply_queue, *rest] with a queue name");
	return reply(job, json_object_get_string(q), 1);
}

static enum winch_result fail_perform(struct winch_job *job)
{
	struct json_object *args = winch_job_args(job);
	struct json_object *cls = json_object_array_get_idx(args, 0);
	struct json_object *msg = json_object_array_get_idx(args, 1);
	size_t n = json_object_array_length(args);
	char line[96];

	if (n != 2) {
		/* As Ruby's perform(error_class, message) called with the wrong arity. */
		snprintf(line, sizeof(line), "wrong number of arguments (given %zu, expected 2)", n);
		return arg_error(job, line);
	}
	winch_job_set_error(job,
			    cls && json_object_is_type(cls, json_type_string)
				    ? json_object_get_string(cls)
				    : "RuntimeError",
			    msg && json_object_is_type(msg, json_type_string)
				    ? json_object_get_string(msg)
				    : "Winch::Fail");
	snprintf(line, sizeof(line), "handlers/builtin.c:%d:in `Winch::Fail#perform'", __LINE__);
	winch_job_add_backtrace(job, line);
	winch_job_add_backtrace(job, "handlers/job.c:in `job_execute'");
	return WINCH_FAIL;
}

static enum winch_result sleep_perform(struct winch_job *job)
{
	struct json_object *args = winch_job_args(job);
	struct json_object *ms = json_object_array_get_idx(args, 0);
	struct json_object *q = json_object_array_get_idx(args, 1);
	struct timespec ts;
	double d;
	int64_t v;

	if (ms == NULL || !(json_object_is_type(ms, json_type_int) ||
			    json_object_is_type(ms, json_type_double)))
		return arg_error(job, "Winch::Sleep needs args [milliseconds, reply_queue?, *rest]");
	d = json_object_get_double(ms);
	/* A double out of int64_t's range must not reach the cast: that is undefined. */
	if (json_object_is_type(ms, json_type_double) && !(d > -1.0 && d < 86400001.0))
		return arg_error(job, "Winch::Sleep milliseconds must be from 0 to 86400000");
	v = json_object_is_type(ms, json_type_int) ? json_object_get_int64(ms) : (int64_t)d;
	if (v < 0 || v > 86400000)
		return arg_error(job, "Winch::Sleep milliseconds must be from 0 to 86400000");
	ts.tv_sec = (time_t)(v / 1000);
	ts.tv_nsec = (long)(v % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	if (q == NULL || json_object_is_type(q, json_type_null))
		return WINCH_OK;
	if (!json_object_is_type(q, json_type_string) || json_object_get_string_len(q) == 0)
		return arg_error(job, "Winch::Sleep reply_queue must be a queue name or null");
	return reply(job, json_object_get_string(q), 2);
}

/*
 * SHA-256, looked up once: with the implicit lookup of EVP_sha256() in every
 * EVP_DigestInit_ex, OpenSSL 3 takes a shared lock per round, and two threads hashing spent
 * a third of their time on it (bench/run.sh: -c 2 ran slower than -c 1).
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static enum winch_result digest_perform(struct winch_job *job)
{
	static const char hex[] = "0123456789abcdef";
	struct json_object *args = winch_job_args(job);
	struct json_object *data = json_object_array_get_idx(args, 0);
	struct json_object *rounds = json_object_array_get_idx(args, 1);
	unsigned char md[EVP_MAX_MD_SIZE];
	char d[2 * 32 + 1];
	const char *in;
	size_t inlen;
	unsigned int mdlen, k;
	int64_t n, i;
	EVP_MD_CTX *ctx;
	enum winch_result res = WINCH_OK;

	if (data == NULL || !json_object_is_type(data, json_type_string) || rounds == NULL ||
	    !json_object_is_type(rounds, json_type_int))
		return arg_error(job, "Winch::Digest needs args [data, rounds]");
	n = json_object_get_int64(rounds);
	if (n < 0 || n > 100000000)
		return arg_error(job, "Winch::Digest rounds must be from 0 to 100000000");
	pthread_once(&sha256_once, sha256_fetch);
	ctx = sha256_md ? EVP_MD_CTX_new() : NULL;
	in = json_object_get_string(data);
	inlen = (size_t)json_object_get_string_len(data);
	for (i = 0; i < n; i++) {
		if (ctx == NULL || EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, in, inlen) != 1 ||
		    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
			winch_job_set_error(job, "OpenSSL::Digest::DigestError", "SHA-256 failed");
			res = WINCH_FAIL;
			break;
		}
		for (k = 0; k < mdlen && k < 32; k++) {
			d[2 * k] = hex[md[k] >> 4];
			d[2 * k + 1] = hex[md[k] & 15];
		}
		d[2 * k] = '\0';
		in = d;
		inlen = 2 * k;
	}
	EVP_MD_CTX_free(ctx);
	return res;
}

const struct winch_handler_def builtin_handlers[] = {
	{"Winch::Noop", noop_perform, NULL},
	{"Winch::Echo", echo_perform, NULL},
	{"Winch::Fail", fail_perform, NULL},
	{"Winch::Sleep", sleep_perform, NULL},
	{"Winch::Digest", digest_perform, NULL},
	{NULL, NULL, NULL},
};
