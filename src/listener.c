/*
 * listener.c: listening sockets (see listener.h).  Accepted sockets are
 * admitted against the limits and handed to the next worker's conn_new()
 * at once; accept errors such as EMFILE are logged and the listener backs
 * off briefly instead of spinning.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "listener.h"

#include "conn.h"
#include "inbox.h"
#include "log.h"
#include "worker.h"

struct listener {
	struct worker *w;              /* accepts on this worker's loop */
	size_t next;                   /* the worker the next connection goes to */
	struct evconnlistener *l;
	struct event *resume;
	bool admin;
	char addr[128];
};

static void on_accept(struct evconnlistener *el, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg);
static void on_error(struct evconnlistener *el, void *arg);
static void on_resume(evutil_socket_t fd, short what, void *arg);

int listener_parse_addr(const char *addr, struct sockaddr_storage *ss, int *len,
			struct sg_err *err)
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
			return sg_err_set(err, "bad IPv4 address in '%s' (use an address, not a name)",
					  addr);
	}
	return 0;
}

struct listener *listener_new(struct worker *w, const char *addr, bool admin,
			      struct sg_err *err)
{
	struct sockaddr_storage ss;
	struct listener *l;
	int len;

	if (listener_parse_addr(addr, &ss, &len, err) != 0)
		return NULL;
	l = sg_calloc(1, sizeof(*l));
	l->w = w;
	l->admin = admin;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	l->l = evconnlistener_new_bind(w->base, on_accept, l,
				       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
					       LEV_OPT_CLOSE_ON_EXEC,
				       1024, (struct sockaddr *)&ss, len);
	if (l->l == NULL) {
		sg_err_set(err, "cannot listen on %s: %s", addr, strerror(errno));
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->l, on_error);
	l->resume = event_new(w->base, -1, 0, on_resume, l);
	return l;
}

/* A connection accepted here for another worker. */
struct accepted {
	struct job job;
	int fd;
	struct ip_count *ip;
	struct sockaddr_storage ss;
};

static void on_accepted(struct worker *w, struct job *j)
{
	struct accepted *a = (struct accepted *)j;

	(void)conn_new(w, a->fd, (struct sockaddr *)&a->ss, false, a->ip);
	free(a);
}

/* Connections go to the workers in turn; admin connections stay here. */
static void on_accept(struct evconnlistener *el, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct listener *l = arg;
	struct worker *to = l->w;
	struct accepted *a;

	struct ip_count *ip = NULL;

	SG_UNUSED(el);
	if (l->admin) {
		(void)conn_new(l->w, fd, sa, true, NULL);
		return;
	}
	/* counted now, in the order of accepting, wherever it goes */
	if (conn_admit(l->w, fd, sa, &ip) != 0)
		return;
	if (l->w->n_workers > 1) {
		to = l->w->siblings[l->next];
		l->next = (l->next + 1) % l->w->n_workers;
	}
	if (to == l->w || salen < 0 || (size_t)salen > sizeof(a->ss)) {
		(void)conn_new(l->w, fd, sa, false, ip);
		return;
	}
	a = sg_calloc(1, sizeof(*a));
	a->job.run = on_accepted;
	a->fd = fd;
	a->ip = ip;
	memcpy(&a->ss, sa, (size_t)salen);
	inbox_post(to->inbox, &a->job);
}

static void on_error(struct evconnlistener *el, void *arg)
{
	struct listener *l = arg;
	struct timeval tv = { 0, 100000 };

	/* EMFILE/ENFILE/ENOMEM: pause accepting for 100 ms rather than spin. */
	log_warn("accept on %s failed: %s", l->addr, strerror(errno));
	evconnlistener_disable(el);
	event_add(l->resume, &tv);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
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
	free(l);
}
