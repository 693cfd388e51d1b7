/*
 * metrics.c: the /metrics page and its list (see metrics.h), driven by the
 * tables: core/metrics.def (what the workers count, read from their parts
 * and added up) then ops/metrics.def (computed once per scrape,
 * metrics_totals.c).  Each metric's name, type, labels and help are one row
 * of one of them; this file names no metric.
 */
#include "ops/metrics.h"

#include <stdio.h>
#include <string.h>

#include "ops/metrics_labels.h"
#include "ops/metrics_totals.h"

enum metric_type {
	METRIC_COUNTER,	  /* only grows */
	METRIC_GAUGE,	  /* the present value */
	METRIC_HISTOGRAM, /* buckets, a sum and a count (hist.h) */
};

enum metric_source {
	FROM_PARTS,	 /* a uint64_t of every worker's part, added up (or by worker) */
	FROM_PARTS_HIST, /* a struct sg_hist of every worker's part, the same */
	FROM_TOTALS,	 /* a struct metric_value of the totals: absent hides the series */
};

/* A label table, and the distance between the values of its successive
 * label values (0 for the worker table: it picks the worker's part). */
struct metric_dim {
	const struct metrics_labels *set;
	size_t stride;
};

/* A row of the tables: a metric (name set), or another series of the
 * metric above (name NULL, type and help unused). */
struct metric_row {
	const char *name;
	enum metric_type type;
	const char *help;
	const char *labels; /* fixed labels of its series ("" or a="b"), then by's */
	enum metric_source from;
	size_t offset;		 /* of the first value, in a part or in the totals */
	struct metric_dim by[2]; /* one series per value of each (set NULL: none) */
};

/* What render() reads. */
struct scrape {
	const struct sg_buf *parts;
	size_t n;
	struct metrics_totals totals;
	struct sg_buf labels; /* the series' labels being written */
};

/* A row with up to two label dimensions, each a set and a stride (DIM(set),
 * stride; or NODIM): ROW expands its arguments first, so that a dimension
 * is two of ROW_'s.  (Dimensions in braces, { set, stride }, put a comma
 * inside a macro argument that cppcheck's preprocessor miscounts.) */
#define ROW(...) ROW_(__VA_ARGS__)
#define ROW_(name, type, help, labels, from, offset, set0, stride0, set1, stride1) \
	{ name, type, help, labels, from, offset, { { set0, stride0 }, { set1, stride1 } } },
#define NODIM NULL, 0
#define DIM(set) &metrics_labels_##set
#define PART(member) (offsetof(struct metrics_part, stats) + offsetof(struct worker_stats, member))
#define TOTAL(member) offsetof(struct metrics_totals, member)

static const struct metric_row rows[] = {
#define COUNTER(f, name, labels, help) \
	ROW(name, METRIC_COUNTER, help, labels, FROM_PARTS, PART(f), NODIM, NODIM)
#define SERIES(f, labels) ROW(NULL, METRIC_COUNTER, NULL, labels, FROM_PARTS, PART(f), NODIM, NODIM)
#define COUNTER_BY(f, n, set, name, help) \
	ROW(name, METRIC_COUNTER, help, "", FROM_PARTS, PART(f), DIM(set), sizeof(uint64_t), NODIM)
#define GAUGE_BY(f, n, set, name, help) \
	ROW(name, METRIC_GAUGE, help, "", FROM_PARTS, PART(f), DIM(set), sizeof(uint64_t), NODIM)
#define HISTOGRAM(f, name, help) \
	ROW(name, METRIC_HISTOGRAM, help, "", FROM_PARTS_HIST, PART(f), NODIM, NODIM)
#define HISTOGRAM_BY_WORKER(f, name, help) \
	ROW(name, METRIC_HISTOGRAM, help, "", FROM_PARTS_HIST, PART(f), DIM(worker), 0, NODIM)
#define CALLOUT(f, name, help, hname, hhelp)                                                    \
	ROW(name, METRIC_COUNTER, help, "", FROM_PARTS, PART(f.outcomes), DIM(callout_outcome), \
	    sizeof(uint64_t), NODIM)                                                            \
	ROW(hname, METRIC_HISTOGRAM, hhelp, "", FROM_PARTS_HIST, PART(f.seconds), NODIM, NODIM)
#define CALLOUT_BY(f, n, set, name, help, hname, hhelp)                                        \
	ROW(name, METRIC_COUNTER, help, "", FROM_PARTS, PART(f[0].outcomes), DIM(set),         \
	    sizeof(struct callout_stats), DIM(callout_outcome), sizeof(uint64_t))              \
	ROW(hname, METRIC_HISTOGRAM, hhelp, "", FROM_PARTS_HIST, PART(f[0].seconds), DIM(set), \
	    sizeof(struct callout_stats), NODIM)
/* the X-macro includes, in this order */
/* clang-format off */
#include "core/metrics.def"
#include "core/metrics_undef.h"
/* clang-format on */
#define COUNTER(f, name, labels, help) \
	ROW(name, METRIC_COUNTER, help, labels, FROM_TOTALS, TOTAL(f), NODIM, NODIM)
#define GAUGE(f, name, labels, help) \
	ROW(name, METRIC_GAUGE, help, labels, FROM_TOTALS, TOTAL(f), NODIM, NODIM)
#define SERIES(f, labels) ROW(NULL, METRIC_GAUGE, NULL, labels, FROM_TOTALS, TOTAL(f), NODIM, NODIM)
#define COUNTER_BY(f, n, set, name, help)                                    \
	ROW(name, METRIC_COUNTER, help, "", FROM_TOTALS, TOTAL(f), DIM(set), \
	    sizeof(struct metric_value), NODIM)
#define GAUGE_BY(f, n, set, name, help)                                    \
	ROW(name, METRIC_GAUGE, help, "", FROM_TOTALS, TOTAL(f), DIM(set), \
	    sizeof(struct metric_value), NODIM)
#define GAUGE_BY_WORKER(f, name, help)                                                  \
	ROW(name, METRIC_GAUGE, help, "", FROM_PARTS, offsetof(struct metrics_part, f), \
	    DIM(worker), 0, NODIM)
/* the X-macro includes, in this order */
/* clang-format off */
#include "ops/metrics.def"
#include "core/metrics_undef.h"
	/* clang-format on */
};

static const char *const type_names[] = { "counter", "gauge", "histogram" };

static size_t dim_size(const struct metric_dim *d, size_t n_workers);
static void render_series(struct sg_buf *out, struct scrape *s, const struct metric_row *head,
			  const struct metric_row *row, const size_t ix[2], bool *shown);
static void write_labels(struct sg_buf *out, const struct metric_row *row, const size_t ix[2]);
static void write_hist(struct sg_buf *out, const char *name, const struct sg_buf *labels,
		       const struct sg_hist *h);
static void label_names(struct sg_buf *out, const struct metric_row *row);

/* Values of a label table: its size, or one per worker. */
static size_t dim_size(const struct metric_dim *d, size_t n_workers)
{
	if (d->set == NULL)
		return 1;
	return d->set->n > 0 ? d->set->n : n_workers;
}

void metrics_render(struct sg_buf *out, const struct sg_buf *parts, size_t n)
{
	struct scrape s = { .parts = parts, .n = n };
	const struct metric_row *head = rows;
	bool shown = false;

	metrics_totals_compute(&s.totals, parts, n);
	sg_buf_init(&s.labels);
	for (size_t r = 0; r < SG_ARRAY_LEN(rows); r++) {
		const struct metric_row *row = &rows[r];
		size_t ix[2];

		if (row->name != NULL) {
			head = row;
			shown = false;
		}
		for (ix[0] = 0; ix[0] < dim_size(&row->by[0], n); ix[0]++)
			for (ix[1] = 0; ix[1] < dim_size(&row->by[1], n); ix[1]++)
				render_series(out, &s, head, row, ix, &shown);
	}
	sg_buf_fini(&s.labels);
}

/* Series ix of row, the metric head's; its HELP and TYPE first when it is
 * the metric's first series shown. */
static void render_series(struct sg_buf *out, struct scrape *s, const struct metric_row *head,
			  const struct metric_row *row, const size_t ix[2], bool *shown)
{
	struct metric_value v = { .present = true };
	size_t off = row->offset, worker = SIZE_MAX;
	struct sg_hist h;

	for (int d = 0; d < 2; d++) {
		if (row->by[d].set == NULL)
			continue;
		if (row->by[d].set->n == 0)
			worker = ix[d];
		else
			off += ix[d] * row->by[d].stride;
	}
	memset(&h, 0, sizeof(h));
	for (size_t k = 0; k < s->n && row->from != FROM_TOTALS; k++) {
		const char *at = (const char *)metrics_part_of(s->parts, k) + off;
		if (worker != SIZE_MAX && k != worker)
			continue;
		if (row->from == FROM_PARTS)
			v.u += *(const uint64_t *)(const void *)at;
		else
			hist_add(&h, (const struct sg_hist *)(const void *)at);
	}
	if (row->from == FROM_TOTALS)
		v = *(const struct metric_value *)(const void *)((const char *)&s->totals + off);
	if (!v.present)
		return;
	if (!*shown)
		sg_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", head->name, head->help,
			      head->name, type_names[head->type]);
	*shown = true;
	sg_buf_reset(&s->labels);
	write_labels(&s->labels, row, ix);
	if (row->from == FROM_PARTS_HIST) {
		write_hist(out, head->name, &s->labels, &h);
		return;
	}
	sg_buf_append_str(out, head->name);
	if (s->labels.len > 0) {
		sg_buf_append_char(out, '{');
		sg_buf_append(out, s->labels.data, s->labels.len);
		sg_buf_append_char(out, '}');
	}
	if (v.decimals > 0)
		sg_buf_printf(out, " %.*f\n", v.decimals, v.d);
	else
		sg_buf_printf(out, " %llu\n", (unsigned long long)v.u);
}

/* The labels of series ix of row, comma-separated: its fixed ones, then
 * those of its label tables, each value escaped as the text format wants
 * (backslash, double quote, new line). */
static void write_labels(struct sg_buf *out, const struct metric_row *row, const size_t ix[2])
{
	char buf[METRICS_LABEL_BUF];

	sg_buf_append_str(out, row->labels);
	for (int d = 0; d < 2; d++) {
		const struct metrics_labels *set = row->by[d].set;
		for (size_t j = 0; set != NULL && j < METRICS_LABELS_MAX && set->names[j]; j++) {
			if (out->len > 0)
				sg_buf_append_char(out, ',');
			sg_buf_printf(out, "%s=\"", set->names[j]);
			for (const char *p = set->value(ix[d], j, buf); *p; p++) {
				if (*p == '\\' || *p == '"')
					sg_buf_append_char(out, '\\');
				if (*p == '\n')
					sg_buf_append_str(out, "\\n");
				else
					sg_buf_append_char(out, *p);
			}
			sg_buf_append_char(out, '"');
		}
	}
}

/* One series of a histogram: cumulative buckets, sum and count, each with
 * the series' labels (before le). */
static void write_hist(struct sg_buf *out, const char *name, const struct sg_buf *labels,
		       const struct sg_hist *h)
{
	int ll = (int)labels->len;
	const char *l = labels->len > 0 ? labels->data : "";
	const char *sep = labels->len > 0 ? "," : "";
	uint64_t cum = 0;

	for (size_t b = 0; b < HIST_BUCKETS; b++) {
		cum += h->buckets[b];
		if (b < HIST_BUCKETS - 1)
			sg_buf_printf(out, "%s_bucket{%.*s%sle=\"%g\"} %llu\n", name, ll, l, sep,
				      hist_bounds[b], (unsigned long long)cum);
		else
			sg_buf_printf(out, "%s_bucket{%.*s%sle=\"+Inf\"} %llu\n", name, ll, l, sep,
				      (unsigned long long)cum);
	}
	if (ll > 0)
		sg_buf_printf(out, "%s_sum{%.*s} %.9f\n%s_count{%.*s} %llu\n", name, ll, l,
			      h->sum_s, name, ll, l, (unsigned long long)cum);
	else
		sg_buf_printf(out, "%s_sum %.9f\n%s_count %llu\n", name, h->sum_s, name,
			      (unsigned long long)cum);
}

/* The names of row's labels, comma-separated: those of its fixed labels
 * (a="b",c="d"), then its tables'. */
static void label_names(struct sg_buf *out, const struct metric_row *row)
{
	const char *p = row->labels;

	while (*p) {
		size_t len = strcspn(p, "=");
		if (out->len > 0)
			sg_buf_append_char(out, ',');
		sg_buf_append(out, p, len);
		p += len;
		if (*p == '=' && p[1] == '"') /* skip ="value" (\" inside it) and a comma */
			for (p += 2; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
		if (*p == '"')
			p++;
		if (*p == ',')
			p++;
	}
	for (int d = 0; d < 2; d++)
		for (size_t j = 0;
		     row->by[d].set != NULL && j < METRICS_LABELS_MAX && row->by[d].set->names[j];
		     j++) {
			if (out->len > 0)
				sg_buf_append_char(out, ',');
			sg_buf_append_str(out, row->by[d].set->names[j]);
		}
}

void metrics_list(struct sg_buf *out)
{
	struct sg_buf names;

	sg_buf_init(&names);
	for (size_t r = 0; r < SG_ARRAY_LEN(rows); r++) {
		if (rows[r].name == NULL)
			continue;
		sg_buf_reset(&names);
		label_names(&names, &rows[r]);
		sg_buf_printf(out, "%s\t%s\t%.*s\t%s\n", rows[r].name, type_names[rows[r].type],
			      names.len > 0 ? (int)names.len : 1, names.len > 0 ? names.data : "-",
			      rows[r].help);
	}
	sg_buf_fini(&names);
}
