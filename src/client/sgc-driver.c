/*
 * sgc-driver.c: a test driver for libsiogate-client, used by
 * tests/integration/client.test.js.  It reads commands as JSON lines on
 * standard input ({"op":"connect"}, {"op":"emit",...}; the list is in
 * usage_text) and calls the library's API with them; it prints the result of
 * every command ({"op":...,"rc":N}) and every callback ({"cb":"connected"},
 * {"cb":"event",...}) as JSON lines on standard output, so that a test can
 * drive every public function and observe every callback.  Invariant: one
 * output line per command and per callback, flushed at once, in the order
 * things happened.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/common.h"
#include "jsonout.h"
#include "siogate/client.h"

static const char usage_text[] =
	"usage: sgc-driver [-H 'Name: value'] [--token T] [--auth JSON] [--path P]\n"
	"                  [--namespace NSP] [--transport websocket|polling|upgrade]\n"
	"                  [--auto-auth] [--no-reconnect] [--attempts N] [--delay MS]\n"
	"                  [--delay-max MS] [--connect-timeout MS] [--ca-file F] [--insecure] URL\n"
	"Commands (JSON lines on stdin): connect, disconnect, shutdown, authenticate, state,\n"
	"refresh {token} (sgc_refresh_token),\n"
	"subscribe {event,id,ignoreDuplicate,fail}, subscribe_many {events:{event:id},\n"
	"ignoreDuplicate}, unsubscribe {event[,id]}, unsubscribe_many {events}, count {event},\n"
	"emit {event,data|args,attachments:[base64],ack,timeout,tag}, join/leave {rooms,ack,\n"
	"timeout,tag}, reply {ack_id,args}, free (sgc_client_free), quit.\n";

/* A named handler identity: (handler_cb, the struct) is the pair the
 * library compares. */
struct handler_id {
	char *name;
	bool fail;
	struct handler_id *next;
};

struct driver {
	struct event_base *base;
	struct sgc_client *c;
	struct evbuffer *in;
	struct event *ev_in;
	struct handler_id *ids;
	bool auto_auth;
};

struct ack_tag {
	struct driver *d;
	char *tag;
};

static void out_line(json_t *obj);
static void reply_rc(const char *op, int rc);
static struct handler_id *handler_named(struct driver *d, const char *name);
static int handler_cb(struct sgc_client *c, const struct sgc_event *ev, void *user);
static void ack_cb(struct sgc_client *c, int status, const struct sgc_event *reply, void *user);
static json_t *attachments_json(const struct sgc_event *ev);
static void on_connected(struct sgc_client *c, void *user);
static void on_disconnected(struct sgc_client *c, const char *reason, void *user);
static void on_error(struct sgc_client *c, const struct sgc_error *err, void *user);
static void on_authenticated(struct sgc_client *c, const json_t *data, void *user);
static void on_unauthenticated(struct sgc_client *c, const char *message, void *user);
static void on_reconnecting(struct sgc_client *c, unsigned attempt, unsigned delay_ms, void *user);
static void on_token_expiring(struct sgc_client *c, int64_t exp, void *user);
static void run_command(struct driver *d, json_t *cmd);
static void stdin_cb(evutil_socket_t fd, short what, void *arg);
static struct ack_tag *new_tag(struct driver *d, json_t *cmd);
static const char **string_array(json_t *a, size_t *n);

static void out_line(json_t *obj)
{
	struct sg_buf b;

	sg_buf_init(&b);
	sgc_json_append(&b, obj);
	sg_buf_append_char(&b, '\n');
	if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0)
		exit(1);
	sg_buf_fini(&b);
	json_decref(obj);
}

static void reply_rc(const char *op, int rc)
{
	out_line(json_pack("{s:s,s:i,s:s}", "op", op, "rc", rc, "status", sgc_strerror(rc)));
}

static struct handler_id *handler_named(struct driver *d, const char *name)
{
	struct handler_id *h;

	for (h = d->ids; h != NULL; h = h->next) {
		if (strcmp(h->name, name) == 0)
			return h;
	}
	h = sg_calloc(1, sizeof(*h));
	h->name = sg_strdup(name);
	h->next = d->ids;
	d->ids = h;
	return h;
}

static json_t *attachments_json(const struct sgc_event *ev)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < ev->n_attachments; i++) {
		struct sg_buf b;
		sg_buf_init(&b);
		base64_encode(&b, ev->attachments[i].data, ev->attachments[i].len);
		/* an empty buffer may be allocated but not terminated */
		json_array_append_new(a, json_stringn(b.data ? b.data : "", b.len));
		sg_buf_fini(&b);
	}
	return a;
}

static int handler_cb(struct sgc_client *c, const struct sgc_event *ev, void *user)
{
	struct handler_id *h = user;
	json_t *o;

	SG_UNUSED(c);
	o = json_pack("{s:s,s:s,s:s,s:O,s:O,s:o,s:I}", "cb", "event", "handler", h->name, "event",
		      ev->name, "data", ev->data ? ev->data : json_null(), "args", ev->args,
		      "attachments", attachments_json(ev), "ack_id", (json_int_t)ev->ack_id);
	out_line(o);
	return h->fail ? 7 : 0;
}

static void ack_cb(struct sgc_client *c, int status, const struct sgc_event *reply, void *user)
{
	struct ack_tag *t = user;
	json_t *o;

	SG_UNUSED(c);
	o = json_pack("{s:s,s:s,s:i,s:s}", "cb", "ack", "tag", t->tag, "status", status, "name",
		      sgc_strerror(status));
	if (reply != NULL) {
		json_object_set(o, "args", (json_t *)reply->args);
		json_object_set_new(o, "attachments", attachments_json(reply));
	}
	out_line(o);
	free(t->tag);
	free(t);
}

static void on_connected(struct sgc_client *c, void *user)
{
	struct driver *d = user;

	out_line(json_pack("{s:s,s:s,s:s,s:s}", "cb", "connected", "sid", sgc_socket_id(c),
			   "transport", sgc_transport_name(c), "state",
			   sgc_state_name(sgc_state(c))));
	if (d->auto_auth)
		reply_rc("authenticate", sgc_authenticate(c));
}

static void on_disconnected(struct sgc_client *c, const char *reason, void *user)
{
	SG_UNUSED(user);
	out_line(json_pack("{s:s,s:s,s:s}", "cb", "disconnected", "reason", reason, "state",
			   sgc_state_name(sgc_state(c))));
}

static void on_error(struct sgc_client *c, const struct sgc_error *err, void *user)
{
	SG_UNUSED(c);
	SG_UNUSED(user);
	out_line(json_pack("{s:s,s:i,s:s,s:s,s:O}", "cb", "error", "code", err->code, "name",
			   sgc_strerror(err->code), "message", err->message, "data",
			   err->data ? err->data : json_null()));
}

static void on_authenticated(struct sgc_client *c, const json_t *data, void *user)
{
	SG_UNUSED(user);
	out_line(json_pack("{s:s,s:O,s:s}", "cb", "authenticated", "data",
			   data ? data : json_null(), "state", sgc_state_name(sgc_state(c))));
}

static void on_unauthenticated(struct sgc_client *c, const char *message, void *user)
{
	SG_UNUSED(user);
	out_line(json_pack("{s:s,s:s,s:s}", "cb", "unauthenticated", "message", message, "state",
			   sgc_state_name(sgc_state(c))));
}

static void on_reconnecting(struct sgc_client *c, unsigned attempt, unsigned delay_ms, void *user)
{
	SG_UNUSED(c);
	SG_UNUSED(user);
	out_line(json_pack("{s:s,s:i,s:i}", "cb", "reconnecting", "attempt", (int)attempt, "delay",
			   (int)delay_ms));
}

static void on_token_expiring(struct sgc_client *c, int64_t exp, void *user)
{
	SG_UNUSED(user);
	out_line(json_pack("{s:s,s:I,s:s}", "cb", "token_expiring", "exp", (json_int_t)exp, "state",
			   sgc_state_name(sgc_state(c))));
}

static struct ack_tag *new_tag(struct driver *d, json_t *cmd)
{
	struct ack_tag *t = sg_calloc(1, sizeof(*t));
	json_t *tag = json_object_get(cmd, "tag");

	t->d = d;
	t->tag = sg_strdup(json_is_string(tag) ? json_string_value(tag) : "");
	return t;
}

/* A NULL-padded array of the strings of a (borrowed from a). */
static const char **string_array(json_t *a, size_t *n)
{
	const char **v;
	size_t i;

	*n = json_array_size(a);
	v = sg_calloc(*n + 1, sizeof(*v));
	for (i = 0; i < *n; i++)
		v[i] = json_string_value(json_array_get(a, i));
	return v;
}

static void run_command(struct driver *d, json_t *cmd)
{
	const char *op = json_string_value(json_object_get(cmd, "op"));
	const char *event = json_string_value(json_object_get(cmd, "event"));
	unsigned timeout = (unsigned)json_integer_value(json_object_get(cmd, "timeout"));
	bool ack = json_is_true(json_object_get(cmd, "ack"));
	json_t *dup = json_object_get(cmd, "ignoreDuplicate");
	bool ignore_dup = dup == NULL || json_is_true(dup);

	if (op == NULL) {
		out_line(json_pack("{s:s,s:s}", "op", "?", "error", "no op"));
		return;
	}
	if (d->c == NULL && strcmp(op, "quit") != 0) {
		out_line(json_pack("{s:s,s:s}", "op", op, "error", "client freed"));
		return;
	}
	if (strcmp(op, "connect") == 0) {
		reply_rc(op, sgc_connect(d->c));
	} else if (strcmp(op, "disconnect") == 0) {
		sgc_disconnect(d->c);
		reply_rc(op, 0);
	} else if (strcmp(op, "shutdown") == 0) {
		sgc_shutdown(d->c);
		reply_rc(op, 0);
	} else if (strcmp(op, "authenticate") == 0) {
		reply_rc(op, sgc_authenticate(d->c));
	} else if (strcmp(op, "refresh") == 0) {
		reply_rc(op,
			 sgc_refresh_token(d->c, json_string_value(json_object_get(cmd, "token"))));
	} else if (strcmp(op, "state") == 0) {
		static const char *const conn[] = { "disconnected", "connecting", "connected",
						    "reconnecting" };
		const char *sid = sgc_socket_id(d->c), *tr = sgc_transport_name(d->c);
		out_line(json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "op", op, "state",
				   sgc_state_name(sgc_state(d->c)), "conn",
				   conn[sgc_conn_state(d->c)], "sid", sid, "transport", tr));
	} else if (strcmp(op, "subscribe") == 0) {
		const char *id = json_string_value(json_object_get(cmd, "id"));
		struct handler_id *h = handler_named(d, id ? id : "h");
		h->fail = json_is_true(json_object_get(cmd, "fail"));
		reply_rc(op, sgc_subscribe(d->c, event, handler_cb, h, ignore_dup));
	} else if (strcmp(op, "subscribe_many") == 0) {
		json_t *events = json_object_get(cmd, "events"), *v;
		struct sgc_subscription subs[32];
		const char *key;
		size_t n = 0;
		json_object_foreach(events, key, v)
		{
			if (n == SG_ARRAY_LEN(subs))
				break;
			subs[n].event = key;
			subs[n].handler = handler_cb;
			subs[n].user =
				handler_named(d, json_is_string(v) ? json_string_value(v) : "h");
			n++;
		}
		reply_rc(op, sgc_subscribe_many(d->c, subs, n, ignore_dup));
	} else if (strcmp(op, "unsubscribe") == 0) {
		const char *id = json_string_value(json_object_get(cmd, "id"));
		reply_rc(op, id ? sgc_unsubscribe(d->c, event, handler_cb, handler_named(d, id))
				: sgc_unsubscribe(d->c, event, NULL, NULL));
	} else if (strcmp(op, "unsubscribe_many") == 0) {
		size_t n;
		const char **v = string_array(json_object_get(cmd, "events"), &n);
		reply_rc(op, sgc_unsubscribe_many(d->c, v, n));
		free(v);
	} else if (strcmp(op, "count") == 0) {
		out_line(
			json_pack("{s:s,s:i}", "op", op, "n", (int)sgc_handler_count(d->c, event)));
	} else if (strcmp(op, "emit") == 0) {
		json_t *args = json_object_get(cmd, "args"), *data = json_object_get(cmd, "data");
		json_t *atts = json_object_get(cmd, "attachments");
		struct sg_buf bufs[16];
		struct sgc_binary bins[16];
		struct sgc_emit e;
		size_t i, n = json_array_size(atts);
		json_t *own = NULL;
		int rc;

		if (n > SG_ARRAY_LEN(bins))
			n = SG_ARRAY_LEN(bins);
		for (i = 0; i < n; i++) {
			json_t *s = json_array_get(atts, i);
			sg_buf_init(&bufs[i]);
			if (base64_decode(&bufs[i], json_string_value(s), json_string_length(s)) !=
			    0)
				sg_buf_reset(&bufs[i]);
			bins[i].data = bufs[i].data;
			bins[i].len = bufs[i].len;
		}
		if (args == NULL && data != NULL) {
			own = json_array();
			json_array_append(own, data);
			args = own;
		}
		if (!ack && n == 0 && json_array_size(args) <= 1 &&
		    json_object_get(cmd, "args") == NULL) {
			rc = sgc_emit(d->c, event, data);
		} else {
			memset(&e, 0, sizeof(e));
			e.event = event;
			e.args = args;
			e.attachments = n ? bins : NULL;
			e.n_attachments = n;
			if (ack) {
				e.ack = ack_cb;
				e.ack_user = new_tag(d, cmd);
				e.ack_timeout_ms = timeout;
			}
			rc = sgc_emit_ex(d->c, &e);
			if (rc != SGC_OK && ack) {
				struct ack_tag *t = e.ack_user;
				free(t->tag);
				free(t);
			}
		}
		json_decref(own);
		for (i = 0; i < n; i++)
			sg_buf_fini(&bufs[i]);
		reply_rc(op, rc);
	} else if (strcmp(op, "join") == 0 || strcmp(op, "leave") == 0) {
		size_t n;
		const char **v = string_array(json_object_get(cmd, "rooms"), &n);
		struct ack_tag *t = ack ? new_tag(d, cmd) : NULL;
		int rc = strcmp(op, "join") == 0
				 ? sgc_join_rooms(d->c, v, n, t ? ack_cb : NULL, t, timeout)
				 : sgc_leave_rooms(d->c, v, n, t ? ack_cb : NULL, t, timeout);
		if (rc != SGC_OK && t) {
			free(t->tag);
			free(t);
		}
		free(v);
		reply_rc(op, rc);
	} else if (strcmp(op, "reply") == 0) {
		reply_rc(op,
			 sgc_ack(d->c, (int64_t)json_integer_value(json_object_get(cmd, "ack_id")),
				 json_object_get(cmd, "args")));
	} else if (strcmp(op, "free") == 0) {
		sgc_client_free(d->c);
		d->c = NULL;
		reply_rc(op, 0);
	} else if (strcmp(op, "quit") == 0) {
		reply_rc(op, 0);
		event_base_loopbreak(d->base);
	} else {
		out_line(json_pack("{s:s,s:s}", "op", op, "error", "unknown op"));
	}
}

static void stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct driver *d = arg;
	char *line;
	size_t len;
	int n;

	SG_UNUSED(what);
	n = evbuffer_read(d->in, fd, 65536);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	while ((line = evbuffer_readln(d->in, &len, EVBUFFER_EOL_LF)) != NULL) {
		json_error_t jerr;
		json_t *cmd = json_loadb(line, len, 0, &jerr);
		free(line);
		if (cmd == NULL) {
			out_line(json_pack("{s:s,s:s}", "op", "?", "error", jerr.text));
			continue;
		}
		run_command(d, cmd);
		json_decref(cmd);
	}
	if (n <= 0)
		event_base_loopbreak(d->base); /* end of input: quit */
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "header", required_argument, NULL, 'H' },
		{ "token", required_argument, NULL, 't' },
		{ "auth", required_argument, NULL, 'a' },
		{ "path", required_argument, NULL, 'p' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "transport", required_argument, NULL, 'T' },
		{ "auto-auth", no_argument, NULL, 1 },
		{ "no-reconnect", no_argument, NULL, 2 },
		{ "attempts", required_argument, NULL, 3 },
		{ "delay", required_argument, NULL, 4 },
		{ "delay-max", required_argument, NULL, 5 },
		{ "connect-timeout", required_argument, NULL, 6 },
		{ "ca-file", required_argument, NULL, 7 },
		{ "insecure", no_argument, NULL, 8 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct driver d;
	struct sgc_options o;
	struct sg_strv headers = { NULL, 0 };
	struct sg_buf tokhdr;
	char err[300];
	int opt;

	memset(&d, 0, sizeof(d));
	sgc_options_init(&o);
	o.identifier = "sgc-driver";
	sg_buf_init(&tokhdr);
	while ((opt = getopt_long(argc, argv, "H:t:a:p:n:T:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'H':
			sg_strv_push(&headers, optarg);
			break;
		case 't':
			sg_buf_reset(&tokhdr);
			sg_buf_printf(&tokhdr, "Authorization: Bearer %s", optarg);
			sg_strv_push(&headers, tokhdr.data);
			break;
		case 'a':
			o.auth = optarg;
			break;
		case 'p':
			o.path = optarg;
			break;
		case 'n':
			o.nsp = optarg;
			break;
		case 'T':
			o.transports = strcmp(optarg, "polling") == 0	? SGC_TRANSPORT_POLLING
				       : strcmp(optarg, "upgrade") == 0 ? SGC_TRANSPORT_ANY
									: SGC_TRANSPORT_WEBSOCKET;
			break;
		case 1:
			d.auto_auth = true;
			break;
		case 2:
			o.reconnection = false;
			break;
		case 3:
			o.reconnection_attempts = (unsigned)atoi(optarg);
			break;
		case 4:
			o.reconnection_delay_ms = (unsigned)atoi(optarg);
			break;
		case 5:
			o.reconnection_delay_max_ms = (unsigned)atoi(optarg);
			break;
		case 6:
			o.connect_timeout_ms = (unsigned)atoi(optarg);
			break;
		case 7:
			o.tls_ca_file = optarg;
			break;
		case 8:
			o.tls_verify = false;
			break;
		default:
			fputs(usage_text, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_text, stderr);
		return 2;
	}
	o.url = argv[optind];
	headers.v = sg_realloc(headers.v, (headers.n + 1) * sizeof(*headers.v));
	headers.v[headers.n] = NULL;
	o.headers = (const char *const *)headers.v;
	o.on_connected = on_connected;
	o.on_disconnected = on_disconnected;
	o.on_error = on_error;
	o.on_authenticated = on_authenticated;
	o.on_unauthenticated = on_unauthenticated;
	o.on_reconnecting = on_reconnecting;
	o.on_token_expiring = on_token_expiring;
	o.user = &d;
	signal(SIGPIPE, SIG_IGN);
	d.base = event_base_new();
	d.c = sgc_client_new(d.base, &o, err, sizeof(err));
	sg_strv_free(&headers);
	sg_buf_fini(&tokhdr);
	if (d.c == NULL) {
		fprintf(stderr, "sgc-driver: %s\n", err);
		return 2;
	}
	d.in = evbuffer_new();
	evutil_make_socket_nonblocking(STDIN_FILENO);
	d.ev_in = event_new(d.base, STDIN_FILENO, EV_READ | EV_PERSIST, stdin_cb, &d);
	event_add(d.ev_in, NULL);
	out_line(json_pack("{s:s}", "cb", "ready"));
	event_base_dispatch(d.base);
	sgc_client_free(d.c);
	while (d.ids != NULL) {
		struct handler_id *h = d.ids;
		d.ids = h->next;
		free(h->name);
		free(h);
	}
	event_free(d.ev_in);
	evbuffer_free(d.in);
	/* nothing of ours is left on the base: libevent releases freed buffers */
	(void)event_base_loop(d.base, EVLOOP_NONBLOCK);
	event_base_free(d.base);
	return 0;
}
