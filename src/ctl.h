/*
 * ctl: winchctl, the operator's view of Sidekiq's Redis: the command table, the global
 * flags, the help text and the exit codes. Each command lives in a ctl_* module and agrees
 * with what Sidekiq::API (6.4.1, read from its source) shows and does.
 */
#ifndef WINCH_CTL_H
#define WINCH_CTL_H

#include <stdio.h>

#include "ctl_args.h"
#include "util.h"
#include "winch/client.h"

/* winchctl's exit codes, documented in its help. */
enum ctl_exit {
	CTL_EXIT_OK = 0,        /* done */
	CTL_EXIT_NOT_FOUND = 1, /* nothing matched: no such jid, identity or class */
	CTL_EXIT_USAGE = 2,     /* a bad command, flag or value (one line names it) */
	CTL_EXIT_REDIS = 3,     /* Redis unreachable, or it refused a command */
};

/* What a command runs with. All borrowed from ctl_main. */
struct ctl {
	struct winch_client *client;
	const struct ctl_args *args;
	FILE *out;
	FILE *err;
	double now; /* epoch seconds when winchctl started */
};

/* A command: returns an enum ctl_exit value. */
typedef int (*ctl_command_fn)(struct ctl *ctl);

/*
 * Run winchctl with argv (argv[0] is ignored) and the environment (REDIS_URL,
 * REDIS_PROVIDER). Output goes to out, messages to err. Returns the exit code.
 */
int ctl_main(int argc, char **argv, FILE *out, FILE *err);

/* Print the client's error as "winchctl: <message>" and return the matching exit code. */
int ctl_client_failed(struct ctl *ctl);

/* Print "winchctl: <message>" to err and return code. */
int ctl_fail(struct ctl *ctl, int code, const char *fmt, ...) WINCH_PRINTF(3, 4);

/* Write out's sbuf to ctl->out (and a newline when nl). */
void ctl_print(struct ctl *ctl, const struct sbuf *sb, int nl);

#endif
