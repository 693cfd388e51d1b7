/*
 * notify.c: the smallest useful libsiogate-client program.  It connects to
 * siogate, runs the helper's flow (authenticate once connected, join a room
 * once authenticated), and prints every `notification` event until the
 * server refuses it or it is interrupted.  Reconnection (with backoff) and
 * re-authentication after it come for free: on_connected runs again.
 *
 *   cc notify.c $(pkg-config --cflags --libs siogate-client) -o notify
 *   ./notify http://127.0.0.1:3000 "$(siogate token --sub alice -c siogate.yaml)"
 */
#include <siogate/client.h>
#include <stdio.h>
#include <stdlib.h>

static void on_connected(struct sgc_client *c, void *user)
{
	(void)user;
	sgc_authenticate(c);
}

static void on_authenticated(struct sgc_client *c, const json_t *data, void *user)
{
	static const char *const rooms[] = { "io-notification", "public-news" };

	(void)data;
	(void)user;
	sgc_join_rooms(c, rooms, 2, NULL, NULL, 0);
}

static void on_unauthenticated(struct sgc_client *c, const char *message, void *user)
{
	fprintf(stderr, "refused: %s\n", message);
	event_base_loopbreak(user);
	(void)c;
}

static int on_notification(struct sgc_client *c, const struct sgc_event *ev, void *user)
{
	char *text = json_dumps(ev->data, JSON_ENCODE_ANY | JSON_COMPACT);

	(void)c;
	(void)user;
	printf("notification: %s\n", text ? text : "null");
	fflush(stdout);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	struct event_base *base = event_base_new();
	struct sgc_client *c;
	struct sgc_options o;
	char err[256], bearer[4096];
	const char *headers[] = { bearer, NULL };

	if (argc != 3) {
		fprintf(stderr, "usage: notify URL TOKEN\n");
		return 2;
	}
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", argv[2]);
	sgc_options_init(&o);
	o.url = argv[1];
	o.headers = headers;
	o.on_connected = on_connected;
	o.on_authenticated = on_authenticated;
	o.on_unauthenticated = on_unauthenticated;
	o.user = base;
	c = sgc_client_new(base, &o, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "notify: %s\n", err);
		return 2;
	}
	sgc_subscribe(c, "notification", on_notification, NULL, true);
	sgc_connect(c);
	event_base_dispatch(base);
	sgc_client_free(c);
	event_base_free(base);
	return 1;
}
