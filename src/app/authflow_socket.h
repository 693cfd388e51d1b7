/*
 * authflow_socket.h: what the authenticate flow (authflow.h) keeps for one
 * Socket.IO socket, right after the sio_socket (struct authflow_socket):
 * its state, its timer, its verified identity.  The flow's helpers
 * (forward, lifecycle, room check) and the layers above read it here.
 */
#ifndef SG_AUTHFLOW_SOCKET_H
#define SG_AUTHFLOW_SOCKET_H

#include <event2/event.h>
#include <jansson.h>

#include "core/common.h"
#include "core/log.h"
#include "core/wheel.h"
#include "sio/sio.h"

struct auth_http_wait;

enum authflow_state {
	AUTHFLOW_UNAUTHORIZED,	 /* connected, or after a failed authentication */
	AUTHFLOW_AUTHENTICATING, /* the verifier is deciding */
	AUTHFLOW_AUTHENTICATED,	 /* fully operational */
};

/* What a verification in progress is for. */
enum authflow_purpose {
	AUTHFLOW_FOR_CHALLENGE, /* authenticate after CONNECT (auth.mode: challenge) */
	AUTHFLOW_FOR_CONNECT,	/* the CONNECT itself (auth.mode: connect) */
	AUTHFLOW_FOR_REFRESH,	/* authenticate {token} while authenticated */
};

struct authflow {
	uint8_t state;			  /* enum authflow_state */
	uint8_t throttle;		  /* enum throttle_admit of the attempt being verified */
	uint8_t purpose;		  /* enum authflow_purpose of the attempt */
	bool warned : 1;		  /* token:expiring was sent for this exp */
	bool key_waiting : 1;		  /* its token waits for the issuer's keys */
	uint32_t exp;			  /* the identity's exp (unix seconds), 0 = none */
	struct event *timer;		  /* auth timeout, then the app-level ping */
	json_t *claims;			  /* verified identity (owned), NULL before */
	struct auth_http_wait *verifying; /* the HTTP verifier's answer is awaited */
	struct wheel_node deadline;	  /* on the worker's token wheel while exp is set */
};

/* A socket of the daemon: the sio_socket, then the flow's state. */
struct authflow_socket {
	struct sio_socket sock;
	struct authflow flow;
};

/* The flow's state of a socket of a worker that runs the flow. */
#define authflow_of(s) (&((struct authflow_socket *)(s))->flow)

const char *authflow_state_name(enum authflow_state s);

/* The socket's user: the sub claim of its verified identity, or NULL
 * (not authenticated, or no string sub). */
const char *authflow_user(const struct sio_socket *sock);

/* The facts of a log record about a socket (log.h): its connection's
 * address, sid and worker, its id, namespace and, once authenticated, user. */
void authflow_facts(const struct sio_socket *sock, struct log_facts *f);
/* Logs a record about sock, with reason why (NULL: none). */
#define authflow_log(level, sock, why, ...) log_about(level, authflow_facts, sock, why, __VA_ARGS__)

#endif
