/*
 * cidr.h: IP addresses and CIDR blocks (server.trusted_proxies), pure: no
 * I/O, no libevent.  Addresses are kept in binary form; an IPv4-mapped IPv6
 * address (::ffff:192.0.2.1, what a dual-stack socket reports for an IPv4
 * peer) is the IPv4 address it maps, so one block matches both spellings.
 */
#ifndef SG_CIDR_H
#define SG_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/common.h"

/* Longest text of an address (an IPv6 address with an embedded IPv4 one). */
#define CIDR_ADDR_TEXT 46

struct ip_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t a[16];	/* 4 or 16 bytes used, network order */
};

struct cidr {
	struct ip_addr addr; /* host bits are zero */
	uint8_t bits;	     /* prefix length: 0..32 or 0..128 */
};

struct cidr_set {
	struct cidr *v;
	size_t n;
};

/* Parses an address s[0..len) written as IPv4 dotted quad or IPv6 text (no
 * brackets, no port, no zone).  0, or -1 when it is not one. */
int ip_addr_parse(const char *s, size_t len, struct ip_addr *out) SG_WUR;

/* The address of an AF_INET or AF_INET6 socket address; -1 for others. */
int ip_addr_from_sockaddr(const struct sockaddr *sa, struct ip_addr *out) SG_WUR;

/* Writes the canonical text of a (inet_ntop's) into out[CIDR_ADDR_TEXT]. */
void ip_addr_format(const struct ip_addr *a, char out[CIDR_ADDR_TEXT]);

/* Parses "ADDR/BITS" or a bare address (all bits).  Host bits must be zero
 * ("10.0.0.1/8" is refused: it says something else than it means).  0, or -1
 * with err. */
int cidr_parse(const char *s, struct cidr *out, struct sg_err *err) SG_WUR;

bool cidr_match(const struct cidr *c, const struct ip_addr *a);

/* Parses every entry of list into set (which owns its array); on error set
 * is empty and err names the entry. */
int cidr_set_parse(struct cidr_set *set, const char *const *list, size_t n,
		   struct sg_err *err) SG_WUR;
void cidr_set_free(struct cidr_set *set);
bool cidr_set_match(const struct cidr_set *set, const struct ip_addr *a);

#endif
