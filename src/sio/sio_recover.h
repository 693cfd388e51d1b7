/*
 * sio_recover.h: connection state recovery on the sockets (sio.c's side of
 * recovery.h): which CONNECT takes a kept session back, what a recovered
 * socket gets, and which ends keep a session.
 */
#ifndef SG_SIO_RECOVER_H
#define SG_SIO_RECOVER_H

#include "sio/recovery.h"
#include "sio/sio.h"

/* The session a CONNECT's auth (p_data, borrowed, may be NULL) takes back:
 * {"pid": string, "offset": string} naming a session kept by nsp and an
 * offset still in its log.  Counted (recovered or fallback) when the
 * CONNECT asked.  NULL: a new socket. */
struct recovery_session *sio_recover_lookup(struct sio_nsp *nsp, const json_t *p_data);

/* sock (linked with the session's id and pid) gets its rooms back, the
 * handler's on_recovered and its missed broadcasts; the caller answers the
 * CONNECT after it (as Node does: the replay first).  Frees sess. */
void sio_recover_finish(struct sio_socket *sock, struct recovery_session *sess);

/* sock is closing for reason: keeps its session when recovery is on, it
 * was connected and the reason is one Node recovers from. */
void sio_recover_keep(struct sio_socket *sock, enum sg_close reason);

#endif
