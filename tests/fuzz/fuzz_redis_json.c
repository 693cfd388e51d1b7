/*
 * fuzz_redis_json.c: the JSON anyone can publish on siogate's Redis
 * channels: a JSON-channel emit message (emit_msg.c) and a members
 * announcement (members.c).  Checks: a parsed emit message has a namespace
 * starting with '/' and an args array; one announcement, delivered twice,
 * leaves at most one member.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/emit_msg.h"
#include "proto/members.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_err err = { 0 };
	struct emit_msg m;
	struct members *mb;

	if (emit_msg_parse((const char *)data, size, &m, &err) == 0) {
		if (m.nsp == NULL || m.nsp[0] != '/' || m.args_len < 2 || m.args[0] != '[' ||
		    m.args[m.args_len - 1] != ']')
			__builtin_trap();
		emit_msg_fini(&m);
	}
	mb = members_new("zzzzzz", "fuzz");
	members_subscribed(mb, 0);
	(void)members_on_message(mb, (const char *)data, size, 0, &err);
	(void)members_on_message(mb, (const char *)data, size, MEMBERS_SETTLE_MS, &err);
	if (members_count(mb, MEMBERS_SETTLE_MS, true) +
		    members_count(mb, MEMBERS_SETTLE_MS, false) >
	    1)
		__builtin_trap();
	(void)members_is_relay(mb, MEMBERS_SETTLE_MS);
	members_free(mb);
	return 0;
}
