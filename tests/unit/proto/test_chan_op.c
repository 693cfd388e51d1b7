/*
 * test_chan_op.c: the JSON channel's messages (chan_op.c): an emit without
 * "op", the operations with "op" (disconnect by user or by to, join and
 * leave with rooms, nsp, origin), what makes an operation malformed (told
 * apart from a malformed emit), and chan_op_write read back.
 */
#include <stdlib.h>

#include "proto/chan_op.h"
#include "unit.h"

static int parse(const char *s, struct chan_msg *m, struct sg_err *e)
{
	return chan_msg_parse(s, strlen(s), m, e);
}

static int op_parse(const char *s, enum chan_op_kind kind, struct chan_op *op, struct sg_err *e)
{
	return chan_op_parse(s, strlen(s), kind, op, e);
}

static void test_emit_without_op(void)
{
	struct chan_msg m;
	struct sg_err e = { 0 };

	CHECK_INT(parse("{\"to\":\"r\",\"event\":\"e\",\"data\":1}", &m, &e), 0);
	CHECK(!m.is_op);
	CHECK_STR(m.emit.nsp, "/");
	CHECK_STR(m.emit.to.v[0], "r");
	CHECK_MEM(m.emit.args, m.emit.args_len, "[\"e\",1]");
	chan_msg_fini(&m);
	/* a bad emit is not an operation */
	CHECK_INT(parse("{\"event\":\"disconnect\"}", &m, &e), -1);
	CHECK(!m.is_op);
	CHECK_INT(parse("{bad", &m, &e), -1);
	CHECK(!m.is_op);
}

static void test_disconnect(void)
{
	struct chan_msg m;
	struct sg_err e = { 0 };

	CHECK_INT(parse("{\"op\":\"disconnect\",\"user\":\"alice\"}", &m, &e), 0);
	CHECK(m.is_op);
	CHECK_INT(m.op.kind, CHAN_OP_DISCONNECT);
	CHECK_STR(m.op.user, "alice");
	CHECK_INT(m.op.to.n, 0);
	CHECK(m.op.nsp == NULL);
	CHECK(m.op.origin == NULL);
	chan_msg_fini(&m);

	/* to: a string or an array; nsp and origin; an event is ignored */
	CHECK_INT(parse("{\"op\":\"disconnect\",\"to\":[\"room\",\"sid\"],\"nsp\":\"/chat\","
			"\"origin\":\"abcdef\",\"event\":\"x\",\"user\":null}",
			&m, &e),
		  0);
	CHECK(m.op.user == NULL);
	CHECK_INT(m.op.to.n, 2);
	CHECK_STR(m.op.to.v[1], "sid");
	CHECK_STR(m.op.nsp, "/chat");
	CHECK_STR(m.op.origin, "abcdef");
	CHECK_INT(m.op.rooms.n, 0);
	chan_msg_fini(&m);
	CHECK_INT(parse("{\"op\":\"disconnect\",\"to\":\"one\"}", &m, &e), 0);
	CHECK_INT(m.op.to.n, 1);
	chan_msg_fini(&m);
}

static void test_join_leave(void)
{
	struct chan_msg m;
	struct sg_err e = { 0 };

	CHECK_INT(parse("{\"op\":\"join\",\"user\":\"bob\",\"rooms\":[\"a\",\"b\"]}", &m, &e), 0);
	CHECK_INT(m.op.kind, CHAN_OP_JOIN);
	CHECK_INT(m.op.rooms.n, 2);
	CHECK_STR(m.op.rooms.v[0], "a");
	chan_msg_fini(&m);
	CHECK_INT(parse("{\"op\":\"leave\",\"to\":[\"x\"],\"rooms\":\"a\"}", &m, &e), 0);
	CHECK_INT(m.op.kind, CHAN_OP_LEAVE);
	CHECK_INT(m.op.rooms.n, 1);
	chan_msg_fini(&m);
	CHECK_STR(chan_op_name(CHAN_OP_LEAVE), "leave");
	CHECK_STR(chan_op_name(CHAN_OP__COUNT), "unknown");
}

static void test_malformed_ops(void)
{
	static const char *const bad[] = {
		"{\"op\":\"explode\",\"user\":\"a\"}",
		"{\"op\":5,\"user\":\"a\"}",
		"{\"op\":null,\"user\":\"a\"}",
		"{\"op\":\"disconnect\"}",
		"{\"op\":\"disconnect\",\"user\":\"a\",\"to\":\"r\"}",
		"{\"op\":\"disconnect\",\"user\":\"\"}",
		"{\"op\":\"disconnect\",\"user\":7}",
		"{\"op\":\"disconnect\",\"to\":[]}",
		"{\"op\":\"disconnect\",\"to\":[\"\"]}",
		"{\"op\":\"disconnect\",\"to\":\"\"}",
		"{\"op\":\"disconnect\",\"to\":[1]}",
		"{\"op\":\"disconnect\",\"to\":{}}",
		"{\"op\":\"disconnect\",\"user\":\"a\",\"nsp\":\"chat\"}",
		"{\"op\":\"disconnect\",\"user\":\"a\",\"origin\":1}",
		"{\"op\":\"join\",\"user\":\"a\"}",
		"{\"op\":\"join\",\"user\":\"a\",\"rooms\":[]}",
		"{\"op\":\"leave\",\"to\":\"x\",\"rooms\":[null]}",
		/* bad JSON (jansson refuses \u0000 and duplicate keys): not an operation */
		"{\"op\":\"disconnect\",\"user\":\"a\\u0000b\"}",
		"{\"op\":\"disconnect\",\"user\":\"a\",\"user\":\"b\"}",
	};
	struct chan_msg m;
	struct sg_err e;

	for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
		e.msg[0] = '\0';
		CHECK_INT(parse(bad[i], &m, &e), -1);
		CHECK(m.is_op == (i + 2 < SG_ARRAY_LEN(bad)));
		CHECK(e.msg[0] != '\0');
	}
	CHECK_INT(parse("{\"op\":\"explode\",\"user\":\"a\"}", &m, &e), -1);
	CHECK_STR(e.msg, "unknown op 'explode' (disconnect, join or leave)");
}

static void test_except_and_unauthenticated(void)
{
	struct chan_msg m;
	struct chan_op op;
	struct sg_err e = { 0 };
	struct sg_buf b;

	/* absent: a user's sockets hear unauthenticated, those of to do not */
	CHECK_INT(parse("{\"op\":\"disconnect\",\"user\":\"u\"}", &m, &e), 0);
	CHECK(chan_op_unauthenticated(&m.op));
	chan_msg_fini(&m);
	CHECK_INT(parse("{\"op\":\"disconnect\",\"to\":\"r\"}", &m, &e), 0);
	CHECK(!chan_op_unauthenticated(&m.op));
	chan_msg_fini(&m);
	CHECK_INT(parse("{\"op\":\"disconnect\",\"to\":\"r\",\"unauthenticated\":true,"
			"\"except\":[\"a\",\"b\"]}",
			&m, &e),
		  0);
	CHECK(chan_op_unauthenticated(&m.op));
	CHECK_INT(m.op.except.n, 2);
	CHECK_STR(m.op.except.v[1], "b");
	/* written and read back */
	sg_buf_init(&b);
	chan_op_write(&b, &m.op);
	chan_msg_fini(&m);
	CHECK_INT(chan_msg_parse(b.data, b.len, &m, &e), 0);
	CHECK(chan_op_unauthenticated(&m.op));
	CHECK_INT(m.op.except.n, 2);
	chan_msg_fini(&m);
	sg_buf_fini(&b);
	CHECK_INT(parse("{\"op\":\"disconnect\",\"user\":\"u\",\"unauthenticated\":false}", &m, &e),
		  0);
	CHECK(!chan_op_unauthenticated(&m.op));
	sg_buf_init(&b);
	chan_op_write(&b, &m.op);
	CHECK(strstr(b.data, "\"unauthenticated\":false") != NULL);
	sg_buf_fini(&b);
	chan_msg_fini(&m);
	/* only for disconnect, only a boolean; except holds strings */
	CHECK_INT(parse("{\"op\":\"join\",\"to\":\"r\",\"rooms\":\"x\",\"unauthenticated\":true}",
			&m, &e),
		  -1);
	CHECK(m.is_op);
	CHECK_INT(parse("{\"op\":\"disconnect\",\"to\":\"r\",\"unauthenticated\":1}", &m, &e), -1);
	CHECK_INT(parse("{\"op\":\"leave\",\"to\":\"r\",\"rooms\":\"x\",\"except\":[1]}", &m, &e),
		  -1);

	/* the admin API's body: the kind from the path, "op" ignored */
	CHECK_INT(op_parse("{\"op\":\"leave\",\"user\":\"u\",\"rooms\":[\"r\"]}", CHAN_OP_JOIN, &op,
			   &e),
		  0);
	CHECK_INT(op.kind, CHAN_OP_JOIN);
	CHECK_STR(op.user, "u");
	chan_op_fini(&op);
	CHECK_INT(op_parse("[1]", CHAN_OP_JOIN, &op, &e), -1);
	CHECK_INT(op_parse("{\"rooms\":[\"r\"]}", CHAN_OP_JOIN, &op, &e), -1);
	CHECK(strstr(e.msg, "exactly one of") != NULL);
	CHECK_INT(op_parse("{\"to\":\"r\"}", CHAN_OP__COUNT, &op, &e), -1);
}

static void test_write_reads_back(void)
{
	struct chan_op op = { .kind = CHAN_OP_DISCONNECT };
	struct chan_msg m;
	struct sg_err e = { 0 };
	struct sg_buf b;

	op.user = strdup("auth0|\"é\"\n");
	op.origin = strdup("uid123");
	sg_buf_init(&b);
	chan_op_write(&b, &op);
	CHECK_STR(b.data,
		  "{\"op\":\"disconnect\",\"user\":\"auth0|\\\"é\\\"\\n\",\"origin\":\"uid123\"}");
	CHECK_INT(chan_msg_parse(b.data, b.len, &m, &e), 0);
	CHECK_STR(m.op.user, op.user);
	CHECK_STR(m.op.origin, "uid123");
	chan_msg_fini(&m);
	chan_op_fini(&op);

	op.kind = CHAN_OP_JOIN;
	op.nsp = strdup("/chat");
	sg_strv_push(&op.to, "r1");
	sg_strv_push(&op.rooms, "a");
	sg_strv_push(&op.rooms, "b");
	sg_buf_reset(&b);
	chan_op_write(&b, &op);
	CHECK_STR(b.data,
		  "{\"op\":\"join\",\"nsp\":\"/chat\",\"to\":[\"r1\"],\"rooms\":[\"a\",\"b\"]}");
	CHECK_INT(chan_msg_parse(b.data, b.len, &m, &e), 0);
	CHECK_INT(m.op.kind, CHAN_OP_JOIN);
	CHECK_STR(m.op.nsp, "/chat");
	CHECK_INT(m.op.rooms.n, 2);
	chan_msg_fini(&m);
	chan_op_fini(&op);
	sg_buf_fini(&b);
}

int main(void)
{
	RUN(test_emit_without_op);
	RUN(test_disconnect);
	RUN(test_join_leave);
	RUN(test_malformed_ops);
	RUN(test_except_and_unauthenticated);
	RUN(test_write_reads_back);
	return UNIT_END();
}
