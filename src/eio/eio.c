/*
 * eio.c: Engine.IO v4 sessions and their two transports, the WebSocket
 * and HTTP long-polling, and the Engine.IO layer's part of a worker
 * (eio_module; see eio.h).  Invariants: a session is in worker->sessions
 * and the sid map from its handshake until eio_session_finish(), then only
 * deferred (worker_defer) until it is freed; while it is open its heartbeat event is pending (waiting for the next
 * ping or for the pong); transport pointers are cleared before the
 * transport goes away; an upgrade switches transports only on the client's
 * "5", and nothing is sent on the probe but "3probe".
 */
#include "eio/eio.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/worker.h"
#include "net/admission.h"
#include "net/conn.h"
#include "net/ws.h"
#include "proto/cors.h"
#include "proto/eio_packet.h"
#include "proto/http.h"

#define EIO_MAGIC 0xe10e10e1u

static const char *const eio_error_text[] = {
	"Transport unknown", "Session ID unknown", "Bad handshake method",
	"Bad request",	     "Forbidden",	   "Unsupported protocol version",
};

static struct eio_session *session_new(struct worker *w, struct conn *c,
				       const struct http_request *req, enum eio_transport t);
static void send_open(struct eio_session *s, const char *headers, struct conn *c);
static void on_heartbeat(evutil_socket_t fd, short what, void *arg);
static void on_upgrade_timeout(evutil_socket_t fd, short what, void *arg);
static void arm_ping(struct eio_session *s);
static void send_control(struct eio_session *s, char type, const char *data, size_t len);
static void on_probe_message(struct eio_session *s, struct ws *ws, bool binary, const char *data,
			     size_t len);
static void finish_upgrade(struct eio_session *s);
static void drop_probe(struct eio_session *s, enum sg_close reason);
static void on_request(struct worker *w, struct conn *c, const struct http_request *req,
		       const char *body, size_t body_len);
static void eio_poll_get(struct eio_session *s, struct conn *c, const char *headers);
static void eio_poll_post(struct eio_session *s, struct conn *c, const struct http_request *req,
			  const char *body, size_t len, const char *headers);
static void eio_poll_enqueue(struct eio_session *s, bool binary, char type, const char *data,
			     size_t len);
static void eio_poll_flush(struct eio_session *s);
static void eio_poll_answer(struct eio_session *s, const char *payload, size_t len);
static void eio_poll_queue_free(struct eio_session *s);
static int on_posted_packet(const struct eio_packet *p, void *arg);
static void eio_on_packet(struct eio_session *s, const struct eio_packet *p);
static void build_payload(struct eio_session *s, struct sg_buf *out);
static void post_ok(struct conn *c, const char *headers);
static void on_held_closed(void *holder, struct conn *c);
static void free_deferred(void *arg);
static void on_ws_message(void *arg, struct ws *ws, bool binary, const char *data, size_t len);
static void on_ws_closed(void *arg, struct ws *ws, enum sg_close reason);

/* How a session's WebSocket (its transport, or the upgrade probe) reaches it. */
static const struct ws_handler ws_to_session = { .on_message = on_ws_message,
						 .on_closed = on_ws_closed };

static void websocket_with_sid(struct worker *w, struct conn *c, const struct http_request *req,
			       struct eio_session *s);

void eio_http_error(struct conn *c, bool upgrade, enum eio_error code, const char *headers)
{
	const char *msg = eio_error_text[code];
	int status = code == EIO_ERR_FORBIDDEN ? 403 : 400;
	char body[160];
	int n;

	if (upgrade) {
		/* Node answers a refused upgrade raw, with the message as text. */
		conn_respond(c, status, "text/html", headers, msg, strlen(msg));
		return;
	}
	n = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", (int)code, msg);
	conn_respond(c, status, "application/json", headers, body, (size_t)n);
}

/* A request of a client listener: on server.path (which Node matches as a
 * prefix, the trailing slash included) an Engine.IO request; anything else
 * a 404. */
static void on_request(struct worker *w, struct conn *c, const struct http_request *req,
		       const char *body, size_t body_len)
{
	const char *path = w->cfg->server.path;
	size_t plen = strlen(path);

	if (req->path_len >= plen && memcmp(req->path, path, plen) == 0)
		eio_handle_request(w, c, req, body, body_len);
	else
		conn_respond(c, 404, "text/plain", NULL, "Not Found\n", 10);
}

/* A Retry-After header of 1 to 5 seconds at random: the clients refused
 * together (a reconnection storm after a deploy) come back spread out. */
static const char *retry_after(void)
{
	static const char *const h[] = { "Retry-After: 1\r\n", "Retry-After: 2\r\n",
					 "Retry-After: 3\r\n", "Retry-After: 4\r\n",
					 "Retry-After: 5\r\n" };
	unsigned char j = 0;

	if (RAND_bytes(&j, 1) != 1)
		j = 0;
	return h[j % SG_ARRAY_LEN(h)];
}

void eio_handle_request(struct worker *w, struct conn *c, const struct http_request *req,
			const char *body, size_t body_len)
{
	const struct sg_config *cfg = w->cfg;
	const struct http_header *upgrade = http_request_header(req, "upgrade");
	bool is_upgrade = upgrade != NULL && http_header_has_token(upgrade, "websocket");
	bool is_get = req->method_len == 3 && memcmp(req->method, "GET", 3) == 0;
	struct sg_buf transport, eio, sid, headers;
	enum eio_transport t;
	struct eio_session *s;
	int cors_rc;

	sg_buf_init(&transport);
	sg_buf_init(&eio);
	sg_buf_init(&sid);
	sg_buf_init(&headers);
	if (req->method_len == 7 && memcmp(req->method, "OPTIONS", 7) == 0 &&
	    cors_enabled(&cfg->server.cors)) {
		if (cors_headers(&cfg->server.cors, req, &headers) != 0) {
			eio_http_error(c, false, EIO_ERR_FORBIDDEN, NULL);
			goto out;
		}
		cors_preflight_headers(req, &headers);
		conn_reply(c, 204, "text/plain", headers.data, NULL, 0);
		goto out;
	}
	/* Node's cors middleware runs first (its headers are on every answer),
	 * then verify(): transport, Origin, sid, method, version. */
	cors_rc = cors_headers(&cfg->server.cors, req, &headers);
	if (http_query_get(req->query, req->query_len, "transport", &transport) != 1 ||
	    (strcmp(transport.data, "websocket") != 0 && strcmp(transport.data, "polling") != 0)) {
		eio_http_error(c, is_upgrade, EIO_ERR_TRANSPORT_UNKNOWN,
			       cors_rc == 0 ? headers.data : NULL);
		goto out;
	}
	t = strcmp(transport.data, "polling") == 0 ? EIO_POLLING : EIO_WEBSOCKET;
	if (!(cfg->server.transports &
	      (t == EIO_POLLING ? SG_TRANSPORT_POLLING : SG_TRANSPORT_WEBSOCKET))) {
		eio_http_error(c, is_upgrade, EIO_ERR_TRANSPORT_UNKNOWN,
			       cors_rc == 0 ? headers.data : NULL);
		goto out;
	}
	if (cors_rc != 0) {
		conn_log(SG_LOG_DEBUG, c, NULL, "Origin not allowed by server.cors");
		eio_http_error(c, is_upgrade, EIO_ERR_FORBIDDEN, NULL);
		goto out;
	}
	if (http_query_get(req->query, req->query_len, "sid", &sid) == 1) {
		s = hmap_get(&w->sessions_by_sid, sid.data, sid.len);
		/* A session closed mid-upgrade still answers polling (a GET the
		 * client sent before it paused gets a noop) until the upgrade ends. */
		if (s == NULL || !eio_session_takes_requests(s)) {
			eio_http_error(c, is_upgrade, EIO_ERR_SID_UNKNOWN, headers.data);
			goto out;
		}
		if (t == EIO_WEBSOCKET) {
			if (!is_upgrade || !is_get) {
				eio_http_error(c, is_upgrade, EIO_ERR_BAD_REQUEST, headers.data);
				goto out;
			}
			websocket_with_sid(w, c, req, s);
			goto out;
		}
		c->had_session = true;
		if (s->transport != EIO_POLLING) {
			/* polling after the upgrade: TRANSPORT_MISMATCH */
			eio_http_error(c, false, EIO_ERR_BAD_REQUEST, headers.data);
			goto out;
		}
		if (is_get) {
			eio_poll_get(s, c, headers.data);
		} else if (req->method_len == 4 && memcmp(req->method, "POST", 4) == 0) {
			eio_poll_post(s, c, req, body, body_len, headers.data);
		} else {
			eio_http_error(c, false, EIO_ERR_BAD_REQUEST, headers.data);
		}
		goto out;
	}
	if (!is_get) {
		eio_http_error(c, is_upgrade, EIO_ERR_BAD_HANDSHAKE_METHOD, headers.data);
		goto out;
	}
	if (t == EIO_WEBSOCKET && !is_upgrade) {
		/* before the version, as in Node's verify() */
		eio_http_error(c, false, EIO_ERR_BAD_REQUEST, headers.data);
		goto out;
	}
	if (http_query_get(req->query, req->query_len, "EIO", &eio) != 1 ||
	    strcmp(eio.data, "4") != 0) {
		eio_http_error(c, is_upgrade, EIO_ERR_UNSUPPORTED_PROTOCOL, headers.data);
		goto out;
	}
	if (!admission_handshake(w->admission, w->cfg->limits.handshakes_per_second)) {
		/* limits.handshakes_per_second: socket.io-client retries with backoff */
		worker_count_close(w, SG_CLOSE_RATE_LIMITED, NULL);
		conn_log(SG_LOG_DEBUG, c, sg_close_text(SG_CLOSE_RATE_LIMITED),
			 "handshake refused by limits.handshakes_per_second");
		conn_respond(c, 503, "application/json", retry_after(),
			     "{\"code\":3,\"message\":\"Bad request\"}", 34);
		goto out;
	}
	if (t == EIO_WEBSOCKET) {
		struct ws *ws = ws_upgrade(c, req, cfg->server.max_payload, headers.data);

		if (ws == NULL)
			goto out;
		s = session_new(w, c, req, EIO_WEBSOCKET);
		s->ws = ws;
		ws_set_handler(ws, &ws_to_session, s);
		send_open(s, NULL, NULL);
	} else {
		s = session_new(w, c, req, EIO_POLLING);
		send_open(s, headers.data, c);
	}
	arm_ping(s);
	eio_log(SG_LOG_DEBUG, s, NULL, "session opened (%s)",
		t == EIO_POLLING ? "polling" : "websocket");
out:
	sg_buf_fini(&transport);
	sg_buf_fini(&eio);
	sg_buf_fini(&sid);
	sg_buf_fini(&headers);
}

/* A WebSocket naming an existing session: the upgrade probe of a polling
 * session, or a duplicate (accepted, then closed at once, as in Node). */
static void websocket_with_sid(struct worker *w, struct conn *c, const struct http_request *req,
			       struct eio_session *s)
{
	struct ws *ws = ws_upgrade(c, req, w->cfg->server.max_payload, NULL);

	if (ws == NULL)
		return;
	c->had_session = true;
	if (s->transport != EIO_POLLING || s->probe != NULL || s->closing) {
		ws_close(ws, SG_CLOSE_BAD_REQUEST);
		return;
	}
	s->probe = ws;
	ws_set_handler(ws, &ws_to_session, s);
	s->upgrade_timer = event_new(w->base, -1, 0, on_upgrade_timeout, s);
	event_add(s->upgrade_timer, w->tv_upgrade);
}

static struct eio_session *session_new(struct worker *w, struct conn *c,
				       const struct http_request *req, enum eio_transport t)
{
	struct eio_session *s = sg_calloc(1, sizeof(*s));

	s->magic = EIO_MAGIC;
	s->w = w;
	s->secure = c->secure;
	c->had_session = true;
	s->transport = (uint8_t)t;
	s->q_tail = &s->q_head;
	s->issued_ms = sg_now_ms();
	s->head = sg_strndup(req->method, req->head_len);
	s->head_len = req->head_len;
	snprintf(s->addr, sizeof(s->addr), "%s", c->addr);
	snprintf(s->peer, sizeof(s->peer), "%s", c->peer);
	sg_id_new(s->sid, w->index, &w->id_counter);
	s->heartbeat = event_new(w->base, -1, 0, on_heartbeat, s);
	hmap_put(&w->sessions_by_sid, s->sid, SG_ID_LEN, s);
	s->next = w->sessions;
	if (w->sessions)
		w->sessions->prev = s;
	w->sessions = s;
	w->n_sessions++;
	w->stats.handshakes++;
	return s;
}

static void send_open(struct eio_session *s, const char *headers, struct conn *c)
{
	const struct sg_config *cfg = s->w->cfg;
	bool can_upgrade =
		s->transport == EIO_POLLING && (cfg->server.transports & SG_TRANSPORT_WEBSOCKET);
	char open[256];
	int n;

	/* Exactly the five keys, in Node's order. */
	n = snprintf(open, sizeof(open),
		     "0{\"sid\":\"%s\",\"upgrades\":%s,\"pingInterval\":%lld,"
		     "\"pingTimeout\":%lld,\"maxPayload\":%llu}",
		     s->sid, can_upgrade ? "[\"websocket\"]" : "[]",
		     (long long)cfg->server.ping_interval_ms,
		     (long long)cfg->server.ping_timeout_ms,
		     (unsigned long long)cfg->server.max_payload);
	if (s->transport == EIO_WEBSOCKET) {
		ws_send_text(s->ws, 0, open, (size_t)n);
	} else {
		struct sg_buf h;
		sg_buf_init(&h);
		sg_buf_printf(&h, "Cache-Control: no-store\r\n%s", headers ? headers : "");
		conn_reply(c, 200, "text/plain; charset=UTF-8", h.data, open, (size_t)n);
		sg_buf_fini(&h);
	}
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
	if (s->draining) {
		/* the client never came back for its last packets */
		eio_session_finish(s);
		return;
	}
	if (s->closing)
		return;
	if (s->over_output) {
		eio_session_close(s, SG_CLOSE_SLOW_CONSUMER, false);
		return;
	}
	if (s->awaiting_pong) {
		eio_session_close(s, SG_CLOSE_PING_TIMEOUT, false);
		return;
	}
	if (s->w->eio_handler->connect_overdue != NULL &&
	    s->w->eio_handler->connect_overdue(s, sg_now_ms())) {
		eio_session_close(s, SG_CLOSE_CONNECT_TIMEOUT, true);
		return;
	}
	/* The pong deadline runs from the moment the ping is queued, even when
	 * no polling GET is there to carry it. */
	send_control(s, '2', "", 0);
	s->awaiting_pong = true;
	event_add(s->heartbeat, s->w->tv_ping_timeout);
}

static void on_upgrade_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct eio_session *s = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	eio_log(SG_LOG_DEBUG, s, NULL, "upgrade timed out");
	drop_probe(s, SG_CLOSE_TRANSPORT_ERROR);
	if (s->close_after_upgrade)
		eio_session_finish(s);
}

/* Forgets the probe (and closes it unless it is already closing). */
static void drop_probe(struct eio_session *s, enum sg_close reason)
{
	struct ws *probe = s->probe;

	s->probe = NULL;
	s->upgrading = false;
	if (s->upgrade_timer) {
		event_free(s->upgrade_timer);
		s->upgrade_timer = NULL;
	}
	if (probe != NULL) {
		ws_set_handler(probe, NULL, NULL);
		conn_close(ws_conn(probe), reason);
	}
	/* a GET answered with noop during the probe is the client's to redo */
	eio_poll_flush(s);
}

static void send_control(struct eio_session *s, char type, const char *data, size_t len)
{
	if (s->closing)
		return;
	if (s->transport == EIO_WEBSOCKET)
		ws_send_text(s->ws, type, data, len);
	else
		eio_poll_enqueue(s, false, type, data, len);
}

void eio_send_message(struct eio_session *s, const char *data, size_t len)
{
	if (s->closing)
		return;
	s->w->stats.packets_out++;
	send_control(s, '4', data, len);
}

void eio_send_binary(struct eio_session *s, const void *data, size_t len)
{
	if (s->closing)
		return;
	s->w->stats.packets_out++;
	if (s->transport == EIO_WEBSOCKET)
		ws_send_binary(s->ws, data, len);
	else
		eio_poll_enqueue(s, true, 0, data, len);
}

void eio_send_frame(struct eio_session *s, struct sg_frame *f)
{
	bool binary;

	if (s->closing)
		return;
	s->w->stats.packets_out++;
	if (s->transport == EIO_WEBSOCKET) {
		ws_send_frame(s->ws, f);
		return;
	}
	/* Polling clients get a copy of the packet (they are few: most
	 * upgrade within a second). */
	binary = (f->data[0] & 0x0f) == WS_OP_BINARY;
	eio_poll_enqueue(s, binary, 0, f->data + f->hdr_len, f->len - f->hdr_len);
}

/* A message received on WebSocket ws (the transport or the upgrade probe):
 * text is an Engine.IO packet, binary a binary message. */
static void on_ws_message(void *arg, struct ws *ws, bool binary, const char *data, size_t len)
{
	struct eio_session *s = arg;
	struct eio_packet p;
	struct sg_buf scratch;

	if (ws == s->probe) {
		on_probe_message(s, ws, binary, data, len);
		return;
	}
	if (s->closing)
		return;
	if (binary) {
		struct eio_packet bp = {
			.type = EIO_MESSAGE, .binary = true, .data = data, .len = len
		};
		eio_on_packet(s, &bp);
		return;
	}
	/* Node also accepts a base64 'b' packet in a text frame. */
	sg_buf_init(&scratch);
	if (eio_packet_decode_any(data, len, &scratch, &p) != 0) {
		sg_buf_fini(&scratch);
		eio_log(SG_LOG_DEBUG, s, NULL, "invalid Engine.IO packet");
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		return;
	}
	eio_on_packet(s, &p);
	sg_buf_fini(&scratch);
}

/* One decoded packet from the client, on either transport. */
static void eio_on_packet(struct eio_session *s, const struct eio_packet *p)
{
	if (s->closing)
		return;
	s->w->stats.packets_in++;
	if (p->binary) {
		s->w->eio_handler->on_message(s, true, p->data, p->len);
		return;
	}
	switch (p->type) {
	case EIO_PONG:
		if (s->awaiting_pong)
			arm_ping(s);
		break;
	case EIO_MESSAGE:
		s->w->eio_handler->on_message(s, false, p->data, p->len);
		break;
	case EIO_CLOSE:
		/* the client leaves; a held GET is released with a noop */
		if (s->get != NULL)
			eio_poll_answer(s, "6", 1);
		eio_session_close(s, SG_CLOSE_TRANSPORT_CLOSE, s->transport == EIO_WEBSOCKET);
		break;
	case EIO_PING:
		/* v4: the server pings; a client ping is an error (Node: "invalid
		 * heartbeat direction"). */
		eio_log(SG_LOG_DEBUG, s, NULL, "ping from client");
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		break;
	case EIO_UPGRADE:
	case EIO_NOOP:
		break; /* harmless leftovers of an upgrade */
	default:
		eio_log(SG_LOG_DEBUG, s, NULL, "unexpected Engine.IO packet type %d", (int)p->type);
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		break;
	}
}

static void on_probe_message(struct eio_session *s, struct ws *ws, bool binary, const char *data,
			     size_t len)
{
	if (!binary && len == 6 && memcmp(data, "2probe", 6) == 0 && !s->upgrading) {
		ws_send_text(ws, 0, "3probe", 6);
		s->upgrading = true;
		/* release the pending GET so the client can pause polling */
		if (s->get != NULL)
			eio_poll_answer(s, "6", 1);
		return;
	}
	if (!binary && len == 1 && data[0] == '5' && s->upgrading) {
		finish_upgrade(s);
		return;
	}
	eio_log(SG_LOG_DEBUG, s, NULL, "unexpected packet during the upgrade");
	drop_probe(s, SG_CLOSE_TRANSPORT_ERROR);
	if (s->close_after_upgrade)
		eio_session_finish(s);
}

static void finish_upgrade(struct eio_session *s)
{
	struct eio_qentry *e;

	s->ws = s->probe;
	s->probe = NULL;
	s->upgrading = false;
	s->transport = EIO_WEBSOCKET;
	event_free(s->upgrade_timer);
	s->upgrade_timer = NULL;
	if (s->w->eio_handler->on_upgraded != NULL)
		s->w->eio_handler->on_upgraded(s);
	if (s->get != NULL)
		eio_poll_answer(s, "6", 1);
	/* what was queued for polling goes out on the WebSocket, in order */
	for (e = s->q_head; e; e = e->next) {
		if (e->binary)
			ws_send_binary(s->ws, e->data, e->len);
		else
			ws_send_text(s->ws, 0, e->data, e->len);
	}
	eio_poll_queue_free(s);
	eio_log(SG_LOG_DEBUG, s, NULL, "session upgraded to websocket");
	if (s->close_after_upgrade) {
		/* the session was closed mid-upgrade: what it queued is out */
		struct ws *ws = s->ws;
		s->ws = NULL;
		ws_set_handler(ws, NULL, NULL);
		ws_close(ws, (enum sg_close)s->close_reason);
		eio_session_finish(s);
	}
}

void eio_session_finish(struct eio_session *s)
{
	struct worker *w = s->w;

	if (s->finished)
		return;
	s->finished = true;
	s->draining = false;
	if (s->get != NULL) {
		/* never leave a connection pointing at a session in the reaper */
		struct conn *c = s->get;
		s->get = NULL;
		c->held_by = NULL;
		conn_close(c, SG_CLOSE_TRANSPORT_CLOSE);
	}
	event_del(s->heartbeat);
	hmap_del(&w->sessions_by_sid, s->sid, SG_ID_LEN);
	if (s->prev)
		s->prev->next = s->next;
	else
		w->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	w->n_sessions--;
	worker_defer(w, EIO_DEFER_FREE, s, free_deferred);
}

static void free_deferred(void *arg)
{
	eio_session_free(arg);
}

void eio_facts(const struct eio_session *s, struct log_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->addr = s->peer;
	f->sid = s->sid;
	f->worker = s->w->index;
}

void eio_session_close(struct eio_session *s, enum sg_close reason, bool graceful)
{
	struct ws *ws = s->ws;
	struct log_facts f;

	if (s->closing)
		return;
	s->closing = true;
	eio_facts(s, &f);
	worker_count_close(s->w, reason, &f);
	event_del(s->heartbeat);
	s->w->eio_handler->on_closed(s, reason);
	if (s->probe != NULL && s->upgrading && graceful) {
		/* The client has paused polling to finish the upgrade: let it, and
		 * deliver what is queued (say unauthenticated, then the
		 * DISCONNECT) on the WebSocket, as Node does; the upgrade timer
		 * bounds the wait. */
		s->close_after_upgrade = true;
		s->close_reason = (uint8_t)reason;
		return;
	}
	if (s->probe != NULL)
		drop_probe(s, reason);
	if (s->transport == EIO_WEBSOCKET) {
		s->ws = NULL;
		if (ws != NULL) {
			ws_set_handler(ws, NULL, NULL);
			if (graceful)
				ws_close(ws, reason);
			else
				conn_close(ws_conn(ws), reason);
		}
		eio_session_finish(s);
		return;
	}
	/* Polling. */
	if (!graceful) {
		/* Node forgets the sid at once: a later GET gets "Session ID
		 * unknown"; the close packet only rides on a GET already held. */
		eio_poll_queue_free(s);
		eio_poll_enqueue(s, false, '1', "", 0);
		eio_poll_flush(s);
		eio_session_finish(s);
		return;
	}
	/* Graceful: what is queued (say unauthenticated, then the DISCONNECT)
	 * goes out first, and the close packet only on a later GET, alone:
	 * socket.io-client handles Socket.IO packets a tick after Engine.IO
	 * ones, so a close in the same payload would overtake the DISCONNECT. */
	s->draining = true;
	if (s->get != NULL && s->q_head == NULL) {
		eio_poll_answer(s, "1", 1);
		eio_session_finish(s);
		return;
	}
	eio_poll_flush(s);
	event_add(s->heartbeat, s->w->tv_ping_timeout);
}

void eio_session_abort(struct eio_session *s, enum sg_close reason)
{
	if (!s->closing)
		eio_session_close(s, reason, false);
	if (s->probe != NULL)
		drop_probe(s, reason);
	eio_session_finish(s);
}

/* The WebSocket ws of s went away (its conn is closing). */
static void on_ws_closed(void *arg, struct ws *ws, enum sg_close reason)
{
	struct eio_session *s = arg;

	if (ws == s->probe) {
		s->probe = NULL;
		drop_probe(s, reason);
		if (s->close_after_upgrade)
			eio_session_finish(s);
		return;
	}
	if (ws == s->ws) {
		s->ws = NULL;
		eio_session_close(s, reason, false);
	}
}

/* The connection holding s's polling GET went away. */
static void on_held_closed(void *holder, struct conn *c)
{
	struct eio_session *s = holder;

	if (s->get == c)
		s->get = NULL;
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
	if (s->get != NULL && s->get->held_by == s)
		s->get->held_by = NULL;
	eio_poll_queue_free(s);
	s->w->eio_handler->on_free(s);
	if (s->upgrade_timer)
		event_free(s->upgrade_timer);
	event_free(s->heartbeat);
	free(s->head);
	s->magic = 0;
	free(s);
}

/* ---- the long-polling transport ----------------------------------------
 *
 * Invariants: at most one GET is held per session (a second one is an error
 * that ends the session, as in Node); queued packets leave in order, joined
 * by the record separator, on the next GET; while an upgrade probe is
 * answered, GETs get a noop and packets stay queued for the WebSocket; the
 * queue is bounded by limits.output_hard.
 */

/* Upper bound of packets in one POST (the body itself is bounded by
 * server.max_payload). */
#define EIO_POLL_MAX_PACKETS 10000

static const char text_plain[] = "text/plain; charset=UTF-8";
static const char no_store[] = "Cache-Control: no-store\r\n";

static void eio_poll_queue_free(struct eio_session *s)
{
	while (s->q_head != NULL) {
		struct eio_qentry *e = s->q_head;
		s->q_head = e->next;
		free(e);
	}
	s->q_tail = &s->q_head;
	s->q_bytes = 0;
}

static void eio_poll_enqueue(struct eio_session *s, bool binary, char type, const char *data,
			     size_t len)
{
	size_t n = len + (type ? 1 : 0);
	struct eio_qentry *e;

	if (s->over_output && !s->closing)
		return; /* dropped: the session closes on the next loop turn */
	if (s->q_bytes + n > s->w->cfg->limits.output_hard && !s->closing) {
		/* A slow consumer, closed from its heartbeat event on the next
		 * loop turn, not here: a broadcast may be walking a room its
		 * socket would leave (and free) on the way out. */
		eio_log(SG_LOG_DEBUG, s, NULL, "polling queue over limits.output_hard");
		s->over_output = true;
		event_active(s->heartbeat, EV_TIMEOUT, 1);
		return;
	}
	e = sg_malloc(sizeof(*e) + n);
	e->next = NULL;
	e->binary = binary;
	e->len = n;
	if (type)
		e->data[0] = type;
	memcpy(e->data + (type ? 1 : 0), data, len);
	*s->q_tail = e;
	s->q_tail = &e->next;
	s->q_bytes += n;
	eio_poll_flush(s);
}

static void build_payload(struct eio_session *s, struct sg_buf *out)
{
	for (struct eio_qentry *e = s->q_head; e; e = e->next) {
		if (e->binary) {
			eio_payload_append_binary(out, e->data, e->len);
		} else {
			if (out->len)
				sg_buf_append_char(out, '\x1e');
			sg_buf_append(out, e->data, e->len);
		}
	}
	eio_poll_queue_free(s);
}

static void eio_poll_answer(struct eio_session *s, const char *payload, size_t len)
{
	struct conn *c = s->get;

	if (c == NULL)
		return;
	s->get = NULL;
	conn_reply(c, 200, text_plain, no_store, payload, len);
}

static void eio_poll_flush(struct eio_session *s)
{
	struct sg_buf b;

	if (s->get == NULL || s->q_head == NULL || s->upgrading || s->transport != EIO_POLLING)
		return;
	sg_buf_init(&b);
	build_payload(s, &b);
	eio_poll_answer(s, b.data, b.len);
	sg_buf_fini(&b);
}

static void eio_poll_get(struct eio_session *s, struct conn *c, const char *headers)
{
	if (s->get != NULL) {
		/* Node: the first GET gets a close packet, the second a 400, and
		 * the session ends. */
		eio_log(SG_LOG_DEBUG, s, NULL, "overlapping polling GET");
		eio_http_error(c, false, EIO_ERR_BAD_REQUEST, headers);
		eio_poll_queue_free(s);
		eio_session_close(s, SG_CLOSE_TRANSPORT_ERROR, false);
		return;
	}
	s->get = c;
	conn_hold(c, s, headers);
	if (s->upgrading) {
		eio_poll_answer(s, "6", 1);
		return;
	}
	if (s->draining && s->q_head == NULL) {
		/* the last packets went out on the previous GET: now the close */
		eio_poll_answer(s, "1", 1);
		eio_session_finish(s);
		return;
	}
	eio_poll_flush(s);
}

/* "ok" for a POST, with the CORS lines and no-store, as Node answers. */
static void post_ok(struct conn *c, const char *headers)
{
	struct sg_buf h;

	sg_buf_init(&h);
	sg_buf_printf(&h, "%s%s", no_store, headers ? headers : "");
	conn_reply(c, 200, "text/html", h.data, "ok", 2);
	sg_buf_fini(&h);
}

static int on_posted_packet(const struct eio_packet *p, void *arg)
{
	struct eio_session *s = arg;

	eio_on_packet(s, p);
	return s->closing ? 1 : 0;
}

static void eio_poll_post(struct eio_session *s, struct conn *c, const struct http_request *req,
			  const char *body, size_t len, const char *headers)
{
	const struct http_header *ct = http_request_header(req, "content-type");
	static const char octet[] = "application/octet-stream";

	if (req->content_length > 0 &&
	    (uint64_t)req->content_length > s->w->cfg->server.max_payload) {
		/* Node: 413, the data dropped, the session kept. */
		eio_log(SG_LOG_DEBUG, s, NULL, "polling POST of %lld bytes over server.max_payload",
			(long long)req->content_length);
		conn_respond(c, 413, "text/plain", headers, "", 0);
		return;
	}
	if (s->closing) {
		post_ok(c, headers); /* closing: nothing posted is read any more */
		return;
	}
	if (ct != NULL && ct->value_len >= sizeof(octet) - 1 &&
	    strncasecmp(ct->value, octet, sizeof(octet) - 1) == 0) {
		/* v4 sends binary as base64 text; Node refuses this and closes. */
		eio_http_error(c, false, EIO_ERR_BAD_REQUEST, headers);
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		return;
	}
	if (body == NULL || len == 0 ||
	    eio_payload_decode(body, len, EIO_POLL_MAX_PACKETS, on_posted_packet, s) < 0) {
		if (!s->closing) {
			eio_log(SG_LOG_DEBUG, s, NULL, "invalid polling payload");
			eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		}
	}
	post_ok(c, headers);
}

/* ---- the Engine.IO layer's part of a worker -------------------------- */

/* Engine.IO's upgradeTimeout: the "5" must follow the probe within this. */
#define EIO_UPGRADE_TIMEOUT_MS 10000

/* The client listeners' requests. */
static const struct conn_handler client_requests = { .on_request = on_request,
						     .on_held_closed = on_held_closed };

static int eio_init(struct worker *w)
{
	const struct sg_config *cfg = w->cfg;

	hmap_init(&w->sessions_by_sid);
	w->conn_handler[CONN_CLIENT] = &client_requests;
	w->tv_ping_interval = worker_common_timeout(w->base, cfg->server.ping_interval_ms);
	w->tv_ping_timeout = worker_common_timeout(w->base, cfg->server.ping_timeout_ms);
	w->tv_upgrade = worker_common_timeout(w->base, EIO_UPGRADE_TIMEOUT_MS);
	return w->tv_ping_interval != NULL && w->tv_ping_timeout != NULL && w->tv_upgrade != NULL
		       ? 0
		       : -1;
}

static void eio_fini(struct worker *w)
{
	hmap_fini(&w->sessions_by_sid);
}

const struct worker_module eio_module = {
	.name = "Engine.IO layer",
	.init = eio_init,
	.fini = eio_fini,
};
