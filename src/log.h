/*
 * log: one leveled logger for the whole process, thread-safe (each line is one write(2)),
 * text in Sidekiq's layout or one JSON object per line. Writes to stderr (for journald) or
 * to a file that SIGHUP reopens.
 */
#ifndef WINCH_LOG_H
#define WINCH_LOG_H

#include "util.h"

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

enum log_format {
	LOG_FORMAT_TEXT, /* 2026-11-27T17:00:00.123Z pid=1 tid=abc class=X jid=Y INFO: start */
	LOG_FORMAT_JSON, /* {"ts":"...","pid":1,"tid":"abc","lvl":"INFO","msg":"start","ctx":{...}} */
};

/* Context added to a line (all borrowed, any may be NULL). */
struct log_ctx {
	const char *tid;
	const char *klass;
	const char *jid;
	const char *elapsed; /* seconds as text, e.g. "0.012" */
};

extern enum log_level log_current_level;

void log_setup(enum log_level level, enum log_format format);
/* Log to path (appended) instead of stderr. Returns 0 or -errno. */
int log_open_file(const char *path) WINCH_MUSTCHECK;
/* Reopen the log file (SIGHUP), if there is one. */
void log_reopen(void);

void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
	WINCH_PRINTF(3, 4);
void log_vwrite(enum log_level level, const struct log_ctx *ctx, const char *fmt, va_list ap);

/* The level is checked before any formatting. */
#define log_at(lvl, ctx, ...)                                                                      \
	do {                                                                                       \
		if ((lvl) <= log_current_level)                                                    \
			log_write((lvl), (ctx), __VA_ARGS__);                                      \
	} while (0)
#define log_error(...) log_at(LOG_ERROR, NULL, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, NULL, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, NULL, __VA_ARGS__)

/* Log at error level and return -1, so error paths read `return log_errorf(...)`. */
int log_errorf(const char *fmt, ...) WINCH_PRINTF(1, 2);

#endif
