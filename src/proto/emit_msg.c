/*
 * emit_msg.c: the JSON emit message (see emit_msg.h).  The data is written
 * back out with json_js_value, so numbers and strings reach clients as a
 * Node server would have sent them.
 */
#include "proto/emit_msg.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_js.h"

/* Socket.IO refuses these as event names (socket.io-parser RESERVED_EVENTS). */
static const char *const reserved[] = {
	"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

/* Nesting deeper than this is refused (jansson's own bound is 2048). */
#define EMIT_MSG_MAX_DEPTH 64

static size_t depth_of(const json_t *v, size_t limit);
static int ack_from_json(const json_t *ack, struct emit_msg *out, struct sg_err *err);
static int ack_name(const json_t *v, const char *key, char **out, struct sg_err *err);

/* A reply_to or timeout longer than this is refused. */
#define EMIT_MSG_MAX_ACK_FIELD 256

static size_t depth_of(const json_t *v, size_t limit)
{
	size_t d = 0, i;
	const char *k;
	json_t *item;

	if (limit == 0)
		return 1;
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			size_t x = depth_of(item, limit - 1);
			if (x > d)
				d = x;
		}
		return d + 1;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, item)
		{
			size_t x = depth_of(item, limit - 1);
			if (x > d)
				d = x;
		}
		return d + 1;
	}
	return 0;
}

int emit_msg_strings(const json_t *v, const char *key, struct sg_strv *out, struct sg_err *err)
{
	size_t i;
	json_t *item;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		sg_strv_push(out, json_string_value(v));
		return 0;
	}
	if (!json_is_array(v))
		return sg_err_set(err, "'%s' must be a string or an array of strings", key);
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item) || json_string_length(item) == 0 ||
		    strlen(json_string_value(item)) != json_string_length(item))
			return sg_err_set(err, "'%s' must hold non-empty strings", key);
		sg_strv_push(out, json_string_value(item));
	}
	return 0;
}

json_t *emit_msg_load(const char *text, size_t len, struct sg_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL)
		sg_err_set(err, "bad JSON at %d:%d: %s", jerr.line, jerr.column, jerr.text);
	return root;
}

int emit_msg_parse(const char *text, size_t len, struct emit_msg *out, struct sg_err *err)
{
	json_t *root = emit_msg_load(text, len, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	rc = emit_msg_from_json(root, out, err);
	json_decref(root);
	return rc;
}

/* An optional name of "ack" (key): a non-empty string, or absent/null. */
static int ack_name(const json_t *v, const char *key, char **out, struct sg_err *err)
{
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > EMIT_MSG_MAX_ACK_FIELD ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return sg_err_set(err, "'ack.%s' must be a non-empty string", key);
	*out = sg_strdup(json_string_value(v));
	return 0;
}

/* "ack": {"timeout": "5s" | ms, "reply_to" | "reply_stream", "id"}. */
static int ack_from_json(const json_t *ack, struct emit_msg *out, struct sg_err *err)
{
	const json_t *timeout = json_object_get(ack, "timeout");
	char num[32];

	if (!json_is_object(ack))
		return sg_err_set(err, "'ack' must be an object {\"timeout\", \"reply_to\"}");
	if (json_is_integer(timeout) && json_integer_value(timeout) > 0) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(timeout));
		out->ack_timeout = sg_strdup(num);
	} else if (json_is_string(timeout) && json_string_length(timeout) > 0 &&
		   json_string_length(timeout) <= EMIT_MSG_MAX_ACK_FIELD &&
		   strlen(json_string_value(timeout)) == json_string_length(timeout)) {
		out->ack_timeout = sg_strdup(json_string_value(timeout));
	} else {
		return sg_err_set(err, "'ack.timeout' must be a duration (\"5s\") or milliseconds");
	}
	if (ack_name(json_object_get(ack, "reply_to"), "reply_to", &out->ack_reply_to, err) != 0 ||
	    ack_name(json_object_get(ack, "reply_stream"), "reply_stream", &out->ack_reply_stream,
		     err) != 0 ||
	    ack_name(json_object_get(ack, "id"), "id", &out->ack_id, err) != 0)
		return -1;
	if (out->ack_reply_to != NULL && out->ack_reply_stream != NULL)
		return sg_err_set(err, "'ack' takes reply_to or reply_stream, not both");
	out->has_ack = true;
	return 0;
}

int emit_msg_from_json(const json_t *root, struct emit_msg *out, struct sg_err *err)
{
	json_t *nsp, *event, *data, *vol, *ack;
	struct sg_buf args;
	const char *name;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(root))
		return sg_err_set(err, "the message must be a JSON object");
	event = json_object_get(root, "event");
	if (!json_is_string(event) || json_string_length(event) == 0)
		return sg_err_set(err, "'event' must be a non-empty string");
	name = json_string_value(event);
	for (size_t i = 0; i < SG_ARRAY_LEN(reserved); i++)
		if (strcmp(name, reserved[i]) == 0)
			return sg_err_set(err, "'%s' is a reserved event name", reserved[i]);
	nsp = json_object_get(root, "nsp");
	if (nsp != NULL && !json_is_null(nsp) &&
	    (!json_is_string(nsp) || json_string_value(nsp)[0] != '/'))
		return sg_err_set(err, "'nsp' must be a string starting with '/'");
	data = json_object_get(root, "data");
	if (data != NULL && depth_of(data, EMIT_MSG_MAX_DEPTH + 1) > EMIT_MSG_MAX_DEPTH)
		return sg_err_set(err, "'data' is nested deeper than %d", EMIT_MSG_MAX_DEPTH);
	vol = json_object_get(root, "volatile");
	if (vol != NULL && !json_is_null(vol) && !json_is_boolean(vol))
		return sg_err_set(err, "'volatile' must be true or false");
	out->is_volatile = json_is_true(vol);
	ack = json_object_get(root, "ack");
	if ((ack != NULL && !json_is_null(ack) && ack_from_json(ack, out, err) != 0) ||
	    emit_msg_strings(json_object_get(root, "to"), "to", &out->to, err) != 0 ||
	    emit_msg_strings(json_object_get(root, "except"), "except", &out->except, err) != 0) {
		emit_msg_fini(out);
		return -1;
	}
	out->nsp = sg_strdup(json_is_string(nsp) ? json_string_value(nsp) : "/");
	sg_buf_init(&args);
	sg_buf_append_char(&args, '[');
	json_js_string(&args, name, json_string_length(event));
	if (data != NULL) {
		sg_buf_append_char(&args, ',');
		json_js_value(&args, data);
	}
	sg_buf_append_char(&args, ']');
	out->args_len = args.len;
	out->args = sg_buf_steal(&args);
	return 0;
}

void emit_msg_fini(struct emit_msg *m)
{
	free(m->nsp);
	free(m->args);
	free(m->ack_timeout);
	free(m->ack_reply_to);
	free(m->ack_reply_stream);
	free(m->ack_id);
	sg_strv_free(&m->to);
	sg_strv_free(&m->except);
	memset(m, 0, sizeof(*m));
}
