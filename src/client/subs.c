/*
 * subs.c: the subscription table behind sgc_subscribe / sgc_unsubscribe.
 * Invariant: while a dispatch runs (dispatching > 0) entries are never moved
 * or freed, only marked dead, so the dispatch can walk the table by index
 * whatever its handlers do; the dead entries are compacted when the
 * outermost dispatch ends (or at once when none runs).
 */
#include "subs.h"

#include <stdlib.h>
#include <string.h>

static void compact(struct sgc_subs *s);
static void kill_entry(struct sgc_subs *s, size_t i);

static void compact(struct sgc_subs *s)
{
	size_t i, j = 0;

	if (s->dispatching > 0 || !s->has_dead)
		return;
	for (i = 0; i < s->n; i++) {
		if (s->v[i].dead) {
			free(s->v[i].event);
			continue;
		}
		s->v[j++] = s->v[i];
	}
	s->n = j;
	s->has_dead = false;
}

static void kill_entry(struct sgc_subs *s, size_t i)
{
	s->v[i].dead = true;
	s->has_dead = true;
}

int sgc_subs_add(struct sgc_subs *s, const char *event, sgc_handler_fn fn, void *user,
		 bool ignore_duplicate)
{
	if (ignore_duplicate && sgc_subs_count(s, event) > 0)
		return SGC_SKIPPED;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = sg_realloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n].event = sg_strdup(event);
	s->v[s->n].fn = fn;
	s->v[s->n].user = user;
	s->v[s->n].dead = false;
	s->n++;
	return SGC_OK;
}

int sgc_subs_remove(struct sgc_subs *s, const char *event, sgc_handler_fn fn, void *user)
{
	size_t i;
	bool removed = false;

	for (i = 0; i < s->n; i++) {
		struct sgc_sub *e = &s->v[i];
		if (e->dead || strcmp(e->event, event) != 0)
			continue;
		if (fn != NULL && (e->fn != fn || e->user != user))
			continue;
		kill_entry(s, i);
		removed = true;
	}
	compact(s);
	return removed ? SGC_OK : SGC_SKIPPED;
}

size_t sgc_subs_count(const struct sgc_subs *s, const char *event)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++) {
		if (!s->v[i].dead && strcmp(s->v[i].event, event) == 0)
			n++;
	}
	return n;
}

void sgc_subs_clear(struct sgc_subs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		kill_entry(s, i);
	compact(s);
}

void sgc_subs_fini(struct sgc_subs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].event);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

size_t sgc_subs_dispatch(struct sgc_subs *s, const char *event,
			 void (*call)(const struct sgc_sub *sub, void *arg), void *arg)
{
	size_t i, n0 = s->n, calls = 0;

	s->dispatching++;
	for (i = 0; i < n0; i++) {
		/* re-read s->v: a handler may have grown (moved) the table */
		struct sgc_sub sub = s->v[i];
		if (sub.dead || strcmp(sub.event, event) != 0)
			continue;
		calls++;
		call(&sub, arg);
	}
	s->dispatching--;
	compact(s);
	return calls;
}
