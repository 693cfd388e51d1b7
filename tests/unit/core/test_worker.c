/*
 * test_worker.c: a worker and the modules of its layers (worker.c), on a
 * real libevent base: init lowest layer first and fini in reverse, a module
 * that fails to start undoes only those started; a reload's apply_config in
 * order, stopping at the first refusal; the flush hooks once per loop turn;
 * the deferred calls at the end of the turn, highest order first, each
 * order first in first out, calls deferred by deferred calls in the same
 * pass, past the queue's first allocation; the deferred calls a module's
 * fini makes before the next module's fini; joining a set; the loop-lag
 * histogram; the duration helpers.
 */
#include <event2/event.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/worker.h"
#include "unit.h"

static struct sg_buf trace;
static bool refuse_init_b;
static bool refuse_apply_b;
static struct worker *cur;

static int init_a(struct worker *w)
{
	SG_UNUSED(w);
	sg_buf_append_str(&trace, "a+ ");
	return 0;
}
static int init_b(struct worker *w)
{
	SG_UNUSED(w);
	sg_buf_append_str(&trace, "b+ ");
	return refuse_init_b ? -1 : 0;
}
static int init_c(struct worker *w)
{
	SG_UNUSED(w);
	sg_buf_append_str(&trace, "c+ ");
	return 0;
}
static int apply_a(struct worker *w)
{
	SG_UNUSED(w);
	sg_buf_append_str(&trace, "a~ ");
	return 0;
}
static int apply_b(struct worker *w)
{
	SG_UNUSED(w);
	sg_buf_append_str(&trace, "b~ ");
	return refuse_apply_b ? -1 : 0;
}
static void flush_a(struct worker *w)
{
	SG_UNUSED(w);
	sg_buf_append_str(&trace, "a! ");
}
static void flush_c(struct worker *w)
{
	SG_UNUSED(w);
	sg_buf_append_str(&trace, "c! ");
}
static void fini_a(struct worker *w)
{
	SG_UNUSED(w);
	sg_buf_append_str(&trace, "a- ");
}
static void fini_b(struct worker *w)
{
	SG_UNUSED(w);
	sg_buf_append_str(&trace, "b- ");
}
static void note(void *obj);
/* The top layer's fini retires an object: freed before the layer below's fini. */
static void fini_c(struct worker *w)
{
	sg_buf_append_str(&trace, "c- ");
	worker_defer(w, 0, "c's object", note);
}

static const struct worker_module mod_a = { "a", init_a, apply_a, flush_a, fini_a };
static const struct worker_module mod_b = { "b", init_b, apply_b, NULL, fini_b };
static const struct worker_module mod_c = { "c", init_c, NULL, flush_c, fini_c };
static const struct worker_module mod_empty = { "empty", NULL, NULL, NULL, NULL };
static const struct worker_module *const mods[] = { &mod_a, &mod_b, &mod_empty, &mod_c };

static void note(void *obj)
{
	sg_buf_printf(&trace, "[%s] ", (const char *)obj);
}

/* Runs the loop once without waiting: what was made active runs. */
static void turn(struct event_base *base)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

static void test_module_order(void)
{
	struct event_base *base = event_base_new();
	struct worker w;

	sg_buf_reset(&trace);
	refuse_init_b = false;
	CHECK_INT(worker_init(&w, base, NULL, NULL, mods, SG_ARRAY_LEN(mods)), 0);
	CHECK_STR(trace.data, "a+ b+ c+ ");
	CHECK_INT(w.n_started, 4);
	CHECK_INT(w.n_workers, 1);
	CHECK(w.siblings[0] == &w);
	CHECK(w.inbox != NULL);
	sg_buf_reset(&trace);
	worker_fini(&w);
	CHECK_STR(trace.data, "c- [c's object] b- a- ");
	event_base_free(base);
}

static void test_init_fails(void)
{
	struct event_base *base = event_base_new();
	struct worker w;

	sg_buf_reset(&trace);
	refuse_init_b = true;
	CHECK_INT(worker_init(&w, base, NULL, NULL, mods, SG_ARRAY_LEN(mods)), -1);
	refuse_init_b = false;
	CHECK_STR(trace.data, "a+ b+ ");
	CHECK_INT(w.n_started, 1);
	worker_fini(&w); /* only what started is torn down */
	CHECK_STR(trace.data, "a+ b+ a- ");
	event_base_free(base);
}

static void test_apply_config(void)
{
	struct event_base *base = event_base_new();
	struct worker w;

	CHECK_INT(worker_init(&w, base, NULL, NULL, mods, SG_ARRAY_LEN(mods)), 0);
	sg_buf_reset(&trace);
	CHECK_INT(worker_apply_config(&w), 0);
	CHECK_STR(trace.data, "a~ b~ ");
	sg_buf_reset(&trace);
	refuse_apply_b = true;
	CHECK_INT(worker_apply_config(&w), -1);
	refuse_apply_b = false;
	CHECK_STR(trace.data, "a~ b~ ");
	worker_fini(&w);
	event_base_free(base);
}

/* Scheduled any number of times in a turn, the flush hooks run once, at the
 * end of it, in layer order; not again until scheduled again. */
static void test_flush(void)
{
	struct event_base *base = event_base_new();
	struct worker w;

	CHECK_INT(worker_init(&w, base, NULL, NULL, mods, SG_ARRAY_LEN(mods)), 0);
	sg_buf_reset(&trace);
	worker_schedule_flush(&w);
	worker_schedule_flush(&w);
	CHECK_STR(trace.data, "");
	turn(base);
	CHECK_STR(trace.data, "a! c! ");
	turn(base);
	CHECK_STR(trace.data, "a! c! ");
	worker_schedule_flush(&w);
	turn(base);
	CHECK_STR(trace.data, "a! c! a! c! ");
	worker_fini(&w);
	event_base_free(base);
}

/* A deferred call that defers another of a higher order: it runs next, in
 * the same pass. */
static void defer_more(void *obj)
{
	note(obj);
	worker_defer(cur, 3, "from-1b", note);
	worker_defer(cur, 0, "from-1b-low", note);
}

static void test_defer_order(void)
{
	static const struct {
		unsigned order;
		const char *name;
		void (*fn)(void *);
	} calls[] = {
		{ 0, "0a", note }, { 3, "3a", note },	    { 1, "1a", note },	 { 2, "2a", note },
		{ 3, "3b", note }, { 1, "1b", defer_more }, { 9, "9->3", note }, { 0, "0b", note },
	};
	struct event_base *base = event_base_new();
	struct worker w;

	CHECK_INT(worker_init(&w, base, NULL, NULL, NULL, 0), 0);
	cur = &w;
	sg_buf_reset(&trace);
	for (size_t i = 0; i < SG_ARRAY_LEN(calls); i++)
		worker_defer(&w, calls[i].order, (void *)calls[i].name, calls[i].fn);
	CHECK_STR(trace.data, ""); /* nothing runs inside the caller's callback */
	turn(base);
	CHECK_STR(trace.data, "[3a] [3b] [9->3] [2a] [1a] [1b] [from-1b] [0a] [0b] [from-1b-low] ");
	CHECK_INT(w.freed_since_trim, 10);
	worker_fini(&w);
	event_base_free(base);
}

/* More calls than the queue's first allocation (64), exactly filling its
 * fourth (256), then more deferred while it runs (the full queue reuses the
 * room at its front, then grows): every call runs once, in the order
 * deferred. */
static int ran_seq[356];
static int ran_calls;
static void counted(void *obj)
{
	int k = (int)(intptr_t)obj;

	if (ran_calls < (int)SG_ARRAY_LEN(ran_seq))
		ran_seq[ran_calls] = k;
	ran_calls++;
	if (k < 200 && k % 2 == 0)
		worker_defer(cur, 0, (void *)(intptr_t)(1000 + k / 2), counted);
}

static void test_defer_many(void)
{
	struct event_base *base = event_base_new();
	struct worker w;
	int misordered = 0;

	CHECK_INT(worker_init(&w, base, NULL, NULL, NULL, 0), 0);
	cur = &w;
	ran_calls = 0;
	for (int k = 0; k < 256; k++)
		worker_defer(&w, 0, (void *)(intptr_t)k, counted);
	CHECK_INT(w.deferred[0].cap, 256);
	turn(base);
	CHECK_INT(ran_calls, 356);
	for (int i = 0; i < 356; i++)
		if (ran_seq[i] != (i < 256 ? i : 1000 + (i - 256)))
			misordered++;
	CHECK_INT(misordered, 0);
	worker_fini(&w);
	event_base_free(base);
}

static void test_join(void)
{
	struct event_base *base = event_base_new();
	struct worker a, b;
	struct worker *set[2] = { &a, &b };

	CHECK_INT(worker_init(&a, base, NULL, NULL, NULL, 0), 0);
	CHECK_INT(worker_init(&b, base, NULL, NULL, NULL, 0), 0);
	CHECK_INT(strlen(a.adapter_uid), 6); /* a lone worker has its own uid */
	worker_join(&a, 0, set, 2, "uid-01");
	worker_join(&b, 1, set, 2, "uid-01");
	CHECK_INT(b.index, 1);
	CHECK_INT(b.n_workers, 2);
	CHECK(b.siblings[0] == &a && a.siblings[1] == &b);
	CHECK_STR(a.adapter_uid, "uid-01");
	CHECK_STR(b.adapter_uid, "uid-01");
	worker_ids_lock(&b); /* with siblings, the id tables are locked */
	worker_ids_unlock(&b);
	worker_fini(&a);
	worker_fini(&b);
	event_base_free(base);
}

/* The lag timer fires every 250 ms and observes how late it was. */
static void test_loop_lag(void)
{
	struct event_base *base = event_base_new();
	struct worker w;
	int64_t deadline = sg_mono_ms() + 3000;

	CHECK_INT(worker_init(&w, base, NULL, NULL, NULL, 0), 0);
	while (w.stats.loop_lag.count < 2 && sg_mono_ms() < deadline) {
		struct timeval tick = { 0, 50000 };
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	CHECK(w.stats.loop_lag.count >= 2);
	CHECK(w.stats.loop_lag.sum_s >= 0);
	worker_fini(&w);
	event_base_free(base);
}

static void test_durations(void)
{
	static const struct {
		int64_t ms;
		long sec, usec;
	} cases[] = {
		{ 0, 0, 0 },
		{ 1, 0, 1000 },
		{ 999, 0, 999000 },
		{ 1000, 1, 0 },
		{ 1500, 1, 500000 },
		{ 86400000, 86400, 0 },
		{ 3600001, 3600, 1000 },
	};
	struct event_base *base = event_base_new();

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct timeval tv = worker_ms_tv(cases[i].ms);
		CHECK_INT(tv.tv_sec, cases[i].sec);
		CHECK_INT(tv.tv_usec, cases[i].usec);
	}
	/* one libevent common timeout queue per duration */
	CHECK(worker_common_timeout(base, 250) != NULL);
	CHECK(worker_common_timeout(base, 250) == worker_common_timeout(base, 250));
	CHECK(worker_common_timeout(base, 250) != worker_common_timeout(base, 251));
	event_base_free(base);
}

int main(void)
{
	sg_buf_init(&trace);
	RUN(test_module_order);
	RUN(test_init_fails);
	RUN(test_apply_config);
	RUN(test_flush);
	RUN(test_defer_order);
	RUN(test_defer_many);
	RUN(test_join);
	RUN(test_loop_lag);
	RUN(test_durations);
	sg_buf_fini(&trace);
	return UNIT_END();
}
