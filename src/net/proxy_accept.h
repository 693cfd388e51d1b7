/*
 * proxy_accept.h: with server.proxy_protocol, a connection from a trusted
 * proxy must begin with a PROXY protocol header (proxy_proto.h) naming the
 * client.  It is read here, from the socket itself and before any TLS, with
 * MSG_PEEK so that not one byte after it is taken from the connection; then
 * the connection becomes a conn (conn_new) as the client's.  A peer that
 * does not send a valid header within limits.header_timeout is closed
 * ("bad proxy header").
 */
#ifndef SG_PROXY_ACCEPT_H
#define SG_PROXY_ACCEPT_H

#include <sys/socket.h>

struct worker;
struct ip_count;
struct proxy_wait;

/* Takes fd (accepted from the trusted peer sa, admitted as ip) and waits
 * for its header on w's loop. */
void proxy_accept_start(struct worker *w, int fd, const struct sockaddr *sa, struct ip_count *ip);

/* The PROXY header readers' part of every worker (worker_module): at exit,
 * closes every connection still waiting for its header.  Listed after
 * conn_module. */
extern const struct worker_module proxy_accept_module;

#endif
