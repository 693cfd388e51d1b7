/*
 * test_inbox.c: the cross-thread job queue (inbox.c) on a real libevent
 * base: jobs posted run on the owner's loop, in the order posted, with the
 * owner's worker; a job posted while the queue runs waits for the next run;
 * a burst from another thread arrives whole and in order, woken by the
 * eventfd the loop watches.
 */
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/inbox.h"
#include "core/worker.h"
#include "unit.h"

#define BURST 20000

struct rec_job {
	struct job job;
	int seq;
};

static struct worker owner; /* only its address is used */
static struct sg_buf trace;
static int ran;
static int last_seq;
static int out_of_order;
static struct worker *seen_worker;
static struct inbox *box;

static void rec_run(struct worker *w, struct job *j)
{
	struct rec_job *r = (struct rec_job *)j;

	seen_worker = w;
	sg_buf_printf(&trace, "%d,", r->seq);
	ran++;
	free(r);
}

static void count_run(struct worker *w, struct job *j)
{
	struct rec_job *r = (struct rec_job *)j;

	SG_UNUSED(w);
	if (r->seq != last_seq + 1)
		out_of_order++;
	last_seq = r->seq;
	ran++;
	free(r);
}

/* A job that posts another: the new one is not part of this run. */
static void repost_run(struct worker *w, struct job *j)
{
	struct rec_job *r = (struct rec_job *)j;

	rec_run(w, j);
	r = calloc(1, sizeof(*r));
	r->job.run = rec_run;
	r->seq = 99;
	inbox_post(box, &r->job);
}

static void post_seq(void (*run)(struct worker *, struct job *), int seq)
{
	struct rec_job *r = calloc(1, sizeof(*r));

	r->job.run = run;
	r->seq = seq;
	inbox_post(box, &r->job);
}

/* Runs base's loop until `ran` reaches want or 5 s passed. */
static void run_until(struct event_base *base, int want)
{
	int64_t deadline = sg_mono_ms() + 5000;
	struct timeval tick = { 0, 10000 };

	while (ran < want && sg_mono_ms() < deadline) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
}

static void test_order_and_owner(void)
{
	struct event_base *base = event_base_new();

	box = inbox_new(base, &owner);
	CHECK(box != NULL);
	ran = 0;
	sg_buf_reset(&trace);
	CHECK_INT(inbox_run(box), 0);
	for (int i = 1; i <= 5; i++)
		post_seq(rec_run, i);
	CHECK_INT(ran, 0); /* nothing runs at post time */
	run_until(base, 5);
	CHECK_INT(ran, 5);
	CHECK_STR(trace.data, "1,2,3,4,5,");
	CHECK(seen_worker == &owner);
	inbox_free(box);
	inbox_free(NULL);
	event_base_free(base);
}

static void test_post_while_running(void)
{
	struct event_base *base = event_base_new();

	box = inbox_new(base, &owner);
	ran = 0;
	sg_buf_reset(&trace);
	post_seq(repost_run, 1);
	post_seq(rec_run, 2);
	CHECK_INT(inbox_run(box), 2);
	CHECK_STR(trace.data, "1,2,");
	CHECK_INT(inbox_run(box), 1);
	CHECK_STR(trace.data, "1,2,99,");
	CHECK_INT(inbox_run(box), 0);
	inbox_free(box);
	event_base_free(base);
}

static void *producer(void *arg)
{
	SG_UNUSED(arg);
	for (int i = 1; i <= BURST; i++)
		post_seq(count_run, i);
	return NULL;
}

/* Another thread posts a burst while the owner's loop runs: every job
 * arrives, in order, on the owner's thread. */
static void test_cross_thread(void)
{
	struct event_base *base = event_base_new();
	pthread_t t;

	box = inbox_new(base, &owner);
	ran = 0;
	last_seq = 0;
	out_of_order = 0;
	CHECK_INT(pthread_create(&t, NULL, producer, NULL), 0);
	run_until(base, BURST);
	pthread_join(t, NULL);
	run_until(base, BURST);
	CHECK_INT(ran, BURST);
	CHECK_INT(out_of_order, 0);
	CHECK_INT(last_seq, BURST);
	inbox_free(box);
	event_base_free(base);
}

int main(void)
{
	sg_buf_init(&trace);
	RUN(test_order_and_owner);
	RUN(test_post_while_running);
	RUN(test_cross_thread);
	sg_buf_fini(&trace);
	return UNIT_END();
}
