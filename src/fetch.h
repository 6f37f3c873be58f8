/* fetch: the blocking fetch from the queues; its calls are declared in engine.h. */
#ifndef WINCH_FETCH_H
#define WINCH_FETCH_H

#include "engine.h"

#define FETCH_BLOCK_SECONDS 2 /* BRPOP's timeout, as Sidekiq's BasicFetch */

#endif
