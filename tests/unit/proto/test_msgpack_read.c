/*
 * test_msgpack_read.c: the bounds-checked msgpack scanner (msgpack_read.c)
 * that reads what other Redis adapter nodes publish: every head byte form
 * of the spec with its decoded value and the bytes it consumes; every
 * proper prefix of each of them refused as truncated (and the offset left
 * where it was); declared lengths and counts larger than the bytes left;
 * the unused byte 0xc1; mp_skip over nested values up to MP_MAX_DEPTH and
 * one level past it; JavaScript truthiness, notepack's undefined, string
 * comparison and big-endian loads.
 */
#include <math.h>

#include "proto/msgpack_read.h"
#include "unit.h"

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

/* One item, as msgpack-c or the spec's examples encode it. */
static const struct item_case {
	const uint8_t *buf;
	size_t len;
	enum mp_kind kind;
	uint64_t u; /* MP_UINT */
	int64_t i;  /* MP_INT */
	double f;   /* MP_FLOAT */
	size_t n;   /* str/bin/ext bytes, array/map count */
	int8_t ext_type;
	size_t consumed;     /* 0: all of len */
	const char *payload; /* str/bin/ext bytes, or NULL */
} items[] = {
	{ B("\x00"), MP_UINT, 0, 0, 0, 0, 0, 0, NULL },
	{ B("\x7f"), MP_UINT, 127, 0, 0, 0, 0, 0, NULL },
	{ B("\xcc\xff"), MP_UINT, 255, 0, 0, 0, 0, 0, NULL },
	{ B("\xcd\x01\x00"), MP_UINT, 256, 0, 0, 0, 0, 0, NULL },
	{ B("\xce\xff\xff\xff\xff"), MP_UINT, 4294967295u, 0, 0, 0, 0, 0, NULL },
	{ B("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), MP_UINT, UINT64_MAX, 0, 0, 0, 0, 0, NULL },
	{ B("\xe0"), MP_INT, 0, -32, 0, 0, 0, 0, NULL },
	{ B("\xff"), MP_INT, 0, -1, 0, 0, 0, 0, NULL },
	{ B("\xd0\x80"), MP_INT, 0, -128, 0, 0, 0, 0, NULL },
	{ B("\xd0\x7f"), MP_UINT, 127, 0, 0, 0, 0, 0, NULL }, /* a signed form, >= 0 */
	{ B("\xd1\x80\x00"), MP_INT, 0, -32768, 0, 0, 0, 0, NULL },
	{ B("\xd1\xff\xfe"), MP_INT, 0, -2, 0, 0, 0, 0, NULL },
	{ B("\xd2\x80\x00\x00\x00"), MP_INT, 0, INT32_MIN, 0, 0, 0, 0, NULL },
	{ B("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"), MP_INT, 0, INT64_MIN, 0, 0, 0, 0, NULL },
	{ B("\xd3\x00\x00\x00\x00\x00\x00\x00\x05"), MP_UINT, 5, 0, 0, 0, 0, 0, NULL },
	{ B("\xca\x3f\xc0\x00\x00"), MP_FLOAT, 0, 0, 1.5, 0, 0, 0, NULL },
	{ B("\xca\xc1\x20\x00\x00"), MP_FLOAT, 0, 0, -10.0, 0, 0, 0, NULL },
	{ B("\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18"), MP_FLOAT, 0, 0, 3.141592653589793, 0, 0, 0,
	  NULL },
	{ B("\xa0"), MP_STR, 0, 0, 0, 0, 0, 0, "" },
	{ B("\xa3"
	    "abc"),
	  MP_STR, 0, 0, 0, 3, 0, 0, "abc" },
	{ B("\xbf"
	    "0123456789012345678901234567890"),
	  MP_STR, 0, 0, 0, 31, 0, 0, "0123456789012345678901234567890" },
	{ B("\xd9\x03"
	    "abc"),
	  MP_STR, 0, 0, 0, 3, 0, 0, "abc" },
	{ B("\xda\x00\x03"
	    "abc"),
	  MP_STR, 0, 0, 0, 3, 0, 0, "abc" },
	{ B("\xdb\x00\x00\x00\x03"
	    "abc"),
	  MP_STR, 0, 0, 0, 3, 0, 0, "abc" },
	{ B("\xc4\x02\x01\x02"), MP_BIN, 0, 0, 0, 2, 0, 0, "\x01\x02" },
	{ B("\xc4\x00"), MP_BIN, 0, 0, 0, 0, 0, 0, "" },
	{ B("\xc5\x00\x01\xff"), MP_BIN, 0, 0, 0, 1, 0, 0, "\xff" },
	{ B("\xc6\x00\x00\x00\x01\xff"), MP_BIN, 0, 0, 0, 1, 0, 0, "\xff" },
	{ B("\xd4\x00\x00"), MP_EXT, 0, 0, 0, 1, 0, 0, "\x00" },
	{ B("\xd5\x05"
	    "ab"),
	  MP_EXT, 0, 0, 0, 2, 5, 0, "ab" },
	{ B("\xd6\xff"
	    "abcd"),
	  MP_EXT, 0, 0, 0, 4, -1, 0, "abcd" },
	{ B("\xd7\x01"
	    "abcdefgh"),
	  MP_EXT, 0, 0, 0, 8, 1, 0, "abcdefgh" },
	{ B("\xd8\x01"
	    "abcdefghijklmnop"),
	  MP_EXT, 0, 0, 0, 16, 1, 0, "abcdefghijklmnop" },
	{ B("\xc7\x03\x07"
	    "abc"),
	  MP_EXT, 0, 0, 0, 3, 7, 0, "abc" },
	{ B("\xc8\x00\x01\x02"
	    "z"),
	  MP_EXT, 0, 0, 0, 1, 2, 0, "z" },
	{ B("\xc9\x00\x00\x00\x01\x80"
	    "z"),
	  MP_EXT, 0, 0, 0, 1, -128, 0, "z" },
	/* arrays and maps: only the header is consumed */
	{ B("\x90"), MP_ARRAY, 0, 0, 0, 0, 0, 0, NULL },
	{ B("\x92\x01\x02"), MP_ARRAY, 0, 0, 0, 2, 0, 1, NULL },
	{ B("\xdc\x00\x01\x01"), MP_ARRAY, 0, 0, 0, 1, 0, 3, NULL },
	{ B("\xdd\x00\x00\x00\x01\x01"), MP_ARRAY, 0, 0, 0, 1, 0, 5, NULL },
	{ B("\x80"), MP_MAP, 0, 0, 0, 0, 0, 0, NULL },
	{ B("\x81\x01\x02"), MP_MAP, 0, 0, 0, 1, 0, 1, NULL },
	{ B("\xde\x00\x01\x01\x02"), MP_MAP, 0, 0, 0, 1, 0, 3, NULL },
	{ B("\xdf\x00\x00\x00\x01\x01\x02"), MP_MAP, 0, 0, 0, 1, 0, 5, NULL },
	{ B("\xc0"), MP_NIL, 0, 0, 0, 0, 0, 0, NULL },
	{ B("\xc2"), MP_BOOL, 0, 0, 0, 0, 0, 0, NULL },
	{ B("\xc3"), MP_BOOL, 1, 0, 0, 0, 0, 0, NULL }, /* u: the expected b */
};

static void check_item(const struct item_case *c, const struct mp_item *it)
{
	CHECK_INT(it->kind, c->kind);
	CHECK_INT(it->head, c->buf[0]);
	switch (c->kind) {
	case MP_UINT:
		CHECK(it->u == c->u);
		break;
	case MP_INT:
		CHECK_INT(it->i, c->i);
		break;
	case MP_FLOAT:
		CHECK(it->f == c->f);
		break;
	case MP_BOOL:
		CHECK(it->b == (c->u != 0));
		break;
	case MP_EXT:
		CHECK_INT(it->ext_type, c->ext_type); /* fall through */
	case MP_STR:
	case MP_BIN:
		CHECK_INT(it->n, c->n);
		CHECK(it->p != NULL && memcmp(it->p, c->payload, c->n) == 0);
		break;
	case MP_ARRAY:
	case MP_MAP:
		CHECK_INT(it->n, c->n);
		break;
	case MP_NIL:
		break;
	}
}

static void test_items(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(items); i++) {
		const struct item_case *c = &items[i];
		struct sg_err err = { 0 };
		struct mp_item it;
		size_t off = 0;

		CHECK_INT(mp_read(c->buf, c->len, &off, &it, &err), 0);
		CHECK_INT(off, c->consumed ? c->consumed : c->len);
		check_item(c, &it);
	}
}

/* The same items at an offset, one after the other in one buffer. */
static void test_items_in_sequence(void)
{
	uint8_t buf[1024];
	size_t len = 0, off = 0;

	for (size_t i = 0; i < SG_ARRAY_LEN(items); i++) {
		if (items[i].kind == MP_ARRAY || items[i].kind == MP_MAP)
			continue;
		memcpy(buf + len, items[i].buf, items[i].len);
		len += items[i].len;
	}
	for (size_t i = 0; i < SG_ARRAY_LEN(items); i++) {
		struct mp_item it;

		if (items[i].kind == MP_ARRAY || items[i].kind == MP_MAP)
			continue;
		CHECK_INT(mp_read(buf, len, &off, &it, NULL), 0);
		check_item(&items[i], &it);
	}
	CHECK_INT(off, len);
}

/* Cut anywhere before its end, no item reads: -1, "truncated", and the
 * offset is not moved. */
static void test_every_prefix_truncated(void)
{
	int wrong = 0;

	for (size_t i = 0; i < SG_ARRAY_LEN(items); i++) {
		size_t need = items[i].consumed ? items[i].consumed : items[i].len;

		/* an array or map also needs one byte per element after its header */
		if (items[i].kind == MP_ARRAY || items[i].kind == MP_MAP)
			need = items[i].len;
		for (size_t cut = 0; cut < need; cut++) {
			uint8_t buf[64];
			struct sg_err err = { 0 };
			struct mp_item it;
			size_t off = 1;

			buf[0] = 0xc0; /* read at offset 1 */
			memcpy(buf + 1, items[i].buf, cut);
			if (mp_read(buf, cut + 1, &off, &it, &err) != -1 || off != 1 ||
			    strstr(err.msg, "truncated msgpack at byte 1") == NULL) {
				fprintf(stderr, "  item %zu cut at %zu: %s\n", i, cut, err.msg);
				wrong++;
			}
		}
	}
	CHECK_INT(wrong, 0);
}

static void test_invalid(void)
{
	static const struct {
		const uint8_t *buf;
		size_t len;
		const char *msg;
	} cases[] = {
		{ B("\xc1"), "invalid msgpack byte 0xc1 at byte 0" },
		{ B("\xdb\xff\xff\xff\xff"
		    "abc"),
		  "truncated msgpack at byte 0" },
		{ B("\xc6\x7f\xff\xff\xff\x00"), "truncated msgpack at byte 0" },
		{ B("\xc9\xff\xff\xff\xff\x01\x00"), "truncated msgpack at byte 0" },
		{ B("\xdd\xff\xff\xff\xff\x01\x01"), "truncated msgpack at byte 0" },
		{ B("\xdf\xff\xff\xff\xff\x01\x01"), "truncated msgpack at byte 0" },
		{ B("\x93\x01\x02"), "truncated msgpack at byte 0" },
		{ B("\x82\x01\x02\x03"), "truncated msgpack at byte 0" }, /* 2 pairs need 4 */
		{ B("\xd8\x01"
		    "abc"),
		  "truncated msgpack at byte 0" },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct sg_err err = { 0 };
		struct mp_item it;
		size_t off = 0;

		CHECK_INT(mp_read(cases[i].buf, cases[i].len, &off, &it, &err), -1);
		CHECK_STR(err.msg, cases[i].msg);
		CHECK_INT(off, 0);
	}
	/* err may be NULL */
	{
		struct mp_item it;
		size_t off = 0;
		CHECK_INT(mp_read((const uint8_t *)"\xc1", 1, &off, &it, NULL), -1);
	}
}

static void test_skip(void)
{
	static const struct {
		const uint8_t *buf;
		size_t len;
		int rc;
		size_t end; /* where a successful skip leaves the offset */
	} cases[] = {
		{ B("\x01"), 0, 1 },
		{ B("\x92\x01\xa1x"
		    "\xc0"),
		  0, 4 },
		{ B("\x82\xa1k\x91\x90\xa1z\x80"
		    "\xc0"),
		  0, 8 },
		{ B("\x93\x01\x92\x02\x81\x03\x04\xd4\x00\x00"), 0, 10 },
		{ B("\xde\x00\x01\xc4\x01\xff\xcb\x00\x00\x00\x00\x00\x00\x00\x00"), 0, 15 },
		{ B("\x92\x01"), -1, 0 },
		{ B("\x91\xc1"), -1, 0 },
		{ B("\x81\x01"), -1, 0 },
		{ B("\x92\x91\x91\x01"), -1, 0 },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		size_t off = 0;
		int rc = mp_skip(cases[i].buf, cases[i].len, &off, 0, NULL);

		CHECK_INT(rc, cases[i].rc);
		if (rc == 0)
			CHECK_INT(off, cases[i].end);
	}
}

/* MP_MAX_DEPTH levels of arrays are fine, one more is refused, for arrays
 * and maps alike. */
static void test_skip_depth(void)
{
	for (int levels = MP_MAX_DEPTH - 1; levels <= MP_MAX_DEPTH + 1; levels++) {
		for (int map = 0; map <= 1; map++) {
			uint8_t buf[3 * (MP_MAX_DEPTH + 2)];
			struct sg_err err = { 0 };
			size_t len = 0, off = 0;
			int rc;

			for (int k = 0; k < levels - 1; k++) {
				if (map) {
					buf[len++] = 0x81; /* {0: ...} */
					buf[len++] = 0x00;
				} else {
					buf[len++] = 0x91; /* [...] */
				}
			}
			buf[len++] = map ? 0x80 : 0x90; /* the innermost, empty */
			rc = mp_skip(buf, len, &off, 0, &err);
			CHECK_INT(rc, levels <= MP_MAX_DEPTH ? 0 : -1);
			if (rc == 0)
				CHECK_INT(off, len);
			else
				CHECK_STR(err.msg, "msgpack nested deeper than 64");
		}
	}
}

static void test_truthy(void)
{
	static const struct {
		const uint8_t *buf;
		size_t len;
		bool truthy;
	} cases[] = {
		{ B("\xc0"), false }, /* null */
		{ B("\xc2"), false },
		{ B("\xc3"), true },
		{ B("\x00"), false },
		{ B("\xcf\x00\x00\x00\x00\x00\x00\x00\x00"), false },
		{ B("\x01"), true },
		{ B("\xff"), true },
		{ B("\xcb\x00\x00\x00\x00\x00\x00\x00\x00"), false }, /* 0.0 */
		{ B("\xcb\x80\x00\x00\x00\x00\x00\x00\x00"), false }, /* -0.0 */
		{ B("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00"), false }, /* NaN */
		{ B("\xca\x3f\xc0\x00\x00"), true },
		{ B("\xa0"), false },
		{ B("\xa1"
		    "0"),
		  true },
		{ B("\xc4\x00"), true }, /* a Buffer is an object */
		{ B("\x90"), true },
		{ B("\x80"), true },
		{ B("\xd4\x00\x00"), false }, /* notepack's undefined */
		{ B("\xd4\x01\x00"), true },
		{ B("\xd5\x00\x00\x00"), true },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct mp_item it;
		size_t off = 0;

		CHECK_INT(mp_read(cases[i].buf, cases[i].len, &off, &it, NULL), 0);
		if (mp_truthy(&it) != cases[i].truthy)
			fprintf(stderr, "  truthy case %zu\n", i);
		CHECK(mp_truthy(&it) == cases[i].truthy);
	}
}

static void test_helpers(void)
{
	static const uint8_t undef[] = { 0xc0, 0xd4, 0x00, 0x00, 0xd4, 0x01, 0x00, 0xd4 };
	struct mp_item it;
	size_t off = 0;

	CHECK(mp_be_load((const uint8_t *)"\x01\x02", 2) == 0x0102);
	CHECK(mp_be_load((const uint8_t *)"\xff", 0) == 0);
	CHECK(mp_be_load((const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08", 8) ==
	      UINT64_C(0x0102030405060708));
	CHECK(!mp_is_undefined(undef, sizeof(undef), 0));
	CHECK(mp_is_undefined(undef, sizeof(undef), 1));
	CHECK(!mp_is_undefined(undef, sizeof(undef), 4)); /* ext type 1 */
	CHECK(!mp_is_undefined(undef, sizeof(undef), 7)); /* the last byte */
	CHECK(!mp_is_undefined(undef, sizeof(undef), 8)); /* past the end */
	CHECK_INT(mp_read((const uint8_t *)"\xa3"
					   "abc",
			  4, &off, &it, NULL),
		  0);
	CHECK(mp_str_is(&it, "abc"));
	CHECK(!mp_str_is(&it, "ab"));
	CHECK(!mp_str_is(&it, "abcd"));
	CHECK(!mp_str_is(&it, ""));
	off = 0;
	CHECK_INT(mp_read((const uint8_t *)"\xc4\x03"
					   "abc",
			  5, &off, &it, NULL),
		  0);
	CHECK(!mp_str_is(&it, "abc")); /* bin is not str */
	off = 0;
	CHECK_INT(mp_read((const uint8_t *)"\xa0", 1, &off, &it, NULL), 0);
	CHECK(mp_str_is(&it, ""));
}

int main(void)
{
	RUN(test_items);
	RUN(test_items_in_sequence);
	RUN(test_every_prefix_truncated);
	RUN(test_invalid);
	RUN(test_skip);
	RUN(test_skip_depth);
	RUN(test_truthy);
	RUN(test_helpers);
	return UNIT_END();
}
