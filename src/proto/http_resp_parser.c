/*
 * http_resp_parser.c: the incremental HTTP/1.x response parser of the outgoing
 * HTTP client (see http_resp_parser.h).  It is a state machine over lines
 * (status line, headers, chunk sizes, chunk ends, trailers) and counted runs
 * of body bytes.  Main invariant: r->total, the count of bytes consumed for
 * this response, never exceeds r->max_bytes, and the only buffers that grow
 * (the current line and the body) hold a subset of those bytes, so a server
 * cannot make it allocate more than max_bytes plus the terminating NULs.
 */
#include "proto/http_resp_parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum hr_state {
	HR_STATUS,     /* reading the status line */
	HR_HEADER,     /* reading header lines */
	HR_BODY_LEN,   /* reading r->remaining bytes of a Content-Length body */
	HR_BODY_CLOSE, /* reading a body that ends when the connection closes */
	HR_CHUNK_SIZE, /* reading a chunk-size line */
	HR_CHUNK_DATA, /* reading r->remaining bytes of chunk data */
	HR_CHUNK_END,  /* reading the empty line after chunk data */
	HR_TRAILER,    /* reading trailer lines after the last chunk */
	HR_DONE,       /* complete */
	HR_ERROR,      /* malformed */
	HR_TOO_LARGE,  /* over max_bytes */
};

static enum http_resp_parser_status fail(struct http_resp_parser *r, struct sg_err *err,
					 const char *msg);
static enum http_resp_parser_status too_large(struct http_resp_parser *r, struct sg_err *err);
static enum http_resp_parser_status done(struct http_resp_parser *r);
static void reset_head(struct http_resp_parser *r);
static enum http_resp_parser_status on_line(struct http_resp_parser *r, char *line, size_t len,
					    struct sg_err *err);
static enum http_resp_parser_status on_status_line(struct http_resp_parser *r, const char *line,
						   size_t len, struct sg_err *err);
static enum http_resp_parser_status on_header_line(struct http_resp_parser *r, char *line,
						   size_t len, struct sg_err *err);
static enum http_resp_parser_status on_head_end(struct http_resp_parser *r, struct sg_err *err);
static enum http_resp_parser_status on_chunk_size(struct http_resp_parser *r, const char *line,
						  size_t len, struct sg_err *err);
static bool transfer_encoding_is_chunked(const char *v, size_t len);
static void cache_control(struct http_resp_parser *r, const char *v, size_t len);
static enum http_resp_parser_status current_status(const struct http_resp_parser *r);
static bool is_final(const struct http_resp_parser *r);

void http_resp_parser_init(struct http_resp_parser *r, size_t max_bytes, bool head_request)
{
	memset(r, 0, sizeof(*r));
	sg_buf_init(&r->body);
	sg_buf_init(&r->line);
	r->max_bytes = max_bytes;
	r->head_request = head_request;
	r->state = HR_STATUS;
	reset_head(r);
}

void http_resp_parser_fini(struct http_resp_parser *r)
{
	sg_buf_fini(&r->body);
	sg_buf_fini(&r->line);
	free(r->content_type);
	r->content_type = NULL;
	r->max_age = -1;
}

void http_resp_parser_allow_upgrade(struct http_resp_parser *r)
{
	r->upgrade = true;
}

void http_resp_parser_on_header(struct http_resp_parser *r, http_resp_header_fn fn, void *arg)
{
	r->on_header = fn;
	r->on_header_arg = arg;
}

bool http_resp_parser_started(const struct http_resp_parser *r)
{
	return r->started;
}

static enum http_resp_parser_status fail(struct http_resp_parser *r, struct sg_err *err,
					 const char *msg)
{
	r->state = HR_ERROR;
	sg_err_set(err, "%s", msg);
	return HRESP_ERROR;
}

static enum http_resp_parser_status too_large(struct http_resp_parser *r, struct sg_err *err)
{
	r->state = HR_TOO_LARGE;
	sg_err_set(err, "response larger than %zu bytes", r->max_bytes);
	return HRESP_TOO_LARGE;
}

/* Completes the response; the body is NUL-terminated even when empty. */
static enum http_resp_parser_status done(struct http_resp_parser *r)
{
	sg_buf_reserve(&r->body, 0);
	r->body.data[r->body.len] = '\0';
	r->state = HR_DONE;
	return HRESP_DONE;
}

static enum http_resp_parser_status current_status(const struct http_resp_parser *r)
{
	switch (r->state) {
	case HR_DONE:
		return HRESP_DONE;
	case HR_ERROR:
		return HRESP_ERROR;
	case HR_TOO_LARGE:
		return HRESP_TOO_LARGE;
	default:
		return HRESP_MORE;
	}
}

/* Whether the head being read is the final response's (not an interim 1xx). */
static bool is_final(const struct http_resp_parser *r)
{
	return r->status >= 200 || (r->status == 101 && r->upgrade);
}

/* Forgets what the headers of an interim (1xx) response said. */
static void reset_head(struct http_resp_parser *r)
{
	r->status = 0;
	r->version_minor = 0;
	r->keep_alive = false;
	r->chunked = false;
	r->has_length = false;
	r->conn_close = false;
	r->conn_keep_alive = false;
	r->content_length = -1;
	r->remaining = 0;
	free(r->content_type);
	r->content_type = NULL;
	r->max_age = -1;
}

enum http_resp_parser_status http_resp_parser_feed(struct http_resp_parser *r, const char *data,
						   size_t len, size_t *used, struct sg_err *err)
{
	size_t pos = 0;
	enum http_resp_parser_status st;

	*used = 0;
	st = current_status(r);
	if (st != HRESP_MORE)
		return st;
	if (len > 0)
		r->started = true;
	while (pos < len) {
		size_t avail = len - pos, room = r->max_bytes - r->total;

		switch (r->state) {
		case HR_BODY_LEN:
		case HR_CHUNK_DATA:
		case HR_BODY_CLOSE: {
			size_t n = avail;
			if (r->state != HR_BODY_CLOSE && r->remaining < n)
				n = (size_t)r->remaining;
			if (n > room) {
				*used = pos;
				return too_large(r, err);
			}
			sg_buf_append(&r->body, data + pos, n);
			pos += n;
			r->total += n;
			if (r->state == HR_BODY_CLOSE)
				break;
			r->remaining -= n;
			if (r->remaining == 0) {
				if (r->state == HR_BODY_LEN) {
					*used = pos;
					return done(r);
				}
				r->state = HR_CHUNK_END;
			}
			break;
		}
		default: {
			/* a line-oriented state: accumulate up to and including LF */
			const char *lf = memchr(data + pos, '\n', avail);
			size_t n = lf ? (size_t)(lf - (data + pos)) + 1 : avail;
			if (n > room) {
				*used = pos;
				return too_large(r, err);
			}
			r->total += n;
			if (lf == NULL) {
				sg_buf_append(&r->line, data + pos, n);
				pos += n;
				break;
			}
			sg_buf_append(&r->line, data + pos, n - 1);
			pos += n;
			{
				size_t ll = r->line.len;
				if (ll > 0 && r->line.data[ll - 1] == '\r')
					ll--;
				r->line.data[ll] = '\0';
				st = on_line(r, r->line.data, ll, err);
			}
			sg_buf_reset(&r->line);
			if (st != HRESP_MORE) {
				*used = pos;
				return st;
			}
			break;
		}
		}
	}
	*used = pos;
	return HRESP_MORE;
}

enum http_resp_parser_status http_resp_parser_finish(struct http_resp_parser *r, struct sg_err *err)
{
	switch (r->state) {
	case HR_DONE:
		return HRESP_DONE;
	case HR_BODY_CLOSE:
		return done(r);
	case HR_ERROR:
	case HR_TOO_LARGE:
		return current_status(r);
	default:
		return fail(r, err,
			    r->started ? "connection closed before the end of the response"
				       : "connection closed without a response");
	}
}

static enum http_resp_parser_status on_line(struct http_resp_parser *r, char *line, size_t len,
					    struct sg_err *err)
{
	switch (r->state) {
	case HR_STATUS:
		return on_status_line(r, line, len, err);
	case HR_HEADER:
		if (len == 0)
			return on_head_end(r, err);
		return on_header_line(r, line, len, err);
	case HR_CHUNK_SIZE:
		return on_chunk_size(r, line, len, err);
	case HR_CHUNK_END:
		if (len != 0)
			return fail(r, err, "chunk data longer than its size");
		r->state = HR_CHUNK_SIZE;
		return HRESP_MORE;
	case HR_TRAILER:
		if (len == 0)
			return done(r);
		if (line[0] == ' ' || line[0] == '\t' || memchr(line, ':', len) == NULL)
			return fail(r, err, "malformed trailer line");
		return HRESP_MORE;
	default:
		return fail(r, err, "parser in an impossible state");
	}
}

/* "HTTP/1.x SSS[ reason]" */
static enum http_resp_parser_status on_status_line(struct http_resp_parser *r, const char *line,
						   size_t len, struct sg_err *err)
{
	size_t i;

	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ')
		return fail(r, err, "malformed status line");
	for (i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return fail(r, err, "malformed status code");
	if (len > 12 && line[12] != ' ')
		return fail(r, err, "malformed status line");
	for (i = 12; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(r, err, "control character in the status line");
	}
	r->version_minor = line[7] - '0';
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (r->status < 100)
		return fail(r, err, "status code below 100");
	r->state = HR_HEADER;
	return HRESP_MORE;
}

/* Transfer-Encoding: true when it is exactly one "chunked" (list form and
 * empty elements allowed).  This client asks for no other coding and cannot
 * decode one. */
static bool transfer_encoding_is_chunked(const char *v, size_t len)
{
	const char *p = v, *tok;
	size_t tl, n = 0;

	while (sg_list_next(&p, v + len, &tok, &tl)) {
		if (tl != 7 || strncasecmp(tok, "chunked", 7) != 0)
			return false;
		n++;
	}
	return n == 1;
}

static enum http_resp_parser_status on_header_line(struct http_resp_parser *r, char *line,
						   size_t len, struct sg_err *err)
{
	size_t i, nl, vs, ve;
	const char *name = line, *val;

	if (line[0] == ' ' || line[0] == '\t')
		return fail(r, err, "obsolete header line folding");
	for (i = 0; i < len && line[i] != ':'; i++)
		if (!sg_is_tchar((unsigned char)line[i]))
			return fail(r, err, "malformed header name");
	if (i == len || i == 0)
		return fail(r, err, "malformed header line");
	nl = i;
	vs = i + 1;
	while (vs < len && (line[vs] == ' ' || line[vs] == '\t'))
		vs++;
	ve = len;
	while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
		ve--;
	for (i = vs; i < ve; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(r, err, "control character in a header value");
	}
	val = line + vs;

	if (nl == 14 && strncasecmp(name, "content-length", 14) == 0) {
		int64_t n = 0;
		if (ve == vs)
			return fail(r, err, "empty Content-Length");
		for (i = vs; i < ve; i++) {
			if (line[i] < '0' || line[i] > '9')
				return fail(r, err, "malformed Content-Length");
			if (n > (INT64_MAX - 9) / 10)
				return fail(r, err, "Content-Length too large");
			n = n * 10 + (line[i] - '0');
		}
		if (r->has_length && n != r->content_length)
			return fail(r, err, "conflicting Content-Length headers");
		r->has_length = true;
		r->content_length = n;
	} else if (nl == 17 && strncasecmp(name, "transfer-encoding", 17) == 0) {
		if (r->chunked || !transfer_encoding_is_chunked(val, ve - vs))
			return fail(r, err, "unsupported Transfer-Encoding");
		r->chunked = true;
	} else if (nl == 10 && strncasecmp(name, "connection", 10) == 0) {
		if (sg_list_has(val, ve - vs, "close"))
			r->conn_close = true;
		if (sg_list_has(val, ve - vs, "keep-alive"))
			r->conn_keep_alive = true;
	} else if (nl == 12 && strncasecmp(name, "content-type", 12) == 0) {
		if (r->content_type == NULL)
			r->content_type = sg_strndup(val, ve - vs);
	} else if (nl == 13 && strncasecmp(name, "cache-control", 13) == 0) {
		cache_control(r, val, (size_t)(ve - vs));
	}
	if (r->on_header != NULL && is_final(r))
		r->on_header(r->on_header_arg, name, nl, val, ve - vs);
	return HRESP_MORE;
}

static void cache_control(struct http_resp_parser *r, const char *v, size_t len)
{
	r->max_age = http_cache_max_age(v, len, r->max_age);
}

int64_t http_cache_max_age(const char *v, size_t len, int64_t max_age)
{
	size_t i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if ((end - start == 8 && strncasecmp(v + start, "no-store", 8) == 0) ||
		    (end - start == 8 && strncasecmp(v + start, "no-cache", 8) == 0)) {
			max_age = 0;
		} else if (end - start > 8 && strncasecmp(v + start, "max-age=", 8) == 0) {
			int64_t n = 0;
			size_t k = start + 8;
			if (k < end && v[k] == '"')
				k++;
			if (k >= end || v[k] < '0' || v[k] > '9')
				continue;
			/* huge values saturate at 10^12 s, beyond any use */
			for (; k < end && v[k] >= '0' && v[k] <= '9'; k++)
				if (n < INT64_C(1000000000000))
					n = n * 10 + (v[k] - '0');
			if (n > INT64_C(1000000000000))
				n = INT64_C(1000000000000);
			if (max_age != 0)
				max_age = n;
		}
	}
	return max_age;
}

static enum http_resp_parser_status on_head_end(struct http_resp_parser *r, struct sg_err *err)
{
	if (r->status == 101 && r->upgrade) {
		/* what follows the head is the new protocol's */
		r->keep_alive = false;
		return done(r);
	}
	if (r->status < 200) {
		if (r->status == 101)
			return fail(r, err, "unexpected 101 Switching Protocols");
		/* an interim response: the final one follows */
		reset_head(r);
		r->state = HR_STATUS;
		return HRESP_MORE;
	}
	if (r->version_minor >= 1)
		r->keep_alive = !r->conn_close;
	else
		r->keep_alive = r->conn_keep_alive && !r->conn_close;
	if (r->head_request || r->status == 204 || r->status == 304)
		return done(r);
	if (r->chunked) {
		/* RFC 9112 6.3: Transfer-Encoding overrides Content-Length, and
		 * such a message must not be trusted to leave the connection in
		 * a known state */
		if (r->has_length)
			r->keep_alive = false;
		r->state = HR_CHUNK_SIZE;
		return HRESP_MORE;
	}
	if (r->has_length) {
		if ((uint64_t)r->content_length > r->max_bytes - r->total)
			return too_large(r, err);
		if (r->content_length == 0)
			return done(r);
		sg_buf_reserve(&r->body, (size_t)r->content_length);
		r->remaining = (uint64_t)r->content_length;
		r->state = HR_BODY_LEN;
		return HRESP_MORE;
	}
	r->keep_alive = false;
	r->state = HR_BODY_CLOSE;
	return HRESP_MORE;
}

/* chunk-size [ BWS ] [ ";" chunk-ext ] */
static enum http_resp_parser_status on_chunk_size(struct http_resp_parser *r, const char *line,
						  size_t len, struct sg_err *err)
{
	uint64_t n = 0;
	size_t i = 0;

	for (; i < len; i++) {
		char c = line[i];
		int d = sg_hex_value(c);
		if (d < 0)
			break;
		if (n > (UINT64_MAX >> 4))
			return fail(r, err, "chunk size too large");
		n = (n << 4) | (uint64_t)d;
	}
	if (i == 0)
		return fail(r, err, "malformed chunk size");
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] != ';')
		return fail(r, err, "malformed chunk size");
	for (; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(r, err, "control character in a chunk extension");
	}
	if (n == 0) {
		r->state = HR_TRAILER;
		return HRESP_MORE;
	}
	if (n > r->max_bytes - r->total)
		return too_large(r, err);
	r->remaining = n;
	r->state = HR_CHUNK_DATA;
	return HRESP_MORE;
}
