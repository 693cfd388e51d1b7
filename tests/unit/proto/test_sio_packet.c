/*
 * test_sio_packet.c: Socket.IO v5 packet codec.  Cases come from PROTOCOL.md
 * sections 2.2-2.5 and 4.1 (wire strings are decoded through the Engine.IO
 * codec first) and from socket.io-parser 4.2.7 as run under Node 20: the
 * expected values of the JS corner cases were produced by its decodeString.
 */
#include <stdlib.h>

#include "proto/eio_packet.h"
#include "proto/sio_packet.h"
#include "unit.h"

#define MAXA SIO_MAX_ATTACHMENTS_DEFAULT

static int dec(const char *s, struct sio_packet *p);
static int dec_wire(const char *wire, struct sio_packet *p);
static void check_packet(const char *s, int type, unsigned att, const char *nsp, long long id,
			 const char *json, const char *name);
static void check_reject(const char *s, unsigned max_att, const char *msg_part);
static void check_head(int type, const char *nsp, unsigned att, long long id, const char *want);
static int check_ph(const char *s);

static int dec(const char *s, struct sio_packet *p)
{
	struct sg_err err = { 0 };

	return sio_packet_decode(s, strlen(s), MAXA, p, &err);
}

/* A wire string as the server receives it: an Engine.IO message whose data
 * is the Socket.IO packet. */
static int dec_wire(const char *wire, struct sio_packet *p)
{
	struct eio_packet e;
	struct sg_err err = { 0 };

	if (eio_packet_decode(wire, strlen(wire), &e) < 0 || e.type != EIO_MESSAGE)
		return -2;
	return sio_packet_decode(e.data, e.len, MAXA, p, &err);
}

/* Decodes s (Socket.IO level) and checks every field; json NULL means no
 * payload, name NULL means sio_event_name returns NULL. */
static void check_packet(const char *s, int type, unsigned att, const char *nsp, long long id,
			 const char *json, const char *name)
{
	struct sio_packet p;
	struct sg_err err = { 0 };
	int rc = sio_packet_decode(s, strlen(s), MAXA, &p, &err);

	CHECK_INT(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "  %s: %s\n", s, err.msg);
		return;
	}
	CHECK_INT(p.type, type);
	CHECK_INT(p.attachments, att);
	CHECK_MEM(p.nsp, p.nsp_len, nsp);
	CHECK_INT(p.id, id);
	if (json == NULL) {
		CHECK(p.json == NULL && p.json_len == 0 && p.data == NULL);
	} else {
		CHECK(p.json != NULL && p.data != NULL);
		if (p.json != NULL)
			CHECK_MEM(p.json, p.json_len, json);
	}
	if (name == NULL)
		CHECK(sio_event_name(&p) == NULL);
	else
		CHECK_STR(sio_event_name(&p), name);
	sio_packet_fini(&p);
	sio_packet_fini(&p);
}

static void check_reject(const char *s, unsigned max_att, const char *msg_part)
{
	struct sio_packet p;
	struct sg_err err = { 0 };

	CHECK_INT(sio_packet_decode(s, strlen(s), max_att, &p, &err), -1);
	CHECK(p.data == NULL);
	if (strstr(err.msg, msg_part) == NULL)
		fprintf(stderr, "  %s: message '%s' lacks '%s'\n", s, err.msg, msg_part);
	CHECK(strstr(err.msg, msg_part) != NULL);
}

static void check_head(int type, const char *nsp, unsigned att, long long id, const char *want)
{
	struct sg_buf b;

	sg_buf_init(&b);
	sg_buf_append_char(&b, '4'); /* the Engine.IO message type */
	sio_packet_encode_head(&b, (enum sio_type)type, nsp, att, id);
	CHECK_STR(b.data, want);
	sg_buf_fini(&b);
}

static void test_protocol_examples(void)
{
	struct sio_packet p;

	/* 2.3 / 4.1 connect */
	CHECK_INT(dec_wire("40", &p), 0);
	CHECK_INT(p.type, SIO_CONNECT);
	CHECK_MEM(p.nsp, p.nsp_len, "/");
	CHECK_INT(p.id, -1);
	CHECK(p.data == NULL);
	sio_packet_fini(&p);

	CHECK_INT(dec_wire("40{\"token\":\"123\"}", &p), 0);
	CHECK_INT(p.type, SIO_CONNECT);
	CHECK_MEM(p.json, p.json_len, "{\"token\":\"123\"}");
	CHECK_STR(json_string_value(json_object_get(p.data, "token")), "123");
	sio_packet_fini(&p);

	CHECK_INT(dec_wire("40/custom,", &p), 0);
	CHECK_INT(p.type, SIO_CONNECT);
	CHECK_MEM(p.nsp, p.nsp_len, "/custom");
	CHECK(p.data == NULL);
	sio_packet_fini(&p);

	CHECK_INT(dec_wire("40/custom", &p), 0);
	CHECK_MEM(p.nsp, p.nsp_len, "/custom");
	CHECK(p.data == NULL);
	sio_packet_fini(&p);

	CHECK_INT(dec_wire("40/custom,{\"token\":\"abc\"}", &p), 0);
	CHECK_MEM(p.nsp, p.nsp_len, "/custom");
	CHECK_STR(json_string_value(json_object_get(p.data, "token")), "abc");
	sio_packet_fini(&p);

	CHECK_INT(dec_wire("41/custom,", &p), 0);
	CHECK_INT(p.type, SIO_DISCONNECT);
	CHECK_MEM(p.nsp, p.nsp_len, "/custom");
	sio_packet_fini(&p);
	CHECK_INT(dec_wire("41/custom", &p), 0);
	CHECK_MEM(p.nsp, p.nsp_len, "/custom");
	sio_packet_fini(&p);
	CHECK_INT(dec_wire("41", &p), 0);
	CHECK_INT(p.type, SIO_DISCONNECT);
	sio_packet_fini(&p);

	/* 2.2 examples */
	check_packet("2[\"foo\"]", SIO_EVENT, 0, "/", -1, "[\"foo\"]", "foo");
	check_packet("2/admin,[\"bar\"]", SIO_EVENT, 0, "/admin", -1, "[\"bar\"]", "bar");
	check_packet("212[\"foo\"]", SIO_EVENT, 0, "/", 12, "[\"foo\"]", "foo");
	check_packet("3/admin,13[\"bar\"]", SIO_ACK, 0, "/admin", 13, "[\"bar\"]", NULL);
	check_packet("1/admin,", SIO_DISCONNECT, 0, "/admin", -1, NULL, NULL);
	check_packet("2[\"message\",1,\"2\",{\"3\":[true]}]", SIO_EVENT, 0, "/", -1,
		     "[\"message\",1,\"2\",{\"3\":[true]}]", "message");
	check_packet("20[\"hello\",\"world\"]", SIO_EVENT, 0, "/", 0, "[\"hello\",\"world\"]",
		     "hello");
	check_packet("30[{\"got\":\"world\"}]", SIO_ACK, 0, "/", 0, "[{\"got\":\"world\"}]", NULL);
	check_packet("4{\"message\":\"not authorized\",\"data\":{\"code\":42}}", SIO_CONNECT_ERROR,
		     0, "/", -1, "{\"message\":\"not authorized\",\"data\":{\"code\":42}}", NULL);
	check_packet("4/random,{\"message\":\"Invalid namespace\"}", SIO_CONNECT_ERROR, 0,
		     "/random", -1, "{\"message\":\"Invalid namespace\"}", NULL);
	check_packet("0{\"sid\":\"abc\"}", SIO_CONNECT, 0, "/", -1, "{\"sid\":\"abc\"}", NULL);

	/* 4.1 message with ack, over the wire */
	CHECK_INT(dec_wire("42456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]", &p), 0);
	CHECK_INT(p.type, SIO_EVENT);
	CHECK_INT(p.id, 456);
	CHECK_STR(sio_event_name(&p), "message-with-ack");
	CHECK_MEM(p.json, p.json_len, "[\"message-with-ack\",1,\"2\",{\"3\":[false]}]");
	CHECK_INT(json_array_size(p.data), 4);
	sio_packet_fini(&p);

	/* 2.5 / 4.1 binary */
	CHECK_INT(dec_wire("452-789[\"m\",{\"_placeholder\":true,\"num\":0},"
			   "{\"_placeholder\":true,\"num\":1}]",
			   &p),
		  0);
	CHECK_INT(p.type, SIO_BINARY_EVENT);
	CHECK_INT(p.attachments, 2);
	CHECK_INT(p.id, 789);
	CHECK_STR(sio_event_name(&p), "m");
	CHECK_INT(sio_packet_check_placeholders(&p, NULL), 0);
	sio_packet_fini(&p);
	check_packet("51-1[\"bin-up\",{\"_placeholder\":true,\"num\":0}]", SIO_BINARY_EVENT, 1, "/",
		     1, "[\"bin-up\",{\"_placeholder\":true,\"num\":0}]", "bin-up");
	check_packet("52-[\"bin-down\",{\"_placeholder\":true,\"num\":0},"
		     "{\"nested\":{\"_placeholder\":true,\"num\":1}}]",
		     SIO_BINARY_EVENT, 2, "/", -1,
		     "[\"bin-down\",{\"_placeholder\":true,\"num\":0},"
		     "{\"nested\":{\"_placeholder\":true,\"num\":1}}]",
		     "bin-down");
	check_packet("62-/x,7[{\"_placeholder\":true,\"num\":1}]", SIO_BINARY_ACK, 2, "/x", 7,
		     "[{\"_placeholder\":true,\"num\":1}]", NULL);
}

static void test_rejects(void)
{
	struct sio_packet p;
	char *deep;
	size_t i, n = 10000;

	check_reject("abc", MAXA, "unknown packet type");
	check_reject("", MAXA, "empty");
	check_reject("7", MAXA, "unknown packet type");
	check_reject("2{}", MAXA, "invalid payload");
	check_reject("2abc[\"x\"]", MAXA, "invalid payload");
	check_reject("2[]", MAXA, "invalid payload");
	check_reject("2[\"connect\"]", MAXA, "invalid payload");
	check_reject("2[\"connect_error\"]", MAXA, "invalid payload");
	check_reject("2[\"disconnect\"]", MAXA, "invalid payload");
	check_reject("2[\"disconnecting\"]", MAXA, "invalid payload");
	check_reject("2[\"newListener\"]", MAXA, "invalid payload");
	check_reject("2[\"removeListener\",1]", MAXA, "invalid payload");
	check_reject("2[null]", MAXA, "invalid payload");
	check_reject("2[true]", MAXA, "invalid payload");
	check_reject("2[{}]", MAXA, "invalid payload");
	check_reject("2[[\"x\"]]", MAXA, "invalid payload");
	check_reject("2\"x\"", MAXA, "invalid payload");
	check_reject("0[]", MAXA, "invalid payload");
	check_reject("0\"x\"", MAXA, "invalid payload");
	check_reject("0null", MAXA, "invalid payload");
	check_reject("1{}", MAXA, "invalid payload");
	check_reject("1/a,{}", MAXA, "invalid payload");
	check_reject("4[]", MAXA, "invalid payload");
	check_reject("3{}", MAXA, "invalid payload");
	check_reject("3\"x\"", MAXA, "invalid payload");
	check_reject("6-{}", MAXA, "illegal attachments");
	check_reject("61-{}", MAXA, "invalid payload");
	check_reject("51-{}", MAXA, "invalid payload");
	check_reject("51-[{\"_placeholder\":true,\"num\":0}]", MAXA, "invalid payload");
	/* attachments */
	check_reject("5[\"x\"]", MAXA, "illegal attachments");
	check_reject("5-[\"x\"]", MAXA, "illegal attachments");
	check_reject("50-[\"x\"]", MAXA, "illegal attachments");
	check_reject("5a-[\"x\"]", MAXA, "illegal attachments");
	check_reject("51.5-[\"x\"]", MAXA, "illegal attachments");
	check_reject("5Infinity-[\"x\"]", MAXA, "illegal attachments");
	check_reject("5-1-[\"x\"]", MAXA, "illegal attachments");
	check_reject("511-[\"x\"]", MAXA, "too many attachments");
	check_reject("52-[\"x\"]", 1, "too many attachments");
	/* bad JSON */
	check_reject("2[\"x\"", MAXA, "invalid payload");
	check_reject("2[\"x\"]]", MAXA, "invalid payload");
	check_reject("2[\"x\",]", MAXA, "invalid payload");
	check_reject("2[01]", MAXA, "invalid payload");
	check_reject("2['x']", MAXA, "invalid payload");
	check_reject("2[\"a\x01\"]", MAXA, "invalid payload");
	check_reject("2[\"\xff\"]", MAXA, "invalid payload");
	check_reject("2[1E400]", MAXA, "invalid payload");
	/* ack ids Node would read as NaN or round */
	check_reject("21 2[\"x\"]", MAXA, "ack id");
	check_reject("29007199254740992[\"x\"]", MAXA, "ack id");
	check_reject("299999999999999999999999[\"x\"]", MAXA, "ack id");

	/* 10000 levels of nesting: a clean error, no crash */
	deep = malloc(2 * n + 2);
	deep[0] = '2';
	for (i = 0; i < n; i++) {
		deep[1 + i] = '[';
		deep[1 + n + i] = ']';
	}
	deep[1 + 2 * n] = '\0';
	check_reject(deep, MAXA, "invalid payload");
	/* ... while 100 levels under an event name are fine */
	strcpy(deep, "2[\"deep\",");
	for (i = 0; i < 100; i++)
		strcat(deep, "[");
	for (i = 0; i < 101; i++)
		strcat(deep, "]");
	CHECK_INT(dec(deep, &p), 0);
	sio_packet_fini(&p);
	free(deep);
}

/* Corners where JS's Number() shapes what socket.io-parser accepts; every
 * expectation here is what decodeString returned under Node 20. */
static void test_js_corners(void)
{
	struct sio_packet p;
	struct sg_err err = { 0 };

	/* no payload passes for every type */
	check_packet("2", SIO_EVENT, 0, "/", -1, NULL, NULL);
	check_packet("3", SIO_ACK, 0, "/", -1, NULL, NULL);
	check_packet("4", SIO_CONNECT_ERROR, 0, "/", -1, NULL, NULL);
	check_packet("51-", SIO_BINARY_EVENT, 1, "/", -1, NULL, NULL);
	check_packet("51-/a,1", SIO_BINARY_EVENT, 1, "/a", 1, NULL, NULL);
	/* the namespace runs to ',' or the end */
	check_packet("2/a", SIO_EVENT, 0, "/a", -1, NULL, NULL);
	check_packet("2/", SIO_EVENT, 0, "/", -1, NULL, NULL);
	check_packet("2/,", SIO_EVENT, 0, "/", -1, NULL, NULL);
	check_packet("2/a/b,[\"x\"]", SIO_EVENT, 0, "/a/b", -1, "[\"x\"]", "x");
	check_packet("2/a,007[\"x\"]", SIO_EVENT, 0, "/a", 7, "[\"x\"]", "x");
	check_packet("0/a,{}", SIO_CONNECT, 0, "/a", -1, "{}", NULL);
	/* whitespace is a digit to Number(): the type, the id */
	check_reject(" [\"x\"]", MAXA, "invalid payload");
	check_packet(" 5", SIO_CONNECT, 0, "/", 5, NULL, NULL);
	check_packet(" /x,{}", SIO_CONNECT, 0, "/x", -1, "{}", NULL);
	check_packet("\xc2\xa0/x,{}", SIO_CONNECT, 0, "/x", -1, "{}", NULL);
	check_packet("2 [\"x\"]", SIO_EVENT, 0, "/", 0, "[\"x\"]", "x");
	check_packet("2  12[\"x\"]", SIO_EVENT, 0, "/", 12, "[\"x\"]", "x");
	check_packet("2\xc2\xa0[\"x\"]", SIO_EVENT, 0, "/", 0, "[\"x\"]", "x");
	check_packet("2\xef\xbb\xbf[\"x\"]", SIO_EVENT, 0, "/", 0, "[\"x\"]", "x");
	check_packet("2\xe3\x80\x80[\"x\"]", SIO_EVENT, 0, "/", 0, "[\"x\"]", "x");
	check_packet("0\t{}", SIO_CONNECT, 0, "/", 0, "{}", NULL);
	check_packet("29007199254740991[\"x\"]", SIO_EVENT, 0, "/", SIO_MAX_ACK_ID, "[\"x\"]", "x");
	/* attachment counts are any JS numeric string */
	check_packet("51e1-[\"x\"]", SIO_BINARY_EVENT, 10, "/", -1, "[\"x\"]", "x");
	check_packet("50x2-[\"x\"]", SIO_BINARY_EVENT, 2, "/", -1, "[\"x\"]", "x");
	check_packet("50b10-[\"x\"]", SIO_BINARY_EVENT, 2, "/", -1, "[\"x\"]", "x");
	check_packet("50o7-[\"x\"]", SIO_BINARY_EVENT, 7, "/", -1, "[\"x\"]", "x");
	check_packet("51.0-[\"x\"]", SIO_BINARY_EVENT, 1, "/", -1, "[\"x\"]", "x");
	check_packet("5+1-[\"x\"]", SIO_BINARY_EVENT, 1, "/", -1, "[\"x\"]", "x");
	check_packet("5 1-[\"x\"]", SIO_BINARY_EVENT, 1, "/", -1, "[\"x\"]", "x");
	check_packet("5.5e1-[\"x\"]", SIO_BINARY_EVENT, 5, "/", -1, "[\"x\"]", "x");
	/* JSON.parse trims JSON whitespace; duplicate keys: last wins */
	check_packet("2[\"x\"] \n", SIO_EVENT, 0, "/", -1, "[\"x\"] \n", "x");
	CHECK_INT(dec("0{\"a\":1,\"a\":2}", &p), 0);
	CHECK_INT(json_integer_value(json_object_get(p.data, "a")), 2);
	sio_packet_fini(&p);
	/* CONNECT_ERROR may be a string */
	check_packet("4\"err\"", SIO_CONNECT_ERROR, 0, "/", -1, "\"err\"", NULL);
	/* a CONNECT_ERROR with an id and no payload */
	check_packet("43", SIO_CONNECT_ERROR, 0, "/", 3, NULL, NULL);
	/* the 5 attachments of ".5e1" against the given maximum */
	CHECK_INT(sio_packet_decode("5.5e1-[\"x\"]", 11, 5, &p, &err), 0);
	sio_packet_fini(&p);
	CHECK_INT(sio_packet_decode("5.5e1-[\"x\"]", 11, 4, &p, &err), -1);
	CHECK(strstr(err.msg, "too many attachments") != NULL);
}

static void test_event_names(void)
{
	struct sio_packet p;

	check_packet("2[1,2]", SIO_EVENT, 0, "/", -1, "[1,2]", "1");
	check_packet("2[1.0]", SIO_EVENT, 0, "/", -1, "[1.0]", "1");
	check_packet("2[-0]", SIO_EVENT, 0, "/", -1, "[-0]", "0");
	check_packet("2[100]", SIO_EVENT, 0, "/", -1, "[100]", "100");
	check_packet("2[0.1]", SIO_EVENT, 0, "/", -1, "[0.1]", "0.1");
	check_packet("2[-0.5]", SIO_EVENT, 0, "/", -1, "[-0.5]", "-0.5");
	check_packet("2[1e21]", SIO_EVENT, 0, "/", -1, "[1e21]", "1e+21");
	check_packet("2[1e20]", SIO_EVENT, 0, "/", -1, "[1e20]", "100000000000000000000");
	check_packet("2[1e-7]", SIO_EVENT, 0, "/", -1, "[1e-7]", "1e-7");
	check_packet("2[0.000001]", SIO_EVENT, 0, "/", -1, "[0.000001]", "0.000001");
	check_packet("2[1.5e300]", SIO_EVENT, 0, "/", -1, "[1.5e300]", "1.5e+300");
	check_packet("2[123.456]", SIO_EVENT, 0, "/", -1, "[123.456]", "123.456");
	check_packet("2[123456789012345678901234]", SIO_EVENT, 0, "/", -1,
		     "[123456789012345678901234]", "1.2345678901234569e+23");
	check_packet("2[9007199254740993]", SIO_EVENT, 0, "/", -1, "[9007199254740993]",
		     "9007199254740992");
	check_packet("2[\"connectx\"]", SIO_EVENT, 0, "/", -1, "[\"connectx\"]", "connectx");
	check_packet("2[\"Connect\"]", SIO_EVENT, 0, "/", -1, "[\"Connect\"]", "Connect");
	/* an integer beyond int64 is still accepted (JS reads it as a double) */
	check_packet("2[\"x\",99999999999999999999]", SIO_EVENT, 0, "/", -1,
		     "[\"x\",99999999999999999999]", "x");
	/* escapes: a lone surrogate is accepted (U+FFFD in data, raw json kept),
	 * a pair is decoded, an escaped backslash is not an escape */
	check_packet("2[\"a\\ud800\"]", SIO_EVENT, 0, "/", -1, "[\"a\\ud800\"]", "a\xef\xbf\xbd");
	check_packet("2[\"\\udc00b\",\"\\ud800\"]", SIO_EVENT, 0, "/", -1,
		     "[\"\\udc00b\",\"\\ud800\"]",
		     "\xef\xbf\xbd"
		     "b");
	check_packet("2[\"\\ud83d\\ude00\"]", SIO_EVENT, 0, "/", -1, "[\"\\ud83d\\ude00\"]",
		     "\xf0\x9f\x98\x80");
	check_packet("2[\"\\\\ud800\"]", SIO_EVENT, 0, "/", -1, "[\"\\\\ud800\"]", "\\ud800");
	/* NUL inside the name: allowed, and its length says so */
	CHECK_INT(dec("2[\"a\\u0000b\"]", &p), 0);
	CHECK_INT(sio_event_name_len(&p), 3);
	CHECK(memcmp(sio_event_name(&p), "a\0b", 3) == 0);
	sio_packet_fini(&p);
	CHECK_INT(dec("2[12.5]", &p), 0);
	CHECK_INT(sio_event_name_len(&p), 4);
	sio_packet_fini(&p);
	CHECK_INT(dec("3[\"x\"]", &p), 0);
	CHECK(sio_event_name(&p) == NULL);
	CHECK_INT(sio_event_name_len(&p), 0);
	sio_packet_fini(&p);
}

static int check_ph(const char *s)
{
	struct sio_packet p;
	struct sg_err err = { 0 };
	int rc;

	if (dec(s, &p) < 0)
		return -2;
	rc = sio_packet_check_placeholders(&p, &err);
	if (rc < 0)
		CHECK(strstr(err.msg, "illegal attachments") != NULL);
	sio_packet_fini(&p);
	return rc;
}

static void test_placeholders(void)
{
	CHECK_INT(check_ph("52-[\"m\",{\"_placeholder\":true,\"num\":0},"
			   "{\"_placeholder\":true,\"num\":1}]"),
		  0);
	CHECK_INT(check_ph("52-[\"m\",{\"a\":[{\"b\":{\"_placeholder\":true,\"num\":1}}]}]"), 0);
	CHECK_INT(check_ph("52-[\"m\",{\"_placeholder\":true,\"num\":1.0}]"), 0);
	/* Node does not require every attachment to be referenced */
	CHECK_INT(check_ph("52-[\"m\"]"), 0);
	CHECK_INT(check_ph("52-[\"m\",{\"_placeholder\":true,\"num\":0},"
			   "{\"_placeholder\":true,\"num\":0}]"),
		  0);
	/* only _placeholder === true marks a placeholder ... */
	CHECK_INT(check_ph("51-[\"m\",{\"_placeholder\":\"true\",\"num\":5}]"), 0);
	CHECK_INT(check_ph("51-[\"m\",{\"_placeholder\":1,\"num\":5}]"), 0);
	/* ... and its own members are not searched */
	CHECK_INT(check_ph("51-[\"m\",{\"_placeholder\":true,\"num\":0,"
			   "\"x\":{\"_placeholder\":true,\"num\":9}}]"),
		  0);
	/* out of range, negative, fractional, non-number, missing */
	CHECK_INT(check_ph("52-[\"m\",{\"_placeholder\":true,\"num\":2}]"), -1);
	CHECK_INT(check_ph("52-[\"m\",{\"x\":[{\"_placeholder\":true,\"num\":7}]}]"), -1);
	CHECK_INT(check_ph("51-[\"m\",{\"_placeholder\":true,\"num\":-1}]"), -1);
	CHECK_INT(check_ph("52-[\"m\",{\"_placeholder\":true,\"num\":0.5}]"), -1);
	CHECK_INT(check_ph("51-[\"m\",{\"_placeholder\":true,\"num\":\"0\"}]"), -1);
	CHECK_INT(check_ph("51-[\"m\",{\"_placeholder\":true}]"), -1);
	CHECK_INT(check_ph("61-[{\"_placeholder\":true,\"num\":1}]"), -1);
	/* non-binary packets are never reconstructed */
	CHECK_INT(check_ph("2[\"m\",{\"_placeholder\":true,\"num\":3}]"), 0);
	/* no payload */
	CHECK_INT(check_ph("51-"), 0);
}

static void test_encode_head(void)
{
	check_head(SIO_EVENT, "/", 0, -1, "42");
	check_head(SIO_EVENT, NULL, 0, -1, "42");
	check_head(SIO_EVENT, "", 0, -1, "42");
	check_head(SIO_EVENT, "/admin", 0, -1, "42/admin,");
	check_head(SIO_EVENT, "/", 0, 12, "4212");
	check_head(SIO_EVENT, "/", 3, 0, "420");
	check_head(SIO_BINARY_EVENT, "/", 2, -1, "452-");
	check_head(SIO_BINARY_ACK, "/x", 2, 7, "462-/x,7");
	check_head(SIO_CONNECT, "/custom", 0, -1, "40/custom,");
	check_head(SIO_CONNECT_ERROR, "/random", 0, -1, "44/random,");
	check_head(SIO_DISCONNECT, "/", 0, -1, "41");
	check_head(SIO_ACK, "/", 0, 456, "43456");
	check_head(SIO_ACK, "/a", 0, SIO_MAX_ACK_ID, "43/a,9007199254740991");
}

/* Encoding a head and appending the JSON gives back the same packet. */
static void test_round_trip(void)
{
	struct sg_buf b;
	struct sio_packet p;
	struct sg_err err = { 0 };

	sg_buf_init(&b);
	sio_packet_encode_head(&b, SIO_BINARY_ACK, "/chat", 3, 42);
	sg_buf_append_str(&b, "[{\"_placeholder\":true,\"num\":2}]");
	CHECK_INT(sio_packet_decode(b.data, b.len, MAXA, &p, &err), 0);
	CHECK_INT(p.type, SIO_BINARY_ACK);
	CHECK_INT(p.attachments, 3);
	CHECK_MEM(p.nsp, p.nsp_len, "/chat");
	CHECK_INT(p.id, 42);
	CHECK_INT(sio_packet_check_placeholders(&p, &err), 0);
	sio_packet_fini(&p);
	sg_buf_fini(&b);
}

int main(void)
{
	RUN(test_protocol_examples);
	RUN(test_rejects);
	RUN(test_js_corners);
	RUN(test_event_names);
	RUN(test_placeholders);
	RUN(test_encode_head);
	RUN(test_round_trip);
	return UNIT_END();
}
