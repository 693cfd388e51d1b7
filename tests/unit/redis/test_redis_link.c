/*
 * test_redis_link.c: the pure parts of redis_link.c: the byte size a
 * command is charged against redis.max_pending, checked against hiredis's
 * own formatting, and the URL parser.
 */
#include <hiredis/hiredis.h>
#include <stdlib.h>

#include "redis/redis_link.h"
#include "unit.h"

static void test_command_size(void)
{
	static const char big[70000];
	const char *argv[] = { "XADD", "stream", "MAXLEN", "~", "100000", "*", "data", big, "" };
	size_t lens[] = { 4, 6, 6, 1, 6, 1, 4, sizeof(big), 0 };

	for (int argc = 1; argc <= (int)SG_ARRAY_LEN(argv); argc++) {
		char *cmd;
		int n = redisFormatCommandArgv(&cmd, argc, argv, lens);
		CHECK(n > 0);
		CHECK_INT(redis_link_command_size(argc, lens), n);
		redisFreeCommand(cmd);
	}
}

static void test_url_parse(void)
{
	struct redis_url u;
	struct sg_err err = { 0 };

	CHECK_INT(redis_url_parse("redis://bob:pw@[::1]:7000/3", &u, &err), 0);
	CHECK_STR(u.host, "::1");
	CHECK_INT(u.port, 7000);
	CHECK_INT(u.db, 3);
	CHECK_STR(u.user, "bob");
	CHECK_STR(u.password, "pw");
	CHECK_INT(redis_url_parse("unix:///run/redis.sock?db=2", &u, &err), 0);
	CHECK(u.unix_socket);
	CHECK_STR(u.host, "/run/redis.sock");
	CHECK_INT(u.db, 2);
	CHECK_INT(redis_url_parse("rediss://x", &u, &err), 0);
	CHECK(u.tls);
	CHECK_INT(redis_url_parse("redis://app%40x:p%3Aw%25@h", &u, &err), 0);
	CHECK_STR(u.user, "app@x");
	CHECK_STR(u.password, "p:w%");
	CHECK_INT(redis_url_parse("redis://a:b%4@h", &u, &err), -1);
	CHECK_INT(redis_url_parse("redis://a:b%00@h", &u, &err), -1);
	CHECK_INT(redis_url_parse("http://h", &u, &err), -1);
	CHECK_INT(redis_url_parse("redis://host:0", &u, &err), -1);
}

int main(void)
{
	RUN(test_command_size);
	RUN(test_url_parse);
	return UNIT_END();
}
