/*
 * session.h: the seed's helper behaviour for one Socket.IO socket (SPEC.md
 * section 2): the unauthorized -> authenticating -> authenticated state
 * machine, the auth timeout, the app-level "ping" event, default rooms, and
 * join/leave validated by the room rules.  The socket layer calls in on
 * connect, on every event and on close; this layer answers through sio.h.
 */
#ifndef SG_AUTHFLOW_H
#define SG_AUTHFLOW_H

#include <event2/event.h>
#include <jansson.h>

#include "core/close.h"
#include "core/common.h"
#include "core/log.h"

struct sio_socket;
struct sio_packet;
struct auth_http_wait;

enum authflow_state {
	AUTHFLOW_UNAUTHORIZED,   /* connected, or after a failed authentication */
	AUTHFLOW_AUTHENTICATING, /* the verifier is deciding */
	AUTHFLOW_AUTHENTICATED,  /* fully operational */
};

struct authflow {
	uint8_t state;          /* enum authflow_state */
	uint8_t throttle;       /* enum throttle_admit of the attempt being verified */
	struct event *timer;    /* auth timeout, then the app-level ping */
	json_t *claims;         /* verified identity (owned), NULL before */
	struct auth_http_wait *verifying; /* the HTTP verifier's answer is awaited */
};

const char *authflow_state_name(enum authflow_state s);

/* The facts of a log record about a socket (log.h): its connection's
 * address, sid and worker, its id, namespace and, once authenticated, user. */
void authflow_facts(const struct sio_socket *sock, struct log_facts *f);
/* Logs a record about sock, with reason why (NULL: none). */
#define authflow_log(level, sock, why, ...) log_about(level, authflow_facts, sock, why, __VA_ARGS__)

/* The session layer is reached through authflow_handler (sio.h); this one
 * is also called by the room validator when its answer arrives. */
void authflow_join(struct sio_socket *sock, json_t *rooms, const json_t *allowed,
		  int64_t ack_id);

#endif
