/*
 * wheel.c: the hashed timing wheel (wheel.h).  WHEEL_SLOTS lists, indexed
 * by tick modulo WHEEL_SLOTS; ticks are counted from the wheel's birth in
 * a 32-bit counter (at 100 ms a tick, 13 years before it wraps, and the
 * comparisons are wrap-safe anyway).  The libevent timer is armed only
 * while the wheel holds a node, so an idle worker is never woken.
 */
#include "core/wheel.h"

#include <event2/event.h>
#include <stdlib.h>

#include "core/clock.h"

#define WHEEL_SLOTS 512 /* a power of two */

struct wheel {
	struct event *timer;
	wheel_cb cb;
	void *arg;
	uint32_t tick_ms;
	uint32_t now;	   /* the last tick turned */
	int64_t origin_ms; /* the monotonic time of tick 0 */
	size_t count;
	struct wheel_node *slot[WHEEL_SLOTS];
};

static void on_tick(evutil_socket_t fd, short what, void *arg);

struct wheel *wheel_new(struct event_base *base, uint32_t tick_ms, wheel_cb cb, void *arg)
{
	struct wheel *wh = sg_calloc(1, sizeof(*wh));

	wh->tick_ms = tick_ms > 0 ? tick_ms : 1;
	wh->cb = cb;
	wh->arg = arg;
	wh->origin_ms = sg_mono_ms();
	wh->timer = event_new(base, -1, EV_PERSIST, on_tick, wh);
	if (wh->timer == NULL) {
		free(wh);
		return NULL;
	}
	return wh;
}

void wheel_free(struct wheel *wh)
{
	if (wh == NULL)
		return;
	event_free(wh->timer);
	free(wh);
}

size_t wheel_count(const struct wheel *wh)
{
	return wh->count;
}

/* The tick a monotonic time falls in (rounded up: never early). */
static uint32_t tick_of(const struct wheel *wh, int64_t ms)
{
	int64_t rel = ms - wh->origin_ms;

	if (rel <= 0)
		return 0;
	return (uint32_t)((rel + wh->tick_ms - 1) / wh->tick_ms);
}

static void arm(struct wheel *wh)
{
	struct timeval tv = { wh->tick_ms / 1000, (wh->tick_ms % 1000) * 1000 };

	if (!event_pending(wh->timer, EV_TIMEOUT, NULL))
		event_add(wh->timer, &tv);
}

static void link_node(struct wheel *wh, struct wheel_node *n)
{
	struct wheel_node **head = &wh->slot[n->due % WHEEL_SLOTS];

	n->next = *head;
	if (*head)
		(*head)->pprev = &n->next;
	n->pprev = head;
	*head = n;
}

void wheel_add(struct wheel *wh, struct wheel_node *n, int64_t due_ms)
{
	uint32_t due = tick_of(wh, due_ms);

	wheel_del(wh, n);
	/* a tick already turned (or this one) is due at the next turn */
	if ((int32_t)(due - wh->now) <= 0)
		due = wh->now + 1;
	n->due = due;
	link_node(wh, n);
	if (wh->count++ == 0)
		arm(wh);
}

void wheel_del(struct wheel *wh, struct wheel_node *n)
{
	if (n->pprev == NULL)
		return;
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
	wh->count--;
}

/* The nodes of one slot that are due now run; the others stay.  The due
 * ones move to a list of their own first (still counted, still
 * removable: a callback may take another due node off, or add to this
 * slot), then each is taken off and handed to the callback. */
static size_t turn_slot(struct wheel *wh, uint32_t tick)
{
	struct wheel_node **head = &wh->slot[tick % WHEEL_SLOTS];
	struct wheel_node *due = NULL, *n, *next;
	size_t ran = 0;

	for (n = *head; n; n = next) {
		next = n->next;
		if ((int32_t)(n->due - tick) <= 0) {
			*n->pprev = n->next;
			if (n->next)
				n->next->pprev = n->pprev;
			n->next = due;
			if (due)
				due->pprev = &n->next;
			n->pprev = &due;
			due = n;
		}
	}
	while ((n = due) != NULL) {
		wheel_del(wh, n);
		ran++;
		wh->cb(n, wh->arg);
	}
	return ran;
}

size_t wheel_advance(struct wheel *wh, int64_t now_ms)
{
	int64_t rel = now_ms - wh->origin_ms;
	uint32_t target = rel > 0 ? (uint32_t)(rel / wh->tick_ms) : 0;
	size_t ran = 0;

	while ((int32_t)(target - wh->now) > 0) {
		uint32_t steps = target - wh->now;

		/* more than a turn behind: every slot is visited once */
		if (steps > WHEEL_SLOTS)
			wh->now = target - WHEEL_SLOTS;
		wh->now++;
		ran += turn_slot(wh, wh->now);
	}
	return ran;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct wheel *wh = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	wheel_advance(wh, sg_mono_ms());
	if (wh->count == 0)
		event_del(wh->timer);
}
