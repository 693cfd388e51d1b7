/*
 * wheel.h: a hashed timing wheel of one worker: many deadlines, one
 * libevent timer.  A deadline costs its owner an intrusive node (two
 * pointers and a tick), not an event each: at 100k clients a token's expiry
 * is 24 bytes in the socket, not a 130-byte struct event and a heap slot.
 * The wheel turns every tick_ms while it holds a node; a node due later
 * than one turn waits in its slot for the turns in between.  Precision is
 * one tick.  Single-threaded (the worker's loop).
 */
#ifndef SG_WHEEL_H
#define SG_WHEEL_H

#include <stdint.h>

#include "core/common.h"

struct event_base;
struct wheel;

/* Embedded in the owner's object; zeroed means "not on the wheel". */
struct wheel_node {
	struct wheel_node *next, **pprev;
	uint32_t due; /* the tick it is due at */
};

/* Called for each node that came due, off the wheel already: the callback
 * may put it back (wheel_add) or free its owner. */
typedef void (*wheel_cb)(struct wheel_node *n, void *arg);

/* A wheel on base that ticks every tick_ms, calling cb(node, arg) for
 * each node that comes due.  NULL when libevent cannot make its timer. */
struct wheel *wheel_new(struct event_base *base, uint32_t tick_ms, wheel_cb cb, void *arg) SG_WUR;
/* Frees the wheel; nodes still on it are left as they are (their owners
 * free them). */
void wheel_free(struct wheel *wh);

/* Puts n on the wheel, due at the monotonic time due_ms (a time already
 * past is due at the next tick); a node on the wheel moves. */
void wheel_add(struct wheel *wh, struct wheel_node *n, int64_t due_ms);
/* Takes n off the wheel (nothing when it is not on it). */
void wheel_del(struct wheel *wh, struct wheel_node *n);
static inline bool wheel_pending(const struct wheel_node *n)
{
	return n->pprev != NULL;
}
/* How many nodes the wheel holds. */
size_t wheel_count(const struct wheel *wh);

/* Turns the wheel to the monotonic time now_ms (what its timer does), and
 * returns how many nodes came due: for tests that drive it by hand. */
size_t wheel_advance(struct wheel *wh, int64_t now_ms);

#endif
