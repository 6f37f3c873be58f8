/*
 * module: loading handler modules (shared objects exporting `winch_module`) at start, with the
 * checks an operator relies on: the file exists, is owned by root or by the user winch runs
 * as, is not writable by group or others, is a module of this API version, and registers no
 * class twice.
 */
#ifndef WINCH_MODULE_H
#define WINCH_MODULE_H

#include "util.h"

/* Load one module. Returns 0, or -1 after one error line naming the file. */
int module_load(const char *path) WINCH_MUSTCHECK;
/* Load every *.so in dir, in name order. Returns 0, or -1 (logged). */
int module_load_dir(const char *dir) WINCH_MUSTCHECK;
/* The modules loaded so far, for the start-up line: "extract (/usr/lib/...), ...". */
const char *module_summary(void);

#endif
