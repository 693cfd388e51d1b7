/*
 * emit_ack.h: an emit whose clients' acknowledgements are gathered across
 * the cluster (SPEC.md section 9: POST /v1/emit?ack=DURATION, and a
 * JSON-channel emit with "ack"), built on the adapter's broadcast with
 * acks: this instance's workers send the event with an ack id to their
 * sockets, and a BROADCAST request (type 7, with requestId and
 * opts.flags.timeout) asks every other member of the cluster to do the same
 * with theirs; each answers BROADCAST_CLIENT_COUNT, then one BROADCAST_ACK
 * per client that answers.  siogate members add the socket ids ("sids" to
 * the count, "sid" and the whole "args" to each ack), so the answer names
 * exactly who answered and who did not:
 *   {"acks":[{"id":SOCKET_ID,"args":[...]}...], "timeouts":[SOCKET_ID...]}
 * A Node peer's ack carries its client's first argument only and no socket
 * id: it is listed with "id": null and "args": [that argument], and its
 * clients that did not answer cannot be named (only counted: "unnamed").
 * A socket that disconnects before answering is a timeout.  The acks'
 * arguments take at most 8 MiB of the answer: past it an ack has "args":
 * null, and the answer "truncated": true.  The answer is
 * given once every client answered, or at the timeout with what came.
 * Requests live on worker 0 (the admin listener and the adapter's response
 * channels are there); at most limits.ack_requests wait at once.
 */
#ifndef SG_EMIT_ACK_H
#define SG_EMIT_ACK_H

#include "core/common.h"

struct worker;
struct emit_msg;

/* The answer (JSON text, len bytes, borrowed for the call); called once,
 * from the loop, never inside emit_ack_start. */
typedef void (*emit_ack_done_fn)(struct worker *w, const char *json, size_t len, void *arg);

/* Parses an ack timeout as given ("5s", or digits: milliseconds) and caps
 * it at limits.ack_timeout_max.  Returns 0 with *ms, or -1 with err (counted
 * as refused, siogate_ack_emits_total). */
int emit_ack_timeout(struct worker *w, const char *text, int64_t *ms, struct sg_err *err);

/* Emits m (its ack fields are not read) to its sockets across the cluster
 * and gathers their acks for timeout_ms; done gets the answer.  Returns 0,
 * or -1 with err (done not called) when limits.ack_requests already wait. */
int emit_ack_start(struct worker *w, const struct emit_msg *m, int64_t timeout_ms,
		   emit_ack_done_fn done, void *arg, struct sg_err *err) SG_WUR;

/* A JSON-channel emit with "ack" (handed to the relay instance only): the
 * answer, or {"error": ...}, with "id" first when the ack had one, is
 * published on its reply_to, or added to its reply_stream (XADD MAXLEN ~
 * events.stream_maxlen, field "answer"). */
void emit_ack_from_channel(struct worker *w, const struct emit_msg *m);

/* A message on a response channel of the adapter (JSON or msgpack):
 * returns true when it answered one of these requests. */
bool emit_ack_on_response(struct worker *w, const char *payload, size_t len);

/* Ends every request (at shutdown): each answers with what it has. */
void emit_ack_fini(struct worker *w);

#endif
