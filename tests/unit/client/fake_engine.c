/*
 * fake_engine.c: the I/O-free engine of the client's unit tests (see
 * fake_engine.h).  Invariant: engines live until fake_engine_reset(), so no
 * pointer a test holds ever dangles; a freed engine ignores everything.
 */
#include "fake_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sgc_engine {
	struct sgc_engine_cbs cbs;
	void *arg;
	bool open;
	bool freed;
	bool shut;
	unsigned transports;
	char *query;
	char *headers;
	char *path;
	char *host;
	unsigned port;
	char *host_header;
	bool tls;
	struct sg_buf sent;
	struct sgc_engine *next;
};

static struct sgc_engine *all;
static struct sgc_engine *last;
static int count;

struct sgc_engine *sgc_engine_new(const struct sgc_engine_params *p,
				  const struct sgc_engine_cbs *cbs, void *arg)
{
	struct sgc_engine *e = sg_calloc(1, sizeof(*e));

	e->cbs = *cbs;
	e->arg = arg;
	e->transports = p->transports;
	e->query = sg_strdup(p->query);
	e->headers = sg_strdup(p->headers);
	e->path = sg_strdup(p->path);
	e->host = sg_strdup(p->host);
	e->port = p->port;
	e->host_header = sg_strdup(p->host_header);
	e->tls = p->ssl_ctx != NULL;
	sg_buf_init(&e->sent);
	sg_buf_append(&e->sent, "", 0);
	e->next = all;
	all = e;
	last = e;
	count++;
	return e;
}

int sgc_engine_send(struct sgc_engine *e, bool binary, const void *data, size_t len)
{
	size_t i;

	if (e == NULL || e->freed || !e->open || e->shut)
		return -1;
	if (binary) {
		sg_buf_append_str(&e->sent, "B:");
		for (i = 0; i < len; i++)
			sg_buf_printf(&e->sent, "%02x", ((const unsigned char *)data)[i]);
	} else {
		/* as on the wire: the Engine.IO message type, then the data */
		sg_buf_append_str(&e->sent, "T:4");
		sg_buf_append(&e->sent, data, len);
	}
	sg_buf_append_char(&e->sent, '|');
	return 0;
}

void sgc_engine_shutdown(struct sgc_engine *e)
{
	if (e != NULL)
		e->shut = true;
}

void sgc_engine_free(struct sgc_engine *e)
{
	if (e != NULL)
		e->freed = true;
}

const char *sgc_engine_transport(const struct sgc_engine *e)
{
	return e && e->open && !e->freed ? "websocket" : NULL;
}

bool sgc_engine_is_open(const struct sgc_engine *e)
{
	return e != NULL && e->open && !e->freed && !e->shut;
}

struct sgc_engine *fake_engine_last(void)
{
	return last;
}

int fake_engine_count(void)
{
	return count;
}

void fake_engine_reset(void)
{
	while (all != NULL) {
		struct sgc_engine *e = all;
		all = e->next;
		sg_buf_fini(&e->sent);
		free(e->query);
		free(e->headers);
		free(e->path);
		free(e->host);
		free(e->host_header);
		free(e);
	}
	last = NULL;
	count = 0;
}

void fake_engine_open(struct sgc_engine *e)
{
	if (e->freed)
		return;
	e->open = true;
	e->cbs.on_open(e, e->arg);
}

void fake_engine_recv(struct sgc_engine *e, const char *text)
{
	if (text[0] != '4')
		sg_fatal("fake_engine_recv: '%s' is not an Engine.IO message", text);
	if (!e->freed)
		e->cbs.on_message(e, e->arg, false, text + 1, strlen(text) - 1);
}

void fake_engine_recv_binary(struct sgc_engine *e, const void *data, size_t len)
{
	if (!e->freed)
		e->cbs.on_message(e, e->arg, true, data, len);
}

void fake_engine_close(struct sgc_engine *e, int code, const char *reason, const char *msg)
{
	if (e->freed)
		return;
	e->open = false;
	e->cbs.on_close(e, e->arg, code, reason, msg);
}

const char *fake_engine_sent(const struct sgc_engine *e)
{
	return e->sent.data;
}

void fake_engine_clear_sent(struct sgc_engine *e)
{
	sg_buf_reset(&e->sent);
	sg_buf_append(&e->sent, "", 0);
}

bool fake_engine_freed(const struct sgc_engine *e)
{
	return e->freed;
}

bool fake_engine_shut(const struct sgc_engine *e)
{
	return e->shut;
}

unsigned fake_engine_transports(const struct sgc_engine *e)
{
	return e->transports;
}

const char *fake_engine_query(const struct sgc_engine *e)
{
	return e->query;
}

const char *fake_engine_headers(const struct sgc_engine *e)
{
	return e->headers;
}

const char *fake_engine_path(const struct sgc_engine *e)
{
	return e->path;
}

const char *fake_engine_host(const struct sgc_engine *e)
{
	return e->host;
}

unsigned fake_engine_port(const struct sgc_engine *e)
{
	return e->port;
}

const char *fake_engine_host_header(const struct sgc_engine *e)
{
	return e->host_header;
}

bool fake_engine_tls(const struct sgc_engine *e)
{
	return e->tls;
}
