/* test_jn_offers_prop.c — jt-node's offer crossing under random order flow.
 *
 * Each test runs for a fixed list of seeds, so a run is reproducible; the
 * seed is printed first. JT_PROPTEST_SEED=N runs seed N alone,
 * JT_PROPTEST_TXS=N sets how many transactions it generates, and
 * JT_PROPTEST_TRACE=1 prints every transaction as it is applied.
 *
 *  - model_agrees: one token/SWT pair. The same random orders go to the
 *    engine (jn_apply over a ledger in memory, closed every few
 *    transactions) and to book_model.c, a plain price-time order book that
 *    shares no code with the engine. After every transaction: the result,
 *    every fill (which offer, how much each side paid, read from the
 *    metadata), every offer removed or placed, every account's balances and
 *    both books, offer by offer, must agree.
 *  - ledger_invariants: ~30 accounts, three issuers (one with a
 *    TransferRate), random OfferCreate, OfferCancel and Payments (among
 *    them cross-currency and partial payments through the books) over
 *    hundreds of ledgers closed by the ledger module on a store in a
 *    temporary directory. See the comment above ledger_invariants.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jt/jt.h>

#include "apply.h"
#include "book_model.h"
#include "ledger.h"
#include "readmodel.h"
#include "state.h"
#include "store.h"
#include "testutil.h"

/* ---------------------------------------------------------------- common */

/* splitmix64: small, fast, and the same sequence everywhere. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t below(rng *r, uint32_t n)
{
    return n ? (uint32_t)(rnd(r) % n) : 0;
}

static bool chance(rng *r, unsigned percent)
{
    return below(r, 100) < percent;
}

static bool g_trace;

/* Diagnostics to stderr, whole (cmocka's print_error cuts a message at
 * 1 KiB, and a transaction with its metadata is longer). */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end) {
        say("%s: not a number: \"%s\"\n", name, s);
        fail();
    }
    return v;
}

typedef struct party {
    char name[16];
    jt_keypair kp;
    jt_account_id id;
} party;

/* Keys from a pass phrase, so that every run has the same accounts. */
static void party_init(party *p, const char *prefix, int n)
{
    char name[16], phrase[64];
    if (n >= 0)
        snprintf(name, sizeof name, "%s%d", prefix, n);
    else
        snprintf(name, sizeof name, "%s", prefix);
    snprintf(phrase, sizeof phrase, "jt-node offers proptest %s", name);
    jt_seed seed;
    jt_seed_from_passphrase(phrase, JT_KEY_ED25519, &seed);
    assert_int_equal(jt_keypair_from_seed(&seed, &p->kp), JT_OK);
    assert_int_equal(jt_account_id_from_pubkey(p->kp.pub, 33, &p->id), JT_OK);
    snprintf(p->name, sizeof p->name, "%s", name);
}

static bool same_id(const jt_account_id *a, const jt_account_id *b)
{
    return memcmp(a->bytes, b->bytes, 20) == 0;
}

static jt_amount swt(int64_t drops)
{
    jt_amount a;
    jt_amount_native(&a, drops);
    return a;
}

/* units·10^exp of cur issued by iss. */
static jt_amount iou(int64_t units, int exp, const jt_currency *cur, const jt_account_id *iss)
{
    jt_amount a;
    assert_int_equal(jt_amount_from_mantissa(&a, units, exp, cur, iss), JT_OK);
    return a;
}

static const char *amount_text(const jt_amount *a)
{
    static char ring[8][JT_AMOUNT_TEXT_MAX + 8];
    static int k;
    char *s = ring[k++ & 7];
    if (jt_amount_value_text(a, s, JT_AMOUNT_TEXT_MAX) != JT_OK)
        snprintf(s, JT_AMOUNT_TEXT_MAX, "?");
    return s;
}

static const char *ter_name(int ter)
{
    const jt_ter *t = jt_ter_by_code(ter);
    return t ? t->token : "?";
}

static uint64_t get_uint(const jt_obj *o, const char *f, uint64_t dflt)
{
    uint64_t v;
    return jt_obj_get_uint(o, f, &v) == JT_OK ? v : dflt;
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

static jt_obj *tx_payment(const party *from, const party *to, const jt_amount *amt,
                          const jt_amount *send_max)
{
    jt_obj *tx = tx_new(JT_TX_PAYMENT, from);
    assert_int_equal(jt_obj_set_account(tx, "Destination", &to->id), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "Amount", amt), JT_OK);
    if (send_max)
        assert_int_equal(jt_obj_set_amount(tx, "SendMax", send_max), JT_OK);
    return tx;
}

static jt_obj *tx_trust(const party *from, const jt_amount *limit)
{
    jt_obj *tx = tx_new(JT_TX_TRUST_SET, from);
    assert_int_equal(jt_obj_set_amount(tx, "LimitAmount", limit), JT_OK);
    return tx;
}

/* OfferCreate; flags are JT_TF_*, expiration and cancel 0 for none. */
static jt_obj *tx_offer(const party *from, const jt_amount *pays, const jt_amount *gets,
                        uint32_t flags, uint32_t expiration, uint32_t cancel)
{
    jt_obj *tx = tx_new(JT_TX_OFFER_CREATE, from);
    assert_int_equal(jt_obj_set_uint(tx, "Flags", JT_TF_FULLY_CANONICAL_SIG | flags), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "TakerPays", pays), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "TakerGets", gets), JT_OK);
    if (expiration)
        assert_int_equal(jt_obj_set_uint(tx, "Expiration", expiration), JT_OK);
    if (cancel)
        assert_int_equal(jt_obj_set_uint(tx, "OfferSequence", cancel), JT_OK);
    return tx;
}

static jt_obj *tx_cancel(const party *from, uint32_t seq)
{
    jt_obj *tx = tx_new(JT_TX_OFFER_CANCEL, from);
    assert_int_equal(jt_obj_set_uint(tx, "OfferSequence", seq), JT_OK);
    return tx;
}

/* Sequence, Fee and SigningPubKey; the serialized form into blob (caller
 * clears) and its hash into id. Transactions apply unsigned: jn_apply and
 * jn_ledger_submit take them as already checked. */
static void tx_finish(jt_obj *tx, const party *from, uint32_t seq, int64_t fee, jt_buf *blob,
                      uint8_t id[32])
{
    jt_amount f = swt(fee);
    assert_int_equal(jt_obj_set_uint(tx, "Sequence", seq), JT_OK);
    assert_int_equal(jt_obj_set_amount(tx, "Fee", &f), JT_OK);
    assert_int_equal(jt_obj_set_bytes(tx, "SigningPubKey", from->kp.pub, 33), JT_OK);
    jt_buf_init(blob);
    assert_int_equal(jt_obj_to_binary(tx, 0, blob), JT_OK);
    jt_tx_blob_id(blob->data, blob->len, id);
}

static const char *json_of(const jt_obj *o, jt_buf *b)
{
    jt_buf_init(b);
    if (!o || jt_obj_to_json(o, b) != JT_OK || jt_buf_append(b, "", 1) != JT_OK)
        return "(none)";
    return (const char *)b->data;
}

static uint32_t account_seq(const jn_view *v, const jt_account_id *a)
{
    const jt_obj *root = jn_read_account(v, a);
    return root ? (uint32_t)get_uint(root, "Sequence", 1) : 1;
}

/* The offers of an account's owner directory, by Sequence. */
static size_t owner_offers(const jn_view *v, const jt_account_id *a, uint32_t *seqs, size_t cap)
{
    jn_dir_cursor c;
    memset(&c, 0, sizeof c);
    uint8_t item[32];
    size_t n = 0;
    while (n < cap && jn_read_owner_next(v, a, &c, item)) {
        const jt_obj *o = jn_view_read(v, item);
        if (o && get_uint(o, "LedgerEntryType", 0) == JT_LT_OFFER)
            seqs[n++] = (uint32_t)get_uint(o, "Sequence", 0);
    }
    return n;
}

/* A book directory's quality as the exact number m·10^e. */
static void quality_parts(uint64_t q, int64_t *m, int *e)
{
    *m = (int64_t)(q & ((1ull << 56) - 1));
    *e = (int)(q >> 56) - 100;
}

static __int128 pow10_128(int n)
{
    __int128 p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/* Compares a·10^ea with b·10^eb exactly (a, b >= 0, small enough that the
 * scaled products fit: |ea − eb| <= 30 and a, b below 10^7 after scaling
 * is not needed — the caller keeps to ledger qualities). */
static int cmp_scaled(__int128 a, int ea, __int128 b, int eb)
{
    int d = ea - eb;
    if (d > 36 || d < -36)
        return d > 0 ? (a ? 1 : (b ? -1 : 0)) : (b ? -1 : (a ? 1 : 0));
    if (d >= 0)
        a *= pow10_128(d);
    else
        b *= pow10_128(-d);
    return a < b ? -1 : a > b ? 1 : 0;
}

/* ---------------------------------------------------------------- seeds */

typedef struct seed_plan {
    uint64_t seed;
    size_t txs;
} seed_plan;

/* The seeds run: the given one alone, else the fixed list. */
static size_t plan_seeds(const seed_plan *dflt, size_t n_dflt, seed_plan *out)
{
    uint64_t only = env_u64("JT_PROPTEST_SEED", 0);
    uint64_t txs = env_u64("JT_PROPTEST_TXS", 0);
    if (only) {
        out[0].seed = only;
        out[0].txs = txs ? (size_t)txs : dflt[0].txs;
        return 1;
    }
    for (size_t i = 0; i < n_dflt; i++) {
        out[i] = dflt[i];
        if (txs)
            out[i].txs = (size_t)txs;
    }
    return n_dflt;
}

/* ================================================================ the model test
 *
 * One issuer (gw, no TransferRate, never trading) of TOK; M_TRADERS
 * accounts, each with 1 000 000 SWT and 1 000 000 TOK, so funds never
 * limit a fill (the model refuses an order if they would). Prices are
 * drops per token that divide 10^6, so every token amount a fill computes
 * is a whole number of micro-tokens and every quality is exact in the
 * ledger's 16 digits; SWT amounts of a fill are cut to whole drops, which
 * the model does too. An order the model cannot price without the
 * ledger's own rounding (a remainder that is not exact) is drawn again. */

enum { M_TRADERS = 12 };

static const int64_t LEVELS[] = {500, 625, 800, 1000, 1250, 1600, 2000}; /* drops per TOK */
#define N_LEVELS ((int)(sizeof LEVELS / sizeof LEVELS[0]))

typedef struct mstats {
    size_t orders, fills, partial, multi_level, passive_crossed, ioc_crossed, fok_killed,
        fok_filled, sell_crossed, sell_overfilled, self_removed, expired_removed, replaced, cancels,
        cancel_missing, payments, placed, redraws, closes;
} mstats;

typedef struct mrun {
    uint64_t seed;
    rng r;
    jn_map base;
    jn_view view;
    jn_env env;
    uint32_t index;
    size_t txno;
    party gen, gw, tr[M_TRADERS];
    jt_currency cur;
    bm model, trial;
    bm_outcome out;
    mstats st;
    bool failed;
} mrun;

static jt_amount m_tok(const mrun *R, int64_t micro)
{
    return iou(micro, -6, &R->cur, &R->gw.id);
}

static jt_amount m_asset(const mrun *R, int asset, int64_t v)
{
    return asset == BM_SWT ? swt(v) : m_tok(R, v);
}

/* An engine amount in model units (drops, micro-TOK); false when it is of
 * another asset or not a whole unit. */
static bool m_units(const mrun *R, const jt_amount *a, int asset, int64_t *out)
{
    if (asset == BM_SWT) {
        if (!a->native)
            return false;
        *out = jt_amount_drops(a);
        return true;
    }
    if (a->native || memcmp(&a->currency, &R->cur, sizeof R->cur) ||
        !same_id(&a->issuer, &R->gw.id))
        return false;
    if (a->mantissa == 0) {
        *out = 0;
        return true;
    }
    int e = a->exponent + 6;
    __int128 v = a->mantissa;
    if (e >= 0) {
        if (e > 18)
            return false;
        v *= pow10_128(e);
    } else {
        if (e < -18)
            return false;
        __int128 p = pow10_128(-e);
        if (v % p)
            return false;
        v /= p;
    }
    if (v > INT64_MAX)
        return false;
    *out = a->negative ? -(int64_t)v : (int64_t)v;
    return true;
}

static int m_index_of(const mrun *R, const jt_account_id *id)
{
    for (int i = 0; i < M_TRADERS; i++)
        if (same_id(&R->tr[i].id, id))
            return i;
    return -1;
}

static int m_apply(mrun *R, jt_obj *tx, const party *from, jt_obj **meta)
{
    jt_buf blob;
    uint8_t id[32];
    tx_finish(tx, from, account_seq(&R->view, &from->id), (int64_t)R->env.base_fee, &blob, id);
    jt_buf_clear(&blob);
    jn_applied ap;
    memset(&ap, 0, sizeof ap);
    int ter = jn_apply(&R->view, &R->env, tx, id, R->index, NULL, &ap);
    if (jt_ter_is_claimed(ter))
        R->index++;
    *meta = NULL;
    if (ap.meta_bin.data) {
        jt_errinfo ei;
        assert_int_equal(jt_obj_from_binary(ap.meta_bin.data, ap.meta_bin.len, meta, &ei), JT_OK);
    }
    jt_buf_clear(&ap.meta_bin);
    R->txno++;
    if (g_trace) {
        jt_buf b;
        printf("# tx %zu ledger %u: %s -> %s\n", R->txno, R->env.ledger_seq, json_of(tx, &b),
               ter_name(ter));
        jt_buf_clear(&b);
    }
    return ter;
}

/* The ledger closes: its changes go into the base, the next one opens 10 s
 * later. */
static void m_close(mrun *R)
{
    size_t i = 0;
    jn_slot *s;
    while ((s = jn_map_next(&R->view.changes, &i))) {
        if (s->deleted) {
            jn_map_remove(&R->base, s->id);
            continue;
        }
        jt_obj *o = jt_obj_clone(s->obj);
        assert_non_null(o);
        assert_int_equal(jn_map_put(&R->base, s->id, o), 0);
    }
    jn_view_clear(&R->view);
    jn_view_init(&R->view, NULL, &R->base);
    R->env.ledger_seq++;
    R->env.parent_close_time += 10;
    R->index = 0;
    R->st.closes++;
}

static void m_setup(mrun *R)
{
    R->env = (jn_env){.base_fee = 10,
                      .reserve_base = 10000000,
                      .reserve_inc = 1000000,
                      .ledger_seq = 2,
                      .parent_close_time = 600000000,
                      .no_fast_path = true};
    jn_map_init(&R->base);
    party_init(&R->gen, "genesis", -1);
    party_init(&R->gw, "gw", -1);
    for (int i = 0; i < M_TRADERS; i++)
        party_init(&R->tr[i], "t", i);
    assert_int_equal(jt_currency_from_text("TOK", false, &R->cur, NULL), JT_OK);

    jt_obj *root = jt_obj_new();
    jt_amount bal = swt(INT64_C(100000000000000000));
    assert_non_null(root);
    assert_int_equal(jt_obj_set_uint(root, "LedgerEntryType", JT_LT_ACCOUNT_ROOT), JT_OK);
    assert_int_equal(jt_obj_set_account(root, "Account", &R->gen.id), JT_OK);
    assert_int_equal(jt_obj_set_amount(root, "Balance", &bal), JT_OK);
    assert_int_equal(jt_obj_set_uint(root, "Sequence", 1), JT_OK);
    assert_int_equal(jt_obj_set_uint(root, "Flags", 0), JT_OK);
    assert_int_equal(jt_obj_set_uint(root, "OwnerCount", 0), JT_OK);
    uint8_t k[32];
    jn_id_account(&R->gen.id, k);
    assert_int_equal(jn_map_put(&R->base, k, root), 0);
    jn_view_init(&R->view, NULL, &R->base);

    jt_obj *meta;
    jt_amount a = swt(10000 * INT64_C(1000000));
    jt_obj *tx = tx_payment(&R->gen, &R->gw, &a, NULL);
    assert_int_equal(m_apply(R, tx, &R->gen, &meta), JT_tesSUCCESS);
    jt_obj_free(tx);
    jt_obj_free(meta);
    for (int i = 0; i < M_TRADERS; i++) {
        a = swt(INT64_C(1000000000000));
        tx = tx_payment(&R->gen, &R->tr[i], &a, NULL);
        assert_int_equal(m_apply(R, tx, &R->gen, &meta), JT_tesSUCCESS);
        jt_obj_free(tx);
        jt_obj_free(meta);
    }
    m_close(R);
    for (int i = 0; i < M_TRADERS; i++) {
        a = iou(1, 10, &R->cur, &R->gw.id);
        tx = tx_trust(&R->tr[i], &a);
        assert_int_equal(m_apply(R, tx, &R->tr[i], &meta), JT_tesSUCCESS);
        jt_obj_free(tx);
        jt_obj_free(meta);
    }
    m_close(R);
    for (int i = 0; i < M_TRADERS; i++) {
        a = m_tok(R, INT64_C(1000000000000));
        tx = tx_payment(&R->gw, &R->tr[i], &a, NULL);
        assert_int_equal(m_apply(R, tx, &R->gw, &meta), JT_tesSUCCESS);
        jt_obj_free(tx);
        jt_obj_free(meta);
    }
    m_close(R);

    bm_init(&R->model, M_TRADERS, (int64_t)R->env.reserve_base, (int64_t)R->env.reserve_inc);
    for (int i = 0; i < M_TRADERS; i++) {
        const jt_obj *r = jn_read_account(&R->view, &R->tr[i].id);
        assert_non_null(r);
        R->model.bal[i][BM_SWT] = jn_read_balance(r);
        R->model.bal[i][BM_TOK] = INT64_C(1000000000000);
        R->model.reserve_objects[i] = 1; /* the trust line */
    }
}

/* ---- what the engine did, from the metadata */

typedef struct enode {
    int kind; /* 0 created, 1 modified, 2 deleted */
    int owner;
    uint32_t seq;
    bool has_prev, has_exp;
    jt_amount pays, gets;           /* created: NewFields; else FinalFields */
    jt_amount prev_pays, prev_gets; /* PreviousFields (when has_prev) */
    uint32_t flags, expiration;
    bool used;
} enode;

typedef struct enodes {
    enode v[512];
    size_t n;
    int others; /* offer nodes not understood */
} enodes;

static const char *const NODE_KINDS[] = {"CreatedNode", "ModifiedNode", "DeletedNode"};

static void offer_nodes(const mrun *R, const jt_obj *meta, enodes *out)
{
    out->n = 0;
    out->others = 0;
    if (!meta)
        return;
    size_t n = jt_obj_array_len(meta, "AffectedNodes");
    for (size_t i = 0; i < n; i++) {
        const jt_field *wf;
        const jt_obj *node = jt_obj_array_at(meta, "AffectedNodes", i, &wf);
        if (!node || get_uint(node, "LedgerEntryType", 0) != JT_LT_OFFER)
            continue;
        int kind = -1;
        for (int k = 0; k < 3; k++)
            if (!strcmp(wf->name, NODE_KINDS[k]))
                kind = k;
        const jt_obj *f = NULL, *p = NULL;
        if (jt_obj_get_object(node, kind == 0 ? "NewFields" : "FinalFields", &f) != JT_OK)
            f = NULL;
        if (kind != 0 && jt_obj_get_object(node, "PreviousFields", &p) != JT_OK)
            p = NULL;
        enode *e = &out->v[out->n];
        memset(e, 0, sizeof *e);
        jt_account_id acct;
        if (kind < 0 || !f || out->n == sizeof out->v / sizeof out->v[0] ||
            jt_obj_get_account(f, "Account", &acct) != JT_OK ||
            jt_obj_get_amount(f, "TakerPays", &e->pays) != JT_OK ||
            jt_obj_get_amount(f, "TakerGets", &e->gets) != JT_OK) {
            out->others++;
            continue;
        }
        e->kind = kind;
        e->owner = m_index_of(R, &acct);
        e->seq = (uint32_t)get_uint(f, "Sequence", 0);
        e->flags = (uint32_t)get_uint(f, "Flags", 0);
        e->has_exp = jt_obj_has(f, "Expiration");
        e->expiration = (uint32_t)get_uint(f, "Expiration", 0);
        e->prev_pays = e->pays;
        e->prev_gets = e->gets;
        if (p) {
            bool a = jt_obj_get_amount(p, "TakerPays", &e->prev_pays) == JT_OK;
            bool b = jt_obj_get_amount(p, "TakerGets", &e->prev_gets) == JT_OK;
            e->has_prev = a || b;
        }
        out->n++;
    }
}

static const char *const GONE_WHY[] = {"consumed", "cancelled", "the taker's own", "expired"};

static void print_events(const mrun *R, const bm_outcome *o)
{
    for (size_t i = 0; i < o->n; i++) {
        const bm_event *e = &o->ev[i];
        const char *bk = e->book == BM_ASKS ? "asks" : "bids";
        if (e->kind == BM_FILL) {
            jt_amount a = m_asset(R, e->book, e->a), b = m_asset(R, 1 - e->book, e->b);
            say("    model: fill %s/%u (%s): the taker pays %s %s, gets %s %s\n",
                R->tr[e->owner].name, e->seq, bk, amount_text(&a),
                e->book == BM_SWT ? "drops" : "TOK", amount_text(&b),
                e->book == BM_SWT ? "TOK" : "drops");
        } else if (e->kind == BM_GONE) {
            say("    model: %s/%u (%s) removed: %s\n", R->tr[e->owner].name, e->seq, bk,
                GONE_WHY[e->why]);
        } else {
            jt_amount a = m_asset(R, e->book, e->a), b = m_asset(R, 1 - e->book, e->b);
            say("    model: placed %s/%u (%s): TakerPays %s TakerGets %s\n", R->tr[e->owner].name,
                e->seq, bk, amount_text(&a), amount_text(&b));
        }
    }
    if (!o->n)
        say("    model: no offer changes\n");
}

static void print_nodes(const mrun *R, const enodes *en)
{
    for (size_t i = 0; i < en->n; i++) {
        const enode *e = &en->v[i];
        const char *who = e->owner >= 0 ? R->tr[e->owner].name : "?";
        if (e->has_prev)
            say("    engine: %s %s/%u TakerPays %s -> %s, TakerGets %s -> %s\n",
                NODE_KINDS[e->kind], who, e->seq, amount_text(&e->prev_pays), amount_text(&e->pays),
                amount_text(&e->prev_gets), amount_text(&e->gets));
        else
            say("    engine: %s %s/%u TakerPays %s TakerGets %s\n", NODE_KINDS[e->kind], who,
                e->seq, amount_text(&e->pays), amount_text(&e->gets));
    }
    if (!en->n)
        say("    engine: no offer nodes in the metadata\n");
    if (en->others)
        say("    engine: %d offer node(s) without Account/TakerPays/TakerGets\n", en->others);
}

static enode *find_node(enodes *en, int owner, uint32_t seq)
{
    for (size_t i = 0; i < en->n; i++)
        if (en->v[i].owner == owner && en->v[i].seq == seq && !en->v[i].used)
            return &en->v[i];
    return NULL;
}

/* The first difference between the engine and the model after a
 * transaction, into why; empty when they agree. */
static void m_diff(mrun *R, int ter, const jt_obj *meta, const bm *model, char *why, size_t cap)
{
    why[0] = 0;
    if (ter != JT_tesSUCCESS) {
        snprintf(why, cap, "result: expected tesSUCCESS, actual %s", ter_name(ter));
        return;
    }
    enodes *en = malloc(sizeof *en);
    assert_non_null(en);
    offer_nodes(R, meta, en);
    if (en->others)
        snprintf(why, cap, "an offer node of the metadata lacks Account, TakerPays or TakerGets");
    for (size_t i = 0; i < R->out.n && !why[0]; i++) {
        const bm_event *e = &R->out.ev[i];
        const char *who = R->tr[e->owner].name;
        int pays_asset = e->book, gets_asset = 1 - e->book;
        if (e->kind == BM_PLACED) {
            enode *n = find_node(en, e->owner, e->seq);
            int64_t p, g;
            if (!n || n->kind != 0)
                snprintf(why, cap, "offer %s/%u: expected CreatedNode, %s", who, e->seq,
                         n ? NODE_KINDS[n->kind] : "not in the metadata");
            else if (!m_units(R, &n->pays, pays_asset, &p) ||
                     !m_units(R, &n->gets, gets_asset, &g) || p != e->a || g != e->b)
                snprintf(why, cap,
                         "offer %s/%u placed: expected TakerPays %" PRId64 " TakerGets %" PRId64
                         " (%s units), actual TakerPays %s TakerGets %s",
                         who, e->seq, e->a, e->b,
                         e->book == BM_ASKS ? "drops/micro-TOK" : "micro-TOK/drops",
                         amount_text(&n->pays), amount_text(&n->gets));
            if (n)
                n->used = true;
            continue;
        }
        if (e->kind == BM_FILL) {
            bool consumed = i + 1 < R->out.n && R->out.ev[i + 1].kind == BM_GONE &&
                            R->out.ev[i + 1].owner == e->owner && R->out.ev[i + 1].seq == e->seq;
            enode *n = find_node(en, e->owner, e->seq);
            int64_t p0, p1, g0, g1;
            if (!n || n->kind == 0) {
                snprintf(why, cap,
                         "offer %s/%u: expected a fill (taker pays %" PRId64 ", gets %" PRId64
                         "), the metadata has %s",
                         who, e->seq, e->a, e->b, n ? "a CreatedNode" : "no node for it");
            } else if (!m_units(R, &n->prev_pays, pays_asset, &p0) ||
                       !m_units(R, &n->pays, pays_asset, &p1) ||
                       !m_units(R, &n->prev_gets, gets_asset, &g0) ||
                       !m_units(R, &n->gets, gets_asset, &g1)) {
                snprintf(why, cap, "offer %s/%u: amounts not in whole drops/micro-TOK", who,
                         e->seq);
            } else if (p0 - p1 != e->a || g0 - g1 != e->b) {
                snprintf(why, cap,
                         "offer %s/%u: fill expected: taker pays %" PRId64 ", gets %" PRId64
                         "; actual (TakerPays %s -> %s, TakerGets %s -> %s): pays %" PRId64
                         ", gets %" PRId64,
                         who, e->seq, e->a, e->b, amount_text(&n->prev_pays), amount_text(&n->pays),
                         amount_text(&n->prev_gets), amount_text(&n->gets), p0 - p1, g0 - g1);
            } else if (consumed != (n->kind == 2)) {
                snprintf(why, cap, "offer %s/%u: expected %s, actual %s", who, e->seq,
                         consumed ? "deleted (used up)" : "left in the book (ModifiedNode)",
                         NODE_KINDS[n->kind]);
            }
            if (n)
                n->used = true;
            if (consumed)
                i++;
            continue;
        }
        /* Removed without a fill. */
        enode *n = find_node(en, e->owner, e->seq);
        int64_t p0, p1, g0, g1;
        if (!n || n->kind != 2)
            snprintf(why, cap, "offer %s/%u: expected removed (%s), the metadata has %s", who,
                     e->seq, GONE_WHY[e->why], n ? NODE_KINDS[n->kind] : "no node for it");
        else if (n->has_prev && m_units(R, &n->prev_pays, pays_asset, &p0) &&
                 m_units(R, &n->pays, pays_asset, &p1) &&
                 m_units(R, &n->prev_gets, gets_asset, &g0) &&
                 m_units(R, &n->gets, gets_asset, &g1) && (p0 != p1 || g0 != g1))
            snprintf(why, cap, "offer %s/%u: expected removed unfilled (%s), it was filled", who,
                     e->seq, GONE_WHY[e->why]);
        if (n)
            n->used = true;
    }
    for (size_t i = 0; i < en->n && !why[0]; i++)
        if (!en->v[i].used)
            snprintf(why, cap, "offer %s/%u: %s in the metadata, nothing in the model",
                     en->v[i].owner >= 0 ? R->tr[en->v[i].owner].name : "(unknown account)",
                     en->v[i].seq, NODE_KINDS[en->v[i].kind]);
    free(en);
    if (why[0])
        return;

    /* Balances. */
    for (int i = 0; i < M_TRADERS && !why[0]; i++) {
        const jt_obj *root = jn_read_account(&R->view, &R->tr[i].id);
        int64_t d = root ? jn_read_balance(root) : -1;
        jn_line_side side;
        int64_t t = -1;
        if (!jn_read_line(&R->view, &R->tr[i].id, &R->gw.id, &R->cur, &side) ||
            !m_units(R,
                     &(jt_amount){.native = false,
                                  .negative = side.balance.negative,
                                  .mantissa = side.balance.mantissa,
                                  .exponent = side.balance.exponent,
                                  .currency = R->cur,
                                  .issuer = R->gw.id},
                     BM_TOK, &t))
            t = -1;
        if (d != model->bal[i][BM_SWT])
            snprintf(why, cap, "%s's SWT: expected %" PRId64 " drops, actual %" PRId64,
                     R->tr[i].name, model->bal[i][BM_SWT], d);
        else if (t != model->bal[i][BM_TOK])
            snprintf(why, cap, "%s's TOK: expected %" PRId64 " micro, actual %s", R->tr[i].name,
                     model->bal[i][BM_TOK], amount_text(&side.balance));
    }
    if (why[0])
        return;

    /* Both books, offer by offer. */
    for (int b = 0; b < 2 && !why[0]; b++) {
        jt_amount pays = m_asset(R, b, 0), gets = m_asset(R, 1 - b, 0);
        jn_book_cursor c;
        jn_book_cursor_init(&c, &pays, &gets);
        uint8_t id[32];
        const jt_obj *o;
        uint64_t q;
        size_t i = 0;
        const bm_book *mb = &model->book[b];
        const char *bk = b == BM_ASKS ? "asks" : "bids";
        while (!why[0] && jn_book_next(&R->view, &c, id, &o, &q)) {
            if (!o) {
                snprintf(why, cap, "%s #%zu: the book lists %s, which is not in the ledger", bk, i,
                         tu_hex(id, 8));
                break;
            }
            jt_account_id acct;
            jt_amount p, g;
            int64_t pu = -1, gu = -1;
            int owner =
                jt_obj_get_account(o, "Account", &acct) == JT_OK ? m_index_of(R, &acct) : -1;
            uint32_t seq = (uint32_t)get_uint(o, "Sequence", 0);
            if (jt_obj_get_amount(o, "TakerPays", &p) != JT_OK || !m_units(R, &p, b, &pu) ||
                jt_obj_get_amount(o, "TakerGets", &g) != JT_OK || !m_units(R, &g, 1 - b, &gu)) {
                snprintf(why, cap, "%s #%zu: amounts not in whole drops/micro-TOK", bk, i);
                break;
            }
            if (i >= mb->n) {
                snprintf(why, cap, "%s #%zu: the engine has %s/%u, the model's book ends", bk, i,
                         owner >= 0 ? R->tr[owner].name : "?", seq);
                break;
            }
            const bm_offer *x = &mb->v[i];
            /* The directory's quality is drops per TOK (asks) or TOK per drop
             * (bids); the model's is per micro-TOK. */
            int64_t qm;
            int qe;
            quality_parts(q, &qm, &qe);
            int qcmp = cmp_scaled((__int128)qm * x->q.den, qe, x->q.num, b == BM_ASKS ? 6 : -6);
            uint32_t flags = (uint32_t)get_uint(o, "Flags", 0);
            if (owner != x->owner || seq != x->seq)
                snprintf(why, cap, "%s #%zu: expected %s/%u, actual %s/%u", bk, i,
                         R->tr[x->owner].name, x->seq, owner >= 0 ? R->tr[owner].name : "?", seq);
            else if (pu != x->pays || gu != x->gets)
                snprintf(why, cap,
                         "%s #%zu (%s/%u): expected TakerPays %" PRId64 " TakerGets %" PRId64
                         ", actual %s / %s",
                         bk, i, R->tr[x->owner].name, x->seq, x->pays, x->gets, amount_text(&p),
                         amount_text(&g));
            else if (qcmp != 0)
                snprintf(why, cap,
                         "%s #%zu (%s/%u): quality %" PRId64 "e%d, expected %" PRId64 "/%" PRId64
                         " per micro-TOK",
                         bk, i, R->tr[x->owner].name, x->seq, qm, qe, x->q.num, x->q.den);
            else if (!!(flags & JT_LSF_PASSIVE) != x->passive || !!(flags & JT_LSF_SELL) != x->sell)
                snprintf(why, cap, "%s #%zu (%s/%u): Flags %u, expected passive=%d sell=%d", bk, i,
                         R->tr[x->owner].name, x->seq, flags, x->passive, x->sell);
            else if ((uint32_t)get_uint(o, "Expiration", 0) != x->expiration)
                snprintf(why, cap, "%s #%zu (%s/%u): Expiration %u, expected %u", bk, i,
                         R->tr[x->owner].name, x->seq, (uint32_t)get_uint(o, "Expiration", 0),
                         x->expiration);
            i++;
        }
        if (!why[0] && i != mb->n)
            snprintf(why, cap, "%s: the engine's book has %zu offers, the model's %zu", bk, i,
                     mb->n);
    }
}

static void m_print_book(const mrun *R, const bm *m)
{
    for (int b = 0; b < 2; b++) {
        say("    model %s:", b == BM_ASKS ? "asks" : "bids");
        for (size_t i = 0; i < m->book[b].n; i++) {
            const bm_offer *o = &m->book[b].v[i];
            say(" %s/%u %" PRId64 "/%" PRId64 "%s%s", R->tr[o->owner].name, o->seq, o->pays,
                o->gets, o->passive ? "P" : "", o->sell ? "S" : "");
        }
        say("\n");
    }
}

/* Applies tx to the engine and compares with the model's prediction
 * (R->trial, R->out); on agreement the prediction becomes the model. */
static void m_step(mrun *R, jt_obj *tx, const party *from)
{
    jt_obj *meta = NULL;
    int ter = m_apply(R, tx, from, &meta);
    char why[1024];
    m_diff(R, ter, meta, &R->trial, why, sizeof why);
    if (why[0]) {
        jt_buf b1, b2;
        say("MISMATCH seed %" PRIu64 " tx #%zu (ledger %u, parent close %u): %s\n", R->seed,
            R->txno, R->env.ledger_seq, R->env.parent_close_time, why);
        say("    tx: %s -> %s\n", json_of(tx, &b1), ter_name(ter));
        print_events(R, &R->out);
        enodes *en = malloc(sizeof *en);
        assert_non_null(en);
        offer_nodes(R, meta, en);
        print_nodes(R, en);
        free(en);
        say("    before this transaction:\n");
        m_print_book(R, &R->model);
        if (getenv("JT_PROPTEST_META"))
            say("    meta: %s\n", json_of(meta, &b2));
        else
            jt_buf_init(&b2);
        jt_buf_clear(&b1);
        jt_buf_clear(&b2);
        R->failed = true;
    } else {
        assert_int_equal(bm_copy(&R->model, &R->trial), BM_OK);
    }
    jt_obj_free(meta);
}

/* Draws an order for the model. */
static void m_draw_order(mrun *R, bm_order *o)
{
    rng *r = &R->r;
    memset(o, 0, sizeof o[0]);
    int acct = (int)below(r, M_TRADERS);
    bool ask = chance(r, 50);
    int lvl = ask ? 2 + (int)below(r, N_LEVELS - 2) : (int)below(r, N_LEVELS - 2);
    /* Now and then the order meets one of the account's own offers on the
     * other side, at that offer's price or better. */
    if (chance(r, 12)) {
        int b = (int)below(r, 2);
        const bm_book *bk = &R->model.book[b];
        if (bk->n) {
            const bm_offer *x = &bk->v[below(r, (uint32_t)bk->n)];
            acct = x->owner;
            /* x asks (b = ASKS): price x->q·10^6 drops per TOK; the order bids at
             * that price or higher. x bids: price 10^6/q; the order asks at or below. */
            ask = b == BM_BIDS;
            int best = -1;
            for (int l = 0; l < N_LEVELS; l++) {
                /* The order's quality as a taker, give/want: it crosses x when
                 * that is no better for it than x's quality. */
                bm_q lq = {ask ? 1000000 : LEVELS[l], ask ? LEVELS[l] : 1000000};
                if (bm_q_cmp(lq, x->q) >= 0)
                    best = l;
                if (best >= 0 && chance(r, 40))
                    break;
            }
            if (best >= 0)
                lvl = best;
        }
    }
    /* Now and then the exact counter-offer of one that rests: the offer and
     * the order are both used up at once. */
    if (chance(r, 6)) {
        int b = (int)below(r, 2);
        const bm_book *bk = &R->model.book[b];
        if (bk->n) {
            const bm_offer *x = &bk->v[below(r, (uint32_t)(bk->n < 4 ? bk->n : 4))];
            o->account = acct;
            o->seq = account_seq(&R->view, &R->tr[acct].id);
            o->give_asset = b;
            o->give = x->pays;
            o->want = x->gets;
            if (chance(r, 20))
                o->flags |= chance(r, 50) ? BM_IOC : BM_FOK;
            return;
        }
    }
    int64_t P = LEVELS[lvl];
    int64_t micro;
    if (chance(r, 15) && P % 8 == 0)
        micro = (int64_t)(1 + below(r, 40)) * 125000; /* eighths of a token */
    else
        micro = (int64_t)(chance(r, 20) ? 1 + below(r, 5) : 1 + below(r, 60)) * 1000000;
    int64_t drops = micro / 1000000 * P + (micro % 1000000) * P / 1000000;
    o->account = acct;
    o->seq = account_seq(&R->view, &R->tr[acct].id);
    o->give_asset = ask ? BM_TOK : BM_SWT;
    o->give = ask ? micro : drops;
    o->want = ask ? drops : micro;
    if (chance(r, 12))
        o->flags |= BM_PASSIVE;
    if (chance(r, 15))
        o->flags |= BM_SELL;
    unsigned k = below(r, 100);
    if (k < 10)
        o->flags |= BM_IOC;
    else if (k < 20)
        o->flags |= BM_FOK;
    k = below(r, 100);
    if (k < 8)
        o->expiration = R->env.parent_close_time + 10 * (1 + below(r, 4));
    else if (k < 10)
        o->expiration = R->env.parent_close_time - below(r, 20);
    k = below(r, 100);
    if (k < 10) {
        uint32_t seqs[64];
        size_t n = owner_offers(&R->view, &R->tr[acct].id, seqs, 64);
        if (n)
            o->cancel_seq = seqs[below(r, (uint32_t)n)];
    } else if (k < 13 && o->seq > 1) {
        o->cancel_seq = 1 + below(r, o->seq - 1);
    }
}

static uint32_t tf_of(unsigned f)
{
    return ((f & BM_PASSIVE) ? JT_TF_PASSIVE : 0) | ((f & BM_IOC) ? JT_TF_IMMEDIATE_OR_CANCEL : 0) |
           ((f & BM_FOK) ? JT_TF_FILL_OR_KILL : 0) | ((f & BM_SELL) ? JT_TF_SELL : 0);
}

static void m_count(mrun *R, const bm_order *o)
{
    mstats *s = &R->st;
    size_t fills = 0;
    bool partial = false, self = false, placed = false;
    int64_t got = 0;
    bm_q first = {0, 1}, last = {0, 1};
    for (size_t i = 0; i < R->out.n; i++) {
        const bm_event *e = &R->out.ev[i];
        if (e->kind == BM_FILL) {
            const bm_offer *x = bm_find(&R->model, e->owner, e->seq, NULL);
            if (x) {
                if (!fills)
                    first = x->q;
                last = x->q;
                if (e->a < x->pays)
                    partial = true;
            }
            fills++;
            got += e->b;
        } else if (e->kind == BM_GONE) {
            s->self_removed += e->why == BM_SELF;
            s->expired_removed += e->why == BM_EXPIRED;
            s->replaced += e->why == BM_CANCELLED;
            self |= e->why == BM_SELF;
        } else {
            placed = true;
        }
    }
    s->fills += fills;
    s->partial += partial;
    s->placed += placed;
    if (fills > 1 && bm_q_cmp(first, last) != 0)
        s->multi_level++;
    if (fills) {
        s->passive_crossed += !!(o->flags & BM_PASSIVE);
        s->ioc_crossed += !!(o->flags & BM_IOC);
        s->sell_crossed += !!(o->flags & BM_SELL);
        s->sell_overfilled += (o->flags & BM_SELL) && got > o->want;
    }
    if (o->flags & BM_FOK) {
        s->fok_killed += !fills;
        s->fok_filled += fills > 0;
    }
}

static void model_run(uint64_t seed, size_t n_txs)
{
    mrun *R = calloc(1, sizeof *R);
    assert_non_null(R);
    R->seed = seed;
    R->r.s = seed;
    printf("# model_agrees: seed %" PRIu64 ", %zu transactions (JT_PROPTEST_SEED=%" PRIu64
           " to replay)\n",
           seed, n_txs, seed);
    fflush(stdout);
    m_setup(R);
    uint32_t next_close = 4 + below(&R->r, 9);
    for (size_t n = 0; n < n_txs && !R->failed; n++) {
        if (--next_close == 0) {
            m_close(R);
            next_close = 4 + below(&R->r, 9);
        }
        unsigned kind = below(&R->r, 100);
        jt_obj *tx = NULL;
        int from = -1;
        if (kind < 80) {
            bm_order o;
            int rc = BM_AMBIGUOUS;
            for (int tries = 0; tries < 40 && rc != BM_OK; tries++) {
                m_draw_order(R, &o);
                assert_int_equal(bm_copy(&R->trial, &R->model), BM_OK);
                bm_fee(&R->trial, o.account, (int64_t)R->env.base_fee);
                rc = bm_offer_create(&R->trial, &o, R->env.parent_close_time, &R->out);
                if (rc == BM_NOMEM)
                    fail_msg("out of memory");
                if (rc != BM_OK)
                    R->st.redraws++;
            }
            if (rc == BM_OK) {
                int give = o.give_asset;
                jt_amount gets = m_asset(R, give, o.give), pays = m_asset(R, 1 - give, o.want);
                tx = tx_offer(&R->tr[o.account], &pays, &gets, tf_of(o.flags), o.expiration,
                              o.cancel_seq);
                from = o.account;
                R->st.orders++;
                m_count(R, &o);
            }
        }
        if (!tx && kind < 92) {
            from = (int)below(&R->r, M_TRADERS);
            uint32_t seqs[64];
            size_t k = owner_offers(&R->view, &R->tr[from].id, seqs, 64);
            uint32_t next = account_seq(&R->view, &R->tr[from].id);
            uint32_t seq = k && chance(&R->r, 85) ? seqs[below(&R->r, (uint32_t)k)]
                                                  : 1 + below(&R->r, next - 1);
            assert_int_equal(bm_copy(&R->trial, &R->model), BM_OK);
            bm_fee(&R->trial, from, (int64_t)R->env.base_fee);
            assert_int_equal(bm_offer_cancel(&R->trial, from, seq, &R->out), BM_OK);
            R->st.cancels++;
            R->st.cancel_missing += R->out.n == 0;
            tx = tx_cancel(&R->tr[from], seq);
        }
        if (!tx) {
            from = (int)below(&R->r, M_TRADERS);
            int to = (from + 1 + (int)below(&R->r, M_TRADERS - 1)) % M_TRADERS;
            int asset = (int)below(&R->r, 2);
            int64_t v = (int64_t)(1 + below(&R->r, 1000)) * 1000000;
            jt_amount a = m_asset(R, asset, v);
            assert_int_equal(bm_copy(&R->trial, &R->model), BM_OK);
            bm_fee(&R->trial, from, (int64_t)R->env.base_fee);
            bm_transfer(&R->trial, from, to, asset, v);
            bm_outcome_clear(&R->out);
            R->st.payments++;
            tx = tx_payment(&R->tr[from], &R->tr[to], &a, NULL);
        }
        m_step(R, tx, &R->tr[from]);
        jt_obj_free(tx);
    }
    const mstats *s = &R->st;
    printf("# model_agrees: seed %" PRIu64 ": %zu transactions in %zu ledgers: %zu orders "
           "(%zu redrawn), %zu fills, %zu orders partly filling an offer, %zu across price levels, "
           "%zu offers placed; crossing: %zu passive, %zu IOC, %zu sell (%zu got more than "
           "TakerPays), FOK %zu filled / %zu killed; removed: %zu own, %zu expired, %zu by "
           "OfferSequence; %zu cancels (%zu of no offer), %zu payments%s\n",
           seed, s->orders + s->cancels + s->payments, s->closes, s->orders, s->redraws, s->fills,
           s->partial, s->multi_level, s->placed, s->passive_crossed, s->ioc_crossed,
           s->sell_crossed, s->sell_overfilled, s->fok_filled, s->fok_killed, s->self_removed,
           s->expired_removed, s->replaced, s->cancels, s->cancel_missing, s->payments,
           R->failed ? " — STOPPED AT A MISMATCH" : "");
    fflush(stdout);
    bool failed = R->failed;
    /* Every kind of case the model is there for happened, so a change to the
     * generator cannot quietly stop testing one. */
    bool covered = s->fills && s->partial && s->multi_level && s->passive_crossed &&
                   s->ioc_crossed && s->sell_crossed && s->fok_killed && s->fok_filled &&
                   s->self_removed && s->expired_removed && s->replaced && s->cancels;
    bm_free(&R->model);
    bm_free(&R->trial);
    free(R->out.ev);
    jn_view_clear(&R->view);
    jn_map_clear(&R->base);
    free(R);
    if (failed)
        fail_msg("seed %" PRIu64 ": the engine and the model disagree (above)", seed);
    if (!covered && n_txs >= 1000)
        fail_msg("seed %" PRIu64 ": the order flow missed a case the model covers (counts above)",
                 seed);
}

static void model_agrees(void **state)
{
    (void)state;
    static const seed_plan dflt[] = {{20260101, 2500}, {7, 800}, {1234567, 800}};
    seed_plan plan[8];
    size_t n = plan_seeds(dflt, sizeof dflt / sizeof dflt[0], plan);
    for (size_t i = 0; i < n; i++)
        model_run(plan[i].seed, plan[i].txs);
}

/* ---- the model's own rules, on cases worked out by hand
 *
 * The model is the oracle of model_agrees, so its rules are checked first
 * against small books whose outcome follows from skywelld's rules alone
 * (book_model.c's comment). Prices are drops per TOK; amounts in model
 * units (drops, micro-TOK). A: asks, B: bids. */

#define TOK(x) ((int64_t)(x)*1000000)

typedef struct rcase {
    bm m;
    bm_outcome out;
    uint32_t when;
} rcase;

static void r_init(rcase *c)
{
    memset(c, 0, sizeof *c);
    bm_init(&c->m, 4, 10000000, 1000000);
    for (int i = 0; i < 4; i++) {
        c->m.bal[i][BM_SWT] = INT64_C(1000000000000);
        c->m.bal[i][BM_TOK] = TOK(1000000);
        c->m.reserve_objects[i] = 1;
    }
    c->when = 1000;
}

static void r_free(rcase *c)
{
    bm_free(&c->m);
    free(c->out.ev);
}

/* An order: acct gives `give` of give_asset for `want` of the other. */
static void r_order(rcase *c, int acct, uint32_t seq, int give_asset, int64_t give, int64_t want,
                    unsigned flags, uint32_t exp, uint32_t cancel)
{
    bm_order o = {.account = acct,
                  .seq = seq,
                  .give_asset = give_asset,
                  .give = give,
                  .want = want,
                  .flags = flags,
                  .expiration = exp,
                  .cancel_seq = cancel};
    int rc = bm_offer_create(&c->m, &o, c->when, &c->out);
    if (rc != BM_OK)
        say("the model refuses the order of account %d, seq %u: %s\n", acct, seq,
            c->out.why ? c->out.why : "?");
    assert_int_equal(rc, BM_OK);
}

/* A resting ask (sell n TOK at price p) or bid (buy n TOK at price p). */
static void r_ask(rcase *c, int acct, uint32_t seq, int64_t n, int64_t p, unsigned flags,
                  uint32_t exp)
{
    r_order(c, acct, seq, BM_TOK, TOK(n), n * p, flags, exp, 0);
}

static void r_bid(rcase *c, int acct, uint32_t seq, int64_t n, int64_t p, unsigned flags)
{
    r_order(c, acct, seq, BM_SWT, n * p, TOK(n), flags, 0, 0);
}

/* The events of the last order, as "fill A/1 10000 10000000; gone A/1
 * consumed; placed B/5 ..." compared as text. */
static void r_expect(rcase *c, const char *want)
{
    static const char *const why[] = {"consumed", "cancelled", "self", "expired"};
    char got[2048] = "";
    size_t n = 0;
    for (size_t i = 0; i < c->out.n; i++) {
        const bm_event *e = &c->out.ev[i];
        const char *sep = i ? "; " : "";
        if (e->kind == BM_FILL)
            n += (size_t)snprintf(got + n, sizeof got - n, "%sfill %d/%u %" PRId64 " %" PRId64, sep,
                                  e->owner, e->seq, e->a, e->b);
        else if (e->kind == BM_GONE)
            n += (size_t)snprintf(got + n, sizeof got - n, "%sgone %d/%u %s", sep, e->owner, e->seq,
                                  why[e->why]);
        else
            n += (size_t)snprintf(got + n, sizeof got - n, "%splaced %d/%u %s %" PRId64 " %" PRId64,
                                  sep, e->owner, e->seq, e->book == BM_ASKS ? "ask" : "bid", e->a,
                                  e->b);
    }
    if (strcmp(got, want)) {
        say("expected: %s\nactual:   %s\n", want, got);
        fail();
    }
}

static void model_rules(void **state)
{
    (void)state;
    rcase c;

    /* A bid takes the asks at or below its price, best first, in time order
     * within a price; the rest of it rests at its own price. */
    r_init(&c);
    r_ask(&c, 0, 1, 10, 1250, 0, 0);
    r_ask(&c, 0, 2, 10, 1000, 0, 0);
    r_ask(&c, 1, 1, 4, 1000, 0, 0);
    r_bid(&c, 2, 1, 20, 1000, 0);
    r_expect(&c, "fill 0/2 10000 10000000; gone 0/2 consumed; fill 1/1 4000 4000000; "
                 "gone 1/1 consumed; placed 2/1 bid 6000000 6000");
    assert_int_equal(c.m.bal[2][BM_TOK], TOK(1000014));
    assert_int_equal(c.m.bal[2][BM_SWT], INT64_C(1000000000000) - 14000);
    assert_int_equal(c.m.bal[0][BM_SWT], INT64_C(1000000000000) + 10000);
    /* Across two levels: pays each offer's price, keeps what it saved. */
    r_ask(&c, 1, 2, 10, 1000, 0, 0); /* crosses the bid 2/1 first: 6 TOK at 1000 */
    r_expect(&c, "fill 2/1 6000000 6000; gone 2/1 consumed; placed 1/2 ask 4000 4000000");
    r_bid(&c, 3, 1, 8, 1250, 0);
    r_expect(&c, "fill 1/2 4000 4000000; gone 1/2 consumed; fill 0/1 5000 4000000");
    assert_int_equal(c.m.book[BM_ASKS].n, 1);
    assert_int_equal(c.m.book[BM_ASKS].v[0].pays, 7500);
    assert_int_equal(c.m.book[BM_ASKS].v[0].gets, TOK(6));
    assert_int_equal(c.m.bal[3][BM_SWT], INT64_C(1000000000000) - 9000);
    r_free(&c);

    /* Sell: spends all it gives at the offers' prices, getting more than it
     * asked for; without Sell the same order stops at what it asked for. */
    r_init(&c);
    r_ask(&c, 0, 1, 10, 1000, 0, 0);
    r_ask(&c, 0, 2, 10, 1250, 0, 0);
    r_bid(&c, 1, 1, 15, 1250, BM_SELL); /* gives 18750 drops */
    r_expect(&c, "fill 0/1 10000 10000000; gone 0/1 consumed; fill 0/2 8750 7000000");
    r_bid(&c, 2, 1, 2, 1250, 0);
    r_expect(&c, "fill 0/2 2500 2000000");
    r_free(&c);
    r_init(&c);
    r_ask(&c, 0, 1, 10, 1000, 0, 0);
    r_ask(&c, 0, 2, 10, 1250, 0, 0);
    r_bid(&c, 1, 1, 15, 1250, 0);
    r_expect(&c, "fill 0/1 10000 10000000; gone 0/1 consumed; fill 0/2 6250 5000000");
    /* An ask (a Sell) that crosses nothing rests as it is. */
    r_order(&c, 2, 1, BM_TOK, TOK(4), 3200, BM_SELL, 0, 0);
    r_expect(&c, "placed 2/1 ask 3200 4000000");
    r_bid(&c, 3, 1, 1, 800, 0);
    r_expect(&c, "fill 2/1 800 1000000");
    r_order(&c, 1, 2, BM_SWT, 20000, TOK(25), BM_SELL, 0, 0); /* 800/TOK, sells its SWT */
    r_expect(&c, "fill 2/1 2400 3000000; gone 2/1 consumed; placed 1/2 bid 22000000 17600");
    r_free(&c);

    /* Passive: does not take an offer at its own price, takes better ones. */
    r_init(&c);
    r_ask(&c, 0, 1, 10, 1000, 0, 0);
    r_bid(&c, 1, 1, 5, 1000, BM_PASSIVE);
    r_expect(&c, "placed 1/1 bid 5000000 5000");
    r_bid(&c, 1, 2, 5, 1250, BM_PASSIVE);
    r_expect(&c, "fill 0/1 5000 5000000");
    /* ... and a resting Passive offer is taken at its price. */
    r_ask(&c, 2, 1, 5, 1000, 0, 0);
    r_expect(&c, "fill 1/1 5000000 5000; gone 1/1 consumed");
    r_free(&c);

    /* ImmediateOrCancel keeps its fills and places nothing; FillOrKill is
     * undone unless it is filled whole, but the expired offers it met stay
     * removed, and its OfferSequence cancel is undone. */
    r_init(&c);
    r_ask(&c, 0, 1, 10, 1000, 0, 0);
    r_ask(&c, 0, 2, 3, 800, 0, c.when + 10);
    r_ask(&c, 1, 9, 1, 2000, 0, 0);
    r_bid(&c, 1, 1, 15, 1000, BM_IOC);
    r_expect(&c, "fill 0/2 2400 3000000; gone 0/2 consumed; fill 0/1 10000 10000000; "
                 "gone 0/1 consumed");
    r_ask(&c, 0, 3, 10, 1000, 0, 0);
    r_ask(&c, 0, 4, 3, 800, 0, c.when + 10);
    c.when += 10; /* 0/4 has expired */
    r_order(&c, 1, 2, BM_SWT, 15000, TOK(15), BM_FOK, 0, 9);
    r_expect(&c, "gone 0/4 expired");
    assert_non_null(bm_find(&c.m, 1, 9, NULL));
    assert_int_equal(c.m.book[BM_ASKS].v[0].seq, 3);
    r_order(&c, 1, 3, BM_SWT, 10000, TOK(10), BM_FOK, 0, 0);
    r_expect(&c, "fill 0/3 10000 10000000; gone 0/3 consumed");
    r_free(&c);

    /* The taker's own offers it would take are removed, not crossed; the
     * walk goes on to the next owner's; an own offer at a price it refuses
     * stays. */
    r_init(&c);
    r_ask(&c, 0, 1, 10, 800, 0, 0);
    r_ask(&c, 1, 1, 10, 1000, 0, 0);
    r_ask(&c, 0, 2, 10, 1000, 0, 0);
    r_ask(&c, 0, 3, 10, 1250, 0, 0);
    r_bid(&c, 0, 4, 15, 1000, 0);
    r_expect(&c, "gone 0/1 self; fill 1/1 10000 10000000; gone 1/1 consumed; gone 0/2 self; "
                 "placed 0/4 bid 5000000 5000");
    assert_non_null(bm_find(&c.m, 0, 3, NULL));
    r_free(&c);

    /* Expired offers are removed when the walk meets them, whatever their
     * price; an order past its own Expiration only cancels OfferSequence. */
    r_init(&c);
    r_ask(&c, 0, 1, 10, 1000, 0, c.when + 5);
    r_ask(&c, 0, 2, 10, 1250, 0, 0);
    c.when += 10;
    r_bid(&c, 1, 1, 5, 500, 0);
    r_expect(&c, "gone 0/1 expired; placed 1/1 bid 5000000 2500");
    r_order(&c, 1, 2, BM_SWT, 20000, TOK(20), 0, c.when, 1);
    r_expect(&c, "gone 1/1 cancelled");
    assert_int_equal(c.m.book[BM_BIDS].n, 0);
    r_free(&c);

    /* An SWT amount of a fill is cut to whole drops: a Sell giving 4000
     * micro-TOK for at least 2 drops meets a bid at 1600 micro-TOK per drop
     * (price 625) and gets 2 drops, not 2.5. */
    r_init(&c);
    r_order(&c, 0, 1, BM_SWT, 1000, 1600000, 0, 0, 0);
    r_order(&c, 1, 1, BM_TOK, 4000, 2, BM_SELL, 0, 0);
    r_expect(&c, "fill 0/1 4000 2");
    assert_int_equal(c.m.book[BM_BIDS].v[0].pays, 1596000);
    assert_int_equal(c.m.book[BM_BIDS].v[0].gets, 998);
    r_free(&c);

    /* ... and a remainder the ledger would round is refused: 1000001
     * micro-TOK left at 2501 drops per 2000001 micro-TOK. */
    r_init(&c);
    r_ask(&c, 0, 1, 1, 1000, 0, 0);
    bm_order o = {.account = 1, .seq = 1, .give_asset = BM_SWT, .give = 2501, .want = 2000001};
    assert_int_equal(bm_offer_create(&c.m, &o, c.when, &c.out), BM_AMBIGUOUS);
    assert_int_equal(c.m.book[BM_ASKS].n, 1);
    assert_int_equal(c.m.book[BM_ASKS].v[0].pays, 1000);
    r_free(&c);
}

/* ================================================================ the ledger invariants
 *
 * L_TRADERS accounts and three issuers: USD (ia, TransferRate 0.5%), CNY
 * (ib) and EUR (ic), which trade with no one. Most traders trust most
 * tokens and hold some; a few are poor in SWT, so reserves and funding
 * limit them. The order flow: OfferCreate in all twelve books of the four
 * assets (flags Passive, ImmediateOrCancel, FillOrKill and Sell at random,
 * some with an Expiration, some replacing an offer by OfferSequence),
 * OfferCancel, and Payments of SWT and of tokens (holder to holder, issuer
 * to holder, holder to issuer, some draining an account so that its offers
 * become unfunded), and, among the last L_PAYERS traders (who place no
 * offers), payments through the books: SWT for a token (SendMax in SWT) and
 * a token for SWT, along the default path, a path naming the direct book
 * (with or without NoSkywellDirect) or a bridge through CNY or EUR, a third
 * of them PartialPayments, and same-currency PartialPayments asking for more
 * than the sender holds; each kind must succeed at least once in a run of
 * 500 transactions or more. Each asset has a reference price in SWT (SWT 1, USD 4,
 * CNY 0.5, EUR 8) and an offer asks that price times 16/25, 4/5, 1, 5/4 or
 * 25/16, so that every quality, and every product of two, is exact in the
 * ledger's 16 digits: the crossed-book check below compares exactly.
 *
 * Transactions go to the open ledger and ledgers close every few of them.
 * After each close,
 * from every closed transaction's metadata:
 *   - SWT: the AccountRoot balances change by minus the fee, exactly;
 *   - each token: the holders' balances change by what the issuer paid out
 *     or took back (a Payment from or to the issuer), else by nothing, or,
 *     for USD, by minus 0.5% of what holders received (the transfer fee),
 *     to within the last digits of the ledger's arithmetic and the drift
 *     of the offers it filled from their directories' quality (offer_drift);
 *   - no line goes negative on the holder's side; no Offer node has a
 *     side at zero or below unless it is deleted;
 * and from the closed state: no book is crossed — for every pair, the best
 * offer of each side, TakerPays/TakerGets, multiply to more than 1 (exactly
 * 1 only when one of the offers at those qualities is Passive).
 * Every 25 ledgers and at the end, the whole state: SWT sums to the
 * header's total coins, which is the genesis amount minus every fee
 * claimed; each token's lines (holders' and the issuer's side, through the
 * issuer's owner directory) net to what the issuer issued by payments less
 * the transfer fees; every offer has both sides above zero, is in its
 * owner's directory and in the book its amounts name, found by walking the
 * book (jn_book_cursor); the books hold no other offer; every OwnerCount is
 * the account's offers plus the lines it reserves for. At the end
 * jn_ledger_verify (what `jt-node verify` runs) passes on the store. */

enum { L_TRADERS = 30, L_ISSUERS = 3, N_ASSETS = 4, L_POOR = 3, L_PAYERS = 4 };

typedef __int128 dec; /* an issued amount exactly, in units of 10^-DEC_DIGITS */
#define DEC_DIGITS 24

typedef struct lasset {
    const char *code;
    int issuer; /* -1: SWT */
    jt_currency cur;
    int64_t mid;   /* drops per unit */
    uint32_t rate; /* TransferRate; 0 none */
} lasset;

typedef struct lstats {
    size_t by_type[3][64]; /* OfferCreate, OfferCancel, Payment: results by code + 200 offset */
    size_t txs, closes, fills, consumed, placed, state_checks;
    /* Payments that succeeded: SWT for a token (SendMax in SWT), a token for
     * SWT, with Paths, and PartialPayments that delivered less. */
    size_t swt_for_token, token_for_swt, with_paths, partial;
} lstats;

typedef struct lrun {
    uint64_t seed;
    rng r;
    char dir[64];
    jn_store *store;
    jn_ledger *L;
    jn_params p;
    party gen, iss[L_ISSUERS], tr[L_TRADERS];
    lasset as[N_ASSETS];
    uint32_t now;
    uint64_t total0;        /* the genesis ledger's coins */
    int64_t fees;           /* drops claimed by closed transactions */
    dec issued[N_ASSETS];   /* by the issuer's payments, less what came back */
    dec fee_due[N_ASSETS];  /* transfer fees the closed transactions owed */
    dec tol[N_ASSETS];      /* what the ledger's 16-digit arithmetic may lose on them */
    dec max_held[N_ASSETS]; /* the largest holding, at the last close */
    lstats st;
    bool failed;
} lrun;

static void l_fail(lrun *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void l_fail(lrun *R, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const jn_header *h = R->L ? jn_ledger_last(R->L) : NULL;
    if (h)
        say("INVARIANT seed %" PRIu64 " after ledger %u: %s\n", R->seed, h->seq, msg);
    else
        say("INVARIANT seed %" PRIu64 " at the end: %s\n", R->seed, msg);
    R->failed = true;
}

/* An issued amount as a dec; false when it has digits below 10^-24. */
static bool dec_of(const jt_amount *a, dec *out)
{
    if (a->mantissa == 0) {
        *out = 0;
        return true;
    }
    int e = a->exponent + DEC_DIGITS;
    dec v = (dec)a->mantissa;
    bool exact = true;
    if (e >= 0) {
        if (e > 14)
            return false;
        v *= pow10_128(e);
    } else {
        dec p = e < -36 ? 0 : pow10_128(-e);
        if (!p || v % p)
            exact = false;
        v = p ? v / p : 0;
    }
    *out = a->negative ? -v : v;
    return exact;
}

static const char *dec_text(dec v)
{
    static char ring[4][80];
    static int k;
    char *s = ring[k++ & 3];
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-v) : (unsigned __int128)v;
    char digits[64];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (n <= DEC_DIGITS)
        digits[n++] = '0';
    int o = 0;
    if (neg)
        s[o++] = '-';
    for (int i = n - 1; i >= DEC_DIGITS; i--)
        s[o++] = digits[i];
    int last = 0;
    while (last < DEC_DIGITS && digits[last] == '0')
        last++;
    if (last < DEC_DIGITS) {
        s[o++] = '.';
        for (int i = DEC_DIGITS - 1; i >= last; i--)
            s[o++] = digits[i];
    }
    s[o] = 0;
    return s;
}

static int l_asset_of(const lrun *R, const jt_amount *a)
{
    if (a->native)
        return 0;
    for (int i = 1; i < N_ASSETS; i++)
        if (!memcmp(&a->currency, &R->as[i].cur, sizeof a->currency) &&
            same_id(&a->issuer, &R->iss[R->as[i].issuer].id))
            return i;
    return -1;
}

/* An amount of asset i worth k/den SWT·s (s = sn/sd) at its reference price. */
static jt_amount l_amount(const lrun *R, int i, int64_t k, int64_t sn, int64_t sd)
{
    const lasset *a = &R->as[i];
    if (a->issuer < 0)
        return swt(k * 1000000 * sn / sd);
    /* In 10^-9 units: k·10^15·sn / (sd·mid), whole for these prices. */
    __int128 nano = (__int128)k * 1000000000000000ll * sn;
    assert_true(nano % (sd * a->mid) == 0);
    return iou((int64_t)(nano / (sd * a->mid)), -9, &a->cur, &R->iss[a->issuer].id);
}

static const party *l_party(const lrun *R, const jt_account_id *id)
{
    if (same_id(id, &R->gen.id))
        return &R->gen;
    for (int i = 0; i < L_ISSUERS; i++)
        if (same_id(id, &R->iss[i].id))
            return &R->iss[i];
    for (int i = 0; i < L_TRADERS; i++)
        if (same_id(id, &R->tr[i].id))
            return &R->tr[i];
    return NULL;
}

static const char *l_name(const lrun *R, const jt_account_id *id)
{
    const party *p = l_party(R, id);
    return p ? p->name : "?";
}

static int l_submit(lrun *R, jt_obj *tx, const party *from)
{
    jt_buf blob;
    uint8_t id[32];
    tx_finish(tx, from, account_seq(jn_ledger_open_view(R->L), &from->id), (int64_t)R->p.base_fee,
              &blob, id);
    if (g_trace) {
        jt_buf b;
        printf("# submit: %s\n", json_of(tx, &b));
        jt_buf_clear(&b);
    }
    int ter = jn_ledger_submit(R->L, tx, blob.data, blob.len, id, NULL);
    jt_buf_clear(&blob);
    R->st.txs++;
    return ter;
}

static void l_type_result(lrun *R, const jt_obj *tx, int ter)
{
    int type = (int)get_uint(tx, "TransactionType", 0);
    int k = type == JT_TX_OFFER_CREATE   ? 0
            : type == JT_TX_OFFER_CANCEL ? 1
            : type == JT_TX_PAYMENT      ? 2
                                         : -1;
    if (k < 0)
        return;
    /* tes 0, tec 100..199: slot 0..63 by code (tec codes 100..163). */
    int slot = ter == JT_tesSUCCESS ? 0 : (ter >= 100 && ter < 163) ? ter - 99 : 63;
    R->st.by_type[k][slot]++;
}

/* The SkywellState node's holder side: the asset, the holder, and its
 * balance before and after. false when the node is not a line between a
 * known issuer and someone else. */
typedef struct linedelta {
    int asset;
    jt_account_id holder;
    dec before, after;
} linedelta;

static bool line_delta(const lrun *R, int kind, const jt_obj *node, linedelta *out)
{
    const jt_obj *f = NULL, *p = NULL;
    if (jt_obj_get_object(node, kind == 0 ? "NewFields" : "FinalFields", &f) != JT_OK)
        return false;
    if (kind != 0 && jt_obj_get_object(node, "PreviousFields", &p) != JT_OK)
        p = NULL;
    jt_amount lo, hi, bal, prev;
    if (jt_obj_get_amount(f, "LowLimit", &lo) != JT_OK ||
        jt_obj_get_amount(f, "HighLimit", &hi) != JT_OK)
        return false;
    bool has_bal = jt_obj_get_amount(f, "Balance", &bal) == JT_OK;
    out->asset = -1;
    bool holder_low = false;
    for (int i = 1; i < N_ASSETS; i++) {
        if (memcmp(&lo.currency, &R->as[i].cur, sizeof lo.currency))
            continue;
        const jt_account_id *iss = &R->iss[R->as[i].issuer].id;
        if (same_id(&hi.issuer, iss)) {
            out->asset = i;
            holder_low = true;
            out->holder = lo.issuer;
        } else if (same_id(&lo.issuer, iss)) {
            out->asset = i;
            holder_low = false;
            out->holder = hi.issuer;
        }
    }
    if (out->asset < 0)
        return false;
    dec after = 0, before;
    if (has_bal && !dec_of(&bal, &after))
        return false;
    before = kind == 0 ? 0 : after;
    if (p && jt_obj_get_amount(p, "Balance", &prev) == JT_OK && !dec_of(&prev, &before))
        return false;
    out->after = holder_low ? after : -after;
    out->before = holder_low ? before : -before;
    return true;
}

/* Counts the payments of the kinds ledger_invariants asks to succeed. */
static void l_count_payment(lrun *R, const jn_tx *t)
{
    jt_amount amt, smax;
    if (get_uint(t->tx, "TransactionType", 0) != JT_TX_PAYMENT || t->ter != JT_tesSUCCESS ||
        jt_obj_get_amount(t->tx, "Amount", &amt) != JT_OK)
        return;
    if (jt_obj_get_amount(t->tx, "SendMax", &smax) == JT_OK) {
        R->st.swt_for_token += smax.native && !amt.native;
        R->st.token_for_swt += !smax.native && amt.native;
    }
    R->st.with_paths += jt_obj_has(t->tx, "Paths");
    jt_obj *meta = NULL;
    jt_errinfo ei;
    if ((get_uint(t->tx, "Flags", 0) & JT_TF_PARTIAL_PAYMENT) && t->meta_blob &&
        jt_obj_from_binary(t->meta_blob, t->meta_len, &meta, &ei) == JT_OK) {
        R->st.partial += jt_obj_has(meta, "DeliveredAmount");
        jt_obj_free(meta);
    }
}

/* skywelld's forward pass charges a taker for what an offer gives at the
 * quality of its book directory (saOfrRate), with the issuer's fee on it,
 * while the offer's owner receives what its TakerPays comes to; an offer
 * whose amounts have drifted from its directory's quality by earlier
 * partial fills (each rounded) leaves the difference with the issuer, as
 * part of the "fee" (DeliverNodeForward: saInPassFees = saInSum −
 * saInPassAct). drift[asset paid] grows by |given × quality − received|
 * for each fill, the most the holders can lose beyond the transfer fee. */
static void offer_drift(const lrun *R, const jt_obj *f, const jt_amount *pays0,
                        const jt_amount *gets0, const jt_amount *pays1, const jt_amount *gets1,
                        dec drift[N_ASSETS])
{
    const uint8_t *dir;
    size_t dn;
    jt_amount gave, got, q, at_q;
    dec a, b;
    int asset = l_asset_of(R, pays1);
    if (asset <= 0 || jt_obj_get_bytes(f, "BookDirectory", &dir, &dn) != JT_OK || dn != 32)
        return;
    uint64_t quality = 0;
    for (int i = 24; i < 32; i++)
        quality = quality << 8 | dir[i];
    if (jt_amount_sub(gets0, gets1, &gave) != JT_OK || jt_amount_sub(pays0, pays1, &got) != JT_OK ||
        jt_amount_from_rate(quality, &q) != JT_OK || jt_amount_mul(&gave, &q, &got, &at_q) != JT_OK ||
        !dec_of(&at_q, &a) || !dec_of(&got, &b))
        return;
    drift[asset] += a > b ? a - b : b - a;
}

/* Checks one closed transaction against its metadata (see above). */
static void l_check_tx(lrun *R, const jn_tx *t)
{
    const jt_obj *tx = t->tx;
    int type = (int)get_uint(tx, "TransactionType", 0);
    jt_amount fee_amt;
    int64_t fee = jt_obj_get_amount(tx, "Fee", &fee_amt) == JT_OK ? jt_amount_drops(&fee_amt) : 0;
    l_type_result(R, tx, t->ter);
    if (!jt_ter_is_claimed(t->ter))
        return;
    l_count_payment(R, t);
    R->fees += fee;
    jt_obj *meta = NULL;
    jt_errinfo ei;
    if (!t->meta_blob || jt_obj_from_binary(t->meta_blob, t->meta_len, &meta, &ei) != JT_OK) {
        l_fail(R, "a closed transaction has no readable metadata");
        return;
    }
    jt_account_id from;
    assert_int_equal(jt_obj_get_account(tx, "Account", &from), JT_OK);
    jt_buf jb;
    const char *label = type == JT_TX_OFFER_CREATE   ? "OfferCreate"
                        : type == JT_TX_OFFER_CANCEL ? "OfferCancel"
                        : type == JT_TX_PAYMENT      ? "Payment"
                                                     : "tx";
    int64_t swt_delta = 0;
    size_t fills = 0;
    /* Per token: the holders' net change, what they received, and the size
     * of the balances changed (a sum of two balances keeps 16 digits, so a
     * change may lose digits below the 16th of the larger balance). */
    dec delta[N_ASSETS] = {0}, received[N_ASSETS] = {0}, size[N_ASSETS] = {0};
    dec drift[N_ASSETS] = {0}; /* see offer_drift */
    size_t n = jt_obj_array_len(meta, "AffectedNodes");
    for (size_t i = 0; i < n && !R->failed; i++) {
        const jt_field *wf;
        const jt_obj *node = jt_obj_array_at(meta, "AffectedNodes", i, &wf);
        int kind = !strcmp(wf->name, "CreatedNode") ? 0 : !strcmp(wf->name, "ModifiedNode") ? 1 : 2;
        uint64_t lt = get_uint(node, "LedgerEntryType", 0);
        const jt_obj *f = NULL, *p = NULL;
        if (jt_obj_get_object(node, kind == 0 ? "NewFields" : "FinalFields", &f) != JT_OK)
            f = NULL;
        if (kind != 0 && jt_obj_get_object(node, "PreviousFields", &p) != JT_OK)
            p = NULL;
        if (lt == JT_LT_ACCOUNT_ROOT && f) {
            jt_amount b1, b0;
            if (jt_obj_get_amount(f, "Balance", &b1) == JT_OK) {
                int64_t after = jt_amount_drops(&b1);
                int64_t before = kind == 0 ? 0 : after;
                if (p && jt_obj_get_amount(p, "Balance", &b0) == JT_OK)
                    before = jt_amount_drops(&b0);
                swt_delta += after - before;
            }
        } else if (lt == JT_LT_SKYWELL_STATE) {
            linedelta d;
            if (!line_delta(R, kind, node, &d)) {
                l_fail(R,
                       "%s by %s: a SkywellState node that is not a known issuer's line, or "
                       "a balance finer than 10^-24: %s",
                       label, l_name(R, &from), json_of(node, &jb));
                jt_buf_clear(&jb);
                break;
            }
            dec ch = d.after - d.before;
            delta[d.asset] += ch;
            if (ch > 0)
                received[d.asset] += ch;
            size[d.asset] +=
                (d.before < 0 ? -d.before : d.before) + (d.after < 0 ? -d.after : d.after);
            if (d.after < 0)
                l_fail(R, "%s by %s: %s's %s line goes negative on the holder's side: %s", label,
                       l_name(R, &from), l_name(R, &d.holder), R->as[d.asset].code,
                       dec_text(d.after));
        } else if (lt == JT_LT_OFFER && f) {
            jt_amount tp, tg, pp, pg;
            if (jt_obj_get_amount(f, "TakerPays", &tp) != JT_OK ||
                jt_obj_get_amount(f, "TakerGets", &tg) != JT_OK) {
                l_fail(R, "%s: an Offer node without TakerPays/TakerGets", label);
                break;
            }
            /* No offer is left with a side at zero: not even the second leg
             * of a bridge that rippled 0.28 left dry (docs/node.md). */
            if (kind != 2 && (jt_amount_sign(&tp) <= 0 || jt_amount_sign(&tg) <= 0)) {
                jt_account_id o;
                if (jt_obj_get_account(f, "Account", &o) != JT_OK)
                    memset(&o, 0, sizeof o);
                l_fail(R,
                       "%s by %s leaves %s's offer %u in the book with TakerPays %s, "
                       "TakerGets %s",
                       label, l_name(R, &from), l_name(R, &o), (unsigned)get_uint(f, "Sequence", 0),
                       amount_text(&tp), amount_text(&tg));
            }
            bool filled = p && jt_obj_get_amount(p, "TakerPays", &pp) == JT_OK &&
                          jt_obj_get_amount(p, "TakerGets", &pg) == JT_OK;
            if (filled)
                offer_drift(R, f, &pp, &pg, &tp, &tg, drift);
            R->st.fills += filled;
            fills += filled;
            R->st.consumed += filled && kind == 2;
            R->st.placed += kind == 0;
        }
    }
    if (!R->failed && swt_delta != -fee)
        l_fail(R,
               "%s by %s (%s): the SWT balances change by %" PRId64 " drops, the fee is %" PRId64,
               label, l_name(R, &from), ter_name(t->ter), swt_delta, fee);
    /* What each token's holders should have gained. */
    int pay_asset = -1;
    dec pay_value = 0;
    bool to_issuer = false;
    jt_amount amt;
    if (type == JT_TX_PAYMENT && t->ter == JT_tesSUCCESS &&
        jt_obj_get_amount(tx, "Amount", &amt) == JT_OK && !amt.native) {
        pay_asset = l_asset_of(R, &amt);
        jt_account_id dst;
        assert_int_equal(jt_obj_get_account(tx, "Destination", &dst), JT_OK);
        assert_true(pay_asset > 0);
        const jt_account_id *iss = &R->iss[R->as[pay_asset].issuer].id;
        assert_true(dec_of(&amt, &pay_value));
        if (same_id(&dst, iss)) {
            to_issuer = true;
            pay_value = -pay_value;
        } else if (!same_id(&from, iss)) {
            pay_asset = -1; /* holder to holder: like a fill */
        }
    }
    for (int a = 1; a < N_ASSETS && !R->failed; a++) {
        if (a == pay_asset) {
            dec off = delta[a] - pay_value;
            if (off > size[a] / 100000000000000 + 1 || -off > size[a] / 100000000000000 + 1)
                l_fail(R, "Payment %s %s: the holders' %s changes by %s, expected %s",
                       to_issuer ? "to" : "from", R->iss[R->as[a].issuer].name, R->as[a].code,
                       dec_text(delta[a]), dec_text(pay_value));
            R->issued[a] += pay_value;
            R->tol[a] += size[a] / 100000000000000 + 1;
            continue;
        }
        /* Tokens only move between holders: unchanged, but for the
         * transfer fee (rate − 1) on what holders received, and for digits
         * below the 16th of the balances (10^-14 of their size allows
         * several such cuts). */
        /* A fill may also lose digits of what it gives to a holder whose
         * balance is large and so does not change at all: up to a unit in
         * the 16th digit of the largest holding (ten, to be safe) per fill. */
        dec due = 0,
            tol = size[a] / 100000000000000 + 1 + (dec)fills * (R->max_held[a] / 100000000000000);
        if (R->as[a].rate && received[a] > 0)
            due = received[a] * (dec)(R->as[a].rate - 1000000000u) / 1000000000;
        if (R->as[a].rate)
            tol += drift[a] * (dec)R->as[a].rate / 1000000000 + 1;
        dec fee_taken = -delta[a];
        dec off = fee_taken - due;
        if (off < 0)
            off = -off;
        if (off > tol) {
            l_fail(R, "%s by %s (%s): the holders' %s changes by %s; expected %s (received %s)",
                   label, l_name(R, &from), ter_name(t->ter), R->as[a].code, dec_text(delta[a]),
                   dec_text(-due), dec_text(received[a]));
            break;
        }
        R->fee_due[a] += due;
        R->tol[a] += tol;
    }
    if (R->failed && !getenv("JT_PROPTEST_QUIET")) {
        say("    tx: %s -> %s\n", json_of(tx, &jb), ter_name(t->ter));
        jt_buf_clear(&jb);
        say("    meta: %s\n", json_of(meta, &jb));
        jt_buf_clear(&jb);
    }
    jt_obj_free(meta);
}

/* The best offer of a book: its quality, and whether any offer at that
 * quality is Passive. false when the book is empty. */
static bool book_top(const jn_view *v, const jt_amount *pays, const jt_amount *gets, uint64_t *q,
                     bool *passive, char *who, size_t cap, const lrun *R)
{
    jn_book_cursor c;
    jn_book_cursor_init(&c, pays, gets);
    uint8_t id[32];
    const jt_obj *o;
    uint64_t oq;
    bool have = false;
    *passive = false;
    while (jn_book_next(v, &c, id, &o, &oq)) {
        if (!o)
            continue;
        if (have && oq != *q)
            break;
        if (!have) {
            jt_account_id a;
            jt_amount tp = swt(0), tg = swt(0);
            if (jt_obj_get_account(o, "Account", &a) != JT_OK)
                memset(&a, 0, sizeof a);
            if (jt_obj_get_amount(o, "TakerPays", &tp) != JT_OK ||
                jt_obj_get_amount(o, "TakerGets", &tg) != JT_OK)
                tp = tg = swt(-1);
            snprintf(who, cap, "%s/%u (TakerPays %s, TakerGets %s)", l_name(R, &a),
                     (unsigned)get_uint(o, "Sequence", 0), amount_text(&tp), amount_text(&tg));
        }
        have = true;
        *q = oq;
        *passive |= (get_uint(o, "Flags", 0) & JT_LSF_PASSIVE) != 0;
    }
    return have;
}

/* What a quality counts asset i in: drops for SWT. */
static const char *l_unit(const lrun *R, int i)
{
    return R->as[i].issuer < 0 ? "drops" : R->as[i].code;
}

static jt_amount l_zero(const lrun *R, int i)
{
    if (R->as[i].issuer < 0)
        return swt(0);
    jt_amount a;
    jt_amount_zero_like(&a, &(jt_amount){.native = false,
                                         .currency = R->as[i].cur,
                                         .issuer = R->iss[R->as[i].issuer].id});
    return a;
}

static void l_check_books(lrun *R)
{
    const jn_view *v = jn_ledger_closed_view(R->L);
    for (int i = 0; i < N_ASSETS && !R->failed; i++)
        for (int j = i + 1; j < N_ASSETS && !R->failed; j++) {
            jt_amount ai = l_zero(R, i), aj = l_zero(R, j);
            uint64_t q1, q2;
            bool p1, p2;
            char w1[256], w2[256];
            if (!book_top(v, &ai, &aj, &q1, &p1, w1, sizeof w1, R) ||
                !book_top(v, &aj, &ai, &q2, &p2, w2, sizeof w2, R))
                continue;
            int64_t m1, m2;
            int e1, e2;
            quality_parts(q1, &m1, &e1);
            quality_parts(q2, &m2, &e2);
            int c = cmp_scaled((__int128)m1 * m2, e1 + e2, 1, 0);
            char t1[JT_AMOUNT_TEXT_MAX], t2[JT_AMOUNT_TEXT_MAX];
            if (jt_amount_quality_text(q1, t1, sizeof t1) != JT_OK ||
                jt_amount_quality_text(q2, t2, sizeof t2) != JT_OK)
                t1[0] = t2[0] = 0;
            if (c < 0 || (c == 0 && !p1 && !p2))
                l_fail(R,
                       "the %s/%s books are crossed: the best offer selling %s asks %s %s per %s, "
                       "the best selling %s asks %s %s per %s; their product is %s 1%s",
                       R->as[i].code, R->as[j].code, R->as[j].code, t1, l_unit(R, i), R->as[j].code,
                       R->as[i].code, t2, l_unit(R, j), R->as[i].code, c < 0 ? "below" : "exactly",
                       c == 0 ? " and neither is Passive" : "");
            if (R->failed)
                say("    %s\n    %s\n", w1, w2);
        }
}

/* ---- the whole state */

typedef struct lacct {
    jt_account_id id;
    uint32_t owner_count, offers, reserved_lines, lines, dir_items;
} lacct;

typedef struct loffer {
    uint8_t id[32];
    jt_account_id owner;
    jt_amount pays, gets;
    uint8_t book[32];
    bool found; /* in its book's walk */
} loffer;

typedef struct lstate {
    lrun *R;
    lacct acct[64];
    size_t n_acct;
    loffer *off;
    size_t n_off, cap_off;
    int64_t swt;
    dec holders[N_ASSETS];
    size_t others; /* entries of other types (directories, FeeSettings) */
} lstate;

static lacct *l_acct(lstate *s, const jt_account_id *id)
{
    for (size_t i = 0; i < s->n_acct; i++)
        if (same_id(&s->acct[i].id, id))
            return &s->acct[i];
    if (s->n_acct == sizeof s->acct / sizeof s->acct[0])
        return NULL;
    lacct *a = &s->acct[s->n_acct++];
    memset(a, 0, sizeof *a);
    a->id = *id;
    return a;
}

static void l_entry(void *ctx, const uint8_t id[32], const jt_obj *o)
{
    lstate *s = ctx;
    lrun *R = s->R;
    uint64_t lt = get_uint(o, "LedgerEntryType", 0);
    if (lt == JT_LT_ACCOUNT_ROOT) {
        jt_account_id a;
        assert_int_equal(jt_obj_get_account(o, "Account", &a), JT_OK);
        lacct *x = l_acct(s, &a);
        assert_non_null(x);
        x->owner_count = jn_read_owner_count(o);
        s->swt += jn_read_balance(o);
    } else if (lt == JT_LT_SKYWELL_STATE) {
        jt_amount lo, hi, bal;
        assert_int_equal(jt_obj_get_amount(o, "LowLimit", &lo), JT_OK);
        assert_int_equal(jt_obj_get_amount(o, "HighLimit", &hi), JT_OK);
        assert_int_equal(jt_obj_get_amount(o, "Balance", &bal), JT_OK);
        uint32_t flags = (uint32_t)get_uint(o, "Flags", 0);
        lacct *l = l_acct(s, &lo.issuer), *h = l_acct(s, &hi.issuer);
        assert_true(l && h);
        l->lines++;
        h->lines++;
        l->reserved_lines += (flags & JT_LSF_LOW_RESERVE) != 0;
        h->reserved_lines += (flags & JT_LSF_HIGH_RESERVE) != 0;
        jn_line_side side;
        bool known = false;
        for (int i = 1; i < N_ASSETS; i++) {
            const jt_account_id *iss = &R->iss[R->as[i].issuer].id;
            if (memcmp(&lo.currency, &R->as[i].cur, sizeof lo.currency))
                continue;
            const jt_account_id *holder = same_id(&hi.issuer, iss)   ? &lo.issuer
                                          : same_id(&lo.issuer, iss) ? &hi.issuer
                                                                     : NULL;
            if (!holder)
                continue;
            known = true;
            assert_true(jn_read_line_side(o, holder, &side));
            dec d;
            if (!dec_of(&side.balance, &d))
                l_fail(R, "%s's %s line holds %s, finer than 10^-24", l_name(R, holder),
                       R->as[i].code, amount_text(&side.balance));
            if (d < 0)
                l_fail(R, "%s owes %s on its line: %s", l_name(R, holder), R->as[i].code,
                       dec_text(d));
            s->holders[i] += d;
        }
        if (!known)
            l_fail(R, "a line between %s and %s that is not a holder's line with an issuer",
                   l_name(R, &lo.issuer), l_name(R, &hi.issuer));
    } else if (lt == JT_LT_OFFER) {
        if (s->n_off == s->cap_off) {
            s->cap_off = s->cap_off ? s->cap_off * 2 : 256;
            s->off = realloc(s->off, s->cap_off * sizeof *s->off);
            assert_non_null(s->off);
        }
        loffer *f = &s->off[s->n_off++];
        memset(f, 0, sizeof *f);
        memcpy(f->id, id, 32);
        const uint8_t *bk;
        size_t n;
        assert_int_equal(jt_obj_get_account(o, "Account", &f->owner), JT_OK);
        assert_int_equal(jt_obj_get_amount(o, "TakerPays", &f->pays), JT_OK);
        assert_int_equal(jt_obj_get_amount(o, "TakerGets", &f->gets), JT_OK);
        assert_int_equal(jt_obj_get_bytes(o, "BookDirectory", &bk, &n), JT_OK);
        assert_int_equal(n, 32);
        memcpy(f->book, bk, 32);
        lacct *x = l_acct(s, &f->owner);
        assert_non_null(x);
        x->offers++;
    } else {
        s->others++;
    }
}

static void l_check_state(lrun *R)
{
    const jn_view *v = jn_ledger_closed_view(R->L);
    const jn_header *h = jn_ledger_last(R->L);
    lstate *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->R = R;
    R->st.state_checks++;
    jn_view_foreach(v, l_entry, s);

    /* SWT. */
    if (!R->failed && (uint64_t)s->swt != h->total_coins)
        l_fail(R, "the SWT balances sum to %" PRId64 ", the header's total coins are %" PRIu64,
               s->swt, h->total_coins);
    if (!R->failed && h->total_coins != R->total0 - (uint64_t)R->fees)
        l_fail(R, "total coins %" PRIu64 ", expected %" PRIu64 " less %" PRId64 " drops of fees",
               h->total_coins, R->total0, R->fees);

    /* Tokens: the holders' side, the issuer's side, what was issued. */
    for (int i = 1; i < N_ASSETS && !R->failed; i++) {
        const party *iss = &R->iss[R->as[i].issuer];
        dec from_issuer = 0;
        jn_dir_cursor c;
        memset(&c, 0, sizeof c);
        uint8_t item[32];
        while (jn_read_owner_next(v, &iss->id, &c, item)) {
            const jt_obj *o = jn_view_read(v, item);
            jn_line_side side;
            if (!o || get_uint(o, "LedgerEntryType", 0) != JT_LT_SKYWELL_STATE ||
                !jn_read_line_side(o, &iss->id, &side) ||
                memcmp(&side.balance.currency, &R->as[i].cur, sizeof side.balance.currency))
                continue;
            dec d;
            if (dec_of(&side.balance, &d))
                from_issuer -= d;
        }
        dec want = R->issued[i] - R->fee_due[i];
        dec off = s->holders[i] - want;
        if (off < 0)
            off = -off;
        if (from_issuer != s->holders[i])
            l_fail(R, "%s: the holders' lines sum to %s, %s's side of them to %s", R->as[i].code,
                   dec_text(s->holders[i]), iss->name, dec_text(-from_issuer));
        else if (off > R->tol[i])
            l_fail(R,
                   "%s: the holders' lines sum to %s; %s issued %s by payments, less %s of "
                   "transfer fees: %s",
                   R->as[i].code, dec_text(s->holders[i]), iss->name, dec_text(R->issued[i]),
                   dec_text(R->fee_due[i]), dec_text(want));
    }

    /* Offers: both sides above zero; in their owner's directory; in the
     * book their amounts name, once; the books hold nothing else. */
    for (size_t k = 0; k < s->n_off && !R->failed; k++) {
        loffer *f = &s->off[k];
        if (jt_amount_sign(&f->pays) <= 0 || jt_amount_sign(&f->gets) <= 0)
            l_fail(R, "%s's offer %s rests with TakerPays %s, TakerGets %s", l_name(R, &f->owner),
                   tu_hex(f->id, 8), amount_text(&f->pays), amount_text(&f->gets));
        uint8_t base[32];
        jn_id_book_base(&f->pays.currency, &f->pays.issuer, &f->gets.currency, &f->gets.issuer,
                        base);
        if (memcmp(base, f->book, 24))
            l_fail(R, "%s's offer %s: its BookDirectory is not in the book of its amounts",
                   l_name(R, &f->owner), tu_hex(f->id, 8));
        jn_dir_cursor c;
        memset(&c, 0, sizeof c);
        uint8_t item[32];
        bool in_dir = false;
        while (!in_dir && jn_read_owner_next(v, &f->owner, &c, item))
            in_dir = !memcmp(item, f->id, 32);
        if (!in_dir)
            l_fail(R, "%s's offer %s is not in its owner directory", l_name(R, &f->owner),
                   tu_hex(f->id, 8));
    }
    size_t walked = 0;
    for (int i = 0; i < N_ASSETS && !R->failed; i++)
        for (int j = 0; j < N_ASSETS && !R->failed; j++) {
            if (i == j)
                continue;
            jt_amount ai = l_zero(R, i), aj = l_zero(R, j);
            jn_book_cursor c;
            jn_book_cursor_init(&c, &ai, &aj);
            uint8_t id[32];
            const jt_obj *o;
            uint64_t q, last = 0;
            while (!R->failed && jn_book_next(v, &c, id, &o, &q)) {
                if (!o) {
                    l_fail(R, "the %s/%s book lists %s, which is not in the ledger", R->as[i].code,
                           R->as[j].code, tu_hex(id, 8));
                    break;
                }
                if (q < last)
                    l_fail(R, "the %s/%s book is out of quality order", R->as[i].code,
                           R->as[j].code);
                last = q;
                loffer *f = NULL;
                for (size_t k = 0; k < s->n_off; k++)
                    if (!memcmp(s->off[k].id, id, 32))
                        f = &s->off[k];
                if (!f || f->found || !jn_same_asset(&f->pays, &ai) ||
                    !jn_same_asset(&f->gets, &aj))
                    l_fail(R, "the %s/%s book lists offer %s %s", R->as[i].code, R->as[j].code,
                           tu_hex(id, 8),
                           !f         ? "which is no Offer"
                           : f->found ? "twice"
                                      : "of another book");
                else
                    f->found = true;
                walked++;
            }
        }
    if (!R->failed && walked != s->n_off)
        l_fail(R, "the books hold %zu offers, the ledger %zu", walked, s->n_off);

    /* Owner counts and owner directories. */
    for (size_t k = 0; k < s->n_acct && !R->failed; k++) {
        lacct *a = &s->acct[k];
        jn_dir_cursor c;
        memset(&c, 0, sizeof c);
        uint8_t item[32];
        size_t items = 0;
        while (jn_read_owner_next(v, &a->id, &c, item))
            items++;
        if (a->owner_count != a->offers + a->reserved_lines)
            l_fail(R, "%s: OwnerCount %u, but it owns %u offers and reserves %u lines",
                   l_name(R, &a->id), a->owner_count, a->offers, a->reserved_lines);
        else if (items != a->offers + a->lines)
            l_fail(R, "%s: its owner directory lists %zu entries, it has %u offers and %u lines",
                   l_name(R, &a->id), items, a->offers, a->lines);
    }
    free(s->off);
    free(s);
}

static void l_max_held(void *ctx, const uint8_t id[32], const jt_obj *o)
{
    lrun *R = ctx;
    jt_amount bal;
    if (get_uint(o, "LedgerEntryType", 0) != JT_LT_SKYWELL_STATE ||
        jt_obj_get_amount(o, "Balance", &bal) != JT_OK)
        return;
    for (int i = 1; i < N_ASSETS; i++) {
        dec d;
        if (memcmp(&bal.currency, &R->as[i].cur, sizeof bal.currency) || !dec_of(&bal, &d))
            continue;
        if (d < 0)
            d = -d;
        if (d > R->max_held[i])
            R->max_held[i] = d;
    }
}

/* The transactions of a closed ledger, in the order they applied, with
 * the offers they changed: what a failed books check needs to be read. */
static void l_print_ledger(const lrun *R, const jn_txlist *closed)
{
    say("    ledger %u, in order:\n", jn_ledger_last(R->L)->seq);
    for (size_t i = 0; i < closed->n; i++) {
        const jn_tx *t = closed->v[i];
        jt_buf b;
        say("    #%u %s -> %s\n", t->index, json_of(t->tx, &b), ter_name(t->ter));
        jt_buf_clear(&b);
        jt_obj *meta = NULL;
        jt_errinfo ei;
        if (!t->meta_blob || jt_obj_from_binary(t->meta_blob, t->meta_len, &meta, &ei) != JT_OK)
            continue;
        size_t n = jt_obj_array_len(meta, "AffectedNodes");
        for (size_t k = 0; k < n; k++) {
            const jt_field *wf;
            const jt_obj *node = jt_obj_array_at(meta, "AffectedNodes", k, &wf);
            const jt_obj *f = NULL, *p = NULL;
            if (get_uint(node, "LedgerEntryType", 0) != JT_LT_OFFER)
                continue;
            bool created = !strcmp(wf->name, "CreatedNode");
            if (jt_obj_get_object(node, created ? "NewFields" : "FinalFields", &f) != JT_OK)
                continue;
            if (!created && jt_obj_get_object(node, "PreviousFields", &p) != JT_OK)
                p = NULL;
            jt_account_id a;
            jt_amount tp, tg, pp, pg;
            if (jt_obj_get_account(f, "Account", &a) != JT_OK ||
                jt_obj_get_amount(f, "TakerPays", &tp) != JT_OK ||
                jt_obj_get_amount(f, "TakerGets", &tg) != JT_OK)
                continue;
            pp = tp;
            pg = tg;
            if (p) {
                (void)!jt_obj_get_amount(p, "TakerPays", &pp);
                (void)!jt_obj_get_amount(p, "TakerGets", &pg);
            }
            say("        %s %s/%u: TakerPays %s -> %s, TakerGets %s -> %s\n", wf->name,
                l_name(R, &a), (unsigned)get_uint(f, "Sequence", 0), amount_text(&pp),
                amount_text(&tp), amount_text(&pg), amount_text(&tg));
        }
        jt_obj_free(meta);
    }
}

static void l_close(lrun *R)
{
    char err[256];
    R->now += 10;
    int rc = jn_ledger_close_begin(R->L, R->now, err, sizeof err);
    if (rc)
        say("close_begin: %s\n", err);
    assert_int_equal(rc, 0);
    const jn_txlist *closed = NULL;
    jn_ledger_close_wait(R->L);
    rc = jn_ledger_close_finish(R->L, &closed, err, sizeof err);
    if (rc)
        say("close_finish: %s\n", err);
    assert_int_equal(rc, 0);
    R->st.closes++;
    memset(R->max_held, 0, sizeof R->max_held);
    jn_view_foreach(jn_ledger_closed_view(R->L), l_max_held, R);
    for (size_t i = 0; i < closed->n && !R->failed; i++)
        l_check_tx(R, closed->v[i]);
    if (!R->failed) {
        l_check_books(R);
        if (R->failed)
            l_print_ledger(R, closed);
    }
}

static void l_setup(lrun *R)
{
    snprintf(R->dir, sizeof R->dir, "/tmp/jn_offers_prop_XXXXXX");
    assert_non_null(mkdtemp(R->dir));
    char err[256];
    assert_int_equal(jn_store_open(R->dir, 0, &R->store, err, sizeof err), 0);
    jn_params_init(&R->p);
    party_init(&R->gen, "genesis", -1);
    static const char *const iss_names[] = {"ia", "ib", "ic"};
    for (int i = 0; i < L_ISSUERS; i++)
        party_init(&R->iss[i], iss_names[i], -1);
    for (int i = 0; i < L_TRADERS; i++)
        party_init(&R->tr[i], "t", i);
    static const lasset assets[N_ASSETS] = {{"SWT", -1, {{0}}, 1, 0},
                                            {"USD", 0, {{0}}, 4000000, 1005000000},
                                            {"CNY", 1, {{0}}, 500000, 0},
                                            {"EUR", 2, {{0}}, 8000000, 0}};
    memcpy(R->as, assets, sizeof assets);
    for (int i = 1; i < N_ASSETS; i++)
        assert_int_equal(jt_currency_from_text(R->as[i].code, false, &R->as[i].cur, NULL), JT_OK);
    R->now = 600000000;
    assert_int_equal(jn_ledger_genesis(R->store, &R->p, &R->gen.id, R->now, err, sizeof err), 0);
    assert_int_equal(jn_ledger_load(R->store, &R->p, &R->L, err, sizeof err), 0);
    R->total0 = jn_ledger_last(R->L)->total_coins;

    jt_amount a;
    for (int i = 0; i < L_ISSUERS; i++) {
        a = swt(INT64_C(1000) * 1000000);
        assert_int_equal(l_submit(R, tx_payment(&R->gen, &R->iss[i], &a, NULL), &R->gen),
                         JT_tesSUCCESS);
    }
    for (int i = 0; i < L_TRADERS; i++) {
        a = swt((i < L_POOR ? 60 : 50000 + (int64_t)below(&R->r, 150000)) * INT64_C(1000000));
        assert_int_equal(l_submit(R, tx_payment(&R->gen, &R->tr[i], &a, NULL), &R->gen),
                         JT_tesSUCCESS);
    }
    l_close(R);
    jt_obj *tx = tx_new(JT_TX_ACCOUNT_SET, &R->iss[0]);
    assert_int_equal(jt_obj_set_uint(tx, "TransferRate", R->as[1].rate), JT_OK);
    assert_int_equal(l_submit(R, tx, &R->iss[0]), JT_tesSUCCESS);
    for (int i = 0; i < L_TRADERS; i++)
        for (int k = 1; k < N_ASSETS; k++)
            if (chance(&R->r, 85)) {
                a = iou(1, 9, &R->as[k].cur, &R->iss[R->as[k].issuer].id);
                int ter = l_submit(R, tx_trust(&R->tr[i], &a), &R->tr[i]);
                assert_true(ter == JT_tesSUCCESS || ter == JT_tecINSUF_RESERVE_LINE ||
                            ter == JT_tecNO_LINE_INSUF_RESERVE);
            }
    l_close(R);
    for (int i = 0; i < L_TRADERS; i++)
        for (int k = 1; k < N_ASSETS; k++) {
            jn_line_side side;
            if (!jn_read_line(jn_ledger_open_view(R->L), &R->tr[i].id, &R->iss[R->as[k].issuer].id,
                              &R->as[k].cur, &side) ||
                chance(&R->r, 10))
                continue;
            a = l_amount(R, k, 1000 * (1 + (int64_t)below(&R->r, 40)), 1, 1);
            assert_int_equal(l_submit(R, tx_payment(&R->iss[R->as[k].issuer], &R->tr[i], &a, NULL),
                                      &R->iss[R->as[k].issuer]),
                             JT_tesSUCCESS);
        }
    l_close(R);
}

static const int64_t SPREAD[][2] = {{16, 25}, {4, 5}, {4, 5}, {4, 5}, {1, 1}, {1, 1},
                                    {1, 1},   {1, 1}, {5, 4}, {5, 4}, {5, 4}, {25, 16}};

/* The exact counter-offer of one near the top of a random book (a random
 * trader, maybe its owner): the two are used up at once. NULL when the
 * book is empty. */
static jt_obj *l_draw_counter(lrun *R, const party *p)
{
    rng *r = &R->r;
    int x = (int)below(r, N_ASSETS), y = (int)below(r, N_ASSETS - 1);
    if (y >= x)
        y++;
    jt_amount ax = l_zero(R, x), ay = l_zero(R, y);
    jn_book_cursor c;
    jn_book_cursor_init(&c, &ax, &ay);
    uint8_t id[32];
    const jt_obj *o, *pick = NULL;
    uint64_t q;
    unsigned skip = below(r, 4);
    while (jn_book_next(jn_ledger_open_view(R->L), &c, id, &o, &q))
        if (o && (pick = o, skip-- == 0))
            break;
    jt_amount tp, tg;
    if (!pick || jt_obj_get_amount(pick, "TakerPays", &tp) != JT_OK ||
        jt_obj_get_amount(pick, "TakerGets", &tg) != JT_OK)
        return NULL;
    /* Only an offer still exactly at the price it was placed at: every
     * quality in the ledger must stay exact (its reciprocal too) for the
     * crossed-book check to be exact. */
    const uint8_t *dir;
    size_t n;
    if (jt_obj_get_bytes(pick, "BookDirectory", &dir, &n) != JT_OK || n != 32)
        return NULL;
    uint64_t dq = 0;
    for (int i = 24; i < 32; i++)
        dq = dq << 8 | dir[i];
    int64_t qm;
    int qe;
    quality_parts(dq, &qm, &qe);
    int pe = tp.native ? 0 : tp.exponent, ge = tg.native ? 0 : tg.exponent;
    if (cmp_scaled((__int128)tp.mantissa, pe, (__int128)qm * (__int128)tg.mantissa, qe + ge) != 0)
        return NULL;
    return tx_offer(p, &tg, &tp, chance(r, 20) ? JT_TF_FILL_OR_KILL : 0, 0, 0);
}

static jt_obj *l_draw_offer(lrun *R, const party **from)
{
    rng *r = &R->r;
    /* The last L_PAYERS traders place no offers (see l_draw_xpay). */
    const party *p = &R->tr[below(r, L_TRADERS - L_PAYERS)];
    if (chance(r, 6)) {
        jt_obj *tx = l_draw_counter(R, p);
        if (tx) {
            *from = p;
            return tx;
        }
    }
    int x = (int)below(r, N_ASSETS), y;
    /* Mostly an asset the account holds (an unfunded offer is refused,
     * tecUNFUNDED_OFFER: some of those are enough). */
    if (chance(r, 85)) {
        const jn_view *v = jn_ledger_open_view(R->L);
        int held[N_ASSETS], n = 0;
        for (int i = 0; i < N_ASSETS; i++) {
            jt_amount like = l_zero(R, i), f;
            if (jn_read_funds(
                    v,
                    &(jn_env){.reserve_base = R->p.reserve_base, .reserve_inc = R->p.reserve_inc},
                    &p->id, &like, &f) &&
                jt_amount_sign(&f) > 0)
                held[n++] = i;
        }
        if (n)
            x = held[below(r, (uint32_t)n)];
    }
    y = (int)below(r, N_ASSETS - 1);
    if (y >= x)
        y++;
    /* Sell x for y: worth k SWT, at the reference price times the spread. */
    int64_t k = chance(r, 5) ? 500 + (int64_t)below(r, 2500) : 1 + (int64_t)below(r, 200);
    const int64_t *s = SPREAD[below(r, sizeof SPREAD / sizeof SPREAD[0])];
    jt_amount gets = l_amount(R, x, k, 1, 1), pays = l_amount(R, y, k, s[0], s[1]);
    uint32_t flags = 0;
    if (chance(r, 10))
        flags |= JT_TF_PASSIVE;
    if (chance(r, 12))
        flags |= JT_TF_SELL;
    unsigned c = below(r, 100);
    if (c < 8)
        flags |= JT_TF_IMMEDIATE_OR_CANCEL;
    else if (c < 16)
        flags |= JT_TF_FILL_OR_KILL;
    uint32_t exp = 0, cancel = 0;
    uint32_t parent = jn_ledger_last(R->L)->close_time;
    c = below(r, 100);
    if (c < 8)
        exp = parent + 10 * (1 + below(r, 6));
    else if (c < 10)
        exp = parent - below(r, 30);
    c = below(r, 100);
    const jn_view *v = jn_ledger_open_view(R->L);
    if (c < 8) {
        uint32_t seqs[64];
        size_t n = owner_offers(v, &p->id, seqs, 64);
        if (n)
            cancel = seqs[below(r, (uint32_t)n)];
    } else if (c < 10) {
        uint32_t seq = account_seq(v, &p->id);
        if (seq > 1)
            cancel = 1 + below(r, seq - 1);
    }
    *from = p;
    return tx_offer(p, &pays, &gets, flags, exp, cancel);
}

/* A path of one element: the issue (currency and issuer) of asset i, or
 * SWT. */
static void l_set_path(const lrun *R, jt_obj *tx, int i)
{
    char json[256], addr[JT_ADDRESS_MAX];
    if (R->as[i].issuer < 0) {
        snprintf(json, sizeof json, "[[{\"currency\":\"SWT\"}]]");
    } else {
        assert_int_equal(jt_address_encode(&R->iss[R->as[i].issuer].id, addr), JT_OK);
        snprintf(json, sizeof json, "[[{\"currency\":\"%s\",\"issuer\":\"%s\"}]]", R->as[i].code,
                 addr);
    }
    jt_json_doc *doc;
    jt_errinfo ei;
    assert_int_equal(jt_json_parse(json, strlen(json), NULL, &doc, &ei), JT_OK);
    assert_int_equal(jt_obj_set_json(tx, "Paths", jt_json_root(doc), &ei), JT_OK);
    jt_json_doc_free(doc);
}

/* Payments through the payment engine between the last L_PAYERS traders,
 * which place no offers (an account that is both the owner of an offer a
 * payment takes and its sender or receiver nets the transfer fee with what
 * it receives on one line, which the per-transaction check cannot tell
 * apart):
 *   - SWT for a token through the book (SendMax in SWT), or a token for SWT
 *     (SendMax in the token), along the default path, or a path naming the
 *     direct book (sometimes with NoSkywellDirect), or bridged through CNY
 *     or EUR (never USD, whose transfer fee would fall between two offers
 *     of one owner); a third of them PartialPayments;
 *   - a same-currency PartialPayment asking for more than the sender holds.
 * The SendMax allows the reference price times 5/4 or 25/16. */
static jt_obj *l_draw_xpay(lrun *R, const party **from)
{
    rng *r = &R->r;
    const jn_view *v = jn_ledger_open_view(R->L);
    int pi = L_TRADERS - L_PAYERS + (int)below(r, L_PAYERS);
    int qi = L_TRADERS - L_PAYERS + (int)below(r, L_PAYERS - 1);
    if (qi >= pi)
        qi++;
    const party *p = &R->tr[pi], *q = &R->tr[qi];
    *from = p;
    int k = 1 + (int)below(r, N_ASSETS - 1);
    int bridge = 2 + (int)below(r, 2); /* CNY or EUR */
    int64_t w = 1 + (int64_t)below(r, chance(r, 10) ? 3000 : 300);
    bool wide = chance(r, 50);
    int64_t sn = wide ? 25 : 5, sd = wide ? 16 : 4;
    jn_line_side side;
    bool holds = jn_read_line(v, &p->id, &R->iss[R->as[k].issuer].id, &R->as[k].cur, &side) &&
                 jt_amount_sign(&side.balance) > 0;
    unsigned c = below(r, 100);
    uint32_t flags = JT_TF_FULLY_CANONICAL_SIG;
    jt_amount amt, smax;
    jt_obj *tx;
    if (c >= 80 && holds) {
        /* More than it holds, as a PartialPayment. */
        jt_amount held = side.balance;
        held.currency = R->as[k].cur;
        held.issuer = R->iss[R->as[k].issuer].id;
        assert_int_equal(jt_amount_add(&held, &held, &amt), JT_OK);
        tx = tx_payment(p, q, &amt, NULL);
        if (R->as[k].rate) {
            assert_int_equal(jt_amount_mul_rate(&amt, R->as[k].rate, true, &smax), JT_OK);
            assert_int_equal(jt_obj_set_amount(tx, "SendMax", &smax), JT_OK);
        }
        assert_int_equal(jt_obj_set_uint(tx, "Flags", flags | JT_TF_PARTIAL_PAYMENT), JT_OK);
        return tx;
    }
    bool buy = c < 40 || !holds; /* SWT for the token */
    if (buy) {
        amt = l_amount(R, k, w, 1, 1);
        smax = l_amount(R, 0, w, sn, sd);
    } else {
        amt = l_amount(R, 0, w, 1, 1);
        smax = l_amount(R, k, w, sn, sd);
    }
    tx = tx_payment(p, q, &amt, &smax);
    if (chance(r, 33))
        flags |= JT_TF_PARTIAL_PAYMENT;
    unsigned pc = below(r, 100);
    if (pc >= 50 && pc < 75) {
        l_set_path(R, tx, buy ? k : 0);
        if (chance(r, 50))
            flags |= JT_TF_NO_SKYWELL_DIRECT;
    } else if (pc >= 75 && bridge != k) {
        l_set_path(R, tx, bridge);
    }
    assert_int_equal(jt_obj_set_uint(tx, "Flags", flags), JT_OK);
    return tx;
}

static jt_obj *l_draw_payment(lrun *R, const party **from)
{
    rng *r = &R->r;
    if (chance(r, 40))
        return l_draw_xpay(R, from);
    const jn_view *v = jn_ledger_open_view(R->L);
    const party *p = &R->tr[below(r, L_TRADERS)];
    const party *q = &R->tr[below(r, L_TRADERS)];
    if (q == p)
        q = &R->tr[(p - R->tr + 1) % L_TRADERS];
    unsigned c = below(r, 100);
    jt_amount a;
    *from = p;
    if (c < 40) {
        /* SWT; now and then nearly all the sender has above its reserve. */
        int64_t drops = (1 + (int64_t)below(r, 200)) * 1000000;
        if (chance(r, 10)) {
            const jt_obj *root = jn_read_account(v, &p->id);
            jt_amount f;
            jt_amount like = swt(0);
            if (root &&
                jn_read_funds(
                    v,
                    &(jn_env){.reserve_base = R->p.reserve_base, .reserve_inc = R->p.reserve_inc},
                    &p->id, &like, &f) &&
                jt_amount_drops(&f) > 1000)
                drops = jt_amount_drops(&f) - (int64_t)below(r, 1000);
        }
        a = swt(drops);
        return tx_payment(p, q, &a, NULL);
    }
    int k = 1 + (int)below(r, N_ASSETS - 1);
    const party *iss = &R->iss[R->as[k].issuer];
    jn_line_side side;
    bool has = jn_read_line(v, &p->id, &iss->id, &R->as[k].cur, &side) &&
               jt_amount_sign(&side.balance) > 0;
    if (c < 70 && has) {
        /* Holder to holder: a part of what it holds, or all of it. */
        jt_amount held = side.balance;
        held.currency = R->as[k].cur;
        held.issuer = iss->id;
        if (chance(r, 25)) {
            a = held;
            if (R->as[k].rate)
                assert_int_equal(jt_amount_div_rate(&held, R->as[k].rate, &a), JT_OK);
        } else {
            a = l_amount(R, k, 1 + (int64_t)below(r, 300), 1, 1);
        }
        jt_amount max;
        if (R->as[k].rate) {
            assert_int_equal(jt_amount_mul_rate(&a, R->as[k].rate, true, &max), JT_OK);
            return tx_payment(p, q, &a, &max);
        }
        return tx_payment(p, q, &a, NULL);
    }
    if (c < 85 || !has) {
        a = l_amount(R, k, 1 + (int64_t)below(r, 2000), 1, 1);
        *from = iss;
        return tx_payment(iss, p, &a, NULL);
    }
    jt_amount held = side.balance;
    held.currency = R->as[k].cur;
    held.issuer = iss->id;
    a = chance(r, 30) ? held : l_amount(R, k, 1 + (int64_t)below(r, 300), 1, 1);
    return tx_payment(p, iss, &a, NULL);
}

static void ledger_run(uint64_t seed, size_t n_txs)
{
    lrun *R = calloc(1, sizeof *R);
    assert_non_null(R);
    R->seed = seed;
    R->r.s = seed;
    printf("# ledger_invariants: seed %" PRIu64 ", %zu transactions (JT_PROPTEST_SEED=%" PRIu64
           " to replay)\n",
           seed, n_txs, seed);
    fflush(stdout);
    l_setup(R);
    uint32_t next_close = 5 + below(&R->r, 11);
    for (size_t n = 0; n < n_txs && !R->failed; n++) {
        const party *from;
        jt_obj *tx;
        unsigned c = below(&R->r, 100);
        if (c < 68) {
            tx = l_draw_offer(R, &from);
        } else if (c < 78) {
            from = &R->tr[below(&R->r, L_TRADERS)];
            uint32_t seqs[64];
            const jn_view *v = jn_ledger_open_view(R->L);
            size_t k = owner_offers(v, &from->id, seqs, 64);
            uint32_t next = account_seq(v, &from->id);
            uint32_t seq = k && chance(&R->r, 85) ? seqs[below(&R->r, (uint32_t)k)]
                                                  : 1 + below(&R->r, next > 1 ? next - 1 : 1);
            tx = tx_cancel(from, seq);
        } else {
            tx = l_draw_payment(R, &from);
        }
        (void)l_submit(R, tx, from);
        if (--next_close == 0) {
            l_close(R);
            next_close = 5 + below(&R->r, 11);
            if (!R->failed && R->st.closes % 25 == 0)
                l_check_state(R);
        }
    }
    if (!R->failed)
        l_close(R);
    if (!R->failed)
        l_check_state(R);
    /* What `jt-node verify` does, on the store as it is on disk: closed,
     * opened again, every ledger checked. */
    uint32_t last = jn_ledger_last(R->L)->seq;
    jn_ledger_free(R->L);
    R->L = NULL;
    jn_store_close(R->store);
    R->store = NULL;
    if (!R->failed) {
        char err[256];
        uint32_t checked = 0;
        assert_int_equal(jn_store_open(R->dir, 0, &R->store, err, sizeof err), 0);
        int rc = jn_ledger_verify(R->store, err, sizeof err, &checked);
        if (rc)
            l_fail(R, "jn_ledger_verify: %s", err);
        else if (checked != last)
            l_fail(R, "jn_ledger_verify checked %u ledgers, %u were closed", checked, last);
    }
    const lstats *s = &R->st;
    static const char *const names[3] = {"OfferCreate", "OfferCancel", "Payment"};
    printf("# ledger_invariants: seed %" PRIu64 ": %zu transactions, %zu ledgers; offers: %zu "
           "filled (%zu used up), %zu placed; %zu full state checks%s\n",
           seed, s->txs, s->closes, s->fills, s->consumed, s->placed, s->state_checks,
           R->failed ? " — STOPPED AT A FAILED INVARIANT" : "");
    for (int k = 0; k < 3; k++) {
        printf("#   %s:", names[k]);
        for (int slot = 0; slot < 64; slot++)
            if (s->by_type[k][slot])
                printf(" %s %zu",
                       slot == 0    ? "tesSUCCESS"
                       : slot == 63 ? "other"
                                    : ter_name(slot + 99),
                       s->by_type[k][slot]);
        printf("\n");
    }
    printf("#   Payments through the engine that succeeded: %zu SWT for a token, %zu a token for "
           "SWT, %zu with Paths, %zu partial\n",
           s->swt_for_token, s->token_for_swt, s->with_paths, s->partial);
    fflush(stdout);
    bool failed = R->failed;
    bool crossed_some = s->fills > 0;
    bool paid_all_kinds = n_txs < 500 || (s->swt_for_token && s->token_for_swt && s->with_paths &&
                                          s->partial);
    jn_store_close(R->store);
    tu_rm_rf(R->dir);
    free(R);
    if (failed)
        fail_msg("seed %" PRIu64 ": an invariant does not hold (above)", seed);
    if (!crossed_some)
        fail_msg("seed %" PRIu64 ": no offer was ever filled", seed);
    if (!paid_all_kinds)
        fail_msg("seed %" PRIu64 ": a kind of cross-currency or partial payment never succeeded",
                 seed);
}

static void ledger_invariants(void **state)
{
    (void)state;
    static const seed_plan dflt[] = {{20260101, 3000}, {11, 1000}, {424242, 1000}};
    seed_plan plan[8];
    size_t n = plan_seeds(dflt, sizeof dflt / sizeof dflt[0], plan);
    for (size_t i = 0; i < n; i++)
        ledger_run(plan[i].seed, plan[i].txs);
}

/* ================================================================ the step limit
 *
 * One OfferCreate looks at no more than 1 000 offers (rippled's
 * StepCounter): a taker that could take 1 005 offers takes 1 000 and the
 * rest of it is placed; an ImmediateOrCancel one has the rest killed.
 * Either way the 1 000 taken are deleted, and the book keeps the others. */

static void offers_of(const jt_obj *meta, size_t count[3])
{
    count[0] = count[1] = count[2] = 0;
    size_t n = jt_obj_array_len(meta, "AffectedNodes");
    for (size_t i = 0; i < n; i++) {
        const jt_field *wf;
        const jt_obj *node = jt_obj_array_at(meta, "AffectedNodes", i, &wf);
        if (!node || get_uint(node, "LedgerEntryType", 0) != JT_LT_OFFER)
            continue;
        for (int k = 0; k < 3; k++)
            if (!strcmp(wf->name, NODE_KINDS[k]))
                count[k]++;
    }
}

static void cross_step_limit(void **state)
{
    (void)state;
    mrun *R = calloc(1, sizeof *R);
    assert_non_null(R);
    m_setup(R);
    const party *maker = &R->tr[0];
    jt_obj *meta, *tx;
    /* 2 010 one-TOK offers at 1 000 drops per TOK. */
    jt_amount one = m_tok(R, 1000000), price = swt(1000);
    for (int i = 0; i < 2010; i++) {
        tx = tx_offer(maker, &price, &one, 0, 0, 0);
        assert_int_equal(m_apply(R, tx, maker, &meta), JT_tesSUCCESS);
        jt_obj_free(tx);
        jt_obj_free(meta);
        if (i % 500 == 499)
            m_close(R);
    }
    m_close(R);
    size_t count[3];
    for (int ioc = 0; ioc < 2; ioc++) {
        const party *taker = &R->tr[1 + ioc];
        jt_amount want = m_tok(R, INT64_C(1005000000)), give = swt(1005000);
        tx = tx_offer(taker, &want, &give, ioc ? JT_TF_IMMEDIATE_OR_CANCEL : 0, 0, 0);
        assert_int_equal(m_apply(R, tx, taker, &meta), JT_tesSUCCESS);
        jt_obj_free(tx);
        offers_of(meta, count);
        jt_obj_free(meta);
        if (count[2] != 1000 || count[0] != (ioc ? 0u : 1u))
            fail_msg("%s taker: %zu offers taken, %zu placed (want 1000 and %d)",
                     ioc ? "an ImmediateOrCancel" : "a", count[2], count[0], ioc ? 0 : 1);
        m_close(R);
        /* The rest of the plain taker rests: 5 TOK for 5 000 drops. */
        uint32_t seqs[4];
        size_t k = owner_offers(&R->view, &taker->id, seqs, 4);
        assert_int_equal(k, ioc ? 0 : 1);
    }
    /* 10 of the maker's offers are left, and a taker of them takes them all. */
    uint32_t seqs[16];
    assert_int_equal(owner_offers(&R->view, &maker->id, seqs, 16), 10);
    jt_amount want = m_tok(R, 10000000), give = swt(10000);
    tx = tx_offer(&R->tr[3], &want, &give, 0, 0, 0);
    assert_int_equal(m_apply(R, tx, &R->tr[3], &meta), JT_tesSUCCESS);
    jt_obj_free(tx);
    offers_of(meta, count);
    jt_obj_free(meta);
    assert_int_equal(count[2], 10);
    assert_int_equal(count[0], 0);
    jn_view_clear(&R->view);
    jn_map_clear(&R->base);
    free(R);
}

int main(void)
{
    g_trace = env_u64("JT_PROPTEST_TRACE", 0) != 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_rules),
        cmocka_unit_test(model_agrees),
        cmocka_unit_test(ledger_invariants),
        cmocka_unit_test(cross_step_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
