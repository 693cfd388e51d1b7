/*
 * test_clock.c: the clocks (clock.c): timestamps formatted as JavaScript's
 * toISOString() across the epoch, leap days, milliseconds at both ends,
 * 2038 and the year 9999; the wall clock agrees with time(2); the monotonic
 * clock never goes back and its ms and ns readings agree.
 */
#include <time.h>

#include "core/clock.h"
#include "core/common.h"
#include "unit.h"

static void test_iso(void)
{
	static const struct {
		int64_t ms;
		const char *iso; /* new Date(ms).toISOString() */
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ 1, "1970-01-01T00:00:00.001Z" },
		{ 999, "1970-01-01T00:00:00.999Z" },
		{ 1000, "1970-01-01T00:00:01.000Z" },
		{ 86399999, "1970-01-01T23:59:59.999Z" },
		{ 951782400000, "2000-02-29T00:00:00.000Z" },
		{ 1700000000000, "2023-11-14T22:13:20.000Z" },
		{ 1700000000123, "2023-11-14T22:13:20.123Z" },
		{ 1709251199999, "2024-02-29T23:59:59.999Z" },
		{ 1735689600000, "2025-01-01T00:00:00.000Z" },
		{ 2147483647000, "2038-01-19T03:14:07.000Z" },
		{ 2147483648000, "2038-01-19T03:14:08.000Z" },
		{ 253402300799999, "9999-12-31T23:59:59.999Z" },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		char buf[32];

		memset(buf, 'x', sizeof(buf));
		CHECK(sg_time_iso(buf, cases[i].ms) == buf);
		CHECK_STR(buf, cases[i].iso);
	}
}

static void test_wall_clock(void)
{
	time_t before = time(NULL);
	int64_t now = sg_now_ms();
	time_t after = time(NULL);

	CHECK(now / 1000 >= (int64_t)before && now / 1000 <= (int64_t)after);
}

/* Read in the order ns, ms, ns: the ms reading lies between the two, and
 * neither clock goes back over a few thousand readings. */
static void test_monotonic(void)
{
	int64_t prev_ns = sg_mono_ns(), prev_ms = sg_mono_ms();
	int backwards = 0, disagree = 0;

	for (int i = 0; i < 5000; i++) {
		int64_t a = sg_mono_ns(), b = sg_mono_ms(), c = sg_mono_ns();

		if (a < prev_ns || b < prev_ms || c < a)
			backwards++;
		if (a / 1000000 > b || b > c / 1000000)
			disagree++;
		prev_ns = c;
		prev_ms = b;
	}
	CHECK_INT(backwards, 0);
	CHECK_INT(disagree, 0);
}

int main(void)
{
	RUN(test_iso);
	RUN(test_wall_clock);
	RUN(test_monotonic);
	return UNIT_END();
}
