/*
 * config.c: YAML text to a validated, immutable struct sg_config.  The key
 * table (config_keys.def) is the single source of truth: the walker accepts
 * exactly its dotted paths, defaults are its YAML default texts parsed by the
 * same code as user values, and each value is parsed, and later freed, by the
 * operations of its key's type (config_type.h).  Invariant: a snapshot is
 * returned only when no error at all was found; every problem is collected
 * (with the libyaml line and column of the node at fault) before giving up,
 * and no secret value ever reaches a message.
 */
#include "config/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/config_check.h"
#include "config/config_loader.h"
#include "config/config_table.h"
#include "config/config_type.h"
#include "config/config_value.h"
#include "config/config_yaml.h"

static bool is_section(const char *path);
static const char *suggest(const char *path, char *best, size_t size);
static void apply_key(struct cfg_loader *ld, size_t ki, const yaml_node_t *n);
static void walk_mapping(struct cfg_loader *ld, const yaml_node_t *map, const char *prefix);
static void apply_defaults(struct cfg_loader *ld);
static void yaml_syntax_err(struct cfg_loader *ld, const yaml_parser_t *p, const char *text,
			    size_t len);
static struct sg_config *load_text(const char *name, const char *base_dir, const char *text,
				   size_t len, struct sg_config_errors *errs);

/* ---- the walk ------------------------------------------------------------------- */

static bool is_section(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		if (strncmp(config_keys[i].name, path, n) == 0 && config_keys[i].name[n] == '.')
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

/* Applies one key's value node (the user's, or its parsed default). */
static void apply_key(struct cfg_loader *ld, size_t ki, const yaml_node_t *n)
{
	const struct key_def *k = &config_keys[ki];
	const struct cfg_type *t = cfg_type_of(k);

	if (cfg_node_is_null(n)) {
		char list[256];

		if (k->flags & SG_KF_NULLABLE)
			return; /* null: the field stays unset (NULL, empty) */
		if (t->flags & CFG_TF_CHOICE) {
			cfg_choices_list(k->choices, list, sizeof(list));
			cfg_node_err(ld, n, k->name, "missing value (expected one of %s)", list);
		} else {
			cfg_node_err(ld, n, k->name, "missing value (expected %s)", t->what);
		}
		return;
	}
	if (n->type == YAML_MAPPING_NODE && !(t->flags & CFG_TF_MAPPING)) {
		cfg_node_err(ld, n, k->name, "expected %s, got a mapping", t->what);
		return;
	}
	t->parse(ld, k, n);
}

static void walk_mapping(struct cfg_loader *ld, const yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = cfg_doc_node(ld, p->key);
		yaml_node_t *vn = cfg_doc_node(ld, p->value);
		char path[160], buf[SHOW_MAX + 8], hintbuf[128];
		const char *name, *hint;
		size_t before;
		long ki;

		if (kn->type != YAML_SCALAR_NODE) {
			cfg_node_err(ld, kn, prefix[0] ? prefix : NULL,
				     "keys must be names, not %s", cfg_node_kind(kn));
			continue;
		}
		name = (const char *)kn->data.scalar.value;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "",
				     name) >= sizeof(path) ||
		    strchr(name, '.') != NULL || name[0] == '\0' ||
		    strlen(name) != kn->data.scalar.length) {
			cfg_node_err(ld, kn, NULL, "unknown key '%s%s%s'", prefix,
				     prefix[0] ? "." : "", cfg_show(name, buf, sizeof(buf)));
			continue;
		}
		ki = cfg_find_key(path);
		if (ki >= 0) {
			if (ld->key_set[ki]) {
				cfg_node_err(ld, kn, path, "duplicate key (first given at line %d)",
					     ld->key_line[ki]);
				continue;
			}
			ld->key_set[ki] = true;
			ld->key_line[ki] = cfg_node_line(vn);
			ld->key_col[ki] = cfg_node_col(vn);
			before = ld->n_errs;
			apply_key(ld, (size_t)ki, vn);
			ld->key_bad[ki] = ld->key_bad[ki] || ld->n_errs != before;
		} else if (is_section(path)) {
			struct cfg_seen_section *s = cfg_find_seen(ld, path);

			if (s != NULL) {
				cfg_node_err(ld, kn, path, "duplicate key (first given at line %d)",
					     s->line);
				continue;
			}
			ld->seen = sg_realloc(ld->seen, (ld->n_seen + 1) * sizeof(*ld->seen));
			s = &ld->seen[ld->n_seen++];
			s->path = sg_strdup(path);
			s->line = cfg_node_line(kn);
			s->col = cfg_node_col(kn);
			s->mapping = vn->type == YAML_MAPPING_NODE;
			if (vn->type == YAML_MAPPING_NODE)
				walk_mapping(ld, vn, path);
			else if (!cfg_node_is_null(vn))
				cfg_node_err(ld, vn, path, "expected a mapping, got %s",
					     cfg_node_kind(vn));
		} else {
			hint = suggest(path, hintbuf, sizeof(hintbuf));
			if (hint != NULL)
				cfg_node_err(ld, kn, NULL, "unknown key '%s' (did you mean '%s'?)",
					     cfg_show(path, buf, sizeof(buf)), hint);
			else
				cfg_node_err(ld, kn, NULL, "unknown key '%s'",
					     cfg_show(path, buf, sizeof(buf)));
		}
	}
}

/* Every key the user did not give gets its default, parsed from the table. */
static void apply_defaults(struct cfg_loader *ld)
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

/* ---- loading -------------------------------------------------------------------- */

static void yaml_syntax_err(struct cfg_loader *ld, const yaml_parser_t *p, const char *text,
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
	cfg_add_err(ld, line, col, NULL, "YAML syntax error: %s",
		    p->problem ? p->problem : "malformed document");
}

static struct sg_config *load_text(const char *name, const char *base_dir, const char *text,
				   size_t len, struct sg_config_errors *errs)
{
	struct cfg_loader ld;
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
		cfg_add_err(&ld, 0, 0, NULL, "larger than %s (the cap on configuration files)",
			    cap);
		goto fail;
	}
	{
		int line, col;

		if (cfg_depth_exceeded(text, len, CONFIG_MAX_DEPTH, &line, &col)) {
			cfg_add_err(&ld, line, col, NULL,
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
				cfg_add_err(&ld, cfg_node_line(r2), cfg_node_col(r2), NULL,
					    "only one YAML document is allowed");
			yaml_document_delete(&extra);
		}
	}
	ld.doc = &doc;
	ld.user_doc = &doc;
	ld.n_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
	ld.expand_failed = sg_calloc(ld.n_nodes ? ld.n_nodes : 1, sizeof(*ld.expand_failed));
	(void)cfg_expand_document(&doc, cfg_on_expand_err, &ld);
	if (root != NULL && root->type == YAML_MAPPING_NODE)
		walk_mapping(&ld, root, "");
	else if (root != NULL && !cfg_node_is_null(root))
		cfg_node_err(&ld, root, NULL, "the top level must be a mapping of sections, not %s",
			     cfg_node_kind(root));
	apply_defaults(&ld);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	ld.doc = NULL;
	ld.user_doc = NULL;
	free(ld.expand_failed);
	ld.expand_failed = NULL;
	cfg_check_cross(&ld);
	if (ld.n_errs == 0) {
		cfg_loader_fini(&ld);
		return cfg;
	}
fail:
	cfg_finish_errors(&ld, errs);
	cfg_loader_fini(&ld);
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
	for (size_t i = 0; i < CONFIG_N_KEYS; i++)
		cfg_type_of(&config_keys[i])->free(cfg, &config_keys[i]);
	free(cfg->file);
	free(cfg);
}

const char *config_key_name(size_t i)
{
	return i < CONFIG_N_KEYS ? config_keys[i].name : NULL;
}
