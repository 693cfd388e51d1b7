/*
 * config_value.h: the pure text helpers of the configuration loader
 * (config.c): value parsers, the formatting of durations and sizes in
 * messages, quoting of user text, "did you mean" distances.  No YAML, no
 * loader state.  config_parse_duration and config_parse_size are public
 * (config.h); these are for config*.c only.
 */
#ifndef SG_CONFIG_VALUE_H
#define SG_CONFIG_VALUE_H

#include "core/common.h"

/* Longest user text quoted in a message. */
#define SHOW_MAX 60

/* Quotes user text s into buf for a message: truncated after SHOW_MAX
 * bytes, control bytes replaced.  Returns buf. */
const char *cfg_show(const char *s, char *buf, size_t size);
/* "a|b|c" -> "a, b, c" into buf. */
void cfg_choices_list(const char *choices, char *buf, size_t size);
/* Index of s among "a|b|c", or -1. */
int cfg_choice_index(const char *choices, const char *s);
/* Choice i of "a|b|c" into buf ("" past the end). */
void cfg_choice_name(const char *choices, int i, char *buf, size_t size);
/* Optimal string alignment distance: Levenshtein plus adjacent swaps
 * (INT_MAX for names longer than 127). */
int cfg_distance(const char *a, const char *b);
/* Whether distance d is a likely typo for a name of length len. */
bool cfg_close_enough(int d, size_t len);
/* The candidate closest to name when it is a likely typo, or NULL. */
const char *cfg_suggest_among(const char *name, const char *const *cands, size_t n);
/* ms or bytes as the shortest config text that means it ("90s", "64KB"). */
void cfg_fmt_duration(uint64_t ms, char *buf, size_t size);
void cfg_fmt_size(uint64_t bytes, char *buf, size_t size);
/* Reads decimal digits at *sp (at least one) into v and advances *sp;
 * -1 on none or overflow. */
int cfg_parse_digits(const char **sp, uint64_t *v);
/* Validates "IPv4:PORT", "[IPv6]:PORT" or "*:PORT"; -1 with err. */
int cfg_parse_listen(const char *s, struct sg_err *err);
/* Whether s starts with http:// or https:// and has a host. */
bool cfg_is_http_url(const char *s);

#endif
