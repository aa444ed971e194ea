/*
 * store.c — jt-gateway's LMDB environment and its group-committing writer
 * (see store.h).
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

#include "datadir.h"
#include "srv.h"

static const char *const table_names[GW_TABLES] = {
    "apikeys", "records", "pending", "by_hash", "by_cid", "accounts",
    "meta",    "hooks",   "deliveries", "dead",  "txs",    "cids"};

typedef struct op {
    gw_table t;
    bool del;
    size_t klen, vlen;
    uint8_t *key, *val;
} op;

struct gw_batch {
    op *ops;
    size_t n, cap;
    void (*done)(void *ctx, int rc, const char *err);
    void *ctx;
    gw_batch *next;
    /* gw_store_commit: the waiter's result. */
    pthread_mutex_t *wmu;
    pthread_cond_t *wcv;
    int *wrc;
    bool *wdone;
    char *werr;
    size_t werrcap;
};

struct gw_store {
    char dir[4096];
    MDB_env *env;
    MDB_dbi dbi[GW_TABLES];
    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gw_batch *head, *tail;        /* ordinary batches */
    gw_batch *first, *first_tail; /* gw_store_commit_first's lane */
    bool stopping;
};

static void store_error(const gw_store *s, const char *what, int rc, char *err, size_t errcap)
{
    char why[320];
    if (rc == MDB_MAP_FULL)
        snprintf(why, sizeof why, "store full (the map size is reached; raise [store] map_size)");
    else if (rc > 0)
        srv_datadir_write_error(s->dir, rc, why, sizeof why);
    else
        snprintf(why, sizeof why, "%s", mdb_strerror(rc));
    snprintf(err, errcap, "%s: %s", what, why);
}

static void *writer_main(void *arg);

int gw_store_open(const char *dir, uint64_t map_size, gw_store **out, char *err, size_t errcap)
{
    *out = NULL;
    gw_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    if (snprintf(s->dir, sizeof s->dir, "%s/db", dir) >= (int)sizeof s->dir) {
        snprintf(err, errcap, "data directory name too long");
        free(s);
        return -1;
    }
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        char why[320];
        srv_datadir_write_error(dir, errno, why, sizeof why);
        snprintf(err, errcap, "cannot create %s: %s", s->dir, why);
        free(s);
        return -1;
    }
    int rc = mdb_env_create(&s->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(s->env, GW_TABLES);
    if (!rc)
        rc = mdb_env_set_mapsize(s->env, map_size ? map_size : (uint64_t)1 << 30);
    if (!rc)
        rc = mdb_env_open(s->env, s->dir, MDB_NOTLS, 0600);
    MDB_txn *txn = NULL;
    if (!rc)
        rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    for (int i = 0; !rc && i < GW_TABLES; i++)
        rc = mdb_dbi_open(txn, table_names[i], MDB_CREATE, &s->dbi[i]);
    if (!rc) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (rc) {
        if (txn)
            mdb_txn_abort(txn);
        store_error(s, s->dir, rc, err, errcap);
        if (s->env)
            mdb_env_close(s->env);
        free(s);
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        snprintf(err, errcap, "cannot start the store's writer thread");
        mdb_env_close(s->env);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void gw_store_close(gw_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    mdb_env_close(s->env);
    free(s);
}

int gw_store_get(gw_store *s, gw_table t, const void *key, size_t klen, jt_buf *out, char *err,
                 size_t errcap)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        store_error(s, "cannot read the store", rc, err, errcap);
        return -1;
    }
    MDB_val k = {klen, (void *)key}, v;
    rc = mdb_get(txn, s->dbi[t], &k, &v);
    int ret;
    if (rc == MDB_NOTFOUND) {
        ret = 0;
    } else if (rc) {
        store_error(s, "cannot read the store", rc, err, errcap);
        ret = -1;
    } else if (jt_buf_append(out, v.mv_data, v.mv_size) != JT_OK) {
        snprintf(err, errcap, "out of memory");
        ret = -1;
    } else {
        ret = 1;
    }
    mdb_txn_abort(txn);
    return ret;
}

/* A read transaction and a cursor on t; -1 with a message. */
static int read_cursor(gw_store *s, gw_table t, MDB_txn **txn, MDB_cursor **cur, char *err,
                       size_t errcap)
{
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
    if (!rc && (rc = mdb_cursor_open(*txn, s->dbi[t], cur)) != 0)
        mdb_txn_abort(*txn);
    if (rc) {
        store_error(s, "cannot read the store", rc, err, errcap);
        return -1;
    }
    return 0;
}

int gw_store_scan(gw_store *s, gw_table t, const void *from, size_t flen,
                  bool (*fn)(void *ctx, const void *k, size_t kl, const void *v, size_t vl),
                  void *ctx, char *err, size_t errcap)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (read_cursor(s, t, &txn, &cur, err, errcap))
        return -1;
    MDB_val k = {flen, (void *)from}, v;
    int rc = mdb_cursor_get(cur, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST);
    while (!rc && fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (rc && rc != MDB_NOTFOUND) {
        store_error(s, "cannot read the store", rc, err, errcap);
        return -1;
    }
    return 0;
}

int gw_store_last(gw_store *s, gw_table t, jt_buf *key, char *err, size_t errcap)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (read_cursor(s, t, &txn, &cur, err, errcap))
        return -1;
    MDB_val k, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    int ret = 0;
    if (rc && rc != MDB_NOTFOUND) {
        store_error(s, "cannot read the store", rc, err, errcap);
        ret = -1;
    } else if (!rc) {
        ret = jt_buf_append(key, k.mv_data, k.mv_size) == JT_OK ? 1 : -1;
        if (ret < 0)
            snprintf(err, errcap, "out of memory");
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return ret;
}

gw_batch *gw_batch_new(void)
{
    return calloc(1, sizeof(gw_batch));
}

void gw_batch_free(gw_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->ops[i].key);
        free(b->ops[i].val);
    }
    free(b->ops);
    free(b);
}

bool gw_batch_empty(const gw_batch *b)
{
    return b->n == 0;
}

static int batch_add(gw_batch *b, gw_table t, bool del, const void *key, size_t klen,
                     const void *val, size_t vlen)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        op *ops = realloc(b->ops, cap * sizeof *ops);
        if (!ops)
            return -1;
        b->ops = ops;
        b->cap = cap;
    }
    op *o = &b->ops[b->n];
    *o = (op){.t = t, .del = del, .klen = klen, .vlen = vlen};
    o->key = malloc(klen ? klen : 1);
    o->val = del ? NULL : malloc(vlen ? vlen : 1);
    if (!o->key || (!del && !o->val)) {
        free(o->key);
        free(o->val);
        return -1;
    }
    memcpy(o->key, key, klen);
    if (!del && vlen)
        memcpy(o->val, val, vlen);
    b->n++;
    return 0;
}

int gw_batch_put(gw_batch *b, gw_table t, const void *key, size_t klen, const void *val,
                 size_t vlen)
{
    return batch_add(b, t, false, key, klen, val, vlen);
}

int gw_batch_del(gw_batch *b, gw_table t, const void *key, size_t klen)
{
    return batch_add(b, t, true, key, klen, NULL, 0);
}

/* Applies the chain of batches in one transaction. */
static int apply_chain(gw_store *s, gw_batch *chain, char *err, size_t errcap)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    for (gw_batch *b = chain; !rc && b; b = b->next) {
        for (size_t i = 0; !rc && i < b->n; i++) {
            op *o = &b->ops[i];
            MDB_val k = {o->klen, o->key}, v = {o->vlen, o->val};
            rc = o->del ? mdb_del(txn, s->dbi[o->t], &k, NULL) : mdb_put(txn, s->dbi[o->t], &k, &v, 0);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        }
    }
    if (rc) {
        if (txn)
            mdb_txn_abort(txn);
    } else {
        rc = mdb_txn_commit(txn);
    }
    if (rc)
        store_error(s, "cannot write the store", rc, err, errcap);
    return rc ? -1 : 0;
}

static void finish(gw_batch *b, int rc, const char *err)
{
    if (b->wmu) {
        pthread_mutex_lock(b->wmu);
        *b->wrc = rc;
        if (rc)
            snprintf(b->werr, b->werrcap, "%s", err);
        *b->wdone = true;
        pthread_cond_signal(b->wcv);
        pthread_mutex_unlock(b->wmu);
    } else if (b->done) {
        b->done(b->ctx, rc, err);
    }
}

/* With s->mu held: the next chain to commit. The first lane whole, then
 * ordinary batches from the head up to GW_STORE_CHAIN_OPS operations (at
 * least one batch, so a large one is not stuck): the ordinary ones share
 * each commit rather than wait for the first lane to be empty, which under
 * a steady load it never is. */
static gw_batch *take_chain(gw_store *s)
{
    gw_batch *chain = s->first, *first_last = s->first_tail;
    s->first = s->first_tail = NULL;
    gw_batch *ord = s->head;
    if (ord) {
        gw_batch *last = ord;
        size_t ops = ord->n;
        while (last->next && ops + last->next->n <= GW_STORE_CHAIN_OPS) {
            last = last->next;
            ops += last->n;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
    }
    if (!chain)
        return ord;
    first_last->next = ord;
    return chain;
}

static void *writer_main(void *arg)
{
    gw_store *s = arg;
    (void)prctl(PR_SET_NAME, "jt-gw-store", 0, 0, 0); /* ps -L, top -H */
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->first && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        gw_batch *chain = take_chain(s);
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (!chain && stop)
            return NULL;
        char err[512] = "";
        double t0 = srv_mono_seconds();
        int rc = apply_chain(s, chain, err, sizeof err);
        double ms = (srv_mono_seconds() - t0) * 1000;
        if (ms >= GW_STORE_SLOW_MS) {
            /* Every answer waiting on this commit waited as long. */
            size_t ops = 0, batches = 0;
            for (gw_batch *b = chain; b; b = b->next, batches++)
                ops += b->n;
            fprintf(stderr,
                    "level=warn mod=store event=slow_commit ms=%.0f batches=%zu ops=%zu rc=%d\n", ms,
                    batches, ops, rc);
        }
        if (rc && chain->next) {
            /* One bad batch must not fail the others: apply them one by one. */
            for (gw_batch *b = chain; b; b = b->next) {
                gw_batch *next = b->next;
                b->next = NULL;
                char e1[512] = "";
                int r1 = apply_chain(s, b, e1, sizeof e1);
                b->next = next;
                finish(b, r1, e1);
            }
        } else {
            for (gw_batch *b = chain; b; b = b->next)
                finish(b, rc, err);
        }
        while (chain) {
            gw_batch *next = chain->next;
            gw_batch_free(chain);
            chain = next;
        }
    }
}

static void enqueue(gw_store *s, gw_batch *b, bool first,
                    void (*done)(void *ctx, int rc, const char *err), void *ctx)
{
    b->done = done;
    b->ctx = ctx;
    b->next = NULL;
    pthread_mutex_lock(&s->mu);
    gw_batch **head = first ? &s->first : &s->head, **tail = first ? &s->first_tail : &s->tail;
    if (*tail)
        (*tail)->next = b;
    else
        *head = b;
    *tail = b;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void gw_store_commit_async(gw_store *s, gw_batch *b,
                           void (*done)(void *ctx, int rc, const char *err), void *ctx)
{
    enqueue(s, b, false, done, ctx);
}

void gw_store_commit_first(gw_store *s, gw_batch *b,
                           void (*done)(void *ctx, int rc, const char *err), void *ctx)
{
    enqueue(s, b, true, done, ctx);
}

int gw_store_commit(gw_store *s, gw_batch *b, char *err, size_t errcap)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int rc = -1;
    bool done = false;
    b->wmu = &mu;
    b->wcv = &cv;
    b->wrc = &rc;
    b->wdone = &done;
    b->werr = err;
    b->werrcap = errcap;
    gw_store_commit_async(s, b, NULL, NULL);
    pthread_mutex_lock(&mu);
    while (!done)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    pthread_cond_destroy(&cv);
    pthread_mutex_destroy(&mu);
    return rc;
}
