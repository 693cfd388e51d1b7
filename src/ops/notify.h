/*
 * notify.h: the systemd notification protocol (sd_notify(3)) over the
 * NOTIFY_SOCKET datagram socket, without libsystemd: READY=1, RELOADING=1
 * with MONOTONIC_USEC, STOPPING=1, STATUS=..., and WATCHDOG=1 keep-alives
 * when the unit sets WatchdogSec.  Everything is a no-op when siogate is
 * not started by systemd.
 */
#ifndef SG_NOTIFY_H
#define SG_NOTIFY_H

#include <event2/event.h>

#include "core/common.h"

struct notifier;

/* Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID; starts the watchdog
 * timer on base when asked for.  Returns NULL when there is nothing to
 * notify (not under systemd). */
struct notifier *notify_new(struct event_base *base);
void notify_free(struct notifier *n);

/* Sends one state string (e.g. "READY=1\nSTATUS=serving").  n may be NULL. */
void notify_send(struct notifier *n, const char *state);
/* "RELOADING=1\nMONOTONIC_USEC=<now>", as Type=notify-reload wants. */
void notify_reloading(struct notifier *n);

#endif
