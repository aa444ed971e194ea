/*
 * txrec.c — submission records in arrival order and their batched indexes
 * (txrec.h).
 */
#include "txrec.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <jt/json.h>

#define UPTO_KEY "index_upto"
/* Keys per slice of an index write: one slice rides with each store
 * commit, beside the records and statuses of that commit. */
#define SLICE_KEYS 256
/* First-layout records converted per commit. */
#define MIGRATE_STEP 2048
#define CID_KEY_MAX 200
/* The longest wait before retrying a failed index write: 30 s of ticks. */
#define RETRY_MAX_TICKS 120

typedef struct ikey {
    const uint8_t *key;
    size_t kl;
    uint64_t no;
} ikey;

/* Keys to record numbers: open addressing with linear probing over slots
 * that point into one arena of key bytes, so that a key costs no
 * allocation of its own and a lookup touches a slot and its key. */
typedef struct tslot {
    uint64_t h;  /* the key's SipHash */
    uint64_t no; /* 0: a free slot */
    uint32_t off, kl;
} tslot;

typedef struct table {
    tslot *s;
    size_t cap, n; /* cap a power of two, n <= cap / 2 */
    uint8_t *arena;
    size_t used, acap;
} table;

/* The keys of a batch of records being written: their tables, and the
 * same keys sorted for the slices; read-only until the write ends. */
typedef struct frozen {
    table th, tc;
    ikey *h, *c;
    size_t nh, nc;
    size_t slices;
    uint64_t hi; /* the newest record among them */
} frozen;

enum { IDLE, WRITING, DONE, FAILED };

struct gw_txrec {
    gw_store *st;
    size_t batch;
    _Atomic uint64_t next;
    /* Loop thread. */
    uint64_t upto;
    table th, tc; /* the tail: hash / client id key -> record number */
    uint8_t sip[crypto_shorthash_KEYBYTES];
    size_t tail_n;
    uint64_t tail_hi;
    frozen fz;
    bool have_fz;
    /* After a failed slice: ticks to wait before the retry, doubling from
     * 2 (half a second) to RETRY_MAX_TICKS while it keeps failing (a full
     * disk), so the log gets a line per retry, not two a second. */
    unsigned retry_in, retry_wait;
    uint64_t writes, migrated;
    /* The writer's while an index write is under way. */
    size_t slice;
    _Atomic int state;
    atomic_bool stopping;
    /* The thread that sorts a frozen batch (start_write), joined by
     * gw_txrec_stop. */
    pthread_t sorter;
    bool have_sorter;
    /* The lowest record whose keys may be in neither the tail nor the
     * store (their direct write failed): index_upto stays below it, so the
     * next open reads it back. 0: none. */
    _Atomic uint64_t hole;
};

/* ------------------------------------------------------------ keys */

static void be64(uint64_t v, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t from_be64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | in[i];
    return v;
}

/* A record's index keys and whether it is pending. 0, or -1 when it is not
 * a submission record. */
static int rec_keys(const void *rec, size_t n, uint8_t hash[32], char *cid_key, size_t *kl,
                    bool *pending)
{
    jt_json_doc *doc;
    jt_errinfo ei;
    if (jt_json_parse(rec, n, NULL, &doc, &ei) != JT_OK)
        return -1;
    const jt_json *r = jt_json_root(doc);
    const char *h = jt_json_string(jt_json_get(r, "hash"));
    const char *a = jt_json_string(jt_json_get(r, "account"));
    const char *c = jt_json_string(jt_json_get(r, "client_id"));
    const char *st = jt_json_string(jt_json_get(r, "status"));
    size_t dl = 0, al = a ? strlen(a) : 0, cl = c ? strlen(c) : 0;
    int rc = -1;
    if (h && strlen(h) == 64 && jt_hex_decode(h, 64, hash, 32, &dl) == JT_OK && dl == 32 && al &&
        cl && al + 1 + cl <= CID_KEY_MAX) {
        memcpy(cid_key, a, al);
        cid_key[al] = 0;
        memcpy(cid_key + al + 1, c, cl);
        *kl = al + 1 + cl;
        *pending = st && !strcmp(st, "pending");
        rc = 0;
    }
    jt_json_doc_free(doc);
    return rc;
}

/* LMDB's default key order: bytes, then the shorter first. */
static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int ikey_cmp(const void *x, const void *y)
{
    const ikey *a = x, *b = y;
    return key_cmp(a->key, a->kl, b->key, b->kl);
}

/* ------------------------------------------------------------ tables */

static void table_free(table *t)
{
    free(t->s);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

static uint64_t key_hash(const gw_txrec *r, const void *key, size_t kl)
{
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, key, kl, r->sip);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

static tslot *table_slot(const table *t, uint64_t h, const void *key, size_t kl)
{
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        tslot *e = &t->s[i];
        if (!e->no || (e->h == h && e->kl == kl && !memcmp(t->arena + e->off, key, kl)))
            return e;
    }
}

static bool table_get(const table *t, uint64_t h, const void *key, size_t kl, uint64_t *no)
{
    if (!t->n)
        return false;
    const tslot *e = table_slot(t, h, key, kl);
    if (!e->no)
        return false;
    *no = e->no;
    return true;
}

static int table_grow(table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    tslot *s = calloc(cap, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->s[i].no)
            continue;
        size_t j = t->s[i].h & (cap - 1);
        while (s[j].no)
            j = (j + 1) & (cap - 1);
        s[j] = t->s[i];
    }
    free(t->s);
    t->s = s;
    t->cap = cap;
    return 0;
}

/* An empty table made room for as many slots and key bytes (powers of
 * two, as grown by table_put); left empty when that is not available. */
static void table_presize(table *t, size_t cap, size_t acap)
{
    if (!cap || !acap)
        return;
    t->s = calloc(cap, sizeof *t->s);
    t->arena = malloc(acap);
    if (!t->s || !t->arena) {
        table_free(t);
        return;
    }
    t->cap = cap;
    t->acap = acap;
}

/* 0, or -1 when out of memory (nothing changed). */
static int table_put(table *t, uint64_t h, const void *key, size_t kl, uint64_t no)
{
    if (t->used + kl > UINT32_MAX || ((t->n + 1) * 2 > t->cap && table_grow(t)))
        return -1; /* offsets are 32 bits */
    tslot *e = table_slot(t, h, key, kl);
    if (e->no) {
        e->no = no;
        return 0;
    }
    if (t->used + kl > t->acap) {
        size_t acap = t->acap ? t->acap * 2 : 64 << 10;
        while (acap < t->used + kl)
            acap *= 2;
        uint8_t *a = realloc(t->arena, acap);
        if (!a)
            return -1;
        t->arena = a;
        t->acap = acap;
    }
    memcpy(t->arena + t->used, key, kl);
    *e = (tslot){h, no, (uint32_t)t->used, (uint32_t)kl};
    t->used += kl;
    t->n++;
    return 0;
}

/* The keys of t, sorted, pointing into its arena. NULL when out of
 * memory. */
static ikey *table_sorted(const table *t)
{
    ikey *v = malloc((t->n ? t->n : 1) * sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->s[i].no)
            v[k++] = (ikey){t->arena + t->s[i].off, t->s[i].kl, t->s[i].no};
    qsort(v, k, sizeof *v, ikey_cmp);
    return v;
}

/* ------------------------------------------------------------ records */

uint64_t gw_txrec_number(gw_txrec *r)
{
    return atomic_fetch_add(&r->next, 1);
}

int gw_txrec_put_new(gw_batch *b, uint64_t no, const void *rec, size_t n, const void *blob,
                     size_t bl)
{
    uint8_t k[8];
    be64(no, k);
    return gw_batch_put(b, GW_RECORDS, k, 8, rec, n) ||
                   gw_batch_put(b, GW_RECS_PENDING, k, 8, bl ? blob : "", bl)
               ? -1
               : 0;
}

int gw_txrec_put_final(gw_batch *b, uint64_t no, const void *rec, size_t n)
{
    uint8_t k[8];
    be64(no, k);
    return gw_batch_put(b, GW_RECORDS, k, 8, rec, n) || gw_batch_del(b, GW_RECS_PENDING, k, 8) ? -1 : 0;
}

int gw_txrec_get(gw_txrec *r, uint64_t no, jt_buf *out, char *err, size_t errcap)
{
    uint8_t k[8];
    be64(no, k);
    return gw_store_get(r->st, GW_RECORDS, k, 8, out, err, errcap);
}

typedef struct pend_walk {
    gw_txrec *r;
    bool (*fn)(void *ctx, uint64_t no, const void *rec, size_t n, const void *blob, size_t bl);
    void *ctx;
    jt_buf rec;
    int rc;
    char *err;
    size_t errcap;
} pend_walk;

static bool pend_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    pend_walk *pw = ctx;
    if (kl != 8)
        return true;
    pw->rec.len = 0;
    int found = gw_store_get(pw->r->st, GW_RECORDS, k, 8, &pw->rec, pw->err, pw->errcap);
    if (found < 0) {
        pw->rc = -1;
        return false;
    }
    return found == 0 || pw->fn(pw->ctx, from_be64(k), pw->rec.data, pw->rec.len, v, vl);
}

int gw_txrec_each_pending(gw_txrec *r,
                          bool (*fn)(void *ctx, uint64_t no, const void *rec, size_t n,
                                     const void *blob, size_t bl),
                          void *ctx, char *err, size_t errcap)
{
    pend_walk pw = {r, fn, ctx, {0}, 0, err, errcap};
    jt_buf_init(&pw.rec);
    int rc = gw_store_scan(r->st, GW_RECS_PENDING, NULL, 0, pend_one, &pw, err, errcap);
    jt_buf_clear(&pw.rec);
    return rc || pw.rc ? -1 : 0;
}

/* ------------------------------------------------------------ index writes */

static void frozen_free(frozen *f)
{
    table_free(&f->th);
    table_free(&f->tc);
    free(f->h);
    free(f->c);
    memset(f, 0, sizeof *f);
}

static void queue_slice(gw_txrec *r);

/* The writer thread: a slice is durable (or not). */
static void slice_done(void *ctx, int rc, const char *err)
{
    gw_txrec *r = ctx;
    if (rc) {
        fprintf(stderr, "level=error mod=txrec event=index_write_failed why=\"%s\"\n", err);
        atomic_store(&r->state, FAILED);
        return;
    }
    if (++r->slice == r->fz.slices) {
        atomic_store(&r->state, DONE);
        return;
    }
    if (atomic_load(&r->stopping))
        return; /* resumes from the records at the next open */
    queue_slice(r);
}

/* Slice r->slice of the frozen keys (the hashes, then the client ids); the
 * last one moves index_upto. */
static void queue_slice(gw_txrec *r)
{
    const frozen *f = &r->fz;
    size_t hs = (f->nh + SLICE_KEYS - 1) / SLICE_KEYS, i = r->slice;
    const ikey *k = i < hs ? f->h + i * SLICE_KEYS : f->c + (i - hs) * SLICE_KEYS;
    size_t left = i < hs ? f->nh - i * SLICE_KEYS : f->nc - (i - hs) * SLICE_KEYS;
    size_t n = left < SLICE_KEYS ? left : SLICE_KEYS;
    gw_table t = i < hs ? GW_BY_HASH : GW_BY_CID;
    gw_batch *b = gw_batch_new();
    int rc = b ? 0 : -1;
    for (size_t j = 0; j < n && !rc; j++) {
        uint8_t v[8];
        be64(k[j].no, v);
        rc = gw_batch_put(b, t, k[j].key, k[j].kl, v, 8);
    }
    if (!rc && i + 1 == f->slices) {
        char v[24];
        int vl = snprintf(v, sizeof v, "%" PRIu64, f->hi);
        rc = gw_batch_put(b, GW_META, UPTO_KEY, strlen(UPTO_KEY), v, (size_t)vl);
    }
    if (rc) {
        gw_batch_free(b);
        fprintf(stderr, "level=error mod=txrec event=index_write_failed why=\"out of memory\"\n");
        atomic_store(&r->state, FAILED);
        return;
    }
    gw_store_commit_async(r->st, b, slice_done, r);
}

/* Sorts the frozen keys for the slices (FAILED when memory is short: the
 * retry sorts again), then queues the first slice. */
static void sort_and_queue(gw_txrec *r)
{
    frozen *f = &r->fz;
    if (!f->h || !f->c) {
        free(f->h);
        free(f->c);
        f->h = table_sorted(&f->th);
        f->c = table_sorted(&f->tc);
        if (!f->h || !f->c) {
            free(f->h);
            free(f->c);
            f->h = f->c = NULL;
            fprintf(stderr, "level=error mod=txrec event=index_write_failed why=\"out of memory\"\n");
            atomic_store(&r->state, FAILED);
            return;
        }
    }
    if (!atomic_load(&r->stopping))
        queue_slice(r);
}

/* Sorting 2 x 65 536 keys takes tens of milliseconds: not on the loop (a
 * request would wait for it) nor on the store's writer (a commit would),
 * but on a thread of its own, at a lower priority. The loop reads only the
 * frozen tables meanwhile, which do not change. */
static void *sorter_main(void *arg)
{
    gw_txrec *r = arg;
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    sort_and_queue(r);
    return NULL;
}

/* The tail becomes the frozen batch, written slice by slice from now on. */
static void start_write(gw_txrec *r)
{
    if (r->have_sorter) {
        pthread_join(r->sorter, NULL); /* long finished: it ran before the last write */
        r->have_sorter = false;
    }
    frozen f = {0};
    f.th = r->th;
    f.tc = r->tc;
    f.nh = r->th.n;
    f.nc = r->tc.n;
    f.slices = (f.nh + SLICE_KEYS - 1) / SLICE_KEYS + (f.nc + SLICE_KEYS - 1) / SLICE_KEYS;
    if (!f.slices)
        f.slices = 1;
    f.hi = r->tail_hi;
    uint64_t hole = atomic_load(&r->hole);
    if (hole && hole - 1 < f.hi)
        f.hi = hole - 1;
    memset(&r->th, 0, sizeof r->th);
    memset(&r->tc, 0, sizeof r->tc);
    /* The next tail starts at the size this one reached: it would double
     * its way there again, rehashing every key each time. Without the
     * memory it starts small, as the first did. */
    table_presize(&r->th, f.th.cap, f.th.acap);
    table_presize(&r->tc, f.tc.cap, f.tc.acap);
    r->tail_n = 0;
    r->fz = f;
    r->have_fz = true;
    r->slice = 0;
    atomic_store(&r->state, WRITING);
    if (pthread_create(&r->sorter, NULL, sorter_main, r) == 0)
        r->have_sorter = true;
    else
        sort_and_queue(r); /* no thread: here, once */
}

/* Loop thread: an index write that ended is put away; a full tail starts
 * the next. */
static void settle(gw_txrec *r)
{
    if (atomic_load(&r->state) == DONE) {
        r->upto = r->fz.hi;
        fprintf(stderr,
                "level=info mod=txrec event=index_written upto=%" PRIu64 " hashes=%zu client_ids=%zu\n",
                r->upto, r->fz.nh, r->fz.nc);
        frozen_free(&r->fz);
        r->have_fz = false;
        r->writes++;
        r->retry_wait = r->retry_in = 0;
        atomic_store(&r->state, IDLE);
    }
    if (atomic_load(&r->state) == IDLE && r->tail_n >= r->batch && !atomic_load(&r->stopping))
        start_write(r);
}

void gw_txrec_tick(gw_txrec *r)
{
    if (!r)
        return;
    if (atomic_load(&r->state) == FAILED && !atomic_load(&r->stopping)) {
        if (!r->retry_in) {
            r->retry_wait = r->retry_wait ? r->retry_wait * 2 : 2;
            if (r->retry_wait > RETRY_MAX_TICKS)
                r->retry_wait = RETRY_MAX_TICKS;
            r->retry_in = r->retry_wait;
        } else if (--r->retry_in == 0) {
            atomic_store(&r->state, WRITING);
            sort_and_queue(r);
        }
    }
    settle(r);
}

/* ------------------------------------------------------------ the tail */

static void hole_at(gw_txrec *r, uint64_t no)
{
    uint64_t h = atomic_load(&r->hole);
    while ((!h || no < h) && !atomic_compare_exchange_weak(&r->hole, &h, no))
        ;
}

typedef struct direct {
    gw_txrec *r;
    uint64_t no;
} direct;

/* The writer thread. */
static void direct_done(void *ctx, int rc, const char *err)
{
    direct *d = ctx;
    if (rc) {
        fprintf(stderr,
                "level=error mod=txrec event=index_write_failed record=%" PRIu64 " why=\"%s\"\n",
                d->no, err);
        hole_at(d->r, d->no);
    }
    free(d);
}

/* Keys written at once, outside the batches (a record noted out of order,
 * or no memory for the tail). */
static void write_direct(gw_txrec *r, uint64_t no, const uint8_t hash[32], const char *cid_key,
                         size_t kl)
{
    uint8_t v[8];
    be64(no, v);
    gw_batch *b = gw_batch_new();
    direct *d = malloc(sizeof *d);
    if (!b || !d || gw_batch_put(b, GW_BY_HASH, hash, 32, v, 8) ||
        gw_batch_put(b, GW_BY_CID, cid_key, kl, v, 8)) {
        gw_batch_free(b);
        free(d);
        fprintf(stderr,
                "level=error mod=txrec event=index_write_failed record=%" PRIu64
                " why=\"out of memory\"\n",
                no);
        hole_at(r, no);
        return;
    }
    *d = (direct){r, no};
    gw_store_commit_async(r->st, b, direct_done, d);
}

static int tail_put(gw_txrec *r, uint64_t no, const uint8_t hash[32], const char *cid_key,
                    size_t kl)
{
    /* A hash is already uniform: its first bytes are its table hash. */
    uint64_t hh;
    memcpy(&hh, hash, sizeof hh);
    if (table_put(&r->th, hh, hash, 32, no) ||
        table_put(&r->tc, key_hash(r, cid_key, kl), cid_key, kl, no))
        return -1; /* a hash put alone is harmless: the same key, the same number */
    r->tail_n++;
    if (no > r->tail_hi)
        r->tail_hi = no;
    return 0;
}

int gw_txrec_note(gw_txrec *r, uint64_t no, const uint8_t hash[32], const char *cid_key,
                  size_t kl)
{
    settle(r);
    /* Records are noted in the order they were committed, which is their
     * numbers' order; one that is not would be missed by the batch it
     * belongs to and by the reading back at open. */
    bool behind = no <= r->upto || (r->have_fz && no <= r->fz.hi);
    int rc = tail_put(r, no, hash, cid_key, kl);
    if (atomic_load(&r->stopping)) {
        /* The store may be closing: nothing more is queued. The record is
         * after any index_upto still to be written, so the next open reads
         * it back. */
        if (rc || behind)
            hole_at(r, no);
    } else if (rc || behind) {
        write_direct(r, no, hash, cid_key, kl);
    }
    settle(r);
    return rc;
}

static int lookup(gw_txrec *r, bool by_hash, const void *key, size_t kl, uint64_t *no,
                  char *err, size_t errcap)
{
    settle(r);
    uint64_t h;
    if (by_hash)
        memcpy(&h, key, sizeof h);
    else
        h = key_hash(r, key, kl);
    if (table_get(by_hash ? &r->th : &r->tc, h, key, kl, no))
        return 1;
    if (r->have_fz && table_get(by_hash ? &r->fz.th : &r->fz.tc, h, key, kl, no))
        return 1;
    gw_table t = by_hash ? GW_BY_HASH : GW_BY_CID;
    jt_buf b;
    jt_buf_init(&b);
    int found = gw_store_get(r->st, t, key, kl, &b, err, errcap);
    if (found == 1 && b.len == 8)
        *no = from_be64(b.data);
    else if (found == 1)
        found = 0;
    jt_buf_clear(&b);
    return found;
}

int gw_txrec_by_hash(gw_txrec *r, const uint8_t hash[32], uint64_t *no, char *err, size_t errcap)
{
    return lookup(r, true, hash, 32, no, err, errcap);
}

int gw_txrec_by_cid(gw_txrec *r, const char *cid_key, size_t kl, uint64_t *no, char *err,
                    size_t errcap)
{
    return lookup(r, false, cid_key, kl, no, err, errcap);
}

void gw_txrec_get_stats(const gw_txrec *r, gw_txrec_stats *st)
{
    st->upto = r->upto;
    st->tail = r->tail_n + (r->have_fz ? r->fz.nh : 0);
    st->writing = r->have_fz;
    st->writes = r->writes;
    st->migrated = r->migrated;
}

/* ------------------------------------------------------------ open */

typedef struct kv {
    uint8_t *k, *v;
    size_t kl, vl;
} kv;

typedef struct take {
    kv *items;
    size_t n, max;
    bool oom;
} take;

static bool take_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    take *t = ctx;
    kv *e = &t->items[t->n];
    e->k = malloc(kl ? kl : 1);
    e->v = malloc(vl ? vl : 1);
    if (!e->k || !e->v) {
        free(e->k);
        free(e->v);
        t->oom = true;
        return false;
    }
    memcpy(e->k, k, kl);
    memcpy(e->v, v, vl);
    e->kl = kl;
    e->vl = vl;
    return ++t->n < t->max;
}

static void take_clear(take *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->items[i].k);
        free(t->items[i].v);
    }
    t->n = 0;
}

static int upto_put(gw_batch *b, uint64_t upto)
{
    char v[24];
    int vl = snprintf(v, sizeof v, "%" PRIu64, upto);
    return gw_batch_put(b, GW_META, UPTO_KEY, strlen(UPTO_KEY), v, (size_t)vl);
}

/* The first layout (txs: hash -> record; cids: account '\0' client id ->
 * hash, digest) into this one, MIGRATE_STEP records per commit, each
 * deleted from txs in the commit that writes it anew; the client ids are
 * taken from the records, so cids is only emptied. */
static int migrate(gw_txrec *r, bool move_upto, char *err, size_t errcap)
{
    take t = {calloc(MIGRATE_STEP, sizeof(kv)), 0, MIGRATE_STEP, false};
    if (!t.items) {
        snprintf(err, errcap, "out of memory converting the submission records");
        return -1;
    }
    int rc = 0;
    for (int old = GW_V1_TXS; !rc && old <= GW_V1_CIDS; old++) {
        for (;;) {
            take_clear(&t);
            if (gw_store_scan(r->st, (gw_table)old, NULL, 0, take_one, &t, err, errcap)) {
                rc = -1;
                break;
            }
            if (t.oom) {
                snprintf(err, errcap, "out of memory converting the submission records");
                rc = -1;
                break;
            }
            if (!t.n)
                break;
            gw_batch *b = gw_batch_new();
            rc = b ? 0 : -1;
            uint64_t no = 0;
            for (size_t i = 0; i < t.n && !rc; i++) {
                rc = gw_batch_del(b, (gw_table)old, t.items[i].k, t.items[i].kl);
                if (rc || old != GW_V1_TXS)
                    continue;
                uint8_t hash[32];
                char ck[CID_KEY_MAX];
                size_t kl;
                bool pending;
                bool keys = !rec_keys(t.items[i].v, t.items[i].vl, hash, ck, &kl, &pending);
                /* One that cannot be read is kept too, without keys to
                 * find it by (mdb_dump shows it). */
                no = atomic_fetch_add(&r->next, 1);
                uint8_t nk[8];
                be64(no, nk);
                rc = gw_batch_put(b, GW_RECORDS, nk, 8, t.items[i].v, t.items[i].vl) ||
                     (keys && (gw_batch_put(b, GW_BY_HASH, hash, 32, nk, 8) ||
                               gw_batch_put(b, GW_BY_CID, ck, kl, nk, 8) ||
                               (pending && gw_batch_put(b, GW_RECS_PENDING, nk, 8, "", 0))));
                r->migrated++;
            }
            /* Their keys are written with them: index_upto follows, unless
             * records of this layout wait after it to be read back (a
             * store that went back to the first layout and forward again). */
            if (!rc && no && move_upto)
                rc = upto_put(b, no);
            if (rc) {
                gw_batch_free(b);
                snprintf(err, errcap, "out of memory converting the submission records");
                break;
            }
            if (gw_store_commit(r->st, b, err, errcap)) {
                rc = -1;
                break;
            }
        }
    }
    take_clear(&t);
    free(t.items);
    if (!rc && r->migrated)
        fprintf(stderr, "level=info mod=txrec event=converted records=%" PRIu64 "\n", r->migrated);
    return rc;
}

typedef struct reload {
    gw_txrec *r;
    int rc;
    size_t skipped;
} reload;

static bool reload_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    reload *rl = ctx;
    uint8_t hash[32];
    char ck[CID_KEY_MAX];
    size_t ckl;
    bool pending;
    if (kl != 8 || rec_keys(v, vl, hash, ck, &ckl, &pending)) {
        rl->skipped++;
        return true;
    }
    if (tail_put(rl->r, from_be64(k), hash, ck, ckl)) {
        rl->rc = -1;
        return false;
    }
    return true;
}

/* r->upto from the store: 0 or 1, -1 with a message. */
static int read_upto(gw_txrec *r, jt_buf *k, char *err, size_t errcap)
{
    k->len = 0;
    int found = gw_store_get(r->st, GW_META, UPTO_KEY, strlen(UPTO_KEY), k, err, errcap);
    if (found == 1) {
        char v[24];
        size_t n = k->len < sizeof v - 1 ? k->len : sizeof v - 1;
        memcpy(v, k->data, n);
        v[n] = 0;
        r->upto = strtoull(v, NULL, 10);
    }
    return found;
}

int gw_txrec_open(gw_store *st, size_t batch, gw_txrec **out, char *err, size_t errcap)
{
    *out = NULL;
    gw_txrec *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    crypto_shorthash_keygen(r->sip);
    r->st = st;
    r->batch = batch ? batch : GW_TXREC_INDEX_BATCH;
    atomic_init(&r->state, IDLE);
    atomic_init(&r->stopping, false);
    jt_buf k;
    jt_buf_init(&k);
    int found = gw_store_last(st, GW_RECORDS, &k, err, errcap);
    if (found == 1 && k.len != 8) {
        snprintf(err, errcap, "the store's submission records are damaged (a key of %zu bytes)",
                 k.len);
        found = -1;
    }
    atomic_init(&r->next, found == 1 ? from_be64(k.data) + 1 : 1);
    k.len = 0;
    if (found >= 0)
        found = read_upto(r, &k, err, errcap);
    jt_buf_clear(&k);
    /* Converted records take index_upto along only when none of this
     * layout waits after it. */
    if (found < 0 || migrate(r, r->upto + 1 == atomic_load(&r->next), err, errcap) ||
        (found = read_upto(r, &k, err, errcap)) < 0) {
        jt_buf_clear(&k);
        gw_txrec_free(r);
        return -1;
    }
    jt_buf_clear(&k);
    uint8_t from[8];
    be64(r->upto + 1, from);
    reload rl = {r, 0, 0};
    if (found < 0 || gw_store_scan(st, GW_RECORDS, from, 8, reload_one, &rl, err, errcap) || rl.rc) {
        if (rl.rc)
            snprintf(err, errcap, "out of memory reading the submission records back");
        gw_txrec_free(r);
        return -1;
    }
    if (rl.skipped)
        fprintf(stderr, "level=warn mod=txrec event=unreadable_records count=%zu\n", rl.skipped);
    if (atomic_load(&r->next) <= r->upto)
        atomic_store(&r->next, r->upto + 1);
    *out = r;
    return 0;
}

void gw_txrec_stop(gw_txrec *r)
{
    if (!r)
        return;
    atomic_store(&r->stopping, true);
    if (r->have_sorter) {
        pthread_join(r->sorter, NULL);
        r->have_sorter = false;
    }
}

void gw_txrec_free(gw_txrec *r)
{
    if (!r)
        return;
    gw_txrec_stop(r);
    table_free(&r->th);
    table_free(&r->tc);
    frozen_free(&r->fz);
    free(r);
}
