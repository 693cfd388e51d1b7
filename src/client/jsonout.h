/*
 * jsonout.h: JSON text from jansson values, written as JavaScript's
 * JSON.stringify would write the same value (numbers in their shortest
 * round-trip form, the same string escapes).  Pure code.
 */
#ifndef SGC_JSONOUT_H
#define SGC_JSONOUT_H

#include <jansson.h>

#include "core/common.h"

/* Appends v (NULL is written as null) as compact JSON, object members in
 * jansson's insertion order. */
void sgc_json_append(struct sg_buf *out, const json_t *v);

#endif
