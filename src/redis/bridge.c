/*
 * bridge.c: siogate's Redis side (see bridge.h): a subscriber link and a
 * publisher link (redis_link.c keeps each up).  Invariants: `subscribed`
 * is true only while every subscription of the current subscriber
 * connection is confirmed; a publish is either sent (and counted when its
 * reply comes) or dropped and counted at once, never buffered past
 * redis.max_pending bytes waiting for Redis (redis_link_command charges
 * them).  `gap_noted` is true from the moment this worker's subscriber is
 * known to have stopped delivering until its subscriptions are confirmed
 * again, and worker 0's `gap` heard of both ends.  Messages are decoded
 * into a stack-owned struct and delivered before the callback returns.
 */
#include "redis/bridge.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/inbox.h"
#include "core/log.h"
#include "core/worker.h"
#include "proto/adapter_codec.h"
#include "proto/chan_op.h"
#include "proto/emit_msg.h"
#include "proto/members.h"
#include "proto/sio_packet.h"
#include "redis/bridge_gap.h"
#include "redis/ingest.h"
#include "redis/redis_link.h"

/* The most attachments a relayed broadcast may carry (socket.io-parser's). */
#define BRIDGE_MAX_ATTACHMENTS 10
/* The canary: a message the bridge publishes to itself; a subscriber that
 * stops delivering it for BRIDGE_CANARY_STALL_MS is stalled, and reset. */
#define BRIDGE_CANARY_MS 2000
#define BRIDGE_CANARY_STALL_MS 6000
/* A closed gap is announced this long after the last worker subscribed
 * again: backends that lost the same Redis get time to subscribe again to
 * the lifecycle channel first. */
#define BRIDGE_GAP_ANNOUNCE_DELAY_MS 1000
/* The uid a relayed JSON message carries in the adapter format: Node peers
 * deliver it (it is not theirs), siogate instances drop it (they deliver the
 * JSON message itself). */
#define BRIDGE_RELAY_UID_PREFIX "siogate-relay:"

struct bridge {
	struct worker *w;
	const struct bridge_ops *ops; /* the layers above (borrowed) */
	struct redis_link *sub;	      /* SUBSCRIBE/PSUBSCRIBE */
	struct redis_link *pub;	      /* PUBLISH and other commands */
	struct ingest *ingest;	      /* redis.ingest_stream's reader, or NULL */
	size_t pending_subs;	      /* subscription confirmations still expected */
	bool subscribed;
	bool ever_subscribed; /* subscribed once: a loss from now on is a gap */
	bool gap_noted;	      /* worker 0 heard this subscriber is down */
	bool full;	      /* the last publish was dropped over redis.max_pending */
	bool stopping;
	struct bridge_gap *gap;	 /* worker 0: the process's gaps (owned); else NULL */
	struct event *gap_retry; /* worker 0: announces a closed gap, later */
	int64_t gap_announce_ms; /* worker 0: not before this (monotonic ms) */
	struct event *canary;
	int64_t canary_pending_ms; /* when the oldest unanswered canary left (0: none) */
	struct members *members;   /* the siogate instances; who relays JSON messages */
	struct event *heartbeat;
	char *members_channel;
	char *canary_channel;	 /* a response channel only this worker subscribes to */
	bool primary;		 /* worker 0: the request, response and members channels */
	bool relay;		 /* this instance relayed at the last JSON message */
	struct log_limit bad_op; /* worker 0: malformed JSON-channel operations */
	struct bridge_stats stats;
	char uid[BRIDGE_UID_MAX];
	char relay_uid[sizeof(BRIDGE_RELAY_UID_PREFIX) + BRIDGE_UID_MAX];
};

static void sub_ready(struct redis_link *l, void *arg);
static void sub_lost(struct redis_link *l, void *arg);
static void on_message(struct redis_link *l, const redisReply *reply, void *arg);
static void on_published(struct redis_link *l, redisReply *reply, void *arg);
static void subscribe_all(struct bridge *b);
static void on_canary(evutil_socket_t fd, short what, void *arg);
static void on_heartbeat(evutil_socket_t fd, short what, void *arg);
static void on_members_message(struct bridge *b, const redisReply *payload);
static void relay_json_message(struct bridge *b, const struct emit_msg *m);
static void on_json_message(struct bridge *b, const redisReply *channel, const redisReply *payload);
static void on_ingest_message(void *arg, const char *msg, size_t len);
static const char *request_nsp(const struct bridge *b, const redisReply *ch, size_t *len);
static bool channel_nsp_served(struct bridge *b, const redisReply *ch);
static void pub_ready(struct redis_link *l, void *arg);
static int send_command(struct bridge *b, redis_link_cb *cb, void *arg, int argc, const char **argv,
			const size_t *argvlen, enum bridge_drop *why);
static void count_drop(struct bridge *b, enum bridge_drop d);
static int publish_with(struct bridge *b, const char *channel, const void *data, size_t len,
			redis_link_cb *cb, void *arg, enum bridge_drop *why);
static void gap_begin(struct bridge *b, int64_t since_mono_ms);
static void gap_end(struct bridge *b);
static void gap_note(struct bridge *b0, size_t worker, bool up, int64_t wall_ms, int64_t mono_ms);
static void on_gap_job(struct worker *w, struct job *j);
static void gap_announce(struct bridge *b);
static void on_gap_published(struct redis_link *l, redisReply *reply, void *arg);
static void on_gap_retry(evutil_socket_t fd, short what, void *arg);

static const struct redis_link_ops sub_ops = { .on_ready = sub_ready,
					       .on_lost = sub_lost,
					       .on_push = on_message };
static const struct redis_link_ops pub_ops = { .on_ready = pub_ready };

static const char *const drop_names[BRIDGE_DROP__COUNT] = { "down", "pending", "failed" };

const char *bridge_drop_name(enum bridge_drop d)
{
	return (unsigned)d < BRIDGE_DROP__COUNT ? drop_names[d] : "unknown";
}

struct bridge *bridge_new(struct worker *w, const struct bridge_ops *ops, struct sg_err *err)
{
	const struct sg_config *cfg = w->cfg;
	struct redis_url *urls;
	struct redis_link_tls tls = { NULL, cfg->redis.tls.server_name };
	bool any_tls = false;
	struct bridge *b;
	struct sg_buf u;

	if (cfg->redis.url.n == 0) {
		sg_err_set(err, "redis.url is not set");
		return NULL;
	}
	urls = sg_calloc(cfg->redis.url.n, sizeof(*urls));
	for (size_t i = 0; i < cfg->redis.url.n; i++) {
		if (redis_url_parse(cfg->redis.url.v[i], &urls[i], err) != 0) {
			free(urls);
			return NULL;
		}
		any_tls |= urls[i].tls;
	}
	if (any_tls) {
		tls.ctx = redis_link_tls_ctx_new(cfg->redis.tls.ca_file, cfg->redis.tls.cert_file,
						 cfg->redis.tls.key_file, err);
		if (tls.ctx == NULL) {
			free(urls);
			return NULL;
		}
	}
	b = sg_calloc(1, sizeof(*b));
	b->w = w;
	b->ops = ops;
	/* uid2(6) in the adapter: 6 URL-safe characters, one uid for all the
	 * workers of a process (they are one member of the cluster) */
	memcpy(b->uid, w->adapter_uid, sizeof(w->adapter_uid));
	b->primary = w->index == 0;
	b->sub = redis_link_new(w->base, urls, cfg->redis.url.n, cfg->redis.password, &tls,
				"subscriber", &sub_ops, b);
	b->pub = redis_link_new(w->base, urls, cfg->redis.url.n, cfg->redis.password, &tls,
				"publisher", &pub_ops, b);
	if (cfg->redis.ingest_stream != NULL) {
		/* a group per worker of each instance: each delivers every entry */
		char group[300];
		snprintf(group, sizeof(group), "siogate:%s:%u", cfg->server.id, (unsigned)w->index);
		b->ingest = ingest_new(w->base, urls, cfg->redis.url.n, cfg->redis.password, &tls,
				       cfg->redis.ingest_stream, group, "siogate",
				       on_ingest_message, b);
	}
	SSL_CTX_free(tls.ctx); /* the links hold their references */
	free(urls);
	redis_link_set_max_pending(b->sub, cfg->redis.max_pending);
	redis_link_set_max_pending(b->pub, cfg->redis.max_pending);
	if (b->primary) {
		b->gap = bridge_gap_new(w->n_workers);
		b->gap_retry = event_new(w->base, -1, 0, on_gap_retry, b);
	}
	snprintf(b->relay_uid, sizeof(b->relay_uid), "%s%s", BRIDGE_RELAY_UID_PREFIX, b->uid);
	b->members = members_new(b->uid, cfg->server.id);
	sg_buf_init(&u);
	sg_buf_printf(&u, "%s-siogate#%s#", cfg->redis.prefix, cfg->redis.json_channel);
	b->members_channel = sg_buf_steal(&u);
	/* the canary goes to a response channel only this worker holds */
	sg_buf_init(&u);
	if (b->primary)
		sg_buf_printf(&u, "%s-response#%s#%s#", cfg->redis.prefix, cfg->namespaces.v[0],
			      b->uid);
	else
		sg_buf_printf(&u, "%s-response#%s#%s-%u#", cfg->redis.prefix, cfg->namespaces.v[0],
			      b->uid, (unsigned)w->index);
	b->canary_channel = sg_buf_steal(&u);
	b->canary = event_new(w->base, -1, EV_PERSIST, on_canary, b);
	b->heartbeat = event_new(w->base, -1, EV_PERSIST, on_heartbeat, b);
	{
		struct timeval tv = worker_ms_tv(BRIDGE_CANARY_MS);
		struct timeval hb = worker_ms_tv(MEMBERS_HEARTBEAT_MS);
		event_add(b->canary, &tv);
		event_add(b->heartbeat, &hb);
	}
	return b;
}

const char *bridge_uid(const struct bridge *b)
{
	return b->uid;
}

bool bridge_is_subscribed(const struct bridge *b)
{
	return b->subscribed;
}

bool bridge_publisher_up(const struct bridge *b)
{
	return redis_link_ready(b->pub);
}

void bridge_get_stats(const struct bridge *b, struct bridge_stats *out)
{
	int64_t now = sg_mono_ms();

	*out = b->stats;
	out->reconnects = redis_link_losses(b->sub) + redis_link_losses(b->pub);
	out->pending_bytes = redis_link_pending(b->pub) + redis_link_pending(b->sub);
	if (b->gap != NULL) {
		out->gap_ms = bridge_gap_total_ms(b->gap, now);
		out->gaps = bridge_gap_count(b->gap);
	}
	out->subscriber_up = b->subscribed;
	out->publisher_up = redis_link_ready(b->pub);
	out->members_ready = members_count(b->members, now, true);
	out->members_settling = members_count(b->members, now, false);
	out->relay = b->primary && members_is_relay(b->members, now);
	if (b->ingest != NULL) {
		struct ingest_stats is;
		ingest_get_stats(b->ingest, &is);
		out->ingest_delivered = is.delivered;
		out->ingest_duplicates = is.duplicates;
		out->ingest_malformed = is.malformed;
	}
}

static void sub_ready(struct redis_link *l, void *arg)
{
	SG_UNUSED(l);
	subscribe_all(arg);
}

static void sub_lost(struct redis_link *l, void *arg)
{
	struct bridge *b = arg;

	SG_UNUSED(l);
	gap_begin(b, sg_mono_ms());
	b->subscribed = false;
	b->pending_subs = 0;
	b->canary_pending_ms = 0;
	members_lost(b->members);
}

/* Publishes a canary on siogate's own response channel (which only it
 * subscribes to) and resets a subscriber that stopped delivering them: a
 * connection can stay open while nothing flows. */
static void on_canary(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;
	int64_t now = sg_mono_ms();

	SG_UNUSED(fd);
	SG_UNUSED(what);
	if (!b->subscribed || !redis_link_ready(b->pub))
		return;
	if (b->canary_pending_ms != 0 && now - b->canary_pending_ms > BRIDGE_CANARY_STALL_MS) {
		/* nothing it delivered is known since that canary left */
		gap_begin(b, b->canary_pending_ms);
		b->canary_pending_ms = 0;
		b->subscribed = false;
		redis_link_reset(b->sub, "the subscriber stopped delivering (canary lost)");
		return;
	}
	if (bridge_publish(b, b->canary_channel, "{\"canary\":1}", 12) == 0 &&
	    b->canary_pending_ms == 0)
		b->canary_pending_ms = now;
}

/* ---- gaps: while a subscriber is down, what is published is lost to its
 * worker's clients (bridge_gap.h) ---- */

/* A worker's note to worker 0 (posted through its inbox). */
struct gap_job {
	struct job job;
	size_t worker;
	bool up;
	int64_t wall_ms, mono_ms;
};

/* This worker's subscriber stopped delivering at since_mono_ms. */
static void gap_begin(struct bridge *b, int64_t since_mono_ms)
{
	int64_t now = sg_mono_ms();

	if (!b->ever_subscribed || b->gap_noted || b->stopping)
		return;
	b->gap_noted = true;
	gap_note(b, b->w->index, false, sg_now_ms() - (now - since_mono_ms), since_mono_ms);
}

/* This worker's subscriptions are all confirmed again. */
static void gap_end(struct bridge *b)
{
	if (!b->gap_noted || b->stopping)
		return;
	b->gap_noted = false;
	gap_note(b, b->w->index, true, sg_now_ms(), sg_mono_ms());
}

/* Tells worker 0's gap about worker `worker`: directly on worker 0, else
 * through its inbox (the job runs on worker 0's thread, in order). */
static void gap_note(struct bridge *b, size_t worker, bool up, int64_t wall_ms, int64_t mono_ms)
{
	struct gap_job *j;

	if (b->gap != NULL) {
		if (!up) {
			bridge_gap_down(b->gap, worker, wall_ms, mono_ms);
		} else if (bridge_gap_up(b->gap, worker, wall_ms, mono_ms)) {
			struct timeval tv = worker_ms_tv(BRIDGE_GAP_ANNOUNCE_DELAY_MS);
			b->gap_announce_ms = sg_mono_ms() + BRIDGE_GAP_ANNOUNCE_DELAY_MS;
			event_add(b->gap_retry, &tv);
		}
		return;
	}
	j = sg_calloc(1, sizeof(*j));
	j->job.run = on_gap_job;
	j->worker = worker;
	j->up = up;
	j->wall_ms = wall_ms;
	j->mono_ms = mono_ms;
	inbox_post(b->w->siblings[0]->inbox, &j->job);
}

static void on_gap_job(struct worker *w, struct job *j)
{
	struct gap_job *g = (struct gap_job *)j;
	struct bridge *b0 = w->bridge;

	if (b0 != NULL && b0->gap != NULL && !b0->stopping)
		gap_note(b0, g->worker, g->up, g->wall_ms, g->mono_ms);
	free(g);
}

/* A gap announcement on its way: what to put back if it is lost. */
struct gap_wait {
	struct bridge *b;
	struct bridge_gap_event ev;
};

/* Publishes the closed gap(s) waiting, once, on the lifecycle channel,
 * from BRIDGE_GAP_ANNOUNCE_DELAY_MS after the gap closed (the timer) or
 * later when the publisher could not take it then (pub_ready, the timer
 * again).  Nothing waits while some worker is still down: that gap's end
 * will announce it all. */
static void gap_announce(struct bridge *b)
{
	const struct sg_config *cfg = b->w->cfg;
	struct bridge_gap_event ev;
	struct gap_wait *gw;
	struct sg_buf msg;
	enum bridge_drop why;
	struct timeval tv;
	int64_t early;

	if (b->gap == NULL || b->stopping || bridge_gap_open(b->gap) ||
	    !bridge_gap_pending(b->gap, &ev))
		return;
	early = b->gap_announce_ms - sg_mono_ms();
	if (early > 0) {
		tv = worker_ms_tv(early);
		event_add(b->gap_retry, &tv);
		return;
	}
	sg_buf_init(&msg);
	bridge_gap_format(&msg, &ev, cfg->server.id, sg_now_ms());
	gw = sg_malloc(sizeof(*gw));
	gw->b = b;
	gw->ev = ev;
	if (publish_with(b, cfg->redis.lifecycle_channel, msg.data, msg.len, on_gap_published, gw,
			 &why) == 0) {
		bridge_gap_announced(b->gap);
		log_info("bridge: Redis subscriptions were down %lld.%03lld s in all: %s",
			 (long long)(ev.ms / 1000), (long long)(ev.ms % 1000), msg.data);
	} else {
		free(gw);
		tv = worker_ms_tv(BRIDGE_CANARY_MS);
		event_add(b->gap_retry, &tv);
	}
	sg_buf_fini(&msg);
}

static void on_gap_published(struct redis_link *l, redisReply *reply, void *arg)
{
	struct gap_wait *gw = arg;
	struct bridge *b = gw->b;
	redisReply *r = reply;

	SG_UNUSED(l);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		count_drop(b, BRIDGE_DROP_FAILED);
		if (!b->stopping) {
			/* lost on the way: announced again once the publisher is back */
			bridge_gap_requeue(b->gap, &gw->ev);
		}
	} else {
		b->stats.published++;
	}
	free(gw);
}

static void on_gap_retry(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	gap_announce(arg);
}

static void pub_ready(struct redis_link *l, void *arg)
{
	SG_UNUSED(l);
	gap_announce(arg);
}

/* Sends KIND CHANNEL... (at most 3) on the subscriber, and counts the
 * confirmations to wait for. */
static void sub_send(struct bridge *b, const char *kind, int n, const char *const *chans)
{
	const char *argv[4];
	size_t lens[4];

	argv[0] = kind;
	lens[0] = strlen(kind);
	for (int i = 0; i < n && i < 3; i++) {
		argv[i + 1] = chans[i];
		lens[i + 1] = strlen(chans[i]);
	}
	if (redis_link_subscribe(b->sub, n + 1, argv, lens) == 0)
		b->pending_subs += (unsigned)n;
}

static void subscribe_all(struct bridge *b)
{
	const struct sg_config *cfg = b->w->cfg;
	struct sg_buf pat;

	if (!redis_link_ready(b->sub))
		return;
	sg_buf_init(&pat);
	b->pending_subs = 0;
	/* Worker 0 takes every namespace's broadcasts with one pattern, so that
	 * a message for a namespace siogate does not serve is seen and named
	 * once in the log (broadcast_unknown_nsp) instead of vanishing; the
	 * other workers take only the configured namespaces. */
	for (size_t i = 0; i < (b->primary ? 1 : cfg->namespaces.n); i++) {
		const char *pp[1];
		sg_buf_reset(&pat);
		if (b->primary)
			sg_buf_printf(&pat, "%s#*", cfg->redis.prefix);
		else
			sg_buf_printf(&pat, "%s#%s#*", cfg->redis.prefix, cfg->namespaces.v[i]);
		pp[0] = pat.data;
		sub_send(b, "PSUBSCRIBE", 1, pp);
	}
	if (!b->primary) {
		/* the other workers deliver broadcasts and JSON messages to their
		 * own clients; the cluster sees only worker 0 */
		sub_send(b, "SUBSCRIBE", 2,
			 (const char *const[]){ cfg->redis.json_channel, b->canary_channel });
		sg_buf_fini(&pat);
		return;
	}
	/* The JSON channel and the members channel on one connection: Redis
	 * delivers them in one order, which the choice of the relay relies on. */
	sub_send(b, "SUBSCRIBE", 2,
		 (const char *const[]){ cfg->redis.json_channel, b->members_channel });
	/* The adapter's request/response channels: subscribing makes siogate
	 * count as a server (PUBSUB NUMSUB), so it answers every request. */
	for (size_t i = 0; i < cfg->namespaces.n; i++) {
		const char *p = cfg->redis.prefix, *n = cfg->namespaces.v[i];
		char *c[3];
		sg_buf_reset(&pat);
		sg_buf_printf(&pat, "%s-request#%s#", p, n);
		c[0] = sg_strdup(pat.data);
		sg_buf_reset(&pat);
		sg_buf_printf(&pat, "%s-response#%s#", p, n);
		c[1] = sg_strdup(pat.data);
		sg_buf_reset(&pat);
		sg_buf_printf(&pat, "%s-response#%s#%s#", p, n, b->uid);
		c[2] = sg_strdup(pat.data);
		sub_send(b, "SUBSCRIBE", 3, (const char *const *)c);
		for (int k = 0; k < 3; k++)
			free(c[k]);
	}
	sg_buf_fini(&pat);
}

/* "<prefix>-request#<nsp>#": returns the namespace part, or NULL. */
static const char *request_nsp(const struct bridge *b, const redisReply *ch, size_t *len)
{
	const char *prefix = b->w->cfg->redis.prefix;
	size_t pl = strlen(prefix);

	if (ch->len < pl + 11 || memcmp(ch->str, prefix, pl) != 0 ||
	    memcmp(ch->str + pl, "-request#", 9) != 0 || ch->str[ch->len - 1] != '#')
		return NULL;
	*len = ch->len - pl - 9 - 1;
	return ch->str + pl + 9;
}

/* Sends a command through the publisher link, its bytes charged against
 * redis.max_pending until the reply; -1 with *why when it was not sent. */
static int send_command(struct bridge *b, redis_link_cb *cb, void *arg, int argc, const char **argv,
			const size_t *argvlen, enum bridge_drop *why)
{
	enum redis_link_refusal r;

	if (redis_link_command(b->pub, cb, arg, argc, argv, argvlen, &r) == 0) {
		if (b->full) {
			b->full = false;
			log_info("bridge: the publisher is below redis.max_pending again");
		}
		return 0;
	}
	*why = r == REDIS_LINK_PENDING ? BRIDGE_DROP_PENDING : BRIDGE_DROP_DOWN;
	if (*why == BRIDGE_DROP_PENDING && !b->full) {
		b->full = true;
		log_warn("bridge: %zu bytes wait for Redis (redis.max_pending %llu): dropping "
			 "publishes until it answers",
			 redis_link_pending(b->pub),
			 (unsigned long long)b->w->cfg->redis.max_pending);
	}
	return -1;
}

struct redis_link *bridge_publisher(struct bridge *b)
{
	return b ? b->pub : NULL;
}

static void count_drop(struct bridge *b, enum bridge_drop d)
{
	b->stats.dropped[d]++;
	b->stats.publish_dropped++;
}

/* PUBLISH through send_command, cb getting the reply. */
static int publish_with(struct bridge *b, const char *channel, const void *data, size_t len,
			redis_link_cb *cb, void *arg, enum bridge_drop *why)
{
	const char *argv[] = { "PUBLISH", channel, data };
	size_t argvlen[] = { 7, strlen(channel), len };

	return send_command(b, cb, arg, 3, argv, argvlen, why);
}

int bridge_publish(struct bridge *b, const char *channel, const void *data, size_t len)
{
	enum bridge_drop why;

	if (b == NULL)
		return -1;
	if (publish_with(b, channel, data, len, on_published, b, &why) != 0) {
		count_drop(b, why);
		return -1;
	}
	return 0;
}

struct xadd_wait {
	struct bridge *b;
	bridge_xadd_cb cb;
	void *arg;
};

static void on_xadd(struct redis_link *l, redisReply *reply, void *arg)
{
	struct xadd_wait *x = arg;
	redisReply *r = reply;
	bool ok = r != NULL && r->type == REDIS_REPLY_STRING;

	SG_UNUSED(l);
	if (ok)
		x->b->stats.published++;
	else
		count_drop(x->b, BRIDGE_DROP_FAILED);
	/* always called, even while stopping: the callback owns its arg */
	if (x->cb)
		x->cb(ok && !x->b->stopping ? r->str : NULL, x->arg);
	free(x);
}

int bridge_xadd(struct bridge *b, const char *stream, uint64_t maxlen, const char *const *fields,
		const char *const *values, const size_t *value_lens, size_t n, bridge_xadd_cb cb,
		void *arg, enum bridge_drop *why)
{
	size_t argc = 6 + 2 * n;
	const char **argv;
	size_t *argl;
	char maxbuf[32];
	struct xadd_wait *x;
	enum bridge_drop d = BRIDGE_DROP_DOWN;
	int rc;

	if (b == NULL) {
		if (why)
			*why = d;
		return -1;
	}
	snprintf(maxbuf, sizeof(maxbuf), "%llu", (unsigned long long)maxlen);
	argv = sg_calloc(argc, sizeof(*argv));
	argl = sg_calloc(argc, sizeof(*argl));
	argv[0] = "XADD";
	argv[1] = stream;
	argv[2] = "MAXLEN";
	argv[3] = "~";
	argv[4] = maxbuf;
	argv[5] = "*";
	for (size_t i = 0; i < 6; i++)
		argl[i] = strlen(argv[i]);
	for (size_t i = 0; i < n; i++) {
		argv[6 + 2 * i] = fields[i];
		argl[6 + 2 * i] = strlen(fields[i]);
		argv[7 + 2 * i] = values[i];
		argl[7 + 2 * i] = value_lens[i];
	}
	x = sg_malloc(sizeof(*x));
	x->b = b;
	x->cb = cb;
	x->arg = arg;
	rc = send_command(b, on_xadd, x, (int)argc, argv, argl, &d);
	free(argv);
	free(argl);
	if (rc != 0) {
		free(x);
		count_drop(b, d);
		if (why)
			*why = d;
		return -1;
	}
	return 0;
}

struct count_wait {
	struct bridge *b;
	bridge_count_cb cb;
	void *arg;
};

static void on_numsub(struct redis_link *l, redisReply *reply, void *arg)
{
	struct count_wait *cw = arg;
	redisReply *r = reply;
	long long n = -1;

	SG_UNUSED(l);
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_INTEGER && !cw->b->stopping)
		n = r->element[1]->integer;
	cw->cb(n, cw->arg);
	free(cw);
}

int bridge_numsub(struct bridge *b, const char *channel, bridge_count_cb cb, void *arg)
{
	const char *argv[] = { "PUBSUB", "NUMSUB", channel };
	size_t argvlen[] = { 6, 6, strlen(channel) };
	struct count_wait *cw;
	enum bridge_drop why;

	if (b == NULL)
		return -1;
	cw = sg_malloc(sizeof(*cw));
	cw->b = b;
	cw->cb = cb;
	cw->arg = arg;
	if (send_command(b, on_numsub, cw, 3, argv, argvlen, &why) != 0) {
		free(cw);
		return -1;
	}
	return 0;
}

int bridge_count_instances(struct bridge *b, bridge_count_cb cb, void *arg)
{
	return b == NULL ? -1 : bridge_numsub(b, b->members_channel, cb, arg);
}

static void on_published(struct redis_link *l, redisReply *reply, void *arg)
{
	struct bridge *b = arg;
	redisReply *r = reply;

	SG_UNUSED(l);
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		count_drop(b, BRIDGE_DROP_FAILED);
	else
		b->stats.published++;
}

static void on_message(struct redis_link *l, const redisReply *reply, void *arg)
{
	struct bridge *b = arg;
	const redisReply *r = reply;
	struct adapter_broadcast m;
	struct sg_err err = { 0 };
	const redisReply *kind, *payload;

	SG_UNUSED(l);
	if (r == NULL || b->stopping || r->type != REDIS_REPLY_ARRAY || r->elements < 3)
		return;
	b->stats.received++;
	kind = r->element[0];
	if (kind->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(kind->str, "psubscribe") == 0 || strcmp(kind->str, "subscribe") == 0) {
		if (b->pending_subs > 0 && --b->pending_subs == 0) {
			b->subscribed = true;
			b->ever_subscribed = true;
			gap_end(b);
			if (b->primary) {
				members_subscribed(b->members, sg_mono_ms());
				on_heartbeat(-1, 0, b);
			}
			log_info(
				"bridge: subscribed to the channels of %zu namespace(s) and %s (uid %s)",
				b->w->cfg->namespaces.n, b->w->cfg->redis.json_channel, b->uid);
		}
		return;
	}
	if (strcmp(kind->str, "message") == 0) {
		const redisReply *ch = r->element[1], *msg = r->element[2];
		const char *nsp;
		size_t nsp_len;
		if (ch->type != REDIS_REPLY_STRING || msg->type != REDIS_REPLY_STRING)
			return;
		if (strcmp(ch->str, b->w->cfg->redis.json_channel) == 0)
			on_json_message(b, ch, msg);
		else if (strcmp(ch->str, b->members_channel) == 0)
			on_members_message(b, msg);
		else if ((nsp = request_nsp(b, ch, &nsp_len)) != NULL)
			b->ops->on_request(b->w, b, nsp, nsp_len, msg->str, msg->len);
		else if (msg->len == 12 && memcmp(msg->str, "{\"canary\":1}", 12) == 0)
			b->canary_pending_ms = 0; /* the subscriber delivers */
		else
			b->ops->on_response(b->w, msg->str, msg->len);
		return;
	}
	if (strcmp(kind->str, "pmessage") != 0 || r->elements < 4)
		return;
	payload = r->element[3];
	if (payload->type != REDIS_REPLY_STRING || r->element[2]->type != REDIS_REPLY_STRING)
		return;
	if (b->primary && !channel_nsp_served(b, r->element[2]))
		return;
	if (adapter_codec_decode_broadcast(payload->str, payload->len, BRIDGE_MAX_ATTACHMENTS, &m,
					   &err) != 0) {
		b->stats.bad_messages++;
		log_warn("bridge: dropped a message on %.*s: %s", (int)r->element[2]->len,
			 r->element[2]->str, err.msg);
		return;
	}
	/* a broadcast of this process was delivered by every worker already */
	if (strcmp(m.uid, b->uid) != 0 && !m.flag_local &&
	    strncmp(m.uid, BRIDGE_RELAY_UID_PREFIX, sizeof(BRIDGE_RELAY_UID_PREFIX) - 1) != 0)
		b->ops->on_broadcast(b->w, &m);
	adapter_codec_broadcast_fini(&m);
}

/* "<prefix>#<nsp>#...": false for a namespace not configured (noted once). */
static bool channel_nsp_served(struct bridge *b, const redisReply *ch)
{
	size_t plen = strlen(b->w->cfg->redis.prefix) + 1;
	const char *nsp, *end;

	if (ch->len <= plen)
		return true;
	nsp = ch->str + plen;
	end = memchr(nsp, '#', ch->len - plen);
	if (end == NULL)
		return true; /* not a channel of the adapter's; the decoder judges */
	return b->ops->serves_nsp(b->w, nsp, (size_t)(end - nsp), ch->str);
}

/* A JSON-channel message from `channel` (a channel or the ingest stream);
 * relay: re-published for Node peers when this instance is the relay. */
static void handle_json(struct bridge *b, const char *channel, size_t channel_len,
			const char *payload, size_t payload_len, bool relay)
{
	struct sg_err err = { 0 };
	struct chan_msg m;

	if (chan_msg_parse(payload, payload_len, &m, &err) != 0) {
		b->stats.bad_messages++;
		if (!m.is_op) {
			log_warn("bridge: dropped a message on %.*s: %s", (int)channel_len, channel,
				 err.msg);
		} else if (b->primary) {
			/* an operation is counted and named once per instance, and a
			 * backend repeating a bad one cannot flood the log */
			b->w->stats.json_op_invalid++;
			log_limited(&b->bad_op, SG_LOG_WARN, NULL,
				    "bridge: ignored an operation on %.*s: %s", (int)channel_len,
				    channel, err.msg);
		}
		return;
	}
	if (m.is_op) {
		/* the instance that published it applied it to its sockets already */
		if (m.op.origin == NULL || strcmp(m.op.origin, b->uid) != 0) {
			if (b->primary && m.op.nsp != NULL)
				(void)b->ops->serves_nsp(b->w, m.op.nsp, strlen(m.op.nsp), channel);
			b->ops->on_op(b->w, &m.op);
		}
		chan_msg_fini(&m);
		return;
	}
	if (m.emit.has_ack) {
		/* one instance (the relay) gathers the acks of the whole cluster */
		if (b->primary && members_is_relay(b->members, sg_mono_ms()))
			b->ops->on_json_ack(b->w, &m.emit);
		chan_msg_fini(&m);
		return;
	}
	if (b->primary)
		(void)b->ops->serves_nsp(b->w, m.emit.nsp, strlen(m.emit.nsp), channel);
	b->ops->on_json(b->w, &m.emit);
	if (relay)
		relay_json_message(b, &m.emit);
	chan_msg_fini(&m);
}

static void on_json_message(struct bridge *b, const redisReply *channel, const redisReply *payload)
{
	handle_json(b, channel->str, channel->len, payload->str, payload->len, true);
}

/* An entry of redis.ingest_stream: delivered by every worker of every
 * instance (each reads the stream in a group of its own); Node peers read
 * streams themselves, so nothing is relayed. */
static void on_ingest_message(void *arg, const char *msg, size_t len)
{
	struct bridge *b = arg;
	const char *s = b->w->cfg->redis.ingest_stream;

	handle_json(b, s, strlen(s), msg, len, false);
}

/* Node peers read only the adapter format: the relay re-publishes. */
static void relay_json_message(struct bridge *b, const struct emit_msg *m)
{
	bool relay = b->primary && members_is_relay(b->members, sg_mono_ms());

	if (relay != b->relay) {
		b->relay = relay;
		log_info("bridge: %s JSON-channel messages to the adapter cluster",
			 relay ? "this instance now relays" : "this instance no longer relays");
	}
	if (relay && bridge_publish_emit(b, m, b->relay_uid))
		b->stats.json_relayed++;
}

static void on_members_message(struct bridge *b, const redisReply *payload)
{
	struct sg_err err = { 0 };

	if (members_on_message(b->members, payload->str, payload->len, sg_mono_ms(), &err) != 0) {
		b->stats.bad_messages++;
		log_warn("bridge: dropped a message on %s: %s", b->members_channel, err.msg);
	}
}

/* Announces this instance on the members channel. */
static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;
	struct sg_buf hb;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	sg_buf_init(&hb);
	if (b->primary && members_heartbeat(b->members, sg_mono_ms(), &hb))
		(void)bridge_publish(b, b->members_channel, hb.data, hb.len);
	sg_buf_fini(&hb);
}

void bridge_leave(struct bridge *b)
{
	struct sg_buf msg;

	if (b == NULL || !b->primary)
		return;
	sg_buf_init(&msg);
	members_leave(b->members, &msg);
	(void)bridge_publish(b, b->members_channel, msg.data, msg.len);
	sg_buf_fini(&msg);
}

void bridge_free(struct bridge *b)
{
	if (b == NULL)
		return;
	b->stopping = true;
	event_free(b->canary);
	event_free(b->heartbeat);
	if (b->gap_retry != NULL)
		event_free(b->gap_retry);
	ingest_free(b->ingest);
	redis_link_free(b->sub);
	redis_link_free(b->pub);
	bridge_gap_free(b->gap);
	members_free(b->members);
	free(b->members_channel);
	free(b->canary_channel);
	free(b);
}

bool bridge_is_relay(const struct bridge *b)
{
	return b->primary && members_is_relay(b->members, sg_mono_ms());
}

bool bridge_publish_emit(struct bridge *b, const struct emit_msg *m, const char *uid)
{
	const struct sg_config *cfg = b->w->cfg;
	struct sg_buf mp, ch;
	struct sg_err err = { 0 };
	bool published = false;

	sg_buf_init(&mp);
	sg_buf_init(&ch);
	if (adapter_codec_encode_broadcast(&mp, uid, m->nsp, SIO_EVENT, m->args, m->args_len, NULL,
					   0, &m->to, &m->except, m->is_volatile, -1, &err) == 0) {
		adapter_codec_channel(&ch, cfg->redis.prefix, m->nsp, &m->to);
		published = bridge_publish(b, ch.data, mp.data, mp.len) == 0;
	} else {
		log_warn("bridge: cannot encode a broadcast: %s", err.msg);
	}
	sg_buf_fini(&mp);
	sg_buf_fini(&ch);
	return published;
}
