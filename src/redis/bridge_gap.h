/*
 * bridge_gap.h: the process's subscription gaps (pure: no libevent, no
 * Redis).  Each worker subscribes on its own connection; while one of them
 * is not subscribed, messages published on Redis may not reach that
 * worker's clients.  A gap of the process runs from the moment the first
 * worker's subscriber stopped delivering to the moment the last one had
 * every subscription confirmed again; its length is added up, and it is
 * announced once (a redis_gap lifecycle event) after it closed.  Worker 0's
 * bridge owns the one instance; the other workers report to it through its
 * inbox.  Redis keeps no count of what was published on a channel, so a
 * gap is measured in time only: nothing says how many messages it ate.
 */
#ifndef SG_BRIDGE_GAP_H
#define SG_BRIDGE_GAP_H

#include "core/common.h"

struct bridge_gap;

/* A closed gap waiting to be announced.  When several close before one is
 * announced, they are merged: since is the earliest start, until the
 * latest end, ms the sum of their lengths. */
struct bridge_gap_event {
	int64_t since_wall_ms; /* wall clock, ms since the epoch */
	int64_t until_wall_ms;
	int64_t ms;
};

struct bridge_gap *bridge_gap_new(size_t n_workers);
void bridge_gap_free(struct bridge_gap *g);

/* Worker `worker`'s subscriber stopped delivering at since (wall and
 * monotonic ms: the last moment it is known to have delivered).  A worker
 * already down keeps the earlier start. */
void bridge_gap_down(struct bridge_gap *g, size_t worker, int64_t since_wall_ms,
		     int64_t since_mono_ms);
/* Worker `worker` has every subscription confirmed again at (wall, mono).
 * Returns true when that closed the process's gap: every worker is back,
 * and the gap waits in bridge_gap_pending().  A worker not down: no-op. */
bool bridge_gap_up(struct bridge_gap *g, size_t worker, int64_t wall_ms, int64_t mono_ms);

/* The gap(s) waiting to be announced: true and *ev filled, or false. */
bool bridge_gap_pending(const struct bridge_gap *g, struct bridge_gap_event *ev);
/* The announcement went out: nothing waits any more. */
void bridge_gap_announced(struct bridge_gap *g);
/* An announcement was lost: ev waits again (merged with what waits now). */
void bridge_gap_requeue(struct bridge_gap *g, const struct bridge_gap_event *ev);

/* Milliseconds of gaps since start, the one still open counted up to
 * now_mono_ms; and how many gaps closed. */
uint64_t bridge_gap_total_ms(const struct bridge_gap *g, int64_t now_mono_ms);
uint64_t bridge_gap_count(const struct bridge_gap *g);
/* True while some worker is down. */
bool bridge_gap_open(const struct bridge_gap *g);

/* The lifecycle event, one JSON object:
 * {"type":"redis_gap","server":S,"since":ISO,"until":ISO,"seconds":N,"time":ISO}
 * where seconds is ev->ms / 1000 with millisecond precision. */
void bridge_gap_format(struct sg_buf *out, const struct bridge_gap_event *ev, const char *server,
		       int64_t now_wall_ms);

#endif
