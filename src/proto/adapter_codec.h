/*
 * bridge_adapter.h: the msgpack broadcast message of @socket.io/redis-adapter
 * 8.3.0 and @socket.io/redis-emitter 5.1.0 (PROTOCOL.md 3.2-3.7): decoding
 * what Node servers and emitters publish into the JSON text and binary
 * attachments a Socket.IO packet needs, encoding siogate's own broadcasts
 * byte-for-byte as the Node adapter would, and choosing the channel.  Pure:
 * no I/O, no globals.
 */
#ifndef SG_ADAPTER_CODEC_H
#define SG_ADAPTER_CODEC_H

#include "core/common.h"

/* Deepest container nesting accepted in a message, the top-level array
 * counting as 1 (so packet.data itself is at depth 3). */
#define ADAPTER_MAX_DEPTH 64

/* One binary attachment: an owned copy of a msgpack bin value. */
struct adapter_attachment {
	uint8_t *data; /* owned (malloc), NULL when len == 0 */
	size_t len;
};

/* A decoded broadcast, everything owned by the struct. */
struct adapter_broadcast {
	char *uid; /* sender uid ("emitter", a 6-char server uid), "" when absent */
	char *nsp; /* packet.nsp; "/" when absent or nil */
	int type;  /* packet.type as sent: 2 EVENT, 5 BINARY_EVENT (PHP emitter), 3 ACK,
			 * 6 BINARY_ACK.  Whether to send 2/3 or 5/6 to clients depends only
			 * on n_attachments. */
	/* packet.data as the JSON text JSON.stringify would give after socket.io-
	 * parser's deconstructPacket: every binary value replaced, depth-first in JS
	 * property order, by {"_placeholder":true,"num":N}.  NUL-terminated. */
	char *data_json;
	size_t data_json_len;
	struct adapter_attachment *attachments; /* attachments[N] is placeholder N */
	size_t n_attachments;
	struct sg_strv rooms;	 /* opts.rooms, in message order, not deduplicated */
	struct sg_strv except;	 /* opts.except, in message order, not deduplicated */
	bool flag_volatile;	 /* opts.flags.volatile is truthy */
	bool flag_compress;	 /* false only when opts.flags.compress is present and falsy */
	bool flag_local;	 /* opts.flags.local is truthy (Node never publishes it) */
	int64_t flag_timeout_ms; /* opts.flags.timeout, -1 when absent */
};

/* Decodes the broadcast message buf[0..len) published on <prefix>#<nsp>#...
 * Accepted shapes: [uid, packet, opts] (extra elements ignored), [uid, packet]
 * (opts empty), and [packet, opts] (uid ""); uid may be a string, nil or an
 * integer.  packet must be a map with an integer type among 2, 3, 5, 6 and a
 * data array; for 2 and 5 its first element must be a string (the event
 * name).  Lenient like Node and the third-party emitters need: keys in any
 * order, every msgpack form (str8, float32, ...), missing nsp -> "/", missing
 * or nil opts/rooms/except -> empty, rooms/except given as a map (PHP array
 * with holes) -> its values, as a single string -> one room, integer or float
 * room names -> their JS decimal string, flags an array (PHP empty array) or
 * absent -> no flags.  Values convert as notepack.io + JSON.stringify would:
 * nil -> null, ints -> exact decimal, floats -> JS number text (NaN -> null),
 * str -> JSON string (bad UTF-8 -> U+FFFD), bin and ext type 0 (ArrayBuffer)
 * -> placeholder + attachment, timestamp ext -1 and notepack's ext 0 dates ->
 * ISO string, fixext 0 (undefined) -> null in arrays and omitted in maps,
 * other ext -> [type, placeholder]; map keys become JS property keys (numbers
 * in decimal, "__proto__" dropped, duplicates: last value at first position,
 * array-index keys first in ascending order).
 * Errors (returns -1, fills err, *out zeroed and owning nothing): truncated
 * input, trailing bytes, the reserved byte 0xc1, nesting deeper than
 * ADAPTER_MAX_DEPTH, more than max_attachments binary values, wrong shapes,
 * strings with NUL in uid/nsp/rooms, map keys that are arrays/maps/ext.
 * Memory used is bounded by a small multiple of len.  On success returns 0
 * and the caller must call adapter_codec_broadcast_fini(out). */
int adapter_codec_decode_broadcast(const void *buf, size_t len, unsigned max_attachments,
				   struct adapter_broadcast *out, struct sg_err *err) SG_WUR;

/* Frees everything b owns and zeroes it; safe on a zeroed struct and twice. */
void adapter_codec_broadcast_fini(struct adapter_broadcast *b);

/* Appends to out the msgpack encoding of
 *   [uid, {"type":type,"data":<data>,"nsp":nsp},
 *    {"rooms":[...],"except":[...],"flags":{...}}]
 * exactly as @socket.io/redis-adapter 8.3.0 publishes it with notepack.io:
 * smallest integer forms, float64 for other numbers, fixstr/str8/16/32,
 * fixarray/array16/32, fixmap/map16/32, bin8/16/32, keys in that order.
 * rooms and except are deduplicated keeping first occurrences (the adapter
 * holds them in Sets); NULL means empty.  flags holds only what is set, in
 * this order: "volatile":true when flag_volatile, "compress":<bool> when
 * compress is 0 or 1 (-1: unset).
 * data_json is the JSON text of the packet data array ([event, ...args]) as
 * a client sent it.  It is read as JSON.parse would (strict RFC 8259, duplicate
 * keys: last wins at the first position, array-index keys first) and written
 * as notepack would write the parsed value, except that integer literals
 * within int64 or uint64 keep their exact value (Node rounds past 2^53) and
 * integral numbers outside [-2^63, 2^64) become float64 (notepack would wrap
 * them).  Every object whose "_placeholder" is true is replaced by
 * attachments[num] as a bin value; num must be an integer in
 * [0, n_attachments).  Lone surrogate escapes and invalid UTF-8 become U+FFFD.
 * type must be 0..6.  Returns 0, or -1 with err filled (and out unchanged) on
 * invalid JSON, a non-array data, nesting deeper than ADAPTER_MAX_DEPTH - 2,
 * a bad placeholder, or a NULL uid/nsp. */
int adapter_codec_encode_broadcast(struct sg_buf *out, const char *uid, const char *nsp, int type,
				   const char *data_json, size_t data_json_len,
				   const struct adapter_attachment *attachments,
				   size_t n_attachments, const struct sg_strv *rooms,
				   const struct sg_strv *except, bool flag_volatile, int compress,
				   struct sg_err *err) SG_WUR;

/* Appends the channel a broadcast goes to: "<prefix>#<nsp>#<room>#" when rooms
 * holds exactly one distinct room, else "<prefix>#<nsp>#".  rooms may be
 * NULL (no rooms). */
void adapter_codec_channel(struct sg_buf *out, const char *prefix, const char *nsp,
			   const struct sg_strv *rooms);

/* Any msgpack value as JSON text appended to json (the same conversion as
 * data_json: bin values become placeholders and their bytes attachments,
 * which the caller frees with adapter_codec_attachments_free).  For the
 * request/response messages of the adapter that travel as msgpack. */
int adapter_codec_msgpack_to_json(const void *buf, size_t len, unsigned max_attachments,
				  struct sg_buf *json, struct adapter_attachment **attachments,
				  size_t *n_attachments, struct sg_err *err) SG_WUR;
void adapter_codec_attachments_free(struct adapter_attachment *att, size_t n);

/* JSON text as msgpack appended to out, with notepack.io's choices;
 * placeholders become bin values from attachments (NULL: none). */
int adapter_codec_json_to_msgpack(struct sg_buf *out, const char *json, size_t len,
				  const struct adapter_attachment *attachments,
				  size_t n_attachments, struct sg_err *err) SG_WUR;

#endif
