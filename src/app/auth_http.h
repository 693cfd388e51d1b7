/*
 * auth_http.h: the HTTP verifier (auth.verifier: http, SPEC.md section 3):
 * the handshake goes as the seed's IHandshake JSON in a POST to
 * auth.http.url; a 2xx {"ok":true,"user","claims","rooms"} accepts, a 2xx
 * {"ok":false,"message"} or a 4xx refuses, and a timeout, a refused
 * connection, a 5xx or an answer that is not JSON fail.  Verifications of
 * the same token in flight at once are coalesced into one call, and an
 * accepted verdict may be cached per token for auth.http.cache_ttl, so a
 * reconnect storm does not become a verifier storm.  One per worker; the
 * event loop never waits on the verifier.
 */
#ifndef SG_AUTH_HTTP_H
#define SG_AUTH_HTTP_H

#include <jansson.h>

#include "core/auth_fail.h"
#include "core/common.h"

struct worker;
struct sio_socket;
struct auth_http;
struct auth_http_wait;

enum auth_verdict {
	AUTH_ACCEPTED, /* the verifier said yes */
	AUTH_REJECTED, /* the verifier said no */
	AUTH_FAILED,   /* the verifier could not be asked or answered nonsense */
};

/* The outcome, borrowed for the call: claims (object, may be empty),
 * message (the verifier's refusal text, or NULL), rooms (extra rooms to
 * join, may be empty), and why it is not AUTH_ACCEPTED (AUTH_FAIL_VERIFIER_*). */
struct auth_result {
	enum auth_verdict verdict;
	json_t *claims;
	const char *message;
	const struct sg_strv *rooms;
	enum auth_fail fail;
};

typedef void (*auth_http_cb)(struct sio_socket *sock, const struct auth_result *r);

struct auth_http *auth_http_new(struct worker *w, struct sg_err *err) SG_WUR;
void auth_http_free(struct auth_http *ah);

/* Verifies sock.  key is the token that identifies the client (NULL when
 * there is none: no coalescing, no cache); auth is the handshake's "auth"
 * the verifier receives (JSON text), NULL for the CONNECT payload.  An
 * accepted answer's top-level "exp" (unix seconds) or "expires_in"
 * (seconds) becomes the claims' exp when they have none.  cb is called exactly once,
 * always from the event loop (never inside this call), unless the wait is
 * cancelled first.  Returns the wait handle. */
struct auth_http_wait *auth_http_verify(struct auth_http *ah, struct sio_socket *sock,
					const char *key, const char *auth, auth_http_cb cb);
void auth_http_cancel(struct auth_http_wait *wt);

struct auth_http_stats {
	uint64_t calls;	     /* requests made to the verifier */
	uint64_t coalesced;  /* verifications that joined a call in flight */
	uint64_t cache_hits; /* verifications answered from the cache */
};
void auth_http_get_stats(const struct auth_http *ah, struct auth_http_stats *out);

#endif
