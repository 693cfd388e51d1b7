/*
 * bridge.c: the Redis subscriber (see bridge.h).  Invariants: at most one
 * hiredis context exists at a time (b->ac), and it is either connecting,
 * subscribed, or being torn down by hiredis; when it is gone the reconnect
 * timer is pending unless the bridge is stopping.  Messages are decoded into
 * a stack-owned adapter_broadcast and delivered before the callback returns.
 */
#include "bridge.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "bridge_adapter.h"
#include "broadcast.h"
#include "config.h"
#include "emit_msg.h"
#include "log.h"
#include "worker.h"

#define BRIDGE_BACKOFF_MIN_MS 100
#define BRIDGE_BACKOFF_MAX_MS 5000
/* The largest message the bridge decodes (a broadcast over it is dropped). */
#define BRIDGE_MAX_ATTACHMENTS 10

struct bridge {
	struct worker *w;
	redisAsyncContext *ac;
	struct event *retry;
	struct redis_url url;
	int64_t backoff_ms;
	size_t pending_subs;  /* PSUBSCRIBE confirmations still expected */
	bool subscribed;
	bool stopping;
	char uid[8];
};

static void connect_now(struct bridge *b);
static void schedule_retry(struct bridge *b);
static void on_retry(evutil_socket_t fd, short what, void *arg);
static void on_connect(const redisAsyncContext *ac, int status);
static void on_disconnect(const redisAsyncContext *ac, int status);
static void on_auth(redisAsyncContext *ac, void *reply, void *arg);
static void on_message(redisAsyncContext *ac, void *reply, void *arg);
static void subscribe_all(struct bridge *b);
static void on_json_message(struct bridge *b, const redisReply *channel, const redisReply *payload);

int bridge_parse_url(const char *url, struct redis_url *out, struct sg_err *err)
{
	const char *p, *at, *slash, *colon, *hostend;
	size_t hl;

	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, "redis://", 8) != 0)
		return sg_err_set(err, "only redis:// URLs are supported (got '%s')", url);
	p = url + 8;
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at != NULL && (slash == NULL || at < slash)) {
		const char *c = memchr(p, ':', (size_t)(at - p));
		if (c != NULL) {
			if ((size_t)(c - p) >= sizeof(out->user) ||
			    (size_t)(at - c - 1) >= sizeof(out->password))
				return sg_err_set(err, "credentials too long");
			memcpy(out->user, p, (size_t)(c - p));
			memcpy(out->password, c + 1, (size_t)(at - c - 1));
		} else {
			if ((size_t)(at - p) >= sizeof(out->password))
				return sg_err_set(err, "password too long");
			memcpy(out->password, p, (size_t)(at - p));
		}
		p = at + 1;
	}
	hostend = slash ? slash : p + strlen(p);
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(hostend - p));
		if (rb == NULL)
			return sg_err_set(err, "unterminated IPv6 address in '%s'", url);
		hl = (size_t)(rb - p - 1);
		if (hl == 0 || hl >= sizeof(out->host))
			return sg_err_set(err, "bad host in '%s'", url);
		memcpy(out->host, p + 1, hl);
		colon = rb + 1 < hostend && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(hostend - p));
		hl = (size_t)((colon ? colon : hostend) - p);
		if (hl == 0 || hl >= sizeof(out->host))
			return sg_err_set(err, "bad host in '%s'", url);
		memcpy(out->host, p, hl);
	}
	if (colon != NULL) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (end != hostend || port < 1 || port > 65535)
			return sg_err_set(err, "bad port in '%s'", url);
		out->port = (int)port;
	}
	if (slash != NULL && slash[1] != '\0') {
		char *end;
		long db = strtol(slash + 1, &end, 10);
		if (*end != '\0' || db < 0 || db > 100000)
			return sg_err_set(err, "bad database index in '%s'", url);
		out->db = (int)db;
	}
	return 0;
}

struct bridge *bridge_new(struct worker *w, struct sg_err *err)
{
	const struct sg_config *cfg = w->cfg;
	struct bridge *b;
	unsigned char raw[6];
	struct sg_buf u;

	if (cfg->redis.url.n == 0) {
		sg_err_set(err, "redis.url is not set");
		return NULL;
	}
	b = sg_calloc(1, sizeof(*b));
	if (bridge_parse_url(cfg->redis.url.v[0], &b->url, err) != 0) {
		free(b);
		return NULL;
	}
	b->w = w;
	b->backoff_ms = BRIDGE_BACKOFF_MIN_MS;
	b->retry = event_new(w->base, -1, 0, on_retry, b);
	/* uid2(6) in the adapter: 6 URL-safe characters. */
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		sg_fatal("RAND_bytes failed");
	sg_buf_init(&u);
	base64url_encode(&u, raw, sizeof(raw));
	memcpy(b->uid, u.data, 6);
	b->uid[6] = '\0';
	sg_buf_fini(&u);
	connect_now(b);
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

static void connect_now(struct bridge *b)
{
	redisAsyncContext *ac = redisAsyncConnect(b->url.host, b->url.port);

	if (ac == NULL || ac->err) {
		log_warn("bridge: cannot connect to redis %s:%d: %s", b->url.host, b->url.port,
			 ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		schedule_retry(b);
		return;
	}
	ac->data = b;
	if (redisLibeventAttach(ac, b->w->base) != REDIS_OK) {
		redisAsyncFree(ac);
		schedule_retry(b);
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	b->ac = ac;
	if (b->url.password[0] != '\0') {
		if (b->url.user[0] != '\0')
			redisAsyncCommand(ac, on_auth, b, "AUTH %s %s", b->url.user,
					  b->url.password);
		else
			redisAsyncCommand(ac, on_auth, b, "AUTH %s", b->url.password);
	} else {
		subscribe_all(b);
	}
}

static void subscribe_all(struct bridge *b)
{
	const struct sg_config *cfg = b->w->cfg;
	struct sg_buf pat;

	sg_buf_init(&pat);
	b->pending_subs = 0;
	for (size_t i = 0; i < cfg->namespaces.n; i++) {
		sg_buf_reset(&pat);
		sg_buf_printf(&pat, "%s#%s#*", cfg->redis.prefix, cfg->namespaces.v[i]);
		if (redisAsyncCommand(b->ac, on_message, b, "PSUBSCRIBE %b", pat.data,
				      pat.len) == REDIS_OK)
			b->pending_subs++;
	}
	sg_buf_fini(&pat);
	if (redisAsyncCommand(b->ac, on_message, b, "SUBSCRIBE %s", cfg->redis.json_channel) ==
	    REDIS_OK)
		b->pending_subs++;
}

static void on_auth(redisAsyncContext *ac, void *reply, void *arg)
{
	struct bridge *b = arg;
	redisReply *r = reply;

	SG_UNUSED(ac);
	if (r == NULL || b->stopping)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		/* The password is never logged. */
		log_error("bridge: redis refused authentication: %s", r->str);
		redisAsyncDisconnect(b->ac);
		return;
	}
	subscribe_all(b);
}

static void schedule_retry(struct bridge *b)
{
	struct timeval tv;
	int64_t delay = b->backoff_ms;
	unsigned char j;

	if (b->stopping)
		return;
	/* jitter: between half and all of the backoff */
	if (RAND_bytes(&j, 1) == 1)
		delay = delay / 2 + (delay / 2) * j / 255;
	tv = worker_ms_tv(delay);
	event_add(b->retry, &tv);
	b->backoff_ms *= 2;
	if (b->backoff_ms > BRIDGE_BACKOFF_MAX_MS)
		b->backoff_ms = BRIDGE_BACKOFF_MAX_MS;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	connect_now(arg);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct bridge *b = ac->data;

	if (status != REDIS_OK) {
		log_warn("bridge: cannot connect to redis %s:%d: %s", b->url.host, b->url.port,
			 ac->errstr);
		b->ac = NULL; /* hiredis frees it */
		schedule_retry(b);
		return;
	}
	log_info("bridge: connected to redis %s:%d", b->url.host, b->url.port);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct bridge *b = ac->data;

	b->ac = NULL;
	if (b->stopping)
		return;
	if (b->subscribed || status != REDIS_OK)
		log_warn("bridge: lost redis %s:%d%s%s", b->url.host, b->url.port,
			 status != REDIS_OK ? ": " : "", status != REDIS_OK ? ac->errstr : "");
	b->subscribed = false;
	schedule_retry(b);
}

static void on_message(redisAsyncContext *ac, void *reply, void *arg)
{
	struct bridge *b = arg;
	redisReply *r = reply;
	struct adapter_broadcast m;
	struct sg_err err = { 0 };
	const redisReply *kind, *payload;

	SG_UNUSED(ac);
	if (r == NULL || b->stopping || r->type != REDIS_REPLY_ARRAY || r->elements < 3)
		return;
	kind = r->element[0];
	if (kind->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(kind->str, "psubscribe") == 0 || strcmp(kind->str, "subscribe") == 0) {
		if (b->pending_subs > 0 && --b->pending_subs == 0) {
			b->subscribed = true;
			b->backoff_ms = BRIDGE_BACKOFF_MIN_MS;
			log_info("bridge: subscribed to %zu namespace channel pattern(s) and %s (uid %s)",
				 b->w->cfg->namespaces.n, b->w->cfg->redis.json_channel, b->uid);
		}
		return;
	}
	if (strcmp(kind->str, "message") == 0) {
		if (r->element[1]->type == REDIS_REPLY_STRING &&
		    r->element[2]->type == REDIS_REPLY_STRING)
			on_json_message(b, r->element[1], r->element[2]);
		return;
	}
	if (strcmp(kind->str, "pmessage") != 0 || r->elements < 4)
		return;
	payload = r->element[3];
	if (payload->type != REDIS_REPLY_STRING)
		return;
	if (bridge_adapter_decode_broadcast(payload->str, payload->len, BRIDGE_MAX_ATTACHMENTS,
					    &m, &err) != 0) {
		b->w->stats.bridge_bad_messages++;
		log_warn("bridge: dropped a message on %.*s: %s", (int)r->element[2]->len,
			 r->element[2]->str, err.msg);
		return;
	}
	if (strcmp(m.uid, b->uid) != 0 && !m.flag_local)
		(void)broadcast_adapter_message(b->w, &m);
	bridge_adapter_broadcast_fini(&m);
}

static void on_json_message(struct bridge *b, const redisReply *channel, const redisReply *payload)
{
	struct sg_err err = { 0 };
	struct emit_msg m;

	if (emit_msg_parse(payload->str, payload->len, &m, &err) != 0) {
		b->w->stats.bridge_bad_messages++;
		log_warn("bridge: dropped a message on %.*s: %s", (int)channel->len, channel->str,
			 err.msg);
		return;
	}
	(void)broadcast_emit_msg(b->w, &m);
	emit_msg_fini(&m);
}

void bridge_free(struct bridge *b)
{
	if (b == NULL)
		return;
	b->stopping = true;
	if (b->ac != NULL) {
		redisAsyncContext *ac = b->ac;
		b->ac = NULL;
		ac->data = b;
		redisAsyncFree(ac);
	}
	event_free(b->retry);
	free(b);
}
