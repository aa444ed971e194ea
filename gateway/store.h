/*
 * store.h — jt-gateway's durable state: one LMDB environment in DIR/db/.
 *
 * Tables (LMDB named databases), keys and values:
 *   apikeys   key id (16 hex)                   -> API key record (JSON)
 *   records, pending, by_hash, by_cid           -> submission records and their
 *                                                  indexes (txrec.h)
 *   accounts  address                           -> account record (JSON: next sequence, ...)
 *   meta      name                              -> value (audit tail, last ledger seen,
 *                                                  "events_cursor", ...)
 *   hooks     webhook id (16 hex)               -> webhook record (JSON, hook.h)
 *   deliveries webhook id '/' event id          -> delivery not yet acknowledged (JSON, hook.h)
 *   dead      webhook id '/' event id           -> delivery given up on (JSON, hook.h)
 *   txs, cids                                   -> the first layout's submission
 *                                                  records, converted at open (txrec.h)
 *
 * Records are JSON text so that an operator can read them with mdb_dump and
 * the format can grow without migrations.
 *
 * Writes: a gw_batch (puts and deletes) is applied atomically. Batches given
 * to gw_store_commit_async are applied by the store's writer thread, which
 * takes the batches waiting and commits them in one LMDB transaction (one
 * fsync for many requests); each batch's callback then runs on the writer
 * thread, in submission order, with the commit's result. Batches a client's
 * answer waits on (gw_store_commit_first) have a lane of their own: each
 * commit takes all of that lane waiting, then ordinary batches up to
 * GW_STORE_CHAIN_OPS operations (at least one batch), so a burst of ordinary
 * writes (a ledger's worth of final statuses) delays them by one bounded
 * commit at most, and the ordinary ones still go out with every commit.
 * Callbacks keep submission order within each lane (a commit's first-lane
 * callbacks run before its ordinary ones). gw_store_commit waits for its
 * batch. Reads use their own read transactions and may run on any thread.
 */
#ifndef GW_STORE_H
#define GW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jt/util.h>

typedef enum gw_table {
    GW_APIKEYS,
    GW_RECORDS,
    GW_RECS_PENDING,
    GW_BY_HASH,
    GW_BY_CID,
    GW_ACCOUNTS,
    GW_META,
    GW_HOOKS,
    GW_DELIVERIES,
    GW_DEAD,
    GW_V1_TXS,
    GW_V1_CIDS,
    GW_TABLES
} gw_table;

typedef struct gw_store gw_store;
typedef struct gw_batch gw_batch;

/* Opens (creating when absent) DIR/db with at most map_size bytes
 * (0: 1 GiB). -1 with a message in err. */
int gw_store_open(const char *dir, uint64_t map_size, gw_store **out, char *err, size_t errcap);
/* Waits for the writer to finish what it has, then closes; NULL is fine. */
void gw_store_close(gw_store *s);

/* 1 and the value appended to out when found, 0 when not, -1 with a message
 * on a store error. Any thread. */
int gw_store_get(gw_store *s, gw_table t, const void *key, size_t klen, jt_buf *out, char *err,
                 size_t errcap);

/* Calls fn for every entry of t in key order from `from` (NULL: the first),
 * until fn returns false. Any thread; the values are valid during the call
 * only. -1 on a store error. */
int gw_store_scan(gw_store *s, gw_table t, const void *from, size_t flen,
                  bool (*fn)(void *ctx, const void *k, size_t kl, const void *v, size_t vl),
                  void *ctx, char *err, size_t errcap);

/* The last key of t appended to key: 1, 0 when t is empty, -1 with a
 * message on a store error. Any thread. */
int gw_store_last(gw_store *s, gw_table t, jt_buf *key, char *err, size_t errcap);

gw_batch *gw_batch_new(void);
void gw_batch_free(gw_batch *b); /* accepts NULL */
/* Copies key and value. -1 when out of memory. */
int gw_batch_put(gw_batch *b, gw_table t, const void *key, size_t klen, const void *val,
                 size_t vlen);
int gw_batch_del(gw_batch *b, gw_table t, const void *key, size_t klen);
bool gw_batch_empty(const gw_batch *b);

/* Applies b (taking ownership) and waits. 0, or -1 with a message (a full
 * store or disk says so). */
int gw_store_commit(gw_store *s, gw_batch *b, char *err, size_t errcap);

/* Queues b (taking ownership) for the writer. done(ctx, rc, err) runs on the
 * writer thread once the commit holding b is durable (rc 0) or failed
 * (rc -1, err says why; nothing of b was applied). Thread-safe. */
void gw_store_commit_async(gw_store *s, gw_batch *b,
                           void (*done)(void *ctx, int rc, const char *err), void *ctx);

/* The operations an ordinary commit takes at most (whole batches; at least
 * one). */
#define GW_STORE_CHAIN_OPS 512

/* A commit (with its sync) that takes this long is logged (slow_commit):
 * every answer waiting on it waited as long. */
#define GW_STORE_SLOW_MS 50

/* As gw_store_commit_async, in the first lane: ahead of the ordinary batches
 * queued before it (but those of the commit it joins), in order with the
 * other first-lane batches. For writes a client waits on, whose keys no
 * ordinary batch queued before them writes (the caller's to ensure: a
 * transaction's record, before anything else is written about it). */
void gw_store_commit_first(gw_store *s, gw_batch *b,
                           void (*done)(void *ctx, int rc, const char *err), void *ctx);

#endif
