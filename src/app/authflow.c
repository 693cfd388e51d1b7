/*
 * authflow.c: the helper state machine of one socket, and the
 * authenticate flow's part of a worker (authflow_module; see authflow.h).
 * Invariants: the timer is pending while the socket is open (auth timeout
 * until authenticated, then the app-level ping interval); claims are set
 * exactly when the state is AUTHFLOW_AUTHENTICATED; until then the socket is
 * in no room and receives nothing but the authentication flow's packets.
 * An authenticated identity with an exp is on the worker's token wheel, due
 * auth.refresh_window before exp (token:expiring), then at exp +
 * auth.jwt.leeway (the end, unless a refresh moved exp).
 *
 * auth.mode: connect verifies while the CONNECT waits (the sio layer lets
 * this handler answer it): a refusal is a CONNECT_ERROR {"message"} (what
 * io.use() middleware sends), an acceptance the CONNECT and then exactly
 * what an accepted authenticate sends.
 */
#include "app/authflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/auth_http.h"
#include "app/auth_jwt.h"
#include "app/auth_throttle.h"
#include "app/forward.h"
#include "app/lifecycle.h"
#include "app/room_check.h"
#include "core/auth_fail.h"
#include "core/clock.h"
#include "core/json_js.h"
#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"
#include "proto/http.h"
#include "proto/room_rules.h"
#include "proto/sio_packet.h"
#include "sio/sio.h"

/* The seed's exact messages. */
#define MSG_INVALID_TOKEN "Invalid token to authenticate! Please login again!"
#define MSG_AUTH_FAILED "Failed to authenticate connection! Please login again!"
/* Room names longer than this are refused (they would only bloat the index). */
#define ROOM_NAME_MAX 256

static bool authflow_on_connect(struct sio_socket *sock);
static void verify(struct sio_socket *sock, enum authflow_purpose purpose, const char *token,
		   size_t token_len);
static void deny(struct sio_socket *sock, const char *message, enum sg_close reason,
		 enum auth_fail why);
static void refresh(struct sio_socket *sock, const struct sio_packet *p);
static void verify_jwt(struct sio_socket *sock, const char *token, size_t len, bool may_wait);
static bool key_wait(struct sio_socket *sock, const char *token, size_t len);
static void key_wait_drop(struct sio_socket *sock);
static void on_key_wait_timer(evutil_socket_t fd, short what, void *arg);
static void reaccept(struct sio_socket *sock, json_t *claims, const struct sg_strv *granted);
static uint32_t claims_exp(const json_t *claims);
static void schedule_deadline(struct sio_socket *sock);
static void on_deadline(struct wheel_node *n, void *arg);
static void authflow_on_event(struct sio_socket *sock, const struct sio_packet *p,
			      const struct sio_attachment *att, size_t n_att);
static void authflow_on_close(struct sio_socket *sock, enum sg_close reason);
static json_t *authflow_on_persist(struct sio_socket *sock);
static void authflow_on_recovered(struct sio_socket *sock, json_t *kept);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void set_state(struct sio_socket *sock, enum authflow_state st);
static bool flood_admit(struct sio_socket *sock);
static void authenticate(struct sio_socket *sock);
static void accept_client(struct sio_socket *sock, json_t *claims, const struct sg_strv *rooms);
static void on_verified(struct sio_socket *sock, const struct auth_result *r);
static void throttle_end(struct sio_socket *sock, bool failed);
static void refuse_client(struct sio_socket *sock, const char *message, enum sg_close reason,
			  enum auth_fail why);
static enum auth_fail jwt_fail(enum jwt_status st);
static void send_ping(struct sio_socket *sock);
static void send_with_time(struct sio_socket *sock, const char *event, const char *extra);
static int find_token(struct sio_socket *sock, struct sg_buf *token);
static void on_join(struct sio_socket *sock, const struct sio_packet *p);
static void authflow_join(struct sio_socket *sock, json_t *rooms, const json_t *allowed,
			  int64_t ack_id);
static void on_leave(struct sio_socket *sock, const struct sio_packet *p);
static json_t *rooms_argument(const struct sio_packet *p);
static void send_ack_json(struct sio_socket *sock, int64_t id, json_t *value);

/* What runs on the daemon's sockets. */
static const struct sio_handler authflow_handler = {
	.socket_size = sizeof(struct authflow_socket),
	.on_connect = authflow_on_connect,
	.on_event = authflow_on_event,
	.on_close = authflow_on_close,
	.on_persist = authflow_on_persist,
	.on_recovered = authflow_on_recovered,
};

/* A new or recovered socket: unauthorized, a full flood bucket, its timer
 * made (not armed). */
static void flow_start(struct sio_socket *sock)
{
	struct worker *w = sock->nsp->w;

	authflow_of(sock)->state = AUTHFLOW_UNAUTHORIZED;
	w->stats.sockets_by_state[AUTHFLOW_UNAUTHORIZED]++;
	sock->flood_tokens = (int32_t)(w->cfg->limits.burst * 1000);
	sock->flood_refill_ms = (uint32_t)sg_mono_ms();
	authflow_of(sock)->timer = event_new(w->base, -1, 0, on_timer, sock);
}

static bool authflow_on_connect(struct sio_socket *sock)
{
	struct worker *w = sock->nsp->w;

	flow_start(sock);
	event_add(authflow_of(sock)->timer, w->tv_auth_timeout);
	if (w->cfg->auth.mode == SG_AUTH_CONNECT) {
		/* the CONNECT waits for the verdict (which may come at once) */
		verify(sock, AUTHFLOW_FOR_CONNECT, NULL, 0);
		return true;
	}
	lifecycle_publish(sock, LIFECYCLE_CONNECTED, NULL, NULL);
	authflow_log(SG_LOG_DEBUG, sock, NULL, "socket connected");
	return false;
}

/* Connection state recovery keeps the verified identity of an
 * authenticated socket (and nothing for one that was not). */
static json_t *authflow_on_persist(struct sio_socket *sock)
{
	struct authflow *f = authflow_of(sock);

	if (f->state != AUTHFLOW_AUTHENTICATED || f->claims == NULL)
		return NULL;
	return json_incref(f->claims);
}

/* A socket recovered its session: authenticated again with the kept
 * identity, without a second authenticate, unless that identity expired
 * meanwhile (then it is recovered unauthenticated, and authenticates as a
 * new socket does within auth.timeout). */
static void authflow_on_recovered(struct sio_socket *sock, json_t *kept)
{
	struct worker *w = sock->nsp->w;
	struct authflow *f = authflow_of(sock);
	uint32_t exp = kept ? claims_exp(kept) : 0;

	flow_start(sock);
	if (kept != NULL &&
	    (exp == 0 || (int64_t)exp * 1000 + w->cfg->auth.jwt.leeway_ms >= sg_now_ms())) {
		set_state(sock, AUTHFLOW_AUTHENTICATED);
		f->claims = kept;
		f->exp = exp;
		event_add(f->timer, w->tv_app_ping);
		schedule_deadline(sock);
	} else {
		json_decref(kept);
		event_add(f->timer, w->tv_auth_timeout);
	}
	lifecycle_publish(sock, LIFECYCLE_RECOVERED, NULL, NULL);
	authflow_log(SG_LOG_DEBUG, sock, NULL, "socket recovered (%s)",
		     authflow_state_name((enum authflow_state)f->state));
}

/* limits.events_per_second as a token bucket of depth limits.burst, kept
 * in thousandths of an event so it fits two 32-bit fields per socket. */
static bool flood_admit(struct sio_socket *sock)
{
	const struct sg_config *cfg = sock->nsp->w->cfg;
	uint32_t now = (uint32_t)sg_mono_ms();
	int64_t cap = (int64_t)cfg->limits.burst * 1000;
	int64_t tokens;

	if (cfg->limits.events_per_second == 0)
		return true;
	tokens = sock->flood_tokens +
		 (int64_t)(uint32_t)(now - sock->flood_refill_ms) * cfg->limits.events_per_second;
	if (tokens > cap)
		tokens = cap;
	sock->flood_refill_ms = now;
	if (tokens < 1000) {
		sock->flood_tokens = (int32_t)tokens;
		return false;
	}
	sock->flood_tokens = (int32_t)(tokens - 1000);
	return true;
}

/* Moves the state, keeping the per-state gauge of /metrics right. */
static void set_state(struct sio_socket *sock, enum authflow_state st)
{
	struct worker_stats *stats = &sock->nsp->w->stats;

	stats->sockets_by_state[authflow_of(sock)->state]--;
	stats->sockets_by_state[st]++;
	authflow_of(sock)->state = st;
	/* until authenticated a client receives nothing but the flow's packets */
	sock->broadcasts = st == AUTHFLOW_AUTHENTICATED;
}

static void authflow_on_close(struct sio_socket *sock, enum sg_close reason)
{
	sock->nsp->w->stats.sockets_by_state[authflow_of(sock)->state]--;
	if (authflow_of(sock)->verifying) {
		auth_http_cancel(authflow_of(sock)->verifying);
		authflow_of(sock)->verifying = NULL;
		/* leaving before the verdict counts as failing: else a client
		 * could have tokens verified for free by hanging up at once */
		throttle_end(sock, true);
	}
	wheel_del(sock->nsp->w->token_wheel, &authflow_of(sock)->deadline);
	if (authflow_of(sock)->key_waiting) {
		key_wait_drop(sock);
		throttle_end(sock, true); /* as a client leaving before the verdict */
	}
	/* a CONNECT refused (auth.mode: connect) was never a connected socket */
	if (sock->connected)
		lifecycle_publish(sock, LIFECYCLE_DISCONNECTED, NULL, sg_close_text(reason));
	authflow_log(SG_LOG_DEBUG, sock, sg_close_text(reason), "socket disconnected: %s",
		     sg_close_text(reason));
	if (authflow_of(sock)->timer) {
		event_free(authflow_of(sock)->timer);
		authflow_of(sock)->timer = NULL;
	}
	if (authflow_of(sock)->claims) {
		json_decref(authflow_of(sock)->claims);
		authflow_of(sock)->claims = NULL;
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sio_socket *sock = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	if (sock->closing)
		return;
	if (authflow_of(sock)->state != AUTHFLOW_AUTHENTICATED) {
		authflow_log(SG_LOG_DEBUG, sock, NULL, "not authenticated in time");
		if (!sock->connected) /* a CONNECT still waiting on its verifier */
			deny(sock, MSG_AUTH_FAILED, SG_CLOSE_AUTH_TIMEOUT,
			     AUTH_FAIL_VERIFIER_TIMEOUT);
		else
			sio_socket_disconnect(sock, SG_CLOSE_AUTH_TIMEOUT);
		return;
	}
	send_ping(sock);
	event_add(authflow_of(sock)->timer, sock->nsp->w->tv_app_ping);
}

/* Sends ["event",{"time":"<iso>"<extra>}]. */
static void send_with_time(struct sio_socket *sock, const char *event, const char *extra)
{
	char when[32];
	struct sg_buf b;

	sg_time_iso(when, sg_now_ms());
	sg_buf_init(&b);
	sg_buf_printf(&b, "[\"%s\",{%s\"time\":\"%s\"}]", event, extra ? extra : "", when);
	sio_socket_send_event(sock, b.data, b.len);
	sg_buf_fini(&b);
}

static void send_ping(struct sio_socket *sock)
{
	send_with_time(sock, "ping", NULL);
}

static void authflow_on_event(struct sio_socket *sock, const struct sio_packet *p,
			      const struct sio_attachment *att, size_t n_att)
{
	struct worker *w = sock->nsp->w;
	const char *name = sio_event_name(p);

	/* Attachments matter to no helper event; forwarding will use them. */
	SG_UNUSED(att);
	SG_UNUSED(n_att);
	if (!flood_admit(sock)) {
		w->stats.events_flood++;
		if (w->cfg->limits.on_flood == SG_FLOOD_DISCONNECT) {
			authflow_log(SG_LOG_DEBUG, sock, NULL, "over limits.events_per_second");
			sio_socket_disconnect(sock, SG_CLOSE_FLOOD);
		}
		return;
	}
	if (name != NULL && strcmp(name, "authenticate") == 0) {
		if (authflow_of(sock)->state == AUTHFLOW_UNAUTHORIZED)
			authenticate(sock);
		else if (authflow_of(sock)->state == AUTHFLOW_AUTHENTICATED)
			refresh(sock, p);
		return;
	}
	if (authflow_of(sock)->state != AUTHFLOW_AUTHENTICATED || name == NULL) {
		w->stats.events_dropped++;
		return;
	}
	if (strcmp(name, "join") == 0)
		on_join(sock, p);
	else if (strcmp(name, "leave") == 0)
		on_leave(sock, p);
	else if (!forward_event(sock, p))
		w->stats.events_dropped++; /* no events.forward rule takes it */
}

/* The token, from the first source of auth.jwt.token_from that has one. */
static int find_token(struct sio_socket *sock, struct sg_buf *token)
{
	const struct sg_config *cfg = sock->nsp->w->cfg;
	struct http_request req;
	bool have_req = eio_session_request(sock->eio, &req) == 0;

	for (size_t i = 0; i < cfg->auth.jwt.n_token_from; i++) {
		switch (cfg->auth.jwt.token_from[i]) {
		case SG_TOKEN_HEADER: {
			const struct http_header *h =
				have_req ? http_request_header(&req, "authorization") : NULL;
			if (h && h->value_len > 7 && strncasecmp(h->value, "Bearer ", 7) == 0) {
				sg_buf_append(token, h->value + 7, h->value_len - 7);
				return 0;
			}
			break;
		}
		case SG_TOKEN_AUTH: {
			json_t *auth = sock->auth ? json_loads(sock->auth, 0, NULL) : NULL;
			json_t *t = json_object_get(auth, "token");
			bool found = json_is_string(t);
			if (found)
				sg_buf_append(token, json_string_value(t), json_string_length(t));
			json_decref(auth);
			if (found)
				return 0;
			break;
		}
		case SG_TOKEN_QUERY:
			if (have_req &&
			    http_query_get(req.query, req.query_len, "token", token) == 1)
				return 0;
			sg_buf_reset(token);
			break;
		}
	}
	return -1;
}

/* The failure reason of /metrics for a JWT that does not verify. */
static enum auth_fail jwt_fail(enum jwt_status st)
{
	static const enum auth_fail by_status[] = {
		[JWT_ERR_MALFORMED] = AUTH_FAIL_MALFORMED,
		[JWT_ERR_ALG] = AUTH_FAIL_ALGORITHM,
		[JWT_ERR_KEY] = AUTH_FAIL_NO_KEY,
		[JWT_ERR_SIGNATURE] = AUTH_FAIL_BAD_SIGNATURE,
		[JWT_ERR_EXPIRED] = AUTH_FAIL_EXPIRED,
		[JWT_ERR_NOT_YET_VALID] = AUTH_FAIL_NOT_YET_VALID,
		[JWT_ERR_ISSUER] = AUTH_FAIL_ISSUER,
		[JWT_ERR_AUDIENCE] = AUTH_FAIL_AUDIENCE,
	};

	if (st == JWT_OK || (size_t)st >= SG_ARRAY_LEN(by_status))
		return AUTH_FAIL_MALFORMED;
	return by_status[st];
}

static void authenticate(struct sio_socket *sock)
{
	verify(sock, AUTHFLOW_FOR_CHALLENGE, NULL, 0);
}

/* A refresh: authenticate {"token": "..."} from an authenticated client
 * (one at a time; without a token string it is ignored, as the seed
 * ignored a second authenticate). */
static void refresh(struct sio_socket *sock, const struct sio_packet *p)
{
	json_t *arg = json_array_get(p->data, 1);
	json_t *token = json_is_object(arg) ? json_object_get(arg, "token") : NULL;

	if (!json_is_string(token) || json_string_length(token) == 0 ||
	    authflow_of(sock)->verifying != NULL || authflow_of(sock)->key_waiting) {
		sock->nsp->w->stats.events_dropped++;
		return;
	}
	verify(sock, AUTHFLOW_FOR_REFRESH, json_string_value(token), json_string_length(token));
}

/* Verifies the client for purpose: with the given token (a refresh's), or
 * the one found in auth.jwt.token_from's sources.  The verdict comes now
 * (JWT) or from the event loop (HTTP), through accept/deny below. */
static void verify(struct sio_socket *sock, enum authflow_purpose purpose, const char *given,
		   size_t given_len)
{
	struct worker *w = sock->nsp->w;
	struct sg_buf token;
	bool have;

	authflow_of(sock)->purpose = (uint8_t)purpose;
	if (purpose != AUTHFLOW_FOR_REFRESH)
		set_state(sock, AUTHFLOW_AUTHENTICATING);
	/* an address over limits.auth_failures_per_minute is refused before
	 * any verifier runs */
	authflow_of(sock)->throttle =
		auth_throttle_begin(w->throttle, w->cfg, sock->eio->addr, sg_mono_ms());
	if (authflow_of(sock)->throttle == THROTTLE_REFUSED) {
		w->stats.auth_throttled++;
		deny(sock, MSG_INVALID_TOKEN, SG_CLOSE_AUTH_THROTTLED, AUTH_FAIL_THROTTLED);
		return;
	}
	sg_buf_init(&token);
	if (given != NULL) {
		sg_buf_append(&token, given, given_len);
		have = true;
	} else {
		have = find_token(sock, &token) == 0;
	}
	if (w->cfg->auth.verifier == SG_VERIFIER_HTTP) {
		struct sg_err err = { 0 };
		struct sg_buf auth;

		if (w->auth_http == NULL && (w->auth_http = auth_http_new(w, &err)) == NULL) {
			log_error("auth.http: %s", err.msg);
			sg_buf_fini(&token);
			throttle_end(sock, false);
			deny(sock, MSG_AUTH_FAILED, SG_CLOSE_AUTH_FAILED, AUTH_FAIL_VERIFIER_ERROR);
			return;
		}
		/* a refresh shows the verifier the new token as the handshake's
		 * auth; the token also names the client for coalescing and the
		 * cache */
		sg_buf_init(&auth);
		if (given != NULL) {
			sg_buf_append_str(&auth, "{\"token\":");
			json_js_string(&auth, given, given_len);
			sg_buf_append_char(&auth, '}');
		}
		authflow_of(sock)->verifying =
			auth_http_verify(w->auth_http, sock, have ? token.data : NULL,
					 given != NULL ? auth.data : NULL, on_verified);
		sg_buf_fini(&auth);
		sg_buf_fini(&token);
		return;
	}
	if (!have) {
		sg_buf_fini(&token);
		throttle_end(sock, true);
		deny(sock, MSG_INVALID_TOKEN, SG_CLOSE_AUTH_REJECTED, AUTH_FAIL_NO_TOKEN);
		return;
	}
	verify_jwt(sock, token.data, token.len, true);
	sg_buf_fini(&token);
}

/* The JWT verdict on token.  A token whose kid the issuer's key set lacks
 * may wait (may_wait) for the fetch it asks for: the socket is parked on
 * the worker's list of key waits and verified again when a fetch ends. */
static void verify_jwt(struct sio_socket *sock, const char *token, size_t len, bool may_wait)
{
	struct worker *w = sock->nsp->w;
	json_t *claims = NULL;
	enum jwt_status st;
	int64_t started = sg_mono_ns();

	st = jwt_verify(w->jwt, token, len, sg_now_ms(), &claims);
	hist_observe_since(&w->stats.verify, started);
	if (st == JWT_ERR_KEY && may_wait && jwt_unknown_kid(w->jwt, token, len) &&
	    key_wait(sock, token, len))
		return;
	throttle_end(sock, st != JWT_OK);
	if (st != JWT_OK) {
		deny(sock, MSG_INVALID_TOKEN, SG_CLOSE_AUTH_REJECTED, jwt_fail(st));
		return;
	}
	accept_client(sock, claims, NULL);
}

/* ---- tokens waiting for the issuer's keys ----------------------------- */

/* A verification parked until the key set is fetched again. */
struct key_wait {
	struct key_wait *next;
	struct sio_socket *sock;
	uint64_t attempts; /* the fetches finished when it was parked */
	int64_t deadline_ms;
	size_t len;
	char token[];
};

/* How long a token waits for a fetch at most, and how often the waits are
 * looked at. */
#define KEY_WAIT_MAX_MS 10000
#define KEY_WAIT_POLL_MS 50

static bool key_wait(struct sio_socket *sock, const char *token, size_t len)
{
	struct worker *w = sock->nsp->w;
	struct jwt_remote *r = jwt_verifier_remote(w->jwt);
	struct key_wait *kw;
	struct timeval tv = { 0, KEY_WAIT_POLL_MS * 1000 };

	if (r == NULL || !jwt_remote_want_kid(r, sg_mono_ms()))
		return false; /* a fetch was made too recently: the kid is unknown */
	kw = sg_malloc(sizeof(*kw) + len + 1);
	kw->sock = sock;
	kw->attempts = jwt_remote_attempts(r);
	kw->deadline_ms = sg_mono_ms() + KEY_WAIT_MAX_MS;
	kw->len = len;
	memcpy(kw->token, token, len);
	kw->token[len] = '\0';
	kw->next = w->key_waits;
	w->key_waits = kw;
	authflow_of(sock)->key_waiting = true;
	if (!event_pending(w->key_wait_timer, EV_TIMEOUT, NULL))
		event_add(w->key_wait_timer, &tv);
	return true;
}

/* Takes sock's wait off the list (its close, or its turn). */
static void key_wait_drop(struct sio_socket *sock)
{
	struct worker *w = sock->nsp->w;

	for (struct key_wait **pp = &w->key_waits; *pp; pp = &(*pp)->next) {
		if ((*pp)->sock == sock) {
			struct key_wait *kw = *pp;
			*pp = kw->next;
			free(kw);
			break;
		}
	}
	authflow_of(sock)->key_waiting = false;
}

/* The waits whose fetch ended (or that waited too long) are verified
 * again, this time without waiting. */
static void on_key_wait_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct jwt_remote *r = jwt_verifier_remote(w->jwt);
	uint64_t attempts = r ? jwt_remote_attempts(r) : UINT64_MAX;
	int64_t now = sg_mono_ms();
	struct key_wait *ready = NULL, **pp = &w->key_waits;
	struct timeval tv = { 0, KEY_WAIT_POLL_MS * 1000 };

	SG_UNUSED(fd);
	SG_UNUSED(what);
	while (*pp) {
		struct key_wait *kw = *pp;
		if (attempts != kw->attempts || now >= kw->deadline_ms) {
			*pp = kw->next;
			kw->next = ready;
			ready = kw;
		} else {
			pp = &kw->next;
		}
	}
	while (ready) {
		struct key_wait *kw = ready;
		ready = kw->next;
		authflow_of(kw->sock)->key_waiting = false;
		if (!kw->sock->closing)
			verify_jwt(kw->sock, kw->token, kw->len, false);
		free(kw);
	}
	if (w->key_waits != NULL)
		event_add(w->key_wait_timer, &tv);
}

/* Tells the address's failure bucket how the attempt begun in
 * authenticate() ended. */
static void throttle_end(struct sio_socket *sock, bool failed)
{
	struct worker *w = sock->nsp->w;

	auth_throttle_end(w->throttle, w->cfg, sock->eio->addr, sg_mono_ms(),
			  (enum throttle_admit)authflow_of(sock)->throttle, failed);
}

/* The HTTP verifier's verdict (the socket is still here: its close cancels
 * the wait). */
static void on_verified(struct sio_socket *sock, const struct auth_result *r)
{
	authflow_of(sock)->verifying = NULL;
	/* a refusal is the client's failure; the verifier's own trouble is not */
	throttle_end(sock, r->verdict == AUTH_REJECTED);
	switch (r->verdict) {
	case AUTH_ACCEPTED:
		accept_client(sock, json_incref(r->claims), r->rooms);
		break;
	case AUTH_REJECTED:
		deny(sock, r->message ? r->message : MSG_INVALID_TOKEN, SG_CLOSE_AUTH_REJECTED,
		     r->fail);
		break;
	case AUTH_FAILED:
		deny(sock, MSG_AUTH_FAILED, SG_CLOSE_AUTH_FAILED, r->fail);
		break;
	}
}

/* The identity's exp claim as unix seconds (0: none). */
static uint32_t claims_exp(const json_t *claims)
{
	const json_t *v = json_object_get(claims, "exp");
	double e = json_is_number(v) ? json_number_value(v) : 0;

	if (!(e > 0))
		return 0;
	return e >= 4294967295.0 ? UINT32_MAX : (uint32_t)e;
}

static void accept_client(struct sio_socket *sock, json_t *claims, const struct sg_strv *rooms)
{
	struct worker *w = sock->nsp->w;
	const struct sg_strv *defaults = &w->cfg->rooms.default_rooms;
	char extra[64];
	uint32_t exp = claims_exp(claims);

	if (exp != 0 && (int64_t)exp * 1000 + w->cfg->auth.jwt.leeway_ms < sg_now_ms()) {
		json_decref(claims); /* a cached verdict outlived its identity */
		deny(sock, MSG_INVALID_TOKEN, SG_CLOSE_AUTH_REJECTED, AUTH_FAIL_EXPIRED);
		return;
	}
	if (authflow_of(sock)->purpose == AUTHFLOW_FOR_REFRESH) {
		authflow_of(sock)->exp = exp;
		reaccept(sock, claims, rooms);
		return;
	}
	if (authflow_of(sock)->purpose == AUTHFLOW_FOR_CONNECT) {
		sio_socket_accept(sock);
		lifecycle_publish(sock, LIFECYCLE_CONNECTED, NULL, NULL);
	}
	set_state(sock, AUTHFLOW_AUTHENTICATED);
	authflow_of(sock)->claims = claims;
	authflow_of(sock)->exp = exp;
	w->stats.auth_accepted++;
	send_ping(sock);
	for (size_t i = 0; i < defaults->n; i++)
		(void)rooms_join(&sock->nsp->rooms, sock, &sock->rooms, defaults->v[i]);
	/* rooms the verifier grants, never another socket's id room */
	for (size_t i = 0; rooms && i < rooms->n; i++)
		if (!sio_nsp_id_taken(sock->nsp, rooms->v[i], strlen(rooms->v[i])) &&
		    sock->rooms.n < w->cfg->rooms.max_per_client)
			(void)rooms_join(&sock->nsp->rooms, sock, &sock->rooms, rooms->v[i]);
	snprintf(extra, sizeof(extra), "\"id\":\"%s\",", sock->id);
	send_with_time(sock, "authenticated", extra);
	event_del(authflow_of(sock)->timer);
	event_add(authflow_of(sock)->timer, w->tv_app_ping);
	lifecycle_publish(sock, LIFECYCLE_AUTHENTICATED, NULL, NULL);
	authflow_log(SG_LOG_DEBUG, sock, NULL, "authenticated");
	authflow_of(sock)->warned = false;
	schedule_deadline(sock);
}

/* A refresh verified: the same user with new claims and a new exp.  The
 * rooms the new claims no longer allow are left (the default rooms and
 * those the verifier grants stay; with rooms.http, which decides joins
 * itself, nothing is re-checked). */
static void reaccept(struct sio_socket *sock, json_t *claims, const struct sg_strv *granted)
{
	struct worker *w = sock->nsp->w;
	const struct sg_config *cfg = w->cfg;
	const char *was = authflow_user(sock);
	const json_t *sub = json_object_get(claims, "sub");
	struct sg_strv drop = { 0 }, left = { 0 };
	char extra[64];

	if ((was != NULL) != json_is_string(sub) ||
	    (was != NULL && strcmp(was, json_string_value(sub)) != 0)) {
		/* a refresh renews an identity; it does not change the user */
		json_decref(claims);
		deny(sock, MSG_INVALID_TOKEN, SG_CLOSE_AUTH_REJECTED, AUTH_FAIL_USER_CHANGED);
		return;
	}
	json_decref(authflow_of(sock)->claims);
	authflow_of(sock)->claims = claims;
	authflow_of(sock)->warned = false;
	w->stats.token_refreshed++;
	if (cfg->rooms.http.url == NULL) {
		for (size_t i = 0; i < sock->rooms.n; i++) {
			const char *room = sock->rooms.v[i].room->name;
			if (strcmp(room, sock->id) == 0 ||
			    sg_strv_contains(&cfg->rooms.default_rooms, room) ||
			    (granted != NULL && sg_strv_contains(granted, room)) ||
			    room_rules_allow(&cfg->rooms.allow, room, claims))
				continue;
			sg_strv_push(&drop, room);
		}
		for (size_t i = 0; i < drop.n; i++)
			if (rooms_leave(&sock->nsp->rooms, sock, &sock->rooms, drop.v[i]) == 1)
				sg_strv_push(&left, drop.v[i]);
	}
	snprintf(extra, sizeof(extra), "\"id\":\"%s\",", sock->id);
	send_with_time(sock, "authenticated", extra);
	if (left.n > 0)
		lifecycle_publish(sock, LIFECYCLE_LEFT, &left, NULL);
	authflow_log(SG_LOG_DEBUG, sock, NULL, "token refreshed (%zu rooms left)", left.n);
	sg_strv_free(&drop);
	sg_strv_free(&left);
	schedule_deadline(sock);
}

/* Puts the socket's next token deadline on the wheel: the warning
 * (auth.refresh_window before exp, once), then the end (exp +
 * auth.jwt.leeway).  Wall-clock deadlines become monotonic here. */
static void schedule_deadline(struct sio_socket *sock)
{
	struct worker *w = sock->nsp->w;
	struct authflow *f = authflow_of(sock);
	int64_t at;

	if (f->exp == 0) {
		wheel_del(w->token_wheel, &f->deadline);
		return;
	}
	at = (int64_t)f->exp * 1000;
	if (!f->warned && w->cfg->auth.refresh_window_ms > 0)
		at -= w->cfg->auth.refresh_window_ms;
	else
		at += w->cfg->auth.jwt.leeway_ms;
	wheel_add(w->token_wheel, &f->deadline, sg_mono_ms() + (at - sg_now_ms()));
}

/* A socket's token deadline came: warn, or end it. */
static void on_deadline(struct wheel_node *n, void *arg)
{
	struct authflow *f = sg_container_of(n, struct authflow, deadline);
	struct authflow_socket *as = sg_container_of(f, struct authflow_socket, flow);
	struct sio_socket *sock = &as->sock;
	struct worker *w = arg;
	int64_t now = sg_now_ms();
	char extra[40];

	if (sock->closing || f->state != AUTHFLOW_AUTHENTICATED || f->exp == 0)
		return;
	if (now >= (int64_t)f->exp * 1000 + w->cfg->auth.jwt.leeway_ms) {
		/* a refresh still being verified decides instead */
		if (f->verifying != NULL || f->key_waiting)
			return;
		w->stats.token_expired++;
		authflow_log(SG_LOG_DEBUG, sock, NULL, "token expired");
		refuse_client(sock, MSG_INVALID_TOKEN, SG_CLOSE_TOKEN_EXPIRED, AUTH_FAIL__COUNT);
		return;
	}
	if (!f->warned && w->cfg->auth.refresh_window_ms > 0 &&
	    now >= (int64_t)f->exp * 1000 - w->cfg->auth.refresh_window_ms) {
		f->warned = true;
		w->stats.token_expiring++;
		snprintf(extra, sizeof(extra), "[\"token:expiring\",{\"exp\":%lu}]",
			 (unsigned long)f->exp);
		sio_socket_send_event(sock, extra, strlen(extra));
	}
	schedule_deadline(sock);
}

/* A verification said no (or could not say): a CONNECT still waiting is
 * refused with CONNECT_ERROR {"message"}, as io.use() middleware would;
 * a connected client hears unauthenticated and is disconnected. */
static void deny(struct sio_socket *sock, const char *message, enum sg_close reason,
		 enum auth_fail why)
{
	struct worker *w = sock->nsp->w;
	struct sg_buf data;

	if (authflow_of(sock)->purpose == AUTHFLOW_FOR_REFRESH)
		w->stats.token_refresh_refused++;
	if (sock->connected) {
		refuse_client(sock, message, reason, why);
		return;
	}
	if (reason == SG_CLOSE_AUTH_FAILED)
		w->stats.auth_failed++;
	else
		w->stats.auth_rejected++;
	w->stats.auth_failures[why]++;
	authflow_log(SG_LOG_DEBUG, sock, auth_fail_name(why), "CONNECT refused: %s",
		     auth_fail_name(why));
	set_state(sock, AUTHFLOW_UNAUTHORIZED);
	sg_buf_init(&data);
	sg_buf_append_str(&data, "{\"message\":");
	json_js_string(&data, message, strlen(message));
	sg_buf_append_char(&data, '}');
	sio_socket_refuse(sock, data.data, data.len, reason);
	sg_buf_fini(&data);
}

static void refuse_client(struct sio_socket *sock, const char *message, enum sg_close reason,
			  enum auth_fail why)
{
	struct worker *w = sock->nsp->w;
	struct sg_buf extra;

	/* an expiry is not an authentication that failed (why: none) */
	if (why == AUTH_FAIL__COUNT)
		;
	else if (reason == SG_CLOSE_AUTH_FAILED)
		w->stats.auth_failed++;
	else
		w->stats.auth_rejected++;
	if (why != AUTH_FAIL__COUNT)
		w->stats.auth_failures[why]++;
	if (why != AUTH_FAIL__COUNT)
		authflow_log(SG_LOG_DEBUG, sock, auth_fail_name(why), "not authenticated: %s",
			     auth_fail_name(why));
	set_state(sock, AUTHFLOW_UNAUTHORIZED);
	sg_buf_init(&extra);
	sg_buf_append_str(&extra, "\"message\":");
	json_js_string(&extra, message, strlen(message));
	sg_buf_append_char(&extra, ',');
	/* The event is queued before the DISCONNECT and the close, and the
	 * close waits for the output to be written: it always reaches the
	 * client (the seed loses it in a race). */
	send_with_time(sock, "unauthenticated", extra.data);
	sg_buf_fini(&extra);
	sio_socket_disconnect(sock, reason);
}

void authflow_revoke(struct sio_socket *sock)
{
	if (!sock->closing)
		refuse_client(sock, MSG_INVALID_TOKEN, SG_CLOSE_REVOKED, AUTH_FAIL__COUNT);
}

/* The rooms array of a join/leave payload {rooms: [...]}, or NULL. */
static json_t *rooms_argument(const struct sio_packet *p)
{
	json_t *arg = json_array_get(p->data, 1);
	json_t *rooms = json_is_object(arg) ? json_object_get(arg, "rooms") : NULL;

	return json_is_array(rooms) ? rooms : NULL;
}

static void send_ack_json(struct sio_socket *sock, int64_t id, json_t *value)
{
	json_t *args = json_pack("[O]", value);
	char *text = json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY);

	if (text != NULL) {
		sio_socket_send_ack(sock, id, text, strlen(text));
		free(text);
	}
	json_decref(args);
}

static void on_join(struct sio_socket *sock, const struct sio_packet *p)
{
	json_t *rooms = rooms_argument(p);

	if (sock->nsp->w->cfg->rooms.http.url != NULL) {
		/* rooms.http decides instead of the rules, asynchronously */
		room_check_start(sock, rooms ? rooms : json_array(), p->id, rooms == NULL,
				 authflow_join);
		return;
	}
	authflow_join(sock, rooms, NULL, p->id);
}

/* Joins what may be joined of rooms (an array of names; borrowed): names
 * that are strings of a sane length and not another socket's id, that
 * `allowed` lists (the room validator's answer) or, when it is NULL, that
 * rooms.allow permits, within rooms.max_per_client.  Acks {rooms,
 * rejected} when ack_id >= 0. */
/* Joins sock to the rooms (an array, the caller's reference) that the room
 * rules allow, and that allowed (the validator's answer, or NULL: no
 * validator) lists; acks {rooms, rejected} when ack_id >= 0.  Also the room
 * validator's completion (room_check_start). */
static void authflow_join(struct sio_socket *sock, json_t *rooms, const json_t *allowed,
			  int64_t ack_id)
{
	struct worker *w = sock->nsp->w;
	const struct sg_config *cfg = w->cfg;
	json_t *joined = json_array(), *rejected = json_array();
	struct sg_strv names = { 0 };
	size_t i, k;
	json_t *v, *a;

	json_array_foreach(rooms, i, v)
	{
		const char *room = json_string_value(v);
		size_t len = room ? json_string_length(v) : 0;
		bool ok = room != NULL && len > 0 && len <= ROOM_NAME_MAX && strlen(room) == len &&
			  !sio_nsp_id_taken(sock->nsp, room, len);
		if (ok && allowed != NULL) {
			bool listed = false;
			json_array_foreach(allowed, k, a) listed =
				listed ||
				(json_is_string(a) && strcmp(json_string_value(a), room) == 0);
			ok = listed;
		} else if (ok) {
			ok = room_rules_allow(&cfg->rooms.allow, room, authflow_of(sock)->claims);
		}
		if (ok && !room_set_has(&sock->rooms, room) &&
		    sock->rooms.n >= cfg->rooms.max_per_client)
			ok = false;
		if (ok) {
			if (rooms_join(&sock->nsp->rooms, sock, &sock->rooms, room) == 1)
				sg_strv_push(&names, room);
			json_array_append(joined, v);
		} else {
			w->stats.joins_refused++;
			json_array_append(rejected, v);
		}
	}
	if (ack_id >= 0) {
		json_t *ack = json_pack("{s:O,s:O}", "rooms", joined, "rejected", rejected);
		send_ack_json(sock, ack_id, ack);
		json_decref(ack);
	}
	if (names.n > 0)
		lifecycle_publish(sock, LIFECYCLE_JOINED, &names, NULL);
	sg_strv_free(&names);
	json_decref(joined);
	json_decref(rejected);
}

static void on_leave(struct sio_socket *sock, const struct sio_packet *p)
{
	json_t *rooms = rooms_argument(p);
	json_t *left = json_array();
	struct sg_strv names = { 0 };
	size_t i;
	json_t *v;

	json_array_foreach(rooms, i, v)
	{
		const char *room = json_string_value(v);
		if (room != NULL && strcmp(room, sock->id) != 0 &&
		    rooms_leave(&sock->nsp->rooms, sock, &sock->rooms, room) == 1) {
			json_array_append(left, v);
			sg_strv_push(&names, room);
		}
	}
	if (names.n > 0)
		lifecycle_publish(sock, LIFECYCLE_LEFT, &names, NULL);
	sg_strv_free(&names);
	if (p->id >= 0) {
		json_t *ack = json_pack("{s:O}", "rooms", left);
		send_ack_json(sock, p->id, ack);
		json_decref(ack);
	}
	json_decref(left);
}

/* ---- the authenticate flow's part of a worker ------------------------- */

/* The timeout queues of reloadable durations (auth.timeout). */
static int authflow_apply_config(struct worker *w)
{
	const struct timeval *auth = worker_common_timeout(w->base, w->cfg->auth.timeout_ms);

	if (auth == NULL)
		return -1;
	w->tv_auth_timeout = auth;
	return 0;
}

/* The token wheel turns every TOKEN_TICK_MS: a token ends within that of
 * exp + auth.jwt.leeway. */
#define TOKEN_TICK_MS 250

static int authflow_init(struct worker *w)
{
	w->handler = &authflow_handler;
	w->token_wheel = wheel_new(w->base, TOKEN_TICK_MS, on_deadline, w);
	w->key_wait_timer = event_new(w->base, -1, 0, on_key_wait_timer, w);
	if (w->token_wheel == NULL || w->key_wait_timer == NULL)
		return -1;
	w->tv_app_ping = worker_common_timeout(w->base, w->cfg->ping.interval_ms);
	if (w->tv_app_ping == NULL)
		return -1;
	return authflow_apply_config(w);
}

static void authflow_fini(struct worker *w)
{
	auth_http_free(w->auth_http);
	w->auth_http = NULL;
	forward_fini(w);
	room_check_fini(w);
	wheel_free(w->token_wheel);
	w->token_wheel = NULL;
	while (w->key_waits != NULL) {
		struct key_wait *kw = w->key_waits;
		w->key_waits = kw->next;
		free(kw);
	}
	if (w->key_wait_timer != NULL)
		event_free(w->key_wait_timer);
	w->key_wait_timer = NULL;
}

const struct worker_module authflow_module = {
	.name = "authenticate flow",
	.init = authflow_init,
	.apply_config = authflow_apply_config,
	.fini = authflow_fini,
};
