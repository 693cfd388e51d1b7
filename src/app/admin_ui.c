/*
 * admin_ui.c: the Socket.IO Admin UI's namespace (see admin_ui.h): the
 * login (the UI's {username, password}, checked against a bcrypt hash with
 * crypt_r, or the {sessionId} it was given), then "session", "config",
 * "all_sockets" (every worker's sockets, gathered) and "server_stats" every
 * two seconds; the UI's "_disconnect", "join" and "leave" are applied on
 * every worker of the process, unless admin_ui.readonly.
 */
#include "app/admin_ui.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/admin_ui_int.h"
#include "app/auth_throttle.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/gather.h"
#include "core/json_js.h"
#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"
#include "proto/emit_msg.h"
#include "proto/sio_packet.h"
#include "redis/bridge.h"
#include "sio/rooms.h"

/* Node's admin-ui: server_stats every 2 seconds. */
#define ADMIN_UI_STATS_MS 2000
/* How long a "session" the UI keeps in its localStorage logs it in again. */
#define ADMIN_UI_SESSION_S (24 * 3600)

/* The totals a server_stats gathers from each worker, in this order, then
 * the closes by reason, then each namespace's sockets. */
enum {
	TOT_CLIENTS,
	TOT_POLLING,
	TOT_HANDSHAKES,
	TOT_PACKETS_IN,
	TOT_PACKETS_OUT,
	TOT_BYTES_IN,
	TOT_BYTES_OUT,
	TOT_CLOSES,
	TOT_NSPS = TOT_CLOSES + SG_CLOSE__COUNT
};

/* An Admin UI's request, applied on every worker. */
struct action {
	enum {
		ACT_DISCONNECT,
		ACT_JOIN,
		ACT_LEAVE
	} kind;
	bool close;   /* _disconnect: the whole client, not only the socket */
	char *nsp;    /* the namespace */
	char *room;   /* join, leave */
	char *filter; /* a socket id or a room; NULL: every socket */
};

static bool publishes(const struct admin_ui *ui);

static struct admin_ui *ui_of(const struct sio_socket *sock)
{
	return sock->nsp->w->admin_ui;
}

/* ---- login ------------------------------------------------------------ */

/* The session id the UI is given: "EXPIRY.MAC", MAC = HMAC-SHA256 keyed
 * with the password hash over the user name and EXPIRY (hex seconds): any
 * worker or instance with the same config knows it, and a new password
 * ends every session. */
static void session_mac(const struct sg_config *cfg, const char *expiry, char *hex)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	struct sg_buf msg;

	sg_buf_init(&msg);
	sg_buf_printf(&msg, "siogate admin-ui session\n%s\n%s", cfg->admin_ui.username, expiry);
	HMAC(EVP_sha256(), cfg->admin_ui.password_hash, (int)strlen(cfg->admin_ui.password_hash),
	     (const unsigned char *)msg.data, msg.len, mac, &n);
	sg_buf_fini(&msg);
	for (unsigned int i = 0; i < 16 && i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

static char *session_new(const struct sg_config *cfg)
{
	char expiry[24], hex[33] = "";
	struct sg_buf b;

	snprintf(expiry, sizeof(expiry), "%llx",
		 (unsigned long long)(sg_now_ms() / 1000 + ADMIN_UI_SESSION_S));
	session_mac(cfg, expiry, hex);
	sg_buf_init(&b);
	sg_buf_printf(&b, "%s.%s", expiry, hex);
	return sg_buf_steal(&b);
}

static bool session_valid(const struct sg_config *cfg, const char *id)
{
	const char *dot = strchr(id, '.');
	char expiry[24], hex[33] = "";
	size_t el = dot ? (size_t)(dot - id) : 0;
	char *end;
	unsigned long long exp;

	if (dot == NULL || el == 0 || el >= sizeof(expiry) || strlen(dot + 1) != 32)
		return false;
	memcpy(expiry, id, el);
	expiry[el] = '\0';
	exp = strtoull(expiry, &end, 16);
	if (*end != '\0' || (long long)exp < sg_now_ms() / 1000)
		return false;
	session_mac(cfg, expiry, hex);
	return CRYPTO_memcmp(hex, dot + 1, 32) == 0;
}

static bool password_ok(const struct sg_config *cfg, const char *password)
{
	struct crypt_data *cd = sg_calloc(1, sizeof(*cd));
	const char *h = cfg->admin_ui.password_hash;
	const char *r = crypt_r(password, h, cd);
	bool ok = r != NULL && strlen(r) == strlen(h) && CRYPTO_memcmp(r, h, strlen(h)) == 0;

	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* The CONNECT's auth: a session id, or the user name and the password.
 * *fresh: a new session id to give (the caller frees it).  Passwords are
 * throttled per address as tokens are (limits.auth_failures_per_minute):
 * a guess costs the loop a bcrypt. */
static bool login(struct sio_socket *sock, char **fresh)
{
	struct worker *w = sock->nsp->w;
	const struct sg_config *cfg = w->cfg;
	const char *addr = sock->eio->addr;
	json_t *a = sock->auth != NULL ? json_loads(sock->auth, 0, NULL) : NULL;
	enum throttle_admit admit = THROTTLE_CLEAN;
	const char *sid = json_string_value(json_object_get(a, "sessionId"));
	const char *user = json_string_value(json_object_get(a, "username"));
	const char *pass = json_string_value(json_object_get(a, "password"));
	bool ok = false;

	*fresh = NULL;
	if (sid != NULL && session_valid(cfg, sid)) {
		ok = true;
	} else if (w->throttle != NULL &&
		   (admit = auth_throttle_begin(w->throttle, cfg, addr, sg_mono_ms())) ==
			   THROTTLE_REFUSED) {
		eio_log(SG_LOG_WARN, sock->eio, NULL, "admin-ui: login throttled");
	} else {
		ok = user != NULL && pass != NULL && strcmp(user, cfg->admin_ui.username) == 0 &&
		     password_ok(cfg, pass);
		if (ok)
			*fresh = session_new(cfg);
		if (w->throttle != NULL)
			auth_throttle_end(w->throttle, cfg, addr, sg_mono_ms(), admit, !ok);
	}
	json_decref(a);
	return ok;
}

/* ---- server_stats ----------------------------------------------------- */

static void stats_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	uint64_t polling = 0, closes = 0;

	SG_UNUSED(ctx);
	for (const struct eio_session *s = w->sessions; s; s = s->next)
		polling += s->transport == EIO_POLLING && !s->closing;
	sg_buf_printf(
		out, "%zu %llu %llu %llu %llu %llu %llu", w->n_sessions,
		(unsigned long long)polling, (unsigned long long)w->stats.handshakes,
		(unsigned long long)w->stats.packets_in, (unsigned long long)w->stats.packets_out,
		(unsigned long long)w->stats.bytes_in, (unsigned long long)w->stats.bytes_out);
	for (int r = 0; r < SG_CLOSE__COUNT; r++) {
		closes = w->stats.closes[r];
		sg_buf_printf(out, " %llu", (unsigned long long)closes);
	}
	for (size_t i = 0; i < w->n_nsps; i++)
		sg_buf_printf(out, " %zu", w->nsps[i]->n_sockets);
}

static void aggregated(struct sg_buf *b, bool *first, int64_t ts, const char *type, const char *sub,
		       uint64_t count)
{
	if (count == 0)
		return;
	if (!*first)
		sg_buf_append_char(b, ',');
	*first = false;
	sg_buf_printf(b, "{\"timestamp\":%lld,\"type\":\"%s\"", (long long)ts, type);
	if (sub != NULL) {
		sg_buf_append_str(b, ",\"subType\":");
		json_js_string(b, sub, strlen(sub));
	}
	sg_buf_printf(b, ",\"count\":%llu}", (unsigned long long)count);
}

static void stats_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	struct admin_ui *ui = w->admin_ui;
	size_t nt = TOT_NSPS + w->n_nsps;
	uint64_t *t = sg_calloc(nt, sizeof(*t));
	int64_t ts = sg_now_ms() / 1000 * 1000;
	const struct sg_config *cfg = w->cfg;
	char host[256] = "";
	bool first = true, had = ui->last != NULL;
	struct sg_buf b;

	SG_UNUSED(ctx);
	for (size_t k = 0; k < n; k++) {
		const char *p = parts[k].data;
		char *end;

		for (size_t i = 0; p != NULL && i < nt; i++, p = end)
			t[i] += strtoull(p, &end, 10);
	}
	(void)gethostname(host, sizeof(host) - 1);
	sg_buf_init(&b);
	sg_buf_append_str(&b, "[\"server_stats\",{\"serverId\":");
	json_js_string(&b, cfg->server.id, strlen(cfg->server.id));
	sg_buf_append_str(&b, ",\"hostname\":");
	json_js_string(&b, host, strlen(host));
	sg_buf_printf(&b, ",\"pid\":%ld,\"uptime\":", (long)getpid());
	json_js_number(&b, (double)(sg_mono_ms() - ui->started_ms) / 1000.0);
	sg_buf_printf(&b,
		      ",\"clientsCount\":%llu,\"pollingClientsCount\":%llu,\"aggregatedEvents\":[",
		      (unsigned long long)t[TOT_CLIENTS], (unsigned long long)t[TOT_POLLING]);
	if (had) {
		const uint64_t *l = ui->last;

		aggregated(&b, &first, ts, "rawConnection", NULL,
			   t[TOT_HANDSHAKES] - l[TOT_HANDSHAKES]);
		for (int r = 0; r < SG_CLOSE__COUNT; r++)
			if (r != SG_CLOSE_HTTP_DONE)
				aggregated(&b, &first, ts, "rawDisconnection",
					   sg_close_text((enum sg_close)r),
					   t[TOT_CLOSES + r] - l[TOT_CLOSES + r]);
		aggregated(&b, &first, ts, "packetsIn", NULL,
			   t[TOT_PACKETS_IN] - l[TOT_PACKETS_IN]);
		aggregated(&b, &first, ts, "packetsOut", NULL,
			   t[TOT_PACKETS_OUT] - l[TOT_PACKETS_OUT]);
		aggregated(&b, &first, ts, "bytesIn", NULL, t[TOT_BYTES_IN] - l[TOT_BYTES_IN]);
		aggregated(&b, &first, ts, "bytesOut", NULL, t[TOT_BYTES_OUT] - l[TOT_BYTES_OUT]);
	}
	sg_buf_append_str(&b, "],\"namespaces\":[");
	for (size_t i = 0; i < w->n_nsps; i++) {
		if (i)
			sg_buf_append_char(&b, ',');
		sg_buf_append_str(&b, "{\"name\":");
		json_js_string(&b, w->nsps[i]->name, w->nsps[i]->name_len);
		sg_buf_printf(&b, ",\"socketsCount\":%llu}", (unsigned long long)t[TOT_NSPS + i]);
	}
	sg_buf_append_str(&b, "]}]");
	for (struct admin_sock *a = ui->admins; a; a = a->next)
		sio_socket_send_event(&a->base.sock, b.data, b.len);
	if (publishes(ui)) {
		/* to the Admin UIs of the other instances, as Node's
		 * adminNamespace.emit() reaches them through the adapter */
		struct emit_msg m = { .nsp = ui->nsp->name, .args = b.data, .args_len = b.len };

		(void)bridge_publish_emit(w->bridge, &m, w->adapter_uid);
	}
	sg_buf_fini(&b);
	free(ui->last);
	ui->last = t;
	ui->stats_busy = false;
}

/* Worker 0 of an instance on Redis sends its server_stats to the cluster,
 * whether or not an Admin UI is logged in here: another instance's may be. */
static bool publishes(const struct admin_ui *ui)
{
	return ui->w->index == 0 && ui->w->bridge != NULL;
}

static void stats_now(struct admin_ui *ui)
{
	if (ui->stats_busy)
		return;
	ui->stats_busy = true;
	gather(ui->w, -1, stats_part, stats_done, NULL);
}

static void on_stats_timer(evutil_socket_t fd, short what, void *arg)
{
	struct admin_ui *ui = arg;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	if (ui->n_admins > 0 || publishes(ui))
		stats_now(ui);
}

/* ---- the UI's requests ------------------------------------------------ */

static void action_free(struct action *a)
{
	free(a->nsp);
	free(a->room);
	free(a->filter);
	free(a);
}

static void apply(const struct action *a, struct sio_socket *sock)
{
	struct eio_session *s = sock->eio;

	if (sock->closing)
		return;
	switch (a->kind) {
	case ACT_DISCONNECT:
		sio_socket_disconnect(sock, SG_CLOSE_FORCED);
		if (a->close && !s->closing)
			eio_session_close(s, SG_CLOSE_FORCED, true);
		break;
	case ACT_JOIN:
		(void)rooms_join(&sock->nsp->rooms, sock, &sock->rooms, a->room);
		break;
	case ACT_LEAVE:
		(void)rooms_leave(&sock->nsp->rooms, sock, &sock->rooms, a->room);
		break;
	}
}

static void action_part(struct worker *w, const void *ctx, struct sg_buf *out)
{
	const struct action *a = ctx;
	struct sio_nsp *nsp = sio_nsp_find(w, a->nsp, strlen(a->nsp));
	struct sio_socket *one, **v = NULL;
	const struct room *room;
	size_t n = 0;

	SG_UNUSED(out);
	if (nsp == NULL)
		return;
	one = a->filter ? sio_nsp_socket(nsp, a->filter, strlen(a->filter)) : NULL;
	if (one != NULL) {
		apply(a, one);
		return;
	}
	/* the members first: applying changes the lists */
	if (a->filter == NULL) {
		v = sg_calloc(nsp->n_sockets + 1, sizeof(*v));
		for (struct sio_socket *s = nsp->all; s; s = s->next)
			v[n++] = s;
	} else if ((room = rooms_find(&nsp->rooms, a->filter, strlen(a->filter))) != NULL) {
		v = sg_calloc(room->n_members + 1, sizeof(*v));
		memcpy(v, room->members, room->n_members * sizeof(*v));
		n = room->n_members;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i]->connected)
			apply(a, v[i]);
	free(v);
}

static void action_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	SG_UNUSED(w);
	SG_UNUSED(parts);
	SG_UNUSED(n);
	action_free(ctx);
}

static char *arg_string(const json_t *args, size_t i)
{
	const char *s = json_string_value(json_array_get(args, i));

	return s != NULL ? sg_strdup(s) : NULL;
}

static void on_event(struct sio_socket *sock, const struct sio_packet *p,
		     const struct sio_attachment *att, size_t n_att)
{
	struct admin_sock *as = (struct admin_sock *)sock;
	const char *name = json_string_value(json_array_get(p->data, 0));
	const char *why;
	struct action *a;

	SG_UNUSED(att);
	SG_UNUSED(n_att);
	if (name == NULL || !as->listed)
		return;
	a = sg_calloc(1, sizeof(*a));
	a->nsp = arg_string(p->data, 1);
	if (strcmp(name, "_disconnect") == 0) {
		a->kind = ACT_DISCONNECT;
		a->close = json_is_true(json_array_get(p->data, 2));
		a->filter = arg_string(p->data, 3);
	} else if (strcmp(name, "join") == 0 || strcmp(name, "leave") == 0) {
		a->kind = name[0] == 'j' ? ACT_JOIN : ACT_LEAVE;
		a->room = arg_string(p->data, 2);
		a->filter = arg_string(p->data, 3);
	} else {
		action_free(a);
		return;
	}
	why = sock->nsp->w->cfg->admin_ui.readonly ? "admin_ui.readonly"
	      : a->nsp == NULL || (a->kind != ACT_DISCONNECT && (a->room == NULL || !a->room[0]))
		      ? "bad arguments"
		      : NULL;
	if (why != NULL) {
		eio_log(SG_LOG_INFO, sock->eio, NULL, "admin-ui: %s refused (%s)", name, why);
		action_free(a);
		return;
	}
	eio_log(SG_LOG_INFO, sock->eio, NULL, "admin-ui: %s %s %s %s", name, a->nsp,
		a->room ? a->room : "", a->filter ? a->filter : "(every socket)");
	gather(sock->nsp->w, -1, action_part, action_done, a);
}

/* ---- the namespace's sockets ------------------------------------------ */

/* all_sockets for the Admin UI whose socket id is ctx, once gathered. */
static void sockets_done(struct worker *w, void *ctx, struct sg_buf *parts, size_t n)
{
	char *id = ctx;
	struct admin_ui *ui = w->admin_ui;
	struct sio_socket *sock = sio_nsp_socket(ui->nsp, id, strlen(id));
	struct admin_sock *as = (struct admin_sock *)sock;
	bool first = true;
	struct sg_buf b;

	free(id);
	if (sock == NULL || sock->closing || !as->listed)
		return;
	sg_buf_init(&b);
	sg_buf_append_str(&b, "[\"all_sockets\",[");
	for (size_t i = 0; i < n; i++) {
		if (parts[i].len == 0)
			continue;
		if (!first)
			sg_buf_append_char(&b, ',');
		first = false;
		sg_buf_append(&b, parts[i].data, parts[i].len);
	}
	sg_buf_append_str(&b, "]]");
	sio_socket_send_event(sock, b.data, b.len);
	sg_buf_fini(&b);
	as->synced = true;
	admin_ui_send_lines(as, as->backlog.data, as->backlog.len);
	sg_buf_reset(&as->backlog);
}

static bool on_connect(struct sio_socket *sock)
{
	struct admin_ui *ui = ui_of(sock);
	struct admin_sock *as = (struct admin_sock *)sock;
	const struct sg_config *cfg = sock->nsp->w->cfg;
	char *fresh = NULL;
	static const char features[] = "[\"config\",{\"supportedFeatures\":["
				       "\"JOIN\",\"LEAVE\",\"DISCONNECT\",\"MJOIN\",\"MLEAVE\","
				       "\"MDISCONNECT\",\"AGGREGATED_EVENTS\",\"ALL_EVENTS\"]}]";
	static const char features_ro[] = "[\"config\",{\"supportedFeatures\":["
					  "\"AGGREGATED_EVENTS\",\"ALL_EVENTS\"]}]";

	if (!login(sock, &fresh)) {
		eio_log(SG_LOG_WARN, sock->eio, NULL, "admin-ui: invalid credentials");
		sio_socket_refuse(sock, "{\"message\":\"invalid credentials\"}", 33,
				  SG_CLOSE_AUTH_REJECTED);
		return true;
	}
	sio_socket_accept(sock);
	eio_log(SG_LOG_INFO, sock->eio, NULL, "admin-ui: logged in (%s)",
		fresh ? "password" : "session");
	sg_buf_init(&as->backlog);
	as->listed = true;
	as->next = ui->admins;
	if (ui->admins)
		ui->admins->prev = as;
	ui->admins = as;
	/* the other instances' server_stats come as adapter broadcasts */
	sock->broadcasts = true;
	if (ui->n_admins++ == 0)
		admin_ui_announce(ui);
	if (fresh != NULL) {
		struct sg_buf b;

		sg_buf_init(&b);
		sg_buf_printf(&b, "[\"session\",\"%s\"]", fresh);
		sio_socket_send_event(sock, b.data, b.len);
		sg_buf_fini(&b);
		free(fresh);
	}
	if (cfg->admin_ui.readonly)
		sio_socket_send_event(sock, features_ro, sizeof(features_ro) - 1);
	else
		sio_socket_send_event(sock, features, sizeof(features) - 1);
	stats_now(ui);
	gather(sock->nsp->w, -1, admin_ui_sockets_part, sockets_done, sg_strdup(sock->id));
	return true;
}

static void on_close(struct sio_socket *sock, enum sg_close reason)
{
	struct admin_ui *ui = ui_of(sock);
	struct admin_sock *as = (struct admin_sock *)sock;

	SG_UNUSED(reason);
	if (!as->listed)
		return;
	as->listed = false;
	if (as->prev)
		as->prev->next = as->next;
	else
		ui->admins = as->next;
	if (as->next)
		as->next->prev = as->prev;
	sg_buf_fini(&as->backlog);
	if (--ui->n_admins == 0)
		admin_ui_announce(ui);
}

static const struct sio_handler admin_sockets = {
	.socket_size = sizeof(struct admin_sock),
	.on_connect = on_connect,
	.on_event = on_event,
	.on_close = on_close,
};

/* ---- the Admin UI's part of a worker ---------------------------------- */

static int admin_ui_init(struct worker *w)
{
	const struct sg_config *cfg = w->cfg;
	struct admin_ui *ui;

	if (!cfg->admin_ui.enabled)
		return 0;
	ui = sg_calloc(1, sizeof(*ui));
	ui->w = w;
	ui->started_ms = sg_mono_ms();
	ui->nsp = sio_nsp_add(w, cfg->admin_ui.namespace, &admin_sockets);
	if (ui->nsp == NULL) {
		log_write(SG_LOG_ERROR, "admin_ui.namespace %s is already a namespace",
			  cfg->admin_ui.namespace);
		free(ui);
		return -1;
	}
	sg_buf_init(&ui->queued);
	/* idle unless an Admin UI is logged in here, or worker 0 publishes */
	ui->stats_timer = event_new(w->base, -1, EV_PERSIST, on_stats_timer, ui);
	event_add(ui->stats_timer, &(struct timeval){ ADMIN_UI_STATS_MS / 1000, 0 });
	w->admin_ui = ui;
	return 0;
}

static void admin_ui_flush(struct worker *w)
{
	if (w->admin_ui != NULL)
		admin_ui_flush_events(w->admin_ui);
}

static void admin_ui_fini(struct worker *w)
{
	struct admin_ui *ui = w->admin_ui;

	if (ui == NULL)
		return;
	sio_observe(w, NULL);
	w->admin_ui = NULL;
	event_free(ui->stats_timer);
	sg_buf_fini(&ui->queued);
	free(ui->last);
	free(ui);
}

const struct worker_module admin_ui_module = {
	.name = "Admin UI",
	.init = admin_ui_init,
	.flush = admin_ui_flush,
	.fini = admin_ui_fini,
};
