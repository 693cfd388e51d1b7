/*
 * url.h: the server URL of libsiogate-client, parsed the way socket.io-client
 * reads it: scheme (http, https, ws, wss), host, port, path (the namespace)
 * and query (sent with every Engine.IO request).  Pure code.
 */
#ifndef SGC_URL_H
#define SGC_URL_H

#include <stdbool.h>

#include "core/common.h"

struct sgc_url {
	bool tls;		/* https or wss */
	char *host;		/* IPv6 literals without their brackets */
	bool host_is_ipv6;	/* the host was a bracketed literal */
	unsigned port;		/* explicit, or 80 / 443 */
	bool default_port;	/* no port in the URL */
	char *path;		/* "/" when the URL has none; not decoded */
	char *query;		/* after '?', without the fragment; "" when none */
};

/*
 * Parses s: `scheme://host[:port][/path][?query][#fragment]`, scheme one of
 * http, https, ws, wss (any case), host a name, an IPv4 address or a
 * bracketed IPv6 literal; no user info.  Fills out (owned strings; release
 * with sgc_url_fini) and returns 0, or returns -1 with err->msg set and out
 * holding nothing to free.
 */
int sgc_url_parse(const char *s, struct sgc_url *out, struct sg_err *err) SG_WUR;

/* Frees the strings of u (safe on a zeroed struct, and twice). */
void sgc_url_fini(struct sgc_url *u);

/* Appends the Host header value: host, [v6], plus ":port" unless default. */
void sgc_url_host_header(const struct sgc_url *u, struct sg_buf *out);

#endif
