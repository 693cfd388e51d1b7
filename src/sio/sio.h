/*
 * sio.h: Socket.IO v5 on top of an Engine.IO session: namespaces (each with
 * its sockets and its room index), CONNECT/DISCONNECT, events and acks in
 * both directions, and the strictness of the Node decoder (a packet it would
 * reject closes the connection).  Each connected namespace is a struct
 * sio_socket with its own id; what runs on the sockets (the authenticate
 * flow, app/authflow.h) is the sio_handler registered on the worker, which
 * may extend each socket with its own state (socket_size).
 */
#ifndef SG_SIO_H
#define SG_SIO_H

#include <jansson.h>

#include "core/close.h"
#include "core/common.h"
#include "core/hmap.h"
#include "core/ids.h"
#include "proto/ws_frame.h"
#include "sio/rooms.h"

struct worker;
struct eio_session;
struct sio_packet;
struct sio_pending;
struct recovery;
struct sio_socket;

/* A binary attachment of a packet (borrowed for the handler call). */
struct sio_attachment {
	const char *data;
	size_t len;
};

/* What runs on top of the sockets, registered on the worker at start-up:
 * the authenticate flow (app/authflow.c) in the daemon, an echo application
 * in the conformance program. */
struct sio_handler {
	/* Bytes of a socket: sizeof(struct sio_socket), or more for a handler
	 * that keeps its own state after it (a struct that begins with the
	 * sio_socket); the extra bytes start zeroed. */
	size_t socket_size;
	/* A CONNECT to a namespace made sock.  Returns false: the CONNECT is
	 * answered at once ({sid}); true: the handler answers it itself, now
	 * or later, with sio_socket_accept() or sio_socket_refuse() (a verdict
	 * that waits on a verifier).  Until answered the socket is in no room
	 * and receives nothing. */
	bool (*on_connect)(struct sio_socket *sock);
	/* An EVENT or a completed BINARY_EVENT (p and att borrowed). */
	void (*on_event)(struct sio_socket *sock, const struct sio_packet *p,
			 const struct sio_attachment *att, size_t n_att);
	void (*on_close)(struct sio_socket *sock, enum sg_close reason);
	/* Connection state recovery (recovery.enabled; both may be NULL: no
	 * session is kept).  on_persist: sock ended uncleanly and its session
	 * is kept; returns the identity to keep with it (a new reference, or
	 * NULL), called before on_close.  on_recovered: a CONNECT took a kept
	 * session back: sock has its id and rooms again and is answered by the
	 * layer (missed broadcasts, then {sid, pid}) once this returns; kept is
	 * the identity on_persist gave (the reference is the handler's).  It
	 * replaces on_connect for that socket; sock->broadcasts set here decides
	 * whether the missed broadcasts are replayed. */
	json_t *(*on_persist)(struct sio_socket *sock);
	void (*on_recovered)(struct sio_socket *sock, json_t *kept);
};

/* Who watches the life of every socket of a worker (the Admin UI), set
 * with sio_observe() only while someone watches: unwatched, each hook
 * point costs one pointer test.  Calls come after the change. */
struct sio_observer {
	/* sock's CONNECT was answered {sid}. */
	void (*on_connected)(struct sio_socket *sock);
	/* A connected sock ends for reason; its rooms are left right after
	 * (on_room for each). */
	void (*on_closed)(struct sio_socket *sock, enum sg_close reason);
	/* sock joined (joined true) or left room name (len bytes, borrowed). */
	void (*on_room)(struct sio_socket *sock, const char *name, size_t len, bool joined);
	/* The session of connected sock moved from polling to WebSocket. */
	void (*on_upgraded)(struct sio_socket *sock);
};

/* An ACK siogate waits for from a client, for the emitter of a packet with
 * that ack id.  The user embeds it in its own struct (owned by the user,
 * lent to the socket until cb runs): cb runs exactly once, with the ACK's
 * arguments, or with args NULL when the wait ends without them (the socket
 * closed, the deadline passed, or the socket's bound on waits evicted it);
 * it frees what it owns. */
struct sio_ack_wait {
	struct sio_ack_wait *next;
	uint32_t id;
	int64_t deadline_ms; /* monotonic */
	void (*cb)(struct sio_ack_wait *a, struct sio_socket *sock, const json_t *args);
};

/* The Socket.IO layer's part of every worker (worker_module): the
 * namespaces, and Engine.IO's messages. */
extern const struct worker_module sio_module;

/* The order of a socket's deferred free (worker_defer): before its
 * session's. */
#define SIO_DEFER_FREE 2

struct sio_nsp {
	struct worker *w;
	const struct sio_handler *handler; /* its sockets' handler (sio_nsp_add), else
					      NULL: the worker's */
	struct hmap by_id;		   /* socket id -> struct sio_socket */
	struct sio_socket *all;		   /* every socket of the namespace */
	size_t n_sockets;
	struct rooms rooms;
	struct recovery *recovery; /* recovery.enabled: sessions and replay log, else NULL */
	size_t name_len;
	char name[];
};

struct sio_socket {
	uint32_t magic;
	bool closing;
	struct eio_session *eio;
	struct sio_nsp *nsp;
	struct sio_socket *eio_next;	/* the session's sockets */
	struct sio_socket *prev, *next; /* nsp->all */
	bool broadcasts;		/* broadcasts reach it: the handler says so (the
					    authenticate flow: once authenticated) */
	bool connected;			/* the CONNECT was answered {sid} */
	struct room_set rooms;
	uint32_t sent_stamp;	  /* broadcast dedup (worker->bcast_stamp) */
	int32_t flood_tokens;	  /* limits.events_per_second bucket, in 1/1000 events */
	uint32_t flood_refill_ms; /* when the bucket was last refilled (mono ms, wraps) */
	uint32_t except_stamp;
	char *auth;		   /* the CONNECT payload as JSON text (owned) or NULL:
					    text costs a third of the parsed object, and it is
					    read once (the token) and written out (IHandshake) */
	struct sio_ack_wait *acks; /* ACKs waited for, oldest first (lent, see above) */
	uint32_t next_ack_id;	   /* ids of the acks siogate asks the client for */
	char id[SG_ID_LEN + 1];
	char pid[SG_ID_LEN + 1]; /* private session id (recovery.enabled), "" without */
};

/* Adds namespace name to w, its sockets run by handler (borrowed) instead
 * of the worker's: a namespace of siogate's own (the Admin UI's), added by a
 * module's init after the Socket.IO layer's, on every worker in the same
 * order.  NULL: the name is already a namespace. */
struct sio_nsp *sio_nsp_add(struct worker *w, const char *name, const struct sio_handler *handler);

/* Sets (or clears, obs NULL) who watches w's sockets (borrowed). */
void sio_observe(struct worker *w, const struct sio_observer *obs);

/* The namespace of w called name (len bytes), or NULL: not configured. */
struct sio_nsp *sio_nsp_find(struct worker *w, const char *name, size_t len);

/* Sends an EVENT whose data is the JSON array text args (["name", ...]). */
void sio_socket_send_event(struct sio_socket *sock, const char *args, size_t len);
/* Sends an ACK with the JSON array text args. */
void sio_socket_send_ack(struct sio_socket *sock, int64_t id, const char *args, size_t len);
/* Sends an EVENT (ack false) or ACK (ack true), with ack id `id` (-1:
 * none), whose args hold placeholders for n_att binary attachments,
 * followed by them (a plain EVENT/ACK when n_att is 0). */
void sio_socket_send_binary(struct sio_socket *sock, bool ack, int64_t id, const char *args,
			    size_t len, const struct sio_attachment *att, size_t n_att);

/* Answers the CONNECT of a socket whose handler took the answer
 * (on_connect returned true): {sid}, and the socket is connected. */
void sio_socket_accept(struct sio_socket *sock);
/* ... or refuses it: CONNECT_ERROR with data (a JSON object, e.g.
 * {"message":"..."}), as Node's io.use() middleware does; the socket ends
 * for reason, the Engine.IO session stays (the client may try again, or
 * close it; an unused session ends after the connect timeout). */
void sio_socket_refuse(struct sio_socket *sock, const char *data, size_t len, enum sg_close reason);

/* Ends a socket for a reason of siogate's: sends DISCONNECT (so the client
 * does not reconnect), then closes the Engine.IO session gracefully when it
 * was its last namespace. */
void sio_socket_disconnect(struct sio_socket *sock, enum sg_close reason);

struct sio_socket *sio_nsp_socket(const struct sio_nsp *nsp, const char *id, size_t len);
/* id is the id of a socket of this namespace on any worker of the process
 * (a room no client may join). */
bool sio_nsp_id_taken(const struct sio_nsp *nsp, const char *id, size_t len);

/* Waits for the client's ACK with id a->id (taken from sock->next_ack_id
 * by the caller when it sent the packet) until deadline_ms; at most
 * max_waits waits per socket, the oldest evicted first. */
void sio_socket_wait_ack(struct sio_socket *sock, struct sio_ack_wait *a, uint32_t id,
			 int64_t deadline_ms, size_t max_waits);

#endif
