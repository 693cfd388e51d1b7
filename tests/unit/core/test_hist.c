/*
 * test_hist.c: the latency histograms of /metrics (hist.c): an observation
 * lands in the first bucket whose bound it does not exceed, past the last
 * bound in +Inf.  (The call-out outcomes are test_callout.c's.)
 */
#include <string.h>

#include "core/hist.h"
#include "unit.h"

static void test_buckets(void)
{
	struct sg_hist h;

	memset(&h, 0, sizeof(h));
	hist_observe(&h, 0);	    /* first bucket */
	hist_observe(&h, 0.00005);  /* on the first bound: still the first */
	hist_observe(&h, 0.000051); /* the second */
	hist_observe(&h, 2.5);	    /* the last bound */
	hist_observe(&h, 3);	    /* +Inf */
	CHECK_INT(h.buckets[0], 2);
	CHECK_INT(h.buckets[1], 1);
	CHECK_INT(h.buckets[HIST_BUCKETS - 2], 1);
	CHECK_INT(h.buckets[HIST_BUCKETS - 1], 1);
	CHECK_INT(h.count, 5);
	CHECK(h.sum_s > 5.5000 && h.sum_s < 5.5002);
	for (size_t i = 1; i < HIST_BUCKETS - 1; i++)
		CHECK(hist_bounds[i] > hist_bounds[i - 1]);
}

static void test_add(void)
{
	struct sg_hist a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	hist_observe(&a, 0.01);
	hist_observe(&b, 0.01);
	hist_observe(&b, 10);
	hist_add(&a, &b);
	CHECK_INT(a.count, 3);
	CHECK_INT(a.buckets[7], 2); /* le=0.01 */
	CHECK_INT(a.buckets[HIST_BUCKETS - 1], 1);
}

int main(void)
{
	RUN(test_buckets);
	RUN(test_add);
	return UNIT_END();
}
