/*
 * auth_jwt.c: JWT verification with OpenSSL 3 and HMAC minting.  Owns the
 * verifier: the allowed-algorithm set, a private copy of the HMAC secret, the
 * public keys parsed from public_key_file and jwks_file, and the claim
 * checks' settings.  Main invariant: a key is chosen by the algorithm's
 * family first (HMAC -> the secret only; RS* -> RSA; PS* -> RSA or RSA-PSS;
 * ES256 -> EC P-256; ES384 -> EC P-384; EdDSA -> Ed25519), so no token can
 * make one kind of key verify another kind of signature, and the payload is
 * parsed only after its signature has verified.  The verifier is never
 * written after jwt_verifier_new() returns (but jwt_verifier_attach); keys
 * from an issuer live in a jwt_remote the verifier points to, whose
 * current key set is swapped whole under its mutex and reference-counted,
 * so a verification in progress keeps the set it started with.
 */
#include "app/auth_jwt.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/base64.h"

#define JWT_MIN_RSA_BITS 2048
#define JWT_MAX_KEY_FILE (1024 * 1024)

enum alg_kind {
	KIND_HMAC,     /* HS*: HMAC with the secret */
	KIND_RSA_PKCS, /* RS*: RSASSA-PKCS1-v1_5 */
	KIND_RSA_PSS,  /* PS*: RSASSA-PSS, MGF1 with the same hash, salt = hash length */
	KIND_ECDSA,    /* ES*: ECDSA, signature raw r||s */
	KIND_EDDSA,    /* EdDSA: Ed25519 */
};

enum key_type {
	KEY_RSA,     /* rsaEncryption key: RS* and PS* */
	KEY_RSA_PSS, /* id-RSASSA-PSS key: PS* only */
	KEY_EC_P256, /* ES256 */
	KEY_EC_P384, /* ES384 */
	KEY_ED25519, /* EdDSA */
};

struct alg_info {
	const char *name;
	enum alg_kind kind;
	const EVP_MD *(*md)(void); /* NULL for EdDSA */
	size_t ec_len;		   /* ES*: bytes of r and of s */
	enum key_type ec_key;	   /* ES*: the curve */
};

static const struct alg_info algs[] = {
	{ "HS256", KIND_HMAC, EVP_sha256, 0, KEY_RSA },
	{ "HS384", KIND_HMAC, EVP_sha384, 0, KEY_RSA },
	{ "HS512", KIND_HMAC, EVP_sha512, 0, KEY_RSA },
	{ "RS256", KIND_RSA_PKCS, EVP_sha256, 0, KEY_RSA },
	{ "RS384", KIND_RSA_PKCS, EVP_sha384, 0, KEY_RSA },
	{ "RS512", KIND_RSA_PKCS, EVP_sha512, 0, KEY_RSA },
	{ "PS256", KIND_RSA_PSS, EVP_sha256, 0, KEY_RSA },
	{ "PS384", KIND_RSA_PSS, EVP_sha384, 0, KEY_RSA },
	{ "PS512", KIND_RSA_PSS, EVP_sha512, 0, KEY_RSA },
	{ "ES256", KIND_ECDSA, EVP_sha256, 32, KEY_EC_P256 },
	{ "ES384", KIND_ECDSA, EVP_sha384, 48, KEY_EC_P384 },
	{ "EdDSA", KIND_EDDSA, NULL, 0, KEY_ED25519 },
};

#define N_ALGS SG_ARRAY_LEN(algs)

struct jwt_key {
	EVP_PKEY *pkey;
	enum key_type type;
	char *kid; /* NULL: the key has no kid */
	int alg;   /* index into algs[] from the JWK "alg", or -1 for any of its family */
};

/* Keys, in the order they were read. */
struct jwt_keyring {
	struct jwt_key *keys;
	size_t n_keys;
};

/* An issuer's key set as fetched: immutable, shared by the verifications
 * running while a newer one replaces it. */
struct jwt_keyset {
	atomic_uint refs;
	struct jwt_keyring ring;
};

struct jwt_remote {
	pthread_mutex_t mu;
	struct jwt_keyset *current; /* guarded by mu; NULL before the first set */
	int kick_fd;		    /* the fetcher's eventfd, or -1 */
	int64_t min_refresh_ms;
	atomic_llong last_kid_fetch_ms; /* when an unknown kid last asked for a fetch */
	atomic_ullong attempts;		/* fetches finished, whatever their outcome */
	atomic_bool pending;		/* a fetch asked by an unknown kid has not ended */
	atomic_ullong fetch_ok, fetch_error;
	atomic_llong fetched_at_ms; /* wall time of the current set (0: none) */
	atomic_ullong n_keys;
};

struct jwt_verifier {
	bool allowed[N_ALGS];
	unsigned char *secret; /* NULL when no secret */
	size_t secret_len;
	struct jwt_keyring ring;   /* from public_key_file and jwks_file */
	struct jwt_remote *remote; /* keys from the issuer (borrowed), or NULL */
	char *issuer;		   /* NULL = not checked */
	char *audience;		   /* NULL = not checked */
	int64_t leeway_ms;
};

static int alg_find(const char *name);
static bool key_fits(const struct jwt_key *k, int alg);
static int read_small_file(const char *what, const char *path, struct sg_buf *out,
			   struct sg_err *err);
static int classify_key(EVP_PKEY *pkey, enum key_type *type, const char *where, struct sg_err *err);
static void add_key(struct jwt_keyring *v, EVP_PKEY *pkey, enum key_type type, const char *kid,
		    int alg);
static void ring_free(struct jwt_keyring *r);
static int load_pem_file(struct jwt_keyring *v, const char *path, struct sg_err *err);
static int load_jwks_file(struct jwt_keyring *v, const char *path, struct sg_err *err);
static int parse_jwks(struct jwt_keyring *v, const char *text, size_t len, const char *what,
		      struct sg_err *err);
static int jwk_to_key(struct jwt_keyring *v, json_t *jwk, const char *where, struct sg_err *err);
static int jwk_b64_member(json_t *jwk, const char *name, struct sg_buf *out, const char *where,
			  struct sg_err *err);
static EVP_PKEY *jwk_rsa(json_t *jwk, const char *where, struct sg_err *err);
static EVP_PKEY *jwk_ec(json_t *jwk, enum key_type type, const char *where, struct sg_err *err);
static EVP_PKEY *jwk_okp(json_t *jwk, const char *where, struct sg_err *err);
static int check_public_key(EVP_PKEY *pkey, const char *where, struct sg_err *err);
static enum jwt_status verify_hmac(const struct jwt_verifier *v, const struct alg_info *a,
				   const char *input, size_t input_len, const struct sg_buf *sig,
				   struct sg_err *why);
static enum jwt_status verify_asym(const struct jwt_verifier *v, int alg, const char *kid,
				   const char *input, size_t input_len, const struct sg_buf *sig,
				   struct sg_err *why);
static bool pkey_verify(const struct alg_info *a, EVP_PKEY *pkey, const char *input,
			size_t input_len, const unsigned char *sig, size_t sig_len);
static json_t *decode_json_part(const char *s, size_t len, struct sg_buf *scratch);
static enum jwt_status check_claims(const struct jwt_verifier *v, const json_t *payload,
				    int64_t now_ms, struct sg_err *why);
static enum jwt_status refuse(enum jwt_status st, struct sg_err *why, const char *fmt, ...)
	SG_PRINTF(3, 4);
static const char *show(const char *s, char *buf, size_t size);
static void fmt_time(double sec, char *buf, size_t size);
static void fmt_leeway(int64_t ms, char *buf, size_t size);

/* ---- algorithms and keys ---- */

/* Exact, case-sensitive lookup: returns the index in algs[] or -1. */
static int alg_find(const char *name)
{
	for (size_t i = 0; i < N_ALGS; i++)
		if (strcmp(algs[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* True when key k may verify a signature of algorithm algs[alg]. */
static bool key_fits(const struct jwt_key *k, int alg)
{
	const struct alg_info *a = &algs[alg];

	if (k->alg >= 0 && k->alg != alg)
		return false;
	switch (a->kind) {
	case KIND_HMAC:
		return false;
	case KIND_RSA_PKCS:
		return k->type == KEY_RSA;
	case KIND_RSA_PSS:
		return k->type == KEY_RSA || k->type == KEY_RSA_PSS;
	case KIND_ECDSA:
		return k->type == a->ec_key;
	case KIND_EDDSA:
		return k->type == KEY_ED25519;
	}
	return false;
}

static int read_small_file(const char *what, const char *path, struct sg_buf *out,
			   struct sg_err *err)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return sg_err_set(err, "%s %s: %s", what, path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		sg_buf_append(out, chunk, n);
		if (out->len > JWT_MAX_KEY_FILE) {
			fclose(f);
			return sg_err_set(err, "%s %s: larger than %d bytes", what, path,
					  JWT_MAX_KEY_FILE);
		}
	}
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		return sg_err_set(err, "%s %s: %s", what, path, strerror(e));
	}
	fclose(f);
	return 0;
}

/* Sorts a public key into a key_type, refusing what no algorithm uses. */
static int classify_key(EVP_PKEY *pkey, enum key_type *type, const char *where, struct sg_err *err)
{
	if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS")) {
		int bits = EVP_PKEY_get_bits(pkey);
		if (bits < JWT_MIN_RSA_BITS)
			return sg_err_set(err, "%s: RSA key of %d bits (at least %d required)",
					  where, bits, JWT_MIN_RSA_BITS);
		*type = EVP_PKEY_is_a(pkey, "RSA") ? KEY_RSA : KEY_RSA_PSS;
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[64];
		size_t glen = 0;
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						   sizeof(group), &glen) != 1) {
			ERR_clear_error();
			return sg_err_set(err, "%s: EC key with an unnamed curve", where);
		}
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			*type = KEY_EC_P256;
		else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
			*type = KEY_EC_P384;
		else
			return sg_err_set(err, "%s: EC curve %s is not supported (P-256, P-384)",
					  where, group);
	} else if (EVP_PKEY_is_a(pkey, "ED25519")) {
		*type = KEY_ED25519;
	} else {
		const char *name = EVP_PKEY_get0_type_name(pkey);
		return sg_err_set(err, "%s: unsupported key type %s (RSA, EC or Ed25519)", where,
				  name ? name : "?");
	}
	return check_public_key(pkey, where, err);
}

/* Runs OpenSSL's public-key sanity checks (RSA modulus/exponent shape, EC
 * point on the curve). */
static int check_public_key(EVP_PKEY *pkey, const char *where, struct sg_err *err)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int rc;

	if (ctx == NULL) {
		ERR_clear_error();
		return sg_err_set(err, "%s: cannot use this key", where);
	}
	rc = EVP_PKEY_public_check(ctx);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (rc != 1 && rc != -2) /* -2: no check for this type */
		return sg_err_set(err, "%s: invalid public key", where);
	return 0;
}

/* Takes ownership of pkey. */
static void add_key(struct jwt_keyring *v, EVP_PKEY *pkey, enum key_type type, const char *kid,
		    int alg)
{
	struct jwt_key *k;

	v->keys = sg_realloc(v->keys, (v->n_keys + 1) * sizeof(*v->keys));
	k = &v->keys[v->n_keys++];
	k->pkey = pkey;
	k->type = type;
	k->kid = kid ? sg_strdup(kid) : NULL;
	k->alg = alg;
}

/* Every PEM block of the file must be a public key or a certificate. */
static void ring_free(struct jwt_keyring *r)
{
	for (size_t i = 0; i < r->n_keys; i++) {
		EVP_PKEY_free(r->keys[i].pkey);
		free(r->keys[i].kid);
	}
	free(r->keys);
	r->keys = NULL;
	r->n_keys = 0;
}

static int load_pem_file(struct jwt_keyring *v, const char *path, struct sg_err *err)
{
	struct sg_buf text;
	BIO *bio;
	size_t found = 0;
	int rc = -1;
	char where[300];

	sg_buf_init(&text);
	if (read_small_file("public_key_file", path, &text, err) < 0)
		goto out;
	bio = BIO_new_mem_buf(text.data ? text.data : "", (int)text.len);
	if (bio == NULL)
		sg_fatal("BIO_new_mem_buf failed");
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		const unsigned char *p;
		long len = 0;
		EVP_PKEY *pkey = NULL;
		enum key_type type;
		bool reported;

		if (PEM_read_bio(bio, &name, &header, &data, &len) != 1) {
			ERR_clear_error();
			break;
		}
		found++;
		snprintf(where, sizeof(where), "public_key_file %s: block %zu (%s)", path, found,
			 name);
		p = data;
		reported = false;
		if (strcmp(name, "PUBLIC KEY") == 0) {
			pkey = d2i_PUBKEY(NULL, &p, len);
		} else if (strcmp(name, "RSA PUBLIC KEY") == 0) {
			pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
		} else if (strcmp(name, "CERTIFICATE") == 0) {
			X509 *x = d2i_X509(NULL, &p, len);
			if (x != NULL) {
				pkey = X509_get_pubkey(x);
				X509_free(x);
			}
		} else if (strstr(name, "PRIVATE KEY") != NULL) {
			reported = sg_err_set(err,
					      "%s: a private key; give the public key "
					      "(openssl pkey -pubout) or a certificate",
					      where) < 0;
		} else {
			reported =
				sg_err_set(err, "%s: not a public key or certificate", where) < 0;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		ERR_clear_error();
		if (pkey == NULL) {
			if (!reported)
				sg_err_set(err, "%s: cannot parse", where);
			goto out_bio;
		}
		if (classify_key(pkey, &type, where, err) < 0) {
			EVP_PKEY_free(pkey);
			goto out_bio;
		}
		add_key(v, pkey, type, NULL, -1);
	}
	if (found == 0) {
		sg_err_set(err, "public_key_file %s: no PEM public key or certificate", path);
		goto out_bio;
	}
	rc = 0;
out_bio:
	BIO_free(bio);
out:
	sg_buf_fini(&text);
	return rc;
}

static int load_jwks_file(struct jwt_keyring *v, const char *path, struct sg_err *err)
{
	struct sg_buf text;
	char what[300];
	int rc;

	sg_buf_init(&text);
	if (read_small_file("jwks_file", path, &text, err) < 0) {
		sg_buf_fini(&text);
		return -1;
	}
	snprintf(what, sizeof(what), "jwks_file %s", path);
	rc = parse_jwks(v, text.data ? text.data : "", text.len, what, err);
	sg_buf_fini(&text);
	return rc;
}

/* A JWK Set's usable signature keys into v; what names its origin in
 * messages ("jwks_file /etc/k.json", "auth.jwt.jwks_url https://..."). */
static int parse_jwks(struct jwt_keyring *v, const char *text, size_t len, const char *what,
		      struct sg_err *err)
{
	json_error_t jerr;
	json_t *root, *keys;
	size_t before = v->n_keys;
	char where[400];

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (err) {
			err->line = jerr.line;
			err->col = jerr.column;
		}
		return sg_err_set(err, "%s:%d:%d: %s", what, jerr.line, jerr.column, jerr.text);
	}
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		json_decref(root);
		return sg_err_set(err, "%s: not a JWK Set (no \"keys\" array)", what);
	}
	for (size_t i = 0; i < json_array_size(keys); i++) {
		snprintf(where, sizeof(where), "%s: keys[%zu]", what, i);
		if (jwk_to_key(v, json_array_get(keys, i), where, err) < 0) {
			json_decref(root);
			return -1;
		}
	}
	json_decref(root);
	if (v->n_keys == before)
		return sg_err_set(err,
				  "%s: no usable signature key "
				  "(RSA, EC P-256/P-384, OKP Ed25519)",
				  what);
	return 0;
}

static int jwk_to_key(struct jwt_keyring *v, json_t *jwk, const char *where, struct sg_err *err)
{
	json_t *kty_j, *kid_j, *use_j, *alg_j;
	const char *kty, *kid = NULL;
	int alg = -1;
	enum key_type type, parsed;
	struct jwt_key probe = { 0 };
	EVP_PKEY *pkey = NULL;

	if (!json_is_object(jwk))
		return sg_err_set(err, "%s: not an object", where);
	kty_j = json_object_get(jwk, "kty");
	if (!json_is_string(kty_j))
		return sg_err_set(err, "%s: \"kty\" missing or not a string", where);
	kty = json_string_value(kty_j);
	kid_j = json_object_get(jwk, "kid");
	if (kid_j != NULL) {
		if (!json_is_string(kid_j))
			return sg_err_set(err, "%s: \"kid\" is not a string", where);
		kid = json_string_value(kid_j);
	}
	use_j = json_object_get(jwk, "use");
	if (use_j != NULL) {
		if (!json_is_string(use_j))
			return sg_err_set(err, "%s: \"use\" is not a string", where);
		if (strcmp(json_string_value(use_j), "sig") != 0)
			return 0; /* an encryption key */
	}
	alg_j = json_object_get(jwk, "alg");
	if (alg_j != NULL) {
		if (!json_is_string(alg_j))
			return sg_err_set(err, "%s: \"alg\" is not a string", where);
		alg = alg_find(json_string_value(alg_j));
		if (alg < 0 || algs[alg].kind == KIND_HMAC)
			return 0; /* meant for an algorithm we never verify with it */
	}

	if (strcmp(kty, "RSA") == 0) {
		type = KEY_RSA;
		pkey = jwk_rsa(jwk, where, err);
	} else if (strcmp(kty, "EC") == 0) {
		json_t *crv = json_object_get(jwk, "crv");
		if (!json_is_string(crv))
			return sg_err_set(err, "%s: \"crv\" missing or not a string", where);
		if (strcmp(json_string_value(crv), "P-256") == 0)
			type = KEY_EC_P256;
		else if (strcmp(json_string_value(crv), "P-384") == 0)
			type = KEY_EC_P384;
		else
			return 0;
		pkey = jwk_ec(jwk, type, where, err);
	} else if (strcmp(kty, "OKP") == 0) {
		json_t *crv = json_object_get(jwk, "crv");
		if (!json_is_string(crv))
			return sg_err_set(err, "%s: \"crv\" missing or not a string", where);
		if (strcmp(json_string_value(crv), "Ed25519") != 0)
			return 0;
		type = KEY_ED25519;
		pkey = jwk_okp(jwk, where, err);
	} else {
		return 0; /* "oct" and unknown types: HMAC keys come from the secret only */
	}
	if (pkey == NULL)
		return -1;
	/* re-derive the type from the parsed key (size limits, sanity checks) */
	if (classify_key(pkey, &parsed, where, err) < 0) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	probe.type = parsed;
	probe.alg = alg;
	if (parsed != type || (alg >= 0 && !key_fits(&probe, alg))) {
		EVP_PKEY_free(pkey);
		if (parsed != type)
			return sg_err_set(err, "%s: key does not match its kty/crv", where);
		return sg_err_set(err, "%s: \"alg\" %s does not fit a %s key", where,
				  algs[alg].name, kty);
	}
	add_key(v, pkey, type, kid, alg);
	return 0;
}

static int jwk_b64_member(json_t *jwk, const char *name, struct sg_buf *out, const char *where,
			  struct sg_err *err)
{
	json_t *j = json_object_get(jwk, name);

	if (!json_is_string(j))
		return sg_err_set(err, "%s: \"%s\" missing or not a string", where, name);
	if (base64url_decode(out, json_string_value(j), json_string_length(j)) < 0 || out->len == 0)
		return sg_err_set(err, "%s: \"%s\" is not base64url", where, name);
	return 0;
}

static EVP_PKEY *jwk_rsa(json_t *jwk, const char *where, struct sg_err *err)
{
	struct sg_buf n, e;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	sg_buf_init(&n);
	sg_buf_init(&e);
	if (jwk_b64_member(jwk, "n", &n, where, err) < 0 ||
	    jwk_b64_member(jwk, "e", &e, where, err) < 0)
		goto out;
	bn_n = BN_bin2bn((const unsigned char *)n.data, (int)n.len, NULL);
	bn_e = BN_bin2bn((const unsigned char *)e.data, (int)e.len, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn_n == NULL || bn_e == NULL || bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
		sg_err_set(err, "%s: invalid RSA key", where);
	}
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	sg_buf_fini(&n);
	sg_buf_fini(&e);
	return pkey;
}

static EVP_PKEY *jwk_ec(json_t *jwk, enum key_type type, const char *where, struct sg_err *err)
{
	size_t clen = type == KEY_EC_P256 ? 32 : 48;
	char group[16];
	struct sg_buf x, y, point;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	snprintf(group, sizeof(group), "%s", type == KEY_EC_P256 ? "prime256v1" : "secp384r1");
	sg_buf_init(&x);
	sg_buf_init(&y);
	sg_buf_init(&point);
	if (jwk_b64_member(jwk, "x", &x, where, err) < 0 ||
	    jwk_b64_member(jwk, "y", &y, where, err) < 0)
		goto out;
	if (x.len != clen || y.len != clen) {
		sg_err_set(err, "%s: \"x\" and \"y\" must be %zu bytes each", where, clen);
		goto out;
	}
	sg_buf_append_char(&point, 0x04); /* uncompressed point */
	sg_buf_append(&point, x.data, x.len);
	sg_buf_append(&point, y.data, y.len);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] =
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data, point.len);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
		sg_err_set(err, "%s: invalid EC key (point not on the curve?)", where);
	}
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	sg_buf_fini(&x);
	sg_buf_fini(&y);
	sg_buf_fini(&point);
	return pkey;
}

static EVP_PKEY *jwk_okp(json_t *jwk, const char *where, struct sg_err *err)
{
	struct sg_buf x;
	EVP_PKEY *pkey = NULL;

	sg_buf_init(&x);
	if (jwk_b64_member(jwk, "x", &x, where, err) < 0)
		goto out;
	if (x.len != 32) {
		sg_err_set(err, "%s: Ed25519 \"x\" must be 32 bytes", where);
		goto out;
	}
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, (unsigned char *)x.data, x.len);
	if (pkey == NULL)
		sg_err_set(err, "%s: invalid Ed25519 key", where);
out:
	ERR_clear_error();
	sg_buf_fini(&x);
	return pkey;
}

struct jwt_verifier *jwt_verifier_new(const struct sg_config *cfg, struct sg_err *err)
{
	struct jwt_verifier *v = sg_calloc(1, sizeof(*v));
	const struct sg_strv *list = &cfg->auth.jwt.algorithms;

	if (list->n == 0) {
		sg_err_set(err, "auth.jwt.algorithms: empty list");
		goto fail;
	}
	for (size_t i = 0; i < list->n; i++) {
		int a;
		if (strcasecmp(list->v[i], "none") == 0) {
			sg_err_set(err, "auth.jwt.algorithms: 'none' is never accepted");
			goto fail;
		}
		a = alg_find(list->v[i]);
		if (a < 0) {
			sg_err_set(err,
				   "auth.jwt.algorithms: unsupported algorithm '%s' "
				   "(HS256/384/512, RS256/384/512, PS256/384/512, ES256, "
				   "ES384, EdDSA)",
				   list->v[i]);
			goto fail;
		}
		v->allowed[a] = true;
	}
	if (cfg->auth.jwt.secret != NULL && cfg->auth.jwt.secret_len > 0) {
		if (cfg->auth.jwt.secret_len > INT_MAX) {
			sg_err_set(err, "auth.jwt.secret: too long");
			goto fail;
		}
		v->secret = sg_malloc(cfg->auth.jwt.secret_len);
		memcpy(v->secret, cfg->auth.jwt.secret, cfg->auth.jwt.secret_len);
		v->secret_len = cfg->auth.jwt.secret_len;
	}
	if (cfg->auth.jwt.public_key_file != NULL &&
	    load_pem_file(&v->ring, cfg->auth.jwt.public_key_file, err) < 0)
		goto fail;
	/* with keys from the issuer, jwks_file is their cached copy: it goes
	 * to the jwt_remote (jwt_remote_load_file), not here */
	if (cfg->auth.jwt.jwks_file != NULL && !jwt_remote_wanted(cfg) &&
	    load_jwks_file(&v->ring, cfg->auth.jwt.jwks_file, err) < 0)
		goto fail;
	for (size_t a = 0; a < N_ALGS; a++) {
		bool usable = false;
		if (!v->allowed[a])
			continue;
		if (algs[a].kind == KIND_HMAC) {
			usable = v->secret != NULL;
		} else {
			/* keys from the issuer come later: checked when they do */
			usable = jwt_remote_wanted(cfg);
			for (size_t k = 0; k < v->ring.n_keys && !usable; k++)
				usable = key_fits(&v->ring.keys[k], (int)a);
		}
		if (!usable) {
			const char *why =
				algs[a].kind == KIND_HMAC
					? "no auth.jwt.secret / secret_file is set"
					: "no key of its type is in public_key_file / jwks_file";
			sg_err_set(err, "auth.jwt.algorithms: %s listed but %s", algs[a].name, why);
			goto fail;
		}
	}
	if (cfg->auth.jwt.issuer)
		v->issuer = sg_strdup(cfg->auth.jwt.issuer);
	if (cfg->auth.jwt.audience)
		v->audience = sg_strdup(cfg->auth.jwt.audience);
	v->leeway_ms = cfg->auth.jwt.leeway_ms > 0 ? cfg->auth.jwt.leeway_ms : 0;
	return v;
fail:
	jwt_verifier_free(v);
	return NULL;
}

void jwt_verifier_free(struct jwt_verifier *v)
{
	if (v == NULL)
		return;
	if (v->secret) {
		OPENSSL_cleanse(v->secret, v->secret_len);
		free(v->secret);
	}
	ring_free(&v->ring);
	free(v->issuer);
	free(v->audience);
	free(v);
}

/* ---- verification ---- */

static enum jwt_status verify_hmac(const struct jwt_verifier *v, const struct alg_info *a,
				   const char *input, size_t input_len, const struct sg_buf *sig,
				   struct sg_err *why)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	if (v->secret == NULL)
		return refuse(JWT_ERR_KEY, why,
			      "no key for %s: auth.jwt.secret and secret_file "
			      "are unset",
			      a->name);
	if (HMAC(a->md(), v->secret, (int)v->secret_len, (const unsigned char *)input, input_len,
		 mac, &mac_len) == NULL) {
		ERR_clear_error();
		return refuse(JWT_ERR_SIGNATURE, why, "signature does not verify");
	}
	if (sig->len != mac_len || CRYPTO_memcmp(mac, sig->data, mac_len) != 0)
		return refuse(JWT_ERR_SIGNATURE, why, "signature does not verify");
	return JWT_OK;
}

/* Candidates: the fitting keys whose kid equals the token's; when the token
 * has no kid, or no key has that kid, the fitting keys without a kid (and,
 * for a token without kid, every fitting key). */
static bool ring_has_kid(const struct jwt_keyring *r, const char *kid)
{
	for (size_t i = 0; r != NULL && i < r->n_keys; i++)
		if (r->keys[i].kid && strcmp(r->keys[i].kid, kid) == 0)
			return true;
	return false;
}

/* The issuer's current key set, held until keyset_release(). */
static struct jwt_keyset *keyset_acquire(struct jwt_remote *r)
{
	struct jwt_keyset *ks;

	if (r == NULL)
		return NULL;
	pthread_mutex_lock(&r->mu);
	ks = r->current;
	if (ks != NULL)
		atomic_fetch_add(&ks->refs, 1);
	pthread_mutex_unlock(&r->mu);
	return ks;
}

static void keyset_release(struct jwt_keyset *ks)
{
	if (ks != NULL && atomic_fetch_sub(&ks->refs, 1) == 1) {
		ring_free(&ks->ring);
		free(ks);
	}
}

/* The files' keys, then the issuer's: with a kid that some key has, only
 * the keys with that kid; else only the keys without a kid. */
static enum jwt_status verify_asym(const struct jwt_verifier *v, int alg, const char *kid,
				   const char *input, size_t input_len, const struct sg_buf *sig,
				   struct sg_err *why)
{
	const unsigned char *s = (const unsigned char *)sig->data;
	struct jwt_keyset *ks = keyset_acquire(v->remote);
	const struct jwt_keyring *rings[2] = { &v->ring, ks ? &ks->ring : NULL };
	const char *from = v->remote ? "the issuer's key set or auth.jwt.public_key_file"
				     : "auth.jwt.public_key_file or jwks_file";
	char buf[80];
	size_t tried = 0;
	bool kid_known = false;
	enum jwt_status st = JWT_OK;

	if (kid != NULL)
		kid_known = ring_has_kid(rings[0], kid) || ring_has_kid(rings[1], kid);
	for (size_t r = 0; r < 2 && st == JWT_OK; r++) {
		for (size_t i = 0; rings[r] != NULL && i < rings[r]->n_keys; i++) {
			const struct jwt_key *k = &rings[r]->keys[i];
			if (kid_known ? (k->kid == NULL || strcmp(k->kid, kid) != 0)
				      : (kid != NULL && k->kid != NULL))
				continue;
			if (!key_fits(k, alg))
				continue;
			tried++;
			if (pkey_verify(&algs[alg], k->pkey, input, input_len, s, sig->len)) {
				keyset_release(ks);
				return JWT_OK;
			}
		}
	}
	keyset_release(ks);
	if (tried)
		return refuse(JWT_ERR_SIGNATURE, why, "signature does not verify");
	if (kid_known)
		return refuse(JWT_ERR_KEY, why, "the key with kid \"%s\" is not for %s",
			      show(kid, buf, sizeof(buf)), algs[alg].name);
	if (kid != NULL)
		return refuse(JWT_ERR_KEY, why,
			      "no key with kid \"%s\" (and no %s key without a kid) in %s",
			      show(kid, buf, sizeof(buf)), algs[alg].name, from);
	return refuse(JWT_ERR_KEY, why, "no %s key without a kid in %s (the token names no kid)",
		      algs[alg].name, from);
}

/* ---- keys from the issuer ---- */

bool jwt_remote_wanted(const struct sg_config *cfg)
{
	const struct sg_strv *list = &cfg->auth.jwt.algorithms;
	bool asym = false;

	if (cfg->auth.jwt.jwks_url != NULL)
		return true;
	for (size_t i = 0; i < list->n; i++) {
		int a = alg_find(list->v[i]);
		asym = asym || (a >= 0 && algs[a].kind != KIND_HMAC);
	}
	/* OIDC discovery: an https issuer, asymmetric algorithms, no key files */
	return asym && cfg->auth.jwt.issuer != NULL &&
	       strncmp(cfg->auth.jwt.issuer, "https://", 8) == 0 &&
	       cfg->auth.jwt.public_key_file == NULL && cfg->auth.jwt.jwks_file == NULL;
}

struct jwt_remote *jwt_remote_new(int64_t min_refresh_ms)
{
	struct jwt_remote *r = sg_calloc(1, sizeof(*r));

	pthread_mutex_init(&r->mu, NULL);
	r->kick_fd = -1;
	r->min_refresh_ms = min_refresh_ms;
	atomic_store(&r->last_kid_fetch_ms, INT64_MIN / 2);
	return r;
}

void jwt_remote_free(struct jwt_remote *r)
{
	if (r == NULL)
		return;
	keyset_release(r->current);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* Makes ks (parsed: 1 reference, ours) r's current set. */
static void remote_install(struct jwt_remote *r, struct jwt_keyset *ks, int64_t now_ms)
{
	struct jwt_keyset *old;

	atomic_store(&ks->refs, 1);
	pthread_mutex_lock(&r->mu);
	old = r->current;
	r->current = ks;
	pthread_mutex_unlock(&r->mu);
	keyset_release(old); /* freed when the last verification using it ends */
	atomic_store(&r->n_keys, ks->ring.n_keys);
	atomic_store(&r->fetched_at_ms, now_ms);
}

int jwt_remote_load(struct jwt_remote *r, const char *json, size_t len, const char *what,
		    int64_t now_ms, struct sg_err *err)
{
	struct jwt_keyset *ks = sg_calloc(1, sizeof(*ks));

	if (parse_jwks(&ks->ring, json, len, what, err) < 0) {
		ring_free(&ks->ring);
		free(ks);
		return -1;
	}
	remote_install(r, ks, now_ms);
	return 0;
}

int jwt_remote_load_file(struct jwt_remote *r, const char *path, struct sg_err *err)
{
	struct jwt_keyset *ks = sg_calloc(1, sizeof(*ks));

	if (load_jwks_file(&ks->ring, path, err) < 0) {
		ring_free(&ks->ring);
		free(ks);
		return -1;
	}
	/* a cached copy is as old as nobody knows: age 0 means "unknown" */
	remote_install(r, ks, 0);
	return 0;
}

void jwt_remote_fetched(struct jwt_remote *r, bool ok)
{
	atomic_fetch_add(ok ? &r->fetch_ok : &r->fetch_error, 1);
	atomic_store(&r->pending, false);
	atomic_fetch_add(&r->attempts, 1);
}

void jwt_remote_set_kick(struct jwt_remote *r, int fd)
{
	r->kick_fd = fd;
}

bool jwt_remote_want_kid(struct jwt_remote *r, int64_t now_ms)
{
	long long last = atomic_load(&r->last_kid_fetch_ms);
	uint64_t one = 1;

	if (r->kick_fd < 0)
		return false;
	if (atomic_load(&r->pending))
		return true; /* the fetch asked for is on its way: wait for it */
	if (now_ms - last < r->min_refresh_ms)
		return false;
	/* one worker wins the right to ask; the others wait for its fetch */
	if (!atomic_compare_exchange_strong(&r->last_kid_fetch_ms, &last, now_ms))
		return true;
	atomic_store(&r->pending, true);
	if (write(r->kick_fd, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
		atomic_store(&r->pending, false);
		return false;
	}
	return true;
}

uint64_t jwt_remote_attempts(const struct jwt_remote *r)
{
	return atomic_load(&((struct jwt_remote *)r)->attempts);
}

void jwt_remote_get_stats(const struct jwt_remote *r, struct jwt_remote_stats *out)
{
	struct jwt_remote *m = (struct jwt_remote *)r; /* atomics are read-only here */

	out->keys = atomic_load(&m->n_keys);
	out->fetched_at_ms = atomic_load(&m->fetched_at_ms);
	out->fetch_ok = atomic_load(&m->fetch_ok);
	out->fetch_error = atomic_load(&m->fetch_error);
	out->has_keys = out->keys > 0;
}

void jwt_verifier_attach(struct jwt_verifier *v, struct jwt_remote *r)
{
	v->remote = r;
}

struct jwt_remote *jwt_verifier_remote(const struct jwt_verifier *v)
{
	return v != NULL ? v->remote : NULL;
}

bool jwt_unknown_kid(const struct jwt_verifier *v, const char *token, size_t len)
{
	const char *dot = memchr(token, '.', len);
	struct sg_buf hdr;
	json_t *h;
	const char *kid;
	bool unknown = false;
	struct jwt_keyset *ks;

	if (v->remote == NULL || dot == NULL)
		return false;
	sg_buf_init(&hdr);
	h = base64url_decode(&hdr, token, (size_t)(dot - token)) == 0
		    ? json_loadb(hdr.data ? hdr.data : "", hdr.len, 0, NULL)
		    : NULL;
	sg_buf_fini(&hdr);
	kid = json_string_value(json_object_get(h, "kid"));
	if (kid != NULL) {
		ks = keyset_acquire(v->remote);
		unknown = !ring_has_kid(&v->ring, kid) && !ring_has_kid(ks ? &ks->ring : NULL, kid);
		keyset_release(ks);
	}
	json_decref(h);
	return unknown;
}

static bool pkey_verify(const struct alg_info *a, EVP_PKEY *pkey, const char *input,
			size_t input_len, const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *md_ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	ECDSA_SIG *es = NULL;
	bool ok = false;

	if (a->kind == KIND_ECDSA) {
		BIGNUM *r, *s;
		int der_len;
		if (sig_len != 2 * a->ec_len)
			goto out;
		es = ECDSA_SIG_new();
		r = BN_bin2bn(sig, (int)a->ec_len, NULL);
		s = BN_bin2bn(sig + a->ec_len, (int)a->ec_len, NULL);
		if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
			BN_free(r);
			BN_free(s);
			goto out;
		}
		der_len = i2d_ECDSA_SIG(es, &der);
		if (der_len <= 0)
			goto out;
		sig = der;
		sig_len = (size_t)der_len;
	} else if (a->kind == KIND_EDDSA) {
		if (sig_len != 64)
			goto out;
	} else if (sig_len != (size_t)EVP_PKEY_get_size(pkey)) {
		goto out; /* RSA: exactly the modulus length */
	}
	md_ctx = EVP_MD_CTX_new();
	if (md_ctx == NULL)
		goto out;
	if (EVP_DigestVerifyInit(md_ctx, &pctx, a->md ? a->md() : NULL, NULL, pkey) != 1)
		goto out;
	if (a->kind == KIND_RSA_PKCS) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
			goto out;
	} else if (a->kind == KIND_RSA_PSS) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, a->md()) != 1)
			goto out;
	}
	ok = EVP_DigestVerify(md_ctx, sig, sig_len, (const unsigned char *)input, input_len) == 1;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md_ctx);
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	return ok;
}

/* Decodes a base64url part holding a JSON object; NULL when it is not one. */
static json_t *decode_json_part(const char *s, size_t len, struct sg_buf *scratch)
{
	json_t *j;

	sg_buf_reset(scratch);
	if (len == 0 || base64url_decode(scratch, s, len) < 0 || scratch->len == 0)
		return NULL;
	j = json_loadb(scratch->data, scratch->len, JSON_REJECT_DUPLICATES, NULL);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static enum jwt_status check_claims(const struct jwt_verifier *v, const json_t *payload,
				    int64_t now_ms, struct sg_err *why)
{
	const json_t *exp = json_object_get(payload, "exp");
	const json_t *nbf = json_object_get(payload, "nbf");
	double now = (double)now_ms, leeway = (double)v->leeway_ms;
	char when[40], lw[32], b1[80], b2[80];

	if (exp && !json_is_number(exp))
		return refuse(JWT_ERR_MALFORMED, why, "the exp claim is not a number");
	if (nbf && !json_is_number(nbf))
		return refuse(JWT_ERR_MALFORMED, why, "the nbf claim is not a number");
	if (exp && json_number_value(exp) * 1000.0 + leeway <= now) {
		fmt_time(json_number_value(exp), when, sizeof(when));
		fmt_leeway(v->leeway_ms, lw, sizeof(lw));
		return refuse(JWT_ERR_EXPIRED, why, "token expired at %s (leeway %s)", when, lw);
	}
	if (nbf && json_number_value(nbf) * 1000.0 - leeway > now) {
		fmt_time(json_number_value(nbf), when, sizeof(when));
		fmt_leeway(v->leeway_ms, lw, sizeof(lw));
		return refuse(JWT_ERR_NOT_YET_VALID, why, "token not valid before %s (leeway %s)",
			      when, lw);
	}
	if (v->issuer) {
		const json_t *iss = json_object_get(payload, "iss");
		if (!json_is_string(iss))
			return refuse(JWT_ERR_ISSUER, why,
				      "no iss claim, and auth.jwt.issuer is \"%s\"",
				      show(v->issuer, b2, sizeof(b2)));
		if (strcmp(json_string_value(iss), v->issuer) != 0)
			return refuse(JWT_ERR_ISSUER, why,
				      "issuer \"%s\" is not auth.jwt.issuer \"%s\"",
				      show(json_string_value(iss), b1, sizeof(b1)),
				      show(v->issuer, b2, sizeof(b2)));
	}
	if (v->audience) {
		const json_t *aud = json_object_get(payload, "aud");
		bool found = false;
		if (json_is_string(aud)) {
			found = strcmp(json_string_value(aud), v->audience) == 0;
		} else if (json_is_array(aud)) {
			for (size_t i = 0; i < json_array_size(aud) && !found; i++) {
				const json_t *a = json_array_get(aud, i);
				found = json_is_string(a) &&
					strcmp(json_string_value(a), v->audience) == 0;
			}
		}
		if (!found)
			return refuse(
				JWT_ERR_AUDIENCE, why,
				aud == NULL
					? "no aud claim, and auth.jwt.audience is \"%s\""
					: "the aud claim does not name auth.jwt.audience \"%s\"",
				show(v->audience, b2, sizeof(b2)));
	}
	return JWT_OK;
}

/* Sets the reason (when why is not NULL) and returns st. */
static enum jwt_status refuse(enum jwt_status st, struct sg_err *why, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL) {
		va_start(ap, fmt);
		vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
		va_end(ap);
	}
	return st;
}

/* Token text for a reason: cut after 60 bytes, control bytes as '?'. */
static const char *show(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	snprintf(buf, size, "%.60s%s", s, n > 60 ? "..." : "");
	for (char *p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return buf;
}

/* Unix seconds as 2026-11-26T10:16:12Z. */
static void fmt_time(double sec, char *buf, size_t size)
{
	time_t t;
	struct tm tm;

	if (!(sec > -62135596800.0 && sec < 253402300800.0)) { /* years 1 to 9999 */
		snprintf(buf, size, "%.0f (Unix time)", sec);
		return;
	}
	t = (time_t)floor(sec);
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%.0f (Unix time)", sec);
}

static void fmt_leeway(int64_t ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%lldms", (long long)ms);
}

enum jwt_status jwt_verify(const struct jwt_verifier *v, const char *token, size_t len,
			   int64_t now_ms, json_t **claims)
{
	return jwt_verify_why(v, token, len, now_ms, claims, NULL);
}

enum jwt_status jwt_verify_why(const struct jwt_verifier *v, const char *token, size_t len,
			       int64_t now_ms, json_t **claims, struct sg_err *why)
{
	const char *dot1, *dot2, *payload_s, *sig_s;
	size_t header_len, payload_len, sig_len;
	struct sg_buf scratch, sig;
	json_t *header = NULL, *payload = NULL, *j;
	const char *kid = NULL;
	enum jwt_status st;
	char buf[80];
	int alg;

	if (claims)
		*claims = NULL;
	if (token == NULL || len == 0)
		return refuse(JWT_ERR_MALFORMED, why, "empty token");
	if (len > JWT_MAX_TOKEN_LEN)
		return refuse(JWT_ERR_MALFORMED, why, "token longer than %d bytes",
			      JWT_MAX_TOKEN_LEN);
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
		return refuse(JWT_ERR_MALFORMED, why,
			      "not a JWT: not three parts separated by dots");
	header_len = (size_t)(dot1 - token);
	payload_s = dot1 + 1;
	payload_len = (size_t)(dot2 - payload_s);
	sig_s = dot2 + 1;
	sig_len = len - (size_t)(sig_s - token);

	sg_buf_init(&scratch);
	sg_buf_init(&sig);
	st = JWT_ERR_MALFORMED;
	header = decode_json_part(token, header_len, &scratch);
	if (header == NULL) {
		refuse(st, why, "the header is not a base64url JSON object");
		goto out;
	}
	j = json_object_get(header, "alg");
	if (!json_is_string(j)) {
		refuse(st, why, "the header has no alg");
		goto out;
	}
	if (json_object_get(header, "crit") != NULL) {
		refuse(st, why, "the header has crit (no extension is understood)");
		goto out; /* we understand no extension */
	}
	if (json_object_get(header, "typ") && !json_is_string(json_object_get(header, "typ"))) {
		refuse(st, why, "the header's typ is not a string");
		goto out;
	}
	if (json_object_get(header, "kid")) {
		if (!json_is_string(json_object_get(header, "kid"))) {
			refuse(st, why, "the header's kid is not a string");
			goto out;
		}
		kid = json_string_value(json_object_get(header, "kid"));
	}
	alg = alg_find(json_string_value(j));
	if (alg < 0 || !v->allowed[alg]) {
		/* "none" in any case is never in algs[] */
		st = JWT_ERR_ALG;
		show(json_string_value(j), buf, sizeof(buf));
		if (strcasecmp(json_string_value(j), "none") == 0)
			refuse(st, why, "algorithm %s: unsigned tokens are never accepted", buf);
		else if (alg < 0)
			refuse(st, why, "algorithm %s is not supported", buf);
		else
			refuse(st, why, "algorithm %s not in auth.jwt.algorithms", buf);
		goto out;
	}
	if (base64url_decode(&sig, sig_s, sig_len) < 0) {
		refuse(st, why, "the signature is not base64url");
		goto out;
	}
	/* the payload's encoding is checked before the signature, its JSON after */
	sg_buf_reset(&scratch);
	if (payload_len == 0 || base64url_decode(&scratch, payload_s, payload_len) < 0) {
		refuse(st, why, "the payload is not base64url");
		goto out;
	}
	if (algs[alg].kind == KIND_HMAC)
		st = verify_hmac(v, &algs[alg], token, (size_t)(dot2 - token), &sig, why);
	else
		st = verify_asym(v, alg, kid, token, (size_t)(dot2 - token), &sig, why);
	if (st != JWT_OK)
		goto out;
	st = JWT_ERR_MALFORMED;
	payload = decode_json_part(payload_s, payload_len, &scratch);
	if (payload == NULL) {
		refuse(st, why, "the payload is not a JSON object");
		goto out;
	}
	st = check_claims(v, payload, now_ms, why);
	if (st == JWT_OK && claims) {
		*claims = payload;
		payload = NULL;
	}
out:
	json_decref(header);
	json_decref(payload);
	sg_buf_fini(&scratch);
	sg_buf_fini(&sig);
	return st;
}

const char *jwt_status_str(enum jwt_status s)
{
	switch (s) {
	case JWT_OK:
		return "ok";
	case JWT_ERR_MALFORMED:
		return "malformed";
	case JWT_ERR_ALG:
		return "algorithm refused";
	case JWT_ERR_KEY:
		return "no key";
	case JWT_ERR_SIGNATURE:
		return "bad signature";
	case JWT_ERR_EXPIRED:
		return "expired";
	case JWT_ERR_NOT_YET_VALID:
		return "not yet valid";
	case JWT_ERR_ISSUER:
		return "wrong issuer";
	case JWT_ERR_AUDIENCE:
		return "wrong audience";
	}
	return "unknown";
}

/* ---- minting ---- */

static int signing_input(int a, const char *kid, json_t *claims, struct sg_buf *tok,
			 struct sg_err *err);

int jwt_sign_hmac(const char *alg, const void *secret, size_t secret_len, const char *kid,
		  json_t *claims, char **out, struct sg_err *err)
{
	int a = alg ? alg_find(alg) : -1;
	struct sg_buf tok;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	*out = NULL;
	if (a < 0 || algs[a].kind != KIND_HMAC)
		return sg_err_set(err,
				  "token: algorithm '%s' cannot be signed here "
				  "(HS256, HS384, HS512)",
				  alg ? alg : "(null)");
	if (secret == NULL || secret_len == 0)
		return sg_err_set(err, "token: empty secret");
	if (secret_len > INT_MAX)
		return sg_err_set(err, "token: secret too long");
	if (!json_is_object(claims))
		return sg_err_set(err, "token: claims must be a JSON object");
	sg_buf_init(&tok);
	if (signing_input(a, kid, claims, &tok, err) != 0) {
		sg_buf_fini(&tok);
		return -1;
	}
	if (HMAC(algs[a].md(), secret, (int)secret_len, (const unsigned char *)tok.data, tok.len,
		 mac, &mac_len) == NULL) {
		ERR_clear_error();
		sg_buf_fini(&tok);
		return sg_err_set(err, "token: HMAC failed");
	}
	sg_buf_append_char(&tok, '.');
	base64url_encode(&tok, mac, mac_len);
	OPENSSL_cleanse(mac, sizeof(mac));
	*out = sg_buf_steal(&tok);
	return 0;
}

/* ---- signing with a private key (siogate token --alg RS256... --key) ---- */

/* "base64url(header).base64url(claims)" into tok. */
static int signing_input(int a, const char *kid, json_t *claims, struct sg_buf *tok,
			 struct sg_err *err)
{
	json_t *header = json_object();
	char *hs, *ps;

	if (json_object_set_new(header, "alg", json_string(algs[a].name)) < 0 ||
	    json_object_set_new(header, "typ", json_string("JWT")) < 0 ||
	    (kid && json_object_set_new(header, "kid", json_string(kid)) < 0)) {
		json_decref(header);
		return sg_err_set(err, "token: kid is not valid UTF-8");
	}
	hs = json_dumps(header, JSON_COMPACT);
	json_decref(header);
	ps = json_dumps(claims, JSON_COMPACT);
	if (hs == NULL || ps == NULL) {
		free(hs);
		free(ps);
		return sg_err_set(err, "token: claims cannot be serialised");
	}
	base64url_encode(tok, hs, strlen(hs));
	sg_buf_append_char(tok, '.');
	base64url_encode(tok, ps, strlen(ps));
	free(hs);
	free(ps);
	return 0;
}

int jwt_sign_pem(const char *alg, const char *key_file, const char *kid, json_t *claims, char **out,
		 struct sg_err *err)
{
	int a = alg ? alg_find(alg) : -1;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	struct sg_buf tok;
	FILE *f;
	int rc = -1;

	*out = NULL;
	if (a < 0 || algs[a].kind == KIND_HMAC)
		return sg_err_set(err, "token: '%s' is not an algorithm signed with a private key",
				  alg ? alg : "(null)");
	if (!json_is_object(claims))
		return sg_err_set(err, "token: claims must be a JSON object");
	f = fopen(key_file, "r");
	if (f == NULL)
		return sg_err_set(err, "token: cannot read %s: %s", key_file, strerror(errno));
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL) {
		ERR_clear_error();
		return sg_err_set(err, "token: %s holds no PEM private key", key_file);
	}
	sg_buf_init(&tok);
	if (signing_input(a, kid, claims, &tok, err) != 0)
		goto out;
	md = EVP_MD_CTX_new();
	if (EVP_DigestSignInit(md, &pctx, algs[a].md ? algs[a].md() : NULL, NULL, pkey) != 1 ||
	    (algs[a].kind == KIND_RSA_PSS &&
	     (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) ||
	    EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)tok.data, tok.len) != 1) {
		sg_err_set(err, "token: the key in %s cannot sign %s", key_file, algs[a].name);
		goto out;
	}
	sig = sg_malloc(sig_len);
	if (EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)tok.data, tok.len) != 1) {
		sg_err_set(err, "token: signing with %s failed", algs[a].name);
		goto out;
	}
	sg_buf_append_char(&tok, '.');
	if (algs[a].kind == KIND_ECDSA) {
		/* JWS wants r || s, each ec_len bytes, not DER */
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
		unsigned char raw[2 * 66];
		size_t n = algs[a].ec_len;
		if (es == NULL || BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)n) < 0 ||
		    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + n, (int)n) < 0) {
			ECDSA_SIG_free(es);
			sg_err_set(err, "token: the key in %s is not on the curve of %s", key_file,
				   algs[a].name);
			goto out;
		}
		ECDSA_SIG_free(es);
		base64url_encode(&tok, raw, 2 * n);
	} else {
		base64url_encode(&tok, sig, sig_len);
	}
	*out = sg_buf_steal(&tok);
	rc = 0;
out:
	ERR_clear_error();
	free(sig);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	sg_buf_fini(&tok);
	return rc;
}
