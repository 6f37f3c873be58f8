/*
 * ctl_procs: `winchctl processes` (Sidekiq::ProcessSet, the Busy page) and `quiet`/`stop`
 * (Sidekiq::Process#quiet!/#stop!: LPUSH <identity>-signals + EXPIRE 60 in one MULTI).
 */
#ifndef WINCH_CTL_PROCS_H
#define WINCH_CTL_PROCS_H

#include "ctl.h"

/* Each returns an enum ctl_exit value. */
int ctl_procs_list(struct ctl *ctl);
int ctl_procs_quiet(struct ctl *ctl);
int ctl_procs_stop(struct ctl *ctl);

#endif
