/*
 * log.h: siogate's log sink.  One line per record on stderr (journald stamps
 * it), as text or JSON.  The level and format are the only process-wide
 * state siogate has outside its workers: they are set at start and on reload
 * through atomics, and every thread may log.  Callers escape nothing: the
 * sink escapes control characters and invalid UTF-8, so network bytes can be
 * logged safely; never pass tokens or secrets.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include "common.h"
#include "config.h"

void log_configure(enum sg_log_level level, enum sg_log_format format);
bool log_enabled(enum sg_log_level level);

/* Writes one record.  Thread-safe (one write(2) per record). */
void log_write(enum sg_log_level level, const char *fmt, ...) SG_PRINTF(2, 3);

/* Writes one record whatever the configured level (the readiness line). */
void log_always(const char *fmt, ...) SG_PRINTF(1, 2);

#define log_error(...) log_write(SG_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(SG_LOG_WARN, __VA_ARGS__)
#define log_info(...)                                                          \
	do {                                                                   \
		if (log_enabled(SG_LOG_INFO))                                  \
			log_write(SG_LOG_INFO, __VA_ARGS__);                   \
	} while (0)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(SG_LOG_DEBUG))                                 \
			log_write(SG_LOG_DEBUG, __VA_ARGS__);                  \
	} while (0)

/* Formats wall-clock ms since the epoch as JavaScript's toISOString():
 * "2026-11-26T10:16:12.345Z".  buf must hold 32 bytes; returns buf. */
char *sg_time_iso(char *buf, int64_t ms);
int64_t sg_now_ms(void);      /* wall clock, ms since the epoch */
int64_t sg_mono_ms(void);     /* monotonic clock, ms */
int64_t sg_mono_ns(void);     /* monotonic clock, ns */

#endif
