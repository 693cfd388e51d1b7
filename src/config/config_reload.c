/*
 * config_reload.c: what a SIGHUP reload may apply (see config_reload_merge
 * in config.h): keys flagged reloadable take the new value; any other key
 * whose value changed keeps the running one and is named to the caller.
 * Values are compared and copied by the operations of their key's type
 * (config_type.h), so every type can be kept.
 */
#include "config/config.h"
#include "config/config_table.h"
#include "config/config_type.h"

size_t config_reload_merge(struct sg_config *next, const struct sg_config *running,
			   const char **kept, size_t max_kept)
{
	size_t n = 0;

	for (size_t i = 0; i < CONFIG_N_KEYS; i++) {
		const struct key_def *k = &config_keys[i];
		const struct cfg_type *t = cfg_type_of(k);

		if ((k->flags & SG_KF_RELOAD) || t->equal(next, running, k))
			continue;
		t->copy(next, running, k);
		if (n < max_kept)
			kept[n] = k->name;
		n++;
	}
	return n;
}
