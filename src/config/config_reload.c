/*
 * config_reload.c: what a SIGHUP reload may apply (see config_reload_merge
 * in config.h): keys flagged reloadable take the new value; any other key
 * whose value changed keeps the running one and is named to the caller.
 */
#include "config/config.h"
#include "config/config_table.h"

#include <stdlib.h>
#include <string.h>

static bool strv_equal(const struct sg_strv *a, const struct sg_strv *b);
static bool str_equal(const char *a, const char *b);
static bool field_equal(const struct sg_config *a, const struct sg_config *b,
			const struct key_def *k);
static void field_copy(struct sg_config *dst, const struct sg_config *src, const struct key_def *k);

static bool str_equal(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool strv_equal(const struct sg_strv *a, const struct sg_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static bool field_equal(const struct sg_config *a, const struct sg_config *b,
			const struct key_def *k)
{
	const void *fa = (const char *)a + k->off, *fb = (const char *)b + k->off;

	switch (k->type) {
	case KT_STRING:
	case KT_FILE:
	case KT_URL:
	case KT_ADDR:
	case KT_PATH:
		return str_equal(*(char *const *)fa, *(char *const *)fb);
	case KT_SECRET:
		return a->auth.jwt.secret_len == b->auth.jwt.secret_len &&
		       (a->auth.jwt.secret_len == 0 ||
			memcmp(a->auth.jwt.secret, b->auth.jwt.secret, a->auth.jwt.secret_len) == 0);
	case KT_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case KT_UINT:
	case KT_WORKERS:
	case KT_TRANSPORTS:
		return *(const unsigned *)fa == *(const unsigned *)fb;
	case KT_UINT64:
	case KT_SIZE:
		return *(const uint64_t *)fa == *(const uint64_t *)fb;
	case KT_DURATION:
		return *(const int64_t *)fa == *(const int64_t *)fb;
	case KT_ENUM:
		return *(const int *)fa == *(const int *)fb;
	case KT_STRV:
	case KT_ORIGINS:
	case KT_LISTEN:
	case KT_NAMESPACES:
	case KT_ALGORITHMS:
	case KT_REDIS_URL:
	case KT_CIDRS:
		return strv_equal(fa, fb);
	case KT_TOKEN_FROM:
		return a->auth.jwt.n_token_from == b->auth.jwt.n_token_from &&
		       memcmp(a->auth.jwt.token_from, b->auth.jwt.token_from,
			      a->auth.jwt.n_token_from * sizeof(a->auth.jwt.token_from[0])) == 0;
	case KT_HEADERS:
		return strv_equal(&a->auth.http.header_names, &b->auth.http.header_names) &&
		       strv_equal(&a->auth.http.header_values, &b->auth.http.header_values);
	case KT_FORWARD:
		if (a->events.n_forward != b->events.n_forward)
			return false;
		for (size_t j = 0; j < a->events.n_forward; j++) {
			const struct sg_forward_rule *x = &a->events.forward[j], *y = &b->events.forward[j];
			if (!str_equal(x->match, y->match) || !str_equal(x->stream, y->stream) ||
			    !str_equal(x->http, y->http) || x->timeout_ms != y->timeout_ms)
				return false;
		}
		return true;
	}
	return true;
}

/* Replaces dst's value of key k by a deep copy of src's. */
static void field_copy(struct sg_config *dst, const struct sg_config *src, const struct key_def *k)
{
	void *fd = (char *)dst + k->off;
	const void *fs = (const char *)src + k->off;

	switch (k->type) {
	case KT_STRING:
	case KT_FILE:
	case KT_URL:
	case KT_ADDR:
	case KT_PATH:
		free(*(char **)fd);
		*(char **)fd = *(char *const *)fs ? sg_strdup(*(char *const *)fs) : NULL;
		break;
	case KT_STRV:
	case KT_ORIGINS:
	case KT_LISTEN:
	case KT_NAMESPACES:
	case KT_ALGORITHMS:
	case KT_REDIS_URL:
	case KT_CIDRS:
		sg_strv_free(fd);
		sg_strv_copy(fd, fs);
		break;
	case KT_BOOL:
		*(bool *)fd = *(const bool *)fs;
		break;
	case KT_UINT:
	case KT_WORKERS:
	case KT_TRANSPORTS:
		*(unsigned *)fd = *(const unsigned *)fs;
		break;
	case KT_UINT64:
	case KT_SIZE:
		*(uint64_t *)fd = *(const uint64_t *)fs;
		break;
	case KT_DURATION:
		*(int64_t *)fd = *(const int64_t *)fs;
		break;
	case KT_ENUM:
		*(int *)fd = *(const int *)fs;
		break;
	default:
		/* SECRET, TOKEN_FROM, HEADERS, FORWARD are all reloadable: a
		 * reload never needs to keep the old value of one. */
		sg_fatal("config: no copy for key %s", k->name);
	}
}

size_t config_reload_merge(struct sg_config *next, const struct sg_config *running,
			   const char **kept, size_t max_kept)
{
	size_t n = 0;

	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		if ((config_keys[i].flags & SG_KF_RELOAD) || field_equal(next, running, &config_keys[i]))
			continue;
		field_copy(next, running, &config_keys[i]);
		if (n < max_kept)
			kept[n] = config_keys[i].name;
		n++;
	}
	return n;
}
