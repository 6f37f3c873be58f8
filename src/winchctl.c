/* winchctl: the operator's command-line tool; everything it does is in libwinch's ctl modules. */
#include "config.h"

#include <signal.h>
#include <stdio.h>

#include "ctl.h"
#include "banned.h"

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return ctl_main(argc, argv, stdout, stderr);
}
