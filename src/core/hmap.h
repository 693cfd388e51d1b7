/*
 * hmap.h: an open-addressing hash map from byte-string keys to pointers.
 * The map does not own keys or values: each entry's key must stay valid and
 * unchanged while the entry is in the map (typically it points into the
 * value itself, e.g. a room's name or a socket's id).  Not thread-safe; a
 * map belongs to one worker.
 */
#ifndef SG_HMAP_H
#define SG_HMAP_H

#include "core/common.h"

struct hmap_entry {
	const char *key; /* NULL = empty slot */
	uint32_t key_len;
	uint32_t hash;
	void *value;
};

struct hmap {
	struct hmap_entry *slots;
	size_t cap;  /* power of two, or 0 */
	size_t len;  /* live entries */
	size_t used; /* live entries + tombstones */
};

void hmap_init(struct hmap *m);
void hmap_fini(struct hmap *m);
void *hmap_get(const struct hmap *m, const char *key, size_t len);
/* Inserts or replaces; returns the previous value or NULL. */
void *hmap_put(struct hmap *m, const char *key, size_t len, void *value);
/* Removes; returns the removed value or NULL when absent. */
void *hmap_del(struct hmap *m, const char *key, size_t len);

/* Iteration: for (size_t i = 0; hmap_next(m, &i, &e);) ...  Do not insert
 * during iteration; deleting the current entry is allowed. */
bool hmap_next(const struct hmap *m, size_t *iter, const struct hmap_entry **e);

uint32_t hmap_hash(const char *key, size_t len);

#endif
