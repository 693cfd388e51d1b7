/*
 * url.c: parses absolute http, https, ws and wss URLs (see url.h).  Every
 * rule is checked before anything is allocated, so a failed parse leaves
 * nothing to free; a successful one leaves host and path allocated.
 */
#include "proto/url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum url_scheme scheme;
	bool tls;
} schemes_known[] = {
	{ "http", URL_HTTP, false },
	{ "https", URL_HTTPS, true },
	{ "ws", URL_WS, false },
	{ "wss", URL_WSS, true },
};

static const char *schemes_expected(unsigned schemes);
static bool reg_name_char(char c);

/* "http or https", or "http, https, ws or wss", for the error messages. */
static const char *schemes_expected(unsigned schemes)
{
	return (schemes & ~URL_SCHEMES_HTTP) != 0 ? "http, https, ws or wss" : "http or https";
}

static bool reg_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

int url_parse(const char *s, unsigned schemes, struct url *out, struct sg_err *err)
{
	const char *p, *auth_end, *host, *host_end, *port_s = NULL, *q, *frag;
	size_t i, hl;
	unsigned port = 0;
	bool v6 = false;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return sg_err_set(err, "empty URL");
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return sg_err_set(err, "URL has a space, control or non-ASCII character");
	}
	for (p = s; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'); p++) {
	}
	if (p == s || strncmp(p, "://", 3) != 0)
		return sg_err_set(err, "URL has no scheme (expected %s)",
				  schemes_expected(schemes));
	for (i = 0; i < SG_ARRAY_LEN(schemes_known); i++) {
		if (strlen(schemes_known[i].name) == (size_t)(p - s) &&
		    strncasecmp(s, schemes_known[i].name, (size_t)(p - s)) == 0 &&
		    (schemes & (1u << schemes_known[i].scheme)) != 0)
			break;
	}
	if (i == SG_ARRAY_LEN(schemes_known))
		return sg_err_set(err, "unsupported URL scheme '%.*s' (expected %s)",
				  (int)(p - s > 16 ? 16 : p - s), s, schemes_expected(schemes));
	out->scheme = schemes_known[i].scheme;
	out->tls = schemes_known[i].tls;

	p += 3;
	auth_end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(auth_end - p)) != NULL)
		return sg_err_set(err, "URL user info is not supported");
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (host_end == NULL)
			return sg_err_set(err, "URL has an unclosed '['");
		if (host_end + 1 < auth_end) {
			if (host_end[1] != ':')
				return sg_err_set(err, "URL has junk after ']'");
			port_s = host_end + 2;
		}
		v6 = true;
	} else {
		host = p;
		host_end = memchr(p, ':', (size_t)(auth_end - p));
		if (host_end != NULL)
			port_s = host_end + 1;
		else
			host_end = auth_end;
	}
	hl = (size_t)(host_end - host);
	if (hl == 0)
		return sg_err_set(err, "URL has no host");
	if (hl > URL_MAX_HOST)
		return sg_err_set(err, "URL host is too long");
	if (v6) {
		char buf[URL_MAX_HOST + 1];
		struct in6_addr a6;
		memcpy(buf, host, hl);
		buf[hl] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return sg_err_set(err, "URL has a bad IPv6 address");
	} else {
		for (i = 0; i < hl; i++)
			if (!reg_name_char(host[i]))
				return sg_err_set(err, "URL host has a bad character '%c'",
						  host[i]);
	}
	if (port_s != NULL) {
		if (port_s == auth_end || auth_end - port_s > 5)
			return sg_err_set(err, "URL has a bad port");
		for (q = port_s; q < auth_end; q++) {
			if (*q < '0' || *q > '9')
				return sg_err_set(err, "URL has a bad port");
			port = port * 10 + (unsigned)(*q - '0');
		}
		if (port < 1 || port > 65535)
			return sg_err_set(err, "URL port must be between 1 and 65535");
		out->port = port;
	} else {
		out->port = out->tls ? 443 : 80;
	}

	out->host = sg_strndup(host, hl);
	out->host_is_ipv6 = v6;
	if (!v6) {
		for (i = 0; i < hl; i++)
			if (out->host[i] >= 'A' && out->host[i] <= 'Z')
				out->host[i] = (char)(out->host[i] - 'A' + 'a');
	}
	frag = auth_end + strcspn(auth_end, "#");
	q = memchr(auth_end, '?', (size_t)(frag - auth_end));
	if (q == NULL)
		q = frag;
	out->path = q == auth_end ? sg_strdup("/") : sg_strndup(auth_end, (size_t)(q - auth_end));
	if (*q == '?')
		out->query = sg_strndup(q + 1, (size_t)(frag - q - 1));
	return 0;
}

void url_fini(struct url *u)
{
	free(u->host);
	free(u->path);
	free(u->query);
	u->host = NULL;
	u->path = NULL;
	u->query = NULL;
}

void url_append_host_header(const struct url *u, struct sg_buf *out)
{
	sg_buf_printf(out, u->host_is_ipv6 ? "[%s]" : "%s", u->host);
	if (u->port != (u->tls ? 443u : 80u))
		sg_buf_printf(out, ":%u", u->port);
}

void url_append_target(const struct url *u, struct sg_buf *out)
{
	sg_buf_append_str(out, u->path);
	if (u->query != NULL) {
		sg_buf_append_char(out, '?');
		sg_buf_append_str(out, u->query);
	}
}
