/*
 * webhooks.h — registered webhooks and the delivery of account events to
 * them: each delivery is a store record (hook.h) from the commit that
 * queued it (events.h) until the receiver acknowledges it with a 2xx, is
 * retried with exponential backoff, and after [webhooks] max_attempts
 * becomes a dead letter (table `dead`, shown by GET /v2/webhooks).
 *
 * HTTP goes through libcurl's multi interface on a worker thread of its
 * own (the loop never waits for a receiver); results are posted back to
 * the loop, which alone touches this module's state.
 *
 * Loop thread only, except where said.
 */
#ifndef GW_WEBHOOKS_H
#define GW_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway.h"
#include "store.h"

typedef struct gw_webhooks gw_webhooks;

/* Loads the webhooks and the deliveries still owed, and starts the worker.
 * Before any other thread of the daemon starts (curl's global set-up). */
int gw_webhooks_new(gw *g, gw_webhooks **out, char *err, size_t errcap);
/* Starts the attempts that are due; from the daemon's timer. */
void gw_webhooks_tick(gw_webhooks *w);
/* Stops the worker (attempts under way are abandoned and stay owed).
 * Before the store closes. */
void gw_webhooks_stop(gw_webhooks *w);
/* After the server core is freed; NULL is fine. */
void gw_webhooks_free(gw_webhooks *w);

size_t gw_webhooks_count(const gw_webhooks *w);

/* For each webhook following `account`, puts a delivery of the event
 * (`id`, `body`) into b and remembers it as staged. 0, or -1 when out of
 * memory (nothing of the ledger must then be committed). */
int gw_webhooks_stage(gw_webhooks *w, gw_batch *b, const char *account, const char *id,
                      const char *body, size_t len);
/* The batch holding what was staged is durable (true) or was dropped:
 * staged deliveries join the queue, or are forgotten. */
void gw_webhooks_staged_done(gw_webhooks *w, bool committed);

typedef struct gw_webhooks_stats {
    uint64_t ok, failed, dead; /* attempts acknowledged, attempts failed, deliveries given up */
    uint64_t skipped;          /* deliveries not made: too many owed (max_owed) */
    uint64_t dead_dropped;     /* dead letters deleted, oldest first (max_dead_letters) */
    size_t dead_letters;       /* dead letters kept */
    size_t queued, inflight;   /* deliveries owed; attempts under way */
    size_t hooks;
} gw_webhooks_stats;

void gw_webhooks_get_stats(const gw_webhooks *w, gw_webhooks_stats *st);

#endif
