/*
 * msgpack_read.h: reading msgpack without allocating: one item header at a
 * time, with every declared length and count checked against the bytes
 * left.  Used by the adapter-format decoder (bridge_adapter.c); msgpack-c's
 * unpacker is not, because it allocates from declared counts before reading
 * them and caps nesting at 32 levels.
 */
#ifndef SG_MSGPACK_READ_H
#define SG_MSGPACK_READ_H

#include "core/common.h"

/* The deepest nesting accepted (arrays and maps). */
#define MP_MAX_DEPTH 64

enum mp_kind {
	MP_NIL,	  /* c0 */
	MP_BOOL,  /* c2 c3 */
	MP_UINT,  /* every integer >= 0, whatever its form */
	MP_INT,	  /* every integer < 0 */
	MP_FLOAT, /* ca cb (float32 widened) */
	MP_STR,	  /* fixstr d9 da db */
	MP_BIN,	  /* c4 c5 c6 */
	MP_ARRAY, /* fixarray dc dd */
	MP_MAP,	  /* fixmap de df */
	MP_EXT,	  /* d4..d8 c7 c8 c9 */
};

struct mp_item {
	enum mp_kind kind;
	uint8_t head; /* the first byte */
	bool b;
	uint64_t u;
	int64_t i;
	double f;
	const uint8_t *p; /* str, bin, ext payload */
	size_t n;	  /* payload bytes, or element / pair count */
	int8_t ext_type;
};

/* The big-endian unsigned integer in p[0..n), n <= 8. */
uint64_t mp_be_load(const uint8_t *p, size_t n);
/* Reads one item's header at *off.  Scalars, str, bin and ext are consumed
 * whole; for arrays and maps only the header, after checking that the
 * declared count fits in the bytes left (each element takes at least one).
 * -1 with err when truncated or malformed. */
int mp_read(const uint8_t *buf, size_t len, size_t *off, struct mp_item *it,
	    struct sg_err *err) SG_WUR;
/* Skips the value at *off, checking it whole; depth is the nesting of the
 * value's parent (0 at top level), bounded by MP_MAX_DEPTH. */
int mp_skip(const uint8_t *buf, size_t len, size_t *off, int depth, struct sg_err *err) SG_WUR;
/* notepack's "undefined": fixext 1 of type 0 (d4 00 xx) at off. */
bool mp_is_undefined(const uint8_t *buf, size_t len, size_t off);
/* Whether it is the string s. */
bool mp_str_is(const struct mp_item *it, const char *s);
/* JavaScript truthiness of the decoded value. */
bool mp_truthy(const struct mp_item *it);

#endif
