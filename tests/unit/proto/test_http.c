/*
 * test_http.c: the HTTP/1.x request-head parser and query helpers.  Every
 * request is parsed whole and again from each prefix (copied into a buffer of
 * exactly that size, so ASan catches any read past the bytes given).
 */
#include <stdlib.h>

#include "proto/http.h"
#include "unit.h"

#define MAX_HEAD 8192
/* check_reject for a literal holding NUL bytes. */
#define REJECT_BYTES(lit, st) check_reject_n(lit, sizeof(lit) - 1, st)

static int parse_copy(const char *s, size_t len, size_t max_head, struct http_request *r,
		      int *status, char **copy);
static void check_same(const struct http_request *a, const char *abase,
		       const struct http_request *b, const char *bbase);
static void check_split(const char *s, size_t len, const struct http_request *whole,
			const char *wbase);
static void check_reject(const char *s, int want_status);
static void check_reject_n(const char *s, size_t len, int want_status);
static const char *hval(const struct http_request *r, const char *name);
static int collect_cb(const char *k, size_t kl, const char *v, size_t vl, void *arg);
static int stop_cb(const char *k, size_t kl, const char *v, size_t vl, void *arg);

/* Parses s[0..len) from a heap copy of exactly len bytes; the copy is
 * returned in *copy (caller frees) since req borrows it. */
static int parse_copy(const char *s, size_t len, size_t max_head, struct http_request *r,
		      int *status, char **copy)
{
	struct sg_err err = { 0 };

	*copy = malloc(len ? len : 1);
	memcpy(*copy, s, len);
	*status = 0;
	return http_request_parse(*copy, len, max_head, r, status, &err);
}

/* Same fields at the same offsets from each buffer's start. */
static void check_same(const struct http_request *a, const char *abase,
		       const struct http_request *b, const char *bbase)
{
	size_t i;

	CHECK_INT(a->method - abase, b->method - bbase);
	CHECK_INT(a->method_len, b->method_len);
	CHECK_INT(a->target - abase, b->target - bbase);
	CHECK_INT(a->target_len, b->target_len);
	CHECK_INT(a->path - abase, b->path - bbase);
	CHECK_INT(a->path_len, b->path_len);
	CHECK_INT(a->query - abase, b->query - bbase);
	CHECK_INT(a->query_len, b->query_len);
	CHECK_INT(a->version_minor, b->version_minor);
	CHECK_INT(a->n_headers, b->n_headers);
	for (i = 0; i < a->n_headers && i < b->n_headers; i++) {
		CHECK_INT(a->headers[i].name - abase, b->headers[i].name - bbase);
		CHECK_INT(a->headers[i].name_len, b->headers[i].name_len);
		CHECK_INT(a->headers[i].value - abase, b->headers[i].value - bbase);
		CHECK_INT(a->headers[i].value_len, b->headers[i].value_len);
	}
	CHECK_INT(a->head_len, b->head_len);
	CHECK_INT(a->content_length, b->content_length);
	CHECK_INT(a->chunked, b->chunked);
	CHECK_INT(a->keep_alive, b->keep_alive);
}

/* Every prefix shorter than the head gives 0; every longer one gives 1 with
 * the same result as the whole parse. */
static void check_split(const char *s, size_t len, const struct http_request *whole,
			const char *wbase)
{
	size_t k;

	for (k = 0; k <= len; k++) {
		struct http_request r;
		int status, rc;
		char *copy;

		rc = parse_copy(s, k, MAX_HEAD, &r, &status, &copy);
		if (k < whole->head_len) {
			CHECK_INT(rc, 0);
		} else {
			CHECK_INT(rc, 1);
			if (rc == 1)
				check_same(&r, copy, whole, wbase);
		}
		free(copy);
	}
}

/* The whole input is rejected with want_status; no prefix is accepted, and
 * once a prefix is rejected every longer one is rejected the same way. */
static void check_reject(const char *s, int want_status)
{
	check_reject_n(s, strlen(s), want_status);
}

/* check_reject for input holding NUL bytes. */
static void check_reject_n(const char *s, size_t len, int want_status)
{
	size_t k;
	int first_reject = -1;

	for (k = 0; k <= len; k++) {
		struct http_request r;
		int status, rc;
		char *copy;

		rc = parse_copy(s, k, MAX_HEAD, &r, &status, &copy);
		free(copy);
		CHECK(rc != 1);
		if (rc < 0 && first_reject < 0)
			first_reject = (int)k;
		if (first_reject >= 0) {
			CHECK_INT(rc, -1);
			CHECK_INT(status, want_status);
		}
	}
	if (first_reject < 0)
		fprintf(stderr, "  input not rejected: %s\n", s);
	CHECK(first_reject >= 0);
}

static const char *hval(const struct http_request *r, const char *name)
{
	static char v[256];
	const struct http_header *h = http_request_header(r, name);

	if (h == NULL)
		return NULL;
	snprintf(v, sizeof(v), "%.*s", (int)h->value_len, h->value);
	return v;
}

static void test_get_with_query(void)
{
	const char *s = "GET /socket.io/?EIO=4&transport=polling&t=c2suyok2 HTTP/1.1\r\n"
			"Host: localhost:3000\r\n"
			"User-Agent: node-XMLHttpRequest\r\n"
			"Accept: */*\r\n"
			"\r\n";
	struct http_request r;
	int status = 0;
	struct sg_err err = { 0 };

	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r, &status, &err), 1);
	CHECK_MEM(r.method, r.method_len, "GET");
	CHECK_MEM(r.target, r.target_len, "/socket.io/?EIO=4&transport=polling&t=c2suyok2");
	CHECK_MEM(r.path, r.path_len, "/socket.io/");
	CHECK_MEM(r.query, r.query_len, "EIO=4&transport=polling&t=c2suyok2");
	CHECK_INT(r.version_minor, 1);
	CHECK_INT(r.n_headers, 3);
	CHECK_MEM(r.headers[0].name, r.headers[0].name_len, "Host");
	CHECK_MEM(r.headers[0].value, r.headers[0].value_len, "localhost:3000");
	CHECK_MEM(r.headers[2].name, r.headers[2].name_len, "Accept");
	CHECK_MEM(r.headers[2].value, r.headers[2].value_len, "*/*");
	CHECK_INT(r.head_len, strlen(s));
	CHECK_INT(r.content_length, -1);
	CHECK_INT(r.chunked, 0);
	CHECK_INT(r.keep_alive, 1);
	CHECK_STR(hval(&r, "user-agent"), "node-XMLHttpRequest");
	CHECK_STR(hval(&r, "HOST"), "localhost:3000");
	CHECK(http_request_header(&r, "Cookie") == NULL);
	check_split(s, strlen(s), &r, s);
}

static void test_websocket_upgrade(void)
{
	const char *s = "GET /socket.io/?EIO=4&transport=websocket&sid=abc HTTP/1.1\r\n"
			"Host: 127.0.0.1:3000\r\n"
			"Connection: keep-alive, Upgrade\r\n"
			"Upgrade: websocket\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n"
			"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
			"\r\n";
	struct http_request r;
	int status = 0;

	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r, &status, NULL), 1);
	CHECK_INT(r.n_headers, 6);
	CHECK(http_header_has_token(http_request_header(&r, "connection"), "upgrade"));
	CHECK(http_header_has_token(http_request_header(&r, "connection"), "Keep-Alive"));
	CHECK(!http_header_has_token(http_request_header(&r, "connection"), "close"));
	CHECK(!http_header_has_token(http_request_header(&r, "connection"), "keep"));
	CHECK(http_header_has_token(http_request_header(&r, "upgrade"), "WebSocket"));
	CHECK(!http_header_has_token(http_request_header(&r, "x-absent"), "x"));
	CHECK_STR(hval(&r, "sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
	CHECK_STR(hval(&r, "sec-websocket-version"), "13");
	CHECK_INT(r.keep_alive, 1);
	check_split(s, strlen(s), &r, s);
}

static void test_post_with_body(void)
{
	const char *s = "POST /socket.io/?EIO=4&transport=polling&sid=xyz HTTP/1.1\r\n"
			"Host: localhost\r\n"
			"Content-Type: text/plain;charset=UTF-8\r\n"
			"Content-Length: 6\r\n"
			"Connection: close\r\n"
			"\r\n"
			"4hello";
	struct http_request r;
	int status = 0;

	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r, &status, NULL), 1);
	CHECK_MEM(r.method, r.method_len, "POST");
	CHECK_INT(r.content_length, 6);
	CHECK_INT(r.keep_alive, 0);
	CHECK_INT(r.head_len, strlen(s) - 6);
	CHECK_MEM(s + r.head_len, 6, "4hello");
	CHECK_STR(hval(&r, "content-type"), "text/plain;charset=UTF-8");
	check_split(s, strlen(s), &r, s);
}

static void test_variants(void)
{
	struct http_request r;
	int status = 0;
	const char *s;

	/* Bare LF line ends, HTTP/1.0 without Host, default close. */
	s = "GET /a?b HTTP/1.0\nX-Thing: 1\n\n";
	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r, &status, NULL), 1);
	CHECK_INT(r.version_minor, 0);
	CHECK_INT(r.keep_alive, 0);
	CHECK_INT(r.head_len, strlen(s));
	CHECK_STR(hval(&r, "x-thing"), "1");
	CHECK_MEM(r.query, r.query_len, "b");
	check_split(s, strlen(s), &r, s);

	/* HTTP/1.0 keep-alive; OWS trimmed; empty value; HTAB inside a value;
	 * obs-text allowed; leading empty lines skipped; empty query. */
	s = "\r\n\nGET /x? HTTP/1.0\r\n"
	    "Connection:  Keep-Alive \t\r\n"
	    "X-Empty:\r\n"
	    "X-Tab: a\tb\r\n"
	    "X-Utf8: caf\xc3\xa9\r\n"
	    "\r\n";
	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r, &status, NULL), 1);
	CHECK_INT(r.keep_alive, 1);
	CHECK_MEM(r.method, r.method_len, "GET");
	CHECK_MEM(r.path, r.path_len, "/x");
	CHECK_INT(r.query_len, 0);
	CHECK_STR(hval(&r, "connection"), "Keep-Alive");
	CHECK_STR(hval(&r, "x-empty"), "");
	CHECK_STR(hval(&r, "x-tab"), "a\tb");
	CHECK_STR(hval(&r, "x-utf8"), "caf\xc3\xa9");
	check_split(s, strlen(s), &r, s);

	/* HTTP/1.1 with Connection: close among other tokens. */
	s = "OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE\r\n\r\n";
	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r, &status, NULL), 1);
	CHECK_INT(r.keep_alive, 0);
	CHECK_MEM(r.target, r.target_len, "*");
	CHECK_MEM(r.path, r.path_len, "*");

	/* chunked, case-insensitive, Content-Length 0 with leading zeros. */
	s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n";
	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r, &status, NULL), 1);
	CHECK_INT(r.chunked, 1);
	CHECK_INT(r.content_length, -1);
	s = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n";
	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r, &status, NULL), 1);
	CHECK_INT(r.content_length, 7);
	CHECK_INT(r.chunked, 0);
	s = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n";
	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r, &status, NULL), 1);
	CHECK_INT(r.content_length, INT64_MAX);
}

static void test_pipelined(void)
{
	const char *s = "POST /p?sid=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
			"GET /second HTTP/1.1\r\nHost: b\r\n\r\n";
	struct http_request r1, r2;
	int status = 0;
	size_t off;

	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r1, &status, NULL), 1);
	CHECK_MEM(r1.path, r1.path_len, "/p");
	CHECK_INT(r1.content_length, 3);
	off = r1.head_len + (size_t)r1.content_length;
	CHECK_MEM(s + r1.head_len, 3, "abc");
	CHECK_INT(http_request_parse(s + off, strlen(s) - off, MAX_HEAD, &r2, &status, NULL), 1);
	CHECK_MEM(r2.method, r2.method_len, "GET");
	CHECK_MEM(r2.path, r2.path_len, "/second");
	CHECK_STR(hval(&r2, "host"), "b");
	CHECK_INT(r2.head_len, strlen(s) - off);
	CHECK_INT(r2.content_length, -1);

	/* A head followed by the start of the next request is still complete. */
	s = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HT";
	CHECK_INT(http_request_parse(s, strlen(s), MAX_HEAD, &r1, &status, NULL), 1);
	CHECK_INT(r1.head_len, strlen(s) - 8);
}

static void test_malformed(void)
{
	/* request line */
	check_reject("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
	check_reject(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_reject("G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_reject("GET /\r\nHost: a\r\n\r\n", 400);
	check_reject("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
	check_reject("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400);
	check_reject("GET / HTTP/1\r\nHost: a\r\n\r\n", 400);
	check_reject("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_reject("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_reject("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_reject("GARBAGE\r\n", 400);
	check_reject("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400);
	/* version */
	check_reject("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	check_reject("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505);
	check_reject("GET / HTTP/0.9\r\n\r\n", 505);
	/* header lines */
	check_reject("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n continued\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: 1\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n", 400);
	/* NUL bytes */
	REJECT_BYTES("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400);
	REJECT_BYTES("GET / HTTP/1.1\r\nHost: a\r\nX\0Y: 1\r\n\r\n", 400);
	REJECT_BYTES("G\0T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT_BYTES("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	/* Host */
	check_reject("GET / HTTP/1.1\r\nX: a\r\n\r\n", 400);
	check_reject("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);
	/* Content-Length */
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		     "Content-Length: 5\r\n\r\n",
		     400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,5\r\n\r\n", 400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", 400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\n"
		     "Content-Length: 9223372036854775808\r\n\r\n",
		     400);
	/* Transfer-Encoding */
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n",
		     400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		     "Content-Length: 5\r\n\r\n",
		     400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\n"
		     "Transfer-Encoding: chunked, chunked\r\n\r\n",
		     400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n", 400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400);
	check_reject("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
	check_reject("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n",
		     501);
}

static void test_limits(void)
{
	struct sg_buf b;
	struct http_request r;
	int status = 0, i;
	struct sg_err err = { 0 };
	size_t head;

	/* 64 headers (Host + 63) pass, 65 are refused with 431. */
	sg_buf_init(&b);
	sg_buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < HTTP_MAX_HEADERS; i++)
		sg_buf_printf(&b, "X-%d: %d\r\n", i, i);
	sg_buf_append_str(&b, "\r\n");
	CHECK_INT(http_request_parse(b.data, b.len, MAX_HEAD, &r, &status, &err), 1);
	CHECK_INT(r.n_headers, HTTP_MAX_HEADERS);
	b.len -= 2;
	sg_buf_append_str(&b, "X-last: 1\r\n\r\n");
	CHECK_INT(http_request_parse(b.data, b.len, MAX_HEAD, &r, &status, &err), -1);
	CHECK_INT(status, 431);
	CHECK(strstr(err.msg, "too many") != NULL);

	/* max_head: the exact head length fits, one byte less does not. */
	sg_buf_reset(&b);
	sg_buf_append_str(&b, "GET /abc HTTP/1.1\r\nHost: a\r\n\r\n");
	head = b.len;
	CHECK_INT(http_request_parse(b.data, b.len, head, &r, &status, &err), 1);
	status = 0;
	CHECK_INT(http_request_parse(b.data, b.len, head - 1, &r, &status, &err), -1);
	CHECK_INT(status, 431);
	/* The head is incomplete and already max_head long: refused now. */
	status = 0;
	CHECK_INT(http_request_parse(b.data, head - 2, head - 2, &r, &status, &err), -1);
	CHECK_INT(status, 431);
	CHECK_INT(http_request_parse(b.data, head - 3, head - 2, &r, &status, &err), 0);
	/* A request line with no end, longer than max_head. */
	sg_buf_reset(&b);
	sg_buf_append_str(&b, "GET /");
	for (i = 0; i < 200; i++)
		sg_buf_append_char(&b, 'a');
	status = 0;
	CHECK_INT(http_request_parse(b.data, b.len, 100, &r, &status, &err), -1);
	CHECK_INT(status, 431);
	/* Leading empty lines count toward the limit. */
	sg_buf_reset(&b);
	for (i = 0; i < 60; i++)
		sg_buf_append_str(&b, "\r\n");
	status = 0;
	CHECK_INT(http_request_parse(b.data, b.len, 100, &r, &status, &err), -1);
	CHECK_INT(status, 431);
	sg_buf_fini(&b);
}

struct collect {
	struct sg_buf out;
};

static int collect_cb(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct collect *c = arg;

	CHECK_INT(strlen(k), kl);
	CHECK_INT(k[kl], 0);
	CHECK_INT(v[vl], 0);
	sg_buf_append(&c->out, k, kl);
	sg_buf_append_char(&c->out, '=');
	sg_buf_append(&c->out, v, vl);
	sg_buf_append_char(&c->out, ';');
	return 0;
}

static int stop_cb(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	int *n = arg;

	SG_UNUSED(k);
	SG_UNUSED(kl);
	SG_UNUSED(v);
	SG_UNUSED(vl);
	return ++*n == 2 ? 7 : 0;
}

static void test_query(void)
{
	const char *q = "a=1&b=%2F%20x&c=&d";
	struct sg_buf v;
	struct collect c;
	int n = 0;

	sg_buf_init(&v);
	CHECK_INT(http_query_get(q, strlen(q), "a", &v), 1);
	CHECK_STR(v.data, "1");
	sg_buf_reset(&v);
	CHECK_INT(http_query_get(q, strlen(q), "b", &v), 1);
	CHECK_STR(v.data, "/ x");
	sg_buf_reset(&v);
	CHECK_INT(http_query_get(q, strlen(q), "c", &v), 1);
	CHECK_INT(v.len, 0);
	CHECK(v.data != NULL && v.data[0] == '\0');
	CHECK_INT(http_query_get(q, strlen(q), "d", &v), 1);
	CHECK_INT(v.len, 0);
	CHECK_INT(http_query_get(q, strlen(q), "e", &v), 0);
	CHECK_INT(http_query_get(q, strlen(q), "", &v), 0);
	/* Only the first len bytes count. */
	CHECK_INT(http_query_get(q, 3, "b", &v), 0);
	CHECK_INT(http_query_get("", 0, "a", &v), 0);

	/* '+' is a space, %2B a plus; keys are decoded too; first match wins;
	 * the value is appended. */
	sg_buf_reset(&v);
	sg_buf_append_str(&v, ">");
	q = "x=0&q=a+b%2B%2b&my%20key=v&q=second";
	CHECK_INT(http_query_get(q, strlen(q), "q", &v), 1);
	CHECK_STR(v.data, ">a b++");
	sg_buf_reset(&v);
	CHECK_INT(http_query_get(q, strlen(q), "my key", &v), 1);
	CHECK_STR(v.data, "v");
	/* %00 decodes to a NUL byte. */
	sg_buf_reset(&v);
	q = "n=a%00b";
	CHECK_INT(http_query_get(q, strlen(q), "n", &v), 1);
	CHECK_INT(v.len, 3);
	CHECK(memcmp(v.data, "a\0b", 3) == 0);

	/* bad %-encoding anywhere is an error, out untouched */
	sg_buf_reset(&v);
	q = "a=%zz";
	CHECK_INT(http_query_get(q, strlen(q), "a", &v), -1);
	q = "a=1&b=%";
	CHECK_INT(http_query_get(q, strlen(q), "a", &v), -1);
	q = "a=%2";
	CHECK_INT(http_query_get(q, strlen(q), "a", &v), -1);
	q = "%g1=2";
	CHECK_INT(http_query_get(q, strlen(q), "a", &v), -1);
	CHECK_INT(v.len, 0);

	/* foreach: decoded pairs in order, empty pairs skipped */
	sg_buf_init(&c.out);
	q = "&a=1&&b=%2F%20x&c=&d&=e&f=g=h&";
	CHECK_INT(http_query_foreach(q, strlen(q), collect_cb, &c), 0);
	CHECK_STR(c.out.data, "a=1;b=/ x;c=;d=;=e;f=g=h;");
	sg_buf_reset(&c.out);
	q = "a=1&b=%zz";
	CHECK_INT(http_query_foreach(q, strlen(q), collect_cb, &c), -1);
	CHECK_INT(c.out.len, 0);
	q = "a=1&b=2&c=3";
	CHECK_INT(http_query_foreach(q, strlen(q), stop_cb, &n), 7);
	CHECK_INT(n, 2);
	CHECK_INT(http_query_foreach("", 0, collect_cb, &c), 0);
	CHECK_INT(c.out.len, 0);
	sg_buf_fini(&c.out);
	sg_buf_fini(&v);
}

/* Every status siogate sends has its phrase (it once said "401 Unknown"). */
static void test_path_decode(void)
{
	struct sg_buf v;

	sg_buf_init(&v);
	CHECK_INT(http_path_decode("auth0%7Cx%2Fy+%C3%A9", 20, &v), 0);
	CHECK_STR(v.data, "auth0|x/y+\xc3\xa9");
	sg_buf_reset(&v);
	CHECK_INT(http_path_decode("plain", 5, &v), 0);
	CHECK_STR(v.data, "plain");
	/* bad %-encoding and NUL leave out as it was */
	sg_buf_reset(&v);
	sg_buf_append_str(&v, "kept");
	CHECK_INT(http_path_decode("a%zz", 4, &v), -1);
	CHECK_INT(http_path_decode("a%2", 3, &v), -1);
	CHECK_INT(http_path_decode("%", 1, &v), -1);
	CHECK_INT(http_path_decode("a%00b", 5, &v), -1);
	CHECK_STR(v.data, "kept");
	CHECK_INT(v.len, 4);
	/* only the n bytes given are read */
	sg_buf_reset(&v);
	CHECK_INT(http_path_decode("ab%41", 2, &v), 0);
	CHECK_STR(v.data, "ab");
	CHECK_INT(http_path_decode("", 0, &v), 0);
	sg_buf_fini(&v);
}

static void test_status_text(void)
{
	static const int sent[] = { 100, 101, 200, 202, 204, 400, 401, 403, 404, 405,
				    408, 411, 413, 417, 429, 431, 500, 501, 503, 505 };

	for (size_t i = 0; i < SG_ARRAY_LEN(sent); i++)
		CHECK(strcmp(http_status_text(sent[i]), "Unknown") != 0);
	CHECK_STR(http_status_text(100), "Continue");
	CHECK_STR(http_status_text(202), "Accepted");
	CHECK_STR(http_status_text(401), "Unauthorized");
	CHECK_STR(http_status_text(411), "Length Required");
	CHECK_STR(http_status_text(417), "Expectation Failed");
	CHECK_STR(http_status_text(101), "Switching Protocols");
	CHECK_STR(http_status_text(200), "OK");
	CHECK_STR(http_status_text(204), "No Content");
	CHECK_STR(http_status_text(400), "Bad Request");
	CHECK_STR(http_status_text(403), "Forbidden");
	CHECK_STR(http_status_text(404), "Not Found");
	CHECK_STR(http_status_text(405), "Method Not Allowed");
	CHECK_STR(http_status_text(408), "Request Timeout");
	CHECK_STR(http_status_text(413), "Payload Too Large");
	CHECK_STR(http_status_text(429), "Too Many Requests");
	CHECK_STR(http_status_text(431), "Request Header Fields Too Large");
	CHECK_STR(http_status_text(500), "Internal Server Error");
	CHECK_STR(http_status_text(501), "Not Implemented");
	CHECK_STR(http_status_text(503), "Service Unavailable");
	CHECK_STR(http_status_text(505), "HTTP Version Not Supported");
	CHECK_STR(http_status_text(418), "Unknown");
}

static enum http_expect expect_of(const char *s)
{
	struct http_request r;
	int status = 0;

	if (http_request_parse(s, strlen(s), MAX_HEAD, &r, &status, NULL) != 1)
		return (enum http_expect) - 1;
	return http_request_expect(&r);
}

static void test_expect(void)
{
	CHECK_INT(expect_of("POST / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_EXPECT_NONE);
	CHECK_INT(expect_of("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"),
		  HTTP_EXPECT_CONTINUE);
	CHECK_INT(expect_of("POST / HTTP/1.1\r\nHost: a\r\nEXPECT:  100-Continue \r\n\r\n"),
		  HTTP_EXPECT_CONTINUE);
	CHECK_INT(expect_of("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"),
		  HTTP_EXPECT_UNKNOWN);
	CHECK_INT(expect_of("POST / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n"), HTTP_EXPECT_UNKNOWN);
	CHECK_INT(expect_of("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continuex\r\n\r\n"),
		  HTTP_EXPECT_UNKNOWN);
	/* RFC 9110 10.1.1: an HTTP/1.0 request's expectation is ignored */
	CHECK_INT(expect_of("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"), HTTP_EXPECT_NONE);
	CHECK_INT(expect_of("POST / HTTP/1.0\r\nExpect: x\r\n\r\n"), HTTP_EXPECT_NONE);
}

/* Scans body[0..len) from a fresh state, from a heap copy of exactly len
 * bytes (ASan sees any read past them). */
static int scan_copy(const char *body, size_t len, uint64_t max, struct http_chunked *st,
		     int *status)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, body, len);
	memset(st, 0, sizeof(*st));
	*status = 0;
	rc = http_chunked_scan(st, copy, len, max, status, NULL);
	free(copy);
	return rc;
}

/* A complete chunked body: every prefix scanned afresh gives 0 and the
 * whole gives 1; fed byte by byte into one state the answers are 0 then 1
 * at the same length; the decoded data is want. */
static void check_chunked(const char *body, size_t len, size_t raw_len, const char *want)
{
	struct http_chunked st, inc;
	int status, rc = 0;
	char *copy;
	size_t k, at = 0;

	for (k = 0; k < raw_len; k++)
		CHECK_INT(scan_copy(body, k, 1000, &st, &status), 0);
	CHECK_INT(scan_copy(body, len, 1000, &st, &status), 1);
	CHECK_INT(st.pos, raw_len);
	CHECK_INT(st.size, strlen(want));
	memset(&inc, 0, sizeof(inc));
	for (k = 0; k <= len && rc == 0; k++) {
		rc = http_chunked_scan(&inc, body, k, 1000, &status, NULL);
		at = k;
	}
	CHECK_INT(rc, 1);
	CHECK_INT(at, raw_len);
	CHECK_INT(inc.pos, raw_len);
	copy = malloc(raw_len);
	memcpy(copy, body, raw_len);
	CHECK_INT(http_chunked_decode(copy, raw_len), strlen(want));
	CHECK_MEM(copy, strlen(want), want);
	free(copy);
}

/* Refused with want_status once enough has arrived; never complete before,
 * and every longer prefix refused the same way. */
static void check_chunked_reject(const char *body, size_t len, uint64_t max, int want_status)
{
	struct http_chunked st;
	int status, rc, first = -1;

	for (size_t k = 0; k <= len; k++) {
		rc = scan_copy(body, k, max, &st, &status);
		CHECK(rc != 1);
		if (rc < 0 && first < 0)
			first = (int)k;
		if (first >= 0) {
			CHECK_INT(rc, -1);
			CHECK_INT(status, want_status);
		}
	}
	if (first < 0)
		fprintf(stderr, "  chunked body not refused: %s\n", body);
	CHECK(first >= 0);
}

static void test_chunked(void)
{
	static const char pipelined[] = "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
	static const char *const bad[] = {
		"5\nhello\r\n0\r\n\r\n",		/* bare LF after the size */
		"5\r\nhello\n0\r\n\r\n",		/* bare LF after the data */
		"5\r\nhelloX\r\n0\r\n\r\n",		/* data longer than its size */
		"x\r\n",				/* not hex */
		" 5\r\nhello\r\n0\r\n\r\n",		/* leading space */
		"0x5\r\nhello\r\n0\r\n\r\n",		/* 0x prefix */
		"5 x\r\nhello\r\n",			/* junk after the size */
		"-1\r\n",				/* negative */
		"5\r\nhello\r\n0\r\nX-T\r\n\r\n",	/* a trailer that is no field */
		"5\r\nhello\r\n0\r\nX-T: a\rb\r\n\r\n", /* bare CR in a trailer */
		"5\r\nhello\r\n0\r\n X: a\r\n\r\n",	/* obs-fold */
		"10000000000000000\r\n",		/* 17 hex digits */
		"5;a\x01\r\nhello\r\n",			/* control character in an extension */
	};
	char big[HTTP_CHUNK_LINE_MAX + 64];
	struct http_chunked st;
	int status;

	static const char *const good[][2] = {
		{ "5\r\nhello\r\n0\r\n\r\n", "hello" },
		{ "3\r\n4he\r\n2;name=\"v a\"\r\nll\r\n1 ; x\r\no\r\n"
		  "0\r\nX-Trailer: yes\r\nOther:\tv\r\n\r\n",
		  "4hello" },
		{ "A\r\n0123456789\r\na\r\nabcdefghij\r\n000\r\n\r\n", "0123456789abcdefghij" },
		{ "0\r\n\r\n", "" },
	};
	char *many;
	size_t n;

	for (size_t i = 0; i < SG_ARRAY_LEN(good); i++)
		check_chunked(good[i][0], strlen(good[i][0]), strlen(good[i][0]), good[i][1]);
	/* what follows the body is the next request's */
	check_chunked(pipelined, sizeof(pipelined) - 1, 15, "hello");
	for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
		check_chunked_reject(bad[i], strlen(bad[i]), 1000, 400);
	/* data over max_body: refused as soon as the size line says so */
	check_chunked_reject("3e9\r\n", 6, 1000, 413);
	check_chunked_reject("200\r\n", 5, 511, 413);
	CHECK_INT(scan_copy("200\r\n", 5, 512, &st, &status), 0);
	/* framing over HTTP_CHUNKED_MAX_OVERHEAD: one-byte chunks cost 5 bytes each */
	n = HTTP_CHUNKED_MAX_OVERHEAD / 5 + 2;
	many = malloc(n * 6 + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(many + i * 6, "1\r\nx\r\n", 6);
	many[n * 6] = '\0';
	CHECK_INT(scan_copy(many, n * 6, 1u << 30, &st, &status), -1);
	CHECK_INT(status, 413);
	CHECK_INT(scan_copy(many, (n - 4) * 6, 1u << 30, &st, &status), 0);
	free(many);
	/* a size line longer than HTTP_CHUNK_LINE_MAX */
	memset(big, 0, sizeof(big));
	big[0] = '1';
	big[1] = ';';
	memset(big + 2, 'a', sizeof(big) - 3);
	check_chunked_reject(big, strlen(big), 1000, 400);
}

int main(void)
{
	RUN(test_get_with_query);
	RUN(test_websocket_upgrade);
	RUN(test_post_with_body);
	RUN(test_variants);
	RUN(test_pipelined);
	RUN(test_malformed);
	RUN(test_limits);
	RUN(test_query);
	RUN(test_path_decode);
	RUN(test_status_text);
	RUN(test_expect);
	RUN(test_chunked);
	return UNIT_END();
}
