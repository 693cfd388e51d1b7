/*
 * room_tally.c: rooms merged over the workers (see room_tally.h).  Keys are
 * binary (the namespace index, then the name), so they are copied with
 * their length, never as strings.
 */
#include "sio/room_tally.h"

#include <stdlib.h>
#include <string.h>

#include "core/worker.h"
#include "sio/rooms.h"
#include "sio/sio.h"

#define RECORD_HEAD (3 * sizeof(uint32_t))

void room_tally_write(const struct worker *w, struct sg_buf *out)
{
	const struct hmap_entry *e;

	for (size_t i = 0; i < w->n_nsps; i++) {
		for (size_t it = 0; hmap_next(&w->nsps[i]->rooms.by_name, &it, &e);) {
			const struct room *r = e->value;
			uint32_t head[3] = { (uint32_t)i, r->n_members, (uint32_t)r->name_len };
			sg_buf_append(out, head, sizeof(head));
			sg_buf_append(out, r->name, r->name_len);
		}
	}
}

void room_tally_init(struct room_tally *t)
{
	memset(t, 0, sizeof(*t));
	hmap_init(&t->seen);
	sg_buf_init(&t->key);
}

void room_tally_add(struct room_tally *t, const char *records, size_t len)
{
	for (size_t off = 0; off + RECORD_HEAD <= len;) {
		uint32_t head[3];
		uintptr_t at;

		memcpy(head, records + off, sizeof(head));
		off += sizeof(head);
		if (head[2] > len - off)
			return; /* a truncated record: cannot come from room_tally_write */
		sg_buf_reset(&t->key);
		sg_buf_append(&t->key, &head[0], sizeof(head[0]));
		sg_buf_append(&t->key, records + off, head[2]);
		at = (uintptr_t)hmap_get(&t->seen, t->key.data, t->key.len);
		if (at == 0) {
			char *k = sg_malloc(t->key.len);
			if (t->n == t->cap) {
				t->cap = t->cap ? t->cap * 2 : 16;
				t->v = sg_realloc(t->v, t->cap * sizeof(*t->v));
			}
			t->v[t->n] = (struct room_total){ head[0], 0, records + off, head[2] };
			at = ++t->n;
			memcpy(k, t->key.data, t->key.len);
			hmap_put(&t->seen, k, t->key.len, (void *)at);
		}
		t->v[at - 1].members += head[1];
		off += head[2];
	}
}

void room_tally_fini(struct room_tally *t)
{
	const struct hmap_entry *e;

	for (size_t it = 0; hmap_next(&t->seen, &it, &e);)
		free((void *)e->key);
	hmap_fini(&t->seen);
	sg_buf_fini(&t->key);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
