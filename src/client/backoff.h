/*
 * backoff.h: the reconnection delay of libsiogate-client, computed exactly as
 * socket.io-client's backo2 does it.  Pure code.
 */
#ifndef SGC_BACKOFF_H
#define SGC_BACKOFF_H

/*
 * The delay before reconnection attempt number attempt (0 for the first):
 * ms = min_ms * 2^attempt; with jitter j > 0 and a random r in [0, 1),
 * deviation = floor(r * j * ms), subtracted when floor(r * 10) is even and
 * added when odd; then capped at max_ms.  Never overflows (large attempts
 * give max_ms).
 */
unsigned sgc_backoff_delay(unsigned attempt, unsigned min_ms, unsigned max_ms, double jitter,
			   double r);

#endif
