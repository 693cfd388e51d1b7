/*
 * common.c: error records, aborting allocators, the growable byte buffer and
 * string lists.  Owns nothing beyond what each object's caller owns.
 */
#include "core/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sg_err_set(struct sg_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void oom(size_t n) __attribute__((noreturn));
static void oom(size_t n)
{
	fprintf(stderr, "siogate: out of memory allocating %zu bytes\n", n);
	abort();
}

void *sg_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

void *sg_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom(n * size);
	return p;
}

void *sg_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom(n);
	return q;
}

char *sg_strdup(const char *s)
{
	return sg_strndup(s, strlen(s));
}

char *sg_strndup(const char *s, size_t n)
{
	char *p = sg_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void sg_fatal_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "siogate: fatal: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void sg_buf_init(struct sg_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void sg_buf_fini(struct sg_buf *b)
{
	free(b->data);
	sg_buf_init(b);
}

void sg_buf_reset(struct sg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void sg_buf_reserve(struct sg_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = sg_realloc(b->data, cap);
	b->cap = cap;
	b->data[b->len] = '\0'; /* data is always a string, even before the first append */
}

void sg_buf_append(struct sg_buf *b, const void *p, size_t n)
{
	sg_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void sg_buf_append_str(struct sg_buf *b, const char *s)
{
	sg_buf_append(b, s, strlen(s));
}

void sg_buf_append_char(struct sg_buf *b, char c)
{
	sg_buf_append(b, &c, 1);
}

void sg_buf_printf(struct sg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sg_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *sg_buf_steal(struct sg_buf *b)
{
	char *p;

	if (b->data == NULL)
		return sg_strdup("");
	p = b->data;
	sg_buf_init(b);
	return p;
}

void sg_strv_push(struct sg_strv *sv, const char *s)
{
	sv->v = sg_realloc(sv->v, (sv->n + 1) * sizeof(*sv->v));
	sv->v[sv->n++] = sg_strdup(s);
}

void sg_strv_free(struct sg_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

bool sg_strv_contains(const struct sg_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void sg_strv_copy(struct sg_strv *dst, const struct sg_strv *src)
{
	dst->v = NULL;
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++)
		sg_strv_push(dst, src->v[i]);
}

bool sg_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int sg_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool sg_list_next(const char **p, const char *e, const char **tok, size_t *tok_len)
{
	while (*p < e) {
		const char *s = *p, *comma = memchr(s, ',', (size_t)(e - s));
		const char *t = comma ? comma : e;

		*p = comma ? comma + 1 : e;
		while (s < t && (*s == ' ' || *s == '\t'))
			s++;
		while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if (t > s) {
			*tok = s;
			*tok_len = (size_t)(t - s);
			return true;
		}
	}
	return false;
}

bool sg_list_has(const char *v, size_t len, const char *token)
{
	const char *p = v, *tok;
	size_t tl, n = strlen(token);

	while (sg_list_next(&p, v + len, &tok, &tl)) {
		if (tl == n && strncasecmp(tok, token, n) == 0)
			return true;
	}
	return false;
}
