/*
 * client_state.c: the base of libsiogate-client's client object, below its
 * other files: the guard that keeps client_int.h's invariant
 * (client_enter / client_leave, and the release once the outermost leave
 * finds the client freed), leaving the connected state (the engine
 * retired, pending acks failed, a half-received binary packet forgotten,
 * on_disconnected), and error reports to the owner's on_error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "client_int.h"

/* ------------------------------------------------------------------ the guard */

void client_enter(struct sgc_client *c)
{
	c->depth++;
}

void client_leave(struct sgc_client *c)
{
	if (--c->depth == 0 && c->free_requested)
		client_destroy(c);
}

/* Releases everything (the client is idle and no callback runs). */
void client_destroy(struct sgc_client *c)
{
	size_t i;

	sgc_engine_free(c->eng);
	for (i = 0; i < c->n_closing; i++)
		sgc_engine_free(c->closing[i]);
	free(c->closing);
	client_fail_acks(c, c->acks); /* empty unless sgc_client_new failed midway */
	client_bin_reset(c);
	sgc_subs_fini(&c->subs);
	if (c->reconnect_timer)
		event_free(c->reconnect_timer);
	if (c->connect_timer)
		event_free(c->connect_timer);
	if (c->dns)
		evdns_base_free(c->dns, 0);
	if (c->ssl_ctx)
		SSL_CTX_free(c->ssl_ctx);
	url_fini(&c->url);
	free(c->identifier);
	free(c->path);
	free(c->nsp);
	free(c->query);
	free(c->headers);
	free(c->auth);
	free(c->host_header);
	free(c->sid);
	c->magic = 0;
	free(c);
}

/* ------------------------------------------------------------------ leaving a connection */

/* Takes the current engine away: graceful (closing list) or at once. */
void client_retire_engine(struct sgc_client *c, bool graceful)
{
	struct sgc_engine *e = c->eng;

	c->eng = NULL;
	if (e == NULL)
		return;
	if (graceful && sgc_engine_is_open(e)) {
		c->closing = sg_realloc(c->closing, (c->n_closing + 1) * sizeof(*c->closing));
		c->closing[c->n_closing++] = e;
		sgc_engine_shutdown(e);
	} else {
		sgc_engine_free(e);
	}
}

/*
 * Leaves the connected (or connecting) state: forgets the socket id, resets
 * the authentication state, fails pending acks, and, when notify (the
 * namespace was connected), calls on_disconnected(reason) first.  Sets
 * conn to SGC_CONN_DISCONNECTED; the caller decides about reconnecting.
 */
void client_go_disconnected(struct sgc_client *c, const char *reason, bool notify)
{
	struct sgc_pending_ack *acks = c->acks;

	c->acks = NULL;
	evtimer_del(c->connect_timer);
	c->conn = SGC_CONN_DISCONNECTED;
	c->auth_state = SGC_UNAUTHORIZED;
	c->refreshing = false;
	free(c->sid);
	c->sid = NULL;
	client_bin_reset(c);
	if (notify && c->cb.on_disconnected)
		c->cb.on_disconnected(c, reason, c->cb.user);
	client_fail_acks(c, acks);
}

void client_fail_acks(struct sgc_client *c, struct sgc_pending_ack *list)
{
	while (list != NULL) {
		struct sgc_pending_ack *a = list;
		list = a->next;
		if (a->timer)
			event_free(a->timer);
		a->cb(c, SGC_ERR_DISCONNECTED, NULL, a->user);
		free(a);
	}
}

void client_bin_reset(struct sgc_client *c)
{
	size_t i;

	if (!c->bin_pending)
		return;
	sio_packet_fini(&c->bin_pkt);
	for (i = 0; i < c->bin_n; i++)
		sg_buf_fini(&c->bin_parts[i]);
	free(c->bin_parts);
	c->bin_parts = NULL;
	c->bin_n = 0;
	c->bin_pending = false;
}

/* ------------------------------------------------------------------ errors */

void client_report_error(struct sgc_client *c, int code, const char *msg, const json_t *data)
{
	struct sgc_error err;

	if (c->cb.on_error == NULL || c->free_requested)
		return;
	err.code = code;
	err.message = msg ? msg : "";
	err.data = data;
	c->cb.on_error(c, &err, c->cb.user);
}

void client_report_errorf(struct sgc_client *c, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	client_report_error(c, code, msg, NULL);
}
