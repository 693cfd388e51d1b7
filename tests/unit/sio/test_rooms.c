/*
 * test_rooms.c: the room index of a namespace (rooms.c): joining, leaving
 * and leaving everything, rooms made on first join and dropped with their
 * last member, and the index's invariant (each membership's recorded
 * position holds its member) checked after every step of a long random
 * sequence against a plain member x room table.  The members are the
 * test's own structs: the index never looks inside a socket, it asks
 * set_of for its memberships.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio/rooms.h"
#include "unit.h"

#define MEMBERS 24
#define ROOMS 12
#define STEPS 20000

struct member {
	struct room_set set;
	int id;
};

static struct member members[MEMBERS];
static bool model[MEMBERS][ROOMS];
static char room_names[ROOMS][16];

static struct room_set *set_of(struct sio_socket *sock)
{
	return &((struct member *)sock)->set;
}

static struct sio_socket *sock_of(int i)
{
	return (struct sio_socket *)&members[i];
}

/* Counts what disagrees between the index and the model. */
static int violations(const struct rooms *r)
{
	int bad = 0;

	for (int k = 0; k < ROOMS; k++) {
		const char *name = room_names[k];
		struct room *room = rooms_find(r, name, strlen(name));
		uint32_t want = 0;

		for (int i = 0; i < MEMBERS; i++)
			want += model[i][k];
		if (want == 0) {
			bad += room != NULL; /* a room exists while it has members */
			continue;
		}
		if (room == NULL || room->n_members != want || room->n_members > room->cap ||
		    strcmp(room->name, name) != 0 || room->name_len != strlen(name)) {
			bad++;
			continue;
		}
		for (int i = 0; i < MEMBERS; i++)
			bad += room_set_has(&members[i].set, name) != model[i][k];
	}
	for (int i = 0; i < MEMBERS; i++) {
		const struct room_set *s = &members[i].set;
		for (uint16_t m = 0; m < s->n; m++) {
			const struct room *room = s->v[m].room;
			if (s->v[m].pos >= room->n_members ||
			    room->members[s->v[m].pos] != sock_of(i))
				bad++;
		}
	}
	return bad;
}

static void test_join_leave(void)
{
	struct rooms r;
	struct member a = { 0 }, b = { 0 };
	struct sio_socket *sa = (struct sio_socket *)&a, *sb = (struct sio_socket *)&b;
	struct room *room;

	rooms_init(&r, set_of);
	CHECK(rooms_find(&r, "lobby", 5) == NULL);
	CHECK_INT(rooms_leave(&r, sa, &a.set, "lobby"), 0);
	CHECK_INT(rooms_join(&r, sa, &a.set, "lobby"), 1);
	CHECK_INT(rooms_join(&r, sa, &a.set, "lobby"), 0);
	CHECK_INT(rooms_join(&r, sb, &b.set, "lobby"), 1);
	room = rooms_find(&r, "lobby", 5);
	CHECK(room != NULL && room->n_members == 2);
	CHECK(room_set_has(&a.set, "lobby"));
	CHECK(!room_set_has(&a.set, "lobb"));
	CHECK(!room_set_has(&a.set, "lobby2"));
	/* the length given to rooms_find decides, not a NUL */
	CHECK(rooms_find(&r, "lobby-and-more", 5) == room);
	CHECK(rooms_find(&r, "lobby", 4) == NULL);
	/* b is not in "other": nothing to leave */
	CHECK_INT(rooms_join(&r, sa, &a.set, "other"), 1);
	CHECK_INT(rooms_leave(&r, sb, &b.set, "other"), 0);
	CHECK_INT(rooms_leave(&r, sa, &a.set, "lobby"), 1);
	CHECK_INT(rooms_leave(&r, sa, &a.set, "lobby"), 0);
	CHECK(rooms_find(&r, "lobby", 5) == room && room->n_members == 1);
	CHECK(room->members[0] == sb); /* b moved into a's place */
	CHECK_INT(rooms_leave(&r, sb, &b.set, "lobby"), 1);
	CHECK(rooms_find(&r, "lobby", 5) == NULL);
	rooms_leave_all(&r, sa, &a.set);
	CHECK(rooms_find(&r, "other", 5) == NULL);
	CHECK(a.set.v == NULL && a.set.n == 0 && a.set.cap == 0);
	rooms_leave_all(&r, sb, &b.set);
	rooms_fini(&r);
}

/* Names are any bytes but NUL: the empty name, long names, near names. */
static void test_names(void)
{
	static const char *const names[] = {
		"",
		"a",
		"A",
		"a ",
		" a",
		"room/with/slashes",
		"caf\xc3\xa9",
		"0123456789012345678901234567890123456789012345678901234567890123456789",
	};
	struct rooms r;
	struct member m = { 0 };
	struct sio_socket *s = (struct sio_socket *)&m;

	rooms_init(&r, set_of);
	for (size_t i = 0; i < SG_ARRAY_LEN(names); i++)
		CHECK_INT(rooms_join(&r, s, &m.set, names[i]), 1);
	CHECK_INT(m.set.n, SG_ARRAY_LEN(names));
	CHECK(m.set.cap >= m.set.n);
	for (size_t i = 0; i < SG_ARRAY_LEN(names); i++) {
		struct room *room = rooms_find(&r, names[i], strlen(names[i]));
		CHECK(room != NULL && room->n_members == 1 && strcmp(room->name, names[i]) == 0);
		CHECK(room_set_has(&m.set, names[i]));
	}
	CHECK(!room_set_has(&m.set, "b"));
	rooms_leave_all(&r, s, &m.set);
	for (size_t i = 0; i < SG_ARRAY_LEN(names); i++)
		CHECK(rooms_find(&r, names[i], strlen(names[i])) == NULL);
	rooms_fini(&r);
}

/* A long random sequence of joins, leaves and leave-alls, checked against
 * the model after every step; then rooms_fini with members still in. */
static void test_random_sequence(void)
{
	struct rooms r;
	unsigned seed = 20261208;
	int bad = 0, joined = 0, left = 0;

	memset(members, 0, sizeof(members));
	memset(model, 0, sizeof(model));
	for (int k = 0; k < ROOMS; k++)
		snprintf(room_names[k], sizeof(room_names[k]), "room-%d", k);
	rooms_init(&r, set_of);
	for (int step = 0; step < STEPS; step++) {
		int i, k, op, rc;

		seed = seed * 1103515245u + 12345u;
		i = (int)((seed >> 8) % MEMBERS);
		k = (int)((seed >> 16) % ROOMS);
		op = (int)((seed >> 24) % 20);
		if (op < 11) {
			rc = rooms_join(&r, sock_of(i), &members[i].set, room_names[k]);
			bad += rc != !model[i][k];
			joined += rc;
			model[i][k] = true;
		} else if (op < 19) {
			rc = rooms_leave(&r, sock_of(i), &members[i].set, room_names[k]);
			bad += rc != model[i][k];
			left += rc;
			model[i][k] = false;
		} else {
			rooms_leave_all(&r, sock_of(i), &members[i].set);
			memset(model[i], 0, sizeof(model[i]));
		}
		bad += violations(&r);
	}
	CHECK_INT(bad, 0);
	CHECK(joined > 1000 && left > 1000); /* the sequence did exercise both */
	rooms_fini(&r);			     /* frees the rooms; the sets are the members' */
	for (int i = 0; i < MEMBERS; i++)
		free(members[i].set.v);
}

/* rooms.changed: told each real join and leave (a repeated join or a
 * leave of a room not held is no change), leave_all included, after the
 * change; unset, nothing is told. */
static char changes[256];

static void on_changed(struct sio_socket *sock, const char *name, size_t len, bool joined)
{
	char one[48];

	snprintf(one, sizeof(one), "%c%d:%.*s ", joined ? '+' : '-', ((struct member *)sock)->id,
		 (int)len, name);
	strncat(changes, one, sizeof(changes) - strlen(changes) - 1);
}

static void test_changed(void)
{
	struct rooms r;
	struct member *a = &members[0], *b = &members[1];

	memset(members, 0, sizeof(members));
	a->id = 1;
	b->id = 2;
	changes[0] = '\0';
	rooms_init(&r, set_of);
	CHECK_INT(rooms_join(&r, sock_of(0), &a->set, "x"), 1);
	CHECK_STR(changes, "");
	r.changed = on_changed;
	CHECK_INT(rooms_join(&r, sock_of(0), &a->set, "y"), 1);
	CHECK_INT(rooms_join(&r, sock_of(0), &a->set, "y"), 0);
	CHECK_INT(rooms_join(&r, sock_of(1), &b->set, "y"), 1);
	CHECK_INT(rooms_leave(&r, sock_of(1), &b->set, "y"), 1);
	CHECK_INT(rooms_leave(&r, sock_of(1), &b->set, "y"), 0);
	CHECK_STR(changes, "+1:y +2:y -2:y ");
	changes[0] = '\0';
	rooms_leave_all(&r, sock_of(0), &a->set);
	CHECK_STR(changes, "-1:y -1:x ");
	CHECK(rooms_find(&r, "x", 1) == NULL && rooms_find(&r, "y", 1) == NULL);
	rooms_fini(&r);
}

int main(void)
{
	RUN(test_join_leave);
	RUN(test_names);
	RUN(test_random_sequence);
	RUN(test_changed);
	return UNIT_END();
}
