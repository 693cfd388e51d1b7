/*
 * test_metrics.c: the /metrics page (ops/metrics.c) as Prometheus reads
 * it, rendered from workers' parts built here: every metric of the list
 * (siogate --list-metrics) has its HELP and TYPE once and series with the
 * listed labels; counters and histograms add the workers up, by-worker
 * metrics do not; label values come from their tables (close.def,
 * callout.h ...); the Redis metrics are absent without Redis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "app/authflow_socket.h"
#include "ops/metrics.h"
#include "ops/metrics_totals.h"
#include "unit.h"

#define WORKERS 2

static struct sg_buf parts[WORKERS];

/* Empty parts of WORKERS workers (no rooms, no Redis), ready. */
static struct metrics_part *parts_reset(void)
{
	static struct metrics_part p[WORKERS];

	memset(p, 0, sizeof(p));
	for (size_t k = 0; k < WORKERS; k++)
		p[k].ready = true;
	return p;
}

/* The page of the WORKERS parts p (static buffer, overwritten). */
static const char *render(const struct metrics_part *p)
{
	static struct sg_buf page;

	sg_buf_fini(&page);
	sg_buf_init(&page);
	for (size_t k = 0; k < WORKERS; k++) {
		sg_buf_fini(&parts[k]);
		sg_buf_init(&parts[k]);
		sg_buf_append(&parts[k], &p[k], sizeof(p[k]));
	}
	metrics_render(&page, parts, WORKERS);
	return page.data;
}

/* Whether page has line as a whole line. */
static bool has_line(const char *page, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = page; (p = strstr(p, line)) != NULL; p++)
		if ((p == page || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* How many lines of page start with prefix. */
static int count_lines(const char *page, const char *prefix)
{
	int n = 0;

	for (const char *p = page; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

/* Each of the n lines want is a line of page. */
static void check_lines(const char *page, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool found = has_line(page, want[i]);
		CHECK(found);
		if (!found)
			fprintf(stderr, "  %s: no line \"%s\"\n", unit_current, want[i]);
	}
}

static void test_sums_and_label_tables(void)
{
	struct metrics_part *p = parts_reset();
	static const char *const want[] = {
		"siogate_connections_accepted_total 5",
		"siogate_auth_total{result=\"accepted\"} 0",
		"siogate_auth_total{result=\"rejected\"} 4",
		"siogate_closes_total{reason=\"event flood\"} 7",
		"siogate_closes_total{reason=\"transport close\"} 0",
		"siogate_auth_failures_total{reason=\"expired\"} 3",
		"siogate_clients{state=\"authenticated\"} 6",
		"siogate_events_forward_total{target=\"http\",outcome=\"timeout\"} 9",
		"siogate_events_forward_total{target=\"stream\",outcome=\"timeout\"} 0",
		"siogate_rooms_http_total{outcome=\"overloaded\"} 1",
		"siogate_callouts_refused_total{target=\"rooms\"} 2",
		"siogate_open_connections 30",
		"siogate_worker_connections{worker=\"0\"} 10",
		"siogate_worker_connections{worker=\"1\"} 20",
		"siogate_sessions{transport=\"polling\"} 1",
		"siogate_sessions{transport=\"websocket\"} 2",
		"siogate_ready 1",
	};
	const char *page;

	p[0].stats.connections = 2;
	p[1].stats.connections = 3;
	p[1].stats.auth_rejected = 4;
	p[0].stats.closes[SG_CLOSE_FLOOD] = 5;
	p[1].stats.closes[SG_CLOSE_FLOOD] = 2;
	p[1].stats.auth_failures[AUTH_FAIL_EXPIRED] = 3;
	p[0].stats.sockets_by_state[AUTHFLOW_AUTHENTICATED] = 6;
	p[0].stats.forward[FORWARD_HTTP].outcomes[CALLOUT_TIMEOUT] = 4;
	p[1].stats.forward[FORWARD_HTTP].outcomes[CALLOUT_TIMEOUT] = 5;
	p[1].stats.rooms_http.outcomes[CALLOUT_OVERLOADED] = 1;
	p[0].stats.callouts_refused_rooms = 2;
	p[0].conns = 10;
	p[1].conns = 20;
	p[0].polling = 1;
	p[1].websocket = 2;
	page = render(p);
	check_lines(page, want, SG_ARRAY_LEN(want));
	CHECK_INT(count_lines(page, "siogate_closes_total{"), SG_CLOSE__COUNT);
	CHECK_INT(count_lines(page, "siogate_events_forward_total{"),
		  FORWARD__COUNT * CALLOUT__COUNT);
	p[1].ready = false; /* ready only when every worker is */
	CHECK(has_line(render(p), "siogate_ready 0"));
}

static void test_histograms(void)
{
	struct metrics_part *p = parts_reset();
	static const char *const want[] = {
		/* added up, cumulative */
		"siogate_verifier_seconds_bucket{le=\"5e-05\"} 1",
		"siogate_verifier_seconds_bucket{le=\"0.25\"} 1",
		"siogate_verifier_seconds_bucket{le=\"0.5\"} 2",
		"siogate_verifier_seconds_bucket{le=\"+Inf\"} 2",
		"siogate_verifier_seconds_count 2",
		"siogate_verifier_seconds_sum 0.300040000",
		/* by worker, not added up */
		"siogate_event_loop_lag_seconds_count{worker=\"0\"} 0",
		"siogate_event_loop_lag_seconds_count{worker=\"1\"} 1",
		"siogate_event_loop_lag_seconds_bucket{worker=\"1\",le=\"0.0025\"} 1",
		/* by the table's target, before le */
		"siogate_events_forward_seconds_bucket{target=\"stream\",le=\"0.01\"} 1",
		"siogate_events_forward_seconds_count{target=\"http\"} 0",
	};
	const char *page;

	hist_observe(&p[0].stats.verify, 0.00004);
	hist_observe(&p[1].stats.verify, 0.3);
	hist_observe(&p[1].stats.loop_lag, 0.002);
	hist_observe(&p[0].stats.forward[FORWARD_STREAM].seconds, 0.01);
	page = render(p);
	check_lines(page, want, SG_ARRAY_LEN(want));
	CHECK_INT(count_lines(page, "# TYPE siogate_verifier_seconds histogram"), 1);
}

static void test_redis(void)
{
	struct metrics_part *p = parts_reset();
	static const char *const absent[] = { "siogate_redis_", "# HELP siogate_redis_",
					      "siogate_cluster_members", "siogate_json_relay" };
	static const char *const want[] = {
		"siogate_redis_up{link=\"subscriber\"} 1",
		"siogate_redis_up{link=\"publisher\"} 0",
		"siogate_json_relay 1",
		"siogate_cluster_members{state=\"ready\"} 3",
		"siogate_redis_gap_seconds_total 2.500",
		"siogate_redis_dropped_total{reason=\"pending\"} 4",
		"siogate_redis_dropped_total{reason=\"down\"} 0",
		"siogate_redis_messages_total{outcome=\"received\"} 20",
		"siogate_redis_messages_total{outcome=\"bad\"} 0",
	};
	const char *page = render(p);

	for (size_t i = 0; i < SG_ARRAY_LEN(absent); i++)
		CHECK_INT(count_lines(page, absent[i]), 0);
	for (size_t k = 0; k < WORKERS; k++) {
		p[k].has_bridge = true;
		p[k].bridge.subscriber_up = true;
		p[k].bridge.publisher_up = k == 0; /* up when every worker's is */
		p[k].bridge.relay = k == 1;	   /* relays when any worker does */
		p[k].bridge.members_ready = 3 + k; /* worker 0's */
		p[k].bridge.gap_ms = 1250;
		p[k].bridge.dropped[BRIDGE_DROP_PENDING] = 2;
		p[k].bridge.received = 10;
	}
	check_lines(render(p), want, SG_ARRAY_LEN(want));
}

/* The label names of a series line (name{a="x",b="y"} v): "a,b", le left
 * out; "-" for none. */
static void series_labels(const char *line, char *out, size_t size)
{
	const char *p = strchr(line, '{'), *end = strchr(line, ' ');

	snprintf(out, size, "-");
	if (p == NULL || end == NULL || p > end)
		return;
	out[0] = '\0';
	for (p++; *p && *p != '}';) {
		size_t len = strcspn(p, "=");
		if (strncmp(p, "le", len) != 0 || len != 2)
			snprintf(out + strlen(out), size - strlen(out), "%s%.*s", out[0] ? "," : "",
				 (int)len, p);
		for (p += len + 2; *p && *p != '"'; p++)
			if (*p == '\\')
				p++;
		p += *p == '"';
		p += *p == ',';
	}
	if (out[0] == '\0')
		snprintf(out, size, "-");
}

/* Every metric of the list is on the page (with Redis) once, with its
 * type, help and labels; the page has no other. */
static void test_list_is_the_page(void)
{
	struct metrics_part *p = parts_reset();
	struct sg_buf list;
	struct rlimit rl;
	char *save = NULL, *row, want[512], got[512];
	const char *page;
	int n = 0;
	/* process_max_fds is absent when the limit is */
	bool unlimited = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY;

	for (size_t k = 0; k < WORKERS; k++)
		p[k].has_bridge = true;
	/* keys from an issuer: their series too */
	p[0].has_jwks = true;
	p[0].jwks.keys = 2;
	p[0].jwks.fetched_at_ms = 1;
	page = render(p);
	sg_buf_init(&list);
	metrics_list(&list);
	for (row = strtok_r(list.data, "\n", &save); row; row = strtok_r(NULL, "\n", &save)) {
		char *f[4], *s2 = NULL, *first;
		int nf = 0;

		for (char *t = strtok_r(row, "\t", &s2); t && nf < 4; t = strtok_r(NULL, "\t", &s2))
			f[nf++] = t;
		CHECK_INT(nf, 4);
		if (nf != 4)
			continue;
		n++;
		if (unlimited && strcmp(f[0], "process_max_fds") == 0)
			continue;
		snprintf(want, sizeof(want), "# TYPE %s %s", f[0], f[1]);
		CHECK(has_line(page, want));
		snprintf(want, sizeof(want), "# HELP %s %s", f[0], f[3]);
		CHECK(has_line(page, want));
		snprintf(want, sizeof(want), "# TYPE %s ", f[0]);
		CHECK_INT(count_lines(page, want), 1);
		/* its first series, right after TYPE */
		snprintf(want, sizeof(want), "# TYPE %s %s\n", f[0], f[1]);
		first = strstr(page, want);
		if (first == NULL)
			continue;
		first += strlen(want);
		CHECK(strncmp(first, f[0], strlen(f[0])) == 0);
		series_labels(first, got, sizeof(got));
		CHECK_STR(got, f[2]); /* the page's labels, the list's */
		if (strcmp(got, f[2]) != 0)
			fprintf(stderr, "  (the labels of %s)\n", f[0]);
	}
	CHECK_INT(count_lines(page, "# TYPE "), n - unlimited);
	CHECK(n >= 40);
	sg_buf_fini(&list);
}

int main(void)
{
	RUN(test_sums_and_label_tables);
	RUN(test_histograms);
	RUN(test_redis);
	RUN(test_list_is_the_page);
	for (size_t k = 0; k < WORKERS; k++)
		sg_buf_fini(&parts[k]);
	return UNIT_END();
}
