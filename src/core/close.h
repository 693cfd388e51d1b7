/*
 * close.h: the close reasons of close.def as an enum, with their text.
 */
#ifndef SG_CLOSE_H
#define SG_CLOSE_H

#include "core/common.h"

enum sg_close {
#define CLOSE(name, text, err, ws_code) SG_CLOSE_##name,
#include "core/close.def"
#undef CLOSE
	SG_CLOSE__COUNT
};

const char *sg_close_text(enum sg_close reason);
bool sg_close_is_error(enum sg_close reason);
/* The WebSocket close code sent for reason, or 0: a bare close frame. */
uint16_t sg_close_ws_code(enum sg_close reason);

#endif
