/*
 * redis_link.c: a self-healing connection to Redis (see redis_link.h).
 * Invariants: l->bev exists from the start of an attempt until its loss;
 * while it does not, the timer is the retry's backoff (unless the link is
 * being freed); while it does and the link is not ready, the timer is the
 * attempt's deadline.  Every reply answers the oldest waiting command
 * (the set-up's or redis_link_command()'s), or, when none waits, is a
 * push.  l->ready implies the set-up's PING was answered.
 */
#include "redis/redis_link.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "core/log.h"
#include "net/tls.h"

#define LINK_BACKOFF_MIN_MS 100
#define LINK_BACKOFF_MAX_MS 5000
/* connect, TLS handshake and the set-up's replies, together */
#define LINK_ATTEMPT_MS 5000

/* A command waiting for its reply. */
struct link_wait {
	struct link_wait *next;
	size_t bytes; /* charged to l->pending (0: the set-up's) */
	redis_link_cb *cb;
	void *arg;
};

struct redis_link {
	struct event_base *base;
	struct bufferevent *bev; /* the connection, while there is one */
	redisReader *reader;
	struct event *timer; /* the retry's backoff, or the attempt's deadline */
	SSL_CTX *tls;	     /* a reference, when a URL is rediss:// */
	char *server_name;   /* for TLS: SNI and the name checked (NULL: the host) */
	char *password;	     /* replaces the URLs' (NULL: theirs) */
	struct link_wait *head, **tail;
	struct redis_url url;	/* the current one */
	struct redis_url *urls; /* all of them (owned) */
	size_t n_urls;
	size_t cur;
	const struct redis_link_ops *ops;
	void *arg;
	const char *name;
	int64_t backoff_ms;
	uint64_t losses;
	size_t pending;	      /* bytes charged by redis_link_command */
	size_t max_pending;   /* 0: no bound */
	unsigned dispatching; /* inside read_cb's loop: drop later */
	bool drop_asked;      /* a drop asked for while dispatching, why in drop_why */
	char drop_why[300];
	bool connected; /* this attempt's connection is made (TLS: its handshake) */
	bool ready;
	bool subscriber; /* sent a subscribe: replies without a waiter are pushes */
	bool stopping;
	char where[300];
};

static void connect_now(struct redis_link *l);
static void set_where(struct redis_link *l);
static void next_url(struct redis_link *l);
static void schedule_retry(struct redis_link *l);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void read_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);
static void on_setup_reply(struct redis_link *l, redisReply *r, void *arg);
static void become_ready(struct redis_link *l);
static void drop(struct redis_link *l, const char *why);
static void send_setup(struct redis_link *l);

/* Percent-decodes s[0..n) into out (NUL-terminated); -1 when it does not
 * fit or has a bad escape. */
static int url_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			char hex[3];
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return -1;
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			hex[2] = '\0';
			c = (char)strtol(hex, NULL, 16);
			if (c == '\0')
				return -1;
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

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
	if (strncmp(url, "rediss://", 9) == 0) {
		out->tls = true;
		p = url + 9;
	} else if (strncmp(url, "redis://", 8) == 0) {
		p = url + 8;
	} else {
		return sg_err_set(err, "only redis://, rediss:// and unix:// URLs are supported");
	}
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at != NULL && (slash == NULL || at < slash)) {
		const char *c = memchr(p, ':', (size_t)(at - p));
		if (c != NULL) {
			if (url_decode(p, (size_t)(c - p), out->user, sizeof(out->user)) != 0 ||
			    url_decode(c + 1, (size_t)(at - c - 1), out->password,
				       sizeof(out->password)) != 0)
				return sg_err_set(err, "bad or too long credentials");
		} else if (url_decode(p, (size_t)(at - p), out->user, sizeof(out->user)) != 0) {
			/* a user without a password (given by redis.password[_file]),
			 * as node-redis and redis-py read it */
			return sg_err_set(err, "bad or too long user name");
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
		snprintf(l->where, sizeof(l->where), "%s:%d%s", l->url.host, l->url.port,
			 l->url.tls ? " (TLS)" : "");
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

SSL_CTX *redis_link_tls_ctx_new(const char *ca_file, const char *cert_file, const char *key_file,
				struct sg_err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		sg_err_set(err, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1
			    : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		sg_err_set(err, "redis.tls.ca_file: cannot load '%s'",
			   ca_file ? ca_file : "the system's certificates");
		goto fail;
	}
	if ((cert_file == NULL) != (key_file == NULL)) {
		sg_err_set(err, "redis.tls.cert_file and redis.tls.key_file go together");
		goto fail;
	}
	if (cert_file != NULL && tls_ctx_use_pair(ctx, cert_file, key_file, "redis.tls.cert_file",
						  "redis.tls.key_file", err) != 0)
		goto fail;
	ERR_clear_error();
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

struct redis_link *redis_link_new(struct event_base *base, const struct redis_url *urls,
				  size_t n_urls, const char *password,
				  const struct redis_link_tls *tls, const char *name,
				  const struct redis_link_ops *ops, void *arg)
{
	struct redis_link *l = sg_calloc(1, sizeof(*l));

	l->base = base;
	l->urls = sg_calloc(n_urls, sizeof(*l->urls));
	memcpy(l->urls, urls, n_urls * sizeof(*urls));
	l->n_urls = n_urls;
	l->url = urls[0];
	l->password = password ? sg_strdup(password) : NULL;
	if (tls != NULL && tls->ctx != NULL) {
		SSL_CTX_up_ref(tls->ctx);
		l->tls = tls->ctx;
		l->server_name = tls->server_name ? sg_strdup(tls->server_name) : NULL;
	}
	l->ops = ops;
	l->arg = arg;
	l->name = name;
	l->backoff_ms = LINK_BACKOFF_MIN_MS;
	l->tail = &l->head;
	l->timer = event_new(base, -1, 0, on_timer, l);
	set_where(l);
	connect_now(l);
	return l;
}

bool redis_link_ready(const struct redis_link *l)
{
	return l->ready;
}

uint64_t redis_link_losses(const struct redis_link *l)
{
	return l->losses;
}

/* Fills ss with the current URL's address (the first a lookup gives). */
static int resolve(struct redis_link *l, struct sockaddr_storage *ss, socklen_t *len,
		   const char **why)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char port[8];
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (l->url.unix_socket) {
		struct sockaddr_un *sun = (struct sockaddr_un *)ss;
		if (strlen(l->url.host) >= sizeof(sun->sun_path)) {
			*why = "the socket path is too long";
			return -1;
		}
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, l->url.host);
		*len = (socklen_t)sizeof(*sun);
		return 0;
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", l->url.port);
	rc = getaddrinfo(l->url.host, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		*why = rc != 0 ? gai_strerror(rc) : "no address";
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static struct bufferevent *new_bev(struct redis_link *l)
{
	const int opts = BEV_OPT_CLOSE_ON_FREE;
	const char *name = l->server_name ? l->server_name : l->url.host;
	struct in6_addr a6;
	bool is_ip;
	SSL *ssl;

	if (!l->url.tls)
		return bufferevent_socket_new(l->base, -1, opts);
	if (l->tls == NULL)
		return NULL;
	ssl = SSL_new(l->tls);
	if (ssl == NULL)
		sg_fatal("SSL_new failed");
	is_ip = inet_pton(AF_INET, name, &a6) == 1 || inet_pton(AF_INET6, name, &a6) == 1;
	if (is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
	} else {
		SSL_set_tlsext_host_name(ssl, name);
		SSL_set1_host(ssl, name);
	}
	return bufferevent_openssl_socket_new(l->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, opts);
}

static void connect_now(struct redis_link *l)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	const char *why = NULL;
	struct timeval tv = { LINK_ATTEMPT_MS / 1000, (LINK_ATTEMPT_MS % 1000) * 1000 };

	if (resolve(l, &ss, &len, &why) != 0) {
		log_warn("redis %s: cannot connect to %s: %s", l->name, l->where, why);
		schedule_retry(l);
		return;
	}
	l->bev = new_bev(l);
	if (l->bev == NULL) {
		log_warn("redis %s: cannot connect to %s: %s", l->name, l->where,
			 l->tls == NULL ? "a rediss:// URL needs TLS set up" : "out of memory");
		schedule_retry(l);
		return;
	}
	l->reader = redisReaderCreate();
	if (l->reader == NULL)
		sg_fatal("out of memory");
	bufferevent_setcb(l->bev, read_cb, NULL, event_cb, l);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	event_add(l->timer, &tv);
	if (bufferevent_socket_connect(l->bev, (struct sockaddr *)&ss, (int)len) != 0) {
		char buf[128];
		snprintf(buf, sizeof(buf), "%s", strerror(errno));
		drop(l, buf);
	}
}

/* Queues cmd[0..len) with a waiter for its reply. */
static void send_formatted(struct redis_link *l, const char *cmd, size_t len, size_t bytes,
			   redis_link_cb *cb, void *arg)
{
	struct link_wait *w = sg_malloc(sizeof(*w));

	w->next = NULL;
	w->bytes = bytes;
	w->cb = cb;
	w->arg = arg;
	*l->tail = w;
	l->tail = &w->next;
	l->pending += bytes;
	bufferevent_write(l->bev, cmd, len);
}

static void send_setup_argv(struct redis_link *l, redis_link_cb *cb, int argc, const char **argv)
{
	size_t lens[3];
	char *cmd;
	int len;

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	len = redisFormatCommandArgv(&cmd, argc, argv, lens);
	if (len < 0)
		sg_fatal("redisFormatCommandArgv failed");
	send_formatted(l, cmd, (size_t)len, 0, cb, l);
	redisFreeCommand(cmd);
}

/* AUTH, SELECT and PING, sent together once connected; on_setup_reply
 * follows them.  The password is never logged. */
static void send_setup(struct redis_link *l)
{
	const char *pw = l->password ? l->password : l->url.password;
	char db[16], name[64];

	if (pw[0] != '\0') {
		if (l->url.user[0] != '\0')
			send_setup_argv(l, on_setup_reply, 3,
					(const char *[]){ "AUTH", l->url.user, pw });
		else
			send_setup_argv(l, on_setup_reply, 2, (const char *[]){ "AUTH", pw });
	}
	if (l->url.db != 0) {
		snprintf(db, sizeof(db), "%d", l->url.db);
		send_setup_argv(l, on_setup_reply, 2, (const char *[]){ "SELECT", db });
	}
	/* named in CLIENT LIST; a user not allowed to is not refused for it */
	snprintf(name, sizeof(name), "siogate-%s", l->name);
	send_setup_argv(l, NULL, 3, (const char *[]){ "CLIENT", "SETNAME", name });
	/* PING proves the server answers (not -LOADING) before we are ready. */
	send_setup_argv(l, on_setup_reply, 1, (const char *[]){ "PING" });
}

static void on_setup_reply(struct redis_link *l, redisReply *r, void *arg)
{
	SG_UNUSED(arg);
	if (r == NULL || l->stopping)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		/* -NOAUTH, -WRONGPASS, -LOADING...: drop and retry later */
		char why[300];
		snprintf(why, sizeof(why), "the server refused the set-up: %s", r->str);
		drop(l, why);
		return;
	}
	if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0)
		become_ready(l);
}

static void become_ready(struct redis_link *l)
{
	event_del(l->timer);
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
	event_add(l->timer, &tv);
	l->backoff_ms *= 2;
	if (l->backoff_ms > LINK_BACKOFF_MAX_MS)
		l->backoff_ms = LINK_BACKOFF_MAX_MS;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct redis_link *l = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	if (l->bev != NULL)
		drop(l, "timed out connecting and setting up");
	else
		connect_now(l);
}

/* Calls every waiter with NULL (after unlinking them all: a callback may
 * send, which the link, no longer ready, refuses). */
static void fail_waits(struct redis_link *l)
{
	struct link_wait *w = l->head;

	l->head = NULL;
	l->tail = &l->head;
	while (w != NULL) {
		struct link_wait *next = w->next;
		l->pending -= w->bytes;
		if (w->cb != NULL)
			w->cb(l, NULL, w->arg);
		free(w);
		w = next;
	}
}

/* Ends the connection: its waiters get NULL, on_lost runs if it was ready,
 * and the next attempt is scheduled. */
static void drop(struct redis_link *l, const char *why)
{
	bool was_ready = l->ready;

	if (l->bev == NULL)
		return;
	if (l->dispatching > 0) {
		if (!l->drop_asked)
			snprintf(l->drop_why, sizeof(l->drop_why), "%s", why);
		l->drop_asked = true;
		return;
	}
	bufferevent_free(l->bev);
	l->bev = NULL;
	redisReaderFree(l->reader);
	l->reader = NULL;
	l->ready = false;
	l->connected = false;
	l->subscriber = false;
	event_del(l->timer);
	fail_waits(l);
	if (l->stopping)
		return;
	if (was_ready) {
		l->losses++;
		log_warn("redis %s: lost %s: %s", l->name, l->where, why);
		if (l->ops->on_lost)
			l->ops->on_lost(l, l->arg);
	} else {
		log_warn("redis %s: cannot connect to %s: %s", l->name, l->where, why);
	}
	schedule_retry(l);
}

static void dispatch(struct redis_link *l, redisReply *r)
{
	struct link_wait *w = l->head;

	if (w == NULL) {
		if (l->subscriber && l->ops->on_push != NULL)
			l->ops->on_push(l, r, l->arg);
		return;
	}
	l->head = w->next;
	if (l->head == NULL)
		l->tail = &l->head;
	l->pending -= w->bytes;
	if (w->cb != NULL)
		w->cb(l, r, w->arg);
	free(w);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct redis_link *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v;
	void *reply;

	while (evbuffer_peek(in, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		if (redisReaderFeed(l->reader, v.iov_base, v.iov_len) != REDIS_OK)
			break;
		evbuffer_drain(in, v.iov_len);
	}
	l->dispatching++;
	for (;;) {
		reply = NULL;
		if (redisReaderGetReply(l->reader, &reply) != REDIS_OK) {
			l->dispatching--;
			drop(l, "protocol error in the server's reply");
			return;
		}
		if (reply == NULL)
			break;
		dispatch(l, reply);
		freeReplyObject(reply);
		if (l->drop_asked || l->stopping)
			break;
	}
	l->dispatching--;
	if (l->drop_asked) {
		char why[sizeof(l->drop_why)];
		memcpy(why, l->drop_why, sizeof(why));
		l->drop_asked = false;
		drop(l, why);
	}
}

/* Why a TLS connection failed, when it did for TLS's reasons. */
static bool tls_error(struct redis_link *l, char *buf, size_t len)
{
	unsigned long e = bufferevent_get_openssl_error(l->bev);
	SSL *ssl = bufferevent_openssl_get_ssl(l->bev);
	long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	bool any = true;

	if (vr != X509_V_OK) {
		snprintf(buf, len, "TLS: certificate verification failed: %s",
			 X509_verify_cert_error_string(vr));
	} else if (e != 0) {
		char e2[200];
		ERR_error_string_n(e, e2, sizeof(e2));
		snprintf(buf, len, "TLS: %s", e2);
	} else {
		any = false;
	}
	while (bufferevent_get_openssl_error(l->bev) != 0) {
	}
	return any;
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct redis_link *l = arg;
	char why[300];

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;
		l->connected = true;
		evutil_socket_t fd = bufferevent_getfd(bev);
		if (!l->url.unix_socket)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		send_setup(l);
		return;
	}
	if (l->url.tls && tls_error(l, why, sizeof(why))) {
		/* the message says it all */
	} else {
		int e = EVUTIL_SOCKET_ERROR();
		/* a plain client on a TLS port is dropped during the set-up */
		const char *hint = !l->url.tls && l->connected && !l->ready
					   ? " (a TLS port? then use rediss://)"
					   : "";
		snprintf(why, sizeof(why), "%s%s",
			 (what & BEV_EVENT_EOF) ? "connection closed by the server"
						: strerror(e != 0 ? e : EIO),
			 hint);
	}
	/* not from read_cb's loop: event callbacks are not nested in it */
	drop(l, why);
}

void redis_link_reset(struct redis_link *l, const char *why)
{
	if (l->bev == NULL)
		return;
	log_warn("redis %s: resetting the connection to %s: %s", l->name, l->where, why);
	drop(l, "reset");
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

int redis_link_command(struct redis_link *l, redis_link_cb *cb, void *arg, int argc,
		       const char **argv, const size_t *argvlen, enum redis_link_refusal *why)
{
	size_t bytes;
	char *cmd;
	int len;

	if (!l->ready || l->subscriber) {
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
	send_formatted(l, cmd, (size_t)len, bytes, cb, arg);
	redisFreeCommand(cmd);
	return 0;
}

int redis_link_subscribe(struct redis_link *l, int argc, const char **argv, const size_t *argvlen)
{
	char *cmd;
	int len;

	if (!l->ready)
		return -1;
	len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
	if (len < 0)
		sg_fatal("redisFormatCommandArgv failed");
	l->subscriber = true;
	bufferevent_write(l->bev, cmd, (size_t)len);
	redisFreeCommand(cmd);
	return 0;
}

void redis_link_free(struct redis_link *l)
{
	if (l == NULL)
		return;
	l->stopping = true;
	drop(l, "stopping");
	event_free(l->timer);
	if (l->tls != NULL)
		SSL_CTX_free(l->tls);
	free(l->server_name);
	if (l->password != NULL) {
		OPENSSL_cleanse(l->password, strlen(l->password));
		free(l->password);
	}
	free(l->urls);
	free(l);
}
