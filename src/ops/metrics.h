/*
 * metrics.h: the /metrics page in Prometheus text format (version 0.0.4),
 * rendered from metrics.def, close.def and a few gauges, added up over the
 * workers, and the verifier latency histogram.
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include "core/common.h"

struct worker;
struct worker_stats;
struct bridge_stats;

/* A worker's share of the page, taken on its own thread: its counters, its
 * gauges and its bridge's state, then (several workers) its room names. */
void metrics_snapshot(struct worker *w, struct sg_buf *out);
/* Appends the whole page from the snapshots of every worker. */
void metrics_render(struct sg_buf *out, const struct sg_buf *snapshots, size_t n);

#endif
