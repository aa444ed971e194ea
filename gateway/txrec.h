/*
 * txrec.h — the gateway's submission records in its store, numbered in
 * arrival order, and their indexes by transaction hash and by client id.
 *
 * Tables (store.h):
 *   records   record number (8 bytes, big-endian)   -> submission record (JSON)
 *   pending   record number                         -> while its status is pending: the
 *                                                      signed transaction (hex; "" in a
 *                                                      store written before, whose
 *                                                      pending records hold it as "blob")
 *   by_hash   transaction hash (32 bytes)           -> record number
 *   by_cid    account '\0' client_id                -> record number
 *   meta      "index_upto"                          -> the last record number whose
 *                                                      index keys are in by_hash/by_cid
 *
 * A new record lands after the previous one, so a commit of many records
 * rewrites few pages. The indexes have random keys: written as they come,
 * each insert would copy and write a 4 KiB page of its own. So the keys of
 * the newest records (the tail) are kept in memory; once GW_TXREC_INDEX_BATCH
 * records have gathered, they are written sorted, a slice of neighbouring
 * keys with each of the next store commits, and the slice that ends the
 * batch moves index_upto. A crash loses nothing: at open, the records after
 * index_upto are read back into the tail.
 *
 * A store written with the first layout (txs keyed by hash, cids) is
 * converted at open, in steps that each commit, so an interrupted
 * conversion resumes.
 *
 * Threads: gw_txrec_number on the persister; gw_txrec_note, the lookups and
 * gw_txrec_tick on the loop; gw_txrec_get on any thread.
 */
#ifndef GW_TXREC_H
#define GW_TXREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jt/util.h>

#include "store.h"

typedef struct gw_txrec gw_txrec;

/* Records noted before their index keys are written. */
#define GW_TXREC_INDEX_BATCH 65536

/* Opens the records of st, converting a first-layout store and reading the
 * tail back. batch: records per index write (0: GW_TXREC_INDEX_BATCH).
 * -1 with a message in err. */
int gw_txrec_open(gw_store *st, size_t batch, gw_txrec **out, char *err, size_t errcap);
/* No further index slice is queued (an index write under way resumes at
 * the next open). Before gw_store_close. */
void gw_txrec_stop(gw_txrec *r);
/* After gw_store_close (no slice's callback can still run). NULL is fine. */
void gw_txrec_free(gw_txrec *r);

/* The next record number (from 1). */
uint64_t gw_txrec_number(gw_txrec *r);
/* Adds to b a new record and its pending mark, which holds the signed
 * transaction (blob, bl bytes). The signed transaction is kept out of the
 * record so that a final record, which no longer needs it, is no shorter
 * than the pending one it replaces, and a page of records packed as they
 * arrived is rewritten in place. -1 when out of memory. */
int gw_txrec_put_new(gw_batch *b, uint64_t no, const void *rec, size_t n, const void *blob,
                     size_t bl);
/* Adds to b record no rewritten with its final status (no longer pending). */
int gw_txrec_put_final(gw_batch *b, uint64_t no, const void *rec, size_t n);

/* Record no is durable: its keys join the tail (and, once the tail is
 * large enough, an index write starts). -1 when out of memory (the keys
 * are then written straight away). */
int gw_txrec_note(gw_txrec *r, uint64_t no, const uint8_t hash[32], const char *cid_key,
                  size_t kl);

/* The record number of a hash, or of a client id key (account '\0'
 * client_id): 1 with *no, 0 when unknown, -1 with a message on a store
 * error. */
int gw_txrec_by_hash(gw_txrec *r, const uint8_t hash[32], uint64_t *no, char *err,
                     size_t errcap);
int gw_txrec_by_cid(gw_txrec *r, const char *cid_key, size_t kl, uint64_t *no, char *err,
                    size_t errcap);

/* Record no appended to out: 1, 0 when absent, -1 on a store error. */
int gw_txrec_get(gw_txrec *r, uint64_t no, jt_buf *out, char *err, size_t errcap);

/* Calls fn for every pending record and its pending mark's signed
 * transaction (bl 0 in an older store: the record holds it), oldest first,
 * until it returns false. */
int gw_txrec_each_pending(gw_txrec *r,
                          bool (*fn)(void *ctx, uint64_t no, const void *rec, size_t n,
                                     const void *blob, size_t bl),
                          void *ctx, char *err, size_t errcap);

/* From the loop's timer (every 250 ms): ends an index write that
 * finished, retries one that failed (after half a second, then waits
 * doubling up to 30 s while it keeps failing). */
void gw_txrec_tick(gw_txrec *r);

typedef struct gw_txrec_stats {
    uint64_t upto;      /* index_upto */
    size_t tail;        /* records whose keys are in memory only */
    bool writing;       /* an index write is under way */
    uint64_t writes;    /* index writes finished since the start */
    uint64_t migrated;  /* first-layout records converted at open */
} gw_txrec_stats;
void gw_txrec_get_stats(const gw_txrec *r, gw_txrec_stats *st);

#endif
