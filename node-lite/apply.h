/*
 * apply.h — the transaction engine: checks a verified transaction against a
 * view and applies it with skywelld's result codes and metadata.
 *
 * jn_apply runs the checks of PROTOCOL.md §5.3 in order, then the
 * transactor, inside a child view of `view`. tes and tec results are merged
 * into `view` (a tec keeps only the fee and the sequence) and come with
 * metadata; every other result leaves `view` untouched. Not thread-safe
 * (one writer).
 */
#ifndef JN_APPLY_H
#define JN_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include <jt/jt.h>

#include "state.h"

/* Result codes are libjt's (<jt/ter.h>: JT_tesSUCCESS, …, jt_ter_is_claimed)
 * and so are ledger and transaction flags (<jt/flags.h>). */

/* Network parameters (PROTOCOL.md §5.1) and the ledger being built. */
typedef struct jn_env {
    uint64_t base_fee;     /* minimum Fee, drops */
    uint64_t reserve_base; /* drops */
    uint64_t reserve_inc;  /* drops per owned object */
    uint32_t ledger_seq;   /* sequence of the ledger the tx goes into */
    uint32_t parent_close_time;
    bool no_meta; /* results only, no metadata (path finding trials) */
    bool no_fast_path; /* tests: every transaction through the general path */
} jn_env;

/* The accounts a transaction touches (its history and account streams),
 * as skywelld's getAffectedAccounts: its Account, then the accounts named
 * in the entries it changed (for a plain SWT payment, its Destination). */
#define JN_TX_ACCOUNTS 64
typedef struct jn_accts {
    size_t n;
    jt_account_id v[JN_TX_ACCOUNTS];
} jn_accts;

/* Adds a to s unless there already (or s is full). */
void jn_accts_add(jn_accts *s, const jt_account_id *a);

typedef struct jn_applied {
    int ter;
    /* tes/tec, unless env->no_meta: the metadata, serialized (caller
     * frees), and the accounts it touches. */
    jt_buf meta_bin;
    jn_accts accts;
    int64_t fee;   /* drops destroyed (tes/tec) */
    bool fast;     /* applied by the plain SWT payment path (no sandbox) */
} jn_applied;

/* What a transaction's own bytes determine, worked out on its first apply
 * and reused when it applies again (a held retry): the AccountRoot IDs of its account and (Payment) destination, the
 * account its SigningPubKey belongs to, and that it passed preflight with a
 * given base fee. Zeroed: nothing known yet. */
typedef struct jn_txmemo {
    bool have_account, have_dest, have_signer, preflight_ok;
    uint64_t preflight_fee;
    uint8_t account_key[32], dest_key[32];
    jt_account_id signer;
} jn_txmemo;

/* Fills in what memo can know from tx alone (its account's entry ID, a
 * Payment's destination's, the account of its SigningPubKey), as jn_apply
 * would on its first run. Any thread: it reads tx only. */
void jn_txmemo_fill(jn_txmemo *memo, const jt_obj *tx);

/* Checks that need no ledger state (tem*, telINSUF_FEE_P). */
int jn_preflight(const jt_obj *tx, const jn_env *env);

/* Applies `tx` (already signature-checked; `id` its hash) as the `index`-th
 * transaction of the ledger. Returns the result code (also in out->ter).
 * `memo` (may be NULL) is read and filled in. */
int jn_apply(jn_view *view, const jn_env *env, const jt_obj *tx, const uint8_t id[32],
             uint32_t index, jn_txmemo *memo, jn_applied *out);

/* Owner reserve for an account owning `owners` objects. */
uint64_t jn_reserve(const jn_env *env, uint32_t owners);

#endif
