/*
 * ws.h: the WebSocket layer of an upgraded connection.  Client frames are
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
struct eio_session;

struct ws;

/* Validates the upgrade headers of req and, when they are acceptable, writes
 * the 101 answer and attaches a new ws to c (c->ws, c->state = CONN_WS).
 * Returns the ws, or NULL after answering the client with an error (the
 * connection is then closing).  max_msg bounds a received message;
 * extra_headers (CRLF-terminated lines, or NULL) go into the 101 answer. */
struct ws *ws_upgrade(struct conn *c, const struct http_request *req, uint64_t max_msg,
		      const char *extra_headers);

/* Routes received messages to sess (borrowed; the session detaches itself
 * with ws_set_session(ws, NULL) before it goes away). */
void ws_set_session(struct ws *ws, struct eio_session *sess);

/* Parses and delivers every whole frame buffered in `in` (the conn's read
 * callback); a partial frame stays there until the rest arrives. */
void ws_on_readable(struct ws *ws, struct evbuffer *in);

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

/* The conn's teardown tells the ws (and through it the session). */
void ws_on_conn_closed(struct ws *ws, enum sg_close reason);
void ws_free(struct ws *ws);

struct conn *ws_conn(const struct ws *ws);

#endif
