/*
 * sio_recover.c: connection state recovery on the sockets (see
 * sio_recover.h), as Node's Namespace._createSocket and Socket._onclose do
 * it: the missed packets go out before the CONNECT answer, which the
 * client buffers until it is connected.
 */
#include "sio/sio_recover.h"

#include <string.h>

#include "core/gather.h"
#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"

/* A CONNECT on this worker asking the other workers for its session. */
struct remote_ask {
	sio_recover_cont cont;
	json_t *data; /* the CONNECT's auth (a reference; only the origin touches it) */
	char *pid, *offset;
	uint8_t origin;
	char sid[SG_ID_LEN + 1]; /* the Engine.IO session's */
	char nsp[];
};

static void count(struct worker *w, bool recovered)
{
	if (recovered)
		w->stats.recovery_recovered++;
	else
		w->stats.recovery_fallback++;
}

/* On each other worker: takes the session there, as text. */
static void remote_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct remote_ask *a = ctx;
	struct sio_nsp *nsp = sio_nsp_find(w, a->nsp, strlen(a->nsp));
	struct recovery_session *s;
	char *text;

	if (w->index == a->origin || nsp == NULL || nsp->recovery == NULL)
		return;
	s = recovery_take(nsp->recovery, a->pid, strlen(a->pid), a->offset, strlen(a->offset));
	if (s == NULL)
		return;
	text = recovery_session_dump(nsp->recovery, s);
	sg_buf_append_str(out, text);
	free(text);
	recovery_session_free(s);
}

/* Back on the worker of the CONNECT: the session found (placed in this
 * worker's log), or none. */
static void remote_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct remote_ask *a = ctx;
	struct sio_nsp *nsp = sio_nsp_find(w, a->nsp, strlen(a->nsp));
	struct eio_session *s = hmap_get(&w->sessions_by_sid, a->sid, SG_ID_LEN);
	struct recovery_session *sess = NULL;

	for (size_t i = 0; i < n && sess == NULL; i++)
		if (parts[i].len > 0)
			sess = recovery_session_load(parts[i].data, parts[i].len);
	if (sess != NULL && (nsp == NULL || hmap_get(&nsp->by_id, sess->sid, SG_ID_LEN) != NULL ||
			     !recovery_adopt(nsp->recovery, sess))) {
		log_debug("recovery: session %s of %s not placed in worker %u's log", sess->pid,
			  a->nsp, (unsigned)w->index);
		recovery_session_free(sess);
		sess = NULL;
	}
	if (nsp == NULL) {
		recovery_session_free(sess);
	} else if (s == NULL || s->closing) {
		if (sess != NULL) /* gone meanwhile: kept here for the next attempt */
			sio_recover_putback(nsp, sess);
	} else {
		count(w, sess != NULL);
		a->cont(s, nsp, a->data, sess);
	}
	json_decref(a->data);
	free(a->pid);
	free(a->offset);
	free(a);
}

bool sio_recover_lookup(struct sio_nsp *nsp, struct eio_session *s, const json_t *p_data,
			sio_recover_cont cont, struct recovery_session **out)
{
	struct worker *w = nsp->w;
	const json_t *pid = json_object_get(p_data, "pid");
	const json_t *offset = json_object_get(p_data, "offset");
	struct recovery_session *sess;
	struct remote_ask *a;

	*out = NULL;
	if (nsp->recovery == NULL || w->handler->on_recovered == NULL || !json_is_string(pid) ||
	    !json_is_string(offset))
		return false;
	sess = recovery_take(nsp->recovery, json_string_value(pid), json_string_length(pid),
			     json_string_value(offset), json_string_length(offset));
	if (sess != NULL && sess->n_sig > 0 && !recovery_adopt(nsp->recovery, sess)) {
		recovery_session_free(sess);
		sess = NULL;
	}
	/* the socket id must be free: a session is kept only once its
	 * socket is gone, but a client could present it twice */
	if (sess != NULL && hmap_get(&nsp->by_id, sess->sid, strlen(sess->sid)) != NULL) {
		recovery_session_free(sess);
		sess = NULL;
	}
	if (sess == NULL && w->n_workers > 1 && json_string_length(pid) == SG_ID_LEN &&
	    json_string_length(offset) <= 20) {
		/* kept by another worker, maybe: the client's new connection
		 * landed wherever the kernel put it */
		a = sg_calloc(1, sizeof(*a) + nsp->name_len + 1);
		memcpy(a->nsp, nsp->name, nsp->name_len + 1);
		memcpy(a->sid, s->sid, sizeof(a->sid));
		a->pid = sg_strndup(json_string_value(pid), json_string_length(pid));
		a->offset = sg_strndup(json_string_value(offset), json_string_length(offset));
		a->data = json_incref((json_t *)p_data);
		a->cont = cont;
		a->origin = w->index;
		gather(w, -1, remote_part, remote_done, a);
		return true;
	}
	count(w, sess != NULL);
	*out = sess;
	return false;
}

void sio_recover_putback(struct sio_nsp *nsp, struct recovery_session *sess)
{
	recovery_moved(nsp->recovery, sess); /* an adopted one keeps its hashes */
	recovery_keep(nsp->recovery, sess->pid, sess->sid, &sess->rooms, sess->kept);
	sess->kept = NULL;
	recovery_session_free(sess);
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
	recovery_moved(nsp->recovery, sess);
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

	if (nsp->recovery == NULL || sock->pid[0] == '\0')
		return;
	/* Node's RECOVERABLE_DISCONNECT_REASONS that siogate has; a shutdown
	 * takes the process's sessions with it */
	if (!sock->connected || h->on_persist == NULL || h->on_recovered == NULL ||
	    (reason != SG_CLOSE_TRANSPORT_CLOSE && reason != SG_CLOSE_TRANSPORT_ERROR &&
	     reason != SG_CLOSE_PING_TIMEOUT)) {
		recovery_forget(nsp->recovery, sock->pid);
		return;
	}
	for (size_t i = 0; i < sock->rooms.n; i++)
		sg_strv_push(&rooms, sock->rooms.v[i].room->name);
	recovery_keep(nsp->recovery, sock->pid, sock->id, &rooms, h->on_persist(sock));
	sg_strv_free(&rooms);
	nsp->w->stats.recovery_kept++;
}
