/*
 * test_json_js.c: JSON text as JavaScript writes it.  The expected strings
 * were printed by Node 20 (JSON.stringify / String) for the same values.
 */
#include <math.h>
#include <stdlib.h>

#include "core/json_js.h"
#include "unit.h"

static void check_string(const char *in, size_t len, const char *want)
{
	struct sg_buf b;

	sg_buf_init(&b);
	json_js_string(&b, in, len);
	CHECK_STR(b.data, want);
	CHECK_INT(b.len, strlen(want));
	sg_buf_fini(&b);
}

static void test_string_escapes(void)
{
	check_string("", 0, "\"\"");
	check_string("hello", 5, "\"hello\"");
	check_string("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	check_string("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
	check_string("\x01\x1f\x0b", 3, "\"\\u0001\\u001f\\u000b\"");
	check_string("a\0b", 3, "\"a\\u0000b\"");
	check_string("/\x7f", 2, "\"/\x7f\""); /* neither escaped by JS */
	/* Non-ASCII as-is, U+2028 included (JSON.stringify does not escape it). */
	check_string("h\xc3\xa9llo \xe6\x97\xa5 \xf0\x9f\x98\x80 \xe2\x80\xa8", 19,
		     "\"h\xc3\xa9llo \xe6\x97\xa5 \xf0\x9f\x98\x80 \xe2\x80\xa8\"");
}

/* Ill-formed UTF-8 becomes U+FFFD per maximal subpart, as Node's
 * Buffer.toString does (checked against Node for each case). */
static void test_string_bad_utf8(void)
{
#define R "\xef\xbf\xbd"
	check_string("bad\xff\xc3(", 6, "\"bad" R R "(\"");
	check_string("\xe2\x82", 2, "\"" R "\"");		/* truncated 3-byte */
	check_string("\xed\xa0\x80", 3, "\"" R R R "\"");	/* surrogate */
	check_string("\xf4\x90\x80\x80", 4, "\"" R R R R "\""); /* > U+10FFFF */
	check_string("\xc0\xaf", 2, "\"" R R "\"");		/* overlong */
	check_string("a\xf0\x9f\x98", 4, "\"a" R "\"");		/* truncated at end */
	check_string("\xe0\x80\x9f", 3, "\"" R R R "\"");
	check_string("\xf0\x80\x80\x80", 4, "\"" R R R R "\"");
	check_string("\xc2", 1, "\"" R "\"");
	check_string("\x80\x80", 2, "\"" R R "\"");
	check_string("\xe2\x82\"", 3, "\"" R "\\\"\""); /* the quote is still escaped */
	check_string(R, 3, "\"" R "\"");
	{
		struct sg_buf b;

		sg_buf_init(&b);
		json_js_utf8_sanitize(&b, "x\xe2\x82y\xf0\x9f\x98\x80", 8);
		CHECK_STR(b.data, "x" R "y\xf0\x9f\x98\x80");
		sg_buf_fini(&b);
	}
#undef R
}

struct num_vec {
	uint64_t bits;
	const char *json; /* JSON.stringify(x) */
	const char *str;  /* String(x) */
};

static const struct num_vec num_vecs[] = {
	{ 0x3fb999999999999aull, "0.1", "0.1" },
	{ 0x3fd5555555555555ull, "0.3333333333333333", "0.3333333333333333" },
	{ 0x444b1ae4d6e2ef50ull, "1e+21", "1e+21" },
	{ 0x3e7ad7f29abcaf48ull, "1e-7", "1e-7" },
	{ 0x441ac53a7e04bcdaull, "123456789012345680000", "123456789012345680000" },
	{ 0x0000000000000001ull, "5e-324", "5e-324" },
	{ 0x7fefffffffffffffull, "1.7976931348623157e+308", "1.7976931348623157e+308" },
	{ 0x8000000000000000ull, "0", "0" },
	{ 0x0000000000000000ull, "0", "0" },
	{ 0x4059000000000000ull, "100", "100" },
	{ 0x4415af1d78b58c40ull, "100000000000000000000", "100000000000000000000" },
	{ 0x7ff8000000000000ull, "null", "NaN" },
	{ 0x7ff0000000000000ull, "null", "Infinity" },
	{ 0xfff0000000000000ull, "null", "-Infinity" },
	{ 0x4008000000000000ull, "3", "3" },
	{ 0xc008000000000000ull, "-3", "-3" },
	{ 0x3ff8000000000000ull, "1.5", "1.5" },
	{ 0xc002000000000000ull, "-2.25", "-2.25" },
	{ 0x3eb0c6f7a0b5ed8dull, "0.000001", "0.000001" },
	{ 0x3e7ad7f29abcaf48ull, "1e-7", "1e-7" },
	{ 0x3e8421f5f40d8376ull, "1.5e-7", "1.5e-7" },
	{ 0x444b1ae4d6e2ef4full, "999999999999999900000", "999999999999999900000" },
	{ 0x4480f0cf064dd592ull, "1e+22", "1e+22" },
	{ 0x4340000000000000ull, "9007199254740992", "9007199254740992" },
	{ 0x4340000000000001ull, "9007199254740994", "9007199254740994" },
	{ 0xc3e0000000000000ull, "-9223372036854776000", "-9223372036854776000" },
	{ 0x43f0000000000000ull, "18446744073709552000", "18446744073709552000" },
	{ 0x3fd3333333333333ull, "0.3", "0.3" },
	{ 0x3fd3333333333334ull, "0.30000000000000004", "0.30000000000000004" },
	{ 0x3fc2492492492492ull, "0.14285714285714285", "0.14285714285714285" },
	{ 0x400921fb54442d18ull, "3.141592653589793", "3.141592653589793" },
	{ 0xc005bf0a8b145769ull, "-2.718281828459045", "-2.718281828459045" },
	{ 0x4011666666666666ull, "4.35", "4.35" },
	{ 0x3ea0c6f7a0b5ed8dull, "5e-7", "5e-7" },
	{ 0x3de0f782bf7cc83full, "1.2345e-10", "1.2345e-10" },
	{ 0x43e56a95319d63e1ull, "12345678901234567000", "12345678901234567000" },
	{ 0x0000000000000005ull, "2.5e-323", "2.5e-323" },
	{ 0x0010000000000000ull, "2.2250738585072014e-308", "2.2250738585072014e-308" },
	{ 0x000fffffffffffffull, "2.225073858507201e-308", "2.225073858507201e-308" },
	{ 0x4340000000000000ull, "9007199254740992", "9007199254740992" },
	{ 0x3eb0c6f7a0b5ed8dull, "0.000001", "0.000001" },
	{ 0x3c36b082c2148b8eull, "1.23e-18", "1.23e-18" },
	{ 0x7e37e43c8800759cull, "1e+300", "1e+300" },
	{ 0x7fb9999999999999ull, "1.7976931348623158e+307", "1.7976931348623158e+307" },
	{ 0x3fe0000000000000ull, "0.5", "0.5" },
	{ 0x444b1ae4d6e2ef50ull, "1e+21", "1e+21" },
	{ 0x4059100000000000ull, "100.25", "100.25" },
	{ 0x430c6bf526340002ull, "1000000000000000.2", "1000000000000000.2" },
	{ 0x41effffffff00000ull, "4294967295.5", "4294967295.5" },
	{ 0x3ff0000000000001ull, "1.0000000000000002", "1.0000000000000002" },
	{ 0x3fefffffffffffffull, "0.9999999999999999", "0.9999999999999999" },
	{ 0x0000000000000003ull, "1.5e-323", "1.5e-323" },
	{ 0x447c7e83209e90b2ull, "8.41e+21", "8.41e+21" },
	{ 0x20f0000000000000ull, "4.887898181599368e-150", "4.887898181599368e-150" },
	{ 0x2800000000000000ull, "5.075883674631299e-116", "5.075883674631299e-116" },
	{ 0x1690000000000000ull, "5.225680706521042e-200", "5.225680706521042e-200" },
	{ 0x77f0000000000000ull, "5.282945311356653e+269", "5.282945311356653e+269" },
	{ 0x4790000000000000ull, "5.316911983139664e+36", "5.316911983139664e+36" },
	{ 0x7220000000000000ull, "5.334411546303884e+241", "5.334411546303884e+241" },
};

static void test_numbers(void)
{
	struct sg_buf b;

	sg_buf_init(&b);
	for (size_t i = 0; i < SG_ARRAY_LEN(num_vecs); i++) {
		double d;

		memcpy(&d, &num_vecs[i].bits, 8);
		sg_buf_reset(&b);
		json_js_number(&b, d);
		CHECK_STR(b.data, num_vecs[i].json);
		sg_buf_reset(&b);
		json_js_number_string(&b, d);
		CHECK_STR(b.data, num_vecs[i].str);
	}
	/* The cases the brief names, spelled out. */
	sg_buf_reset(&b);
	json_js_number(&b, 1e21);
	json_js_number(&b, -0.0);
	json_js_number(&b, 1.5e-7);
	json_js_number(&b, 100);
	json_js_number(&b, NAN);
	CHECK_STR(b.data, "1e+210"
			  "1.5e-7"
			  "100"
			  "null");
	sg_buf_fini(&b);
}

/* Shortest digits against the definition on a pseudo-random sample: the
 * output reads back as the same double, and the closest decimal with one
 * significant digit fewer does not. */
static void test_numbers_shortest(void)
{
	uint64_t x = 88172645463325252ull;
	struct sg_buf b;
	int bad = 0, tested = 0;

	sg_buf_init(&b);
	for (int i = 0; i < 20000; i++) {
		char digits[64], tmp[64];
		const char *p;
		double d;
		int nd = 0, first = -1, last = -1;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&d, &x, 8);
		if (!isfinite(d) || d == 0)
			continue;
		tested++;
		sg_buf_reset(&b);
		json_js_number(&b, d);
		if (strtod(b.data, NULL) != d)
			bad++;
		/* significant digits: the mantissa without sign, point, leading and
		 * trailing zeros */
		for (p = b.data; *p && *p != 'e'; p++)
			if (*p >= '0' && *p <= '9' && nd < 63)
				digits[nd++] = *p;
		for (int k = 0; k < nd; k++)
			if (digits[k] != '0') {
				if (first < 0)
					first = k;
				last = k;
			}
		nd = last - first + 1;
		if (nd > 17)
			bad++;
		if (nd > 1) {
			snprintf(tmp, sizeof(tmp), "%.*e", nd - 2, d);
			if (strtod(tmp, NULL) == d)
				bad++;
		}
	}
	CHECK(tested > 19000);
	CHECK_INT(bad, 0);
	sg_buf_fini(&b);
}

struct date_vec {
	double ms;
	const char *json;
};

static void test_dates(void)
{
	static const struct date_vec v[] = {
		{ 1767323045678.0, "\"2026-01-02T03:04:05.678Z\"" },
		{ 0.0, "\"1970-01-01T00:00:00.000Z\"" },
		{ -1.0, "\"1969-12-31T23:59:59.999Z\"" },
		{ 8640000000000000.0, "\"+275760-09-13T00:00:00.000Z\"" },
		{ -8640000000000000.0, "\"-271821-04-20T00:00:00.000Z\"" },
		{ 8640000000000001.0, "null" },
		{ 253402300799999.0, "\"9999-12-31T23:59:59.999Z\"" },
		{ 253402300800000.0, "\"+010000-01-01T00:00:00.000Z\"" },
		{ -62167219200000.0, "\"0000-01-01T00:00:00.000Z\"" },
		{ -62167219200001.0, "\"-000001-12-31T23:59:59.999Z\"" },
		{ -62198755200000.0, "\"-000001-01-01T00:00:00.000Z\"" },
		{ 951782400000.0, "\"2000-02-29T00:00:00.000Z\"" },
		{ -2203891200000.0, "\"1900-03-01T00:00:00.000Z\"" },
		{ 1000000000000.5, "\"2001-09-09T01:46:40.000Z\"" },
		{ -0.5, "\"1970-01-01T00:00:00.000Z\"" },
		{ -1.5, "\"1969-12-31T23:59:59.999Z\"" },
		{ NAN, "null" },
		{ INFINITY, "null" },
	};
	struct sg_buf b;

	sg_buf_init(&b);
	for (size_t i = 0; i < SG_ARRAY_LEN(v); i++) {
		sg_buf_reset(&b);
		json_js_date(&b, v[i].ms);
		CHECK_STR(b.data, v[i].json);
	}
	sg_buf_fini(&b);
}

static void test_appends(void)
{
	struct sg_buf b;

	sg_buf_init(&b);
	sg_buf_append_str(&b, "[");
	json_js_string(&b, "a", 1);
	sg_buf_append_char(&b, ',');
	json_js_number(&b, 0.1);
	sg_buf_append_char(&b, ',');
	json_js_date(&b, 0);
	sg_buf_append_char(&b, ']');
	CHECK_STR(b.data, "[\"a\",0.1,\"1970-01-01T00:00:00.000Z\"]");
	sg_buf_fini(&b);
}

int main(void)
{
	RUN(test_string_escapes);
	RUN(test_string_bad_utf8);
	RUN(test_numbers);
	RUN(test_numbers_shortest);
	RUN(test_dates);
	RUN(test_appends);
	return UNIT_END();
}
