/*
 * admission.c: process-wide connection limits (see admission.h).  One
 * mutex guards the count, the per-address table and the handshake bucket;
 * every ip_count in the table has n > 0.
 */
#include "admission.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hmap.h"
#include "log.h"

struct admission {
	pthread_mutex_t mu;
	uint64_t open;          /* connections admitted and not yet left */
	struct hmap per_ip;     /* address -> struct ip_count */
	double hs_tokens;       /* limits.handshakes_per_second bucket */
	int64_t hs_refill_ms;
	bool hs_started;
};

struct admission *admission_new(void)
{
	struct admission *a = sg_calloc(1, sizeof(*a));

	pthread_mutex_init(&a->mu, NULL);
	hmap_init(&a->per_ip);
	return a;
}

void admission_free(struct admission *a)
{
	const struct hmap_entry *e;

	if (a == NULL)
		return;
	for (size_t it = 0; hmap_next(&a->per_ip, &it, &e);)
		free(e->value);
	hmap_fini(&a->per_ip);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

int admission_enter(struct admission *a, const struct sg_config *cfg, const char *addr,
		    struct ip_count **ip_out, enum sg_close *why)
{
	size_t len = strlen(addr);
	struct ip_count *ip;
	int rc = -1;

	pthread_mutex_lock(&a->mu);
	if (a->open >= cfg->server.max_connections) {
		*why = SG_CLOSE_CONNECTION_LIMIT;
		goto out;
	}
	ip = hmap_get(&a->per_ip, addr, len);
	if (cfg->limits.per_ip > 0 && ip != NULL && ip->n >= cfg->limits.per_ip) {
		*why = SG_CLOSE_PER_IP_LIMIT;
		goto out;
	}
	if (ip == NULL) {
		ip = sg_calloc(1, sizeof(*ip) + len + 1);
		memcpy(ip->addr, addr, len + 1);
		hmap_put(&a->per_ip, ip->addr, len, ip);
	}
	ip->n++;
	a->open++;
	*ip_out = ip;
	rc = 0;
out:
	pthread_mutex_unlock(&a->mu);
	return rc;
}

void admission_leave(struct admission *a, struct ip_count *ip)
{
	if (ip == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	a->open--;
	if (--ip->n == 0) {
		hmap_del(&a->per_ip, ip->addr, strlen(ip->addr));
		free(ip);
	}
	pthread_mutex_unlock(&a->mu);
}

bool admission_handshake(struct admission *a, unsigned rate)
{
	int64_t now;
	bool ok;

	if (rate == 0)
		return true;
	now = sg_mono_ms();
	pthread_mutex_lock(&a->mu);
	if (!a->hs_started) {
		a->hs_started = true;
		a->hs_tokens = rate;
	} else {
		a->hs_tokens += (double)(now - a->hs_refill_ms) * rate / 1000.0;
	}
	if (a->hs_tokens > rate)
		a->hs_tokens = rate; /* a one-second burst */
	a->hs_refill_ms = now;
	ok = a->hs_tokens >= 1.0;
	if (ok)
		a->hs_tokens -= 1.0;
	pthread_mutex_unlock(&a->mu);
	return ok;
}
