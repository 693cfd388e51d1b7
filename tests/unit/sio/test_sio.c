/*
 * test_sio.c: Socket.IO sockets and namespaces (sio/sio.c) alone, driven
 * through their handler tables: a worker with the network, Engine.IO and
 * Socket.IO layers and this test's module, whose sio_handler (with its own
 * bytes after each socket) records connects, events and closes; clients
 * speak Engine.IO over WebSocket on socketpairs.
 *
 * CONNECT to "/", to another configured namespace (with an auth payload),
 * to an unknown one, twice; a table of packets and what the handler gets
 * (events with ack ids, binary events waiting for their attachments) or how
 * the session ends (the Node decoder's strictness); what the server sends
 * (events, acks, binary packets, per namespace); the waits for the
 * client's ACKs (answered, unknown ids, deadlines, the bound on waits, the
 * close that ends them); DISCONNECT from either side; the connect
 * deadline; a CONNECT whose answer the handler takes (accepted later, or
 * refused with CONNECT_ERROR, the session staying); and the same over
 * long-polling.
 */
#include <signal.h>

#include "eio/eio.h"
#include "proto/sio_packet.h"
#include "sio/sio.h"
#include "wire.h"

/* The handler's own state after each socket (socket_size). */
struct test_socket {
	struct sio_socket sock;
	uint64_t extra[4]; /* must start zeroed */
};

/* What the sio_handler saw. */
struct rec {
	struct sg_buf log;
	struct sio_socket *last; /* the socket connected last */
	bool extra_zeroed;
	bool defer; /* on_connect takes the answer (connect-time auth) */
	int64_t connect_timeout_ms;
};

static struct rec rec;

static bool on_connect(struct sio_socket *sock)
{
	struct test_socket *t = (struct test_socket *)sock;

	rec.last = sock;
	rec.extra_zeroed = t->extra[0] == 0 && t->extra[3] == 0;
	t->extra[0] = 42;
	sg_buf_printf(&rec.log, "connect(%s,%s)|", sock->nsp->name, sock->auth ? sock->auth : "-");
	return rec.defer;
}

static void on_event(struct sio_socket *sock, const struct sio_packet *p,
		     const struct sio_attachment *att, size_t n_att)
{
	char *data = json_dumps(p->data, JSON_COMPACT | JSON_ENCODE_ANY);

	sg_buf_printf(&rec.log, "event(%s,%s,%s,%lld", sock->nsp->name, sio_event_name(p), data,
		      (long long)p->id);
	for (size_t i = 0; i < n_att; i++) {
		sg_buf_append_str(&rec.log, ",");
		for (size_t k = 0; k < att[i].len; k++)
			sg_buf_printf(&rec.log, "%02x", (unsigned char)att[i].data[k]);
	}
	sg_buf_append_str(&rec.log, ")|");
	free(data);
}

static void on_close(struct sio_socket *sock, enum sg_close reason)
{
	CHECK(sock->closing);
	sg_buf_printf(&rec.log, "close(%s,%s)|", sock->nsp->name, sg_close_text(reason));
	if (rec.last == sock)
		rec.last = NULL;
}

static const struct sio_handler recorder = {
	.socket_size = sizeof(struct test_socket),
	.on_connect = on_connect,
	.on_event = on_event,
	.on_close = on_close,
};

static int test_module_init(struct worker *w)
{
	w->handler = &recorder;
	if (rec.connect_timeout_ms > 0)
		w->connect_timeout_ms = rec.connect_timeout_ms;
	return 0;
}

static const struct worker_module test_module = { .name = "test", .init = test_module_init };
static const struct worker_module *const mods[] = { &conn_module, &eio_module, &sio_module,
						    &test_module };

static const char yaml_default[] = "server: {ping_interval: 20s, ping_timeout: 20s}\n"
				   "namespaces: [\"/\", \"/custom\"]\n"
				   "log: {level: error}\n";

/* A worker, and one Engine.IO session over WebSocket on p. */
static struct wire_peer *session(struct wire *x, const char *yaml)
{
	struct wire_peer *p;
	char sid[SG_ID_LEN + 1];

	sg_buf_reset(&rec.log);
	rec.last = NULL;
	wire_init(x, yaml, mods, SG_ARRAY_LEN(mods));
	p = wire_connect(x);
	CHECK(wire_eio_open(x, p, "", NULL, sid, NULL));
	return p;
}

/* CONNECT to nsp ("" for "/", else "/name,"): the socket, or NULL. */
static struct sio_socket *connect_nsp(struct wire *x, struct wire_peer *p, const char *nsp)
{
	char packet[128];

	rec.last = NULL;
	snprintf(packet, sizeof(packet), "40%s", nsp);
	wire_ws_text(x, p, packet);
	snprintf(packet, sizeof(packet), "40%s{\"sid\":\"*\"}", nsp);
	CHECK(wire_expect_glob(x, p, packet));
	return rec.last;
}

static void end(struct wire *x)
{
	while (x->w.sessions != NULL)
		eio_session_abort(x->w.sessions, SG_CLOSE_SHUTDOWN);
	wire_fini(x);
}

static bool cond_log_has(struct wire *x, const void *arg)
{
	SG_UNUSED(x);
	return strstr(rec.log.data, arg) != NULL;
}

/* ---- CONNECT -------------------------------------------------------- */

static void test_connect(void)
{
	struct wire x;
	struct wire_peer *p = session(&x, yaml_default);
	struct sio_socket *sock = connect_nsp(&x, p, "");
	struct sio_nsp *root = sio_nsp_find(&x.w, "/", 1);
	struct wire_frame f;

	CHECK(sock != NULL);
	CHECK_STR(rec.log.data, "connect(/,-)|");
	CHECK(rec.extra_zeroed);
	CHECK(root != NULL && sock->nsp == root && root->n_sockets == 1);
	CHECK_INT(strlen(sock->id), SG_ID_LEN);
	CHECK(strcmp(sock->id, x.w.sessions->sid) != 0); /* its own id, not the session's */
	CHECK(sio_nsp_socket(root, sock->id, SG_ID_LEN) == sock);
	CHECK(sio_nsp_id_taken(root, sock->id, SG_ID_LEN));
	CHECK(!sio_nsp_id_taken(root, x.w.sessions->sid, SG_ID_LEN));
	CHECK(x.w.sessions->sockets == sock && x.w.sessions->ever_connected);
	/* the CONNECT answer carries exactly that id */
	wire_ws_text(&x, p, "40/custom,");
	CHECK(wire_frame(&x, p, &f));
	CHECK(rec.last != NULL && rec.last != sock);
	if (rec.last != NULL) {
		char want[64];
		snprintf(want, sizeof(want), "40/custom,{\"sid\":\"%s\"}", rec.last->id);
		CHECK_STR(f.payload.data, want);
	}
	sg_buf_fini(&f.payload);
	CHECK(sio_nsp_find(&x.w, "/custom", 7)->n_sockets == 1);
	CHECK(sio_nsp_find(&x.w, "/custo", 6) == NULL);
	CHECK(sio_nsp_find(&x.w, "/nope", 5) == NULL);
	end(&x);
}

/* CONNECT packets and what comes of them. */
static void test_connect_cases(void)
{
	static const struct {
		const char *packets[3]; /* sent in order */
		const char *answers[3]; /* frames expected, in order */
		const char *log;	/* the handler's */
		bool ends;		/* the session is closed */
	} cases[] = {
		{ { "40" }, { "40{\"sid\":\"*\"}" }, "connect(/,-)|", false },
		{ { "40{\"token\":\"abc\",\"n\":[1,2.5,\"\\u00e9\"]}" },
		  { "40{\"sid\":\"*\"}" },
		  "connect(/,{\"token\":\"abc\",\"n\":[1,2.5,\"\xc3\xa9\"]})|",
		  false },
		{ { "40/custom,{\"a\":null}" },
		  { "40/custom,{\"sid\":\"*\"}" },
		  "connect(/custom,{\"a\":null})|",
		  false },
		{ { "40/nope," }, { "44/nope,{\"message\":\"Invalid namespace\"}" }, "", false },
		{ { "40/nope,{\"a\":1}" },
		  { "44/nope,{\"message\":\"Invalid namespace\"}" },
		  "",
		  false },
		{ { "40", "40/custom," },
		  { "40{\"sid\":\"*\"}", "40/custom,{\"sid\":\"*\"}" },
		  "connect(/,-)|connect(/custom,-)|",
		  false },
		/* Node closes the connection on a second CONNECT to a namespace */
		{ { "40", "40" },
		  { "40{\"sid\":\"*\"}" },
		  "connect(/,-)|close(/,parse error)|",
		  true },
		/* CONNECT's payload must be an object */
		{ { "40[1]" }, { NULL }, "", true },
		{ { "40\"x\"" }, { NULL }, "", true },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct wire x;
		struct wire_peer *p = session(&x, yaml_default);

		for (size_t k = 0; k < 3 && cases[i].packets[k]; k++) {
			wire_ws_text(&x, p, cases[i].packets[k]);
			wire_settle(&x); /* answered before the next one */
		}
		for (size_t k = 0; k < 3 && cases[i].answers[k]; k++)
			CHECK(wire_expect_glob(&x, p, cases[i].answers[k]));
		if (cases[i].ends)
			CHECK(wire_wait_eof(&x, p));
		else
			wire_settle(&x);
		CHECK(p->eof == cases[i].ends);
		CHECK_INT(x.w.n_sessions, cases[i].ends ? 0 : 1);
		CHECK_STR(rec.log.data, cases[i].log);
		end(&x);
	}
}

/* ---- packets from the client ---------------------------------------- */

/* After CONNECTs to "/" and "/custom": packets (text, or "#hex" for a
 * binary message) and what the handler gets, or the session's end. */
/* The handler takes the CONNECT's answer (connect-time authentication):
 * nothing is sent until it decides; a refusal is a CONNECT_ERROR with its
 * data and ends the socket but not the session, which may CONNECT again;
 * an acceptance is the usual {sid}; a socket ended while unanswered is
 * told with a CONNECT_ERROR, not a DISCONNECT. */
static void test_deferred_connect(void)
{
	struct wire x;
	struct wire_peer *p = session(&x, yaml_default);
	struct sio_nsp *root = sio_nsp_find(&x.w, "/", 1);
	struct sio_socket *sock;
	struct eio_session *s = x.w.sessions;

	rec.defer = true;
	wire_ws_text(&x, p, "40{\"token\":\"t\"}");
	CHECK(wire_until(&x, cond_log_has, "connect(/,{\"token\":\"t\"})|", WIRE_TIMEOUT_MS));
	sock = rec.last;
	CHECK(sock != NULL && !sock->connected && root->n_sockets == 1);
	CHECK(!s->ever_connected);
	/* refused: CONNECT_ERROR with the handler's data; the session stays */
	sio_socket_refuse(sock, "{\"message\":\"no\"}", 16, SG_CLOSE_AUTH_REJECTED);
	CHECK(wire_expect_text(&x, p, "44{\"message\":\"no\"}"));
	CHECK(strstr(rec.log.data, "close(/,") != NULL);
	CHECK_INT(root->n_sockets, 0);
	CHECK(x.w.sessions == s && s->sockets == NULL);
	/* a second try, accepted later */
	wire_ws_text(&x, p, "40");
	CHECK(wire_until(&x, cond_log_has, "connect(/,-)|", WIRE_TIMEOUT_MS));
	sock = rec.last;
	CHECK(sock != NULL && !sock->connected);
	sio_socket_accept(sock);
	CHECK(wire_expect_glob(&x, p, "40{\"sid\":\"*\"}"));
	CHECK(sock->connected && s->ever_connected);
	sio_socket_accept(sock);				  /* twice is nothing */
	sio_socket_refuse(sock, "{}", 2, SG_CLOSE_AUTH_REJECTED); /* too late: nothing */
	sio_socket_send_event(sock, "[\"x\"]", 5);
	CHECK(wire_expect_text(&x, p, "42[\"x\"]"));
	/* an unanswered socket ended by siogate hears a CONNECT_ERROR */
	wire_ws_text(&x, p, "40/custom,");
	CHECK(wire_until(&x, cond_log_has, "connect(/custom,-)|", WIRE_TIMEOUT_MS));
	sio_socket_disconnect(rec.last, SG_CLOSE_SHUTDOWN);
	CHECK(wire_expect_glob(&x, p, "44/custom,{\"message\":\"*\"}"));
	rec.defer = false;
	end(&x);
}

static void test_packets(void)
{
	static const struct {
		const char *packets[4];
		const char *log; /* after the two connects */
		bool ends;
	} cases[] = {
		{ { "42[\"hi\",1]" }, "event(/,hi,[\"hi\",1],-1)|", false },
		{ { "421[\"hi\"]" }, "event(/,hi,[\"hi\"],1)|", false },
		{ { "42/custom,7[\"x\",{}]" }, "event(/custom,x,[\"x\",{}],7)|", false },
		{ { "42[1.0,\"n\"]" }, "event(/,1,[1.0,\"n\"],-1)|", false },
		{ { "451-[\"up\",{\"_placeholder\":true,\"num\":0}]", "#0102" },
		  "event(/,up,[\"up\",{\"_placeholder\":true,\"num\":0}],-1,0102)|",
		  false },
		{ { "452-/custom,3[\"two\",{\"_placeholder\":true,\"num\":1},"
		    "{\"_placeholder\":true,\"num\":0}]",
		    "#aa", "#" },
		  "event(/custom,two,[\"two\",{\"_placeholder\":true,\"num\":1},"
		  "{\"_placeholder\":true,\"num\":0}],3,aa,)|",
		  false },
		/* an attachment nobody refers to is fine (Node too) */
		{ { "452-[\"x\",{\"_placeholder\":true,\"num\":0}]", "#01", "#02" },
		  "event(/,x,[\"x\",{\"_placeholder\":true,\"num\":0}],-1,01,02)|",
		  false },
		/* the session ends: the Node decoder's refusals */
		{ { "42[]" }, "close(/custom,parse error)|close(/,parse error)|", true },
		{ { "42{}" }, "close(/custom,parse error)|close(/,parse error)|", true },
		{ { "4x" }, "close(/custom,parse error)|close(/,parse error)|", true },
		{ { "42[\"a\"" }, "close(/custom,parse error)|close(/,parse error)|", true },
		{ { "42/other,[\"x\"]" },
		  "close(/custom,parse error)|close(/,parse error)|",
		  true },
		{ { "44{\"message\":\"x\"}" },
		  "close(/custom,parse error)|close(/,parse error)|",
		  true },
		{ { "#01" }, "close(/custom,parse error)|close(/,parse error)|", true },
		{ { "451-[\"a\",{\"_placeholder\":true,\"num\":0}]", "42[\"b\"]" },
		  "close(/custom,parse error)|close(/,parse error)|",
		  true },
		{ { "451-[\"a\",{\"_placeholder\":true,\"num\":1}]" },
		  "close(/custom,parse error)|close(/,parse error)|",
		  true },
		{ { "4511-[\"a\"]" }, "close(/custom,parse error)|close(/,parse error)|", true },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct wire x;
		struct wire_peer *p = session(&x, yaml_default);

		CHECK(connect_nsp(&x, p, "") != NULL);
		CHECK(connect_nsp(&x, p, "/custom,") != NULL);
		sg_buf_reset(&rec.log);
		for (size_t k = 0; k < 4 && cases[i].packets[k]; k++) {
			const char *pk = cases[i].packets[k];
			if (pk[0] == '#') {
				uint8_t bin[16];
				size_t n = 0;
				for (const char *h = pk + 1; h[0] && h[1]; h += 2)
					bin[n++] = (uint8_t)(sg_hex_value(h[0]) << 4 |
							     sg_hex_value(h[1]));
				wire_ws_send(&x, p, WS_OP_BINARY, bin, n);
			} else {
				wire_ws_text(&x, p, pk);
			}
		}
		if (cases[i].ends)
			CHECK(wire_wait_eof(&x, p));
		else
			wire_settle(&x);
		if (strcmp(rec.log.data, cases[i].log) != 0)
			fprintf(stderr, "  packet case %zu\n", i);
		CHECK_STR(rec.log.data, cases[i].log);
		CHECK(p->eof == cases[i].ends);
		end(&x);
	}
}

/* ---- what the server sends ------------------------------------------ */

static void test_send(void)
{
	struct wire x;
	struct wire_peer *p = session(&x, yaml_default);
	struct sio_socket *root = connect_nsp(&x, p, "");
	struct sio_socket *custom = connect_nsp(&x, p, "/custom,");
	static const struct sio_attachment att[2] = { { "\x01\x02", 2 }, { "", 0 } };
	static const char two_placeholders[] =
		"[\"bin\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
	static const char one_placeholder[] = "[{\"_placeholder\":true,\"num\":0}]";
	struct wire_frame f;

	sio_socket_send_event(root, "[\"a\",1]", 7);
	CHECK(wire_expect_text(&x, p, "42[\"a\",1]"));
	sio_socket_send_event(custom, "[\"b\"]", 5);
	CHECK(wire_expect_text(&x, p, "42/custom,[\"b\"]"));
	sio_socket_send_ack(root, 5, "[true]", 6);
	CHECK(wire_expect_text(&x, p, "435[true]"));
	sio_socket_send_ack(custom, 0, "[]", 2);
	CHECK(wire_expect_text(&x, p, "43/custom,0[]"));
	/* binary: the head counts the attachments, which follow as binary */
	sio_socket_send_binary(root, false, -1, two_placeholders, strlen(two_placeholders), att, 2);
	CHECK(wire_expect_text(&x, p,
			       "452-[\"bin\",{\"_placeholder\":true,\"num\":0},"
			       "{\"_placeholder\":true,\"num\":1}]"));
	CHECK(wire_frame(&x, p, &f) && f.opcode == WS_OP_BINARY && f.payload.len == 2);
	sg_buf_fini(&f.payload);
	CHECK(wire_frame(&x, p, &f) && f.opcode == WS_OP_BINARY && f.payload.len == 0);
	sg_buf_fini(&f.payload);
	sio_socket_send_binary(custom, true, 9, one_placeholder, strlen(one_placeholder), att, 1);
	CHECK(wire_expect_text(&x, p, "461-/custom,9[{\"_placeholder\":true,\"num\":0}]"));
	CHECK(wire_frame(&x, p, &f) && f.opcode == WS_OP_BINARY);
	sg_buf_fini(&f.payload);
	/* without attachments, a plain EVENT or ACK */
	sio_socket_send_binary(root, true, 3, "[1]", 3, NULL, 0);
	CHECK(wire_expect_text(&x, p, "433[1]"));
	sio_socket_send_binary(root, false, -1, "[\"e\"]", 5, NULL, 0);
	CHECK(wire_expect_text(&x, p, "42[\"e\"]"));
	end(&x);
}

/* ---- DISCONNECT ----------------------------------------------------- */

static void test_client_disconnect(void)
{
	struct wire x;
	struct wire_peer *p = session(&x, yaml_default);
	struct sio_socket *first = connect_nsp(&x, p, "");
	char first_id[SG_ID_LEN + 1];
	struct sio_socket *again;

	memcpy(first_id, first->id, sizeof(first_id));
	wire_ws_text(&x, p, "41");
	wire_settle(&x);
	CHECK_STR(rec.log.data, "connect(/,-)|close(/,client namespace disconnect)|");
	/* the session stays; the namespace can be joined again, with a new id */
	CHECK_INT(x.w.n_sessions, 1);
	CHECK(sio_nsp_socket(sio_nsp_find(&x.w, "/", 1), first_id, SG_ID_LEN) == NULL);
	again = connect_nsp(&x, p, "");
	CHECK(again != NULL && strcmp(again->id, first_id) != 0);
	/* a DISCONNECT for a namespace not joined ends the session */
	wire_ws_text(&x, p, "41/custom,");
	CHECK(wire_wait_eof(&x, p));
	CHECK(strstr(rec.log.data, "close(/,parse error)|") != NULL);
	end(&x);
}

/* siogate ends a socket: DISCONNECT goes out, and when it was the
 * session's last namespace the session closes gracefully after it. */
static void test_server_disconnect(void)
{
	struct wire x;
	struct wire_peer *p = session(&x, yaml_default);
	struct sio_socket *root = connect_nsp(&x, p, "");
	struct sio_socket *custom = connect_nsp(&x, p, "/custom,");

	sg_buf_reset(&rec.log);
	sio_socket_disconnect(custom, SG_CLOSE_FORCED);
	/* in the same turn (the socket is freed at its end): closing, so the
	 * second disconnect does nothing and what is sent is dropped */
	sio_socket_disconnect(custom, SG_CLOSE_FORCED);
	sio_socket_send_event(custom, "[\"late\"]", 8);
	CHECK(wire_expect_text(&x, p, "41/custom,"));
	CHECK_STR(rec.log.data, "close(/custom,forced close)|");
	wire_settle(&x);
	CHECK_INT(p->in.len, 0);
	CHECK(!p->eof && x.w.n_sessions == 1);
	sio_socket_disconnect(root, SG_CLOSE_SERVER_NSP_DISCONNECT);
	CHECK(wire_expect_text(&x, p, "41"));
	CHECK(wire_expect_close(&x, p, 0));
	CHECK(wire_wait_eof(&x, p));
	CHECK_STR(rec.log.data,
		  "close(/custom,forced close)|close(/,server namespace disconnect)|");
	CHECK_INT(x.w.stats.closes[SG_CLOSE_SERVER_NSP_DISCONNECT], 1);
	end(&x);
}

/* The connection goes: every socket of the session is told. */
static void test_session_ends(void)
{
	struct wire x;
	struct wire_peer *p = session(&x, yaml_default);

	CHECK(connect_nsp(&x, p, "") != NULL);
	CHECK(connect_nsp(&x, p, "/custom,") != NULL);
	sg_buf_reset(&rec.log);
	wire_hangup(p);
	CHECK(wire_until(&x, cond_log_has, "close(/,", WIRE_TIMEOUT_MS));
	CHECK(strstr(rec.log.data, "close(/custom,transport close)|") != NULL);
	CHECK(strstr(rec.log.data, "close(/,transport close)|") != NULL);
	CHECK_INT(sio_nsp_find(&x.w, "/", 1)->n_sockets, 0);
	CHECK_INT(sio_nsp_find(&x.w, "/custom", 7)->n_sockets, 0);
	end(&x);
}

/* No namespace joined within the connect deadline: closed. */
static void test_connect_timeout(void)
{
	struct wire x;
	struct wire_peer *p, *q;
	static const char yaml[] = "server: {ping_interval: 100ms, ping_timeout: 5s}\n"
				   "log: {level: error}\n";

	rec.connect_timeout_ms = 60;
	p = session(&x, yaml);
	q = wire_connect(&x);
	{
		char sid[SG_ID_LEN + 1];
		CHECK(wire_eio_open(&x, q, "", NULL, sid, NULL));
	}
	CHECK(connect_nsp(&x, q, "") != NULL); /* this one joins in time */
	CHECK(wire_expect_close(&x, p, 0));
	CHECK(wire_wait_eof(&x, p));
	CHECK_INT(x.w.stats.closes[SG_CLOSE_CONNECT_TIMEOUT], 1);
	CHECK(!q->eof);
	CHECK_INT(x.w.n_sessions, 1);
	rec.connect_timeout_ms = 0;
	end(&x);
}

/* ---- ACKs from the client ------------------------------------------- */

struct wait {
	struct sio_ack_wait a;
	const char *label;
};

static void wait_done(struct sio_ack_wait *a, struct sio_socket *sock, const json_t *args)
{
	struct wait *w = (struct wait *)a;
	char *text = args ? json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	CHECK(sock != NULL);
	sg_buf_printf(&rec.log, "ack(%s,%s)|", w->label, text ? text : "none");
	free(text);
	free(w);
}

static void wait_for(struct sio_socket *sock, const char *label, uint32_t id, int64_t in_ms,
		     size_t max)
{
	struct wait *w = calloc(1, sizeof(*w));

	w->a.cb = wait_done;
	w->label = label;
	sio_socket_wait_ack(sock, &w->a, id, sg_mono_ms() + in_ms, max);
}

static void test_acks(void)
{
	struct wire x;
	struct wire_peer *p = session(&x, yaml_default);
	struct sio_socket *sock = connect_nsp(&x, p, "");

	sg_buf_reset(&rec.log);
	wait_for(sock, "one", 1, 10000, 8);
	wait_for(sock, "two", 2, 10000, 8);
	wire_ws_text(&x, p, "432[\"second\",{\"ok\":true}]");
	wire_ws_text(&x, p, "439[\"nobody\"]"); /* no wait with this id */
	wire_ws_text(&x, p, "431[]");
	wire_ws_text(&x, p, "431[\"again\"]"); /* answered already */
	wire_settle(&x);
	CHECK_STR(rec.log.data, "ack(two,[\"second\",{\"ok\":true}])|ack(one,[])|");
	/* a binary ACK, once its attachment is in */
	sg_buf_reset(&rec.log);
	wait_for(sock, "bin", 3, 10000, 8);
	wire_ws_text(&x, p, "461-3[{\"_placeholder\":true,\"num\":0}]");
	wire_settle(&x);
	CHECK_STR(rec.log.data, "");
	wire_ws_send(&x, p, WS_OP_BINARY, "\x05", 1);
	wire_settle(&x);
	CHECK_STR(rec.log.data, "ack(bin,[{\"_placeholder\":true,\"num\":0}])|");
	/* past its deadline, a wait ends without arguments when an ACK passes it */
	sg_buf_reset(&rec.log);
	wait_for(sock, "late", 4, -1, 8);
	wait_for(sock, "on-time", 5, 10000, 8);
	wire_ws_text(&x, p, "435[5]");
	wire_settle(&x);
	CHECK_STR(rec.log.data, "ack(late,none)|ack(on-time,[5])|");
	/* an ACK for the right id after the deadline: no arguments either */
	sg_buf_reset(&rec.log);
	wait_for(sock, "expired", 6, -1, 8);
	wire_ws_text(&x, p, "436[6]");
	wire_settle(&x);
	CHECK_STR(rec.log.data, "ack(expired,none)|");
	/* at most max waits: the oldest is evicted */
	sg_buf_reset(&rec.log);
	wait_for(sock, "a", 7, 10000, 2);
	wait_for(sock, "b", 8, 10000, 2);
	wait_for(sock, "c", 9, 10000, 2);
	CHECK_STR(rec.log.data, "ack(a,none)|");
	/* the socket closes: every wait ends, after the handler's on_close */
	wire_ws_text(&x, p, "41");
	wire_settle(&x);
	CHECK_STR(rec.log.data, "ack(a,none)|close(/,client namespace disconnect)|ack(b,none)|"
				"ack(c,none)|");
	end(&x);
}

/* ---- long-polling --------------------------------------------------- */

/* Socket.IO does not care about the transport: the same CONNECT and
 * EVENT over polling. */
static void test_polling(void)
{
	struct wire x;
	struct wire_peer *get, *post;
	struct wire_response r;
	char q[160], req[512];
	static const char payload[] = "40\x1e"
				      "42/custom,[\"x\"]\x1e"
				      "40";

	sg_buf_reset(&rec.log);
	wire_init(&x, yaml_default, mods, SG_ARRAY_LEN(mods));
	wire_response_init(&r);
	get = wire_connect(&x);
	post = wire_connect(&x);
	wire_send_str(&x, get,
		      "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(wire_response(&x, get, &r) && r.status == 200);
	snprintf(q, sizeof(q), "EIO=4&transport=polling&sid=%.*s", SG_ID_LEN, r.body.data + 9);
	snprintf(req, sizeof(req),
		 "POST /socket.io/?%s HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n%s", q,
		 strlen(payload), payload);
	wire_send_str(&x, post, req);
	CHECK(wire_response(&x, post, &r) && r.status == 200);
	CHECK_STR(r.body.data, "ok");
	/* the EVENT for a namespace not joined yet closed the session */
	CHECK_STR(rec.log.data, "connect(/,-)|close(/,parse error)|");
	wire_response_fini(&r);
	end(&x);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	sg_buf_init(&rec.log);
	sg_buf_reserve(&rec.log, 0);
	RUN(test_connect);
	RUN(test_connect_cases);
	RUN(test_deferred_connect);
	RUN(test_packets);
	RUN(test_send);
	RUN(test_client_disconnect);
	RUN(test_server_disconnect);
	RUN(test_session_ends);
	RUN(test_connect_timeout);
	RUN(test_acks);
	RUN(test_polling);
	sg_buf_fini(&rec.log);
	return UNIT_END();
}
