/*
 * client_send.c: Socket.IO packets from libsiogate-client to the server:
 * events with JSON arguments and binary attachments (and the placeholders
 * that refer to them), acks to the server's requests, the seed's helper
 * requests (authenticate, join, leave), and the acks the client waits for
 * (timeouts; client_state.c fails them when the connection ends).
 */
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "jsonout.h"

static bool is_reserved_event(const char *name);
static int check_placeholders(const json_t *v, size_t n_att);
static int send_packet(struct sgc_client *c, enum sio_type type, int64_t id, const char *event,
		       const json_t *args, const struct sgc_binary *att, size_t n_att);
static int rooms_request(struct sgc_client *c, const char *event, const char *const *rooms,
			 size_t n, sgc_ack_fn ack, void *user, unsigned timeout_ms);
static int emit_args(struct sgc_client *c, const char *event, json_t *args, sgc_ack_fn ack,
		     void *user, unsigned timeout_ms);
static void ack_timeout_cb(evutil_socket_t fd, short what, void *arg);

/* ------------------------------------------------------------------ placeholders */

json_t *sgc_placeholder(unsigned num)
{
	return json_pack("{s:b,s:I}", "_placeholder", 1, "num", (json_int_t)num);
}

int sgc_placeholder_num(const json_t *value)
{
	json_t *num;

	if (!json_is_object(value) || !json_is_true(json_object_get(value, "_placeholder")))
		return -1;
	num = json_object_get(value, "num");
	if (json_is_integer(num) && json_integer_value(num) >= 0 &&
	    json_integer_value(num) <= SGC_MAX_ATTACHMENTS)
		return (int)json_integer_value(num);
	if (json_is_real(num) && json_real_value(num) >= 0 &&
	    json_real_value(num) <= SGC_MAX_ATTACHMENTS &&
	    json_real_value(num) == (double)(int)json_real_value(num))
		return (int)json_real_value(num);
	return -1;
}

/* ------------------------------------------------------------------ emitting */

static bool is_reserved_event(const char *name)
{
	static const char *const reserved[] = {
		"connect",	 "connect_error", "disconnect",
		"disconnecting", "newListener",	  "removeListener"
	};
	size_t i;

	for (i = 0; i < SG_ARRAY_LEN(reserved); i++) {
		if (strcmp(name, reserved[i]) == 0)
			return true;
	}
	return false;
}

/* 0 when every placeholder in v refers to an attachment in [0, n_att). */
static int check_placeholders(const json_t *v, size_t n_att)
{
	const char *key;
	json_t *val;
	size_t i;

	if (json_is_object(v)) {
		if (json_is_true(json_object_get(v, "_placeholder"))) {
			int num = sgc_placeholder_num(v);
			return num >= 0 && (size_t)num < n_att ? 0 : -1;
		}
		json_object_foreach((json_t *)v, key, val)
		{
			if (check_placeholders(val, n_att) != 0)
				return -1;
		}
	} else if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			if (check_placeholders(json_array_get(v, i), n_att) != 0)
				return -1;
		}
	}
	return 0;
}

/* Encodes and sends one EVENT or ACK (binary variant when there are
 * attachments).  event is NULL for an ACK. */
static int send_packet(struct sgc_client *c, enum sio_type type, int64_t id, const char *event,
		       const json_t *args, const struct sgc_binary *att, size_t n_att)
{
	struct sg_buf b;
	size_t i;
	int rc = SGC_OK;

	if (c->conn != SGC_CONN_CONNECTED || !sgc_engine_is_open(c->eng))
		return SGC_ERR_NOT_CONNECTED;
	if (n_att > 0)
		type = type == SIO_ACK ? SIO_BINARY_ACK : SIO_BINARY_EVENT;
	sg_buf_init(&b);
	sio_packet_encode_head(&b, type, c->nsp, (unsigned)n_att, id);
	sg_buf_append_char(&b, '[');
	if (event != NULL) {
		json_t *name = json_string(event);
		sgc_json_append(&b, name);
		json_decref(name);
	}
	for (i = 0; args != NULL && i < json_array_size(args); i++) {
		if (i > 0 || event != NULL)
			sg_buf_append_char(&b, ',');
		sgc_json_append(&b, json_array_get(args, i));
	}
	sg_buf_append_char(&b, ']');
	if (sgc_engine_send(c->eng, false, b.data, b.len) != 0)
		rc = SGC_ERR_NOT_CONNECTED;
	for (i = 0; rc == SGC_OK && i < n_att; i++) {
		if (sgc_engine_send(c->eng, true, att[i].data, att[i].len) != 0)
			rc = SGC_ERR_NOT_CONNECTED;
	}
	sg_buf_fini(&b);
	return rc;
}

int sgc_emit_ex(struct sgc_client *c, const struct sgc_emit *e)
{
	struct sgc_pending_ack *a;
	int64_t id = -1;
	int rc;

	json_t *name;

	if (e == NULL || e->event == NULL || e->event[0] == '\0' || is_reserved_event(e->event))
		return SGC_ERR_INVALID;
	name = json_string(e->event); /* NULL unless valid UTF-8 */
	if (name == NULL)
		return SGC_ERR_INVALID;
	json_decref(name);
	if (e->args != NULL && !json_is_array(e->args))
		return SGC_ERR_INVALID;
	if (e->n_attachments > SGC_MAX_ATTACHMENTS ||
	    (e->n_attachments > 0 && e->attachments == NULL))
		return SGC_ERR_INVALID;
	if (check_placeholders(e->args, e->n_attachments) != 0)
		return SGC_ERR_INVALID;
	if (c->free_requested || c->conn != SGC_CONN_CONNECTED)
		return SGC_ERR_NOT_CONNECTED;
	if (e->ack)
		id = c->next_ack_id;
	rc = send_packet(c, SIO_EVENT, id, e->event, e->args, e->attachments, e->n_attachments);
	if (rc != SGC_OK || e->ack == NULL)
		return rc;
	c->next_ack_id++;
	a = sg_calloc(1, sizeof(*a));
	a->c = c;
	a->id = id;
	a->cb = e->ack;
	a->user = e->ack_user;
	if (e->ack_timeout_ms > 0) {
		struct timeval tv = { e->ack_timeout_ms / 1000, (e->ack_timeout_ms % 1000) * 1000 };
		a->timer = evtimer_new(c->base, ack_timeout_cb, a);
		if (a->timer == NULL)
			sg_fatal("libevent: cannot create a timer");
		evtimer_add(a->timer, &tv);
	}
	/* append: acks are usually answered in order */
	{
		struct sgc_pending_ack **pp = &c->acks;
		while (*pp != NULL)
			pp = &(*pp)->next;
		*pp = a;
	}
	return SGC_OK;
}

/* sgc_emit_ex with these arguments; takes the reference to args. */
static int emit_args(struct sgc_client *c, const char *event, json_t *args, sgc_ack_fn ack,
		     void *user, unsigned timeout_ms)
{
	struct sgc_emit e;
	int rc;

	memset(&e, 0, sizeof(e));
	e.event = event;
	e.args = args;
	e.ack = ack;
	e.ack_user = user;
	e.ack_timeout_ms = timeout_ms;
	rc = sgc_emit_ex(c, &e);
	json_decref(args);
	return rc;
}

int client_send_event(struct sgc_client *c, const char *event, const json_t *data)
{
	json_t *args = json_array();
	int rc;

	if (data != NULL)
		json_array_append(args, (json_t *)data);
	rc = send_packet(c, SIO_EVENT, -1, event, args, NULL, 0);
	json_decref(args);
	return rc;
}

int sgc_emit(struct sgc_client *c, const char *event, const json_t *data)
{
	json_t *args = json_array();

	if (data != NULL)
		json_array_append(args, (json_t *)data);
	return emit_args(c, event, args, NULL, NULL, 0);
}

int sgc_emit_with_ack(struct sgc_client *c, const char *event, const json_t *data,
		      unsigned timeout_ms, sgc_ack_fn ack, void *user)
{
	json_t *args;

	if (ack == NULL)
		return SGC_ERR_INVALID;
	args = json_array();
	if (data != NULL)
		json_array_append(args, (json_t *)data);
	return emit_args(c, event, args, ack, user, timeout_ms);
}

int sgc_ack(struct sgc_client *c, int64_t ack_id, const json_t *args)
{
	if (ack_id < 0 || ack_id > SIO_MAX_ACK_ID || (args != NULL && !json_is_array(args)))
		return SGC_ERR_INVALID;
	if (c->free_requested)
		return SGC_ERR_NOT_CONNECTED;
	return send_packet(c, SIO_ACK, ack_id, NULL, args, NULL, 0);
}

/* ------------------------------------------------------------------ pending acks */

static void ack_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sgc_pending_ack *a = arg, **pp;
	struct sgc_client *c = a->c;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	client_enter(c);
	for (pp = &c->acks; *pp != NULL && *pp != a; pp = &(*pp)->next) {
	}
	if (*pp == a) {
		*pp = a->next;
		event_free(a->timer);
		a->cb(c, SGC_ERR_TIMEOUT, NULL, a->user);
		free(a);
	}
	client_leave(c);
}

/* ------------------------------------------------------------------ the helper flow */

int sgc_authenticate(struct sgc_client *c)
{
	int rc;

	if (c->free_requested || c->conn != SGC_CONN_CONNECTED)
		return SGC_ERR_NOT_CONNECTED;
	if (c->auth_state != SGC_UNAUTHORIZED)
		return SGC_ERR_STATE;
	rc = send_packet(c, SIO_EVENT, -1, "authenticate", NULL, NULL, 0);
	if (rc == SGC_OK)
		c->auth_state = SGC_AUTHENTICATING;
	return rc;
}

static int rooms_request(struct sgc_client *c, const char *event, const char *const *rooms,
			 size_t n, sgc_ack_fn ack, void *user, unsigned timeout_ms)
{
	json_t *list, *obj, *args;
	size_t i;

	if (rooms == NULL || n == 0)
		return SGC_ERR_INVALID;
	list = json_array();
	for (i = 0; i < n; i++) {
		json_t *s = rooms[i] ? json_string(rooms[i]) : NULL;
		if (s == NULL) {
			json_decref(list);
			return SGC_ERR_INVALID;
		}
		json_array_append_new(list, s);
	}
	obj = json_object();
	json_object_set_new(obj, "rooms", list);
	args = json_array();
	json_array_append_new(args, obj);
	return emit_args(c, event, args, ack, user, timeout_ms);
}

int sgc_join_rooms(struct sgc_client *c, const char *const *rooms, size_t n, sgc_ack_fn ack,
		   void *user, unsigned timeout_ms)
{
	return rooms_request(c, "join", rooms, n, ack, user, timeout_ms);
}

int sgc_leave_rooms(struct sgc_client *c, const char *const *rooms, size_t n, sgc_ack_fn ack,
		    void *user, unsigned timeout_ms)
{
	return rooms_request(c, "leave", rooms, n, ack, user, timeout_ms);
}
