/*
 * base64.h: standard (RFC 4648 section 4, padded) and URL-safe (section 5,
 * unpadded) base64.  Pure functions over caller buffers.
 */
#ifndef SG_BASE64_H
#define SG_BASE64_H

#include "core/common.h"

/* Appends the encoding of data to out. */
void base64_encode(struct sg_buf *out, const void *data, size_t len);
void base64url_encode(struct sg_buf *out, const void *data, size_t len);

/* Appends the decoded bytes to out.  base64_decode wants standard alphabet
 * with correct padding; base64url_decode wants the URL alphabet without
 * padding.  Return 0, or -1 on any invalid character or length (out is then
 * left with unspecified extra bytes). */
int base64_decode(struct sg_buf *out, const char *s, size_t len) SG_WUR;
int base64url_decode(struct sg_buf *out, const char *s, size_t len) SG_WUR;

#endif
