/*
 * fuzz_adapter_codec.c: libFuzzer driver for the Redis adapter/emitter
 * broadcast codec (src/proto/adapter_codec.h).  The input is a message as
 * published on socket.io#<nsp>#...  A message that decodes is re-encoded with
 * adapter_codec_encode_broadcast (as siogate would publish it) and decoded
 * again: the second decode must succeed and give the same data_json (numbers
 * compared by value, see json_same), attachments, uid, nsp, type,
 * deduplicated rooms/except and volatile/compress flags.
 * adapter_codec_channel must add the room only for exactly one distinct
 * room.  Two documented limits are let through instead of trapping: an object
 * in the data that merely looks like a placeholder (the encoder turns it into
 * a binary), and placeholders nested deeper than the encoder's JSON depth
 * limit.  A broken promise is reported with __builtin_trap().  Nothing
 * survives a call, so runs are deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/adapter_codec.h"

#define FUZZ_MAX_ATTACHMENTS 10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static size_t count_placeholders(const char *json, size_t len);
static size_t json_depth(const char *json, size_t len);
static size_t number_len(const char *s, size_t n);
static bool json_same(const char *a, size_t an, const char *b, size_t bn);
static void dedup(const struct sg_strv *in, struct sg_strv *out);
static bool strv_equal(const struct sg_strv *a, const struct sg_strv *b);
static void check_decoded(const struct adapter_broadcast *m);
static void check_roundtrip(const struct adapter_broadcast *m);
static void check_channel(const struct adapter_broadcast *m);

/* Occurrences of the JSON string "_placeholder" (keys or values). */
static size_t count_placeholders(const char *json, size_t len)
{
	static const char pat[] = "\"_placeholder\"";
	const char *p = json, *e = json + len;
	size_t n = 0;

	while ((p = memmem(p, (size_t)(e - p), pat, sizeof(pat) - 1)) != NULL) {
		n++;
		p += sizeof(pat) - 1;
	}
	return n;
}

/* Deepest container nesting of a JSON text (the outer array counting 1). */
static size_t json_depth(const char *json, size_t len)
{
	size_t i, d = 0, max = 0;
	bool in_str = false;

	for (i = 0; i < len; i++) {
		char c = json[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++d > max)
				max = d;
		} else if (c == ']' || c == '}') {
			d--;
		}
	}
	return max;
}

/* Length of the JSON number token at s (0 when none). */
static size_t number_len(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	while (i < n && (s[i] == '-' || s[i] == '+' || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
			 (s[i] >= '0' && s[i] <= '9')))
		i++;
	return i;
}

/* Byte-equal JSON texts, except that numbers only need the same double value:
 * the decoder writes a msgpack float -2^63 as JS does ("-9223372036854776000"),
 * the encoder writes that double as int64 as notepack does, and the decoder
 * writes int64 exactly ("-9223372036854775808"): same value, other spelling. */
static bool json_same(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;
	bool in_str = false;

	while (i < an && j < bn) {
		size_t la = in_str ? 0 : number_len(a + i, an - i);
		size_t lb = in_str ? 0 : number_len(b + j, bn - j);

		if (la > 0 && lb > 0) {
			char ta[64], tb[64];

			if (la >= sizeof(ta) || lb >= sizeof(tb))
				return false;
			memcpy(ta, a + i, la);
			ta[la] = '\0';
			memcpy(tb, b + j, lb);
			tb[lb] = '\0';
			if (strtod(ta, NULL) != strtod(tb, NULL))
				return false;
			i += la;
			j += lb;
			continue;
		}
		if (a[i] != b[j])
			return false;
		if (in_str && a[i] == '\\') {
			if (i + 1 >= an || j + 1 >= bn || a[i + 1] != b[j + 1])
				return false;
			i++;
			j++;
		} else if (a[i] == '"') {
			in_str = !in_str;
		}
		i++;
		j++;
	}
	return i == an && j == bn;
}

/* [...new Set(in)] */
static void dedup(const struct sg_strv *in, struct sg_strv *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < in->n; i++) {
		if (!sg_strv_contains(out, in->v[i]))
			sg_strv_push(out, in->v[i]);
	}
}

static bool strv_equal(const struct sg_strv *a, const struct sg_strv *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	}
	return true;
}

/* Invariants of a successful decode. */
static void check_decoded(const struct adapter_broadcast *m)
{
	size_t i;
	unsigned sum = 0;

	if (m->uid == NULL || m->nsp == NULL || m->data_json == NULL)
		__builtin_trap();
	if (m->type != 2 && m->type != 3 && m->type != 5 && m->type != 6)
		__builtin_trap();
	if (strlen(m->data_json) != m->data_json_len || m->data_json_len < 2 ||
	    m->data_json[0] != '[' || m->data_json[m->data_json_len - 1] != ']')
		__builtin_trap();
	if (m->n_attachments > FUZZ_MAX_ATTACHMENTS ||
	    (m->n_attachments > 0) != (m->attachments != NULL))
		__builtin_trap();
	if (count_placeholders(m->data_json, m->data_json_len) < m->n_attachments)
		__builtin_trap();
	for (i = 0; i < m->n_attachments; i++) {
		const struct adapter_attachment *a = &m->attachments[i];
		size_t j;

		if ((a->len == 0) != (a->data == NULL))
			__builtin_trap();
		for (j = 0; j < a->len; j++)
			sum += a->data[j];
	}
	for (i = 0; i < m->rooms.n; i++)
		sum += (unsigned)strlen(m->rooms.v[i]);
	for (i = 0; i < m->except.n; i++)
		sum += (unsigned)strlen(m->except.v[i]);
	if (m->flag_timeout_ms < -1)
		__builtin_trap();
	if (sum == 0xdeadbeef) /* keeps the reads alive */
		abort();
}

/* The channel is <prefix>#<nsp># plus <room># only for exactly one distinct room. */
static void check_channel(const struct adapter_broadcast *m)
{
	struct sg_strv rooms;
	struct sg_buf ch, want;

	dedup(&m->rooms, &rooms);
	sg_buf_init(&ch);
	sg_buf_init(&want);
	adapter_codec_channel(&ch, "socket.io", m->nsp, &m->rooms);
	sg_buf_printf(&want, "socket.io#%s#", m->nsp);
	if (rooms.n == 1)
		sg_buf_printf(&want, "%s#", rooms.v[0]);
	if (ch.len != want.len || memcmp(ch.data, want.data, ch.len) != 0)
		__builtin_trap();
	sg_buf_reset(&ch);
	adapter_codec_channel(&ch, "p", m->nsp, NULL);
	if (ch.len != strlen(m->nsp) + 3)
		__builtin_trap();
	sg_strv_free(&rooms);
	sg_buf_fini(&ch);
	sg_buf_fini(&want);
}

static void check_roundtrip(const struct adapter_broadcast *m)
{
	struct adapter_broadcast m2;
	struct sg_strv rooms, except;
	struct sg_err err;
	struct sg_buf b;
	size_t i;
	bool lenient;
	int rc;

	/* Fake placeholders, or placeholders nested past the encoder's JSON
	 * limit (ADAPTER_MAX_DEPTH - 2): the re-encoding may fail or differ. */
	lenient = count_placeholders(m->data_json, m->data_json_len) > m->n_attachments ||
		  json_depth(m->data_json, m->data_json_len) > ADAPTER_MAX_DEPTH - 2;

	sg_buf_init(&b);
	sg_buf_append(&b, "", 0);
	rc = adapter_codec_encode_broadcast(&b, m->uid, m->nsp, m->type, m->data_json,
					    m->data_json_len, m->attachments, m->n_attachments,
					    &m->rooms, &m->except, m->flag_volatile,
					    m->flag_compress ? -1 : 0, &err);
	if (rc != 0) {
		if (!lenient || b.len != 0) /* out is unchanged on error */
			__builtin_trap();
		sg_buf_fini(&b);
		return;
	}
	rc = adapter_codec_decode_broadcast(b.data, b.len, FUZZ_MAX_ATTACHMENTS, &m2, &err);
	if (rc != 0) {
		if (!lenient)
			__builtin_trap();
		sg_buf_fini(&b);
		return;
	}
	check_decoded(&m2);
	if (!lenient) {
		dedup(&m->rooms, &rooms);
		dedup(&m->except, &except);
		if ((m2.data_json_len != m->data_json_len ||
		     memcmp(m2.data_json, m->data_json, m->data_json_len) != 0) &&
		    !json_same(m2.data_json, m2.data_json_len, m->data_json, m->data_json_len))
			__builtin_trap();
		if (strcmp(m2.uid, m->uid) != 0 || strcmp(m2.nsp, m->nsp) != 0 ||
		    m2.type != m->type || m2.n_attachments != m->n_attachments)
			__builtin_trap();
		for (i = 0; i < m->n_attachments; i++) {
			if (m2.attachments[i].len != m->attachments[i].len ||
			    (m->attachments[i].len > 0 &&
			     memcmp(m2.attachments[i].data, m->attachments[i].data,
				    m->attachments[i].len) != 0))
				__builtin_trap();
		}
		if (!strv_equal(&m2.rooms, &rooms) || !strv_equal(&m2.except, &except))
			__builtin_trap();
		if (m2.flag_volatile != m->flag_volatile || m2.flag_compress != m->flag_compress ||
		    m2.flag_local || m2.flag_timeout_ms != -1)
			__builtin_trap();
		sg_strv_free(&rooms);
		sg_strv_free(&except);
	}
	adapter_codec_broadcast_fini(&m2);
	adapter_codec_broadcast_fini(&m2); /* documented as safe twice */
	sg_buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct adapter_broadcast m, m3;
	struct sg_err err;

	if (adapter_codec_decode_broadcast(data, size, FUZZ_MAX_ATTACHMENTS, &m, &err) != 0) {
		if (err.msg[0] == '\0')
			__builtin_trap();
		adapter_codec_broadcast_fini(&m); /* zeroed and owning nothing */
		return 0;
	}
	check_decoded(&m);
	/* One attachment fewer allowed: the same message is refused. */
	if (m.n_attachments > 0) {
		if (adapter_codec_decode_broadcast(data, size, (unsigned)m.n_attachments - 1, &m3,
						   &err) == 0)
			__builtin_trap();
		adapter_codec_broadcast_fini(&m3);
	}
	check_channel(&m);
	check_roundtrip(&m);
	adapter_codec_broadcast_fini(&m);
	return 0;
}
