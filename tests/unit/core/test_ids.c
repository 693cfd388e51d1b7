/*
 * test_ids.c: session and socket ids (ids.c): 20 URL-safe characters that
 * name the worker owning them, as the polling hand-over and the admin API
 * read it back.
 */
#include <string.h>

#include "core/ids.h"
#include "unit.h"

static void test_ids_name_their_worker(void)
{
	uint32_t counter = 0;
	char id[SG_ID_LEN + 1];

	for (unsigned w = 0; w < 256; w += 17) {
		sg_id_new(id, (uint8_t)w, &counter);
		CHECK_INT(strlen(id), SG_ID_LEN);
		CHECK_INT(
			strspn(id,
			       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
			SG_ID_LEN);
		CHECK_INT(sg_id_worker(id, SG_ID_LEN), (int)w);
	}
	/* the counter wraps past 65536 without touching the worker byte */
	counter = 0xfffe;
	for (int i = 0; i < 4; i++) {
		sg_id_new(id, 3, &counter);
		CHECK_INT(sg_id_worker(id, SG_ID_LEN), 3);
	}
}

static void test_ids_differ(void)
{
	uint32_t counter = 0;
	char a[SG_ID_LEN + 1], b[SG_ID_LEN + 1];

	sg_id_new(a, 1, &counter);
	sg_id_new(b, 1, &counter);
	CHECK(strcmp(a, b) != 0);
}

static void test_not_ids(void)
{
	CHECK_INT(sg_id_worker("", 0), -1);
	CHECK_INT(sg_id_worker("AAAAAAAAAAAAAAAAAAA", 19), -1);
	CHECK_INT(sg_id_worker("AAAAAAAAAAAAAAAAAAAAA", 21), -1);
	CHECK_INT(sg_id_worker("AAAAAAAAAAAAAAAA!AAA", 20), -1);
	CHECK_INT(sg_id_worker("AAAAAAAAAAAAAAAA/AAA", 20), -1); /* not the URL alphabet */
	CHECK_INT(sg_id_worker("AAAAAAAAAAAAAAAAAAAA", 20), 0);
	CHECK_INT(sg_id_worker("AAAAAAAAAAAAAAAAAQAA", 20), 1);
}

int main(void)
{
	RUN(test_ids_name_their_worker);
	RUN(test_ids_differ);
	RUN(test_not_ids);
	return UNIT_END();
}
