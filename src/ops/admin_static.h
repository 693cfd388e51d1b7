/*
 * admin_static.h: admin.ui_dir, a directory of static files (the Admin
 * UI's ui/dist) served on the admin listener: GET and HEAD, the content
 * type by extension, hashed asset names cached a year and the rest
 * (index.html) revalidated, index.html for "/", nothing outside the
 * directory.
 */
#ifndef SG_ADMIN_STATIC_H
#define SG_ADMIN_STATIC_H

#include "core/common.h"

struct worker;
struct conn;
struct http_request;

/* Answers req from admin.ui_dir and returns true, or returns false (no
 * admin.ui_dir, another method, or no such file: the caller answers). */
bool admin_static_request(struct worker *w, struct conn *c, const struct http_request *req);

#endif
