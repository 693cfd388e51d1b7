/*
 * auth_http.c: the HTTP verifier (see auth_http.h).  A flight is one call
 * to the verifier with the sockets waiting on it; the flight owns its
 * waits, and a cancelled wait is unlinked at once, so a flight never calls
 * back a socket that is gone.  Cached verdicts are answered through a
 * zero-delay event, never from inside auth_http_verify().
 */
#include "app/auth_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ihandshake.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/worker.h"
#include "net/http_client.h"
#include "sio/sio.h"

/* Upper bounds: a verifier's answer, and the number of cached verdicts. */
#define AUTH_HTTP_MAX_RESPONSE (64 * 1024)
#define AUTH_HTTP_MAX_CACHE 100000

struct auth_http_wait {
	struct auth_http_wait *next;
	struct flight *flight; /* NULL: answered from the cache */
	struct auth_http *ah;
	struct sio_socket *sock;
	auth_http_cb cb;
	struct event *deliver; /* cache answers */
	struct cached *cached;
};

struct flight {
	struct auth_http *ah;
	struct http_client_req *req;
	struct auth_http_wait *waits;
	int64_t started_ns;
	bool keyed;
	char key[];
};

struct cached {
	int64_t expires_ms;
	json_t *claims;
	struct sg_strv rooms;
	char key[];
};

struct auth_http {
	struct worker *w;
	struct http_client *hc;
	struct hmap flights; /* key -> struct flight */
	struct hmap cache;   /* key -> struct cached */
	struct auth_http_stats stats;
	bool full; /* the last call was refused over auth.http.max_pending */
};

/* The verifier's lifetime for the identity, {"exp": unix seconds} or
 * {"expires_in": seconds}, as the claims' exp (what the flow enforces). */
static void answer_exp(const json_t *doc, json_t *claims)
{
	const json_t *exp = json_object_get(doc, "exp");
	const json_t *in = json_object_get(doc, "expires_in");

	if (json_is_number(exp) && json_number_value(exp) > 0)
		json_object_set(claims, "exp", (json_t *)exp);
	else if (json_is_number(in) && json_number_value(in) >= 0)
		json_object_set_new(
			claims, "exp",
			json_integer(sg_now_ms() / 1000 + (json_int_t)json_number_value(in)));
}

static void on_answer(enum http_client_error e, const struct http_client_response *resp, void *arg);
static void finish_flight(struct flight *f, const struct auth_result *r);
static void on_cached(evutil_socket_t fd, short what, void *arg);
static void cache_put(struct auth_http *ah, const char *key, json_t *claims,
		      const struct sg_strv *rooms);
static void cache_clear(struct auth_http *ah);
static void note_overload(struct auth_http *ah, bool over);

struct auth_http *auth_http_new(struct worker *w, struct sg_err *err)
{
	struct http_client_opts opts = {
		.max_in_flight = w->cfg->auth.http.max_in_flight,
		.max_queued = 100000,
		.max_pending_bytes = w->cfg->auth.http.max_pending,
		.max_idle_per_host = w->cfg->auth.http.max_in_flight,
		.idle_timeout_ms = 30000,
		.max_response_bytes = AUTH_HTTP_MAX_RESPONSE,
	};
	struct auth_http *ah = sg_calloc(1, sizeof(*ah));

	ah->w = w;
	ah->hc = http_client_new(w->base, &opts, err);
	if (ah->hc == NULL) {
		free(ah);
		return NULL;
	}
	hmap_init(&ah->flights);
	hmap_init(&ah->cache);
	return ah;
}

static void cache_clear(struct auth_http *ah)
{
	const struct hmap_entry *e;

	for (size_t i = 0; hmap_next(&ah->cache, &i, &e);) {
		struct cached *c = e->value;
		json_decref(c->claims);
		sg_strv_free(&c->rooms);
		free(c);
	}
	hmap_fini(&ah->cache);
	hmap_init(&ah->cache);
}

void auth_http_free(struct auth_http *ah)
{
	const struct hmap_entry *e;

	if (ah == NULL)
		return;
	http_client_free(ah->hc); /* no callbacks after this */
	for (size_t i = 0; hmap_next(&ah->flights, &i, &e);) {
		struct flight *f = e->value;
		while (f->waits) {
			struct auth_http_wait *wt = f->waits;
			f->waits = wt->next;
			free(wt);
		}
		free(f);
	}
	hmap_fini(&ah->flights);
	cache_clear(ah);
	free(ah);
}

void auth_http_get_stats(const struct auth_http *ah, struct auth_http_stats *out)
{
	*out = ah->stats;
}

static void cache_put(struct auth_http *ah, const char *key, json_t *claims,
		      const struct sg_strv *rooms)
{
	int64_t ttl = ah->w->cfg->auth.http.cache_ttl_ms;
	size_t kl = strlen(key);
	struct cached *c, *old;

	if (ttl <= 0)
		return;
	if (ah->cache.len >= AUTH_HTTP_MAX_CACHE)
		cache_clear(ah); /* crude but bounded; entries are cheap to refill */
	c = sg_calloc(1, sizeof(*c) + kl + 1);
	memcpy(c->key, key, kl + 1);
	c->expires_ms = sg_mono_ms() + ttl;
	c->claims = json_incref(claims);
	sg_strv_copy(&c->rooms, rooms);
	old = hmap_put(&ah->cache, c->key, kl, c);
	if (old != NULL) {
		json_decref(old->claims);
		sg_strv_free(&old->rooms);
		free(old);
	}
}

struct auth_http_wait *auth_http_verify(struct auth_http *ah, struct sio_socket *sock,
					const char *key, const char *auth, auth_http_cb cb)
{
	const struct sg_config *cfg = ah->w->cfg;
	struct auth_http_wait *wt = sg_calloc(1, sizeof(*wt));
	struct flight *f = NULL;
	size_t kl = key ? strlen(key) : 0;

	wt->ah = ah;
	wt->sock = sock;
	wt->cb = cb;
	if (key != NULL) {
		struct cached *c = hmap_get(&ah->cache, key, kl);
		if (c != NULL && c->expires_ms > sg_mono_ms()) {
			ah->stats.cache_hits++;
			wt->cached = c;
			wt->deliver = event_new(ah->w->base, -1, 0, on_cached, wt);
			event_active(wt->deliver, 0, 0);
			return wt;
		}
		f = hmap_get(&ah->flights, key, kl);
		if (f != NULL) {
			ah->stats.coalesced++;
			wt->flight = f;
			wt->next = f->waits;
			f->waits = wt;
			return wt;
		}
	}
	{
		struct sg_buf body;
		const char **headers =
			sg_calloc(cfg->auth.http.header_names.n + 1, sizeof(*headers));
		struct sg_buf hb;

		sg_buf_init(&body);
		sg_buf_init(&hb);
		ihandshake_json(&body, sock, auth);
		/* "Name: value" lines, kept in one buffer */
		for (size_t i = 0; i < cfg->auth.http.header_names.n; i++) {
			sg_buf_printf(&hb, "%s: %s", cfg->auth.http.header_names.v[i],
				      cfg->auth.http.header_values.v[i]);
			sg_buf_append_char(&hb, '\0');
		}
		for (size_t i = 0, off = 0; i < cfg->auth.http.header_names.n; i++) {
			headers[i] = hb.data + off;
			off += strlen(hb.data + off) + 1;
		}
		f = sg_calloc(1, sizeof(*f) + kl + 1);
		f->ah = ah;
		f->keyed = key != NULL;
		if (key)
			memcpy(f->key, key, kl + 1);
		f->started_ns = sg_mono_ns();
		wt->flight = f;
		f->waits = wt;
		if (f->keyed)
			hmap_put(&ah->flights, f->key, kl, f);
		ah->stats.calls++;
		f->req = http_client_request(ah->hc, "POST", cfg->auth.http.url, headers,
					     "application/json", body.data, body.len,
					     cfg->auth.http.timeout_ms, on_answer, f);
		free(headers);
		sg_buf_fini(&hb);
		sg_buf_fini(&body);
	}
	return wt;
}

void auth_http_cancel(struct auth_http_wait *wt)
{
	struct flight *f = wt->flight;
	struct auth_http_wait **pp;

	if (wt->deliver) {
		event_free(wt->deliver);
		free(wt);
		return;
	}
	for (pp = &f->waits; *pp; pp = &(*pp)->next) {
		if (*pp == wt) {
			*pp = wt->next;
			break;
		}
	}
	free(wt);
	/* the call goes on when nobody waits: its verdict still fills the cache */
}

static void on_cached(evutil_socket_t fd, short what, void *arg)
{
	struct auth_http_wait *wt = arg;
	struct auth_result r = { AUTH_ACCEPTED, wt->cached->claims, NULL, &wt->cached->rooms,
				 AUTH_FAIL__COUNT };
	json_t *claims = json_incref(wt->cached->claims);

	SG_UNUSED(fd);
	SG_UNUSED(what);
	event_free(wt->deliver);
	wt->deliver = NULL;
	r.claims = claims;
	wt->cb(wt->sock, &r);
	json_decref(claims);
	free(wt);
}

static void finish_flight(struct flight *f, const struct auth_result *r)
{
	struct auth_http *ah = f->ah;

	hist_observe_since(&ah->w->stats.verify, f->started_ns);
	if (f->keyed)
		hmap_del(&ah->flights, f->key, strlen(f->key));
	if (r->verdict == AUTH_ACCEPTED && f->keyed)
		cache_put(ah, f->key, r->claims, r->rooms);
	while (f->waits) {
		struct auth_http_wait *wt = f->waits;
		f->waits = wt->next;
		wt->cb(wt->sock, r);
		free(wt);
	}
	free(f);
}

/* Counts a call refused over auth.http.max_pending; logs the first of a
 * run of them, and the first call made again after it. */
static void note_overload(struct auth_http *ah, bool over)
{
	if (over)
		ah->w->stats.callouts_refused_verifier++;
	if (over && !ah->full)
		log_warn("auth.http: auth.http.max_pending (%llu bytes) reached: authentications "
			 "fail until the verifier catches up",
			 (unsigned long long)ah->w->cfg->auth.http.max_pending);
	else if (!over && ah->full)
		log_info("auth.http: verifier calls are made again");
	ah->full = over;
}

static void on_answer(enum http_client_error e, const struct http_client_response *resp, void *arg)
{
	struct flight *f = arg;
	struct auth_result r = { AUTH_FAILED, NULL, NULL, NULL, AUTH_FAIL_VERIFIER_ERROR };
	struct worker *w = f->ah->w;
	struct sg_strv rooms = { 0 };
	json_t *doc = NULL, *ok, *claims = NULL, *user, *msg, *rl;
	size_t i;
	json_t *v;

	r.rooms = &rooms;
	note_overload(f->ah, e == HC_OVERLOADED);
	/* a verifier that is down fails every client: one line per
	 * LOG_LIMIT_MS, the failures by reason are in /metrics */
	if (e == HC_OVERLOADED) {
		/* not even queued: fails at once (counted by note_overload) */
	} else if (e != HC_OK) {
		if (e == HC_TIMEOUT)
			r.fail = AUTH_FAIL_VERIFIER_TIMEOUT;
		else if (e == HC_CONNECT || e == HC_TLS)
			r.fail = AUTH_FAIL_VERIFIER_UNREACHABLE;
		log_limited(&w->limit_verifier, SG_LOG_WARN, NULL, "auth.http: %s: %s",
			    w->cfg->auth.http.url, http_client_error_str(e));
	} else if (resp->status >= 500) {
		log_limited(&w->limit_verifier, SG_LOG_WARN, NULL,
			    "auth.http: the verifier answered %d", resp->status);
	} else if (resp->status >= 300) {
		r.verdict = AUTH_REJECTED;
		r.fail = AUTH_FAIL_VERIFIER_REJECTED;
	} else if ((doc = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL ||
		   !json_is_object(doc) || !json_is_boolean(ok = json_object_get(doc, "ok"))) {
		log_limited(&w->limit_verifier, SG_LOG_WARN, NULL,
			    "auth.http: the verifier's answer is not {\"ok\": true|false, ...}");
	} else if (!json_is_true(ok)) {
		r.verdict = AUTH_REJECTED;
		r.fail = AUTH_FAIL_VERIFIER_REJECTED;
		msg = json_object_get(doc, "message");
		if (json_is_string(msg) && json_string_length(msg) > 0)
			r.message = json_string_value(msg);
	} else {
		r.verdict = AUTH_ACCEPTED;
		claims = json_object_get(doc, "claims");
		claims = json_is_object(claims) ? json_deep_copy(claims) : json_object();
		user = json_object_get(doc, "user");
		/* the client's user is its "sub", as with a JWT */
		if (json_is_string(user) && json_object_get(claims, "sub") == NULL)
			json_object_set(claims, "sub", user);
		if (json_object_get(claims, "exp") == NULL)
			answer_exp(doc, claims);
		rl = json_object_get(doc, "rooms");
		json_array_foreach(rl, i, v) if (json_is_string(v) && json_string_length(v) > 0)
			sg_strv_push(&rooms, json_string_value(v));
		r.claims = claims;
	}
	f->req = NULL;
	finish_flight(f, &r);
	json_decref(claims);
	json_decref(doc);
	sg_strv_free(&rooms);
}
