/*
 * fuzz_redis_json.c: the JSON anyone can publish on siogate's Redis
 * channels: a JSON-channel message, emit (emit_msg.c) or operation
 * (chan_op.c), and a members announcement (members.c).  Checks: a parsed
 * emit message has a namespace starting with '/' and an args array; a
 * parsed operation names its sockets by user or by to (one of them), and
 * join/leave name rooms; an emit's "ack" has a timeout; one announcement, delivered twice, leaves at most
 * one member.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/chan_op.h"
#include "proto/members.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_err err = { 0 };
	struct chan_msg cm;
	const struct emit_msg *m = &cm.emit;
	const struct chan_op *op = &cm.op;
	struct members *mb;

	if (chan_msg_parse((const char *)data, size, &cm, &err) == 0) {
		if (!cm.is_op &&
		    (m->nsp == NULL || m->nsp[0] != '/' || m->args_len < 2 || m->args[0] != '[' ||
		     m->args[m->args_len - 1] != ']' || m->has_ack != (m->ack_timeout != NULL)))
			__builtin_trap();
		if (cm.is_op && ((op->user == NULL) == (op->to.n == 0) ||
				 (op->kind != CHAN_OP_DISCONNECT && op->rooms.n == 0) ||
				 (op->nsp != NULL && op->nsp[0] != '/')))
			__builtin_trap();
		chan_msg_fini(&cm);
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
