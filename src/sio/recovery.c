/*
 * recovery.c: the session store and the replay log of one namespace of one
 * worker (see recovery.h).  The log is a ring of entries in offset order;
 * offsets are a counter of the namespace times 256 plus the worker's index,
 * written as decimal strings, so an offset names its worker and its
 * position there: base + (counter - first counter).
 */
#include "sio/recovery.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "sio/recovery_int.h"

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
	struct recovery_entry *e = recovery_entry_at(r, 0);

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
	while (r->n > 0 && now - recovery_entry_at(r, 0)->at_ms > r->max_ms)
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
	e = recovery_entry_at(r, r->n);
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
	first = recovery_entry_at(r, 0)->offset;
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

bool recovery_selects(const struct recovery_session *s, const struct recovery_entry *e)
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
		const struct recovery_entry *e = recovery_entry_at(r, i);
		if ((s->n_sig > 0 && got_before(s, e->hash, used)) || !recovery_selects(s, e))
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
