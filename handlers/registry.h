/*
 * registry: what modules register: job class name -> handler definition (with its class
 * options), and the process-wide error and death hooks. The built-in handlers are one static
 * table; modules add theirs at start, before any job is fetched, so lookups from the loop and
 * handler threads need no lock.
 */
#ifndef WINCH_REGISTRY_H
#define WINCH_REGISTRY_H

#include <winch/winch.h>

#include "util.h"

/*
 * Register every entry of defs (ended by a NULL class_name). Returns 0, or -1 if a class is
 * already registered or an entry has no function (logged, naming the class and origin, the
 * module's file). defs is borrowed and must outlive the process; origin is copied.
 */
int registry_add(const struct winch_handler_def *defs, const char *origin) WINCH_MUSTCHECK;
/* The definition for class_name, or NULL. Borrowed. */
const struct winch_handler_def *registry_find(const char *class_name);
/* Where class_name was registered from ("built-in" or a module's path), or NULL. */
const char *registry_origin(const char *class_name);
/* Add process-wide hooks (either may be NULL). */
void registry_add_hooks(winch_error_fn on_error, winch_death_fn on_death);
/* Call every error / death hook, in registration order (handler threads). */
void registry_run_error_hooks(const struct winch_job *job, const char *error_class,
			      const char *message);
void registry_run_death_hooks(const struct winch_job *job, const char *error_class,
			      const char *message);
size_t registry_count(void);
/* Drop every registration (tests). */
void registry_clear(void);

#endif
