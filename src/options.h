/*
 * options: winch's settings from its flags (Sidekiq's own: -c -q -t -g -e -C -v -V -h, plus
 * winch's) and the environment (RAILS_MAX_THREADS, REDIS_URL or the variable REDIS_PROVIDER
 * names, RAILS_ENV). Flags win over the environment.
 */
#ifndef WINCH_OPTIONS_H
#define WINCH_OPTIONS_H

#include <stdio.h>

#include "log.h"
#include "payload.h"
#include "queues.h"
#include "redisurl.h"
#include "timestamp.h"
#include "util.h"

enum unknown_class_policy {
	UNKNOWN_CLASS_FAIL,    /* NameError, the retry path, as Sidekiq */
	UNKNOWN_CLASS_REQUEUE, /* back into the schedule set a few seconds ahead */
};

/*
 * Room a reply needs besides the jobs it carries (RESP framing, an error reply): --max-reply
 * is at least --max-payload + this, and a fetch connection's limit is --max-payload + this.
 */
#define OPTIONS_REPLY_SLACK 4096

/* What options_parse() tells main to do. */
enum options_action {
	OPTIONS_RUN,     /* start the worker */
	OPTIONS_EXIT_OK, /* -h or -V printed; exit 0 */
	OPTIONS_EXIT_BAD /* a bad flag or value; one line printed; exit 2 */
};

struct options {
	int concurrency;
	struct queues queues;
	double timeout;         /* -t, seconds */
	char *tag;              /* owned; "" when none */
	char *environment;      /* owned or NULL */
	char **labels;          /* owned */
	int n_labels;
	enum log_level log_level;
	enum log_format log_format;
	char *logfile;          /* owned or NULL */
	enum sidekiq_gen gen;
	double poll_interval;   /* average_scheduled_poll_interval */
	int poll_interval_given;
	struct redis_url redis;
	char *redis_url_text;   /* owned: what the URL came from, for messages */
	char *namespace;        /* owned or NULL */
	enum unknown_class_policy unknown_class;
	double unknown_class_delay; /* seconds ahead when requeued */
	struct payload_limits limits;
	size_t max_reply;       /* --max-reply: the largest reply read from Redis, in bytes */
	int max_retries;
	int max_recoveries;     /* a job recovered from dead processes more often is a poison pill */
	long heartbeat_ttl;     /* seconds the <identity> hash lives after a beat (Sidekiq: 60) */
	double recovery_interval; /* seconds between recovery rounds */
	long dead_max_jobs;
	long dead_timeout;
	double beat_interval;   /* seconds between heartbeats */
	char **modules;         /* owned: -M paths, in order */
	int n_modules;
	char *handlers_dir;     /* owned or NULL: --handlers */
};

void options_init(struct options *cfg);
void options_release(struct options *cfg);

/*
 * Read argv and the environment (getenv) into cfg. Prints help/version to out, and one
 * line naming the bad flag or value to err. Returns what to do next.
 */
enum options_action options_parse(struct options *cfg, int argc, char **argv, FILE *out, FILE *err);

/* "winch 0.1.0 (commit abc123)" */
const char *options_version_string(void);

#endif
