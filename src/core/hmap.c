/*
 * hmap.c: linear-probing hash map with tombstones.  Invariant: cap is a power
 * of two and used (live + tombstones) stays below 3/4 of cap, so every probe
 * sequence ends at an empty slot.
 */
#include "core/hmap.h"

#include <stdlib.h>
#include <string.h>

/* A tombstone: key non-NULL sentinel, never equal to a real key pointer. */
static const char tombstone_key[1];
#define TOMBSTONE tombstone_key

static void grow(struct hmap *m, size_t cap);
static struct hmap_entry *find(const struct hmap *m, const char *key, size_t len, uint32_t h);

uint32_t hmap_hash(const char *key, size_t len)
{
	/* FNV-1a: short keys, no adversarial concern beyond a worst case of
	 * long probes, bounded by the per-client room limit. */
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 16777619u;
	}
	return h;
}

void hmap_init(struct hmap *m)
{
	memset(m, 0, sizeof(*m));
}

void hmap_fini(struct hmap *m)
{
	free(m->slots);
	hmap_init(m);
}

static struct hmap_entry *find(const struct hmap *m, const char *key, size_t len, uint32_t h)
{
	size_t mask, i;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		struct hmap_entry *e = &m->slots[i];
		if (e->key == NULL)
			return NULL;
		if (e->key != TOMBSTONE && e->hash == h && e->key_len == len &&
		    memcmp(e->key, key, len) == 0)
			return e;
	}
}

static void grow(struct hmap *m, size_t cap)
{
	struct hmap_entry *old = m->slots;
	size_t old_cap = m->cap;

	m->slots = sg_calloc(cap, sizeof(*m->slots));
	m->cap = cap;
	m->len = 0;
	m->used = 0;
	for (size_t i = 0; i < old_cap; i++) {
		struct hmap_entry *e = &old[i];
		if (e->key != NULL && e->key != TOMBSTONE)
			hmap_put(m, e->key, e->key_len, e->value);
	}
	free(old);
}

void *hmap_get(const struct hmap *m, const char *key, size_t len)
{
	struct hmap_entry *e = find(m, key, len, hmap_hash(key, len));
	return e ? e->value : NULL;
}

void *hmap_put(struct hmap *m, const char *key, size_t len, void *value)
{
	uint32_t h = hmap_hash(key, len);
	struct hmap_entry *e = find(m, key, len, h);
	size_t mask, i;

	if (e != NULL) {
		void *prev = e->value;
		e->value = value;
		e->key = key;
		return prev;
	}
	if ((m->used + 1) * 4 >= m->cap * 3)
		grow(m, m->cap ? (m->len * 2 + 2 > m->cap ? m->cap * 2 : m->cap) : 8);
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		e = &m->slots[i];
		if (e->key == NULL || e->key == TOMBSTONE)
			break;
	}
	if (e->key == NULL)
		m->used++;
	e->key = key;
	e->key_len = (uint32_t)len;
	e->hash = h;
	e->value = value;
	m->len++;
	return NULL;
}

void *hmap_del(struct hmap *m, const char *key, size_t len)
{
	struct hmap_entry *e = find(m, key, len, hmap_hash(key, len));
	void *v;

	if (e == NULL)
		return NULL;
	v = e->value;
	e->key = TOMBSTONE;
	e->value = NULL;
	m->len--;
	if (m->len == 0 && m->cap > 64) {
		free(m->slots);
		hmap_init(m);
	}
	return v;
}

bool hmap_next(const struct hmap *m, size_t *iter, const struct hmap_entry **out)
{
	while (*iter < m->cap) {
		const struct hmap_entry *e = &m->slots[(*iter)++];
		if (e->key != NULL && e->key != TOMBSTONE) {
			*out = e;
			return true;
		}
	}
	return false;
}
