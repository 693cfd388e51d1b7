/*
 * siogate/client.h: libsiogate-client, a Socket.IO v4 client (Engine.IO v4,
 * Socket.IO protocol v5) for C programs built on libevent.
 *
 * It is the C form of the seed's SocketIOClientHelper: a client connects to a
 * Socket.IO server (siogate or any Socket.IO v4 server, e.g. Node's
 * `socket.io`), joins one namespace, and runs the helper's authentication
 * flow on top of it:
 *
 *     sgc_connect()            -> on_connected()          state "unauthorized"
 *     sgc_authenticate()       -> emits `authenticate`    state "authenticating"
 *     server `authenticated`   -> on_authenticated()      state "authenticated"
 *     server `unauthenticated` -> on_unauthenticated(msg) state "unauthorized"
 *     any disconnect           -> on_disconnected(reason) state "unauthorized"
 *
 * Tokens that expire (siogate's auth.refresh_window): the server warns with
 * `token:expiring` -> on_token_expiring(exp); the program answers with
 * sgc_refresh_token(new token), which emits `authenticate` {"token": ...};
 * the server answers `authenticated` again (on_authenticated, the state stays
 * "authenticated") or `unauthenticated` and a disconnect.  Without a refresh
 * the server ends the session at exp + its leeway the same way.  With
 * siogate's auth.mode connect the server authenticates during the
 * namespace's CONNECT: a refusal is on_error(SGC_ERR_REFUSED) with the
 * server's message (no reconnection), an acceptance is on_connected then
 * on_authenticated, with or without sgc_authenticate().
 *
 * Usage, in short:
 *
 *     struct sgc_options o;
 *     sgc_options_init(&o);
 *     o.url = "http://127.0.0.1:8080";
 *     o.on_connected = on_connected;          // calls sgc_authenticate()
 *     struct sgc_client *c = sgc_client_new(base, &o, err, sizeof(err));
 *     sgc_subscribe(c, "notification", on_note, NULL, true);
 *     sgc_connect(c);
 *     event_base_dispatch(base);
 *
 * Threading: a client belongs to the event_base it was created on and to the
 * thread that runs that base.  No function here may be called from another
 * thread.
 *
 * Callbacks: every callback runs from the event loop, never from inside the
 * API function that caused it, with these exceptions, documented at each
 * function: sgc_disconnect() and sgc_shutdown() call on_disconnected and the
 * pending ack callbacks (SGC_ERR_DISCONNECTED) before returning, and
 * sgc_client_free() calls the pending ack callbacks.  Inside any callback the
 * program may call any function of this header on the same client,
 * sgc_client_free() included (the free then completes when the callback
 * returns).
 *
 * JSON values are jansson's json_t.  Values passed in are borrowed (the
 * library takes its own references or copies); values handed to callbacks are
 * borrowed and valid only until the callback returns (json_incref() them to
 * keep them).
 *
 * Binary data: Socket.IO carries binary attachments next to the JSON.  In
 * both directions the JSON holds a placeholder object
 * {"_placeholder":true,"num":N} where the N-th attachment belongs (see
 * sgc_placeholder()), and the attachments travel in an array of struct
 * sgc_binary.
 *
 * Return values: functions that can fail return an int: SGC_OK (0) on
 * success, a negative SGC_ERR_* code on failure, and SGC_SKIPPED (1) where a
 * call had nothing to do.  sgc_strerror() names each code.
 */
#ifndef SIOGATE_CLIENT_H
#define SIOGATE_CLIENT_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SGC_API __attribute__((visibility("default")))
#define SGC_WUR __attribute__((warn_unused_result))
#else
#define SGC_API
#define SGC_WUR
#endif

/* The library version, as "MAJOR.MINOR.PATCH". */
#define SGC_VERSION "0.1.0"

/* The helper's authentication state (the seed's SocketIOClientStates). */
enum sgc_state {
	SGC_UNAUTHORIZED = 0, /* connected or not, not authenticated (the initial state) */
	SGC_AUTHENTICATING,   /* `authenticate` sent, no answer yet */
	SGC_AUTHENTICATED,    /* the server answered `authenticated` */
};

/* The connection state of the client (socket.io-client's `connected`,
 * `active` and the Manager's reconnection, in one value). */
enum sgc_conn_state {
	SGC_CONN_DISCONNECTED = 0, /* idle: never connected, sgc_disconnect(), or given up */
	SGC_CONN_CONNECTING,	   /* a connection attempt is running */
	SGC_CONN_CONNECTED,	   /* the namespace is joined; events flow */
	SGC_CONN_RECONNECTING,	   /* waiting for the backoff timer before the next attempt */
};

/* Result and error codes. */
enum sgc_status {
	SGC_OK = 0,		    /* success */
	SGC_SKIPPED = 1,	    /* nothing done: duplicate subscription, nothing to remove */
	SGC_ERR_INVALID = -1,	    /* an argument is invalid (NULL or empty name, bad JSON...) */
	SGC_ERR_NOT_CONNECTED = -2, /* the namespace is not connected */
	SGC_ERR_STATE = -3,	    /* not allowed in the current authentication state */
	SGC_ERR_TIMEOUT = -4,	    /* no answer in time (ack, connection attempt) */
	SGC_ERR_DISCONNECTED = -5,  /* the connection ended before the ack arrived */
	SGC_ERR_CONNECT = -6,	    /* DNS failure, TCP connection refused or unreachable */
	SGC_ERR_TLS = -7,	    /* TLS handshake or certificate verification failed */
	SGC_ERR_HANDSHAKE = -8,	    /* the server refused the HTTP request (status, headers) */
	SGC_ERR_PROTOCOL = -9,	    /* the server broke the Engine.IO / Socket.IO protocol */
	SGC_ERR_REFUSED = -10,	    /* the server refused the namespace (CONNECT_ERROR) */
	SGC_ERR_HANDLER = -11,	    /* an event handler returned non-zero */
	SGC_ERR_RECONNECT_FAILED = -12, /* reconnection_attempts reached; the client is idle */
};

/* The event name that subscribes to every event (socket.io-client's onAny):
 * its handlers run for each event after the handlers of the event's own
 * name. */
#define SGC_ANY_EVENT "*"

/* Transports (a bit mask for sgc_options.transports). */
#define SGC_TRANSPORT_WEBSOCKET 0x1u /* WebSocket only (the default) */
#define SGC_TRANSPORT_POLLING 0x2u   /* HTTP long-polling */
/* Both: start with long-polling and upgrade to WebSocket when the server
 * offers it, as socket.io-client does by default. */
#define SGC_TRANSPORT_ANY (SGC_TRANSPORT_WEBSOCKET | SGC_TRANSPORT_POLLING)

struct sgc_client;

/* An error report given to on_error.  Every field is borrowed for the
 * duration of the callback. */
struct sgc_error {
	int code;	     /* an SGC_ERR_* value */
	const char *message; /* human-readable, never NULL */
	const json_t *data;  /* SGC_ERR_REFUSED: the CONNECT_ERROR's `data`, else NULL */
};

/* One binary attachment (borrowed bytes). */
struct sgc_binary {
	const void *data;
	size_t len;
};

/* A received event (or, for an ack callback, the ack's arguments). */
struct sgc_event {
	const char *name;   /* event name; NULL in an ack reply */
	const json_t *args; /* JSON array of every argument (may be empty), never NULL */
	const json_t *data; /* the first argument, or NULL when there is none */
	const struct sgc_binary *attachments; /* binary attachments, by placeholder num */
	size_t n_attachments;
	int64_t ack_id; /* >= 0: the server asks for an ack, see sgc_ack(); else -1 */
};

/*
 * Handler of a subscribed event.  ev and everything it points to is borrowed
 * until the handler returns.  Return 0; a non-zero return is an error the
 * library contains (the seed catches handler errors): it is reported through
 * on_error with code SGC_ERR_HANDLER, and the other handlers of the event and
 * the connection carry on.  A handler may subscribe or unsubscribe (itself
 * included) while it runs: the handlers called for the current event are the
 * ones registered when it arrived, minus those removed meanwhile.
 */
typedef int (*sgc_handler_fn)(struct sgc_client *c, const struct sgc_event *ev, void *user);

/*
 * Ack callback of sgc_emit_ex(), sgc_join_rooms() and sgc_leave_rooms().
 * Called exactly once per emit that asked for it: status SGC_OK with reply
 * holding the ack's arguments (reply->name is NULL), or status
 * SGC_ERR_TIMEOUT (no answer within the timeout), SGC_ERR_DISCONNECTED (the
 * connection ended first, or sgc_disconnect/sgc_shutdown/sgc_client_free ran)
 * with reply NULL.
 */
typedef void (*sgc_ack_fn)(struct sgc_client *c, int status, const struct sgc_event *reply,
			   void *user);

/*
 * Client options.  Fill with sgc_options_init(), then set what you need.
 * sgc_client_new() copies every string and array, so the options may be
 * discarded after it returns.
 */
struct sgc_options {
	/* Name of this client, for the program's logs (the seed's
	 * `identifier`, see sgc_identifier()); default "siogate-client". */
	const char *identifier;
	/* Server URL (required): http://, https://, ws:// or wss://, then
	 * host[:port], then an optional path and query.  As with
	 * socket.io-client, the path names the namespace ("/" when empty) and
	 * the query is sent with every Engine.IO request.  https and wss use
	 * TLS.  The host is a name (letters, digits, '-', '.', '_'), an IPv4
	 * address or a bracketed IPv6 address; user info, spaces, control and
	 * non-ASCII bytes are refused (siogate's own call-out URLs follow the
	 * same rules). */
	const char *url;
	/* Engine.IO endpoint path; default "/socket.io/" (a trailing '/' is
	 * added when missing, as socket.io-client does). */
	const char *path;
	/* Namespace to join; NULL: the URL's path. */
	const char *nsp;
	/* Extra HTTP headers sent with every request (the seed's
	 * extraHeaders): a NULL-terminated array of "Name: value" strings,
	 * e.g. "Authorization: Bearer <jwt>".  NULL: none. */
	const char *const *headers;
	/* Extra query parameters, already URL-encoded ("token=abc&x=1"). */
	const char *query;
	/* The CONNECT payload (socket.io-client's `auth`): JSON object text,
	 * e.g. "{\"token\":\"abc\"}".  NULL: none. */
	const char *auth;
	/* SGC_TRANSPORT_WEBSOCKET (default), SGC_TRANSPORT_POLLING, or
	 * SGC_TRANSPORT_ANY (long-polling, then the upgrade). */
	unsigned transports;
	/* TLS: PEM file of trusted CA certificates; NULL: the system's. */
	const char *tls_ca_file;
	/* TLS: verify the server's certificate and host name (default
	 * true).  false is for tests only. */
	bool tls_verify;
	/* Reconnect after a lost connection or a failed attempt (default
	 * true).  Never after the server's DISCONNECT ("io server
	 * disconnect"), a CONNECT_ERROR, or sgc_disconnect(). */
	bool reconnection;
	/* Attempts before giving up (on_error SGC_ERR_RECONNECT_FAILED);
	 * 0 (default): unlimited. */
	unsigned reconnection_attempts;
	/* Backoff: delay_ms * 2^attempt, capped at delay_max_ms, each delay
	 * moved by up to +/- randomization_factor of itself (jitter).
	 * Defaults 1000, 5000 and 0.5, as socket.io-client. */
	unsigned reconnection_delay_ms;
	unsigned reconnection_delay_max_ms;
	double randomization_factor;
	/* Bound on one connection attempt, from the TCP connect to the
	 * namespace's CONNECT answer; default 20000 ms. */
	unsigned connect_timeout_ms;
	/* Largest message accepted from the server (bytes); default 16 MiB.
	 * A larger one closes the connection ("transport error"). */
	size_t max_message;

	/* The namespace is connected (after every reconnection too).  The
	 * state is SGC_UNAUTHORIZED; the seed calls sgc_authenticate() here. */
	void (*on_connected)(struct sgc_client *c, void *user);
	/* The connection ended.  reason is socket.io-client's: "io server
	 * disconnect" (the server's DISCONNECT; no reconnection), "io client
	 * disconnect" (sgc_disconnect / sgc_shutdown), "transport close",
	 * "transport error", "ping timeout" or "parse error" (the last four
	 * reconnect when enabled).  Only called after on_connected. */
	void (*on_disconnected)(struct sgc_client *c, const char *reason, void *user);
	/* A connection attempt failed (SGC_ERR_CONNECT, _TLS, _HANDSHAKE,
	 * _TIMEOUT), the namespace was refused (SGC_ERR_REFUSED), the server
	 * broke the protocol (SGC_ERR_PROTOCOL), a handler failed
	 * (SGC_ERR_HANDLER), or reconnection gave up
	 * (SGC_ERR_RECONNECT_FAILED). */
	void (*on_error)(struct sgc_client *c, const struct sgc_error *err, void *user);
	/* The server answered `authenticated`; data is its payload (siogate:
	 * {"id": socket id, "time": ISO date}) or NULL.  Also called when the
	 * server sends it unasked (siogate's auth.mode connect: right after
	 * the CONNECT), and again after each accepted sgc_refresh_token(). */
	void (*on_authenticated)(struct sgc_client *c, const json_t *data, void *user);
	/* The server answered `unauthenticated`; message is its `message`
	 * field or "" (never NULL).  siogate disconnects right after ("io
	 * server disconnect", no reconnection); it also ends a session this
	 * way when a refresh is refused or the token expired unrefreshed. */
	void (*on_unauthenticated)(struct sgc_client *c, const char *message, void *user);
	/* Optional: a reconnection attempt is scheduled in delay_ms
	 * (attempt counts from 1). */
	void (*on_reconnecting)(struct sgc_client *c, unsigned attempt, unsigned delay_ms,
				void *user);
	/* Optional: the server warned that the token expires soon (siogate's
	 * `token:expiring` {"exp": N}, auth.refresh_window before exp); exp
	 * is in Unix seconds, 0 when the event did not carry one.  Give a new
	 * token with sgc_refresh_token(), here or later (once an asynchronous
	 * fetch completes) but before exp; otherwise the server ends the
	 * session at exp + its leeway (on_unauthenticated, then
	 * on_disconnected "io server disconnect").  Subscribers of
	 * "token:expiring" and "*" receive the event as well, after this. */
	void (*on_token_expiring)(struct sgc_client *c, int64_t exp, void *user);
	/* Passed to every callback above. */
	void *user;
};

/* One entry of sgc_subscribe_many(). */
struct sgc_subscription {
	const char *event;
	sgc_handler_fn handler;
	void *user;
};

/* The arguments of sgc_emit_ex(). */
struct sgc_emit {
	const char *event; /* event name (required, non-empty) */
	/* The arguments after the event name: a JSON array (borrowed), or
	 * NULL for none.  Placeholders refer to attachments. */
	const json_t *args;
	const struct sgc_binary *attachments; /* NULL when n_attachments is 0 */
	size_t n_attachments;
	sgc_ack_fn ack; /* NULL: no ack requested */
	void *ack_user;
	/* ms to wait for the ack before calling ack with SGC_ERR_TIMEOUT;
	 * 0: no timeout (the ack still fails with SGC_ERR_DISCONNECTED when
	 * the connection ends). */
	unsigned ack_timeout_ms;
};

/* Fills o with the defaults documented in struct sgc_options (every pointer
 * NULL, every callback NULL). */
SGC_API void sgc_options_init(struct sgc_options *o);

/*
 * Creates a client on base (borrowed; it must outlive the client).  Checks
 * and copies the options: returns NULL when they are invalid (no URL, an
 * unsupported scheme, a malformed URL, header or auth JSON), writing the
 * reason into errbuf (errlen bytes, NUL-terminated; errbuf may be NULL).  The
 * client starts idle (SGC_CONN_DISCONNECTED); call sgc_connect().  Release
 * with sgc_client_free().
 */
SGC_API struct sgc_client *sgc_client_new(struct event_base *base, const struct sgc_options *o,
					  char *errbuf, size_t errlen) SGC_WUR;

/*
 * Frees the client: closes any connection at once without the DISCONNECT
 * packet, fails pending acks with SGC_ERR_DISCONNECTED, drops every
 * subscription, and releases everything.  No callback other than those ack
 * callbacks runs.  Safe inside a callback of this client (the memory is
 * released when the callback returns).  NULL is a no-op.  libevent releases
 * a connection's buffers from the loop: before event_base_free(), run the
 * base once more (event_base_loop(base, EVLOOP_NONBLOCK)), or a connection
 * that had a callback pending leaks its buffers.
 */
SGC_API void sgc_client_free(struct sgc_client *c);

/*
 * Starts connecting (the seed's connect()): resolves the host, opens the
 * transport, joins the namespace, then calls on_connected, or on_error and
 * (with reconnection) tries again.  A client that is already connected,
 * connecting or waiting to reconnect is left as it is.  Returns SGC_OK, or
 * SGC_SKIPPED when there was nothing to do.
 */
SGC_API int sgc_connect(struct sgc_client *c);

/*
 * Disconnects (the seed's disconnect()): sends the namespace's DISCONNECT,
 * closes the transport gracefully (in the background, see sgc_is_closing()),
 * cancels any reconnection, resets the state to SGC_UNAUTHORIZED, and, when
 * the namespace was connected, calls on_disconnected(c, "io client
 * disconnect", ...) and then every pending ack callback with
 * SGC_ERR_DISCONNECTED, before returning.  Subscriptions stay.  A client that
 * is not connected is only stopped (no callback).  sgc_connect() may be
 * called again later.
 */
SGC_API void sgc_disconnect(struct sgc_client *c);

/*
 * True while a graceful close started by sgc_disconnect() or sgc_shutdown()
 * is still being written in the background (the DISCONNECT packet, then the
 * WebSocket close frame or the polling close packet; one second at most).
 * sgc_client_free() cuts it short, so a program that wants the server to see
 * a clean disconnect keeps its loop running until this turns false (or until
 * event_base_dispatch() returns for lack of events) before freeing.
 */
SGC_API bool sgc_is_closing(const struct sgc_client *c);

/*
 * Runs the helper's authentication flow (the seed's authenticate()): emits
 * `authenticate` (without arguments) and moves to SGC_AUTHENTICATING.  Only
 * when connected and SGC_UNAUTHORIZED.  Returns SGC_OK,
 * SGC_ERR_NOT_CONNECTED, or SGC_ERR_STATE (already authenticating or
 * authenticated).  The answer arrives as on_authenticated or
 * on_unauthenticated.
 */
SGC_API int sgc_authenticate(struct sgc_client *c);

/*
 * Makes token (copied) the client's token, e.g. from on_token_expiring:
 *  - when the client is authenticated, emits `authenticate` {"token": token}
 *    now, siogate's in-band refresh; the answer arrives as on_authenticated
 *    (the state stays SGC_AUTHENTICATED meanwhile) or on_unauthenticated
 *    followed by the server's disconnect;
 *  - in any state, every later connection attempt (a reconnection
 *    included) sends it wherever the options carried a token: the `token`
 *    member of the auth payload, an "Authorization: Bearer" header, a
 *    `token` query parameter (URL-encoded); when they carried none, the
 *    auth payload gets a `token` member.  Calling it from on_reconnecting
 *    gives the next attempt a fresh token.
 * Returns SGC_OK (emitted), SGC_SKIPPED (not authenticated: kept for the
 * next connection only), SGC_ERR_INVALID (NULL, empty, not UTF-8, or a
 * space or control character in it: a bearer token has none; nothing
 * changes), or SGC_ERR_STATE (a refresh already waits for the server's
 * answer, which siogate gives one at a time; nothing changes).
 */
SGC_API int sgc_refresh_token(struct sgc_client *c, const char *token);

/* The authentication state (the seed's getState()). */
SGC_API enum sgc_state sgc_state(const struct sgc_client *c);

/* The state's name: "unauthorized", "authenticating" or "authenticated"
 * (the seed's values). */
SGC_API const char *sgc_state_name(enum sgc_state s);

/* The connection state. */
SGC_API enum sgc_conn_state sgc_conn_state(const struct sgc_client *c);

/* The socket id the server gave the namespace connection, or NULL when not
 * connected.  Valid until the next disconnection. */
SGC_API const char *sgc_socket_id(const struct sgc_client *c);

/* The transport in use, "websocket" or "polling", or NULL when not
 * connected. */
SGC_API const char *sgc_transport_name(const struct sgc_client *c);

/* The identifier given in the options (or the default). */
SGC_API const char *sgc_identifier(const struct sgc_client *c);

/*
 * Subscribes handler(c, ev, user) to event (the seed's subscribe());
 * SGC_ANY_EVENT ("*") subscribes to every event.  With
 * ignore_duplicate (the seed's default, true) nothing is added when the event
 * already has a handler, whichever it is, and SGC_SKIPPED is returned.
 * Without it the handler is added even if the same (handler, user) pair is
 * already there, and is then called once per registration.  Handlers of an
 * event run in subscription order, for every event of that name, whatever
 * the connection state (subscriptions survive reconnections and
 * sgc_disconnect; sgc_shutdown and sgc_client_free drop them).  The event
 * name is copied.  Returns SGC_OK, SGC_SKIPPED, or SGC_ERR_INVALID (NULL or
 * empty event, NULL handler).
 */
SGC_API int sgc_subscribe(struct sgc_client *c, const char *event, sgc_handler_fn handler,
			  void *user, bool ignore_duplicate);

/*
 * sgc_subscribe() for each of subs[0..n) in order with the same
 * ignore_duplicate (the seed's subscribeMany()).  Returns the number of
 * handlers added (0..n), or SGC_ERR_INVALID (checked before anything is
 * added) when an entry is invalid.
 */
SGC_API int sgc_subscribe_many(struct sgc_client *c, const struct sgc_subscription *subs, size_t n,
			       bool ignore_duplicate);

/*
 * Removes handlers of event (the seed's unsubscribe()): with handler
 * non-NULL, every registration of exactly (handler, user); with handler NULL,
 * every handler of the event (user is then ignored).  Returns SGC_OK when
 * something was removed, SGC_SKIPPED when nothing matched, SGC_ERR_INVALID
 * for a NULL event.
 */
SGC_API int sgc_unsubscribe(struct sgc_client *c, const char *event, sgc_handler_fn handler,
			    void *user);

/* Removes every handler of each of events[0..n) (the seed's
 * unsubscribeMany()).  Returns the number of events that had handlers. */
SGC_API int sgc_unsubscribe_many(struct sgc_client *c, const char *const *events, size_t n);

/* The number of handlers registered for event (0 for NULL). */
SGC_API size_t sgc_handler_count(const struct sgc_client *c, const char *event);

/*
 * Emits event with one argument, data (borrowed; NULL: no argument), as the
 * seed's emit({topic, data}).  Returns SGC_OK once the packet is queued on
 * the transport, SGC_ERR_NOT_CONNECTED when the namespace is not connected
 * (nothing is queued while disconnected, as in the seed), or
 * SGC_ERR_INVALID (empty event name, or a reserved one: connect,
 * connect_error, disconnect, disconnecting, newListener, removeListener).
 */
SGC_API int sgc_emit(struct sgc_client *c, const char *event, const json_t *data);

/*
 * Emits e->event with the arguments e->args and the binary attachments, and
 * requests an ack when e->ack is set.  Returns as sgc_emit(), plus
 * SGC_ERR_INVALID when args is not an array or a placeholder's num is not in
 * [0, n_attachments).  When it fails, e->ack is NOT called.  When it
 * succeeds, e->ack is called exactly once later (see sgc_ack_fn).
 */
SGC_API int sgc_emit_ex(struct sgc_client *c, const struct sgc_emit *e);

/* Shorthand for sgc_emit_ex() with one argument data (NULL: none) and an ack
 * (required) with a timeout (0: none). */
SGC_API int sgc_emit_with_ack(struct sgc_client *c, const char *event, const json_t *data,
			      unsigned timeout_ms, sgc_ack_fn ack, void *user);

/*
 * Answers the server's ack request ack_id (from struct sgc_event.ack_id) with
 * the arguments args (a JSON array, borrowed; NULL: none).  Returns SGC_OK,
 * SGC_ERR_NOT_CONNECTED, or SGC_ERR_INVALID (negative id, args not an
 * array).  Answering twice is the caller's mistake (the server ignores it).
 */
SGC_API int sgc_ack(struct sgc_client *c, int64_t ack_id, const json_t *args);

/*
 * Asks to join rooms[0..n) (the seed's joinRooms()): emits `join`
 * {"rooms": [...]}.  ack (optional, may be NULL) receives the server's answer
 * (siogate: {"rooms": [joined], "rejected": [refused]}) or a timeout after
 * timeout_ms (0: none).  Returns as sgc_emit_ex(), plus SGC_ERR_INVALID for
 * n == 0 or a NULL room.
 */
SGC_API int sgc_join_rooms(struct sgc_client *c, const char *const *rooms, size_t n, sgc_ack_fn ack,
			   void *user, unsigned timeout_ms);

/* Asks to leave rooms[0..n) (the seed's leaveRooms()): emits `leave`
 * {"rooms": [...]}, as sgc_join_rooms(); siogate acks {"rooms": [left]}. */
SGC_API int sgc_leave_rooms(struct sgc_client *c, const char *const *rooms, size_t n,
			    sgc_ack_fn ack, void *user, unsigned timeout_ms);

/*
 * Full cleanup (the seed's shutdown()): removes every subscription, then
 * sgc_disconnect() (on_disconnected runs when the namespace was connected),
 * and resets the state to SGC_UNAUTHORIZED.  The client stays valid: it may
 * subscribe and connect again, and must still be freed with
 * sgc_client_free().
 */
SGC_API void sgc_shutdown(struct sgc_client *c);

/* A new placeholder object {"_placeholder":true,"num":num} for the JSON of
 * an emit with attachments.  The caller owns the returned reference. */
SGC_API json_t *sgc_placeholder(unsigned num);

/* The attachment index of value when it is a placeholder object, else -1. */
SGC_API int sgc_placeholder_num(const json_t *value);

/* A static description of an sgc_status code ("not connected", ...). */
SGC_API const char *sgc_strerror(int status);

#ifdef __cplusplus
}
#endif

#endif
