/*
 * ctl_stats: the dashboard numbers and the queue list, read with the commands Sidekiq 6.4.1's
 * Stats and Queue use (one pipeline for the counters, SSCAN for `processes` and `queues`).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "client.h"
#include "ctl_stats.h"
#include "ctl_table.h"
#include "jsonraw.h"
#include "banned.h"

/* The most queue or process names read from their sets. */
#define MAX_NAMES 100000

double ctl_stats_latency(const char *job, size_t len, double now)
{
	struct jsonraw_span v;
	double t;

	if (job == NULL || jsonraw_find(job, len, "enqueued_at", &v) != 1)
		return 0;
	if (ts_parse_text(job + v.off, v.len, &t) < 0)
		return 0; /* null, or not a number */
	return now - t;
}

/* The latency of an LRANGE key -1 -1 reply. */
static double reply_latency(const redisReply *r, double now)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return 0;
	return ctl_stats_latency(r->element[0]->str, r->element[0]->len, now);
}

/* Append "<cmd> <key(name)> [rest...]" built from printf-free parts. */
static int append_key_cmd(struct winch_client *c, const char *verb, const char *name,
			  const char *arg1, const char *arg2, int queue_key)
{
	struct client_cmd cmd;
	struct sbuf key;
	int rc;

	sbuf_init(&key);
	if (queue_key)
		client_key_queue(c, &key, name);
	else
		client_key(c, &key, name);
	client_cmd_init(&cmd);
	client_cmd_adds(&cmd, verb);
	client_cmd_add(&cmd, key.buf, key.len);
	if (arg1)
		client_cmd_adds(&cmd, arg1);
	if (arg2)
		client_cmd_adds(&cmd, arg2);
	rc = client_append(c, &cmd);
	client_cmd_release(&cmd);
	sbuf_release(&key);
	return rc;
}

/* Read n replies into out (caller frees each); -1 if the connection failed or one is an error. */
static int read_replies(struct winch_client *c, redisReply **out, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		out[i] = client_read(c);
		if (out[i] == NULL) {
			for (; i < n; i++)
				out[i] = NULL;
			return -1;
		}
		if (rc == 0 && client_reply_check(c, out[i]) < 0)
			rc = -1;
	}
	return rc;
}

static void free_replies(redisReply **r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		client_reply_free(r[i]);
}

struct stats {
	long long processed, failed, scheduled, retries, dead, processes, busy, enqueued;
	double latency;
};

/* Stats#fetch_stats_fast!: one pipeline of seven commands. */
static int stats_fast(struct ctl *ctl, struct stats *st)
{
	struct winch_client *c = ctl->client;
	redisReply *r[7];
	int rc;

	if (client_begin(c) < 0 || append_key_cmd(c, "GET", "stat:processed", NULL, NULL, 0) < 0 ||
	    append_key_cmd(c, "GET", "stat:failed", NULL, NULL, 0) < 0 ||
	    append_key_cmd(c, "ZCARD", "schedule", NULL, NULL, 0) < 0 ||
	    append_key_cmd(c, "ZCARD", "retry", NULL, NULL, 0) < 0 ||
	    append_key_cmd(c, "ZCARD", "dead", NULL, NULL, 0) < 0 ||
	    append_key_cmd(c, "SCARD", "processes", NULL, NULL, 0) < 0 ||
	    append_key_cmd(c, "LRANGE", "default", "-1", "-1", 1) < 0)
		return -1;
	rc = read_replies(c, r, 7);
	if (rc == 0) {
		st->processed = client_reply_ll(r[0]);
		st->failed = client_reply_ll(r[1]);
		st->scheduled = client_reply_ll(r[2]);
		st->retries = client_reply_ll(r[3]);
		st->dead = client_reply_ll(r[4]);
		st->processes = client_reply_ll(r[5]);
		st->latency = reply_latency(r[6], time_real());
	}
	free_replies(r, 7);
	return rc;
}

/* Stats#fetch_stats_slow!: busy summed over `processes`, enqueued over `queues`. */
static int stats_slow(struct ctl *ctl, struct stats *st)
{
	struct winch_client *c = ctl->client;
	struct client_strings procs, queues;
	redisReply *r;
	size_t i;
	int rc = -1;

	client_strings_init(&procs);
	client_strings_init(&queues);
	if (client_sscan(c, "processes", &procs, MAX_NAMES) < 0 ||
	    client_sscan(c, "queues", &queues, MAX_NAMES) < 0 || client_begin(c) < 0)
		goto out;
	for (i = 0; i < procs.n; i++) {
		if (append_key_cmd(c, "HGET", procs.v[i], "busy", NULL, 0) < 0)
			goto out;
	}
	for (i = 0; i < queues.n; i++) {
		if (append_key_cmd(c, "LLEN", queues.v[i], NULL, NULL, 1) < 0)
			goto out;
	}
	rc = 0;
	for (i = 0; i < procs.n + queues.n; i++) {
		r = client_read(c);
		if (r == NULL || client_reply_check(c, r) < 0) {
			client_reply_free(r);
			rc = -1;
			break;
		}
		if (i < procs.n)
			st->busy += client_reply_ll(r);
		else
			st->enqueued += client_reply_ll(r);
		client_reply_free(r);
	}
out:
	client_strings_release(&procs);
	client_strings_release(&queues);
	return rc;
}

static void stats_print(struct ctl *ctl, const struct stats *st)
{
	static const char *const headers[] = {"STAT", ">VALUE"};
	struct ctl_table t;
	struct ctl_json j;
	struct sbuf sb;

	sbuf_init(&sb);
	if (ctl->args->json) {
		/* Sidekiq::Stats's own names. */
		ctl_json_init(&j, &sb);
		ctl_json_begin_object(&j, NULL);
		ctl_json_int(&j, "processed", st->processed);
		ctl_json_int(&j, "failed", st->failed);
		ctl_json_int(&j, "scheduled_size", st->scheduled);
		ctl_json_int(&j, "retry_size", st->retries);
		ctl_json_int(&j, "dead_size", st->dead);
		ctl_json_int(&j, "processes_size", st->processes);
		ctl_json_double(&j, "default_queue_latency", st->latency);
		ctl_json_int(&j, "workers_size", st->busy);
		ctl_json_int(&j, "enqueued", st->enqueued);
		ctl_json_end_object(&j);
		sbuf_addc(&sb, '\n');
	} else {
		ctl_table_init(&t, headers, 2);
		ctl_table_cell(&t, "Processed");
		ctl_table_cell(&t, "%lld", st->processed);
		ctl_table_cell(&t, "Failed");
		ctl_table_cell(&t, "%lld", st->failed);
		ctl_table_cell(&t, "Enqueued");
		ctl_table_cell(&t, "%lld", st->enqueued);
		ctl_table_cell(&t, "Retries");
		ctl_table_cell(&t, "%lld", st->retries);
		ctl_table_cell(&t, "Scheduled");
		ctl_table_cell(&t, "%lld", st->scheduled);
		ctl_table_cell(&t, "Dead");
		ctl_table_cell(&t, "%lld", st->dead);
		ctl_table_cell(&t, "Processes");
		ctl_table_cell(&t, "%lld", st->processes);
		ctl_table_cell(&t, "Busy");
		ctl_table_cell(&t, "%lld", st->busy);
		ctl_table_cell(&t, "Default latency");
		ctl_table_cell(&t, "%.2fs", st->latency);
		ctl_table_render(&t, &sb);
		ctl_table_release(&t);
	}
	ctl_print(ctl, &sb, 0);
	sbuf_release(&sb);
}

int ctl_stats_show(struct ctl *ctl)
{
	struct stats st;

	if (ctl->args->n_words > 0)
		return ctl_fail(ctl, CTL_EXIT_USAGE, "stats: '%s': unexpected word",
				ctl->args->words[0]);
	memset(&st, 0, sizeof(st));
	if (stats_fast(ctl, &st) < 0 || stats_slow(ctl, &st) < 0)
		return ctl_client_failed(ctl);
	stats_print(ctl, &st);
	return CTL_EXIT_OK;
}

static void queues_print(struct ctl *ctl, const struct client_strings *names,
			 const long long *sizes, const double *latencies)
{
	static const char *const headers[] = {"QUEUE", ">SIZE", ">LATENCY"};
	struct ctl_table t;
	struct ctl_json j;
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb);
	if (ctl->args->json) {
		ctl_json_init(&j, &sb);
		ctl_json_begin_array(&j, NULL);
		for (i = 0; i < names->n; i++) {
			ctl_json_begin_object(&j, NULL);
			ctl_json_stringn(&j, "name", names->v[i], names->lens[i]);
			ctl_json_int(&j, "size", sizes[i]);
			ctl_json_double(&j, "latency", latencies[i]);
			ctl_json_end_object(&j);
		}
		ctl_json_end_array(&j);
		sbuf_addc(&sb, '\n');
	} else {
		ctl_table_init(&t, headers, 3);
		for (i = 0; i < names->n; i++) {
			ctl_table_cell(&t, "%s", names->v[i]);
			ctl_table_cell(&t, "%lld", sizes[i]);
			ctl_table_cell(&t, "%.2fs", latencies[i]);
		}
		ctl_table_render(&t, &sb);
		ctl_table_release(&t);
	}
	ctl_print(ctl, &sb, 0);
	sbuf_release(&sb);
}

int ctl_stats_queues(struct ctl *ctl)
{
	struct winch_client *c = ctl->client;
	struct client_strings names;
	redisReply *r[2];
	long long *sizes = NULL;
	double *latencies = NULL, now;
	size_t i;
	int rc = CTL_EXIT_OK;

	if (ctl->args->n_words > 0)
		return ctl_fail(ctl, CTL_EXIT_USAGE, "queues: '%s': unexpected word",
				ctl->args->words[0]);
	client_strings_init(&names);
	if (client_sscan(c, "queues", &names, MAX_NAMES) < 0 || client_begin(c) < 0)
		goto failed;
	client_strings_sort(&names); /* Queue.all sorts by name */
	for (i = 0; i < names.n; i++) {
		if (append_key_cmd(c, "LLEN", names.v[i], NULL, NULL, 1) < 0 ||
		    append_key_cmd(c, "LRANGE", names.v[i], "-1", "-1", 1) < 0)
			goto failed;
	}
	sizes = xcalloc(names.n + 1, sizeof(*sizes));
	latencies = xcalloc(names.n + 1, sizeof(*latencies));
	for (i = 0; i < names.n; i++) {
		if (read_replies(c, r, 2) < 0) {
			free_replies(r, 2);
			goto failed;
		}
		now = time_real();
		sizes[i] = client_reply_ll(r[0]);
		latencies[i] = reply_latency(r[1], now);
		free_replies(r, 2);
	}
	queues_print(ctl, &names, sizes, latencies);
	goto out;
failed:
	rc = ctl_client_failed(ctl);
out:
	free(sizes);
	free(latencies);
	client_strings_release(&names);
	return rc;
}
