/*
 * engine_ws.c: the WebSocket transport of libsiogate-client's engine, on
 * wslay in client mode (RFC 6455 masking keys from RAND_bytes): the
 * connection after its 101, frames in (each text frame one Engine.IO packet,
 * each binary frame one binary message) and messages out.  wslay answers
 * pings and close frames itself.  Below the polling transport (which sends
 * the upgrade's probe here) and engine.c; packets, failures and the end of
 * a shutdown go up through e->ops.
 */
#include <event2/buffer.h>
#include <openssl/rand.h>

#include "engine_int.h"
#include "siogate/client.h"

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
			  void *arg);
static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
			  void *arg);
static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *arg);
static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m,
		      void *arg);

static const struct wslay_event_callbacks ws_callbacks = {
	.recv_callback = ws_recv_cb,
	.send_callback = ws_send_cb,
	.genmask_callback = ws_genmask_cb,
	.on_msg_recv_callback = ws_msg_cb,
};

/* ------------------------------------------------------------------ the transport */

void eng_ws_upgraded(struct eng_conn *c)
{
	struct sgc_engine *e = c->e;

	if (wslay_event_context_client_init(&c->ws, &ws_callbacks, c) != 0)
		sg_fatal("wslay: cannot create a client context");
	wslay_event_config_set_max_recv_msg_length(c->ws, e->max_message);
	c->st = CS_WS;
	/* the bytes after the head are still in the input: the first frames */
	if (c == e->probe)
		eng_ws_send(c, false, "2", "probe", 5);
	eng_ws_readable(c);
}

void eng_ws_readable(struct eng_conn *c)
{
	struct sgc_engine *e = c->e;
	int rc;

	if (c->bev == NULL || c->ws == NULL)
		return;
	c->ws_in = bufferevent_get_input(c->bev);
	rc = wslay_event_recv(c->ws);
	c->ws_in = NULL;
	if (c->st != CS_WS || !eng_alive(e))
		return;
	eng_ws_flush(c);
	if (c->st != CS_WS)
		return;
	if (rc != 0) {
		if (rc == WSLAY_ERR_CALLBACK_FAILURE || !wslay_event_get_read_enabled(c->ws)) {
			/* fall through to the close handling below */
		} else {
			eng_conn_failed(c, SGC_ERR_PROTOCOL,
					"invalid WebSocket data from the server");
			return;
		}
	}
	if (!wslay_event_get_read_enabled(c->ws)) {
		if (e->st == ENG_CLOSING && c == e->ws) {
			e->ops->closed(e);
			return;
		}
		if (wslay_event_get_status_code_sent(c->ws) == WSLAY_CODE_MESSAGE_TOO_BIG)
			eng_conn_failed(c, FAIL_ERROR,
					"message from the server larger than max_message");
		else if (wslay_event_get_close_received(c->ws))
			eng_conn_failed(c, FAIL_CLOSE, "the server closed the WebSocket");
		else
			eng_conn_failed(c, SGC_ERR_PROTOCOL,
					"invalid WebSocket data from the server");
	}
}

/* What the connection had to write is written: the close frame of a
 * shutdown ends it. */
void eng_ws_written(struct eng_conn *c)
{
	struct sgc_engine *e = c->e;

	if (c == e->ws && e->st == ENG_CLOSING && c->ws != NULL &&
	    !wslay_event_get_write_enabled(c->ws) && !wslay_event_want_write(c->ws))
		e->ops->closed(e);
}

void eng_ws_flush(struct eng_conn *c)
{
	if (c->ws != NULL && c->bev != NULL && wslay_event_want_write(c->ws))
		(void)wslay_event_send(c->ws); /* ws_send_cb never fails */
}

void eng_ws_send(struct eng_conn *c, bool binary, const char *prefix, const void *data, size_t len)
{
	struct wslay_event_msg m;
	struct sg_buf *b = &c->e->sendbuf;

	if (c->ws == NULL || c->st != CS_WS)
		return;
	sg_buf_reset(b);
	if (prefix)
		sg_buf_append_str(b, prefix);
	sg_buf_append(b, data, len);
	m.opcode = binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME;
	m.msg = (const uint8_t *)b->data;
	m.msg_length = b->len;
	if (wslay_event_queue_msg(c->ws, &m) != 0)
		return; /* closing: dropped */
	eng_ws_flush(c);
}

/* ------------------------------------------------------------------ wslay callbacks */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
			  void *arg)
{
	struct eng_conn *c = arg;
	int n;

	SG_UNUSED(flags);
	if (c->st != CS_WS || c->ws_in == NULL || !eng_alive(c->e)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	n = evbuffer_remove(c->ws_in, buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
			  void *arg)
{
	struct eng_conn *c = arg;

	SG_UNUSED(ctx);
	SG_UNUSED(flags);
	if (c->bev != NULL && c->st != CS_DEAD)
		bufferevent_write(c->bev, data, len);
	return (ssize_t)len;
}

static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *arg)
{
	SG_UNUSED(ctx);
	SG_UNUSED(arg);
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m,
		      void *arg)
{
	struct eng_conn *c = arg;
	struct sgc_engine *e = c->e;
	struct eio_packet pk;

	SG_UNUSED(ctx);
	if (c->st != CS_WS || !eng_alive(e))
		return;
	if (m->opcode == WSLAY_BINARY_FRAME) {
		pk.type = EIO_MESSAGE;
		pk.binary = true;
		pk.data = (const char *)m->msg;
		pk.len = m->msg_length;
		e->ops->packet(e, c, &pk);
	} else if (m->opcode == WSLAY_TEXT_FRAME) {
		if (eio_packet_decode_any((const char *)m->msg, m->msg_length, &e->scratch, &pk) !=
		    0) {
			/* a dropped probe, or a session that fails */
			eng_conn_failed(c, SGC_ERR_PROTOCOL,
					"invalid Engine.IO packet from the server");
			return;
		}
		e->ops->packet(e, c, &pk);
	}
	/* ping, pong and close frames are handled by wslay */
}
