/*
 * hook.h — the parts of webhook delivery that are plain logic: signing a
 * body, the retry schedule, and the records the store keeps for webhooks
 * and their deliveries (JSON text, so mdb_dump shows them). No I/O here;
 * every function is safe on any thread.
 *
 * Tables (store.h):
 *   hooks       webhook id (16 hex)                 -> gw_webhook record
 *   deliveries  webhook id '/' event id             -> gw_delivery record
 *   dead        webhook id '/' event id             -> gw_delivery record (gave up)
 */
#ifndef GW_HOOK_H
#define GW_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jt/util.h>

#define GW_HOOK_ID_LEN 16
#define GW_HOOK_URL_MAX 1024
#define GW_HOOK_SECRET_MAX 128
#define GW_HOOK_SECRET_MIN 16
#define GW_HOOK_MAX_ACCOUNTS 100
#define GW_EVENT_ID_MAX 96
/* "sha256=" and 64 hex digits, NUL-terminated. */
#define GW_HOOK_SIG_LEN 72

/* Writes "sha256=<hex HMAC-SHA256 of body keyed with the secret's bytes>"
 * into out. */
void gw_hook_sign(const char *secret, const void *body, size_t len, char out[GW_HOOK_SIG_LEN]);

/* Milliseconds to wait before attempt `failures + 1`, after `failures`
 * failed attempts (>= 1): base_ms doubling each time, at most max_ms. */
uint64_t gw_hook_backoff_ms(unsigned failures, uint64_t base_ms, uint64_t max_ms);

/* http:// or https://, a host, no white space or control characters, and
 * shorter than GW_HOOK_URL_MAX. */
bool gw_hook_url_ok(const char *url);

typedef struct gw_webhook {
    char id[GW_HOOK_ID_LEN + 1];
    char url[GW_HOOK_URL_MAX];
    char secret[GW_HOOK_SECRET_MAX + 1];
    char (*accounts)[40]; /* heap, n_accounts of them */
    size_t n_accounts;
    int64_t created; /* unix seconds */
    /* While the daemon runs (not in the record): deliveries owed, those
     * staged with the ledger being written, those skipped because too many
     * were owed, and whether it is skipping now. */
    size_t owed, staged;
    uint64_t skipped;
    bool skipping;
} gw_webhook;

/* The record; 0, or -1 when out of memory. */
int gw_webhook_encode(const gw_webhook *w, jt_buf *out);
/* Parses a record into *w (which the caller clears with
 * gw_webhook_clear). 0, or -1 when it is not one. */
int gw_webhook_decode(const void *v, size_t len, gw_webhook *w);
/* Frees the accounts and wipes the secret. */
void gw_webhook_clear(gw_webhook *w);
bool gw_webhook_has(const gw_webhook *w, const char *account);

typedef struct gw_delivery {
    char hook[GW_HOOK_ID_LEN + 1];
    char event_id[GW_EVENT_ID_MAX];
    uint32_t attempts;    /* made so far */
    uint64_t next_ms;     /* unix milliseconds of the next attempt */
    uint64_t created_ms;
    uint64_t last_ms;     /* the last attempt's time; 0: none */
    int last_status;      /* HTTP status of the last attempt; 0: no answer */
    char last_error[200]; /* why the last attempt failed; "" */
    char *body;           /* the event, exactly as sent (heap, NUL-terminated) */
    size_t body_len;
} gw_delivery;

/* "HOOK/EVENT" into out; its length, or 0 when it does not fit. */
size_t gw_delivery_key(const char *hook, const char *event_id, char *out, size_t cap);
int gw_delivery_encode(const gw_delivery *d, jt_buf *out);
/* As gw_webhook_decode; the body is copied (gw_delivery_clear frees it). */
int gw_delivery_decode(const void *v, size_t len, gw_delivery *d);
void gw_delivery_clear(gw_delivery *d);

#endif
