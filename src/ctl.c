/* ctl: winchctl's command table, help, global flags and exit codes. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "ctl.h"
#include "ctl_jobs.h"
#include "ctl_procs.h"
#include "ctl_push.h"
#include "ctl_stats.h"
#include "banned.h"

#define SET_FLAGS                                                                                  \
	(CTL_F_CLASS | CTL_F_JID | CTL_F_LIMIT | CTL_F_ALL | CTL_F_DEAD_MAX_JOBS |                 \
	 CTL_F_DEAD_TIMEOUT)
#define PUSH_FLAGS                                                                                 \
	(CTL_F_QUEUE | CTL_F_IN | CTL_F_AT | CTL_F_RETRY | CTL_F_BACKTRACE | CTL_F_EXTRA |          \
	 CTL_F_BULK)

struct ctl_command {
	const char *name;
	ctl_command_fn fn;
	unsigned int flags; /* besides CTL_F_GLOBAL */
};

static const struct ctl_command commands[] = {
	{"push", ctl_push_run, PUSH_FLAGS},
	{"stats", ctl_stats_show, 0},
	{"queues", ctl_stats_queues, 0},
	{"retries", ctl_jobs_retries, SET_FLAGS},
	{"scheduled", ctl_jobs_scheduled, SET_FLAGS},
	{"dead", ctl_jobs_dead, SET_FLAGS},
	{"processes", ctl_procs_list, 0},
	{"quiet", ctl_procs_quiet, CTL_F_ALL},
	{"stop", ctl_procs_stop, CTL_F_ALL},
	{NULL, NULL, 0},
};

static const char usage_text[] =
	"usage: winchctl [--json] [--namespace NS] [--sidekiq 6|7|8] COMMAND [WORDS] [FLAGS]\n"
	"Look into Sidekiq's Redis and act on it, as the Web UI and Sidekiq::API do.\n"
	"\n"
	"Commands:\n"
	"  push CLASS [ARGS_JSON]   enqueue a job as the Ruby client does; ARGS_JSON is a JSON\n"
	"                           array (default []), kept byte for byte; prints the jid\n"
	"      --queue Q            the queue (default: default)\n"
	"      --in SECONDS         run that many seconds from now (the schedule set)\n"
	"      --at EPOCH           run at that time in epoch seconds (the schedule set)\n"
	"      --retry N|true|false the job's retry option (default true: 25 retries)\n"
	"      --backtrace N|true|false\n"
	"                           keep the failure backtrace: all lines or the first N\n"
	"      --extra JSON         more payload members, a JSON object ('{\"tags\":[\"x\"]}')\n"
	"      --bulk FILE|-        one job per line of FILE (a JSON array of args each), pushed\n"
	"                           as push_bulk in pipelines of 1000; prints one jid a line\n"
	"  stats                    processed, failed, enqueued, retries, scheduled, dead,\n"
	"                           processes, busy and the default queue's latency\n"
	"  queues                   every queue with its size and latency\n"
	"  retries [ACTION [JID...]]\n"
	"  scheduled [ACTION [JID...]]\n"
	"  dead [ACTION [JID...]]   list the retry, schedule or dead set (newest score first), or\n"
	"                           act on jobs of it. ACTION: retry (push it to its queue now:\n"
	"                           retry_count - 1 for retries and dead, as the Web UI), delete,\n"
	"                           kill (to the dead set; retries and scheduled only)\n"
	"      --class C            only jobs of class C (the job class for ActiveJob jobs)\n"
	"      --jid J              only job J; repeatable (JIDs after ACTION count too)\n"
	"      --limit N            at most N jobs (default: 100 listed, every match acted on)\n"
	"      --all                an ACTION with no --class or jid: every job of the set\n"
	"      --dead-max-jobs N    kill: the dead set's size cap (default 10000)\n"
	"      --dead-timeout SECONDS\n"
	"                           kill: the dead set's age cap (default 15552000, 180 days)\n"
	"  processes                the Busy page: host, pid, tag, labels, busy/threads, quiet,\n"
	"                           rss, last beat and identity of every process\n"
	"  quiet IDENTITY...|--all  quiet processes: they stop fetching jobs (TSTP)\n"
	"  stop IDENTITY...|--all   stop processes: they finish or push back their jobs and exit\n"
	"                           (TERM)\n"
	"\n"
	"Global flags:\n"
	"  --json                   JSON output for scripts instead of tables\n"
	"  --namespace NS           the redis-namespace prefix of a Sidekiq 6 app\n"
	"  --sidekiq 6|7|8          the app's Sidekiq generation (default 7): the unit of the\n"
	"                           timestamps written (8: integer milliseconds)\n"
	"  -h, --help               print this help and exit\n"
	"  -V, --version            print the version and exit\n"
	"\n"
	"Exit codes:\n"
	"  0  done\n"
	"  1  nothing matched: no such jid, class or identity\n"
	"  2  bad usage: a bad command, flag or value (one line names it)\n"
	"  3  Redis unreachable, or it refused a command\n"
	"\n"
	"Environment: REDIS_URL (or the variable REDIS_PROVIDER names), as for winch; default\n"
	"redis://127.0.0.1:6379/0; unix:///path/redis.sock?db=N for a socket.\n";

int ctl_fail(struct ctl *ctl, int code, const char *fmt, ...)
{
	va_list ap;

	fputs("winchctl: ", ctl->err);
	va_start(ap, fmt);
	vfprintf(ctl->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctl->err);
	return code;
}

int ctl_client_failed(struct ctl *ctl)
{
	const char *msg = winch_client_error(ctl->client);
	int code;

	switch (winch_client_error_kind(ctl->client)) {
	case WINCH_CLIENT_EINVAL:
	case WINCH_CLIENT_ECONFIG:
		code = CTL_EXIT_USAGE;
		break;
	default:
		code = CTL_EXIT_REDIS;
		break;
	}
	return ctl_fail(ctl, code, "%s", msg ? msg : "redis failed");
}

void ctl_print(struct ctl *ctl, const struct sbuf *sb, int nl)
{
	fwrite(sbuf_str(sb), 1, sb->len, ctl->out);
	if (nl)
		fputc('\n', ctl->out);
}

static const struct ctl_command *find_command(const char *name)
{
	const struct ctl_command *c;

	for (c = commands; c->name; c++) {
		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

/* Everything before Redis: -1 to go on, else the exit code. */
static int check_usage(struct ctl *ctl, const struct ctl_args *a, const struct ctl_command **cmd)
{
	const char *flag;

	if (a->given & CTL_F_HELP) {
		fputs(usage_text, ctl->out);
		return CTL_EXIT_OK;
	}
	if (a->given & CTL_F_VERSION) {
		fprintf(ctl->out, "winchctl %s (commit %s)\n", PACKAGE_VERSION, WINCH_GIT_COMMIT);
		return CTL_EXIT_OK;
	}
	if (a->command == NULL)
		return ctl_fail(ctl, CTL_EXIT_USAGE, "a command is needed (see winchctl -h)");
	*cmd = find_command(a->command);
	if (*cmd == NULL)
		return ctl_fail(ctl, CTL_EXIT_USAGE, "'%s': unknown command (see winchctl -h)",
				a->command);
	flag = ctl_args_unknown(a, CTL_F_GLOBAL | (*cmd)->flags);
	if (flag)
		return ctl_fail(ctl, CTL_EXIT_USAGE, "--%s: not a flag of '%s' (see winchctl -h)",
				flag, a->command);
	return -1;
}

int ctl_main(int argc, char **argv, FILE *out, FILE *err)
{
	const struct ctl_command *cmd = NULL;
	struct ctl_args args;
	struct ctl ctl;
	char why[512];
	int rc;

	memset(&ctl, 0, sizeof(ctl));
	ctl.out = out;
	ctl.err = err;
	ctl.now = time_real();
	ctl_args_init(&args);
	ctl.args = &args;
	if (ctl_args_parse(&args, argc, argv, why, sizeof(why)) < 0)
		return ctl_fail(&ctl, CTL_EXIT_USAGE, "%s", why);
	rc = check_usage(&ctl, &args, &cmd);
	if (rc >= 0)
		return rc;
	ctl.client = winch_client_new(NULL);
	if (winch_client_error(ctl.client) == NULL) {
		if (winch_client_set_namespace(ctl.client, args.name_space) < 0 ||
		    winch_client_set_sidekiq(ctl.client, args.gen) < 0)
			rc = ctl_client_failed(&ctl);
		else
			rc = cmd->fn(&ctl);
	} else {
		rc = ctl_client_failed(&ctl);
	}
	winch_client_free(ctl.client);
	fflush(out);
	return rc;
}
