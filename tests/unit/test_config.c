/*
 * test_config.c: the configuration loader.  Defaults from an empty config,
 * every kind of value parsed into the struct, the duration and size parsers,
 * secret files, the key table, the shipped example configs, and the
 * data-driven cases in tests/unit/cases/config/<name>/{input.yaml,expect}:
 * expect holds the exact error lines, or OK.  "@TMP@" in both files stands
 * for a private temporary directory holding secret files made at run time.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static char tmpdir[64];

static void write_file(const char *name, const char *text, mode_t mode);
static char *read_all(const char *path, size_t *len);
static char *subst_tmp(const char *text);
static char *join_errors(const struct sg_config_errors *errs);
static struct sg_config *load(const char *text, struct sg_config_errors *errs);
static const char *cases_dir(void);
static int cmp_str(const void *a, const void *b);

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
	struct sg_config_errors errs = {0};
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
	CHECK_INT(c->ping.interval_ms, 30000);
	CHECK_INT(c->rooms.default_rooms.n, 2);
	CHECK_STR(c->rooms.default_rooms.v[0], "io-default");
	CHECK_STR(c->rooms.default_rooms.v[1], "io-notification");
	CHECK_INT(c->rooms.allow.n, 0);
	CHECK(c->rooms.http.url == NULL);
	CHECK_INT(c->rooms.http.timeout_ms, 3000);
	CHECK_INT(c->rooms.max_per_client, 128);
	CHECK_INT(c->redis.url.n, 0);
	CHECK_STR(c->redis.prefix, "socket.io");
	CHECK_STR(c->redis.json_channel, "siogate#send");
	CHECK_STR(c->redis.lifecycle_channel, "siogate#lifecycle");
	CHECK_INT(c->events.n_forward, 0);
	CHECK(c->events.forward == NULL);
	CHECK_INT(c->events.stream_maxlen, 100000);
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
		"    secret: 12345\n"
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
		"ping: { interval: 1h }\n"
		"rooms:\n"
		"  default: []\n"
		"  allow: [\"public-*\", \"user-{sub}\"]\n"
		"  http: { url: \"http://127.0.0.1:8080/rooms\", timeout: 100ms }\n"
		"  max_per_client: 7\n"
		"redis:\n"
		"  url: [\"redis://10.0.0.1:7000\", \"redis://10.0.0.2:7000\"]\n"
		"  prefix: sio\n"
		"  json_channel: j\n"
		"  lifecycle_channel: l\n"
		"events:\n"
		"  forward:\n"
		"    - { match: \"chat:*\", stream: \"siogate:events\" }\n"
		"    - { match: \"rpc:*\", http: \"http://127.0.0.1:8080/rpc\", timeout: 250ms }\n"
		"    - { match: \"x\", http: \"http://127.0.0.1:8080/x\" }\n"
		"  stream_maxlen: 5000\n"
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
	struct sg_config_errors errs = {0};
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
	CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len, "12345");
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
	CHECK_INT(c->ping.interval_ms, 3600000);
	CHECK_INT(c->rooms.default_rooms.n, 0);
	CHECK_INT(c->rooms.allow.n, 2);
	CHECK_STR(c->rooms.allow.v[1], "user-{sub}");
	CHECK_STR(c->rooms.http.url, "http://127.0.0.1:8080/rooms");
	CHECK_INT(c->rooms.http.timeout_ms, 100);
	CHECK_INT(c->rooms.max_per_client, 7);
	CHECK_INT(c->redis.url.n, 2);
	CHECK_STR(c->redis.url.v[1], "redis://10.0.0.2:7000");
	CHECK_STR(c->redis.prefix, "sio");
	CHECK_STR(c->redis.json_channel, "j");
	CHECK_STR(c->redis.lifecycle_channel, "l");
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
	struct sg_config_errors errs = {0};
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
	CHECK_INT(config_parse_duration("2562048h", &ms, &err), 0); /* 9.2e15 ms: fits */
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
		"server.id", "server.listen", "server.cors.origins", "server.cors.credentials",
		"server.tls.cert", "server.workers", "namespaces", "auth.jwt.secret",
		"auth.jwt.secret_file", "auth.jwt.token_from", "auth.http.headers",
		"rooms.http.url", "rooms.http.timeout", "redis.url", "events.forward",
		"limits.output_hard", "admin.token_file", "log.format",
	};
	size_t n = 0;

	while (config_key_name(n) != NULL)
		n++;
	CHECK_INT(n, 62);
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
	struct sg_config_errors errs = {0};
	struct sg_config *c;
	char *text, path[128], *joined;
	FILE *f;

	/* One trailing newline is stripped, and only one. */
	text = subst_tmp("auth: { jwt: { secret_file: @TMP@/secret600 } }\n");
	c = load(text, &errs);
	free(text);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len, "top secret\n");
		snprintf(path, sizeof(path), "%s/secret600", tmpdir);
		CHECK_STR(c->auth.jwt.secret_file, path);
	}
	config_free(c);

	/* A secret with a NUL byte keeps its full length. */
	snprintf(path, sizeof(path), "%s/secretnul", tmpdir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fwrite("ab\0cd", 1, 5, f);
		fclose(f);
	}
	CHECK(chmod(path, 0600) == 0);
	text = subst_tmp("auth: { jwt: { secret_file: @TMP@/secretnul } }\n");
	c = load(text, &errs);
	free(text);
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_INT(c->auth.jwt.secret_len, 5);
		CHECK(memcmp(c->auth.jwt.secret, "ab\0cd", 5) == 0);
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
		struct sg_config_errors errs = {0};
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
	struct sg_config_errors errs = {0};
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
		CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len, "top secret\n");
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

/* The shipped configs must load as they are. */
static void test_shipped_configs(void)
{
	static const char *const files[] = {"conf/siogate.yaml", "conf/minimal.yaml"};
	const char *root = getenv("SG_SRCDIR");

	for (size_t i = 0; i < SG_ARRAY_LEN(files); i++) {
		struct sg_config_errors errs = {0};
		struct sg_config *c;
		char path[512];

		snprintf(path, sizeof(path), "%s%s%s", root ? root : "", root ? "/" : "", files[i]);
		c = config_load(path, &errs);
		for (size_t j = 0; j < errs.n; j++)
			fprintf(stderr, "%s\n", errs.v[j]);
		CHECK(c != NULL);
		config_errors_free(&errs);
		if (c == NULL)
			continue;
		if (i == 1) {
			CHECK_STR(c->server.listen.v[0], "127.0.0.1:3000");
			CHECK_STR(c->server.path, "/socket.io/");
			CHECK_MEM(c->auth.jwt.secret, c->auth.jwt.secret_len, "dev-secret-change-me");
			CHECK_INT(c->rooms.allow.n, 2);
			CHECK_INT(c->redis.url.n, 0);
			CHECK_INT(c->log.level, SG_LOG_INFO);
		} else {
			CHECK_STR(c->server.id, "gw-1");
			CHECK_INT(c->server.max_payload, 1000000);
		}
		config_free(c);
	}
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
		fprintf(stderr, "cannot open %s (run from the repository root or set "
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
		struct sg_config_errors errs = {0};
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
	static const char *const files[] = {"secret600", "secret644", "token600", "token644",
					    "secretempty", "secret640"};

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sg-test-config-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	write_file("secret600", "top secret\n\n", 0600);
	write_file("secret644", "top secret\n", 0644);
	write_file("token600", "admin-token\n", 0600);
	write_file("token644", "admin-token\n", 0644);

	RUN(test_defaults);
	RUN(test_every_type);
	RUN(test_small_forms);
	RUN(test_parse_duration);
	RUN(test_parse_size);
	RUN(test_key_table);
	RUN(test_secret_file);
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
