/* outcome: the Redis writes that end a job; its calls are declared in engine.h. */
#ifndef WINCH_OUTCOME_H
#define WINCH_OUTCOME_H

#include "engine.h"

#endif
