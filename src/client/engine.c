/*
 * engine.c: the Engine.IO v4 client session (PROTOCOL.md section 1, as
 * engine.io-client 6.6 behaves): connections on bufferevents (TCP, or TLS
 * through bufferevent_openssl), the WebSocket transport on wslay in client
 * mode (RFC 6455 masking keys from RAND_bytes), the long-polling transport
 * (one request per connection: a held GET and at most one POST at a time),
 * the upgrade from polling to WebSocket (2probe / 3probe / pause / 5), and
 * the heartbeat (answer every ping; give up after pingInterval + pingTimeout
 * without one).
 *
 * Invariant: nothing is freed under a running callback.  Every libevent
 * callback here brackets its work with eng_enter/eng_leave; a connection
 * killed meanwhile only loses its bufferevent and goes to the graveyard, and
 * an engine freed meanwhile is only marked; both are released by the
 * outermost eng_leave.  After a callback to the owner, code re-checks
 * eng_alive() before touching anything.
 */
#include "engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <wslay/wslay.h>

#include "core/base64.h"
#include "proto/eio_packet.h"
#include "proto/http_resp_parser.h"
#include "proto/ws_accept.h"
#include "siogate/client.h"

#define ENG_MAX_HEAD 16384
#define ENG_LINGER_MS 1000
#define ENG_MAX_ADDRS 8

/* conn_failed codes besides the SGC_ERR_* ones (which are negative). */
#define FAIL_CLOSE 1	/* the peer closed: "transport close" */
#define FAIL_ERROR 2	/* anything else once open: "transport error" */

enum eng_state {
	ENG_RESOLVING,		/* waiting for DNS */
	ENG_OPENING,		/* handshake request running */
	ENG_OPEN,		/* open packet received */
	ENG_CLOSING,		/* sgc_engine_shutdown: flushing */
	ENG_CLOSED,		/* on_close delivered (or about to be) */
};

enum conn_kind {
	CK_HANDSHAKE,		/* polling GET without sid: the open packet */
	CK_GET,			/* polling GET: receive */
	CK_POST,		/* polling POST: send */
	CK_WS,			/* WebSocket (the handshake one, the probe, or the upgraded one) */
};

enum conn_state {
	CS_CONNECTING,		/* TCP/TLS connect running */
	CS_HTTP,		/* request written, reading the response */
	CS_WS,			/* WebSocket frames */
	CS_DEAD,		/* in the graveyard */
};

enum tr_kind {
	TR_NONE,		/* not open yet */
	TR_POLLING,		/* long-polling */
	TR_WS,			/* WebSocket */
};

struct eng_conn {
	struct sgc_engine *e;
	enum conn_kind kind;
	enum conn_state st;
	struct bufferevent *bev;
	size_t addr_idx;
	struct sg_buf req;		/* request bytes, written once connected */
	struct http_resp_parser resp;	/* the response (HTTP, or the upgrade's head) */
	char ws_key[32];
	char ws_accept[32];		/* the Sec-WebSocket-Accept the key asks for */
	bool accept_ok;			/* the upgrade answer carried ws_accept */
	bool accept_bad;		/* ... or another Sec-WebSocket-Accept */
	bool upgrade_ok;		/* ... and an Upgrade header naming websocket */
	wslay_event_context_ptr ws;
	struct evbuffer *ws_in;		/* bev input during wslay_event_recv */
	struct eng_conn *next;		/* graveyard link */
};

/* A packet waiting for the polling POST (or for the end of the upgrade). */
struct eng_pkt {
	enum eio_type type;
	bool binary;
	char *data;
	size_t len;
};

struct sgc_engine {
	struct event_base *base;
	struct evdns_base *dns;
	SSL_CTX *ssl_ctx;
	bool tls_verify;
	char *host;
	unsigned port;
	char *host_header;
	char *path;
	char *query;
	char *headers;
	unsigned transports;
	size_t max_message;
	struct sgc_engine_cbs cbs;
	void *arg;

	enum eng_state st;
	int depth;
	bool freed;
	struct event *kick;		/* deferred start */
	struct event *fail_ev;		/* deferred failure (see eng_fail_later) */
	int fail_code;
	char fail_msg[200];
	struct event *ping_timer;
	struct event *linger_timer;
	struct evdns_getaddrinfo_request *dns_req;
	struct sockaddr_storage addrs[ENG_MAX_ADDRS];
	socklen_t addr_lens[ENG_MAX_ADDRS];
	size_t n_addrs;
	size_t good_addr;

	char *sid;
	unsigned ping_interval;
	unsigned ping_timeout;
	size_t max_payload;
	bool offers_ws;

	enum tr_kind tr;
	struct eng_conn *hs;		/* handshake connection */
	struct eng_conn *ws;		/* the WebSocket transport */
	struct eng_conn *probe;		/* WebSocket being probed for the upgrade */
	bool probe_ok;			/* 3probe received: pausing polling */
	struct eng_conn *get;
	struct eng_conn *post;
	struct eng_pkt *q;		/* polling send queue */
	size_t q_n;
	size_t q_cap;
	bool close_queued;		/* shutdown over polling: the close packet is queued */
	struct eng_conn *graveyard;
	struct sg_buf scratch;		/* decoded 'b' packets of WebSocket text frames */
	struct sg_buf sendbuf;		/* one outgoing WebSocket message */
};

static void eng_enter(struct sgc_engine *e);
static void eng_leave(struct sgc_engine *e);
static bool eng_alive(const struct sgc_engine *e);
static void eng_destroy(struct sgc_engine *e);
static void eng_kick_cb(evutil_socket_t fd, short what, void *arg);
static void eng_fail_cb(evutil_socket_t fd, short what, void *arg);
static void eng_ping_cb(evutil_socket_t fd, short what, void *arg);
static void eng_linger_cb(evutil_socket_t fd, short what, void *arg);
static void eng_dns_cb(int result, struct evutil_addrinfo *res, void *arg);
static void eng_resolved(struct sgc_engine *e);
static void eng_fail(struct sgc_engine *e, int code, const char *fmt, ...) SG_PRINTF(3, 4);
static void eng_fail_later(struct sgc_engine *e, int code, const char *msg);
static void eng_lost(struct sgc_engine *e, int code, const char *reason, const char *msg);
static void eng_finish_shutdown(struct sgc_engine *e);
static void eng_reset_ping(struct sgc_engine *e);
static void eng_on_packet(struct sgc_engine *e, struct eng_conn *from, const struct eio_packet *pk);
static int eng_handle_open(struct sgc_engine *e, const char *data, size_t len);
static void eng_send_packet(struct sgc_engine *e, enum eio_type type, bool binary,
			    const void *data, size_t len);
static void eng_queue_push(struct sgc_engine *e, enum eio_type type, bool binary,
			   const void *data, size_t len);
static void eng_queue_clear(struct sgc_engine *e);
static void eng_poll_pump(struct sgc_engine *e);
static void eng_start_probe(struct sgc_engine *e);
static void eng_drop_probe(struct sgc_engine *e);
static void eng_maybe_finish_upgrade(struct sgc_engine *e);
static void eng_build_url(struct sgc_engine *e, struct sg_buf *out, const char *transport,
			  bool with_sid);
static void eng_add_common_headers(struct sgc_engine *e, struct sg_buf *out);

static struct eng_conn *conn_new(struct sgc_engine *e, enum conn_kind kind);
static void conn_kill(struct eng_conn *c);
static void conn_free(struct eng_conn *c);
static int conn_start(struct eng_conn *c, char *err, size_t errlen);
static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_http_readable(struct eng_conn *c, bool eof);
static void conn_http_done(struct eng_conn *c, const char *body, size_t len);
static void conn_upgrade_header(void *arg, const char *name, size_t name_len, const char *value,
				size_t value_len);
static void conn_ws_upgraded(struct eng_conn *c);
static void conn_ws_readable(struct eng_conn *c);
static void conn_failed(struct eng_conn *c, int code, const char *msg);
static void conn_ws_send(struct eng_conn *c, bool binary, const char *prefix,
			 const void *data, size_t len);
static void conn_ws_flush(struct eng_conn *c);
static void conn_tls_error(struct eng_conn *c, char *buf, size_t len);

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
			  void *arg);
static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
			  int flags, void *arg);
static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *arg);
static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m,
		      void *arg);
static int payload_packet_cb(const struct eio_packet *p, void *arg);

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
	e->cbs = *cbs;
	e->arg = arg;
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
	struct eng_conn *c;

	if (e->dns_req != NULL) {
		struct evdns_getaddrinfo_request *r = e->dns_req;
		e->dns_req = NULL;
		evdns_getaddrinfo_cancel(r);
	}
	if (e->hs)
		conn_kill(e->hs);
	if (e->ws)
		conn_kill(e->ws);
	if (e->probe)
		conn_kill(e->probe);
	if (e->get)
		conn_kill(e->get);
	if (e->post)
		conn_kill(e->post);
	while ((c = e->graveyard) != NULL) {
		e->graveyard = c->next;
		conn_free(c);
	}
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

static void eng_enter(struct sgc_engine *e)
{
	e->depth++;
}

static void eng_leave(struct sgc_engine *e)
{
	struct eng_conn *c;

	if (--e->depth > 0)
		return;
	if (e->freed) {
		eng_destroy(e);
		return;
	}
	while ((c = e->graveyard) != NULL) {
		e->graveyard = c->next;
		conn_free(c);
	}
}

static bool eng_alive(const struct sgc_engine *e)
{
	return !e->freed && e->st != ENG_CLOSED;
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
		c = conn_new(e, CK_HANDSHAKE);
		sg_buf_append_str(&c->req, "GET ");
		eng_build_url(e, &c->req, "polling", false);
		sg_buf_append_str(&c->req, " HTTP/1.1\r\n");
		eng_add_common_headers(e, &c->req);
		sg_buf_append_str(&c->req, "Connection: close\r\n\r\n");
	} else {
		c = conn_new(e, CK_WS);
	}
	e->hs = c;
	if (conn_start(c, err, sizeof(err)) != 0)
		eng_fail(e, SGC_ERR_CONNECT, "%s", err);
}

/* ------------------------------------------------------------------ failures */

static void eng_fail(struct sgc_engine *e, int code, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	eng_lost(e, code, "transport error", msg);
}

static void eng_fail_later(struct sgc_engine *e, int code, const char *msg)
{
	if (e->fail_code != 0)
		return;
	e->fail_code = code;
	snprintf(e->fail_msg, sizeof(e->fail_msg), "%s", msg);
	event_active(e->fail_ev, 0, 0);
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
	if (e->hs)
		conn_kill(e->hs);
	if (e->ws)
		conn_kill(e->ws);
	if (e->probe)
		conn_kill(e->probe);
	if (e->get)
		conn_kill(e->get);
	if (e->post)
		conn_kill(e->post);
	evtimer_del(e->ping_timer);
	evtimer_del(e->linger_timer);
	eng_queue_clear(e);
	if (shutting)
		e->cbs.on_close(e, e->arg, 0, "io client disconnect", msg ? msg : "");
	else
		e->cbs.on_close(e, e->arg, code, reason, msg ? msg : "");
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
	e->ping_interval = json_is_integer(v) && json_integer_value(v) > 0 &&
				   json_integer_value(v) < 3600000
			   ? (unsigned)json_integer_value(v)
			   : 25000;
	v = json_object_get(o, "pingTimeout");
	e->ping_timeout = json_is_integer(v) && json_integer_value(v) > 0 &&
				  json_integer_value(v) < 3600000
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

/* One Engine.IO packet from connection `from`. */
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
			eng_fail(e, SGC_ERR_PROTOCOL, "the server's first packet is not a valid "
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
		e->cbs.on_open(e, e->arg);
		if (!eng_alive(e))
			return;
		if (e->tr == TR_POLLING && e->offers_ws && (e->transports & SGC_TRANSPORT_WEBSOCKET))
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
			e->cbs.on_message(e, e->arg, pk->binary, pk->data, pk->len);
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

static void eng_send_packet(struct sgc_engine *e, enum eio_type type, bool binary,
			    const void *data, size_t len)
{
	char digit[2];

	if (e->tr == TR_WS && e->ws != NULL) {
		digit[0] = (char)('0' + type);
		digit[1] = '\0';
		conn_ws_send(e->ws, binary, binary ? NULL : digit, data, len);
		return;
	}
	eng_queue_push(e, type, binary, data, len);
	eng_poll_pump(e);
}

static void eng_queue_push(struct sgc_engine *e, enum eio_type type, bool binary,
			   const void *data, size_t len)
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

static void eng_queue_clear(struct sgc_engine *e)
{
	size_t i;

	for (i = 0; i < e->q_n; i++)
		free(e->q[i].data);
	e->q_n = 0;
}

/* Starts the polling GET and POST that are due, unless the upgrade pauses
 * polling. */
static void eng_poll_pump(struct sgc_engine *e)
{
	char err[200];

	if (e->tr != TR_POLLING || (e->st != ENG_OPEN && e->st != ENG_CLOSING))
		return;
	if (e->probe_ok) {
		eng_maybe_finish_upgrade(e);
		return;
	}
	if (e->get == NULL && e->st == ENG_OPEN) {
		struct eng_conn *c = conn_new(e, CK_GET);
		sg_buf_append_str(&c->req, "GET ");
		eng_build_url(e, &c->req, "polling", true);
		sg_buf_append_str(&c->req, " HTTP/1.1\r\n");
		eng_add_common_headers(e, &c->req);
		sg_buf_append_str(&c->req, "Connection: close\r\n\r\n");
		e->get = c;
		if (conn_start(c, err, sizeof(err)) != 0) {
			eng_fail_later(e, SGC_ERR_CONNECT, err);
			return;
		}
	}
	if (e->post == NULL && e->q_n > 0) {
		struct eng_conn *c = conn_new(e, CK_POST);
		struct sg_buf body;
		size_t i, used = 0;

		sg_buf_init(&body);
		for (i = 0; i < e->q_n; i++) {
			size_t before = body.len;
			if (e->q[i].binary)
				eio_payload_append_binary(&body, e->q[i].data, e->q[i].len);
			else
				eio_payload_append_text(&body, e->q[i].type, e->q[i].data, e->q[i].len);
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
		if (conn_start(c, err, sizeof(err)) != 0)
			eng_fail_later(e, SGC_ERR_CONNECT, err);
	}
}

static int payload_packet_cb(const struct eio_packet *p, void *arg)
{
	struct eng_conn *c = arg;
	struct sgc_engine *e = c->e;

	eng_on_packet(e, c, p);
	return eng_alive(e) ? 0 : 1;
}

/* ------------------------------------------------------------------ upgrade */

static void eng_start_probe(struct sgc_engine *e)
{
	char err[200];

	e->probe = conn_new(e, CK_WS);
	if (conn_start(e->probe, err, sizeof(err)) != 0)
		eng_drop_probe(e);
}

/* The probe failed: forget it and keep polling. */
static void eng_drop_probe(struct sgc_engine *e)
{
	if (e->probe)
		conn_kill(e->probe);
	e->probe = NULL;
	e->probe_ok = false;
	eng_poll_pump(e);
}

/* After 3probe: once no polling request is in flight, send 5 on the
 * WebSocket and move everything there. */
static void eng_maybe_finish_upgrade(struct sgc_engine *e)
{
	struct eng_conn *ws = e->probe;
	size_t i;

	if (!e->probe_ok || ws == NULL || e->get != NULL || e->post != NULL || e->st != ENG_OPEN)
		return;
	e->probe = NULL;
	e->probe_ok = false;
	e->ws = ws;
	e->tr = TR_WS;
	conn_ws_send(ws, false, "5", "", 0);
	for (i = 0; i < e->q_n; i++) {
		char digit[2] = { (char)('0' + e->q[i].type), '\0' };
		conn_ws_send(ws, e->q[i].binary, e->q[i].binary ? NULL : digit, e->q[i].data,
			     e->q[i].len);
	}
	eng_queue_clear(e);
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
		if (e->dns_req != NULL) {
			struct evdns_getaddrinfo_request *r = e->dns_req;
			e->dns_req = NULL;
			evdns_getaddrinfo_cancel(r);
		}
		if (e->hs)
			conn_kill(e->hs);
		event_active(e->kick, 0, 0);
		return;
	}
	e->st = ENG_CLOSING;
	evtimer_del(e->ping_timer);
	evtimer_add(e->linger_timer, &tv);
	if (e->probe)
		conn_kill(e->probe);
	e->probe_ok = false;
	if (e->tr == TR_WS && e->ws != NULL) {
		(void)wslay_event_queue_close(e->ws->ws, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
		conn_ws_flush(e->ws);
		/* conn_write_cb finishes once the output is drained */
		return;
	}
	if (e->get)
		conn_kill(e->get);
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

static void eng_finish_shutdown(struct sgc_engine *e)
{
	eng_lost(e, 0, "io client disconnect", "");
}

/* ------------------------------------------------------------------ requests */

static void eng_build_url(struct sgc_engine *e, struct sg_buf *out, const char *transport,
			  bool with_sid)
{
	sg_buf_printf(out, "%s?EIO=4&transport=%s", e->path, transport);
	if (with_sid && e->sid)
		sg_buf_printf(out, "&sid=%s", e->sid);
	if (e->query[0] != '\0')
		sg_buf_printf(out, "&%s", e->query);
}

static void eng_add_common_headers(struct sgc_engine *e, struct sg_buf *out)
{
	sg_buf_printf(out, "Host: %s\r\nUser-Agent: siogate-client/%s\r\nAccept: */*\r\n",
		      e->host_header, SGC_VERSION);
	sg_buf_append_str(out, e->headers);
}

/* ------------------------------------------------------------------ connections */

static struct eng_conn *conn_new(struct sgc_engine *e, enum conn_kind kind)
{
	struct eng_conn *c = sg_calloc(1, sizeof(*c));

	c->e = e;
	c->kind = kind;
	c->st = CS_CONNECTING;
	c->addr_idx = e->good_addr;
	sg_buf_init(&c->req);
	http_resp_parser_init(&c->resp, e->max_message + ENG_MAX_HEAD, false);
	if (kind == CK_WS) {
		unsigned char key[16];
		struct sg_buf b64;
		if (RAND_bytes(key, sizeof(key)) != 1)
			sg_fatal("RAND_bytes failed");
		sg_buf_init(&b64);
		base64_encode(&b64, key, sizeof(key));
		snprintf(c->ws_key, sizeof(c->ws_key), "%s", b64.data);
		sg_buf_reset(&b64);
		ws_accept_key(c->ws_key, strlen(c->ws_key), &b64);
		snprintf(c->ws_accept, sizeof(c->ws_accept), "%s", b64.data);
		sg_buf_fini(&b64);
		http_resp_parser_allow_upgrade(&c->resp);
		http_resp_parser_on_header(&c->resp, conn_upgrade_header, c);
		sg_buf_append_str(&c->req, "GET ");
		eng_build_url(e, &c->req, "websocket", e->sid != NULL);
		sg_buf_append_str(&c->req, " HTTP/1.1\r\n");
		eng_add_common_headers(e, &c->req);
		sg_buf_printf(&c->req,
			      "Connection: Upgrade\r\nUpgrade: websocket\r\n"
			      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n",
			      c->ws_key);
	}
	return c;
}

/* Opens the TCP (and TLS) connection to the current address.  Returns 0, or
 * -1 with a message when no socket could even be started. */
static int conn_start(struct eng_conn *c, char *err, size_t errlen)
{
	struct sgc_engine *e = c->e;
	const int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;

	for (; c->addr_idx < e->n_addrs; c->addr_idx++) {
		struct sockaddr *sa = (struct sockaddr *)&e->addrs[c->addr_idx];

		if (e->ssl_ctx != NULL) {
			SSL *ssl = SSL_new(e->ssl_ctx);
			struct in6_addr a6;
			bool is_ip = inet_pton(AF_INET, e->host, &a6) == 1 ||
				     inet_pton(AF_INET6, e->host, &a6) == 1;
			if (ssl == NULL)
				sg_fatal("SSL_new failed");
			if (!is_ip)
				SSL_set_tlsext_host_name(ssl, e->host);
			if (e->tls_verify) {
				if (is_ip)
					X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), e->host);
				else
					SSL_set1_host(ssl, e->host);
			}
			c->bev = bufferevent_openssl_socket_new(e->base, -1, ssl,
								BUFFEREVENT_SSL_CONNECTING, opts);
			if (c->bev != NULL)
				bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		} else {
			c->bev = bufferevent_socket_new(e->base, -1, opts);
		}
		if (c->bev == NULL)
			sg_fatal("libevent: cannot create a bufferevent");
		bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		if (bufferevent_socket_connect(c->bev, sa, (int)e->addr_lens[c->addr_idx]) == 0)
			return 0;
		snprintf(err, errlen, "cannot connect to %s port %u: %s", e->host, e->port,
			 strerror(errno));
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (e->n_addrs == 0)
		snprintf(err, errlen, "no address for %s", e->host);
	return -1;
}

/* Ends a connection now: the socket closes, the struct waits in the
 * graveyard until no callback runs. */
static void conn_kill(struct eng_conn *c)
{
	struct sgc_engine *e = c->e;

	if (c->st == CS_DEAD)
		return;
	c->st = CS_DEAD;
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (e->hs == c)
		e->hs = NULL;
	if (e->ws == c)
		e->ws = NULL;
	if (e->probe == c)
		e->probe = NULL;
	if (e->get == c)
		e->get = NULL;
	if (e->post == c)
		e->post = NULL;
	c->next = e->graveyard;
	e->graveyard = c;
}

static void conn_free(struct eng_conn *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->ws)
		wslay_event_context_free(c->ws);
	sg_buf_fini(&c->req);
	http_resp_parser_fini(&c->resp);
	free(c);
}

static void conn_tls_error(struct eng_conn *c, char *buf, size_t len)
{
	unsigned long err = c->bev ? bufferevent_get_openssl_error(c->bev) : 0;
	SSL *ssl = c->bev ? bufferevent_openssl_get_ssl(c->bev) : NULL;
	long vr = ssl && c->e->tls_verify ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (vr != X509_V_OK) {
		snprintf(buf, len, "TLS: certificate verification failed: %s",
			 X509_verify_cert_error_string(vr));
	} else if (err != 0) {
		char e2[160];
		ERR_error_string_n(err, e2, sizeof(e2));
		snprintf(buf, len, "TLS: %s", e2);
	} else {
		buf[0] = '\0';
	}
	/* drain what is left so that it does not leak into the next report */
	while (c->bev && bufferevent_get_openssl_error(c->bev) != 0) {
	}
}

/*
 * A connection failed; what that means depends on its role.  code is an
 * SGC_ERR_* value, or FAIL_CLOSE / FAIL_ERROR.  While the session opens,
 * every failure is a connection failure (FAIL_* count as SGC_ERR_HANDSHAKE);
 * once open, the reason is socket.io-client's.
 */
static void conn_failed(struct eng_conn *c, int code, const char *msg)
{
	struct sgc_engine *e = c->e;

	if (c == e->probe) {
		eng_drop_probe(e);
		return;
	}
	if (c->kind == CK_POST && e->st == ENG_CLOSING) {
		conn_kill(c);
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

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct eng_conn *c = arg;
	struct sgc_engine *e = c->e;
	char msg[300], tls[240];
	int saved = EVUTIL_SOCKET_ERROR();

	SG_UNUSED(bev);
	eng_enter(e);
	if (c->st == CS_DEAD || !eng_alive(e))
		goto out;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->st == CS_CONNECTING) {
			e->good_addr = c->addr_idx;
			c->st = CS_HTTP;
			bufferevent_write(c->bev, c->req.data, c->req.len);
		}
		goto out;
	}
	if (c->st == CS_CONNECTING && (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))) {
		conn_tls_error(c, tls, sizeof(tls));
		if (tls[0] != '\0') {
			conn_failed(c, SGC_ERR_TLS, tls);
			goto out;
		}
		snprintf(msg, sizeof(msg), "cannot connect to %s port %u: %s", e->host, e->port,
			 saved ? evutil_socket_error_to_string(saved) : "connection closed");
		/* try the next address */
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->addr_idx++;
		if (c->addr_idx < e->n_addrs && c->kind != CK_POST && c->kind != CK_GET) {
			char err[200];
			if (conn_start(c, err, sizeof(err)) == 0)
				goto out;
		}
		conn_failed(c, SGC_ERR_CONNECT, msg);
		goto out;
	}
	if (what & BEV_EVENT_EOF) {
		if (c->st == CS_HTTP) {
			conn_http_readable(c, true);
		} else if (c->st == CS_WS) {
			conn_ws_readable(c);
			if (c->st == CS_WS)
				conn_failed(c, FAIL_CLOSE, "the server closed the connection");
		}
		goto out;
	}
	if (what & BEV_EVENT_ERROR) {
		conn_tls_error(c, tls, sizeof(tls));
		snprintf(msg, sizeof(msg), "connection error: %s",
			 tls[0] ? tls : evutil_socket_error_to_string(saved));
		conn_failed(c, e->st == ENG_OPENING ? SGC_ERR_CONNECT : FAIL_ERROR, msg);
	}
out:
	eng_leave(e);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct eng_conn *c = arg;
	struct sgc_engine *e = c->e;

	SG_UNUSED(bev);
	eng_enter(e);
	/* the close frame of a shutdown is written: done */
	if (c->st == CS_WS && c == e->ws && e->st == ENG_CLOSING && c->ws != NULL &&
	    !wslay_event_get_write_enabled(c->ws) && !wslay_event_want_write(c->ws))
		eng_finish_shutdown(e);
	eng_leave(e);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct eng_conn *c = arg;
	struct sgc_engine *e = c->e;

	SG_UNUSED(bev);
	eng_enter(e);
	if (c->st == CS_DEAD || !eng_alive(e))
		goto out;
	if (c->st == CS_WS)
		conn_ws_readable(c);
	else if (c->st == CS_HTTP)
		conn_http_readable(c, false);
out:
	eng_leave(e);
}

/* ------------------------------------------------------------------ HTTP responses */

/* Feeds what arrived to the response parser; acts once it is complete. */
static void conn_http_readable(struct eng_conn *c, bool eof)
{
	struct evbuffer *in = c->bev ? bufferevent_get_input(c->bev) : NULL;
	enum http_resp_parser_status st = HRESP_MORE;
	struct sg_err err = { 0, 0, "" };
	bool cut = false;
	char msg[300];

	while (st == HRESP_MORE && in != NULL && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		size_t used = 0;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		st = http_resp_parser_feed(&c->resp, v.iov_base, v.iov_len, &used, &err);
		evbuffer_drain(in, used);
	}
	if (st == HRESP_MORE && eof) {
		/* only a response cut short fails here */
		cut = true;
		st = http_resp_parser_finish(&c->resp, &err);
	}
	switch (st) {
	case HRESP_MORE:
		return;
	case HRESP_TOO_LARGE:
		conn_failed(c, FAIL_ERROR, "HTTP response too large");
		return;
	case HRESP_ERROR:
		if (cut) {
			conn_failed(c, FAIL_CLOSE, c->resp.status != 0
				    ? "the server closed the connection mid-response"
				    : "the server closed the connection without answering");
			return;
		}
		snprintf(msg, sizeof(msg), "bad HTTP response: %s", err.msg);
		conn_failed(c, SGC_ERR_PROTOCOL, msg);
		return;
	case HRESP_DONE:
		break;
	}
	if (c->resp.status == 101) {
		/* only a WebSocket connection allows it */
		if (!c->accept_ok || c->accept_bad || !c->upgrade_ok) {
			conn_failed(c, SGC_ERR_HANDSHAKE, "invalid WebSocket upgrade answer "
				    "(Sec-WebSocket-Accept or Upgrade header)");
			return;
		}
		conn_ws_upgraded(c);
		return;
	}
	conn_http_done(c, c->resp.body.data, c->resp.body.len);
}

/* The headers of the answer to a WebSocket upgrade request. */
static void conn_upgrade_header(void *arg, const char *name, size_t name_len, const char *value,
				size_t value_len)
{
	struct eng_conn *c = arg;

	if (name_len == 20 && strncasecmp(name, "Sec-WebSocket-Accept", 20) == 0) {
		if (value_len == strlen(c->ws_accept) && memcmp(value, c->ws_accept, value_len) == 0)
			c->accept_ok = true;
		else
			c->accept_bad = true;
	} else if (name_len == 7 && strncasecmp(name, "Upgrade", 7) == 0) {
		c->upgrade_ok |= sg_list_has(value, value_len, "websocket");
	}
}

/* A complete HTTP response (not a 101) to one of our requests. */
static void conn_http_done(struct eng_conn *c, const char *body, size_t len)
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
		conn_failed(c, e->st == ENG_OPENING ? SGC_ERR_HANDSHAKE : FAIL_ERROR, msg);
		return;
	}
	if (c->kind == CK_WS) {
		conn_failed(c, SGC_ERR_HANDSHAKE, "the server did not upgrade to WebSocket (HTTP 200)");
		return;
	}
	if (c->kind == CK_POST) {
		conn_kill(c);
		if (e->st == ENG_CLOSING && e->close_queued && e->q_n == 0) {
			eng_finish_shutdown(e);
			return;
		}
		eng_poll_pump(e);
		return;
	}
	/* GET or handshake: a payload of packets */
	if (len == 0) {
		conn_failed(c, SGC_ERR_PROTOCOL, "empty polling payload");
		return;
	}
	rc = eio_payload_decode(body, len, (size_t)-1, payload_packet_cb, c);
	if (!eng_alive(e))
		return;
	if (rc < 0) {
		if (e->st == ENG_OPENING)
			eng_fail(e, SGC_ERR_PROTOCOL, "invalid Engine.IO polling payload");
		else
			eng_lost(e, SGC_ERR_PROTOCOL, "parse error", "invalid Engine.IO polling payload");
		return;
	}
	if (e->st == ENG_OPENING) {
		eng_fail(e, SGC_ERR_PROTOCOL, "the polling handshake carried no open packet");
		return;
	}
	conn_kill(c);
	eng_poll_pump(e);
}

/* ------------------------------------------------------------------ WebSocket */

static const struct wslay_event_callbacks ws_callbacks = {
	.recv_callback = ws_recv_cb,
	.send_callback = ws_send_cb,
	.genmask_callback = ws_genmask_cb,
	.on_msg_recv_callback = ws_msg_cb,
};

static void conn_ws_upgraded(struct eng_conn *c)
{
	struct sgc_engine *e = c->e;

	if (wslay_event_context_client_init(&c->ws, &ws_callbacks, c) != 0)
		sg_fatal("wslay: cannot create a client context");
	wslay_event_config_set_max_recv_msg_length(c->ws, e->max_message);
	c->st = CS_WS;
	/* the bytes after the head are still in the input: the first frames */
	if (c == e->probe)
		conn_ws_send(c, false, "2", "probe", 5);
	conn_ws_readable(c);
}

static void conn_ws_readable(struct eng_conn *c)
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
	conn_ws_flush(c);
	if (c->st != CS_WS)
		return;
	if (rc != 0) {
		if (rc == WSLAY_ERR_CALLBACK_FAILURE || !wslay_event_get_read_enabled(c->ws)) {
			/* fall through to the close handling below */
		} else {
			conn_failed(c, SGC_ERR_PROTOCOL, "invalid WebSocket data from the server");
			return;
		}
	}
	if (!wslay_event_get_read_enabled(c->ws)) {
		if (e->st == ENG_CLOSING && c == e->ws) {
			eng_finish_shutdown(e);
			return;
		}
		if (wslay_event_get_status_code_sent(c->ws) == WSLAY_CODE_MESSAGE_TOO_BIG)
			conn_failed(c, FAIL_ERROR, "message from the server larger than max_message");
		else if (wslay_event_get_close_received(c->ws))
			conn_failed(c, FAIL_CLOSE, "the server closed the WebSocket");
		else
			conn_failed(c, SGC_ERR_PROTOCOL, "invalid WebSocket data from the server");
	}
}

static void conn_ws_flush(struct eng_conn *c)
{
	if (c->ws != NULL && c->bev != NULL && wslay_event_want_write(c->ws))
		(void)wslay_event_send(c->ws); /* ws_send_cb never fails */
}

static void conn_ws_send(struct eng_conn *c, bool binary, const char *prefix,
			 const void *data, size_t len)
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
	conn_ws_flush(c);
}

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

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
			  int flags, void *arg)
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
		eng_on_packet(e, c, &pk);
	} else if (m->opcode == WSLAY_TEXT_FRAME) {
		if (eio_packet_decode_any((const char *)m->msg, m->msg_length, &e->scratch, &pk) != 0) {
			if (c == e->probe) {
				eng_drop_probe(e);
			} else if (e->st == ENG_OPENING) {
				eng_fail(e, SGC_ERR_PROTOCOL, "invalid Engine.IO packet from the server");
			} else {
				eng_lost(e, SGC_ERR_PROTOCOL, "parse error",
					 "invalid Engine.IO packet from the server");
			}
			return;
		}
		eng_on_packet(e, c, &pk);
	}
	/* ping, pong and close frames are handled by wslay */
}
