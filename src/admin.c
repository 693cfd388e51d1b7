/*
 * admin.c: the admin HTTP API (see admin.h).  Every answer is JSON except
 * /metrics (Prometheus text) and the health checks (text).  The bearer
 * token is compared in constant time; without admin.token_file the /v1 API
 * is refused, while health checks and metrics stay open to whoever can reach
 * admin.listen (loopback by default).
 */
#include "admin.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bridge.h"
#include "broadcast.h"
#include "cluster.h"
#include "conn.h"
#include "eio.h"
#include "emit_msg.h"
#include "http.h"
#include "json_js.h"
#include "log.h"
#include "metrics.h"
#include "rooms.h"
#include "session.h"
#include "sio.h"
#include "worker.h"

#define ADMIN_TOKEN_MAX 4096

static const char json_ctype[] = "application/json";

static void reply_json(struct conn *c, int status, struct sg_buf *b);
static void reply_error(struct conn *c, int status, const char *msg);
static bool authorized(const struct worker *w, const struct http_request *req);
static bool is_method(const struct http_request *req, const char *m);
static void client_json(struct sg_buf *b, struct sio_socket *sock);
static struct sio_socket *find_socket(struct worker *w, const char *id, size_t len);
static void list_clients(struct worker *w, struct conn *c);
static void local_clients(struct worker *w, struct sg_buf *b);
static void list_cluster_clients(struct worker *w, struct conn *c);
static void on_cluster_clients(struct worker *w, const char *sockets, size_t len, bool partial,
			       void *arg);
static void list_rooms(struct worker *w, struct conn *c);
static void emit(struct worker *w, struct conn *c, const char *body, size_t len);
static void readiness(struct worker *w, struct conn *c);

char *admin_load_token(const char *path, struct sg_err *err)
{
	FILE *f = fopen(path, "r");
	char buf[ADMIN_TOKEN_MAX + 2];
	size_t n;

	if (f == NULL) {
		sg_err_set(err, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n > ADMIN_TOKEN_MAX) {
		sg_err_set(err, "%s: token longer than %d bytes", path, ADMIN_TOKEN_MAX);
		return NULL;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n < 16) {
		sg_err_set(err, "%s: the token must have at least 16 characters", path);
		return NULL;
	}
	return sg_strndup(buf, n);
}

static void reply_json(struct conn *c, int status, struct sg_buf *b)
{
	sg_buf_append_char(b, '\n');
	conn_reply(c, status, json_ctype, "Cache-Control: no-store\r\n", b->data, b->len);
}

static void reply_error(struct conn *c, int status, const char *msg)
{
	struct sg_buf b;

	sg_buf_init(&b);
	sg_buf_append_str(&b, "{\"error\":");
	json_js_string(&b, msg, strlen(msg));
	sg_buf_append_char(&b, '}');
	reply_json(c, status, &b);
	sg_buf_fini(&b);
}

static bool is_method(const struct http_request *req, const char *m)
{
	return req->method_len == strlen(m) && memcmp(req->method, m, req->method_len) == 0;
}

static bool authorized(const struct worker *w, const struct http_request *req)
{
	const struct http_header *h = http_request_header(req, "authorization");
	size_t tl;

	if (w->admin_token == NULL || h == NULL || h->value_len <= 7 ||
	    strncasecmp(h->value, "Bearer ", 7) != 0)
		return false;
	tl = strlen(w->admin_token);
	return h->value_len - 7 == tl && CRYPTO_memcmp(h->value + 7, w->admin_token, tl) == 0;
}

static void client_json(struct sg_buf *b, struct sio_socket *sock)
{
	json_t *sub = sock->sess.claims ? json_object_get(sock->sess.claims, "sub") : NULL;
	char when[32];

	sg_buf_printf(b, "{\"id\":\"%s\",\"nsp\":", sock->id);
	json_js_string(b, sock->nsp->name, sock->nsp->name_len);
	sg_buf_printf(b, ",\"sid\":\"%s\",\"state\":\"%s\",\"user\":", sock->eio->sid,
		      session_state_name((enum session_state)sock->sess.state));
	if (json_is_string(sub))
		json_js_string(b, json_string_value(sub), json_string_length(sub));
	else
		sg_buf_append_str(b, "null");
	sg_buf_printf(b, ",\"rooms\":[\"%s\"", sock->id);
	for (uint16_t i = 0; i < sock->rooms.n; i++) {
		sg_buf_append_char(b, ',');
		json_js_string(b, sock->rooms.v[i].room->name, sock->rooms.v[i].room->name_len);
	}
	sg_buf_append_str(b, "],\"address\":");
	json_js_string(b, sock->eio->addr, strlen(sock->eio->addr));
	sg_buf_printf(b, ",\"transport\":\"%s\",\"connected\":\"%s\"}",
		      sock->eio->transport == EIO_POLLING ? "polling" : "websocket",
		      sg_time_iso(when, sock->eio->issued_ms));
}

static struct sio_socket *find_socket(struct worker *w, const char *id, size_t len)
{
	for (size_t i = 0; i < w->n_nsps; i++) {
		struct sio_socket *s = sio_nsp_socket(w->nsps[i], id, len);
		if (s != NULL)
			return s;
	}
	return NULL;
}

/* {"server": ..., "clients": [every local socket] (without the closing brace) */
static void local_clients(struct worker *w, struct sg_buf *b)
{
	bool first = true;

	sg_buf_printf(b, "{\"server\":");
	json_js_string(b, w->cfg->server.id, strlen(w->cfg->server.id));
	sg_buf_append_str(b, ",\"clients\":[");
	for (size_t i = 0; i < w->n_nsps; i++) {
		for (struct sio_socket *s = w->nsps[i]->all; s; s = s->next) {
			if (!first)
				sg_buf_append_char(b, ',');
			first = false;
			client_json(b, s);
		}
	}
	sg_buf_append_char(b, ']');
}

static void list_clients(struct worker *w, struct conn *c)
{
	struct sg_buf b;

	sg_buf_init(&b);
	local_clients(w, &b);
	sg_buf_append_char(&b, '}');
	reply_json(c, 200, &b);
	sg_buf_fini(&b);
}

/* The answer of /v1/clients?scope=cluster, once the other members spoke. */
static void on_cluster_clients(struct worker *w, const char *sockets, size_t len, bool partial,
			       void *arg)
{
	uint64_t serial = *(uint64_t *)arg;
	struct conn *c = conn_find_held(w, serial);
	struct sg_buf b;

	free(arg);
	if (c == NULL)
		return; /* the admin client went away */
	sg_buf_init(&b);
	local_clients(w, &b);
	sg_buf_append_str(&b, ",\"remote\":[");
	sg_buf_append(&b, sockets, len);
	sg_buf_printf(&b, "],\"partial\":%s}", partial ? "true" : "false");
	reply_json(c, 200, &b);
	sg_buf_fini(&b);
}

static void list_cluster_clients(struct worker *w, struct conn *c)
{
	uint64_t *serial = sg_malloc(sizeof(*serial));

	*serial = c->serial;
	conn_hold(c, NULL, NULL);
	cluster_fetch_remote(w, on_cluster_clients, serial);
}

static void list_rooms(struct worker *w, struct conn *c)
{
	const struct hmap_entry *e;
	struct sg_buf b;
	bool first = true;

	sg_buf_init(&b);
	sg_buf_append_str(&b, "{\"rooms\":[");
	for (size_t i = 0; i < w->n_nsps; i++) {
		for (size_t it = 0; hmap_next(&w->nsps[i]->rooms.by_name, &it, &e);) {
			const struct room *r = e->value;
			if (!first)
				sg_buf_append_char(&b, ',');
			first = false;
			sg_buf_append_str(&b, "{\"nsp\":");
			json_js_string(&b, w->nsps[i]->name, w->nsps[i]->name_len);
			sg_buf_append_str(&b, ",\"room\":");
			json_js_string(&b, r->name, r->name_len);
			sg_buf_printf(&b, ",\"clients\":%u}", r->n_members);
		}
	}
	sg_buf_append_str(&b, "]}");
	reply_json(c, 200, &b);
	sg_buf_fini(&b);
}

/* Delivered here and published in the adapter format, so every member of
 * the cluster (siogate or Node) delivers it too, like the seed's send(). */
static void emit(struct worker *w, struct conn *c, const char *body, size_t len)
{
	struct sg_err err = { 0 };
	struct emit_msg m;
	struct sg_buf b;
	bool published;
	size_t n;

	if (body == NULL || emit_msg_parse(body, len, &m, &err) != 0) {
		reply_error(c, 400, body == NULL ? "a JSON body is required" : err.msg);
		return;
	}
	n = cluster_broadcast(w, &m, &published);
	emit_msg_fini(&m);
	sg_buf_init(&b);
	sg_buf_printf(&b, "{\"delivered\":%zu,\"published\":%s}", n, published ? "true" : "false");
	reply_json(c, w->bridge != NULL && !published ? 503 : 202, &b);
	sg_buf_fini(&b);
}

static void readiness(struct worker *w, struct conn *c)
{
	const char *why = NULL;
	char body[160];
	int n;

	if (w->shutting_down)
		why = "shutting down";
	else if (w->bridge != NULL && !bridge_is_subscribed(w->bridge))
		why = "redis subscriber down";
	else if (w->bridge != NULL && !bridge_publisher_up(w->bridge))
		why = "redis publisher down";
	n = snprintf(body, sizeof(body), why ? "not ready: %s\n" : "ready\n", why);
	conn_reply(c, why ? 503 : 200, "text/plain; charset=utf-8", "Cache-Control: no-store\r\n",
		   body, (size_t)n);
}

void admin_handle_request(struct worker *w, struct conn *c, const struct http_request *req,
			  const char *body, size_t body_len)
{
	const char *p = req->path;
	size_t pl = req->path_len;

#define PATH_IS(s) (pl == sizeof(s) - 1 && memcmp(p, s, pl) == 0)
	if (PATH_IS("/healthz") && (is_method(req, "GET") || is_method(req, "HEAD"))) {
		conn_reply(c, 200, "text/plain; charset=utf-8", NULL, "ok\n", 3);
		return;
	}
	if (PATH_IS("/readyz") && (is_method(req, "GET") || is_method(req, "HEAD"))) {
		readiness(w, c);
		return;
	}
	if (PATH_IS("/metrics") && is_method(req, "GET")) {
		struct bridge_stats bs;
		struct sg_buf b;
		struct worker *ws[1] = { w };

		sg_buf_init(&b);
		if (w->bridge != NULL)
			bridge_get_stats(w->bridge, &bs);
		metrics_render(&b, ws, 1, w->bridge ? &bs : NULL);
		conn_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.data, b.len);
		sg_buf_fini(&b);
		return;
	}
	if (pl < 4 || memcmp(p, "/v1/", 4) != 0) {
		reply_error(c, 404, "not found");
		return;
	}
	if (w->admin_token == NULL) {
		reply_error(c, 403, "the admin API is off: set admin.token_file");
		return;
	}
	if (!authorized(w, req)) {
		log_info("admin: refused a request from %s (bad or missing bearer token)", c->peer);
		conn_reply(c, 401, json_ctype, "WWW-Authenticate: Bearer\r\n",
			   "{\"error\":\"a valid bearer token is required\"}\n", 45);
		return;
	}
	if (PATH_IS("/v1/clients") && is_method(req, "GET")) {
		struct sg_buf scope;
		sg_buf_init(&scope);
		if (http_query_get(req->query, req->query_len, "scope", &scope) == 1 &&
		    strcmp(scope.data, "cluster") == 0)
			list_cluster_clients(w, c);
		else
			list_clients(w, c);
		sg_buf_fini(&scope);
	} else if (PATH_IS("/v1/rooms") && is_method(req, "GET")) {
		list_rooms(w, c);
	} else if (PATH_IS("/v1/emit") && is_method(req, "POST")) {
		emit(w, c, body, body_len);
	} else if (pl > 12 && memcmp(p, "/v1/clients/", 12) == 0) {
		const char *id = p + 12, *slash = memchr(id, '/', pl - 12);
		size_t idl = slash ? (size_t)(slash - id) : pl - 12;
		struct sio_socket *sock = find_socket(w, id, idl);
		bool disconnect = slash != NULL && (size_t)(p + pl - slash) == 11 &&
				  memcmp(slash, "/disconnect", 11) == 0;
		struct sg_buf b;

		if (sock == NULL) {
			reply_error(c, 404, "no such client");
		} else if (slash == NULL && is_method(req, "GET")) {
			sg_buf_init(&b);
			client_json(&b, sock);
			reply_json(c, 200, &b);
			sg_buf_fini(&b);
		} else if (disconnect && is_method(req, "POST")) {
			log_info("admin: %s disconnects socket %s", c->peer, sock->id);
			sio_socket_disconnect(sock, SG_CLOSE_FORCED);
			sg_buf_init(&b);
			sg_buf_append_str(&b, "{\"disconnected\":true}");
			reply_json(c, 200, &b);
			sg_buf_fini(&b);
		} else {
			reply_error(c, 405, "method not allowed");
		}
	} else {
		reply_error(c, 404, "not found");
	}
#undef PATH_IS
}
