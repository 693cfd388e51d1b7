/*
 * ws.h: the WebSocket layer of an upgraded connection (its conn_stream).  Client frames are
 * parsed and validated in place (ws_frame.c: masking, control frames, UTF-8
 * of text messages, fragmentation, the max_payload limit answered with
 * 1009); siogate writes its own frames straight into the connection's output
 * buffer, which is what lets a broadcast share one encoded frame between
 * recipients.
 */
#ifndef SG_WS_H
#define SG_WS_H

#include <event2/buffer.h>

#include "core/close.h"
#include "core/common.h"
#include "proto/ws_frame.h"

struct conn;
struct http_request;

struct ws;

/* What a ws tells the layer above it (Engine.IO registers one for each
 * session it attaches, ws_set_handler).  Called from the connection's read
 * callback; arg is the one given to ws_set_handler. */
struct ws_handler {
	/* A whole message arrived: text (valid UTF-8) or binary. */
	void (*on_message)(void *arg, struct ws *ws, bool binary, const char *data, size_t len);
	/* The connection under ws is closing for reason: ws calls no more. */
	void (*on_closed)(void *arg, struct ws *ws, enum sg_close reason);
};

/* Validates the upgrade headers of req and, when they are acceptable, writes
 * the 101 answer and attaches a new ws to c (c->ws, c->state = CONN_WS).
 * Returns the ws, or NULL after answering the client with an error (the
 * connection is then closing).  max_msg bounds a received message;
 * extra_headers (CRLF-terminated lines, or NULL) go into the 101 answer. */
struct ws *ws_upgrade(struct conn *c, const struct http_request *req, uint64_t max_msg,
		      const char *extra_headers);

/* Routes what ws receives to h with arg (both borrowed; the user detaches
 * with ws_set_handler(ws, NULL, NULL) before arg goes away).  Until a
 * handler is set, messages are dropped. */
void ws_set_handler(struct ws *ws, const struct ws_handler *h, void *arg);

/* Sends one text message made of a one-character prefix (0 for none) and
 * data, or a binary message. */
void ws_send_text(struct ws *ws, char prefix, const char *data, size_t len);
void ws_send_binary(struct ws *ws, const void *data, size_t len);
/* Queues a shared frame (takes a new reference). */
void ws_send_frame(struct ws *ws, struct sg_frame *f);

/* Sends a close frame and closes the connection once it is written. */
void ws_close(struct ws *ws, enum sg_close reason);

/* Bytes queued and not yet written to the socket. */
size_t ws_pending(const struct ws *ws);

struct conn *ws_conn(const struct ws *ws);

#endif
