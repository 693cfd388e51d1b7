/*
 * config_type_list.c: the operations of the key types whose value is a list
 * or a mapping (config_type.h): lists of strings, each kind with its own
 * check of an item (origins, listen addresses, namespaces, JWT algorithms,
 * CIDR blocks, Redis URLs); lists of fixed words (transports as bits, token
 * sources in order); the verifier's extra headers; the forwarding rules.  A
 * list never holds the same string twice, and an item with an error is
 * reported and left out, so the other items are still checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_loader.h"
#include "config/config_type.h"
#include "config/config_value.h"
#include "proto/cidr.h"

#define FORWARD_TIMEOUT_MS 3000	   /* events.forward[].timeout default */
#define FORWARD_TIMEOUT_MAX 600000 /* and its upper bound (10m) */

/* Checks item s of a list of strings (shown: s quoted for a message); false
 * after an error at its node in. */
typedef bool item_check_fn(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *in,
			   const char *s, const char *shown);

static bool parse_str_list(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n,
			   item_check_fn *check);
static void need_one(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n);
static item_check_fn check_origin, check_listen, check_namespace, check_algorithm, check_cidr;
static bool check_redis_url(struct cfg_loader *ld, const char *path, const yaml_node_t *n,
			    const char *s);
static bool strv_equal(const struct sg_strv *a, const struct sg_strv *b);
static void print_strings(struct sg_buf *out, const struct sg_strv *names,
			  const struct sg_strv *values);
static bool parse_choices(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n,
			  unsigned *bits, int *order, size_t max, size_t *count);
static void print_choices(const struct key_def *k, const int *order, size_t count,
			  struct sg_buf *out);
static void free_forward_rule(struct sg_forward_rule *r);
static bool parse_forward_rule(struct cfg_loader *ld, const char *path, const yaml_node_t *n,
			       struct sg_forward_rule *r);
static cfg_parse_fn parse_strv, parse_origins, parse_listen, parse_namespaces, parse_algorithms,
	parse_cidrs, parse_redis_url, parse_transports, parse_token_from, parse_headers,
	parse_forward;
static cfg_free_fn free_strv, free_headers, free_forward;
static cfg_copy_fn copy_strv, copy_token_from, copy_headers, copy_forward;
static cfg_equal_fn equal_strv, equal_token_from, equal_headers, equal_forward;
static cfg_print_fn print_strv, print_transports, print_token_from, print_headers, print_forward;

/* ---- lists of strings -------------------------------------------------------- */

/* The non-empty strings of list n, each checked by check (when not NULL),
 * appended to the field of k unless already there.  False when n is not a
 * list. */
static bool parse_str_list(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n,
			   item_check_fn *check)
{
	struct sg_strv *f = config_key_field(ld->cfg, k);
	char buf[SHOW_MAX + 8];

	if (!cfg_want_seq(ld, k->name, n, "a list"))
		return false;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *in = cfg_doc_node(ld, *it);
		const char *s = cfg_want_scalar(ld, k->name, in, "a string");

		if (s == NULL)
			continue;
		if (s[0] == '\0') {
			cfg_node_err(ld, in, k->name, "list items must not be empty");
			continue;
		}
		cfg_show(s, buf, sizeof(buf));
		if (check != NULL && !check(ld, k, in, s, buf))
			continue;
		if (!sg_strv_contains(f, s))
			sg_strv_push(f, s);
	}
	return true;
}

/* For the lists that cannot be empty: an error when list n is. */
static void need_one(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	const struct sg_strv *f = config_key_field(ld->cfg, k);

	if (f->n == 0 && n->data.sequence.items.start == n->data.sequence.items.top)
		cfg_node_err(ld, n, k->name, "must list at least one entry");
}

static void parse_strv(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	(void)parse_str_list(ld, k, n, NULL);
}

static bool check_origin(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *in,
			 const char *s, const char *shown)
{
	if (strcmp(s, "*") == 0 ||
	    (cfg_is_http_url(s) && strchr(strstr(s, "://") + 3, '/') == NULL))
		return true;
	cfg_node_err(ld, in, k->name,
		     "origins are \"*\" or scheme://host[:port] without a path (got '%s')", shown);
	return false;
}

static void parse_origins(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	(void)parse_str_list(ld, k, n, check_origin);
}

static bool check_listen(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *in,
			 const char *s, const char *shown)
{
	struct sg_err err;

	(void)shown;
	if (cfg_parse_listen(s, &err) == 0)
		return true;
	cfg_node_err(ld, in, k->name, "%s", err.msg);
	return false;
}

static void parse_listen(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	if (parse_str_list(ld, k, n, check_listen))
		need_one(ld, k, n);
}

static bool check_namespace(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *in,
			    const char *s, const char *shown)
{
	if (s[0] == '/')
		return true;
	cfg_node_err(ld, in, k->name, "namespaces start with '/' (got '%s')", shown);
	return false;
}

/* "/" is always served: it is put first when not listed. */
static void parse_namespaces(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	struct sg_strv *f = config_key_field(ld->cfg, k);

	if (!parse_str_list(ld, k, n, check_namespace) || sg_strv_contains(f, "/"))
		return;
	f->v = sg_realloc(f->v, (f->n + 1) * sizeof(*f->v));
	memmove(f->v + 1, f->v, f->n * sizeof(*f->v));
	f->v[0] = sg_strdup("/");
	f->n++;
}

static bool check_algorithm(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *in,
			    const char *s, const char *shown)
{
	(void)shown;
	if (strcasecmp(s, "none") == 0) {
		cfg_node_err(ld, in, k->name,
			     "algorithm 'none' is refused: it would accept unsigned tokens");
		return false;
	}
	return cfg_want_choice(ld, k, in, s) >= 0;
}

static void parse_algorithms(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	if (parse_str_list(ld, k, n, check_algorithm))
		need_one(ld, k, n);
}

static bool check_cidr(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *in,
		       const char *s, const char *shown)
{
	struct sg_err err;
	struct cidr c;

	(void)shown;
	if (cidr_parse(s, &c, &err) == 0)
		return true;
	cfg_node_err(ld, in, k->name, "%s", err.msg);
	return false;
}

static void parse_cidrs(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	(void)parse_str_list(ld, k, n, check_cidr);
}

static bool check_redis_url(struct cfg_loader *ld, const char *path, const yaml_node_t *n,
			    const char *s)
{
	char buf[SHOW_MAX + 8];

	if ((strncmp(s, "redis://", 8) == 0 && s[8] != '\0') ||
	    (strncmp(s, "rediss://", 9) == 0 && s[9] != '\0') ||
	    (strncmp(s, "unix://", 7) == 0 && s[7] == '/'))
		return true;
	cfg_node_err(ld, n, path, "expected redis[s]://HOST[:PORT][/DB] or unix:///PATH (got '%s')",
		     cfg_show(s, buf, sizeof(buf)));
	return false;
}

/* One URL or a list of them (the seeds of a cluster). */
static void parse_redis_url(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	struct sg_strv *f = config_key_field(ld->cfg, k);

	if (n->type == YAML_SCALAR_NODE) {
		const char *s = cfg_want_scalar(ld, k->name, n, "a URL");

		/* An empty string is standalone, like no key at all. */
		if (s != NULL && s[0] != '\0' && check_redis_url(ld, k->name, n, s))
			sg_strv_push(f, s);
		return;
	}
	if (!cfg_want_seq(ld, k->name, n, "a URL or a list of URLs"))
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *in = cfg_doc_node(ld, *it);
		const char *s = cfg_want_scalar(ld, k->name, in, "a URL");

		if (s != NULL && check_redis_url(ld, k->name, in, s) && !sg_strv_contains(f, s))
			sg_strv_push(f, s);
	}
}

static void free_strv(struct sg_config *cfg, const struct key_def *k)
{
	sg_strv_free(config_key_field(cfg, k));
}

static void copy_strv(struct sg_config *dst, const struct sg_config *src, const struct key_def *k)
{
	sg_strv_free(config_key_field(dst, k));
	sg_strv_copy(config_key_field(dst, k), config_key_field(src, k));
}

static bool strv_equal(const struct sg_strv *a, const struct sg_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static bool equal_strv(const struct sg_config *a, const struct sg_config *b,
		       const struct key_def *k)
{
	return strv_equal(config_key_field(a, k), config_key_field(b, k));
}

/* names as a YAML list, or with values as a mapping of names to values.
 * Mapping keys are names, which the loader does not expand: no "$$". */
static void print_strings(struct sg_buf *out, const struct sg_strv *names,
			  const struct sg_strv *values)
{
	sg_buf_append_char(out, values != NULL ? '{' : '[');
	for (size_t i = 0; i < names->n; i++) {
		if (i > 0)
			sg_buf_append_str(out, ", ");
		cfg_print_quoted(out, names->v[i], values == NULL);
		if (values != NULL) {
			sg_buf_append_str(out, ": ");
			cfg_print_quoted(out, values->v[i], true);
		}
	}
	sg_buf_append_char(out, values != NULL ? '}' : ']');
}

static void print_strv(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	print_strings(out, config_key_field(cfg, k), NULL);
}

/* ---- lists of fixed words ----------------------------------------------------- */

/* The words of k->choices listed in n, each at most once: as bits (bit i is
 * choice i) and the first max of them in order.  False when n is not a list
 * or is empty (an error either way). */
static bool parse_choices(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n,
			  unsigned *bits, int *order, size_t max, size_t *count)
{
	*bits = 0;
	*count = 0;
	if (!cfg_want_seq(ld, k->name, n, "a list"))
		return false;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *in = cfg_doc_node(ld, *it);
		const char *s = cfg_want_scalar(ld, k->name, in, "a word");
		int i;

		if (s == NULL)
			continue;
		i = cfg_want_choice(ld, k, in, s);
		if (i < 0)
			continue;
		if (*bits & (1u << i)) {
			cfg_node_err(ld, in, k->name, "'%s' is listed twice", s);
			continue;
		}
		*bits |= 1u << i;
		if (*count < max)
			order[(*count)++] = i;
	}
	if (n->data.sequence.items.start == n->data.sequence.items.top) {
		cfg_node_err(ld, n, k->name, "must list at least one entry");
		return false;
	}
	return true;
}

static void print_choices(const struct key_def *k, const int *order, size_t count,
			  struct sg_buf *out)
{
	char buf[64];

	sg_buf_append_char(out, '[');
	for (size_t i = 0; i < count; i++) {
		cfg_choice_name(k->choices, order[i], buf, sizeof(buf));
		sg_buf_printf(out, "%s%s", i > 0 ? ", " : "", buf);
	}
	sg_buf_append_char(out, ']');
}

/* Stored as bits: bit i is choice i (polling, websocket: enum sg_transport). */
static void parse_transports(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	unsigned bits;
	size_t count;

	if (parse_choices(ld, k, n, &bits, NULL, 0, &count))
		*(unsigned *)config_key_field(ld->cfg, k) = bits;
}

static void print_transports(const struct sg_config *cfg, const struct key_def *k,
			     struct sg_buf *out)
{
	unsigned bits = *(unsigned *)config_key_field(cfg, k);
	int order[sizeof(bits) * 8];
	size_t count = 0;

	for (int i = 0; i < (int)SG_ARRAY_LEN(order); i++)
		if (bits & (1u << i))
			order[count++] = i;
	print_choices(k, order, count, out);
}

/* The only TOKEN_FROM key is auth.jwt.token_from: an array of enum
 * sg_token_source in order, with its length in auth.jwt.n_token_from. */

static void parse_token_from(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	enum sg_token_source *f = config_key_field(ld->cfg, k);
	int order[SG_ARRAY_LEN(ld->cfg->auth.jwt.token_from)];
	unsigned bits;
	size_t count;

	if (!parse_choices(ld, k, n, &bits, order, SG_ARRAY_LEN(order), &count))
		return;
	for (size_t i = 0; i < count; i++)
		f[i] = (enum sg_token_source)order[i];
	ld->cfg->auth.jwt.n_token_from = count;
}

static void copy_token_from(struct sg_config *dst, const struct sg_config *src,
			    const struct key_def *k)
{
	memcpy(config_key_field(dst, k), config_key_field(src, k),
	       sizeof(src->auth.jwt.token_from));
	dst->auth.jwt.n_token_from = src->auth.jwt.n_token_from;
}

static bool equal_token_from(const struct sg_config *a, const struct sg_config *b,
			     const struct key_def *k)
{
	return a->auth.jwt.n_token_from == b->auth.jwt.n_token_from &&
	       memcmp(config_key_field(a, k), config_key_field(b, k),
		      a->auth.jwt.n_token_from * sizeof(a->auth.jwt.token_from[0])) == 0;
}

static void print_token_from(const struct sg_config *cfg, const struct key_def *k,
			     struct sg_buf *out)
{
	const enum sg_token_source *f = config_key_field(cfg, k);
	int order[SG_ARRAY_LEN(cfg->auth.jwt.token_from)];
	size_t count = cfg->auth.jwt.n_token_from;

	for (size_t i = 0; i < count && i < SG_ARRAY_LEN(order); i++)
		order[i] = (int)f[i];
	print_choices(k, order, count, out);
}

/* ---- the verifier's headers --------------------------------------------------- */

/* The only HEADERS key is auth.http.headers: two parallel lists, the names
 * (the key's field, auth.http.header_names) and auth.http.header_values. */

static void parse_headers(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	struct sg_strv *names = config_key_field(ld->cfg, k);
	struct sg_strv *values = &ld->cfg->auth.http.header_values;
	char buf[SHOW_MAX + 8];

	if (n->type != YAML_MAPPING_NODE) {
		cfg_node_err(ld, n, k->name, "expected a mapping of header names to values, got %s",
			     cfg_node_kind(n));
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = cfg_doc_node(ld, p->key);
		yaml_node_t *vn = cfg_doc_node(ld, p->value);
		const char *name = cfg_want_scalar(ld, k->name, kn, "a header name");
		const char *value;
		bool dup = false;

		if (name == NULL)
			continue;
		if (name[0] == '\0' ||
		    strspn(name, "!#$%&'*+-.^_`|~0123456789"
				 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
			    strlen(name)) {
			cfg_node_err(ld, kn, k->name, "invalid header name '%s'",
				     cfg_show(name, buf, sizeof(buf)));
			continue;
		}
		for (size_t i = 0; i < names->n; i++)
			dup = dup || strcasecmp(names->v[i], name) == 0;
		if (dup) {
			cfg_node_err(ld, kn, k->name, "header '%s' is given twice",
				     cfg_show(name, buf, sizeof(buf)));
			continue;
		}
		value = cfg_want_scalar(ld, k->name, vn, "a header value");
		if (value == NULL)
			continue;
		if (strpbrk(value, "\r\n") != NULL) {
			cfg_node_err(ld, vn, k->name,
				     "the value of header '%s' contains a line break",
				     cfg_show(name, buf, sizeof(buf)));
			continue;
		}
		sg_strv_push(names, name);
		sg_strv_push(values, value);
	}
}

static void free_headers(struct sg_config *cfg, const struct key_def *k)
{
	sg_strv_free(config_key_field(cfg, k));
	sg_strv_free(&cfg->auth.http.header_values);
}

static void copy_headers(struct sg_config *dst, const struct sg_config *src,
			 const struct key_def *k)
{
	free_headers(dst, k);
	sg_strv_copy(config_key_field(dst, k), config_key_field(src, k));
	sg_strv_copy(&dst->auth.http.header_values, &src->auth.http.header_values);
}

static bool equal_headers(const struct sg_config *a, const struct sg_config *b,
			  const struct key_def *k)
{
	return strv_equal(config_key_field(a, k), config_key_field(b, k)) &&
	       strv_equal(&a->auth.http.header_values, &b->auth.http.header_values);
}

static void print_headers(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	print_strings(out, config_key_field(cfg, k), &cfg->auth.http.header_values);
}

/* ---- the forwarding rules ----------------------------------------------------- */

/* The only FORWARD key is events.forward: an array of rules (the key's
 * field) with its length in events.n_forward. */

static void free_forward_rule(struct sg_forward_rule *r)
{
	free(r->match);
	free(r->stream);
	free(r->http);
}

/* One events.forward item; false (r freed) when it is invalid. */
static bool parse_forward_rule(struct cfg_loader *ld, const char *path, const yaml_node_t *n,
			       struct sg_forward_rule *r)
{
	static const char *const fields[] = { "match", "stream", "http", "timeout" };
	const yaml_node_t *given[SG_ARRAY_LEN(fields)] = { NULL };
	size_t before = ld->n_errs;
	char sub[96], buf[SHOW_MAX + 8];

	memset(r, 0, sizeof(*r));
	r->timeout_ms = FORWARD_TIMEOUT_MS;
	if (n->type != YAML_MAPPING_NODE) {
		cfg_node_err(ld, n, path,
			     "expected a mapping {match, stream} or {match, http, timeout}, got %s",
			     cfg_node_kind(n));
		return false;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = cfg_doc_node(ld, p->key);
		yaml_node_t *vn = cfg_doc_node(ld, p->value);
		const char *name = cfg_want_scalar(ld, path, kn, "a key");
		const char *s;
		size_t f;

		if (name == NULL)
			continue;
		for (f = 0; f < SG_ARRAY_LEN(fields); f++)
			if (strcmp(name, fields[f]) == 0)
				break;
		if (f == SG_ARRAY_LEN(fields)) {
			const char *hint = cfg_suggest_among(name, fields, SG_ARRAY_LEN(fields));

			cfg_show(name, buf, sizeof(buf));
			if (hint != NULL)
				cfg_node_err(ld, kn, path, "unknown key '%s' (did you mean '%s'?)",
					     buf, hint);
			else
				cfg_node_err(ld, kn, path,
					     "unknown key '%s' (rules take match, stream, http, "
					     "timeout)",
					     buf);
			continue;
		}
		snprintf(sub, sizeof(sub), "%s.%s", path, fields[f]);
		if (given[f] != NULL) {
			cfg_node_err(ld, kn, sub, "duplicate key (first given at line %d)",
				     cfg_node_line(given[f]));
			continue;
		}
		given[f] = vn;
		if (f == 3) {
			(void)cfg_get_duration(ld, sub, vn, 1, FORWARD_TIMEOUT_MAX, &r->timeout_ms);
			continue;
		}
		s = cfg_want_scalar(ld, sub, vn,
				    f == 2 ? "an http:// or https:// URL" : "a string");
		if (s == NULL)
			continue;
		if (s[0] == '\0') {
			cfg_node_err(ld, vn, sub, "must not be empty");
			continue;
		}
		if (f == 2 && !cfg_is_http_url(s)) {
			cfg_node_err(ld, vn, sub, "expected an http:// or https:// URL (got '%s')",
				     cfg_show(s, buf, sizeof(buf)));
			continue;
		}
		if (f == 0)
			r->match = sg_strdup(s);
		else if (f == 1)
			r->stream = sg_strdup(s);
		else
			r->http = sg_strdup(s);
	}
	if (given[0] == NULL)
		cfg_node_err(ld, n, path, "a rule needs match");
	if ((given[1] != NULL) == (given[2] != NULL))
		cfg_node_err(ld, n, path, "a rule needs exactly one of stream or http");
	else if (given[1] != NULL && given[3] != NULL)
		cfg_node_err(ld, given[3], path, "timeout applies to http rules only");
	if (ld->n_errs != before) {
		free_forward_rule(r);
		return false;
	}
	return true;
}

static void parse_forward(struct cfg_loader *ld, const struct key_def *k, const yaml_node_t *n)
{
	struct sg_forward_rule **f = config_key_field(ld->cfg, k);
	size_t *n_forward = &ld->cfg->events.n_forward;
	size_t i = 0;

	if (!cfg_want_seq(ld, k->name, n, "a list of rules"))
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		struct sg_forward_rule r;
		char path[64];

		snprintf(path, sizeof(path), "%s[%zu]", k->name, i);
		if (!parse_forward_rule(ld, path, cfg_doc_node(ld, *it), &r))
			continue;
		*f = sg_realloc(*f, (*n_forward + 1) * sizeof(r));
		(*f)[(*n_forward)++] = r;
	}
}

static void free_forward(struct sg_config *cfg, const struct key_def *k)
{
	struct sg_forward_rule *f = *(struct sg_forward_rule **)config_key_field(cfg, k);

	for (size_t j = 0; j < cfg->events.n_forward; j++)
		free_forward_rule(&f[j]);
	free(f);
}

static void copy_forward(struct sg_config *dst, const struct sg_config *src,
			 const struct key_def *k)
{
	const struct sg_forward_rule *s = *(struct sg_forward_rule **)config_key_field(src, k);
	struct sg_forward_rule *d = NULL;
	size_t n = src->events.n_forward;

	if (n > 0)
		d = sg_calloc(n, sizeof(*d));
	for (size_t j = 0; j < n; j++) {
		d[j].match = s[j].match != NULL ? sg_strdup(s[j].match) : NULL;
		d[j].stream = s[j].stream != NULL ? sg_strdup(s[j].stream) : NULL;
		d[j].http = s[j].http != NULL ? sg_strdup(s[j].http) : NULL;
		d[j].timeout_ms = s[j].timeout_ms;
	}
	free_forward(dst, k);
	*(struct sg_forward_rule **)config_key_field(dst, k) = d;
	dst->events.n_forward = n;
}

static bool equal_forward(const struct sg_config *a, const struct sg_config *b,
			  const struct key_def *k)
{
	const struct sg_forward_rule *fa = *(struct sg_forward_rule **)config_key_field(a, k);
	const struct sg_forward_rule *fb = *(struct sg_forward_rule **)config_key_field(b, k);

	if (a->events.n_forward != b->events.n_forward)
		return false;
	for (size_t j = 0; j < a->events.n_forward; j++) {
		const struct sg_forward_rule *x = &fa[j], *y = &fb[j];

		if (!cfg_str_equal(x->match, y->match) || !cfg_str_equal(x->stream, y->stream) ||
		    !cfg_str_equal(x->http, y->http) || x->timeout_ms != y->timeout_ms)
			return false;
	}
	return true;
}

/* A stream rule's timeout is not printed: it takes none (the loader gives it
 * the default, as it does when reading this back). */
static void print_forward(const struct sg_config *cfg, const struct key_def *k, struct sg_buf *out)
{
	const struct sg_forward_rule *f = *(struct sg_forward_rule **)config_key_field(cfg, k);
	char buf[32];

	sg_buf_append_char(out, '[');
	for (size_t j = 0; j < cfg->events.n_forward; j++) {
		sg_buf_append_str(out, j > 0 ? ", {match: " : "{match: ");
		cfg_print_quoted(out, f[j].match, true);
		if (f[j].stream != NULL) {
			sg_buf_append_str(out, ", stream: ");
			cfg_print_quoted(out, f[j].stream, true);
		} else {
			sg_buf_append_str(out, ", http: ");
			cfg_print_quoted(out, f[j].http, true);
			cfg_fmt_duration((uint64_t)f[j].timeout_ms, buf, sizeof(buf));
			sg_buf_printf(out, ", timeout: %s", buf);
		}
		sg_buf_append_char(out, '}');
	}
	sg_buf_append_char(out, ']');
}

/* ---- the types ------------------------------------------------------------------ */

/* Columns: what, flags, size; parse, free, copy, equal, print. */
const struct cfg_type cfg_type_strv = { "a list",  0,	      0,	  parse_strv,
					free_strv, copy_strv, equal_strv, print_strv };
const struct cfg_type cfg_type_origins = { "a list",  0,	 0,	     parse_origins,
					   free_strv, copy_strv, equal_strv, print_strv };
const struct cfg_type cfg_type_listen = { "a list",  0,		0,	    parse_listen,
					  free_strv, copy_strv, equal_strv, print_strv };
const struct cfg_type cfg_type_namespaces = { "a list",	 0,	    0,		parse_namespaces,
					      free_strv, copy_strv, equal_strv, print_strv };
const struct cfg_type cfg_type_algorithms = { "a list",	 0,	    0,		parse_algorithms,
					      free_strv, copy_strv, equal_strv, print_strv };
const struct cfg_type cfg_type_cidrs = { "a list of addresses or CIDR blocks",
					 0,
					 0,
					 parse_cidrs,
					 free_strv,
					 copy_strv,
					 equal_strv,
					 print_strv };
const struct cfg_type cfg_type_redis_url = { "a URL or a list of URLs",
					     0,
					     0,
					     parse_redis_url,
					     free_strv,
					     copy_strv,
					     equal_strv,
					     print_strv };
const struct cfg_type cfg_type_transports = { "a list",		0,
					      sizeof(unsigned), parse_transports,
					      cfg_free_plain,	cfg_copy_plain,
					      cfg_equal_plain,	print_transports };
const struct cfg_type cfg_type_token_from = {
	"a list",	 0, 0, parse_token_from, cfg_free_plain, copy_token_from, equal_token_from,
	print_token_from
};
const struct cfg_type cfg_type_headers = { "a mapping",	  CFG_TF_MAPPING, 0,
					   parse_headers, free_headers,	  copy_headers,
					   equal_headers, print_headers };
const struct cfg_type cfg_type_forward = {
	"a list of rules", 0, 0, parse_forward, free_forward, copy_forward, equal_forward,
	print_forward
};
