/*
 * test_eio_packet.c: Engine.IO v4 packet and polling-payload codec, with the
 * examples of PROTOCOL.md sections 1.3 and 1.4.
 */
#include "proto/eio_packet.h"
#include "unit.h"

/* Records every delivered packet as "<type>[b]:<hex or text>|". */
struct record {
	struct sg_buf log;
	int calls;
	int stop_at; /* return 5 on this call (1-based); 0 never */
};

static int record_cb(const struct eio_packet *p, void *arg);
static int decode_log(const char *s, size_t len, size_t max, struct record *r);

static int record_cb(const struct eio_packet *p, void *arg)
{
	struct record *r = arg;
	size_t i;

	r->calls++;
	sg_buf_printf(&r->log, "%d%s:", (int)p->type, p->binary ? "b" : "");
	if (p->binary) {
		for (i = 0; i < p->len; i++)
			sg_buf_printf(&r->log, "%02x", (unsigned char)p->data[i]);
	} else {
		sg_buf_append(&r->log, p->data, p->len);
	}
	sg_buf_append_char(&r->log, '|');
	return r->calls == r->stop_at ? 5 : 0;
}

static int decode_log(const char *s, size_t len, size_t max, struct record *r)
{
	sg_buf_reset(&r->log);
	sg_buf_append(&r->log, "", 0);
	r->calls = 0;
	return eio_payload_decode(s, len, max, record_cb, r);
}

static void test_packet_decode(void)
{
	struct eio_packet p;
	struct sg_buf scratch;

	CHECK_INT(eio_packet_decode("4hello", 6, &p), 0);
	CHECK_INT(p.type, EIO_MESSAGE);
	CHECK_INT(p.binary, 0);
	CHECK_MEM(p.data, p.len, "hello");
	CHECK_INT(eio_packet_decode("2", 1, &p), 0);
	CHECK_INT(p.type, EIO_PING);
	CHECK_INT(p.len, 0);
	CHECK_INT(eio_packet_decode("3probe", 6, &p), 0);
	CHECK_INT(p.type, EIO_PONG);
	CHECK_MEM(p.data, p.len, "probe");
	CHECK_INT(eio_packet_decode("0{}", 3, &p), 0);
	CHECK_INT(p.type, EIO_OPEN);
	CHECK_INT(eio_packet_decode("1", 1, &p), 0);
	CHECK_INT(p.type, EIO_CLOSE);
	CHECK_INT(eio_packet_decode("5", 1, &p), 0);
	CHECK_INT(p.type, EIO_UPGRADE);
	CHECK_INT(eio_packet_decode("6", 1, &p), 0);
	CHECK_INT(p.type, EIO_NOOP);
	/* the data is taken as-is, including separators and NULs */
	CHECK_INT(eio_packet_decode("4a\0b", 4, &p), 0);
	CHECK_INT(p.len, 3);

	CHECK_INT(eio_packet_decode("", 0, &p), -1);
	CHECK_INT(eio_packet_decode("abc", 3, &p), -1);
	CHECK_INT(eio_packet_decode("7", 1, &p), -1);
	CHECK_INT(eio_packet_decode("/4", 2, &p), -1);
	CHECK_INT(eio_packet_decode(" 4", 2, &p), -1);
	CHECK_INT(eio_packet_decode("bAQID", 5, &p), -1);
	/* only the first len bytes count */
	CHECK_INT(eio_packet_decode("4hello", 0, &p), -1);

	sg_buf_init(&scratch);
	CHECK_INT(eio_packet_decode_any("bAQIDBA==", 9, &scratch, &p), 0);
	CHECK_INT(p.type, EIO_MESSAGE);
	CHECK_INT(p.binary, 1);
	CHECK_INT(p.len, 4);
	CHECK(memcmp(p.data, "\x01\x02\x03\x04", 4) == 0);
	CHECK_INT(eio_packet_decode_any("b", 1, &scratch, &p), 0);
	CHECK_INT(p.binary, 1);
	CHECK_INT(p.len, 0);
	CHECK_INT(eio_packet_decode_any("4hi", 3, &scratch, &p), 0);
	CHECK_INT(p.binary, 0);
	CHECK_MEM(p.data, p.len, "hi");
	CHECK_INT(eio_packet_decode_any("b!!!!", 5, &scratch, &p), -1);
	CHECK_INT(eio_packet_decode_any("bAQI=", 5, &scratch, &p), 0);
	CHECK_INT(p.len, 2);
	CHECK(memcmp(p.data, "\x01\x02", 2) == 0);
	/* unpadded: Node's Buffer.from accepts it, siogate does not */
	CHECK_INT(eio_packet_decode_any("bAQI", 4, &scratch, &p), -1);
	CHECK_INT(eio_packet_decode_any("bAQ", 3, &scratch, &p), -1);
	CHECK_INT(eio_packet_decode_any("bAQ-_", 5, &scratch, &p), -1);
	CHECK_INT(eio_packet_decode_any("", 0, &scratch, &p), -1);
	CHECK_INT(eio_packet_decode_any("x", 1, &scratch, &p), -1);
	sg_buf_fini(&scratch);
}

static void test_payload_decode(void)
{
	struct record r = { .stop_at = 0 };
	const char *s;

	sg_buf_init(&r.log);
	s = "4hello\x1e"
	    "2\x1e"
	    "4world";
	CHECK_INT(decode_log(s, strlen(s), 16, &r), 0);
	CHECK_STR(r.log.data, "4:hello|2:|4:world|");

	s = "4hello\x1e"
	    "bAQIDBA==";
	CHECK_INT(decode_log(s, strlen(s), 16, &r), 0);
	CHECK_STR(r.log.data, "4:hello|4b:01020304|");

	/* PROTOCOL.md 1.4, a GET body as Node wrote it */
	s = "40{\"sid\":\"bBVm\"}\x1e"
	    "42[\"welcome\",\"plain\"]\x1e"
	    "452-[\"bin-down\",{\"_placeholder\":true,\"num\":0}]\x1e"
	    "bAQID\x1e"
	    "bBA==\x1e"
	    "420[\"server-ask\",7]";
	CHECK_INT(decode_log(s, strlen(s), 16, &r), 0);
	CHECK_INT(r.calls, 6);
	CHECK_STR(r.log.data,
		  "4:0{\"sid\":\"bBVm\"}|4:2[\"welcome\",\"plain\"]|"
		  "4:52-[\"bin-down\",{\"_placeholder\":true,\"num\":0}]|4b:010203|4b:04|"
		  "4:20[\"server-ask\",7]|");

	/* single packet, and a close packet */
	CHECK_INT(decode_log("1", 1, 1, &r), 0);
	CHECK_STR(r.log.data, "1:|");

	/* errors: nothing delivered for the bad packet or after it */
	CHECK_INT(decode_log("abc", 3, 16, &r), -1);
	CHECK_INT(r.calls, 0);
	CHECK_INT(decode_log("", 0, 16, &r), -1);
	CHECK_INT(r.calls, 0);
	CHECK_INT(decode_log("\x1e", 1, 16, &r), -1);
	CHECK_INT(r.calls, 0);
	s = "4a\x1e";
	CHECK_INT(decode_log(s, strlen(s), 16, &r), -1);
	CHECK_STR(r.log.data, "4:a|");
	s = "4a\x1e\x1e"
	    "4b";
	CHECK_INT(decode_log(s, strlen(s), 16, &r), -1);
	CHECK_STR(r.log.data, "4:a|");
	s = "4a\x1e"
	    "bA!==\x1e"
	    "4c";
	CHECK_INT(decode_log(s, strlen(s), 16, &r), -1);
	CHECK_STR(r.log.data, "4:a|");
	s = "4a\x1e"
	    "9\x1e"
	    "4c";
	CHECK_INT(decode_log(s, strlen(s), 16, &r), -1);
	CHECK_STR(r.log.data, "4:a|");
	s = "bA\x1e"
	    "4c";
	CHECK_INT(decode_log(s, strlen(s), 16, &r), -1);
	CHECK_INT(r.calls, 0);

	/* max_packets: checked before any delivery */
	s = "4a\x1e"
	    "4b\x1e"
	    "4c";
	CHECK_INT(decode_log(s, strlen(s), 3, &r), 0);
	CHECK_INT(r.calls, 3);
	CHECK_INT(decode_log(s, strlen(s), 2, &r), -1);
	CHECK_INT(r.calls, 0);
	CHECK_INT(decode_log("4a", 2, 0, &r), -1);

	/* a non-zero callback result stops and is returned */
	r.stop_at = 2;
	CHECK_INT(decode_log(s, strlen(s), 3, &r), 5);
	CHECK_STR(r.log.data, "4:a|4:b|");
	sg_buf_fini(&r.log);
}

static void test_encode(void)
{
	struct sg_buf out;
	struct record r = { .stop_at = 0 };

	sg_buf_init(&out);
	eio_payload_append_text(&out, EIO_MESSAGE, "hello", 5);
	CHECK_STR(out.data, "4hello");
	eio_payload_append_text(&out, EIO_PING, NULL, 0);
	CHECK_STR(out.data, "4hello\x1e"
			    "2");
	eio_payload_append_binary(&out, "\x01\x02\x03\x04", 4);
	CHECK_STR(out.data, "4hello\x1e"
			    "2\x1e"
			    "bAQIDBA==");
	eio_payload_append_binary(&out, "", 0);
	eio_payload_append_text(&out, EIO_NOOP, "", 0);
	CHECK_STR(out.data, "4hello\x1e"
			    "2\x1e"
			    "bAQIDBA==\x1e"
			    "b\x1e"
			    "6");

	/* round trip */
	sg_buf_init(&r.log);
	CHECK_INT(decode_log(out.data, out.len, 16, &r), 0);
	CHECK_STR(r.log.data, "4:hello|2:|4b:01020304|4b:|6:|");
	sg_buf_fini(&r.log);

	/* binary first, then text */
	sg_buf_reset(&out);
	eio_payload_append_binary(&out, "\x01\x02\x03", 3);
	eio_payload_append_text(&out, EIO_CLOSE, NULL, 0);
	CHECK_STR(out.data, "bAQID\x1e"
			    "1");

	/* a single packet never gets a separator */
	sg_buf_reset(&out);
	sg_buf_append_str(&out, "x");
	eio_packet_append(&out, EIO_PONG, "probe", 5);
	CHECK_STR(out.data, "x3probe");
	sg_buf_fini(&out);
}

int main(void)
{
	RUN(test_packet_decode);
	RUN(test_payload_decode);
	RUN(test_encode);
	return UNIT_END();
}
