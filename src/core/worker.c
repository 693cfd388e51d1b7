/*
 * worker.c: worker set-up, the namespace table and the reaper (see
 * worker.h).  Invariant: objects on the dead lists are already unlinked
 * from every index and have no pending events; only the reaper frees them.
 */
#include "core/worker.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "net/admission.h"
#include "app/auth_http.h"
#include "redis/bridge.h"
#include "app/auth_throttle.h"
#include "net/conn.h"
#include "app/forward.h"
#include "core/ids.h"
#include "core/inbox.h"
#include "app/room_check.h"
#include "eio/eio.h"
#include "core/log.h"
#include "net/proxy_accept.h"
#include "sio/sio.h"

/* How long a closing connection may take to write what it has queued. */
#define WORKER_FLUSH_TIMEOUT_MS 5000
/* Node's connectTimeout: an Engine.IO connection that joins no namespace
 * in this time is closed. */
#define WORKER_CONNECT_TIMEOUT_MS 45000
/* After the last byte of a closing connection, how long its input is read
 * and discarded waiting for the client's own close. */
#define WORKER_LINGER_MS 2000
/* Engine.IO's upgradeTimeout: the "5" must follow the probe within this. */
#define WORKER_UPGRADE_TIMEOUT_MS 10000
/* After this many connections were freed, the heap's free pages go back to
 * the system WORKER_TRIM_DELAY_MS later (one trim per wave of closes):
 * glibc keeps them otherwise, and RSS would stay at the peak of a spike. */
#define WORKER_TRIM_AFTER_CONNS 256
#define WORKER_TRIM_DELAY_MS 2000
/* The loop-lag timer's period: how late it fires is how long the loop was
 * busy with something else (siogate_event_loop_lag_seconds). */
#define WORKER_LAG_INTERVAL_MS 250

static void on_reap(evutil_socket_t fd, short what, void *arg);
static void on_flush(evutil_socket_t fd, short what, void *arg);
static void on_trim(evutil_socket_t fd, short what, void *arg);
static void on_lag_timer(evutil_socket_t fd, short what, void *arg);
static void arm_lag_timer(struct worker *w);
static void on_http_sweep(evutil_socket_t fd, short what, void *arg);
static int derive_config(struct worker *w);

/* How often the connections still reading a request are checked against
 * their deadlines (limits.header_timeout, body_timeout, body_min_rate). */
#define WORKER_HTTP_SWEEP_MS 1000

struct timeval worker_ms_tv(int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

static const struct timeval *common_timeout(struct event_base *base, int64_t ms)
{
	struct timeval tv = worker_ms_tv(ms);

	return event_base_init_common_timeout(base, &tv);
}

int worker_init(struct worker *w, struct event_base *base, const struct sg_config *cfg,
		const struct jwt_verifier *jwt)
{
	memset(w, 0, sizeof(*w));
	w->admin_spare = -1;
	w->base = base;
	w->cfg = cfg;
	w->jwt = jwt;
	w->reaper = event_new(base, -1, 0, on_reap, w);
	w->flusher = event_new(base, -1, 0, on_flush, w);
	w->trimmer = evtimer_new(base, on_trim, w);
	w->lag_timer = evtimer_new(base, on_lag_timer, w);
	w->handler = &authflow_handler;
	w->connect_timeout_ms = WORKER_CONNECT_TIMEOUT_MS;
	w->tv_ping_interval = common_timeout(base, cfg->server.ping_interval_ms);
	w->tv_ping_timeout = common_timeout(base, cfg->server.ping_timeout_ms);
	w->tv_auth_timeout = common_timeout(base, cfg->auth.timeout_ms);
	w->tv_app_ping = common_timeout(base, cfg->ping.interval_ms);
	w->tv_flush = common_timeout(base, WORKER_FLUSH_TIMEOUT_MS);
	w->tv_upgrade = common_timeout(base, WORKER_UPGRADE_TIMEOUT_MS);
	w->tv_linger = common_timeout(base, WORKER_LINGER_MS);
	hmap_init(&w->sessions_by_sid);
	pthread_rwlock_init(&w->ids_lock, NULL);
	w->n_workers = 1;
	w->self = w;
	w->siblings = &w->self;
	w->admission = admission_new();
	w->owns_admission = true;
	w->throttle = auth_throttle_new();
	w->owns_throttle = true;
	sg_uid_new(w->adapter_uid);
	w->inbox = inbox_new(base, w);
	w->http_sweeper = event_new(base, -1, EV_PERSIST, on_http_sweep, w);
	if (w->http_sweeper != NULL) {
		struct timeval tv = worker_ms_tv(WORKER_HTTP_SWEEP_MS);
		event_add(w->http_sweeper, &tv);
	}
	if (derive_config(w) != 0 || w->http_sweeper == NULL ||
	    w->inbox == NULL || w->reaper == NULL || w->flusher == NULL || w->trimmer == NULL ||
	    w->lag_timer == NULL ||
	    w->tv_upgrade == NULL || w->tv_linger == NULL ||
	    w->tv_ping_interval == NULL || w->tv_ping_timeout == NULL ||
	    w->tv_auth_timeout == NULL || w->tv_app_ping == NULL || w->tv_http_idle == NULL ||
	    w->tv_flush == NULL)
		return -1;
	w->n_nsps = cfg->namespaces.n;
	w->nsps = sg_calloc(w->n_nsps, sizeof(*w->nsps));
	for (size_t i = 0; i < w->n_nsps; i++)
		w->nsps[i] = sio_nsp_new(w, cfg->namespaces.v[i]);
	arm_lag_timer(w);
	return 0;
}

static void arm_lag_timer(struct worker *w)
{
	struct timeval tv = worker_ms_tv(WORKER_LAG_INTERVAL_MS);

	w->lag_due_ns = sg_mono_ns() + (int64_t)WORKER_LAG_INTERVAL_MS * 1000000;
	evtimer_add(w->lag_timer, &tv);
}

static void on_lag_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	int64_t late = sg_mono_ns() - w->lag_due_ns;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	hist_observe(&w->stats.loop_lag, late > 0 ? (double)late / 1e9 : 0);
	arm_lag_timer(w);
}

void worker_join(struct worker *w, uint8_t index, struct worker *const *siblings, size_t n,
		 struct admission *shared, const char *adapter_uid)
{
	if (w->owns_admission)
		admission_free(w->admission);
	w->owns_admission = false;
	w->admission = shared;
	w->index = index;
	w->siblings = siblings;
	w->n_workers = n;
	memcpy(w->adapter_uid, adapter_uid, sizeof(w->adapter_uid));
}

void worker_share_throttle(struct worker *w, struct auth_throttle *shared)
{
	if (w->owns_throttle)
		auth_throttle_free(w->throttle);
	w->owns_throttle = false;
	w->throttle = shared;
}

/* What a worker derives from its snapshot and a reload changes. */
static int derive_config(struct worker *w)
{
	const struct sg_config *cfg = w->cfg;
	const struct timeval *idle = common_timeout(w->base, cfg->limits.header_timeout_ms);
	struct cidr_set trusted;

	if (idle == NULL ||
	    cidr_set_parse(&trusted, (const char *const *)cfg->server.trusted_proxies.v,
			   cfg->server.trusted_proxies.n, NULL) != 0)
		return -1; /* the loader checked every entry: not for a valid snapshot */
	w->tv_http_idle = idle;
	cidr_set_free(&w->trusted);
	w->trusted = trusted;
	return 0;
}

int worker_apply_config(struct worker *w)
{
	const struct timeval *auth = common_timeout(w->base, w->cfg->auth.timeout_ms);

	if (auth == NULL || derive_config(w) != 0)
		return -1;
	w->tv_auth_timeout = auth;
	return 0;
}

const char *worker_unready(const struct worker *w)
{
	if (w->shutting_down)
		return "shutting down";
	if (w->bridge != NULL && !bridge_is_subscribed(w->bridge))
		return "redis subscriber down";
	if (w->bridge != NULL && !bridge_publisher_up(w->bridge))
		return "redis publisher down";
	return NULL;
}

bool worker_trusts(const struct worker *w, const struct sockaddr *sa)
{
	struct ip_addr a;

	return w->trusted.n > 0 && ip_addr_from_sockaddr(sa, &a) == 0 &&
	       cidr_set_match(&w->trusted, &a);
}

static void on_http_sweep(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	conn_sweep_http(arg);
}

struct sio_nsp *worker_nsp(struct worker *w, const char *name, size_t len)
{
	for (size_t i = 0; i < w->n_nsps; i++)
		if (w->nsps[i]->name_len == len && memcmp(w->nsps[i]->name, name, len) == 0)
			return w->nsps[i];
	return NULL;
}

void worker_schedule_flush(struct worker *w)
{
	event_active(w->flusher, 0, 0);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	conn_flush_dirty(arg);
}

void worker_schedule_reap(struct worker *w)
{
	event_active(w->reaper, 0, 0);
}

bool worker_admit_handshake(struct worker *w)
{
	return admission_handshake(w->admission, w->cfg->limits.handshakes_per_second);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	while (w->close_later) {
		struct conn *c = w->close_later;
		w->close_later = c->dead_next;
		c->dead_next = NULL;
		c->close_pending = false;
		conn_close(c, c->pending_reason);
	}
	while (w->dead_sockets) {
		struct sio_socket *s = w->dead_sockets;
		w->dead_sockets = s->dead_next;
		sio_socket_free(s);
	}
	while (w->dead_sessions) {
		struct eio_session *s = w->dead_sessions;
		w->dead_sessions = s->dead_next;
		eio_session_free(s);
	}
	while (w->dead_conns) {
		struct conn *c = w->dead_conns;
		w->dead_conns = c->dead_next;
		conn_free(c);
		w->freed_since_trim++;
	}
	if (w->freed_since_trim >= WORKER_TRIM_AFTER_CONNS && w->trimmer != NULL &&
	    !evtimer_pending(w->trimmer, NULL)) {
		struct timeval tv = worker_ms_tv(WORKER_TRIM_DELAY_MS);
		evtimer_add(w->trimmer, &tv);
	}
}

static void on_trim(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	log_debug("returning the memory of %zu closed connections to the system",
		  w->freed_since_trim);
	w->freed_since_trim = 0;
	(void)malloc_trim(0);
}

void worker_fini(struct worker *w)
{
	proxy_accept_free_all(w);
	on_reap(-1, 0, w);
	for (size_t i = 0; i < w->n_nsps; i++)
		sio_nsp_free(w->nsps[i]);
	free(w->nsps);
	hmap_fini(&w->sessions_by_sid);
	if (w->owns_admission)
		admission_free(w->admission);
	if (w->owns_throttle)
		auth_throttle_free(w->throttle);
	inbox_free(w->inbox);
	pthread_rwlock_destroy(&w->ids_lock);
	auth_http_free(w->auth_http);
	forward_fini(w);
	room_check_fini(w);
	sg_strv_free(&w->unknown_nsps);
	if (w->reaper)
		event_free(w->reaper);
	if (w->flusher)
		event_free(w->flusher);
	if (w->trimmer)
		event_free(w->trimmer);
	if (w->lag_timer)
		event_free(w->lag_timer);
	if (w->http_sweeper)
		event_free(w->http_sweeper);
	cidr_set_free(&w->trusted);
	memset(w, 0, sizeof(*w));
}
