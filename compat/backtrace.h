/*
 * backtrace: Sidekiq's error_backtrace encoding: base64(zlib deflate(JSON array of lines)),
 * strict base64 (no newlines), which every Sidekiq reader from 6.0 on decodes.
 */
#ifndef WINCH_BACKTRACE_H
#define WINCH_BACKTRACE_H

#include <stddef.h>

#include "util.h"

/* Append the encoded form of lines[0..n) to out (no quotes). Returns 0 or -1 (zlib error). */
int backtrace_encode(const char *const *lines, size_t n, struct sbuf *out) WINCH_MUSTCHECK;

/* Decode (for tests and winchctl): base64 (newlines allowed) then inflate; appends the JSON. */
int backtrace_decode(const char *b64, size_t len, struct sbuf *out) WINCH_MUSTCHECK;

/* Base64 helpers used by both. */
void base64_encode(const unsigned char *in, size_t n, struct sbuf *out);
int base64_decode(const char *in, size_t n, struct sbuf *out) WINCH_MUSTCHECK;

#endif
