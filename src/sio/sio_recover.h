/*
 * sio_recover.h: connection state recovery on the sockets (sio.c's side of
 * recovery.h): which CONNECT takes a kept session back, what a recovered
 * socket gets, and which ends keep a session.
 */
#ifndef SG_SIO_RECOVER_H
#define SG_SIO_RECOVER_H

#include "sio/recovery.h"
#include "sio/sio.h"

/* How a CONNECT whose session another worker may keep goes on, on the
 * worker that got it: sio.c's, called later with the CONNECT's auth (p_data,
 * borrowed) and the session (NULL: a new socket); s is still open and has
 * no socket in nsp yet, or the call is not made (the session, if any, is
 * kept again). */
typedef void (*sio_recover_cont)(struct eio_session *s, struct sio_nsp *nsp, const json_t *p_data,
				 struct recovery_session *sess);

/* The session a CONNECT of session s whose auth (p_data, borrowed, may be
 * NULL) is {"pid": string, "offset": string} takes back: one kept by nsp
 * with that offset still in its log (*out), or one another worker of the
 * process keeps: then it returns true and cont gets it later (or NULL).
 * Counted (recovered or fallback) when the CONNECT asked.  false with *out
 * NULL: a new socket. */
bool sio_recover_lookup(struct sio_nsp *nsp, struct eio_session *s, const json_t *p_data,
			sio_recover_cont cont, struct recovery_session **out);

/* Keeps sess again (a CONNECT that took it could not use it). */
void sio_recover_putback(struct sio_nsp *nsp, struct recovery_session *sess);

/* sock (linked with the session's id and pid) gets its rooms back, the
 * handler's on_recovered and its missed broadcasts; the caller answers the
 * CONNECT after it (as Node does: the replay first).  Frees sess. */
void sio_recover_finish(struct sio_socket *sock, struct recovery_session *sess);

/* sock is closing for reason: keeps its session when recovery is on, it
 * was connected and the reason is one Node recovers from. */
void sio_recover_keep(struct sio_socket *sock, enum sg_close reason);

#endif
