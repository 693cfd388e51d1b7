/*
 * admin_ops.c: the admin API's operations on sockets, cluster-wide, and
 * its emit with acknowledgements (SPEC.md section 9):
 *   POST /v1/rooms/join    {"rooms":[...], "to":[...] | "user":"sub", "except", "nsp"}
 *   POST /v1/rooms/leave   (the same)
 *   POST /v1/disconnect    {"to":[...] | "user":"sub", "except", "nsp",
 *			     "unauthenticated": bool}
 *	the JSON channel's operations (chan_op.h): applied to this instance's
 *	sockets at once (gather), published on the JSON channel with this
 *	instance's uid as origin for the other siogate instances, and, by rooms
 *	and socket ids, as the adapter's REMOTE_JOIN / REMOTE_LEAVE /
 *	REMOTE_DISCONNECT for Node peers.  The answer {"sockets": N,
 *	"published": bool} counts this instance's sockets; 503 when Redis did
 *	not take it.
 *   POST /v1/emit?ack=DURATION
 *	{"acks":[{"id","args"}...], "timeouts":[ids...]} (emit_ack.h); 429
 *	when limits.ack_requests emits with acks wait already.
 * The request is held while the workers (and the cluster) answer, and
 * found again by its serial.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/chanop.h"
#include "cluster/emit_ack.h"
#include "config/config.h"
#include "core/gather.h"
#include "core/log.h"
#include "core/worker.h"
#include "net/conn.h"
#include "ops/admin_int.h"
#include "proto/chan_op.h"
#include "proto/emit_msg.h"
#include "proto/http.h"
#include "redis/bridge.h"
#include "sio/broadcast.h"

/* A held operation request. */
struct op_req {
	uint64_t serial;
	struct chan_op op;
	char peer[56];
};

static void op_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct op_req *r = ctx;

	sg_buf_printf(out, "%zu", chanop_run(w, &r->op, "admin API"));
}

/* Tells the other siogate instances (JSON channel, origin: this one) and
 * the Node peers (the adapter's request). */
static bool publish_op(struct worker *w, struct chan_op *op)
{
	struct sg_buf msg;
	bool published;

	op->origin = sg_strdup(bridge_uid(w->bridge));
	sg_buf_init(&msg);
	chan_op_write(&msg, op);
	published = bridge_publish(w->bridge, w->cfg->redis.json_channel, msg.data, msg.len) == 0;
	sg_buf_fini(&msg);
	return chanop_publish_remote(w, op) && published;
}

static void op_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct op_req *r = ctx;
	struct conn *c = conn_find_held(w, r->serial);
	unsigned long long done = gather_sum(parts, n);
	bool published = w->bridge != NULL && publish_op(w, &r->op);
	struct sg_buf b;

	log_info("admin: %s: %llu socket(s) here%s (asked by %s)", chan_op_name(r->op.kind), done,
		 w->bridge == NULL ? ""
		 : published	   ? ", the cluster told"
				   : ", the cluster NOT told: Redis did not take it",
		 r->peer);
	if (c != NULL) {
		sg_buf_init(&b);
		sg_buf_printf(&b, "{\"sockets\":%llu,\"published\":%s}", done,
			      published ? "true" : "false");
		admin_reply_json(c, w->bridge != NULL && !published ? 503 : 200, &b);
		sg_buf_fini(&b);
	}
	chan_op_fini(&r->op);
	free(r);
}

void admin_op_request(struct worker *w, struct conn *c, enum chan_op_kind kind, const char *body,
		      size_t len)
{
	struct sg_err err = { 0 };
	struct op_req *r;
	struct chan_op op;

	if (body == NULL || chan_op_parse(body, len, kind, &op, &err) != 0) {
		admin_reply_error(c, 400, body == NULL ? "a JSON body is required" : err.msg);
		return;
	}
	free(op.origin); /* the admin API's own operation */
	op.origin = NULL;
	if (op.nsp != NULL)
		(void)broadcast_unknown_nsp(w, op.nsp, strlen(op.nsp), "the admin API");
	r = sg_calloc(1, sizeof(*r));
	r->serial = c->serial;
	memcpy(r->peer, c->peer, sizeof(r->peer));
	r->op = op;
	conn_hold(c, NULL, NULL);
	gather(w, -1, op_part, op_done, r);
}

/* ---- POST /v1/emit?ack= ------------------------------------------------ */

struct ack_req {
	uint64_t serial;
};

static void on_acks(struct worker *w, const char *json, size_t len, void *arg)
{
	struct ack_req *r = arg;
	struct conn *c = conn_find_held(w, r->serial);
	struct sg_buf b;

	if (c != NULL) {
		sg_buf_init(&b);
		sg_buf_append(&b, json, len);
		admin_reply_json(c, 200, &b);
		sg_buf_fini(&b);
	}
	free(r);
}

void admin_emit_ack(struct worker *w, struct conn *c, const char *timeout, const char *body,
		    size_t len)
{
	struct sg_err err = { 0 };
	struct emit_msg m;
	struct ack_req *r;
	int64_t ms;

	if (emit_ack_timeout(w, timeout, &ms, &err) != 0) {
		admin_reply_error(c, 400, err.msg);
		return;
	}
	if (body == NULL || emit_msg_parse(body, len, &m, &err) != 0) {
		admin_reply_error(c, 400, body == NULL ? "a JSON body is required" : err.msg);
		return;
	}
	(void)broadcast_unknown_nsp(w, m.nsp, strlen(m.nsp), "the admin API");
	r = sg_calloc(1, sizeof(*r));
	r->serial = c->serial;
	if (emit_ack_start(w, &m, ms, on_acks, r, &err) != 0) {
		admin_reply_error(c, 429, err.msg);
		free(r);
	} else {
		conn_hold(c, NULL, NULL);
	}
	emit_msg_fini(&m);
}
