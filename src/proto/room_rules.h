/*
 * room_rules.h: the rooms.allow patterns (the seed's validateRoomFn as
 * rules).  A pattern is literal text with two kinds of markup: '*' matches
 * any run of characters (including none), and "{name}" is replaced by the
 * value of the client's claim `name` before matching.  Pure functions, no
 * state, safe from any thread.
 */
#ifndef SG_ROOM_RULES_H
#define SG_ROOM_RULES_H

#include <jansson.h>
#include <stdbool.h>

#include "core/common.h"

/* True when pattern matches room (both NUL-terminated, compared byte for byte,
 * case-sensitive).  '*' matches any run of characters (including none);
 * "{name}" is replaced by the value of claim `name` of the claims object:
 * strings as-is, integers in decimal, any other type never matches.  The
 * substituted text is matched literally (a '*' or '{' inside a claim value is
 * not markup).  A pattern whose claim is missing never matches; claims may be
 * NULL (or not an object), and then any pattern with a {claim} never matches.
 * A syntactically invalid pattern (see room_rule_check) never matches. */
bool room_rule_match(const char *pattern, const char *room, const json_t *claims);

/* True when any pattern of the list matches room (room_rule_match).  An empty
 * or NULL list allows nothing. */
bool room_rules_allow(const struct sg_strv *patterns, const char *room, const json_t *claims);

/* Syntax check for the config loader: returns 0 when pattern is well formed,
 * or -1 with a message in err for an unbalanced '{' or '}', a '{' inside a
 * claim name, or an empty claim name "{}". */
int room_rule_check(const char *pattern, struct sg_err *err) SG_WUR;

#endif
