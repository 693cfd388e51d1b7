/*
 * eio_polling.c: the HTTP long-polling transport of an Engine.IO session.
 * Invariants: at most one GET is held per session (a second one is an error
 * that ends the session, as in Node); queued packets leave in order, joined
 * by the record separator, on the next GET; while an upgrade probe is
 * answered, GETs get a noop and packets stay queued for the WebSocket; the
 * queue is bounded by limits.output_hard.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/conn.h"
#include "config/config.h"
#include "eio/eio.h"
#include "proto/eio_packet.h"
#include "proto/http.h"
#include "core/log.h"
#include "core/worker.h"

/* Upper bound of packets in one POST (the body itself is bounded by
 * server.max_payload). */
#define EIO_POLL_MAX_PACKETS 10000

static const char text_plain[] = "text/plain; charset=UTF-8";
static const char no_store[] = "Cache-Control: no-store\r\n";

static int on_posted_packet(const struct eio_packet *p, void *arg);
static void build_payload(struct eio_session *s, struct sg_buf *out);
static void post_ok(struct conn *c, const char *headers);

void eio_poll_queue_free(struct eio_session *s)
{
	while (s->q_head != NULL) {
		struct eio_qentry *e = s->q_head;
		s->q_head = e->next;
		free(e);
	}
	s->q_tail = &s->q_head;
	s->q_bytes = 0;
}

void eio_poll_enqueue(struct eio_session *s, bool binary, char type, const char *data,
		      size_t len)
{
	size_t n = len + (type ? 1 : 0);
	struct eio_qentry *e;

	if (s->over_output && !s->closing)
		return; /* dropped: the session closes on the next loop turn */
	if (s->q_bytes + n > s->w->cfg->limits.output_hard && !s->closing) {
		/* A slow consumer, closed from its heartbeat event on the next
		 * loop turn, not here: a broadcast may be walking a room its
		 * socket would leave (and free) on the way out. */
		eio_log(SG_LOG_DEBUG, s, NULL, "polling queue over limits.output_hard");
		s->over_output = true;
		event_active(s->heartbeat, EV_TIMEOUT, 1);
		return;
	}
	e = sg_malloc(sizeof(*e) + n);
	e->next = NULL;
	e->binary = binary;
	e->len = n;
	if (type)
		e->data[0] = type;
	memcpy(e->data + (type ? 1 : 0), data, len);
	*s->q_tail = e;
	s->q_tail = &e->next;
	s->q_bytes += n;
	eio_poll_flush(s);
}

static void build_payload(struct eio_session *s, struct sg_buf *out)
{
	for (struct eio_qentry *e = s->q_head; e; e = e->next) {
		if (e->binary) {
			eio_payload_append_binary(out, e->data, e->len);
		} else {
			if (out->len)
				sg_buf_append_char(out, '\x1e');
			sg_buf_append(out, e->data, e->len);
		}
	}
	eio_poll_queue_free(s);
}

void eio_poll_answer(struct eio_session *s, const char *payload, size_t len)
{
	struct conn *c = s->get;

	if (c == NULL)
		return;
	s->get = NULL;
	conn_reply(c, 200, text_plain, no_store, payload, len);
}

void eio_poll_flush(struct eio_session *s)
{
	struct sg_buf b;

	if (s->get == NULL || s->q_head == NULL || s->upgrading || s->transport != EIO_POLLING)
		return;
	sg_buf_init(&b);
	build_payload(s, &b);
	eio_poll_answer(s, b.data, b.len);
	sg_buf_fini(&b);
}

void eio_poll_get(struct eio_session *s, struct conn *c, const char *headers)
{
	if (s->get != NULL) {
		/* Node: the first GET gets a close packet, the second a 400, and
		 * the session ends. */
		eio_log(SG_LOG_DEBUG, s, NULL, "overlapping polling GET");
		eio_http_error(c, false, EIO_ERR_BAD_REQUEST, headers);
		eio_poll_queue_free(s);
		eio_session_close(s, SG_CLOSE_TRANSPORT_ERROR, false);
		return;
	}
	s->get = c;
	conn_hold(c, s, headers);
	if (s->upgrading) {
		eio_poll_answer(s, "6", 1);
		return;
	}
	if (s->draining && s->q_head == NULL) {
		/* the last packets went out on the previous GET: now the close */
		eio_poll_answer(s, "1", 1);
		eio_session_finish(s);
		return;
	}
	eio_poll_flush(s);
}

/* "ok" for a POST, with the CORS lines and no-store, as Node answers. */
static void post_ok(struct conn *c, const char *headers)
{
	struct sg_buf h;

	sg_buf_init(&h);
	sg_buf_printf(&h, "%s%s", no_store, headers ? headers : "");
	conn_reply(c, 200, "text/html", h.data, "ok", 2);
	sg_buf_fini(&h);
}

static int on_posted_packet(const struct eio_packet *p, void *arg)
{
	struct eio_session *s = arg;

	eio_on_packet(s, p);
	return s->closing ? 1 : 0;
}

void eio_poll_post(struct eio_session *s, struct conn *c, const struct http_request *req,
		   const char *body, size_t len, const char *headers)
{
	const struct http_header *ct = http_request_header(req, "content-type");
	static const char octet[] = "application/octet-stream";

	if (req->content_length > 0 && (uint64_t)req->content_length > s->w->cfg->server.max_payload) {
		/* Node: 413, the data dropped, the session kept. */
		eio_log(SG_LOG_DEBUG, s, NULL, "polling POST of %lld bytes over server.max_payload",
			 (long long)req->content_length);
		conn_respond(c, 413, "text/plain", headers, "", 0);
		return;
	}
	if (s->closing) {
		post_ok(c, headers); /* closing: nothing posted is read any more */
		return;
	}
	if (ct != NULL && ct->value_len >= sizeof(octet) - 1 &&
	    strncasecmp(ct->value, octet, sizeof(octet) - 1) == 0) {
		/* v4 sends binary as base64 text; Node refuses this and closes. */
		eio_http_error(c, false, EIO_ERR_BAD_REQUEST, headers);
		eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		return;
	}
	if (body == NULL || len == 0 ||
	    eio_payload_decode(body, len, EIO_POLL_MAX_PACKETS, on_posted_packet, s) < 0) {
		if (!s->closing) {
			eio_log(SG_LOG_DEBUG, s, NULL, "invalid polling payload");
			eio_session_close(s, SG_CLOSE_PARSE_ERROR, false);
		}
	}
	post_ok(c, headers);
}
