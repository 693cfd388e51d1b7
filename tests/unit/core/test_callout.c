/*
 * test_callout.c: what /metrics counts of siogate's calls to backends
 * (callout.c): every outcome is counted under its label, and timed in the
 * latency histogram only when the call was sent (ok, error, timeout), not
 * when it never left (unavailable, overloaded); the forward targets' labels;
 * out-of-range values read "unknown".
 */
#include <string.h>

#include "core/callout.h"
#include "core/clock.h"
#include "core/hist.h"
#include "unit.h"

static const struct {
	enum callout_outcome o;
	const char *name;
	bool timed;
} outcomes[] = {
	{ CALLOUT_OK, "ok", true },
	{ CALLOUT_ERROR, "error", true },
	{ CALLOUT_TIMEOUT, "timeout", true },
	{ CALLOUT_UNAVAILABLE, "unavailable", false },
	{ CALLOUT_OVERLOADED, "overloaded", false },
};

static void test_outcomes(void)
{
	CHECK_INT(SG_ARRAY_LEN(outcomes), CALLOUT__COUNT);
	for (size_t i = 0; i < SG_ARRAY_LEN(outcomes); i++) {
		struct callout_stats st;

		memset(&st, 0, sizeof(st));
		CHECK_STR(callout_outcome_name(outcomes[i].o), outcomes[i].name);
		callout_record(&st, outcomes[i].o, sg_mono_ns());
		callout_record(&st, outcomes[i].o, sg_mono_ns());
		for (int k = 0; k < CALLOUT__COUNT; k++)
			CHECK_INT(st.outcomes[k], k == (int)outcomes[i].o ? 2 : 0);
		CHECK_INT(st.seconds.count, outcomes[i].timed ? 2 : 0);
	}
}

/* The latency is the time since the call started: a 3 s call lands past
 * the last bound (2.5 s), a call just started in the first buckets. */
static void test_latency(void)
{
	struct callout_stats st;

	memset(&st, 0, sizeof(st));
	callout_record(&st, CALLOUT_TIMEOUT, sg_mono_ns() - INT64_C(3000000000));
	CHECK_INT(st.seconds.buckets[HIST_BUCKETS - 1], 1);
	CHECK(st.seconds.sum_s >= 3.0 && st.seconds.sum_s < 60.0);
	callout_record(&st, CALLOUT_OK, sg_mono_ns());
	CHECK_INT(st.seconds.count, 2);
	CHECK_INT(st.seconds.buckets[HIST_BUCKETS - 1], 1);
	/* never sent: its start time is not even read */
	callout_record(&st, CALLOUT_UNAVAILABLE, 0);
	CHECK_INT(st.seconds.count, 2);
}

static void test_names(void)
{
	CHECK_STR(forward_target_name(FORWARD_STREAM), "stream");
	CHECK_STR(forward_target_name(FORWARD_HTTP), "http");
	CHECK_STR(forward_target_name(FORWARD__COUNT), "unknown");
	CHECK_STR(forward_target_name((enum forward_target) - 1), "unknown");
	CHECK_STR(callout_outcome_name(CALLOUT__COUNT), "unknown");
	CHECK_STR(callout_outcome_name((enum callout_outcome) - 1), "unknown");
}

int main(void)
{
	RUN(test_outcomes);
	RUN(test_latency);
	RUN(test_names);
	return UNIT_END();
}
