/*
 * store.c — jt-node's durable storage: the jn_store interface over LMDB.
 *
 * Layout and guarantees are described in store.h. Notes on choices made here:
 *
 *  - The environment is opened with MDB_NOTLS and nothing that trades
 *    durability for speed, so mdb_txn_commit returns only after the data and
 *    the meta page are synced: a committed ledger survives kill -9 and power
 *    loss.
 *  - Read transactions are recycled through a small pool (reset/renew): with
 *    MDB_NOTLS a reset transaction keeps its reader slot, so a read costs
 *    neither a malloc nor the shared reader-table lock.
 *  - Only one batch can be open, so the batch lives inside the store and
 *    "freeing" it just releases it; beginning a second one is refused rather
 *    than left to block on LMDB's writer lock (a self-deadlock on one thread).
 *  - Error text is kept per thread (see tl_err) because reads may fail on
 *    several threads at once.
 *  - Reads use committed data only: they do not see an open batch's writes.
 */
#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HEADER_VERSION 1
#define HEADER_LEN 155 /* see header_encode */
#define TXREC_FIXED 12 /* u32 seq, u32 index, u32 blob length */
#define LTX_KEY_LEN 8
#define ACCTX_KEY_LEN 28
#define META_KEY_MAX 64
#define ERR_CAP 320
#define RTXN_POOL 8
#define DEFAULT_MAP_SIZE ((uint64_t)64 << 30)

/* What a batch knows about the highest key of a table it appends to. */
enum tail { TAIL_UNKNOWN, TAIL_EMPTY, TAIL_KNOWN };

struct jn_batch {
    jn_store *s;
    MDB_txn *txn; /* NULL when the batch is not open */
    bool failed;
    char first_err[ERR_CAP]; /* why the batch failed, reported again by commit */
    /* ltx and headers keys grow with the ledger sequence, so they can
     * usually be written with MDB_APPEND (no search, pages filled instead of
     * split in half). The current highest key decides when that is safe. */
    enum tail ltx_tail;
    uint8_t ltx_last[LTX_KEY_LEN];
    enum tail hdr_tail;
    uint32_t hdr_last;
};

struct jn_store {
    MDB_env *env;
    MDB_dbi state, headers, lhash, txs, ltx, acctx, meta;
    pthread_mutex_t mu; /* guards pool, npool, writing, err */
    MDB_txn *pool[RTXN_POOL];
    int npool;
    bool writing; /* the batch is claimed */
    jn_batch batch;
    char err[ERR_CAP]; /* last failure on any thread; see jn_store_errmsg */
};

/* ------------------------------------------------------------------ errors */

/* The calling thread's last failure and the store it happened on. A shared
 * per-store buffer alone would be overwritten mid-read when two reader
 * threads fail together. */
static _Thread_local const jn_store *tl_err_store;
static _Thread_local char tl_err[ERR_CAP];

__attribute__((format(printf, 2, 0))) static void set_errv(jn_store *s, const char *fmt,
                                                           va_list ap)
{
    vsnprintf(tl_err, sizeof tl_err, fmt, ap);
    tl_err_store = s;
    pthread_mutex_lock(&s->mu);
    /* The last byte stays NUL so an unlocked reader always finds an end. */
    memcpy(s->err, tl_err, sizeof s->err - 1);
    pthread_mutex_unlock(&s->mu);
}

__attribute__((format(printf, 2, 3))) static int set_err(jn_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_errv(s, fmt, ap);
    va_end(ap);
    return -1;
}

/* "<what>: <LMDB's text>", e.g. "put header 12: MDB_MAP_FULL: ...". */
__attribute__((format(printf, 3, 4))) static int mdb_err(jn_store *s, int rc, const char *fmt,
                                                         ...)
{
    char what[ERR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return set_err(s, "%s: %s", what, mdb_strerror(rc));
}

const char *jn_store_errmsg(const jn_store *s)
{
    if (!s)
        return "no store";
    /* Normally the caller asks on the thread whose call failed; a thread
     * with no failure of its own gets the store's latest one. */
    if (tl_err_store == s)
        return tl_err;
    return s->err;
}

/* Short hex of an ID for messages: the first 8 bytes identify it well
 * enough and keep messages on one line. */
static const char *hexid(char out[17], const uint8_t *id)
{
    static const char digits[] = "0123456789ABCDEF";
    for (int i = 0; i < 8; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 15];
    }
    out[16] = '\0';
    return out;
}

/* --------------------------------------------------------------- encodings */

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void be64(uint8_t *p, uint64_t v)
{
    be32(p, (uint32_t)(v >> 32));
    be32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/*
 * Header record, version 1 (155 bytes, integers big-endian):
 *   0 version  1 seq  5 total_coins  13 parent_hash  45 tx_hash
 *   77 account_hash  109 parent_close_time  113 close_time
 *   117 close_resolution  118 close_flags  119 hash  151 txn_count
 * A version byte first lets a later layout be read next to this one.
 */
static void header_encode(const jn_header *h, uint8_t r[HEADER_LEN])
{
    r[0] = HEADER_VERSION;
    be32(r + 1, h->seq);
    be64(r + 5, h->total_coins);
    memcpy(r + 13, h->parent_hash, 32);
    memcpy(r + 45, h->tx_hash, 32);
    memcpy(r + 77, h->account_hash, 32);
    be32(r + 109, h->parent_close_time);
    be32(r + 113, h->close_time);
    r[117] = h->close_resolution;
    r[118] = h->close_flags;
    memcpy(r + 119, h->hash, 32);
    be32(r + 151, h->txn_count);
}

/* Strict: anything but an exact version-1 record is refused, with the
 * reason in `why`, so damage is reported rather than read as a ledger. */
static int header_decode(const MDB_val *v, jn_header *h, char *why, size_t cap)
{
    const uint8_t *r = v->mv_data;
    if (v->mv_size < 1) {
        snprintf(why, cap, "record is empty");
        return -1;
    }
    if (r[0] != HEADER_VERSION) {
        snprintf(why, cap, "record version %u, this build reads version %d", r[0],
                 HEADER_VERSION);
        return -1;
    }
    if (v->mv_size != HEADER_LEN) {
        snprintf(why, cap, "record is %zu bytes, version %d has %d", v->mv_size,
                 HEADER_VERSION, HEADER_LEN);
        return -1;
    }
    h->seq = get32(r + 1);
    h->total_coins = get64(r + 5);
    memcpy(h->parent_hash, r + 13, 32);
    memcpy(h->tx_hash, r + 45, 32);
    memcpy(h->account_hash, r + 77, 32);
    h->parent_close_time = get32(r + 109);
    h->close_time = get32(r + 113);
    h->close_resolution = r[117];
    h->close_flags = r[118];
    memcpy(h->hash, r + 119, 32);
    h->txn_count = get32(r + 151);
    return 0;
}

/* Decodes the headers entry stored under `key_seq`, also checking that the
 * record is the ledger its key says. */
static int header_read(jn_store *s, const char *op, uint32_t key_seq, const MDB_val *v,
                       jn_header *h)
{
    char why[160];
    if (header_decode(v, h, why, sizeof why) != 0)
        return set_err(s, "%s: header %u: %s", op, key_seq, why);
    if (h->seq != key_seq)
        return set_err(s, "%s: header %u: record holds ledger %u", op, key_seq, h->seq);
    return 0;
}

/* txs value: u32 seq, u32 index, u32 blob length, blob, meta. */
static int txrec_decode(jn_store *s, const char *op, const uint8_t id[32], const MDB_val *v,
                        jn_txrec *t)
{
    const uint8_t *p = v->mv_data;
    char hx[17];
    if (v->mv_size < TXREC_FIXED)
        return set_err(s, "%s: tx %s: record is %zu bytes, shorter than its fixed part", op,
                       hexid(hx, id), v->mv_size);
    size_t blob_len = get32(p + 8);
    if (blob_len > v->mv_size - TXREC_FIXED)
        return set_err(s, "%s: tx %s: blob length %zu overruns the %zu-byte record", op,
                       hexid(hx, id), blob_len, v->mv_size);
    memcpy(t->id, id, 32);
    t->seq = get32(p);
    t->index = get32(p + 4);
    t->blob = p + TXREC_FIXED;
    t->blob_len = blob_len;
    t->meta = p + TXREC_FIXED + blob_len;
    t->meta_len = v->mv_size - TXREC_FIXED - blob_len;
    return 0;
}

/* ----------------------------------------------------------------- opening */

/* mkdir -p with mode 0700: the store holds the whole ledger history and
 * nothing else on the machine needs to read it. */
static int make_dir(const char *dir, char *err, size_t errcap)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        snprintf(err, errcap, "open store: directory name is %s", n ? "too long" : "empty");
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errcap, "open store: mkdir %s: %s", path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errcap, "open store: mkdir %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errcap, "open store: stat %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "open store: %s is not a directory", path);
        return -1;
    }
    return 0;
}

int jn_store_open(const char *dir, size_t map_size, jn_store **out, char *err, size_t errcap)
{
    char dummy[1];
    if (!err || errcap == 0) {
        err = dummy;
        errcap = sizeof dummy;
    }
    err[0] = '\0';
    if (!out) {
        snprintf(err, errcap, "open store: no output handle");
        return -1;
    }
    *out = NULL;
    if (!dir) {
        snprintf(err, errcap, "open store: no directory");
        return -1;
    }
    if (make_dir(dir, err, errcap) != 0)
        return -1;

    jn_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "open store: out of memory");
        return -1;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        snprintf(err, errcap, "open store: cannot create mutex");
        return -1;
    }
    s->batch.s = s;

    if (map_size == 0)
        map_size = SIZE_MAX > DEFAULT_MAP_SIZE ? (size_t)DEFAULT_MAP_SIZE : (size_t)1 << 30;

    const char *step = "mdb_env_create";
    int rc = mdb_env_create(&s->env);
    if (rc == 0) {
        step = "mdb_env_set_maxdbs";
        rc = mdb_env_set_maxdbs(s->env, 7);
    }
    if (rc == 0) {
        step = "mdb_env_set_mapsize";
        rc = mdb_env_set_mapsize(s->env, map_size);
    }
    if (rc == 0) {
        /* MDB_NOTLS: read transactions are not tied to threads (the pool
         * hands them between threads). No NOSYNC/NOMETASYNC/WRITEMAP: every
         * commit is durable. Files are 0600 (umask can only narrow it). */
        step = "mdb_env_open";
        rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600);
    }
    if (rc == 0) {
        /* Reader slots left by a process killed mid-read would otherwise pin
         * old pages and make the file grow. */
        int dead = 0;
        step = "mdb_reader_check";
        rc = mdb_reader_check(s->env, &dead);
    }
    MDB_txn *txn = NULL;
    if (rc == 0) {
        step = "begin";
        rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    }
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {
        {"state", &s->state}, {"headers", &s->headers}, {"lhash", &s->lhash},
        {"txs", &s->txs},     {"ltx", &s->ltx},         {"acctx", &s->acctx},
        {"meta", &s->meta},
    };
    for (size_t i = 0; rc == 0 && i < sizeof dbs / sizeof dbs[0]; i++) {
        step = dbs[i].name;
        rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE, dbs[i].dbi);
    }
    if (rc == 0) {
        step = "commit";
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (rc != 0) {
        snprintf(err, errcap, "open store %s: %s: %s", dir, step, mdb_strerror(rc));
        if (txn)
            mdb_txn_abort(txn);
        if (s->env)
            mdb_env_close(s->env); /* required even after a failed mdb_env_open */
        pthread_mutex_destroy(&s->mu);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void jn_store_close(jn_store *s)
{
    if (!s)
        return;
    if (s->batch.txn)
        mdb_txn_abort(s->batch.txn);
    for (int i = 0; i < s->npool; i++)
        mdb_txn_abort(s->pool[i]);
    mdb_env_close(s->env);
    pthread_mutex_destroy(&s->mu);
    if (tl_err_store == s)
        tl_err_store = NULL; /* a later store at the same address starts clean */
    free(s);
}

/* ------------------------------------------------------ read transactions */

static int rtxn_get(jn_store *s, const char *op, MDB_txn **txn)
{
    MDB_txn *t = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->npool > 0)
        t = s->pool[--s->npool];
    pthread_mutex_unlock(&s->mu);
    if (t) {
        if (mdb_txn_renew(t) == 0) {
            *txn = t;
            return 0;
        }
        mdb_txn_abort(t); /* fall back to a fresh one */
    }
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
    if (rc != 0)
        return mdb_err(s, rc, "%s: begin read", op);
    return 0;
}

static void rtxn_put(jn_store *s, MDB_txn *txn)
{
    mdb_txn_reset(txn);
    pthread_mutex_lock(&s->mu);
    if (s->npool < RTXN_POOL) {
        s->pool[s->npool++] = txn;
        txn = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (txn)
        mdb_txn_abort(txn);
}

/* ------------------------------------------------------------------ writing */

static void batch_release(jn_batch *b)
{
    b->txn = NULL;
    pthread_mutex_lock(&b->s->mu);
    b->s->writing = false;
    pthread_mutex_unlock(&b->s->mu);
}

int jn_store_begin(jn_store *s, jn_batch **out)
{
    if (!s)
        return -1;
    if (!out)
        return set_err(s, "begin batch: no output handle");
    *out = NULL;
    jn_batch *b = &s->batch;
    pthread_mutex_lock(&s->mu);
    bool busy = s->writing;
    s->writing = true;
    pthread_mutex_unlock(&s->mu);
    if (busy)
        return set_err(s, "begin batch: a batch is already open");

    int rc = mdb_txn_begin(s->env, NULL, 0, &b->txn);
    if (rc != 0) {
        b->txn = NULL;
        batch_release(b);
        return mdb_err(s, rc, "begin batch");
    }
    b->failed = false;
    b->first_err[0] = '\0';
    b->ltx_tail = TAIL_UNKNOWN;
    b->hdr_tail = TAIL_UNKNOWN;
    *out = b;
    return 0;
}


/* Records the first failure of a batch; commit will refuse and repeat it. */
__attribute__((format(printf, 3, 4))) static int batch_fail(jn_batch *b, int rc,
                                                            const char *fmt, ...)
{
    char what[ERR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (rc != 0)
        set_err(b->s, "%s: %s", what, mdb_strerror(rc));
    else
        set_err(b->s, "%s", what);
    if (!b->failed) {
        b->failed = true;
        memcpy(b->first_err, tl_err, sizeof b->first_err);
    }
    return -1;
}

/* 0 if puts may go on; a put after a failure is refused so the caller
 * cannot mistake a half-written batch for a good one. */
static int batch_usable(jn_batch *b, const char *op)
{
    if (!b)
        return -1;
    if (!b->txn)
        return set_err(b->s, "%s: batch is not open", op);
    if (b->failed)
        return set_err(b->s, "%s: batch already failed: %s", op, b->first_err);
    return 0;
}

/* Finds the highest key of `dbi` in the batch's transaction. */
static int tail_load(jn_batch *b, MDB_dbi dbi, const char *op, MDB_val *last, bool *empty)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(b->txn, dbi, &c);
    if (rc != 0)
        return batch_fail(b, rc, "%s: cursor", op);
    MDB_val v;
    rc = mdb_cursor_get(c, last, &v, MDB_LAST);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND) {
        *empty = true;
        return 0;
    }
    if (rc != 0)
        return batch_fail(b, rc, "%s: last key", op);
    *empty = false;
    return 0;
}

int jn_batch_put_state(jn_batch *b, const uint8_t id[32], const uint8_t *blob, size_t len)
{
    if (batch_usable(b, "put state") != 0)
        return -1;
    MDB_val k = {32, (void *)id}, v = {len, (void *)blob};
    int rc = mdb_put(b->txn, b->s->state, &k, &v, 0);
    if (rc != 0) {
        char hx[17];
        return batch_fail(b, rc, "put state %s", hexid(hx, id));
    }
    return 0;
}

int jn_batch_del_state(jn_batch *b, const uint8_t id[32])
{
    if (batch_usable(b, "delete state") != 0)
        return -1;
    MDB_val k = {32, (void *)id};
    int rc = mdb_del(b->txn, b->s->state, &k, NULL);
    /* Deleting an absent entry is not an error: an object created and
     * removed within one ledger was never stored. */
    if (rc != 0 && rc != MDB_NOTFOUND) {
        char hx[17];
        return batch_fail(b, rc, "delete state %s", hexid(hx, id));
    }
    return 0;
}

int jn_batch_put_header(jn_batch *b, const jn_header *h)
{
    if (batch_usable(b, "put header") != 0)
        return -1;
    if (!h)
        return batch_fail(b, 0, "put header: no header");
    jn_store *s = b->s;
    if (b->hdr_tail == TAIL_UNKNOWN) {
        MDB_val last;
        bool empty;
        if (tail_load(b, s->headers, "put header", &last, &empty) != 0)
            return -1;
        if (!empty && last.mv_size != 4)
            return batch_fail(b, 0, "put header %u: headers key of %zu bytes in store", h->seq,
                              last.mv_size);
        b->hdr_tail = empty ? TAIL_EMPTY : TAIL_KNOWN;
        if (!empty)
            b->hdr_last = get32(last.mv_data);
    }
    uint8_t key[4], rec[HEADER_LEN];
    be32(key, h->seq);
    header_encode(h, rec);
    MDB_val k = {4, key}, v;
    bool append = b->hdr_tail == TAIL_EMPTY || h->seq > b->hdr_last;
    if (!append) {
        /* Replacing a stored ledger: its old hash must stop resolving. */
        int rc = mdb_get(b->txn, s->headers, &k, &v);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return batch_fail(b, rc, "put header %u: read old", h->seq);
        jn_header old;
        char why[160];
        if (rc == 0 && header_decode(&v, &old, why, sizeof why) == 0 &&
            memcmp(old.hash, h->hash, 32) != 0) {
            MDB_val hk = {32, old.hash};
            rc = mdb_del(b->txn, s->lhash, &hk, NULL);
            if (rc != 0 && rc != MDB_NOTFOUND)
                return batch_fail(b, rc, "put header %u: drop old hash", h->seq);
        }
    }
    v.mv_size = sizeof rec;
    v.mv_data = rec;
    int rc = mdb_put(b->txn, s->headers, &k, &v, append ? MDB_APPEND : 0);
    if (rc != 0)
        return batch_fail(b, rc, "put header %u", h->seq);
    MDB_val hk = {32, (void *)h->hash};
    rc = mdb_put(b->txn, s->lhash, &hk, &k, 0);
    if (rc != 0)
        return batch_fail(b, rc, "put header %u: hash index", h->seq);
    if (append) {
        b->hdr_tail = TAIL_KNOWN;
        b->hdr_last = h->seq;
    }
    return 0;
}

int jn_batch_put_tx(jn_batch *b, const jn_txrec *t)
{
    if (batch_usable(b, "put tx") != 0)
        return -1;
    if (!t)
        return batch_fail(b, 0, "put tx: no transaction");
    jn_store *s = b->s;
    char hx[17];
    if (t->blob_len > UINT32_MAX || t->meta_len > SIZE_MAX - TXREC_FIXED - t->blob_len)
        return batch_fail(b, 0, "put tx %s: blob or metadata too large", hexid(hx, t->id));

    /* MDB_RESERVE lets the record be assembled in place in the map instead
     * of in a per-transaction buffer. */
    MDB_val k = {32, (void *)t->id};
    MDB_val v = {TXREC_FIXED + t->blob_len + t->meta_len, NULL};
    int rc = mdb_put(b->txn, s->txs, &k, &v, MDB_RESERVE);
    if (rc != 0)
        return batch_fail(b, rc, "put tx %s", hexid(hx, t->id));
    uint8_t *p = v.mv_data;
    be32(p, t->seq);
    be32(p + 4, t->index);
    be32(p + 8, (uint32_t)t->blob_len);
    if (t->blob_len)
        memcpy(p + TXREC_FIXED, t->blob, t->blob_len);
    if (t->meta_len)
        memcpy(p + TXREC_FIXED + t->blob_len, t->meta, t->meta_len);

    if (b->ltx_tail == TAIL_UNKNOWN) {
        MDB_val last;
        bool empty;
        if (tail_load(b, s->ltx, "put tx", &last, &empty) != 0)
            return -1;
        if (!empty && last.mv_size != LTX_KEY_LEN)
            return batch_fail(b, 0, "put tx %s: ltx key of %zu bytes in store",
                              hexid(hx, t->id), last.mv_size);
        b->ltx_tail = empty ? TAIL_EMPTY : TAIL_KNOWN;
        if (!empty)
            memcpy(b->ltx_last, last.mv_data, LTX_KEY_LEN);
    }
    uint8_t key[LTX_KEY_LEN];
    be32(key, t->seq);
    be32(key + 4, t->index);
    bool append = b->ltx_tail == TAIL_EMPTY || memcmp(key, b->ltx_last, LTX_KEY_LEN) > 0;
    MDB_val lk = {LTX_KEY_LEN, key}, lv = {32, (void *)t->id};
    rc = mdb_put(b->txn, s->ltx, &lk, &lv, append ? MDB_APPEND : 0);
    if (rc != 0)
        return batch_fail(b, rc, "put tx %s: ledger %u index %u", hexid(hx, t->id), t->seq,
                          t->index);
    if (append) {
        b->ltx_tail = TAIL_KNOWN;
        memcpy(b->ltx_last, key, LTX_KEY_LEN);
    }
    return 0;
}

int jn_batch_put_account_tx(jn_batch *b, const uint8_t account[20], uint32_t seq, uint32_t index,
                            const uint8_t id[32])
{
    if (batch_usable(b, "put account tx") != 0)
        return -1;
    uint8_t key[ACCTX_KEY_LEN];
    memcpy(key, account, 20);
    be32(key + 20, seq);
    be32(key + 24, index);
    MDB_val k = {sizeof key, key}, v = {32, (void *)id};
    int rc = mdb_put(b->txn, b->s->acctx, &k, &v, 0);
    if (rc != 0) {
        char hx[17];
        return batch_fail(b, rc, "put account tx %s ledger %u index %u", hexid(hx, account), seq,
                          index);
    }
    return 0;
}

int jn_batch_put_meta(jn_batch *b, const char *key, const void *val, size_t len)
{
    if (batch_usable(b, "put meta") != 0)
        return -1;
    size_t kl = key ? strlen(key) : 0;
    if (kl == 0 || kl > META_KEY_MAX)
        return batch_fail(b, 0, "put meta: key is %zu bytes, must be 1..%d", kl, META_KEY_MAX);
    MDB_val k = {kl, (void *)key}, v = {len, (void *)val};
    int rc = mdb_put(b->txn, b->s->meta, &k, &v, 0);
    if (rc != 0)
        return batch_fail(b, rc, "put meta %s", key);
    return 0;
}

int jn_store_commit(jn_batch *b)
{
    if (!b)
        return -1;
    if (!b->txn)
        return set_err(b->s, "commit: batch is not open");
    MDB_txn *txn = b->txn;
    if (b->failed) {
        mdb_txn_abort(txn);
        batch_release(b);
        return set_err(b->s, "commit: batch failed earlier, nothing written: %s", b->first_err);
    }
    int rc = mdb_txn_commit(txn); /* frees txn on failure as well */
    batch_release(b);
    if (rc != 0)
        return mdb_err(b->s, rc, "commit");
    return 0;
}

void jn_store_abort(jn_batch *b)
{
    if (!b || !b->txn)
        return;
    mdb_txn_abort(b->txn);
    batch_release(b);
}

/* ------------------------------------------------------------------ reading */

/* The first or last header (`where` is MDB_FIRST or MDB_LAST): its sequence,
 * and the header itself when h is not NULL. 1 when the store is empty. */
static int header_edge(jn_store *s, const char *op, MDB_cursor_op where, uint32_t *seq, jn_header *h)
{
    MDB_txn *txn;
    MDB_cursor *c;
    if (rtxn_get(s, op, &txn) != 0)
        return -1;
    int ret;
    int rc = mdb_cursor_open(txn, s->headers, &c);
    if (rc != 0) {
        ret = mdb_err(s, rc, "%s: cursor", op);
        goto out;
    }
    MDB_val k, v;
    rc = mdb_cursor_get(c, &k, &v, where);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND) {
        ret = 1;
    } else if (rc != 0) {
        ret = mdb_err(s, rc, "%s", op);
    } else if (k.mv_size != 4) {
        ret = set_err(s, "%s: headers key of %zu bytes", op, k.mv_size);
    } else {
        *seq = get32(k.mv_data);
        ret = h ? header_read(s, op, *seq, &v, h) : 0;
    }
out:
    rtxn_put(s, txn);
    return ret;
}

int jn_store_last_header(jn_store *s, jn_header *h)
{
    uint32_t seq;
    return header_edge(s, "last header", MDB_LAST, &seq, h);
}

static int header_get(jn_store *s, MDB_txn *txn, const char *op, uint32_t seq, jn_header *h)
{
    uint8_t key[4];
    be32(key, seq);
    MDB_val k = {4, key}, v;
    int rc = mdb_get(txn, s->headers, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc != 0)
        return mdb_err(s, rc, "%s %u", op, seq);
    return header_read(s, op, seq, &v, h);
}

int jn_store_header_by_seq(jn_store *s, uint32_t seq, jn_header *h)
{
    MDB_txn *txn;
    if (rtxn_get(s, "header by seq", &txn) != 0)
        return -1;
    int ret = header_get(s, txn, "header by seq", seq, h);
    rtxn_put(s, txn);
    return ret;
}

int jn_store_header_by_hash(jn_store *s, const uint8_t hash[32], jn_header *h)
{
    const char *op = "header by hash";
    MDB_txn *txn;
    if (rtxn_get(s, op, &txn) != 0)
        return -1;
    char hx[17];
    int ret;
    MDB_val k = {32, (void *)hash}, v;
    int rc = mdb_get(txn, s->lhash, &k, &v);
    if (rc == MDB_NOTFOUND) {
        ret = 1;
    } else if (rc != 0) {
        ret = mdb_err(s, rc, "%s %s", op, hexid(hx, hash));
    } else if (v.mv_size != 4) {
        ret = set_err(s, "%s %s: index value of %zu bytes", op, hexid(hx, hash), v.mv_size);
    } else {
        uint32_t seq = get32(v.mv_data);
        ret = header_get(s, txn, op, seq, h);
        /* The hash index and the headers must agree; a mismatch is damage,
         * not a missing ledger. */
        if (ret == 1)
            ret = set_err(s, "%s %s: index names ledger %u, which is missing", op,
                          hexid(hx, hash), seq);
        else if (ret == 0 && memcmp(h->hash, hash, 32) != 0)
            ret = set_err(s, "%s %s: index names ledger %u, whose hash differs", op,
                          hexid(hx, hash), seq);
    }
    rtxn_put(s, txn);
    return ret;
}

int jn_store_first_seq(jn_store *s, uint32_t *seq)
{
    return header_edge(s, "first seq", MDB_FIRST, seq, NULL);
}

int jn_store_state_foreach(jn_store *s, jn_state_cb cb, void *ctx)
{
    const char *op = "state foreach";
    MDB_txn *txn;
    MDB_cursor *c;
    if (rtxn_get(s, op, &txn) != 0)
        return -1;
    int ret = 0;
    int rc = mdb_cursor_open(txn, s->state, &c);
    if (rc != 0) {
        ret = mdb_err(s, rc, "%s: cursor", op);
        goto out;
    }
    MDB_val k, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 32) {
            ret = set_err(s, "%s: state key of %zu bytes", op, k.mv_size);
            break;
        }
        ret = cb(ctx, k.mv_data, v.mv_data, v.mv_size);
        if (ret != 0)
            break;
    }
    if (ret == 0 && rc != MDB_NOTFOUND)
        ret = mdb_err(s, rc, "%s", op);
    mdb_cursor_close(c);
out:
    rtxn_put(s, txn);
    return ret;
}

/* Copies a value out for get_state/get_meta: 1 missing, -1 too small. */
static int copy_out(jn_store *s, int rc, const MDB_val *v, void *out, size_t cap, size_t *len,
                    const char *what)
{
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc != 0)
        return mdb_err(s, rc, "%s", what);
    if (len)
        *len = v->mv_size;
    if (v->mv_size > cap)
        return set_err(s, "%s: value is %zu bytes, buffer holds %zu", what, v->mv_size, cap);
    if (v->mv_size)
        memcpy(out, v->mv_data, v->mv_size);
    return 0;
}

int jn_store_get_state(jn_store *s, const uint8_t id[32], uint8_t *out, size_t cap, size_t *len)
{
    char what[64], hx[17];
    snprintf(what, sizeof what, "get state %s", hexid(hx, id));
    MDB_txn *txn;
    if (rtxn_get(s, what, &txn) != 0)
        return -1;
    MDB_val k = {32, (void *)id}, v;
    int rc = mdb_get(txn, s->state, &k, &v);
    int ret = copy_out(s, rc, &v, out, cap, len, what);
    rtxn_put(s, txn);
    return ret;
}

int jn_store_get_meta(jn_store *s, const char *key, void *out, size_t cap, size_t *len)
{
    size_t kl = key ? strlen(key) : 0;
    if (kl == 0 || kl > META_KEY_MAX)
        return set_err(s, "get meta: key is %zu bytes, must be 1..%d", kl, META_KEY_MAX);
    char what[96];
    snprintf(what, sizeof what, "get meta %s", key);
    MDB_txn *txn;
    if (rtxn_get(s, what, &txn) != 0)
        return -1;
    MDB_val k = {kl, (void *)key}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    int ret = copy_out(s, rc, &v, out, cap, len, what);
    rtxn_put(s, txn);
    return ret;
}

/* Looks up one transaction in `txn` and hands it to cb. 1 if absent. */
static int tx_deliver(jn_store *s, MDB_txn *txn, const char *op, const uint8_t id[32],
                      jn_tx_cb cb, void *ctx)
{
    MDB_val k = {32, (void *)id}, v;
    char hx[17];
    int rc = mdb_get(txn, s->txs, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc != 0)
        return mdb_err(s, rc, "%s: tx %s", op, hexid(hx, id));
    jn_txrec t;
    if (txrec_decode(s, op, id, &v, &t) != 0)
        return -1;
    /* The callback's own non-zero result is passed through untouched, and
     * so is any message it left. */
    return cb(ctx, &t);
}

int jn_store_get_tx(jn_store *s, const uint8_t id[32], jn_tx_cb cb, void *ctx)
{
    MDB_txn *txn;
    if (rtxn_get(s, "get tx", &txn) != 0)
        return -1;
    int ret = tx_deliver(s, txn, "get tx", id, cb, ctx);
    rtxn_put(s, txn);
    return ret;
}

/* An index entry naming a transaction that is not stored is damage. */
static int tx_deliver_indexed(jn_store *s, MDB_txn *txn, const char *op, const MDB_val *v,
                              uint32_t seq, uint32_t index, jn_tx_cb cb, void *ctx)
{
    if (v->mv_size != 32)
        return set_err(s, "%s: ledger %u index %u: entry of %zu bytes, want 32", op, seq, index,
                       v->mv_size);
    int ret = tx_deliver(s, txn, op, v->mv_data, cb, ctx);
    if (ret == 1) {
        char hx[17];
        return set_err(s, "%s: ledger %u index %u names tx %s, which is missing", op, seq,
                       index, hexid(hx, v->mv_data));
    }
    return ret;
}

int jn_store_ledger_txs(jn_store *s, uint32_t seq, jn_tx_cb cb, void *ctx)
{
    char op[40];
    snprintf(op, sizeof op, "ledger txs %u", seq);
    MDB_txn *txn;
    MDB_cursor *c;
    if (rtxn_get(s, op, &txn) != 0)
        return -1;
    int ret = 0;
    int rc = mdb_cursor_open(txn, s->ltx, &c);
    if (rc != 0) {
        ret = mdb_err(s, rc, "%s: cursor", op);
        goto out;
    }
    uint8_t key[LTX_KEY_LEN];
    be32(key, seq);
    be32(key + 4, 0);
    MDB_val k = {sizeof key, key}, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != LTX_KEY_LEN) {
            ret = set_err(s, "%s: ltx key of %zu bytes", op, k.mv_size);
            break;
        }
        const uint8_t *kp = k.mv_data;
        if (get32(kp) != seq)
            break;
        ret = tx_deliver_indexed(s, txn, op, &v, seq, get32(kp + 4), cb, ctx);
        if (ret != 0)
            break;
    }
    if (ret == 0 && rc != 0 && rc != MDB_NOTFOUND)
        ret = mdb_err(s, rc, "%s", op);
    mdb_cursor_close(c);
out:
    rtxn_put(s, txn);
    return ret;
}

/*
 * Keys are account|seq|index big-endian, so one account's entries are
 * contiguous and in (seq, index) order. The walk starts at the marker (or
 * the range end), clamped to [min_seq, max_seq], and moves one entry at a
 * time; the entry found after `limit` deliveries is the resume marker, so a
 * page boundary neither skips nor repeats an entry. limit 0 means no limit.
 */
int jn_store_account_tx(jn_store *s, const uint8_t account[20], uint32_t min_seq,
                        uint32_t max_seq, bool forward, bool has_start, uint32_t start_seq,
                        uint32_t start_index, unsigned limit, jn_tx_cb cb, void *ctx,
                        bool *more, uint32_t *next_seq, uint32_t *next_index)
{
    const char *op = "account tx";
    if (more)
        *more = false;
    if (next_seq)
        *next_seq = 0;
    if (next_index)
        *next_index = 0;

    /* First position in walk order. */
    uint32_t seq0, idx0;
    if (forward) {
        if (!has_start || start_seq < min_seq) {
            seq0 = min_seq;
            idx0 = 0;
        } else {
            seq0 = start_seq;
            idx0 = start_index;
        }
        if (seq0 > max_seq)
            return 0;
    } else {
        if (!has_start || start_seq > max_seq) {
            seq0 = max_seq;
            idx0 = UINT32_MAX;
        } else {
            seq0 = start_seq;
            idx0 = start_index;
        }
        if (seq0 < min_seq)
            return 0;
    }

    MDB_txn *txn;
    MDB_cursor *c;
    if (rtxn_get(s, op, &txn) != 0)
        return -1;
    int ret = 0;
    int rc = mdb_cursor_open(txn, s->acctx, &c);
    if (rc != 0) {
        ret = mdb_err(s, rc, "%s: cursor", op);
        goto out;
    }
    uint8_t key[ACCTX_KEY_LEN];
    memcpy(key, account, 20);
    be32(key + 20, seq0);
    be32(key + 24, idx0);
    MDB_val k = {sizeof key, key}, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); /* first key >= start */
    if (!forward) {
        /* Walking down: the start is the last key <= it. */
        if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
        else if (rc == 0 && (k.mv_size != sizeof key || memcmp(k.mv_data, key, sizeof key) != 0))
            rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
    }
    unsigned n = 0;
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, forward ? MDB_NEXT : MDB_PREV)) {
        const uint8_t *kp = k.mv_data;
        if (k.mv_size != ACCTX_KEY_LEN) {
            ret = set_err(s, "%s: acctx key of %zu bytes", op, k.mv_size);
            break;
        }
        if (memcmp(kp, account, 20) != 0)
            break; /* walked past this account's entries */
        uint32_t seq = get32(kp + 20), index = get32(kp + 24);
        if (forward ? seq > max_seq : seq < min_seq)
            break;
        if (limit != 0 && n == limit) {
            if (more)
                *more = true;
            if (next_seq)
                *next_seq = seq;
            if (next_index)
                *next_index = index;
            break;
        }
        ret = tx_deliver_indexed(s, txn, op, &v, seq, index, cb, ctx);
        if (ret != 0)
            break;
        n++;
    }
    if (ret == 0 && rc != 0 && rc != MDB_NOTFOUND)
        ret = mdb_err(s, rc, "%s", op);
    mdb_cursor_close(c);
out:
    rtxn_put(s, txn);
    return ret;
}

int jn_store_disk_bytes(jn_store *s, uint64_t *bytes)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(s->env, &info);
    if (rc != 0)
        return mdb_err(s, rc, "disk bytes: env info");
    rc = mdb_env_stat(s->env, &st);
    if (rc != 0)
        return mdb_err(s, rc, "disk bytes: env stat");
    *bytes = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    return 0;
}
