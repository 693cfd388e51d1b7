/*
 * test_ws_accept.c: the Sec-WebSocket-Accept value (ws_accept.c):
 * RFC 6455's own example and keys whose answers were computed by an
 * independent implementation (Python's hashlib and base64); the key is
 * taken as bytes, whatever they are, for exactly the length given; the
 * value is appended to what the buffer holds.
 */
#include "proto/ws_accept.h"
#include "unit.h"

static void test_vectors(void)
{
	static const struct {
		const char *key;
		size_t len;
		const char *accept;
	} cases[] = {
		/* RFC 6455 section 1.3 */
		{ "dGhlIHNhbXBsZSBub25jZQ==", 24, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" },
		/* Python: base64(sha1(key + GUID)) */
		{ "x3JJHMbDL1EzLkh9GBhXDw==", 24, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=" },
		{ "AQIDBAUGBwgJCgsMDQ4PEA==", 24, "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=" },
		{ "", 0, "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w=" },
		{ "not base64 at all \xff", 19, "UCNd6EUZnvwjIUad4z62XQXs2eY=" },
		/* the length decides: the RFC key followed by more bytes */
		{ "dGhlIHNhbXBsZSBub25jZQ==trailing", 24, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct sg_buf b;

		sg_buf_init(&b);
		ws_accept_key(cases[i].key, cases[i].len, &b);
		CHECK_STR(b.data, cases[i].accept);
		CHECK_INT(b.len, 28);
		sg_buf_fini(&b);
	}
}

static void test_appends(void)
{
	struct sg_buf b;

	sg_buf_init(&b);
	sg_buf_append_str(&b, "Sec-WebSocket-Accept: ");
	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, &b);
	CHECK_STR(b.data, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	sg_buf_fini(&b);
}

int main(void)
{
	RUN(test_vectors);
	RUN(test_appends);
	return UNIT_END();
}
