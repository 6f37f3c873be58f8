/* options: parse winch's flags and environment into struct options, refusing bad values by name. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "rconn.h"
#include "banned.h"

enum long_only_opts {
	OPT_SIDEKIQ = 256,
	OPT_POLL_INTERVAL,
	OPT_LOG_FORMAT,
	OPT_LOG_LEVEL,
	OPT_LOGFILE,
	OPT_NAMESPACE,
	OPT_UNKNOWN_CLASS,
	OPT_MAX_PAYLOAD,
	OPT_MAX_DEPTH,
	OPT_MAX_REPLY,
	OPT_MAX_RETRIES,
	OPT_DEAD_MAX_JOBS,
	OPT_DEAD_TIMEOUT,
	OPT_LABEL,
	OPT_BEAT_INTERVAL,
	OPT_HANDLERS,
	OPT_MAX_RECOVERIES,
	OPT_HEARTBEAT_TTL,
	OPT_RECOVERY_INTERVAL,
};

static const struct option long_opts[] = {
	{"concurrency", required_argument, NULL, 'c'},
	{"queue", required_argument, NULL, 'q'},
	{"timeout", required_argument, NULL, 't'},
	{"tag", required_argument, NULL, 'g'},
	{"environment", required_argument, NULL, 'e'},
	{"config", required_argument, NULL, 'C'},
	{"verbose", no_argument, NULL, 'v'},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, 'h'},
	{"sidekiq", required_argument, NULL, OPT_SIDEKIQ},
	{"poll-interval", required_argument, NULL, OPT_POLL_INTERVAL},
	{"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"logfile", required_argument, NULL, OPT_LOGFILE},
	{"namespace", required_argument, NULL, OPT_NAMESPACE},
	{"unknown-class", required_argument, NULL, OPT_UNKNOWN_CLASS},
	{"max-payload", required_argument, NULL, OPT_MAX_PAYLOAD},
	{"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
	{"max-reply", required_argument, NULL, OPT_MAX_REPLY},
	{"max-retries", required_argument, NULL, OPT_MAX_RETRIES},
	{"dead-max-jobs", required_argument, NULL, OPT_DEAD_MAX_JOBS},
	{"dead-timeout", required_argument, NULL, OPT_DEAD_TIMEOUT},
	{"label", required_argument, NULL, OPT_LABEL},
	{"beat-interval", required_argument, NULL, OPT_BEAT_INTERVAL},
	{"module", required_argument, NULL, 'M'},
	{"handlers", required_argument, NULL, OPT_HANDLERS},
	{"max-recoveries", required_argument, NULL, OPT_MAX_RECOVERIES},
	{"heartbeat-ttl", required_argument, NULL, OPT_HEARTBEAT_TTL},
	{"recovery-interval", required_argument, NULL, OPT_RECOVERY_INTERVAL},
	{NULL, 0, NULL, 0},
};

static const char usage_text[] =
	"usage: winch [options]\n"
	"Run Sidekiq jobs from Redis with C handlers.\n"
	"\n"
	"Sidekiq's flags:\n"
	"  -c, --concurrency N      handler threads (default 10, or $RAILS_MAX_THREADS)\n"
	"  -q, --queue NAME[,W]     a queue to fetch from, with an optional weight; repeatable\n"
	"                           (default: default)\n"
	"  -t, --timeout SECONDS    shutdown timeout before running jobs are requeued (default 25)\n"
	"  -g, --tag TAG            process tag shown in the Web UI\n"
	"  -e, --environment ENV    application environment (default $RAILS_ENV)\n"
	"  -C, --config FILE        config file (not supported yet)\n"
	"  -v, --verbose            debug logging\n"
	"  -V, --version            print the version and exit\n"
	"  -h, --help               print this help and exit\n"
	"\n"
	"winch's flags:\n"
	"  -M, --module PATH        load a handler module (a .so); repeatable\n"
	"  --handlers DIR           load every *.so in DIR\n"
	"  --sidekiq 6|7|8          Sidekiq generation of the fleet (default 7): payload time unit,\n"
	"                           reported version, retry jitter\n"
	"  --poll-interval SECONDS  average scheduled poll interval (default 5)\n"
	"  --beat-interval SECONDS  heartbeat interval (default 5)\n"
	"  --heartbeat-ttl SECONDS  how long the process hash outlives its last beat; a dead\n"
	"                           process's jobs are recovered after it (default 60, as\n"
	"                           Sidekiq; at least 3 beat intervals)\n"
	"  --recovery-interval SECONDS\n"
	"                           time between looks for dead processes' jobs (default 30)\n"
	"  --log-format text|json   log line format (default text)\n"
	"  --log-level LEVEL        error, warn, info (default; a line per job start and end)\n"
	"                           or debug (as -v)\n"
	"  --logfile PATH           log to PATH instead of stderr (SIGHUP reopens it)\n"
	"  --namespace NS           redis-namespace key prefix of a Sidekiq 6 app\n"
	"  --unknown-class fail|requeue\n"
	"                           a job whose class has no handler: fail with NameError\n"
	"                           (default) or put it back in the schedule set for another\n"
	"                           process\n"
	"  --label LABEL            a process label shown in the Web UI; repeatable\n"
	"  --max-retries N          retries for `retry: true` (default 25)\n"
	"  --dead-max-jobs N        dead set size cap (default 10000)\n"
	"  --max-recoveries N       a job found running in more than N dead processes goes to\n"
	"                           the dead set as a poison pill (default 3)\n"
	"  --dead-timeout SECONDS   dead set age cap (default 15552000, 180 days)\n"
	"  --max-payload BYTES      largest payload run (default 16777216)\n"
	"  --max-depth N            deepest JSON nesting run (default 128)\n"
	"  --max-reply BYTES        largest reply read from Redis (default 67108864, and at\n"
	"                           least --max-payload + 4096)\n"
	"\n"
	"Environment: REDIS_URL (or the variable named by REDIS_PROVIDER), default\n"
	"redis://127.0.0.1:6379/0; unix:///path/redis.sock?db=N for a socket.\n";

const char *options_version_string(void)
{
	return "winch " PACKAGE_VERSION " (commit " WINCH_GIT_COMMIT ")";
}

void options_init(struct options *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->concurrency = 10;
	queues_init(&cfg->queues);
	cfg->timeout = 25;
	cfg->tag = xstrdup("");
	cfg->log_level = LOG_INFO;
	cfg->log_format = LOG_FORMAT_TEXT;
	cfg->gen = SIDEKIQ_7;
	cfg->poll_interval = 5;
	redis_url_init(&cfg->redis);
	cfg->unknown_class = UNKNOWN_CLASS_FAIL;
	cfg->unknown_class_delay = 5;
	cfg->limits.max_bytes = PAYLOAD_DEFAULT_MAX_BYTES;
	cfg->limits.max_depth = PAYLOAD_DEFAULT_MAX_DEPTH;
	cfg->max_reply = 0; /* RCONN_DEFAULT_MAX_REPLY, or more for a larger --max-payload */
	cfg->max_retries = 25;
	cfg->max_recoveries = 3;
	cfg->heartbeat_ttl = 60;
	cfg->recovery_interval = 30;
	cfg->dead_max_jobs = 10000;
	cfg->dead_timeout = 180L * 24 * 3600;
	cfg->beat_interval = 5;
}

void options_release(struct options *cfg)
{
	int i;

	queues_release(&cfg->queues);
	free(cfg->tag);
	free(cfg->environment);
	for (i = 0; i < cfg->n_labels; i++)
		free(cfg->labels[i]);
	free(cfg->labels);
	for (i = 0; i < cfg->n_modules; i++)
		free(cfg->modules[i]);
	free(cfg->modules);
	free(cfg->handlers_dir);
	free(cfg->logfile);
	redis_url_release(&cfg->redis);
	free(cfg->redis_url_text);
	free(cfg->namespace);
	memset(cfg, 0, sizeof(*cfg));
}

static void replace_str(char **dst, const char *src)
{
	free(*dst);
	*dst = xstrdup(src);
}

/* Print the one line that names a bad flag or value. */
static enum options_action bad(FILE *err, const char *flag, const char *fmt, const char *val)
{
	fprintf(err, "winch: %s: ", flag);
	fprintf(err, fmt, val);
	fputc('\n', err);
	return OPTIONS_EXIT_BAD;
}

static int opt_long(const char *val, long min, long max, long *out)
{
	return parse_long(val, min, max, out);
}

/* Apply one option; returns OPTIONS_RUN to go on. */
static enum options_action apply(struct options *cfg, int c, const char *val, const char *flag,
				FILE *out, FILE *err)
{
	char reason[256];
	long n;
	double d;

	switch (c) {
	case 'c':
		if (opt_long(val, 1, 10000, &n) < 0)
			return bad(err, flag, "'%s' is not a number from 1 to 10000", val);
		cfg->concurrency = (int)n;
		break;
	case 'q':
		if (queues_add(&cfg->queues, val, reason, sizeof(reason)) < 0)
			return bad(err, flag, "%s", reason);
		break;
	case 't':
		if (parse_double(val, 0, 86400, &d) < 0)
			return bad(err, flag, "'%s' is not a number of seconds from 0 to 86400", val);
		cfg->timeout = d;
		break;
	case 'g':
		replace_str(&cfg->tag, val);
		break;
	case 'e':
		replace_str(&cfg->environment, val);
		break;
	case 'C':
		return bad(err, flag, "'%s': config files are not supported yet (they come with "
				      "packaging); use flags",
			   val);
	case 'v':
		cfg->log_level = LOG_DEBUG;
		break;
	case 'V':
		fprintf(out, "%s\n", options_version_string());
		return OPTIONS_EXIT_OK;
	case 'h':
		fputs(usage_text, out);
		return OPTIONS_EXIT_OK;
	case OPT_SIDEKIQ:
		if (opt_long(val, 6, 8, &n) < 0)
			return bad(err, flag, "'%s' is not a Sidekiq generation: 6, 7 or 8", val);
		cfg->gen = (enum sidekiq_gen)n;
		break;
	case OPT_POLL_INTERVAL:
		if (parse_double(val, 0.05, 3600, &d) < 0)
			return bad(err, flag, "'%s' is not a number of seconds from 0.05 to 3600", val);
		cfg->poll_interval = d;
		cfg->poll_interval_given = 1;
		break;
	case OPT_BEAT_INTERVAL:
		if (parse_double(val, 0.1, 30, &d) < 0)
			return bad(err, flag, "'%s' is not a number of seconds from 0.1 to 30", val);
		cfg->beat_interval = d;
		break;
	case OPT_LOG_FORMAT:
		if (strcmp(val, "text") == 0)
			cfg->log_format = LOG_FORMAT_TEXT;
		else if (strcmp(val, "json") == 0)
			cfg->log_format = LOG_FORMAT_JSON;
		else
			return bad(err, flag, "'%s' is not a log format: text or json", val);
		break;
	case OPT_LOG_LEVEL:
		if (strcmp(val, "error") == 0)
			cfg->log_level = LOG_ERROR;
		else if (strcmp(val, "warn") == 0)
			cfg->log_level = LOG_WARN;
		else if (strcmp(val, "info") == 0)
			cfg->log_level = LOG_INFO;
		else if (strcmp(val, "debug") == 0)
			cfg->log_level = LOG_DEBUG;
		else
			return bad(err, flag, "'%s' is not a log level: error, warn, info or debug",
				   val);
		break;
	case OPT_LOGFILE:
		replace_str(&cfg->logfile, val);
		break;
	case OPT_NAMESPACE:
		if (*val == '\0' || strchr(val, ' '))
			return bad(err, flag, "'%s' is not a namespace (non-empty, no spaces)", val);
		replace_str(&cfg->namespace, val);
		break;
	case OPT_UNKNOWN_CLASS:
		if (strcmp(val, "fail") == 0)
			cfg->unknown_class = UNKNOWN_CLASS_FAIL;
		else if (strcmp(val, "requeue") == 0)
			cfg->unknown_class = UNKNOWN_CLASS_REQUEUE;
		else
			return bad(err, flag, "'%s' is not a policy: fail or requeue", val);
		break;
	case OPT_MAX_PAYLOAD:
		if (opt_long(val, 1024, 512L * 1024 * 1024, &n) < 0)
			return bad(err, flag, "'%s' is not a number of bytes from 1024 to 536870912",
				   val);
		cfg->limits.max_bytes = (size_t)n;
		break;
	case OPT_MAX_DEPTH:
		if (opt_long(val, 4, 10000, &n) < 0)
			return bad(err, flag, "'%s' is not a depth from 4 to 10000", val);
		cfg->limits.max_depth = (int)n;
		break;
	case OPT_MAX_REPLY:
		if (opt_long(val, 1024 + OPTIONS_REPLY_SLACK, 1024L * 1024 * 1024, &n) < 0)
			return bad(err, flag, "'%s' is not a number of bytes from 5120 to 1073741824",
				   val);
		cfg->max_reply = (size_t)n;
		break;
	case OPT_MAX_RETRIES:
		if (opt_long(val, 0, 1000000, &n) < 0)
			return bad(err, flag, "'%s' is not a number from 0 to 1000000", val);
		cfg->max_retries = (int)n;
		break;
	case OPT_MAX_RECOVERIES:
		if (opt_long(val, 0, 1000, &n) < 0)
			return bad(err, flag, "'%s' is not a number from 0 to 1000", val);
		cfg->max_recoveries = (int)n;
		break;
	case OPT_HEARTBEAT_TTL:
		if (opt_long(val, 2, 3600, &n) < 0)
			return bad(err, flag, "'%s' is not a number of seconds from 2 to 3600", val);
		cfg->heartbeat_ttl = n;
		break;
	case OPT_RECOVERY_INTERVAL:
		if (parse_double(val, 0.1, 3600, &d) < 0)
			return bad(err, flag, "'%s' is not a number of seconds from 0.1 to 3600", val);
		cfg->recovery_interval = d;
		break;
	case OPT_DEAD_MAX_JOBS:
		if (opt_long(val, 1, 100000000, &n) < 0)
			return bad(err, flag, "'%s' is not a number from 1 to 100000000", val);
		cfg->dead_max_jobs = n;
		break;
	case OPT_DEAD_TIMEOUT:
		if (opt_long(val, 1, 100L * 365 * 86400, &n) < 0)
			return bad(err, flag, "'%s' is not a number of seconds", val);
		cfg->dead_timeout = n;
		break;
	case 'M':
		cfg->modules =
			xrealloc(cfg->modules, sizeof(*cfg->modules) * (size_t)(cfg->n_modules + 1));
		cfg->modules[cfg->n_modules++] = xstrdup(val);
		break;
	case OPT_HANDLERS:
		replace_str(&cfg->handlers_dir, val);
		break;
	case OPT_LABEL:
		cfg->labels = xrealloc(cfg->labels, sizeof(*cfg->labels) * (size_t)(cfg->n_labels + 1));
		cfg->labels[cfg->n_labels++] = xstrdup(val);
		break;
	default:
		return OPTIONS_EXIT_BAD;
	}
	return OPTIONS_RUN;
}

/* The name of the flag getopt just read, for messages: "-c" or "--poll-interval". */
static void flag_name(int c, int longindex, char *buf, size_t len)
{
	if (longindex >= 0)
		snprintf(buf, len, "--%s", long_opts[longindex].name);
	else
		snprintf(buf, len, "-%c", c);
}

static enum options_action read_env(struct options *cfg, FILE *err)
{
	const char *v;
	char reason[512];
	long n;

	v = getenv("RAILS_MAX_THREADS");
	if (v && *v) {
		if (parse_long(v, 1, 10000, &n) < 0)
			return bad(err, "RAILS_MAX_THREADS", "'%s' is not a number from 1 to 10000", v);
		cfg->concurrency = (int)n;
	}
	v = getenv("RAILS_ENV");
	if (v == NULL || *v == '\0')
		v = getenv("RACK_ENV");
	if (v && *v)
		replace_str(&cfg->environment, v);

	free(cfg->redis_url_text);
	cfg->redis_url_text = NULL;
	if (redis_url_from_env(&cfg->redis, &cfg->redis_url_text, reason, sizeof(reason)) < 0) {
		fprintf(err, "winch: %s\n", reason);
		return OPTIONS_EXIT_BAD;
	}
	return OPTIONS_RUN;
}

enum options_action options_parse(struct options *cfg, int argc, char **argv, FILE *out, FILE *err)
{
	enum options_action act;
	char flag[64];
	int c, longindex;

	act = read_env(cfg, err);
	if (act != OPTIONS_RUN)
		return act;
	/* 0, not 1: glibc then forgets the last parse (a half-read "-vx" and its argv). */
	optind = 0;
	opterr = 0;
	for (;;) {
		longindex = -1;
		c = getopt_long(argc, argv, ":c:q:t:g:e:C:M:vVh", long_opts, &longindex);
		if (c == -1)
			break;
		if (c == '?') {
			if (optopt)
				fprintf(err, "winch: -%c: unknown flag (see winch -h)\n", optopt);
			else
				fprintf(err, "winch: %s: unknown flag (see winch -h)\n",
					argv[optind - 1]);
			return OPTIONS_EXIT_BAD;
		}
		if (c == ':') {
			if (optopt && optopt < 256)
				fprintf(err, "winch: -%c: needs a value\n", optopt);
			else
				fprintf(err, "winch: %s: needs a value\n", argv[optind - 1]);
			return OPTIONS_EXIT_BAD;
		}
		flag_name(c, longindex, flag, sizeof(flag));
		act = apply(cfg, c, optarg, flag, out, err);
		if (act != OPTIONS_RUN)
			return act;
	}
	if (optind < argc) {
		fprintf(err, "winch: '%s': unexpected argument (see winch -h)\n", argv[optind]);
		return OPTIONS_EXIT_BAD;
	}
	if (cfg->queues.n == 0 && queues_add(&cfg->queues, "default", NULL, 0) < 0)
		return OPTIONS_EXIT_BAD;
	queues_finish(&cfg->queues);
	if (cfg->max_reply == 0) {
		cfg->max_reply = RCONN_DEFAULT_MAX_REPLY;
		if (cfg->max_reply < cfg->limits.max_bytes + OPTIONS_REPLY_SLACK)
			cfg->max_reply = cfg->limits.max_bytes + OPTIONS_REPLY_SLACK;
	} else if (cfg->max_reply < cfg->limits.max_bytes + OPTIONS_REPLY_SLACK) {
		fprintf(err, "winch: --max-reply: %zu bytes is less than --max-payload (%zu) + %d: "
			     "a job winch may run could not be read\n",
			cfg->max_reply, cfg->limits.max_bytes, OPTIONS_REPLY_SLACK);
		return OPTIONS_EXIT_BAD;
	}
	if ((double)cfg->heartbeat_ttl < 3 * cfg->beat_interval) {
		fprintf(err, "winch: --heartbeat-ttl: %ld s is less than 3 beats of %.1f s: a live "
			     "process would look dead\n",
			cfg->heartbeat_ttl, cfg->beat_interval);
		return OPTIONS_EXIT_BAD;
	}
	return OPTIONS_RUN;
}
