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
void emit_msg_fini(struct emit_msg *m);

#endif
