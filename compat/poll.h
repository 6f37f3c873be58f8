/*
 * poll: when the scheduled-set poller runs next (SIDEKIQ-PROTOCOL.md §8). Cluster-wide the
 * processes together poll about once per average_scheduled_poll_interval.
 */
#ifndef WINCH_POLL_H
#define WINCH_POLL_H

#include "timestamp.h"

/*
 * The sleep before the next poll: avg = interval * max(process_count, 1); below 10
 * processes uniform in [avg/2, 1.5 avg), from 10 on uniform in [0, avg) (8: [0, 2 avg)).
 * u is uniform in [0, 1).
 */
double poll_next_interval(double interval, long process_count, enum sidekiq_gen gen, double u);

/*
 * The wait before the first poll: 10 + 5u seconds as Sidekiq does; when the interval was
 * set on the command line, 5u as Sidekiq does, but never longer than u * interval (so tests
 * with a short interval need not wait 5 s).
 */
double poll_initial_wait(double interval, int interval_given, double u);

#endif
