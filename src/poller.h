/* poller: moves due jobs from the retry and schedule sets; its calls are in engine.h. */
#ifndef WINCH_POLLER_H
#define WINCH_POLLER_H

#include "engine.h"

#define POLLER_BATCH "100" /* due members read per round trip */

#endif
