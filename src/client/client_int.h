/*
 * client_int.h: what the files of libsiogate-client's client object share
 * (not installed, not exported): struct sgc_client and the functions one
 * file calls in another.  The files are layered, highest first; each
 * calls only the ones below it (and engine.h, below them all):
 *   client.c        options, creating and freeing, accessors; gives
 *                   client_recv.c's engine callbacks to client_conn.c
 *   client_recv.c   the engine's events: its open, Socket.IO packets in,
 *                   events to handlers, its end; subscriptions
 *   client_conn.c   the connection state machine and reconnection
 *   client_token.c  the token: refreshes, and the copy later connections send
 *   client_send.c   Socket.IO packets out, pending acks, the helper flow
 *   client_state.c  the guard below (enter, leave, the final release),
 *                   leaving a connection, error reports
 *
 * Invariant: the client is never freed under a running callback.  Every
 * entry from the event loop and every API function that may call back is
 * bracketed by client_enter/client_leave; sgc_client_free inside one only
 * marks the client (free_requested), tears down its connections and
 * subscriptions, and the outermost client_leave releases the memory.  After
 * any user callback, code re-checks free_requested and the generation
 * counter `gen` (bumped by sgc_connect / sgc_disconnect) before acting.
 */
#ifndef SGC_CLIENT_INT_H
#define SGC_CLIENT_INT_H

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"
#include "engine.h"
#include "proto/sio_packet.h"
#include "proto/url.h"
#include "siogate/client.h"
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
	char *query;   /* URL query and options query, joined by '&' */
	char *headers; /* "Name: value\r\n" lines */
	char *auth;    /* compact JSON object text, or NULL */
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
	struct sgc_options cb; /* only the callbacks and user are used */

	SSL_CTX *ssl_ctx;
	struct evdns_base *dns;

	/* state */
	enum sgc_conn_state conn;
	enum sgc_state auth_state;
	bool refreshing; /* a refresh's `authenticate` {token} waits for its answer */
	const struct sgc_engine_cbs *eng_cbs; /* client_recv.c's, for every engine */
	struct sgc_engine *eng;
	struct sgc_engine **closing; /* engines finishing a graceful close */
	size_t n_closing;
	char *sid;
	unsigned attempt; /* failed attempts since the last success */
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

/* client_state.c */
void client_enter(struct sgc_client *c);
void client_leave(struct sgc_client *c);
/* Releases everything (the client is idle and no callback runs). */
void client_destroy(struct sgc_client *c);
/* Takes the current engine away: graceful (closing list) or at once. */
void client_retire_engine(struct sgc_client *c, bool graceful);
void client_go_disconnected(struct sgc_client *c, const char *reason, bool notify);
/* Calls every ack of list with SGC_ERR_DISCONNECTED and frees them. */
void client_fail_acks(struct sgc_client *c, struct sgc_pending_ack *list);
/* Forgets a BINARY_EVENT / BINARY_ACK waiting for attachments. */
void client_bin_reset(struct sgc_client *c);
/* Calls on_error (unless the client is being freed). */
void client_report_error(struct sgc_client *c, int code, const char *msg, const json_t *data);
void client_report_errorf(struct sgc_client *c, int code, const char *fmt, ...) SG_PRINTF(3, 4);

/* client_send.c */
/* Emits event with the single argument data (NULL: none), no ack. */
int client_send_event(struct sgc_client *c, const char *event, const json_t *data);

/* client_token.c */
/* The server's `token:expiring` {exp}: calls on_token_expiring. */
void client_token_expiring(struct sgc_client *c, const json_t *data);

/* client_conn.c */
/* Creates the state machine's timers: 0, or -1 when libevent cannot.  cbs
 * (client_recv.c's) goes to every engine the client starts. */
int client_conn_init(struct sgc_client *c, const struct sgc_engine_cbs *cbs);
/* After a failed attempt or a lost connection: wait the backoff, or give up. */
void client_schedule_reconnect(struct sgc_client *c);

/* client_recv.c */
/* The engine's callbacks: open, message, close. */
extern const struct sgc_engine_cbs client_engine_cbs;

#endif
