/*
 * test_url.c: the one URL parser of siogate's call-outs and of
 * libsiogate-client: every accepted form with what it parses to (scheme,
 * host, port, path, query, Host header, request target) and every refused
 * form with its error, for both scheme sets.
 */
#include <string.h>

#include "proto/url.h"
#include "unit.h"

#define ANY URL_SCHEMES_ANY
#define HTTP URL_SCHEMES_HTTP

struct ok_case {
	const char *in;
	unsigned schemes;
	enum url_scheme scheme;
	bool tls;
	const char *host;
	bool v6;
	unsigned port;
	const char *path;
	const char *query; /* NULL: no '?' */
	const char *host_header;
	const char *target;
};

static const struct ok_case ok_cases[] = {
	/* schemes, any case; default ports */
	{ "http://127.0.0.1/", HTTP, URL_HTTP, false, "127.0.0.1", false, 80, "/", NULL,
	  "127.0.0.1", "/" },
	{ "HTTPS://Example.COM", HTTP, URL_HTTPS, true, "example.com", false, 443, "/", NULL,
	  "example.com", "/" },
	{ "ws://example.com", ANY, URL_WS, false, "example.com", false, 80, "/", NULL,
	  "example.com", "/" },
	{ "WSS://h:444/", ANY, URL_WSS, true, "h", false, 444, "/", NULL, "h:444", "/" },
	{ "https://h", ANY, URL_HTTPS, true, "h", false, 443, "/", NULL, "h", "/" },
	/* explicit ports; the default one is left out of the Host header */
	{ "http://127.0.0.1:8080", ANY, URL_HTTP, false, "127.0.0.1", false, 8080, "/", NULL,
	  "127.0.0.1:8080", "/" },
	{ "http://h:80/x", HTTP, URL_HTTP, false, "h", false, 80, "/x", NULL, "h", "/x" },
	{ "https://h:80/", HTTP, URL_HTTPS, true, "h", false, 80, "/", NULL, "h:80", "/" },
	{ "wss://h:443", ANY, URL_WSS, true, "h", false, 443, "/", NULL, "h", "/" },
	{ "http://h:1", ANY, URL_HTTP, false, "h", false, 1, "/", NULL, "h:1", "/" },
	{ "http://h:00080/", HTTP, URL_HTTP, false, "h", false, 80, "/", NULL, "h", "/" },
	{ "http://h_x.example:65535", HTTP, URL_HTTP, false, "h_x.example", false, 65535, "/", NULL,
	  "h_x.example:65535", "/" },
	/* IPv6 literals, without brackets in host, with them in the Host header */
	{ "http://[::1]:3000/chat", ANY, URL_HTTP, false, "::1", true, 3000, "/chat", NULL,
	  "[::1]:3000", "/chat" },
	{ "http://[::1]:8080/a?b#c", HTTP, URL_HTTP, false, "::1", true, 8080, "/a", "b",
	  "[::1]:8080", "/a?b" },
	{ "https://[2001:DB8::a]", HTTP, URL_HTTPS, true, "2001:DB8::a", true, 443, "/", NULL,
	  "[2001:DB8::a]", "/" },
	{ "ws://[::ffff:10.0.0.1]/", ANY, URL_WS, false, "::ffff:10.0.0.1", true, 80, "/", NULL,
	  "[::ffff:10.0.0.1]", "/" },
	/* path, query, fragment */
	{ "https://example.com/admin?x=1&y=2#frag", ANY, URL_HTTPS, true, "example.com", false, 443,
	  "/admin", "x=1&y=2", "example.com", "/admin?x=1&y=2" },
	{ "http://host?token=abc", ANY, URL_HTTP, false, "host", false, 80, "/", "token=abc",
	  "host", "/?token=abc" },
	{ "https://h?q", HTTP, URL_HTTPS, true, "h", false, 443, "/", "q", "h", "/?q" },
	{ "http://h/p?", HTTP, URL_HTTP, false, "h", false, 80, "/p", "", "h", "/p?" },
	{ "http://h:65535#x", ANY, URL_HTTP, false, "h", false, 65535, "/", NULL, "h:65535", "/" },
	{ "http://h#x?y", ANY, URL_HTTP, false, "h", false, 80, "/", NULL, "h", "/" },
	{ "http://h/a/b/?c=%20&d=/e?f", HTTP, URL_HTTP, false, "h", false, 80, "/a/b/",
	  "c=%20&d=/e?f", "h", "/a/b/?c=%20&d=/e?f" },
	{ "http://h/%7Euser/", HTTP, URL_HTTP, false, "h", false, 80, "/%7Euser/", NULL, "h",
	  "/%7Euser/" },
	{ "http://h.example./", HTTP, URL_HTTP, false, "h.example.", false, 80, "/", NULL,
	  "h.example.", "/" },
};

struct bad_case {
	const char *in;
	unsigned schemes;
	const char *msg; /* a substring of the error */
};

static const struct bad_case bad_cases[] = {
	{ "", ANY, "empty URL" },
	{ NULL, ANY, "empty URL" },
	/* scheme */
	{ "localhost:3000", ANY, "no scheme (expected http, https, ws or wss)" },
	{ "127.0.0.1:80/x", HTTP, "no scheme (expected http or https)" },
	{ "://h", ANY, "no scheme" },
	{ "http:/h", ANY, "no scheme" },
	{ "ftp://h", ANY, "unsupported URL scheme 'ftp' (expected http, https, ws or wss)" },
	{ "ftp://127.0.0.1/", HTTP, "unsupported URL scheme 'ftp' (expected http or https)" },
	{ "ws://h", HTTP, "unsupported URL scheme 'ws' (expected http or https)" },
	{ "wss://h", HTTP, "unsupported URL scheme 'wss'" },
	{ "gopher://x", ANY, "unsupported URL scheme 'gopher'" },
	{ "httpx://h", ANY, "unsupported URL scheme" },
	/* bytes */
	{ "http://a b", ANY, "space, control or non-ASCII" },
	{ "http://ho st", HTTP, "space, control or non-ASCII" },
	{ "http://h/a b", ANY, "space, control or non-ASCII" },
	{ "http://h/?a=\r\nX-Injected: 1", ANY, "space, control or non-ASCII" },
	{ "http://h\x01/", HTTP, "space, control or non-ASCII" },
	{ "http://h/\x7f", ANY, "space, control or non-ASCII" },
	{ "http://h\xc3\xa9/", HTTP, "space, control or non-ASCII" },
	{ "http://h\t/", ANY, "space, control or non-ASCII" },
	/* user info */
	{ "http://user@h/", HTTP, "user info" },
	{ "http://user:pw@h", ANY, "user info" },
	/* host */
	{ "http://", ANY, "no host" },
	{ "http:///x", HTTP, "no host" },
	{ "http://:80", ANY, "no host" },
	{ "http://?q", ANY, "no host" },
	{ "http://[]/", ANY, "no host" },
	{ "http://h~x/", ANY, "bad character '~'" },
	{ "http://h%41/", ANY, "bad character '%'" },
	{ "http://h!/", ANY, "bad character '!'" },
	{ "http://h,i/", ANY, "bad character ','" },
	/* IPv6 */
	{ "http://[::1", ANY, "unclosed '['" },
	{ "http://[::1/", HTTP, "unclosed '['" },
	{ "http://[::1]x/", ANY, "junk after ']'" },
	{ "http://[::1]]:80/", ANY, "junk after ']'" },
	{ "http://[zz]/", HTTP, "bad IPv6 address" },
	{ "http://[1.2.3.4]/", ANY, "bad IPv6 address" },
	{ "http://[fe80::1%25eth0]/", ANY, "bad IPv6 address" },
	{ "http://[::1:]/", ANY, "bad IPv6 address" },
	/* port */
	{ "http://h:0/", HTTP, "between 1 and 65535" },
	{ "http://h:65536/", HTTP, "between 1 and 65535" },
	{ "http://h:99999", ANY, "between 1 and 65535" },
	{ "http://h:/", HTTP, "bad port" },
	{ "http://h:", ANY, "bad port" },
	{ "http://h:8x/", HTTP, "bad port" },
	{ "http://h:12a", ANY, "bad port" },
	{ "http://h:-1/", ANY, "bad port" },
	{ "http://h:+80/", ANY, "bad port" },
	{ "http://h:000080/", ANY, "bad port" },
	{ "http://h:80:80/", ANY, "bad port" },
	{ "http://[::1]:/", ANY, "bad port" },
	{ "http://[::1]:0/", ANY, "between 1 and 65535" },
};

static void test_accepted(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];
		struct sg_err err = { 0 };
		struct url u;
		struct sg_buf b;

		if (url_parse(c->in, c->schemes, &u, &err) != 0) {
			fprintf(stderr, "refused '%s': %s\n", c->in, err.msg);
			CHECK(0);
			continue;
		}
		CHECK_INT(u.scheme, c->scheme);
		CHECK_INT(u.tls, c->tls);
		CHECK_STR(u.host, c->host);
		CHECK_INT(u.host_is_ipv6, c->v6);
		CHECK_INT(u.port, c->port);
		CHECK_STR(u.path, c->path);
		if (c->query == NULL)
			CHECK(u.query == NULL);
		else
			CHECK_STR(u.query, c->query);
		sg_buf_init(&b);
		url_append_host_header(&u, &b);
		CHECK_STR(b.data, c->host_header);
		sg_buf_reset(&b);
		url_append_target(&u, &b);
		CHECK_STR(b.data, c->target);
		sg_buf_fini(&b);
		url_fini(&u);
		url_fini(&u); /* twice is fine */
		CHECK(u.host == NULL && u.path == NULL && u.query == NULL);
	}
}

static void test_refused(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct sg_err err = { 0 };
		struct url u;

		memset(&u, 0xff, sizeof(u));
		CHECK_INT(url_parse(c->in, c->schemes, &u, &err), -1);
		/* nothing to free after a failure */
		CHECK(u.host == NULL && u.path == NULL && u.query == NULL);
		if (strstr(err.msg, c->msg) == NULL)
			fprintf(stderr, "'%s': error '%s' lacks '%s'\n", c->in ? c->in : "(null)",
				err.msg, c->msg);
		CHECK(strstr(err.msg, c->msg) != NULL);
	}
}

/* The longest host is 253 bytes, for names and IPv6 literals alike. */
static void test_host_length(void)
{
	char in[300], host[260];
	struct sg_err err = { 0 };
	struct url u;

	memset(host, 'a', 253);
	host[253] = '\0';
	snprintf(in, sizeof(in), "http://%s:1/", host);
	CHECK_INT(url_parse(in, ANY, &u, &err), 0);
	CHECK_INT(strlen(u.host), 253);
	url_fini(&u);
	snprintf(in, sizeof(in), "http://%sa/", host);
	CHECK_INT(url_parse(in, ANY, &u, &err), -1);
	CHECK_STR(err.msg, "URL host is too long");
	memset(host, '0', 254); /* "::000...": 254 bytes */
	host[0] = host[1] = ':';
	host[254] = '\0';
	snprintf(in, sizeof(in), "http://[%s]/", host);
	CHECK_INT(url_parse(in, ANY, &u, &err), -1);
	CHECK_STR(err.msg, "URL host is too long");
}

/* err may be NULL, as with every sg_err user. */
static void test_null_err(void)
{
	struct url u;

	CHECK_INT(url_parse("nope", ANY, &u, NULL), -1);
	CHECK_INT(url_parse("http://h", ANY, &u, NULL), 0);
	url_fini(&u);
}

int main(void)
{
	RUN(test_accepted);
	RUN(test_refused);
	RUN(test_host_length);
	RUN(test_null_err);
	return UNIT_END();
}
