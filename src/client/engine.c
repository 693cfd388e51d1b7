/*
 * engine.c: the Engine.IO v4 client session of libsiogate-client
 * (PROTOCOL.md section 1, as engine.io-client 6.6 behaves): starts the
 * session (host resolution, the handshake connection), handles failures and
 * the heartbeat (answer every ping; give up after pingInterval + pingTimeout
 * without one), reads the open packet and every packet after it, sends
 * messages on the current transport, decides what a failed connection
 * means, and ends the session gracefully.  It is the top of the engine's
 * files: the transports and the upgrade (engine_polling.c, engine_ws.c),
 * the connections (engine_conn.c) and the guard (engine_core.c) are below
 * it and reach it only through the table eng_ops registered here
 * (engine_int.h says what they share, and the invariant all of them keep).
 */
#include "engine.h"

#include <event2/util.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "siogate/client.h"

static void eng_destroy(struct sgc_engine *e);
static void eng_kill_conns(struct sgc_engine *e);
static void eng_cancel_dns(struct sgc_engine *e);
static void eng_kick_cb(evutil_socket_t fd, short what, void *arg);
static void eng_fail_cb(evutil_socket_t fd, short what, void *arg);
static void eng_ping_cb(evutil_socket_t fd, short what, void *arg);
static void eng_linger_cb(evutil_socket_t fd, short what, void *arg);
static void eng_dns_cb(int result, struct evutil_addrinfo *res, void *arg);
static void eng_resolved(struct sgc_engine *e);
static void eng_fail(struct sgc_engine *e, int code, const char *fmt, ...) SG_PRINTF(3, 4);
static void eng_lost(struct sgc_engine *e, int code, const char *reason, const char *msg);
static void eng_on_conn_failed(struct eng_conn *c, int code, const char *msg);
static void eng_finish_shutdown(struct sgc_engine *e);
static void eng_reset_ping(struct sgc_engine *e);
static int eng_handle_open(struct sgc_engine *e, const char *data, size_t len);
static void eng_on_packet(struct sgc_engine *e, struct eng_conn *from, const struct eio_packet *pk);
static void eng_send_packet(struct sgc_engine *e, enum eio_type type, bool binary, const void *data,
			    size_t len);

/* What the files below tell this one (engine_int.h). */
static const struct eng_ops eng_ops = {
	.response = eng_http_done,
	.upgraded = eng_ws_upgraded,
	.ws_readable = eng_ws_readable,
	.ws_written = eng_ws_written,
	.failed = eng_on_conn_failed,
	.packet = eng_on_packet,
	.closed = eng_finish_shutdown,
	.destroy = eng_destroy,
};

/* ------------------------------------------------------------------ lifecycle */

struct sgc_engine *sgc_engine_new(const struct sgc_engine_params *p,
				  const struct sgc_engine_cbs *cbs, void *arg)
{
	struct sgc_engine *e = sg_calloc(1, sizeof(*e));

	e->base = p->base;
	e->dns = p->dns;
	e->ssl_ctx = p->ssl_ctx;
	e->tls_verify = p->tls_verify;
	e->host = sg_strdup(p->host);
	e->port = p->port;
	e->host_header = sg_strdup(p->host_header);
	e->path = sg_strdup(p->path);
	e->query = sg_strdup(p->query ? p->query : "");
	e->headers = sg_strdup(p->headers ? p->headers : "");
	e->transports = p->transports ? p->transports : SGC_TRANSPORT_WEBSOCKET;
	e->max_message = p->max_message;
	e->cbs = cbs;
	e->arg = arg;
	e->ops = &eng_ops;
	e->st = ENG_RESOLVING;
	e->tr = TR_NONE;
	sg_buf_init(&e->scratch);
	sg_buf_init(&e->sendbuf);
	e->kick = event_new(e->base, -1, 0, eng_kick_cb, e);
	e->fail_ev = event_new(e->base, -1, 0, eng_fail_cb, e);
	e->ping_timer = evtimer_new(e->base, eng_ping_cb, e);
	e->linger_timer = evtimer_new(e->base, eng_linger_cb, e);
	if (e->kick == NULL || e->fail_ev == NULL || e->ping_timer == NULL ||
	    e->linger_timer == NULL)
		sg_fatal("libevent: cannot create events");
	event_active(e->kick, 0, 0);
	return e;
}

void sgc_engine_free(struct sgc_engine *e)
{
	if (e == NULL)
		return;
	e->freed = true;
	e->st = ENG_CLOSED;
	if (e->depth == 0)
		eng_destroy(e);
}

static void eng_destroy(struct sgc_engine *e)
{
	eng_cancel_dns(e);
	eng_kill_conns(e);
	eng_bury(e);
	eng_queue_clear(e);
	free(e->q);
	event_free(e->kick);
	event_free(e->fail_ev);
	event_free(e->ping_timer);
	event_free(e->linger_timer);
	sg_buf_fini(&e->scratch);
	sg_buf_fini(&e->sendbuf);
	free(e->host);
	free(e->host_header);
	free(e->path);
	free(e->query);
	free(e->headers);
	free(e->sid);
	free(e);
}

/* Kills every connection the engine holds (they wait in the graveyard). */
static void eng_kill_conns(struct sgc_engine *e)
{
	if (e->hs)
		eng_conn_kill(e->hs);
	if (e->ws)
		eng_conn_kill(e->ws);
	if (e->probe)
		eng_conn_kill(e->probe);
	if (e->get)
		eng_conn_kill(e->get);
	if (e->post)
		eng_conn_kill(e->post);
}

static void eng_cancel_dns(struct sgc_engine *e)
{
	struct evdns_getaddrinfo_request *r = e->dns_req;

	if (r == NULL)
		return;
	e->dns_req = NULL; /* eng_dns_cb sees EVUTIL_EAI_CANCEL */
	evdns_getaddrinfo_cancel(r);
}

const char *sgc_engine_transport(const struct sgc_engine *e)
{
	if (e == NULL || e->st != ENG_OPEN)
		return NULL;
	return e->tr == TR_WS ? "websocket" : e->tr == TR_POLLING ? "polling" : NULL;
}

bool sgc_engine_is_open(const struct sgc_engine *e)
{
	return e != NULL && e->st == ENG_OPEN;
}

/* ------------------------------------------------------------------ start, DNS */

static void eng_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sgc_engine *e = arg;
	struct evutil_addrinfo hints, *res = NULL;
	char port[8];
	int rc;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	eng_enter(e);
	if (e->st == ENG_CLOSING) {
		/* shutdown before the session opened */
		eng_finish_shutdown(e);
		goto out;
	}
	if (e->st != ENG_RESOLVING)
		goto out;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(port, sizeof(port), "%u", e->port);
	hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	rc = evutil_getaddrinfo(e->host, port, &hints, &res);
	if (rc == 0) {
		eng_dns_cb(0, res, e);
		goto out;
	}
	if (e->dns == NULL) {
		eng_fail(e, SGC_ERR_CONNECT, "cannot resolve %s: no resolver", e->host);
		goto out;
	}
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	e->dns_req = evdns_getaddrinfo(e->dns, e->host, port, &hints, eng_dns_cb, e);
out:
	eng_leave(e);
}

static void eng_dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct sgc_engine *e = arg;
	struct evutil_addrinfo *ai;

	if (result == EVUTIL_EAI_CANCEL) {
		if (res)
			evutil_freeaddrinfo(res);
		return; /* the engine is being destroyed */
	}
	eng_enter(e);
	e->dns_req = NULL;
	if (!eng_alive(e) || e->st != ENG_RESOLVING) {
		if (res)
			evutil_freeaddrinfo(res);
		goto out;
	}
	if (result != 0) {
		eng_fail(e, SGC_ERR_CONNECT, "cannot resolve %s: %s", e->host,
			 evutil_gai_strerror(result));
		goto out;
	}
	for (ai = res; ai != NULL && e->n_addrs < ENG_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(e->addrs[0]))
			continue;
		memcpy(&e->addrs[e->n_addrs], ai->ai_addr, ai->ai_addrlen);
		e->addr_lens[e->n_addrs] = (socklen_t)ai->ai_addrlen;
		e->n_addrs++;
	}
	evutil_freeaddrinfo(res);
	if (e->n_addrs == 0) {
		eng_fail(e, SGC_ERR_CONNECT, "cannot resolve %s: no address", e->host);
		goto out;
	}
	eng_resolved(e);
out:
	eng_leave(e);
}

/* Addresses known: open the handshake connection. */
static void eng_resolved(struct sgc_engine *e)
{
	char err[200];
	struct eng_conn *c;

	e->st = ENG_OPENING;
	if (e->transports & SGC_TRANSPORT_POLLING) {
		c = eng_conn_new(e, CK_HANDSHAKE);
		sg_buf_append_str(&c->req, "GET ");
		eng_build_url(e, &c->req, "polling", false);
		sg_buf_append_str(&c->req, " HTTP/1.1\r\n");
		eng_add_common_headers(e, &c->req);
		sg_buf_append_str(&c->req, "Connection: close\r\n\r\n");
	} else {
		c = eng_conn_new(e, CK_WS);
	}
	e->hs = c;
	if (eng_conn_start(c, err, sizeof(err)) != 0)
		eng_fail(e, SGC_ERR_CONNECT, "%s", err);
}

/* ------------------------------------------------------------------ failures */

/* The session never opened: on_close with code and "transport error". */
static void eng_fail(struct sgc_engine *e, int code, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	eng_lost(e, code, "transport error", msg);
}

static void eng_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sgc_engine *e = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	eng_enter(e);
	if (eng_alive(e)) {
		if (e->st == ENG_OPEN || e->st == ENG_CLOSING)
			eng_lost(e, 0, "transport error", e->fail_msg);
		else
			eng_lost(e, e->fail_code, "transport error", e->fail_msg);
	}
	eng_leave(e);
}

/*
 * The session is over: drop every connection and timer and tell the owner.
 * A failure during sgc_engine_shutdown still ends with "io client
 * disconnect" (the owner asked for the end).
 */
static void eng_lost(struct sgc_engine *e, int code, const char *reason, const char *msg)
{
	bool shutting = e->st == ENG_CLOSING;

	if (!eng_alive(e))
		return;
	e->st = ENG_CLOSED;
	eng_kill_conns(e);
	evtimer_del(e->ping_timer);
	evtimer_del(e->linger_timer);
	eng_queue_clear(e);
	if (shutting)
		e->cbs->on_close(e, e->arg, 0, "io client disconnect", msg ? msg : "");
	else
		e->cbs->on_close(e, e->arg, code, reason, msg ? msg : "");
}

/*
 * A connection failed (e->ops->failed); what that means depends on its
 * role.  code is an SGC_ERR_* value, or FAIL_CLOSE / FAIL_ERROR.  While the
 * session opens, every failure is a connection failure (FAIL_* count as
 * SGC_ERR_HANDSHAKE); once open, the reason is socket.io-client's.
 */
static void eng_on_conn_failed(struct eng_conn *c, int code, const char *msg)
{
	struct sgc_engine *e = c->e;

	if (c == e->probe) {
		eng_drop_probe(e);
		return;
	}
	if (c->kind == CK_POST && e->st == ENG_CLOSING) {
		eng_conn_kill(c);
		eng_finish_shutdown(e);
		return;
	}
	if (e->st == ENG_OPENING)
		eng_lost(e, code < 0 ? code : SGC_ERR_HANDSHAKE, "transport error", msg);
	else if (code == SGC_ERR_PROTOCOL)
		eng_lost(e, SGC_ERR_PROTOCOL, "parse error", msg);
	else if (code == FAIL_CLOSE)
		eng_lost(e, 0, "transport close", msg);
	else
		eng_lost(e, 0, "transport error", msg);
}

/* ------------------------------------------------------------------ heartbeat */

static void eng_reset_ping(struct sgc_engine *e)
{
	struct timeval tv;
	unsigned ms = e->ping_interval + e->ping_timeout;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(e->ping_timer, &tv);
}

static void eng_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sgc_engine *e = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	eng_enter(e);
	if (e->st == ENG_OPEN)
		eng_lost(e, 0, "ping timeout", "no ping from the server in time");
	eng_leave(e);
}

/* ------------------------------------------------------------------ packets in */

static int eng_handle_open(struct sgc_engine *e, const char *data, size_t len)
{
	json_t *o, *v;
	json_error_t jerr;
	size_t i;

	o = json_loadb(data, len, 0, &jerr);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	v = json_object_get(o, "sid");
	if (!json_is_string(v) || json_string_length(v) == 0) {
		json_decref(o);
		return -1;
	}
	e->sid = sg_strdup(json_string_value(v));
	v = json_object_get(o, "pingInterval");
	e->ping_interval =
		json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 3600000
			? (unsigned)json_integer_value(v)
			: 25000;
	v = json_object_get(o, "pingTimeout");
	e->ping_timeout =
		json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 3600000
			? (unsigned)json_integer_value(v)
			: 20000;
	v = json_object_get(o, "maxPayload");
	e->max_payload = json_is_integer(v) && json_integer_value(v) > 0
				 ? (size_t)json_integer_value(v)
				 : 1000000;
	v = json_object_get(o, "upgrades");
	for (i = 0; json_is_array(v) && i < json_array_size(v); i++) {
		json_t *u = json_array_get(v, i);
		if (json_is_string(u) && strcmp(json_string_value(u), "websocket") == 0)
			e->offers_ws = true;
	}
	json_decref(o);
	return 0;
}

/* One Engine.IO packet from connection `from` (e->ops->packet). */
static void eng_on_packet(struct sgc_engine *e, struct eng_conn *from, const struct eio_packet *pk)
{
	if (!eng_alive(e))
		return;
	if (from == e->probe && from != NULL) {
		/* only 3probe is expected on the probe */
		if (pk->type == EIO_PONG && pk->len == 5 && memcmp(pk->data, "probe", 5) == 0) {
			e->probe_ok = true;
			eng_maybe_finish_upgrade(e);
		} else {
			eng_drop_probe(e);
		}
		return;
	}
	if (e->st == ENG_OPENING) {
		if (pk->type != EIO_OPEN || eng_handle_open(e, pk->data, pk->len) != 0) {
			eng_fail(e, SGC_ERR_PROTOCOL,
				 "the server's first packet is not a valid "
				 "Engine.IO open packet");
			return;
		}
		e->st = ENG_OPEN;
		e->tr = from->kind == CK_WS ? TR_WS : TR_POLLING;
		if (e->tr == TR_WS) {
			e->ws = from;
			e->hs = NULL;
		}
		eng_reset_ping(e);
		e->cbs->on_open(e, e->arg);
		if (!eng_alive(e))
			return;
		if (e->tr == TR_POLLING && e->offers_ws &&
		    (e->transports & SGC_TRANSPORT_WEBSOCKET))
			eng_start_probe(e);
		return;
	}
	switch (pk->type) {
	case EIO_PING:
		eng_reset_ping(e);
		eng_send_packet(e, EIO_PONG, false, pk->data, pk->len);
		break;
	case EIO_MESSAGE:
		if (e->st == ENG_OPEN)
			e->cbs->on_message(e, e->arg, pk->binary, pk->data, pk->len);
		break;
	case EIO_CLOSE:
		eng_lost(e, 0, "transport close", "the server closed the session");
		break;
	case EIO_NOOP:
		break;
	default:
		eng_lost(e, SGC_ERR_PROTOCOL, "parse error", "unexpected Engine.IO packet type");
		break;
	}
}

/* ------------------------------------------------------------------ packets out */

int sgc_engine_send(struct sgc_engine *e, bool binary, const void *data, size_t len)
{
	if (e == NULL || e->st != ENG_OPEN)
		return -1;
	eng_send_packet(e, EIO_MESSAGE, binary, data, len);
	return 0;
}

static void eng_send_packet(struct sgc_engine *e, enum eio_type type, bool binary, const void *data,
			    size_t len)
{
	char digit[2];

	if (e->tr == TR_WS && e->ws != NULL) {
		digit[0] = (char)('0' + type);
		digit[1] = '\0';
		eng_ws_send(e->ws, binary, binary ? NULL : digit, data, len);
		return;
	}
	eng_queue_push(e, type, binary, data, len);
	eng_poll_pump(e);
}

/* ------------------------------------------------------------------ shutdown */

void sgc_engine_shutdown(struct sgc_engine *e)
{
	struct timeval tv = { ENG_LINGER_MS / 1000, (ENG_LINGER_MS % 1000) * 1000 };

	if (e == NULL || !eng_alive(e) || e->st == ENG_CLOSING)
		return;
	if (e->st != ENG_OPEN) {
		/* nothing to flush: end at the next loop turn */
		e->st = ENG_CLOSING;
		eng_cancel_dns(e);
		if (e->hs)
			eng_conn_kill(e->hs);
		event_active(e->kick, 0, 0);
		return;
	}
	e->st = ENG_CLOSING;
	evtimer_del(e->ping_timer);
	evtimer_add(e->linger_timer, &tv);
	if (e->probe)
		eng_conn_kill(e->probe);
	e->probe_ok = false;
	if (e->tr == TR_WS && e->ws != NULL) {
		(void)wslay_event_queue_close(e->ws->ws, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
		eng_ws_flush(e->ws);
		/* conn_write_cb finishes once the output is drained */
		return;
	}
	if (e->get)
		eng_conn_kill(e->get);
	eng_queue_push(e, EIO_CLOSE, false, "", 0);
	e->close_queued = true;
	eng_poll_pump(e);
}

static void eng_linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sgc_engine *e = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	eng_enter(e);
	if (e->st == ENG_CLOSING)
		eng_finish_shutdown(e);
	eng_leave(e);
}

/* The graceful end is complete (e->ops->closed), or the linger ran out. */
static void eng_finish_shutdown(struct sgc_engine *e)
{
	eng_lost(e, 0, "io client disconnect", "");
}
