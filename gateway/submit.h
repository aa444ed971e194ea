/*
 * submit.h — reliable submission: every write the gateway signs, and every
 * blob it is given, tracked from the request to a final status.
 *
 *   pending    persisted and sent (or to be sent again); not yet final
 *   validated  in a validated ledger, with its engine result (tes or tec)
 *   failed     the node refused it outright (tem, tef, tel, or a malformed
 *              request): it can never be applied
 *   expired    a validated ledger past its LastLedgerSequence does not hold
 *              it: it can never be applied
 *
 * The steps for a write, on the loop thread unless said:
 *  1. client_id: the same (account, client_id) with the same body is the
 *     same request (its current status is the answer); with another body it
 *     is a 409. Checked and reserved on the loop thread, which is the only
 *     writer, so two concurrent requests cannot both pass.
 *  2. No node link or no validated ledger: 503, nothing signed.
 *  3. The account's next sequence: from the node (account_info on the open
 *     ledger) the first time, then counted here, so concurrent requests of
 *     one account get consecutive sequences.
 *  4. Fee, Sequence, LastLedgerSequence (last validated + ledger_window),
 *     signed with the keystore's key.
 *  5. The persister thread appends the audit lines of everything waiting
 *     (one fdatasync), then commits the records, the client ids and the
 *     audit log's tail in one LMDB transaction (one fsync): group commit.
 *  6. Only then is the blob sent; the node's preliminary result is the
 *     answer (or, with wait, the final status, bounded by wait_max_s).
 *  7. Each validated ledger: transactions seen in the accounts stream are
 *     final; pending ones past their LastLedgerSequence are looked up (tx)
 *     and found validated or expired; the others are sent again after
 *     resubmit_ms (the same blob: it cannot apply twice).
 *  8. A sequence a failed or expired transaction leaves unused while later
 *     ones wait is filled with a no-op AccountSet, so they are not stuck.
 * A lost connection or a timeout never makes a transaction failed: it
 * stays pending and is looked up after the reconnection.
 */
#ifndef GW_SUBMIT_H
#define GW_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jt/codec.h>
#include <jt/json.h>
#include <jt/keystore.h>

#include "audit.h"
#include "config.h"
#include "link.h"
#include "store.h"

typedef struct gw_submit gw_submit;

typedef enum gw_status { GW_PENDING, GW_VALIDATED, GW_FAILED, GW_EXPIRED } gw_status;

/* What the API shows of a tracked transaction. */
typedef struct gw_txinfo {
    char hash[65];
    char account[40];
    char client_id[129];
    char type[32];
    uint32_t sequence;
    uint32_t last_ledger; /* 0: none (a blob without LastLedgerSequence) */
    gw_status status;
    char result[40];      /* engine result: preliminary while pending */
    uint32_t ledger_index;
} gw_txinfo;

const char *gw_status_text(gw_status s);
/* {"client_id","hash","status","result"?,"ledger_index"?,"sequence"} members. */
void gw_txinfo_members(jt_jw *w, const gw_txinfo *t);

/* The outcome handed to the caller of gw_submit_write / _blob. */
typedef struct gw_sub_result {
    int http;            /* 200 (final or pending), 202 (wait gave up: pending), or an error */
    const char *error;   /* stable token when http >= 400 */
    char message[320];
    const gw_txinfo *tx; /* NULL when nothing was created */
} gw_sub_result;

typedef void (*gw_sub_cb)(void *ctx, const gw_sub_result *r);

struct srv_net;

int gw_submit_new(const gw_config *cfg, gw_store *store, gw_audit *audit, jt_keystore *ks,
                  gw_link *link, struct srv_net *net, gw_submit **out, char *err, size_t errcap);
/* Shutting down, before the node link goes: stops the persister (what it
 * has is written) and from now on sends nothing and answers nobody from
 * the persister's results. */
void gw_submit_stop(gw_submit *s);
/* Answers every waiting caller (503: the gateway is stopping; the status
 * of their transactions is kept and reported after the restart), while the
 * HTTP server is still there to take the answers. */
void gw_submit_drain(gw_submit *s);
void gw_submit_free(gw_submit *s);

/* A write for `account` (held in the keystore): `tx` holds the type's
 * fields (txbuild.h) and is consumed. `digest` identifies the request body
 * for client_id reuse. cb runs exactly once, maybe before this returns. */
void gw_submit_write(gw_submit *s, const char *api_key, const char *account,
                     const char *client_id, const uint8_t digest[32], jt_obj *tx, bool wait,
                     gw_sub_cb cb, void *ctx);
/* What gw_submit_write does first, on its own, for a write whose body has
 * to be prepared asynchronously (sealed memos): a bad client_id (400), a
 * client_id used with another body (409), or the same request again (its
 * record's answer, or a wait for it) is answered through cb and 1 is
 * returned; 0 means the request is new (nothing is reserved: the later
 * gw_submit_write checks again). */
int gw_submit_repeat(gw_submit *s, const char *account, const char *client_id,
                     const uint8_t digest[32], bool wait, gw_sub_cb cb, void *ctx);

/* A transaction signed elsewhere (hex blob). client_id may be NULL (the
 * hash is then the id). */
void gw_submit_blob(gw_submit *s, const char *api_key, const char *blob_hex,
                    const char *client_id, const uint8_t digest[32], bool wait, gw_sub_cb cb,
                    void *ctx);

/* Looks up a tracked transaction by hash or by (account, client_id):
 * 1 found, 0 not, -1 store error. */
int gw_submit_find(gw_submit *s, const char *account, const char *hash_or_client_id,
                   gw_txinfo *out, char *err, size_t errcap);

/* The caller of a wait went away: its callback will not be wanted (it
 * still runs, and must then do nothing). */
void gw_submit_cancel_wait(gw_submit *s, void *ctx);

/* Hooks for the link (link.h). */
void gw_submit_on_connected(void *s);
void gw_submit_on_ledger(void *s, uint32_t index);
void gw_submit_on_tx(void *s, const jt_json *msg, const char *text, size_t len);
/* Every ~250 ms from the loop's timer: wait deadlines. */
void gw_submit_tick(gw_submit *s);

/* Counters for /metrics and /health. */
typedef struct gw_submit_stats {
    uint64_t by_status[4];  /* created with, and moved to, each status */
    uint64_t resubmits, gap_fills, signed_count;
    size_t pending;         /* not yet final now */
    size_t persist_queue;
    size_t keys_loaded;     /* signing keys unsealed now (at most [keystore] keys_loaded
                             * while none is in use by the signer) */
    uint64_t keys_loads, keys_dropped; /* unsealed from the keystore; sealed again to make room */
    size_t keys_readable;   /* of those, readable now (the signer holds them for a burst) */
} gw_submit_stats;
void gw_submit_get_stats(gw_submit *s, gw_submit_stats *st);

#endif
