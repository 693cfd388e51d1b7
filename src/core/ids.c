/*
 * ids.c: id generation (see ids.h).  Randomness comes from OpenSSL's
 * RAND_bytes, whose per-thread DRBG makes this cheap and thread-safe.
 */
#include "core/ids.h"

#include <openssl/rand.h>
#include <string.h>

#include "core/base64.h"

void sg_id_new(char *out, uint8_t worker, uint32_t *counter)
{
	unsigned char raw[15];
	struct sg_buf b;
	uint32_t n = (*counter)++;

	if (RAND_bytes(raw, 12) != 1)
		sg_fatal("RAND_bytes failed");
	raw[12] = worker;
	raw[13] = (unsigned char)(n >> 8);
	raw[14] = (unsigned char)n;
	sg_buf_init(&b);
	base64url_encode(&b, raw, sizeof(raw));
	memcpy(out, b.data, SG_ID_LEN);
	out[SG_ID_LEN] = '\0';
	sg_buf_fini(&b);
}

void sg_uid_new(char *out)
{
	unsigned char raw[6];
	struct sg_buf b;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		sg_fatal("RAND_bytes failed");
	sg_buf_init(&b);
	base64url_encode(&b, raw, sizeof(raw));
	memcpy(out, b.data, 6);
	out[6] = '\0';
	sg_buf_fini(&b);
}

int sg_id_worker(const char *id, size_t len)
{
	unsigned char tail[8];
	struct sg_buf b;
	int worker = -1;

	if (len != SG_ID_LEN)
		return -1;
	/* the last 4 characters encode bytes 12..14 */
	sg_buf_init(&b);
	if (base64url_decode(&b, id + 16, 4) == 0 && b.len == 3) {
		memcpy(tail, b.data, 3);
		worker = tail[0];
	}
	sg_buf_fini(&b);
	return worker;
}
