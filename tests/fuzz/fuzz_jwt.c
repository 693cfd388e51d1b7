/*
 * fuzz_jwt.c: libFuzzer driver for JWT verification (src/app/auth_jwt.h),
 * the one parser of unauthenticated input that had no driver: the input is
 * a compact token (header and payload base64url, their JSON, signatures of
 * any length) verified by a verifier that accepts every algorithm siogate
 * knows (HS256/384/512 with a secret; RS256/384/512, PS256, ES256/384 and
 * EdDSA with the public keys of a JWKS written at start), an issuer and an
 * audience, at a fixed time.  The seed corpus holds a valid token for each
 * algorithm (their private keys were thrown away).  Promises checked, each
 * broken one a __builtin_trap(): jwt_verify and jwt_verify_why agree; the
 * claims come exactly with JWT_OK and are an object; a refusal has a reason
 * and an accepted token none; the same input gives the same verdict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/auth_jwt.h"
#include "config/config.h"

/* 2027-01-01T00:00:00Z: inside the seeds' validity */
#define FUZZ_NOW_MS 1798761600000LL

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jwt_verifier *verifier;

/* The public keys of the seed tokens (kid r1: RSA 2048, e1: P-256, e2:
 * P-384, d1: Ed25519). */
static const char jwks[] =
	"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"uz14-kLmeKcTOb4Hlfrld2FPB23ADPKgODmMXVl7vTHO3j9VoBru1RpX2dgHf"
	"6Y2DM1kB5mRzjQW1aLFqIi_A3MAVLJXUiH3sIm4mgxxSD1FXsE8KBLUI0GBIbECs0e5ZBVp3R-Ew6mfcpaI1uDa2"
	"Y0WYv7pe-U5nStA8f2UHzytLx7pVl1nKvRzwBgAWIl-jh04rm1xa0HDftuIqodV5zP9fruyQqhUSkqzSgrnCi2s4"
	"9pmB9iSHWISFxOKiE7i6Hdwje_CkZM7cK4DanqXyIeT61SB2BsqO9DR-9SXxXZ8lvBo9ZeWWTn_knU0gR1GNgw3I"
	"wZQIiBRQ0U9UgzX6w\",\"e\":\"AQAB\",\"kid\":\"r1\",\"use\":\"sig\"},{\"kty\":\"EC\",\"x\":\"aMbxBrdADv0hcgYRP"
	"R4yWEzgn2ZBjz4PSCk4mnCTNq0\",\"y\":\"bA-90R0KvJgljpHstEL6XNkfeu5M092GGK00BpVoWF8\",\"crv\":\"P-2"
	"56\",\"kid\":\"e1\",\"use\":\"sig\"},{\"kty\":\"EC\",\"x\":\"hBpHAKIVChhJoANci7vVpZqO469Mz-Sz9A4M4vyLBHx"
	"J7cRnAeBkHC5_obgcWaiN\",\"y\":\"e7otC2ha4-9CTfnaCa0THwzcc-pr0qToJqNbzvoFR_X4fL0YiYDbWra1yJFB"
	"p-fx\",\"crv\":\"P-384\",\"kid\":\"e2\",\"use\":\"sig\"},{\"crv\":\"Ed25519\",\"x\":\"lOrV_2DvVhskFQE-sPRz3N"
	"a1lOGVzY7uTx5PYIVDcg0\",\"kty\":\"OKP\",\"kid\":\"d1\",\"use\":\"sig\"}]}";

static const char config_fmt[] =
	"auth:\n"
	"  jwt:\n"
	"    algorithms: [HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, PS256, EdDSA]\n"
	"    secret: \"fuzz-jwt-hmac-secret-0123456789abcdef-0123456789abcdef-0123456789abcdef\"\n"
	"    jwks_file: %s\n"
	"    issuer: fuzz-issuer\n"
	"    audience: fuzz-aud\n"
	"    leeway: 30s\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/fuzz-jwt-XXXXXX";
	char text[sizeof(config_fmt) + sizeof(path)];
	struct sg_config_errors errs = { 0 };
	struct sg_config *cfg;
	struct sg_err err = { 0 };
	int fd = mkstemp(path);

	(void)argc;
	(void)argv;
	if (fd < 0 || write(fd, jwks, sizeof(jwks) - 1) != (ssize_t)(sizeof(jwks) - 1))
		abort();
	close(fd);
	snprintf(text, sizeof(text), config_fmt, path);
	cfg = config_load_string("fuzz.yaml", text, strlen(text), &errs);
	if (cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "fuzz_jwt: %s\n", errs.v[i]);
		abort();
	}
	verifier = jwt_verifier_new(cfg, &err);
	if (verifier == NULL) {
		fprintf(stderr, "fuzz_jwt: %s\n", err.msg);
		abort();
	}
	config_free(cfg);
	unlink(path);
	return 0;
}

static void check(enum jwt_status st, json_t *claims)
{
	if ((st == JWT_OK) != (claims != NULL))
		__builtin_trap();
	if (claims != NULL && !json_is_object(claims))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *token = (const char *)data;
	json_t *c1 = NULL, *c2 = NULL, *c3 = NULL;
	struct sg_err why = { 0 };
	enum jwt_status s1, s2, s3;

	s1 = jwt_verify(verifier, token, size, FUZZ_NOW_MS, &c1);
	s2 = jwt_verify_why(verifier, token, size, FUZZ_NOW_MS, &c2, &why);
	s3 = jwt_verify(verifier, token, size, FUZZ_NOW_MS, &c3);
	check(s1, c1);
	check(s2, c2);
	check(s3, c3);
	if (s1 != s2 || s1 != s3)
		__builtin_trap();
	if ((s2 == JWT_OK) != (why.msg[0] == '\0'))
		__builtin_trap();
	if (c1 != NULL && !json_equal(c1, c2))
		__builtin_trap();
	json_decref(c1);
	json_decref(c2);
	json_decref(c3);
	return 0;
}
