/*
 * config_yaml.h: the passes over the YAML text and document that come before
 * the typed walk of config.c: the caps that keep a hostile or broken file
 * from costing more than a bounded amount of work (size, nesting depth), and
 * the expansion of ${NAME} from the environment in values.  Pure: no loader
 * state, no logging; problems are reported through callbacks or return
 * values, and config.c turns them into FILE:LINE:COL messages.
 */
#ifndef SG_CONFIG_YAML_H
#define SG_CONFIG_YAML_H

#include <stddef.h>
#include <yaml.h>

#include "core/common.h"

/* Largest configuration file read (bytes), at start-up, --check and reload. */
#define CONFIG_MAX_FILE_BYTES (1u << 20)
/* Deepest nesting of mappings and lists accepted.  siogate's own keys need
 * four levels; libyaml's scanner costs time in proportion to the depth for
 * every token, so a file of 100,000 '[' would take it many seconds. */
#define CONFIG_MAX_DEPTH 32

/* Streams the YAML events of text[0..len) and stops at the first collection
 * that would open deeper than max_depth.  Returns 1 with the 1-based line and
 * column of that collection; 0 when the whole text stays within max_depth or
 * when it has a syntax error before getting too deep (the loader reports the
 * syntax error itself).  Never reads past the collection that is too deep, so
 * its cost is bounded by max_depth, not by the text. */
int cfg_depth_exceeded(const char *text, size_t len, unsigned max_depth, int *line, int *col);

/* Called once per problem found by the expansion: the node at fault, the
 * dotted path of the value ("auth.jwt.secret", "events.forward[1].http"),
 * and a message. */
typedef void (*cfg_expand_err_fn)(void *ctx, const yaml_node_t *n, const char *path,
				  const char *msg);

/* Expands s[0..len) into out (appended): ${NAME}, NAME being a letter or _
 * then letters, digits or _, becomes the value of the environment variable
 * NAME; $$ becomes $; any other $ is kept as it is.  Each problem (an unset
 * variable, an unterminated ${, an invalid name) calls on_msg(ctx, message)
 * and the scan goes on after it.  Returns the number of problems. */
size_t cfg_expand_text(const char *s, size_t len, struct sg_buf *out,
		       void (*on_msg)(void *ctx, const char *msg), void *ctx);

/* Expands every scalar value of doc in place: mapping values and list items
 * at any depth, never mapping keys.  A node reached twice through aliases is
 * expanded once.  Returns the number of problems, each reported to on_err. */
size_t cfg_expand_document(yaml_document_t *doc, cfg_expand_err_fn on_err, void *ctx);

#endif
