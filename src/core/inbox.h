/*
 * inbox.h: the only way one worker's thread asks another for something.  A
 * job is posted to the target worker's inbox from any thread and runs on
 * the target's own loop, in the order posted; everything else in a worker
 * stays single-threaded.  The poster gives the job away: the run function
 * owns it (frees it or posts it on).
 */
#ifndef SG_INBOX_H
#define SG_INBOX_H

#include "core/common.h"

struct worker;
struct event_base;
struct inbox;

struct job {
	struct job *next;
	void (*run)(struct worker *w, struct job *j);
};

/* An inbox on base for w: an eventfd the loop watches.  NULL on failure. */
struct inbox *inbox_new(struct event_base *base, struct worker *w);
/* Queues j for the inbox's worker; safe from any thread. */
void inbox_post(struct inbox *in, struct job *j);
/* Runs what is queued now (the owner's thread, or after every loop ended);
 * returns how many jobs ran. */
size_t inbox_run(struct inbox *in);
void inbox_free(struct inbox *in);

#endif
