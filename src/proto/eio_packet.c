/*
 * eio_packet.c: the Engine.IO v4 packet codec.  A text packet is one type
 * digit followed by its data; a polling payload joins packets with '\x1e'
 * (no length prefixes in v4), and a binary message travels in it as 'b' +
 * base64.  Decoders never allocate for text packets (the packet borrows the
 * input); only base64 decoding writes into a scratch buffer.  What counts as
 * invalid mirrors engine.io-parser's "parser error" packet.
 */
#include "proto/eio_packet.h"

#include <string.h>

#include "core/base64.h"

#define EIO_SEPARATOR '\x1e'

static void append_separator(struct sg_buf *out);

int eio_packet_decode(const char *s, size_t len, struct eio_packet *out)
{
	if (len == 0 || s[0] < '0' || s[0] > '6')
		return -1;
	out->type = (enum eio_type)(s[0] - '0');
	out->binary = false;
	out->data = s + 1;
	out->len = len - 1;
	return 0;
}

int eio_packet_decode_any(const char *s, size_t len, struct sg_buf *scratch, struct eio_packet *out)
{
	if (len == 0 || s[0] != 'b')
		return eio_packet_decode(s, len, out);
	sg_buf_reset(scratch);
	sg_buf_append(scratch, "", 0);
	if (base64_decode(scratch, s + 1, len - 1) < 0)
		return -1;
	out->type = EIO_MESSAGE;
	out->binary = true;
	out->data = scratch->data;
	out->len = scratch->len;
	return 0;
}

int eio_payload_decode(const char *s, size_t len, size_t max_packets,
		       int (*cb)(const struct eio_packet *p, void *arg), void *arg)
{
	const char *p = s, *e = s + len;
	size_t count = 1;
	struct sg_buf scratch;
	int rc = 0;

	while ((p = memchr(p, EIO_SEPARATOR, (size_t)(e - p))) != NULL) {
		count++;
		p++;
	}
	if (count > max_packets)
		return -1;

	sg_buf_init(&scratch);
	p = s;
	for (;;) {
		const char *sep = memchr(p, EIO_SEPARATOR, (size_t)(e - p));
		const char *pe = sep ? sep : e;
		struct eio_packet pkt;

		if (eio_packet_decode_any(p, (size_t)(pe - p), &scratch, &pkt) < 0) {
			rc = -1;
			break;
		}
		rc = cb(&pkt, arg);
		if (rc != 0 || sep == NULL)
			break;
		p = sep + 1;
	}
	sg_buf_fini(&scratch);
	return rc;
}

static void append_separator(struct sg_buf *out)
{
	if (out->len > 0)
		sg_buf_append_char(out, EIO_SEPARATOR);
}

void eio_packet_append(struct sg_buf *out, enum eio_type type, const char *data, size_t len)
{
	sg_buf_reserve(out, len + 1);
	sg_buf_append_char(out, (char)('0' + (int)type));
	sg_buf_append(out, data, len);
}

void eio_payload_append_text(struct sg_buf *out, enum eio_type type, const char *data, size_t len)
{
	append_separator(out);
	eio_packet_append(out, type, data, len);
}

void eio_payload_append_binary(struct sg_buf *out, const void *data, size_t len)
{
	append_separator(out);
	sg_buf_append_char(out, 'b');
	base64_encode(out, data, len);
}
