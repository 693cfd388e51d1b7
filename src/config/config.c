/*
 * config.c: YAML text to a validated, immutable struct sg_config.  The key
 * table (config_keys.def) is the single source of truth: the walker accepts
 * exactly its dotted paths, defaults are its YAML default texts parsed by the
 * same code as user values, and config_free() releases fields by its types.
 * Invariant: a snapshot is returned only when no error at all was found; every
 * problem is collected (with the libyaml line and column of the node at
 * fault) before giving up, and no secret value ever reaches a message.
 */
#include "config/config.h"
#include "config/config_table.h"
#include "config/config_secret.h"
#include "config/config_value.h"
#include "config/config_yaml.h"
#include "proto/cidr.h"
#include "proto/room_rules.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#define SECRET_MAX_FILE (1u << 20)   /* largest secret file read */
#define FORWARD_TIMEOUT_MS 3000      /* events.forward[].timeout default */
#define FORWARD_TIMEOUT_MAX 600000   /* and its upper bound (10m) */

/* An error before formatting: sorted by position at the end. */
struct pending_err {
	int line; /* 0 = no position */
	int col;
	size_t seq;
	char *text; /* "key: message" */
};

/* A section mapping met in the document. */
struct seen_section {
	char *path;
	int line; /* of its key */
	int col;
	bool mapping; /* given as a mapping (not null) */
};

struct loader {
	struct sg_config *cfg;
	const char *name;     /* file name in messages */
	char *base_dir;       /* relative paths are resolved here; NULL = as given */
	yaml_document_t *doc; /* the document nodes are looked up in */
	bool defaults;        /* applying the table's defaults: errors are bugs */
	struct pending_err *errs;
	size_t n_errs;
	struct seen_section *seen;
	size_t n_seen;
	bool key_set[CONFIG_N_KEYS];
	bool key_bad[CONFIG_N_KEYS]; /* given, but its value had an error */
	int key_line[CONFIG_N_KEYS];
	int key_col[CONFIG_N_KEYS];
	yaml_document_t *user_doc;   /* the document of the file */
	bool *expand_failed;         /* by node index of user_doc: ${NAME} failed there */
	size_t n_nodes;
};

static void add_err(struct loader *ld, int line, int col, const char *key, const char *fmt, ...)
	SG_PRINTF(5, 6);
static void node_err(struct loader *ld, const yaml_node_t *n, const char *key, const char *fmt,
		     ...) SG_PRINTF(4, 5);
static void vadd_err(struct loader *ld, int line, int col, const char *key, const char *fmt,
		     va_list ap) SG_PRINTF(5, 0);
static int node_line(const yaml_node_t *n);
static int node_col(const yaml_node_t *n);
static bool node_is_null(const yaml_node_t *n);
static const char *node_kind(const yaml_node_t *n);
static const char *type_what(enum key_type t);
static long find_key(const char *path);
static bool is_section(const char *path);
static struct seen_section *find_seen(struct loader *ld, const char *path);
static bool pos_of(struct loader *ld, const char *path, int *line, int *col);
static bool given(struct loader *ld, const char *path);
static bool bad(struct loader *ld, const char *path);
static bool auth_configured(struct loader *ld);
static const char *suggest(const char *path, char *best, size_t size);
static void *field_of(struct loader *ld, const struct key_def *k);
static const char *want_scalar(struct loader *ld, const char *path, const yaml_node_t *n,
			       const char *what);
static bool want_seq(struct loader *ld, const char *path, const yaml_node_t *n,
		     const char *what);
static yaml_node_t *item_node(struct loader *ld, const yaml_node_item_t *it);
static bool get_uint(struct loader *ld, const char *path, const yaml_node_t *n, uint64_t min,
		     uint64_t max, uint64_t *out);
static bool get_duration(struct loader *ld, const char *path, const yaml_node_t *n,
			 uint64_t min, uint64_t max, int64_t *out);
static bool get_size(struct loader *ld, const char *path, const yaml_node_t *n, uint64_t min,
		     uint64_t max, uint64_t *out);
static char *resolve_path(struct loader *ld, const char *p);
static void set_string(struct loader *ld, const struct key_def *k, const yaml_node_t *n);
static void set_path(struct loader *ld, const struct key_def *k, const yaml_node_t *n);
static void set_bool(struct loader *ld, const struct key_def *k, const yaml_node_t *n);
static void set_enum(struct loader *ld, const struct key_def *k, const yaml_node_t *n);
static void set_workers(struct loader *ld, const struct key_def *k, const yaml_node_t *n);
static void set_strv(struct loader *ld, const struct key_def *k, const yaml_node_t *n);
static void set_choice_list(struct loader *ld, const struct key_def *k, const yaml_node_t *n);
static void set_redis_url(struct loader *ld, const struct key_def *k, const yaml_node_t *n);
static bool check_redis_url(struct loader *ld, const char *path, const yaml_node_t *n,
			    const char *s);
static void set_headers(struct loader *ld, const struct key_def *k, const yaml_node_t *n);
static void set_forward(struct loader *ld, const struct key_def *k, const yaml_node_t *n);
static bool parse_forward_rule(struct loader *ld, const char *path, const yaml_node_t *n,
			       struct sg_forward_rule *r);
static void free_forward_rule(struct sg_forward_rule *r);
static void apply_key(struct loader *ld, size_t ki, const yaml_node_t *n);
static void walk_mapping(struct loader *ld, const yaml_node_t *map, const char *prefix);
static void apply_defaults(struct loader *ld);
static void check_cross(struct loader *ld);
static void load_secret_file(struct loader *ld);
static void check_secret_strength(struct loader *ld);
static void check_token_file(struct loader *ld);
static void yaml_syntax_err(struct loader *ld, const yaml_parser_t *p, const char *text,
			    size_t len);
static void on_expand_err(void *ctx, const yaml_node_t *n, const char *path, const char *msg);
static bool expand_failed(struct loader *ld, const yaml_node_t *n);
static int cmp_err(const void *a, const void *b);
static void finish_errors(struct loader *ld, struct sg_config_errors *errs);
static void loader_fini(struct loader *ld);
static struct sg_config *load_text(const char *name, const char *base_dir, const char *text,
				   size_t len, struct sg_config_errors *errs);

/* ---- errors ---------------------------------------------------------------- */

static void vadd_err(struct loader *ld, int line, int col, const char *key, const char *fmt,
		     va_list ap)
{
	struct sg_buf b;
	struct pending_err *e;

	sg_buf_init(&b);
	if (key != NULL)
		sg_buf_printf(&b, "%s: ", key);
	{
		char msg[512];

		vsnprintf(msg, sizeof(msg), fmt, ap);
		sg_buf_append_str(&b, msg);
	}
	if (ld->defaults)
		sg_fatal("config_keys.def: bad default: %s", b.data);
	ld->errs = sg_realloc(ld->errs, (ld->n_errs + 1) * sizeof(*ld->errs));
	e = &ld->errs[ld->n_errs];
	e->line = line;
	e->col = col;
	e->seq = ld->n_errs++;
	e->text = sg_buf_steal(&b);
}

static void add_err(struct loader *ld, int line, int col, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd_err(ld, line, col, key, fmt, ap);
	va_end(ap);
}

static void node_err(struct loader *ld, const yaml_node_t *n, const char *key, const char *fmt,
		     ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd_err(ld, node_line(n), node_col(n), key, fmt, ap);
	va_end(ap);
}

/* A problem of the ${NAME} expansion, at the value it is in. */
static void on_expand_err(void *ctx, const yaml_node_t *n, const char *path, const char *msg)
{
	struct loader *ld = ctx;
	size_t idx = (size_t)(n - ld->user_doc->nodes.start);
	char buf[SHOW_MAX + 8];

	node_err(ld, n, path[0] ? cfg_show(path, buf, sizeof(buf)) : NULL, "%s", msg);
	if (idx < ld->n_nodes)
		ld->expand_failed[idx] = true;
	/* the key the value belongs to is bad: no second message about it */
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		size_t len = strlen(config_keys[i].name);

		if (strncmp(path, config_keys[i].name, len) == 0 &&
		    (path[len] == '\0' || path[len] == '.' || path[len] == '['))
			ld->key_bad[i] = true;
	}
}

/* Whether n is a value whose ${NAME} expansion failed (already reported). */
static bool expand_failed(struct loader *ld, const yaml_node_t *n)
{
	size_t idx;

	if (ld->doc != ld->user_doc || ld->expand_failed == NULL)
		return false;
	idx = (size_t)(n - ld->user_doc->nodes.start);
	return idx < ld->n_nodes && ld->expand_failed[idx];
}

static int cmp_err(const void *a, const void *b)
{
	const struct pending_err *x = a, *y = b;

	/* Positioned errors first, in document order; then the others. */
	if ((x->line == 0) != (y->line == 0))
		return x->line == 0 ? 1 : -1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void finish_errors(struct loader *ld, struct sg_config_errors *errs)
{
	qsort(ld->errs, ld->n_errs, sizeof(*ld->errs), cmp_err);
	for (size_t i = 0; i < ld->n_errs; i++) {
		struct pending_err *e = &ld->errs[i];
		struct sg_buf b;

		sg_buf_init(&b);
		if (e->line > 0)
			sg_buf_printf(&b, "%s:%d:%d: %s", ld->name, e->line, e->col, e->text);
		else
			sg_buf_printf(&b, "%s: %s", ld->name, e->text);
		if (errs != NULL) {
			errs->v = sg_realloc(errs->v, (errs->n + 1) * sizeof(*errs->v));
			errs->v[errs->n++] = sg_buf_steal(&b);
		} else {
			sg_buf_fini(&b);
		}
		free(e->text);
	}
	free(ld->errs);
	ld->errs = NULL;
	ld->n_errs = 0;
}

void config_errors_free(struct sg_config_errors *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->v[i]);
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

/* ---- small helpers ---------------------------------------------------------- */

static int node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static int node_col(const yaml_node_t *n)
{
	return (int)n->start_mark.column + 1;
}

static bool node_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE)
		return false;
	if (n->tag != NULL && strcmp((const char *)n->tag, YAML_NULL_TAG) == 0)
		return true;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		return node_is_null(n) ? "null" : "a scalar";
	default:
		return "nothing";
	}
}

static const char *type_what(enum key_type t)
{
	switch (t) {
	case KT_STRING:
	case KT_SECRET:
		return "a string";
	case KT_FILE:
		return "a file name";
	case KT_URL:
		return "an http:// or https:// URL";
	case KT_ADDR:
		return "HOST:PORT";
	case KT_PATH:
		return "a URL path";
	case KT_BOOL:
		return "true or false";
	case KT_UINT:
	case KT_UINT64:
		return "an integer";
	case KT_DURATION:
		return "a duration";
	case KT_SIZE:
		return "a size";
	case KT_ENUM:
		return "one of the listed words";
	case KT_WORKERS:
		return "auto or an integer";
	case KT_REDIS_URL:
		return "a URL or a list of URLs";
	case KT_HEADERS:
		return "a mapping";
	case KT_FORWARD:
		return "a list of rules";
	case KT_CIDRS:
		return "a list of addresses or CIDR blocks";
	default:
		return "a list";
	}
}

static long find_key(const char *path)
{
	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		if (strcmp(config_keys[i].name, path) == 0)
			return (long)i;
	return -1;
}

static bool is_section(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		if (strncmp(config_keys[i].name, path, n) == 0 && config_keys[i].name[n] == '.')
			return true;
	return false;
}

static struct seen_section *find_seen(struct loader *ld, const char *path)
{
	for (size_t i = 0; i < ld->n_seen; i++)
		if (strcmp(ld->seen[i].path, path) == 0)
			return &ld->seen[i];
	return NULL;
}

/* Position of a key or section the user wrote; false when absent. */
static bool pos_of(struct loader *ld, const char *path, int *line, int *col)
{
	long ki = find_key(path);
	struct seen_section *s;

	if (ki >= 0 && ld->key_set[ki]) {
		*line = ld->key_line[ki];
		*col = ld->key_col[ki];
		return true;
	}
	s = find_seen(ld, path);
	if (s != NULL) {
		*line = s->line;
		*col = s->col;
		return true;
	}
	return false;
}

/* Did the user give this key (whether or not its value was valid)? */
static bool given(struct loader *ld, const char *path)
{
	long ki = find_key(path);

	if (ki < 0)
		sg_fatal("no config key %s", path);
	return ld->key_set[ki];
}

/* Was the key given with a value that already produced an error? */
static bool bad(struct loader *ld, const char *path)
{
	long ki = find_key(path);

	if (ki < 0)
		sg_fatal("no config key %s", path);
	return ld->key_bad[ki];
}

/* Did the user configure JWT verification (auth.verifier, or anything under
 * auth.jwt)? */
static bool auth_configured(struct loader *ld)
{
	struct seen_section *s = find_seen(ld, "auth.jwt");

	if (given(ld, "auth.verifier") || (s != NULL && s->mapping))
		return true;
	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		if (ld->key_set[i] && strncmp(config_keys[i].name, "auth.jwt.", 9) == 0)
			return true;
	return false;
}

/* The known key or section closest to path, or NULL. */
static const char *suggest(const char *path, char *best, size_t size)
{
	int best_d = INT_MAX;

	best[0] = '\0';
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		const char *name = config_keys[i].name;

		for (const char *dot = name;; dot++) {
			if (*dot == '.' || *dot == '\0') {
				char cand[128];
				size_t n = (size_t)(dot - name);
				int d;

				if (n >= sizeof(cand) || n >= size)
					break;
				memcpy(cand, name, n);
				cand[n] = '\0';
				d = cfg_distance(path, cand);
				if (d < best_d && cfg_close_enough(d, n)) {
					best_d = d;
					memcpy(best, cand, n + 1);
				}
				if (*dot == '\0')
					break;
			}
		}
	}
	return best[0] != '\0' ? best : NULL;
}

/* ---- public parsers --------------------------------------------------------- */

/* ---- node access ------------------------------------------------------------ */

static void *field_of(struct loader *ld, const struct key_def *k)
{
	return (char *)ld->cfg + k->off;
}

static yaml_node_t *item_node(struct loader *ld, const yaml_node_item_t *it)
{
	return yaml_document_get_node(ld->doc, *it);
}

/* The text of a non-null scalar, or NULL after an error naming what was expected.
 * No message here quotes the value, so secrets go through it too. */
static const char *want_scalar(struct loader *ld, const char *path, const yaml_node_t *n,
			       const char *what)
{
	if (expand_failed(ld, n))
		return NULL;
	if (n->type != YAML_SCALAR_NODE || node_is_null(n)) {
		node_err(ld, n, path, "expected %s, got %s", what, node_kind(n));
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		node_err(ld, n, path, "must not contain NUL bytes");
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static bool want_seq(struct loader *ld, const char *path, const yaml_node_t *n,
		     const char *what)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return true;
	node_err(ld, n, path, "expected %s, got %s", what, node_kind(n));
	return false;
}

static bool get_uint(struct loader *ld, const char *path, const yaml_node_t *n, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	const char *s = want_scalar(ld, path, n, "an integer");
	const char *p = s;
	char buf[SHOW_MAX + 8];
	uint64_t v;

	if (s == NULL)
		return false;
	if (cfg_parse_digits(&p, &v) != 0 || *p != '\0') {
		if (strspn(s, "0123456789") == strlen(s))
			node_err(ld, n, path, "must be between %" PRIu64 " and %" PRIu64 " (got %s)",
				 min, max, cfg_show(s, buf, sizeof(buf)));
		else
			node_err(ld, n, path, "expected an integer (got '%s')",
				 cfg_show(s, buf, sizeof(buf)));
		return false;
	}
	if (v < min || v > max) {
		node_err(ld, n, path, "must be between %" PRIu64 " and %" PRIu64 " (got %s)", min,
			 max, cfg_show(s, buf, sizeof(buf)));
		return false;
	}
	*out = v;
	return true;
}

static bool get_duration(struct loader *ld, const char *path, const yaml_node_t *n,
			 uint64_t min, uint64_t max, int64_t *out)
{
	const char *s = want_scalar(ld, path, n, "a duration");
	char lo[32], hi[32], buf[SHOW_MAX + 8];
	struct sg_err err;
	int64_t v;

	if (s == NULL)
		return false;
	if (config_parse_duration(s, &v, &err) != 0) {
		node_err(ld, n, path, "%s", err.msg);
		return false;
	}
	if ((uint64_t)v < min || (uint64_t)v > max) {
		cfg_fmt_duration(min, lo, sizeof(lo));
		cfg_fmt_duration(max, hi, sizeof(hi));
		node_err(ld, n, path, "must be between %s and %s (got %s)", lo, hi,
			 cfg_show(s, buf, sizeof(buf)));
		return false;
	}
	*out = v;
	return true;
}

static bool get_size(struct loader *ld, const char *path, const yaml_node_t *n, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	const char *s = want_scalar(ld, path, n, "a size");
	char lo[32], hi[32], buf[SHOW_MAX + 8];
	struct sg_err err;
	uint64_t v;

	if (s == NULL)
		return false;
	if (config_parse_size(s, &v, &err) != 0) {
		node_err(ld, n, path, "%s", err.msg);
		return false;
	}
	if (v < min || v > max) {
		cfg_fmt_size(min, lo, sizeof(lo));
		cfg_fmt_size(max, hi, sizeof(hi));
		node_err(ld, n, path, "must be between %s and %s (got %s)", lo, hi,
			 cfg_show(s, buf, sizeof(buf)));
		return false;
	}
	*out = v;
	return true;
}

/* A relative path names a file in $CREDENTIALS_DIRECTORY or next to the
 * config file (config_secret.h). */
static char *resolve_path(struct loader *ld, const char *p)
{
	return cfg_resolve_file(ld->base_dir, p);
}

/* ---- setters, one per kind ------------------------------------------------------ */

static void set_string(struct loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	char **f = field_of(ld, k);
	const char *s = want_scalar(ld, k->name, n, type_what(k->type));
	char buf[SHOW_MAX + 8];
	struct sg_err err;

	if (s == NULL)
		return;
	if (s[0] == '\0') {
		node_err(ld, n, k->name, "must not be empty");
		return;
	}
	switch (k->type) {
	case KT_URL:
		if (!cfg_is_http_url(s)) {
			node_err(ld, n, k->name, "expected an http:// or https:// URL (got '%s')",
				 cfg_show(s, buf, sizeof(buf)));
			return;
		}
		break;
	case KT_ADDR:
		if (cfg_parse_listen(s, &err) != 0) {
			node_err(ld, n, k->name, "%s", err.msg);
			return;
		}
		break;
	case KT_FILE:
		*f = resolve_path(ld, s);
		return;
	default:
		break;
	}
	*f = sg_strdup(s);
}

static void set_path(struct loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	char **f = field_of(ld, k);
	const char *s = want_scalar(ld, k->name, n, "a URL path");
	char buf[SHOW_MAX + 8];
	size_t len;

	if (s == NULL)
		return;
	if (s[0] != '/') {
		node_err(ld, n, k->name, "must start with '/' (got '%s')", cfg_show(s, buf, sizeof(buf)));
		return;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#') {
			node_err(ld, n, k->name,
				 "must not contain spaces, control characters, '?' or '#' (got '%s')",
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

static void set_bool(struct loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	bool *f = field_of(ld, k);
	const char *s = want_scalar(ld, k->name, n, "true or false");
	char buf[SHOW_MAX + 8];

	if (s == NULL)
		return;
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
		*f = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		*f = false;
	else
		node_err(ld, n, k->name, "expected true or false (got '%s')",
			 cfg_show(s, buf, sizeof(buf)));
}

static void set_enum(struct loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	const char *s = want_scalar(ld, k->name, n, "a word");
	char list[256], buf[SHOW_MAX + 8];
	int i;

	if (s == NULL)
		return;
	i = cfg_choice_index(k->choices, s);
	if (i < 0) {
		cfg_choices_list(k->choices, list, sizeof(list));
		node_err(ld, n, k->name, "must be one of %s (got '%s')", list,
			 cfg_show(s, buf, sizeof(buf)));
		return;
	}
	memcpy(field_of(ld, k), &i, sizeof(i));
}

static void set_workers(struct loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	unsigned *f = field_of(ld, k);
	uint64_t v;

	if (expand_failed(ld, n))
		return;
	if (n->type == YAML_SCALAR_NODE && strcmp((const char *)n->data.scalar.value, "auto") == 0) {
		*f = 0;
		return;
	}
	if (n->type == YAML_SCALAR_NODE && !node_is_null(n) &&
	    !isdigit((unsigned char)n->data.scalar.value[0])) {
		char buf[SHOW_MAX + 8];

		node_err(ld, n, k->name, "expected auto or an integer (got '%s')",
			 cfg_show((const char *)n->data.scalar.value, buf, sizeof(buf)));
		return;
	}
	if (get_uint(ld, k->name, n, k->min, k->max, &v))
		*f = (unsigned)v;
}

/* STRV, ORIGINS, LISTEN, NAMESPACES, ALGORITHMS and CIDRS: lists of strings. */
static void set_strv(struct loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	struct sg_strv *f = field_of(ld, k);
	char buf[SHOW_MAX + 8];
	struct sg_err err;

	if (!want_seq(ld, k->name, n, "a list"))
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *in = item_node(ld, it);
		const char *s = want_scalar(ld, k->name, in, "a string");

		if (s == NULL)
			continue;
		if (s[0] == '\0') {
			node_err(ld, in, k->name, "list items must not be empty");
			continue;
		}
		cfg_show(s, buf, sizeof(buf));
		switch (k->type) {
		case KT_ORIGINS:
			if (strcmp(s, "*") != 0 &&
			    (!cfg_is_http_url(s) || strchr(strstr(s, "://") + 3, '/') != NULL)) {
				node_err(ld, in, k->name,
					 "origins are \"*\" or scheme://host[:port] without a path "
					 "(got '%s')",
					 buf);
				continue;
			}
			break;
		case KT_LISTEN:
			if (cfg_parse_listen(s, &err) != 0) {
				node_err(ld, in, k->name, "%s", err.msg);
				continue;
			}
			break;
		case KT_CIDRS: {
			struct cidr c;

			if (cidr_parse(s, &c, &err) != 0) {
				node_err(ld, in, k->name, "%s", err.msg);
				continue;
			}
			break;
		}
		case KT_NAMESPACES:
			if (s[0] != '/') {
				node_err(ld, in, k->name, "namespaces start with '/' (got '%s')", buf);
				continue;
			}
			break;
		case KT_ALGORITHMS:
			if (strcasecmp(s, "none") == 0) {
				node_err(ld, in, k->name,
					 "algorithm 'none' is refused: it would accept unsigned "
					 "tokens");
				continue;
			}
			if (cfg_choice_index(k->choices, s) < 0) {
				char list[256];

				cfg_choices_list(k->choices, list, sizeof(list));
				node_err(ld, in, k->name, "must be one of %s (got '%s')", list, buf);
				continue;
			}
			break;
		default:
			break;
		}
		if (!sg_strv_contains(f, s))
			sg_strv_push(f, s);
	}
	if (k->type == KT_NAMESPACES && !sg_strv_contains(f, "/")) {
		/* "/" is always served: put it first. */
		f->v = sg_realloc(f->v, (f->n + 1) * sizeof(*f->v));
		memmove(f->v + 1, f->v, f->n * sizeof(*f->v));
		f->v[0] = sg_strdup("/");
		f->n++;
	}
	if ((k->type == KT_LISTEN || k->type == KT_ALGORITHMS) && f->n == 0 &&
	    n->data.sequence.items.start == n->data.sequence.items.top)
		node_err(ld, n, k->name, "must list at least one entry");
}

/* TRANSPORTS and TOKEN_FROM: lists of fixed words. */
static void set_choice_list(struct loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	struct sg_config *cfg = ld->cfg;
	unsigned bits = 0;
	size_t count = 0;

	if (!want_seq(ld, k->name, n, "a list"))
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *in = item_node(ld, it);
		const char *s = want_scalar(ld, k->name, in, "a word");
		char list[256], buf[SHOW_MAX + 8];
		int i;

		if (s == NULL)
			continue;
		i = cfg_choice_index(k->choices, s);
		if (i < 0) {
			cfg_choices_list(k->choices, list, sizeof(list));
			node_err(ld, in, k->name, "must be one of %s (got '%s')", list,
				 cfg_show(s, buf, sizeof(buf)));
			continue;
		}
		if (bits & (1u << i)) {
			node_err(ld, in, k->name, "'%s' is listed twice", s);
			continue;
		}
		bits |= 1u << i;
		if (k->type == KT_TOKEN_FROM && count < SG_ARRAY_LEN(cfg->auth.jwt.token_from))
			cfg->auth.jwt.token_from[count++] = (enum sg_token_source)i;
	}
	if (n->data.sequence.items.start == n->data.sequence.items.top) {
		node_err(ld, n, k->name, "must list at least one entry");
		return;
	}
	if (k->type == KT_TRANSPORTS)
		cfg->server.transports = bits; /* bit i is choice i: polling, websocket */
	else
		cfg->auth.jwt.n_token_from = count;
}

static bool check_redis_url(struct loader *ld, const char *path, const yaml_node_t *n,
			    const char *s)
{
	char buf[SHOW_MAX + 8];

	if (strncmp(s, "rediss://", 9) == 0) {
		node_err(ld, n, path, "TLS to Redis (rediss://) is not supported");
		return false;
	}
	if ((strncmp(s, "redis://", 8) == 0 && s[8] != '\0') ||
	    (strncmp(s, "unix://", 7) == 0 && s[7] == '/'))
		return true;
	node_err(ld, n, path, "expected redis://HOST[:PORT][/DB] or unix:///PATH (got '%s')",
		 cfg_show(s, buf, sizeof(buf)));
	return false;
}

static void set_redis_url(struct loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	struct sg_strv *f = field_of(ld, k);

	if (n->type == YAML_SCALAR_NODE) {
		const char *s = want_scalar(ld, k->name, n, "a URL");

		/* An empty string is standalone, like no key at all. */
		if (s != NULL && s[0] != '\0' && check_redis_url(ld, k->name, n, s))
			sg_strv_push(f, s);
		return;
	}
	if (!want_seq(ld, k->name, n, "a URL or a list of URLs"))
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *in = item_node(ld, it);
		const char *s = want_scalar(ld, k->name, in, "a URL");

		if (s != NULL && check_redis_url(ld, k->name, in, s) && !sg_strv_contains(f, s))
			sg_strv_push(f, s);
	}
}

static void set_headers(struct loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	struct sg_strv *names = &ld->cfg->auth.http.header_names;
	struct sg_strv *values = &ld->cfg->auth.http.header_values;
	char buf[SHOW_MAX + 8];

	if (n->type != YAML_MAPPING_NODE) {
		node_err(ld, n, k->name, "expected a mapping of header names to values, got %s",
			 node_kind(n));
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
		const char *name = want_scalar(ld, k->name, kn, "a header name");
		const char *value;
		bool dup = false;

		if (name == NULL)
			continue;
		if (name[0] == '\0' || strspn(name,
					      "!#$%&'*+-.^_`|~0123456789"
					      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
					       strlen(name)) {
			node_err(ld, kn, k->name, "invalid header name '%s'",
				 cfg_show(name, buf, sizeof(buf)));
			continue;
		}
		for (size_t i = 0; i < names->n; i++)
			dup = dup || strcasecmp(names->v[i], name) == 0;
		if (dup) {
			node_err(ld, kn, k->name, "header '%s' is given twice",
				 cfg_show(name, buf, sizeof(buf)));
			continue;
		}
		value = want_scalar(ld, k->name, vn, "a header value");
		if (value == NULL)
			continue;
		if (strpbrk(value, "\r\n") != NULL) {
			node_err(ld, vn, k->name, "the value of header '%s' contains a line break",
				 cfg_show(name, buf, sizeof(buf)));
			continue;
		}
		sg_strv_push(names, name);
		sg_strv_push(values, value);
	}
}

static void free_forward_rule(struct sg_forward_rule *r)
{
	free(r->match);
	free(r->stream);
	free(r->http);
}

/* One events.forward item; false (r freed) when it is invalid. */
static bool parse_forward_rule(struct loader *ld, const char *path, const yaml_node_t *n,
			       struct sg_forward_rule *r)
{
	static const char *const fields[] = {"match", "stream", "http", "timeout"};
	const yaml_node_t *given[SG_ARRAY_LEN(fields)] = {NULL};
	size_t before = ld->n_errs;
	char sub[96], buf[SHOW_MAX + 8];

	memset(r, 0, sizeof(*r));
	r->timeout_ms = FORWARD_TIMEOUT_MS;
	if (n->type != YAML_MAPPING_NODE) {
		node_err(ld, n, path,
			 "expected a mapping {match, stream} or {match, http, timeout}, got %s",
			 node_kind(n));
		return false;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
		const char *name = want_scalar(ld, path, kn, "a key");
		const char *s;
		size_t f;

		if (name == NULL)
			continue;
		for (f = 0; f < SG_ARRAY_LEN(fields); f++)
			if (strcmp(name, fields[f]) == 0)
				break;
		if (f == SG_ARRAY_LEN(fields)) {
			const char *hint = cfg_suggest_among(name, fields, SG_ARRAY_LEN(fields));

			cfg_show(name, buf, sizeof(buf));
			if (hint != NULL)
				node_err(ld, kn, path, "unknown key '%s' (did you mean '%s'?)", buf,
					 hint);
			else
				node_err(ld, kn, path,
					 "unknown key '%s' (rules take match, stream, http, timeout)",
					 buf);
			continue;
		}
		snprintf(sub, sizeof(sub), "%s.%s", path, fields[f]);
		if (given[f] != NULL) {
			node_err(ld, kn, sub, "duplicate key (first given at line %d)",
				 node_line(given[f]));
			continue;
		}
		given[f] = vn;
		if (f == 3) {
			(void)get_duration(ld, sub, vn, 1, FORWARD_TIMEOUT_MAX, &r->timeout_ms);
			continue;
		}
		s = want_scalar(ld, sub, vn, f == 2 ? "an http:// or https:// URL" : "a string");
		if (s == NULL)
			continue;
		if (s[0] == '\0') {
			node_err(ld, vn, sub, "must not be empty");
			continue;
		}
		if (f == 2 && !cfg_is_http_url(s)) {
			node_err(ld, vn, sub, "expected an http:// or https:// URL (got '%s')",
				 cfg_show(s, buf, sizeof(buf)));
			continue;
		}
		if (f == 0)
			r->match = sg_strdup(s);
		else if (f == 1)
			r->stream = sg_strdup(s);
		else
			r->http = sg_strdup(s);
	}
	if (given[0] == NULL)
		node_err(ld, n, path, "a rule needs match");
	if ((given[1] != NULL) == (given[2] != NULL))
		node_err(ld, n, path, "a rule needs exactly one of stream or http");
	else if (given[1] != NULL && given[3] != NULL)
		node_err(ld, given[3], path, "timeout applies to http rules only");
	if (ld->n_errs != before) {
		free_forward_rule(r);
		return false;
	}
	return true;
}

static void set_forward(struct loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	struct sg_config *cfg = ld->cfg;
	size_t i = 0;

	if (!want_seq(ld, k->name, n, "a list of rules"))
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		struct sg_forward_rule r;
		char path[64];

		snprintf(path, sizeof(path), "%s[%zu]", k->name, i);
		if (!parse_forward_rule(ld, path, item_node(ld, it), &r))
			continue;
		cfg->events.forward = sg_realloc(cfg->events.forward,
						 (cfg->events.n_forward + 1) * sizeof(r));
		cfg->events.forward[cfg->events.n_forward++] = r;
	}
}

/* Applies one key's value node (the user's, or its parsed default). */
static void apply_key(struct loader *ld, size_t ki, const yaml_node_t *n)
{
	const struct key_def *k = &config_keys[ki];
	uint64_t u;

	if (node_is_null(n)) {
		char list[256];

		if (k->flags & SG_KF_NULLABLE)
			return; /* null: the field stays unset (NULL, empty) */
		if (k->type == KT_ENUM) {
			cfg_choices_list(k->choices, list, sizeof(list));
			node_err(ld, n, k->name, "missing value (expected one of %s)", list);
		} else {
			node_err(ld, n, k->name, "missing value (expected %s)", type_what(k->type));
		}
		return;
	}
	if (n->type == YAML_MAPPING_NODE && k->type != KT_HEADERS) {
		node_err(ld, n, k->name, "expected %s, got a mapping", type_what(k->type));
		return;
	}
	switch (k->type) {
	case KT_STRING:
	case KT_SECRET:
	case KT_FILE:
	case KT_URL:
	case KT_ADDR:
		set_string(ld, k, n);
		break;
	case KT_PATH:
		set_path(ld, k, n);
		break;
	case KT_BOOL:
		set_bool(ld, k, n);
		break;
	case KT_UINT:
		if (get_uint(ld, k->name, n, k->min, k->max, &u))
			*(unsigned *)field_of(ld, k) = (unsigned)u;
		break;
	case KT_UINT64:
		if (get_uint(ld, k->name, n, k->min, k->max, &u))
			*(uint64_t *)field_of(ld, k) = u;
		break;
	case KT_DURATION:
		(void)get_duration(ld, k->name, n, k->min, k->max, field_of(ld, k));
		break;
	case KT_SIZE:
		(void)get_size(ld, k->name, n, k->min, k->max, field_of(ld, k));
		break;
	case KT_ENUM:
		set_enum(ld, k, n);
		break;
	case KT_STRV:
	case KT_ORIGINS:
	case KT_LISTEN:
	case KT_NAMESPACES:
	case KT_ALGORITHMS:
	case KT_CIDRS:
		set_strv(ld, k, n);
		break;
	case KT_TRANSPORTS:
	case KT_TOKEN_FROM:
		set_choice_list(ld, k, n);
		break;
	case KT_WORKERS:
		set_workers(ld, k, n);
		break;
	case KT_REDIS_URL:
		set_redis_url(ld, k, n);
		break;
	case KT_HEADERS:
		set_headers(ld, k, n);
		break;
	case KT_FORWARD:
		set_forward(ld, k, n);
		break;
	}
}

/* ---- the walk ------------------------------------------------------------------- */

static void walk_mapping(struct loader *ld, const yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
		char path[160], buf[SHOW_MAX + 8], hintbuf[128];
		const char *name, *hint;
		size_t before;
		long ki;

		if (kn->type != YAML_SCALAR_NODE) {
			node_err(ld, kn, prefix[0] ? prefix : NULL, "keys must be names, not %s",
				 node_kind(kn));
			continue;
		}
		name = (const char *)kn->data.scalar.value;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "",
				     name) >= sizeof(path) ||
		    strchr(name, '.') != NULL || name[0] == '\0' ||
		    strlen(name) != kn->data.scalar.length) {
			node_err(ld, kn, NULL, "unknown key '%s%s%s'", prefix, prefix[0] ? "." : "",
				 cfg_show(name, buf, sizeof(buf)));
			continue;
		}
		ki = find_key(path);
		if (ki >= 0) {
			if (ld->key_set[ki]) {
				node_err(ld, kn, path, "duplicate key (first given at line %d)",
					 ld->key_line[ki]);
				continue;
			}
			ld->key_set[ki] = true;
			ld->key_line[ki] = node_line(vn);
			ld->key_col[ki] = node_col(vn);
			before = ld->n_errs;
			apply_key(ld, (size_t)ki, vn);
			ld->key_bad[ki] = ld->key_bad[ki] || ld->n_errs != before;
		} else if (is_section(path)) {
			struct seen_section *s = find_seen(ld, path);

			if (s != NULL) {
				node_err(ld, kn, path, "duplicate key (first given at line %d)",
					 s->line);
				continue;
			}
			ld->seen = sg_realloc(ld->seen, (ld->n_seen + 1) * sizeof(*ld->seen));
			s = &ld->seen[ld->n_seen++];
			s->path = sg_strdup(path);
			s->line = node_line(kn);
			s->col = node_col(kn);
			s->mapping = vn->type == YAML_MAPPING_NODE;
			if (vn->type == YAML_MAPPING_NODE)
				walk_mapping(ld, vn, path);
			else if (!node_is_null(vn))
				node_err(ld, vn, path, "expected a mapping, got %s", node_kind(vn));
		} else {
			hint = suggest(path, hintbuf, sizeof(hintbuf));
			if (hint != NULL)
				node_err(ld, kn, NULL, "unknown key '%s' (did you mean '%s'?)",
					 cfg_show(path, buf, sizeof(buf)), hint);
			else
				node_err(ld, kn, NULL, "unknown key '%s'", cfg_show(path, buf, sizeof(buf)));
		}
	}
}

/* Every key the user did not give gets its default, parsed from the table. */
static void apply_defaults(struct loader *ld)
{
	yaml_document_t *user_doc = ld->doc;

	ld->defaults = true;
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		yaml_parser_t parser;
		yaml_document_t doc;
		yaml_node_t *root;

		if (ld->key_set[i])
			continue;
		if (!yaml_parser_initialize(&parser))
			sg_fatal("yaml_parser_initialize failed");
		yaml_parser_set_input_string(&parser, (const unsigned char *)config_keys[i].def,
					     strlen(config_keys[i].def));
		if (!yaml_parser_load(&parser, &doc))
			sg_fatal("config_keys.def: default of %s: %s", config_keys[i].name,
				 parser.problem ? parser.problem : "YAML error");
		root = yaml_document_get_root_node(&doc);
		if (root == NULL)
			sg_fatal("config_keys.def: default of %s is empty", config_keys[i].name);
		ld->doc = &doc;
		apply_key(ld, i, root);
		yaml_document_delete(&doc);
		yaml_parser_delete(&parser);
	}
	ld->doc = user_doc;
	ld->defaults = false;
}

/* ---- files the config names ------------------------------------------------------ */

static void load_secret_file(struct loader *ld)
{
	static const char key[] = "auth.jwt.secret_file";
	struct sg_config *cfg = ld->cfg;
	struct sg_err err = { 0 };
	int line = 0, col = 0;
	struct sg_buf b;

	if (cfg->auth.jwt.secret_file == NULL || cfg->auth.jwt.secret != NULL)
		return;
	sg_buf_init(&b);
	if (cfg_read_secret_file(cfg->auth.jwt.secret_file, SECRET_MAX_FILE, &b, &err) != 0) {
		(void)pos_of(ld, key, &line, &col);
		add_err(ld, line, col, key, "%s", err.msg);
		sg_buf_fini(&b);
		return;
	}
	cfg->auth.jwt.secret_len = b.len;
	cfg->auth.jwt.secret = sg_buf_steal(&b);
}

/* An HMAC key that is a placeholder, or shorter than the hash of an HS*
 * algorithm it is listed for, is refused (config_secret.h). */
static void check_secret_strength(struct loader *ld)
{
	const struct sg_config *cfg = ld->cfg;
	const char *file = cfg->auth.jwt.secret_file;
	const char *key = file != NULL ? "auth.jwt.secret_file" : "auth.jwt.secret";
	int line = 0, col = 0;
	struct sg_buf msg;

	if (cfg->auth.jwt.secret == NULL || bad(ld, "auth.jwt.secret") ||
	    bad(ld, "auth.jwt.secret_file") || bad(ld, "auth.jwt.algorithms") ||
	    (given(ld, "auth.jwt.secret") && file != NULL))
		return; /* already an error */
	sg_buf_init(&msg);
	if (cfg_check_hmac_key(cfg->auth.jwt.secret, cfg->auth.jwt.secret_len, file,
			       &cfg->auth.jwt.algorithms, &msg) != 0) {
		(void)pos_of(ld, key, &line, &col);
		add_err(ld, line, col, key, "%s", msg.data);
	}
	sg_buf_fini(&msg);
}

static void check_token_file(struct loader *ld)
{
	static const char key[] = "admin.token_file";
	struct sg_err err = { 0 };
	int line = 0, col = 0;
	struct sg_buf b;

	if (ld->cfg->admin.token_file == NULL)
		return;
	sg_buf_init(&b);
	if (cfg_read_secret_file(ld->cfg->admin.token_file, SECRET_MAX_FILE, &b, &err) != 0 ||
	    cfg_check_admin_token(b.data, b.len, &err) != 0) {
		(void)pos_of(ld, key, &line, &col);
		add_err(ld, line, col, key, "%s", err.msg);
	}
	if (b.data != NULL)
		explicit_bzero(b.data, b.cap);
	sg_buf_fini(&b);
}

/* ---- cross-key checks -------------------------------------------------------------- */

static void check_cross(struct loader *ld)
{
	struct sg_config *cfg = ld->cfg;
	struct seen_section *s;
	int line = 0, col = 0;

	s = find_seen(ld, "server.tls");
	if (s != NULL && s->mapping && (!given(ld, "server.tls.cert") || !given(ld, "server.tls.key")))
		add_err(ld, s->line, s->col, "server.tls", "needs both cert and key");
	s = find_seen(ld, "rooms.http");
	if (s != NULL && s->mapping && !given(ld, "rooms.http.url"))
		add_err(ld, s->line, s->col, "rooms.http", "needs url (or write rooms.http: null)");
	for (size_t i = 0; i < cfg->rooms.allow.n; i++) {
		struct sg_err rerr = { 0 };
		if (room_rule_check(cfg->rooms.allow.v[i], &rerr) != 0) {
			(void)pos_of(ld, "rooms.allow", &line, &col);
			add_err(ld, line, col, "rooms.allow", "%s", rerr.msg);
		}
	}

	if (cfg->auth.jwt.secret != NULL && cfg->auth.jwt.secret_file != NULL) {
		(void)pos_of(ld, "auth.jwt.secret_file", &line, &col);
		add_err(ld, line, col, "auth.jwt.secret_file",
			"give either auth.jwt.secret or auth.jwt.secret_file, not both");
	}
	load_secret_file(ld);
	if (cfg->auth.jwt.secret != NULL && cfg->auth.jwt.secret_len == 0)
		cfg->auth.jwt.secret_len = strlen(cfg->auth.jwt.secret);
	check_secret_strength(ld);
	check_token_file(ld);

	/* With JWT settings left alone the config is still valid: no key is
	 * configured, so every authenticate is refused (a secure default). */
	if (cfg->auth.verifier == SG_VERIFIER_JWT && auth_configured(ld) &&
	    !bad(ld, "auth.jwt.algorithms") && !bad(ld, "auth.jwt.secret") &&
	    !bad(ld, "auth.jwt.secret_file") && !bad(ld, "auth.jwt.public_key_file") &&
	    !bad(ld, "auth.jwt.jwks_file")) {
		const char *hs = NULL, *pk = NULL;

		for (size_t i = 0; i < cfg->auth.jwt.algorithms.n; i++) {
			const char *a = cfg->auth.jwt.algorithms.v[i];

			if (a[0] == 'H' && hs == NULL)
				hs = a;
			else if (a[0] != 'H' && pk == NULL)
				pk = a;
		}
		if (!pos_of(ld, "auth.jwt.algorithms", &line, &col) &&
		    !pos_of(ld, "auth.jwt", &line, &col) && !pos_of(ld, "auth.verifier", &line, &col) &&
		    !pos_of(ld, "auth", &line, &col))
			line = col = 0;
		if (hs != NULL && cfg->auth.jwt.secret == NULL && cfg->auth.jwt.secret_file == NULL)
			add_err(ld, line, col, "auth.jwt.secret",
				"required by %s (or give auth.jwt.secret_file)", hs);
		if (pk != NULL && cfg->auth.jwt.public_key_file == NULL &&
		    cfg->auth.jwt.jwks_file == NULL)
			add_err(ld, line, col, "auth.jwt.public_key_file",
				"required by %s (or give auth.jwt.jwks_file)", pk);
	} else if (cfg->auth.verifier == SG_VERIFIER_HTTP && !given(ld, "auth.http.url")) {
		if (!pos_of(ld, "auth.verifier", &line, &col))
			line = col = 0;
		add_err(ld, line, col, "auth.http.url", "required when auth.verifier is http");
	}

	if (cfg->server.drain_window_ms > cfg->server.shutdown_timeout_ms &&
	    !bad(ld, "server.drain_window") && !bad(ld, "server.shutdown_timeout")) {
		char a[32], b[32];

		if (!pos_of(ld, "server.drain_window", &line, &col))
			(void)pos_of(ld, "server.shutdown_timeout", &line, &col);
		cfg_fmt_duration((uint64_t)cfg->server.drain_window_ms, a, sizeof(a));
		cfg_fmt_duration((uint64_t)cfg->server.shutdown_timeout_ms, b, sizeof(b));
		add_err(ld, line, col, "server.drain_window",
			"%s is longer than server.shutdown_timeout (%s)", a, b);
	}
	if (cfg->limits.output_soft > cfg->limits.output_hard && !bad(ld, "limits.output_soft") &&
	    !bad(ld, "limits.output_hard")) {
		char a[32], b[32];

		if (!pos_of(ld, "limits.output_soft", &line, &col))
			(void)pos_of(ld, "limits.output_hard", &line, &col);
		cfg_fmt_size(cfg->limits.output_soft, a, sizeof(a));
		cfg_fmt_size(cfg->limits.output_hard, b, sizeof(b));
		add_err(ld, line, col, "limits.output_soft", "%s is more than limits.output_hard (%s)",
			a, b);
	}

	if (cfg->server.proxy_protocol && cfg->server.trusted_proxies.n == 0 &&
	    !bad(ld, "server.trusted_proxies")) {
		(void)pos_of(ld, "server.proxy_protocol", &line, &col);
		add_err(ld, line, col, "server.proxy_protocol",
			"needs server.trusted_proxies: the PROXY header is taken from those peers only");
	}

	if (cfg->server.id == NULL) {
		char host[256];

		if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "siogate");
		host[sizeof(host) - 1] = '\0';
		cfg->server.id = sg_strdup(host);
	}
}

/* ---- loading -------------------------------------------------------------------- */

static void yaml_syntax_err(struct loader *ld, const yaml_parser_t *p, const char *text,
			    size_t len)
{
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;

	if (p->error == YAML_READER_ERROR) {
		/* The reader reports an offset, not a mark. */
		line = 1;
		col = 1;
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
	}
	add_err(ld, line, col, NULL, "YAML syntax error: %s",
		p->problem ? p->problem : "malformed document");
}

static void loader_fini(struct loader *ld)
{
	for (size_t i = 0; i < ld->n_seen; i++)
		free(ld->seen[i].path);
	free(ld->seen);
	free(ld->base_dir);
	for (size_t i = 0; i < ld->n_errs; i++)
		free(ld->errs[i].text);
	free(ld->errs);
}

static struct sg_config *load_text(const char *name, const char *base_dir, const char *text,
				   size_t len, struct sg_config_errors *errs)
{
	struct loader ld;
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	struct sg_config *cfg;

	memset(&ld, 0, sizeof(ld));
	cfg = sg_calloc(1, sizeof(*cfg));
	cfg->file = sg_strdup(name);
	ld.cfg = cfg;
	ld.name = name;
	ld.base_dir = base_dir ? sg_strdup(base_dir) : NULL;

	if (len > CONFIG_MAX_FILE_BYTES) {
		char cap[32];

		cfg_fmt_size(CONFIG_MAX_FILE_BYTES, cap, sizeof(cap));
		add_err(&ld, 0, 0, NULL, "larger than %s (the cap on configuration files)", cap);
		goto fail;
	}
	{
		int line, col;

		if (cfg_depth_exceeded(text, len, CONFIG_MAX_DEPTH, &line, &col)) {
			add_err(&ld, line, col, NULL,
				"lists and mappings nested deeper than %d levels (the cap on "
				"configuration files)",
				CONFIG_MAX_DEPTH);
			goto fail;
		}
	}
	if (!yaml_parser_initialize(&parser))
		sg_fatal("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_syntax_err(&ld, &parser, text, len);
		yaml_parser_delete(&parser);
		goto fail;
	}
	root = yaml_document_get_root_node(&doc);
	if (root != NULL) {
		/* A second document is a mistake (a stray ---), not ignored text. */
		if (!yaml_parser_load(&parser, &extra)) {
			yaml_syntax_err(&ld, &parser, text, len);
		} else {
			yaml_node_t *r2 = yaml_document_get_root_node(&extra);

			if (r2 != NULL)
				add_err(&ld, node_line(r2), node_col(r2), NULL,
					"only one YAML document is allowed");
			yaml_document_delete(&extra);
		}
	}
	ld.doc = &doc;
	ld.user_doc = &doc;
	ld.n_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
	ld.expand_failed = sg_calloc(ld.n_nodes ? ld.n_nodes : 1, sizeof(*ld.expand_failed));
	(void)cfg_expand_document(&doc, on_expand_err, &ld);
	if (root != NULL && root->type == YAML_MAPPING_NODE)
		walk_mapping(&ld, root, "");
	else if (root != NULL && !node_is_null(root))
		node_err(&ld, root, NULL, "the top level must be a mapping of sections, not %s",
			 node_kind(root));
	apply_defaults(&ld);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	ld.doc = NULL;
	ld.user_doc = NULL;
	free(ld.expand_failed);
	ld.expand_failed = NULL;
	check_cross(&ld);
	if (ld.n_errs == 0) {
		loader_fini(&ld);
		return cfg;
	}
fail:
	finish_errors(&ld, errs);
	loader_fini(&ld);
	config_free(cfg);
	return NULL;
}

struct sg_config *config_load_string(const char *name, const char *text, size_t len,
				     struct sg_config_errors *errs)
{
	return load_text(name, NULL, text, len, errs);
}

struct sg_config *config_load(const char *path, struct sg_config_errors *errs)
{
	struct sg_config *cfg;
	struct sg_buf b;
	const char *slash;
	char *dir = NULL;
	FILE *f;

	f = fopen(path, "re");
	if (f == NULL)
		goto fail;
	sg_buf_init(&b);
	for (;;) {
		size_t r;

		sg_buf_reserve(&b, 65536);
		r = fread(b.data + b.len, 1, 65536, f);
		b.len += r;
		b.data[b.len] = '\0';
		if (r == 0)
			break;
		if (b.len > CONFIG_MAX_FILE_BYTES)
			break; /* load_text reports the cap */
	}
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		sg_buf_fini(&b);
		errno = e;
		goto fail;
	}
	fclose(f);
	slash = strrchr(path, '/');
	if (slash != NULL)
		dir = sg_strndup(path, slash == path ? 1 : (size_t)(slash - path));
	cfg = load_text(path, dir, b.data, b.len, errs);
	free(dir);
	sg_buf_fini(&b);
	return cfg;
fail:
	if (errs != NULL) {
		struct sg_buf e;

		sg_buf_init(&e);
		sg_buf_printf(&e, "%s: cannot read: %s", path, strerror(errno));
		errs->v = sg_realloc(errs->v, (errs->n + 1) * sizeof(*errs->v));
		errs->v[errs->n++] = sg_buf_steal(&e);
	}
	return NULL;
}

void config_free(struct sg_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		void *f = (char *)cfg + config_keys[i].off;

		switch (config_keys[i].type) {
		case KT_STRING:
		case KT_FILE:
		case KT_URL:
		case KT_ADDR:
		case KT_PATH:
			free(*(char **)f);
			break;
		case KT_SECRET:
			/* The only SECRET key is auth.jwt.secret: its length is known. */
			if (*(char **)f != NULL)
				explicit_bzero(*(char **)f, cfg->auth.jwt.secret_len);
			free(*(char **)f);
			break;
		case KT_STRV:
		case KT_ORIGINS:
		case KT_LISTEN:
		case KT_NAMESPACES:
		case KT_ALGORITHMS:
		case KT_REDIS_URL:
		case KT_CIDRS:
			sg_strv_free(f);
			break;
		case KT_HEADERS:
			sg_strv_free(&cfg->auth.http.header_names);
			sg_strv_free(&cfg->auth.http.header_values);
			break;
		case KT_FORWARD:
			for (size_t j = 0; j < cfg->events.n_forward; j++)
				free_forward_rule(&cfg->events.forward[j]);
			free(cfg->events.forward);
			break;
		default:
			break;
		}
	}
	free(cfg->file);
	free(cfg);
}

const char *config_key_name(size_t i)
{
	return i < CONFIG_N_KEYS ? config_keys[i].name : NULL;
}
