/*
 * test_hmap.c: the hash map of rooms, sockets and sessions (hmap.c): FNV-1a
 * against its published vectors; put, replace, get and delete on keys that
 * differ only in length, hold NUL bytes or are empty; probe chains that
 * cross a deleted slot; growth to ten thousand keys checked against a
 * reference table; deletion during iteration; the tombstones of a churning
 * map rehashed in place instead of growing it, and a big map's memory given
 * back once it is empty.
 */
#include <stdlib.h>

#include "core/hmap.h"
#include "unit.h"

#define MANY 10000

static void test_hash_vectors(void)
{
	/* FNV-1a 32-bit, from the reference test suite */
	static const struct {
		const char *s;
		uint32_t h;
	} v[] = {
		{ "", 0x811c9dc5u },
		{ "a", 0xe40c292cu },
		{ "b", 0xe70c2de5u },
		{ "foobar", 0xbf9cf968u },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(v); i++)
		CHECK_INT(hmap_hash(v[i].s, strlen(v[i].s)), v[i].h);
}

static void test_empty(void)
{
	struct hmap m;
	const struct hmap_entry *e;
	size_t it = 0;

	hmap_init(&m);
	CHECK(hmap_get(&m, "x", 1) == NULL);
	CHECK(hmap_del(&m, "x", 1) == NULL);
	CHECK(!hmap_next(&m, &it, &e));
	CHECK_INT(m.len, 0);
	hmap_fini(&m);
	hmap_fini(&m); /* twice is harmless */
}

/* Keys are byte strings of a given length: a prefix, the same bytes with a
 * NUL after them, and the empty key are all different keys. */
static void test_keys(void)
{
	static const struct {
		const char *key;
		size_t len;
	} keys[] = {
		{ "room", 4 }, { "roo", 3 },  { "room\0", 5 }, { "\0room", 5 },
		{ "", 0 },     { "Room", 4 }, { "room ", 5 },
	};
	int values[SG_ARRAY_LEN(keys)];
	struct hmap m;

	hmap_init(&m);
	for (size_t i = 0; i < SG_ARRAY_LEN(keys); i++)
		CHECK(hmap_put(&m, keys[i].key, keys[i].len, &values[i]) == NULL);
	CHECK_INT(m.len, SG_ARRAY_LEN(keys));
	for (size_t i = 0; i < SG_ARRAY_LEN(keys); i++)
		CHECK(hmap_get(&m, keys[i].key, keys[i].len) == &values[i]);
	/* the key's length decides, not a NUL inside it */
	CHECK(hmap_get(&m, "room\0x", 5) == &values[2]);
	CHECK(hmap_get(&m, "roomx", 4) == &values[0]);
	for (size_t i = 0; i < SG_ARRAY_LEN(keys); i += 2)
		CHECK(hmap_del(&m, keys[i].key, keys[i].len) == &values[i]);
	for (size_t i = 0; i < SG_ARRAY_LEN(keys); i++)
		CHECK(hmap_get(&m, keys[i].key, keys[i].len) == (i % 2 ? &values[i] : NULL));
	CHECK_INT(m.len, SG_ARRAY_LEN(keys) / 2);
	hmap_fini(&m);
}

/* A put on a present key replaces the value and takes the new key pointer
 * (the old one may be about to be freed with its old value). */
static void test_replace(void)
{
	char k1[] = "same", k2[] = "same";
	int a, b;
	struct hmap m;
	const struct hmap_entry *e;
	size_t it = 0;

	hmap_init(&m);
	CHECK(hmap_put(&m, k1, 4, &a) == NULL);
	CHECK(hmap_put(&m, k2, 4, &b) == &a);
	CHECK_INT(m.len, 1);
	CHECK(hmap_get(&m, "same", 4) == &b);
	CHECK(hmap_next(&m, &it, &e));
	CHECK(e->key == k2);
	CHECK(hmap_del(&m, "same", 4) == &b);
	CHECK(hmap_del(&m, "same", 4) == NULL);
	hmap_fini(&m);
}

/* Three keys in one probe chain (same slot of an 8-slot table): deleting
 * the middle one leaves a tombstone the chain still crosses, and a new key
 * reuses it. */
static void test_probe_chain(void)
{
	static char names[64][8];
	size_t chain[3], n = 0;
	int v[3], w;
	struct hmap m;

	for (size_t i = 0; i < SG_ARRAY_LEN(names) && n < 3; i++) {
		snprintf(names[i], sizeof(names[i]), "k%zu", i);
		if ((hmap_hash(names[i], strlen(names[i])) & 7) ==
		    (hmap_hash(names[0], strlen(names[0])) & 7))
			chain[n++] = i;
	}
	if (n < 3) {
		CHECK(!"three keys of one slot");
		return;
	}
	hmap_init(&m);
	for (size_t i = 0; i < 3; i++)
		hmap_put(&m, names[chain[i]], strlen(names[chain[i]]), &v[i]);
	CHECK_INT(m.cap, 8);
	CHECK(hmap_del(&m, names[chain[1]], strlen(names[chain[1]])) == &v[1]);
	CHECK(hmap_get(&m, names[chain[2]], strlen(names[chain[2]])) == &v[2]);
	CHECK(hmap_get(&m, names[chain[1]], strlen(names[chain[1]])) == NULL);
	CHECK_INT(m.used, 3); /* the tombstone still counts */
	CHECK(hmap_put(&m, names[chain[1]], strlen(names[chain[1]]), &w) == NULL);
	CHECK_INT(m.used, 3); /* and is reused */
	CHECK(hmap_get(&m, names[chain[1]], strlen(names[chain[1]])) == &w);
	CHECK(hmap_get(&m, names[chain[2]], strlen(names[chain[2]])) == &v[2]);
	hmap_fini(&m);
}

/* Ten thousand keys in, every other one out, checked against a plain array;
 * the load factor stays under 3/4 and iteration sees each live key once. */
static void test_many(void)
{
	static char keys[MANY][12];
	static unsigned char seen[MANY];
	struct hmap m;
	const struct hmap_entry *e;
	size_t it = 0, visited = 0;
	int wrong = 0;

	hmap_init(&m);
	for (size_t i = 0; i < MANY; i++) {
		snprintf(keys[i], sizeof(keys[i]), "sock-%zu", i);
		hmap_put(&m, keys[i], strlen(keys[i]), keys[i]);
		if (m.used * 4 >= m.cap * 3)
			wrong++;
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(m.len, MANY);
	CHECK((m.cap & (m.cap - 1)) == 0);
	for (size_t i = 0; i < MANY; i += 2)
		if (hmap_del(&m, keys[i], strlen(keys[i])) != keys[i])
			wrong++;
	for (size_t i = 0; i < MANY; i++)
		if (hmap_get(&m, keys[i], strlen(keys[i])) != (i % 2 ? keys[i] : NULL))
			wrong++;
	CHECK_INT(wrong, 0);
	CHECK_INT(m.len, MANY / 2);
	while (hmap_next(&m, &it, &e)) {
		size_t k = (size_t)((char(*)[12])e->value - keys);
		visited++;
		if (k >= MANY || seen[k]++ || k % 2 == 0 || e->key != keys[k] ||
		    e->key_len != strlen(keys[k]))
			wrong++;
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(visited, MANY / 2);
	hmap_fini(&m);
}

/* Deleting the entry the iteration is on is allowed: every entry is still
 * visited once. */
static void test_delete_while_iterating(void)
{
	static char keys[100][8];
	struct hmap m;
	const struct hmap_entry *e;
	size_t it = 0, visited = 0;

	hmap_init(&m);
	for (size_t i = 0; i < 100; i++) {
		snprintf(keys[i], sizeof(keys[i]), "r%zu", i);
		hmap_put(&m, keys[i], strlen(keys[i]), keys[i]);
	}
	while (hmap_next(&m, &it, &e)) {
		visited++;
		CHECK(hmap_del(&m, e->key, e->key_len) != NULL);
	}
	CHECK_INT(visited, 100);
	CHECK_INT(m.len, 0);
	/* past 64 slots, emptying the map gives its memory back */
	CHECK(m.slots == NULL && m.cap == 0);
	hmap_fini(&m);
}

/* One key joins and leaves forever next to a steady one: the tombstones are
 * swept by rehashing at the same size, the table never grows. */
static void test_churn_does_not_grow(void)
{
	struct hmap m;
	int steady, v, lost = 0;
	size_t max_cap = 0;

	hmap_init(&m);
	hmap_put(&m, "steady", 6, &steady);
	for (int i = 0; i < 100000; i++) {
		char key[16];
		int n = snprintf(key, sizeof(key), "c%d", i);
		hmap_put(&m, key, (size_t)n, &v);
		if (hmap_del(&m, key, (size_t)n) != &v)
			lost++;
		if (m.cap > max_cap)
			max_cap = m.cap;
	}
	CHECK_INT(lost, 0);
	CHECK_INT(max_cap, 8);
	CHECK_INT(m.len, 1);
	CHECK(hmap_get(&m, "steady", 6) == &steady);
	/* a small map keeps its table when it empties */
	CHECK(hmap_del(&m, "steady", 6) == &steady);
	CHECK_INT(m.cap, 8);
	CHECK(hmap_get(&m, "steady", 6) == NULL);
	hmap_fini(&m);
}

int main(void)
{
	RUN(test_hash_vectors);
	RUN(test_empty);
	RUN(test_keys);
	RUN(test_replace);
	RUN(test_probe_chain);
	RUN(test_many);
	RUN(test_delete_while_iterating);
	RUN(test_churn_does_not_grow);
	return UNIT_END();
}
