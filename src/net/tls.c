/*
 * tls.c: server TLS contexts (see tls.h).  The OpenSSL error queue is
 * emptied after every failure so one bad file cannot poison later calls.
 */
#include "net/tls.h"

#include <openssl/err.h>

SSL_CTX *tls_ctx_new(const char *cert_file, const char *key_file, struct sg_err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		sg_err_set(err, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* idle clients keep no TLS buffers */
	if (tls_ctx_use_pair(ctx, cert_file, key_file, "server.tls.cert", "server.tls.key", err) !=
	    0)
		goto fail;
	ERR_clear_error();
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_ctx_use_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file,
		     const char *cert_key, const char *key_key, struct sg_err *err)
{
	char why[256];

	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
		sg_err_set(err, "%s %s: %s", cert_key, cert_file, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
		sg_err_set(err, "%s %s: %s", key_key, key_file, why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		sg_err_set(err, "%s %s does not match %s %s", key_key, key_file, cert_key,
			   cert_file);
		goto fail;
	}
	return 0;
fail:
	ERR_clear_error();
	return -1;
}
