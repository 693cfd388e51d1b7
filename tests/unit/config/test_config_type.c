/*
 * test_config_type.c: the table of key-type operations (config_type.h).
 * Every type has all its operations; print writes what parse reads back to
 * an equal value, for the defaults and for a configuration in which every
 * key differs from its default (strings with quotes, backslashes, "$",
 * control and non-ASCII characters among them), and prints it as a user
 * would write it; equal tells the two configurations apart key by key; copy
 * gives an equal value that outlives its source; and a reload keeps the
 * running value of every key that cannot change while running, whatever its
 * type (events.forward included).
 */
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_table.h"
#include "config/config_type.h"
#include "unit.h"

static char tmpdir[64];

/* Every key differs from its default. */
static const char rich_text[] =
	"server:\n"
	"  id: \"gw-1$x$${SG_NOT_SET} \\\"q\\\" \\\\b\"\n"
	"  listen: [\"127.0.0.2:4000\", \"[::1]:4001\"]\n"
	"  path: /io\n"
	"  transports: [websocket]\n"
	"  cors: { origins: [\"https://b.example\"], credentials: true }\n"
	"  tls: { cert: /etc/t.crt, key: /etc/t.key }\n"
	"  ping_interval: 3m\n"
	"  ping_timeout: 1500\n"
	"  max_payload: 96KB\n"
	"  max_connections: 43\n"
	"  shutdown_timeout: 30m\n"
	"  drain_window: 750ms\n"
	"  workers: 3\n"
	"  trusted_proxies: [10.0.0.0/8, \"::1\"]\n"
	"  proxy_protocol: true\n"
	"namespaces: [/chat, /admin]\n"
	"auth:\n"
	"  timeout: 7s\n"
	"  verifier: http\n"
	"  mode: connect\n"
	"  refresh_window: 0\n"
	"  jwt:\n"
	"    algorithms: [HS512, RS256]\n"
	"    secret_file: secret\n"
	"    allow_weak_secret: true\n"
	"    public_key_file: /etc/k.pub\n"
	"    jwks_file: /etc/jwks.json\n"
	"    jwks_url: \"https://idp.example/keys\"\n"
	"    ca_file: /etc/ca.pem\n"
	"    jwks_min_refresh: 45s\n"
	"    issuer: \"me\\t\\u00e9\"\n"
	"    audience: \"you\\x80\\u2028\\P\\ufeff\"\n"
	"    leeway: 0\n"
	"    token_from: [query, header]\n"
	"  http:\n"
	"    url: \"https://verify.example/v1\"\n"
	"    timeout: 2s\n"
	"    headers: { X-Api-Key: \"a$$b\", X-Num: 7 }\n"
	"    max_in_flight: 11\n"
	"    cache_ttl: 90s\n"
	"    max_pending: 65537\n"
	"ping: { interval: 45s }\n"
	"rooms:\n"
	"  default: []\n"
	"  allow: [\"open-*\", \"u-{sub}\"]\n"
	"  http: { url: \"http://127.0.0.1:8081/check\", timeout: 200ms, max_pending: 2MB, max_in_flight: 9 }\n"
	"  max_per_client: 12\n"
	"redis:\n"
	"  url: [\"redis://10.0.0.1:7000\", \"unix:///run/r.sock\"]\n"
	"  prefix: sio2\n"
	"  json_channel: jc\n"
	"  lifecycle_channel: lc\n"
	"  max_pending: 65540\n"
	"  password_file: redispw\n"
	"  lifecycle_stream: lcs\n"
	"  lifecycle_stream_maxlen: 77\n"
	"  ingest_stream: ing\n"
	"  tls:\n"
	"    ca_file: /etc/redis-ca.pem\n"
	"    cert_file: /etc/redis-client.pem\n"
	"    key_file: /etc/redis-client.key\n"
	"    server_name: redis.internal\n"
	"events:\n"
	"  forward:\n"
	"    - { match: \"room:*\", stream: \"s:ev\" }\n"
	"    - { match: \"rpc:*\", http: \"http://127.0.0.1:8080/rpc\", timeout: 1500ms }\n"
	"  stream_maxlen: 5001\n"
	"  max_pending: 512MB\n"
	"  max_in_flight: 33\n"
	"recovery:\n"
	"  enabled: true\n"
	"  max_disconnection: 90s\n"
	"limits:\n"
	"  per_ip: 9\n"
	"  handshakes_per_second: 11\n"
	"  events_per_second: 4\n"
	"  burst: 8\n"
	"  on_flood: disconnect\n"
	"  output_soft: 2MiB\n"
	"  output_soft_time: 4s\n"
	"  output_hard: 1GiB\n"
	"  auth_failures_per_minute: 0\n"
	"  auth_failures_burst: 3\n"
	"  header_timeout: 2s\n"
	"  body_timeout: 5s\n"
	"  body_min_rate: 0\n"
	"  http_per_ip: 0\n"
	"  ack_requests: 5\n"
	"  ack_timeout_max: 2s\n"
	"admin:\n"
	"  listen: \"[::1]:9092\"\n"
	"  token_file: token\n"
	"  ui_dir: ui\n"
	"admin_ui:\n"
	"  enabled: true\n"
	"  namespace: /ops\n"
	"  username: ops\n"
	"  password_hash: \"$$2b$$04$$abcdefghijklmnopqrstuuVqWaGmz0ifd5xvXV4LJmPBuNVlcVsXG\"\n"
	"  readonly: true\n"
	"log: { level: debug, format: json }\n";

/* What print writes for some keys: of the defaults (rich false) and of
 * rich_text (true). */
static const struct {
	bool rich;
	const char *key;
	const char *printed;
} printed[] = {
	{ false, "server.listen", "[\"0.0.0.0:3000\"]" },
	{ false, "server.path", "\"/socket.io/\"" },
	{ false, "server.transports", "[polling, websocket]" },
	{ false, "server.cors.credentials", "false" },
	{ false, "server.tls.cert", "null" },
	{ false, "server.ping_interval", "25s" },
	{ false, "server.max_payload", "1000000" },
	{ false, "server.max_connections", "auto" },
	{ false, "namespaces", "[\"/\"]" },
	{ false, "auth.verifier", "jwt" },
	{ false, "auth.jwt.secret", "null" },
	{ false, "auth.jwt.token_from", "[header, auth, query]" },
	{ false, "auth.http.headers", "{}" },
	{ false, "auth.http.cache_ttl", "0" },
	{ false, "redis.url", "[]" },
	{ false, "events.forward", "[]" },
	{ false, "limits.body_min_rate", "1KB" },
	{ false, "log.level", "info" },
	{ true, "server.id", "\"gw-1$$x$${SG_NOT_SET} \\\"q\\\" \\\\b\"" },
	{ true, "server.path", "\"/io/\"" },
	{ true, "server.transports", "[websocket]" },
	{ true, "server.max_connections", "43" },
	{ true, "server.ping_timeout", "1500ms" },
	{ true, "server.proxy_protocol", "true" },
	{ true, "server.trusted_proxies", "[\"10.0.0.0/8\", \"::1\"]" },
	{ true, "namespaces", "[\"/\", \"/chat\", \"/admin\"]" },
	{ true, "auth.verifier", "http" },
	{ true, "auth.jwt.secret", "\"(secret)\"" },
	{ true, "auth.jwt.issuer", "\"me\\x09\xc3\xa9\"" },
	{ true, "auth.jwt.audience", "\"you\\x80\\L\\P\\ufeff\"" },
	{ true, "auth.jwt.token_from", "[query, header]" },
	{ true, "auth.http.headers", "{\"X-Api-Key\": \"a$$b\", \"X-Num\": \"7\"}" },
	{ true, "auth.http.max_pending", "65537" },
	{ true, "rooms.default", "[]" },
	{ true, "redis.url", "[\"redis://10.0.0.1:7000\", \"unix:///run/r.sock\"]" },
	{ true, "events.forward",
	  "[{match: \"room:*\", stream: \"s:ev\"}, "
	  "{match: \"rpc:*\", http: \"http://127.0.0.1:8080/rpc\", timeout: 1500ms}]" },
	{ true, "limits.output_soft", "2MB" },
	{ true, "limits.on_flood", "disconnect" },
	{ true, "log.format", "json" },
};

static const char *credential(const char *name);
static void write_credential(const char *name, const char *text);
static struct sg_config *load(const char *text);
static const struct key_def *key(const char *name);
static char *print_key(const struct sg_config *c, const struct key_def *k);
static char *print_doc(const struct sg_config *c, bool jwt);
static struct sg_config *load_rich(void);
static void check_round_trip(const struct sg_config *c, bool jwt);

/* The path of a file in $CREDENTIALS_DIRECTORY, where the config finds
 * "secret" and "token" (config_secret.h); valid until the next call. */
static const char *credential(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void write_credential(const char *name, const char *text)
{
	FILE *f = fopen(credential(name), "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(credential(name));
		exit(2);
	}
}

static struct sg_config *load(const char *text)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *c = config_load_string("t.yaml", text, strlen(text), &errs);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "unexpected: %s\n", errs.v[i]);
	if (c == NULL)
		fprintf(stderr, "in:\n%s", text);
	config_errors_free(&errs);
	return c;
}

static const struct key_def *key(const char *name)
{
	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	fprintf(stderr, "no key %s\n", name);
	exit(2);
}

static char *print_key(const struct sg_config *c, const struct key_def *k)
{
	struct sg_buf b;

	sg_buf_init(&b);
	cfg_type_of(k)->print(c, k, &b);
	sg_buf_append_char(&b, '\0'); /* an empty print is still a string */
	return sg_buf_steal(&b);
}

/* Every key of c but the secret, printed, in the sections of its name (the
 * keys of a section are together in the table, so each section is written
 * once).  With jwt false, nothing of auth.jwt nor auth.verifier: writing
 * them says that JWT verification is configured, which needs a key. */
static char *print_doc(const struct sg_config *c, bool jwt)
{
	char prev[160] = ""; /* the sections of the key before: "auth.jwt" */
	struct sg_buf b;

	sg_buf_init(&b);
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];
		const char *name = k->name, *leaf = strrchr(name, '.');
		size_t sect = leaf != NULL ? (size_t)(leaf - name) : 0, j = 0, depth = 0;
		char *v;

		/* secrets print as "(secret)": those with a file key come back
		 * through it; the Admin UI's hash (no file key) is written here */
		if ((k->type == KT_SECRET && strcmp(name, "admin_ui.password_hash") != 0) ||
		    (!jwt &&
		     (strncmp(name, "auth.jwt.", 9) == 0 || strcmp(name, "auth.verifier") == 0)))
			continue;
		/* the sections still open: whole leading parts shared with prev */
		while (j < sect && j <= strlen(prev)) {
			size_t end = strcspn(name + j, ".") + j;

			if (strncmp(name + j, prev + j, end - j) != 0 ||
			    (prev[end] != '.' && prev[end] != '\0'))
				break;
			depth++;
			j = end + 1;
		}
		for (; j < sect; depth++) {
			size_t end = strcspn(name + j, ".") + j;

			sg_buf_printf(&b, "%*s%.*s:\n", (int)(2 * depth), "", (int)(end - j),
				      name + j);
			j = end + 1;
		}
		if (k->type == KT_SECRET) {
			const char *raw = *(char **)config_key_field(c, k);
			struct sg_buf q;
			sg_buf_init(&q);
			if (raw != NULL)
				cfg_print_quoted(&q, raw, true);
			else
				sg_buf_append_str(&q, "null");
			v = sg_buf_steal(&q);
		} else {
			v = print_key(c, k);
		}
		sg_buf_printf(&b, "%*s%s: %s\n", (int)(2 * depth), "", leaf ? leaf + 1 : name, v);
		free(v);
		snprintf(prev, sizeof(prev), "%.*s", (int)sect, name);
	}
	return sg_buf_steal(&b);
}

static struct sg_config *load_rich(void)
{
	return load(rich_text);
}

/* Printing c and loading the text gives back every value of c. */
static void check_round_trip(const struct sg_config *c, bool jwt)
{
	char *doc = print_doc(c, jwt);
	struct sg_config *back = load(doc);

	CHECK(back != NULL);
	for (size_t i = 0; back != NULL && i < CONFIG_N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];
		char *a = print_key(c, k), *b = print_key(back, k);

		if (!cfg_type_of(k)->equal(c, back, k))
			fprintf(stderr, "%s: %s read back as %s\n", k->name, a, b);
		CHECK(cfg_type_of(k)->equal(c, back, k));
		CHECK_STR(b, a);
		free(a);
		free(b);
	}
	config_free(back);
	free(doc);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_table(void)
{
	for (size_t t = 0; t < KT_COUNT; t++) {
		const struct cfg_type *ty = config_types[t];

		CHECK(ty != NULL);
		if (ty == NULL)
			continue;
		CHECK(ty->what != NULL && ty->what[0] != '\0');
		CHECK(ty->parse != NULL && ty->free != NULL && ty->copy != NULL &&
		      ty->equal != NULL && ty->print != NULL);
		/* a value that owns no memory is handled as its bytes, only then */
		if (ty->size != 0)
			CHECK(ty->free == cfg_free_plain && ty->copy == cfg_copy_plain &&
			      ty->equal == cfg_equal_plain);
		else
			CHECK(ty->copy != cfg_copy_plain && ty->equal != cfg_equal_plain);
	}
	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		CHECK(config_keys[i].type < KT_COUNT);
}

static void test_print(void)
{
	struct sg_config *def = load(""), *rich = load_rich();

	CHECK(def != NULL);
	CHECK(rich != NULL);
	if (def == NULL || rich == NULL)
		goto out;
	for (size_t i = 0; i < SG_ARRAY_LEN(printed); i++) {
		char *got = print_key(printed[i].rich ? rich : def, key(printed[i].key));

		if (strcmp(got, printed[i].printed) != 0)
			fprintf(stderr, "print %s\n", printed[i].key);
		CHECK_STR(got, printed[i].printed);
		free(got);
	}
	/* the secret's bytes are never printed, whatever the key */
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		char *got = print_key(rich, &config_keys[i]);

		CHECK(strstr(got, "Zq7") == NULL);
		free(got);
	}
out:
	config_free(def);
	config_free(rich);
}

static void test_round_trip(void)
{
	struct sg_config *def = load(""), *rich = load_rich();

	CHECK(def != NULL);
	CHECK(rich != NULL);
	/* the defaults are what an empty file gives, JWT left alone */
	if (def != NULL)
		check_round_trip(def, false);
	if (rich != NULL)
		check_round_trip(rich, true);
	config_free(def);
	config_free(rich);
}

static void test_equal(void)
{
	struct sg_config *def = load(""), *def2 = load(""), *rich = load_rich();

	CHECK(def != NULL && def2 != NULL && rich != NULL);
	if (def == NULL || def2 == NULL || rich == NULL)
		goto out;
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];
		const struct cfg_type *t = cfg_type_of(k);

		/* rich_text gives every key a value other than its default */
		if (t->equal(def, rich, k) || t->equal(rich, def, k))
			fprintf(stderr, "%s: equal to its default\n", k->name);
		CHECK(!t->equal(def, rich, k));
		CHECK(!t->equal(rich, def, k));
		CHECK(t->equal(def, def2, k));
		CHECK(t->equal(rich, rich, k));
	}
out:
	config_free(def);
	config_free(def2);
	config_free(rich);
}

static void test_copy(void)
{
	struct sg_config *dst = load(""), *rich = load_rich();
	char *want[CONFIG_N_KEYS];

	CHECK(dst != NULL && rich != NULL);
	if (dst == NULL || rich == NULL) {
		config_free(dst);
		config_free(rich);
		return;
	}
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];

		want[i] = print_key(rich, k);
		cfg_type_of(k)->copy(dst, rich, k);
		CHECK(cfg_type_of(k)->equal(dst, rich, k));
	}
	CHECK_INT(dst->auth.jwt.secret_len, rich->auth.jwt.secret_len);
	CHECK(memcmp(dst->auth.jwt.secret, rich->auth.jwt.secret, dst->auth.jwt.secret_len) == 0);
	CHECK(dst->auth.jwt.secret != rich->auth.jwt.secret);
	/* the copies are the destination's own: they outlive the source */
	config_free(rich);
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		char *got = print_key(dst, &config_keys[i]);

		CHECK_STR(got, want[i]);
		free(got);
		free(want[i]);
	}
	/* copying an unset value over a set one unsets it */
	rich = load("");
	CHECK(rich != NULL);
	for (size_t i = 0; rich != NULL && i < CONFIG_N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];

		cfg_type_of(k)->copy(dst, rich, k);
		CHECK(cfg_type_of(k)->equal(dst, rich, k));
	}
	CHECK(dst->auth.jwt.secret == NULL);
	CHECK(dst->events.forward == NULL);
	CHECK_INT(dst->events.n_forward, 0);
	config_free(dst);
	config_free(rich);
}

/* A reload keeps the running value of every key that is not reloadable:
 * each type can be copied (events.forward used to stop the daemon). */
static void test_reload_keeps_every_type(void)
{
	struct sg_config *next = load(""), *def = load(""), *running = load_rich();
	const char *kept[CONFIG_N_KEYS];
	size_t n, want = 0;
	bool forward = false;

	CHECK(next != NULL && def != NULL && running != NULL);
	if (next == NULL || def == NULL || running == NULL)
		goto out;
	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		want += !(config_keys[i].flags & SG_KF_RELOAD);
	n = config_reload_merge(next, running, kept, SG_ARRAY_LEN(kept));
	CHECK_INT(n, want);
	for (size_t i = 0; i < n && i < SG_ARRAY_LEN(kept); i++)
		forward = forward || strcmp(kept[i], "events.forward") == 0;
	CHECK(forward);
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];
		const struct sg_config *from = (k->flags & SG_KF_RELOAD) ? def : running;

		CHECK(cfg_type_of(k)->equal(next, from, k));
	}
	CHECK_INT(next->events.n_forward, 2);
	/* nothing left to keep the second time */
	CHECK_INT(config_reload_merge(next, running, kept, SG_ARRAY_LEN(kept)), 0);
out:
	config_free(next);
	config_free(def);
	config_free(running);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sg-test-config-type-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	setenv("CREDENTIALS_DIRECTORY", tmpdir, 1);
	/* 70 bytes: long enough for HS512, and no placeholder */
	write_credential("secret",
			 "Zq7-mV2xR9pL4sK8wT1nB6yH3cF5jD0gA7uE2iO9qW4rY6tU1pZ8xC3vB5nM7kJ2hG4fD\n");
	write_credential("token", "Tk5-pR8wQ2mX7nL4vB9cZ3yH6sD1fG0a\n");
	write_credential("redispw", "Zq7-redis-pw\n");

	RUN(test_table);
	RUN(test_print);
	RUN(test_round_trip);
	RUN(test_equal);
	RUN(test_copy);
	RUN(test_reload_keeps_every_type);

	unlink(credential("secret"));
	unlink(credential("token"));
	rmdir(tmpdir);
	return UNIT_END();
}
