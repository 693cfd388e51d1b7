/*
 * test_ws.c: the WebSocket layer (net/ws.c) alone, driven through its
 * handler table: a worker with the network layer and this test's module,
 * whose conn_handler upgrades requests for /ws and whose ws_handler records
 * what the layer delivers; the client is the other end of a socketpair,
 * sending masked frames and reading the server's.
 *
 * The frame cases are a table (frames sent -> messages delivered, frames
 * answered, connection closed or not, close reason), each run twice: the
 * bytes in one write, then one byte at a time, so the parser meets every
 * partial header and payload.  Then the upgrade's refusals, what the
 * server sends (text with its Engine.IO prefix, binary, a shared frame to
 * two clients, the three header lengths), closes from either side, no
 * handler, and a handler that closes the connection in the middle of a
 * read.
 */
#include <signal.h>

#include "net/ws.h"
#include "proto/http.h"
#include "proto/ws_frame.h"
#include "wire.h"

/* What the ws_handler saw, one connection at a time. */
struct rec {
	struct sg_buf log;     /* "T:<text>|", "B:<hex>|", "closed(<reason>)|" */
	struct ws *ws;	       /* the current connection's */
	bool no_handler;       /* upgrade without setting a handler */
	bool echo;	       /* send every message back, text prefixed with '>' */
	bool close_on_message; /* close the connection on the first message */
};

static struct rec rec;

static void on_message(void *arg, struct ws *ws, bool binary, const char *data, size_t len)
{
	struct rec *r = arg;

	CHECK(ws == r->ws);
	if (binary) {
		sg_buf_append_str(&r->log, "B:");
		for (size_t i = 0; i < len; i++)
			sg_buf_printf(&r->log, "%02x", (unsigned char)data[i]);
	} else {
		sg_buf_printf(&r->log, "T:%.*s", (int)len, data);
	}
	sg_buf_append_char(&r->log, '|');
	if (r->echo) {
		if (binary)
			ws_send_binary(ws, data, len);
		else
			ws_send_text(ws, '>', data, len);
	}
	if (r->close_on_message)
		conn_close(ws_conn(ws), SG_CLOSE_FORCED);
}

static void on_closed(void *arg, struct ws *ws, enum sg_close reason)
{
	struct rec *r = arg;

	SG_UNUSED(ws); /* not always the latest connection's */
	sg_buf_printf(&r->log, "closed(%s)|", sg_close_text(reason));
}

static const struct ws_handler recorder = { .on_message = on_message, .on_closed = on_closed };

/* Requests to /ws?max=N upgrade (N: the largest message, default 1000);
 * anything else is a 404. */
static void on_request(struct worker *w, struct conn *c, const struct http_request *req,
		       const char *body, size_t body_len)
{
	struct sg_buf max;
	uint64_t max_msg = 1000;

	SG_UNUSED(w);
	SG_UNUSED(body);
	SG_UNUSED(body_len);
	if (req->path_len != 3 || memcmp(req->path, "/ws", 3) != 0) {
		conn_respond(c, 404, "text/plain", NULL, "Not Found\n", 10);
		return;
	}
	sg_buf_init(&max);
	if (http_query_get(req->query, req->query_len, "max", &max) == 1)
		max_msg = strtoull(max.data, NULL, 10);
	sg_buf_fini(&max);
	rec.ws = ws_upgrade(c, req, max_msg, "X-Test: upgraded\r\n");
	if (rec.ws != NULL && !rec.no_handler)
		ws_set_handler(rec.ws, &recorder, &rec);
}

static void on_held_closed(void *holder, struct conn *c)
{
	SG_UNUSED(holder);
	SG_UNUSED(c);
}

static const struct conn_handler requests = { .on_request = on_request,
					      .on_held_closed = on_held_closed };

static int test_module_init(struct worker *w)
{
	w->conn_handler[CONN_CLIENT] = &requests;
	return 0;
}

static const struct worker_module test_module = { .name = "test", .init = test_module_init };
static const struct worker_module *const mods[] = { &conn_module, &test_module };

static const char yaml[] = "log: {level: error}\n";

/* A worker, and one connection upgraded on /ws?max=N (the recorder's log
 * emptied): the start of most tests. */
static struct wire_peer *ws_open(struct wire *x, const char *target)
{
	struct wire_peer *p;

	wire_init(x, yaml, mods, SG_ARRAY_LEN(mods));
	sg_buf_reset(&rec.log);
	p = wire_connect(x);
	CHECK(wire_ws_upgrade(x, p, target, NULL));
	return p;
}

/* ---- the frame table ------------------------------------------------ */

/* One client frame: its first byte (FIN, opcode) and payload, masked; or
 * raw bytes sent as they are. */
struct frame_spec {
	uint8_t b0;
	const char *payload;
	size_t len;	 /* 0: strlen(payload) */
	const char *raw; /* bytes sent instead, when not NULL */
	size_t raw_len;
};

#define FIN 0x80
/* initializers, one per line */
/* clang-format off */
#define TEXT(s) { FIN | 0x1, s, 0, NULL, 0 }
#define BIN(s, n) { FIN | 0x2, s, n, NULL, 0 }
#define START(s) { 0x1, s, 0, NULL, 0 }
#define MORE(s) { 0x0, s, 0, NULL, 0 }
#define LAST(s) { FIN | 0x0, s, 0, NULL, 0 }
#define PING(s) { FIN | 0x9, s, 0, NULL, 0 }
#define PONG(s) { FIN | 0xA, s, 0, NULL, 0 }
#define CLOSE(s, n) { FIN | 0x8, s, n, NULL, 0 }
#define RAW(s) { 0, NULL, 0, s, sizeof(s) - 1 }
/* clang-format on */

static const struct frame_case {
	const char *what;
	struct frame_spec frames[4];
	const char *delivered; /* the recorder's log */
	const char *answered;  /* the server's frames: "pong:x|", "close:1002|", "close|" */
	bool closes;	       /* the server closes the connection */
} frame_cases[] = {
	{ "text", { TEXT("hello") }, "T:hello|", "", false },
	{ "empty text", { TEXT("") }, "T:|", "", false },
	{ "binary", { BIN("\x00\x01\xff", 3) }, "B:0001ff|", "", false },
	{ "utf-8",
	  { TEXT("caf\xc3\xa9 \xf0\x9f\x98\x80") },
	  "T:caf\xc3\xa9 \xf0\x9f\x98\x80|",
	  "",
	  false },
	{ "two messages", { TEXT("a"), BIN("b", 1) }, "T:a|B:62|", "", false },
	{ "fragmented text", { START("hel"), MORE("lo"), LAST(" w") }, "T:hello w|", "", false },
	{ "fragmented binary",
	  { { 0x2, "\x01", 1, NULL, 0 }, { FIN, "\x02", 1, NULL, 0 } },
	  "B:0102|",
	  "",
	  false },
	{ "a character across fragments",
	  { START("caf\xc3"), LAST("\xa9") },
	  "T:caf\xc3\xa9|",
	  "",
	  false },
	{ "empty fragments", { START(""), MORE(""), LAST("x") }, "T:x|", "", false },
	{ "ping between fragments",
	  { START("a"), PING("p"), LAST("b") },
	  "T:ab|",
	  "pong:p|",
	  false },
	{ "ping", { PING("abc") }, "", "pong:abc|", false },
	{ "empty ping", { PING("") }, "", "pong:|", false },
	{ "unsolicited pong", { PONG("x"), TEXT("after") }, "T:after|", "", false },
	{ "exactly the largest message", { TEXT("0123456789") }, "T:0123456789|", "", false },
	/* refusals */
	{ "invalid utf-8", { TEXT("caf\xc3") }, "closed(invalid utf-8)|", "close:1007|", true },
	{ "overlong utf-8", { TEXT("\xc0\xaf") }, "closed(invalid utf-8)|", "close:1007|", true },
	{ "surrogate", { TEXT("\xed\xa0\x80") }, "closed(invalid utf-8)|", "close:1007|", true },
	{ "invalid utf-8 in fragments",
	  { START("a\xff"), LAST("b") },
	  "closed(invalid utf-8)|",
	  "close:1007|",
	  true },
	{ "continuation without a start",
	  { LAST("x") },
	  "closed(transport error)|",
	  "close:1002|",
	  true },
	{ "a start inside a message",
	  { START("a"), TEXT("b") },
	  "closed(transport error)|",
	  "close:1002|",
	  true },
	{ "over the largest message",
	  { TEXT("0123456789x") },
	  "closed(message too big)|",
	  "close:1009|",
	  true },
	{ "fragments over the largest message",
	  { START("012345"), LAST("67890") },
	  "closed(message too big)|",
	  "close:1009|",
	  true },
	{ "unmasked", { RAW("\x81\x02hi") }, "closed(transport error)|", "close:1002|", true },
	{ "reserved bit",
	  { RAW("\xc1\x82\x00\x00\x00\x00hi") },
	  "closed(transport error)|",
	  "close:1002|",
	  true },
	{ "reserved data opcode",
	  { RAW("\x83\x80\x00\x00\x00\x00") },
	  "closed(transport error)|",
	  "close:1002|",
	  true },
	{ "reserved control opcode",
	  { RAW("\x8b\x80\x00\x00\x00\x00") },
	  "closed(transport error)|",
	  "close:1002|",
	  true },
	{ "fragmented ping",
	  { { 0x9, "p", 0, NULL, 0 } },
	  "closed(transport error)|",
	  "close:1002|",
	  true },
	{ "ping over 125 bytes",
	  { RAW("\x89\xfe\x00\x7e\x00\x00\x00\x00") },
	  "closed(transport error)|",
	  "close:1002|",
	  true },
	{ "64-bit length with the top bit",
	  { RAW("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00") },
	  "closed(transport error)|",
	  "close:1002|",
	  true },
	/* the client's close */
	{ "close 1000",
	  { CLOSE("\x03\xe8"
		  "bye",
		  5) },
	  "closed(transport close)|",
	  "close:1000|",
	  true },
	{ "bare close", { CLOSE("", 0) }, "closed(transport close)|", "close|", true },
	{ "close 4999", { CLOSE("\x13\x87", 2) }, "closed(transport close)|", "close:4999|", true },
	{ "close 1014", { CLOSE("\x03\xf6", 2) }, "closed(transport close)|", "close:1014|", true },
	{ "close 3000", { CLOSE("\x0b\xb8", 2) }, "closed(transport close)|", "close:3000|", true },
	{ "nothing after a close",
	  { CLOSE("\x03\xe8", 2), TEXT("late") },
	  "closed(transport close)|",
	  "close:1000|",
	  true },
	{ "close 999", { CLOSE("\x03\xe7", 2) }, "closed(transport error)|", "close:1002|", true },
	{ "close 1004", { CLOSE("\x03\xec", 2) }, "closed(transport error)|", "close:1002|", true },
	{ "close 1005", { CLOSE("\x03\xed", 2) }, "closed(transport error)|", "close:1002|", true },
	{ "close 1006", { CLOSE("\x03\xee", 2) }, "closed(transport error)|", "close:1002|", true },
	{ "close 1015", { CLOSE("\x03\xf7", 2) }, "closed(transport error)|", "close:1002|", true },
	{ "close 2999", { CLOSE("\x0b\xb7", 2) }, "closed(transport error)|", "close:1002|", true },
	{ "close 5000", { CLOSE("\x13\x88", 2) }, "closed(transport error)|", "close:1002|", true },
	{ "close of one byte",
	  { CLOSE("\x03", 1) },
	  "closed(transport error)|",
	  "close:1002|",
	  true },
	{ "close reason not utf-8",
	  { CLOSE("\x03\xe8\xff", 3) },
	  "closed(invalid utf-8)|",
	  "close:1007|",
	  true },
};

static void append_frame(struct sg_buf *out, const struct frame_spec *f)
{
	if (f->raw != NULL) {
		sg_buf_append(out, f->raw, f->raw_len);
		return;
	}
	wire_ws_frame(out, (f->b0 & 0x80) != 0, f->b0 & 0x0f, f->payload,
		      f->len ? f->len : strlen(f->payload));
}

/* The server's frames, as the table writes them. */
static void describe_answers(struct wire_peer *p, struct sg_buf *out)
{
	struct wire_frame f;

	while (wire_take_frame(p, &f) == 1) {
		if (f.opcode == WS_OP_PONG)
			sg_buf_printf(out, "pong:%.*s|", (int)f.payload.len, f.payload.data);
		else if (f.opcode == WS_OP_CLOSE && f.payload.len >= 2)
			sg_buf_printf(out, "close:%u|",
				      (unsigned)((uint8_t)f.payload.data[0] << 8 |
						 (uint8_t)f.payload.data[1]));
		else if (f.opcode == WS_OP_CLOSE)
			sg_buf_append_str(out, "close|");
		else
			sg_buf_printf(out, "op%d:%.*s|", f.opcode, (int)f.payload.len,
				      f.payload.data);
		sg_buf_fini(&f.payload);
	}
}

static bool cond_closed_logged(struct wire *x, const void *arg)
{
	SG_UNUSED(x);
	SG_UNUSED(arg);
	return strstr(rec.log.data, "closed(") != NULL;
}

static void run_frame_case(const struct frame_case *c, bool bytewise)
{
	struct wire x;
	struct wire_peer *p;
	struct sg_buf bytes, answers;

	p = ws_open(&x, "/ws?max=10");
	sg_buf_init(&bytes);
	sg_buf_init(&answers);
	sg_buf_reserve(&answers, 0);
	for (size_t i = 0;
	     i < SG_ARRAY_LEN(c->frames) && (c->frames[i].payload || c->frames[i].raw); i++)
		append_frame(&bytes, &c->frames[i]);
	if (bytewise) {
		for (size_t i = 0; i < bytes.len; i++) {
			wire_send(&x, p, bytes.data + i, 1);
			wire_settle(&x);
		}
	} else {
		wire_send(&x, p, bytes.data, bytes.len);
	}
	if (c->closes)
		CHECK(wire_wait_eof(&x, p));
	else
		wire_settle(&x);
	describe_answers(p, &answers);
	if (strcmp(rec.log.data, c->delivered) != 0 || strcmp(answers.data, c->answered) != 0 ||
	    p->eof != c->closes)
		fprintf(stderr, "  case \"%s\"%s: delivered \"%s\", answered \"%s\"%s\n", c->what,
			bytewise ? " byte by byte" : "", rec.log.data, answers.data,
			p->eof ? ", closed" : "");
	CHECK_STR(rec.log.data, c->delivered);
	CHECK_STR(answers.data, c->answered);
	CHECK(p->eof == c->closes);
	/* the client goes: the layer says so once, after what it delivered */
	wire_hangup(p);
	CHECK(wire_until(&x, cond_closed_logged, NULL, WIRE_TIMEOUT_MS));
	sg_buf_fini(&bytes);
	sg_buf_fini(&answers);
	wire_fini(&x);
}

static void test_frames(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(frame_cases); i++) {
		run_frame_case(&frame_cases[i], false);
		run_frame_case(&frame_cases[i], true);
	}
}

/* ---- the upgrade ---------------------------------------------------- */

static void test_upgrade(void)
{
	struct wire x;
	struct wire_peer *p;
	struct wire_response r;

	wire_init(&x, yaml, mods, SG_ARRAY_LEN(mods));
	wire_response_init(&r);
	p = wire_connect(&x);
	wire_ws_request(&x, p, "/ws", NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_INT(r.status, 101);
	CHECK(strncmp(r.head.data, "HTTP/1.1 101 Switching Protocols\r\n", 34) == 0);
	CHECK(wire_has_header(&r, "Upgrade: websocket"));
	CHECK(wire_has_header(&r, "Connection: Upgrade"));
	CHECK(wire_has_header(&r, "Sec-WebSocket-Accept: " WIRE_WS_ACCEPT));
	CHECK(wire_has_header(&r, "X-Test: upgraded")); /* the caller's extra headers */
	CHECK(strcasestr(r.head.data, "Sec-WebSocket-Extensions") == NULL); /* no deflate */
	CHECK_INT(r.body.len, 0);
	CHECK(x.w.conns != NULL && x.w.conns->state == CONN_WS);
	/* frames that came with the request are read at once */
	{
		struct wire_peer *q = wire_connect(&x);
		struct sg_buf b;

		sg_buf_init(&b);
		sg_buf_printf(&b, "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
				  "Connection: Upgrade\r\nSec-WebSocket-Key: " WIRE_WS_KEY "\r\n"
				  "Sec-WebSocket-Version: 13\r\n\r\n");
		wire_ws_frame(&b, true, WS_OP_TEXT, "early", 5);
		sg_buf_reset(&rec.log);
		wire_send(&x, q, b.data, b.len);
		CHECK(wire_response(&x, q, &r) && r.status == 101);
		CHECK_STR(rec.log.data, "T:early|");
		sg_buf_fini(&b);
	}
	wire_response_fini(&r);
	wire_fini(&x);
}

static void test_upgrade_refused(void)
{
	static const struct {
		const char *headers; /* after Host, Upgrade and Connection */
		const char *body;
	} cases[] = {
		{ "Sec-WebSocket-Version: 13\r\n", "Missing or invalid Sec-WebSocket-Key" },
		{ "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\nSec-WebSocket-Version: 13\r\n",
		  "Missing or invalid Sec-WebSocket-Key" },
		{ "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==x\r\nSec-WebSocket-Version: 13\r\n",
		  "Missing or invalid Sec-WebSocket-Key" },
		{ "Sec-WebSocket-Key: " WIRE_WS_KEY "\r\n", "Unsupported WebSocket version" },
		{ "Sec-WebSocket-Key: " WIRE_WS_KEY "\r\nSec-WebSocket-Version: 8\r\n",
		  "Unsupported WebSocket version" },
		{ "Sec-WebSocket-Key: " WIRE_WS_KEY "\r\nSec-WebSocket-Version: 130\r\n",
		  "Unsupported WebSocket version" },
	};
	struct wire x;
	struct wire_response r;

	wire_init(&x, yaml, mods, SG_ARRAY_LEN(mods));
	wire_response_init(&r);
	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct wire_peer *p = wire_connect(&x);
		struct sg_buf req;

		sg_buf_init(&req);
		sg_buf_printf(&req,
			      "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
			      "Connection: Upgrade\r\n%s\r\n",
			      cases[i].headers);
		wire_send(&x, p, req.data, req.len);
		CHECK(wire_response(&x, p, &r));
		CHECK_INT(r.status, 400);
		CHECK(wire_has_header(&r, "Content-Type: text/html"));
		CHECK(wire_has_header(&r, "Connection: close"));
		CHECK_STR(r.body.data, cases[i].body);
		CHECK(wire_wait_eof(&x, p));
		sg_buf_fini(&req);
	}
	CHECK(x.w.stats.closes[SG_CLOSE_BAD_REQUEST] == SG_ARRAY_LEN(cases));
	wire_response_fini(&r);
	wire_fini(&x);
}

/* ---- what the server sends ------------------------------------------ */

/* Server frames of every header length: 125 bytes in the first byte, 126
 * to 65535 in 16 bits, more in 64; text carries its one-byte prefix. */
static void test_send(void)
{
	static const size_t sizes[] = { 0, 1, 124, 125, 126, 65535, 65536, 70000 };
	struct wire x;
	struct wire_peer *p;
	char *big = malloc(70001);

	for (size_t i = 0; i < 70001; i++)
		big[i] = (char)('a' + i % 26);
	p = ws_open(&x, "/ws");
	for (size_t i = 0; i < SG_ARRAY_LEN(sizes); i++) {
		struct wire_frame f;

		/* text of sizes[i] bytes in all: the prefix and sizes[i] - 1 */
		if (sizes[i] > 0) {
			ws_send_text(rec.ws, '4', big, sizes[i] - 1);
			CHECK(ws_pending(rec.ws) > 0); /* written at the end of the turn */
			CHECK(wire_frame(&x, p, &f));
			CHECK(f.fin && f.opcode == WS_OP_TEXT && f.payload.len == sizes[i]);
			CHECK(f.payload.data[0] == '4' &&
			      memcmp(f.payload.data + 1, big, sizes[i] - 1) == 0);
			sg_buf_fini(&f.payload);
			CHECK_INT(ws_pending(rec.ws), 0);
		}
		ws_send_binary(rec.ws, big, sizes[i]);
		CHECK(wire_frame(&x, p, &f));
		CHECK(f.fin && f.opcode == WS_OP_BINARY && f.payload.len == sizes[i]);
		CHECK(f.payload.len == 0 || memcmp(f.payload.data, big, sizes[i]) == 0);
		sg_buf_fini(&f.payload);
	}
	ws_send_text(rec.ws, 0, "no prefix", 9);
	CHECK(wire_expect_text(&x, p, "no prefix"));
	free(big);
	wire_fini(&x);
}

/* One encoded frame queued on two connections: both receive it, and the
 * frame is released once both have written it. */
static void test_shared_frame(void)
{
	struct wire x;
	struct wire_peer *a, *b;
	struct ws *wa, *wb;
	struct sg_frame *f = frame_new(WS_OP_TEXT, '4', "shared", 6);

	a = ws_open(&x, "/ws");
	wa = rec.ws;
	b = wire_connect(&x);
	CHECK(wire_ws_upgrade(&x, b, "/ws", NULL));
	wb = rec.ws;
	ws_send_frame(wa, f);
	ws_send_frame(wb, f);
	CHECK_INT(f->refs, 3);
	CHECK(wire_expect_text(&x, a, "4shared"));
	CHECK(wire_expect_text(&x, b, "4shared"));
	CHECK_INT(f->refs, 1); /* written: the buffers let it go */
	frame_unref(f);
	wire_fini(&x);
}

/* The echo handler answers each message in order, from inside the read. */
static void test_echo(void)
{
	struct wire x;
	struct wire_peer *p;
	struct sg_buf b;

	p = ws_open(&x, "/ws");
	rec.echo = true;
	sg_buf_init(&b);
	wire_ws_frame(&b, true, WS_OP_TEXT, "one", 3);
	wire_ws_frame(&b, false, WS_OP_TEXT, "tw", 2);
	wire_ws_frame(&b, true, WS_OP_CONTINUATION, "o", 1);
	wire_send(&x, p, b.data, b.len);
	CHECK(wire_expect_text(&x, p, ">one"));
	CHECK(wire_expect_text(&x, p, ">two"));
	CHECK(x.w.stats.bytes_in >= b.len);
	rec.echo = false;
	sg_buf_fini(&b);
	wire_fini(&x);
}

/* ---- closes --------------------------------------------------------- */

/* ws_close: a bare close frame (the client sees 1005, as from Node), the
 * handler told once with the reason, the connection ended after it; what
 * is sent afterwards is dropped. */
static void test_server_close(void)
{
	struct wire x;
	struct wire_peer *p;

	p = ws_open(&x, "/ws");
	ws_send_text(rec.ws, 0, "last", 4);
	ws_close(rec.ws, SG_CLOSE_SHUTDOWN);
	ws_send_text(rec.ws, 0, "dropped", 7);
	ws_close(rec.ws, SG_CLOSE_FORCED); /* a second close changes nothing */
	CHECK_STR(rec.log.data, "closed(server shutting down)|");
	CHECK(wire_expect_text(&x, p, "last"));
	CHECK(wire_expect_close(&x, p, 0));
	CHECK(wire_wait_eof(&x, p));
	CHECK_INT(p->in.len, 0);
	CHECK_INT(x.w.stats.closes[SG_CLOSE_SHUTDOWN], 1);
	wire_fini(&x);
}

/* The client hangs up without a close frame. */
static void test_client_hangup(void)
{
	struct wire x;
	struct wire_peer *p;

	p = ws_open(&x, "/ws");
	wire_send(&x, p, "\x81", 1); /* half a frame header */
	wire_hangup(p);
	CHECK(wire_until(&x, cond_closed_logged, NULL, WIRE_TIMEOUT_MS));
	CHECK_STR(rec.log.data, "closed(transport close)|");
	CHECK_INT(x.w.stats.closes[SG_CLOSE_TRANSPORT_CLOSE], 1);
	CHECK(x.w.conns == NULL);
	wire_fini(&x);
}

/* Until a handler is set, messages are dropped; pings are still answered. */
static void test_no_handler(void)
{
	struct wire x;
	struct wire_peer *p;
	struct wire_frame f;

	wire_init(&x, yaml, mods, SG_ARRAY_LEN(mods));
	sg_buf_reset(&rec.log);
	rec.no_handler = true;
	p = wire_connect(&x);
	CHECK(wire_ws_upgrade(&x, p, "/ws", NULL));
	rec.no_handler = false;
	wire_ws_text(&x, p, "nobody listens");
	wire_ws_send(&x, p, WS_OP_PING, "still", 5);
	CHECK(wire_frame(&x, p, &f));
	CHECK(f.opcode == WS_OP_PONG && f.payload.len == 5);
	sg_buf_fini(&f.payload);
	CHECK_STR(rec.log.data, "");
	/* set now: the next message arrives */
	ws_set_handler(rec.ws, &recorder, &rec);
	wire_ws_text(&x, p, "now");
	wire_settle(&x);
	CHECK_STR(rec.log.data, "T:now|");
	/* detached again: the close is not told either */
	ws_set_handler(rec.ws, NULL, NULL);
	wire_hangup(p);
	wire_settle(&x);
	CHECK_STR(rec.log.data, "T:now|");
	wire_fini(&x);
}

/* The handler closes the connection while more frames wait in the same
 * read: they are never delivered, and nothing touches the freed state. */
static void test_close_inside_message(void)
{
	struct wire x;
	struct wire_peer *p;
	struct sg_buf b;

	p = ws_open(&x, "/ws");
	rec.close_on_message = true;
	sg_buf_init(&b);
	wire_ws_frame(&b, true, WS_OP_TEXT, "first", 5);
	wire_ws_frame(&b, true, WS_OP_TEXT, "second", 6);
	wire_ws_frame(&b, true, WS_OP_PING, "p", 1);
	wire_send(&x, p, b.data, b.len);
	CHECK(wire_wait_eof(&x, p));
	CHECK_STR(rec.log.data, "T:first|closed(forced close)|");
	CHECK_INT(p->in.len, 0); /* no pong either */
	rec.close_on_message = false;
	sg_buf_fini(&b);
	wire_fini(&x);
}

/* Not the upgrade path: the connection layer's own answer. */
static void test_other_path(void)
{
	struct wire x;
	struct wire_peer *p;
	struct wire_response r;

	wire_init(&x, yaml, mods, SG_ARRAY_LEN(mods));
	wire_response_init(&r);
	p = wire_connect(&x);
	wire_ws_request(&x, p, "/other", NULL);
	CHECK(wire_response(&x, p, &r));
	CHECK_INT(r.status, 404);
	CHECK(wire_wait_eof(&x, p));
	wire_response_fini(&r);
	wire_fini(&x);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	sg_buf_init(&rec.log);
	sg_buf_reserve(&rec.log, 0);
	RUN(test_frames);
	RUN(test_upgrade);
	RUN(test_upgrade_refused);
	RUN(test_send);
	RUN(test_shared_frame);
	RUN(test_echo);
	RUN(test_server_close);
	RUN(test_client_hangup);
	RUN(test_no_handler);
	RUN(test_close_inside_message);
	RUN(test_other_path);
	sg_buf_fini(&rec.log);
	return UNIT_END();
}
