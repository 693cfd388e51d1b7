/*
 * frame.h: a reference-counted, immutable WebSocket frame: header and
 * payload built once and shared by every recipient's output buffer
 * (evbuffer_add_reference), so a broadcast to N clients costs one encoding
 * and one allocation, not N.  A frame belongs to one worker (the count is
 * not atomic).
 */
#ifndef SG_FRAME_H
#define SG_FRAME_H

#include "common.h"

#define WS_OP_TEXT 0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CLOSE 0x8

struct sg_frame {
	uint32_t refs;
	uint32_t hdr_len;   /* WebSocket header bytes before the payload */
	size_t len;         /* header + payload */
	char data[];
};

/* Writes a server (unmasked, final) frame header for a payload of len bytes
 * into hdr[10]; returns the header length. */
size_t ws_frame_header(uint8_t *hdr, uint8_t opcode, uint64_t len);

/* A new frame with refs 1: header, then the Engine.IO type character prefix
 * (for text frames: prefix is e.g. '4'; 0 for none), then payload. */
struct sg_frame *frame_new(uint8_t opcode, char prefix, const void *payload, size_t len);
void frame_ref(struct sg_frame *f);
void frame_unref(struct sg_frame *f);

#endif
