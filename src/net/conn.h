/*
 * conn.h: one accepted TCP connection.  A conn reads an HTTP/1.1 request,
 * hands it to the conn_handler of its listener (client or admin), and, once
 * upgraded, hands its bytes to the WebSocket layer.  Every connection ends
 * through conn_close() or conn_close_after_flush() with a reason from
 * close.def; the memory is freed at the end of the loop turn
 * (worker_defer), never inside a callback of the connection itself.
 */
#ifndef SG_CONN_H
#define SG_CONN_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sys/socket.h>

#include "core/close.h"
#include "core/common.h"
#include "core/log.h"
#include "proto/http.h"

struct worker;
struct ws;
struct http_request;
struct conn;

/* What a connection's requests go to, registered on the worker at start-up
 * by the layer above (worker->conn_handler[CONN_CLIENT]: Engine.IO;
 * [CONN_ADMIN]: the admin API). */
struct conn_handler {
	/* A whole request (body: its body, or NULL): the handler answers it
	 * (conn_reply, conn_respond), holds it (conn_hold) or upgrades it. */
	void (*on_request)(struct worker *w, struct conn *c, const struct http_request *req,
			   const char *body, size_t body_len);
	/* The connection of a request held by holder (conn_hold) is going
	 * away: the holder must not answer it any more. */
	void (*on_held_closed)(void *holder, struct conn *c);
};

/* The orders of a connection's deferred calls (worker_defer): a deferred
 * close before anything is freed, its free after the objects of every
 * layer above (a session, a socket) that refer to it. */
#define CONN_DEFER_CLOSE 3
#define CONN_DEFER_FREE 0

/* What an upgraded connection's bytes go to (the WebSocket layer, ws.c),
 * set by conn_upgrade(); arg is the stream (owned by the connection from
 * then on). */
struct conn_stream {
	/* Bytes arrived in in: take every whole frame, leave a partial one. */
	void (*on_readable)(void *arg, struct evbuffer *in);
	/* The connection is closing (now, or after its output is written). */
	void (*on_closed)(void *arg, enum sg_close reason);
	/* The connection is freed: free the stream. */
	void (*free)(void *arg);
};

/* Indexes of worker->conn_handler. */
#define CONN_CLIENT 0 /* the client listeners (server.listen) */
#define CONN_ADMIN 1  /* the admin listener (admin.listen) */

/* The network layer's part of every worker (worker_module): the trusted
 * proxies, request deadlines, the end-of-turn writes. */
extern const struct worker_module conn_module;

enum conn_state {
	CONN_HTTP,     /* reading a request (head and body), or waiting for the next */
	CONN_HELD,     /* a request is waiting for its answer (a polling GET) */
	CONN_WS,       /* upgraded: bytes go to the WebSocket layer */
	CONN_FLUSHING, /* closing: writing what is queued, reading nothing */
	CONN_DEAD,     /* closed, waiting for the reaper */
};

/* A request still arriving after this long is slow: the connection counts
 * against limits.http_per_ip.  Real clients send a request in one go, so a
 * burst of connections from one address (a NAT, a reconnection storm)
 * never counts; connections that trickle do. */
#define CONN_HTTP_SLOW_MS 1000

/* Where a connection in CONN_HTTP is in its current request. */
enum conn_phase {
	CONN_PHASE_IDLE, /* no byte of it yet (a new or kept-alive connection) */
	CONN_PHASE_HEAD, /* part of the head */
	CONN_PHASE_BODY, /* the head, part of the body */
};

struct conn {
	uint32_t magic;
	enum conn_state state;
	struct worker *w;
	struct bufferevent *bev;
	const struct conn_stream *stream;   /* once upgraded (conn_upgrade), or NULL */
	void *stream_arg;		    /* the stream (owned) */
	void *held_by;			    /* the holder of this request (conn_hold), or NULL */
	char *reply_headers;		    /* extra header lines for the held answer (owned) */
	bool keep_alive;		    /* the current request allows keep-alive */
	bool admin;			    /* accepted on admin.listen */
	bool secure;			    /* TLS */
	bool had_session;		    /* carried an Engine.IO session's traffic: its
					  end is logged and counted by the session */
	bool close_pending;		    /* a conn_close_later() is due */
	bool lingering;			    /* FIN sent, discarding input until the client closes */
	bool direct;			    /* plain TCP written by the worker's flush (see
					  conn_flush_dirty), not by the bufferevent */
	bool dirty;			    /* on worker->dirty */
	bool handed_over;		    /* its socket moved to another worker (conn_free
					  leaves it open) */
	bool in_http;			    /* reading a request (a new connection, or bytes of
					  the next request arrived): on worker->http_conns */
	bool http_slow;			    /* in_http for over CONN_HTTP_SLOW_MS: counted in
					  ip->n_slow (limits.http_per_ip) */
	bool once;			    /* one request, no keep-alive: it holds the admin
					  listener's spare descriptor (listener.c) */
	bool trusted;			    /* the peer is in server.trusted_proxies: Forwarded
					  and X-Forwarded-For name the client */
	uint8_t phase;			    /* enum conn_phase of the request being read */
	uint32_t body_head_len;		    /* CONN_PHASE_BODY: the head's length */
	struct http_chunked chunked;	    /* CONN_PHASE_BODY: a chunked body scanned so far */
	struct conn *http_prev, *http_next; /* worker->http_conns */
	struct conn *dirty_prev, *dirty_next;
	struct conn *prev, *next; /* worker->conns */
	struct ip_count *ip;	  /* this address's connection count (limits.per_ip) */
	uint64_t serial;	  /* unique in the worker: finds a held request again */
	enum sg_close reason;
	enum sg_close pending_reason; /* for close_pending */
	int64_t over_soft_since_ms;   /* output above limits.output_soft since (0: below) */
	int64_t head_start_ms;	      /* when the current request head began (monotonic) */
	int64_t body_start_ms;	      /* CONN_PHASE_BODY: when its head was whole */
	int64_t http_since_ms;	      /* in_http since (monotonic) */
	char addr[48];		      /* client address, e.g. 127.0.0.1 or ::1 */
	char peer[56];		      /* address:port for logs */
};

struct ip_count;

/* Counts a newly accepted connection from sa against the process's limits
 * (admission.h), as soon as it is accepted, whichever worker it goes to; a
 * trusted proxy's connection counts as unattributed until it names its
 * client.  Returns 0 with *ip to pass to conn_new() (which refuses it when
 * the worker is shutting down), or -1 with the reason in *why (the caller
 * refuses the connection). */
int conn_admit(struct worker *w, const struct sockaddr *sa, struct ip_count **ip,
	       enum sg_close *why) SG_WUR;

/* Takes ownership of fd and ip (admitted by conn_admit; NULL for admin
 * connections, which are exempt from the limits and routed to admin.c).
 * Returns NULL (fd closed) when the worker is shutting down. */
struct conn *conn_new(struct worker *w, int fd, const struct sockaddr *sa, bool admin,
		      struct ip_count *ip);

/* Closes the connections of w that are past the deadline of the request
 * they are reading (limits.header_timeout, body_timeout, body_min_rate).
 * Run every second. */
void conn_sweep_http(struct worker *w);

/* Whether the peer sa is in server.trusted_proxies. */
bool conn_trusts_peer(const struct worker *w, const struct sockaddr *sa);

/* Ends the connection at the end of this loop turn: for callers in the
 * middle of iterating what the close would change (a broadcast). */
void conn_close_later(struct conn *c, enum sg_close reason);

/* Checks the output queue against limits.output_soft/hard after a write
 * was queued; a slow consumer is closed (later). */
void conn_check_output(struct conn *c);

/* Writes the output of every connection that got some this loop turn: one
 * write per connection, however many frames were queued, and no change to
 * the poller unless the kernel did not take it all (then the bufferevent
 * writes the rest).  conn_module's flush hook, at the end of a loop turn. */
void conn_flush_dirty(struct worker *w);

/* Ends the connection now: upper layers are told, queued output is dropped. */
void conn_close(struct conn *c, enum sg_close reason);

/* Stops reading and ends the connection once its queued output is written
 * (bounded by a flush timeout). */
void conn_close_after_flush(struct conn *c, enum sg_close reason);

/* Answers a plain HTTP request and closes after the flush.  extra_headers is
 * NULL or CRLF-terminated header lines. */
void conn_respond(struct conn *c, int status, const char *content_type, const char *extra_headers,
		  const char *body, size_t body_len);

/* Answers the current (or held) request; the connection then reads the next
 * request when the client asked for keep-alive, else closes after the
 * flush. */
void conn_reply(struct conn *c, int status, const char *content_type, const char *extra_headers,
		const char *body, size_t body_len);

/* Keeps the current request open until conn_reply(): holder (NULL: none to
 * tell) is told through its handler's on_held_closed() if the connection
 * goes first.  extra_headers (copied) go into the eventual answer. */
void conn_hold(struct conn *c, void *holder, const char *extra_headers);

struct evbuffer *conn_output(struct conn *c);

/* Hands the connection's bytes from now on to the stream st with arg (an
 * upgrade, after its 101 answer was queued): state CONN_WS. */
void conn_upgrade(struct conn *c, const struct conn_stream *st, void *arg);

/* The facts of a log record about c (log.h): its address and worker. */
void conn_facts(const struct conn *c, struct log_facts *f);
/* Logs a record about c, with reason why (NULL: none). */
#define conn_log(level, c, why, ...) log_about(level, conn_facts, c, why, __VA_ARGS__)

/* The open connection with this serial whose request is held, or NULL (it
 * went away meanwhile).  Linear in the connections: for rare answers. */
struct conn *conn_find_held(struct worker *w, uint64_t serial);
bool conn_is_open(const struct conn *c);

/* Frees a dead connection (its deferred call). */
void conn_free(struct conn *c);

#endif
