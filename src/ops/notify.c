/*
 * notify.c: sd_notify over a datagram socket (see notify.h).  The socket
 * path may be abstract (a leading '@').  Failures to notify are logged once
 * and otherwise ignored: a missing supervisor must not stop the daemon.
 */
#include "ops/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

struct notifier {
	int fd;
	struct sockaddr_un addr;
	socklen_t addr_len;
	struct event *watchdog;
	bool warned;
};

static void on_watchdog(evutil_socket_t fd, short what, void *arg);

struct notifier *notify_new(struct event_base *base)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *wd = getenv("WATCHDOG_USEC");
	const char *wd_pid = getenv("WATCHDOG_PID");
	struct notifier *n;
	size_t len;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return NULL;
	len = strlen(path);
	if (len >= sizeof(n->addr.sun_path)) {
		log_warn("NOTIFY_SOCKET path too long; not notifying systemd");
		return NULL;
	}
	n = sg_calloc(1, sizeof(*n));
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		log_warn("cannot open the systemd notification socket: %s", strerror(errno));
		free(n);
		return NULL;
	}
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@')
		n->addr.sun_path[0] = '\0'; /* abstract namespace */
	n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (wd != NULL && (wd_pid == NULL || atol(wd_pid) == (long)getpid())) {
		long long usec = atoll(wd);
		if (usec > 0) {
			/* keep-alives at half the interval, as sd_watchdog_enabled advises */
			struct timeval tv = { (time_t)(usec / 2000000),
					      (suseconds_t)(usec / 2 % 1000000) };
			n->watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, n);
			event_add(n->watchdog, &tv);
			log_info("systemd watchdog: keep-alive every %lld ms", usec / 2000);
		}
	}
	return n;
}

void notify_free(struct notifier *n)
{
	if (n == NULL)
		return;
	if (n->watchdog)
		event_free(n->watchdog);
	close(n->fd);
	free(n);
}

void notify_send(struct notifier *n, const char *state)
{
	if (n == NULL)
		return;
	if (sendto(n->fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&n->addr,
		   n->addr_len) < 0 &&
	    !n->warned) {
		n->warned = true;
		log_warn("cannot notify systemd: %s", strerror(errno));
	}
}

void notify_reloading(struct notifier *n)
{
	struct timespec ts;
	char buf[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000);
	notify_send(n, buf);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	notify_send(arg, "WATCHDOG=1");
}
