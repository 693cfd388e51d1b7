/*
 * room_rules.c: matching of rooms.allow patterns against room names.  A
 * pattern is first expanded into literal text (pattern text plus substituted
 * claim values) cut into segments at each '*'; matching is then a plain
 * glob over those segments.  Invariant: claim values only ever land in the
 * literal text, never among the cut positions, so nothing a client puts in
 * its token can act as a wildcard.
 */
#include "proto/room_rules.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum expand_result {
	EXPAND_OK,	 /* lit and cuts filled */
	EXPAND_SYNTAX,	 /* the pattern is malformed (err filled) */
	EXPAND_NO_CLAIM, /* a {claim} is missing or of a type that never matches */
};

static enum expand_result expand(const char *pattern, const json_t *claims, bool substitute,
				 struct sg_buf *lit, size_t *cuts, size_t *n_cuts,
				 struct sg_err *err);
static enum expand_result append_claim(struct sg_buf *lit, const json_t *claims, const char *name,
				       size_t name_len);
static bool glob_match(const char *lit, size_t lit_len, const size_t *cuts, size_t n_cuts,
		       const char *room, size_t room_len);

/* Walks the pattern once.  With substitute, claim values are appended to lit
 * and '*' positions (offsets into lit) to cuts, which must have room for
 * strlen(pattern) entries; without it only the syntax is checked. */
static enum expand_result expand(const char *pattern, const json_t *claims, bool substitute,
				 struct sg_buf *lit, size_t *cuts, size_t *n_cuts,
				 struct sg_err *err)
{
	const char *p = pattern;

	if (n_cuts)
		*n_cuts = 0;
	while (*p) {
		if (*p == '*') {
			if (substitute)
				cuts[(*n_cuts)++] = lit->len;
			p++;
		} else if (*p == '{') {
			const char *name = p + 1;
			size_t name_len = strcspn(name, "{}");
			if (name[name_len] != '}') {
				sg_err_set(err, "room rule '%s': unbalanced '{' at offset %zu",
					   pattern, (size_t)(p - pattern));
				return EXPAND_SYNTAX;
			}
			if (name_len == 0) {
				sg_err_set(err, "room rule '%s': empty claim name at offset %zu",
					   pattern, (size_t)(p - pattern));
				return EXPAND_SYNTAX;
			}
			/* a missing claim ends the walk: the result is "no
			 * match" whatever the rest of the pattern says */
			if (substitute && append_claim(lit, claims, name, name_len) != EXPAND_OK)
				return EXPAND_NO_CLAIM;
			p = name + name_len + 1;
		} else if (*p == '}') {
			sg_err_set(err, "room rule '%s': unbalanced '}' at offset %zu", pattern,
				   (size_t)(p - pattern));
			return EXPAND_SYNTAX;
		} else {
			if (substitute)
				sg_buf_append_char(lit, *p);
			p++;
		}
	}
	return EXPAND_OK;
}

static enum expand_result append_claim(struct sg_buf *lit, const json_t *claims, const char *name,
				       size_t name_len)
{
	const json_t *val;

	if (!json_is_object(claims))
		return EXPAND_NO_CLAIM;
	val = json_object_getn(claims, name, name_len);
	if (json_is_string(val)) {
		sg_buf_append(lit, json_string_value(val), json_string_length(val));
	} else if (json_is_integer(val)) {
		sg_buf_printf(lit, "%" JSON_INTEGER_FORMAT, json_integer_value(val));
	} else {
		return EXPAND_NO_CLAIM;
	}
	return EXPAND_OK;
}

/* Segment i of lit runs from cuts[i-1] (0 for the first) to cuts[i] (lit_len
 * for the last).  The first segment anchors at the start of room, the last
 * at its end, the middle ones are found leftmost-first in between, which is
 * exact for a glob whose only operator is '*'. */
static bool glob_match(const char *lit, size_t lit_len, const size_t *cuts, size_t n_cuts,
		       const char *room, size_t room_len)
{
	size_t head, tail_start, tail_len, pos, end;

	if (n_cuts == 0)
		return lit_len == room_len && memcmp(lit, room, room_len) == 0;
	head = cuts[0];
	tail_start = cuts[n_cuts - 1];
	tail_len = lit_len - tail_start;
	if (head + tail_len > room_len)
		return false;
	if (memcmp(room, lit, head) != 0)
		return false;
	if (memcmp(room + room_len - tail_len, lit + tail_start, tail_len) != 0)
		return false;
	pos = head;
	end = room_len - tail_len;
	for (size_t i = 1; i < n_cuts; i++) {
		const char *seg = lit + cuts[i - 1];
		size_t seg_len = cuts[i] - cuts[i - 1];
		const char *hit;

		if (seg_len == 0)
			continue;
		hit = memmem(room + pos, end - pos, seg, seg_len);
		if (hit == NULL)
			return false;
		pos = (size_t)(hit - room) + seg_len;
	}
	return true;
}

bool room_rule_match(const char *pattern, const char *room, const json_t *claims)
{
	struct sg_buf lit;
	size_t *cuts, n_cuts = 0;
	size_t plen;
	bool ok = false;

	if (pattern == NULL || room == NULL)
		return false;
	plen = strlen(pattern);
	sg_buf_init(&lit);
	sg_buf_reserve(&lit, plen); /* lit.data is never NULL below */
	cuts = sg_malloc((plen + 1) * sizeof(*cuts));
	if (expand(pattern, claims, true, &lit, cuts, &n_cuts, NULL) == EXPAND_OK)
		ok = glob_match(lit.data, lit.len, cuts, n_cuts, room, strlen(room));
	free(cuts);
	sg_buf_fini(&lit);
	return ok;
}

bool room_rules_allow(const struct sg_strv *patterns, const char *room, const json_t *claims)
{
	if (patterns == NULL)
		return false;
	for (size_t i = 0; i < patterns->n; i++)
		if (room_rule_match(patterns->v[i], room, claims))
			return true;
	return false;
}

int room_rule_check(const char *pattern, struct sg_err *err)
{
	if (pattern == NULL)
		return sg_err_set(err, "room rule is missing");
	if (expand(pattern, NULL, false, NULL, NULL, NULL, err) != EXPAND_OK)
		return -1;
	return 0;
}
