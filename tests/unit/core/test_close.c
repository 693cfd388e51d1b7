/*
 * test_close.c: the close reasons (close.def, close.c): the text the
 * `closed:` log line and the lifecycle events carry, whether a reason
 * counts as an error, and the WebSocket close code it is sent with, for
 * every reason, written out here from SPEC.md's names rather than read
 * back from the table; a reason out of range reads "unknown", is no error
 * and has no code.
 */
#include "core/close.h"
#include "unit.h"

static const struct {
	enum sg_close reason;
	const char *text;
	bool is_error;
	uint16_t ws_code; /* 0: a bare close frame */
} cases[] = {
	{ SG_CLOSE_TRANSPORT_CLOSE, "transport close", false, 0 },
	{ SG_CLOSE_TRANSPORT_ERROR, "transport error", true, 1002 },
	{ SG_CLOSE_INVALID_UTF8, "invalid utf-8", true, 1007 },
	{ SG_CLOSE_PING_TIMEOUT, "ping timeout", false, 0 },
	{ SG_CLOSE_PARSE_ERROR, "parse error", true, 0 },
	{ SG_CLOSE_MESSAGE_TOO_BIG, "message too big", true, 1009 },
	{ SG_CLOSE_BAD_REQUEST, "bad request", true, 0 },
	{ SG_CLOSE_HTTP_DONE, "http done", false, 0 },
	{ SG_CLOSE_IDLE_TIMEOUT, "idle timeout", false, 0 },
	{ SG_CLOSE_CONNECT_TIMEOUT, "connect timeout", false, 0 },
	{ SG_CLOSE_SHUTDOWN, "server shutting down", false, 0 },
	{ SG_CLOSE_AUTH_TIMEOUT, "auth timeout", false, 0 },
	{ SG_CLOSE_AUTH_REJECTED, "auth rejected", false, 0 },
	{ SG_CLOSE_AUTH_FAILED, "auth failed", true, 0 },
	{ SG_CLOSE_AUTH_THROTTLED, "auth throttled", false, 0 },
	{ SG_CLOSE_TOKEN_EXPIRED, "token expired", false, 0 },
	{ SG_CLOSE_REVOKED, "revoked", false, 0 },
	{ SG_CLOSE_CLIENT_NSP_DISCONNECT, "client namespace disconnect", false, 0 },
	{ SG_CLOSE_SERVER_NSP_DISCONNECT, "server namespace disconnect", false, 0 },
	{ SG_CLOSE_FORCED, "forced close", false, 0 },
	{ SG_CLOSE_CONNECTION_LIMIT, "connection limit", true, 0 },
	{ SG_CLOSE_PER_IP_LIMIT, "per-ip limit", true, 0 },
	{ SG_CLOSE_RATE_LIMITED, "handshake rate limit", true, 0 },
	{ SG_CLOSE_FLOOD, "event flood", true, 0 },
	{ SG_CLOSE_SLOW_CONSUMER, "slow consumer", true, 0 },
	{ SG_CLOSE_BODY_TIMEOUT, "body timeout", false, 0 },
	{ SG_CLOSE_BODY_TOO_SLOW, "body too slow", true, 0 },
	{ SG_CLOSE_HTTP_PER_IP_LIMIT, "http per-ip limit", true, 0 },
	{ SG_CLOSE_FD_LIMIT, "descriptor limit", true, 0 },
	{ SG_CLOSE_PROXY_HEADER, "bad proxy header", true, 0 },
};

static void test_every_reason(void)
{
	/* a reason added to close.def needs its case here */
	CHECK_INT(SG_ARRAY_LEN(cases), SG_CLOSE__COUNT);
	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		CHECK_STR(sg_close_text(cases[i].reason), cases[i].text);
		CHECK(sg_close_is_error(cases[i].reason) == cases[i].is_error);
		CHECK_INT(sg_close_ws_code(cases[i].reason), cases[i].ws_code);
	}
}

/* Texts name one reason each: the log and the lifecycle events tell them
 * apart by text alone. */
static void test_texts_distinct(void)
{
	for (int a = 0; a < SG_CLOSE__COUNT; a++)
		for (int b = a + 1; b < SG_CLOSE__COUNT; b++)
			CHECK(strcmp(sg_close_text((enum sg_close)a),
				     sg_close_text((enum sg_close)b)) != 0);
}

static void test_out_of_range(void)
{
	static const int bad[] = { SG_CLOSE__COUNT, SG_CLOSE__COUNT + 1, 255, -1 };

	for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
		CHECK_STR(sg_close_text((enum sg_close)bad[i]), "unknown");
		CHECK(!sg_close_is_error((enum sg_close)bad[i]));
		CHECK_INT(sg_close_ws_code((enum sg_close)bad[i]), 0);
	}
}

int main(void)
{
	RUN(test_every_reason);
	RUN(test_texts_distinct);
	RUN(test_out_of_range);
	return UNIT_END();
}
