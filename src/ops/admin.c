/*
 * admin.c: the admin HTTP API (see admin.h).  Every answer is JSON except
 * /metrics (Prometheus text) and the health checks (text).  The bearer
 * token is compared in constant time; without admin.token_file the /v1 API
 * is refused, while health checks and metrics stay open to whoever can reach
 * admin.listen (loopback by default).
 */
#include "ops/admin.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/auth_jwt.h"
#include "app/authflow_socket.h"
#include "cluster/cluster.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/gather.h"
#include "core/ids.h"
#include "core/json_js.h"
#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"
#include "net/conn.h"
#include "ops/admin_int.h"
#include "ops/admin_static.h"
#include "ops/metrics.h"
#include "ops/ready.h"
#include "proto/emit_msg.h"
#include "proto/http.h"
#include "redis/bridge.h"
#include "sio/broadcast.h"
#include "sio/room_tally.h"
#include "sio/rooms.h"
#include "sio/sio.h"

#define ADMIN_TOKEN_MAX 4096

static void on_request(struct worker *w, struct conn *c, const struct http_request *req,
		       const char *body, size_t body_len);
static const char json_ctype[] = "application/json";

/* An answer being gathered from the workers: the held request it goes to
 * (found again by serial, in case the client went away meanwhile). */
struct pending {
	uint64_t serial;
	int mode;		/* what the request asks (per endpoint) */
	struct emit_msg msg;	/* /v1/emit */
	struct sg_buf local;	/* /v1/clients?scope=cluster: this process's part */
	char id[SG_ID_LEN + 1]; /* /v1/clients/<id> */
	char peer[56];
};

enum {
	CLIENT_GET,
	CLIENT_DISCONNECT,
	CLIENT_OTHER_METHOD
};

static bool authorized(const struct worker *w, const struct http_request *req);
static struct pending *hold(struct conn *c);
static struct conn *pending_conn(struct worker *w, struct pending *p);
static void pending_free(struct pending *p);
static void client_json(struct sg_buf *b, struct sio_socket *sock);
static void clients_part(struct worker *w, const void *ctx, struct sg_buf *out);
static void clients_open(struct sg_buf *b, const struct worker *w, struct sg_buf *parts, size_t n);
static void clients_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n);
static void cluster_clients_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n);
static void on_cluster_clients(struct worker *w, const char *sockets, size_t len, bool partial,
			       void *arg);
static void rooms_part(struct worker *w, const void *ctx, struct sg_buf *out);
static void rooms_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n);
static void emit(struct worker *w, struct conn *c, const char *body, size_t len);
static void emit_part(struct worker *w, const void *ctx, struct sg_buf *out);
static void emit_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n);
static void client_request(struct worker *w, struct conn *c, const struct http_request *req,
			   const char *rest, size_t rest_len);
static void client_part(struct worker *w, const void *ctx, struct sg_buf *out);
static void client_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n);
static void ready_part(struct worker *w, const void *ctx, struct sg_buf *out);
static void ready_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n);
static void metrics_part(struct worker *w, const void *ctx, struct sg_buf *out);
static void metrics_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n);

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
	const char *user = authflow_user(sock);
	char when[32];

	sg_buf_printf(b, "{\"id\":\"%s\",\"nsp\":", sock->id);
	json_js_string(b, sock->nsp->name, sock->nsp->name_len);
	sg_buf_printf(b, ",\"sid\":\"%s\",\"state\":\"%s\",\"user\":", sock->eio->sid,
		      authflow_state_name((enum authflow_state)authflow_of(sock)->state));
	json_js_string_or_null(b, user);
	sg_buf_append_str(b, ",\"rooms\":");
	room_set_json(&sock->rooms, sock->id, b);
	sg_buf_append_str(b, ",\"address\":");
	json_js_string(b, sock->eio->addr, strlen(sock->eio->addr));
	sg_buf_printf(b, ",\"transport\":\"%s\",\"connected\":\"%s\"}",
		      sock->eio->transport == EIO_POLLING ? "polling" : "websocket",
		      sg_time_iso(when, sock->eio->issued_ms));
}

static struct pending *hold(struct conn *c)
{
	struct pending *p = sg_calloc(1, sizeof(*p));

	p->serial = c->serial;
	memcpy(p->peer, c->peer, sizeof(p->peer));
	sg_buf_init(&p->local);
	conn_hold(c, NULL, NULL);
	return p;
}

static struct conn *pending_conn(struct worker *w, struct pending *p)
{
	return conn_find_held(w, p->serial);
}

static void pending_free(struct pending *p)
{
	emit_msg_fini(&p->msg);
	sg_buf_fini(&p->local);
	free(p);
}

/* Every socket of a worker, as comma-separated client objects. */
static void clients_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	SG_UNUSED(ctx);
	for (size_t i = 0; i < w->n_nsps; i++) {
		for (struct sio_socket *s = w->nsps[i]->all; s; s = s->next) {
			if (out->len > 0)
				sg_buf_append_char(out, ',');
			client_json(out, s);
		}
	}
}

/* {"server": ..., "clients": [every socket of the process] (no closing brace) */
static void clients_open(struct sg_buf *b, const struct worker *w, struct sg_buf *parts, size_t n)
{
	bool first = true;

	sg_buf_printf(b, "{\"server\":");
	json_js_string(b, w->cfg->server.id, strlen(w->cfg->server.id));
	sg_buf_append_str(b, ",\"clients\":[");
	for (size_t i = 0; i < n; i++) {
		if (parts[i].len == 0)
			continue;
		if (!first)
			sg_buf_append_char(b, ',');
		first = false;
		sg_buf_append(b, parts[i].data, parts[i].len);
	}
	sg_buf_append_char(b, ']');
}

static void clients_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct pending *p = ctx;
	struct conn *c = pending_conn(w, p);
	struct sg_buf b;

	if (c != NULL) {
		sg_buf_init(&b);
		clients_open(&b, w, parts, n);
		sg_buf_append_char(&b, '}');
		admin_reply_json(c, 200, &b);
		sg_buf_fini(&b);
	}
	pending_free(p);
}

/* /v1/clients?scope=cluster: this process's sockets first, then the
 * other members'. */
static void cluster_clients_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct pending *p = ctx;

	clients_open(&p->local, w, parts, n);
	cluster_fetch_remote(w, on_cluster_clients, p);
}

static void on_cluster_clients(struct worker *w, const char *sockets, size_t len, bool partial,
			       void *arg)
{
	struct pending *p = arg;
	struct conn *c = pending_conn(w, p);

	if (c != NULL) {
		sg_buf_append_str(&p->local, ",\"remote\":[");
		sg_buf_append(&p->local, sockets, len);
		sg_buf_printf(&p->local, "],\"partial\":%s}", partial ? "true" : "false");
		admin_reply_json(c, 200, &p->local);
	}
	pending_free(p);
}

static void rooms_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	SG_UNUSED(ctx);
	room_tally_write(w, out);
}

/* One entry per namespace and room, its members summed over the workers. */
static void rooms_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct pending *p = ctx;
	struct conn *c = pending_conn(w, p);
	struct room_tally t;
	struct sg_buf b;

	room_tally_init(&t);
	for (size_t k = 0; k < n; k++)
		room_tally_add(&t, parts[k].data, parts[k].len);
	if (c != NULL) {
		sg_buf_init(&b);
		sg_buf_append_str(&b, "{\"rooms\":[");
		for (size_t i = 0; i < t.n; i++) {
			const struct sio_nsp *nsp = w->nsps[t.v[i].nsp];
			sg_buf_append_str(&b, i ? ",{\"nsp\":" : "{\"nsp\":");
			json_js_string(&b, nsp->name, nsp->name_len);
			sg_buf_append_str(&b, ",\"room\":");
			json_js_string(&b, t.v[i].name, t.v[i].name_len);
			sg_buf_printf(&b, ",\"clients\":%u}", t.v[i].members);
		}
		sg_buf_append_str(&b, "]}");
		admin_reply_json(c, 200, &b);
		sg_buf_fini(&b);
	}
	room_tally_fini(&t);
	pending_free(p);
}

/* Delivered by every worker and published in the adapter format, so every
 * member of the cluster (siogate or Node) delivers it too, like the seed's
 * send().  The other workers of this process skip the published copy. */
static void emit(struct worker *w, struct conn *c, const char *body, size_t len)
{
	struct sg_err err = { 0 };
	struct pending *p;
	struct emit_msg m;

	if (body == NULL || emit_msg_parse(body, len, &m, &err) != 0) {
		admin_reply_error(c, 400, body == NULL ? "a JSON body is required" : err.msg);
		return;
	}
	if (m.has_ack) { /* "ack":{"timeout"} in the body, as on the JSON channel */
		admin_emit_ack(w, c, m.ack_timeout, body, len);
		emit_msg_fini(&m);
		return;
	}
	(void)broadcast_unknown_nsp(w, m.nsp, strlen(m.nsp), "the admin API");
	p = hold(c);
	p->msg = m;
	gather(w, -1, emit_part, emit_done, p);
}

static void emit_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct pending *p = ctx;

	sg_buf_printf(out, "%zu", broadcast_emit_msg(w, &p->msg));
}

static void emit_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct pending *p = ctx;
	struct conn *c = pending_conn(w, p);
	bool published =
		w->bridge != NULL && bridge_publish_emit(w->bridge, &p->msg, bridge_uid(w->bridge));
	unsigned long long delivered = gather_sum(parts, n);
	struct sg_buf b;

	if (c != NULL) {
		sg_buf_init(&b);
		sg_buf_printf(&b, "{\"delivered\":%llu,\"published\":%s}", delivered,
			      published ? "true" : "false");
		admin_reply_json(c, w->bridge != NULL && !published ? 503 : 202, &b);
		sg_buf_fini(&b);
	}
	pending_free(p);
}

/* /v1/clients/<id>[/disconnect]: asked of the worker the id names. */
static void client_request(struct worker *w, struct conn *c, const struct http_request *req,
			   const char *rest, size_t rest_len)
{
	const char *slash = memchr(rest, '/', rest_len);
	size_t idl = slash ? (size_t)(slash - rest) : rest_len;
	bool disconnect = slash != NULL && (size_t)(rest + rest_len - slash) == 11 &&
			  memcmp(slash, "/disconnect", 11) == 0;
	int owner = sg_id_worker(rest, idl);
	struct pending *p;

	if (owner < 0 || (size_t)owner >= w->n_workers) {
		admin_reply_error(c, 404, "no such client");
		return;
	}
	p = hold(c);
	memcpy(p->id, rest, SG_ID_LEN);
	if (slash == NULL && admin_is_method(req, "GET"))
		p->mode = CLIENT_GET;
	else if (disconnect && admin_is_method(req, "POST"))
		p->mode = CLIENT_DISCONNECT;
	else
		p->mode = CLIENT_OTHER_METHOD;
	gather(w, owner, client_part, client_done, p);
}

static void client_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct pending *p = ctx;
	struct sio_socket *sock = NULL;

	for (size_t i = 0; i < w->n_nsps && sock == NULL; i++)
		sock = sio_nsp_socket(w->nsps[i], p->id, SG_ID_LEN);
	if (sock == NULL)
		return;
	if (p->mode == CLIENT_GET) {
		client_json(out, sock);
	} else if (p->mode == CLIENT_DISCONNECT) {
		authflow_log(SG_LOG_DEBUG, sock, NULL, "disconnected by the admin API (%s)",
			     p->peer);
		sio_socket_disconnect(sock, SG_CLOSE_FORCED);
		sg_buf_append_str(out, "{\"disconnected\":true}");
	} else {
		sg_buf_append_char(out, '-'); /* it exists */
	}
}

static void client_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct pending *p = ctx;
	struct conn *c = pending_conn(w, p);
	struct sg_buf *found = NULL;

	for (size_t i = 0; i < n; i++)
		if (parts[i].len > 0)
			found = &parts[i];
	if (c != NULL && found == NULL)
		admin_reply_error(c, 404, "no such client");
	else if (c != NULL && p->mode == CLIENT_OTHER_METHOD)
		admin_reply_error(c, 405, "method not allowed");
	else if (c != NULL)
		admin_reply_json(c, 200, found);
	pending_free(p);
}

static void ready_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const char *why = ready_reason(w);

	SG_UNUSED(ctx);
	if (why != NULL)
		sg_buf_append_str(out, why);
}

/* Ready when every worker is. */
static void ready_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct pending *p = ctx;
	struct conn *c = pending_conn(w, p);
	struct jwt_remote *keys = jwt_verifier_remote(w->jwt);
	const char *why = NULL;
	char body[320];
	int len;

	for (size_t i = 0; i < n && why == NULL; i++)
		if (parts[i].len > 0)
			why = parts[i].data;
	if (c != NULL) {
		len = snprintf(body, sizeof(body), why ? "not ready: %s\n" : "ready\n", why);
		if (keys != NULL) {
			/* the issuer's key set: how fresh, and whether fetches fail */
			struct jwt_remote_stats st;
			jwt_remote_get_stats(keys, &st);
			if (st.fetched_at_ms > 0)
				len += snprintf(
					body + len, sizeof(body) - (size_t)len,
					"keys: %llu from the issuer, fetched %llds ago, "
					"%llu failed fetches\n",
					(unsigned long long)st.keys,
					(long long)((sg_now_ms() - st.fetched_at_ms) / 1000),
					(unsigned long long)st.fetch_error);
			else
				len += snprintf(
					body + len, sizeof(body) - (size_t)len,
					"keys: %llu from the cached copy (auth.jwt.jwks_file), "
					"%llu failed fetches\n",
					(unsigned long long)st.keys,
					(unsigned long long)st.fetch_error);
		}
		conn_reply(c, why ? 503 : 200, "text/plain; charset=utf-8",
			   "Cache-Control: no-store\r\n", body, (size_t)len);
	}
	pending_free(p);
}

static void metrics_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	SG_UNUSED(ctx);
	metrics_snapshot(w, out);
}

static void metrics_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct pending *p = ctx;
	struct conn *c = pending_conn(w, p);
	struct sg_buf b;

	if (c != NULL) {
		sg_buf_init(&b);
		metrics_render(&b, parts, n);
		conn_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.data, b.len);
		sg_buf_fini(&b);
	}
	pending_free(p);
}

static void on_request(struct worker *w, struct conn *c, const struct http_request *req,
		       const char *body, size_t body_len)
{
	const char *p = req->path;
	size_t pl = req->path_len;

#define PATH_IS(s) (pl == sizeof(s) - 1 && memcmp(p, s, pl) == 0)
	if (PATH_IS("/healthz") && (admin_is_method(req, "GET") || admin_is_method(req, "HEAD"))) {
		conn_reply(c, 200, "text/plain; charset=utf-8", NULL, "ok\n", 3);
		return;
	}
	if (PATH_IS("/readyz") && (admin_is_method(req, "GET") || admin_is_method(req, "HEAD"))) {
		gather(w, -1, ready_part, ready_done, hold(c));
		return;
	}
	if (PATH_IS("/metrics") && admin_is_method(req, "GET")) {
		gather(w, -1, metrics_part, metrics_done, hold(c));
		return;
	}
	if (pl < 4 || memcmp(p, "/v1/", 4) != 0) {
		if (!admin_static_request(w, c, req))
			admin_reply_error(c, 404, "not found");
		return;
	}
	if (w->admin_token == NULL) {
		admin_reply_error(c, 403, "the admin API is off: set admin.token_file");
		return;
	}
	if (!authorized(w, req)) {
		/* worth a warning (someone without the token), not a flood of them */
		log_limited(&w->limit_admin_auth, SG_LOG_WARN, NULL,
			    "admin: refused a request from %s (bad or missing bearer token)",
			    c->peer);
		conn_reply(c, 401, json_ctype, "WWW-Authenticate: Bearer\r\n",
			   "{\"error\":\"a valid bearer token is required\"}\n", 45);
		return;
	}
	if (PATH_IS("/v1/clients") && admin_is_method(req, "GET")) {
		struct sg_buf scope;
		bool cluster;
		sg_buf_init(&scope);
		cluster = http_query_get(req->query, req->query_len, "scope", &scope) == 1 &&
			  strcmp(scope.data, "cluster") == 0;
		sg_buf_fini(&scope);
		gather(w, -1, clients_part, cluster ? cluster_clients_done : clients_done, hold(c));
	} else if (PATH_IS("/v1/rooms") && admin_is_method(req, "GET")) {
		gather(w, -1, rooms_part, rooms_done, hold(c));
	} else if (PATH_IS("/v1/emit") && admin_is_method(req, "POST")) {
		struct sg_buf ack;
		int has_ack;
		sg_buf_init(&ack);
		has_ack = http_query_get(req->query, req->query_len, "ack", &ack);
		if (has_ack < 0)
			admin_reply_error(c, 400, "bad %-encoding in the query");
		else if (has_ack == 1)
			admin_emit_ack(w, c, ack.data, body, body_len);
		else
			emit(w, c, body, body_len);
		sg_buf_fini(&ack);
	} else if (PATH_IS("/v1/rooms/join") && admin_is_method(req, "POST")) {
		admin_op_request(w, c, CHAN_OP_JOIN, body, body_len);
	} else if (PATH_IS("/v1/rooms/leave") && admin_is_method(req, "POST")) {
		admin_op_request(w, c, CHAN_OP_LEAVE, body, body_len);
	} else if (PATH_IS("/v1/disconnect") && admin_is_method(req, "POST")) {
		admin_op_request(w, c, CHAN_OP_DISCONNECT, body, body_len);
	} else if (pl > 12 && memcmp(p, "/v1/clients/", 12) == 0) {
		client_request(w, c, req, p + 12, pl - 12);
	} else if (pl > 10 && memcmp(p, "/v1/users/", 10) == 0) {
		admin_users_request(w, c, req, p + 10, pl - 10);
	} else {
		admin_reply_error(c, 404, "not found");
	}
#undef PATH_IS
}

/* ---- the admin listener's part of a worker ---------------------------- */

/* A held admin request's connection went away: the pending answer finds
 * it gone by its serial (conn_find_held), so there is nothing to do. */
static void on_held_closed(void *holder, struct conn *c)
{
	SG_UNUSED(holder);
	SG_UNUSED(c);
}

static const struct conn_handler admin_requests = { .on_request = on_request,
						    .on_held_closed = on_held_closed };

static int admin_init(struct worker *w)
{
	w->conn_handler[CONN_ADMIN] = &admin_requests;
	return 0;
}

const struct worker_module admin_module = {
	.name = "admin listener",
	.init = admin_init,
};
