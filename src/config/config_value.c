/*
 * config_value.c: the pure text helpers of the configuration loader (see
 * config_value.h): parsers of durations, sizes and listen addresses, their
 * formatting back for messages, quoting, and typo distances.
 */
#include "config/config_value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "proto/url.h"

/* Quotes user text for a message: truncated, control bytes replaced. */
const char *cfg_show(const char *s, char *buf, size_t size)
{
	size_t i = 0, n = strlen(s);

	for (; i < n && i < SHOW_MAX && i + 4 < size; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (i < n && i + 4 < size) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* "a|b|c" -> "a, b, c" */
void cfg_choices_list(const char *choices, char *buf, size_t size)
{
	size_t j = 0;

	for (const char *p = choices; *p != '\0' && j + 3 < size; p++) {
		if (*p == '|') {
			buf[j++] = ',';
			buf[j++] = ' ';
		} else {
			buf[j++] = *p;
		}
	}
	buf[j] = '\0';
}

/* Index of s among "a|b|c", or -1. */
int cfg_choice_index(const char *choices, const char *s)
{
	size_t len = strlen(s);
	int i = 0;

	for (const char *p = choices;; i++) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n == len && memcmp(p, s, n) == 0)
			return i;
		if (bar == NULL)
			return -1;
		p = bar + 1;
	}
}

void cfg_choice_name(const char *choices, int i, char *buf, size_t size)
{
	const char *p = choices;
	size_t n;

	for (; i > 0 && p != NULL; i--) {
		p = strchr(p, '|');
		if (p != NULL)
			p++;
	}
	n = p == NULL || i < 0 ? 0 : strcspn(p, "|");
	if (n >= size)
		n = size - 1;
	if (n > 0)
		memcpy(buf, p, n);
	buf[n] = '\0';
}

/* Optimal string alignment distance: Levenshtein plus adjacent swaps. */
int cfg_distance(const char *a, const char *b)
{
	enum {
		MAXLEN = 127
	};
	int rows[3][MAXLEN + 2];
	size_t la = strlen(a), lb = strlen(b);
	int *pp = rows[0], *p = rows[1], *c = rows[2];

	if (la > MAXLEN || lb > MAXLEN)
		return INT_MAX;
	for (size_t j = 0; j <= lb; j++)
		p[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		c[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = p[j] + 1;

			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (p[j - 1] + cost < v)
				v = p[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
		}
		int *t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[lb];
}

/* Is d small enough, for a name of this length, to be a likely typo? */
bool cfg_close_enough(int d, size_t len)
{
	int limit = len < 6 ? 1 : len < 12 ? 2 : 3;

	return d > 0 && d <= limit;
}

const char *cfg_suggest_among(const char *name, const char *const *cands, size_t n)
{
	const char *best = NULL;
	int best_d = INT_MAX;

	for (size_t i = 0; i < n; i++) {
		int d = cfg_distance(name, cands[i]);

		if (d < best_d && cfg_close_enough(d, strlen(cands[i]))) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

void cfg_fmt_duration(uint64_t ms, char *buf, size_t size)
{
	if (ms == 0)
		snprintf(buf, size, "0");
	else if (ms % 3600000 == 0)
		snprintf(buf, size, "%" PRIu64 "h", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, size, "%" PRIu64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, size, "%" PRIu64 "ms", ms);
}

void cfg_fmt_size(uint64_t bytes, char *buf, size_t size)
{
	if (bytes != 0 && bytes % (1u << 30) == 0)
		snprintf(buf, size, "%" PRIu64 "GB", bytes >> 30);
	else if (bytes != 0 && bytes % (1u << 20) == 0)
		snprintf(buf, size, "%" PRIu64 "MB", bytes >> 20);
	else if (bytes != 0 && bytes % 1024 == 0)
		snprintf(buf, size, "%" PRIu64 "KB", bytes >> 10);
	else
		snprintf(buf, size, "%" PRIu64, bytes);
}

/* Reads decimal digits at *sp (at least one) into v; -1 on none or overflow. */
int cfg_parse_digits(const char **sp, uint64_t *v)
{
	const char *s = *sp;
	uint64_t x = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*sp = s;
	*v = x;
	return 0;
}

int config_parse_duration(const char *s, int64_t *ms, struct sg_err *err)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = { { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };
	const char *p = s;
	uint64_t v;
	char buf[SHOW_MAX + 8];

	if (cfg_parse_digits(&p, &v) == 0) {
		for (size_t i = 0; i < SG_ARRAY_LEN(units); i++) {
			if (strcmp(p, units[i].unit) != 0)
				continue;
			if (v > (uint64_t)INT64_MAX / units[i].mult)
				break;
			*ms = (int64_t)(v * units[i].mult);
			return 0;
		}
		if (isdigit((unsigned char)s[0]) && *p == '\0')
			return sg_err_set(err, "duration '%s' is too large",
					  cfg_show(s, buf, sizeof(buf)));
	}
	return sg_err_set(err,
			  "invalid duration '%s' (expected e.g. 250ms, 10s, 2m, 1h, or a "
			  "number of milliseconds)",
			  cfg_show(s, buf, sizeof(buf)));
}

int config_parse_size(const char *s, uint64_t *bytes, struct sg_err *err)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = { { "", 1 },	  { "B", 1 },	      { "KB", 1024 },
		      { "KiB", 1024 },	  { "MB", 1u << 20 }, { "MiB", 1u << 20 },
		      { "GB", 1u << 30 }, { "GiB", 1u << 30 } };
	const char *p = s;
	uint64_t v;
	char buf[SHOW_MAX + 8];

	if (cfg_parse_digits(&p, &v) == 0) {
		for (size_t i = 0; i < SG_ARRAY_LEN(units); i++) {
			if (strcasecmp(p, units[i].unit) != 0)
				continue;
			if (v > UINT64_MAX / units[i].mult)
				return sg_err_set(err, "size '%s' is too large",
						  cfg_show(s, buf, sizeof(buf)));
			*bytes = v * units[i].mult;
			return 0;
		}
	}
	return sg_err_set(err,
			  "invalid size '%s' (expected e.g. 64KB, 1MB, 1GB, or a number of "
			  "bytes)",
			  cfg_show(s, buf, sizeof(buf)));
}

/* Validates "IPv4:PORT", "[IPv6]:PORT" or "*:PORT". */
int cfg_parse_listen(const char *s, struct sg_err *err)
{
	char host[64], buf[SHOW_MAX + 8];
	const char *port;
	uint64_t v;
	size_t n;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		struct in6_addr a6;

		if (rb == NULL || rb[1] != ':')
			goto bad;
		n = (size_t)(rb - s - 1);
		if (n == 0 || n >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return sg_err_set(err, "invalid IPv6 address in '%s'",
					  cfg_show(s, buf, sizeof(buf)));
		port = rb + 2;
	} else {
		const char *colon = strrchr(s, ':');
		struct in_addr a4;

		if (colon == NULL)
			goto bad;
		n = (size_t)(colon - s);
		if (n == 0 || n >= sizeof(host))
			goto bad;
		memcpy(host, s, n);
		host[n] = '\0';
		if (strchr(host, ':') != NULL)
			return sg_err_set(err, "IPv6 addresses go in brackets: '[%s]:PORT'",
					  cfg_show(host, buf, sizeof(buf)));
		if (strcmp(host, "*") != 0 && inet_pton(AF_INET, host, &a4) != 1)
			goto bad;
		port = colon + 1;
	}
	if (cfg_parse_digits(&port, &v) != 0 || *port != '\0' || v < 1 || v > 65535)
		return sg_err_set(err, "invalid port in '%s' (expected 1 to 65535)",
				  cfg_show(s, buf, sizeof(buf)));
	return 0;
bad:
	return sg_err_set(err, "invalid address '%s' (expected IPv4:PORT, [IPv6]:PORT or *:PORT)",
			  cfg_show(s, buf, sizeof(buf)));
}

bool cfg_is_http_url(const char *s)
{
	struct sg_err err = { 0 };
	struct url u;

	/* the call-outs' own parser: what --check accepts, they can use */
	if (url_parse(s, URL_SCHEMES_HTTP, &u, &err) != 0)
		return false;
	url_fini(&u);
	return true;
}
