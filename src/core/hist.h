/*
 * hist.h: a latency histogram, the way /metrics exposes it: fixed buckets
 * from 50 microseconds to 2.5 seconds, a count and a sum.  A histogram is
 * owned by a worker (its stats) and observed on that worker's thread only;
 * /metrics adds the workers' copies up.
 */
#ifndef SG_HIST_H
#define SG_HIST_H

#include "core/clock.h"
#include "core/common.h"

#define HIST_BUCKETS 16 /* HIST_BUCKETS - 1 upper bounds, then +Inf */

struct sg_hist {
	uint64_t buckets[HIST_BUCKETS]; /* observations per bucket (not cumulative) */
	uint64_t count;
	double sum_s;
};

/* The upper bound, in seconds, of each bucket but the last (+Inf). */
extern const double hist_bounds[HIST_BUCKETS - 1];

/* Records one observation of `seconds`. */
void hist_observe(struct sg_hist *h, double seconds);
/* Records the time since started_ns (sg_mono_ns()). */
void hist_observe_since(struct sg_hist *h, int64_t started_ns);
/* Adds h into sum. */
void hist_add(struct sg_hist *sum, const struct sg_hist *h);

#endif
