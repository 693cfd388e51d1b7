/*
 * frame.c: shared WebSocket frames (see frame.h).  Invariant: a frame is
 * freed when its last reference (the builder's, or an output buffer's) goes.
 */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

size_t ws_frame_header(uint8_t *hdr, uint8_t opcode, uint64_t len)
{
	hdr[0] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		hdr[1] = (uint8_t)len;
		return 2;
	}
	if (len < 65536) {
		hdr[1] = 126;
		hdr[2] = (uint8_t)(len >> 8);
		hdr[3] = (uint8_t)len;
		return 4;
	}
	hdr[1] = 127;
	for (int i = 0; i < 8; i++)
		hdr[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

struct sg_frame *frame_new(uint8_t opcode, char prefix, const void *payload, size_t len)
{
	uint8_t hdr[10];
	size_t plen = len + (prefix ? 1 : 0);
	size_t hl = ws_frame_header(hdr, opcode, plen);
	struct sg_frame *f = sg_malloc(sizeof(*f) + hl + plen);
	char *p = f->data;

	f->refs = 1;
	f->hdr_len = (uint32_t)hl;
	f->len = hl + plen;
	memcpy(p, hdr, hl);
	p += hl;
	if (prefix)
		*p++ = prefix;
	if (len)
		memcpy(p, payload, len);
	return f;
}

void frame_ref(struct sg_frame *f)
{
	f->refs++;
}

void frame_unref(struct sg_frame *f)
{
	if (f != NULL && --f->refs == 0)
		free(f);
}
