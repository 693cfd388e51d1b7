/*
 * ws.c: WebSocket connections (see ws.h).  Frames are parsed straight from
 * the connection's input buffer (ws_frame.c) and delivered in place, so an
 * idle WebSocket costs this small struct and nothing else; only a message
 * that arrives in fragments gets a buffer, for as long as it takes.
 * Invariant: every frame siogate sends is written whole into the output
 * buffer, so frames never interleave.
 */
#include "net/ws.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/worker.h"
#include "net/conn.h"
#include "proto/http.h"
#include "proto/ws_accept.h"
#include "proto/ws_frame.h"

struct ws {
	struct conn *c;
	const struct ws_handler *h; /* the user's, or NULL: messages are dropped */
	void *arg;
	struct sg_buf *frag; /* a fragmented message so far (owned), or NULL */
	uint64_t max_msg;
	uint8_t frag_opcode; /* its opcode (text or binary); 0 when none */
	bool close_sent;
};

static void upgrade_error(struct conn *c, const char *msg);
static void fail(struct ws *ws, enum sg_close reason);
static void send_control(struct ws *ws, uint8_t opcode, const void *data, size_t len);
static void deliver(struct ws *ws, uint8_t opcode, uint8_t *data, size_t len);
static void drop_fragments(struct ws *ws);
static enum sg_close frame_reason(uint16_t code);
static void on_readable(void *arg, struct evbuffer *in);
static void on_conn_closed(void *arg, enum sg_close reason);
static void ws_free(void *arg);

/* How the connection hands its bytes and its end to the ws. */
static const struct conn_stream ws_stream = { .on_readable = on_readable,
					      .on_closed = on_conn_closed,
					      .free = ws_free };

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
	sg_buf_init(&acc);
	ws_accept_key(key->value, key->value_len, &acc);

	ws = sg_calloc(1, sizeof(*ws));
	ws->c = c;
	ws->max_msg = max_msg;
	/* permessage-deflate is declined, as Node's server does by default. */
	evbuffer_add_printf(conn_output(c),
			    "HTTP/1.1 101 Switching Protocols\r\n"
			    "Upgrade: websocket\r\n"
			    "Connection: Upgrade\r\n"
			    "Sec-WebSocket-Accept: %s\r\n%s\r\n",
			    acc.data, extra_headers ? extra_headers : "");
	sg_buf_fini(&acc);
	conn_upgrade(c, &ws_stream, ws);
	return ws;
}

void ws_set_handler(struct ws *ws, const struct ws_handler *h, void *arg)
{
	ws->h = h;
	ws->arg = arg;
}

struct conn *ws_conn(const struct ws *ws)
{
	return ws->c;
}

static void send_control(struct ws *ws, uint8_t opcode, const void *data, size_t len)
{
	uint8_t hdr[10];
	size_t hl = ws_frame_header(hdr, opcode, len);
	struct evbuffer *out = conn_output(ws->c);

	evbuffer_add(out, hdr, hl);
	if (len)
		evbuffer_add(out, data, len);
	ws->c->w->stats.bytes_out += hl + len;
}

/* A protocol violation: close with the code of its reason (close.def), as
 * Node's ws library does. */
static void fail(struct ws *ws, enum sg_close reason)
{
	ws_close(ws, reason);
}

/* The close reason of a failed frame check's code (ws_frame.h). */
static enum sg_close frame_reason(uint16_t code)
{
	switch (code) {
	case WS_CLOSE_INVALID_DATA:
		return SG_CLOSE_INVALID_UTF8;
	case WS_CLOSE_TOO_BIG:
		return SG_CLOSE_MESSAGE_TOO_BIG;
	default:
		return SG_CLOSE_TRANSPORT_ERROR;
	}
}

static void drop_fragments(struct ws *ws)
{
	if (ws->frag) {
		sg_buf_fini(ws->frag);
		free(ws->frag);
		ws->frag = NULL;
	}
	ws->frag_opcode = 0;
}

/* A whole message (text: checked as UTF-8 first). */
static void deliver(struct ws *ws, uint8_t opcode, uint8_t *data, size_t len)
{
	if (opcode == WS_OP_TEXT && !ws_utf8_valid(data, len)) {
		fail(ws, SG_CLOSE_INVALID_UTF8);
		return;
	}
	if (ws->h != NULL)
		ws->h->on_message(ws->arg, ws, opcode == WS_OP_BINARY, (const char *)data, len);
}

/* Parses and delivers every whole frame buffered in `in` (the conn's read
 * callback); a partial frame stays there until the rest arrives. */
static void on_readable(void *arg, struct evbuffer *in)
{
	struct ws *ws = arg;

	while (ws->c->state == CONN_WS) {
		size_t avail = evbuffer_get_length(in);
		uint8_t peek[14];
		struct ws_frame_hdr h;
		uint16_t code = 0;
		uint8_t *frame, *payload;
		size_t need;
		int rc;

		if (avail == 0)
			return;
		rc = ws_frame_parse(peek,
				    (size_t)evbuffer_copyout(in, peek, avail < 14 ? avail : 14), &h,
				    &code);
		if (rc == 0)
			return; /* the header is not all here yet */
		if (rc < 0) {
			fail(ws, frame_reason(code));
			return;
		}
		if (h.opcode <= WS_OP_BINARY) {
			uint64_t so_far = ws->frag ? ws->frag->len : 0;
			if ((h.opcode == WS_OP_CONTINUATION) != (ws->frag_opcode != 0)) {
				fail(ws,
				     SG_CLOSE_TRANSPORT_ERROR); /* continuation without a start, or a start inside */
				return;
			}
			if (h.len > ws->max_msg || so_far + h.len > ws->max_msg) {
				fail(ws,
				     SG_CLOSE_MESSAGE_TOO_BIG); /* before waiting for a payload that big */
				return;
			}
		}
		need = h.hdr_len + (size_t)h.len;
		if (avail < need)
			return; /* wait for the whole frame (bounded by max_msg above) */
		frame = evbuffer_pullup(in, (ev_ssize_t)need);
		payload = frame + h.hdr_len;
		ws_unmask(payload, (size_t)h.len, h.mask, 0);
		ws->c->w->stats.bytes_in += need;
		switch (h.opcode) {
		case WS_OP_PING:
			send_control(ws, WS_OP_PONG, payload, (size_t)h.len);
			break;
		case WS_OP_PONG:
			break;
		case WS_OP_CLOSE:
			/* RFC 6455 7.4: a code not allowed on the wire gets 1002, a
			 * reason that is not UTF-8 1007 (and 1005/1006/1015 are
			 * never echoed) */
			if (ws_close_check(payload, (size_t)h.len, &code) != 0) {
				fail(ws, frame_reason(code));
				return;
			}
			if (!ws->close_sent) {
				/* echo the client's code (none: a bare close), then FIN */
				ws->close_sent = true;
				send_control(ws, WS_OP_CLOSE, payload, h.len >= 2 ? 2 : 0);
			}
			evbuffer_drain(in, need);
			conn_close_after_flush(ws->c, SG_CLOSE_TRANSPORT_CLOSE);
			return;
		default:
			if (h.fin && ws->frag_opcode == 0) {
				deliver(ws, h.opcode, payload,
					(size_t)h.len); /* the usual case: no copy */
			} else {
				if (ws->frag == NULL) {
					ws->frag = sg_calloc(1, sizeof(*ws->frag));
					ws->frag_opcode = h.opcode;
				}
				sg_buf_append(ws->frag, payload, (size_t)h.len);
				if (h.fin) {
					struct sg_buf *m = ws->frag;
					uint8_t op = ws->frag_opcode;
					ws->frag = NULL;
					ws->frag_opcode = 0;
					deliver(ws, op, (uint8_t *)m->data, m->len);
					sg_buf_fini(m);
					free(m);
				}
			}
			break;
		}
		if (ws->c->state != CONN_WS && ws->c->state != CONN_FLUSHING)
			return; /* closed at once by an upper layer: the buffer goes with it */
		evbuffer_drain(in, need);
	}
}

/* One data frame: header and optional prefix byte in one evbuffer_add, then
 * the payload. */
static void send_data(struct ws *ws, uint8_t opcode, char prefix, const void *data, size_t len)
{
	struct evbuffer *out;
	uint8_t hdr[11];
	size_t hl, n = len + (prefix ? 1 : 0);

	if (ws->c->state != CONN_WS)
		return;
	out = conn_output(ws->c);
	hl = ws_frame_header(hdr, opcode, n);
	if (prefix)
		hdr[hl++] = (uint8_t)prefix;
	evbuffer_add(out, hdr, hl);
	evbuffer_add(out, data, len);
	ws->c->w->stats.bytes_out += hl + len;
	conn_check_output(ws->c);
}

void ws_send_text(struct ws *ws, char prefix, const char *data, size_t len)
{
	send_data(ws, WS_OP_TEXT, prefix, data, len);
}

void ws_send_binary(struct ws *ws, const void *data, size_t len)
{
	send_data(ws, WS_OP_BINARY, 0, data, len);
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
	uint16_t code = sg_close_ws_code(reason);
	uint8_t payload[2] = { (uint8_t)(code >> 8), (uint8_t)code };

	if (ws->c->state != CONN_WS)
		return;
	/* The reason's code, or a bare close frame (the client sees 1005), as
	 * Node's server sends for a close of its own. */
	if (!ws->close_sent) {
		ws->close_sent = true;
		send_control(ws, WS_OP_CLOSE, payload, code != 0 ? sizeof(payload) : 0);
	}
	conn_close_after_flush(ws->c, reason);
}

/* The conn's teardown tells the ws (and through it its handler). */
static void on_conn_closed(void *arg, enum sg_close reason)
{
	struct ws *ws = arg;
	const struct ws_handler *h = ws->h;

	if (h != NULL) {
		ws->h = NULL;
		h->on_closed(ws->arg, ws, reason);
	}
}

static void ws_free(void *arg)
{
	struct ws *ws = arg;

	drop_fragments(ws);
	free(ws);
}
