/*
 * conn.c: TCP connections, and the network layer's part of a worker
 * (conn_module: the trusted proxies, the request deadlines' sweep, the
 * end-of-turn writes; see conn.h).  Invariant: a conn is on worker->conns
 * until it is closed, then deferred (worker_defer) until it is freed.  Its state moves HTTP -> (HELD -> HTTP)* -> WS ->
 * FLUSHING -> DEAD, never back from WS or later.  A request head is parsed
 * in place from the input buffer and bounded by SG_HTTP_MAX_HEAD, and a body
 * by server.max_payload, before anything is allocated for them.  While a
 * request is being read (in_http) the connection is on worker->http_conns,
 * whose deadlines conn_sweep_http() enforces: the head within
 * limits.header_timeout, the body within limits.body_timeout and at
 * limits.body_min_rate once header_timeout has passed; and a request still
 * arriving after CONN_HTTP_SLOW_MS counts against limits.http_per_ip.
 */
#include "net/conn.h"

#include <arpa/inet.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/inbox.h"
#include "core/log.h"
#include "core/worker.h"
#include "net/admission.h"
#include "proto/cidr.h"
#include "proto/forwarded.h"
#include "proto/http.h"

#define CONN_MAGIC 0xc0cc0cc0u
#define SG_HTTP_MAX_HEAD 16384

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void on_read(struct bufferevent *bev, void *arg);
static int start(struct conn *c, int fd, SSL *ssl, int ssl_state);
static void hand_over(struct conn *c, size_t to);
static int owner_elsewhere(const struct conn *c, const struct http_request *req);
static void linger(struct conn *c);
static void ip_release(struct worker *w, struct conn *c);
static void on_write(struct bufferevent *bev, void *arg);
static void on_output_added(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);
static void undirty(struct conn *c);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void read_request(struct conn *c);
static void route(struct conn *c, const struct http_request *req, const char *body,
		  size_t body_len);
static void unlink_conn(struct conn *c);
static void log_close(struct conn *c);
static struct conn *from_arg(void *arg);
static void tell_holder(struct conn *c);
static void free_deferred(void *arg);
static void http_link(struct conn *c);
static void http_leave(struct conn *c);
static bool http_overdue(struct conn *c, int64_t now);
static void respond(struct conn *c, int status, const char *content_type, const char *extra_headers,
		    const char *body, size_t body_len, enum sg_close reason);

static struct conn *from_arg(void *arg)
{
	struct conn *c = arg;

	if (c->magic != CONN_MAGIC)
		sg_fatal("conn callback with a bad magic");
	return c;
}

/* addr ("127.0.0.1", "::1") and peer (address:port, for logs) of sa. */
static void name_peer(const struct sockaddr *sa, char *addr, size_t alen, char *peer, size_t plen)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(peer, plen, "%s:%d", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(peer, plen, "[%s]:%d", host, ntohs(in6->sin6_port));
	} else {
		snprintf(peer, plen, "unix");
	}
	snprintf(addr, alen, "%s", host);
}

/* A worker that is shutting down takes no connection (fd is closed). */
static bool refused_shutting_down(struct worker *w, int fd)
{
	if (!w->shutting_down)
		return false;
	worker_count_close(w, SG_CLOSE_CONNECTION_LIMIT, NULL);
	log_limited(&w->limit_refused[SG_CLOSE_SHUTDOWN], SG_LOG_WARN, NULL,
		    "refusing a connection: shutting down");
	close(fd);
	return true;
}

int conn_admit(struct worker *w, const struct sockaddr *sa, struct ip_count **ip,
	       enum sg_close *why)
{
	char addr[48], peer[56];

	*ip = NULL;
	name_peer(sa, addr, sizeof(addr), peer, sizeof(peer));
	/* a trusted proxy's connection counts for its client, once named */
	return admission_enter(w->admission, w->cfg, conn_trusts_peer(w, sa) ? "" : addr, ip, why);
}

struct conn *conn_new(struct worker *w, int fd, const struct sockaddr *sa, bool admin,
		      struct ip_count *ip)
{
	struct conn *c;

	if (refused_shutting_down(w, fd)) {
		admission_leave(w->admission, ip, false);
		return NULL;
	}
	c = sg_calloc(1, sizeof(*c));
	c->magic = CONN_MAGIC;
	c->w = w;
	c->admin = admin;
	c->serial = ++w->conn_serial;
	c->state = CONN_HTTP;
	c->ip = ip;
	c->trusted = !admin && conn_trusts_peer(w, sa);
	name_peer(sa, c->addr, sizeof(c->addr), c->peer, sizeof(c->peer));
	{
		/* small frames go out at once: Nagle would hold a message while an
		 * earlier one waits for its ACK (Node sets noDelay too) */
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (!admin && w->tls != NULL) {
		SSL *ssl = SSL_new(w->tls);
		c->secure = true;
		if (ssl == NULL || start(c, fd, ssl, BUFFEREVENT_SSL_ACCEPTING) != 0) {
			if (ssl != NULL)
				SSL_free(ssl);
			c->bev = NULL;
		}
	} else if (start(c, fd, NULL, 0) != 0) {
		c->bev = NULL;
	}
	if (c->bev == NULL) {
		log_error("bufferevent_socket_new failed for %s", c->peer);
		admission_leave(w->admission, ip, false);
		close(fd);
		free(c);
		return NULL;
	}
	http_link(c); /* its first request */
	if (!admin)
		w->stats.connections++; /* the admin listener's requests are not clients */
	return c;
}

/* Puts c on fd (and ssl, in state) into the worker: its bufferevent, which
 * owns neither (conn_free closes them, unless the connection was handed to
 * another worker), its limits and its list. */
static int start(struct conn *c, int fd, SSL *ssl, int ssl_state)
{
	struct worker *w = c->w;

	c->bev = ssl ? bufferevent_openssl_socket_new(w->base, fd, ssl,
						      (enum bufferevent_ssl_state)ssl_state, 0)
		     : bufferevent_socket_new(w->base, fd, 0);
	if (c->bev == NULL)
		return -1;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	/* Head must arrive within the idle timeout (slow-header clients). */
	bufferevent_set_timeouts(c->bev, w->tv_http_idle, NULL);
	c->head_start_ms = sg_mono_ms();
	/* Bound what is buffered before a layer consumes it: a head and a
	 * body of at most max_payload (with its chunked framing); the
	 * WebSocket layer drains its input on every read. */
	bufferevent_setwatermark(c->bev, EV_READ, 0,
				 SG_HTTP_MAX_HEAD + (size_t)w->cfg->server.max_payload +
					 HTTP_CHUNKED_MAX_OVERHEAD + HTTP_CHUNK_LINE_MAX + 1024);
	/* Plain TCP: the worker writes at the end of the turn (conn_flush_dirty)
	 * and the bufferevent writes only what the kernel did not take, so the
	 * poller is not touched for every message.  TLS and admin connections
	 * are written by their bufferevent. */
	c->direct = !c->secure && !c->admin;
	if (c->direct)
		evbuffer_add_cb(bufferevent_get_output(c->bev), on_output_added, c);
	bufferevent_enable(c->bev, c->direct ? EV_READ : EV_READ | EV_WRITE);
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->n_conns++;
	if (c->admin)
		w->n_admin_conns++;
	return 0;
}

/* A request for a session of another worker: the connection moves there,
 * with what it read and what it still has to write (see conn_hand_over). */
struct handover {
	struct job job;
	int fd;
	SSL *ssl;
	struct ip_count *ip;
	bool trusted;
	int64_t head_start_ms;
	struct sg_buf in, out;
	char addr[48];
	char peer[56];
};

static void adopt(struct worker *w, struct job *j);

static void hand_over(struct conn *c, size_t to)
{
	struct worker *w = c->w;
	struct handover *h = sg_calloc(1, sizeof(*h));
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);

	h->job.run = adopt;
	h->fd = bufferevent_getfd(c->bev);
	h->ssl = c->secure ? bufferevent_openssl_get_ssl(c->bev) : NULL;
	h->ip = c->ip;
	h->trusted = c->trusted;
	h->head_start_ms = c->head_start_ms;
	c->ip = NULL; /* the limits count it once, wherever it is */
	memcpy(h->addr, c->addr, sizeof(h->addr));
	memcpy(h->peer, c->peer, sizeof(h->peer));
	sg_buf_init(&h->in);
	sg_buf_init(&h->out);
	/* off this loop's poller before the other loop adds the socket */
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	evbuffer_unfreeze(out, 1);
	sg_buf_reserve(&h->out, evbuffer_get_length(out));
	h->out.len = (size_t)evbuffer_remove(out, h->out.data, evbuffer_get_length(out));
	sg_buf_reserve(&h->in, evbuffer_get_length(in));
	h->in.len = (size_t)evbuffer_remove(in, h->in.data, evbuffer_get_length(in));
	c->handed_over = true;
	c->state = CONN_FLUSHING; /* conn_close: no log line, no count */
	conn_close(c, SG_CLOSE_HTTP_DONE);
	w->stats.handovers++;
	inbox_post(w->siblings[to]->inbox, &h->job);
}

static void adopt(struct worker *w, struct job *j)
{
	struct handover *h = (struct handover *)j;
	struct conn *c = sg_calloc(1, sizeof(*c));

	c->magic = CONN_MAGIC;
	c->w = w;
	c->serial = ++w->conn_serial;
	c->state = CONN_HTTP;
	c->secure = h->ssl != NULL;
	c->ip = h->ip;
	memcpy(c->addr, h->addr, sizeof(c->addr));
	memcpy(c->peer, h->peer, sizeof(c->peer));
	c->trusted = h->trusted;
	if (start(c, h->fd, h->ssl, BUFFEREVENT_SSL_OPEN) != 0) {
		log_error("bufferevent_socket_new failed for %s", c->peer);
		ip_release(w, c);
		if (h->ssl != NULL)
			SSL_free(h->ssl);
		close(h->fd);
		free(c);
	} else {
		struct evbuffer *in = bufferevent_get_input(c->bev);
		c->head_start_ms = h->head_start_ms;
		if (h->out.len > 0)
			evbuffer_add(bufferevent_get_output(c->bev), h->out.data, h->out.len);
		/* the bufferevent keeps the end of its input frozen between its
		 * own reads */
		evbuffer_unfreeze(in, 0);
		evbuffer_add(in, h->in.data, h->in.len);
		evbuffer_freeze(in, 0);
		read_request(c);
	}
	sg_buf_fini(&h->in);
	sg_buf_fini(&h->out);
	free(h);
}

/* The worker that owns the session a request names (sid=), when that is
 * another worker of this process; -1 otherwise (this worker answers, even
 * an unknown sid). */
static int owner_elsewhere(const struct conn *c, const struct http_request *req)
{
	const struct worker *w = c->w;
	struct sg_buf sid;
	int owner = -1;

	if (w->n_workers < 2 || c->admin)
		return -1;
	sg_buf_init(&sid);
	if (http_query_get(req->query, req->query_len, "sid", &sid) == 1)
		owner = sg_id_worker(sid.data, sid.len);
	sg_buf_fini(&sid);
	if (owner < 0 || (size_t)owner >= w->n_workers || owner == w->index)
		return -1;
	return owner;
}

struct conn *conn_find_held(struct worker *w, uint64_t serial)
{
	for (struct conn *c = w->conns; c != NULL; c = c->next)
		if (c->serial == serial)
			return c->state == CONN_HELD ? c : NULL;
	return NULL;
}

bool conn_is_open(const struct conn *c)
{
	return c->state == CONN_HTTP || c->state == CONN_HELD || c->state == CONN_WS;
}

void conn_upgrade(struct conn *c, const struct conn_stream *st, void *arg)
{
	c->stream = st;
	c->stream_arg = arg;
	c->state = CONN_WS;
}

struct evbuffer *conn_output(struct conn *c)
{
	return bufferevent_get_output(c->bev);
}

static void ip_release(struct worker *w, struct conn *c)
{
	http_leave(c);
	admission_leave(w->admission, c->ip, false);
	c->ip = NULL;
}

/* The connection starts reading a request: onto worker->http_conns, for
 * its deadlines (and limits.http_per_ip once it is slow). */
static void http_link(struct conn *c)
{
	struct worker *w = c->w;

	if (c->in_http)
		return;
	c->in_http = true;
	c->http_since_ms = sg_mono_ms();
	c->http_prev = NULL;
	c->http_next = w->http_conns;
	if (w->http_conns != NULL)
		w->http_conns->http_prev = c;
	w->http_conns = c;
}

/* The request is whole, or the connection closes: off the list. */
static void http_leave(struct conn *c)
{
	struct worker *w = c->w;

	c->phase = CONN_PHASE_IDLE;
	if (!c->in_http)
		return;
	if (c->http_slow)
		admission_slow_leave(w->admission, c->ip);
	c->http_slow = false;
	if (c->http_prev != NULL)
		c->http_prev->http_next = c->http_next;
	else
		w->http_conns = c->http_next;
	if (c->http_next != NULL)
		c->http_next->http_prev = c->http_prev;
	c->http_prev = c->http_next = NULL;
	c->in_http = false;
}

/* When the request being read must be whole, and the reason it is closed
 * for past that.  A body may take limits.header_timeout to get going, then
 * must average limits.body_min_rate; all of it within body_timeout. */
static int64_t http_deadline(const struct conn *c, enum sg_close *why)
{
	const struct sg_config *cfg = c->w->cfg;
	int64_t end, slow;
	uint64_t got;

	if (c->phase != CONN_PHASE_BODY) {
		*why = SG_CLOSE_IDLE_TIMEOUT;
		return c->head_start_ms + cfg->limits.header_timeout_ms;
	}
	end = c->body_start_ms + cfg->limits.body_timeout_ms;
	*why = SG_CLOSE_BODY_TIMEOUT;
	if (cfg->limits.body_min_rate > 0) {
		got = evbuffer_get_length(bufferevent_get_input(c->bev)) - c->body_head_len;
		slow = c->body_start_ms + cfg->limits.header_timeout_ms +
		       (int64_t)(got * 1000 / cfg->limits.body_min_rate);
		if (slow < end) {
			*why = SG_CLOSE_BODY_TOO_SLOW;
			end = slow;
		}
	}
	return end;
}

/* Past its deadline, a request whose head was whole is answered 408 and
 * the connection closed; one whose head never ended (perhaps not even
 * HTTP) is closed without a word, as before. */
static void http_timeout(struct conn *c, enum sg_close why)
{
	if (c->phase != CONN_PHASE_BODY) {
		conn_close(c, why);
		return;
	}
	log_info("client %s: request body %s (%zu bytes in %lld ms)", c->peer,
		 why == SG_CLOSE_BODY_TOO_SLOW ? "under limits.body_min_rate"
					       : "over limits.body_timeout",
		 evbuffer_get_length(bufferevent_get_input(c->bev)) - c->body_head_len,
		 (long long)(sg_mono_ms() - c->body_start_ms));
	/* the connection's own end, even on one that carried a session */
	c->had_session = false;
	respond(c, 408, "text/plain", NULL, "Request Timeout\n", 16, why);
}

static bool http_overdue(struct conn *c, int64_t now)
{
	enum sg_close why;

	if (c->state != CONN_HTTP || now < http_deadline(c, &why))
		return false;
	http_timeout(c, why);
	return true;
}

/* Still reading its request after CONN_HTTP_SLOW_MS: counted against
 * limits.http_per_ip; over it, answered 503 and closed. */
static void http_check_slow(struct conn *c, int64_t now)
{
	struct worker *w = c->w;

	if (c->http_slow || c->state != CONN_HTTP || now - c->http_since_ms < CONN_HTTP_SLOW_MS)
		return;
	if (admission_slow_enter(w->admission, w->cfg, c->ip) != 0) {
		log_info("client %s: limits.http_per_ip (%u) reached", c->peer,
			 w->cfg->limits.http_per_ip);
		c->had_session = false; /* the connection's own end: counted here */
		respond(c, 503, "text/plain", "Retry-After: 1\r\n", "Service Unavailable\n", 20,
			SG_CLOSE_HTTP_PER_IP_LIMIT);
		return;
	}
	c->http_slow = true;
}

void conn_sweep_http(struct worker *w)
{
	int64_t now = sg_mono_ms();
	struct conn *c, *next;

	for (c = w->http_conns; c != NULL; c = next) {
		next = c->http_next; /* closing c takes c alone off the list */
		if (!http_overdue(c, now))
			http_check_slow(c, now);
	}
}

/* A close deferred by conn_close_later (before any deferred free: a
 * closed connection's own free is deferred with a lower order). */
static void close_deferred(void *arg)
{
	struct conn *c = arg;

	if (c->close_pending) {
		c->close_pending = false;
		conn_close(c, c->pending_reason);
	}
}

void conn_close_later(struct conn *c, enum sg_close reason)
{
	if (c->close_pending || !conn_is_open(c))
		return;
	c->close_pending = true;
	c->pending_reason = reason;
	worker_defer(c->w, CONN_DEFER_CLOSE, c, close_deferred);
}

/* Output was queued: a direct connection is written at the end of the turn,
 * unless the bufferevent is already writing a backlog. */
static void on_output_added(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	SG_UNUSED(buf);
	if (info->n_added == 0 || c->dirty || c->state == CONN_DEAD ||
	    (bufferevent_get_enabled(c->bev) & EV_WRITE))
		return;
	c->dirty = true;
	c->dirty_prev = NULL;
	c->dirty_next = c->w->dirty;
	if (c->w->dirty != NULL)
		c->w->dirty->dirty_prev = c;
	c->w->dirty = c;
	worker_schedule_flush(c->w);
}

static void undirty(struct conn *c)
{
	if (!c->dirty)
		return;
	if (c->dirty_prev != NULL)
		c->dirty_prev->dirty_next = c->dirty_next;
	else
		c->w->dirty = c->dirty_next;
	if (c->dirty_next != NULL)
		c->dirty_next->dirty_prev = c->dirty_prev;
	c->dirty = false;
	c->dirty_prev = c->dirty_next = NULL;
}

void conn_flush_dirty(struct worker *w)
{
	while (w->dirty != NULL) {
		struct conn *c = w->dirty;
		struct evbuffer *out = bufferevent_get_output(c->bev);

		undirty(c);
		if (bufferevent_get_enabled(c->bev) & EV_WRITE)
			continue; /* the bufferevent writes it */
		/* The bufferevent keeps the front of its output frozen; it thaws
		 * it the same way around its own writes. */
		evbuffer_unfreeze(out, 1);
		(void)evbuffer_write(out, bufferevent_getfd(c->bev));
		evbuffer_freeze(out, 1);
		if (evbuffer_get_length(out) == 0) {
			c->over_soft_since_ms = 0;
			continue;
		}
		/* A backlog, or an error: the bufferevent takes over, writes the
		 * rest, and reports an error through on_event. */
		bufferevent_enable(c->bev, EV_WRITE);
	}
}

void conn_check_output(struct conn *c)
{
	const struct sg_config *cfg = c->w->cfg;
	size_t pending = evbuffer_get_length(bufferevent_get_output(c->bev));

	if (pending > cfg->limits.output_hard) {
		conn_log(SG_LOG_DEBUG, c, NULL, "%zu bytes waiting, over limits.output_hard",
			 pending);
		conn_close_later(c, SG_CLOSE_SLOW_CONSUMER);
	} else if (pending > cfg->limits.output_soft) {
		int64_t now = sg_mono_ms();
		if (c->over_soft_since_ms == 0) {
			c->over_soft_since_ms = now;
		} else if (now - c->over_soft_since_ms > cfg->limits.output_soft_time_ms) {
			conn_log(SG_LOG_DEBUG, c, NULL, "over limits.output_soft for %lld ms",
				 (long long)(now - c->over_soft_since_ms));
			conn_close_later(c, SG_CLOSE_SLOW_CONSUMER);
		}
	}
}

static void unlink_conn(struct conn *c)
{
	struct worker *w = c->w;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	w->n_conns--;
	if (c->admin)
		w->n_admin_conns--;
	ip_release(w, c);
}

/* Connections that carried a session are logged and counted by it (one
 * line per client, not one per polling request); the admin listener's are
 * not clients and are not counted. */
/* The connection's end is the client's when no session carried it (a
 * session's end is the client's otherwise, eio.c), the admin listener's
 * and a finished plain HTTP exchange excepted. */
static void log_close(struct conn *c)
{
	const char *why = sg_close_text(c->reason);
	struct log_facts f;

	if (c->had_session || c->admin || c->reason == SG_CLOSE_HTTP_DONE) {
		/* not "client closed:", which is the client's line */
		conn_log(SG_LOG_DEBUG, c, why, "%s ended (%s)",
			 c->admin ? "admin connection" : "connection", why);
		return;
	}
	conn_facts(c, &f);
	worker_count_close(c->w, c->reason, &f);
}

void conn_facts(const struct conn *c, struct log_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->addr = c->peer;
	f->worker = c->w->index;
}

/* The one teardown path: tell the upper layer once, then retire. */
void conn_close(struct conn *c, enum sg_close reason)
{
	struct worker *w = c->w;

	if (c->state == CONN_DEAD)
		return;
	/* closed before a deferred close ran: that one does nothing */
	c->close_pending = false;
	if (c->state != CONN_FLUSHING) {
		c->reason = reason;
		log_close(c);
	}
	c->state = CONN_DEAD;
	tell_holder(c);
	if (c->stream)
		c->stream->on_closed(c->stream_arg, c->reason);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	undirty(c);
	unlink_conn(c);
	worker_defer(w, CONN_DEFER_FREE, c, free_deferred);
}

static void free_deferred(void *arg)
{
	conn_free(arg);
}

/* The holder of c's request is told that c goes away, once. */
static void tell_holder(struct conn *c)
{
	void *holder = c->held_by;

	if (holder != NULL) {
		c->held_by = NULL;
		c->w->conn_handler[c->admin ? CONN_ADMIN : CONN_CLIENT]->on_held_closed(holder, c);
	}
}

void conn_close_after_flush(struct conn *c, enum sg_close reason)
{
	if (!conn_is_open(c))
		return;
	http_leave(c);
	c->reason = reason;
	log_close(c);
	if (c->stream)
		c->stream->on_closed(c->stream_arg, reason);
	tell_holder(c);
	c->state = CONN_FLUSHING;
	bufferevent_set_timeouts(c->bev, c->w->tv_flush, c->w->tv_flush);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		linger(c);
	else if (c->direct)
		bufferevent_enable(c->bev, EV_WRITE); /* the flush timeout applies */
}

/* The output is written: send FIN and keep reading (and discarding) until
 * the client closes too, or briefly.  Closing with unread input would make
 * the kernel send RST, and the client could lose the last packets (an
 * unauthenticated event, a DISCONNECT) still in its receive buffer. */
static void linger(struct conn *c)
{
	if (c->lingering)
		return;
	c->lingering = true;
	if (shutdown(bufferevent_getfd(c->bev), SHUT_WR) != 0) {
		conn_close(c, c->reason);
		return;
	}
	bufferevent_set_timeouts(c->bev, c->w->tv_linger, NULL);
}

void conn_free(struct conn *c)
{
	if (c->stream)
		c->stream->free(c->stream_arg);
	free(c->reply_headers);
	int fd = bufferevent_getfd(c->bev);
	SSL *ssl = c->secure ? bufferevent_openssl_get_ssl(c->bev) : NULL;

	if (c->direct)
		evbuffer_remove_cb(bufferevent_get_output(c->bev), on_output_added, c);
	bufferevent_free(c->bev);
	if (!c->handed_over) {
		if (ssl != NULL)
			SSL_free(ssl);
		if (fd >= 0)
			close(fd);
		/* it was served on the admin listener's spare: take the slot back
		 * before a client can (the table is full) */
		if (c->once && c->w->admin_spare < 0)
			c->w->admin_spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	c->magic = 0;
	free(c);
}

void conn_respond(struct conn *c, int status, const char *content_type, const char *extra_headers,
		  const char *body, size_t body_len)
{
	respond(c, status, content_type, extra_headers, body, body_len,
		status < 400 ? SG_CLOSE_HTTP_DONE : SG_CLOSE_BAD_REQUEST);
}

/* conn_respond with the reason the connection closes for. */
static void respond(struct conn *c, int status, const char *content_type, const char *extra_headers,
		    const char *body, size_t body_len, enum sg_close reason)
{
	struct evbuffer *out = conn_output(c);

	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\n"
			    "Content-Type: %s\r\n"
			    "Content-Length: %zu\r\n"
			    "%s"
			    "Connection: close\r\n\r\n",
			    status, http_status_text(status), content_type, body_len,
			    extra_headers ? extra_headers : "");
	if (body_len)
		evbuffer_add(out, body, body_len);
	if (!c->admin)
		c->w->stats.bytes_out += evbuffer_get_length(out);
	conn_close_after_flush(c, reason);
}

void conn_reply(struct conn *c, int status, const char *content_type, const char *extra_headers,
		const char *body, size_t body_len)
{
	struct evbuffer *out;
	bool keep;

	if (!conn_is_open(c) || c->state == CONN_WS)
		return;
	keep = c->keep_alive && status < 400 && !c->w->shutting_down && !c->once;
	out = conn_output(c);
	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\n"
			    "Content-Type: %s\r\n"
			    "Content-Length: %zu\r\n"
			    "%s%s"
			    "Connection: %s\r\n\r\n",
			    status, http_status_text(status), content_type, body_len,
			    extra_headers ? extra_headers : "",
			    c->reply_headers ? c->reply_headers : "",
			    keep ? "keep-alive" : "close");
	if (body_len)
		evbuffer_add(out, body, body_len);
	if (!c->admin)
		c->w->stats.bytes_out += evbuffer_get_length(out);
	free(c->reply_headers);
	c->reply_headers = NULL;
	c->held_by = NULL;
	if (!keep) {
		if (c->state == CONN_HELD)
			c->state = CONN_HTTP;
		conn_close_after_flush(c, status < 400 ? SG_CLOSE_HTTP_DONE : SG_CLOSE_BAD_REQUEST);
		return;
	}
	if (c->state == CONN_HELD) {
		/* the next request may already be buffered */
		c->state = CONN_HTTP;
		bufferevent_trigger(c->bev, EV_READ, BEV_OPT_DEFER_CALLBACKS);
	}
	bufferevent_set_timeouts(c->bev, c->w->tv_http_idle, NULL);
	c->head_start_ms = sg_mono_ms();
}

void conn_hold(struct conn *c, void *holder, const char *extra_headers)
{
	c->state = CONN_HELD;
	c->held_by = holder;
	free(c->reply_headers);
	c->reply_headers = extra_headers ? sg_strdup(extra_headers) : NULL;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
}

/* A whole request goes to the handler of the connection's listener. */
static void route(struct conn *c, const struct http_request *req, const char *body, size_t body_len)
{
	c->w->conn_handler[c->admin ? CONN_ADMIN : CONN_CLIENT]->on_request(c->w, c, req, body,
									    body_len);
}

/* A request whose head is in and whose body is on its way: counted as in
 * its HTTP phase, answered 100 Continue when it asked, and timed by the
 * body's deadlines (not by the read timeout any more). */
static void body_pending(struct conn *c, const struct http_request *req, bool expect_continue)
{
	http_link(c);
	if (c->phase != CONN_PHASE_BODY) {
		c->phase = CONN_PHASE_BODY;
		c->body_start_ms = sg_mono_ms();
		c->body_head_len = (uint32_t)req->head_len;
		bufferevent_set_timeouts(c->bev, NULL, NULL);
		if (expect_continue) {
			evbuffer_add(conn_output(c), continue_line, sizeof(continue_line) - 1);
			c->w->stats.bytes_out += sizeof(continue_line) - 1;
		}
	}
	(void)http_overdue(c, sg_mono_ms());
}

/* A request from a trusted proxy names its client (Forwarded,
 * X-Forwarded-For): the connection is that client's from now on, for the
 * limits, the handshake's address and the logs.  -1 when the client's
 * address is over its limits (the connection is answered and closed). */
static int take_forwarded(struct conn *c, const struct http_request *req)
{
	struct worker *w = c->w;
	char text[CIDR_ADDR_TEXT];
	struct ip_addr a;
	enum sg_close why;

	if (forwarded_client(req, w->trusted, &a) != 1)
		return 0;
	ip_addr_format(&a, text);
	if (strcmp(text, c->addr) == 0)
		return 0;
	if (c->ip != NULL &&
	    admission_move(w->admission, w->cfg, &c->ip, text, c->http_slow, &why) != 0) {
		log_info("client %s (via %s): %s reached", text, c->peer,
			 why == SG_CLOSE_PER_IP_LIMIT ? "limits.per_ip" : "limits.http_per_ip");
		c->had_session = false;
		respond(c, 503, "text/plain", "Retry-After: 1\r\n", "Service Unavailable\n", 20,
			why);
		return -1;
	}
	log_debug("client %s: named by the proxy %s", text, c->peer);
	snprintf(c->addr, sizeof(c->addr), "%s", text);
	snprintf(c->peer, sizeof(c->peer), "%s", text);
	return 0;
}

static void read_request(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint64_t max_body = c->w->cfg->server.max_payload;
	size_t len = evbuffer_get_length(in);
	size_t n = len < SG_HTTP_MAX_HEAD ? len : SG_HTTP_MAX_HEAD;
	struct http_request req;
	struct sg_err err = { 0 };
	size_t body_len = 0, total;
	int status = 400, owner;
	enum http_expect expect;
	char *p;
	int rc;

	if (n == 0)
		return;
	p = (char *)evbuffer_pullup(in, (ev_ssize_t)n);
	rc = http_request_parse(p, n, SG_HTTP_MAX_HEAD, &req, &status, &err);
	if (rc == 0) {
		if (len >= SG_HTTP_MAX_HEAD) {
			conn_log(SG_LOG_DEBUG, c, NULL, "request head over %d bytes",
				 SG_HTTP_MAX_HEAD);
			conn_respond(c, 431, "text/plain", NULL,
				     "Request Header Fields Too Large\n", 32);
			return;
		}
		http_link(c);
		c->phase = CONN_PHASE_HEAD;
		/* the read timeout restarts with every byte: this bounds the
		 * whole head, against clients that trickle it (slowloris) */
		(void)http_overdue(c, sg_mono_ms());
		return;
	}
	if (rc < 0) {
		char msg[320];
		int bl = snprintf(msg, sizeof(msg), "%s\n", err.msg);
		conn_log(SG_LOG_DEBUG, c, NULL, "bad HTTP request: %s", err.msg);
		conn_respond(c, status, "text/plain", NULL, msg, (size_t)bl);
		return;
	}
	expect = http_request_expect(&req);
	if (expect == HTTP_EXPECT_UNKNOWN) {
		log_info("client %s: an Expect other than 100-continue", c->peer);
		conn_respond(c, 417, "text/plain", NULL, "Expectation Failed\n", 19);
		return;
	}
	if (c->phase != CONN_PHASE_BODY)
		memset(&c->chunked, 0, sizeof(c->chunked)); /* a new body */
	total = req.head_len;
	if (req.chunked) {
		p = (char *)evbuffer_pullup(in, -1);
		rc = http_chunked_scan(&c->chunked, p + req.head_len, len - req.head_len, max_body,
				       &status, &err);
		if (rc < 0) {
			log_info("client %s: bad chunked body: %s", c->peer, err.msg);
			conn_respond(c, status, "text/plain", NULL,
				     status == 413 ? "Payload Too Large\n" : "Bad Request\n",
				     status == 413 ? 18 : 12);
			return;
		}
		if (rc == 0) {
			body_pending(c, &req, expect == HTTP_EXPECT_CONTINUE);
			return;
		}
		total += (size_t)c->chunked.pos;
	} else if (req.content_length > 0 && (uint64_t)req.content_length <= max_body) {
		body_len = (size_t)req.content_length;
		total += body_len;
		if (len < total) {
			body_pending(c, &req, expect == HTTP_EXPECT_CONTINUE);
			return; /* the rest of the body is on its way */
		}
		p = (char *)evbuffer_pullup(in, (ev_ssize_t)total);
	}
	if (total > req.head_len &&
	    http_request_parse(p, total, SG_HTTP_MAX_HEAD, &req, &status, &err) != 1)
		sg_fatal(
			"request head changed while reading its body"); /* it moved: parse the copy */
	http_leave(c);
	if (c->trusted && take_forwarded(c, &req) != 0)
		return;
	owner = owner_elsewhere(c, &req);
	if (owner >= 0) {
		hand_over(c, (size_t)owner);
		return;
	}
	if (req.chunked)
		body_len = http_chunked_decode(p + req.head_len, (size_t)c->chunked.pos);
	/* No timeouts once a request is in: the protocol layers own them. */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	c->keep_alive = req.keep_alive;
	if (!c->admin)
		c->w->stats.bytes_in += total;
	route(c, &req, body_len ? p + req.head_len : NULL, body_len);
	if (c->state == CONN_WS || c->state == CONN_HTTP || c->state == CONN_HELD)
		evbuffer_drain(in, total);
	if (c->state == CONN_WS && evbuffer_get_length(in) > 0)
		c->stream->on_readable(c->stream_arg, in);
	else if (c->state == CONN_HTTP && evbuffer_get_length(in) > 0)
		bufferevent_trigger(c->bev, EV_READ, BEV_OPT_DEFER_CALLBACKS); /* pipelined */
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = from_arg(arg);

	SG_UNUSED(bev);
	switch (c->state) {
	case CONN_HTTP:
		read_request(c);
		break;
	case CONN_HELD:
		break; /* the next request waits for the held answer */
	case CONN_WS:
		c->stream->on_readable(c->stream_arg, bufferevent_get_input(c->bev));
		break;
	default:
		evbuffer_drain(bufferevent_get_input(c->bev),
			       evbuffer_get_length(bufferevent_get_input(c->bev)));
		break;
	}
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = from_arg(arg);

	SG_UNUSED(bev);
	c->over_soft_since_ms = 0; /* everything queued was written */
	if (c->state == CONN_FLUSHING)
		linger(c);
	else if (c->direct)
		bufferevent_disable(c->bev, EV_WRITE); /* back to the worker's flush */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = from_arg(arg);

	SG_UNUSED(bev);
	if (c->state == CONN_FLUSHING) {
		conn_close(c, c->reason);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		http_timeout(c, SG_CLOSE_IDLE_TIMEOUT); /* the head's read timeout */
	else if (what & BEV_EVENT_EOF)
		conn_close(c, SG_CLOSE_TRANSPORT_CLOSE);
	else if (what & BEV_EVENT_ERROR)
		conn_close(c, SG_CLOSE_TRANSPORT_ERROR);
}

/* ---- the network layer's part of a worker ---------------------------- */

/* How long a closing connection may take to write what it has queued. */
#define CONN_FLUSH_TIMEOUT_MS 5000
/* After the last byte of a closing connection, how long its input is read
 * and discarded waiting for the client's own close. */
#define CONN_LINGER_MS 2000
/* How often the connections still reading a request are checked against
 * their deadlines (limits.header_timeout, body_timeout, body_min_rate). */
#define CONN_HTTP_SWEEP_MS 1000

bool conn_trusts_peer(const struct worker *w, const struct sockaddr *sa)
{
	struct ip_addr a;

	return w->trusted != NULL && w->trusted->n > 0 && ip_addr_from_sockaddr(sa, &a) == 0 &&
	       cidr_set_match(w->trusted, &a);
}

static void on_http_sweep(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	conn_sweep_http(arg);
}

/* What derives from the snapshot and a reload changes: the head deadline's
 * timeout queue and the trusted proxies. */
static int net_apply_config(struct worker *w)
{
	const struct sg_config *cfg = w->cfg;
	const struct timeval *idle = worker_common_timeout(w->base, cfg->limits.header_timeout_ms);
	struct cidr_set *trusted = sg_calloc(1, sizeof(*trusted));

	if (idle == NULL ||
	    cidr_set_parse(trusted, (const char *const *)cfg->server.trusted_proxies.v,
			   cfg->server.trusted_proxies.n, NULL) != 0) {
		free(trusted); /* the loader checked every entry: not for a valid snapshot */
		return -1;
	}
	w->tv_http_idle = idle;
	if (w->trusted != NULL) {
		cidr_set_free(w->trusted);
		free(w->trusted);
	}
	w->trusted = trusted;
	return 0;
}

static int net_init(struct worker *w)
{
	struct timeval sweep = worker_ms_tv(CONN_HTTP_SWEEP_MS);

	w->tv_flush = worker_common_timeout(w->base, CONN_FLUSH_TIMEOUT_MS);
	w->tv_linger = worker_common_timeout(w->base, CONN_LINGER_MS);
	w->http_sweeper = event_new(w->base, -1, EV_PERSIST, on_http_sweep, w);
	if (w->tv_flush == NULL || w->tv_linger == NULL || w->http_sweeper == NULL ||
	    event_add(w->http_sweeper, &sweep) != 0)
		return -1;
	return net_apply_config(w);
}

static void net_fini(struct worker *w)
{
	if (w->http_sweeper != NULL)
		event_free(w->http_sweeper);
	w->http_sweeper = NULL;
	if (w->trusted != NULL) {
		cidr_set_free(w->trusted);
		free(w->trusted);
		w->trusted = NULL;
	}
}

const struct worker_module conn_module = {
	.name = "network layer",
	.init = net_init,
	.apply_config = net_apply_config,
	.flush = conn_flush_dirty,
	.fini = net_fini,
};
