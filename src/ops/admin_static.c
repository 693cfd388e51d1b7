/*
 * admin_static.c: admin.ui_dir served on the admin listener (see
 * admin_static.h).  A request path is decoded segment by segment; a
 * segment that is empty, "." or ".." (or starts with a dot), or holds a
 * slash or a backslash once decoded, is refused; the file found must
 * resolve (realpath) inside the directory, so a symbolic link out of it is
 * refused too.  Files are read whole, up to ADMIN_STATIC_MAX bytes.
 */
#include "ops/admin_static.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "core/worker.h"
#include "net/conn.h"
#include "ops/admin_int.h"
#include "proto/http.h"

#define ADMIN_STATIC_MAX (32u << 20)

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".map", "application/json" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".jpg", "image/jpeg" },
	{ ".ico", "image/x-icon" },
	{ ".woff", "font/woff" },
	{ ".woff2", "font/woff2" },
	{ ".ttf", "font/ttf" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *content_type(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < SG_ARRAY_LEN(types); i++) {
		size_t el = strlen(types[i].ext);
		if (n > el && strcmp(name + n - el, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

/* A build's hashed asset name (app.0d7d7845.js): its content never changes
 * under that name, so it may be kept a year; anything else is revalidated. */
static bool hashed_name(const char *name)
{
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	for (const char *p = strchr(base, '.'); p != NULL; p = strchr(p + 1, '.')) {
		size_t hex = strspn(p + 1, "0123456789abcdef");
		if (hex >= 8 && p[1 + hex] == '.')
			return true;
	}
	return false;
}

/* The decoded relative path of req under the directory into rel, or -1. */
static int relative_path(const struct http_request *req, struct sg_buf *rel)
{
	const char *p = req->path + 1, *e = req->path + req->path_len;

	if (req->path_len == 1) {
		sg_buf_append_str(rel, "index.html");
		return 0;
	}
	while (p < e) {
		const char *slash = memchr(p, '/', (size_t)(e - p));
		size_t n = slash ? (size_t)(slash - p) : (size_t)(e - p);
		size_t before = rel->len;

		if (n == 0 || http_path_decode(p, n, rel) != 0)
			return -1;
		if (rel->data[before] == '.' ||
		    memchr(rel->data + before, '/', rel->len - before) ||
		    memchr(rel->data + before, '\\', rel->len - before))
			return -1;
		p += n;
		if (p < e) {
			sg_buf_append_char(rel, '/');
			p++;
			if (p == e)
				return -1; /* a trailing slash: a directory */
		}
	}
	return 0;
}

/* Reads the regular file path (at most ADMIN_STATIC_MAX bytes) into out. */
static int read_file(const char *path, struct sg_buf *out)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	size_t n;
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size <= ADMIN_STATIC_MAX) {
		sg_buf_reserve(out, (size_t)st.st_size + 1);
		n = fread(out->data, 1, (size_t)st.st_size, f);
		if (n == (size_t)st.st_size) {
			out->len = n;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

bool admin_static_request(struct worker *w, struct conn *c, const struct http_request *req)
{
	const char *dir = w->cfg->admin.ui_dir;
	bool head = admin_is_method(req, "HEAD");
	char root[PATH_MAX], real[PATH_MAX];
	struct sg_buf rel, path, body;
	size_t rl;

	if (dir == NULL || (!head && !admin_is_method(req, "GET")))
		return false;
	if (realpath(dir, root) == NULL)
		return false;
	rl = strlen(root);
	sg_buf_init(&rel);
	sg_buf_init(&path);
	sg_buf_init(&body);
	if (relative_path(req, &rel) == 0) {
		sg_buf_printf(&path, "%s/%s", root, rel.data);
		if (realpath(path.data, real) != NULL && strncmp(real, root, rl) == 0 &&
		    real[rl] == '/' && read_file(real, &body) == 0) {
			bool index = strcmp(rel.data, "index.html") == 0;
			const char *cache =
				!index && hashed_name(rel.data)
					? "Cache-Control: public, max-age=31536000, "
					  "immutable\r\nX-Content-Type-Options: nosniff\r\n"
					: "Cache-Control: no-cache\r\nX-Content-Type-Options: "
					  "nosniff\r\n";

			conn_reply(c, 200, content_type(real), cache, body.data,
				   head ? 0 : body.len);
			sg_buf_fini(&rel);
			sg_buf_fini(&path);
			sg_buf_fini(&body);
			return true;
		}
	}
	sg_buf_fini(&rel);
	sg_buf_fini(&path);
	sg_buf_fini(&body);
	return false;
}
