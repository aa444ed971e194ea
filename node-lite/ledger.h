/*
 * ledger.h — jt-node's ledger: the closed state, the open ledger, closing,
 * durable storage and the queries the API needs.
 *
 * One writer: every function runs on the node's loop thread; only the
 * write of a closed ledger may run on a thread of its own (see
 * jn_ledger_close_begin). The closed state lives in memory (loaded from the
 * store at start) and in LMDB; the open ledger is a view over it. Each
 * transaction is applied once, to the open ledger, with its metadata; a
 * close takes the open ledger as it stands (its transactions in arrival
 * order), writes it in one durable LMDB transaction, and only then reports
 * it (so nothing announced is ever lost).
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
    int ter;          /* its result: final once it is in the open ledger */
    uint8_t *meta_blob; /* its metadata, serialized by its apply */
    size_t meta_len;
    int64_t fee;      /* drops it destroyed */
    uint32_t index;   /* TransactionIndex (its place in the open ledger) */
    uint32_t first_seq; /* held: the ledger it was first tried in */
    jt_account_id *accts; /* the accounts it touches (jn_applied.accts) */
    size_t n_accts;
    jn_txmemo memo;   /* filled in by its first apply, reused by the next */
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
 * ledger (tefALREADY when the same ID is already there). `memo` (may be
 * NULL): what is already known of tx (jn_txmemo_fill). */
int jn_ledger_submit(jn_ledger *L, jt_obj *tx, const uint8_t *blob, size_t len, const uint8_t id[32],
                     const jn_txmemo *memo);
/* Starts bringing the open ledger's entries named in memo into cache
 * (stages 0, 1, 2 a little apart, as jn_view_prefetch). */
void jn_ledger_prefetch(const jn_ledger *L, const jn_txmemo *memo, int stage);
/* Starts bringing into cache where jn_ledger_submit looks for transaction
 * `id` (the open ledger's IDs, the held ones). */
void jn_ledger_prefetch_id(const jn_ledger *L, const uint8_t id[32]);

/* Closing a ledger takes two steps, so that the event loop can go on
 * while the new ledger is built and written:
 *
 *  - jn_ledger_close_begin freezes the open ledger as it stands (its state
 *    and its transactions, in arrival order, each with the metadata its
 *    apply built), opens the next ledger over it at once (close time:
 *    max(now, parent + 1)), and retries the held transactions there. The
 *    rest runs on the writer thread when one was started, else inline: the
 *    metadata blobs, the hash trees, the header and one durable LMDB
 *    transaction. Only one ledger is closed at a time: begin refuses while
 *    one is (call jn_ledger_close_wait and _finish first).
 *  - jn_ledger_close_finish, once the write is done, makes the ledger the
 *    last closed one (jn_ledger_last, closed-state reads) and returns 0 with
 *    *closed listing its transactions (owned by the ledger, valid until the
 *    next begin); only then may it be announced. The open ledger stands as
 *    it is: nothing is applied again. 1: nothing to finish (yet). -1: the
 *    write failed and the node must stop; nothing of that ledger was
 *    announced.
 *
 * Until it is finished a closed ledger is invisible to reads of the closed
 * state; its transactions are still found by jn_ledger_open_tx. */
int jn_ledger_close_begin(jn_ledger *L, uint32_t now, char *err, size_t errcap);
int jn_ledger_close_finish(jn_ledger *L, const jn_txlist **closed, char *err, size_t errcap);
/* Blocks until the write in progress (if any) is done. */
void jn_ledger_close_wait(jn_ledger *L);
/* A close has begun and its write is not done yet. */
bool jn_ledger_busy(jn_ledger *L);
/* Starts the writer thread; `notify(ctx)` is called on it after each
 * write, and should make the loop call jn_ledger_close_finish. */
int jn_ledger_start_writer(jn_ledger *L, void (*notify)(void *ctx), void *ctx);
/* Lets a write in progress complete, then stops the writer thread (after
 * which closes write inline). jn_ledger_free does it too. */
void jn_ledger_stop_writer(jn_ledger *L);

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
/* The last closed ledger's transactions, in TransactionIndex order, while
 * the ledger still holds them (from its close until the next one is
 * finished); NULL when it does not (after a restart, or for a ledger with
 * no transactions). Their IDs are safe to read on the loop thread. */
const jn_txlist *jn_ledger_last_txs(const jn_ledger *L);
const jn_tx *jn_ledger_open_tx(const jn_ledger *L, const uint8_t id[32]);
/* Fees destroyed since genesis (drops). */
uint64_t jn_ledger_burned(const jn_ledger *L);
/* Calls cb for every entry of `v` (base entries overlaid by the view's
 * changes, deletions skipped), in no particular order. */
void jn_view_foreach(const jn_view *v, void (*cb)(void *ctx, const uint8_t id[32], const jt_obj *o),
                     void *ctx);

/* The header hash of §5.5. */
void jn_header_hash(const jn_header *h, uint8_t out[32]);
/* The accounts a transaction names, deduplicated: its Account,
 * Destination and Target (for the proposed stream, before its metadata
 * exists; a closed transaction's are jn_tx.accts). Returns how many were
 * written to out (at most cap). */
size_t jn_tx_accounts(const jt_obj *tx, jt_account_id *out, size_t cap);

/* Recomputes every stored header hash, the parent chain, every ledger's
 * transaction-set hash, the state hash of the last ledger, and the SWT
 * total; prints progress to `log`. 0 when all holds; else 1 with the first
 * failing ledger named in err. */
int jn_ledger_verify(jn_store *st, char *err, size_t errcap, uint32_t *checked);

#endif
