/*
 * config_secret.h: the files and values of the configuration that hold
 * secrets.  Where a relative file name is found (systemd's
 * $CREDENTIALS_DIRECTORY first, then the configuration file's directory),
 * which secret files may be read (private to their owner, or under
 * $CREDENTIALS_DIRECTORY), and which HMAC keys are refused (placeholders,
 * and keys shorter than their algorithm's hash, RFC 7518 section 3.2).  For
 * config*.c; no loader state, no logging: errors come back in a struct
 * sg_err, never quoting a secret.
 */
#ifndef SG_CONFIG_SECRET_H
#define SG_CONFIG_SECRET_H

#include <stddef.h>

#include "core/common.h"

/* The file name p of a configuration key, resolved: an absolute p as it
 * is; a relative p as $CREDENTIALS_DIRECTORY/p when that variable is set
 * (not empty) and a file exists there, otherwise as base_dir/p (p itself
 * when base_dir is NULL).  Returns a new string. */
char *cfg_resolve_file(const char *base_dir, const char *p);

/* Whether the existing file path lies inside $CREDENTIALS_DIRECTORY
 * (compared after resolving symbolic links and ".."). */
bool cfg_in_credentials_dir(const char *path);

/* Reads the secret file path into out (replacing its content), at most max
 * bytes, with one trailing newline removed.  The file must be a regular
 * file whose mode gives nothing to group and others, unless it is inside
 * $CREDENTIALS_DIRECTORY (systemd makes those private to the service).
 * Returns 0, or -1 with err ("cannot open 'F': ...", "'F' is not a regular
 * file", "'F' is accessible by group or others (mode 0644); chmod 600 it",
 * "'F' is larger than 1MB", "'F' is empty"); out is wiped on failure. */
int cfg_read_secret_file(const char *path, size_t max, struct sg_buf *out,
			 struct sg_err *err) SG_WUR;

/* Checks the HMAC key secret[0..len), from auth.jwt.secret (file NULL) or
 * from the file `file`, for the HS* algorithms listed in algs.  Refused, -1
 * with the message in msg (appended), when it is a placeholder
 * (case-insensitive, ignoring spaces, '-', '_' and '.': it contains
 * "changeme", "replaceme"...; or it is the whole word "secret",
 * "example"...; or it repeats one character), or when it is shorter than
 * the hash of the strictest HS* algorithm listed (RFC 7518 section 3.2: 32,
 * 48, 64 bytes).  The message names the key's length, never its content
 * (but a placeholder word), and gives the command that makes a good key. */
int cfg_check_hmac_key(const char *secret, size_t len, const char *file, const struct sg_strv *algs,
		       struct sg_buf *msg) SG_WUR;

/* -1 with a message in err when the admin token token[0..len) is such a
 * placeholder. */
int cfg_check_admin_token(const char *token, size_t len, struct sg_err *err) SG_WUR;

struct sg_config;
/* Whether cfg's HMAC key is weak (a placeholder, or short) and accepted
 * only because of auth.jwt.allow_weak_secret: then msg says why (never the
 * key itself), for a warning at start, on reload and from --check. */
bool cfg_weak_secret_accepted(const struct sg_config *cfg, struct sg_buf *msg);

#endif
