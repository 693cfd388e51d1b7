/*
 * engine_conn.c: the connections of libsiogate-client's engine: each one
 * carries one HTTP request (a polling GET or POST, or a WebSocket upgrade)
 * over TCP, or TLS through bufferevent_openssl, trying the resolved
 * addresses in turn; its response is read with proto/http_resp_parser.c
 * and handed up through e->ops (a 101 to the WebSocket transport, any
 * other response to the polling one, a failure to engine.c, which knows
 * what it means for the connection's role).  Killed connections wait in the
 * engine's graveyard until no callback runs (engine_core.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/base64.h"
#include "engine_int.h"
#include "proto/ws_accept.h"
#include "siogate/client.h"

static void conn_tls_error(struct eng_conn *c, char *buf, size_t len);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_http_readable(struct eng_conn *c, bool eof);
static void conn_upgrade_header(void *arg, const char *name, size_t name_len, const char *value,
				size_t value_len);

/* ------------------------------------------------------------------ requests */

void eng_build_url(struct sgc_engine *e, struct sg_buf *out, const char *transport, bool with_sid)
{
	sg_buf_printf(out, "%s?EIO=4&transport=%s", e->path, transport);
	if (with_sid && e->sid)
		sg_buf_printf(out, "&sid=%s", e->sid);
	if (e->query[0] != '\0')
		sg_buf_printf(out, "&%s", e->query);
}

void eng_add_common_headers(struct sgc_engine *e, struct sg_buf *out)
{
	sg_buf_printf(out, "Host: %s\r\nUser-Agent: siogate-client/%s\r\nAccept: */*\r\n",
		      e->host_header, SGC_VERSION);
	sg_buf_append_str(out, e->headers);
}

/* ------------------------------------------------------------------ connections */

struct eng_conn *eng_conn_new(struct sgc_engine *e, enum conn_kind kind)
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
int eng_conn_start(struct eng_conn *c, char *err, size_t errlen)
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

/* A connection failed: code is an SGC_ERR_* value, or FAIL_CLOSE /
 * FAIL_ERROR; engine.c decides what that means for the connection's role. */
void eng_conn_failed(struct eng_conn *c, int code, const char *msg)
{
	c->e->ops->failed(c, code, msg);
}

/* ------------------------------------------------------------------ events */

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
			eng_conn_failed(c, SGC_ERR_TLS, tls);
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
			if (eng_conn_start(c, err, sizeof(err)) == 0)
				goto out;
		}
		eng_conn_failed(c, SGC_ERR_CONNECT, msg);
		goto out;
	}
	if (what & BEV_EVENT_EOF) {
		if (c->st == CS_HTTP) {
			conn_http_readable(c, true);
		} else if (c->st == CS_WS) {
			e->ops->ws_readable(c);
			if (c->st == CS_WS)
				eng_conn_failed(c, FAIL_CLOSE, "the server closed the connection");
		}
		goto out;
	}
	if (what & BEV_EVENT_ERROR) {
		conn_tls_error(c, tls, sizeof(tls));
		snprintf(msg, sizeof(msg), "connection error: %s",
			 tls[0] ? tls : evutil_socket_error_to_string(saved));
		eng_conn_failed(c, e->st == ENG_OPENING ? SGC_ERR_CONNECT : FAIL_ERROR, msg);
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
	if (c->st == CS_WS)
		e->ops->ws_written(c);
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
		e->ops->ws_readable(c);
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
		eng_conn_failed(c, FAIL_ERROR, "HTTP response too large");
		return;
	case HRESP_ERROR:
		if (cut) {
			eng_conn_failed(
				c, FAIL_CLOSE,
				c->resp.status != 0
					? "the server closed the connection mid-response"
					: "the server closed the connection without answering");
			return;
		}
		snprintf(msg, sizeof(msg), "bad HTTP response: %s", err.msg);
		eng_conn_failed(c, SGC_ERR_PROTOCOL, msg);
		return;
	case HRESP_DONE:
		break;
	}
	if (c->resp.status == 101) {
		/* only a WebSocket connection allows it */
		if (!c->accept_ok || c->accept_bad || !c->upgrade_ok) {
			eng_conn_failed(c, SGC_ERR_HANDSHAKE,
					"invalid WebSocket upgrade answer "
					"(Sec-WebSocket-Accept or Upgrade header)");
			return;
		}
		c->e->ops->upgraded(c);
		return;
	}
	c->e->ops->response(c, c->resp.body.data, c->resp.body.len);
}

/* The headers of the answer to a WebSocket upgrade request. */
static void conn_upgrade_header(void *arg, const char *name, size_t name_len, const char *value,
				size_t value_len)
{
	struct eng_conn *c = arg;

	if (name_len == 20 && strncasecmp(name, "Sec-WebSocket-Accept", 20) == 0) {
		if (value_len == strlen(c->ws_accept) &&
		    memcmp(value, c->ws_accept, value_len) == 0)
			c->accept_ok = true;
		else
			c->accept_bad = true;
	} else if (name_len == 7 && strncasecmp(name, "Upgrade", 7) == 0) {
		c->upgrade_ok |= sg_list_has(value, value_len, "websocket");
	}
}
