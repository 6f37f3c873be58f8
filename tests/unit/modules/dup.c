/* dup: a test module that registers a class the good module has. */
#include <winch/winch.h>

static enum winch_result dup_perform(struct winch_job *job)
{
	(void)job;
	return WINCH_OK;
}

static const struct winch_handler_def dup_handlers[] = {
	{"Test::Other", dup_perform, NULL},
	{"Test::Good", dup_perform, NULL},
	{NULL, NULL, NULL},
};

WINCH_MODULE("dup", dup_handlers, NULL, NULL, NULL);
