/*
 * sio.h: Socket.IO v5 on top of an Engine.IO session: namespaces (each with
 * its sockets and its room index), CONNECT/DISCONNECT, events and acks in
 * both directions, and the strictness of the Node decoder (a packet it would
 * reject closes the connection).  Each connected namespace is a struct
 * sio_socket with its own id, running the helper state machine of session.h.
 */
#ifndef SG_SIO_H
#define SG_SIO_H

#include "core/close.h"
#include "core/common.h"
#include "proto/ws_frame.h"
#include "core/hmap.h"
#include "core/ids.h"
#include "sio/rooms.h"
#include "app/authflow.h"

struct worker;
struct eio_session;
struct sio_packet;
struct sio_pending;
struct cluster_ack;

/* A binary attachment of a packet (borrowed for the handler call). */
struct sio_attachment {
	const char *data;
	size_t len;
};

/* What runs on top of the sockets: the helper state machine (session.c) in
 * the daemon, an echo application in the conformance program. */
struct sio_handler {
	void (*on_connect)(struct sio_socket *sock);
	/* An EVENT or a completed BINARY_EVENT (p and att borrowed). */
	void (*on_event)(struct sio_socket *sock, const struct sio_packet *p,
			 const struct sio_attachment *att, size_t n_att);
	void (*on_close)(struct sio_socket *sock, enum sg_close reason);
};

/* The daemon's handler (session.c). */
extern const struct sio_handler authflow_handler;

struct sio_nsp {
	struct worker *w;
	struct hmap by_id;               /* socket id -> struct sio_socket */
	struct sio_socket *all;          /* every socket of the namespace */
	size_t n_sockets;
	struct rooms rooms;
	size_t name_len;
	char name[];
};

struct sio_socket {
	uint32_t magic;
	bool closing;
	struct eio_session *eio;
	struct sio_nsp *nsp;
	struct sio_socket *eio_next;     /* the session's sockets */
	struct sio_socket *prev, *next;  /* nsp->all */
	struct sio_socket *dead_next;
	struct authflow sess;
	struct room_set rooms;
	uint32_t sent_stamp;             /* broadcast dedup (worker->bcast_stamp) */
	int32_t flood_tokens;            /* limits.events_per_second bucket, in 1/1000 events */
	uint32_t flood_refill_ms;        /* when the bucket was last refilled (mono ms, wraps) */
	uint32_t except_stamp;
	char *auth;                      /* the CONNECT payload as JSON text (owned) or NULL:
					    text costs a third of the parsed object, and it is
					    read once (the token) and written out (IHandshake) */
	struct cluster_ack *acks;        /* acks a cluster peer waits for (owned, cluster.c) */
	uint32_t next_ack_id;            /* ids of the acks siogate asks the client for */
	char id[SG_ID_LEN + 1];
};

struct sio_nsp *sio_nsp_new(struct worker *w, const char *name);
void sio_nsp_free(struct sio_nsp *nsp);

/* Engine.IO hands over messages. */
void sio_on_text(struct eio_session *s, const char *data, size_t len);
void sio_on_binary(struct eio_session *s, const char *data, size_t len);
/* The Engine.IO session is closing: every socket goes, silently. */
void sio_on_session_closed(struct eio_session *s, enum sg_close reason);

/* Sends an EVENT whose data is the JSON array text args (["name", ...]). */
void sio_socket_send_event(struct sio_socket *sock, const char *args, size_t len);
/* Sends an ACK with the JSON array text args. */
void sio_socket_send_ack(struct sio_socket *sock, int64_t id, const char *args, size_t len);
/* Sends an EVENT (ack false) or ACK (ack true), with ack id `id` (-1:
 * none), whose args hold placeholders for n_att binary attachments,
 * followed by them (a plain EVENT/ACK when n_att is 0). */
void sio_socket_send_binary(struct sio_socket *sock, bool ack, int64_t id, const char *args,
			    size_t len, const struct sio_attachment *att, size_t n_att);

/* Ends a socket for a reason of siogate's: sends DISCONNECT (so the client
 * does not reconnect), then closes the Engine.IO session gracefully when it
 * was its last namespace. */
void sio_socket_disconnect(struct sio_socket *sock, enum sg_close reason);

struct sio_socket *sio_nsp_socket(const struct sio_nsp *nsp, const char *id, size_t len);
/* id is the id of a socket of this namespace on any worker of the process
 * (a room no client may join). */
bool sio_nsp_id_taken(const struct sio_nsp *nsp, const char *id, size_t len);

/* Reaper. */
void sio_socket_free(struct sio_socket *sock);
/* Drops a session's half-received binary packet. */
void sio_pending_free(struct sio_pending *p);

#endif
