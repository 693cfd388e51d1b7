/*
 * admission.c: process-wide connection limits (see admission.h).  One
 * mutex guards the count, the per-address table and the handshake bucket;
 * every ip_count in the table has n > 0 and n_slow <= n.
 */
#include "net/admission.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/log.h"

struct admission {
	pthread_mutex_t mu;
	uint64_t open;	    /* connections admitted and not yet left */
	unsigned ceiling;   /* from the open-file limit (fdlimit.h); 0: none */
	struct hmap per_ip; /* address -> struct ip_count */
	double hs_tokens;   /* limits.handshakes_per_second bucket */
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

void admission_set_ceiling(struct admission *a, unsigned max)
{
	pthread_mutex_lock(&a->mu);
	a->ceiling = max;
	pthread_mutex_unlock(&a->mu);
}

unsigned admission_max(const struct admission *a, const struct sg_config *cfg)
{
	unsigned ceiling = a->ceiling != 0 ? a->ceiling : UINT_MAX;
	unsigned max = cfg->server.max_connections;

	return max != 0 && max < ceiling ? max : ceiling;
}

/* The entry of addr, made when missing (with n == 0: the caller counts). */
static struct ip_count *entry(struct admission *a, const char *addr)
{
	size_t len = strlen(addr);
	struct ip_count *ip = hmap_get(&a->per_ip, addr, len);

	if (ip == NULL) {
		ip = sg_calloc(1, sizeof(*ip) + len + 1);
		memcpy(ip->addr, addr, len + 1);
		hmap_put(&a->per_ip, ip->addr, len, ip);
	}
	return ip;
}

/* Drops an entry nobody counts on any more. */
static void unref(struct admission *a, struct ip_count *ip)
{
	if (ip->n == 0) {
		hmap_del(&a->per_ip, ip->addr, strlen(ip->addr));
		free(ip);
	}
}

/* Whether one more connection of ip (and, with slow, one more slow one)
 * stays within the per-address limits; "" is exempt. */
static bool fits(const struct sg_config *cfg, const struct ip_count *ip, bool slow,
		 enum sg_close *why)
{
	if (ip == NULL || ip->addr[0] == '\0')
		return true;
	if (cfg->limits.per_ip > 0 && ip->n >= cfg->limits.per_ip) {
		*why = SG_CLOSE_PER_IP_LIMIT;
		return false;
	}
	if (slow && cfg->limits.http_per_ip > 0 && ip->n_slow >= cfg->limits.http_per_ip) {
		*why = SG_CLOSE_HTTP_PER_IP_LIMIT;
		return false;
	}
	return true;
}

int admission_enter(struct admission *a, const struct sg_config *cfg, const char *addr,
		    struct ip_count **ip_out, enum sg_close *why)
{
	struct ip_count *ip;
	int rc = -1;

	pthread_mutex_lock(&a->mu);
	if (a->open >= admission_max(a, cfg)) {
		*why = SG_CLOSE_CONNECTION_LIMIT;
		goto out;
	}
	if (!fits(cfg, hmap_get(&a->per_ip, addr, strlen(addr)), true, why))
		goto out;
	ip = entry(a, addr);
	ip->n++;
	a->open++;
	*ip_out = ip;
	rc = 0;
out:
	pthread_mutex_unlock(&a->mu);
	return rc;
}

void admission_leave(struct admission *a, struct ip_count *ip, bool slow)
{
	if (ip == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	a->open--;
	ip->n--;
	if (slow)
		ip->n_slow--;
	unref(a, ip);
	pthread_mutex_unlock(&a->mu);
}

int admission_slow_enter(struct admission *a, const struct sg_config *cfg, struct ip_count *ip)
{
	int rc = 0;

	if (ip == NULL)
		return 0;
	pthread_mutex_lock(&a->mu);
	if (ip->addr[0] != '\0' && cfg->limits.http_per_ip > 0 &&
	    ip->n_slow >= cfg->limits.http_per_ip)
		rc = -1;
	else
		ip->n_slow++;
	pthread_mutex_unlock(&a->mu);
	return rc;
}

void admission_slow_leave(struct admission *a, struct ip_count *ip)
{
	if (ip == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	ip->n_slow--;
	pthread_mutex_unlock(&a->mu);
}

int admission_move(struct admission *a, const struct sg_config *cfg, struct ip_count **ip,
		   const char *addr, bool slow, enum sg_close *why)
{
	struct ip_count *from = *ip, *to;
	int rc = -1;

	if (from == NULL || strcmp(from->addr, addr) == 0)
		return 0;
	pthread_mutex_lock(&a->mu);
	/* as for a new connection: an address that holds its slow ones gets
	 * no more connections, slow or not */
	if (!fits(cfg, hmap_get(&a->per_ip, addr, strlen(addr)), true, why))
		goto out;
	to = entry(a, addr);
	to->n++;
	from->n--;
	if (slow) {
		to->n_slow++;
		from->n_slow--;
	}
	unref(a, from);
	*ip = to;
	rc = 0;
out:
	pthread_mutex_unlock(&a->mu);
	return rc;
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
