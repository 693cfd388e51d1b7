/*
 * ids.h: Engine.IO session ids and Socket.IO socket ids, 20 characters of
 * URL-safe base64 like Node's base64id: 12 random bytes from OpenSSL's DRBG,
 * one byte naming the worker that owns the id, and the low 2 bytes of a
 * counter owned by that worker.  The worker byte is how a polling request
 * or a WebSocket upgrade that landed on another worker finds its session's
 * owner, and how the admin API finds a socket.
 */
#ifndef SG_IDS_H
#define SG_IDS_H

#include "core/common.h"

#define SG_ID_LEN 20

/* Writes a new id of worker and its NUL into out[SG_ID_LEN + 1]. */
void sg_id_new(char *out, uint8_t worker, uint32_t *counter);

/* A Socket.IO adapter uid (uid2(6) in the Node adapter): 6 URL-safe
 * characters and a NUL into out[7]. */
void sg_uid_new(char *out);

/* The worker byte of an id made by sg_id_new, or -1 when id (len bytes,
 * untrusted) is not one. */
int sg_id_worker(const char *id, size_t len);

#endif
