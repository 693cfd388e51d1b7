/*
 * forwarded.c: the client behind trusted proxies (see forwarded.h).  The
 * hops of a request are gathered left to right into a ring of the last
 * FORWARDED_MAX_HOPS (so a long header costs no allocation), then walked
 * from the right.
 */
#include "proto/forwarded.h"

#include <string.h>
#include <strings.h>

struct hops {
	struct {
		const char *p;
		size_t n;
		bool quoted; /* a quoted-string, quotes included */
	} v[FORWARDED_MAX_HOPS];
	size_t count; /* hops seen, including those the ring dropped */
};

static void add_hop(struct hops *h, const char *p, size_t n, bool quoted)
{
	size_t i = h->count++ % FORWARDED_MAX_HOPS;

	h->v[i].p = p;
	h->v[i].n = n;
	h->v[i].quoted = quoted;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int port_ok(const char *s, size_t n)
{
	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	return 0;
}

int forwarded_parse_node(const char *s, size_t n, struct ip_addr *out)
{
	const char *colon;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		size_t rest;

		if (close == NULL)
			return -1;
		rest = n - (size_t)(close + 1 - s);
		if (rest > 0 && (close[1] != ':' || port_ok(close + 2, rest - 1) != 0))
			return -1;
		if (ip_addr_parse(s + 1, (size_t)(close - s - 1), out) != 0 ||
		    memchr(s + 1, ':', (size_t)(close - s - 1)) == NULL)
			return -1;
		return 0;
	}
	colon = memchr(s, ':', n);
	if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)) == NULL) {
		/* one colon: IPv4:port */
		if (port_ok(colon + 1, n - (size_t)(colon + 1 - s)) != 0)
			return -1;
		n = (size_t)(colon - s);
	}
	return ip_addr_parse(s, n, out);
}

/* The value of a quoted-string without its quotes and escapes, into buf. */
static size_t unquote(const char *p, size_t n, char *buf, size_t cap)
{
	size_t o = 0;

	for (size_t i = 1; i + 1 < n && o < cap; i++) {
		if (p[i] == '\\' && i + 2 < n)
			i++;
		buf[o++] = p[i];
	}
	return o;
}

/* One Forwarded header value: elements separated by ',', pairs by ';'.
 * Each element adds one hop: its for= value, or an empty (unusable) hop
 * when it has none.  -1 when the value is malformed. */
static int scan_forwarded(const char *v, size_t n, struct hops *h)
{
	size_t i = 0;

	for (;;) {
		const char *fp = NULL;
		size_t fn = 0;
		bool fq = false, any = false;

		for (;;) { /* the pairs of one element */
			size_t ns, vs;
			bool q = false;

			while (i < n && is_ows(v[i]))
				i++;
			if (i < n && (v[i] == ';' || v[i] == ',')) {
				if (v[i] == ',')
					break;
				i++;
				continue;
			}
			if (i == n)
				break;
			ns = i;
			while (i < n && sg_is_tchar((unsigned char)v[i]))
				i++;
			if (i == ns || i == n || v[i] != '=')
				return -1;
			any = true;
			vs = ++i;
			if (i < n && v[i] == '"') {
				q = true;
				for (i++; i < n && v[i] != '"'; i++)
					if (v[i] == '\\')
						i++;
				if (i >= n)
					return -1;
				i++;
			} else {
				while (i < n && v[i] > 0x20 && v[i] < 0x7f && v[i] != ',' &&
				       v[i] != ';' && v[i] != '"')
					i++;
				if (i == vs)
					return -1;
			}
			if (vs - 1 - ns == 3 && strncasecmp(v + ns, "for", 3) == 0) {
				if (fp != NULL)
					return -1; /* two for= in one element */
				fp = v + vs;
				fn = i - vs;
				fq = q;
			}
			while (i < n && is_ows(v[i]))
				i++;
			if (i < n && v[i] != ';' && v[i] != ',')
				return -1;
		}
		if (any || fp != NULL)
			add_hop(h, fp, fn, fq);
		if (i >= n)
			return 0;
		i++; /* the ',' */
	}
}

int forwarded_client(const struct http_request *req, const struct cidr_set *trusted,
		     struct ip_addr *client)
{
	struct hops h;
	bool fwd = false, have = false;
	size_t k, seen;

	h.count = 0;
	for (k = 0; k < req->n_headers; k++) {
		const struct http_header *hd = &req->headers[k];

		if (hd->name_len == 9 && strncasecmp(hd->name, "forwarded", 9) == 0) {
			fwd = true;
			if (scan_forwarded(hd->value, hd->value_len, &h) != 0)
				return 0;
		}
	}
	if (!fwd) {
		for (k = 0; k < req->n_headers; k++) {
			const struct http_header *hd = &req->headers[k];
			const char *p = hd->value, *tok;
			size_t tl;

			if (hd->name_len != 15 || strncasecmp(hd->name, "x-forwarded-for", 15) != 0)
				continue;
			while (sg_list_next(&p, hd->value + hd->value_len, &tok, &tl))
				add_hop(&h, tok, tl, false);
		}
	}
	seen = h.count < FORWARDED_MAX_HOPS ? h.count : FORWARDED_MAX_HOPS;
	for (k = 0; k < seen; k++) {
		size_t i = (h.count - 1 - k) % FORWARDED_MAX_HOPS;
		struct ip_addr a;
		char buf[64];
		const char *p = h.v[i].p;
		size_t n = h.v[i].n;

		if (p == NULL)
			break;
		if (h.v[i].quoted) {
			n = unquote(p, n, buf, sizeof(buf));
			p = buf;
		}
		if (forwarded_parse_node(p, n, &a) != 0)
			break;
		*client = a;
		have = true;
		if (!cidr_set_match(trusted, &a))
			break;
	}
	return have ? 1 : 0;
}
