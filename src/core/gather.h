/*
 * gather.h: one question asked of every worker of the process (or of one),
 * each answering on its own thread, and the answers merged on the worker
 * that asked: how the admin API and /metrics see the whole process, and
 * how a reload or a shutdown reaches every loop.  With one worker the
 * whole gather runs at once, inside gather().
 */
#ifndef SG_GATHER_H
#define SG_GATHER_H

#include "core/common.h"

struct worker;

/* Runs on each worker's thread; writes its answer into out.  ctx is shared
 * by every worker at once: read it, never write it. */
typedef void (*gather_part_fn)(struct worker *w, const void *ctx, struct sg_buf *out);
/* Runs on the asking worker once every answer is in; parts[i] is worker i's
 * answer (empty for a worker not asked).  Owns ctx from here on. */
typedef void (*gather_done_fn)(struct worker *origin, void *ctx, struct sg_buf *parts, size_t n);

/* The sum of answers that are decimal numbers (an empty answer is 0). */
unsigned long long gather_sum(const struct sg_buf *parts, size_t n);

/* Asks every worker (only < 0) or worker `only`.  done may run before
 * gather() returns. */
void gather(struct worker *origin, int only, gather_part_fn part, gather_done_fn done, void *ctx);

#endif
