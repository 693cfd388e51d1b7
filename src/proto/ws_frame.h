/*
 * ws_frame.h: the client-to-server half of RFC 6455 framing, pure: frame
 * header parsing with every rule a server must enforce (masking, reserved
 * bits, opcodes, control frame size and fragmentation), unmasking, and
 * UTF-8 validation of text messages.  Its state is the caller's: siogate
 * keeps none of it per connection between frames, which is why a WebSocket
 * costs a few bytes here instead of a library context of several KB.
 *
 * And the server-to-client half: a reference-counted, immutable frame,
 * header and payload built once and shared by every recipient's output
 * buffer (evbuffer_add_reference), so a broadcast to N clients costs one
 * encoding and one allocation, not N.  A frame belongs to one worker (the
 * count is not atomic).
 */
#ifndef SG_WS_FRAME_H
#define SG_WS_FRAME_H

#include "core/common.h"

#define WS_OP_CONTINUATION 0x0
#define WS_OP_TEXT 0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CLOSE 0x8
#define WS_OP_PING 0x9
#define WS_OP_PONG 0xA

#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_INVALID_DATA 1007
#define WS_CLOSE_TOO_BIG 1009

struct ws_frame_hdr {
	bool fin;
	uint8_t opcode;
	uint8_t mask[4];
	uint64_t len;	/* payload length */
	size_t hdr_len; /* bytes of the header, mask key included */
};

/* Parses a client frame header from p[0..n).  Returns 1 with *h filled, 0
 * when more bytes are needed, or -1 with *close_code set (1002: reserved
 * bits, unknown opcode, unmasked frame, a control frame fragmented or over
 * 125 bytes, a 64-bit length with the top bit set). */
int ws_frame_parse(const uint8_t *p, size_t n, struct ws_frame_hdr *h, uint16_t *close_code) SG_WUR;

/* Whether a client may send this status code in a close frame (RFC 6455
 * section 7.4: 1000-1003, 1007-1014 and the 3000-4999 ranges; 1004, 1005,
 * 1006 and 1015 are reserved and never on the wire). */
bool ws_close_code_valid(uint16_t code);

/* Checks the (unmasked) payload of a client's close frame: empty, or a
 * valid status code followed by a UTF-8 reason.  Returns 0 with *code the
 * status it carries (0: none), or -1 with *code the status to close with:
 * 1002 (a 1-byte payload, an invalid code) or 1007 (a reason that is not
 * UTF-8). */
int ws_close_check(const uint8_t *p, size_t n, uint16_t *code) SG_WUR;

/* XORs p[0..n) with the mask, starting at payload offset `offset`. */
void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);

/* Whether p[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool ws_utf8_valid(const uint8_t *p, size_t n);

/* ---- server frames ---- */

struct sg_frame {
	uint32_t refs;
	uint32_t hdr_len; /* WebSocket header bytes before the payload */
	size_t len;	  /* header + payload */
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
