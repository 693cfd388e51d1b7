/*
 * recovery.c: the session store and the replay log of one namespace of one
 * worker (see recovery.h).  The log is a ring of entries in offset order;
 * offsets are a counter of the namespace times 256 plus the worker's index,
 * written as decimal strings, so an offset names its worker and its
 * position there: base + (counter - first counter).
 */
#include "sio/recovery.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/hmap.h"

struct recovery_entry {
	uint64_t offset;
	int64_t at_ms; /* monotonic */
	struct sg_strv rooms, except;
	char *text;
	size_t len;
	struct adapter_attachment *att; /* copies */
	size_t n_att;
	size_t bytes;  /* text and attachments */
	uint64_t hash; /* of its content without the offset (content_hash) */
};

struct recovery {
	int64_t max_ms;
	struct recovery_entry *ring; /* RECOVERY_LOG_PACKETS slots */
	size_t head, n, bytes;
	uint64_t next_offset;  /* the counter */
	const uint8_t *worker; /* the worker's index (set after the store is made) */
	struct hmap sessions;  /* pid -> struct recovery_session */
	struct recovery_session *oldest, *newest;
	size_t n_sessions;
	struct hmap moved; /* pid -> struct moved, of the live sockets recovery_moved names */
};

/* A live socket that recovered here a session of another worker: what its
 * client got last may still be that worker's event (recovery_moved). */
struct moved {
	uint64_t sig[RECOVERY_SIG];
	size_t n_sig;
	char pid[SG_ID_LEN + 1];
	char offset[RECOVERY_OFFSET_MAX + 1]; /* the other worker's, its sig's last */
};

static struct recovery_entry *entry_at(const struct recovery *r, size_t i)
{
	return &r->ring[(r->head + i) % RECOVERY_LOG_PACKETS];
}

static void entry_fini(struct recovery_entry *e)
{
	sg_strv_free(&e->rooms);
	sg_strv_free(&e->except);
	for (size_t i = 0; i < e->n_att; i++)
		free(e->att[i].data);
	free(e->att);
	free(e->text);
	memset(e, 0, sizeof(*e));
}

static void drop_oldest_entry(struct recovery *r)
{
	struct recovery_entry *e = entry_at(r, 0);

	r->bytes -= e->bytes;
	entry_fini(e);
	r->head = (r->head + 1) % RECOVERY_LOG_PACKETS;
	r->n--;
}

static void unlink_session(struct recovery *r, struct recovery_session *s)
{
	hmap_del(&r->sessions, s->pid, strlen(s->pid));
	if (s->prev)
		s->prev->next = s->next;
	else
		r->oldest = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		r->newest = s->prev;
	s->prev = s->next = NULL;
	r->n_sessions--;
}

/* Drops what is older than max_disconnection. */
static void expire(struct recovery *r, int64_t now)
{
	while (r->n > 0 && now - entry_at(r, 0)->at_ms > r->max_ms)
		drop_oldest_entry(r);
	while (r->oldest != NULL && now - r->oldest->kept_ms > r->max_ms) {
		struct recovery_session *s = r->oldest;
		unlink_session(r, s);
		recovery_session_free(s);
	}
}

/* FNV-1a, 64 bits, of len bytes, continuing from h. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t strv_hash(uint64_t h, const struct sg_strv *v)
{
	for (size_t i = 0; v && i < v->n; i++)
		h = fnv(h, v->v[i], strlen(v->v[i]) + 1);
	return fnv(h, "|", 1);
}

/* What names an event whoever logged it: its packet text before the
 * offset, its rooms, its except and its attachments. */
static uint64_t content_hash(const struct sg_buf *b, const struct sg_strv *rooms,
			     const struct sg_strv *except, const struct adapter_attachment *att,
			     size_t n_att)
{
	uint64_t h = fnv(0xcbf29ce484222325ull, b->data, b->len);

	h = strv_hash(strv_hash(h, rooms), except);
	for (size_t i = 0; i < n_att; i++)
		h = fnv(fnv(h, att[i].data, att[i].len), "|", 1);
	return h;
}

struct recovery *recovery_new(int64_t max_disconnection_ms, const uint8_t *worker)
{
	struct recovery *r = sg_calloc(1, sizeof(*r));

	r->worker = worker;
	r->max_ms = max_disconnection_ms;
	r->ring = sg_calloc(RECOVERY_LOG_PACKETS, sizeof(*r->ring));
	r->next_offset = 1;
	hmap_init(&r->sessions);
	hmap_init(&r->moved);
	return r;
}

void recovery_free(struct recovery *r)
{
	const struct hmap_entry *me;

	if (r == NULL)
		return;
	while (r->n > 0)
		drop_oldest_entry(r);
	while (r->oldest != NULL) {
		struct recovery_session *s = r->oldest;
		unlink_session(r, s);
		recovery_session_free(s);
	}
	hmap_fini(&r->sessions);
	for (size_t i = 0; hmap_next(&r->moved, &i, &me);)
		free(me->value);
	hmap_fini(&r->moved);
	free(r->ring);
	free(r);
}

void recovery_session_free(struct recovery_session *s)
{
	if (s == NULL)
		return;
	sg_strv_free(&s->rooms);
	json_decref(s->kept);
	free(s);
}

void recovery_stamp(struct recovery *r, struct sg_buf *b, const struct sg_strv *rooms,
		    const struct sg_strv *except, const struct adapter_attachment *att,
		    size_t n_att)
{
	int64_t now = sg_mono_ms();
	struct recovery_entry *e;
	size_t bytes;
	char off[24];

	uint64_t hash;

	if (b->len < 2 || b->data[b->len - 1] != ']')
		return; /* not a data array: nothing to offset */
	hash = content_hash(b, rooms, except, att, n_att);
	snprintf(off, sizeof(off), "%" PRIu64, r->next_offset * 256 + *r->worker);
	b->len--;
	if (b->data[b->len - 1] != '[')
		sg_buf_append_char(b, ',');
	sg_buf_printf(b, "\"%s\"]", off);
	bytes = b->len;
	for (size_t i = 0; i < n_att; i++)
		bytes += att[i].len;
	expire(r, now);
	while (r->n > 0 && (r->n == RECOVERY_LOG_PACKETS || r->bytes + bytes > RECOVERY_LOG_BYTES))
		drop_oldest_entry(r);
	e = entry_at(r, r->n);
	e->offset = r->next_offset++;
	e->at_ms = now;
	if (rooms)
		sg_strv_copy(&e->rooms, rooms);
	if (except)
		sg_strv_copy(&e->except, except);
	e->text = sg_strndup(b->data, b->len);
	e->len = b->len;
	if (n_att > 0) {
		e->att = sg_calloc(n_att, sizeof(*e->att));
		for (size_t i = 0; i < n_att; i++) {
			e->att[i].len = att[i].len;
			if (att[i].len > 0) {
				e->att[i].data = sg_malloc(att[i].len);
				memcpy(e->att[i].data, att[i].data, att[i].len);
			}
		}
		e->n_att = n_att;
	}
	e->bytes = bytes;
	e->hash = hash;
	r->bytes += bytes;
	r->n++;
}

void recovery_keep(struct recovery *r, const char *pid, const char *sid,
		   const struct sg_strv *rooms, json_t *kept)
{
	struct recovery_session *s = sg_calloc(1, sizeof(*s)), *old;
	struct moved *m = hmap_del(&r->moved, pid, strlen(pid));

	expire(r, sg_mono_ms());
	if (m != NULL) {
		memcpy(s->sig, m->sig, sizeof(s->sig));
		s->n_sig = m->n_sig;
		memcpy(s->offset, m->offset, sizeof(s->offset));
		free(m);
	}
	snprintf(s->pid, sizeof(s->pid), "%s", pid);
	snprintf(s->sid, sizeof(s->sid), "%s", sid);
	sg_strv_copy(&s->rooms, rooms);
	s->kept = kept;
	s->kept_ms = sg_mono_ms();
	old = hmap_get(&r->sessions, s->pid, strlen(s->pid));
	if (old != NULL) { /* cannot happen with random pids; keep the newest */
		unlink_session(r, old);
		recovery_session_free(old);
	}
	if (r->n_sessions >= RECOVERY_SESSIONS) {
		old = r->oldest;
		unlink_session(r, old);
		recovery_session_free(old);
	}
	hmap_put(&r->sessions, s->pid, strlen(s->pid), s);
	s->prev = r->newest;
	if (r->newest)
		r->newest->next = s;
	else
		r->oldest = s;
	r->newest = s;
	r->n_sessions++;
}

/* The log position of offset text (untrusted), or -1 when it is not there. */
static long find_offset(const struct recovery *r, const char *offset, size_t len)
{
	uint64_t v = 0, first;

	if (len == 0 || len > 20 || r->n == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (offset[i] < '0' || offset[i] > '9' || (i == 0 && offset[i] == '0'))
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(offset[i] - '0');
	}
	if (v % 256 != *r->worker)
		return -1; /* another worker's */
	v /= 256;
	first = entry_at(r, 0)->offset;
	if (v < first || v - first >= r->n)
		return -1;
	return (long)(v - first);
}

struct recovery_session *recovery_take(struct recovery *r, const char *pid, size_t pid_len,
				       const char *offset, size_t offset_len)
{
	struct recovery_session *s;
	long at;

	expire(r, sg_mono_ms());
	s = hmap_get(&r->sessions, pid, pid_len);
	if (s == NULL)
		return NULL;
	/* Node: an offset no longer (or never) in the log cannot recover;
	 * but a session that came from another worker may still hold that
	 * worker's offset (the caller places it: recovery_adopt) */
	at = find_offset(r, offset, offset_len);
	if (at < 0 && !(s->n_sig > 0 && strlen(s->offset) == offset_len &&
			memcmp(s->offset, offset, offset_len) == 0))
		return NULL;
	unlink_session(r, s);
	if (at >= 0) {
		s->n_sig = 0;
		s->from = (size_t)at + 1;
	}
	snprintf(s->offset, sizeof(s->offset), "%.*s", (int)offset_len, offset);
	return s;
}

static bool in_rooms(const struct recovery_session *s, const struct sg_strv *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i], s->sid) == 0 || sg_strv_contains(&s->rooms, set->v[i]))
			return true;
	return false;
}

/* Whether the client of s gets e (Node's shouldIncludePacket). */
static bool selects(const struct recovery_session *s, const struct recovery_entry *e)
{
	return (e->rooms.n == 0 || in_rooms(s, &e->rooms)) && !in_rooms(s, &e->except);
}

/* Whether the client of an adopted session got the event of hash h on the
 * worker it came from: h is in the session's hashes not yet matched (used
 * marks the matched ones, so a repeated event is matched once per copy). */
static bool got_before(const struct recovery_session *s, uint64_t h, bool *used)
{
	for (size_t k = s->n_sig; k-- > 0;)
		if (!used[k] && s->sig[k] == h)
			return used[k] = true;
	return false;
}

/* Sends (send may be NULL) what the client of s missed; adds its bytes to
 * *bytes (may be NULL); returns how many events. */
static size_t walk(const struct recovery *r, const struct recovery_session *s,
		   void (*send)(void *arg, bool binary, const char *data, size_t len), void *arg,
		   size_t *bytes)
{
	bool used[RECOVERY_SIG] = { false };
	size_t n = 0;

	for (size_t i = s->from; i < r->n; i++) {
		const struct recovery_entry *e = entry_at(r, i);
		if ((s->n_sig > 0 && got_before(s, e->hash, used)) || !selects(s, e))
			continue;
		for (size_t k = 0; send != NULL && k <= e->n_att; k++) {
			if (k == 0)
				send(arg, false, e->text, e->len);
			else
				send(arg, true, (const char *)e->att[k - 1].data,
				     e->att[k - 1].len);
		}
		if (bytes != NULL)
			*bytes += e->bytes;
		n++;
	}
	return n;
}

size_t recovery_replay(const struct recovery *r, const struct recovery_session *s,
		       void (*send)(void *arg, bool binary, const char *data, size_t len),
		       void *arg)
{
	return walk(r, s, send, arg, NULL);
}

bool recovery_oversized(const struct recovery *r, const struct recovery_session *s)
{
	size_t bytes = 0;

	return walk(r, s, NULL, NULL, &bytes) > RECOVERY_REPLAY_EVENTS ||
	       bytes > RECOVERY_REPLAY_BYTES;
}

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
		if (selects(s, entry_at(r, i)))
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
			append_hex(sig, entry_at(r, at[i])->hash);
		append_hex(sig, entry_at(r, s->from - 1)->hash);
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
	s.rooms = *rooms; /* borrowed: selects() reads it */
	n = selected_before(r, &s, r->n, at, RECOVERY_STORE_LOG);
	for (size_t i = 0; i < n; i++) {
		const struct recovery_entry *e = entry_at(r, at[i]);
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
		if (entry_at(r, i)->hash != last)
			continue;
		/* and a little before it: what this worker logged in another
		 * order than the first one (got_before skips what the client
		 * got) */
		s->from = i;
		for (size_t k = 1; s->from > 0 && k < RECOVERY_SIG_REORDER;)
			if (selects(s, entry_at(r, --s->from)))
				k++;
		return true;
	}
	return false;
}

void recovery_moved(struct recovery *r, const struct recovery_session *s)
{
	struct moved *m;

	if (s->n_sig == 0)
		return;
	m = sg_calloc(1, sizeof(*m));
	memcpy(m->sig, s->sig, sizeof(m->sig));
	m->n_sig = s->n_sig;
	memcpy(m->pid, s->pid, sizeof(m->pid));
	memcpy(m->offset, s->offset, sizeof(m->offset));
	free(hmap_put(&r->moved, m->pid, strlen(m->pid), m));
}

void recovery_forget(struct recovery *r, const char *pid)
{
	free(hmap_del(&r->moved, pid, strlen(pid)));
}
