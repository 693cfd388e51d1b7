/*
 * proxy_proto.c: PROXY protocol v1 and v2 headers (see proxy_proto.h).
 * Strict where a loose reading could let two parsers disagree: a v1 line is
 * exactly "PROXY" SP family SP src SP dst SP sport SP dport CRLF with single
 * spaces, addresses of the family named and ports 0..65535 without leading
 * zeros; a v2 header has version 2, a known command, and a length that
 * covers the addresses of its family.
 */
#include "proto/proxy_proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
static const char v1_sig[] = "PROXY ";

static int parse_v1(const char *p, size_t n, struct proxy_hdr *h, struct sg_err *err);
static int parse_v2(const uint8_t *p, size_t n, struct proxy_hdr *h, struct sg_err *err);

/* The next field of a v1 line: bytes up to a space (or the end); empty
 * fields (two spaces) are errors for the caller. */
static size_t field(const char *p, size_t n, size_t at, size_t *len)
{
	size_t i = at;

	while (i < n && p[i] != ' ')
		i++;
	*len = i - at;
	return i;
}

static int v1_port(const char *s, size_t n, uint16_t *port)
{
	unsigned v = 0;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int v1_addr(const char *s, size_t n, int af, void *out)
{
	char buf[48];

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(af, buf, out) == 1 ? 0 : -1;
}

static int parse_v1(const char *p, size_t n, struct proxy_hdr *h, struct sg_err *err)
{
	/* the CR of the longest line is its byte PROXY_V1_MAX - 2 */
	size_t limit = PROXY_V1_MAX - 1;
	const char *cr = memchr(p, '\r', n < limit ? n : limit);
	size_t line, at, fl, i;
	const char *f[4];
	size_t fls[4];
	struct sockaddr_in *in;
	struct sockaddr_in6 *in6;
	uint8_t dst[16];
	uint16_t sport, dport;
	bool v6;

	if (cr == NULL) {
		if (n >= limit)
			return sg_err_set(err, "PROXY v1 line longer than %d bytes", PROXY_V1_MAX);
		if (memchr(p, '\n', n) != NULL)
			return sg_err_set(err, "PROXY v1 line not ended by CRLF");
		return 0;
	}
	line = (size_t)(cr - p);
	if (memchr(p, '\n', line) != NULL)
		return sg_err_set(err, "PROXY v1 line not ended by CRLF");
	if (line + 1 >= n)
		return 0; /* the LF is still to come */
	if (p[line + 1] != '\n')
		return sg_err_set(err, "PROXY v1 line not ended by CRLF");
	h->version = 1;
	h->len = line + 2;
	at = sizeof(v1_sig) - 1;
	at = field(p, line, at, &fl);
	if (fl == 7 && memcmp(p + at - fl, "UNKNOWN", 7) == 0) {
		/* "UNKNOWN" and anything up to CRLF: the connection's own addresses */
		h->local = true;
		return 1;
	}
	if (fl != 4 || (memcmp(p + at - fl, "TCP4", 4) != 0 && memcmp(p + at - fl, "TCP6", 4) != 0))
		return sg_err_set(err, "PROXY v1: unknown protocol family");
	v6 = p[at - 1] == '6';
	for (i = 0; i < 4; i++) {
		if (at >= line || p[at] != ' ')
			return sg_err_set(err, "PROXY v1: missing field");
		at = field(p, line, at + 1, &fl);
		f[i] = p + at - fl;
		fls[i] = fl;
	}
	if (at != line)
		return sg_err_set(err, "PROXY v1: extra fields");
	memset(&h->src, 0, sizeof(h->src));
	in = (struct sockaddr_in *)&h->src;
	in6 = (struct sockaddr_in6 *)&h->src;
	if (v1_addr(f[0], fls[0], v6 ? AF_INET6 : AF_INET,
		    v6 ? (void *)&in6->sin6_addr : (void *)&in->sin_addr) != 0 ||
	    v1_addr(f[1], fls[1], v6 ? AF_INET6 : AF_INET, dst) != 0)
		return sg_err_set(err, "PROXY v1: bad %s address", v6 ? "IPv6" : "IPv4");
	if (v1_port(f[2], fls[2], &sport) != 0 || v1_port(f[3], fls[3], &dport) != 0)
		return sg_err_set(err, "PROXY v1: bad port");
	if (v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(sport);
	} else {
		in->sin_family = AF_INET;
		in->sin_port = htons(sport);
	}
	h->local = false;
	return 1;
}

static int parse_v2(const uint8_t *p, size_t n, struct proxy_hdr *h, struct sg_err *err)
{
	size_t len;
	uint8_t cmd, fam, proto;

	if (n < 16)
		return 0;
	if ((p[12] >> 4) != 2)
		return sg_err_set(err, "PROXY v2: unsupported version %u", p[12] >> 4);
	cmd = p[12] & 0x0f;
	if (cmd > 1)
		return sg_err_set(err, "PROXY v2: unknown command %u", cmd);
	fam = p[13] >> 4;
	proto = p[13] & 0x0f;
	len = (size_t)p[14] << 8 | p[15];
	if (16 + len > PROXY_MAX)
		return sg_err_set(err, "PROXY v2 header of %zu bytes, over %d", 16 + len,
				  PROXY_MAX);
	if (fam > 3 || proto > 2)
		return sg_err_set(err, "PROXY v2: unknown address family or protocol");
	if ((fam == 1 && len < 12) || (fam == 2 && len < 36) || (fam == 3 && len < 216))
		return sg_err_set(err, "PROXY v2: length too short for its addresses");
	if (n < 16 + len)
		return 0;
	h->version = 2;
	h->len = 16 + len;
	memset(&h->src, 0, sizeof(h->src));
	/* LOCAL (the balancer's own health check), UNSPEC and UNIX name no IP
	 * client: the receiver uses the connection's addresses. */
	h->local = cmd == 0 || fam == 0 || fam == 3;
	if (h->local)
		return 1;
	if (proto != 1)
		return sg_err_set(err, "PROXY v2: not a TCP connection");
	if (fam == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)&h->src;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, p + 16, 4);
		memcpy(&in->sin_port, p + 24, 2);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&h->src;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, p + 16, 16);
		memcpy(&in6->sin6_port, p + 48, 2);
	}
	return 1;
}

int proxy_parse(const uint8_t *p, size_t n, struct proxy_hdr *h, struct sg_err *err)
{
	size_t k;

	memset(h, 0, sizeof(*h));
	if (n == 0)
		return 0;
	if (p[0] == v2_sig[0]) {
		k = n < sizeof(v2_sig) ? n : sizeof(v2_sig);
		if (memcmp(p, v2_sig, k) != 0)
			return sg_err_set(err, "not a PROXY protocol header");
		return parse_v2(p, n, h, err);
	}
	k = n < sizeof(v1_sig) - 1 ? n : sizeof(v1_sig) - 1;
	if (memcmp(p, v1_sig, k) != 0)
		return sg_err_set(err, "not a PROXY protocol header");
	if (n < sizeof(v1_sig) - 1)
		return 0;
	return parse_v1((const char *)p, n, h, err);
}
