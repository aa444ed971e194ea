/*
 * store.h — jt-node's durable storage in LMDB.
 *
 * One environment in DIR holds (store format 2):
 *   state    object ID (32) -> ledger entry blob, as of the last closed ledger
 *   headers  u32be(seq)     -> jn_header record
 *   lhash    ledger hash(32) -> u32be(seq)
 *   tx       u32be(seq) u32be(index) -> tx ID(32) u32be(bloblen) blob meta
 *   txid     tx ID (32)     -> u32be(seq) u32be(index), written in batches (below)
 *   hist     u32be(seq) AccountID(20) -> u32be(previous seq) u32be(index)...
 *   head     AccountID(20)  -> u32be(seq of the account's newest hist record)
 *   meta     small named values ("format" = u32be 2, configuration, counters)
 *
 * Everything but txid and head is keyed by ledger first, so a closed ledger
 * is appended after the last one (MDB_APPEND: pages filled in order, few
 * pages touched per ledger). An account's history is a chain from its head
 * back through the ledgers it appears in (hist's "previous seq", 0 at the
 * start). A store in another format (format 1 kept transactions keyed by ID
 * and had no "format" value) is refused at open with a message naming both.
 *
 * The ID index is written every ~131 000 transactions in one sorted pass
 * (random keys: one page copied per insert otherwise, once the table is
 * large); until then the IDs of the ledgers after meta "txid_upto" are
 * kept in memory, and at open they are read back from `tx`.
 *
 * A closed ledger is written by one batch (one LMDB write transaction) and is
 * durable when jn_store_commit returns: the environment is opened without
 * MDB_NOSYNC/MDB_NOMETASYNC, so a commit is on disk before the caller
 * announces the ledger. Readers use their own read transactions and never
 * block the writer.
 *
 * Thread safety: one writer at a time (one batch open); reads may come from
 * any thread (the environment is opened with MDB_NOTLS).
 *
 * Every function returns 0 on success or -1 with a message in the store's
 * error text (jn_store_errmsg); "not found" is 1 where documented. A write
 * that fails for want of space says so: "store full (...)" when the map
 * size is reached (naming JN_STORE_MAP_SIZE_SETTING, which raises it),
 * "disk full (N bytes free on DIR: ...)" when the disk is (see
 * srv_datadir_write_error), each with what to do.
 */
#ifndef JN_STORE_H
#define JN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The jt-node.conf setting that becomes jn_store_open's map_size. */
#define JN_STORE_MAP_SIZE_SETTING "[ledger] store_map_size"

typedef struct jn_store jn_store;
typedef struct jn_batch jn_batch;

/* A closed ledger's header (PROTOCOL.md §5.5) plus its hash. */
typedef struct jn_header {
    uint32_t seq;
    uint64_t total_coins;
    uint8_t parent_hash[32];
    uint8_t tx_hash[32];
    uint8_t account_hash[32];
    uint32_t parent_close_time;
    uint32_t close_time;
    uint8_t close_resolution;
    uint8_t close_flags;
    uint8_t hash[32];  /* SHA-512Half of the fields above with prefix LWR */
    uint32_t txn_count;
} jn_header;

/* A stored transaction. Pointers refer to memory valid only inside the
 * callback that receives it. */
typedef struct jn_txrec {
    uint8_t id[32];
    uint32_t seq;   /* ledger it is in */
    uint32_t index; /* TransactionIndex */
    const uint8_t *blob;
    size_t blob_len;
    const uint8_t *meta;
    size_t meta_len;
} jn_txrec;

/* Opens (creating if needed) the store in directory `dir` (created if
 * missing, mode 0700). `map_size` 0 means the default (64 GiB of address
 * space, sparse): the most the store may hold; a smaller value than the
 * store already holds counts as that size. The store is exclusive: the directory is flock()ed until
 * jn_store_close, and an open of a store open elsewhere (another process, or
 * another handle in this one) fails with "it is open in another process". */
int jn_store_open(const char *dir, size_t map_size, jn_store **out, char *err, size_t errcap);
void jn_store_close(jn_store *s); /* accepts NULL */
/* Tests: how many transaction IDs are gathered before `txid` is written
 * (1: at every commit). */
void jn_store_set_txid_batch(jn_store *s, size_t n);
const char *jn_store_errmsg(const jn_store *s);

/* ---- writing a closed ledger (one batch = one durable transaction) ---- */
int jn_store_begin(jn_store *s, jn_batch **out);
int jn_batch_put_state(jn_batch *b, const uint8_t id[32], const uint8_t *blob, size_t len);
int jn_batch_del_state(jn_batch *b, const uint8_t id[32]);
int jn_batch_put_header(jn_batch *b, const jn_header *h);
/* Stores the transaction and its ledger index entry (ltx). */
int jn_batch_put_tx(jn_batch *b, const jn_txrec *t);
/* Adds the account-history entry account|seq|index -> id. */
int jn_batch_put_account_tx(jn_batch *b, const uint8_t account[20], uint32_t seq, uint32_t index,
                            const uint8_t id[32]);
/* A named value (key up to 64 bytes), e.g. "config" or "burned". */
int jn_batch_put_meta(jn_batch *b, const char *key, const void *val, size_t len);
/* Commits durably and frees the batch; on failure nothing was written. */
int jn_store_commit(jn_batch *b);
void jn_store_abort(jn_batch *b); /* accepts NULL */

/* ---- reading ------------------------------------------------------------ */
/* The newest header; 1 if the store is empty. */
int jn_store_last_header(jn_store *s, jn_header *h);
/* 1 if not found. */
int jn_store_header_by_seq(jn_store *s, uint32_t seq, jn_header *h);
int jn_store_header_by_hash(jn_store *s, const uint8_t hash[32], jn_header *h);
/* Lowest stored ledger sequence; 1 if empty. */
int jn_store_first_seq(jn_store *s, uint32_t *seq);

/* Calls cb for every state entry in ascending ID order; a non-zero return
 * from cb stops the walk and is returned. */
typedef int (*jn_state_cb)(void *ctx, const uint8_t id[32], const uint8_t *blob, size_t len);
int jn_store_state_foreach(jn_store *s, jn_state_cb cb, void *ctx);
/* One state entry copied into `out` (cap bytes); *len gets its size; 1 if
 * not found; -1 if cap is too small (with *len set). */
int jn_store_get_state(jn_store *s, const uint8_t id[32], uint8_t *out, size_t cap, size_t *len);

/* A transaction by ID; 1 if not found. */
typedef int (*jn_tx_cb)(void *ctx, const jn_txrec *t);
int jn_store_get_tx(jn_store *s, const uint8_t id[32], jn_tx_cb cb, void *ctx);
/* Every transaction of ledger `seq` in index order. */
int jn_store_ledger_txs(jn_store *s, uint32_t seq, jn_tx_cb cb, void *ctx);
/* An account's transactions with min_seq <= seq <= max_seq, newest first (or
 * oldest first when `forward`), starting at (start_seq, start_index)
 * inclusive when `has_start` (a marker). Stops after `limit` calls; if more
 * remain, *more is set and (*next_seq, *next_index) is where to resume. */
int jn_store_account_tx(jn_store *s, const uint8_t account[20], uint32_t min_seq,
                        uint32_t max_seq, bool forward, bool has_start, uint32_t start_seq,
                        uint32_t start_index, unsigned limit, jn_tx_cb cb, void *ctx,
                        bool *more, uint32_t *next_seq, uint32_t *next_index);
/* A named value into out (cap); *len its size; 1 if not found. */
int jn_store_get_meta(jn_store *s, const char *key, void *out, size_t cap, size_t *len);

/* Bytes the environment uses on disk (data file size actually in use). */
int jn_store_disk_bytes(jn_store *s, uint64_t *bytes);

#endif
