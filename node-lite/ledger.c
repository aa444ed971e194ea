/* ledger.c — see ledger.h. */
#include "ledger.h"
#include "fld.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "shamap.h"

struct jn_ledger {
    jn_store *store;
    jn_params p;
    jn_map base;          /* closed state */
    jn_shamap *state_map; /* its hash tree */
    jn_header last;       /* last closed header */
    uint32_t first_seq;
    uint64_t burned;
    jn_view closed_view; /* empty view over base, for reads */
    jn_view open;        /* the open ledger: over `frozen` while closing, else over base */
    jn_txlist open_txs;
    jn_map open_ids;     /* tx ID -> index in open_txs */
    jn_txlist held;
    jn_map held_ids;     /* tx ID -> present, for the transactions in held */
    jn_txlist closed;    /* the last announced ledger's transactions */
    uint32_t open_index;

    /* The closing ledger. jn_ledger_close_begin freezes the open ledger as
     * it stands (its state, and its transactions with the metadata their
     * apply built) and opens the next one over it at once; the writer thread
     * writes the ledger. The loop only reads
     * `frozen`, `closing_txs` and `closing_ids` until the finish. */
    bool closing;
    jn_view frozen;
    jn_txlist closing_txs; /* arrival order: TransactionIndex order */
    jn_map closing_ids;    /* tx ID -> index in closing_txs */
    jn_header tip;         /* its header; seq and times set at begin, the rest by the writer */
    uint64_t pend_burned;  /* set by the writer, read by the loop after */
    /* Transactions announced before the last ledger: the writer frees their
     * metadata and account lists at its next job (work taken off the loop),
     * the loop the rest at the finish after it. */
    jn_txlist strip;

    /* The writer thread (jn_ledger_start_writer); without it a close
     * writes inline. The mutex guards the w_ fields. */
    bool has_writer;
    pthread_t writer;
    pthread_mutex_t wmu;
    pthread_cond_t wcv, done_cv;
    bool w_job, w_done, w_stop;
    int w_rc;
    char w_err[1024];
    void (*notify)(void *ctx);
    void *notify_ctx;
};

void jn_params_init(jn_params *p)
{
    p->base_fee = 10;
    p->reserve_base = 10000000;
    p->reserve_inc = 1000000;
    p->held_ledgers = 10;
    p->max_held = 10000;
    p->max_open = 200000;
}

/* ---------------------------------------------------------------- tx lists */

static void tx_free(jn_tx *t)
{
    if (!t)
        return;
    free(t->blob);
    jt_obj_free(t->tx);
    free(t->meta_blob);
    free(t->accts);
    free(t);
}

/* Room for one more in l: 0, or -1 on ENOMEM. */
static int list_reserve(jn_txlist *l)
{
    if (l->n < l->cap)
        return 0;
    size_t nc = l->cap ? l->cap * 2 : 256;
    jn_tx **nv = realloc(l->v, nc * sizeof *nv);
    if (!nv)
        return -1;
    l->v = nv;
    l->cap = nc;
    return 0;
}

static int list_push(jn_txlist *l, jn_tx *t)
{
    if (list_reserve(l))
        return -1;
    l->v[l->n++] = t;
    return 0;
}

/* Holds t for a later ledger, if there is room: 0, or -1 (not held). */
static int held_push(jn_ledger *L, jn_tx *t)
{
    if (L->held.n >= L->p.max_held || list_push(&L->held, t))
        return -1;
    if (!jn_map_slot(&L->held_ids, t->id)) {
        L->held.n--;
        return -1;
    }
    return 0;
}

static void list_clear(jn_txlist *l, bool free_items)
{
    if (free_items)
        for (size_t i = 0; i < l->n; i++)
            tx_free(l->v[i]);
    l->n = 0;
}

static void list_free(jn_txlist *l)
{
    list_clear(l, true);
    free(l->v);
    l->v = NULL;
    l->cap = 0;
}

/* ---------------------------------------------------------------- headers */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

void jn_header_hash(const jn_header *h, uint8_t out[32])
{
    uint8_t b[4 + 4 + 8 + 32 * 3 + 4 + 4 + 1 + 1];
    size_t n = 0;
    put32(b + n, 0x4C575200u), n += 4;
    put32(b + n, h->seq), n += 4;
    put64(b + n, h->total_coins), n += 8;
    memcpy(b + n, h->parent_hash, 32), n += 32;
    memcpy(b + n, h->tx_hash, 32), n += 32;
    memcpy(b + n, h->account_hash, 32), n += 32;
    put32(b + n, h->parent_close_time), n += 4;
    put32(b + n, h->close_time), n += 4;
    b[n++] = h->close_resolution;
    b[n++] = h->close_flags;
    jt_sha512half(b, n, out);
}

/* ---------------------------------------------------------------- state */

/* The newest closed ledger, durable or still being written. */
static const jn_header *tip(const jn_ledger *L)
{
    return L->closing ? &L->tip : &L->last;
}

static jn_env env_for(const jn_ledger *L)
{
    jn_env e = {.base_fee = L->p.base_fee,
                .reserve_base = L->p.reserve_base,
                .reserve_inc = L->p.reserve_inc,
                .ledger_seq = tip(L)->seq + 1,
                .parent_close_time = tip(L)->close_time};
    return e;
}

static int leaf_of(const jt_obj *o, const uint8_t id[32], jt_buf *blob, uint8_t leaf[32])
{
    blob->len = 0;
    if (jt_obj_to_binary(o, 0, blob) != JT_OK)
        return -1;
    jn_shamap_state_leaf(blob->data, blob->len, id, leaf);
    return 0;
}

typedef struct load_ctx {
    jn_ledger *L;
    char *err;
    size_t errcap;
} load_ctx;

static int load_entry(void *vctx, const uint8_t id[32], const uint8_t *blob, size_t len)
{
    load_ctx *lc = vctx;
    jt_obj *o;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_obj_from_binary(blob, len, &o, &ei) != JT_OK) {
        char hex[65];
        (void)jt_hex_encode(id, 32, hex, sizeof hex);
        snprintf(lc->err, lc->errcap, "state entry %s does not decode: %s", hex, ei.msg);
        return -1;
    }
    uint8_t leaf[32];
    jn_shamap_state_leaf(blob, len, id, leaf);
    if (jn_map_put(&lc->L->base, id, o) || jn_shamap_set(lc->L->state_map, id, leaf)) {
        snprintf(lc->err, lc->errcap, "out of memory loading state");
        return -1;
    }
    return 0;
}

static void open_new(jn_ledger *L)
{
    jn_view_init(&L->open, NULL, &L->base);
    L->open_index = 0;
}

static jn_ledger *ledger_new(jn_store *st, const jn_params *p)
{
    jn_ledger *L = calloc(1, sizeof *L);
    if (!L)
        return NULL;
    L->store = st;
    L->p = *p;
    jn_map_init(&L->base);
    jn_map_init(&L->open_ids);
    jn_map_init(&L->held_ids);
    jn_map_init(&L->closing_ids);
    jn_view_init(&L->frozen, NULL, &L->base);
    pthread_mutex_init(&L->wmu, NULL);
    pthread_cond_init(&L->wcv, NULL);
    pthread_cond_init(&L->done_cv, NULL);
    if (!(L->state_map = jn_shamap_new())) {
        free(L);
        return NULL;
    }
    jn_view_init(&L->closed_view, NULL, &L->base);
    open_new(L);
    return L;
}

void jn_ledger_free(jn_ledger *L)
{
    if (!L)
        return;
    jn_ledger_stop_writer(L);
    const jn_txlist *closed;
    char err[8];
    (void)jn_ledger_close_finish(L, &closed, err, sizeof err);
    jn_view_clear(&L->frozen);
    jn_map_clear(&L->closing_ids);
    list_free(&L->closing_txs);
    list_free(&L->strip);
    pthread_cond_destroy(&L->wcv);
    pthread_cond_destroy(&L->done_cv);
    pthread_mutex_destroy(&L->wmu);
    jn_view_clear(&L->open);
    jn_view_clear(&L->closed_view);
    jn_map_clear(&L->base);
    jn_map_clear(&L->open_ids);
    jn_map_clear(&L->held_ids);
    jn_shamap_free(L->state_map);
    list_free(&L->open_txs);
    list_free(&L->held);
    list_free(&L->closed);
    free(L);
}

int jn_ledger_load(jn_store *st, const jn_params *p, jn_ledger **out, char *err, size_t errcap)
{
    *out = NULL;
    jn_ledger *L = ledger_new(st, p);
    if (!L) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    int r = jn_store_last_header(st, &L->last);
    if (r) {
        snprintf(err, errcap, "%s", r == 1 ? "no ledger in the store: run `jt-node init` first"
                                            : jn_store_errmsg(st));
        jn_ledger_free(L);
        return -1;
    }
    if (jn_store_first_seq(st, &L->first_seq))
        L->first_seq = L->last.seq;
    load_ctx lc = {L, err, errcap};
    if (jn_store_state_foreach(st, load_entry, &lc)) {
        if (!err[0])
            snprintf(err, errcap, "reading state: %s", jn_store_errmsg(st));
        jn_ledger_free(L);
        return -1;
    }
    uint8_t root[32];
    jn_shamap_root(L->state_map, root);
    if (memcmp(root, L->last.account_hash, 32) != 0) {
        snprintf(err, errcap, "state does not match ledger %" PRIu32 "'s account hash; run `jt-node verify`",
                 L->last.seq);
        jn_ledger_free(L);
        return -1;
    }
    uint64_t burned = 0;
    size_t len;
    uint8_t b[8];
    if (jn_store_get_meta(st, "burned", b, sizeof b, &len) == 0 && len == 8) {
        for (int i = 0; i < 8; i++)
            burned = (burned << 8) | b[i];
    }
    L->burned = burned;
    *out = L;
    return 0;
}

int jn_ledger_genesis(jn_store *st, const jn_params *p, const jt_account_id *genesis,
                      uint32_t close_time, char *err, size_t errcap)
{
    jn_header h;
    if (jn_store_last_header(st, &h) == 0) {
        snprintf(err, errcap, "the store already holds ledger %" PRIu32, h.seq);
        return -1;
    }
    jt_obj *root = jt_obj_new(), *fees = jt_obj_new();
    jt_amount bal;
    memset(&bal, 0, sizeof bal);
    bal.native = true;
    bal.mantissa = JT_MAX_NATIVE_DROPS;
    int rc = -1;
    jn_batch *b = NULL;
    jt_buf blob;
    jt_buf_init(&blob);
    if (!root || !fees ||
        jt_obj_set_uint_f(root, FLD("LedgerEntryType"), JT_LT_ACCOUNT_ROOT) ||
        jt_obj_set_account_f(root, FLD("Account"), genesis) || jt_obj_set_amount_f(root, FLD("Balance"), &bal) ||
        jt_obj_set_uint_f(root, FLD("Sequence"), 1) || jt_obj_set_uint_f(root, FLD("Flags"), 0) ||
        jt_obj_set_uint_f(root, FLD("OwnerCount"), 0) ||
        jt_obj_set_uint_f(fees, FLD("LedgerEntryType"), JT_LT_FEE_SETTINGS) ||
        jt_obj_set_uint_f(fees, FLD("BaseFee"), p->base_fee) ||
        jt_obj_set_uint_f(fees, FLD("ReferenceFeeUnits"), 10) ||
        jt_obj_set_uint_f(fees, FLD("ReserveBase"), p->reserve_base) ||
        jt_obj_set_uint_f(fees, FLD("ReserveIncrement"), p->reserve_inc) ||
        jt_obj_set_uint_f(fees, FLD("Flags"), 0)) {
        snprintf(err, errcap, "out of memory building genesis");
        goto done;
    }
    jn_shamap *m = jn_shamap_new();
    if (!m) {
        snprintf(err, errcap, "out of memory");
        goto done;
    }
    uint8_t ids[2][32], leaf[32];
    jn_id_account(genesis, ids[0]);
    jn_id_fee_settings(ids[1]);
    const jt_obj *objs[2] = {root, fees};
    if (jn_store_begin(st, &b)) {
        snprintf(err, errcap, "%s", jn_store_errmsg(st));
        jn_shamap_free(m);
        goto done;
    }
    for (int i = 0; i < 2; i++) {
        blob.len = 0;
        if (jt_obj_to_binary(objs[i], 0, &blob) != JT_OK) {
            snprintf(err, errcap, "out of memory");
            jn_shamap_free(m);
            goto done;
        }
        jn_shamap_state_leaf(blob.data, blob.len, ids[i], leaf);
        if (jn_shamap_set(m, ids[i], leaf) || jn_batch_put_state(b, ids[i], blob.data, blob.len)) {
            snprintf(err, errcap, "writing genesis state: %s", jn_store_errmsg(st));
            jn_shamap_free(m);
            goto done;
        }
    }
    memset(&h, 0, sizeof h);
    h.seq = 1;
    h.total_coins = JT_MAX_NATIVE_DROPS;
    jn_shamap_root(m, h.account_hash);
    jn_shamap_free(m);
    h.close_time = close_time;
    h.close_resolution = 1;
    jn_header_hash(&h, h.hash);
    uint8_t zero8[8] = {0};
    if (jn_batch_put_header(b, &h) || jn_batch_put_meta(b, "burned", zero8, 8)) {
        snprintf(err, errcap, "writing genesis header: %s", jn_store_errmsg(st));
        goto done;
    }
    jn_batch *bb = b;
    b = NULL;
    if (jn_store_commit(bb)) {
        snprintf(err, errcap, "committing genesis: %s", jn_store_errmsg(st));
        goto done;
    }
    rc = 0;
done:
    jn_store_abort(b);
    jt_buf_clear(&blob);
    jt_obj_free(root);
    jt_obj_free(fees);
    return rc;
}

/* ---------------------------------------------------------------- queries */

const jn_header *jn_ledger_last(const jn_ledger *L) { return &L->last; }
uint32_t jn_ledger_open_seq(const jn_ledger *L) { return tip(L)->seq + 1; }
uint32_t jn_ledger_first_seq(const jn_ledger *L) { return L->first_seq; }
const jn_params *jn_ledger_params(const jn_ledger *L) { return &L->p; }
jn_store *jn_ledger_store(const jn_ledger *L) { return L->store; }
const jn_view *jn_ledger_open_view(const jn_ledger *L) { return &L->open; }
const jn_view *jn_ledger_closed_view(const jn_ledger *L) { return &L->closed_view; }
const jn_txlist *jn_ledger_open_txs(const jn_ledger *L) { return &L->open_txs; }

const jn_txlist *jn_ledger_last_txs(const jn_ledger *L)
{
    /* L->closed is the list the last close_finish reported (empty after a
     * load): it is the last ledger's only when the counts agree. */
    if (!L->closed.n || L->closed.n != L->last.txn_count)
        return NULL;
    return &L->closed;
}
uint64_t jn_ledger_burned(const jn_ledger *L) { return L->burned; }

const jn_tx *jn_ledger_open_tx(const jn_ledger *L, const uint8_t id[32])
{
    const jn_slot *s = jn_map_find(&L->open_ids, id);
    if (s)
        return s->aux < L->open_txs.n ? L->open_txs.v[s->aux] : NULL;
    /* Closed but not yet durable: still reported as not validated. */
    s = L->closing ? jn_map_find(&L->closing_ids, id) : NULL;
    return s && s->aux < L->closing_txs.n ? L->closing_txs.v[s->aux] : NULL;
}

void jn_view_foreach(const jn_view *v, void (*cb)(void *ctx, const uint8_t id[32], const jt_obj *o),
                     void *ctx)
{
    /* Collect the chain root-first so overlays win. */
    const jn_view *chain[8];
    int n = 0;
    for (const jn_view *x = v; x && n < 8; x = x->parent)
        chain[n++] = x;
    const jn_map *base = chain[n - 1]->base;
    size_t i = 0;
    jn_slot *s;
    if (base)
        while ((s = jn_map_next(base, &i))) {
            bool shadowed = false;
            for (int k = 0; k < n; k++)
                if (jn_map_find(&chain[k]->changes, s->id)) {
                    shadowed = true;
                    break;
                }
            if (!shadowed)
                cb(ctx, s->id, s->obj);
        }
    for (int k = n - 1; k >= 0; k--) {
        i = 0;
        while ((s = jn_map_next(&chain[k]->changes, &i))) {
            bool shadowed = false;
            for (int j = 0; j < k; j++)
                if (jn_map_find(&chain[j]->changes, s->id)) {
                    shadowed = true;
                    break;
                }
            if (!shadowed && !s->deleted)
                cb(ctx, s->id, s->obj);
        }
    }
}

/* ---------------------------------------------------------------- accounts */

size_t jn_tx_accounts(const jt_obj *tx, jt_account_id *out, size_t cap)
{
    jn_accts s = {0};
    jt_account_id a;
    if (jt_obj_get_account_f(tx, FLD("Account"), &a) == JT_OK)
        jn_accts_add(&s, &a);
    if (jt_obj_get_account_f(tx, FLD("Destination"), &a) == JT_OK)
        jn_accts_add(&s, &a);
    if (jt_obj_get_account_f(tx, FLD("Target"), &a) == JT_OK)
        jn_accts_add(&s, &a);
    size_t n = s.n < cap ? s.n : cap;
    memcpy(out, s.v, n * sizeof *out);
    return n;
}

/* ---------------------------------------------------------------- submit */

static jn_tx *tx_new(jt_obj *tx, const uint8_t *blob, size_t len, const uint8_t id[32])
{
    jn_tx *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (!(t->blob = malloc(len ? len : 1))) {
        free(t);
        return NULL;
    }
    memcpy(t->blob, blob, len);
    t->blob_len = len;
    t->tx = tx;
    memcpy(t->id, id, 32);
    uint64_t seq = 0;
    if (jt_obj_get_account_f(tx, FLD("Account"), &t->account) != JT_OK ||
        jt_obj_get_uint_f(tx, FLD("Sequence"), &seq) != JT_OK) {
        memset(&t->account, 0, sizeof t->account);
    }
    t->sequence = (uint32_t)seq;
    return t;
}

/* Applies t to the open ledger; keeps it there (claimed, with its
 * metadata: the ledger closes with the transactions as they applied here),
 * or reports that it was not kept. Room to keep it is made first, so that a
 * claimed transaction is never left out of the list while its changes stand. */
static int open_apply(jn_ledger *L, jn_tx *t, bool *kept)
{
    *kept = false;
    jn_slot *s = NULL;
    if (list_reserve(&L->open_txs) || !(s = jn_map_slot(&L->open_ids, t->id)))
        return t->ter = JT_tefINTERNAL;
    jn_env env = env_for(L);
    jn_applied ap;
    int ter = jn_apply(&L->open, &env, t->tx, t->id, L->open_index, &t->memo, &ap);
    t->ter = ter;
    if (!jt_ter_is_claimed(ter)) {
        jn_map_remove(&L->open_ids, t->id);
        return ter;
    }
    t->index = L->open_index++;
    t->fee = ap.fee;
    t->meta_blob = ap.meta_bin.data;
    t->meta_len = ap.meta_bin.len;
    t->n_accts = ap.accts.n;
    /* Its changes stand in the open ledger, so it is kept even when this
     * fails; the close then fails for want of memory (close_collect). */
    t->accts = malloc((ap.accts.n ? ap.accts.n : 1) * sizeof *t->accts);
    if (t->accts)
        memcpy(t->accts, ap.accts.v, ap.accts.n * sizeof *t->accts);
    s->aux = (uint32_t)L->open_txs.n;
    L->open_txs.v[L->open_txs.n++] = t;
    *kept = true;
    return ter;
}

void jn_ledger_prefetch(const jn_ledger *L, const jn_txmemo *memo, int stage)
{
    if (memo->have_account)
        jn_view_prefetch(&L->open, memo->account_key, stage);
    if (memo->have_dest)
        jn_view_prefetch(&L->open, memo->dest_key, stage);
}

void jn_ledger_prefetch_id(const jn_ledger *L, const uint8_t id[32])
{
    jn_map_prefetch(&L->open_ids, id, 0);
    jn_map_prefetch(&L->held_ids, id, 0);
}

int jn_ledger_submit(jn_ledger *L, jt_obj *tx, const uint8_t *blob, size_t len, const uint8_t id[32],
                     const jn_txmemo *memo)
{
    if (jn_map_find(&L->open_ids, id)) {
        jt_obj_free(tx);
        return JT_tefALREADY;
    }
    if (jn_map_find(&L->held_ids, id)) {
        jt_obj_free(tx);
        return JT_terPRE_SEQ;
    }
    if (L->open_txs.n >= L->p.max_open) {
        jt_obj_free(tx);
        return JT_telINSUF_FEE_P; /* the open ledger is full: like a fee escalation */
    }
    jn_tx *t = tx_new(tx, blob, len, id);
    if (!t) {
        jt_obj_free(tx);
        return JT_tefINTERNAL;
    }
    if (memo)
        t->memo = *memo;
    bool kept;
    int ter = open_apply(L, t, &kept);
    if (kept)
        return ter;
    if (ter == JT_terPRE_SEQ) {
        t->first_seq = jn_ledger_open_seq(L);
        if (held_push(L, t) == 0)
            return ter;
        /* No room to hold it: it is not kept, and the answer says so (as
         * when the open ledger is full) instead of a terPRE_SEQ that
         * promises a later try. */
        ter = JT_telINSUF_FEE_P;
    }
    tx_free(t);
    return ter;
}

/* ---------------------------------------------------------------- close */

/* Writer thread: the closing ledger's transactions as the open ledger
 * applied them (arrival order is TransactionIndex order), each with its
 * metadata, and the fees they destroyed. */
static int close_collect(jn_ledger *L)
{
    jn_header *h = &L->tip;
    int64_t fees = 0;
    for (size_t i = 0; i < L->closing_txs.n; i++) {
        jn_tx *t = L->closing_txs.v[i];
        fees += t->fee;
        if (!t->meta_blob || !t->accts)
            return -1;
    }
    h->total_coins = L->last.total_coins - (uint64_t)fees;
    h->txn_count = (uint32_t)L->closing_txs.n;
    L->pend_burned = L->burned + (uint64_t)fees;
    return 0;
}

/* The write of the closing ledger (writer thread, or inline): the
 * metadata blobs, the transaction tree, the state tree, the header, and one
 * durable LMDB transaction. While L->closing the loop only reads the frozen
 * view and base (the open ledger sits on them), and leaves the closing
 * transactions' metadata, the state tree and the store's batch alone. */
static int write_ledger(jn_ledger *L)
{
    jn_header *h = &L->tip;
    char *err = L->w_err;
    size_t errcap = sizeof L->w_err;

    jn_shamap *txm = jn_shamap_new();
    if (!txm) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < L->closing_txs.n; i++) {
        jn_tx *t = L->closing_txs.v[i];
        uint8_t leaf[32];
        jn_shamap_tx_leaf(t->blob, t->blob_len, t->meta_blob, t->meta_len, t->id, leaf);
        if (jn_shamap_set(txm, t->id, leaf)) {
            jn_shamap_free(txm);
            snprintf(err, errcap, "out of memory");
            return -1;
        }
    }
    jn_shamap_root(txm, h->tx_hash);
    jn_shamap_free(txm);

    /* State: the changes go to the batch and to the hash tree. */
    jn_batch *b;
    if (jn_store_begin(L->store, &b)) {
        snprintf(err, errcap, "%s", jn_store_errmsg(L->store));
        return -1;
    }
    jt_buf blob;
    jt_buf_init(&blob);
    size_t i = 0;
    jn_slot *s;
    int rc = 0;
    while ((s = jn_map_next(&L->frozen.changes, &i))) {
        if (s->deleted) {
            if (jn_map_find(&L->base, s->id)) {
                jn_shamap_del(L->state_map, s->id);
                if (jn_batch_del_state(b, s->id))
                    rc = -1;
            }
            continue;
        }
        uint8_t leaf[32];
        if (leaf_of(s->obj, s->id, &blob, leaf) || jn_shamap_set(L->state_map, s->id, leaf) ||
            jn_batch_put_state(b, s->id, blob.data, blob.len))
            rc = -1;
    }
    jt_buf_clear(&blob);

    jn_shamap_root(L->state_map, h->account_hash);
    jn_header_hash(h, h->hash);
    if (!rc)
        rc = jn_batch_put_header(b, h);
    for (size_t k = 0; !rc && k < L->closing_txs.n; k++) {
        jn_tx *t = L->closing_txs.v[k];
        jn_txrec r = {.seq = h->seq, .index = t->index, .blob = t->blob, .blob_len = t->blob_len,
                      .meta = t->meta_blob, .meta_len = t->meta_len};
        memcpy(r.id, t->id, 32);
        if (jn_batch_put_tx(b, &r)) {
            rc = -1;
            break;
        }
        for (size_t a = 0; a < t->n_accts; a++)
            if (jn_batch_put_account_tx(b, t->accts[a].bytes, h->seq, t->index, t->id)) {
                rc = -1;
                break;
            }
    }
    uint8_t bb[8];
    put64(bb, L->pend_burned);
    if (!rc)
        rc = jn_batch_put_meta(b, "burned", bb, 8);
    if (rc || jn_store_commit(b)) {
        if (rc)
            jn_store_abort(b);
        /* The state tree is now ahead of the store: the node must stop. */
        snprintf(err, errcap, "writing ledger %" PRIu32 ": %s", h->seq, jn_store_errmsg(L->store));
        return -1;
    }
    return 0;
}

/* A close on the writer thread (or inline): first release the metadata of
 * an earlier ledger, then collect, then write. */
static void close_job(jn_ledger *L)
{
    for (size_t i = 0; i < L->strip.n; i++) {
        jn_tx *t = L->strip.v[i];
        free(t->meta_blob);
        free(t->accts);
        t->meta_blob = NULL;
        t->accts = NULL;
        t->n_accts = 0;
    }
    L->w_rc = -1;
    if (close_collect(L)) {
        snprintf(L->w_err, sizeof L->w_err, "out of memory closing ledger %" PRIu32, L->tip.seq);
        return;
    }
    if (write_ledger(L))
        return;
    L->w_rc = 0;
}

static void *writer_main(void *arg)
{
    jn_ledger *L = arg;
    /* Its name in ps -L, top -H and /proc/PID/task/TID/comm. */
    (void)prctl(PR_SET_NAME, "jt-writer", 0, 0, 0);
    pthread_mutex_lock(&L->wmu);
    for (;;) {
        while (!L->w_job && !L->w_stop)
            pthread_cond_wait(&L->wcv, &L->wmu);
        if (!L->w_job)
            break;
        L->w_job = false;
        pthread_mutex_unlock(&L->wmu);
        close_job(L);
        pthread_mutex_lock(&L->wmu);
        L->w_done = true;
        pthread_cond_broadcast(&L->done_cv);
        pthread_mutex_unlock(&L->wmu);
        if (L->notify)
            L->notify(L->notify_ctx);
        pthread_mutex_lock(&L->wmu);
    }
    pthread_mutex_unlock(&L->wmu);
    return NULL;
}

int jn_ledger_start_writer(jn_ledger *L, void (*notify)(void *ctx), void *ctx)
{
    if (L->has_writer)
        return 0;
    L->notify = notify;
    L->notify_ctx = ctx;
    if (pthread_create(&L->writer, NULL, writer_main, L))
        return -1;
    L->has_writer = true;
    return 0;
}

void jn_ledger_stop_writer(jn_ledger *L)
{
    if (!L->has_writer)
        return;
    /* A write in flight completes first: what was closed is kept. */
    pthread_mutex_lock(&L->wmu);
    L->w_stop = true;
    pthread_cond_signal(&L->wcv);
    pthread_mutex_unlock(&L->wmu);
    pthread_join(L->writer, NULL);
    L->has_writer = false;
}

void jn_ledger_close_wait(jn_ledger *L)
{
    if (!L->closing || !L->has_writer)
        return;
    pthread_mutex_lock(&L->wmu);
    while (!L->w_done)
        pthread_cond_wait(&L->done_cv, &L->wmu);
    pthread_mutex_unlock(&L->wmu);
}

bool jn_ledger_busy(jn_ledger *L)
{
    if (!L->closing)
        return false;
    pthread_mutex_lock(&L->wmu);
    bool done = L->w_done;
    pthread_mutex_unlock(&L->wmu);
    return !done;
}

/* Retries the held transactions in the open ledger: dropped when expired,
 * kept there when they apply, held again when still early. */
static void retry_held(jn_ledger *L)
{
    jn_txlist held = L->held;
    L->held = (jn_txlist){0};
    jn_map_clear(&L->held_ids);
    uint32_t open_seq = jn_ledger_open_seq(L);
    for (size_t k = 0; k < held.n; k++) {
        jn_tx *t = held.v[k];
        uint64_t lls = 0;
        bool expired = open_seq - t->first_seq > L->p.held_ledgers ||
                       (jt_obj_get_uint_f(t->tx, FLD("LastLedgerSequence"), &lls) == JT_OK && lls < open_seq);
        if (expired) {
            tx_free(t);
            continue;
        }
        bool kept;
        int ter = open_apply(L, t, &kept);
        if (kept)
            continue;
        if (ter == JT_terPRE_SEQ && held_push(L, t) == 0)
            continue;
        tx_free(t);
    }
    free(held.v);
}

/* Base takes the frozen state: the ledger just written is exactly the open
 * ledger as it was applied, and the ledger opened since sits on it and
 * needs nothing redone. */
static int adopt_frozen(jn_ledger *L)
{
    size_t i = 0;
    jn_slot *s;
    int rc = 0;
    while ((s = jn_map_next(&L->frozen.changes, &i))) {
        if (s->deleted) {
            jn_map_remove(&L->base, s->id);
            continue;
        }
        jt_obj *o = s->obj;
        s->obj = NULL;
        if (jn_map_put(&L->base, s->id, o))
            rc = -1;
    }
    return rc;
}

int jn_ledger_close_finish(jn_ledger *L, const jn_txlist **closed, char *err, size_t errcap)
{
    if (!L->closing)
        return 1;
    pthread_mutex_lock(&L->wmu);
    bool done = L->w_done;
    pthread_mutex_unlock(&L->wmu);
    if (!done)
        return 1;
    if (L->w_rc) {
        snprintf(err, errcap, "%s", L->w_err);
        return -1; /* stays closing: nothing more is closed or announced */
    }
    /* Durable: the closed state moves forward. */
    L->closing = false;
    L->last = L->tip;
    L->burned = L->pend_burned;
    int rc = adopt_frozen(L);
    jn_view_clear(&L->frozen);
    L->open.parent = NULL; /* its parent's changes are in base now */
    jn_view_init(&L->frozen, NULL, &L->base);
    jn_map_clear(&L->closing_ids);
    /* Transactions stripped by this job are freed here; the previous
     * ledger's go to the next job for stripping. */
    list_clear(&L->strip, true);
    jn_txlist stripped = L->strip;
    L->strip = L->closed;
    L->closed = L->closing_txs;
    L->closing_txs = stripped;
    if (rc) {
        snprintf(err, errcap, "out of memory merging ledger %" PRIu32, L->last.seq);
        return -1;
    }
    *closed = &L->closed;
    return 0;
}

int jn_ledger_close_begin(jn_ledger *L, uint32_t now, char *err, size_t errcap)
{
    if (L->closing) {
        snprintf(err, errcap, "ledger %" PRIu32 " is still being written", L->tip.seq);
        return -1;
    }
    /* The header, but for what the canonical apply and the write fill in. */
    jn_header *h = &L->tip;
    memset(h, 0, sizeof *h);
    h->seq = L->last.seq + 1;
    memcpy(h->parent_hash, L->last.hash, 32);
    h->parent_close_time = L->last.close_time;
    h->close_time = now > L->last.close_time ? now : L->last.close_time + 1;
    h->close_resolution = 1;
    h->close_flags = 0;

    /* Freeze the open ledger; the next one opens over it at once. */
    jn_view_clear(&L->frozen);
    L->frozen = L->open;
    L->frozen.parent = NULL;
    free(L->closing_txs.v);
    L->closing_txs = L->open_txs;
    L->open_txs = (jn_txlist){0};
    jn_map_clear(&L->closing_ids);
    L->closing_ids = L->open_ids;
    jn_map_init(&L->open_ids);
    jn_view_init(&L->open, &L->frozen, &L->base);
    /* The next ledger is likely about as busy as this one (best effort). */
    (void)jn_map_reserve(&L->open_ids, L->closing_ids.n);
    (void)jn_map_reserve(&L->open.changes, L->frozen.changes.n);
    L->open_index = 0;
    L->closing = true;
    retry_held(L);

    /* Hand the canonical apply and the write over (or do them now). */
    if (L->has_writer) {
        pthread_mutex_lock(&L->wmu);
        L->w_done = false;
        L->w_job = true;
        pthread_cond_signal(&L->wcv);
        pthread_mutex_unlock(&L->wmu);
    } else {
        close_job(L);
        L->w_done = true;
    }
    (void)err;
    (void)errcap;
    return 0;
}

/* ---------------------------------------------------------------- verify */

typedef struct verify_ctx {
    jn_shamap *m;
    uint64_t swt;
    bool bad;
    char *err;
    size_t errcap;
} verify_ctx;

static int verify_state(void *vctx, const uint8_t id[32], const uint8_t *blob, size_t len)
{
    verify_ctx *vc = vctx;
    uint8_t leaf[32];
    jn_shamap_state_leaf(blob, len, id, leaf);
    if (jn_shamap_set(vc->m, id, leaf))
        return -1;
    jt_obj *o;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_obj_from_binary(blob, len, &o, &ei) != JT_OK) {
        char hex[65];
        (void)jt_hex_encode(id, 32, hex, sizeof hex);
        snprintf(vc->err, vc->errcap, "state entry %s does not decode: %s", hex, ei.msg);
        vc->bad = true;
        return 1;
    }
    uint64_t lt = 0;
    jt_amount a;
    if (jt_obj_get_uint_f(o, FLD("LedgerEntryType"), &lt) == JT_OK && lt == JT_LT_ACCOUNT_ROOT &&
        jt_obj_get_amount_f(o, FLD("Balance"), &a) == JT_OK && a.native && !a.negative)
        vc->swt += a.mantissa;
    jt_obj_free(o);
    return 0;
}

typedef struct txs_ctx {
    jn_shamap *m;
    uint32_t n;
    bool bad;
} txs_ctx;

static int verify_tx(void *vctx, const jn_txrec *t)
{
    txs_ctx *tc = vctx;
    uint8_t leaf[32], id[32];
    jt_tx_blob_id(t->blob, t->blob_len, id);
    if (memcmp(id, t->id, 32) != 0) {
        tc->bad = true;
        return 1;
    }
    jn_shamap_tx_leaf(t->blob, t->blob_len, t->meta, t->meta_len, t->id, leaf);
    tc->n++;
    return jn_shamap_set(tc->m, t->id, leaf);
}

int jn_ledger_verify(jn_store *st, char *err, size_t errcap, uint32_t *checked)
{
    jn_header last, h, prev;
    *checked = 0;
    err[0] = 0;
    int r = jn_store_last_header(st, &last);
    if (r) {
        snprintf(err, errcap, "%s", r == 1 ? "the store holds no ledger" : jn_store_errmsg(st));
        return 1;
    }
    uint32_t first;
    if (jn_store_first_seq(st, &first))
        first = last.seq;
    for (uint32_t seq = first; seq <= last.seq; seq++) {
        if (jn_store_header_by_seq(st, seq, &h)) {
            snprintf(err, errcap, "ledger %" PRIu32 ": header missing", seq);
            return 1;
        }
        uint8_t hash[32];
        jn_header_hash(&h, hash);
        if (memcmp(hash, h.hash, 32) != 0) {
            snprintf(err, errcap, "ledger %" PRIu32 ": header hash does not match its fields", seq);
            return 1;
        }
        if (seq > first && (memcmp(h.parent_hash, prev.hash, 32) != 0 ||
                            h.total_coins > prev.total_coins || h.close_time <= prev.close_time)) {
            snprintf(err, errcap, "ledger %" PRIu32 ": does not chain to ledger %" PRIu32, seq, seq - 1);
            return 1;
        }
        txs_ctx tc = {.m = jn_shamap_new()};
        if (!tc.m) {
            snprintf(err, errcap, "out of memory");
            return 1;
        }
        int tr = jn_store_ledger_txs(st, seq, verify_tx, &tc);
        uint8_t txh[32];
        jn_shamap_root(tc.m, txh);
        jn_shamap_free(tc.m);
        if (tr || tc.bad || memcmp(txh, h.tx_hash, 32) != 0 || tc.n != h.txn_count) {
            snprintf(err, errcap, "ledger %" PRIu32 ": transactions do not match its transaction hash", seq);
            return 1;
        }
        prev = h;
        (*checked)++;
    }
    verify_ctx vc = {.m = jn_shamap_new(), .err = err, .errcap = errcap};
    if (!vc.m) {
        snprintf(err, errcap, "out of memory");
        return 1;
    }
    r = jn_store_state_foreach(st, verify_state, &vc);
    uint8_t root[32];
    jn_shamap_root(vc.m, root);
    jn_shamap_free(vc.m);
    if (r || vc.bad) {
        if (!err[0])
            snprintf(err, errcap, "ledger %" PRIu32 ": reading state: %s", last.seq, jn_store_errmsg(st));
        return 1;
    }
    if (memcmp(root, last.account_hash, 32) != 0) {
        snprintf(err, errcap, "ledger %" PRIu32 ": state does not match its account hash", last.seq);
        return 1;
    }
    if (vc.swt != last.total_coins) {
        snprintf(err, errcap,
                 "ledger %" PRIu32 ": SWT balances add up to %" PRIu64 " drops, total coins are %" PRIu64,
                 last.seq, vc.swt, last.total_coins);
        return 1;
    }
    return 0;
}
