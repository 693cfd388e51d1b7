/*
 * test_config.c: the configuration loader.  Defaults from an empty config,
 * every kind of value parsed into the struct, the duration and size parsers,
 * secret files, the key table, the shipped example configs, and the
 * data-driven cases in tests/unit/cases/config/<name>/{input.yaml,expect}:
 * expect holds the exact error lines, or OK.  "@TMP@" in both files stands
 * for a private temporary directory holding secret files made at run time.
 * The cases may use the environment variables SG_TEST_PORT (3001),
 * SG_TEST_EMPTY (set, empty) and SG_TEST_UNSET (never set).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_yaml.h"
#include "unit.h"

static char tmpdir[64];

/* The key in secret600, 40 bytes (two newlines follow it there). */
#define SECRET600 "secret600-test-key-0123456789abcdefghijk"
/* A 33-byte key with a NUL byte in it. */
#define NUL_KEY              \
	"0123456789abcdef\0" \
	"0123456789abcdef"

static void write_file(const char *name, const char *text, mode_t mode);
static char *read_all(const char *path, size_t *len);
static char *subst_tmp(const char *text);
static char *join_errors(const struct sg_config_errors *errs);
static struct sg_config *load(const char *text, struct sg_config_errors *errs);
static const char *cases_dir(void);
static int cmp_str(const void *a, const void *b);
static void note_msg(void *ctx, const char *msg);
static void expand_case(const char *in, const char *want_out, const char *want_msgs);

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	if (chmod(path, mode) != 0) {
		perror(path);
		exit(2);
	}
}

static char *read_all(const char *path, size_t *len)
{
	struct sg_buf b;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return NULL;
	sg_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sg_buf_append(&b, chunk, n);
	fclose(f);
	if (len != NULL)
		*len = b.len;
	return sg_buf_steal(&b);
}

/* Replaces every "@TMP@" with the temporary directory. */
static char *subst_tmp(const char *text)
{
	struct sg_buf b;
	const char *p;

	sg_buf_init(&b);
	while ((p = strstr(text, "@TMP@")) != NULL) {
		sg_buf_append(&b, text, (size_t)(p - text));
		sg_buf_append_str(&b, tmpdir);
		text = p + 5;
	}
	sg_buf_append_str(&b, text);
	return sg_buf_steal(&b);
}

static char *join_errors(const struct sg_config_errors *errs)
{
	struct sg_buf b;

	sg_buf_init(&b);
	for (size_t i = 0; i < errs->n; i++)
		sg_buf_printf(&b, "%s\n", errs->v[i]);
	return sg_buf_steal(&b);
}

static struct sg_config *load(const char *text, struct sg_config_errors *errs)
{
	return config_load_string("t.yaml", text, strlen(text), errs);
}

static const char *cases_dir(void)
{
	const char *env = getenv("SG_CASES_DIR");

	return env != NULL && env[0] != '\0' ? env : "tests/unit/cases/config";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_defaults(void)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *c = load("", &errs);
	char host[256] = "";

	CHECK(c != NULL);
	CHECK_INT(errs.n, 0);
	if (c == NULL)
		return;
	CHECK_STR(c->file, "t.yaml");
	CHECK(gethostname(host, sizeof(host)) == 0);
	CHECK_STR(c->server.id, host);
	CHECK_INT(c->server.listen.n, 1);
	CHECK_STR(c->server.listen.v[0], "0.0.0.0:3000");
	CHECK_STR(c->server.path, "/socket.io/");
	CHECK_INT(c->server.transports, SG_TRANSPORT_POLLING | SG_TRANSPORT_WEBSOCKET);
	CHECK_INT(c->server.cors.origins.n, 0);
	CHECK(!c->server.cors.credentials);
	CHECK(c->server.tls.cert == NULL);
	CHECK(c->server.tls.key == NULL);
	CHECK_INT(c->server.ping_interval_ms, 25000);
	CHECK_INT(c->server.ping_timeout_ms, 20000);
	CHECK_INT(c->server.max_payload, 1000000);
	CHECK_INT(c->server.max_connections, 0); /* auto */
	CHECK_INT(c->server.trusted_proxies.n, 0);
	CHECK(!c->server.proxy_protocol);
	CHECK_INT(c->server.shutdown_timeout_ms, 10000);
	CHECK_INT(c->server.drain_window_ms, 5000);
	CHECK_INT(c->server.workers, 0);
	CHECK_INT(c->namespaces.n, 1);
	CHECK_STR(c->namespaces.v[0], "/");
	CHECK_INT(c->auth.timeout_ms, 10000);
	CHECK_INT(c->auth.verifier, SG_VERIFIER_JWT);
	CHECK_INT(c->auth.jwt.algorithms.n, 1);
	CHECK_STR(c->auth.jwt.algorithms.v[0], "HS256");
	CHECK(c->auth.jwt.secret == NULL);
	CHECK_INT(c->auth.jwt.secret_len, 0);
	CHECK(c->auth.jwt.secret_file == NULL);
	CHECK(c->auth.jwt.public_key_file == NULL);
	CHECK(c->auth.jwt.jwks_file == NULL);
	CHECK(c->auth.jwt.issuer == NULL);
	CHECK(c->auth.jwt.audience == NULL);
	CHECK_INT(c->auth.jwt.leeway_ms, 30000);
	CHECK_INT(c->auth.jwt.n_token_from, 3);
	CHECK_INT(c->auth.jwt.token_from[0], SG_TOKEN_HEADER);
	CHECK_INT(c->auth.jwt.token_from[1], SG_TOKEN_AUTH);
	CHECK_INT(c->auth.jwt.token_from[2], SG_TOKEN_QUERY);
	CHECK(c->auth.http.url == NULL);
	CHECK_INT(c->auth.http.timeout_ms, 3000);
	CHECK_INT(c->auth.http.header_names.n, 0);
	CHECK_INT(c->auth.http.header_values.n, 0);
	CHECK_INT(c->auth.http.max_in_flight, 256);
	CHECK_INT(c->auth.http.cache_ttl_ms, 0);
	CHECK_INT(c->auth.http.max_pending, 16 << 20);
	CHECK_INT(c->ping.interval_ms, 30000);
	CHECK_INT(c->rooms.default_rooms.n, 2);
	CHECK_STR(c->rooms.default_rooms.v[0], "io-default");
	CHECK_STR(c->rooms.default_rooms.v[1], "io-notification");
	CHECK_INT(c->rooms.allow.n, 0);
	CHECK(c->rooms.http.url == NULL);
	CHECK_INT(c->rooms.http.timeout_ms, 3000);
	CHECK_INT(c->rooms.http.max_pending, 16 << 20);
	CHECK_INT(c->rooms.max_per_client, 128);
	CHECK_INT(c->redis.url.n, 0);
	CHECK_STR(c->redis.prefix, "socket.io");
	CHECK_STR(c->redis.json_channel, "siogate#send");
	CHECK_STR(c->redis.lifecycle_channel, "siogate#lifecycle");
	CHECK_INT(c->redis.max_pending, 16 << 20);
	CHECK_INT(c->events.n_forward, 0);
	CHECK(c->events.forward == NULL);
	CHECK_INT(c->events.stream_maxlen, 100000);
	CHECK_INT(c->events.max_pending, 8 << 20);
	CHECK(!c->recovery.enabled);
	CHECK_INT(c->recovery.max_disconnection_ms, 120000);
	CHECK_INT(c->limits.per_ip, 0);
	CHECK_INT(c->limits.handshakes_per_second, 0);
	CHECK_INT(c->limits.events_per_second, 50);
	CHECK_INT(c->limits.burst, 100);
	CHECK_INT(c->limits.on_flood, SG_FLOOD_DROP);
	CHECK_INT(c->limits.output_soft, 1 << 20);
	CHECK_INT(c->limits.output_soft_time_ms, 10000);
	CHECK_INT(c->limits.output_hard, 8 << 20);
	CHECK_INT(c->limits.header_timeout_ms, 10000);
	CHECK_INT(c->limits.body_timeout_ms, 60000);
	CHECK_INT(c->limits.body_min_rate, 1024);
	CHECK_INT(c->limits.http_per_ip, 256);
	CHECK_INT(c->limits.ack_requests, 64);
	CHECK_INT(c->limits.ack_timeout_max_ms, 60000);
	CHECK_STR(c->admin.listen, "127.0.0.1:9090");
	CHECK(c->admin.token_file == NULL);
	CHECK_INT(c->log.level, SG_LOG_INFO);
	CHECK_INT(c->log.format, SG_LOG_TEXT);
	config_free(c);
}

/* One value of every kind, none of them the default. */
static void test_every_type(void)
{
	static const char text[] =
		"server:\n"
		"  id: gw-7\n"
		"  listen: [\"127.0.0.1:3000\", \"[::1]:3001\", \"*:3002\"]\n"
		"  path: /io\n"
		"  transports: [websocket]\n"
		"  cors: { origins: [\"*\", \"https://a.example:8443\"], credentials: true }\n"
		"  tls: { cert: /etc/t.crt, key: /etc/t.key }\n"
		"  ping_interval: 2m\n"
		"  ping_timeout: 1500\n"
		"  max_payload: 64KB\n"
		"  max_connections: 42\n"
		"  shutdown_timeout: 1h\n"
		"  drain_window: 250ms\n"
		"  workers: 4\n"
		"namespaces: [/chat, /admin, /chat]\n"
		"auth:\n"
		"  timeout: 5s\n"
		"  verifier: http\n"
		"  jwt:\n"
		"    algorithms: [RS256, HS384]\n"
		"    secret: 123456789012345678901234567890123456789012345678\n"
		"    public_key_file: /etc/k.pub\n"
		"    jwks_file: /etc/jwks.json\n"
		"    issuer: me\n"
		"    audience: you\n"
		"    leeway: 0\n"
		"    token_from: [query, header]\n"
		"  http:\n"
		"    url: \"https://auth.example/check\"\n"
		"    timeout: 1s\n"
		"    headers: { X-Api-Key: abc, X-Num: 7 }\n"
		"    max_in_flight: 9\n"
		"    cache_ttl: 2m\n"
		"    max_pending: 64KB\n"
		"ping: { interval: 1h }\n"
		"rooms:\n"
		"  default: []\n"
		"  allow: [\"public-*\", \"user-{sub}\"]\n"
		"  http: { url: \"http://127.0.0.1:8080/rooms\", timeout: 100ms, max_pending: 1MB }\n"
		"  max_per_client: 7\n"
		"redis:\n"
		"  url: [\"redis://10.0.0.1:7000\", \"redis://10.0.0.2:7000\"]\n"
		"  prefix: sio\n"
		"  json_channel: j\n"
		"  lifecycle_channel: l\n"
		"  max_pending: 65536\n"
		"events:\n"
		"  forward:\n"
		"    - { match: \"chat:*\", stream: \"siogate:events\" }\n"
		"    - { match: \"rpc:*\", http: \"http://127.0.0.1:8080/rpc\", timeout: 250ms }\n"
		"    - { match: \"x\", http: \"http://127.0.0.1:8080/x\" }\n"
		"  stream_maxlen: 5000\n"
		"  max_pending: 1GB\n"
		"limits:\n"
		"  per_ip: 7\n"
		"  handshakes_per_second: 10\n"
		"  events_per_second: 5\n"
		"  burst: 6\n"
		"  on_flood: disconnect\n"
		"  output_soft: 2MiB\n"
		"  output_soft_time: 3s\n"
		"  output_hard: 1GB\n"
		"admin:\n"
		"  listen: \"[::1]:9091\"\n"
		"log:\n"
		"  level: debug\n"
		"  format: json\n";
	struct sg_config_errors errs = { 0 };
	struct sg_config *c = load(text, &errs);

	CHECK(c != NULL);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "unexpected: %s\n", errs.v[i]);
	config_errors_free(&errs);
	if (c == NULL)
		return;
	CHECK_STR(c->server.id, "gw-7");
	CHECK_INT(c->server.listen.n, 3);
	CHECK_STR(c->server.listen.v[1], "[::1]:3001");
	CHECK_STR(c->server.listen.v[2], "*:3002");
	CHECK_STR(c->server.path, "/io/");
	CHECK_INT(c->server.transports, SG_TRANSPORT_WEBSOCKET);
	CHECK_INT(c->server.cors.origins.n, 2);
	CHECK_STR(c->server.cors.origins.v[1], "https://a.example:8443");
	CHECK(c->server.cors.credentials);
	CHECK_STR(c->server.tls.cert, "/etc/t.crt");
	CHECK_STR(c->server.tls.key, "/etc/t.key");
	CHECK_INT(c->server.ping_interval_ms, 120000);
	CHECK_INT(c->server.ping_timeout_ms, 1500);
	CHECK_INT(c->server.max_payload, 65536);
	CHECK_INT(c->server.max_connections, 42);
	CHECK_INT(c->server.shutdown_timeout_ms, 3600000);
	CHECK_INT(c->server.drain_window_ms, 250);
	CHECK_INT(c->server.workers, 4);
	CHECK_INT(c->namespaces.n, 3); /* "/" added first, the repeat dropped */
	CHECK_STR(c->namespaces.v[0], "/");
	CHECK_STR(c->namespaces.v[1], "/chat");
	CHECK_STR(c->namespaces.v[2], "/admin");
	CHECK_INT(c->auth.timeout_ms, 5000);
	CHECK_INT(c->auth.verifier, SG_VERIFIER_HTTP);
	CHECK_INT(c->auth.jwt.algorithms.n, 2);
	CHECK_STR(c->auth.jwt.algorithms.v[0], "RS256");
	CHECK_STR(c->auth.jwt.algorithms.v[1], "HS384");
	CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len,
		  "123456789012345678901234567890123456789012345678");
	CHECK_STR(c->auth.jwt.public_key_file, "/etc/k.pub");
	CHECK_STR(c->auth.jwt.jwks_file, "/etc/jwks.json");
	CHECK_STR(c->auth.jwt.issuer, "me");
	CHECK_STR(c->auth.jwt.audience, "you");
	CHECK_INT(c->auth.jwt.leeway_ms, 0);
	CHECK_INT(c->auth.jwt.n_token_from, 2);
	CHECK_INT(c->auth.jwt.token_from[0], SG_TOKEN_QUERY);
	CHECK_INT(c->auth.jwt.token_from[1], SG_TOKEN_HEADER);
	CHECK_STR(c->auth.http.url, "https://auth.example/check");
	CHECK_INT(c->auth.http.timeout_ms, 1000);
	CHECK_INT(c->auth.http.header_names.n, 2);
	CHECK_STR(c->auth.http.header_names.v[0], "X-Api-Key");
	CHECK_STR(c->auth.http.header_values.v[0], "abc");
	CHECK_STR(c->auth.http.header_names.v[1], "X-Num");
	CHECK_STR(c->auth.http.header_values.v[1], "7");
	CHECK_INT(c->auth.http.max_in_flight, 9);
	CHECK_INT(c->auth.http.cache_ttl_ms, 120000);
	CHECK_INT(c->auth.http.max_pending, 64 << 10);
	CHECK_INT(c->ping.interval_ms, 3600000);
	CHECK_INT(c->rooms.default_rooms.n, 0);
	CHECK_INT(c->rooms.allow.n, 2);
	CHECK_STR(c->rooms.allow.v[1], "user-{sub}");
	CHECK_STR(c->rooms.http.url, "http://127.0.0.1:8080/rooms");
	CHECK_INT(c->rooms.http.timeout_ms, 100);
	CHECK_INT(c->rooms.http.max_pending, 1 << 20);
	CHECK_INT(c->rooms.max_per_client, 7);
	CHECK_INT(c->redis.url.n, 2);
	CHECK_STR(c->redis.url.v[1], "redis://10.0.0.2:7000");
	CHECK_STR(c->redis.prefix, "sio");
	CHECK_STR(c->redis.json_channel, "j");
	CHECK_STR(c->redis.lifecycle_channel, "l");
	CHECK_INT(c->redis.max_pending, 65536);
	CHECK_INT(c->events.n_forward, 3);
	if (c->events.n_forward == 3) {
		CHECK_STR(c->events.forward[0].match, "chat:*");
		CHECK_STR(c->events.forward[0].stream, "siogate:events");
		CHECK(c->events.forward[0].http == NULL);
		CHECK_STR(c->events.forward[1].match, "rpc:*");
		CHECK(c->events.forward[1].stream == NULL);
		CHECK_STR(c->events.forward[1].http, "http://127.0.0.1:8080/rpc");
		CHECK_INT(c->events.forward[1].timeout_ms, 250);
		CHECK_INT(c->events.forward[2].timeout_ms, 3000);
	}
	CHECK_INT(c->events.stream_maxlen, 5000);
	CHECK_INT(c->events.max_pending, 1 << 30);
	CHECK_INT(c->limits.per_ip, 7);
	CHECK_INT(c->limits.handshakes_per_second, 10);
	CHECK_INT(c->limits.events_per_second, 5);
	CHECK_INT(c->limits.burst, 6);
	CHECK_INT(c->limits.on_flood, SG_FLOOD_DISCONNECT);
	CHECK_INT(c->limits.output_soft, 2 << 20);
	CHECK_INT(c->limits.output_soft_time_ms, 3000);
	CHECK_INT(c->limits.output_hard, 1 << 30);
	CHECK_STR(c->admin.listen, "[::1]:9091");
	CHECK_INT(c->log.level, SG_LOG_DEBUG);
	CHECK_INT(c->log.format, SG_LOG_JSON);
	config_free(c);
}

static void test_small_forms(void)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *c;

	/* redis.url as one string; a path that already ends in '/'; workers auto;
	 * null admin.listen; empty redis.url string is standalone. */
	c = load("redis: { url: \"redis://127.0.0.1:6379/2\" }\n"
		 "server: { path: /a/b/, workers: auto }\n"
		 "admin: { listen: null }\n",
		 &errs);
	CHECK(c != NULL);
	CHECK_INT(errs.n, 0);
	if (c != NULL) {
		CHECK_INT(c->redis.url.n, 1);
		CHECK_STR(c->redis.url.v[0], "redis://127.0.0.1:6379/2");
		CHECK_STR(c->server.path, "/a/b/");
		CHECK_INT(c->server.workers, 0);
		CHECK(c->admin.listen == NULL);
	}
	config_free(c);
	c = load("redis:\n  url: \"\"\nserver:\n  id: \"node 1\"\n  cors:\n", &errs);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_INT(c->redis.url.n, 0);
		CHECK_STR(c->server.id, "node 1");
	}
	config_free(c);
	config_errors_free(&errs);
}

/* ${NAME} from the environment, $$, and a lone $, in the text helper. */
static void note_msg(void *ctx, const char *msg)
{
	struct sg_buf *b = ctx;

	sg_buf_printf(b, "%s\n", msg);
}

static void expand_case(const char *in, const char *want_out, const char *want_msgs)
{
	struct sg_buf out, msgs;
	size_t n;

	sg_buf_init(&out);
	sg_buf_init(&msgs);
	n = cfg_expand_text(in, strlen(in), &out, note_msg, &msgs);
	if (want_out != NULL)
		CHECK_STR(out.data ? out.data : "", want_out);
	CHECK_STR(msgs.data ? msgs.data : "", want_msgs);
	CHECK(n == 0 ? want_msgs[0] == '\0' : want_msgs[0] != '\0');
	sg_buf_fini(&out);
	sg_buf_fini(&msgs);
}

static void test_expand_text(void)
{
	expand_case("plain", "plain", "");
	expand_case("", "", "");
	expand_case("${SG_TEST_PORT}", "3001", "");
	expand_case("127.0.0.1:${SG_TEST_PORT}/x${SG_TEST_PORT}", "127.0.0.1:3001/x3001", "");
	expand_case("a${SG_TEST_EMPTY}b", "ab", "");
	expand_case("$$", "$", "");
	expand_case("$${SG_TEST_PORT}", "${SG_TEST_PORT}", "");
	expand_case("$$$${SG_TEST_PORT}", "$${SG_TEST_PORT}", "");
	expand_case("$$$", "$$", "");
	/* a $ not followed by { or $ is literal: bcrypt hashes, passwords */
	expand_case("$2b$12$abc", "$2b$12$abc", "");
	expand_case("cost $5", "cost $5", "");
	expand_case("end$", "end$", "");
	expand_case("$ {X}", "$ {X}", "");
	expand_case("${_A1}", NULL, "environment variable _A1 is not set\n");
	expand_case("${SG_TEST_UNSET}", NULL, "environment variable SG_TEST_UNSET is not set\n");
	/* every problem of one value is reported */
	expand_case("${SG_TEST_UNSET}-${1X}-${}-${A-B}", NULL,
		    "environment variable SG_TEST_UNSET is not set\n"
		    "invalid variable name in '${...}': a letter or _ then letters, digits or _ "
		    "(write '$$' for a literal '$')\n"
		    "invalid variable name in '${...}': a letter or _ then letters, digits or _ "
		    "(write '$$' for a literal '$')\n"
		    "invalid variable name in '${...}': a letter or _ then letters, digits or _ "
		    "(write '$$' for a literal '$')\n");
	expand_case("${SG_TEST_PORT:-80}", NULL,
		    "'${NAME:...}' forms are not supported: write ${NAME} (write '$$' for a "
		    "literal '$')\n");
	expand_case("x${SG_TEST_PORT", NULL, "unterminated '${' (write '$$' for a literal '$')\n");
	/* the value of a variable is not expanded again */
	setenv("SG_TEST_NESTED", "${SG_TEST_PORT}$$", 1);
	expand_case("${SG_TEST_NESTED}", "${SG_TEST_PORT}$$", "");
	unsetenv("SG_TEST_NESTED");
}

/* Expansion in a loaded config: values in mappings and lists, keys never,
 * aliases once; errors at the value's position, all of them collected. */
static void test_expand_config(void)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *c;
	char *joined;

	setenv("SG_TEST_HOST", "127.0.0.1", 1);
	setenv("SG_TEST_LEVEL", "debug", 1);
	setenv("SG_TEST_SECRET", "s3cr3t-from-the-environment-0123456789abcdef", 1);
	c = load("server:\n"
		 "  id: \"gw-$${SG_TEST_PORT}-$5\"\n"
		 "  listen: [\"${SG_TEST_HOST}:${SG_TEST_PORT}\", \"[::1]:${SG_TEST_PORT}\"]\n"
		 "  max_connections: ${SG_TEST_PORT}\n"
		 "auth:\n"
		 "  jwt:\n"
		 "    secret: ${SG_TEST_SECRET}\n"
		 "  http:\n"
		 "    url: &u \"http://${SG_TEST_HOST}:${SG_TEST_PORT}/auth\"\n"
		 "    headers: { X-Port: \"${SG_TEST_PORT}\", X-Literal: \"$$HOME\" }\n"
		 "rooms:\n"
		 "  http: { url: *u }\n"
		 "events:\n"
		 "  forward:\n"
		 "    - { match: \"chat:${SG_TEST_PORT}\", http: *u }\n"
		 "log: { level: \"${SG_TEST_LEVEL}\" }\n",
		 &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "unexpected: %s\n", errs.v[i]);
	CHECK(c != NULL);
	config_errors_free(&errs);
	if (c != NULL) {
		CHECK_STR(c->server.id, "gw-${SG_TEST_PORT}-$5");
		CHECK_INT(c->server.listen.n, 2);
		CHECK_STR(c->server.listen.v[0], "127.0.0.1:3001");
		CHECK_STR(c->server.listen.v[1], "[::1]:3001");
		CHECK_INT(c->server.max_connections, 3001);
		CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len,
			  "s3cr3t-from-the-environment-0123456789abcdef");
		CHECK_STR(c->auth.http.url, "http://127.0.0.1:3001/auth");
		CHECK_STR(c->rooms.http.url, "http://127.0.0.1:3001/auth");
		CHECK_STR(c->auth.http.header_values.v[0], "3001");
		CHECK_STR(c->auth.http.header_values.v[1], "$HOME");
		CHECK_INT(c->events.n_forward, 1);
		if (c->events.n_forward == 1) {
			CHECK_STR(c->events.forward[0].match, "chat:3001");
			CHECK_STR(c->events.forward[0].http, "http://127.0.0.1:3001/auth");
		}
		CHECK_INT(c->log.level, SG_LOG_DEBUG);
	}
	config_free(c);

	/* A key is a name: ${...} in it is not expanded (and so unknown). */
	c = load("server:\n  \"${SG_TEST_LEVEL}\": 1\n", &errs);
	CHECK(c == NULL);
	joined = join_errors(&errs);
	CHECK_STR(joined, "t.yaml:2:3: unknown key 'server.${SG_TEST_LEVEL}'\n");
	free(joined);
	config_errors_free(&errs);

	/* Unset variables: one message each, at the value, and no second
	 * message about the value they left unparsed; the secret's name
	 * shows, never a secret. */
	c = load("server:\n"
		 "  workers: ${SG_TEST_UNSET}\n"
		 "  listen: [\"${SG_TEST_HOST}:${SG_TEST_UNSET}\"]\n"
		 "auth:\n"
		 "  jwt: { secret: \"${SG_TEST_UNSET}\" }\n"
		 "events:\n"
		 "  forward:\n"
		 "    - match: x\n"
		 "      http: \"${SG_TEST_UNSET}\"\n"
		 "log: { level: \"${SG_TEST_UNSET}\" }\n",
		 &errs);
	CHECK(c == NULL);
	joined = join_errors(&errs);
	CHECK_STR(joined,
		  "t.yaml:2:12: server.workers: environment variable SG_TEST_UNSET is not set\n"
		  "t.yaml:3:12: server.listen[0]: environment variable SG_TEST_UNSET is not set\n"
		  "t.yaml:5:18: auth.jwt.secret: environment variable SG_TEST_UNSET is not set\n"
		  "t.yaml:9:13: events.forward[0].http: environment variable SG_TEST_UNSET is not "
		  "set\n"
		  "t.yaml:10:15: log.level: environment variable SG_TEST_UNSET is not set\n");
	free(joined);
	config_errors_free(&errs);
	unsetenv("SG_TEST_HOST");
	unsetenv("SG_TEST_LEVEL");
	unsetenv("SG_TEST_SECRET");
}

/* The caps on a file: size and nesting depth, with a clear message. */
static void test_caps(void)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *c;
	struct sg_buf b;
	char *joined;

	/* 32 levels are fine (a list of lists under a key), 33 are not */
	sg_buf_init(&b);
	sg_buf_append_str(&b, "rooms:\n  default: ");
	for (int i = 0; i < 30; i++)
		sg_buf_append_char(&b, '[');
	for (int i = 0; i < 30; i++)
		sg_buf_append_char(&b, ']');
	sg_buf_append_char(&b, '\n');
	c = load(b.data, &errs);
	CHECK(c == NULL);
	joined = join_errors(&errs);
	/* within the cap: the loader's own message about the value */
	CHECK(strstr(joined, "rooms.default: expected a string, got a list") != NULL);
	CHECK(strstr(joined, "nested deeper") == NULL);
	free(joined);
	config_errors_free(&errs);
	sg_buf_reset(&b);
	sg_buf_append_str(&b, "rooms:\n  default: ");
	for (int i = 0; i < 100000; i++)
		sg_buf_append_char(&b, '[');
	c = load(b.data, &errs);
	CHECK(c == NULL);
	joined = join_errors(&errs);
	CHECK_STR(joined, "t.yaml:2:42: lists and mappings nested deeper than 32 levels (the cap "
			  "on configuration files)\n");
	free(joined);
	config_errors_free(&errs);

	/* 1MB is the largest file: a byte more is refused before parsing */
	sg_buf_reset(&b);
	while (b.len < CONFIG_MAX_FILE_BYTES)
		sg_buf_append_str(&b, "# padding, padding, padding\n");
	b.len = CONFIG_MAX_FILE_BYTES;
	b.data[b.len] = '\0';
	c = load(b.data, &errs);
	CHECK(c != NULL);
	CHECK_INT(errs.n, 0);
	config_free(c);
	sg_buf_append_char(&b, '\n');
	c = load(b.data, &errs);
	CHECK(c == NULL);
	joined = join_errors(&errs);
	CHECK_STR(joined, "t.yaml: larger than 1MB (the cap on configuration files)\n");
	free(joined);
	config_errors_free(&errs);
	sg_buf_fini(&b);
}

static void test_parse_duration(void)
{
	struct sg_err err;
	int64_t ms = -1;

	CHECK_INT(config_parse_duration("250ms", &ms, &err), 0);
	CHECK_INT(ms, 250);
	CHECK_INT(config_parse_duration("10s", &ms, &err), 0);
	CHECK_INT(ms, 10000);
	CHECK_INT(config_parse_duration("2m", &ms, &err), 0);
	CHECK_INT(ms, 120000);
	CHECK_INT(config_parse_duration("1h", &ms, &err), 0);
	CHECK_INT(ms, 3600000);
	CHECK_INT(config_parse_duration("0", &ms, &err), 0);
	CHECK_INT(ms, 0);
	CHECK_INT(config_parse_duration("1500", &ms, &err), 0);
	CHECK_INT(ms, 1500);
	CHECK_INT(config_parse_duration("007s", &ms, &err), 0);
	CHECK_INT(ms, 7000);
	CHECK_INT(config_parse_duration("9223372036854775807", &ms, &err), 0);
	CHECK_INT(ms, INT64_MAX);
	ms = 42;
	CHECK_INT(config_parse_duration("9223372036854775808", &ms, &err), -1);
	CHECK_STR(err.msg, "duration '9223372036854775808' is too large");
	CHECK_INT(ms, 42);
	CHECK_INT(config_parse_duration("2562048h", &ms, &err), 0);	   /* 9.2e15 ms: fits */
	CHECK_INT(config_parse_duration("2562047788016h", &ms, &err), -1); /* overflows */
	CHECK_INT(config_parse_duration("", &ms, &err), -1);
	CHECK_STR(err.msg, "invalid duration '' (expected e.g. 250ms, 10s, 2m, 1h, or a number "
			   "of milliseconds)");
	CHECK_INT(config_parse_duration("s", &ms, &err), -1);
	CHECK_INT(config_parse_duration("-1s", &ms, &err), -1);
	CHECK_INT(config_parse_duration("1.5s", &ms, &err), -1);
	CHECK_INT(config_parse_duration("10 s", &ms, &err), -1);
	CHECK_INT(config_parse_duration("10S", &ms, &err), -1);
	CHECK_INT(config_parse_duration("1d", &ms, &err), -1);
	CHECK_INT(config_parse_duration("1sm", &ms, &err), -1);
	CHECK_INT(config_parse_duration(" 1s", &ms, &err), -1);
	CHECK_INT(config_parse_duration("1s", &ms, NULL), 0); /* err may be NULL */
	CHECK_INT(config_parse_duration("x", &ms, NULL), -1);
	CHECK_INT(ms, 1000);
}

static void test_parse_size(void)
{
	struct sg_err err;
	uint64_t b = 1;

	CHECK_INT(config_parse_size("0", &b, &err), 0);
	CHECK_INT(b, 0);
	CHECK_INT(config_parse_size("1000000", &b, &err), 0);
	CHECK_INT(b, 1000000);
	CHECK_INT(config_parse_size("17B", &b, &err), 0);
	CHECK_INT(b, 17);
	CHECK_INT(config_parse_size("64KB", &b, &err), 0);
	CHECK_INT(b, 65536);
	CHECK_INT(config_parse_size("64KiB", &b, &err), 0);
	CHECK_INT(b, 65536);
	CHECK_INT(config_parse_size("1MB", &b, &err), 0);
	CHECK_INT(b, 1048576);
	CHECK_INT(config_parse_size("3MiB", &b, &err), 0);
	CHECK_INT(b, 3 * 1048576);
	CHECK_INT(config_parse_size("1GB", &b, &err), 0);
	CHECK_INT(b, 1073741824);
	CHECK_INT(config_parse_size("2GiB", &b, &err), 0);
	CHECK_INT(b, 2147483648LL);
	CHECK_INT(config_parse_size("8mb", &b, &err), 0); /* units ignore case */
	CHECK_INT(b, 8 << 20);
	CHECK_INT(config_parse_size("18446744073709551615", &b, &err), 0);
	CHECK(b == UINT64_MAX);
	CHECK_INT(config_parse_size("18446744073709551616", &b, &err), -1);
	CHECK_INT(config_parse_size("17179869184GB", &b, &err), -1);
	CHECK_STR(err.msg, "size '17179869184GB' is too large");
	CHECK_INT(config_parse_size("1TB", &b, &err), -1);
	CHECK_STR(err.msg,
		  "invalid size '1TB' (expected e.g. 64KB, 1MB, 1GB, or a number of bytes)");
	CHECK_INT(config_parse_size("", &b, &err), -1);
	CHECK_INT(config_parse_size("MB", &b, &err), -1);
	CHECK_INT(config_parse_size("1.5MB", &b, &err), -1);
	CHECK_INT(config_parse_size("1 MB", &b, &err), -1);
	CHECK_INT(config_parse_size("-1", &b, &err), -1);
	CHECK_INT(config_parse_size("1K", &b, &err), -1);
	CHECK(b == UINT64_MAX); /* untouched by the failures */
}

static void test_key_table(void)
{
	static const char *const expected[] = {
		"server.id",
		"server.listen",
		"server.cors.origins",
		"server.cors.credentials",
		"server.tls.cert",
		"server.workers",
		"namespaces",
		"auth.jwt.secret",
		"auth.jwt.secret_file",
		"auth.jwt.token_from",
		"auth.http.headers",
		"rooms.http.url",
		"rooms.http.timeout",
		"redis.url",
		"events.forward",
		"limits.output_hard",
		"admin.token_file",
		"log.format",
		"redis.max_pending",
		"events.max_pending",
		"auth.http.max_pending",
		"rooms.http.max_pending",
		"auth.jwt.allow_weak_secret",
		"auth.mode",
		"auth.refresh_window",
		"auth.jwt.jwks_url",
		"auth.jwt.ca_file",
		"auth.jwt.jwks_min_refresh",
		"recovery.enabled",
		"recovery.max_disconnection",
		"redis.password",
		"redis.password_file",
		"redis.tls.ca_file",
		"redis.tls.cert_file",
		"redis.tls.key_file",
		"redis.tls.server_name",
		"redis.lifecycle_stream",
		"redis.lifecycle_stream_maxlen",
		"redis.ingest_stream",
		"rooms.http.max_in_flight",
		"events.max_in_flight",
	};
	size_t n = 0;

	while (config_key_name(n) != NULL)
		n++;
	CHECK_INT(n, 95);
	CHECK_STR(config_key_name(0), "server.id");
	CHECK_STR(config_key_name(n - 1), "log.format");
	CHECK(config_key_name(n) == NULL);
	CHECK(config_key_name((size_t)-1) == NULL);
	for (size_t i = 0; i < SG_ARRAY_LEN(expected); i++) {
		bool found = false;

		for (size_t j = 0; j < n; j++)
			found = found || strcmp(config_key_name(j), expected[i]) == 0;
		if (!found)
			fprintf(stderr, "missing key %s\n", expected[i]);
		CHECK(found);
	}
	/* No section name is itself a key, and no key is listed twice. */
	bool clash = false;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			const char *a = config_key_name(i), *b = config_key_name(j);
			size_t la = strlen(a);

			if (i != j && strncmp(a, b, la) == 0 && (b[la] == '\0' || b[la] == '.')) {
				fprintf(stderr, "key %s clashes with %s\n", a, b);
				clash = true;
			}
		}
	}
	CHECK(!clash);
}

static void test_secret_file(void)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *c;
	char *text, path[128], *joined;
	FILE *f;

	/* One trailing newline is stripped, and only one. */
	text = subst_tmp("auth: { jwt: { secret_file: @TMP@/secret600 } }\n");
	c = load(text, &errs);
	free(text);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len, SECRET600 "\n");
		snprintf(path, sizeof(path), "%s/secret600", tmpdir);
		CHECK_STR(c->auth.jwt.secret_file, path);
	}
	config_free(c);

	/* A secret with a NUL byte keeps its full length. */
	snprintf(path, sizeof(path), "%s/secretnul", tmpdir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fwrite(NUL_KEY, 1, sizeof(NUL_KEY) - 1, f);
		fclose(f);
	}
	CHECK(chmod(path, 0600) == 0);
	text = subst_tmp("auth: { jwt: { secret_file: @TMP@/secretnul } }\n");
	c = load(text, &errs);
	free(text);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_INT(c->auth.jwt.secret_len, sizeof(NUL_KEY) - 1);
		CHECK(memcmp(c->auth.jwt.secret, NUL_KEY, sizeof(NUL_KEY) - 1) == 0);
	}
	config_free(c);
	unlink(path);

	/* An empty file (or a lone newline) is refused. */
	write_file("secretempty", "\n", 0600);
	text = subst_tmp("auth: { jwt: { secret_file: @TMP@/secretempty } }\n");
	c = load(text, &errs);
	free(text);
	CHECK(c == NULL);
	joined = join_errors(&errs);
	text = subst_tmp("t.yaml:1:29: auth.jwt.secret_file: '@TMP@/secretempty' is empty\n");
	CHECK_STR(joined, text);
	free(text);
	free(joined);
	config_errors_free(&errs);

	/* Group-readable (0640) is refused like world-readable. */
	write_file("secret640", "x\n", 0640);
	text = subst_tmp("auth: { jwt: { secret_file: @TMP@/secret640 } }\n");
	c = load(text, &errs);
	free(text);
	CHECK(c == NULL);
	CHECK_INT(errs.n, 1);
	CHECK(errs.n == 1 && strstr(errs.v[0], "(mode 0640)") != NULL);
	config_errors_free(&errs);

	/* A directory is not a secret file. */
	text = subst_tmp("admin: { token_file: @TMP@ }\n");
	c = load(text, &errs);
	free(text);
	CHECK(c == NULL);
	CHECK(errs.n == 1 && strstr(errs.v[0], "is not a regular file") != NULL);
	config_errors_free(&errs);
}

/* Placeholders and HMAC keys shorter than their hash are refused, with a
 * message that names the key, its length and the fix, never its value. */
static void test_secret_strength(void)
{
	static const struct {
		const char *secret; /* inline; its value never appears in a message */
		const char *algs;
		const char *error; /* the message after "t.yaml:1:C: ", or NULL: accepted */
	} cases[] = {
		{ "change-me", "HS256",
		  "auth.jwt.secret: the secret is a placeholder, not a key "
		  "(it contains 'changeme'): anyone could sign tokens; make a random one: head -c "
		  "32 /dev/urandom | base64 -w 0 > jwt.key; chmod 600 jwt.key, and give "
		  "auth.jwt.secret_file: jwt.key" },
		{ "dev-secret-change-me-0123456789abcdefghij", "HS256", "contains 'changeme'" },
		{ "Please_CHANGE.ME please change me, really", "HS256", "contains 'changeme'" },
		{ "replace-me-with-a-long-random-string-0123", "HS256", "contains 'replaceme'" },
		{ "your-secret-goes-here-your-secret-goes-here", "HS256", "contains 'yoursecret'" },
		{ "Secret", "HS256", "is the word 'secret'" },
		{ "s-e-c-r-e-t", "HS256", "is the word 'secret'" },
		{ "EXAMPLE", "RS256", "is the word 'example'" },
		{ "password", "HS256", "is the word 'password'" },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "HS512",
		  "repeats one character" },
		/* RFC 7518 section 3.2: the key is at least the hash's size */
		{ "0123456789abcdef0123456789abcde", "HS256",
		  "auth.jwt.secret: the secret is 31 "
		  "bytes long; HS256 needs a key of at least 32 bytes (RFC 7518 section 3.2); make "
		  "a random one: head -c 32 /dev/urandom | base64 -w 0 > jwt.key; chmod 600 "
		  "jwt.key, and give auth.jwt.secret_file: jwt.key" },
		{ "0123456789abcdef0123456789abcdef", "HS256", NULL },
		{ "0123456789abcdef0123456789abcdef", "HS384",
		  "is 32 bytes long; HS384 needs a key "
		  "of at least 48 bytes" },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef", "HS384", NULL },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef", "HS256, HS512, RS256",
		  "is 48 bytes long; HS512 needs a key of at least 64 bytes (RFC 7518 section "
		  "3.2); make a random one: head -c 64 /dev/urandom" },
		{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "HS512",
		  NULL },
		{ "k", "HS256", "the secret is 1 byte long" },
		/* no HS* algorithm: the secret is unused, but a placeholder still is not one */
		{ "short-key", "RS256", NULL },
		/* words inside a real key are fine */
		{ "siogate-integration-secret-0123456789abcdef", "HS256", NULL },
		{ "testing-the-default-example-key-0123456789", "HS256", NULL },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct sg_config_errors errs = { 0 };
		struct sg_config *c;
		char text[256], *joined;

		snprintf(text, sizeof(text),
			 "auth: { jwt: { secret: \"%s\", algorithms: [%s], public_key_file: "
			 "/dev/null } }\n",
			 cases[i].secret, cases[i].algs);
		c = load(text, &errs);
		joined = join_errors(&errs);
		if (cases[i].error == NULL) {
			if (c == NULL)
				fprintf(stderr, "case %zu: %s", i, joined);
			CHECK(c != NULL);
		} else {
			CHECK(c == NULL);
			CHECK_INT(errs.n, 1);
			if (strstr(joined, cases[i].error) == NULL)
				fprintf(stderr, "case %zu: %s", i, joined);
			CHECK(strstr(joined, cases[i].error) != NULL);
			CHECK(strncmp(joined, "t.yaml:1:24: auth.jwt.secret: ", 30) == 0);
			/* a placeholder word is named; a longer value never shows */
			if (strlen(cases[i].secret) > 12)
				CHECK(strstr(joined, cases[i].secret) == NULL);
		}
		free(joined);
		config_free(c);
		config_errors_free(&errs);
	}
}

/* The same checks on secret_file's content and the admin token. */
static void test_secret_file_strength(void)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *c;
	char *text, *joined;

	write_file("weak.key", "change-me\n", 0600);
	write_file("short.key", "0123456789abcdef0123456789abcdef0123456789abcdef\n", 0600);
	write_file("admin-weak.token", "CHANGEME", 0600);
	text = subst_tmp("auth:\n"
			 "  jwt: { secret_file: @TMP@/weak.key }\n"
			 "admin:\n"
			 "  token_file: @TMP@/admin-weak.token\n");
	c = load(text, &errs);
	free(text);
	CHECK(c == NULL);
	joined = join_errors(&errs);
	text = subst_tmp("t.yaml:2:23: auth.jwt.secret_file: '@TMP@/weak.key' is a placeholder, "
			 "not a key (it contains 'changeme'): anyone could sign tokens; make a "
			 "random one: head -c 32 /dev/urandom | base64 -w 0 > @TMP@/weak.key; "
			 "chmod 600 @TMP@/weak.key\n"
			 "t.yaml:4:15: admin.token_file: the token is a placeholder (it contains "
			 "'changeme'): anyone could use the admin API; make a random one: head -c "
			 "32 /dev/urandom | base64 -w 0 > admin.token; chmod 600 admin.token\n");
	CHECK_STR(joined, text);
	free(text);
	free(joined);
	config_errors_free(&errs);

	text = subst_tmp("auth: { jwt: { secret_file: @TMP@/short.key, algorithms: [HS512] } }\n");
	c = load(text, &errs);
	free(text);
	CHECK(c == NULL);
	joined = join_errors(&errs);
	text = subst_tmp("t.yaml:1:29: auth.jwt.secret_file: '@TMP@/short.key' is 48 bytes long; "
			 "HS512 needs a key of at least 64 bytes (RFC 7518 section 3.2); make a "
			 "random one: head -c 64 /dev/urandom | base64 -w 0 > @TMP@/short.key; "
			 "chmod 600 @TMP@/short.key\n");
	CHECK_STR(joined, text);
	free(text);
	free(joined);
	config_errors_free(&errs);
	text = subst_tmp("auth: { jwt: { secret_file: @TMP@/short.key, algorithms: [HS384] } }\n");
	c = load(text, &errs);
	free(text);
	CHECK(c != NULL);
	config_free(c);
	config_errors_free(&errs);
}

/* $CREDENTIALS_DIRECTORY (systemd LoadCredential=): a relative file name
 * is looked up there first; files there pass the permission check. */
static void test_credentials_directory(void)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *c;
	char creds[128], yaml[128], expect[256], *joined;

	snprintf(creds, sizeof(creds), "%s/credentials", tmpdir);
	CHECK(mkdir(creds, 0700) == 0);
	write_file("credentials/jwt.key", "key-from-the-credentials-0123456789abcdef\n", 0440);
	write_file("credentials/admin.token", "a-random-admin-token-from-credentials\n", 0444);
	write_file("jwt.key", "key-next-to-the-config-0123456789abcdefgh\n", 0600);
	write_file("only-here.key", "key-only-next-to-the-config-0123456789abc\n", 0600);
	write_file("open.key", "key-next-to-the-config-0123456789abcdefgh\n", 0644);
	write_file("creds.yaml",
		   "auth: { jwt: { secret_file: jwt.key } }\n"
		   "admin: { token_file: admin.token }\n"
		   "server: { tls: { cert: tls.crt, key: /abs/tls.key } }\n",
		   0600);
	snprintf(yaml, sizeof(yaml), "%s/creds.yaml", tmpdir);

	/* not set: next to the config */
	unsetenv("CREDENTIALS_DIRECTORY");
	write_file("creds2.yaml", "auth: { jwt: { secret_file: jwt.key } }\n", 0600);
	snprintf(yaml, sizeof(yaml), "%s/creds2.yaml", tmpdir);
	c = config_load(yaml, &errs);
	CHECK(c != NULL);
	if (c != NULL)
		CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len,
			  "key-next-to-the-config-0123456789abcdefgh");
	config_free(c);
	config_errors_free(&errs);

	/* set: the credentials first, whatever their mode */
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	snprintf(yaml, sizeof(yaml), "%s/creds.yaml", tmpdir);
	c = config_load(yaml, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "unexpected: %s\n", errs.v[i]);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len,
			  "key-from-the-credentials-0123456789abcdef");
		snprintf(expect, sizeof(expect), "%s/jwt.key", creds);
		CHECK_STR(c->auth.jwt.secret_file, expect);
		snprintf(expect, sizeof(expect), "%s/admin.token", creds);
		CHECK_STR(c->admin.token_file, expect);
		/* not among the credentials: next to the config; absolute: as is */
		snprintf(expect, sizeof(expect), "%s/tls.crt", tmpdir);
		CHECK_STR(c->server.tls.cert, expect);
		CHECK_STR(c->server.tls.key, "/abs/tls.key");
	}
	config_free(c);
	config_errors_free(&errs);

	/* a file only next to the config is found there, and is still held
	 * to the permission check there */
	write_file("creds3.yaml", "auth: { jwt: { secret_file: only-here.key } }\n", 0600);
	snprintf(yaml, sizeof(yaml), "%s/creds3.yaml", tmpdir);
	c = config_load(yaml, &errs);
	CHECK(c != NULL);
	config_free(c);
	config_errors_free(&errs);
	write_file("creds4.yaml", "auth: { jwt: { secret_file: open.key } }\n", 0600);
	snprintf(yaml, sizeof(yaml), "%s/creds4.yaml", tmpdir);
	c = config_load(yaml, &errs);
	CHECK(c == NULL);
	joined = join_errors(&errs);
	CHECK(strstr(joined, "is accessible by group or others (mode 0644)") != NULL);
	free(joined);
	config_errors_free(&errs);

	/* ".." out of the credentials directory is not in it */
	write_file("creds5.yaml", "auth: { jwt: { secret_file: ../open.key } }\n", 0600);
	snprintf(yaml, sizeof(yaml), "%s/creds5.yaml", tmpdir);
	c = config_load(yaml, &errs);
	CHECK(c == NULL);
	joined = join_errors(&errs);
	snprintf(expect, sizeof(expect), "'%s/../open.key' is accessible by group or others",
		 creds);
	if (strstr(joined, expect) == NULL)
		fprintf(stderr, "%s", joined);
	CHECK(strstr(joined, expect) != NULL);
	free(joined);
	config_errors_free(&errs);

	/* an absolute name inside the directory (e.g. through ${...}) passes */
	setenv("SG_TEST_CREDS", creds, 1);
	c = load("auth: { jwt: { secret_file: \"${SG_TEST_CREDS}/jwt.key\" } }\n", &errs);
	CHECK(c != NULL);
	config_free(c);
	config_errors_free(&errs);
	unsetenv("SG_TEST_CREDS");
	unsetenv("CREDENTIALS_DIRECTORY");

	{
		static const char *const names[] = { "credentials/jwt.key",
						     "credentials/admin.token",
						     "jwt.key",
						     "only-here.key",
						     "open.key",
						     "creds.yaml",
						     "creds2.yaml",
						     "creds3.yaml",
						     "creds4.yaml",
						     "creds5.yaml",
						     "weak.key",
						     "short.key",
						     "admin-weak.token" };

		for (size_t i = 0; i < SG_ARRAY_LEN(names); i++) {
			char path[160];

			snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
			unlink(path);
		}
		rmdir(creds);
	}
}

/* No message ever quotes a secret, whatever is wrong around it. */
static void test_secret_never_shown(void)
{
	static const char *const texts[] = {
		"auth: { jwt: { secret: \"hunter2-SECRET\", secret_file: /nonexistent } }\n",
		"auth: { jwt: { secret: [\"hunter2-SECRET\"] } }\n",
		"auth: { jwt: { secret: { hunter2-SECRET: 1 } } }\n",
		"auth: { jwt: { secret: \"hunter2-SECRET\", algorithms: [RS256] } }\n",
		"auth: { jwt: { secret: \"hunter2-SECRET\" }, http: { headers: { X-K: [hunter2-SECRET] } } }\n",
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(texts); i++) {
		struct sg_config_errors errs = { 0 };
		struct sg_config *c = load(texts[i], &errs);
		char *joined = join_errors(&errs);

		CHECK(c == NULL);
		CHECK(errs.n > 0);
		if (strstr(joined, "hunter2") != NULL)
			fprintf(stderr, "secret shown: %s", joined);
		CHECK(strstr(joined, "hunter2") == NULL);
		free(joined);
		config_errors_free(&errs);
	}
}

/* config_load: file errors, and relative paths taken from the file's directory. */
static void test_load_file(void)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *c;
	char path[128], expect[256];

	c = config_load("/nonexistent/siogate.yaml", &errs);
	CHECK(c == NULL);
	CHECK_INT(errs.n, 1);
	if (errs.n == 1)
		CHECK_STR(errs.v[0], "/nonexistent/siogate.yaml: cannot read: No such file or "
				     "directory");
	config_errors_free(&errs);

	write_file("rel.yaml",
		   "auth:\n  jwt:\n    secret_file: secret600\n"
		   "    public_key_file: keys/k.pub\n"
		   "server:\n  tls: { cert: /abs/t.crt, key: t.key }\n",
		   0600);
	snprintf(path, sizeof(path), "%s/rel.yaml", tmpdir);
	c = config_load(path, &errs);
	CHECK(c != NULL);
	CHECK_INT(errs.n, 0);
	if (c != NULL) {
		CHECK_STR(c->file, path);
		CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len, SECRET600 "\n");
		snprintf(expect, sizeof(expect), "%s/keys/k.pub", tmpdir);
		CHECK_STR(c->auth.jwt.public_key_file, expect);
		CHECK_STR(c->server.tls.cert, "/abs/t.crt");
		snprintf(expect, sizeof(expect), "%s/t.key", tmpdir);
		CHECK_STR(c->server.tls.key, expect);
	}
	config_free(c);

	/* Errors name the file as it was given. */
	write_file("bad.yaml", "log:\n  level: loud\n", 0600);
	snprintf(path, sizeof(path), "%s/bad.yaml", tmpdir);
	c = config_load(path, &errs);
	CHECK(c == NULL);
	CHECK_INT(errs.n, 1);
	snprintf(expect, sizeof(expect),
		 "%s:2:10: log.level: must be one of error, warn, info, debug (got 'loud')", path);
	if (errs.n == 1)
		CHECK_STR(errs.v[0], expect);
	config_errors_free(&errs);
	snprintf(path, sizeof(path), "%s/rel.yaml", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bad.yaml", tmpdir);
	unlink(path);
}

/* The shipped configs load as they are, given the key files they name:
 * conf/siogate.yaml reads jwt.key, and conf/minimal.yaml dev-jwt.key (made
 * by `make run`), both relative names, which $CREDENTIALS_DIRECTORY
 * provides here; their mode 0440 passes there. */
static void test_shipped_configs(void)
{
	static const char *const files[] = { "conf/siogate.yaml", "conf/minimal.yaml",
					     "conf/siogate.service.yaml" };
	const char *root = getenv("SG_SRCDIR");
	char creds[128];

	snprintf(creds, sizeof(creds), "%s/creds", tmpdir);
	CHECK(mkdir(creds, 0700) == 0);
	write_file("creds/jwt.key", "shipped-config-test-key-0123456789abcdefghij\n", 0440);
	write_file("creds/dev-jwt.key", "shipped-config-test-key-0123456789abcdefghij\n", 0440);
	write_file("creds/admin.token", "shipped-config-test-admin-token-0123456789\n", 0440);
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	for (size_t i = 0; i < SG_ARRAY_LEN(files); i++) {
		struct sg_config_errors errs = { 0 };
		struct sg_config *c;
		char path[512], *text, *joined;

		snprintf(path, sizeof(path), "%s%s%s", root ? root : "", root ? "/" : "", files[i]);
		text = read_all(path, NULL);
		CHECK(text != NULL);
		/* no secret is ever written in a shipped config: each reads a file */
		CHECK(text != NULL && strstr(text, "secret_file: ") != NULL);
		for (const char *l = text; l != NULL && *l != '\0';
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			CHECK(strncmp(l + strspn(l, " "), "secret:", 7) != 0);
		c = config_load(path, &errs);
		joined = join_errors(&errs);
		fprintf(stderr, "%s", joined);
		CHECK(c != NULL);
		free(joined);
		free(text);
		config_errors_free(&errs);
		if (c == NULL)
			continue;
		if (i == 1) {
			CHECK_STR(c->server.listen.v[0], "127.0.0.1:3000");
			CHECK_STR(c->server.path, "/socket.io/");
			CHECK_INT(c->rooms.allow.n, 2);
			CHECK_INT(c->redis.url.n, 0);
			CHECK_INT(c->log.level, SG_LOG_INFO);
			CHECK(c->admin.listen == NULL);
		} else if (i == 2) {
			CHECK_STR(c->server.listen.v[0], "127.0.0.1:3000");
			snprintf(path, sizeof(path), "%s/admin.token", creds);
			CHECK_STR(c->admin.token_file, path);
		} else {
			CHECK_STR(c->server.id, "gw-1");
			CHECK_INT(c->server.max_payload, 1000000);
		}
		CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len,
			  "shipped-config-test-key-0123456789abcdefghij");
		snprintf(path, sizeof(path), "%s/%s", creds, i == 1 ? "dev-jwt.key" : "jwt.key");
		CHECK_STR(c->auth.jwt.secret_file, path);
		config_free(c);
	}
	unsetenv("CREDENTIALS_DIRECTORY");
	snprintf(creds, sizeof(creds), "%s/creds/jwt.key", tmpdir);
	unlink(creds);
	snprintf(creds, sizeof(creds), "%s/creds/dev-jwt.key", tmpdir);
	unlink(creds);
	snprintf(creds, sizeof(creds), "%s/creds/admin.token", tmpdir);
	unlink(creds);
	snprintf(creds, sizeof(creds), "%s/creds", tmpdir);
	rmdir(creds);
}

/* Runs every case folder; returns how many ran. */
static void test_cases(void)
{
	const char *dir = cases_dir();
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;

	CHECK(d != NULL);
	if (d == NULL) {
		fprintf(stderr,
			"cannot open %s (run from the repository root or set "
			"SG_CASES_DIR)\n",
			dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = sg_realloc(names, (n + 1) * sizeof(*names));
		names[n++] = sg_strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	CHECK(n >= 15);
	for (size_t i = 0; i < n; i++) {
		struct sg_config_errors errs = { 0 };
		struct sg_config *c;
		char path[512], *raw, *input, *expect, *got;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s/input.yaml", dir, names[i]);
		raw = read_all(path, &len);
		CHECK(raw != NULL);
		if (raw == NULL) {
			fprintf(stderr, "case %s: no input.yaml\n", names[i]);
			free(names[i]);
			continue;
		}
		input = subst_tmp(raw);
		free(raw);
		snprintf(path, sizeof(path), "%s/%s/expect", dir, names[i]);
		raw = read_all(path, NULL);
		CHECK(raw != NULL);
		expect = subst_tmp(raw ? raw : "");
		free(raw);

		c = config_load_string("input.yaml", input, strlen(input), &errs);
		got = c != NULL ? sg_strdup("OK\n") : join_errors(&errs);
		if (c != NULL && errs.n != 0) {
			fprintf(stderr, "case %s: loaded but reported errors\n", names[i]);
			CHECK(errs.n == 0);
		}
		if (strcmp(got, expect) != 0)
			fprintf(stderr, "case %s:\n--- expected\n%s--- got\n%s---\n", names[i],
				expect, got);
		CHECK_STR(got, expect);
		config_free(c);
		config_errors_free(&errs);
		free(got);
		free(expect);
		free(input);
		free(names[i]);
	}
	free(names);
}

int main(void)
{
	static const char *const files[] = { "secret600", "secret644",	 "token600",
					     "token644",  "secretempty", "secret640" };

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sg-test-config-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	write_file("secret600", SECRET600 "\n\n", 0600);
	write_file("secret644", SECRET600 "\n", 0644);
	write_file("token600", "admin-token\n", 0600);
	write_file("token644", "admin-token\n", 0644);
	setenv("SG_TEST_PORT", "3001", 1);
	setenv("SG_TEST_EMPTY", "", 1);
	unsetenv("SG_TEST_UNSET");

	RUN(test_defaults);
	RUN(test_every_type);
	RUN(test_small_forms);
	RUN(test_expand_text);
	RUN(test_expand_config);
	RUN(test_caps);
	RUN(test_parse_duration);
	RUN(test_parse_size);
	RUN(test_key_table);
	RUN(test_secret_file);
	RUN(test_secret_strength);
	RUN(test_secret_file_strength);
	RUN(test_credentials_directory);
	RUN(test_secret_never_shown);
	RUN(test_load_file);
	RUN(test_shipped_configs);
	RUN(test_cases);

	for (size_t i = 0; i < SG_ARRAY_LEN(files); i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	return UNIT_END();
}
