/*
 * config.h: the typed configuration snapshot.  A snapshot is built once from
 * a YAML file by config_load(), validated as a whole, and then never
 * modified: workers read it without locks, and a reload builds a new one and
 * swaps it in.  The field path mirrors the YAML key path (server.ping_interval
 * is cfg->server.ping_interval_ms).  Every key is declared once, in
 * config_keys.def, with its type, default, bounds, reloadability and a
 * one-line doc; this header only holds the resulting struct.
 */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include <stdint.h>

#include "core/common.h"
#include "core/log.h"
#include "proto/cors.h"

enum sg_transport {
	SG_TRANSPORT_POLLING = 1 << 0,	 /* HTTP long-polling */
	SG_TRANSPORT_WEBSOCKET = 1 << 1, /* WebSocket */
};

enum sg_verifier {
	SG_VERIFIER_JWT,  /* verify a JWT locally (auth.jwt) */
	SG_VERIFIER_HTTP, /* POST the handshake to auth.http.url */
};

enum sg_auth_mode {
	SG_AUTH_CHALLENGE, /* the client emits authenticate after CONNECT (the seed) */
	SG_AUTH_CONNECT,   /* the token is verified on CONNECT (io.use() apps) */
};

enum sg_token_source {
	SG_TOKEN_HEADER, /* Authorization: Bearer ... */
	SG_TOKEN_AUTH,	 /* CONNECT packet auth.token */
	SG_TOKEN_QUERY,	 /* ?token= query parameter */
};

enum sg_on_flood {
	SG_FLOOD_DROP,	     /* excess events are dropped and counted */
	SG_FLOOD_DISCONNECT, /* the client is disconnected */
};

/* One events.forward rule: event-name pattern to a Redis stream or an HTTP
 * endpoint (exactly one of stream/http is set). */
struct sg_forward_rule {
	char *match;	    /* event-name pattern, '*' wildcard */
	char *stream;	    /* Redis stream key, or NULL */
	char *http;	    /* URL, or NULL */
	int64_t timeout_ms; /* HTTP timeout */
};

struct sg_config {
	char *file; /* path the snapshot was loaded from (owned) */

	struct {
		char *id;	       /* server.id; default: hostname */
		struct sg_strv listen; /* "host:port" entries */
		char *path;	       /* always starts and ends with '/' */
		unsigned transports;   /* enum sg_transport bits */
		struct cors_policy cors;
		struct {
			char *cert; /* NULL = no TLS */
			char *key;
		} tls;
		int64_t ping_interval_ms;
		int64_t ping_timeout_ms;
		uint64_t max_payload;	  /* bytes */
		unsigned max_connections; /* 0 = auto: from the open-file limit (fdlimit.h) */
		int64_t shutdown_timeout_ms;
		int64_t drain_window_ms;
		unsigned workers;		/* 0 = auto (one per core) */
		struct sg_strv trusted_proxies; /* CIDRs whose forwarding headers are believed */
		bool proxy_protocol;		/* trusted peers start with a PROXY header */
	} server;

	struct sg_strv namespaces; /* always contains "/" */

	struct {
		int64_t timeout_ms;
		enum sg_verifier verifier;
		enum sg_auth_mode mode;
		int64_t refresh_window_ms; /* token:expiring this long before exp; 0 = none */
		struct {
			struct sg_strv algorithms; /* e.g. "HS256" */
			char *secret;		   /* resolved: from secret or secret_file */
			size_t secret_len;
			bool allow_weak_secret; /* a weak HMAC key is a warning, not an error */
			char *secret_file;
			char *public_key_file;
			char *jwks_file;
			char *jwks_url; /* the issuer's JWK Set, fetched; NULL = none */
			char *ca_file;	/* trust anchors for jwks_url / discovery */
			int64_t jwks_min_refresh_ms; /* least time between unknown-kid fetches */
			char *issuer;		     /* NULL = not checked */
			char *audience;		     /* NULL = not checked */
			int64_t leeway_ms;
			enum sg_token_source token_from[3];
			size_t n_token_from;
		} jwt;
		struct {
			char *url;
			int64_t timeout_ms;
			struct sg_strv header_names;  /* auth.http.headers, parallel */
			struct sg_strv header_values; /* arrays of names and values */
			unsigned max_in_flight;
			int64_t cache_ttl_ms;
			uint64_t max_pending; /* bytes of verifier requests queued or in flight */
		} http;
	} auth;

	struct {
		int64_t interval_ms; /* app-level "ping" event */
	} ping;

	struct {
		struct sg_strv default_rooms; /* rooms.default */
		struct sg_strv allow;	      /* patterns; empty = refuse all joins */
		struct {
			char *url; /* NULL = no call-out */
			int64_t timeout_ms;
			uint64_t max_pending; /* bytes of validator requests queued or in flight */
			unsigned max_in_flight;
		} http;
		unsigned max_per_client;
	} rooms;

	struct {
		struct sg_strv url; /* empty = standalone; several = cluster seeds */
		char *prefix;
		char *json_channel;
		char *lifecycle_channel;
		char *lifecycle_stream; /* NULL: the channel only */
		uint64_t lifecycle_stream_maxlen;
		char *ingest_stream;  /* NULL: pub/sub only */
		uint64_t max_pending; /* bytes waiting for Redis's reply, per link */
		char *password;	      /* or read from password_file */
		size_t password_len;
		char *password_file;
		struct {
			char *ca_file;
			char *cert_file;
			char *key_file;
			char *server_name;
		} tls;
	} redis;

	struct {
		struct sg_forward_rule *forward;
		size_t n_forward;
		uint64_t stream_maxlen;
		uint64_t max_pending;	/* bytes of forwarded events waiting, per worker */
		unsigned max_in_flight; /* HTTP forwards at once, per worker */
	} events;

	struct {
		bool enabled;
		int64_t max_disconnection_ms;
	} recovery;

	struct {
		unsigned per_ip;
		unsigned handshakes_per_second;
		unsigned events_per_second;
		unsigned burst;
		enum sg_on_flood on_flood;
		uint64_t output_soft;
		int64_t output_soft_time_ms;
		uint64_t output_hard;
		unsigned auth_failures_per_minute; /* per client address; 0 = no throttling */
		unsigned auth_failures_burst;
		int64_t header_timeout_ms; /* a request head, whole */
		int64_t body_timeout_ms;   /* a request body, whole, after its head */
		uint64_t body_min_rate; /* bytes/s a body averages after header_timeout; 0 = off */
		unsigned http_per_ip;	/* connections of one address still in a request */
		unsigned ack_requests;	/* emits with acks waiting at once, per instance */
		int64_t ack_timeout_max_ms; /* an emit with acks waits at most this */
	} limits;

	struct {
		char *listen; /* NULL = no admin listener */
		char *token_file;
		char *ui_dir; /* static files served on admin.listen; NULL = none */
	} admin;

	struct {
		bool enabled;
		char *namespace;     /* the Admin UI's namespace, not in namespaces */
		char *username;	     /* NULL: refused when enabled (config check) */
		char *password_hash; /* bcrypt ($2a$/$2b$/$2y$); it also keys the sessions */
		size_t password_hash_len;
		bool readonly;
	} admin_ui;

	struct {
		enum sg_log_level level;
		enum sg_log_format format;
	} log;
};

/* Configuration errors, each already formatted as
 * "FILE:LINE:COL: key: message" (or "FILE: message" without a position). */
struct sg_config_errors {
	char **v;
	size_t n;
};

void config_errors_free(struct sg_config_errors *errs);

/* Loads and validates a YAML file.  Returns a new snapshot owned by the
 * caller (config_free), or NULL with every problem found appended to errs
 * (none is printed).  Reads secret files named by the config. */
struct sg_config *config_load(const char *path, struct sg_config_errors *errs) SG_WUR;

/* The same from a string; name is used in messages.  For tests and fuzzing:
 * it never reads files except those the text names (secret_file). */
struct sg_config *config_load_string(const char *name, const char *text, size_t len,
				     struct sg_config_errors *errs) SG_WUR;

void config_free(struct sg_config *cfg);

/* For a reload: every key that cannot change while running and differs in
 * next gets running's value back, so next can replace running.  Returns how
 * many keys were kept; their names go into kept[] (up to max_kept). */
size_t config_reload_merge(struct sg_config *next, const struct sg_config *running,
			   const char **kept, size_t max_kept);

/* Key table introspection, for `siogate --list-keys` and the documentation
 * check: returns the dotted name of key i, or NULL past the end. */
const char *config_key_name(size_t i);

/* Parsers shared with the command line (`--ttl 1h`): return 0 and store the
 * value, or -1 with a message in err. */
int config_parse_duration(const char *s, int64_t *ms, struct sg_err *err) SG_WUR;
int config_parse_size(const char *s, uint64_t *bytes, struct sg_err *err) SG_WUR;

#endif
