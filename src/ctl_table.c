/* ctl_table: aligned text tables, a JSON writer and human formats for winchctl's output. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_table.h"
#include "timestamp.h"
#include "banned.h"

/* ---- tables --------------------------------------------------------------------------- */

void ctl_table_init(struct ctl_table *t, const char *const *headers, int ncols)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->headers = xcalloc((size_t)ncols, sizeof(*t->headers));
	t->right = xcalloc((size_t)ncols, sizeof(*t->right));
	for (i = 0; i < ncols; i++) {
		const char *h = headers[i];

		t->right[i] = h[0] == '>';
		t->headers[i] = xstrdup(h + t->right[i]);
	}
}

void ctl_table_release(struct ctl_table *t)
{
	size_t i;
	int c;

	for (c = 0; c < t->ncols; c++)
		free(t->headers[c]);
	for (i = 0; i < t->n_cells; i++)
		free(t->cells[i]);
	free(t->headers);
	free(t->right);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Bytes of the UTF-8 character starting with byte b (1 for a stray continuation byte). */
static size_t char_len(unsigned char b)
{
	if (b >= 0xf0 && b < 0xf8)
		return 4;
	if (b >= 0xe0)
		return b < 0xf0 ? 3 : 1;
	if (b >= 0xc0)
		return 2;
	return 1;
}

/* A cell as shown: control characters as spaces, cut at CTL_CELL_MAX characters. */
static char *clean_cell(const char *s)
{
	struct sbuf sb;
	size_t chars = 0, n, len = strlen(s), i = 0;

	sbuf_init(&sb);
	while (i < len) {
		unsigned char b = (unsigned char)s[i];

		if (chars == CTL_CELL_MAX) {
			sbuf_adds(&sb, "...");
			break;
		}
		n = char_len(b);
		if (i + n > len)
			n = len - i;
		if (b < 0x20 || b == 0x7f)
			sbuf_addc(&sb, ' ');
		else
			sbuf_add(&sb, s + i, n);
		i += n;
		chars++;
	}
	return sbuf_detach(&sb, NULL);
}

void ctl_table_cell(struct ctl_table *t, const char *fmt, ...)
{
	struct sbuf sb;
	va_list ap;

	sbuf_init(&sb);
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (t->n_cells == t->cap_cells) {
		t->cap_cells = t->cap_cells ? t->cap_cells * 2 : 64;
		t->cells = xrealloc(t->cells, sizeof(*t->cells) * t->cap_cells);
	}
	t->cells[t->n_cells++] = clean_cell(sbuf_str(&sb));
	sbuf_release(&sb);
}

size_t ctl_table_rows(const struct ctl_table *t)
{
	return t->ncols ? t->n_cells / (size_t)t->ncols : 0;
}

/* Width in characters (UTF-8 continuation bytes do not count). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	}
	return w;
}

static void pad(struct sbuf *out, size_t n)
{
	while (n-- > 0)
		sbuf_addc(out, ' ');
}

static void render_line(const struct ctl_table *t, struct sbuf *out, char *const *row,
			const size_t *widths)
{
	size_t start = out->len, w;
	int c;

	for (c = 0; c < t->ncols; c++) {
		if (c > 0)
			sbuf_adds(out, "  ");
		w = width(row[c]);
		if (t->right[c])
			pad(out, widths[c] - w);
		sbuf_adds(out, row[c]);
		if (!t->right[c])
			pad(out, widths[c] - w);
	}
	while (out->len > start && out->buf[out->len - 1] == ' ')
		out->len--;
	out->buf[out->len] = '\0';
	sbuf_addc(out, '\n');
}

void ctl_table_render(const struct ctl_table *t, struct sbuf *out)
{
	size_t rows = ctl_table_rows(t), r, w;
	size_t *widths = xcalloc((size_t)t->ncols, sizeof(*widths));
	int c;

	for (c = 0; c < t->ncols; c++) {
		widths[c] = width(t->headers[c]);
		for (r = 0; r < rows; r++) {
			w = width(t->cells[r * (size_t)t->ncols + (size_t)c]);
			if (w > widths[c])
				widths[c] = w;
		}
	}
	render_line(t, out, t->headers, widths);
	for (r = 0; r < rows; r++)
		render_line(t, out, t->cells + r * (size_t)t->ncols, widths);
	free(widths);
}

/* ---- JSON ----------------------------------------------------------------------------- */

void ctl_json_init(struct ctl_json *j, struct sbuf *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

/* The comma and key before a value. */
static void value_start(struct ctl_json *j, const char *key)
{
	if (j->has_items[j->depth])
		sbuf_addc(j->out, ',');
	j->has_items[j->depth] = 1;
	if (key) {
		sbuf_add_json_string(j->out, key, strlen(key));
		sbuf_addc(j->out, ':');
	}
}

static void open_container(struct ctl_json *j, const char *key, char c)
{
	value_start(j, key);
	sbuf_addc(j->out, c);
	if (j->depth < CTL_JSON_DEPTH)
		j->depth++;
	j->has_items[j->depth] = 0;
}

static void close_container(struct ctl_json *j, char c)
{
	sbuf_addc(j->out, c);
	if (j->depth > 0)
		j->depth--;
}

void ctl_json_begin_object(struct ctl_json *j, const char *key)
{
	open_container(j, key, '{');
}

void ctl_json_end_object(struct ctl_json *j)
{
	close_container(j, '}');
}

void ctl_json_begin_array(struct ctl_json *j, const char *key)
{
	open_container(j, key, '[');
}

void ctl_json_end_array(struct ctl_json *j)
{
	close_container(j, ']');
}

void ctl_json_stringn(struct ctl_json *j, const char *key, const char *s, size_t n)
{
	value_start(j, key);
	sbuf_add_json_string(j->out, s, n);
}

void ctl_json_string(struct ctl_json *j, const char *key, const char *s)
{
	if (s == NULL) {
		ctl_json_null(j, key);
		return;
	}
	ctl_json_stringn(j, key, s, strlen(s));
}

void ctl_json_int(struct ctl_json *j, const char *key, long long v)
{
	value_start(j, key);
	sbuf_addf(j->out, "%lld", v);
}

void ctl_json_double(struct ctl_json *j, const char *key, double v)
{
	value_start(j, key);
	ts_append_seconds(j->out, v);
}

void ctl_json_bool(struct ctl_json *j, const char *key, int v)
{
	value_start(j, key);
	sbuf_adds(j->out, v ? "true" : "false");
}

void ctl_json_null(struct ctl_json *j, const char *key)
{
	value_start(j, key);
	sbuf_adds(j->out, "null");
}

void ctl_json_raw(struct ctl_json *j, const char *key, const char *text, size_t n)
{
	value_start(j, key);
	sbuf_add(j->out, text, n);
}

/* ---- human formats -------------------------------------------------------------------- */

void ctl_format_duration(double seconds, char *out, size_t outlen)
{
	double s = seconds < 0 ? -seconds : seconds;

	if (s < 60)
		snprintf(out, outlen, "%lds", (long)s);
	else if (s < 3600)
		snprintf(out, outlen, "%ldm", (long)(s / 60));
	else if (s < 86400)
		snprintf(out, outlen, "%ldh", (long)(s / 3600));
	else
		snprintf(out, outlen, "%ldd", (long)(s / 86400));
}

void ctl_format_when(double t, double now, char *out, size_t outlen)
{
	char d[32];

	if (t - now < 0.5 && now - t < 0.5) {
		snprintf(out, outlen, "now");
		return;
	}
	ctl_format_duration(t - now, d, sizeof(d));
	if (t > now)
		snprintf(out, outlen, "in %s", d);
	else
		snprintf(out, outlen, "%s ago", d);
}

void ctl_format_kb(long kb, char *out, size_t outlen)
{
	if (kb < 1024)
		snprintf(out, outlen, "%ldK", kb < 0 ? 0 : kb);
	else if (kb < 1024L * 1024)
		snprintf(out, outlen, "%.1fM", (double)kb / 1024.0);
	else
		snprintf(out, outlen, "%.1fG", (double)kb / (1024.0 * 1024.0));
}
