/*
 * handshake.h: the seed's IHandshake of a socket as JSON, the way
 * socket.io builds socket.handshake: {headers, time, address, xdomain,
 * secure, issued, url, query, auth}.  It is what REMOTE_FETCH answers carry
 * and what the HTTP verifier receives.
 */
#ifndef SG_IHANDSHAKE_H
#define SG_IHANDSHAKE_H

#include "core/common.h"

struct sio_socket;

/* Appends the JSON object for sock's handshake to out; its "auth" is the
 * JSON text auth, or when NULL the CONNECT payload (a token refresh sends
 * the verifier the new {"token"} there). */
void ihandshake_json(struct sg_buf *out, const struct sio_socket *sock, const char *auth);
/* The same for the Admin UI's eyes: no "auth", and the credentials in the
 * headers (authorization, proxy-authorization, cookie) and a "token" in the
 * query shown as "[masked]". */
void ihandshake_json_masked(struct sg_buf *out, const struct sio_socket *sock);

#endif
