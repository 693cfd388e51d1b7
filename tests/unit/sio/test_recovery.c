/*
 * test_recovery.c: the session store and replay log of connection state
 * recovery (recovery.c): offsets appended as the last argument, a session
 * taken back once with its rooms and identity, replay filtered by rooms
 * and except as Node's shouldIncludePacket does, and every fallback (an
 * unknown pid, an offset not in the log, a session past max_disconnection,
 * the log's packet cap), and a session moving to another worker, whose
 * log has other offsets and a slightly different order.
 */
#include <string.h>
#include <unistd.h>

#include "sio/recovery.h"
#include "unit.h"

static const uint8_t w0 = 0, w1 = 1, w3 = 3;

struct replayed {
	char text[16][64];
	size_t n;
};

/* Text as is, an attachment as "bin:<bytes>". */
static void on_send(void *arg, bool binary, const char *data, size_t len)
{
	struct replayed *r = arg;

	if (r->n < 16 && len + 4 < sizeof(r->text[0]))
		snprintf(r->text[r->n++], sizeof(r->text[0]), "%s%.*s", binary ? "bin:" : "",
			 (int)len, data);
}

/* Stamps "42[\"e\",<i>]" for rooms/except (comma-separated, "" = none). */
static void stamp(struct recovery *r, int i, const char *rooms, const char *except, char *out,
		  size_t out_len)
{
	struct sg_strv rv = { 0 }, ev = { 0 };
	struct sg_buf b;
	char tmp[64];

	if (*rooms)
		sg_strv_push(&rv, rooms);
	if (*except)
		sg_strv_push(&ev, except);
	sg_buf_init(&b);
	snprintf(tmp, sizeof(tmp), "42[\"e\",%d]", i);
	sg_buf_append_str(&b, tmp);
	recovery_stamp(r, &b, &rv, &ev, NULL, 0);
	snprintf(out, out_len, "%.*s", (int)b.len, b.data);
	sg_buf_fini(&b);
	sg_strv_free(&rv);
	sg_strv_free(&ev);
}

static void test_offsets(void)
{
	struct recovery *r = recovery_new(60000, &w0);
	char out[64];
	struct sg_buf b;

	stamp(r, 1, "", "", out, sizeof(out));
	CHECK_STR(out, "42[\"e\",1,\"256\"]");
	stamp(r, 2, "a", "", out, sizeof(out));
	CHECK_STR(out, "42[\"e\",2,\"512\"]");
	/* an empty array gets no comma; a packet without an array is left */
	sg_buf_init(&b);
	sg_buf_append_str(&b, "42[]");
	recovery_stamp(r, &b, NULL, NULL, NULL, 0);
	CHECK(b.len == 9 && memcmp(b.data, "42[\"768\"]", 9) == 0);
	sg_buf_reset(&b);
	sg_buf_append_str(&b, "40");
	recovery_stamp(r, &b, NULL, NULL, NULL, 0);
	CHECK(b.len == 2);
	sg_buf_fini(&b);
	recovery_free(r);
}

static void test_take_and_replay(void)
{
	struct recovery *r = recovery_new(60000, &w0);
	struct sg_strv rooms = { 0 };
	struct recovery_session *s;
	struct replayed got = { 0 };
	char out[64];

	sg_strv_push(&rooms, "a");
	stamp(r, 1, "a", "", out, sizeof(out)); /* offset 1: the client's last */
	recovery_keep(r, "PID", "SID", &rooms, json_string("claims"));
	stamp(r, 2, "a", "", out, sizeof(out));	  /* its room */
	stamp(r, 3, "b", "", out, sizeof(out));	  /* another room */
	stamp(r, 4, "", "", out, sizeof(out));	  /* everyone */
	stamp(r, 5, "", "a", out, sizeof(out));	  /* everyone but room a */
	stamp(r, 6, "SID", "", out, sizeof(out)); /* its id room */
	stamp(r, 7, "a", "SID", out, sizeof(out));
	CHECK(recovery_take(r, "nope", 4, "256", 3) == NULL);
	CHECK(recovery_take(r, "PID", 3, "99", 2) == NULL);
	CHECK(recovery_take(r, "PID", 3, "x", 1) == NULL);
	CHECK(recovery_take(r, "PID", 3, "01", 2) == NULL);
	s = recovery_take(r, "PID", 3, "256", 3);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_STR(s->sid, "SID");
		CHECK(s->rooms.n == 1 && strcmp(s->rooms.v[0], "a") == 0);
		CHECK_STR(json_string_value(s->kept), "claims");
		CHECK_INT(recovery_replay(r, s, on_send, &got), 3);
		CHECK_STR(got.text[0], "42[\"e\",2,\"512\"]");
		CHECK_STR(got.text[1], "42[\"e\",4,\"1024\"]");
		CHECK_STR(got.text[2], "42[\"e\",6,\"1536\"]");
		recovery_session_free(s);
	}
	/* taken once */
	CHECK(recovery_take(r, "PID", 3, "256", 3) == NULL);
	sg_strv_free(&rooms);
	recovery_free(r);
}

/* A binary event: the offset after its placeholder, its attachment copied
 * and replayed right after it. */
static void test_binary(void)
{
	struct recovery *r = recovery_new(60000, &w0);
	struct sg_strv none = { 0 };
	uint8_t bytes[] = { 'x', 'y', 'z' };
	struct adapter_attachment att = { bytes, sizeof(bytes) };
	struct recovery_session *s;
	struct replayed got = { 0 };
	char out[64];
	struct sg_buf b;

	stamp(r, 1, "", "", out, sizeof(out));
	recovery_keep(r, "P", "S", &none, NULL);
	sg_buf_init(&b);
	sg_buf_append_str(&b, "451-[\"b\",{\"_placeholder\":true,\"num\":0}]");
	recovery_stamp(r, &b, NULL, NULL, &att, 1);
	bytes[0] = 'X'; /* the log kept its own copy */
	sg_buf_fini(&b);
	s = recovery_take(r, "P", 1, "256", 3);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_INT(recovery_replay(r, s, on_send, &got), 1);
		CHECK_INT(got.n, 2);
		CHECK_STR(got.text[0], "451-[\"b\",{\"_placeholder\":true,\"num\":0},\"512\"]");
		CHECK_STR(got.text[1], "bin:xyz");
		recovery_session_free(s);
	}
	recovery_free(r);
}

static void test_bounds(void)
{
	struct recovery *r = recovery_new(1000, &w0);
	struct sg_strv rooms = { 0 };
	struct recovery_session *s;
	char out[64];

	stamp(r, 1, "", "", out, sizeof(out));
	recovery_keep(r, "P1", "S1", &rooms, NULL);
	/* the packet cap drops the oldest: offset 1 is gone */
	for (int i = 0; i < RECOVERY_LOG_PACKETS; i++)
		stamp(r, i, "", "", out, sizeof(out));
	CHECK(recovery_take(r, "P1", 2, "256", 3) == NULL);
	/* a failed attempt leaves the session; offset 2 is still logged */
	s = recovery_take(r, "P1", 2, "512", 3);
	CHECK(s != NULL);
	recovery_session_free(s);
	recovery_free(r);

	/* a session older than max_disconnection is gone */
	r = recovery_new(1000, &w0);
	stamp(r, 1, "", "", out, sizeof(out));
	recovery_keep(r, "P2", "S2", &rooms, json_true());
	usleep(1100 * 1000);
	CHECK(recovery_take(r, "P2", 2, "256", 3) == NULL);
	recovery_free(r);
}

/* Offsets name their worker: worker 3's offsets are counter * 256 + 3,
 * and another worker's offset is not in this log. */
static void test_worker_offsets(void)
{
	struct recovery *r = recovery_new(60000, &w3);
	struct sg_strv none = { 0 };
	struct recovery_session *s;
	char out[64];

	stamp(r, 1, "", "", out, sizeof(out));
	CHECK_STR(out, "42[\"e\",1,\"259\"]");
	recovery_keep(r, "P", "S", &none, NULL);
	CHECK(recovery_take(r, "P", 1, "256", 3) == NULL);
	s = recovery_take(r, "P", 1, "259", 3);
	CHECK(s != NULL);
	recovery_session_free(s);
	recovery_free(r);
}

#define ID_A "AAAAAAAAAAAAAAAAAAAA"
#define ID_B "BBBBBBBBBBBBBBBBBBBB"

/* Worker a keeps the session; worker b logged the same events with its
 * own offsets, with 4 and 5 the other way round.  The client got 1..4 on
 * a (a's order: 1 2 3 4 5, b's: 1 2 3 5 4 6): on b it gets 5 and 6, each
 * once. */
static void test_moved(void)
{
	struct recovery *a = recovery_new(60000, &w0), *b = recovery_new(60000, &w1);
	struct sg_strv rooms = { 0 };
	struct recovery_session *s, *moved;
	struct replayed got = { 0 };
	char out[64], *text;
	int order_a[] = { 1, 2, 3, 4, 5 }, order_b[] = { 1, 2, 3, 5, 4, 6 };

	sg_strv_push(&rooms, "r");
	for (size_t i = 0; i < SG_ARRAY_LEN(order_a); i++)
		stamp(a, order_a[i], "r", "", out, sizeof(out));
	for (size_t i = 0; i < SG_ARRAY_LEN(order_b); i++)
		stamp(b, order_b[i], "r", "", out, sizeof(out));
	recovery_keep(a, ID_B, ID_A, &rooms, json_pack("{s:s}", "sub", "u"));
	/* the client's last: event 4, offset 4 * 256 on a */
	s = recovery_take(a, ID_B, SG_ID_LEN, "1024", 4);
	CHECK(s != NULL);
	text = s ? recovery_session_dump(a, s) : NULL;
	CHECK(text != NULL);
	moved = text ? recovery_session_load(text, strlen(text)) : NULL;
	CHECK(moved != NULL);
	if (moved != NULL) {
		CHECK_STR(moved->sid, ID_A);
		CHECK_STR(moved->pid, ID_B);
		CHECK(moved->rooms.n == 1 && strcmp(moved->rooms.v[0], "r") == 0);
		CHECK_STR(json_string_value(json_object_get(moved->kept, "sub")), "u");
		CHECK_INT(moved->n_sig, 4);
		CHECK(recovery_adopt(b, moved));
		CHECK_INT(recovery_replay(b, moved, on_send, &got), 2);
		/* b's offsets: 5 was b's 4th event, 6 its 6th */
		CHECK_STR(got.text[0], "42[\"e\",5,\"1025\"]");
		CHECK_STR(got.text[1], "42[\"e\",6,\"1537\"]");
	}
	recovery_session_free(moved);
	recovery_session_free(s);
	free(text);
	/* an event b never logged cannot be placed; bad text is refused */
	recovery_keep(a, ID_B, ID_A, &rooms, NULL);
	stamp(a, 99, "r", "", out, sizeof(out));
	s = recovery_take(a, ID_B, SG_ID_LEN, "1536", 4);
	CHECK(s != NULL);
	text = s ? recovery_session_dump(a, s) : NULL;
	moved = text ? recovery_session_load(text, strlen(text)) : NULL;
	CHECK(moved != NULL && !recovery_adopt(b, moved));
	recovery_session_free(moved);
	recovery_session_free(s);
	free(text);
	CHECK(recovery_session_load("{}", 2) == NULL);
	CHECK(recovery_session_load("[1", 2) == NULL);
	CHECK(recovery_session_load("{\"sid\":\"" ID_A "\",\"pid\":\"" ID_B
				    "\",\"rooms\":[],\"sig\":[\"xyz\"]}",
				    strlen("{\"sid\":\"" ID_A "\",\"pid\":\"" ID_B
					   "\",\"rooms\":[],\"sig\":[\"xyz\"]}")) == NULL);
	sg_strv_free(&rooms);
	recovery_free(a);
	recovery_free(b);
}

/* A session adopted by b whose client got nothing there since still holds
 * a's offset: kept again by b with a's hashes, it is taken with that
 * offset and placed again. */
static void test_moved_quiet(void)
{
	struct recovery *a = recovery_new(60000, &w0), *b = recovery_new(60000, &w1);
	struct sg_strv rooms = { 0 };
	struct recovery_session *s, *moved = NULL, *again;
	struct replayed got = { 0 };
	char out[64], *text;

	for (int i = 1; i <= 4; i++) {
		stamp(a, i, "", "", out, sizeof(out));
		stamp(b, i, "", "", out, sizeof(out));
	}
	recovery_keep(a, ID_B, ID_A, &rooms, NULL);
	s = recovery_take(a, ID_B, SG_ID_LEN, "1024", 4);
	text = s ? recovery_session_dump(a, s) : NULL;
	moved = text ? recovery_session_load(text, strlen(text)) : NULL;
	CHECK(moved != NULL && recovery_adopt(b, moved));
	if (moved != NULL) {
		CHECK_INT(recovery_replay(b, moved, on_send, &got), 0);
		recovery_moved(b, moved);
	}
	/* its socket on b ends; the session is kept by b */
	recovery_keep(b, ID_B, ID_A, &rooms, NULL);
	stamp(b, 5, "", "", out, sizeof(out));
	again = recovery_take(b, ID_B, SG_ID_LEN, "1024", 4);
	CHECK(again != NULL && again->n_sig > 0 && recovery_adopt(b, again));
	if (again != NULL) {
		CHECK_INT(recovery_replay(b, again, on_send, &got), 1);
		CHECK_STR(got.text[0], "42[\"e\",5,\"1281\"]");
	}
	/* a socket that ends unkept forgets its hashes */
	recovery_moved(b, again);
	recovery_forget(b, ID_B);
	recovery_keep(b, ID_B, ID_A, &rooms, NULL);
	CHECK(recovery_take(b, ID_B, SG_ID_LEN, "1024", 4) == NULL);
	recovery_session_free(again);
	recovery_session_free(moved);
	recovery_session_free(s);
	free(text);
	recovery_free(a);
	recovery_free(b);
}

/* The text kept in Redis: the offsets and hashes of the last events the
 * session's rooms select; loaded with the client's offset, it is placed in
 * another log by hash.  An offset not among them cannot be loaded. */
static void test_store(void)
{
	struct recovery *a = recovery_new(60000, &w0), *b = recovery_new(60000, &w1);
	struct sg_strv rooms = { 0 };
	struct recovery_session *s;
	struct replayed got = { 0 };
	json_t *claims = json_pack("{s:s}", "sub", "u");
	char out[64], *text;

	sg_strv_push(&rooms, "r");
	for (int i = 1; i <= 3; i++) {
		stamp(a, i, "r", "", out, sizeof(out));
		stamp(a, 100 + i, "other", "", out, sizeof(out)); /* not its rooms: not kept */
		stamp(b, i, "r", "", out, sizeof(out));
	}
	stamp(b, 4, "r", "", out, sizeof(out)); /* a never sent it: the client missed it */
	text = recovery_store_text(a, ID_B, ID_A, &rooms, claims); /* borrowed */
	json_decref(claims);
	CHECK(text != NULL && strstr(text, "\"log\"") != NULL);
	/* the client got event 2 last: a's offset 3 * 256 (events 1, 101, 2) */
	CHECK(recovery_store_load(text, strlen(text), "99999", 5) == NULL);
	s = recovery_store_load(text, strlen(text), "768", 3);
	CHECK(s != NULL && s->n_sig == 2);
	if (s != NULL) {
		CHECK_STR(s->sid, ID_A);
		CHECK_STR(json_string_value(json_object_get(s->kept, "sub")), "u");
		CHECK(recovery_adopt(b, s));
		CHECK_INT(recovery_replay(b, s, on_send, &got), 2);
		CHECK_STR(got.text[0], "42[\"e\",3,\"769\"]");
		CHECK_STR(got.text[1], "42[\"e\",4,\"1025\"]");
	}
	recovery_session_free(s);
	free(text);
	CHECK(recovery_store_load("{\"sid\":1}", 9, "768", 3) == NULL);
	sg_strv_free(&rooms);
	recovery_free(a);
	recovery_free(b);
}

int main(void)
{
	RUN(test_offsets);
	RUN(test_take_and_replay);
	RUN(test_binary);
	RUN(test_bounds);
	RUN(test_worker_offsets);
	RUN(test_moved);
	RUN(test_moved_quiet);
	RUN(test_store);
	return UNIT_END();
}
