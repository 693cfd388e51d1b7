/*
 * client_recv.c: what the engine delivers to libsiogate-client (its
 * callbacks, client_engine_cbs): the open session (the namespace CONNECT
 * goes out), Socket.IO packets from the server (a BINARY_EVENT or
 * BINARY_ACK waits for its attachments; the namespace's CONNECT and
 * CONNECT_ERROR answers, DISCONNECT, events: the helper's authenticated /
 * unauthenticated states and the token:expiring warning, then the
 * subscribed handlers, subs.c; acks to what the client emitted), and the
 * end of the session (report, then reconnect through client_conn.c); and
 * the subscription API.
 */
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

/* What sgc_subs_dispatch hands to call_handler. */
struct dispatch_ctx {
	struct sgc_client *c;
	const struct sgc_event *ev;
};

static void on_eng_open(struct sgc_engine *e, void *arg);
static void on_eng_message(struct sgc_engine *e, void *arg, bool binary, const char *data,
			   size_t len);
static void on_eng_close(struct sgc_engine *e, void *arg, int code, const char *reason,
			 const char *message);
static void protocol_error(struct sgc_client *c, const char *msg);
static void handle_packet(struct sgc_client *c, struct sio_packet *pkt,
			  const struct sgc_binary *att, size_t n_att);
static void handle_connect(struct sgc_client *c, const struct sio_packet *pkt);
static void handle_connect_error(struct sgc_client *c, const struct sio_packet *pkt);
static void deliver_event(struct sgc_client *c, const struct sio_packet *pkt,
			  const struct sgc_binary *att, size_t n_att);
static void deliver_ack(struct sgc_client *c, const struct sio_packet *pkt,
			const struct sgc_binary *att, size_t n_att);
static void call_handler(const struct sgc_sub *sub, void *arg);

const struct sgc_engine_cbs client_engine_cbs = {
	.on_open = on_eng_open,
	.on_message = on_eng_message,
	.on_close = on_eng_close,
};

/* ------------------------------------------------------------------ the engine's events */

static void on_eng_open(struct sgc_engine *e, void *arg)
{
	struct sgc_client *c = arg;
	struct sg_buf b;

	client_enter(c);
	if (e == c->eng && !c->free_requested) {
		sg_buf_init(&b);
		sio_packet_encode_head(&b, SIO_CONNECT, c->nsp, 0, -1);
		if (c->auth)
			sg_buf_append_str(&b, c->auth);
		if (sgc_engine_send(e, false, b.data, b.len) != 0) {
			/* cannot happen: the engine just opened */
		}
		sg_buf_fini(&b);
	}
	client_leave(c);
}

static void on_eng_close(struct sgc_engine *e, void *arg, int code, const char *reason,
			 const char *message)
{
	struct sgc_client *c = arg;
	size_t i;
	unsigned gen;

	client_enter(c);
	for (i = 0; i < c->n_closing; i++) {
		if (c->closing[i] == e) {
			c->closing[i] = c->closing[--c->n_closing];
			sgc_engine_free(e);
			goto out;
		}
	}
	if (e != c->eng || c->free_requested)
		goto out;
	client_retire_engine(c, false);
	gen = c->gen;
	if (c->conn == SGC_CONN_CONNECTED) {
		if (code == SGC_ERR_PROTOCOL)
			client_report_errorf(c, SGC_ERR_PROTOCOL, "%s", message);
		if (c->free_requested || c->gen != gen)
			goto out;
		client_go_disconnected(c, reason, true);
	} else {
		client_go_disconnected(c, reason, false);
		client_report_errorf(c, code < 0 ? code : SGC_ERR_CONNECT, "%s",
				     message && message[0] ? message : reason);
	}
	if (!c->free_requested && c->gen == gen && c->conn == SGC_CONN_DISCONNECTED)
		client_schedule_reconnect(c);
out:
	client_leave(c);
}
/* The server broke the Socket.IO protocol: report, drop the connection
 * ("parse error"), reconnect as socket.io-client does. */
static void protocol_error(struct sgc_client *c, const char *msg)
{
	unsigned gen = c->gen;
	bool was_connected = c->conn == SGC_CONN_CONNECTED;

	client_retire_engine(c, false);
	client_report_errorf(c, SGC_ERR_PROTOCOL, "%s", msg);
	if (c->free_requested || c->gen != gen)
		return;
	client_go_disconnected(c, "parse error", was_connected);
	if (!c->free_requested && c->gen == gen && c->conn == SGC_CONN_DISCONNECTED)
		client_schedule_reconnect(c);
}

/* ------------------------------------------------------------------ packets in */

static void on_eng_message(struct sgc_engine *e, void *arg, bool binary, const char *data,
			   size_t len)
{
	struct sgc_client *c = arg;
	struct sio_packet pkt;
	struct sg_err err = { 0, 0, "" };

	client_enter(c);
	if (e != c->eng || c->free_requested)
		goto out;
	if (binary) {
		struct sgc_binary *att;
		size_t i, n;

		if (!c->bin_pending) {
			protocol_error(c, "unexpected binary message");
			goto out;
		}
		sg_buf_init(&c->bin_parts[c->bin_n]);
		sg_buf_append(&c->bin_parts[c->bin_n], data, len);
		c->bin_n++;
		if (c->bin_n < c->bin_pkt.attachments)
			goto out;
		/* complete: hand it over, then forget it */
		n = c->bin_n;
		att = sg_calloc(n, sizeof(*att));
		for (i = 0; i < n; i++) {
			att[i].data = c->bin_parts[i].data;
			att[i].len = c->bin_parts[i].len;
		}
		pkt = c->bin_pkt;
		{
			struct sg_buf *parts = c->bin_parts;
			c->bin_parts = NULL;
			c->bin_n = 0;
			c->bin_pending = false;
			handle_packet(c, &pkt, att, n);
			sio_packet_fini(&pkt);
			for (i = 0; i < n; i++)
				sg_buf_fini(&parts[i]);
			free(parts);
		}
		free(att);
		goto out;
	}
	if (c->bin_pending) {
		protocol_error(c, "text message while binary attachments were expected");
		goto out;
	}
	if (sio_packet_decode(data, len, SGC_MAX_ATTACHMENTS, &pkt, &err) != 0) {
		protocol_error(c, err.msg);
		goto out;
	}
	if (pkt.nsp_len != strlen(c->nsp) || memcmp(pkt.nsp, c->nsp, pkt.nsp_len) != 0) {
		sio_packet_fini(&pkt); /* another namespace: not ours */
		goto out;
	}
	if (pkt.type == SIO_BINARY_EVENT || pkt.type == SIO_BINARY_ACK) {
		if (sio_packet_check_placeholders(&pkt, &err) != 0) {
			sio_packet_fini(&pkt);
			protocol_error(c, err.msg);
			goto out;
		}
		c->bin_pkt = pkt;
		c->bin_pending = true;
		c->bin_parts = sg_calloc(pkt.attachments, sizeof(*c->bin_parts));
		c->bin_n = 0;
		goto out;
	}
	handle_packet(c, &pkt, NULL, 0);
	sio_packet_fini(&pkt);
out:
	client_leave(c);
}

/* A complete Socket.IO packet of our namespace. */
static void handle_packet(struct sgc_client *c, struct sio_packet *pkt,
			  const struct sgc_binary *att, size_t n_att)
{
	switch (pkt->type) {
	case SIO_CONNECT:
		handle_connect(c, pkt);
		break;
	case SIO_CONNECT_ERROR:
		handle_connect_error(c, pkt);
		break;
	case SIO_DISCONNECT:
		if (c->conn == SGC_CONN_CONNECTED) {
			client_retire_engine(c, true);
			client_go_disconnected(c, "io server disconnect", true);
		}
		break;
	case SIO_EVENT:
	case SIO_BINARY_EVENT:
		if (c->conn == SGC_CONN_CONNECTED)
			deliver_event(c, pkt, att, n_att);
		break;
	case SIO_ACK:
	case SIO_BINARY_ACK:
		if (c->conn == SGC_CONN_CONNECTED)
			deliver_ack(c, pkt, att, n_att);
		break;
	}
}

static void handle_connect(struct sgc_client *c, const struct sio_packet *pkt)
{
	json_t *sid = json_object_get(pkt->data, "sid");

	if (c->conn != SGC_CONN_CONNECTING)
		return; /* a repeated CONNECT changes nothing */
	if (!json_is_string(sid) || json_string_length(sid) == 0) {
		protocol_error(c, "CONNECT answer without a sid");
		return;
	}
	evtimer_del(c->connect_timer);
	free(c->sid);
	c->sid = sg_strdup(json_string_value(sid));
	c->conn = SGC_CONN_CONNECTED;
	c->auth_state = SGC_UNAUTHORIZED;
	c->attempt = 0;
	if (c->cb.on_connected)
		c->cb.on_connected(c, c->cb.user);
}

static void handle_connect_error(struct sgc_client *c, const struct sio_packet *pkt)
{
	const char *msg = "connection refused";
	json_t *data = NULL, *m;

	if (c->conn != SGC_CONN_CONNECTING)
		return;
	if (json_is_string(pkt->data)) {
		msg = json_string_value(pkt->data);
	} else if (json_is_object(pkt->data)) {
		m = json_object_get(pkt->data, "message");
		if (json_is_string(m))
			msg = json_string_value(m);
		data = json_object_get(pkt->data, "data");
	}
	client_retire_engine(c, true);
	client_go_disconnected(c, "io server disconnect", false);
	client_report_error(c, SGC_ERR_REFUSED, msg, data);
}

/* ------------------------------------------------------------------ events and acks */

static void call_handler(const struct sgc_sub *sub, void *arg)
{
	struct dispatch_ctx *d = arg;
	int rc;

	if (d->c->free_requested)
		return;
	rc = sub->fn(d->c, d->ev, sub->user);
	if (rc != 0 && !d->c->free_requested)
		client_report_errorf(d->c, SGC_ERR_HANDLER,
				     "handler of event '%s' failed (returned %d)", d->ev->name, rc);
}

static void deliver_event(struct sgc_client *c, const struct sio_packet *pkt,
			  const struct sgc_binary *att, size_t n_att)
{
	const char *name = sio_event_name(pkt);
	struct sgc_event ev;
	struct dispatch_ctx d;
	json_t *args;
	size_t i;

	if (name == NULL || sio_event_name_len(pkt) != strlen(name))
		return;
	args = json_array();
	for (i = 1; i < json_array_size(pkt->data); i++)
		json_array_append(args, json_array_get(pkt->data, i));
	ev.name = name;
	ev.args = args;
	ev.data = json_array_size(args) > 0 ? json_array_get(args, 0) : NULL;
	ev.attachments = att;
	ev.n_attachments = n_att;
	ev.ack_id = pkt->id;
	if (strcmp(name, "authenticated") == 0) {
		/* the answer to authenticate or to a refresh, or, with siogate's
		 * auth.mode connect, unasked right after the CONNECT */
		c->auth_state = SGC_AUTHENTICATED;
		c->refreshing = false;
		if (c->cb.on_authenticated)
			c->cb.on_authenticated(c, ev.data, c->cb.user);
	} else if (strcmp(name, "unauthenticated") == 0) {
		const json_t *m = json_object_get(ev.data, "message");
		c->auth_state = SGC_UNAUTHORIZED;
		c->refreshing = false;
		if (c->cb.on_unauthenticated)
			c->cb.on_unauthenticated(c, json_is_string(m) ? json_string_value(m) : "",
						 c->cb.user);
	} else if (strcmp(name, "token:expiring") == 0) {
		client_token_expiring(c, ev.data);
	}
	d.c = c;
	d.ev = &ev;
	if (!c->free_requested)
		sgc_subs_dispatch(&c->subs, name, call_handler, &d);
	if (!c->free_requested && strcmp(name, SGC_ANY_EVENT) != 0)
		sgc_subs_dispatch(&c->subs, SGC_ANY_EVENT, call_handler, &d);
	json_decref(args);
}

static void deliver_ack(struct sgc_client *c, const struct sio_packet *pkt,
			const struct sgc_binary *att, size_t n_att)
{
	struct sgc_pending_ack **pp, *a;
	struct sgc_event ev;
	json_t *args;

	for (pp = &c->acks; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->id == pkt->id)
			break;
	}
	if (*pp == NULL)
		return; /* unknown or timed out: ignored, as socket.io-client does */
	a = *pp;
	*pp = a->next;
	if (a->timer)
		event_free(a->timer);
	args = pkt->data ? json_incref(pkt->data) : json_array();
	ev.name = NULL;
	ev.args = args;
	ev.data = json_array_size(args) > 0 ? json_array_get(args, 0) : NULL;
	ev.attachments = att;
	ev.n_attachments = n_att;
	ev.ack_id = -1;
	a->cb(c, SGC_OK, &ev, a->user);
	json_decref(args);
	free(a);
}

/* ------------------------------------------------------------------ subscriptions */

int sgc_subscribe(struct sgc_client *c, const char *event, sgc_handler_fn handler, void *user,
		  bool ignore_duplicate)
{
	if (event == NULL || event[0] == '\0' || handler == NULL)
		return SGC_ERR_INVALID;
	if (c->free_requested)
		return SGC_ERR_STATE;
	return sgc_subs_add(&c->subs, event, handler, user, ignore_duplicate);
}

int sgc_subscribe_many(struct sgc_client *c, const struct sgc_subscription *subs, size_t n,
		       bool ignore_duplicate)
{
	size_t i;
	int added = 0;

	if (subs == NULL && n > 0)
		return SGC_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (subs[i].event == NULL || subs[i].event[0] == '\0' || subs[i].handler == NULL)
			return SGC_ERR_INVALID;
	}
	if (c->free_requested)
		return SGC_ERR_STATE;
	for (i = 0; i < n; i++) {
		if (sgc_subs_add(&c->subs, subs[i].event, subs[i].handler, subs[i].user,
				 ignore_duplicate) == SGC_OK)
			added++;
	}
	return added;
}

int sgc_unsubscribe(struct sgc_client *c, const char *event, sgc_handler_fn handler, void *user)
{
	if (event == NULL)
		return SGC_ERR_INVALID;
	return sgc_subs_remove(&c->subs, event, handler, user);
}

int sgc_unsubscribe_many(struct sgc_client *c, const char *const *events, size_t n)
{
	size_t i;
	int count = 0;

	for (i = 0; events != NULL && i < n; i++) {
		if (events[i] != NULL && sgc_subs_remove(&c->subs, events[i], NULL, NULL) == SGC_OK)
			count++;
	}
	return count;
}

size_t sgc_handler_count(const struct sgc_client *c, const char *event)
{
	return event ? sgc_subs_count(&c->subs, event) : 0;
}
