/*
 * lifecycle.c: lifecycle events (see lifecycle.h), written with json_js so
 * backends read exactly the strings siogate holds.
 */
#include "app/lifecycle.h"

#include <string.h>

#include "app/authflow_socket.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/json_js.h"
#include "core/log.h"
#include "core/worker.h"
#include "eio/eio.h"
#include "redis/bridge.h"
#include "sio/rooms.h"
#include "sio/sio.h"

static const char *const type_names[] = {
	"connected", "authenticated", "joined", "left", "disconnected", "recovered",
};

static void put_string(struct sg_buf *b, const char *key, const char *v);

static void put_string(struct sg_buf *b, const char *key, const char *v)
{
	sg_buf_printf(b, ",\"%s\":", key);
	if (v == NULL)
		sg_buf_append_str(b, "null");
	else
		json_js_string(b, v, strlen(v));
}

void lifecycle_publish(struct sio_socket *sock, enum lifecycle_type type,
		       const struct sg_strv *rooms, const char *reason)
{
	struct worker *w = sock->nsp->w;
	const struct sg_config *cfg = w->cfg;
	const char *user = authflow_user(sock);
	char when[32];
	struct sg_buf b;

	if (w->bridge == NULL)
		return;
	sg_buf_init(&b);
	sg_buf_printf(&b, "{\"type\":\"%s\",\"id\":\"%s\"", type_names[type], sock->id);
	put_string(&b, "nsp", sock->nsp->name);
	put_string(&b, "server", cfg->server.id);
	put_string(&b, "user", user);
	sg_buf_append_str(&b, ",\"rooms\":");
	if (rooms != NULL)
		json_js_strv(&b, rooms);
	else
		room_set_json(&sock->rooms, NULL, &b);
	put_string(&b, "reason", reason);
	put_string(&b, "time", sg_time_iso(when, sg_now_ms()));
	sg_buf_append_char(&b, '}');
	(void)bridge_publish(w->bridge, cfg->redis.lifecycle_channel, b.data, b.len);
	if (cfg->redis.lifecycle_stream != NULL) {
		/* a failure is counted by the bridge, as a dropped publish is */
		static const char *const field[] = { "event" };
		const char *const value[] = { b.data };
		(void)bridge_xadd(w->bridge, cfg->redis.lifecycle_stream,
				  cfg->redis.lifecycle_stream_maxlen, field, value, &b.len, 1, NULL,
				  NULL, NULL);
	}
	sg_buf_fini(&b);
}
