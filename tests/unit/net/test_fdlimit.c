/*
 * test_fdlimit.c: the descriptor reserve and the ceiling derived from the
 * open-file limit.
 */
#include <stdlib.h>

#include "config/config.h"
#include "net/fdlimit.h"
#include "unit.h"

static void test_reserve(void)
{
	struct sg_config *cfg = calloc(1, sizeof(*cfg));
	struct sg_forward_rule rules[2] = { { .match = "a", .stream = "s" },
					    { .match = "b", .http = "http://x/" } };

	cfg->auth.verifier = SG_VERIFIER_JWT;
	CHECK_INT(fdlimit_reserve(cfg, 1), FDLIMIT_BASE + FDLIMIT_PER_WORKER);
	CHECK_INT(fdlimit_reserve(cfg, 2), 96);
	cfg->auth.verifier = SG_VERIFIER_HTTP;
	cfg->auth.http.max_in_flight = 256;
	CHECK_INT(fdlimit_reserve(cfg, 2), 96 + 2 * 256);
	cfg->rooms.http.url = "http://x/";
	CHECK_INT(fdlimit_reserve(cfg, 1), 64 + 16 + 256 + 256);
	cfg->events.forward = rules;
	cfg->events.n_forward = 1; /* a stream rule opens no connection */
	CHECK_INT(fdlimit_reserve(cfg, 1), 64 + 16 + 256 + 256);
	cfg->events.n_forward = 2;
	CHECK_INT(fdlimit_reserve(cfg, 1), 64 + 16 + 256 + 256 + FDLIMIT_CALLOUT);
	free(cfg);
}

static void test_clients(void)
{
	CHECK_INT(fdlimit_clients(1024, 96), 928);
	CHECK_INT(fdlimit_clients(160, 96), 64);
	CHECK_INT(fdlimit_clients(96, 96), 1); /* no room: one, not zero or a wrap */
	CHECK_INT(fdlimit_clients(10, 96), 1);
	CHECK_INT(fdlimit_clients(UINT64_MAX, 96), 10000000); /* RLIM_INFINITY */
	CHECK_INT(fdlimit_clients(1048576, 96), 1048480);
}

int main(void)
{
	RUN(test_reserve);
	RUN(test_clients);
	return UNIT_END();
}
