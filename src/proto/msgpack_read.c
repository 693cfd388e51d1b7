/*
 * msgpack_read.c: a bounds-checked msgpack scanner (see msgpack_read.h).
 * Every read checks the bytes left before it trusts a declared length or
 * count, so a malformed or hostile message can only yield -1.
 */
#include "proto/msgpack_read.h"

#include <math.h>
#include <string.h>

uint64_t mp_be_load(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t k = 0; k < n; k++)
		v = v << 8 | p[k];
	return v;
}

/* Reads one item's header at *off.  Scalars, str, bin and ext are consumed
 * whole; for arrays and maps only the header, after checking that the
 * declared count fits in the bytes left (each element takes at least one). */
int mp_read(const uint8_t *buf, size_t len, size_t *off, struct mp_item *it, struct sg_err *err)
{
	size_t o = *off, need = 0, left;
	uint8_t h;

	if (o >= len)
		return sg_err_set(err, "truncated msgpack at byte %zu", o);
	memset(it, 0, sizeof(*it));
	h = buf[o++];
	it->head = h;
	left = len - o;
#define NEED(k)                                                                        \
	do {                                                                           \
		if (left < (size_t)(k))                                                \
			return sg_err_set(err, "truncated msgpack at byte %zu", *off); \
	} while (0)
	if (h <= 0x7f) {
		it->kind = MP_UINT;
		it->u = h;
	} else if (h <= 0x8f) {
		it->kind = MP_MAP;
		it->n = h & 0x0f;
	} else if (h <= 0x9f) {
		it->kind = MP_ARRAY;
		it->n = h & 0x0f;
	} else if (h <= 0xbf) {
		it->kind = MP_STR;
		it->n = h & 0x1f;
	} else if (h >= 0xe0) {
		it->kind = MP_INT;
		it->i = (int8_t)h;
	} else {
		switch (h) {
		case 0xc0:
			it->kind = MP_NIL;
			break;
		case 0xc2:
		case 0xc3:
			it->kind = MP_BOOL;
			it->b = h == 0xc3;
			break;
		case 0xc4:
		case 0xc5:
		case 0xc6:
			need = (size_t)1 << (h - 0xc4);
			NEED(need);
			it->kind = MP_BIN;
			it->n = (size_t)mp_be_load(buf + o, need);
			o += need;
			break;
		case 0xc7:
		case 0xc8:
		case 0xc9:
			need = (size_t)1 << (h - 0xc7);
			NEED(need + 1);
			it->kind = MP_EXT;
			it->n = (size_t)mp_be_load(buf + o, need);
			it->ext_type = (int8_t)buf[o + need];
			o += need + 1;
			break;
		case 0xca: {
			uint32_t bits;
			float fl;

			NEED(4);
			bits = (uint32_t)mp_be_load(buf + o, 4);
			memcpy(&fl, &bits, 4);
			it->kind = MP_FLOAT;
			it->f = fl;
			o += 4;
			break;
		}
		case 0xcb: {
			uint64_t bits;

			NEED(8);
			bits = mp_be_load(buf + o, 8);
			memcpy(&it->f, &bits, 8);
			it->kind = MP_FLOAT;
			o += 8;
			break;
		}
		case 0xcc:
		case 0xcd:
		case 0xce:
		case 0xcf:
			need = (size_t)1 << (h - 0xcc);
			NEED(need);
			it->kind = MP_UINT;
			it->u = mp_be_load(buf + o, need);
			o += need;
			break;
		case 0xd0:
		case 0xd1:
		case 0xd2:
		case 0xd3: {
			uint64_t v;

			need = (size_t)1 << (h - 0xd0);
			NEED(need);
			v = mp_be_load(buf + o, need);
			if (need < 8 && (v >> (need * 8 - 1)))
				v |= ~(uint64_t)0 << (need * 8); /* sign-extend */
			it->kind = MP_INT;
			it->i = (int64_t)v;
			o += need;
			break;
		}
		case 0xd4:
		case 0xd5:
		case 0xd6:
		case 0xd7:
		case 0xd8:
			NEED(1);
			it->kind = MP_EXT;
			it->n = (size_t)1 << (h - 0xd4);
			it->ext_type = (int8_t)buf[o];
			o += 1;
			break;
		case 0xd9:
		case 0xda:
		case 0xdb:
			need = (size_t)1 << (h - 0xd9);
			NEED(need);
			it->kind = MP_STR;
			it->n = (size_t)mp_be_load(buf + o, need);
			o += need;
			break;
		case 0xdc:
		case 0xdd:
			need = h == 0xdc ? 2 : 4;
			NEED(need);
			it->kind = MP_ARRAY;
			it->n = (size_t)mp_be_load(buf + o, need);
			o += need;
			break;
		case 0xde:
		case 0xdf:
			need = h == 0xde ? 2 : 4;
			NEED(need);
			it->kind = MP_MAP;
			it->n = (size_t)mp_be_load(buf + o, need);
			o += need;
			break;
		default: /* 0xc1, never used */
			return sg_err_set(err, "invalid msgpack byte 0x%02x at byte %zu", h, *off);
		}
	}
	if (it->kind == MP_INT && it->i >= 0) {
		it->kind = MP_UINT;
		it->u = (uint64_t)it->i;
	}
	left = len - o;
	if (it->kind == MP_STR || it->kind == MP_BIN || it->kind == MP_EXT) {
		NEED(it->n);
		it->p = buf + o;
		o += it->n;
	} else if (it->kind == MP_ARRAY) {
		NEED(it->n);
	} else if (it->kind == MP_MAP) {
		if (it->n > left / 2)
			return sg_err_set(err, "truncated msgpack at byte %zu", *off);
	}
#undef NEED
	*off = o;
	return 0;
}

/* Skips the value at *off, checking it whole; depth is the nesting of the
 * value's parent (0 at top level). */
int mp_skip(const uint8_t *buf, size_t len, size_t *off, int depth, struct sg_err *err)
{
	struct mp_item it;
	size_t count;

	if (mp_read(buf, len, off, &it, err) < 0)
		return -1;
	if (it.kind != MP_ARRAY && it.kind != MP_MAP)
		return 0;
	if (depth + 1 > MP_MAX_DEPTH)
		return sg_err_set(err, "msgpack nested deeper than %d", MP_MAX_DEPTH);
	count = it.kind == MP_MAP ? it.n * 2 : it.n;
	for (size_t k = 0; k < count; k++)
		if (mp_skip(buf, len, off, depth + 1, err) < 0)
			return -1;
	return 0;
}

/* notepack's "undefined": fixext 1 of type 0 (d4 00 xx). */
bool mp_is_undefined(const uint8_t *buf, size_t len, size_t off)
{
	return off + 1 < len && buf[off] == 0xd4 && buf[off + 1] == 0x00;
}

bool mp_str_is(const struct mp_item *it, const char *s)
{
	size_t n = strlen(s);

	return it->kind == MP_STR && it->n == n && memcmp(it->p, s, n) == 0;
}

/* JS truthiness of the decoded value. */
bool mp_truthy(const struct mp_item *it)
{
	switch (it->kind) {
	case MP_NIL:
		return false;
	case MP_BOOL:
		return it->b;
	case MP_UINT:
		return it->u != 0;
	case MP_INT:
		return true;
	case MP_FLOAT:
		return it->f != 0 && !isnan(it->f);
	case MP_STR:
		return it->n != 0;
	case MP_EXT:
		return !(it->head == 0xd4 && it->ext_type == 0);
	default:
		return true;
	}
}
