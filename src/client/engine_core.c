/*
 * engine_core.c: the base of libsiogate-client's engine, below its other
 * files: the guard that keeps engine_int.h's invariant (nothing is freed
 * under a running callback: eng_enter / eng_leave, eng_alive), the
 * graveyard where killed connections wait for the outermost eng_leave, and
 * the failure deferred to the next loop turn.  A freed engine is released
 * through e->ops->destroy (engine.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine_int.h"

static void conn_free(struct eng_conn *c);

/* ------------------------------------------------------------------ the guard */

void eng_enter(struct sgc_engine *e)
{
	e->depth++;
}

void eng_leave(struct sgc_engine *e)
{
	if (--e->depth > 0)
		return;
	if (e->freed) {
		e->ops->destroy(e);
		return;
	}
	eng_bury(e);
}

bool eng_alive(const struct sgc_engine *e)
{
	return !e->freed && e->st != ENG_CLOSED;
}

/* ------------------------------------------------------------------ the graveyard */

void eng_conn_kill(struct eng_conn *c)
{
	struct sgc_engine *e = c->e;

	if (c->st == CS_DEAD)
		return;
	c->st = CS_DEAD;
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (e->hs == c)
		e->hs = NULL;
	if (e->ws == c)
		e->ws = NULL;
	if (e->probe == c)
		e->probe = NULL;
	if (e->get == c)
		e->get = NULL;
	if (e->post == c)
		e->post = NULL;
	c->next = e->graveyard;
	e->graveyard = c;
}

void eng_bury(struct sgc_engine *e)
{
	struct eng_conn *c;

	while ((c = e->graveyard) != NULL) {
		e->graveyard = c->next;
		conn_free(c);
	}
}

static void conn_free(struct eng_conn *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->ws)
		wslay_event_context_free(c->ws);
	sg_buf_fini(&c->req);
	http_resp_parser_fini(&c->resp);
	free(c);
}

/* ------------------------------------------------------------------ deferred failure */

void eng_fail_later(struct sgc_engine *e, int code, const char *msg)
{
	if (e->fail_code != 0)
		return;
	e->fail_code = code;
	snprintf(e->fail_msg, sizeof(e->fail_msg), "%s", msg);
	event_active(e->fail_ev, 0, 0);
}
