/*
 * ratelog.h: at most one log line per interval for an event that can come
 * in floods (refused connections, a full descriptor table): the first
 * occurrence is logged at once, the others are counted and their number is
 * given with the next line.  Pure; the owner keeps the struct.
 */
#ifndef SG_RATELOG_H
#define SG_RATELOG_H

#include <stdbool.h>
#include <stdint.h>

struct ratelog {
	int64_t next_ms; /* no line before this (monotonic ms); 0: never logged */
	uint64_t held;   /* occurrences not logged since the last line */
};

/* One occurrence at now_ms: true when a line is due (then *held is the
 * number of occurrences not logged before this one, and the count
 * restarts), false when it is only counted. */
bool ratelog_due(struct ratelog *r, int64_t now_ms, int64_t interval_ms, uint64_t *held);

/* The occurrences held back since the last line (for a summary once a
 * flood is over); the count restarts. */
uint64_t ratelog_take(struct ratelog *r);

#endif
