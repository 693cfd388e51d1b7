/*
 * log.c: the log sink.  Each record is formatted into a local buffer and
 * written with a single write(2) so lines from different threads never
 * interleave.  Message bytes are escaped here (control characters and
 * backslashes in text, the JSON specials in JSON), so a record is always one
 * line and callers may pass network input.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json_js.h"

/* The process-wide sink settings (see log.h for why these two are not owned
 * by a worker). */
static _Atomic int log_level = SG_LOG_INFO;
static _Atomic int log_format = SG_LOG_TEXT;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static void emit(enum sg_log_level level, const char *fmt, va_list ap) SG_PRINTF(2, 0);
static void escape_text(struct sg_buf *out, const char *s, size_t len);

void log_configure(enum sg_log_level level, enum sg_log_format format)
{
	atomic_store(&log_level, (int)level);
	atomic_store(&log_format, (int)format);
}

bool log_enabled(enum sg_log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

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
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ms % 1000));
	memcpy(buf, tmp, 31);
	buf[31] = '\0';
	return buf;
}

/* Text lines: control characters and backslashes become \xNN / \\ so a
 * record is always one line; other bytes pass as they are. */
static void escape_text(struct sg_buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != 0x7f && c != '\\') {
			sg_buf_append_char(out, (char)c);
		} else if (c == '\\') {
			sg_buf_append_str(out, "\\\\");
		} else {
			sg_buf_printf(out, "\\x%02x", c);
		}
	}
}

static void emit(enum sg_log_level level, const char *fmt, va_list ap)
{
	char msg[2048], when[32];
	struct sg_buf line;
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	sg_time_iso(when, sg_now_ms());
	sg_buf_init(&line);
	if (atomic_load(&log_format) == SG_LOG_JSON) {
		sg_buf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", when,
			      level_names[level]);
		json_js_string(&line, msg, (size_t)n);
		sg_buf_append_str(&line, "}\n");
	} else {
		sg_buf_printf(&line, "%s %s ", when, level_names[level]);
		escape_text(&line, msg, (size_t)n);
		sg_buf_append_char(&line, '\n');
	}
	/* One write per record; a short write to stderr is not retried (a log
	 * line must never block or fail the daemon). */
	if (write(STDERR_FILENO, line.data, line.len) < 0) {
		/* nothing sensible to do */
	}
	sg_buf_fini(&line);
}

void log_write(enum sg_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, fmt, ap);
	va_end(ap);
}

void log_always(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(SG_LOG_INFO, fmt, ap);
	va_end(ap);
}
