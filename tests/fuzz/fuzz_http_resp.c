/*
 * fuzz_http_resp.c: libFuzzer driver for the HTTP response parser of
 * siogate's outbound client and of the client library
 * (src/proto/http_resp_parser.h): what a verifier, a room validator, a
 * forward target or a Socket.IO server answers.  Besides memory errors it
 * checks the parser's promises: the answer does not depend on how the
 * bytes arrive (whole, or one byte per call), HRESP_DONE leaves the bytes
 * after the response unconsumed and a status 100..999, the decoded body
 * fits the limit, and a finished parser answers the same again.  The first
 * input byte picks the options (HEAD request, upgrade allowed, a header
 * callback).  A broken promise is reported with __builtin_trap().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http_resp_parser.h"

#define FUZZ_MAX_BYTES 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void on_header(void *arg, const char *name, size_t nl, const char *value, size_t vl);
static int parse(const char *p, size_t n, uint8_t opts, bool bytewise, size_t *consumed,
		 int *status, size_t *body_len);

static void on_header(void *arg, const char *name, size_t nl, const char *value, size_t vl)
{
	unsigned *sum = arg;

	for (size_t i = 0; i < nl; i++)
		*sum += (unsigned char)name[i];
	for (size_t i = 0; i < vl; i++)
		*sum += (unsigned char)value[i];
}

static int parse(const char *p, size_t n, uint8_t opts, bool bytewise, size_t *consumed,
		 int *status, size_t *body_len)
{
	struct http_resp_parser r;
	struct sg_err err = { 0 };
	enum http_resp_parser_status st = HRESP_MORE;
	unsigned sum = 0;
	size_t off = 0, used;

	http_resp_parser_init(&r, FUZZ_MAX_BYTES, opts & 1);
	if (opts & 2)
		http_resp_parser_allow_upgrade(&r);
	if (opts & 4)
		http_resp_parser_on_header(&r, on_header, &sum);
	while (off < n && st == HRESP_MORE) {
		size_t chunk = bytewise ? 1 : n - off;
		st = http_resp_parser_feed(&r, p + off, chunk, &used, &err);
		if (used > chunk || (st == HRESP_MORE && used != chunk))
			__builtin_trap();
		off += used;
		if (st != HRESP_MORE)
			break;
	}
	if (st == HRESP_MORE && (opts & 8))
		st = http_resp_parser_finish(&r, &err);
	if (st == HRESP_DONE) {
		if (r.status < 100 || r.status > 999 || r.body.len > FUZZ_MAX_BYTES)
			__builtin_trap();
		/* a finished parser stays finished and consumes nothing */
		if (http_resp_parser_feed(&r, "x", 1, &used, &err) != HRESP_DONE || used != 0)
			__builtin_trap();
		*status = r.status;
		*body_len = r.body.len;
	}
	*consumed = off;
	http_resp_parser_fini(&r);
	return (int)st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t c1 = 0, c2 = 0, b1 = 0, b2 = 0;
	int s1 = 0, s2 = 0, r1, r2;
	uint8_t opts;

	if (size < 1 || size > FUZZ_MAX_BYTES + 64)
		return 0;
	opts = data[0];
	r1 = parse((const char *)data + 1, size - 1, opts, false, &c1, &s1, &b1);
	if (size <= 2048) {
		r2 = parse((const char *)data + 1, size - 1, opts, true, &c2, &s2, &b2);
		/* byte by byte: the same verdict, the same response */
		if (r1 != r2 || (r1 == HRESP_DONE && (c1 != c2 || s1 != s2 || b1 != b2)))
			__builtin_trap();
	}
	return 0;
}
