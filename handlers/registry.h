/*
 * registry: job class name -> handler. The built-in handlers are a static table; modules
 * (a later issue) add theirs at start, before any job is fetched, so lookups from the loop
 * thread need no lock.
 */
#ifndef WINCH_REGISTRY_H
#define WINCH_REGISTRY_H

#include <winch/winch.h>

#include "util.h"

/* Register every entry of defs (ended by { NULL, NULL }). Returns 0, or -1 if a class is
 * already registered (logged, naming it). defs is borrowed and must outlive the process. */
int registry_add(const struct winch_handler_def *defs) WINCH_MUSTCHECK;
/* The handler for class_name, or NULL. */
winch_handler_fn registry_lookup(const char *class_name);
/* Drop every registration (tests). */
void registry_clear(void);

#endif
