/*
 * test_auth_throttle.c: the per-address buckets of failed authentications.
 * Time is passed in, so refills are exact: a bucket of depth burst, refilled
 * at per_minute a minute, a failure taking a token.  A clean address is not
 * limited; once it failed, attempts in flight count and successes give
 * their token back.  The table forgets full buckets and never holds more
 * than AUTH_THROTTLE_MAX_ADDRS.
 */
#include <stdlib.h>

#include "app/auth_throttle.h"
#include "config/config.h"
#include "unit.h"

static struct sg_config *cfg_with(unsigned per_minute, unsigned burst);
static bool attempt(struct auth_throttle *t, const struct sg_config *c, const char *addr,
		    int64_t now, bool failed);
static int fail_n(struct auth_throttle *t, const struct sg_config *c, const char *addr, int64_t now,
		  int n);

static struct sg_config *cfg_with(unsigned per_minute, unsigned burst)
{
	struct sg_config *c = calloc(1, sizeof(*c));

	c->limits.auth_failures_per_minute = per_minute;
	c->limits.auth_failures_burst = burst;
	return c;
}

/* One attempt, begun and ended at now; whether it was let through. */
static bool attempt(struct auth_throttle *t, const struct sg_config *c, const char *addr,
		    int64_t now, bool failed)
{
	enum throttle_admit a = auth_throttle_begin(t, c, addr, now);

	if (a == THROTTLE_REFUSED)
		return false;
	auth_throttle_end(t, c, addr, now, a, failed);
	return true;
}

/* How many of n failing attempts, one after the other at now, reach the
 * verifier. */
static int fail_n(struct auth_throttle *t, const struct sg_config *c, const char *addr, int64_t now,
		  int n)
{
	int ok = 0;

	for (int i = 0; i < n; i++)
		ok += attempt(t, c, addr, now, true);
	return ok;
}

static void test_bucket(void)
{
	struct sg_config *c = cfg_with(60, 20); /* one a second, twenty at once */
	struct auth_throttle *t = auth_throttle_new();

	/* 1,000 failures: the burst is verified, no more */
	CHECK_INT(fail_n(t, c, "10.0.0.1", 1000, 1000), 20);
	/* another address has its own bucket */
	CHECK_INT(fail_n(t, c, "10.0.0.2", 1000, 5), 5);
	/* one token a second comes back */
	CHECK_INT(fail_n(t, c, "10.0.0.1", 1999, 1), 0);
	CHECK_INT(fail_n(t, c, "10.0.0.1", 2000, 1), 1);
	CHECK_INT(fail_n(t, c, "10.0.0.1", 2000, 1), 0);
	CHECK_INT(fail_n(t, c, "10.0.0.1", 7000, 10), 5);
	/* an empty bucket refuses a good token too, until a token is back */
	CHECK(!attempt(t, c, "10.0.0.1", 7000, false));
	CHECK(attempt(t, c, "10.0.0.1", 8000, false));
	/* never more than the burst, however long the wait */
	CHECK_INT(fail_n(t, c, "10.0.0.1", 3600000, 100), 20);
	/* a time going backwards gives nothing */
	CHECK_INT(fail_n(t, c, "10.0.0.1", 1000, 1), 0);
	auth_throttle_free(t);
	free(c);
}

static void test_clean_and_in_flight(void)
{
	struct sg_config *c = cfg_with(60, 3);
	struct auth_throttle *t = auth_throttle_new();
	enum throttle_admit a[100];

	/* successes from a clean address cost nothing and leave nothing */
	for (int i = 0; i < 100; i++)
		CHECK(attempt(t, c, "::1", 5000, false));
	CHECK_INT(auth_throttle_size(t), 0);
	/* nor is a clean address limited however many attempts are in flight
	 * (a thousand clients behind one NAT may authenticate at once) */
	for (int i = 0; i < 100; i++)
		a[i] = auth_throttle_begin(t, c, "::1", 5000);
	for (int i = 0; i < 100; i++)
		CHECK_INT(a[i], THROTTLE_CLEAN);
	/* ... but when they fail, it is empty (never below zero) */
	for (int i = 0; i < 100; i++)
		auth_throttle_end(t, c, "::1", 5000, a[i], true);
	CHECK_INT(auth_throttle_size(t), 1);
	CHECK_INT(auth_throttle_begin(t, c, "::1", 5000), THROTTLE_REFUSED);
	CHECK_INT(auth_throttle_begin(t, c, "::1", 5999), THROTTLE_REFUSED);
	/* once it failed, attempts in flight take their token up front */
	CHECK_INT(fail_n(t, c, "10.9.9.9", 5000, 1), 1); /* 2 tokens left */
	a[0] = auth_throttle_begin(t, c, "10.9.9.9", 5000);
	a[1] = auth_throttle_begin(t, c, "10.9.9.9", 5000);
	CHECK_INT(a[0], THROTTLE_TAKEN);
	CHECK_INT(a[1], THROTTLE_TAKEN);
	CHECK_INT(auth_throttle_begin(t, c, "10.9.9.9", 5000), THROTTLE_REFUSED);
	/* an accepted one gives its token back */
	auth_throttle_end(t, c, "10.9.9.9", 5000, a[0], false);
	a[2] = auth_throttle_begin(t, c, "10.9.9.9", 5000);
	CHECK_INT(a[2], THROTTLE_TAKEN);
	auth_throttle_end(t, c, "10.9.9.9", 5000, a[1], true);
	auth_throttle_end(t, c, "10.9.9.9", 5000, a[2], true);
	CHECK_INT(auth_throttle_begin(t, c, "10.9.9.9", 5000), THROTTLE_REFUSED);
	/* refilled, the address is clean again and forgotten (and so is ::1,
	 * refilled as well) */
	CHECK_INT(auth_throttle_begin(t, c, "10.9.9.9", 8000), THROTTLE_CLEAN);
	CHECK_INT(auth_throttle_size(t), 0);
	/* a success that fills a bucket forgets it too */
	CHECK_INT(fail_n(t, c, "10.8.8.8", 5000, 1), 1);
	CHECK(attempt(t, c, "10.8.8.8", 5000, false));
	CHECK_INT(fail_n(t, c, "10.8.8.8", 5000, 10), 2);
	CHECK(!attempt(t, c, "10.8.8.8", 5000, false));
	CHECK(attempt(t, c, "10.8.8.8", 6000, false)); /* one back, given back */
	CHECK(attempt(t, c, "10.8.8.8", 7000, false));
	CHECK(attempt(t, c, "10.8.8.8", 8000, false)); /* three: full, forgotten */
	CHECK_INT(auth_throttle_size(t), 0);
	auth_throttle_free(t);
	free(c);
}

static void test_off_and_reload(void)
{
	struct sg_config *c = cfg_with(0, 1);
	struct auth_throttle *t = auth_throttle_new();

	/* 0 turns it off: nothing held, nothing refused */
	CHECK_INT(fail_n(t, c, "10.0.0.1", 0, 1000), 1000);
	CHECK_INT(auth_throttle_size(t), 0);
	/* the limits are read at each call: a reload applies at once */
	c->limits.auth_failures_per_minute = 6000; /* 100 a second */
	c->limits.auth_failures_burst = 2;
	CHECK_INT(fail_n(t, c, "10.0.0.1", 0, 5), 2);
	CHECK_INT(fail_n(t, c, "10.0.0.1", 10, 5), 1);
	c->limits.auth_failures_burst = 50;
	CHECK_INT(fail_n(t, c, "10.0.0.1", 510, 100), 50);
	auth_throttle_free(t);
	free(c);
}

static void test_bounded(void)
{
	struct sg_config *c = cfg_with(1, 5);
	struct auth_throttle *t = auth_throttle_new();
	char addr[64];

	/* many addresses failing: the table stops at its bound, forgetting
	 * the address touched least recently */
	for (int i = 0; i < AUTH_THROTTLE_MAX_ADDRS + 5000; i++) {
		snprintf(addr, sizeof(addr), "2001:db8::%x", i);
		CHECK_INT(fail_n(t, c, addr, 1000, 1), 1);
	}
	CHECK_INT(auth_throttle_size(t), AUTH_THROTTLE_MAX_ADDRS);
	/* the most recent ones are remembered: four more tokens, then none */
	snprintf(addr, sizeof(addr), "2001:db8::%x", AUTH_THROTTLE_MAX_ADDRS + 4999);
	CHECK_INT(fail_n(t, c, addr, 1000, 10), 4);
	/* the first ones were forgotten: a full bucket again */
	CHECK_INT(fail_n(t, c, "2001:db8::0", 1000, 10), 5);
	CHECK_INT(auth_throttle_size(t), AUTH_THROTTLE_MAX_ADDRS);
	/* once the buckets have refilled they carry nothing: each attempt
	 * drops refilled ones from the cold end */
	for (int i = 0; i < 100; i++) {
		snprintf(addr, sizeof(addr), "198.51.100.%d", i);
		CHECK(attempt(t, c, addr, 3600000 + i, false));
	}
	CHECK_INT(auth_throttle_size(t), AUTH_THROTTLE_MAX_ADDRS - 200);
	auth_throttle_free(t);
	free(c);
}

int main(void)
{
	RUN(test_bucket);
	RUN(test_clean_and_in_flight);
	RUN(test_off_and_reload);
	RUN(test_bounded);
	return UNIT_END();
}
