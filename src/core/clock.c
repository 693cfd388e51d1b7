/*
 * clock.c: the wall and monotonic clocks (see clock.h).
 */
#include "core/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t sg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sg_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

char *sg_time_iso(char *buf, int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	char tmp[96];
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	memcpy(buf, tmp, 31);
	buf[31] = '\0';
	return buf;
}
