/*
 * config_table.c: the key table built from config_keys.def, with a
 * compile-time check that each key's field has the C type its kind writes.
 */
#include "config/config_table.h"

#include <stdbool.h>

#include "config/config.h"

/* Compile-time check that each key's field has the C type its kind writes. */
/* clang-format 14 does not know _Generic */
/* clang-format off */
#define KT_CHECK_STRING(f) _Generic((f), char *: 1, default: 0)
#define KT_CHECK_SECRET KT_CHECK_STRING
#define KT_CHECK_FILE KT_CHECK_STRING
#define KT_CHECK_URL KT_CHECK_STRING
#define KT_CHECK_ADDR KT_CHECK_STRING
#define KT_CHECK_PATH KT_CHECK_STRING
#define KT_CHECK_BOOL(f) _Generic((f), bool: 1, default: 0)
#define KT_CHECK_UINT(f) _Generic((f), unsigned: 1, default: 0)
#define KT_CHECK_UINT64(f) _Generic((f), uint64_t: 1, default: 0)
#define KT_CHECK_DURATION(f) _Generic((f), int64_t: 1, default: 0)
#define KT_CHECK_SIZE KT_CHECK_UINT64
#define KT_CHECK_ENUM(f) (sizeof(f) == sizeof(int))
#define KT_CHECK_STRV(f) _Generic((f), struct sg_strv: 1, default: 0)
#define KT_CHECK_ORIGINS KT_CHECK_STRV
#define KT_CHECK_LISTEN KT_CHECK_STRV
#define KT_CHECK_NAMESPACES KT_CHECK_STRV
#define KT_CHECK_ALGORITHMS KT_CHECK_STRV
#define KT_CHECK_REDIS_URL KT_CHECK_STRV
#define KT_CHECK_HEADERS KT_CHECK_STRV
#define KT_CHECK_CIDRS KT_CHECK_STRV
#define KT_CHECK_TRANSPORTS KT_CHECK_UINT
#define KT_CHECK_WORKERS KT_CHECK_UINT
#define KT_CHECK_TOKEN_FROM(f) _Generic(&(f)[0], enum sg_token_source *: 1, default: 0)
#define KT_CHECK_FORWARD(f) _Generic((f), struct sg_forward_rule *: 1, default: 0)
/* clang-format on */

#define SG_KEY(name, type, field, def, min, max, choices, flags, doc)   \
	_Static_assert(KT_CHECK_##type(((struct sg_config *)0)->field), \
		       "config_keys.def: wrong field type for " name);
#include "config/config_keys.def"
#undef SG_KEY

const struct key_def config_keys[CONFIG_N_KEYS] = {
#define SG_KEY(name, type, field, def, min, max, choices, flags, doc) \
	{ name, KT_##type, offsetof(struct sg_config, field), def, min, max, choices, flags, doc },
#include "config/config_keys.def"
#undef SG_KEY
};

_Static_assert(SG_ARRAY_LEN(config_keys) == CONFIG_N_KEYS, "config_keys.def: key count");

/* The enums are stored through an int: they must have its size. */
_Static_assert(sizeof(enum sg_verifier) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sg_auth_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sg_on_flood) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sg_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sg_log_format) == sizeof(int), "enum size");
