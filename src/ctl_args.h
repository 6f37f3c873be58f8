/*
 * ctl_args: winchctl's command line. Flags may come before or after the command and its
 * words, as "--flag value" or "--flag=value"; "--" ends the flags. Values are checked here,
 * so a bad one is refused with one line naming the flag. Which flags a command accepts is
 * the command table's business (ctl.c), checked with ctl_args_unknown().
 */
#ifndef WINCH_CTL_ARGS_H
#define WINCH_CTL_ARGS_H

#include <stddef.h>

#include "util.h"
#include "winch/client.h"

/* Every flag winchctl knows; a command accepts a set of them (enum bits). */
enum ctl_flag {
	CTL_F_JSON = (1 << 0),          /* --json */
	CTL_F_NAMESPACE = (1 << 1),     /* --namespace NS */
	CTL_F_SIDEKIQ = (1 << 2),       /* --sidekiq 6|7|8 */
	CTL_F_QUEUE = (1 << 3),         /* --queue Q */
	CTL_F_IN = (1 << 4),            /* --in SECONDS */
	CTL_F_AT = (1 << 5),            /* --at EPOCH */
	CTL_F_RETRY = (1 << 6),         /* --retry N|true|false */
	CTL_F_BACKTRACE = (1 << 7),     /* --backtrace N|true|false */
	CTL_F_BULK = (1 << 8),          /* --bulk FILE|- */
	CTL_F_CLASS = (1 << 9),         /* --class C */
	CTL_F_JID = (1 << 10),          /* --jid J, repeatable */
	CTL_F_LIMIT = (1 << 11),        /* --limit N */
	CTL_F_ALL = (1 << 12),          /* --all */
	CTL_F_DEAD_MAX_JOBS = (1 << 13), /* --dead-max-jobs N */
	CTL_F_DEAD_TIMEOUT = (1 << 14), /* --dead-timeout SECONDS */
	CTL_F_HELP = (1 << 15),         /* -h, --help */
	CTL_F_VERSION = (1 << 16),      /* -V, --version */
	CTL_F_EXTRA = (1 << 17),        /* --extra JSON_OBJECT */
};

/* Flags every command takes. */
#define CTL_F_GLOBAL (CTL_F_JSON | CTL_F_NAMESPACE | CTL_F_SIDEKIQ | CTL_F_HELP | CTL_F_VERSION)

#define CTL_MAX_WORDS 64

/*
 * The command line, read. Strings are borrowed from argv; the struct owns nothing.
 * Fields of flags not given keep their defaults (see ctl_args_init).
 */
struct ctl_args {
	const char *command;             /* the first word, or NULL */
	const char *words[CTL_MAX_WORDS]; /* the words after it, in order */
	int n_words;
	unsigned int given;              /* enum ctl_flag bits of the flags given */
	int json;
	const char *name_space;          /* NULL: none */
	int gen;                         /* 6, 7 (default) or 8 */
	const char *queue;               /* NULL: default */
	struct winch_push_options push;  /* retry, backtrace, at, in, extra_json from flags */
	const char *bulk;                /* file of args lines, "-" for stdin, or NULL */
	const char *klass;               /* --class, or NULL */
	const char *jids[CTL_MAX_WORDS]; /* --jid values */
	int n_jids;
	long limit;                      /* --limit, 0 when not given */
	int all;
	long dead_max_jobs;              /* default 10000, as Sidekiq */
	long dead_timeout;               /* default 180 days, as Sidekiq */
};

void ctl_args_init(struct ctl_args *a);

/*
 * Read argv[1..argc) into a (which ctl_args_init prepared). Returns 0, or -1 with one line
 * in err that names the flag or word: "--limit: 'x' is not a number from 1 to 1000000",
 * "--frob: unknown flag", "--at: cannot be given with --in".
 */
int ctl_args_parse(struct ctl_args *a, int argc, char **argv, char *err, size_t errlen)
	WINCH_MUSTCHECK;

/* The long name (no dashes; static) of the first flag given that is not in allowed, or NULL. */
const char *ctl_args_unknown(const struct ctl_args *a, unsigned int allowed);

#endif
