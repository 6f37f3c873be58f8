/* keys: Sidekiq's Redis key names, behind the optional redis-namespace prefix "<ns>:". */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "util.h"
#include "banned.h"

/* The namespace and "<ns>:", or NULL: written once at start-up, only read after. */
static char *name_space;
static char *prefix;

void keys_set_namespace(const char *ns)
{
	FREE_AND_NULL(name_space);
	FREE_AND_NULL(prefix);
	if (ns == NULL || ns[0] == '\0')
		return;
	name_space = xstrdup(ns);
	prefix = xasprintf("%s:", ns);
}

const char *keys_namespace(void)
{
	return name_space ? name_space : "";
}

static void add_prefix(struct sbuf *out)
{
	if (prefix != NULL)
		sbuf_adds(out, prefix);
}

void key_queue(struct sbuf *out, const char *queue)
{
	add_prefix(out);
	sbuf_adds(out, "queue:");
	sbuf_adds(out, queue);
}

void key_plain(struct sbuf *out, const char *name)
{
	add_prefix(out);
	sbuf_adds(out, name);
}

void key_identity(struct sbuf *out, const char *identity, const char *suffix)
{
	add_prefix(out);
	sbuf_adds(out, identity);
	if (suffix != NULL)
		sbuf_adds(out, suffix);
}

void key_stat_daily(struct sbuf *out, const char *stat, const char *date)
{
	add_prefix(out);
	sbuf_addf(out, "stat:%s:%s", stat, date);
}

void key_winch(struct sbuf *out, const char *name)
{
	add_prefix(out);
	sbuf_adds(out, "winch:");
	sbuf_adds(out, name);
}

void key_wip(struct sbuf *out, const char *identity, const char *queue)
{
	add_prefix(out);
	sbuf_addf(out, "winch:wip:%s:%s", identity, queue);
}

const char *key_queue_name(const char *key)
{
	size_t n;

	if (key == NULL)
		return NULL;
	if (prefix != NULL) {
		n = strlen(prefix);
		if (strncmp(key, prefix, n) != 0)
			return NULL;
		key += n;
	}
	if (strncmp(key, "queue:", 6) != 0)
		return NULL;
	return key + 6;
}

char *key_dup(const char *name)
{
	struct sbuf sb;

	sbuf_init(&sb);
	key_plain(&sb, name);
	return sbuf_detach(&sb, NULL);
}
