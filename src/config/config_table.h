/*
 * config_table.h: the configuration key table, shared by the loader
 * (config.c and the files it uses), the key types (config_type.h) and the
 * reload merge (config_reload.c).  config_keys.def is the single source:
 * one entry per dotted key with its field, type, default, bounds, choices
 * and flags.  What each type of key does is in config_type.h.
 */
#ifndef SG_CONFIG_TABLE_H
#define SG_CONFIG_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define SG_KF_RELOAD (1u << 0)	 /* a SIGHUP reload applies the key */
#define SG_KF_NULLABLE (1u << 1) /* null is accepted and leaves the field unset */

struct sg_config;

enum key_type {
	KT_STRING,     /* non-empty string */
	KT_SECRET,     /* non-empty string, never echoed */
	KT_FILE,       /* path, resolved against the config file's directory */
	KT_URL,	       /* http:// or https:// URL */
	KT_ADDR,       /* one HOST:PORT */
	KT_PATH,       /* URL path normalised to /.../ */
	KT_BOOL,       /* true | false */
	KT_UINT,       /* unsigned in [min, max] */
	KT_UINT64,     /* uint64_t in [min, max] */
	KT_DURATION,   /* int64_t milliseconds in [min, max] */
	KT_SIZE,       /* uint64_t bytes in [min, max] */
	KT_ENUM,       /* index into choices */
	KT_STRV,       /* list of non-empty strings */
	KT_ORIGINS,    /* list of "*" or http(s) origins */
	KT_LISTEN,     /* list of HOST:PORT, at least one */
	KT_NAMESPACES, /* list of /names, "/" always included */
	KT_ALGORITHMS, /* list of JWT algorithm names from choices */
	KT_TRANSPORTS, /* list of choices as bits */
	KT_TOKEN_FROM, /* ordered list of choices without repeats */
	KT_WORKERS,    /* auto or an integer in [min, max] */
	KT_REDIS_URL,  /* one URL or a list of URLs */
	KT_HEADERS,    /* mapping of header name to value */
	KT_FORWARD,    /* list of forwarding rules */
	KT_CIDRS,      /* list of IPv4/IPv6 addresses or CIDR blocks */
	KT_COUNT       /* the number of types (config_type.h has one entry each) */
};

struct key_def {
	const char *name;
	enum key_type type;
	size_t off;
	const char *def;
	uint64_t min;
	uint64_t max;
	const char *choices;
	unsigned flags;
	const char *doc;
};

/* The number of keys, as a constant (the loader sizes arrays by it). */
enum {
	CONFIG_N_KEYS = 0
#define SG_KEY(name, type, field, def, min, max, choices, flags, doc) +1
#include "config/config_keys.def"
#undef SG_KEY
};

extern const struct key_def config_keys[CONFIG_N_KEYS];

/* The field key k writes in cfg (writable: callers given a const snapshot
 * only read through it). */
static inline void *config_key_field(const struct sg_config *cfg, const struct key_def *k)
{
	return (char *)cfg + k->off;
}

#endif
