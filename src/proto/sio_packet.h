/*
 * sio_packet.h: Socket.IO v5 packet codec (socket.io-parser 4.2.7,
 * PROTOCOL.md section 2).  A Socket.IO packet is the data of one Engine.IO
 * message: `<type>[<attachments>-][<nsp>,][<ack id>][<JSON>]`.  Pure code;
 * JSON is parsed with jansson.
 */
#ifndef SG_SIO_PACKET_H
#define SG_SIO_PACKET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

/* socket.io-parser's default maxAttachments. */
#define SIO_MAX_ATTACHMENTS_DEFAULT 10
/* Largest ack id accepted: JS's Number.MAX_SAFE_INTEGER (2^53 - 1). */
#define SIO_MAX_ACK_ID 9007199254740991LL

enum sio_type {
	SIO_CONNECT = 0,   /* join a namespace; payload: auth object (client) or {sid} */
	SIO_DISCONNECT,	   /* leave a namespace; no payload */
	SIO_EVENT,	   /* ["name", args...] */
	SIO_ACK,	   /* [args...] answering an ack id */
	SIO_CONNECT_ERROR, /* server->client refusal: object or string */
	SIO_BINARY_EVENT,  /* EVENT with placeholders; attachments follow */
	SIO_BINARY_ACK,	   /* ACK with placeholders; attachments follow */
};

struct sio_packet {
	enum sio_type type;
	unsigned attachments; /* BINARY_* only, else 0 */
	const char *nsp;      /* borrowed from the input, or the literal "/" */
	size_t nsp_len;
	int64_t id;	  /* ack id, -1 when none */
	const char *json; /* raw payload text (borrowed); NULL/0 when none */
	size_t json_len;
	json_t *data;	   /* parsed payload (owned; NULL when none) */
	char num_name[40]; /* private: a numeric event name as JS String() text */
};

/*
 * Decodes one Socket.IO packet from s[0..len) (the data of an Engine.IO
 * message) into out, mirroring socket.io-parser 4.2.7 decodeString +
 * isPayloadValid.  Returns 0, or -1 with err->msg set (and out holding nothing
 * to free) on anything the Node server closes the connection for:
 *  - empty input, or an unknown type character (as in JS, a leading
 *    whitespace character counts as type 0 because Number(" ") is 0);
 *  - BINARY_*: no '-', or the text before it is not a JS number that is an
 *    integer from 1 to max_attachments;
 *  - a payload that is not valid JSON (jansson, JSON_DECODE_ANY |
 *    JSON_ALLOW_NUL, duplicate keys allowed, last wins), or of the wrong JSON
 *    type: CONNECT object; DISCONNECT none at all; CONNECT_ERROR object or
 *    string; EVENT/BINARY_EVENT array whose first element is a number or a
 *    string other than connect, connect_error, disconnect, disconnecting,
 *    newListener, removeListener; ACK/BINARY_ACK array;
 *  - an ack id above SIO_MAX_ACK_ID, or one Node would read as NaN.
 * As in Node, a packet WITHOUT payload passes for every type: `2` is an EVENT
 * with data == NULL (sio_event_name then returns NULL; callers should ignore
 * or reject it).  The namespace is read only if the next character is '/', up
 * to ',' or the end of the input.  The ack id is the run of digits (and, as in
 * JS, whitespace) that follows: `2 ["a"]` has id 0.
 * JSON differences left with jansson: nesting deeper than 2048 levels and
 * numbers beyond the double range (1e400) are rejected where Node accepts;
 * lone surrogate escapes ("\ud800") are accepted (parsed as U+FFFD in data;
 * json keeps the raw text); integers too large for int64 become reals.
 * Input bytes must be valid UTF-8 (jansson rejects anything else).
 * out borrows s (nsp, json); out->data is owned: release with sio_packet_fini.
 */
int sio_packet_decode(const char *s, size_t len, unsigned max_attachments, struct sio_packet *out,
		      struct sg_err *err) SG_WUR;

/* Releases out->data (safe to call twice, and after a failed decode). */
void sio_packet_fini(struct sio_packet *p);

/* Appends "<type>[<attachments>-][<nsp>,][<id>]" to out: attachments only for
 * the BINARY_* types, nsp omitted when NULL, "" or "/", id omitted when < 0.
 * The caller appends the JSON payload (if any) after it. */
void sio_packet_encode_head(struct sg_buf *out, enum sio_type type, const char *nsp,
			    unsigned attachments, int64_t id);

/* The event name of an EVENT/BINARY_EVENT: a string first element as-is
 * (NUL-terminated by jansson; may hold NUL bytes, see sio_event_name_len), a
 * number as JS's String() would write it (1.0 -> "1", 1e21 -> "1e+21").  NULL
 * for other packet types and for an EVENT without payload.  The pointer is
 * valid while p->data lives. */
const char *sio_event_name(const struct sio_packet *p);
/* Length in bytes of sio_event_name(p) (0 when it is NULL). */
size_t sio_event_name_len(const struct sio_packet *p);

/*
 * For BINARY_EVENT/BINARY_ACK, checks every {"_placeholder":true,"num":N}
 * object in p->data the way socket.io-parser's reconstructPacket does (objects
 * whose _placeholder is not exactly true are ordinary objects and are
 * searched), but more strictly: N must be an integer (1.0 counts) in
 * [0, p->attachments).  Like Node, it does not require every attachment to be
 * referenced.  Returns 0, or -1 with err->msg set.  Returns 0 for the other
 * packet types (Node never reconstructs them) and when there is no payload.
 */
int sio_packet_check_placeholders(const struct sio_packet *p, struct sg_err *err) SG_WUR;

#endif
