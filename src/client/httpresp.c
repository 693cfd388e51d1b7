/*
 * httpresp.c: parses HTTP/1.x response heads and chunked bodies for
 * libsiogate-client.  Invariant: nothing is allocated by the head parser;
 * every pointer of a parsed response points into the caller's buffer.
 */
#include "httpresp.h"

#include <string.h>
#include <strings.h>

static const char *find_eol(const char *p, const char *end);
static int parse_header_line(struct sgc_http_resp *r, const char *line, const char *eol,
			     struct sg_err *err);

/* The '\n' ending the line that starts at p, or NULL. */
static const char *find_eol(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

static int parse_header_line(struct sgc_http_resp *r, const char *line, const char *eol,
			     struct sg_err *err)
{
	const char *colon, *v, *ve, *c;
	struct sgc_http_header *h;

	if (eol > line && eol[-1] == '\r')
		eol--;
	for (c = line; c < eol && *c != ':'; c++) {
		if (!sg_is_tchar((unsigned char)*c))
			return sg_err_set(err, "invalid character in a response header name");
	}
	colon = c;
	if (colon == eol || colon == line)
		return sg_err_set(err, "malformed response header line");
	v = colon + 1;
	ve = eol;
	while (v < ve && (*v == ' ' || *v == '\t'))
		v++;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	for (c = v; c < ve; c++) {
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return sg_err_set(err, "control character in a response header value");
	}
	if (r->n_headers >= SGC_HTTP_MAX_HEADERS)
		return sg_err_set(err, "too many response headers");
	h = &r->headers[r->n_headers++];
	h->name = line;
	h->name_len = (size_t)(colon - line);
	h->value = v;
	h->value_len = (size_t)(ve - v);
	if (h->name_len == 14 && strncasecmp(h->name, "Content-Length", 14) == 0) {
		int64_t n = 0;
		if (h->value_len == 0 || h->value_len > 18)
			return sg_err_set(err, "invalid Content-Length");
		for (c = v; c < ve; c++) {
			if (*c < '0' || *c > '9')
				return sg_err_set(err, "invalid Content-Length");
			n = n * 10 + (*c - '0');
		}
		if (r->content_length >= 0 && r->content_length != n)
			return sg_err_set(err, "conflicting Content-Length headers");
		r->content_length = n;
	} else if (h->name_len == 17 && strncasecmp(h->name, "Transfer-Encoding", 17) == 0) {
		/* chunked must be the last coding */
		const char *last = ve;
		while (last > v && last[-1] != ',')
			last--;
		while (last < ve && (*last == ' ' || *last == '\t'))
			last++;
		r->chunked = (size_t)(ve - last) == 7 && strncasecmp(last, "chunked", 7) == 0;
	}
	return 0;
}

int sgc_http_resp_parse(const char *buf, size_t len, size_t max_head, struct sgc_http_resp *r,
			struct sg_err *err)
{
	const char *end = buf + len, *p = buf, *eol, *c;
	size_t scan = len < max_head ? len : max_head;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	eol = find_eol(p, buf + scan);
	if (eol == NULL) {
		if (len >= max_head)
			return sg_err_set(err, "response head longer than %zu bytes", max_head);
		/* reject garbage early */
		if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0)
			return sg_err_set(err, "not an HTTP response");
		return 0;
	}
	if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ')
		return sg_err_set(err, "malformed HTTP status line");
	r->version_minor = p[7] - '0';
	for (c = p + 9; c < p + 12; c++) {
		if (*c < '0' || *c > '9')
			return sg_err_set(err, "malformed HTTP status code");
	}
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (r->status < 100)
		return sg_err_set(err, "malformed HTTP status code");
	if (p + 12 < eol && p[12] != ' ' && p[12] != '\r')
		return sg_err_set(err, "malformed HTTP status line");
	p = eol + 1;
	for (;;) {
		eol = find_eol(p, buf + scan);
		if (eol == NULL) {
			if (len >= max_head)
				return sg_err_set(err, "response head longer than %zu bytes", max_head);
			return 0;
		}
		if (eol == p || (eol == p + 1 && *p == '\r')) {
			r->head_len = (size_t)(eol + 1 - buf);
			return 1;
		}
		if (*p == ' ' || *p == '\t')
			return sg_err_set(err, "folded response header line");
		if (parse_header_line(r, p, eol, err) != 0)
			return -1;
		p = eol + 1;
		if (p >= end)
			return 0;
	}
}

const struct sgc_http_header *sgc_http_resp_header(const struct sgc_http_resp *r,
						    const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < r->n_headers; i++) {
		if (r->headers[i].name_len == n && strncasecmp(r->headers[i].name, name, n) == 0)
			return &r->headers[i];
	}
	return NULL;
}

bool sgc_http_header_has_token(const struct sgc_http_header *h, const char *token)
{
	return h != NULL && sg_list_has(h->value, h->value_len, token);
}

bool sgc_http_resp_no_body(const struct sgc_http_resp *r, const char *method)
{
	return (r->status >= 100 && r->status < 200) || r->status == 204 || r->status == 304 ||
	       (method != NULL && strcmp(method, "HEAD") == 0);
}

int sgc_http_chunked_decode(const char *buf, size_t len, size_t max_body, struct sg_buf *out,
			    size_t *consumed, struct sg_err *err)
{
	const char *p = buf, *end = buf + len;

	sg_buf_reset(out);
	for (;;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *c;
		uint64_t size = 0;
		int digits = 0;

		if (eol == NULL)
			return len - (size_t)(p - buf) > 1024 ? sg_err_set(err, "chunk size line too long")
							      : 0;
		for (c = p; c < eol && *c != ';' && *c != '\r'; c++) {
			int d = sg_hex_value(*c);
			if (d < 0)
				return sg_err_set(err, "malformed chunk size");
			if (++digits > 15)
				return sg_err_set(err, "chunk too large");
			size = size * 16 + (uint64_t)d;
		}
		if (digits == 0)
			return sg_err_set(err, "malformed chunk size");
		p = eol + 1;
		if (size == 0) {
			/* trailers until an empty line */
			for (;;) {
				eol = memchr(p, '\n', (size_t)(end - p));
				if (eol == NULL)
					return 0;
				if (eol == p || (eol == p + 1 && *p == '\r')) {
					*consumed = (size_t)(eol + 1 - buf);
					return 1;
				}
				p = eol + 1;
			}
		}
		if (out->len + size > max_body)
			return sg_err_set(err, "response body larger than %zu bytes", max_body);
		if ((uint64_t)(end - p) < size)
			return 0;
		sg_buf_append(out, p, (size_t)size);
		p += size;
		if (end - p < 1)
			return 0;
		if (*p == '\r') {
			if (end - p < 2)
				return 0;
			p++;
		}
		if (*p != '\n')
			return sg_err_set(err, "missing CRLF after a chunk");
		p++;
	}
}
