/*
 * ctl_table: winchctl's output. Human tables (aligned columns, long cells cut, control
 * characters shown as spaces), a small JSON writer for --json, and the formats both share
 * (ages, sizes). Nothing here talks to Redis.
 */
#ifndef WINCH_CTL_TABLE_H
#define WINCH_CTL_TABLE_H

#include <stddef.h>

#include "util.h"

/* A cell longer than this many characters is cut, ending in "...". */
#define CTL_CELL_MAX 60

/*
 * A table: ncols columns with headers, filled cell by cell (row after row). The table owns
 * its headers and cells (copies). A header starting with '>' makes its column right-aligned
 * (the '>' is not shown).
 */
struct ctl_table {
	int ncols;
	char **headers;   /* owned, ncols */
	int *right;       /* owned, ncols: 1 for right-aligned */
	char **cells;     /* owned, nrows * ncols once every row is complete */
	size_t n_cells;
	size_t cap_cells;
};

void ctl_table_init(struct ctl_table *t, const char *const *headers, int ncols);
void ctl_table_release(struct ctl_table *t);
/* The next cell, printf-style; after ncols cells the next row begins. */
void ctl_table_cell(struct ctl_table *t, const char *fmt, ...) WINCH_PRINTF(2, 3);
size_t ctl_table_rows(const struct ctl_table *t); /* complete rows */
/*
 * Append the table to out: the header line, then one line per row; columns two spaces
 * apart, padded to the widest cell (counted in UTF-8 characters), no trailing spaces.
 * A row left incomplete is not printed.
 */
void ctl_table_render(const struct ctl_table *t, struct sbuf *out);

/*
 * A JSON writer into an sbuf it borrows: values inside objects take a key, values inside
 * arrays or at the top take NULL. It adds the commas; the caller keeps the nesting right
 * (at most CTL_JSON_DEPTH levels).
 */
#define CTL_JSON_DEPTH 16

struct ctl_json {
	struct sbuf *out;      /* borrowed */
	int depth;
	unsigned char has_items[CTL_JSON_DEPTH + 1];
};

void ctl_json_init(struct ctl_json *j, struct sbuf *out);
void ctl_json_begin_object(struct ctl_json *j, const char *key);
void ctl_json_end_object(struct ctl_json *j);
void ctl_json_begin_array(struct ctl_json *j, const char *key);
void ctl_json_end_array(struct ctl_json *j);
void ctl_json_string(struct ctl_json *j, const char *key, const char *s); /* NULL: null */
void ctl_json_stringn(struct ctl_json *j, const char *key, const char *s, size_t n);
void ctl_json_int(struct ctl_json *j, const char *key, long long v);
void ctl_json_double(struct ctl_json *j, const char *key, double v); /* always a float */
void ctl_json_bool(struct ctl_json *j, const char *key, int v);
void ctl_json_null(struct ctl_json *j, const char *key);
/* text (n bytes) is one valid JSON value, written verbatim: the caller checked it. */
void ctl_json_raw(struct ctl_json *j, const char *key, const char *text, size_t n);

/* "45s", "12m", "3h", "2d" for a duration in seconds (negative taken as positive). */
void ctl_format_duration(double seconds, char *out, size_t outlen);
/* A time relative to now: "in 45s", "12m ago", "now" within half a second. */
void ctl_format_when(double t, double now, char *out, size_t outlen);
/* A size in KB: "812K", "45.2M", "1.3G". */
void ctl_format_kb(long kb, char *out, size_t outlen);

#endif
