/*
 * ready.c: a worker's readiness (see ready.h).
 */
#include "ops/ready.h"

#include "core/worker.h"
#include "redis/bridge.h"

const char *ready_reason(const struct worker *w)
{
	if (w->shutting_down)
		return "shutting down";
	if (w->bridge != NULL && !bridge_is_subscribed(w->bridge))
		return "redis subscriber down";
	if (w->bridge != NULL && !bridge_publisher_up(w->bridge))
		return "redis publisher down";
	return NULL;
}
