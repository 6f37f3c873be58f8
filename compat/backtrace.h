/*
 * backtrace: Sidekiq's error_backtrace encoding: base64(zlib deflate(JSON array of lines)),
 * strict base64 (no newlines), which every Sidekiq reader from 6.0 on decodes.
 */
#ifndef WINCH_BACKTRACE_H
#define WINCH_BACKTRACE_H

#include <stddef.h>

#include "util.h"

/*
 * Append the encoded form of lines[0..n) to out (no quotes). lines and its strings are
 * borrowed (lines may be NULL when n is 0; a NULL line is written as ""); out is the
 * caller's. Returns 0 or -1 (zlib error).
 */
int backtrace_encode(const char *const *lines, size_t n, struct sbuf *out) WINCH_MUSTCHECK;

/*
 * Decode (for tests and winchctl): base64 (newlines allowed) then inflate; appends the JSON
 * to out. Returns 0, or -1 with out unchanged for bad base64, a bad or truncated zlib
 * stream, or more than 16 MiB inflated.
 */
int backtrace_decode(const char *b64, size_t len, struct sbuf *out) WINCH_MUSTCHECK;

/*
 * Base64 helpers used by both, appending to out. base64_encode writes strict RFC 4648
 * (padded, no newlines). base64_decode skips white space between characters, accepts a
 * missing final padding, and rejects anything else (other characters, data after '=',
 * non-zero leftover bits): -1 with out unchanged.
 */
void base64_encode(const unsigned char *in, size_t n, struct sbuf *out);
int base64_decode(const char *in, size_t n, struct sbuf *out) WINCH_MUSTCHECK;

#endif
