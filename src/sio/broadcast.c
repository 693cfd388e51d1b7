/*
 * broadcast.c: local fan-out (see broadcast.h).  Deduplication and the
 * except set use two per-socket stamps compared with a fresh worker stamp,
 * so a broadcast allocates nothing per recipient and needs no set.
 */
#include "sio/broadcast.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"
#include "proto/adapter_codec.h"
#include "proto/emit_msg.h"
#include "proto/sio_packet.h"
#include "sio/recovery.h"
#include "sio/rooms.h"
#include "sio/sio.h"

static void mark_except(struct sio_nsp *nsp, const char *name, uint32_t stamp);
static size_t send_to(struct sio_socket *sock, uint32_t stamp, struct sg_frame *packet,
		      struct sg_frame *const *att, size_t n_att);

static void mark_except(struct sio_nsp *nsp, const char *name, uint32_t stamp)
{
	size_t len = strlen(name);
	struct room *room = rooms_find(&nsp->rooms, name, len);
	struct sio_socket *sock;

	if (room != NULL) {
		for (uint32_t i = 0; i < room->n_members; i++)
			room->members[i]->except_stamp = stamp;
	} else if ((sock = sio_nsp_socket(nsp, name, len)) != NULL) {
		sock->except_stamp = stamp;
	}
}

static size_t send_to(struct sio_socket *sock, uint32_t stamp, struct sg_frame *packet,
		      struct sg_frame *const *att, size_t n_att)
{
	if (sock->sent_stamp == stamp || sock->except_stamp == stamp || sock->closing ||
	    !sock->broadcasts)
		return 0;
	sock->sent_stamp = stamp;
	eio_send_frame(sock->eio, packet);
	for (size_t i = 0; i < n_att; i++)
		eio_send_frame(sock->eio, att[i]);
	return 1;
}

uint32_t broadcast_next_stamp(struct worker *w)
{
	if (++w->bcast_stamp == 0) {
		for (size_t k = 0; k < w->n_nsps; k++)
			for (struct sio_socket *s = w->nsps[k]->all; s; s = s->next)
				s->sent_stamp = s->except_stamp = 0;
		++w->bcast_stamp;
	}
	return w->bcast_stamp;
}

size_t broadcast_deliver(struct worker *w, struct sio_nsp *nsp, const struct sg_strv *rooms,
			 const struct sg_strv *except, struct sg_frame *packet,
			 struct sg_frame *const *att, size_t n_att)
{
	uint32_t stamp = broadcast_next_stamp(w);
	int64_t started = sg_mono_ns();
	size_t n = 0;

	for (size_t i = 0; except && i < except->n; i++)
		mark_except(nsp, except->v[i], stamp);
	if (rooms == NULL || rooms->n == 0) {
		for (struct sio_socket *s = nsp->all; s; s = s->next)
			n += send_to(s, stamp, packet, att, n_att);
	} else {
		for (size_t i = 0; i < rooms->n; i++) {
			size_t len = strlen(rooms->v[i]);
			struct room *room = rooms_find(&nsp->rooms, rooms->v[i], len);
			struct sio_socket *s;
			if (room != NULL) {
				for (uint32_t k = 0; k < room->n_members; k++)
					n += send_to(room->members[k], stamp, packet, att, n_att);
			} else if ((s = sio_nsp_socket(nsp, rooms->v[i], len)) != NULL) {
				n += send_to(s, stamp, packet, att, n_att);
			}
		}
	}
	w->stats.broadcasts++;
	w->stats.deliveries += n;
	hist_observe_since(&w->stats.fanout, started);
	return n;
}

size_t broadcast_select(struct worker *w, struct sio_nsp *nsp, const struct sg_strv *rooms,
			const struct sg_strv *except, bool authenticated_only,
			struct sio_socket ***out)
{
	struct sio_socket **v = NULL;
	size_t n = 0, cap = 0, kept = 0;
	uint32_t stamp;

	if (rooms == NULL || rooms->n == 0) {
		for (struct sio_socket *s = nsp->all; s; s = s->next) {
			if (n == cap)
				v = sg_realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));
			v[n++] = s;
		}
	} else {
		stamp = broadcast_next_stamp(w);
		for (size_t i = 0; i < rooms->n; i++) {
			size_t len = strlen(rooms->v[i]);
			struct room *room = rooms_find(&nsp->rooms, rooms->v[i], len);
			struct sio_socket *one =
				room ? NULL : sio_nsp_socket(nsp, rooms->v[i], len);
			uint32_t m = room ? room->n_members : (one ? 1 : 0);
			for (uint32_t k = 0; k < m; k++) {
				struct sio_socket *s = room ? room->members[k] : one;
				if (s->sent_stamp == stamp)
					continue;
				s->sent_stamp = stamp;
				if (n == cap)
					v = sg_realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));
				v[n++] = s;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct sio_socket *s = v[i];
		bool excluded = s->closing || (authenticated_only && !s->broadcasts);
		for (size_t k = 0; except && k < except->n && !excluded; k++)
			excluded = strcmp(except->v[k], s->id) == 0 ||
				   room_set_has(&s->rooms, except->v[k]);
		if (!excluded)
			v[kept++] = s;
	}
	*out = v;
	return kept;
}

size_t broadcast_adapter_message(struct worker *w, const struct adapter_broadcast *m)
{
	struct sio_nsp *nsp = sio_nsp_find(w, m->nsp, strlen(m->nsp));
	struct sg_frame *packet, *att[16] = { 0 };
	size_t n_att = m->n_attachments, n;
	enum sio_type type;
	struct sg_buf b;

	if (nsp == NULL || n_att > SG_ARRAY_LEN(att))
		return 0;
	if (m->type == SIO_ACK || m->type == SIO_BINARY_ACK)
		type = n_att ? SIO_BINARY_ACK : SIO_ACK;
	else
		type = n_att ? SIO_BINARY_EVENT : SIO_EVENT;
	sg_buf_init(&b);
	sio_packet_encode_head(&b, type, nsp->name, (unsigned)n_att, -1);
	sg_buf_append(&b, m->data_json, m->data_json_len);
	/* Node's SessionAwareAdapter offsets and logs the events (binary or
	 * not) that are not volatile */
	if (nsp->recovery != NULL && (type == SIO_EVENT || type == SIO_BINARY_EVENT) &&
	    !m->flag_volatile)
		recovery_stamp(nsp->recovery, &b, &m->rooms, &m->except, m->attachments, n_att);
	packet = frame_new(WS_OP_TEXT, '4', b.data, b.len);
	sg_buf_fini(&b);
	for (size_t i = 0; i < n_att; i++)
		att[i] = frame_new(WS_OP_BINARY, 0, m->attachments[i].data, m->attachments[i].len);
	n = broadcast_deliver(w, nsp, &m->rooms, &m->except, packet, att, n_att);
	frame_unref(packet);
	for (size_t i = 0; i < n_att; i++)
		frame_unref(att[i]);
	return n;
}

bool broadcast_unknown_nsp(struct worker *w, const char *nsp, size_t len, const char *where)
{
	char name[128];

	if (sio_nsp_find(w, nsp, len) != NULL)
		return false;
	if (w->unknown_nsps.n > BROADCAST_UNKNOWN_NSP_MAX)
		return true;
	snprintf(name, sizeof(name), "%.*s", (int)(len < 100 ? len : 100), nsp);
	if (sg_strv_contains(&w->unknown_nsps, name))
		return true;
	sg_strv_push(&w->unknown_nsps, name);
	if (w->unknown_nsps.n > BROADCAST_UNKNOWN_NSP_MAX)
		log_warn("bridge: messages for more than %d namespaces that are not in namespaces; "
			 "no more are named",
			 BROADCAST_UNKNOWN_NSP_MAX);
	else
		log_warn("bridge: a message for namespace %s (on %s) reaches no client: it is not "
			 "in namespaces; add it there (namespaces: [\"/\", \"%s\"]) if siogate's "
			 "clients should get it (logged once per namespace)",
			 name, where, name);
	return true;
}

size_t broadcast_emit_msg(struct worker *w, const struct emit_msg *m)
{
	struct sio_nsp *nsp = sio_nsp_find(w, m->nsp, strlen(m->nsp));
	struct sg_frame *packet;
	struct sg_buf b;
	size_t n;

	if (nsp == NULL)
		return 0;
	sg_buf_init(&b);
	sio_packet_encode_head(&b, SIO_EVENT, nsp->name, 0, -1);
	sg_buf_append(&b, m->args, m->args_len);
	if (nsp->recovery != NULL && !m->is_volatile) /* as an adapter message's */
		recovery_stamp(nsp->recovery, &b, &m->to, &m->except, NULL, 0);
	packet = frame_new(WS_OP_TEXT, '4', b.data, b.len);
	sg_buf_fini(&b);
	n = broadcast_deliver(w, nsp, &m->to, &m->except, packet, NULL, 0);
	frame_unref(packet);
	return n;
}
