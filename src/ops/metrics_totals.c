/*
 * metrics_totals.c: a worker's part of /metrics and the values computed
 * from the parts (see metrics_totals.h).
 */
#include "ops/metrics_totals.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/clock.h"
#include "eio/eio.h"
#include "ops/metrics.h"
#include "ops/ready.h"
#include "sio/room_tally.h"
#include "sio/rooms.h"
#include "sio/sio.h"

static struct metric_value integer(uint64_t u);
static struct metric_value real(double d, uint8_t decimals);
static uint64_t count_rooms(const struct sg_buf *parts, size_t n);
static void bridge_totals(struct metrics_totals *t, const struct sg_buf *parts, size_t n);
static void process_totals(struct metrics_totals *t);
static uint64_t open_fds(void);
static bool process_start_time(double *out);

static struct metric_value integer(uint64_t u)
{
	return (struct metric_value){ .present = true, .u = u };
}

static struct metric_value real(double d, uint8_t decimals)
{
	return (struct metric_value){ .present = true, .decimals = decimals, .d = d };
}

const struct metrics_part *metrics_part_of(const struct sg_buf *parts, size_t k)
{
	return (const struct metrics_part *)parts[k].data;
}

void metrics_snapshot(struct worker *w, struct sg_buf *out)
{
	struct metrics_part p;

	memset(&p, 0, sizeof(p));
	p.stats = w->stats;
	p.conns = w->n_conns - w->n_admin_conns; /* the admin listener's are not clients */
	p.ready = ready_reason(w) == NULL;
	for (struct eio_session *s = w->sessions; s; s = s->next) {
		if (s->transport == EIO_POLLING)
			p.polling++;
		else
			p.websocket++;
	}
	for (size_t j = 0; j < w->n_nsps; j++)
		p.rooms += w->nsps[j]->rooms.by_name.len;
	p.has_bridge = w->bridge != NULL;
	if (w->bridge != NULL)
		bridge_get_stats(w->bridge, &p.bridge);
	if (jwt_verifier_remote(w->jwt) != NULL) {
		p.has_jwks = true;
		jwt_remote_get_stats(jwt_verifier_remote(w->jwt), &p.jwks);
	}
	sg_buf_append(out, &p, sizeof(p));
	if (w->n_workers > 1)
		room_tally_write(w, out);
}

/* Rooms with members somewhere in the process: a room on two workers is
 * one room. */
static uint64_t count_rooms(const struct sg_buf *parts, size_t n)
{
	struct room_tally t;
	uint64_t rooms;

	if (n == 1)
		return metrics_part_of(parts, 0)->rooms;
	room_tally_init(&t);
	for (size_t k = 0; k < n; k++)
		room_tally_add(&t, parts[k].data + sizeof(struct metrics_part),
			       parts[k].len - sizeof(struct metrics_part));
	rooms = t.n;
	room_tally_fini(&t);
	return rooms;
}

void metrics_totals_compute(struct metrics_totals *t, const struct sg_buf *parts, size_t n)
{
	uint64_t conns = 0, polling = 0, websocket = 0;
	bool ready = true;

	memset(t, 0, sizeof(*t));
	for (size_t k = 0; k < n; k++) {
		const struct metrics_part *p = metrics_part_of(parts, k);
		conns += p->conns;
		polling += p->polling;
		websocket += p->websocket;
		ready = ready && p->ready;
	}
	t->open_connections = integer(conns);
	t->sessions_polling = integer(polling);
	t->sessions_websocket = integer(websocket);
	t->rooms = integer(count_rooms(parts, n));
	t->ready = integer(ready);
	if (metrics_part_of(parts, 0)->has_bridge)
		bridge_totals(t, parts, n);
	if (metrics_part_of(parts, 0)->has_jwks) {
		const struct jwt_remote_stats *j = &metrics_part_of(parts, 0)->jwks;
		t->jwks_keys = integer(j->keys);
		t->jwks_fetch_ok = integer(j->fetch_ok);
		t->jwks_fetch_error = integer(j->fetch_error);
		if (j->fetched_at_ms > 0)
			t->jwks_age = real((double)(sg_now_ms() - j->fetched_at_ms) / 1000.0, 3);
	}
	process_totals(t);
	t->build_info[0] = integer(1);
}

/* Each worker has its own Redis links: a link is up when every worker's
 * is, counters add up, and the membership is the same from every worker
 * (worker 0's is taken). */
static void bridge_totals(struct metrics_totals *t, const struct sg_buf *parts, size_t n)
{
	struct bridge_stats b = metrics_part_of(parts, 0)->bridge;

	for (size_t k = 1; k < n; k++) {
		const struct bridge_stats *o = &metrics_part_of(parts, k)->bridge;
		b.received += o->received;
		b.bad_messages += o->bad_messages;
		b.published += o->published;
		b.publish_dropped += o->publish_dropped;
		for (int d = 0; d < BRIDGE_DROP__COUNT; d++)
			b.dropped[d] += o->dropped[d];
		b.pending_bytes += o->pending_bytes;
		b.gap_ms += o->gap_ms;
		b.gaps += o->gaps;
		b.reconnects += o->reconnects;
		b.json_relayed += o->json_relayed;
		b.ingest_delivered += o->ingest_delivered;
		b.ingest_duplicates += o->ingest_duplicates;
		b.ingest_malformed += o->ingest_malformed;
		b.relay = b.relay || o->relay;
		b.subscriber_up = b.subscriber_up && o->subscriber_up;
		b.publisher_up = b.publisher_up && o->publisher_up;
	}
	t->redis_subscriber_up = integer(b.subscriber_up);
	t->redis_publisher_up = integer(b.publisher_up);
	t->redis_reconnects = integer(b.reconnects);
	t->redis_received = integer(b.received);
	t->redis_bad_messages = integer(b.bad_messages);
	t->redis_published = integer(b.published);
	t->redis_publish_dropped = integer(b.publish_dropped);
	for (int d = 0; d < BRIDGE_DROP__COUNT; d++)
		t->redis_dropped[d] = integer(b.dropped[d]);
	t->redis_pending_bytes = integer(b.pending_bytes);
	t->redis_gap_seconds = real((double)b.gap_ms / 1000.0, 3);
	t->redis_gaps = integer(b.gaps);
	t->cluster_members_ready = integer(b.members_ready);
	t->cluster_members_settling = integer(b.members_settling);
	t->json_relay = integer(b.relay);
	t->json_relayed = integer(b.json_relayed);
	t->ingest_delivered = integer(b.ingest_delivered);
	t->ingest_duplicates = integer(b.ingest_duplicates);
	t->ingest_malformed = integer(b.ingest_malformed);
}

/* What the Prometheus client libraries export: resident memory (from
 * /proc/self/statm), CPU time (getrusage), open and maximum file
 * descriptors (/proc/self/fd, RLIMIT_NOFILE) and start time; each left
 * absent when it cannot be read. */
static void process_totals(struct metrics_totals *t)
{
	unsigned long long size, resident;
	struct rlimit rl;
	struct rusage ru;
	double started;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%llu %llu", &size, &resident) == 2)
			t->process_resident_memory =
				integer(resident * (unsigned long long)sysconf(_SC_PAGESIZE));
		fclose(f);
	}
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
		t->process_cpu_seconds = real(cpu, 3);
	}
	t->process_open_fds = integer(open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		t->process_max_fds = integer(rl.rlim_cur);
	if (process_start_time(&started))
		t->process_start_time = real(started, 2);
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
