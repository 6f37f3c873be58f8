/* refuse: a test module whose init refuses to start. */
#include <winch/winch.h>

static enum winch_result refuse_perform(struct winch_job *job)
{
	(void)job;
	return WINCH_OK;
}

static int refuse_init(void)
{
	return -1;
}

static const struct winch_handler_def refuse_handlers[] = {
	{"Test::Refused", refuse_perform, NULL},
	{NULL, NULL, NULL},
};

WINCH_MODULE("refuse", refuse_handlers, NULL, NULL, refuse_init);
