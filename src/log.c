/* log: leveled, thread-safe lines in Sidekiq's text layout or as JSON, to stderr or a file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "banned.h"

enum log_level log_current_level = LOG_INFO;
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static int log_fd = STDERR_FILENO;
static char *log_path;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void log_setup(enum log_level level, enum log_format format)
{
	log_current_level = level;
	log_fmt = format;
}

int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&log_lock);
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	if (log_path != path) {
		free(log_path);
		log_path = xstrdup(path);
	}
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void log_reopen(void)
{
	char *path;
	int rc;

	if (log_path == NULL)
		return;
	path = xstrdup(log_path);
	rc = log_open_file(path);
	if (rc < 0)
		log_error("cannot reopen log file '%s': %s", path, strerror(-rc));
	free(path);
}

static void add_timestamp(struct sbuf *sb)
{
	struct timespec ts;
	struct tm tm;
	char buf[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	sbuf_addf(sb, "%s.%03ldZ", buf, ts.tv_nsec / 1000000);
}

static void format_text(struct sbuf *sb, enum log_level level, const struct log_ctx *ctx,
			const char *msg)
{
	add_timestamp(sb);
	sbuf_addf(sb, " pid=%ld", (long)getpid());
	if (ctx && ctx->tid)
		sbuf_addf(sb, " tid=%s", ctx->tid);
	if (ctx && ctx->klass)
		sbuf_addf(sb, " class=%s", ctx->klass);
	if (ctx && ctx->jid)
		sbuf_addf(sb, " jid=%s", ctx->jid);
	if (ctx && ctx->elapsed)
		sbuf_addf(sb, " elapsed=%s", ctx->elapsed);
	sbuf_addf(sb, " %s: %s\n", level_names[level], msg);
}

static void format_json(struct sbuf *sb, enum log_level level, const struct log_ctx *ctx,
			const char *msg)
{
	struct sbuf ts;

	sbuf_init(&ts);
	add_timestamp(&ts);
	sbuf_addf(sb, "{\"ts\":\"%s\",\"pid\":%ld", sbuf_str(&ts), (long)getpid());
	sbuf_release(&ts);
	if (ctx && ctx->tid) {
		sbuf_adds(sb, ",\"tid\":");
		sbuf_add_json_string(sb, ctx->tid, strlen(ctx->tid));
	}
	sbuf_addf(sb, ",\"lvl\":\"%s\",\"msg\":", level_names[level]);
	sbuf_add_json_string(sb, msg, strlen(msg));
	if (ctx && (ctx->klass || ctx->jid || ctx->elapsed)) {
		const char *sep = "";

		sbuf_adds(sb, ",\"ctx\":{");
		if (ctx->klass) {
			sbuf_adds(sb, "\"class\":");
			sbuf_add_json_string(sb, ctx->klass, strlen(ctx->klass));
			sep = ",";
		}
		if (ctx->jid) {
			sbuf_addf(sb, "%s\"jid\":", sep);
			sbuf_add_json_string(sb, ctx->jid, strlen(ctx->jid));
			sep = ",";
		}
		if (ctx->elapsed)
			sbuf_addf(sb, "%s\"elapsed\":%s", sep, ctx->elapsed);
		sbuf_addc(sb, '}');
	}
	sbuf_adds(sb, "}\n");
}

void log_vwrite(enum log_level level, const struct log_ctx *ctx, const char *fmt, va_list ap)
{
	struct sbuf msg, line;
	size_t i;

	sbuf_init(&msg);
	sbuf_init(&line);
	sbuf_vaddf(&msg, fmt, ap);
	/* One event, one line: a message never breaks the line format. */
	for (i = 0; i < msg.len; i++)
		if (msg.buf[i] == '\n' || msg.buf[i] == '\r')
			msg.buf[i] = ' ';
	if (log_fmt == LOG_FORMAT_JSON)
		format_json(&line, level, ctx, sbuf_str(&msg));
	else
		format_text(&line, level, ctx, sbuf_str(&msg));
	pthread_mutex_lock(&log_lock);
	if (write(log_fd, line.buf, line.len) < 0) {
		/* nowhere left to report it */
	}
	pthread_mutex_unlock(&log_lock);
	sbuf_release(&msg);
	sbuf_release(&line);
}

void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, ctx, fmt, ap);
	va_end(ap);
}

int log_errorf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	return -1;
}
