/*
 * auth_fail.c: the labels of the authentication failure reasons
 * (auth_fail.def).
 */
#include "core/auth_fail.h"

static const char *const labels[] = {
#define AUTH_FAIL(name, label) label,
#include "core/auth_fail.def"
#undef AUTH_FAIL
};

const char *auth_fail_name(enum auth_fail f)
{
	if ((unsigned)f >= AUTH_FAIL__COUNT)
		return "unknown";
	return labels[f];
}
