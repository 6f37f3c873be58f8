/*
 * util: the allocation policy (abort on OOM), a growable byte buffer, clocks,
 * and small helpers every module shares.
 */
#ifndef WINCH_UTIL_H
#define WINCH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define WINCH_MUSTCHECK __attribute__((warn_unused_result))
#define WINCH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FREE_AND_NULL(p)                                                                           \
	do {                                                                                       \
		free(p);                                                                           \
		(p) = NULL;                                                                        \
	} while (0)

/* File-local functions that unit tests call: static in the library, global in tests. */
#ifdef UNITTEST
#define WINCH_STATIC
#else
#define WINCH_STATIC static
#endif

/* Allocators that never return NULL: on OOM they print one line and abort(). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) WINCH_PRINTF(1, 2);

/*
 * sbuf: a growable byte buffer, always NUL-terminated (buf[len] == 0).
 * Invariant: buf is NULL only while cap == 0 (after sbuf_init); sbuf_str()
 * then returns "". The struct owns buf; sbuf_detach() hands it to the caller.
 */
struct sbuf {
	char *buf;
	size_t len;
	size_t cap;
};

void sbuf_init(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);        /* frees buf, back to the init state */
void sbuf_reset(struct sbuf *sb);          /* len = 0, keeps the memory */
void sbuf_grow(struct sbuf *sb, size_t extra);
void sbuf_add(struct sbuf *sb, const void *data, size_t n);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_addc(struct sbuf *sb, char c);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...) WINCH_PRINTF(2, 3);
void sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap);
/* Append s (n bytes) as a JSON string literal, quotes included. Invalid UTF-8 becomes U+FFFD. */
void sbuf_add_json_string(struct sbuf *sb, const char *s, size_t n);
const char *sbuf_str(const struct sbuf *sb);
char *sbuf_detach(struct sbuf *sb, size_t *len); /* caller owns the result; sb is re-inited */

/* Clocks. */
double time_real(void);     /* CLOCK_REALTIME, seconds as a double */
int64_t time_real_ms(void); /* CLOCK_REALTIME, integer milliseconds */
double time_mono(void);     /* CLOCK_MONOTONIC, seconds */
int64_t time_mono_us(void); /* CLOCK_MONOTONIC, microseconds */

/* Random numbers for jitter and nonces (not for secrets): uniform in [0, 1), [0, n). */
double rand_unit(void);
uint32_t rand_below(uint32_t n);
/*
 * n random bytes (at most 64) as 2n lowercase hex characters into out (size >= 2n + 1), from
 * OpenSSL's RAND_bytes, else getrandom(2). Thread-safe.
 */
void rand_hex(char *out, size_t nbytes);

/* Checked number parsing: 0 on success, -1 when s is not entirely a number in [min, max]. */
int parse_long(const char *s, long min, long max, long *out) WINCH_MUSTCHECK;
int parse_double(const char *s, double min, double max, double *out) WINCH_MUSTCHECK;

#endif
