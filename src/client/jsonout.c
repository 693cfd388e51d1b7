/*
 * jsonout.c: compact JSON serialization of jansson values with
 * JSON.stringify's number and string formats (json_js.c), so that what the
 * client sends reads back in Node exactly as written.  Invariant: output is
 * always valid JSON, whatever the value (non-finite reals become null).
 */
#include "jsonout.h"

#include "core/json_js.h"

void sgc_json_append(struct sg_buf *out, const json_t *v)
{
	if (v == NULL)
		sg_buf_append_str(out, "null");
	else
		json_js_value(out, v);
}
