/*
 * test_authflow.c: the authenticate state machine (app/authflow.c) as the
 * daemon's workers run it: the network, Engine.IO and Socket.IO layers and
 * authflow_module, the sio_handler it registers, a JWT verifier built from
 * the test's configuration (HS256 with a test key, issuer and audience
 * checked), the process's failure throttle; clients speak Socket.IO over
 * WebSocket on socketpairs, and the tokens are minted with jwt_sign_hmac.
 *
 * An accepted token from each source (CONNECT auth, query, Authorization
 * header) moves the socket to authenticated: ping, then "authenticated"
 * with its id, the default rooms, the per-state gauge and counters of
 * /metrics.  A table of refused tokens, each with the reason /metrics
 * counts: "unauthenticated" with the seed's message, then DISCONNECT, then
 * the close.  Events before authentication are dropped; a second
 * authenticate is ignored; join and leave against rooms.allow and
 * rooms.max_per_client with their acks; the auth timeout; the app-level
 * ping; the event flood (drop or disconnect); and the failure throttle.
 */
#include <signal.h>

#include "app/auth_jwt.h"
#include "app/auth_throttle.h"
#include "app/authflow.h"
#include "eio/eio.h"
#include "sio/sio.h"
#include "wire.h"

#define KEY "authflow-unit-test-key-0123456789abcdef"
#define MSG_INVALID "Invalid token to authenticate! Please login again!"

static const struct worker_module *const mods[] = { &conn_module, &eio_module, &sio_module,
						    &authflow_module };

static const char yaml_default[] =
	"server: {ping_interval: 20s, ping_timeout: 20s}\n"
	"auth:\n"
	"  jwt: {secret: \"" KEY "\", issuer: \"https://issuer.example\", audience: siogate}\n"
	"rooms: {allow: [lobby, \"user-{sub}\", \"room-*\"], max_per_client: 4}\n"
	"log: {level: error}\n";

struct flow {
	struct wire x;
	struct jwt_verifier *jwt;
	struct auth_throttle *throttle;
};

/* A worker of the daemon's layers, with its verifier and throttle. */
static void flow_init(struct flow *f, const char *yaml)
{
	struct sg_err err = { 0 };

	wire_init(&f->x, yaml, mods, SG_ARRAY_LEN(mods));
	f->jwt = jwt_verifier_new(f->x.cfg, &err);
	if (f->jwt == NULL) {
		fprintf(stderr, "jwt_verifier_new: %s\n", err.msg);
		abort();
	}
	f->throttle = auth_throttle_new();
	f->x.w.jwt = f->jwt;
	f->x.w.throttle = f->throttle;
}

static void flow_fini(struct flow *f)
{
	while (f->x.w.sessions != NULL)
		eio_session_abort(f->x.w.sessions, SG_CLOSE_SHUTDOWN);
	wire_fini(&f->x);
	jwt_verifier_free(f->jwt);
	auth_throttle_free(f->throttle);
}

/* A token with these claims (over the valid ones: sub alice, the
 * configured iss and aud, exp in an hour), signed with alg and key. */
static char *token(const char *alg, const char *key, const char *claims_json)
{
	json_t *claims =
		json_pack("{s:s,s:s,s:s,s:I}", "sub", "alice", "iss", "https://issuer.example",
			  "aud", "siogate", "exp", (json_int_t)(sg_now_ms() / 1000 + 3600));
	json_t *over = claims_json ? json_loads(claims_json, 0, NULL) : NULL;
	struct sg_err err = { 0 };
	char *out = NULL;

	if (over != NULL)
		json_object_update(claims, over);
	if (jwt_sign_hmac(alg, key, strlen(key), NULL, claims, &out, &err) != 0) {
		fprintf(stderr, "jwt_sign_hmac: %s\n", err.msg);
		abort();
	}
	json_decref(claims);
	json_decref(over);
	return out;
}

/* Opens a session (query and headers for the handshake) and CONNECTs to
 * "/" with auth (JSON or NULL): the socket, in the state the flow gave it. */
static struct sio_socket *connect_socket(struct flow *f, struct wire_peer *p, const char *query,
					 const char *headers, const char *auth)
{
	char sid[SG_ID_LEN + 1];
	struct sg_buf b;
	struct sio_nsp *root;

	CHECK(wire_eio_open(&f->x, p, query, headers, sid, NULL));
	sg_buf_init(&b);
	sg_buf_printf(&b, "40%s", auth ? auth : "");
	wire_ws_text(&f->x, p, b.data);
	sg_buf_fini(&b);
	CHECK(wire_expect_glob(&f->x, p, "40{\"sid\":\"*\"}"));
	root = sio_nsp_find(&f->x.w, "/", 1);
	return root != NULL ? root->all : NULL;
}

/* The next frames say the client was accepted. */
static bool expect_authenticated(struct flow *f, struct wire_peer *p, const struct sio_socket *s)
{
	char want[128];

	snprintf(want, sizeof(want), "42[\"authenticated\",{\"id\":\"%s\",\"time\":\"*Z\"}]",
		 s->id);
	return wire_expect_glob(&f->x, p, "42[\"ping\",{\"time\":\"20*-*-*T*:*:*.*Z\"}]") &&
	       wire_expect_glob(&f->x, p, want);
}

/* The next frames refuse the client with message, then end it. */
static bool expect_refused(struct flow *f, struct wire_peer *p, const char *message)
{
	char want[256];

	snprintf(want, sizeof(want), "42[\"unauthenticated\",{\"message\":\"%s\",\"time\":\"*\"}]",
		 message);
	return wire_expect_glob(&f->x, p, want) && wire_expect_text(&f->x, p, "41") &&
	       wire_expect_close(&f->x, p, 0) && wire_wait_eof(&f->x, p);
}

/* A new connection whose socket CONNECTs with a valid token (claims over
 * the valid ones) in its auth payload, authenticated unless `authenticate`
 * is false: the socket, and the peer in *pp. */
static struct sio_socket *socket_with_token(struct flow *f, const char *claims, bool authenticate,
					    struct wire_peer **pp)
{
	char *t = token("HS256", KEY, claims);
	char auth[1024];
	struct sio_socket *s;

	snprintf(auth, sizeof(auth), "{\"token\":\"%s\"}", t);
	free(t);
	*pp = wire_connect(&f->x);
	s = connect_socket(f, *pp, "", NULL, auth);
	if (s != NULL && authenticate) {
		wire_ws_text(&f->x, *pp, "42[\"authenticate\"]");
		CHECK(expect_authenticated(f, *pp, s));
	}
	return s;
}

/* ---- accepted ------------------------------------------------------- */

static void test_accepted(void)
{
	enum source {
		AUTH,
		QUERY,
		HEADER,
		AUTH_OVER_QUERY
	};
	static const struct {
		enum source source;
		const char *what;
	} cases[] = {
		{ AUTH, "CONNECT auth.token" },
		{ QUERY, "?token= on the handshake" },
		{ HEADER, "Authorization: Bearer on the handshake" },
		{ AUTH_OVER_QUERY, "the header first, then auth, then the query" },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct flow f;
		struct wire_peer *p;
		struct sio_socket *s;
		char *t = token("HS256", KEY, NULL);
		char *bad = token("HS256", "not-the-key-0123456789abcdef0123456789", NULL);
		char query[1024] = "", header[1024] = "", auth[1024] = "";

		flow_init(&f, yaml_default);
		switch (cases[i].source) {
		case AUTH:
			snprintf(auth, sizeof(auth), "{\"token\":\"%s\"}", t);
			break;
		case QUERY:
			snprintf(query, sizeof(query), "&token=%s", t);
			break;
		case HEADER:
			snprintf(header, sizeof(header), "Authorization: Bearer %s\r\n", t);
			break;
		case AUTH_OVER_QUERY:
			/* auth.jwt.token_from defaults to [header, auth, query] */
			snprintf(auth, sizeof(auth), "{\"token\":\"%s\"}", t);
			snprintf(query, sizeof(query), "&token=%s", bad);
			break;
		}
		p = wire_connect(&f.x);
		s = connect_socket(&f, p, query, header[0] ? header : NULL, auth[0] ? auth : NULL);
		CHECK(s != NULL);
		if (s == NULL)
			continue;
		CHECK_INT(authflow_of(s)->state, AUTHFLOW_UNAUTHORIZED);
		CHECK_INT(f.x.w.stats.sockets_by_state[AUTHFLOW_UNAUTHORIZED], 1);
		CHECK(!s->broadcasts);
		wire_ws_text(&f.x, p, "42[\"authenticate\"]");
		if (!expect_authenticated(&f, p, s))
			fprintf(stderr, "  case %s\n", cases[i].what);
		CHECK_INT(authflow_of(s)->state, AUTHFLOW_AUTHENTICATED);
		CHECK_STR(authflow_state_name(authflow_of(s)->state), "authenticated");
		CHECK_STR(authflow_user(s), "alice");
		CHECK(s->broadcasts);
		CHECK_INT(f.x.w.stats.sockets_by_state[AUTHFLOW_UNAUTHORIZED], 0);
		CHECK_INT(f.x.w.stats.sockets_by_state[AUTHFLOW_AUTHENTICATED], 1);
		CHECK_INT(f.x.w.stats.auth_accepted, 1);
		CHECK_INT(f.x.w.stats.verify.count, 1);
		/* rooms.default */
		CHECK(room_set_has(&s->rooms, "io-default") &&
		      room_set_has(&s->rooms, "io-notification"));
		CHECK_INT(s->rooms.n, 2);
		/* a second authenticate changes nothing */
		wire_ws_text(&f.x, p, "42[\"authenticate\"]");
		wire_settle(&f.x);
		CHECK_INT(p->in.len, 0);
		CHECK_INT(f.x.w.stats.auth_accepted, 1);
		/* the client leaves: the gauge follows */
		wire_hangup(p);
		wire_settle(&f.x);
		CHECK_INT(f.x.w.stats.sockets_by_state[AUTHFLOW_AUTHENTICATED], 0);
		free(t);
		free(bad);
		flow_fini(&f);
	}
}

/* ---- refused -------------------------------------------------------- */

static void test_refused(void)
{
	static const struct {
		const char *what;
		const char *alg; /* NULL: the token is `raw` */
		const char *key;
		const char *claims; /* over the valid ones */
		const char *raw;
		enum auth_fail why;
	} cases[] = {
		{ "no token", NULL, NULL, NULL, NULL, AUTH_FAIL_NO_TOKEN },
		{ "not a JWT", NULL, NULL, NULL, "not-a-jwt", AUTH_FAIL_MALFORMED },
		{ "three parts of nothing", NULL, NULL, NULL, "..", AUTH_FAIL_MALFORMED },
		{ "alg none", NULL, NULL, NULL, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.",
		  AUTH_FAIL_ALGORITHM },
		{ "HS512, not listed", "HS512", KEY, NULL, NULL, AUTH_FAIL_ALGORITHM },
		{ "another key", "HS256", "another-key-0123456789abcdef0123456789", NULL, NULL,
		  AUTH_FAIL_BAD_SIGNATURE },
		{ "expired", "HS256", KEY, "{\"exp\":1000000000}", NULL, AUTH_FAIL_EXPIRED },
		{ "not yet valid", "HS256", KEY, "{\"nbf\":99999999999}", NULL,
		  AUTH_FAIL_NOT_YET_VALID },
		{ "exp not a number", "HS256", KEY, "{\"exp\":\"soon\"}", NULL,
		  AUTH_FAIL_MALFORMED },
		{ "another issuer", "HS256", KEY, "{\"iss\":\"https://evil.example\"}", NULL,
		  AUTH_FAIL_ISSUER },
		{ "another audience", "HS256", KEY, "{\"aud\":[\"api\"]}", NULL,
		  AUTH_FAIL_AUDIENCE },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct flow f;
		struct wire_peer *p;
		struct sio_socket *s;
		char *t = cases[i].alg	 ? token(cases[i].alg, cases[i].key, cases[i].claims)
			  : cases[i].raw ? strdup(cases[i].raw)
					 : NULL;
		char auth[1024] = "";

		flow_init(&f, yaml_default);
		if (t != NULL)
			snprintf(auth, sizeof(auth), "{\"token\":\"%s\"}", t);
		p = wire_connect(&f.x);
		s = connect_socket(&f, p, "", NULL, t ? auth : NULL);
		CHECK(s != NULL);
		wire_ws_text(&f.x, p, "42[\"authenticate\"]");
		if (!expect_refused(&f, p, MSG_INVALID))
			fprintf(stderr, "  case %s\n", cases[i].what);
		for (int k = 0; k < AUTH_FAIL__COUNT; k++)
			if (f.x.w.stats.auth_failures[k] != (k == (int)cases[i].why ? 1u : 0u)) {
				fprintf(stderr, "  case %s: auth_failures[%s] = %llu\n",
					cases[i].what, auth_fail_name((enum auth_fail)k),
					(unsigned long long)f.x.w.stats.auth_failures[k]);
				CHECK(!"the failure counted under its reason");
			}
		CHECK_INT(f.x.w.stats.auth_rejected, 1);
		CHECK_INT(f.x.w.stats.auth_accepted, 0);
		CHECK_INT(f.x.w.stats.closes[SG_CLOSE_AUTH_REJECTED], 1);
		CHECK_INT(f.x.w.stats.sockets_by_state[AUTHFLOW_UNAUTHORIZED], 0);
		CHECK_INT(f.x.w.n_sessions, 0);
		free(t);
		flow_fini(&f);
	}
}

/* Before authentication nothing but authenticate is taken; afterwards
 * events no rule forwards are counted as dropped. */
static void test_events_before_auth(void)
{
	struct flow f;
	struct wire_peer *p;
	struct sio_socket *s;

	flow_init(&f, yaml_default);
	s = socket_with_token(&f, NULL, false, &p);
	wire_ws_text(&f.x, p, "42[\"chat\",\"hi\"]");
	wire_ws_text(&f.x, p, "421[\"join\",{\"rooms\":[\"lobby\"]}]");
	wire_ws_text(&f.x, p, "42[1]");
	wire_settle(&f.x);
	CHECK_INT(p->in.len, 0); /* no answer, not even the join's ack */
	CHECK_INT(f.x.w.stats.events_dropped, 3);
	CHECK_INT(s->rooms.n, 0);
	wire_ws_text(&f.x, p, "42[\"authenticate\"]");
	CHECK(expect_authenticated(&f, p, s));
	wire_ws_text(&f.x, p, "42[\"chat\",\"hi\"]");
	wire_settle(&f.x);
	CHECK_INT(f.x.w.stats.events_dropped, 4); /* no events.forward rule */
	flow_fini(&f);
}

/* ---- rooms ---------------------------------------------------------- */

static void test_join_leave(void)
{
	static const struct {
		const char *packet; /* @ stands for the socket's own id */
		const char *ack;    /* the answer, or NULL: none */
		unsigned rooms;	    /* rooms the socket is in afterwards */
	} steps[] = {
		{ "421[\"join\",{\"rooms\":[\"lobby\",\"user-alice\",\"user-bob\",\"\",5,\"@\"]}]",
		  "431[{\"rooms\":[\"lobby\",\"user-alice\"],\"rejected\":[\"user-bob\",\"\",5,\"@\"]}]",
		  4 },
		/* joined already: listed as joined, no room added, not over the bound */
		{ "422[\"join\",{\"rooms\":[\"lobby\"]}]",
		  "432[{\"rooms\":[\"lobby\"],\"rejected\":[]}]", 4 },
		/* rooms.max_per_client (4, the two default rooms included) */
		{ "423[\"join\",{\"rooms\":[\"room-1\"]}]",
		  "433[{\"rooms\":[],\"rejected\":[\"room-1\"]}]", 4 },
		{ "424[\"leave\",{\"rooms\":[\"lobby\",\"nope\",\"@\"]}]",
		  "434[{\"rooms\":[\"lobby\"]}]", 3 },
		{ "425[\"join\",{\"rooms\":[\"room-1\",\"room-2\"]}]",
		  "435[{\"rooms\":[\"room-1\"],\"rejected\":[\"room-2\"]}]", 4 },
		/* no ack id: no answer */
		{ "42[\"leave\",{\"rooms\":[\"room-1\",\"io-default\"]}]", NULL, 2 },
		/* a payload that is not {rooms: [...]} */
		{ "426[\"join\",\"lobby\"]", "436[{\"rooms\":[],\"rejected\":[]}]", 2 },
		{ "427[\"join\",{\"rooms\":\"lobby\"}]", "437[{\"rooms\":[],\"rejected\":[]}]", 2 },
		{ "428[\"leave\"]", "438[{\"rooms\":[]}]", 2 },
	};
	struct flow f;
	struct wire_peer *p;
	struct sio_socket *s;

	flow_init(&f, yaml_default);
	s = socket_with_token(&f, NULL, true, &p);
	for (size_t i = 0; s != NULL && i < SG_ARRAY_LEN(steps); i++) {
		struct sg_buf packet, ack;

		sg_buf_init(&packet);
		sg_buf_init(&ack);
		for (const char *c = steps[i].packet; *c; c++)
			*c == '@' ? sg_buf_append_str(&packet, s->id)
				  : sg_buf_append_char(&packet, *c);
		for (const char *c = steps[i].ack; c && *c; c++)
			*c == '@' ? sg_buf_append_str(&ack, s->id) : sg_buf_append_char(&ack, *c);
		wire_ws_text(&f.x, p, packet.data);
		if (steps[i].ack != NULL)
			CHECK(wire_expect_text(&f.x, p, ack.data));
		wire_settle(&f.x);
		CHECK_INT(p->in.len, 0);
		CHECK_INT(s->rooms.n, steps[i].rooms);
		sg_buf_fini(&packet);
		sg_buf_fini(&ack);
	}
	CHECK(room_set_has(&s->rooms, "user-alice") && room_set_has(&s->rooms, "io-notification"));
	CHECK_INT(f.x.w.stats.joins_refused, 6);
	flow_fini(&f);
}

/* ---- time ----------------------------------------------------------- */

/* Not authenticated within auth.timeout: DISCONNECT, then the close. */
static void test_auth_timeout(void)
{
	struct flow f;
	struct wire_peer *p;

	flow_init(&f, "server: {ping_interval: 20s, ping_timeout: 20s}\n"
		      "auth: {timeout: 50ms, jwt: {secret: \"" KEY "\"}}\n"
		      "log: {level: error}\n");
	p = wire_connect(&f.x);
	CHECK(connect_socket(&f, p, "", NULL, NULL) != NULL);
	CHECK(wire_expect_text(&f.x, p, "41"));
	CHECK(wire_expect_close(&f.x, p, 0));
	CHECK(wire_wait_eof(&f.x, p));
	CHECK_INT(f.x.w.stats.closes[SG_CLOSE_AUTH_TIMEOUT], 1);
	flow_fini(&f);
}

/* Once authenticated, the app-level ping comes every ping.interval. */
static void test_app_ping(void)
{
	struct flow f;
	struct wire_peer *p;

	flow_init(&f, "server: {ping_interval: 20s, ping_timeout: 20s}\n"
		      "auth: {jwt: {secret: \"" KEY "\"}}\n"
		      "ping: {interval: 40ms}\n"
		      "log: {level: error}\n");
	CHECK(socket_with_token(&f, "{\"iss\":null,\"aud\":null}", true, &p) != NULL);
	for (int i = 0; i < 2; i++)
		CHECK(wire_expect_glob(&f.x, p, "42[\"ping\",{\"time\":\"*\"}]"));
	flow_fini(&f);
}

/* ---- limits --------------------------------------------------------- */

/* limits.events_per_second with a burst of 2 (authenticate takes one):
 * the third event in a row is over; dropped and counted, or the client
 * disconnected.  The three come in one read, so no token is refilled
 * between them however slow the machine. */
static void test_flood(void)
{
	static const char *const on_flood[] = { "drop", "disconnect" };

	for (size_t i = 0; i < SG_ARRAY_LEN(on_flood); i++) {
		struct flow f;
		struct wire_peer *p;
		char yaml[512];
		struct sg_buf b;

		snprintf(yaml, sizeof(yaml),
			 "%slimits: {events_per_second: 1, burst: 2, on_flood: %s}\n", yaml_default,
			 on_flood[i]);
		flow_init(&f, yaml);
		CHECK(socket_with_token(&f, NULL, false, &p) != NULL);
		sg_buf_init(&b);
		wire_ws_frame(&b, true, WS_OP_TEXT, "42[\"authenticate\"]", 18);
		wire_ws_frame(&b, true, WS_OP_TEXT, "42[\"chat\",1]", 12);
		wire_ws_frame(&b, true, WS_OP_TEXT, "42[\"chat\",2]", 12);
		wire_send(&f.x, p, b.data, b.len);
		sg_buf_fini(&b);
		CHECK(wire_expect_glob(&f.x, p, "42[\"ping\",*"));
		CHECK(wire_expect_glob(&f.x, p, "42[\"authenticated\",*"));
		if (i == 0) {
			wire_settle(&f.x);
			CHECK_INT(f.x.w.stats.events_flood, 1);
			CHECK_INT(f.x.w.stats.events_dropped, 1); /* the first: no forward rule */
			CHECK(!p->eof);
		} else {
			CHECK(wire_expect_text(&f.x, p, "41"));
			CHECK(wire_wait_eof(&f.x, p));
			CHECK_INT(f.x.w.stats.events_flood, 1);
			CHECK_INT(f.x.w.stats.closes[SG_CLOSE_FLOOD], 1);
		}
		flow_fini(&f);
	}
}

/* limits.auth_failures_per_minute: after its burst of failures an address
 * is refused without its token being verified. */
static void test_throttle(void)
{
	struct flow f;
	char yaml[512];

	snprintf(yaml, sizeof(yaml),
		 "%slimits: {auth_failures_per_minute: 1, auth_failures_burst: 1}\n", yaml_default);
	flow_init(&f, yaml);
	for (int i = 0; i < 3; i++) {
		struct wire_peer *p = wire_connect(&f.x);
		CHECK(connect_socket(&f, p, "", NULL, "{\"token\":\"bad\"}") != NULL);
		wire_ws_text(&f.x, p, "42[\"authenticate\"]");
		CHECK(expect_refused(&f, p, MSG_INVALID));
	}
	CHECK_INT(f.x.w.stats.auth_failures[AUTH_FAIL_MALFORMED], 1);
	CHECK_INT(f.x.w.stats.auth_failures[AUTH_FAIL_THROTTLED], 2);
	CHECK_INT(f.x.w.stats.auth_throttled, 2);
	CHECK_INT(f.x.w.stats.closes[SG_CLOSE_AUTH_THROTTLED], 2);
	CHECK_INT(f.x.w.stats.verify.count, 1); /* the refused ones were not verified */
	flow_fini(&f);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_accepted);
	RUN(test_refused);
	RUN(test_events_before_auth);
	RUN(test_join_leave);
	RUN(test_auth_timeout);
	RUN(test_app_ping);
	RUN(test_flood);
	RUN(test_throttle);
	return UNIT_END();
}
