/*
 * clock.h: the clocks siogate reads: the wall clock, for timestamps that
 * leave the process (ISO-8601 like JavaScript's toISOString()), and the
 * monotonic clock, for every deadline and duration.
 */
#ifndef SG_CLOCK_H
#define SG_CLOCK_H

#include <stdint.h>

int64_t sg_now_ms(void);  /* wall clock, ms since the epoch */
int64_t sg_mono_ms(void); /* monotonic clock, ms */
int64_t sg_mono_ns(void); /* monotonic clock, ns */

/* Formats wall-clock ms since the epoch as JavaScript's toISOString():
 * "2026-11-26T10:16:12.345Z".  buf must hold 32 bytes; returns buf. */
char *sg_time_iso(char *buf, int64_t ms);

#endif
