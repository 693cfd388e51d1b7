/*
 * cluster.c: the request/response half of the Socket.IO Redis adapter
 * protocol, and broadcasts out (see cluster.h).  Every request type a Node
 * peer waits on gets its answer (even an empty one): NUMSUB counts siogate
 * as a server, and an unanswered request makes the peer fail after its 5 s
 * requestsTimeout.  Requests are decoded leniently (key order, missing
 * except, legacy forms).  Invariant: a socket's pending acks are freed with
 * the socket and never outlive their deadline by more than one lookup.
 */
#include "cluster/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "app/authflow_socket.h"
#include "app/forward.h"
#include "app/ihandshake.h"
#include "app/lifecycle.h"
#include "cluster/chanop.h"
#include "cluster/emit_ack.h"
#include "cluster/users.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/gather.h"
#include "core/json_js.h"
#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"
#include "proto/adapter_codec.h"
#include "proto/emit_msg.h"
#include "proto/sio_packet.h"
#include "proto/ws_frame.h"
#include "redis/bridge.h"
#include "sio/broadcast.h"
#include "sio/rooms.h"
#include "sio/sio.h"

/* Request and response types of @socket.io/redis-adapter 8. */
enum cluster_type {
	REQ_SOCKETS = 0,		/* ids of matching sockets */
	REQ_ALL_ROOMS = 1,		/* every room, socket ids included */
	REQ_REMOTE_JOIN = 2,		/* matching sockets join rooms */
	REQ_REMOTE_LEAVE = 3,		/* matching sockets leave rooms */
	REQ_REMOTE_DISCONNECT = 4,	/* matching sockets are disconnected */
	REQ_REMOTE_FETCH = 5,		/* descriptions of matching sockets */
	REQ_SERVER_SIDE_EMIT = 6,	/* an event for the servers themselves */
	REQ_BROADCAST = 7,		/* a broadcast whose client acks are wanted */
	RES_BROADCAST_CLIENT_COUNT = 8, /* how many clients got it */
	RES_BROADCAST_ACK = 9,		/* one client's ack */
	REQ_SIOGATE_USER = 100,		/* CLUSTER_USER_TYPE: how many sockets a user has */
};

/* The type of siogate's own request (a string, so no adapter type can ever
 * be mistaken for it; Node peers ignore a type they do not know): a user's
 * sockets, answered by siogate instances only. */
#define CLUSTER_USER_TYPE "siogate:user"
/* A requester's uid names its response channel: longer ones are refused. */
#define CLUSTER_UID_MAX 64

/* Pending acks per socket are few; past this the oldest is dropped. */
#define CLUSTER_MAX_ACKS_PER_SOCKET 16
#define CLUSTER_DEFAULT_ACK_TIMEOUT_MS 5000
#define CLUSTER_MAX_ATTACHMENTS 10

/* A BROADCAST with an ack from a peer, waiting for one client's ACK. */
struct cluster_ack {
	struct sio_ack_wait wait; /* lent to the socket until on_client_ack */
	char nsp_request[];	  /* "<requestId>" */
};

struct request {
	struct worker *w;
	struct bridge *b;
	struct sio_nsp *nsp;
	json_t *msg;
	struct sg_strv rooms, except; /* opts */
	const char *request_id;
	struct sg_buf out; /* JSON being built by the per-socket callback */
	size_t count;
	json_t *arg; /* REMOTE_JOIN/LEAVE rooms */
	bool close;
	struct adapter_attachment *att;
	size_t n_att;
	int64_t timeout_ms;
	/* BROADCAST: the packet's data and attachments, prepared once for every
	 * recipient */
	struct sg_buf args;
	struct sio_attachment satt[CLUSTER_MAX_ATTACHMENTS];
	size_t request_id_len;
	const char *user; /* REQ_SIOGATE_USER: the sub asked about */
	const char *uid;  /* REQ_SIOGATE_USER: the requester, whose channel answers */
};

static void respond(struct request *r, const char *json, size_t len);
static void respond_to(struct request *r, const char *uid, const char *json, size_t len);
static void read_opts(struct request *r, json_t *opts);
static void strv_from_json(struct sg_strv *sv, json_t *v);
static void each_socket(struct request *r, bool authenticated_only,
			void (*fn)(struct request *r, struct sio_socket *s));
static void add_id(struct request *r, struct sio_socket *s);
static void add_description(struct request *r, struct sio_socket *s);
static void do_join(struct request *r, struct sio_socket *s);
static void do_leave(struct request *r, struct sio_socket *s);
static void do_disconnect(struct request *r, struct sio_socket *s);
static void do_broadcast(struct request *r, struct sio_socket *s);
static void on_client_ack(struct sio_ack_wait *wait, struct sio_socket *sock, const json_t *args);
static void response_channel(struct sg_buf *ch, const struct worker *w, const struct sio_nsp *nsp);

static void response_channel(struct sg_buf *ch, const struct worker *w, const struct sio_nsp *nsp)
{
	sg_buf_printf(ch, "%s-response#%s#", w->cfg->redis.prefix, nsp->name);
}

static void respond(struct request *r, const char *json, size_t len)
{
	respond_to(r, NULL, json, len);
}

/* On the response channel of the requester uid (NULL: the shared one). */
static void respond_to(struct request *r, const char *uid, const char *json, size_t len)
{
	struct sg_buf ch;

	sg_buf_init(&ch);
	response_channel(&ch, r->w, r->nsp);
	if (uid != NULL)
		sg_buf_printf(&ch, "%s#", uid);
	(void)bridge_publish(r->b, ch.data, json, len);
	sg_buf_fini(&ch);
}

static void strv_from_json(struct sg_strv *sv, json_t *v)
{
	size_t i;
	json_t *item;
	char num[32];

	if (json_is_string(v)) {
		sg_strv_push(sv, json_string_value(v));
		return;
	}
	json_array_foreach(v, i, item)
	{
		if (json_is_string(item)) {
			sg_strv_push(sv, json_string_value(item));
		} else if (json_is_integer(item)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(item));
			sg_strv_push(sv, num);
		}
	}
}

static void read_opts(struct request *r, json_t *opts)
{
	json_t *flags = json_object_get(opts, "flags");
	json_t *timeout = json_is_object(flags) ? json_object_get(flags, "timeout") : NULL;

	strv_from_json(&r->rooms, json_object_get(opts, "rooms"));
	strv_from_json(&r->except, json_object_get(opts, "except"));
	r->timeout_ms = json_is_number(timeout) ? (int64_t)json_number_value(timeout)
						: CLUSTER_DEFAULT_ACK_TIMEOUT_MS;
}

/* Calls fn for every socket selected by r->rooms/r->except, each once. */
static void each_socket(struct request *r, bool authenticated_only,
			void (*fn)(struct request *r, struct sio_socket *s))
{
	struct sio_socket **v;
	size_t n = broadcast_select(r->w, r->nsp, &r->rooms, &r->except, authenticated_only, &v);

	for (size_t i = 0; i < n; i++)
		if (!v[i]->closing) /* fn may have closed it with an earlier one */
			fn(r, v[i]);
	free(v);
}

static void add_id(struct request *r, struct sio_socket *s)
{
	sg_buf_printf(&r->out, "%s\"%s\"", r->count++ ? "," : "", s->id);
}

static void add_description(struct request *r, struct sio_socket *s)
{
	const char *user = authflow_user(s);

	sg_buf_printf(&r->out, "%s{\"id\":\"%s\",\"handshake\":", r->count++ ? "," : "", s->id);
	ihandshake_json(&r->out, s, NULL);
	sg_buf_append_str(&r->out, ",\"rooms\":");
	room_set_json(&s->rooms, s->id, &r->out);
	sg_buf_printf(&r->out, ",\"data\":{\"state\":\"%s\",\"user\":",
		      authflow_state_name((enum authflow_state)authflow_of(s)->state));
	json_js_string_or_null(&r->out, user);
	sg_buf_append_str(&r->out, ",\"claims\":");
	if (authflow_of(s)->claims)
		json_js_value(&r->out, authflow_of(s)->claims);
	else
		sg_buf_append_str(&r->out, "null");
	sg_buf_append_str(&r->out, "}}");
}

static void do_join(struct request *r, struct sio_socket *s)
{
	struct sg_strv joined = { 0 };
	struct sg_strv names = { 0 };

	strv_from_json(&names, r->arg);
	for (size_t i = 0; i < names.n; i++)
		if (strcmp(names.v[i], s->id) != 0 &&
		    rooms_join(&s->nsp->rooms, s, &s->rooms, names.v[i]) == 1)
			sg_strv_push(&joined, names.v[i]);
	if (joined.n)
		lifecycle_publish(s, LIFECYCLE_JOINED, &joined, NULL);
	sg_strv_free(&joined);
	sg_strv_free(&names);
}

static void do_leave(struct request *r, struct sio_socket *s)
{
	struct sg_strv left = { 0 };
	struct sg_strv names = { 0 };

	strv_from_json(&names, r->arg);
	for (size_t i = 0; i < names.n; i++)
		if (rooms_leave(&s->nsp->rooms, s, &s->rooms, names.v[i]) == 1)
			sg_strv_push(&left, names.v[i]);
	if (left.n)
		lifecycle_publish(s, LIFECYCLE_LEFT, &left, NULL);
	sg_strv_free(&left);
	sg_strv_free(&names);
}

static void do_disconnect(struct request *r, struct sio_socket *s)
{
	SG_UNUSED(r);
	authflow_log(SG_LOG_DEBUG, s, NULL, "disconnected by a cluster request");
	sio_socket_disconnect(s, SG_CLOSE_FORCED);
}

static void do_broadcast(struct request *r, struct sio_socket *s)
{
	size_t rl = r->request_id_len;
	uint32_t id = s->next_ack_id++;
	struct cluster_ack *a;

	sio_socket_send_binary(s, false, id, r->args.data, r->args.len, r->satt, r->n_att);
	/* remember which request this ack answers (bounded per socket) */
	a = sg_malloc(sizeof(*a) + rl + 1);
	a->wait.cb = on_client_ack;
	memcpy(a->nsp_request, r->request_id, rl + 1);
	sio_socket_wait_ack(s, &a->wait, id, sg_mono_ms() + r->timeout_ms,
			    CLUSTER_MAX_ACKS_PER_SOCKET);
	/* the recipients' ids, for a siogate requester (emit_ack.h) */
	sg_buf_printf(&r->out, "%s\"%s\"", r->count++ ? "," : "", s->id);
}

/* A client answered a peer's BROADCAST with an ack (args), or will not
 * (args NULL): the answer goes back to the peer's response channel. */
static void on_client_ack(struct sio_ack_wait *wait, struct sio_socket *sock, const json_t *args)
{
	struct cluster_ack *a = (struct cluster_ack *)wait;
	struct worker *w = sock->nsp->w;
	struct sg_buf json, mp, ch;
	struct sg_err err = { 0 };

	if (args == NULL || w->bridge == NULL) {
		free(a);
		return; /* too late (the peer has given up), or the socket is gone */
	}
	sg_buf_init(&json);
	sg_buf_init(&mp);
	sg_buf_init(&ch);
	sg_buf_append_str(&json, "{\"type\":9,\"requestId\":");
	json_js_string(&json, a->nsp_request, strlen(a->nsp_request));
	sg_buf_append_str(&json, ",\"packet\":");
	if (json_is_array(args) && json_array_size(args) > 0)
		json_js_value(&json, json_array_get(args, 0));
	else
		sg_buf_append_str(&json, "null");
	/* for a siogate requester, which names who answered what (a Node
	 * requester reads packet only) */
	sg_buf_printf(&json, ",\"sid\":\"%s\",\"args\":", sock->id);
	if (json_is_array(args))
		json_js_value(&json, args);
	else
		sg_buf_append_str(&json, "[]");
	sg_buf_append_char(&json, '}');
	/* BROADCAST_ACK travels as msgpack (placeholders stay as they are) */
	if (adapter_codec_json_to_msgpack(&mp, json.data, json.len, NULL, 0, &err) == 0) {
		response_channel(&ch, w, sock->nsp);
		(void)bridge_publish(w->bridge, ch.data, mp.data, mp.len);
	} else {
		log_warn("cluster: cannot encode an ack of socket %s: %s", sock->id, err.msg);
	}
	sg_buf_fini(&json);
	sg_buf_fini(&mp);
	sg_buf_fini(&ch);
	free(a);
}

/* A worker's rooms and socket ids (allRooms counts every socket's own room). */
static void room_names(struct request *r)
{
	const struct hmap_entry *e;
	bool first = true;

	if (r->nsp == NULL)
		return;
	for (size_t it = 0; hmap_next(&r->nsp->rooms.by_name, &it, &e);) {
		const struct room *room = e->value;
		if (!first)
			sg_buf_append_char(&r->out, ',');
		first = false;
		json_js_string(&r->out, room->name, room->name_len);
	}
	for (struct sio_socket *s = r->nsp->all; s; s = s->next) {
		sg_buf_printf(&r->out, "%s\"%s\"", first ? "" : ",", s->id);
		first = false;
	}
}

/* The pre-8 forms {sid, room | close, requestId}: one socket by id; out
 * says whether this worker had it. */
static void legacy_apply(struct request *r, int type)
{
	json_t *sid = json_object_get(r->msg, "sid");
	json_t *room = json_object_get(r->msg, "room");
	struct sio_socket *s =
		json_is_string(sid) && r->nsp != NULL
			? sio_nsp_socket(r->nsp, json_string_value(sid), json_string_length(sid))
			: NULL;

	if (s == NULL)
		return;
	if (json_is_string(room) && type == REQ_REMOTE_JOIN)
		(void)rooms_join(&r->nsp->rooms, s, &s->rooms, json_string_value(room));
	else if (json_is_string(room) && type == REQ_REMOTE_LEAVE)
		(void)rooms_leave(&r->nsp->rooms, s, &s->rooms, json_string_value(room));
	else if (type == REQ_REMOTE_DISCONNECT)
		sio_socket_disconnect(s, SG_CLOSE_FORCED);
	sg_buf_append_char(&r->out, '1');
}

/* A Node peer's request, parsed once on the worker that holds the request
 * channel and run by every worker on its own sockets (gather.h); the parts
 * read it, never write it. */
struct spread {
	struct request r;
	int type;
	bool legacy; /* the pre-8 {sid, room | close} form */
};

static void spread_part(struct worker *w, const void *ctx, struct sg_buf *out);
static void spread_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n);
static void spread_free(struct spread *sp);
static void room_names(struct request *r);
static void legacy_apply(struct request *r, int type);

void cluster_on_request(struct worker *w, struct bridge *b, const char *nsp_name, size_t nsp_len,
			const char *payload, size_t len)
{
	struct spread *sp;
	struct request *r;
	struct sg_err err = { 0 };
	json_error_t jerr;
	json_t *type, *uid, *rid, *opts;
	struct sio_nsp *nsp = sio_nsp_find(w, nsp_name, nsp_len);

	if (nsp == NULL)
		return;
	sp = sg_calloc(1, sizeof(*sp));
	r = &sp->r;
	r->w = w;
	r->b = b;
	r->nsp = nsp;
	sg_buf_init(&r->out);
	sg_buf_init(&r->args);
	if (len > 0 && payload[0] == '{') {
		r->msg = json_loadb(payload, len, 0, &jerr);
	} else {
		struct sg_buf text;
		sg_buf_init(&text);
		if (adapter_codec_msgpack_to_json(payload, len, CLUSTER_MAX_ATTACHMENTS, &text,
						  &r->att, &r->n_att, &err) == 0)
			r->msg = json_loadb(text.data, text.len, 0, &jerr);
		else
			snprintf(jerr.text, sizeof(jerr.text), "%.150s", err.msg);
		sg_buf_fini(&text);
	}
	if (!json_is_object(r->msg)) {
		log_warn("cluster: dropped a request on %.*s: %s", (int)nsp_len, nsp_name,
			 r->msg ? "not an object" : jerr.text);
		spread_free(sp);
		return;
	}
	type = json_object_get(r->msg, "type");
	uid = json_object_get(r->msg, "uid");
	rid = json_object_get(r->msg, "requestId");
	opts = json_object_get(r->msg, "opts");
	r->request_id = json_is_string(rid) ? json_string_value(rid) : "";
	r->request_id_len = strlen(r->request_id);
	sp->type = json_is_integer(type) ? (int)json_integer_value(type) : -1;
	if (json_is_string(type) && strcmp(json_string_value(type), CLUSTER_USER_TYPE) == 0)
		sp->type = REQ_SIOGATE_USER;
	if (json_is_string(uid) && (strcmp(json_string_value(uid), bridge_uid(b)) == 0 ||
				    strncmp(json_string_value(uid), CHANOP_REMOTE_UID_PREFIX,
					    sizeof(CHANOP_REMOTE_UID_PREFIX) - 1) == 0)) {
		/* our own request, come back, or an operation for the Node peers
		 * that siogate instances got on the JSON channel */
		spread_free(sp);
		return;
	}
	if (json_is_object(opts))
		read_opts(r, opts);
	else
		r->timeout_ms = CLUSTER_DEFAULT_ACK_TIMEOUT_MS;

	switch (sp->type) {
	case REQ_SOCKETS:
		strv_from_json(&r->rooms, json_object_get(r->msg, "rooms"));
		break;
	case REQ_ALL_ROOMS:
	case REQ_REMOTE_FETCH:
		break;
	case REQ_REMOTE_JOIN:
	case REQ_REMOTE_LEAVE:
	case REQ_REMOTE_DISCONNECT:
		sp->legacy = !json_is_object(opts);
		r->arg = json_object_get(r->msg, "rooms");
		r->close = json_is_true(json_object_get(r->msg, "close"));
		break;
	case REQ_SERVER_SIDE_EMIT:
		/* For the servers themselves: siogate hands it to the backends
		 * through events.forward; without a rule, like a Node server
		 * without a listener, nothing answers. */
		if (!forward_server_event(w, r->nsp->name, json_object_get(r->msg, "data"),
					  r->request_id,
					  json_is_string(uid) ? json_string_value(uid) : ""))
			log_debug("cluster: server-side emit on %s: no events.forward rule",
				  r->nsp->name);
		spread_free(sp);
		return;
	case REQ_SIOGATE_USER: {
		json_t *user = json_object_get(r->msg, "user");
		if (!json_is_string(user) || !json_is_string(uid) || !r->request_id[0] ||
		    json_string_length(uid) > CLUSTER_UID_MAX) {
			log_warn("cluster: dropped a malformed %s request", CLUSTER_USER_TYPE);
			spread_free(sp);
			return;
		}
		r->user = json_string_value(user);
		r->uid = json_string_value(uid);
		break;
	}
	case REQ_BROADCAST: {
		json_t *packet = json_object_get(r->msg, "packet");
		if (!json_is_object(packet) || !json_is_array(json_object_get(packet, "data")) ||
		    !r->request_id[0]) {
			log_warn("cluster: dropped a malformed broadcast request");
			spread_free(sp);
			return;
		}
		json_js_value(&r->args, json_object_get(packet, "data"));
		for (size_t i = 0; i < r->n_att; i++) {
			r->satt[i].data = (const char *)r->att[i].data;
			r->satt[i].len = r->att[i].len;
		}
		break;
	}
	default:
		log_debug("cluster: request type %d on %s ignored", sp->type, r->nsp->name);
		spread_free(sp);
		return;
	}
	gather(w, -1, spread_part, spread_done, sp);
}

/* On each worker: the request applied to its sockets; out gets the ids,
 * descriptions or room names (comma-separated JSON), or the count. */
static void spread_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct spread *sp = ctx;
	struct request r = sp->r;

	r.w = w;
	r.nsp = sio_nsp_find(w, sp->r.nsp->name, sp->r.nsp->name_len);
	r.count = 0;
	sg_buf_init(&r.out);
	switch (sp->type) {
	case REQ_SOCKETS:
		each_socket(&r, false, add_id);
		break;
	case REQ_REMOTE_FETCH:
		each_socket(&r, false, add_description);
		break;
	case REQ_ALL_ROOMS:
		room_names(&r);
		break;
	case REQ_REMOTE_JOIN:
	case REQ_REMOTE_LEAVE:
	case REQ_REMOTE_DISCONNECT:
		if (sp->legacy)
			legacy_apply(&r, sp->type);
		else
			each_socket(&r, false,
				    sp->type == REQ_REMOTE_JOIN	   ? do_join
				    : sp->type == REQ_REMOTE_LEAVE ? do_leave
								   : do_disconnect);
		break;
	case REQ_BROADCAST:
		each_socket(&r, true, do_broadcast);
		break;
	case REQ_SIOGATE_USER:
		sg_buf_printf(&r.out, "%zu", users_count(w, r.user));
		break;
	default:
		break;
	}
	sg_buf_append(out, r.out.data, r.out.len);
	sg_buf_fini(&r.out);
}

/* Every worker answered: one response for the whole process. */
static void spread_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct spread *sp = ctx;
	struct request *r = &sp->r;
	bool first = true, found = false;

	SG_UNUSED(w);
	sg_buf_reset(&r->out);
	sg_buf_append_str(&r->out, "{\"requestId\":");
	json_js_string(&r->out, r->request_id, r->request_id_len);
	switch (sp->type) {
	case REQ_SOCKETS:
	case REQ_REMOTE_FETCH:
	case REQ_ALL_ROOMS:
		sg_buf_append_str(&r->out,
				  sp->type == REQ_ALL_ROOMS ? ",\"rooms\":[" : ",\"sockets\":[");
		for (size_t i = 0; i < n; i++) {
			if (parts[i].len == 0)
				continue;
			if (!first)
				sg_buf_append_char(&r->out, ',');
			first = false;
			sg_buf_append(&r->out, parts[i].data, parts[i].len);
		}
		sg_buf_append_str(&r->out, "]}");
		respond(r, r->out.data, r->out.len);
		break;
	case REQ_BROADCAST: {
		/* parts: the recipients' ids, comma-separated JSON strings */
		struct sg_buf sids;
		unsigned long long count = 0;
		sg_buf_init(&sids);
		for (size_t i = 0; i < n; i++) {
			if (parts[i].len == 0)
				continue;
			if (sids.len > 0)
				sg_buf_append_char(&sids, ',');
			sg_buf_append(&sids, parts[i].data, parts[i].len);
			for (size_t k = 0; k < parts[i].len; k++)
				count += parts[i].data[k] == ',';
			count++;
		}
		sg_buf_reset(&r->out);
		sg_buf_printf(&r->out, "{\"type\":8,\"requestId\":");
		json_js_string(&r->out, r->request_id, r->request_id_len);
		sg_buf_printf(&r->out, ",\"clientCount\":%llu,\"sids\":[", count);
		sg_buf_append(&r->out, sids.data, sids.len);
		sg_buf_append_str(&r->out, "]}");
		sg_buf_fini(&sids);
		respond(r, r->out.data, r->out.len);
		break;
	}
	case REQ_SIOGATE_USER:
		/* on the requester's own channel: no Node peer hears it */
		sg_buf_append_str(&r->out, ",\"server\":");
		json_js_string(&r->out, r->w->cfg->server.id, strlen(r->w->cfg->server.id));
		sg_buf_printf(&r->out, ",\"sockets\":%llu}", gather_sum(parts, n));
		respond_to(r, r->uid, r->out.data, r->out.len);
		break;
	default: /* join, leave, disconnect: only the legacy form answers */
		for (size_t i = 0; i < n; i++)
			found = found || parts[i].len > 0;
		if (sp->legacy && found && r->request_id[0]) {
			sg_buf_append_char(&r->out, '}');
			respond(r, r->out.data, r->out.len);
		}
		break;
	}
	spread_free(sp);
}

static void spread_free(struct spread *sp)
{
	json_decref(sp->r.msg);
	sg_strv_free(&sp->r.rooms);
	sg_strv_free(&sp->r.except);
	adapter_codec_attachments_free(sp->r.att, sp->r.n_att);
	sg_buf_fini(&sp->r.args);
	sg_buf_fini(&sp->r.out);
	free(sp);
}

size_t cluster_broadcast(struct worker *w, const struct emit_msg *m, bool *published)
{
	size_t n = broadcast_emit_msg(w, m);

	*published = w->bridge != NULL && bridge_publish_emit(w->bridge, m, bridge_uid(w->bridge));
	return n;
}

/* ---- siogate's own requests: the cluster-wide view ---- */

#define CLUSTER_FETCH_TIMEOUT_MS 2000

/* What a request of siogate's asks the rest of the cluster. */
enum fetch_kind {
	FETCH_SOCKETS, /* REMOTE_FETCH of every socket, from every member */
	FETCH_USER,    /* CLUSTER_USER_TYPE: a user's sockets, from siogate instances */
};

struct cluster_fetch {
	struct cluster_fetch *next;
	struct worker *w;
	struct event *timer;
	enum fetch_kind kind;
	cluster_fetch_cb cb;	 /* FETCH_SOCKETS */
	cluster_user_cb user_cb; /* FETCH_USER */
	void *arg;
	struct sg_buf found;	    /* socket descriptions, or server ids (JSON), comma-separated */
	unsigned long long sockets; /* FETCH_USER: the user's sockets, summed */
	long long expected; /* answers expected (the other members, summed over namespaces) */
	long long received;
	unsigned counts_pending; /* NUMSUB answers still to come */
	bool done;
	bool uncounted; /* a NUMSUB failed: who should answer is not known */
	char request_id[SG_ID_LEN + 1];
};

static void fetch_finish(struct cluster_fetch *f, bool partial);
static void fetch_maybe_free(struct cluster_fetch *f);
static struct cluster_fetch *fetch_start(struct worker *w, enum fetch_kind kind,
					 cluster_fetch_cb cb, cluster_user_cb user_cb, void *arg);
static void fetch_count(struct cluster_fetch *f, int rc);
static void fetch_answer(struct cluster_fetch *f, const json_t *doc);

static void fetch_maybe_free(struct cluster_fetch *f)
{
	if (!f->done || f->counts_pending > 0)
		return;
	event_free(f->timer);
	sg_buf_fini(&f->found);
	free(f);
}

static void fetch_finish(struct cluster_fetch *f, bool partial)
{
	struct cluster_fetch **pp;
	const char *found = f->found.data ? f->found.data : "";

	if (f->done)
		return;
	f->done = true;
	event_del(f->timer);
	for (pp = &f->w->fetches; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	partial = partial || f->uncounted;
	if (f->kind == FETCH_USER)
		f->user_cb(f->w, f->sockets, found, f->found.len, partial, f->arg);
	else
		f->cb(f->w, found, f->found.len, partial, f->arg);
	fetch_maybe_free(f);
}

static void fetch_check(struct cluster_fetch *f)
{
	if (!f->done && f->counts_pending == 0 && f->received >= f->expected)
		fetch_finish(f, false);
}

static void on_fetch_timeout(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	fetch_finish(arg, true);
}

static void on_count(long long n, void *arg)
{
	struct cluster_fetch *f = arg;

	f->counts_pending--;
	if (n > 1)
		f->expected += n - 1; /* every subscriber but siogate itself */
	else if (n < 0)
		f->uncounted = true;
	if (f->done)
		fetch_maybe_free(f);
	else
		fetch_check(f);
}

/* A NUMSUB asked (rc 0), or not (-1: its callback will not come). */
static void fetch_count(struct cluster_fetch *f, int rc)
{
	if (rc == 0)
		f->counts_pending++;
	else
		f->uncounted = true;
}

/* A fetch of kind, registered on w; NULL when there is no rest of the
 * cluster (standalone), after its callback ran with nothing. */
static struct cluster_fetch *fetch_start(struct worker *w, enum fetch_kind kind,
					 cluster_fetch_cb cb, cluster_user_cb user_cb, void *arg)
{
	struct cluster_fetch *f = sg_calloc(1, sizeof(*f));
	struct timeval tv = worker_ms_tv(CLUSTER_FETCH_TIMEOUT_MS);

	f->w = w;
	f->kind = kind;
	f->cb = cb;
	f->user_cb = user_cb;
	f->arg = arg;
	sg_buf_init(&f->found);
	sg_id_new(f->request_id, w->index, &w->id_counter);
	f->timer = event_new(w->base, -1, 0, on_fetch_timeout, f);
	f->next = w->fetches;
	w->fetches = f;
	if (w->bridge == NULL) {
		fetch_finish(f, false);
		return NULL;
	}
	event_add(f->timer, &tv);
	return f;
}

void cluster_fetch_remote(struct worker *w, cluster_fetch_cb cb, void *arg)
{
	const struct sg_config *cfg = w->cfg;
	struct cluster_fetch *f = fetch_start(w, FETCH_SOCKETS, cb, NULL, arg);
	struct sg_buf ch, req;

	if (f == NULL)
		return;
	sg_buf_init(&ch);
	sg_buf_init(&req);
	for (size_t i = 0; i < cfg->namespaces.n; i++) {
		sg_buf_reset(&ch);
		sg_buf_printf(&ch, "%s-request#%s#", cfg->redis.prefix, cfg->namespaces.v[i]);
		fetch_count(f, bridge_numsub(w->bridge, ch.data, on_count, f));
		sg_buf_reset(&req);
		sg_buf_printf(&req,
			      "{\"uid\":\"%s\",\"requestId\":\"%s\",\"type\":%d,"
			      "\"opts\":{\"rooms\":[],\"except\":[]}}",
			      bridge_uid(w->bridge), f->request_id, REQ_REMOTE_FETCH);
		(void)bridge_publish(w->bridge, ch.data, req.data, req.len);
	}
	sg_buf_fini(&ch);
	sg_buf_fini(&req);
	fetch_check(f);
}

/* One request on the first namespace's request channel, which every siogate
 * instance of the cluster subscribes to; as many answers as there are other
 * instances on the members channel (Node peers do not answer it). */
void cluster_user_remote(struct worker *w, const char *sub, cluster_user_cb cb, void *arg)
{
	const struct sg_config *cfg = w->cfg;
	struct cluster_fetch *f = fetch_start(w, FETCH_USER, NULL, cb, arg);
	struct sg_buf ch, req;

	if (f == NULL)
		return;
	sg_buf_init(&ch);
	sg_buf_init(&req);
	sg_buf_printf(&ch, "%s-request#%s#", cfg->redis.prefix, cfg->namespaces.v[0]);
	fetch_count(f, bridge_count_instances(w->bridge, on_count, f));
	sg_buf_printf(&req, "{\"uid\":\"%s\",\"requestId\":\"%s\",\"type\":\"%s\",\"user\":",
		      bridge_uid(w->bridge), f->request_id, CLUSTER_USER_TYPE);
	json_js_string(&req, sub, strlen(sub));
	sg_buf_append_char(&req, '}');
	(void)bridge_publish(w->bridge, ch.data, req.data, req.len);
	sg_buf_fini(&ch);
	sg_buf_fini(&req);
	fetch_check(f);
}

/* An answer to f (the requestId matched); counted when it is of f's kind. */
static void fetch_answer(struct cluster_fetch *f, const json_t *doc)
{
	json_t *sockets = json_object_get(doc, "sockets");
	json_t *server = json_object_get(doc, "server");
	json_t *v;
	size_t i;

	if (f->kind == FETCH_SOCKETS && json_is_array(sockets)) {
		json_array_foreach(sockets, i, v)
		{
			if (f->found.len)
				sg_buf_append_char(&f->found, ',');
			json_js_value(&f->found, v);
		}
	} else if (f->kind == FETCH_USER && json_is_integer(sockets) && json_is_string(server)) {
		if (json_integer_value(sockets) > 0) {
			f->sockets += (unsigned long long)json_integer_value(sockets);
			if (f->found.len)
				sg_buf_append_char(&f->found, ',');
			json_js_value(&f->found, server);
		}
	} else {
		return;
	}
	f->received++;
	fetch_check(f);
}

void cluster_on_response(struct worker *w, const char *payload, size_t len)
{
	json_t *doc, *rid;
	struct cluster_fetch *f;

	if (emit_ack_on_response(w, payload, len))
		return; /* an answer to an emit with acks of this instance */
	if (w->fetches == NULL || len == 0 || payload[0] != '{')
		return; /* nothing of ours in flight, or msgpack (broadcast acks: not ours) */
	doc = json_loadb(payload, len, 0, NULL);
	rid = json_object_get(doc, "requestId");
	for (f = w->fetches; f && json_is_string(rid); f = f->next) {
		if (strcmp(f->request_id, json_string_value(rid)) == 0) {
			fetch_answer(f, doc);
			break;
		}
	}
	json_decref(doc);
}

void cluster_fini(struct worker *w)
{
	while (w->fetches != NULL)
		fetch_finish(w->fetches, true);
	emit_ack_fini(w);
}

/* ---- what the bridge hands up ----------------------------------------- */

static void deliver_broadcast(struct worker *w, const struct adapter_broadcast *m)
{
	(void)broadcast_adapter_message(w, m);
}

static void deliver_json(struct worker *w, const struct emit_msg *m)
{
	(void)broadcast_emit_msg(w, m);
}

static void deliver_json_ack(struct worker *w, const struct emit_msg *m)
{
	/* named in the log when unknown; the backend still gets its (empty) answer */
	(void)broadcast_unknown_nsp(w, m->nsp, strlen(m->nsp), "the JSON channel");
	emit_ack_from_channel(w, m);
}

static void deliver_op(struct worker *w, const struct chan_op *op)
{
	(void)chanop_apply(w, op);
}

static bool serves_nsp(struct worker *w, const char *nsp, size_t len, const char *where)
{
	return !broadcast_unknown_nsp(w, nsp, len, where);
}

const struct bridge_ops cluster_bridge_ops = {
	.on_broadcast = deliver_broadcast,
	.on_json = deliver_json,
	.on_json_ack = deliver_json_ack,
	.on_op = deliver_op,
	.serves_nsp = serves_nsp,
	.on_request = cluster_on_request,
	.on_response = cluster_on_response,
};
