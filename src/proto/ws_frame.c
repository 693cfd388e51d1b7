/*
 * ws_frame.c: RFC 6455 client frame parsing (see ws_frame.h).
 */
#include "proto/ws_frame.h"

#include <stdlib.h>
#include <string.h>

int ws_frame_parse(const uint8_t *p, size_t n, struct ws_frame_hdr *h, uint16_t *close_code)
{
	size_t need = 2;
	uint64_t len;

	if (n < 2)
		return 0;
	h->fin = (p[0] & 0x80) != 0;
	h->opcode = p[0] & 0x0f;
	*close_code = WS_CLOSE_PROTOCOL;
	if (p[0] & 0x70)
		return -1; /* RSV1-3: no extension was negotiated */
	switch (h->opcode) {
	case WS_OP_CONTINUATION:
	case WS_OP_TEXT:
	case WS_OP_BINARY:
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		break;
	default:
		return -1;
	}
	if (!(p[1] & 0x80))
		return -1; /* a client must mask every frame */
	len = p[1] & 0x7f;
	if (len == 126)
		need += 2;
	else if (len == 127)
		need += 8;
	need += 4;
	if (n < need)
		return 0;
	if (len == 126) {
		len = (uint64_t)p[2] << 8 | p[3];
	} else if (len == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		if (len >> 63)
			return -1;
	}
	if (h->opcode >= WS_OP_CLOSE && (!h->fin || len > 125))
		return -1;
	for (int i = 0; i < 4; i++)
		h->mask[i] = p[need - 4 + (size_t)i];
	h->len = len;
	h->hdr_len = need;
	return 1;
}

void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= mask[(offset + i) & 3];
}

bool ws_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t extra;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= extra)
			return false;
		for (size_t k = 1; k <= extra; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += extra + 1;
	}
	return true;
}

bool ws_close_code_valid(uint16_t code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

int ws_close_check(const uint8_t *p, size_t n, uint16_t *code)
{
	uint16_t c;

	*code = 0;
	if (n == 0)
		return 0;
	if (n == 1) {
		*code = WS_CLOSE_PROTOCOL;
		return -1;
	}
	c = (uint16_t)(p[0] << 8 | p[1]);
	if (!ws_close_code_valid(c)) {
		*code = WS_CLOSE_PROTOCOL;
		return -1;
	}
	if (!ws_utf8_valid(p + 2, n - 2)) {
		*code = WS_CLOSE_INVALID_DATA;
		return -1;
	}
	*code = c;
	return 0;
}

/* ---- server frames: a frame is freed when its last reference (the
 * builder's, or an output buffer's) goes ---- */

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
