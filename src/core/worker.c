/*
 * worker.c: worker set-up, the modules of the layers, deferred calls and
 * the memory trim (see worker.h).  Invariant: an object handed to
 * worker_defer() is already unlinked from every index and has no pending
 * event; only its deferred call frees it.  This file names no layer above
 * core: the layers reach it through their worker_module.
 */
#include "core/worker.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/inbox.h"
#include "core/log.h"

/* After this many deferred frees (a client is about three: its socket, its
 * session, its connection) the heap's free pages go back to the system
 * WORKER_TRIM_DELAY_MS later (one trim per wave of closes): glibc keeps
 * them otherwise, and RSS would stay at the peak of a spike. */
#define WORKER_TRIM_AFTER_FREES 768
#define WORKER_TRIM_DELAY_MS 2000
/* The loop-lag timer's period: how late it fires is how long the loop was
 * busy with something else (siogate_event_loop_lag_seconds). */
#define WORKER_LAG_INTERVAL_MS 250

static void on_reap(evutil_socket_t fd, short what, void *arg);
static void on_flush(evutil_socket_t fd, short what, void *arg);
static void on_trim(evutil_socket_t fd, short what, void *arg);
static void on_lag_timer(evutil_socket_t fd, short what, void *arg);
static void arm_lag_timer(struct worker *w);
static void run_deferred(struct worker *w);

struct timeval worker_ms_tv(int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

const struct timeval *worker_common_timeout(struct event_base *base, int64_t ms)
{
	struct timeval tv = worker_ms_tv(ms);

	return event_base_init_common_timeout(base, &tv);
}

int worker_init(struct worker *w, struct event_base *base, const struct sg_config *cfg,
		const struct jwt_verifier *jwt, const struct worker_module *const *modules,
		size_t n_modules)
{
	memset(w, 0, sizeof(*w));
	w->admin_spare = -1;
	w->base = base;
	w->cfg = cfg;
	w->jwt = jwt;
	w->modules = modules;
	w->n_modules = n_modules;
	w->reaper = event_new(base, -1, 0, on_reap, w);
	w->flusher = event_new(base, -1, 0, on_flush, w);
	w->trimmer = evtimer_new(base, on_trim, w);
	w->lag_timer = evtimer_new(base, on_lag_timer, w);
	pthread_rwlock_init(&w->ids_lock, NULL);
	w->n_workers = 1;
	w->self = w;
	w->siblings = &w->self;
	sg_uid_new(w->adapter_uid);
	w->inbox = inbox_new(base, w);
	if (w->inbox == NULL || w->reaper == NULL || w->flusher == NULL || w->trimmer == NULL ||
	    w->lag_timer == NULL)
		return -1;
	for (; w->n_started < n_modules; w->n_started++) {
		const struct worker_module *m = modules[w->n_started];
		if (m->init != NULL && m->init(w) != 0) {
			log_error("worker %u: cannot set up its %s", (unsigned)w->index, m->name);
			return -1;
		}
	}
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
		 const char *adapter_uid)
{
	w->index = index;
	w->siblings = siblings;
	w->n_workers = n;
	memcpy(w->adapter_uid, adapter_uid, sizeof(w->adapter_uid));
}

int worker_apply_config(struct worker *w)
{
	for (size_t i = 0; i < w->n_started; i++) {
		const struct worker_module *m = w->modules[i];
		if (m->apply_config != NULL && m->apply_config(w) != 0)
			return -1;
	}
	return 0;
}

void worker_count_close(struct worker *w, enum sg_close reason, const struct log_facts *f)
{
	struct log_facts facts;

	w->stats.closes[reason]++;
	if (f == NULL || !log_enabled(SG_LOG_DEBUG))
		return;
	facts = *f;
	facts.reason = sg_close_text(reason);
	log_with(SG_LOG_DEBUG, &facts, "client closed: %s", facts.reason);
}

void worker_schedule_flush(struct worker *w)
{
	event_active(w->flusher, 0, 0);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	for (size_t i = 0; i < w->n_started; i++)
		if (w->modules[i]->flush != NULL)
			w->modules[i]->flush(w);
}

void worker_defer(struct worker *w, unsigned order, void *obj, void (*fn)(void *obj))
{
	struct worker_defer_queue *q =
		&w->deferred[order < WORKER_DEFER_ORDERS ? order : WORKER_DEFER_ORDERS - 1];

	if (q->n == q->cap) {
		if (q->head > 0) {
			/* reuse the room the calls already run left at the front */
			memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof(*q->v));
			q->n -= q->head;
			q->head = 0;
		} else {
			q->cap = q->cap ? q->cap * 2 : 64;
			q->v = sg_realloc(q->v, q->cap * sizeof(*q->v));
		}
	}
	q->v[q->n].obj = obj;
	q->v[q->n].fn = fn;
	q->n++;
	if (w->reaper != NULL)
		event_active(w->reaper, 0, 0);
}

/* Runs the deferred calls, the highest order first; a call may defer
 * others, of any order, which run in this same pass. */
static void run_deferred(struct worker *w)
{
	for (;;) {
		struct worker_defer_queue *q = NULL;
		struct worker_deferred d;

		for (int o = WORKER_DEFER_ORDERS - 1; o >= 0 && q == NULL; o--)
			if (w->deferred[o].head < w->deferred[o].n)
				q = &w->deferred[o];
		if (q == NULL)
			break;
		d = q->v[q->head++];
		if (q->head == q->n)
			q->head = q->n = 0;
		d.fn(d.obj);
		w->freed_since_trim++;
	}
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	run_deferred(w);
	if (w->freed_since_trim >= WORKER_TRIM_AFTER_FREES && w->trimmer != NULL &&
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
	log_debug("returning the memory of %zu freed objects to the system", w->freed_since_trim);
	w->freed_since_trim = 0;
	(void)malloc_trim(0);
}

void worker_fini(struct worker *w)
{
	run_deferred(w);
	while (w->n_started > 0) {
		const struct worker_module *m = w->modules[--w->n_started];
		if (m->fini != NULL)
			m->fini(w);
		run_deferred(w);
	}
	for (int o = 0; o < WORKER_DEFER_ORDERS; o++)
		free(w->deferred[o].v);
	inbox_free(w->inbox);
	pthread_rwlock_destroy(&w->ids_lock);
	if (w->reaper)
		event_free(w->reaper);
	if (w->flusher)
		event_free(w->flusher);
	if (w->trimmer)
		event_free(w->trimmer);
	if (w->lag_timer)
		event_free(w->lag_timer);
	memset(w, 0, sizeof(*w));
}
