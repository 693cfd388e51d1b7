/*
 * replay_store.c: recovery sessions in Redis (see replay_store.h).  The
 * only file that sends them: when the lead's RESP link replaces hiredis's
 * callback type, the two callbacks here change.
 */
#include "redis/replay_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "redis/bridge.h"
#include "redis/redis_link.h"

static char *key_of(const char *prefix, const char *nsp, const char *pid)
{
	size_t len = strlen(prefix) + strlen(nsp) + strlen(pid) + 16;
	char *key = sg_malloc(len);

	snprintf(key, len, "%s-recovery#%s#%s", prefix, nsp, pid);
	return key;
}

static void on_saved(struct redis_link *l, redisReply *reply, void *arg)
{
	redisReply *r = reply;

	SG_UNUSED(l);
	SG_UNUSED(arg);
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		log_warn("recovery: Redis refused a session: %s", r->str);
}

int replay_store_save(struct bridge *b, const char *prefix, const char *nsp, const char *pid,
		      const char *text, int64_t ttl_ms)
{
	struct redis_link *l = bridge_publisher(b);
	char *key, ttl[24];
	const char *argv[5];
	size_t argl[5];
	enum redis_link_refusal why;
	int rc;

	if (l == NULL)
		return -1;
	key = key_of(prefix, nsp, pid);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)(ttl_ms > 0 ? ttl_ms : 1));
	argv[0] = "SET";
	argv[1] = key;
	argv[2] = text;
	argv[3] = "PX";
	argv[4] = ttl;
	for (size_t i = 0; i < 5; i++)
		argl[i] = strlen(argv[i]);
	rc = redis_link_command(l, on_saved, NULL, 5, argv, argl, &why);
	free(key);
	return rc;
}

/* A take in flight: the reply and the deadline race; the first ends it for
 * the caller, the reply frees it (hiredis calls back exactly once). */
struct take {
	replay_store_cb cb;
	void *arg;
	struct event *timer;
	bool answered;
};

static void answer(struct take *t, const char *text, size_t len, bool unavailable)
{
	if (t->answered)
		return;
	t->answered = true;
	event_free(t->timer);
	t->timer = NULL;
	t->cb(t->arg, text, len, unavailable);
}

static void on_taken(struct redis_link *l, redisReply *reply, void *arg)
{
	struct take *t = arg;
	redisReply *r = reply;

	SG_UNUSED(l);
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		answer(t, r->str, r->len, false);
	else
		answer(t, NULL, 0, r == NULL || r->type == REDIS_REPLY_ERROR);
	free(t);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	answer(arg, NULL, 0, true);
}

int replay_store_take(struct bridge *b, struct event_base *base, const char *prefix,
		      const char *nsp, const char *pid, int64_t deadline_ms, replay_store_cb cb,
		      void *arg)
{
	struct redis_link *l = bridge_publisher(b);
	struct take *t;
	char *key;
	const char *argv[2];
	size_t argl[2];
	enum redis_link_refusal why;
	struct timeval tv = { deadline_ms / 1000, (deadline_ms % 1000) * 1000 };
	int rc;

	if (l == NULL || !redis_link_ready(l))
		return -1;
	t = sg_calloc(1, sizeof(*t));
	t->cb = cb;
	t->arg = arg;
	key = key_of(prefix, nsp, pid);
	argv[0] = "GETDEL";
	argv[1] = key;
	argl[0] = 6;
	argl[1] = strlen(key);
	rc = redis_link_command(l, on_taken, t, 2, argv, argl, &why);
	free(key);
	if (rc != 0) {
		free(t);
		return -1;
	}
	t->timer = evtimer_new(base, on_deadline, t);
	evtimer_add(t->timer, &tv);
	return 0;
}
