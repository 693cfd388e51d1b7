/*
 * test_auth_fail.c: the authentication failure reasons (auth_fail.def,
 * auth_fail.c): the label each one gets in
 * siogate_auth_failures_total{reason} and in the refused client's log line,
 * written out here as siogate(8) lists them; labels are distinct Prometheus
 * label values, and a reason out of range reads "unknown".
 */
#include "core/auth_fail.h"
#include "core/common.h"
#include "unit.h"

static const struct {
	enum auth_fail reason;
	const char *label;
} cases[] = {
	{ AUTH_FAIL_NO_TOKEN, "no_token" },
	{ AUTH_FAIL_MALFORMED, "malformed" },
	{ AUTH_FAIL_ALGORITHM, "algorithm" },
	{ AUTH_FAIL_NO_KEY, "no_key" },
	{ AUTH_FAIL_BAD_SIGNATURE, "bad_signature" },
	{ AUTH_FAIL_EXPIRED, "expired" },
	{ AUTH_FAIL_NOT_YET_VALID, "not_yet_valid" },
	{ AUTH_FAIL_ISSUER, "issuer" },
	{ AUTH_FAIL_AUDIENCE, "audience" },
	{ AUTH_FAIL_VERIFIER_REJECTED, "verifier_rejected" },
	{ AUTH_FAIL_VERIFIER_TIMEOUT, "verifier_timeout" },
	{ AUTH_FAIL_VERIFIER_UNREACHABLE, "verifier_unreachable" },
	{ AUTH_FAIL_VERIFIER_ERROR, "verifier_error" },
	{ AUTH_FAIL_THROTTLED, "throttled" },
	{ AUTH_FAIL_USER_CHANGED, "user_changed" },
};

static void test_labels(void)
{
	/* a reason added to auth_fail.def needs its case here */
	CHECK_INT(SG_ARRAY_LEN(cases), AUTH_FAIL__COUNT);
	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++)
		CHECK_STR(auth_fail_name(cases[i].reason), cases[i].label);
}

static void test_labels_are_label_values(void)
{
	for (int a = 0; a < AUTH_FAIL__COUNT; a++) {
		const char *l = auth_fail_name((enum auth_fail)a);

		CHECK(l[0] != '\0' && strspn(l, "abcdefghijklmnopqrstuvwxyz_") == strlen(l));
		for (int b = a + 1; b < AUTH_FAIL__COUNT; b++)
			CHECK(strcmp(l, auth_fail_name((enum auth_fail)b)) != 0);
	}
}

static void test_out_of_range(void)
{
	CHECK_STR(auth_fail_name(AUTH_FAIL__COUNT), "unknown");
	CHECK_STR(auth_fail_name((enum auth_fail)99), "unknown");
	CHECK_STR(auth_fail_name((enum auth_fail) - 1), "unknown");
}

int main(void)
{
	RUN(test_labels);
	RUN(test_labels_are_label_values);
	RUN(test_out_of_range);
	return UNIT_END();
}
