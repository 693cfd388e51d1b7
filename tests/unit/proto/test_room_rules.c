/*
 * test_room_rules.c: rooms.allow pattern matching (room_rules.c), as tables:
 * literals, '*' anywhere, {claim} substitution (strings, integers, other
 * types, missing claims), claim values that look like markup, empty rooms,
 * NULL or non-object claims, syntactically invalid patterns; pattern lists;
 * and the syntax check the config loader uses, with its messages.
 */
#include <stdlib.h>

#include "proto/room_rules.h"
#include "unit.h"

/* The claims a case is matched with. */
enum claims {
	NO_CLAIMS, /* NULL */
	RICH,	   /* every type of claim value */
	SUB_EMPTY, /* sub is "" */
	ARRAY,	   /* not an object */
	ALICE,	   /* just sub */
	ALICE_ORG, /* sub and an integer org_id */
	N_CLAIMS
};

static const char *const claims_text[N_CLAIMS] = {
	[NO_CLAIMS] = NULL,
	[RICH] = "{\"sub\":\"alice\",\"org_id\":42,\"neg\":-7,\"real\":42.0,\"flag\":true,"
		 "\"nil\":null,\"obj\":{},\"star\":\"*\",\"brace\":\"{sub}\",\"empty\":\"\"}",
	[SUB_EMPTY] = "{\"sub\":\"\"}",
	[ARRAY] = "[\"alice\"]",
	[ALICE] = "{\"sub\":\"alice\"}",
	[ALICE_ORG] = "{\"sub\":\"alice\",\"org_id\":7}",
};

static json_t *claims[N_CLAIMS];

static const struct {
	const char *pattern;
	const char *room;
	enum claims claims;
	bool match;
} match_cases[] = {
	/* literals: byte for byte, case-sensitive */
	{ "lobby", "lobby", NO_CLAIMS, true },
	{ "lobby", "lobby2", NO_CLAIMS, false },
	{ "lobby", "lobb", NO_CLAIMS, false },
	{ "lobby", "Lobby", NO_CLAIMS, false },
	{ "lobby", "", NO_CLAIMS, false },
	{ "caf\xc3\xa9", "caf\xc3\xa9", NO_CLAIMS, true },
	/* '*' alone */
	{ "*", "", NO_CLAIMS, true },
	{ "*", "anything at all", NO_CLAIMS, true },
	{ "**", "", NO_CLAIMS, true },
	/* prefix */
	{ "news-*", "news-", NO_CLAIMS, true },
	{ "news-*", "news-sports", NO_CLAIMS, true },
	{ "news-*", "news", NO_CLAIMS, false },
	{ "news-*", "xnews-sports", NO_CLAIMS, false },
	/* suffix */
	{ "*-chat", "team-chat", NO_CLAIMS, true },
	{ "*-chat", "-chat", NO_CLAIMS, true },
	{ "*-chat", "chat", NO_CLAIMS, false },
	{ "*-chat", "team-chat2", NO_CLAIMS, false },
	/* middle */
	{ "a*z", "az", NO_CLAIMS, true },
	{ "a*z", "abcz", NO_CLAIMS, true },
	{ "a*z", "abc", NO_CLAIMS, false },
	{ "a*z", "za", NO_CLAIMS, false },
	/* several */
	{ "a*b*c", "abc", NO_CLAIMS, true },
	{ "a*b*c", "aXXbYYc", NO_CLAIMS, true },
	{ "a*b*c", "abcbc", NO_CLAIMS, true },
	{ "a*b*c", "acb", NO_CLAIMS, false },
	{ "*b*", "b", NO_CLAIMS, true },
	{ "*b*", "abc", NO_CLAIMS, true },
	{ "*b*", "ac", NO_CLAIMS, false },
	/* head and tail may not overlap */
	{ "ab*ba", "aba", NO_CLAIMS, false },
	{ "ab*ba", "abba", NO_CLAIMS, true },
	{ "a*a*a", "aa", NO_CLAIMS, false },
	{ "a*a*a", "aaa", NO_CLAIMS, true },
	{ "*x*y*", "..x..x..y..", NO_CLAIMS, true },
	{ "*x*y*", "..y..x..", NO_CLAIMS, false },
	/* {claim}: a string */
	{ "user-{sub}", "user-alice", RICH, true },
	{ "user-{sub}", "user-bob", RICH, false },
	{ "user-{sub}", "user-alice2", RICH, false },
	{ "user-{sub}", "user-", RICH, false },
	/* integers in decimal; other types never match */
	{ "org-{org_id}", "org-42", RICH, true },
	{ "n{neg}", "n-7", RICH, true },
	{ "org-{real}", "org-42", RICH, false },
	{ "org-{real}", "org-42.0", RICH, false },
	{ "f-{flag}", "f-true", RICH, false },
	{ "n-{nil}", "n-null", RICH, false },
	{ "o-{obj}", "o-{}", RICH, false },
	/* a missing claim never matches, not even its own text or with a star */
	{ "user-{missing}", "user-{missing}", RICH, false },
	{ "user-{missing}*", "user-", RICH, false },
	/* claim values are literal text */
	{ "user-{star}", "user-bob", RICH, false },
	{ "user-{star}", "user-*", RICH, true },
	{ "x-{brace}", "x-{sub}", RICH, true },
	{ "x-{brace}", "x-alice", RICH, false },
	/* org-{org_id}-* */
	{ "org-{org_id}-*", "org-42-general", RICH, true },
	{ "org-{org_id}-*", "org-42-", RICH, true },
	{ "org-{org_id}-*", "org-43-general", RICH, false },
	{ "org-{org_id}-*", "org-42", RICH, false },
	{ "org-{org_id}-*", "org-420-general", RICH, false },
	/* adjacent claims, a claim between stars */
	{ "{sub}{org_id}", "alice42", RICH, true },
	{ "*{sub}*", "the-alice-room", RICH, true },
	{ "*{sub}*", "the-alic-room", RICH, false },
	/* an empty string claim substitutes nothing */
	{ "u-{empty}", "u-", RICH, true },
	{ "u-{empty}", "u-x", RICH, false },
	/* empty patterns and rooms */
	{ "", "", NO_CLAIMS, true },
	{ "", "a", NO_CLAIMS, false },
	{ "a", "", NO_CLAIMS, false },
	{ "{sub}", "", SUB_EMPTY, true },
	{ "{sub}", "", NO_CLAIMS, false },
	/* NULL or non-object claims: literals still work, claims never match */
	{ "lobby", "lobby", NO_CLAIMS, true },
	{ "news-*", "news-1", NO_CLAIMS, true },
	{ "user-{sub}", "user-", NO_CLAIMS, false },
	{ "user-{0}", "user-alice", ARRAY, false },
	{ "lobby", "lobby", ARRAY, true },
	/* NULL pattern or room */
	{ NULL, "lobby", NO_CLAIMS, false },
	{ "*", NULL, NO_CLAIMS, false },
	/* an invalid pattern never matches */
	{ "user-{sub", "user-{sub", ALICE, false },
	{ "user-{sub", "user-alice", ALICE, false },
	{ "a}b", "a}b", ALICE, false },
	{ "{}", "", ALICE, false },
	{ "{a{sub}}", "alice", ALICE, false },
};

static void test_match(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(match_cases); i++) {
		bool got = room_rule_match(match_cases[i].pattern, match_cases[i].room,
					   claims[match_cases[i].claims]);

		if (got != match_cases[i].match)
			fprintf(stderr, "  '%s' against '%s' (claims %d): %s\n",
				match_cases[i].pattern ? match_cases[i].pattern : "(null)",
				match_cases[i].room ? match_cases[i].room : "(null)",
				(int)match_cases[i].claims, got ? "matched" : "no match");
		CHECK(got == match_cases[i].match);
	}
}

/* A list of patterns: lobby, user-{sub}, org-{org_id}-* (or none). */
static void test_allow_list(void)
{
	static const struct {
		bool empty_list; /* an empty list; else the three patterns */
		bool null_list;
		const char *room;
		enum claims claims;
		bool allowed;
	} cases[] = {
		{ true, false, "lobby", ALICE_ORG, false },
		{ false, true, "lobby", ALICE_ORG, false },
		{ false, false, "lobby", ALICE_ORG, true },
		{ false, false, "user-alice", ALICE_ORG, true },
		{ false, false, "org-7-sales", ALICE_ORG, true },
		{ false, false, "user-bob", ALICE_ORG, false },
		{ false, false, "org-8-sales", ALICE_ORG, false },
		{ false, false, "", ALICE_ORG, false },
		{ false, false, "lobby", NO_CLAIMS, true },
		{ false, false, "user-alice", NO_CLAIMS, false },
	};
	struct sg_strv rules = { NULL, 0 }, none = { NULL, 0 };

	sg_strv_push(&rules, "lobby");
	sg_strv_push(&rules, "user-{sub}");
	sg_strv_push(&rules, "org-{org_id}-*");
	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		const struct sg_strv *list = cases[i].null_list	   ? NULL
					     : cases[i].empty_list ? &none
								   : &rules;
		CHECK(room_rules_allow(list, cases[i].room, claims[cases[i].claims]) ==
		      cases[i].allowed);
	}
	sg_strv_free(&rules);
}

static void test_check(void)
{
	static const struct {
		const char *pattern;
		int rc;
		const char *msg;  /* exact, or NULL */
		const char *part; /* part of it, or NULL */
		bool null_err;	  /* err given as NULL */
	} cases[] = {
		{ "user-{sub}", 0, NULL, NULL, false },
		{ "org-{org_id}-*", 0, NULL, NULL, false },
		{ "*", 0, NULL, NULL, false },
		{ "", 0, NULL, NULL, false },
		{ "{a}{b}", 0, NULL, NULL, false },
		{ "user-{sub", -1, "room rule 'user-{sub': unbalanced '{' at offset 5", NULL,
		  false },
		{ "a}b", -1, "room rule 'a}b': unbalanced '}' at offset 1", NULL, false },
		{ "x{}", -1, "room rule 'x{}': empty claim name at offset 1", NULL, false },
		{ "{a{b}}", -1, NULL, "unbalanced '{'", false },
		{ "{a}}", -1, NULL, "unbalanced '}' at offset 3", false },
		{ "{", -1, NULL, NULL, false },
		{ NULL, -1, NULL, NULL, false },
		{ "}", -1, NULL, NULL, true },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct sg_err err;

		memset(&err, 0, sizeof(err));
		CHECK_INT(room_rule_check(cases[i].pattern, cases[i].null_err ? NULL : &err),
			  cases[i].rc);
		if (cases[i].msg != NULL)
			CHECK_STR(err.msg, cases[i].msg);
		if (cases[i].part != NULL)
			CHECK(strstr(err.msg, cases[i].part) != NULL);
	}
}

int main(void)
{
	int rc;

	for (int i = 0; i < N_CLAIMS; i++)
		if (claims_text[i] != NULL &&
		    (claims[i] = json_loads(claims_text[i], 0, NULL)) == NULL)
			abort();
	RUN(test_match);
	RUN(test_allow_list);
	RUN(test_check);
	rc = UNIT_END();
	for (int i = 0; i < N_CLAIMS; i++)
		json_decref(claims[i]);
	return rc;
}
