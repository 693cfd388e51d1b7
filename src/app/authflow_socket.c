/*
 * authflow_socket.c: a socket's authenticate-flow state, read by the flow's
 * helpers and the layers above (see authflow_socket.h).
 */
#include "app/authflow_socket.h"

#include "eio/eio.h"

const char *authflow_state_name(enum authflow_state s)
{
	switch (s) {
	case AUTHFLOW_UNAUTHORIZED:
		return "unauthorized";
	case AUTHFLOW_AUTHENTICATING:
		return "authenticating";
	case AUTHFLOW_AUTHENTICATED:
		return "authenticated";
	}
	return "unknown";
}

const char *authflow_user(const struct sio_socket *sock)
{
	json_t *sub = authflow_of(sock)->claims ? json_object_get(authflow_of(sock)->claims, "sub")
						: NULL;

	return json_is_string(sub) ? json_string_value(sub) : NULL;
}

void authflow_facts(const struct sio_socket *sock, struct log_facts *f)
{
	const char *user = authflow_user(sock);

	eio_facts(sock->eio, f);
	f->socket = sock->id;
	f->nsp = sock->nsp->name;
	f->user = user;
}
