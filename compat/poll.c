/* poll: the scheduled-set poller's sleeps, as Sidekiq's Scheduled::Poller draws them. */
#include "config.h"

#include "poll.h"
#include "banned.h"

/* Sidekiq's INITIAL_WAIT and the random spread added to it. */
#define POLL_INITIAL_FIXED 10.0
#define POLL_INITIAL_SPREAD 5.0
/* From this many processes on, the ±50% band around the average is dropped. */
#define POLL_MANY_PROCESSES 10

double poll_next_interval(double interval, long process_count, enum sidekiq_gen gen, double u)
{
	double avg = interval * (double)(process_count > 1 ? process_count : 1);

	if (process_count < POLL_MANY_PROCESSES)
		return avg * u + avg / 2;
	if (gen >= SIDEKIQ_8)
		return avg * u * 2;
	return avg * u;
}

double poll_initial_wait(double interval, int interval_given, double u)
{
	double spread = POLL_INITIAL_SPREAD;

	if (!interval_given)
		return POLL_INITIAL_FIXED + spread * u;
	if (interval < spread)
		spread = interval;
	return spread * u;
}
