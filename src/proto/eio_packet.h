/*
 * eio_packet.h: Engine.IO v4 packet and polling-payload codec
 * (engine.io-parser 5.2.3, PROTOCOL.md section 1.3).  Pure functions.
 */
#ifndef SG_EIO_PACKET_H
#define SG_EIO_PACKET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"

enum eio_type {
	EIO_OPEN = 0, /* server->client handshake data */
	EIO_CLOSE,    /* close the transport */
	EIO_PING,     /* server->client heartbeat in v4; "probe" during upgrade */
	EIO_PONG,     /* client->server heartbeat answer */
	EIO_MESSAGE,  /* payload (Socket.IO packets ride in it) */
	EIO_UPGRADE,  /* client->server on the new WebSocket */
	EIO_NOOP,     /* server->client; ends a pending poll during upgrade */
};

/* A decoded packet.  data is borrowed (from the input, or from the decoder's
 * scratch buffer for binary messages) and is not NUL-terminated.  binary is
 * true only for a message that arrived as 'b' + base64 (type EIO_MESSAGE). */
struct eio_packet {
	enum eio_type type;
	bool binary;
	const char *data;
	size_t len;
};

/* Decodes one text packet: a type digit '0'..'6' then the data as-is (out->data
 * points into s).  Returns 0, or -1 for empty input, an unknown type character,
 * or a 'b' packet (use eio_packet_decode_any for those). */
int eio_packet_decode(const char *s, size_t len, struct eio_packet *out) SG_WUR;

/* Like eio_packet_decode, but also accepts a binary message 'b' + standard
 * padded base64 (what engine.io-parser decodes from a polling payload or a
 * WebSocket text frame starting with 'b'): scratch is reset and receives the
 * decoded bytes, and out->data points into scratch.  "b" alone is an empty
 * binary message.  Returns 0, or -1 (also for invalid base64: stricter than
 * Node's Buffer.from, which skips bad characters; real clients always send
 * padded standard base64). */
int eio_packet_decode_any(const char *s, size_t len, struct sg_buf *scratch,
			  struct eio_packet *out) SG_WUR;

/*
 * Decodes a v4 polling payload: packets separated by '\x1e', each decoded by
 * eio_packet_decode_any.  First checks that the payload holds at most
 * max_packets packets (else -1 before any callback).  Then calls cb for each
 * packet in order (p->data valid only during the call; binary data lives in a
 * scratch buffer owned by this function).  Stops at the first invalid packet
 * (an empty payload or an empty packet included) and returns -1 without
 * calling cb for it or anything after it; the packets before it have been
 * delivered, as Node does.  If cb returns non-zero, stops and returns that
 * value.  Returns 0 after the last packet.
 */
int eio_payload_decode(const char *s, size_t len, size_t max_packets,
		       int (*cb)(const struct eio_packet *p, void *arg), void *arg) SG_WUR;

/* Appends "<digit><data>" to out (one WebSocket text frame, or one packet). */
void eio_packet_append(struct sg_buf *out, enum eio_type type, const char *data, size_t len);

/* Polling payload encoders: append one packet, preceded by '\x1e' when out is
 * non-empty.  Text: "<digit><data>"; binary: 'b' + standard base64 of data. */
void eio_payload_append_text(struct sg_buf *out, enum eio_type type, const char *data, size_t len);
void eio_payload_append_binary(struct sg_buf *out, const void *data, size_t len);

#endif
