/*
 * eio.c: Engine.IO v4 sessions (see eio.h).  Invariants: a session is on
 * worker->sessions until eio_session_close(), then on the dead list until the
 * reaper frees it; its heartbeat event is always pending while it is open
 * (waiting either for the next ping or for the pong); the transport pointer
 * is cleared before the transport goes away.
 */
#include "eio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "eio_packet.h"
#include "http.h"
#include "log.h"
#include "sio.h"
#include "worker.h"
#include "ws.h"

#define EIO_MAGIC 0xe10e10e1u
/* Node's connectTimeout: an Engine.IO connection that joins no namespace
 * in this time is closed. */
#define EIO_CONNECT_TIMEOUT_MS 45000

static void http_error(struct conn *c, bool upgrade, int status, int code, const char *msg);
static void on_heartbeat(evutil_socket_t fd, short what, void *arg);
static void arm_ping(struct eio_session *s);
static void send_open(struct eio_session *s);
static void unlink_session(struct eio_session *s);

static void http_error(struct conn *c, bool upgrade, int status, int code, const char *msg)
{
	char body[160];
	int n;

	if (upgrade) {
		/* Node answers a refused upgrade raw, with the message as text. */
		conn_respond(c, status, "text/html", NULL, msg, strlen(msg));
		return;
	}
	n = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code, msg);
	conn_respond(c, status, "application/json", NULL, body, (size_t)n);
}

void eio_handle_request(struct worker *w, struct conn *c, const struct http_request *req)
{
	const struct sg_config *cfg = w->cfg;
	const struct http_header *upgrade = http_request_header(req, "upgrade");
	bool is_upgrade = upgrade != NULL && http_header_has_token(upgrade, "websocket");
	struct sg_buf transport, eio, sid;
	struct eio_session *s;
	struct ws *ws;
	int rt, re, rs;

	sg_buf_init(&transport);
	sg_buf_init(&eio);
	sg_buf_init(&sid);
	rt = http_query_get(req->query, req->query_len, "transport", &transport);
	re = http_query_get(req->query, req->query_len, "EIO", &eio);
	rs = http_query_get(req->query, req->query_len, "sid", &sid);

	/* The order of Node's checks: transport, then sid, then method, then
	 * the protocol version. */
	if (rt != 1 || (strcmp(transport.data, "websocket") != 0 &&
			strcmp(transport.data, "polling") != 0)) {
		http_error(c, is_upgrade, 400, 0, "Transport unknown");
		goto out;
	}
	if (strcmp(transport.data, "polling") == 0 ||
	    !(cfg->server.transports & SG_TRANSPORT_WEBSOCKET)) {
		/* Long-polling is not served yet: refused as a disabled transport. */
		http_error(c, is_upgrade, 400, 0, "Transport unknown");
		goto out;
	}
	if (rs == 1) {
		/* An upgrade of a polling session: no polling sessions exist yet. */
		http_error(c, is_upgrade, 400, 1, "Session ID unknown");
		goto out;
	}
	if (req->method_len != 3 || memcmp(req->method, "GET", 3) != 0) {
		http_error(c, is_upgrade, 400, 2, "Bad handshake method");
		goto out;
	}
	if (re != 1 || strcmp(eio.data, "4") != 0) {
		http_error(c, is_upgrade, 400, 5, "Unsupported protocol version");
		goto out;
	}
	if (!is_upgrade) {
		http_error(c, false, 400, 3, "Bad request");
		goto out;
	}
	ws = ws_upgrade(c, req, cfg->server.max_payload);
	if (ws == NULL)
		goto out;

	s = sg_calloc(1, sizeof(*s));
	s->magic = EIO_MAGIC;
	s->w = w;
	s->ws = ws;
	s->issued_ms = sg_now_ms();
	s->head = sg_strndup(req->method, req->head_len);
	s->head_len = req->head_len;
	snprintf(s->addr, sizeof(s->addr), "%s", c->addr);
	snprintf(s->peer, sizeof(s->peer), "%s", c->peer);
	sg_id_new(s->sid, &w->id_counter);
	s->heartbeat = event_new(w->base, -1, 0, on_heartbeat, s);
	ws_set_session(ws, s);
	s->next = w->sessions;
	if (w->sessions)
		w->sessions->prev = s;
	w->sessions = s;
	w->n_sessions++;
	w->stats.handshakes++;
	send_open(s);
	arm_ping(s);
	log_debug("client %s: session %s opened (websocket)", s->peer, s->sid);
out:
	sg_buf_fini(&transport);
	sg_buf_fini(&eio);
	sg_buf_fini(&sid);
}

static void send_open(struct eio_session *s)
{
	const struct sg_config *cfg = s->w->cfg;
	char open[256];
	int n;

	/* Exactly the five keys, in Node's order. */
	n = snprintf(open, sizeof(open),
		     "{\"sid\":\"%s\",\"upgrades\":[],\"pingInterval\":%lld,"
		     "\"pingTimeout\":%lld,\"maxPayload\":%llu}",
		     s->sid, (long long)cfg->server.ping_interval_ms,
		     (long long)cfg->server.ping_timeout_ms,
		     (unsigned long long)cfg->server.max_payload);
	ws_send_text(s->ws, '0', open, (size_t)n);
}

static void arm_ping(struct eio_session *s)
{
	s->awaiting_pong = false;
	event_add(s->heartbeat, s->w->tv_ping_interval);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct eio_session *s = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	if (s->magic != EIO_MAGIC)
		sg_fatal("heartbeat on a bad session");
	if (s->closing)
		return;
	if (s->awaiting_pong) {
		eio_session_close(s, SG_CLOSE_PING_TIMEOUT, false);
		return;
	}
	if (s->sockets == NULL &&
	    sg_now_ms() - s->issued_ms >= EIO_CONNECT_TIMEOUT_MS) {
		eio_session_close(s, SG_CLOSE_CONNECT_TIMEOUT, true);
		return;
	}
	/* The pong deadline runs from the moment the ping is queued. */
	ws_send_text(s->ws, '2', "", 0);
	s->awaiting_pong = true;
	event_add(s->heartbeat, s->w->tv_ping_timeout);
}

void eio_on_message(struct eio_session *s, bool binary, const char *data, size_t len)
{
	struct eio_packet p;
	struct sg_buf scratch;

	if (s->closing)
		return;
	s->w->stats.packets_in++;
	if (binary) {
		sio_on_binary(s, data, len);
		return;
	}
	/* Node also accepts a base64 'b' packet in a text frame. */
	sg_buf_init(&scratch);
	if (eio_packet_decode_any(data, len, &scratch, &p) != 0) {
		sg_buf_fini(&scratch);
		log_info("client %s: invalid Engine.IO packet", s->peer);
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		return;
	}
	if (p.binary) {
		sio_on_binary(s, p.data, p.len);
		sg_buf_fini(&scratch);
		return;
	}
	sg_buf_fini(&scratch);
	switch (p.type) {
	case EIO_PONG:
		if (s->awaiting_pong)
			arm_ping(s);
		break;
	case EIO_MESSAGE:
		sio_on_text(s, p.data, p.len);
		break;
	case EIO_CLOSE:
		eio_session_close(s, SG_CLOSE_TRANSPORT_CLOSE, true);
		break;
	case EIO_PING:
		/* v4: the server pings; a client ping is an error (Node: "invalid
		 * heartbeat direction"). */
		log_info("client %s: ping from client", s->peer);
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		break;
	default:
		/* open, upgrade and noop mean nothing on an open WebSocket */
		log_info("client %s: unexpected Engine.IO packet type %d", s->peer, (int)p.type);
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		break;
	}
}

void eio_send_message(struct eio_session *s, const char *data, size_t len)
{
	if (s->closing || s->ws == NULL)
		return;
	s->w->stats.packets_out++;
	ws_send_text(s->ws, '4', data, len);
}

void eio_send_binary(struct eio_session *s, const void *data, size_t len)
{
	if (s->closing || s->ws == NULL)
		return;
	s->w->stats.packets_out++;
	ws_send_binary(s->ws, data, len);
}

void eio_send_frame(struct eio_session *s, struct sg_frame *f)
{
	if (s->closing || s->ws == NULL)
		return;
	s->w->stats.packets_out++;
	ws_send_frame(s->ws, f);
}

static void unlink_session(struct eio_session *s)
{
	struct worker *w = s->w;

	if (s->prev)
		s->prev->next = s->next;
	else
		w->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	w->n_sessions--;
	s->dead_next = w->dead_sessions;
	w->dead_sessions = s;
	worker_schedule_reap(w);
}

void eio_session_close(struct eio_session *s, enum sg_close reason, bool graceful)
{
	struct ws *ws = s->ws;

	if (s->closing)
		return;
	s->closing = true;
	event_del(s->heartbeat);
	sio_on_session_closed(s, reason);
	s->ws = NULL;
	if (ws != NULL) {
		ws_set_session(ws, NULL);
		if (graceful)
			ws_close(ws, reason);
		else
			conn_close(ws_conn(ws), reason);
	}
	unlink_session(s);
}

void eio_on_transport_closed(struct eio_session *s, enum sg_close reason)
{
	s->ws = NULL;
	eio_session_close(s, reason, false);
}

int eio_session_request(const struct eio_session *s, struct http_request *req)
{
	int status;
	struct sg_err err;

	return http_request_parse(s->head, s->head_len, s->head_len + 1, req, &status, &err) == 1
		       ? 0
		       : -1;
}

void eio_session_free(struct eio_session *s)
{
	event_free(s->heartbeat);
	free(s->head);
	s->magic = 0;
	free(s);
}
