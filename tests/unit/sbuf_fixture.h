/* sbuf_fixture: a cmocka setup/teardown pair that gives each test a fresh struct sbuf. */
#ifndef WINCH_TEST_SBUF_FIXTURE_H
#define WINCH_TEST_SBUF_FIXTURE_H

#include <stdlib.h>

#include "util.h"

static inline int sb_setup(void **state)
{
	struct sbuf *sb = xmalloc(sizeof(*sb));

	sbuf_init(sb);
	*state = sb;
	return 0;
}

static inline int sb_teardown(void **state)
{
	struct sbuf *sb = *state;

	sbuf_release(sb);
	free(sb);
	return 0;
}

#endif
