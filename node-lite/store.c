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
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datadir.h"

#define STORE_FORMAT 2 /* the table layout of store.h; kept in meta "format" */
#define HEADER_VERSION 1
#define HEADER_LEN 155 /* see header_encode */
#define TXREC_FIXED 36 /* tx ID, u32 blob length */
#define TX_KEY_LEN 8   /* u32 seq, u32 index */
#define HIST_KEY_LEN 24 /* u32 seq, AccountID */
#define META_KEY_MAX 64
#define ERR_CAP 1024 /* room for a path and what to do (disk full) */
#define RTXN_POOL 8
#define DEFAULT_MAP_SIZE ((uint64_t)64 << 30)

/* What a batch knows about the highest key of a table it appends to. */
enum tail { TAIL_UNKNOWN, TAIL_EMPTY, TAIL_KNOWN };

struct jn_batch {
    jn_store *s;
    MDB_txn *txn; /* NULL when the batch is not open */
    bool failed;
    char first_err[ERR_CAP]; /* why the batch failed, reported again by commit */
    /* tx and headers keys grow with the ledger sequence, so they can
     * usually be written with MDB_APPEND (no search, pages filled instead of
     * split in half). The current highest key decides when that is safe. */
    enum tail tx_tail;
    uint8_t tx_last[TX_KEY_LEN];
    enum tail hdr_tail;
    uint32_t hdr_last;
    /* Account-history entries, gathered and written at commit (one hist
     * record per account and ledger). */
    struct hist_ent *hist;
    size_t nhist, hist_cap;
    /* The batch's transaction IDs, for `txid` (see struct jn_store). */
    struct id_ent *ids;
    size_t nids, ids_cap;
};

struct hist_ent {
    uint8_t account[20];
    uint32_t seq, index;
};

/* A transaction ID and where its record is. */
struct id_ent {
    uint8_t id[32];
    uint32_t seq, index;
};

/* The IDs of committed transactions not yet in `txid`: their entries, and
 * an open-addressing table of entry numbers (+1, 0 = free) by ID. */
typedef struct idtab {
    struct id_ent *v;
    size_t n, cap;
    uint32_t *slot;
    size_t nslot; /* a power of two, at least twice n */
} idtab;

struct jn_store {
    MDB_env *env;
    int dirfd; /* the store's directory, flock()ed while the store is open */
    char *dir; /* its path, for messages and for the free space of its disk */
    MDB_dbi state, headers, lhash, tx, txid, hist, head, meta;
    pthread_mutex_t mu; /* guards pool, npool, writing, err */
    MDB_txn *pool[RTXN_POOL];
    int npool;
    bool writing; /* the batch is claimed */
    jn_batch batch;
    /* The ID index is written in batches: a ledger's IDs land on random
     * pages of `txid`, and as the table grows each insert copies and writes
     * a page of its own (the write cost would grow with the history). The
     * IDs of committed ledgers after meta "txid_upto" are kept in `recent`
     * (rebuilt from the append-only `tx` table at open) and written in one
     * sorted pass with the commit that brings them to `txid_batch`. */
    pthread_mutex_t idx_mu; /* guards recent (written by the batch's thread only) */
    idtab recent;
    uint32_t txid_upto;
    size_t txid_batch;
    char err[ERR_CAP]; /* last failure on any thread; see jn_store_errmsg */
};

/* ------------------------------------------------------- recent tx IDs */

#define TXID_BATCH 131072 /* IDs gathered before one sorted write (about 5 busy ledgers) */

static size_t id_home(const uint8_t id[32], size_t nslot)
{
    uint64_t h;
    memcpy(&h, id, 8);
    return (size_t)(h & (nslot - 1));
}

static const struct id_ent *idtab_find(const idtab *t, const uint8_t id[32])
{
    if (!t->nslot)
        return NULL;
    for (size_t i = id_home(id, t->nslot);; i = (i + 1) & (t->nslot - 1)) {
        uint32_t k = t->slot[i];
        if (!k)
            return NULL;
        if (!memcmp(t->v[k - 1].id, id, 32))
            return &t->v[k - 1];
    }
}

/* Adds entries (an ID already there is replaced). -1 on ENOMEM, t unchanged
 * but possibly grown. */
static int idtab_add(idtab *t, const struct id_ent *e, size_t n)
{
    if (t->n + n > UINT32_MAX - 1)
        return -1;
    if (t->n + n > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->n + n)
            cap *= 2;
        struct id_ent *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    if (2 * (t->n + n) > t->nslot) {
        size_t ns = t->nslot ? t->nslot : 2048;
        while (ns < 2 * (t->n + n))
            ns *= 2;
        uint32_t *sl = calloc(ns, sizeof *sl);
        if (!sl)
            return -1;
        for (size_t k = 0; k < t->n; k++) {
            size_t i = id_home(t->v[k].id, ns);
            while (sl[i])
                i = (i + 1) & (ns - 1);
            sl[i] = (uint32_t)k + 1;
        }
        free(t->slot);
        t->slot = sl;
        t->nslot = ns;
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = id_home(e[k].id, t->nslot);
        while (t->slot[i] && memcmp(t->v[t->slot[i] - 1].id, e[k].id, 32))
            i = (i + 1) & (t->nslot - 1);
        if (t->slot[i]) {
            t->v[t->slot[i] - 1] = e[k];
            continue;
        }
        t->v[t->n] = e[k];
        t->slot[i] = (uint32_t)++t->n;
    }
    return 0;
}

static void idtab_clear(idtab *t, bool release)
{
    if (release) {
        free(t->v);
        free(t->slot);
        memset(t, 0, sizeof *t);
        return;
    }
    t->n = 0;
    if (t->slot)
        memset(t->slot, 0, t->nslot * sizeof *t->slot);
}

static int id_cmp(const void *x, const void *y)
{
    return memcmp(((const struct id_ent *)x)->id, ((const struct id_ent *)y)->id, 32);
}

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

/*
 * The text for LMDB's return code `rc`: LMDB's own, but for a write that
 * failed for want of space, which says so and what to do. A full store (its
 * map size reached) and a full disk (ENOSPC, EDQUOT, or EIO with no space
 * left: mdb_txn_commit returns the errno of its write or fsync) are both
 * cleared by the operator, never by retrying; LMDB keeps nothing of the
 * failed transaction, so the last committed one is where a restart resumes.
 */
static const char *rc_text(jn_store *s, int rc, char *buf, size_t cap)
{
    static const char next[] =
        "nothing of this write was kept; then start jt-node again: it continues from the last "
        "ledger written";
    if (rc == MDB_MAP_FULL) {
        MDB_envinfo info;
        size_t map = mdb_env_info(s->env, &info) == 0 ? info.me_mapsize : 0;
        snprintf(buf, cap,
                 "store full (the store in %s reached its map size of %zu bytes, MDB_MAP_FULL); "
                 "raise %s in jt-node.conf (the disk must have room for it too); %s",
                 s->dir, map, JN_STORE_MAP_SIZE_SETTING, next);
        return buf;
    }
    if (rc == ENOSPC || rc == EDQUOT || rc == EIO) {
        char why[512];
        if (!srv_datadir_write_error(s->dir, rc, why, sizeof why)) {
            snprintf(buf, cap, "%s", why);
            return buf;
        }
        snprintf(buf, cap,
                 "%s; free space on that disk, or stop and move the data directory to a larger "
                 "one; %s",
                 why, next);
        return buf;
    }
    return mdb_strerror(rc);
}

/* "<what>: <LMDB's text>", e.g. "put header 12: MDB_BAD_TXN: ...". */
__attribute__((format(printf, 3, 4))) static int mdb_err(jn_store *s, int rc, const char *fmt,
                                                         ...)
{
    char what[ERR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char text[ERR_CAP];
    return set_err(s, "%s: %s", what, rc_text(s, rc, text, sizeof text));
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

/* tx value (key u32 seq, u32 index): tx ID, u32 blob length, blob, meta. */
static int txrec_decode(jn_store *s, const char *op, uint32_t seq, uint32_t index,
                        const MDB_val *v, jn_txrec *t)
{
    const uint8_t *p = v->mv_data;
    if (v->mv_size < TXREC_FIXED)
        return set_err(s, "%s: tx at ledger %u index %u: record is %zu bytes, shorter than its "
                       "fixed part", op, seq, index, v->mv_size);
    size_t blob_len = get32(p + 32);
    if (blob_len > v->mv_size - TXREC_FIXED)
        return set_err(s, "%s: tx at ledger %u index %u: blob length %zu overruns the %zu-byte "
                       "record", op, seq, index, blob_len, v->mv_size);
    memcpy(t->id, p, 32);
    t->seq = seq;
    t->index = index;
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

/*
 * The layout the store is in: the meta table's "format" value, or for a store
 * without one, 1 when it holds the first layout's tables (transactions keyed
 * by ID) and STORE_FORMAT when it is new. Only reads; MDB_NOTFOUND is not an
 * error here.
 */
static int store_format(MDB_txn *txn, uint32_t *format)
{
    MDB_dbi dbi;
    int rc = mdb_dbi_open(txn, "meta", 0, &dbi);
    if (rc == 0) {
        MDB_val k = {6, (void *)"format"}, v;
        rc = mdb_get(txn, dbi, &k, &v);
        if (rc == 0) {
            *format = v.mv_size == 4 ? get32(v.mv_data) : 0;
            return 0;
        }
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    rc = mdb_dbi_open(txn, "txs", 0, &dbi);
    if (rc == MDB_NOTFOUND) {
        *format = STORE_FORMAT;
        return 0;
    }
    if (rc == 0)
        *format = 1;
    return rc;
}

/*
 * At open (in its write transaction): how far `txid` goes, and the IDs of
 * the transactions after that, read back from `tx` (a crash loses only what
 * memory held). A store without "txid_upto" (written before the index was
 * batched, or new) has every stored ID in `txid`: the mark is set to its
 * last ledger.
 */
static int recent_ids_load(jn_store *s, MDB_txn *txn)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->tx, &c);
    if (rc != 0)
        return rc;
    MDB_val uk = {9, (void *)"txid_upto"}, uv, k, v;
    rc = mdb_get(txn, s->meta, &uk, &uv);
    if (rc == MDB_NOTFOUND) {
        rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
        s->txid_upto = rc == 0 && k.mv_size == TX_KEY_LEN ? get32(k.mv_data) : 0;
        uint8_t b[4];
        be32(b, s->txid_upto);
        uv = (MDB_val){4, b};
        rc = rc == 0 || rc == MDB_NOTFOUND ? mdb_put(txn, s->meta, &uk, &uv, 0) : rc;
        mdb_cursor_close(c);
        return rc;
    }
    if (rc != 0 || uv.mv_size != 4) {
        mdb_cursor_close(c);
        return rc ? rc : MDB_CORRUPTED;
    }
    s->txid_upto = get32(uv.mv_data);
    uint8_t from[TX_KEY_LEN];
    be32(from, s->txid_upto + 1);
    be32(from + 4, 0);
    k = (MDB_val){TX_KEY_LEN, from};
    if (s->txid_upto == UINT32_MAX) {
        mdb_cursor_close(c);
        return 0;
    }
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != TX_KEY_LEN || v.mv_size < 32) {
            rc = MDB_CORRUPTED;
            break;
        }
        struct id_ent e;
        memcpy(e.id, v.mv_data, 32);
        e.seq = get32(k.mv_data);
        e.index = get32((const uint8_t *)k.mv_data + 4);
        if (idtab_add(&s->recent, &e, 1)) {
            rc = ENOMEM;
            break;
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
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
    /* LMDB lets several processes write one environment (its writers take
     * turns), but jt-node keeps the ledger it appends to in memory: a second
     * writer would overwrite headers the first one wrote. So a store has one
     * user at a time, whoever opens it (jt-node's data directory lock is
     * taken before this; this one also covers other programs and tests). A
     * flock dies with its process, so a killed node leaves nothing to clear. */
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        snprintf(err, errcap, "open store %s: %s", dir, strerror(errno));
        return -1;
    }
    if (flock(dirfd, LOCK_EX | LOCK_NB) != 0) {
        int er = errno;
        close(dirfd);
        if (er == EWOULDBLOCK)
            snprintf(err, errcap, "open store %s: it is open in another process (or handle)", dir);
        else
            snprintf(err, errcap, "open store %s: lock: %s", dir, strerror(er));
        return -1;
    }

    jn_store *s = calloc(1, sizeof *s);
    if (!s) {
        close(dirfd);
        snprintf(err, errcap, "open store: out of memory");
        return -1;
    }
    s->dirfd = dirfd;
    s->dir = strdup(dir);
    if (!s->dir) {
        close(dirfd);
        free(s);
        snprintf(err, errcap, "open store: out of memory");
        return -1;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        close(dirfd);
        free(s->dir);
        free(s);
        snprintf(err, errcap, "open store: cannot create mutex");
        return -1;
    }
    if (pthread_mutex_init(&s->idx_mu, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        close(dirfd);
        free(s->dir);
        free(s);
        snprintf(err, errcap, "open store: cannot create mutex");
        return -1;
    }
    s->batch.s = s;
    s->txid_batch = TXID_BATCH;

    if (map_size == 0)
        map_size = SIZE_MAX > DEFAULT_MAP_SIZE ? (size_t)DEFAULT_MAP_SIZE : (size_t)1 << 30;

    const char *step = "mdb_env_create";
    int rc = mdb_env_create(&s->env);
    if (rc == 0) {
        step = "mdb_env_set_maxdbs";
        rc = mdb_env_set_maxdbs(s->env, 8);
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
        {"tx", &s->tx},       {"txid", &s->txid},       {"hist", &s->hist},
        {"head", &s->head},   {"meta", &s->meta},
    };
    uint32_t format = 0;
    if (rc == 0) {
        /* A store written with another table layout is refused by name
         * before anything is created in it. */
        step = "format";
        rc = store_format(txn, &format);
        if (rc == 0 && format != STORE_FORMAT) {
            snprintf(err, errcap,
                     "open store %s: its data is in store format %u, this jt-node reads format "
                     "%d; keep the directory for the jt-node that wrote it, or start a new one "
                     "with jt-node init",
                     dir, format, STORE_FORMAT);
            mdb_txn_abort(txn);
            mdb_env_close(s->env);
            pthread_mutex_destroy(&s->idx_mu);
            pthread_mutex_destroy(&s->mu);
            close(dirfd);
            free(s->dir);
            free(s);
            return -1;
        }
    }
    for (size_t i = 0; rc == 0 && i < sizeof dbs / sizeof dbs[0]; i++) {
        step = dbs[i].name;
        rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE, dbs[i].dbi);
    }
    if (rc == 0) {
        step = "format";
        uint8_t fv[4];
        be32(fv, STORE_FORMAT);
        MDB_val fk = {6, (void *)"format"}, fval = {4, fv};
        rc = mdb_put(txn, s->meta, &fk, &fval, 0);
    }
    if (rc == 0) {
        step = "transaction-ID index";
        rc = recent_ids_load(s, txn);
    }
    if (rc == 0) {
        step = "commit";
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (rc != 0) {
        /* Opening writes too (the format value, the ID index mark): a full
         * disk or store is reported as such here as well. */
        char text[ERR_CAP];
        snprintf(err, errcap, "open store %s: %s: %s", dir, step,
                 s->env ? rc_text(s, rc, text, sizeof text) : mdb_strerror(rc));
        if (txn)
            mdb_txn_abort(txn);
        if (s->env)
            mdb_env_close(s->env); /* required even after a failed mdb_env_open */
        idtab_clear(&s->recent, true);
        pthread_mutex_destroy(&s->idx_mu);
        pthread_mutex_destroy(&s->mu);
        close(dirfd);
        free(s->dir);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void jn_store_set_txid_batch(jn_store *s, size_t n)
{
    s->txid_batch = n ? n : 1;
}

void jn_store_close(jn_store *s)
{
    if (!s)
        return;
    if (s->batch.txn)
        mdb_txn_abort(s->batch.txn);
    free(s->batch.hist);
    for (int i = 0; i < s->npool; i++)
        mdb_txn_abort(s->pool[i]);
    mdb_env_close(s->env);
    free(s->batch.ids);
    idtab_clear(&s->recent, true);
    pthread_mutex_destroy(&s->idx_mu);
    pthread_mutex_destroy(&s->mu);
    close(s->dirfd); /* after the environment: releases the store's lock */
    free(s->dir);
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
    b->nhist = 0;
    b->nids = 0;
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
    b->tx_tail = TAIL_UNKNOWN;
    b->nhist = 0;
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
    char text[ERR_CAP];
    if (rc != 0)
        set_err(b->s, "%s: %s", what, rc_text(b->s, rc, text, sizeof text));
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

    if (b->tx_tail == TAIL_UNKNOWN) {
        MDB_val last;
        bool empty;
        if (tail_load(b, s->tx, "put tx", &last, &empty) != 0)
            return -1;
        if (!empty && last.mv_size != TX_KEY_LEN)
            return batch_fail(b, 0, "put tx %s: tx key of %zu bytes in store", hexid(hx, t->id),
                              last.mv_size);
        b->tx_tail = empty ? TAIL_EMPTY : TAIL_KNOWN;
        if (!empty)
            memcpy(b->tx_last, last.mv_data, TX_KEY_LEN);
    }
    uint8_t key[TX_KEY_LEN];
    be32(key, t->seq);
    be32(key + 4, t->index);
    bool append = b->tx_tail == TAIL_EMPTY || memcmp(key, b->tx_last, TX_KEY_LEN) > 0;

    /* MDB_RESERVE lets the record be assembled in place in the map instead
     * of in a per-transaction buffer; in ledger order the records fill pages
     * one after another (MDB_APPEND). */
    MDB_val k = {TX_KEY_LEN, key};
    MDB_val v = {TXREC_FIXED + t->blob_len + t->meta_len, NULL};
    int rc = mdb_put(b->txn, s->tx, &k, &v, MDB_RESERVE | (append ? MDB_APPEND : 0));
    if (rc != 0)
        return batch_fail(b, rc, "put tx %s: ledger %u index %u", hexid(hx, t->id), t->seq,
                          t->index);
    uint8_t *p = v.mv_data;
    memcpy(p, t->id, 32);
    be32(p + 32, (uint32_t)t->blob_len);
    if (t->blob_len)
        memcpy(p + TXREC_FIXED, t->blob, t->blob_len);
    if (t->meta_len)
        memcpy(p + TXREC_FIXED + t->blob_len, t->meta, t->meta_len);
    if (append) {
        b->tx_tail = TAIL_KNOWN;
        memcpy(b->tx_last, key, TX_KEY_LEN);
    }

    if (b->nids == b->ids_cap) {
        size_t nc = b->ids_cap ? b->ids_cap * 2 : 1024;
        struct id_ent *nv = realloc(b->ids, nc * sizeof *nv);
        if (!nv)
            return batch_fail(b, 0, "put tx %s: ID index: out of memory", hexid(hx, t->id));
        b->ids = nv;
        b->ids_cap = nc;
    }
    struct id_ent *e = &b->ids[b->nids++];
    memcpy(e->id, t->id, 32);
    e->seq = t->seq;
    e->index = t->index;
    return 0;
}

int jn_batch_put_account_tx(jn_batch *b, const uint8_t account[20], uint32_t seq, uint32_t index,
                            const uint8_t id[32])
{
    (void)id; /* the tx record at (seq, index) names it */
    if (batch_usable(b, "put account tx") != 0)
        return -1;
    if (b->nhist == b->hist_cap) {
        size_t nc = b->hist_cap ? b->hist_cap * 2 : 256;
        struct hist_ent *nv = realloc(b->hist, nc * sizeof *nv);
        if (!nv) {
            char hx[17];
            return batch_fail(b, 0, "put account tx %s ledger %u index %u: out of memory",
                              hexid(hx, account), seq, index);
        }
        b->hist = nv;
        b->hist_cap = nc;
    }
    struct hist_ent *e = &b->hist[b->nhist++];
    memcpy(e->account, account, 20);
    e->seq = seq;
    e->index = index;
    return 0;
}

static int hist_cmp(const void *x, const void *y)
{
    const struct hist_ent *a = x, *b = y;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    int c = memcmp(a->account, b->account, 20);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

/*
 * Writes the gathered account history: for each (ledger, account) one hist
 * record "previous ledger of this account, then its indexes in this ledger",
 * and the account's head (its newest ledger). Keys lead with the ledger, so a
 * ledger's records are appended after the previous ledger's; only the small
 * head table takes keys in account order.
 */
static int hist_flush(jn_batch *b)
{
    jn_store *s = b->s;
    if (!b->nhist)
        return 0;
    qsort(b->hist, b->nhist, sizeof *b->hist, hist_cmp);
    MDB_val last;
    bool empty;
    if (tail_load(b, s->hist, "account history", &last, &empty) != 0)
        return -1;
    uint8_t tail[HIST_KEY_LEN];
    if (!empty) {
        if (last.mv_size != HIST_KEY_LEN)
            return batch_fail(b, 0, "account history: key of %zu bytes in store", last.mv_size);
        memcpy(tail, last.mv_data, HIST_KEY_LEN);
    }
    uint8_t *val = NULL;
    size_t cap = 0;
    int ret = 0;
    for (size_t i = 0; i < b->nhist && !ret;) {
        const struct hist_ent *e = &b->hist[i];
        size_t j = i + 1;
        while (j < b->nhist && b->hist[j].seq == e->seq && !memcmp(b->hist[j].account, e->account, 20))
            j++;
        char hx[17];
        uint32_t prev = 0;
        MDB_val hk = {20, (void *)e->account}, hv;
        int rc = mdb_get(b->txn, s->head, &hk, &hv);
        if (rc == 0 && hv.mv_size == 4)
            prev = get32(hv.mv_data);
        else if (rc == 0)
            ret = batch_fail(b, 0, "account history %s: head of %zu bytes", hexid(hx, e->account),
                             hv.mv_size);
        else if (rc != MDB_NOTFOUND)
            ret = batch_fail(b, rc, "account history %s: head", hexid(hx, e->account));
        if (!ret && prev >= e->seq)
            ret = batch_fail(b, 0, "account history %s: ledger %u written after ledger %u",
                             hexid(hx, e->account), e->seq, prev);
        if (ret)
            break;
        size_t need = 4 + 4 * (j - i);
        if (need > cap) {
            uint8_t *nv = realloc(val, need * 2);
            if (!nv) {
                ret = batch_fail(b, 0, "account history: out of memory");
                break;
            }
            val = nv;
            cap = need * 2;
        }
        be32(val, prev);
        size_t n = 0;
        for (size_t k = i; k < j; k++)
            if (k == i || b->hist[k].index != b->hist[k - 1].index)
                be32(val + 4 + 4 * n++, b->hist[k].index);
        uint8_t key[HIST_KEY_LEN];
        be32(key, e->seq);
        memcpy(key + 4, e->account, 20);
        bool append = empty || memcmp(key, tail, HIST_KEY_LEN) > 0;
        MDB_val k = {HIST_KEY_LEN, key}, v = {4 + 4 * n, val};
        rc = mdb_put(b->txn, s->hist, &k, &v, append ? MDB_APPEND : 0);
        if (rc != 0) {
            ret = batch_fail(b, rc, "account history %s ledger %u", hexid(hx, e->account), e->seq);
            break;
        }
        if (append) {
            empty = false;
            memcpy(tail, key, HIST_KEY_LEN);
        }
        uint8_t sv[4];
        be32(sv, e->seq);
        hv.mv_size = 4;
        hv.mv_data = sv;
        rc = mdb_put(b->txn, s->head, &hk, &hv, 0);
        if (rc != 0)
            ret = batch_fail(b, rc, "account history %s: head", hexid(hx, e->account));
        i = j;
    }
    free(val);
    b->nhist = 0;
    return ret;
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

static int txid_flush(jn_batch *b, uint32_t *upto);

int jn_store_commit(jn_batch *b)
{
    if (!b)
        return -1;
    if (!b->txn)
        return set_err(b->s, "commit: batch is not open");
    if (!b->failed)
        (void)hist_flush(b); /* a failure marks the batch */
    jn_store *s = b->s;
    bool flush = !b->failed && b->nids && s->recent.n + b->nids >= s->txid_batch;
    uint32_t upto = 0;
    if (flush)
        (void)txid_flush(b, &upto);
    MDB_txn *txn = b->txn;
    if (b->failed) {
        mdb_txn_abort(txn);
        batch_release(b);
        return set_err(s, "commit: batch failed earlier, nothing written: %s", b->first_err);
    }
    int rc = mdb_txn_commit(txn); /* frees txn on failure as well */
    if (rc == 0) {
        /* Readers look in `recent` before they take a snapshot, so an ID
         * leaves it only once the write that put it in `txid` is visible. */
        pthread_mutex_lock(&s->idx_mu);
        if (flush) {
            idtab_clear(&s->recent, s->recent.cap > 4 * s->txid_batch);
            s->txid_upto = upto;
        } else if (idtab_add(&s->recent, b->ids, b->nids)) {
            rc = -1;
        }
        pthread_mutex_unlock(&s->idx_mu);
    }
    batch_release(b);
    if (rc == -1)
        return set_err(s, "commit: out of memory indexing %zu transaction IDs (the ledger is "
                          "written; restart to rebuild the index)", b->nids);
    if (rc != 0)
        return mdb_err(s, rc, "commit");
    return 0;
}

/* Writes every ID of `recent` and of the batch into `txid`, sorted (pages in
 * order, each touched once), and records how far `txid` now goes. */
static int txid_flush(jn_batch *b, uint32_t *upto)
{
    jn_store *s = b->s;
    size_t n = s->recent.n + b->nids;
    struct id_ent *all = malloc(n * sizeof *all);
    if (!all)
        return batch_fail(b, 0, "ID index: out of memory for %zu IDs", n);
    if (s->recent.n)
        memcpy(all, s->recent.v, s->recent.n * sizeof *all);
    memcpy(all + s->recent.n, b->ids, b->nids * sizeof *all);
    qsort(all, n, sizeof *all, id_cmp);
    uint32_t top = s->txid_upto;
    int ret = 0;
    for (size_t i = 0; i < n && !ret; i++) {
        uint8_t key[TX_KEY_LEN];
        be32(key, all[i].seq);
        be32(key + 4, all[i].index);
        MDB_val ik = {32, all[i].id}, iv = {TX_KEY_LEN, key};
        int rc = mdb_put(b->txn, s->txid, &ik, &iv, 0);
        if (rc != 0) {
            char hx[17];
            ret = batch_fail(b, rc, "ID index %s", hexid(hx, all[i].id));
        }
        if (all[i].seq > top)
            top = all[i].seq;
    }
    free(all);
    if (ret)
        return ret;
    uint8_t uv[4];
    be32(uv, top);
    if (jn_batch_put_meta(b, "txid_upto", uv, 4))
        return -1;
    *upto = top;
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

/* Hands the transaction at (seq, index) to cb and returns what cb returns;
 * when there is none, sets *missing and returns 1. */
static int tx_at(jn_store *s, MDB_txn *txn, const char *op, uint32_t seq, uint32_t index,
                 jn_tx_cb cb, void *ctx, bool *missing)
{
    *missing = false;
    uint8_t key[TX_KEY_LEN];
    be32(key, seq);
    be32(key + 4, index);
    MDB_val k = {TX_KEY_LEN, key}, v;
    int rc = mdb_get(txn, s->tx, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *missing = true;
        return 1;
    }
    if (rc != 0)
        return mdb_err(s, rc, "%s: tx at ledger %u index %u", op, seq, index);
    jn_txrec t;
    if (txrec_decode(s, op, seq, index, &v, &t) != 0)
        return -1;
    /* The callback's own non-zero result is passed through untouched, and
     * so is any message it left. */
    return cb(ctx, &t);
}

typedef struct id_check {
    const uint8_t *id;
    jn_tx_cb cb;
    void *ctx;
    bool mismatch;
} id_check;

static int id_check_cb(void *ctx, const jn_txrec *t)
{
    id_check *ic = ctx;
    if (memcmp(t->id, ic->id, 32) != 0) {
        ic->mismatch = true;
        return -1;
    }
    return ic->cb(ic->ctx, t);
}

int jn_store_get_tx(jn_store *s, const uint8_t id[32], jn_tx_cb cb, void *ctx)
{
    const char *op = "get tx";
    /* Recent IDs first, then a snapshot (see jn_store_commit). */
    pthread_mutex_lock(&s->idx_mu);
    const struct id_ent *e = idtab_find(&s->recent, id);
    struct id_ent found;
    memset(&found, 0, sizeof found);
    if (e)
        found = *e;
    pthread_mutex_unlock(&s->idx_mu);
    MDB_txn *txn;
    if (rtxn_get(s, op, &txn) != 0)
        return -1;
    char hx[17];
    int ret;
    uint8_t loc[TX_KEY_LEN];
    MDB_val k = {32, (void *)id}, v;
    int rc;
    if (e) {
        be32(loc, found.seq);
        be32(loc + 4, found.index);
        v = (MDB_val){TX_KEY_LEN, loc};
        rc = 0;
    } else {
        rc = mdb_get(txn, s->txid, &k, &v);
    }
    if (rc == MDB_NOTFOUND) {
        ret = 1;
    } else if (rc != 0) {
        ret = mdb_err(s, rc, "%s %s", op, hexid(hx, id));
    } else if (v.mv_size != TX_KEY_LEN) {
        ret = set_err(s, "%s %s: index value of %zu bytes", op, hexid(hx, id), v.mv_size);
    } else {
        uint32_t seq = get32(v.mv_data), index = get32((const uint8_t *)v.mv_data + 4);
        id_check ic = {id, cb, ctx, false};
        bool missing;
        ret = tx_at(s, txn, op, seq, index, id_check_cb, &ic, &missing);
        /* The ID index and the records must agree; a mismatch is damage,
         * not a missing transaction. */
        if (missing)
            ret = set_err(s, "%s %s: index names ledger %u index %u, which is missing", op,
                          hexid(hx, id), seq, index);
        else if (ic.mismatch)
            ret = set_err(s, "%s %s: index names ledger %u index %u, which holds another "
                          "transaction", op, hexid(hx, id), seq, index);
    }
    rtxn_put(s, txn);
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
    int rc = mdb_cursor_open(txn, s->tx, &c);
    if (rc != 0) {
        ret = mdb_err(s, rc, "%s: cursor", op);
        goto out;
    }
    uint8_t key[TX_KEY_LEN];
    be32(key, seq);
    be32(key + 4, 0);
    MDB_val k = {sizeof key, key}, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != TX_KEY_LEN) {
            ret = set_err(s, "%s: tx key of %zu bytes", op, k.mv_size);
            break;
        }
        const uint8_t *kp = k.mv_data;
        if (get32(kp) != seq)
            break;
        jn_txrec t;
        ret = txrec_decode(s, op, seq, get32(kp + 4), &v, &t);
        if (ret == 0)
            ret = cb(ctx, &t);
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

/* One hist record: the account's previous ledger and its indexes in `seq`
 * (pointing into the map). 1 if absent. */
static int hist_get(jn_store *s, MDB_txn *txn, const char *op, const uint8_t account[20],
                    uint32_t seq, uint32_t *prev, const uint8_t **idx, size_t *n)
{
    uint8_t key[HIST_KEY_LEN];
    be32(key, seq);
    memcpy(key + 4, account, 20);
    MDB_val k = {HIST_KEY_LEN, key}, v;
    int rc = mdb_get(txn, s->hist, &k, &v);
    char hx[17];
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc != 0)
        return mdb_err(s, rc, "%s %s: ledger %u", op, hexid(hx, account), seq);
    if (v.mv_size < 8 || v.mv_size % 4 != 0)
        return set_err(s, "%s %s: ledger %u: history record of %zu bytes", op,
                       hexid(hx, account), seq, v.mv_size);
    *prev = get32(v.mv_data);
    if (*prev >= seq)
        return set_err(s, "%s %s: ledger %u: history goes on to ledger %u, not back", op,
                       hexid(hx, account), seq, *prev);
    *idx = (const uint8_t *)v.mv_data + 4;
    *n = v.mv_size / 4 - 1;
    return 0;
}

/* An account_tx walk in progress. */
typedef struct walk {
    jn_store *s;
    MDB_txn *txn;
    const uint8_t *account;
    bool forward, has_start;
    uint32_t start_seq, start_index;
    unsigned limit, delivered;
    jn_tx_cb cb;
    void *ctx;
    bool *more;
    uint32_t *next_seq, *next_index;
    bool stop; /* the page is full; the marker is set */
} walk;

/* Delivers one ledger's entries of the account (idx: n big-endian indexes,
 * ascending) in walk order, from the marker on. */
static int walk_ledger(walk *w, uint32_t seq, const uint8_t *idx, size_t n)
{
    for (size_t k = 0; k < n && !w->stop; k++) {
        uint32_t index = get32(idx + 4 * (w->forward ? k : n - 1 - k));
        if (w->has_start && seq == w->start_seq &&
            (w->forward ? index < w->start_index : index > w->start_index))
            continue;
        if (w->limit != 0 && w->delivered == w->limit) {
            if (w->more)
                *w->more = true;
            if (w->next_seq)
                *w->next_seq = seq;
            if (w->next_index)
                *w->next_index = index;
            w->stop = true;
            break;
        }
        bool missing;
        int ret = tx_at(w->s, w->txn, "account tx", seq, index, w->cb, w->ctx, &missing);
        if (missing) {
            char hx[17];
            return set_err(w->s, "account tx %s: history names ledger %u index %u, which is missing",
                           hexid(hx, w->account), seq, index);
        }
        if (ret)
            return ret;
        w->delivered++;
    }
    return 0;
}

/*
 * An account's history is a chain: the head table gives its newest ledger,
 * and each hist record the ledger before it. The walk goes down the chain
 * from the head to the first ledger <= the range end (or the marker), then
 * delivers entries in walk order; a forward walk first collects the ledgers
 * of the range, then goes through them oldest first. The entry found after
 * `limit` deliveries is the resume marker, so a page boundary neither skips
 * nor repeats an entry. limit 0 means no limit.
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

    /* The range in ledgers, and where in it the walk starts. */
    uint32_t lo = min_seq, hi = max_seq;
    if (has_start && forward && start_seq > lo)
        lo = start_seq;
    if (has_start && !forward && start_seq < hi)
        hi = start_seq;
    if (lo > hi)
        return 0;

    MDB_txn *txn;
    if (rtxn_get(s, op, &txn) != 0)
        return -1;
    char hx[17];
    int ret = 0;
    uint32_t *seqs = NULL;
    size_t nseqs = 0, capseqs = 0;
    MDB_val hk = {20, (void *)account}, hv;
    int rc = mdb_get(txn, s->head, &hk, &hv);
    if (rc == MDB_NOTFOUND)
        goto out;
    if (rc != 0) {
        ret = mdb_err(s, rc, "%s %s: head", op, hexid(hx, account));
        goto out;
    }
    if (hv.mv_size != 4) {
        ret = set_err(s, "%s %s: head of %zu bytes", op, hexid(hx, account), hv.mv_size);
        goto out;
    }

    /* Down the chain to the range, then (forward) through it. */
    walk w = {s, txn, account, forward, has_start, start_seq, start_index, limit, 0, cb, ctx,
              more, next_seq, next_index, false};
    for (uint32_t seq = get32(hv.mv_data); seq >= lo && seq && !w.stop && !ret;) {
        uint32_t prev;
        const uint8_t *idx;
        size_t n;
        int r = hist_get(s, txn, op, account, seq, &prev, &idx, &n);
        if (r == 1)
            r = set_err(s, "%s %s: history names ledger %u, which has no record", op,
                        hexid(hx, account), seq);
        if (r) {
            ret = r;
            break;
        }
        if (seq <= hi) {
            if (forward) {
                if (nseqs == capseqs) {
                    size_t nc = capseqs ? capseqs * 2 : 64;
                    uint32_t *nv = realloc(seqs, nc * sizeof *nv);
                    if (!nv) {
                        ret = set_err(s, "%s: out of memory", op);
                        break;
                    }
                    seqs = nv;
                    capseqs = nc;
                }
                seqs[nseqs++] = seq;
            } else {
                ret = walk_ledger(&w, seq, idx, n);
            }
        }
        seq = prev;
    }
    for (size_t k = nseqs; k-- > 0 && !w.stop && !ret;) {
        uint32_t seq = seqs[k], prev;
        const uint8_t *idx;
        size_t n;
        ret = hist_get(s, txn, op, account, seq, &prev, &idx, &n);
        if (!ret)
            ret = walk_ledger(&w, seq, idx, n);
    }
out:
    free(seqs);
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
