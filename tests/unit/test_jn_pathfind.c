/* Unit tests of jt-node's path finder (pathfind.c) over a ledger built by
 * the engine itself (jn_apply, unsigned transactions): a path through a
 * book, rippling through two issuers, a bridge through SWT, no path, and
 * the bounds of a search that would run long. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jt/jt.h>

#include "apply.h"
#include "pathfind.h"
#include "readmodel.h"
#include "state.h"

typedef struct party {
    jt_keypair kp;
    jt_account_id id;
} party;

typedef struct world {
    jn_map base;
    jn_view view;
    jn_env env;
    uint32_t index;
    party gen;
    jt_currency cny, usd;
} world;

static void party_init(party *p, const char *name)
{
    char phrase[64];
    snprintf(phrase, sizeof phrase, "jt-node pathfind test %s", name);
    jt_seed seed;
    jt_seed_from_passphrase(phrase, JT_KEY_ED25519, &seed);
    assert_int_equal(jt_keypair_from_seed(&seed, &p->kp), JT_OK);
    assert_int_equal(jt_account_id_from_pubkey(p->kp.pub, 33, &p->id), JT_OK);
}

static jt_amount swt(int64_t drops)
{
    jt_amount a;
    jt_amount_native(&a, drops);
    return a;
}

static jt_amount iou(int64_t units, const jt_currency *cur, const party *iss)
{
    jt_amount a;
    assert_int_equal(jt_amount_from_mantissa(&a, units, 0, cur, &iss->id), JT_OK);
    return a;
}

static jt_obj *tx_new(int type, const party *from)
{
    jt_obj *tx = jt_obj_new();
    assert_non_null(tx);
    assert_int_equal(jt_obj_set_uint(tx, "TransactionType", (uint64_t)type), JT_OK);
    assert_int_equal(jt_obj_set_account(tx, "Account", &from->id), JT_OK);
    assert_int_equal(jt_obj_set_uint(tx, "Flags", JT_TF_FULLY_CANONICAL_SIG), JT_OK);
    return tx;
}

static void apply(world *W, jt_obj *tx, const party *from)
{
    const jt_obj *root = jn_read_account(&W->view, &from->id);
    uint64_t seq = 1;
    if (root)
        if (jt_obj_get_uint(root, "Sequence", &seq) != JT_OK)
            seq = 1;
    jt_amount fee = swt(10);
    assert_int_equal(jt_obj_set_uint(tx, "Sequence", seq), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "Fee", &fee), JT_OK);
    assert_int_equal(jt_obj_set_bytes(tx, "SigningPubKey", from->kp.pub, 33), JT_OK);
    jt_buf blob;
    jt_buf_init(&blob);
    assert_int_equal(jt_obj_to_binary(tx, 0, &blob), JT_OK);
    uint8_t id[32];
    jt_tx_blob_id(blob.data, blob.len, id);
    jt_buf_clear(&blob);
    jn_applied ap;
    memset(&ap, 0, sizeof ap);
    int ter = jn_apply(&W->view, &W->env, tx, id, W->index++, NULL, &ap);
    jt_buf_clear(&ap.meta_bin);
    jt_obj_free(tx);
    assert_int_equal(ter, JT_tesSUCCESS);
}

static void pay(world *W, const party *from, const party *to, const jt_amount *amt)
{
    jt_obj *tx = tx_new(JT_TX_PAYMENT, from);
    assert_int_equal(jt_obj_set_account(tx, "Destination", &to->id), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "Amount", amt), JT_OK);
    apply(W, tx, from);
}

static void trust(world *W, const party *from, const jt_amount *limit)
{
    jt_obj *tx = tx_new(JT_TX_TRUST_SET, from);
    assert_int_equal(jt_obj_set_amount(tx, "LimitAmount", limit), JT_OK);
    apply(W, tx, from);
}

static void offer(world *W, const party *from, const jt_amount *pays, const jt_amount *gets)
{
    jt_obj *tx = tx_new(JT_TX_OFFER_CREATE, from);
    assert_int_equal(jt_obj_set_amount(tx, "TakerPays", pays), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "TakerGets", gets), JT_OK);
    apply(W, tx, from);
}

static void fund(world *W, const party *p)
{
    jt_amount a = swt(INT64_C(100000) * 1000000);
    pay(W, &W->gen, p, &a);
}

static void world_init(world *W)
{
    memset(W, 0, sizeof *W);
    W->env = (jn_env){.base_fee = 10,
                      .reserve_base = 10000000,
                      .reserve_inc = 1000000,
                      .ledger_seq = 2,
                      .parent_close_time = 600000000,
                      .no_fast_path = true};
    jn_map_init(&W->base);
    party_init(&W->gen, "genesis");
    assert_int_equal(jt_currency_from_text("CNY", false, &W->cny, NULL), JT_OK);
    assert_int_equal(jt_currency_from_text("USD", false, &W->usd, NULL), JT_OK);
    jt_obj *root = jt_obj_new();
    jt_amount bal = swt(INT64_C(100000000000000000));
    assert_non_null(root);
    assert_int_equal(jt_obj_set_uint(root, "LedgerEntryType", JT_LT_ACCOUNT_ROOT), JT_OK);
    assert_int_equal(jt_obj_set_account(root, "Account", &W->gen.id), JT_OK);
    assert_int_equal(jt_obj_set_amount(root, "Balance", &bal), JT_OK);
    assert_int_equal(jt_obj_set_uint(root, "Sequence", 1), JT_OK);
    assert_int_equal(jt_obj_set_uint(root, "Flags", 0), JT_OK);
    assert_int_equal(jt_obj_set_uint(root, "OwnerCount", 0), JT_OK);
    uint8_t k[32];
    jn_id_account(&W->gen.id, k);
    assert_int_equal(jn_map_put(&W->base, k, root), 0);
    jn_view_init(&W->view, NULL, &W->base);
}

static void world_free(world *W)
{
    jn_view_clear(&W->view);
    jn_map_clear(&W->base);
}

static const jn_pf_alt *alt_in(const jn_pf_result *r, bool native, const jt_currency *cur)
{
    for (size_t i = 0; i < r->n; i++) {
        const jt_amount *a = &r->alt[i].source_amount;
        if (a->native == native && (native || !memcmp(&a->currency, cur, sizeof *cur)))
            return &r->alt[i];
    }
    return NULL;
}

static bool path_has_book(const jn_pf_alt *a, const jt_currency *cur, bool native)
{
    for (size_t p = 0; p < a->n_paths; p++)
        for (size_t e = 0; e < a->paths[p].n; e++) {
            const jn_pf_elem *x = &a->paths[p].e[e];
            if ((x->type & JN_PF_CURRENCY) &&
                (native ? jt_currency_is_swt(&x->currency) : !memcmp(&x->currency, cur, sizeof *cur)))
                return true;
        }
    return false;
}

/* S holds SWT only; M sells CNY of I at 10 SWT each; D trusts I. */
static void test_book_path(void **state)
{
    world W;
    world_init(&W);
    party I, M, S, D;
    party_init(&I, "I");
    party_init(&M, "M");
    party_init(&S, "S");
    party_init(&D, "D");
    fund(&W, &I), fund(&W, &M), fund(&W, &S), fund(&W, &D);
    jt_amount lim = iou(100000, &W.cny, &I);
    trust(&W, &M, &lim), trust(&W, &D, &lim);
    jt_amount a = iou(1000, &W.cny, &I);
    pay(&W, &I, &M, &a);
    jt_amount p = swt(INT64_C(10000) * 1000000);
    offer(&W, &M, &p, &a);

    jn_pf_result r;
    jt_amount want = iou(10, &W.cny, &D); /* issuer D: any issuer D takes */
    assert_int_equal(jn_pathfind(&W.view, &W.env, &S.id, &D.id, &want, NULL, 0, NULL, &r), 0);
    const jn_pf_alt *alt = alt_in(&r, true, NULL);
    assert_non_null(alt);
    assert_true(alt->n_paths >= 1);
    assert_true(path_has_book(alt, &W.cny, false));
    assert_int_equal(jt_amount_drops(&alt->source_amount), INT64_C(100) * 1000000);
    assert_false(r.truncated);
    world_free(&W);
}

/* S holds CNY of I; D trusts only X; X trusts I: S → I → X → D. */
static void test_ripple_through_issuers(void **state)
{
    world W;
    world_init(&W);
    party I, X, S, D;
    party_init(&I, "I");
    party_init(&X, "X");
    party_init(&S, "S");
    party_init(&D, "D");
    fund(&W, &I), fund(&W, &X), fund(&W, &S), fund(&W, &D);
    jt_amount li = iou(1000, &W.cny, &I), lx = iou(1000, &W.cny, &X);
    trust(&W, &S, &li), trust(&W, &X, &li), trust(&W, &D, &lx);
    jt_amount a = iou(50, &W.cny, &I);
    pay(&W, &I, &S, &a);

    jn_pf_result r;
    jt_amount want = iou(7, &W.cny, &D);
    assert_int_equal(jn_pathfind(&W.view, &W.env, &S.id, &D.id, &want, NULL, 0, NULL, &r), 0);
    const jn_pf_alt *alt = alt_in(&r, false, &W.cny);
    assert_non_null(alt);
    assert_memory_equal(&alt->source_amount.issuer, &S.id, 20); /* the sender: any issuer */
    jt_amount seven = iou(7, &W.cny, &S);
    assert_int_equal(jt_amount_cmp(&alt->source_amount, &seven), 0);
    bool via_x = false;
    for (size_t p = 0; p < alt->n_paths; p++)
        for (size_t e = 0; e < alt->paths[p].n; e++)
            if ((alt->paths[p].e[e].type & JN_PF_ACCOUNT) &&
                !memcmp(&alt->paths[p].e[e].account, &X.id, 20))
                via_x = true;
    assert_true(via_x);
    assert_null(alt_in(&r, true, NULL)); /* no book: SWT cannot pay */
    world_free(&W);
}

/* S holds CNY of I; books CNY/I → SWT and SWT → USD/J; D trusts J. */
static void test_swt_bridge(void **state)
{
    world W;
    world_init(&W);
    party I, J, M, N, S, D;
    party_init(&I, "I");
    party_init(&J, "J");
    party_init(&M, "M");
    party_init(&N, "N");
    party_init(&S, "S");
    party_init(&D, "D");
    fund(&W, &I), fund(&W, &J), fund(&W, &M), fund(&W, &N), fund(&W, &S), fund(&W, &D);
    jt_amount li = iou(100000, &W.cny, &I), lj = iou(100000, &W.usd, &J);
    trust(&W, &S, &li), trust(&W, &M, &li), trust(&W, &N, &lj), trust(&W, &D, &lj);
    jt_amount a = iou(100, &W.cny, &I);
    pay(&W, &I, &S, &a);
    jt_amount u = iou(1000, &W.usd, &J);
    pay(&W, &J, &N, &u);
    /* M buys CNY for SWT: 1 CNY → 10 SWT; N sells USD for SWT: 1 USD for 20 SWT. */
    jt_amount m_pays = iou(1000, &W.cny, &I), m_gets = swt(INT64_C(10000) * 1000000);
    offer(&W, &M, &m_pays, &m_gets);
    jt_amount n_pays = swt(INT64_C(20000) * 1000000);
    offer(&W, &N, &n_pays, &u);

    jn_pf_result r;
    jt_amount want = iou(5, &W.usd, &D);
    assert_int_equal(jn_pathfind(&W.view, &W.env, &S.id, &D.id, &want, NULL, 0, NULL, &r), 0);
    const jn_pf_alt *alt = alt_in(&r, false, &W.cny);
    assert_non_null(alt);
    assert_true(path_has_book(alt, NULL, true));
    jt_amount ten = iou(10, &W.cny, &S); /* 5 USD = 100 SWT = 10 CNY */
    assert_int_equal(jt_amount_cmp(&alt->source_amount, &ten), 0);
    /* And SWT itself pays through the USD book. */
    const jn_pf_alt *salt = alt_in(&r, true, NULL);
    assert_non_null(salt);
    assert_int_equal(jt_amount_drops(&salt->source_amount), INT64_C(100) * 1000000);
    world_free(&W);
}

static void test_no_path(void **state)
{
    world W;
    world_init(&W);
    party I, S, D;
    party_init(&I, "I");
    party_init(&S, "S");
    party_init(&D, "D");
    fund(&W, &I), fund(&W, &S), fund(&W, &D);
    jt_amount li = iou(1000, &W.cny, &I);
    trust(&W, &D, &li);
    jn_pf_result r;
    jt_amount want = iou(1, &W.usd, &I);
    assert_int_equal(jn_pathfind(&W.view, &W.env, &S.id, &D.id, &want, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.n, 0);
    /* CNY of I without any book: SWT cannot pay it either. */
    want = iou(1, &W.cny, &D);
    assert_int_equal(jn_pathfind(&W.view, &W.env, &S.id, &D.id, &want, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.n, 0);
    world_free(&W);
}

/* A gateway with many holders, each holding a line to many others: the
 * search would fan out widely. Each bound stops it with what it has. */
static void test_bounded(void **state)
{
    world W;
    world_init(&W);
    enum { HOLDERS = 120 };
    party I, S, D, h[HOLDERS];
    party_init(&I, "I");
    party_init(&S, "S");
    party_init(&D, "D");
    fund(&W, &I), fund(&W, &S), fund(&W, &D);
    jt_amount li = iou(100000, &W.cny, &I);
    trust(&W, &S, &li);
    jt_amount a = iou(10, &W.cny, &I);
    pay(&W, &I, &S, &a);
    for (int i = 0; i < HOLDERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "h%d", i);
        party_init(&h[i], name);
        fund(&W, &h[i]);
        trust(&W, &h[i], &li);
        if (i) {
            jt_amount lh = iou(1000, &W.cny, &h[i - 1]);
            trust(&W, &h[i], &lh);
        }
    }
    /* D takes CNY only from the last holder: far from S. */
    jt_amount ld = iou(1000, &W.cny, &h[HOLDERS - 1]);
    trust(&W, &D, &ld);

    jn_pf_result r;
    jt_amount want = iou(1, &W.cny, &D);
    jn_pf_limits lim = {.max_nodes = 50};
    assert_int_equal(jn_pathfind(&W.view, &W.env, &S.id, &D.id, &want, NULL, 0, &lim, &r), 0);
    assert_true(r.truncated);
    assert_true(r.nodes <= 51);

    lim = (jn_pf_limits){.max_calcs = 1};
    assert_int_equal(jn_pathfind(&W.view, &W.env, &S.id, &D.id, &want, NULL, 0, &lim, &r), 0);
    assert_true(r.calcs <= 3); /* one ranking run, then the final run's reserve */

    struct timespec t0, t1;
    lim = (jn_pf_limits){.max_ms = 1, .max_nodes = 1000000, .max_calcs = 100000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(jn_pathfind(&W.view, &W.env, &S.id, &D.id, &want, NULL, 0, &lim, &r), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms < 1000); /* 1 ms of search, then at most the final runs */

    /* The defaults finish on this ledger, whatever they find. */
    assert_int_equal(jn_pathfind(&W.view, &W.env, &S.id, &D.id, &want, NULL, 0, NULL, &r), 0);
    assert_true(r.calcs <= JN_PF_DEFAULT_CALCS + 2);
    world_free(&W);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_book_path),
        cmocka_unit_test(test_ripple_through_issuers),
        cmocka_unit_test(test_swt_bridge),
        cmocka_unit_test(test_no_path),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
