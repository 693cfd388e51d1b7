/*
 * admission.h: the connection limits of the whole process, shared by its
 * workers (server.max_connections, limits.per_ip,
 * limits.handshakes_per_second): a client cannot get around a limit by
 * landing on another worker.  Thread-safe; taken once per connection and
 * per handshake, never per message.
 */
#ifndef SG_ADMISSION_H
#define SG_ADMISSION_H

#include "close.h"
#include "common.h"

struct admission;
struct sg_config;

/* One address's open connections (limits.per_ip). */
struct ip_count {
	uint32_t n;
	char addr[];
};

struct admission *admission_new(void);
void admission_free(struct admission *a);

/* Counts a new connection from addr against the limits of cfg.  Returns 0
 * and sets *ip (to give back with admission_leave), or -1 with the reason
 * it is refused in *why. */
int admission_enter(struct admission *a, const struct sg_config *cfg, const char *addr,
		    struct ip_count **ip, enum sg_close *why) SG_WUR;
void admission_leave(struct admission *a, struct ip_count *ip);

/* Takes a token from the handshake bucket of `rate` per second (0: no
 * limit); false when the rate is exceeded. */
bool admission_handshake(struct admission *a, unsigned rate);

#endif
