/*
 * builtin: the handlers that ship inside winch, named as Ruby classes so any Sidekiq client
 * can enqueue them: Winch::Noop, Winch::Echo, Winch::Fail, Winch::Sleep, Winch::Digest.
 * README.md documents each exactly.
 */
#ifndef WINCH_BUILTIN_H
#define WINCH_BUILTIN_H

#include <winch/winch.h>

/* The table, ended by { NULL, NULL }. */
extern const struct winch_handler_def builtin_handlers[];

#endif
