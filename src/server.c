/*
 * server.c: start-up, the loop and graceful shutdown (see server.h).  The
 * server struct lives on server_run()'s stack: it is the owner of every
 * long-lived object, and nothing here is global.  Shutdown stops the
 * listeners, closes every session with a transport close (so socket.io-client
 * reconnects elsewhere), waits for the output to drain, and is bounded by
 * server.shutdown_timeout.
 */
#include "server.h"

#include <event2/event.h>
#include <jansson.h>
#include <openssl/opensslv.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslayver.h>
#include <yaml.h>
#include <msgpack.h>

#include "admin.h"
#include "auth_jwt.h"
#include "bridge.h"
#include "cluster.h"
#include "conn.h"
#include "eio.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "tls.h"
#include "worker.h"

/* The drain ticks: server.drain_window is cut into slices of this length. */
#define SERVER_DRAIN_TICK_MS 50

struct server {
	const struct sg_config *cfg;      /* the running snapshot */
	struct sg_config *reloaded;       /* owned when cfg came from a reload */
	struct notifier *notifier;
	struct event_base *base;
	struct jwt_verifier *jwt;
	struct worker worker;
	struct listener **listeners;
	size_t n_listeners;
	struct bridge *bridge;
	struct listener *admin;
	char *admin_token;
	SSL_CTX *tls;
	struct event *sigterm, *sigint, *sighup, *drain_check, *deadline;
	size_t drain_batch;               /* sessions closed per drain tick */
	bool stopping;
};

static void on_signal(evutil_socket_t sig, short what, void *arg);
static void begin_shutdown(struct server *srv);
static void on_drain_check(evutil_socket_t fd, short what, void *arg);
static void close_some(struct server *srv);
static void on_deadline(evutil_socket_t fd, short what, void *arg);
static void log_versions(void);
static void reload(struct server *srv);

static void log_versions(void)
{
	log_info("siogate %s starting (libevent %s, wslay %s, hiredis %d.%d.%d, jansson %s, "
		 "%s, libyaml %s, msgpack-c %s)",
		 SG_VERSION, event_get_version(), WSLAY_VERSION, HIREDIS_MAJOR, HIREDIS_MINOR,
		 HIREDIS_PATCH, JANSSON_VERSION, OPENSSL_VERSION_TEXT, yaml_get_version_string(),
		 msgpack_version());
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	SG_UNUSED(what);
	if (sig == SIGHUP) {
		if (!srv->stopping)
			reload(srv);
		return;
	}
	if (srv->stopping) {
		log_warn("second stop signal: exiting now");
		event_base_loopbreak(srv->base);
		return;
	}
	log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	begin_shutdown(srv);
}

/* SIGHUP: load the file again, keep what cannot change while running (and
 * say so), rebuild the verifier, then swap the snapshot.  Anything wrong and
 * the running configuration stays as it is. */
static void reload(struct server *srv)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *next;
	struct jwt_verifier *jwt;
	struct sg_err err = { 0 };
	const char *kept[32];
	size_t n_kept;

	notify_reloading(srv->notifier);
	log_info("SIGHUP: reloading %s", srv->cfg->file);
	next = config_load(srv->cfg->file, &errs);
	if (next == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			log_error("reload: %s", errs.v[i]);
		config_errors_free(&errs);
		log_error("reload: %s has errors; the running configuration is kept",
			  srv->cfg->file);
		notify_send(srv->notifier, "READY=1\nSTATUS=reload failed; running configuration kept");
		return;
	}
	n_kept = config_reload_merge(next, srv->cfg, kept, SG_ARRAY_LEN(kept));
	for (size_t i = 0; i < n_kept && i < SG_ARRAY_LEN(kept); i++)
		log_warn("reload: %s changed, but only a restart applies it; keeping the running value",
			 kept[i]);
	jwt = next->auth.verifier == SG_VERIFIER_JWT ? jwt_verifier_new(next, &err) : NULL;
	if (jwt == NULL && next->auth.verifier == SG_VERIFIER_JWT) {
		log_error("reload: auth.jwt: %s; the running configuration is kept", err.msg);
		config_free(next);
		notify_send(srv->notifier, "READY=1\nSTATUS=reload failed; running configuration kept");
		return;
	}
	if (next->server.tls.cert != NULL && srv->tls != NULL) {
		/* new connections get the new pair; a bad pair keeps the old one */
		SSL_CTX *tls = tls_ctx_new(next->server.tls.cert, next->server.tls.key, &err);
		if (tls == NULL) {
			log_error("reload: %s; keeping the running certificate", err.msg);
		} else {
			SSL_CTX_free(srv->tls); /* connections hold their own references */
			srv->tls = tls;
			srv->worker.tls = tls;
			log_info("reload: TLS certificate loaded from %s", next->server.tls.cert);
		}
	} else if ((next->server.tls.cert != NULL) != (srv->tls != NULL)) {
		log_warn("reload: turning TLS on or off needs a restart");
	}
	/* Nothing keeps pointers into a snapshot across loop turns, so the old
	 * one can go now. */
	srv->worker.cfg = next;
	srv->worker.jwt = jwt;
	if (worker_apply_config(&srv->worker) != 0)
		log_warn("reload: could not re-arm the worker's timers");
	jwt_verifier_free(srv->jwt);
	srv->jwt = jwt;
	config_free(srv->reloaded);
	srv->reloaded = next;
	srv->cfg = next;
	log_configure(next->log.level, next->log.format);
	log_info("reload: configuration applied");
	notify_send(srv->notifier, "READY=1\nSTATUS=serving");
}

static void begin_shutdown(struct server *srv)
{
	struct worker *w = &srv->worker;
	struct timeval tick = { 0, SERVER_DRAIN_TICK_MS * 1000 };
	struct timeval deadline = worker_ms_tv(srv->cfg->server.shutdown_timeout_ms);
	int64_t window = srv->cfg->server.drain_window_ms;
	size_t ticks = window > 0 ? (size_t)(window / SERVER_DRAIN_TICK_MS) : 0;

	srv->stopping = true;
	w->shutting_down = true;
	notify_send(srv->notifier, "STOPPING=1");
	bridge_leave(srv->bridge);
	for (size_t i = 0; i < srv->n_listeners; i++)
		listener_disable(srv->listeners[i]);
	/* Spread the closes over server.drain_window so that the clients'
	 * reconnections do not all land on the other instances at once. */
	srv->drain_batch = ticks > 0 ? (w->n_sessions + ticks - 1) / ticks : w->n_sessions;
	if (srv->drain_batch == 0)
		srv->drain_batch = 1;
	log_info("closing %zu session(s) over %lld ms", w->n_sessions, (long long)window);
	close_some(srv);
	srv->drain_check = event_new(srv->base, -1, EV_PERSIST, on_drain_check, srv);
	srv->deadline = event_new(srv->base, -1, 0, on_deadline, srv);
	event_add(srv->drain_check, &tick);
	event_add(srv->deadline, &deadline);
}

/* Closes the next batch of sessions with a transport close (not a
 * namespace disconnect): clients reconnect elsewhere.  Polling sessions
 * with no GET to carry the close are not waited for. */
static void close_some(struct server *srv)
{
	struct worker *w = &srv->worker;
	size_t n = 0;

	for (struct eio_session *s = w->sessions, *next; s != NULL && n < srv->drain_batch;
	     s = next) {
		next = s->next;
		if (s->closing) {
			/* waiting for a last GET or the end of an upgrade: not now */
			eio_session_abort(s, SG_CLOSE_SHUTDOWN);
			continue;
		}
		eio_session_close(s, SG_CLOSE_SHUTDOWN, true);
		if (s->draining)
			eio_session_finish(s);
		n++;
	}
}

static void on_drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	close_some(srv);
	if (srv->worker.n_sessions == 0 && srv->worker.n_conns == 0)
		event_base_loopexit(srv->base, NULL);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	log_warn("shutdown_timeout reached with %zu connection(s) still open; closing them",
		 srv->worker.n_conns);
	event_base_loopexit(srv->base, NULL);
}

int server_run(const struct sg_config *cfg)
{
	struct server srv;
	struct sg_err err = { 0 };
	struct sg_buf where;
	int status = 1;

	memset(&srv, 0, sizeof(srv));
	srv.cfg = cfg;
	log_versions();
	if (cfg->server.workers != 1)
		log_info("server.workers: this version runs one event loop (%s asked)",
			 cfg->server.workers == 0 ? "auto" : "more");
	signal(SIGPIPE, SIG_IGN);
	srv.base = event_base_new();
	if (srv.base == NULL) {
		log_error("cannot create the event loop");
		return 1;
	}
	srv.jwt = cfg->auth.verifier == SG_VERIFIER_JWT ? jwt_verifier_new(cfg, &err) : NULL;
	if (srv.jwt == NULL && cfg->auth.verifier == SG_VERIFIER_JWT) {
		log_error("auth.jwt: %s", err.msg);
		goto out;
	}
	if (worker_init(&srv.worker, srv.base, cfg, srv.jwt) != 0) {
		log_error("cannot set up the worker");
		goto out;
	}
	if (cfg->server.tls.cert != NULL) {
		srv.tls = tls_ctx_new(cfg->server.tls.cert, cfg->server.tls.key, &err);
		if (srv.tls == NULL) {
			log_error("%s", err.msg);
			goto out;
		}
		srv.worker.tls = srv.tls;
	}
	srv.listeners = sg_calloc(cfg->server.listen.n, sizeof(*srv.listeners));
	sg_buf_init(&where);
	for (size_t i = 0; i < cfg->server.listen.n; i++) {
		srv.listeners[i] = listener_new(&srv.worker, cfg->server.listen.v[i], false, &err);
		if (srv.listeners[i] == NULL) {
			log_error("%s", err.msg);
			sg_buf_fini(&where);
			goto out;
		}
		srv.n_listeners++;
		sg_buf_printf(&where, "%s%s", i ? ", " : "", cfg->server.listen.v[i]);
	}
	if (cfg->admin.token_file != NULL) {
		srv.admin_token = admin_load_token(cfg->admin.token_file, &err);
		if (srv.admin_token == NULL) {
			log_error("admin.token_file: %s", err.msg);
			sg_buf_fini(&where);
			goto out;
		}
		srv.worker.admin_token = srv.admin_token;
	}
	if (cfg->admin.listen != NULL) {
		srv.admin = listener_new(&srv.worker, cfg->admin.listen, true, &err);
		if (srv.admin == NULL) {
			log_error("admin.listen: %s", err.msg);
			sg_buf_fini(&where);
			goto out;
		}
		sg_buf_printf(&where, ", admin on %s", cfg->admin.listen);
	}
	if (cfg->redis.url.n > 0) {
		srv.bridge = bridge_new(&srv.worker, &err);
		if (srv.bridge == NULL) {
			log_error("redis.url: %s", err.msg);
			sg_buf_fini(&where);
			goto out;
		}
		srv.worker.bridge = srv.bridge;
	}
	srv.sigterm = evsignal_new(srv.base, SIGTERM, on_signal, &srv);
	srv.sigint = evsignal_new(srv.base, SIGINT, on_signal, &srv);
	srv.sighup = evsignal_new(srv.base, SIGHUP, on_signal, &srv);
	event_add(srv.sigterm, NULL);
	event_add(srv.sigint, NULL);
	event_add(srv.sighup, NULL);
	log_always("siogate ready: listening on %s (path %s, %s%s)", where.data, cfg->server.path,
		   cfg->redis.url.n ? "redis bridge on" : "standalone", srv.tls ? ", TLS" : "");
	sg_buf_fini(&where);
	srv.notifier = notify_new(srv.base);
	notify_send(srv.notifier, "READY=1\nSTATUS=serving");

	event_base_dispatch(srv.base);
	status = 0;
	log_info("siogate stopped");
out:
	/* Reverse order: nothing may call back into what is already freed. */
	if (srv.worker.base != NULL)
		cluster_fini(&srv.worker);
	srv.worker.bridge = NULL;
	bridge_free(srv.bridge);
	while (srv.worker.sessions != NULL)
		eio_session_abort(srv.worker.sessions, SG_CLOSE_SHUTDOWN);
	while (srv.worker.conns != NULL)
		conn_close(srv.worker.conns, SG_CLOSE_SHUTDOWN);
	for (size_t i = 0; i < srv.n_listeners; i++)
		listener_free(srv.listeners[i]);
	free(srv.listeners);
	listener_free(srv.admin);
	free(srv.admin_token);
	if (srv.tls)
		SSL_CTX_free(srv.tls);
	if (srv.worker.base != NULL)
		worker_fini(&srv.worker);
	jwt_verifier_free(srv.jwt);
	if (srv.sigterm)
		event_free(srv.sigterm);
	if (srv.sigint)
		event_free(srv.sigint);
	if (srv.sighup)
		event_free(srv.sighup);
	if (srv.drain_check)
		event_free(srv.drain_check);
	if (srv.deadline)
		event_free(srv.deadline);
	notify_free(srv.notifier);
	config_free(srv.reloaded);
	event_base_free(srv.base);
	return status;
}
