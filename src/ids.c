/*
 * ids.c: id generation (see ids.h).  Randomness comes from OpenSSL's
 * RAND_bytes, whose per-thread DRBG makes this cheap and thread-safe.
 */
#include "ids.h"

#include <openssl/rand.h>
#include <string.h>

#include "base64.h"

void sg_id_new(char *out, uint32_t *counter)
{
	unsigned char raw[15];
	struct sg_buf b;
	uint32_t n = (*counter)++;

	if (RAND_bytes(raw, 12) != 1)
		sg_fatal("RAND_bytes failed");
	raw[12] = (unsigned char)(n >> 16);
	raw[13] = (unsigned char)(n >> 8);
	raw[14] = (unsigned char)n;
	sg_buf_init(&b);
	base64url_encode(&b, raw, sizeof(raw));
	memcpy(out, b.data, SG_ID_LEN);
	out[SG_ID_LEN] = '\0';
	sg_buf_fini(&b);
}
