/*
 * admin.h: the admin listener's requests (SPEC.md section 5): /healthz,
 * /readyz, /metrics, and the admin API under /v1 with a bearer token from
 * admin.token_file: list clients, one client, disconnect, rooms, emit.
 */
#ifndef SG_ADMIN_H
#define SG_ADMIN_H

#include "core/common.h"

struct worker;
struct conn;
struct http_request;

/* The admin listener's part of every worker (worker_module): its requests
 * (worker->conn_handler[CONN_ADMIN]). */
extern const struct worker_module admin_module;

/* Reads the admin token from path (trailing newline stripped).  Returns a
 * new string, or NULL with err. */
char *admin_load_token(const char *path, struct sg_err *err) SG_WUR;

#endif
