/*
 * fdlimit.c: the descriptor ceiling (see fdlimit.h).
 */
#include "net/fdlimit.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "config/config.h"

#define FDLIMIT_MAX_CLIENTS 10000000u /* server.max_connections' upper bound */

unsigned fdlimit_reserve(const struct sg_config *cfg, size_t n_workers)
{
	uint64_t per = FDLIMIT_PER_WORKER, total;
	bool forward_http = false;

	if (cfg->auth.verifier == SG_VERIFIER_HTTP)
		per += cfg->auth.http.max_in_flight;
	if (cfg->rooms.http.url != NULL)
		per += FDLIMIT_CALLOUT;
	for (size_t i = 0; i < cfg->events.n_forward; i++)
		forward_http = forward_http || cfg->events.forward[i].http != NULL;
	if (forward_http)
		per += FDLIMIT_CALLOUT;
	total = FDLIMIT_BASE + per * (n_workers ? n_workers : 1);
	return total > UINT32_MAX ? UINT32_MAX : (unsigned)total;
}

unsigned fdlimit_clients(uint64_t nofile, unsigned reserve)
{
	if (nofile <= (uint64_t)reserve + 1)
		return 1;
	if (nofile - reserve > FDLIMIT_MAX_CLIENTS)
		return FDLIMIT_MAX_CLIENTS;
	return (unsigned)(nofile - reserve);
}

int fdlimit_setup(const struct sg_config *cfg, size_t n_workers, struct fdlimit *out,
		  struct sg_err *err)
{
	struct rlimit rl;

	memset(out, 0, sizeof(*out));
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return sg_err_set(err, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	out->was = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
	if (rl.rlim_cur != rl.rlim_max) {
		struct rlimit up = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	out->nofile = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
	out->reserve = fdlimit_reserve(cfg, n_workers);
	out->max_clients = fdlimit_clients(out->nofile, out->reserve);
	return 0;
}
