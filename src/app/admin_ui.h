/*
 * admin_ui.h: the Socket.IO Admin UI (@socket.io/admin-ui) against siogate:
 * its namespace (admin_ui.namespace) on the client listener speaks the
 * protocol of the package's instrument(): a login with a user name and a
 * bcrypt-hashed password, "config", "all_sockets", "server_stats", the
 * sockets' lives as they happen (on every worker of the process), and the
 * UI's "_disconnect", "join" and "leave" (refused with admin_ui.readonly).
 * Unused, it costs nothing per socket: the socket layer's observer is set
 * only while an Admin UI is logged in somewhere in the process.
 */
#ifndef SG_ADMIN_UI_H
#define SG_ADMIN_UI_H

/* The Admin UI's part of every worker (worker_module): nothing unless
 * admin_ui.enabled; then its namespace, added after the configured ones. */
extern const struct worker_module admin_ui_module;

#endif
