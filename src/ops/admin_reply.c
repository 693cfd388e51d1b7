/*
 * admin_reply.c: the admin API's answers (JSON with no-store, {"error"})
 * and its method test, shared by admin.c and admin_users.c (admin_int.h).
 */
#include <string.h>

#include "core/json_js.h"
#include "net/conn.h"
#include "ops/admin_int.h"
#include "proto/http.h"

static const char json_ctype[] = "application/json";

void admin_reply_json(struct conn *c, int status, struct sg_buf *b)
{
	sg_buf_append_char(b, '\n');
	conn_reply(c, status, json_ctype, "Cache-Control: no-store\r\n", b->data, b->len);
}

void admin_reply_error(struct conn *c, int status, const char *msg)
{
	struct sg_buf b;

	sg_buf_init(&b);
	sg_buf_append_str(&b, "{\"error\":");
	json_js_string(&b, msg, strlen(msg));
	sg_buf_append_char(&b, '}');
	admin_reply_json(c, status, &b);
	sg_buf_fini(&b);
}

bool admin_is_method(const struct http_request *req, const char *m)
{
	return req->method_len == strlen(m) && memcmp(req->method, m, req->method_len) == 0;
}
