/* ctl_stats: `winchctl stats` (Sidekiq::Stats) and `winchctl queues` (Sidekiq::Queue.all). */
#ifndef WINCH_CTL_STATS_H
#define WINCH_CTL_STATS_H

#include <stddef.h>

#include "ctl.h"

/* Both return an enum ctl_exit value. */
int ctl_stats_show(struct ctl *ctl);
int ctl_stats_queues(struct ctl *ctl);

/*
 * A queue's latency as Sidekiq's Queue#latency: now minus the oldest job's enqueued_at
 * (seconds; a JSON integer is read as milliseconds, as Sidekiq 8 does), or 0 when there is
 * no job (job NULL), it is not JSON or it has no enqueued_at. job is borrowed.
 */
double ctl_stats_latency(const char *job, size_t len, double now);

#endif
