/*
 * apikey.h — jt-gateway's API keys: scopes, per-account allow lists, stored
 * hashed.
 *
 * A key is shown once, at creation: "jtk_" ID "_" SECRET, where ID is 16 hex
 * digits (public: it names the key in lists, logs and the audit log) and
 * SECRET 64 hex digits (32 random bytes). The store keeps SHA-256(SECRET)
 * only; a presented key is looked up by its ID and its hash compared in
 * constant time. The secrets are 256-bit random values, so a fast hash is
 * enough (nothing to stretch, unlike a passphrase).
 *
 * Record (table apikeys, JSON):
 *   {"id":"…","hash":"<64 hex>","scopes":["read","sign"],"accounts":["j…"]|["*"],
 *    "label":"…","created":UNIX,"revoked":false}
 */
#ifndef GW_APIKEY_H
#define GW_APIKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum {
    GW_SCOPE_READ = 1,
    GW_SCOPE_SIGN = 2,
    GW_SCOPE_ISSUE = 4,
    GW_SCOPE_ADMIN = 8,
};

#define GW_APIKEY_ID_LEN 16
#define GW_APIKEY_TEXT_MAX 96
#define GW_APIKEY_MAX_ACCOUNTS 256

typedef struct gw_apikey {
    char id[GW_APIKEY_ID_LEN + 1];
    unsigned scopes;
    bool any_account; /* "*" */
    size_t n_accounts;
    char (*accounts)[36];
    char label[128];
    int64_t created;
    bool revoked;
    uint8_t hash[32];
} gw_apikey;

void gw_apikey_clear(gw_apikey *k);

/* "read,sign" -> mask; -1 and the unknown name in err. */
int gw_apikey_parse_scopes(const char *text, unsigned *mask, char *err, size_t errcap);
/* The mask as "read,sign". */
void gw_apikey_scopes_text(unsigned mask, char *out, size_t cap);

/* Creates a key with `scopes`, the comma-separated `accounts` ("*" for all
 * the gateway holds; NULL or "" for none) and `label`; writes the key's
 * text (shown once) to text. -1 with a message. */
int gw_apikey_create(gw_store *s, unsigned scopes, const char *accounts, const char *label,
                     char text[GW_APIKEY_TEXT_MAX], gw_apikey *out, char *err, size_t errcap);

/* Checks a presented key. 1 and *out filled when it is a live key; 0 when it
 * is malformed, unknown, revoked or its secret is wrong (the caller answers
 * 401 alike for all); -1 on a store error. */
int gw_apikey_check(gw_store *s, const char *text, size_t len, gw_apikey *out, char *err,
                    size_t errcap);

/* The key `id` as it stands now (for connections that authenticated
 * earlier): 1 and *out filled when it exists and is not revoked; 0 when it
 * is gone or revoked; -1 on a store error. */
int gw_apikey_by_id(gw_store *s, const char *id, gw_apikey *out, char *err, size_t errcap);

/* Marks key `id` revoked. 0, 1 when there is no such key, -1 on error. */
int gw_apikey_revoke(gw_store *s, const char *id, char *err, size_t errcap);

/* Calls fn for each key (revoked ones too), in id order. */
int gw_apikey_list(gw_store *s, void (*fn)(void *ctx, const gw_apikey *k), void *ctx, char *err,
                   size_t errcap);

/* May k act for `account` (sign/issue)? */
bool gw_apikey_allows_account(const gw_apikey *k, const char *account);

/* Record <-> struct (exposed for tests). */
int gw_apikey_from_json(const char *text, size_t len, gw_apikey *out);
int gw_apikey_to_json(const gw_apikey *k, jt_buf *out);

#endif
