/*
 * server.h: the running daemon: the config snapshot, the worker, the
 * listeners, the Redis bridge and the signal handling, put together in the
 * start-up order and taken apart in reverse.
 */
#ifndef SG_SERVER_H
#define SG_SERVER_H

#include "config/config.h"
#include "core/common.h"

/* Runs siogate with cfg (borrowed) until SIGTERM/SIGINT.  Returns the exit
 * status: 0 after a graceful stop, 1 when start-up failed (the reason is
 * logged). */
int server_run(const struct sg_config *cfg);

/* Writes "libevent X, hiredis X, jansson X, OpenSSL X, libyaml X": the
 * libraries the daemon links, for --version and the start-up line.  Returns
 * buf. */
char *server_versions(char *buf, size_t size);

#endif
