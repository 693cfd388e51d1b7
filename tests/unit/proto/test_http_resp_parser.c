/*
 * test_http_resp_parser.c: the HTTP clients' response parser.  Every case is
 * fed whole, split at every byte boundary and byte by byte, and must give the
 * same result each way; the upgrade cases (libsiogate-client's WebSocket
 * handshake) also check what the header callback saw.
 */
#include <stdlib.h>

#include "proto/http_resp_parser.h"
#include "unit.h"

struct hr_case {
	const char *name;
	const char *in;
	size_t max; /* 0: 4096 */
	bool head;  /* answers a HEAD request */
	bool eof;   /* the peer closes after the input */
	enum http_resp_parser_status want;
	int status;
	const char *body;
	const char *ctype; /* NULL: no Content-Type expected */
	bool keep_alive;
	size_t leftover; /* bytes after the response */
};

static const struct hr_case cases[] = {
	{ "content-length",
	  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
	  "{\"ok\":true}",
	  0, false, false, HRESP_DONE, 200, "{\"ok\":true}", "application/json", true, 0 },
	{ "leftover after the response",
	  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200", 0, false, false, HRESP_DONE,
	  200, "ok", NULL, true, 12 },
	{ "chunked with extensions and trailers",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n"
	  "7 ; a=\"b\"\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n",
	  0, false, false, HRESP_DONE, 200, "hello, world", NULL, true, 0 },
	{ "chunked hex sizes and list form",
	  "HTTP/1.1 201 Created\r\nTransfer-Encoding: ,Chunked\r\n\r\nA\r\n0123456789\r\n"
	  "00\r\n\r\n",
	  0, false, false, HRESP_DONE, 201, "0123456789", NULL, true, 0 },
	{ "chunked then leftover",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\nextra", 0, false,
	  false, HRESP_DONE, 200, "x", NULL, true, 5 },
	{ "close-delimited body", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
	  0, false, true, HRESP_DONE, 200, "until close", "text/plain", false, 0 },
	{ "close-delimited body not yet closed", "HTTP/1.1 200 OK\r\n\r\npartial", 0, false, false,
	  HRESP_MORE, 0, NULL, NULL, false, 0 },
	{ "HTTP/1.0 closes by default", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, false,
	  false, HRESP_DONE, 200, "ok", NULL, false, 0 },
	{ "HTTP/1.0 keep-alive",
	  "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", 0, false,
	  false, HRESP_DONE, 200, "ok", NULL, true, 0 },
	{ "Connection: close",
	  "HTTP/1.1 500 Internal Server Error\r\nConnection: keep-alive, close\r\n"
	  "Content-Length: 3\r\n\r\nerr",
	  0, false, false, HRESP_DONE, 500, "err", NULL, false, 0 },
	{ "204 has no body", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", 0, false,
	  false, HRESP_DONE, 204, "", NULL, true, 0 },
	{ "304 has no body", "HTTP/1.1 304 Not Modified\r\n\r\nX", 0, false, false, HRESP_DONE, 304,
	  "", NULL, true, 1 },
	{ "HEAD response has no body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 0, true,
	  false, HRESP_DONE, 200, "", NULL, true, 0 },
	{ "interim 100 and 103 skipped",
	  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
	  "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
	  0, false, false, HRESP_DONE, 202, "ok", NULL, true, 0 },
	{ "bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 0, false, false,
	  HRESP_DONE, 200, "ok", NULL, true, 0 },
	{ "status line without reason", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 0, false,
	  false, HRESP_DONE, 404, "", NULL, true, 0 },
	{ "content type trimmed, first one kept",
	  "HTTP/1.1 200 OK\r\nContent-Type: \t text/plain; charset=utf-8 \t\r\n"
	  "content-type: x/y\r\nContent-Length: 0\r\n\r\n",
	  0, false, false, HRESP_DONE, 200, "", "text/plain; charset=utf-8", true, 0 },
	{ "repeated equal Content-Length",
	  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", 0, false, false,
	  HRESP_DONE, 200, "ok", NULL, true, 0 },
	{ "Transfer-Encoding wins over Content-Length, no reuse",
	  "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "2\r\nok\r\n0\r\n\r\n",
	  0, false, false, HRESP_DONE, 200, "ok", NULL, false, 0 },
	{ "exactly max_bytes", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", /* 42 bytes */
	  42, false, false, HRESP_DONE, 200, "abcd", NULL, true, 0 },

	{ "garbage", "garbage\r\n\r\n", 0, false, false, HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "HTTP/2 status line", "HTTP/2 200\r\n\r\n", 0, false, false, HRESP_ERROR, 0, NULL, NULL,
	  false, 0 },
	{ "two-digit status", "HTTP/1.1 20 OK\r\n\r\n", 0, false, false, HRESP_ERROR, 0, NULL, NULL,
	  false, 0 },
	{ "status below 100", "HTTP/1.1 099 X\r\n\r\n", 0, false, false, HRESP_ERROR, 0, NULL, NULL,
	  false, 0 },
	{ "no space after status", "HTTP/1.1 200OK\r\n\r\n", 0, false, false, HRESP_ERROR, 0, NULL,
	  NULL, false, 0 },
	{ "NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n", 0, false, false, HRESP_ERROR, 0, NULL, NULL,
	  false, 0 },
	{ "bad Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 0, false, false,
	  HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "signed Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", 0, false, false,
	  HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "huge Content-Length",
	  "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0, false, false,
	  HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "conflicting Content-Length",
	  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", 0, false, false,
	  HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "gzip transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0,
	  false, false, HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 0,
	  false, false, HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "obsolete line folding", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\n\r\n", 0, false, false,
	  HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "header without colon", "HTTP/1.1 200 OK\r\nX-A 1\r\n\r\n", 0, false, false, HRESP_ERROR,
	  0, NULL, NULL, false, 0 },
	{ "space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", 0, false, false,
	  HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "control character in a value", "HTTP/1.1 200 OK\r\nX-A: a\x01z\r\n\r\n", 0, false, false,
	  HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "bare CR inside a header", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", 0, false, false,
	  HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "101 Switching Protocols", "HTTP/1.1 101 Switching Protocols\r\n\r\n", 0, false, false,
	  HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0,
	  false, false, HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "chunk size overflows",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n", 0, false,
	  false, HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "chunk longer than its size",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", 0, false,
	  false, HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "malformed trailer",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnocolon\r\n\r\n", 0, false,
	  false, HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "truncated Content-Length body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 0,
	  false, true, HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "truncated chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
	  0, false, true, HRESP_ERROR, 0, NULL, NULL, false, 0 },
	{ "closed in the headers", "HTTP/1.1 200 OK\r\nContent-Le", 0, false, true, HRESP_ERROR, 0,
	  NULL, NULL, false, 0 },
	{ "closed without a byte", "", 0, false, true, HRESP_ERROR, 0, NULL, NULL, false, 0 },

	{ "Content-Length over the limit, refused before the body",
	  "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 64, false, false, HRESP_TOO_LARGE, 0,
	  NULL, NULL, false, 0 },
	{ "one byte over the limit", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", 41, false,
	  false, HRESP_TOO_LARGE, 0, NULL, NULL, false, 0 },
	{ "chunk over the limit", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n", 64,
	  false, false, HRESP_TOO_LARGE, 0, NULL, NULL, false, 0 },
	{ "endless header line",
	  "HTTP/1.1 200 OK\r\nX-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaa",
	  64, false, false, HRESP_TOO_LARGE, 0, NULL, NULL, false, 0 },
	{ "endless trailers",
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n", 64,
	  false, false, HRESP_TOO_LARGE, 0, NULL, NULL, false, 0 },
	{ "close-delimited body over the limit",
	  "HTTP/1.1 200 OK\r\n\r\n0123456789012345678901234567890123456789012345678901234567890",
	  64, false, false, HRESP_TOO_LARGE, 0, NULL, NULL, false, 0 },
};

/* A case run with the options of a client that asked for a WebSocket
 * upgrade (or not), logging the final response's headers. */
struct up_case {
	struct hr_case c;
	bool upgrade;	     /* http_resp_parser_allow_upgrade */
	const char *headers; /* what the header callback saw: "Name=value;"... */
};

static const struct up_case up_cases[] = {
	{ { "101 ends the response, the frames after it are left",
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi",
	    0, false, false, HRESP_DONE, 101, "", NULL, false, 4 },
	  true,
	  "Upgrade=websocket;Connection=Upgrade;Sec-WebSocket-Accept=s3pPLMBiTxaQ9kYGzzhZRbK+xOo=;" },
	{ { "101 has no body whatever its headers say",
	    "HTTP/1.1 101 Switching Protocols\nContent-Length: 5\n\nhello", 0, false, false,
	    HRESP_DONE, 101, "", NULL, false, 5 },
	  true,
	  "Content-Length=5;" },
	{ { "interim 100 skipped before the 101, its headers unseen",
	    "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n\r\n",
	    0, false, false, HRESP_DONE, 101, "", NULL, false, 0 },
	  true,
	  "Upgrade=WebSocket;" },
	{ { "upgrade asked, 200 answered: an ordinary response",
	    "HTTP/1.1 200 OK\r\nX-A: \t trimmed \t\r\nContent-Length: 2\r\n\r\nok", 0, false, false,
	    HRESP_DONE, 200, "ok", NULL, true, 0 },
	  true,
	  "X-A=trimmed;Content-Length=2;" },
	{ { "upgrade asked, 400 with a close-delimited body",
	    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{\"code\":3}", 0,
	    false, true, HRESP_DONE, 400, "{\"code\":3}", "application/json", false, 0 },
	  true,
	  "Content-Type=application/json;" },
	{ { "101 without the upgrade option is refused",
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 0, false, false,
	    HRESP_ERROR, 0, NULL, NULL, false, 0 },
	  false,
	  "" },
	{ { "headers seen without the upgrade option too",
	    "HTTP/1.1 204 No Content\r\nX-B: 1\r\nX-B: 2\r\n\r\n", 0, false, false, HRESP_DONE, 204,
	    "", NULL, true, 0 },
	  false,
	  "X-B=1;X-B=2;" },
	{ { "a malformed header after a good one",
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nBad Name: x\r\n\r\n", 0,
	    false, false, HRESP_ERROR, 0, NULL, NULL, false, 0 },
	  true,
	  "Upgrade=websocket;" },
	{ { "101 head over the limit",
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 40, false, false,
	    HRESP_TOO_LARGE, 0, NULL, NULL, false, 0 },
	  true,
	  NULL },
};

static void log_header(void *arg, const char *name, size_t name_len, const char *value,
		       size_t value_len)
{
	sg_buf_printf(arg, "%.*s=%.*s;", (int)name_len, name, (int)value_len, value);
}

/* The input length: the NUL-in-reason case needs its real size. */
static size_t case_len(const struct hr_case *c)
{
	if (strcmp(c->name, "NUL in reason") == 0)
		return 20;
	return strlen(c->in);
}

/* Feeds c->in cut at the given points (ascending, cuts[n] is the end), with
 * the options of up (NULL: none). */
static void run_pieces(const struct hr_case *c, const struct up_case *up, const size_t *cuts,
		       size_t ncuts, const char *how)
{
	struct http_resp_parser r;
	struct sg_err err = { 0 };
	enum http_resp_parser_status st = HRESP_MORE;
	size_t len = case_len(c), from = 0, used_total = 0, i;
	struct sg_buf seen;

	sg_buf_init(&seen);
	http_resp_parser_init(&r, c->max ? c->max : 4096, c->head);
	if (up != NULL) {
		if (up->upgrade)
			http_resp_parser_allow_upgrade(&r);
		http_resp_parser_on_header(&r, log_header, &seen);
	}
	for (i = 0; i < ncuts && st == HRESP_MORE; i++) {
		size_t used = 0;
		st = http_resp_parser_feed(&r, c->in + from, cuts[i] - from, &used, &err);
		used_total += used;
		if (st == HRESP_MORE && used != cuts[i] - from) {
			fprintf(stderr, "%s (%s): MORE consumed %zu of %zu\n", c->name, how, used,
				cuts[i] - from);
			CHECK(0);
		}
		from = cuts[i];
	}
	if (st == HRESP_MORE && c->eof)
		st = http_resp_parser_finish(&r, &err);
	if ((int)st != (int)c->want) {
		fprintf(stderr, "%s (%s): status %d, expected %d (%s)\n", c->name, how, (int)st,
			(int)c->want, err.msg);
		CHECK(0);
	} else if (st == HRESP_DONE) {
		CHECK_INT(r.status, c->status);
		CHECK_MEM(r.body.data, r.body.len, c->body);
		CHECK_INT(r.body.data[r.body.len], 0);
		if (c->ctype == NULL)
			CHECK(r.content_type == NULL);
		else
			CHECK_STR(r.content_type, c->ctype);
		CHECK_INT(r.keep_alive, c->keep_alive);
		CHECK_INT(len - used_total, c->leftover);
	} else if (st == HRESP_ERROR) {
		CHECK(err.msg[0] != '\0');
	}
	/* a finished parser consumes nothing more */
	if (st != HRESP_MORE) {
		size_t used = 99;
		enum http_resp_parser_status again = http_resp_parser_feed(&r, "x", 1, &used, &err);
		CHECK_INT(again, st);
		CHECK_INT(used, 0);
	}
	if (up != NULL && up->headers != NULL) {
		sg_buf_append(&seen, "", 0);
		if (strcmp(seen.data, up->headers) != 0)
			fprintf(stderr, "%s (%s): headers seen '%s'\n", c->name, how, seen.data);
		CHECK_STR(seen.data, up->headers);
	}
	sg_buf_fini(&seen);
	http_resp_parser_fini(&r);
}

/* Runs one case whole, split at every byte boundary and byte by byte. */
static void run_all_ways(const struct hr_case *c, const struct up_case *up)
{
	size_t len = case_len(c), cuts[2];
	size_t *bytes = sg_calloc(len + 1, sizeof(*bytes));

	cuts[0] = len;
	run_pieces(c, up, cuts, 1, "whole");
	for (size_t s = 0; s <= len; s++) {
		cuts[0] = s;
		cuts[1] = len;
		run_pieces(c, up, cuts, 2, "split");
	}
	for (size_t s = 0; s < len; s++)
		bytes[s] = s + 1;
	run_pieces(c, up, bytes, len, "bytewise");
	free(bytes);
}

static void test_cases_whole_split_bytewise(void)
{
	for (size_t k = 0; k < SG_ARRAY_LEN(cases); k++)
		run_all_ways(&cases[k], NULL);
}

static void test_upgrade_and_header_callback(void)
{
	for (size_t k = 0; k < SG_ARRAY_LEN(up_cases); k++)
		run_all_ways(&up_cases[k].c, &up_cases[k]);
}

static void test_started_and_finish(void)
{
	struct http_resp_parser r;
	struct sg_err err = { 0 };
	size_t used;

	http_resp_parser_init(&r, 100, false);
	CHECK(!http_resp_parser_started(&r));
	CHECK_INT(http_resp_parser_feed(&r, "", 0, &used, &err), HRESP_MORE);
	CHECK(!http_resp_parser_started(&r));
	CHECK_INT(http_resp_parser_feed(&r, "H", 1, &used, &err), HRESP_MORE);
	CHECK(http_resp_parser_started(&r));
	CHECK_INT(http_resp_parser_finish(&r, &err), HRESP_ERROR);
	CHECK_STR(err.msg, "connection closed before the end of the response");
	http_resp_parser_fini(&r);

	/* init after fini reuses the struct */
	http_resp_parser_init(&r, 100, false);
	CHECK_INT(http_resp_parser_feed(&r, "HTTP/1.1 200 OK\r\n\r\nab", 21, &used, &err),
		  HRESP_MORE);
	CHECK_INT(http_resp_parser_finish(&r, &err), HRESP_DONE);
	CHECK_INT(http_resp_parser_finish(&r, &err), HRESP_DONE);
	CHECK_MEM(r.body.data, r.body.len, "ab");
	http_resp_parser_fini(&r);
}

/* A large Content-Length body arriving in pieces ends exactly at its length. */
/* Cache-Control's max-age (the JWKS fetcher's refresh), no-store and
 * no-cache (0), and what is not a max-age. */
static void test_cache_control(void)
{
	static const struct {
		const char *value; /* NULL: no header */
		int64_t max_age;
	} cc[] = {
		{ NULL, -1 },
		{ "max-age=600", 600 },
		{ "public, max-age=86400, must-revalidate", 86400 },
		{ "Max-Age=\"30\"", 30 },
		{ "no-store", 0 },
		{ "max-age=60, no-cache", 0 },
		{ "no-cache, max-age=60", 0 },
		{ "max-age=", -1 },
		{ "max-age=x", -1 },
		{ "s-maxage=5", -1 },
		{ "private", -1 },
		{ "max-age=99999999999999999999", 1000000000000 },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cc); i++) {
		struct http_resp_parser r;
		struct sg_err err = { 0 };
		struct sg_buf in;
		size_t used = 0;

		sg_buf_init(&in);
		sg_buf_append_str(&in, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
		if (cc[i].value != NULL)
			sg_buf_printf(&in, "Cache-Control: %s\r\n", cc[i].value);
		sg_buf_append_str(&in, "\r\n{}");
		http_resp_parser_init(&r, 4096, false);
		CHECK_INT(http_resp_parser_feed(&r, in.data, in.len, &used, &err), HRESP_DONE);
		if (r.max_age != cc[i].max_age)
			fprintf(stderr, "Cache-Control: %s\n", cc[i].value ? cc[i].value : "-");
		CHECK_INT(r.max_age, cc[i].max_age);
		http_resp_parser_fini(&r);
		sg_buf_fini(&in);
	}
}

static void test_large_body(void)
{
	struct http_resp_parser r;
	struct sg_err err = { 0 };
	char head[64], chunk[1000];
	size_t used, n, got = 0;
	enum http_resp_parser_status st = HRESP_MORE;

	memset(chunk, 'z', sizeof(chunk));
	n = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
			     100000);
	http_resp_parser_init(&r, 200000, false);
	CHECK_INT(http_resp_parser_feed(&r, head, n, &used, &err), HRESP_MORE);
	while (st == HRESP_MORE && got < 200000) {
		st = http_resp_parser_feed(&r, chunk, sizeof(chunk), &used, &err);
		got += used;
	}
	CHECK_INT(st, HRESP_DONE);
	CHECK_INT(got, 100000);
	CHECK_INT(r.body.len, 100000);
	CHECK_INT(r.body.data[99999], 'z');
	http_resp_parser_fini(&r);
}

int main(void)
{
	RUN(test_cases_whole_split_bytewise);
	RUN(test_upgrade_and_header_callback);
	RUN(test_started_and_finish);
	RUN(test_large_body);
	RUN(test_cache_control);
	return UNIT_END();
}
