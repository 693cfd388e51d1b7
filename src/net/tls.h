/*
 * tls.h: TLS for the client listeners (server.tls): an OpenSSL server
 * context built from a PEM certificate chain and key, TLS 1.2 at least.
 * A reload builds a new context; connections keep the one they started
 * with, and a bad new pair leaves the old context in place.
 */
#ifndef SG_TLS_H
#define SG_TLS_H

#include <openssl/ssl.h>

#include "core/common.h"

/* Loads cert (chain) and key and checks that they match.  Returns a new
 * context (SSL_CTX_free), or NULL with err. */
SSL_CTX *tls_ctx_new(const char *cert_file, const char *key_file, struct sg_err *err) SG_WUR;

/* Loads a PEM certificate chain and its key into ctx and checks that they
 * match; the messages name the files by their config keys (cert_key,
 * key_key).  Returns 0, or -1 with err (the OpenSSL queue emptied). */
int tls_ctx_use_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file,
		     const char *cert_key, const char *key_key, struct sg_err *err) SG_WUR;

#endif
