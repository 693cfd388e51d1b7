/*
 * test_ws_frame.c: RFC 6455 client frame headers, unmasking and UTF-8
 * validation, each header also fed byte by byte.
 */
#include <stdlib.h>

#include "proto/ws_accept.h"
#include "proto/ws_frame.h"
#include "unit.h"

static int parse_all(const uint8_t *p, size_t n, struct ws_frame_hdr *h, uint16_t *code)
{
	/* every prefix must say "more" until the header is whole */
	for (size_t k = 0; k < n; k++) {
		struct ws_frame_hdr t;
		uint16_t c = 0;
		int rc = ws_frame_parse(p, k, &t, &c);
		if (rc != 0)
			return rc == 1 ? -100 : rc; /* complete too early is a bug */
	}
	return ws_frame_parse(p, n, h, code);
}

static void test_headers(void)
{
	static const uint8_t small[] = { 0x81, 0x85, 1, 2, 3, 4 };
	static const uint8_t mid[] = { 0x82, 0xfe, 0x01, 0x00, 9, 9, 9, 9 };
	static const uint8_t big[] = { 0x01, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 5, 6, 7, 8 };
	struct ws_frame_hdr h;
	uint16_t code;

	CHECK_INT(parse_all(small, sizeof(small), &h, &code), 1);
	CHECK(h.fin);
	CHECK_INT(h.opcode, WS_OP_TEXT);
	CHECK_INT(h.len, 5);
	CHECK_INT(h.hdr_len, 6);
	CHECK_INT(h.mask[3], 4);
	CHECK_INT(parse_all(mid, sizeof(mid), &h, &code), 1);
	CHECK_INT(h.len, 256);
	CHECK_INT(h.hdr_len, 8);
	CHECK_INT(h.opcode, WS_OP_BINARY);
	CHECK_INT(parse_all(big, sizeof(big), &h, &code), 1);
	CHECK(!h.fin);
	CHECK_INT(h.len, 65536);
	CHECK_INT(h.hdr_len, 14);
}

static void test_violations(void)
{
	static const uint8_t cases[][8] = {
		{ 0x81, 0x05, 0, 0, 0, 0 },	    /* unmasked */
		{ 0xc1, 0x80, 0, 0, 0, 0 },	    /* RSV1 */
		{ 0x83, 0x80, 0, 0, 0, 0 },	    /* opcode 3 */
		{ 0x8b, 0x80, 0, 0, 0, 0 },	    /* opcode 11 */
		{ 0x09, 0x80, 0, 0, 0, 0 },	    /* fragmented ping */
		{ 0x88, 0xfe, 0, 126, 0, 0, 0, 0 }, /* close over 125 */
	};
	struct ws_frame_hdr h;
	uint16_t code;

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		code = 0;
		CHECK_INT(ws_frame_parse(cases[i], 8, &h, &code), -1);
		CHECK_INT(code, WS_CLOSE_PROTOCOL);
	}
	{
		static const uint8_t huge[] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
		CHECK_INT(ws_frame_parse(huge, sizeof(huge), &h, &code), -1);
	}
}

static void test_unmask(void)
{
	uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	uint8_t data[] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 }; /* RFC 6455 5.7: "Hello" */

	ws_unmask(data, sizeof(data), mask, 0);
	CHECK_MEM(data, 5, "Hello");
	ws_unmask(data + 2, 3, mask, 2); /* masking again from an offset restores */
	ws_unmask(data, 2, mask, 0);
	CHECK(data[0] == 0x7f && data[4] == 0x58);
}

static void test_utf8(void)
{
	static const char *const good[] = { "",
					    "hello",
					    "h\xc3\xa9llo",
					    "\xe2\x82\xac",
					    "\xf0\x9f\x98\x80",
					    "\xef\xbf\xbf",
					    "\xf4\x8f\xbf\xbf" };
	static const char *const bad[] = {
		"\xff", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80",	   "\xf4\x90\x80\x80",
		"\xc3", "\xe2\x82", "\x80",	    "\xf8\x88\x80\x80\x80"
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(good); i++)
		CHECK(ws_utf8_valid((const uint8_t *)good[i], strlen(good[i])));
	for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
		CHECK(!ws_utf8_valid((const uint8_t *)bad[i], strlen(bad[i])));
}

/* RFC 6455 section 1.3's example. */
static void test_accept_key(void)
{
	struct sg_buf b;

	sg_buf_init(&b);
	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, &b);
	CHECK_STR(b.data, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	sg_buf_fini(&b);
}

static int close_of(const char *payload, size_t n, uint16_t *code)
{
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	memcpy(copy, payload, n);
	rc = ws_close_check(copy, n, code);
	free(copy);
	return rc;
}

/* RFC 6455 sections 5.5.1 and 7.4: which close payloads a client may send. */
static void test_close_payload(void)
{
	static const uint16_t valid[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
					  1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999 };
	static const uint16_t invalid[] = { 0,	  1,	999,  1004, 1005, 1006, 1015,
					    1016, 1100, 2000, 2999, 5000, 65535 };
	uint16_t code;

	for (size_t i = 0; i < SG_ARRAY_LEN(valid); i++) {
		char p[2] = { (char)(valid[i] >> 8), (char)(valid[i] & 0xff) };

		CHECK(ws_close_code_valid(valid[i]));
		CHECK_INT(close_of(p, 2, &code), 0);
		CHECK_INT(code, valid[i]);
	}
	for (size_t i = 0; i < SG_ARRAY_LEN(invalid); i++) {
		char p[2] = { (char)(invalid[i] >> 8), (char)(invalid[i] & 0xff) };

		CHECK(!ws_close_code_valid(invalid[i]));
		CHECK_INT(close_of(p, 2, &code), -1);
		CHECK_INT(code, WS_CLOSE_PROTOCOL);
	}
	CHECK_INT(close_of("", 0, &code), 0); /* a bare close */
	CHECK_INT(code, 0);
	CHECK_INT(close_of("\x03", 1, &code), -1); /* one byte: no room for a code */
	CHECK_INT(code, WS_CLOSE_PROTOCOL);
	CHECK_INT(close_of("\x03\xe8"
			   "bye \xc3\xa9",
			   8, &code),
		  0);
	CHECK_INT(code, 1000);
	CHECK_INT(close_of("\x03\xe8\xff", 3, &code), -1); /* reason not UTF-8 */
	CHECK_INT(code, WS_CLOSE_INVALID_DATA);
	CHECK_INT(close_of("\x03\xe8\xed\xa0\x80", 5, &code), -1); /* a surrogate */
	CHECK_INT(code, WS_CLOSE_INVALID_DATA);
	/* the code is checked before the reason */
	CHECK_INT(close_of("\x03\xed\xff", 3, &code), -1);
	CHECK_INT(code, WS_CLOSE_PROTOCOL);
}

int main(void)
{
	RUN(test_accept_key);
	RUN(test_headers);
	RUN(test_violations);
	RUN(test_unmask);
	RUN(test_utf8);
	RUN(test_close_payload);
	return UNIT_END();
}
