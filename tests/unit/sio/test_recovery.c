/*
 * test_recovery.c: the session store and replay log of connection state
 * recovery (recovery.c): offsets appended as the last argument, a session
 * taken back once with its rooms and identity, replay filtered by rooms
 * and except as Node's shouldIncludePacket does, and every fallback (an
 * unknown pid, an offset not in the log, a session past max_disconnection,
 * the log's packet cap).
 */
#include <string.h>
#include <unistd.h>

#include "sio/recovery.h"
#include "unit.h"

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
	struct recovery *r = recovery_new(60000);
	char out[64];
	struct sg_buf b;

	stamp(r, 1, "", "", out, sizeof(out));
	CHECK_STR(out, "42[\"e\",1,\"1\"]");
	stamp(r, 2, "a", "", out, sizeof(out));
	CHECK_STR(out, "42[\"e\",2,\"2\"]");
	/* an empty array gets no comma; a packet without an array is left */
	sg_buf_init(&b);
	sg_buf_append_str(&b, "42[]");
	recovery_stamp(r, &b, NULL, NULL, NULL, 0);
	CHECK(b.len == 7 && memcmp(b.data, "42[\"3\"]", 7) == 0);
	sg_buf_reset(&b);
	sg_buf_append_str(&b, "40");
	recovery_stamp(r, &b, NULL, NULL, NULL, 0);
	CHECK(b.len == 2);
	sg_buf_fini(&b);
	recovery_free(r);
}

static void test_take_and_replay(void)
{
	struct recovery *r = recovery_new(60000);
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
	CHECK(recovery_take(r, "nope", 4, "1", 1) == NULL);
	CHECK(recovery_take(r, "PID", 3, "99", 2) == NULL);
	CHECK(recovery_take(r, "PID", 3, "x", 1) == NULL);
	CHECK(recovery_take(r, "PID", 3, "01", 2) == NULL);
	s = recovery_take(r, "PID", 3, "1", 1);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_STR(s->sid, "SID");
		CHECK(s->rooms.n == 1 && strcmp(s->rooms.v[0], "a") == 0);
		CHECK_STR(json_string_value(s->kept), "claims");
		CHECK_INT(recovery_replay(r, s, on_send, &got), 3);
		CHECK_STR(got.text[0], "42[\"e\",2,\"2\"]");
		CHECK_STR(got.text[1], "42[\"e\",4,\"4\"]");
		CHECK_STR(got.text[2], "42[\"e\",6,\"6\"]");
		recovery_session_free(s);
	}
	/* taken once */
	CHECK(recovery_take(r, "PID", 3, "1", 1) == NULL);
	sg_strv_free(&rooms);
	recovery_free(r);
}

/* A binary event: the offset after its placeholder, its attachment copied
 * and replayed right after it. */
static void test_binary(void)
{
	struct recovery *r = recovery_new(60000);
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
	s = recovery_take(r, "P", 1, "1", 1);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_INT(recovery_replay(r, s, on_send, &got), 1);
		CHECK_INT(got.n, 2);
		CHECK_STR(got.text[0], "451-[\"b\",{\"_placeholder\":true,\"num\":0},\"2\"]");
		CHECK_STR(got.text[1], "bin:xyz");
		recovery_session_free(s);
	}
	recovery_free(r);
}

static void test_bounds(void)
{
	struct recovery *r = recovery_new(1000);
	struct sg_strv rooms = { 0 };
	struct recovery_session *s;
	char out[64];

	stamp(r, 1, "", "", out, sizeof(out));
	recovery_keep(r, "P1", "S1", &rooms, NULL);
	/* the packet cap drops the oldest: offset 1 is gone */
	for (int i = 0; i < RECOVERY_LOG_PACKETS; i++)
		stamp(r, i, "", "", out, sizeof(out));
	CHECK(recovery_take(r, "P1", 2, "1", 1) == NULL);
	/* a failed attempt leaves the session; offset 2 is still logged */
	s = recovery_take(r, "P1", 2, "2", 1);
	CHECK(s != NULL);
	recovery_session_free(s);
	recovery_free(r);

	/* a session older than max_disconnection is gone */
	r = recovery_new(1000);
	stamp(r, 1, "", "", out, sizeof(out));
	recovery_keep(r, "P2", "S2", &rooms, json_true());
	usleep(1100 * 1000);
	CHECK(recovery_take(r, "P2", 2, "1", 1) == NULL);
	recovery_free(r);
}

int main(void)
{
	RUN(test_offsets);
	RUN(test_take_and_replay);
	RUN(test_binary);
	RUN(test_bounds);
	return UNIT_END();
}
