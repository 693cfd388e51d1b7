/*
 * client_conn.c: libsiogate-client's connection state machine: an attempt
 * is one Engine.IO engine (engine.h) plus the namespace CONNECT, bounded by
 * the connect timeout; a failed attempt or a lost connection waits the
 * backoff (backoff.c, with jitter) and tries again, up to the configured
 * attempts; disconnecting retires the engine gracefully.  The engine's
 * events are handled above, in client_recv.c, whose table client.c gives
 * to client_conn_init; leaving a connection and reporting errors are below,
 * in client_state.c.
 */
#include <arpa/inet.h>
#include <openssl/rand.h>
#include <string.h>

#include "backoff.h"
#include "client_int.h"

static double random01(void);
static bool is_numeric_host(const char *host);
static void start_attempt(struct sgc_client *c);
static void reconnect_cb(evutil_socket_t fd, short what, void *arg);
static void connect_timeout_cb(evutil_socket_t fd, short what, void *arg);

/* ------------------------------------------------------------------ connecting */

int client_conn_init(struct sgc_client *c, const struct sgc_engine_cbs *cbs)
{
	c->eng_cbs = cbs;
	c->reconnect_timer = evtimer_new(c->base, reconnect_cb, c);
	c->connect_timer = evtimer_new(c->base, connect_timeout_cb, c);
	return c->reconnect_timer != NULL && c->connect_timer != NULL ? 0 : -1;
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
	c->eng = sgc_engine_new(&p, c->eng_cbs, c);
	tv.tv_sec = c->connect_timeout_ms / 1000;
	tv.tv_usec = (c->connect_timeout_ms % 1000) * 1000;
	evtimer_add(c->connect_timer, &tv);
}

/* After a failed attempt or a lost connection: wait, or give up. */
void client_schedule_reconnect(struct sgc_client *c)
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
		client_report_errorf(c, SGC_ERR_RECONNECT_FAILED,
				     "gave up after %u reconnection attempts",
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
		client_retire_engine(c, false);
		gen = c->gen;
		c->conn = SGC_CONN_DISCONNECTED;
		client_report_errorf(c, SGC_ERR_TIMEOUT, "connection attempt timed out after %u ms",
				     c->connect_timeout_ms);
		if (!c->free_requested && c->gen == gen && c->conn == SGC_CONN_DISCONNECTED)
			client_schedule_reconnect(c);
	}
	client_leave(c);
}

/* ------------------------------------------------------------------ disconnecting */

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
		client_retire_engine(c, true);
		client_go_disconnected(c, "io client disconnect", true);
		break;
	case SGC_CONN_CONNECTING:
		client_retire_engine(c, false);
		client_go_disconnected(c, "io client disconnect", false);
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
