/*
 * chan_op.h: the messages of the JSON channel (redis.json_channel, SPEC.md
 * sections 4 and 9).  A message with "op" is an operation on sockets; one
 * without it is an emit (emit_msg.h), as before:
 *   {"op": "disconnect", "to": [...] | "user": "sub", "nsp": "/",
 *    "except": [...], "unauthenticated": bool}
 *   {"op": "join" | "leave", "rooms": [...], "to": [...] | "user": "sub",
 *    "except": [...]}
 * "to" names rooms and socket ids as an emit's does (a string or an array);
 * "user" names every socket whose identity has that sub.  Exactly one of
 * them: an operation on everyone is never implied by an absent field.
 * "except" removes the sockets in any of its rooms (socket ids included),
 * as the adapter's socketsJoin/socketsLeave/disconnectSockets select.
 * "unauthenticated" (disconnect): true sends `unauthenticated` before the
 * DISCONNECT, false a plain DISCONNECT; absent, a user's sockets hear
 * `unauthenticated` and the sockets of "to" get a plain DISCONNECT.
 * "nsp" (a string starting with '/') limits the operation to a namespace:
 * absent, "to" means "/" (as an emit), "user" every namespace.  "origin",
 * the adapter uid of the siogate instance that applied the operation to its
 * own sockets already (the admin API publishes it so), makes that instance
 * skip it.  Unknown fields are ignored.  Pure: no libevent, no globals.
 */
#ifndef SG_CHAN_OP_H
#define SG_CHAN_OP_H

#include "core/common.h"
#include "proto/emit_msg.h"

/* The operations, in the order of their names (chan_op_name). */
enum chan_op_kind {
	CHAN_OP_DISCONNECT, /* end the sockets (a user's: unauthenticated first) */
	CHAN_OP_JOIN,	    /* the sockets join "rooms" */
	CHAN_OP_LEAVE,	    /* the sockets leave "rooms" */
	CHAN_OP__COUNT
};

/* A disconnect's "unauthenticated" (zero: absent, the default). */
enum chan_op_unauth {
	CHAN_OP_UNAUTH_DEFAULT, /* absent: a user's sockets yes, those of "to" no */
	CHAN_OP_UNAUTH_NO,	/* false: a plain DISCONNECT */
	CHAN_OP_UNAUTH_YES,	/* true: `unauthenticated`, then DISCONNECT */
};

struct chan_op {
	enum chan_op_kind kind;
	char *nsp;	       /* the namespace, or NULL: "/" for to, every one for user */
	char *user;	       /* the sockets of this sub, or NULL: those of to */
	struct sg_strv to;     /* rooms and socket ids (user NULL): at least one */
	struct sg_strv rooms;  /* join, leave: at least one; disconnect: empty */
	struct sg_strv except; /* rooms and socket ids left out */
	enum chan_op_unauth unauthenticated; /* disconnect: as asked */
	char *origin;			     /* the uid of an instance that applied it, or NULL */
};

/* One message of the JSON channel: an emit or an operation. */
struct chan_msg {
	bool is_op; /* also set when parsing failed on a message with "op" */
	struct emit_msg emit;
	struct chan_op op;
};

/* "disconnect", "join", "leave"; "unknown" out of range. */
const char *chan_op_name(enum chan_op_kind kind);

/* Parses text[0..len).  Returns 0 with *out filled (chan_msg_fini frees),
 * or -1 with err saying what is wrong and out->is_op telling whether it was
 * meant as an operation (bad JSON is not). */
int chan_msg_parse(const char *text, size_t len, struct chan_msg *out, struct sg_err *err) SG_WUR;
void chan_msg_fini(struct chan_msg *m);

/* Parses the body of an admin API operation (text[0..len): the fields of
 * an operation, "op" ignored) as an operation of the given kind.  Returns 0
 * with *out filled (chan_op_fini frees), or -1 with err. */
int chan_op_parse(const char *text, size_t len, enum chan_op_kind kind, struct chan_op *out,
		  struct sg_err *err) SG_WUR;

/* Whether a disconnect of op sends `unauthenticated` first. */
bool chan_op_unauthenticated(const struct chan_op *op);

/* Appends op as a JSON-channel message that chan_msg_parse reads back. */
void chan_op_write(struct sg_buf *out, const struct chan_op *op);
void chan_op_fini(struct chan_op *op);

#endif
