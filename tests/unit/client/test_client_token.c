/*
 * test_client_token.c: tokens in libsiogate-client (client_token.c and the
 * events around it), on the fake engine: the server's `token:expiring`
 * warning reaching on_token_expiring and the subscribers, sgc_refresh_token
 * (emitted only when authenticated, one at a time, answered by
 * `authenticated` again or by `unauthenticated` and the server's
 * disconnect), the newest token carried to every later connection attempt
 * (auth payload, Authorization header, query), tokens refused as invalid,
 * and siogate's auth.mode connect (`authenticated` unasked right after the
 * CONNECT; a CONNECT_ERROR ends the client without reconnecting, on the
 * first attempt or on a reconnection).
 */
#include "client_fx.h"

#define AUTHED "42[\"authenticated\",{\"id\":\"S1\",\"time\":\"t\"}]"
#define INVALID "Invalid token to authenticate! Please login again!"

static void fx_init_fast(struct fx *f, const char *url);
static void fx_authenticated(struct fx *f);
static void test_expiring_and_refresh(void);
static void test_refresh_from_the_callback(void);
static void test_refresh_refused(void);
static void test_reconnect_sends_newest_token(void);
static void test_token_placement(void);
static void test_invalid_tokens(void);
static void test_connect_mode(void);
static void test_connect_error_on_reconnect(void);

/* fx_init, with reconnections 1 ms apart. */
static void fx_init_fast(struct fx *f, const char *url)
{
	fx_init(f, url);
	f->o.reconnection_delay_ms = 1;
	f->o.reconnection_delay_max_ms = 1;
}

/* f's client (made now unless the test made it) connected, authenticated
 * with the helper's flow, the logs cleared. */
static void fx_authenticated(struct fx *f)
{
	if (f->c == NULL)
		fx_client(f);
	f->e = connect_open(f->c, "40{\"sid\":\"S1\"}");
	CHECK_INT(sgc_authenticate(f->c), SGC_OK);
	fake_engine_recv(f->e, AUTHED);
	CHECK_INT(sgc_state(f->c), SGC_AUTHENTICATED);
	fake_engine_clear_sent(f->e);
	sg_buf_reset(&f->r.log);
	sg_buf_append(&f->r.log, "", 0);
}

/* ------------------------------------------------------------------ tests */

static void test_expiring_and_refresh(void)
{
	struct fx f;

	fx_init(&f, "http://h:1");
	fx_client(&f);
	CHECK_INT(sgc_subscribe(f.c, "token:expiring", h_log, &f.r, true), SGC_OK);
	fx_authenticated(&f);
	/* the warning: the callback, then the subscribers */
	fake_engine_recv(f.e, "42[\"token:expiring\",{\"exp\":1700000000}]");
	CHECK_STR(f.r.log.data, "expiring(1700000000)|h:token:expiring:[{\"exp\":1700000000}]|");
	/* the refresh goes out as authenticate {token}; the state stays */
	CHECK_INT(sgc_refresh_token(f.c, "T2"), SGC_OK);
	CHECK_STR(fake_engine_sent(f.e), "T:42[\"authenticate\",{\"token\":\"T2\"}]|");
	CHECK_INT(sgc_state(f.c), SGC_AUTHENTICATED);
	/* one at a time: a second one before the answer changes nothing */
	CHECK_INT(sgc_refresh_token(f.c, "T3"), SGC_ERR_STATE);
	CHECK_STR(fake_engine_sent(f.e), "T:42[\"authenticate\",{\"token\":\"T2\"}]|");
	/* answered: on_authenticated again, and the next refresh may go */
	fake_engine_recv(f.e, AUTHED);
	CHECK_INT(f.r.authenticated, 2);
	CHECK_INT(sgc_state(f.c), SGC_AUTHENTICATED);
	CHECK_INT(f.r.disconnected, 0);
	fake_engine_clear_sent(f.e);
	CHECK_INT(sgc_refresh_token(f.c, "T4"), SGC_OK);
	CHECK_STR(fake_engine_sent(f.e), "T:42[\"authenticate\",{\"token\":\"T4\"}]|");
	/* a disconnect forgets the pending refresh */
	sgc_disconnect(f.c);
	CHECK_INT(sgc_refresh_token(f.c, "T5"), SGC_SKIPPED);
	fx_fini(&f);
}

static void test_refresh_from_the_callback(void)
{
	/* warning payloads and the exp the callback gets */
	static const struct {
		const char *packet;
		const char *log;
	} warnings[] = {
		{ "42[\"token:expiring\",{\"exp\":1700000001}]",
		  "expiring(1700000001)|refresh(0)|" },
		{ "42[\"token:expiring\",{\"exp\":1.7e9}]", "expiring(1700000000)|refresh(0)|" },
		{ "42[\"token:expiring\",{\"exp\":\"soon\"}]", "expiring(0)|refresh(0)|" },
		{ "42[\"token:expiring\"]", "expiring(0)|refresh(0)|" },
	};
	struct fx f;

	for (size_t i = 0; i < SG_ARRAY_LEN(warnings); i++) {
		fx_init(&f, "http://h:1");
		f.r.refresh_with = "NEW";
		fx_authenticated(&f);
		fake_engine_recv(f.e, warnings[i].packet);
		CHECK_STR(f.r.log.data, warnings[i].log);
		CHECK_STR(fake_engine_sent(f.e), "T:42[\"authenticate\",{\"token\":\"NEW\"}]|");
		fx_fini(&f);
	}
	/* not authenticated: kept for the next connection, nothing sent */
	fx_init(&f, "http://h:1");
	f.r.refresh_with = "NEW";
	fx_connected(&f, "40{\"sid\":\"S1\"}");
	fake_engine_clear_sent(f.e);
	fake_engine_recv(f.e, "42[\"token:expiring\",{\"exp\":5}]");
	CHECK_STR(f.r.log.data, "connected(S1,unauthorized)|expiring(5)|refresh(1)|");
	CHECK_STR(fake_engine_sent(f.e), "");
	fx_fini(&f);
	/* the client freed inside the callback: no subscriber runs after it */
	fx_init(&f, "http://h:1");
	f.r.free_on_expiring = true;
	fx_client(&f);
	CHECK_INT(sgc_subscribe(f.c, "token:expiring", h_log, &f.r, true), SGC_OK);
	fx_authenticated(&f);
	fake_engine_recv(f.e, "42[\"token:expiring\",{\"exp\":5}]");
	CHECK(f.c == NULL);
	CHECK_STR(f.r.log.data, "expiring(5)|");
	CHECK(fake_engine_freed(f.e));
	fx_fini(&f);
}

static void test_refresh_refused(void)
{
	struct fx f;

	fx_init_fast(&f, "http://h:1");
	fx_authenticated(&f);
	CHECK_INT(sgc_refresh_token(f.c, "BAD"), SGC_OK);
	fake_engine_recv(f.e,
			 "42[\"unauthenticated\",{\"message\":\"" INVALID "\",\"time\":\"t\"}]");
	fake_engine_recv(f.e, "41");
	CHECK_STR(f.r.log.data, "unauthenticated(" INVALID ",unauthorized)|"
				"disconnected(io server disconnect,unauthorized)|");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	/* the server's disconnect: never a reconnection */
	run_ms(30);
	CHECK_INT(fake_engine_count(), 1);
	CHECK_INT(f.r.reconnecting, 0);
	fx_fini(&f);
}

static void test_reconnect_sends_newest_token(void)
{
	static const char *const headers[] = { "Authorization: Bearer OLD", "X-Other: 1", NULL };
	struct fx f;

	fx_init_fast(&f, "http://h:1/?a=1&token=OLD");
	f.o.query = "b=2";
	f.o.headers = headers;
	f.o.auth = "{\"token\":\"OLD\",\"x\":1}";
	fx_client(&f);
	CHECK_INT(sgc_connect(f.c), SGC_OK);
	f.e = fake_engine_last();
	CHECK_STR(fake_engine_query(f.e), "a=1&token=OLD&b=2");
	fake_engine_open(f.e);
	CHECK_STR(fake_engine_sent(f.e), "T:40{\"token\":\"OLD\",\"x\":1}|");
	fake_engine_recv(f.e, "40{\"sid\":\"S1\"}");
	CHECK_INT(sgc_authenticate(f.c), SGC_OK);
	fake_engine_recv(f.e, AUTHED);
	/* refreshed (characters a query must encode), then the transport drops */
	CHECK_INT(sgc_refresh_token(f.c, "N+/=w"), SGC_OK);
	fake_engine_recv(f.e, AUTHED);
	fake_engine_close(f.e, 0, "transport close", "");
	CHECK_INT(f.r.reconnecting, 1);
	run_ms(20);
	CHECK_INT(fake_engine_count(), 2);
	f.e = fake_engine_last();
	CHECK_STR(fake_engine_query(f.e), "a=1&token=N%2B%2F%3Dw&b=2");
	CHECK_STR(fake_engine_headers(f.e), "Authorization: Bearer N+/=w\r\nX-Other: 1\r\n");
	fake_engine_open(f.e);
	CHECK_STR(fake_engine_sent(f.e), "T:40{\"token\":\"N+/=w\",\"x\":1}|");
	/* a token given while waiting to reconnect is the next attempt's */
	fake_engine_close(f.e, SGC_ERR_CONNECT, "transport error", "refused");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_RECONNECTING);
	CHECK_INT(sgc_refresh_token(f.c, "T3"), SGC_SKIPPED);
	run_ms(20);
	f.e = fake_engine_last();
	CHECK_STR(fake_engine_headers(f.e), "Authorization: Bearer T3\r\nX-Other: 1\r\n");
	fake_engine_open(f.e);
	CHECK_STR(fake_engine_sent(f.e), "T:40{\"token\":\"T3\",\"x\":1}|");
	fx_fini(&f);
}

/* Where a refreshed token goes: wherever the options carried one, else the
 * auth payload. */
static void test_token_placement(void)
{
	static const char *const bearer_lc[] = { "authorization:bearer   OLD", NULL };
	static const char *const basic[] = { "Authorization: Basic dXNlcg==", NULL };
	static const struct {
		const char *url;
		const char *const *headers;
		const char *auth;
		const char *headers_after;
		const char *query_after;
		const char *connect_after;
	} cases[] = {
		/* nothing carried a token: the auth payload gets one */
		{ "http://h:1", NULL, NULL, "", "", "T:40{\"token\":\"NEW\"}|" },
		{ "http://h:1/chat", NULL, "{\"v\":2}", "", "",
		  "T:40/chat,{\"v\":2,\"token\":\"NEW\"}|" },
		/* only the header did: the auth payload is left alone */
		{ "http://h:1", bearer_lc, "{\"v\":2}", "authorization: bearer NEW\r\n", "",
		  "T:40{\"v\":2}|" },
		/* another scheme is not a bearer token */
		{ "http://h:1", basic, NULL, "Authorization: Basic dXNlcg==\r\n", "",
		  "T:40{\"token\":\"NEW\"}|" },
		/* only the query did; "xtoken" and "token2" are other parameters */
		{ "http://h:1/?xtoken=1&token=OLD&token2=3", NULL, NULL, "",
		  "xtoken=1&token=NEW&token2=3", "T:40|" },
	};
	struct fx f;

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		fx_init(&f, cases[i].url);
		f.o.headers = cases[i].headers;
		f.o.auth = cases[i].auth;
		fx_client(&f);
		CHECK_INT(sgc_refresh_token(f.c, "NEW"), SGC_SKIPPED);
		CHECK_INT(sgc_connect(f.c), SGC_OK);
		f.e = fake_engine_last();
		CHECK_STR(fake_engine_headers(f.e), cases[i].headers_after);
		CHECK_STR(fake_engine_query(f.e), cases[i].query_after);
		fake_engine_open(f.e);
		CHECK_STR(fake_engine_sent(f.e), cases[i].connect_after);
		fx_fini(&f);
	}
}

static void test_invalid_tokens(void)
{
	static const char *const bad[] = { NULL,    "",	    "two words", "line\nbreak",
					   "tab\t", "\x7f", "bad\xff" };
	struct fx f;

	fx_init(&f, "http://h:1");
	f.o.auth = "{\"token\":\"OLD\"}";
	fx_authenticated(&f);
	for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
		CHECK_INT(sgc_refresh_token(f.c, bad[i]), SGC_ERR_INVALID);
	CHECK_STR(fake_engine_sent(f.e), "");
	/* nothing changed: a reconnection still sends the old one */
	fake_engine_close(f.e, 0, "transport close", "");
	sgc_disconnect(f.c);
	f.e = connect_open(f.c, NULL);
	CHECK_STR(fake_engine_sent(f.e), "T:40{\"token\":\"OLD\"}|");
	fx_fini(&f);
}

static void test_connect_mode(void)
{
	struct fx f;

	/* accepted: CONNECT, ping, then authenticated unasked */
	fx_init(&f, "http://h:1");
	fx_connected(&f, "40{\"sid\":\"S1\"}");
	fake_engine_recv(f.e, "42[\"ping\",{\"time\":\"t\"}]");
	fake_engine_recv(f.e, AUTHED);
	CHECK_STR(f.r.log.data, "connected(S1,unauthorized)|authenticated(S1)|");
	CHECK_INT(sgc_state(f.c), SGC_AUTHENTICATED);
	CHECK_INT(sgc_authenticate(f.c), SGC_ERR_STATE);
	fake_engine_clear_sent(f.e);
	CHECK_INT(sgc_refresh_token(f.c, "T2"), SGC_OK);
	CHECK_STR(fake_engine_sent(f.e), "T:42[\"authenticate\",{\"token\":\"T2\"}]|");
	fx_fini(&f);

	/* refused: the server's message, and no reconnection */
	fx_init_fast(&f, "http://h:1");
	fx_connected(&f, "44{\"message\":\"" INVALID "\"}");
	CHECK_STR(f.r.log.data, "error(-10," INVALID ")|");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	run_ms(30);
	CHECK_INT(fake_engine_count(), 1);
	CHECK_INT(f.r.reconnecting, 0);
	fx_fini(&f);
}

/* A lost connection reconnects; when the server then refuses the CONNECT
 * (the token expired meanwhile), the client stops instead of looping. */
static void test_connect_error_on_reconnect(void)
{
	struct fx f;

	fx_init_fast(&f, "http://h:1");
	fx_connected(&f, "40{\"sid\":\"S1\"}");
	fake_engine_recv(f.e, AUTHED);
	fake_engine_close(f.e, 0, "transport close", "");
	run_ms(20);
	CHECK_INT(fake_engine_count(), 2);
	f.e = fake_engine_last();
	fake_engine_open(f.e);
	fake_engine_recv(f.e, "44{\"message\":\"" INVALID "\"}");
	CHECK_STR(f.r.log.data, "connected(S1,unauthorized)|authenticated(S1)|"
				"disconnected(transport close,unauthorized)|reconnecting(1)|"
				"error(-10," INVALID ")|");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	run_ms(30);
	CHECK_INT(fake_engine_count(), 2);
	CHECK_INT(f.r.reconnecting, 1);
	fx_fini(&f);
}

int main(void)
{
	base = event_base_new();
	RUN(test_expiring_and_refresh);
	RUN(test_refresh_from_the_callback);
	RUN(test_refresh_refused);
	RUN(test_reconnect_sends_newest_token);
	RUN(test_token_placement);
	RUN(test_invalid_tokens);
	RUN(test_connect_mode);
	RUN(test_connect_error_on_reconnect);
	event_base_free(base);
	return UNIT_END();
}
