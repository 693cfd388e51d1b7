/*
 * callout.c: outcomes and latency of the calls to backends (see
 * callout.h).
 */
#include "core/callout.h"

static const char *const outcome_names[CALLOUT__COUNT] = { "ok", "error", "timeout", "unavailable",
							   "overloaded" };
static const char *const target_names[FORWARD__COUNT] = { "stream", "http" };

const char *callout_outcome_name(enum callout_outcome o)
{
	return (unsigned)o < CALLOUT__COUNT ? outcome_names[o] : "unknown";
}

const char *forward_target_name(enum forward_target t)
{
	return (unsigned)t < FORWARD__COUNT ? target_names[t] : "unknown";
}

void callout_record(struct callout_stats *st, enum callout_outcome o, int64_t started_ns)
{
	st->outcomes[o]++;
	if (o != CALLOUT_UNAVAILABLE && o != CALLOUT_OVERLOADED)
		hist_observe_since(&st->seconds, started_ns);
}
