/*
 * test_client_pure.c: the pure modules of libsiogate-client: the backoff
 * formula, the subscription table (duplicate protection, removing one
 * handler or all, changes during a dispatch) and JSON output.  (The URL and
 * HTTP response parsers it shares with siogate are tested in
 * tests/unit/proto/.)
 */
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "jsonout.h"
#include "subs.h"
#include "unit.h"

static void test_backoff(void);
static void test_subs_duplicates(void);
static void test_subs_remove(void);
static void test_subs_dispatch_changes(void);
static void test_json_out(void);

static void test_backoff(void)
{
	/* socket.io-client defaults: 1000 ms, max 5000, factor 2, jitter 0.5 */
	CHECK_INT(sgc_backoff_delay(0, 1000, 5000, 0, 0.3), 1000);
	CHECK_INT(sgc_backoff_delay(1, 1000, 5000, 0, 0.3), 2000);
	CHECK_INT(sgc_backoff_delay(2, 1000, 5000, 0, 0.3), 4000);
	CHECK_INT(sgc_backoff_delay(3, 1000, 5000, 0, 0.3), 5000);
	CHECK_INT(sgc_backoff_delay(1000, 1000, 5000, 0, 0.3), 5000);
	/* r = 0.3: floor(3) is odd -> + floor(0.3 * 0.5 * 1000) = 150 */
	CHECK_INT(sgc_backoff_delay(0, 1000, 5000, 0.5, 0.3), 1150);
	/* r = 0.25: floor(2.5) = 2 even -> - floor(125) */
	CHECK_INT(sgc_backoff_delay(0, 1000, 5000, 0.5, 0.25), 875);
	/* r = 0.99: odd (9) -> + floor(0.99 * 0.5 * 2000) = 990 */
	CHECK_INT(sgc_backoff_delay(1, 1000, 5000, 0.5, 0.99), 2990);
	/* jitter never breaks the cap */
	CHECK_INT(sgc_backoff_delay(2, 1000, 5000, 0.5, 0.99), 5000);
	CHECK_INT(sgc_backoff_delay(0, 0, 0, 0.5, 0.5), 0);
}

/* Handlers for the table tests: they record calls in a log. */
static char sub_log[256];

static int h_a(struct sgc_client *c, const struct sgc_event *ev, void *user);
static int h_b(struct sgc_client *c, const struct sgc_event *ev, void *user);

static int h_a(struct sgc_client *c, const struct sgc_event *ev, void *user)
{
	(void)c;
	(void)ev;
	strcat(sub_log, "a");
	strcat(sub_log, user ? (const char *)user : "-");
	return 0;
}

static int h_b(struct sgc_client *c, const struct sgc_event *ev, void *user)
{
	(void)c;
	(void)ev;
	strcat(sub_log, "b");
	strcat(sub_log, user ? (const char *)user : "-");
	return 0;
}

static void call_sub(const struct sgc_sub *sub, void *arg);

static void call_sub(const struct sgc_sub *sub, void *arg)
{
	(void)arg;
	sub->fn(NULL, NULL, sub->user);
}

static void test_subs_duplicates(void)
{
	struct sgc_subs s;

	memset(&s, 0, sizeof(s));
	/* the seed's ignoreDuplicate: skip when the event has any handler */
	CHECK_INT(sgc_subs_add(&s, "news", h_a, "1", true), SGC_OK);
	CHECK_INT(sgc_subs_add(&s, "news", h_a, "1", true), SGC_SKIPPED);
	CHECK_INT(sgc_subs_add(&s, "news", h_b, "2", true), SGC_SKIPPED);
	CHECK_INT(sgc_subs_count(&s, "news"), 1);
	/* another event is independent */
	CHECK_INT(sgc_subs_add(&s, "other", h_b, "2", true), SGC_OK);
	/* without the protection, even the same pair is added again */
	CHECK_INT(sgc_subs_add(&s, "news", h_a, "1", false), SGC_OK);
	CHECK_INT(sgc_subs_add(&s, "news", h_b, "2", false), SGC_OK);
	CHECK_INT(sgc_subs_count(&s, "news"), 3);
	sub_log[0] = '\0';
	CHECK_INT(sgc_subs_dispatch(&s, "news", call_sub, NULL), 3);
	CHECK_STR(sub_log, "a1a1b2");
	sub_log[0] = '\0';
	CHECK_INT(sgc_subs_dispatch(&s, "nothing", call_sub, NULL), 0);
	CHECK_STR(sub_log, "");
	sgc_subs_fini(&s);
}

static void test_subs_remove(void)
{
	struct sgc_subs s;

	memset(&s, 0, sizeof(s));
	CHECK_INT(sgc_subs_add(&s, "e", h_a, "1", false), SGC_OK);
	CHECK_INT(sgc_subs_add(&s, "e", h_a, "2", false), SGC_OK);
	CHECK_INT(sgc_subs_add(&s, "e", h_b, "1", false), SGC_OK);
	CHECK_INT(sgc_subs_add(&s, "e", h_a, "1", false), SGC_OK);
	CHECK_INT(sgc_subs_add(&s, "f", h_a, "1", false), SGC_OK);
	/* one handler: every registration of exactly (fn, user) */
	CHECK_INT(sgc_subs_remove(&s, "e", h_a, "1"), SGC_OK);
	CHECK_INT(sgc_subs_count(&s, "e"), 2);
	sub_log[0] = '\0';
	sgc_subs_dispatch(&s, "e", call_sub, NULL);
	CHECK_STR(sub_log, "a2b1");
	CHECK_INT(sgc_subs_remove(&s, "e", h_a, "1"), SGC_SKIPPED);
	CHECK_INT(sgc_subs_remove(&s, "e", h_b, "2"), SGC_SKIPPED);
	/* the other event kept its handler */
	CHECK_INT(sgc_subs_count(&s, "f"), 1);
	/* all handlers of an event */
	CHECK_INT(sgc_subs_remove(&s, "e", NULL, NULL), SGC_OK);
	CHECK_INT(sgc_subs_count(&s, "e"), 0);
	CHECK_INT(sgc_subs_remove(&s, "e", NULL, NULL), SGC_SKIPPED);
	/* removing all lifts the duplicate protection */
	CHECK_INT(sgc_subs_add(&s, "e", h_b, "3", true), SGC_OK);
	sgc_subs_clear(&s);
	CHECK_INT(sgc_subs_count(&s, "e") + sgc_subs_count(&s, "f"), 0);
	CHECK_INT(s.n, 0);
	sgc_subs_fini(&s);
}

/* A handler that changes the table while the dispatch runs. */
static struct sgc_subs *mut_table;
static int mut_mode;

static int h_mut(struct sgc_client *c, const struct sgc_event *ev, void *user);

static int h_mut(struct sgc_client *c, const struct sgc_event *ev, void *user)
{
	int i;

	(void)c;
	(void)ev;
	strcat(sub_log, "m");
	switch (mut_mode) {
	case 1: /* remove itself and the next handler */
		sgc_subs_remove(mut_table, "e", h_mut, user);
		sgc_subs_remove(mut_table, "e", h_b, "2");
		break;
	case 2: /* add many (forces the table to move) */
		for (i = 0; i < 50; i++)
			sgc_subs_add(mut_table, "e", h_a, "n", false);
		break;
	case 3: /* clear everything */
		sgc_subs_clear(mut_table);
		break;
	}
	return 0;
}

static void test_subs_dispatch_changes(void)
{
	struct sgc_subs s;

	memset(&s, 0, sizeof(s));
	mut_table = &s;
	mut_mode = 1;
	sgc_subs_add(&s, "e", h_a, "1", false);
	sgc_subs_add(&s, "e", h_mut, NULL, false);
	sgc_subs_add(&s, "e", h_b, "2", false);
	sgc_subs_add(&s, "e", h_b, "3", false);
	sub_log[0] = '\0';
	CHECK_INT(sgc_subs_dispatch(&s, "e", call_sub, NULL), 3);
	CHECK_STR(sub_log, "a1mb3");
	CHECK_INT(sgc_subs_count(&s, "e"), 2);
	CHECK_INT(s.n, 2); /* compacted after the dispatch */

	/* handlers added during a dispatch wait for the next event */
	mut_mode = 2;
	sgc_subs_add(&s, "e", h_mut, NULL, false);
	sub_log[0] = '\0';
	sgc_subs_dispatch(&s, "e", call_sub, NULL);
	CHECK_STR(sub_log, "a1b3m");
	CHECK_INT(sgc_subs_count(&s, "e"), 53);

	/* clear during a dispatch stops the remaining handlers */
	sgc_subs_fini(&s);
	memset(&s, 0, sizeof(s));
	mut_mode = 3;
	sgc_subs_add(&s, "e", h_mut, NULL, false);
	sgc_subs_add(&s, "e", h_a, "1", false);
	sub_log[0] = '\0';
	sgc_subs_dispatch(&s, "e", call_sub, NULL);
	CHECK_STR(sub_log, "m");
	CHECK_INT(s.n, 0);
	sgc_subs_fini(&s);
}

static void test_json_out(void)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}",
		  "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}" },
		{ "[0.1,1.0,1e21,-0.0,1.5e-7,12345678901234]",
		  "[0.1,1,1e+21,0,1.5e-7,12345678901234]" },
		{ "\"tab\\tquote\\\"nl\\n\\u0001\\u00e9\"",
		  "\"tab\\tquote\\\"nl\\n\\u0001\xc3\xa9\"" },
		{ "{\"z\":1,\"a\":2}", "{\"z\":1,\"a\":2}" },
		{ "[]", "[]" },
		{ "{}", "{}" },
	};
	size_t i;

	for (i = 0; i < SG_ARRAY_LEN(cases); i++) {
		json_error_t jerr;
		json_t *v = json_loads(cases[i].in, JSON_DECODE_ANY, &jerr);
		struct sg_buf b;

		CHECK(v != NULL);
		sg_buf_init(&b);
		sgc_json_append(&b, v);
		CHECK_STR(b.data, cases[i].out);
		sg_buf_fini(&b);
		json_decref(v);
	}
	{
		struct sg_buf b;
		sg_buf_init(&b);
		sgc_json_append(&b, NULL);
		CHECK_STR(b.data, "null");
		sg_buf_fini(&b);
	}
}

int main(void)
{
	RUN(test_backoff);
	RUN(test_subs_duplicates);
	RUN(test_subs_remove);
	RUN(test_subs_dispatch_changes);
	RUN(test_json_out);
	return UNIT_END();
}
