/* good: a well-formed test module with one class, options and both hooks. */
#include <winch/winch.h>

int good_init_calls;
int good_error_calls;
int good_death_calls;

static enum winch_result good_perform(struct winch_job *job)
{
	(void)job;
	return WINCH_OK;
}

static void good_error(const struct winch_job *job, const char *cls, const char *msg)
{
	(void)job;
	(void)cls;
	(void)msg;
	good_error_calls++;
}

static void good_death(const struct winch_job *job, const char *cls, const char *msg)
{
	(void)job;
	(void)cls;
	(void)msg;
	good_death_calls++;
}

static int good_init(void)
{
	good_init_calls++;
	return 0;
}

static const struct winch_class_options good_options = {WINCH_RETRY_COUNT, 3, -1, NULL, NULL};

static const struct winch_handler_def good_handlers[] = {
	{"Test::Good", good_perform, &good_options},
	{NULL, NULL, NULL},
};

WINCH_MODULE("good", good_handlers, good_error, good_death, good_init);
