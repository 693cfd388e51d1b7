/*
 * fuzz_ws_frame.c: the WebSocket frame header parser, unmasking and UTF-8
 * validation.  Checks: a header is never complete before its length, the
 * reported header length fits what was parsed, and unmasking twice restores
 * the input.  The bytes after a header are also read as a close payload: an
 * accepted one carries no code or a valid one, a refused one answers 1002 or
 * 1007 (never 1005, 1006 or 1015).
 */
#include <stdlib.h>
#include <string.h>

#include "proto/ws_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_frame_hdr h;
	uint16_t code = 0;
	int rc = ws_frame_parse(data, size, &h, &code);

	if (rc == 1) {
		if (h.hdr_len > size || h.hdr_len < 6 || h.hdr_len > 14)
			__builtin_trap();
		for (size_t k = 0; k < h.hdr_len; k++) {
			struct ws_frame_hdr t;
			if (ws_frame_parse(data, k, &t, &code) == 1)
				__builtin_trap();
		}
		if (size > h.hdr_len) {
			size_t n = size - h.hdr_len;
			uint8_t *copy = malloc(n);
			memcpy(copy, data + h.hdr_len, n);
			ws_unmask(copy, n, h.mask, 3);
			(void)ws_utf8_valid(copy, n);
			if (ws_close_check(copy, n, &code) == 0) {
				if (n == 1 || (n >= 2 && !ws_close_code_valid(code)) ||
				    (n == 0 && code != 0))
					__builtin_trap();
			} else if (code != WS_CLOSE_PROTOCOL && code != WS_CLOSE_INVALID_DATA) {
				__builtin_trap();
			}
			ws_unmask(copy, n, h.mask, 3);
			if (memcmp(copy, data + h.hdr_len, n) != 0)
				__builtin_trap();
			free(copy);
		}
	} else if (rc == -1 && code != WS_CLOSE_PROTOCOL) {
		__builtin_trap();
	}
	(void)ws_utf8_valid(data, size);
	return 0;
}
