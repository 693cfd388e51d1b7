/*
 * test_gather.c: one question to every worker (gather.c), on three real
 * workers, each with its own libevent base, workers 1 and 2 on their own
 * threads: every worker answers on its own thread, the answers come back to
 * the asker in worker order, `only` asks one worker, a lone worker's gather
 * completes inside gather(); and gather_sum over decimal answers.
 */
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/gather.h"
#include "core/inbox.h"
#include "core/worker.h"
#include "unit.h"

#define N 3

static struct worker workers[N];
static struct worker *siblings[N];
static struct event_base *bases[N];
static pthread_t threads[N];

struct ask {
	int done;	       /* how many times done ran */
	struct worker *origin; /* done's origin */
	char answers[N][32];   /* parts as received */
	size_t n;
	unsigned long long sum;
	bool wrong_thread; /* a part ran off its worker's thread */
};

static void *loop_main(void *arg)
{
	event_base_dispatch(arg);
	return NULL;
}

/* Runs on worker w's thread: its index, and whether that is the thread
 * running w's loop (each loop runs on one thread only). */
static void part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct ask *a = ctx;
	size_t i = w->index;

	if (w == &workers[i] && i > 0 && !pthread_equal(pthread_self(), threads[i]))
		((struct ask *)a)->wrong_thread = true;
	sg_buf_printf(out, "%zu", 10 * i + 1);
}

static void done(struct worker *origin, void *ctx, struct sg_buf *parts, size_t n)
{
	struct ask *a = ctx;

	a->origin = origin;
	a->n = n;
	for (size_t i = 0; i < n && i < N; i++)
		snprintf(a->answers[i], sizeof(a->answers[i]), "%s",
			 parts[i].len ? parts[i].data : "");
	a->sum = gather_sum(parts, n);
	/* last, and released: test_other_origin reads the answer on another thread */
	__atomic_store_n(&a->done, a->done + 1, __ATOMIC_RELEASE);
}

/* Runs worker 0's loop until the gather is done or 5 s passed. */
static void wait_done(struct ask *a)
{
	int64_t deadline = sg_mono_ms() + 5000;
	struct timeval tick = { 0, 10000 };

	while (a->done == 0 && sg_mono_ms() < deadline) {
		event_base_loopexit(bases[0], &tick);
		event_base_dispatch(bases[0]);
	}
}

static void test_all(void)
{
	struct ask a = { 0 };

	gather(&workers[0], -1, part, done, &a);
	wait_done(&a);
	CHECK_INT(a.done, 1);
	CHECK(a.origin == &workers[0]);
	CHECK_INT(a.n, N);
	CHECK_STR(a.answers[0], "1");
	CHECK_STR(a.answers[1], "11");
	CHECK_STR(a.answers[2], "21");
	CHECK_INT(a.sum, 33);
	CHECK(!a.wrong_thread);
}

static void test_only(void)
{
	static const struct {
		int only;
		const char *want[N];
		unsigned long long sum;
	} cases[] = {
		{ 0, { "1", "", "" }, 1 },
		{ 1, { "", "11", "" }, 11 },
		{ 2, { "", "", "21" }, 21 },
		{ 7, { "", "", "" }, 0 }, /* no such worker: nobody is asked */
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct ask a = { 0 };

		gather(&workers[0], cases[i].only, part, done, &a);
		wait_done(&a);
		CHECK_INT(a.done, 1);
		for (size_t k = 0; k < N; k++)
			CHECK_STR(a.answers[k], cases[i].want[k]);
		CHECK_INT(a.sum, cases[i].sum);
	}
}

/* Asked from worker 2, the answers still come back in worker order, on
 * worker 2: the asker's own loop is on another thread, so done is read
 * after that loop handed it back. */
static void ask_from_2(struct worker *w, struct job *j);
static struct ask from_2;
static void ask_from_2(struct worker *w, struct job *j)
{
	free(j);
	gather(w, -1, part, done, &from_2);
}

static void test_other_origin(void)
{
	struct job *j = calloc(1, sizeof(*j));
	int64_t deadline = sg_mono_ms() + 5000;

	j->run = ask_from_2;
	inbox_post(workers[2].inbox, j);
	while (__atomic_load_n(&from_2.done, __ATOMIC_ACQUIRE) == 0 && sg_mono_ms() < deadline) {
		struct timeval tick = { 0, 10000 };
		event_base_loopexit(bases[0], &tick);
		event_base_dispatch(bases[0]); /* worker 0 answers its part */
	}
	CHECK_INT(from_2.done, 1);
	CHECK(from_2.origin == &workers[2]);
	CHECK_STR(from_2.answers[0], "1");
	CHECK_STR(from_2.answers[1], "11");
	CHECK_STR(from_2.answers[2], "21");
}

/* A lone worker asks itself: done runs before gather() returns. */
static void test_lone_worker(void)
{
	struct event_base *base = event_base_new();
	struct worker w;
	struct ask a = { 0 };

	CHECK_INT(worker_init(&w, base, NULL, NULL, NULL, 0), 0);
	gather(&w, -1, part, done, &a);
	CHECK_INT(a.done, 1);
	CHECK_INT(a.n, 1);
	CHECK_STR(a.answers[0], "1"); /* index 0 */
	worker_fini(&w);
	event_base_free(base);
}

static void test_sum(void)
{
	static const struct {
		const char *parts[3];
		unsigned long long sum;
	} cases[] = {
		{ { "1", "2", "3" }, 6 },
		{ { "", "", "" }, 0 },
		{ { "18446744073709551615", "", "" }, 18446744073709551615ull },
		{ { "12 apples", "x", "007" }, 19 }, /* the number each answer starts with */
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct sg_buf parts[3];

		for (size_t k = 0; k < 3; k++) {
			sg_buf_init(&parts[k]);
			sg_buf_append_str(&parts[k], cases[i].parts[k]);
		}
		CHECK_INT(gather_sum(parts, 3), cases[i].sum);
		for (size_t k = 0; k < 3; k++)
			sg_buf_fini(&parts[k]);
	}
	CHECK_INT(gather_sum(NULL, 0), 0);
}

static void stop_loop(struct worker *w, struct job *j)
{
	free(j);
	event_base_loopbreak(w->base);
}

int main(void)
{
	char uid[7] = "abcdef";

	for (size_t i = 0; i < N; i++) {
		bases[i] = event_base_new();
		siblings[i] = &workers[i];
		if (worker_init(&workers[i], bases[i], NULL, NULL, NULL, 0) != 0)
			return 2;
	}
	for (size_t i = 0; i < N; i++)
		worker_join(&workers[i], (uint8_t)i, siblings, N, uid);
	for (size_t i = 1; i < N; i++)
		pthread_create(&threads[i], NULL, loop_main, bases[i]);
	RUN(test_all);
	RUN(test_only);
	RUN(test_other_origin);
	RUN(test_lone_worker);
	RUN(test_sum);
	for (size_t i = 1; i < N; i++) {
		struct job *j = calloc(1, sizeof(*j));
		j->run = stop_loop;
		inbox_post(workers[i].inbox, j);
		pthread_join(threads[i], NULL);
	}
	for (size_t i = 0; i < N; i++) {
		worker_fini(&workers[i]);
		event_base_free(bases[i]);
	}
	return UNIT_END();
}
