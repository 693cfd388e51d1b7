/*
 * redis_link.c: a self-healing hiredis connection (see redis_link.h).
 * Invariants: at most one hiredis context exists (l->ac), owned by hiredis
 * once connecting; when it is gone the retry timer is pending unless the
 * link is being freed; l->ready implies l->ac is connected and set up.
 */
#include "redis/redis_link.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"

#define LINK_BACKOFF_MIN_MS 100
#define LINK_BACKOFF_MAX_MS 5000

struct redis_link {
	struct event_base *base;
	redisAsyncContext *ac;
	struct event *retry;
	struct redis_url url;	/* the current one */
	struct redis_url *urls; /* all of them (owned) */
	size_t n_urls;
	size_t cur;
	const struct redis_link_ops *ops;
	void *arg;
	const char *name;
	int64_t backoff_ms;
	uint64_t losses;
	size_t pending;	    /* bytes charged by redis_link_command */
	size_t max_pending; /* 0: no bound */
	bool ready;
	bool stopping;
	char where[300];
};

static void connect_now(struct redis_link *l);
static void set_where(struct redis_link *l);
static void next_url(struct redis_link *l);
static void schedule_retry(struct redis_link *l);
static void on_retry(evutil_socket_t fd, short what, void *arg);
static void on_connect(const redisAsyncContext *ac, int status);
static void on_disconnect(const redisAsyncContext *ac, int status);
static void on_setup_reply(redisAsyncContext *ac, void *reply, void *arg);
static void become_ready(struct redis_link *l);
static void on_command_reply(redisAsyncContext *ac, void *reply, void *arg);

/* A command of redis_link_command() waiting for its reply. */
struct command_wait {
	struct redis_link *l;
	size_t bytes;
	redisCallbackFn *cb;
	void *arg;
};

int redis_url_parse(const char *url, struct redis_url *out, struct sg_err *err)
{
	const char *p, *at, *slash, *colon, *hostend;
	size_t hl;

	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, "unix://", 7) == 0) {
		const char *q = strchr(url + 7, '?');
		size_t pl = q ? (size_t)(q - url - 7) : strlen(url + 7);
		if (pl == 0 || pl >= sizeof(out->host) || url[7] != '/')
			return sg_err_set(err, "bad unix socket path in '%s'", url);
		memcpy(out->host, url + 7, pl);
		out->unix_socket = true;
		if (q != NULL) {
			char *end;
			long db;
			if (strncmp(q, "?db=", 4) != 0)
				return sg_err_set(err, "only ?db=N may follow a unix socket path");
			db = strtol(q + 4, &end, 10);
			if (*end != '\0' || db < 0 || db > 100000)
				return sg_err_set(err, "bad database index in '%s'", url);
			out->db = (int)db;
		}
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return sg_err_set(err, "only redis:// and unix:// URLs are supported");
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
			return sg_err_set(err, "unterminated IPv6 address");
		hl = (size_t)(rb - p - 1);
		if (hl == 0 || hl >= sizeof(out->host))
			return sg_err_set(err, "bad host");
		memcpy(out->host, p + 1, hl);
		colon = rb + 1 < hostend && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(hostend - p));
		hl = (size_t)((colon ? colon : hostend) - p);
		if (hl == 0 || hl >= sizeof(out->host))
			return sg_err_set(err, "bad host");
		memcpy(out->host, p, hl);
	}
	if (colon != NULL) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (end != hostend || port < 1 || port > 65535)
			return sg_err_set(err, "bad port");
		out->port = (int)port;
	}
	if (slash != NULL && slash[1] != '\0') {
		char *end;
		long db = strtol(slash + 1, &end, 10);
		if (*end != '\0' || db < 0 || db > 100000)
			return sg_err_set(err, "bad database index");
		out->db = (int)db;
	}
	return 0;
}

static void set_where(struct redis_link *l)
{
	if (l->url.unix_socket)
		snprintf(l->where, sizeof(l->where), "unix:%s", l->url.host);
	else
		snprintf(l->where, sizeof(l->where), "%s:%d", l->url.host, l->url.port);
}

/* The next seed node, for the next attempt. */
static void next_url(struct redis_link *l)
{
	if (l->n_urls < 2)
		return;
	l->cur = (l->cur + 1) % l->n_urls;
	l->url = l->urls[l->cur];
	set_where(l);
}

struct redis_link *redis_link_new(struct event_base *base, const struct redis_url *urls,
				  size_t n_urls, const char *name, const struct redis_link_ops *ops,
				  void *arg)
{
	struct redis_link *l = sg_calloc(1, sizeof(*l));

	l->base = base;
	l->urls = sg_calloc(n_urls, sizeof(*l->urls));
	memcpy(l->urls, urls, n_urls * sizeof(*urls));
	l->n_urls = n_urls;
	l->url = urls[0];
	l->ops = ops;
	l->arg = arg;
	l->name = name;
	l->backoff_ms = LINK_BACKOFF_MIN_MS;
	l->retry = event_new(base, -1, 0, on_retry, l);
	set_where(l);
	connect_now(l);
	return l;
}

redisAsyncContext *redis_link_context(const struct redis_link *l)
{
	return l->ready ? l->ac : NULL;
}

bool redis_link_ready(const struct redis_link *l)
{
	return l->ready;
}

uint64_t redis_link_losses(const struct redis_link *l)
{
	return l->losses;
}

static void connect_now(struct redis_link *l)
{
	redisAsyncContext *ac = l->url.unix_socket ? redisAsyncConnectUnix(l->url.host)
						   : redisAsyncConnect(l->url.host, l->url.port);

	if (ac == NULL || ac->err) {
		log_warn("redis %s: cannot connect to %s: %s", l->name, l->where,
			 ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		schedule_retry(l);
		return;
	}
	ac->data = l;
	if (redisLibeventAttach(ac, l->base) != REDIS_OK) {
		redisAsyncFree(ac);
		schedule_retry(l);
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	l->ac = ac;
	/* Queued now, sent once connected; on_setup_reply follows them. */
	if (l->url.password[0] != '\0') {
		if (l->url.user[0] != '\0')
			redisAsyncCommand(ac, on_setup_reply, l, "AUTH %s %s", l->url.user,
					  l->url.password);
		else
			redisAsyncCommand(ac, on_setup_reply, l, "AUTH %s", l->url.password);
	}
	if (l->url.db != 0)
		redisAsyncCommand(ac, on_setup_reply, l, "SELECT %d", l->url.db);
	/* PING proves the server answers (not -LOADING) before we are ready. */
	redisAsyncCommand(ac, on_setup_reply, l, "PING");
}

static void on_setup_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	struct redis_link *l = arg;
	redisReply *r = reply;

	if (r == NULL || l->stopping || ac != l->ac)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		/* -NOAUTH, -WRONGPASS, -LOADING...: drop and retry later. The
		 * password is never logged. */
		log_warn("redis %s: %s refused the connection set-up: %s", l->name, l->where,
			 r->str);
		redisAsyncDisconnect(ac);
		return;
	}
	if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0)
		become_ready(l);
}

static void become_ready(struct redis_link *l)
{
	l->ready = true;
	l->backoff_ms = LINK_BACKOFF_MIN_MS;
	log_info("redis %s: connected to %s", l->name, l->where);
	if (l->ops->on_ready)
		l->ops->on_ready(l, l->arg);
}

static void schedule_retry(struct redis_link *l)
{
	struct timeval tv;
	int64_t delay = l->backoff_ms;
	unsigned char j;

	if (l->stopping)
		return;
	next_url(l);
	/* jitter: between half and all of the backoff */
	if (RAND_bytes(&j, 1) == 1)
		delay = delay / 2 + (delay / 2) * j / 255;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)((delay % 1000) * 1000);
	event_add(l->retry, &tv);
	l->backoff_ms *= 2;
	if (l->backoff_ms > LINK_BACKOFF_MAX_MS)
		l->backoff_ms = LINK_BACKOFF_MAX_MS;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	connect_now(arg);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct redis_link *l = ac->data;

	if (status != REDIS_OK) {
		log_warn("redis %s: cannot connect to %s: %s", l->name, l->where, ac->errstr);
		l->ac = NULL; /* hiredis frees it */
		schedule_retry(l);
	}
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis_link *l = ac->data;
	bool was_ready = l->ready;

	l->ac = NULL;
	l->ready = false;
	if (l->stopping)
		return;
	if (was_ready) {
		l->losses++;
		log_warn("redis %s: lost %s%s%s", l->name, l->where, status != REDIS_OK ? ": " : "",
			 status != REDIS_OK ? ac->errstr : "");
		if (l->ops->on_lost)
			l->ops->on_lost(l, l->arg);
	}
	schedule_retry(l);
}

void redis_link_reset(struct redis_link *l, const char *why)
{
	if (l->ac == NULL)
		return;
	log_warn("redis %s: resetting the connection to %s: %s", l->name, l->where, why);
	/* A subscribed hiredis context never finishes a polite disconnect;
	 * shutting the socket makes it see the end and go through the usual
	 * loss and reconnection. */
	if (shutdown(l->ac->c.fd, SHUT_RDWR) != 0)
		redisAsyncDisconnect(l->ac);
}

void redis_link_set_max_pending(struct redis_link *l, size_t max_pending)
{
	l->max_pending = max_pending;
}

size_t redis_link_pending(const struct redis_link *l)
{
	return l->pending;
}

/* "*N\r\n", then "$LEN\r\n" DATA "\r\n" for each argument. */
size_t redis_link_command_size(int argc, const size_t *argvlen)
{
	char num[24];
	size_t n = (size_t)snprintf(num, sizeof(num), "%d", argc) + 3;

	for (int i = 0; i < argc; i++)
		n += (size_t)snprintf(num, sizeof(num), "%zu", argvlen[i]) + 5 + argvlen[i];
	return n;
}

int redis_link_command(struct redis_link *l, redisCallbackFn *cb, void *arg, int argc,
		       const char **argv, const size_t *argvlen, enum redis_link_refusal *why)
{
	struct command_wait *cw;
	size_t bytes;
	char *cmd;
	int len, rc;

	if (!l->ready || l->ac == NULL) {
		*why = REDIS_LINK_DOWN;
		return -1;
	}
	/* checked before formatting: a refused command costs no copy */
	bytes = redis_link_command_size(argc, argvlen) + REDIS_LINK_CMD_OVERHEAD;
	if (l->max_pending > 0 && l->pending + bytes > l->max_pending) {
		*why = REDIS_LINK_PENDING;
		return -1;
	}
	len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
	if (len < 0)
		sg_fatal("redisFormatCommandArgv failed");
	cw = sg_malloc(sizeof(*cw));
	cw->l = l;
	cw->bytes = bytes;
	cw->cb = cb;
	cw->arg = arg;
	rc = redisAsyncFormattedCommand(l->ac, on_command_reply, cw, cmd, (size_t)len);
	redisFreeCommand(cmd);
	if (rc != REDIS_OK) {
		/* the context is disconnecting: as good as down */
		free(cw);
		*why = REDIS_LINK_DOWN;
		return -1;
	}
	l->pending += bytes;
	return 0;
}

/* Every command's reply, or NULL when its connection is gone: hiredis
 * calls each callback once, also from redisAsyncFree (the link is still
 * valid then: redis_link_free frees it afterwards). */
static void on_command_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	struct command_wait *cw = arg;

	cw->l->pending -= cw->bytes;
	if (cw->cb != NULL)
		cw->cb(ac, reply, cw->arg);
	free(cw);
}

void redis_link_free(struct redis_link *l)
{
	if (l == NULL)
		return;
	l->stopping = true;
	if (l->ac != NULL) {
		redisAsyncContext *ac = l->ac;
		l->ac = NULL;
		redisAsyncFree(ac);
	}
	event_free(l->retry);
	free(l->urls);
	free(l);
}
