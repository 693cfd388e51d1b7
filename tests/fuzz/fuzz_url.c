/*
 * fuzz_url.c: libFuzzer driver for the URL parser (src/proto/url.h), which
 * reads the call-out URLs of the configuration and the URLs given to the
 * client library.  Besides memory errors it checks the parser's promises:
 * an accepted URL has a scheme of the mask, a host of at most URL_MAX_HOST
 * bytes and no byte a URL may not hold, a port 1..65535 (the scheme's
 * default when none was written), a path that starts with '/'; a refusal
 * says why and leaves nothing to free; parsing the same text with a wider
 * scheme mask accepts what a narrower one accepted, with the same parts.
 * A broken promise is reported with __builtin_trap().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/url.h"

#define FUZZ_MAX_URL 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void check_accepted(const struct url *u, unsigned schemes);
static void check_same(const struct url *a, const struct url *b);

static void check_accepted(const struct url *u, unsigned schemes)
{
	size_t hl;

	if (!(schemes & (1u << u->scheme)) || u->host == NULL || u->path == NULL)
		__builtin_trap();
	hl = strlen(u->host);
	if (hl == 0 || hl > URL_MAX_HOST || u->port < 1 || u->port > 65535 || u->path[0] != '/')
		__builtin_trap();
	for (const char *p = u->path; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			__builtin_trap();
	if (u->tls != (u->scheme == URL_HTTPS || u->scheme == URL_WSS))
		__builtin_trap();
}

static void check_same(const struct url *a, const struct url *b)
{
	if (a->scheme != b->scheme || a->port != b->port || a->tls != b->tls ||
	    strcmp(a->host, b->host) != 0 || strcmp(a->path, b->path) != 0 ||
	    (a->query == NULL) != (b->query == NULL) ||
	    (a->query != NULL && strcmp(a->query, b->query) != 0))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct url narrow, wide;
	struct sg_err err = { 0 };
	struct sg_buf b;
	char *s;
	int rn, rw;

	if (size > FUZZ_MAX_URL)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rn = url_parse(s, URL_SCHEMES_HTTP, &narrow, &err);
	if (rn != 0 && err.msg[0] == '\0')
		__builtin_trap();
	rw = url_parse(s, URL_SCHEMES_ANY, &wide, &err);
	if (rn == 0) {
		check_accepted(&narrow, URL_SCHEMES_HTTP);
		if (rw != 0)
			__builtin_trap();
		check_same(&narrow, &wide);
		sg_buf_init(&b);
		url_append_host_header(&narrow, &b);
		url_append_target(&narrow, &b);
		sg_buf_fini(&b);
		url_fini(&narrow);
		url_fini(&narrow); /* twice is safe */
	}
	if (rw == 0) {
		check_accepted(&wide, URL_SCHEMES_ANY);
		url_fini(&wide);
	}
	free(s);
	return 0;
}
