/*
 * members.c: siogate instances on one Redis and the choice of the relay
 * (see members.h).  Invariants: the table holds each uid once; an entry is
 * live while now - heard_ms <= MEMBERS_EXPIRE_MS; this instance's own entry
 * comes only from its own heartbeat coming back, so "am I the relay" is
 * decided at the same point of the message order on every instance.
 */
#include "proto/members.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A uid is 6 characters for Redis-adapter servers; a little room. */
#define MEMBERS_UID_MAX 32

struct member {
	char uid[MEMBERS_UID_MAX + 1];
	bool ready;	  /* settled: may be the relay */
	int64_t heard_ms; /* when its last heartbeat arrived */
};

struct members {
	char uid[MEMBERS_UID_MAX + 1];
	char *server_id;
	bool subscribed;
	bool left;
	int64_t subscribed_ms;
	struct member table[MEMBERS_MAX];
	size_t n;
};

static struct member *find(struct members *m, const char *uid);
static void forget(struct members *m, const char *uid);
static bool live(const struct member *e, int64_t now);
static struct member *slot(struct members *m, const char *uid, int64_t now);

struct members *members_new(const char *uid, const char *server_id)
{
	struct members *m = sg_calloc(1, sizeof(*m));

	snprintf(m->uid, sizeof(m->uid), "%s", uid);
	m->server_id = sg_strdup(server_id ? server_id : "");
	return m;
}

void members_free(struct members *m)
{
	if (m == NULL)
		return;
	free(m->server_id);
	free(m);
}

void members_subscribed(struct members *m, int64_t now)
{
	m->n = 0;
	m->subscribed = true;
	m->subscribed_ms = now;
}

void members_lost(struct members *m)
{
	m->n = 0;
	m->subscribed = false;
}

static void append_announcement(const struct members *m, const char *state, struct sg_buf *out)
{
	json_t *o =
		json_pack("{s:s, s:s, s:s}", "uid", m->uid, "state", state, "server", m->server_id);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text == NULL)
		sg_fatal("cannot build a members announcement");
	sg_buf_append_str(out, text);
	free(text);
	json_decref(o);
}

bool members_heartbeat(struct members *m, int64_t now, struct sg_buf *out)
{
	if (!m->subscribed || m->left)
		return false;
	append_announcement(m, now - m->subscribed_ms >= MEMBERS_SETTLE_MS ? "ready" : "settling",
			    out);
	return true;
}

void members_leave(struct members *m, struct sg_buf *out)
{
	m->left = true;
	append_announcement(m, "leaving", out);
}

static struct member *find(struct members *m, const char *uid)
{
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->table[i].uid, uid) == 0)
			return &m->table[i];
	}
	return NULL;
}

static void forget(struct members *m, const char *uid)
{
	struct member *e = find(m, uid);

	if (e != NULL)
		*e = m->table[--m->n];
}

static bool live(const struct member *e, int64_t now)
{
	return now - e->heard_ms <= MEMBERS_EXPIRE_MS;
}

/* uid's entry, a new one, or NULL when the table is full of live members. */
static struct member *slot(struct members *m, const char *uid, int64_t now)
{
	struct member *e = find(m, uid);

	if (e != NULL)
		return e;
	if (m->n == MEMBERS_MAX) {
		/* Reuse an expired entry before giving up. */
		for (size_t i = 0; i < m->n; i++) {
			if (!live(&m->table[i], now)) {
				e = &m->table[i];
				break;
			}
		}
		if (e == NULL)
			return NULL;
	} else {
		e = &m->table[m->n++];
	}
	snprintf(e->uid, sizeof(e->uid), "%s", uid);
	return e;
}

int members_on_message(struct members *m, const char *payload, size_t len, int64_t now,
		       struct sg_err *err)
{
	json_t *root = json_loadb(payload, len, 0, NULL);
	const char *uid = NULL, *state = NULL;
	struct member *e;
	int rc = -1;

	if (root == NULL || json_unpack(root, "{s:s, s:s}", "uid", &uid, "state", &state) != 0) {
		sg_err_set(err, "not a members announcement");
		goto out;
	}
	if (uid[0] == '\0' || strlen(uid) > MEMBERS_UID_MAX) {
		sg_err_set(err, "bad uid in a members announcement");
		goto out;
	}
	if (!m->subscribed) {
		rc = 0;
		goto out;
	}
	if (strcmp(state, "leaving") == 0) {
		forget(m, uid);
		rc = 0;
		goto out;
	}
	if (strcmp(state, "ready") != 0 && strcmp(state, "settling") != 0) {
		sg_err_set(err, "unknown state in a members announcement");
		goto out;
	}
	e = slot(m, uid, now);
	if (e == NULL) {
		sg_err_set(err, "more than %d members", MEMBERS_MAX);
		goto out;
	}
	e->ready = strcmp(state, "ready") == 0;
	e->heard_ms = now;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

bool members_is_relay(const struct members *m, int64_t now)
{
	const struct member *first = NULL;

	if (!m->subscribed || m->left)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		const struct member *e = &m->table[i];
		if (e->ready && live(e, now) && (first == NULL || strcmp(e->uid, first->uid) < 0))
			first = e;
	}
	return first != NULL && strcmp(first->uid, m->uid) == 0;
}

size_t members_count(const struct members *m, int64_t now, bool ready)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		n += live(&m->table[i], now) && m->table[i].ready == ready;
	return n;
}
