/*
 * ledger.h — jt-node's ledger: the closed state, the open ledger, closing,
 * durable storage and the queries the API needs.
 *
 * One writer: every function runs on the node's loop thread. The closed
 * state lives in memory (loaded from the store at start) and in LMDB; the
 * open ledger is a view over it. Closing re-applies the open ledger's
 * transactions in canonical order (Account, Sequence, ID) to the closed
 * state, writes the new ledger in one durable LMDB transaction, and only
 * then reports it (so nothing announced is ever lost).
 */
#ifndef JN_LEDGER_H
#define JN_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jt/jt.h>

#include "apply.h"
#include "state.h"
#include "store.h"

typedef struct jn_params {
    uint64_t base_fee;     /* 10 drops */
    uint64_t reserve_base; /* 10 SWT */
    uint64_t reserve_inc;  /* 1 SWT */
    unsigned held_ledgers; /* how long a terPRE_SEQ transaction is kept (10) */
    unsigned max_held;     /* cap on held transactions (10000) */
    unsigned max_open;     /* cap on open-ledger transactions (200000) */
} jn_params;

void jn_params_init(jn_params *p);

/* A transaction as the ledger keeps it. */
typedef struct jn_tx {
    uint8_t id[32];
    uint8_t *blob;
    size_t blob_len;
    jt_obj *tx;
    jt_account_id account;
    uint32_t sequence;
    int ter;          /* result in the open ledger, or final once closed */
    jt_obj *meta;     /* closed only */
    uint8_t *meta_blob;
    size_t meta_len;
    uint32_t index;   /* TransactionIndex, closed only */
    uint32_t first_seq; /* held: the ledger it was first tried in */
    jt_account_id *accts; /* closed only: the accounts it touches (jn_tx_accounts) */
    size_t n_accts;
} jn_tx;

typedef struct jn_txlist {
    jn_tx **v;
    size_t n, cap;
} jn_txlist;

typedef struct jn_ledger jn_ledger;

/* Writes the genesis ledger (PROTOCOL.md §5.4) into an empty store. */
int jn_ledger_genesis(jn_store *st, const jn_params *p, const jt_account_id *genesis,
                      uint32_t close_time, char *err, size_t errcap);
/* Loads the last closed ledger from the store and opens the next one. */
int jn_ledger_load(jn_store *st, const jn_params *p, jn_ledger **out, char *err, size_t errcap);
void jn_ledger_free(jn_ledger *L);

/* Submits a decoded, signature-checked transaction (ownership of `tx`
 * passes to the ledger). Returns the result of applying it to the open
 * ledger (tefALREADY when the same ID is already there). */
int jn_ledger_submit(jn_ledger *L, jt_obj *tx, const uint8_t *blob, size_t len, const uint8_t id[32]);

/* Closes the open ledger now (close time: max(now, parent + 1)). On
 * success the new ledger is durable; *closed lists its transactions in
 * order (owned by the ledger, valid until the next close). A storage
 * failure is returned as -1 and the node must stop: nothing was announced. */
int jn_ledger_close(jn_ledger *L, uint32_t now, const jn_txlist **closed, char *err, size_t errcap);

/* ---- queries ---- */
const jn_header *jn_ledger_last(const jn_ledger *L);   /* last closed */
uint32_t jn_ledger_open_seq(const jn_ledger *L);
uint32_t jn_ledger_first_seq(const jn_ledger *L);
const jn_params *jn_ledger_params(const jn_ledger *L);
jn_store *jn_ledger_store(const jn_ledger *L);
/* A view for reads: the open ledger, or the last closed state. */
const jn_view *jn_ledger_open_view(const jn_ledger *L);
const jn_view *jn_ledger_closed_view(const jn_ledger *L);
/* The open ledger's transactions, in application order. */
const jn_txlist *jn_ledger_open_txs(const jn_ledger *L);
const jn_tx *jn_ledger_open_tx(const jn_ledger *L, const uint8_t id[32]);
/* Fees destroyed since genesis (drops). */
uint64_t jn_ledger_burned(const jn_ledger *L);
/* Calls cb for every entry of `v` (base entries overlaid by the view's
 * changes, deletions skipped), in no particular order. */
void jn_view_foreach(const jn_view *v, void (*cb)(void *ctx, const uint8_t id[32], const jt_obj *o),
                     void *ctx);

/* The header hash of §5.5. */
void jn_header_hash(const jn_header *h, uint8_t out[32]);
/* Accounts a transaction touches (tx fields and metadata), deduplicated;
 * returns how many were written to out (at most cap). */
size_t jn_tx_accounts(const jt_obj *tx, const jt_obj *meta, jt_account_id *out, size_t cap);

/* Recomputes every stored header hash, the parent chain, every ledger's
 * transaction-set hash, the state hash of the last ledger, and the SWT
 * total; prints progress to `log`. 0 when all holds; else 1 with the first
 * failing ledger named in err. */
int jn_ledger_verify(jn_store *st, char *err, size_t errcap, uint32_t *checked);

#endif
