/*
 * http_client.c: the asynchronous HTTP client (see http_client.h), on
 * libcurl's multi interface driven by the worker's libevent loop
 * (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION): libcurl owns connections,
 * the keep-alive pool, TLS, HTTP/2, proxies from the environment and name
 * resolution (its threaded resolver); this file keeps what is siogate's:
 * the in-flight cap and its FIFO queue, the bounds in requests, bytes and
 * response size, one deadline per request that counts its time in the
 * queue, and callbacks that never run from inside an API call or a
 * libcurl callback.
 *
 * It owns requests (queued, active, done-awaiting-callback).  Invariants: a
 * request is in exactly one place (hc->queue when RQ_QUEUED, in the multi
 * handle when RQ_ACTIVE, hc->done when RQ_DONE); hc->in_flight counts the
 * RQ_ACTIVE requests and never exceeds opts.max_in_flight.  User callbacks
 * run only from the deliver event.
 */
#include "net/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "proto/http_resp_parser.h"
#include "proto/url.h"

#define HC_REQ_MAGIC 0x48435251u /* "HCRQ" */
#define HC_MAX_COMMON_TIMEOUTS 8
#define HC_MAX_METHOD 32

enum hc_req_state {
	RQ_NEW,	       /* being set up inside http_client_request */
	RQ_QUEUED,     /* waiting in hc->queue for an in-flight slot */
	RQ_ACTIVE,     /* holds an in-flight slot; its easy handle is in the multi */
	RQ_DONE,       /* finished, in hc->done waiting for its callback */
	RQ_DELIVERING, /* its callback is running */
};

struct http_client_req {
	uint32_t magic;
	enum hc_req_state state;
	struct http_client *hc;
	TAILQ_ENTRY(http_client_req) link; /* on hc->queue or hc->done */
	CURL *easy;			   /* set up at once, run when RQ_ACTIVE */
	struct curl_slist *headers;
	struct event *timer; /* the whole-request timeout, or NULL */
	http_client_cb cb;
	void *arg;
	/* the response */
	int status;
	char *content_type;
	int64_t max_age;
	struct sg_buf body;
	size_t received;	       /* head and body bytes, against max_response_bytes */
	bool too_large;		       /* the write or header callback refused more */
	bool got_bytes;		       /* some of a response came */
	enum http_client_error result; /* once RQ_DONE */
	size_t charged;		       /* bytes counted in hc->pending_bytes until freed */
	uint64_t seq;		       /* order of completion */
};

TAILQ_HEAD(hc_req_list, http_client_req);

/* A socket libcurl asked the loop to watch. */
struct hc_sock {
	struct event *ev;
};

struct http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *curl_timer; /* CURLMOPT_TIMERFUNCTION's */
	char *ca_file;
	struct http_client_opts opts; /* ca_file not kept here */
	struct event *deliver;
	struct hc_req_list queue;
	struct hc_req_list active;
	struct hc_req_list done;
	unsigned n_queued;
	size_t pending_bytes; /* sum of the live requests' charged bytes */
	unsigned in_flight;
	uint64_t seq;
	bool pumping;
	struct {
		int64_t ms;
		const struct timeval *tv;
	} timeouts[HC_MAX_COMMON_TIMEOUTS];
	unsigned n_timeouts;
	struct http_client_stats stats;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	/* thread-safe in libcurl >= 7.84 built "threadsafe" (Debian 12's
	 * 7.88 is); once per process all the same */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		sg_fatal("curl_global_init failed");
}

static struct http_client_req *req_check(void *arg);
static void req_start(struct http_client_req *r);
static void req_finish(struct http_client_req *r, enum http_client_error e);
static void req_free(struct http_client_req *r);
static void req_on_timeout(evutil_socket_t fd, short what, void *arg);
static void pump(struct http_client *hc);
static void on_deliver(evutil_socket_t fd, short what, void *arg);
static void check_done(struct http_client *hc);
static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp);
static int timer_cb(CURLM *m, long timeout_ms, void *userp);
static void on_sock(evutil_socket_t fd, short what, void *arg);
static void on_curl_timer(evutil_socket_t fd, short what, void *arg);
static const struct timeval *timeout_tv(struct http_client *hc, int64_t ms, struct timeval *tv);

struct http_client *http_client_new(struct event_base *base, const struct http_client_opts *opts,
				    struct sg_err *err)
{
	struct http_client *hc;
	long maxconnects;

	if (opts->max_in_flight < 1) {
		sg_err_set(err, "max_in_flight must be at least 1");
		return NULL;
	}
	if (opts->max_response_bytes < 1) {
		sg_err_set(err, "max_response_bytes must be at least 1");
		return NULL;
	}
	if (opts->ca_file != NULL && !opts->insecure) {
		FILE *f = fopen(opts->ca_file, "r");
		if (f == NULL) {
			sg_err_set(err, "cannot load CA file '%s': %s", opts->ca_file,
				   strerror(errno));
			return NULL;
		}
		fclose(f);
	}
	pthread_once(&curl_once, curl_init_once);
	hc = sg_calloc(1, sizeof(*hc));
	hc->base = base;
	hc->opts = *opts;
	hc->opts.ca_file = NULL;
	hc->ca_file = opts->ca_file ? sg_strdup(opts->ca_file) : NULL;
	TAILQ_INIT(&hc->queue);
	TAILQ_INIT(&hc->active);
	TAILQ_INIT(&hc->done);
	hc->multi = curl_multi_init();
	if (hc->multi == NULL)
		sg_fatal("curl_multi_init failed");
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
	/* the pool: kept-alive connections, a few hosts per worker */
	maxconnects = (long)(opts->max_idle_per_host > 0 ? opts->max_idle_per_host * 4 : 1);
	curl_multi_setopt(hc->multi, CURLMOPT_MAXCONNECTS, maxconnects);
	curl_multi_setopt(hc->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	hc->curl_timer = evtimer_new(base, on_curl_timer, hc);
	hc->deliver = event_new(base, -1, 0, on_deliver, hc);
	if (hc->deliver == NULL || hc->curl_timer == NULL)
		sg_fatal("event_new failed");
	return hc;
}

void http_client_free(struct http_client *hc)
{
	struct http_client_req *r;

	if (hc == NULL)
		return;
	while ((r = TAILQ_FIRST(&hc->active)) != NULL) {
		TAILQ_REMOVE(&hc->active, r, link);
		req_free(r); /* takes its easy handle out of the multi */
	}
	while ((r = TAILQ_FIRST(&hc->queue)) != NULL) {
		TAILQ_REMOVE(&hc->queue, r, link);
		req_free(r);
	}
	while ((r = TAILQ_FIRST(&hc->done)) != NULL) {
		TAILQ_REMOVE(&hc->done, r, link);
		req_free(r);
	}
	/* closes the pool's connections; sock_cb frees their events */
	curl_multi_cleanup(hc->multi);
	event_free(hc->curl_timer);
	event_free(hc->deliver);
	free(hc->ca_file);
	free(hc);
}

void http_client_get_stats(const struct http_client *hc, struct http_client_stats *out)
{
	*out = hc->stats;
}

size_t http_client_pending_bytes(const struct http_client *hc)
{
	return hc->pending_bytes;
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
	struct url p;

	if (url_parse(url, URL_SCHEMES_HTTP, &p, err) < 0)
		return -1;
	url_fini(&p);
	return 0;
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

/* ---- requests ---- */

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

/* Checks the method, headers and content type (http_client_request's rules). */
static int request_check(const char *method, const char *const *headers, const char *content_type,
			 const void *body, size_t body_len, struct sg_err *err)
{
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
	return 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct http_client_req *r = arg;
	size_t len = size * n, nl;
	const char *v, *end;

	r->got_bytes = true;
	r->received += len;
	if (r->received > r->hc->opts.max_response_bytes) {
		r->too_large = true;
		return 0;
	}
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* a new response (after a 1xx): its own headers only */
		free(r->content_type);
		r->content_type = NULL;
		r->max_age = -1;
		return len;
	}
	v = memchr(data, ':', len);
	if (v == NULL)
		return len;
	nl = (size_t)(v - data);
	end = data + len;
	for (v++; v < end && (*v == ' ' || *v == '\t'); v++) {
	}
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (nl == 12 && strncasecmp(data, "content-type", 12) == 0) {
		free(r->content_type);
		r->content_type = sg_malloc((size_t)(end - v) + 1);
		memcpy(r->content_type, v, (size_t)(end - v));
		r->content_type[end - v] = '\0';
	} else if (nl == 13 && strncasecmp(data, "cache-control", 13) == 0) {
		r->max_age = http_cache_max_age(v, (size_t)(end - v), r->max_age);
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct http_client_req *r = arg;
	size_t len = size * n;

	r->got_bytes = true;
	r->received += len;
	if (r->received > r->hc->opts.max_response_bytes) {
		r->too_large = true;
		return 0;
	}
	sg_buf_append(&r->body, data, len);
	return len;
}

/* The easy handle of a request, or -1 (err) when libcurl refuses an option. */
static int easy_setup(struct http_client_req *r, const char *method, const char *url,
		      const char *const *headers, const char *content_type, const void *body,
		      size_t body_len, struct sg_err *err)
{
	struct http_client *hc = r->hc;
	bool keep_alive = hc->opts.max_idle_per_host > 0 && hc->opts.idle_timeout_ms > 0;
	bool with_body = body_len > 0 || strcasecmp(method, "POST") == 0 ||
			 strcasecmp(method, "PUT") == 0 || strcasecmp(method, "PATCH") == 0;
	CURL *e = curl_easy_init();
	CURLcode rc = CURLE_OK;

	if (e == NULL)
		sg_fatal("curl_easy_init failed");
	r->easy = e;
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		r->headers = curl_slist_append(r->headers, headers[i]);
	if (content_type != NULL) {
		char *h = sg_malloc(strlen(content_type) + 16);
		sprintf(h, "Content-Type: %s", content_type);
		r->headers = curl_slist_append(r->headers, h);
		free(h);
	} else if (with_body) {
		/* no form content type of libcurl's own */
		r->headers = curl_slist_append(r->headers, "Content-Type:");
	}
	/* no 100-continue round trip: the backends are ours */
	r->headers = curl_slist_append(r->headers, "Expect:");
	rc |= curl_easy_setopt(e, CURLOPT_URL, url);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	rc |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (hc->opts.insecure) {
		rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (hc->ca_file != NULL) {
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, hc->ca_file);
		rc |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (keep_alive)
		rc |= curl_easy_setopt(e, CURLOPT_MAXAGE_CONN,
				       (long)((hc->opts.idle_timeout_ms + 999) / 1000));
	else
		rc |= curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	if (strcasecmp(method, "HEAD") == 0)
		rc |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (with_body) {
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		rc |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body_len > 0 ? body : "");
	}
	if (rc != CURLE_OK)
		return sg_err_set(err, "libcurl refused an option");
	return 0;
}

struct http_client_req *http_client_request(struct http_client *hc, const char *method,
					    const char *url, const char *const *headers,
					    const char *content_type, const void *body,
					    size_t body_len, int64_t timeout_ms, http_client_cb cb,
					    void *arg)
{
	struct http_client_req *r = sg_calloc(1, sizeof(*r));
	struct sg_err err = { 0 };
	size_t bytes;

	r->magic = HC_REQ_MAGIC;
	r->state = RQ_NEW;
	r->hc = hc;
	r->cb = cb;
	r->arg = arg;
	r->max_age = -1;
	sg_buf_init(&r->body);
	hc->stats.requests++;
	if (url == NULL || http_client_url_check(url, &err) < 0 ||
	    request_check(method, headers, content_type, body, body_len, &err) < 0 ||
	    easy_setup(r, method, url, headers, content_type, body, body_len, &err) < 0) {
		req_finish(r, HC_BAD_URL);
		return r;
	}
	/* the request as it would go on the wire, about: what it holds */
	bytes = strlen(method) + strlen(url) + body_len + 64;
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		bytes += strlen(headers[i]) + 2;
	if (content_type != NULL)
		bytes += strlen(content_type) + 16;
	if ((hc->in_flight >= hc->opts.max_in_flight && hc->n_queued >= hc->opts.max_queued) ||
	    (hc->opts.max_pending_bytes > 0 &&
	     hc->pending_bytes + bytes > hc->opts.max_pending_bytes)) {
		req_finish(r, HC_OVERLOADED);
		return r;
	}
	r->charged = bytes;
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

/* Takes r's easy handle out of the multi (its connection closed unless
 * the response was complete). */
static void req_detach(struct http_client_req *r)
{
	struct http_client *hc = r->hc;

	TAILQ_REMOVE(&hc->active, r, link);
	curl_multi_remove_handle(hc->multi, r->easy);
	hc->in_flight--;
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
		req_detach(r);
		r->state = RQ_NEW;
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

static void req_start(struct http_client_req *r)
{
	struct http_client *hc = r->hc;

	r->state = RQ_ACTIVE;
	hc->in_flight++;
	TAILQ_INSERT_TAIL(&hc->active, r, link);
	if (curl_multi_add_handle(hc->multi, r->easy) != CURLM_OK) {
		TAILQ_REMOVE(&hc->active, r, link);
		hc->in_flight--;
		r->state = RQ_NEW;
		req_finish(r, HC_CONNECT);
	}
}

/* Moves r to the done list and schedules its callback. */
static void req_finish(struct http_client_req *r, enum http_client_error e)
{
	struct http_client *hc = r->hc;

	switch (r->state) {
	case RQ_ACTIVE:
		req_detach(r);
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
	struct http_client *hc = r->hc;

	if (r->state == RQ_ACTIVE)
		curl_multi_remove_handle(hc->multi, r->easy);
	hc->pending_bytes -= r->charged;
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->content_type);
	sg_buf_fini(&r->body);
	r->magic = 0;
	free(r);
}

static void req_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct http_client_req *r = req_check(arg);

	SG_UNUSED(fd);
	SG_UNUSED(what);
	req_finish(r, HC_TIMEOUT);
}

/* Starts queued requests while slots are free. */
static void pump(struct http_client *hc)
{
	struct http_client_req *r;

	if (hc->pumping)
		return;
	hc->pumping = true;
	while (hc->in_flight < hc->opts.max_in_flight && (r = TAILQ_FIRST(&hc->queue)) != NULL) {
		TAILQ_REMOVE(&hc->queue, r, link);
		hc->n_queued--;
		r->state = RQ_NEW;
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
				.status = r->status,
				.content_type = r->content_type,
				.max_age = r->max_age,
				.body = r->body.data != NULL ? r->body.data : "",
				.body_len = r->body.len,
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

/* ---- libcurl's side ---- */

static enum http_client_error error_of(const struct http_client_req *r, CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return HC_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return HC_TIMEOUT;
	case CURLE_WRITE_ERROR:
		return r->too_large ? HC_TOO_LARGE : HC_PROTOCOL;
	case CURLE_URL_MALFORMAT:
		return HC_BAD_URL;
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* the URL was checked: an HTTP/0.9 (or garbage) answer */
		return HC_PROTOCOL;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return HC_TLS;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return HC_CONNECT;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		/* closed or reset: before a response, or in the middle of one */
		return r->got_bytes ? HC_PROTOCOL : HC_CONNECT;
	default:
		return r->got_bytes ? HC_PROTOCOL : HC_CONNECT;
	}
}

/* Finishes the transfers libcurl has completed. */
static void check_done(struct http_client *hc)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(hc->multi, &left)) != NULL) {
		struct http_client_req *r = NULL;
		long status = 0, conns = 0;
		enum http_client_error e;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		r = req_check(r);
		e = error_of(r, m->data.result);
		curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &conns);
		hc->stats.connections_opened += (uint64_t)conns;
		if (e == HC_OK) {
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
			r->status = (int)status;
			if (conns == 0)
				hc->stats.connections_reused++;
			if (status < 100 || status > 999)
				e = HC_PROTOCOL;
		}
		req_finish(r, e);
	}
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *hc = arg;
	int running = 0;
	int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
		     ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(hc->multi, fd, action, &running);
	check_done(hc);
}

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *hc = arg;
	int running = 0;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	curl_multi_socket_action(hc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(hc);
}

/* CURLMOPT_SOCKETFUNCTION: watch s as libcurl asks. */
static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http_client *hc = userp;
	struct hc_sock *hs = socketp;
	short kind;

	SG_UNUSED(e);
	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL) {
			event_free(hs->ev);
			free(hs);
			curl_multi_assign(hc->multi, s, NULL);
		}
		return 0;
	}
	kind = (short)(EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
		       ((what & CURL_POLL_OUT) ? EV_WRITE : 0));
	if (hs == NULL) {
		hs = sg_calloc(1, sizeof(*hs));
		curl_multi_assign(hc->multi, s, hs);
	} else {
		event_free(hs->ev);
	}
	hs->ev = event_new(hc->base, s, kind, on_sock, hc);
	if (hs->ev == NULL)
		sg_fatal("event_new failed");
	event_add(hs->ev, NULL);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer for libcurl's own deadlines. */
static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct http_client *hc = userp;

	SG_UNUSED(m);
	if (timeout_ms < 0) {
		evtimer_del(hc->curl_timer);
	} else {
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
		evtimer_add(hc->curl_timer, &tv);
	}
	return 0;
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
