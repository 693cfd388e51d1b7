/*
 * httpresp.h: the HTTP/1.x response parser of libsiogate-client (the 101 of
 * a WebSocket upgrade, the answers to long-polling requests).  Pure code: the
 * parsed response borrows the caller's buffer.
 */
#ifndef SGC_HTTPRESP_H
#define SGC_HTTPRESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

#define SGC_HTTP_MAX_HEADERS 64

struct sgc_http_header {
	const char *name;
	size_t name_len;
	const char *value;	/* without leading and trailing spaces and tabs */
	size_t value_len;
};

struct sgc_http_resp {
	int version_minor;		/* 0 or 1 */
	int status;			/* 100..999 */
	struct sgc_http_header headers[SGC_HTTP_MAX_HEADERS];
	size_t n_headers;
	size_t head_len;		/* bytes of the head, blank line included */
	int64_t content_length;		/* -1 when absent */
	bool chunked;			/* Transfer-Encoding ends with chunked */
};

/*
 * Parses a response head from buf[0..len).  Returns 1 when complete (r
 * filled, borrowing buf; the body starts at buf + r->head_len), 0 when more
 * bytes are needed, -1 when malformed or longer than max_head (err->msg says
 * why).  Lines end in CRLF or LF; the status line is `HTTP/1.x SP 3DIGIT
 * [SP reason]`; header names are tokens; Content-Length must be digits (a
 * repeated one must agree).
 */
int sgc_http_resp_parse(const char *buf, size_t len, size_t max_head, struct sgc_http_resp *r,
			struct sg_err *err) SG_WUR;

/* The first header called name (ASCII case-insensitive), or NULL. */
const struct sgc_http_header *sgc_http_resp_header(const struct sgc_http_resp *r,
						    const char *name);

/* True when h (may be NULL) is a comma-separated list containing token,
 * ignoring ASCII case. */
bool sgc_http_header_has_token(const struct sgc_http_header *h, const char *token);

/* True when the response to a request with method `method` has no body at
 * all (1xx, 204, 304, or HEAD). */
bool sgc_http_resp_no_body(const struct sgc_http_resp *r, const char *method);

/*
 * Decodes a chunked body from buf[0..len) (the bytes after the head),
 * re-parsing from the start on each call.  Returns 1 when the last chunk and
 * the trailers are complete (out holds the body; *consumed the bytes used),
 * 0 when more bytes are needed, -1 on a malformed body or one larger than
 * max_body.  out is reset first.
 */
int sgc_http_chunked_decode(const char *buf, size_t len, size_t max_body, struct sg_buf *out,
			    size_t *consumed, struct sg_err *err) SG_WUR;

#endif
