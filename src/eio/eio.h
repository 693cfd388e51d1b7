/*
 * eio.h: Engine.IO v4 sessions.  A session has a sid, a transport (HTTP
 * long-polling or a WebSocket, and the polling -> WebSocket upgrade), the
 * server-driven heartbeat, and room for the state of the layer above it
 * (Socket.IO, sio.h), which it reaches only through the eio_handler
 * registered on the worker.  It validates requests the way the Node server
 * does, answers errors with its JSON codes, and ends through
 * eio_session_close() with a reason from close.def.
 */
#ifndef SG_EIO_H
#define SG_EIO_H

#include <event2/event.h>

#include "core/close.h"
#include "core/common.h"
#include "core/ids.h"
#include "core/log.h"
#include "proto/ws_frame.h"

struct worker;
struct conn;
struct ws;
struct http_request;
struct sio_socket;
struct sio_pending;

struct eio_session;

/* What a session tells the layer above it, registered on the worker
 * (worker->eio_handler) at start-up: Socket.IO in the daemon, an echo in
 * the conformance program.  Called from the session's own events. */
struct eio_handler {
	/* A message: an Engine.IO "4" packet's data (binary false) or a
	 * binary message. */
	void (*on_message)(struct eio_session *s, bool binary, const char *data, size_t len);
	/* s is closing for reason (its transport is still there). */
	void (*on_closed)(struct eio_session *s, enum sg_close reason);
	/* s moved from polling to its WebSocket (may be NULL). */
	void (*on_upgraded)(struct eio_session *s);
	/* s is being freed: release what the user keeps in it. */
	void (*on_free)(struct eio_session *s);
	/* Whether s, open since issued_ms, waited too long for its user to take
	 * it (Socket.IO: no namespace joined in time): the heartbeat then closes
	 * it with SG_CLOSE_CONNECT_TIMEOUT.  NULL: never. */
	bool (*connect_overdue)(const struct eio_session *s, int64_t now_ms);
};

/* The Engine.IO layer's part of every worker (worker_module): its session
 * table, its timeouts, and the client listeners' requests. */
extern const struct worker_module eio_module;

/* The order of a session's deferred free (worker_defer): after its sockets,
 * before its connection. */
#define EIO_DEFER_FREE 1

enum eio_transport {
	EIO_POLLING,   /* HTTP long-polling */
	EIO_WEBSOCKET, /* WebSocket */
};

/* A packet waiting for the next polling GET (or for the end of an upgrade). */
struct eio_qentry {
	struct eio_qentry *next;
	bool binary; /* raw bytes of a binary message */
	size_t len;
	char data[]; /* text: the whole Engine.IO packet ("4..."); binary: the bytes */
};

struct eio_session {
	uint32_t magic;
	uint8_t transport; /* enum eio_transport */
	bool closing;
	bool finished; /* handed to the reaper */
	bool draining; /* polling: closed, last packets wait for a GET */
	bool awaiting_pong;
	bool upgrading;		     /* probe answered, waiting for the "5" */
	bool close_after_upgrade;    /* closed gracefully mid-upgrade: finish it, flush, close */
	bool over_output;	     /* polling: queue past limits.output_hard; closes next turn */
	uint8_t close_reason;	     /* enum sg_close, for close_after_upgrade */
	bool ever_connected;	     /* a namespace was joined at least once */
	bool secure;		     /* the handshake came over TLS */
	struct sio_pending *pending; /* the handler's: a binary packet waiting for its
					 attachments (freed by on_free) */
	struct worker *w;
	struct ws *ws;		     /* WebSocket transport, borrowed (owned by its conn) */
	struct ws *probe;	     /* WebSocket being upgraded to, borrowed */
	struct conn *get;	     /* polling: the GET waiting for packets, borrowed */
	struct event *heartbeat;     /* ping interval, pong timeout, or the drain deadline */
	struct event *upgrade_timer; /* only during an upgrade */
	struct eio_qentry *q_head;   /* polling output queue */
	struct eio_qentry **q_tail;
	size_t q_bytes;
	struct sio_socket *sockets; /* the handler's: one per connected namespace */
	struct eio_session *prev, *next;
	int64_t issued_ms; /* wall clock at the handshake */
	char *head;	   /* copy of the handshake request head (owned) */
	size_t head_len;
	char sid[SG_ID_LEN + 1];
	char addr[48];
	char peer[56];
};

/* Handles a request on server.path (body: the POST body, or NULL):
 * a handshake, a polling GET or POST, a WebSocket for a new session or the
 * upgrade of a polling one, a CORS preflight, or an Engine.IO error. */
void eio_handle_request(struct worker *w, struct conn *c, const struct http_request *req,
			const char *body, size_t body_len);

/* Sends an Engine.IO message packet ("4" + data), a binary message, or a
 * shared pre-encoded WebSocket frame. */
void eio_send_message(struct eio_session *s, const char *data, size_t len);
void eio_send_binary(struct eio_session *s, const void *data, size_t len);
void eio_send_frame(struct eio_session *s, struct sg_frame *f);

/* Whether s still takes requests with its sid: open, or closed but still
 * delivering its last packets (draining a polling queue, or finishing an
 * upgrade that will carry them). */
static inline bool eio_session_takes_requests(const struct eio_session *s)
{
	return !s->closing || s->draining || s->close_after_upgrade;
}

/* Ends the session.  graceful: queued packets still reach the client, then
 * the transport closes; otherwise it is dropped at once. */
void eio_session_close(struct eio_session *s, enum sg_close reason, bool graceful);

/* The facts of a log record about s (log.h): address, sid, worker. */
void eio_facts(const struct eio_session *s, struct log_facts *f);
/* Logs a record about s, with reason why (NULL: none). */
#define eio_log(level, s, why, ...) log_about(level, eio_facts, s, why, __VA_ARGS__)

/* Ends the session now, whatever it was waiting for (a last GET, the end
 * of an upgrade): for shutdown. */
void eio_session_abort(struct eio_session *s, enum sg_close reason);

/* The handshake's request head, re-parsed (for tokens, headers, query). */
int eio_session_request(const struct eio_session *s, struct http_request *req) SG_WUR;

/* The reaper's call. */
void eio_session_free(struct eio_session *s);

/* Engine.IO's HTTP error codes, answered as {"code":N,"message":...}. */
enum eio_error {
	EIO_ERR_TRANSPORT_UNKNOWN = 0,
	EIO_ERR_SID_UNKNOWN = 1,
	EIO_ERR_BAD_HANDSHAKE_METHOD = 2,
	EIO_ERR_BAD_REQUEST = 3,
	EIO_ERR_FORBIDDEN = 4,
	EIO_ERR_UNSUPPORTED_PROTOCOL = 5,
};

/* Answers an HTTP request with Engine.IO error `code` as Node does: 403 for
 * FORBIDDEN, else 400; JSON, or the bare message to a refused upgrade. */
void eio_http_error(struct conn *c, bool upgrade, enum eio_error code, const char *headers);

/* Removes a closed session from every index and hands it to the reaper. */
void eio_session_finish(struct eio_session *s);

#endif
