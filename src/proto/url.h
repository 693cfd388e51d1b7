/*
 * url.h: the one parser of absolute URLs, for siogate's call-outs
 * (net/http_client.c: http, https) and libsiogate-client's server URL (http,
 * https, ws, wss).  Pure code: no I/O, no globals.
 */
#ifndef SG_URL_H
#define SG_URL_H

#include <stdbool.h>

#include "core/common.h"

enum url_scheme {
	URL_HTTP,
	URL_HTTPS,
	URL_WS,
	URL_WSS,
};

/* Masks of accepted schemes for url_parse. */
#define URL_SCHEMES_HTTP ((1u << URL_HTTP) | (1u << URL_HTTPS))
#define URL_SCHEMES_ANY (URL_SCHEMES_HTTP | (1u << URL_WS) | (1u << URL_WSS))

/* The longest host accepted (a DNS name's limit). */
#define URL_MAX_HOST 253

struct url {
	enum url_scheme scheme;
	bool tls;	   /* https or wss */
	char *host;	   /* a name (lower-cased) or IPv4 address, or an IPv6
			    * literal without its brackets */
	bool host_is_ipv6; /* the host was a bracketed literal */
	unsigned port;	   /* explicit, or the scheme's default: 80, or 443 with TLS */
	char *path;	   /* starts with '/' ("/" when the URL has none); not decoded */
	char *query;	   /* after '?', without the fragment; NULL when there is no '?' */
};

/*
 * Parses s, `scheme://host[:port][path][?query][#fragment]` whose scheme
 * (any case) is one of the mask `schemes` (URL_SCHEMES_*), host a name of
 * letters, digits, '-', '.' and '_', or a bracketed IPv6 address (no zone),
 * port 1 to 65535 in at most 5 digits; no user info, no byte that is a
 * space, a control or not ASCII anywhere.  The fragment is dropped.  Fills
 * out (owned strings; release with url_fini) and returns 0, or returns -1
 * with err->msg set and out holding nothing to free.
 */
int url_parse(const char *s, unsigned schemes, struct url *out, struct sg_err *err) SG_WUR;

/* Frees the strings of u (safe on a zeroed struct, and twice). */
void url_fini(struct url *u);

/* Appends the Host header value: the host ("[v6]" bracketed), plus ":port"
 * unless it is the scheme's default (as browsers and socket.io-client do). */
void url_append_host_header(const struct url *u, struct sg_buf *out);

/* Appends the origin-form request target: the path, then '?' and the query
 * when the URL had a '?'. */
void url_append_target(const struct url *u, struct sg_buf *out);

#endif
