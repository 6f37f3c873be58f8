/*
 * jsonraw: a scanner over JSON text that finds where values start and end without
 * building a tree, and a rewriter that changes top-level members of an object while
 * copying every other byte as it was. winch never re-serializes what it only read:
 * json-c would turn integers beyond 64 bits into wrong numbers.
 *
 * The scanner is iterative (no recursion): nesting depth is bounded only by max_depth,
 * and by the text's length in the functions without one (their stack lives on the heap).
 * The grammar is RFC 8259's; bytes inside strings are not checked for UTF-8, as neither
 * json-c's default tokener nor Ruby's parser checks them. Every text is borrowed.
 */
#ifndef WINCH_JSONRAW_H
#define WINCH_JSONRAW_H

#include <stddef.h>

#include "util.h"

/* A byte range [off, off + len) inside the text scanned. */
struct jsonraw_span {
	size_t off;
	size_t len;
};

/* One member of an object: the key's span includes its quotes; the value's span is exact. */
struct jsonraw_member {
	struct jsonraw_span key;
	struct jsonraw_span value;
};

/*
 * Check that text[0..len) is one JSON value (surrounding white space allowed) nested no
 * deeper than max_depth containers (0 allows only a scalar). Returns 0, or -1 with a short
 * reason in err (errlen bytes; err may be NULL): "nested deeper than 128", "unexpected
 * character at byte 12", "trailing data at byte 40", "... at end of text".
 */
int jsonraw_validate(const char *text, size_t len, int max_depth, char *err, size_t errlen)
	WINCH_MUSTCHECK;

/*
 * The members of the top-level object in text. Fills at most max entries of out (NULL when
 * max is 0) and returns the number of members (which may exceed max), or -1 if text is not
 * an object. The whole text is checked: -1 also for any syntax error or trailing data.
 */
int jsonraw_members(const char *text, size_t len, struct jsonraw_member *out, int max);

/* The elements of the top-level array in text, likewise; -1 if text is not an array. */
int jsonraw_elements(const char *text, size_t len, struct jsonraw_span *out, int max);

/*
 * Find the member named key (plain ASCII or UTF-8, compared after unescaping the member's
 * key) of the top-level object. With duplicate keys the last one is found, as json-c and
 * Ruby read them. Returns 1 and sets *value (may be NULL), 0 if absent, -1 if text is not
 * an object.
 */
int jsonraw_find(const char *text, size_t len, const char *key, struct jsonraw_span *value);

/*
 * One change to a top-level member: value is the new JSON text (value_len bytes, not
 * checked: it must be one valid JSON value), or NULL to delete the key. Both borrowed.
 */
struct jsonraw_edit {
	const char *key;
	const char *value;
	size_t value_len;
};

/*
 * Append to out the object in text with the edits applied: a key present is replaced in
 * place (order kept), deleted, or, when absent, appended at the end in the order of edits.
 * Every byte outside the edited members is copied unchanged, separators included: deleting
 * a member takes its comma with it. Appended members reuse the text's last separator and
 * colon spacing (",\n  " in pretty text), else "," and ":". Keys match after unescaping;
 * an edited key present several times keeps only its last occurrence; if several edits name
 * one key the last edit wins. Returns 0, or -1 if text is not an object (out is then
 * unchanged).
 */
int jsonraw_rewrite(const char *text, size_t len, const struct jsonraw_edit *edits, size_t n,
		    struct sbuf *out) WINCH_MUSTCHECK;

#endif
