/*
 * jsonraw: find values in JSON text as byte spans, and rewrite top-level members of an
 * object while every other byte is copied as it was.
 *
 * DESIGN: one iterative scanner (struct scan) walks a value with an explicit stack of open
 * containers, one byte per level, so hostile nesting costs heap, never C stack. The grammar
 * is RFC 8259's; string bytes are not checked for UTF-8, as neither json-c's default tokener
 * nor Ruby's parser checks them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonraw.h"
#include "util.h"
#include "banned.h"

#define SCAN_SMALL_STACK 64

struct scan {
	const char *t;
	size_t len;
	size_t pos;
	size_t max_depth;
	size_t depth;	      /* containers open */
	unsigned char *stack; /* '{' or '[' per open level; small or heap */
	size_t cap;
	unsigned char small[SCAN_SMALL_STACK];
	char *err; /* borrowed, may be NULL */
	size_t errlen;
};

static void scan_init(struct scan *s, const char *t, size_t len, size_t max_depth, char *err,
		      size_t errlen)
{
	s->t = t;
	s->len = len;
	s->pos = 0;
	s->max_depth = max_depth;
	s->depth = 0;
	s->stack = s->small;
	s->cap = sizeof(s->small);
	s->err = err;
	s->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
}

static void scan_release(struct scan *s)
{
	if (s->stack != s->small)
		free(s->stack);
	s->stack = s->small;
}

/* Record why the scan failed (the first reason wins) and return -1. */
static int scan_fail(struct scan *s, const char *what)
{
	if (s->err == NULL || s->errlen == 0 || s->err[0] != '\0')
		return -1;
	if (s->pos >= s->len)
		snprintf(s->err, s->errlen, "%s at end of text", what);
	else
		snprintf(s->err, s->errlen, "%s at byte %zu", what, s->pos);
	return -1;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct scan *s)
{
	while (s->pos < s->len && is_ws(s->t[s->pos]))
		s->pos++;
}

static int peek(const struct scan *s)
{
	return s->pos < s->len ? (unsigned char)s->t[s->pos] : -1;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int scan_push(struct scan *s, unsigned char open)
{
	if (s->depth >= s->max_depth) {
		if (s->err && s->errlen && s->err[0] == '\0')
			snprintf(s->err, s->errlen, "nested deeper than %zu", s->max_depth);
		return -1;
	}
	if (s->depth == s->cap) {
		unsigned char *bigger = xmalloc(s->cap * 2);

		memcpy(bigger, s->stack, s->cap);
		if (s->stack != s->small)
			free(s->stack);
		s->stack = bigger;
		s->cap *= 2;
	}
	s->stack[s->depth++] = open;
	return 0;
}

/* A string starting at the '"' under pos; pos ends past the closing quote. */
static int scan_string(struct scan *s)
{
	int i;

	if (peek(s) != '"')
		return scan_fail(s, "expected a string");
	s->pos++;
	while (s->pos < s->len) {
		unsigned char c = (unsigned char)s->t[s->pos];

		if (c == '"') {
			s->pos++;
			return 0;
		}
		if (c < 0x20)
			return scan_fail(s, "control character in string");
		s->pos++;
		if (c != '\\')
			continue;
		c = (unsigned char)peek(s);
		if (strchr("\"\\/bfnrt", c) != NULL && c != '\0') {
			s->pos++;
			continue;
		}
		if (c != 'u')
			return scan_fail(s, "bad escape in string");
		s->pos++;
		for (i = 0; i < 4; i++, s->pos++) {
			if (!is_hex(peek(s)))
				return scan_fail(s, "bad \\u escape in string");
		}
	}
	return scan_fail(s, "unterminated string");
}

static void skip_digits(struct scan *s)
{
	while (is_digit(peek(s)))
		s->pos++;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct scan *s)
{
	if (peek(s) == '-')
		s->pos++;
	if (peek(s) == '0')
		s->pos++;
	else if (is_digit(peek(s)))
		skip_digits(s);
	else
		return scan_fail(s, "bad number");
	if (peek(s) == '.') {
		s->pos++;
		if (!is_digit(peek(s)))
			return scan_fail(s, "bad number");
		skip_digits(s);
	}
	if (peek(s) == 'e' || peek(s) == 'E') {
		s->pos++;
		if (peek(s) == '+' || peek(s) == '-')
			s->pos++;
		if (!is_digit(peek(s)))
			return scan_fail(s, "bad number");
		skip_digits(s);
	}
	return 0;
}

static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if (s->len - s->pos < n || memcmp(s->t + s->pos, word, n) != 0)
		return scan_fail(s, "unexpected character");
	s->pos += n;
	return 0;
}

static int scan_scalar(struct scan *s)
{
	int c = peek(s);

	if (c == '"')
		return scan_string(s);
	if (c == '-' || is_digit(c))
		return scan_number(s);
	if (c == 't')
		return scan_literal(s, "true");
	if (c == 'f')
		return scan_literal(s, "false");
	if (c == 'n')
		return scan_literal(s, "null");
	if (c < 0)
		return scan_fail(s, "expected a value");
	return scan_fail(s, "unexpected character");
}

/* After '{' or ',' inside an object: the key, white space and ':'. */
static int scan_key(struct scan *s)
{
	skip_ws(s);
	if (scan_string(s) < 0)
		return -1;
	skip_ws(s);
	if (peek(s) != ':')
		return scan_fail(s, "expected ':'");
	s->pos++;
	return 0;
}

/*
 * Just past '{' or '['. Returns 1 if the container was empty and is already closed,
 * 0 if a value (after a key, for objects) is expected next, -1 on error.
 */
static int scan_open(struct scan *s, unsigned char open)
{
	unsigned char close = open == '{' ? '}' : ']';

	if (scan_push(s, open) < 0)
		return -1;
	s->pos++;
	skip_ws(s);
	if (peek(s) == close) {
		s->pos++;
		s->depth--;
		return 1;
	}
	if (open == '{' && scan_key(s) < 0)
		return -1;
	return 0;
}

/*
 * A value has just ended. Close containers until one continues with ','. Returns 1 when the
 * outermost value is complete, 0 when another value is expected, -1 on error.
 */
static int scan_after_value(struct scan *s, size_t base)
{
	while (s->depth > base) {
		unsigned char open = s->stack[s->depth - 1];

		skip_ws(s);
		if (peek(s) == ',') {
			s->pos++;
			if (open == '{' && scan_key(s) < 0)
				return -1;
			return 0;
		}
		if (peek(s) != (open == '{' ? '}' : ']'))
			return scan_fail(s, open == '{' ? "expected ',' or '}'"
							: "expected ',' or ']'");
		s->pos++;
		s->depth--;
	}
	return 1;
}

/* One complete value starting at pos (white space first allowed); pos ends just past it. */
static int scan_value(struct scan *s)
{
	size_t base = s->depth;
	int r;

	for (;;) {
		skip_ws(s);
		if (peek(s) == '{' || peek(s) == '[') {
			r = scan_open(s, (unsigned char)peek(s));
			if (r < 0)
				return -1;
			if (r == 0)
				continue;
		} else if (scan_scalar(s) < 0) {
			return -1;
		}
		r = scan_after_value(s, base);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
}

int jsonraw_validate(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	struct scan s;
	int r;

	scan_init(&s, text, len, max_depth < 0 ? 0 : (size_t)max_depth, err, errlen);
	r = scan_value(&s);
	if (r == 0) {
		skip_ws(&s);
		if (s.pos < s.len)
			r = scan_fail(&s, "trailing data");
	}
	scan_release(&s);
	return r;
}

/* Called for each member (key.len == 0 for array elements); nonzero stops with that result. */
typedef int (*top_fn)(void *ctx, const struct jsonraw_member *m);

/* Where the top-level container's brackets are. */
struct top {
	size_t open;
	size_t close;
};

static int top_next(struct scan *s, unsigned char open, struct jsonraw_member *m)
{
	skip_ws(s);
	m->key.off = s->pos;
	m->key.len = 0;
	if (open == '{') {
		if (scan_string(s) < 0)
			return -1;
		m->key.len = s->pos - m->key.off;
		skip_ws(s);
		if (peek(s) != ':')
			return scan_fail(s, "expected ':'");
		s->pos++;
		skip_ws(s);
	}
	m->value.off = s->pos;
	if (scan_value(s) < 0)
		return -1;
	m->value.len = s->pos - m->value.off;
	return 0;
}

static int top_scan_members(struct scan *s, unsigned char open, top_fn fn, void *ctx)
{
	unsigned char close = open == '{' ? '}' : ']';
	struct jsonraw_member m;
	int r;

	skip_ws(s);
	if (peek(s) == close)
		return 0;
	for (;;) {
		if (top_next(s, open, &m) < 0)
			return -1;
		r = fn(ctx, &m);
		if (r != 0)
			return r;
		skip_ws(s);
		if (peek(s) == close)
			return 0;
		if (peek(s) != ',')
			return scan_fail(s, "expected ','");
		s->pos++;
	}
}

/*
 * Walk the members (or elements) of the top-level container of kind open, calling fn for
 * each. The whole text is checked: -1 if it is not valid JSON or not of that kind.
 */
static int top_scan(const char *text, size_t len, unsigned char open, top_fn fn, void *ctx,
		    struct top *top)
{
	struct scan s;
	int r;

	scan_init(&s, text, len, (size_t)-1, NULL, 0);
	skip_ws(&s);
	if (peek(&s) != open)
		return -1;
	top->open = s.pos++;
	r = top_scan_members(&s, open, fn, ctx);
	if (r == 0) {
		top->close = s.pos++;
		skip_ws(&s);
		if (s.pos < s.len)
			r = -1;
	}
	scan_release(&s);
	return r < 0 ? -1 : 0;
}

struct collect {
	struct jsonraw_member *out; /* borrowed, max entries */
	int max;
	int count;
};

static int collect_member(void *ctx, const struct jsonraw_member *m)
{
	struct collect *c = ctx;

	if (c->count < c->max)
		c->out[c->count] = *m;
	c->count++;
	return 0;
}

int jsonraw_members(const char *text, size_t len, struct jsonraw_member *out, int max)
{
	struct collect c = {out, out ? max : 0, 0};
	struct top top;

	if (top_scan(text, len, '{', collect_member, &c, &top) < 0)
		return -1;
	return c.count;
}

struct collect_el {
	struct jsonraw_span *out; /* borrowed, max entries */
	int max;
	int count;
};

static int collect_element(void *ctx, const struct jsonraw_member *m)
{
	struct collect_el *c = ctx;

	if (c->count < c->max)
		c->out[c->count] = m->value;
	c->count++;
	return 0;
}

int jsonraw_elements(const char *text, size_t len, struct jsonraw_span *out, int max)
{
	struct collect_el c = {out, out ? max : 0, 0};
	struct top top;

	if (top_scan(text, len, '[', collect_element, &c, &top) < 0)
		return -1;
	return c.count;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

static unsigned long read_u4(const char *p)
{
	return (unsigned long)(hex_value(p[0]) << 12 | hex_value(p[1]) << 8 | hex_value(p[2]) << 4 |
			       hex_value(p[3]));
}

static size_t utf8_put(unsigned long cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A \u escape at p (6 bytes, already validated), with a following low surrogate if paired. */
static size_t decode_u_escape(const char *p, const char *end, unsigned char *out, size_t *outlen)
{
	unsigned long cp = read_u4(p + 2), lo;

	if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 12 && p[6] == '\\' && p[7] == 'u') {
		lo = read_u4(p + 8);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			*outlen = utf8_put(0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00), out);
			return 12;
		}
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd; /* a lone surrogate, as json-c decodes it */
	*outlen = utf8_put(cp, out);
	return 6;
}

/* Decode one character of a validated string body at p into out; returns bytes consumed. */
static size_t decode_one(const char *p, const char *end, unsigned char *out, size_t *outlen)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	*outlen = 1;
	if (*p != '\\') {
		out[0] = (unsigned char)*p;
		return 1;
	}
	if (p[1] == 'u')
		return decode_u_escape(p, end, out, outlen);
	hit = strchr(from, p[1]);
	out[0] = (unsigned char)(hit ? to[hit - from] : p[1]);
	return 2;
}

/* Does the quoted key at span k of text, unescaped, equal want? */
static int key_equals(const char *text, struct jsonraw_span k, const char *want)
{
	const char *p = text + k.off + 1, *end = text + k.off + k.len - 1;
	size_t wlen = strlen(want), got = 0, n;
	unsigned char ch[4];

	if (memchr(p, '\\', (size_t)(end - p)) == NULL)
		return (size_t)(end - p) == wlen && memcmp(p, want, wlen) == 0;
	while (p < end) {
		p += decode_one(p, end, ch, &n);
		if (wlen - got < n || memcmp(want + got, ch, n) != 0)
			return 0;
		got += n;
	}
	return got == wlen;
}

struct finder {
	const char *text;
	const char *key;
	int found;
	struct jsonraw_span value;
};

static int find_member(void *ctx, const struct jsonraw_member *m)
{
	struct finder *f = ctx;

	/* Keep looking: with duplicate keys the last one wins, as in json-c and Ruby. */
	if (key_equals(f->text, m->key, f->key)) {
		f->found = 1;
		f->value = m->value;
	}
	return 0;
}

int jsonraw_find(const char *text, size_t len, const char *key, struct jsonraw_span *value)
{
	struct finder f = {text, key, 0, {0, 0}};
	struct top top;

	if (top_scan(text, len, '{', find_member, &f, &top) < 0)
		return -1;
	if (f.found && value)
		*value = f.value;
	return f.found;
}

/* A growable list of members, for the rewriter. */
struct mlist {
	struct jsonraw_member *m; /* owned */
	size_t n;
	size_t cap;
};

static int mlist_add(void *ctx, const struct jsonraw_member *m)
{
	struct mlist *l = ctx;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->m = xrealloc(l->m, l->cap * sizeof(*l->m));
	}
	l->m[l->n++] = *m;
	return 0;
}

/* The rewrite in progress: the text, its members and what becomes of each. */
struct rewrite {
	const char *text;
	const struct jsonraw_edit *edits;
	size_t n_edits;
	struct mlist members;
	struct top top;
	struct sbuf *out;
	size_t emitted;	  /* members written so far */
	size_t last_kept; /* index of the last member written */
};

static size_t span_end(struct jsonraw_span sp)
{
	return sp.off + sp.len;
}

/* The edit for key span k (the last of several with that key), or NULL. */
static const struct jsonraw_edit *rewrite_edit_for(const struct rewrite *rw, struct jsonraw_span k)
{
	size_t i = rw->n_edits;

	while (i-- > 0) {
		if (key_equals(rw->text, k, rw->edits[i].key))
			return &rw->edits[i];
	}
	return NULL;
}

/* Does a member after i also carry key? Then member i is an earlier duplicate. */
static int rewrite_has_later_dup(const struct rewrite *rw, size_t i, const char *key)
{
	size_t j;

	for (j = i + 1; j < rw->members.n; j++) {
		if (key_equals(rw->text, rw->members.m[j].key, key))
			return 1;
	}
	return 0;
}

/* Write member i, edited or not, after the right separator. */
static void rewrite_emit_member(struct rewrite *rw, size_t i, const struct jsonraw_edit *e)
{
	const struct jsonraw_member *m = &rw->members.m[i];
	size_t sep = span_end(rw->members.m[rw->last_kept].value);

	if (rw->emitted > 0) /* the separator that followed the previous member written */
		sbuf_add(rw->out, rw->text + sep, rw->members.m[rw->last_kept + 1].key.off - sep);
	if (e == NULL) {
		sbuf_add(rw->out, rw->text + m->key.off, span_end(m->value) - m->key.off);
	} else {
		sbuf_add(rw->out, rw->text + m->key.off, m->value.off - m->key.off);
		sbuf_add(rw->out, e->value, e->value_len);
	}
	rw->emitted++;
	rw->last_kept = i;
}

static void rewrite_members(struct rewrite *rw)
{
	const struct jsonraw_edit *e;
	size_t i;

	for (i = 0; i < rw->members.n; i++) {
		e = rewrite_edit_for(rw, rw->members.m[i].key);
		if (e != NULL && (e->value == NULL || rewrite_has_later_dup(rw, i, e->key)))
			continue;
		rewrite_emit_member(rw, i, e);
	}
}

/* The separator for appended members: the original's last one, else ",". */
static void rewrite_add_sep(const struct rewrite *rw)
{
	const struct jsonraw_member *m = rw->members.m;
	size_t n = rw->members.n, from;

	if (n < 2) {
		sbuf_addc(rw->out, ',');
		return;
	}
	from = span_end(m[n - 2].value);
	sbuf_add(rw->out, rw->text + from, m[n - 1].key.off - from);
}

static int edit_present(const struct rewrite *rw, const char *key)
{
	size_t i;

	for (i = 0; i < rw->members.n; i++) {
		if (key_equals(rw->text, rw->members.m[i].key, key))
			return 1;
	}
	return 0;
}

/* Append the edits whose keys are absent, in order, with the original's colon spacing. */
static void rewrite_append(struct rewrite *rw)
{
	const struct jsonraw_member *last =
	    rw->members.n ? &rw->members.m[rw->members.n - 1] : NULL;
	const struct jsonraw_edit *e;
	size_t i, j;

	for (i = 0; i < rw->n_edits; i++) {
		e = &rw->edits[i];
		for (j = i + 1; j < rw->n_edits; j++) {
			if (strcmp(rw->edits[j].key, e->key) == 0)
				break;
		}
		if (e->value == NULL || j < rw->n_edits || edit_present(rw, e->key))
			continue;
		if (rw->emitted++ > 0)
			rewrite_add_sep(rw);
		sbuf_add_json_string(rw->out, e->key, strlen(e->key));
		if (last)
			sbuf_add(rw->out, rw->text + span_end(last->key),
				 last->value.off - span_end(last->key));
		else
			sbuf_addc(rw->out, ':');
		sbuf_add(rw->out, e->value, e->value_len);
	}
}

int jsonraw_rewrite(const char *text, size_t len, const struct jsonraw_edit *edits, size_t n,
		    struct sbuf *out)
{
	struct rewrite rw = {text, edits, n, {NULL, 0, 0}, {0, 0}, out, 0, 0};
	size_t lead_end, tail_start;

	if (top_scan(text, len, '{', mlist_add, &rw.members, &rw.top) < 0) {
		free(rw.members.m);
		return -1;
	}
	lead_end = rw.members.n ? rw.members.m[0].key.off : rw.top.open + 1;
	tail_start =
	    rw.members.n ? span_end(rw.members.m[rw.members.n - 1].value) : rw.top.open + 1;
	sbuf_add(out, text, lead_end);
	rewrite_members(&rw);
	rewrite_append(&rw);
	sbuf_add(out, text + tail_start, len - tail_start);
	free(rw.members.m);
	return 0;
}
