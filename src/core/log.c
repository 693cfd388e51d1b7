/*
 * log.c: the log sink.  Each record is formatted into a local buffer and
 * written with a single write(2) so lines from different threads never
 * interleave.  Message bytes are escaped here (control characters and
 * backslashes in text, the JSON specials in JSON), so a record is always one
 * line and callers may pass network input.  Under the journal a line starts
 * with its syslog priority and, in text, has no time of its own.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/json_js.h"

/* The process-wide sink settings (see log.h for why these are not owned by
 * a worker). */
static _Atomic int log_level = SG_LOG_INFO;
static _Atomic int log_format = SG_LOG_TEXT;
static _Atomic bool log_journal = false;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
/* syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const char level_prio[] = { '3', '4', '6', '7' };

static void emit(enum sg_log_level level, const struct log_facts *f, const char *fmt, va_list ap)
	SG_PRINTF(3, 0);
static void escape_text(struct sg_buf *out, const char *s, size_t len);
static void text_fact(struct sg_buf *out, const char *key, const char *value);
static void json_fact(struct sg_buf *out, const char *key, const char *value);
static void add_facts(struct sg_buf *out, const struct log_facts *f, bool json);
static bool stderr_is_journal(void);

/* systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" (decimal st_dev and
 * st_ino) of the stream connected to the journal; it is the journal only if
 * our stderr is that very file (a shell may have redirected it). */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char extra;

	if (env == NULL || sscanf(env, "%llu:%llu%c", &dev, &ino, &extra) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_configure(enum sg_log_level level, enum sg_log_format format)
{
	atomic_store(&log_level, (int)level);
	atomic_store(&log_format, (int)format);
	atomic_store(&log_journal, stderr_is_journal());
}

bool log_enabled(enum sg_log_level level)
{
	return (int)level <= atomic_load(&log_level);
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

/* key=value; the value in double quotes (with \" and \\) when it is empty
 * or holds a space, a quote or '=', so a line splits back into its facts. */
static void text_fact(struct sg_buf *out, const char *key, const char *value)
{
	bool quote = value[0] == '\0' || strpbrk(value, " \"=") != NULL;

	sg_buf_printf(out, " %s=", key);
	if (!quote) {
		escape_text(out, value, strlen(value));
		return;
	}
	sg_buf_append_char(out, '"');
	for (const char *p = value; *p; p++) {
		if (*p == '"')
			sg_buf_append_str(out, "\\\"");
		else
			escape_text(out, p, 1);
	}
	sg_buf_append_char(out, '"');
}

static void json_fact(struct sg_buf *out, const char *key, const char *value)
{
	sg_buf_printf(out, ",\"%s\":", key);
	json_js_string(out, value, strlen(value));
}

static void add_facts(struct sg_buf *out, const struct log_facts *f, bool json)
{
	const struct {
		const char *key;
		const char *value;
	} strs[] = {
		{ "addr", f->addr }, { "sid", f->sid },	  { "socket", f->socket },
		{ "nsp", f->nsp },   { "user", f->user }, { "reason", json ? f->reason : NULL },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(strs); i++) {
		if (strs[i].value == NULL)
			continue;
		if (json)
			json_fact(out, strs[i].key, strs[i].value);
		else
			text_fact(out, strs[i].key, strs[i].value);
	}
	if (f->worker >= 0)
		sg_buf_printf(out, json ? ",\"worker\":%d" : " worker=%d", f->worker);
	if (f->suppressed > 0)
		sg_buf_printf(out, json ? ",\"suppressed\":%llu" : " suppressed=%llu",
			      f->suppressed);
}

static void emit(enum sg_log_level level, const struct log_facts *f, const char *fmt, va_list ap)
{
	char msg[2048], when[32];
	bool journal = atomic_load(&log_journal);
	struct sg_buf line;
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	sg_time_iso(when, sg_now_ms());
	sg_buf_init(&line);
	if (journal)
		sg_buf_printf(&line, "<%c>", level_prio[level]);
	if (atomic_load(&log_format) == SG_LOG_JSON) {
		/* JSON keeps its time under the journal too: a record is the
		 * same object wherever it is read */
		sg_buf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", when,
			      level_names[level]);
		json_js_string(&line, msg, (size_t)n);
		if (f != NULL)
			add_facts(&line, f, true);
		sg_buf_append_str(&line, "}\n");
	} else {
		if (!journal)
			sg_buf_printf(&line, "%s ", when);
		sg_buf_printf(&line, "%s ", level_names[level]);
		escape_text(&line, msg, (size_t)n);
		if (f != NULL)
			add_facts(&line, f, false);
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
	emit(level, NULL, fmt, ap);
	va_end(ap);
}

void log_with(enum sg_log_level level, const struct log_facts *f, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, f, fmt, ap);
	va_end(ap);
}

void log_limited(struct log_limit *l, enum sg_log_level level, const struct log_facts *f,
		 const char *fmt, ...)
{
	struct log_facts none = { .worker = -1 };
	struct log_facts facts;
	int64_t now;
	va_list ap;

	if (!log_enabled(level))
		return;
	now = sg_mono_ms();
	if (now < l->quiet_until_ms) {
		l->suppressed++;
		return;
	}
	facts = f != NULL ? *f : none;
	facts.suppressed = l->suppressed;
	l->suppressed = 0;
	l->quiet_until_ms = now + LOG_LIMIT_MS;
	va_start(ap, fmt);
	emit(level, &facts, fmt, ap);
	va_end(ap);
}

void log_always(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(SG_LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}
