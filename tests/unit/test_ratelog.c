/*
 * test_ratelog.c: at most one log line per interval, with the count of what
 * was held back.
 */
#include "ratelog.h"
#include "unit.h"

static void test_flood(void)
{
	struct ratelog r = { 0 };
	uint64_t held = 99;
	int lines = 0;

	CHECK(ratelog_due(&r, 1000, 10000, &held)); /* the first one at once */
	CHECK_INT(held, 0);
	for (int i = 0; i < 500; i++)
		lines += ratelog_due(&r, 1000 + i * 10, 10000, &held);
	CHECK_INT(lines, 0);
	CHECK(ratelog_due(&r, 11000, 10000, &held)); /* the next interval: with the count */
	CHECK_INT(held, 500);
	CHECK(!ratelog_due(&r, 11001, 10000, &held));
	CHECK_INT(ratelog_take(&r), 1); /* a summary takes what is held */
	CHECK_INT(ratelog_take(&r), 0);
	CHECK(!ratelog_due(&r, 12000, 10000, &held)); /* still within the interval */
	CHECK(ratelog_due(&r, 30000, 10000, &held));
	CHECK_INT(held, 1);
}

int main(void)
{
	RUN(test_flood);
	return UNIT_END();
}
