/*
 * room_tally.h: the rooms of every worker of the process, merged.  Each
 * worker writes its rooms as records (room_tally_write, on its own thread);
 * the asker adds the records up (room_tally_add): one entry per namespace
 * and room, with the members of every worker summed.  Used by /v1/rooms and
 * by the siogate_rooms gauge.
 */
#ifndef SG_ROOM_TALLY_H
#define SG_ROOM_TALLY_H

#include "core/common.h"
#include "core/hmap.h"

struct worker;

struct room_total {
	uint32_t nsp; /* index into the namespaces */
	uint32_t members;
	const char *name; /* borrowed from the records */
	size_t name_len;
};

struct room_tally {
	struct room_total *v; /* in the order first seen */
	size_t n, cap;
	struct hmap seen; /* namespace index + name -> index + 1 into v */
	struct sg_buf key;
};

/* Appends w's rooms to out as records: namespace index, member count and
 * name length (uint32 each), then the name. */
void room_tally_write(const struct worker *w, struct sg_buf *out);

void room_tally_init(struct room_tally *t);
/* Adds the records in [records, records + len); the names stay borrowed,
 * so the records must outlive t. */
void room_tally_add(struct room_tally *t, const char *records, size_t len);
void room_tally_fini(struct room_tally *t);

#endif
