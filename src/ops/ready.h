/*
 * ready.h: whether a worker is ready to serve, the one rule behind /readyz
 * and the siogate_ready metric.
 */
#ifndef SG_READY_H
#define SG_READY_H

struct worker;

/* Why worker w is not ready to serve (shutting down, a Redis link down), or
 * NULL when it is. */
const char *ready_reason(const struct worker *w);

#endif
