/*
 * conformance.c: the servers that the official socketio/engine.io-protocol
 * and socketio/socket.io-protocol test suites expect, built on siogate's own
 * protocol layers (listener, conn, ws, eio, sio) with an echo application in
 * place of the helper state machine:
 *   --engine.io   an Engine.IO echo on /engine.io/ (every message sent back);
 *   --socket.io   (default) on /socket.io/ with namespaces / and /custom:
 *                 emits "auth" with the CONNECT payload, answers "message"
 *                 with "message-back" and "message-with-ack" with an ack of
 *                 the same arguments (binary attachments included).
 * Both with pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6, CORS *,
 * and a 1 s connect timeout, on 127.0.0.1:3000 (the suites' fixed URL).
 */
#include <event2/event.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"
#include "net/admission.h"
#include "net/conn.h"
#include "net/listener.h"
#include "net/proxy_accept.h"
#include "proto/sio_packet.h"
#include "sio/sio.h"

static bool echo_connect(struct sio_socket *sock);
static void echo_event(struct sio_socket *sock, const struct sio_packet *p,
		       const struct sio_attachment *att, size_t n_att);
static void echo_close(struct sio_socket *sock, enum sg_close reason);
static void eio_echo(struct eio_session *s, bool binary, const char *data, size_t len);
static void eio_quiet(struct eio_session *s, enum sg_close reason);
static void eio_nothing(struct eio_session *s);
static int echo_init(struct worker *w);
static int engine_echo_init(struct worker *w);
static const struct sio_handler echo_handler;
static void send_json(struct sio_socket *sock, bool ack, int64_t id, json_t *args,
		      const struct sio_attachment *att, size_t n_att);
static void eio_quiet(struct eio_session *s, enum sg_close reason)
{
	SG_UNUSED(s);
	SG_UNUSED(reason);
}

static void eio_nothing(struct eio_session *s)
{
	SG_UNUSED(s);
}

/* --engine.io: every Engine.IO message goes back, no Socket.IO on top. */
static const struct eio_handler engine_echo = {
	.on_message = eio_echo,
	.on_closed = eio_quiet,
	.on_free = eio_nothing,
};

/* The application of this program, as the top of its workers' layers: the
 * Socket.IO echo on the sockets (after sio_module), or the Engine.IO echo
 * on the sessions (instead of it). */
static int echo_init(struct worker *w)
{
	w->handler = &echo_handler;
	w->connect_timeout_ms = 1000;
	return 0;
}

static int engine_echo_init(struct worker *w)
{
	w->eio_handler = &engine_echo;
	return 0;
}

static const struct worker_module echo_module = { .name = "echo", .init = echo_init };
static const struct worker_module engine_echo_module = { .name = "echo", .init = engine_echo_init };
static const struct worker_module *const socket_io_modules[] = {
	&conn_module, &proxy_accept_module, &eio_module, &sio_module, &echo_module,
};
static const struct worker_module *const engine_io_modules[] = {
	&conn_module,
	&proxy_accept_module,
	&eio_module,
	&engine_echo_module,
};

static void on_stop(evutil_socket_t sig, short what, void *arg);

static const struct sio_handler echo_handler = {
	.socket_size = sizeof(struct sio_socket),
	.on_connect = echo_connect,
	.on_event = echo_event,
	.on_close = echo_close,
};

static void send_json(struct sio_socket *sock, bool ack, int64_t id, json_t *args,
		      const struct sio_attachment *att, size_t n_att)
{
	char *text = json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);

	if (text == NULL)
		return;
	if (n_att > 0)
		sio_socket_send_binary(sock, ack, id, text, strlen(text), att, n_att);
	else if (ack)
		sio_socket_send_ack(sock, id, text, strlen(text));
	else
		sio_socket_send_event(sock, text, strlen(text));
	free(text);
}

/* Answers the CONNECT itself, to send the auth event after it. */
static bool echo_connect(struct sio_socket *sock)
{
	json_t *auth = sock->auth ? json_loads(sock->auth, 0, NULL) : NULL;
	json_t *args = json_pack("[so]", "auth", auth ? auth : json_object());

	sio_socket_accept(sock);
	send_json(sock, false, -1, args, NULL, 0);
	json_decref(args);
	return true;
}

static void echo_event(struct sio_socket *sock, const struct sio_packet *p,
		       const struct sio_attachment *att, size_t n_att)
{
	const char *name = sio_event_name(p);
	json_t *args;

	if (name == NULL || strcmp(sock->nsp->name, "/") != 0)
		return;
	if (strcmp(name, "message") == 0) {
		args = json_deep_copy(p->data);
		json_array_set_new(args, 0, json_string("message-back"));
		send_json(sock, false, -1, args, att, n_att);
		json_decref(args);
	} else if (strcmp(name, "message-with-ack") == 0 && p->id >= 0) {
		args = json_deep_copy(p->data);
		json_array_remove(args, 0);
		send_json(sock, true, p->id, args, att, n_att);
		json_decref(args);
	}
}

static void echo_close(struct sio_socket *sock, enum sg_close reason)
{
	SG_UNUSED(sock);
	SG_UNUSED(reason);
}

static void eio_echo(struct eio_session *s, bool binary, const char *data, size_t len)
{
	if (binary)
		eio_send_binary(s, data, len);
	else
		eio_send_message(s, data, len);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	SG_UNUSED(sig);
	SG_UNUSED(what);
	event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
	bool engine_io = argc > 1 && strcmp(argv[1], "--engine.io") == 0;
	const char *listen =
		getenv("CONFORMANCE_LISTEN") ? getenv("CONFORMANCE_LISTEN") : "127.0.0.1:3000";
	struct sg_config_errors errs = { 0 };
	struct sg_err err = { 0 };
	struct sg_config *cfg;
	struct event_base *base;
	struct event *sigint, *sigterm;
	struct listener *l;
	struct worker w;
	struct admission *admission;
	char yaml[512];
	int n;

	n = snprintf(yaml, sizeof(yaml),
		     "server:\n"
		     "  listen: [\"%s\"]\n"
		     "  path: %s\n"
		     "  ping_interval: 300ms\n"
		     "  ping_timeout: 200ms\n"
		     "  max_payload: 1000000\n"
		     "  cors: { origins: [\"*\"] }\n"
		     "namespaces: [\"/\", \"/custom\"]\n"
		     "log: { level: %s }\n",
		     listen, engine_io ? "/engine.io/" : "/socket.io/",
		     getenv("CONFORMANCE_DEBUG") ? "debug" : "warn");
	cfg = config_load_string("conformance.yaml", yaml, (size_t)n, &errs);
	if (cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.v[i]);
		return 1;
	}
	log_configure(cfg->log.level, cfg->log.format);
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (engine_io ? worker_init(&w, base, cfg, NULL, engine_io_modules,
				    SG_ARRAY_LEN(engine_io_modules)) != 0
		      : worker_init(&w, base, cfg, NULL, socket_io_modules,
				    SG_ARRAY_LEN(socket_io_modules)) != 0)
		return 1;
	admission = admission_new();
	w.admission = admission;
	l = listener_new(&w, listen, false, &err);
	if (l == NULL) {
		fprintf(stderr, "conformance: %s\n", err.msg);
		return 1;
	}
	sigint = evsignal_new(base, SIGINT, on_stop, base);
	sigterm = evsignal_new(base, SIGTERM, on_stop, base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	log_always("conformance server ready: %s on %s", engine_io ? "engine.io" : "socket.io",
		   listen);
	event_base_dispatch(base);
	listener_free(l);
	while (w.sessions != NULL) {
		struct eio_session *s = w.sessions;
		eio_session_close(s, SG_CLOSE_SHUTDOWN, false);
		eio_session_finish(s);
	}
	while (w.conns != NULL)
		conn_close(w.conns, SG_CLOSE_SHUTDOWN);
	worker_fini(&w);
	admission_free(admission);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(base);
	config_free(cfg);
	return 0;
}
