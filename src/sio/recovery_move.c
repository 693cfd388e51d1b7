/*
 * recovery_move.c: a session that moves to another worker of the process
 * (recovery_session_dump/load) or through Redis to another instance
 * (recovery_store_text/load), as JSON text with the content hashes of its
 * client's last events, and its placing in the log of the worker that
 * takes it (recovery_adopt).  See recovery.h.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio/recovery.h"
#include "sio/recovery_int.h"

static void append_hex(json_t *a, uint64_t h)
{
	char hex[17];

	snprintf(hex, sizeof(hex), "%016" PRIx64, h);
	json_array_append_new(a, json_string(hex));
}

/* The log positions of the last n (at most max) events before end that s
 * selects, oldest first, into at[]. */
static size_t selected_before(const struct recovery *r, const struct recovery_session *s,
			      size_t end, size_t *at, size_t max)
{
	size_t n = 0;

	for (size_t i = end; i-- > 0 && n < max;)
		if (recovery_selects(s, recovery_entry_at(r, i)))
			at[n++] = i;
	for (size_t k = 0; k < n / 2; k++) {
		size_t t = at[k];
		at[k] = at[n - 1 - k];
		at[n - 1 - k] = t;
	}
	return n;
}

/* sid, pid, rooms and kept of s as a new JSON object. */
static json_t *session_json(const char *pid, const char *sid, const struct sg_strv *rooms,
			    json_t *kept)
{
	json_t *doc = json_object(), *a = json_array();

	for (size_t i = 0; i < rooms->n; i++)
		json_array_append_new(a, json_string(rooms->v[i]));
	json_object_set_new(doc, "sid", json_string(sid));
	json_object_set_new(doc, "pid", json_string(pid));
	json_object_set_new(doc, "rooms", a);
	json_object_set(doc, "kept", kept ? kept : json_null());
	return doc;
}

static char *dumps_free(json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);

	json_decref(doc);
	return text;
}

char *recovery_session_dump(const struct recovery *r, const struct recovery_session *s)
{
	json_t *doc = session_json(s->pid, s->sid, &s->rooms, s->kept), *sig = json_array();
	size_t at[RECOVERY_SIG], n;

	if (s->n_sig > 0) { /* its offset is still another worker's */
		for (size_t i = 0; i < s->n_sig; i++)
			append_hex(sig, s->sig[i]);
	} else {
		/* the client's last event, and the ones before it that it got */
		n = selected_before(r, s, s->from - 1, at, RECOVERY_SIG - 1);
		for (size_t i = 0; i < n; i++)
			append_hex(sig, recovery_entry_at(r, at[i])->hash);
		append_hex(sig, recovery_entry_at(r, s->from - 1)->hash);
	}
	json_object_set_new(doc, "sig", sig);
	json_object_set_new(doc, "offset", json_string(s->offset));
	return dumps_free(doc);
}

char *recovery_store_text(struct recovery *r, const char *pid, const char *sid,
			  const struct sg_strv *rooms, json_t *kept)
{
	struct recovery_session s = { 0 };
	const struct moved *m = hmap_get(&r->moved, pid, strlen(pid));
	json_t *doc = session_json(pid, sid, rooms, kept), *log = json_array(), *pair, *sig;
	size_t at[RECOVERY_STORE_LOG], n;
	char off[24];

	snprintf(s.sid, sizeof(s.sid), "%s", sid);
	s.rooms = *rooms; /* borrowed: recovery_selects() reads it */
	n = selected_before(r, &s, r->n, at, RECOVERY_STORE_LOG);
	for (size_t i = 0; i < n; i++) {
		const struct recovery_entry *e = recovery_entry_at(r, at[i]);
		snprintf(off, sizeof(off), "%" PRIu64, e->offset * 256 + *r->worker);
		pair = json_array();
		json_array_append_new(pair, json_string(off));
		append_hex(pair, e->hash);
		json_array_append_new(log, pair);
	}
	json_object_set_new(doc, "log", log);
	if (m != NULL) {
		sig = json_array();
		for (size_t i = 0; i < m->n_sig; i++)
			append_hex(sig, m->sig[i]);
		json_object_set_new(doc, "moved",
				    json_pack("{s:s,s:o}", "offset", m->offset, "sig", sig));
	}
	return dumps_free(doc);
}

static bool copy_id(char out[SG_ID_LEN + 1], const json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) != SG_ID_LEN)
		return false;
	memcpy(out, json_string_value(v), SG_ID_LEN + 1);
	return true;
}

static bool parse_hex(const json_t *v, uint64_t *out)
{
	const char *hex = json_string_value(v);
	char *end = NULL;

	if (hex == NULL || strlen(hex) != 16 || !isxdigit((unsigned char)hex[0]))
		return false;
	*out = strtoull(hex, &end, 16);
	return *end == '\0';
}

/* s->sig from sig, an array of 1..RECOVERY_SIG hashes. */
static bool parse_sig(struct recovery_session *s, const json_t *sig)
{
	size_t i;
	const json_t *v;

	if (!json_is_array(sig) || json_array_size(sig) < 1 || json_array_size(sig) > RECOVERY_SIG)
		return false;
	json_array_foreach(sig, i, v)
	{
		if (!parse_hex(v, &s->sig[i]))
			return false;
	}
	s->n_sig = json_array_size(sig);
	return true;
}

/* The session of doc (sid, pid, rooms, kept), without its hashes. */
static struct recovery_session *parse_session(const json_t *doc)
{
	const json_t *rooms = json_object_get(doc, "rooms"), *kept = json_object_get(doc, "kept");
	const json_t *v;
	struct recovery_session *s = sg_calloc(1, sizeof(*s));
	bool ok = copy_id(s->sid, json_object_get(doc, "sid")) &&
		  copy_id(s->pid, json_object_get(doc, "pid")) && json_is_array(rooms);
	size_t i;

	json_array_foreach(ok ? rooms : NULL, i, v)
	{
		if (!(ok = json_is_string(v)))
			break;
		sg_strv_push(&s->rooms, json_string_value(v));
	}
	if (!ok) {
		recovery_session_free(s);
		return NULL;
	}
	s->kept = json_is_object(kept) ? json_incref((json_t *)kept) : NULL;
	return s;
}

struct recovery_session *recovery_session_load(const char *text, size_t len)
{
	json_t *doc = json_loadb(text, len, 0, NULL);
	struct recovery_session *s = parse_session(doc);
	const json_t *offset = json_object_get(doc, "offset");

	if (s != NULL && (!parse_sig(s, json_object_get(doc, "sig")) || !json_is_string(offset) ||
			  json_string_length(offset) > RECOVERY_OFFSET_MAX)) {
		recovery_session_free(s);
		s = NULL;
	} else if (s != NULL) {
		snprintf(s->offset, sizeof(s->offset), "%s", json_string_value(offset));
	}
	json_decref(doc);
	return s;
}

/* s->sig: the hashes of the pairs of log up to the one of offset. */
static bool sig_from_log(struct recovery_session *s, const json_t *log, const char *offset,
			 size_t offset_len)
{
	size_t n = json_is_array(log) ? json_array_size(log) : 0, end = n;

	for (size_t i = n; i-- > 0 && end == n;) {
		const json_t *o = json_array_get(json_array_get(log, i), 0);
		if (json_is_string(o) && json_string_length(o) == offset_len &&
		    memcmp(json_string_value(o), offset, offset_len) == 0)
			end = i;
	}
	if (end == n)
		return false;
	for (size_t i = end + 1 > RECOVERY_SIG ? end + 1 - RECOVERY_SIG : 0; i <= end; i++)
		if (!parse_hex(json_array_get(json_array_get(log, i), 1), &s->sig[s->n_sig++]))
			return false;
	return true;
}

struct recovery_session *recovery_store_load(const char *text, size_t len, const char *offset,
					     size_t offset_len)
{
	json_t *doc = json_loadb(text, len, 0, NULL);
	struct recovery_session *s = parse_session(doc);
	const json_t *moved = json_object_get(doc, "moved");
	const json_t *mo = json_object_get(moved, "offset");
	bool ok = s != NULL;

	if (ok && json_is_string(mo) && json_string_length(mo) == offset_len &&
	    memcmp(json_string_value(mo), offset, offset_len) == 0)
		ok = parse_sig(s, json_object_get(moved, "sig"));
	else if (ok)
		ok = sig_from_log(s, json_object_get(doc, "log"), offset, offset_len);
	if (ok)
		snprintf(s->offset, sizeof(s->offset), "%.*s", (int)offset_len, offset);
	json_decref(doc);
	if (!ok) {
		recovery_session_free(s);
		return NULL;
	}
	return s;
}

bool recovery_adopt(const struct recovery *r, struct recovery_session *s)
{
	uint64_t last = s->sig[s->n_sig - 1];

	/* the newest event of that content: with repeats, what the client
	 * got last is most likely the latest one */
	for (size_t i = r->n; i-- > 0;) {
		if (recovery_entry_at(r, i)->hash != last)
			continue;
		/* and a little before it: what this worker logged in another
		 * order than the first one (got_before skips what the client
		 * got) */
		s->from = i;
		for (size_t k = 1; s->from > 0 && k < RECOVERY_SIG_REORDER;)
			if (recovery_selects(s, recovery_entry_at(r, --s->from)))
				k++;
		return true;
	}
	return false;
}
