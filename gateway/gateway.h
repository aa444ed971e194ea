/*
 * gateway.h — what jt-gateway's modules share: the running daemon's state
 * (struct gw) and the records the store keeps beside its tables' own (the
 * audit log's tail).
 */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct srv_net;
struct gw_audit;
struct gw_link;
struct gw_submit;
struct gw_map;
struct gw_events;
struct gw_webhooks;
struct gw_memos;
struct jt_keystore;
struct gw_config;

/* The running daemon. Loop thread only, except where a module says. */
typedef struct gw {
    const struct gw_config *cfg;
    char dir[4096];
    gw_store *store;
    struct gw_audit *audit;
    struct jt_keystore *ks;
    struct srv_net *net;
    struct gw_link *link;
    struct gw_submit *submit;
    struct gw_events *events;
    struct gw_webhooks *webhooks;
    struct gw_memos *memos; /* encryption keys of held accounts (memo.h) */
    struct gw_map *buckets; /* API key id -> rate bucket */
    double started;
    /* counters for /metrics */
    uint64_t requests, by_class[6]; /* [status / 100] */
    uint64_t latency_buckets[12];   /* see http.c */
    double latency_sum;
    uint64_t rate_limited, auth_failures;
    /* the allocator's idle clock (run.c, on_tick) */
    unsigned ticks, quiet_s;
    uint64_t requests_seen;
} gw;

/* Runs the daemon in DIR until SIGINT/SIGTERM; the exit status. */
int gw_run(const char *dir, const char *config_path);

/* meta "audit_tail": "N HASHHEX", the audit log's record count and last
 * record's hash as of the last submissions the store recorded. */
int gw_tail_load(gw_store *s, uint64_t *n, uint8_t hash[32], char *err, size_t errcap);
int gw_tail_put(gw_batch *b, uint64_t n, const uint8_t hash[32]);

#endif
