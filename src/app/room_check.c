/*
 * room_check.c: the room validator call-out (see room_check.h).  The
 * pending call keeps the socket's namespace and id, not a pointer, and
 * finds the socket again when the answer comes.
 */
#include "app/room_check.h"

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
#include "sio/sio.h"

#define ROOM_CHECK_MAX_RESPONSE (64 * 1024)

struct room_wait {
	struct worker *w;
	room_check_done done;
	json_t *rooms;
	int64_t ack_id;
	int64_t started_ns; /* siogate_rooms_http_seconds */
	char nsp[64];
	char id[SG_ID_LEN + 1];
};

static void on_answer(enum http_client_error e, const struct http_client_response *resp, void *arg);

void room_check_start(struct sio_socket *sock, json_t *rooms, int64_t ack_id, bool owned_rooms,
		      room_check_done done)
{
	struct worker *w = sock->nsp->w;
	const struct sg_config *cfg = w->cfg;
	const char *user = authflow_user(sock);
	struct room_wait *rw = sg_calloc(1, sizeof(*rw));
	struct sg_buf body;

	rw->w = w;
	rw->done = done;
	rw->rooms = owned_rooms ? rooms : json_incref(rooms);
	rw->ack_id = ack_id;
	rw->started_ns = sg_mono_ns();
	snprintf(rw->nsp, sizeof(rw->nsp), "%s", sock->nsp->name);
	memcpy(rw->id, sock->id, sizeof(rw->id));
	if (w->rooms_http == NULL) {
		struct http_client_opts opts = {
			.max_in_flight = cfg->rooms.http.max_in_flight,
			.max_queued = 100000,
			.max_idle_per_host = cfg->rooms.http.max_in_flight,
			.idle_timeout_ms = 30000,
			.max_response_bytes = ROOM_CHECK_MAX_RESPONSE,
			.max_pending_bytes = cfg->rooms.http.max_pending,
		};
		struct sg_err err = { 0 };
		w->rooms_http = http_client_new(w->base, &opts, &err);
		if (w->rooms_http == NULL) {
			log_error("rooms.http: %s", err.msg);
			on_answer(HC_CONNECT, NULL, rw);
			return;
		}
	}
	sg_buf_init(&body);
	sg_buf_printf(&body, "{\"id\":\"%s\",\"nsp\":", sock->id);
	json_js_string(&body, sock->nsp->name, sock->nsp->name_len);
	sg_buf_append_str(&body, ",\"user\":");
	json_js_string_or_null(&body, user);
	sg_buf_append_str(&body, ",\"claims\":");
	if (authflow_of(sock)->claims)
		json_js_value(&body, authflow_of(sock)->claims);
	else
		sg_buf_append_str(&body, "{}");
	sg_buf_append_str(&body, ",\"rooms\":");
	json_js_value(&body, rw->rooms);
	sg_buf_append_char(&body, '}');
	(void)http_client_request(w->rooms_http, "POST", cfg->rooms.http.url, NULL,
				  "application/json", body.data, body.len,
				  cfg->rooms.http.timeout_ms, on_answer, rw);
	sg_buf_fini(&body);
}

static void on_answer(enum http_client_error e, const struct http_client_response *resp, void *arg)
{
	struct room_wait *rw = arg;
	struct sio_nsp *nsp = sio_nsp_find(rw->w, rw->nsp, strlen(rw->nsp));
	struct sio_socket *sock = nsp ? sio_nsp_socket(nsp, rw->id, SG_ID_LEN) : NULL;
	json_t *doc = NULL, *allowed = NULL;

	if (e == HC_OK && resp->status >= 200 && resp->status < 300)
		doc = json_loadb(resp->body, resp->body_len, 0, NULL);
	if (json_is_object(doc))
		allowed = json_object_get(doc, "rooms");
	if (e == HC_OVERLOADED)
		rw->w->stats.callouts_refused_rooms++;
	if (!json_is_array(allowed)) {
		/* a validator that is down refuses every join: one line per
		 * LOG_LIMIT_MS, the outcomes are in /metrics */
		log_limited(&rw->w->limit_rooms_http, SG_LOG_WARN, NULL,
			    "rooms.http: %s: every room of the join refused",
			    e != HC_OK ? http_client_error_str(e)
				       : "an answer other than {\"rooms\": [...]}");
		allowed = NULL;
	}
	callout_record(&rw->w->stats.rooms_http, allowed ? CALLOUT_OK : http_client_outcome(e),
		       rw->started_ns);
	if (sock != NULL && !sock->closing) {
		json_t *none = allowed ? NULL : json_array();
		rw->done(sock, rw->rooms, allowed ? allowed : none, rw->ack_id);
		json_decref(none);
	}
	json_decref(doc);
	json_decref(rw->rooms);
	free(rw);
}

void room_check_fini(struct worker *w)
{
	http_client_free(w->rooms_http);
	w->rooms_http = NULL;
}
