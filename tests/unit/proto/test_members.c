/*
 * test_members.c: siogate instances on one Redis and the choice of the
 * relay for JSON-channel messages (members.c).  Heartbeats are fed back as
 * the subscriber would deliver them.
 */
#include <stdlib.h>

#include "proto/members.h"
#include "unit.h"

/* Delivers from's heartbeat at now to every instance in to[]. */
static void deliver_heartbeat(struct members *from, int64_t now, struct members **to, size_t n)
{
	struct sg_buf hb;
	struct sg_err e = { 0 };

	sg_buf_init(&hb);
	if (members_heartbeat(from, now, &hb)) {
		for (size_t i = 0; i < n; i++)
			CHECK_INT(members_on_message(to[i], hb.data, hb.len, now, &e), 0);
	}
	sg_buf_fini(&hb);
}

/* a and b subscribe at 0 and exchange heartbeats until both settled;
 * returns the time after the last round. */
static int64_t settle_pair(struct members *a, struct members *b)
{
	struct members *all[] = { a, b };
	int64_t t = 0;

	members_subscribed(a, t);
	members_subscribed(b, t);
	for (; t <= 2 * MEMBERS_SETTLE_MS; t += MEMBERS_HEARTBEAT_MS) {
		deliver_heartbeat(a, t, all, 2);
		deliver_heartbeat(b, t, all, 2);
	}
	return t;
}

static void test_alone_relays_after_settling(void)
{
	struct members *a = members_new("bbbbbb", "a");
	struct members *all[] = { a };
	struct sg_buf hb;

	sg_buf_init(&hb);
	CHECK(!members_heartbeat(a, 0, &hb)); /* not subscribed: nothing to say */
	members_subscribed(a, 1000);
	deliver_heartbeat(a, 1000, all, 1);
	CHECK(!members_is_relay(a, 1000)); /* settling */
	CHECK_INT(members_count(a, 1000, false), 1);
	CHECK_INT(members_count(a, 1000, true), 0);
	deliver_heartbeat(a, 1000 + MEMBERS_SETTLE_MS, all, 1);
	CHECK(members_is_relay(a, 1000 + MEMBERS_SETTLE_MS));
	/* Its own heartbeat stops coming back (publisher down): not the relay. */
	CHECK(!members_is_relay(a, 1000 + MEMBERS_SETTLE_MS + MEMBERS_EXPIRE_MS + 1));
	sg_buf_fini(&hb);
	members_free(a);
}

static void test_smallest_settled_uid_relays(void)
{
	struct members *a = members_new("mmmmmm", "a"), *b = members_new("cccccc", "b");
	struct members *all[] = { a, b };
	int64_t t = 0;

	members_subscribed(a, t);
	members_subscribed(b, t);
	for (; t <= MEMBERS_SETTLE_MS; t += MEMBERS_HEARTBEAT_MS) {
		deliver_heartbeat(a, t, all, 2);
		deliver_heartbeat(b, t, all, 2);
	}
	deliver_heartbeat(a, t, all, 2);
	/* a is ready, b's ready heartbeat is not out yet: a relays, and
	 * both agree. */
	CHECK(members_is_relay(a, t));
	CHECK(!members_is_relay(b, t));
	deliver_heartbeat(b, t, all, 2);
	/* b's ready heartbeat reached both at the same point: b takes over. */
	CHECK(!members_is_relay(a, t));
	CHECK(members_is_relay(b, t));
	CHECK_INT(members_count(a, t, true), 2);
	members_free(a);
	members_free(b);
}

static void test_leaving_hands_over_at_once(void)
{
	struct members *a = members_new("aaaaaa", "a"), *b = members_new("bbbbbb", "b");
	struct sg_buf bye;
	struct sg_err e = { 0 };
	int64_t t = settle_pair(a, b);

	CHECK(members_is_relay(a, t));
	CHECK(!members_is_relay(b, t));
	sg_buf_init(&bye);
	members_leave(a, &bye);
	CHECK(!members_is_relay(a, t)); /* it said so: it stops at once */
	CHECK(!members_heartbeat(a, t, &bye));
	CHECK_INT(members_on_message(b, bye.data, bye.len, t, &e), 0);
	CHECK(members_is_relay(b, t));
	sg_buf_fini(&bye);
	members_free(a);
	members_free(b);
}

static void test_crashed_relay_expires(void)
{
	struct members *a = members_new("aaaaaa", "a"), *b = members_new("bbbbbb", "b");
	struct members *all[] = { a, b };
	int64_t t = settle_pair(a, b);

	CHECK(!members_is_relay(b, t));
	/* a goes silent; b keeps announcing itself. */
	for (int64_t end = t + MEMBERS_EXPIRE_MS + MEMBERS_HEARTBEAT_MS; t <= end;
	     t += MEMBERS_HEARTBEAT_MS)
		deliver_heartbeat(b, t, all + 1, 1);
	CHECK(members_is_relay(b, t - MEMBERS_HEARTBEAT_MS));
	CHECK_INT(members_count(b, t - MEMBERS_HEARTBEAT_MS, true), 1);
	members_free(a);
	members_free(b);
}

static void test_resubscribing_settles_again(void)
{
	struct members *a = members_new("aaaaaa", "a");
	struct members *all[] = { a };
	int64_t t = 0;

	members_subscribed(a, t);
	for (; t <= MEMBERS_SETTLE_MS + MEMBERS_HEARTBEAT_MS; t += MEMBERS_HEARTBEAT_MS)
		deliver_heartbeat(a, t, all, 1);
	CHECK(members_is_relay(a, t - MEMBERS_HEARTBEAT_MS));
	members_lost(a);
	CHECK(!members_is_relay(a, t));
	CHECK_INT(members_count(a, t, true), 0);
	members_subscribed(a, t);
	deliver_heartbeat(a, t, all, 1);
	CHECK(!members_is_relay(a, t));
	members_free(a);
}

static void test_bad_announcements(void)
{
	struct members *a = members_new("aaaaaa", "a");
	struct sg_err e = { 0 };
	const char *bad[] = {
		"",
		"{",
		"[]",
		"{\"uid\":\"x\"}",
		"{\"uid\":1,\"state\":\"ready\"}",
		"{\"uid\":\"\",\"state\":\"ready\"}",
		"{\"uid\":\"x\",\"state\":\"dancing\"}",
		"{\"uid\":\"0123456789012345678901234567890123456789\",\"state\":\"ready\"}",
	};

	members_subscribed(a, 0);
	for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
		CHECK_INT(members_on_message(a, bad[i], strlen(bad[i]), 0, &e), -1);
	CHECK_INT(members_count(a, 0, true), 0);
	/* A table full of live members refuses one more, and keeps working. */
	for (int i = 0; i < MEMBERS_MAX + 1; i++) {
		char msg[64];
		int n = snprintf(msg, sizeof(msg), "{\"uid\":\"u%04d\",\"state\":\"ready\"}", i);
		CHECK_INT(members_on_message(a, msg, (size_t)n, 0, &e), i < MEMBERS_MAX ? 0 : -1);
	}
	CHECK_INT(members_count(a, 0, true), MEMBERS_MAX);
	/* Once they expired, there is room again. */
	{
		const char *z = "{\"uid\":\"z\",\"state\":\"ready\"}";
		CHECK_INT(members_on_message(a, z, strlen(z), MEMBERS_EXPIRE_MS + 1, &e), 0);
	}
	CHECK_INT(members_count(a, MEMBERS_EXPIRE_MS + 1, true), 1);
	members_free(a);
}

int main(void)
{
	RUN(test_alone_relays_after_settling);
	RUN(test_smallest_settled_uid_relays);
	RUN(test_leaving_hands_over_at_once);
	RUN(test_crashed_relay_expires);
	RUN(test_resubscribing_settles_again);
	RUN(test_bad_announcements);
	return UNIT_END();
}
