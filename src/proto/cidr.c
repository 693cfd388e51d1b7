/*
 * cidr.c: IP addresses and CIDR blocks (see cidr.h).
 */
#include "proto/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* ::ffff:a.b.c.d is a.b.c.d. */
static void unmap(struct ip_addr *a)
{
	if (a->family == 6 && memcmp(a->a, v4_mapped, sizeof(v4_mapped)) == 0) {
		memmove(a->a, a->a + 12, 4);
		memset(a->a + 4, 0, 12);
		a->family = 4;
	}
}

int ip_addr_parse(const char *s, size_t len, struct ip_addr *out)
{
	char buf[CIDR_ADDR_TEXT];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (memchr(buf, ':', len) == NULL) {
		/* inet_pton takes exactly the dotted quad: no octal, no short forms */
		if (inet_pton(AF_INET, buf, out->a) != 1)
			return -1;
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->a) != 1)
		return -1;
	out->family = 6;
	unmap(out);
	return 0;
}

int ip_addr_from_sockaddr(const struct sockaddr *sa, struct ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		memcpy(out->a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		out->family = 4;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out->a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		out->family = 6;
		unmap(out);
		return 0;
	}
	return -1;
}

void ip_addr_format(const struct ip_addr *a, char out[CIDR_ADDR_TEXT])
{
	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, out, CIDR_ADDR_TEXT) == NULL)
		strcpy(out, "?");
}

int cidr_parse(const char *s, struct cidr *out, struct sg_err *err)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max, bits;

	if (ip_addr_parse(s, alen, &out->addr) != 0)
		return sg_err_set(err, "'%s' is not an IPv4 or IPv6 address or CIDR block", s);
	max = out->addr.family == 4 ? 32 : 128;
	if (slash != NULL && out->addr.family == 4 && memchr(s, ':', alen) != NULL) {
		/* ::ffff:10.0.0.0/104 would be read as an IPv4 block of /104 */
		return sg_err_set(err, "'%s': write an IPv4-mapped block as IPv4 (a.b.c.d/n)", s);
	}
	if (slash == NULL) {
		bits = max;
	} else {
		const char *p = slash + 1;

		bits = 0;
		if (*p == '\0' || strlen(p) > 3)
			return sg_err_set(err, "'%s': bad prefix length", s);
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return sg_err_set(err, "'%s': bad prefix length", s);
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (bits > max)
			return sg_err_set(err, "'%s': prefix length over %u", s, max);
	}
	out->bits = (uint8_t)bits;
	for (unsigned i = bits; i < max; i++) {
		if (out->addr.a[i / 8] & (0x80u >> (i % 8)))
			return sg_err_set(err, "'%s' has bits set past its prefix length", s);
	}
	return 0;
}

bool cidr_match(const struct cidr *c, const struct ip_addr *a)
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (c->addr.family != a->family)
		return false;
	if (memcmp(c->addr.a, a->a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((c->addr.a[full] ^ a->a[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

int cidr_set_parse(struct cidr_set *set, const char *const *list, size_t n, struct sg_err *err)
{
	set->v = n ? sg_calloc(n, sizeof(*set->v)) : NULL;
	set->n = 0;
	for (size_t i = 0; i < n; i++) {
		if (cidr_parse(list[i], &set->v[set->n], err) != 0) {
			cidr_set_free(set);
			return -1;
		}
		set->n++;
	}
	return 0;
}

void cidr_set_free(struct cidr_set *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

bool cidr_set_match(const struct cidr_set *set, const struct ip_addr *a)
{
	for (size_t i = 0; i < set->n; i++)
		if (cidr_match(&set->v[i], a))
			return true;
	return false;
}
