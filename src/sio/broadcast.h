/*
 * broadcast.h: delivery of one packet to many sockets of a worker with the
 * Socket.IO adapter's rules: the sockets in any of `rooms` (each once), or
 * every socket of the namespace when rooms is empty, minus the sockets in any
 * of `except`; a socket id names the room of that socket.  Only
 * authenticated sockets receive broadcasts.  The packet is encoded once into
 * shared frames that every recipient references.
 */
#ifndef SG_BROADCAST_H
#define SG_BROADCAST_H

#include "core/common.h"
#include "proto/ws_frame.h"

struct worker;
struct sio_nsp;
struct sio_socket;
struct adapter_broadcast;
struct emit_msg;

/* A fresh dedup stamp for one pass over the sockets (sio_socket.sent_stamp,
 * except_stamp); on wrap-around every stamp is cleared first, so an old one
 * cannot match. */
uint32_t broadcast_next_stamp(struct worker *w);

/* Queues packet (and its binary attachments, in order) to every selected
 * socket.  Frames are borrowed (recipients take their own references).
 * Returns the number of recipients. */
size_t broadcast_deliver(struct worker *w, struct sio_nsp *nsp, const struct sg_strv *rooms,
			 const struct sg_strv *except, struct sg_frame *packet,
			 struct sg_frame *const *attachments, size_t n_attachments);

/* The open sockets of nsp that a delivery to rooms minus except selects
 * (each once; every socket of nsp when rooms is empty), only those that
 * receive broadcasts when authenticated_only, in a new array *out that the
 * caller frees (NULL when none).  They are collected first, so the caller
 * may close them or move them between rooms; closing one may close another
 * (their memory stays until the end of the loop turn), so the caller skips
 * those found closing.  Returns how many. */
size_t broadcast_select(struct worker *w, struct sio_nsp *nsp, const struct sg_strv *rooms,
			const struct sg_strv *except, bool authenticated_only,
			struct sio_socket ***out);

/* Encodes a decoded adapter/emitter message and delivers it locally.
 * Returns the number of recipients. */
size_t broadcast_adapter_message(struct worker *w, const struct adapter_broadcast *m);

/* Delivers a JSON emit message (JSON channel, admin emit) locally.  Returns
 * the number of recipients; an unknown namespace delivers to nobody. */
size_t broadcast_emit_msg(struct worker *w, const struct emit_msg *m);

/* Notes a message for namespace nsp (len bytes, not NUL-terminated) that
 * this worker does not serve, seen on `where` (a channel, or the admin
 * API): logged at warn with the fix, once per namespace, for the first
 * BROADCAST_UNKNOWN_NSP_MAX namespaces.  Returns true when nsp is not
 * configured (the message is for nobody here). */
bool broadcast_unknown_nsp(struct worker *w, const char *nsp, size_t len, const char *where);
#define BROADCAST_UNKNOWN_NSP_MAX 16

#endif
