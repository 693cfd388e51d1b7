/*
 * sio_recover.c: connection state recovery on the sockets (see
 * sio_recover.h), as Node's Namespace._createSocket and Socket._onclose do
 * it: the missed packets go out before the CONNECT answer, which the
 * client buffers until it is connected.
 */
#include "sio/sio_recover.h"

#include <string.h>

#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"

struct recovery_session *sio_recover_lookup(struct sio_nsp *nsp, const json_t *p_data)
{
	struct worker *w = nsp->w;
	const json_t *pid = json_object_get(p_data, "pid");
	const json_t *offset = json_object_get(p_data, "offset");
	struct recovery_session *s;

	if (nsp->recovery == NULL || w->handler->on_recovered == NULL || !json_is_string(pid) ||
	    !json_is_string(offset))
		return NULL;
	s = recovery_take(nsp->recovery, json_string_value(pid), json_string_length(pid),
			  json_string_value(offset), json_string_length(offset));
	/* the socket id must be free: a session is kept only once its
	 * socket is gone, but a client could present it twice */
	if (s != NULL && hmap_get(&nsp->by_id, s->sid, strlen(s->sid)) != NULL) {
		recovery_session_free(s);
		s = NULL;
	}
	if (s == NULL)
		w->stats.recovery_fallback++;
	else
		w->stats.recovery_recovered++;
	return s;
}

static void send_logged(void *arg, bool binary, const char *data, size_t len)
{
	struct sio_socket *sock = arg;

	if (binary)
		eio_send_binary(sock->eio, data, len);
	else
		eio_send_message(sock->eio, data, len);
}

void sio_recover_finish(struct sio_socket *sock, struct recovery_session *sess)
{
	struct sio_nsp *nsp = sock->nsp;
	json_t *kept = sess->kept;
	size_t n = 0;

	for (size_t i = 0; i < sess->rooms.n; i++)
		(void)rooms_join(&nsp->rooms, sock, &sock->rooms, sess->rooms.v[i]);
	sess->kept = NULL;
	nsp->w->handler->on_recovered(sock, kept);
	if (!sock->closing && sock->broadcasts)
		n = recovery_replay(nsp->recovery, sess, send_logged, sock);
	eio_log(SG_LOG_DEBUG, sock->eio, NULL, "socket %s of %s recovered, %zu packets replayed",
		sock->id, nsp->name, n);
	recovery_session_free(sess);
}

void sio_recover_keep(struct sio_socket *sock, enum sg_close reason)
{
	struct sio_nsp *nsp = sock->nsp;
	const struct sio_handler *h = nsp->w->handler;
	struct sg_strv rooms = { 0 };

	if (nsp->recovery == NULL || !sock->connected || sock->pid[0] == '\0' ||
	    h->on_persist == NULL || h->on_recovered == NULL)
		return;
	/* Node's RECOVERABLE_DISCONNECT_REASONS that siogate has; a shutdown
	 * takes the process's sessions with it */
	if (reason != SG_CLOSE_TRANSPORT_CLOSE && reason != SG_CLOSE_TRANSPORT_ERROR &&
	    reason != SG_CLOSE_PING_TIMEOUT)
		return;
	for (size_t i = 0; i < sock->rooms.n; i++)
		sg_strv_push(&rooms, sock->rooms.v[i].room->name);
	recovery_keep(nsp->recovery, sock->pid, sock->id, &rooms, h->on_persist(sock));
	sg_strv_free(&rooms);
	nsp->w->stats.recovery_kept++;
}
