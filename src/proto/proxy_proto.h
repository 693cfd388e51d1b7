/*
 * proxy_proto.h: the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) that a load balancer sends at the start of a TCP
 * connection to name the client it accepted.  Pure: it reads bytes, nothing
 * else.  siogate takes it only from server.trusted_proxies peers, and only
 * when server.proxy_protocol is on (see proxy_accept.c).
 */
#ifndef SG_PROXY_PROTO_H
#define SG_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/common.h"

/* Longest header accepted: a v1 line is at most 107 bytes; a v2 header is
 * 16 bytes and its addresses and TLVs, which siogate bounds here. */
#define PROXY_V1_MAX 107
#define PROXY_MAX 2048

struct proxy_hdr {
	size_t len;		     /* bytes of the header, to consume */
	int version;		     /* 1 or 2 */
	bool local;		     /* no client named (v2 LOCAL, v1 UNKNOWN, v2 UNSPEC
				        or UNIX): the connection's own peer stands */
	struct sockaddr_storage src; /* the client, when !local (AF_INET or AF_INET6) */
};

/* Parses the header at the start of p[0..n).  Returns 1 with *h filled, 0
 * when every byte so far is a valid beginning and more are needed, or -1
 * with err when the bytes are not a PROXY header (or one siogate does not
 * take: UDP, a v2 header over PROXY_MAX).  The answer depends only on the
 * bytes: feeding them one by one gives 0 ... 0 then the same result. */
int proxy_parse(const uint8_t *p, size_t n, struct proxy_hdr *h, struct sg_err *err) SG_WUR;

#endif
