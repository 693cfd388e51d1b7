/*
 * sio.c: Socket.IO v5 sockets and namespaces (see sio.h).  Invariants: a
 * socket is in its namespace's id map and list and on its session's list
 * from CONNECT until socket_close(), then only on the worker's dead list; a
 * session has at most one socket per namespace; a BINARY_EVENT/BINARY_ACK
 * waits on its session (struct sio_pending) until its attachments are in,
 * and text arriving before that closes the connection, as in Node.
 */
#include "sio/sio.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "eio/eio.h"
#include "core/ids.h"
#include "core/json_js.h"
#include "core/log.h"
#include "proto/sio_packet.h"
#include "core/worker.h"

#define SIO_MAGIC 0x5105105au
/* socket.io-parser's default maxAttachments. */
#define SIO_MAX_ATTACHMENTS 10

/* A binary packet waiting for its attachments: the packet text is kept and
 * decoded again once they are all in. */
struct sio_pending {
	char *text;
	size_t text_len;
	unsigned expected;
	unsigned n;
	struct sio_attachment att[];
};

static struct sio_socket *session_socket(struct eio_session *s, const struct sio_nsp *nsp);
static void dispatch(struct eio_session *s, const struct sio_packet *p,
		     const struct sio_attachment *att, size_t n_att);
static void on_connect(struct eio_session *s, const struct sio_packet *p);
static void socket_close(struct sio_socket *sock, enum sg_close reason);
static void send_packet(struct sio_socket *sock, enum sio_type type, int64_t id,
			const char *json, size_t len, const struct sio_attachment *att,
			size_t n_att);

struct sio_nsp *sio_nsp_new(struct worker *w, const char *name)
{
	size_t len = strlen(name);
	struct sio_nsp *nsp = sg_calloc(1, sizeof(*nsp) + len + 1);

	nsp->w = w;
	memcpy(nsp->name, name, len + 1);
	nsp->name_len = len;
	hmap_init(&nsp->by_id);
	rooms_init(&nsp->rooms);
	return nsp;
}

void sio_nsp_free(struct sio_nsp *nsp)
{
	if (nsp == NULL)
		return;
	hmap_fini(&nsp->by_id);
	rooms_fini(&nsp->rooms);
	free(nsp);
}

struct sio_socket *sio_nsp_socket(const struct sio_nsp *nsp, const char *id, size_t len)
{
	return hmap_get(&nsp->by_id, id, len);
}

bool sio_nsp_id_taken(const struct sio_nsp *nsp, const char *id, size_t len)
{
	const struct worker *w = nsp->w;
	struct worker *owner;
	const struct sio_nsp *other;
	int k = sg_id_worker(id, len);
	bool taken;

	if (hmap_get(&nsp->by_id, id, len) != NULL)
		return true;
	if (k < 0 || (size_t)k >= w->n_workers || k == w->index)
		return false;
	/* the id names another worker: read its table under its lock */
	owner = w->siblings[k];
	other = worker_nsp(owner, nsp->name, nsp->name_len);
	if (other == NULL)
		return false;
	pthread_rwlock_rdlock(&owner->ids_lock);
	taken = hmap_get(&other->by_id, id, len) != NULL;
	pthread_rwlock_unlock(&owner->ids_lock);
	return taken;
}

struct room_set *sio_socket_room_set(struct sio_socket *sock)
{
	return &sock->rooms;
}

static struct sio_socket *session_socket(struct eio_session *s, const struct sio_nsp *nsp)
{
	for (struct sio_socket *sock = s->sockets; sock; sock = sock->eio_next)
		if (sock->nsp == nsp)
			return sock;
	return NULL;
}

/* Sends one packet, then its binary attachments (BINARY_EVENT/BINARY_ACK
 * carry their count in the head). */
static void send_packet(struct sio_socket *sock, enum sio_type type, int64_t id,
			const char *json, size_t len, const struct sio_attachment *att,
			size_t n_att)
{
	struct sg_buf b;

	sg_buf_init(&b);
	sio_packet_encode_head(&b, type, sock->nsp->name, (unsigned)n_att, id);
	sg_buf_append(&b, json, len);
	eio_send_message(sock->eio, b.data, b.len);
	sg_buf_fini(&b);
	for (size_t i = 0; i < n_att; i++)
		eio_send_binary(sock->eio, att[i].data, att[i].len);
}

void sio_socket_send_event(struct sio_socket *sock, const char *args, size_t len)
{
	if (!sock->closing)
		send_packet(sock, SIO_EVENT, -1, args, len, NULL, 0);
}

void sio_socket_send_ack(struct sio_socket *sock, int64_t id, const char *args, size_t len)
{
	if (!sock->closing)
		send_packet(sock, SIO_ACK, id, args, len, NULL, 0);
}

static void on_connect(struct eio_session *s, const struct sio_packet *p)
{
	struct worker *w = s->w;
	struct sio_nsp *nsp = worker_nsp(w, p->nsp, p->nsp_len);
	struct sio_socket *sock;
	struct sg_buf b;

	if (nsp == NULL) {
		sg_buf_init(&b);
		/* head with the requested namespace as the client wrote it */
		sg_buf_append_char(&b, '4');
		if (!(p->nsp_len == 1 && p->nsp[0] == '/')) {
			sg_buf_append(&b, p->nsp, p->nsp_len);
			sg_buf_append_char(&b, ',');
		}
		sg_buf_append_str(&b, "{\"message\":\"Invalid namespace\"}");
		eio_send_message(s, b.data, b.len);
		sg_buf_fini(&b);
		return;
	}
	if (session_socket(s, nsp) != NULL) {
		/* Node closes the connection on a second CONNECT. */
		eio_log(SG_LOG_DEBUG, s, NULL, "second CONNECT to %s", nsp->name);
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		return;
	}
	sock = sg_calloc(1, sizeof(*sock));
	sock->magic = SIO_MAGIC;
	sock->eio = s;
	sock->nsp = nsp;
	sg_id_new(sock->id, w->index, &w->id_counter);
	if (p->data != NULL) {
		struct sg_buf auth;
		sg_buf_init(&auth);
		json_js_value(&auth, p->data);
		sock->auth = sg_buf_steal(&auth);
	}
	worker_ids_lock(w);
	hmap_put(&nsp->by_id, sock->id, SG_ID_LEN, sock);
	worker_ids_unlock(w);
	sock->next = nsp->all;
	if (nsp->all)
		nsp->all->prev = sock;
	nsp->all = sock;
	nsp->n_sockets++;
	sock->eio_next = s->sockets;
	s->sockets = sock;
	s->ever_connected = true;

	sg_buf_init(&b);
	sg_buf_printf(&b, "{\"sid\":\"%s\"}", sock->id);
	send_packet(sock, SIO_CONNECT, -1, b.data, b.len, NULL, 0);
	sg_buf_fini(&b);
	w->handler->on_connect(sock);
}

/* A decoded packet (with its attachments, for binary types) for a socket. */
static void dispatch(struct eio_session *s, const struct sio_packet *p,
		     const struct sio_attachment *att, size_t n_att)
{
	struct sio_nsp *nsp = worker_nsp(s->w, p->nsp, p->nsp_len);
	struct sio_socket *sock = nsp ? session_socket(s, nsp) : NULL;

	if (sock == NULL || p->type == SIO_CONNECT_ERROR) {
		/* Node: a packet for a namespace the client is not in closes. */
		eio_log(SG_LOG_DEBUG, s, NULL, "Socket.IO packet type %d in an invalid state",
			(int)p->type);
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		return;
	}
	switch (p->type) {
	case SIO_DISCONNECT:
		socket_close(sock, SG_CLOSE_CLIENT_NSP_DISCONNECT);
		break;
	case SIO_EVENT:
	case SIO_BINARY_EVENT:
		s->w->handler->on_event(sock, p, att, n_att);
		break;
	case SIO_ACK:
	case SIO_BINARY_ACK:
		cluster_on_client_ack(sock, p->id, p->data);
		break;
	default:
		break;
	}
}

void sio_on_text(struct eio_session *s, const char *data, size_t len)
{
	struct sio_packet p;
	struct sg_err err = { 0 };
	struct sio_pending *pend;

	if (s->pending != NULL) {
		eio_log(SG_LOG_DEBUG, s, NULL, "text while binary attachments were expected");
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		return;
	}
	if (sio_packet_decode(data, len, SIO_MAX_ATTACHMENTS, &p, &err) != 0) {
		eio_log(SG_LOG_DEBUG, s, NULL, "invalid Socket.IO packet: %s", err.msg);
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		return;
	}
	if (p.type == SIO_CONNECT) {
		on_connect(s, &p);
	} else if (p.type == SIO_BINARY_EVENT || p.type == SIO_BINARY_ACK) {
		if (sio_packet_check_placeholders(&p, &err) != 0) {
			eio_log(SG_LOG_DEBUG, s, NULL, "%s", err.msg);
			eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		} else {
			/* attachments <= SIO_MAX_ATTACHMENTS, checked by the decoder */
			pend = sg_calloc(1, sizeof(*pend) + p.attachments * sizeof(pend->att[0]));
			pend->text = sg_strndup(data, len);
			pend->text_len = len;
			pend->expected = p.attachments;
			s->pending = pend;
		}
	} else {
		dispatch(s, &p, NULL, 0);
	}
	sio_packet_fini(&p);
}

void sio_on_binary(struct eio_session *s, const char *data, size_t len)
{
	struct sio_pending *pend = s->pending;
	struct sg_err err = { 0 };
	struct sio_packet p;

	if (pend == NULL) {
		eio_log(SG_LOG_DEBUG, s, NULL, "binary message without a binary packet");
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		return;
	}
	pend->att[pend->n].data = sg_strndup(data, len);
	pend->att[pend->n].len = len;
	if (++pend->n < pend->expected)
		return;
	s->pending = NULL;
	if (sio_packet_decode(pend->text, pend->text_len, SIO_MAX_ATTACHMENTS, &p, &err) != 0)
		sg_fatal("a pending packet no longer decodes: %s", err.msg);
	dispatch(s, &p, pend->att, pend->n);
	sio_packet_fini(&p);
	sio_pending_free(pend);
}

void sio_pending_free(struct sio_pending *pend)
{
	if (pend == NULL)
		return;
	for (unsigned i = 0; i < pend->n; i++)
		free((char *)pend->att[i].data);
	free(pend->text);
	free(pend);
}

void sio_socket_send_binary(struct sio_socket *sock, bool ack, int64_t id, const char *args,
			    size_t len, const struct sio_attachment *att, size_t n_att)
{
	enum sio_type type;

	if (sock->closing)
		return;
	if (n_att > 0)
		type = ack ? SIO_BINARY_ACK : SIO_BINARY_EVENT;
	else
		type = ack ? SIO_ACK : SIO_EVENT;
	send_packet(sock, type, id, args, len, att, n_att);
}

static void socket_close(struct sio_socket *sock, enum sg_close reason)
{
	struct eio_session *s = sock->eio;
	struct sio_nsp *nsp = sock->nsp;
	struct worker *w = nsp->w;
	struct sio_socket **pp;

	if (sock->closing)
		return;
	sock->closing = true;
	nsp->w->handler->on_close(sock, reason);
	cluster_socket_closed(sock);
	rooms_leave_all(&nsp->rooms, sock, &sock->rooms);
	worker_ids_lock(nsp->w);
	hmap_del(&nsp->by_id, sock->id, SG_ID_LEN);
	worker_ids_unlock(nsp->w);
	if (sock->prev)
		sock->prev->next = sock->next;
	else
		nsp->all = sock->next;
	if (sock->next)
		sock->next->prev = sock->prev;
	nsp->n_sockets--;
	for (pp = &s->sockets; *pp; pp = &(*pp)->eio_next) {
		if (*pp == sock) {
			*pp = sock->eio_next;
			break;
		}
	}
	sock->dead_next = w->dead_sockets;
	w->dead_sockets = sock;
	worker_schedule_reap(w);
}

void sio_socket_disconnect(struct sio_socket *sock, enum sg_close reason)
{
	struct eio_session *s = sock->eio;

	if (sock->closing)
		return;
	send_packet(sock, SIO_DISCONNECT, -1, "", 0, NULL, 0);
	socket_close(sock, reason);
	if (s->sockets == NULL)
		eio_session_close(s, reason, true);
}

void sio_on_session_closed(struct eio_session *s, enum sg_close reason)
{
	while (s->sockets != NULL)
		socket_close(s->sockets, reason);
}

void sio_socket_free(struct sio_socket *sock)
{
	free(sock->auth);
	sock->magic = 0;
	free(sock);
}
