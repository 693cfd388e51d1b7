/*
 * client.c: libsiogate-client's public API (siogate/client.h): the options,
 * the connection state machine with reconnection (backoff and jitter), the
 * Socket.IO v5 layer on top of an Engine.IO session (engine.c): namespace
 * CONNECT, events, acks both ways, binary attachments, DISCONNECT and
 * CONNECT_ERROR; and the seed's helper flow on top of that: the
 * unauthorized / authenticating / authenticated state, authenticate, join
 * and leave, and the subscription table (subs.c).
 *
 * Invariant: the client is never freed under a running callback.  Every
 * entry from the event loop and every API function that may call back is
 * bracketed by client_enter/client_leave; sgc_client_free inside one only
 * marks the client (free_requested), tears down its connections and
 * subscriptions, and the outermost client_leave releases the memory.  After
 * any user callback, code re-checks free_requested and the generation
 * counter `gen` (bumped by sgc_connect / sgc_disconnect) before acting.
 */
#include "siogate/client.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/dns.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "backoff.h"
#include "core/common.h"
#include "engine.h"
#include "jsonout.h"
#include "proto/sio_packet.h"
#include "proto/url.h"
#include "subs.h"

#define SGC_MAGIC 0x53474331u
#define SGC_MAX_ATTACHMENTS 1000
#define SGC_DEFAULT_MAX_MESSAGE (16u * 1024 * 1024)

struct sgc_pending_ack {
	struct sgc_client *c;
	int64_t id;
	sgc_ack_fn cb;
	void *user;
	struct event *timer;
	struct sgc_pending_ack *next;
};

struct sgc_client {
	uint32_t magic;
	struct event_base *base;

	/* options (owned copies) */
	char *identifier;
	struct url url;
	char *path;
	char *nsp;
	char *query;			/* URL query and options query, joined by '&' */
	char *headers;			/* "Name: value\r\n" lines */
	char *auth;			/* compact JSON object text, or NULL */
	char *host_header;
	unsigned transports;
	bool tls_verify;
	bool reconnection;
	unsigned reconnection_attempts;
	unsigned delay_ms;
	unsigned delay_max_ms;
	double jitter;
	unsigned connect_timeout_ms;
	size_t max_message;
	struct sgc_options cb;		/* only the callbacks and user are used */

	SSL_CTX *ssl_ctx;
	struct evdns_base *dns;

	/* state */
	enum sgc_conn_state conn;
	enum sgc_state auth_state;
	struct sgc_engine *eng;
	struct sgc_engine **closing;	/* engines finishing a graceful close */
	size_t n_closing;
	char *sid;
	unsigned attempt;		/* failed attempts since the last success */
	unsigned gen;
	struct event *reconnect_timer;
	struct event *connect_timer;
	int64_t next_ack_id;
	struct sgc_pending_ack *acks;

	/* a BINARY_EVENT / BINARY_ACK waiting for its attachments */
	bool bin_pending;
	struct sio_packet bin_pkt;
	struct sg_buf *bin_parts;
	size_t bin_n;

	struct sgc_subs subs;
	int depth;
	bool free_requested;
};

/* What sgc_subs_dispatch hands to call_handler. */
struct dispatch_ctx {
	struct sgc_client *c;
	const struct sgc_event *ev;
};

static void client_enter(struct sgc_client *c);
static void client_leave(struct sgc_client *c);
static void client_destroy(struct sgc_client *c);
static void set_err(char *buf, size_t len, const char *fmt, ...) SG_PRINTF(3, 4);
static int build_headers(const char *const *headers, struct sg_buf *out, char *errbuf,
			 size_t errlen);
static bool is_numeric_host(const char *host);
static void start_attempt(struct sgc_client *c);
static void schedule_reconnect(struct sgc_client *c);
static void report_error(struct sgc_client *c, int code, const char *msg, const json_t *data);
static void report_errorf(struct sgc_client *c, int code, const char *fmt, ...) SG_PRINTF(3, 4);
static void go_disconnected(struct sgc_client *c, const char *reason, bool notify);
static void retire_engine(struct sgc_client *c, bool graceful);
static void fail_acks(struct sgc_client *c, struct sgc_pending_ack *list);
static void bin_reset(struct sgc_client *c);
static void protocol_error(struct sgc_client *c, const char *msg);
static void on_eng_open(struct sgc_engine *e, void *arg);
static void on_eng_message(struct sgc_engine *e, void *arg, bool binary, const char *data,
			   size_t len);
static void on_eng_close(struct sgc_engine *e, void *arg, int code, const char *reason,
			 const char *message);
static void handle_packet(struct sgc_client *c, struct sio_packet *pkt,
			  const struct sgc_binary *att, size_t n_att);
static void handle_connect(struct sgc_client *c, const struct sio_packet *pkt);
static void handle_connect_error(struct sgc_client *c, const struct sio_packet *pkt);
static void deliver_event(struct sgc_client *c, const struct sio_packet *pkt,
			  const struct sgc_binary *att, size_t n_att);
static void deliver_ack(struct sgc_client *c, const struct sio_packet *pkt,
			const struct sgc_binary *att, size_t n_att);
static void call_handler(const struct sgc_sub *sub, void *arg);
static void reconnect_cb(evutil_socket_t fd, short what, void *arg);
static void connect_timeout_cb(evutil_socket_t fd, short what, void *arg);
static void ack_timeout_cb(evutil_socket_t fd, short what, void *arg);
static bool is_reserved_event(const char *name);
static int check_placeholders(const json_t *v, size_t n_att);
static int send_packet(struct sgc_client *c, enum sio_type type, int64_t id, const char *event,
		       const json_t *args, const struct sgc_binary *att, size_t n_att);
static int rooms_request(struct sgc_client *c, const char *event, const char *const *rooms,
			 size_t n, sgc_ack_fn ack, void *user, unsigned timeout_ms);
static double random01(void);

/* ------------------------------------------------------------------ small helpers */

static void set_err(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static double random01(void)
{
	uint32_t r;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return 0.5;
	return (double)r / 4294967296.0;
}

static bool is_numeric_host(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void client_enter(struct sgc_client *c)
{
	c->depth++;
}

static void client_leave(struct sgc_client *c)
{
	if (--c->depth == 0 && c->free_requested)
		client_destroy(c);
}

const char *sgc_strerror(int status)
{
	switch (status) {
	case SGC_OK:
		return "success";
	case SGC_SKIPPED:
		return "nothing to do";
	case SGC_ERR_INVALID:
		return "invalid argument";
	case SGC_ERR_NOT_CONNECTED:
		return "not connected";
	case SGC_ERR_STATE:
		return "not allowed in the current state";
	case SGC_ERR_TIMEOUT:
		return "timed out";
	case SGC_ERR_DISCONNECTED:
		return "disconnected before the answer";
	case SGC_ERR_CONNECT:
		return "cannot connect";
	case SGC_ERR_TLS:
		return "TLS failure";
	case SGC_ERR_HANDSHAKE:
		return "the server refused the request";
	case SGC_ERR_PROTOCOL:
		return "protocol error";
	case SGC_ERR_REFUSED:
		return "namespace connection refused";
	case SGC_ERR_HANDLER:
		return "an event handler failed";
	case SGC_ERR_RECONNECT_FAILED:
		return "reconnection failed";
	default:
		return "unknown status";
	}
}

const char *sgc_state_name(enum sgc_state s)
{
	switch (s) {
	case SGC_UNAUTHORIZED:
		return "unauthorized";
	case SGC_AUTHENTICATING:
		return "authenticating";
	case SGC_AUTHENTICATED:
		return "authenticated";
	}
	return "unknown";
}

json_t *sgc_placeholder(unsigned num)
{
	return json_pack("{s:b,s:I}", "_placeholder", 1, "num", (json_int_t)num);
}

int sgc_placeholder_num(const json_t *value)
{
	json_t *num;

	if (!json_is_object(value) || !json_is_true(json_object_get(value, "_placeholder")))
		return -1;
	num = json_object_get(value, "num");
	if (json_is_integer(num) && json_integer_value(num) >= 0 &&
	    json_integer_value(num) <= SGC_MAX_ATTACHMENTS)
		return (int)json_integer_value(num);
	if (json_is_real(num) && json_real_value(num) >= 0 &&
	    json_real_value(num) <= SGC_MAX_ATTACHMENTS &&
	    json_real_value(num) == (double)(int)json_real_value(num))
		return (int)json_real_value(num);
	return -1;
}

/* ------------------------------------------------------------------ options, lifecycle */

void sgc_options_init(struct sgc_options *o)
{
	memset(o, 0, sizeof(*o));
	o->identifier = "siogate-client";
	o->path = "/socket.io/";
	o->transports = SGC_TRANSPORT_WEBSOCKET;
	o->tls_verify = true;
	o->reconnection = true;
	o->reconnection_attempts = 0;
	o->reconnection_delay_ms = 1000;
	o->reconnection_delay_max_ms = 5000;
	o->randomization_factor = 0.5;
	o->connect_timeout_ms = 20000;
	o->max_message = SGC_DEFAULT_MAX_MESSAGE;
}

/* Checks "Name: value" entries and writes them as header lines. */
static int build_headers(const char *const *headers, struct sg_buf *out, char *errbuf,
			 size_t errlen)
{
	static const char *const reserved[] = { "host", "connection", "upgrade",
						"content-length", "transfer-encoding",
						"sec-websocket-key", "sec-websocket-version",
						"sec-websocket-extensions" };
	size_t i, k;

	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		const char *h = headers[i], *colon = strchr(h, ':'), *p, *v;
		size_t nl;

		if (colon == NULL || colon == h) {
			set_err(errbuf, errlen, "header '%s' is not 'Name: value'", h);
			return -1;
		}
		nl = (size_t)(colon - h);
		for (p = h; p < colon; p++) {
			if (!sg_is_tchar((unsigned char)*p)) {
				set_err(errbuf, errlen, "invalid header name in '%s'", h);
				return -1;
			}
		}
		for (k = 0; k < SG_ARRAY_LEN(reserved); k++) {
			if (strlen(reserved[k]) == nl && strncasecmp(h, reserved[k], nl) == 0) {
				set_err(errbuf, errlen, "header '%.*s' is set by the client itself",
					(int)nl, h);
				return -1;
			}
		}
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		for (p = v; *p; p++) {
			if ((unsigned char)*p < 0x20 && *p != '\t') {
				set_err(errbuf, errlen, "control character in header '%.*s'", (int)nl, h);
				return -1;
			}
		}
		sg_buf_printf(out, "%.*s: %s\r\n", (int)nl, h, v);
	}
	return 0;
}

struct sgc_client *sgc_client_new(struct event_base *base, const struct sgc_options *o,
				  char *errbuf, size_t errlen)
{
	struct sgc_client *c;
	struct sg_err err = { 0, 0, "" };
	struct sg_buf b;
	const char *p;

	if (base == NULL || o == NULL) {
		set_err(errbuf, errlen, "no event base or no options");
		return NULL;
	}
	if (o->url == NULL || o->url[0] == '\0') {
		set_err(errbuf, errlen, "no URL");
		return NULL;
	}
	c = sg_calloc(1, sizeof(*c));
	c->magic = SGC_MAGIC;
	c->base = base;
	c->next_ack_id = 0;
	sg_buf_init(&b);
	if (url_parse(o->url, URL_SCHEMES_ANY, &c->url, &err) != 0) {
		set_err(errbuf, errlen, "%s", err.msg);
		goto fail;
	}
	c->identifier = sg_strdup(o->identifier && o->identifier[0] ? o->identifier
								     : "siogate-client");
	/* Engine.IO path: starts and ends with '/' */
	p = o->path && o->path[0] ? o->path : "/socket.io/";
	if (p[0] != '/' || strpbrk(p, "?# \t\r\n") != NULL) {
		set_err(errbuf, errlen, "invalid path '%s' (must start with '/')", p);
		goto fail;
	}
	sg_buf_append_str(&b, p);
	if (b.data[b.len - 1] != '/')
		sg_buf_append_char(&b, '/');
	c->path = sg_buf_steal(&b);
	/* namespace */
	p = o->nsp && o->nsp[0] ? o->nsp : c->url.path;
	if (p[0] != '/' || strpbrk(p, ", \t\r\n") != NULL) {
		set_err(errbuf, errlen, "invalid namespace '%s' (must start with '/', no ',')", p);
		goto fail;
	}
	c->nsp = sg_strdup(p);
	/* query */
	if (o->query && strpbrk(o->query, "# \t\r\n") != NULL) {
		set_err(errbuf, errlen, "invalid query '%s'", o->query);
		goto fail;
	}
	sg_buf_init(&b);
	sg_buf_append_str(&b, c->url.query ? c->url.query : "");
	if (o->query && o->query[0]) {
		if (b.len > 0)
			sg_buf_append_char(&b, '&');
		sg_buf_append_str(&b, o->query[0] == '?' || o->query[0] == '&' ? o->query + 1
									      : o->query);
	}
	c->query = sg_buf_steal(&b);
	/* headers */
	sg_buf_init(&b);
	sg_buf_append(&b, "", 0);
	if (build_headers(o->headers, &b, errbuf, errlen) != 0)
		goto fail;
	c->headers = sg_buf_steal(&b);
	/* auth */
	if (o->auth != NULL) {
		json_error_t jerr;
		json_t *a = json_loads(o->auth, 0, &jerr);
		if (a == NULL || !json_is_object(a)) {
			json_decref(a);
			set_err(errbuf, errlen, "auth must be a JSON object (%s)",
				a == NULL ? jerr.text : "not an object");
			goto fail;
		}
		sg_buf_init(&b);
		sgc_json_append(&b, a);
		json_decref(a);
		c->auth = sg_buf_steal(&b);
	}
	sg_buf_init(&b);
	url_append_host_header(&c->url, &b);
	c->host_header = sg_buf_steal(&b);
	c->transports = o->transports & SGC_TRANSPORT_ANY;
	if (c->transports == 0)
		c->transports = SGC_TRANSPORT_WEBSOCKET;
	c->tls_verify = o->tls_verify;
	c->reconnection = o->reconnection;
	c->reconnection_attempts = o->reconnection_attempts;
	c->delay_ms = o->reconnection_delay_ms;
	c->delay_max_ms = o->reconnection_delay_max_ms >= o->reconnection_delay_ms
				  ? o->reconnection_delay_max_ms
				  : o->reconnection_delay_ms;
	c->jitter = o->randomization_factor >= 0 && o->randomization_factor <= 1
			    ? o->randomization_factor
			    : 0.5;
	c->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 20000;
	c->max_message = o->max_message ? o->max_message : SGC_DEFAULT_MAX_MESSAGE;
	c->cb = *o;
	c->cb.identifier = NULL;
	c->cb.url = NULL;
	c->cb.path = NULL;
	c->cb.nsp = NULL;
	c->cb.headers = NULL;
	c->cb.query = NULL;
	c->cb.auth = NULL;
	c->cb.tls_ca_file = NULL;
	if (c->url.tls) {
		c->ssl_ctx = SSL_CTX_new(TLS_client_method());
		if (c->ssl_ctx == NULL) {
			set_err(errbuf, errlen, "cannot create a TLS context");
			goto fail;
		}
		SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
		if (c->tls_verify) {
			SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
			if (o->tls_ca_file != NULL) {
				if (SSL_CTX_load_verify_locations(c->ssl_ctx, o->tls_ca_file, NULL) != 1) {
					char e2[160];
					ERR_error_string_n(ERR_get_error(), e2, sizeof(e2));
					ERR_clear_error();
					set_err(errbuf, errlen, "cannot load CA file '%s': %s",
						o->tls_ca_file, e2);
					goto fail;
				}
			} else if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
				ERR_clear_error();
				set_err(errbuf, errlen, "cannot load the system's CA certificates");
				goto fail;
			}
		} else {
			SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_NONE, NULL);
		}
	}
	c->reconnect_timer = evtimer_new(base, reconnect_cb, c);
	c->connect_timer = evtimer_new(base, connect_timeout_cb, c);
	if (c->reconnect_timer == NULL || c->connect_timer == NULL) {
		set_err(errbuf, errlen, "libevent: cannot create timers");
		goto fail;
	}
	c->conn = SGC_CONN_DISCONNECTED;
	c->auth_state = SGC_UNAUTHORIZED;
	return c;

fail:
	sg_buf_fini(&b);
	client_destroy(c);
	return NULL;
}

void sgc_client_free(struct sgc_client *c)
{
	struct sgc_pending_ack *acks;
	size_t i;

	if (c == NULL || c->free_requested)
		return;
	if (c->magic != SGC_MAGIC)
		sg_fatal("sgc_client_free: not a client (%p)", (void *)c);
	client_enter(c);
	c->free_requested = true;
	c->gen++;
	evtimer_del(c->reconnect_timer);
	evtimer_del(c->connect_timer);
	sgc_engine_free(c->eng);
	c->eng = NULL;
	for (i = 0; i < c->n_closing; i++)
		sgc_engine_free(c->closing[i]);
	c->n_closing = 0;
	sgc_subs_clear(&c->subs);
	bin_reset(c);
	c->conn = SGC_CONN_DISCONNECTED;
	c->auth_state = SGC_UNAUTHORIZED;
	acks = c->acks;
	c->acks = NULL;
	fail_acks(c, acks);
	client_leave(c);
}

/* Releases everything (the client is idle and no callback runs). */
static void client_destroy(struct sgc_client *c)
{
	size_t i;

	sgc_engine_free(c->eng);
	for (i = 0; i < c->n_closing; i++)
		sgc_engine_free(c->closing[i]);
	free(c->closing);
	fail_acks(c, c->acks); /* empty unless sgc_client_new failed midway */
	bin_reset(c);
	sgc_subs_fini(&c->subs);
	if (c->reconnect_timer)
		event_free(c->reconnect_timer);
	if (c->connect_timer)
		event_free(c->connect_timer);
	if (c->dns)
		evdns_base_free(c->dns, 0);
	if (c->ssl_ctx)
		SSL_CTX_free(c->ssl_ctx);
	url_fini(&c->url);
	free(c->identifier);
	free(c->path);
	free(c->nsp);
	free(c->query);
	free(c->headers);
	free(c->auth);
	free(c->host_header);
	free(c->sid);
	c->magic = 0;
	free(c);
}

/* ------------------------------------------------------------------ accessors */

enum sgc_state sgc_state(const struct sgc_client *c)
{
	return c->auth_state;
}

enum sgc_conn_state sgc_conn_state(const struct sgc_client *c)
{
	return c->conn;
}

const char *sgc_socket_id(const struct sgc_client *c)
{
	return c->conn == SGC_CONN_CONNECTED ? c->sid : NULL;
}

const char *sgc_transport_name(const struct sgc_client *c)
{
	return c->conn == SGC_CONN_CONNECTED ? sgc_engine_transport(c->eng) : NULL;
}

const char *sgc_identifier(const struct sgc_client *c)
{
	return c->identifier;
}

bool sgc_is_closing(const struct sgc_client *c)
{
	return c->n_closing > 0;
}

/* ------------------------------------------------------------------ connecting */

int sgc_connect(struct sgc_client *c)
{
	if (c->free_requested)
		return SGC_ERR_STATE;
	if (c->conn != SGC_CONN_DISCONNECTED)
		return SGC_SKIPPED;
	c->gen++;
	c->attempt = 0;
	start_attempt(c);
	return SGC_OK;
}

static void start_attempt(struct sgc_client *c)
{
	struct sgc_engine_params p;
	static const struct sgc_engine_cbs cbs = {
		.on_open = on_eng_open,
		.on_message = on_eng_message,
		.on_close = on_eng_close,
	};
	struct timeval tv;

	if (c->dns == NULL && !is_numeric_host(c->url.host)) {
		c->dns = evdns_base_new(c->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
						 EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	}
	memset(&p, 0, sizeof(p));
	p.base = c->base;
	p.dns = c->dns;
	p.ssl_ctx = c->ssl_ctx;
	p.tls_verify = c->tls_verify;
	p.host = c->url.host;
	p.port = c->url.port;
	p.host_header = c->host_header;
	p.path = c->path;
	p.query = c->query;
	p.headers = c->headers;
	p.transports = c->transports;
	p.max_message = c->max_message;
	c->conn = SGC_CONN_CONNECTING;
	c->eng = sgc_engine_new(&p, &cbs, c);
	tv.tv_sec = c->connect_timeout_ms / 1000;
	tv.tv_usec = (c->connect_timeout_ms % 1000) * 1000;
	evtimer_add(c->connect_timer, &tv);
}

/* After a failed attempt or a lost connection: wait, or give up. */
static void schedule_reconnect(struct sgc_client *c)
{
	unsigned delay;
	struct timeval tv;

	if (!c->reconnection || c->free_requested) {
		c->conn = SGC_CONN_DISCONNECTED;
		return;
	}
	c->attempt++;
	if (c->reconnection_attempts > 0 && c->attempt > c->reconnection_attempts) {
		c->conn = SGC_CONN_DISCONNECTED;
		report_errorf(c, SGC_ERR_RECONNECT_FAILED, "gave up after %u reconnection attempts",
			      c->reconnection_attempts);
		return;
	}
	delay = sgc_backoff_delay(c->attempt - 1, c->delay_ms, c->delay_max_ms, c->jitter,
				  random01());
	c->conn = SGC_CONN_RECONNECTING;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(c->reconnect_timer, &tv);
	if (c->cb.on_reconnecting)
		c->cb.on_reconnecting(c, c->attempt, delay, c->cb.user);
}

static void reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sgc_client *c = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	client_enter(c);
	if (c->conn == SGC_CONN_RECONNECTING && !c->free_requested)
		start_attempt(c);
	client_leave(c);
}

static void connect_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sgc_client *c = arg;
	unsigned gen;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	client_enter(c);
	if (c->conn == SGC_CONN_CONNECTING && !c->free_requested) {
		retire_engine(c, false);
		gen = c->gen;
		c->conn = SGC_CONN_DISCONNECTED;
		report_errorf(c, SGC_ERR_TIMEOUT, "connection attempt timed out after %u ms",
			      c->connect_timeout_ms);
		if (!c->free_requested && c->gen == gen && c->conn == SGC_CONN_DISCONNECTED)
			schedule_reconnect(c);
	}
	client_leave(c);
}

void sgc_disconnect(struct sgc_client *c)
{
	struct sg_buf b;

	if (c->free_requested)
		return;
	client_enter(c);
	c->gen++;
	evtimer_del(c->reconnect_timer);
	evtimer_del(c->connect_timer);
	c->attempt = 0;
	switch (c->conn) {
	case SGC_CONN_CONNECTED:
		sg_buf_init(&b);
		sio_packet_encode_head(&b, SIO_DISCONNECT, c->nsp, 0, -1);
		if (sgc_engine_send(c->eng, false, b.data, b.len) != 0) {
			/* the engine is closing already */
		}
		sg_buf_fini(&b);
		retire_engine(c, true);
		go_disconnected(c, "io client disconnect", true);
		break;
	case SGC_CONN_CONNECTING:
		retire_engine(c, false);
		go_disconnected(c, "io client disconnect", false);
		break;
	case SGC_CONN_RECONNECTING:
	case SGC_CONN_DISCONNECTED:
		c->conn = SGC_CONN_DISCONNECTED;
		c->auth_state = SGC_UNAUTHORIZED;
		break;
	}
	client_leave(c);
}

void sgc_shutdown(struct sgc_client *c)
{
	if (c->free_requested)
		return;
	client_enter(c);
	sgc_subs_clear(&c->subs);
	sgc_disconnect(c);
	c->auth_state = SGC_UNAUTHORIZED;
	client_leave(c);
}

/* Takes the current engine away: graceful (closing list) or at once. */
static void retire_engine(struct sgc_client *c, bool graceful)
{
	struct sgc_engine *e = c->eng;

	c->eng = NULL;
	if (e == NULL)
		return;
	if (graceful && sgc_engine_is_open(e)) {
		c->closing = sg_realloc(c->closing, (c->n_closing + 1) * sizeof(*c->closing));
		c->closing[c->n_closing++] = e;
		sgc_engine_shutdown(e);
	} else {
		sgc_engine_free(e);
	}
}

/*
 * Leaves the connected (or connecting) state: forgets the socket id, resets
 * the authentication state, fails pending acks, and, when notify (the
 * namespace was connected), calls on_disconnected(reason) first.  Sets
 * conn to SGC_CONN_DISCONNECTED; the caller decides about reconnecting.
 */
static void go_disconnected(struct sgc_client *c, const char *reason, bool notify)
{
	struct sgc_pending_ack *acks = c->acks;

	c->acks = NULL;
	evtimer_del(c->connect_timer);
	c->conn = SGC_CONN_DISCONNECTED;
	c->auth_state = SGC_UNAUTHORIZED;
	free(c->sid);
	c->sid = NULL;
	bin_reset(c);
	if (notify && c->cb.on_disconnected)
		c->cb.on_disconnected(c, reason, c->cb.user);
	fail_acks(c, acks);
}

static void fail_acks(struct sgc_client *c, struct sgc_pending_ack *list)
{
	while (list != NULL) {
		struct sgc_pending_ack *a = list;
		list = a->next;
		if (a->timer)
			event_free(a->timer);
		a->cb(c, SGC_ERR_DISCONNECTED, NULL, a->user);
		free(a);
	}
}

static void report_error(struct sgc_client *c, int code, const char *msg, const json_t *data)
{
	struct sgc_error err;

	if (c->cb.on_error == NULL || c->free_requested)
		return;
	err.code = code;
	err.message = msg ? msg : "";
	err.data = data;
	c->cb.on_error(c, &err, c->cb.user);
}

static void report_errorf(struct sgc_client *c, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report_error(c, code, msg, NULL);
}

/* ------------------------------------------------------------------ engine events */

static void on_eng_open(struct sgc_engine *e, void *arg)
{
	struct sgc_client *c = arg;
	struct sg_buf b;

	client_enter(c);
	if (e == c->eng && !c->free_requested) {
		sg_buf_init(&b);
		sio_packet_encode_head(&b, SIO_CONNECT, c->nsp, 0, -1);
		if (c->auth)
			sg_buf_append_str(&b, c->auth);
		if (sgc_engine_send(e, false, b.data, b.len) != 0) {
			/* cannot happen: the engine just opened */
		}
		sg_buf_fini(&b);
	}
	client_leave(c);
}

static void on_eng_close(struct sgc_engine *e, void *arg, int code, const char *reason,
			 const char *message)
{
	struct sgc_client *c = arg;
	size_t i;
	unsigned gen;

	client_enter(c);
	for (i = 0; i < c->n_closing; i++) {
		if (c->closing[i] == e) {
			c->closing[i] = c->closing[--c->n_closing];
			sgc_engine_free(e);
			goto out;
		}
	}
	if (e != c->eng || c->free_requested)
		goto out;
	retire_engine(c, false);
	gen = c->gen;
	if (c->conn == SGC_CONN_CONNECTED) {
		if (code == SGC_ERR_PROTOCOL)
			report_errorf(c, SGC_ERR_PROTOCOL, "%s", message);
		if (c->free_requested || c->gen != gen)
			goto out;
		go_disconnected(c, reason, true);
	} else {
		go_disconnected(c, reason, false);
		report_errorf(c, code < 0 ? code : SGC_ERR_CONNECT, "%s",
			      message && message[0] ? message : reason);
	}
	if (!c->free_requested && c->gen == gen && c->conn == SGC_CONN_DISCONNECTED)
		schedule_reconnect(c);
out:
	client_leave(c);
}

/* The server broke the Socket.IO protocol: report, drop the connection
 * ("parse error"), reconnect as socket.io-client does. */
static void protocol_error(struct sgc_client *c, const char *msg)
{
	unsigned gen = c->gen;
	bool was_connected = c->conn == SGC_CONN_CONNECTED;

	retire_engine(c, false);
	report_errorf(c, SGC_ERR_PROTOCOL, "%s", msg);
	if (c->free_requested || c->gen != gen)
		return;
	go_disconnected(c, "parse error", was_connected);
	if (!c->free_requested && c->gen == gen && c->conn == SGC_CONN_DISCONNECTED)
		schedule_reconnect(c);
}

static void bin_reset(struct sgc_client *c)
{
	size_t i;

	if (!c->bin_pending)
		return;
	sio_packet_fini(&c->bin_pkt);
	for (i = 0; i < c->bin_n; i++)
		sg_buf_fini(&c->bin_parts[i]);
	free(c->bin_parts);
	c->bin_parts = NULL;
	c->bin_n = 0;
	c->bin_pending = false;
}

static void on_eng_message(struct sgc_engine *e, void *arg, bool binary, const char *data,
			   size_t len)
{
	struct sgc_client *c = arg;
	struct sio_packet pkt;
	struct sg_err err = { 0, 0, "" };

	client_enter(c);
	if (e != c->eng || c->free_requested)
		goto out;
	if (binary) {
		struct sgc_binary *att;
		size_t i, n;

		if (!c->bin_pending) {
			protocol_error(c, "unexpected binary message");
			goto out;
		}
		sg_buf_init(&c->bin_parts[c->bin_n]);
		sg_buf_append(&c->bin_parts[c->bin_n], data, len);
		c->bin_n++;
		if (c->bin_n < c->bin_pkt.attachments)
			goto out;
		/* complete: hand it over, then forget it */
		n = c->bin_n;
		att = sg_calloc(n, sizeof(*att));
		for (i = 0; i < n; i++) {
			att[i].data = c->bin_parts[i].data;
			att[i].len = c->bin_parts[i].len;
		}
		pkt = c->bin_pkt;
		{
			struct sg_buf *parts = c->bin_parts;
			c->bin_parts = NULL;
			c->bin_n = 0;
			c->bin_pending = false;
			handle_packet(c, &pkt, att, n);
			sio_packet_fini(&pkt);
			for (i = 0; i < n; i++)
				sg_buf_fini(&parts[i]);
			free(parts);
		}
		free(att);
		goto out;
	}
	if (c->bin_pending) {
		protocol_error(c, "text message while binary attachments were expected");
		goto out;
	}
	if (sio_packet_decode(data, len, SGC_MAX_ATTACHMENTS, &pkt, &err) != 0) {
		protocol_error(c, err.msg);
		goto out;
	}
	if (pkt.nsp_len != strlen(c->nsp) || memcmp(pkt.nsp, c->nsp, pkt.nsp_len) != 0) {
		sio_packet_fini(&pkt); /* another namespace: not ours */
		goto out;
	}
	if (pkt.type == SIO_BINARY_EVENT || pkt.type == SIO_BINARY_ACK) {
		if (sio_packet_check_placeholders(&pkt, &err) != 0) {
			sio_packet_fini(&pkt);
			protocol_error(c, err.msg);
			goto out;
		}
		c->bin_pkt = pkt;
		c->bin_pending = true;
		c->bin_parts = sg_calloc(pkt.attachments, sizeof(*c->bin_parts));
		c->bin_n = 0;
		goto out;
	}
	handle_packet(c, &pkt, NULL, 0);
	sio_packet_fini(&pkt);
out:
	client_leave(c);
}

/* A complete Socket.IO packet of our namespace. */
static void handle_packet(struct sgc_client *c, struct sio_packet *pkt,
			  const struct sgc_binary *att, size_t n_att)
{
	switch (pkt->type) {
	case SIO_CONNECT:
		handle_connect(c, pkt);
		break;
	case SIO_CONNECT_ERROR:
		handle_connect_error(c, pkt);
		break;
	case SIO_DISCONNECT:
		if (c->conn == SGC_CONN_CONNECTED) {
			retire_engine(c, true);
			go_disconnected(c, "io server disconnect", true);
		}
		break;
	case SIO_EVENT:
	case SIO_BINARY_EVENT:
		if (c->conn == SGC_CONN_CONNECTED)
			deliver_event(c, pkt, att, n_att);
		break;
	case SIO_ACK:
	case SIO_BINARY_ACK:
		if (c->conn == SGC_CONN_CONNECTED)
			deliver_ack(c, pkt, att, n_att);
		break;
	}
}

static void handle_connect(struct sgc_client *c, const struct sio_packet *pkt)
{
	json_t *sid = json_object_get(pkt->data, "sid");

	if (c->conn != SGC_CONN_CONNECTING)
		return; /* a repeated CONNECT changes nothing */
	if (!json_is_string(sid) || json_string_length(sid) == 0) {
		protocol_error(c, "CONNECT answer without a sid");
		return;
	}
	evtimer_del(c->connect_timer);
	free(c->sid);
	c->sid = sg_strdup(json_string_value(sid));
	c->conn = SGC_CONN_CONNECTED;
	c->auth_state = SGC_UNAUTHORIZED;
	c->attempt = 0;
	if (c->cb.on_connected)
		c->cb.on_connected(c, c->cb.user);
}

static void handle_connect_error(struct sgc_client *c, const struct sio_packet *pkt)
{
	const char *msg = "connection refused";
	json_t *data = NULL, *m;

	if (c->conn != SGC_CONN_CONNECTING)
		return;
	if (json_is_string(pkt->data)) {
		msg = json_string_value(pkt->data);
	} else if (json_is_object(pkt->data)) {
		m = json_object_get(pkt->data, "message");
		if (json_is_string(m))
			msg = json_string_value(m);
		data = json_object_get(pkt->data, "data");
	}
	retire_engine(c, true);
	go_disconnected(c, "io server disconnect", false);
	report_error(c, SGC_ERR_REFUSED, msg, data);
}

static void call_handler(const struct sgc_sub *sub, void *arg)
{
	struct dispatch_ctx *d = arg;
	int rc;

	if (d->c->free_requested)
		return;
	rc = sub->fn(d->c, d->ev, sub->user);
	if (rc != 0 && !d->c->free_requested)
		report_errorf(d->c, SGC_ERR_HANDLER, "handler of event '%s' failed (returned %d)",
			      d->ev->name, rc);
}

static void deliver_event(struct sgc_client *c, const struct sio_packet *pkt,
			  const struct sgc_binary *att, size_t n_att)
{
	const char *name = sio_event_name(pkt);
	struct sgc_event ev;
	struct dispatch_ctx d;
	json_t *args;
	size_t i;

	if (name == NULL || sio_event_name_len(pkt) != strlen(name))
		return;
	args = json_array();
	for (i = 1; i < json_array_size(pkt->data); i++)
		json_array_append(args, json_array_get(pkt->data, i));
	ev.name = name;
	ev.args = args;
	ev.data = json_array_size(args) > 0 ? json_array_get(args, 0) : NULL;
	ev.attachments = att;
	ev.n_attachments = n_att;
	ev.ack_id = pkt->id;
	if (strcmp(name, "authenticated") == 0) {
		c->auth_state = SGC_AUTHENTICATED;
		if (c->cb.on_authenticated)
			c->cb.on_authenticated(c, ev.data, c->cb.user);
	} else if (strcmp(name, "unauthenticated") == 0) {
		const json_t *m = json_object_get(ev.data, "message");
		c->auth_state = SGC_UNAUTHORIZED;
		if (c->cb.on_unauthenticated)
			c->cb.on_unauthenticated(c, json_is_string(m) ? json_string_value(m) : "",
						 c->cb.user);
	}
	d.c = c;
	d.ev = &ev;
	if (!c->free_requested)
		sgc_subs_dispatch(&c->subs, name, call_handler, &d);
	if (!c->free_requested && strcmp(name, SGC_ANY_EVENT) != 0)
		sgc_subs_dispatch(&c->subs, SGC_ANY_EVENT, call_handler, &d);
	json_decref(args);
}

static void deliver_ack(struct sgc_client *c, const struct sio_packet *pkt,
			const struct sgc_binary *att, size_t n_att)
{
	struct sgc_pending_ack **pp, *a;
	struct sgc_event ev;
	json_t *args;

	for (pp = &c->acks; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->id == pkt->id)
			break;
	}
	if (*pp == NULL)
		return; /* unknown or timed out: ignored, as socket.io-client does */
	a = *pp;
	*pp = a->next;
	if (a->timer)
		event_free(a->timer);
	args = pkt->data ? json_incref(pkt->data) : json_array();
	ev.name = NULL;
	ev.args = args;
	ev.data = json_array_size(args) > 0 ? json_array_get(args, 0) : NULL;
	ev.attachments = att;
	ev.n_attachments = n_att;
	ev.ack_id = -1;
	a->cb(c, SGC_OK, &ev, a->user);
	json_decref(args);
	free(a);
}

static void ack_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sgc_pending_ack *a = arg, **pp;
	struct sgc_client *c = a->c;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	client_enter(c);
	for (pp = &c->acks; *pp != NULL && *pp != a; pp = &(*pp)->next) {
	}
	if (*pp == a) {
		*pp = a->next;
		event_free(a->timer);
		a->cb(c, SGC_ERR_TIMEOUT, NULL, a->user);
		free(a);
	}
	client_leave(c);
}

/* ------------------------------------------------------------------ the helper flow */

int sgc_authenticate(struct sgc_client *c)
{
	int rc;

	if (c->free_requested || c->conn != SGC_CONN_CONNECTED)
		return SGC_ERR_NOT_CONNECTED;
	if (c->auth_state != SGC_UNAUTHORIZED)
		return SGC_ERR_STATE;
	rc = send_packet(c, SIO_EVENT, -1, "authenticate", NULL, NULL, 0);
	if (rc == SGC_OK)
		c->auth_state = SGC_AUTHENTICATING;
	return rc;
}

int sgc_subscribe(struct sgc_client *c, const char *event, sgc_handler_fn handler, void *user,
		  bool ignore_duplicate)
{
	if (event == NULL || event[0] == '\0' || handler == NULL)
		return SGC_ERR_INVALID;
	if (c->free_requested)
		return SGC_ERR_STATE;
	return sgc_subs_add(&c->subs, event, handler, user, ignore_duplicate);
}

int sgc_subscribe_many(struct sgc_client *c, const struct sgc_subscription *subs, size_t n,
		       bool ignore_duplicate)
{
	size_t i;
	int added = 0;

	if (subs == NULL && n > 0)
		return SGC_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (subs[i].event == NULL || subs[i].event[0] == '\0' || subs[i].handler == NULL)
			return SGC_ERR_INVALID;
	}
	if (c->free_requested)
		return SGC_ERR_STATE;
	for (i = 0; i < n; i++) {
		if (sgc_subs_add(&c->subs, subs[i].event, subs[i].handler, subs[i].user,
				 ignore_duplicate) == SGC_OK)
			added++;
	}
	return added;
}

int sgc_unsubscribe(struct sgc_client *c, const char *event, sgc_handler_fn handler, void *user)
{
	if (event == NULL)
		return SGC_ERR_INVALID;
	return sgc_subs_remove(&c->subs, event, handler, user);
}

int sgc_unsubscribe_many(struct sgc_client *c, const char *const *events, size_t n)
{
	size_t i;
	int count = 0;

	for (i = 0; events != NULL && i < n; i++) {
		if (events[i] != NULL && sgc_subs_remove(&c->subs, events[i], NULL, NULL) == SGC_OK)
			count++;
	}
	return count;
}

size_t sgc_handler_count(const struct sgc_client *c, const char *event)
{
	return event ? sgc_subs_count(&c->subs, event) : 0;
}

/* ------------------------------------------------------------------ emitting */

static bool is_reserved_event(const char *name)
{
	static const char *const reserved[] = { "connect", "connect_error", "disconnect",
						"disconnecting", "newListener", "removeListener" };
	size_t i;

	for (i = 0; i < SG_ARRAY_LEN(reserved); i++) {
		if (strcmp(name, reserved[i]) == 0)
			return true;
	}
	return false;
}

/* 0 when every placeholder in v refers to an attachment in [0, n_att). */
static int check_placeholders(const json_t *v, size_t n_att)
{
	const char *key;
	json_t *val;
	size_t i;

	if (json_is_object(v)) {
		if (json_is_true(json_object_get(v, "_placeholder"))) {
			int num = sgc_placeholder_num(v);
			return num >= 0 && (size_t)num < n_att ? 0 : -1;
		}
		json_object_foreach((json_t *)v, key, val) {
			if (check_placeholders(val, n_att) != 0)
				return -1;
		}
	} else if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			if (check_placeholders(json_array_get(v, i), n_att) != 0)
				return -1;
		}
	}
	return 0;
}

/* Encodes and sends one EVENT or ACK (binary variant when there are
 * attachments).  event is NULL for an ACK. */
static int send_packet(struct sgc_client *c, enum sio_type type, int64_t id, const char *event,
		       const json_t *args, const struct sgc_binary *att, size_t n_att)
{
	struct sg_buf b;
	size_t i;
	int rc = SGC_OK;

	if (c->conn != SGC_CONN_CONNECTED || !sgc_engine_is_open(c->eng))
		return SGC_ERR_NOT_CONNECTED;
	if (n_att > 0)
		type = type == SIO_ACK ? SIO_BINARY_ACK : SIO_BINARY_EVENT;
	sg_buf_init(&b);
	sio_packet_encode_head(&b, type, c->nsp, (unsigned)n_att, id);
	sg_buf_append_char(&b, '[');
	if (event != NULL) {
		json_t *name = json_string(event);
		sgc_json_append(&b, name);
		json_decref(name);
	}
	for (i = 0; args != NULL && i < json_array_size(args); i++) {
		if (i > 0 || event != NULL)
			sg_buf_append_char(&b, ',');
		sgc_json_append(&b, json_array_get(args, i));
	}
	sg_buf_append_char(&b, ']');
	if (sgc_engine_send(c->eng, false, b.data, b.len) != 0)
		rc = SGC_ERR_NOT_CONNECTED;
	for (i = 0; rc == SGC_OK && i < n_att; i++) {
		if (sgc_engine_send(c->eng, true, att[i].data, att[i].len) != 0)
			rc = SGC_ERR_NOT_CONNECTED;
	}
	sg_buf_fini(&b);
	return rc;
}

int sgc_emit_ex(struct sgc_client *c, const struct sgc_emit *e)
{
	struct sgc_pending_ack *a;
	int64_t id = -1;
	int rc;

	json_t *name;

	if (e == NULL || e->event == NULL || e->event[0] == '\0' || is_reserved_event(e->event))
		return SGC_ERR_INVALID;
	name = json_string(e->event); /* NULL unless valid UTF-8 */
	if (name == NULL)
		return SGC_ERR_INVALID;
	json_decref(name);
	if (e->args != NULL && !json_is_array(e->args))
		return SGC_ERR_INVALID;
	if (e->n_attachments > SGC_MAX_ATTACHMENTS || (e->n_attachments > 0 && e->attachments == NULL))
		return SGC_ERR_INVALID;
	if (check_placeholders(e->args, e->n_attachments) != 0)
		return SGC_ERR_INVALID;
	if (c->free_requested || c->conn != SGC_CONN_CONNECTED)
		return SGC_ERR_NOT_CONNECTED;
	if (e->ack)
		id = c->next_ack_id;
	rc = send_packet(c, SIO_EVENT, id, e->event, e->args, e->attachments, e->n_attachments);
	if (rc != SGC_OK || e->ack == NULL)
		return rc;
	c->next_ack_id++;
	a = sg_calloc(1, sizeof(*a));
	a->c = c;
	a->id = id;
	a->cb = e->ack;
	a->user = e->ack_user;
	if (e->ack_timeout_ms > 0) {
		struct timeval tv = { e->ack_timeout_ms / 1000, (e->ack_timeout_ms % 1000) * 1000 };
		a->timer = evtimer_new(c->base, ack_timeout_cb, a);
		if (a->timer == NULL)
			sg_fatal("libevent: cannot create a timer");
		evtimer_add(a->timer, &tv);
	}
	/* append: acks are usually answered in order */
	{
		struct sgc_pending_ack **pp = &c->acks;
		while (*pp != NULL)
			pp = &(*pp)->next;
		*pp = a;
	}
	return SGC_OK;
}

int sgc_emit(struct sgc_client *c, const char *event, const json_t *data)
{
	struct sgc_emit e;
	json_t *args = json_array();
	int rc;

	if (data != NULL)
		json_array_append(args, (json_t *)data);
	memset(&e, 0, sizeof(e));
	e.event = event;
	e.args = args;
	rc = sgc_emit_ex(c, &e);
	json_decref(args);
	return rc;
}

int sgc_emit_with_ack(struct sgc_client *c, const char *event, const json_t *data,
		      unsigned timeout_ms, sgc_ack_fn ack, void *user)
{
	struct sgc_emit e;
	json_t *args;
	int rc;

	if (ack == NULL)
		return SGC_ERR_INVALID;
	args = json_array();
	if (data != NULL)
		json_array_append(args, (json_t *)data);
	memset(&e, 0, sizeof(e));
	e.event = event;
	e.args = args;
	e.ack = ack;
	e.ack_user = user;
	e.ack_timeout_ms = timeout_ms;
	rc = sgc_emit_ex(c, &e);
	json_decref(args);
	return rc;
}

int sgc_ack(struct sgc_client *c, int64_t ack_id, const json_t *args)
{
	if (ack_id < 0 || ack_id > SIO_MAX_ACK_ID || (args != NULL && !json_is_array(args)))
		return SGC_ERR_INVALID;
	if (c->free_requested)
		return SGC_ERR_NOT_CONNECTED;
	return send_packet(c, SIO_ACK, ack_id, NULL, args, NULL, 0);
}

static int rooms_request(struct sgc_client *c, const char *event, const char *const *rooms,
			 size_t n, sgc_ack_fn ack, void *user, unsigned timeout_ms)
{
	struct sgc_emit e;
	json_t *list, *obj, *args;
	size_t i;
	int rc;

	if (rooms == NULL || n == 0)
		return SGC_ERR_INVALID;
	list = json_array();
	for (i = 0; i < n; i++) {
		json_t *s = rooms[i] ? json_string(rooms[i]) : NULL;
		if (s == NULL) {
			json_decref(list);
			return SGC_ERR_INVALID;
		}
		json_array_append_new(list, s);
	}
	obj = json_object();
	json_object_set_new(obj, "rooms", list);
	args = json_array();
	json_array_append_new(args, obj);
	memset(&e, 0, sizeof(e));
	e.event = event;
	e.args = args;
	e.ack = ack;
	e.ack_user = user;
	e.ack_timeout_ms = timeout_ms;
	rc = sgc_emit_ex(c, &e);
	json_decref(args);
	return rc;
}

int sgc_join_rooms(struct sgc_client *c, const char *const *rooms, size_t n, sgc_ack_fn ack,
		   void *user, unsigned timeout_ms)
{
	return rooms_request(c, "join", rooms, n, ack, user, timeout_ms);
}

int sgc_leave_rooms(struct sgc_client *c, const char *const *rooms, size_t n, sgc_ack_fn ack,
		    void *user, unsigned timeout_ms)
{
	return rooms_request(c, "leave", rooms, n, ack, user, timeout_ms);
}
