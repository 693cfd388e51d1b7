/*
 * config_loader.h: the state of one configuration load, shared by the files
 * of the loader (config.c walks the document, config_type*.c parse the
 * values, config_check.c checks keys against each other): the snapshot being
 * filled, the errors found so far with their positions, which keys and
 * sections the user gave, and the access to YAML nodes that reports what is
 * wrong with a node at its line and column.  For config*.c only.
 */
#ifndef SG_CONFIG_LOADER_H
#define SG_CONFIG_LOADER_H

#include <stdarg.h>
#include <stdint.h>
#include <yaml.h>

#include "config/config.h"
#include "config/config_table.h"

/* An error before formatting: sorted by position at the end. */
struct cfg_pending_err {
	int line; /* 0 = no position */
	int col;
	size_t seq;
	char *text; /* "key: message" */
};

/* A section mapping met in the document. */
struct cfg_seen_section {
	char *path;
	int line; /* of its key */
	int col;
	bool mapping; /* given as a mapping (not null) */
};

struct cfg_loader {
	struct sg_config *cfg;
	const char *name;     /* file name in messages */
	char *base_dir;	      /* relative paths are resolved here; NULL = as given */
	yaml_document_t *doc; /* the document nodes are looked up in */
	bool defaults;	      /* applying the table's defaults: errors are bugs */
	struct cfg_pending_err *errs;
	size_t n_errs;
	struct cfg_seen_section *seen;
	size_t n_seen;
	bool key_set[CONFIG_N_KEYS];
	bool key_bad[CONFIG_N_KEYS]; /* given, but its value had an error */
	int key_line[CONFIG_N_KEYS];
	int key_col[CONFIG_N_KEYS];
	yaml_document_t *user_doc; /* the document of the file */
	bool *expand_failed;	   /* by node index of user_doc: ${NAME} failed there */
	size_t n_nodes;
};

/* ---- errors ---- */

/* Records "key: message" (key may be NULL) at line:col (0 = no position).
 * While the table's defaults are applied an error is a bug: sg_fatal. */
void cfg_add_err(struct cfg_loader *ld, int line, int col, const char *key, const char *fmt, ...)
	SG_PRINTF(5, 6);
/* The same at the position of node n. */
void cfg_node_err(struct cfg_loader *ld, const yaml_node_t *n, const char *key, const char *fmt,
		  ...) SG_PRINTF(4, 5);
/* A cfg_expand_err_fn (config_yaml.h) for the user's document: reports the
 * problem, and marks the node and the key it belongs to as already bad. */
void cfg_on_expand_err(void *ctx, const yaml_node_t *n, const char *path, const char *msg);
/* Moves the errors, sorted by position and formatted as "FILE:LINE:COL:
 * ..." or "FILE: ...", to errs (dropped when errs is NULL). */
void cfg_finish_errors(struct cfg_loader *ld, struct sg_config_errors *errs);
/* Frees what the loader owns (not the snapshot). */
void cfg_loader_fini(struct cfg_loader *ld);

/* ---- nodes ---- */

int cfg_node_line(const yaml_node_t *n);
int cfg_node_col(const yaml_node_t *n);
/* Whether n is a plain null (~, null, empty) or tagged !!null. */
bool cfg_node_is_null(const yaml_node_t *n);
/* "a mapping", "a list", "a scalar", "null": for "expected X, got Y". */
const char *cfg_node_kind(const yaml_node_t *n);
/* The node of a list item or mapping key or value, in the current document. */
yaml_node_t *cfg_doc_node(struct cfg_loader *ld, int index);
/* The text of a non-null scalar without NUL bytes, or NULL after an error
 * naming what was expected (none when n's ${NAME} expansion already failed).
 * No message here quotes the value, so secrets go through it too. */
const char *cfg_want_scalar(struct cfg_loader *ld, const char *path, const yaml_node_t *n,
			    const char *what);
/* Whether n is a value of the user's whose ${NAME} expansion failed (that
 * has been reported: nothing more is said about it). */
bool cfg_expand_failed(struct cfg_loader *ld, const yaml_node_t *n);
/* The index of s, the text of node n, in k->choices; -1 after an error
 * listing them. */
int cfg_want_choice(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n,
		    const char *s);
/* Whether n is a list; false after an error naming what was expected. */
bool cfg_want_seq(struct cfg_loader *ld, const char *path, const yaml_node_t *n, const char *what);
/* An integer, duration (ms) or size (bytes) in [min, max] into *out; false
 * after an error (and *out untouched). */
bool cfg_get_uint(struct cfg_loader *ld, const char *path, const yaml_node_t *n, uint64_t min,
		  uint64_t max, uint64_t *out);
bool cfg_get_duration(struct cfg_loader *ld, const char *path, const yaml_node_t *n, uint64_t min,
		      uint64_t max, int64_t *out);
bool cfg_get_size(struct cfg_loader *ld, const char *path, const yaml_node_t *n, uint64_t min,
		  uint64_t max, uint64_t *out);

/* ---- keys and sections given ---- */

/* Index of the key named path in config_keys, or -1. */
long cfg_find_key(const char *path);
/* The section path as met in the document, or NULL. */
struct cfg_seen_section *cfg_find_seen(struct cfg_loader *ld, const char *path);
/* Position of a key or section the user wrote; false when absent. */
bool cfg_pos_of(struct cfg_loader *ld, const char *path, int *line, int *col);
/* Did the user give this key (whether or not its value was valid)? */
bool cfg_given(struct cfg_loader *ld, const char *path);
/* Was the key given with a value that already produced an error? */
bool cfg_bad(struct cfg_loader *ld, const char *path);

#endif
