/*
 * bridge_adapter.c: the msgpack broadcast message [uid, packet, opts] of the
 * Socket.IO Redis adapter and emitter.  The decoder turns what a Node server
 * (notepack.io) or a third-party emitter publishes into the JSON text and the
 * attachments that a Node server would send to its clients: it reproduces
 * notepack's decode, JS property-key semantics, socket.io-parser's
 * deconstructPacket and JSON.stringify.  The encoder produces the bytes
 * notepack.io produces for the adapter's [uid, packet, rawOpts].
 * Invariant: the decoder first validates the whole message with a bounds-
 * checked walk (complete, no trailing bytes, every declared count possible in
 * the remaining bytes, nesting <= ADAPTER_MAX_DEPTH) before it allocates
 * anything, so memory stays proportional to the input and malformed input can
 * only yield -1.  msgpack-c is not used for decoding: its unpacker caps
 * nesting at 32 levels and allocates element arrays from the declared counts
 * before reading them (a 5-byte "dd 7f ff ff ff" asks for ~51 GB).
 */
#include "proto/adapter_codec.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_js.h"
#include "proto/msgpack_read.h"

_Static_assert(ADAPTER_MAX_DEPTH == MP_MAX_DEPTH, "one nesting bound for msgpack");

/* A map entry seen as a JS property: key text in a pool, the value's offset. */
struct key_ent {
	size_t koff, klen;
	const char *k; /* pool + koff, set once the pool stops growing */
	size_t pos;    /* order of first appearance */
	size_t val;    /* msgpack offset (decoder) or node index (encoder) */
	uint32_t index;
	bool is_index; /* canonical array index: ordered first, numerically */
};

struct att_ref {
	size_t off, len;
};

struct dec {
	const uint8_t *buf;
	size_t len;
	struct sg_buf json;
	struct att_ref *att;
	size_t n_att;
	unsigned max_att;
	struct sg_err *err;
};

/* ---- JSON tree for the encoder ---- */

enum jn_type {
	JN_NULL,  /* null */
	JN_FALSE, /* false */
	JN_TRUE,  /* true */
	JN_NUM,	  /* number: d, and i when is_int */
	JN_STR,	  /* string: pool bytes soff..soff+slen */
	JN_ARR,	  /* array: kids are values */
	JN_OBJ,	  /* object: kids are key, value, key, value... */
};

struct jn {
	enum jn_type type;
	bool is_int;  /* integer literal that fits int64: i */
	bool is_uint; /* integer literal in (INT64_MAX, UINT64_MAX]: u */
	int64_t i;
	uint64_t u;
	double d;
	size_t soff, slen;
	size_t *kids;
	size_t nkids;
};

struct jp {
	const char *p, *end;
	struct jn *v;
	size_t n, cap;
	struct sg_buf pool;
	struct sg_err *err;
};

struct enc {
	struct jp *jp;
	const struct adapter_attachment *att;
	size_t n_att;
	struct sg_buf *out;
	struct sg_err *err;
};

static bool key_is_index(const char *k, size_t n, uint32_t *index);
static int cmp_key_pos(const void *a, const void *b);
static int cmp_js_order(const void *a, const void *b);
static size_t js_key_order(struct key_ent *e, size_t n, const char *pool);
static int dec_value(struct dec *d, size_t *off);
static int dec_map(struct dec *d, size_t *off, size_t count);
static int dec_ext(struct dec *d, const struct mp_item *it);
static int dec_attachment(struct dec *d, const uint8_t *p, size_t n);
static int dec_key(struct dec *d, size_t *off, struct sg_buf *pool);
static int dec_cstr(struct dec *d, const struct mp_item *it, bool numbers, const char *what,
		    char **res);
static int dec_room_list(struct dec *d, size_t off, struct sg_strv *sv, const char *what);
static int dec_packet(struct dec *d, size_t off, struct adapter_broadcast *out);
static int dec_opts(struct dec *d, size_t off, struct adapter_broadcast *out);
static void dec_flags(struct dec *d, size_t off, struct adapter_broadcast *out);
static void mpw_u8(struct sg_buf *b, uint8_t c);
static void mpw_be(struct sg_buf *b, uint8_t head, uint64_t v, size_t n);
static void mpw_uint(struct sg_buf *b, uint64_t u);
static void mpw_int(struct sg_buf *b, int64_t i);
static void mpw_f64(struct sg_buf *b, double d);
static void mpw_len(struct sg_buf *b, size_t n, uint8_t fix, size_t fixmax, uint8_t h8, uint8_t h16,
		    uint8_t h32);
static void mpw_str(struct sg_buf *b, const char *s, size_t n);
static void mpw_strv(struct sg_buf *b, const struct sg_strv *sv);
static void jp_free(struct jp *jp);
static size_t jp_node(struct jp *jp, enum jn_type t);
static void jp_ws(struct jp *jp);
static int jp_value(struct jp *jp, int depth, size_t *idx);
static int jp_string(struct jp *jp, size_t *idx);
static int jp_number(struct jp *jp, size_t *idx);
static int jp_hex4(struct jp *jp, unsigned *cp);
static void utf8_put(struct sg_buf *b, unsigned cp);
static int enc_value(struct enc *e, size_t idx);
static int enc_object(struct enc *e, const struct jn *o);

/* ---- JS property order ---- */

/* A canonical array index: "0" or [1-9][0-9]* below 2^32 - 1. */
static bool key_is_index(const char *k, size_t n, uint32_t *index)
{
	uint64_t v = 0;

	if (n == 0 || n > 10 || (n > 1 && k[0] == '0'))
		return false;
	for (size_t j = 0; j < n; j++) {
		if (k[j] < '0' || k[j] > '9')
			return false;
		v = v * 10 + (uint64_t)(k[j] - '0');
	}
	if (v >= 0xffffffffu)
		return false;
	*index = (uint32_t)v;
	return true;
}

static int cmp_key_pos(const void *a, const void *b)
{
	const struct key_ent *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->k, y->k, n);

	if (c != 0)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_js_order(const void *a, const void *b)
{
	const struct key_ent *x = a, *y = b;

	if (x->is_index != y->is_index)
		return x->is_index ? -1 : 1;
	if (x->is_index)
		return x->index < y->index ? -1 : x->index > y->index;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Orders entries as a JS object built by successive assignments holds its own
 * properties: one per distinct key, at the position of its first appearance
 * with the value of its last, array indices first in ascending order.  Returns
 * the new count. */
static size_t js_key_order(struct key_ent *e, size_t n, const char *pool)
{
	size_t w = 0;

	for (size_t j = 0; j < n; j++) {
		e[j].k = pool + e[j].koff;
		e[j].is_index = key_is_index(e[j].k, e[j].klen, &e[j].index);
	}
	if (n > 1)
		qsort(e, n, sizeof(*e), cmp_key_pos);
	for (size_t j = 0; j < n; j++) {
		if (w > 0 && e[w - 1].klen == e[j].klen &&
		    memcmp(e[w - 1].k, e[j].k, e[j].klen) == 0)
			e[w - 1].val = e[j].val; /* later duplicate: value only */
		else
			e[w++] = e[j];
	}
	if (w > 1)
		qsort(e, w, sizeof(*e), cmp_js_order);
	return w;
}

/* ---- decoder ---- */

static int dec_attachment(struct dec *d, const uint8_t *p, size_t n)
{
	if (d->n_att >= d->max_att)
		return sg_err_set(d->err, "more than %u binary attachments", d->max_att);
	d->att = sg_realloc(d->att, (d->n_att + 1) * sizeof(*d->att));
	d->att[d->n_att].off = (size_t)(p - d->buf);
	d->att[d->n_att].len = n;
	sg_buf_printf(&d->json, "{\"_placeholder\":true,\"num\":%zu}", d->n_att);
	d->n_att++;
	return 0;
}

/* The ext forms notepack decodes specially; everything else is [type, Buffer]. */
static int dec_ext(struct dec *d, const struct mp_item *it)
{
	const uint8_t *p = it->p;
	double ms;

	if (it->head == 0xd4 && it->ext_type == 0) {
		sg_buf_append_str(&d->json, "null"); /* undefined, in an array */
		return 0;
	}
	if (it->head >= 0xc7 && it->head <= 0xc9 && it->ext_type == 0)
		return dec_attachment(d, p, it->n); /* ArrayBuffer */
	if (it->head == 0xc7 && it->ext_type == -1) {
		if (it->n != 12)
			return sg_err_set(d->err, "timestamp 96 of %zu bytes", it->n);
		/* the same double arithmetic as notepack, so rounding matches */
		ms = (double)(int32_t)mp_be_load(p + 4, 4) * 4294967296.0 +
		     (double)mp_be_load(p + 8, 4);
		ms = ms * 1e3 + (double)mp_be_load(p, 4) / 1e6;
		json_js_date(&d->json, ms);
		return 0;
	}
	if (it->head == 0xd6 && it->ext_type == -1) {
		json_js_date(&d->json, (double)mp_be_load(p, 4) * 1e3);
		return 0;
	}
	if (it->head == 0xd7 && it->ext_type == 0) {
		json_js_date(&d->json, (double)(int32_t)mp_be_load(p, 4) * 4294967296.0 +
					       (double)mp_be_load(p + 4, 4));
		return 0;
	}
	if (it->head == 0xd7 && it->ext_type == -1) {
		uint32_t hi = (uint32_t)mp_be_load(p, 4);
		double s = (double)(hi & 3) * 4294967296.0 + (double)mp_be_load(p + 4, 4);

		json_js_date(&d->json, s * 1e3 + (double)(hi >> 2) / 1e6);
		return 0;
	}
	sg_buf_printf(&d->json, "[%d,", (int)it->ext_type);
	if (dec_attachment(d, p, it->n) < 0)
		return -1;
	sg_buf_append_char(&d->json, ']');
	return 0;
}

/* Appends to pool the JS property key the map key at *off becomes. */
static int dec_key(struct dec *d, size_t *off, struct sg_buf *pool)
{
	size_t start = *off;
	struct mp_item it;

	if (mp_read(d->buf, d->len, off, &it, d->err) < 0)
		return -1;
	switch (it.kind) {
	case MP_STR:
	case MP_BIN: /* Buffer.toString() */
		json_js_utf8_sanitize(pool, (const char *)it.p, it.n);
		return 0;
	case MP_NIL:
		sg_buf_append_str(pool, "null");
		return 0;
	case MP_BOOL:
		sg_buf_append_str(pool, it.b ? "true" : "false");
		return 0;
	case MP_UINT:
		sg_buf_printf(pool, "%" PRIu64, it.u);
		return 0;
	case MP_INT:
		sg_buf_printf(pool, "%" PRId64, it.i);
		return 0;
	case MP_FLOAT:
		json_js_number_string(pool, it.f);
		return 0;
	case MP_EXT:
		if (it.head == 0xd4 && it.ext_type == 0) {
			sg_buf_append_str(pool, "undefined");
			return 0;
		}
		break;
	default:
		break;
	}
	return sg_err_set(d->err, "unsupported map key type at byte %zu", start);
}

static int dec_map(struct dec *d, size_t *off, size_t count)
{
	struct key_ent *e = sg_calloc(count, sizeof(*e));
	struct sg_buf pool;
	size_t n = 0, kept;
	bool first = true;
	int rc = -1;

	sg_buf_init(&pool);
	sg_buf_append(&pool, "", 0); /* pool.data is never NULL */
	for (size_t j = 0; j < count; j++) {
		size_t koff = pool.len;

		if (dec_key(d, off, &pool) < 0)
			goto out;
		e[n].koff = koff;
		e[n].klen = pool.len - koff;
		e[n].pos = j;
		e[n].val = *off;
		if (mp_skip(d->buf, d->len, off, 0, d->err) < 0)
			goto out;
		/* obj["__proto__"] = v sets the prototype or nothing: no own property. */
		if (e[n].klen == 9 && memcmp(pool.data + koff, "__proto__", 9) == 0)
			continue;
		n++;
	}
	kept = js_key_order(e, n, pool.data);
	sg_buf_append_char(&d->json, '{');
	for (size_t j = 0; j < kept; j++) {
		size_t voff = e[j].val;

		if (mp_is_undefined(d->buf, d->len, voff))
			continue; /* JSON.stringify omits undefined members */
		if (!first)
			sg_buf_append_char(&d->json, ',');
		first = false;
		json_js_string(&d->json, e[j].k, e[j].klen);
		sg_buf_append_char(&d->json, ':');
		if (dec_value(d, &voff) < 0)
			goto out;
	}
	sg_buf_append_char(&d->json, '}');
	rc = 0;
out:
	free(e);
	sg_buf_fini(&pool);
	return rc;
}

/* Appends the JSON for the (already validated) value at *off. */
static int dec_value(struct dec *d, size_t *off)
{
	struct mp_item it;

	if (mp_read(d->buf, d->len, off, &it, d->err) < 0)
		return -1;
	switch (it.kind) {
	case MP_NIL:
		sg_buf_append_str(&d->json, "null");
		return 0;
	case MP_BOOL:
		sg_buf_append_str(&d->json, it.b ? "true" : "false");
		return 0;
	case MP_UINT:
		sg_buf_printf(&d->json, "%" PRIu64, it.u);
		return 0;
	case MP_INT:
		sg_buf_printf(&d->json, "%" PRId64, it.i);
		return 0;
	case MP_FLOAT:
		json_js_number(&d->json, it.f);
		return 0;
	case MP_STR:
		json_js_string(&d->json, (const char *)it.p, it.n);
		return 0;
	case MP_BIN:
		return dec_attachment(d, it.p, it.n);
	case MP_EXT:
		return dec_ext(d, &it);
	case MP_ARRAY:
		sg_buf_append_char(&d->json, '[');
		for (size_t j = 0; j < it.n; j++) {
			if (j)
				sg_buf_append_char(&d->json, ',');
			if (dec_value(d, off) < 0)
				return -1;
		}
		sg_buf_append_char(&d->json, ']');
		return 0;
	case MP_MAP:
		return dec_map(d, off, it.n);
	}
	return sg_err_set(d->err, "unexpected msgpack type");
}

/* A C string for uid, nsp or a room: str (sanitized UTF-8, no NUL) or, when
 * numbers is set, an integer or float in JS decimal form. */
static int dec_cstr(struct dec *d, const struct mp_item *it, bool numbers, const char *what,
		    char **res)
{
	struct sg_buf b;

	sg_buf_init(&b);
	if (it->kind == MP_STR) {
		if (memchr(it->p, '\0', it->n) != NULL)
			return sg_err_set(d->err, "%s contains NUL", what);
		json_js_utf8_sanitize(&b, (const char *)it->p, it->n);
	} else if (numbers && it->kind == MP_UINT) {
		sg_buf_printf(&b, "%" PRIu64, it->u);
	} else if (numbers && it->kind == MP_INT) {
		sg_buf_printf(&b, "%" PRId64, it->i);
	} else if (numbers && it->kind == MP_FLOAT) {
		json_js_number_string(&b, it->f);
	} else {
		return sg_err_set(d->err, "%s has an unsupported type", what);
	}
	*res = sg_buf_steal(&b);
	return 0;
}

/* rooms / except: nil, array, map (its values) or one scalar. */
static int dec_room_list(struct dec *d, size_t off, struct sg_strv *sv, const char *what)
{
	struct mp_item it, el;
	size_t count, step;
	char *s;

	if (mp_read(d->buf, d->len, &off, &it, d->err) < 0)
		return -1;
	if (it.kind == MP_NIL || (it.kind == MP_EXT && it.head == 0xd4 && it.ext_type == 0))
		return 0;
	if (it.kind != MP_ARRAY && it.kind != MP_MAP) {
		if (dec_cstr(d, &it, true, what, &s) < 0)
			return -1;
		sv->v = sg_realloc(sv->v, (sv->n + 1) * sizeof(*sv->v));
		sv->v[sv->n++] = s;
		return 0;
	}
	count = it.n;
	step = it.kind == MP_MAP ? 2 : 1;
	for (size_t j = 0; j < count; j++) {
		if (step == 2 && mp_skip(d->buf, d->len, &off, 0, d->err) < 0)
			return -1;
		if (mp_read(d->buf, d->len, &off, &el, d->err) < 0)
			return -1;
		if (dec_cstr(d, &el, true, what, &s) < 0)
			return -1;
		sv->v = sg_realloc(sv->v, (sv->n + 1) * sizeof(*sv->v));
		sv->v[sv->n++] = s;
	}
	return 0;
}

static void dec_flags(struct dec *d, size_t off, struct adapter_broadcast *out)
{
	struct mp_item it, k, v;

	if (mp_read(d->buf, d->len, &off, &it, NULL) < 0 || it.kind != MP_MAP)
		return; /* PHP's empty array, nil...: no flags */
	for (size_t j = 0; j < it.n; j++) {
		size_t koff = off, voff;

		if (mp_skip(d->buf, d->len, &off, 0, NULL) < 0)
			return;
		voff = off;
		if (mp_read(d->buf, d->len, &koff, &k, NULL) < 0 ||
		    mp_read(d->buf, d->len, &voff, &v, NULL) < 0)
			return;
		if (mp_str_is(&k, "volatile")) {
			out->flag_volatile = mp_truthy(&v);
		} else if (mp_str_is(&k, "compress")) {
			out->flag_compress = mp_truthy(&v);
		} else if (mp_str_is(&k, "local")) {
			out->flag_local = mp_truthy(&v);
		} else if (mp_str_is(&k, "timeout")) {
			if (v.kind == MP_UINT)
				out->flag_timeout_ms = v.u > INT64_MAX ? INT64_MAX : (int64_t)v.u;
			else if (v.kind == MP_INT)
				out->flag_timeout_ms = 0;
			else if (v.kind == MP_FLOAT && isfinite(v.f))
				out->flag_timeout_ms = v.f <= 0	       ? 0
						       : v.f >= 9.2e18 ? INT64_MAX
								       : (int64_t)v.f;
		}
		if (mp_skip(d->buf, d->len, &off, 0, NULL) < 0)
			return;
	}
}

/* Where the values of a map's keys named in names[0..n) are: offs[i] is
 * the offset of names[i]'s value, 0 when absent (never a real offset: the
 * map's header comes first), the last one when a key is given twice.  The
 * map has n_items entries from off. */
static int dec_map_values(struct dec *d, size_t off, size_t n_items, const char *const *names,
			  size_t *offs, size_t n)
{
	struct mp_item k;

	memset(offs, 0, n * sizeof(*offs));
	for (size_t j = 0; j < n_items; j++) {
		size_t koff = off;

		if (mp_skip(d->buf, d->len, &off, 0, d->err) < 0)
			return -1;
		if (mp_read(d->buf, d->len, &koff, &k, d->err) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (mp_str_is(&k, names[i]))
				offs[i] = off;
		if (mp_skip(d->buf, d->len, &off, 0, d->err) < 0)
			return -1;
	}
	return 0;
}

static int dec_opts(struct dec *d, size_t off, struct adapter_broadcast *out)
{
	struct mp_item it;
	size_t rooms_off = 0, except_off = 0, flags_off = 0;

	if (mp_read(d->buf, d->len, &off, &it, d->err) < 0)
		return -1;
	if (it.kind == MP_NIL)
		return 0;
	if (it.kind != MP_MAP)
		return sg_err_set(d->err, "broadcast opts is not a map");
	{
		static const char *const names[] = { "rooms", "except", "flags" };
		size_t at[3];

		if (dec_map_values(d, off, it.n, names, at, 3) < 0)
			return -1;
		rooms_off = at[0];
		except_off = at[1];
		flags_off = at[2];
	}
	/* Offsets are never 0 here: the opts header comes first. */
	if (rooms_off && dec_room_list(d, rooms_off, &out->rooms, "opts.rooms entry") < 0)
		return -1;
	if (except_off && dec_room_list(d, except_off, &out->except, "opts.except entry") < 0)
		return -1;
	if (flags_off)
		dec_flags(d, flags_off, out);
	return 0;
}

static int dec_packet(struct dec *d, size_t off, struct adapter_broadcast *out)
{
	struct mp_item it, v;
	size_t type_off = 0, data_off = 0, nsp_off = 0, voff;
	int64_t type;

	if (mp_read(d->buf, d->len, &off, &it, d->err) < 0)
		return -1;
	if (it.kind != MP_MAP)
		return sg_err_set(d->err, "broadcast packet is not a map");
	{
		static const char *const names[] = { "type", "data", "nsp" };
		size_t at[3];

		if (dec_map_values(d, off, it.n, names, at, 3) < 0)
			return -1;
		type_off = at[0];
		data_off = at[1];
		nsp_off = at[2];
	}
	if (type_off == 0)
		return sg_err_set(d->err, "broadcast packet has no type");
	voff = type_off;
	if (mp_read(d->buf, d->len, &voff, &v, d->err) < 0)
		return -1;
	if (v.kind == MP_UINT && v.u <= 6)
		type = (int64_t)v.u;
	else if (v.kind == MP_FLOAT && v.f >= 0 && v.f <= 6 && floor(v.f) == v.f)
		type = (int64_t)v.f;
	else
		return sg_err_set(d->err, "broadcast packet type is not an integer 0..6");
	if (type != 2 && type != 3 && type != 5 && type != 6)
		return sg_err_set(d->err, "broadcast packet type %d is not an event or ack",
				  (int)type);
	out->type = (int)type;

	if (nsp_off) {
		voff = nsp_off;
		if (mp_read(d->buf, d->len, &voff, &v, d->err) < 0)
			return -1;
		if (v.kind == MP_NIL || (v.kind == MP_EXT && v.head == 0xd4 && v.ext_type == 0))
			nsp_off = 0;
		else if (v.kind != MP_STR)
			return sg_err_set(d->err, "broadcast packet nsp is not a string");
		else if (dec_cstr(d, &v, false, "packet.nsp", &out->nsp) < 0)
			return -1;
	}
	if (nsp_off == 0)
		out->nsp = sg_strdup("/");

	if (data_off == 0)
		return sg_err_set(d->err, "broadcast packet has no data");
	voff = data_off;
	if (mp_read(d->buf, d->len, &voff, &v, d->err) < 0)
		return -1;
	if (v.kind != MP_ARRAY)
		return sg_err_set(d->err, "broadcast packet data is not an array");
	if (type == 2 || type == 5) {
		struct mp_item ev;

		if (v.n == 0)
			return sg_err_set(d->err, "broadcast packet data is empty");
		if (mp_read(d->buf, d->len, &voff, &ev, d->err) < 0)
			return -1;
		if (ev.kind != MP_STR)
			return sg_err_set(d->err, "broadcast event name is not a string");
	}
	voff = data_off;
	if (dec_value(d, &voff) < 0)
		return -1;
	return 0;
}

int adapter_codec_decode_broadcast(const void *buf, size_t len, unsigned max_attachments,
				   struct adapter_broadcast *out, struct sg_err *err)
{
	struct dec d;
	struct mp_item top, first;
	size_t off = 0, packet_off, opts_off = 0;

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	d.buf = buf;
	d.len = len;
	d.max_att = max_attachments;
	d.err = err;
	sg_buf_init(&d.json);
	if (len == 0)
		return sg_err_set(err, "empty broadcast message");
	if (mp_skip(d.buf, len, &off, 0, err) < 0)
		return -1;
	if (off != len)
		return sg_err_set(err, "%zu trailing bytes after the broadcast message", len - off);
	off = 0;
	if (mp_read(d.buf, len, &off, &top, err) < 0)
		return -1;
	if (top.kind != MP_ARRAY || top.n < 2)
		return sg_err_set(err, "broadcast message is not an array of at least 2");

	out->flag_compress = true;
	out->flag_timeout_ms = -1;
	packet_off = off;
	if (mp_read(d.buf, len, &packet_off, &first, err) < 0)
		goto fail;
	if (first.kind == MP_MAP) { /* [packet, opts]: no uid */
		packet_off = off;
		if (mp_skip(d.buf, len, &off, 0, err) < 0)
			goto fail;
		opts_off = off;
		out->uid = sg_strdup("");
	} else {
		/* [uid, packet, opts?]; uid is a scalar, so packet_off is past it. */
		if (first.kind == MP_NIL)
			out->uid = sg_strdup("");
		else if (dec_cstr(&d, &first, true, "uid", &out->uid) < 0)
			goto fail;
		if (top.n >= 3) {
			off = packet_off;
			if (mp_skip(d.buf, len, &off, 0, err) < 0)
				goto fail;
			opts_off = off;
		}
	}
	if (dec_packet(&d, packet_off, out) < 0)
		goto fail;
	if (opts_off && dec_opts(&d, opts_off, out) < 0)
		goto fail;

	out->data_json_len = d.json.len;
	out->data_json = sg_buf_steal(&d.json);
	out->n_attachments = d.n_att;
	if (d.n_att) {
		out->attachments = sg_calloc(d.n_att, sizeof(*out->attachments));
		for (size_t j = 0; j < d.n_att; j++) {
			out->attachments[j].len = d.att[j].len;
			if (d.att[j].len) {
				out->attachments[j].data = sg_malloc(d.att[j].len);
				memcpy(out->attachments[j].data, d.buf + d.att[j].off,
				       d.att[j].len);
			}
		}
	}
	free(d.att);
	return 0;
fail:
	free(d.att);
	sg_buf_fini(&d.json);
	adapter_codec_broadcast_fini(out);
	return -1;
}

int adapter_codec_msgpack_to_json(const void *buf, size_t len, unsigned max_attachments,
				  struct sg_buf *json, struct adapter_attachment **attachments,
				  size_t *n_attachments, struct sg_err *err)
{
	struct dec d;
	size_t off = 0;

	*attachments = NULL;
	*n_attachments = 0;
	memset(&d, 0, sizeof(d));
	d.buf = buf;
	d.len = len;
	d.max_att = max_attachments;
	d.err = err;
	sg_buf_init(&d.json);
	if (len == 0)
		return sg_err_set(err, "empty message");
	if (mp_skip(d.buf, len, &off, 0, err) < 0)
		return -1;
	if (off != len)
		return sg_err_set(err, "%zu trailing bytes after the message", len - off);
	off = 0;
	if (dec_value(&d, &off) < 0) {
		free(d.att);
		sg_buf_fini(&d.json);
		return -1;
	}
	sg_buf_append(json, d.json.data, d.json.len);
	sg_buf_fini(&d.json);
	if (d.n_att) {
		*attachments = sg_calloc(d.n_att, sizeof(**attachments));
		for (size_t j = 0; j < d.n_att; j++) {
			(*attachments)[j].len = d.att[j].len;
			if (d.att[j].len) {
				(*attachments)[j].data = sg_malloc(d.att[j].len);
				memcpy((*attachments)[j].data, d.buf + d.att[j].off, d.att[j].len);
			}
		}
		*n_attachments = d.n_att;
	}
	free(d.att);
	return 0;
}

void adapter_codec_attachments_free(struct adapter_attachment *att, size_t n)
{
	for (size_t j = 0; j < n; j++)
		free(att[j].data);
	free(att);
}

void adapter_codec_broadcast_fini(struct adapter_broadcast *b)
{
	free(b->uid);
	free(b->nsp);
	free(b->data_json);
	for (size_t j = 0; j < b->n_attachments; j++)
		free(b->attachments[j].data);
	free(b->attachments);
	sg_strv_free(&b->rooms);
	sg_strv_free(&b->except);
	memset(b, 0, sizeof(*b));
}

/* ---- msgpack writing (notepack.io's choices) ---- */

static void mpw_u8(struct sg_buf *b, uint8_t c)
{
	sg_buf_append(b, &c, 1);
}

static void mpw_be(struct sg_buf *b, uint8_t head, uint64_t v, size_t n)
{
	uint8_t tmp[9];

	tmp[0] = head;
	for (size_t k = 0; k < n; k++)
		tmp[1 + k] = (uint8_t)(v >> (8 * (n - 1 - k)));
	sg_buf_append(b, tmp, n + 1);
}

static void mpw_uint(struct sg_buf *b, uint64_t u)
{
	if (u < 0x80)
		mpw_u8(b, (uint8_t)u);
	else if (u < 0x100)
		mpw_be(b, 0xcc, u, 1);
	else if (u < 0x10000)
		mpw_be(b, 0xcd, u, 2);
	else if (u < 0x100000000ull)
		mpw_be(b, 0xce, u, 4);
	else
		mpw_be(b, 0xcf, u, 8);
}

static void mpw_int(struct sg_buf *b, int64_t i)
{
	if (i >= 0)
		mpw_uint(b, (uint64_t)i);
	else if (i >= -0x20)
		mpw_u8(b, (uint8_t)i);
	else if (i >= -0x80)
		mpw_be(b, 0xd0, (uint64_t)i, 1);
	else if (i >= -0x8000)
		mpw_be(b, 0xd1, (uint64_t)i, 2);
	else if (i >= -0x80000000ll)
		mpw_be(b, 0xd2, (uint64_t)i, 4);
	else
		mpw_be(b, 0xd3, (uint64_t)i, 8);
}

static void mpw_f64(struct sg_buf *b, double d)
{
	uint64_t bits;

	memcpy(&bits, &d, 8);
	mpw_be(b, 0xcb, bits, 8);
}

/* A length header: fix form below fixmax, else the 8/16/32-bit forms (h8 0
 * when the type has no 8-bit form). */
static void mpw_len(struct sg_buf *b, size_t n, uint8_t fix, size_t fixmax, uint8_t h8, uint8_t h16,
		    uint8_t h32)
{
	if (fix && n < fixmax)
		mpw_u8(b, (uint8_t)(fix | n));
	else if (h8 && n < 0x100)
		mpw_be(b, h8, n, 1);
	else if (n < 0x10000)
		mpw_be(b, h16, n, 2);
	else
		mpw_be(b, h32, n, 4);
}

static void mpw_str(struct sg_buf *b, const char *s, size_t n)
{
	mpw_len(b, n, 0xa0, 0x20, 0xd9, 0xda, 0xdb);
	sg_buf_append(b, s, n);
}

static void mpw_strv(struct sg_buf *b, const struct sg_strv *sv)
{
	size_t n = 0;

	/* [...new Set(list)]: distinct entries, first occurrences. */
	for (size_t j = 0; sv && j < sv->n; j++) {
		bool dup = false;

		for (size_t k = 0; k < j && !dup; k++)
			dup = strcmp(sv->v[k], sv->v[j]) == 0;
		n += !dup;
	}
	mpw_len(b, n, 0x90, 0x10, 0, 0xdc, 0xdd);
	for (size_t j = 0; sv && j < sv->n; j++) {
		bool dup = false;

		for (size_t k = 0; k < j && !dup; k++)
			dup = strcmp(sv->v[k], sv->v[j]) == 0;
		if (!dup)
			mpw_str(b, sv->v[j], strlen(sv->v[j]));
	}
}

/* ---- JSON parsing (JSON.parse's grammar) into a tree ---- */

static void jp_free(struct jp *jp)
{
	for (size_t j = 0; j < jp->n; j++)
		free(jp->v[j].kids);
	free(jp->v);
	sg_buf_fini(&jp->pool);
}

static size_t jp_node(struct jp *jp, enum jn_type t)
{
	if (jp->n == jp->cap) {
		jp->cap = jp->cap ? jp->cap * 2 : 16;
		jp->v = sg_realloc(jp->v, jp->cap * sizeof(*jp->v));
	}
	memset(&jp->v[jp->n], 0, sizeof(jp->v[jp->n]));
	jp->v[jp->n].type = t;
	return jp->n++;
}

static void jp_ws(struct jp *jp)
{
	while (jp->p < jp->end &&
	       (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static int jp_hex4(struct jp *jp, unsigned *cp)
{
	unsigned v = 0;

	if (jp->end - jp->p < 4)
		return sg_err_set(jp->err, "truncated \\u escape in JSON");
	for (int k = 0; k < 4; k++) {
		int d = sg_hex_value(*jp->p++);

		if (d < 0)
			return sg_err_set(jp->err, "bad \\u escape in JSON");
		v = v << 4 | (unsigned)d;
	}
	*cp = v;
	return 0;
}

static void utf8_put(struct sg_buf *b, unsigned cp)
{
	char t[4];

	if (cp < 0x80) {
		t[0] = (char)cp;
		sg_buf_append(b, t, 1);
	} else if (cp < 0x800) {
		t[0] = (char)(0xc0 | cp >> 6);
		t[1] = (char)(0x80 | (cp & 0x3f));
		sg_buf_append(b, t, 2);
	} else if (cp < 0x10000) {
		t[0] = (char)(0xe0 | cp >> 12);
		t[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		t[2] = (char)(0x80 | (cp & 0x3f));
		sg_buf_append(b, t, 3);
	} else {
		t[0] = (char)(0xf0 | cp >> 18);
		t[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		t[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		t[3] = (char)(0x80 | (cp & 0x3f));
		sg_buf_append(b, t, 4);
	}
}

/* At the opening quote; the decoded UTF-8 goes to the pool. */
static int jp_string(struct jp *jp, size_t *idx)
{
	size_t soff = jp->pool.len;
	const char *run;

	jp->p++;
	run = jp->p;
	for (;;) {
		unsigned char c;

		if (jp->p >= jp->end)
			return sg_err_set(jp->err, "unterminated string in JSON");
		c = (unsigned char)*jp->p;
		if (c == '"' || c == '\\') {
			json_js_utf8_sanitize(&jp->pool, run, (size_t)(jp->p - run));
			jp->p++;
			if (c == '"')
				break;
			if (jp->p >= jp->end)
				return sg_err_set(jp->err, "unterminated string in JSON");
			c = (unsigned char)*jp->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				sg_buf_append_char(&jp->pool, (char)c);
				break;
			case 'b':
				sg_buf_append_char(&jp->pool, '\b');
				break;
			case 'f':
				sg_buf_append_char(&jp->pool, '\f');
				break;
			case 'n':
				sg_buf_append_char(&jp->pool, '\n');
				break;
			case 'r':
				sg_buf_append_char(&jp->pool, '\r');
				break;
			case 't':
				sg_buf_append_char(&jp->pool, '\t');
				break;
			case 'u': {
				unsigned cp, lo;

				if (jp_hex4(jp, &cp) < 0)
					return -1;
				if (cp >= 0xd800 && cp <= 0xdbff && jp->end - jp->p >= 6 &&
				    jp->p[0] == '\\' && jp->p[1] == 'u') {
					const char *save = jp->p;

					jp->p += 2;
					if (jp_hex4(jp, &lo) < 0)
						return -1;
					if (lo >= 0xdc00 && lo <= 0xdfff)
						cp = 0x10000 + ((cp - 0xd800) << 10) +
						     (lo - 0xdc00);
					else
						jp->p = save; /* lone high surrogate */
				}
				if (cp >= 0xd800 && cp <= 0xdfff)
					cp = 0xfffd; /* lone surrogate */
				utf8_put(&jp->pool, cp);
				break;
			}
			default:
				return sg_err_set(jp->err, "bad escape in JSON string");
			}
			run = jp->p;
			continue;
		}
		if (c < 0x20)
			return sg_err_set(jp->err, "control character in JSON string");
		jp->p++;
	}
	*idx = jp_node(jp, JN_STR);
	jp->v[*idx].soff = soff;
	jp->v[*idx].slen = jp->pool.len - soff;
	return 0;
}

static int jp_number(struct jp *jp, size_t *idx)
{
	const char *s = jp->p, *q = jp->p;
	bool integral = true;
	struct sg_buf tmp;
	size_t k;

#define DIGIT(c) ((c) >= '0' && (c) <= '9')
	if (q < jp->end && *q == '-')
		q++;
	if (q < jp->end && *q == '0')
		q++;
	else if (q < jp->end && DIGIT(*q) && *q != '0')
		while (q < jp->end && DIGIT(*q))
			q++;
	else
		return sg_err_set(jp->err, "bad number in JSON");
	if (q < jp->end && *q == '.') {
		integral = false;
		q++;
		if (q >= jp->end || !DIGIT(*q))
			return sg_err_set(jp->err, "bad number in JSON");
		while (q < jp->end && DIGIT(*q))
			q++;
	}
	if (q < jp->end && (*q == 'e' || *q == 'E')) {
		integral = false;
		q++;
		if (q < jp->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= jp->end || !DIGIT(*q))
			return sg_err_set(jp->err, "bad number in JSON");
		while (q < jp->end && DIGIT(*q))
			q++;
	}
#undef DIGIT
	jp->p = q;
	k = jp_node(jp, JN_NUM);
	sg_buf_init(&tmp);
	sg_buf_append(&tmp, s, (size_t)(q - s));
	jp->v[k].d = strtod(tmp.data, NULL);
	if (integral) {
		/* Exact when it fits 64 bits: 19 digits always do, 21+ never. */
		bool neg = tmp.data[0] == '-';
		const char *dg = tmp.data + neg;
		size_t nd = strlen(dg);
		uint64_t m = 0;
		bool fits = nd <= 20;

		for (size_t j = 0; fits && j < nd; j++) {
			unsigned dv = (unsigned)(dg[j] - '0');

			if (m > (UINT64_MAX - dv) / 10)
				fits = false;
			else
				m = m * 10 + dv;
		}
		if (fits && neg && m <= (uint64_t)INT64_MAX + 1) {
			jp->v[k].is_int = true;
			jp->v[k].i = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
		} else if (fits && !neg && m <= (uint64_t)INT64_MAX) {
			jp->v[k].is_int = true;
			jp->v[k].i = (int64_t)m;
		} else if (fits && !neg) {
			jp->v[k].is_uint = true;
			jp->v[k].u = m;
		}
	}
	sg_buf_fini(&tmp);
	*idx = k;
	return 0;
}

/* depth: nesting of the value's parent container (0 at top level). */
static int jp_value(struct jp *jp, int depth, size_t *idx)
{
	char c;

	jp_ws(jp);
	if (jp->p >= jp->end)
		return sg_err_set(jp->err, "unexpected end of JSON");
	c = *jp->p;
	if (c == '"')
		return jp_string(jp, idx);
	if (c == '-' || (c >= '0' && c <= '9'))
		return jp_number(jp, idx);
	if (c == '[' || c == '{') {
		bool obj = c == '{';
		size_t *kids = NULL, nk = 0, ck = 0, self;

		if (depth + 1 > ADAPTER_MAX_DEPTH - 2)
			return sg_err_set(jp->err, "JSON nested deeper than %d",
					  ADAPTER_MAX_DEPTH - 2);
		jp->p++;
		jp_ws(jp);
		if (jp->p < jp->end && *jp->p == (obj ? '}' : ']')) {
			jp->p++;
		} else {
			for (;;) {
				size_t kid;

				if (nk + 2 > ck) {
					ck = ck ? ck * 2 : 8;
					kids = sg_realloc(kids, ck * sizeof(*kids));
				}
				if (obj) {
					jp_ws(jp);
					if (jp->p >= jp->end || *jp->p != '"') {
						free(kids);
						return sg_err_set(jp->err,
								  "expected a key in JSON");
					}
					if (jp_string(jp, &kid) < 0) {
						free(kids);
						return -1;
					}
					kids[nk++] = kid;
					jp_ws(jp);
					if (jp->p >= jp->end || *jp->p != ':') {
						free(kids);
						return sg_err_set(jp->err, "expected ':' in JSON");
					}
					jp->p++;
				}
				if (jp_value(jp, depth + 1, &kid) < 0) {
					free(kids);
					return -1;
				}
				kids[nk++] = kid;
				jp_ws(jp);
				if (jp->p < jp->end && *jp->p == ',') {
					jp->p++;
					continue;
				}
				if (jp->p < jp->end && *jp->p == (obj ? '}' : ']')) {
					jp->p++;
					break;
				}
				free(kids);
				return sg_err_set(jp->err, "expected ',' or '%c' in JSON",
						  obj ? '}' : ']');
			}
		}
		self = jp_node(jp, obj ? JN_OBJ : JN_ARR);
		jp->v[self].kids = kids;
		jp->v[self].nkids = nk;
		*idx = self;
		return 0;
	}
	if (jp->end - jp->p >= 4 && memcmp(jp->p, "null", 4) == 0) {
		jp->p += 4;
		*idx = jp_node(jp, JN_NULL);
		return 0;
	}
	if (jp->end - jp->p >= 4 && memcmp(jp->p, "true", 4) == 0) {
		jp->p += 4;
		*idx = jp_node(jp, JN_TRUE);
		return 0;
	}
	if (jp->end - jp->p >= 5 && memcmp(jp->p, "false", 5) == 0) {
		jp->p += 5;
		*idx = jp_node(jp, JN_FALSE);
		return 0;
	}
	return sg_err_set(jp->err, "unexpected character in JSON");
}

/* ---- encoder ---- */

static int enc_object(struct enc *e, const struct jn *o)
{
	struct jp *jp = e->jp;
	size_t n = o->nkids / 2, kept;
	struct key_ent *ke = sg_calloc(n, sizeof(*ke));
	const struct jn *ph = NULL, *num = NULL;
	int rc = -1;

	for (size_t j = 0; j < n; j++) {
		const struct jn *k = &jp->v[o->kids[2 * j]];

		ke[j].koff = k->soff;
		ke[j].klen = k->slen;
		ke[j].pos = j;
		ke[j].val = o->kids[2 * j + 1];
	}
	kept = js_key_order(ke, n, jp->pool.data ? jp->pool.data : "");
	for (size_t j = 0; j < kept; j++) {
		if (ke[j].klen == 12 && memcmp(ke[j].k, "_placeholder", 12) == 0)
			ph = &jp->v[ke[j].val];
		else if (ke[j].klen == 3 && memcmp(ke[j].k, "num", 3) == 0)
			num = &jp->v[ke[j].val];
	}
	if (ph != NULL && ph->type == JN_TRUE) {
		/* socket.io-parser's reconstructPacket: the whole object is the buffer. */
		const struct adapter_attachment *a;
		double v = num == NULL || num->is_uint ? -1 : num->is_int ? (double)num->i : num->d;

		if (num == NULL || num->type != JN_NUM || !(v >= 0 && v < (double)e->n_att) ||
		    floor(v) != v) {
			sg_err_set(e->err,
				   "illegal attachments: bad placeholder num (%zu attachments)",
				   e->n_att);
			goto out;
		}
		a = &e->att[(size_t)v];
		mpw_len(e->out, a->len, 0, 0, 0xc4, 0xc5, 0xc6);
		sg_buf_append(e->out, a->data, a->len);
		rc = 0;
		goto out;
	}
	mpw_len(e->out, kept, 0x80, 0x10, 0, 0xde, 0xdf);
	for (size_t j = 0; j < kept; j++) {
		mpw_str(e->out, ke[j].k, ke[j].klen);
		if (enc_value(e, ke[j].val) < 0)
			goto out;
	}
	rc = 0;
out:
	free(ke);
	return rc;
}

static int enc_value(struct enc *e, size_t idx)
{
	const struct jn *v = &e->jp->v[idx];

	switch (v->type) {
	case JN_NULL:
		mpw_u8(e->out, 0xc0);
		return 0;
	case JN_FALSE:
		mpw_u8(e->out, 0xc2);
		return 0;
	case JN_TRUE:
		mpw_u8(e->out, 0xc3);
		return 0;
	case JN_NUM:
		if (v->is_int)
			mpw_int(e->out, v->i);
		else if (v->is_uint)
			mpw_uint(e->out, v->u);
		else if (isfinite(v->d) && floor(v->d) == v->d && v->d >= -9223372036854775808.0 &&
			 v->d < 18446744073709551616.0)
			if (v->d >= 0)
				mpw_uint(e->out, (uint64_t)v->d);
			else
				mpw_int(e->out, (int64_t)v->d);
		else
			mpw_f64(e->out, v->d);
		return 0;
	case JN_STR:
		mpw_str(e->out, e->jp->pool.data + v->soff, v->slen);
		return 0;
	case JN_ARR:
		mpw_len(e->out, v->nkids, 0x90, 0x10, 0, 0xdc, 0xdd);
		for (size_t j = 0; j < v->nkids; j++)
			if (enc_value(e, v->kids[j]) < 0)
				return -1;
		return 0;
	case JN_OBJ:
		return enc_object(e, v);
	}
	return sg_err_set(e->err, "bad JSON node");
}

int adapter_codec_encode_broadcast(struct sg_buf *out, const char *uid, const char *nsp, int type,
				   const char *data_json, size_t data_json_len,
				   const struct adapter_attachment *attachments,
				   size_t n_attachments, const struct sg_strv *rooms,
				   const struct sg_strv *except, bool flag_volatile, int compress,
				   struct sg_err *err)
{
	struct jp jp;
	struct enc e;
	struct sg_buf b;
	size_t root;
	int rc = -1;

	if (uid == NULL || nsp == NULL)
		return sg_err_set(err, "broadcast without uid or nsp");
	if (type < 0 || type > 6)
		return sg_err_set(err, "bad packet type %d", type);
	memset(&jp, 0, sizeof(jp));
	jp.p = data_json;
	jp.end = data_json + data_json_len;
	jp.err = err;
	sg_buf_init(&jp.pool);
	sg_buf_init(&b);
	if (jp_value(&jp, 0, &root) < 0)
		goto out;
	jp_ws(&jp);
	if (jp.p != jp.end) {
		sg_err_set(err, "trailing characters after the JSON data");
		goto out;
	}
	if (jp.v[root].type != JN_ARR) {
		sg_err_set(err, "packet data is not a JSON array");
		goto out;
	}

	mpw_u8(&b, 0x93);
	mpw_str(&b, uid, strlen(uid));
	mpw_u8(&b, 0x83);
	mpw_str(&b, "type", 4);
	mpw_int(&b, type);
	mpw_str(&b, "data", 4);
	e.jp = &jp;
	e.att = attachments;
	e.n_att = attachments ? n_attachments : 0;
	e.out = &b;
	e.err = err;
	if (enc_value(&e, root) < 0)
		goto out;
	mpw_str(&b, "nsp", 3);
	mpw_str(&b, nsp, strlen(nsp));
	mpw_u8(&b, 0x83);
	mpw_str(&b, "rooms", 5);
	mpw_strv(&b, rooms);
	mpw_str(&b, "except", 6);
	mpw_strv(&b, except);
	mpw_str(&b, "flags", 5);
	mpw_u8(&b, (uint8_t)(0x80 | ((flag_volatile ? 1 : 0) + (compress >= 0 ? 1 : 0))));
	if (flag_volatile) {
		mpw_str(&b, "volatile", 8);
		mpw_u8(&b, 0xc3);
	}
	if (compress >= 0) {
		mpw_str(&b, "compress", 8);
		mpw_u8(&b, compress ? 0xc3 : 0xc2);
	}
	sg_buf_append(out, b.data, b.len);
	rc = 0;
out:
	jp_free(&jp);
	sg_buf_fini(&b);
	return rc;
}

int adapter_codec_json_to_msgpack(struct sg_buf *out, const char *json, size_t len,
				  const struct adapter_attachment *attachments,
				  size_t n_attachments, struct sg_err *err)
{
	struct jp jp;
	struct enc e;
	size_t root;
	int rc = -1;

	memset(&jp, 0, sizeof(jp));
	jp.p = json;
	jp.end = json + len;
	jp.err = err;
	sg_buf_init(&jp.pool);
	if (jp_value(&jp, 0, &root) < 0)
		goto out;
	jp_ws(&jp);
	if (jp.p != jp.end) {
		sg_err_set(err, "trailing characters after the JSON value");
		goto out;
	}
	e.jp = &jp;
	e.att = attachments;
	e.n_att = attachments ? n_attachments : 0;
	e.out = out;
	e.err = err;
	rc = enc_value(&e, root) < 0 ? -1 : 0;
out:
	jp_free(&jp);
	return rc;
}

void adapter_codec_channel(struct sg_buf *out, const char *prefix, const char *nsp,
			   const struct sg_strv *rooms)
{
	bool one = rooms != NULL && rooms->n > 0;

	for (size_t j = 1; one && rooms != NULL && j < rooms->n; j++)
		one = strcmp(rooms->v[j], rooms->v[0]) == 0;
	sg_buf_printf(out, "%s#%s#", prefix, nsp);
	if (one) {
		sg_buf_append_str(out, rooms->v[0]);
		sg_buf_append_char(out, '#');
	}
}
