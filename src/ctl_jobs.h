/*
 * ctl_jobs: `winchctl retries|scheduled|dead [ACTION [JID...]]`: list a sorted set as
 * Sidekiq's RetrySet/ScheduledSet/DeadSet enumerate it (highest score first), filtered by
 * class or jid, or act on its jobs as the API's SortedEntry does: retry (now), delete, kill.
 */
#ifndef WINCH_CTL_JOBS_H
#define WINCH_CTL_JOBS_H

#include "ctl.h"

/* Each returns an enum ctl_exit value. */
int ctl_jobs_retries(struct ctl *ctl);
int ctl_jobs_scheduled(struct ctl *ctl);
int ctl_jobs_dead(struct ctl *ctl);

#endif
