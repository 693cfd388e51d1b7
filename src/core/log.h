/*
 * log.h: siogate's log sink.  One line per record on stderr, as text or
 * JSON.  The level and format, and whether stderr is the journal, are the
 * only process-wide state siogate has outside its workers: they are set at
 * start and on reload through atomics, and every thread may log.  Callers
 * escape nothing: the sink escapes control characters and invalid UTF-8, so
 * network bytes can be logged safely; never pass tokens or secrets.
 *
 * When stderr is the systemd journal (JOURNAL_STREAM names it, see
 * systemd.exec(5)), every line starts with its syslog priority, "<3>" error,
 * "<4>" warn, "<6>" info, "<7>" debug (sd-daemon(3)), and text lines carry
 * no time of their own: journald stamps them.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include "core/common.h"

enum sg_log_level {
	SG_LOG_ERROR, /* errors only */
	SG_LOG_WARN,  /* and warnings */
	SG_LOG_INFO,  /* and lifecycle information (default) */
	SG_LOG_DEBUG, /* and per-connection detail */
};

enum sg_log_format {
	SG_LOG_TEXT, /* one human-readable line per record */
	SG_LOG_JSON, /* one JSON object per line */
};

/* Sets the level and format, and looks again at whether stderr is the
 * journal (JOURNAL_STREAM equal to fstat(2)'s st_dev:st_ino of fd 2). */
void log_configure(enum sg_log_level level, enum sg_log_format format);
bool log_enabled(enum sg_log_level level);

/* Writes one record.  Thread-safe (one write(2) per record). */
void log_write(enum sg_log_level level, const char *fmt, ...) SG_PRINTF(2, 3);

/* Writes one record whatever the configured level (the readiness line). */
void log_always(const char *fmt, ...) SG_PRINTF(1, 2);

/* What a record about one client states besides its message.  Each member
 * that is set becomes a field of a JSON record ("addr", "sid", "socket",
 * "nsp", "user", "reason", "worker", "suppressed"); a text record appends
 * them to the message as key=value (quoted when needed), except reason,
 * which the message of such a record always states in words.  Fill one with
 * a module's facts function (conn_facts, eio_facts, authflow_facts), which
 * sets every member. */
struct log_facts {
	const char *addr;	       /* the client's address:port */
	const char *sid;	       /* its Engine.IO session id */
	const char *socket;	       /* its Socket.IO socket id */
	const char *nsp;	       /* the socket's namespace */
	const char *user;	       /* the authenticated user (the token's sub) */
	const char *reason;	       /* why it ended or was refused */
	int worker;		       /* index of the worker thread that owns it; -1: none */
	unsigned long long suppressed; /* similar records left out before it (log_limited) */
};

/* Writes one record with facts f (NULL: none).  Thread-safe. */
void log_with(enum sg_log_level level, const struct log_facts *f, const char *fmt, ...)
	SG_PRINTF(3, 4);

/* A budget for a record a flood of clients could repeat (a refused
 * connection, a failing call-out): one record per LOG_LIMIT_MS, the others
 * counted and reported by the next one written ("suppressed").  A limiter
 * belongs to one thread, normally a worker; zero-initialise it. */
struct log_limit {
	int64_t quiet_until_ms; /* monotonic: records before this are counted only */
	unsigned long long suppressed;
};

#define LOG_LIMIT_MS 10000

/* Like log_with, within the budget of l. */
void log_limited(struct log_limit *l, enum sg_log_level level, const struct log_facts *f,
		 const char *fmt, ...) SG_PRINTF(4, 5);

/* Logs a record about obj at level, with the facts fill(obj, &facts) gives
 * and reason `why` (NULL: none); the facts are only gathered when the level
 * is enabled.  Modules wrap it: conn_log, eio_log, authflow_log. */
#define log_about(level, fill, obj, why, ...)                  \
	do {                                                   \
		if (log_enabled(level)) {                      \
			struct log_facts log_f_;               \
			fill(obj, &log_f_);                    \
			log_f_.reason = (why);                 \
			log_with(level, &log_f_, __VA_ARGS__); \
		}                                              \
	} while (0)

#define log_error(...) log_write(SG_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(SG_LOG_WARN, __VA_ARGS__)
#define log_info(...)                                        \
	do {                                                 \
		if (log_enabled(SG_LOG_INFO))                \
			log_write(SG_LOG_INFO, __VA_ARGS__); \
	} while (0)
#define log_debug(...)                                        \
	do {                                                  \
		if (log_enabled(SG_LOG_DEBUG))                \
			log_write(SG_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
