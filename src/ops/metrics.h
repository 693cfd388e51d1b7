/*
 * metrics.h: the /metrics page in Prometheus text format (version 0.0.4),
 * rendered from the tables of every metric, core/metrics.def (what the
 * workers count, added up) and ops/metrics.def (computed per scrape), with
 * label values from close.def, auth_fail.def and the like.
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include "core/common.h"

struct worker;

/* A worker's part of the page, taken on its own thread: its counters, its
 * gauges and its bridge's state, then (several workers) its room names. */
void metrics_snapshot(struct worker *w, struct sg_buf *out);
/* Appends the whole page from the parts of every worker. */
void metrics_render(struct sg_buf *out, const struct sg_buf *parts, size_t n);
/* Appends every metric of the tables, one line each, tab-separated: name,
 * type (counter, gauge, histogram), label names (comma-separated, "-" for
 * none) and help.  `siogate --list-metrics` prints it. */
void metrics_list(struct sg_buf *out);

#endif
