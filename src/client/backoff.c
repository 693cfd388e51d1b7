/*
 * backoff.c: exponential backoff with jitter for reconnection (backo2's
 * formula).  Invariant: the result is always in [0, max_ms].
 */
#include "backoff.h"

#include <math.h>

unsigned sgc_backoff_delay(unsigned attempt, unsigned min_ms, unsigned max_ms, double jitter,
			   double r)
{
	double ms = (double)min_ms * pow(2.0, attempt > 64 ? 64.0 : (double)attempt);

	if (jitter > 0) {
		double deviation = floor(r * jitter * ms);
		if (((long long)floor(r * 10.0) & 1) == 0)
			ms -= deviation;
		else
			ms += deviation;
	}
	if (ms > (double)max_ms)
		ms = (double)max_ms;
	if (ms < 0)
		ms = 0;
	return (unsigned)ms;
}
