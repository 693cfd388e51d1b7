/*
 * listener.c: listening sockets (see listener.h).  Accepted sockets are
 * admitted against the limits and handed to the next worker's conn_new()
 * at once (or, from a trusted proxy with server.proxy_protocol, to
 * proxy_accept_start()).  A connection over a limit is refused at once: a
 * 503 on plain listeners, then closed.
 *
 * The descriptor table full (EMFILE, ENFILE) is handled as libuv and nginx
 * do: each listener keeps one spare descriptor; when accept() fails for
 * want of one, the spare is closed, the waiting connections are accepted
 * and refused one by one (so clients learn at once instead of hanging in
 * the backlog), and the spare is opened again.  The admin listener uses its
 * spare to serve the connection instead, so /metrics and /readyz keep
 * answering.  Refusals and accept errors are logged at most once per
 * LOG_LIMIT_MS with a count (log_limited), never once per attempt; nothing
 * spins: without a spare the listener pauses briefly.
 */
#include "net/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "core/inbox.h"
#include "core/log.h"
#include "core/worker.h"
#include "net/admission.h"
#include "net/conn.h"
#include "net/proxy_accept.h"

#define LISTENER_PAUSE_MS 100
#define LISTENER_SHED_MAX 256 /* connections refused per wake-up at the ceiling */

static const char refusal[] = "HTTP/1.1 503 Service Unavailable\r\n"
			      "Content-Type: text/plain\r\n"
			      "Content-Length: 20\r\n"
			      "Retry-After: 1\r\n"
			      "Connection: close\r\n\r\n"
			      "Service Unavailable\n";

struct listener {
	struct worker *w; /* accepts on this worker's loop */
	size_t next;	  /* the worker the next connection goes to */
	struct evconnlistener *l;
	struct event *resume; /* re-enables accepting, reopens the spare */
	bool admin;
	bool tls;		      /* no plain-text refusal on a TLS listener */
	int own_spare;		      /* a client listener's spare descriptor */
	int *spare;		      /* own_spare, or the worker's admin_spare; -1: used */
	struct log_limit refused_log; /* connections refused by a limit */
	struct log_limit fd_log;      /* accept() failures (descriptors, memory) */
	char addr[128];
};

static void on_accept(struct evconnlistener *el, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg);
static void on_error(struct evconnlistener *el, void *arg);
static void on_resume(evutil_socket_t fd, short what, void *arg);

int listener_parse_addr(const char *addr, struct sockaddr_storage *ss, int *len, struct sg_err *err)
{
	const char *colon = strrchr(addr, ':');
	char host[128];
	size_t hl;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL)
		return sg_err_set(err, "'%s' is not host:port", addr);
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || port < 1 || port > 65535)
		return sg_err_set(err, "bad port in '%s'", addr);
	hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		return sg_err_set(err, "host too long in '%s'", addr);
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return sg_err_set(err, "bad IPv6 address in '%s'", addr);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	{
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		if (strcmp(host, "*") == 0 || hl == 0)
			in->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return sg_err_set(
				err, "bad IPv4 address in '%s' (use an address, not a name)", addr);
	}
	return 0;
}

struct listener *listener_new(struct worker *w, const char *addr, bool admin, struct sg_err *err)
{
	struct sockaddr_storage ss;
	struct listener *l;
	int len;

	if (listener_parse_addr(addr, &ss, &len, err) != 0)
		return NULL;
	l = sg_calloc(1, sizeof(*l));
	l->w = w;
	l->admin = admin;
	l->tls = !admin && w->tls != NULL;
	/* the admin listener's spare lives in the worker: the connection served on
	 * it reopens it the moment it closes (conn_free) */
	l->spare = admin ? &w->admin_spare : &l->own_spare;
	*l->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	l->l = evconnlistener_new_bind(w->base, on_accept, l,
				       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
					       LEV_OPT_CLOSE_ON_EXEC,
				       1024, (struct sockaddr *)&ss, len);
	if (l->l == NULL) {
		sg_err_set(err, "cannot listen on %s: %s", addr, strerror(errno));
		if (*l->spare >= 0)
			close(*l->spare);
		*l->spare = -1;
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->l, on_error);
	l->resume = event_new(w->base, -1, 0, on_resume, l);
	return l;
}

/* Tells a refused client why when it can be done without waiting (a plain
 * listener; what the client sent is read first, so the close is a FIN, not
 * a reset that could destroy the answer), then closes. */
static void refuse_fd(struct listener *l, int fd)
{
	char sink[4096];

	if (!l->tls) {
		/* a request is a few hundred bytes; a client streaming more is not
		 * waited for */
		for (int i = 0; i < 16 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
			;
		(void)send(fd, refusal, sizeof(refusal) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	close(fd);
}

static const char *refusal_text(const struct worker *w, enum sg_close why, char *buf, size_t n)
{
	switch (why) {
	case SG_CLOSE_PER_IP_LIMIT:
		snprintf(buf, n, "limits.per_ip (%u) reached", w->cfg->limits.per_ip);
		break;
	case SG_CLOSE_HTTP_PER_IP_LIMIT:
		snprintf(buf, n, "limits.http_per_ip (%u) reached", w->cfg->limits.http_per_ip);
		break;
	case SG_CLOSE_CONNECTION_LIMIT:
		snprintf(buf, n, "server.max_connections reached (%u)",
			 admission_max(w->admission, w->cfg));
		break;
	case SG_CLOSE_FD_LIMIT:
		snprintf(buf, n, "no descriptor left (open-file limit)");
		break;
	default:
		snprintf(buf, n, "%s", sg_close_text(why));
		break;
	}
	return buf;
}

/* A connection over a limit: counted, answered, closed; logged at most
 * once per interval. */
static void refuse(struct listener *l, int fd, const struct sockaddr *sa, enum sg_close why)
{
	struct worker *w = l->w;
	char text[96], host[INET6_ADDRSTRLEN] = "?";

	worker_count_close(w, why, NULL);
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
			  sizeof(host));
	log_limited(&l->refused_log, SG_LOG_WARN, NULL, "refusing a connection from %s: %s", host,
		    refusal_text(w, why, text, sizeof(text)));
	refuse_fd(l, fd);
}

/* A connection accepted here for another worker. */
struct accepted {
	struct job job;
	int fd;
	struct ip_count *ip;
	struct sockaddr_storage ss;
};

/* The connection's first step on its worker: its PROXY header, when a
 * trusted proxy must send one, else the connection itself. */
static void start_conn(struct worker *w, int fd, const struct sockaddr *sa, struct ip_count *ip)
{
	if (w->cfg->server.proxy_protocol && conn_trusts_peer(w, sa))
		proxy_accept_start(w, fd, sa, ip);
	else
		(void)conn_new(w, fd, sa, false, ip);
}

static void on_accepted(struct worker *w, struct job *j)
{
	struct accepted *a = (struct accepted *)j;

	start_conn(w, a->fd, (struct sockaddr *)&a->ss, a->ip);
	free(a);
}

/* Connections go to the workers in turn; admin connections stay here. */
static void on_accept(struct evconnlistener *el, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct listener *l = arg;
	struct worker *to = l->w;
	struct accepted *a;
	struct ip_count *ip = NULL;
	enum sg_close why;

	SG_UNUSED(el);
	if (l->admin) {
		(void)conn_new(l->w, fd, sa, true, NULL);
		return;
	}
	/* counted now, in the order of accepting, wherever it goes */
	if (conn_admit(l->w, sa, &ip, &why) != 0) {
		refuse(l, fd, sa, why);
		return;
	}
	if (l->w->n_workers > 1) {
		to = l->w->siblings[l->next];
		l->next = (l->next + 1) % l->w->n_workers;
	}
	if (to == l->w || salen < 0 || (size_t)salen > sizeof(a->ss)) {
		start_conn(l->w, fd, sa, ip);
		return;
	}
	a = sg_calloc(1, sizeof(*a));
	a->job.run = on_accepted;
	a->fd = fd;
	a->ip = ip;
	memcpy(&a->ss, sa, (size_t)salen);
	inbox_post(to->inbox, &a->job);
}

/* Pauses accepting briefly (the resume timer also reopens the spare). */
static void pause_accepting(struct listener *l)
{
	struct timeval tv = worker_ms_tv(LISTENER_PAUSE_MS);

	evconnlistener_disable(l->l);
	event_add(l->resume, &tv);
}

/* The table is full: with the spare closed, accept what waits and refuse
 * it (the admin listener serves one connection on the spare's slot).
 * Returns how many connections were taken. */
static int use_spare(struct listener *l)
{
	int lfd = evconnlistener_get_fd(l->l), n = 0;

	if (*l->spare < 0)
		return 0;
	close(*l->spare);
	*l->spare = -1;
	while (n < LISTENER_SHED_MAX) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		n++;
		if (l->admin) {
			struct conn *c = conn_new(l->w, fd, (struct sockaddr *)&ss, true, NULL);

			if (c != NULL)
				c->once = true; /* it gives the slot back after one answer */
			break;
		}
		worker_count_close(l->w, SG_CLOSE_FD_LIMIT, NULL);
		refuse_fd(l, fd);
	}
	if (!l->admin)
		*l->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (*l->spare < 0) {
		struct timeval tv = worker_ms_tv(LISTENER_PAUSE_MS);

		event_add(l->resume, &tv); /* to get it back */
	}
	return n;
}

static void on_error(struct evconnlistener *el, void *arg)
{
	struct listener *l = arg;
	int err = errno, n = 0;

	SG_UNUSED(el);
	l->w->stats.accept_errors++;
	if (err == EMFILE || err == ENFILE)
		n = use_spare(l);
	if (err == EMFILE || err == ENFILE)
		log_limited(&l->fd_log, SG_LOG_WARN, NULL, "accept on %s failed: %s (%s)", l->addr,
			    strerror(err),
			    l->admin ? "served on the spare descriptor"
				     : "waiting connections refused");
	else
		log_limited(&l->fd_log, SG_LOG_WARN, NULL, "accept on %s failed: %s", l->addr,
			    strerror(err));
	/* nothing taken (no spare, or another error): pause rather than spin */
	if (n == 0)
		pause_accepting(l);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	struct timeval tv = worker_ms_tv(LISTENER_PAUSE_MS);

	SG_UNUSED(fd);
	SG_UNUSED(what);
	if (*l->spare < 0)
		*l->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (*l->spare < 0)
		event_add(l->resume, &tv); /* still none free: try again */
	if (!l->w->shutting_down)
		evconnlistener_enable(l->l);
}

void listener_disable(struct listener *l)
{
	evconnlistener_disable(l->l);
	event_del(l->resume);
}

void listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	evconnlistener_free(l->l);
	event_free(l->resume);
	if (*l->spare >= 0)
		close(*l->spare);
	*l->spare = -1;
	free(l);
}
