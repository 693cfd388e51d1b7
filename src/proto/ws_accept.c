/*
 * ws_accept.c: the Sec-WebSocket-Accept value (see ws_accept.h).
 */
#include "proto/ws_accept.h"

#include <openssl/evp.h>
#include <string.h>

#include "core/base64.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void ws_accept_key(const char *key, size_t key_len, struct sg_buf *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, key, key_len) != 1 ||
	    EVP_DigestUpdate(ctx, ws_guid, sizeof(ws_guid) - 1) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &md_len) != 1)
		sg_fatal("SHA-1 failed");
	EVP_MD_CTX_free(ctx);
	base64_encode(out, md, md_len);
}
