/*
 * handshake.c: IHandshake JSON (see handshake.h), rebuilt from the copy of
 * the handshake request head the Engine.IO session keeps, so nothing beyond
 * that copy is held per client.
 */
#include "app/ihandshake.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json_js.h"
#include "eio/eio.h"
#include "proto/http.h"
#include "sio/sio.h"

static int query_pair(const char *k, size_t kl, const char *v, size_t vl, void *arg);

struct query_state {
	struct sg_buf *out;
	bool first;
	bool mask; /* a token in the query is shown masked */
};

static const char masked[] = "\"[masked]\"";

/* A header whose value is a credential: the Admin UI shows it masked. */
static bool secret_header(const char *name, size_t len)
{
	return (len == 13 && memcmp(name, "authorization", 13) == 0) ||
	       (len == 19 && memcmp(name, "proxy-authorization", 19) == 0) ||
	       (len == 6 && memcmp(name, "cookie", 6) == 0);
}

static int query_pair(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct query_state *qs = arg;

	if (!qs->first)
		sg_buf_append_char(qs->out, ',');
	qs->first = false;
	json_js_string(qs->out, k, kl);
	sg_buf_append_char(qs->out, ':');
	if (qs->mask && kl == 5 && memcmp(k, "token", 5) == 0)
		sg_buf_append_str(qs->out, masked);
	else
		json_js_string(qs->out, v, vl);
	return 0;
}

/* The handshake object without its closing brace; mask: credentials
 * masked (headers, a query token). */
static void handshake_open(struct sg_buf *out, const struct sio_socket *sock, bool mask)
{
	const struct eio_session *s = sock->eio;
	struct http_request req;
	struct query_state qs = { out, true, mask };
	char when[96];
	time_t secs = (time_t)(s->issued_ms / 1000);
	struct tm tm;
	bool have = eio_session_request(s, &req) == 0;

	sg_buf_append_str(out, "{\"headers\":{");
	for (size_t i = 0; have && i < req.n_headers; i++) {
		char name[128];
		size_t nl = req.headers[i].name_len < sizeof(name) ? req.headers[i].name_len
								   : sizeof(name) - 1;
		for (size_t k = 0; k < nl; k++)
			name[k] = (char)tolower((unsigned char)req.headers[i].name[k]);
		if (i)
			sg_buf_append_char(out, ',');
		json_js_string(out, name, nl);
		sg_buf_append_char(out, ':');
		if (mask && secret_header(name, nl))
			sg_buf_append_str(out, masked);
		else
			json_js_string(out, req.headers[i].value, req.headers[i].value_len);
	}
	/* JavaScript's Date.prototype.toString() in UTC */
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)",
		 &tm);
	sg_buf_append_str(out, "},\"time\":");
	json_js_string(out, when, strlen(when));
	sg_buf_append_str(out, ",\"address\":");
	json_js_string(out, s->addr, strlen(s->addr));
	sg_buf_printf(out, ",\"xdomain\":%s,\"secure\":%s,\"issued\":%lld,\"url\":",
		      have && http_request_header(&req, "origin") ? "true" : "false",
		      s->secure ? "true" : "false", (long long)s->issued_ms);
	if (have && mask && memmem(req.query, req.query_len, "token=", 6) != NULL)
		json_js_string(out, req.path, req.path_len); /* the token is in the query */
	else if (have)
		json_js_string(out, req.target, req.target_len);
	else
		sg_buf_append_str(out, "\"\"");
	sg_buf_append_str(out, ",\"query\":{");
	if (have && http_query_foreach(req.query, req.query_len, query_pair, &qs) != 0) {
		/* a query that does not decode was refused at the handshake */
	}
	sg_buf_append_char(out, '}');
}

void ihandshake_json(struct sg_buf *out, const struct sio_socket *sock, const char *auth)
{
	handshake_open(out, sock, false);
	sg_buf_append_str(out, ",\"auth\":");
	if (auth != NULL)
		sg_buf_append_str(out, auth);
	else if (sock->auth != NULL)
		sg_buf_append_str(out, sock->auth);
	else
		sg_buf_append_str(out, "{}");
	sg_buf_append_char(out, '}');
}

void ihandshake_json_masked(struct sg_buf *out, const struct sio_socket *sock)
{
	handshake_open(out, sock, true);
	sg_buf_append_char(out, '}');
}
