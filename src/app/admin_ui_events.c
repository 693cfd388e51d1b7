/*
 * admin_ui_events.c: the sockets' lives as the Admin UI sees them
 * (socket_connected, socket_updated, socket_disconnected, room_joined,
 * room_left), from every worker of the process to the workers that have a
 * logged-in Admin UI.  The observer is on only while some worker has one
 * (admin_ui_announce): otherwise the socket layer's hooks find it NULL and
 * nothing is kept per socket.  Events of a loop turn go out together, one
 * job per watching worker, at the turn's end (the module's flush).
 */
#include <stdlib.h>
#include <string.h>

#include "app/admin_ui_int.h"
#include "app/authflow_socket.h"
#include "app/ihandshake.h"
#include "core/clock.h"
#include "core/inbox.h"
#include "core/json_js.h"
#include "core/worker.h"
#include "eio/eio.h"

/* A worker's logged-in Admin UIs changed: posted to every worker. */
struct watch_job {
	struct job j;
	uint8_t from;
	uint32_t n;
};

/* A turn's events for the Admin UIs of one worker. */
struct events_job {
	struct job j;
	size_t len;
	char data[];
};

static const struct sio_observer observer;

static const char *transport_name(const struct sio_socket *sock)
{
	return sock->eio->transport == EIO_POLLING ? "polling" : "websocket";
}

void admin_ui_socket_json(struct sg_buf *out, const struct sio_socket *sock)
{
	const char *user = sock->nsp->handler == NULL ? authflow_user(sock) : NULL;

	sg_buf_printf(out, "{\"id\":\"%s\",\"clientId\":\"%.12s\",\"transport\":\"%s\",\"nsp\":",
		      sock->id, sock->eio->sid, transport_name(sock));
	json_js_string(out, sock->nsp->name, sock->nsp->name_len);
	sg_buf_append_str(out, ",\"data\":{");
	if (user != NULL) {
		sg_buf_append_str(out, "\"user\":");
		json_js_string(out, user, strlen(user));
	}
	sg_buf_append_str(out, "},\"handshake\":");
	ihandshake_json_masked(out, sock);
	sg_buf_append_str(out, ",\"rooms\":");
	room_set_json(&sock->rooms, sock->id, out);
	sg_buf_append_char(out, '}');
}

void admin_ui_sockets_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	SG_UNUSED(ctx);
	for (size_t i = 0; i < w->n_nsps; i++) {
		for (struct sio_socket *s = w->nsps[i]->all; s; s = s->next) {
			if (!s->connected || s->closing)
				continue;
			if (out->len > 0)
				sg_buf_append_char(out, ',');
			admin_ui_socket_json(out, s);
		}
	}
}

void admin_ui_queue(struct admin_ui *ui, const struct sg_buf *event)
{
	if (ui->queued.len == 0)
		worker_schedule_flush(ui->w);
	sg_buf_append(&ui->queued, event->data, event->len);
	sg_buf_append_char(&ui->queued, '\n');
}

/* ["name", then the caller's arguments; end_event adds the date. */
static void begin_event(struct sg_buf *b, const char *name, const struct sio_socket *sock)
{
	sg_buf_init(b);
	sg_buf_printf(b, "[\"%s\",", name);
	json_js_string(b, sock->nsp->name, sock->nsp->name_len);
	sg_buf_append_char(b, ',');
}

static void end_event(struct admin_ui *ui, struct sg_buf *b)
{
	char when[32];

	sg_buf_printf(b, ",\"%s\"]", sg_time_iso(when, sg_now_ms()));
	admin_ui_queue(ui, b);
	sg_buf_fini(b);
}

static void on_connected(struct sio_socket *sock)
{
	struct admin_ui *ui = sock->nsp->w->admin_ui;
	struct sg_buf b;
	char when[32];

	sg_buf_init(&b);
	sg_buf_append_str(&b, "[\"socket_connected\",");
	admin_ui_socket_json(&b, sock);
	sg_buf_printf(&b, ",\"%s\"]", sg_time_iso(when, sg_now_ms()));
	admin_ui_queue(ui, &b);
	sg_buf_fini(&b);
}

static void on_closed(struct sio_socket *sock, enum sg_close reason)
{
	struct admin_ui *ui = sock->nsp->w->admin_ui;
	const char *why = sg_close_text(reason);
	struct sg_buf b;

	begin_event(&b, "socket_disconnected", sock);
	sg_buf_printf(&b, "\"%s\",", sock->id);
	json_js_string(&b, why, strlen(why));
	end_event(ui, &b);
	/* its own room, which the room index does not hold */
	begin_event(&b, "room_left", sock);
	sg_buf_printf(&b, "\"%s\",\"%s\"", sock->id, sock->id);
	end_event(ui, &b);
}

static void on_room(struct sio_socket *sock, const char *name, size_t len, bool joined)
{
	struct admin_ui *ui = sock->nsp->w->admin_ui;
	struct sg_buf b;

	begin_event(&b, joined ? "room_joined" : "room_left", sock);
	json_js_string(&b, name, len);
	sg_buf_printf(&b, ",\"%s\"", sock->id);
	end_event(ui, &b);
}

static void on_upgraded(struct sio_socket *sock)
{
	struct admin_ui *ui = sock->nsp->w->admin_ui;
	struct sg_buf b;

	sg_buf_init(&b);
	sg_buf_printf(&b, "[\"socket_updated\",{\"id\":\"%s\",\"nsp\":", sock->id);
	json_js_string(&b, sock->nsp->name, sock->nsp->name_len);
	sg_buf_printf(&b, ",\"transport\":\"%s\"}]", transport_name(sock));
	admin_ui_queue(ui, &b);
	sg_buf_fini(&b);
}

static const struct sio_observer observer = {
	.on_connected = on_connected,
	.on_closed = on_closed,
	.on_room = on_room,
	.on_upgraded = on_upgraded,
};

void admin_ui_send_lines(struct admin_sock *a, const char *data, size_t len)
{
	const char *p = data, *e = data + len;

	if (!a->synced) {
		sg_buf_append(&a->backlog, data, len);
		return;
	}
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);

		sio_socket_send_event(&a->base.sock, p, n);
		p += n + 1;
	}
}

void admin_ui_deliver(struct admin_ui *ui, const char *data, size_t len)
{
	for (struct admin_sock *a = ui->admins; a; a = a->next)
		admin_ui_send_lines(a, data, len);
}

static void run_events(struct worker *w, struct job *j)
{
	struct events_job *ej = (struct events_job *)j;

	if (w->admin_ui != NULL)
		admin_ui_deliver(w->admin_ui, ej->data, ej->len);
	free(ej);
}

void admin_ui_flush_events(struct admin_ui *ui)
{
	struct worker *w = ui->w;

	if (ui->queued.len == 0)
		return;
	for (size_t k = 0; k < w->n_workers; k++) {
		struct events_job *ej;

		if (ui->watchers[k] == 0)
			continue;
		if (k == w->index) {
			admin_ui_deliver(ui, ui->queued.data, ui->queued.len);
			continue;
		}
		ej = sg_malloc(sizeof(*ej) + ui->queued.len);
		ej->j.run = run_events;
		ej->len = ui->queued.len;
		memcpy(ej->data, ui->queued.data, ui->queued.len);
		inbox_post(w->siblings[k]->inbox, &ej->j);
	}
	sg_buf_reset(&ui->queued);
}

static void set_watchers(struct admin_ui *ui, size_t from, uint32_t n)
{
	struct worker *w = ui->w;
	bool was = ui->n_watching > 0;

	if (from >= SG_ARRAY_LEN(ui->watchers) || ui->watchers[from] == n)
		return;
	if (ui->watchers[from] == 0)
		ui->n_watching++;
	else if (n == 0)
		ui->n_watching--;
	ui->watchers[from] = n;
	if (was != (ui->n_watching > 0))
		sio_observe(w, ui->n_watching > 0 ? &observer : NULL);
	if (ui->n_watching == 0)
		sg_buf_reset(&ui->queued);
}

static void run_watch(struct worker *w, struct job *j)
{
	struct watch_job *wj = (struct watch_job *)j;

	if (w->admin_ui != NULL)
		set_watchers(w->admin_ui, wj->from, wj->n);
	free(wj);
}

void admin_ui_announce(struct admin_ui *ui)
{
	struct worker *w = ui->w;
	uint32_t n = (uint32_t)ui->n_admins;

	for (size_t k = 0; k < w->n_workers; k++) {
		struct watch_job *wj;

		if (k == w->index) {
			set_watchers(ui, k, n);
			continue;
		}
		wj = sg_calloc(1, sizeof(*wj));
		wj->j.run = run_watch;
		wj->from = w->index;
		wj->n = n;
		inbox_post(w->siblings[k]->inbox, &wj->j);
	}
}
