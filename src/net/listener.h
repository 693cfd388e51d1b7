/*
 * listener.h: the listening sockets of server.listen, accepting into a
 * worker.
 */
#ifndef SG_LISTENER_H
#define SG_LISTENER_H

#include <sys/socket.h>

#include "core/common.h"

struct worker;
struct listener;

/* Binds addr ("host:port", "[v6]:port" or "*:port"); admin: the admin
 * listener (its requests go to admin.c).  Returns NULL with err (e.g.
 * "cannot listen on 127.0.0.1:3000: Address already in use"). */
struct listener *listener_new(struct worker *w, const char *addr, bool admin,
			      struct sg_err *err) SG_WUR;
/* Stops accepting (the socket stays bound until listener_free). */
void listener_disable(struct listener *l);
void listener_free(struct listener *l);

/* Splits "host:port" into a sockaddr (pure). */
int listener_parse_addr(const char *addr, struct sockaddr_storage *ss, int *len,
			struct sg_err *err) SG_WUR;

#endif
