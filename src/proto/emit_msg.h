/*
 * emit_msg.h: the JSON emit message that backends without msgpack publish
 * on redis.json_channel and that POST /v1/emit takes (SPEC.md section 4):
 *   {"nsp": "/", "to": ["room-or-socket-id", ...], "except": [...],
 *    "event": "name", "data": <any JSON>}
 * "to" omitted means everyone; "to"/"except" may also be a single string.
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
