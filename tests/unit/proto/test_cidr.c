/*
 * test_cidr.c: addresses and CIDR blocks of server.trusted_proxies.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "proto/cidr.h"
#include "unit.h"

static bool in_block(const char *block, const char *addr)
{
	struct cidr c;
	struct ip_addr a;

	if (cidr_parse(block, &c, NULL) != 0 || ip_addr_parse(addr, strlen(addr), &a) != 0)
		return false;
	return cidr_match(&c, &a);
}

static void test_parse(void)
{
	static const char *const good[] = { "10.0.0.0/8",   "192.168.1.7",   "0.0.0.0/0",
					    "::1",	    "2001:db8::/32", "::/0",
					    "fe80::/10",    "10.1.2.3/32",   "2001:db8::1/128",
					    "172.16.0.0/12" };
	static const char *const bad[] = { "10.0.0.1/8",   "10.0.0.0/33",    "::1/129",
					   "10.0.0.0/",	   "10.0.0.0/8x",    "10.0.0",
					   "010.0.0.1",	   "host.example",   "",
					   "1.2.3.4/-1",   "2001:db8::1/32", "::ffff:10.0.0.0/104",
					   "10.0.0.0/0008" };
	struct sg_err err = { 0 };
	struct cidr c;

	for (size_t i = 0; i < SG_ARRAY_LEN(good); i++)
		CHECK_INT(cidr_parse(good[i], &c, &err), 0);
	for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
		err.msg[0] = '\0';
		CHECK_INT(cidr_parse(bad[i], &c, &err), -1);
		CHECK(err.msg[0] != '\0');
	}
	CHECK_INT(cidr_parse("192.168.1.7", &c, NULL), 0);
	CHECK_INT(c.bits, 32);
	CHECK_INT(cidr_parse("::1", &c, NULL), 0);
	CHECK_INT(c.bits, 128);
	CHECK_INT(c.addr.family, 6);
}

static void test_match(void)
{
	CHECK(in_block("10.0.0.0/8", "10.255.1.2"));
	CHECK(!in_block("10.0.0.0/8", "11.0.0.1"));
	CHECK(in_block("172.16.0.0/12", "172.31.255.255"));
	CHECK(!in_block("172.16.0.0/12", "172.32.0.0"));
	CHECK(in_block("192.168.1.7", "192.168.1.7"));
	CHECK(!in_block("192.168.1.7", "192.168.1.8"));
	CHECK(in_block("0.0.0.0/0", "203.0.113.9"));
	CHECK(!in_block("0.0.0.0/0", "2001:db8::1"));
	CHECK(in_block("2001:db8::/32", "2001:db8:ffff::1"));
	CHECK(!in_block("2001:db8::/32", "2001:db9::1"));
	CHECK(in_block("fe80::/10", "febf::1"));
	CHECK(!in_block("fe80::/10", "fec0::1"));
	CHECK(in_block("::/0", "::1"));
	/* an IPv4-mapped IPv6 address is its IPv4 address */
	CHECK(in_block("127.0.0.0/8", "::ffff:127.0.0.1"));
	CHECK(in_block("::ffff:127.0.0.1", "127.0.0.1"));
	CHECK(!in_block("::/0", "::ffff:127.0.0.1"));
}

static void test_sockaddr_and_format(void)
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;
	struct ip_addr a;
	char text[CIDR_ADDR_TEXT];

	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	CHECK_INT(inet_pton(AF_INET6, "::ffff:192.0.2.1", &in6.sin6_addr), 1);
	CHECK_INT(ip_addr_from_sockaddr((struct sockaddr *)&in6, &a), 0);
	CHECK_INT(a.family, 4);
	ip_addr_format(&a, text);
	CHECK_STR(text, "192.0.2.1");
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_addr.s_addr = htonl(0x7f000001);
	CHECK_INT(ip_addr_from_sockaddr((struct sockaddr *)&in, &a), 0);
	ip_addr_format(&a, text);
	CHECK_STR(text, "127.0.0.1");
	CHECK_INT(ip_addr_parse("2001:DB8:0:0::1", 15, &a), 0);
	ip_addr_format(&a, text);
	CHECK_STR(text, "2001:db8::1");
	in.sin_family = AF_UNIX;
	CHECK_INT(ip_addr_from_sockaddr((struct sockaddr *)&in, &a), -1);
}

static void test_set(void)
{
	static const char *const list[] = { "10.0.0.0/8", "2001:db8::/32" };
	static const char *const broken[] = { "10.0.0.0/8", "nope" };
	struct cidr_set set;
	struct ip_addr a;
	struct sg_err err = { 0 };

	CHECK_INT(cidr_set_parse(&set, list, 2, &err), 0);
	CHECK_INT(set.n, 2);
	CHECK_INT(ip_addr_parse("10.9.8.7", 8, &a), 0);
	CHECK(cidr_set_match(&set, &a));
	CHECK_INT(ip_addr_parse("2001:db8::5", 11, &a), 0);
	CHECK(cidr_set_match(&set, &a));
	CHECK_INT(ip_addr_parse("192.0.2.1", 9, &a), 0);
	CHECK(!cidr_set_match(&set, &a));
	cidr_set_free(&set);
	CHECK_INT(cidr_set_parse(&set, broken, 2, &err), -1);
	CHECK_INT(set.n, 0);
	CHECK(strstr(err.msg, "nope") != NULL);
	CHECK_INT(cidr_set_parse(&set, NULL, 0, &err), 0);
	CHECK(!cidr_set_match(&set, &a)); /* empty: trust nobody */
	cidr_set_free(&set);
}

int main(void)
{
	RUN(test_parse);
	RUN(test_match);
	RUN(test_sockaddr_and_format);
	RUN(test_set);
	return UNIT_END();
}
