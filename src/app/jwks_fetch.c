/*
 * jwks_fetch.c: the issuer's key set, fetched and kept fresh (see
 * jwks_fetch.h).  States: a fetch is in flight (discovery first while the
 * jwks_uri is unknown, then the set) or the timer waits for the next one.
 * A kick (an unknown kid, through the eventfd jwt_remote_want_kid() writes)
 * starts a fetch at once unless one is in flight.  Everything here runs on
 * the fetcher's own loop: at start on the caller's thread, then on the
 * fetcher's thread.
 */
#include "app/jwks_fetch.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "app/auth_jwt.h"
#include "core/clock.h"
#include "core/log.h"
#include "net/http_client.h"

#define JWKS_DEFAULT_REFRESH_MS (3600 * 1000)
#define JWKS_MAX_REFRESH_MS (86400 * 1000)
#define JWKS_MAX_BACKOFF_MS (300 * 1000)
#define JWKS_MAX_BYTES (1024 * 1024)
#define DISCOVERY_PATH "/.well-known/openid-configuration"

struct jwks_fetch {
	struct event_base *base;
	struct http_client *hc;
	struct event *timer; /* the next refresh */
	struct event *kick;  /* the eventfd: an unknown kid, or stop */
	int kick_fd;
	struct jwt_remote *remote;
	char *jwks_url;	     /* configured, or found by discovery (owned) */
	char *discovery_url; /* <issuer>/.well-known/openid-configuration, or NULL */
	int64_t min_refresh_ms;
	int64_t backoff_ms;
	struct http_client_req *req; /* in flight, or NULL */
	bool done;		     /* the first fetch ended (start) */
	bool ok;		     /* ... with a set */
	struct sg_err err;	     /* ... or why not */
	atomic_bool stopping;
	pthread_t thread;
	bool threaded;
};

static void fetch_begin(struct jwks_fetch *f);
static void on_discovery(enum http_client_error e, const struct http_client_response *resp,
			 void *arg);
static void on_jwks(enum http_client_error e, const struct http_client_response *resp, void *arg);
static void fetch_end(struct jwks_fetch *f, bool ok, int64_t next_ms);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void on_kick(evutil_socket_t fd, short what, void *arg);

static struct jwks_fetch *fetch_new(const struct sg_config *cfg, struct jwt_remote *r,
				    struct sg_err *err)
{
	struct jwks_fetch *f = sg_calloc(1, sizeof(*f));
	struct http_client_opts o = {
		.max_in_flight = 1,
		.max_queued = 2,
		/* a fetch every few minutes at most: no connection is kept
		 * (none goes stale between two fetches) */
		.max_idle_per_host = 0,
		.idle_timeout_ms = 0,
		.max_response_bytes = JWKS_MAX_BYTES,
		.ca_file = cfg->auth.jwt.ca_file,
	};

	f->remote = r;
	f->kick_fd = -1;
	f->min_refresh_ms = cfg->auth.jwt.jwks_min_refresh_ms;
	f->backoff_ms = f->min_refresh_ms;
	if (cfg->auth.jwt.jwks_url != NULL) {
		f->jwks_url = sg_strdup(cfg->auth.jwt.jwks_url);
	} else {
		size_t n = strlen(cfg->auth.jwt.issuer);
		struct sg_buf u;
		sg_buf_init(&u);
		/* RFC 8414 / OIDC Discovery: the issuer, without its trailing
		 * slash, then the well-known path */
		sg_buf_append(&u, cfg->auth.jwt.issuer,
			      n > 0 && cfg->auth.jwt.issuer[n - 1] == '/' ? n - 1 : n);
		sg_buf_append_str(&u, DISCOVERY_PATH);
		f->discovery_url = sg_buf_steal(&u);
	}
	f->base = event_base_new();
	if (f->base == NULL) {
		sg_err_set(err, "auth.jwt: cannot make the key fetcher's event loop");
		goto fail;
	}
	f->hc = http_client_new(f->base, &o, err);
	if (f->hc == NULL)
		goto fail;
	f->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	f->timer = event_new(f->base, -1, 0, on_timer, f);
	f->kick = f->kick_fd >= 0 ? event_new(f->base, f->kick_fd, EV_READ | EV_PERSIST, on_kick, f)
				  : NULL;
	if (f->timer == NULL || f->kick == NULL || event_add(f->kick, NULL) != 0) {
		sg_err_set(err, "auth.jwt: cannot set up the key fetcher's events");
		goto fail;
	}
	return f;
fail:
	jwks_fetch_stop(f);
	return NULL;
}

/* Where the set comes from, for messages. */
static const char *source(const struct jwks_fetch *f)
{
	return f->jwks_url != NULL ? f->jwks_url : f->discovery_url;
}

static void fetch_begin(struct jwks_fetch *f)
{
	if (f->req != NULL)
		return; /* one at a time: a kick joins the fetch in flight */
	if (f->jwks_url == NULL)
		f->req = http_client_request(f->hc, "GET", f->discovery_url, NULL, NULL, NULL, 0,
					     JWKS_START_TIMEOUT_MS, on_discovery, f);
	else
		f->req = http_client_request(f->hc, "GET", f->jwks_url, NULL, NULL, NULL, 0,
					     JWKS_START_TIMEOUT_MS, on_jwks, f);
}

/* Why an answer is not usable, or NULL. */
static const char *answer_problem(enum http_client_error e, const struct http_client_response *resp,
				  char *buf, size_t size)
{
	if (e != HC_OK)
		return http_client_error_str(e);
	if (resp->status != 200) {
		snprintf(buf, size, "HTTP status %d", resp->status);
		return buf;
	}
	return NULL;
}

static void on_discovery(enum http_client_error e, const struct http_client_response *resp,
			 void *arg)
{
	struct jwks_fetch *f = arg;
	char buf[64];
	const char *problem = answer_problem(e, resp, buf, sizeof(buf));
	json_t *doc, *uri;

	f->req = NULL;
	if (problem != NULL) {
		sg_err_set(&f->err, "auth.jwt.issuer: OIDC discovery %s: %s", f->discovery_url,
			   problem);
		fetch_end(f, false, 0);
		return;
	}
	doc = json_loadb(resp->body, resp->body_len, 0, NULL);
	uri = json_object_get(doc, "jwks_uri");
	if (!json_is_string(uri) || (strncmp(json_string_value(uri), "https://", 8) != 0 &&
				     strncmp(json_string_value(uri), "http://", 7) != 0)) {
		sg_err_set(&f->err,
			   "auth.jwt.issuer: OIDC discovery %s: no \"jwks_uri\" URL in the answer",
			   f->discovery_url);
		json_decref(doc);
		fetch_end(f, false, 0);
		return;
	}
	f->jwks_url = sg_strdup(json_string_value(uri));
	json_decref(doc);
	log_info("auth.jwt: the issuer's keys are at %s (OIDC discovery)", f->jwks_url);
	fetch_begin(f);
}

static void on_jwks(enum http_client_error e, const struct http_client_response *resp, void *arg)
{
	struct jwks_fetch *f = arg;
	char buf[64], what[300];
	const char *problem = answer_problem(e, resp, buf, sizeof(buf));
	int64_t next = JWKS_DEFAULT_REFRESH_MS;

	f->req = NULL;
	if (problem != NULL) {
		sg_err_set(&f->err, "auth.jwt.jwks_url %s: %s", f->jwks_url, problem);
		fetch_end(f, false, 0);
		return;
	}
	snprintf(what, sizeof(what), "auth.jwt.jwks_url %s", f->jwks_url);
	if (jwt_remote_load(f->remote, resp->body, resp->body_len, what, sg_now_ms(), &f->err) <
	    0) {
		fetch_end(f, false, 0);
		return;
	}
	if (resp->max_age >= 0)
		next = resp->max_age > JWKS_MAX_REFRESH_MS / 1000 ? JWKS_MAX_REFRESH_MS
								  : resp->max_age * 1000;
	fetch_end(f, true, next);
}

/* A fetch ended: counts it, and sets the timer for the next one. */
static void fetch_end(struct jwks_fetch *f, bool ok, int64_t next_ms)
{
	struct jwt_remote_stats st;
	struct timeval tv;
	bool first = !f->done;

	jwt_remote_fetched(f->remote, ok);
	f->done = true;
	f->ok = ok;
	if (ok) {
		f->backoff_ms = f->min_refresh_ms;
		if (next_ms < f->min_refresh_ms)
			next_ms = f->min_refresh_ms;
		jwt_remote_get_stats(f->remote, &st);
		if (!first)
			log_info("auth.jwt: key set refreshed from %s (%llu keys)", source(f),
				 (unsigned long long)st.keys);
	} else {
		next_ms = f->backoff_ms;
		f->backoff_ms = f->backoff_ms * 2 > JWKS_MAX_BACKOFF_MS ? JWKS_MAX_BACKOFF_MS
									: f->backoff_ms * 2;
		/* the start reports its own failure; later ones keep the old set */
		if (!first)
			log_warn("%s; keeping the key set in use, trying again in %llds",
				 f->err.msg, (long long)(next_ms / 1000));
	}
	tv.tv_sec = next_ms / 1000;
	tv.tv_usec = (next_ms % 1000) * 1000;
	event_add(f->timer, &tv);
	if (!f->threaded)
		event_base_loopbreak(f->base);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	fetch_begin(arg);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct jwks_fetch *f = arg;
	uint64_t n;

	SG_UNUSED(what);
	while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		;
	if (atomic_load(&f->stopping)) {
		event_base_loopbreak(f->base);
		return;
	}
	fetch_begin(f); /* an unknown kid: now */
}

static void *fetch_thread(void *arg)
{
	struct jwks_fetch *f = arg;

	event_base_dispatch(f->base);
	return NULL;
}

/* The first fetch, on the caller's thread. */
static int first_fetch(struct jwks_fetch *f, const struct sg_config *cfg, struct sg_err *err)
{
	fetch_begin(f);
	event_base_dispatch(f->base); /* until fetch_end breaks the loop */
	if (f->ok)
		return 0;
	if (cfg->auth.jwt.jwks_file != NULL && cfg->auth.jwt.jwks_url != NULL) {
		struct sg_err ferr = { 0 };
		if (jwt_remote_load_file(f->remote, cfg->auth.jwt.jwks_file, &ferr) == 0) {
			log_warn("%s; using the cached copy %s until a fetch succeeds", f->err.msg,
				 cfg->auth.jwt.jwks_file);
			return 0;
		}
		return sg_err_set(err, "%s; and the cached copy: %s", f->err.msg, ferr.msg);
	}
	*err = f->err;
	return -1;
}

struct jwks_fetch *jwks_fetch_start(const struct sg_config *cfg, struct jwt_remote *r,
				    struct sg_err *err)
{
	struct jwks_fetch *f = fetch_new(cfg, r, err);
	struct jwt_remote_stats st;
	int e;

	if (f == NULL)
		return NULL;
	if (first_fetch(f, cfg, err) < 0) {
		jwks_fetch_stop(f);
		return NULL;
	}
	jwt_remote_get_stats(r, &st);
	if (f->ok)
		log_info("auth.jwt: %llu keys from %s", (unsigned long long)st.keys, source(f));
	jwt_remote_set_kick(r, f->kick_fd);
	f->threaded = true;
	e = pthread_create(&f->thread, NULL, fetch_thread, f);
	if (e != 0) {
		jwt_remote_set_kick(r, -1);
		f->threaded = false;
		sg_err_set(err, "auth.jwt: cannot start the key fetcher's thread: %s", strerror(e));
		jwks_fetch_stop(f);
		return NULL;
	}
	return f;
}

int jwks_fetch_once(const struct sg_config *cfg, struct jwt_remote *r, struct sg_err *err)
{
	struct jwks_fetch *f = fetch_new(cfg, r, err);
	int rc;

	if (f == NULL)
		return -1;
	rc = first_fetch(f, cfg, err);
	jwks_fetch_stop(f);
	return rc;
}

void jwks_fetch_stop(struct jwks_fetch *f)
{
	uint64_t one = 1;

	if (f == NULL)
		return;
	if (f->threaded) {
		jwt_remote_set_kick(f->remote, -1);
		atomic_store(&f->stopping, true);
		if (write(f->kick_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			log_warn("auth.jwt: cannot wake the key fetcher to stop it");
		pthread_join(f->thread, NULL);
	}
	http_client_cancel(f->req);
	http_client_free(f->hc);
	if (f->timer)
		event_free(f->timer);
	if (f->kick)
		event_free(f->kick);
	if (f->kick_fd >= 0)
		close(f->kick_fd);
	if (f->base)
		event_base_free(f->base);
	free(f->jwks_url);
	free(f->discovery_url);
	free(f);
}
