/*
 * config_type.c: the table of key types (config_type.h) and the operations
 * of the scalar ones: strings (plain, secret, file name, URL, address, URL
 * path), booleans, integers, durations, sizes, enums and worker counts.  A
 * value that owns no memory is copied and compared as the bytes of its field
 * (the type's size); a secret is wiped before it is freed and never printed.
 * The lists and mappings are in config_type_list.c.
 */
#include "config/config_type.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_loader.h"
#include "config/config_secret.h"
#include "config/config_value.h"

static const char *want_text(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n);
static cfg_parse_fn parse_string, parse_file, parse_url, parse_addr, parse_path, parse_bool,
	parse_uint, parse_uint64, parse_duration, parse_size, parse_enum, parse_workers;
static cfg_free_fn free_str, free_secret;
static cfg_copy_fn copy_str, copy_secret;
static cfg_equal_fn equal_str, equal_secret;
static cfg_print_fn print_str, print_secret, print_bool, print_uint, print_uint64, print_duration,
	print_size, print_enum, print_workers;

/* ---- strings ----------------------------------------------------------------- */

/* The text of a non-empty string value, or NULL after an error. */
static const char *want_text(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	const char *s = cfg_want_scalar(ld, k->name, n, cfg_type_of(k)->what);

	if (s != NULL && s[0] == '\0') {
		cfg_node_err(ld, n, k->name, "must not be empty");
		return NULL;
	}
	return s;
}

static void parse_string(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	const char *s = want_text(ld, k, n);

	if (s != NULL)
		*(char **)config_key_field(ld->cfg, k) = sg_strdup(s);
}

/* A relative name is a file in $CREDENTIALS_DIRECTORY or next to the config
 * file (config_secret.h). */
static void parse_file(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	const char *s = want_text(ld, k, n);

	if (s != NULL)
		*(char **)config_key_field(ld->cfg, k) = cfg_resolve_file(ld->base_dir, s);
}

static void parse_url(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	const char *s = want_text(ld, k, n);
	char buf[SHOW_MAX + 8];

	if (s == NULL)
		return;
	if (!cfg_is_http_url(s)) {
		cfg_node_err(ld, n, k->name, "expected an http:// or https:// URL (got '%s')",
			     cfg_show(s, buf, sizeof(buf)));
		return;
	}
	*(char **)config_key_field(ld->cfg, k) = sg_strdup(s);
}

static void parse_addr(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	const char *s = want_text(ld, k, n);
	struct sg_err err;

	if (s == NULL)
		return;
	if (cfg_parse_listen(s, &err) != 0) {
		cfg_node_err(ld, n, k->name, "%s", err.msg);
		return;
	}
	*(char **)config_key_field(ld->cfg, k) = sg_strdup(s);
}

/* A URL path, stored with a trailing '/'. */
static void parse_path(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	char **f = config_key_field(ld->cfg, k);
	const char *s = cfg_want_scalar(ld, k->name, n, "a URL path");
	char buf[SHOW_MAX + 8];
	size_t len;

	if (s == NULL)
		return;
	if (s[0] != '/') {
		cfg_node_err(ld, n, k->name, "must start with '/' (got '%s')",
			     cfg_show(s, buf, sizeof(buf)));
		return;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#') {
			cfg_node_err(ld, n, k->name,
				     "must not contain spaces, control characters, '?' or '#' (got "
				     "'%s')",
				     cfg_show(s, buf, sizeof(buf)));
			return;
		}
	}
	len = strlen(s);
	*f = sg_malloc(len + 2);
	memcpy(*f, s, len + 1);
	if (s[len - 1] != '/') {
		(*f)[len] = '/';
		(*f)[len + 1] = '\0';
	}
}

static void free_str(struct sg_config *cfg, const struct key_def *k)
{
	free(*(char **)config_key_field(cfg, k));
}

static void copy_str(struct sg_config *dst, const struct sg_config *src, const struct key_def *k)
{
	char **fd = config_key_field(dst, k);
	char *s = *(char **)config_key_field(src, k);

	free(*fd);
	*fd = s != NULL ? sg_strdup(s) : NULL;
}

bool cfg_str_equal(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool equal_str(const struct sg_config *a, const struct sg_config *b, const struct key_def *k)
{
	return cfg_str_equal(*(char **)config_key_field(a, k), *(char **)config_key_field(b, k));
}

void cfg_print_quoted(struct sg_buf *out, const char *s, bool expand)
{
	sg_buf_append_char(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			sg_buf_append_char(out, '\\');
			sg_buf_append_char(out, (char)*p);
		} else if (*p < 0x20 || *p == 0x7f) {
			sg_buf_printf(out, "\\x%02x", *p);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* U+0080..U+009F: YAML does not allow them unescaped */
			sg_buf_printf(out, "\\x%02x", p[1]);
			p++;
		} else if (*p == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			/* U+2028, U+2029: line breaks to YAML, folded if written */
			sg_buf_append_str(out, p[2] == 0xa8 ? "\\L" : "\\P");
			p += 2;
		} else if (*p == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
			sg_buf_append_str(out, "\\ufeff"); /* a byte order mark */
			p += 2;
		} else if (*p == '$' && expand) {
			sg_buf_append_str(out, "$$");
		} else {
			sg_buf_append_char(out, (char)*p);
		}
	}
	sg_buf_append_char(out, '"');
}

static void print_str(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	const char *s = *(char **)config_key_field(cfg, k);

	if (s == NULL)
		sg_buf_append_str(out, "null");
	else
		cfg_print_quoted(out, s, true);
}

/* ---- the secret -------------------------------------------------------------- */

/* The SECRET keys, auth.jwt.secret, redis.password and
 * admin_ui.password_hash (never printed: it signs the Admin UI's sessions),
 * each with its length beside it (the value may hold NUL bytes when it
 * comes from a file). */
static size_t *secret_len(struct sg_config *cfg, const struct key_def *k)
{
	char **f = config_key_field(cfg, k);

	if (f == &cfg->redis.password)
		return &cfg->redis.password_len;
	if (f == &cfg->admin_ui.password_hash)
		return &cfg->admin_ui.password_hash_len;
	return &cfg->auth.jwt.secret_len;
}

static void free_secret(struct sg_config *cfg, const struct key_def *k)
{
	char *s = *(char **)config_key_field(cfg, k);

	if (s != NULL)
		explicit_bzero(s, *secret_len(cfg, k));
	free(s);
}

static void copy_secret(struct sg_config *dst, const struct sg_config *src, const struct key_def *k)
{
	const char *s = *(char **)config_key_field(src, k);
	size_t len = *secret_len((struct sg_config *)src, k);
	char *copy = NULL;

	if (s != NULL) {
		copy = sg_malloc(len + 1);
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	free_secret(dst, k);
	*(char **)config_key_field(dst, k) = copy;
	*secret_len(dst, k) = len;
}

static bool equal_secret(const struct sg_config *a, const struct sg_config *b,
			 const struct key_def *k)
{
	const char *sa = *(char **)config_key_field(a, k), *sb = *(char **)config_key_field(b, k);
	size_t la = *secret_len((struct sg_config *)a, k),
	       lb = *secret_len((struct sg_config *)b, k);

	if ((sa == NULL) != (sb == NULL))
		return false;
	return la == lb && (la == 0 || memcmp(sa, sb, la) == 0);
}

static void print_secret(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	const char *s = *(char **)config_key_field(cfg, k);

	sg_buf_append_str(out, s != NULL ? "\"(secret)\"" : "null");
}

/* ---- values that own no memory ----------------------------------------------- */

static void parse_bool(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	bool *f = config_key_field(ld->cfg, k);
	const char *s = cfg_want_scalar(ld, k->name, n, "true or false");
	char buf[SHOW_MAX + 8];

	if (s == NULL)
		return;
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
		*f = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		*f = false;
	else
		cfg_node_err(ld, n, k->name, "expected true or false (got '%s')",
			     cfg_show(s, buf, sizeof(buf)));
}

static void print_bool(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	sg_buf_append_str(out, *(bool *)config_key_field(cfg, k) ? "true" : "false");
}

static void parse_uint(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	uint64_t u;

	if (cfg_get_uint(ld, k->name, n, k->min, k->max, &u))
		*(unsigned *)config_key_field(ld->cfg, k) = (unsigned)u;
}

static void print_uint(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	sg_buf_printf(out, "%u", *(unsigned *)config_key_field(cfg, k));
}

static void parse_uint64(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	(void)cfg_get_uint(ld, k->name, n, k->min, k->max, config_key_field(ld->cfg, k));
}

static void print_uint64(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	sg_buf_printf(out, "%" PRIu64, *(uint64_t *)config_key_field(cfg, k));
}

static void parse_duration(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	(void)cfg_get_duration(ld, k->name, n, k->min, k->max, config_key_field(ld->cfg, k));
}

static void print_duration(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	char buf[32];

	cfg_fmt_duration((uint64_t) * (int64_t *)config_key_field(cfg, k), buf, sizeof(buf));
	sg_buf_append_str(out, buf);
}

static void parse_size(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	(void)cfg_get_size(ld, k->name, n, k->min, k->max, config_key_field(ld->cfg, k));
}

static void print_size(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	char buf[32];

	cfg_fmt_size(*(uint64_t *)config_key_field(cfg, k), buf, sizeof(buf));
	sg_buf_append_str(out, buf);
}

/* One of k->choices, stored as its index in an enum field (an int). */
static void parse_enum(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	const char *s = cfg_want_scalar(ld, k->name, n, "a word");
	int i;

	if (s == NULL)
		return;
	i = cfg_want_choice(ld, k, n, s);
	if (i >= 0)
		memcpy(config_key_field(ld->cfg, k), &i, sizeof(i));
}

static void print_enum(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	char buf[64];
	int i;

	memcpy(&i, config_key_field(cfg, k), sizeof(i));
	cfg_choice_name(k->choices, i, buf, sizeof(buf));
	sg_buf_append_str(out, buf);
}

/* auto (stored as 0) or an integer in [min, max]. */
static void parse_workers(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	unsigned *f = config_key_field(ld->cfg, k);
	const char *s = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
	uint64_t v;

	if (cfg_expand_failed(ld, n))
		return;
	if (s != NULL && strcmp(s, "auto") == 0) {
		*f = 0;
		return;
	}
	if (s != NULL && !cfg_node_is_null(n) && !isdigit((unsigned char)s[0])) {
		char buf[SHOW_MAX + 8];

		cfg_node_err(ld, n, k->name, "expected auto or an integer (got '%s')",
			     cfg_show(s, buf, sizeof(buf)));
		return;
	}
	if (cfg_get_uint(ld, k->name, n, k->min, k->max, &v))
		*f = (unsigned)v;
}

static void print_workers(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	unsigned v = *(unsigned *)config_key_field(cfg, k);

	if (v == 0)
		sg_buf_append_str(out, "auto");
	else
		sg_buf_printf(out, "%u", v);
}

void cfg_free_plain(struct sg_config *cfg, const struct key_def *k)
{
	(void)cfg;
	(void)k;
}

void cfg_copy_plain(struct sg_config *dst, const struct sg_config *src, const struct key_def *k)
{
	memcpy(config_key_field(dst, k), config_key_field(src, k), cfg_type_of(k)->size);
}

bool cfg_equal_plain(const struct sg_config *a, const struct sg_config *b, const struct key_def *k)
{
	return memcmp(config_key_field(a, k), config_key_field(b, k), cfg_type_of(k)->size) == 0;
}

/* ---- the table ---------------------------------------------------------------- */

/* Columns: what, flags, size; parse, free, copy, equal, print. */
static const struct cfg_type cfg_type_string = { "a string", 0,	       0,	  parse_string,
						 free_str,   copy_str, equal_str, print_str };
static const struct cfg_type cfg_type_secret = { "a string",   0,	    0,
						 parse_string, free_secret, copy_secret,
						 equal_secret, print_secret };
static const struct cfg_type cfg_type_file = { "a file name", 0,	0,	   parse_file,
					       free_str,      copy_str, equal_str, print_str };
static const struct cfg_type cfg_type_url = {
	"an http:// or https:// URL", 0, 0, parse_url, free_str, copy_str, equal_str, print_str
};
static const struct cfg_type cfg_type_addr = { "HOST:PORT", 0,	      0,	 parse_addr,
					       free_str,    copy_str, equal_str, print_str };
static const struct cfg_type cfg_type_path = { "a URL path", 0,	       0,	  parse_path,
					       free_str,     copy_str, equal_str, print_str };
static const struct cfg_type cfg_type_bool = { "true or false", 0,
					       sizeof(bool),	parse_bool,
					       cfg_free_plain,	cfg_copy_plain,
					       cfg_equal_plain, print_bool };
static const struct cfg_type cfg_type_uint = { "an integer",	 0,
					       sizeof(unsigned), parse_uint,
					       cfg_free_plain,	 cfg_copy_plain,
					       cfg_equal_plain,	 print_uint };
static const struct cfg_type cfg_type_uint64 = { "an integer",	   0,
						 sizeof(uint64_t), parse_uint64,
						 cfg_free_plain,   cfg_copy_plain,
						 cfg_equal_plain,  print_uint64 };
static const struct cfg_type cfg_type_duration = { "a duration",    0,
						   sizeof(int64_t), parse_duration,
						   cfg_free_plain,  cfg_copy_plain,
						   cfg_equal_plain, print_duration };
static const struct cfg_type cfg_type_size = { "a size",	 0,
					       sizeof(uint64_t), parse_size,
					       cfg_free_plain,	 cfg_copy_plain,
					       cfg_equal_plain,	 print_size };
static const struct cfg_type cfg_type_enum = { "one of the listed words",
					       CFG_TF_CHOICE,
					       sizeof(int),
					       parse_enum,
					       cfg_free_plain,
					       cfg_copy_plain,
					       cfg_equal_plain,
					       print_enum };
static const struct cfg_type cfg_type_workers = { "auto or an integer", 0,
						  sizeof(unsigned),	parse_workers,
						  cfg_free_plain,	cfg_copy_plain,
						  cfg_equal_plain,	print_workers };

const struct cfg_type *const config_types[KT_COUNT] = {
	[KT_STRING] = &cfg_type_string,
	[KT_SECRET] = &cfg_type_secret,
	[KT_FILE] = &cfg_type_file,
	[KT_URL] = &cfg_type_url,
	[KT_ADDR] = &cfg_type_addr,
	[KT_PATH] = &cfg_type_path,
	[KT_BOOL] = &cfg_type_bool,
	[KT_UINT] = &cfg_type_uint,
	[KT_UINT64] = &cfg_type_uint64,
	[KT_DURATION] = &cfg_type_duration,
	[KT_SIZE] = &cfg_type_size,
	[KT_ENUM] = &cfg_type_enum,
	[KT_STRV] = &cfg_type_strv,
	[KT_ORIGINS] = &cfg_type_origins,
	[KT_LISTEN] = &cfg_type_listen,
	[KT_NAMESPACES] = &cfg_type_namespaces,
	[KT_ALGORITHMS] = &cfg_type_algorithms,
	[KT_TRANSPORTS] = &cfg_type_transports,
	[KT_TOKEN_FROM] = &cfg_type_token_from,
	[KT_WORKERS] = &cfg_type_workers,
	[KT_REDIS_URL] = &cfg_type_redis_url,
	[KT_HEADERS] = &cfg_type_headers,
	[KT_FORWARD] = &cfg_type_forward,
	[KT_CIDRS] = &cfg_type_cidrs,
};
