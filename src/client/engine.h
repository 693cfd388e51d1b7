/*
 * engine.h: the Engine.IO v4 client session of libsiogate-client: resolves
 * the host, connects (TCP or TLS), opens the session over WebSocket or HTTP
 * long-polling (then upgrades to WebSocket when asked and offered), answers
 * the server's pings, watches the ping timeout, and carries Engine.IO
 * `message` packets both ways.  The Socket.IO layer (client*.c) sits on top;
 * the engine itself is engine*.c (engine_int.h).
 */
#ifndef SGC_ENGINE_H
#define SGC_ENGINE_H

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"

struct sgc_engine;

/* Everything an engine needs; strings are copied by sgc_engine_new. */
struct sgc_engine_params {
	struct event_base *base;
	struct evdns_base *dns; /* for host names; NULL: numeric hosts only */
	SSL_CTX *ssl_ctx;	/* non-NULL for TLS */
	bool tls_verify;	/* check the certificate's host name or IP */
	const char *host;	/* name or IP literal (no brackets) */
	unsigned port;
	const char *host_header; /* value of the Host header */
	const char *path;	 /* Engine.IO path, ends with '/' */
	const char *query;	 /* extra query parameters, "" or "a=1&b=2" */
	const char *headers;	 /* extra header lines, each ending in CRLF; "" for none */
	unsigned transports;	 /* SGC_TRANSPORT_* bits (siogate/client.h) */
	size_t max_message;	 /* largest message or polling body accepted */
};

/*
 * Callbacks, always from the event loop (never from inside an sgc_engine_*
 * call).  After on_close no other callback comes; the owner must then free
 * the engine.  The owner may free the engine inside any callback.
 *  - on_open: the session is open (the Engine.IO open packet arrived).
 *  - on_message: one Engine.IO message; binary or text; data borrowed.
 *  - on_close: the session failed or ended.  code is 0 for the end of an
 *    open session (reason "transport close", "transport error",
 *    "ping timeout"), SGC_ERR_PROTOCOL with reason "parse error" when the
 *    server broke Engine.IO, an SGC_ERR_* code (CONNECT, TLS, HANDSHAKE,
 *    PROTOCOL) with reason "transport error" when the session never opened,
 *    and 0 with reason "io client disconnect" at the end of
 *    sgc_engine_shutdown().  message is a human-readable detail.
 */
struct sgc_engine_cbs {
	void (*on_open)(struct sgc_engine *e, void *arg);
	void (*on_message)(struct sgc_engine *e, void *arg, bool binary, const char *data,
			   size_t len);
	void (*on_close)(struct sgc_engine *e, void *arg, int code, const char *reason,
			 const char *message);
};

/* Creates an engine and starts it (at the next loop iteration).  Never
 * fails: errors arrive through on_close.  The caller owns the engine; cbs is
 * not copied (a static table: it must outlive the engine). */
struct sgc_engine *sgc_engine_new(const struct sgc_engine_params *p,
				  const struct sgc_engine_cbs *cbs, void *arg);

/* Queues one Engine.IO message (text, or binary).  Only while open; returns
 * 0, or -1 when the engine is not open (nothing queued). */
int sgc_engine_send(struct sgc_engine *e, bool binary, const void *data, size_t len) SG_WUR;

/* Graceful end: only on_close comes after this, once what was queued is
 * written and the transport closed (WebSocket close frame, or the polling
 * close packet), or after one second at most. */
void sgc_engine_shutdown(struct sgc_engine *e);

/* Frees the engine at once, closing its connections; no callback.  Safe
 * inside the engine's own callbacks (the memory goes when they return). */
void sgc_engine_free(struct sgc_engine *e);

/* "websocket" or "polling" once open, else NULL. */
const char *sgc_engine_transport(const struct sgc_engine *e);

/* True once the open packet arrived and until the session ends. */
bool sgc_engine_is_open(const struct sgc_engine *e);

#endif
