/*
 * admin_users.c: the admin API's users (SPEC.md section 9), a user being
 * the sub claim of a socket's verified identity:
 *   GET /v1/users/{sub}[?scope=local|cluster]
 *	{"sub", "sockets": N, "instances": [server ids], "partial": bool}:
 *	this instance's workers counted (gather), then, with Redis and unless
 *	scope=local, the other siogate instances asked (cluster_user_remote);
 *   POST /v1/users/{sub}/disconnect
 *	every socket of the user hears `unauthenticated` and is disconnected:
 *	on this instance's workers at once (gather), on the other instances
 *	through the JSON channel's disconnect operation, published with this
 *	instance's uid as origin so that this instance skips it.  The answer
 *	{"sub", "disconnected": N, "published": bool} counts this instance's
 *	sockets (the others answer nobody).
 * {sub} is one path segment, %-decoded ('/' as %2F).  The request is held
 * while the workers answer, and found again by its serial.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/users.h"
#include "config/config.h"
#include "core/gather.h"
#include "core/json_js.h"
#include "core/log.h"
#include "core/worker.h"
#include "net/conn.h"
#include "ops/admin_int.h"
#include "proto/chan_op.h"
#include "proto/http.h"
#include "redis/bridge.h"

#define DISCONNECT_SUFFIX "/disconnect"

/* A held /v1/users request. */
struct user_req {
	uint64_t serial;	  /* of the held request (conn_find_held) */
	unsigned long long local; /* this instance's sockets of the user */
	bool local_only;	  /* ?scope=local */
	char *sub;
	char peer[56];
};

static void count_part(struct worker *w, const void *ctx, struct sg_buf *out);
static void count_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n);
static void on_remote(struct worker *w, unsigned long long sockets, const char *instances,
		      size_t len, bool partial, void *arg);
static void revoke_part(struct worker *w, const void *ctx, struct sg_buf *out);
static void revoke_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n);
static bool publish_revocation(struct worker *w, const char *sub);
static void user_req_free(struct user_req *u);

static void user_req_free(struct user_req *u)
{
	free(u->sub);
	free(u);
}

void admin_users_request(struct worker *w, struct conn *c, const struct http_request *req,
			 const char *rest, size_t rest_len)
{
	size_t sl = sizeof(DISCONNECT_SUFFIX) - 1;
	bool disconnect = rest_len > sl && memcmp(rest + rest_len - sl, DISCONNECT_SUFFIX, sl) == 0;
	size_t seg_len = disconnect ? rest_len - sl : rest_len;
	struct user_req *u;
	struct sg_buf sub, scope;
	int has_scope;

	if (seg_len == 0 || memchr(rest, '/', seg_len) != NULL) {
		admin_reply_error(c, 404, "not found");
		return;
	}
	if (!admin_is_method(req, disconnect ? "POST" : "GET")) {
		admin_reply_error(c, 405, "method not allowed");
		return;
	}
	sg_buf_init(&sub);
	sg_buf_init(&scope);
	has_scope = http_query_get(req->query, req->query_len, "scope", &scope);
	if (http_path_decode(rest, seg_len, &sub) != 0) {
		admin_reply_error(c, 400, "the user is not a valid %-encoded path segment");
	} else if (has_scope < 0 || (has_scope == 1 && strcmp(scope.data, "local") != 0 &&
				     strcmp(scope.data, "cluster") != 0)) {
		admin_reply_error(c, 400, "scope must be local or cluster");
	} else {
		u = sg_calloc(1, sizeof(*u));
		u->serial = c->serial;
		memcpy(u->peer, c->peer, sizeof(u->peer));
		u->sub = sg_buf_steal(&sub);
		u->local_only = has_scope == 1 && strcmp(scope.data, "local") == 0;
		conn_hold(c, NULL, NULL);
		gather(w, -1, disconnect ? revoke_part : count_part,
		       disconnect ? revoke_done : count_done, u);
	}
	sg_buf_fini(&sub);
	sg_buf_fini(&scope);
}

static void count_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct user_req *u = ctx;

	sg_buf_printf(out, "%zu", users_count(w, u->sub));
}

static void count_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct user_req *u = ctx;

	u->local = gather_sum(parts, n);
	if (u->local_only || w->bridge == NULL)
		on_remote(w, 0, "", 0, false, u);
	else
		cluster_user_remote(w, u->sub, on_remote, u);
}

/* The other instances answered (or some did not in time): the answer. */
static void on_remote(struct worker *w, unsigned long long sockets, const char *instances,
		      size_t len, bool partial, void *arg)
{
	struct user_req *u = arg;
	struct conn *c = conn_find_held(w, u->serial);
	const char *self = w->cfg->server.id;
	struct sg_buf b;

	if (c != NULL) {
		sg_buf_init(&b);
		sg_buf_append_str(&b, "{\"sub\":");
		json_js_string(&b, u->sub, strlen(u->sub));
		sg_buf_printf(&b, ",\"sockets\":%llu,\"instances\":[", u->local + sockets);
		if (u->local > 0)
			json_js_string(&b, self, strlen(self));
		if (u->local > 0 && len > 0)
			sg_buf_append_char(&b, ',');
		sg_buf_append(&b, instances, len);
		sg_buf_printf(&b, "],\"partial\":%s}", partial ? "true" : "false");
		admin_reply_json(c, 200, &b);
		sg_buf_fini(&b);
	}
	user_req_free(u);
}

static void revoke_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct user_req *u = ctx;

	sg_buf_printf(out, "%zu", users_revoke(w, NULL, u->sub, "the admin API"));
}

/* Publishes {"op":"disconnect","user":sub,"origin":<this uid>} on the JSON
 * channel, for the other instances.  Returns whether Redis took it. */
static bool publish_revocation(struct worker *w, const char *sub)
{
	struct chan_op op = { .kind = CHAN_OP_DISCONNECT };
	struct sg_buf msg;
	bool published;

	op.user = sg_strdup(sub);
	op.origin = sg_strdup(bridge_uid(w->bridge));
	sg_buf_init(&msg);
	chan_op_write(&msg, &op);
	published = bridge_publish(w->bridge, w->cfg->redis.json_channel, msg.data, msg.len) == 0;
	sg_buf_fini(&msg);
	chan_op_fini(&op);
	return published;
}

static void revoke_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct user_req *u = ctx;
	struct conn *c = conn_find_held(w, u->serial);
	unsigned long long revoked = gather_sum(parts, n);
	bool published = w->bridge != NULL && publish_revocation(w, u->sub);
	struct sg_buf b;

	log_info("admin: revoked user %s: %llu socket(s) here%s (asked by %s)", u->sub, revoked,
		 w->bridge == NULL ? ""
		 : published	   ? ", the other instances told"
				   : ", the other instances NOT told: Redis did not take it",
		 u->peer);
	if (c != NULL) {
		sg_buf_init(&b);
		sg_buf_append_str(&b, "{\"sub\":");
		json_js_string(&b, u->sub, strlen(u->sub));
		sg_buf_printf(&b, ",\"disconnected\":%llu,\"published\":%s}", revoked,
			      published ? "true" : "false");
		admin_reply_json(c, w->bridge != NULL && !published ? 503 : 200, &b);
		sg_buf_fini(&b);
	}
	user_req_free(u);
}
