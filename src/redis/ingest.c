/*
 * ingest.c: a stream read through a consumer group (see ingest.h).  One
 * read is in flight at a time: the group's creation, then pending entries
 * from "0" until none is left, then new ones with ">" and BLOCK; each
 * batch is delivered, then acknowledged with one XACK, then the next read
 * goes out.  A lost link ends the cycle (its callbacks get NULL); the next
 * on_ready starts it again from the pending entries.
 */
#include "redis/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hmap.h"
#include "core/log.h"

#define INGEST_BLOCK_MS "5000"

struct ingest {
	struct redis_link *link;
	char *stream, *group, *consumer;
	ingest_message_fn *on_message;
	void *arg;
	bool pending_phase; /* reading this consumer's pending entries */
	char next_id[64];   /* where the pending phase goes on from */
	bool stopping;
	struct ingest_stats stats;
	/* the last INGEST_KEYS idempotency keys, oldest overwritten first */
	struct hmap keys;
	char **ring;
	size_t ring_pos;
};

static void on_ready(struct redis_link *l, void *arg);
static void on_group(struct redis_link *l, redisReply *r, void *arg);
static void on_read(struct redis_link *l, redisReply *r, void *arg);
static void read_next(struct ingest *in);

static const struct redis_link_ops ingest_ops = { .on_ready = on_ready };

struct ingest *ingest_new(struct event_base *base, const struct redis_url *urls, size_t n_urls,
			  const char *password, const struct redis_link_tls *tls,
			  const char *stream, const char *group, const char *consumer,
			  ingest_message_fn *on_message, void *arg)
{
	struct ingest *in = sg_calloc(1, sizeof(*in));

	in->stream = sg_strdup(stream);
	in->group = sg_strdup(group);
	in->consumer = sg_strdup(consumer);
	in->on_message = on_message;
	in->arg = arg;
	hmap_init(&in->keys);
	in->ring = sg_calloc(INGEST_KEYS, sizeof(*in->ring));
	in->link = redis_link_new(base, urls, n_urls, password, tls, "ingest", &ingest_ops, in);
	return in;
}

void ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	in->stopping = true;
	redis_link_free(in->link); /* its callbacks get NULL and do nothing */
	hmap_fini(&in->keys);
	for (size_t i = 0; i < INGEST_KEYS; i++)
		free(in->ring[i]);
	free(in->ring);
	free(in->stream);
	free(in->group);
	free(in->consumer);
	free(in);
}

void ingest_get_stats(const struct ingest *in, struct ingest_stats *out)
{
	*out = in->stats;
}

bool ingest_up(const struct ingest *in)
{
	return redis_link_ready(in->link);
}

static int command(struct ingest *in, redis_link_cb *cb, int argc, const char **argv)
{
	size_t lens[3 + INGEST_BATCH];
	enum redis_link_refusal why;

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return redis_link_command(in->link, cb, in, argc, argv, lens, &why);
}

/* XGROUP CREATE at "$": a new group starts with what comes next; an
 * existing one (BUSYGROUP) goes on where it stopped. */
static void on_ready(struct redis_link *l, void *arg)
{
	struct ingest *in = arg;
	const char *argv[] = { "XGROUP", "CREATE", in->stream, in->group, "$", "MKSTREAM" };

	SG_UNUSED(l);
	in->pending_phase = true;
	snprintf(in->next_id, sizeof(in->next_id), "0");
	(void)command(in, on_group, 6, argv);
}

static void on_group(struct redis_link *l, redisReply *r, void *arg)
{
	struct ingest *in = arg;

	SG_UNUSED(l);
	if (r == NULL || in->stopping)
		return;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
		log_warn("ingest: cannot create group %s on stream %s: %s", in->group, in->stream,
			 r->str);
		redis_link_reset(in->link, "the consumer group could not be created");
		return;
	}
	log_info("ingest: reading stream %s as group %s", in->stream, in->group);
	read_next(in);
}

static void read_next(struct ingest *in)
{
	const char *argv[] = { "XREADGROUP", "GROUP",	 in->group, in->consumer,
			       "COUNT",	     "100",	 "BLOCK",   INGEST_BLOCK_MS,
			       "STREAMS",    in->stream, ">" };

	if (in->pending_phase) {
		/* no BLOCK: the pending entries are there or not */
		const char *p[] = { "XREADGROUP", "GROUP",   in->group,	 in->consumer, "COUNT",
				    "100",	  "STREAMS", in->stream, in->next_id };
		(void)command(in, on_read, 9, p);
		return;
	}
	(void)command(in, on_read, 11, argv);
}

/* The value of field name in an entry's [f, v, f, v...], or NULL. */
static const redisReply *field(const redisReply *fv, const char *name)
{
	if (fv == NULL || fv->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < fv->elements; i += 2) {
		const redisReply *f = fv->element[i], *v = fv->element[i + 1];
		if (f->type == REDIS_REPLY_STRING && strcmp(f->str, name) == 0 &&
		    v->type == REDIS_REPLY_STRING)
			return v;
	}
	return NULL;
}

/* Whether key was seen; remembers it otherwise. */
static bool seen_key(struct ingest *in, const redisReply *key)
{
	char *old, *copy;

	if (hmap_get(&in->keys, key->str, key->len) != NULL)
		return true;
	old = in->ring[in->ring_pos];
	if (old != NULL)
		hmap_del(&in->keys, old, strlen(old));
	free(old);
	copy = sg_malloc(key->len + 1);
	memcpy(copy, key->str, key->len);
	copy[key->len] = '\0';
	in->ring[in->ring_pos] = copy;
	in->ring_pos = (in->ring_pos + 1) % INGEST_KEYS;
	hmap_put(&in->keys, copy, key->len, copy);
	return false;
}

static void deliver(struct ingest *in, const redisReply *entry)
{
	const redisReply *fv = entry->element[1];
	const redisReply *msg = field(fv, "message"), *key = field(fv, "key");

	if (msg == NULL) {
		/* a deleted entry (nil) or one without a message: acknowledged */
		in->stats.malformed++;
		return;
	}
	if (key != NULL && key->len > 0 && !memchr(key->str, '\0', key->len) && seen_key(in, key)) {
		in->stats.duplicates++;
		return;
	}
	in->stats.delivered++;
	in->on_message(in->arg, msg->str, msg->len);
}

static void on_read(struct redis_link *l, redisReply *r, void *arg)
{
	struct ingest *in = arg;
	const redisReply *entries;
	const char *argv[3 + INGEST_BATCH];
	int argc = 0;

	SG_UNUSED(l);
	if (r == NULL || in->stopping)
		return; /* the link is down: on_ready starts again */
	if (r->type == REDIS_REPLY_ERROR) {
		/* -NOGROUP: the stream or the group was deleted; start again */
		log_warn("ingest: reading stream %s: %s", in->stream, r->str);
		redis_link_reset(in->link, "the stream could not be read");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements < 2 ||
	    r->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
		/* nil: BLOCK timed out */
		if (in->pending_phase)
			in->pending_phase = false;
		read_next(in);
		return;
	}
	entries = r->element[0]->element[1];
	if (entries->elements == 0 && in->pending_phase) {
		in->pending_phase = false; /* every pending entry is delivered */
		read_next(in);
		return;
	}
	argv[argc++] = "XACK";
	argv[argc++] = in->stream;
	argv[argc++] = in->group;
	for (size_t i = 0; i < entries->elements && i < INGEST_BATCH; i++) {
		const redisReply *e = entries->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		deliver(in, e);
		argv[argc++] = e->element[0]->str;
		if (in->pending_phase)
			snprintf(in->next_id, sizeof(in->next_id), "%s", e->element[0]->str);
	}
	if (argc > 3)
		(void)command(in, NULL, argc, argv);
	read_next(in);
}
