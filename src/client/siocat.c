/*
 * siocat.c: a command-line Socket.IO client on libsiogate-client.  It
 * connects, runs the helper's flow (authenticate, then join the rooms asked
 * for), prints every event received as one JSON line on standard output, and
 * emits the events read from standard input (lines `EVENT [JSON]`).  Lines
 * read before the client is ready wait in a queue and go out in order once
 * it is.  When the server warns that the token expires (token:expiring), a
 * new one comes from --refresh-cmd (cmdrun.c) or --token-file and is sent
 * with sgc_refresh_token().  Invariant: siocat ends through finish() only,
 * which records the first exit status, disconnects cleanly, and lets the
 * event loop run out.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmdrun.h"
#include "core/base64.h"
#include "core/common.h"
#include "jsonout.h"
#include "siogate/client.h"

#define EXIT_OK 0	    /* input ended, clean disconnect (or SIGINT / SIGTERM) */
#define EXIT_INTERNAL 1	    /* unexpected failure (memory, event loop, output) */
#define EXIT_USAGE 2	    /* bad command line */
#define EXIT_CONNECT 3	    /* cannot connect (DNS, TCP, TLS, HTTP refusal, timeout) */
#define EXIT_AUTH 4	    /* authentication refused or namespace refused */
#define EXIT_PROTOCOL 5	    /* the server broke the protocol */
#define EXIT_DISCONNECTED 6 /* the server disconnected siocat, or the connection was lost */

#define JOIN_TIMEOUT_MS 5000
#define DEFAULT_ACK_MS 5000
#define DEFAULT_REFRESH_MS 10000
#define MAX_TOKEN 16384 /* bytes of a token from --token-file or --refresh-cmd */

static const char usage_text[] =
	"usage: siocat [options] URL\n"
	"Connects to a Socket.IO v4 server, authenticates, joins rooms, prints every event\n"
	"received as a JSON line {\"event\":...,\"data\":...} and emits the events read from\n"
	"standard input as lines `EVENT [JSON]`.\n"
	"\n"
	"  -H, --header 'NAME: VALUE'  extra HTTP header (repeatable)\n"
	"  -t, --token TOKEN           send 'Authorization: Bearer TOKEN' and auth {\"token\":TOKEN}\n"
	"      --token-file FILE       --token with the token in FILE, read again each time the\n"
	"                              server warns that the token expires (token:expiring)\n"
	"      --refresh-cmd COMMAND   when the server warns that the token expires, run\n"
	"                              COMMAND (sh -c; $SIOCAT_TOKEN_EXP holds the expiry)\n"
	"                              and send what it prints as the new token\n"
	"      --refresh-timeout MS    bound on COMMAND's run (default 10000)\n"
	"  -a, --auth JSON             the CONNECT auth payload (a JSON object)\n"
	"  -p, --path PATH             Engine.IO path (default /socket.io/)\n"
	"  -n, --namespace NSP         namespace (default: the URL's path, else /)\n"
	"  -j, --join ROOM[,ROOM...]   rooms to join once authenticated (repeatable)\n"
	"  -T, --transport NAME        websocket (default), polling, or upgrade\n"
	"                              (long-polling, then the upgrade to WebSocket)\n"
	"      --no-auth               skip the authenticate flow (ready once connected)\n"
	"      --ack[=MS]              ask an ack for every emitted line and print the\n"
	"                              answer {\"ack\":EVENT,\"args\":[...]} (timeout MS, default 5000)\n"
	"  -k, --keep-open             keep running when standard input ends\n"
	"      --no-reconnect          exit when the connection is lost\n"
	"      --ping                  also print the server's `ping` events\n"
	"      --ca-file FILE          trusted CA certificates (PEM) for https:// and wss://\n"
	"      --insecure              do not verify the server's TLS certificate\n"
	"  -v, --verbose               report the connection's progress on standard error\n"
	"  -h, --help                  print this help and exit\n"
	"  -V, --version               print the version and exit\n"
	"\n"
	"Binary data: a JSON object {\"_binary\":\"BASE64\"} stands for a binary attachment,\n"
	"in printed events and in input lines alike.\n"
	"\n"
	"Exit status: 0 input ended and siocat disconnected (or SIGINT/SIGTERM); 1 internal\n"
	"error; 2 usage; 3 cannot connect; 4 authentication or namespace refused (a token\n"
	"refused, or expired without a refresh); 5 protocol error; 6 disconnected by the\n"
	"server, or connection lost with --no-reconnect.\n";

struct line {
	char *event;
	json_t *args;	     /* array, placeholders for the attachments */
	struct sg_buf *bins; /* decoded attachments */
	size_t n_bins;
	struct line *next;
};

struct siocat {
	struct event_base *base;
	struct sgc_client *c;
	struct event *ev_stdin;
	struct event *ev_sigint;
	struct event *ev_sigterm;
	struct event *ev_drain; /* after finish(): waits for the graceful close */
	unsigned drain_ticks;
	struct evbuffer *inbuf;
	struct sg_strv rooms;
	struct line *q_head;
	struct line **q_tail;
	bool no_auth;
	bool ack;
	unsigned ack_ms;
	bool keep_open;
	bool no_reconnect;
	bool print_ping;
	bool verbose;
	bool ready;
	bool joining; /* the join sent once authenticated waits for its ack */
	bool ever_connected;
	bool stdin_eof;
	bool finishing;
	bool refused; /* `unauthenticated` seen */
	unsigned pending_acks;
	int exit_code;
	/* the token and its refreshes */
	char *token;		 /* the token in use (--token, --token-file, refreshes) */
	const char *token_file;	 /* --token-file */
	const char *refresh_cmd; /* --refresh-cmd */
	unsigned refresh_ms;	 /* --refresh-timeout */
	struct cmdrun *refresh;	 /* the refresh command while it runs */
	int64_t warned_exp;	 /* the exp of this connection's last warning, 0: none */
	bool refresh_sent;	 /* a refresh waits for the server's answer */
};

static void die_usage(const char *fmt, ...) SG_PRINTF(1, 2);
static void vlog(struct siocat *s, const char *fmt, ...) SG_PRINTF(2, 3);
static void finish(struct siocat *s, int code, const char *fmt, ...) SG_PRINTF(3, 4);
static void drain_cb(evutil_socket_t fd, short what, void *arg);
static void on_connected(struct sgc_client *c, void *user);
static void on_disconnected(struct sgc_client *c, const char *reason, void *user);
static void on_error(struct sgc_client *c, const struct sgc_error *err, void *user);
static void on_authenticated(struct sgc_client *c, const json_t *data, void *user);
static void on_unauthenticated(struct sgc_client *c, const char *message, void *user);
static void on_reconnecting(struct sgc_client *c, unsigned attempt, unsigned delay_ms, void *user);
static void on_token_expiring(struct sgc_client *c, int64_t exp, void *user);
static void on_refresh_output(void *user, const char *out, size_t len, const char *error);
static void refresh_failed(struct siocat *s, const char *fmt, ...) SG_PRINTF(2, 3);
static void use_token(struct siocat *s, const char *token, const char *from);
static int token_from_text(const char *text, size_t len, char **token, char *err, size_t errlen);
static int read_token_file(const char *path, char **token, char *err, size_t errlen);
static int on_any_event(struct sgc_client *c, const struct sgc_event *ev, void *user);
static void on_join_ack(struct sgc_client *c, int status, const struct sgc_event *reply,
			void *user);
static void on_emit_ack(struct sgc_client *c, int status, const struct sgc_event *reply,
			void *user);
static void become_ready(struct siocat *s);
static void flush_queue(struct siocat *s);
static void maybe_end(struct siocat *s);
static void stdin_cb(evutil_socket_t fd, short what, void *arg);
static void signal_cb(evutil_socket_t fd, short what, void *arg);
static void take_lines(struct siocat *s);
static int parse_line(const char *text, size_t len, struct line **out, char *err, size_t errlen);
static json_t *extract_binaries(json_t *v, struct line *l, char *err, size_t errlen);
static json_t *inline_binaries(const json_t *v, const struct sgc_event *ev);
static void print_json_line(struct siocat *s, json_t *obj);
static void line_free(struct line *l);

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("siocat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'siocat --help'.\n", stderr);
	exit(EXIT_USAGE);
}

static void vlog(struct siocat *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose)
		return;
	fputs("siocat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* After finish(): stops the loop once the disconnect is written (the
 * library bounds that to about a second; 3 s here as a last resort). */
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct siocat *s = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	if (!sgc_is_closing(s->c) || ++s->drain_ticks >= 150)
		event_base_loopbreak(s->base);
}

/* Ends the run with code (the first call wins): prints the message, stops
 * reading, disconnects, and lets the loop drain. */
static void finish(struct siocat *s, int code, const char *fmt, ...)
{
	struct timeval tv = { 0, 20000 };
	va_list ap;

	if (s->finishing)
		return;
	s->finishing = true;
	s->exit_code = code;
	if (fmt != NULL) {
		fputs("siocat: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	if (s->ev_stdin)
		event_del(s->ev_stdin);
	cmdrun_cancel(s->refresh);
	s->refresh = NULL;
	event_del(s->ev_sigint);
	event_del(s->ev_sigterm);
	sgc_disconnect(s->c);
	event_add(s->ev_drain, &tv);
}

/* ------------------------------------------------------------------ client callbacks */

static void on_connected(struct sgc_client *c, void *user)
{
	struct siocat *s = user;
	int rc;

	s->ever_connected = true;
	s->warned_exp = 0;
	vlog(s, "connected (socket id %s, transport %s)", sgc_socket_id(c), sgc_transport_name(c));
	if (s->no_auth) {
		become_ready(s);
		return;
	}
	rc = sgc_authenticate(c);
	if (rc != SGC_OK)
		finish(s, EXIT_INTERNAL, "cannot authenticate: %s", sgc_strerror(rc));
}

static void on_authenticated(struct sgc_client *c, const json_t *data, void *user)
{
	struct siocat *s = user;

	SG_UNUSED(c);
	SG_UNUSED(data);
	if (s->refresh_sent) {
		s->refresh_sent = false;
		vlog(s, "token refreshed");
		return;
	}
	if (s->ready || s->joining)
		return; /* not the first (auth.mode connect sends one unasked) */
	vlog(s, "authenticated");
	become_ready(s);
}

static void on_unauthenticated(struct sgc_client *c, const char *message, void *user)
{
	struct siocat *s = user;
	const char *why = "";

	SG_UNUSED(c);
	s->refused = true;
	if (s->refresh_sent)
		why = " (the refreshed token)";
	else if (s->warned_exp != 0 && (int64_t)time(NULL) >= s->warned_exp)
		why = " (the token expired without a refresh)";
	finish(s, EXIT_AUTH, "authentication refused: %s%s", message[0] ? message : "(no message)",
	       why);
}

static void on_disconnected(struct sgc_client *c, const char *reason, void *user)
{
	struct siocat *s = user;

	SG_UNUSED(c);
	s->ready = false;
	s->joining = false;
	s->refresh_sent = false;
	if (s->finishing)
		return;
	if (strcmp(reason, "io server disconnect") == 0)
		finish(s, EXIT_DISCONNECTED, "disconnected by the server");
	else if (s->no_reconnect)
		finish(s, EXIT_DISCONNECTED, "connection lost (%s)", reason);
	else
		vlog(s, "disconnected (%s)", reason);
}

static void on_error(struct sgc_client *c, const struct sgc_error *err, void *user)
{
	struct siocat *s = user;

	SG_UNUSED(c);
	switch (err->code) {
	case SGC_ERR_REFUSED:
		finish(s, EXIT_AUTH, "connection refused by the server: %s", err->message);
		break;
	case SGC_ERR_PROTOCOL:
		finish(s, EXIT_PROTOCOL, "protocol error: %s", err->message);
		break;
	case SGC_ERR_RECONNECT_FAILED:
		finish(s, EXIT_CONNECT, "%s", err->message);
		break;
	case SGC_ERR_HANDLER:
		finish(s, EXIT_INTERNAL, "%s", err->message);
		break;
	default:
		if (!s->ever_connected || s->no_reconnect)
			finish(s, EXIT_CONNECT, "cannot connect: %s", err->message);
		else
			vlog(s, "reconnection attempt failed: %s", err->message);
		break;
	}
}

static void on_reconnecting(struct sgc_client *c, unsigned attempt, unsigned delay_ms, void *user)
{
	struct siocat *s = user;

	SG_UNUSED(c);
	vlog(s, "reconnecting in %u ms (attempt %u)", delay_ms, attempt);
}

/* ------------------------------------------------------------------ token refresh */

/* The token in text (a file's or a command's output): one word, surrounding
 * blanks and line ends dropped.  0, or -1 with err set. */
static int token_from_text(const char *text, size_t len, char **token, char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *q;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (p == end) {
		snprintf(err, errlen, "no token in it (empty)");
		return -1;
	}
	for (q = p; q < end; q++) {
		if ((unsigned char)*q <= 0x20 || *q == 0x7f) {
			snprintf(err, errlen,
				 "more than one word in it (a space or control character)");
			return -1;
		}
	}
	*token = sg_strndup(p, (size_t)(end - p));
	return 0;
}

/* The token in the file at path (at most MAX_TOKEN bytes). */
static int read_token_file(const char *path, char **token, char *err, size_t errlen)
{
	char buf[MAX_TOKEN + 1], why[200];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n > MAX_TOKEN) {
		snprintf(err, errlen, "%s holds more than %d bytes", path, MAX_TOKEN);
		return -1;
	}
	if (token_from_text(buf, n, token, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

/* A refresh that could not be made: always reported; the server then ends
 * the session when the token expires. */
static void refresh_failed(struct siocat *s, const char *fmt, ...)
{
	va_list ap;

	SG_UNUSED(s);
	fputs("siocat: token refresh failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Sends the new token (from: where it came from, for the messages). */
static void use_token(struct siocat *s, const char *token, const char *from)
{
	int rc;

	if (s->token != NULL && strcmp(token, s->token) == 0) {
		refresh_failed(s, "%s gave the token already in use", from);
		return;
	}
	rc = sgc_refresh_token(s->c, token);
	if (rc == SGC_OK || rc == SGC_SKIPPED) {
		free(s->token);
		s->token = sg_strdup(token);
		s->refresh_sent = rc == SGC_OK;
		if (rc == SGC_OK)
			vlog(s, "refreshing the token (from %s)", from);
		else
			vlog(s,
			     "not authenticated now: the token from %s is kept for the next connection",
			     from);
		return;
	}
	refresh_failed(s, "%s: %s", from,
		       rc == SGC_ERR_INVALID ? "not a bearer token (a space or control character)"
					     : sgc_strerror(rc));
}

static void on_token_expiring(struct sgc_client *c, int64_t exp, void *user)
{
	struct siocat *s = user;
	char err[300], env_exp[48];
	const char *env[] = { env_exp, NULL };
	char *token = NULL;

	SG_UNUSED(c);
	if (s->finishing)
		return;
	if (exp != 0 && s->warned_exp != 0 && exp <= s->warned_exp) {
		/* the refresh gave a token that expires no later: asking again
		 * would only get the same */
		refresh_failed(s, "the new token expires no later than the old one");
		return;
	}
	s->warned_exp = exp;
	vlog(s, "the token expires in %lld s", (long long)(exp - (int64_t)time(NULL)));
	if (s->refresh_cmd != NULL) {
		if (s->refresh != NULL) {
			vlog(s, "the refresh command still runs");
			return;
		}
		snprintf(env_exp, sizeof(env_exp), "SIOCAT_TOKEN_EXP=%lld", (long long)exp);
		s->refresh = cmdrun_start(s->base, s->refresh_cmd, env, MAX_TOKEN, s->refresh_ms,
					  on_refresh_output, s, err, sizeof(err));
		if (s->refresh == NULL)
			refresh_failed(s, "%s", err);
		else
			vlog(s, "running the refresh command");
	} else if (s->token_file != NULL) {
		if (read_token_file(s->token_file, &token, err, sizeof(err)) != 0)
			refresh_failed(s, "%s", err);
		else
			use_token(s, token, s->token_file);
		free(token);
	} else {
		vlog(s, "no --refresh-cmd or --token-file: the server ends the session at expiry");
	}
}

static void on_refresh_output(void *user, const char *out, size_t len, const char *error)
{
	struct siocat *s = user;
	char err[200];
	char *token = NULL;

	s->refresh = NULL;
	if (s->finishing)
		return;
	if (error != NULL)
		refresh_failed(s, "the refresh command %s", error);
	else if (token_from_text(out, len, &token, err, sizeof(err)) != 0)
		refresh_failed(s, "the refresh command's output: %s", err);
	else
		use_token(s, token, "the refresh command");
	free(token);
}

static void on_join_ack(struct sgc_client *c, int status, const struct sgc_event *reply, void *user)
{
	struct siocat *s = user;

	SG_UNUSED(c);
	if (s->finishing)
		return;
	if (status == SGC_OK && s->verbose) {
		json_t *joined = json_object_get(reply->data, "rooms");
		json_t *rejected = json_object_get(reply->data, "rejected");
		char *j = json_dumps(joined ? joined : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		char *r = json_dumps(rejected ? rejected : json_null(),
				     JSON_COMPACT | JSON_ENCODE_ANY);
		vlog(s, "joined %s, rejected %s", j ? j : "?", r ? r : "null");
		free(j);
		free(r);
	} else if (status == SGC_ERR_TIMEOUT) {
		vlog(s, "join sent (no answer from the server)");
	}
	if (status == SGC_ERR_DISCONNECTED)
		return;
	s->joining = false;
	s->ready = true;
	flush_queue(s);
	maybe_end(s);
}

static void become_ready(struct siocat *s)
{
	int rc;

	if (s->ready || s->joining)
		return;
	if (s->rooms.n > 0) {
		rc = sgc_join_rooms(s->c, (const char *const *)s->rooms.v, s->rooms.n, on_join_ack,
				    s, JOIN_TIMEOUT_MS);
		if (rc != SGC_OK)
			finish(s, EXIT_INTERNAL, "cannot join rooms: %s", sgc_strerror(rc));
		else
			s->joining = true;
		return;
	}
	s->ready = true;
	vlog(s, "ready");
	flush_queue(s);
	maybe_end(s);
}

/* ------------------------------------------------------------------ events out */

/* A copy of v with every placeholder replaced by {"_binary": base64}. */
static json_t *inline_binaries(const json_t *v, const struct sgc_event *ev)
{
	int num = sgc_placeholder_num(v);
	const char *key;
	json_t *val, *out;
	size_t i;

	if (num >= 0 && (size_t)num < ev->n_attachments) {
		struct sg_buf b;
		sg_buf_init(&b);
		base64_encode(&b, ev->attachments[num].data, ev->attachments[num].len);
		/* an empty buffer may be allocated but not terminated */
		out = json_pack("{s:s%}", "_binary", b.data ? b.data : "", b.len);
		sg_buf_fini(&b);
		return out;
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach((json_t *)v, key, val)
			json_object_set_new(out, key, inline_binaries(val, ev));
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		for (i = 0; i < json_array_size(v); i++)
			json_array_append_new(out, inline_binaries(json_array_get(v, i), ev));
		return out;
	}
	return json_incref((json_t *)v);
}

/* Writes obj as one line, numbers and strings as JSON.stringify writes
 * them. */
static void print_json_line(struct siocat *s, json_t *obj)
{
	struct sg_buf b;
	bool ok;

	sg_buf_init(&b);
	sgc_json_append(&b, obj);
	sg_buf_append_char(&b, '\n');
	ok = fwrite(b.data, 1, b.len, stdout) == b.len && fflush(stdout) == 0;
	sg_buf_fini(&b);
	if (!ok)
		finish(s, errno == EPIPE ? EXIT_OK : EXIT_INTERNAL, NULL);
}

static int on_any_event(struct sgc_client *c, const struct sgc_event *ev, void *user)
{
	struct siocat *s = user;
	json_t *obj;

	SG_UNUSED(c);
	if (strcmp(ev->name, "ping") == 0 && !s->print_ping)
		return 0;
	obj = json_object();
	json_object_set_new(obj, "event", json_string(ev->name));
	json_object_set_new(obj, "data", ev->data ? inline_binaries(ev->data, ev) : json_null());
	if (json_array_size(ev->args) > 1)
		json_object_set_new(obj, "args", inline_binaries(ev->args, ev));
	print_json_line(s, obj);
	json_decref(obj);
	return 0;
}

/* What an emitted line's ack callback needs. */
struct ack_ctx {
	struct siocat *s;
	char *event;
};

static void on_emit_ack(struct sgc_client *c, int status, const struct sgc_event *reply, void *user)
{
	struct ack_ctx *a = user;
	struct siocat *s = a->s;
	json_t *obj;

	SG_UNUSED(c);
	s->pending_acks--;
	if (!s->finishing) {
		obj = json_object();
		json_object_set_new(obj, "ack", json_string(a->event));
		if (status == SGC_OK)
			json_object_set_new(obj, "args", inline_binaries(reply->args, reply));
		else
			json_object_set_new(obj, "error",
					    json_string(status == SGC_ERR_TIMEOUT
								? "timeout"
								: "disconnected"));
		print_json_line(s, obj);
		json_decref(obj);
	}
	free(a->event);
	free(a);
	maybe_end(s);
}

/* Emits the queued lines while the client is ready. */
static void flush_queue(struct siocat *s)
{
	while (s->ready && !s->finishing && s->q_head != NULL) {
		struct line *l = s->q_head;
		struct sgc_binary *att = NULL;
		struct sgc_emit e;
		struct ack_ctx *a = NULL;
		size_t i;
		int rc;

		memset(&e, 0, sizeof(e));
		e.event = l->event;
		e.args = l->args;
		if (l->n_bins > 0) {
			att = sg_calloc(l->n_bins, sizeof(*att));
			for (i = 0; i < l->n_bins; i++) {
				att[i].data = l->bins[i].data;
				att[i].len = l->bins[i].len;
			}
		}
		e.attachments = att;
		e.n_attachments = l->n_bins;
		if (s->ack) {
			a = sg_calloc(1, sizeof(*a));
			a->s = s;
			a->event = sg_strdup(l->event);
			e.ack = on_emit_ack;
			e.ack_user = a;
			e.ack_timeout_ms = s->ack_ms;
		}
		rc = sgc_emit_ex(s->c, &e);
		free(att);
		if (rc == SGC_ERR_NOT_CONNECTED) {
			/* lost meanwhile: keep the line for the next connection */
			if (a) {
				free(a->event);
				free(a);
			}
			return;
		}
		s->q_head = l->next;
		if (s->q_head == NULL)
			s->q_tail = &s->q_head;
		if (rc != SGC_OK) {
			fprintf(stderr, "siocat: cannot emit '%s': %s\n", l->event,
				sgc_strerror(rc));
			if (a) {
				free(a->event);
				free(a);
			}
		} else if (a) {
			s->pending_acks++;
		}
		line_free(l);
	}
}

/* Input over and everything sent and answered: the normal end. */
static void maybe_end(struct siocat *s)
{
	if (s->stdin_eof && !s->keep_open && s->ready && s->q_head == NULL && s->pending_acks == 0)
		finish(s, EXIT_OK, NULL);
}

/* ------------------------------------------------------------------ standard input */

static void line_free(struct line *l)
{
	size_t i;

	free(l->event);
	json_decref(l->args);
	for (i = 0; i < l->n_bins; i++)
		sg_buf_fini(&l->bins[i]);
	free(l->bins);
	free(l);
}

/* A copy of v where each {"_binary": base64} object became a placeholder and
 * its bytes an attachment of l; NULL (err set) on invalid base64. */
static json_t *extract_binaries(json_t *v, struct line *l, char *err, size_t errlen)
{
	const char *key;
	json_t *val, *out, *b64;
	size_t i;

	if (json_is_object(v) && json_object_size(v) == 1 &&
	    json_is_string(b64 = json_object_get(v, "_binary"))) {
		l->bins = sg_realloc(l->bins, (l->n_bins + 1) * sizeof(*l->bins));
		sg_buf_init(&l->bins[l->n_bins]);
		if (base64_decode(&l->bins[l->n_bins], json_string_value(b64),
				  json_string_length(b64)) != 0) {
			sg_buf_fini(&l->bins[l->n_bins]);
			snprintf(err, errlen, "invalid base64 in a _binary value");
			return NULL;
		}
		l->n_bins++;
		return sgc_placeholder((unsigned)(l->n_bins - 1));
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, key, val)
		{
			json_t *x = extract_binaries(val, l, err, errlen);
			if (x == NULL) {
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, key, x);
		}
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		for (i = 0; i < json_array_size(v); i++) {
			json_t *x = extract_binaries(json_array_get(v, i), l, err, errlen);
			if (x == NULL) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, x);
		}
		return out;
	}
	return json_incref(v);
}

/* `EVENT [JSON]`: the name up to the first blank, then one JSON value (the
 * single argument), or nothing. */
static int parse_line(const char *text, size_t len, struct line **out, char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *name_end;
	struct line *l;

	*out = NULL;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p == '#')
		return 0; /* blank or comment */
	name_end = p;
	while (name_end < end && *name_end != ' ' && *name_end != '\t')
		name_end++;
	l = sg_calloc(1, sizeof(*l));
	l->event = sg_strndup(p, (size_t)(name_end - p));
	l->args = json_array();
	p = name_end;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end) {
		json_error_t jerr;
		json_t *v =
			json_loadb(p, (size_t)(end - p), JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		json_t *x;
		if (v == NULL) {
			snprintf(err, errlen, "invalid JSON for event '%s': %s", l->event,
				 jerr.text);
			line_free(l);
			return -1;
		}
		x = extract_binaries(v, l, err, errlen);
		json_decref(v);
		if (x == NULL) {
			line_free(l);
			return -1;
		}
		json_array_append_new(l->args, x);
	}
	*out = l;
	return 0;
}

/* Moves the complete lines of inbuf (and, at EOF, the last partial one) to
 * the queue. */
static void take_lines(struct siocat *s)
{
	char *text;
	size_t len;

	for (;;) {
		struct line *l;
		char err[300];

		text = evbuffer_readln(s->inbuf, &len, EVBUFFER_EOL_CRLF);
		if (text == NULL) {
			if (!s->stdin_eof || evbuffer_get_length(s->inbuf) == 0)
				break;
			len = evbuffer_get_length(s->inbuf);
			text = sg_malloc(len + 1);
			evbuffer_remove(s->inbuf, text, len);
			text[len] = '\0';
		}
		if (parse_line(text, len, &l, err, sizeof(err)) != 0)
			fprintf(stderr, "siocat: line ignored: %s\n", err);
		else if (l != NULL) {
			*s->q_tail = l;
			s->q_tail = &l->next;
		}
		free(text);
	}
	flush_queue(s);
	maybe_end(s);
}

static void stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct siocat *s = arg;
	int n;

	SG_UNUSED(what);
	n = evbuffer_read(s->inbuf, fd, 65536);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		s->stdin_eof = true;
		event_del(s->ev_stdin);
		vlog(s, "end of input");
	}
	take_lines(s);
}

static void signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct siocat *s = arg;

	SG_UNUSED(what);
	vlog(s, "%s: disconnecting", fd == SIGINT ? "SIGINT" : "SIGTERM");
	finish(s, EXIT_OK, NULL);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "header", required_argument, NULL, 'H' },
		{ "token", required_argument, NULL, 't' },
		{ "auth", required_argument, NULL, 'a' },
		{ "path", required_argument, NULL, 'p' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "join", required_argument, NULL, 'j' },
		{ "transport", required_argument, NULL, 'T' },
		{ "no-auth", no_argument, NULL, 1 },
		{ "ack", optional_argument, NULL, 2 },
		{ "keep-open", no_argument, NULL, 'k' },
		{ "no-reconnect", no_argument, NULL, 3 },
		{ "ping", no_argument, NULL, 4 },
		{ "ca-file", required_argument, NULL, 5 },
		{ "insecure", no_argument, NULL, 6 },
		{ "token-file", required_argument, NULL, 7 },
		{ "refresh-cmd", required_argument, NULL, 8 },
		{ "refresh-timeout", required_argument, NULL, 9 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct siocat s;
	struct sgc_options o;
	struct sg_strv headers = { NULL, 0 };
	struct sg_buf authbuf;
	const char *token = NULL, *auth = NULL;
	char errbuf[300];
	struct stat st;
	int opt;

	memset(&s, 0, sizeof(s));
	s.q_tail = &s.q_head;
	s.ack_ms = DEFAULT_ACK_MS;
	s.refresh_ms = DEFAULT_REFRESH_MS;
	sgc_options_init(&o);
	o.identifier = "siocat";
	while ((opt = getopt_long(argc, argv, "H:t:a:p:n:j:T:kvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'H':
			sg_strv_push(&headers, optarg);
			break;
		case 't':
			token = optarg;
			break;
		case 'a':
			auth = optarg;
			break;
		case 'p':
			o.path = optarg;
			break;
		case 'n':
			o.nsp = optarg;
			break;
		case 'j': {
			char *copy = sg_strdup(optarg), *save = NULL, *r;
			for (r = strtok_r(copy, ",", &save); r; r = strtok_r(NULL, ",", &save))
				sg_strv_push(&s.rooms, r);
			free(copy);
			break;
		}
		case 'T':
			if (strcmp(optarg, "websocket") == 0)
				o.transports = SGC_TRANSPORT_WEBSOCKET;
			else if (strcmp(optarg, "polling") == 0)
				o.transports = SGC_TRANSPORT_POLLING;
			else if (strcmp(optarg, "upgrade") == 0)
				o.transports = SGC_TRANSPORT_ANY;
			else
				die_usage("unknown transport '%s' (websocket, polling or upgrade)",
					  optarg);
			break;
		case 1:
			s.no_auth = true;
			break;
		case 2:
			s.ack = true;
			if (optarg) {
				char *end;
				unsigned long v = strtoul(optarg, &end, 10);
				if (*optarg == '\0' || *end != '\0' || v == 0 || v > 3600000)
					die_usage("--ack wants milliseconds (1..3600000), got '%s'",
						  optarg);
				s.ack_ms = (unsigned)v;
			}
			break;
		case 'k':
			s.keep_open = true;
			break;
		case 3:
			s.no_reconnect = true;
			break;
		case 4:
			s.print_ping = true;
			break;
		case 5:
			o.tls_ca_file = optarg;
			break;
		case 6:
			o.tls_verify = false;
			break;
		case 7:
			s.token_file = optarg;
			break;
		case 8:
			if (optarg[0] == '\0')
				die_usage("--refresh-cmd wants a command");
			s.refresh_cmd = optarg;
			break;
		case 9: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v == 0 || v > 600000)
				die_usage(
					"--refresh-timeout wants milliseconds (1..600000), got '%s'",
					optarg);
			s.refresh_ms = (unsigned)v;
			break;
		}
		case 'v':
			s.verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'V':
			printf("siocat %s (libsiogate-client %s)\n", SGC_VERSION, SGC_VERSION);
			return EXIT_OK;
		default:
			fputs("Try 'siocat --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		die_usage(optind >= argc ? "no URL given" : "more than one URL given");
	o.url = argv[optind];

	/* --token-file: --token with the file's token */
	if (s.token_file != NULL) {
		if (token != NULL)
			die_usage("--token and --token-file exclude each other");
		if (read_token_file(s.token_file, &s.token, errbuf, sizeof(errbuf)) != 0)
			die_usage("--token-file: %s", errbuf);
		token = s.token;
	} else if (token != NULL) {
		s.token = sg_strdup(token);
	}
	/* --token: the Authorization header, and the auth payload's token */
	sg_buf_init(&authbuf);
	if (token != NULL) {
		sg_buf_printf(&authbuf, "Authorization: Bearer %s", token);
		sg_strv_push(&headers, authbuf.data);
		sg_buf_reset(&authbuf);
	}
	if (auth != NULL || token != NULL) {
		json_error_t jerr;
		json_t *a = auth ? json_loads(auth, 0, &jerr) : json_object();
		char *text;
		if (a == NULL || !json_is_object(a)) {
			json_decref(a);
			die_usage("--auth wants a JSON object");
		}
		if (token != NULL && json_object_get(a, "token") == NULL)
			json_object_set_new(a, "token", json_string(token));
		text = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(a);
		sg_buf_append_str(&authbuf, text);
		free(text);
		o.auth = authbuf.data;
	}
	/* the options want a NULL-terminated array */
	headers.v = sg_realloc(headers.v, (headers.n + 1) * sizeof(*headers.v));
	headers.v[headers.n] = NULL;
	o.headers = (const char *const *)headers.v;
	o.reconnection = !s.no_reconnect;
	o.on_connected = on_connected;
	o.on_disconnected = on_disconnected;
	o.on_error = on_error;
	o.on_authenticated = on_authenticated;
	o.on_unauthenticated = on_unauthenticated;
	o.on_reconnecting = on_reconnecting;
	o.on_token_expiring = on_token_expiring;
	o.user = &s;

	signal(SIGPIPE, SIG_IGN);
	s.base = event_base_new();
	if (s.base == NULL) {
		fputs("siocat: cannot create the event loop\n", stderr);
		return EXIT_INTERNAL;
	}
	s.c = sgc_client_new(s.base, &o, errbuf, sizeof(errbuf));
	sg_buf_fini(&authbuf);
	sg_strv_free(&headers);
	if (s.c == NULL)
		die_usage("%s", errbuf);
	if (sgc_subscribe(s.c, SGC_ANY_EVENT, on_any_event, &s, false) != SGC_OK)
		return EXIT_INTERNAL;
	s.inbuf = evbuffer_new();
	s.ev_sigint = evsignal_new(s.base, SIGINT, signal_cb, &s);
	s.ev_sigterm = evsignal_new(s.base, SIGTERM, signal_cb, &s);
	s.ev_drain = event_new(s.base, -1, EV_PERSIST, drain_cb, &s);
	if (s.inbuf == NULL || s.ev_sigint == NULL || s.ev_sigterm == NULL || s.ev_drain == NULL)
		return EXIT_INTERNAL;
	event_add(s.ev_sigint, NULL);
	event_add(s.ev_sigterm, NULL);
	/* epoll cannot watch regular files or /dev/null: read those at once */
	if (fstat(STDIN_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(STDIN_FILENO))) {
		evutil_make_socket_nonblocking(STDIN_FILENO);
		s.ev_stdin = event_new(s.base, STDIN_FILENO, EV_READ | EV_PERSIST, stdin_cb, &s);
		if (s.ev_stdin == NULL)
			return EXIT_INTERNAL;
		event_add(s.ev_stdin, NULL);
	} else {
		int n;
		while ((n = evbuffer_read(s.inbuf, STDIN_FILENO, 65536)) > 0) {
		}
		s.stdin_eof = true;
		take_lines(&s);
	}
	if (sgc_connect(s.c) != SGC_OK)
		return EXIT_INTERNAL;
	vlog(&s, "connecting to %s", o.url);
	event_base_dispatch(s.base);

	while (s.q_head != NULL) {
		struct line *l = s.q_head;
		s.q_head = l->next;
		line_free(l);
	}
	sgc_client_free(s.c);
	if (s.ev_stdin)
		event_free(s.ev_stdin);
	event_free(s.ev_sigint);
	event_free(s.ev_sigterm);
	event_free(s.ev_drain);
	evbuffer_free(s.inbuf);
	sg_strv_free(&s.rooms);
	cmdrun_cancel(s.refresh);
	free(s.token);
	/* nothing of ours is left on the base: libevent releases freed buffers */
	(void)event_base_loop(s.base, EVLOOP_NONBLOCK);
	event_base_free(s.base);
	return s.exit_code;
}
