/*
 * cmd_token.c: `siogate token --sub NAME [--ttl D] [--claim k=v]...
 * [--alg ALG] [--kid KID] [--key PEM] -c FILE`.  Claims: sub, iat, exp
 * (iat + ttl) and each --claim; a value that parses as a JSON number, true,
 * false or null keeps that type, anything else is a string.  HS* tokens are
 * signed with the configuration's secret, the other algorithms with the
 * private key given by --key.
 *
 * `siogate token --verify TOKEN -c FILE` verifies a token as the daemon
 * would: the same configuration loader, the same verifier built by
 * jwt_verifier_new() and jwt_verify_why(), which is jwt_verify() with the
 * reason kept.  It prints the claims as JSON (exit 0) or the reason the
 * token is refused (exit 1).  TOKEN "-" reads it from standard input, which
 * keeps it out of the process list.
 */
#include "cmd_token.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/auth_jwt.h"
#include "app/jwks_fetch.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/common.h"
#include "core/log.h"

#define TOKEN_USAGE                                                                        \
	"usage: siogate token --sub NAME [--ttl DURATION] [--claim k=v]... [--alg ALG]\n"  \
	"                     [--kid KID] [--key PRIVATE_KEY.pem] -c FILE\n"               \
	"       siogate token --verify TOKEN|- -c FILE\n"                                  \
	"  HS256/HS384/HS512 (default HS256) are signed with auth.jwt.secret of FILE;\n"   \
	"  RS*, PS*, ES256/ES384 and EdDSA with the PEM private key given by --key.\n"     \
	"  --verify checks TOKEN (- : read from standard input) as the daemon with FILE\n" \
	"  would, and prints its claims as JSON (exit 0) or why it is refused (exit 1).\n"

static int add_claim(json_t *claims, const char *kv);
static struct sg_config *load_config(const char *path);
static int read_token(const char *arg, struct sg_buf *out);
static int verify_token(const char *arg, const char *path);

static int add_claim(json_t *claims, const char *kv)
{
	const char *eq = strchr(kv, '=');
	json_t *v;
	char *key;

	if (eq == NULL || eq == kv) {
		fprintf(stderr, "siogate token: --claim wants key=value (got '%s')\n", kv);
		return -1;
	}
	key = sg_strndup(kv, (size_t)(eq - kv));
	v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
	if (v == NULL || json_is_object(v) || json_is_array(v)) {
		if (v)
			json_decref(v);
		v = json_string(eq + 1);
	}
	json_object_set_new(claims, key, v);
	free(key);
	return 0;
}

/* The configuration, or NULL after printing every error. */
static struct sg_config *load_config(const char *path)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *cfg = config_load(path, &errs);

	for (size_t i = 0; cfg == NULL && i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i]);
	config_errors_free(&errs);
	return cfg;
}

/* The token of --verify: arg itself, or standard input for "-" (up to the
 * longest token verified), without surrounding white space. */
static int read_token(const char *arg, struct sg_buf *out)
{
	size_t start = 0;

	if (strcmp(arg, "-") != 0) {
		sg_buf_append_str(out, arg);
	} else {
		char chunk[4096];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
			sg_buf_append(out, chunk, n);
			if (out->len > JWT_MAX_TOKEN_LEN + 2) {
				fprintf(stderr, "refused: token longer than %d bytes\n",
					JWT_MAX_TOKEN_LEN);
				return -1;
			}
		}
	}
	while (out->len > 0 && strchr(" \t\r\n", out->data[out->len - 1]) != NULL)
		out->data[--out->len] = '\0';
	while (start < out->len && strchr(" \t\r\n", out->data[start]) != NULL)
		start++;
	memmove(out->data, out->data + start, out->len - start + 1);
	out->len -= start;
	return 0;
}

static int verify_token(const char *arg, const char *path)
{
	struct jwt_verifier *v = NULL;
	struct jwt_remote *remote = NULL;
	struct sg_config *cfg = NULL;
	struct sg_err err = { 0 };
	json_t *claims = NULL;
	struct sg_buf tok;
	int status = 1;

	sg_buf_init(&tok);
	if (read_token(arg, &tok) != 0)
		goto out;
	cfg = load_config(path);
	if (cfg == NULL)
		goto out;
	if (cfg->auth.verifier != SG_VERIFIER_JWT) {
		fprintf(stderr,
			"siogate token --verify: %s has auth.verifier: http; its tokens are "
			"decided by auth.http.url\n",
			path);
		goto out;
	}
	v = jwt_verifier_new(cfg, &err);
	if (v == NULL) {
		fprintf(stderr, "siogate token --verify: %s\n", err.msg);
		goto out;
	}
	if (jwt_remote_wanted(cfg)) {
		/* the issuer's keys, fetched once as the daemon would at start */
		remote = jwt_remote_new(cfg->auth.jwt.jwks_min_refresh_ms);
		if (jwks_fetch_once(cfg, remote, &err) != 0) {
			fprintf(stderr, "siogate token --verify: %s\n", err.msg);
			goto out;
		}
		jwt_verifier_attach(v, remote);
	}
	if (jwt_verify_why(v, tok.data, tok.len, sg_now_ms(), &claims, &err) != JWT_OK) {
		fprintf(stderr, "refused: %s\n", err.msg);
		goto out;
	}
	if (json_dumpf(claims, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF) {
		fprintf(stderr, "siogate token --verify: cannot write the claims\n");
		goto out;
	}
	status = 0;
out:
	json_decref(claims);
	jwt_verifier_free(v);
	jwt_remote_free(remote);
	config_free(cfg);
	sg_buf_fini(&tok);
	return status;
}

int cmd_token(int argc, char **argv, const char *default_config)
{
	static const struct option opts[] = {
		{ "sub", required_argument, NULL, 's' },
		{ "ttl", required_argument, NULL, 't' },
		{ "claim", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' },
		{ "alg", required_argument, NULL, 'a' },
		{ "kid", required_argument, NULL, 'i' },
		{ "key", required_argument, NULL, 'K' },
		{ "verify", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sub = NULL, *path = default_config, *alg = "HS256", *kid = NULL, *key = NULL;
	const char *verify = NULL;
	bool minting = false; /* an option that only minting takes was given */
	int64_t ttl_ms = 3600 * 1000, now;
	struct sg_config *cfg;
	struct sg_err err = { 0 };
	json_t *claims = json_object();
	char *token = NULL;
	int c, status = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:t:k:c:a:i:K:v:h", opts, NULL)) != -1) {
		minting = minting || (c != 'c' && c != 'v' && c != 'h' && c != '?');
		switch (c) {
		case 's':
			sub = optarg;
			break;
		case 't':
			if (config_parse_duration(optarg, &ttl_ms, &err) != 0 || ttl_ms <= 0) {
				fprintf(stderr, "siogate token: --ttl: %s\n",
					err.msg[0] ? err.msg : "must be positive");
				goto out;
			}
			break;
		case 'k':
			if (add_claim(claims, optarg) != 0)
				goto out;
			break;
		case 'c':
			path = optarg;
			break;
		case 'a':
			alg = optarg;
			break;
		case 'i':
			kid = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'v':
			verify = optarg;
			break;
		case 'h':
			printf("%s", TOKEN_USAGE);
			status = 0;
			goto out;
		default:
			fprintf(stderr, "%s", TOKEN_USAGE);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "siogate token: unexpected argument '%s'\n", argv[optind]);
		goto out;
	}
	if (verify != NULL) {
		if (minting) {
			fprintf(stderr, "siogate token: --verify takes only -c FILE\n");
			goto out;
		}
		status = verify_token(verify, path);
		goto out;
	}
	if (sub == NULL) {
		fprintf(stderr, "siogate token: --sub NAME is required\n");
		goto out;
	}
	if (strncmp(alg, "HS", 2) != 0) {
		/* an asymmetric algorithm: the private key, not the configuration */
		if (key == NULL) {
			fprintf(stderr, "siogate token: --alg %s needs --key PRIVATE_KEY.pem\n",
				alg);
			goto out;
		}
		now = sg_now_ms() / 1000;
		json_object_set_new(claims, "sub", json_string(sub));
		json_object_set_new(claims, "iat", json_integer(now));
		json_object_set_new(claims, "exp", json_integer(now + ttl_ms / 1000));
		if (jwt_sign_pem(alg, key, kid, claims, &token, &err) != 0) {
			fprintf(stderr, "siogate %s\n", err.msg);
			goto out;
		}
		printf("%s\n", token);
		free(token);
		status = 0;
		goto out;
	}
	cfg = load_config(path);
	if (cfg == NULL)
		goto out;
	if (cfg->auth.jwt.secret == NULL) {
		fprintf(stderr, "siogate token: %s has no auth.jwt.secret or secret_file\n", path);
		config_free(cfg);
		goto out;
	}
	now = sg_now_ms() / 1000;
	json_object_set_new(claims, "sub", json_string(sub));
	json_object_set_new(claims, "iat", json_integer(now));
	json_object_set_new(claims, "exp", json_integer(now + ttl_ms / 1000));
	if (jwt_sign_hmac(alg, cfg->auth.jwt.secret, cfg->auth.jwt.secret_len, kid, claims, &token,
			  &err) != 0) {
		fprintf(stderr, "siogate token: %s\n", err.msg);
		config_free(cfg);
		goto out;
	}
	printf("%s\n", token);
	free(token);
	config_free(cfg);
	status = 0;
out:
	json_decref(claims);
	return status;
}
