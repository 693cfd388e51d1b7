/*
 * test_admission.c: the process-wide connection limits (admission.c),
 * including from several threads at once, as the workers use them.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "net/admission.h"
#include "unit.h"

static struct sg_config *limits(unsigned max_conns, unsigned per_ip)
{
	struct sg_config *cfg = calloc(1, sizeof(*cfg));

	cfg->server.max_connections = max_conns;
	cfg->limits.per_ip = per_ip;
	return cfg;
}

static void test_per_ip_and_total(void)
{
	struct admission *a = admission_new();
	struct sg_config *cfg = limits(3, 2);
	struct ip_count *ip[4] = { 0 };
	enum sg_close why;

	CHECK_INT(admission_enter(a, cfg, "10.0.0.1", &ip[0], &why), 0);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.1", &ip[1], &why), 0);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.1", &ip[2], &why), -1);
	CHECK_INT(why, SG_CLOSE_PER_IP_LIMIT);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.2", &ip[2], &why), 0);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.3", &ip[3], &why), -1);
	CHECK_INT(why, SG_CLOSE_CONNECTION_LIMIT);
	admission_leave(a, ip[0], false);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.1", &ip[0], &why), 0);
	for (int i = 0; i < 3; i++)
		admission_leave(a, ip[i], false);
	admission_leave(a, NULL, false);
	free(cfg);
	admission_free(a);
}

/* limits.http_per_ip counts the slow connections of an address (a request
 * still arriving after a grace); once it has that many, it gets no new
 * connection either.  Fast ones never count, however many. */
static void test_slow(void)
{
	struct admission *a = admission_new();
	struct sg_config *cfg = limits(100, 0);
	struct ip_count *ip[5] = { 0 };
	enum sg_close why;

	cfg->limits.http_per_ip = 2;
	for (int i = 0; i < 3; i++) /* a burst of three: none is slow */
		CHECK_INT(admission_enter(a, cfg, "10.0.0.1", &ip[i], &why), 0);
	CHECK_INT(admission_slow_enter(a, cfg, ip[0]), 0);
	CHECK_INT(admission_slow_enter(a, cfg, ip[1]), 0);
	CHECK_INT(admission_slow_enter(a, cfg, ip[2]), -1); /* the third slow one */
	CHECK_INT(admission_enter(a, cfg, "10.0.0.1", &ip[3], &why), -1);
	CHECK_INT(why, SG_CLOSE_HTTP_PER_IP_LIMIT);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.2", &ip[3], &why), 0); /* another address */
	admission_slow_leave(a, ip[0]);					 /* its request is in */
	CHECK_INT(admission_enter(a, cfg, "10.0.0.1", &ip[4], &why), 0);
	CHECK_INT(ip[0]->n, 4);
	CHECK_INT(ip[0]->n_slow, 1);
	admission_leave(a, ip[1], true);
	CHECK_INT(ip[0]->n_slow, 0);
	admission_leave(a, ip[0], false);
	admission_leave(a, ip[2], false);
	admission_leave(a, ip[3], false);
	admission_leave(a, ip[4], false);
	free(cfg);
	admission_free(a);
}

/* "" (a trusted proxy's connection, client unknown) is exempt from the
 * per-address limits; moving to the client's address applies them. */
static void test_move(void)
{
	struct admission *a = admission_new();
	struct sg_config *cfg = limits(100, 2);
	struct ip_count *ip[5] = { 0 }, *keep;
	enum sg_close why;

	cfg->limits.http_per_ip = 1;
	for (int i = 0; i < 5; i++)
		CHECK_INT(admission_enter(a, cfg, "", &ip[i], &why), 0);
	CHECK_INT(ip[0]->n, 5);
	CHECK_INT(admission_slow_enter(a, cfg, ip[0]), 0); /* "": never over */
	CHECK_INT(admission_slow_enter(a, cfg, ip[1]), 0);
	CHECK_INT(admission_move(a, cfg, &ip[0], "203.0.113.7", true, &why), 0);
	CHECK_STR(ip[0]->addr, "203.0.113.7");
	CHECK_INT(ip[1]->n, 4);
	keep = ip[1];
	/* http_per_ip 1: a second slow connection cannot move there */
	CHECK_INT(admission_move(a, cfg, &ip[1], "203.0.113.7", true, &why), -1);
	CHECK_INT(why, SG_CLOSE_HTTP_PER_IP_LIMIT);
	CHECK(ip[1] == keep);
	/* no longer slow it can; a third is over per_ip 2 */
	admission_slow_leave(a, ip[1]);
	CHECK_INT(admission_move(a, cfg, &ip[1], "203.0.113.7", false, &why), -1);
	CHECK_INT(why, SG_CLOSE_HTTP_PER_IP_LIMIT); /* 203.0.113.7 already holds its slow one */
	admission_slow_leave(a, ip[0]);
	CHECK_INT(admission_move(a, cfg, &ip[1], "203.0.113.7", false, &why), 0);
	CHECK_INT(admission_move(a, cfg, &ip[2], "203.0.113.7", false, &why), -1);
	CHECK_INT(why, SG_CLOSE_PER_IP_LIMIT);
	CHECK_INT(admission_move(a, cfg, &ip[2], "", false, &why), 0); /* same address: no-op */
	CHECK_INT(ip[0]->n, 2);
	CHECK_INT(ip[0]->n_slow, 0);
	for (int i = 0; i < 5; i++)
		admission_leave(a, ip[i], false);
	free(cfg);
	admission_free(a);
}

/* server.max_connections: auto is the ceiling derived at start; an
 * explicit value counts up to it. */
static void test_auto_max(void)
{
	struct admission *a = admission_new();
	struct sg_config *cfg = limits(0, 0);
	struct ip_count *ip[4] = { 0 };
	enum sg_close why;

	CHECK_INT(admission_max(a, cfg), UINT_MAX);
	admission_set_ceiling(a, 2);
	CHECK_INT(admission_max(a, cfg), 2);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.1", &ip[0], &why), 0);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.2", &ip[1], &why), 0);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.3", &ip[2], &why), -1);
	CHECK_INT(why, SG_CLOSE_CONNECTION_LIMIT);
	cfg->server.max_connections = 3; /* an explicit value above the ceiling: the ceiling */
	CHECK_INT(admission_enter(a, cfg, "10.0.0.3", &ip[2], &why), -1);
	admission_set_ceiling(a, 5); /* below it: the value */
	CHECK_INT(admission_max(a, cfg), 3);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.3", &ip[2], &why), 0);
	CHECK_INT(admission_enter(a, cfg, "10.0.0.4", &ip[3], &why), -1);
	for (int i = 0; i < 3; i++)
		admission_leave(a, ip[i], false);
	free(cfg);
	admission_free(a);
}

static void test_handshake_bucket(void)
{
	struct admission *a = admission_new();
	int ok = 0;

	for (int i = 0; i < 10; i++)
		ok += admission_handshake(a, 5);
	CHECK_INT(ok, 5);		  /* a one-second burst, then refused */
	CHECK(admission_handshake(a, 0)); /* 0: no limit */
	admission_free(a);
}

struct hammer {
	struct admission *a;
	const struct sg_config *cfg;
	int admitted;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	struct ip_count *held[64];
	enum sg_close why;

	for (int round = 0; round < 2000; round++) {
		int n = 0;
		for (int i = 0; i < 64; i++)
			if (admission_enter(h->a, h->cfg, "127.0.0.1", &held[n], &why) == 0)
				n++;
		h->admitted += n;
		for (int i = 0; i < n; i++)
			admission_leave(h->a, held[i], false);
	}
	return NULL;
}

/* Two threads taking and giving back at once never pass the limit
 * together, and leave nothing behind. */
static void test_threads(void)
{
	struct admission *a = admission_new();
	struct sg_config *cfg = limits(100000, 64);
	struct hammer h[2] = { { a, cfg, 0 }, { a, cfg, 0 } };
	pthread_t t[2];
	struct ip_count *ip[64];
	enum sg_close why;
	int n = 0;

	for (int i = 0; i < 2; i++)
		CHECK_INT(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(h[0].admitted + h[1].admitted >= 2000 * 64);
	/* everything was given back: the full per-ip allowance is there */
	for (int i = 0; i < 65; i++)
		if (admission_enter(a, cfg, "127.0.0.1", &ip[n], &why) == 0)
			n++;
	CHECK_INT(n, 64);
	for (int i = 0; i < n; i++)
		admission_leave(a, ip[i], false);
	free(cfg);
	admission_free(a);
}

int main(void)
{
	RUN(test_per_ip_and_total);
	RUN(test_slow);
	RUN(test_move);
	RUN(test_auto_max);
	RUN(test_handshake_bucket);
	RUN(test_threads);
	return UNIT_END();
}
