/*
 * worker.h: a worker is one event-loop thread and everything it owns: its
 * event_base, its connections and Engine.IO sessions, its namespaces with
 * their room indexes, its timers and its id counter.  Nothing in a worker is
 * touched by another thread: what one worker needs from another goes as a
 * job through the other's inbox (inbox.h, gather.h).  server.workers of
 * them run, worker 0 on the main thread.
 *
 * The worker itself knows no layer above core: each layer that keeps state
 * in a worker is a worker_module (set up, reloaded, flushed, torn down),
 * listed once by the program (worker_set.c), lowest layer first; objects
 * retire through worker_defer(), which frees them at the end of the loop
 * turn, higher layers' objects first.
 */
#ifndef SG_WORKER_H
#define SG_WORKER_H

#include <event2/event.h>
#include <jansson.h>
#include <pthread.h>

#include "core/auth_fail.h"
#include "core/callout.h"
#include "core/close.h"
#include "core/common.h"
#include "core/hist.h"
#include "core/hmap.h"
#include "core/log.h"

struct conn;
struct eio_session;
struct sio_socket;
struct sio_nsp;
struct jwt_verifier;
struct bridge;
struct auth_http;
struct key_wait;
struct http_client;
struct cluster_fetch;
struct sio_handler;
struct sio_observer;
struct admin_ui;
struct inbox;
struct admission;
struct auth_throttle;
struct proxy_wait;
struct cidr_set;
struct sg_config;
struct conn_handler;
struct eio_handler;
struct worker;

/* A layer's part of every worker, listed in the order of the layers
 * (worker_init() runs init lowest first, worker_fini() runs fini in
 * reverse).  Any hook may be NULL. */
struct worker_module {
	const char *name;
	/* Sets up the layer's state in w (0, or -1: worker_init fails). */
	int (*init)(struct worker *w);
	/* After w->cfg was replaced by a reload (0, or -1: refused). */
	int (*apply_config)(struct worker *w);
	/* At the end of a loop turn in which worker_schedule_flush() was
	 * called: writes what the turn queued. */
	void (*flush)(struct worker *w);
	/* Before the worker's objects are freed at exit: closes what is left
	 * and releases what the layer holds (its deferred objects are freed
	 * after every module's fini). */
	void (*fini)(struct worker *w);
};

/* The orders of worker_defer(): what runs first at the end of a turn. */
#define WORKER_DEFER_ORDERS 4

/* One deferred call (worker_defer). */
struct worker_deferred {
	void *obj;
	void (*fn)(void *obj);
};

struct worker_defer_queue {
	struct worker_deferred *v;
	size_t n, head, cap;
};

/* What a worker counts: every member is a metric of core/metrics.def;
 * /metrics adds the workers' up (ops/metrics.c). */
struct worker_stats {
#define COUNTER(field, name, labels, help) uint64_t field;
#define SERIES(field, labels) uint64_t field;
#define COUNTER_BY(field, n, set, name, help) uint64_t field[n];
#define GAUGE_BY(field, n, set, name, help) uint64_t field[n];
#define HISTOGRAM(field, name, help) struct sg_hist field;
#define HISTOGRAM_BY_WORKER(field, name, help) struct sg_hist field;
#define CALLOUT(field, name, help, hname, hhelp) struct callout_stats field;
#define CALLOUT_BY(field, n, set, name, help, hname, hhelp) struct callout_stats field[n];
/* the X-macro includes, in this order */
/* clang-format off */
#include "core/metrics.def"
#include "core/metrics_undef.h"
	/* clang-format on */
};

struct worker {
	struct event_base *base;
	uint8_t index; /* 0..n_workers-1; written into every id it makes */
	size_t n_workers;
	struct worker *const *siblings; /* every worker of the process by index (borrowed) */
	struct worker *self;		/* siblings of a lone worker: itself */
	struct inbox *inbox;		/* owned: jobs from the other workers */
	const struct worker_module *const *modules; /* the layers, lowest first (borrowed) */
	size_t n_modules;
	size_t n_started;		/* modules whose init succeeded */
	struct admission *admission;	/* the process's connection limits (borrowed) */
	struct auth_throttle *throttle; /* the process's failed authentications per address
					      (borrowed) */
	char adapter_uid[7];		/* the process's uid in the adapter protocol */
	/* Taken to write the namespaces' socket-id tables when there are
	 * siblings, which read them (sio_nsp_id_taken): the only state of a
	 * worker another thread reads. */
	pthread_rwlock_t ids_lock;
	const struct sg_config *cfg;	/* borrowed snapshot */
	const struct jwt_verifier *jwt; /* borrowed, built from cfg */
	struct bridge *bridge;		/* borrowed; NULL when standalone */
	struct auth_http *auth_http;	/* owned, made on first use of auth.verifier: http */
	struct wheel *token_wheel;	/* owned by the authenticate flow: the tokens' deadlines */
	struct key_wait *key_waits;	/* ... tokens waiting for the issuer's keys */
	struct event *key_wait_timer;	/* ... and when they are looked at */
	struct http_client *forward_http; /* owned, made on first use of an http forward rule */
	uint64_t forward_pending;	  /* bytes of forwarded events not answered (forward.c) */
	bool forward_full;		  /* the last event was refused over events.max_pending */
	struct http_client *rooms_http;	  /* owned, made on first use of rooms.http */
	struct cluster_fetch *fetches;	  /* cluster-wide fetches in flight (owned, cluster.c) */
	struct emit_ack *emit_acks;	  /* emits waiting for acks (owned, emit_ack.c) */
	size_t n_emit_acks;
	uint64_t conn_serial;	 /* the last connection serial given */
	const char *admin_token; /* borrowed; NULL: the /v1 API is off */
	struct ssl_ctx_st *tls;	 /* borrowed server TLS context; NULL: plain */
	struct sio_nsp **nsps;	 /* one per configured namespace */
	size_t n_nsps;
	uint32_t id_counter;
	uint32_t bcast_stamp; /* dedup stamp for broadcasts */

	/* Connections and Engine.IO sessions, for shutdown and for limits. */
	struct conn *conns;
	size_t n_conns;
	size_t n_admin_conns;		/* of n_conns, on admin.listen: not clients */
	struct conn *http_conns;	/* those still reading a request (conn.h) */
	struct event *http_sweeper;	/* closes them past their deadlines, each second */
	struct cidr_set *trusted;	/* cfg->server.trusted_proxies, parsed (owned by net) */
	struct proxy_wait *proxy_waits; /* connections reading their PROXY header */
	int admin_spare;		/* the admin listener's spare descriptor, for
					      EMFILE (listener.c); -1: none or in use */
	struct eio_session *sessions;
	size_t n_sessions;
	struct hmap sessions_by_sid; /* sid -> struct eio_session */

	/* Calls deferred to the end of the loop turn (worker_defer): objects
	 * whose teardown finished are freed there, never inside a callback
	 * that came from them. */
	struct event *reaper;
	struct worker_defer_queue deferred[WORKER_DEFER_ORDERS];
	struct event *flusher;	 /* runs the modules' flush hooks (end of turn) */
	struct event *trimmer;	 /* gives freed memory back after a wave of closes */
	struct event *lag_timer; /* measures the loop's lag (stats.loop_lag) */
	int64_t lag_due_ns;	 /* when lag_timer should fire (monotonic) */
	size_t freed_since_trim; /* deferred frees since the last trim */
	/* Log lines a flood could repeat, one per LOG_LIMIT_MS (log_limited). */
	struct log_limit limit_refused[SG_CLOSE__COUNT]; /* connections refused, by reason */
	struct log_limit limit_verifier;		 /* auth.http could not decide */
	struct log_limit limit_forward;			 /* an events.forward target failed */
	struct log_limit limit_rooms_http;		 /* rooms.http failed */
	struct log_limit limit_admin_auth; /* an admin API request without the token */
	struct log_limit limit_ack_emit;   /* a JSON-channel emit with acks refused */
	struct conn *dirty;		   /* connections with output queued this turn */

	/* libevent common timeouts: one queue per constant duration. */
	const struct timeval *tv_ping_interval;
	const struct timeval *tv_ping_timeout;
	const struct timeval *tv_auth_timeout;
	const struct timeval *tv_app_ping;
	const struct timeval *tv_http_idle;
	const struct timeval *tv_flush;
	const struct timeval *tv_upgrade;
	const struct timeval *tv_linger;

	/* Who each layer tells what happened, registered by the layer above
	 * at start-up (worker_module init): the requests of client and admin
	 * connections (Engine.IO, the admin API), the messages and ends of
	 * Engine.IO sessions (Socket.IO, or the conformance program's echo),
	 * and the life of Socket.IO sockets (the authenticate flow). */
	const struct conn_handler *conn_handler[2]; /* [0] client listeners, [1] admin */
	const struct eio_handler *eio_handler;
	const struct sio_handler *handler;
	const struct sio_observer *sio_observer; /* NULL: nobody watches (sio_observe) */
	struct admin_ui *admin_ui;		 /* owned by app/admin_ui.c; NULL: off */
	int64_t connect_timeout_ms;		 /* no namespace joined in this time -> close */

	bool shutting_down;
	struct worker_stats stats;
	/* namespaces not configured that messages were seen for (logged once,
	 * broadcast_unknown_nsp) */
	struct sg_strv unknown_nsps;
};

/* Sets up a worker on base (borrowed) with the config snapshot and JWT
 * verifier (both borrowed, must outlive the worker) and the modules of its
 * layers (borrowed, lowest first; each one's init runs, in order), alone:
 * its own siblings list.  worker_join() then makes it worker `index` of a
 * process's set.  The caller sets w->admission and w->throttle (shared by
 * the process, borrowed) before the worker serves.  On failure the modules
 * already set up are torn down again (worker_fini is still called). */
int worker_init(struct worker *w, struct event_base *base, const struct sg_config *cfg,
		const struct jwt_verifier *jwt, const struct worker_module *const *modules,
		size_t n_modules) SG_WUR;
void worker_join(struct worker *w, uint8_t index, struct worker *const *siblings, size_t n,
		 const char *adapter_uid);
/* After w->cfg was replaced by a reload: each module's apply_config
 * recomputes what derives from it (the timeout queues of reloadable
 * durations, the trusted proxies...). */
int worker_apply_config(struct worker *w) SG_WUR;

/* Runs the modules' fini (highest first), then frees what was deferred and
 * what the worker owns; every connection must be closed first. */
void worker_fini(struct worker *w);

/* Calls fn(obj) at the end of this loop turn: the deferred calls of the
 * highest order first (each order first in, first out), and what they
 * defer in turn before a lower order.  A layer frees its objects with an
 * order above the layers below it (a socket before its session, a session
 * before its connection), so what an object refers to outlives it.  Never
 * fails (allocation failure aborts). */
void worker_defer(struct worker *w, unsigned order, void *obj, void (*fn)(void *obj));

static inline void worker_ids_lock(struct worker *w)
{
	if (w->n_workers > 1)
		pthread_rwlock_wrlock(&w->ids_lock);
}

static inline void worker_ids_unlock(struct worker *w)
{
	if (w->n_workers > 1)
		pthread_rwlock_unlock(&w->ids_lock);
}

/* The one place a client's end is counted (siogate_closes_total{reason})
 * and logged ("client closed: REASON" at debug, with the facts f: its
 * address, sid, socket...).  A client ends once: its Engine.IO session's
 * close when a session carried it, else its connection's close, or its
 * refusal at accept time.  f NULL: counted only (a refusal, which its
 * caller logs within a rate limit). */
void worker_count_close(struct worker *w, enum sg_close reason, const struct log_facts *f);

/* Runs the modules' flush hooks at the end of this loop turn. */
void worker_schedule_flush(struct worker *w);

/* A constant duration as one of base's libevent common timeouts (one queue
 * per duration: O(1) timers), or NULL. */
const struct timeval *worker_common_timeout(struct event_base *base, int64_t ms);

/* A config duration as a timeval. */
struct timeval worker_ms_tv(int64_t ms);

#endif
