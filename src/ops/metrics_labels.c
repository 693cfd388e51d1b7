/*
 * metrics_labels.c: the label tables of /metrics (see metrics_labels.h).
 */
#include "ops/metrics_labels.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>

static const char *build(size_t i, size_t j, char *buf);
static const char *worker(size_t i, size_t j, char *buf);

/* An array of a .def file sized n and labelled by set has one member per
 * value of set. */
#define CHECK_SIZE(field, n, set)                     \
	_Static_assert((n) == METRICS_LABELS_N_##set, \
		       #field " is not sized by its label table " #set);
#define COUNTER(field, name, labels, help)
#define GAUGE(field, name, labels, help)
#define SERIES(field, labels)
#define COUNTER_BY(field, n, set, name, help) CHECK_SIZE(field, n, set)
#define GAUGE_BY(field, n, set, name, help) CHECK_SIZE(field, n, set)
#define GAUGE_BY_WORKER(field, name, help)
#define HISTOGRAM(field, name, help)
#define HISTOGRAM_BY_WORKER(field, name, help)
#define CALLOUT(field, name, help, hname, hhelp)
#define CALLOUT_BY(field, n, set, name, help, hname, hhelp) CHECK_SIZE(field, n, set)
/* the X-macro includes, in this order */
/* clang-format off */
#include "core/metrics.def"
#include "ops/metrics.def"
/* clang-format on */
#undef CHECK_SIZE
#include "core/metrics_undef.h"

/* hiredis's version is three numbers: a string at compile time */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define HIREDIS_VERSION_STRING \
	STRINGIFY(HIREDIS_MAJOR) "." STRINGIFY(HIREDIS_MINOR) "." STRINGIFY(HIREDIS_PATCH)

/* A table of one label whose values are an enum's names: the function
 * that gives them, and the table. */
#define ENUM_LABELS(set, label, type, name_of)                                       \
	static const char *set(size_t i, size_t j, char *buf)                        \
	{                                                                            \
		SG_UNUSED(j);                                                        \
		SG_UNUSED(buf);                                                      \
		return name_of((type)i);                                             \
	}                                                                            \
	const struct metrics_labels metrics_labels_##set = { { label },              \
							     METRICS_LABELS_N_##set, \
							     set };

ENUM_LABELS(close_reason, "reason", enum sg_close, sg_close_text)
ENUM_LABELS(auth_fail_reason, "reason", enum auth_fail, auth_fail_name)
ENUM_LABELS(authflow_state, "state", enum authflow_state, authflow_state_name)
ENUM_LABELS(callout_outcome, "outcome", enum callout_outcome, callout_outcome_name)
ENUM_LABELS(forward_target, "target", enum forward_target, forward_target_name)
ENUM_LABELS(bridge_drop, "reason", enum bridge_drop, bridge_drop_name)
#undef ENUM_LABELS

const struct metrics_labels metrics_labels_build = {
	{ "version", "libevent", "openssl", "hiredis", "jansson" }, METRICS_LABELS_N_build, build
};
const struct metrics_labels metrics_labels_worker = { { "worker" }, 0, worker };

/* siogate's version and the libraries' it runs with (the linked ones where
 * the library can say: libevent, OpenSSL). */
static const char *build(size_t i, size_t j, char *buf)
{
	SG_UNUSED(i);
	SG_UNUSED(buf);
	switch (j) {
	case 0:
		return SG_VERSION;
	case 1:
		return event_get_version();
	case 2:
		return OpenSSL_version(OPENSSL_VERSION_STRING);
	case 3:
		return HIREDIS_VERSION_STRING;
	default:
		return JANSSON_VERSION;
	}
}

static const char *worker(size_t i, size_t j, char *buf)
{
	SG_UNUSED(j);
	snprintf(buf, METRICS_LABEL_BUF, "%zu", i);
	return buf;
}
