/*
 * worker_set.c: the worker threads (see worker_set.h), each with the
 * modules of every layer, lowest first.  Invariant: a slot's
 * worker, base and bridge are touched only by the slot's thread once it
 * started, and by worker_set_free() after it was joined; everything else
 * reaches it through its inbox.
 */
#include "worker_set.h"

#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/admin_ui.h"
#include "app/auth_throttle.h"
#include "app/authflow.h"
#include "cluster/cluster.h"
#include "config/config.h"
#include "core/gather.h"
#include "core/ids.h"
#include "core/inbox.h"
#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"
#include "net/admission.h"
#include "net/conn.h"
#include "net/proxy_accept.h"
#include "ops/admin.h"
#include "redis/bridge.h"
#include "sio/sio.h"

/* The daemon's layers in every worker, lowest first (worker_module). */
static const struct worker_module *const modules[] = {
	&conn_module,	  &proxy_accept_module, &eio_module,   &sio_module,
	&authflow_module, &admin_ui_module,	&admin_module,
};

/* The drain ticks: server.drain_window is cut into slices of this length. */
#define DRAIN_TICK_MS 50
#define WORKERS_MAX 256

struct slot {
	struct worker w; /* first: a worker is its slot */
	struct worker_set *set;
	struct event_base *base; /* owned, except worker 0's */
	struct bridge *bridge;
	pthread_t thread;
	bool thread_started;
	bool ready; /* worker_init succeeded */
	struct event *drain_tick;
	size_t drain_batch;	/* sessions closed per tick */
	struct job drained_job; /* to worker 0: this one is empty */
	struct job exit_job;	/* to this one: end the loop */
	bool drained, exit_posted;
};

struct worker_set {
	size_t n;
	struct slot *slots;
	struct worker **ws; /* &slots[i].w, the siblings list */
	struct admission *admission;
	struct auth_throttle *throttle; /* failed authentications per address, shared */
	char uid[8];			/* the adapter uid stem of this process */
	size_t n_drained;
	void (*on_drained)(void *arg);
	void *drained_arg;
};

static void *thread_main(void *arg);
static void drain_begin(struct worker *w, const void *ctx, struct sg_buf *out);
static void drain_started(struct worker *origin, void *ctx, struct sg_buf *parts, size_t n);
static void on_drain_tick(evutil_socket_t fd, short what, void *arg);
static void close_some(struct slot *sl);
static void on_drained(struct worker *w, struct job *j);
static void on_exit_job(struct worker *w, struct job *j);

size_t worker_set_count(const struct sg_config *cfg)
{
	long n = cfg->server.workers;

	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	return (size_t)n;
}

struct worker_set *worker_set_new(struct event_base *base0, const struct sg_config *cfg,
				  const struct jwt_verifier *jwt, SSL_CTX *tls,
				  const char *admin_token, size_t n, struct sg_err *err)
{
	struct worker_set *s = sg_calloc(1, sizeof(*s));

	s->n = n;
	s->slots = sg_calloc(n, sizeof(*s->slots));
	s->ws = sg_calloc(n, sizeof(*s->ws));
	s->admission = admission_new();
	s->throttle = auth_throttle_new();
	sg_uid_new(s->uid);
	for (size_t i = 0; i < n; i++) {
		struct slot *sl = &s->slots[i];
		sl->set = s;
		s->ws[i] = &sl->w;
		sl->base = i == 0 ? base0 : event_base_new();
		if (sl->base == NULL ||
		    worker_init(&sl->w, sl->base, cfg, jwt, modules, SG_ARRAY_LEN(modules)) != 0) {
			sg_err_set(err, "cannot set up worker %zu", i);
			if (sl->base != NULL)
				sl->ready = true; /* partially: worker_fini undoes it */
			worker_set_free(s);
			return NULL;
		}
		sl->ready = true;
		sl->w.tls = tls;
		sl->w.admin_token = admin_token;
		/* the process's limits, shared by every worker */
		sl->w.admission = s->admission;
		sl->w.throttle = s->throttle;
	}
	for (size_t i = 0; i < n; i++)
		worker_join(&s->slots[i].w, (uint8_t)i, s->ws, n, s->uid);
	for (size_t i = 0; i < n && cfg->redis.url.n > 0; i++) {
		struct slot *sl = &s->slots[i];
		sl->bridge = bridge_new(&sl->w, &cluster_bridge_ops, err);
		if (sl->bridge == NULL) {
			worker_set_free(s);
			return NULL;
		}
		sl->w.bridge = sl->bridge;
	}
	return s;
}

struct worker *worker_set_get(struct worker_set *s, size_t i)
{
	return &s->slots[i].w;
}

static void *thread_main(void *arg)
{
	struct slot *sl = arg;

	event_base_dispatch(sl->base);
	return NULL;
}

int worker_set_start(struct worker_set *s, struct sg_err *err)
{
	sigset_t all, old;
	int rc = 0;

	/* signals go to the main thread's loop */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 1; i < s->n; i++) {
		int e = pthread_create(&s->slots[i].thread, NULL, thread_main, &s->slots[i]);
		if (e != 0) {
			sg_err_set(err, "cannot start worker %zu: %s", i, strerror(e));
			rc = -1;
			break;
		}
		s->slots[i].thread_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* ---- graceful stop ---- */

void worker_set_drain(struct worker_set *s, void (*cb)(void *arg), void *arg)
{
	s->on_drained = cb;
	s->drained_arg = arg;
	gather(&s->slots[0].w, -1, drain_begin, drain_started, s);
}

/* On each worker: refuse new connections, leave the cluster, and close the
 * sessions in batches spread over server.drain_window, so that the
 * clients' reconnections do not all land on the other instances at once. */
static void drain_begin(struct worker *w, const void *ctx, struct sg_buf *out)
{
	struct slot *sl = (struct slot *)w;
	struct timeval tick = { 0, DRAIN_TICK_MS * 1000 };
	int64_t window = w->cfg->server.drain_window_ms;
	size_t ticks = window > 0 ? (size_t)(window / DRAIN_TICK_MS) : 0;

	SG_UNUSED(ctx);
	w->shutting_down = true;
	bridge_leave(w->bridge);
	sl->drain_batch = ticks > 0 ? (w->n_sessions + ticks - 1) / ticks : w->n_sessions;
	if (sl->drain_batch == 0)
		sl->drain_batch = 1;
	sg_buf_printf(out, "%zu", w->n_sessions);
	close_some(sl);
	sl->drain_tick = event_new(w->base, -1, EV_PERSIST, on_drain_tick, sl);
	event_add(sl->drain_tick, &tick);
	on_drain_tick(-1, 0, sl);
}

/* Every worker began: say how many sessions the drain closes in all. */
static void drain_started(struct worker *origin, void *ctx, struct sg_buf *parts, size_t n)
{
	SG_UNUSED(ctx);
	log_info("closing %llu session(s) over %lld ms", gather_sum(parts, n),
		 (long long)origin->cfg->server.drain_window_ms);
}

/* Closes the next batch of sessions with a transport close (not a
 * namespace disconnect): clients reconnect elsewhere.  Polling sessions
 * with no GET to carry the close are not waited for. */
static void close_some(struct slot *sl)
{
	struct worker *w = &sl->w;
	size_t n = 0;

	for (struct eio_session *s = w->sessions, *next; s != NULL && n < sl->drain_batch;
	     s = next) {
		next = s->next;
		if (s->closing) {
			/* waiting for a last GET or the end of an upgrade: not now */
			eio_session_abort(s, SG_CLOSE_SHUTDOWN);
			continue;
		}
		eio_session_close(s, SG_CLOSE_SHUTDOWN, true);
		if (s->draining)
			eio_session_finish(s);
		n++;
	}
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct slot *sl = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	close_some(sl);
	if (sl->drained || sl->w.n_sessions > 0 || sl->w.n_conns > 0)
		return;
	sl->drained = true;
	event_del(sl->drain_tick);
	sl->drained_job.run = on_drained;
	inbox_post(sl->set->slots[0].w.inbox, &sl->drained_job);
}

static void on_drained(struct worker *w, struct job *j)
{
	struct worker_set *s = ((struct slot *)w)->set;

	SG_UNUSED(j);
	if (++s->n_drained == s->n && s->on_drained != NULL)
		s->on_drained(s->drained_arg);
}

static void on_exit_job(struct worker *w, struct job *j)
{
	SG_UNUSED(j);
	event_base_loopexit(w->base, NULL);
}

void worker_set_stop(struct worker_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct slot *sl = &s->slots[i];
		if (sl->exit_posted)
			continue;
		sl->exit_posted = true;
		sl->exit_job.run = on_exit_job;
		inbox_post(sl->w.inbox, &sl->exit_job);
	}
}

void worker_set_free(struct worker_set *s)
{
	size_t ran;

	if (s == NULL)
		return;
	worker_set_stop(s);
	for (size_t i = 1; i < s->n; i++)
		if (s->slots[i].thread_started)
			pthread_join(s->slots[i].thread, NULL);
	/* every loop ended: run what is still queued (answers on their way
	 * back, jobs posted during the stop), on this thread */
	do {
		ran = 0;
		for (size_t i = 0; i < s->n; i++)
			if (s->slots[i].ready && s->slots[i].w.inbox != NULL)
				ran += inbox_run(s->slots[i].w.inbox);
	} while (ran > 0);
	/* Reverse order: nothing may call back into what is already freed. */
	for (size_t i = 0; i < s->n; i++) {
		struct slot *sl = &s->slots[i];
		struct worker *w = &sl->w;
		if (!sl->ready)
			continue;
		cluster_fini(w);
		w->bridge = NULL;
		bridge_free(sl->bridge);
		while (w->sessions != NULL)
			eio_session_abort(w->sessions, SG_CLOSE_SHUTDOWN);
		while (w->conns != NULL)
			conn_close(w->conns, SG_CLOSE_SHUTDOWN);
	}
	for (size_t i = 0; i < s->n; i++) {
		struct slot *sl = &s->slots[i];
		if (sl->drain_tick)
			event_free(sl->drain_tick);
		if (sl->ready)
			worker_fini(&sl->w);
		if (i > 0 && sl->base != NULL)
			event_base_free(sl->base);
	}
	admission_free(s->admission);
	auth_throttle_free(s->throttle);
	free(s->ws);
	free(s->slots);
	free(s);
}
