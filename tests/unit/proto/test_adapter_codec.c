/*
 * test_adapter_codec.c: the Redis adapter/emitter broadcast codec.  The
 * vectors below were produced once by the real npm packages
 * (@socket.io/redis-emitter 5.1.0 publishing through a fake Redis client,
 * notepack.io 3.0.1, socket.io-parser 4.2.7; script kept out of the repo):
 * each decode vector carries the bytes published and what a Node server
 * would send to its clients for them (the JSON after deconstructPacket and
 * the attachments); each encoder vector carries the bytes notepack.io writes
 * for the adapter's [uid, packet, opts] when a Node server relays that data.
 */
#include <jansson.h>
#include <msgpack.h>
#include <stdlib.h>

#include "proto/adapter_codec.h"
#include "unit.h"

struct dec_vec {
	const char *name;
	const char *channel; /* "" for hand-crafted vectors */
	const char *uid, *nsp;
	int type;
	const char *hex;
	const char *json;
	const char *atts;	    /* hex of each attachment, '|'-separated */
	const char *rooms, *except; /* '|'-separated */
	bool vol, comp;
	long long timeout;
};

struct enc_vec {
	const char *name, *uid, *nsp;
	int type;
	const char *data_json;
	const char *atts, *rooms, *except;
	bool vol;
	int comp;
	const char *hex;
	const char *json;    /* data_json after a round trip through the bytes */
	const char *rt_atts; /* and its attachments */
};

static void hex_to_buf(struct sg_buf *out, const char *hex)
{
	size_t n = strlen(hex);

	for (size_t i = 0; i + 1 < n; i += 2) {
		char t[3] = { hex[i], hex[i + 1], 0 };

		sg_buf_append_char(out, (char)strtoul(t, NULL, 16));
	}
}

static char *buf_to_hex(const void *p, size_t n)
{
	const unsigned char *u = p;
	char *s = malloc(2 * n + 1);

	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", u[i]);
	s[2 * n] = 0;
	return s;
}

/* Splits on '|'; "" gives no entries. */
static void split(struct sg_strv *sv, const char *s)
{
	const char *p = s;

	sv->v = NULL;
	sv->n = 0;
	if (*s == 0)
		return;
	for (;;) {
		const char *q = strchr(p, '|');
		char *one = sg_strndup(p, q ? (size_t)(q - p) : strlen(p));

		sg_strv_push(sv, one);
		free(one);
		if (q == NULL)
			break;
		p = q + 1;
	}
}

static char *join(const struct sg_strv *sv)
{
	struct sg_buf b;

	sg_buf_init(&b);
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			sg_buf_append_char(&b, '|');
		sg_buf_append_str(&b, sv->v[i]);
	}
	return sg_buf_steal(&b);
}

static char *atts_hex(const struct adapter_broadcast *b)
{
	struct sg_buf s;

	sg_buf_init(&s);
	for (size_t i = 0; i < b->n_attachments; i++) {
		char *h = buf_to_hex(b->attachments[i].data, b->attachments[i].len);

		if (i)
			sg_buf_append_char(&s, '|');
		sg_buf_append_str(&s, h);
		free(h);
	}
	return sg_buf_steal(&s);
}

/* msgpack-c, an independent decoder, reads exactly one object of len bytes:
 * an array of 3 whose packet map holds 3 pairs.  Returns the data array's
 * size, or -1. */
static long long mpc_check(const void *p, size_t len)
{
	msgpack_unpacked u;
	size_t off = 0;
	long long res = -1;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, p, len, &off) == MSGPACK_UNPACK_SUCCESS && off == len &&
	    u.data.type == MSGPACK_OBJECT_ARRAY && u.data.via.array.size == 3) {
		msgpack_object pk = u.data.via.array.ptr[1];

		if (pk.type == MSGPACK_OBJECT_MAP && pk.via.map.size == 3 &&
		    pk.via.map.ptr[1].val.type == MSGPACK_OBJECT_ARRAY)
			res = pk.via.map.ptr[1].val.via.array.size;
	}
	msgpack_unpacked_destroy(&u);
	return res;
}

static int decode_hex(const char *hex, unsigned max_att, struct adapter_broadcast *b,
		      struct sg_err *err)
{
	struct sg_buf m;
	int rc;

	sg_buf_init(&m);
	hex_to_buf(&m, hex);
	rc = adapter_codec_decode_broadcast(m.data, m.len, max_att, b, err);
	sg_buf_fini(&m);
	return rc;
}

/* generated: emitter vectors */
static const struct dec_vec
	emitter_vecs[] = {
		{ "io.emit", /* emitter.emit("hello", 1, "two", {three: 3}) */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a46461746194a568656c6c6f01a374776f81a5746872656503a36e73"
		  "70a12f83a5726f6f6d7390a5666c61677380a665786365707490",
		  "[\"hello\",1,\"two\",{\"three\":3}]", "", "", "", false, true, -1 },
		{ "to room", /* emitter.to("room1").emit("ev", "a") */
		  "socket.io#/#room1#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a46461746192a26576a161a36e7370a12f83a5726f6f6d7391a5726f"
		  "6f6d31a5666c61677380a665786365707490",
		  "[\"ev\",\"a\"]", "", "room1", "", false, true, -1 },
		{ "to two rooms", /* emitter.to(["room1", "room2"]).emit("ev", 1) */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a46461746192a2657601a36e7370a12f83a5726f6f6d7392a5726f6f"
		  "6d31a5726f6f6d32a5666c61677380a665786365707490",
		  "[\"ev\",1]", "", "room1|room2", "", false, true, -1 },
		{ "except", /* emitter.except("room2").emit("ev") */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a46461746191a26576a36e7370a12f83a5726f6f6d7390a5666c6167"
		  "7380a665786365707491a5726f6f6d32",
		  "[\"ev\"]", "", "", "room2", false, true, -1 },
		{ "room and except", /* emitter.to("r").except(["x", "y"]).emit("ev", true, null, false) */
		  "socket.io#/#r#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a46461746194a26576c3c0c2a36e7370a12f83a5726f6f6d7391a172"
		  "a5666c61677380a665786365707492a178a179",
		  "[\"ev\",true,null,false]", "", "r", "x|y", false, true, -1 },
		{ "binary nested", /* emitter.emit("bin", Buffer.from([1,2,3]), {x: {y: Buffer.from("deadbeef", "hex")}, list: [Buffer.alloc(0), 7]}, new Uint8Array([9, 8])) */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a46461746194a362696ec40301020382a17881a179c404deadbeefa4"
		  "6c69737492c40007c4020908a36e7370a12f83a5726f6f6d7390a5666c61677380a665786365707490",
		  "[\"bin\",{\"_placeholder\":true,\"num\":0},{\"x\":{\"y\":{\"_placeholder\":true,\"num\":1}},\"list\":[{\"_placeholder\":true,\"num\":2},7]},{\"_placeholder\":true,\"num\":3}]",
		  "010203|deadbeef||0908", "", "", false, true, -1 },
		{ "floats", /* emitter.emit("f", 0.1, 1.5, -2.25, 1e21, 1e-7, NaN, Infinity, -Infinity, 3.0, 1/3, -0, 5e-324, 1.7976931348623157e308, 123456789012345680000, 1.5e-7, 2**64, 1e300) Node: ["f",0.1,1.5,-2.25,3875820019684212700,1e-7,null,null,null,3,0.3333333333333333,0,5e-324,0,12776324570088374000,1.5e-7,0,0]; notepack wraps integral doubles >= 2^64 into uint64 (1e21 -> 3875820019684212736); siogate prints uint64 exactly where Node rounds */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a464617461dc0012a166cb3fb999999999999acb3ff8000000000000"
		  "cbc002000000000000cf35c9adc5dea00000cb3e7ad7f29abcaf48cb7ff8000000000000cb7ff00000000000"
		  "00cbfff000000000000003cb3fd555555555555500cb0000000000000001cf0000000000000000cfb14e9f81"
		  "2f368000cb3e8421f5f40d8376cf0000000000000000cf0000000000000000a36e7370a12f83a5726f6f6d73"
		  "90a5666c61677380a665786365707490",
		  "[\"f\",0.1,1.5,-2.25,3875820019684212736,1e-7,null,null,null,3,0.3333333333333333,0,5e-324,0,12776324570088374272,1.5e-7,0,0]",
		  "", "", "", false, true, -1 },
		{ "ints", /* emitter.emit("ints", 0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2**53, -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -(2**53)) */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a464617461dc0015a4696e7473007fcc80ccffcd0100cdffffce0001"
		  "0000ceffffffffcf0000000100000000cf0020000000000000ffe0d0dfd080d1ff7fd18000d2ffff7fffd280"
		  "000000d3ffffffff7fffffffd3ffe0000000000000a36e7370a12f83a5726f6f6d7390a5666c61677380a665"
		  "786365707490",
		  "[\"ints\",0,127,128,255,256,65535,65536,4294967295,4294967296,9007199254740992,-1,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649,-9007199254740992]",
		  "", "", "", false, true, -1 },
		{ "unicode", /* emitter.emit("uni", "h\u00e9llo", "\u65e5\u672c\u8a9e", "\ud83d\ude00", "\0\u001f\"\\\n\t\b\f\r\u007f\u2028", "x".repeat(31), "\u00e9".repeat(16), "a".repeat(255), "b".repeat(256), "\u00e9".repeat(40)) */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a4646174619aa3756e69a668c3a96c6c6fa9e697a5e69cace8aa9ea4"
		  "f09f9880ad001f225c0a09080c0d7fe280a8bf78787878787878787878787878787878787878787878787878"
		  "787878787878d920c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9d9ff6161"
		  "6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
		  "6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
		  "6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
		  "6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
		  "6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
		  "616161616161616161616161616161616161616161616161616161616161616161da01006262626262626262"
		  "6262626262626262626262626262626262626262626262626262626262626262626262626262626262626262"
		  "6262626262626262626262626262626262626262626262626262626262626262626262626262626262626262"
		  "6262626262626262626262626262626262626262626262626262626262626262626262626262626262626262"
		  "6262626262626262626262626262626262626262626262626262626262626262626262626262626262626262"
		  "6262626262626262626262626262626262626262626262626262626262626262626262626262626262626262"
		  "62626262626262626262626262626262626262626262626262626262d950c3a9c3a9c3a9c3a9c3a9c3a9c3a9"
		  "c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9"
		  "c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9a36e7370a12f83a5726f6f6d7390a5666c61677380a6"
		  "65786365707490",
		  "[\"uni\",\"h\303\251llo\",\"\346\227\245\346\234\254\350\252\236\",\"\360\237\230\200\",\"\\u0000\\u001f\\\"\\\\\\n\\t\\b\\f\\r\177\342\200\250\",\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\",\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\"]", "",
		  "", "", false, true, -1 },
		{ "nested objects", /* emitter.emit("obj", {b: 1, 2: "two", 1: "one", a: [1, {c: {d: [null, [], {}]}}], "": "empty", "01": "zero-one", "4294967295": "not-index", "4294967294": "max-index"}, [[[["deep"]]]]) */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a46461746193a36f626a88a131a36f6e65a132a374776faa34323934"
		  "393637323934a96d61782d696e646578a16201a161920181a16381a16493c09080a0a5656d707479a23031a8"
		  "7a65726f2d6f6e65aa34323934393637323935a96e6f742d696e64657891919191a464656570a36e7370a12f"
		  "83a5726f6f6d7390a5666c61677380a665786365707490",
		  "[\"obj\",{\"1\":\"one\",\"2\":\"two\",\"4294967294\":\"max-index\",\"b\":1,\"a\":[1,{\"c\":{\"d\":[null,[],{}]}}],\"\":\"empty\",\"01\":\"zero-one\",\"4294967295\":\"not-index\"},[[[[\"deep\"]]]]]",
		  "", "", "", false, true, -1 },
		{ "dates", /* emitter.emit("date", new Date(Date.UTC(2026,0,2,3,4,5,678)), new Date(0), new Date(5000), new Date(-1), new Date(8.64e15), new Date(-8.64e15), new Date(253402300800000), new Date(-62198755200000), new Date(1e12 + 0.5)) */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a4646174619aa464617465d7ffa1a5d600695735a5d6ff00000000d6"
		  "ff00000005c70cff3b8b87c0ffffffffffffffffc70cff00000000000007dba8218000c70cff00000000ffff"
		  "f82457de8000c70cff000000000000003afff44180c70cff00000000fffffff184aa5080d6ff3b9aca00a36e"
		  "7370a12f83a5726f6f6d7390a5666c61677380a665786365707490",
		  "[\"date\",\"2026-01-02T03:04:05.678Z\",\"1970-01-01T00:00:00.000Z\",\"1970-01-01T00:00:05.000Z\",\"1969-12-31T23:59:59.999Z\",\"+275760-09-13T00:00:00.000Z\",\"-271821-04-20T00:00:00.000Z\",\"+010000-01-01T00:00:00.000Z\",\"-000001-01-01T00:00:00.000Z\",\"2001-09-09T01:46:40.000Z\"]",
		  "", "", "", false, true, -1 },
		{ "volatile compress", /* emitter.to("r").volatile.compress(false).emit("v", 1) */
		  "socket.io#/#r#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a46461746192a17601a36e7370a12f83a5726f6f6d7391a172a5666c"
		  "61677382a8766f6c6174696c65c3a8636f6d7072657373c2a665786365707490",
		  "[\"v\",1]", "", "r", "", true, false, -1 },
		{ "compress true", /* emitter.compress(true).emit("c") */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a46461746191a163a36e7370a12f83a5726f6f6d7390a5666c616773"
		  "81a8636f6d7072657373c3a665786365707490",
		  "[\"c\"]", "", "", "", false, true, -1 },
		{ "of custom", /* emitter.of("/custom").to("room1").emit("c", "x") */
		  "socket.io#/custom#room1#", "emitter", "/custom", 2,
		  "93a7656d697474657283a47479706502a46461746192a163a178a36e7370a72f637573746f6d83a5726f6f6d"
		  "7391a5726f6f6d31a5666c61677380a665786365707490",
		  "[\"c\",\"x\"]", "", "room1", "", false, true, -1 },
		{ "of without slash", /* emitter.of("admin").emit("c") */
		  "socket.io#/admin#", "emitter", "/admin", 2,
		  "93a7656d697474657283a47479706502a46461746191a163a36e7370a62f61646d696e83a5726f6f6d7390a5"
		  "666c61677380a665786365707490",
		  "[\"c\"]", "", "", "", false, true, -1 },
		{ "big containers", /* emitter.emit("big", [0..19], {k0: 0, ..., k19: 19}) */
		  "socket.io#/#", "emitter", "/", 2,
		  "93a7656d697474657283a47479706502a46461746193a3626967dc0014000102030405060708090a0b0c0d0e"
		  "0f10111213de0014a26b3000a26b3101a26b3202a26b3303a26b3404a26b3505a26b3606a26b3707a26b3808"
		  "a26b3909a36b31300aa36b31310ba36b31320ca36b31330da36b31340ea36b31350fa36b313610a36b313711"
		  "a36b313812a36b313913a36e7370a12f83a5726f6f6d7390a5666c61677380a665786365707490",
		  "[\"big\",[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19],{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10,\"k11\":11,\"k12\":12,\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16,\"k17\":17,\"k18\":18,\"k19\":19}]",
		  "", "", "", false, true, -1 },
	};

/* generated: hand-crafted vectors, expectations from notepack.decode + socket.io-parser */
static const struct dec_vec crafted_vecs[] = {
	{ "key order", /* keys b 2 1 b(dup) __proto__ a u(undefined) 10 01 4294967295 4294967294 */
	  "", "srv123", "/", 2,
	  "93a673727631323383a47479706502a46461746192a265768ba16201a13202a13103a16204a95f5f70726f74"
	  "6f5f5f81a17801a161c0a175d40000a231300aa2303100aa3432393439363732393501aa3432393439363732"
	  "393402a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380",
	  "[\"ev\",{\"1\":3,\"2\":2,\"10\":10,\"4294967294\":2,\"b\":4,\"a\":null,\"01\":0,\"4294967295\":1}]",
	  "", "", "", false, true, -1 },
	{ "non-string keys", /* map keys 1, nil, true, 1.5, 0.25f, bin "hi", -32, 1e21, undefined, NaN, -Infinity */
	  "", "srv123", "/", 2,
	  "93a673727631323383a47479706502a46461746192a265768b01a3696e74c0a36e696cc3a474727565cb3ff8"
	  "000000000000a5666c6f6174ca3e800000a3663332c4026869a362696ee0a36e6567cb444b1ae4d6e2ef50a3"
	  "626967d40000a5756e646566cb7ff8000000000000a36e616ecbfff0000000000000a46d696e66a36e7370a1"
	  "2f83a5726f6f6d7390a665786365707490a5666c61677380",
	  "[\"ev\",{\"1\":\"int\",\"null\":\"nil\",\"true\":\"true\",\"1.5\":\"float\",\"0.25\":\"f32\",\"hi\":\"bin\",\"-32\":\"neg\",\"1e+21\":\"big\",\"undefined\":\"undef\",\"NaN\":\"nan\",\"-Infinity\":\"minf\"}]",
	  "", "", "", false, true, -1 },
	{ "undefined and ext", /* undefined in array/map, ext 5, ArrayBuffer ext 0, timestamps 32/64/96, notepack date ext 0, fixext16 */
	  "", "srv123", "/", 2,
	  "93a673727631323383a47479706502a4646174619ca26576d4000082a161d40000a16201d505abcdc7030001"
	  "0203d6ff5f5e1000d7ffa1a5d600695733e5c70cff1dcd6500ffffffffffffffffd700000000e8d4a51000d8"
	  "0700112233445566778899aabbccddeeffd7fffffffffc00000000c70cff000000007fffffffffffffffa36e"
	  "7370a12f83a5726f6f6d7390a665786365707490a5666c61677380",
	  "[\"ev\",null,{\"b\":1},[5,{\"_placeholder\":true,\"num\":0}],{\"_placeholder\":true,\"num\":1},\"2020-09-13T12:26:40.000Z\",\"2026-01-02T02:56:37.678Z\",\"1969-12-31T23:59:59.500Z\",\"2001-09-09T01:46:40.000Z\",[7,{\"_placeholder\":true,\"num\":2}],\"1970-01-01T00:00:01.073Z\",null]",
	  "abcd|010203|00112233445566778899aabbccddeeff", "", "", false, true, -1 },
	{ "number forms", /* int8 5, int16 -128, uint16 1, float32 0.1, float32 NaN, float64 -0, int64 -1, uint64 2^53-1, int32 -2^31, float32 3.0 */
	  "", "srv123", "/", 2,
	  "93a673727631323383a47479706502a4646174619ba26576d005d1ff80cd0001ca3dcccccdca7fc00000cb80"
	  "00000000000000d3ffffffffffffffffcf001fffffffffffffd280000000ca40400000a36e7370a12f83a572"
	  "6f6f6d7390a665786365707490a5666c61677380",
	  "[\"ev\",5,-128,1,0.10000000149011612,null,0,-1,9007199254740991,-2147483648,3]", "", "",
	  "", false, true, -1 },
	{ "string forms", /* str8 event, str16, str32, invalid UTF-8 variants */
	  "", "srv123", "/", 2,
	  "93a673727631323383a47479706502a4646174619fd9026576da0003616263db000000026869a6626164ffc3"
	  "28a2e282a3eda080a4f4908080a2c0afa461f09f98a3e0809fa4f0808080a3efbfbda1c2a4f09f9880a100a3"
	  "6e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380",
	  "[\"ev\",\"abc\",\"hi\",\"bad\357\277\275\357\277\275(\",\"\357\277\275\",\"\357\277\275\357\277\275\357\277\275\",\"\357\277\275\357\277\275\357\277\275\357\277\275\",\"\357\277\275\357\277\275\",\"a\357\277\275\",\"\357\277\275\357\277\275\357\277\275\",\"\357\277\275\357\277\275\357\277\275\357\277\275\",\"\357\277\275\",\"\357\277\275\",\"\360\237\230\200\",\"\\u0000\"]",
	  "", "", "", false, true, -1 },
	{ "php", /* PHP emitter: no except, flags an empty array 90, numeric rooms */
	  "", "emitter", "/", 2,
	  "93a7656d697474657283a47479706502a46461746192a26576a178a36e7370a12f82a5726f6f6d73947ba272"
	  "32cb3ff8000000000000ffa5666c61677390",
	  "[\"ev\",\"x\"]", "", "123|r2|1.5|-1", "", false, true, -1 },
	{ "php flags", /* PHP emitter legacy flags map {json, volatile, broadcast} */
	  "", "emitter", "/", 2,
	  "93a7656d697474657283a47479706502a46461746191a26576a36e7370a12f82a5726f6f6d7390a5666c6167"
	  "7383a46a736f6ec3a8766f6c6174696c65c3a962726f616463617374c3",
	  "[\"ev\"]", "", "", "", true, true, -1 },
	{ "key order varies", /* packet keys nsp,data,type; opts keys flags,except,rooms; timeout flag; type 5 Node: undefined-/chat,["ev",{"type":"Buffer","data":[1,2]}]; Node mangles a type-5 packet; siogate decodes it like type 2 */
	  "", "abcdef", "/chat", 5,
	  "93a661626364656683a36e7370a52f63686174a46461746192a26576c4020102a4747970650583a5666c6167"
	  "7382a774696d656f7574cd03e8a56c6f63616cc2a665786365707491a26531a5726f6f6d7392a161a162",
	  "[\"ev\",{\"_placeholder\":true,\"num\":0}]", "0102", "a|b", "e1", false, true, 1000 },
	{ "missing nsp nil uid", /* uid nil, packet without nsp, opts rooms as a PHP map {0:"a", 2:"b"} */
	  "", "", "/", 2, "93c082a47479706502a46461746192a26576c381a5726f6f6d738200a16102a162",
	  "[\"ev\",true]", "", "a|b", "", false, true, -1 },
};

/* generated: encoder vectors: notepack.encode([uid, {type, data: reconstructed JSON.parse(data_json), nsp}, {rooms, except, flags}]) */
static const struct enc_vec enc_vecs[] = {
	{ "protocol 3.2", "mx5EU-", "/", 2, "[\"hello\",1,\"two\",{\"three\":3}]", "", "", "",
	  false, -1,
	  "93a66d783545552d83a47479706502a46461746194a568656c6c6f01a374776f81a5746872656503a36e7370"
	  "a12f83a5726f6f6d7390a665786365707490a5666c61677380",
	  "[\"hello\",1,\"two\",{\"three\":3}]", "" },
	{ "binary and flags", "abc123", "/custom", 2,
	  "[\"bin\",{\"_placeholder\":true,\"num\":0},{\"a\":{\"_placeholder\":true,\"num\":1},\"n\":1.5,\"big\":1099511627776,\"neg\":-200,\"s\":\"\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\"},[{\"num\":0,\"_placeholder\":true}]]",
	  "010203|abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab",
	  "room1", "s1|s2|s1", true, 0,
	  "93a661626331323383a47479706502a46461746194a362696ec40301020385a161c5012cabababababababab"
	  "abababababababababababababababababababababababababababababababababababababababababababab"
	  "abababababababababababababababababababababababababababababababababababababababababababab"
	  "abababababababababababababababababababababababababababababababababababababababababababab"
	  "abababababababababababababababababababababababababababababababababababababababababababab"
	  "abababababababababababababababababababababababababababababababababababababababababababab"
	  "abababababababababababababababababababababababababababababababababababababababababababab"
	  "ababababababababababababababababababababababababababababa16ecb3ff8000000000000a3626967cf"
	  "0000010000000000a36e6567d1ff38a173d928c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3"
	  "a9c3a9c3a9c3a9c3a9c3a9c3a9c3a991c403010203a36e7370a72f637573746f6d83a5726f6f6d7391a5726f"
	  "6f6d31a665786365707492a27331a27332a5666c61677382a8766f6c6174696c65c3a8636f6d7072657373c2",
	  "[\"bin\",{\"_placeholder\":true,\"num\":0},{\"a\":{\"_placeholder\":true,\"num\":1},\"n\":1.5,\"big\":1099511627776,\"neg\":-200,\"s\":\"\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\"},[{\"_placeholder\":true,\"num\":2}]]",
	  "010203|abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab|010203" },
	{ "numbers and strings", "srv001", "/", 2,
	  "[\"n\",0,127,128,255,256,65535,65536,4294967295,4294967296,9007199254740992,-1,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649,0.1,-2.5,1e2,1.0,-0,1E-7,1e19,1.5e-300,-1e-5,\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\",\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\",\"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww\",\"\\u00e9\\ud83d\\ude00\\n\\\"\\/\",true,false,null,[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14],[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],{\"a0\":0,\"a1\":1,\"a2\":2,\"a3\":3,\"a4\":4,\"a5\":5,\"a6\":6,\"a7\":7,\"a8\":8,\"a9\":9,\"b0\":0,\"b1\":1,\"b2\":2,\"b3\":3,\"b4\":4},{\"a0\":0,\"a1\":1,\"a2\":2,\"a3\":3,\"a4\":4,\"a5\":5,\"a6\":6,\"a7\":7,\"a8\":8,\"a9\":9,\"b0\":0,\"b1\":1,\"b2\":2,\"b3\":3,\"b4\":4,\"b5\":5}]",
	  "", "a|b", "", false, 1,
	  "93a673727630303183a47479706502a464617461dc0029a16e007fcc80ccffcd0100cdffffce00010000ceff"
	  "ffffffcf0000000100000000cf0020000000000000ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3"
	  "ffffffff7fffffffcb3fb999999999999acbc004000000000000640100cb3e7ad7f29abcaf48cf8ac7230489"
	  "e80000cb01b01297d23ab683cbbee4f8b588e368f1bf78787878787878787878787878787878787878787878"
	  "787878787878787878d9207979797979797979797979797979797979797979797979797979797979797979d9"
	  "ff7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a"
	  "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a"
	  "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a"
	  "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a"
	  "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a"
	  "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7ada01007777777777"
	  "7777777777777777777777777777777777777777777777777777777777777777777777777777777777777777"
	  "7777777777777777777777777777777777777777777777777777777777777777777777777777777777777777"
	  "7777777777777777777777777777777777777777777777777777777777777777777777777777777777777777"
	  "7777777777777777777777777777777777777777777777777777777777777777777777777777777777777777"
	  "7777777777777777777777777777777777777777777777777777777777777777777777777777777777777777"
	  "77777777777777777777777777777777777777777777777777777777777777a9c3a9f09f98800a222fc3c2c0"
	  "9f000102030405060708090a0b0c0d0edc0010000102030405060708090a0b0c0d0e0f8fa2613000a2613101"
	  "a2613202a2613303a2613404a2613505a2613606a2613707a2613808a2613909a2623000a2623101a2623202"
	  "a2623303a2623404de0010a2613000a2613101a2613202a2613303a2613404a2613505a2613606a2613707a2"
	  "613808a2613909a2623000a2623101a2623202a2623303a2623404a2623505a36e7370a12f83a5726f6f6d73"
	  "92a161a162a665786365707490a5666c61677381a8636f6d7072657373c3",
	  "[\"n\",0,127,128,255,256,65535,65536,4294967295,4294967296,9007199254740992,-1,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649,0.1,-2.5,100,1,0,1e-7,10000000000000000000,1.5e-300,-0.00001,\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\",\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\",\"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww\",\"\303\251\360\237\230\200\\n\\\"/\",true,false,null,[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14],[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],{\"a0\":0,\"a1\":1,\"a2\":2,\"a3\":3,\"a4\":4,\"a5\":5,\"a6\":6,\"a7\":7,\"a8\":8,\"a9\":9,\"b0\":0,\"b1\":1,\"b2\":2,\"b3\":3,\"b4\":4},{\"a0\":0,\"a1\":1,\"a2\":2,\"a3\":3,\"a4\":4,\"a5\":5,\"a6\":6,\"a7\":7,\"a8\":8,\"a9\":9,\"b0\":0,\"b1\":1,\"b2\":2,\"b3\":3,\"b4\":4,\"b5\":5}]", "" },
	{ "key order and duplicates", "srv002", "/", 2,
	  " [ \"ev\" , {\"b\":1,\"2\":2,\"1\":1,\"b\":3,\"__proto__\":{\"x\":1},\"01\":4,\"\":5} , [ ] , { } ] ",
	  "", "a|a", "x", true, -1,
	  "93a673727630303283a47479706502a46461746194a2657686a13101a13202a16203a95f5f70726f746f5f5f"
	  "81a17801a2303104a0059080a36e7370a12f83a5726f6f6d7391a161a665786365707491a178a5666c616773"
	  "81a8766f6c6174696c65c3",
	  "[\"ev\",{\"1\":1,\"2\":2,\"b\":3,\"01\":4,\"\":5},[],{}]", "" },
	{ "int64 extremes", "srv004", "/", 2,
	  "[\"x\",-9223372036854775808,18446744073709549568,-9007199254740992]", "", "", "", false,
	  -1,
	  "93a673727630303483a47479706502a46461746194a178d38000000000000000cffffffffffffff800d3ffe0"
	  "000000000000a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380",
	  "[\"x\",-9223372036854775808,18446744073709549568,-9007199254740992]",
	  "" }, /* Node: ["x",-9223372036854776000,18446744073709550000,-9007199254740992] */
	{ "ack type", "srv003", "/", 3, "[{\"ok\":true}]", "", "sid0000000000000000A", "", false,
	  -1,
	  "93a673727630303383a47479706503a4646174619181a26f6bc3a36e7370a12f83a5726f6f6d7391b4736964"
	  "3030303030303030303030303030303041a665786365707490a5666c61677380",
	  "[{\"ok\":true}]", "" },
};

/* PROTOCOL.md 3.2: io.emit("hello",1,"two",{three:3}) from server mx5EU-. */
static const char protocol_hex[] =
	"93a66d783545552d83a47479706502a46461746194a568656c6c6f01a374776f81a5746872656503"
	"a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380";

static void test_protocol_example(void)
{
	struct adapter_broadcast b;
	struct sg_err err = { 0 };
	struct sg_buf m;

	sg_buf_init(&m);
	hex_to_buf(&m, protocol_hex);
	CHECK_INT(m.len, 69);
	CHECK_INT(adapter_codec_decode_broadcast(m.data, m.len, 10, &b, &err), 0);
	CHECK_STR(b.uid, "mx5EU-");
	CHECK_STR(b.nsp, "/");
	CHECK_INT(b.type, 2);
	CHECK_STR(b.data_json, "[\"hello\",1,\"two\",{\"three\":3}]");
	CHECK_INT(b.data_json_len, strlen("[\"hello\",1,\"two\",{\"three\":3}]"));
	CHECK_INT(b.n_attachments, 0);
	CHECK_INT(b.rooms.n, 0);
	CHECK_INT(b.except.n, 0);
	CHECK(!b.flag_volatile);
	CHECK(b.flag_compress);
	CHECK(!b.flag_local);
	CHECK_INT(b.flag_timeout_ms, -1);
	adapter_codec_broadcast_fini(&b);
	CHECK(b.uid == NULL && b.data_json == NULL);
	adapter_codec_broadcast_fini(&b); /* twice is fine */
	sg_buf_fini(&m);
}

static void check_dec_vec(const struct dec_vec *v)
{
	struct adapter_broadcast b;
	struct sg_err err = { 0 };
	char *s;

	unit_current = v->name;
	if (decode_hex(v->hex, 10, &b, &err) != 0) {
		CHECK_STR(err.msg, "(decoded)");
		return;
	}
	CHECK_STR(b.uid, v->uid);
	CHECK_STR(b.nsp, v->nsp);
	CHECK_INT(b.type, v->type);
	CHECK_STR(b.data_json, v->json);
	CHECK_INT(b.data_json_len, strlen(v->json));
	s = atts_hex(&b);
	CHECK_STR(s, v->atts);
	free(s);
	s = join(&b.rooms);
	CHECK_STR(s, v->rooms);
	free(s);
	s = join(&b.except);
	CHECK_STR(s, v->except);
	free(s);
	CHECK_INT(b.flag_volatile, v->vol);
	CHECK_INT(b.flag_compress, v->comp);
	CHECK_INT(b.flag_timeout_ms, v->timeout);
	CHECK(!b.flag_local);
	if (v->channel[0]) {
		struct sg_buf ch;

		sg_buf_init(&ch);
		adapter_codec_channel(&ch, "socket.io", b.nsp, &b.rooms);
		CHECK_STR(ch.data, v->channel);
		sg_buf_fini(&ch);
	}
	adapter_codec_broadcast_fini(&b);
}

static void test_emitter_vectors(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(emitter_vecs); i++)
		check_dec_vec(&emitter_vecs[i]);
}

static void test_crafted_vectors(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(crafted_vecs); i++)
		check_dec_vec(&crafted_vecs[i]);
}

/* Every strict prefix of every valid message is an error, never a crash, and
 * leaves the output zeroed. */
static void truncations_of(const char *hex)
{
	struct sg_buf m;
	struct sg_err err;

	sg_buf_init(&m);
	hex_to_buf(&m, hex);
	for (size_t n = 0; n < m.len; n++) {
		struct adapter_broadcast b;
		char *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */

		memcpy(copy, m.data, n);
		memset(&b, 0x5a, sizeof(b));
		CHECK_INT(adapter_codec_decode_broadcast(copy, n, 10, &b, &err), -1);
		CHECK(b.uid == NULL && b.data_json == NULL && b.attachments == NULL &&
		      b.rooms.v == NULL);
		free(copy);
	}
	/* And one byte more is trailing garbage. */
	{
		struct adapter_broadcast b;

		sg_buf_append_char(&m, 0);
		CHECK_INT(adapter_codec_decode_broadcast(m.data, m.len, 10, &b, &err), -1);
		CHECK(strstr(err.msg, "trailing") != NULL);
	}
	sg_buf_fini(&m);
}

static void test_truncated(void)
{
	truncations_of(protocol_hex);
	for (size_t i = 0; i < SG_ARRAY_LEN(emitter_vecs); i++)
		truncations_of(emitter_vecs[i].hex);
	for (size_t i = 0; i < SG_ARRAY_LEN(crafted_vecs); i++)
		truncations_of(crafted_vecs[i].hex);
}

/* packet = {type, data, nsp:"/"} with the given data hex, opts {}. */
static int decode_data(const char *data_hex, unsigned max_att, struct adapter_broadcast *b,
		       struct sg_err *err)
{
	struct sg_buf h;
	int rc;

	sg_buf_init(&h);
	sg_buf_printf(&h, "93a17583a47479706502a464617461%sa36e7370a12f80", data_hex);
	rc = decode_hex(h.data, max_att, b, err);
	sg_buf_fini(&h);
	return rc;
}

static void expect_error(const char *hex, const char *msg_part)
{
	struct adapter_broadcast b;
	struct sg_err err = { 0 };

	if (decode_hex(hex, 10, &b, &err) == 0) {
		CHECK_STR(b.data_json, "(an error)");
		adapter_codec_broadcast_fini(&b);
		return;
	}
	CHECK(b.uid == NULL && b.data_json == NULL);
	if (strstr(err.msg, msg_part) == NULL)
		CHECK_STR(err.msg, msg_part);
}

static void test_errors(void)
{
	struct adapter_broadcast b;
	struct sg_err err = { 0 };

	CHECK_INT(adapter_codec_decode_broadcast("", 0, 10, &b, &err), -1);
	expect_error("80", "not an array");		      /* {} */
	expect_error("2a", "not an array");		      /* 42 */
	expect_error("91a175", "not an array of at least 2"); /* ["u"] */
	expect_error("92a17502", "packet is not a map");      /* ["u", 2] */
	expect_error("93a17591c080", "packet is not a map");  /* ["u", [nil], {}] */
	expect_error("92a17581a464617461"
		     "91a26576",
		     "no type");				   /* no type */
	expect_error("92a17582a47479706502a3e6b0b4c0", "no data"); /* no data */
	expect_error("92a17582a47479706502a464617461a26576", "data is not an array");
	expect_error("92a17582a47479706502a46461746181a26576c0", "data is not an array");
	expect_error("92a17582a47479706502a4646174619102", "event name is not a string");
	expect_error("92a17582a47479706502a46461746192c0a26576", "event name is not a string");
	expect_error("92a17582a47479706502a46461746190", "data is empty");
	expect_error("92a17582a47479706504a4646174619101", "not an event or ack");
	expect_error("92a17582a47479706507a4646174619101", "integer 0..6");
	expect_error("92a17582a474797065a132a46461746191a26576", "integer 0..6");
	expect_error("92a17583a47479706502a46461746191a26576a36e737001", "nsp is not a string");
	expect_error("92a17583a47479706502a46461746191a26576a36e7370a32f0061", "NUL");
	expect_error("93a17582a47479706502a46461746191a2657602", "opts is not a map");
	expect_error("93a17582a47479706502a46461746191a2657681a5726f6f6d739180", "opts.rooms");
	expect_error("93a17582a47479706502a46461746191a2657681a5726f6f6d7391a26100", "NUL");
	expect_error("93a17582a47479706502a46461746191a2657681a6657863657074c3", "opts.except");
	expect_error("9391c082a47479706502a46461746191a2657680", "uid"); /* uid array */
	expect_error("91c1", "invalid msgpack byte 0xc1");
	/* Map keys JS cannot turn into a property name here. */
	CHECK_INT(decode_data("92a2657681"
			      "9101"
			      "c0",
			      10, &b, &err),
		  -1);
	CHECK(strstr(err.msg, "map key") != NULL);
	CHECK_INT(decode_data("92a2657681"
			      "d50100ff"
			      "c0",
			      10, &b, &err),
		  -1);
	/* Timestamp ext -1 of the wrong size (notepack would misread it). */
	CHECK_INT(decode_data("92a26576c703ff000000", 10, &b, &err), -1);
	/* Declared counts that cannot fit are rejected before any allocation. */
	CHECK_INT(decode_data("92a26576dd7fffffff", 10, &b, &err), -1);
	CHECK_INT(decode_data("92a26576dfffffffff", 10, &b, &err), -1);
	CHECK_INT(decode_data("92a26576dbffffffff", 10, &b, &err), -1);
	CHECK_INT(decode_data("92a26576c6ffffffff", 10, &b, &err), -1);
	expect_error("ddffffffff", "truncated");
}

static void test_attachment_limit(void)
{
	struct adapter_broadcast b;
	struct sg_err err = { 0 };
	struct sg_buf h;

	sg_buf_init(&h);
	sg_buf_append_str(&h, "9c"
			      "a26576"); /* 12 elements: "ev" + 11 bins */
	for (int i = 0; i < 11; i++)
		sg_buf_printf(&h, "c401%02x", i);
	CHECK_INT(decode_data(h.data, 10, &b, &err), -1);
	CHECK(strstr(err.msg, "more than 10 binary attachments") != NULL);
	CHECK(b.data_json == NULL && b.attachments == NULL);
	CHECK_INT(decode_data(h.data, 11, &b, &err), 0);
	CHECK_INT(b.n_attachments, 11);
	CHECK_INT(b.attachments[10].len, 1);
	CHECK_INT(b.attachments[10].data[0], 10);
	CHECK(strstr(b.data_json, "{\"_placeholder\":true,\"num\":10}]") != NULL);
	adapter_codec_broadcast_fini(&b);
	/* Exactly at the limit, and a zero limit. */
	CHECK_INT(decode_data("93a26576c40101c40102", 2, &b, &err), 0);
	CHECK_INT(b.n_attachments, 2);
	adapter_codec_broadcast_fini(&b);
	CHECK_INT(decode_data("92a26576c40101", 0, &b, &err), -1);
	/* Ext values notepack turns into binary count too. */
	CHECK_INT(decode_data("93a26576c70100aad501bbcc", 1, &b, &err), -1);
	sg_buf_fini(&h);
}

static void test_depth(void)
{
	struct adapter_broadcast b;
	struct sg_err err = { 0 };
	struct sg_buf h, want;

	/* top array 1, packet map 2, data array 3, then k nested arrays. */
	for (int k = 60; k <= 63; k++) {
		sg_buf_init(&h);
		sg_buf_init(&want);
		sg_buf_append_str(&h, "92a26576");
		sg_buf_append_str(&want, "[\"ev\",");
		for (int i = 0; i < k; i++) {
			sg_buf_append_str(&h, "91");
			sg_buf_append_char(&want, '[');
		}
		sg_buf_append_str(&h, "c0");
		sg_buf_append_str(&want, "null");
		for (int i = 0; i < k; i++)
			sg_buf_append_char(&want, ']');
		sg_buf_append_char(&want, ']');
		if (3 + k <= ADAPTER_MAX_DEPTH) {
			CHECK_INT(decode_data(h.data, 10, &b, &err), 0);
			CHECK_STR(b.data_json, want.data);
			adapter_codec_broadcast_fini(&b);
		} else {
			CHECK_INT(decode_data(h.data, 10, &b, &err), -1);
			CHECK(strstr(err.msg, "deeper than 64") != NULL);
		}
		sg_buf_fini(&h);
		sg_buf_fini(&want);
	}
	/* Maps count the same way. */
	sg_buf_init(&h);
	sg_buf_append_str(&h, "92a26576");
	for (int i = 0; i < 62; i++)
		sg_buf_append_str(&h, "81a16b");
	sg_buf_append_str(&h, "c0");
	CHECK_INT(decode_data(h.data, 10, &b, &err), -1);
	sg_buf_fini(&h);
}

static void test_lenient_shapes(void)
{
	struct adapter_broadcast b;
	struct sg_err err = { 0 };

	/* [packet, opts]: no uid. */
	CHECK_INT(decode_hex("9283a47479706502a46461746191a26576a36e7370a12f"
			     "81a5726f6f6d7391a17a",
			     10, &b, &err),
		  0);
	CHECK_STR(b.uid, "");
	CHECK_STR(b.data_json, "[\"ev\"]");
	CHECK_INT(b.rooms.n, 1);
	CHECK_STR(b.rooms.v[0], "z");
	adapter_codec_broadcast_fini(&b);
	/* [uid, packet]: no opts; integer uid; float type 2.0; extra elements. */
	CHECK_INT(decode_hex("922a82a474797065cb4000000000000000a46461746191a26576", 10, &b, &err),
		  0);
	CHECK_STR(b.uid, "42");
	CHECK_INT(b.type, 2);
	CHECK_INT(b.rooms.n, 0);
	CHECK(b.flag_compress);
	adapter_codec_broadcast_fini(&b);
	CHECK_INT(decode_hex("94a17582a47479706502a46461746191a26576c0c3", 10, &b, &err), 0);
	CHECK_STR(b.nsp, "/");
	adapter_codec_broadcast_fini(&b);
	/* nil nsp counts as "/"; rooms a single string; except nil; flags nil. */
	CHECK_INT(decode_hex("93a17583a47479706502a46461746191a26576a36e7370c0"
			     "83a5726f6f6d73a3726f6da6657863657074c0a5666c616773c0",
			     10, &b, &err),
		  0);
	CHECK_STR(b.nsp, "/");
	CHECK_INT(b.rooms.n, 1);
	CHECK_STR(b.rooms.v[0], "rom");
	CHECK_INT(b.except.n, 0);
	CHECK(!b.flag_volatile && b.flag_compress);
	adapter_codec_broadcast_fini(&b);
	/* Ack: data need not start with a string. */
	CHECK_INT(decode_hex("93a17582a47479706503a4646174619201c380", 10, &b, &err), 0);
	CHECK_INT(b.type, 3);
	CHECK_STR(b.data_json, "[1,true]");
	adapter_codec_broadcast_fini(&b);
	/* Flags: truthy values, local, float timeout, compress 0 -> false. */
	CHECK_INT(decode_hex("93a17582a47479706502a46461746191a26576"
			     "81a5666c61677384a8766f6c6174696c6501a8636f6d707265737300"
			     "a56c6f63616ca178a774696d656f7574cb408f480000000000",
			     10, &b, &err),
		  0);
	CHECK(b.flag_volatile);
	CHECK(!b.flag_compress);
	CHECK(b.flag_local);
	CHECK_INT(b.flag_timeout_ms, 1001);
	adapter_codec_broadcast_fini(&b);
	/* Integers past 2^53 stay exact (Node would round them). */
	CHECK_INT(decode_data("94a26576cfffffffffffffffffd38000000000000000cf0020000000000001", 10,
			      &b, &err),
		  0);
	CHECK_STR(b.data_json,
		  "[\"ev\",18446744073709551615,-9223372036854775808,9007199254740993]");
	adapter_codec_broadcast_fini(&b);
	/* Empty containers and empty strings. */
	CHECK_INT(decode_data("96a26576a0908080", 10, &b, &err), -1); /* 6 declared, 5 given */
	CHECK_INT(decode_data("94a26576a09080", 10, &b, &err), 0);
	CHECK_STR(b.data_json, "[\"ev\",\"\",[],{}]");
	adapter_codec_broadcast_fini(&b);
	/* A map whose only value is undefined, a duplicate key whose last value is
	 * binary (the first was not): one attachment, at the first position. */
	CHECK_INT(decode_data("93a2657681a161d40000"
			      "82a16101a162c0",
			      10, &b, &err),
		  0);
	CHECK_STR(b.data_json, "[\"ev\",{},{\"a\":1,\"b\":null}]");
	adapter_codec_broadcast_fini(&b);
	CHECK_INT(decode_data("93a2657681a161d40000"
			      "83a16101a162c0a161c40109",
			      10, &b, &err),
		  0);
	CHECK_STR(b.data_json, "[\"ev\",{},{\"a\":{\"_placeholder\":true,\"num\":0},\"b\":null}]");
	CHECK_INT(b.n_attachments, 1);
	adapter_codec_broadcast_fini(&b);
}

static void enc_args(const struct enc_vec *v, struct adapter_attachment **att, size_t *n_att,
		     struct sg_strv *rooms, struct sg_strv *except)
{
	struct sg_strv hx;

	split(&hx, v->atts);
	*n_att = hx.n;
	*att = calloc(hx.n ? hx.n : 1, sizeof(**att));
	for (size_t i = 0; i < hx.n; i++) {
		struct sg_buf b;

		sg_buf_init(&b);
		hex_to_buf(&b, hx.v[i]);
		(*att)[i].len = b.len;
		(*att)[i].data = (uint8_t *)sg_buf_steal(&b);
	}
	sg_strv_free(&hx);
	split(rooms, v->rooms);
	split(except, v->except);
}

static void free_atts(struct adapter_attachment *att, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(att[i].data);
	free(att);
}

static void test_encoder_vectors(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(enc_vecs); i++) {
		const struct enc_vec *v = &enc_vecs[i];
		struct adapter_attachment *att;
		size_t n_att;
		struct sg_strv rooms, except;
		struct sg_buf out;
		struct sg_err err = { 0 };
		struct adapter_broadcast b;
		char *h;

		unit_current = v->name;
		enc_args(v, &att, &n_att, &rooms, &except);
		sg_buf_init(&out);
		CHECK_INT(adapter_codec_encode_broadcast(
				  &out, v->uid, v->nsp, v->type, v->data_json, strlen(v->data_json),
				  att, n_att, &rooms, &except, v->vol, v->comp, &err),
			  0);
		h = buf_to_hex(out.data, out.len);
		CHECK_STR(h, v->hex);
		free(h);
		CHECK(mpc_check(out.data, out.len) >= 1);
		CHECK_INT(adapter_codec_decode_broadcast(out.data, out.len, 10, &b, &err), 0);
		CHECK_STR(b.data_json, v->json);
		CHECK_STR(b.uid, v->uid);
		CHECK_STR(b.nsp, v->nsp);
		CHECK_INT(b.type, v->type);
		CHECK_INT(b.flag_volatile, v->vol);
		CHECK_INT(b.flag_compress, v->comp != 0);
		h = atts_hex(&b);
		CHECK_STR(h, v->rt_atts);
		free(h);
		adapter_codec_broadcast_fini(&b);
		sg_buf_fini(&out);
		free_atts(att, n_att);
		sg_strv_free(&rooms);
		sg_strv_free(&except);
	}
	/* Appends: what out held before stays. */
	{
		struct sg_buf out;
		struct sg_err err;

		sg_buf_init(&out);
		sg_buf_append_str(&out, "XY");
		CHECK_INT(adapter_codec_encode_broadcast(&out, "mx5EU-", "/", 2,
							 "[\"hello\",1,\"two\",{\"three\":3}]", 29,
							 NULL, 0, NULL, NULL, false, -1, &err),
			  0);
		CHECK_INT(out.len, 71);
		CHECK(memcmp(out.data, "XY\x93\xa6mx5EU-", 9) == 0);
		sg_buf_fini(&out);
	}
}

/* Encodes ["ev", <json>] and returns the hex of just the value's bytes. */
static char *enc_one(const char *json, const struct adapter_attachment *att, size_t n_att)
{
	static const char head[] = "93a17583a47479706502a46461746192a26576";
	struct sg_buf d, out;
	struct sg_err err = { 0 };
	char *h, *res;
	size_t hl = strlen(head), tail;

	sg_buf_init(&d);
	sg_buf_init(&out);
	sg_buf_printf(&d, "[\"ev\",%s]", json);
	if (adapter_codec_encode_broadcast(&out, "u", "/", 2, d.data, d.len, att, n_att, NULL, NULL,
					   false, -1, &err) < 0) {
		sg_buf_fini(&d);
		return sg_strdup(err.msg);
	}
	CHECK_INT(mpc_check(out.data, out.len), 2);
	h = buf_to_hex(out.data, out.len);
	/* tail: a3 6e7370 a1 2f 83 a5 rooms 90 a6 except 90 a5 flags 80 */
	tail = strlen("a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380");
	CHECK(strncmp(h, head, hl) == 0);
	res = sg_strndup(h + hl, strlen(h) - hl - tail);
	free(h);
	sg_buf_fini(&d);
	sg_buf_fini(&out);
	return res;
}

static void check_enc_one(const char *json, const char *want)
{
	char *h = enc_one(json, NULL, 0);

	CHECK_STR(h, want);
	free(h);
}

static void test_encoder_values(void)
{
	/* Integral values beyond notepack's range become float64 (notepack wraps
	 * them mod 2^64: 1e21 would arrive as 3875820019684212700). */
	check_enc_one("1e21", "cb444b1ae4d6e2ef50");
	check_enc_one("-1e19", "cbc3e158e460913d00");
	check_enc_one("18446744073709551615", "cfffffffffffffffff");
	check_enc_one("18446744073709551616", "cb43f0000000000000");
	check_enc_one("-9223372036854775809", "d38000000000000000"); /* rounds to -2^63 */
	check_enc_one("9007199254740993", "cf0020000000000001");
	check_enc_one("1.0", "01");
	check_enc_one("-0.0", "00");
	check_enc_one("-0", "00");
	check_enc_one("1E+2", "64");
	check_enc_one("-32", "e0");
	check_enc_one("0.5", "cb3fe0000000000000");
	check_enc_one("1e400", "cb7ff0000000000000"); /* JSON.parse: Infinity */
	/* Strings: escapes, surrogate pairs, lone surrogates, raw bad UTF-8. */
	check_enc_one("\"\\ud83d\\ude00\"", "a4f09f9880");
	check_enc_one("\"\\ud800\"", "a3efbfbd");
	check_enc_one("\"\\udc00\\ud800x\"", "a7efbfbdefbfbd78");
	check_enc_one("\"\\u0000\\/\\b\"", "a3002f08");
	check_enc_one("\"\xff\"", "a3efbfbd");
	check_enc_one("\"\xc3\xa9\"", "a2c3a9");
	/* Placeholder-like objects that are not placeholders. */
	check_enc_one("{\"_placeholder\":\"true\",\"num\":0}",
		      "82ac5f706c616365686f6c646572a474727565a36e756d00");
	check_enc_one("{\"_placeholder\":false}", "81ac5f706c616365686f6c646572c2");
	/* Whitespace JSON.parse allows. */
	check_enc_one(" \t\r\n[ 1 , { \"a\" : [ ] } ]\n", "920181a16190");
	/* Large forms: str32, bin16, bin32, array16, map16. */
	{
		struct sg_buf j, want;
		struct adapter_attachment att[2];
		char *h;

		sg_buf_init(&j);
		sg_buf_init(&want);
		sg_buf_append_char(&j, '"');
		for (int i = 0; i < 70000; i++)
			sg_buf_append_char(&j, 'q');
		sg_buf_append_char(&j, '"');
		h = enc_one(j.data, NULL, 0);
		CHECK(strncmp(h, "db00011170", 10) == 0 && strlen(h) == 10 + 140000);
		free(h);
		att[0].len = 300;
		att[0].data = calloc(1, 300);
		att[1].len = 70000;
		att[1].data = calloc(1, 70000);
		h = enc_one("[{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]",
			    att, 2);
		CHECK(strncmp(h, "92c6000111700000", 16) == 0);
		CHECK(strncmp(h + 12 + 140000, "c5012c00", 8) == 0);
		free(h);
		free(att[0].data);
		free(att[1].data);
		sg_buf_reset(&j);
		sg_buf_append_char(&j, '[');
		for (int i = 0; i < 16; i++)
			sg_buf_printf(&j, "%s%d", i ? "," : "", i);
		sg_buf_append_char(&j, ']');
		h = enc_one(j.data, NULL, 0);
		CHECK_STR(h, "dc0010000102030405060708090a0b0c0d0e0f");
		free(h);
		sg_buf_fini(&j);
		sg_buf_fini(&want);
	}
}

static void check_enc_error(const char *json, const char *msg_part)
{
	struct sg_buf out;
	struct sg_err err = { 0 };
	struct adapter_attachment att = { (uint8_t *)"\x01", 1 };

	sg_buf_init(&out);
	sg_buf_append_str(&out, "keep");
	CHECK_INT(adapter_codec_encode_broadcast(&out, "u", "/", 2, json, strlen(json), &att, 1,
						 NULL, NULL, false, -1, &err),
		  -1);
	CHECK_STR(out.data, "keep");
	if (strstr(err.msg, msg_part) == NULL)
		CHECK_STR(err.msg, msg_part);
	sg_buf_fini(&out);
}

static void test_encoder_errors(void)
{
	struct sg_buf out, j;
	struct sg_err err = { 0 };

	check_enc_error("", "end of JSON");
	check_enc_error("{}", "not a JSON array");
	check_enc_error("\"ev\"", "not a JSON array");
	check_enc_error("[\"ev\",]", "unexpected character");
	check_enc_error("[\"ev\" 1]", "expected ','");
	check_enc_error("[\"ev\"] x", "trailing");
	check_enc_error("['ev']", "unexpected character");
	check_enc_error("[01]", "expected ','");
	check_enc_error("[1.]", "bad number");
	check_enc_error("[.5]", "unexpected character");
	check_enc_error("[+1]", "unexpected character");
	check_enc_error("[1e]", "bad number");
	check_enc_error("[-]", "bad number");
	check_enc_error("[NaN]", "unexpected character");
	check_enc_error("[tru]", "unexpected character");
	check_enc_error("[\"a", "unterminated");
	check_enc_error("[\"a\tb\"]", "control character");
	check_enc_error("[\"\\x\"]", "bad escape");
	check_enc_error("[\"\\u12g4\"]", "bad \\u escape");
	check_enc_error("[{\"a\" 1}]", "expected ':'");
	check_enc_error("[{1:1}]", "expected a key");
	check_enc_error("[{\"a\":1,}]", "expected a key");
	check_enc_error("[{\"_placeholder\":true,\"num\":1}]", "illegal attachments");
	check_enc_error("[{\"_placeholder\":true,\"num\":-1}]", "illegal attachments");
	check_enc_error("[{\"_placeholder\":true,\"num\":0.5}]", "illegal attachments");
	check_enc_error("[{\"_placeholder\":true,\"num\":\"0\"}]", "illegal attachments");
	check_enc_error("[{\"_placeholder\":true}]", "illegal attachments");
	/* Depth: the data array is JSON level 1 and message level 3. */
	sg_buf_init(&j);
	for (int i = 0; i < ADAPTER_MAX_DEPTH - 2; i++)
		sg_buf_append_char(&j, '[');
	for (int i = 0; i < ADAPTER_MAX_DEPTH - 2; i++)
		sg_buf_append_char(&j, ']');
	sg_buf_init(&out);
	CHECK_INT(adapter_codec_encode_broadcast(&out, "u", "/", 3, j.data, j.len, NULL, 0, NULL,
						 NULL, false, -1, &err),
		  0);
	{
		struct adapter_broadcast b;

		CHECK_INT(adapter_codec_decode_broadcast(out.data, out.len, 10, &b, &err), 0);
		CHECK_STR(b.data_json, j.data);
		adapter_codec_broadcast_fini(&b);
	}
	sg_buf_reset(&j);
	for (int i = 0; i < ADAPTER_MAX_DEPTH - 1; i++)
		sg_buf_append_char(&j, '[');
	for (int i = 0; i < ADAPTER_MAX_DEPTH - 1; i++)
		sg_buf_append_char(&j, ']');
	check_enc_error(j.data, "deeper than 62");
	sg_buf_fini(&j);
	/* Arguments. */
	CHECK_INT(adapter_codec_encode_broadcast(&out, NULL, "/", 2, "[\"a\"]", 5, NULL, 0, NULL,
						 NULL, false, -1, &err),
		  -1);
	CHECK_INT(adapter_codec_encode_broadcast(&out, "u", NULL, 2, "[\"a\"]", 5, NULL, 0, NULL,
						 NULL, false, -1, &err),
		  -1);
	CHECK_INT(adapter_codec_encode_broadcast(&out, "u", "/", 7, "[\"a\"]", 5, NULL, 0, NULL,
						 NULL, false, -1, &err),
		  -1);
	/* The JSON text need not be NUL-terminated: only len bytes are read. */
	sg_buf_reset(&out);
	CHECK_INT(adapter_codec_encode_broadcast(&out, "u", "/", 2, "[\"a\"]garbage", 5, NULL, 0,
						 NULL, NULL, false, -1, &err),
		  0);
	sg_buf_fini(&out);
}

static void test_channel(void)
{
	struct sg_buf b;
	struct sg_strv rooms = { NULL, 0 };

	sg_buf_init(&b);
	adapter_codec_channel(&b, "socket.io", "/", NULL);
	CHECK_STR(b.data, "socket.io#/#");
	sg_buf_reset(&b);
	adapter_codec_channel(&b, "socket.io", "/", &rooms);
	CHECK_STR(b.data, "socket.io#/#");
	sg_strv_push(&rooms, "room1");
	sg_buf_reset(&b);
	adapter_codec_channel(&b, "socket.io", "/", &rooms);
	CHECK_STR(b.data, "socket.io#/#room1#");
	sg_strv_push(&rooms, "room1"); /* a Set of one */
	sg_buf_reset(&b);
	adapter_codec_channel(&b, "myapp", "/custom", &rooms);
	CHECK_STR(b.data, "myapp#/custom#room1#");
	sg_strv_push(&rooms, "room2");
	sg_buf_reset(&b);
	adapter_codec_channel(&b, "socket.io", "/", &rooms);
	CHECK_STR(b.data, "socket.io#/#");
	sg_strv_free(&rooms);
	sg_buf_fini(&b);
}

/* Random mutations of every vector: decoding never crashes, and whatever
 * decodes is valid JSON that survives encode -> decode unchanged. */
static void test_mutations(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	const struct dec_vec *all[SG_ARRAY_LEN(emitter_vecs) + SG_ARRAY_LEN(crafted_vecs)];
	size_t n_all = 0, decoded = 0;

	for (size_t i = 0; i < SG_ARRAY_LEN(emitter_vecs); i++)
		all[n_all++] = &emitter_vecs[i];
	for (size_t i = 0; i < SG_ARRAY_LEN(crafted_vecs); i++)
		all[n_all++] = &crafted_vecs[i];
	for (size_t vi = 0; vi < n_all; vi++) {
		struct sg_buf orig;

		sg_buf_init(&orig);
		hex_to_buf(&orig, all[vi]->hex);
		for (int round = 0; round < 400; round++) {
			struct adapter_broadcast b, b2;
			struct sg_err err;
			struct sg_buf out;
			unsigned char *m = malloc(orig.len + 1);
			size_t len = orig.len;
			int kind;

			memcpy(m, orig.data, orig.len);
			for (int k = 0; k < 1 + round % 3; k++) {
				size_t pos;

				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				pos = (size_t)(x % len);
				kind = (int)((x >> 32) % 4);
				if (kind < 2)
					m[pos] = (unsigned char)(x >> 40);
				else if (kind == 2)
					m[pos] ^= (unsigned char)(1u << ((x >> 48) % 8));
				else if (len > 1)
					memmove(m + pos, m + pos + 1, --len - pos);
			}
			if (adapter_codec_decode_broadcast(m, len, 10, &b, &err) == 0) {
				json_error_t je;
				json_t *j = json_loadb(b.data_json, b.data_json_len,
						       JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
				int rc;

				decoded++;
				/* jansson cannot hold a NUL in a key or an integer past
				 * int64; both are valid JSON that JS reads. */
				CHECK((j != NULL && json_is_array(j)) ||
				      (j == NULL && (strstr(je.text, "NUL byte in object key") ||
						     strstr(je.text, "too big integer"))));
				json_decref(j);
				CHECK(b.n_attachments <= 10);
				sg_buf_init(&out);
				rc = adapter_codec_encode_broadcast(
					&out, b.uid, b.nsp, b.type, b.data_json, b.data_json_len,
					b.attachments, b.n_attachments, &b.rooms, &b.except,
					b.flag_volatile, b.flag_compress, &err);
				CHECK_INT(rc, 0);
				if (rc == 0 && adapter_codec_decode_broadcast(out.data, out.len, 10,
									      &b2, &err) == 0) {
					CHECK_STR(b2.data_json, b.data_json);
					CHECK_INT(b2.n_attachments, b.n_attachments);
					for (size_t a = 0;
					     a < b.n_attachments && a < b2.n_attachments; a++)
						CHECK(b.attachments[a].len ==
							      b2.attachments[a].len &&
						      (b.attachments[a].len == 0 ||
						       memcmp(b.attachments[a].data,
							      b2.attachments[a].data,
							      b.attachments[a].len) == 0));
					adapter_codec_broadcast_fini(&b2);
				} else if (rc == 0) {
					CHECK_STR(err.msg, "(re-decoded)");
				}
				sg_buf_fini(&out);
				adapter_codec_broadcast_fini(&b);
			}
			free(m);
		}
		sg_buf_fini(&orig);
	}
	CHECK(decoded > 100); /* the mutations are not all trivially rejected */
}

int main(void)
{
	RUN(test_protocol_example);
	RUN(test_emitter_vectors);
	RUN(test_crafted_vectors);
	RUN(test_truncated);
	RUN(test_errors);
	RUN(test_attachment_limit);
	RUN(test_depth);
	RUN(test_lenient_shapes);
	RUN(test_encoder_vectors);
	RUN(test_encoder_values);
	RUN(test_encoder_errors);
	RUN(test_channel);
	RUN(test_mutations);
	return UNIT_END();
}
