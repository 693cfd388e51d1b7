/*
 * test_config_reload.c: what a SIGHUP reload applies (config_reload.c),
 * on snapshots loaded from YAML by the real loader: keys flagged reloadable
 * take the new value; any other key whose value changed keeps the running
 * one and is named, in key-table order, to be logged; unchanged keys are
 * not named; more changed keys than the caller's array are counted anyway.
 * One case per key type (string, path, address, file, list, listen,
 * namespaces, origins, Redis URL, transports, bool, unsigned, 64-bit, size,
 * duration, enum, workers, forward rules; and the reloadable secret,
 * token sources, headers, CIDRs).  Each case runs in a child process, so
 * that a merge that aborts fails its case instead of the whole test.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "unit.h"

#define K40 "0123456789abcdefghijklmnopqrstuvwxyzABCD"
#define K40B "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxw"

static bool id_a(const struct sg_config *c)
{
	return strcmp(c->server.id, "a") == 0;
}
static bool ping_25s(const struct sg_config *c)
{
	return c->server.ping_interval_ms == 25000;
}
static bool per_ip_5(const struct sg_config *c)
{
	return c->limits.per_ip == 5;
}
static bool listen_old(const struct sg_config *c)
{
	return c->server.listen.n == 1 && strcmp(c->server.listen.v[0], "127.0.0.1:3000") == 0;
}
static bool path_old(const struct sg_config *c)
{
	return strcmp(c->server.path, "/socket.io/") == 0;
}
static bool both_transports(const struct sg_config *c)
{
	return c->server.transports == (SG_TRANSPORT_POLLING | SG_TRANSPORT_WEBSOCKET);
}
static bool origins_old(const struct sg_config *c)
{
	return c->server.cors.origins.n == 1 && strcmp(c->server.cors.origins.v[0], "*") == 0 &&
	       !c->server.cors.credentials;
}
static bool payload_old(const struct sg_config *c)
{
	return c->server.max_payload == 1000000;
}
static bool workers_2(const struct sg_config *c)
{
	return c->server.workers == 2;
}
static bool nsps_old(const struct sg_config *c)
{
	return c->namespaces.n == 1;
}
static bool standalone(const struct sg_config *c)
{
	return c->redis.url.n == 0;
}
static bool in_flight_old(const struct sg_config *c)
{
	return c->auth.http.max_in_flight == 256;
}
static bool format_text_level_debug(const struct sg_config *c)
{
	return c->log.format == SG_LOG_TEXT && c->log.level == SG_LOG_DEBUG;
}
static bool admin_old(const struct sg_config *c)
{
	return strcmp(c->admin.listen, "127.0.0.1:9090") == 0;
}
static bool maxlen_old(const struct sg_config *c)
{
	return c->events.stream_maxlen == 100000;
}
static bool secret_new(const struct sg_config *c)
{
	return c->auth.jwt.secret_len == 40 && memcmp(c->auth.jwt.secret, K40B, 40) == 0;
}
static bool token_from_new(const struct sg_config *c)
{
	return c->auth.jwt.n_token_from == 1 && c->auth.jwt.token_from[0] == SG_TOKEN_QUERY;
}
static bool headers_new(const struct sg_config *c)
{
	return c->auth.http.header_names.n == 1 &&
	       strcmp(c->auth.http.header_values.v[0], "two") == 0;
}
static bool rooms_new(const struct sg_config *c)
{
	return c->rooms.default_rooms.n == 1 && strcmp(c->rooms.default_rooms.v[0], "x") == 0;
}
static bool proxies_new(const struct sg_config *c)
{
	return c->server.trusted_proxies.n == 2;
}
static bool forward_old(const struct sg_config *c)
{
	return c->events.n_forward == 0;
}
static bool several(const struct sg_config *c)
{
	return ping_25s(c) && per_ip_5(c) && path_old(c) && c->limits.burst == 7;
}

static const struct {
	const char *what;
	const char *running;
	const char *next;
	const char *kept;			     /* the names reported, joined by ',' */
	bool (*probe)(const struct sg_config *next); /* next after the merge */
} cases[] = {
	{ "nothing changed", "server: {id: a}\n", "server: {id: a}\n", "", id_a },
	{ "string", "server: {id: a}\n", "server: {id: b}\n", "server.id", id_a },
	{ "duration", "server: {ping_interval: 25s}\n", "server: {ping_interval: 10s}\n",
	  "server.ping_interval", ping_25s },
	{ "duration, same value written otherwise", "server: {ping_interval: 25s}\n",
	  "server: {ping_interval: 25000ms}\n", "", ping_25s },
	{ "reloadable unsigned", "limits: {per_ip: 0}\n", "limits: {per_ip: 5}\n", "", per_ip_5 },
	{ "listen", "server: {listen: [\"127.0.0.1:3000\"]}\n",
	  "server: {listen: [\"127.0.0.1:3000\", \"127.0.0.1:3001\"]}\n", "server.listen",
	  listen_old },
	{ "path", "{}\n", "server: {path: /io/}\n", "server.path", path_old },
	{ "transports", "{}\n", "server: {transports: [websocket]}\n", "server.transports",
	  both_transports },
	{ "origins and a bool", "server: {cors: {origins: [\"*\"]}}\n",
	  "server: {cors: {origins: [\"https://a.example\"], credentials: true}}\n",
	  "server.cors.origins,server.cors.credentials", origins_old },
	{ "size", "{}\n", "server: {max_payload: 2MB}\n", "server.max_payload", payload_old },
	{ "workers", "server: {workers: 2}\n", "server: {workers: auto}\n", "server.workers",
	  workers_2 },
	{ "namespaces", "{}\n", "namespaces: [\"/\", \"/chat\"]\n", "namespaces", nsps_old },
	{ "Redis URL", "{}\n", "redis: {url: \"redis://127.0.0.1:6379\"}\n", "redis.url",
	  standalone },
	{ "unsigned", "{}\n", "auth: {http: {max_in_flight: 9}}\n", "auth.http.max_in_flight",
	  in_flight_old },
	{ "enums, one reloadable", "{}\n", "log: {format: json, level: debug}\n", "log.format",
	  format_text_level_debug },
	{ "address and file", "{}\n", "admin: {listen: \"127.0.0.1:9091\", token_file: @TOKEN@}\n",
	  "admin.listen,admin.token_file", admin_old },
	{
		"64-bit",
		"{}\n",
		"events: {stream_maxlen: 5}\n",
		"events.stream_maxlen",
		maxlen_old,
	},
	{ "reloadable secret", "auth: {jwt: {secret: " K40 "}}\n",
	  "auth: {jwt: {secret: " K40B "}}\n", "", secret_new },
	{ "reloadable token sources", "auth: {jwt: {secret: " K40 "}}\n",
	  "auth: {jwt: {secret: " K40 ", token_from: [query]}}\n", "", token_from_new },
	{ "reloadable headers", "auth: {http: {headers: {X-A: one}}}\n",
	  "auth: {http: {headers: {X-A: two}}}\n", "", headers_new },
	{ "reloadable list", "{}\n", "rooms: {default: [x]}\n", "", rooms_new },
	{ "reloadable CIDRs", "{}\n", "server: {trusted_proxies: [10.0.0.0/8, \"::1\"]}\n", "",
	  proxies_new },
	{ "forward rules", "{}\n", "events: {forward: [{match: \"chat:*\", stream: chat}]}\n",
	  "events.forward", forward_old },
	{ "several, in key-table order",
	  "server: {ping_interval: 25s}\nlimits: {per_ip: 0, burst: 100}\n",
	  "server: {ping_interval: 1s, path: /x/}\nlimits: {per_ip: 5, burst: 7}\n",
	  "server.path,server.ping_interval", several },
};

static char token_file[64];

/* Loads text, with @TOKEN@ standing for a private admin token file. */
static struct sg_config *load(const char *what, const char *text)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *c;
	struct sg_buf b;
	const char *at = strstr(text, "@TOKEN@");

	sg_buf_init(&b);
	if (at != NULL)
		sg_buf_printf(&b, "%.*s%s%s", (int)(at - text), text, token_file, at + 7);
	else
		sg_buf_append_str(&b, text);
	c = config_load_string(what, b.data, b.len, &errs);
	sg_buf_fini(&b);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "  %s\n", errs.v[i]);
	config_errors_free(&errs);
	return c;
}

/* One case, in the child: 0 when the merge did what the case says. */
static int run_case(size_t i)
{
	struct sg_config *running = load("running.yaml", cases[i].running);
	struct sg_config *next = load("next.yaml", cases[i].next);
	const char *kept[32];
	struct sg_buf names;
	size_t n;
	int rc = 0;

	if (running == NULL || next == NULL)
		return 2;
	n = config_reload_merge(next, running, kept, SG_ARRAY_LEN(kept));
	sg_buf_init(&names);
	sg_buf_reserve(&names, 0);
	for (size_t k = 0; k < n; k++)
		sg_buf_printf(&names, "%s%s", k ? "," : "", kept[k]);
	if (strcmp(names.data, cases[i].kept) != 0) {
		fprintf(stderr, "  kept \"%s\", expected \"%s\"\n", names.data, cases[i].kept);
		rc = 1;
	}
	if (!cases[i].probe(next)) {
		fprintf(stderr, "  the merged snapshot is not as expected\n");
		rc = 1;
	}
	sg_buf_fini(&names);
	config_free(running);
	config_free(next);
	return rc;
}

static void test_cases(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		int status = 0;
		pid_t pid;
		bool ok;

		fflush(stderr);
		pid = fork();
		if (pid == 0) {
			signal(SIGABRT, SIG_DFL);
			_exit(run_case(i));
		}
		ok = waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		     WEXITSTATUS(status) == 0;
		if (!ok)
			fprintf(stderr, "  case \"%s\" failed (%s %d)\n", cases[i].what,
				WIFSIGNALED(status) ? "signal" : "exit",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		CHECK(ok);
	}
}

/* More changed keys than room for their names: all are counted, the
 * first ones named. */
static void test_kept_bound(void)
{
	static const char next_text[] = "server: {id: b, path: /x/, ping_interval: 1s}\n";
	struct sg_config *running = load("running.yaml", "server: {id: a}\n");
	struct sg_config *next = load("next.yaml", next_text);
	const char *kept[2] = { NULL, NULL };

	if (running == NULL || next == NULL) {
		CHECK(!"configs load");
		return;
	}
	CHECK_INT(config_reload_merge(next, running, kept, 1), 3);
	CHECK_STR(kept[0], "server.id");
	CHECK(kept[1] == NULL);
	config_free(next);
	next = load("next.yaml", next_text);
	CHECK_INT(config_reload_merge(next, running, NULL, 0), 3);
	CHECK(id_a(next) && path_old(next) && ping_25s(next));
	config_free(running);
	config_free(next);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	int fd, rc;

	snprintf(token_file, sizeof(token_file), "%s/sg-reload-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(token_file); /* mode 0600 */
	if (fd < 0 || write(fd, "admin-token-0123456789abcdef\n", 29) != 29) {
		perror(token_file);
		return 1;
	}
	close(fd);
	RUN(test_cases);
	RUN(test_kept_bound);
	rc = UNIT_END();
	unlink(token_file);
	return rc;
}
