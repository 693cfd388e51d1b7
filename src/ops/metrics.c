/*
 * metrics.c: Prometheus rendering (see metrics.h).  Metrics sharing a name
 * in metrics.def are adjacent there, so HELP and TYPE are written once per
 * name by comparing with the previous entry.  Every metric rendered here is
 * listed with its meaning in siogate(8) (tests/check-docs checks it).
 */
#include "ops/metrics.h"

#include "ops/ready.h"

#include <dirent.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "redis/bridge.h"
#include "core/close.h"
#include "eio/eio.h"
#include "sio/room_tally.h"
#include "sio/rooms.h"
#include "app/authflow_socket.h"
#include "sio/sio.h"
#include "core/worker.h"

static const struct {
	const char *name;
	const char *labels;
	const char *help;
	size_t offset;
} counters[] = {
#define COUNTER(field, name, labels, help) \
	{ name, labels, help, offsetof(struct worker_stats, field) },
#include "core/metrics.def"
#undef COUNTER
};

/* What a worker reports (metrics_snapshot), followed by its rooms
 * (room_tally_write) when it has siblings. */
struct snapshot {
	struct worker_stats stats;
	uint64_t conns, polling, websocket, rooms;
	bool ready;
	bool has_bridge;
	struct bridge_stats bridge;
};

static void head(struct sg_buf *out, const char *name, const char *type, const char *help);
static const struct snapshot *snap(const struct sg_buf *b);
static uint64_t count_rooms(const struct sg_buf *snapshots, size_t n);
static void render_gauges(struct sg_buf *out, const struct sg_buf *snapshots, size_t n);
static void render_bridge(struct sg_buf *out, const struct sg_buf *snapshots, size_t n);
static void render_process(struct sg_buf *out);
static void render_build(struct sg_buf *out);
static void render_auth_failures(struct sg_buf *out, const struct sg_buf *snapshots, size_t n);
static void render_callouts(struct sg_buf *out, const struct sg_buf *snapshots, size_t n);
static void render_hists(struct sg_buf *out, const struct sg_buf *snapshots, size_t n);
static void hist_series(struct sg_buf *out, const char *name, const char *labels,
			const struct sg_hist *h);
static struct sg_hist hist_sum(const struct sg_buf *snapshots, size_t n, size_t which);
static uint64_t open_fds(void);
static bool process_start_time(double *out);

/* One series of a histogram: cumulative buckets, sum and count, each with
 * labels ("" or e.g. target="http") before le. */
static void hist_series(struct sg_buf *out, const char *name, const char *labels,
			const struct sg_hist *h)
{
	const char *sep = labels[0] ? "," : "";
	uint64_t cum = 0;

	for (size_t b = 0; b < HIST_BUCKETS; b++) {
		cum += h->buckets[b];
		if (b < HIST_BUCKETS - 1)
			sg_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
				      hist_bounds[b], (unsigned long long)cum);
		else
			sg_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
				      (unsigned long long)cum);
	}
	if (labels[0])
		sg_buf_printf(out, "%s_sum{%s} %.9f\n%s_count{%s} %llu\n", name, labels, h->sum_s,
			      name, labels, (unsigned long long)cum);
	else
		sg_buf_printf(out, "%s_sum %.9f\n%s_count %llu\n", name, h->sum_s, name,
			      (unsigned long long)cum);
}

/* The histogram at offset `which` of worker_stats, added over the workers. */
static struct sg_hist hist_sum(const struct sg_buf *snapshots, size_t n, size_t which)
{
	struct sg_hist sum;

	memset(&sum, 0, sizeof(sum));
	for (size_t k = 0; k < n; k++)
		hist_add(&sum, (const struct sg_hist *)((const char *)&snap(&snapshots[k])->stats +
							which));
	return sum;
}

static void head(struct sg_buf *out, const char *name, const char *type, const char *help)
{
	sg_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const struct snapshot *snap(const struct sg_buf *b)
{
	return (const struct snapshot *)b->data;
}

void metrics_snapshot(struct worker *w, struct sg_buf *out)
{
	struct snapshot sn;

	memset(&sn, 0, sizeof(sn));
	sn.stats = w->stats;
	sn.conns = w->n_conns - w->n_admin_conns; /* the admin listener's are not clients */
	sn.ready = ready_reason(w) == NULL;
	for (struct eio_session *s = w->sessions; s; s = s->next) {
		if (s->transport == EIO_POLLING)
			sn.polling++;
		else
			sn.websocket++;
	}
	for (size_t j = 0; j < w->n_nsps; j++)
		sn.rooms += w->nsps[j]->rooms.by_name.len;
	sn.has_bridge = w->bridge != NULL;
	if (w->bridge != NULL)
		bridge_get_stats(w->bridge, &sn.bridge);
	sg_buf_append(out, &sn, sizeof(sn));
	if (w->n_workers > 1)
		room_tally_write(w, out);
}

/* Rooms with members somewhere in the process: a room on two workers is
 * one room. */
static uint64_t count_rooms(const struct sg_buf *snapshots, size_t n)
{
	struct room_tally t;
	uint64_t rooms;

	if (n == 1)
		return snap(&snapshots[0])->rooms;
	room_tally_init(&t);
	for (size_t k = 0; k < n; k++)
		room_tally_add(&t, snapshots[k].data + sizeof(struct snapshot),
			       snapshots[k].len - sizeof(struct snapshot));
	rooms = t.n;
	room_tally_fini(&t);
	return rooms;
}

void metrics_render(struct sg_buf *out, const struct sg_buf *snapshots, size_t n)
{
	const char *prev = "";
	uint64_t sum;
	size_t k;

	for (size_t i = 0; i < SG_ARRAY_LEN(counters); i++) {
		sum = 0;
		for (k = 0; k < n; k++)
			sum += *(const uint64_t *)((const char *)&snap(&snapshots[k])->stats +
						   counters[i].offset);
		if (strcmp(prev, counters[i].name) != 0)
			head(out, counters[i].name, "counter", counters[i].help);
		prev = counters[i].name;
		if (counters[i].labels[0])
			sg_buf_printf(out, "%s{%s} %llu\n", counters[i].name, counters[i].labels,
				      (unsigned long long)sum);
		else
			sg_buf_printf(out, "%s %llu\n", counters[i].name, (unsigned long long)sum);
	}

	render_auth_failures(out, snapshots, n);
	head(out, "siogate_closes_total", "counter", "Connections and sockets ended, by reason");
	for (int r = 0; r < SG_CLOSE__COUNT; r++) {
		sum = 0;
		for (k = 0; k < n; k++)
			sum += snap(&snapshots[k])->stats.closes[r];
		sg_buf_printf(out, "siogate_closes_total{reason=\"%s\"} %llu\n",
			      sg_close_text((enum sg_close)r), (unsigned long long)sum);
	}

	head(out, "siogate_clients", "gauge", "Socket.IO sockets, by helper state");
	for (int st = AUTHFLOW_UNAUTHORIZED; st <= AUTHFLOW_AUTHENTICATED; st++) {
		sum = 0;
		for (k = 0; k < n; k++)
			sum += snap(&snapshots[k])->stats.sockets_by_state[st];
		sg_buf_printf(out, "siogate_clients{state=\"%s\"} %llu\n",
			      authflow_state_name((enum authflow_state)st), (unsigned long long)sum);
	}
	render_gauges(out, snapshots, n);
	render_callouts(out, snapshots, n);
	render_hists(out, snapshots, n);
	render_bridge(out, snapshots, n);
	render_process(out);
	render_build(out);
}

static void render_auth_failures(struct sg_buf *out, const struct sg_buf *snapshots, size_t n)
{
	head(out, "siogate_auth_failures_total", "counter",
	     "Authentications refused or failed, by reason");
	for (int r = 0; r < AUTH_FAIL__COUNT; r++) {
		uint64_t sum = 0;
		for (size_t k = 0; k < n; k++)
			sum += snap(&snapshots[k])->stats.auth_failures[r];
		sg_buf_printf(out, "siogate_auth_failures_total{reason=\"%s\"} %llu\n",
			      auth_fail_name((enum auth_fail)r), (unsigned long long)sum);
	}
}

/* events.forward by target and rooms.http: outcomes, then latency. */
static void render_callouts(struct sg_buf *out, const struct sg_buf *snapshots, size_t n)
{
	char labels[64];
	struct sg_hist h;

	head(out, "siogate_events_forward_total", "counter",
	     "Client events sent by events.forward, by target and outcome");
	for (int t = 0; t < FORWARD__COUNT; t++)
		for (int o = 0; o < CALLOUT__COUNT; o++) {
			uint64_t sum = 0;
			for (size_t k = 0; k < n; k++)
				sum += snap(&snapshots[k])->stats.forward[t].outcomes[o];
			sg_buf_printf(out,
				      "siogate_events_forward_total{target=\"%s\",outcome=\"%s\"} %llu\n",
				      forward_target_name((enum forward_target)t),
				      callout_outcome_name((enum callout_outcome)o),
				      (unsigned long long)sum);
		}
	head(out, "siogate_events_forward_seconds", "histogram",
	     "Time from sending a forwarded event to its target's answer or timeout, by target");
	for (int t = 0; t < FORWARD__COUNT; t++) {
		h = hist_sum(snapshots, n,
			     offsetof(struct worker_stats, forward) +
				     (size_t)t * sizeof(struct callout_stats) +
				     offsetof(struct callout_stats, seconds));
		snprintf(labels, sizeof(labels), "target=\"%s\"",
			 forward_target_name((enum forward_target)t));
		hist_series(out, "siogate_events_forward_seconds", labels, &h);
	}
	head(out, "siogate_rooms_http_total", "counter", "Calls to the rooms.http validator, by outcome");
	for (int o = 0; o < CALLOUT__COUNT; o++) {
		uint64_t sum = 0;
		for (size_t k = 0; k < n; k++)
			sum += snap(&snapshots[k])->stats.rooms_http.outcomes[o];
		sg_buf_printf(out, "siogate_rooms_http_total{outcome=\"%s\"} %llu\n",
			      callout_outcome_name((enum callout_outcome)o), (unsigned long long)sum);
	}
	head(out, "siogate_rooms_http_seconds", "histogram",
	     "Time from calling the rooms.http validator to its answer or timeout");
	h = hist_sum(snapshots, n,
		     offsetof(struct worker_stats, rooms_http) + offsetof(struct callout_stats, seconds));
	hist_series(out, "siogate_rooms_http_seconds", "", &h);
}

static void render_hists(struct sg_buf *out, const struct sg_buf *snapshots, size_t n)
{
	char labels[32];
	struct sg_hist h;

	head(out, "siogate_verifier_seconds", "histogram", "Time the verifier took to decide");
	h = hist_sum(snapshots, n, offsetof(struct worker_stats, verify));
	hist_series(out, "siogate_verifier_seconds", "", &h);
	head(out, "siogate_broadcast_fanout_seconds", "histogram",
	     "Time to queue a broadcast's frames for every local recipient");
	h = hist_sum(snapshots, n, offsetof(struct worker_stats, fanout));
	hist_series(out, "siogate_broadcast_fanout_seconds", "", &h);
	/* per worker: one busy worker is the point, a sum would hide it */
	head(out, "siogate_event_loop_lag_seconds", "histogram",
	     "How late a worker's 250 ms timer fires: time its event loop was busy, by worker thread");
	for (size_t k = 0; k < n; k++) {
		snprintf(labels, sizeof(labels), "worker=\"%zu\"", k);
		hist_series(out, "siogate_event_loop_lag_seconds", labels,
			    &snap(&snapshots[k])->stats.loop_lag);
	}
}

static void render_gauges(struct sg_buf *out, const struct sg_buf *snapshots, size_t n)
{
	uint64_t conns = 0, polling = 0, websocket = 0;
	bool ready;

	for (size_t k = 0; k < n; k++) {
		conns += snap(&snapshots[k])->conns;
		polling += snap(&snapshots[k])->polling;
		websocket += snap(&snapshots[k])->websocket;
	}
	head(out, "siogate_open_connections", "gauge", "Open TCP connections (admin.listen excluded)");
	sg_buf_printf(out, "siogate_open_connections %llu\n", (unsigned long long)conns);
	head(out, "siogate_worker_connections", "gauge", "Open TCP connections, by worker thread");
	for (size_t k = 0; k < n; k++)
		sg_buf_printf(out, "siogate_worker_connections{worker=\"%zu\"} %llu\n", k,
			      (unsigned long long)snap(&snapshots[k])->conns);
	head(out, "siogate_sessions", "gauge", "Engine.IO sessions, by transport");
	sg_buf_printf(out, "siogate_sessions{transport=\"polling\"} %llu\n",
		      (unsigned long long)polling);
	sg_buf_printf(out, "siogate_sessions{transport=\"websocket\"} %llu\n",
		      (unsigned long long)websocket);
	head(out, "siogate_rooms", "gauge", "Rooms with members (socket id rooms excluded)");
	sg_buf_printf(out, "siogate_rooms %llu\n", (unsigned long long)count_rooms(snapshots, n));
	ready = true;
	for (size_t k = 0; k < n; k++)
		ready = ready && snap(&snapshots[k])->ready;
	head(out, "siogate_ready", "gauge", "1 when /readyz answers 200 (every worker ready), else 0");
	sg_buf_printf(out, "siogate_ready %d\n", ready);
}

/* Each worker has its own Redis links: a link is up when every worker's
 * is, counters add up, and the membership is the same from every worker. */
static void render_bridge(struct sg_buf *out, const struct sg_buf *snapshots, size_t n)
{
	struct bridge_stats t;

	if (!snap(&snapshots[0])->has_bridge)
		return;
	t = snap(&snapshots[0])->bridge;
	for (size_t k = 1; k < n; k++) {
		const struct bridge_stats *b = &snap(&snapshots[k])->bridge;
		t.received += b->received;
		t.bad_messages += b->bad_messages;
		t.published += b->published;
		t.publish_dropped += b->publish_dropped;
		for (int d = 0; d < BRIDGE_DROP__COUNT; d++)
			t.dropped[d] += b->dropped[d];
		t.pending_bytes += b->pending_bytes;
		t.gap_ms += b->gap_ms;
		t.gaps += b->gaps;
		t.reconnects += b->reconnects;
		t.json_relayed += b->json_relayed;
		t.relay = t.relay || b->relay;
		t.subscriber_up = t.subscriber_up && b->subscriber_up;
		t.publisher_up = t.publisher_up && b->publisher_up;
	}
	head(out, "siogate_redis_up", "gauge", "Redis links up (1) or down (0)");
	sg_buf_printf(out, "siogate_redis_up{link=\"subscriber\"} %d\n", t.subscriber_up);
	sg_buf_printf(out, "siogate_redis_up{link=\"publisher\"} %d\n", t.publisher_up);
	head(out, "siogate_redis_reconnects_total", "counter", "Redis connections lost");
	sg_buf_printf(out, "siogate_redis_reconnects_total %llu\n", (unsigned long long)t.reconnects);
	head(out, "siogate_redis_messages_total", "counter", "Messages received from Redis, by outcome");
	sg_buf_printf(out, "siogate_redis_messages_total{outcome=\"received\"} %llu\n",
		      (unsigned long long)t.received);
	sg_buf_printf(out, "siogate_redis_messages_total{outcome=\"bad\"} %llu\n",
		      (unsigned long long)t.bad_messages);
	head(out, "siogate_redis_publishes_total", "counter", "Publishes to Redis, by outcome");
	sg_buf_printf(out, "siogate_redis_publishes_total{outcome=\"sent\"} %llu\n",
		      (unsigned long long)t.published);
	sg_buf_printf(out, "siogate_redis_publishes_total{outcome=\"dropped\"} %llu\n",
		      (unsigned long long)t.publish_dropped);
	head(out, "siogate_redis_dropped_total", "counter",
	     "Publishes and stream additions dropped, by reason: link down, over redis.max_pending, "
	     "failed after sending");
	for (int d = 0; d < BRIDGE_DROP__COUNT; d++)
		sg_buf_printf(out, "siogate_redis_dropped_total{reason=\"%s\"} %llu\n",
			      bridge_drop_name((enum bridge_drop)d), (unsigned long long)t.dropped[d]);
	head(out, "siogate_redis_pending_bytes", "gauge",
	     "Bytes of commands waiting for Redis's reply, all links (bounded by redis.max_pending each)");
	sg_buf_printf(out, "siogate_redis_pending_bytes %llu\n", (unsigned long long)t.pending_bytes);
	head(out, "siogate_redis_gap_seconds_total", "counter",
	     "Seconds during which some worker's Redis subscriptions were down after the first "
	     "subscription (messages published then may be lost to its clients)");
	sg_buf_printf(out, "siogate_redis_gap_seconds_total %.3f\n", (double)t.gap_ms / 1000.0);
	head(out, "siogate_redis_gaps_total", "counter",
	     "Subscription gaps that closed (each announced once by a redis_gap lifecycle event)");
	sg_buf_printf(out, "siogate_redis_gaps_total %llu\n", (unsigned long long)t.gaps);
	head(out, "siogate_cluster_members", "gauge",
	     "Live siogate adapter members (one per worker) on this Redis and JSON channel, by state");
	sg_buf_printf(out, "siogate_cluster_members{state=\"ready\"} %zu\n", t.members_ready);
	sg_buf_printf(out, "siogate_cluster_members{state=\"settling\"} %zu\n", t.members_settling);
	head(out, "siogate_json_relay", "gauge",
	     "1 when this instance re-publishes JSON-channel messages for Node peers");
	sg_buf_printf(out, "siogate_json_relay %d\n", t.relay);
	head(out, "siogate_json_relayed_total", "counter",
	     "JSON-channel messages re-published in the adapter format");
	sg_buf_printf(out, "siogate_json_relayed_total %llu\n", (unsigned long long)t.json_relayed);
}

/* Entries of /proc/self/fd (the directory's own fd excluded); 0 when it
 * cannot be read.  Linear in the open files: a few ms at 100k clients, once
 * per scrape. */
static uint64_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;
}

/* Start of the process in seconds since the epoch, as the Prometheus
 * clients compute it: /proc/self/stat's starttime (clock ticks after boot)
 * plus /proc/stat's btime. */
static bool process_start_time(double *out)
{
	char buf[1024], line[256];
	unsigned long long start_ticks = 0, btime = 0;
	const char *p;
	size_t len;
	FILE *f;
	int field;

	if ((f = fopen("/proc/self/stat", "r")) == NULL)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* the command name (field 2) may hold spaces: count from its ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return false;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || sscanf(p, "%llu", &start_ticks) != 1)
		return false;
	if ((f = fopen("/proc/stat", "r")) == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	if (btime == 0)
		return false;
	*out = (double)btime + (double)start_ticks / (double)sysconf(_SC_CLK_TCK);
	return true;
}

/* siogate's version and the libraries it runs with, as a constant 1. */
static void render_build(struct sg_buf *out)
{
	head(out, "siogate_build_info", "gauge",
	     "1, labelled with the version of siogate and of the libraries it runs with");
	sg_buf_printf(out,
		      "siogate_build_info{version=\"%s\",libevent=\"%s\",openssl=\"%s\","
		      "hiredis=\"%d.%d.%d\",jansson=\"%s\"} 1\n",
		      SG_VERSION, event_get_version(), OpenSSL_version(OPENSSL_VERSION_STRING),
		      HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH, JANSSON_VERSION);
}

/* The process metrics Prometheus client libraries export under these names:
 * resident memory (from /proc/self/statm), CPU time (getrusage), open and
 * maximum file descriptors (/proc/self/fd, RLIMIT_NOFILE) and start time. */
static void render_process(struct sg_buf *out)
{
	struct rlimit rl;
	double started;
	struct rusage ru;
	unsigned long long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%llu %llu", &size, &resident) == 2) {
			head(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes");
			sg_buf_printf(out, "process_resident_memory_bytes %llu\n",
				      resident * (unsigned long long)sysconf(_SC_PAGESIZE));
		}
		fclose(f);
	}
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		head(out, "process_cpu_seconds_total", "counter", "User and system CPU time in seconds");
		sg_buf_printf(out, "process_cpu_seconds_total %.3f\n",
			      (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	head(out, "process_open_fds", "gauge", "Number of open file descriptors");
	sg_buf_printf(out, "process_open_fds %llu\n", (unsigned long long)open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		head(out, "process_max_fds", "gauge", "Maximum number of open file descriptors");
		sg_buf_printf(out, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	if (process_start_time(&started)) {
		head(out, "process_start_time_seconds", "gauge",
		     "Start time of the process since unix epoch in seconds");
		sg_buf_printf(out, "process_start_time_seconds %.2f\n", started);
	}
}
