/*
 * bridge_gap.c: the process's subscription gaps (see bridge_gap.h).
 * Invariants: n_down counts the workers with down[i] set; the process's
 * gap is open exactly when n_down > 0, and then since_* is the earliest
 * start reported by a worker down in it.
 */
#include "redis/bridge_gap.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json_js.h"
#include "core/log.h"

struct bridge_gap {
	size_t n;
	bool *down; /* per worker */
	size_t n_down;
	int64_t since_wall_ms; /* of the open gap */
	int64_t since_mono_ms;
	uint64_t total_ms; /* closed gaps */
	uint64_t count;
	bool has_pending;
	struct bridge_gap_event pending;
};

static void merge(struct bridge_gap *g, const struct bridge_gap_event *ev);

struct bridge_gap *bridge_gap_new(size_t n_workers)
{
	struct bridge_gap *g = sg_calloc(1, sizeof(*g));

	g->n = n_workers > 0 ? n_workers : 1;
	g->down = sg_calloc(g->n, sizeof(*g->down));
	return g;
}

void bridge_gap_free(struct bridge_gap *g)
{
	if (g == NULL)
		return;
	free(g->down);
	free(g);
}

void bridge_gap_down(struct bridge_gap *g, size_t worker, int64_t since_wall_ms,
		     int64_t since_mono_ms)
{
	if (worker >= g->n)
		return;
	if (g->n_down == 0 || since_mono_ms < g->since_mono_ms) {
		g->since_wall_ms = since_wall_ms;
		g->since_mono_ms = since_mono_ms;
	}
	if (!g->down[worker]) {
		g->down[worker] = true;
		g->n_down++;
	}
}

bool bridge_gap_up(struct bridge_gap *g, size_t worker, int64_t wall_ms, int64_t mono_ms)
{
	struct bridge_gap_event ev;

	if (worker >= g->n || !g->down[worker])
		return false;
	g->down[worker] = false;
	if (--g->n_down > 0)
		return false;
	ev.since_wall_ms = g->since_wall_ms;
	ev.until_wall_ms = wall_ms;
	ev.ms = mono_ms > g->since_mono_ms ? mono_ms - g->since_mono_ms : 0;
	g->total_ms += (uint64_t)ev.ms;
	g->count++;
	merge(g, &ev);
	return true;
}

static void merge(struct bridge_gap *g, const struct bridge_gap_event *ev)
{
	if (!g->has_pending) {
		g->pending = *ev;
		g->has_pending = true;
		return;
	}
	if (ev->since_wall_ms < g->pending.since_wall_ms)
		g->pending.since_wall_ms = ev->since_wall_ms;
	if (ev->until_wall_ms > g->pending.until_wall_ms)
		g->pending.until_wall_ms = ev->until_wall_ms;
	g->pending.ms += ev->ms;
}

bool bridge_gap_pending(const struct bridge_gap *g, struct bridge_gap_event *ev)
{
	if (!g->has_pending)
		return false;
	*ev = g->pending;
	return true;
}

void bridge_gap_announced(struct bridge_gap *g)
{
	g->has_pending = false;
}

void bridge_gap_requeue(struct bridge_gap *g, const struct bridge_gap_event *ev)
{
	merge(g, ev);
}

uint64_t bridge_gap_total_ms(const struct bridge_gap *g, int64_t now_mono_ms)
{
	uint64_t t = g->total_ms;

	if (g->n_down > 0 && now_mono_ms > g->since_mono_ms)
		t += (uint64_t)(now_mono_ms - g->since_mono_ms);
	return t;
}

uint64_t bridge_gap_count(const struct bridge_gap *g)
{
	return g->count;
}

bool bridge_gap_open(const struct bridge_gap *g)
{
	return g->n_down > 0;
}

void bridge_gap_format(struct sg_buf *out, const struct bridge_gap_event *ev, const char *server,
		       int64_t now_wall_ms)
{
	char since[32], until[32], now[32];

	sg_buf_append_str(out, "{\"type\":\"redis_gap\",\"server\":");
	json_js_string(out, server, strlen(server));
	sg_buf_printf(out,
		      ",\"since\":\"%s\",\"until\":\"%s\",\"seconds\":%lld.%03lld,\"time\":\"%s\"}",
		      sg_time_iso(since, ev->since_wall_ms), sg_time_iso(until, ev->until_wall_ms),
		      (long long)(ev->ms / 1000), (long long)(ev->ms % 1000),
		      sg_time_iso(now, now_wall_ms));
}
