/*
 * admin_int.h: what the admin API's files share (admin.c answers the
 * requests and routes /v1/users to admin_users.c, the operations and the
 * emit with acks to admin_ops.c): the JSON answers and
 * the method test.
 */
#ifndef SG_ADMIN_INT_H
#define SG_ADMIN_INT_H

#include "core/common.h"
#include "proto/chan_op.h"

struct worker;
struct conn;
struct http_request;

/* Answers status with the JSON text in b (a newline is appended). */
void admin_reply_json(struct conn *c, int status, struct sg_buf *b);
/* Answers status with {"error": msg}. */
void admin_reply_error(struct conn *c, int status, const char *msg);
/* The request's method is m. */
bool admin_is_method(const struct http_request *req, const char *m);

/* /v1/users/<rest> (rest_len bytes after the prefix), authorized:
 * GET /v1/users/{sub} and POST /v1/users/{sub}/disconnect. */
void admin_users_request(struct worker *w, struct conn *c, const struct http_request *req,
			 const char *rest, size_t rest_len);

/* POST /v1/rooms/join, /v1/rooms/leave, /v1/disconnect (admin_ops.c),
 * authorized: the operation kind on the body's sockets, cluster-wide. */
void admin_op_request(struct worker *w, struct conn *c, enum chan_op_kind kind, const char *body,
		      size_t len);
/* POST /v1/emit?ack=timeout (admin_ops.c), authorized. */
void admin_emit_ack(struct worker *w, struct conn *c, const char *timeout, const char *body,
		    size_t len);

#endif
