/*
 * http_resp_parser.h: an incremental HTTP/1.x response parser for the HTTP
 * clients: siogate's outgoing one (net/http_client.c) and libsiogate-client's
 * Engine.IO requests and WebSocket upgrade (src/client/engine*.c): status
 * line, headers, Content-Length, chunked or close-delimited bodies, and, when
 * asked for, the 101 answer to an upgrade.  Pure code: no libevent, no
 * globals.  Bytes may arrive split anywhere; everything it keeps (header line
 * being read, decoded body) is bounded by the max_bytes given at init.
 */
#ifndef SG_HTTP_RESP_PARSER_H
#define SG_HTTP_RESP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

enum http_resp_parser_status {
	HRESP_MORE,	 /* the response is not complete: feed more bytes */
	HRESP_DONE,	 /* the response is complete */
	HRESP_ERROR,	 /* malformed response (err says why); the connection is unusable */
	HRESP_TOO_LARGE, /* the response would exceed max_bytes */
};

/* Sees one header of the final response: name and value (trimmed of spaces
 * and tabs) point into the parser's line buffer, are not NUL-terminated and
 * are valid only during the call. */
typedef void (*http_resp_header_fn)(void *arg, const char *name, size_t name_len, const char *value,
				    size_t value_len);

/* One response being parsed.  The public fields are meaningful once
 * http_resp_parser_feed or http_resp_parser_finish returned HRESP_DONE. */
struct http_resp_parser {
	int status;	    /* 100..999; the final (non-1xx) status */
	int version_minor;  /* HTTP/1.<version_minor> */
	bool keep_alive;    /* the connection may carry another request */
	char *content_type; /* owned, NUL-terminated and trimmed, or NULL */
	int64_t max_age;    /* Cache-Control max-age in seconds (no-store, no-cache:
			       0), or -1 without one */
	struct sg_buf body; /* decoded body (dechunked), NUL-terminated */

	/* private */
	int state;
	bool head_request;
	bool started;
	bool chunked;
	bool has_length;
	bool conn_close;
	bool conn_keep_alive;
	bool upgrade;
	http_resp_header_fn on_header;
	void *on_header_arg;
	int64_t content_length;
	uint64_t remaining;
	size_t max_bytes;
	size_t total;
	struct sg_buf line;
};

/* Prepares r to parse one response of at most max_bytes bytes on the wire
 * (status line, headers, chunk framing and body all count).  head_request:
 * the response answers a HEAD request, so it has no body whatever its
 * headers say.  Never fails. */
/* The max_age a Cache-Control value v[0..len) leaves, given the one so far
 * (-1: none): max-age=N (seconds, saturating at 10^12), no-store and
 * no-cache 0 (which a later max-age does not undo).  Pure. */
int64_t http_cache_max_age(const char *v, size_t len, int64_t max_age);

void http_resp_parser_init(struct http_resp_parser *r, size_t max_bytes, bool head_request);

/* Options, set after http_resp_parser_init and before the first byte is fed.
 *
 * http_resp_parser_allow_upgrade: the request asked to switch protocols (a
 * WebSocket upgrade), so a 101 Switching Protocols completes the response
 * (HRESP_DONE, status 101, empty body, keep_alive false) and the bytes after
 * its head are left unconsumed: they belong to the new protocol.  Without
 * it, a 101 is HRESP_ERROR.
 *
 * http_resp_parser_on_header: fn sees every header line of the final
 * response (not those of skipped interim 1xx responses), in order, once the
 * line is known to be well-formed. */
void http_resp_parser_allow_upgrade(struct http_resp_parser *r);
void http_resp_parser_on_header(struct http_resp_parser *r, http_resp_header_fn fn, void *arg);

/* Frees what r owns (body, content type, line buffer); r may be init'ed again. */
void http_resp_parser_fini(struct http_resp_parser *r);

/* Consumes bytes of the response.  *used is set to how many of the len bytes
 * were consumed: all of them on HRESP_MORE; on HRESP_DONE the bytes after the
 * end of the response are left unconsumed (a server sending more than one
 * response is the caller's problem).  Interim 1xx responses other than 101
 * are skipped; a 101 is HRESP_ERROR unless http_resp_parser_allow_upgrade made
 * it final.  On HRESP_ERROR err says why; after HRESP_DONE, HRESP_ERROR or
 * HRESP_TOO_LARGE further calls return the same status and consume nothing. */
enum http_resp_parser_status http_resp_parser_feed(struct http_resp_parser *r, const char *data,
						   size_t len, size_t *used,
						   struct sg_err *err) SG_WUR;

/* The peer closed the connection: a body delimited by the close is complete
 * (HRESP_DONE); a response cut short is HRESP_ERROR; a response already
 * complete stays HRESP_DONE. */
enum http_resp_parser_status http_resp_parser_finish(struct http_resp_parser *r,
						     struct sg_err *err) SG_WUR;

/* Whether any byte of the response has been fed. */
bool http_resp_parser_started(const struct http_resp_parser *r);

#endif
