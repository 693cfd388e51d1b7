/*
 * metrics_totals.h: the values /metrics renders.  Each worker writes its
 * part (struct metrics_part: its worker_stats, a few gauges, its Redis
 * bridge's state) on its own thread; the asker adds the parts up into the
 * values of ops/metrics.def (struct metrics_totals) once per scrape, and
 * reads those of core/metrics.def from the parts directly.
 */
#ifndef SG_METRICS_TOTALS_H
#define SG_METRICS_TOTALS_H

#include "app/auth_jwt.h"
#include "core/common.h"
#include "core/worker.h"
#include "redis/bridge.h"

/* One series' value: present or not, an integer or a real. */
struct metric_value {
	bool present;	  /* false: no series (no Redis, a process file unreadable) */
	uint8_t decimals; /* 0: u, an integer; else d, printed with that many decimals */
	uint64_t u;
	double d;
};

/* A worker's part, followed in its buffer by its rooms (room_tally_write)
 * when it has siblings. */
struct metrics_part {
	struct worker_stats stats;
	uint64_t conns;		     /* client connections (admin.listen's excluded) */
	uint64_t polling, websocket; /* Engine.IO sessions by transport */
	uint64_t rooms;		     /* rooms with members, its own */
	bool ready;		     /* ready_reason() found nothing */
	bool has_bridge;
	struct bridge_stats bridge;
	bool has_jwks; /* keys from the issuer: the process's, the same for all */
	struct jwt_remote_stats jwks;
};

/* The values of ops/metrics.def. */
struct metrics_totals {
#define COUNTER(field, name, labels, help) struct metric_value field;
#define GAUGE(field, name, labels, help) struct metric_value field;
#define SERIES(field, labels) struct metric_value field;
#define COUNTER_BY(field, n, set, name, help) struct metric_value field[n];
#define GAUGE_BY(field, n, set, name, help) struct metric_value field[n];
#define GAUGE_BY_WORKER(field, name, help) /* struct metrics_part's field */
/* the X-macro includes, in this order */
/* clang-format off */
#include "ops/metrics.def"
#include "core/metrics_undef.h"
	/* clang-format on */
};

/* The part of parts[k] (k < n). */
const struct metrics_part *metrics_part_of(const struct sg_buf *parts, size_t k);

/* Fills t from the n workers' parts. */
void metrics_totals_compute(struct metrics_totals *t, const struct sg_buf *parts, size_t n);

#endif
