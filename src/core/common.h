/*
 * common.h: the few definitions every siogate module shares: the error record
 * that pure code fills instead of logging, the growable byte buffer that
 * encoders write into, allocation helpers that abort on failure, and
 * attribute macros.  Nothing here touches libevent or global state.
 */
#ifndef SG_COMMON_H
#define SG_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_WUR __attribute__((warn_unused_result))
#define SG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define SG_UNUSED(x) ((void)(x))
#define SG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* The struct of type that holds member at ptr. */
#define sg_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Error record filled by pure code (parsers, codecs, config): the caller
 * decides whether to log it, answer a client with it, or close.  line and
 * col are 1-based where they mean something, 0 otherwise. */
struct sg_err {
	int line;
	int col;
	char msg[256];
};

/* Formats into err->msg (truncating); always returns -1 so that callers can
 * write `return sg_err_set(err, ...)`.  err may be NULL. */
int sg_err_set(struct sg_err *err, const char *fmt, ...) SG_PRINTF(2, 3);

/* Allocation that never returns NULL: out of memory aborts with a message
 * (DESIGN.md section 4: every size read from the network is checked against a
 * configured limit before it reaches these). */
void *sg_malloc(size_t n);
void *sg_calloc(size_t n, size_t size);
void *sg_realloc(void *p, size_t n);
char *sg_strdup(const char *s);
char *sg_strndup(const char *s, size_t n);

/* Bug, not an operator mistake: prints file:line and aborts. */
#define sg_fatal(...) sg_fatal_at(__FILE__, __LINE__, __VA_ARGS__)
void sg_fatal_at(const char *file, int line, const char *fmt, ...) SG_PRINTF(3, 4)
	__attribute__((noreturn));

/* Growable byte buffer.  Owns its memory; data is always NUL-terminated
 * (the NUL is not counted in len) so text can be handed to C string APIs. */
struct sg_buf {
	char *data;
	size_t len;
	size_t cap;
};

void sg_buf_init(struct sg_buf *b);
void sg_buf_fini(struct sg_buf *b);
void sg_buf_reset(struct sg_buf *b);
void sg_buf_reserve(struct sg_buf *b, size_t extra);
void sg_buf_append(struct sg_buf *b, const void *p, size_t n);
void sg_buf_append_str(struct sg_buf *b, const char *s);
void sg_buf_append_char(struct sg_buf *b, char c);
void sg_buf_printf(struct sg_buf *b, const char *fmt, ...) SG_PRINTF(2, 3);
/* Detaches the buffer: the caller owns the returned string (free()). */
char *sg_buf_steal(struct sg_buf *b);

/* A list of owned strings (config lists, room lists). */
struct sg_strv {
	char **v;
	size_t n;
};

void sg_strv_push(struct sg_strv *sv, const char *s);
void sg_strv_free(struct sg_strv *sv);
bool sg_strv_contains(const struct sg_strv *sv, const char *s);
void sg_strv_copy(struct sg_strv *dst, const struct sg_strv *src);

/* RFC 9110 tchar: a byte allowed in a token (header names, methods). */
bool sg_is_tchar(unsigned char c);
/* The value of hex digit c (either case), or -1. */
int sg_hex_value(char c);

/* HTTP comma-separated lists (RFC 9110 section 5.6.1): yields the next
 * non-empty element of [*p, e), trimmed of spaces and tabs, and advances *p
 * past it; false at the end. */
bool sg_list_next(const char **p, const char *e, const char **tok, size_t *tok_len);
/* Whether the list v[0..len) has the element token (case-insensitive). */
bool sg_list_has(const char *v, size_t len, const char *token);

#endif
