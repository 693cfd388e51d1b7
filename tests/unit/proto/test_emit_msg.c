/*
 * test_emit_msg.c: the JSON emit message parser (JSON channel, admin emit).
 */
#include <stdlib.h>

#include "proto/emit_msg.h"
#include "unit.h"

static int parse(const char *s, struct emit_msg *m, struct sg_err *e)
{
	return emit_msg_parse(s, strlen(s), m, e);
}

static void test_full_message(void)
{
	struct emit_msg m;
	struct sg_err e = { 0 };

	CHECK_INT(parse("{\"nsp\":\"/admin\",\"to\":[\"r1\",\"r2\"],\"except\":\"r3\","
			"\"event\":\"alert\",\"data\":{\"level\":\"warning\",\"x\":0.1}}",
			&m, &e),
		  0);
	CHECK_STR(m.nsp, "/admin");
	CHECK_INT(m.to.n, 2);
	CHECK_STR(m.to.v[1], "r2");
	CHECK_INT(m.except.n, 1);
	CHECK_STR(m.except.v[0], "r3");
	CHECK_MEM(m.args, m.args_len, "[\"alert\",{\"level\":\"warning\",\"x\":0.1}]");
	emit_msg_fini(&m);
}

static void test_defaults_and_numbers(void)
{
	struct emit_msg m;
	struct sg_err e = { 0 };

	CHECK_INT(parse("{\"event\":\"e\"}", &m, &e), 0);
	CHECK_STR(m.nsp, "/");
	CHECK_INT(m.to.n, 0);
	CHECK_MEM(m.args, m.args_len, "[\"e\"]");
	emit_msg_fini(&m);
	/* numbers as JavaScript writes them, unknown fields ignored */
	CHECK_INT(parse("{\"event\":\"n\",\"data\":[1e21,1.5e-7,-0.0,100,\"\\u0001\"],\"x\":[]}",
			&m, &e),
		  0);
	CHECK_MEM(m.args, m.args_len, "[\"n\",[1e+21,1.5e-7,0,100,\"\\u0001\"]]");
	emit_msg_fini(&m);
}

static void test_errors(void)
{
	static const char *const bad[] = {
		"",
		"{bad",
		"[1]",
		"\"str\"",
		"{}",
		"{\"event\":\"\"}",
		"{\"event\":1}",
		"{\"event\":\"connect\"}",
		"{\"event\":\"disconnect\"}",
		"{\"event\":\"x\",\"nsp\":\"admin\"}",
		"{\"event\":\"x\",\"to\":[1]}",
		"{\"event\":\"x\",\"to\":{}}",
		"{\"event\":\"x\",\"except\":[\"\"]}",
		"{\"event\":\"x\",\"event\":\"y\"}",
	};
	struct emit_msg m;
	struct sg_err e;

	for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
		e.msg[0] = '\0';
		CHECK_INT(parse(bad[i], &m, &e), -1);
		CHECK(e.msg[0] != '\0');
	}
}

static void test_depth_bound(void)
{
	struct sg_buf b;
	struct emit_msg m;
	struct sg_err e = { 0 };

	sg_buf_init(&b);
	sg_buf_append_str(&b, "{\"event\":\"deep\",\"data\":");
	for (int i = 0; i < 100; i++)
		sg_buf_append_char(&b, '[');
	for (int i = 0; i < 100; i++)
		sg_buf_append_char(&b, ']');
	sg_buf_append_char(&b, '}');
	CHECK_INT(emit_msg_parse(b.data, b.len, &m, &e), -1);
	sg_buf_fini(&b);
}

static void test_volatile_and_ack(void)
{
	struct emit_msg m;
	struct sg_err e = { 0 };
	const char *ok = "{\"event\":\"q\",\"volatile\":true,"
			 "\"ack\":{\"timeout\":\"5s\",\"reply_to\":\"answers\"}}";

	CHECK_INT(emit_msg_parse(ok, strlen(ok), &m, &e), 0);
	CHECK(m.is_volatile);
	CHECK(m.has_ack);
	CHECK_STR(m.ack_timeout, "5s");
	CHECK_STR(m.ack_reply_to, "answers");
	emit_msg_fini(&m);
	/* milliseconds as a number; reply_to optional here */
	ok = "{\"event\":\"q\",\"ack\":{\"timeout\":1500}}";
	CHECK_INT(emit_msg_parse(ok, strlen(ok), &m, &e), 0);
	CHECK(!m.is_volatile);
	CHECK_STR(m.ack_timeout, "1500");
	CHECK(m.ack_reply_to == NULL);
	emit_msg_fini(&m);
	ok = "{\"event\":\"q\",\"ack\":{\"timeout\":\"1s\",\"reply_stream\":\"s\",\"id\":\"x\"}}";
	CHECK_INT(emit_msg_parse(ok, strlen(ok), &m, &e), 0);
	CHECK(m.ack_reply_to == NULL);
	CHECK_STR(m.ack_reply_stream, "s");
	CHECK_STR(m.ack_id, "x");
	emit_msg_fini(&m);
	ok = "{\"event\":\"q\",\"ack\":null,\"volatile\":false}";
	CHECK_INT(emit_msg_parse(ok, strlen(ok), &m, &e), 0);
	CHECK(!m.has_ack);
	emit_msg_fini(&m);
	static const char *const bad[] = {
		"{\"event\":\"q\",\"volatile\":1}",
		"{\"event\":\"q\",\"ack\":true}",
		"{\"event\":\"q\",\"ack\":{}}",
		"{\"event\":\"q\",\"ack\":{\"timeout\":0}}",
		"{\"event\":\"q\",\"ack\":{\"timeout\":\"\"}}",
		"{\"event\":\"q\",\"ack\":{\"timeout\":\"1s\",\"reply_to\":\"\"}}",
		"{\"event\":\"q\",\"ack\":{\"timeout\":\"1s\",\"reply_to\":7}}",
		"{\"event\":\"q\",\"ack\":{\"timeout\":\"1s\",\"reply_to\":\"c\",\"reply_stream\":\"s\"}}",
		"{\"event\":\"q\",\"ack\":{\"timeout\":\"1s\",\"id\":5}}",
		/* an ack parsed, then a bad "to": nothing leaks */
		"{\"event\":\"q\",\"ack\":{\"timeout\":\"1s\",\"reply_to\":\"c\"},\"to\":[1]}",
	};
	for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
		CHECK_INT(emit_msg_parse(bad[i], strlen(bad[i]), &m, &e), -1);
}

int main(void)
{
	RUN(test_full_message);
	RUN(test_defaults_and_numbers);
	RUN(test_errors);
	RUN(test_depth_bound);
	RUN(test_volatile_and_ack);
	return UNIT_END();
}
