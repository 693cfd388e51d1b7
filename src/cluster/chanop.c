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
#include "core/log.h"
#include "core/worker.h"
#include "proto/chan_op.h"
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

/* A user's sockets hear that their identity is no longer good; the
 * sockets of rooms are ended as the adapter's disconnectSockets() ends
 * them. */
static bool do_disconnect(struct sio_socket *s, const struct chan_op *op)
{
	if (op->user != NULL) {
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
	sg_strv_free(&joined);
	return joined.n > 0;
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

static size_t select_sockets(struct worker *w, const struct chan_op *op, struct sio_socket ***out)
{
	const char *name = op->nsp ? op->nsp : "/";
	struct sio_nsp *nsp;

	*out = NULL;
	if (op->user != NULL)
		return users_select(w, op->nsp, op->user, out);
	nsp = sio_nsp_find(w, name, strlen(name));
	return nsp ? broadcast_select(w, nsp, &op->to, NULL, false, out) : 0;
}

size_t chanop_apply(struct worker *w, const struct chan_op *op)
{
	struct sio_socket **v;
	size_t n, done = 0;

	if ((unsigned)op->kind >= CHAN_OP__COUNT)
		return 0;
	if (w->index == 0) {
		if (op->kind == CHAN_OP_DISCONNECT)
			w->stats.json_op_disconnect++;
		else if (op->kind == CHAN_OP_JOIN)
			w->stats.json_op_join++;
		else
			w->stats.json_op_leave++;
	}
	n = select_sockets(w, op, &v);
	for (size_t i = 0; i < n; i++)
		if (!v[i]->closing && op_fns[op->kind](v[i], op))
			done++;
	free(v);
	if (done > 0 && op->user != NULL)
		log_info("json channel: %s of user %s: %zu socket(s) on worker %u",
			 chan_op_name(op->kind), op->user, done, (unsigned)w->index);
	else if (done > 0)
		log_info("json channel: %s: %zu socket(s) on worker %u", chan_op_name(op->kind),
			 done, (unsigned)w->index);
	return done;
}
