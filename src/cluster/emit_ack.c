/*
 * emit_ack.c: an emit with acknowledgements across the cluster (see
 * emit_ack.h).  One request on worker 0: a gather sends the event to every
 * worker's sockets (each socket's wait posts its answer, or its end, back
 * to worker 0's inbox, found again by requestId: a wait may outlive the
 * request), and a BROADCAST request goes to the other members, whose
 * number PUBSUB NUMSUB counts.  Each socket is one entry, named by its id,
 * in the order it was learnt of: sent (its count came), answered, or gone
 * (closed before answering).  Answers from a socket not yet known as sent
 * are kept too (a count and an ack may arrive in any order).
 */
#include "cluster/emit_ack.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/gather.h"
#include "core/hmap.h"
#include "core/ids.h"
#include "core/inbox.h"
#include "core/json_js.h"
#include "core/log.h"
#include "core/worker.h"
#include "proto/adapter_codec.h"
#include "proto/emit_msg.h"
#include "redis/bridge.h"
#include "sio/broadcast.h"
#include "sio/sio.h"

/* Acks waited for per socket (as for a peer's BROADCAST); past it the
 * oldest wait ends without an answer. */
#define EMIT_ACK_MAX_PER_SOCKET 16
/* The answer's acks take at most this many bytes: past it, an ack is
 * listed with "args": null and the answer says "truncated": true. */
#define EMIT_ACK_MAX_BYTES (8u << 20)
/* Adapter request/response types (cluster.c has the full list). */
#define EMIT_ACK_REQ_BROADCAST 7
#define EMIT_ACK_RES_COUNT 8
#define EMIT_ACK_RES_ACK 9

enum sock_state {
	SOCK_SENT,     /* the event went to it; no answer yet */
	SOCK_ANSWERED, /* its ack is in acks */
	SOCK_GONE,     /* it closed, or its wait was evicted, before answering */
};

struct sock_entry {
	struct sock_entry *next; /* in the order learnt of */
	enum sock_state state;
	bool sent; /* counted as a recipient */
	char id[];
};

struct emit_ack {
	struct emit_ack *next;
	struct worker *w;
	struct event *timer;
	emit_ack_done_fn done;
	void *arg;
	/* what is sent (the gather's parts read it; written before) */
	char *nsp;
	struct sg_strv to, except;
	char *args;
	size_t args_len;
	int64_t deadline_ms;
	/* what came back */
	struct hmap by_id; /* socket id -> struct sock_entry */
	struct sock_entry *first, **last;
	struct sg_buf acks;	     /* {"id","args"} objects, comma-separated */
	unsigned long long sent;     /* recipients named (sids, local sockets) */
	unsigned long long unnamed;  /* recipients of Node peers (a count, no ids) */
	unsigned long long answered; /* acks received, named or not */
	unsigned long long gone;     /* named recipients that closed unanswered */
	long long expected;	     /* counts expected from other members */
	long long counted;	     /* ... received */
	unsigned numsub_pending;
	bool uncounted;		 /* NUMSUB failed: wait for the timeout */
	bool gathering;		 /* the local gather has not come back */
	bool truncated;		 /* an ack's args were left out (EMIT_ACK_MAX_BYTES) */
	bool finished;		 /* answered (freed when nothing refers to it) */
	char rid[SG_ID_LEN + 1]; /* the requestId */
};

/* A socket's wait for its ack, lent to the socket. */
struct local_wait {
	struct sio_ack_wait wait;
	struct worker *home; /* worker 0: where the request lives */
	char rid[SG_ID_LEN + 1];
};

/* An answer (or an end) carried from a socket's worker to worker 0. */
struct answer_job {
	struct job job;
	char *args; /* JSON array text, or NULL: no answer */
	char rid[SG_ID_LEN + 1];
	char sid[SG_ID_LEN + 1];
};

static void finish(struct emit_ack *e);
static void maybe_free(struct emit_ack *e);
static void check_done(struct emit_ack *e);
static struct emit_ack *find(struct worker *w, const char *rid);
static struct sock_entry *entry(struct emit_ack *e, const char *sid, size_t len);
static void record_ack(struct emit_ack *e, const char *sid, size_t sid_len, const char *args,
		       size_t args_len);

int emit_ack_timeout(struct worker *w, const char *text, int64_t *ms, struct sg_err *err)
{
	int64_t max = w->cfg->limits.ack_timeout_max_ms;
	char *end;
	long long n;

	if (text == NULL || text[0] == '\0' || (text[0] == '-')) {
		w->stats.ack_emit_refused++;
		return sg_err_set(err, "the ack timeout must be a duration (5s) or milliseconds");
	}
	n = strtoll(text, &end, 10);
	if (*end == '\0') {
		*ms = n;
	} else if (config_parse_duration(text, ms, err) != 0) {
		w->stats.ack_emit_refused++;
		return -1;
	}
	if (*ms <= 0) {
		w->stats.ack_emit_refused++;
		return sg_err_set(err, "the ack timeout must be more than 0");
	}
	if (*ms > max)
		*ms = max;
	return 0;
}

static struct emit_ack *find(struct worker *w, const char *rid)
{
	for (struct emit_ack *e = w->emit_acks; e; e = e->next)
		if (!e->finished && strcmp(e->rid, rid) == 0)
			return e;
	return NULL;
}

static struct sock_entry *entry(struct emit_ack *e, const char *sid, size_t len)
{
	struct sock_entry *s = hmap_get(&e->by_id, sid, len);

	if (s != NULL)
		return s;
	s = sg_calloc(1, sizeof(*s) + len + 1);
	memcpy(s->id, sid, len);
	s->state = SOCK_SENT;
	*e->last = s;
	e->last = &s->next;
	hmap_put(&e->by_id, s->id, len, s);
	return s;
}

/* A recipient named by a count or the local gather. */
static void record_sent(struct emit_ack *e, const char *sid, size_t len)
{
	struct sock_entry *s = entry(e, sid, len);

	if (!s->sent) {
		s->sent = true;
		e->sent++;
	}
}

/* An ack: of socket sid (NULL: a Node peer's, unnamed), args a JSON array. */
static void record_ack(struct emit_ack *e, const char *sid, size_t sid_len, const char *args,
		       size_t args_len)
{
	struct sock_entry *s = sid ? entry(e, sid, sid_len) : NULL;

	if (s != NULL && s->state != SOCK_SENT)
		return; /* answered already (a duplicate), or counted gone */
	if (s != NULL)
		s->state = SOCK_ANSWERED;
	e->answered++;
	if (e->acks.len > 0)
		sg_buf_append_char(&e->acks, ',');
	sg_buf_append_str(&e->acks, "{\"id\":");
	if (sid != NULL)
		json_js_string(&e->acks, sid, sid_len);
	else
		sg_buf_append_str(&e->acks, "null");
	sg_buf_append_str(&e->acks, ",\"args\":");
	if (e->acks.len + args_len > EMIT_ACK_MAX_BYTES) {
		e->truncated = true;
		sg_buf_append_str(&e->acks, "null");
	} else {
		sg_buf_append(&e->acks, args, args_len);
	}
	sg_buf_append_char(&e->acks, '}');
}

static void record_gone(struct emit_ack *e, const char *sid)
{
	struct sock_entry *s = entry(e, sid, strlen(sid));

	if (s->state == SOCK_SENT) {
		s->state = SOCK_GONE;
		e->gone++;
	}
}

/* Every member counted, every recipient answered or gone. */
static bool complete(const struct emit_ack *e)
{
	return !e->finished && !e->gathering && !e->uncounted && e->numsub_pending == 0 &&
	       e->counted >= e->expected && e->answered + e->gone >= e->sent + e->unnamed;
}

/* Done early when complete. */
static void check_done(struct emit_ack *e)
{
	if (complete(e))
		finish(e);
}

static void finish(struct emit_ack *e)
{
	struct sg_buf out;
	bool first = true;
	unsigned long long unnamed_acks = 0, named_acks = 0;

	if (e->finished)
		return;
	e->finished = true;
	e->w->stats.ack_emit_answered++;
	event_del(e->timer);
	e->w->n_emit_acks--;
	sg_buf_init(&out);
	sg_buf_append_str(&out, "{\"acks\":[");
	sg_buf_append(&out, e->acks.data, e->acks.len);
	sg_buf_append_str(&out, "],\"timeouts\":[");
	for (struct sock_entry *s = e->first; s; s = s->next) {
		if (s->state == SOCK_ANSWERED) {
			named_acks++;
			continue;
		}
		if (!s->sent && s->state != SOCK_GONE)
			continue;
		if (!first)
			sg_buf_append_char(&out, ',');
		first = false;
		json_js_string(&out, s->id, strlen(s->id));
	}
	sg_buf_append_char(&out, ']');
	unnamed_acks = e->answered - named_acks;
	if (e->unnamed > unnamed_acks)
		sg_buf_printf(&out, ",\"unnamed\":%llu", e->unnamed - unnamed_acks);
	if (e->truncated)
		sg_buf_append_str(&out, ",\"truncated\":true");
	sg_buf_append_char(&out, '}');
	e->done(e->w, out.data, out.len, e->arg);
	sg_buf_fini(&out);
	maybe_free(e);
}

static void maybe_free(struct emit_ack *e)
{
	struct emit_ack **pp;
	struct sock_entry *s, *next;

	if (!e->finished || e->gathering || e->numsub_pending > 0)
		return;
	for (pp = &e->w->emit_acks; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	for (s = e->first; s; s = next) {
		next = s->next;
		free(s);
	}
	hmap_fini(&e->by_id);
	event_free(e->timer);
	sg_buf_fini(&e->acks);
	sg_strv_free(&e->to);
	sg_strv_free(&e->except);
	free(e->nsp);
	free(e->args);
	free(e);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	finish(arg);
}

/* ---- this instance's sockets ------------------------------------------ */

static void run_answer(struct worker *w, struct job *j)
{
	struct answer_job *a = (struct answer_job *)j;
	struct emit_ack *e = find(w, a->rid);

	if (e != NULL) {
		if (a->args != NULL)
			record_ack(e, a->sid, strlen(a->sid), a->args, strlen(a->args));
		else
			record_gone(e, a->sid);
		check_done(e);
	}
	free(a->args);
	free(a);
}

/* On the socket's worker: its answer (args), or none (args NULL: closed,
 * late or evicted), goes to worker 0. */
static void on_local_ack(struct sio_ack_wait *wait, struct sio_socket *sock, const json_t *args)
{
	struct local_wait *lw = (struct local_wait *)wait;
	struct answer_job *a = sg_calloc(1, sizeof(*a));
	struct sg_buf text;

	a->job.run = run_answer;
	memcpy(a->rid, lw->rid, sizeof(a->rid));
	snprintf(a->sid, sizeof(a->sid), "%s", sock->id);
	if (args != NULL) {
		sg_buf_init(&text);
		if (json_is_array(args))
			json_js_value(&text, args);
		else
			sg_buf_append_str(&text, "[]");
		a->args = sg_buf_steal(&text);
	}
	inbox_post(lw->home->inbox, &a->job);
	free(lw);
}

static void send_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct emit_ack *e = ctx;
	struct sio_nsp *nsp = sio_nsp_find(w, e->nsp, strlen(e->nsp));
	struct sio_socket **v = NULL;
	size_t n = nsp ? broadcast_select(w, nsp, &e->to, &e->except, true, &v) : 0;

	for (size_t i = 0; i < n; i++) {
		struct sio_socket *s = v[i];
		struct local_wait *lw;
		uint32_t id;
		if (s->closing)
			continue;
		id = s->next_ack_id++;
		sio_socket_send_binary(s, false, id, e->args, e->args_len, NULL, 0);
		lw = sg_calloc(1, sizeof(*lw));
		lw->wait.cb = on_local_ack;
		lw->home = e->w;
		memcpy(lw->rid, e->rid, sizeof(lw->rid));
		sio_socket_wait_ack(s, &lw->wait, id, e->deadline_ms, EMIT_ACK_MAX_PER_SOCKET);
		sg_buf_append_str(out, s->id);
		sg_buf_append_char(out, ',');
	}
	free(v);
}

static void send_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct emit_ack *e = ctx;

	SG_UNUSED(w);
	for (size_t i = 0; i < n; i++) {
		const char *p = parts[i].data, *end = p + parts[i].len, *comma;
		for (; p < end; p = comma + 1) {
			comma = memchr(p, ',', (size_t)(end - p));
			if (comma == NULL)
				break;
			record_sent(e, p, (size_t)(comma - p));
		}
	}
	e->gathering = false;
	if (e->finished)
		maybe_free(e);
	else
		check_done(e);
}

/* ---- the other members ------------------------------------------------- */

static void on_numsub(long long n, void *arg)
{
	struct emit_ack *e = arg;

	e->numsub_pending--;
	if (n > 1)
		e->expected += n - 1; /* every subscriber but this instance */
	else if (n < 0)
		e->uncounted = true;
	if (e->finished)
		maybe_free(e);
	else
		check_done(e);
}

static void publish_request(struct emit_ack *e, int64_t timeout_ms)
{
	struct worker *w = e->w;
	struct sg_buf ch, req;

	sg_buf_init(&ch);
	sg_buf_init(&req);
	sg_buf_printf(&ch, "%s-request#%s#", w->cfg->redis.prefix, e->nsp);
	if (bridge_numsub(w->bridge, ch.data, on_numsub, e) == 0)
		e->numsub_pending++;
	else
		e->uncounted = true;
	sg_buf_printf(&req, "{\"uid\":\"%s\",\"requestId\":\"%s\",\"type\":%d,\"packet\":",
		      bridge_uid(w->bridge), e->rid, EMIT_ACK_REQ_BROADCAST);
	sg_buf_append_str(&req, "{\"type\":2,\"data\":");
	sg_buf_append(&req, e->args, e->args_len);
	sg_buf_append_str(&req, ",\"nsp\":");
	json_js_string(&req, e->nsp, strlen(e->nsp));
	sg_buf_append_str(&req, "},\"opts\":{\"rooms\":");
	json_js_strv(&req, &e->to);
	sg_buf_append_str(&req, ",\"except\":");
	json_js_strv(&req, &e->except);
	sg_buf_printf(&req, ",\"flags\":{\"timeout\":%lld}}}", (long long)timeout_ms);
	if (bridge_publish(w->bridge, ch.data, req.data, req.len) != 0)
		e->uncounted = true; /* nobody will answer: wait out the timeout */
	sg_buf_fini(&ch);
	sg_buf_fini(&req);
}

int emit_ack_start(struct worker *w, const struct emit_msg *m, int64_t timeout_ms,
		   emit_ack_done_fn done, void *arg, struct sg_err *err)
{
	struct emit_ack *e;
	struct timeval tv;

	if (w->n_emit_acks >= w->cfg->limits.ack_requests) {
		w->stats.ack_emit_refused++;
		return sg_err_set(err, "%zu emits with acks wait already (limits.ack_requests)",
				  w->n_emit_acks);
	}
	e = sg_calloc(1, sizeof(*e));
	e->w = w;
	e->done = done;
	e->arg = arg;
	e->nsp = sg_strdup(m->nsp);
	sg_strv_copy(&e->to, &m->to);
	sg_strv_copy(&e->except, &m->except);
	e->args = sg_strndup(m->args, m->args_len);
	e->args_len = m->args_len;
	e->deadline_ms = sg_mono_ms() + timeout_ms;
	hmap_init(&e->by_id);
	e->last = &e->first;
	sg_buf_init(&e->acks);
	sg_id_new(e->rid, w->index, &w->id_counter);
	e->timer = event_new(w->base, -1, 0, on_timeout, e);
	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	event_add(e->timer, &tv);
	e->next = w->emit_acks;
	w->emit_acks = e;
	w->n_emit_acks++;
	e->gathering = true;
	/* held while asking, so that the answer never comes inside this call:
	 * complete at once (nobody to ask), it comes on the next turn */
	e->numsub_pending++;
	if (w->bridge != NULL)
		publish_request(e, timeout_ms);
	gather(w, -1, send_part, send_done, e);
	e->numsub_pending--;
	if (complete(e))
		event_active(e->timer, EV_TIMEOUT, 0);
	return 0;
}

/* A BROADCAST_CLIENT_COUNT: its "sids" (siogate members) name the
 * recipients; without them (a Node peer) they are only counted. */
static void on_count(struct emit_ack *e, const json_t *doc)
{
	const json_t *count = json_object_get(doc, "clientCount");
	const json_t *sids = json_object_get(doc, "sids");
	const json_t *v;
	size_t i;

	if (!json_is_integer(count) || json_integer_value(count) < 0)
		return;
	e->counted++;
	if (json_is_array(sids)) {
		json_array_foreach(sids, i, v)
		{
			if (json_is_string(v) && json_string_length(v) > 0)
				record_sent(e, json_string_value(v), json_string_length(v));
		}
	} else {
		e->unnamed += (unsigned long long)json_integer_value(count);
	}
}

/* A BROADCAST_ACK: siogate members add "sid" and the whole "args"; a Node
 * peer's has its client's first argument as "packet". */
static void on_ack(struct emit_ack *e, const json_t *doc)
{
	const json_t *sid = json_object_get(doc, "sid");
	const json_t *args = json_object_get(doc, "args");
	const json_t *packet = json_object_get(doc, "packet");
	struct sg_buf text;

	sg_buf_init(&text);
	if (json_is_array(args)) {
		json_js_value(&text, args);
	} else {
		sg_buf_append_char(&text, '[');
		if (packet != NULL)
			json_js_value(&text, packet);
		sg_buf_append_char(&text, ']');
	}
	if (json_is_string(sid) && json_string_length(sid) > 0)
		record_ack(e, json_string_value(sid), json_string_length(sid), text.data, text.len);
	else
		record_ack(e, NULL, 0, text.data, text.len);
	sg_buf_fini(&text);
}

bool emit_ack_on_response(struct worker *w, const char *payload, size_t len)
{
	struct sg_buf text;
	struct sg_err err = { 0 };
	struct adapter_attachment *att = NULL;
	size_t n_att = 0;
	json_t *doc = NULL, *rid, *type;
	struct emit_ack *e = NULL;

	if (w->emit_acks == NULL || len == 0)
		return false;
	sg_buf_init(&text);
	if (payload[0] == '{')
		doc = json_loadb(payload, len, 0, NULL);
	else if (adapter_codec_msgpack_to_json(payload, len, 0, &text, &att, &n_att, &err) == 0)
		doc = json_loadb(text.data, text.len, 0, NULL);
	adapter_codec_attachments_free(att, n_att);
	sg_buf_fini(&text);
	rid = json_object_get(doc, "requestId");
	type = json_object_get(doc, "type");
	if (json_is_string(rid) && json_is_integer(type))
		e = find(w, json_string_value(rid));
	if (e != NULL && json_integer_value(type) == EMIT_ACK_RES_COUNT)
		on_count(e, doc);
	else if (e != NULL && json_integer_value(type) == EMIT_ACK_RES_ACK)
		on_ack(e, doc);
	else
		e = NULL;
	json_decref(doc);
	if (e != NULL)
		check_done(e);
	return e != NULL;
}

void emit_ack_fini(struct worker *w)
{
	struct emit_ack *e;

	/* finish may free e: look again from the head each time; what is
	 * still referred to (a gather, a NUMSUB) is freed when it comes back */
	for (;;) {
		for (e = w->emit_acks; e != NULL && e->finished; e = e->next)
			;
		if (e == NULL)
			break;
		finish(e);
	}
}

/* ---- the JSON channel --------------------------------------------------- */

struct channel_req {
	char *reply_to;	    /* PUBLISH there, or */
	char *reply_stream; /* XADD there */
	char *id;	    /* the backend's correlation id, or NULL */
};

/* The answer (json, a JSON object) goes to the request's channel or
 * stream, with its id when it had one. */
static void on_channel_done(struct worker *w, const char *json, size_t len, void *arg)
{
	struct channel_req *c = arg;
	const char *where = c->reply_to ? c->reply_to : c->reply_stream;
	struct sg_buf b;
	bool sent = false;

	sg_buf_init(&b);
	if (c->id != NULL) {
		sg_buf_append_str(&b, "{\"id\":");
		json_js_string(&b, c->id, strlen(c->id));
		if (len > 2)
			sg_buf_append_char(&b, ',');
		sg_buf_append(&b, json + 1, len - 1);
	} else {
		sg_buf_append(&b, json, len);
	}
	if (w->bridge != NULL && c->reply_to != NULL) {
		sent = bridge_publish(w->bridge, c->reply_to, b.data, b.len) == 0;
	} else if (w->bridge != NULL) {
		static const char *const fields[] = { "answer" };
		const char *values[] = { b.data };
		size_t lens[] = { b.len };
		sent = bridge_xadd(w->bridge, c->reply_stream, w->cfg->events.stream_maxlen, fields,
				   values, lens, 1, NULL, NULL, NULL) == 0;
	}
	if (!sent)
		log_limited(&w->limit_ack_emit, SG_LOG_WARN, NULL,
			    "json channel: the answer of an emit with acks could not be sent to %s",
			    where);
	sg_buf_fini(&b);
	free(c->reply_to);
	free(c->reply_stream);
	free(c->id);
	free(c);
}

void emit_ack_from_channel(struct worker *w, const struct emit_msg *m)
{
	struct sg_err err = { 0 };
	struct channel_req *c;
	int64_t ms;
	struct sg_buf b;

	if (m->ack_reply_to == NULL && m->ack_reply_stream == NULL) {
		log_limited(&w->limit_ack_emit, SG_LOG_WARN, NULL,
			    "json channel: an emit with \"ack\" but neither \"ack.reply_to\" nor "
			    "\"ack.reply_stream\" was ignored");
		return;
	}
	c = sg_calloc(1, sizeof(*c));
	c->reply_to = m->ack_reply_to ? sg_strdup(m->ack_reply_to) : NULL;
	c->reply_stream = m->ack_reply_stream ? sg_strdup(m->ack_reply_stream) : NULL;
	c->id = m->ack_id ? sg_strdup(m->ack_id) : NULL;
	if (emit_ack_timeout(w, m->ack_timeout, &ms, &err) == 0 &&
	    emit_ack_start(w, m, ms, on_channel_done, c, &err) == 0)
		return;
	/* a backend repeating it cannot flood the log: it hears why */
	log_limited(&w->limit_ack_emit, SG_LOG_WARN, NULL,
		    "json channel: an emit with acks refused: %s", err.msg);
	sg_buf_init(&b);
	sg_buf_append_str(&b, "{\"error\":");
	json_js_string(&b, err.msg, strlen(err.msg));
	sg_buf_append_char(&b, '}');
	on_channel_done(w, b.data, b.len, c);
	sg_buf_fini(&b);
}
