/*
 * chan_op.c: the JSON channel's messages (see chan_op.h).  A message is
 * parsed once: "op" decides between an operation and an emit, whose parser
 * (emit_msg_from_json) reads the same JSON value.  A parsed operation
 * always names its sockets (to or user, never both, never neither).
 */
#include "proto/chan_op.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_js.h"

static const char *const op_names[CHAN_OP__COUNT] = { "disconnect", "join", "leave" };

static int op_from_json(const json_t *root, struct chan_op *op, struct sg_err *err);
static int op_fields(const json_t *root, struct chan_op *op, struct sg_err *err);
static int nonempty_strings(const json_t *v, const char *key, struct sg_strv *out,
			    struct sg_err *err);
static void write_strings(struct sg_buf *out, const char *key, const struct sg_strv *sv);

const char *chan_op_name(enum chan_op_kind kind)
{
	return (unsigned)kind < CHAN_OP__COUNT ? op_names[kind] : "unknown";
}

/* emit_msg_strings, and at least one name, none empty. */
static int nonempty_strings(const json_t *v, const char *key, struct sg_strv *out,
			    struct sg_err *err)
{
	if (emit_msg_strings(v, key, out, err) != 0)
		return -1;
	if (out->n == 0)
		return sg_err_set(err, "'%s' must name at least one room or socket", key);
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i][0] == '\0')
			return sg_err_set(err, "'%s' must hold non-empty strings", key);
	return 0;
}

static int op_from_json(const json_t *root, struct chan_op *op, struct sg_err *err)
{
	const json_t *name = json_object_get(root, "op");
	size_t k;

	if (!json_is_string(name))
		return sg_err_set(err, "'op' must be a string");
	for (k = 0; k < CHAN_OP__COUNT; k++)
		if (strcmp(json_string_value(name), op_names[k]) == 0)
			break;
	if (k == CHAN_OP__COUNT)
		return sg_err_set(err, "unknown op '%.40s' (disconnect, join or leave)",
				  json_string_value(name));
	op->kind = (enum chan_op_kind)k;
	return op_fields(root, op, err);
}

/* The fields of an operation whose kind is set. */
static int op_fields(const json_t *root, struct chan_op *op, struct sg_err *err)
{
	const json_t *nsp = json_object_get(root, "nsp");
	const json_t *to = json_object_get(root, "to");
	const json_t *user = json_object_get(root, "user");
	const json_t *origin = json_object_get(root, "origin");
	const json_t *unauth = json_object_get(root, "unauthenticated");
	size_t k = (size_t)op->kind;

	if (!json_is_object(root))
		return sg_err_set(err, "the operation must be a JSON object");
	if (nsp != NULL && !json_is_null(nsp) &&
	    (!json_is_string(nsp) || json_string_value(nsp)[0] != '/'))
		return sg_err_set(err, "'nsp' must be a string starting with '/'");
	if ((to != NULL && !json_is_null(to)) == (user != NULL && !json_is_null(user)))
		return sg_err_set(err, "op %s needs exactly one of 'to' and 'user'", op_names[k]);
	if (user != NULL && !json_is_null(user)) {
		if (!json_is_string(user) || json_string_length(user) == 0 ||
		    strlen(json_string_value(user)) != json_string_length(user))
			return sg_err_set(err, "'user' must be a non-empty string");
		op->user = sg_strdup(json_string_value(user));
	} else if (nonempty_strings(to, "to", &op->to, err) != 0) {
		return -1;
	}
	if (op->kind != CHAN_OP_DISCONNECT &&
	    nonempty_strings(json_object_get(root, "rooms"), "rooms", &op->rooms, err) != 0)
		return -1;
	if (emit_msg_strings(json_object_get(root, "except"), "except", &op->except, err) != 0)
		return -1;
	if (unauth != NULL && !json_is_null(unauth)) {
		if (!json_is_boolean(unauth) || op->kind != CHAN_OP_DISCONNECT)
			return sg_err_set(err,
					  "'unauthenticated' is true or false, for disconnect");
		op->unauthenticated = json_is_true(unauth) ? CHAN_OP_UNAUTH_YES : CHAN_OP_UNAUTH_NO;
	}
	if (origin != NULL && !json_is_null(origin)) {
		if (!json_is_string(origin))
			return sg_err_set(err, "'origin' must be a string");
		op->origin = sg_strdup(json_string_value(origin));
	}
	if (json_is_string(nsp))
		op->nsp = sg_strdup(json_string_value(nsp));
	return 0;
}

int chan_msg_parse(const char *text, size_t len, struct chan_msg *out, struct sg_err *err)
{
	json_t *root = emit_msg_load(text, len, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	out->is_op = json_is_object(root) && json_object_get(root, "op") != NULL;
	if (out->is_op)
		rc = op_from_json(root, &out->op, err);
	else
		rc = emit_msg_from_json(root, &out->emit, err);
	json_decref(root);
	if (rc != 0)
		chan_op_fini(&out->op); /* the emit parser frees its own */
	return rc;
}

int chan_op_parse(const char *text, size_t len, enum chan_op_kind kind, struct chan_op *out,
		  struct sg_err *err)
{
	json_t *root = emit_msg_load(text, len, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	out->kind = kind;
	rc = (unsigned)kind < CHAN_OP__COUNT ? op_fields(root, out, err)
					     : sg_err_set(err, "unknown operation");
	json_decref(root);
	if (rc != 0)
		chan_op_fini(out);
	return rc;
}

bool chan_op_unauthenticated(const struct chan_op *op)
{
	return op->unauthenticated == CHAN_OP_UNAUTH_DEFAULT
		       ? op->user != NULL
		       : op->unauthenticated == CHAN_OP_UNAUTH_YES;
}

void chan_msg_fini(struct chan_msg *m)
{
	emit_msg_fini(&m->emit);
	chan_op_fini(&m->op);
}

static void write_strings(struct sg_buf *out, const char *key, const struct sg_strv *sv)
{
	sg_buf_printf(out, ",\"%s\":", key);
	json_js_strv(out, sv);
}

void chan_op_write(struct sg_buf *out, const struct chan_op *op)
{
	sg_buf_printf(out, "{\"op\":\"%s\"", chan_op_name(op->kind));
	if (op->nsp != NULL) {
		sg_buf_append_str(out, ",\"nsp\":");
		json_js_string(out, op->nsp, strlen(op->nsp));
	}
	if (op->user != NULL) {
		sg_buf_append_str(out, ",\"user\":");
		json_js_string(out, op->user, strlen(op->user));
	} else {
		write_strings(out, "to", &op->to);
	}
	if (op->kind != CHAN_OP_DISCONNECT)
		write_strings(out, "rooms", &op->rooms);
	if (op->except.n > 0)
		write_strings(out, "except", &op->except);
	if (op->unauthenticated != CHAN_OP_UNAUTH_DEFAULT)
		sg_buf_printf(out, ",\"unauthenticated\":%s",
			      op->unauthenticated == CHAN_OP_UNAUTH_YES ? "true" : "false");
	if (op->origin != NULL) {
		sg_buf_append_str(out, ",\"origin\":");
		json_js_string(out, op->origin, strlen(op->origin));
	}
	sg_buf_append_char(out, '}');
}

void chan_op_fini(struct chan_op *op)
{
	free(op->nsp);
	free(op->user);
	free(op->origin);
	sg_strv_free(&op->to);
	sg_strv_free(&op->rooms);
	sg_strv_free(&op->except);
	memset(op, 0, sizeof(*op));
}
