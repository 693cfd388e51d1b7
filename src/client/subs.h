/*
 * subs.h: the subscription table of libsiogate-client (event name ->
 * handlers, in subscription order) with the seed's duplicate protection, and
 * a dispatch that stays correct when handlers subscribe or unsubscribe while
 * it runs.  Pure code: no I/O, no libevent.
 */
#ifndef SGC_SUBS_H
#define SGC_SUBS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"
#include "siogate/client.h"

struct sgc_sub {
	char *event;
	sgc_handler_fn fn;
	void *user;
	bool dead; /* removed during a dispatch; compacted afterwards */
};

struct sgc_subs {
	struct sgc_sub *v;
	size_t n;
	size_t cap;
	int dispatching; /* nesting depth of sgc_subs_dispatch */
	bool has_dead;
};

/* Adds (event, fn, user) at the end.  With ignore_duplicate, adds nothing
 * and returns SGC_SKIPPED when event already has a live handler (any).
 * Returns SGC_OK or SGC_SKIPPED. */
int sgc_subs_add(struct sgc_subs *s, const char *event, sgc_handler_fn fn, void *user,
		 bool ignore_duplicate);

/* Removes every live registration of event equal to (fn, user), or, with fn
 * NULL, every handler of event.  Returns SGC_OK when one was removed, else
 * SGC_SKIPPED. */
int sgc_subs_remove(struct sgc_subs *s, const char *event, sgc_handler_fn fn, void *user);

/* Live handlers of event. */
size_t sgc_subs_count(const struct sgc_subs *s, const char *event);

/* Removes everything (deferred to the end of a running dispatch). */
void sgc_subs_clear(struct sgc_subs *s);

/* Frees the table (not during a dispatch). */
void sgc_subs_fini(struct sgc_subs *s);

/*
 * Calls call(sub, arg) for each handler of event that was registered when
 * the dispatch started and is still live when its turn comes, in order.
 * Handlers added meanwhile are not called for this event.  Returns the
 * number of calls.
 */
size_t sgc_subs_dispatch(struct sgc_subs *s, const char *event,
			 void (*call)(const struct sgc_sub *sub, void *arg), void *arg);

#endif
