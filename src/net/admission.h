/*
 * admission.h: the connection limits of the whole process, shared by its
 * workers (server.max_connections, limits.per_ip, limits.http_per_ip,
 * limits.handshakes_per_second): a client cannot get around a limit by
 * landing on another worker.  Thread-safe; taken once per connection, per
 * handshake and per slow request, never per message.
 *
 * Connections are counted per address.  The empty address "" holds the
 * connections of trusted proxies whose client is not known (yet): they
 * count toward server.max_connections only, until the client's address
 * moves them (admission_move).
 */
#ifndef SG_ADMISSION_H
#define SG_ADMISSION_H

#include "core/close.h"
#include "core/common.h"

struct admission;
struct sg_config;

/* One address's open connections, and how many of them are slow in their
 * HTTP phase (a request still arriving after a grace; see conn.h). */
struct ip_count {
	uint32_t n;
	uint32_t n_slow;
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
 * connection) against the limits of cfg (and, when the address already has
 * limits.http_per_ip slow connections, refuses it too: a host that holds
 * its slow ones gets no more).  Returns 0 and sets *ip (to give back with
 * admission_leave), or -1 with the reason it is refused in *why. */
int admission_enter(struct admission *a, const struct sg_config *cfg, const char *addr,
		    struct ip_count **ip, enum sg_close *why) SG_WUR;
/* The connection of ip leaves; slow: it was counted as slow. */
void admission_leave(struct admission *a, struct ip_count *ip, bool slow);

/* A connection of ip is slow in its HTTP phase (limits.http_per_ip): 0
 * (counted), or -1 when its address has that many slow ones already. */
int admission_slow_enter(struct admission *a, const struct sg_config *cfg,
			 struct ip_count *ip) SG_WUR;
void admission_slow_leave(struct admission *a, struct ip_count *ip);

/* The connection of *ip turns out to come from addr (a trusted proxy named
 * its client): it is counted there from now on (as slow when slow), against
 * the limits a new connection of addr meets.  0 with *ip updated, or -1
 * with *why (*ip unchanged, still counted where it was). */
int admission_move(struct admission *a, const struct sg_config *cfg, struct ip_count **ip,
		   const char *addr, bool slow, enum sg_close *why) SG_WUR;

/* Takes a token from the handshake bucket of `rate` per second (0: no
 * limit); false when the rate is exceeded. */
bool admission_handshake(struct admission *a, unsigned rate);

#endif
