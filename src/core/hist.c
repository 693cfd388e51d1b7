/*
 * hist.c: latency histograms (see hist.h).  The buckets are Prometheus's
 * usual latency layout, extended down to 50 microseconds for the
 * verifier, the fan-out and the loop lag, which are mostly far below a
 * millisecond.
 */
#include "core/hist.h"

#include "core/clock.h"
#include "core/log.h"

const double hist_bounds[HIST_BUCKETS - 1] = {
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025,	 0.05,	 0.1,	  0.25,	  0.5,	 1,	 2.5,
};

void hist_observe(struct sg_hist *h, double seconds)
{
	size_t i;

	for (i = 0; i < HIST_BUCKETS - 1; i++)
		if (seconds <= hist_bounds[i])
			break;
	h->buckets[i]++;
	h->count++;
	h->sum_s += seconds;
}

void hist_observe_since(struct sg_hist *h, int64_t started_ns)
{
	hist_observe(h, (double)(sg_mono_ns() - started_ns) / 1e9);
}

void hist_add(struct sg_hist *sum, const struct sg_hist *h)
{
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		sum->buckets[i] += h->buckets[i];
	sum->count += h->count;
	sum->sum_s += h->sum_s;
}
