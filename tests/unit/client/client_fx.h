/*
 * client_fx.h: the fixture of the client's unit tests on the fake engine
 * (fake_engine.h): a recorder of every callback (struct rec: one log string
 * plus counters), a client made with all of them, a loop runner, and struct
 * fx (the recorder, the options, the client and its engine) set up and torn
 * down in one call each.  The test file defines `base`'s value in main().
 *
 * Header-only (static functions, some unused by a given test): each unit
 * test is one .c file, and the CHECKs here count in its totals.
 */
#ifndef SGC_TEST_CLIENT_FX_H
#define SGC_TEST_CLIENT_FX_H

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "fake_engine.h"
#include "siogate/client.h"
#include "unit.h"

#define FX_FN static __attribute__((unused))

/* Everything the callbacks saw, as one log string, plus counters. */
struct rec {
	struct sg_buf log;
	int connected;
	int disconnected;
	int authenticated;
	int unauthenticated;
	int errors;
	int last_error;
	int reconnecting;
	unsigned last_delay;
	int token_expiring;
	bool free_on_connected;
	bool free_on_event;
	bool disconnect_on_authenticated;
	bool free_on_expiring;
	const char *refresh_with; /* on_token_expiring answers with this token */
	struct sgc_client **self;
};

static struct event_base *base;

FX_FN void run_ms(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

FX_FN void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	sg_buf_init(&r->log);
	sg_buf_append(&r->log, "", 0);
}

FX_FN void rec_fini(struct rec *r)
{
	sg_buf_fini(&r->log);
}

FX_FN void cb_connected(struct sgc_client *c, void *user)
{
	struct rec *r = user;

	r->connected++;
	sg_buf_printf(&r->log, "connected(%s,%s)|", sgc_socket_id(c), sgc_state_name(sgc_state(c)));
	if (r->free_on_connected) {
		sgc_client_free(c);
		*r->self = NULL;
	}
}

FX_FN void cb_disconnected(struct sgc_client *c, const char *reason, void *user)
{
	struct rec *r = user;

	r->disconnected++;
	sg_buf_printf(&r->log, "disconnected(%s,%s)|", reason, sgc_state_name(sgc_state(c)));
}

FX_FN void cb_error(struct sgc_client *c, const struct sgc_error *err, void *user)
{
	struct rec *r = user;
	char *data = err->data ? json_dumps(err->data, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	(void)c;
	r->errors++;
	r->last_error = err->code;
	sg_buf_printf(&r->log, "error(%d,%s%s%s)|", err->code, err->message, data ? "," : "",
		      data ? data : "");
	free(data);
}

FX_FN void cb_authenticated(struct sgc_client *c, const json_t *data, void *user)
{
	struct rec *r = user;

	r->authenticated++;
	sg_buf_printf(&r->log, "authenticated(%s)|",
		      json_string_value(json_object_get(data, "id")));
	if (r->disconnect_on_authenticated)
		sgc_disconnect(c);
}

FX_FN void cb_unauthenticated(struct sgc_client *c, const char *message, void *user)
{
	struct rec *r = user;

	r->unauthenticated++;
	sg_buf_printf(&r->log, "unauthenticated(%s,%s)|", message, sgc_state_name(sgc_state(c)));
}

FX_FN void cb_reconnecting(struct sgc_client *c, unsigned attempt, unsigned delay, void *user)
{
	struct rec *r = user;

	(void)c;
	r->reconnecting++;
	r->last_delay = delay;
	sg_buf_printf(&r->log, "reconnecting(%u)|", attempt);
}

/* Logs "expiring(EXP)|"; answers with sgc_refresh_token(refresh_with) when
 * set (logging "refresh(RC)|"), or frees the client with free_on_expiring. */
FX_FN void cb_token_expiring(struct sgc_client *c, int64_t exp, void *user)
{
	struct rec *r = user;

	r->token_expiring++;
	sg_buf_printf(&r->log, "expiring(%lld)|", (long long)exp);
	if (r->refresh_with != NULL)
		sg_buf_printf(&r->log, "refresh(%d)|", sgc_refresh_token(c, r->refresh_with));
	if (r->free_on_expiring) {
		sgc_client_free(c);
		*r->self = NULL;
	}
}

FX_FN struct sgc_client *make_client(struct rec *r, struct sgc_options *o)
{
	char err[200];
	struct sgc_client *c;

	o->on_connected = cb_connected;
	o->on_disconnected = cb_disconnected;
	o->on_error = cb_error;
	o->on_authenticated = cb_authenticated;
	o->on_unauthenticated = cb_unauthenticated;
	o->on_reconnecting = cb_reconnecting;
	o->on_token_expiring = cb_token_expiring;
	o->user = r;
	c = sgc_client_new(base, o, err, sizeof(err));
	if (c == NULL)
		fprintf(stderr, "sgc_client_new: %s\n", err);
	CHECK(c != NULL);
	return c;
}

/* connect, open the engine, answer the CONNECT with nsp_reply (e.g.
 * "40{\"sid\":\"S1\"}"); returns the engine. */
FX_FN struct sgc_engine *connect_open(struct sgc_client *c, const char *nsp_reply)
{
	struct sgc_engine *e;

	CHECK_INT(sgc_connect(c), SGC_OK);
	e = fake_engine_last();
	CHECK(e != NULL);
	fake_engine_open(e);
	if (nsp_reply)
		fake_engine_recv(e, nsp_reply);
	return e;
}

/* Handler log: "<user>:<event>:<args JSON>[:ack N][:bin hex...]|" */
FX_FN int h_log(struct sgc_client *c, const struct sgc_event *ev, void *user)
{
	struct rec *r = user ? user : NULL;
	char *args = json_dumps(ev->args, JSON_COMPACT);
	size_t i, k;

	(void)c;
	if (r == NULL)
		return 0;
	sg_buf_printf(&r->log, "h:%s:%s", ev->name, args);
	if (ev->ack_id >= 0)
		sg_buf_printf(&r->log, ":ack%lld", (long long)ev->ack_id);
	for (i = 0; i < ev->n_attachments; i++) {
		sg_buf_append_str(&r->log, ":bin");
		for (k = 0; k < ev->attachments[i].len; k++)
			sg_buf_printf(&r->log, "%02x",
				      ((const unsigned char *)ev->attachments[i].data)[k]);
	}
	sg_buf_append_char(&r->log, '|');
	free(args);
	return 0;
}

FX_FN void ack_log(struct sgc_client *c, int status, const struct sgc_event *reply, void *user)
{
	struct rec *r = user;
	char *args = reply ? json_dumps(reply->args, JSON_COMPACT) : NULL;

	(void)c;
	sg_buf_printf(&r->log, "ack(%d%s%s%s)|", status, args ? "," : "", args ? args : "",
		      reply && reply->n_attachments ? ",bin" : "");
	free(args);
}

/* One test's client: the recorder, the options, the client and the engine
 * it is talking to. */
struct fx {
	struct rec r;
	struct sgc_options o;
	struct sgc_client *c;
	struct sgc_engine *e;
};

/* A recorder and default options for url (the test adjusts them before
 * fx_client). */
FX_FN void fx_init(struct fx *f, const char *url)
{
	rec_init(&f->r);
	sgc_options_init(&f->o);
	f->o.url = url;
	f->c = NULL;
	f->e = NULL;
}

/* The client of f's options. */
FX_FN struct sgc_client *fx_client(struct fx *f)
{
	f->c = make_client(&f->r, &f->o);
	f->r.self = &f->c;
	return f->c;
}

/* The client, connected: its engine open and the CONNECT answered with
 * reply (NULL: not answered). */
FX_FN void fx_connected(struct fx *f, const char *reply)
{
	fx_client(f);
	f->e = connect_open(f->c, reply);
}

/* Frees the client (if the test did not), the recorder and the engines. */
FX_FN void fx_fini(struct fx *f)
{
	sgc_client_free(f->c);
	f->c = NULL;
	rec_fini(&f->r);
	fake_engine_reset();
}

#endif
