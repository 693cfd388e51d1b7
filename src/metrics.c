/*
 * metrics.c: Prometheus rendering (see metrics.h).  Metrics sharing a name
 * in metrics.def are adjacent there, so HELP and TYPE are written once per
 * name by comparing with the previous entry.
 */
#include "metrics.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bridge.h"
#include "close.h"
#include "eio.h"
#include "room_tally.h"
#include "rooms.h"
#include "session.h"
#include "sio.h"
#include "worker.h"

static const double verify_buckets[] = {
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,
};

static const struct {
	const char *name;
	const char *labels;
	const char *help;
	size_t offset;
} counters[] = {
#define COUNTER(field, name, labels, help) \
	{ name, labels, help, offsetof(struct worker_stats, field) },
#include "metrics.def"
#undef COUNTER
};

/* What a worker reports (metrics_snapshot), followed by its rooms
 * (room_tally_write) when it has siblings. */
struct snapshot {
	struct worker_stats stats;
	uint64_t conns, polling, websocket, rooms;
	bool has_bridge;
	struct bridge_stats bridge;
};

static void head(struct sg_buf *out, const char *name, const char *type, const char *help);
static const struct snapshot *snap(const struct sg_buf *b);
static uint64_t count_rooms(const struct sg_buf *snapshots, size_t n);
static void render_gauges(struct sg_buf *out, const struct sg_buf *snapshots, size_t n);
static void render_bridge(struct sg_buf *out, const struct sg_buf *snapshots, size_t n);
static void render_process(struct sg_buf *out);
static void render_hist(struct sg_buf *out, const struct sg_buf *snapshots, size_t n,
			const char *name, const char *help, size_t which);

void metrics_observe(struct sg_hist *h, double seconds)
{
	size_t i;

	for (i = 0; i < SG_ARRAY_LEN(verify_buckets); i++)
		if (seconds <= verify_buckets[i])
			break;
	h->buckets[i]++;
	h->count++;
	h->sum_s += seconds;
}

/* One histogram over every worker; `which` picks it from worker_stats. */
static void render_hist(struct sg_buf *out, const struct sg_buf *snapshots, size_t n,
			const char *name, const char *help, size_t which)
{
	uint64_t cum = 0;
	double sum = 0;
	size_t k;

	head(out, name, "histogram", help);
	for (size_t b = 0; b <= SG_ARRAY_LEN(verify_buckets); b++) {
		for (k = 0; k < n; k++)
			cum += ((const struct sg_hist *)((const char *)&snap(&snapshots[k])->stats +
							 which))->buckets[b];
		if (b < SG_ARRAY_LEN(verify_buckets))
			sg_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, verify_buckets[b],
				      (unsigned long long)cum);
		else
			sg_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	}
	for (k = 0; k < n; k++)
		sum += ((const struct sg_hist *)((const char *)&snap(&snapshots[k])->stats + which))
			       ->sum_s;
	sg_buf_printf(out, "%s_sum %.9f\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
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
	sn.conns = w->n_conns;
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

	head(out, "siogate_closes_total", "counter", "Connections and sockets ended, by reason");
	for (int r = 0; r < SG_CLOSE__COUNT; r++) {
		sum = 0;
		for (k = 0; k < n; k++)
			sum += snap(&snapshots[k])->stats.closes[r];
		sg_buf_printf(out, "siogate_closes_total{reason=\"%s\"} %llu\n",
			      sg_close_text((enum sg_close)r), (unsigned long long)sum);
	}

	head(out, "siogate_clients", "gauge", "Socket.IO sockets, by helper state");
	for (int st = SESSION_UNAUTHORIZED; st <= SESSION_AUTHENTICATED; st++) {
		sum = 0;
		for (k = 0; k < n; k++)
			sum += snap(&snapshots[k])->stats.sockets_by_state[st];
		sg_buf_printf(out, "siogate_clients{state=\"%s\"} %llu\n",
			      session_state_name((enum session_state)st), (unsigned long long)sum);
	}
	render_gauges(out, snapshots, n);
	render_process(out);
	render_hist(out, snapshots, n, "siogate_verifier_seconds", "Time the verifier took to decide",
		    offsetof(struct worker_stats, verify));
	render_hist(out, snapshots, n, "siogate_broadcast_fanout_seconds",
		    "Time to queue a broadcast's frames for every local recipient",
		    offsetof(struct worker_stats, fanout));
	render_bridge(out, snapshots, n);
}

static void render_gauges(struct sg_buf *out, const struct sg_buf *snapshots, size_t n)
{
	uint64_t conns = 0, polling = 0, websocket = 0;

	for (size_t k = 0; k < n; k++) {
		conns += snap(&snapshots[k])->conns;
		polling += snap(&snapshots[k])->polling;
		websocket += snap(&snapshots[k])->websocket;
	}
	head(out, "siogate_open_connections", "gauge", "Open TCP connections");
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

/* The process metrics Prometheus client libraries export under these names:
 * resident memory (from /proc/self/statm) and CPU time (getrusage). */
static void render_process(struct sg_buf *out)
{
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
}
