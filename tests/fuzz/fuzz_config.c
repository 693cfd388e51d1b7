/*
 * fuzz_config.c: libFuzzer driver for the configuration loader
 * (src/config/config.h, config_load_string).  The input is the text of a YAML
 * configuration file.  The loader either returns a snapshot and no error, or
 * NULL and at least one "fuzz.yaml..." message; a snapshot must hold the
 * invariants the rest of siogate relies on (path between slashes, "/" among
 * the namespaces, at least one transport, one target per forward rule).
 * Loading the same text twice must give the same messages.  A broken promise
 * is reported with __builtin_trap().  The loader may open files the text names
 * (auth.jwt.secret_file, admin.token_file): the seed corpus names none.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "proto/cidr.h"

#define FUZZ_NAME "fuzz.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void check_config(const struct sg_config *cfg);
static void check_errors(const struct sg_config_errors *errs);
static bool errors_equal(const struct sg_config_errors *a, const struct sg_config_errors *b);

static void check_config(const struct sg_config *cfg)
{
	size_t i, len;

	if (cfg->file == NULL || strcmp(cfg->file, FUZZ_NAME) != 0)
		__builtin_trap();
	if (cfg->server.id == NULL || cfg->server.path == NULL)
		__builtin_trap();
	len = strlen(cfg->server.path);
	if (len == 0 || cfg->server.path[0] != '/' || cfg->server.path[len - 1] != '/')
		__builtin_trap();
	if ((cfg->server.transports & (SG_TRANSPORT_POLLING | SG_TRANSPORT_WEBSOCKET)) == 0 ||
	    (cfg->server.transports & ~(unsigned)(SG_TRANSPORT_POLLING | SG_TRANSPORT_WEBSOCKET)))
		__builtin_trap();
	if (!sg_strv_contains(&cfg->namespaces, "/"))
		__builtin_trap();
	if ((cfg->server.tls.cert == NULL) != (cfg->server.tls.key == NULL))
		__builtin_trap();
	if (cfg->auth.jwt.n_token_from > SG_ARRAY_LEN(cfg->auth.jwt.token_from))
		__builtin_trap();
	if (cfg->auth.http.header_names.n != cfg->auth.http.header_values.n)
		__builtin_trap();
	if (cfg->redis.prefix == NULL)
		__builtin_trap();
	for (i = 0; i < cfg->events.n_forward; i++) {
		const struct sg_forward_rule *r = &cfg->events.forward[i];

		if (r->match == NULL || (r->stream == NULL) == (r->http == NULL))
			__builtin_trap();
	}
	if ((unsigned)cfg->log.level > SG_LOG_DEBUG || (unsigned)cfg->log.format > SG_LOG_JSON)
		__builtin_trap();
	/* the workers parse server.trusted_proxies again and count on it */
	for (i = 0; i < cfg->server.trusted_proxies.n; i++) {
		struct cidr c;

		if (cidr_parse(cfg->server.trusted_proxies.v[i], &c, NULL) != 0)
			__builtin_trap();
	}
	if (cfg->server.proxy_protocol && cfg->server.trusted_proxies.n == 0)
		__builtin_trap();
}

static void check_errors(const struct sg_config_errors *errs)
{
	size_t i;

	if (errs->n == 0 || errs->v == NULL)
		__builtin_trap();
	for (i = 0; i < errs->n; i++) {
		if (errs->v[i] == NULL ||
		    strncmp(errs->v[i], FUZZ_NAME, sizeof(FUZZ_NAME) - 1) != 0)
			__builtin_trap();
	}
}

static bool errors_equal(const struct sg_config_errors *a, const struct sg_config_errors *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_config_errors errs, errs2;
	struct sg_config *cfg, *cfg2;

	memset(&errs, 0, sizeof(errs));
	memset(&errs2, 0, sizeof(errs2));
	cfg = config_load_string(FUZZ_NAME, (const char *)data, size, &errs);
	if (cfg != NULL) {
		if (errs.n != 0)
			__builtin_trap();
		check_config(cfg);
	} else {
		check_errors(&errs);
	}
	/* Same text, same verdict, same messages. */
	cfg2 = config_load_string(FUZZ_NAME, (const char *)data, size, &errs2);
	if ((cfg2 == NULL) != (cfg == NULL) || !errors_equal(&errs, &errs2))
		__builtin_trap();
	config_free(cfg);
	config_free(cfg2);
	config_errors_free(&errs);
	config_errors_free(&errs2);
	return 0;
}
