/*
 * cmdrun.h: runs a shell command in the background of a libevent loop and
 * hands its standard output to a callback, bounded in time and in size (for
 * siocat's --refresh-cmd).  The command runs as `/bin/sh -c COMMAND` in a
 * process group of its own, with /dev/null as standard input, the caller's
 * standard error, no other descriptor of the caller, default signal
 * dispositions, and the caller's environment plus the entries given.  Past
 * the deadline or the size bound, the whole group is killed (SIGKILL).
 * Invariant: every process started is reaped before the callback runs or
 * cmdrun_cancel() returns.
 */
#ifndef SGC_CMDRUN_H
#define SGC_CMDRUN_H

#include <event2/event.h>
#include <stddef.h>

struct cmdrun;

/*
 * The outcome, called once from the loop: the command exited 0 within the
 * bounds and out (len bytes, NUL-terminated, borrowed for the call) is what
 * it printed, error NULL; or error (borrowed) says why not, out NULL.  The
 * run is freed when the callback returns: forget the pointer.
 */
typedef void (*cmdrun_fn)(void *user, const char *out, size_t len, const char *error);

/*
 * Starts cmd with env (NULL-terminated "NAME=value" entries that override
 * the environment's; NULL: none).  At most max_out bytes of output, at most
 * timeout_ms.  Returns the run, or NULL with the reason in err (errlen bytes)
 * when it cannot start (no pipe, no fork).
 */
struct cmdrun *cmdrun_start(struct event_base *base, const char *cmd, const char *const *env,
			    size_t max_out, unsigned timeout_ms, cmdrun_fn done, void *user,
			    char *err, size_t errlen);

/* Stops a run whose callback has not run yet: kills its group, reaps it,
 * frees it; the callback is not called.  NULL is a no-op. */
void cmdrun_cancel(struct cmdrun *r);

#endif
