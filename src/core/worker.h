/*
 * worker.h: a worker is one event-loop thread and everything it owns: its
 * event_base, its connections and Engine.IO sessions, its namespaces with
 * their room indexes, its timers and its id counter.  Nothing in a worker is
 * touched by another thread: what one worker needs from another goes as a
 * job through the other's inbox (inbox.h, gather.h).  server.workers of
 * them run, worker 0 on the main thread.
 */
#ifndef SG_WORKER_H
#define SG_WORKER_H

#include <event2/event.h>
#include <jansson.h>
#include <pthread.h>

#include "core/auth_fail.h"
#include "core/callout.h"
#include "proto/cidr.h"
#include "core/common.h"
#include "config/config.h"
#include "core/close.h"
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
struct http_client;
struct cluster_fetch;
struct sio_handler;
struct inbox;
struct admission;
struct auth_throttle;
struct proxy_wait;

/* Counters a worker keeps (metrics.def); /metrics adds them up. */
struct worker_stats {
#define COUNTER(field, name, labels, help) uint64_t field;
#include "core/metrics.def"
#undef COUNTER
	uint64_t closes[SG_CLOSE__COUNT];
	uint64_t auth_failures[AUTH_FAIL__COUNT]; /* by auth_fail.def reason */
	uint64_t sockets_by_state[3];          /* enum authflow_state, a gauge */
	struct sg_hist verify;                 /* verifier latency */
	struct sg_hist fanout;                 /* a broadcast's local fan-out, receipt to queued */
	struct sg_hist loop_lag;               /* how late the lag timer fires (worker_init) */
	struct callout_stats forward[FORWARD__COUNT]; /* events.forward, by target */
	struct callout_stats rooms_http;       /* rooms.http */
};

struct worker {
	struct event_base *base;
	uint8_t index;                     /* 0..n_workers-1; written into every id it makes */
	size_t n_workers;
	struct worker *const *siblings;    /* every worker of the process by index (borrowed) */
	struct worker *self;               /* siblings of a lone worker: itself */
	struct inbox *inbox;               /* owned: jobs from the other workers */
	struct admission *admission;       /* the process's connection limits */
	bool owns_admission;
	struct auth_throttle *throttle;    /* the process's failed authentications per address */
	bool owns_throttle;
	char adapter_uid[7];               /* the process's uid in the adapter protocol */
	/* Taken to write the namespaces' socket-id tables when there are
	 * siblings, which read them (sio_nsp_id_taken): the only state of a
	 * worker another thread reads. */
	pthread_rwlock_t ids_lock;
	const struct sg_config *cfg;       /* borrowed snapshot */
	const struct jwt_verifier *jwt;    /* borrowed, built from cfg */
	struct bridge *bridge;             /* borrowed; NULL when standalone */
	struct auth_http *auth_http;       /* owned, made on first use of auth.verifier: http */
	struct http_client *forward_http;  /* owned, made on first use of an http forward rule */
	uint64_t forward_pending;          /* bytes of forwarded events not answered (forward.c) */
	bool forward_full;                 /* the last event was refused over events.max_pending */
	struct http_client *rooms_http;    /* owned, made on first use of rooms.http */
	struct cluster_fetch *fetches;     /* cluster-wide fetches in flight (owned, cluster.c) */
	uint64_t conn_serial;              /* the last connection serial given */
	const char *admin_token;           /* borrowed; NULL: the /v1 API is off */
	struct ssl_ctx_st *tls;            /* borrowed server TLS context; NULL: plain */
	struct sio_nsp **nsps;             /* one per configured namespace */
	size_t n_nsps;
	uint32_t id_counter;
	uint32_t bcast_stamp;              /* dedup stamp for broadcasts */

	/* Connections and Engine.IO sessions, for shutdown and for limits. */
	struct conn *conns;
	size_t n_conns;
	size_t n_admin_conns;              /* of n_conns, on admin.listen: not clients */
	struct conn *http_conns;           /* those still reading a request (conn.h) */
	struct event *http_sweeper;        /* closes them past their deadlines, each second */
	struct cidr_set trusted;           /* cfg->server.trusted_proxies, parsed */
	struct proxy_wait *proxy_waits;    /* connections reading their PROXY header */
	int admin_spare;                   /* the admin listener's spare descriptor, for
					      EMFILE (listener.c); -1: none or in use */
	struct eio_session *sessions;
	size_t n_sessions;
	struct hmap sessions_by_sid;       /* sid -> struct eio_session */

	/* Objects whose teardown finished, freed at the end of the loop turn
	 * (never inside a callback that came from them). */
	struct event *reaper;
	struct conn *dead_conns;
	struct conn *close_later;          /* closes deferred to the end of the turn */
	struct event *flusher;             /* writes the dirty connections (end of turn) */
	struct event *trimmer;             /* gives freed memory back after a wave of closes */
	struct event *lag_timer;           /* measures the loop's lag (stats.loop_lag) */
	int64_t lag_due_ns;                /* when lag_timer should fire (monotonic) */
	size_t freed_since_trim;           /* connections freed since the last trim */
	/* Log lines a flood could repeat, one per LOG_LIMIT_MS (log_limited). */
	struct log_limit limit_refused[SG_CLOSE__COUNT]; /* connections refused, by reason */
	struct log_limit limit_verifier;   /* auth.http could not decide */
	struct log_limit limit_forward;    /* an events.forward target failed */
	struct log_limit limit_rooms_http; /* rooms.http failed */
	struct log_limit limit_admin_auth; /* an admin API request without the token */
	struct conn *dirty;                /* connections with output queued this turn */
	struct eio_session *dead_sessions;
	struct sio_socket *dead_sockets;

	/* libevent common timeouts: one queue per constant duration. */
	const struct timeval *tv_ping_interval;
	const struct timeval *tv_ping_timeout;
	const struct timeval *tv_auth_timeout;
	const struct timeval *tv_app_ping;
	const struct timeval *tv_http_idle;
	const struct timeval *tv_flush;
	const struct timeval *tv_upgrade;
	const struct timeval *tv_linger;

	/* What runs on the sockets (authflow_handler in the daemon), and, when
	 * set, an Engine.IO-level handler that takes every message instead of
	 * Socket.IO (the conformance program's echo). */
	const struct sio_handler *handler;
	void (*eio_message)(struct eio_session *s, bool binary, const char *data, size_t len);
	int64_t connect_timeout_ms;        /* no namespace joined in this time -> close */

	bool shutting_down;
	struct worker_stats stats;
	/* namespaces not configured that messages were seen for (logged once,
	 * broadcast_unknown_nsp) */
	struct sg_strv unknown_nsps;
};

/* Sets up a worker on base (borrowed) with the config snapshot and JWT
 * verifier (both borrowed, must outlive the worker), alone (its own
 * admission limits, its own siblings list).  worker_join() then makes it
 * worker `index` of a process's set. */
int worker_init(struct worker *w, struct event_base *base, const struct sg_config *cfg,
		const struct jwt_verifier *jwt) SG_WUR;
void worker_join(struct worker *w, uint8_t index, struct worker *const *siblings, size_t n,
		 struct admission *shared, const char *adapter_uid);
/* Makes w use the process's failed-authentication table (shared; not
 * owned) instead of its own. */
void worker_share_throttle(struct worker *w, struct auth_throttle *shared);
/* After w->cfg was replaced by a reload: recomputes what derives from it
 * (the timeout queues of reloadable durations, the trusted proxies). */
int worker_apply_config(struct worker *w) SG_WUR;

/* Frees what the worker owns; every connection must be closed first. */
void worker_fini(struct worker *w);

struct sio_nsp *worker_nsp(struct worker *w, const char *name, size_t len);

/* Why the worker is not ready to serve (shutting down, a Redis link down),
 * or NULL when it is: /readyz and siogate_ready. */
const char *worker_unready(const struct worker *w);
/* Whether the peer sa is in server.trusted_proxies. */
bool worker_trusts(const struct worker *w, const struct sockaddr *sa);

/* Takes a token from the handshake bucket (limits.handshakes_per_second);
 * false when the rate is exceeded. */
bool worker_admit_handshake(struct worker *w);

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

/* Schedules conn_flush_dirty at the end of this loop turn. */
void worker_schedule_flush(struct worker *w);

/* Schedules the reaper to run at the end of this loop turn. */
void worker_schedule_reap(struct worker *w);

/* A config duration as a timeval. */
struct timeval worker_ms_tv(int64_t ms);

#endif
