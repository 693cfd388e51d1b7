/*
 * sio_packet.c: the Socket.IO v5 packet codec.  The decoder is a transcription
 * of socket.io-parser 4.2.7 decodeString and isPayloadValid, including the
 * corners that come from JavaScript's loose number handling (Number(" ") is
 * 0, so whitespace counts as a digit in the type and the ack id, and the
 * attachment count accepts any JS numeric string such as "0x2" or "1e1").
 * Character positions in the JS code are UTF-16 units; here they are bytes,
 * which is equivalent because every character the decoder tests is ASCII or
 * one of JS's whitespace characters, matched as whole UTF-8 sequences.  A
 * decoded packet borrows the input for nsp and the raw JSON text, and owns
 * only the parsed jansson value.
 */
#include "proto/sio_packet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t js_space_len(const char *s, size_t n);
static size_t js_space_len_back(const char *s, size_t n);
static bool is_digit(char c);
static bool is_integral(double v);
static bool js_to_number(const char *s, size_t n, double *out);
static int parse_ack_id(const char *s, size_t n, int64_t *out);
static json_t *parse_json(const char *s, size_t n, struct sg_err *err);
static char *fix_lone_surrogates(const char *s, size_t n);
static int hex4(const char *s, size_t n, size_t at);
static bool payload_valid(enum sio_type type, json_t *data);
static void js_number_text(double v, char *buf, size_t size);
static int check_placeholders(json_t *j, unsigned attachments, struct sg_err *err);

static const char *const reserved_events[] = {
	"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

/* Byte length of the JS WhiteSpace or LineTerminator character (the set
 * Number() trims) starting at s, or 0.  Multibyte ones are matched as UTF-8. */
static size_t js_space_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	if (n == 0)
		return 0;
	if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r'))
		return 1;
	if (n >= 2 && u[0] == 0xc2 && u[1] == 0xa0) /* U+00A0 */
		return 2;
	if (n < 3)
		return 0;
	if (u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80) /* U+1680 */
		return 3;
	if (u[0] == 0xe2 && u[1] == 0x80 &&
	    ((u[2] >= 0x80 && u[2] <= 0x8a) || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf))
		return 3;				  /* U+2000-200A, 2028, 2029, 202F */
	if (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f) /* U+205F */
		return 3;
	if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80) /* U+3000 */
		return 3;
	if (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) /* U+FEFF */
		return 3;
	return 0;
}

/* Byte length of a JS whitespace character ending at s + n, or 0. */
static size_t js_space_len_back(const char *s, size_t n)
{
	size_t w;

	for (w = 1; w <= 3 && w <= n; w++) {
		if (js_space_len(s + n - w, w) == w)
			return w;
	}
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Number.isInteger without libm: finite and without a fractional part (every
 * double of magnitude 2^53 or more is an integer). */
static bool is_integral(double v)
{
	if (v != v || v == INFINITY || v == -INFINITY)
		return false;
	if (v >= 9007199254740992.0 || v <= -9007199254740992.0)
		return true;
	return (double)(int64_t)v == v;
}

/* JS Number(string) (ECMA-262 StringToNumber).  False when the result is NaN. */
static bool js_to_number(const char *s, size_t n, double *out)
{
	size_t w, i = 0, digits = 0;
	bool neg = false;
	char tmp[128];

	while ((w = js_space_len(s, n)) > 0) {
		s += w;
		n -= w;
	}
	while ((w = js_space_len_back(s, n)) > 0)
		n -= w;
	if (n == 0) {
		*out = 0;
		return true;
	}
	if (n > 2 && s[0] == '0' && strchr("xXoObB", s[1]) != NULL) {
		int base = (s[1] | 0x20) == 'x' ? 16 : (s[1] | 0x20) == 'o' ? 8 : 2;
		double v = 0;

		for (i = 2; i < n; i++) {
			int d = sg_hex_value(s[i]);

			if (d < 0 || d >= base)
				return false;
			v = v * base + d;
		}
		*out = v;
		return true;
	}
	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		i = 1;
	}
	if (n - i == 8 && memcmp(s + i, "Infinity", 8) == 0) {
		*out = neg ? -INFINITY : INFINITY;
		return true;
	}
	/* DecimalDigits [. DecimalDigits] [ExponentPart], at least one digit. */
	for (w = i; w < n && is_digit(s[w]); w++)
		digits++;
	if (w < n && s[w] == '.') {
		for (w++; w < n && is_digit(s[w]); w++)
			digits++;
	}
	if (digits == 0)
		return false;
	if (w < n && (s[w] == 'e' || s[w] == 'E')) {
		size_t exp_digits = 0;

		w++;
		if (w < n && (s[w] == '+' || s[w] == '-'))
			w++;
		for (; w < n && is_digit(s[w]); w++)
			exp_digits++;
		if (exp_digits == 0)
			return false;
	}
	if (w != n)
		return false;
	if (n < sizeof(tmp)) {
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		*out = strtod(tmp, NULL);
	} else {
		char *big = sg_strndup(s, n);

		*out = strtod(big, NULL);
		free(big);
	}
	return true;
}

/* Number() of the ack-id run (digits and whitespace only): surrounding
 * whitespace is trimmed, whitespace only gives 0, whitespace between digits
 * gives NaN (-1 here), and so does a value above SIO_MAX_ACK_ID. */
static int parse_ack_id(const char *s, size_t n, int64_t *out)
{
	size_t w, i;
	int64_t v = 0;

	while ((w = js_space_len(s, n)) > 0) {
		s += w;
		n -= w;
	}
	while ((w = js_space_len_back(s, n)) > 0)
		n -= w;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > SIO_MAX_ACK_ID)
			return -1;
	}
	*out = v;
	return 0;
}

int sio_packet_decode(const char *s, size_t len, unsigned max_attachments, struct sio_packet *out,
		      struct sg_err *err)
{
	size_t cur, w;

	out->type = SIO_CONNECT;
	out->attachments = 0;
	out->nsp = "/";
	out->nsp_len = 1;
	out->id = -1;
	out->json = NULL;
	out->json_len = 0;
	out->data = NULL;
	out->num_name[0] = '\0';

	if (len == 0)
		return sg_err_set(err, "empty packet");
	if (s[0] >= '0' && s[0] <= '6') {
		out->type = (enum sio_type)(s[0] - '0');
		cur = 1;
	} else if ((w = js_space_len(s, len)) > 0) {
		out->type = SIO_CONNECT;
		cur = w;
	} else {
		return sg_err_set(err, "unknown packet type");
	}

	if (out->type == SIO_BINARY_EVENT || out->type == SIO_BINARY_ACK) {
		const char *dash = memchr(s + 1, '-', len - 1);
		double n;

		if (dash == NULL || !js_to_number(s + 1, (size_t)(dash - s - 1), &n) ||
		    !is_integral(n) || n < 1)
			return sg_err_set(err, "illegal attachments");
		if (n > max_attachments)
			return sg_err_set(err, "too many attachments");
		out->attachments = (unsigned)n;
		cur = (size_t)(dash - s) + 1;
	}

	if (cur < len && s[cur] == '/') {
		const char *comma = memchr(s + cur, ',', len - cur);

		out->nsp = s + cur;
		out->nsp_len = (size_t)((comma ? comma : s + len) - out->nsp);
		cur = comma ? (size_t)(comma - s) + 1 : len;
	}

	if (cur < len && (is_digit(s[cur]) || js_space_len(s + cur, len - cur) > 0)) {
		size_t start = cur;

		while (cur < len) {
			if (is_digit(s[cur]))
				cur++;
			else if ((w = js_space_len(s + cur, len - cur)) > 0)
				cur += w;
			else
				break;
		}
		if (parse_ack_id(s + start, cur - start, &out->id) < 0)
			return sg_err_set(err, "invalid ack id");
	}

	if (cur < len) {
		out->json = s + cur;
		out->json_len = len - cur;
		out->data = parse_json(out->json, out->json_len, err);
		if (out->data == NULL)
			return -1;
		if (!payload_valid(out->type, out->data)) {
			sio_packet_fini(out);
			return sg_err_set(err, "invalid payload");
		}
		if (out->type == SIO_EVENT || out->type == SIO_BINARY_EVENT) {
			json_t *first = json_array_get(out->data, 0);

			if (json_is_number(first))
				js_number_text(json_number_value(first), out->num_name,
					       sizeof(out->num_name));
		}
	}
	return 0;
}

/* JSON.parse stand-in: jansson, after replacing lone surrogate escapes (which
 * JS accepts and jansson refuses), with a second try reading every number as
 * a double when an integer overflows int64 (JS numbers are all doubles). */
static json_t *parse_json(const char *s, size_t n, struct sg_err *err)
{
	const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
	char *fixed = fix_lone_surrogates(s, n);
	const char *src = fixed ? fixed : s;
	json_error_t je;
	json_t *j;

	j = json_loadb(src, n, flags, &je);
	if (j == NULL && json_error_code(&je) == json_error_numeric_overflow)
		j = json_loadb(src, n, flags | JSON_DECODE_INT_AS_REAL, &je);
	free(fixed);
	if (j == NULL)
		sg_err_set(err, "invalid payload: %s", je.text);
	return j;
}

/* Value of the 4 hex digits at s[at..at+4), or -1. */
static int hex4(const char *s, size_t n, size_t at)
{
	int v = 0;
	size_t i;

	if (at + 4 > n)
		return -1;
	for (i = at; i < at + 4; i++) {
		int d = sg_hex_value(s[i]);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* Returns NULL when s has no unpaired \uD800-\uDFFF escape inside a string,
 * else a malloc'd copy of s[0..n) where each one is rewritten as \uFFFD (same
 * length, so offsets in jansson errors still match). */
static char *fix_lone_surrogates(const char *s, size_t n)
{
	char *copy = NULL;
	bool in_str = false;
	size_t i = 0;

	while (i < n) {
		int v, lo;

		if (!in_str) {
			in_str = s[i++] == '"';
			continue;
		}
		if (s[i] == '"') {
			in_str = false;
			i++;
			continue;
		}
		if (s[i] != '\\' || i + 1 >= n) {
			i++;
			continue;
		}
		if (s[i + 1] != 'u' || (v = hex4(s, n, i + 2)) < 0) {
			i += 2;
			continue;
		}
		if (v >= 0xd800 && v <= 0xdbff && i + 12 <= n && s[i + 6] == '\\' &&
		    s[i + 7] == 'u' && (lo = hex4(s, n, i + 8)) >= 0xdc00 && lo <= 0xdfff) {
			i += 12;
			continue;
		}
		if (v >= 0xd800 && v <= 0xdfff) {
			if (copy == NULL) {
				copy = sg_malloc(n);
				memcpy(copy, s, n);
			}
			memcpy(copy + i + 2, "fffd", 4);
		}
		i += 6;
	}
	return copy;
}

static bool payload_valid(enum sio_type type, json_t *data)
{
	json_t *first;
	size_t i;

	switch (type) {
	case SIO_CONNECT:
		return json_is_object(data);
	case SIO_DISCONNECT:
		return false;
	case SIO_CONNECT_ERROR:
		return json_is_object(data) || json_is_string(data);
	case SIO_EVENT:
	case SIO_BINARY_EVENT:
		if (!json_is_array(data))
			return false;
		first = json_array_get(data, 0);
		if (json_is_number(first))
			return true;
		if (!json_is_string(first))
			return false;
		for (i = 0; i < SG_ARRAY_LEN(reserved_events); i++) {
			size_t rl = strlen(reserved_events[i]);

			if (json_string_length(first) == rl &&
			    memcmp(json_string_value(first), reserved_events[i], rl) == 0)
				return false;
		}
		return true;
	case SIO_ACK:
	case SIO_BINARY_ACK:
		return json_is_array(data);
	}
	return false;
}

/* Writes v as JS Number.prototype.toString() does: the shortest digits that
 * read back as v, positional notation for 1e-7 < |v| < 1e21, else
 * d[.ddd]e+N / e-N.  v is finite (JSON cannot express anything else). */
static void js_number_text(double v, char *buf, size_t size)
{
	char sci[40], digits[24];
	int p, k = 0, exp10, n, i;
	size_t o = 0;
	const char *e;

	if (v == 0) {
		snprintf(buf, size, "0");
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(sci, sizeof(sci), "%.*e", p - 1, v);
		if (strtod(sci, NULL) == v)
			break;
	}
	/* sci is [-]d[.ddd]e[+-]xx */
	for (i = sci[0] == '-' ? 1 : 0; sci[i] != 'e'; i++) {
		if (is_digit(sci[i]))
			digits[k++] = sci[i];
	}
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	e = strchr(sci, 'e');
	exp10 = atoi(e + 1);
	n = exp10 + 1; /* the decimal point goes after n digits */

	if (v < 0)
		buf[o++] = '-';
	if (k <= n && n <= 21) {
		memcpy(buf + o, digits, (size_t)k);
		o += (size_t)k;
		for (i = k; i < n; i++)
			buf[o++] = '0';
		buf[o] = '\0';
	} else if (0 < n && n <= 21) {
		memcpy(buf + o, digits, (size_t)n);
		o += (size_t)n;
		buf[o++] = '.';
		snprintf(buf + o, size - o, "%s", digits + n);
	} else if (-6 < n && n <= 0) {
		buf[o++] = '0';
		buf[o++] = '.';
		for (i = n; i < 0; i++)
			buf[o++] = '0';
		snprintf(buf + o, size - o, "%s", digits);
	} else {
		buf[o++] = digits[0];
		if (k > 1) {
			buf[o++] = '.';
			memcpy(buf + o, digits + 1, (size_t)k - 1);
			o += (size_t)k - 1;
		}
		snprintf(buf + o, size - o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
}

void sio_packet_fini(struct sio_packet *p)
{
	json_decref(p->data);
	p->data = NULL;
}

void sio_packet_encode_head(struct sg_buf *out, enum sio_type type, const char *nsp,
			    unsigned attachments, int64_t id)
{
	sg_buf_append_char(out, (char)('0' + (int)type));
	if (type == SIO_BINARY_EVENT || type == SIO_BINARY_ACK)
		sg_buf_printf(out, "%u-", attachments);
	if (nsp != NULL && nsp[0] != '\0' && strcmp(nsp, "/") != 0) {
		sg_buf_append_str(out, nsp);
		sg_buf_append_char(out, ',');
	}
	if (id >= 0)
		sg_buf_printf(out, "%lld", (long long)id);
}

const char *sio_event_name(const struct sio_packet *p)
{
	json_t *first;

	if ((p->type != SIO_EVENT && p->type != SIO_BINARY_EVENT) || p->data == NULL)
		return NULL;
	first = json_array_get(p->data, 0);
	if (json_is_string(first))
		return json_string_value(first);
	if (json_is_number(first))
		return p->num_name;
	return NULL;
}

size_t sio_event_name_len(const struct sio_packet *p)
{
	const char *name = sio_event_name(p);
	json_t *first;

	if (name == NULL)
		return 0;
	first = json_array_get(p->data, 0);
	return json_is_string(first) ? json_string_length(first) : strlen(name);
}

int sio_packet_check_placeholders(const struct sio_packet *p, struct sg_err *err)
{
	if ((p->type != SIO_BINARY_EVENT && p->type != SIO_BINARY_ACK) || p->data == NULL)
		return 0;
	return check_placeholders(p->data, p->attachments, err);
}

/* Depth-first walk like binary.js _reconstructPacket (bounded by jansson's
 * 2048-level parse limit, so recursion is safe). */
static int check_placeholders(json_t *j, unsigned attachments, struct sg_err *err)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		if (json_is_true(json_object_get(j, "_placeholder"))) {
			json_t *num = json_object_get(j, "num");
			double n;

			if (!json_is_number(num))
				return sg_err_set(err, "illegal attachments: num is not a number");
			n = json_number_value(num);
			if (!is_integral(n) || n < 0 || n >= attachments)
				return sg_err_set(err, "illegal attachments: num %g out of range",
						  n);
			return 0;
		}
		json_object_foreach(j, key, v)
		{
			if (check_placeholders(v, attachments, err) < 0)
				return -1;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			if (check_placeholders(v, attachments, err) < 0)
				return -1;
		}
	}
	return 0;
}
