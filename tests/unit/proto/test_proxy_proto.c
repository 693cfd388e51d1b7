/*
 * test_proxy_proto.c: PROXY protocol v1 and v2 headers, each also fed from
 * every prefix (from a heap copy of exactly that size, so ASan sees a read
 * past the bytes given).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "proto/proxy_proto.h"
#include "unit.h"

static int parse_copy(const void *p, size_t n, struct proxy_hdr *h)
{
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	memcpy(copy, p, n);
	rc = proxy_parse(copy, n, h, NULL);
	free(copy);
	return rc;
}

/* Every prefix shorter than the header gives 0; the whole (and anything
 * after it) gives 1 with the header's length. */
static void check_accept(const void *p, size_t n, size_t hdr_len, struct proxy_hdr *out)
{
	struct proxy_hdr h;

	for (size_t k = 0; k < hdr_len; k++)
		CHECK_INT(parse_copy(p, k, &h), 0);
	for (size_t k = hdr_len; k <= n; k++) {
		CHECK_INT(parse_copy(p, k, &h), 1);
		CHECK_INT(h.len, hdr_len);
	}
	*out = h;
}

/* Refused once enough bytes are in, and from then on. */
static void check_reject(const void *p, size_t n)
{
	struct proxy_hdr h;
	int first = -1;

	for (size_t k = 0; k <= n; k++) {
		int rc = parse_copy(p, k, &h);

		CHECK(rc != 1);
		if (rc < 0 && first < 0)
			first = (int)k;
		if (first >= 0)
			CHECK_INT(rc, -1);
	}
	if (first < 0)
		fprintf(stderr, "  not refused: %.*s\n", (int)n, (const char *)p);
	CHECK(first >= 0);
}

static const char *src_text(const struct proxy_hdr *h, char *buf, size_t len)
{
	if (h->src.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&h->src)->sin_addr, buf,
			  (socklen_t)len);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&h->src)->sin6_addr, buf,
			  (socklen_t)len);
	return buf;
}

static int src_port(const struct proxy_hdr *h)
{
	if (h->src.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&h->src)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&h->src)->sin6_port);
}

static void test_v1(void)
{
	static const char tcp4[] =
		"PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\nGET / HTTP/1.1\r\n";
	static const char tcp6[] = "PROXY TCP6 2001:db8::7 2001:db8::1 65535 80\r\n\x16\x03\x01";
	static const char unknown[] = "PROXY UNKNOWN ffff:: whatever\r\nGET";
	static const char longest[] = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
				      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	static const char longest6[] = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
				       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	struct proxy_hdr h;
	char buf[64];

	check_accept(tcp4, sizeof(tcp4) - 1, 43, &h);
	CHECK_INT(h.version, 1);
	CHECK(!h.local);
	CHECK_STR(src_text(&h, buf, sizeof(buf)), "203.0.113.7");
	CHECK_INT(src_port(&h), 51234);
	check_accept(tcp6, sizeof(tcp6) - 1, sizeof(tcp6) - 4, &h);
	CHECK_STR(src_text(&h, buf, sizeof(buf)), "2001:db8::7");
	CHECK_INT(src_port(&h), 65535);
	check_accept(unknown, sizeof(unknown) - 1, sizeof(unknown) - 4, &h);
	CHECK(h.local);
	CHECK_INT(sizeof(longest) - 1, PROXY_V1_MAX);
	check_accept(longest, sizeof(longest) - 1, PROXY_V1_MAX, &h);
	check_accept(longest6, sizeof(longest6) - 1, sizeof(longest6) - 1, &h);
	CHECK_INT(src_port(&h), 65535);
	check_accept("PROXY UNKNOWN\r\n", 15, 15, &h);
	CHECK(h.local);
}

static void test_v1_refused(void)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\n\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\n",	  /* bare LF */
		"PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\rX",	  /* bare CR */
		"PROXY TCP4 203.0.113.7\n10.0.0.1 1 2\r\n",	  /* LF before the CR */
		"PROXY TCP4  203.0.113.7 10.0.0.1 51234 443\r\n", /* two spaces */
		"PROXY TCP4 203.0.113.7 10.0.0.1 51234 443 \r\n", /* trailing space */
		"PROXY TCP4 203.0.113.7 10.0.0.1 51234\r\n",	  /* a field missing */
		"PROXY TCP4 2001:db8::7 10.0.0.1 51234 443\r\n",  /* IPv6 in TCP4 */
		"PROXY TCP6 203.0.113.7 2001:db8::1 1 2\r\n",	  /* IPv4 in TCP6 */
		"PROXY TCP4 203.0.113.7 10.0.0.1 65536 443\r\n",  /* port range */
		"PROXY TCP4 203.0.113.7 10.0.0.1 0443 443\r\n",	  /* leading zero */
		"PROXY TCP4 203.0.113.7 10.0.0.1 -1 443\r\n",
		"PROXY UDP4 203.0.113.7 10.0.0.1 1 2\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.1 1 2 3\r\n",
		"proxy TCP4 203.0.113.7 10.0.0.1 1 2\r\n",
		"PROXY TCP4 1.2.3.04 10.0.0.1 1 2\r\n",
	};
	char toolong[PROXY_V1_MAX + 8];

	for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
		check_reject(bad[i], strlen(bad[i]));
	memcpy(toolong, "PROXY UNKNOWN ", 14);
	memset(toolong + 14, 'a', sizeof(toolong) - 14);
	check_reject(toolong, sizeof(toolong));
}

static size_t v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *addrs, size_t alen,
		 size_t declared)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(declared >> 8);
	out[15] = (uint8_t)declared;
	if (alen > 0)
		memcpy(out + 16, addrs, alen);
	return 16 + alen;
}

static void test_v2(void)
{
	static const uint8_t in4[12] = { 198, 51, 100, 9, 10, 0, 0, 1, 0x1f, 0x90, 0x01, 0xbb };
	uint8_t in6[36 + 7], buf[600];
	struct proxy_hdr h;
	char text[64];
	size_t n;

	/* PROXY, TCP over IPv4, followed by the client's bytes */
	n = v2(buf, 0x21, 0x11, in4, sizeof(in4), 12);
	memcpy(buf + n, "GET", 3);
	check_accept(buf, n + 3, n, &h);
	CHECK_INT(h.version, 2);
	CHECK(!h.local);
	CHECK_STR(src_text(&h, text, sizeof(text)), "198.51.100.9");
	CHECK_INT(src_port(&h), 8080);
	/* IPv6 with a TLV after the addresses (skipped) */
	memset(in6, 0, sizeof(in6));
	in6[0] = 0x20;
	in6[1] = 0x01;
	in6[2] = 0x0d;
	in6[3] = 0xb8;
	in6[15] = 0x42;
	in6[32] = 0xc0;
	in6[33] = 0x01;
	in6[36] = 0x04; /* PP2_TYPE_NOOP, length 4 */
	in6[38] = 4;
	n = v2(buf, 0x21, 0x21, in6, sizeof(in6), sizeof(in6));
	check_accept(buf, n, n, &h);
	CHECK_STR(src_text(&h, text, sizeof(text)), "2001:db8::42");
	CHECK_INT(src_port(&h), 0xc001);
	/* LOCAL (a health check of the balancer): no client named */
	n = v2(buf, 0x20, 0x00, NULL, 0, 0);
	check_accept(buf, n, n, &h);
	CHECK(h.local);
	/* LOCAL with addresses: they are ignored */
	n = v2(buf, 0x20, 0x11, in4, sizeof(in4), 12);
	check_accept(buf, n, n, &h);
	CHECK(h.local);
	/* PROXY with UNSPEC family and UNIX: the connection's own peer stands */
	n = v2(buf, 0x21, 0x00, NULL, 0, 0);
	check_accept(buf, n, n, &h);
	CHECK(h.local);
	memset(buf + 16, 0, 216);
	n = v2(buf, 0x21, 0x31, buf + 16, 216, 216);
	check_accept(buf, n, n, &h);
	CHECK(h.local);
}

static void test_v2_refused(void)
{
	static const uint8_t in4[12] = { 198, 51, 100, 9, 10, 0, 0, 1, 0, 1, 0, 2 };
	uint8_t buf[64];
	size_t n;

	n = v2(buf, 0x11, 0x11, in4, 12, 12); /* version 1 in a v2 header */
	check_reject(buf, n);
	n = v2(buf, 0x22, 0x11, in4, 12, 12); /* command 2 */
	check_reject(buf, n);
	n = v2(buf, 0x21, 0x11, in4, 8, 8); /* too short for IPv4 */
	check_reject(buf, n);
	n = v2(buf, 0x21, 0x12, in4, 12, 12); /* UDP */
	check_reject(buf, n);
	n = v2(buf, 0x21, 0x41, in4, 12, 12); /* family 4 */
	check_reject(buf, n);
	n = v2(buf, 0x21, 0x11, in4, 12, PROXY_MAX); /* declared over PROXY_MAX */
	check_reject(buf, 16);
	memcpy(buf, "\r\n\r\n\0\r\nQUIX\n", 12); /* a broken signature */
	check_reject(buf, 16);
}

int main(void)
{
	RUN(test_v1);
	RUN(test_v1_refused);
	RUN(test_v2);
	RUN(test_v2_refused);
	return UNIT_END();
}
