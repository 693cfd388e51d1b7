/*
 * test_bridge_gap.c: the process's subscription gaps (bridge_gap.c): one
 * gap from the first worker down to the last one back, merged
 * announcements, the running total, the event's JSON.
 */
#include <jansson.h>
#include <stdlib.h>

#include "redis/bridge_gap.h"
#include "unit.h"

#define T0_WALL 1764150972000LL /* 2025-11-26T09:56:12.000Z */

static void test_one_worker(void)
{
	struct bridge_gap *g = bridge_gap_new(1);
	struct bridge_gap_event ev;

	CHECK(!bridge_gap_open(g));
	CHECK(!bridge_gap_pending(g, &ev));
	CHECK(!bridge_gap_up(g, 0, T0_WALL, 100)); /* never down: nothing */
	bridge_gap_down(g, 0, T0_WALL, 1000);
	CHECK(bridge_gap_open(g));
	CHECK_INT(bridge_gap_total_ms(g, 1500), 500); /* the open gap counts */
	CHECK(bridge_gap_up(g, 0, T0_WALL + 2500, 3500));
	CHECK(!bridge_gap_open(g));
	CHECK(bridge_gap_pending(g, &ev));
	CHECK_INT(ev.since_wall_ms, T0_WALL);
	CHECK_INT(ev.until_wall_ms, T0_WALL + 2500);
	CHECK_INT(ev.ms, 2500);
	CHECK_INT(bridge_gap_total_ms(g, 99999), 2500);
	CHECK_INT(bridge_gap_count(g), 1);
	bridge_gap_announced(g);
	CHECK(!bridge_gap_pending(g, &ev));
	bridge_gap_free(g);
}

/* Worker 1 goes first, worker 0 later with an earlier start (a stalled
 * subscriber found by the canary); the gap ends when the last is back. */
static void test_workers_one_gap(void)
{
	struct bridge_gap *g = bridge_gap_new(3);
	struct bridge_gap_event ev;

	bridge_gap_down(g, 1, T0_WALL + 100, 1100);
	bridge_gap_down(g, 0, T0_WALL, 1000);
	bridge_gap_down(g, 0, T0_WALL + 500, 1500);	  /* again: the earlier start stays */
	CHECK(!bridge_gap_up(g, 2, T0_WALL + 600, 1600)); /* not down */
	CHECK(!bridge_gap_up(g, 0, T0_WALL + 900, 1900));
	CHECK(bridge_gap_open(g));
	CHECK(!bridge_gap_pending(g, &ev));
	CHECK(bridge_gap_up(g, 1, T0_WALL + 1200, 2200));
	CHECK(bridge_gap_pending(g, &ev));
	CHECK_INT(ev.since_wall_ms, T0_WALL);
	CHECK_INT(ev.ms, 1200);
	CHECK_INT(bridge_gap_count(g), 1);
	CHECK(!bridge_gap_up(g, 7, 0, 0)); /* out of range: ignored */
	bridge_gap_free(g);
}

/* Two gaps close before the first is announced: one event, merged; a lost
 * announcement comes back merged with what waits. */
static void test_merge_and_requeue(void)
{
	struct bridge_gap *g = bridge_gap_new(1);
	struct bridge_gap_event ev, lost;

	bridge_gap_down(g, 0, T0_WALL, 0);
	CHECK(bridge_gap_up(g, 0, T0_WALL + 1000, 1000));
	bridge_gap_down(g, 0, T0_WALL + 5000, 5000);
	CHECK(bridge_gap_up(g, 0, T0_WALL + 5500, 5500));
	CHECK(bridge_gap_pending(g, &ev));
	CHECK_INT(ev.since_wall_ms, T0_WALL);
	CHECK_INT(ev.until_wall_ms, T0_WALL + 5500);
	CHECK_INT(ev.ms, 1500);
	CHECK_INT(bridge_gap_count(g), 2);
	lost = ev;
	bridge_gap_announced(g);
	bridge_gap_down(g, 0, T0_WALL + 9000, 9000);
	CHECK(bridge_gap_up(g, 0, T0_WALL + 9100, 9100));
	bridge_gap_requeue(g, &lost);
	CHECK(bridge_gap_pending(g, &ev));
	CHECK_INT(ev.since_wall_ms, T0_WALL);
	CHECK_INT(ev.until_wall_ms, T0_WALL + 9100);
	CHECK_INT(ev.ms, 1600);
	CHECK_INT(bridge_gap_total_ms(g, 10000), 1600);
	bridge_gap_free(g);
}

static void test_format(void)
{
	struct bridge_gap_event ev = { T0_WALL, T0_WALL + 3042, 3042 };
	struct sg_buf b;
	json_t *doc;

	sg_buf_init(&b);
	bridge_gap_format(&b, &ev, "gw-\"1\"", T0_WALL + 4000);
	CHECK_MEM(b.data, b.len,
		  "{\"type\":\"redis_gap\",\"server\":\"gw-\\\"1\\\"\","
		  "\"since\":\"2025-11-26T09:56:12.000Z\",\"until\":\"2025-11-26T09:56:15.042Z\","
		  "\"seconds\":3.042,\"time\":\"2025-11-26T09:56:16.000Z\"}");
	doc = json_loadb(b.data, b.len, 0, NULL);
	CHECK(doc != NULL);
	CHECK(json_is_real(json_object_get(doc, "seconds")));
	json_decref(doc);
	sg_buf_reset(&b);
	ev.ms = 7;
	bridge_gap_format(&b, &ev, "s", T0_WALL);
	CHECK(strstr(b.data, "\"seconds\":0.007,") != NULL);
	sg_buf_fini(&b);
}

int main(void)
{
	RUN(test_one_worker);
	RUN(test_workers_one_gap);
	RUN(test_merge_and_requeue);
	RUN(test_format);
	return UNIT_END();
}
