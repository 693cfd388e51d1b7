/*
 * cors.h: server.cors applied to one request (pure): which
 * Access-Control-* headers go into the answer, whether the Origin is
 * refused, and the preflight answer.  With no origins configured there are
 * no headers and no Origin check, as in the Node server.
 */
#ifndef SG_CORS_H
#define SG_CORS_H

#include "core/common.h"

struct http_request;

/* server.cors, as the config snapshot holds it. */
struct cors_policy {
	struct sg_strv origins; /* "*" or exact origins; empty = CORS off */
	bool credentials;
};

/* Appends the CORS header lines (CRLF-terminated) for req to out.  Returns
 * 0, or -1 when the request's Origin is not allowed (nothing appended). */
int cors_headers(const struct cors_policy *p, const struct http_request *req,
		 struct sg_buf *out) SG_WUR;

/* Appends the extra header lines of a preflight (OPTIONS) answer: allowed
 * methods and the echoed requested headers. */
void cors_preflight_headers(const struct http_request *req, struct sg_buf *out);

bool cors_enabled(const struct cors_policy *p);

#endif
