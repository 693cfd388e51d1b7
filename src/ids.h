/*
 * ids.h: Engine.IO session ids and Socket.IO socket ids, 20 characters of
 * URL-safe base64 like Node's base64id: 12 random bytes from OpenSSL's DRBG
 * and the low 3 bytes of a counter owned by the caller (a worker).
 */
#ifndef SG_IDS_H
#define SG_IDS_H

#include "common.h"

#define SG_ID_LEN 20

/* Writes a new id and its NUL into out[SG_ID_LEN + 1]. */
void sg_id_new(char *out, uint32_t *counter);

#endif
