/*
 * test_jwt_compare.c: an HMAC signature is compared in constant time.  The
 * test is linked with -Wl,--wrap=CRYPTO_memcmp (Makefile), so every
 * comparison auth_jwt.c makes through OpenSSL's constant-time primitive
 * passes through __wrap_CRYPTO_memcmp here and is recorded.  For HS256,
 * HS384 and HS512, a signature that is right, wrong in its first byte,
 * wrong in its last byte or wrong everywhere is compared exactly once, over
 * the MAC's whole length, by CRYPTO_memcmp (which reads every byte whatever
 * it finds): the verdict costs the same whether a forger got 0 or 31 bytes
 * right.  A comparison with memcmp (which stops at the first difference)
 * would not come through here, and the test fails.  A signature of the
 * wrong length is refused before any comparison (its length is public).
 */
#include <stdlib.h>

#include "app/auth_jwt.h"
#include "config/config.h"
#include "core/base64.h"
#include "unit.h"

#define NOW_MS INT64_C(1700000000000)

static const char SECRET[] =
	"siogate-unit-test-hmac-secret-0123456789-0123456789-0123456789-abcdef";

int __real_CRYPTO_memcmp(const void *a, const void *b, size_t len);
int __wrap_CRYPTO_memcmp(const void *a, const void *b, size_t len);

static int calls;
static size_t last_len;

int __wrap_CRYPTO_memcmp(const void *a, const void *b, size_t len)
{
	calls++;
	last_len = len;
	return __real_CRYPTO_memcmp(a, b, len);
}

static struct jwt_verifier *verifier(void)
{
	static const char yaml[] = "auth:\n  jwt:\n    algorithms: [HS256, HS384, HS512]\n"
				   "    secret: \"siogate-unit-test-hmac-secret-0123456789-"
				   "0123456789-0123456789-abcdef\"\n";
	struct sg_config_errors errs = { 0 };
	struct sg_config *cfg = config_load_string("t.yaml", yaml, strlen(yaml), &errs);
	struct sg_err err = { 0 };
	struct jwt_verifier *v;

	CHECK(cfg != NULL);
	config_errors_free(&errs);
	if (cfg == NULL)
		return NULL;
	v = jwt_verifier_new(cfg, &err);
	CHECK(v != NULL);
	config_free(cfg);
	return v;
}

/* token with its signature's decoded byte i xor'd with x (i < 0: none;
 * i == SIZE_MAX: every byte), re-encoded. */
static char *mutate(const char *token, size_t i, unsigned char x)
{
	const char *dot = strrchr(token, '.');
	struct sg_buf sig, out;

	sg_buf_init(&sig);
	sg_buf_init(&out);
	CHECK(base64url_decode(&sig, dot + 1, strlen(dot + 1)) == 0);
	for (size_t k = 0; k < sig.len; k++)
		if (i == SIZE_MAX || k == i)
			sig.data[k] = (char)(sig.data[k] ^ x);
	sg_buf_append(&out, token, (size_t)(dot + 1 - token));
	base64url_encode(&out, sig.data, sig.len);
	sg_buf_fini(&sig);
	return sg_buf_steal(&out);
}

static void test_constant_time(void)
{
	static const struct {
		const char *alg;
		size_t mac_len;
	} algs[] = { { "HS256", 32 }, { "HS384", 48 }, { "HS512", 64 } };
	struct jwt_verifier *v = verifier();

	if (v == NULL)
		return;
	for (size_t a = 0; a < SG_ARRAY_LEN(algs); a++) {
		json_t *claims = json_pack("{s:s,s:I}", "sub", "alice", "exp",
					   (json_int_t)(NOW_MS / 1000 + 3600));
		struct sg_err err = { 0 };
		char *good = NULL;
		const struct {
			size_t byte;
			unsigned char x;
			enum jwt_status want;
		} variants[] = {
			{ 0, 0, JWT_OK },
			{ 0, 0x01, JWT_ERR_SIGNATURE },
			{ algs[a].mac_len - 1, 0x80, JWT_ERR_SIGNATURE },
			{ SIZE_MAX, 0xff, JWT_ERR_SIGNATURE },
		};

		CHECK_INT(jwt_sign_hmac(algs[a].alg, SECRET, strlen(SECRET), NULL, claims, &good,
					&err),
			  0);
		json_decref(claims);
		for (size_t i = 0; good != NULL && i < SG_ARRAY_LEN(variants); i++) {
			char *t = mutate(good, variants[i].byte, variants[i].x);
			json_t *got = NULL;

			calls = 0;
			last_len = 0;
			CHECK_INT(jwt_verify(v, t, strlen(t), NOW_MS, &got), variants[i].want);
			/* one constant-time comparison of the whole MAC, whatever differs */
			CHECK_INT(calls, 1);
			CHECK_INT(last_len, algs[a].mac_len);
			json_decref(got);
			free(t);
		}
		/* a signature one byte short: refused, nothing compared */
		if (good != NULL) {
			char *t = mutate(good, SIZE_MAX, 0);
			json_t *got = NULL;
			struct sg_buf shorter;

			sg_buf_init(&shorter);
			sg_buf_append(&shorter, t, (size_t)(strrchr(t, '.') + 1 - t));
			{
				struct sg_buf sig;
				const char *dot = strrchr(good, '.');
				sg_buf_init(&sig);
				CHECK(base64url_decode(&sig, dot + 1, strlen(dot + 1)) == 0);
				base64url_encode(&shorter, sig.data, sig.len - 1);
				sg_buf_fini(&sig);
			}
			calls = 0;
			CHECK_INT(jwt_verify(v, shorter.data, shorter.len, NOW_MS, &got),
				  JWT_ERR_SIGNATURE);
			CHECK_INT(calls, 0);
			sg_buf_fini(&shorter);
			free(t);
		}
		free(good);
	}
	jwt_verifier_free(v);
}

int main(void)
{
	RUN(test_constant_time);
	return UNIT_END();
}
