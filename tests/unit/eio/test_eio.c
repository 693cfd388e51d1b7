/*
 * test_eio.c: Engine.IO sessions (eio/eio.c) alone, driven through their
 * handler tables: a worker with the network layer, the Engine.IO layer and
 * this test's module, whose eio_handler records the messages, closes and
 * frees it is told of (and can echo, or declare a session overdue); the
 * clients are socketpairs speaking HTTP and WebSocket.
 *
 * The handshake over both transports and its open packet, exactly; the
 * requests Engine.IO refuses, as a table of request -> status and JSON
 * error; CORS; messages both ways on a WebSocket (text, binary, the base64
 * 'b' form); the packets that end a session; the heartbeat (pong re-arms
 * it, silence closes with "ping timeout") and the connect deadline;
 * long-polling (a held GET answered by the next message, queued messages
 * joined by the record separator, POSTs of several packets, the errors of
 * overlapping GETs, binary content types, bodies over max_payload); and the
 * upgrade from polling to WebSocket with what was queued during it.
 */
#include <jansson.h>
#include <signal.h>

#include "eio/eio.h"
#include "proto/ws_frame.h"
#include "wire.h"

/* What the eio_handler saw. */
struct rec {
	struct sg_buf log; /* "M:<text>|", "B:<hex>|", "closed(<reason>)|" */
	int frees;
	int opened;   /* sessions counted at their first message or close */
	bool echo;    /* messages go back on the same session */
	bool overdue; /* connect_overdue says yes */
	struct eio_session *last;
};

static struct rec rec;

static void on_message(struct eio_session *s, bool binary, const char *data, size_t len)
{
	rec.last = s;
	if (binary) {
		sg_buf_append_str(&rec.log, "B:");
		for (size_t i = 0; i < len; i++)
			sg_buf_printf(&rec.log, "%02x", (unsigned char)data[i]);
	} else {
		sg_buf_printf(&rec.log, "M:%.*s", (int)len, data);
	}
	sg_buf_append_char(&rec.log, '|');
	if (rec.echo && binary)
		eio_send_binary(s, data, len);
	else if (rec.echo)
		eio_send_message(s, data, len);
}

static void on_closed(struct eio_session *s, enum sg_close reason)
{
	CHECK(s->closing);
	sg_buf_printf(&rec.log, "closed(%s)|", sg_close_text(reason));
}

static void on_free(struct eio_session *s)
{
	CHECK(s->finished);
	rec.frees++;
	if (rec.last == s)
		rec.last = NULL;
}

static bool connect_overdue(const struct eio_session *s, int64_t now_ms)
{
	CHECK(now_ms >= s->issued_ms);
	return rec.overdue;
}

static const struct eio_handler recorder = {
	.on_message = on_message,
	.on_closed = on_closed,
	.on_free = on_free,
	.connect_overdue = connect_overdue,
};

static int test_module_init(struct worker *w)
{
	w->eio_handler = &recorder;
	return 0;
}

static const struct worker_module test_module = { .name = "test", .init = test_module_init };
static const struct worker_module *const mods[] = { &conn_module, &eio_module, &test_module };

/* A slow heartbeat, out of the way of the tests that do not look at it. */
static const char yaml_default[] = "server:\n"
				   "  ping_interval: 20s\n"
				   "  ping_timeout: 20s\n"
				   "  max_payload: 1000\n"
				   "log: {level: error}\n";
static const char yaml_fast_ping[] = "server:\n"
				     "  ping_interval: 40ms\n"
				     "  ping_timeout: 80ms\n"
				     "  max_payload: 1000\n"
				     "log: {level: error}\n";

static void setup(struct wire *x, const char *yaml)
{
	sg_buf_reset(&rec.log);
	rec.frees = 0;
	rec.echo = false;
	rec.overdue = false;
	rec.last = NULL;
	wire_init(x, yaml, mods, SG_ARRAY_LEN(mods));
}

/* Ends what is left (a polling session has no connection to end it), then
 * the worker; every session made was freed exactly once. */
static void teardown(struct wire *x, int sessions_made)
{
	while (x->w.sessions != NULL)
		eio_session_abort(x->w.sessions, SG_CLOSE_SHUTDOWN);
	wire_fini(x);
	CHECK_INT(rec.frees, sessions_made);
}

/* ---- HTTP requests -------------------------------------------------- */

/* Sends one request: method, the query after /socket.io/?, extra header
 * lines, and a body (NULL: none). */
static void request(struct wire *x, struct wire_peer *p, const char *method, const char *query,
		    const char *headers, const char *body)
{
	struct sg_buf b;

	sg_buf_init(&b);
	sg_buf_printf(&b, "%s /socket.io/?%s HTTP/1.1\r\nHost: t\r\n%s", method, query,
		      headers ? headers : "");
	if (body != NULL)
		sg_buf_printf(
			&b,
			"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: %zu\r\n\r\n%s",
			strlen(body), body);
	else
		sg_buf_append_str(&b, "\r\n");
	wire_send(x, p, b.data, b.len);
	sg_buf_fini(&b);
}

/* The open packet as Node writes it, for sid. */
static void open_packet(struct sg_buf *out, const char *sid, bool upgrades, int interval,
			int timeout)
{
	sg_buf_printf(out,
		      "0{\"sid\":\"%s\",\"upgrades\":%s,\"pingInterval\":%d,\"pingTimeout\":%d,"
		      "\"maxPayload\":1000}",
		      sid, upgrades ? "[\"websocket\"]" : "[]", interval, timeout);
}

/* A polling handshake on p; the sid goes to sid (21 bytes). */
static bool handshake_polling(struct wire *x, struct wire_peer *p, char *sid)
{
	struct wire_response r;
	struct sg_buf want;
	bool ok;

	wire_response_init(&r);
	sg_buf_init(&want);
	request(x, p, "GET", "EIO=4&transport=polling", NULL, NULL);
	ok = wire_response(x, p, &r) && r.status == 200 && r.body.len > 29 &&
	     strncmp(r.body.data, "0{\"sid\":\"", 9) == 0;
	if (ok) {
		memcpy(sid, r.body.data + 9, SG_ID_LEN);
		sid[SG_ID_LEN] = '\0';
		open_packet(&want, sid, true, 20000, 20000);
		ok = strcmp(r.body.data, want.data) == 0;
	}
	if (!ok)
		fprintf(stderr, "  polling handshake: %d %s\n", r.status, r.body.data);
	wire_response_fini(&r);
	sg_buf_fini(&want);
	return ok;
}

/* A WebSocket handshake on p; the sid from the open packet, which must be
 * exactly Node's. */
static bool handshake_websocket(struct wire *x, struct wire_peer *p, char *sid, int interval,
				int timeout)
{
	struct sg_buf open, want;
	bool ok;

	sg_buf_init(&open);
	sg_buf_init(&want);
	ok = wire_eio_open(x, p, "", NULL, sid, &open);
	if (ok) {
		open_packet(&want, sid, false, interval, timeout);
		ok = strcmp(open.data, want.data) == 0;
		if (!ok)
			fprintf(stderr, "  open packet \"%s\"\n", open.data);
	}
	sg_buf_fini(&open);
	sg_buf_fini(&want);
	return ok;
}

/* A worker with yaml and one WebSocket session (its sid in sid). */
static struct wire_peer *ws_session(struct wire *x, const char *yaml, char *sid)
{
	bool fast = yaml == yaml_fast_ping;
	struct wire_peer *p;

	setup(x, yaml);
	p = wire_connect(x);
	CHECK(handshake_websocket(x, p, sid, fast ? 40 : 20000, fast ? 80 : 20000));
	return p;
}

static bool cond_log_has(struct wire *x, const void *arg)
{
	SG_UNUSED(x);
	return strstr(rec.log.data, arg) != NULL;
}

static bool log_waits_for(struct wire *x, const char *text)
{
	bool ok = wire_until(x, cond_log_has, text, WIRE_TIMEOUT_MS);

	if (!ok)
		fprintf(stderr, "  the handler log \"%s\" lacks \"%s\"\n", rec.log.data, text);
	return ok;
}

/* ---- the handshake -------------------------------------------------- */

static void test_handshake_polling(void)
{
	struct wire x;
	struct wire_peer *p;
	struct wire_response r;
	char sid[SG_ID_LEN + 1], sid2[SG_ID_LEN + 1];

	setup(&x, yaml_default);
	wire_response_init(&r);
	p = wire_connect(&x);
	request(&x, p, "GET", "EIO=4&transport=polling&t=abc", NULL, NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_INT(r.status, 200);
	CHECK(wire_has_header(&r, "Content-Type: text/plain; charset=UTF-8"));
	CHECK(wire_has_header(&r, "Cache-Control: no-store"));
	CHECK(wire_has_header(&r, "Connection: keep-alive"));
	memcpy(sid, r.body.data + 9, SG_ID_LEN);
	sid[SG_ID_LEN] = '\0';
	CHECK_INT(strspn(sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
		  SG_ID_LEN);
	CHECK_INT(sg_id_worker(sid, SG_ID_LEN), 0);
	CHECK(hmap_get(&x.w.sessions_by_sid, sid, SG_ID_LEN) == x.w.sessions);
	CHECK_INT(x.w.n_sessions, 1);
	CHECK_INT(x.w.stats.handshakes, 1);
	CHECK(x.w.sessions->transport == EIO_POLLING);
	/* the connection is kept alive: a second handshake on it */
	CHECK(handshake_polling(&x, p, sid2));
	CHECK(strcmp(sid, sid2) != 0);
	CHECK_INT(x.w.n_sessions, 2);
	CHECK_STR(rec.log.data, ""); /* the handler hears of a session by its messages */
	wire_response_fini(&r);
	teardown(&x, 2);
}

static void test_handshake_websocket(void)
{
	struct wire x;
	char sid[SG_ID_LEN + 1];

	CHECK(ws_session(&x, yaml_default, sid)->in.len == 0); /* nothing after the open packet */
	CHECK_INT(x.w.n_sessions, 1);
	CHECK(x.w.sessions->transport == EIO_WEBSOCKET);
	CHECK_STR(x.w.sessions->sid, sid);
	CHECK_STR(x.w.sessions->addr, "127.0.0.1");
	/* the handshake's request head is kept for the layers above */
	{
		struct http_request req;
		CHECK_INT(eio_session_request(x.w.sessions, &req), 0);
		CHECK(req.query_len > 0 && memcmp(req.query, "EIO=4&transport=websocket", 25) == 0);
	}
	teardown(&x, 1);
}

/* What Engine.IO refuses, as Node's verify() answers it. */
static void test_request_errors(void)
{
	static const struct {
		const char *request; /* the whole head */
		int status;
		const char *content_type;
		const char *body;
	} cases[] = {
		{ "GET /socket.io/?EIO=4 HTTP/1.1\r\nHost: t\r\n\r\n", 400, "application/json",
		  "{\"code\":0,\"message\":\"Transport unknown\"}" },
		{ "GET /socket.io/?EIO=4&transport=flash HTTP/1.1\r\nHost: t\r\n\r\n", 400,
		  "application/json", "{\"code\":0,\"message\":\"Transport unknown\"}" },
		{ "GET /socket.io/?EIO=4&transport=Polling HTTP/1.1\r\nHost: t\r\n\r\n", 400,
		  "application/json", "{\"code\":0,\"message\":\"Transport unknown\"}" },
		{ "GET /socket.io/?transport=polling HTTP/1.1\r\nHost: t\r\n\r\n", 400,
		  "application/json", "{\"code\":5,\"message\":\"Unsupported protocol version\"}" },
		{ "GET /socket.io/?EIO=3&transport=polling HTTP/1.1\r\nHost: t\r\n\r\n", 400,
		  "application/json", "{\"code\":5,\"message\":\"Unsupported protocol version\"}" },
		{ "POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\n"
		  "Content-Length: 2\r\n\r\n40",
		  400, "application/json", "{\"code\":2,\"message\":\"Bad handshake method\"}" },
		{ "PUT /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\n\r\n", 400,
		  "application/json", "{\"code\":2,\"message\":\"Bad handshake method\"}" },
		{ "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: t\r\n\r\n", 400,
		  "application/json", "{\"code\":3,\"message\":\"Bad request\"}" },
		{ "GET /socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\n"
		  "Host: t\r\n\r\n",
		  400, "application/json", "{\"code\":1,\"message\":\"Session ID unknown\"}" },
		{ "GET /socket.io/?EIO=4&transport=polling&sid= HTTP/1.1\r\nHost: t\r\n\r\n", 400,
		  "application/json", "{\"code\":1,\"message\":\"Session ID unknown\"}" },
		/* an upgrade is refused raw, as text */
		{ "GET /socket.io/?EIO=4&transport=flash HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\n\r\n",
		  400, "text/html", "Transport unknown" },
		{ "GET /socket.io/?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\n"
		  "Host: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		  400, "text/html", "Session ID unknown" },
		{ "GET /socket.io/?EIO=2&transport=websocket HTTP/1.1\r\nHost: t\r\n"
		  "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		  400, "text/html", "Unsupported protocol version" },
		/* server.path is a prefix, its trailing slash included */
		{ "GET /socket.io?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\n\r\n", 404,
		  "text/plain", "Not Found\n" },
		{ "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\n\r\n", 404,
		  "text/plain", "Not Found\n" },
	};
	struct wire x;
	struct wire_response r;

	setup(&x, yaml_default);
	wire_response_init(&r);
	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct wire_peer *p = wire_connect(&x);
		struct sg_buf ct;

		sg_buf_init(&ct);
		sg_buf_printf(&ct, "Content-Type: %s", cases[i].content_type);
		wire_send_str(&x, p, cases[i].request);
		CHECK(wire_response(&x, p, &r));
		if (r.status != cases[i].status || strcmp(r.body.data, cases[i].body) != 0)
			fprintf(stderr, "  case %zu: %d %s\n", i, r.status, r.body.data);
		CHECK_INT(r.status, cases[i].status);
		CHECK(wire_has_header(&r, ct.data));
		CHECK_STR(r.body.data, cases[i].body);
		CHECK(wire_wait_eof(&x, p)); /* an error answer closes */
		sg_buf_fini(&ct);
	}
	CHECK_INT(x.w.n_sessions, 0);
	/* a path under server.path is Engine.IO's */
	{
		struct wire_peer *p = wire_connect(&x);
		wire_send_str(
			&x, p,
			"GET /socket.io/x/y?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\n\r\n");
		CHECK(wire_response(&x, p, &r) && r.status == 200 && r.body.data[0] == '0');
	}
	wire_response_fini(&r);
	teardown(&x, 1);
}

/* server.transports without websocket: no upgrade is offered, a
 * WebSocket is an unknown transport. */
static void test_polling_only(void)
{
	struct wire x;
	struct wire_peer *p;
	struct wire_response r;

	setup(&x, "server: {transports: [polling], max_payload: 1000, ping_interval: 20s,"
		  " ping_timeout: 20s}\nlog: {level: error}\n");
	wire_response_init(&r);
	p = wire_connect(&x);
	request(&x, p, "GET", "EIO=4&transport=polling", NULL, NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK(strstr(r.body.data, "\"upgrades\":[]") != NULL);
	p = wire_connect(&x);
	wire_ws_request(&x, p, "/socket.io/?EIO=4&transport=websocket", NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_INT(r.status, 400);
	CHECK_STR(r.body.data, "Transport unknown");
	wire_response_fini(&r);
	teardown(&x, 1);
}

static void test_cors(void)
{
	struct wire x;
	struct wire_peer *p;
	struct wire_response r;

	setup(&x, "server: {cors: {origins: [\"https://a.example\"]}, max_payload: 1000,"
		  " ping_interval: 20s, ping_timeout: 20s}\nlog: {level: error}\n");
	wire_response_init(&r);
	/* a preflight */
	p = wire_connect(&x);
	request(&x, p, "OPTIONS", "EIO=4&transport=polling",
		"Origin: https://a.example\r\nAccess-Control-Request-Headers: x-token\r\n", NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_INT(r.status, 204);
	CHECK(wire_has_header(&r, "Access-Control-Allow-Origin: https://a.example"));
	CHECK(wire_has_header(&r, "Access-Control-Allow-Headers: x-token"));
	CHECK(wire_has_header(&r, "Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE"));
	/* the handshake carries the headers */
	request(&x, p, "GET", "EIO=4&transport=polling", "Origin: https://a.example\r\n", NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_INT(r.status, 200);
	CHECK(wire_has_header(&r, "Access-Control-Allow-Origin: https://a.example"));
	CHECK(wire_has_header(&r, "Vary: Origin"));
	/* an origin not listed: 403 Forbidden, for a preflight too */
	request(&x, p, "GET", "EIO=4&transport=polling", "Origin: https://evil.example\r\n", NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_INT(r.status, 403);
	CHECK_STR(r.body.data, "{\"code\":4,\"message\":\"Forbidden\"}");
	p = wire_connect(&x);
	request(&x, p, "OPTIONS", "EIO=4&transport=polling", "Origin: https://evil.example\r\n",
		NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_INT(r.status, 403);
	wire_response_fini(&r);
	teardown(&x, 1);
}

/* ---- WebSocket sessions --------------------------------------------- */

static void test_websocket_messages(void)
{
	struct wire x;
	struct wire_peer *p;
	struct wire_frame f;
	char sid[SG_ID_LEN + 1];

	p = ws_session(&x, yaml_default, sid);
	wire_ws_text(&x, p, "4hello");
	wire_ws_text(&x, p, "4");
	wire_ws_send(&x, p, WS_OP_BINARY, "\x01\x02\x03", 3);
	wire_ws_text(&x, p, "bAQID"); /* base64 binary in a text frame */
	wire_ws_text(&x, p, "6");     /* noop: nothing */
	wire_ws_text(&x, p, "5");     /* upgrade leftover: nothing */
	wire_ws_text(&x, p, "3");     /* a pong nobody asked for: nothing */
	wire_settle(&x);
	CHECK_STR(rec.log.data, "M:hello|M:|B:010203|B:010203|");
	CHECK_INT(x.w.stats.packets_in, 7);
	/* and back */
	rec.echo = true;
	wire_ws_text(&x, p, "4echo \xc3\xa9");
	CHECK(wire_expect_text(&x, p, "4echo \xc3\xa9"));
	wire_ws_send(&x, p, WS_OP_BINARY, "\xff", 1);
	CHECK(wire_frame(&x, p, &f));
	CHECK(f.opcode == WS_OP_BINARY && f.payload.len == 1 && (uint8_t)f.payload.data[0] == 0xff);
	sg_buf_fini(&f.payload);
	CHECK_INT(x.w.n_sessions, 1);
	teardown(&x, 1);
}

/* Packets that end a WebSocket session, and how. */
static void test_websocket_ends(void)
{
	static const struct {
		const char *packet;
		const char *closed; /* the handler's log */
		bool close_frame;   /* a graceful close (a close frame first) */
		enum sg_close reason;
	} cases[] = {
		{ "1", "closed(transport close)|", true, SG_CLOSE_TRANSPORT_CLOSE },
		{ "2", "closed(parse error)|", false, SG_CLOSE_PARSE_ERROR },
		{ "2probe", "closed(parse error)|", false, SG_CLOSE_PARSE_ERROR },
		{ "x", "closed(parse error)|", false, SG_CLOSE_PARSE_ERROR },
		{ "", "closed(parse error)|", false, SG_CLOSE_PARSE_ERROR },
		{ "0", "closed(parse error)|", false, SG_CLOSE_PARSE_ERROR },
		{ "b!!!!", "closed(parse error)|", false, SG_CLOSE_PARSE_ERROR },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct wire x;
		struct wire_peer *p;
		char sid[SG_ID_LEN + 1];

		p = ws_session(&x, yaml_default, sid);
		wire_ws_text(&x, p, cases[i].packet);
		if (cases[i].close_frame)
			CHECK(wire_expect_close(&x, p, 0));
		CHECK(wire_wait_eof(&x, p));
		CHECK_INT(p->in.len, 0);
		CHECK_STR(rec.log.data, cases[i].closed);
		CHECK_INT(x.w.stats.closes[cases[i].reason], 1);
		CHECK_INT(x.w.n_sessions, 0);
		CHECK(hmap_get(&x.w.sessions_by_sid, sid, SG_ID_LEN) == NULL);
		wire_settle(&x);
		CHECK_INT(rec.frees, 1); /* freed at the end of the turn */
		teardown(&x, 1);
	}
}

/* The client hangs up: the session closes with the connection's reason. */
static void test_websocket_hangup(void)
{
	struct wire x;
	struct wire_peer *p;
	char sid[SG_ID_LEN + 1];

	p = ws_session(&x, yaml_default, sid);
	wire_hangup(p);
	CHECK(log_waits_for(&x, "closed(transport close)|"));
	CHECK_INT(x.w.n_sessions, 0);
	teardown(&x, 1);
}

/* ---- the heartbeat -------------------------------------------------- */

/* Pings every ping_interval; a pong re-arms it; silence past ping_timeout
 * closes the session with "ping timeout". */
static void test_heartbeat(void)
{
	struct wire x;
	struct wire_peer *p;
	char sid[SG_ID_LEN + 1];
	int64_t started;

	p = ws_session(&x, yaml_fast_ping, sid);
	for (int i = 0; i < 3; i++) {
		CHECK(wire_expect_text(&x, p, "2"));
		wire_ws_text(&x, p, "3");
	}
	started = sg_mono_ms();
	CHECK(wire_expect_text(&x, p, "2"));
	/* no pong: closed once ping_timeout has passed, not before */
	CHECK(log_waits_for(&x, "closed(ping timeout)|"));
	CHECK(sg_mono_ms() - started >= 80);
	CHECK(wire_wait_eof(&x, p));
	CHECK_INT(x.w.stats.closes[SG_CLOSE_PING_TIMEOUT], 1);
	CHECK_STR(rec.log.data, "closed(ping timeout)|");
	teardown(&x, 1);
}

/* The handler says the session waited too long for its user: the next
 * heartbeat closes it, gracefully, with "connect timeout". */
static void test_connect_overdue(void)
{
	struct wire x;
	struct wire_peer *p;
	char sid[SG_ID_LEN + 1];

	p = ws_session(&x, yaml_fast_ping, sid);
	rec.overdue = true;
	CHECK(wire_expect_close(&x, p, 0)); /* not a ping */
	CHECK(wire_wait_eof(&x, p));
	CHECK_STR(rec.log.data, "closed(connect timeout)|");
	teardown(&x, 1);
}

/* Over polling, the ping waits in the queue for a GET. */
static void test_heartbeat_polling(void)
{
	struct wire x;
	struct wire_peer *p;
	struct wire_response r;
	char sid[SG_ID_LEN + 1];
	char q[96];

	setup(&x, yaml_fast_ping);
	wire_response_init(&r);
	p = wire_connect(&x);
	request(&x, p, "GET", "EIO=4&transport=polling", NULL, NULL);
	CHECK(wire_response(&x, p, &r));
	memcpy(sid, r.body.data + 9, SG_ID_LEN);
	sid[SG_ID_LEN] = '\0';
	snprintf(q, sizeof(q), "EIO=4&transport=polling&sid=%s", sid);
	request(&x, p, "GET", q, NULL, NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_STR(r.body.data, "2");
	request(&x, p, "POST", q, NULL, "3");
	CHECK(wire_response(&x, p, &r));
	CHECK_STR(r.body.data, "ok");
	request(&x, p, "GET", q, NULL, NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_STR(r.body.data, "2");
	/* no pong this time: the session goes, the held GET gets the close */
	request(&x, p, "GET", q, NULL, NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_STR(r.body.data, "1");
	CHECK_STR(rec.log.data, "closed(ping timeout)|");
	wire_response_fini(&r);
	teardown(&x, 1);
}

/* ---- long-polling --------------------------------------------------- */

struct polling {
	struct wire x;
	struct wire_peer *get, *post;
	struct wire_response r;
	char sid[SG_ID_LEN + 1];
	char q[96];
};

static void polling_setup(struct polling *t)
{
	setup(&t->x, yaml_default);
	wire_response_init(&t->r);
	t->get = wire_connect(&t->x);
	t->post = wire_connect(&t->x);
	CHECK(handshake_polling(&t->x, t->get, t->sid));
	snprintf(t->q, sizeof(t->q), "EIO=4&transport=polling&sid=%s", t->sid);
}

static void polling_teardown(struct polling *t, int sessions)
{
	wire_response_fini(&t->r);
	teardown(&t->x, sessions);
}

static bool answer_is(struct polling *t, struct wire_peer *p, int status, const char *body)
{
	bool ok = wire_response(&t->x, p, &t->r) && t->r.status == status &&
		  strcmp(t->r.body.data, body) == 0;

	if (!ok)
		fprintf(stderr, "  expected %d \"%s\", got %d \"%s\"\n", status, body, t->r.status,
			t->r.body.data);
	return ok;
}

static void test_polling_exchange(void)
{
	struct polling t;
	struct eio_session *s;

	polling_setup(&t);
	s = t.x.w.sessions;
	/* a GET waits for the next message */
	request(&t.x, t.get, "GET", t.q, NULL, NULL);
	wire_settle(&t.x);
	CHECK_INT(t.get->in.len, 0);
	CHECK(s->get != NULL);
	eio_send_message(s, "hi", 2);
	CHECK(answer_is(&t, t.get, 200, "4hi"));
	CHECK(wire_has_header(&t.r, "Cache-Control: no-store"));
	/* messages queued meanwhile go out together, text and binary */
	eio_send_message(s, "a", 1);
	eio_send_binary(s, "\x01\x02\x03", 3);
	eio_send_message(s, "b\xc3\xa9", 3);
	request(&t.x, t.get, "GET", t.q, NULL, NULL);
	CHECK(answer_is(&t, t.get, 200,
			"4a\x1e"
			"bAQID\x1e"
			"4b\xc3\xa9"));
	/* a POST of several packets, delivered in order; the answer is "ok" */
	request(&t.x, t.post, "POST", t.q, NULL,
		"4one\x1e"
		"4two\x1e"
		"bAQID\x1e"
		"6");
	CHECK(answer_is(&t, t.post, 200, "ok"));
	CHECK(wire_has_header(&t.r, "Content-Type: text/html"));
	CHECK_STR(rec.log.data, "M:one|M:two|B:010203|");
	/* the client's close packet, with a GET held: the GET gets a noop */
	request(&t.x, t.get, "GET", t.q, NULL, NULL);
	request(&t.x, t.post, "POST", t.q, NULL, "1");
	CHECK(answer_is(&t, t.post, 200, "ok"));
	CHECK(answer_is(&t, t.get, 200, "6"));
	CHECK(log_waits_for(&t.x, "closed(transport close)|"));
	/* the sid is gone */
	request(&t.x, t.get, "GET", t.q, NULL, NULL);
	CHECK(answer_is(&t, t.get, 400, "{\"code\":1,\"message\":\"Session ID unknown\"}"));
	polling_teardown(&t, 1);
}

/* A second GET while one is held: the held one gets the close packet, the
 * second a 400, and the session ends. */
static void test_polling_overlapping_get(void)
{
	struct polling t;

	polling_setup(&t);
	request(&t.x, t.get, "GET", t.q, NULL, NULL);
	wire_settle(&t.x);
	request(&t.x, t.post, "GET", t.q, NULL, NULL);
	CHECK(answer_is(&t, t.post, 400, "{\"code\":3,\"message\":\"Bad request\"}"));
	CHECK(answer_is(&t, t.get, 200, "1"));
	CHECK_STR(rec.log.data, "closed(transport error)|");
	CHECK_INT(t.x.w.n_sessions, 0);
	polling_teardown(&t, 1);
}

/* What a POST may not carry. */
static void test_polling_bad_posts(void)
{
	static const struct {
		const char *headers;
		const char *body; /* NULL: Content-Length 2000 and no body sent */
		int status;
		const char *answer;
		const char *log; /* the handler's */
		bool session_kept;
	} cases[] = {
		/* over max_payload: 413, the data dropped, the session kept (Node) */
		{ "Content-Length: 2000\r\n\r\n", NULL, 413, "", "", true },
		/* binary content: v4 sends binary as base64 text */
		{ "Content-Type: application/octet-stream\r\nContent-Length: 2\r\n\r\n", "4x", 400,
		  "{\"code\":3,\"message\":\"Bad request\"}", "closed(parse error)|", false },
		{ "Content-Length: 2\r\n\r\n", "zz", 200, "ok", "closed(parse error)|", false },
		{ "Content-Length: 0\r\n\r\n", "", 200, "ok", "closed(parse error)|", false },
		{ "Content-Length: 6\r\n\r\n",
		  "4a\x1e\x1e"
		  "4b",
		  200, "ok", "M:a|closed(parse error)|", false },
		{ "Content-Length: 1\r\n\r\n", "2", 200, "ok", "closed(parse error)|", false },
		{ "Content-Length: 3\r\n\r\n", "4ok", 200, "ok", "M:ok|", true },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct polling t;
		struct sg_buf b;

		polling_setup(&t);
		sg_buf_init(&b);
		sg_buf_printf(&b, "POST /socket.io/?%s HTTP/1.1\r\nHost: t\r\n%s%s", t.q,
			      cases[i].headers, cases[i].body ? cases[i].body : "");
		wire_send(&t.x, t.post, b.data, b.len);
		CHECK(answer_is(&t, t.post, cases[i].status, cases[i].answer));
		CHECK_STR(rec.log.data, cases[i].log);
		CHECK_INT(t.x.w.n_sessions, cases[i].session_kept ? 1 : 0);
		sg_buf_fini(&b);
		polling_teardown(&t, 1);
	}
}

/* A polling request naming a session that upgraded is a transport
 * mismatch; a WebSocket naming a WebSocket session is closed at once. */
static void test_transport_mismatch(void)
{
	struct wire x;
	struct wire_peer *p, *q;
	struct wire_response r;
	char sid[SG_ID_LEN + 1], target[96];

	setup(&x, yaml_default);
	wire_response_init(&r);
	p = wire_connect(&x);
	CHECK(handshake_websocket(&x, p, sid, 20000, 20000));
	snprintf(target, sizeof(target), "EIO=4&transport=polling&sid=%s", sid);
	q = wire_connect(&x);
	request(&x, q, "GET", target, NULL, NULL);
	CHECK(wire_response(&x, q, &r));
	CHECK_INT(r.status, 400);
	CHECK_STR(r.body.data, "{\"code\":3,\"message\":\"Bad request\"}");
	snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=websocket&sid=%s", sid);
	q = wire_connect(&x);
	CHECK(wire_ws_upgrade(&x, q, target, NULL));
	CHECK(wire_expect_close(&x, q, 0));
	CHECK(wire_wait_eof(&x, q));
	CHECK_INT(x.w.n_sessions, 1); /* the session itself is untouched */
	CHECK_STR(rec.log.data, "");
	wire_response_fini(&r);
	teardown(&x, 1);
}

/* ---- the upgrade ---------------------------------------------------- */

static void test_upgrade(void)
{
	struct polling t;
	struct wire_peer *ws;
	struct eio_session *s;
	char target[96];

	polling_setup(&t);
	s = t.x.w.sessions;
	request(&t.x, t.get, "GET", t.q, NULL, NULL);
	wire_settle(&t.x);
	ws = wire_connect(&t.x);
	snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=websocket&sid=%s", t.sid);
	CHECK(wire_ws_upgrade(&t.x, ws, target, NULL));
	CHECK(s->probe != NULL && s->transport == EIO_POLLING);
	wire_ws_text(&t.x, ws, "2probe");
	CHECK(wire_expect_text(&t.x, ws, "3probe"));
	/* the held GET is released so the client can pause polling */
	CHECK(answer_is(&t, t.get, 200, "6"));
	/* during the upgrade, messages wait; a GET gets a noop */
	eio_send_message(s, "queued", 6);
	eio_send_binary(s, "\x07", 1);
	request(&t.x, t.get, "GET", t.q, NULL, NULL);
	CHECK(answer_is(&t, t.get, 200, "6"));
	wire_ws_text(&t.x, ws, "5");
	CHECK(wire_expect_text(&t.x, ws, "4queued"));
	{
		struct wire_frame f;
		CHECK(wire_frame(&t.x, ws, &f) && f.opcode == WS_OP_BINARY && f.payload.len == 1);
		sg_buf_fini(&f.payload);
	}
	CHECK(s->transport == EIO_WEBSOCKET && s->probe == NULL);
	/* from now on, the WebSocket */
	eio_send_message(s, "after", 5);
	CHECK(wire_expect_text(&t.x, ws, "4after"));
	wire_ws_text(&t.x, ws, "4up");
	wire_settle(&t.x);
	CHECK_STR(rec.log.data, "M:up|");
	request(&t.x, t.get, "GET", t.q, NULL, NULL);
	CHECK(answer_is(&t, t.get, 400, "{\"code\":3,\"message\":\"Bad request\"}"));
	polling_teardown(&t, 1);
}

/* A probe that says anything else is dropped; the session stays on
 * polling, and a later probe may succeed. */
static void test_upgrade_refused(void)
{
	static const char *const wrong[] = { "2", "4hello", "3probe", "5" };

	for (size_t i = 0; i < SG_ARRAY_LEN(wrong); i++) {
		struct polling t;
		struct wire_peer *ws;
		struct eio_session *s;
		char target[96];

		polling_setup(&t);
		s = t.x.w.sessions;
		ws = wire_connect(&t.x);
		snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=websocket&sid=%s",
			 t.sid);
		CHECK(wire_ws_upgrade(&t.x, ws, target, NULL));
		wire_ws_text(&t.x, ws, wrong[i]);
		CHECK(wire_wait_eof(&t.x, ws));
		CHECK(s->probe == NULL && s->transport == EIO_POLLING && !s->closing);
		CHECK_STR(rec.log.data, "");
		/* still polling */
		eio_send_message(s, "still", 5);
		request(&t.x, t.get, "GET", t.q, NULL, NULL);
		CHECK(answer_is(&t, t.get, 200, "4still"));
		polling_teardown(&t, 1);
	}
}

/* The session is closed gracefully while the client is finishing its
 * upgrade: what was queued goes out on the WebSocket, then its close. */
static void test_close_during_upgrade(void)
{
	struct polling t;
	struct wire_peer *ws;
	struct eio_session *s;
	char target[96];

	polling_setup(&t);
	s = t.x.w.sessions;
	ws = wire_connect(&t.x);
	snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=websocket&sid=%s", t.sid);
	CHECK(wire_ws_upgrade(&t.x, ws, target, NULL));
	wire_ws_text(&t.x, ws, "2probe");
	CHECK(wire_expect_text(&t.x, ws, "3probe"));
	eio_send_message(s, "last words", 10);
	eio_session_close(s, SG_CLOSE_FORCED, true);
	CHECK_STR(rec.log.data, "closed(forced close)|");
	CHECK(eio_session_takes_requests(s));
	wire_ws_text(&t.x, ws, "5");
	CHECK(wire_expect_text(&t.x, ws, "4last words"));
	CHECK(wire_expect_close(&t.x, ws, 0));
	CHECK(wire_wait_eof(&t.x, ws));
	CHECK_INT(t.x.w.n_sessions, 0);
	polling_teardown(&t, 1);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	sg_buf_init(&rec.log);
	sg_buf_reserve(&rec.log, 0);
	RUN(test_handshake_polling);
	RUN(test_handshake_websocket);
	RUN(test_request_errors);
	RUN(test_polling_only);
	RUN(test_cors);
	RUN(test_websocket_messages);
	RUN(test_websocket_ends);
	RUN(test_websocket_hangup);
	RUN(test_heartbeat);
	RUN(test_connect_overdue);
	RUN(test_heartbeat_polling);
	RUN(test_polling_exchange);
	RUN(test_polling_overlapping_get);
	RUN(test_polling_bad_posts);
	RUN(test_transport_mismatch);
	RUN(test_upgrade);
	RUN(test_upgrade_refused);
	RUN(test_close_during_upgrade);
	sg_buf_fini(&rec.log);
	return UNIT_END();
}
