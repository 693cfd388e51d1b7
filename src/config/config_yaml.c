/*
 * config_yaml.c: the nesting-depth cap and ${NAME} expansion (see
 * config_yaml.h).  Invariant: the expansion only ever replaces the text of
 * scalar value nodes, each at most once, and never reads anything but the
 * environment.
 */
#include "config/config_yaml.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest path of a value named in a message (longer ones are cut). */
#define PATH_MAX_LEN 160
/* Longest variable name quoted in a message. */
#define NAME_SHOW_MAX 60

struct expand_walk {
	yaml_document_t *doc;
	bool *visited; /* by node index */
	size_t n_nodes;
	cfg_expand_err_fn on_err;
	void *ctx;
	size_t problems;
	/* the scalar being expanded, for on_value_msg */
	const yaml_node_t *node;
	const char *path;
};

static bool name_start(char c);
static bool name_char(char c);
static void on_value_msg(void *ctx, const char *msg);
static void expand_scalar(struct expand_walk *x, yaml_node_t *n, const char *path);
static void expand_node(struct expand_walk *x, yaml_node_t *n, const char *path);

int cfg_depth_exceeded(const char *text, size_t len, unsigned max_depth, int *line, int *col)
{
	yaml_parser_t parser;
	unsigned depth = 0;
	int rc = 0;

	if (!yaml_parser_initialize(&parser))
		sg_fatal("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		yaml_event_t ev;
		bool end;

		if (!yaml_parser_parse(&parser, &ev))
			break; /* a syntax error: the loader reports it */
		end = ev.type == YAML_STREAM_END_EVENT;
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			if (++depth > max_depth) {
				*line = (int)ev.start_mark.line + 1;
				*col = (int)ev.start_mark.column + 1;
				rc = 1;
				end = true;
			}
		} else if ((ev.type == YAML_SEQUENCE_END_EVENT ||
			    ev.type == YAML_MAPPING_END_EVENT) &&
			   depth > 0) {
			depth--;
		}
		yaml_event_delete(&ev);
		if (end)
			break;
	}
	yaml_parser_delete(&parser);
	return rc;
}

static bool name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

size_t cfg_expand_text(const char *s, size_t len, struct sg_buf *out,
		       void (*on_msg)(void *ctx, const char *msg), void *ctx)
{
	size_t problems = 0, i = 0;

	while (i < len) {
		const char *dollar = memchr(s + i, '$', len - i);
		const char *close;
		size_t at, n;

		if (dollar == NULL) {
			sg_buf_append(out, s + i, len - i);
			break;
		}
		at = (size_t)(dollar - s);
		sg_buf_append(out, s + i, at - i);
		if (at + 1 < len && s[at + 1] == '$') {
			sg_buf_append_char(out, '$');
			i = at + 2;
			continue;
		}
		if (at + 1 >= len || s[at + 1] != '{') {
			/* a lone $ is literal text (bcrypt hashes, passwords) */
			sg_buf_append_char(out, '$');
			i = at + 1;
			continue;
		}
		close = memchr(s + at + 2, '}', len - at - 2);
		if (close == NULL) {
			on_msg(ctx, "unterminated '${' (write '$$' for a literal '$')");
			problems++;
			break;
		}
		n = (size_t)(close - (s + at + 2));
		{
			const char *name = s + at + 2;
			char buf[256];
			bool valid = n > 0 && name_start(name[0]);

			for (size_t k = 1; valid && k < n; k++)
				valid = name_char(name[k]);
			if (!valid) {
				on_msg(ctx,
				       n > 0 && memchr(name, ':', n) != NULL
					       ? "'${NAME:...}' forms are not supported: write ${NAME} "
						 "(write '$$' for a literal '$')"
					       : "invalid variable name in '${...}': a letter or _ then "
						 "letters, digits or _ (write '$$' for a literal '$')");
				problems++;
			} else if (n >= sizeof(buf)) {
				on_msg(ctx, "variable name in '${...}' is too long");
				problems++;
			} else {
				const char *v;

				memcpy(buf, name, n);
				buf[n] = '\0';
				v = getenv(buf);
				if (v != NULL) {
					sg_buf_append_str(out, v);
				} else {
					char msg[NAME_SHOW_MAX + 64];

					snprintf(msg, sizeof(msg),
						 "environment variable %.*s is not set",
						 NAME_SHOW_MAX, buf);
					on_msg(ctx, msg);
					problems++;
				}
			}
		}
		i = (size_t)(close - s) + 1;
	}
	return problems;
}

static void on_value_msg(void *ctx, const char *msg)
{
	struct expand_walk *x = ctx;

	x->on_err(x->ctx, x->node, x->path, msg);
}

static void expand_scalar(struct expand_walk *x, yaml_node_t *n, const char *path)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	struct sg_buf out;
	size_t problems;

	if (memchr(s, '$', len) == NULL)
		return;
	x->node = n;
	x->path = path;
	sg_buf_init(&out);
	problems = cfg_expand_text(s, len, &out, on_value_msg, x);
	x->problems += problems;
	if (problems > 0) {
		sg_buf_fini(&out);
		return;
	}
	/* libyaml frees scalar text with yaml_free(), which is free(): a
	 * malloc'd replacement is released with the document. */
	free(n->data.scalar.value);
	n->data.scalar.length = out.len;
	n->data.scalar.value = (yaml_char_t *)sg_buf_steal(&out);
}

static void expand_node(struct expand_walk *x, yaml_node_t *n, const char *path)
{
	size_t idx;

	if (n == NULL)
		return;
	idx = (size_t)(n - x->doc->nodes.start);
	if (idx >= x->n_nodes || x->visited[idx])
		return;
	x->visited[idx] = true;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		expand_scalar(x, n, path);
		break;
	case YAML_SEQUENCE_NODE: {
		size_t i = 0;

		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++, i++) {
			char sub[PATH_MAX_LEN];

			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			expand_node(x, yaml_document_get_node(x->doc, *it), sub);
		}
		break;
	}
	case YAML_MAPPING_NODE:
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
			char sub[PATH_MAX_LEN];

			if (kn != NULL) {
				size_t k = (size_t)(kn - x->doc->nodes.start);

				/* keys are names, never expanded */
				if (k < x->n_nodes)
					x->visited[k] = true;
			}
			if (kn != NULL && kn->type == YAML_SCALAR_NODE)
				snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "",
					 (const char *)kn->data.scalar.value);
			else
				snprintf(sub, sizeof(sub), "%s", path);
			expand_node(x, yaml_document_get_node(x->doc, p->value), sub);
		}
		break;
	default:
		break;
	}
}

size_t cfg_expand_document(yaml_document_t *doc, cfg_expand_err_fn on_err, void *ctx)
{
	struct expand_walk x;

	memset(&x, 0, sizeof(x));
	x.doc = doc;
	x.n_nodes = (size_t)(doc->nodes.top - doc->nodes.start);
	if (x.n_nodes == 0)
		return 0;
	x.visited = sg_calloc(x.n_nodes, sizeof(*x.visited));
	x.on_err = on_err;
	x.ctx = ctx;
	expand_node(&x, yaml_document_get_root_node(doc), "");
	free(x.visited);
	return x.problems;
}
