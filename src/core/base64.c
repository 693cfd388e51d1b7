/*
 * base64.c: base64 encoders and strict decoders (no whitespace, no mixed
 * alphabets, padding exactly as the variant requires).
 */
#include "core/base64.h"

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void encode(struct sg_buf *out, const unsigned char *p, size_t len, const char *alpha,
		   bool pad);
static int decode(struct sg_buf *out, const char *s, size_t len, bool url);
static int value_of(char c, bool url);

static void encode(struct sg_buf *out, const unsigned char *p, size_t len, const char *alpha,
		   bool pad)
{
	size_t i;

	sg_buf_reserve(out, (len + 2) / 3 * 4);
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		char q[4] = { alpha[v >> 18], alpha[(v >> 12) & 63], alpha[(v >> 6) & 63],
			      alpha[v & 63] };
		sg_buf_append(out, q, 4);
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		char q[4] = { alpha[v >> 18], alpha[(v >> 12) & 63], '=', '=' };
		sg_buf_append(out, q, pad ? 4 : 2);
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		char q[4] = { alpha[v >> 18], alpha[(v >> 12) & 63], alpha[(v >> 6) & 63], '=' };
		sg_buf_append(out, q, pad ? 4 : 3);
	}
}

void base64_encode(struct sg_buf *out, const void *data, size_t len)
{
	encode(out, data, len, std_alpha, true);
}

void base64url_encode(struct sg_buf *out, const void *data, size_t len)
{
	encode(out, data, len, url_alpha, false);
}

static int value_of(char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static int decode(struct sg_buf *out, const char *s, size_t len, bool url)
{
	size_t pad = 0, i, full;
	uint32_t v = 0;
	int bits = 0;

	if (!url) {
		if (len % 4 != 0)
			return -1;
		while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
			pad++;
	} else if (len % 4 == 1) {
		return -1;
	}
	full = len - pad;
	sg_buf_reserve(out, full * 3 / 4 + 3);
	for (i = 0; i < full; i++) {
		int x = value_of(s[i], url);
		if (x < 0)
			return -1;
		v = v << 6 | (uint32_t)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sg_buf_append_char(out, (char)((v >> bits) & 0xff));
		}
	}
	/* leftover bits must be zero (canonical encoding) */
	if (bits > 0 && (v & ((1u << bits) - 1)) != 0)
		return -1;
	return 0;
}

int base64_decode(struct sg_buf *out, const char *s, size_t len)
{
	return decode(out, s, len, false);
}

int base64url_decode(struct sg_buf *out, const char *s, size_t len)
{
	return decode(out, s, len, true);
}
