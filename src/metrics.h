/*
 * metrics.h: the /metrics page in Prometheus text format (version 0.0.4),
 * rendered from metrics.def, close.def and a few gauges, added up over the
 * workers, and the verifier latency histogram.
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include "common.h"

struct worker;
struct worker_stats;
struct bridge_stats;
struct sg_hist;

/* Records one observation of `seconds` (a verifier decision, a fan-out). */
void metrics_observe(struct sg_hist *h, double seconds);

/* Appends the whole page.  bridge is NULL when siogate runs standalone. */
void metrics_render(struct sg_buf *out, struct worker *const *workers, size_t n_workers,
		    const struct bridge_stats *bridge);

#endif
