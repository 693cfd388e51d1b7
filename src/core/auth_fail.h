/*
 * auth_fail.h: the reasons of auth_fail.def as an enum, with their label
 * (the reason="..." of siogate_auth_failures_total and of the log line).
 */
#ifndef SG_AUTH_FAIL_H
#define SG_AUTH_FAIL_H

enum auth_fail {
#define AUTH_FAIL(name, label) AUTH_FAIL_##name,
#include "core/auth_fail.def"
#undef AUTH_FAIL
	AUTH_FAIL__COUNT
};

/* "expired", "verifier_timeout", ...; "unknown" out of range. */
const char *auth_fail_name(enum auth_fail f);

#endif
