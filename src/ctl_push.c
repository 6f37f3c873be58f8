/* ctl_push: enqueue jobs from the command line, as Sidekiq::Client#push and #push_bulk. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctl_push.h"
#include "ctl_table.h"
#include "push.h"
#include "banned.h"

/* Jobs per pipeline with --bulk, as Sidekiq's advice for push_bulk. */
#define BULK_BATCH 1000
/* The longest line --bulk reads. */
#define BULK_MAX_LINE (16u * 1024 * 1024)

/* The args lines of a --bulk file. */
struct bulk_lines {
	char **lines; /* owned */
	size_t n;
	size_t cap;
};

static void lines_release(struct bulk_lines *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->lines[i]);
	free(b->lines);
	memset(b, 0, sizeof(*b));
}

static int is_blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* Read every non-blank line of path ("-": stdin), each checked as a push's args. */
static int read_lines(struct ctl *ctl, const char *path, const char *klass,
		      struct bulk_lines *b)
{
	const struct ctl_args *a = ctl->args;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL, why[512];
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = -1;

	if (f == NULL)
		return ctl_fail(ctl, CTL_EXIT_USAGE, "--bulk: cannot open '%s': %s", path,
				strerror(errno));
	for (;;) {
		len = getline(&line, &cap, f);
		if (len < 0)
			break;
		lineno++;
		if ((size_t)len > BULK_MAX_LINE) {
			rc = ctl_fail(ctl, CTL_EXIT_USAGE, "--bulk: line %zu is longer than %u bytes",
				      lineno, BULK_MAX_LINE);
			goto out;
		}
		if (is_blank(line))
			continue;
		if (push_check(klass, a->queue, line, &a->push, why, sizeof(why)) < 0) {
			rc = ctl_fail(ctl, CTL_EXIT_USAGE, "--bulk: line %zu: %s", lineno, why);
			goto out;
		}
		if (b->n == b->cap) {
			b->cap = b->cap ? b->cap * 2 : 64;
			b->lines = xrealloc(b->lines, sizeof(*b->lines) * b->cap);
		}
		b->lines[b->n++] = xstrdup(line);
	}
	rc = 0;
out:
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static void print_jids(struct ctl *ctl, const char *queue, const char *jids, size_t n,
		       double at)
{
	struct ctl_json j;
	struct sbuf sb;
	size_t i;

	sbuf_init(&sb);
	if (ctl->args->json) {
		ctl_json_init(&j, &sb);
		ctl_json_begin_object(&j, NULL);
		if (n == 1 && ctl->args->bulk == NULL) {
			ctl_json_string(&j, "jid", jids);
		} else {
			ctl_json_begin_array(&j, "jids");
			for (i = 0; i < n; i++)
				ctl_json_string(&j, NULL, jids + i * WINCH_JID_SIZE);
			ctl_json_end_array(&j);
		}
		ctl_json_string(&j, "queue", push_queue(queue));
		if (at > 0)
			ctl_json_double(&j, "at", at);
		else
			ctl_json_null(&j, "at");
		ctl_json_end_object(&j);
		sbuf_addc(&sb, '\n');
	} else {
		for (i = 0; i < n; i++)
			sbuf_addf(&sb, "%s\n", jids + i * WINCH_JID_SIZE);
	}
	ctl_print(ctl, &sb, 0);
	sbuf_release(&sb);
}

static int push_bulk(struct ctl *ctl, const char *klass, const struct winch_push_options *opt,
		     double at)
{
	const struct ctl_args *a = ctl->args;
	struct bulk_lines b;
	char *jids;
	size_t done, k;
	int rc;

	memset(&b, 0, sizeof(b));
	rc = read_lines(ctl, a->bulk, klass, &b);
	if (rc != 0)
		return rc;
	if (b.n == 0) {
		lines_release(&b);
		return ctl_fail(ctl, CTL_EXIT_NOT_FOUND, "--bulk: no jobs in '%s'", a->bulk);
	}
	jids = xcalloc(b.n, WINCH_JID_SIZE);
	for (done = 0; done < b.n; done += k) {
		k = b.n - done < BULK_BATCH ? b.n - done : BULK_BATCH;
		if (winch_client_push_bulk(ctl->client, klass, a->queue,
					   (const char *const *)b.lines + done, k, opt, NULL,
					   jids + done * WINCH_JID_SIZE) < 0)
			break;
	}
	if (done > 0)
		print_jids(ctl, a->queue, jids, done, at);
	rc = done == b.n ? CTL_EXIT_OK : ctl_client_failed(ctl);
	if (done < b.n && done > 0)
		ctl_fail(ctl, rc, "--bulk: %zu of %zu jobs pushed (their jids are above)", done,
			 b.n);
	free(jids);
	lines_release(&b);
	return rc;
}

int ctl_push_run(struct ctl *ctl)
{
	const struct ctl_args *a = ctl->args;
	struct winch_push_options opt = a->push;
	char jid[WINCH_JID_SIZE];
	const char *klass, *args;
	double at;

	if (a->n_words == 0)
		return ctl_fail(ctl, CTL_EXIT_USAGE, "push: CLASS is needed (see winchctl -h)");
	if (a->n_words > (a->bulk ? 1 : 2))
		return ctl_fail(ctl, CTL_EXIT_USAGE, "push: '%s': unexpected word%s",
				a->words[a->bulk ? 1 : 2],
				a->bulk ? " (--bulk reads the args from the file)" : "");
	klass = a->words[0];
	args = a->n_words > 1 ? a->words[1] : NULL;
	/* One time for the score and what is printed: --in becomes an absolute --at. */
	at = push_when(&opt, 0, time_real());
	opt.at = at;
	opt.in = 0;
	if (a->bulk)
		return push_bulk(ctl, klass, &opt, at);
	if (winch_client_push(ctl->client, klass, a->queue, args, &opt, jid) < 0)
		return ctl_client_failed(ctl);
	print_jids(ctl, a->queue, jid, 1, at);
	return CTL_EXIT_OK;
}
