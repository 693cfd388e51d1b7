/*
 * recovery_int.h: what recovery.c (the log and the store of one worker)
 * and recovery_move.c (a session moving to another worker or instance, as
 * text) share; nothing else includes it.
 */
#ifndef SG_RECOVERY_INT_H
#define SG_RECOVERY_INT_H

#include "core/hmap.h"
#include "sio/recovery.h"

struct recovery_entry {
	uint64_t offset;
	int64_t at_ms; /* monotonic */
	struct sg_strv rooms, except;
	char *text;
	size_t len;
	struct adapter_attachment *att; /* copies */
	size_t n_att;
	size_t bytes;  /* text and attachments */
	uint64_t hash; /* of its content without the offset (content_hash) */
};

struct recovery {
	int64_t max_ms;
	struct recovery_entry *ring; /* RECOVERY_LOG_PACKETS slots */
	size_t head, n, bytes;
	uint64_t next_offset;  /* the counter */
	const uint8_t *worker; /* the worker's index (set after the store is made) */
	struct hmap sessions;  /* pid -> struct recovery_session */
	struct recovery_session *oldest, *newest;
	size_t n_sessions;
	struct hmap moved; /* pid -> struct moved, of the live sockets recovery_moved names */
};

/* A live socket that recovered here a session of another worker: what its
 * client got last may still be that worker's event (recovery_moved). */
struct moved {
	uint64_t sig[RECOVERY_SIG];
	size_t n_sig;
	char pid[SG_ID_LEN + 1];
	char offset[RECOVERY_OFFSET_MAX + 1]; /* the other worker's, its sig's last */
};

static inline struct recovery_entry *recovery_entry_at(const struct recovery *r, size_t i)
{
	return &r->ring[(r->head + i) % RECOVERY_LOG_PACKETS];
}

/* Whether the client of s gets e (Node's shouldIncludePacket). */
bool recovery_selects(const struct recovery_session *s, const struct recovery_entry *e);

#endif
