/*
 * url.c: parses the server URL of libsiogate-client into scheme, host, port,
 * path and query.  Invariant: a successful parse leaves every string field
 * allocated (path at least "/", query at least ""), a failed one leaves none.
 */
#include "url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool host_char_ok(char ch);

static bool host_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '%';
}

int sgc_url_parse(const char *s, struct sgc_url *out, struct sg_err *err)
{
	const char *p, *auth_end, *host_start, *host_end, *port_start = NULL;
	const char *path_start, *q, *frag;
	size_t scheme_len;
	unsigned long port = 0;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return sg_err_set(err, "empty URL");
	p = strstr(s, "://");
	if (p == NULL)
		return sg_err_set(err, "URL '%s' has no scheme (expected http://, https://, ws:// or wss://)", s);
	scheme_len = (size_t)(p - s);
	if (scheme_len == 4 && strncasecmp(s, "http", 4) == 0) {
		out->tls = false;
	} else if (scheme_len == 5 && strncasecmp(s, "https", 5) == 0) {
		out->tls = true;
	} else if (scheme_len == 2 && strncasecmp(s, "ws", 2) == 0) {
		out->tls = false;
	} else if (scheme_len == 3 && strncasecmp(s, "wss", 3) == 0) {
		out->tls = true;
	} else {
		return sg_err_set(err, "unsupported URL scheme '%.*s' (expected http, https, ws or wss)",
				  (int)scheme_len, s);
	}
	host_start = p + 3;
	auth_end = host_start + strcspn(host_start, "/?#");
	if (memchr(host_start, '@', (size_t)(auth_end - host_start)) != NULL)
		return sg_err_set(err, "user information in the URL is not supported");
	if (*host_start == '[') {
		const char *close = memchr(host_start, ']', (size_t)(auth_end - host_start));
		const char *c;
		if (close == NULL || close == host_start + 1)
			return sg_err_set(err, "malformed IPv6 address in the URL");
		for (c = host_start + 1; c < close; c++) {
			if (!(host_char_ok(*c) || *c == ':'))
				return sg_err_set(err, "malformed IPv6 address in the URL");
		}
		out->host_is_ipv6 = true;
		host_end = close + 1;
		if (host_end < auth_end) {
			if (*host_end != ':')
				return sg_err_set(err, "unexpected character after the IPv6 address");
			port_start = host_end + 1;
		}
		out->host = sg_strndup(host_start + 1, (size_t)(close - host_start - 1));
	} else {
		const char *colon = memchr(host_start, ':', (size_t)(auth_end - host_start));
		const char *c;
		host_end = colon ? colon : auth_end;
		if (host_end == host_start)
			return sg_err_set(err, "URL '%s' has no host", s);
		for (c = host_start; c < host_end; c++) {
			if (!host_char_ok(*c))
				return sg_err_set(err, "invalid character '%c' in the URL's host", *c);
		}
		if (colon)
			port_start = colon + 1;
		out->host = sg_strndup(host_start, (size_t)(host_end - host_start));
	}
	if (port_start != NULL) {
		const char *c;
		if (port_start == auth_end)
			goto bad_port;
		for (c = port_start; c < auth_end; c++) {
			if (*c < '0' || *c > '9' || port > 65535)
				goto bad_port;
			port = port * 10 + (unsigned long)(*c - '0');
		}
		if (port == 0 || port > 65535)
			goto bad_port;
		out->port = (unsigned)port;
	} else {
		out->default_port = true;
		out->port = out->tls ? 443 : 80;
	}
	path_start = auth_end;
	frag = path_start + strcspn(path_start, "#");
	q = memchr(path_start, '?', (size_t)(frag - path_start));
	if (q == NULL)
		q = frag;
	if (q == path_start)
		out->path = sg_strdup("/");
	else
		out->path = sg_strndup(path_start, (size_t)(q - path_start));
	if (*q == '?')
		out->query = sg_strndup(q + 1, (size_t)(frag - q - 1));
	else
		out->query = sg_strdup("");
	return 0;

bad_port:
	sgc_url_fini(out);
	return sg_err_set(err, "invalid port in URL '%s'", s);
}

void sgc_url_fini(struct sgc_url *u)
{
	free(u->host);
	free(u->path);
	free(u->query);
	u->host = NULL;
	u->path = NULL;
	u->query = NULL;
}

void sgc_url_host_header(const struct sgc_url *u, struct sg_buf *out)
{
	if (u->host_is_ipv6)
		sg_buf_printf(out, "[%s]", u->host);
	else
		sg_buf_append_str(out, u->host);
	if (!u->default_port)
		sg_buf_printf(out, ":%u", u->port);
}
