/*
 * cors.c: CORS answers (see cors.h), following what the Node server's cors
 * middleware sends: "*" without credentials, the request's origin echoed
 * with Vary: Origin otherwise.  Header values copied from the request are
 * checked to hold only visible ASCII so they cannot split the answer.
 */
#include "proto/cors.h"

#include <string.h>

#include "proto/http.h"

static bool visible_ascii(const char *s, size_t len);

bool cors_enabled(const struct cors_policy *p)
{
	return p->origins.n > 0;
}

static bool visible_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

int cors_headers(const struct cors_policy *p, const struct http_request *req, struct sg_buf *out)
{
	const struct sg_strv *origins = &p->origins;
	const struct http_header *o = http_request_header(req, "origin");
	bool any = sg_strv_contains(origins, "*");
	bool creds = p->credentials;
	bool listed = false;

	if (origins->n == 0)
		return 0;
	if (o != NULL && !visible_ascii(o->value, o->value_len))
		return -1;
	if (o != NULL) {
		for (size_t i = 0; i < origins->n; i++)
			if (strlen(origins->v[i]) == o->value_len &&
			    memcmp(origins->v[i], o->value, o->value_len) == 0)
				listed = true;
		if (!listed && !any)
			return -1;
	}
	if (any && !creds) {
		sg_buf_append_str(out, "Access-Control-Allow-Origin: *\r\n");
		return 0;
	}
	if (o != NULL) {
		sg_buf_append_str(out, "Access-Control-Allow-Origin: ");
		sg_buf_append(out, o->value, o->value_len);
		sg_buf_append_str(out, "\r\n");
	} else if (!any && origins->n == 1) {
		sg_buf_printf(out, "Access-Control-Allow-Origin: %s\r\n", origins->v[0]);
	}
	sg_buf_append_str(out, "Vary: Origin\r\n");
	if (creds)
		sg_buf_append_str(out, "Access-Control-Allow-Credentials: true\r\n");
	return 0;
}

void cors_preflight_headers(const struct http_request *req, struct sg_buf *out)
{
	const struct http_header *h = http_request_header(req, "access-control-request-headers");

	sg_buf_append_str(out, "Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE\r\n");
	if (h != NULL && visible_ascii(h->value, h->value_len)) {
		sg_buf_append_str(out, "Access-Control-Allow-Headers: ");
		sg_buf_append(out, h->value, h->value_len);
		sg_buf_append_str(out, "\r\nVary: Access-Control-Request-Headers\r\n");
	}
}
