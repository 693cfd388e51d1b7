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

static void head(struct sg_buf *out, const char *name, const char *type, const char *help);
static void render_process(struct sg_buf *out);
static void render_hist(struct sg_buf *out, struct worker *const *workers, size_t n,
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
static void render_hist(struct sg_buf *out, struct worker *const *workers, size_t n,
			const char *name, const char *help, size_t which)
{
	uint64_t cum = 0;
	double sum = 0;
	size_t k;

	head(out, name, "histogram", help);
	for (size_t b = 0; b <= SG_ARRAY_LEN(verify_buckets); b++) {
		for (k = 0; k < n; k++)
			cum += ((const struct sg_hist *)((const char *)&workers[k]->stats + which))->buckets[b];
		if (b < SG_ARRAY_LEN(verify_buckets))
			sg_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, verify_buckets[b],
				      (unsigned long long)cum);
		else
			sg_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	}
	for (k = 0; k < n; k++)
		sum += ((const struct sg_hist *)((const char *)&workers[k]->stats + which))->sum_s;
	sg_buf_printf(out, "%s_sum %.9f\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
}

static void head(struct sg_buf *out, const char *name, const char *type, const char *help)
{
	sg_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_render(struct sg_buf *out, struct worker *const *workers, size_t n,
		    const struct bridge_stats *bridge)
{
	const char *prev = "";
	uint64_t sum;
	size_t k;

	for (size_t i = 0; i < SG_ARRAY_LEN(counters); i++) {
		sum = 0;
		for (k = 0; k < n; k++)
			sum += *(const uint64_t *)((const char *)&workers[k]->stats +
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
			sum += workers[k]->stats.closes[r];
		sg_buf_printf(out, "siogate_closes_total{reason=\"%s\"} %llu\n",
			      sg_close_text((enum sg_close)r), (unsigned long long)sum);
	}

	head(out, "siogate_clients", "gauge", "Socket.IO sockets, by helper state");
	for (int st = SESSION_UNAUTHORIZED; st <= SESSION_AUTHENTICATED; st++) {
		sum = 0;
		for (k = 0; k < n; k++)
			sum += workers[k]->stats.sockets_by_state[st];
		sg_buf_printf(out, "siogate_clients{state=\"%s\"} %llu\n",
			      session_state_name((enum session_state)st), (unsigned long long)sum);
	}
	{
		uint64_t conns = 0, polling = 0, websocket = 0, rooms = 0;
		for (k = 0; k < n; k++) {
			conns += workers[k]->n_conns;
			for (struct eio_session *s = workers[k]->sessions; s; s = s->next) {
				if (s->transport == EIO_POLLING)
					polling++;
				else
					websocket++;
			}
			for (size_t j = 0; j < workers[k]->n_nsps; j++)
				rooms += workers[k]->nsps[j]->rooms.by_name.len;
		}
		head(out, "siogate_open_connections", "gauge", "Open TCP connections");
		sg_buf_printf(out, "siogate_open_connections %llu\n", (unsigned long long)conns);
		head(out, "siogate_sessions", "gauge", "Engine.IO sessions, by transport");
		sg_buf_printf(out, "siogate_sessions{transport=\"polling\"} %llu\n",
			      (unsigned long long)polling);
		sg_buf_printf(out, "siogate_sessions{transport=\"websocket\"} %llu\n",
			      (unsigned long long)websocket);
		head(out, "siogate_rooms", "gauge", "Rooms with members (socket id rooms excluded)");
		sg_buf_printf(out, "siogate_rooms %llu\n", (unsigned long long)rooms);
	}

	render_process(out);
	render_hist(out, workers, n, "siogate_verifier_seconds", "Time the verifier took to decide",
		    offsetof(struct worker_stats, verify));
	render_hist(out, workers, n, "siogate_broadcast_fanout_seconds",
		    "Time to queue a broadcast's frames for every local recipient",
		    offsetof(struct worker_stats, fanout));

	if (bridge != NULL) {
		head(out, "siogate_redis_up", "gauge", "Redis links up (1) or down (0)");
		sg_buf_printf(out, "siogate_redis_up{link=\"subscriber\"} %d\n", bridge->subscriber_up);
		sg_buf_printf(out, "siogate_redis_up{link=\"publisher\"} %d\n", bridge->publisher_up);
		head(out, "siogate_redis_reconnects_total", "counter", "Redis connections lost");
		sg_buf_printf(out, "siogate_redis_reconnects_total %llu\n",
			      (unsigned long long)bridge->reconnects);
		head(out, "siogate_redis_messages_total", "counter",
		     "Messages received from Redis, by outcome");
		sg_buf_printf(out, "siogate_redis_messages_total{outcome=\"received\"} %llu\n",
			      (unsigned long long)bridge->received);
		sg_buf_printf(out, "siogate_redis_messages_total{outcome=\"bad\"} %llu\n",
			      (unsigned long long)bridge->bad_messages);
		head(out, "siogate_redis_publishes_total", "counter", "Publishes to Redis, by outcome");
		sg_buf_printf(out, "siogate_redis_publishes_total{outcome=\"sent\"} %llu\n",
			      (unsigned long long)bridge->published);
		sg_buf_printf(out, "siogate_redis_publishes_total{outcome=\"dropped\"} %llu\n",
			      (unsigned long long)bridge->publish_dropped);
		head(out, "siogate_cluster_members", "gauge",
		     "Live siogate instances on this Redis and JSON channel, by state");
		sg_buf_printf(out, "siogate_cluster_members{state=\"ready\"} %zu\n",
			      bridge->members_ready);
		sg_buf_printf(out, "siogate_cluster_members{state=\"settling\"} %zu\n",
			      bridge->members_settling);
		head(out, "siogate_json_relay", "gauge",
		     "1 when this instance re-publishes JSON-channel messages for Node peers");
		sg_buf_printf(out, "siogate_json_relay %d\n", bridge->relay);
		head(out, "siogate_json_relayed_total", "counter",
		     "JSON-channel messages re-published in the adapter format");
		sg_buf_printf(out, "siogate_json_relayed_total %llu\n",
			      (unsigned long long)bridge->json_relayed);
	}
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
