/*
 * fuzz_eio_payload.c: libFuzzer driver for the Engine.IO v4 codec
 * (src/proto/eio_packet.h).  The input is read three ways: as one text packet
 * (eio_packet_decode), as one packet that may be 'b' + base64
 * (eio_packet_decode_any), and as a polling payload (eio_payload_decode).  A
 * payload that decodes is re-encoded with eio_payload_append_text/binary and
 * must decode to the same packets; a callback's non-zero value must stop the
 * walk and come back as the result.  Any broken promise is reported with
 * __builtin_trap().  Nothing survives a call, so runs are deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/eio_packet.h"

#define FUZZ_MAX_PACKETS 256 /* a payload with more packets is refused up front */

/* The packets of one payload, copied (callback data is only valid during the call). */
struct pkt_list {
	struct eio_packet *v; /* data points into an owned copy */
	size_t n;
	size_t stop_at; /* the callback returns 5 on this call (1-based); 0: never */
	size_t calls;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static int collect(const struct eio_packet *p, void *arg);
static void list_free(struct pkt_list *l);
static bool list_equal(const struct pkt_list *a, const struct pkt_list *b);
static void check_single(const char *s, size_t len);

static int collect(const struct eio_packet *p, void *arg)
{
	struct pkt_list *l = arg;
	char *copy;

	l->calls++;
	if ((unsigned)p->type > EIO_NOOP || (p->binary && p->type != EIO_MESSAGE))
		__builtin_trap();
	copy = sg_malloc(p->len + 1);
	if (p->len > 0)
		memcpy(copy, p->data, p->len);
	l->v = sg_realloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n] = *p;
	l->v[l->n].data = copy;
	l->n++;
	return l->calls == l->stop_at ? 5 : 0;
}

static void list_free(struct pkt_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free((char *)l->v[i].data);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool list_equal(const struct pkt_list *a, const struct pkt_list *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct eio_packet *x = &a->v[i], *y = &b->v[i];

		if (x->type != y->type || x->binary != y->binary || x->len != y->len)
			return false;
		if (x->len > 0 && memcmp(x->data, y->data, x->len) != 0)
			return false;
	}
	return true;
}

/* The whole input as one packet, text only and then text or base64. */
static void check_single(const char *s, size_t len)
{
	struct eio_packet p;
	struct sg_buf scratch, enc;
	int rc;

	rc = eio_packet_decode(s, len, &p);
	if (rc == 0) {
		if (p.type != (enum eio_type)(s[0] - '0') || p.binary || p.data != s + 1 ||
		    p.len != len - 1)
			__builtin_trap();
	} else if (rc != -1 || (len > 0 && s[0] >= '0' && s[0] <= '6')) {
		__builtin_trap();
	}

	sg_buf_init(&scratch);
	sg_buf_init(&enc);
	rc = eio_packet_decode_any(s, len, &scratch, &p);
	if (rc == 0 && p.binary) {
		/* 'b' + base64: the bytes live in scratch; re-encoding gives a packet
		 * that decodes to the same bytes. */
		struct sg_buf scratch2;
		struct eio_packet q;

		if (s[0] != 'b' || p.type != EIO_MESSAGE || p.data != scratch.data ||
		    p.len != scratch.len)
			__builtin_trap();
		eio_payload_append_binary(&enc, p.data, p.len);
		sg_buf_init(&scratch2);
		if (eio_packet_decode_any(enc.data, enc.len, &scratch2, &q) != 0 || !q.binary ||
		    q.len != p.len || (p.len > 0 && memcmp(q.data, p.data, p.len) != 0))
			__builtin_trap();
		sg_buf_fini(&scratch2);
	} else if (rc == 0) {
		if (p.data != s + 1 || p.len != len - 1)
			__builtin_trap();
	} else if (rc != -1) {
		__builtin_trap();
	}
	sg_buf_fini(&scratch);
	sg_buf_fini(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct pkt_list first, again, stopped;
	struct sg_buf enc;
	size_t i;
	int rc;

	check_single(s, size);

	memset(&first, 0, sizeof(first));
	rc = eio_payload_decode(s, size, FUZZ_MAX_PACKETS, collect, &first);
	if (rc != 0 && rc != -1)
		__builtin_trap();
	if (rc == 0 && first.n == 0)
		__builtin_trap();
	if (rc == 0) {
		/* Re-encode: the new payload decodes to the same packets. */
		sg_buf_init(&enc);
		for (i = 0; i < first.n; i++) {
			const struct eio_packet *p = &first.v[i];

			if (p->binary)
				eio_payload_append_binary(&enc, p->data, p->len);
			else
				eio_payload_append_text(&enc, p->type, p->data, p->len);
		}
		memset(&again, 0, sizeof(again));
		if (eio_payload_decode(enc.data, enc.len, FUZZ_MAX_PACKETS, collect, &again) != 0)
			__builtin_trap();
		if (!list_equal(&first, &again))
			__builtin_trap();
		list_free(&again);
		sg_buf_fini(&enc);

		/* A non-zero callback value stops the walk and is returned. */
		memset(&stopped, 0, sizeof(stopped));
		stopped.stop_at = (first.n + 1) / 2;
		if (eio_payload_decode(s, size, FUZZ_MAX_PACKETS, collect, &stopped) != 5 ||
		    stopped.calls != stopped.stop_at)
			__builtin_trap();
		list_free(&stopped);
	}
	/* A lower packet limit refuses the payload before any callback. */
	if (first.n > 1) {
		memset(&stopped, 0, sizeof(stopped));
		if (eio_payload_decode(s, size, 1, collect, &stopped) != -1 || stopped.calls != 0)
			__builtin_trap();
		list_free(&stopped);
	}
	list_free(&first);
	return 0;
}
