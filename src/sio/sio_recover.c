/*
 * sio_recover.c: connection state recovery on the sockets (see
 * sio_recover.h), as Node's Namespace._createSocket and Socket._onclose do
 * it: the missed packets go out before the CONNECT answer, which the
 * client buffers until it is connected.
 */
#include "sio/sio_recover.h"

#include <string.h>

#include "config/config.h"
#include "core/gather.h"
#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"
#include "redis/replay_store.h"

/* How long a recovery waits for Redis before the client gets a new
 * socket. */
#define SIO_RECOVER_REDIS_DEADLINE_MS 500

/* How an attempt ended, for siogate_recovery_total{result}. */
enum outcome {
	RECOVERED,
	FALLBACK,
	OVERSIZED,
	UNAVAILABLE
};

/* A CONNECT on this worker asking the other workers, then Redis, for its
 * session. */
struct ask {
	sio_recover_cont cont;
	struct worker *w; /* the origin (read on its thread only) */
	json_t *data;	  /* the CONNECT's auth (a reference; only the origin touches it) */
	char *pid, *offset;
	uint8_t origin;
	char sid[SG_ID_LEN + 1]; /* the Engine.IO session's */
	char nsp[];
};

static void count(struct worker *w, enum outcome o)
{
	switch (o) {
	case RECOVERED:
		w->stats.recovery_recovered++;
		break;
	case FALLBACK:
		w->stats.recovery_fallback++;
		break;
	case OVERSIZED:
		w->stats.recovery_oversized++;
		break;
	case UNAVAILABLE:
		w->stats.recovery_unavailable++;
		break;
	}
}

/* sess (may be NULL), if nsp can give it to a new socket: placed in this
 * worker's log when it came from elsewhere, its socket id free, its
 * backlog within bounds.  Counted; NULL (sess freed) otherwise. */
static struct recovery_session *admit(struct sio_nsp *nsp, struct recovery_session *sess,
				      enum outcome none)
{
	enum outcome o = RECOVERED;

	if (sess == NULL)
		o = none;
	else if (sess->n_sig > 0 && !recovery_adopt(nsp->recovery, sess))
		o = FALLBACK; /* its last event is not in this log */
	/* the socket id must be free: a session is kept only once its
	 * socket is gone, but a client could present it twice */
	else if (hmap_get(&nsp->by_id, sess->sid, SG_ID_LEN) != NULL)
		o = FALLBACK;
	else if (recovery_oversized(nsp->recovery, sess))
		o = OVERSIZED;
	count(nsp->w, o);
	if (o != RECOVERED) {
		recovery_session_free(sess);
		return NULL;
	}
	return sess;
}

static void ask_free(struct ask *a)
{
	json_decref(a->data);
	free(a->pid);
	free(a->offset);
	free(a);
}

/* Back on the worker of the CONNECT with what was found (or NULL). */
static void ask_finish(struct worker *w, struct ask *a, struct recovery_session *sess,
		       enum outcome none)
{
	struct sio_nsp *nsp = sio_nsp_find(w, a->nsp, strlen(a->nsp));
	struct eio_session *s = hmap_get(&w->sessions_by_sid, a->sid, SG_ID_LEN);

	if (nsp == NULL) {
		recovery_session_free(sess);
	} else if (s == NULL || s->closing) {
		/* gone meanwhile: kept here for its next attempt */
		if (sess != NULL && (sess->n_sig == 0 || recovery_adopt(nsp->recovery, sess)))
			sio_recover_putback(nsp, sess);
		else
			recovery_session_free(sess);
	} else {
		a->cont(s, nsp, a->data, admit(nsp, sess, none));
	}
	ask_free(a);
}

static void redis_done(void *arg, const char *text, size_t len, bool unavailable)
{
	struct ask *a = arg;
	struct sio_nsp *nsp = sio_nsp_find(a->w, a->nsp, strlen(a->nsp));
	struct recovery_session *sess = NULL;

	if (text != NULL && nsp != NULL) {
		sess = recovery_store_load(text, len, a->offset, strlen(a->offset));
		if (sess == NULL)
			log_debug(
				"recovery: session %s of %s: offset %s is not among the kept ones",
				a->pid, a->nsp, a->offset);
	}
	ask_finish(a->w, a, sess, unavailable ? UNAVAILABLE : FALLBACK);
}

/* Not on any worker of this process: in Redis, when there is one. */
static void ask_redis(struct worker *w, struct ask *a)
{
	if (w->bridge == NULL) {
		ask_finish(w, a, NULL, FALLBACK);
		return;
	}
	if (replay_store_take(w->bridge, w->base, w->cfg->redis.prefix, a->nsp, a->pid,
			      SIO_RECOVER_REDIS_DEADLINE_MS, redis_done, a) != 0)
		ask_finish(w, a, NULL, UNAVAILABLE);
}

/* On each other worker: takes the session there, as text. */
static void remote_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct ask *a = ctx;
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

static void remote_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct ask *a = ctx;
	struct recovery_session *sess = NULL;

	for (size_t i = 0; i < n && sess == NULL; i++)
		if (parts[i].len > 0)
			sess = recovery_session_load(parts[i].data, parts[i].len);
	if (sess != NULL)
		ask_finish(w, a, sess, FALLBACK);
	else
		ask_redis(w, a);
}

bool sio_recover_lookup(struct sio_nsp *nsp, struct eio_session *s, const json_t *p_data,
			sio_recover_cont cont, struct recovery_session **out)
{
	struct worker *w = nsp->w;
	const json_t *pid = json_object_get(p_data, "pid");
	const json_t *offset = json_object_get(p_data, "offset");
	struct recovery_session *sess;
	struct ask *a;

	*out = NULL;
	if (nsp->recovery == NULL || w->handler->on_recovered == NULL || !json_is_string(pid) ||
	    !json_is_string(offset))
		return false;
	sess = recovery_take(nsp->recovery, json_string_value(pid), json_string_length(pid),
			     json_string_value(offset), json_string_length(offset));
	if (sess == NULL && (w->n_workers > 1 || w->bridge != NULL) &&
	    json_string_length(pid) == SG_ID_LEN &&
	    json_string_length(offset) <= RECOVERY_OFFSET_MAX) {
		/* kept by another worker or instance, maybe: the client's new
		 * connection landed wherever it was put */
		a = sg_calloc(1, sizeof(*a) + nsp->name_len + 1);
		memcpy(a->nsp, nsp->name, nsp->name_len + 1);
		memcpy(a->sid, s->sid, sizeof(a->sid));
		a->pid = sg_strndup(json_string_value(pid), json_string_length(pid));
		a->offset = sg_strndup(json_string_value(offset), json_string_length(offset));
		a->data = json_incref((json_t *)p_data);
		a->cont = cont;
		a->w = w;
		a->origin = w->index;
		if (w->n_workers > 1)
			gather(w, -1, remote_part, remote_done, a);
		else
			ask_redis(w, a);
		return true;
	}
	*out = admit(nsp, sess, FALLBACK);
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
	struct worker *w = nsp->w;
	const struct sio_handler *h = w->handler;
	struct sg_strv rooms = { 0 };
	bool stored = false;
	json_t *kept;
	char *text;

	if (nsp->recovery == NULL || sock->pid[0] == '\0')
		return;
	/* Node's RECOVERABLE_DISCONNECT_REASONS that siogate has, and a
	 * shutdown when the session can outlive the process (in Redis) */
	if (!sock->connected || h->on_persist == NULL || h->on_recovered == NULL ||
	    (reason != SG_CLOSE_TRANSPORT_CLOSE && reason != SG_CLOSE_TRANSPORT_ERROR &&
	     reason != SG_CLOSE_PING_TIMEOUT &&
	     !(reason == SG_CLOSE_SHUTDOWN && w->bridge != NULL))) {
		recovery_forget(nsp->recovery, sock->pid);
		return;
	}
	for (size_t i = 0; i < sock->rooms.n; i++)
		sg_strv_push(&rooms, sock->rooms.v[i].room->name);
	kept = h->on_persist(sock);
	if (w->bridge != NULL) {
		/* in Redis, for whichever instance the client reaches; here
		 * when Redis cannot take it now */
		text = recovery_store_text(nsp->recovery, sock->pid, sock->id, &rooms, kept);
		stored = replay_store_save(w->bridge, w->cfg->redis.prefix, nsp->name, sock->pid,
					   text, w->cfg->recovery.max_disconnection_ms) == 0;
		free(text);
	}
	if (stored) {
		recovery_forget(nsp->recovery, sock->pid);
		json_decref(kept);
	} else {
		recovery_keep(nsp->recovery, sock->pid, sock->id, &rooms, kept);
	}
	sg_strv_free(&rooms);
	w->stats.recovery_kept++;
}
