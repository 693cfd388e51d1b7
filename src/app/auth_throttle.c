/*
 * auth_throttle.c: the per-address buckets of failed authentications (see
 * auth_throttle.h).  Invariants, under the mutex: every entry is both in
 * the map and on the recency list, most recently touched last; an entry
 * exists only for an address that failed, and is removed where its bucket
 * is seen full again (it would say nothing a missing entry does not).
 */
#include "app/auth_throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/hmap.h"

/* Entries examined at the cold end of the list per attempt, dropped when
 * their bucket has refilled meanwhile. */
#define SWEEP_PER_CALL 2

struct bucket {
	struct bucket *prev, *next; /* recency list */
	double tokens;		    /* failures still allowed, up to the burst */
	int64_t at_ms;		    /* when tokens was computed */
	char addr[];
};

struct auth_throttle {
	pthread_mutex_t mu;
	struct hmap by_addr; /* addr -> struct bucket */
	struct bucket *oldest, *newest;
	size_t n;
};

static void unlink_bucket(struct auth_throttle *t, struct bucket *b);
static void append_bucket(struct auth_throttle *t, struct bucket *b);
static void drop_bucket(struct auth_throttle *t, struct bucket *b);
static double refill(const struct sg_config *cfg, struct bucket *b, int64_t now_ms);
static struct bucket *bucket_for(struct auth_throttle *t, const struct sg_config *cfg,
				 const char *addr, int64_t now_ms);
static void touch(struct auth_throttle *t, struct bucket *b);

struct auth_throttle *auth_throttle_new(void)
{
	struct auth_throttle *t = sg_calloc(1, sizeof(*t));

	pthread_mutex_init(&t->mu, NULL);
	hmap_init(&t->by_addr);
	return t;
}

void auth_throttle_free(struct auth_throttle *t)
{
	if (t == NULL)
		return;
	while (t->oldest != NULL)
		drop_bucket(t, t->oldest);
	hmap_fini(&t->by_addr);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static void unlink_bucket(struct auth_throttle *t, struct bucket *b)
{
	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		t->oldest = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	else
		t->newest = b->prev;
	b->prev = b->next = NULL;
}

static void append_bucket(struct auth_throttle *t, struct bucket *b)
{
	b->prev = t->newest;
	b->next = NULL;
	if (t->newest != NULL)
		t->newest->next = b;
	else
		t->oldest = b;
	t->newest = b;
}

static void drop_bucket(struct auth_throttle *t, struct bucket *b)
{
	unlink_bucket(t, b);
	hmap_del(&t->by_addr, b->addr, strlen(b->addr));
	free(b);
	t->n--;
}

/* Brings b's tokens up to now: limits.auth_failures_per_minute per minute,
 * at most limits.auth_failures_burst.  Returns the tokens. */
static double refill(const struct sg_config *cfg, struct bucket *b, int64_t now_ms)
{
	double burst = cfg->limits.auth_failures_burst;

	if (now_ms > b->at_ms)
		b->tokens += (double)(now_ms - b->at_ms) * cfg->limits.auth_failures_per_minute /
			     60000.0;
	b->at_ms = now_ms;
	if (b->tokens > burst)
		b->tokens = burst;
	return b->tokens;
}

/* The bucket of addr, made (full) when there is none; the least recently
 * touched one goes when the table is full.  Under the mutex. */
static struct bucket *bucket_for(struct auth_throttle *t, const struct sg_config *cfg,
				 const char *addr, int64_t now_ms)
{
	size_t len = strlen(addr);
	struct bucket *b = hmap_get(&t->by_addr, addr, len);

	if (b != NULL)
		return b;
	if (t->n >= AUTH_THROTTLE_MAX_ADDRS)
		drop_bucket(t, t->oldest);
	b = sg_calloc(1, sizeof(*b) + len + 1);
	memcpy(b->addr, addr, len + 1);
	b->tokens = cfg->limits.auth_failures_burst;
	b->at_ms = now_ms;
	hmap_put(&t->by_addr, b->addr, len, b);
	append_bucket(t, b);
	t->n++;
	return b;
}

/* Moves b to the recent end of the list. */
static void touch(struct auth_throttle *t, struct bucket *b)
{
	unlink_bucket(t, b);
	append_bucket(t, b);
}

enum throttle_admit auth_throttle_begin(struct auth_throttle *t, const struct sg_config *cfg,
					const char *addr, int64_t now_ms)
{
	enum throttle_admit admit = THROTTLE_TAKEN;
	struct bucket *b;

	if (cfg->limits.auth_failures_per_minute == 0)
		return THROTTLE_CLEAN;
	pthread_mutex_lock(&t->mu);
	/* buckets that have refilled at the cold end carry nothing: drop a few */
	for (int i = 0; i < SWEEP_PER_CALL && t->oldest != NULL; i++) {
		if (refill(cfg, t->oldest, now_ms) < cfg->limits.auth_failures_burst)
			break;
		drop_bucket(t, t->oldest);
	}
	b = hmap_get(&t->by_addr, addr, strlen(addr));
	if (b == NULL) {
		admit = THROTTLE_CLEAN;
	} else if (refill(cfg, b, now_ms) >= cfg->limits.auth_failures_burst) {
		drop_bucket(t, b); /* refilled: clean again */
		admit = THROTTLE_CLEAN;
	} else if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		touch(t, b);
	} else {
		admit = THROTTLE_REFUSED;
	}
	pthread_mutex_unlock(&t->mu);
	return admit;
}

void auth_throttle_end(struct auth_throttle *t, const struct sg_config *cfg, const char *addr,
		       int64_t now_ms, enum throttle_admit admit, bool failed)
{
	struct bucket *b;

	if (cfg->limits.auth_failures_per_minute == 0 || admit == THROTTLE_REFUSED ||
	    (admit == THROTTLE_CLEAN && !failed))
		return;
	pthread_mutex_lock(&t->mu);
	if (failed) {
		/* a clean attempt's failure, or a taken one's whose bucket was
		 * forgotten meanwhile: it takes a token now */
		b = hmap_get(&t->by_addr, addr, strlen(addr));
		if (admit == THROTTLE_CLEAN || b == NULL) {
			b = bucket_for(t, cfg, addr, now_ms);
			b->tokens = refill(cfg, b, now_ms) >= 1.0 ? b->tokens - 1.0 : 0.0;
		}
		touch(t, b);
	} else {
		b = hmap_get(&t->by_addr, addr, strlen(addr));
		if (b != NULL) {
			b->tokens += 1.0;
			if (refill(cfg, b, now_ms) >= cfg->limits.auth_failures_burst)
				drop_bucket(t, b); /* full: nothing to remember */
		}
	}
	pthread_mutex_unlock(&t->mu);
}

size_t auth_throttle_size(struct auth_throttle *t)
{
	size_t n;

	pthread_mutex_lock(&t->mu);
	n = t->n;
	pthread_mutex_unlock(&t->mu);
	return n;
}
