/*
 * test_forwarded.c: the client behind trusted proxies, from Forwarded
 * (RFC 7239) and X-Forwarded-For.
 */
#include <stdlib.h>

#include "proto/forwarded.h"
#include "unit.h"

/* The client the request head `headers` names, with trusted = the CIDRs
 * of list (comma-separated); "-" when it names none. */
static const char *client_of(const char *headers, const char *list)
{
	static char out[CIDR_ADDR_TEXT];
	const char *v[8];
	char copy[256], head[2048];
	struct cidr_set set;
	struct http_request r;
	struct ip_addr a;
	size_t n = 0;
	int status;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 8;
	     t = strtok_r(NULL, ",", &save))
		v[n++] = t;
	if (cidr_set_parse(&set, v, n, NULL) != 0)
		return "bad list";
	snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: a\r\n%s\r\n", headers);
	if (http_request_parse(head, strlen(head), sizeof(head), &r, &status, NULL) != 1) {
		cidr_set_free(&set);
		return "bad head";
	}
	if (forwarded_client(&r, &set, &a) == 1)
		ip_addr_format(&a, out);
	else
		snprintf(out, sizeof(out), "-");
	cidr_set_free(&set);
	return out;
}

static void test_x_forwarded_for(void)
{
	const char *t = "10.0.0.0/8";

	CHECK_STR(client_of("", t), "-");
	CHECK_STR(client_of("X-Forwarded-For: 203.0.113.7\r\n", t), "203.0.113.7");
	/* the right-most untrusted entry: the client cannot push itself left */
	CHECK_STR(client_of("X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n", t), "203.0.113.7");
	CHECK_STR(client_of("X-Forwarded-For: 6.6.6.6, 203.0.113.7, 10.1.1.1\r\n", t),
		  "203.0.113.7");
	/* several lines are one list, in order */
	CHECK_STR(
		client_of("X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.2\r\n",
			  t),
		"203.0.113.7");
	/* every hop trusted: the farthest one */
	CHECK_STR(client_of("X-Forwarded-For: 10.9.9.9, 10.0.0.2\r\n", t), "10.9.9.9");
	/* ports and IPv6, bracketed or not */
	CHECK_STR(client_of("X-Forwarded-For: 203.0.113.7:4711\r\n", t), "203.0.113.7");
	CHECK_STR(client_of("X-Forwarded-For: [2001:db8::7]:443\r\n", t), "2001:db8::7");
	CHECK_STR(client_of("X-Forwarded-For: 2001:DB8::7\r\n", t), "2001:db8::7");
	CHECK_STR(client_of("x-forwarded-for:  192.0.2.1 ,\t 10.0.0.3 \r\n", t), "192.0.2.1");
	/* an unusable nearest entry: none; an unusable farther one stops the walk */
	CHECK_STR(client_of("X-Forwarded-For: 203.0.113.7, unknown\r\n", t), "-");
	CHECK_STR(client_of("X-Forwarded-For: garbage, 10.0.0.5\r\n", t), "10.0.0.5");
	CHECK_STR(client_of("X-Forwarded-For: 203.0.113.7, 10.0.0.5:x\r\n", t), "-");
	CHECK_STR(client_of("X-Forwarded-For: 1.2.3.4:5:6\r\n", t), "-");
	CHECK_STR(client_of("X-Forwarded-For: [::1\r\n", t), "-");
	CHECK_STR(client_of("X-Forwarded-For: [1.2.3.4]\r\n", t), "-");
	/* IPv4-mapped entries are their IPv4 address */
	CHECK_STR(client_of("X-Forwarded-For: ::ffff:10.0.0.9\r\n", "::/0"), "10.0.0.9");
	/* nothing trusted: the nearest entry */
	CHECK_STR(client_of("X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n", ""), "203.0.113.7");
}

static void test_forwarded_header(void)
{
	const char *t = "10.0.0.0/8,2001:db8:ffff::/48";

	CHECK_STR(client_of("Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43\r\n", t),
		  "192.0.2.60");
	CHECK_STR(client_of("Forwarded: for=\"[2001:db8:cafe::17]:4711\"\r\n", t),
		  "2001:db8:cafe::17");
	CHECK_STR(client_of("Forwarded: For=\"192.0.2.43:47011\", for=10.0.0.1\r\n", t),
		  "192.0.2.43");
	CHECK_STR(client_of("Forwarded: for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;"
			    "proto=http;host=example.com\r\n",
			    t),
		  "198.51.100.17");
	/* Forwarded wins over X-Forwarded-For */
	CHECK_STR(client_of("X-Forwarded-For: 6.6.6.6\r\nForwarded: for=192.0.2.9\r\n", t),
		  "192.0.2.9");
	/* obfuscated and unknown identifiers stop the walk */
	CHECK_STR(client_of("Forwarded: for=_hidden, for=10.0.0.4\r\n", t), "10.0.0.4");
	CHECK_STR(client_of("Forwarded: for=192.0.2.1, for=unknown\r\n", t), "-");
	/* an element without for= is a hop whose client is not told */
	CHECK_STR(client_of("Forwarded: for=192.0.2.1, proto=https\r\n", t), "-");
	/* quoted-string escapes; several lines */
	CHECK_STR(client_of("Forwarded: for=\"192.0.2.\\5\"\r\nForwarded: for=10.2.2.2\r\n", t),
		  "192.0.2.5");
	CHECK_STR(client_of("Forwarded: for=[2001:db8:ffff::2]\r\n", t), "2001:db8:ffff::2");
	/* malformed: ignored as a whole (X-Forwarded-For is not read instead) */
	CHECK_STR(client_of("Forwarded: for\r\nX-Forwarded-For: 6.6.6.6\r\n", t), "-");
	CHECK_STR(client_of("Forwarded: for=\"192.0.2.1\r\n", t), "-");
	CHECK_STR(client_of("Forwarded: for=192.0.2.1;for=192.0.2.2\r\n", t), "-");
	CHECK_STR(client_of("Forwarded: for=192.0.2.1 x\r\n", t), "-");
	CHECK_STR(client_of("Forwarded: =192.0.2.1\r\n", t), "-");
	/* empty elements are skipped */
	CHECK_STR(client_of("Forwarded: , for=192.0.2.7 ,, \r\n", t), "192.0.2.7");
}

static void test_long_chains(void)
{
	char h[1800];
	size_t o;

	/* more hops than FORWARDED_MAX_HOPS, all trusted: the farthest kept */
	o = (size_t)snprintf(h, sizeof(h), "X-Forwarded-For: 6.6.6.6");
	for (int i = 0; i < FORWARDED_MAX_HOPS + 5; i++)
		o += (size_t)snprintf(h + o, sizeof(h) - o, ", 10.0.%d.1", i);
	snprintf(h + o, sizeof(h) - o, "\r\n");
	CHECK_STR(client_of(h, "10.0.0.0/8"), "10.0.5.1");
	/* the client right before the nearest proxy, after many other hops */
	o = (size_t)snprintf(h, sizeof(h), "X-Forwarded-For: ");
	for (int i = 0; i < FORWARDED_MAX_HOPS + 5; i++)
		o += (size_t)snprintf(h + o, sizeof(h) - o, "192.0.2.%d, ", i);
	snprintf(h + o, sizeof(h) - o, "10.0.0.1\r\n");
	CHECK_STR(client_of(h, "10.0.0.0/8"), "192.0.2.36");
}

static void test_parse_node(void)
{
	struct ip_addr a;

	CHECK_INT(forwarded_parse_node("1.2.3.4", 7, &a), 0);
	CHECK_INT(forwarded_parse_node("1.2.3.4:65535", 13, &a), 0);
	CHECK_INT(forwarded_parse_node("1.2.3.4:123456", 14, &a), -1);
	CHECK_INT(forwarded_parse_node("1.2.3.4:", 8, &a), -1);
	CHECK_INT(forwarded_parse_node("[::1]", 5, &a), 0);
	CHECK_INT(forwarded_parse_node("[::1]:", 6, &a), -1);
	CHECK_INT(forwarded_parse_node("[::1]x", 6, &a), -1);
	CHECK_INT(forwarded_parse_node("::1", 3, &a), 0);
	CHECK_INT(forwarded_parse_node("", 0, &a), -1);
	CHECK_INT(forwarded_parse_node("[", 1, &a), -1);
	CHECK_INT(forwarded_parse_node("[]", 2, &a), -1);
}

int main(void)
{
	RUN(test_x_forwarded_for);
	RUN(test_forwarded_header);
	RUN(test_long_chains);
	RUN(test_parse_node);
	return UNIT_END();
}
