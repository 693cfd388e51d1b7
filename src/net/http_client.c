/*
 * http_client.c: the asynchronous HTTP/1.1 client (see http_client.h).  It
 * owns requests (queued, active, done-awaiting-callback), connections (active
 * with one request, or idle in the keep-alive pool), the DNS lookups those
 * connections started, one evdns resolver and one TLS context.  Invariants:
 * a request is in exactly one place (hc->queue when RQ_QUEUED, bound to one
 * connection when RQ_ACTIVE, hc->done when RQ_DONE); hc->in_flight counts the
 * RQ_ACTIVE requests and never exceeds opts.max_in_flight; a connection with
 * a request is on hc->active, one without is on hc->idle, and an idle one is
 * reused only after a complete response with keep-alive and nothing else
 * read or left to write.  User callbacks run only from the deliver event,
 * never from a libevent callback of a connection or from an API call, so no
 * user code ever runs while this file is in the middle of a state change.
 * A connection may be freed inside one of its bufferevent's callbacks: the
 * bufferevent is reference-counted by libevent, and the code returns at once.
 */
#include "net/http_client.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "proto/http_resp_parser.h"
#include "proto/url.h"

#define HC_REQ_MAGIC 0x48435251u  /* "HCRQ" */
#define HC_CONN_MAGIC 0x4843434eu /* "HCCN" */
#define HC_MAX_COMMON_TIMEOUTS 8
#define HC_MAX_METHOD 32

enum hc_req_state {
	RQ_NEW,	       /* being set up inside http_client_request */
	RQ_QUEUED,     /* waiting in hc->queue for an in-flight slot */
	RQ_ACTIVE,     /* holds an in-flight slot and a connection */
	RQ_DONE,       /* finished, in hc->done waiting for its callback */
	RQ_DELIVERING, /* its callback is running */
};

/* A parsed URL; every string owned. */
struct hc_url {
	bool https;
	int port;
	char *host;	/* lower-case, IPv6 without brackets */
	char *path;	/* origin-form target: "/..." with the query */
	char *hostport; /* the Host header value */
	char *key;	/* pool key: scheme://host:port */
};

struct http_client_req {
	uint32_t magic;
	enum hc_req_state state;
	struct http_client *hc;
	TAILQ_ENTRY(http_client_req) link; /* on hc->queue or hc->done */
	struct hc_conn *conn;		   /* while RQ_ACTIVE */
	struct event *timer;		   /* the whole-request timeout, or NULL */
	http_client_cb cb;
	void *arg;
	struct hc_url url;
	bool head;	   /* a HEAD request: the response has no body */
	bool retried;	   /* already retried once on a new connection */
	struct sg_buf out; /* the request as sent */
	struct http_resp_parser resp;
	enum http_client_error result; /* once RQ_DONE */
	size_t charged;		       /* bytes counted in hc->pending_bytes until freed */
	uint64_t seq;		       /* order of completion */
};

/* The resolver, shared by the client and its lookups: it outlives the client
 * until the last lookup's callback ran (evdns calls back after a cancel). */
struct hc_dns {
	struct evdns_base *base;
	unsigned pending; /* lookups whose callback has not run yet */
	bool orphaned;	  /* the client is gone: free when pending drops to 0 */
};

struct hc_lookup {
	struct hc_conn *conn;		      /* NULL once the connection gave up on it */
	struct evdns_getaddrinfo_request *rq; /* NULL when it answered synchronously */
	struct hc_dns *dns;
};

struct hc_conn {
	uint32_t magic;
	struct http_client *hc;
	TAILQ_ENTRY(hc_conn) link; /* on hc->active or hc->idle */
	bool idle;		   /* on hc->idle */
	bool https;
	bool connected; /* TCP connected (and TLS handshake done) */
	bool used;	/* carried a complete response before */
	int port;
	char *host;
	char *key;
	struct bufferevent *bev;       /* NULL while resolving */
	struct http_client_req *req;   /* NULL when idle */
	struct hc_lookup *lookup;      /* while resolving */
	struct evutil_addrinfo *addrs; /* resolved addresses, until connected */
	struct evutil_addrinfo *next_addr;
	struct event *idle_timer; /* created on the first park */
};

TAILQ_HEAD(hc_req_list, http_client_req);
TAILQ_HEAD(hc_conn_list, hc_conn);

struct http_client {
	struct event_base *base;
	struct hc_dns *dns;
	SSL_CTX *ssl_ctx; /* NULL until the first https request when the system store is used */
	struct http_client_opts opts; /* ca_file not kept */
	struct event *deliver;
	struct hc_req_list queue;
	struct hc_req_list done;
	struct hc_conn_list active;
	struct hc_conn_list idle;
	unsigned n_queued;
	unsigned n_idle;
	size_t pending_bytes; /* sum of the live requests' charged bytes */
	unsigned in_flight;
	uint64_t seq;
	bool pumping;
	struct timeval idle_tv;
	const struct timeval *idle_ctv; /* common timeout for idle_tv, or NULL */
	struct {
		int64_t ms;
		const struct timeval *tv;
	} timeouts[HC_MAX_COMMON_TIMEOUTS];
	unsigned n_timeouts;
	struct http_client_stats stats;
};

static int ssl_ctx_make(struct http_client *hc, const char *ca_file, struct sg_err *err);
static const struct timeval *timeout_tv(struct http_client *hc, int64_t ms, struct timeval *tv);
static int hc_url_parse(const char *url, struct hc_url *u, struct sg_err *err);
static int header_check(const char *h, bool *is_host, struct sg_err *err);
static void hc_url_free(struct hc_url *u);
static bool is_ip_literal(const char *host);
static int build_request(struct http_client_req *r, const char *method, const char *const *headers,
			 const char *content_type, const void *body, size_t body_len,
			 bool keep_alive, struct sg_err *err);
static struct http_client_req *req_check(void *arg);
static void req_start(struct http_client_req *r);
static void req_finish(struct http_client_req *r, enum http_client_error e);
static void req_free(struct http_client_req *r);
static void req_on_timeout(evutil_socket_t fd, short what, void *arg);
static void pump(struct http_client *hc);
static void on_deliver(evutil_socket_t fd, short what, void *arg);
static struct hc_conn *hc_conn_check(void *arg);
static struct hc_conn *idle_take(struct http_client *hc, const char *key);
static void hc_conn_open(struct http_client *hc, struct http_client_req *r);
static void hc_conn_resolve(struct hc_conn *c);
static void on_resolved(int result, struct evutil_addrinfo *ai, void *arg);
static void dns_release(struct hc_dns *dns);
static void hc_conn_connect_next(struct hc_conn *c);
static struct bufferevent *hc_conn_make_bev(struct hc_conn *c);
static SSL *hc_conn_make_ssl(struct hc_conn *c);
static void hc_conn_send(struct hc_conn *c, struct http_client_req *r);
static void hc_conn_readcb(struct bufferevent *bev, void *arg);
static void hc_conn_eventcb(struct bufferevent *bev, short what, void *arg);
static bool hc_conn_on_input(struct hc_conn *c, bool eof);
static bool hc_conn_reusable(struct hc_conn *c);
static bool hc_conn_tls_failed(struct hc_conn *c);
static void hc_conn_complete(struct hc_conn *c, bool reusable);
static void hc_conn_park(struct hc_conn *c);
static void hc_conn_on_idle_timeout(evutil_socket_t fd, short what, void *arg);
static void hc_conn_retry(struct hc_conn *c);
static void hc_conn_fail(struct hc_conn *c, enum http_client_error e);
static void hc_conn_close(struct hc_conn *c);

/* ---- client ---- */

struct http_client *http_client_new(struct event_base *base, const struct http_client_opts *opts,
				    struct sg_err *err)
{
	struct http_client *hc;

	if (opts->max_in_flight < 1) {
		sg_err_set(err, "max_in_flight must be at least 1");
		return NULL;
	}
	if (opts->max_response_bytes < 1) {
		sg_err_set(err, "max_response_bytes must be at least 1");
		return NULL;
	}
	hc = sg_calloc(1, sizeof(*hc));
	hc->base = base;
	hc->opts = *opts;
	hc->opts.ca_file = NULL;
	TAILQ_INIT(&hc->queue);
	TAILQ_INIT(&hc->done);
	TAILQ_INIT(&hc->active);
	TAILQ_INIT(&hc->idle);
	if (opts->ca_file != NULL || opts->insecure) {
		if (ssl_ctx_make(hc, opts->ca_file, err) < 0) {
			free(hc);
			return NULL;
		}
	}
	hc->dns = sg_calloc(1, sizeof(*hc->dns));
	/* DISABLE_WHEN_INACTIVE: an idle resolver must not keep the loop alive */
	hc->dns->base = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
						     EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (hc->dns->base == NULL) {
		sg_err_set(err, "cannot set up the DNS resolver");
		free(hc->dns);
		SSL_CTX_free(hc->ssl_ctx);
		free(hc);
		return NULL;
	}
	hc->deliver = event_new(base, -1, 0, on_deliver, hc);
	if (hc->deliver == NULL)
		sg_fatal("event_new failed");
	if (opts->idle_timeout_ms > 0) {
		hc->idle_ctv = timeout_tv(hc, opts->idle_timeout_ms, &hc->idle_tv);
		if (hc->idle_ctv == &hc->idle_tv)
			hc->idle_ctv = NULL;
	}
	return hc;
}

void http_client_free(struct http_client *hc)
{
	struct http_client_req *r;
	struct hc_conn *c;

	if (hc == NULL)
		return;
	while ((c = TAILQ_FIRST(&hc->active)) != NULL) {
		r = c->req;
		hc_conn_close(c);
		if (r != NULL)
			req_free(r);
	}
	while ((r = TAILQ_FIRST(&hc->queue)) != NULL) {
		TAILQ_REMOVE(&hc->queue, r, link);
		req_free(r);
	}
	while ((r = TAILQ_FIRST(&hc->done)) != NULL) {
		TAILQ_REMOVE(&hc->done, r, link);
		req_free(r);
	}
	while ((c = TAILQ_FIRST(&hc->idle)) != NULL)
		hc_conn_close(c);
	event_free(hc->deliver);
	hc->dns->orphaned = true;
	dns_release(hc->dns);
	SSL_CTX_free(hc->ssl_ctx);
	free(hc);
}

int http_client_set_nameserver(struct http_client *hc, const char *ip_port, struct sg_err *err)
{
	struct evdns_base *b = hc->dns->base;

	if (evdns_base_clear_nameservers_and_suspend(b) != 0)
		return sg_err_set(err, "cannot reset the resolver");
	if (evdns_base_nameserver_ip_add(b, ip_port) != 0) {
		(void)evdns_base_resume(b);
		return sg_err_set(err, "bad name server address '%s'", ip_port);
	}
	if (evdns_base_resume(b) != 0)
		return sg_err_set(err, "cannot restart the resolver");
	return 0;
}

void http_client_get_stats(const struct http_client *hc, struct http_client_stats *out)
{
	*out = hc->stats;
}

size_t http_client_pending_bytes(const struct http_client *hc)
{
	return hc->pending_bytes;
}

unsigned http_client_idle_count(const struct http_client *hc)
{
	return hc->n_idle;
}

const char *http_client_error_str(enum http_client_error e)
{
	switch (e) {
	case HC_OK:
		return "ok";
	case HC_TIMEOUT:
		return "timeout";
	case HC_CONNECT:
		return "connection failed";
	case HC_TLS:
		return "TLS handshake or certificate verification failed";
	case HC_PROTOCOL:
		return "malformed response";
	case HC_TOO_LARGE:
		return "response too large";
	case HC_OVERLOADED:
		return "too many requests queued";
	case HC_BAD_URL:
		return "bad URL or request";
	}
	return "unknown error";
}

int http_client_url_check(const char *url, struct sg_err *err)
{
	struct hc_url u;
	int rc = hc_url_parse(url, &u, err);

	hc_url_free(&u);
	return rc;
}

/* TLS 1.2 at least; peers verified against ca_file, the system store or (insecure) not at all. */
static int ssl_ctx_make(struct http_client *hc, const char *ca_file, struct sg_err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char msg[160];

	if (ctx == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (hc->opts.insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (ca_file != NULL) {
			if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
				ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
				sg_err_set(err, "cannot load CA file '%s': %s", ca_file, msg);
				ERR_clear_error();
				SSL_CTX_free(ctx);
				return -1;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			goto fail;
		}
	}
	hc->ssl_ctx = ctx;
	return 0;
fail:
	ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
	sg_err_set(err, "cannot set up TLS: %s", msg);
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return -1;
}

/* A timeval for ms, shared through libevent's common timeouts when the
 * duration is one of the first few seen (all requests of one caller share
 * theirs, which keeps their timers O(1)); else ms written into *tv. */
static const struct timeval *timeout_tv(struct http_client *hc, int64_t ms, struct timeval *tv)
{
	const struct timeval *ct;
	unsigned i;

	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
	for (i = 0; i < hc->n_timeouts; i++)
		if (hc->timeouts[i].ms == ms)
			return hc->timeouts[i].tv;
	if (hc->n_timeouts == HC_MAX_COMMON_TIMEOUTS)
		return tv;
	ct = event_base_init_common_timeout(hc->base, tv);
	if (ct == NULL)
		return tv;
	hc->timeouts[hc->n_timeouts].ms = ms;
	hc->timeouts[hc->n_timeouts].tv = ct;
	hc->n_timeouts++;
	return ct;
}

/* ---- URL and request bytes ---- */

static void hc_url_free(struct hc_url *u)
{
	free(u->host);
	free(u->path);
	free(u->hostport);
	free(u->key);
	memset(u, 0, sizeof(*u));
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* An http:// or https:// URL (proto/url.c) and what a request to it needs. */
static int hc_url_parse(const char *url, struct hc_url *u, struct sg_err *err)
{
	struct url p;
	struct sg_buf b;

	memset(u, 0, sizeof(*u));
	if (url_parse(url, URL_SCHEMES_HTTP, &p, err) < 0)
		return -1;
	u->https = p.tls;
	u->port = (int)p.port;
	sg_buf_init(&b);
	url_append_target(&p, &b);
	u->path = sg_buf_steal(&b);
	sg_buf_init(&b);
	url_append_host_header(&p, &b);
	u->hostport = sg_buf_steal(&b);
	sg_buf_init(&b);
	sg_buf_printf(&b, "%s://%s:%d", u->https ? "https" : "http", p.host, u->port);
	u->key = sg_buf_steal(&b);
	u->host = p.host;
	p.host = NULL;
	url_fini(&p);
	return 0;
}

/* A "Name: value" header: token name, no CR, LF or other control byte. */
static int header_check(const char *h, bool *is_host, struct sg_err *err)
{
	size_t i, nl;

	for (i = 0; h[i] != '\0' && h[i] != ':'; i++)
		if (!sg_is_tchar((unsigned char)h[i]))
			return sg_err_set(err, "bad header name in '%s'", h);
	if (h[i] != ':' || i == 0)
		return sg_err_set(err, "header '%s' is not 'Name: value'", h);
	nl = i;
	for (i = nl + 1; h[i] != '\0'; i++) {
		unsigned char c = (unsigned char)h[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return sg_err_set(err, "control character in header '%.*s'", (int)nl, h);
	}
	if ((nl == 14 && strncasecmp(h, "content-length", 14) == 0) ||
	    (nl == 17 && strncasecmp(h, "transfer-encoding", 17) == 0) ||
	    (nl == 10 && strncasecmp(h, "connection", 10) == 0))
		return sg_err_set(err, "header '%.*s' is set by the client", (int)nl, h);
	*is_host = nl == 4 && strncasecmp(h, "host", 4) == 0;
	return 0;
}

static int build_request(struct http_client_req *r, const char *method, const char *const *headers,
			 const char *content_type, const void *body, size_t body_len,
			 bool keep_alive, struct sg_err *err)
{
	struct sg_buf *o = &r->out;
	bool user_host = false;
	size_t i;

	if (method == NULL || method[0] == '\0' || strlen(method) > HC_MAX_METHOD)
		return sg_err_set(err, "bad method");
	for (i = 0; method[i] != '\0'; i++)
		if (!sg_is_tchar((unsigned char)method[i]))
			return sg_err_set(err, "bad method");
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		bool is_host = false;
		if (header_check(headers[i], &is_host, err) < 0)
			return -1;
		user_host |= is_host;
	}
	if (content_type != NULL) {
		for (i = 0; content_type[i] != '\0'; i++) {
			unsigned char c = (unsigned char)content_type[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return sg_err_set(err, "control character in the content type");
		}
	}
	if (body == NULL && body_len > 0)
		return sg_err_set(err, "body_len without a body");
	r->head = strcasecmp(method, "HEAD") == 0;
	sg_buf_reserve(o, 256 + body_len);
	sg_buf_printf(o, "%s %s HTTP/1.1\r\n", method, r->url.path);
	if (!user_host)
		sg_buf_printf(o, "Host: %s\r\n", r->url.hostport);
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		sg_buf_append_str(o, headers[i]);
		sg_buf_append(o, "\r\n", 2);
	}
	if (content_type != NULL)
		sg_buf_printf(o, "Content-Type: %s\r\n", content_type);
	if (body_len > 0 || strcasecmp(method, "POST") == 0 || strcasecmp(method, "PUT") == 0 ||
	    strcasecmp(method, "PATCH") == 0)
		sg_buf_printf(o, "Content-Length: %zu\r\n", body_len);
	sg_buf_append_str(o, keep_alive ? "Connection: keep-alive\r\n\r\n"
					: "Connection: close\r\n\r\n");
	if (body_len > 0)
		sg_buf_append(o, body, body_len);
	return 0;
}

/* ---- requests ---- */

struct http_client_req *http_client_request(struct http_client *hc, const char *method,
					    const char *url, const char *const *headers,
					    const char *content_type, const void *body,
					    size_t body_len, int64_t timeout_ms, http_client_cb cb,
					    void *arg)
{
	struct http_client_req *r = sg_calloc(1, sizeof(*r));
	struct sg_err err = { 0 };
	bool keep_alive = hc->opts.max_idle_per_host > 0 && hc->opts.idle_timeout_ms > 0;

	r->magic = HC_REQ_MAGIC;
	r->state = RQ_NEW;
	r->hc = hc;
	r->cb = cb;
	r->arg = arg;
	sg_buf_init(&r->out);
	hc->stats.requests++;
	if (url == NULL || hc_url_parse(url, &r->url, &err) < 0 ||
	    build_request(r, method, headers, content_type, body, body_len, keep_alive, &err) < 0) {
		http_resp_parser_init(&r->resp, hc->opts.max_response_bytes, false);
		req_finish(r, HC_BAD_URL);
		return r;
	}
	http_resp_parser_init(&r->resp, hc->opts.max_response_bytes, r->head);
	if ((hc->in_flight >= hc->opts.max_in_flight && hc->n_queued >= hc->opts.max_queued) ||
	    (hc->opts.max_pending_bytes > 0 &&
	     hc->pending_bytes + r->out.len > hc->opts.max_pending_bytes)) {
		req_finish(r, HC_OVERLOADED);
		return r;
	}
	/* the request's bytes live until req_free */
	r->charged = r->out.len;
	hc->pending_bytes += r->charged;
	if (timeout_ms > 0) {
		struct timeval tv;
		r->timer = evtimer_new(hc->base, req_on_timeout, r);
		if (r->timer == NULL)
			sg_fatal("evtimer_new failed");
		evtimer_add(r->timer, timeout_tv(hc, timeout_ms, &tv));
	}
	if (hc->in_flight < hc->opts.max_in_flight) {
		req_start(r);
	} else {
		r->state = RQ_QUEUED;
		TAILQ_INSERT_TAIL(&hc->queue, r, link);
		hc->n_queued++;
	}
	return r;
}

void http_client_cancel(struct http_client_req *r)
{
	struct http_client *hc;

	if (r == NULL)
		return;
	r = req_check(r);
	hc = r->hc;
	switch (r->state) {
	case RQ_DELIVERING:
		return;
	case RQ_NEW:
		break;
	case RQ_QUEUED:
		TAILQ_REMOVE(&hc->queue, r, link);
		hc->n_queued--;
		break;
	case RQ_ACTIVE:
		/* the response may still come: the connection cannot be reused */
		if (r->conn != NULL)
			hc_conn_close(r->conn);
		hc->in_flight--;
		break;
	case RQ_DONE:
		TAILQ_REMOVE(&hc->done, r, link);
		break;
	}
	req_free(r);
	pump(hc);
}

static struct http_client_req *req_check(void *arg)
{
	struct http_client_req *r = arg;

	if (r == NULL || r->magic != HC_REQ_MAGIC)
		sg_fatal("http_client: bad request handle %p", arg);
	return r;
}

/* Gives r an in-flight slot and a connection: an idle one for its host, or a new one. */
static void req_start(struct http_client_req *r)
{
	struct http_client *hc = r->hc;
	struct hc_conn *c;

	r->state = RQ_ACTIVE;
	hc->in_flight++;
	c = idle_take(hc, r->url.key);
	if (c != NULL) {
		hc->stats.connections_reused++;
		hc_conn_send(c, r);
		return;
	}
	hc_conn_open(hc, r);
}

/* Moves r to the done list and schedules its callback.  Its connection, if
 * it had one, was already released or closed by the caller. */
static void req_finish(struct http_client_req *r, enum http_client_error e)
{
	struct http_client *hc = r->hc;

	switch (r->state) {
	case RQ_ACTIVE:
		hc->in_flight--;
		break;
	case RQ_QUEUED:
		TAILQ_REMOVE(&hc->queue, r, link);
		hc->n_queued--;
		break;
	case RQ_NEW:
		break;
	case RQ_DONE:
	case RQ_DELIVERING:
		sg_fatal("http_client: request finished twice");
	}
	r->conn = NULL;
	if (r->timer != NULL)
		evtimer_del(r->timer);
	r->state = RQ_DONE;
	r->result = e;
	r->seq = ++hc->seq;
	TAILQ_INSERT_TAIL(&hc->done, r, link);
	event_active(hc->deliver, 0, 0);
	pump(hc);
}

static void req_free(struct http_client_req *r)
{
	r->hc->pending_bytes -= r->charged;
	if (r->timer != NULL)
		event_free(r->timer);
	hc_url_free(&r->url);
	sg_buf_fini(&r->out);
	http_resp_parser_fini(&r->resp);
	r->magic = 0;
	free(r);
}

static void req_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct http_client_req *r = req_check(arg);

	SG_UNUSED(fd);
	SG_UNUSED(what);
	if (r->conn != NULL)
		hc_conn_close(r->conn);
	req_finish(r, HC_TIMEOUT);
}

/* Starts queued requests while slots are free.  Re-entry (a start that
 * finishes a request at once, which pumps again) is folded into the loop. */
static void pump(struct http_client *hc)
{
	struct http_client_req *r;

	if (hc->pumping)
		return;
	hc->pumping = true;
	while (hc->in_flight < hc->opts.max_in_flight && (r = TAILQ_FIRST(&hc->queue)) != NULL) {
		TAILQ_REMOVE(&hc->queue, r, link);
		hc->n_queued--;
		req_start(r);
	}
	hc->pumping = false;
}

/* Runs the callbacks of the requests finished so far, in order.  Requests
 * finished while it runs (by those callbacks) are left to the next run of
 * the event, which req_finish activated again. */
static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *hc = arg;
	struct http_client_req *r;
	uint64_t limit = hc->seq;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	while ((r = TAILQ_FIRST(&hc->done)) != NULL && r->seq <= limit) {
		TAILQ_REMOVE(&hc->done, r, link);
		r->state = RQ_DELIVERING;
		if (r->result == HC_OK) {
			struct http_client_response resp = {
				.status = r->resp.status,
				.content_type = r->resp.content_type,
				.max_age = r->resp.max_age,
				.body = r->resp.body.data,
				.body_len = r->resp.body.len,
			};
			hc->stats.ok++;
			if (r->cb != NULL)
				r->cb(HC_OK, &resp, r->arg);
		} else {
			hc->stats.errors++;
			if (r->result == HC_TIMEOUT)
				hc->stats.timeouts++;
			if (r->cb != NULL)
				r->cb(r->result, NULL, r->arg);
		}
		req_free(r);
	}
}

/* ---- connections ---- */

static struct hc_conn *hc_conn_check(void *arg)
{
	struct hc_conn *c = arg;

	if (c == NULL || c->magic != HC_CONN_MAGIC)
		sg_fatal("http_client: bad connection %p", arg);
	return c;
}

/* The most recently parked idle connection to key, taken off the pool. */
static struct hc_conn *idle_take(struct http_client *hc, const char *key)
{
	struct hc_conn *c;

	TAILQ_FOREACH(c, &hc->idle, link)
	{
		/* cppcheck does not see TAILQ_FOREACH assign c */
		// cppcheck-suppress uninitvar
		if (strcmp(c->key, key) == 0) {
			TAILQ_REMOVE(&hc->idle, c, link);
			hc->n_idle--;
			c->idle = false;
			evtimer_del(c->idle_timer);
			TAILQ_INSERT_TAIL(&hc->active, c, link);
			return c;
		}
	}
	return NULL;
}

/* A new connection for r: resolve, connect, (TLS), then send. */
static void hc_conn_open(struct http_client *hc, struct http_client_req *r)
{
	struct hc_conn *c = sg_calloc(1, sizeof(*c));

	c->magic = HC_CONN_MAGIC;
	c->hc = hc;
	c->https = r->url.https;
	c->port = r->url.port;
	c->host = sg_strdup(r->url.host);
	c->key = sg_strdup(r->url.key);
	TAILQ_INSERT_TAIL(&hc->active, c, link);
	c->req = r;
	r->conn = c;
	hc->stats.connections_opened++;
	if (c->https && hc->ssl_ctx == NULL && ssl_ctx_make(hc, NULL, NULL) < 0) {
		hc_conn_fail(c, HC_TLS);
		return;
	}
	hc_conn_resolve(c);
}

/* Starts the lookup.  evdns may answer synchronously (IP literals, /etc/hosts)
 * and then c may be gone when this returns. */
static void hc_conn_resolve(struct hc_conn *c)
{
	struct hc_lookup *lk = sg_calloc(1, sizeof(*lk));
	struct evutil_addrinfo hints;
	struct evdns_getaddrinfo_request *rq;
	char port[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(port, sizeof(port), "%d", c->port);
	lk->conn = c;
	lk->dns = c->hc->dns;
	lk->dns->pending++;
	c->lookup = lk;
	rq = evdns_getaddrinfo(lk->dns->base, c->host, port, &hints, on_resolved, lk);
	if (rq != NULL)
		lk->rq = rq; /* still running: lk and c are alive */
}

static void on_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct hc_lookup *lk = arg;
	struct hc_conn *c = lk->conn;
	struct hc_dns *dns = lk->dns;

	free(lk);
	dns->pending--;
	if (c == NULL) {
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		dns_release(dns);
		return;
	}
	c->lookup = NULL;
	if (result != 0 || ai == NULL) {
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		hc_conn_fail(c, HC_CONNECT);
		return;
	}
	c->addrs = ai;
	c->next_addr = ai;
	hc_conn_connect_next(c);
}

/* Frees the resolver once the client is gone and no lookup is pending. */
static void dns_release(struct hc_dns *dns)
{
	if (!dns->orphaned || dns->pending > 0)
		return;
	evdns_base_free(dns->base, 0);
	free(dns);
}

/* Tries the next resolved address (the previous one failed to connect). */
static void hc_conn_connect_next(struct hc_conn *c)
{
	struct evutil_addrinfo *ai;

	while ((ai = c->next_addr) != NULL) {
		c->next_addr = ai->ai_next;
		c->bev = hc_conn_make_bev(c);
		if (c->bev == NULL) {
			hc_conn_fail(c, c->https ? HC_TLS : HC_CONNECT);
			return;
		}
		/* 0 also when the connect failed at once: the error comes as an event */
		if (bufferevent_socket_connect(c->bev, ai->ai_addr, (int)ai->ai_addrlen) == 0)
			return;
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	hc_conn_fail(c, HC_CONNECT);
}

/* A bufferevent with no socket yet, plain or TLS. */
static struct bufferevent *hc_conn_make_bev(struct hc_conn *c)
{
	struct http_client *hc = c->hc;
	struct bufferevent *bev;
	const int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;

	if (c->https) {
		SSL *ssl = hc_conn_make_ssl(c);
		if (ssl == NULL)
			return NULL;
		bev = bufferevent_openssl_socket_new(hc->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
						     opts);
		if (bev == NULL) {
			SSL_free(ssl);
			return NULL;
		}
		/* many servers close without close_notify; Content-Length and
		 * chunked framing still tell a cut response apart */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else {
		bev = bufferevent_socket_new(hc->base, -1, opts);
		if (bev == NULL)
			return NULL;
	}
	bufferevent_setcb(bev, hc_conn_readcb, NULL, hc_conn_eventcb, c);
	return bev;
}

/* A client SSL for c's host: SNI and a host name check for names, an IP
 * address check for IP literals (RFC 6066 allows no IP literal in SNI). */
static SSL *hc_conn_make_ssl(struct hc_conn *c)
{
	bool verify = !c->hc->opts.insecure;
	SSL *ssl = SSL_new(c->hc->ssl_ctx);

	if (ssl == NULL)
		goto fail;
	if (is_ip_literal(c->host)) {
		if (verify && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->host) != 1)
			goto fail;
	} else {
		if (SSL_set_tlsext_host_name(ssl, c->host) != 1)
			goto fail;
		if (verify && SSL_set1_host(ssl, c->host) != 1)
			goto fail;
	}
	return ssl;
fail:
	ERR_clear_error();
	SSL_free(ssl);
	return NULL;
}

/* Binds r to the connected idle connection c and sends it. */
static void hc_conn_send(struct hc_conn *c, struct http_client_req *r)
{
	c->req = r;
	r->conn = c;
	if (bufferevent_write(c->bev, r->out.data, r->out.len) != 0)
		hc_conn_retry(c);
}

static void hc_conn_readcb(struct bufferevent *bev, void *arg)
{
	struct hc_conn *c = hc_conn_check(arg);

	SG_UNUSED(bev);
	if (c->req == NULL) {
		/* nothing may arrive on an idle connection */
		hc_conn_close(c);
		return;
	}
	(void)hc_conn_on_input(c, false);
}

static void hc_conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct hc_conn *c = hc_conn_check(arg);
	struct http_client_req *r = c->req;
	struct sg_err err;
	bool started;

	if (what & BEV_EVENT_CONNECTED) {
		c->connected = true;
		if (c->addrs != NULL)
			evutil_freeaddrinfo(c->addrs);
		c->addrs = c->next_addr = NULL;
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		if (r != NULL && bufferevent_write(bev, r->out.data, r->out.len) != 0)
			hc_conn_fail(c, HC_CONNECT);
		return;
	}
	if (r == NULL) {
		/* an idle connection closed by the server, or broken */
		hc_conn_close(c);
		return;
	}
	if (!c->connected) {
		if (c->https && hc_conn_tls_failed(c)) {
			hc_conn_fail(c, HC_TLS);
			return;
		}
		if (c->next_addr != NULL) {
			bufferevent_free(c->bev);
			c->bev = NULL;
			hc_conn_connect_next(c);
			return;
		}
		hc_conn_fail(c, HC_CONNECT);
		return;
	}
	/* bytes read before the close still count */
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0 && hc_conn_on_input(c, true))
		return;
	if ((what & BEV_EVENT_EOF) && http_resp_parser_finish(&r->resp, &err) == HRESP_DONE) {
		hc_conn_complete(c, false);
		return;
	}
	started = http_resp_parser_started(&r->resp);
	if (!started && c->used && !r->retried) {
		/* the keep-alive race: the server closed the idle connection as we reused it */
		hc_conn_retry(c);
		return;
	}
	if (c->https && hc_conn_tls_failed(c))
		hc_conn_fail(c, HC_TLS);
	else
		hc_conn_fail(c, started ? HC_PROTOCOL : HC_CONNECT);
}

/* Feeds what was read to the parser.  Returns true when the request ended
 * (c was parked or closed); eof: the connection is closing. */
static bool hc_conn_on_input(struct hc_conn *c, bool eof)
{
	struct http_client_req *r = c->req;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct sg_err err;
	size_t len;

	while ((len = evbuffer_get_length(in)) > 0) {
		size_t n = evbuffer_get_contiguous_space(in), used = 0;
		const char *p;
		enum http_resp_parser_status st;

		if (n == 0)
			n = len;
		p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		st = http_resp_parser_feed(&r->resp, p, n, &used, &err);
		evbuffer_drain(in, used);
		switch (st) {
		case HRESP_MORE:
			break;
		case HRESP_DONE:
			hc_conn_complete(c, !eof && hc_conn_reusable(c));
			return true;
		case HRESP_ERROR:
			hc_conn_fail(c, HC_PROTOCOL);
			return true;
		case HRESP_TOO_LARGE:
			hc_conn_fail(c, HC_TOO_LARGE);
			return true;
		}
	}
	return false;
}

/* After a complete response: reusable only when the server allows it, sent
 * nothing more, and all of the request went out. */
static bool hc_conn_reusable(struct hc_conn *c)
{
	return c->req->resp.keep_alive && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 &&
	       evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

/* Whether OpenSSL reported a TLS-level failure (not a plain I/O error). */
static bool hc_conn_tls_failed(struct hc_conn *c)
{
	unsigned long e;
	bool tls = false;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	/* libevent queues the SSL_get_error() code, then OpenSSL's error codes;
	 * SSL_ERROR_SYSCALL and system errors are plain I/O failures */
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		if (e != SSL_ERROR_SYSCALL && ERR_GET_LIB(e) != ERR_LIB_SYS)
			tls = true;
	if (ssl != NULL && SSL_get_verify_result(ssl) != X509_V_OK)
		tls = true;
	return tls;
}

/* The response of c's request is complete. */
static void hc_conn_complete(struct hc_conn *c, bool reusable)
{
	struct http_client_req *r = c->req;

	c->req = NULL;
	r->conn = NULL;
	c->used = true;
	if (reusable)
		hc_conn_park(c);
	else
		hc_conn_close(c);
	req_finish(r, HC_OK);
}

/* Puts c in the idle pool, or closes it when the pool for its host is full. */
static void hc_conn_park(struct hc_conn *c)
{
	struct http_client *hc = c->hc;
	struct hc_conn *o;
	unsigned n = 0;

	if (hc->opts.idle_timeout_ms <= 0) {
		hc_conn_close(c);
		return;
	}
	TAILQ_FOREACH(o, &hc->idle, link)
	if (strcmp(o->key, c->key) == 0)
		n++;
	if (n >= hc->opts.max_idle_per_host) {
		hc_conn_close(c);
		return;
	}
	if (c->idle_timer == NULL) {
		c->idle_timer = evtimer_new(hc->base, hc_conn_on_idle_timeout, c);
		if (c->idle_timer == NULL)
			sg_fatal("evtimer_new failed");
	}
	evtimer_add(c->idle_timer, hc->idle_ctv != NULL ? hc->idle_ctv : &hc->idle_tv);
	TAILQ_REMOVE(&hc->active, c, link);
	TAILQ_INSERT_HEAD(&hc->idle, c, link);
	c->idle = true;
	hc->n_idle++;
}

static void hc_conn_on_idle_timeout(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	hc_conn_close(hc_conn_check(arg));
}

/* c's request failed before any byte of its response on a reused
 * connection: send it again, once, on a new connection. */
static void hc_conn_retry(struct hc_conn *c)
{
	struct http_client *hc = c->hc;
	struct http_client_req *r = c->req;

	hc_conn_close(c);
	r->retried = true;
	http_resp_parser_fini(&r->resp);
	http_resp_parser_init(&r->resp, hc->opts.max_response_bytes, r->head);
	hc_conn_open(hc, r);
}

static void hc_conn_fail(struct hc_conn *c, enum http_client_error e)
{
	struct http_client_req *r = c->req;

	hc_conn_close(c);
	if (r != NULL)
		req_finish(r, e);
}

/* Frees c and everything it holds; its request, if any, is detached (the
 * caller finishes it).  A lookup still running is cancelled: its callback
 * comes later and frees the lookup alone. */
static void hc_conn_close(struct hc_conn *c)
{
	struct http_client *hc = c->hc;

	if (c->req != NULL) {
		c->req->conn = NULL;
		c->req = NULL;
	}
	if (c->lookup != NULL) {
		c->lookup->conn = NULL;
		if (c->lookup->rq != NULL)
			evdns_getaddrinfo_cancel(c->lookup->rq);
		c->lookup = NULL;
	}
	if (c->addrs != NULL)
		evutil_freeaddrinfo(c->addrs);
	if (c->idle_timer != NULL)
		event_free(c->idle_timer);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->idle) {
		TAILQ_REMOVE(&hc->idle, c, link);
		hc->n_idle--;
	} else {
		TAILQ_REMOVE(&hc->active, c, link);
	}
	free(c->host);
	free(c->key);
	c->magic = 0;
	free(c);
}

enum callout_outcome http_client_outcome(enum http_client_error e)
{
	switch (e) {
	case HC_TIMEOUT:
		return CALLOUT_TIMEOUT;
	case HC_CONNECT:
		return CALLOUT_UNAVAILABLE;
	case HC_OVERLOADED:
		return CALLOUT_OVERLOADED;
	default:
		return CALLOUT_ERROR;
	}
}
