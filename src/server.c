/*
 * server.c: start-up, signals, reload and graceful shutdown (see server.h).
 * The server struct lives on server_run()'s stack: it is the owner of every
 * long-lived object, and nothing here is global.  It runs on worker 0's
 * thread and reaches the other workers only through gather() and their
 * inboxes.  Shutdown stops the listeners, has every worker close its
 * sessions with a transport close (so socket.io-client reconnects
 * elsewhere) and wait for the output to drain, bounded by
 * server.shutdown_timeout.  A reload (SIGHUP) reads, parses and validates the
 * file, and loads its keys and certificates, on a thread of its own, so
 * that a slow or hostile file never holds up the loops; only the swap of
 * the finished snapshot runs on the loop.
 */
#include "server.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <openssl/opensslv.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "app/auth_jwt.h"
#include "app/jwks_fetch.h"
#include "config/config.h"
#include "config/config_secret.h"
#include "core/gather.h"
#include "core/inbox.h"
#include "core/log.h"
#include "core/worker.h"
#include "net/admission.h"
#include "net/fdlimit.h"
#include "net/listener.h"
#include "net/tls.h"
#include "ops/admin.h"
#include "ops/notify.h"
#include "worker_set.h"

struct server {
	const struct sg_config *cfg; /* the running snapshot */
	struct sg_config *reloaded;  /* owned when cfg came from a reload */
	struct notifier *notifier;
	struct event_base *base; /* worker 0's */
	struct jwt_verifier *jwt;
	struct jwt_remote *remote; /* the issuer's keys (auth.jwt.jwks_url, discovery) */
	struct jwks_fetch *jwks;   /* ... and their fetcher */
	struct worker_set *workers;
	struct worker *w0; /* the worker on this thread */
	struct listener **listeners;
	size_t n_listeners;
	struct listener *admin;
	char *admin_token;
	SSL_CTX *tls;
	struct event *sigterm, *sigint, *sighup, *deadline;
	struct reload_load *loading; /* the reload being read on its thread, or NULL */
	bool reload_again;	     /* a SIGHUP came meanwhile: reload once more after */
	bool stopping;
};

/* A reload being read off the loop.  The thread owns it until it posts
 * the job (the first member) to worker 0's inbox; from then on the loop
 * does, in reload_loaded().  A shutdown that finds it still reading marks
 * it abandoned instead of waiting (a FIFO or a hung file system may never
 * answer): the thread then frees it itself and posts nothing. */
struct reload_load {
	struct job job;
	struct server *srv;
	struct inbox *inbox; /* worker 0's, where the job goes */
	char *path;	     /* the file (owned copy) */
	bool tls_on;	     /* TLS is served: load the new pair too */
	pthread_t thread;
	bool joined;
	pthread_mutex_t mu; /* guards done and abandoned */
	bool done;	    /* the thread has finished reading */
	bool abandoned;	    /* nobody waits for it any more */
	/* written by the thread, read by the loop after the post */
	struct sg_config *cfg; /* NULL: errs says why */
	struct sg_config_errors errs;
	struct jwt_verifier *jwt; /* NULL with auth.verifier: jwt: jwt_err says why */
	struct sg_err jwt_err;
	SSL_CTX *tls; /* NULL: unchanged, or tls_err says why */
	struct sg_err tls_err;
};

/* A reload on its way to every worker: what they switch to, and what the
 * last of them to switch lets go of. */
struct reload {
	struct server *srv;
	const struct sg_config *cfg;
	const struct jwt_verifier *jwt;
	SSL_CTX *tls; /* NULL: unchanged */
	struct sg_config *old_cfg;
	struct jwt_verifier *old_jwt;
	SSL_CTX *old_tls;
};

static void on_signal(evutil_socket_t sig, short what, void *arg);
static void begin_shutdown(struct server *srv);
static void on_all_drained(void *arg);
static void on_deadline(evutil_socket_t fd, short what, void *arg);
/* A weak HMAC key accepted because of auth.jwt.allow_weak_secret: said
 * at every start and reload (never the key itself). */
static void warn_weak_secret(const struct sg_config *cfg)
{
	struct sg_buf msg;

	sg_buf_init(&msg);
	if (cfg_weak_secret_accepted(cfg, &msg))
		log_warn("auth.jwt.allow_weak_secret: accepting a weak key: %s", msg.data);
	sg_buf_fini(&msg);
}

static void log_versions(void);
static void reload_start(struct server *srv);
static void *reload_thread(void *arg);
static void reload_loaded(struct worker *w, struct job *j);
static void reload_load_free(struct reload_load *ld);
static void reload_failed(struct server *srv);
static void reload_apply(struct server *srv, struct reload_load *ld);
static void reload_part(struct worker *w, const void *ctx, struct sg_buf *out);
static void reload_done(struct worker *origin, void *ctx, struct sg_buf *parts, size_t n);
static int listen_all(struct server *srv, struct sg_buf *where, struct sg_err *err);
static void limit_clients(struct server *srv, size_t n_workers);

char *server_versions(char *buf, size_t size)
{
	snprintf(buf, size, "libevent %s, hiredis %d.%d.%d, libcurl %s, jansson %s, %s, libyaml %s",
		 event_get_version(), HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH,
		 curl_version_info(CURLVERSION_NOW)->version, JANSSON_VERSION, OPENSSL_VERSION_TEXT,
		 yaml_get_version_string());
	return buf;
}

static void log_versions(void)
{
	char versions[256];

	log_info("siogate %s starting (%s)", SG_VERSION,
		 server_versions(versions, sizeof(versions)));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	SG_UNUSED(what);
	if (sig == SIGHUP) {
		if (srv->stopping)
			return;
		if (srv->loading != NULL) {
			log_info("SIGHUP: a reload is being read; the file is read again after it");
			srv->reload_again = true;
			return;
		}
		reload_start(srv);
		return;
	}
	if (srv->stopping) {
		log_warn("second stop signal: exiting now");
		worker_set_stop(srv->workers);
		event_base_loopbreak(srv->base);
		return;
	}
	log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	begin_shutdown(srv);
}

/* SIGHUP: read the file again on a thread of its own (reload_thread); the
 * loop goes on meanwhile, and swaps the result in when it is ready
 * (reload_loaded).  Anything wrong and the running configuration stays. */
static void reload_start(struct server *srv)
{
	struct reload_load *ld = sg_calloc(1, sizeof(*ld));
	int e;

	notify_reloading(srv->notifier);
	log_info("SIGHUP: reloading %s", srv->cfg->file);
	ld->srv = srv;
	ld->inbox = srv->w0->inbox;
	ld->path = sg_strdup(srv->cfg->file);
	ld->tls_on = srv->tls != NULL;
	ld->job.run = reload_loaded;
	pthread_mutex_init(&ld->mu, NULL);
	e = pthread_create(&ld->thread, NULL, reload_thread, ld);
	if (e != 0) {
		log_error("reload: cannot start a thread: %s; the running configuration is kept",
			  strerror(e));
		ld->joined = true;
		reload_load_free(ld);
		reload_failed(srv);
		return;
	}
	srv->loading = ld;
}

/* Off the loop: everything a reload reads from files, and nothing else
 * (no logging, no server state but what ld carries). */
static void *reload_thread(void *arg)
{
	struct reload_load *ld = arg;
	bool abandoned;

	ld->cfg = config_load(ld->path, &ld->errs);
	if (ld->cfg != NULL && ld->cfg->auth.verifier == SG_VERIFIER_JWT)
		ld->jwt = jwt_verifier_new(ld->cfg, &ld->jwt_err);
	if (ld->cfg != NULL && ld->tls_on && ld->cfg->server.tls.cert != NULL &&
	    (ld->cfg->auth.verifier != SG_VERIFIER_JWT || ld->jwt != NULL))
		ld->tls = tls_ctx_new(ld->cfg->server.tls.cert, ld->cfg->server.tls.key,
				      &ld->tls_err);
	pthread_mutex_lock(&ld->mu);
	ld->done = true;
	abandoned = ld->abandoned;
	if (!abandoned)
		inbox_post(ld->inbox, &ld->job);
	pthread_mutex_unlock(&ld->mu);
	if (abandoned)
		reload_load_free(ld); /* the server is gone: nobody else will */
	return NULL;
}

static void reload_load_free(struct reload_load *ld)
{
	config_errors_free(&ld->errs);
	jwt_verifier_free(ld->jwt);
	if (ld->tls != NULL)
		SSL_CTX_free(ld->tls);
	config_free(ld->cfg);
	free(ld->path);
	pthread_mutex_destroy(&ld->mu);
	free(ld);
}

static void reload_failed(struct server *srv)
{
	notify_send(srv->notifier, "READY=1\nSTATUS=reload failed; running configuration kept");
}

/* Back on worker 0's loop with what the thread read. */
static void reload_loaded(struct worker *w, struct job *j)
{
	struct reload_load *ld = (struct reload_load *)j; /* job is its first member */
	struct server *srv = ld->srv;

	SG_UNUSED(w);
	if (!ld->joined)
		pthread_join(ld->thread, NULL); /* it has posted: it is returning */
	srv->loading = NULL;
	if (srv->stopping) {
		reload_load_free(ld);
		return;
	}
	reload_apply(srv, ld);
	if (srv->reload_again && !srv->stopping) {
		srv->reload_again = false;
		reload_start(srv);
	}
}

/* Keeps what cannot change while running (and says so), takes the new
 * verifier and certificate, then has every worker swap the snapshot. */
static void reload_apply(struct server *srv, struct reload_load *ld)
{
	struct sg_config *next = ld->cfg;
	struct jwt_verifier *jwt = ld->jwt;
	const char *kept[32];
	struct reload *r;
	size_t n_kept;

	if (next == NULL) {
		for (size_t i = 0; i < ld->errs.n; i++)
			log_error("reload: %s", ld->errs.v[i]);
		log_error("reload: %s has errors; the running configuration is kept", ld->path);
		reload_load_free(ld);
		reload_failed(srv);
		return;
	}
	if (next->auth.verifier == SG_VERIFIER_JWT && ld->jwt == NULL) {
		log_error("reload: auth.jwt: %s; the running configuration is kept",
			  ld->jwt_err.msg);
		reload_load_free(ld);
		reload_failed(srv);
		return;
	}
	n_kept = config_reload_merge(next, srv->cfg, kept, SG_ARRAY_LEN(kept));
	if (jwt != NULL && jwt_remote_wanted(next)) {
		if (srv->remote == NULL) {
			log_error("reload: auth.jwt: keys from the issuer (jwks_url, or OIDC "
				  "discovery from an https issuer) need a restart; the running "
				  "configuration is kept");
			reload_load_free(ld);
			reload_failed(srv);
			return;
		}
		jwt_verifier_attach(jwt, srv->remote);
	}
	for (size_t i = 0; i < n_kept && i < SG_ARRAY_LEN(kept); i++)
		log_warn(
			"reload: %s changed, but only a restart applies it; keeping the running value",
			kept[i]);
	r = sg_calloc(1, sizeof(*r));
	r->srv = srv;
	r->cfg = next;
	r->jwt = jwt;
	r->old_cfg = srv->reloaded;
	r->old_jwt = srv->jwt;
	if (next->server.tls.cert != NULL && srv->tls != NULL) {
		/* new connections get the new pair; a bad pair keeps the old one */
		if (ld->tls == NULL) {
			log_error("reload: %s; keeping the running certificate", ld->tls_err.msg);
		} else {
			r->old_tls = srv->tls; /* connections hold their own references */
			r->tls = ld->tls;
			srv->tls = ld->tls;
			log_info("reload: TLS certificate loaded from %s", next->server.tls.cert);
		}
	} else if ((next->server.tls.cert != NULL) != (srv->tls != NULL)) {
		log_warn("reload: turning TLS on or off needs a restart");
	}
	/* the snapshot, verifier and context are the server's now */
	ld->cfg = NULL;
	ld->jwt = NULL;
	ld->tls = NULL;
	reload_load_free(ld);
	srv->jwt = jwt;
	srv->reloaded = next;
	srv->cfg = next;
	log_configure(next->log.level, next->log.format);
	gather(srv->w0, -1, reload_part, reload_done, r);
}

/* On each worker: nothing keeps pointers into a snapshot across loop
 * turns, so switching is a matter of pointers. */
static void reload_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct reload *r = ctx;

	SG_UNUSED(out);
	w->cfg = r->cfg;
	w->jwt = r->jwt;
	if (r->tls != NULL)
		w->tls = r->tls;
	if (worker_apply_config(w) != 0)
		log_warn("reload: could not re-arm worker %u's timers", (unsigned)w->index);
}

/* Every worker switched: the old snapshot is nobody's any more. */
static void reload_done(struct worker *origin, void *ctx, struct sg_buf *parts, size_t n)
{
	struct reload *r = ctx;

	SG_UNUSED(origin);
	SG_UNUSED(parts);
	SG_UNUSED(n);
	jwt_verifier_free(r->old_jwt);
	config_free(r->old_cfg);
	if (r->old_tls != NULL)
		SSL_CTX_free(r->old_tls);
	log_info("reload: configuration applied");
	warn_weak_secret(r->srv->cfg);
	notify_send(r->srv->notifier, "READY=1\nSTATUS=serving");
	free(r);
}

static void begin_shutdown(struct server *srv)
{
	struct timeval deadline = worker_ms_tv(srv->cfg->server.shutdown_timeout_ms);

	srv->stopping = true;
	notify_send(srv->notifier, "STOPPING=1");
	for (size_t i = 0; i < srv->n_listeners; i++)
		listener_disable(srv->listeners[i]);
	srv->deadline = event_new(srv->base, -1, 0, on_deadline, srv);
	event_add(srv->deadline, &deadline);
	worker_set_drain(srv->workers, on_all_drained, srv);
}

static void on_all_drained(void *arg)
{
	struct server *srv = arg;

	worker_set_stop(srv->workers);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	log_warn("shutdown_timeout reached with connections still open; closing them");
	worker_set_stop(srv->workers);
}

static int listen_all(struct server *srv, struct sg_buf *where, struct sg_err *err)
{
	const struct sg_config *cfg = srv->cfg;

	srv->listeners = sg_calloc(cfg->server.listen.n, sizeof(*srv->listeners));
	for (size_t i = 0; i < cfg->server.listen.n; i++) {
		srv->listeners[i] = listener_new(srv->w0, cfg->server.listen.v[i], false, err);
		if (srv->listeners[i] == NULL)
			return -1;
		srv->n_listeners++;
		sg_buf_printf(where, "%s%s", i ? ", " : "", cfg->server.listen.v[i]);
	}
	if (cfg->admin.listen != NULL) {
		srv->admin = listener_new(srv->w0, cfg->admin.listen, true, err);
		if (srv->admin == NULL) {
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			sg_err_set(err, "admin.listen: %s", msg);
			return -1;
		}
		sg_buf_printf(where, ", admin on %s", cfg->admin.listen);
	}
	return 0;
}

/* The descriptor ceiling (fdlimit.h): server.max_connections: auto, or an
 * explicit value lowered to what the open-file limit allows, with a warning
 * naming both numbers. */
static void limit_clients(struct server *srv, size_t n_workers)
{
	const struct sg_config *cfg = srv->cfg;
	struct sg_err err = { 0 };
	struct fdlimit fl;

	if (fdlimit_setup(cfg, n_workers, &fl, &err) != 0) {
		log_warn("%s: server.max_connections is not checked against it", err.msg);
		return;
	}
	admission_set_ceiling(srv->w0->admission, fl.max_clients);
	if (fl.nofile != fl.was)
		log_info("open-file limit raised from %llu to the hard limit, %llu",
			 (unsigned long long)fl.was, (unsigned long long)fl.nofile);
	if (cfg->server.max_connections > fl.max_clients)
		log_warn("server.max_connections (%u) is more than the open-file limit allows "
			 "(%llu descriptors, %u kept for listeners, Redis and call-outs): "
			 "at most %u clients; raise LimitNOFILE (ulimit -n) to serve more",
			 cfg->server.max_connections, (unsigned long long)fl.nofile, fl.reserve,
			 fl.max_clients);
	else
		log_info("open-file limit %llu, %u descriptors kept for listeners, Redis and "
			 "call-outs: at most %u clients",
			 (unsigned long long)fl.nofile, fl.reserve,
			 cfg->server.max_connections ? cfg->server.max_connections
						     : fl.max_clients);
}

int server_run(const struct sg_config *cfg)
{
	struct server srv;
	struct sg_err err = { 0 };
	struct sg_buf where;
	size_t n_workers = worker_set_count(cfg);
	int status = 1;

	memset(&srv, 0, sizeof(srv));
	srv.cfg = cfg;
	sg_buf_init(&where);
	log_versions();
	warn_weak_secret(cfg);
	signal(SIGPIPE, SIG_IGN);
	srv.base = event_base_new();
	if (srv.base == NULL) {
		log_error("cannot create the event loop");
		goto out;
	}
	srv.jwt = cfg->auth.verifier == SG_VERIFIER_JWT ? jwt_verifier_new(cfg, &err) : NULL;
	if (srv.jwt == NULL && cfg->auth.verifier == SG_VERIFIER_JWT) {
		log_error("auth.jwt: %s", err.msg);
		goto out;
	}
	if (srv.jwt != NULL && jwt_remote_wanted(cfg)) {
		/* the first fetch is waited for: no client is served without keys */
		srv.remote = jwt_remote_new(cfg->auth.jwt.jwks_min_refresh_ms);
		srv.jwks = jwks_fetch_start(cfg, srv.remote, &err);
		if (srv.jwks == NULL) {
			log_error("%s", err.msg);
			goto out;
		}
		jwt_verifier_attach(srv.jwt, srv.remote);
	}
	if (cfg->server.tls.cert != NULL) {
		srv.tls = tls_ctx_new(cfg->server.tls.cert, cfg->server.tls.key, &err);
		if (srv.tls == NULL) {
			log_error("%s", err.msg);
			goto out;
		}
	}
	if (cfg->admin.token_file != NULL) {
		srv.admin_token = admin_load_token(cfg->admin.token_file, &err);
		if (srv.admin_token == NULL) {
			log_error("admin.token_file: %s", err.msg);
			goto out;
		}
	}
	srv.workers =
		worker_set_new(srv.base, cfg, srv.jwt, srv.tls, srv.admin_token, n_workers, &err);
	if (srv.workers == NULL) {
		log_error("%s%s", cfg->redis.url.n > 0 ? "redis.url: " : "", err.msg);
		goto out;
	}
	srv.w0 = worker_set_get(srv.workers, 0);
	limit_clients(&srv, n_workers);
	if (listen_all(&srv, &where, &err) != 0) {
		log_error("%s", err.msg);
		goto out;
	}
	srv.sigterm = evsignal_new(srv.base, SIGTERM, on_signal, &srv);
	srv.sigint = evsignal_new(srv.base, SIGINT, on_signal, &srv);
	srv.sighup = evsignal_new(srv.base, SIGHUP, on_signal, &srv);
	event_add(srv.sigterm, NULL);
	event_add(srv.sigint, NULL);
	event_add(srv.sighup, NULL);
	if (worker_set_start(srv.workers, &err) != 0) {
		log_error("%s", err.msg);
		goto out;
	}
	log_always("siogate ready: listening on %s (path %s, %s%s, %zu worker%s)", where.data,
		   cfg->server.path, cfg->redis.url.n ? "redis bridge on" : "standalone",
		   srv.tls ? ", TLS" : "", n_workers, n_workers == 1 ? "" : "s");
	srv.notifier = notify_new(srv.base);
	notify_send(srv.notifier, "READY=1\nSTATUS=serving");

	event_base_dispatch(srv.base);
	status = 0;
	log_info("siogate stopped");
out:
	/* Reverse order: nothing may call back into what is already freed.
	 * A reload that was read is dropped when worker_set_free runs the
	 * last jobs; one still being read is left to its thread. */
	srv.stopping = true;
	if (srv.loading != NULL) {
		struct reload_load *ld = srv.loading;
		bool done;

		pthread_mutex_lock(&ld->mu);
		done = ld->done;
		ld->abandoned = !done;
		pthread_mutex_unlock(&ld->mu);
		if (done) {
			pthread_join(ld->thread, NULL);
			ld->joined = true;
		} else {
			log_warn("reload: %s is still being read; stopping without it", ld->path);
			pthread_detach(ld->thread);
			srv.loading = NULL;
		}
	}
	sg_buf_fini(&where);
	for (size_t i = 0; i < srv.n_listeners; i++)
		listener_free(srv.listeners[i]);
	free(srv.listeners);
	listener_free(srv.admin);
	worker_set_free(srv.workers);
	free(srv.admin_token);
	if (srv.tls)
		SSL_CTX_free(srv.tls);
	jwks_fetch_stop(srv.jwks);
	jwt_verifier_free(srv.jwt);
	jwt_remote_free(srv.remote);
	if (srv.sigterm)
		event_free(srv.sigterm);
	if (srv.sigint)
		event_free(srv.sigint);
	if (srv.sighup)
		event_free(srv.sighup);
	if (srv.deadline)
		event_free(srv.deadline);
	notify_free(srv.notifier);
	config_free(srv.reloaded);
	if (srv.base)
		event_base_free(srv.base);
	return status;
}
