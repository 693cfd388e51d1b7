/*
 * close.c: text and classification of the close reasons in close.def.
 */
#include "core/close.h"

static const struct {
	const char *text;
	bool is_error;
	uint16_t ws_code;
} close_table[] = {
/* initializers, one per line */
/* clang-format off */
#define CLOSE(name, text, err, ws_code) { text, err, ws_code },
/* clang-format on */
#include "core/close.def"
#undef CLOSE
};

const char *sg_close_text(enum sg_close reason)
{
	if ((unsigned)reason >= SG_CLOSE__COUNT)
		return "unknown";
	return close_table[reason].text;
}

bool sg_close_is_error(enum sg_close reason)
{
	return (unsigned)reason < SG_CLOSE__COUNT && close_table[reason].is_error;
}

uint16_t sg_close_ws_code(enum sg_close reason)
{
	return (unsigned)reason < SG_CLOSE__COUNT ? close_table[reason].ws_code : 0;
}
