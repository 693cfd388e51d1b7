/*
 * test_base64.c: the two base64 variants (base64.c): RFC 4648's test
 * vectors in both alphabets, a round trip of every length up to 64 bytes,
 * and the strict decoders: wrong length, padding where the variant forbids
 * it or missing where it wants it, the other alphabet, whitespace,
 * non-canonical trailing bits.  Both encoders and decoders append to what
 * the buffer already holds.
 */
#include <stdlib.h>

#include "core/base64.h"
#include "unit.h"

/* RFC 4648 section 10, plus bytes that use the two alphabet-specific
 * characters (62 and 63). */
static const struct {
	const char *plain;
	size_t len;
	const char *std; /* base64, padded */
	const char *url; /* base64url, unpadded */
} vectors[] = {
	{ "", 0, "", "" },
	{ "f", 1, "Zg==", "Zg" },
	{ "fo", 2, "Zm8=", "Zm8" },
	{ "foo", 3, "Zm9v", "Zm9v" },
	{ "foob", 4, "Zm9vYg==", "Zm9vYg" },
	{ "fooba", 5, "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", 6, "Zm9vYmFy", "Zm9vYmFy" },
	{ "\xfb\xff\xbf", 3, "+/+/", "-_-_" },
	{ "\xfb\xff", 2, "+/8=", "-_8" },
	{ "\xff", 1, "/w==", "_w" },
	{ "\0\0\0", 3, "AAAA", "AAAA" },
	{ "\0", 1, "AA==", "AA" },
};

/* Inputs each decoder must refuse. */
static const struct {
	const char *text;
	bool url; /* base64url_decode; else base64_decode */
	const char *why;
} invalid[] = {
	{ "Zg", false, "padding missing" },
	{ "Zm8", false, "length not a multiple of 4" },
	{ "Zg=", false, "length not a multiple of 4" },
	{ "Z===", false, "three padding characters" },
	{ "====", false, "padding only" },
	{ "=", false, "padding alone" },
	{ "Zg==Zg==", false, "padding in the middle" },
	{ "Zm9v====", false, "a whole group of padding" },
	{ "Zh==", false, "non-zero trailing bits (one byte)" },
	{ "Zm9=", false, "non-zero trailing bits (two bytes)" },
	{ "-_8=", false, "URL alphabet" },
	{ "Zm9 ", false, "a space" },
	{ "Zm9v\n", false, "a newline" },
	{ "Zm\x009v", false, "a NUL byte" },
	{ "Zm9\xc3", false, "a byte over 0x7f" },
	{ "Zg==", true, "padding" },
	{ "Zm8=", true, "padding" },
	{ "+/8", true, "standard alphabet" },
	{ "Z", true, "one character" },
	{ "Zm9vY", true, "length 4n+1" },
	{ "Zh", true, "non-zero trailing bits (one byte)" },
	{ "Zm9", true, "non-zero trailing bits (two bytes)" },
	{ "Zm 9", true, "a space" },
	{ "Zm.9", true, "a dot" },
};

static void test_vectors(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(vectors); i++) {
		struct sg_buf b;

		sg_buf_init(&b);
		base64_encode(&b, vectors[i].plain, vectors[i].len);
		CHECK_MEM(b.data ? b.data : "", b.len, vectors[i].std);
		sg_buf_reset(&b);
		base64url_encode(&b, vectors[i].plain, vectors[i].len);
		CHECK_MEM(b.data ? b.data : "", b.len, vectors[i].url);
		sg_buf_reset(&b);
		CHECK_INT(base64_decode(&b, vectors[i].std, strlen(vectors[i].std)), 0);
		CHECK_INT(b.len, vectors[i].len);
		CHECK(b.len == 0 || memcmp(b.data, vectors[i].plain, b.len) == 0);
		sg_buf_reset(&b);
		CHECK_INT(base64url_decode(&b, vectors[i].url, strlen(vectors[i].url)), 0);
		CHECK_INT(b.len, vectors[i].len);
		CHECK(b.len == 0 || memcmp(b.data, vectors[i].plain, b.len) == 0);
		sg_buf_fini(&b);
	}
}

/* Every length from 0 to 64 and every byte value, through both variants:
 * the encoded length is exact and decoding gives the bytes back. */
static void test_round_trip(void)
{
	unsigned char data[64];
	unsigned seed = 12345;

	for (size_t i = 0; i < sizeof(data); i++) {
		seed = seed * 1103515245u + 12345u;
		data[i] = (unsigned char)(i < 32 ? i * 8 + 7 : seed >> 16);
	}
	for (size_t len = 0; len <= sizeof(data); len++) {
		struct sg_buf enc, dec;

		sg_buf_init(&enc);
		sg_buf_init(&dec);
		base64_encode(&enc, data, len);
		CHECK_INT(enc.len, (len + 2) / 3 * 4);
		CHECK_INT(base64_decode(&dec, enc.data ? enc.data : "", enc.len), 0);
		CHECK(dec.len == len && (len == 0 || memcmp(dec.data, data, len) == 0));
		sg_buf_reset(&enc);
		sg_buf_reset(&dec);
		base64url_encode(&enc, data, len);
		CHECK_INT(enc.len, len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0));
		CHECK(enc.len == 0 || strpbrk(enc.data, "+/=") == NULL);
		CHECK_INT(base64url_decode(&dec, enc.data ? enc.data : "", enc.len), 0);
		CHECK(dec.len == len && (len == 0 || memcmp(dec.data, data, len) == 0));
		sg_buf_fini(&enc);
		sg_buf_fini(&dec);
	}
}

static void test_invalid(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(invalid); i++) {
		/* the length of the literal, NUL bytes inside included */
		size_t len = strlen(invalid[i].text);
		struct sg_buf b;
		int rc;

		if (strcmp(invalid[i].why, "a NUL byte") == 0)
			len = 5;
		sg_buf_init(&b);
		rc = invalid[i].url ? base64url_decode(&b, invalid[i].text, len)
				    : base64_decode(&b, invalid[i].text, len);
		if (rc != -1)
			fprintf(stderr, "  accepted %s: %s\n", invalid[i].url ? "url" : "std",
				invalid[i].why);
		CHECK_INT(rc, -1);
		sg_buf_fini(&b);
	}
}

/* The length given is what is read, not the string's. */
static void test_length_honoured(void)
{
	struct sg_buf b;

	sg_buf_init(&b);
	CHECK_INT(base64_decode(&b, "Zm9vYmFy", 4), 0);
	CHECK_STR(b.data, "foo");
	sg_buf_reset(&b);
	CHECK_INT(base64url_decode(&b, "Zm9vYgAA", 6), 0);
	CHECK_STR(b.data, "foob");
	sg_buf_reset(&b);
	base64_encode(&b, "foobar", 3);
	CHECK_STR(b.data, "Zm9v");
	sg_buf_fini(&b);
}

/* Encoders and decoders append; a decoded result stays a C string. */
static void test_appends(void)
{
	struct sg_buf b;

	sg_buf_init(&b);
	sg_buf_append_str(&b, "x=");
	base64_encode(&b, "fo", 2);
	base64url_encode(&b, "fo", 2);
	CHECK_STR(b.data, "x=Zm8=Zm8");
	sg_buf_reset(&b);
	sg_buf_append_str(&b, ">");
	CHECK_INT(base64_decode(&b, "Zm8=", 4), 0);
	CHECK_INT(base64url_decode(&b, "YmFy", 4), 0);
	CHECK_STR(b.data, ">fobar");
	CHECK_INT(b.len, 6);
	sg_buf_fini(&b);
}

int main(void)
{
	RUN(test_vectors);
	RUN(test_round_trip);
	RUN(test_invalid);
	RUN(test_length_honoured);
	RUN(test_appends);
	return UNIT_END();
}
