/*
 * client.c: libsiogate-client's public object (siogate/client.h): the
 * options and their checks, creating and freeing a client, its accessors,
 * and the status and state names.  It is the top of the client's files:
 * what a client does is below it, in client_recv.c (the engine's events,
 * Socket.IO packets in), client_conn.c (the connection state machine),
 * client_token.c, client_send.c (packets out) and client_state.c (the
 * guard, leaving a connection, errors); client_int.h says what they share
 * and the invariant all of them keep.
 */
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_int.h"
#include "jsonout.h"

static void set_err(char *buf, size_t len, const char *fmt, ...) SG_PRINTF(3, 4);
static int build_headers(const char *const *headers, struct sg_buf *out, char *errbuf,
			 size_t errlen);

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
	static const char *const reserved[] = { "host",
						"connection",
						"upgrade",
						"content-length",
						"transfer-encoding",
						"sec-websocket-key",
						"sec-websocket-version",
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
				set_err(errbuf, errlen, "control character in header '%.*s'",
					(int)nl, h);
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
	c->identifier =
		sg_strdup(o->identifier && o->identifier[0] ? o->identifier : "siogate-client");
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
				if (SSL_CTX_load_verify_locations(c->ssl_ctx, o->tls_ca_file,
								  NULL) != 1) {
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
	if (client_conn_init(c, &client_engine_cbs) != 0) {
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
	client_bin_reset(c);
	c->conn = SGC_CONN_DISCONNECTED;
	c->auth_state = SGC_UNAUTHORIZED;
	c->refreshing = false;
	acks = c->acks;
	c->acks = NULL;
	client_fail_acks(c, acks);
	client_leave(c);
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
