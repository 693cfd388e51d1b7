/*
 * ws.c: WebSocket on wslay (see ws.h).  Invariant: wslay's own send queue is
 * flushed into the output buffer right after every wslay call that can fill
 * it (its send callback never blocks), so siogate's directly written frames
 * and wslay's control frames can never interleave mid-frame.
 */
#include "ws.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

#include "base64.h"
#include "conn.h"
#include "eio.h"
#include "http.h"
#include "log.h"
#include "worker.h"

struct ws {
	struct conn *c;
	wslay_event_context_ptr ctx;
	struct eio_session *sess;
	struct evbuffer *in; /* borrowed during ws_on_readable */
};

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
		       void *arg);
static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
		       int flags, void *arg);
static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m,
		   void *arg);
static void flush_wslay(struct ws *ws);
static void upgrade_error(struct conn *c, const char *msg);

static const struct wslay_event_callbacks callbacks = {
	.recv_callback = recv_cb,
	.send_callback = send_cb,
	.on_msg_recv_callback = msg_cb,
};

static void upgrade_error(struct conn *c, const char *msg)
{
	/* Node writes upgrade errors raw, as text/html, then destroys the socket. */
	conn_respond(c, 400, "text/html", NULL, msg, strlen(msg));
}

struct ws *ws_upgrade(struct conn *c, const struct http_request *req, uint64_t max_msg,
		      const char *extra_headers)
{
	const struct http_header *key = http_request_header(req, "sec-websocket-key");
	const struct http_header *ver = http_request_header(req, "sec-websocket-version");
	unsigned char digest[SHA_DIGEST_LENGTH];
	char keyguid[24 + sizeof(ws_guid)];
	struct sg_buf acc;
	struct ws *ws;

	if (key == NULL || key->value_len != 24) {
		upgrade_error(c, "Missing or invalid Sec-WebSocket-Key");
		return NULL;
	}
	if (ver == NULL || ver->value_len != 2 || memcmp(ver->value, "13", 2) != 0) {
		upgrade_error(c, "Unsupported WebSocket version");
		return NULL;
	}
	memcpy(keyguid, key->value, 24);
	memcpy(keyguid + 24, ws_guid, sizeof(ws_guid) - 1);
	SHA1((const unsigned char *)keyguid, 24 + sizeof(ws_guid) - 1, digest);
	sg_buf_init(&acc);
	base64_encode(&acc, digest, sizeof(digest));

	ws = sg_calloc(1, sizeof(*ws));
	ws->c = c;
	if (wslay_event_context_server_init(&ws->ctx, &callbacks, ws) != 0)
		sg_fatal("wslay_event_context_server_init failed");
	wslay_event_config_set_max_recv_msg_length(ws->ctx, max_msg);
	/* permessage-deflate is declined, as Node's server does by default. */
	evbuffer_add_printf(conn_output(c),
			    "HTTP/1.1 101 Switching Protocols\r\n"
			    "Upgrade: websocket\r\n"
			    "Connection: Upgrade\r\n"
			    "Sec-WebSocket-Accept: %s\r\n%s\r\n",
			    acc.data, extra_headers ? extra_headers : "");
	sg_buf_fini(&acc);
	c->ws = ws;
	c->state = CONN_WS;
	return ws;
}

void ws_set_session(struct ws *ws, struct eio_session *sess)
{
	ws->sess = sess;
}

struct conn *ws_conn(const struct ws *ws)
{
	return ws->c;
}

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
		       void *arg)
{
	struct ws *ws = arg;
	int n;

	SG_UNUSED(flags);
	if (ws->in == NULL || !conn_is_open(ws->c)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	n = evbuffer_remove(ws->in, buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	ws->c->w->stats.bytes_in += (uint64_t)n;
	return n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
		       int flags, void *arg)
{
	struct ws *ws = arg;

	SG_UNUSED(ctx);
	SG_UNUSED(flags);
	if (ws->c->state == CONN_DEAD)
		return (ssize_t)len; /* dropped: nobody will read it */
	evbuffer_add(conn_output(ws->c), data, len);
	ws->c->w->stats.bytes_out += len;
	return (ssize_t)len;
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m,
		   void *arg)
{
	struct ws *ws = arg;

	SG_UNUSED(ctx);
	if (ws->c->state != CONN_WS || ws->sess == NULL)
		return;
	if (m->opcode == WSLAY_TEXT_FRAME)
		eio_on_message(ws->sess, ws, false, (const char *)m->msg, m->msg_length);
	else if (m->opcode == WSLAY_BINARY_FRAME)
		eio_on_message(ws->sess, ws, true, (const char *)m->msg, m->msg_length);
	/* ping, pong and close frames are answered by wslay itself */
}

static void flush_wslay(struct ws *ws)
{
	if (wslay_event_want_write(ws->ctx))
		(void)wslay_event_send(ws->ctx); /* send_cb never fails */
}

void ws_on_readable(struct ws *ws, struct evbuffer *in)
{
	int rc;

	ws->in = in;
	rc = wslay_event_recv(ws->ctx);
	ws->in = NULL;
	if (ws->c->state != CONN_WS)
		return; /* an upper layer closed the connection meanwhile */
	flush_wslay(ws);
	if (rc != 0) {
		conn_close(ws->c, SG_CLOSE_TRANSPORT_ERROR);
		return;
	}
	if (!wslay_event_get_read_enabled(ws->ctx)) {
		uint16_t sent = wslay_event_get_status_code_sent(ws->ctx);
		enum sg_close why = SG_CLOSE_TRANSPORT_CLOSE;
		if (sent == WSLAY_CODE_MESSAGE_TOO_BIG)
			why = SG_CLOSE_MESSAGE_TOO_BIG;
		else if (!wslay_event_get_close_received(ws->ctx))
			why = SG_CLOSE_TRANSPORT_ERROR;
		else if (sent != WSLAY_CODE_NORMAL_CLOSURE && sent != WSLAY_CODE_NO_STATUS_RCVD &&
			 sent != 0 && sent != WSLAY_CODE_GOING_AWAY)
			why = SG_CLOSE_TRANSPORT_ERROR;
		conn_close_after_flush(ws->c, why);
	}
}

void ws_send_text(struct ws *ws, char prefix, const char *data, size_t len)
{
	struct evbuffer *out;
	uint8_t hdr[10];
	size_t hl;

	if (ws->c->state != CONN_WS)
		return;
	out = conn_output(ws->c);
	hl = ws_frame_header(hdr, WS_OP_TEXT, len + (prefix ? 1 : 0));
	evbuffer_add(out, hdr, hl);
	if (prefix)
		evbuffer_add(out, &prefix, 1);
	evbuffer_add(out, data, len);
	ws->c->w->stats.bytes_out += hl + len + (prefix ? 1 : 0);
	conn_check_output(ws->c);
}

void ws_send_binary(struct ws *ws, const void *data, size_t len)
{
	struct evbuffer *out;
	uint8_t hdr[10];
	size_t hl;

	if (ws->c->state != CONN_WS)
		return;
	out = conn_output(ws->c);
	hl = ws_frame_header(hdr, WS_OP_BINARY, len);
	evbuffer_add(out, hdr, hl);
	evbuffer_add(out, data, len);
	ws->c->w->stats.bytes_out += hl + len;
	conn_check_output(ws->c);
}

static void frame_cleanup(const void *data, size_t len, void *arg)
{
	SG_UNUSED(data);
	SG_UNUSED(len);
	frame_unref(arg);
}

void ws_send_frame(struct ws *ws, struct sg_frame *f)
{
	if (ws->c->state != CONN_WS)
		return;
	frame_ref(f);
	if (evbuffer_add_reference(conn_output(ws->c), f->data, f->len, frame_cleanup, f) != 0)
		frame_unref(f);
	else
		ws->c->w->stats.bytes_out += f->len;
	conn_check_output(ws->c);
}

size_t ws_pending(const struct ws *ws)
{
	return evbuffer_get_length(conn_output(ws->c));
}

void ws_close(struct ws *ws, enum sg_close reason)
{
	static const uint8_t close_frame[2] = { 0x88, 0x00 };

	if (ws->c->state != CONN_WS)
		return;
	/* A bare close frame, as Node sends (the client sees 1005). */
	if (!wslay_event_get_close_sent(ws->ctx))
		evbuffer_add(conn_output(ws->c), close_frame, sizeof(close_frame));
	conn_close_after_flush(ws->c, reason);
}

void ws_on_conn_closed(struct ws *ws, enum sg_close reason)
{
	struct eio_session *sess = ws->sess;

	if (sess != NULL) {
		ws->sess = NULL;
		eio_on_transport_closed(sess, ws, reason);
	}
}

void ws_free(struct ws *ws)
{
	wslay_event_context_free(ws->ctx);
	free(ws);
}
