/*
 * config.h — jt-gateway's settings: DIR/jt-gateway.conf (INI), written by
 * `init` with every default spelled out, read by `run` (or --config FILE).
 * The keystore passphrase is never in this file: only where to find it.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_MAX_NODES 8

typedef struct gw_config {
    /* [http] */
    char http_addr[128];     /* address = 127.0.0.1:5080 */
    char tls_cert[1024];     /* PEM paths; both set: HTTPS */
    char tls_key[1024];
    char cors_origins[1024]; /* empty: no CORS headers */
    size_t max_body;         /* bytes; 1 MiB */
    unsigned max_conns, max_conns_per_addr;
    /* requests per second on one connection, with or without a valid API
     * key (answered 429 past it); 2000, burst twice that */
    unsigned conn_rate;
    unsigned idle_s, msg_deadline_s;
    unsigned slow_reader_s;  /* an answer not read for this long: closed; 10 */
    size_t max_outbuf;       /* answers queued for one connection; 16 MiB */
    size_t max_outbuf_total; /* for all of them; 512 MiB */
    /* [node] */
    char nodes[GW_MAX_NODES][512]; /* url = jtp://HOST:PORT?key=KEY | ws://HOST:PORT (several: failover) */
    size_t n_nodes;
    unsigned request_timeout_ms;
    /* [keystore] */
    char passphrase_file[1024];
    char passphrase_env[128]; /* the variable's name; JT_GATEWAY_PASSPHRASE */
    int kdf_cost;             /* jt_keystore_cost of a new keystore; moderate */
    unsigned keys_loaded;     /* signing keys kept unsealed at once (least recently
                               * used dropped past it); 256 */
    /* [submit] */
    unsigned ledger_window;   /* LastLedgerSequence = last validated + this; 10 */
    uint64_t fee_drops;       /* 10000 */
    unsigned wait_max_s;      /* ?wait=validated gives up (202, pending) after this; 30 */
    unsigned resubmit_ms;     /* resend a pending blob after this; 4000 */
    /* [limits] */
    unsigned key_rate;        /* requests per API key per second; 100 */
    unsigned key_burst;       /* 200 */
    unsigned max_pending;     /* submissions not yet final, in total; 10000 */
    /* [events] (/v2/events) */
    unsigned ev_conns_per_key;  /* WebSocket connections per API key; 8 */
    unsigned ev_subs_per_conn;  /* subscriptions per connection; 16 */
    unsigned ev_max_replay;     /* since_ledger at most this many ledgers back; 100000 */
    /* [webhooks] */
    unsigned wh_max_attempts;   /* then the delivery is a dead letter; 12 */
    unsigned wh_backoff_ms;     /* first retry after this, doubling; 1000 */
    unsigned wh_backoff_max_s;  /* ... up to this; 600 */
    unsigned wh_timeout_s;      /* one attempt; 10 */
    unsigned wh_max_inflight;   /* attempts under way at once; 8 */
    unsigned wh_max_hooks;      /* webhooks registered; 100 */
    unsigned wh_max_owed;       /* deliveries owed in all (see webhooks.c); 100000 */
    unsigned wh_max_dead;       /* dead letters kept; the oldest go past it; 100000 */
    /* [store] */
    uint64_t map_size;        /* bytes; 1 GiB */
    /* [log] */
    bool log_requests;        /* one line per request; true */
} gw_config;

void gw_config_init(gw_config *c);
/* Reads `path` over the defaults; -1 with "FILE:LINE: what is wrong". */
int gw_config_load(gw_config *c, const char *path, char *err, size_t errcap);
/* The text `init` writes, with `node_url` as [node] url and the TLS files
 * (NULL: none). Caller frees. */
char *gw_config_default_text(const char *node_url, const char *tls_cert, const char *tls_key);

#endif
