/*
 * engine_int.h: what the files of libsiogate-client's Engine.IO engine
 * share (not installed, not exported): the engine and connection structs
 * and the functions one file calls in another.  The files are layered,
 * highest first; each calls only the ones below it:
 *   engine.c          the session: start and DNS, what a failure means,
 *                     heartbeat, packets in and out, shutdown; it fills
 *                     the engine's ops table (struct eng_ops)
 *   engine_polling.c  the long-polling transport and the upgrade from it
 *   engine_ws.c       the WebSocket transport (wslay, client mode)
 *   engine_conn.c     connections: TCP/TLS, their events, requests, and
 *                     reading HTTP responses (proto/http_resp_parser.c)
 *   engine_core.c     the guard below (enter, leave, alive), the graveyard,
 *                     the failure deferred to the next loop turn
 * A lower file tells a higher one what happened only through e->ops.
 *
 * Invariant: nothing is freed under a running callback.  Every libevent
 * callback brackets its work with eng_enter/eng_leave; a connection killed
 * meanwhile only loses its bufferevent and goes to the graveyard, and an
 * engine freed meanwhile is only marked; both are released by the
 * outermost eng_leave.  After a callback to the owner, code re-checks
 * eng_alive() before touching anything.
 */
#ifndef SGC_ENGINE_INT_H
#define SGC_ENGINE_INT_H

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#include "core/common.h"
#include "proto/eio_packet.h"
#include "proto/http_resp_parser.h"

/* The owner's callbacks (engine.h), called from engine.c alone. */
struct sgc_engine_cbs;

#define ENG_MAX_HEAD 16384
#define ENG_LINGER_MS 1000
#define ENG_MAX_ADDRS 8

/* eng_conn_failed codes besides the SGC_ERR_* ones (which are negative). */
#define FAIL_CLOSE 1 /* the peer closed: "transport close" */
#define FAIL_ERROR 2 /* anything else once open: "transport error" */

enum eng_state {
	ENG_RESOLVING, /* waiting for DNS */
	ENG_OPENING,   /* handshake request running */
	ENG_OPEN,      /* open packet received */
	ENG_CLOSING,   /* sgc_engine_shutdown: flushing */
	ENG_CLOSED,    /* on_close delivered (or about to be) */
};

enum conn_kind {
	CK_HANDSHAKE, /* polling GET without sid: the open packet */
	CK_GET,	      /* polling GET: receive */
	CK_POST,      /* polling POST: send */
	CK_WS,	      /* WebSocket (the handshake one, the probe, or the upgraded one) */
};

enum conn_state {
	CS_CONNECTING, /* TCP/TLS connect running */
	CS_HTTP,       /* request written, reading the response */
	CS_WS,	       /* WebSocket frames */
	CS_DEAD,       /* in the graveyard */
};

enum tr_kind {
	TR_NONE,    /* not open yet */
	TR_POLLING, /* long-polling */
	TR_WS,	    /* WebSocket */
};

struct eng_conn {
	struct sgc_engine *e;
	enum conn_kind kind;
	enum conn_state st;
	struct bufferevent *bev;
	size_t addr_idx;
	struct sg_buf req;	      /* request bytes, written once connected */
	struct http_resp_parser resp; /* the response (HTTP, or the upgrade's head) */
	char ws_key[32];
	char ws_accept[32]; /* the Sec-WebSocket-Accept the key asks for */
	bool accept_ok;	    /* the upgrade answer carried ws_accept */
	bool accept_bad;    /* ... or another Sec-WebSocket-Accept */
	bool upgrade_ok;    /* ... and an Upgrade header naming websocket */
	wslay_event_context_ptr ws;
	struct evbuffer *ws_in; /* bev input during wslay_event_recv */
	struct eng_conn *next;	/* graveyard link */
};

/*
 * How the lower files reach the ones above them: engine.c registers one
 * table (sgc_engine_new) and every call runs from the event loop.
 */
struct eng_ops {
	/* engine_conn.c: a complete HTTP response, not a 101 (the polling
	 * transport's) */
	void (*response)(struct eng_conn *c, const char *body, size_t len);
	/* engine_conn.c: a checked 101: the connection carries WebSocket
	 * frames from now on (the WebSocket transport's) */
	void (*upgraded)(struct eng_conn *c);
	/* engine_conn.c: bytes, or the end, on an upgraded connection */
	void (*ws_readable)(struct eng_conn *c);
	/* engine_conn.c: what an upgraded connection had to write is written */
	void (*ws_written)(struct eng_conn *c);
	/* any: the connection failed (an SGC_ERR_* code, FAIL_CLOSE or
	 * FAIL_ERROR); what that means depends on its role (engine.c) */
	void (*failed)(struct eng_conn *c, int code, const char *msg);
	/* the transports: one Engine.IO packet from connection `from` */
	void (*packet)(struct sgc_engine *e, struct eng_conn *from, const struct eio_packet *pk);
	/* the transports: the graceful end of sgc_engine_shutdown is complete */
	void (*closed)(struct sgc_engine *e);
	/* engine_core.c: the engine was freed and no callback runs any more */
	void (*destroy)(struct sgc_engine *e);
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
	const struct sgc_engine_cbs *cbs; /* the owner's (engine.h; engine.c alone calls it) */
	void *arg;
	const struct eng_ops *ops;

	enum eng_state st;
	int depth;
	bool freed;
	struct event *kick;    /* deferred start */
	struct event *fail_ev; /* deferred failure (see eng_fail_later) */
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
	struct eng_conn *hs;	/* handshake connection */
	struct eng_conn *ws;	/* the WebSocket transport */
	struct eng_conn *probe; /* WebSocket being probed for the upgrade */
	bool probe_ok;		/* 3probe received: pausing polling */
	struct eng_conn *get;
	struct eng_conn *post;
	struct eng_pkt *q; /* polling send queue */
	size_t q_n;
	size_t q_cap;
	bool close_queued; /* shutdown over polling: the close packet is queued */
	struct eng_conn *graveyard;
	struct sg_buf scratch; /* decoded 'b' packets of WebSocket text frames */
	struct sg_buf sendbuf; /* one outgoing WebSocket message */
};

/* engine_core.c */
void eng_enter(struct sgc_engine *e);
void eng_leave(struct sgc_engine *e);
/* Neither freed nor closed: callbacks may still be delivered. */
bool eng_alive(const struct sgc_engine *e);
/* Ends a connection now: the socket closes, the struct waits in the
 * graveyard until no callback runs. */
void eng_conn_kill(struct eng_conn *c);
/* Frees the connections in the graveyard (no callback of theirs runs). */
void eng_bury(struct sgc_engine *e);
/* Ends the session at the next loop turn (engine.c's fail event): for a
 * failure found inside an API call, where no callback may come. */
void eng_fail_later(struct sgc_engine *e, int code, const char *msg);

/* engine_conn.c */
/* Appends the request target: path, EIO=4, transport, sid, the query. */
void eng_build_url(struct sgc_engine *e, struct sg_buf *out, const char *transport, bool with_sid);
/* Appends Host, User-Agent, Accept and the owner's extra headers. */
void eng_add_common_headers(struct sgc_engine *e, struct sg_buf *out);
/* A connection of that kind (a CK_WS one has its upgrade request ready). */
struct eng_conn *eng_conn_new(struct sgc_engine *e, enum conn_kind kind);
int eng_conn_start(struct eng_conn *c, char *err, size_t errlen);
/* The connection failed: e->ops->failed. */
void eng_conn_failed(struct eng_conn *c, int code, const char *msg);

/* engine_ws.c */
/* The 101 arrived: the connection carries WebSocket frames from now on. */
void eng_ws_upgraded(struct eng_conn *c);
void eng_ws_readable(struct eng_conn *c);
void eng_ws_written(struct eng_conn *c);
void eng_ws_flush(struct eng_conn *c);
/* Queues one message: prefix (may be NULL) then data. */
void eng_ws_send(struct eng_conn *c, bool binary, const char *prefix, const void *data, size_t len);

/* engine_polling.c */
void eng_queue_push(struct sgc_engine *e, enum eio_type type, bool binary, const void *data,
		    size_t len);
void eng_queue_clear(struct sgc_engine *e);
void eng_poll_pump(struct sgc_engine *e);
/* A complete HTTP response (not a 101) to one of the engine's requests. */
void eng_http_done(struct eng_conn *c, const char *body, size_t len);
void eng_start_probe(struct sgc_engine *e);
void eng_drop_probe(struct sgc_engine *e);
void eng_maybe_finish_upgrade(struct sgc_engine *e);

#endif
