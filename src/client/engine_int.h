/*
 * engine_int.h: what the files of libsiogate-client's Engine.IO engine
 * share (not installed, not exported): the engine and connection structs
 * and the functions one file calls in another.
 *   engine.c          the session: start and DNS, failures, heartbeat,
 *                     packets in and out, shutdown
 *   engine_conn.c     connections: TCP/TLS, their events, requests, and
 *                     reading HTTP responses (proto/http_resp_parser.c)
 *   engine_polling.c  the long-polling transport and the upgrade from it
 *   engine_ws.c       the WebSocket transport (wslay, client mode)
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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#include "engine.h"
#include "proto/eio_packet.h"
#include "proto/http_resp_parser.h"

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

/* engine.c */
void eng_enter(struct sgc_engine *e);
void eng_leave(struct sgc_engine *e);
/* Neither freed nor closed: callbacks may still be delivered. */
bool eng_alive(const struct sgc_engine *e);
/* The session never opened: on_close with code and "transport error". */
void eng_fail(struct sgc_engine *e, int code, const char *fmt, ...) SG_PRINTF(3, 4);
/* eng_fail at the next loop turn (not from inside an API call). */
void eng_fail_later(struct sgc_engine *e, int code, const char *msg);
/* The session is over: every connection and timer dropped, on_close. */
void eng_lost(struct sgc_engine *e, int code, const char *reason, const char *msg);
void eng_finish_shutdown(struct sgc_engine *e);
/* One Engine.IO packet from connection `from`. */
void eng_on_packet(struct sgc_engine *e, struct eng_conn *from, const struct eio_packet *pk);

/* engine_conn.c */
/* Appends the request target: path, EIO=4, transport, sid, the query. */
void eng_build_url(struct sgc_engine *e, struct sg_buf *out, const char *transport, bool with_sid);
/* Appends Host, User-Agent, Accept and the owner's extra headers. */
void eng_add_common_headers(struct sgc_engine *e, struct sg_buf *out);
/* A connection of that kind (a CK_WS one has its upgrade request ready). */
struct eng_conn *eng_conn_new(struct sgc_engine *e, enum conn_kind kind);
int eng_conn_start(struct eng_conn *c, char *err, size_t errlen);
void eng_conn_kill(struct eng_conn *c);
void eng_conn_free(struct eng_conn *c);
void eng_conn_failed(struct eng_conn *c, int code, const char *msg);

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

/* engine_ws.c */
/* The 101 arrived: the connection carries WebSocket frames from now on. */
void eng_ws_upgraded(struct eng_conn *c);
void eng_ws_readable(struct eng_conn *c);
void eng_ws_flush(struct eng_conn *c);
/* Queues one message: prefix (may be NULL) then data. */
void eng_ws_send(struct eng_conn *c, bool binary, const char *prefix, const void *data, size_t len);

#endif
