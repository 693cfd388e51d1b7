/*
 * auth_jwt.h: local JWT verification (the `jwt` verifier of SPEC section 3)
 * and HMAC minting for `siogate token`.  A verifier is built once from a
 * config snapshot (keys read and parsed up front) and is then immutable:
 * worker threads share it read-only and call jwt_verify() concurrently.
 *
 * Algorithms: HS256/384/512 (auth.jwt.secret), RS256/384/512, PS256/384/512
 * (RSA keys of at least 2048 bits), ES256 (P-256), ES384 (P-384) and EdDSA
 * (Ed25519), each only when listed in auth.jwt.algorithms.  `none` is never
 * accepted.  An HMAC algorithm is only ever verified with the secret and an
 * asymmetric one only with a public key of its own family, so algorithm
 * confusion is impossible.  Header parameters that name or embed keys (jku,
 * x5u, jwk, x5c) are ignored; a header with `crit` is refused.
 */
#ifndef SG_AUTH_JWT_H
#define SG_AUTH_JWT_H

#include <jansson.h>
#include <stdint.h>

#include "config/config.h"
#include "core/common.h"

/* Longest token jwt_verify() looks at; longer ones are JWT_ERR_MALFORMED. */
#define JWT_MAX_TOKEN_LEN 16384

struct jwt_verifier;

enum jwt_status {
	JWT_OK,		       /* valid */
	JWT_ERR_MALFORMED,     /* not three base64url parts, bad JSON, bad header */
	JWT_ERR_ALG,	       /* alg none, unknown, or not in auth.jwt.algorithms */
	JWT_ERR_KEY,	       /* no key for this alg/kid */
	JWT_ERR_SIGNATURE,     /* signature does not verify */
	JWT_ERR_EXPIRED,       /* exp + leeway <= now */
	JWT_ERR_NOT_YET_VALID, /* nbf - leeway > now */
	JWT_ERR_ISSUER,	       /* iss != auth.jwt.issuer */
	JWT_ERR_AUDIENCE,      /* aud (string or array) lacks auth.jwt.audience */
};

/* Builds a verifier from cfg->auth.jwt: copies algorithms, secret, issuer,
 * audience and leeway, and reads public_key_file (PEM: one or more PUBLIC
 * KEY, RSA PUBLIC KEY or CERTIFICATE blocks) and jwks_file (a JWKS
 * {"keys":[...]}, RSA / EC P-256, P-384 / OKP Ed25519 keys; keys of other
 * types or curves, and keys whose "use" is not "sig", are skipped as RFC 7517
 * asks).  Nothing of cfg is referenced afterwards.  Returns NULL with a
 * message in err when: the algorithm list is empty or names `none` or an
 * unsupported algorithm; a listed HS* algorithm has no secret; a listed
 * asymmetric algorithm has no key of its family; a key file is unreadable,
 * malformed, holds a private key, an unsupported key type or curve, or an RSA
 * key under 2048 bits. */
struct jwt_verifier *jwt_verifier_new(const struct sg_config *cfg, struct sg_err *err) SG_WUR;

/* Frees v (NULL is fine); the secret copy is wiped. */
void jwt_verifier_free(struct jwt_verifier *v);

/* Verifies the compact JWT token[0..len) at time now_ms (Unix ms).  Checks,
 * in order: length (<= JWT_MAX_TOKEN_LEN) and shape (three parts of strict
 * unpadded base64url), header (a JSON object with a string alg, optional
 * string typ and kid, no crit), alg (never none, must be listed), key
 * (the secret for HS*; for the others, keys whose kid equals the header's
 * kid, or when none has it, the keys without a kid; the key's family and JWK
 * alg must fit), signature, then the payload (a JSON object; exp and nbf must
 * be numbers when present), exp, nbf (both with leeway), iss (when
 * auth.jwt.issuer is set: must be that string), aud (when auth.jwt.audience
 * is set: that string, or an array holding it).  On JWT_OK and claims not
 * NULL, *claims receives a new reference to the payload object (caller
 * json_decref()); on any other status *claims is set to NULL.  Thread-safe. */
enum jwt_status jwt_verify(const struct jwt_verifier *v, const char *token, size_t len,
			   int64_t now_ms, json_t **claims) SG_WUR;

/* jwt_verify, the same checks in the same order, and on any status but
 * JWT_OK the exact reason in why (when not NULL), for `siogate token
 * --verify` and the logs: "not a JWT: not three parts separated by dots",
 * "the header is not a base64url JSON object", "algorithm RS256 not in
 * auth.jwt.algorithms", "algorithm none: unsigned tokens are never
 * accepted", "no key with kid \"k2\" (and no RS256 key without a kid) in
 * auth.jwt.public_key_file or jwks_file", "signature does not verify",
 * "token expired at 2026-11-26T10:16:12Z (leeway 30s)", "token not valid
 * before ...", "issuer \"a\" is not auth.jwt.issuer \"b\"", "no aud claim,
 * and auth.jwt.audience is \"b\"", ...  Text from the token is cut after 60
 * bytes, control bytes replaced. */
enum jwt_status jwt_verify_why(const struct jwt_verifier *v, const char *token, size_t len,
			       int64_t now_ms, json_t **claims, struct sg_err *why) SG_WUR;

/* ---- keys from the issuer (auth.jwt.jwks_url, or OIDC discovery) ----
 * A jwt_remote is the process's holder of an issuer's current key set: the
 * fetcher (jwks_fetch.h) loads sets into it from its own thread, verifiers
 * attached to it (jwt_verifier_attach) use the current set besides their
 * files' keys, and a worker that meets an unknown kid asks it for a fetch.
 * Every function is thread-safe. */
struct jwt_remote;

struct jwt_remote_stats {
	bool has_keys;
	uint64_t keys;	       /* keys in the current set */
	int64_t fetched_at_ms; /* wall time it was fetched (0: a cached copy, or none) */
	uint64_t fetch_ok;     /* fetches that brought a usable set */
	uint64_t fetch_error;  /* fetches that failed (the set was kept) */
};

/* The config takes keys from an issuer: auth.jwt.jwks_url is set, or an
 * https auth.jwt.issuer with asymmetric algorithms and no key file (OIDC
 * discovery).  Then auth.jwt.jwks_file is the set's cached copy. */
bool jwt_remote_wanted(const struct sg_config *cfg);

/* min_refresh_ms: the least time between two fetches an unknown kid asks for. */
struct jwt_remote *jwt_remote_new(int64_t min_refresh_ms);
/* After every verifier attached to it and the fetcher are gone. */
void jwt_remote_free(struct jwt_remote *r);
/* Parses a JWK Set (what names it in err) and makes it the current set,
 * fetched at now_ms (wall); the old set goes when its last user is done.
 * On error the current set stays. */
int jwt_remote_load(struct jwt_remote *r, const char *json, size_t len, const char *what,
		    int64_t now_ms, struct sg_err *err) SG_WUR;
/* The same from a file (the cached copy). */
int jwt_remote_load_file(struct jwt_remote *r, const char *path, struct sg_err *err) SG_WUR;
/* A fetch ended (ok: it brought a set). */
void jwt_remote_fetched(struct jwt_remote *r, bool ok);
/* The descriptor (an eventfd) jwt_remote_want_kid() writes to. */
void jwt_remote_set_kick(struct jwt_remote *r, int fd);
/* A token names a kid no key has: asks for a fetch, at most one per
 * min_refresh_ms.  True when one is coming (wait for jwt_remote_attempts()
 * to move), false when one was made too recently (refuse now). */
bool jwt_remote_want_kid(struct jwt_remote *r, int64_t now_ms);
/* Fetches finished so far. */
uint64_t jwt_remote_attempts(const struct jwt_remote *r);
void jwt_remote_get_stats(const struct jwt_remote *r, struct jwt_remote_stats *out);

/* v uses r's current set too (r borrowed; set once, before v is shared). */
void jwt_verifier_attach(struct jwt_verifier *v, struct jwt_remote *r);
struct jwt_remote *jwt_verifier_remote(const struct jwt_verifier *v);
/* The token's header names a kid that neither v's files nor its issuer's
 * current set has (false without an issuer, or without a kid). */
bool jwt_unknown_kid(const struct jwt_verifier *v, const char *token, size_t len);

/* Short static text for logs: "ok", "malformed", "algorithm refused",
 * "no key", "bad signature", "expired", "not yet valid", "wrong issuer",
 * "wrong audience". */
const char *jwt_status_str(enum jwt_status s);

/* Signs claims (borrowed; must be an object) as a compact JWT with alg
 * HS256, HS384 or HS512 and the given secret (secret_len > 0).  The header is
 * {"alg":ALG,"typ":"JWT"} or {"alg":ALG,"typ":"JWT","kid":KID} when kid is
 * not NULL, and header and payload are serialised by jansson with
 * JSON_COMPACT (no spaces, keys in insertion order, UTF-8 unescaped, '/' not
 * escaped, as JavaScript's JSON.stringify does for the same object).
 * Returns 0 with *out a malloc'd NUL-terminated token (caller free()), or -1
 * with *out NULL and a message in err. */
int jwt_sign_hmac(const char *alg, const void *secret, size_t secret_len, const char *kid,
		  json_t *claims, char **out, struct sg_err *err) SG_WUR;

/* Signs claims (borrowed) with the PEM private key in key_file, for the
 * asymmetric algorithms (RS*, PS*, ES256/384, EdDSA); ES signatures are
 * written raw r||s as JWS wants.  *out is malloc'd.  For `siogate token`
 * and tests; the daemon itself never signs. */
int jwt_sign_pem(const char *alg, const char *key_file, const char *kid, json_t *claims, char **out,
		 struct sg_err *err) SG_WUR;

#endif
