/*
 * admission.h: the connection limits of the whole process, shared by its
 * workers (server.max_connections, limits.per_ip, limits.http_per_ip,
 * limits.handshakes_per_second): a client cannot get around a limit by
 * landing on another worker.  Thread-safe; taken once per connection, per
 * handshake and per request that does not arrive in one read, never per
 * message.
 *
 * Connections are counted per address.  The empty address "" holds the
 * connections of trusted proxies whose client is not known (yet): they
 * count toward server.max_connections only, until the client's address
 * moves them (admission_move).
 */
#ifndef SG_ADMISSION_H
#define SG_ADMISSION_H

#include "close.h"
#include "common.h"

struct admission;
struct sg_config;

/* One address's open connections, and how many of them are still reading
 * a request (the HTTP phase: not yet a WebSocket, not yet answered). */
struct ip_count {
	uint32_t n;
	uint32_t n_http;
	char addr[];
};

struct admission *admission_new(void);
void admission_free(struct admission *a);

/* The ceiling of server.max_connections, from the open-file limit at start
 * (fdlimit.h): the limit when it is auto (0), and a bound on an explicit
 * value.  0 (the default): no ceiling. */
void admission_set_ceiling(struct admission *a, unsigned max);
/* The number of client connections admitted at most. */
unsigned admission_max(const struct admission *a, const struct sg_config *cfg);

/* Counts a new connection from addr ("" for an unattributed proxy
 * connection) against the limits of cfg; it starts in its HTTP phase.
 * Returns 0 and sets *ip (to give back with admission_leave), or -1 with
 * the reason it is refused in *why. */
int admission_enter(struct admission *a, const struct sg_config *cfg, const char *addr,
		    struct ip_count **ip, enum sg_close *why) SG_WUR;
/* The connection of ip leaves; in_http: it was still in its HTTP phase. */
void admission_leave(struct admission *a, struct ip_count *ip, bool in_http);

/* A connection of ip starts reading a new request (limits.http_per_ip):
 * 0, or -1 when its address has that many connections in the HTTP phase. */
int admission_http_enter(struct admission *a, const struct sg_config *cfg,
			 struct ip_count *ip) SG_WUR;
void admission_http_leave(struct admission *a, struct ip_count *ip);

/* The connection of *ip turns out to come from addr (a trusted proxy named
 * its client): it is counted there from now on, against limits.per_ip and,
 * when in_http, limits.http_per_ip.  0 with *ip updated, or -1 with *why
 * (*ip unchanged, still counted where it was). */
int admission_move(struct admission *a, const struct sg_config *cfg, struct ip_count **ip,
		   const char *addr, bool in_http, enum sg_close *why) SG_WUR;

/* Takes a token from the handshake bucket of `rate` per second (0: no
 * limit); false when the rate is exceeded. */
bool admission_handshake(struct admission *a, unsigned rate);

#endif
