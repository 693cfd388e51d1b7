/*
 * test_client_state.c: libsiogate-client's state machine and Socket.IO layer
 * (client*.c) on a fake engine: connect and the namespace CONNECT, the
 * helper's authentication states, emit / acks both ways / timeouts, binary
 * attachments, subscribe / unsubscribe semantics through the client
 * (duplicate protection, one handler or all, contained handler errors,
 * changes and frees inside callbacks), server and client disconnects,
 * CONNECT_ERROR, protocol errors, reconnection with backoff and its limit,
 * and the connect timeout.
 *
 * Each test runs on a fixture (struct fx, client_fx.h: the recorder, the
 * options, the client and its engine) set up and torn down in one call each;
 * the calls that differ only in their arguments and expected results are
 * tables.
 */
#include "client_fx.h"

static int h_fail(struct sgc_client *c, const struct sgc_event *ev, void *user);
static int h_unsub_self(struct sgc_client *c, const struct sgc_event *ev, void *user);
static int h_free(struct sgc_client *c, const struct sgc_event *ev, void *user);

static void test_options(void);
static void test_url_to_engine(void);
static void test_connect_and_auth(void);
static void test_unauthenticated(void);
static void test_emit(void);
static void test_acks(void);
static void test_server_ack_request(void);
static void test_binary(void);
static void test_subscribe_semantics(void);
static void test_handler_errors_contained(void);
static void test_free_inside_callbacks(void);
static void test_client_disconnect(void);
static void test_connect_error(void);
static void test_protocol_error(void);
static void test_reconnect(void);
static void test_reconnect_gives_up(void);
static void test_connect_timeout(void);
static void test_namespace_and_rooms(void);
static void test_shutdown(void);

/* ------------------------------------------------------------------ helpers */

static int h_fail(struct sgc_client *c, const struct sgc_event *ev, void *user)
{
	struct rec *r = user;

	(void)c;
	sg_buf_printf(&r->log, "fail:%s|", ev->name);
	return 42;
}

static int h_unsub_self(struct sgc_client *c, const struct sgc_event *ev, void *user)
{
	struct rec *r = user;

	sg_buf_printf(&r->log, "once:%s|", ev->name);
	CHECK_INT(sgc_unsubscribe(c, ev->name, h_unsub_self, user), SGC_OK);
	return 0;
}

static int h_free(struct sgc_client *c, const struct sgc_event *ev, void *user)
{
	struct rec *r = user;

	sg_buf_printf(&r->log, "free:%s|", ev->name);
	sgc_client_free(c);
	*r->self = NULL;
	return 0;
}

/* ------------------------------------------------------------------ tests */

static void test_options(void)
{
	static const char *const bad_header[] = { "NoColon", NULL };
	static const char *const host_header[] = { "Host: evil", NULL };
	static const char *const ctl_header[] = { "X-A: a\r\nX-B: b", NULL };
	static const char *const good[] = { "Authorization: Bearer abc", "X-Id:  7", NULL };
	/* options sgc_client_new refuses, each alone over valid ones */
	static const struct {
		bool no_url;
		const char *url;
		const char *const *headers;
		const char *auth;
		const char *path;
		const char *nsp;
		const char *error; /* part of the message (exact for "no URL"), or NULL */
		bool no_errbuf;	   /* errbuf given as NULL */
	} refused[] = {
		{ true, NULL, NULL, NULL, NULL, NULL, "no URL", false },
		{ false, "gopher://x", NULL, NULL, NULL, NULL, "unsupported URL scheme", false },
		{ false, NULL, bad_header, NULL, NULL, NULL, "not 'Name: value'", false },
		{ false, NULL, host_header, NULL, NULL, NULL, "set by the client itself", false },
		{ false, NULL, ctl_header, NULL, NULL, NULL, "control character", false },
		{ false, NULL, NULL, "[1]", NULL, NULL, "auth must be a JSON object", false },
		{ false, NULL, NULL, NULL, "no-slash", NULL, NULL, false },
		{ false, NULL, NULL, NULL, "/socket.io/", "admin", NULL,
		  true }, /* errbuf may be NULL */
	};
	struct sgc_options o;
	char err[200];
	struct fx f;

	sgc_options_init(&o);
	CHECK_INT(o.transports, SGC_TRANSPORT_WEBSOCKET);
	CHECK(o.reconnection);
	CHECK(o.tls_verify);
	CHECK_INT(o.reconnection_delay_ms, 1000);
	CHECK_INT(o.reconnection_delay_max_ms, 5000);
	for (size_t i = 0; i < SG_ARRAY_LEN(refused); i++) {
		sgc_options_init(&o);
		o.url = refused[i].no_url ? NULL : refused[i].url ? refused[i].url : "http://h:1";
		o.headers = refused[i].headers;
		o.auth = refused[i].auth;
		if (refused[i].path)
			o.path = refused[i].path;
		o.nsp = refused[i].nsp;
		err[0] = '\0';
		CHECK(sgc_client_new(base, &o, refused[i].no_errbuf ? NULL : err,
				     refused[i].no_errbuf ? 0 : sizeof(err)) == NULL);
		if (refused[i].no_url)
			CHECK_STR(err, refused[i].error);
		else if (refused[i].error)
			CHECK(strstr(err, refused[i].error) != NULL);
	}

	/* what a valid client hands to its engine */
	fx_init(&f, "http://h:1/chat?from=url");
	f.o.path = "/io";
	f.o.query = "token=t1";
	f.o.headers = good;
	f.o.transports = SGC_TRANSPORT_ANY;
	fx_client(&f);
	CHECK_STR(sgc_identifier(f.c), "siogate-client");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	CHECK(sgc_socket_id(f.c) == NULL);
	CHECK_INT(sgc_connect(f.c), SGC_OK);
	CHECK_INT(sgc_connect(f.c), SGC_SKIPPED);
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_CONNECTING);
	f.e = fake_engine_last();
	CHECK_STR(fake_engine_path(f.e), "/io/");
	CHECK_STR(fake_engine_query(f.e), "from=url&token=t1");
	CHECK_STR(fake_engine_headers(f.e), "Authorization: Bearer abc\r\nX-Id: 7\r\n");
	CHECK_INT(fake_engine_transports(f.e), SGC_TRANSPORT_ANY);
	/* the URL path is the namespace */
	fake_engine_open(f.e);
	CHECK_STR(fake_engine_sent(f.e), "T:40/chat,|");
	sgc_client_free(f.c);
	f.c = NULL;
	CHECK(fake_engine_freed(f.e));
	fx_fini(&f);
}

/* The server URL, parsed by proto/url.c, decides where the engine connects,
 * its Host header, TLS, the query and the namespace; a refused URL fails
 * sgc_client_new with the parser's reason. */
static void test_url_to_engine(void)
{
	static const struct {
		const char *url;
		const char *host;
		unsigned port;
		const char *host_header;
		bool tls;
		const char *query;
		const char *connect; /* the CONNECT packet sent once open */
	} ok[] = {
		{ "http://127.0.0.1:3000", "127.0.0.1", 3000, "127.0.0.1:3000", false, "",
		  "T:40|" },
		{ "WSS://Example.COM/chat?x=1#f", "example.com", 443, "example.com", true, "x=1",
		  "T:40/chat,|" },
		{ "ws://[::1]:80/", "::1", 80, "[::1]", false, "", "T:40|" },
		{ "https://h:8443/admin?", "h", 8443, "h:8443", true, "", "T:40/admin,|" },
	};
	static const struct {
		const char *url;
		const char *msg;
	} bad[] = {
		{ "localhost:3000", "no scheme (expected http, https, ws or wss)" },
		{ "ftp://h", "unsupported URL scheme 'ftp'" },
		{ "http://h/a b", "space, control or non-ASCII" },
		{ "http://h/?t=1\r\nX: y", "space, control or non-ASCII" },
		{ "http://[fe80::1%25eth0]:3000", "bad IPv6 address" },
		{ "http://h~1", "bad character '~'" },
		{ "http://h:000080", "bad port" },
		{ "http://h:0", "between 1 and 65535" },
		{ "http://u:p@h", "user info" },
	};
	struct sgc_options o;
	struct fx f;
	char err[200];
	size_t i;

	for (i = 0; i < SG_ARRAY_LEN(ok); i++) {
		fx_init(&f, ok[i].url);
		if (fx_client(&f) == NULL) {
			fx_fini(&f);
			continue;
		}
		CHECK_INT(sgc_connect(f.c), SGC_OK);
		f.e = fake_engine_last();
		CHECK_STR(fake_engine_host(f.e), ok[i].host);
		CHECK_INT(fake_engine_port(f.e), ok[i].port);
		CHECK_STR(fake_engine_host_header(f.e), ok[i].host_header);
		CHECK_INT(fake_engine_tls(f.e), ok[i].tls);
		CHECK_STR(fake_engine_query(f.e), ok[i].query);
		fake_engine_open(f.e);
		CHECK_STR(fake_engine_sent(f.e), ok[i].connect);
		fx_fini(&f);
	}
	for (i = 0; i < SG_ARRAY_LEN(bad); i++) {
		sgc_options_init(&o);
		o.url = bad[i].url;
		err[0] = '\0';
		CHECK(sgc_client_new(base, &o, err, sizeof(err)) == NULL);
		if (strstr(err, bad[i].msg) == NULL)
			fprintf(stderr, "'%s': error '%s' lacks '%s'\n", bad[i].url, err,
				bad[i].msg);
		CHECK(strstr(err, bad[i].msg) != NULL);
	}
}

static void test_connect_and_auth(void)
{
	struct fx f;

	fx_init(&f, "ws://127.0.0.1:9");
	f.o.auth = "{ \"token\" : \"abc\" }";
	fx_client(&f);
	CHECK_INT(sgc_authenticate(f.c), SGC_ERR_NOT_CONNECTED);
	f.e = connect_open(f.c, NULL);
	/* CONNECT with the auth payload, compact */
	CHECK_STR(fake_engine_sent(f.e), "T:40{\"token\":\"abc\"}|");
	CHECK_INT(f.r.connected, 0);
	CHECK_INT(sgc_emit(f.c, "early", NULL), SGC_ERR_NOT_CONNECTED);
	fake_engine_recv(f.e, "40{\"sid\":\"S1\"}");
	CHECK_INT(f.r.connected, 1);
	CHECK_STR(f.r.log.data, "connected(S1,unauthorized)|");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_CONNECTED);
	CHECK_STR(sgc_socket_id(f.c), "S1");
	CHECK_STR(sgc_transport_name(f.c), "websocket");
	/* a repeated CONNECT changes nothing */
	fake_engine_recv(f.e, "40{\"sid\":\"S2\"}");
	CHECK_INT(f.r.connected, 1);
	CHECK_STR(sgc_socket_id(f.c), "S1");

	fake_engine_clear_sent(f.e);
	CHECK_INT(sgc_state(f.c), SGC_UNAUTHORIZED);
	CHECK_INT(sgc_authenticate(f.c), SGC_OK);
	CHECK_STR(fake_engine_sent(f.e), "T:42[\"authenticate\"]|");
	CHECK_INT(sgc_state(f.c), SGC_AUTHENTICATING);
	CHECK_STR(sgc_state_name(sgc_state(f.c)), "authenticating");
	CHECK_INT(sgc_authenticate(f.c), SGC_ERR_STATE);
	fake_engine_recv(f.e, "42[\"authenticated\",{\"id\":\"S1\",\"time\":\"t\"}]");
	CHECK_INT(f.r.authenticated, 1);
	CHECK_INT(sgc_state(f.c), SGC_AUTHENTICATED);
	CHECK_INT(sgc_authenticate(f.c), SGC_ERR_STATE);
	CHECK_STR(f.r.log.data, "connected(S1,unauthorized)|authenticated(S1)|");

	/* the transport drops: disconnected, state reset, reconnect scheduled */
	fake_engine_close(f.e, 0, "transport close", "gone");
	CHECK_INT(f.r.disconnected, 1);
	CHECK_INT(sgc_state(f.c), SGC_UNAUTHORIZED);
	CHECK(strstr(f.r.log.data, "disconnected(transport close,unauthorized)|reconnecting(1)|") !=
	      NULL);
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_RECONNECTING);
	CHECK(sgc_socket_id(f.c) == NULL);
	CHECK(fake_engine_freed(f.e));
	fx_fini(&f);
}

static void test_unauthenticated(void)
{
	struct fx f;

	fx_init(&f, "http://h:1");
	f.o.reconnection_delay_ms = 1;
	f.o.reconnection_delay_max_ms = 1;
	fx_connected(&f, "40{\"sid\":\"S1\"}");
	CHECK_INT(sgc_authenticate(f.c), SGC_OK);
	fake_engine_recv(f.e,
			 "42[\"unauthenticated\",{\"message\":\"Invalid token\",\"time\":\"t\"}]");
	CHECK_INT(f.r.unauthenticated, 1);
	CHECK_INT(sgc_state(f.c), SGC_UNAUTHORIZED);
	/* the server's DISCONNECT: no reconnection */
	fake_engine_recv(f.e, "41");
	CHECK_STR(f.r.log.data,
		  "connected(S1,unauthorized)|unauthenticated(Invalid token,unauthorized)|"
		  "disconnected(io server disconnect,unauthorized)|");
	CHECK(fake_engine_shut(f.e));
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	run_ms(30);
	CHECK_INT(fake_engine_count(), 1);
	CHECK_INT(f.r.reconnecting, 0);
	/* a message without `message` gives "" */
	f.e = connect_open(f.c, "40{\"sid\":\"S2\"}");
	fake_engine_recv(f.e, "42[\"unauthenticated\"]");
	CHECK(strstr(f.r.log.data, "unauthenticated(,unauthorized)|") != NULL);
	fx_fini(&f);
}

static void test_emit(void)
{
	static const char *const invalid_names[] = { "", NULL, "disconnect", "connect_error",
						     "bad\xff" };
	struct fx f;
	json_t *v;
	struct sgc_emit em;

	fx_init(&f, "http://h:1");
	fx_client(&f);
	CHECK_INT(sgc_emit(f.c, "x", NULL), SGC_ERR_NOT_CONNECTED);
	f.e = connect_open(f.c, "40{\"sid\":\"S1\"}");
	fake_engine_clear_sent(f.e);
	v = json_loads("{\"n\":0.1,\"s\":\"\\u00e9\",\"big\":1e21}", 0, NULL);
	CHECK_INT(sgc_emit(f.c, "chat:message", v), SGC_OK);
	CHECK_INT(sgc_emit(f.c, "bare", NULL), SGC_OK);
	json_decref(v);
	CHECK_STR(fake_engine_sent(f.e),
		  "T:42[\"chat:message\",{\"n\":0.1,\"s\":\"\xc3\xa9\",\"big\":1e+21}]|"
		  "T:42[\"bare\"]|");
	/* invalid names and arguments */
	for (size_t i = 0; i < SG_ARRAY_LEN(invalid_names); i++)
		CHECK_INT(sgc_emit(f.c, invalid_names[i], NULL), SGC_ERR_INVALID);
	memset(&em, 0, sizeof(em));
	em.event = "x";
	em.args = json_object();
	CHECK_INT(sgc_emit_ex(f.c, &em), SGC_ERR_INVALID);
	json_decref((json_t *)em.args);
	/* several arguments */
	em.args = json_loads("[1,\"two\",[3]]", 0, NULL);
	fake_engine_clear_sent(f.e);
	CHECK_INT(sgc_emit_ex(f.c, &em), SGC_OK);
	CHECK_STR(fake_engine_sent(f.e), "T:42[\"x\",1,\"two\",[3]]|");
	json_decref((json_t *)em.args);
	fx_fini(&f);
}

static void test_acks(void)
{
	struct fx f;
	json_t *one = json_integer(1);
	/* emits with an ack: (args, timeout, callback) -> result */
	const struct {
		json_t *args;
		unsigned timeout_ms;
		bool no_cb;
		int want;
	} emits[] = {
		{ one, 0, true, SGC_ERR_INVALID },
		{ one, 0, false, SGC_OK },
		{ NULL, 30, false, SGC_OK },
		{ one, 0, false, SGC_OK },
	};

	fx_init(&f, "http://h:1");
	fx_client(&f);
	CHECK_INT(sgc_emit_with_ack(f.c, "q", one, 0, ack_log, &f.r), SGC_ERR_NOT_CONNECTED);
	f.e = connect_open(f.c, "40{\"sid\":\"S1\"}");
	fake_engine_clear_sent(f.e);
	for (size_t i = 0; i < SG_ARRAY_LEN(emits); i++)
		CHECK_INT(sgc_emit_with_ack(f.c, "q", emits[i].args, emits[i].timeout_ms,
					    emits[i].no_cb ? NULL : ack_log, &f.r),
			  emits[i].want);
	CHECK_STR(fake_engine_sent(f.e), "T:420[\"q\",1]|T:421[\"q\"]|T:422[\"q\",1]|");
	/* answers in any order; unknown ids are ignored */
	fake_engine_recv(f.e, "432[\"second\"]");
	fake_engine_recv(f.e, "4399[\"nobody\"]");
	fake_engine_recv(f.e, "430[{\"ok\":true},2]");
	CHECK_STR(f.r.log.data,
		  "connected(S1,unauthorized)|ack(0,[\"second\"])|ack(0,[{\"ok\":true},2])|");
	/* id 1 times out */
	run_ms(60);
	CHECK(strstr(f.r.log.data, "ack(-4)|") != NULL);
	/* a late answer after the timeout is ignored */
	fake_engine_recv(f.e, "431[\"late\"]");
	CHECK(strstr(f.r.log.data, "late") == NULL);
	/* pending acks fail when the connection ends */
	sg_buf_reset(&f.r.log);
	CHECK_INT(sgc_emit_with_ack(f.c, "q", NULL, 0, ack_log, &f.r), SGC_OK);
	CHECK_INT(sgc_emit_with_ack(f.c, "q", NULL, 5000, ack_log, &f.r), SGC_OK);
	fake_engine_close(f.e, 0, "transport error", "reset");
	CHECK_STR(f.r.log.data,
		  "disconnected(transport error,unauthorized)|ack(-5)|ack(-5)|reconnecting(1)|");
	json_decref(one);
	fx_fini(&f);
}

static void test_server_ack_request(void)
{
	struct fx f;
	json_t *args = json_loads("[{\"got\":\"world\"}]", 0, NULL);
	/* acks the client sends: (id, args) -> result */
	const struct {
		int64_t id;
		const json_t *args;
		int want;
	} acks[] = {
		{ 7, args, SGC_OK },
		{ 8, NULL, SGC_OK },
		{ -1, NULL, SGC_ERR_INVALID },
		{ 1, json_object_get(json_array_get(args, 0), "got"),
		  SGC_ERR_INVALID }, /* not an array */
	};

	fx_init(&f, "http://h:1");
	fx_client(&f);
	CHECK_INT(sgc_subscribe(f.c, "hello", h_log, &f.r, true), SGC_OK);
	f.e = connect_open(f.c, "40{\"sid\":\"S1\"}");
	fake_engine_recv(f.e, "427[\"hello\",\"world\"]");
	CHECK(strstr(f.r.log.data, "h:hello:[\"world\"]:ack7|") != NULL);
	fake_engine_clear_sent(f.e);
	for (size_t i = 0; i < SG_ARRAY_LEN(acks); i++)
		CHECK_INT(sgc_ack(f.c, acks[i].id, acks[i].args), acks[i].want);
	CHECK_STR(fake_engine_sent(f.e), "T:437[{\"got\":\"world\"}]|T:438[]|");
	/* numeric event names read as JS strings */
	CHECK_INT(sgc_subscribe(f.c, "1", h_log, &f.r, true), SGC_OK);
	fake_engine_recv(f.e, "42[1.0,\"n\"]");
	CHECK(strstr(f.r.log.data, "h:1:[\"n\"]|") != NULL);
	json_decref(args);
	fx_fini(&f);
}

static void test_binary(void)
{
	struct fx f;
	struct sgc_emit em;
	struct sgc_binary bins[2] = { { "\x09\x08", 2 }, { "", 0 } };
	json_t *args;

	fx_init(&f, "http://h:1");
	fx_client(&f);
	CHECK_INT(sgc_subscribe(f.c, "bin-down", h_log, &f.r, true), SGC_OK);
	f.e = connect_open(f.c, "40{\"sid\":\"S1\"}");
	/* server -> client: two attachments follow the text */
	fake_engine_recv(f.e, "452-[\"bin-down\",{\"_placeholder\":true,\"num\":0},"
			      "{\"nested\":{\"_placeholder\":true,\"num\":1}}]");
	CHECK(strstr(f.r.log.data, "h:bin-down") == NULL);
	fake_engine_recv_binary(f.e, "\x01\x02\x03", 3);
	CHECK(strstr(f.r.log.data, "h:bin-down") == NULL);
	fake_engine_recv_binary(f.e, "\x04", 1);
	CHECK(strstr(f.r.log.data, "h:bin-down:[{\"_placeholder\":true,\"num\":0},{\"nested\":"
				   "{\"_placeholder\":true,\"num\":1}}]:bin010203:bin04|") != NULL);
	/* binary ack */
	CHECK_INT(sgc_emit_with_ack(f.c, "up", NULL, 0, ack_log, &f.r), SGC_OK);
	fake_engine_recv(f.e, "461-0[{\"_placeholder\":true,\"num\":0}]");
	fake_engine_recv_binary(f.e, "\xff", 1);
	CHECK(strstr(f.r.log.data, "ack(0,[{\"_placeholder\":true,\"num\":0}],bin)|") != NULL);
	/* client -> server */
	fake_engine_clear_sent(f.e);
	args = json_array();
	json_array_append_new(args, sgc_placeholder(0));
	json_array_append_new(args, json_pack("{s:o}", "k", sgc_placeholder(1)));
	CHECK_INT(sgc_placeholder_num(json_array_get(args, 0)), 0);
	CHECK_INT(sgc_placeholder_num(args), -1);
	memset(&em, 0, sizeof(em));
	em.event = "bin-up";
	em.args = args;
	em.attachments = bins;
	em.n_attachments = 2;
	CHECK_INT(sgc_emit_ex(f.c, &em), SGC_OK);
	CHECK_STR(fake_engine_sent(f.e), "T:452-[\"bin-up\",{\"_placeholder\":true,\"num\":0},"
					 "{\"k\":{\"_placeholder\":true,\"num\":1}}]|B:0908|B:|");
	/* a placeholder without its attachment is refused */
	em.n_attachments = 1;
	CHECK_INT(sgc_emit_ex(f.c, &em), SGC_ERR_INVALID);
	em.attachments = NULL;
	em.n_attachments = 2;
	CHECK_INT(sgc_emit_ex(f.c, &em), SGC_ERR_INVALID);
	json_decref(args);
	/* an unexpected binary message is a protocol error */
	fake_engine_recv_binary(f.e, "\x01", 1);
	CHECK_INT(f.r.last_error, SGC_ERR_PROTOCOL);
	CHECK(strstr(f.r.log.data, "disconnected(parse error,unauthorized)|") != NULL);
	fx_fini(&f);
}

static void test_subscribe_semantics(void)
{
	struct fx f;
	struct rec r2;
	struct sgc_subscription many[] = {
		{ "a", h_log, NULL },
		{ "b", h_log, NULL },
		{ "c", h_log, NULL },
	};
	static const char *const ab[] = { "a", "b", "zzz" };
	/* subscriptions of "news" (and invalid ones), in order: -> result,
	 * and how many handlers "news" has then */
	const struct {
		const char *name;
		sgc_handler_fn handler;
		void *user;
		bool dup_protect;
		int want;
		int news;
	} subs[] = {
		{ NULL, h_log, &f.r, true, SGC_ERR_INVALID, 0 },
		{ "", h_log, &f.r, true, SGC_ERR_INVALID, 0 },
		{ "x", NULL, &f.r, true, SGC_ERR_INVALID, 0 },
		/* duplicate protection (the seed's default): any handler blocks */
		{ "news", h_log, &f.r, true, SGC_OK, 1 },
		{ "news", h_log, &f.r, true, SGC_SKIPPED, 1 },
		{ "news", h_log, &r2, true, SGC_SKIPPED, 1 },
		/* without it, added again */
		{ "news", h_log, &r2, false, SGC_OK, 2 },
		{ "news", h_log, &r2, false, SGC_OK, 3 },
	};

	fx_init(&f, "http://h:1");
	rec_init(&r2);
	many[0].user = many[1].user = many[2].user = &r2;
	fx_client(&f);
	for (size_t i = 0; i < SG_ARRAY_LEN(subs); i++) {
		CHECK_INT(sgc_subscribe(f.c, subs[i].name, subs[i].handler, subs[i].user,
					subs[i].dup_protect),
			  subs[i].want);
		CHECK_INT(sgc_handler_count(f.c, "news"), subs[i].news);
	}
	CHECK_INT(sgc_handler_count(f.c, NULL), 0);
	/* subscriptions work before connecting and survive connections */
	f.e = connect_open(f.c, "40{\"sid\":\"S1\"}");
	fake_engine_recv(f.e, "42[\"news\",{\"n\":1}]");
	CHECK(strstr(f.r.log.data, "h:news:[{\"n\":1}]|") != NULL);
	CHECK_STR(r2.log.data, "h:news:[{\"n\":1}]|h:news:[{\"n\":1}]|");
	/* remove one handler: every registration of that (handler, user) */
	CHECK_INT(sgc_unsubscribe(f.c, "news", h_log, &r2), SGC_OK);
	CHECK_INT(sgc_handler_count(f.c, "news"), 1);
	CHECK_INT(sgc_unsubscribe(f.c, "news", h_log, &r2), SGC_SKIPPED);
	CHECK_INT(sgc_unsubscribe(f.c, "news", h_fail, &f.r), SGC_SKIPPED);
	sg_buf_reset(&r2.log);
	fake_engine_recv(f.e, "42[\"news\",2]");
	CHECK_STR(r2.log.data, "");
	/* remove all */
	CHECK_INT(sgc_subscribe(f.c, "news", h_log, &r2, false), SGC_OK);
	CHECK_INT(sgc_unsubscribe(f.c, "news", NULL, NULL), SGC_OK);
	CHECK_INT(sgc_handler_count(f.c, "news"), 0);
	CHECK_INT(sgc_unsubscribe(f.c, "news", NULL, NULL), SGC_SKIPPED);
	CHECK_INT(sgc_unsubscribe(f.c, NULL, NULL, NULL), SGC_ERR_INVALID);
	sg_buf_reset(&f.r.log);
	fake_engine_recv(f.e, "42[\"news\",3]");
	CHECK_STR(f.r.log.data, "");
	/* subscribe_many / unsubscribe_many */
	CHECK_INT(sgc_subscribe_many(f.c, many, 3, true), 3);
	CHECK_INT(sgc_subscribe_many(f.c, many, 3, true), 0);
	CHECK_INT(sgc_subscribe_many(f.c, many, 3, false), 3);
	many[1].handler = NULL;
	CHECK_INT(sgc_subscribe_many(f.c, many, 3, false), SGC_ERR_INVALID);
	CHECK_INT(sgc_handler_count(f.c, "c"), 2); /* nothing added by the invalid call */
	CHECK_INT(sgc_unsubscribe_many(f.c, ab, 3), 2);
	CHECK_INT(sgc_handler_count(f.c, "a") + sgc_handler_count(f.c, "b"), 0);
	CHECK_INT(sgc_handler_count(f.c, "c"), 2);
	/* the wildcard sees every event, after the named handlers */
	sg_buf_reset(&f.r.log);
	sg_buf_reset(&r2.log);
	CHECK_INT(sgc_subscribe(f.c, SGC_ANY_EVENT, h_log, &r2, true), SGC_OK);
	fake_engine_recv(f.e, "42[\"c\",\"x\"]");
	CHECK_STR(r2.log.data, "h:c:[\"x\"]|h:c:[\"x\"]|h:c:[\"x\"]|");
	/* a handler that removes itself runs once */
	CHECK_INT(sgc_subscribe(f.c, "once", h_unsub_self, &f.r, true), SGC_OK);
	fake_engine_recv(f.e, "42[\"once\"]");
	fake_engine_recv(f.e, "42[\"once\"]");
	CHECK_STR(f.r.log.data, "once:once|");
	rec_fini(&r2);
	fx_fini(&f);
}

static void test_handler_errors_contained(void)
{
	struct fx f;

	fx_init(&f, "http://h:1");
	fx_client(&f);
	CHECK_INT(sgc_subscribe(f.c, "ev", h_fail, &f.r, false), SGC_OK);
	CHECK_INT(sgc_subscribe(f.c, "ev", h_log, &f.r, false), SGC_OK);
	f.e = connect_open(f.c, "40{\"sid\":\"S1\"}");
	sg_buf_reset(&f.r.log);
	fake_engine_recv(f.e, "42[\"ev\",1]");
	/* the failure is reported, the next handler still runs, the
	 * connection stays */
	CHECK_STR(f.r.log.data, "fail:ev|error(-11,handler of event 'ev' failed (returned 42))|"
				"h:ev:[1]|");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_CONNECTED);
	fake_engine_recv(f.e, "42[\"ev\",2]");
	CHECK_INT(f.r.errors, 2);
	fx_fini(&f);
}

static void test_free_inside_callbacks(void)
{
	struct fx f;

	/* free in on_connected */
	fx_init(&f, "http://h:1");
	f.r.free_on_connected = true;
	fx_connected(&f, "40{\"sid\":\"S1\"}");
	CHECK(f.c == NULL);
	CHECK(fake_engine_freed(f.e));
	fx_fini(&f);

	/* free in a handler with more handlers and pending acks */
	fx_init(&f, "http://h:1");
	fx_client(&f);
	CHECK_INT(sgc_subscribe(f.c, "boom", h_free, &f.r, false), SGC_OK);
	CHECK_INT(sgc_subscribe(f.c, "boom", h_log, &f.r, false), SGC_OK);
	f.e = connect_open(f.c, "40{\"sid\":\"S1\"}");
	CHECK_INT(sgc_emit_with_ack(f.c, "q", NULL, 1000, ack_log, &f.r), SGC_OK);
	sg_buf_reset(&f.r.log);
	fake_engine_recv(f.e, "42[\"boom\"]");
	CHECK(f.c == NULL);
	/* the ack failed, the next handler did not run, nothing else came */
	CHECK_STR(f.r.log.data, "free:boom|ack(-5)|");
	run_ms(20);
	fx_fini(&f);

	/* disconnect inside on_authenticated */
	fx_init(&f, "http://h:1");
	f.r.disconnect_on_authenticated = true;
	fx_connected(&f, "40{\"sid\":\"S1\"}");
	CHECK_INT(sgc_authenticate(f.c), SGC_OK);
	fake_engine_recv(f.e, "42[\"authenticated\",{\"id\":\"S1\"}]");
	CHECK_STR(f.r.log.data, "connected(S1,unauthorized)|authenticated(S1)|"
				"disconnected(io client disconnect,unauthorized)|");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	sgc_client_free(NULL);
	fx_fini(&f);
}

static void test_client_disconnect(void)
{
	struct fx f;

	fx_init(&f, "http://h:1/admin");
	f.o.reconnection_delay_ms = 1;
	fx_connected(&f, "40/admin,{\"sid\":\"S1\"}");
	CHECK_INT(f.r.connected, 1);
	fake_engine_clear_sent(f.e);
	sgc_disconnect(f.c);
	/* DISCONNECT for the namespace, then a graceful close */
	CHECK_STR(fake_engine_sent(f.e), "T:41/admin,|");
	CHECK(fake_engine_shut(f.e));
	CHECK_STR(f.r.log.data,
		  "connected(S1,unauthorized)|disconnected(io client disconnect,unauthorized)|");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	/* the closing engine ends: nothing more happens */
	fake_engine_close(f.e, 0, "io client disconnect", "");
	run_ms(20);
	CHECK_INT(fake_engine_count(), 1);
	CHECK_INT(f.r.disconnected, 1);
	/* disconnect while connecting: no callback */
	CHECK_INT(sgc_connect(f.c), SGC_OK);
	f.e = fake_engine_last();
	sgc_disconnect(f.c);
	CHECK(fake_engine_freed(f.e));
	CHECK_INT(f.r.disconnected, 1);
	/* disconnect while waiting to reconnect cancels the reconnection */
	f.e = connect_open(f.c, "40/admin,{\"sid\":\"S2\"}");
	fake_engine_close(f.e, 0, "ping timeout", "");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_RECONNECTING);
	sgc_disconnect(f.c);
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	run_ms(30);
	CHECK_INT(fake_engine_count(), 3);
	fx_fini(&f);
}

static void test_connect_error(void)
{
	struct fx f;

	fx_init(&f, "http://h:1/nope");
	f.o.reconnection_delay_ms = 1;
	fx_connected(&f, "44/nope,{\"message\":\"not authorized\",\"data\":{\"code\":42}}");
	CHECK_STR(f.r.log.data, "error(-10,not authorized,{\"code\":42})|");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	CHECK(fake_engine_shut(f.e));
	run_ms(20);
	CHECK_INT(fake_engine_count(), 1); /* no reconnection */
	/* a string CONNECT_ERROR */
	sg_buf_reset(&f.r.log);
	connect_open(f.c, "44/nope,\"Invalid namespace\"");
	CHECK_STR(f.r.log.data, "error(-10,Invalid namespace)|");
	fx_fini(&f);
}

static void test_protocol_error(void)
{
	static const struct {
		const char *packet;
		bool connected; /* received after the CONNECT's answer */
	} garbage[] = {
		{ "49", true },
		{ "42[", true },
		{ "42{\"not\":\"array\"}", true },
		{ "42[]", true },
		{ "40{\"nosid\":1}", false },
	};
	struct fx f;

	for (size_t i = 0; i < SG_ARRAY_LEN(garbage); i++) {
		fx_init(&f, "http://h:1");
		f.o.reconnection_delay_ms = 5;
		fx_connected(&f, garbage[i].connected ? "40{\"sid\":\"S1\"}" : NULL);
		fake_engine_recv(f.e, garbage[i].packet);
		CHECK_INT(f.r.last_error, SGC_ERR_PROTOCOL);
		CHECK(fake_engine_freed(f.e));
		if (garbage[i].connected)
			CHECK(strstr(f.r.log.data,
				     "disconnected(parse error,unauthorized)|reconnecting(1)|") !=
			      NULL);
		else
			CHECK(strstr(f.r.log.data, "reconnecting(1)|") != NULL);
		CHECK_INT(sgc_conn_state(f.c), SGC_CONN_RECONNECTING);
		fx_fini(&f);
	}
	/* packets of another namespace are ignored */
	fx_init(&f, "http://h:1");
	fx_client(&f);
	CHECK_INT(sgc_subscribe(f.c, "x", h_log, &f.r, true), SGC_OK);
	f.e = connect_open(f.c, "40{\"sid\":\"S1\"}");
	fake_engine_recv(f.e, "42/other,[\"x\"]");
	fake_engine_recv(f.e, "41/other,");
	CHECK_STR(f.r.log.data, "connected(S1,unauthorized)|");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_CONNECTED);
	fx_fini(&f);
}

static void test_reconnect(void)
{
	struct fx f;

	fx_init(&f, "http://h:1");
	f.o.reconnection_delay_ms = 10;
	f.o.reconnection_delay_max_ms = 40;
	f.o.randomization_factor = 0;
	fx_connected(&f, "40{\"sid\":\"S1\"}");
	fake_engine_close(f.e, 0, "transport close", "");
	CHECK_INT(f.r.reconnecting, 1);
	CHECK_INT(f.r.last_delay, 10);
	run_ms(30);
	CHECK_INT(fake_engine_count(), 2);
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_CONNECTING);
	/* the attempt fails before opening: on_error, then the next delay */
	fake_engine_close(fake_engine_last(), SGC_ERR_CONNECT, "transport error",
			  "connection refused");
	CHECK_INT(f.r.last_error, SGC_ERR_CONNECT);
	CHECK_INT(f.r.reconnecting, 2);
	CHECK_INT(f.r.last_delay, 20);
	run_ms(40);
	fake_engine_close(fake_engine_last(), SGC_ERR_HANDSHAKE, "transport error", "HTTP 400");
	CHECK_INT(f.r.last_delay, 40);
	run_ms(60);
	CHECK_INT(fake_engine_count(), 4);
	/* success resets the backoff */
	f.e = fake_engine_last();
	fake_engine_open(f.e);
	fake_engine_recv(f.e, "40{\"sid\":\"S9\"}");
	CHECK_INT(f.r.connected, 2);
	CHECK_STR(sgc_socket_id(f.c), "S9");
	fake_engine_close(f.e, 0, "ping timeout", "");
	CHECK_INT(f.r.last_delay, 10);
	CHECK(strstr(f.r.log.data, "disconnected(ping timeout,unauthorized)|") != NULL);
	fx_fini(&f);

	/* without reconnection, a lost connection stays lost */
	fx_init(&f, "http://h:1");
	f.o.reconnection = false;
	fx_connected(&f, "40{\"sid\":\"S1\"}");
	fake_engine_close(f.e, 0, "transport close", "");
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	CHECK_INT(f.r.reconnecting, 0);
	fx_fini(&f);
}

static void test_reconnect_gives_up(void)
{
	struct fx f;

	fx_init(&f, "http://h:1");
	f.o.reconnection_delay_ms = 1;
	f.o.reconnection_delay_max_ms = 2;
	f.o.reconnection_attempts = 2;
	fx_client(&f);
	CHECK_INT(sgc_connect(f.c), SGC_OK);
	for (int i = 0; i < 3; i++) {
		fake_engine_close(fake_engine_last(), SGC_ERR_CONNECT, "transport error",
				  "refused");
		run_ms(10);
	}
	CHECK_INT(fake_engine_count(), 3);
	CHECK_INT(f.r.reconnecting, 2);
	CHECK_INT(f.r.last_error, SGC_ERR_RECONNECT_FAILED);
	CHECK(strstr(f.r.log.data, "error(-12,gave up after 2 reconnection attempts)|") != NULL);
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	/* connect() starts over */
	CHECK_INT(sgc_connect(f.c), SGC_OK);
	CHECK_INT(fake_engine_count(), 4);
	fx_fini(&f);
}

static void test_connect_timeout(void)
{
	struct fx f;

	fx_init(&f, "http://h:1");
	f.o.connect_timeout_ms = 20;
	f.o.reconnection = false;
	fx_connected(&f, NULL); /* open, but no CONNECT answer */
	run_ms(50);
	CHECK_STR(f.r.log.data, "error(-4,connection attempt timed out after 20 ms)|");
	CHECK(fake_engine_freed(f.e));
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	fx_fini(&f);
}

static void test_namespace_and_rooms(void)
{
	static const char *const rooms[] = { "public-a", "b\"q" };
	static const char *const bad_rooms[] = { "a", NULL };
	struct fx f;
	/* joins and leaves once connected: (rooms, n, callback, timeout) -> result */
	const struct {
		bool leave;
		const char *const *rooms;
		size_t n;
		bool ack;
		unsigned timeout_ms;
		int want;
	} calls[] = {
		{ false, rooms, 2, false, 0, SGC_OK },
		{ false, rooms, 1, true, 100, SGC_OK },
		{ true, rooms, 1, false, 0, SGC_OK },
		{ false, rooms, 0, false, 0, SGC_ERR_INVALID },
		{ false, bad_rooms, 2, false, 0, SGC_ERR_INVALID },
	};

	fx_init(&f, "http://h:1/ignored");
	f.o.nsp = "/chat";
	fx_client(&f);
	CHECK_INT(sgc_join_rooms(f.c, rooms, 2, NULL, NULL, 0), SGC_ERR_NOT_CONNECTED);
	f.e = connect_open(f.c, "40/chat,{\"sid\":\"S1\"}");
	fake_engine_clear_sent(f.e);
	for (size_t i = 0; i < SG_ARRAY_LEN(calls); i++) {
		int (*op)(struct sgc_client *, const char *const *, size_t, sgc_ack_fn, void *,
			  unsigned) = calls[i].leave ? sgc_leave_rooms : sgc_join_rooms;
		CHECK_INT(op(f.c, calls[i].rooms, calls[i].n, calls[i].ack ? ack_log : NULL,
			     calls[i].ack ? &f.r : NULL, calls[i].timeout_ms),
			  calls[i].want);
	}
	CHECK_STR(fake_engine_sent(f.e),
		  "T:42/chat,[\"join\",{\"rooms\":[\"public-a\",\"b\\\"q\"]}]|"
		  "T:42/chat,0[\"join\",{\"rooms\":[\"public-a\"]}]|"
		  "T:42/chat,[\"leave\",{\"rooms\":[\"public-a\"]}]|");
	fake_engine_recv(f.e, "43/chat,0[{\"rooms\":[\"public-a\"],\"rejected\":[]}]");
	CHECK(strstr(f.r.log.data, "ack(0,[{\"rooms\":[\"public-a\"],\"rejected\":[]}])|") != NULL);
	fx_fini(&f);
}

static void test_shutdown(void)
{
	struct fx f;

	fx_init(&f, "http://h:1");
	fx_client(&f);
	CHECK_INT(sgc_subscribe(f.c, "x", h_log, &f.r, true), SGC_OK);
	f.e = connect_open(f.c, "40{\"sid\":\"S1\"}");
	CHECK_INT(sgc_authenticate(f.c), SGC_OK);
	fake_engine_clear_sent(f.e);
	sgc_shutdown(f.c);
	CHECK_STR(fake_engine_sent(f.e), "T:41|");
	CHECK_INT(sgc_handler_count(f.c, "x"), 0);
	CHECK_INT(sgc_state(f.c), SGC_UNAUTHORIZED);
	CHECK_INT(sgc_conn_state(f.c), SGC_CONN_DISCONNECTED);
	CHECK(strstr(f.r.log.data, "disconnected(io client disconnect,unauthorized)|") != NULL);
	/* still usable */
	CHECK_INT(sgc_subscribe(f.c, "x", h_log, &f.r, true), SGC_OK);
	f.e = connect_open(f.c, "40{\"sid\":\"S2\"}");
	CHECK_INT(f.r.connected, 2);
	fx_fini(&f);
}

int main(void)
{
	base = event_base_new();
	RUN(test_options);
	RUN(test_url_to_engine);
	RUN(test_connect_and_auth);
	RUN(test_unauthenticated);
	RUN(test_emit);
	RUN(test_acks);
	RUN(test_server_ack_request);
	RUN(test_binary);
	RUN(test_subscribe_semantics);
	RUN(test_handler_errors_contained);
	RUN(test_free_inside_callbacks);
	RUN(test_client_disconnect);
	RUN(test_connect_error);
	RUN(test_protocol_error);
	RUN(test_reconnect);
	RUN(test_reconnect_gives_up);
	RUN(test_connect_timeout);
	RUN(test_namespace_and_rooms);
	RUN(test_shutdown);
	event_base_free(base);
	return UNIT_END();
}
