/*
 * fuzz_sio_packet.c: libFuzzer driver for the Socket.IO v5 packet codec
 * (src/proto/sio_packet.h).  The input is the data of one Engine.IO message.  A
 * packet that decodes is looked at the way the session layer does (event name,
 * placeholder check), then its head is re-encoded with sio_packet_encode_head,
 * the raw JSON appended, and the result must decode to the same type,
 * namespace, ack id, attachment count and JSON text.  A broken promise is
 * reported with __builtin_trap().  Nothing survives a call, so runs are
 * deterministic; every decoded packet is released (LeakSanitizer checks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sio_packet.h"

#define FUZZ_MAX_ATTACHMENTS 10 /* socket.io-parser's default, as siogate uses it */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void check_decoded(const char *s, size_t len, const struct sio_packet *p);
static void check_roundtrip(const struct sio_packet *p);

/* Invariants of a successful decode, and the accessors on it. */
static void check_decoded(const char *s, size_t len, const struct sio_packet *p)
{
	struct sg_err err;
	const char *name;
	size_t name_len, i;
	unsigned sum = 0;

	if ((unsigned)p->type > SIO_BINARY_ACK)
		__builtin_trap();
	if (p->type == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK) {
		if (p->attachments < 1 || p->attachments > FUZZ_MAX_ATTACHMENTS)
			__builtin_trap();
	} else if (p->attachments != 0) {
		__builtin_trap();
	}
	if (p->nsp_len == 0 || p->nsp[0] != '/')
		__builtin_trap();
	/* Borrowed from the input, or the literal "/". */
	if ((p->nsp < s || p->nsp + p->nsp_len > s + len) && p->nsp_len != 1)
		__builtin_trap();
	if (memchr(p->nsp, ',', p->nsp_len) != NULL)
		__builtin_trap();
	if (p->id < -1 || p->id > SIO_MAX_ACK_ID)
		__builtin_trap();
	if ((p->json == NULL) != (p->data == NULL) || (p->json == NULL) != (p->json_len == 0))
		__builtin_trap();
	if (p->json != NULL && p->json + p->json_len != s + len)
		__builtin_trap();

	name = sio_event_name(p);
	name_len = sio_event_name_len(p);
	if (name == NULL) {
		if (name_len != 0)
			__builtin_trap();
		if ((p->type == SIO_EVENT || p->type == SIO_BINARY_EVENT) && p->data != NULL)
			__builtin_trap();
	} else {
		if (p->type != SIO_EVENT && p->type != SIO_BINARY_EVENT)
			__builtin_trap();
		for (i = 0; i <= name_len; i++) /* NUL-terminated at name_len */
			sum += (unsigned char)name[i];
		if (name[name_len] != '\0')
			__builtin_trap();
	}
	if (sio_packet_check_placeholders(p, &err) != 0) {
		if (p->type != SIO_BINARY_EVENT && p->type != SIO_BINARY_ACK)
			__builtin_trap();
		if (err.msg[0] == '\0')
			__builtin_trap();
	}
	if (sum == 0xdeadbeef) /* keeps the reads alive */
		abort();
}

/* Head re-encoded + raw JSON must decode to the same packet. */
static void check_roundtrip(const struct sio_packet *p)
{
	struct sio_packet q;
	struct sg_err err;
	struct sg_buf b;
	char *nsp;

	/* sio_packet_encode_head takes a C string: a NUL inside the namespace
	 * cannot be expressed, so such a packet is not round-tripped. */
	if (memchr(p->nsp, '\0', p->nsp_len) != NULL)
		return;
	nsp = sg_strndup(p->nsp, p->nsp_len);
	sg_buf_init(&b);
	sio_packet_encode_head(&b, p->type, nsp, p->attachments, p->id);
	if (p->json_len > 0)
		sg_buf_append(&b, p->json, p->json_len);
	if (sio_packet_decode(b.data, b.len, FUZZ_MAX_ATTACHMENTS, &q, &err) != 0)
		__builtin_trap();
	if (q.type != p->type || q.attachments != p->attachments || q.id != p->id ||
	    q.nsp_len != p->nsp_len || memcmp(q.nsp, p->nsp, p->nsp_len) != 0 ||
	    q.json_len != p->json_len ||
	    (p->json_len > 0 && memcmp(q.json, p->json, p->json_len) != 0))
		__builtin_trap();
	if ((q.data == NULL) != (p->data == NULL) ||
	    (p->data != NULL && !json_equal(q.data, p->data)))
		__builtin_trap();
	sio_packet_fini(&q);
	sio_packet_fini(&q); /* documented as safe twice */
	sg_buf_fini(&b);
	free(nsp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct sio_packet p;
	struct sg_err err;

	if (sio_packet_decode(s, size, FUZZ_MAX_ATTACHMENTS, &p, &err) != 0) {
		if (err.msg[0] == '\0')
			__builtin_trap();
		sio_packet_fini(&p); /* documented as safe after a failed decode */
		return 0;
	}
	check_decoded(s, size, &p);
	check_roundtrip(&p);
	sio_packet_fini(&p);
	return 0;
}
