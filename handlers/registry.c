/* registry: an open-addressing table from Ruby class name to handler, and the hook lists. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "registry.h"
#include "banned.h"

struct reg_slot {
	const struct winch_handler_def *def; /* borrowed */
	char *origin;                        /* owned */
};

static struct reg_slot *slots;
static size_t nslots, nused;

static winch_error_fn *error_hooks;
static size_t n_error_hooks;
static winch_death_fn *death_hooks;
static size_t n_death_hooks;

static size_t hash_name(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct reg_slot *find_slot(const char *name)
{
	size_t i = hash_name(name) & (nslots - 1);

	while (slots[i].def && strcmp(slots[i].def->class_name, name) != 0)
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static void grow(void)
{
	struct reg_slot *old = slots;
	size_t oldn = nslots, i;

	nslots = nslots ? nslots * 2 : 64;
	slots = xcalloc(nslots, sizeof(*slots));
	for (i = 0; i < oldn; i++)
		if (old[i].def)
			*find_slot(old[i].def->class_name) = old[i];
	free(old);
}

int registry_add(const struct winch_handler_def *defs, const char *origin)
{
	struct reg_slot *s;

	for (; defs->class_name; defs++) {
		if (defs->fn == NULL)
			return log_errorf("'%s': job class '%s' has no handler function", origin,
					  defs->class_name);
		if ((nused + 1) * 2 > nslots)
			grow();
		s = find_slot(defs->class_name);
		if (s->def)
			return log_errorf("'%s': job class '%s' is already registered by '%s'",
					  origin, defs->class_name, s->origin);
		s->def = defs;
		s->origin = xstrdup(origin);
		nused++;
	}
	return 0;
}

const struct winch_handler_def *registry_find(const char *class_name)
{
	if (nslots == 0 || class_name == NULL)
		return NULL;
	return find_slot(class_name)->def;
}

const char *registry_origin(const char *class_name)
{
	struct reg_slot *s;

	if (nslots == 0 || class_name == NULL)
		return NULL;
	s = find_slot(class_name);
	return s->def ? s->origin : NULL;
}

void registry_add_hooks(winch_error_fn on_error, winch_death_fn on_death)
{
	if (on_error) {
		error_hooks = xrealloc(error_hooks, sizeof(*error_hooks) * (n_error_hooks + 1));
		error_hooks[n_error_hooks++] = on_error;
	}
	if (on_death) {
		death_hooks = xrealloc(death_hooks, sizeof(*death_hooks) * (n_death_hooks + 1));
		death_hooks[n_death_hooks++] = on_death;
	}
}

void registry_run_error_hooks(const struct winch_job *job, const char *error_class,
			      const char *message)
{
	size_t i;

	for (i = 0; i < n_error_hooks; i++)
		error_hooks[i](job, error_class, message);
}

void registry_run_death_hooks(const struct winch_job *job, const char *error_class,
			      const char *message)
{
	size_t i;

	for (i = 0; i < n_death_hooks; i++)
		death_hooks[i](job, error_class, message);
}

size_t registry_count(void)
{
	return nused;
}

void registry_clear(void)
{
	size_t i;

	for (i = 0; i < nslots; i++)
		free(slots[i].origin);
	FREE_AND_NULL(slots);
	nslots = 0;
	nused = 0;
	FREE_AND_NULL(error_hooks);
	n_error_hooks = 0;
	FREE_AND_NULL(death_hooks);
	n_death_hooks = 0;
}
