/*
 * test_http_client.c: the asynchronous HTTP client against servers in the
 * same process and event loop: libevent's evhttp (plain and TLS with a
 * throwaway certificate made here), a raw TCP server that writes canned bytes
 * (garbage, close-delimited bodies, the keep-alive race), and a fake DNS
 * server.  Every wait is bounded; the whole file runs in a few seconds.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/http_client.h"
#include "unit.h"

#define SLOW_MS 500
#define MAX_RESP (64 * 1024)

static struct event_base *base;

/* ---- loop helpers ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	SG_UNUSED(arg);
}

/* Runs the loop until *counter >= target or ms passed; true when reached. */
static bool run_until(const int *counter, int target, int ms)
{
	struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	struct timeval tv = { 0, 2000 };
	int64_t deadline = now_ms() + ms;

	event_add(tick, &tv);
	while (*counter < target && now_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
	return *counter >= target;
}

static void run_for(int ms)
{
	int never = 0;

	(void)run_until(&never, 1, ms);
}

/* ---- results ---- */

struct result {
	int called;
	enum http_client_error err;
	int status;
	bool has_ctype;
	char ctype[64];
	char body[512];
	size_t body_len;
	int64_t at;
	int *counter;
	struct http_client_req *cancel_other; /* cancelled from inside this callback */
};

static int done_count;

static void on_result(enum http_client_error err, const struct http_client_response *resp,
		      void *arg)
{
	struct result *r = arg;

	r->called++;
	r->err = err;
	r->at = now_ms();
	CHECK((resp != NULL) == (err == HC_OK));
	if (resp != NULL) {
		r->status = resp->status;
		r->has_ctype = resp->content_type != NULL;
		if (resp->content_type != NULL)
			snprintf(r->ctype, sizeof(r->ctype), "%s", resp->content_type);
		CHECK(resp->body != NULL);
		CHECK_INT(resp->body[resp->body_len], 0);
		r->body_len = resp->body_len;
		snprintf(r->body, sizeof(r->body), "%.*s", (int)resp->body_len, resp->body);
	}
	if (r->cancel_other != NULL)
		http_client_cancel(r->cancel_other);
	done_count++;
	if (r->counter != NULL)
		(*r->counter)++;
}

static struct http_client *client(unsigned in_flight, unsigned queued, const char *ca_file,
				  bool insecure)
{
	struct http_client_opts o = {
		.max_in_flight = in_flight,
		.max_queued = queued,
		.max_idle_per_host = 8,
		.idle_timeout_ms = 5000,
		.max_response_bytes = MAX_RESP,
		.ca_file = ca_file,
		.insecure = insecure,
	};
	struct sg_err err = { 0 };
	struct http_client *hc = http_client_new(base, &o, &err);

	if (hc == NULL)
		fprintf(stderr, "http_client_new: %s\n", err.msg);
	CHECK(hc != NULL);
	return hc;
}

static struct http_client_req *get(struct http_client *hc, const char *url, int64_t timeout,
				   struct result *res)
{
	return http_client_request(hc, "GET", url, NULL, NULL, NULL, 0, timeout, on_result, res);
}

/* One request, waited for. */
static void fetch(struct http_client *hc, const char *url, struct result *res)
{
	int before = done_count;

	get(hc, url, 3000, res);
	CHECK(run_until(&done_count, before + 1, 4000));
	CHECK_INT(res->called, 1);
}

static int bound_port(evutil_socket_t fd)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &sl) != 0)
		return -1;
	return ntohs(sin.sin_port);
}

/* ---- the evhttp test server ---- */

struct tsrv {
	struct evhttp *http;
	SSL_CTX *ssl;
	int port;
	int requests;
	int slow_pending;
	char url[64]; /* scheme://127.0.0.1:port */
};

struct slow_reply {
	struct evhttp_request *req;
	struct event *ev;
	struct tsrv *s;
};

static void slow_fire(evutil_socket_t fd, short what, void *arg)
{
	struct slow_reply *sr = arg;
	struct evbuffer *b = evbuffer_new();

	SG_UNUSED(fd);
	SG_UNUSED(what);
	evbuffer_add_printf(b, "late");
	/* frees the request even when its client is gone */
	evhttp_send_reply(sr->req, 200, "OK", b);
	evbuffer_free(b);
	event_free(sr->ev);
	sr->s->slow_pending--;
	free(sr);
}

static void srv_handler(struct evhttp_request *req, void *arg)
{
	struct tsrv *s = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	s->requests++;
	if (path == NULL)
		path = "";
	if (strcmp(path, "/json") == 0) {
		evhttp_add_header(out, "Content-Type", "application/json");
		evbuffer_add_printf(b, "{\"ok\":true}");
		evhttp_send_reply(req, 200, "OK", b);
	} else if (strcmp(path, "/echo") == 0) {
		const char *m;
		const char *xt = evhttp_find_header(in, "X-Test");
		const char *ct = evhttp_find_header(in, "Content-Type");
		const char *cl = evhttp_find_header(in, "Content-Length");
		const char *host = evhttp_find_header(in, "Host");
		struct evbuffer *body = evhttp_request_get_input_buffer(req);
		switch (evhttp_request_get_command(req)) {
		case EVHTTP_REQ_POST:
			m = "POST";
			break;
		case EVHTTP_REQ_GET:
			m = "GET";
			break;
		case EVHTTP_REQ_PUT:
			m = "PUT";
			break;
		default:
			m = "OTHER";
		}
		evbuffer_add_printf(b, "%s|%s|%s|%s|%s|", m, xt ? xt : "-", host ? host : "-",
				    ct ? ct : "-", cl ? cl : "-");
		evbuffer_add_buffer(b, body);
		evhttp_send_reply(req, 200, "OK", b);
	} else if (strcmp(path, "/500") == 0) {
		evbuffer_add_printf(b, "boom");
		evhttp_send_reply(req, 500, "Internal Server Error", b);
	} else if (strcmp(path, "/slow") == 0) {
		struct slow_reply *sr = sg_calloc(1, sizeof(*sr));
		struct timeval tv = { 0, SLOW_MS * 1000 };
		sr->req = req;
		sr->s = s;
		sr->ev = evtimer_new(base, slow_fire, sr);
		evtimer_add(sr->ev, &tv);
		s->slow_pending++;
	} else if (strcmp(path, "/chunked") == 0) {
		evhttp_add_header(out, "Content-Type", "text/plain");
		evhttp_send_reply_start(req, 200, "OK");
		evbuffer_add_printf(b, "hello, ");
		evhttp_send_reply_chunk(req, b);
		evbuffer_add_printf(b, "chunked ");
		evhttp_send_reply_chunk(req, b);
		evbuffer_add_printf(b, "world");
		evhttp_send_reply_chunk(req, b);
		evhttp_send_reply_end(req);
	} else if (strcmp(path, "/big") == 0) {
		char *big = sg_malloc(100000);
		memset(big, 'x', 100000);
		evbuffer_add(b, big, 100000);
		free(big);
		evhttp_send_reply(req, 200, "OK", b);
	} else if (strcmp(path, "/close") == 0) {
		evhttp_add_header(out, "Connection", "close");
		evbuffer_add_printf(b, "bye");
		evhttp_send_reply(req, 200, "OK", b);
	} else {
		evhttp_send_reply(req, 404, "Not Found", b);
	}
	evbuffer_free(b);
}

static struct bufferevent *srv_tls_bevcb(struct event_base *b, void *arg)
{
	struct tsrv *s = arg;

	return bufferevent_openssl_socket_new(b, -1, SSL_new(s->ssl), BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

static void srv_start(struct tsrv *s, SSL_CTX *ssl)
{
	struct evhttp_bound_socket *bs;

	memset(s, 0, sizeof(*s));
	s->http = evhttp_new(base);
	s->ssl = ssl;
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						    EVHTTP_REQ_HEAD);
	evhttp_set_gencb(s->http, srv_handler, s);
	if (ssl != NULL)
		evhttp_set_bevcb(s->http, srv_tls_bevcb, s);
	bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
	CHECK(bs != NULL);
	s->port = bound_port(evhttp_bound_socket_get_fd(bs));
	CHECK(s->port > 0);
	snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%d", ssl ? "https" : "http", s->port);
}

static void srv_stop(struct tsrv *s)
{
	/* pending slow replies hold requests: let them go out first */
	while (s->slow_pending > 0) {
		int64_t t = now_ms();
		run_for(50);
		if (now_ms() - t > 5000)
			break;
	}
	CHECK_INT(s->slow_pending, 0);
	evhttp_free(s->http);
}

/* ---- the raw server: canned bytes ---- */

enum raw_mode {
	RAW_CLOSE_AFTER, /* reply, then close */
	RAW_KEEP,	 /* reply to every request, keep the connection */
	RAW_RACE,	 /* reply to the first request of a connection, close on the second */
	RAW_ONCE,	 /* reply to the server's very first request only; close on any other */
	RAW_CLOSE_LATER, /* reply, close 30 ms later */
};

struct rawconn {
	struct rawsrv *s;
	struct bufferevent *bev;
	struct event *later;
	int served;
};

struct rawsrv {
	struct evconnlistener *lis;
	int port;
	const char *reply;
	enum raw_mode mode;
	int accepted;
	int requests;
	struct rawconn *conns[64];
	int nconns;
	char url[64];
};

static void raw_close(struct rawconn *rc)
{
	if (rc->bev != NULL) {
		bufferevent_free(rc->bev);
		rc->bev = NULL;
	}
}

static void raw_later(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	raw_close(arg);
}

static void raw_writecb(struct bufferevent *bev, void *arg)
{
	SG_UNUSED(bev);
	raw_close(arg); /* installed only once the reply is written and the connection must end */
}

static void raw_eventcb(struct bufferevent *bev, short what, void *arg)
{
	SG_UNUSED(bev);
	SG_UNUSED(what);
	raw_close(arg);
}

static void raw_readcb(struct bufferevent *bev, void *arg)
{
	struct rawconn *rc = arg;
	struct rawsrv *s = rc->s;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end;
	bool reply;

	for (;;) {
		end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (end.pos < 0)
			return;
		evbuffer_drain(in, (size_t)end.pos + 4);
		s->requests++;
		rc->served++;
		switch (s->mode) {
		case RAW_RACE:
			reply = rc->served == 1;
			break;
		case RAW_ONCE:
			reply = s->requests == 1;
			break;
		default:
			reply = true;
		}
		if (!reply) {
			raw_close(rc);
			return;
		}
		if (s->reply[0] == '\0') {
			raw_close(rc);
			return;
		}
		bufferevent_write(bev, s->reply, strlen(s->reply));
		if (s->mode == RAW_CLOSE_AFTER) {
			bufferevent_setcb(bev, NULL, raw_writecb, raw_eventcb, rc);
			return;
		}
		if (s->mode == RAW_CLOSE_LATER) {
			struct timeval tv = { 0, 30000 };
			rc->later = evtimer_new(base, raw_later, rc);
			evtimer_add(rc->later, &tv);
		}
	}
}

static void raw_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		       int socklen, void *arg)
{
	struct rawsrv *s = arg;
	struct rawconn *rc;

	SG_UNUSED(l);
	SG_UNUSED(sa);
	SG_UNUSED(socklen);
	s->accepted++;
	if (s->nconns == (int)SG_ARRAY_LEN(s->conns)) {
		evutil_closesocket(fd);
		return;
	}
	rc = sg_calloc(1, sizeof(*rc));
	rc->s = s;
	rc->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(rc->bev, raw_readcb, NULL, raw_eventcb, rc);
	bufferevent_enable(rc->bev, EV_READ | EV_WRITE);
	s->conns[s->nconns++] = rc;
}

static void raw_start(struct rawsrv *s, enum raw_mode mode, const char *reply)
{
	struct sockaddr_in sin;

	memset(s, 0, sizeof(*s));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->mode = mode;
	s->reply = reply;
	s->lis = evconnlistener_new_bind(base, raw_accept, s,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
					 (struct sockaddr *)&sin, sizeof(sin));
	CHECK(s->lis != NULL);
	s->port = bound_port(evconnlistener_get_fd(s->lis));
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d/", s->port);
}

static void raw_stop(struct rawsrv *s)
{
	for (int i = 0; i < s->nconns; i++) {
		raw_close(s->conns[i]);
		if (s->conns[i]->later != NULL)
			event_free(s->conns[i]->later);
		free(s->conns[i]);
	}
	evconnlistener_free(s->lis);
}

/* A port nothing listens on. */
static int closed_port(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	port = bound_port(fd);
	close(fd);
	return port;
}

/* ---- certificates ---- */

struct cert {
	EVP_PKEY *key;
	X509 *x509;
	char path[64];
};

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	CHECK(ext != NULL);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/* A self-signed P-256 certificate for san, written as PEM to a temp file. */
static void cert_make(struct cert *c, const char *cn, const char *san, long serial)
{
	X509_NAME *name;
	FILE *f;
	int fd;

	c->key = EVP_EC_gen("P-256");
	CHECK(c->key != NULL);
	c->x509 = X509_new();
	X509_set_version(c->x509, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c->x509), serial);
	X509_gmtime_adj(X509_getm_notBefore(c->x509), -60);
	X509_gmtime_adj(X509_getm_notAfter(c->x509), 3600);
	X509_set_pubkey(c->x509, c->key);
	name = X509_get_subject_name(c->x509);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c->x509, name);
	add_ext(c->x509, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(c->x509, NID_subject_alt_name, san);
	CHECK(X509_sign(c->x509, c->key, EVP_sha256()) > 0);
	snprintf(c->path, sizeof(c->path), "/tmp/sg_test_hc_XXXXXX");
	fd = mkstemp(c->path);
	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	CHECK(PEM_write_X509(f, c->x509) == 1);
	fclose(f);
}

static SSL_CTX *cert_server_ctx(const struct cert *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	CHECK(SSL_CTX_use_certificate(ctx, c->x509) == 1);
	CHECK(SSL_CTX_use_PrivateKey(ctx, c->key) == 1);
	return ctx;
}

static void cert_free(struct cert *c)
{
	unlink(c->path);
	X509_free(c->x509);
	EVP_PKEY_free(c->key);
}

/* ---- tests ---- */

static struct tsrv hsrv; /* plain evhttp server shared by most tests */

static void test_ok_json_and_echo(void)
{
	struct http_client *hc = client(4, 16, NULL, false);
	struct http_client_stats st;
	struct result r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	char url[128];
	const char *hdrs[] = { "X-Test: yes", NULL };
	const char *hosthdr[] = { "Host: api.example", NULL };
	int before;

	snprintf(url, sizeof(url), "%s/json", hsrv.url);
	fetch(hc, url, &r1);
	CHECK_INT(r1.err, HC_OK);
	CHECK_INT(r1.status, 200);
	CHECK(r1.has_ctype);
	CHECK_STR(r1.ctype, "application/json");
	CHECK_STR(r1.body, "{\"ok\":true}");
	CHECK_INT(r1.body_len, 11);

	snprintf(url, sizeof(url), "%s/echo?x=1#frag", hsrv.url);
	before = done_count;
	http_client_request(hc, "POST", url, hdrs, "application/json", "{\"a\":1}", 7, 3000,
			    on_result, &r2);
	CHECK(run_until(&done_count, before + 1, 3000));
	CHECK_INT(r2.err, HC_OK);
	snprintf(url, sizeof(url), "POST|yes|127.0.0.1:%d|application/json|7|{\"a\":1}", hsrv.port);
	CHECK_STR(r2.body, url);

	/* POST without a body still says Content-Length: 0; a Host header replaces ours */
	snprintf(url, sizeof(url), "%s/echo", hsrv.url);
	before = done_count;
	http_client_request(hc, "POST", url, hosthdr, NULL, NULL, 0, 3000, on_result, &r3);
	CHECK(run_until(&done_count, before + 1, 3000));
	CHECK_STR(r3.body, "POST|-|api.example|-|0|");

	http_client_get_stats(hc, &st);
	CHECK_INT(st.requests, 3);
	CHECK_INT(st.ok, 3);
	CHECK_INT(st.errors, 0);
	CHECK_INT(st.connections_opened, 1); /* sequential requests share one connection */
	CHECK_INT(st.connections_reused, 2);
	http_client_free(hc);
}

static void test_500_chunked_too_large(void)
{
	struct http_client *hc = client(4, 16, NULL, false);
	struct result r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };
	struct http_client_stats st;
	char url[128];

	snprintf(url, sizeof(url), "%s/500", hsrv.url);
	fetch(hc, url, &r1);
	CHECK_INT(r1.err, HC_OK);
	CHECK_INT(r1.status, 500);
	CHECK_STR(r1.body, "boom");

	snprintf(url, sizeof(url), "%s/chunked", hsrv.url);
	fetch(hc, url, &r2);
	CHECK_INT(r2.err, HC_OK);
	CHECK_INT(r2.status, 200);
	CHECK_STR(r2.ctype, "text/plain");
	CHECK_STR(r2.body, "hello, chunked world");

	snprintf(url, sizeof(url), "%s/big", hsrv.url);
	fetch(hc, url, &r3);
	CHECK_INT(r3.err, HC_TOO_LARGE);

	/* the connection of the too-large response was closed, a new one works */
	snprintf(url, sizeof(url), "%s/nothing", hsrv.url);
	fetch(hc, url, &r4);
	CHECK_INT(r4.err, HC_OK);
	CHECK_INT(r4.status, 404);

	http_client_get_stats(hc, &st);
	CHECK_INT(st.ok, 3);
	CHECK_INT(st.errors, 1);
	CHECK_INT(st.connections_opened, 2);
	http_client_free(hc);
}

/* A slow backend times out while another request completes meanwhile. */
static void test_timeout_does_not_block(void)
{
	struct http_client *hc = client(4, 16, NULL, false);
	struct result slow = { 0 }, fast = { 0 }, queued = { 0 }, slow2 = { 0 };
	struct http_client_stats st;
	char url_slow[128], url_fast[128];
	int64_t t0 = now_ms();
	int before = done_count;

	snprintf(url_slow, sizeof(url_slow), "%s/slow", hsrv.url);
	snprintf(url_fast, sizeof(url_fast), "%s/json", hsrv.url);
	get(hc, url_slow, 200, &slow);
	get(hc, url_fast, 3000, &fast);
	CHECK(run_until(&done_count, before + 2, 3000));
	CHECK_INT(fast.err, HC_OK);
	CHECK_INT(slow.err, HC_TIMEOUT);
	CHECK(fast.at < slow.at);
	CHECK(slow.at - t0 >= 190);
	CHECK(slow.at - t0 < SLOW_MS);
	CHECK(fast.at - t0 < 150);
	http_client_free(hc);

	/* the timeout covers time in the queue */
	hc = client(1, 16, NULL, false);
	t0 = now_ms();
	before = done_count;
	get(hc, url_slow, 2000, &slow2);
	get(hc, url_fast, 100, &queued);
	CHECK(run_until(&done_count, before + 1, 3000));
	CHECK_INT(queued.called, 1);
	CHECK_INT(queued.err, HC_TIMEOUT);
	CHECK(queued.at - t0 >= 90 && queued.at - t0 < SLOW_MS);
	CHECK_INT(slow2.called, 0);
	CHECK(run_until(&done_count, before + 2, 3000));
	CHECK_INT(slow2.err, HC_OK);
	CHECK_STR(slow2.body, "late");
	http_client_get_stats(hc, &st);
	CHECK_INT(st.timeouts, 1);
	CHECK_INT(st.errors, 1);
	CHECK_INT(st.ok, 1);
	http_client_free(hc);
}

static void test_garbage_truncated_and_close_delimited(void)
{
	static const struct {
		const char *reply;
		enum http_client_error err;
		const char *body;
	} cases[] = {
		{ "garbage\r\n\r\n", HC_PROTOCOL, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", HC_PROTOCOL, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", HC_PROTOCOL, NULL },
		{ "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close", HC_OK,
		  "until close" },
		{ "HTTP/1.1 201 Created\r\n\r\nno length", HC_OK, "no length" },
		{ "", HC_CONNECT, NULL },
	};
	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct rawsrv rs;
		struct http_client *hc = client(4, 16, NULL, false);
		struct result r = { 0 };

		raw_start(&rs, RAW_CLOSE_AFTER, cases[i].reply);
		fetch(hc, rs.url, &r);
		if (r.err != cases[i].err)
			fprintf(stderr, "raw case %zu: got %s\n", i, http_client_error_str(r.err));
		CHECK_INT(r.err, cases[i].err);
		if (cases[i].body != NULL)
			CHECK_STR(r.body, cases[i].body);
		http_client_free(hc);
		raw_stop(&rs);
	}
}

static void test_connection_refused(void)
{
	struct http_client *hc = client(4, 16, NULL, false);
	struct result r = { 0 };
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", closed_port());
	fetch(hc, url, &r);
	CHECK_INT(r.err, HC_CONNECT);
	http_client_free(hc);
}

/* 200 requests through 8 slots reuse a handful of connections. */
static void test_many_requests_reuse(void)
{
	struct http_client *hc = client(8, 5000, NULL, false);
	struct http_client_stats st;
	enum {
		N = 200,
		N2 = 2000
	};
	static struct result res[N2];
	int count = 0, ok = 0;
	char url[128];
	int64_t t0, t1;

	memset(res, 0, sizeof(res));
	snprintf(url, sizeof(url), "%s/json", hsrv.url);
	for (int i = 0; i < N; i++) {
		res[i].counter = &count;
		get(hc, url, 5000, &res[i]);
	}
	CHECK(run_until(&count, N, 10000));
	for (int i = 0; i < N; i++)
		ok += res[i].called == 1 && res[i].err == HC_OK && res[i].status == 200;
	CHECK_INT(ok, N);
	http_client_get_stats(hc, &st);
	CHECK_INT(st.ok, N);
	CHECK(st.connections_opened <= 8 + 2);
	CHECK(st.connections_reused >= N - 10);
	CHECK_INT(st.connections_opened + st.connections_reused, N);

	/* throughput, informally: N2 more requests on the warm pool */
	memset(res, 0, sizeof(res));
	count = 0;
	t0 = now_ms();
	for (int i = 0; i < N2; i++) {
		res[i].counter = &count;
		get(hc, url, 10000, &res[i]);
	}
	CHECK(run_until(&count, N2, 15000));
	t1 = now_ms();
	ok = 0;
	for (int i = 0; i < N2; i++)
		ok += res[i].err == HC_OK;
	CHECK_INT(ok, N2);
	http_client_get_stats(hc, &st);
	printf("http_client: %d keep-alive requests (8 in flight, server in the same thread) in "
	       "%lld ms: %.0f req/s; %llu connections opened in all\n",
	       N2, (long long)(t1 - t0), N2 * 1000.0 / (double)(t1 - t0 > 0 ? t1 - t0 : 1),
	       (unsigned long long)st.connections_opened);
	CHECK(st.connections_opened <= 8 + 2);
	http_client_free(hc);
}

static void test_overloaded_and_async_errors(void)
{
	struct http_client *hc = client(1, 2, NULL, false);
	struct result r[4];
	struct http_client_stats st;
	char url[128];

	memset(r, 0, sizeof(r));
	snprintf(url, sizeof(url), "%s/json", hsrv.url);
	for (int i = 0; i < 4; i++)
		CHECK(get(hc, url, 3000, &r[i]) != NULL);
	/* nothing is reported from inside http_client_request */
	for (int i = 0; i < 4; i++)
		CHECK_INT(r[i].called, 0);
	CHECK(run_until(&r[2].called, 1, 3000));
	CHECK_INT(r[3].called, 1);
	CHECK_INT(r[3].err, HC_OVERLOADED);
	CHECK(r[3].at <= r[0].at);
	for (int i = 0; i < 3; i++)
		CHECK_INT(r[i].err, HC_OK);
	http_client_get_stats(hc, &st);
	CHECK_INT(st.requests, 4);
	CHECK_INT(st.ok, 3);
	CHECK_INT(st.errors, 1);
	CHECK_INT(st.timeouts, 0);
	CHECK_INT(st.connections_opened, 1);
	http_client_free(hc);
}

/* max_pending_bytes: two 1,000-byte POSTs fit in 3,000 bytes (one running,
 * one queued), the third does not and is refused without waiting; the
 * bytes are given back once the callbacks ran. */
static void test_pending_bytes(void)
{
	struct http_client_opts o = {
		.max_in_flight = 1,
		.max_queued = 100,
		.max_idle_per_host = 8,
		.idle_timeout_ms = 5000,
		.max_response_bytes = MAX_RESP,
		.max_pending_bytes = 3000,
	};
	struct sg_err err = { 0 };
	struct http_client *hc = http_client_new(base, &o, &err);
	static const char body[1000];
	struct result r[4];
	char url[128];
	size_t one;

	CHECK(hc != NULL);
	memset(r, 0, sizeof(r));
	snprintf(url, sizeof(url), "%s/slow", hsrv.url);
	http_client_request(hc, "POST", url, NULL, NULL, body, sizeof(body), 3000, on_result,
			    &r[0]);
	one = http_client_pending_bytes(hc);
	CHECK(one > sizeof(body) && one < sizeof(body) + 200);
	http_client_request(hc, "POST", url, NULL, NULL, body, sizeof(body), 3000, on_result,
			    &r[1]);
	CHECK_INT(http_client_pending_bytes(hc), 2 * one);
	http_client_request(hc, "POST", url, NULL, NULL, body, sizeof(body), 3000, on_result,
			    &r[2]);
	CHECK_INT(http_client_pending_bytes(hc), 2 * one);
	CHECK_INT(r[2].called, 0); /* reported later, from the loop */
	CHECK(run_until(&r[1].called, 1, 3000));
	CHECK_INT(r[2].err, HC_OVERLOADED);
	CHECK(r[2].at < r[0].at);
	CHECK_INT(r[0].err, HC_OK);
	CHECK_INT(r[1].err, HC_OK);
	CHECK_INT(http_client_pending_bytes(hc), 0);
	snprintf(url, sizeof(url), "%s/json", hsrv.url);
	http_client_request(hc, "POST", url, NULL, NULL, body, sizeof(body), 3000, on_result,
			    &r[3]);
	CHECK(run_until(&r[3].called, 1, 3000));
	CHECK_INT(r[3].err, HC_OK);
	http_client_free(hc);
}

static void test_bad_urls_and_requests(void)
{
	static const char *const bad[] = {
		"ftp://127.0.0.1/", "http://",	      "http:///x",	   "http://h:0/",
		"http://h:65536/",  "http://h:/",     "http://h:8x/",	   "http://[::1/",
		"http://[zz]/",	    "http://a b/",    "http://user@h/",	   "http://h\x01/",
		"127.0.0.1:80/x",   "http://[::1]x/", "http://h\xc3\xa9/",
	};
	static const char *const good[] = {
		"http://127.0.0.1/",	    "HTTPS://Example.COM", "http://[::1]:8080/a?b#c",
		"http://h_x.example:65535", "https://h?q",
	};
	struct http_client *hc = client(4, 16, NULL, false);
	struct result r[SG_ARRAY_LEN(bad) + 4];
	const char *inj[] = { "X-A: b\r\nInjected: 1", NULL };
	const char *cl[] = { "content-length: 5", NULL };
	const char *noname[] = { ": x", NULL };
	struct sg_err err;
	size_t n = SG_ARRAY_LEN(bad), i;
	char url[128];
	int before = done_count;

	memset(r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		CHECK(http_client_url_check(bad[i], &err) < 0);
		get(hc, bad[i], 1000, &r[i]);
	}
	for (i = 0; i < SG_ARRAY_LEN(good); i++)
		CHECK(http_client_url_check(good[i], &err) == 0);
	snprintf(url, sizeof(url), "%s/json", hsrv.url);
	http_client_request(hc, "GET", url, inj, NULL, NULL, 0, 1000, on_result, &r[n]);
	http_client_request(hc, "GET", url, cl, NULL, NULL, 0, 1000, on_result, &r[n + 1]);
	http_client_request(hc, "GE T", url, NULL, NULL, NULL, 0, 1000, on_result, &r[n + 2]);
	http_client_request(hc, "GET", url, noname, NULL, NULL, 0, 1000, on_result, &r[n + 3]);
	for (i = 0; i < n + 4; i++)
		CHECK_INT(r[i].called, 0);
	CHECK(run_until(&done_count, before + (int)n + 4, 2000));
	for (i = 0; i < n + 4; i++) {
		if (r[i].err != HC_BAD_URL)
			fprintf(stderr, "bad case %zu: %s\n", i, http_client_error_str(r[i].err));
		CHECK_INT(r[i].called, 1);
		CHECK_INT(r[i].err, HC_BAD_URL);
	}
	CHECK_STR(http_client_error_str(HC_TIMEOUT), "timeout");
	http_client_free(hc);
}

static void test_cancel(void)
{
	struct http_client *hc = client(1, 16, NULL, false);
	struct result active = { 0 }, queued = { 0 }, done = { 0 }, after = { 0 };
	struct result a = { 0 }, b = { 0 };
	struct http_client_req *ra, *rq, *rd;
	struct http_client_stats st;
	char url_slow[128], url[128];
	int before;

	snprintf(url_slow, sizeof(url_slow), "%s/slow", hsrv.url);
	snprintf(url, sizeof(url), "%s/json", hsrv.url);
	ra = get(hc, url_slow, 3000, &active);
	rq = get(hc, url, 3000, &queued);
	rd = get(hc, "nope://", 3000, &done); /* finished, its callback pending */
	run_for(50);
	CHECK_INT(done.called, 1); /* delivered before we could cancel it */
	rd = get(hc, "nope://", 3000, &done);
	http_client_cancel(rd);
	http_client_cancel(rq);
	http_client_cancel(ra);
	before = done_count;
	get(hc, url, 3000, &after); /* the slot freed by the cancel is usable */
	CHECK(run_until(&done_count, before + 1, 3000));
	CHECK_INT(after.err, HC_OK);
	run_for(SLOW_MS + 100);
	CHECK_INT(active.called, 0);
	CHECK_INT(queued.called, 0);
	CHECK_INT(done.called, 1);

	/* a callback cancels another request */
	get(hc, url, 3000, &a);
	a.cancel_other = get(hc, url, 3000, &b); /* queued behind a */
	CHECK(run_until(&a.called, 1, 3000));
	CHECK_INT(a.err, HC_OK);
	run_for(50);
	CHECK_INT(b.called, 0);

	http_client_get_stats(hc, &st);
	CHECK_INT(st.requests, 7);
	CHECK_INT(st.ok, 2);
	CHECK_INT(st.errors, 1);
	http_client_free(hc);
}

/* Freeing the client with requests in every state calls back nothing and leaks nothing. */
static void test_free_in_flight(void)
{
	struct http_client *hc = client(2, 16, NULL, false);
	struct result r[4];
	char url_slow[128], url[128];
	int before = done_count;

	memset(r, 0, sizeof(r));
	snprintf(url_slow, sizeof(url_slow), "%s/slow", hsrv.url);
	snprintf(url, sizeof(url), "%s/json", hsrv.url);
	get(hc, url_slow, 3000, &r[0]);
	get(hc, url_slow, 3000, &r[1]);
	get(hc, url, 3000, &r[2]); /* queued */
	get(hc, "bad", 3000, &r[3]);
	run_for(20);
	CHECK_INT(r[3].called, 1);
	get(hc, "bad", 3000, &r[3]); /* done, not delivered */
	http_client_free(hc);
	run_for(SLOW_MS + 100);
	CHECK_INT(done_count, before + 1);
	CHECK_INT(r[0].called + r[1].called + r[2].called, 0);
	CHECK_INT(r[3].called, 1);
}

/* Names are resolved off the loop (libcurl's threaded resolver), /etc/hosts
 * included; a name that does not resolve is a connection failure. */
static void test_dns(void)
{
	struct http_client *hc = client(4, 16, NULL, false);
	struct result ok = { 0 }, nx = { 0 };
	char url[128];

	snprintf(url, sizeof(url), "http://localhost:%d/json", hsrv.port);
	fetch(hc, url, &ok);
	CHECK_INT(ok.err, HC_OK);
	CHECK_STR(ok.body, "{\"ok\":true}");
	snprintf(url, sizeof(url), "http://nx.invalid:%d/json", hsrv.port);
	fetch(hc, url, &nx);
	CHECK_INT(nx.err, HC_CONNECT);
	http_client_free(hc);
}

/* The server closes a kept-alive connection just as it is reused: one retry. */
static void test_keepalive_race_retry(void)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct rawsrv rs;
	struct http_client *hc = client(4, 16, NULL, false);
	struct http_client_stats st;
	struct result r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };

	raw_start(&rs, RAW_RACE, reply);
	fetch(hc, rs.url, &r1);
	CHECK_INT(r1.err, HC_OK);
	fetch(hc, rs.url, &r2);
	CHECK_INT(r2.err, HC_OK);
	CHECK_STR(r2.body, "ok");
	http_client_get_stats(hc, &st);
	/* libcurl retried on a new connection: the request counts as a new one */
	CHECK_INT(st.connections_opened, 2);
	CHECK_INT(st.connections_reused, 0);
	CHECK_INT(st.errors, 0);
	CHECK_INT(rs.accepted, 2);
	CHECK_INT(rs.requests, 3);
	http_client_free(hc);
	raw_stop(&rs);

	/* only once: the retry's own failure is reported */
	hc = client(4, 16, NULL, false);
	raw_start(&rs, RAW_ONCE, reply);
	fetch(hc, rs.url, &r3);
	CHECK_INT(r3.err, HC_OK);
	fetch(hc, rs.url, &r4);
	CHECK_INT(r4.err, HC_CONNECT);
	http_client_get_stats(hc, &st);
	CHECK_INT(st.connections_opened, 2);
	CHECK_INT(rs.accepted, 2);
	CHECK_INT(rs.requests, 3);
	http_client_free(hc);
	raw_stop(&rs);
}

static void test_idle_pool(void)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	static const char extra[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokJUNK";
	struct rawsrv rs;
	struct http_client *hc;
	struct http_client_stats st;
	struct http_client_opts o = { .max_in_flight = 8,
				      .max_queued = 8,
				      .max_idle_per_host = 2,
				      .idle_timeout_ms = 1000,
				      .max_response_bytes = MAX_RESP };
	struct result r[8];
	struct sg_err err;
	char url[128];
	int count = 0;

	/* closed by the server while idle: dropped, the next request opens a new one */
	hc = client(4, 16, NULL, false);
	raw_start(&rs, RAW_CLOSE_LATER, reply);
	memset(r, 0, sizeof(r));
	fetch(hc, rs.url, &r[0]);
	CHECK_INT(r[0].err, HC_OK);
	run_for(100);
	fetch(hc, rs.url, &r[1]);
	CHECK_INT(r[1].err, HC_OK);
	http_client_get_stats(hc, &st);
	CHECK_INT(st.connections_opened, 2);
	CHECK_INT(st.connections_reused, 0);
	http_client_free(hc);
	raw_stop(&rs);

	/* bytes after the response: never reused */
	hc = client(4, 16, NULL, false);
	raw_start(&rs, RAW_KEEP, extra);
	fetch(hc, rs.url, &r[2]);
	CHECK_INT(r[2].err, HC_OK);
	CHECK_STR(r[2].body, "ok");
	http_client_free(hc);
	raw_stop(&rs);

	/* HEAD: a Content-Length but no body, and the connection stays usable
	 * (evhttp 2.1 wrongly sends a body after HEAD, hence the raw server) */
	hc = client(4, 16, NULL, false);
	raw_start(&rs, RAW_KEEP, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
	count = done_count;
	http_client_request(hc, "HEAD", rs.url, NULL, NULL, NULL, 0, 3000, on_result, &r[5]);
	CHECK(run_until(&done_count, count + 1, 3000));
	count = 0;
	CHECK_INT(r[5].err, HC_OK);
	CHECK_INT(r[5].status, 200);
	CHECK_INT(r[5].body_len, 0);
	http_client_free(hc);
	raw_stop(&rs);

	/* Connection: close from the server */
	hc = client(4, 16, NULL, false);
	snprintf(url, sizeof(url), "%s/close", hsrv.url);
	fetch(hc, url, &r[3]);
	CHECK_STR(r[3].body, "bye");
	fetch(hc, url, &r[4]);
	http_client_get_stats(hc, &st);
	CHECK_INT(st.connections_opened, 2);
	CHECK_INT(st.connections_reused, 0);
	http_client_free(hc);

	/* 8 at once open 8 connections; a connection idle past idle_timeout_ms
	 * (libcurl's CURLOPT_MAXAGE_CONN: whole seconds) is not reused */
	hc = http_client_new(base, &o, &err);
	CHECK(hc != NULL);
	memset(r, 0, sizeof(r));
	snprintf(url, sizeof(url), "%s/json", hsrv.url);
	for (int i = 0; i < 8; i++) {
		r[i].counter = &count;
		get(hc, url, 3000, &r[i]);
	}
	CHECK(run_until(&count, 8, 3000));
	http_client_get_stats(hc, &st);
	CHECK_INT(st.connections_opened, 8);
	memset(r, 0, sizeof(r));
	fetch(hc, url, &r[0]);
	http_client_get_stats(hc, &st);
	CHECK_INT(st.connections_opened, 8); /* reused */
	run_for(2100);			     /* libcurl counts idle time in whole seconds */
	fetch(hc, url, &r[1]);
	CHECK_INT(r[1].err, HC_OK);
	http_client_get_stats(hc, &st);
	CHECK_INT(st.connections_opened, 9); /* the idle ones were too old */
	http_client_free(hc);
}

static void test_https(void)
{
	struct cert good, other;
	SSL_CTX *good_ctx, *other_ctx;
	struct tsrv tls, tls_other;
	struct http_client *hc_ca, *hc_other, *hc_sys, *hc_insecure;
	struct http_client_stats st;
	struct result r[12];
	struct http_client_opts bad_opts = { .max_in_flight = 1,
					     .max_response_bytes = 10,
					     .ca_file = "/nonexistent/ca.pem" };
	struct sg_err err = { 0 };
	char url[128];

	memset(r, 0, sizeof(r));
	cert_make(&good, "127.0.0.1", "IP:127.0.0.1,DNS:localhost", 1);
	cert_make(&other, "other.invalid", "DNS:other.invalid", 2);
	good_ctx = cert_server_ctx(&good);
	other_ctx = cert_server_ctx(&other);
	srv_start(&tls, good_ctx);
	srv_start(&tls_other, other_ctx);

	CHECK(http_client_new(base, &bad_opts, &err) == NULL);
	CHECK(strstr(err.msg, "/nonexistent/ca.pem") != NULL);

	hc_ca = client(4, 16, good.path, false);
	hc_other = client(4, 16, other.path, false);
	hc_sys = client(4, 16, NULL, false);
	hc_insecure = client(4, 16, NULL, true);

	/* verified against the CA file, by IP SAN */
	snprintf(url, sizeof(url), "%s/json", tls.url);
	fetch(hc_ca, url, &r[0]);
	CHECK_INT(r[0].err, HC_OK);
	CHECK_STR(r[0].body, "{\"ok\":true}");
	snprintf(url, sizeof(url), "%s/chunked", tls.url);
	fetch(hc_ca, url, &r[1]);
	CHECK_STR(r[1].body, "hello, chunked world");
	snprintf(url, sizeof(url), "%s/500", tls.url);
	fetch(hc_ca, url, &r[2]);
	CHECK_INT(r[2].status, 500);
	http_client_get_stats(hc_ca, &st);
	CHECK_INT(st.connections_opened, 1);
	CHECK_INT(st.connections_reused, 2);
	/* by DNS SAN (SNI + host name check) */
	snprintf(url, sizeof(url), "https://localhost:%d/json", tls.port);
	fetch(hc_ca, url, &r[3]);
	CHECK_INT(r[3].err, HC_OK);

	/* the system store does not know the throwaway CA */
	snprintf(url, sizeof(url), "%s/json", tls.url);
	fetch(hc_sys, url, &r[4]);
	CHECK_INT(r[4].err, HC_TLS);

	/* trusted certificate, wrong name or IP */
	snprintf(url, sizeof(url), "%s/json", tls_other.url);
	fetch(hc_other, url, &r[5]);
	CHECK_INT(r[5].err, HC_TLS);
	snprintf(url, sizeof(url), "https://localhost:%d/json", tls_other.port);
	fetch(hc_other, url, &r[6]);
	CHECK_INT(r[6].err, HC_TLS);
	/* insecure skips verification */
	snprintf(url, sizeof(url), "%s/json", tls_other.url);
	fetch(hc_insecure, url, &r[7]);
	CHECK_INT(r[7].err, HC_OK);

	/* TLS to a plain HTTP server; refused port */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/json", hsrv.port);
	fetch(hc_ca, url, &r[8]);
	CHECK_INT(r[8].err, HC_TLS);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/json", closed_port());
	fetch(hc_ca, url, &r[9]);
	CHECK_INT(r[9].err, HC_CONNECT);

	/* timeout during a TLS response */
	snprintf(url, sizeof(url), "%s/slow", tls.url);
	get(hc_ca, url, 100, &r[10]);
	CHECK(run_until(&r[10].called, 1, 2000));
	CHECK_INT(r[10].err, HC_TIMEOUT);

	http_client_free(hc_ca);
	http_client_free(hc_other);
	http_client_free(hc_sys);
	http_client_free(hc_insecure);
	srv_stop(&tls);
	srv_stop(&tls_other);
	SSL_CTX_free(good_ctx);
	SSL_CTX_free(other_ctx);
	cert_free(&good);
	cert_free(&other);
}

static void test_bad_options(void)
{
	struct http_client_opts o = { .max_in_flight = 0, .max_response_bytes = 10 };
	struct sg_err err = { 0 };

	CHECK(http_client_new(base, &o, &err) == NULL);
	CHECK(strstr(err.msg, "max_in_flight") != NULL);
	o.max_in_flight = 1;
	o.max_response_bytes = 0;
	CHECK(http_client_new(base, &o, &err) == NULL);
	CHECK(strstr(err.msg, "max_response_bytes") != NULL);
	http_client_free(NULL);
}

/* How each error of the client is counted in siogate_*_total{outcome}. */
static void test_outcomes(void)
{
	CHECK_INT(http_client_outcome(HC_TIMEOUT), CALLOUT_TIMEOUT);
	CHECK_INT(http_client_outcome(HC_CONNECT), CALLOUT_UNAVAILABLE);
	CHECK_INT(http_client_outcome(HC_OVERLOADED), CALLOUT_OVERLOADED);
	CHECK_INT(http_client_outcome(HC_OK), CALLOUT_ERROR);
	CHECK_INT(http_client_outcome(HC_PROTOCOL), CALLOUT_ERROR);
}

int main(void)
{
	RUN(test_outcomes);
	int rc;
	int64_t t0 = now_ms();

	signal(SIGPIPE, SIG_IGN);
	alarm(60); /* a hang fails the run instead of blocking it */
	base = event_base_new();
	srv_start(&hsrv, NULL);
	RUN(test_bad_options);
	RUN(test_ok_json_and_echo);
	RUN(test_500_chunked_too_large);
	RUN(test_timeout_does_not_block);
	RUN(test_garbage_truncated_and_close_delimited);
	RUN(test_connection_refused);
	RUN(test_many_requests_reuse);
	RUN(test_overloaded_and_async_errors);
	RUN(test_pending_bytes);
	RUN(test_bad_urls_and_requests);
	RUN(test_cancel);
	RUN(test_free_in_flight);
	RUN(test_dns);
	RUN(test_keepalive_race_retry);
	RUN(test_idle_pool);
	RUN(test_https);
	srv_stop(&hsrv);
	run_for(20);
	event_base_free(base);
	libevent_global_shutdown();
	printf("http_client: tests took %lld ms\n", (long long)(now_ms() - t0));
	rc = UNIT_END();
	return rc;
}
