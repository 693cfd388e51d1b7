/*
 * chanop.c: a JSON-channel operation on one worker's sockets (see
 * chanop.h).  The operation's sockets are selected first (by user in every
 * namespace or one, or by rooms and socket ids as an emit's `to`), then
 * each kind's function runs on each one still open: one table, so join
 * and leave are rows beside disconnect.
 */
#include "cluster/chanop.h"

#include <stdlib.h>
#include <string.h>

#include "app/authflow.h"
#include "app/lifecycle.h"
#include "cluster/users.h"
#include "config/config.h"
#include "core/json_js.h"
#include "core/log.h"
#include "core/worker.h"
#include "proto/chan_op.h"
#include "redis/bridge.h"
#include "sio/broadcast.h"
#include "sio/rooms.h"
#include "sio/sio.h"

/* What an operation does to one socket; true when it changed something. */
typedef bool (*op_fn)(struct sio_socket *s, const struct chan_op *op);

static bool do_disconnect(struct sio_socket *s, const struct chan_op *op);
static bool do_join(struct sio_socket *s, const struct chan_op *op);
static bool do_leave(struct sio_socket *s, const struct chan_op *op);
static size_t select_sockets(struct worker *w, const struct chan_op *op, struct sio_socket ***out);

static const op_fn op_fns[CHAN_OP__COUNT] = {
	[CHAN_OP_DISCONNECT] = do_disconnect,
	[CHAN_OP_JOIN] = do_join,
	[CHAN_OP_LEAVE] = do_leave,
};

/* A user's sockets hear that their identity is no longer good, and so
 * does any socket when asked ("unauthenticated": true); the others are
 * ended as the adapter's disconnectSockets() ends them. */
static bool do_disconnect(struct sio_socket *s, const struct chan_op *op)
{
	if (chan_op_unauthenticated(op)) {
		authflow_log(SG_LOG_DEBUG, s, NULL, "revoked by a JSON-channel operation");
		authflow_revoke(s);
	} else {
		authflow_log(SG_LOG_DEBUG, s, NULL, "disconnected by a JSON-channel operation");
		sio_socket_disconnect(s, SG_CLOSE_FORCED);
	}
	return true;
}

/* The backend decides, so rooms.allow does not apply; what bounds a
 * client's memory does (rooms.max_per_client), and no socket joins
 * another's id room.  Until authenticated a socket is in no room. */
static bool do_join(struct sio_socket *s, const struct chan_op *op)
{
	size_t max = s->nsp->w->cfg->rooms.max_per_client;
	struct sg_strv joined = { 0 };
	bool any;

	if (!s->broadcasts)
		return false;
	for (size_t i = 0; i < op->rooms.n; i++) {
		const char *room = op->rooms.v[i];
		if (sio_nsp_id_taken(s->nsp, room, strlen(room)) ||
		    (!room_set_has(&s->rooms, room) && s->rooms.n >= max))
			continue;
		if (rooms_join(&s->nsp->rooms, s, &s->rooms, room) == 1)
			sg_strv_push(&joined, room);
	}
	if (joined.n > 0)
		lifecycle_publish(s, LIFECYCLE_JOINED, &joined, NULL);
	any = joined.n > 0;
	sg_strv_free(&joined); /* empties it */
	return any;
}

static bool do_leave(struct sio_socket *s, const struct chan_op *op)
{
	struct sg_strv left = { 0 };
	bool any;

	for (size_t i = 0; i < op->rooms.n; i++)
		if (strcmp(op->rooms.v[i], s->id) != 0 &&
		    rooms_leave(&s->nsp->rooms, s, &s->rooms, op->rooms.v[i]) == 1)
			sg_strv_push(&left, op->rooms.v[i]);
	if (left.n > 0)
		lifecycle_publish(s, LIFECYCLE_LEFT, &left, NULL);
	any = left.n > 0;
	sg_strv_free(&left);
	return any;
}

/* s is in one of the rooms of except (its own id names its room). */
static bool excepted(const struct sio_socket *s, const struct sg_strv *except)
{
	for (size_t i = 0; i < except->n; i++)
		if (strcmp(except->v[i], s->id) == 0 || room_set_has(&s->rooms, except->v[i]))
			return true;
	return false;
}

static size_t select_sockets(struct worker *w, const struct chan_op *op, struct sio_socket ***out)
{
	const char *name = op->nsp ? op->nsp : "/";
	struct sio_nsp *nsp;
	size_t n, kept = 0;

	*out = NULL;
	if (op->user == NULL) {
		nsp = sio_nsp_find(w, name, strlen(name));
		return nsp ? broadcast_select(w, nsp, &op->to, &op->except, false, out) : 0;
	}
	n = users_select(w, op->nsp, op->user, out);
	for (size_t i = 0; i < n; i++)
		if (!excepted((*out)[i], &op->except))
			(*out)[kept++] = (*out)[i];
	return kept;
}

size_t chanop_apply(struct worker *w, const struct chan_op *op)
{
	if ((unsigned)op->kind >= CHAN_OP__COUNT)
		return 0;
	if (w->index == 0) {
		if (op->kind == CHAN_OP_DISCONNECT)
			w->stats.json_op_disconnect++;
		else if (op->kind == CHAN_OP_JOIN)
			w->stats.json_op_join++;
		else
			w->stats.json_op_leave++;
		/* the instance that published it told the Node peers itself */
		if (op->origin == NULL && w->bridge != NULL && bridge_is_relay(w->bridge))
			(void)chanop_publish_remote(w, op);
	}
	return chanop_run(w, op, "json channel");
}

bool chanop_publish_remote(struct worker *w, const struct chan_op *op)
{
	static const int types[CHAN_OP__COUNT] = {
		[CHAN_OP_JOIN] = 2, [CHAN_OP_LEAVE] = 3, [CHAN_OP_DISCONNECT] = 4
	};
	const char *nsp = op->nsp ? op->nsp : "/";
	struct sg_buf ch, req;
	bool ok;

	if (op->user != NULL || w->bridge == NULL)
		return true;
	sg_buf_init(&ch);
	sg_buf_init(&req);
	sg_buf_printf(&ch, "%s-request#%s#", w->cfg->redis.prefix, nsp);
	sg_buf_printf(&req, "{\"uid\":\"%s%s\",\"type\":%d,\"opts\":{\"rooms\":",
		      CHANOP_REMOTE_UID_PREFIX, bridge_uid(w->bridge), types[op->kind]);
	json_js_strv(&req, &op->to);
	sg_buf_append_str(&req, ",\"except\":");
	json_js_strv(&req, &op->except);
	sg_buf_append_str(&req, "},\"rooms\":");
	json_js_strv(&req, &op->rooms);
	sg_buf_append_str(&req, ",\"close\":false}");
	ok = bridge_publish(w->bridge, ch.data, req.data, req.len) == 0;
	sg_buf_fini(&ch);
	sg_buf_fini(&req);
	return ok;
}

size_t chanop_run(struct worker *w, const struct chan_op *op, const char *by)
{
	struct sio_socket **v;
	size_t n, done = 0;

	if ((unsigned)op->kind >= CHAN_OP__COUNT)
		return 0;
	n = select_sockets(w, op, &v);
	for (size_t i = 0; i < n; i++)
		if (!v[i]->closing && op_fns[op->kind](v[i], op))
			done++;
	free(v);
	if (done > 0 && op->user != NULL)
		log_info("%s: %s of user %s: %zu socket(s) on worker %u", by,
			 chan_op_name(op->kind), op->user, done, (unsigned)w->index);
	else if (done > 0)
		log_info("%s: %s: %zu socket(s) on worker %u", by, chan_op_name(op->kind), done,
			 (unsigned)w->index);
	return done;
}
