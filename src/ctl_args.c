/* ctl_args: read winchctl's words and flags, checking each value and naming what is wrong. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctl_args.h"
#include "banned.h"

struct flag_def {
	const char *name;  /* long name, without "--" */
	char short_name;   /* or 0 */
	int takes_value;
	enum ctl_flag bit;
};

static const struct flag_def flags[] = {
	{"json", 0, 0, CTL_F_JSON},
	{"namespace", 0, 1, CTL_F_NAMESPACE},
	{"sidekiq", 0, 1, CTL_F_SIDEKIQ},
	{"queue", 0, 1, CTL_F_QUEUE},
	{"in", 0, 1, CTL_F_IN},
	{"at", 0, 1, CTL_F_AT},
	{"retry", 0, 1, CTL_F_RETRY},
	{"backtrace", 0, 1, CTL_F_BACKTRACE},
	{"extra", 0, 1, CTL_F_EXTRA},
	{"bulk", 0, 1, CTL_F_BULK},
	{"class", 0, 1, CTL_F_CLASS},
	{"jid", 0, 1, CTL_F_JID},
	{"limit", 0, 1, CTL_F_LIMIT},
	{"all", 0, 0, CTL_F_ALL},
	{"dead-max-jobs", 0, 1, CTL_F_DEAD_MAX_JOBS},
	{"dead-timeout", 0, 1, CTL_F_DEAD_TIMEOUT},
	{"help", 'h', 0, CTL_F_HELP},
	{"version", 'V', 0, CTL_F_VERSION},
	{NULL, 0, 0, 0},
};

void ctl_args_init(struct ctl_args *a)
{
	memset(a, 0, sizeof(*a));
	a->gen = 7;
	a->dead_max_jobs = 10000;
	a->dead_timeout = 180L * 24 * 3600;
}

static const struct flag_def *find_long(const char *name, size_t len)
{
	const struct flag_def *f;

	for (f = flags; f->name; f++) {
		if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
			return f;
	}
	return NULL;
}

static const struct flag_def *find_short(char c)
{
	const struct flag_def *f;

	for (f = flags; f->name; f++) {
		if (f->short_name && f->short_name == c)
			return f;
	}
	return NULL;
}

static int bad(char *err, size_t errlen, const struct flag_def *f, const char *fmt,
	       const char *val)
{
	char why[256];

	snprintf(why, sizeof(why), fmt, val);
	snprintf(err, errlen, "--%s: %s", f->name, why);
	return -1;
}

/* true, false or a count from 0 (retry) or 1 (backtrace) up. */
static int bool_or_count(const char *val, long min, int *is_bool, long *n)
{
	if (strcmp(val, "true") == 0) {
		*is_bool = 1;
		*n = 1;
		return 0;
	}
	if (strcmp(val, "false") == 0) {
		*is_bool = 1;
		*n = 0;
		return 0;
	}
	*is_bool = 0;
	return parse_long(val, min, 1000000, n);
}

static int apply_push(struct ctl_args *a, const struct flag_def *f, const char *val, char *err,
		      size_t errlen)
{
	int is_bool;
	long n;

	switch (f->bit) {
	case CTL_F_IN:
		if (parse_double(val, -1e12, 1e12, &a->push.in) < 0)
			return bad(err, errlen, f, "'%s' is not a number of seconds", val);
		break;
	case CTL_F_AT:
		if (parse_double(val, 0, 1e11, &a->push.at) < 0)
			return bad(err, errlen, f, "'%s' is not an epoch time in seconds", val);
		break;
	case CTL_F_RETRY:
		if (bool_or_count(val, 0, &is_bool, &n) < 0)
			return bad(err, errlen, f, "'%s' is not true, false or a number of retries",
				   val);
		if (is_bool) {
			a->push.retry = n ? WINCH_CLIENT_RETRY_TRUE : WINCH_CLIENT_RETRY_FALSE;
		} else {
			a->push.retry = WINCH_CLIENT_RETRY_COUNT;
			a->push.retry_count = (int)n;
		}
		break;
	case CTL_F_BACKTRACE:
		if (bool_or_count(val, 1, &is_bool, &n) < 0)
			return bad(err, errlen, f, "'%s' is not true, false or a number of lines",
				   val);
		a->push.backtrace = is_bool ? (n ? WINCH_BACKTRACE_ALL : 0) : (int)n;
		break;
	case CTL_F_EXTRA:
		a->push.extra_json = val;
		break;
	default:
		break;
	}
	return 0;
}

static int apply(struct ctl_args *a, const struct flag_def *f, const char *val, char *err,
		 size_t errlen)
{
	long n;

	switch (f->bit) {
	case CTL_F_JSON:
		a->json = 1;
		break;
	case CTL_F_NAMESPACE:
		if (*val == '\0' || strchr(val, ' '))
			return bad(err, errlen, f, "'%s' is not a namespace (non-empty, no spaces)",
				   val);
		a->name_space = val;
		break;
	case CTL_F_SIDEKIQ:
		if (parse_long(val, 6, 8, &n) < 0)
			return bad(err, errlen, f, "'%s' is not a Sidekiq generation: 6, 7 or 8",
				   val);
		a->gen = (int)n;
		break;
	case CTL_F_QUEUE:
		if (*val == '\0')
			return bad(err, errlen, f, "'%s' is not a queue name (empty)", val);
		a->queue = val;
		break;
	case CTL_F_BULK:
		a->bulk = val;
		break;
	case CTL_F_CLASS:
		if (*val == '\0')
			return bad(err, errlen, f, "'%s' is not a class name (empty)", val);
		a->klass = val;
		break;
	case CTL_F_JID:
		if (*val == '\0')
			return bad(err, errlen, f, "'%s' is not a jid (empty)", val);
		if (a->n_jids == CTL_MAX_WORDS)
			return bad(err, errlen, f, "%s", "too many jids (at most 64)");
		a->jids[a->n_jids++] = val;
		break;
	case CTL_F_LIMIT:
		if (parse_long(val, 1, 1000000, &a->limit) < 0)
			return bad(err, errlen, f, "'%s' is not a number from 1 to 1000000", val);
		break;
	case CTL_F_ALL:
		a->all = 1;
		break;
	case CTL_F_DEAD_MAX_JOBS:
		if (parse_long(val, 1, 100000000, &a->dead_max_jobs) < 0)
			return bad(err, errlen, f, "'%s' is not a number from 1 to 100000000", val);
		break;
	case CTL_F_DEAD_TIMEOUT:
		if (parse_long(val, 1, 100L * 365 * 86400, &a->dead_timeout) < 0)
			return bad(err, errlen, f, "'%s' is not a number of seconds", val);
		break;
	default:
		return apply_push(a, f, val, err, errlen);
	}
	return 0;
}

static int add_word(struct ctl_args *a, const char *w, char *err, size_t errlen)
{
	if (a->command == NULL) {
		a->command = w;
		return 0;
	}
	if (a->n_words == CTL_MAX_WORDS) {
		snprintf(err, errlen, "'%s': too many words (at most %d)", w, CTL_MAX_WORDS);
		return -1;
	}
	a->words[a->n_words++] = w;
	return 0;
}

/* One flag at argv[*i] (which starts with '-'); advances *i past its value. */
static int read_flag(struct ctl_args *a, int argc, char **argv, int *i, char *err,
		     size_t errlen)
{
	const char *arg = argv[*i], *val = NULL, *eq;
	const struct flag_def *f;

	if (arg[1] == '-') {
		eq = strchr(arg + 2, '=');
		f = find_long(arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
		if (eq)
			val = eq + 1;
	} else {
		f = arg[2] == '\0' ? find_short(arg[1]) : NULL;
	}
	if (f == NULL) {
		snprintf(err, errlen, "%s: unknown flag (see winchctl -h)", arg);
		return -1;
	}
	if (!f->takes_value && val) {
		snprintf(err, errlen, "--%s: takes no value", f->name);
		return -1;
	}
	if (f->takes_value && val == NULL) {
		if (*i + 1 >= argc) {
			snprintf(err, errlen, "--%s: needs a value", f->name);
			return -1;
		}
		val = argv[++*i];
	}
	a->given |= (unsigned int)f->bit;
	return apply(a, f, val, err, errlen);
}

int ctl_args_parse(struct ctl_args *a, int argc, char **argv, char *err, size_t errlen)
{
	int i, words_only = 0;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!words_only && strcmp(arg, "--") == 0) {
			words_only = 1;
			continue;
		}
		if (!words_only && arg[0] == '-' && arg[1] != '\0') {
			if (read_flag(a, argc, argv, &i, err, errlen) < 0)
				return -1;
			continue;
		}
		if (add_word(a, arg, err, errlen) < 0)
			return -1;
	}
	if ((a->given & CTL_F_IN) && (a->given & CTL_F_AT)) {
		snprintf(err, errlen, "--at: cannot be given with --in");
		return -1;
	}
	return 0;
}

const char *ctl_args_unknown(const struct ctl_args *a, unsigned int allowed)
{
	const struct flag_def *f;

	for (f = flags; f->name; f++) {
		if ((a->given & (unsigned int)f->bit) && !(allowed & (unsigned int)f->bit))
			return f->name;
	}
	return NULL;
}
