/*
 * test_room_rules.c: rooms.allow pattern matching: literals, '*' anywhere,
 * {claim} substitution (strings, integers, other types, missing claims),
 * claim values that look like markup, empty rooms, NULL claims, lists, and
 * the syntax check the config loader uses.
 */
#include <stdlib.h>

#include "proto/room_rules.h"
#include "unit.h"

static json_t *claims_of(const char *text);

static json_t *claims_of(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	if (j == NULL)
		abort();
	return j;
}

static void test_literal(void)
{
	CHECK(room_rule_match("lobby", "lobby", NULL));
	CHECK(!room_rule_match("lobby", "lobby2", NULL));
	CHECK(!room_rule_match("lobby", "lobb", NULL));
	CHECK(!room_rule_match("lobby", "Lobby", NULL));
	CHECK(!room_rule_match("lobby", "", NULL));
	CHECK(room_rule_match("caf\xc3\xa9", "caf\xc3\xa9", NULL));
}

static void test_star(void)
{
	/* alone */
	CHECK(room_rule_match("*", "", NULL));
	CHECK(room_rule_match("*", "anything at all", NULL));
	CHECK(room_rule_match("**", "", NULL));
	/* prefix */
	CHECK(room_rule_match("news-*", "news-", NULL));
	CHECK(room_rule_match("news-*", "news-sports", NULL));
	CHECK(!room_rule_match("news-*", "news", NULL));
	CHECK(!room_rule_match("news-*", "xnews-sports", NULL));
	/* suffix */
	CHECK(room_rule_match("*-chat", "team-chat", NULL));
	CHECK(room_rule_match("*-chat", "-chat", NULL));
	CHECK(!room_rule_match("*-chat", "chat", NULL));
	CHECK(!room_rule_match("*-chat", "team-chat2", NULL));
	/* middle */
	CHECK(room_rule_match("a*z", "az", NULL));
	CHECK(room_rule_match("a*z", "abcz", NULL));
	CHECK(!room_rule_match("a*z", "abc", NULL));
	CHECK(!room_rule_match("a*z", "za", NULL));
	/* several */
	CHECK(room_rule_match("a*b*c", "abc", NULL));
	CHECK(room_rule_match("a*b*c", "aXXbYYc", NULL));
	CHECK(room_rule_match("a*b*c", "abcbc", NULL));
	CHECK(!room_rule_match("a*b*c", "acb", NULL));
	CHECK(room_rule_match("*b*", "b", NULL));
	CHECK(room_rule_match("*b*", "abc", NULL));
	CHECK(!room_rule_match("*b*", "ac", NULL));
	/* head and tail may not overlap */
	CHECK(!room_rule_match("ab*ba", "aba", NULL));
	CHECK(room_rule_match("ab*ba", "abba", NULL));
	CHECK(!room_rule_match("a*a*a", "aa", NULL));
	CHECK(room_rule_match("a*a*a", "aaa", NULL));
	CHECK(room_rule_match("*x*y*", "..x..x..y..", NULL));
	CHECK(!room_rule_match("*x*y*", "..y..x..", NULL));
}

static void test_claims(void)
{
	json_t *c = claims_of("{\"sub\":\"alice\",\"org_id\":42,\"neg\":-7,\"real\":42.0,"
			      "\"flag\":true,\"nil\":null,\"obj\":{},\"star\":\"*\","
			      "\"brace\":\"{sub}\",\"empty\":\"\"}");

	CHECK(room_rule_match("user-{sub}", "user-alice", c));
	CHECK(!room_rule_match("user-{sub}", "user-bob", c));
	CHECK(!room_rule_match("user-{sub}", "user-alice2", c));
	CHECK(!room_rule_match("user-{sub}", "user-", c));
	/* integers in decimal; other types never match */
	CHECK(room_rule_match("org-{org_id}", "org-42", c));
	CHECK(room_rule_match("n{neg}", "n-7", c));
	CHECK(!room_rule_match("org-{real}", "org-42", c));
	CHECK(!room_rule_match("org-{real}", "org-42.0", c));
	CHECK(!room_rule_match("f-{flag}", "f-true", c));
	CHECK(!room_rule_match("n-{nil}", "n-null", c));
	CHECK(!room_rule_match("o-{obj}", "o-{}", c));
	/* a missing claim never matches, not even its own text or with a star */
	CHECK(!room_rule_match("user-{missing}", "user-{missing}", c));
	CHECK(!room_rule_match("user-{missing}*", "user-", c));
	/* claim values are literal text */
	CHECK(!room_rule_match("user-{star}", "user-bob", c));
	CHECK(room_rule_match("user-{star}", "user-*", c));
	CHECK(room_rule_match("x-{brace}", "x-{sub}", c));
	CHECK(!room_rule_match("x-{brace}", "x-alice", c));
	/* org-{org_id}-* */
	CHECK(room_rule_match("org-{org_id}-*", "org-42-general", c));
	CHECK(room_rule_match("org-{org_id}-*", "org-42-", c));
	CHECK(!room_rule_match("org-{org_id}-*", "org-43-general", c));
	CHECK(!room_rule_match("org-{org_id}-*", "org-42", c));
	CHECK(!room_rule_match("org-{org_id}-*", "org-420-general", c));
	/* adjacent claims, a claim between stars */
	CHECK(room_rule_match("{sub}{org_id}", "alice42", c));
	CHECK(room_rule_match("*{sub}*", "the-alice-room", c));
	CHECK(!room_rule_match("*{sub}*", "the-alic-room", c));
	/* an empty string claim substitutes nothing */
	CHECK(room_rule_match("u-{empty}", "u-", c));
	CHECK(!room_rule_match("u-{empty}", "u-x", c));
	json_decref(c);
}

static void test_empty_and_null(void)
{
	json_t *c = claims_of("{\"sub\":\"\"}");
	json_t *arr = claims_of("[\"alice\"]");

	CHECK(room_rule_match("", "", NULL));
	CHECK(!room_rule_match("", "a", NULL));
	CHECK(!room_rule_match("a", "", NULL));
	CHECK(room_rule_match("{sub}", "", c));
	CHECK(!room_rule_match("{sub}", "", NULL));
	/* NULL or non-object claims: literals still work, claims never match */
	CHECK(room_rule_match("lobby", "lobby", NULL));
	CHECK(room_rule_match("news-*", "news-1", NULL));
	CHECK(!room_rule_match("user-{sub}", "user-", NULL));
	CHECK(!room_rule_match("user-{0}", "user-alice", arr));
	CHECK(room_rule_match("lobby", "lobby", arr));
	/* NULL pattern or room */
	CHECK(!room_rule_match(NULL, "lobby", NULL));
	CHECK(!room_rule_match("*", NULL, NULL));
	json_decref(c);
	json_decref(arr);
}

static void test_invalid_never_matches(void)
{
	json_t *c = claims_of("{\"sub\":\"alice\"}");

	CHECK(!room_rule_match("user-{sub", "user-{sub", c));
	CHECK(!room_rule_match("user-{sub", "user-alice", c));
	CHECK(!room_rule_match("a}b", "a}b", c));
	CHECK(!room_rule_match("{}", "", c));
	CHECK(!room_rule_match("{a{sub}}", "alice", c));
	json_decref(c);
}

static void test_allow_list(void)
{
	struct sg_strv rules = { NULL, 0 };
	json_t *c = claims_of("{\"sub\":\"alice\",\"org_id\":7}");

	CHECK(!room_rules_allow(&rules, "lobby", c));
	CHECK(!room_rules_allow(NULL, "lobby", c));
	sg_strv_push(&rules, "lobby");
	sg_strv_push(&rules, "user-{sub}");
	sg_strv_push(&rules, "org-{org_id}-*");
	CHECK(room_rules_allow(&rules, "lobby", c));
	CHECK(room_rules_allow(&rules, "user-alice", c));
	CHECK(room_rules_allow(&rules, "org-7-sales", c));
	CHECK(!room_rules_allow(&rules, "user-bob", c));
	CHECK(!room_rules_allow(&rules, "org-8-sales", c));
	CHECK(!room_rules_allow(&rules, "", c));
	CHECK(room_rules_allow(&rules, "lobby", NULL));
	CHECK(!room_rules_allow(&rules, "user-alice", NULL));
	sg_strv_free(&rules);
	json_decref(c);
}

static void test_check(void)
{
	struct sg_err err;

	CHECK_INT(room_rule_check("user-{sub}", &err), 0);
	CHECK_INT(room_rule_check("org-{org_id}-*", &err), 0);
	CHECK_INT(room_rule_check("*", &err), 0);
	CHECK_INT(room_rule_check("", &err), 0);
	CHECK_INT(room_rule_check("{a}{b}", &err), 0);

	memset(&err, 0, sizeof(err));
	CHECK_INT(room_rule_check("user-{sub", &err), -1);
	CHECK_STR(err.msg, "room rule 'user-{sub': unbalanced '{' at offset 5");
	CHECK_INT(room_rule_check("a}b", &err), -1);
	CHECK_STR(err.msg, "room rule 'a}b': unbalanced '}' at offset 1");
	CHECK_INT(room_rule_check("x{}", &err), -1);
	CHECK_STR(err.msg, "room rule 'x{}': empty claim name at offset 1");
	CHECK_INT(room_rule_check("{a{b}}", &err), -1);
	CHECK(strstr(err.msg, "unbalanced '{'") != NULL);
	CHECK_INT(room_rule_check("{a}}", &err), -1);
	CHECK(strstr(err.msg, "unbalanced '}' at offset 3") != NULL);
	CHECK_INT(room_rule_check("{", &err), -1);
	CHECK_INT(room_rule_check(NULL, &err), -1);
	CHECK_INT(room_rule_check("}", NULL), -1);
}

int main(void)
{
	RUN(test_literal);
	RUN(test_star);
	RUN(test_claims);
	RUN(test_empty_and_null);
	RUN(test_invalid_never_matches);
	RUN(test_allow_list);
	RUN(test_check);
	return UNIT_END();
}
