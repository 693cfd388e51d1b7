/*
 * proxy_accept.c: the PROXY header of a trusted proxy's connection (see
 * proxy_accept.h).  The socket is watched edge-triggered: a header that is
 * not whole yet stays in the kernel (peeked, not read) and the next wake-up
 * comes with new bytes only, so waiting for the rest costs nothing.
 * Invariant: a wait is on worker->proxy_waits from start to its end, when
 * its fd either went to conn_new() or was closed and its admission given
 * back.
 */
#include "net/proxy_accept.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/worker.h"
#include "net/admission.h"
#include "net/conn.h"
#include "proto/cidr.h"
#include "proto/proxy_proto.h"

struct proxy_wait {
	struct worker *w;
	int fd;
	struct ip_count *ip;
	struct sockaddr_storage peer;
	char peer_text[CIDR_ADDR_TEXT];
	struct event *ev;
	int64_t deadline_ms;
	struct proxy_wait *prev, *next;
};

static void on_readable(evutil_socket_t fd, short what, void *arg);

static void unlink_wait(struct proxy_wait *pw)
{
	struct worker *w = pw->w;

	if (pw->prev != NULL)
		pw->prev->next = pw->next;
	else
		w->proxy_waits = pw->next;
	if (pw->next != NULL)
		pw->next->prev = pw->prev;
	event_free(pw->ev);
}

/* The wait ends without a connection. */
static void drop(struct proxy_wait *pw, enum sg_close why, const char *msg)
{
	struct worker *w = pw->w;

	if (msg != NULL)
		log_info("proxy %s: %s", pw->peer_text, msg);
	worker_count_close(w, why, NULL);
	unlink_wait(pw);
	admission_leave(w->admission, pw->ip, false);
	close(pw->fd);
	free(pw);
}

void proxy_accept_start(struct worker *w, int fd, const struct sockaddr *sa, struct ip_count *ip)
{
	struct proxy_wait *pw = sg_calloc(1, sizeof(*pw));
	struct ip_addr a;

	pw->w = w;
	pw->fd = fd;
	pw->ip = ip;
	memcpy(&pw->peer, sa,
	       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in));
	if (ip_addr_from_sockaddr(sa, &a) == 0)
		ip_addr_format(&a, pw->peer_text);
	pw->deadline_ms = sg_mono_ms() + w->cfg->limits.header_timeout_ms;
	pw->next = w->proxy_waits;
	if (w->proxy_waits != NULL)
		w->proxy_waits->prev = pw;
	w->proxy_waits = pw;
	pw->ev = event_new(w->base, fd, EV_READ | EV_ET | EV_PERSIST, on_readable, pw);
	if (pw->ev == NULL || event_add(pw->ev, w->tv_http_idle) != 0) {
		if (pw->ev == NULL) /* unlink_wait frees it */
			pw->ev = event_new(w->base, -1, 0, on_readable, pw);
		drop(pw, SG_CLOSE_TRANSPORT_ERROR, "cannot watch the connection");
	}
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_wait *pw = arg;
	struct worker *w = pw->w;
	uint8_t buf[PROXY_MAX];
	struct proxy_hdr h;
	struct sg_err err = { 0 };
	const struct sockaddr *sa;
	enum sg_close why;
	ssize_t n;
	int rc;

	if (what & EV_TIMEOUT) {
		drop(pw, SG_CLOSE_PROXY_HEADER, "no PROXY header within limits.header_timeout");
		return;
	}
	n = recv(fd, buf, sizeof(buf), MSG_PEEK);
	if (n == 0) {
		drop(pw, SG_CLOSE_TRANSPORT_CLOSE, NULL);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			drop(pw, SG_CLOSE_TRANSPORT_ERROR, NULL);
		return;
	}
	rc = proxy_parse(buf, (size_t)n, &h, &err);
	if (rc == 0 && sg_mono_ms() >= pw->deadline_ms)
		sg_err_set(&err, "PROXY header not whole within limits.header_timeout");
	if (rc < 0 || err.msg[0] != '\0') {
		drop(pw, SG_CLOSE_PROXY_HEADER, err.msg);
		return;
	}
	if (rc == 0)
		return; /* the rest comes with the next edge */
	if (recv(fd, buf, h.len, 0) != (ssize_t)h.len) {
		drop(pw, SG_CLOSE_TRANSPORT_ERROR, "could not read its PROXY header");
		return;
	}
	sa = h.local ? (const struct sockaddr *)&pw->peer : (const struct sockaddr *)&h.src;
	if (!h.local && !conn_trusts_peer(w, sa)) {
		struct ip_addr a;
		char text[CIDR_ADDR_TEXT];

		if (ip_addr_from_sockaddr(sa, &a) != 0) { /* the parser names IPv4 or IPv6 only */
			drop(pw, SG_CLOSE_PROXY_HEADER, "no IP address in its PROXY header");
			return;
		}
		ip_addr_format(&a, text);
		if (admission_move(w->admission, w->cfg, &pw->ip, text, false, &why) != 0) {
			drop(pw, why,
			     why == SG_CLOSE_PER_IP_LIMIT
				     ? "its client is over limits.per_ip"
				     : "its client is over limits.http_per_ip");
			return;
		}
	}
	unlink_wait(pw);
	(void)conn_new(w, pw->fd, sa, false, pw->ip);
	free(pw);
}

static void proxy_accept_fini(struct worker *w)
{
	while (w->proxy_waits != NULL)
		drop(w->proxy_waits, SG_CLOSE_SHUTDOWN, NULL);
}

const struct worker_module proxy_accept_module = {
	.name = "PROXY header readers",
	.fini = proxy_accept_fini,
};
