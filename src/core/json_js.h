/*
 * json_js.h: JSON text written exactly as JavaScript's JSON.stringify writes
 * it, for values that reach siogate in another form (msgpack from Redis) but
 * must reach Socket.IO clients byte-for-byte as a Node.js server would send
 * them.  Pure functions appending to a caller's sg_buf.
 */
#ifndef SG_JSON_JS_H
#define SG_JSON_JS_H

#include <jansson.h>

#include "core/common.h"

/* Appends s[0..len) as a JSON string literal, quotes included, escaping like
 * JSON.stringify: \" \\ \b \f \n \r \t, every other byte below 0x20 as \u00XX
 * (lowercase hex), everything else (DEL, U+2028, all non-ASCII) as-is.  The
 * input is read as UTF-8 the way Node's Buffer.toString does (WHATWG decoder):
 * each ill-formed sequence (maximal subpart) becomes the character U+FFFD,
 * written as its raw UTF-8 bytes EF BF BD, as JSON.stringify would. */
void json_js_string(struct sg_buf *out, const char *s, size_t len);
/* The NUL-terminated s as a JSON string, or null when s is NULL. */
void json_js_string_or_null(struct sg_buf *out, const char *s);
/* The strings of v as a JSON array. */
void json_js_strv(struct sg_buf *out, const struct sg_strv *v);

/* Appends a double as Number.prototype.toString / JSON.stringify would: the
 * shortest digit string that reads back as the same double (the closest one
 * when several have that length), integers without ".0" (3, -0 -> "0"),
 * exponent form when the decimal exponent is >= 21 or <= -7 ("1e+21",
 * "1.5e-7"), and "null" for NaN and the infinities. */
void json_js_number(struct sg_buf *out, double d);

/* Appends String(d) (not JSON): like json_js_number but "NaN", "Infinity" and
 * "-Infinity" for the non-finite values.  This is how JS turns a number into a
 * property key or a room name. */
void json_js_number_string(struct sg_buf *out, double d);

/* Appends what JSON.stringify writes for a Date whose time value is ms (epoch
 * milliseconds, as `new Date(ms)` receives it, fractions truncated toward zero
 * as TimeClip does): the quoted ISO-8601 string "2026-01-02T03:04:05.678Z"
 * (years outside 0..9999 as +YYYYYY / -YYYYYY), or null for an invalid date
 * (not finite, or |ms| > 8.64e15). */
void json_js_date(struct sg_buf *out, double ms);

/* Appends s[0..len) with every ill-formed UTF-8 sequence replaced by U+FFFD
 * exactly as json_js_string reads it (Buffer.toString('utf8') semantics). */
void json_js_utf8_sanitize(struct sg_buf *out, const char *s, size_t len);

/* Appends a jansson value as JSON.stringify would write the same value:
 * compact, keys in the object's order, strings escaped by json_js_string,
 * reals by json_js_number (shortest round-trip digits).  Depth is bounded by
 * what jansson accepted when it parsed the value. */
void json_js_value(struct sg_buf *out, const json_t *v);

#endif
