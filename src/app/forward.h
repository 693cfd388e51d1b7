/*
 * forward.h: client events to backends (SPEC.md section 4, events.forward):
 * the first rule whose pattern matches an authenticated client's event sends
 * it to a Redis stream (XADD with MAXLEN ~ events.stream_maxlen; fields id,
 * user, event, data, time, server) or POSTs it to an HTTP endpoint whose
 * JSON answer becomes the ack payload when the client asked for an ack.
 * The seed's on() handlers, for a gateway.
 */
#ifndef SG_FORWARD_H
#define SG_FORWARD_H

#include <jansson.h>

#include "core/common.h"

struct sio_socket;
struct sio_packet;
struct worker;

/* Forwards the EVENT p of sock.  Returns true when a rule took it, false
 * when none matched (the caller drops and counts it). */
bool forward_event(struct sio_socket *sock, const struct sio_packet *p);

/* A peer's serverSideEmit (SERVER_SIDE_EMIT request, args = [event, ...]):
 * forwarded by the same rules; when request_id is set, the target's answer
 * goes back to the peer as SERVER_SIDE_EMIT_RESPONSE.  Returns false when
 * no rule matches (then nothing answers, as a Node server without a
 * listener). */
bool forward_server_event(struct worker *w, const char *nsp, const json_t *args,
			  const char *request_id, const char *from_uid);

/* The worker's forwarding state (its HTTP client), freed with the worker. */
void forward_fini(struct worker *w);

#endif
