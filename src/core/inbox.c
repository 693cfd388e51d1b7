/*
 * inbox.c: cross-thread jobs (see inbox.h).  A mutex guards the queue and
 * an eventfd wakes the owner's loop; only a post onto an empty queue writes
 * the eventfd, so a burst of jobs costs one wake-up.
 */
#include "core/inbox.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"

struct inbox {
	pthread_mutex_t mu;
	struct job *head, **tail;
	int efd;
	struct event *ev;
	struct worker *w;
};

static void on_wake(evutil_socket_t fd, short what, void *arg);

struct inbox *inbox_new(struct event_base *base, struct worker *w)
{
	struct inbox *in = sg_calloc(1, sizeof(*in));

	pthread_mutex_init(&in->mu, NULL);
	in->tail = &in->head;
	in->w = w;
	in->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (in->efd < 0) {
		log_error("eventfd: %s", strerror(errno));
		inbox_free(in);
		return NULL;
	}
	in->ev = event_new(base, in->efd, EV_READ | EV_PERSIST, on_wake, in);
	if (in->ev == NULL || event_add(in->ev, NULL) != 0) {
		inbox_free(in);
		return NULL;
	}
	return in;
}

void inbox_post(struct inbox *in, struct job *j)
{
	bool was_empty;
	uint64_t one = 1;

	j->next = NULL;
	pthread_mutex_lock(&in->mu);
	was_empty = in->head == NULL;
	*in->tail = j;
	in->tail = &j->next;
	pthread_mutex_unlock(&in->mu);
	if (was_empty && write(in->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		sg_fatal("inbox eventfd write failed");
}

size_t inbox_run(struct inbox *in)
{
	struct job *j;
	size_t n = 0;

	pthread_mutex_lock(&in->mu);
	j = in->head;
	in->head = NULL;
	in->tail = &in->head;
	pthread_mutex_unlock(&in->mu);
	while (j != NULL) {
		struct job *next = j->next;
		j->run(in->w, j);
		j = next;
		n++;
	}
	return n;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	uint64_t v;

	SG_UNUSED(what);
	/* read first: a post after the read writes the eventfd again */
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("inbox eventfd read: %s", strerror(errno));
	(void)inbox_run(arg);
}

void inbox_free(struct inbox *in)
{
	if (in == NULL)
		return;
	if (in->ev)
		event_free(in->ev);
	if (in->efd >= 0)
		close(in->efd);
	pthread_mutex_destroy(&in->mu);
	free(in);
}
