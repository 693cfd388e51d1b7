/*
 * json_js.c: the JSON.stringify rules siogate must reproduce byte-for-byte
 * when it turns non-JSON values (msgpack strings, doubles, timestamps) into
 * the JSON text a Node.js Socket.IO server would send: string escaping with
 * WHATWG UTF-8 decoding, ECMAScript Number::toString with the shortest
 * round-trip digits, and Date.prototype.toISOString.  Invariant: every
 * function only appends to the caller's buffer and always appends valid
 * UTF-8 JSON text (or, for the *_string/sanitize helpers, valid UTF-8).
 */
#include "core/json_js.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t utf8_seq(const unsigned char *s, size_t len, size_t i, size_t *adv);
static void shortest_digits(double d, uint64_t *mant, int *exp10);
static bool roundtrips(uint64_t m, int e, double d);
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d);

static const char utf8_fffd[3] = { (char)0xef, (char)0xbf, (char)0xbd };

/* Length of the well-formed UTF-8 sequence starting at s[i] (1..4), or 0 when
 * it is ill-formed; then *adv is the length of the maximal subpart to replace
 * by one U+FFFD (at least 1), as in the WHATWG "UTF-8 decode" algorithm. */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t i, size_t *adv)
{
	unsigned char b = s[i], lo = 0x80, hi = 0xbf;
	size_t need, j;

	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf) {
		need = 1;
	} else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
	} else {
		*adv = 1;
		return 0;
	}
	for (j = 1; j <= need; j++) {
		if (i + j >= len || s[i + j] < lo || s[i + j] > hi) {
			*adv = j;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

void json_js_utf8_sanitize(struct sg_buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0, n, adv;

	sg_buf_reserve(out, len);
	while (i < len) {
		n = utf8_seq(u, len, i, &adv);
		if (n) {
			i += n;
			continue;
		}
		sg_buf_append(out, s + start, i - start);
		sg_buf_append(out, utf8_fffd, sizeof(utf8_fffd));
		i += adv;
		start = i;
	}
	sg_buf_append(out, s + start, len - start);
}

void json_js_string(struct sg_buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0, n, adv;
	const char *esc;
	char tmp[8];

	sg_buf_reserve(out, len + 2);
	sg_buf_append_char(out, '"');
	while (i < len) {
		unsigned char c = u[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			n = utf8_seq(u, len, i, &adv);
			if (n) {
				i += n;
				continue;
			}
			sg_buf_append(out, s + start, i - start);
			sg_buf_append(out, utf8_fffd, sizeof(utf8_fffd));
			i += adv;
			start = i;
			continue;
		}
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)c);
			esc = tmp;
			break;
		}
		sg_buf_append(out, s + start, i - start);
		sg_buf_append_str(out, esc);
		i++;
		start = i;
	}
	sg_buf_append(out, s + start, len - start);
	sg_buf_append_char(out, '"');
}

/* True when m * 10^e reads back (correctly rounded, as strtod does) as d. */
static bool roundtrips(uint64_t m, int e, double d)
{
	char tmp[48];

	snprintf(tmp, sizeof(tmp), "%" PRIu64 "e%d", m, e);
	return strtod(tmp, NULL) == d;
}

/* For a finite d > 0: the fewest decimal digits m (no trailing zeros) and
 * exponent with m * 10^exp10 == d after rounding, choosing the candidate
 * closest to d when several have that length.  glibc's printf rounds
 * exactly, so "%.*e" at p digits is the closest p-digit decimal; when it does
 * not read back, a neighbour one unit away in the last digit still can (the
 * rounding interval of a power of two is asymmetric), so both are tried. */
static void shortest_digits(double d, uint64_t *mant, int *exp10)
{
	char tmp[64];
	uint64_t m = 0;
	int e = 0;

	for (int p = 1; p <= 17; p++) {
		const char *q;
		int ex;

		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		m = 0;
		for (q = tmp; *q != 'e'; q++)
			if (*q >= '0' && *q <= '9')
				m = m * 10 + (uint64_t)(*q - '0');
		ex = atoi(q + 1);
		e = ex - (p - 1);
		if (strtod(tmp, NULL) == d)
			break;
		if (m > 1 && roundtrips(m - 1, e, d)) {
			m -= 1;
			break;
		}
		if (roundtrips(m + 1, e, d)) {
			m += 1;
			break;
		}
	}
	/* p == 17 always reads back; m and e hold the last candidate. */
	while (m != 0 && m % 10 == 0) {
		m /= 10;
		e++;
	}
	*mant = m;
	*exp10 = e;
}

void json_js_string_or_null(struct sg_buf *out, const char *s)
{
	if (s != NULL)
		json_js_string(out, s, strlen(s));
	else
		sg_buf_append_str(out, "null");
}

void json_js_number(struct sg_buf *out, double d)
{
	char digits[24];
	uint64_t m;
	int e, k, n;

	if (!isfinite(d)) {
		sg_buf_append_str(out, "null");
		return;
	}
	if (d == 0) {
		sg_buf_append_char(out, '0');
		return;
	}
	if (d < 0) {
		sg_buf_append_char(out, '-');
		d = -d;
	}
	shortest_digits(d, &m, &e);
	k = snprintf(digits, sizeof(digits), "%" PRIu64, m);
	n = e + k; /* d == 0.digits * 10^n */
	if (k <= n && n <= 21) {
		sg_buf_append(out, digits, (size_t)k);
		for (int i = 0; i < n - k; i++)
			sg_buf_append_char(out, '0');
	} else if (0 < n && n <= 21) {
		sg_buf_append(out, digits, (size_t)n);
		sg_buf_append_char(out, '.');
		sg_buf_append(out, digits + n, (size_t)(k - n));
	} else if (-6 < n && n <= 0) {
		sg_buf_append_str(out, "0.");
		for (int i = 0; i < -n; i++)
			sg_buf_append_char(out, '0');
		sg_buf_append(out, digits, (size_t)k);
	} else {
		sg_buf_append_char(out, digits[0]);
		if (k > 1) {
			sg_buf_append_char(out, '.');
			sg_buf_append(out, digits + 1, (size_t)(k - 1));
		}
		sg_buf_printf(out, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
}

void json_js_number_string(struct sg_buf *out, double d)
{
	if (isnan(d))
		sg_buf_append_str(out, "NaN");
	else if (isinf(d))
		sg_buf_append_str(out, d > 0 ? "Infinity" : "-Infinity");
	else
		json_js_number(out, d);
}

/* Proleptic Gregorian date of day z counted from 1970-01-01 (H. Hinnant's
 * days-to-civil algorithm). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void json_js_date(struct sg_buf *out, double ms)
{
	const int64_t day_ms = 86400000;
	int64_t t, days, rem, y;
	int mo, da;

	if (!isfinite(ms) || fabs(ms) > 8.64e15) {
		sg_buf_append_str(out, "null");
		return;
	}
	t = (int64_t)trunc(ms);
	days = t / day_ms;
	rem = t % day_ms;
	if (rem < 0) {
		rem += day_ms;
		days--;
	}
	civil_from_days(days, &y, &mo, &da);
	sg_buf_append_char(out, '"');
	if (y >= 0 && y <= 9999)
		sg_buf_printf(out, "%04" PRId64, y);
	else
		sg_buf_printf(out, "%c%06" PRId64, y < 0 ? '-' : '+', y < 0 ? -y : y);
	sg_buf_printf(out, "-%02d-%02dT%02d:%02d:%02d.%03dZ\"", mo, da, (int)(rem / 3600000),
		      (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
}

void json_js_value(struct sg_buf *out, const json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;
	bool first = true;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		sg_buf_append_char(out, '{');
		json_object_foreach((json_t *)v, key, item)
		{
			if (!first)
				sg_buf_append_char(out, ',');
			first = false;
			json_js_string(out, key, strlen(key));
			sg_buf_append_char(out, ':');
			json_js_value(out, item);
		}
		sg_buf_append_char(out, '}');
		break;
	case JSON_ARRAY:
		sg_buf_append_char(out, '[');
		json_array_foreach(v, i, item)
		{
			if (i)
				sg_buf_append_char(out, ',');
			json_js_value(out, item);
		}
		sg_buf_append_char(out, ']');
		break;
	case JSON_STRING:
		json_js_string(out, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		sg_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
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
		sg_buf_append_str(out, "null");
		break;
	}
}

void json_js_strv(struct sg_buf *out, const struct sg_strv *v)
{
	sg_buf_append_char(out, '[');
	for (size_t i = 0; i < v->n; i++) {
		if (i > 0)
			sg_buf_append_char(out, ',');
		json_js_string(out, v->v[i], strlen(v->v[i]));
	}
	sg_buf_append_char(out, ']');
}
