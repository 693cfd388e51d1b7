/*
 * client_token.c: the client's token over time.  siogate warns with
 * `token:expiring` {exp} before a token expires (on_token_expiring); the
 * program answers with sgc_refresh_token(), which emits `authenticate`
 * {"token": ...} when authenticated (siogate's in-band refresh) and, in any
 * state, rewrites the copies of the options that carry the token (the auth
 * payload's `token`, an "Authorization: Bearer" header, a `token` query
 * parameter) so that every later connection attempt sends the newest one.
 * Invariant: c->auth, c->headers and c->query always hold the token given
 * last; engines copy them when an attempt starts.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_int.h"
#include "jsonout.h"

static bool token_valid(const char *token);
static bool set_auth_token(struct sgc_client *c, const char *token, bool force);
static bool set_header_token(struct sgc_client *c, const char *token);
static bool set_query_token(struct sgc_client *c, const char *token);
static void append_urlencoded(struct sg_buf *b, const char *s);

/* ------------------------------------------------------------------ the warning */

void client_token_expiring(struct sgc_client *c, const json_t *data)
{
	const json_t *exp = json_object_get(data, "exp");
	int64_t when = 0;

	if (json_is_integer(exp) && json_integer_value(exp) > 0)
		when = (int64_t)json_integer_value(exp);
	else if (json_is_real(exp) && json_real_value(exp) > 0 && json_real_value(exp) < 1e15)
		when = (int64_t)json_real_value(exp);
	if (c->cb.on_token_expiring)
		c->cb.on_token_expiring(c, when, c->cb.user);
}

/* ------------------------------------------------------------------ refreshing */

/* A bearer token: UTF-8, no space, no control character (RFC 6750's
 * token68 and every JWT fit; a header or query could not carry more). */
static bool token_valid(const char *token)
{
	const unsigned char *p;
	json_t *s;

	if (token == NULL || token[0] == '\0')
		return false;
	for (p = (const unsigned char *)token; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	}
	s = json_string(token); /* NULL unless valid UTF-8 */
	json_decref(s);
	return s != NULL;
}

/* Sets the auth payload's `token` when it has one (or, with force, in any
 * case, creating the payload); true when it did. */
static bool set_auth_token(struct sgc_client *c, const char *token, bool force)
{
	json_t *a = c->auth ? json_loads(c->auth, 0, NULL) : json_object();
	struct sg_buf b;
	bool set = false;

	if (json_is_object(a) && (force || json_object_get(a, "token") != NULL)) {
		json_object_set_new(a, "token", json_string(token));
		sg_buf_init(&b);
		sgc_json_append(&b, a);
		free(c->auth);
		c->auth = sg_buf_steal(&b);
		set = true;
	}
	json_decref(a);
	return set;
}

/* Rewrites "Authorization: Bearer <old>" lines; true when there was one. */
static bool set_header_token(struct sgc_client *c, const char *token)
{
	static const char name[] = "authorization:";
	const char *line = c->headers, *eol, *v;
	struct sg_buf b;
	bool set = false;

	sg_buf_init(&b);
	sg_buf_append(&b, "", 0);
	for (; line != NULL && *line != '\0'; line = eol + 2) {
		eol = strstr(line, "\r\n");
		if (eol == NULL)
			break; /* build_headers ends every line with CRLF */
		if ((size_t)(eol - line) >= sizeof(name) - 1 &&
		    strncasecmp(line, name, sizeof(name) - 1) == 0) {
			v = line + sizeof(name) - 1;
			while (*v == ' ' || *v == '\t')
				v++;
			if (eol - v >= 7 && strncasecmp(v, "Bearer ", 7) == 0) {
				sg_buf_printf(&b, "%.*s%s\r\n", (int)(v + 7 - line), line, token);
				set = true;
				continue;
			}
		}
		sg_buf_append(&b, line, (size_t)(eol - line) + 2);
	}
	free(c->headers);
	c->headers = sg_buf_steal(&b);
	return set;
}

/* Every byte but the URL-unreserved ones as %XX. */
static void append_urlencoded(struct sg_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~')
			sg_buf_append_char(b, (char)ch);
		else
			sg_buf_printf(b, "%%%02X", ch);
	}
}

/* Rewrites `token=...` pairs of the query; true when there was one. */
static bool set_query_token(struct sgc_client *c, const char *token)
{
	const char *p = c->query, *end;
	struct sg_buf b;
	bool set = false;

	sg_buf_init(&b);
	sg_buf_append(&b, "", 0);
	while (p != NULL && *p != '\0') {
		size_t len;
		end = strchr(p, '&');
		len = end ? (size_t)(end - p) : strlen(p);
		if (b.len > 0)
			sg_buf_append_char(&b, '&');
		if (len >= 6 && strncmp(p, "token=", 6) == 0) {
			sg_buf_append_str(&b, "token=");
			append_urlencoded(&b, token);
			set = true;
		} else {
			sg_buf_append(&b, p, len);
		}
		p = end ? end + 1 : p + len;
	}
	free(c->query);
	c->query = sg_buf_steal(&b);
	return set;
}

int sgc_refresh_token(struct sgc_client *c, const char *token)
{
	bool carried;
	json_t *data;
	int rc;

	if (!token_valid(token))
		return SGC_ERR_INVALID;
	if (c->free_requested || c->refreshing)
		return SGC_ERR_STATE;
	carried = set_auth_token(c, token, false);
	carried = set_header_token(c, token) || carried;
	carried = set_query_token(c, token) || carried;
	if (!carried)
		set_auth_token(c, token, true);
	if (c->conn != SGC_CONN_CONNECTED || c->auth_state != SGC_AUTHENTICATED)
		return SGC_SKIPPED;
	data = json_pack("{s:s}", "token", token);
	rc = client_send_event(c, "authenticate", data);
	json_decref(data);
	if (rc != SGC_OK)
		return SGC_SKIPPED; /* the engine is closing: kept for the next connection */
	c->refreshing = true;
	return SGC_OK;
}
