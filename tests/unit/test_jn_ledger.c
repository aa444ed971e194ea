/* test_jn_ledger.c — jt-node's ledger: closing while the next ledger is
 * open, on a real LMDB store in a temporary directory.
 *
 * A close freezes the open ledger (its state and its transactions, in
 * arrival order, each with the metadata its one apply built) and opens the
 * next one over it; the write runs later (on the writer thread, or inline
 * here). A transaction's result in the closed ledger is the one its submit
 * reported, even when it depended on the order. The state in memory must
 * equal the stored one byte for byte, and `jn_ledger_verify` must pass. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jt/jt.h>

#include "ledger.h"
#include "testutil.h"

#define SWT 1000000ull

typedef struct party {
    jt_keypair kp;
    jt_account_id id;
    uint32_t seq; /* next Sequence */
} party;

typedef struct fix {
    char dir[64];
    jn_store *st;
    jn_ledger *L;
    jn_params p;
    party gen;
    party a[6];
    uint32_t now;
} fix;


static void new_party(party *x)
{
    jt_seed seed;
    assert_int_equal(jt_seed_generate(JT_KEY_SECP256K1, &seed), JT_OK);
    assert_int_equal(jt_keypair_from_seed(&seed, &x->kp), JT_OK);
    assert_int_equal(jt_account_id_from_pubkey(x->kp.pub, 33, &x->id), JT_OK);
    x->seq = 1;
}

/* Submits a signed-looking SWT payment (the ledger trusts that signatures
 * were checked); returns the open-ledger result and the ID in `id`. */
static int pay(fix *f, party *from, const party *to, uint64_t drops, uint8_t id[32])
{
    jt_obj *tx = jt_obj_new();
    jt_amount amt = {.native = true, .mantissa = drops}, fee = {.native = true, .mantissa = 10};
    assert_non_null(tx);
    assert_int_equal(jt_obj_set_uint(tx, "TransactionType", JT_TX_PAYMENT), JT_OK);
    assert_int_equal(jt_obj_set_uint(tx, "Flags", 0x80000000u), JT_OK);
    assert_int_equal(jt_obj_set_uint(tx, "Sequence", from->seq), JT_OK);
    assert_int_equal(jt_obj_set_account(tx, "Account", &from->id), JT_OK);
    assert_int_equal(jt_obj_set_account(tx, "Destination", &to->id), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "Amount", &amt), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "Fee", &fee), JT_OK);
    assert_int_equal(jt_obj_set_bytes(tx, "SigningPubKey", from->kp.pub, 33), JT_OK);
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(jt_obj_to_binary(tx, 0, &b), JT_OK);
    jt_tx_blob_id(b.data, b.len, id);
    int ter = jn_ledger_submit(f->L, tx, b.data, b.len, id, NULL);
    jt_buf_clear(&b);
    if (jt_ter_is_claimed(ter))
        from->seq++;
    return ter;
}

static void close_begin(fix *f)
{
    char err[256];
    int rc = jn_ledger_close_begin(f->L, ++f->now, err, sizeof err);
    if (rc)
        print_error("close_begin: %s\n", err);
    assert_int_equal(rc, 0);
}

static const jn_txlist *close_finish(fix *f)
{
    char err[256];
    const jn_txlist *closed = NULL;
    jn_ledger_close_wait(f->L);
    int rc = jn_ledger_close_finish(f->L, &closed, err, sizeof err);
    if (rc)
        print_error("close_finish: %s\n", err);
    assert_int_equal(rc, 0);
    return closed;
}

static int64_t balance(const jn_view *v, const party *x)
{
    uint8_t k[32];
    jn_id_account(&x->id, k);
    const jt_obj *o = jn_view_read(v, k);
    jt_amount a;
    if (!o || jt_obj_get_amount(o, "Balance", &a) != JT_OK)
        return -1;
    return (int64_t)a.mantissa;
}

static int result_of(const jn_txlist *l, const uint8_t id[32])
{
    for (size_t i = 0; i < l->n; i++)
        if (!memcmp(l->v[i]->id, id, 32))
            return l->v[i]->ter;
    return 999;
}

/* ---------------------------------------------------------------- state check */

typedef struct ent {
    uint8_t id[32];
    uint8_t *blob;
    size_t len;
} ent;

typedef struct ents {
    ent *v;
    size_t n, cap;
} ents;

static void mem_entry(void *ctx, const uint8_t id[32], const jt_obj *o)
{
    ents *e = ctx;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        assert_non_null(e->v);
    }
    jt_buf b;
    jt_buf_init(&b);
    assert_int_equal(jt_obj_to_binary(o, 0, &b), JT_OK);
    memcpy(e->v[e->n].id, id, 32);
    e->v[e->n].blob = b.data;
    e->v[e->n].len = b.len;
    e->n++;
}

typedef struct cmp_ctx {
    ents *mem;
    size_t seen;
} cmp_ctx;

static int stored_entry(void *vctx, const uint8_t id[32], const uint8_t *blob, size_t len)
{
    cmp_ctx *c = vctx;
    for (size_t i = 0; i < c->mem->n; i++) {
        ent *e = &c->mem->v[i];
        if (memcmp(e->id, id, 32))
            continue;
        if (e->len != len || memcmp(e->blob, blob, len)) {
            print_error("state entry %s differs between memory and store\n", tu_hex(id, 32));
            return 1;
        }
        c->seen++;
        return 0;
    }
    print_error("state entry %s is stored but not in memory\n", tu_hex(id, 32));
    return 1;
}

/* The closed state in memory equals the stored state, entry for entry, and
 * the store verifies (header hashes, chain, state hash, SWT total). */
static void check_state(fix *f)
{
    ents mem = {0};
    jn_view_foreach(jn_ledger_closed_view(f->L), mem_entry, &mem);
    cmp_ctx c = {.mem = &mem};
    assert_int_equal(jn_store_state_foreach(f->st, stored_entry, &c), 0);
    assert_int_equal(c.seen, mem.n);
    for (size_t i = 0; i < mem.n; i++)
        free(mem.v[i].blob);
    free(mem.v);
    char err[256];
    uint32_t checked;
    int rc = jn_ledger_verify(f->st, err, sizeof err, &checked);
    if (rc)
        print_error("verify: %s\n", err);
    assert_int_equal(rc, 0);
}

/* ---------------------------------------------------------------- fixture */

static unsigned g_max_held; /* 0: the default */

static int setup_common(void **state, bool writer)
{
    fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/jn_ledger_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char err[256];
    assert_int_equal(jn_store_open(f->dir, 0, &f->st, err, sizeof err), 0);
    jn_params_init(&f->p);
    if (g_max_held)
        f->p.max_held = g_max_held;
    new_party(&f->gen);
    f->now = 1000;
    assert_int_equal(jn_ledger_genesis(f->st, &f->p, &f->gen.id, f->now, err, sizeof err), 0);
    assert_int_equal(jn_ledger_load(f->st, &f->p, &f->L, err, sizeof err), 0);
    if (writer)
        assert_int_equal(jn_ledger_start_writer(f->L, NULL, NULL), 0);
    /* Six accounts with 100 SWT each, sorted by account ID so that a test
     * knows which of two accounts' transactions the close applies first. */
    for (int i = 0; i < 6; i++)
        new_party(&f->a[i]);
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            if (memcmp(&f->a[j].id, &f->a[i].id, 20) < 0) {
                party t = f->a[i];
                f->a[i] = f->a[j];
                f->a[j] = t;
            }
    uint8_t id[32];
    for (int i = 0; i < 6; i++)
        assert_int_equal(pay(f, &f->gen, &f->a[i], 100 * SWT, id), JT_tesSUCCESS);
    close_begin(f);
    const jn_txlist *closed = close_finish(f);
    assert_int_equal(closed->n, 6);
    *state = f;
    return 0;
}

static int setup_inline(void **state) { return setup_common(state, false); }
static int setup_writer(void **state) { return setup_common(state, true); }
static int setup_held3(void **state)
{
    g_max_held = 3;
    int r = setup_common(state, false);
    g_max_held = 0;
    return r;
}

static int teardown(void **state)
{
    fix *f = *state;
    jn_ledger_free(f->L);
    jn_store_close(f->st);
    tu_rm_rf(f->dir);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------- tests */

/* Payments, several per account, in descending account order; more arrive
 * while the ledger is closing. TransactionIndex is the arrival order. */
static void busy_close(void **state)
{
    fix *f = *state;
    uint8_t id[32];
    for (int round = 0; round < 3; round++) {
        for (int i = 5; i >= 0; i--)
            for (int k = 1; k <= 2; k++)
                assert_int_equal(pay(f, &f->a[i], &f->a[(i + k) % 6], (uint64_t)(i + k) * 1000, id),
                                 JT_tesSUCCESS);
        close_begin(f);
        /* The next ledger is open at once, over the frozen state. */
        for (int i = 0; i < 6; i += 2)
            assert_int_equal(pay(f, &f->a[i], &f->a[i + 1], 777, id), JT_tesSUCCESS);
        const jn_txlist *closed = close_finish(f);
        assert_int_equal(closed->n, 12);
        for (size_t i = 0; i < closed->n; i++) {
            assert_int_equal(closed->v[i]->ter, JT_tesSUCCESS);
            assert_int_equal(closed->v[i]->index, i);
        }
        check_state(f);
        assert_int_equal(jn_ledger_open_txs(f->L)->n, 3);
        close_begin(f);
        closed = close_finish(f);
        assert_int_equal(closed->n, 3);
        check_state(f);
    }
    /* Every account paid out and received the same totals in each round. */
    const jn_view *cv = jn_ledger_closed_view(f->L);
    int64_t total = 0;
    for (int i = 0; i < 6; i++)
        total += balance(cv, &f->a[i]);
    assert_int_equal(total, (int64_t)(600 * SWT) - 3 * (12 + 3) * 10);
}

/* B pays A, then A spends what B sent: both succeed in the open ledger, and
 * the closed ledger keeps them in that order with those results (skywelld
 * would apply them again in canonical order at the close, where A's payment
 * sorts first and is unfunded; jt-node has one order already, docs/node.md).
 * Meanwhile C spends, in the next open ledger, what A's payment sent it;
 * that stands too, and nothing is applied twice. */
static void arrival_order_close(void **state)
{
    fix *f = *state;
    party *A = &f->a[0], *B = &f->a[1], *C = &f->a[2], *D = &f->a[3];
    uint8_t from_b[32], from_a[32], from_c[32], later_a[32];
    assert_int_equal(pay(f, B, A, 50 * SWT, from_b), JT_tesSUCCESS);
    assert_int_equal(pay(f, A, C, 120 * SWT, from_a), JT_tesSUCCESS);
    close_begin(f);
    assert_int_equal(balance(jn_ledger_open_view(f->L), C), (int64_t)(220 * SWT));
    assert_int_equal(pay(f, C, D, 150 * SWT, from_c), JT_tesSUCCESS);
    assert_int_equal(pay(f, A, D, 1 * SWT, later_a), JT_tesSUCCESS);
    const jn_txlist *closed = close_finish(f);
    assert_int_equal(closed->n, 2);
    assert_memory_equal(closed->v[0]->id, from_b, 32);
    assert_memory_equal(closed->v[1]->id, from_a, 32);
    assert_int_equal(closed->v[0]->index, 0);
    assert_int_equal(closed->v[1]->index, 1);
    assert_int_equal(result_of(closed, from_a), JT_tesSUCCESS);
    assert_int_equal(result_of(closed, from_b), JT_tesSUCCESS);
    check_state(f);
    const jn_view *cv = jn_ledger_closed_view(f->L);
    assert_int_equal(balance(cv, A), (int64_t)(30 * SWT) - 10);
    assert_int_equal(balance(cv, C), (int64_t)(220 * SWT));

    /* The open ledger stands as it was built. */
    const jn_tx *t = jn_ledger_open_tx(f->L, from_c);
    assert_non_null(t);
    assert_int_equal(t->ter, JT_tesSUCCESS);
    const jn_view *ov = jn_ledger_open_view(f->L);
    assert_int_equal(balance(ov, C), (int64_t)(70 * SWT) - 10);
    assert_int_equal(balance(ov, A), (int64_t)(29 * SWT) - 20);

    close_begin(f);
    closed = close_finish(f);
    assert_int_equal(closed->n, 2);
    assert_int_equal(result_of(closed, from_c), JT_tesSUCCESS);
    assert_int_equal(result_of(closed, later_a), JT_tesSUCCESS);
    check_state(f);
    assert_int_equal(balance(jn_ledger_closed_view(f->L), D), (int64_t)(251 * SWT));
}

/* The open ledger receives A's Sequence n+1 while A's Sequence n sits in
 * the ledger being closed: nothing is dropped, and both end up in
 * consecutive ledgers. */
static void closing_then_next(void **state)
{
    fix *f = *state;
    party *A = &f->a[4], *B = &f->a[5];
    uint8_t first[32], second[32];
    assert_int_equal(pay(f, A, B, 5 * SWT, first), JT_tesSUCCESS);
    close_begin(f);
    /* While closing, the first payment is found as not yet validated. */
    assert_non_null(jn_ledger_open_tx(f->L, first));
    assert_int_equal(pay(f, A, B, 6 * SWT, second), JT_tesSUCCESS);
    const jn_txlist *closed = close_finish(f);
    assert_int_equal(result_of(closed, first), JT_tesSUCCESS);
    close_begin(f);
    closed = close_finish(f);
    assert_int_equal(result_of(closed, second), JT_tesSUCCESS);
    check_state(f);
    assert_int_equal(balance(jn_ledger_closed_view(f->L), B), (int64_t)(111 * SWT));
}

/* Early transactions (terPRE_SEQ) are held up to max_held: one more is
 * refused with telINSUF_FEE_P (not kept, and not answered as held); one
 * already held is answered terPRE_SEQ again and held once; the held ones
 * apply when the missing Sequence arrives. */
static void held_queue_full(void **state)
{
    fix *f = *state;
    party *A = &f->a[0], *B = &f->a[1];
    uint8_t held[3][32], extra[32], again[32], first[32];
    uint32_t s0 = A->seq;
    for (int i = 0; i < 3; i++) {
        A->seq = s0 + 1 + (uint32_t)i;
        assert_int_equal(pay(f, A, B, 1000, held[i]), JT_terPRE_SEQ);
    }
    A->seq = s0 + 4;
    assert_int_equal(pay(f, A, B, 1000, extra), JT_telINSUF_FEE_P);
    A->seq = s0 + 2;
    assert_int_equal(pay(f, A, B, 1000, again), JT_terPRE_SEQ);
    assert_memory_equal(again, held[1], 32);
    A->seq = s0;
    assert_int_equal(pay(f, A, B, 1000, first), JT_tesSUCCESS);
    close_begin(f);
    const jn_txlist *closed = close_finish(f);
    assert_int_equal(result_of(closed, first), JT_tesSUCCESS);
    close_begin(f);
    closed = close_finish(f);
    for (int i = 0; i < 3; i++)
        assert_int_equal(result_of(closed, held[i]), JT_tesSUCCESS);
    assert_int_equal(closed->n, 3);
    assert_int_equal(result_of(closed, extra), 999);
    check_state(f);
}

/* ---------------------------------------------------------------- fast path */

static jt_obj *root_entry(const party *x, uint64_t drops, uint32_t flags, bool threaded)
{
    jt_obj *o = jt_obj_new();
    jt_amount bal = {.native = true, .mantissa = drops};
    assert_non_null(o);
    assert_int_equal(jt_obj_set_uint(o, "LedgerEntryType", JT_LT_ACCOUNT_ROOT), JT_OK);
    assert_int_equal(jt_obj_set_account(o, "Account", &x->id), JT_OK);
    assert_int_equal(jt_obj_set_amount(o, "Balance", &bal), JT_OK);
    assert_int_equal(jt_obj_set_uint(o, "Sequence", x->seq), JT_OK);
    assert_int_equal(jt_obj_set_uint(o, "Flags", flags), JT_OK);
    assert_int_equal(jt_obj_set_uint(o, "OwnerCount", 0), JT_OK);
    if (threaded) {
        uint8_t h[32];
        memset(h, 0x5A, 32);
        assert_int_equal(jt_obj_set_bytes(o, "PreviousTxnID", h, 32), JT_OK);
        assert_int_equal(jt_obj_set_uint(o, "PreviousTxnLgrSeq", 3), JT_OK);
    }
    return o;
}

static void state_of(const jn_view *v, ents *out)
{
    jn_view_foreach(v, mem_entry, out);
}

static const ent *find_ent(const ents *e, const uint8_t id[32])
{
    for (size_t i = 0; i < e->n; i++)
        if (!memcmp(e->v[i].id, id, 32))
            return &e->v[i];
    return NULL;
}

/* The plain SWT payment path (no sandbox) gives exactly what the general
 * path gives: results, fees, metadata bytes and the state, over a random
 * mix of payments that take it and payments that must not (unfunded, to a
 * new account, to a RequireDest account without a tag, from an entry not
 * yet threaded, out of sequence, dust below the reserve). */
static void fast_path_matches_general_path(void **state)
{
    (void)state;
    enum { N = 12, TXS = 3000 };
    party p[N + 4];
    jn_map base;
    jn_map_init(&base);
    for (int i = 0; i < N + 4; i++) {
        new_party(&p[i]);
        if (i >= N)
            continue; /* p[N..]: do not exist yet */
        uint8_t k[32];
        jn_id_account(&p[i].id, k);
        jn_slot *s = jn_map_slot(&base, k);
        assert_non_null(s);
        s->obj = root_entry(&p[i], (uint64_t)(20 + 7 * i) * SWT, i == 3 ? 0x00020000u : 0, i != 5);
    }
    jn_view fast, slow;
    jn_view_init(&fast, NULL, &base);
    jn_view_init(&slow, NULL, &base);
    jn_env env = {.base_fee = 10, .reserve_base = 10 * SWT, .reserve_inc = SWT, .ledger_seq = 4,
                  .parent_close_time = 1000};
    jn_env env_slow = env;
    env_slow.no_fast_path = true;
    uint32_t rnd = 12345, took_fast = 0, claimed = 0;
    for (int n = 0; n < TXS; n++) {
        rnd = rnd * 1103515245u + 12345u;
        party *from = &p[(rnd >> 8) % N];
        party *to = &p[(rnd >> 12) % (N + 4)];
        if (to == from)
            continue;
        uint64_t drops = (rnd >> 16) % 4 == 0 ? (uint64_t)((rnd >> 4) % 40) * SWT : (rnd >> 4) % 5000 + 1;
        jt_obj *tx = jt_obj_new();
        jt_amount amt = {.native = true, .mantissa = drops}, fee = {.native = true, .mantissa = 10 + (rnd & 3)};
        uint32_t seq = from->seq + ((rnd >> 20) % 16 == 0 ? 1 : 0); /* now and then out of sequence */
        assert_int_equal(jt_obj_set_uint(tx, "TransactionType", JT_TX_PAYMENT), JT_OK);
        assert_int_equal(jt_obj_set_uint(tx, "Flags", 0x80000000u), JT_OK);
        assert_int_equal(jt_obj_set_uint(tx, "Sequence", seq), JT_OK);
        assert_int_equal(jt_obj_set_account(tx, "Account", &from->id), JT_OK);
        assert_int_equal(jt_obj_set_account(tx, "Destination", &to->id), JT_OK);
        assert_int_equal(jt_obj_set_amount(tx, "Amount", &amt), JT_OK);
        assert_int_equal(jt_obj_set_amount(tx, "Fee", &fee), JT_OK);
        if ((rnd >> 24) % 3 == 0)
            assert_int_equal(jt_obj_set_uint(tx, "DestinationTag", 7), JT_OK);
        assert_int_equal(jt_obj_set_bytes(tx, "SigningPubKey", from->kp.pub, 33), JT_OK);
        uint8_t id[32];
        jt_buf b;
        jt_buf_init(&b);
        assert_int_equal(jt_obj_to_binary(tx, 0, &b), JT_OK);
        jt_tx_blob_id(b.data, b.len, id);
        jt_buf_clear(&b);

        jn_applied fa, sa;
        jn_txmemo memo = {0};
        int rf = jn_apply(&fast, &env, tx, id, (uint32_t)n, &memo, &fa);
        int rs = jn_apply(&slow, &env_slow, tx, id, (uint32_t)n, NULL, &sa);
        assert_int_equal(rf, rs);
        assert_false(sa.fast);
        assert_int_equal(fa.fee, sa.fee);
        /* Two writers of the same metadata bytes (fastpay.c and meta.c),
         * and the same accounts touched. */
        assert_int_equal(!fa.meta_bin.data, !sa.meta_bin.data);
        assert_int_equal(!sa.meta_bin.data, !jt_ter_is_claimed(rs));
        if (sa.meta_bin.data) {
            const jt_buf *mf = &fa.meta_bin, *ms = &sa.meta_bin;
            if (mf->len != ms->len || memcmp(mf->data, ms->data, mf->len))
                print_error("tx %d: metadata differs\n fast %s\n", n, tu_hex(mf->data, mf->len));
            assert_memory_equal(mf->data, ms->data, mf->len < ms->len ? mf->len : ms->len);
            assert_int_equal(mf->len, ms->len);
            assert_int_equal(fa.accts.n, sa.accts.n);
            assert_memory_equal(fa.accts.v, sa.accts.v, fa.accts.n * sizeof fa.accts.v[0]);
        }
        jt_buf_clear(&fa.meta_bin);
        jt_buf_clear(&sa.meta_bin);
        jt_obj_free(tx);
        took_fast += fa.fast;
        if (jt_ter_is_claimed(rf)) {
            claimed++;
            from->seq++;
        }
    }
    /* Both paths were exercised, and the states are the same. */
    assert_true(took_fast > TXS / 4);
    assert_true(claimed > took_fast);
    ents ef = {0}, es = {0};
    state_of(&fast, &ef);
    state_of(&slow, &es);
    assert_int_equal(ef.n, es.n);
    for (size_t i = 0; i < ef.n; i++) {
        const ent *o = find_ent(&es, ef.v[i].id);
        assert_non_null(o);
        assert_int_equal(o->len, ef.v[i].len);
        assert_memory_equal(o->blob, ef.v[i].blob, o->len);
    }
    for (size_t i = 0; i < ef.n; i++)
        free(ef.v[i].blob);
    for (size_t i = 0; i < es.n; i++)
        free(es.v[i].blob);
    free(ef.v);
    free(es.v);
    jn_view_clear(&fast);
    jn_view_clear(&slow);
    jn_map_clear(&base);
}

/* The same with the writer thread doing the write. */
static void busy_close_on_writer(void **state) { busy_close(state); }
static void arrival_order_close_on_writer(void **state) { arrival_order_close(state); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(busy_close, setup_inline, teardown),
        cmocka_unit_test_setup_teardown(arrival_order_close, setup_inline, teardown),
        cmocka_unit_test_setup_teardown(closing_then_next, setup_inline, teardown),
        cmocka_unit_test_setup_teardown(held_queue_full, setup_held3, teardown),
        cmocka_unit_test_setup_teardown(busy_close_on_writer, setup_writer, teardown),
        cmocka_unit_test_setup_teardown(arrival_order_close_on_writer, setup_writer, teardown),
        cmocka_unit_test(fast_path_matches_general_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
