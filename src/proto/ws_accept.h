/*
 * ws_accept.h: the Sec-WebSocket-Accept value of a Sec-WebSocket-Key
 * (RFC 6455 section 4.2.2), computed by the server when it answers an
 * upgrade and checked by libsiogate-client when it reads the answer.
 */
#ifndef SG_WS_ACCEPT_H
#define SG_WS_ACCEPT_H

#include "core/common.h"

/* Appends base64(SHA-1(key + the RFC 6455 GUID)) to out. */
void ws_accept_key(const char *key, size_t key_len, struct sg_buf *out);

#endif
