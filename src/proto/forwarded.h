/*
 * forwarded.h: the client address of a request that came through proxies,
 * from its Forwarded (RFC 7239) or X-Forwarded-For header.  Pure.  The
 * caller asks only for requests whose peer is a trusted proxy; the hops are
 * read from the right (the nearest proxy's entry last), trusted ones are
 * skipped, and the first address not in the trusted set is the client.
 */
#ifndef SG_FORWARDED_H
#define SG_FORWARDED_H

#include "proto/cidr.h"
#include "proto/http.h"

/* Hops looked at, nearest first; a chain of more trusted proxies than this
 * stops at the farthest one examined. */
#define FORWARDED_MAX_HOPS 32

/* Reads Forwarded (every `for=` of every element, all the header lines in
 * order) or, when there is none, X-Forwarded-For.  Returns 1 with the
 * client's address in *client: the right-most entry not in trusted, or,
 * when every entry is trusted, the left-most one.  An entry that is not an
 * address ("unknown", an obfuscated "_name", garbage) stops the walk: the
 * last trusted address before it is the answer, or none.  Returns 0 when
 * the headers name no usable address (absent, malformed, or the nearest
 * entry already unusable): then the peer itself is the client.  Ports
 * ("192.0.2.1:4711", "[2001:db8::1]:80") are accepted and dropped. */
int forwarded_client(const struct http_request *req, const struct cidr_set *trusted,
		     struct ip_addr *client);

/* One hop's value, as written in X-Forwarded-For or a Forwarded `for=`
 * (quotes already removed): an address with an optional port.  0 or -1. */
int forwarded_parse_node(const char *s, size_t n, struct ip_addr *out) SG_WUR;

#endif
