/* registry: a small open-addressing table from Ruby class name to handler function. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "registry.h"
#include "banned.h"

static const struct winch_handler_def **slots;
static size_t nslots, nused;

static size_t hash_name(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static const struct winch_handler_def **find_slot(const char *name)
{
	size_t i = hash_name(name) & (nslots - 1);

	while (slots[i] && strcmp(slots[i]->class_name, name) != 0)
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static void grow(void)
{
	const struct winch_handler_def **old = slots;
	size_t oldn = nslots, i;

	nslots = nslots ? nslots * 2 : 64;
	slots = xcalloc(nslots, sizeof(*slots));
	for (i = 0; i < oldn; i++)
		if (old[i])
			*find_slot(old[i]->class_name) = old[i];
	free(old);
}

int registry_add(const struct winch_handler_def *defs)
{
	const struct winch_handler_def **s;

	for (; defs->class_name; defs++) {
		if ((nused + 1) * 2 > nslots)
			grow();
		s = find_slot(defs->class_name);
		if (*s)
			return log_errorf("job class '%s' is registered twice", defs->class_name);
		*s = defs;
		nused++;
	}
	return 0;
}

winch_handler_fn registry_lookup(const char *class_name)
{
	const struct winch_handler_def **s;

	if (nslots == 0 || class_name == NULL)
		return NULL;
	s = find_slot(class_name);
	return *s ? (*s)->fn : NULL;
}

void registry_clear(void)
{
	FREE_AND_NULL(slots);
	nslots = 0;
	nused = 0;
}
