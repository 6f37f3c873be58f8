/*
 * backtrace: error_backtrace as Sidekiq stores it: the frames as a JSON array, zlib deflate
 * at the default level (an RFC 1950 stream, header 78 9C), then strict base64.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "backtrace.h"
#include "banned.h"

/* Decoding bounds: what winchctl or a test may inflate from one retry-set member. */
#define BACKTRACE_MAX_DECODED (16u * 1024 * 1024)

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const unsigned char *in, size_t n, struct sbuf *out)
{
	size_t i;
	char quad[4];

	if (n == 0)
		return; /* sbuf_grow() alone would leave a fresh buffer unterminated */
	sbuf_grow(out, (n + 2) / 3 * 4);
	for (i = 0; i + 2 < n; i += 3) {
		quad[0] = b64_alphabet[in[i] >> 2];
		quad[1] = b64_alphabet[((in[i] & 0x03) << 4) | (in[i + 1] >> 4)];
		quad[2] = b64_alphabet[((in[i + 1] & 0x0f) << 2) | (in[i + 2] >> 6)];
		quad[3] = b64_alphabet[in[i + 2] & 0x3f];
		sbuf_add(out, quad, 4);
	}
	if (i < n) {
		unsigned int second = i + 1 < n ? in[i + 1] : 0;

		quad[0] = b64_alphabet[in[i] >> 2];
		quad[1] = b64_alphabet[((in[i] & 0x03) << 4) | (second >> 4)];
		quad[2] = i + 1 < n ? b64_alphabet[(second & 0x0f) << 2] : '=';
		quad[3] = '=';
		sbuf_add(out, quad, 4);
	}
}

/* The 6-bit value of an alphabet character, or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int b64_is_space(unsigned char c)
{
	return c == '\n' || c == '\r' || c == ' ' || c == '\t';
}

/*
 * Lenient as Ruby's decode64 is about line breaks (RFC 2045 output), strict about
 * everything else: no foreign characters, no data after the padding, no partial group.
 */
int base64_decode(const char *in, size_t n, struct sbuf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t start = out->len, i;
	unsigned int acc = 0;
	int bits = 0, pad = 0, v;

	for (i = 0; i < n; i++) {
		if (b64_is_space(p[i]))
			continue;
		if (p[i] == '=') {
			pad++;
			continue;
		}
		v = b64_value(p[i]);
		if (v < 0 || pad > 0)
			goto err;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sbuf_addc(out, (char)((acc >> bits) & 0xff));
		}
	}
	/* Leftover bits must be zero padding: 2 bits for one '=' group, 4 for "==". */
	if (bits >= 6 || pad > 2 || (pad > 0 && (bits / 2) != pad) || (acc & ((1u << bits) - 1)))
		goto err;
	return 0;
err:
	out->len = start;
	if (out->buf)
		out->buf[start] = '\0';
	return -1;
}

int backtrace_encode(const char *const *lines, size_t n, struct sbuf *out)
{
	struct sbuf json;
	unsigned char *z;
	uLongf zlen;
	size_t i;
	int rc = -1;

	sbuf_init(&json);
	sbuf_addc(&json, '[');
	for (i = 0; i < n; i++) {
		const char *line = lines[i] ? lines[i] : "";

		if (i > 0)
			sbuf_addc(&json, ',');
		sbuf_add_json_string(&json, line, strlen(line));
	}
	sbuf_addc(&json, ']');

	zlen = compressBound((uLong)json.len);
	z = xmalloc(zlen);
	if (compress2(z, &zlen, (const Bytef *)json.buf, (uLong)json.len,
		      Z_DEFAULT_COMPRESSION) != Z_OK)
		goto out;
	base64_encode(z, zlen, out);
	rc = 0;
out:
	free(z);
	sbuf_release(&json);
	return rc;
}

/* Inflate a whole zlib stream from in into out, up to BACKTRACE_MAX_DECODED bytes. */
static int inflate_all(const unsigned char *in, size_t n, struct sbuf *out)
{
	z_stream zs;
	size_t start = out->len;
	int zrc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)n;
	do {
		if (out->len - start >= BACKTRACE_MAX_DECODED) {
			zrc = Z_DATA_ERROR;
			break;
		}
		sbuf_grow(out, 4096);
		zs.next_out = (Bytef *)out->buf + out->len;
		zs.avail_out = (uInt)(out->cap - out->len - 1);
		zrc = inflate(&zs, Z_NO_FLUSH);
		out->len = out->cap - 1 - zs.avail_out;
		out->buf[out->len] = '\0';
	} while (zrc == Z_OK);
	inflateEnd(&zs);
	if (zrc != Z_STREAM_END || zs.avail_in != 0) {
		out->len = start;
		out->buf[start] = '\0';
		return -1;
	}
	return 0;
}

int backtrace_decode(const char *b64, size_t len, struct sbuf *out)
{
	struct sbuf raw;
	int rc;

	sbuf_init(&raw);
	rc = base64_decode(b64, len, &raw);
	if (rc == 0)
		rc = inflate_all((const unsigned char *)raw.buf, raw.len, out);
	sbuf_release(&raw);
	return rc;
}
