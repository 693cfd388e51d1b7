/*
 * jsonout.c: compact JSON serialization of jansson values with
 * JSON.stringify's number and string formats (json_js.c), so that what the
 * client sends reads back in Node exactly as written.  Invariant: output is
 * always valid JSON, whatever the value (non-finite reals become null).
 */
#include "jsonout.h"

#include <inttypes.h>
#include <string.h>

#include "json_js.h"

void sgc_json_append(struct sg_buf *out, const json_t *v)
{
	size_t i;
	const char *key;
	json_t *val;
	bool first = true;

	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
		sg_buf_append_char(out, '{');
		json_object_foreach((json_t *)v, key, val) {
			if (!first)
				sg_buf_append_char(out, ',');
			first = false;
			json_js_string(out, key, strlen(key));
			sg_buf_append_char(out, ':');
			sgc_json_append(out, val);
		}
		sg_buf_append_char(out, '}');
		break;
	case JSON_ARRAY:
		sg_buf_append_char(out, '[');
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				sg_buf_append_char(out, ',');
			sgc_json_append(out, json_array_get(v, i));
		}
		sg_buf_append_char(out, ']');
		break;
	case JSON_STRING:
		json_js_string(out, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		sg_buf_printf(out, "%" PRId64, (int64_t)json_integer_value(v));
		break;
	case JSON_REAL:
		json_js_number(out, json_real_value(v));
		break;
	case JSON_TRUE:
		sg_buf_append_str(out, "true");
		break;
	case JSON_FALSE:
		sg_buf_append_str(out, "false");
		break;
	case JSON_NULL:
	default:
		sg_buf_append_str(out, "null");
		break;
	}
}
