/*
 * config_type.h: what each type of configuration key (enum key_type in
 * config_table.h) knows how to do, as one table of operations, in the manner
 * of Redis's typeInterface: parse a YAML value into the snapshot, free it,
 * copy it from another snapshot, compare it and print it back as YAML.  The
 * loader (config.c), config_free, the reload merge (config_reload.c) and the
 * tests go through this table and never switch on a key's type: a new type
 * of key is its operations and one entry in config_types (config_type.c),
 * besides its KT_ name (config_table.h) and the check of its field's C type
 * (config_table.c).  For config*.c only.
 */
#ifndef SG_CONFIG_TYPE_H
#define SG_CONFIG_TYPE_H

#include <yaml.h>

#include "config/config.h"
#include "config/config_table.h"

struct cfg_loader;

#define CFG_TF_MAPPING (1u << 0) /* the value is a mapping; others refuse one before parse */
#define CFG_TF_CHOICE (1u << 1)	 /* the value is one of k->choices: "missing value" lists them */

/* The operations, as function types, so that each file declares its own
 * with them ("static cfg_parse_fn parse_bool;") and the compiler checks
 * them against the table. */

/* Parses the user's value n (or the default's) of key k into the snapshot
 * ld->cfg, reporting each problem at its node (config_loader.h).  n is not
 * null; it is a mapping only for CFG_TF_MAPPING types.  The field is as
 * calloc left it (a key is parsed once per load). */
typedef void cfg_parse_fn(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n);
/* Frees the value of k in cfg (the snapshot itself is the caller's). */
typedef void cfg_free_fn(struct sg_config *cfg, const struct key_def *k);
/* Replaces dst's value of k with a deep copy of src's. */
typedef void cfg_copy_fn(struct sg_config *dst, const struct sg_config *src,
			 const struct key_def *k);
/* Whether a and b hold the same value of k. */
typedef bool cfg_equal_fn(const struct sg_config *a, const struct sg_config *b,
			  const struct key_def *k);
/* Appends the value of k in cfg to out as YAML that parse reads back to an
 * equal value ("25s", "[polling, websocket]", null), except that a SECRET
 * is never shown: it prints as "(secret)". */
typedef void cfg_print_fn(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out);

struct cfg_type {
	const char *what; /* what a value is, for "expected %s": "a duration" */
	unsigned flags;	  /* CFG_TF_* */
	size_t size;	  /* bytes of a value that owns no memory (copied and compared
			   * as bytes by copy and equal); 0 for the others */
	cfg_parse_fn *parse;
	cfg_free_fn *free;
	cfg_copy_fn *copy;
	cfg_equal_fn *equal;
	cfg_print_fn *print;
};

/* The operations of each key type, by enum key_type. */
extern const struct cfg_type *const config_types[KT_COUNT];

static inline const struct cfg_type *cfg_type_of(const struct key_def *k)
{
	return config_types[k->type];
}

/* The types, defined beside their operations: the scalar ones in
 * config_type.c, the lists and mappings in config_type_list.c. */
extern const struct cfg_type cfg_type_strv, cfg_type_origins, cfg_type_listen, cfg_type_namespaces,
	cfg_type_algorithms, cfg_type_transports, cfg_type_token_from, cfg_type_redis_url,
	cfg_type_headers, cfg_type_forward, cfg_type_cidrs;

/* The operations of the values that own no memory (type->size bytes). */
cfg_free_fn cfg_free_plain;
cfg_copy_fn cfg_copy_plain;
cfg_equal_fn cfg_equal_plain;

/* Shared by the two files: s as a double-quoted YAML scalar that reads back
 * as s, with "$" doubled where the loader expands ${NAME} (expand). */
void cfg_print_quoted(struct sg_buf *out, const char *s, bool expand);
bool cfg_str_equal(const char *a, const char *b);

#endif
