/*
 * recovery.h: Socket.IO connection state recovery for one namespace of one
 * worker (Node's SessionAwareAdapter): a bounded log of the broadcast
 * events the namespace delivered, each with its offset, and the sessions
 * kept after an unclean disconnect (pid -> socket id, rooms, the handler's
 * identity) for max_disconnection.  A reconnecting CONNECT with a known pid
 * and an offset still in the log takes its session back and replays the
 * events after that offset that its rooms select, in order.  Bounds: the
 * log keeps at most RECOVERY_LOG_PACKETS events and RECOVERY_LOG_BYTES
 * bytes, none older than max_disconnection; at most RECOVERY_SESSIONS
 * sessions are kept, the oldest dropped first.
 *
 * Across the workers of a process: every worker logs every broadcast of
 * the namespace (each gets it on its own), but with its own offsets and
 * possibly in a slightly different order (a worker's own Redis links, the
 * admin API's emit reaching each worker's inbox at its time).  A session
 * kept by worker A and asked for by worker B moves as text
 * (recovery_session_dump/load) with a content hash of each of the last
 * RECOVERY_SIG events up to the client's offset; B finds the event the
 * client got last in its own log by that hash and replays what follows it
 * there, minus what A's hashes show the client already got
 * (recovery_adopt), so an order that differs by fewer than
 * RECOVERY_SIG_REORDER events between the workers loses and repeats
 * nothing.
 */
#ifndef SG_RECOVERY_H
#define SG_RECOVERY_H

#include <jansson.h>

#include "core/common.h"
#include "core/ids.h"
#include "proto/adapter_codec.h"

#define RECOVERY_LOG_PACKETS 10000
#define RECOVERY_LOG_BYTES (8u << 20)
#define RECOVERY_SESSIONS 100000
#define RECOVERY_SIG 32
#define RECOVERY_SIG_REORDER 16
#define RECOVERY_STORE_LOG 64
#define RECOVERY_REPLAY_EVENTS 1000
#define RECOVERY_REPLAY_BYTES (1u << 20)
#define RECOVERY_OFFSET_MAX 20

struct recovery;

/* A session taken back by recovery_take (the caller frees it with
 * recovery_session_free once it has used it). */
struct recovery_session {
	struct recovery_session *prev, *next; /* oldest first, while kept */
	int64_t kept_ms;		      /* monotonic */
	size_t from;			      /* log position after the client's offset */
	/* a session from another worker: the content hashes of its last
	 * events up to its offset, newest last (n_sig 0: a local session) */
	uint64_t sig[RECOVERY_SIG];
	size_t n_sig;
	/* the offset its client gave (taken), or the other worker's offset
	 * its sig ends with (kept after recovery_moved) */
	char offset[RECOVERY_OFFSET_MAX + 1];
	struct sg_strv rooms;
	json_t *kept; /* the handler's identity (a reference), or NULL */
	char pid[SG_ID_LEN + 1];
	char sid[SG_ID_LEN + 1];
};

/* The store of the worker whose index *worker is (its offsets name it),
 * read when used: a worker learns its index after its modules start. */
struct recovery *recovery_new(int64_t max_disconnection_ms, const uint8_t *worker);
void recovery_free(struct recovery *r);

/* Gives the broadcast EVENT or BINARY_EVENT packet text in b (its data
 * array last, as sio_packet_encode_head then the JSON array) the next
 * offset as its last argument, and logs it (with copies of its n_att
 * binary attachments) with its rooms and except (either may be NULL). */
void recovery_stamp(struct recovery *r, struct sg_buf *b, const struct sg_strv *rooms,
		    const struct sg_strv *except, const struct adapter_attachment *att,
		    size_t n_att);

/* Keeps the session of a socket that ended uncleanly: pid, socket id sid,
 * its rooms (copied) and kept (the reference is taken; NULL: none). */
void recovery_keep(struct recovery *r, const char *pid, const char *sid,
		   const struct sg_strv *rooms, json_t *kept);

/* The session kept for pid, taken out of the store, when it is younger
 * than max_disconnection and offset is still in the log; else NULL (an
 * expired session is dropped).  A session that came from another worker
 * and whose client got nothing here since (recovery_moved) is taken with
 * any offset, with its hashes (n_sig > 0): the caller places it with
 * recovery_adopt. */
struct recovery_session *recovery_take(struct recovery *r, const char *pid, size_t pid_len,
				       const char *offset, size_t offset_len);

/* Calls send(arg, false, text, len) with each logged event after the
 * session's offset that its rooms (and its id room) select, in order, each
 * followed by send(arg, true, ...) with its attachments.  Returns how many
 * events. */
size_t recovery_replay(const struct recovery *r, const struct recovery_session *s,
		       void (*send)(void *arg, bool binary, const char *data, size_t len),
		       void *arg);

void recovery_session_free(struct recovery_session *s);

/* Whether what the client of s missed is more than one client may be sent
 * at once (RECOVERY_REPLAY_EVENTS events or RECOVERY_REPLAY_BYTES bytes):
 * then it gets a new socket instead, as if it came too late. */
bool recovery_oversized(const struct recovery *r, const struct recovery_session *s);

/* A session just taken from r (recovery_take) as JSON text for another
 * worker: {"sid","pid","rooms":[...],"kept":...,"sig":["hex",...]}.  The
 * caller frees the text (free()); s is left as it was. */
char *recovery_session_dump(const struct recovery *r, const struct recovery_session *s);

/* A session from recovery_session_dump's text (len bytes), or NULL when
 * it is not one. */
struct recovery_session *recovery_session_load(const char *text, size_t len);

/* A session for Redis (sessions outlive the instance there): what
 * recovery_keep keeps, with the offsets and hashes of the last
 * RECOVERY_STORE_LOG events of r that its rooms select (its client got the
 * last of them, or one a little before), and the hashes it came with when
 * its socket recovered from elsewhere (recovery_moved).  Text to free(). */
char *recovery_store_text(struct recovery *r, const char *pid, const char *sid,
			  const struct sg_strv *rooms, json_t *kept);

/* The session of recovery_store_text's text for a client whose last offset
 * is offset, ready for recovery_adopt; NULL when that offset is not among
 * the ones stored (the client fell too far behind) or the text is bad. */
struct recovery_session *recovery_store_load(const char *text, size_t len, const char *offset,
					     size_t offset_len);

/* Places a loaded session in r's log: true when the event its client got
 * last is there (recovery_replay then sends what the client missed);
 * false when it is not (the caller falls back to a new socket). */
bool recovery_adopt(const struct recovery *r, struct recovery_session *s);

/* The socket of pid recovered here the adopted session s: until it ends,
 * its client's offset may still be the other worker's, so recovery_keep
 * keeps s's hashes with its session.  recovery_forget: it ended without a
 * session kept. */
void recovery_moved(struct recovery *r, const struct recovery_session *s);
void recovery_forget(struct recovery *r, const char *pid);

#endif
