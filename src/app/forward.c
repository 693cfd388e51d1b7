/*
 * forward.c: events.forward (see forward.h).  An answer may come after the
 * socket is gone: the pending call keeps the socket's id and namespace, not
 * a pointer, and looks the socket up again when the answer arrives.
 * Invariant: w->forward_pending is the sum of the bytes of the pending
 * calls not finished yet, and never passes events.max_pending: an event
 * that would pass it is refused at once (finish(), FWD_OVERLOADED).
 */
#include "app/forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/authflow_socket.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/json_js.h"
#include "core/log.h"
#include "core/worker.h"
#include "net/http_client.h"
#include "proto/room_rules.h"
#include "proto/sio_packet.h"
#include "redis/bridge.h"
#include "sio/sio.h"

#define FORWARD_MAX_RESPONSE (256 * 1024)
/* What a forwarded event is charged besides its data and names: the other
 * fields, the XADD or the request head, this file's and the HTTP client's
 * bookkeeping. */
#define FORWARD_OVERHEAD 512

/* How a forwarded event ended; the ack's "reason" for the errors. */
enum forward_outcome {
	FWD_OK,		 /* the target took it */
	FWD_OVERLOADED,	 /* refused at once: events.max_pending or redis.max_pending reached */
	FWD_UNAVAILABLE, /* the target could not be reached (Redis down, connection refused) */
	FWD_FAILED,	 /* the target failed it (error answer, timeout, link lost meanwhile) */
};

/* the ack's "reason", and how siogate_events_forward_total counts it (a
 * failure that is a timeout counts as one) */
static const char *const outcome_reasons[] = { "ok", "overloaded", "unavailable", "failed" };
static const enum callout_outcome callout_of[] = { CALLOUT_OK, CALLOUT_OVERLOADED,
						   CALLOUT_UNAVAILABLE, CALLOUT_ERROR };

/* A forwarded event waiting for its target's answer. */
struct pending {
	struct worker *w;
	size_t bytes;	    /* charged to w->forward_pending (0: not yet) */
	int64_t ack_id;	    /* -1: the client wants no ack */
	int64_t started_ns; /* when it was sent (siogate_events_forward_seconds) */
	uint8_t target;	    /* enum forward_target, for siogate_events_forward_* */
	bool timed_out;	    /* the HTTP target did not answer in time */
	char *request_id;   /* a peer's serverSideEmit waiting for the answer (owned), or NULL */
	char nsp[64];
	char id[SG_ID_LEN + 1];
};

static void build_data(struct sg_buf *out, const json_t *args);
static const struct sg_forward_rule *find_rule(const struct sg_config *cfg, const char *name);
static void forward_to(struct worker *w, const struct sg_forward_rule *rule, struct pending *pd,
		       const char *id, const char *user, const char *nsp, const char *name,
		       const char *data, size_t data_len);
static struct pending *pending_new(struct sio_socket *sock, int64_t ack_id);
static struct sio_socket *pending_socket(const struct pending *pd);
static void on_xadd(const char *entry_id, void *arg);
static void on_http(enum http_client_error e, const struct http_client_response *resp, void *arg);
static void ack_json(struct pending *pd, const char *json, size_t len);
static void finish(struct pending *pd, enum forward_outcome o, const char *json, size_t len);
static bool charge(struct pending *pd, size_t bytes);

/* The event's argument as JSON: the one argument, an array of them when the
 * client sent several, null for none. */
static void build_data(struct sg_buf *out, const json_t *args)
{
	size_t n = json_array_size(args);

	if (n <= 1) {
		sg_buf_append_str(out, "null");
	} else if (n == 2) {
		json_js_value(out, json_array_get(args, 1));
	} else {
		sg_buf_append_char(out, '[');
		for (size_t i = 1; i < n; i++) {
			if (i > 1)
				sg_buf_append_char(out, ',');
			json_js_value(out, json_array_get(args, i));
		}
		sg_buf_append_char(out, ']');
	}
}

static struct pending *pending_new(struct sio_socket *sock, int64_t ack_id)
{
	struct pending *pd = sg_calloc(1, sizeof(*pd));

	pd->w = sock->nsp->w;
	pd->ack_id = ack_id;
	snprintf(pd->nsp, sizeof(pd->nsp), "%s", sock->nsp->name);
	memcpy(pd->id, sock->id, sizeof(pd->id));
	return pd;
}

static struct sio_socket *pending_socket(const struct pending *pd)
{
	struct sio_nsp *nsp = sio_nsp_find(pd->w, pd->nsp, strlen(pd->nsp));
	struct sio_socket *s = nsp ? sio_nsp_socket(nsp, pd->id, SG_ID_LEN) : NULL;

	return s && !s->closing ? s : NULL;
}

static void ack_json(struct pending *pd, const char *json, size_t len)
{
	struct sio_socket *s;
	struct sg_buf b;

	if (pd->request_id != NULL) {
		/* SERVER_SIDE_EMIT_RESPONSE for the peer that asked */
		struct sg_buf ch;
		if (pd->w->bridge == NULL)
			return;
		sg_buf_init(&ch);
		sg_buf_init(&b);
		sg_buf_printf(&ch, "%s-response#%s#", pd->w->cfg->redis.prefix, pd->nsp);
		sg_buf_append_str(&b, "{\"type\":6,\"requestId\":");
		json_js_string(&b, pd->request_id, strlen(pd->request_id));
		sg_buf_append_str(&b, ",\"data\":");
		sg_buf_append(&b, json, len);
		sg_buf_append_char(&b, '}');
		(void)bridge_publish(pd->w->bridge, ch.data, b.data, b.len);
		sg_buf_fini(&ch);
		sg_buf_fini(&b);
		return;
	}
	if (pd->ack_id < 0 || (s = pending_socket(pd)) == NULL)
		return;
	sg_buf_init(&b);
	sg_buf_append_char(&b, '[');
	sg_buf_append(&b, json, len);
	sg_buf_append_char(&b, ']');
	sio_socket_send_ack(s, pd->ack_id, b.data, b.len);
	sg_buf_fini(&b);
}

/* Charges bytes to the worker's forwarded events; false (nothing charged)
 * when that would pass events.max_pending. */
static bool charge(struct pending *pd, size_t bytes)
{
	struct worker *w = pd->w;

	if (w->forward_pending + bytes > w->cfg->events.max_pending) {
		if (!w->forward_full) {
			w->forward_full = true;
			log_warn("events.forward: %llu bytes of events wait for their targets "
				 "(events.max_pending %llu): refusing events until they answer",
				 (unsigned long long)w->forward_pending,
				 (unsigned long long)w->cfg->events.max_pending);
		}
		return false;
	}
	if (w->forward_full) {
		w->forward_full = false;
		log_info("events.forward: below events.max_pending again");
	}
	pd->bytes = bytes;
	w->forward_pending += bytes;
	return true;
}

/* Ends a forwarded event: releases its bytes, counts the outcome, acks
 * json (FWD_OK) or the error object, and frees pd. */
static void finish(struct pending *pd, enum forward_outcome o, const char *json, size_t len)
{
	struct worker *w = pd->w;
	struct sg_buf b;

	w->forward_pending -= pd->bytes;
	callout_record(&w->stats.forward[pd->target],
		       pd->timed_out ? CALLOUT_TIMEOUT : callout_of[o], pd->started_ns);
	if (o == FWD_OK) {
		ack_json(pd, json, len);
	} else {
		sg_buf_init(&b);
		sg_buf_printf(&b,
			      "{\"error\":\"the event could not be forwarded\",\"reason\":\"%s\"}",
			      outcome_reasons[o]);
		ack_json(pd, b.data, b.len);
		sg_buf_fini(&b);
	}
	free(pd->request_id);
	free(pd);
}

static void on_xadd(const char *entry_id, void *arg)
{
	struct pending *pd = arg;
	struct sg_buf b;

	if (entry_id == NULL) {
		finish(pd, FWD_FAILED, NULL, 0);
		return;
	}
	sg_buf_init(&b);
	sg_buf_append_str(&b, "{\"id\":");
	json_js_string(&b, entry_id, strlen(entry_id));
	sg_buf_append_char(&b, '}');
	finish(pd, FWD_OK, b.data, b.len);
	sg_buf_fini(&b);
}

static void on_http(enum http_client_error e, const struct http_client_response *resp, void *arg)
{
	struct pending *pd = arg;
	json_t *doc = NULL;

	pd->timed_out = e == HC_TIMEOUT;
	if (e == HC_OK && resp->status >= 200 && resp->status < 300 &&
	    (resp->body_len == 0 ||
	     (doc = json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY, NULL)) != NULL)) {
		struct sg_buf b;
		sg_buf_init(&b);
		if (doc)
			json_js_value(&b, doc);
		else
			sg_buf_append_str(&b, "null");
		finish(pd, FWD_OK, b.data, b.len);
		sg_buf_fini(&b);
	} else if (e == HC_OVERLOADED) {
		finish(pd, FWD_OVERLOADED, NULL, 0);
	} else {
		/* a backend that is down fails every event: one line per
		 * LOG_LIMIT_MS, the outcomes are in /metrics */
		log_limited(&pd->w->limit_forward, SG_LOG_WARN, NULL,
			    "events.forward: the backend failed: %s",
			    e != HC_OK ? http_client_error_str(e) : "a non-2xx or non-JSON answer");
		finish(pd, e == HC_CONNECT || e == HC_TLS ? FWD_UNAVAILABLE : FWD_FAILED, NULL, 0);
	}
	json_decref(doc);
}

/* Sends one event to the rule's target; pd (owned) says whom the answer
 * goes to. */
static void forward_to(struct worker *w, const struct sg_forward_rule *rule, struct pending *pd,
		       const char *id, const char *user, const char *nsp, const char *name,
		       const char *data, size_t data_len)
{
	const struct sg_config *cfg = w->cfg;
	char when[32];

	pd->target = rule->stream != NULL ? FORWARD_STREAM : FORWARD_HTTP;
	if (!charge(pd, data_len + strlen(id) + strlen(user) + strlen(nsp) + strlen(name) +
				strlen(cfg->server.id) + FORWARD_OVERHEAD)) {
		finish(pd, FWD_OVERLOADED, NULL, 0);
		return;
	}
	sg_time_iso(when, sg_now_ms());
	pd->started_ns = sg_mono_ns();
	if (rule->stream != NULL) {
		const char *fields[] = { "id", "user", "event", "data", "time", "server" };
		const char *values[] = { id, user, name, data, when, cfg->server.id };
		size_t lens[] = { strlen(id), strlen(user), strlen(name),
				  data_len,   strlen(when), strlen(cfg->server.id) };
		enum bridge_drop why = BRIDGE_DROP_DOWN;
		if (w->bridge == NULL ||
		    bridge_xadd(w->bridge, rule->stream, cfg->events.stream_maxlen, fields, values,
				lens, SG_ARRAY_LEN(fields), on_xadd, pd, &why) != 0)
			finish(pd, why == BRIDGE_DROP_PENDING ? FWD_OVERLOADED : FWD_UNAVAILABLE,
			       NULL, 0);
		return;
	}
	if (w->forward_http == NULL) {
		struct http_client_opts opts = {
			.max_in_flight = w->cfg->events.max_in_flight,
			.max_queued = 100000,
			.max_idle_per_host = w->cfg->events.max_in_flight,
			.idle_timeout_ms = 30000,
			.max_response_bytes = FORWARD_MAX_RESPONSE,
		};
		struct sg_err err = { 0 };
		w->forward_http = http_client_new(w->base, &opts, &err);
		if (w->forward_http == NULL) {
			log_error("events.forward: %s", err.msg);
			on_http(HC_CONNECT, NULL, pd);
			return;
		}
	}
	{
		struct sg_buf body;
		sg_buf_init(&body);
		sg_buf_append_str(&body, "{\"id\":");
		json_js_string(&body, id, strlen(id));
		sg_buf_append_str(&body, ",\"nsp\":");
		json_js_string(&body, nsp, strlen(nsp));
		sg_buf_append_str(&body, ",\"user\":");
		json_js_string(&body, user, strlen(user));
		sg_buf_append_str(&body, ",\"event\":");
		json_js_string(&body, name, strlen(name));
		sg_buf_append_str(&body, ",\"data\":");
		sg_buf_append(&body, data, data_len);
		sg_buf_printf(&body, ",\"ack\":%s,\"time\":\"%s\",\"server\":",
			      pd->ack_id >= 0 || pd->request_id ? "true" : "false", when);
		json_js_string(&body, cfg->server.id, strlen(cfg->server.id));
		if (pd->request_id != NULL)
			sg_buf_append_str(&body, ",\"from\":\"server\"");
		sg_buf_append_char(&body, '}');
		(void)http_client_request(w->forward_http, "POST", rule->http, NULL,
					  "application/json", body.data, body.len, rule->timeout_ms,
					  on_http, pd);
		sg_buf_fini(&body);
	}
}

static const struct sg_forward_rule *find_rule(const struct sg_config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->events.n_forward; i++)
		if (room_rule_match(cfg->events.forward[i].match, name, NULL))
			return &cfg->events.forward[i];
	return NULL;
}

bool forward_event(struct sio_socket *sock, const struct sio_packet *p)
{
	struct worker *w = sock->nsp->w;
	const char *name = sio_event_name(p);
	const struct sg_forward_rule *rule = find_rule(w->cfg, name);
	const char *user = authflow_user(sock) ? authflow_user(sock) : "";
	struct sg_buf data;

	if (rule == NULL)
		return false;
	sg_buf_init(&data);
	build_data(&data, p->data);
	forward_to(w, rule, pending_new(sock, p->id), sock->id, user, sock->nsp->name, name,
		   data.data, data.len);
	sg_buf_fini(&data);
	return true;
}

bool forward_server_event(struct worker *w, const char *nsp, const json_t *args,
			  const char *request_id, const char *from_uid)
{
	json_t *first = json_array_get(args, 0);
	const char *name = json_is_string(first) ? json_string_value(first) : NULL;
	const struct sg_forward_rule *rule = find_rule(w->cfg, name);
	struct pending *pd;
	struct sg_buf data;

	if (rule == NULL)
		return false;
	pd = sg_calloc(1, sizeof(*pd));
	pd->w = w;
	pd->ack_id = -1;
	pd->request_id = request_id && request_id[0] ? sg_strdup(request_id) : NULL;
	snprintf(pd->nsp, sizeof(pd->nsp), "%s", nsp);
	sg_buf_init(&data);
	build_data(&data, args);
	forward_to(w, rule, pd, from_uid, "", nsp, name, data.data, data.len);
	sg_buf_fini(&data);
	return true;
}

void forward_fini(struct worker *w)
{
	http_client_free(w->forward_http);
	w->forward_http = NULL;
}
