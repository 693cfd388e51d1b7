/*
 * gather.c: ask every worker, merge the answers (see gather.h).  One job
 * per worker goes out through the worker's inbox and comes back through
 * the asker's: the round trip is the only synchronisation, and each answer
 * buffer is written by one thread and read by the asker after the hand-back.
 */
#include "core/gather.h"

#include <stdlib.h>

#include "core/inbox.h"
#include "core/worker.h"

struct gather;

struct gather_job {
	struct job job;
	struct gather *g;
	size_t index;
};

struct gather {
	struct worker *origin;
	gather_part_fn part;
	gather_done_fn done;
	void *ctx;
	size_t n, pending;
	struct sg_buf *parts;
	struct gather_job jobs[];
};

static void run_part(struct worker *w, struct job *j);
static void part_back(struct worker *w, struct job *j);
static void finish(struct gather *g);

static void finish(struct gather *g)
{
	g->done(g->origin, g->ctx, g->parts, g->n);
	for (size_t i = 0; i < g->n; i++)
		sg_buf_fini(&g->parts[i]);
	free(g->parts);
	free(g);
}

static void run_part(struct worker *w, struct job *j)
{
	struct gather_job *gj = (struct gather_job *)j;
	struct gather *g = gj->g;

	g->part(w, g->ctx, &g->parts[gj->index]);
	gj->job.run = part_back;
	inbox_post(g->origin->inbox, &gj->job);
}

static void part_back(struct worker *w, struct job *j)
{
	struct gather *g = ((struct gather_job *)j)->g;

	SG_UNUSED(w);
	if (--g->pending == 0)
		finish(g);
}

unsigned long long gather_sum(const struct sg_buf *parts, size_t n)
{
	unsigned long long sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += parts[i].len ? strtoull(parts[i].data, NULL, 10) : 0;
	return sum;
}

void gather(struct worker *origin, int only, gather_part_fn part, gather_done_fn done, void *ctx)
{
	size_t n = origin->n_workers;
	struct gather *g = sg_calloc(1, sizeof(*g) + n * sizeof(g->jobs[0]));

	g->origin = origin;
	g->part = part;
	g->done = done;
	g->ctx = ctx;
	g->n = n;
	g->parts = sg_calloc(n, sizeof(*g->parts));
	for (size_t i = 0; i < n; i++)
		sg_buf_init(&g->parts[i]);
	/* The answers come back through the asker's inbox, so on this thread
	 * and after this returns: one count, held until the asker's own part
	 * ran, is enough. */
	g->pending = 1;
	for (size_t i = 0; i < n; i++) {
		if ((only >= 0 && (size_t)only != i) || i == origin->index)
			continue;
		g->jobs[i].g = g;
		g->jobs[i].index = i;
		g->jobs[i].job.run = run_part;
		g->pending++;
		inbox_post(origin->siblings[i]->inbox, &g->jobs[i].job);
	}
	if (only < 0 || (size_t)only == origin->index)
		part(origin, ctx, &g->parts[origin->index]);
	if (--g->pending == 0)
		finish(g);
}
