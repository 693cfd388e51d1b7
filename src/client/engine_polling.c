/*
 * engine_polling.c: the long-polling transport of libsiogate-client's
 * engine (one request per connection: a held GET to receive and at most one
 * POST at a time to send what is queued, split at the server's
 * maxPayload), what the answers to those requests mean, and the upgrade
 * from polling to WebSocket (2probe / 3probe, polling paused, then 5 and
 * the queue moved to the WebSocket).  Above the WebSocket transport and the
 * connections, below engine.c: packets, failures and the end of a shutdown
 * go up through e->ops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "siogate/client.h"

static int payload_packet_cb(const struct eio_packet *p, void *arg);

/* ------------------------------------------------------------------ the send queue */

void eng_queue_push(struct sgc_engine *e, enum eio_type type, bool binary, const void *data,
		    size_t len)
{
	struct eng_pkt *p;

	if (e->q_n == e->q_cap) {
		e->q_cap = e->q_cap ? e->q_cap * 2 : 16;
		e->q = sg_realloc(e->q, e->q_cap * sizeof(*e->q));
	}
	p = &e->q[e->q_n++];
	p->type = type;
	p->binary = binary;
	p->data = sg_malloc(len + 1);
	memcpy(p->data, data, len);
	p->len = len;
}

void eng_queue_clear(struct sgc_engine *e)
{
	size_t i;

	for (i = 0; i < e->q_n; i++)
		free(e->q[i].data);
	e->q_n = 0;
}

/* ------------------------------------------------------------------ requests */

/* Starts the polling GET and POST that are due, unless the upgrade pauses
 * polling. */
void eng_poll_pump(struct sgc_engine *e)
{
	char err[200];

	if (e->tr != TR_POLLING || (e->st != ENG_OPEN && e->st != ENG_CLOSING))
		return;
	if (e->probe_ok) {
		eng_maybe_finish_upgrade(e);
		return;
	}
	if (e->get == NULL && e->st == ENG_OPEN) {
		struct eng_conn *c = eng_conn_new(e, CK_GET);
		sg_buf_append_str(&c->req, "GET ");
		eng_build_url(e, &c->req, "polling", true);
		sg_buf_append_str(&c->req, " HTTP/1.1\r\n");
		eng_add_common_headers(e, &c->req);
		sg_buf_append_str(&c->req, "Connection: close\r\n\r\n");
		e->get = c;
		if (eng_conn_start(c, err, sizeof(err)) != 0) {
			eng_fail_later(e, SGC_ERR_CONNECT, err);
			return;
		}
	}
	if (e->post == NULL && e->q_n > 0) {
		struct eng_conn *c = eng_conn_new(e, CK_POST);
		struct sg_buf body;
		size_t i, used = 0;

		sg_buf_init(&body);
		for (i = 0; i < e->q_n; i++) {
			size_t before = body.len;
			if (e->q[i].binary)
				eio_payload_append_binary(&body, e->q[i].data, e->q[i].len);
			else
				eio_payload_append_text(&body, e->q[i].type, e->q[i].data,
							e->q[i].len);
			if (i > 0 && body.len > e->max_payload) {
				body.len = before; /* keep it for the next POST */
				body.data[before] = '\0';
				break;
			}
			used++;
		}
		for (i = 0; i < used; i++)
			free(e->q[i].data);
		memmove(e->q, e->q + used, (e->q_n - used) * sizeof(*e->q));
		e->q_n -= used;
		sg_buf_append_str(&c->req, "POST ");
		eng_build_url(e, &c->req, "polling", true);
		sg_buf_append_str(&c->req, " HTTP/1.1\r\n");
		eng_add_common_headers(e, &c->req);
		sg_buf_printf(&c->req,
			      "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: %zu\r\n"
			      "Connection: close\r\n\r\n",
			      body.len);
		sg_buf_append(&c->req, body.data, body.len);
		sg_buf_fini(&body);
		e->post = c;
		if (eng_conn_start(c, err, sizeof(err)) != 0)
			eng_fail_later(e, SGC_ERR_CONNECT, err);
	}
}

/* A complete HTTP response (not a 101) to one of our requests. */
void eng_http_done(struct eng_conn *c, const char *body, size_t len)
{
	struct sgc_engine *e = c->e;
	char msg[300];
	int rc;

	if (c->resp.status != 200) {
		snprintf(msg, sizeof(msg), "HTTP %d%s%.*s", c->resp.status, len ? ": " : "",
			 (int)(len > 200 ? 200 : len), body);
		if (c == e->probe) {
			eng_drop_probe(e);
			return;
		}
		eng_conn_failed(c, e->st == ENG_OPENING ? SGC_ERR_HANDSHAKE : FAIL_ERROR, msg);
		return;
	}
	if (c->kind == CK_WS) {
		eng_conn_failed(c, SGC_ERR_HANDSHAKE,
				"the server did not upgrade to WebSocket (HTTP 200)");
		return;
	}
	if (c->kind == CK_POST) {
		eng_conn_kill(c);
		if (e->st == ENG_CLOSING && e->close_queued && e->q_n == 0) {
			e->ops->closed(e);
			return;
		}
		eng_poll_pump(e);
		return;
	}
	/* GET or handshake: a payload of packets */
	if (len == 0) {
		eng_conn_failed(c, SGC_ERR_PROTOCOL, "empty polling payload");
		return;
	}
	rc = eio_payload_decode(body, len, (size_t)-1, payload_packet_cb, c);
	if (!eng_alive(e))
		return;
	if (rc < 0) {
		eng_conn_failed(c, SGC_ERR_PROTOCOL, "invalid Engine.IO polling payload");
		return;
	}
	if (e->st == ENG_OPENING) {
		eng_conn_failed(c, SGC_ERR_PROTOCOL,
				"the polling handshake carried no open packet");
		return;
	}
	eng_conn_kill(c);
	eng_poll_pump(e);
}

static int payload_packet_cb(const struct eio_packet *p, void *arg)
{
	struct eng_conn *c = arg;
	struct sgc_engine *e = c->e;

	e->ops->packet(e, c, p);
	return eng_alive(e) ? 0 : 1;
}

/* ------------------------------------------------------------------ upgrade */

void eng_start_probe(struct sgc_engine *e)
{
	char err[200];

	e->probe = eng_conn_new(e, CK_WS);
	if (eng_conn_start(e->probe, err, sizeof(err)) != 0)
		eng_drop_probe(e);
}

/* The probe failed: forget it and keep polling. */
void eng_drop_probe(struct sgc_engine *e)
{
	if (e->probe)
		eng_conn_kill(e->probe);
	e->probe = NULL;
	e->probe_ok = false;
	eng_poll_pump(e);
}

/* After 3probe: once no polling request is in flight, send 5 on the
 * WebSocket and move everything there. */
void eng_maybe_finish_upgrade(struct sgc_engine *e)
{
	struct eng_conn *ws = e->probe;
	size_t i;

	if (!e->probe_ok || ws == NULL || e->get != NULL || e->post != NULL || e->st != ENG_OPEN)
		return;
	e->probe = NULL;
	e->probe_ok = false;
	e->ws = ws;
	e->tr = TR_WS;
	eng_ws_send(ws, false, "5", "", 0);
	for (i = 0; i < e->q_n; i++) {
		char digit[2] = { (char)('0' + e->q[i].type), '\0' };
		eng_ws_send(ws, e->q[i].binary, e->q[i].binary ? NULL : digit, e->q[i].data,
			    e->q[i].len);
	}
	eng_queue_clear(e);
}
