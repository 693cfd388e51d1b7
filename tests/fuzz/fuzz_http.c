/*
 * fuzz_http.c: libFuzzer driver for the HTTP request-head parser and the
 * query-string helpers (src/proto/http.h).  The input is the raw bytes a client
 * sent.  Besides looking for memory errors it checks the parser's own
 * promises: the result depends only on the bytes given, so over the prefixes
 * of a short input the answers go 0...0 and then stay 1 (with one head_len)
 * or stay -1; every borrowed pointer lies inside the head; header lookup
 * finds the first match; and http_query_get agrees with http_query_foreach.
 * A chunked request's body (the bytes after the head) is scanned too: the
 * scan's answer does not depend on how the bytes arrive (whole, or one more
 * byte per call into the same state), a complete body decodes to the length
 * the scan found, within the payload limit, and the framing bound holds.
 * A broken promise is reported with __builtin_trap().  No state survives a
 * call, so runs are deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

#define FUZZ_MAX_HEAD 8192  /* siogate's default head limit is of this order */
#define FUZZ_SMALL_HEAD 256 /* exercises the 431 path in the prefix walk */
#define FUZZ_PREFIX_MAX 512 /* inputs shorter than this are also fed prefix by prefix */
#define FUZZ_MAX_PAIRS 64   /* query pairs whose lookup is cross-checked */

struct query_pair {
	char *key;
	char *val;
	size_t vl;
};

struct query_walk {
	struct query_pair pairs[FUZZ_MAX_PAIRS];
	size_t n;
	size_t calls;
	size_t stop_at; /* callback returns 7 on this call (1-based); 0: never */
	unsigned sum;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void touch(const char *p, size_t n, unsigned *sum);
static void check_inside(const char *buf, size_t head_len, const char *p, size_t n);
static void check_request(const char *buf, const struct http_request *req);
static void check_prefixes(const char *buf, size_t len, int full_rc, size_t full_head_len);
static void check_query(const char *q, size_t qn);
static int collect_pair(const char *k, size_t kl, const char *v, size_t vl, void *arg);

/* Reads every byte so that ASan sees a pointer that strays outside its buffer. */
static void touch(const char *p, size_t n, unsigned *sum)
{
	size_t i;

	for (i = 0; i < n; i++)
		*sum += (unsigned char)p[i];
}

/* A borrowed span must lie inside the parsed head. */
static void check_inside(const char *buf, size_t head_len, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (p < buf || p + n > buf + head_len)
		__builtin_trap();
}

static void check_request(const char *buf, const struct http_request *req)
{
	static const char *const names[] = {
		"host",		 "connection",	   "upgrade",		"sec-websocket-key",
		"content-type",	 "content-length", "transfer-encoding", "origin",
		"authorization", "x-absent",
	};
	static const char *const tokens[] = {
		"upgrade", "keep-alive", "close", "websocket", "chunked", "gzip",
	};
	unsigned sum = 0;
	size_t i, j;

	if (req->head_len == 0 || req->n_headers > HTTP_MAX_HEADERS)
		__builtin_trap();
	if (req->version_minor != 0 && req->version_minor != 1)
		__builtin_trap();
	check_inside(buf, req->head_len, req->method, req->method_len);
	check_inside(buf, req->head_len, req->target, req->target_len);
	check_inside(buf, req->head_len, req->path, req->path_len);
	check_inside(buf, req->head_len, req->query, req->query_len);
	if (req->method_len == 0 || req->target_len == 0)
		__builtin_trap();
	if (req->path_len + (req->query_len ? req->query_len + 1 : 0) > req->target_len)
		__builtin_trap();
	touch(req->method, req->method_len, &sum);
	touch(req->target, req->target_len, &sum);
	for (i = 0; i < req->n_headers; i++) {
		const struct http_header *h = &req->headers[i], *f;
		char name[FUZZ_MAX_HEAD + 1];

		check_inside(buf, req->head_len, h->name, h->name_len);
		check_inside(buf, req->head_len, h->value, h->value_len);
		touch(h->name, h->name_len, &sum);
		touch(h->value, h->value_len, &sum);
		if (h->name_len == 0 || h->name_len > FUZZ_MAX_HEAD)
			__builtin_trap();
		if (h->value_len > 0 &&
		    (h->value[0] == ' ' || h->value[0] == '\t' ||
		     h->value[h->value_len - 1] == ' ' || h->value[h->value_len - 1] == '\t'))
			__builtin_trap();
		/* Lookup by this header's own name finds it or an earlier one. */
		memcpy(name, h->name, h->name_len);
		name[h->name_len] = '\0';
		f = http_request_header(req, name);
		if (f == NULL || f > h || f < req->headers)
			__builtin_trap();
		for (j = 0; j < SG_ARRAY_LEN(tokens); j++)
			sum += http_header_has_token(h, tokens[j]);
	}
	for (i = 0; i < SG_ARRAY_LEN(names); i++) {
		const struct http_header *h = http_request_header(req, names[i]);

		for (j = 0; j < SG_ARRAY_LEN(tokens); j++)
			sum += http_header_has_token(h, tokens[j]);
	}
	if (http_header_has_token(NULL, "upgrade"))
		__builtin_trap();
	if (req->query_len > 0)
		check_query(req->query, req->query_len);
	/* Also the whole target, which may hold '&', '=', '%' in the path. */
	check_query(req->target, req->target_len);
	if (sum == 0xdeadbeef) /* keeps the reads alive */
		abort();
}

static int collect_pair(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct query_walk *w = arg;

	w->calls++;
	/* Copies are NUL-terminated at their stated length. */
	if (k[kl] != '\0' || v[vl] != '\0')
		__builtin_trap();
	touch(k, kl, &w->sum);
	touch(v, vl, &w->sum);
	if (w->n < FUZZ_MAX_PAIRS) {
		struct query_pair *p = &w->pairs[w->n++];

		/* A key holding a decoded NUL cannot be looked up by name. */
		p->key = memchr(k, '\0', kl) ? NULL : sg_strndup(k, kl);
		p->val = sg_malloc(vl + 1);
		memcpy(p->val, v, vl + 1);
		p->vl = vl;
	}
	return w->calls == w->stop_at ? 7 : 0;
}

static void check_query(const char *q, size_t qn)
{
	static const char *const keys[] = { "EIO", "transport", "sid", "t", "token", "" };
	struct query_walk w;
	struct sg_buf out;
	int rc, rc2;
	size_t i, j;

	memset(&w, 0, sizeof(w));
	rc = http_query_foreach(q, qn, collect_pair, &w);
	if (rc != 0 && rc != -1)
		__builtin_trap();
	if (rc == -1 && w.calls != 0) /* bad %-encoding is refused before any call */
		__builtin_trap();

	sg_buf_init(&out);
	for (i = 0; i < SG_ARRAY_LEN(keys); i++) {
		sg_buf_reset(&out);
		rc2 = http_query_get(q, qn, keys[i], &out);
		if (rc == -1 ? rc2 != -1 : rc2 == -1)
			__builtin_trap();
		if (rc2 == -1 && out.len != 0)
			__builtin_trap();
	}
	/* The first pair with a given key is what http_query_get returns. */
	for (i = 0; i < w.n; i++) {
		if (w.pairs[i].key == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if (w.pairs[j].key != NULL && strcmp(w.pairs[j].key, w.pairs[i].key) == 0)
				break;
		}
		if (j < i)
			continue;
		sg_buf_reset(&out);
		if (http_query_get(q, qn, w.pairs[i].key, &out) != 1)
			__builtin_trap();
		if (out.len != w.pairs[i].vl || memcmp(out.data, w.pairs[i].val, out.len) != 0)
			__builtin_trap();
	}
	sg_buf_fini(&out);

	/* A non-zero callback value stops the walk and is returned as is. */
	if (rc == 0 && w.calls > 0) {
		struct query_walk w2;

		memset(&w2, 0, sizeof(w2));
		w2.stop_at = (w.calls + 1) / 2;
		if (http_query_foreach(q, qn, collect_pair, &w2) != 7 || w2.calls != w2.stop_at)
			__builtin_trap();
		for (i = 0; i < w2.n; i++) {
			free(w2.pairs[i].key);
			free(w2.pairs[i].val);
		}
	}
	for (i = 0; i < w.n; i++) {
		free(w.pairs[i].key);
		free(w.pairs[i].val);
	}
}

/* Feeds buf[0..p) for every p: the answers must be 0 up to some point, then
 * either 1 with a fixed head_len or -1 (errors are final).  A head complete
 * within the small limit is the same head under the large one. */
static void check_prefixes(const char *buf, size_t len, int full_rc, size_t full_head_len)
{
	struct http_request req;
	struct sg_err err;
	size_t p, head_len = 0;
	int prev = 0;

	for (p = 0; p <= len; p++) {
		int status = 0, rc;

		rc = http_request_parse(buf, p, FUZZ_SMALL_HEAD, &req, &status, &err);
		if (rc == 1) {
			if (prev == -1 || (prev == 1 && req.head_len != head_len))
				__builtin_trap();
			if (req.head_len > p || req.head_len > FUZZ_SMALL_HEAD)
				__builtin_trap();
			head_len = req.head_len;
		} else if (rc == -1) {
			if (prev == 1)
				__builtin_trap();
			if (status != 400 && status != 431 && status != 501 && status != 505)
				__builtin_trap();
		} else if (rc != 0 || prev != 0) {
			__builtin_trap();
		}
		prev = rc;
	}
	if (prev == 1 && (full_rc != 1 || full_head_len != head_len))
		__builtin_trap();
	if (prev == 0 && full_rc == -1 && len < FUZZ_SMALL_HEAD)
		__builtin_trap();
}

#define FUZZ_MAX_BODY 4096

/* The chunked body body[0..n): whole, then one byte more per call. */
static void check_chunked(const char *body, size_t n)
{
	struct http_chunked st, inc;
	int status = 0, rc, r = 0;
	size_t k;

	memset(&st, 0, sizeof(st));
	rc = http_chunked_scan(&st, body, n, FUZZ_MAX_BODY, &status, NULL);
	if (rc == 1) {
		char *copy;

		if (st.pos > n || st.size > FUZZ_MAX_BODY || st.size > st.pos ||
		    st.pos - st.size > HTTP_CHUNKED_MAX_OVERHEAD + HTTP_CHUNK_LINE_MAX)
			__builtin_trap();
		copy = malloc(st.pos);
		memcpy(copy, body, st.pos);
		if (http_chunked_decode(copy, st.pos) != st.size)
			__builtin_trap();
		free(copy);
	} else if (rc == -1) {
		if (status != 400 && status != 413)
			__builtin_trap();
	} else if (rc != 0) {
		__builtin_trap();
	}
	if (n >= FUZZ_PREFIX_MAX)
		return;
	memset(&inc, 0, sizeof(inc));
	for (k = 0; k <= n && r == 0; k++)
		r = http_chunked_scan(&inc, body, k, FUZZ_MAX_BODY, &status, NULL);
	if (r != rc || (r == 1 && (inc.pos != st.pos || inc.size != st.size)))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_request req;
	struct sg_err err;
	int status = 0, rc;

	rc = http_request_parse(buf, size, FUZZ_MAX_HEAD, &req, &status, &err);
	if (rc == 1) {
		if (req.head_len > size || req.head_len > FUZZ_MAX_HEAD)
			__builtin_trap();
		check_request(buf, &req);
		(void)http_request_expect(&req);
		if (req.chunked)
			check_chunked(buf + req.head_len, size - req.head_len);
	} else if (rc == -1) {
		if (http_status_text(status)[0] == '\0' || err.msg[0] == '\0')
			__builtin_trap();
	} else if (rc != 0) {
		__builtin_trap();
	}
	/* err may be NULL. */
	if (http_request_parse(buf, size, FUZZ_MAX_HEAD, &req, &status, NULL) != rc)
		__builtin_trap();
	if (size < FUZZ_PREFIX_MAX)
		check_prefixes(buf, size, rc, rc == 1 ? req.head_len : 0);
	return 0;
}
