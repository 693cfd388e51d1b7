/*
 * wire.h: test support for the layers that run on a connection (net/ws,
 * eio, sio, the authenticate flow), driven through their handler tables
 * with nothing mocked: a worker on a real libevent base with the modules a
 * test lists (its own last, registering the test's handler), connections
 * made of socketpairs (the worker holds one end as a real struct conn from
 * conn_new; the test writes and reads the other end, the "peer"), a loop
 * runner whose every wait is bounded, and the client's side of HTTP and of
 * WebSocket framing (masked frames out, server frames parsed back).
 *
 * Header-only (static functions, some unused by a given test): each unit
 * test is one .c file.
 */
#ifndef SG_TEST_WIRE_H
#define SG_TEST_WIRE_H

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/common.h"
#include "core/ids.h"
#include "core/worker.h"
#include "net/admission.h"
#include "net/conn.h"
#include "unit.h"

#define WIRE_FN static __attribute__((unused))
#define WIRE_PEERS 32
/* The longest any wait may take before the test gives up (and fails). */
#define WIRE_TIMEOUT_MS 3000

/* The client end of one connection. */
struct wire_peer {
	int fd;		  /* -1 once closed */
	bool eof;	  /* the server closed its side (FIN or reset) */
	struct sg_buf in; /* received and not yet consumed */
};

struct wire {
	struct event_base *base;
	struct sg_config *cfg;
	struct worker w;
	struct admission *admission;
	struct wire_peer peers[WIRE_PEERS];
	size_t n_peers;
};

/* Sets up a worker with the modules (lowest first) on a new base, from a
 * YAML configuration; a configuration error is a bug of the test (abort). */
WIRE_FN void wire_init(struct wire *x, const char *yaml, const struct worker_module *const *mods,
		       size_t n_mods)
{
	struct sg_config_errors errs = { 0 };

	memset(x, 0, sizeof(*x));
	x->cfg = config_load_string("test.yaml", yaml, strlen(yaml), &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "wire: %s\n", errs.v[i]);
	if (x->cfg == NULL)
		abort();
	log_configure(x->cfg->log.level, x->cfg->log.format);
	x->base = event_base_new();
	if (x->base == NULL || worker_init(&x->w, x->base, x->cfg, NULL, mods, n_mods) != 0)
		abort();
	x->admission = admission_new();
	x->w.admission = x->admission;
}

/* Reads what arrived at every peer. */
WIRE_FN void wire_read_peers(struct wire *x)
{
	for (size_t i = 0; i < x->n_peers; i++) {
		struct wire_peer *p = &x->peers[i];
		char chunk[16384];
		ssize_t n;

		while (p->fd >= 0 && !p->eof) {
			n = read(p->fd, chunk, sizeof(chunk));
			if (n > 0)
				sg_buf_append(&p->in, chunk, (size_t)n);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				p->eof = true;
			else if (errno == EAGAIN)
				break;
		}
	}
}

/* Runs the loop's turns that are due now, without waiting: the worker
 * takes in what the peers sent and answers what it can at once (its
 * deferred calls and end-of-turn writes included). */
WIRE_FN void wire_settle(struct wire *x)
{
	for (int i = 0; i < 16; i++) {
		event_base_loop(x->base, EVLOOP_NONBLOCK);
		wire_read_peers(x);
	}
}

static void wire_tick(evutil_socket_t fd, short what, void *arg)
{
	SG_UNUSED(fd);
	SG_UNUSED(what);
	SG_UNUSED(arg);
}

/* Runs the loop (timers fire) until cond(x, arg) holds; false when it did
 * not within timeout_ms. */
WIRE_FN bool wire_until(struct wire *x, bool (*cond)(struct wire *x, const void *arg),
			const void *arg, int timeout_ms)
{
	int64_t deadline = sg_mono_ms() + timeout_ms;
	struct event *tick = evtimer_new(x->base, wire_tick, NULL);
	struct timeval tv = { 0, 2000 };
	bool ok;

	wire_settle(x);
	while (!(ok = cond(x, arg)) && sg_mono_ms() < deadline) {
		evtimer_add(tick, &tv);
		event_base_loop(x->base, EVLOOP_ONCE);
		wire_settle(x);
	}
	event_free(tick);
	return ok;
}

/* Runs the loop for ms whatever happens (for "nothing else happens"). */
WIRE_FN void wire_run_ms(struct wire *x, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(x->base, &tv);
	event_base_dispatch(x->base);
	wire_settle(x);
}

/* A new connection from 127.0.0.1, counted by the admission as the
 * listener would, held by the worker as a struct conn; returns its peer. */
WIRE_FN struct wire_peer *wire_connect(struct wire *x)
{
	struct sockaddr_in sin;
	struct ip_count *ip;
	enum sg_close why;
	struct wire_peer *p;
	int fds[2];

	if (x->n_peers == WIRE_PEERS ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
		abort();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)(40000 + x->n_peers));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (conn_admit(&x->w, (struct sockaddr *)&sin, &ip, &why) != 0 ||
	    conn_new(&x->w, fds[0], (struct sockaddr *)&sin, false, ip) == NULL)
		abort();
	p = &x->peers[x->n_peers++];
	p->fd = fds[1];
	p->eof = false;
	sg_buf_init(&p->in);
	sg_buf_reserve(&p->in, 0);
	return p;
}

/* The peer hangs up (the worker sees EOF). */
WIRE_FN void wire_hangup(struct wire_peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->eof = true;
}

/* Writes all of data to the peer's socket (the worker reads it when the
 * loop runs). */
WIRE_FN void wire_send(struct wire *x, struct wire_peer *p, const void *data, size_t len)
{
	const char *d = data;
	int64_t deadline = sg_mono_ms() + WIRE_TIMEOUT_MS;

	while (len > 0 && sg_mono_ms() < deadline) {
		ssize_t n = write(p->fd, d, len);
		if (n > 0) {
			d += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			break;
		} else {
			wire_settle(x); /* the worker reads, making room */
		}
	}
	CHECK_INT(len, 0);
}

WIRE_FN void wire_send_str(struct wire *x, struct wire_peer *p, const char *s)
{
	wire_send(x, p, s, strlen(s));
}

/* Drops the first n received bytes. */
WIRE_FN void wire_consume(struct wire_peer *p, size_t n)
{
	memmove(p->in.data, p->in.data + n, p->in.len - n);
	p->in.len -= n;
	p->in.data[p->in.len] = '\0';
}

static bool wire_cond_eof(struct wire *x, const void *arg)
{
	SG_UNUSED(x);
	return ((const struct wire_peer *)arg)->eof;
}

/* Waits for the server to close its side of p. */
WIRE_FN bool wire_wait_eof(struct wire *x, struct wire_peer *p)
{
	return wire_until(x, wire_cond_eof, p, WIRE_TIMEOUT_MS);
}

/* ---- HTTP ---------------------------------------------------------- */

/* One HTTP response taken off the front of what p received. */
struct wire_response {
	int status;
	struct sg_buf head; /* the status line and headers, CRLF-terminated */
	struct sg_buf body;
};

WIRE_FN void wire_response_init(struct wire_response *r)
{
	r->status = 0;
	sg_buf_init(&r->head);
	sg_buf_init(&r->body);
	sg_buf_reserve(&r->head, 0);
	sg_buf_reserve(&r->body, 0);
}

WIRE_FN void wire_response_fini(struct wire_response *r)
{
	sg_buf_fini(&r->head);
	sg_buf_fini(&r->body);
}

/* Whether the head has the header line "Name: value" (name in any case). */
WIRE_FN bool wire_has_header(const struct wire_response *r, const char *line)
{
	const char *colon = strchr(line, ':');
	size_t nlen = (size_t)(colon - line);

	for (const char *h = strstr(r->head.data, "\r\n"); h != NULL; h = strstr(h + 2, "\r\n")) {
		const char *value = h + 2 + nlen + 1;
		const char *end = strstr(h + 2, "\r\n");
		if (end != NULL && strncasecmp(h + 2, line, nlen) == 0 && h[2 + nlen] == ':') {
			while (*value == ' ')
				value++;
			if ((size_t)(end - value) == strlen(colon + 1) - strspn(colon + 1, " ") &&
			    memcmp(value, colon + 1 + strspn(colon + 1, " "),
				   (size_t)(end - value)) == 0)
				return true;
		}
	}
	return false;
}

/* Takes one whole response off the front of p's input: 1 (r filled), or 0
 * when it has not all arrived.  A response without Content-Length (101)
 * has no body. */
WIRE_FN int wire_take_response(struct wire_peer *p, struct wire_response *r)
{
	const char *end = strstr(p->in.data, "\r\n\r\n");
	const char *cl;
	size_t head_len, body_len = 0;

	if (end == NULL)
		return 0;
	head_len = (size_t)(end - p->in.data) + 4;
	sg_buf_reset(&r->head);
	sg_buf_append(&r->head, p->in.data, head_len - 2);
	cl = strcasestr(r->head.data, "\r\nContent-Length:");
	if (cl != NULL)
		body_len = strtoul(cl + 17, NULL, 10);
	if (p->in.len < head_len + body_len)
		return 0;
	r->status = atoi(p->in.data + 9);
	sg_buf_reset(&r->body);
	sg_buf_append(&r->body, p->in.data + head_len, body_len);
	wire_consume(p, head_len + body_len);
	return 1;
}

static bool wire_cond_response(struct wire *x, const void *arg)
{
	const struct wire_peer *p = arg;
	const char *end = strstr(p->in.data, "\r\n\r\n");
	const char *cl;

	SG_UNUSED(x);
	if (end == NULL)
		return p->eof;
	cl = strcasestr(p->in.data, "\r\nContent-Length:");
	if (cl == NULL || cl > end)
		return true;
	return p->in.len >= (size_t)(end - p->in.data) + 4 + strtoul(cl + 17, NULL, 10) || p->eof;
}

/* Waits for a whole response on p and takes it: false when none came. */
WIRE_FN bool wire_response(struct wire *x, struct wire_peer *p, struct wire_response *r)
{
	return wire_until(x, wire_cond_response, p, WIRE_TIMEOUT_MS) &&
	       wire_take_response(p, r) == 1;
}

/* ---- WebSocket ----------------------------------------------------- */

/* The key of RFC 6455's example, and its accept value. */
#define WIRE_WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WIRE_WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* Appends a client frame (masked with a fixed key) to out. */
WIRE_FN void wire_ws_frame(struct sg_buf *out, bool fin, uint8_t opcode, const void *payload,
			   size_t len)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	uint8_t hdr[14];
	size_t h = 0;

	hdr[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	if (len < 126) {
		hdr[h++] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (uint8_t)(len >> 8);
		hdr[h++] = (uint8_t)len;
	} else {
		hdr[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			hdr[h++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	memcpy(hdr + h, mask, 4);
	h += 4;
	sg_buf_append(out, hdr, h);
	for (size_t i = 0; i < len; i++)
		sg_buf_append_char(out, (char)(((const uint8_t *)payload)[i] ^ mask[i & 3]));
}

/* Sends one whole client frame. */
WIRE_FN void wire_ws_send(struct wire *x, struct wire_peer *p, uint8_t opcode, const void *payload,
			  size_t len)
{
	struct sg_buf b;

	sg_buf_init(&b);
	wire_ws_frame(&b, true, opcode, payload, len);
	wire_send(x, p, b.data, b.len);
	sg_buf_fini(&b);
}

WIRE_FN void wire_ws_text(struct wire *x, struct wire_peer *p, const char *text)
{
	wire_ws_send(x, p, 0x1, text, strlen(text));
}

/* One server frame. */
struct wire_frame {
	bool fin;
	uint8_t opcode;
	struct sg_buf payload;
};

/* The header length and payload length of the server frame at the front
 * of p's input: false while the header is incomplete. */
static bool wire_frame_size(const struct wire_peer *p, size_t *hlen, uint64_t *plen)
{
	const uint8_t *d = (const uint8_t *)p->in.data;
	size_t h = 2;
	uint64_t len;

	if (p->in.len < 2)
		return false;
	len = d[1] & 0x7f;
	h += len == 126 ? 2 : len == 127 ? 8 : 0;
	if (p->in.len < h)
		return false;
	if (len == 126) {
		len = (uint64_t)d[2] << 8 | d[3];
	} else if (len == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | d[2 + i];
	}
	*hlen = h;
	*plen = len;
	return true;
}

/* Takes one whole server frame off p's input: 1, 0 when incomplete, -1
 * when it is not a valid server frame (masked, reserved bits). */
WIRE_FN int wire_take_frame(struct wire_peer *p, struct wire_frame *f)
{
	const uint8_t *d = (const uint8_t *)p->in.data;
	size_t h;
	uint64_t len;

	if (!wire_frame_size(p, &h, &len) || p->in.len < h + len)
		return 0;
	if ((d[0] & 0x70) != 0 || (d[1] & 0x80) != 0)
		return -1;
	f->fin = (d[0] & 0x80) != 0;
	f->opcode = d[0] & 0x0f;
	sg_buf_init(&f->payload);
	sg_buf_append(&f->payload, d + h, (size_t)len);
	wire_consume(p, h + (size_t)len);
	return 1;
}

static bool wire_cond_frame(struct wire *x, const void *arg)
{
	const struct wire_peer *p = arg;
	size_t h;
	uint64_t len;

	SG_UNUSED(x);
	return (wire_frame_size(p, &h, &len) && p->in.len >= h + len) || p->eof;
}

/* Waits for one whole server frame and takes it (its payload is then the
 * caller's: sg_buf_fini).  false when none came. */
WIRE_FN bool wire_frame(struct wire *x, struct wire_peer *p, struct wire_frame *f)
{
	if (!wire_until(x, wire_cond_frame, p, WIRE_TIMEOUT_MS) || wire_take_frame(p, f) != 1) {
		f->opcode = 0xff;
		sg_buf_init(&f->payload);
		sg_buf_reserve(&f->payload, 0);
		return false;
	}
	sg_buf_reserve(&f->payload, 0);
	return true;
}

/* The next frame must be a text frame saying exactly text. */
WIRE_FN bool wire_expect_text(struct wire *x, struct wire_peer *p, const char *text)
{
	struct wire_frame f;
	bool ok = wire_frame(x, p, &f) && f.opcode == 0x1 && f.fin &&
		  f.payload.len == strlen(text) && memcmp(f.payload.data, text, f.payload.len) == 0;

	if (!ok)
		fprintf(stderr, "  expected text frame \"%s\", got opcode %d \"%.*s\"\n", text,
			f.opcode, (int)f.payload.len, f.payload.data);
	sg_buf_fini(&f.payload);
	return ok;
}

/* Whether text matches pattern, where '*' stands for any run of bytes
 * (ids, times). */
WIRE_FN bool wire_glob(const char *pattern, const char *text, size_t len)
{
	const char *star = NULL, *resume = NULL, *end = text + len;

	while (text < end) {
		if (*pattern == '*') {
			star = pattern++;
			resume = text;
		} else if (*pattern != '\0' && *pattern == *text) {
			pattern++;
			text++;
		} else if (star != NULL) {
			pattern = star + 1;
			text = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

/* The next frame must be a text frame matching pattern (wire_glob). */
WIRE_FN bool wire_expect_glob(struct wire *x, struct wire_peer *p, const char *pattern)
{
	struct wire_frame f;
	bool ok = wire_frame(x, p, &f) && f.opcode == 0x1 &&
		  wire_glob(pattern, f.payload.data, f.payload.len);

	if (!ok)
		fprintf(stderr, "  expected text frame like \"%s\", got opcode %d \"%.*s\"\n",
			pattern, f.opcode, (int)f.payload.len, f.payload.data);
	sg_buf_fini(&f.payload);
	return ok;
}

/* The next frame must be a close frame with this status code (0: none). */
WIRE_FN bool wire_expect_close(struct wire *x, struct wire_peer *p, unsigned code)
{
	struct wire_frame f;
	bool ok =
		wire_frame(x, p, &f) && f.opcode == 0x8 &&
		(code == 0 ? f.payload.len == 0
			   : f.payload.len >= 2 && (unsigned)((uint8_t)f.payload.data[0] << 8 |
							      (uint8_t)f.payload.data[1]) == code);

	if (!ok)
		fprintf(stderr, "  expected close frame %u, got opcode %d (%zu bytes)\n", code,
			f.opcode, f.payload.len);
	sg_buf_fini(&f.payload);
	return ok;
}

/* Sends a WebSocket upgrade request for target ("/path?query") with extra
 * header lines (CRLF-terminated, or NULL). */
WIRE_FN void wire_ws_request(struct wire *x, struct wire_peer *p, const char *target,
			     const char *extra)
{
	struct sg_buf b;

	sg_buf_init(&b);
	sg_buf_printf(&b,
		      "GET %s HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\n"
		      "Connection: Upgrade\r\nSec-WebSocket-Key: " WIRE_WS_KEY "\r\n"
		      "Sec-WebSocket-Version: 13\r\n%s\r\n",
		      target, extra ? extra : "");
	wire_send(x, p, b.data, b.len);
	sg_buf_fini(&b);
}

/* Upgrades p to a WebSocket on target; true on a correct 101. */
WIRE_FN bool wire_ws_upgrade(struct wire *x, struct wire_peer *p, const char *target,
			     const char *extra)
{
	struct wire_response r;
	bool ok;

	wire_response_init(&r);
	wire_ws_request(x, p, target, extra);
	ok = wire_response(x, p, &r) && r.status == 101 &&
	     wire_has_header(&r, "Sec-WebSocket-Accept: " WIRE_WS_ACCEPT) &&
	     wire_has_header(&r, "Upgrade: websocket");
	if (!ok)
		fprintf(stderr, "  upgrade of %s: %d\n%s%s\n", target, r.status, r.head.data,
			r.body.data);
	wire_response_fini(&r);
	return ok;
}

/* ---- Engine.IO over WebSocket, for the layers above it ------------ */

/* Opens an Engine.IO session on p over WebSocket (query: extra parameters
 * after "EIO=4&transport=websocket", or ""; headers: extra request lines
 * or NULL): sid receives its id (SG_ID_LEN + 1 bytes), open (when not
 * NULL) the open packet.  false when the server did not answer with one. */
WIRE_FN bool wire_eio_open(struct wire *x, struct wire_peer *p, const char *query,
			   const char *headers, char *sid, struct sg_buf *open)
{
	struct wire_frame f;
	char target[512];
	bool ok;

	snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=websocket%s", query);
	if (!wire_ws_upgrade(x, p, target, headers))
		return false;
	ok = wire_frame(x, p, &f) && f.opcode == 0x1 && f.payload.len > 9 + SG_ID_LEN &&
	     strncmp(f.payload.data, "0{\"sid\":\"", 9) == 0;
	if (ok) {
		memcpy(sid, f.payload.data + 9, SG_ID_LEN);
		sid[SG_ID_LEN] = '\0';
		if (open != NULL)
			sg_buf_append(open, f.payload.data, f.payload.len);
	} else {
		fprintf(stderr, "  no open packet: \"%s\"\n", f.payload.data);
	}
	sg_buf_fini(&f.payload);
	return ok;
}

/* Closes every peer, lets the worker see it, closes what remains, tears
 * the worker down.  Layers that keep objects without a connection (a
 * polling session between requests) must be ended by the test first. */
WIRE_FN void wire_fini(struct wire *x)
{
	for (size_t i = 0; i < x->n_peers; i++)
		wire_hangup(&x->peers[i]);
	wire_settle(x);
	while (x->w.conns != NULL)
		conn_close(x->w.conns, SG_CLOSE_SHUTDOWN);
	worker_fini(&x->w);
	for (size_t i = 0; i < x->n_peers; i++)
		sg_buf_fini(&x->peers[i].in);
	admission_free(x->admission);
	event_base_free(x->base);
	config_free(x->cfg);
}

#endif
