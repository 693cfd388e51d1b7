/*
 * replay_store.h: connection state recovery's sessions in Redis, so that a
 * client whose instance went away (a deploy, a crash) recovers on another
 * one.  A session is one key, <prefix>-recovery#<nsp>#<pid>, written with
 * SET ... PX max_disconnection when its socket ends and taken once with
 * GETDEL when a client asks for it: one command per kept session and one
 * per recovery attempt, nothing per broadcast (each instance logs the
 * broadcasts it delivers itself; the session carries what places its
 * client's last event in another instance's log, see sio/recovery.h).
 * Commands go through the bridge's publisher link; the reply of a take is
 * awaited at most a deadline, then the caller is told "none" (Redis down
 * or slow: the client falls back to a new socket, it never hangs).
 */
#ifndef SG_REPLAY_STORE_H
#define SG_REPLAY_STORE_H

#include <event2/event.h>

#include "core/common.h"

struct bridge;

/* SETs the session text of pid in namespace nsp for ttl_ms.  Returns 0 when
 * the command was sent, -1 when the publisher link is down or full. */
int replay_store_save(struct bridge *b, const char *prefix, const char *nsp, const char *pid,
		      const char *text, int64_t ttl_ms);

/* What a take found: the session text (len bytes, borrowed for the call);
 * NULL: none, or Redis failed or did not answer within the deadline
 * (*unavailable is then true). */
typedef void (*replay_store_cb)(void *arg, const char *text, size_t len, bool unavailable);

/* GETDELs the session of pid in namespace nsp; cb is called exactly once,
 * later, from base's loop, within deadline_ms.  Returns -1 (cb not called)
 * when the command could not be sent. */
int replay_store_take(struct bridge *b, struct event_base *base, const char *prefix,
		      const char *nsp, const char *pid, int64_t deadline_ms, replay_store_cb cb,
		      void *arg);

#endif
