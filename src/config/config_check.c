/*
 * config_check.c: the checks of a configuration that look at several keys
 * at once, run after every key has its value: TLS needs both files, the
 * verifier needs its key or its URL, a drain window fits in the shutdown
 * timeout, the soft output limit is below the hard one, and so on; and the
 * files the configuration names that hold secrets (the HMAC key, the admin
 * token) are read and judged here.  A check stays silent about a key whose
 * value already had an error, so each mistake is reported once.
 */
#include "config/config_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_loader.h"
#include "config/config_secret.h"
#include "config/config_value.h"
#include "proto/room_rules.h"

#define SECRET_MAX_FILE (1u << 20) /* largest secret file read */

static bool auth_configured(struct cfg_loader *ld);
static void load_secret_file(struct cfg_loader *ld, const char *key, const char *file, char **value,
			     size_t *value_len);
static void check_secret_strength(struct cfg_loader *ld);
static void check_token_file(struct cfg_loader *ld);
static void check_admin_ui(struct cfg_loader *ld);

/* Did the user configure JWT verification (auth.verifier, or anything under
 * auth.jwt)? */
static bool auth_configured(struct cfg_loader *ld)
{
	struct cfg_seen_section *s = cfg_find_seen(ld, "auth.jwt");

	if (cfg_given(ld, "auth.verifier") || (s != NULL && s->mapping))
		return true;
	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		if (ld->key_set[i] && strncmp(config_keys[i].name, "auth.jwt.", 9) == 0)
			return true;
	return false;
}

/* ---- files the config names ------------------------------------------------------ */

/* Reads the secret file named by key `key` (*file) into *value and
 * *value_len, unless the value itself was given. */
static void load_secret_file(struct cfg_loader *ld, const char *key, const char *file, char **value,
			     size_t *value_len)
{
	struct sg_err err = { 0 };
	int line = 0, col = 0;
	struct sg_buf b;

	if (file == NULL || *value != NULL)
		return;
	sg_buf_init(&b);
	if (cfg_read_secret_file(file, SECRET_MAX_FILE, &b, &err) != 0) {
		(void)cfg_pos_of(ld, key, &line, &col);
		cfg_add_err(ld, line, col, key, "%s", err.msg);
		sg_buf_fini(&b);
		return;
	}
	*value_len = b.len;
	*value = sg_buf_steal(&b);
}

/* An HMAC key that is a placeholder, or shorter than the hash of an HS*
 * algorithm it is listed for, is refused (config_secret.h). */
static void check_secret_strength(struct cfg_loader *ld)
{
	const struct sg_config *cfg = ld->cfg;
	const char *file = cfg->auth.jwt.secret_file;
	const char *key = file != NULL ? "auth.jwt.secret_file" : "auth.jwt.secret";
	int line = 0, col = 0;
	struct sg_buf msg;

	if (cfg->auth.jwt.secret == NULL || cfg->auth.jwt.allow_weak_secret ||
	    cfg_bad(ld, "auth.jwt.secret") || cfg_bad(ld, "auth.jwt.secret_file") ||
	    cfg_bad(ld, "auth.jwt.algorithms") ||
	    (cfg_given(ld, "auth.jwt.secret") && file != NULL))
		return; /* already an error */
	sg_buf_init(&msg);
	if (cfg_check_hmac_key(cfg->auth.jwt.secret, cfg->auth.jwt.secret_len, file,
			       &cfg->auth.jwt.algorithms, &msg) != 0) {
		(void)cfg_pos_of(ld, key, &line, &col);
		cfg_add_err(ld, line, col, key, "%s", msg.data);
	}
	sg_buf_fini(&msg);
}

static void check_token_file(struct cfg_loader *ld)
{
	static const char key[] = "admin.token_file";
	struct sg_err err = { 0 };
	int line = 0, col = 0;
	struct sg_buf b;

	if (ld->cfg->admin.token_file == NULL)
		return;
	sg_buf_init(&b);
	if (cfg_read_secret_file(ld->cfg->admin.token_file, SECRET_MAX_FILE, &b, &err) != 0 ||
	    cfg_check_admin_token(b.data, b.len, &err) != 0) {
		(void)cfg_pos_of(ld, key, &line, &col);
		cfg_add_err(ld, line, col, key, "%s", err.msg);
	}
	if (b.data != NULL)
		explicit_bzero(b.data, b.cap);
	sg_buf_fini(&b);
}

/* The Admin UI's namespace is its own, and it logs in with a bcrypt hash. */
static void check_admin_ui(struct cfg_loader *ld)
{
	const struct sg_config *cfg = ld->cfg;
	const char *nsp = cfg->admin_ui.namespace, *h = cfg->admin_ui.password_hash;
	int line = 0, col = 0;

	if (!cfg->admin_ui.enabled)
		return;
	if (nsp[0] != '/' || sg_strv_contains(&cfg->namespaces, nsp)) {
		(void)cfg_pos_of(ld, "admin_ui.namespace", &line, &col);
		cfg_add_err(ld, line, col, "admin_ui.namespace",
			    "must start with / and not be one of namespaces");
	}
	if (cfg->admin_ui.username == NULL || h == NULL) {
		if (!cfg_pos_of(ld, "admin_ui.enabled", &line, &col))
			line = col = 0;
		cfg_add_err(ld, line, col, "admin_ui", "enabled needs username and password_hash");
	} else if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' ||
		   (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') || h[3] != '$') {
		(void)cfg_pos_of(ld, "admin_ui.password_hash", &line, &col);
		cfg_add_err(ld, line, col, "admin_ui.password_hash",
			    "not a bcrypt hash ($2b$10$ and 53 more characters)");
	}
}

/* ---- cross-key checks -------------------------------------------------------------- */

void cfg_check_cross(struct cfg_loader *ld)
{
	struct sg_config *cfg = ld->cfg;
	struct cfg_seen_section *s;
	int line = 0, col = 0;

	s = cfg_find_seen(ld, "server.tls");
	if (s != NULL && s->mapping &&
	    (!cfg_given(ld, "server.tls.cert") || !cfg_given(ld, "server.tls.key")))
		cfg_add_err(ld, s->line, s->col, "server.tls", "needs both cert and key");
	s = cfg_find_seen(ld, "rooms.http");
	if (s != NULL && s->mapping && !cfg_given(ld, "rooms.http.url"))
		cfg_add_err(ld, s->line, s->col, "rooms.http",
			    "needs url (or write rooms.http: null)");
	for (size_t i = 0; i < cfg->rooms.allow.n; i++) {
		struct sg_err rerr = { 0 };
		if (room_rule_check(cfg->rooms.allow.v[i], &rerr) != 0) {
			(void)cfg_pos_of(ld, "rooms.allow", &line, &col);
			cfg_add_err(ld, line, col, "rooms.allow", "%s", rerr.msg);
		}
	}

	if (cfg->auth.jwt.secret != NULL && cfg->auth.jwt.secret_file != NULL) {
		(void)cfg_pos_of(ld, "auth.jwt.secret_file", &line, &col);
		cfg_add_err(ld, line, col, "auth.jwt.secret_file",
			    "give either auth.jwt.secret or auth.jwt.secret_file, not both");
	}
	load_secret_file(ld, "auth.jwt.secret_file", cfg->auth.jwt.secret_file,
			 &cfg->auth.jwt.secret, &cfg->auth.jwt.secret_len);
	if (cfg->auth.jwt.secret != NULL && cfg->auth.jwt.secret_len == 0)
		cfg->auth.jwt.secret_len = strlen(cfg->auth.jwt.secret);
	if (cfg->redis.password != NULL && cfg->redis.password_file != NULL) {
		(void)cfg_pos_of(ld, "redis.password_file", &line, &col);
		cfg_add_err(ld, line, col, "redis.password_file",
			    "give either redis.password or redis.password_file, not both");
	}
	load_secret_file(ld, "redis.password_file", cfg->redis.password_file, &cfg->redis.password,
			 &cfg->redis.password_len);
	if (cfg->redis.password != NULL && cfg->redis.password_len == 0)
		cfg->redis.password_len = strlen(cfg->redis.password);
	if (cfg->admin_ui.password_hash != NULL)
		cfg->admin_ui.password_hash_len = strlen(cfg->admin_ui.password_hash);
	if (cfg->redis.password != NULL &&
	    memchr(cfg->redis.password, '\0', cfg->redis.password_len)) {
		(void)cfg_pos_of(ld, "redis.password_file", &line, &col);
		cfg_add_err(ld, line, col, "redis.password_file", "the password holds a NUL byte");
	}
	if ((cfg->redis.tls.cert_file == NULL) != (cfg->redis.tls.key_file == NULL)) {
		const char *k =
			cfg->redis.tls.cert_file ? "redis.tls.cert_file" : "redis.tls.key_file";
		(void)cfg_pos_of(ld, k, &line, &col);
		cfg_add_err(ld, line, col, k,
			    "redis.tls.cert_file and redis.tls.key_file go together");
	}
	check_secret_strength(ld);
	check_token_file(ld);

	/* With JWT settings left alone the config is still valid: no key is
	 * configured, so every authenticate is refused (a secure default). */
	if (cfg->auth.verifier == SG_VERIFIER_JWT && auth_configured(ld) &&
	    !cfg_bad(ld, "auth.jwt.algorithms") && !cfg_bad(ld, "auth.jwt.secret") &&
	    !cfg_bad(ld, "auth.jwt.secret_file") && !cfg_bad(ld, "auth.jwt.public_key_file") &&
	    !cfg_bad(ld, "auth.jwt.jwks_file")) {
		const char *hs = NULL, *pk = NULL;

		for (size_t i = 0; i < cfg->auth.jwt.algorithms.n; i++) {
			const char *a = cfg->auth.jwt.algorithms.v[i];

			if (a[0] == 'H' && hs == NULL)
				hs = a;
			else if (a[0] != 'H' && pk == NULL)
				pk = a;
		}
		if (!cfg_pos_of(ld, "auth.jwt.algorithms", &line, &col) &&
		    !cfg_pos_of(ld, "auth.jwt", &line, &col) &&
		    !cfg_pos_of(ld, "auth.verifier", &line, &col) &&
		    !cfg_pos_of(ld, "auth", &line, &col))
			line = col = 0;
		if (hs != NULL && cfg->auth.jwt.secret == NULL && cfg->auth.jwt.secret_file == NULL)
			cfg_add_err(ld, line, col, "auth.jwt.secret",
				    "required by %s (or give auth.jwt.secret_file)", hs);
		/* keys from the issuer: jwks_url, or OIDC discovery from an https
		 * issuer (app/auth_jwt.c, jwt_remote_wanted) */
		if (pk != NULL && cfg->auth.jwt.public_key_file == NULL &&
		    cfg->auth.jwt.jwks_file == NULL && cfg->auth.jwt.jwks_url == NULL &&
		    (cfg->auth.jwt.issuer == NULL ||
		     strncmp(cfg->auth.jwt.issuer, "https://", 8) != 0))
			cfg_add_err(
				ld, line, col, "auth.jwt.public_key_file",
				"required by %s (or give auth.jwt.jwks_file, auth.jwt.jwks_url, "
				"or an https auth.jwt.issuer to discover its keys)",
				pk);
	} else if (cfg->auth.verifier == SG_VERIFIER_HTTP && !cfg_given(ld, "auth.http.url")) {
		if (!cfg_pos_of(ld, "auth.verifier", &line, &col))
			line = col = 0;
		cfg_add_err(ld, line, col, "auth.http.url", "required when auth.verifier is http");
	}

	check_admin_ui(ld);

	if (cfg->server.drain_window_ms > cfg->server.shutdown_timeout_ms &&
	    !cfg_bad(ld, "server.drain_window") && !cfg_bad(ld, "server.shutdown_timeout")) {
		char a[32], b[32];

		if (!cfg_pos_of(ld, "server.drain_window", &line, &col))
			(void)cfg_pos_of(ld, "server.shutdown_timeout", &line, &col);
		cfg_fmt_duration((uint64_t)cfg->server.drain_window_ms, a, sizeof(a));
		cfg_fmt_duration((uint64_t)cfg->server.shutdown_timeout_ms, b, sizeof(b));
		cfg_add_err(ld, line, col, "server.drain_window",
			    "%s is longer than server.shutdown_timeout (%s)", a, b);
	}
	if (cfg->limits.output_soft > cfg->limits.output_hard &&
	    !cfg_bad(ld, "limits.output_soft") && !cfg_bad(ld, "limits.output_hard")) {
		char a[32], b[32];

		if (!cfg_pos_of(ld, "limits.output_soft", &line, &col))
			(void)cfg_pos_of(ld, "limits.output_hard", &line, &col);
		cfg_fmt_size(cfg->limits.output_soft, a, sizeof(a));
		cfg_fmt_size(cfg->limits.output_hard, b, sizeof(b));
		cfg_add_err(ld, line, col, "limits.output_soft",
			    "%s is more than limits.output_hard (%s)", a, b);
	}

	if (cfg->server.proxy_protocol && cfg->server.trusted_proxies.n == 0 &&
	    !cfg_bad(ld, "server.trusted_proxies")) {
		(void)cfg_pos_of(ld, "server.proxy_protocol", &line, &col);
		cfg_add_err(
			ld, line, col, "server.proxy_protocol",
			"needs server.trusted_proxies: the PROXY header is taken from those peers "
			"only");
	}

	if (cfg->server.id == NULL) {
		char host[256];

		if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "siogate");
		host[sizeof(host) - 1] = '\0';
		cfg->server.id = sg_strdup(host);
	}
}
