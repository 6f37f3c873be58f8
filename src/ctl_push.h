/* ctl_push: `winchctl push`, one job or a file of them, through the client's push API. */
#ifndef WINCH_CTL_PUSH_H
#define WINCH_CTL_PUSH_H

#include "ctl.h"

/* push CLASS [ARGS_JSON] [--queue Q] [--in S | --at T] [--retry R] [--backtrace B]
 * [--extra JSON] [--bulk FILE|-]. Returns an enum ctl_exit value. */
int ctl_push_run(struct ctl *ctl);

#endif
