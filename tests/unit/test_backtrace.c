/* test_backtrace: error_backtrace encoding against fixtures produced by Ruby's Zlib/Base64. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backtrace.h"
#include "banned.h"

/*
 * Fixtures, made with ruby 3.1.2 (Debian 12) and the system zlib:
 *   ruby -rzlib -rbase64 -rjson -e 'puts Base64.encode64(Zlib::Deflate.deflate(
 *     JSON.generate(lines)))'   (and strict_encode64 for the strict form)
 */
static const char *const ruby_lines[] = {
	"app/jobs/fail_job.rb:5:in `perform'",
	"/usr/share/rubygems-integration/all/gems/sidekiq-6.4.1/lib/sidekiq/processor.rb:196:"
	"in `execute_job'",
	"/usr/share/rubygems-integration/all/gems/sidekiq-6.4.1/lib/sidekiq/processor.rb:164:"
	"in `block (2 levels) in process'",
};

static const char ruby_lines_json[] =
	"[\"app/jobs/fail_job.rb:5:in `perform'\","
	"\"/usr/share/rubygems-integration/all/gems/sidekiq-6.4.1/lib/sidekiq/processor.rb:196:"
	"in `execute_job'\","
	"\"/usr/share/rubygems-integration/all/gems/sidekiq-6.4.1/lib/sidekiq/processor.rb:164:"
	"in `block (2 levels) in process'\"]";

/* Base64.encode64: 6.4.1's form, a newline after every 60 characters and at the end. */
static const char ruby_lines_encode64[] =
	"eJy1zdEKgkAQheFXWfamgnQwTMhXiahdG21ydLcZjXr7VOoRujv8HPiO1sUI\n"
	"9+AVakd8nlYqvtyX1JtLRKmDdCu7tTCqgN6cIMjo3w12mlA/YCNuoNCDY4Y5\n"
	"gtIVW3okRZqnGTD5X4EooULVIDOQHYqFwBdW44Cz+xemyBfGc6has94Zxiey\n"
	"bswUv8eVPX0Al3pcMQ==\n";

static const char ruby_lines_strict[] =
	"eJy1zdEKgkAQheFXWfamgnQwTMhXiahdG21ydLcZjXr7VOoRujv8HPiO1sUI9+AVakd8nlYqvtyX1JtLRKmDdCu7"
	"tTCqgN6cIMjo3w12mlA/YCNuoNCDY4Y5gtIVW3okRZqnGTD5X4EooULVIDOQHYqFwBdW44Cz+xemyBfGc6has94Z"
	"xieybswUv8eVPX0Al3pcMQ==";

/* The brief's two-line sample: ["a.rb:1:in `x'", "b"]. */
static const char *const short_lines[] = {"a.rb:1:in `x'", "b"};
static const char short_strict[] = "eJyLVkrUK0qyMrTKzFNIqFBX0lFKUooFAEJpBc0=";

/* Non-ASCII, a tab, quotes and a backslash: JSON escapes must match Ruby's generator. */
static const char *const escaped_lines[] = {
	"caf\xc3\xa9.rb:1:in `\xc3\xbc" "ber'",
	"tab\there \"quoted\" back\\slash",
};
static const char escaped_strict[] =
	"eJyLVkpOTDu8Uq8oycrQKjNPIeHwnqTUInUlHaWSxKSYkozUolSFGKXC0vyS1JQYJYWkxOTsmJjinMTiDKVYAKA/"
	"Fb0=";

static const char empty_strict[] = "eJyLjgUAARUAuQ==";

static void test_encode_matches_ruby(void **state)
{
	struct sbuf out;

	(void)state;
	sbuf_init(&out);
	assert_int_equal(backtrace_encode(ruby_lines, 3, &out), 0);
	assert_string_equal(sbuf_str(&out), ruby_lines_strict);
	sbuf_reset(&out);
	assert_int_equal(backtrace_encode(short_lines, 2, &out), 0);
	assert_string_equal(sbuf_str(&out), short_strict);
	sbuf_reset(&out);
	assert_int_equal(backtrace_encode(escaped_lines, 2, &out), 0);
	assert_string_equal(sbuf_str(&out), escaped_strict);
	sbuf_reset(&out);
	assert_int_equal(backtrace_encode(NULL, 0, &out), 0);
	assert_string_equal(sbuf_str(&out), empty_strict);
	sbuf_release(&out);
}

static void test_encode_appends_with_zlib_header(void **state)
{
	struct sbuf out, raw;

	(void)state;
	sbuf_init(&out);
	sbuf_init(&raw);
	sbuf_adds(&out, "prefix:");
	assert_int_equal(backtrace_encode(short_lines, 2, &out), 0);
	assert_memory_equal(out.buf, "prefix:", 7);
	assert_int_equal(base64_decode(out.buf + 7, out.len - 7, &raw), 0);
	assert_true(raw.len > 2);
	assert_int_equal((unsigned char)raw.buf[0], 0x78);
	assert_int_equal((unsigned char)raw.buf[1], 0x9c);
	sbuf_release(&out);
	sbuf_release(&raw);
}

static void test_decode_ruby_encode64(void **state)
{
	struct sbuf out;

	(void)state;
	sbuf_init(&out);
	assert_int_equal(backtrace_decode(ruby_lines_encode64, strlen(ruby_lines_encode64), &out),
			 0);
	assert_string_equal(sbuf_str(&out), ruby_lines_json);
	sbuf_reset(&out);
	assert_int_equal(backtrace_decode(ruby_lines_strict, strlen(ruby_lines_strict), &out), 0);
	assert_string_equal(sbuf_str(&out), ruby_lines_json);
	sbuf_release(&out);
}

static void test_roundtrip(void **state)
{
	struct sbuf enc, dec;

	(void)state;
	sbuf_init(&enc);
	sbuf_init(&dec);
	assert_int_equal(backtrace_encode(escaped_lines, 2, &enc), 0);
	assert_null(strchr(sbuf_str(&enc), '\n'));
	assert_int_equal(backtrace_decode(enc.buf, enc.len, &dec), 0);
	assert_string_equal(sbuf_str(&dec), "[\"caf\xc3\xa9.rb:1:in `\xc3\xbc" "ber'\","
					    "\"tab\\there \\\"quoted\\\" back\\\\slash\"]");
	sbuf_release(&enc);
	sbuf_release(&dec);
}

static void test_decode_rejects_garbage(void **state)
{
	struct sbuf out;

	(void)state;
	sbuf_init(&out);
	sbuf_adds(&out, "keep");
	/* not base64 */
	assert_int_equal(backtrace_decode("eJy*", 4, &out), -1);
	/* base64 of something that is not a zlib stream */
	assert_int_equal(backtrace_decode("aGVsbG8=", 8, &out), -1);
	/* a truncated zlib stream */
	assert_int_equal(backtrace_decode(short_strict, 20, &out), -1);
	assert_string_equal(sbuf_str(&out), "keep");
	assert_int_equal(out.len, 4);
	sbuf_release(&out);
}

static void test_base64_vectors(void **state)
{
	static const struct {
		const char *plain;
		const char *b64;
	} v[] = {
		{"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},
		{"foo", "Zm9v"},    {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
		{"\xff\xfe\xfd", "//79"},
	};
	struct sbuf out;
	size_t i;

	(void)state;
	sbuf_init(&out);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		sbuf_reset(&out);
		base64_encode((const unsigned char *)v[i].plain, strlen(v[i].plain), &out);
		assert_string_equal(sbuf_str(&out), v[i].b64);
		sbuf_reset(&out);
		assert_int_equal(base64_decode(v[i].b64, strlen(v[i].b64), &out), 0);
		assert_int_equal(out.len, strlen(v[i].plain));
		assert_memory_equal(sbuf_str(&out), v[i].plain, out.len);
	}
	sbuf_release(&out);
}

static void test_base64_decode_strictness(void **state)
{
	static const char *const bad[] = {
		"Zm9v!", "Z", "Zm9vY", "Zg=", "Zg===", "Zm8==", "Zg==Zg==", "Zh==",
	};
	struct sbuf out;
	size_t i;

	(void)state;
	sbuf_init(&out);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		sbuf_reset(&out);
		assert_int_equal(base64_decode(bad[i], strlen(bad[i]), &out), -1);
		assert_int_equal(out.len, 0);
	}
	/* line breaks and a missing final padding are accepted, as Ruby's decode64 does */
	sbuf_reset(&out);
	assert_int_equal(base64_decode("Zm9v\nYmFy\r\n", 11, &out), 0);
	assert_string_equal(sbuf_str(&out), "foobar");
	sbuf_reset(&out);
	assert_int_equal(base64_decode("Zm8", 3, &out), 0);
	assert_string_equal(sbuf_str(&out), "fo");
	sbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_matches_ruby),
		cmocka_unit_test(test_encode_appends_with_zlib_header),
		cmocka_unit_test(test_decode_ruby_encode64),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_decode_rejects_garbage),
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_decode_strictness),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
