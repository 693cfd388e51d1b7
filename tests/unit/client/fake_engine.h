/*
 * fake_engine.h: a stand-in for src/client/engine*.c in the client's unit
 * tests.  It implements engine.h without any I/O: the test opens it, feeds
 * it server messages, closes it, and reads the log of what the client sent.
 * Engines are kept (marked freed) until fake_engine_reset(), so a test may
 * hold a pointer to one the client has freed.
 */
#ifndef FAKE_ENGINE_H
#define FAKE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/common.h"
#include "engine.h"

/* The engine created last (NULL when none), and how many were created. */
struct sgc_engine *fake_engine_last(void);
int fake_engine_count(void);
/* Drops every engine (freed or not) and resets the counters. */
void fake_engine_reset(void);

/* Simulates the Engine.IO open packet (calls on_open). */
void fake_engine_open(struct sgc_engine *e);
/* A text message from the server, written as on the wire: "4" (the
 * Engine.IO message type) then the Socket.IO packet, e.g. "42[\"a\"]". */
void fake_engine_recv(struct sgc_engine *e, const char *text);
/* A binary message from the server. */
void fake_engine_recv_binary(struct sgc_engine *e, const void *data, size_t len);
/* The session ends (calls on_close). */
void fake_engine_close(struct sgc_engine *e, int code, const char *reason, const char *msg);

/* What the client sent, as "T:4<packet>|" (text, with the Engine.IO
 * message type as on the wire) and "B:<hex>|" entries. */
const char *fake_engine_sent(const struct sgc_engine *e);
/* Clears that log. */
void fake_engine_clear_sent(struct sgc_engine *e);
bool fake_engine_freed(const struct sgc_engine *e);
bool fake_engine_shut(const struct sgc_engine *e);
/* The transports bit mask, query, extra headers and Engine.IO path the
 * client asked for. */
unsigned fake_engine_transports(const struct sgc_engine *e);
const char *fake_engine_query(const struct sgc_engine *e);
const char *fake_engine_headers(const struct sgc_engine *e);
const char *fake_engine_path(const struct sgc_engine *e);
/* Where the client asked its engine to connect, from the URL. */
const char *fake_engine_host(const struct sgc_engine *e);
unsigned fake_engine_port(const struct sgc_engine *e);
const char *fake_engine_host_header(const struct sgc_engine *e);
bool fake_engine_tls(const struct sgc_engine *e);

#endif
