/*
 * test_wheel.c: the timing wheel (wheel.c), driven by hand through
 * wheel_advance and once by its own libevent timer: nodes come due at
 * their tick and not before, in any slot and beyond one turn; a node moved
 * or removed does not run; a callback may re-add its node or remove
 * another due node; a wheel far behind catches up in one turn; the timer
 * runs only while the wheel holds a node.
 */
#include <event2/event.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/wheel.h"
#include "unit.h"

#define N 2000

struct item {
	struct wheel_node node;
	int64_t due_ms;
	int64_t ran_at; /* the time given to wheel_advance when it ran, or -1 */
	int runs;
	struct item *victim; /* removed by this item's callback */
	bool readd;
};

static struct wheel *wh;
static int64_t clock_now;
static int early;

static void on_due(struct wheel_node *n, void *arg)
{
	struct item *it = (struct item *)n;

	CHECK(arg == &clock_now);
	CHECK(!wheel_pending(n));
	if (clock_now < it->due_ms)
		early++;
	it->ran_at = clock_now;
	it->runs++;
	if (it->victim)
		wheel_del(wh, &it->victim->node);
	if (it->readd) {
		it->readd = false;
		it->due_ms = clock_now + 1000;
		wheel_add(wh, n, it->due_ms);
	}
}

/* Nodes spread over several turns come due within one tick of their
 * deadline, never before, each exactly once. */
static void test_due_in_order(void)
{
	struct event_base *base = event_base_new();
	struct item *items = calloc(N, sizeof(*items));
	int64_t t0 = sg_mono_ms();
	int late = 0, missed = 0;

	wh = wheel_new(base, 100, on_due, &clock_now);
	CHECK(wh != NULL);
	early = 0;
	for (int i = 0; i < N; i++) {
		/* up to 200 s ahead: four turns of 512 ticks of 100 ms */
		items[i].due_ms = t0 + (int64_t)(i * 104729 % 200000);
		wheel_add(wh, &items[i].node, items[i].due_ms);
	}
	CHECK_INT(wheel_count(wh), N);
	for (clock_now = t0; clock_now <= t0 + 200200; clock_now += 37)
		wheel_advance(wh, clock_now);
	for (int i = 0; i < N; i++) {
		if (items[i].runs != 1)
			missed++;
		else if (items[i].ran_at > items[i].due_ms + 100 + 37)
			late++;
	}
	CHECK_INT(early, 0);
	CHECK_INT(late, 0);
	CHECK_INT(missed, 0);
	CHECK_INT(wheel_count(wh), 0);
	wheel_free(wh);
	event_base_free(base);
	free(items);
}

/* Moving a node changes its deadline; removing it cancels it; a callback
 * re-adds its own node and removes another due in the same tick. */
static void test_move_remove_readd(void)
{
	struct event_base *base = event_base_new();
	struct item a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	int64_t t0 = sg_mono_ms();

	wh = wheel_new(base, 100, on_due, &clock_now);
	a.due_ms = t0 + 500;
	wheel_add(wh, &a.node, a.due_ms);
	a.due_ms = t0 + 5000; /* moved later */
	wheel_add(wh, &a.node, a.due_ms);
	wheel_add(wh, &b.node, t0 + 500);
	wheel_del(wh, &b.node); /* cancelled */
	wheel_del(wh, &b.node); /* twice is nothing */
	c.due_ms = d.due_ms = t0 + 1000;
	wheel_add(wh, &c.node, c.due_ms);
	wheel_add(wh, &d.node, d.due_ms);
	/* whichever of c and d runs first removes the other */
	c.victim = &d;
	d.victim = &c;
	c.readd = d.readd = true;
	CHECK_INT(wheel_count(wh), 3);
	clock_now = t0 + 1100;
	CHECK_INT(wheel_advance(wh, clock_now), 1);
	CHECK_INT(a.runs + b.runs, 0);
	CHECK_INT(c.runs + d.runs, 1);
	/* the one that ran is back for a second later, the other is gone */
	CHECK_INT(wheel_count(wh), 2);
	clock_now = t0 + 5100;
	CHECK_INT(wheel_advance(wh, clock_now), 2);
	CHECK_INT(a.runs, 1);
	CHECK_INT(c.runs + d.runs, 2);
	CHECK_INT(wheel_count(wh), 0);
	/* a deadline already past is due at the next tick */
	wheel_add(wh, &b.node, t0);
	CHECK_INT(wheel_advance(wh, clock_now + 100), 1);
	CHECK_INT(b.runs, 1);
	wheel_free(wh);
	event_base_free(base);
}

/* A wheel an hour behind (a suspended machine) runs everything due in one
 * pass over its slots, and nothing not yet due. */
static void test_far_behind(void)
{
	struct event_base *base = event_base_new();
	struct item now_due = { 0 }, later = { 0 };
	int64_t t0 = sg_mono_ms();

	wh = wheel_new(base, 100, on_due, &clock_now);
	now_due.due_ms = t0 + 60000;
	later.due_ms = t0 + 3600000 + 20000;
	wheel_add(wh, &now_due.node, now_due.due_ms);
	wheel_add(wh, &later.node, later.due_ms);
	clock_now = t0 + 3600000;
	CHECK_INT(wheel_advance(wh, clock_now), 1);
	CHECK_INT(now_due.runs, 1);
	CHECK_INT(later.runs, 0);
	clock_now = t0 + 3600000 + 20100;
	CHECK_INT(wheel_advance(wh, clock_now), 1);
	CHECK_INT(later.runs, 1);
	wheel_free(wh);
	event_base_free(base);
}

static void on_real(struct wheel_node *n, void *arg)
{
	struct item *it = (struct item *)n;

	SG_UNUSED(arg);
	it->runs++;
	it->ran_at = sg_mono_ms();
}

/* On a real loop: the wheel's timer runs the node, then stops (the loop
 * ends by itself because nothing is left pending). */
static void test_real_timer(void)
{
	struct event_base *base = event_base_new();
	struct item it = { 0 };
	int64_t t0 = sg_mono_ms();

	wh = wheel_new(base, 20, on_real, NULL);
	it.due_ms = t0 + 60;
	wheel_add(wh, &it.node, it.due_ms);
	CHECK_INT(event_base_dispatch(base), 1); /* returns when no event is left */
	CHECK_INT(it.runs, 1);
	CHECK(it.ran_at >= it.due_ms);
	CHECK_INT(wheel_count(wh), 0);
	wheel_free(wh);
	event_base_free(base);
}

int main(void)
{
	RUN(test_due_in_order);
	RUN(test_move_remove_readd);
	RUN(test_far_behind);
	RUN(test_real_timer);
	return UNIT_END();
}
