/*
 * http.c: the HTTP/1.x request-head parser and the query-string helpers.  It
 * owns no memory: a parsed request only borrows the caller's buffer, and each
 * call re-reads that buffer from its first byte, so the result depends only on
 * the bytes given (feeding a head whole or byte by byte gives the same
 * answer).  Strictness follows RFC 9112 and Node's llhttp where they agree:
 * anything that could let two parsers disagree about where a message ends
 * (duplicate Content-Length, Content-Length with Transfer-Encoding, obs-fold,
 * bare CR, whitespace before ':') is refused.
 */
#include "proto/http.h"

#include <string.h>
#include <strings.h>

static int fail(int *status, int code, struct sg_err *err, const char *msg);
static int need_more(size_t len, size_t max_head, int *status, struct sg_err *err);
static bool find_line(const char *buf, size_t len, size_t pos, size_t *end, size_t *next);
static bool is_ows(char c);
static bool name_is(const struct http_header *h, const char *name);
static int parse_request_line(const char *l, size_t ll, struct http_request *req, int *status,
			      struct sg_err *err);
static int parse_header_line(const char *l, size_t ll, struct http_request *req, int *status,
			     struct sg_err *err);
static int check_framing(struct http_request *req, int *status, struct sg_err *err);
static int check_transfer_encoding(struct http_request *req, int *status, struct sg_err *err);
static int query_check(const char *q, size_t n);
static void query_decode(struct sg_buf *out, const char *s, size_t n);

static int fail(int *status, int code, struct sg_err *err, const char *msg)
{
	*status = code;
	return sg_err_set(err, "%s", msg);
}

/* The head is incomplete: wait for more bytes unless it can no longer fit. */
static int need_more(size_t len, size_t max_head, int *status, struct sg_err *err)
{
	if (len >= max_head)
		return fail(status, 431, err, "request head too large");
	return 0;
}

/* Finds the line starting at pos: *end is where its content ends (before
 * CRLF or LF), *next where the following line starts.  False when no LF yet. */
static bool find_line(const char *buf, size_t len, size_t pos, size_t *end, size_t *next)
{
	const char *nl = memchr(buf + pos, '\n', len - pos);
	size_t at;

	if (nl == NULL)
		return false;
	at = (size_t)(nl - buf);
	*next = at + 1;
	*end = (at > pos && buf[at - 1] == '\r') ? at - 1 : at;
	return true;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool name_is(const struct http_header *h, const char *name)
{
	size_t n = strlen(name);

	return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

int http_request_parse(const char *buf, size_t len, size_t max_head, struct http_request *req,
		       int *status, struct sg_err *err)
{
	size_t pos = 0, end, next;
	int dummy;

	if (status == NULL)
		status = &dummy;
	req->n_headers = 0;
	req->head_len = 0;
	req->content_length = -1;
	req->chunked = false;
	req->keep_alive = false;

	/* Leading empty lines are skipped (RFC 9112 section 2.2, llhttp). */
	for (;;) {
		if (pos >= len)
			return need_more(len, max_head, status, err);
		if (buf[pos] == '\n') {
			pos++;
		} else if (buf[pos] == '\r') {
			if (pos + 1 >= len)
				return need_more(len, max_head, status, err);
			if (buf[pos + 1] != '\n')
				return fail(status, 400, err, "bare CR before request line");
			pos += 2;
		} else {
			break;
		}
		if (pos > max_head)
			return fail(status, 431, err, "request head too large");
	}

	if (!find_line(buf, len, pos, &end, &next))
		return need_more(len, max_head, status, err);
	if (next > max_head)
		return fail(status, 431, err, "request head too large");
	if (parse_request_line(buf + pos, end - pos, req, status, err) < 0)
		return -1;
	pos = next;

	for (;;) {
		if (!find_line(buf, len, pos, &end, &next))
			return need_more(len, max_head, status, err);
		if (next > max_head)
			return fail(status, 431, err, "request head too large");
		if (end == pos) {
			pos = next;
			break;
		}
		if (parse_header_line(buf + pos, end - pos, req, status, err) < 0)
			return -1;
		pos = next;
	}
	req->head_len = pos;
	if (check_framing(req, status, err) < 0)
		return -1;
	return 1;
}

static int parse_request_line(const char *l, size_t ll, struct http_request *req, int *status,
			      struct sg_err *err)
{
	size_t i, t;
	const char *v, *q;

	for (i = 0; i < ll && l[i] != ' '; i++) {
		if (!sg_is_tchar((unsigned char)l[i]))
			return fail(status, 400, err, "invalid character in method");
	}
	if (i == 0 || i == ll)
		return fail(status, 400, err, "malformed request line");
	req->method = l;
	req->method_len = i;

	t = i + 1;
	for (i = t; i < ll && l[i] != ' '; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c < 0x21 || c == 0x7f)
			return fail(status, 400, err, "invalid character in request target");
	}
	if (i == t || i == ll)
		return fail(status, 400, err, "malformed request line");
	req->target = l + t;
	req->target_len = i - t;
	q = memchr(req->target, '?', req->target_len);
	req->path = req->target;
	if (q != NULL) {
		req->path_len = (size_t)(q - req->target);
		req->query = q + 1;
		req->query_len = req->target_len - req->path_len - 1;
	} else {
		req->path_len = req->target_len;
		req->query = req->target + req->target_len;
		req->query_len = 0;
	}

	v = l + i + 1;
	if (ll - i - 1 != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9')
		return fail(status, 400, err, "malformed HTTP version");
	if (v[5] != '1' || v[7] > '1')
		return fail(status, 505, err, "unsupported HTTP version");
	req->version_minor = v[7] - '0';
	return 0;
}

static int parse_header_line(const char *l, size_t ll, struct http_request *req, int *status,
			     struct sg_err *err)
{
	struct http_header *h;
	size_t i, colon, vs, ve;

	if (is_ows(l[0]))
		return fail(status, 400, err, "obs-fold or whitespace at start of header line");
	for (i = 0; i < ll && l[i] != ':'; i++) {
		unsigned char c = (unsigned char)l[i];

		if (is_ows((char)c))
			return fail(status, 400, err, "whitespace before ':' in header");
		if (!sg_is_tchar(c))
			return fail(status, 400, err, "invalid character in header name");
	}
	if (i == ll)
		return fail(status, 400, err, "header line without ':'");
	if (i == 0)
		return fail(status, 400, err, "empty header name");
	colon = i;
	vs = colon + 1;
	ve = ll;
	while (vs < ve && is_ows(l[vs]))
		vs++;
	while (ve > vs && is_ows(l[ve - 1]))
		ve--;
	for (i = vs; i < ve; i++) {
		unsigned char c = (unsigned char)l[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(status, 400, err, "control character in header value");
	}
	if (req->n_headers == HTTP_MAX_HEADERS)
		return fail(status, 431, err, "too many header lines");
	h = &req->headers[req->n_headers++];
	h->name = l;
	h->name_len = colon;
	h->value = l + vs;
	h->value_len = ve - vs;

	if (name_is(h, "content-length")) {
		int64_t n = 0;

		if (req->content_length >= 0)
			return fail(status, 400, err, "duplicate Content-Length");
		if (h->value_len == 0)
			return fail(status, 400, err, "empty Content-Length");
		for (i = 0; i < h->value_len; i++) {
			char c = h->value[i];

			if (c < '0' || c > '9')
				return fail(status, 400, err, "invalid Content-Length");
			if (n > (INT64_MAX - (c - '0')) / 10)
				return fail(status, 400, err, "Content-Length too large");
			n = n * 10 + (c - '0');
		}
		req->content_length = n;
	}
	return 0;
}

/* Checks the head as a whole once the blank line is seen: Host, body framing,
 * and the keep-alive decision. */
static int check_framing(struct http_request *req, int *status, struct sg_err *err)
{
	size_t i, hosts = 0;
	bool te = false, conn_close = false, conn_keep = false;

	for (i = 0; i < req->n_headers; i++) {
		const struct http_header *h = &req->headers[i];

		if (name_is(h, "host")) {
			hosts++;
		} else if (name_is(h, "transfer-encoding")) {
			te = true;
		} else if (name_is(h, "connection")) {
			conn_close |= http_header_has_token(h, "close");
			conn_keep |= http_header_has_token(h, "keep-alive");
		}
	}
	if (req->version_minor == 1 && hosts == 0)
		return fail(status, 400, err, "missing Host header");
	if (hosts > 1)
		return fail(status, 400, err, "duplicate Host header");
	if (te) {
		if (req->content_length >= 0)
			return fail(status, 400, err, "both Content-Length and Transfer-Encoding");
		if (req->version_minor == 0)
			return fail(status, 400, err, "Transfer-Encoding in an HTTP/1.0 request");
		if (check_transfer_encoding(req, status, err) < 0)
			return -1;
	}
	req->keep_alive = req->version_minor == 1 ? !conn_close : (conn_keep && !conn_close);
	return 0;
}

/* RFC 9112 section 6: chunked must be the final coding and appear once (else
 * 400); siogate decodes no other coding (501). */
static int check_transfer_encoding(struct http_request *req, int *status, struct sg_err *err)
{
	size_t i, codings = 0, chunked = 0;
	bool last_chunked = false;

	for (i = 0; i < req->n_headers; i++) {
		const struct http_header *h = &req->headers[i];
		const char *p = h->value, *tok;
		size_t tl;

		if (!name_is(h, "transfer-encoding"))
			continue;
		while (sg_list_next(&p, h->value + h->value_len, &tok, &tl)) {
			codings++;
			last_chunked = tl == 7 && strncasecmp(tok, "chunked", 7) == 0;
			if (last_chunked)
				chunked++;
		}
	}
	if (codings == 0)
		return fail(status, 400, err, "empty Transfer-Encoding");
	if (!last_chunked)
		return fail(status, 400, err, "chunked is not the final transfer coding");
	if (chunked > 1)
		return fail(status, 400, err, "chunked applied more than once");
	if (codings > 1)
		return fail(status, 501, err, "unsupported transfer coding");
	req->chunked = true;
	return 0;
}

const struct http_header *http_request_header(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->n_headers; i++) {
		if (name_is(&req->headers[i], name))
			return &req->headers[i];
	}
	return NULL;
}

bool http_header_has_token(const struct http_header *h, const char *token)
{
	return h != NULL && sg_list_has(h->value, h->value_len, token);
}

/* 0 when every '%' in q[0..n) starts a valid %XX, else -1. */
static int query_check(const char *q, size_t n)
{
	const char *p = q, *e = q + n;

	while ((p = memchr(p, '%', (size_t)(e - p))) != NULL) {
		if (e - p < 3 || sg_hex_value(p[1]) < 0 || sg_hex_value(p[2]) < 0)
			return -1;
		p += 3;
	}
	return 0;
}

/* Appends the decoded s[0..n) (already checked by query_check) to out. */
static void query_decode(struct sg_buf *out, const char *s, size_t n)
{
	size_t i;

	sg_buf_reserve(out, n);
	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			sg_buf_append_char(out, ' ');
		} else if (s[i] == '%') {
			int byte = sg_hex_value(s[i + 1]) << 4 | sg_hex_value(s[i + 2]);

			sg_buf_append_char(out, (char)byte);
			i += 2;
		} else {
			sg_buf_append_char(out, s[i]);
		}
	}
	sg_buf_append(out, "", 0);
}

int http_path_decode(const char *s, size_t n, struct sg_buf *out)
{
	size_t start = out->len;
	int byte;

	sg_buf_reserve(out, n);
	for (size_t i = 0; i < n; i++) {
		byte = (unsigned char)s[i];
		if (byte == '%') {
			if (n - i < 3 || sg_hex_value(s[i + 1]) < 0 || sg_hex_value(s[i + 2]) < 0)
				goto bad;
			byte = sg_hex_value(s[i + 1]) << 4 | sg_hex_value(s[i + 2]);
			i += 2;
		}
		if (byte == 0)
			goto bad;
		sg_buf_append_char(out, (char)byte);
	}
	return 0;
bad:
	out->len = start;
	out->data[start] = '\0';
	return -1;
}

int http_query_get(const char *query, size_t query_len, const char *name, struct sg_buf *out)
{
	const char *p = query, *e = query + query_len;
	struct sg_buf key;
	int found = 0;

	if (query_check(query, query_len) < 0)
		return -1;
	sg_buf_init(&key);
	while (p < e) {
		const char *amp = memchr(p, '&', (size_t)(e - p));
		const char *se = amp ? amp : e, *eq;

		if (se > p) {
			eq = memchr(p, '=', (size_t)(se - p));
			sg_buf_reset(&key);
			query_decode(&key, p, (size_t)((eq ? eq : se) - p));
			if (key.len == strlen(name) && memcmp(key.data, name, key.len) == 0) {
				if (eq != NULL)
					query_decode(out, eq + 1, (size_t)(se - eq - 1));
				else
					sg_buf_append(out, "", 0);
				found = 1;
				break;
			}
		}
		p = amp ? amp + 1 : e;
	}
	sg_buf_fini(&key);
	return found;
}

int http_query_foreach(const char *query, size_t query_len,
		       int (*cb)(const char *k, size_t kl, const char *v, size_t vl, void *arg),
		       void *arg)
{
	const char *p = query, *e = query + query_len;
	struct sg_buf key, val;
	int rc = 0;

	if (query_check(query, query_len) < 0)
		return -1;
	sg_buf_init(&key);
	sg_buf_init(&val);
	while (p < e && rc == 0) {
		const char *amp = memchr(p, '&', (size_t)(e - p));
		const char *se = amp ? amp : e, *eq;

		if (se > p) {
			eq = memchr(p, '=', (size_t)(se - p));
			sg_buf_reset(&key);
			sg_buf_reset(&val);
			query_decode(&key, p, (size_t)((eq ? eq : se) - p));
			if (eq != NULL)
				query_decode(&val, eq + 1, (size_t)(se - eq - 1));
			else
				sg_buf_append(&val, "", 0);
			rc = cb(key.data, key.len, val.data, val.len, arg);
		}
		p = amp ? amp + 1 : e;
	}
	sg_buf_fini(&key);
	sg_buf_fini(&val);
	return rc;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 417:
		return "Expectation Failed";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

enum http_expect http_request_expect(const struct http_request *req)
{
	bool any = false;

	if (req->version_minor == 0)
		return HTTP_EXPECT_NONE;
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct http_header *h = &req->headers[i];

		if (!name_is(h, "expect"))
			continue;
		any = true;
		if (http_header_has_token(h, "100-continue"))
			return HTTP_EXPECT_CONTINUE;
	}
	return any ? HTTP_EXPECT_UNKNOWN : HTTP_EXPECT_NONE;
}

/* A field line of the trailer section l[0..ll): token ':' value without
 * control characters (HTAB allowed), no whitespace before ':'. */
static bool trailer_line_ok(const char *l, size_t ll)
{
	size_t i = 0;

	while (i < ll && sg_is_tchar((unsigned char)l[i]))
		i++;
	if (i == 0 || i == ll || l[i] != ':')
		return false;
	for (i++; i < ll; i++) {
		unsigned char c = (unsigned char)l[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* The line at buf[at..): 1 with *end (its CR) when CRLF is there, 0 when
 * not yet (and every byte so far may belong to a line of at most max), -1
 * for a bare CR or LF, a control character, or a line over max. */
static int chunk_line(const char *buf, size_t len, size_t at, size_t max, size_t *end)
{
	for (size_t i = at; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (i - at > max)
			return -1;
		if (c == '\r') {
			if (i + 1 == len)
				return 0;
			if (buf[i + 1] != '\n')
				return -1;
			*end = i;
			return 1;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	return len - at > max ? -1 : 0;
}

/* The size and extensions of a size line l[0..ll). */
static int chunk_size(const char *l, size_t ll, uint64_t *size)
{
	size_t i = 0;
	uint64_t v = 0;

	for (; i < ll && sg_hex_value(l[i]) >= 0; i++) {
		if (i == 16)
			return -1;
		v = v << 4 | (uint64_t)sg_hex_value(l[i]);
	}
	if (i == 0)
		return -1;
	while (i < ll && is_ows(l[i]))
		i++;
	if (i < ll && l[i] != ';')
		return -1; /* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ) */
	*size = v;
	return 0;
}

int http_chunked_scan(struct http_chunked *st, const char *buf, size_t len, uint64_t max_body,
		      int *status, struct sg_err *err)
{
	size_t data;
	int dummy;

	if (status == NULL)
		status = &dummy;
	for (;;) {
		size_t at = (size_t)st->pos, end;
		uint64_t n;
		int rc;

		if (st->pos - st->size > HTTP_CHUNKED_MAX_OVERHEAD)
			return fail(status, 413, err, "chunked framing too large");
		rc = chunk_line(buf, len, at, HTTP_CHUNK_LINE_MAX, &end);
		if (rc < 0)
			return fail(status, 400, err, "malformed chunk size line");
		if (rc == 0) {
			/* what arrived must still be able to become a size line */
			if (at < len && sg_hex_value(buf[at]) < 0)
				return fail(status, 400, err, "malformed chunk size line");
			return 0;
		}
		if (chunk_size(buf + at, end - at, &n) != 0)
			return fail(status, 400, err, "malformed chunk size line");
		data = end + 2;
		if (n == 0)
			break;
		if (n > max_body - st->size)
			return fail(status, 413, err, "chunked body over the payload limit");
		if (len - data < n + 2)
			return 0;
		if (buf[data + n] != '\r' || buf[data + n + 1] != '\n')
			return fail(status, 400, err, "chunk data not followed by CRLF");
		st->size += n;
		st->pos = data + n + 2;
	}
	/* the last chunk: trailer lines, then an empty line */
	for (size_t t = data;;) {
		size_t e;
		int rc = chunk_line(buf, len, t, HTTP_CHUNKED_MAX_OVERHEAD, &e);

		if (rc < 0)
			return fail(status, 400, err, "malformed chunked trailer");
		if ((rc == 0 ? len : e + 2) - st->size > HTTP_CHUNKED_MAX_OVERHEAD)
			return fail(status, 413, err, "chunked framing too large");
		if (rc == 0)
			return 0;
		if (e == t) {
			st->pos = e + 2;
			return 1;
		}
		if (!trailer_line_ok(buf + t, e - t))
			return fail(status, 400, err, "malformed chunked trailer");
		t = e + 2;
	}
}

size_t http_chunked_decode(char *buf, size_t raw_len)
{
	size_t at = 0, out = 0;

	while (at < raw_len) {
		uint64_t n = 0;
		const char *lf;

		for (; sg_hex_value(buf[at]) >= 0; at++)
			n = n << 4 | (uint64_t)sg_hex_value(buf[at]);
		lf = memchr(buf + at, '\n', raw_len - at);
		at = (size_t)(lf - buf) + 1;
		if (n == 0)
			break;
		memmove(buf + out, buf + at, (size_t)n);
		out += (size_t)n;
		at += (size_t)n + 2;
	}
	return out;
}
