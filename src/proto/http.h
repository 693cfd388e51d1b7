/*
 * http.h: HTTP/1.x request-head parser and query-string helpers.  Pure code:
 * no I/O, no allocation in the parser (the request borrows the caller's
 * buffer), no globals.  The connection layer feeds it the bytes it has so far
 * and calls it again when more arrive.
 */
#ifndef SG_HTTP_H
#define SG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

#define HTTP_MAX_HEADERS 64

/* One header line.  name and value point into the parsed buffer; they are not
 * NUL-terminated.  value has its leading and trailing OWS (SP, HTAB) removed. */
struct http_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* A parsed request head.  Every pointer borrows the buffer given to
 * http_request_parse and is valid as long as that buffer is unchanged. */
struct http_request {
	const char *method;
	size_t method_len;
	const char *target; /* raw request-target */
	size_t target_len;
	const char *path; /* target up to '?' (not decoded) */
	size_t path_len;
	const char *query; /* after '?'; length 0 when none */
	size_t query_len;
	int version_minor; /* 0 or 1 (HTTP/1.x only) */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t n_headers;
	size_t head_len;	/* bytes of the head including the blank line */
	int64_t content_length; /* -1 when absent */
	bool chunked;		/* Transfer-Encoding: chunked */
	bool keep_alive;	/* version default, then the Connection header */
};

/*
 * Parses a request head from buf[0..len).  Returns 1 when the head is
 * complete (req filled; its pointers borrow buf; the body or a pipelined
 * request starts at buf + req->head_len), 0 when more bytes are needed, -1
 * when the head is malformed or would exceed max_head bytes: err->msg says
 * why and *status receives the status to answer with (400 malformed, 431 head
 * larger than max_head or more than HTTP_MAX_HEADERS headers, 501
 * Transfer-Encoding with a coding other than chunked, 505 an HTTP version
 * other than 1.0 and 1.1).  err may be NULL.
 *
 * Rules: leading empty lines are skipped; lines end in CRLF or a bare LF (a
 * bare CR is an error); request line is exactly `method SP target SP
 * HTTP/d.d`; method and header names are RFC 9110 tokens; no whitespace before
 * ':'; obs-fold (a line starting with SP/HTAB) is rejected; values hold no
 * control characters other than HTAB (NUL and DEL included); Content-Length
 * must be 1*DIGIT fitting int64 and appear once; Content-Length together with
 * Transfer-Encoding, or Transfer-Encoding on HTTP/1.0, is rejected;
 * Transfer-Encoding must end with chunked, which must appear once; HTTP/1.1
 * requires exactly one Host header (Node 20 rejects a missing Host; RFC 9112
 * rejects duplicates).  Complete lines are checked as they arrive, so garbage
 * is rejected before the blank line.  Each call re-parses from buf[0]: the
 * cost is linear in len.
 */
int http_request_parse(const char *buf, size_t len, size_t max_head, struct http_request *req,
		       int *status, struct sg_err *err) SG_WUR;

/* The first header whose name equals name (NUL-terminated) ignoring ASCII
 * case, or NULL. */
const struct http_header *http_request_header(const struct http_request *req, const char *name);

/* True when the header's value, read as a comma-separated list (elements
 * trimmed of OWS), has an element equal to token ignoring ASCII case
 * (e.g. `Connection: keep-alive, Upgrade` has "upgrade").  h may be NULL
 * (then false). */
bool http_header_has_token(const struct http_header *h, const char *token);

/*
 * Query-string helpers (application/x-www-form-urlencoded: pairs split on
 * '&', key and value split at the first '=', '+' is a space, %XX decoded; a
 * pair without '=' has an empty value; empty pairs are skipped).  A '%' not
 * followed by two hex digits anywhere in the query is an error (Node's
 * querystring would keep it literally; siogate refuses it).
 */

/* Looks up the first pair whose decoded key equals name (NUL-terminated,
 * case-sensitive).  Returns 1 and appends the decoded value to out (which may
 * then hold NUL bytes from %00), 0 when absent, -1 on bad %-encoding anywhere
 * in the query (out unchanged). */
int http_query_get(const char *query, size_t query_len, const char *name,
		   struct sg_buf *out) SG_WUR;

/* Calls cb for each pair in order with the DECODED key and value: NUL-terminated
 * copies valid only during the call (kl/vl are their lengths, which count any
 * decoded NUL bytes).  Stops and returns cb's value as soon as it is non-zero;
 * returns 0 after the last pair, or -1 on bad %-encoding (checked over the
 * whole query before the first cb call). */
int http_query_foreach(const char *query, size_t query_len,
		       int (*cb)(const char *k, size_t kl, const char *v, size_t vl, void *arg),
		       void *arg) SG_WUR;

/* Appends the path segment s[0..n), %XX decoded ('+' stays '+', as in a
 * path), to out (NUL-terminated).  Returns 0, or -1 when a '%' is not
 * followed by two hex digits or a byte decodes to NUL (out unchanged). */
int http_path_decode(const char *s, size_t n, struct sg_buf *out) SG_WUR;

/* Reason phrase for the statuses siogate answers with (100, 101, 200, 202,
 * 204, 400, 401, 403, 404, 405, 408, 411, 413, 417, 429, 431, 500, 501, 503,
 * 505); "Unknown" for any other.  The string is static. */
const char *http_status_text(int status);

/* What an Expect header asks (RFC 9110 section 10.1.1), read as Node does:
 * HTTP/1.0 requests and requests without Expect expect nothing; a list
 * holding 100-continue (any case) asks for an interim 100 Continue before
 * the body; anything else is an expectation siogate cannot meet (417). */
enum http_expect {
	HTTP_EXPECT_NONE,
	HTTP_EXPECT_CONTINUE,
	HTTP_EXPECT_UNKNOWN,
};
enum http_expect http_request_expect(const struct http_request *req);

/*
 * Chunked request bodies (RFC 9112 section 7.1).  The scan is incremental:
 * *st starts zeroed and keeps how far whole chunks were checked, so bytes
 * are looked at once however the body arrives.  Strict, like the head: hex
 * sizes of at most 16 digits, CRLF (not a bare LF) after every size line and
 * chunk, extensions of visible characters only, trailer lines that are
 * header fields (read and ignored).
 */
#define HTTP_CHUNK_LINE_MAX 1024	/* a size line with its extensions */
#define HTTP_CHUNKED_MAX_OVERHEAD 65536 /* framing bytes (sizes, CRLFs, trailers) */

struct http_chunked {
	uint64_t pos;  /* raw bytes of whole chunks checked; the raw length once complete */
	uint64_t size; /* their data bytes; the decoded length once complete */
};

/* Scans buf[0..len), the body as received so far (starting right after the
 * head).  Returns 1 when the last chunk and the trailers are in (st->pos is
 * the raw length to consume, st->size the body's length), 0 when more is
 * needed, or -1 with *status 400 (malformed) or 413 (data over max_body, or
 * framing over HTTP_CHUNKED_MAX_OVERHEAD) and err. */
int http_chunked_scan(struct http_chunked *st, const char *buf, size_t len, uint64_t max_body,
		      int *status, struct sg_err *err) SG_WUR;

/* Moves the data of a complete, scanned chunked body buf[0..raw_len) to the
 * front of buf; returns its length (st->size of the scan). */
size_t http_chunked_decode(char *buf, size_t raw_len);

#endif
