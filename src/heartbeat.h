/* heartbeat: the process's beat in Redis; its calls are declared in engine.h. */
#ifndef WINCH_HEARTBEAT_H
#define WINCH_HEARTBEAT_H

#include "engine.h"

#define STATS_DAILY_TTL "157680000" /* 5 years */

#endif
