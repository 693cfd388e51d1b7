/*
 * config_loader.c: the state of one configuration load (config_loader.h):
 * errors collected with the position of the node at fault and sorted into
 * document order at the end, YAML nodes read into typed values with an
 * error naming what was expected, and the record of the keys and sections
 * the user gave.  A value whose ${NAME} expansion failed has had its one
 * message: nothing here reports it again.
 */
#include "config/config_loader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_value.h"

static void vadd_err(struct cfg_loader *ld, int line, int col, const char *key, const char *fmt,
		     va_list ap) SG_PRINTF(5, 0);
static int cmp_err(const void *a, const void *b);
static bool get_measure(struct cfg_loader *ld, const char *path, const yaml_node_t *n,
			bool duration, uint64_t min, uint64_t max, uint64_t *out);

/* ---- errors ---------------------------------------------------------------- */

static void vadd_err(struct cfg_loader *ld, int line, int col, const char *key, const char *fmt,
		     va_list ap)
{
	struct sg_buf b;
	struct cfg_pending_err *e;

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

void cfg_add_err(struct cfg_loader *ld, int line, int col, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd_err(ld, line, col, key, fmt, ap);
	va_end(ap);
}

void cfg_node_err(struct cfg_loader *ld, const yaml_node_t *n, const char *key, const char *fmt,
		  ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd_err(ld, cfg_node_line(n), cfg_node_col(n), key, fmt, ap);
	va_end(ap);
}

/* A problem of the ${NAME} expansion, at the value it is in. */
void cfg_on_expand_err(void *ctx, const yaml_node_t *n, const char *path, const char *msg)
{
	struct cfg_loader *ld = ctx;
	size_t idx = (size_t)(n - ld->user_doc->nodes.start);
	char buf[SHOW_MAX + 8];

	cfg_node_err(ld, n, path[0] ? cfg_show(path, buf, sizeof(buf)) : NULL, "%s", msg);
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
bool cfg_expand_failed(struct cfg_loader *ld, const yaml_node_t *n)
{
	size_t idx;

	if (ld->doc != ld->user_doc || ld->expand_failed == NULL)
		return false;
	idx = (size_t)(n - ld->user_doc->nodes.start);
	return idx < ld->n_nodes && ld->expand_failed[idx];
}

static int cmp_err(const void *a, const void *b)
{
	const struct cfg_pending_err *x = a, *y = b;

	/* Positioned errors first, in document order; then the others. */
	if ((x->line == 0) != (y->line == 0))
		return x->line == 0 ? 1 : -1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cfg_finish_errors(struct cfg_loader *ld, struct sg_config_errors *errs)
{
	qsort(ld->errs, ld->n_errs, sizeof(*ld->errs), cmp_err);
	for (size_t i = 0; i < ld->n_errs; i++) {
		struct cfg_pending_err *e = &ld->errs[i];
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

void cfg_loader_fini(struct cfg_loader *ld)
{
	for (size_t i = 0; i < ld->n_seen; i++)
		free(ld->seen[i].path);
	free(ld->seen);
	free(ld->base_dir);
	for (size_t i = 0; i < ld->n_errs; i++)
		free(ld->errs[i].text);
	free(ld->errs);
}

/* ---- nodes ------------------------------------------------------------------ */

int cfg_node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

int cfg_node_col(const yaml_node_t *n)
{
	return (int)n->start_mark.column + 1;
}

bool cfg_node_is_null(const yaml_node_t *n)
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

const char *cfg_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		return cfg_node_is_null(n) ? "null" : "a scalar";
	default:
		return "nothing";
	}
}

yaml_node_t *cfg_doc_node(struct cfg_loader *ld, int index)
{
	return yaml_document_get_node(ld->doc, index);
}

/* The text of a non-null scalar, or NULL after an error naming what was expected.
 * No message here quotes the value, so secrets go through it too. */
const char *cfg_want_scalar(struct cfg_loader *ld, const char *path, const yaml_node_t *n,
			    const char *what)
{
	if (cfg_expand_failed(ld, n))
		return NULL;
	if (n->type != YAML_SCALAR_NODE || cfg_node_is_null(n)) {
		cfg_node_err(ld, n, path, "expected %s, got %s", what, cfg_node_kind(n));
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		cfg_node_err(ld, n, path, "must not contain NUL bytes");
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

int cfg_want_choice(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n,
		    const char *s)
{
	char list[256], buf[SHOW_MAX + 8];
	int i = cfg_choice_index(k->choices, s);

	if (i < 0) {
		cfg_choices_list(k->choices, list, sizeof(list));
		cfg_node_err(ld, n, k->name, "must be one of %s (got '%s')", list,
			     cfg_show(s, buf, sizeof(buf)));
	}
	return i;
}

bool cfg_want_seq(struct cfg_loader *ld, const char *path, const yaml_node_t *n, const char *what)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return true;
	cfg_node_err(ld, n, path, "expected %s, got %s", what, cfg_node_kind(n));
	return false;
}

bool cfg_get_uint(struct cfg_loader *ld, const char *path, const yaml_node_t *n, uint64_t min,
		  uint64_t max, uint64_t *out)
{
	const char *s = cfg_want_scalar(ld, path, n, "an integer");
	const char *p = s;
	char buf[SHOW_MAX + 8];
	uint64_t v;

	if (s == NULL)
		return false;
	if (cfg_parse_digits(&p, &v) != 0 || *p != '\0') {
		if (strspn(s, "0123456789") == strlen(s))
			cfg_node_err(ld, n, path,
				     "must be between %" PRIu64 " and %" PRIu64 " (got %s)", min,
				     max, cfg_show(s, buf, sizeof(buf)));
		else
			cfg_node_err(ld, n, path, "expected an integer (got '%s')",
				     cfg_show(s, buf, sizeof(buf)));
		return false;
	}
	if (v < min || v > max) {
		cfg_node_err(ld, n, path, "must be between %" PRIu64 " and %" PRIu64 " (got %s)",
			     min, max, cfg_show(s, buf, sizeof(buf)));
		return false;
	}
	*out = v;
	return true;
}

/* A duration (ms) or a size (bytes) in [min, max]: the two differ only in
 * how they are written. */
static bool get_measure(struct cfg_loader *ld, const char *path, const yaml_node_t *n,
			bool duration, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = cfg_want_scalar(ld, path, n, duration ? "a duration" : "a size");
	void (*fmt)(uint64_t, char *, size_t) = duration ? cfg_fmt_duration : cfg_fmt_size;
	char lo[32], hi[32], buf[SHOW_MAX + 8];
	struct sg_err err;
	int64_t ms = 0;
	uint64_t v = 0;

	if (s == NULL)
		return false;
	if ((duration ? config_parse_duration(s, &ms, &err) : config_parse_size(s, &v, &err)) !=
	    0) {
		cfg_node_err(ld, n, path, "%s", err.msg);
		return false;
	}
	if (duration)
		v = (uint64_t)ms; /* never negative: parsed from digits */
	if (v < min || v > max) {
		fmt(min, lo, sizeof(lo));
		fmt(max, hi, sizeof(hi));
		cfg_node_err(ld, n, path, "must be between %s and %s (got %s)", lo, hi,
			     cfg_show(s, buf, sizeof(buf)));
		return false;
	}
	*out = v;
	return true;
}

bool cfg_get_duration(struct cfg_loader *ld, const char *path, const yaml_node_t *n, uint64_t min,
		      uint64_t max, int64_t *out)
{
	uint64_t v;

	if (!get_measure(ld, path, n, true, min, max, &v))
		return false;
	*out = (int64_t)v;
	return true;
}

bool cfg_get_size(struct cfg_loader *ld, const char *path, const yaml_node_t *n, uint64_t min,
		  uint64_t max, uint64_t *out)
{
	return get_measure(ld, path, n, false, min, max, out);
}

/* ---- keys and sections given ------------------------------------------------ */

long cfg_find_key(const char *path)
{
	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		if (strcmp(config_keys[i].name, path) == 0)
			return (long)i;
	return -1;
}

struct cfg_seen_section *cfg_find_seen(struct cfg_loader *ld, const char *path)
{
	for (size_t i = 0; i < ld->n_seen; i++)
		if (strcmp(ld->seen[i].path, path) == 0)
			return &ld->seen[i];
	return NULL;
}

/* Position of a key or section the user wrote; false when absent. */
bool cfg_pos_of(struct cfg_loader *ld, const char *path, int *line, int *col)
{
	long ki = cfg_find_key(path);
	struct cfg_seen_section *s;

	if (ki >= 0 && ld->key_set[ki]) {
		*line = ld->key_line[ki];
		*col = ld->key_col[ki];
		return true;
	}
	s = cfg_find_seen(ld, path);
	if (s != NULL) {
		*line = s->line;
		*col = s->col;
		return true;
	}
	return false;
}

/* Did the user give this key (whether or not its value was valid)? */
bool cfg_given(struct cfg_loader *ld, const char *path)
{
	long ki = cfg_find_key(path);

	if (ki < 0)
		sg_fatal("no config key %s", path);
	return ld->key_set[ki];
}

/* Was the key given with a value that already produced an error? */
bool cfg_bad(struct cfg_loader *ld, const char *path)
{
	long ki = cfg_find_key(path);

	if (ki < 0)
		sg_fatal("no config key %s", path);
	return ld->key_bad[ki];
}
