/*
 * emit_msg.h: the JSON emit message that backends without msgpack publish
 * on redis.json_channel and that POST /v1/emit takes (SPEC.md section 4):
 *   {"nsp": "/", "to": ["room-or-socket-id", ...], "except": [...],
 *    "event": "name", "data": <any JSON>, "volatile": bool,
 *    "ack": {"timeout": "5s" | ms, "reply_to": "redis-channel" |
 *            "reply_stream": "redis-stream", "id": "correlation"}}
 * "to" omitted means everyone; "to"/"except" may also be a single string.
 * "volatile" true: the emit is not kept for connection state recovery and
 * travels with the adapter's volatile flag.  "ack" asks for the clients'
 * acknowledgements (SPEC.md section 9): its timeout is kept as text (a
 * duration as the config's, or a whole number of milliseconds) for the
 * layer that parses durations; reply_to (PUBLISH) and reply_stream (XADD)
 * are optional here, at most one of them (the admin API answers itself; the
 * JSON channel needs one); id, optional, is given back with the answer.
 * Unknown fields are ignored.  Pure: no libevent, no globals.
 */
#ifndef SG_EMIT_MSG_H
#define SG_EMIT_MSG_H

#include <jansson.h>

#include "core/common.h"

struct emit_msg {
	char *nsp;	   /* "/" when absent */
	struct sg_strv to; /* empty: everyone */
	struct sg_strv except;
	char *args; /* the EVENT data as JSON text: ["event", data] or ["event"] */
	size_t args_len;
	bool is_volatile;	/* "volatile": true */
	bool has_ack;		/* "ack" given */
	char *ack_timeout;	/* has_ack: the timeout as given ("5s", or digits: ms) */
	char *ack_reply_to;	/* has_ack: the channel the answer goes to, or NULL */
	char *ack_reply_stream; /* has_ack: ... or the stream, or NULL */
	char *ack_id;		/* has_ack: the backend's correlation id, or NULL */
};

/* Parses text[0..len).  Returns 0 with *out filled (emit_msg_fini frees),
 * or -1 with err saying what is wrong (bad JSON, not an object, event
 * missing, not a string or reserved, nsp not starting with '/', to/except
 * not strings). */
int emit_msg_parse(const char *text, size_t len, struct emit_msg *out, struct sg_err *err) SG_WUR;
/* Reads text[0..len) as JSON as every JSON-channel message is read
 * (duplicate keys refused).  Returns the value (json_decref frees it), or
 * NULL with err. */
json_t *emit_msg_load(const char *text, size_t len, struct sg_err *err);
/* emit_msg_parse from a value emit_msg_load gave (borrowed): the JSON
 * channel's parser (chan_op.h) reads each message once. */
int emit_msg_from_json(const json_t *root, struct emit_msg *out, struct sg_err *err) SG_WUR;
void emit_msg_fini(struct emit_msg *m);

/* Appends to out the room names v holds: absent or null (nothing), one
 * string, or an array of non-empty strings without NUL bytes.  Returns 0, or
 * -1 with err naming key. */
int emit_msg_strings(const json_t *v, const char *key, struct sg_strv *out,
		     struct sg_err *err) SG_WUR;

#endif
