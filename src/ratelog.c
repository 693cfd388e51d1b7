/*
 * ratelog.c: rate-limited log lines (see ratelog.h).
 */
#include "ratelog.h"

bool ratelog_due(struct ratelog *r, int64_t now_ms, int64_t interval_ms, uint64_t *held)
{
	if (r->next_ms != 0 && now_ms < r->next_ms) {
		r->held++;
		return false;
	}
	*held = r->held;
	r->held = 0;
	r->next_ms = now_ms + interval_ms;
	return true;
}

uint64_t ratelog_take(struct ratelog *r)
{
	uint64_t n = r->held;

	r->held = 0;
	return n;
}
