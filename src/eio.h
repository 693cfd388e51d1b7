/*
 * eio.h: Engine.IO v4 sessions.  A session has a sid, a transport (a
 * WebSocket in this milestone), the server-driven heartbeat, and the
 * Socket.IO state of the connection (sio.h).  It validates the handshake
 * request the way the Node server does, answers errors with its JSON codes,
 * and closes through eio_session_close() with a reason from close.def.
 */
#ifndef SG_EIO_H
#define SG_EIO_H

#include <event2/event.h>

#include "close.h"
#include "common.h"
#include "frame.h"
#include "ids.h"

struct worker;
struct conn;
struct ws;
struct http_request;
struct sio_socket;

struct eio_session {
	uint32_t magic;
	bool closing;
	bool awaiting_pong;
	bool ever_connected;          /* a namespace was joined at least once */
	unsigned pending_attachments; /* binary messages still expected */
	struct worker *w;
	struct ws *ws;                /* transport, borrowed (owned by its conn) */
	struct event *heartbeat;      /* ping interval, then pong timeout */
	struct sio_socket *sockets;   /* one per connected namespace */
	struct eio_session *prev, *next;
	struct eio_session *dead_next;
	int64_t issued_ms;            /* wall clock at the handshake */
	char *head;                   /* copy of the handshake request head (owned) */
	size_t head_len;
	char sid[SG_ID_LEN + 1];
	char addr[48];
	char peer[56];
};

/* Handles a request on server.path: validates it and upgrades it to a new
 * session, or answers the Engine.IO error. */
void eio_handle_request(struct worker *w, struct conn *c, const struct http_request *req);

/* A message received on the transport (text: an Engine.IO packet; binary: a
 * binary message). */
void eio_on_message(struct eio_session *s, bool binary, const char *data, size_t len);

/* The transport went away (its conn is closing). */
void eio_on_transport_closed(struct eio_session *s, enum sg_close reason);

/* Sends an Engine.IO message packet ("4" + data). */
void eio_send_message(struct eio_session *s, const char *data, size_t len);
void eio_send_binary(struct eio_session *s, const void *data, size_t len);
/* Sends a shared, pre-encoded frame. */
void eio_send_frame(struct eio_session *s, struct sg_frame *f);

/* Ends the session.  graceful: queued packets are flushed and the transport
 * is closed with a close frame; otherwise it is dropped at once. */
void eio_session_close(struct eio_session *s, enum sg_close reason, bool graceful);

/* The handshake's request head, re-parsed (for tokens, headers, query). */
int eio_session_request(const struct eio_session *s, struct http_request *req) SG_WUR;

/* The reaper's call. */
void eio_session_free(struct eio_session *s);

#endif
