/*
 * callout.h: what /metrics counts of siogate's calls to backends
 * (events.forward to a Redis stream or an HTTP endpoint, rooms.http): how
 * each one ended and how long it took.  One callout_stats per kind of call
 * in a worker's stats, touched on that worker's thread only.
 */
#ifndef SG_CALLOUT_H
#define SG_CALLOUT_H

#include "core/clock.h"
#include "core/common.h"
#include "core/hist.h"

enum callout_outcome {
	CALLOUT_OK,	     /* the target took it (a 2xx with a usable answer, an XADD entry id) */
	CALLOUT_ERROR,	     /* the target answered, but with an error or nothing usable */
	CALLOUT_TIMEOUT,     /* no answer within the call's timeout */
	CALLOUT_UNAVAILABLE, /* not delivered: connection refused or lost before an answer,
				Redis not connected */
	CALLOUT_OVERLOADED,  /* not sent: over its byte bound (events.max_pending,
				rooms.http.max_pending) */
	CALLOUT__COUNT
};

/* The targets of events.forward, for siogate_events_forward_*{target}. */
enum forward_target {
	FORWARD_STREAM, /* a Redis stream (XADD) */
	FORWARD_HTTP,	/* an HTTP endpoint (POST) */
	FORWARD__COUNT
};

struct callout_stats {
	uint64_t outcomes[CALLOUT__COUNT];
	struct sg_hist seconds; /* answered or timed out calls, from sending to the end */
};

/* "ok", "error", "timeout", "unavailable", "overloaded". */
const char *callout_outcome_name(enum callout_outcome o);
/* "stream", "http". */
const char *forward_target_name(enum forward_target t);

/* Counts a call that ended with o; started_ns (sg_mono_ns()) gives its
 * latency, observed unless it was not delivered (it never left). */
void callout_record(struct callout_stats *st, enum callout_outcome o, int64_t started_ns);

#endif
