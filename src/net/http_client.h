/*
 * http_client.h: siogate's asynchronous HTTP client, for the calls it makes
 * to HTTP backends (the HTTP verifier, the room validator, events forwarded
 * to HTTP, the issuer's keys).  One client belongs to one event_base (one
 * thread); it never blocks the loop.  Built on libcurl's multi interface:
 * connections are kept alive and reused, HTTP/2 is used where a TLS server
 * offers it, proxies come from the environment (http_proxy, https_proxy,
 * no_proxy), names are resolved off the loop.  siogate's part: it caps the
 * requests running at once and queues the rest up to a bound (in requests
 * and in bytes), bounds every response by size and every request by time,
 * and calls back only from the loop.
 */
#ifndef SG_HTTP_CLIENT_H
#define SG_HTTP_CLIENT_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/callout.h"
#include "core/common.h"

struct http_client;	/* one per worker */
struct http_client_req; /* one request, from http_client_request until its callback */

struct http_client_opts {
	unsigned max_in_flight;	    /* requests running at once (>= 1); others wait, FIFO */
	unsigned max_queued;	    /* queue bound; past it HC_OVERLOADED (0: no queue) */
	size_t max_pending_bytes;   /* bound on the bytes of the requests (as sent) queued,
				     * in flight or waiting for their callback; a request that
				     * would pass it: HC_OVERLOADED (0: no bound) */
	unsigned max_idle_per_host; /* kept-alive connections (0: none); the pool holds 4 x this */
	int64_t idle_timeout_ms; /* an idle connection is not reused after this (<= 0: none kept) */
	size_t max_response_bytes; /* larger (head + body as sent): HC_TOO_LARGE (>= 1) */
	const char *ca_file;	   /* PEM trust anchors; NULL: the system trust store */
	bool insecure;		   /* true: do not verify certificates (tests only) */
};

enum http_client_error {
	HC_OK,	       /* a complete response arrived (any status) */
	HC_TIMEOUT,    /* the request's timeout passed (queue+connect+send+receive) */
	HC_CONNECT,    /* DNS failure, connection refused, or closed/reset before a response */
	HC_TLS,	       /* TLS handshake or certificate verification failed */
	HC_PROTOCOL,   /* malformed or truncated response */
	HC_TOO_LARGE,  /* response over max_response_bytes */
	HC_OVERLOADED, /* the queue was full, or max_pending_bytes reached */
	HC_BAD_URL,    /* not http:// or https://, bad host or port, or a bad method or header */
};

struct http_client_response {
	int status;		  /* 200..999 (interim 1xx responses are skipped) */
	const char *content_type; /* NUL-terminated trimmed value, or NULL */
	int64_t max_age;	  /* Cache-Control max-age (s); no-store/no-cache 0; none -1 */
	const char *body;	  /* dechunked, NUL-terminated (never NULL) */
	size_t body_len;
};

/* Called exactly once per request unless it was cancelled (or the client
 * freed) first, always from the event loop, never from inside
 * http_client_request.  resp is NULL unless err == HC_OK; it and everything
 * it points to are borrowed for the duration of the call.  The callback may
 * start new requests and cancel other requests; it must not free the client. */
typedef void (*http_client_cb)(enum http_client_error err, const struct http_client_response *resp,
			       void *arg);

/* Creates a client on base.  opts is copied (ca_file is read now; the system
 * store is loaded on the first https request).  Returns NULL with err filled
 * when an option is out of range, the CA file cannot be loaded or the
 * resolver cannot be set up.  The client must be freed before base. */
struct http_client *http_client_new(struct event_base *base, const struct http_client_opts *opts,
				    struct sg_err *err) SG_WUR;

/* Cancels every pending request silently (their callbacks are NOT called),
 * closes every connection and frees the client.  Not from inside one of its
 * callbacks.  DNS lookups still running are finished (and their memory
 * released) by the loop's next turns.  NULL is a no-op. */
void http_client_free(struct http_client *hc);

/* Starts a request: method ("GET", "POST"...) to url (http:// or https://).
 * headers: NULL-terminated array of "Name: value" strings without CR/LF, or
 * NULL; a "Host" header replaces the default one, and Content-Length,
 * Transfer-Encoding and Connection may not be given.  content_type: the
 * Content-Type header, or NULL.  body/body_len: the request body (copied;
 * body may be NULL when body_len is 0); POST, PUT and PATCH always carry a
 * Content-Length.  timeout_ms covers the whole request from this call,
 * time in the queue included (<= 0: no timeout).  All strings are copied.
 * Always returns a handle, valid until cb runs or http_client_cancel; every
 * outcome, errors included, is reported through cb, asynchronously (cb may be
 * NULL: fire and forget). */
struct http_client_req *http_client_request(struct http_client *hc, const char *method,
					    const char *url, const char *const *headers,
					    const char *content_type, const void *body,
					    size_t body_len, int64_t timeout_ms, http_client_cb cb,
					    void *arg);

/* Cancels a request whose callback has not run: the callback will not be
 * called, its connection (if any) is closed, and r is freed.  A no-op for
 * NULL and for the request whose callback is running. */
void http_client_cancel(struct http_client_req *r);

/* A constant English phrase for e ("timeout", "connection failed"...). */
const char *http_client_error_str(enum http_client_error e);

struct http_client_stats {
	uint64_t requests;	     /* http_client_request calls */
	uint64_t ok;		     /* callbacks with HC_OK */
	uint64_t errors;	     /* callbacks with any other error (timeouts included) */
	uint64_t timeouts;	     /* callbacks with HC_TIMEOUT */
	uint64_t connections_opened; /* connections started (each DNS+connect attempt chain) */
	uint64_t connections_reused; /* requests sent on a kept-alive connection */
};

/* Copies the client's counters into out. */
void http_client_get_stats(const struct http_client *hc, struct http_client_stats *out);

/* The bytes charged against max_pending_bytes now. */
size_t http_client_pending_bytes(const struct http_client *hc);

/* Checks that url is one http_client_request accepts (for configuration
 * validation).  Returns 0, or -1 with err filled. */
int http_client_url_check(const char *url, struct sg_err *err) SG_WUR;

/* How siogate_*_total{outcome} counts a call without a usable answer: e is
 * the client's error (HC_OK: the answer itself was unusable). */
enum callout_outcome http_client_outcome(enum http_client_error e);

#endif
