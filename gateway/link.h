/*
 * link.h — jt-gateway's link to the node: one jt_session at a time on the
 * gateway's event loop, over the configured URLs in turn (failover), the
 * last validated ledger as the node reports it, and the streams the
 * gateway needs (ledger, and the accounts it follows).
 *
 * Failover: when the current node cannot be reached (two attempts in a row
 * fail, or the session fails for good), the link moves to the next URL,
 * round robin. After every (re)connection the `on_connected` hook runs, so
 * the submission code can look up what it has pending and the event code
 * can catch up from the last ledger it saw.
 *
 * Loop thread only.
 */
#ifndef GW_LINK_H
#define GW_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jt/json.h>
#include <jt/session.h>

struct lws_context;
struct lws_vhost;
typedef struct gw_link gw_link;

typedef struct gw_link_hooks {
    void *ctx;
    /* A connection is up (the ledger subscription answered). */
    void (*on_connected)(void *ctx);
    /* A validated ledger closed: its index. */
    void (*on_ledger)(void *ctx, uint32_t index);
    /* A validated transaction message from the accounts stream. */
    void (*on_tx)(void *ctx, const jt_json *msg, const char *text, size_t len);
} gw_link_hooks;

int gw_link_new(struct lws_context *lws, struct lws_vhost *vhost, const char *const *urls, size_t n_urls,
                unsigned request_timeout_ms, const gw_link_hooks *hooks, gw_link **out, char *err,
                size_t errcap);
void gw_link_free(gw_link *l); /* NULL is fine */

/* Connected, and a validated ledger is known. */
bool gw_link_ready(const gw_link *l);
const char *gw_link_state_text(const gw_link *l); /* "connected", "connecting", ... */
const char *gw_link_url(const gw_link *l);
uint32_t gw_link_validated(const gw_link *l);   /* 0: none yet */
double gw_link_validated_age(const gw_link *l); /* seconds since it was seen; -1: never */
unsigned gw_link_reconnects(const gw_link *l);
const char *gw_link_last_error(const gw_link *l);

/* A request to the current node; as jt_session_request (cb runs once,
 * later). JT_ECLOSED when there is no session at all. */
jt_err gw_link_request(gw_link *l, const char *json, int timeout_ms, jt_session_reply_cb cb,
                       void *ctx, jt_errinfo *ei);

/* Follows `address` in the accounts stream (idempotent; kept across
 * reconnections and failovers). */
int gw_link_follow(gw_link *l, const char *address);

#endif
