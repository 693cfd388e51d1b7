/*
 * metrics_labels.h: the label tables of /metrics.  A metric by reason,
 * state, target ... (COUNTER_BY and the like in core/metrics.def and
 * ops/metrics.def) has one series per value of a table; the table gives the
 * label's name once and takes its values from where they are defined
 * (close.def, auth_fail.def, callout.h, ...), so that a new close reason is
 * a new series without a line here.
 */
#ifndef SG_METRICS_LABELS_H
#define SG_METRICS_LABELS_H

#include "app/authflow_socket.h"
#include "core/auth_fail.h"
#include "core/callout.h"
#include "core/close.h"
#include "core/common.h"
#include "redis/bridge.h"

#define METRICS_LABELS_MAX 5 /* labels of one table: siogate_build_info's five */
#define METRICS_LABEL_BUF 24 /* room for a value that is printed (a number) */

struct metrics_labels {
	const char *names[METRICS_LABELS_MAX]; /* its labels, in order; NULL after the last */
	size_t n;			       /* values of each; 0: one per worker */
	/* Label j's value in series i; buf (METRICS_LABEL_BUF bytes) may hold it. */
	const char *(*value)(size_t i, size_t j, char *buf);
};

/* Each table's size, for the arrays of the .def files sized by it (checked
 * at compile time in metrics_labels.c). */
#define METRICS_LABELS_N_close_reason SG_CLOSE__COUNT
#define METRICS_LABELS_N_auth_fail_reason AUTH_FAIL__COUNT
#define METRICS_LABELS_N_authflow_state (AUTHFLOW_AUTHENTICATED + 1)
#define METRICS_LABELS_N_callout_outcome CALLOUT__COUNT
#define METRICS_LABELS_N_forward_target FORWARD__COUNT
#define METRICS_LABELS_N_bridge_drop BRIDGE_DROP__COUNT
#define METRICS_LABELS_N_build 1

extern const struct metrics_labels metrics_labels_close_reason;	    /* reason: close.def */
extern const struct metrics_labels metrics_labels_auth_fail_reason; /* reason: auth_fail.def */
extern const struct metrics_labels metrics_labels_authflow_state;   /* state */
extern const struct metrics_labels metrics_labels_callout_outcome;  /* outcome: callout.h */
extern const struct metrics_labels metrics_labels_forward_target;   /* target: callout.h */
extern const struct metrics_labels metrics_labels_bridge_drop;	    /* reason: bridge.h */
extern const struct metrics_labels metrics_labels_build;  /* version, libevent, openssl ... */
extern const struct metrics_labels metrics_labels_worker; /* worker: 0, 1, ... */

#endif
