/*
 * unit.h: the tiny test harness for siogate's C unit tests.  A test file
 * defines static void test_x(void) functions and a main() that calls
 * RUN(test_x) for each, then returns UNIT_END().  Each CHECK failure prints
 * file:line and the expression; the binary exits non-zero when any failed.
 * Output ends with "unit: N checks, N failed" for tests/unit/run to add up.
 */
#ifndef SG_UNIT_H
#define SG_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_checks;
static int unit_failed;
static int unit_tests;
static int unit_tests_failed;
static const char *unit_current = "";

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		unit_checks++;                                                               \
		if (!(cond)) {                                                               \
			unit_failed++;                                                       \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, \
				unit_current, #cond);                                        \
		}                                                                            \
	} while (0)

#define CHECK_INT(a, b)                                                                     \
	do {                                                                                \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);               \
		unit_checks++;                                                              \
		if (unit_a_ != unit_b_) {                                                   \
			unit_failed++;                                                      \
			fprintf(stderr, "%s:%d: %s: %s == %lld, expected %lld\n", __FILE__, \
				__LINE__, unit_current, #a, unit_a_, unit_b_);              \
		}                                                                           \
	} while (0)

#define CHECK_STR(a, b)                                                                         \
	do {                                                                                    \
		const char *unit_a_ = (a), *unit_b_ = (b);                                      \
		unit_checks++;                                                                  \
		if (unit_a_ == NULL || unit_b_ == NULL || strcmp(unit_a_, unit_b_) != 0) {      \
			unit_failed++;                                                          \
			fprintf(stderr, "%s:%d: %s: %s == \"%s\", expected \"%s\"\n", __FILE__, \
				__LINE__, unit_current, #a, unit_a_ ? unit_a_ : "(null)",       \
				unit_b_ ? unit_b_ : "(null)");                                  \
		}                                                                               \
	} while (0)

/* Compares len bytes of a with the NUL-terminated b. */
#define CHECK_MEM(a, alen, b)                                                                     \
	do {                                                                                      \
		const char *unit_a_ = (const char *)(a), *unit_b_ = (b);                          \
		size_t unit_al_ = (alen);                                                         \
		unit_checks++;                                                                    \
		if (unit_al_ != strlen(unit_b_) || memcmp(unit_a_, unit_b_, unit_al_) != 0) {     \
			unit_failed++;                                                            \
			fprintf(stderr, "%s:%d: %s: %s == \"%.*s\", expected \"%s\"\n", __FILE__, \
				__LINE__, unit_current, #a, (int)unit_al_, unit_a_, unit_b_);     \
		}                                                                                 \
	} while (0)

#define RUN(fn)                                  \
	do {                                     \
		int unit_before_ = unit_failed;  \
		unit_current = #fn;              \
		unit_tests++;                    \
		fn();                            \
		if (unit_failed != unit_before_) \
			unit_tests_failed++;     \
	} while (0)

#define UNIT_END()                                                                \
	(printf("unit: %d tests, %d failed (%d checks, %d failed)\n", unit_tests, \
		unit_tests_failed, unit_checks, unit_failed),                     \
	 unit_failed ? 1 : 0)

#endif
