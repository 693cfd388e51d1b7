/*
 * config_secret.c: secret files and secret values of the configuration (see
 * config_secret.h).  Invariant: nothing here ever copies a secret's bytes
 * into a message; a refused secret is wiped before its buffer is released.
 */
#include "config/config_secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_value.h"

/* Placeholders found anywhere in a value (after normalising): phrases no
 * random key holds by chance (eight letters or more). */
static const char *const placeholder_parts[] = {
	"changeme", "changeit",	   "changethis", "replaceme",  "replacethis", "yoursecret",
	"yourkey",  "placeholder", "goeshere",	 "notasecret", "insertkey",   "insertsecret",
};

/* ... and the words that are placeholders when they are the whole value. */
static const char *const placeholder_words[] = {
	"secret",    "example",	  "password", "passwd",	   "test",	 "testing",
	"default",   "key",	  "jwtkey",   "jwtsecret", "mysecret",	 "supersecret",
	"topsecret", "secretkey", "token",    "admin",	   "dev",	 "development",
	"abc123",    "123456",	  "12345678", "123456789", "1234567890", "qwerty",
	"foobar",    "letmein",	  "todo",     "fixme",	   "none",	 "null",
};

static size_t normalise(const char *s, size_t len, char *out, size_t size);
static int open_secret_file(const char *path, struct sg_err *err);
static const char *placeholder(const char *s, size_t len, char *why, size_t size);
static size_t hmac_min_len(const struct sg_strv *algs, const char **alg);

char *cfg_resolve_file(const char *base_dir, const char *p)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	struct sg_buf b;

	if (p[0] == '/')
		return sg_strdup(p);
	sg_buf_init(&b);
	if (creds != NULL && creds[0] != '\0') {
		struct stat st;

		sg_buf_printf(&b, "%s/%s", creds, p);
		if (stat(b.data, &st) == 0)
			return sg_buf_steal(&b);
		sg_buf_reset(&b);
	}
	if (base_dir == NULL) {
		sg_buf_fini(&b);
		return sg_strdup(p);
	}
	sg_buf_printf(&b, "%s/%s", base_dir, p);
	return sg_buf_steal(&b);
}

bool cfg_in_credentials_dir(const char *path)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	char *dir, *file;
	bool inside = false;

	if (creds == NULL || creds[0] == '\0')
		return false;
	dir = realpath(creds, NULL);
	file = realpath(path, NULL);
	if (dir != NULL && file != NULL) {
		size_t n = strlen(dir);

		inside =
			strncmp(file, dir, n) == 0 && (file[n] == '/' || (n == 1 && dir[0] == '/'));
	}
	free(dir);
	free(file);
	return inside;
}

/* Opens a file that must be private to its owner; -1 with err. */
static int open_secret_file(const char *path, struct sg_err *err)
{
	char buf[SHOW_MAX + 8];
	struct stat st;
	int fd;

	cfg_show(path, buf, sizeof(buf));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sg_err_set(err, "cannot open '%s': %s", buf, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sg_err_set(err, "'%s' is not a regular file", buf);
	}
	if ((st.st_mode & 077) && !cfg_in_credentials_dir(path)) {
		close(fd);
		return sg_err_set(err,
				  "'%s' is accessible by group or others (mode %04o); chmod 600 it",
				  buf, (unsigned)(st.st_mode & 07777));
	}
	return fd;
}

int cfg_read_secret_file(const char *path, size_t max, struct sg_buf *out, struct sg_err *err)
{
	char buf[SHOW_MAX + 8], lim[32];
	int fd = open_secret_file(path, err);
	int rc = 0;

	if (fd < 0)
		return -1;
	cfg_show(path, buf, sizeof(buf));
	sg_buf_reset(out);
	while (rc == 0) {
		ssize_t r;

		sg_buf_reserve(out, 4096);
		r = read(fd, out->data + out->len, 4096);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = sg_err_set(err, "cannot read '%s': %s", buf, strerror(errno));
		} else if (r == 0) {
			break;
		} else {
			out->len += (size_t)r;
			out->data[out->len] = '\0';
			if (out->len > max) {
				cfg_fmt_size(max, lim, sizeof(lim));
				rc = sg_err_set(err, "'%s' is larger than %s", buf, lim);
			}
		}
	}
	close(fd);
	if (rc == 0 && out->len > 0 && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	if (rc == 0 && out->len == 0)
		rc = sg_err_set(err, "'%s' is empty", buf);
	if (rc != 0 && out->data != NULL) {
		explicit_bzero(out->data, out->cap);
		sg_buf_reset(out);
	}
	return rc;
}

/* Lower case, without spaces, '-', '_' and '.'; at most size - 1 bytes.
 * Returns the length written (a NUL byte in s is copied). */
static size_t normalise(const char *s, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++) {
		char c = s[i];

		if (c == ' ' || c == '-' || c == '_' || c == '.')
			continue;
		out[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[n] = '\0';
	return n;
}

/* When s[0..len) is a placeholder rather than a secret, a short description
 * of why ("contains 'changeme'", "is the word 'secret'", "repeats one
 * character") in why, which is returned; NULL when it is not one. */
static const char *placeholder(const char *s, size_t len, char *why, size_t size)
{
	const char *found = NULL;
	bool same = len > 1; /* one byte is merely short */
	char *norm;
	size_t n;

	for (size_t i = 1; i < len && same; i++)
		same = s[i] == s[0];
	if (same) {
		snprintf(why, size, "repeats one character");
		return why;
	}
	norm = sg_malloc(len + 1);
	n = normalise(s, len, norm, len + 1);
	for (size_t i = 0; i < SG_ARRAY_LEN(placeholder_words) && found == NULL; i++) {
		if (strlen(norm) == n && strcmp(norm, placeholder_words[i]) == 0) {
			snprintf(why, size, "is the word '%s'", placeholder_words[i]);
			found = why;
		}
	}
	for (size_t i = 0; i < SG_ARRAY_LEN(placeholder_parts) && found == NULL; i++) {
		if (strstr(norm, placeholder_parts[i]) != NULL) {
			snprintf(why, size, "contains '%s'", placeholder_parts[i]);
			found = why;
		}
	}
	explicit_bzero(norm, len + 1);
	free(norm);
	return found;
}

/* The shortest key the HS* algorithms of algs accept, 0 when none is
 * listed; *alg is then the strictest of them. */
static size_t hmac_min_len(const struct sg_strv *algs, const char **alg)
{
	size_t need = 0;

	for (size_t i = 0; i < algs->n; i++) {
		const char *a = algs->v[i];
		size_t bits;

		if (strncmp(a, "HS", 2) != 0)
			continue;
		bits = strtoul(a + 2, NULL, 10); /* HS256, HS384, HS512 */
		if (bits / 8 > need) {
			need = bits / 8;
			*alg = a;
		}
	}
	return need;
}

/* The fix offered for a weak HMAC key: a random one of `bytes` bytes
 * (base64: longer than bytes, as much entropy), in a private file. */
#define KEY_FIX_FMT "make a random one: head -c %zu /dev/urandom | base64 -w 0 > %s; chmod 600 %s"

int cfg_check_hmac_key(const char *secret, size_t len, const char *file, const struct sg_strv *algs,
		       struct sg_buf *msg)
{
	char shown[SHOW_MAX + 8], what[SHOW_MAX + 32], whybuf[64];
	const char *alg = NULL, *target = "jwt.key";
	size_t need = hmac_min_len(algs, &alg);
	const char *why = placeholder(secret, len, whybuf, sizeof(whybuf));

	if (why == NULL && len >= need)
		return 0;
	if (file != NULL) {
		cfg_show(file, shown, sizeof(shown));
		snprintf(what, sizeof(what), "'%s'", shown);
		target = shown;
	} else {
		snprintf(what, sizeof(what), "the secret");
	}
	if (why != NULL)
		sg_buf_printf(msg,
			      "%s is a placeholder, not a key (it %s): anyone could sign tokens; ",
			      what, why);
	else
		sg_buf_printf(msg,
			      "%s is %zu byte%s long; %s needs a key of at least %zu bytes (RFC "
			      "7518 section 3.2); ",
			      what, len, len == 1 ? "" : "s", alg, need);
	sg_buf_printf(msg, KEY_FIX_FMT, need > 32 ? need : (size_t)32, target, target);
	if (file == NULL)
		sg_buf_append_str(msg, ", and give auth.jwt.secret_file: jwt.key");
	return -1;
}

int cfg_check_admin_token(const char *token, size_t len, struct sg_err *err)
{
	char whybuf[64];

	if (placeholder(token, len, whybuf, sizeof(whybuf)) == NULL)
		return 0;
	return sg_err_set(err,
			  "the token is a placeholder (it %s): anyone could use the admin API; "
			  "make a random one: head -c 32 /dev/urandom | base64 -w 0 > admin.token; "
			  "chmod 600 admin.token",
			  whybuf);
}

bool cfg_weak_secret_accepted(const struct sg_config *cfg, struct sg_buf *msg)
{
	return cfg->auth.jwt.allow_weak_secret && cfg->auth.jwt.secret != NULL &&
	       cfg_check_hmac_key(cfg->auth.jwt.secret, cfg->auth.jwt.secret_len,
				  cfg->auth.jwt.secret_file, &cfg->auth.jwt.algorithms, msg) != 0;
}
