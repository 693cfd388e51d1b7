/*
 * fuzz_proxy.c: what a trusted proxy may send first: the PROXY protocol
 * header (src/proto/proxy_proto.h), and the Forwarded / X-Forwarded-For headers
 * read for the client's address (src/proto/forwarded.h, src/proto/cidr.h).  Checks: a
 * PROXY header's answer depends only on the bytes (every prefix says 0 until
 * the answer, which then stays), a complete header's length lies within the
 * input and PROXY_MAX, a named client is IPv4 or IPv6; the input read as
 * header values gives a client that is one of the addresses written in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/forwarded.h"
#include "proto/proxy_proto.h"

#define FUZZ_PREFIX_MAX 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_proxy(const uint8_t *data, size_t size)
{
	struct proxy_hdr h, t;
	int rc = proxy_parse(data, size, &h, NULL), prev = 0;

	if (rc == 1) {
		if (h.len == 0 || h.len > size || h.len > PROXY_MAX)
			__builtin_trap();
		if (!h.local && h.src.ss_family != AF_INET && h.src.ss_family != AF_INET6)
			__builtin_trap();
	} else if (rc != 0 && rc != -1) {
		__builtin_trap();
	}
	if (size >= FUZZ_PREFIX_MAX)
		return;
	for (size_t k = 0; k <= size; k++) {
		int r = proxy_parse(data, k, &t, NULL);

		if (prev != 0 && r != prev)
			__builtin_trap();
		if (r == 1 && prev == 1 && t.len != h.len)
			__builtin_trap();
		prev = r;
	}
	if (prev != rc)
		__builtin_trap();
}

/* The input as the values of a Forwarded and an X-Forwarded-For header. */
static void check_forwarded(const uint8_t *data, size_t size)
{
	static const char *const trusted[] = { "10.0.0.0/8", "127.0.0.1", "2001:db8::/32" };
	struct http_request req;
	struct cidr_set set;
	struct ip_addr a;
	char *head;
	size_t n = 0;
	int status;

	head = malloc(size * 2 + 128);
	n += (size_t)sprintf(head, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int which = 0; which < 2; which++) {
		const char *name = which ? "X-Forwarded-For: " : "Forwarded: ";

		memcpy(head + n, name, strlen(name));
		n += strlen(name);
		for (size_t i = 0; i < size; i++)
			head[n++] = (data[i] == '\r' || data[i] == '\n') ? ' ' : (char)data[i];
		memcpy(head + n, "\r\n", 2);
		n += 2;
		if (which == 0 && size > 0 && data[0] == 'X')
			n -= strlen(name) + size + 2; /* only X-Forwarded-For */
	}
	memcpy(head + n, "\r\n", 2);
	n += 2;
	if (cidr_set_parse(&set, trusted, 3, NULL) != 0)
		__builtin_trap();
	if (http_request_parse(head, n, n + 1, &req, &status, NULL) == 1 &&
	    forwarded_client(&req, &set, &a) == 1 && a.family != 4 && a.family != 6)
		__builtin_trap();
	cidr_set_free(&set);
	free(head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cidr c;
	char text[64];

	check_proxy(data, size);
	check_forwarded(data, size);
	if (size < sizeof(text)) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (cidr_parse(text, &c, NULL) == 0) {
			unsigned max = c.addr.family == 4 ? 32 : 128;

			if (c.bits > max || !cidr_match(&c, &c.addr))
				__builtin_trap();
		}
	}
	return 0;
}
