/*
 * admin_ui_int.h: what the Admin UI's files share.  admin_ui.c is the
 * namespace (login, the UI's requests, server_stats); admin_ui_events.c
 * watches the worker's sockets while an Admin UI is connected anywhere in
 * the process and carries what happens to the workers that have one.
 */
#ifndef SG_ADMIN_UI_INT_H
#define SG_ADMIN_UI_INT_H

#include <event2/event.h>

#include "app/authflow_socket.h"
#include "core/common.h"
#include "sio/sio.h"

/* A socket of the admin namespace: a logged-in Admin UI once accepted.  It
 * begins with an authenticate-flow socket whose flow stays zeroed (no
 * state, no user) so that what reads any socket's flow (the admin API's
 * client list, the cluster's fetch, a user's sockets) reads "unauthorized,
 * nobody" for it, never past its end. */
struct admin_sock {
	struct authflow_socket base; /* first: the socket layer allocates it */
	struct admin_sock *prev, *next;
	bool listed;	       /* on ui->admins (logged in) */
	bool synced;	       /* all_sockets sent: events go out at once */
	struct sg_buf backlog; /* events that came before all_sockets */
};

/* The Admin UI's part of a worker (w->admin_ui), when admin_ui.enabled. */
struct admin_ui {
	struct worker *w;
	struct sio_nsp *nsp;	   /* admin_ui.namespace */
	struct admin_sock *admins; /* logged in on this worker */
	size_t n_admins;
	uint32_t watchers[256];	   /* per worker index: its logged-in Admin UIs, as posted */
	size_t n_watching;	   /* workers with watchers > 0: the observer is on */
	struct sg_buf queued;	   /* this turn's events, one JSON array per line */
	struct event *stats_timer; /* server_stats: every 2 s, idle when unused */
	bool stats_busy;	   /* a server_stats gather in flight */
	uint64_t *last;		   /* the totals the last server_stats saw */
	size_t n_last;
	int64_t started_ms; /* monotonic: the uptime's start */
};

/* Appends an event of this worker's sockets for the watching workers. */
void admin_ui_queue(struct admin_ui *ui, const struct sg_buf *event);
/* Sends this turn's events to the workers that have an Admin UI. */
void admin_ui_flush_events(struct admin_ui *ui);
/* Worker `from` now has `n` logged-in Admin UIs: tells every worker. */
void admin_ui_announce(struct admin_ui *ui);
/* Sends the event lines data[0..len) to one Admin UI (once synced; before,
 * they wait in its backlog). */
void admin_ui_send_lines(struct admin_sock *a, const char *data, size_t len);
/* ... and to every Admin UI of this worker. */
void admin_ui_deliver(struct admin_ui *ui, const char *data, size_t len);
/* The socket as the Admin UI shows it (its serialize()). */
void admin_ui_socket_json(struct sg_buf *out, const struct sio_socket *sock);
/* Every connected socket of a worker, comma-separated (a gather part). */
void admin_ui_sockets_part(struct worker *w, const void *ctx, struct sg_buf *out);

#endif
