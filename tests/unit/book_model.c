/*
 * book_model.c — the reference order book of book_model.h.
 *
 * The rules, from rippled 0.28's OfferCreate (CreateOffer, Taker,
 * OfferStream, BookTip), which skywelld runs unchanged, for one direct
 * book and funded accounts:
 *
 *  - An order gives `give` of one asset and wants `want` of the other. Its
 *    quality as a taker is Q = give/want; a resting offer (TakerPays p,
 *    TakerGets g) in the opposite book has the quality q = p/g it was
 *    placed at. The taker takes offers best first, time order within a
 *    quality, while q <= Q (q < Q when the order is Passive).
 *  - Walking the book: an expired offer (Expiration <= the parent ledger's
 *    close time) is removed as the walk meets it, whatever its quality;
 *    the taker's own offer is removed, not crossed, unless its quality
 *    stops the walk; the walk stops at the first offer that is not
 *    crossed. After an offer is used up the walk moves on at once (removing
 *    what it passes) even when the taker is done.
 *  - One fill takes the whole offer, cut to what the taker still wants
 *    (unless it sells: tfSell takes all it can at this quality or better)
 *    and to what it still gives, each cut priced at the offer's quality q:
 *    for `out` the taker pays out·q, for `in` it gets in/q, never more than
 *    the offer holds. An SWT result is cut to whole drops; a token result
 *    must be exact (else BM_AMBIGUOUS).
 *  - The taker is done when it has given all, or (not selling) got all it
 *    wanted. Otherwise what is left is placed at the order's own quality:
 *    a buyer's remainder is the rest of what it wants and the matching
 *    give; a seller's, the rest of what it gives and the matching want.
 *    Those must be exact (else BM_AMBIGUOUS): the ledger rounds them up in
 *    a way that depends on its number format.
 *  - ImmediateOrCancel keeps the fills and places nothing. FillOrKill that
 *    is not done undoes everything but the fee and the removal of expired
 *    offers the walk met (OfferSequence's cancel is undone too).
 *  - OfferSequence removes that offer of the account first; an order whose
 *    own Expiration has passed does only that.
 *
 * A fill moves `in` from the taker to the owner and `out` back; no transfer
 * fee (the pair's issuer has none and trades with no one).
 */
#include "book_model.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- fractions */

static int64_t gcd64(int64_t a, int64_t b)
{
    if (a < 0)
        a = -a;
    if (b < 0)
        b = -b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static bm_q q_make(int64_t num, int64_t den)
{
    int64_t g = gcd64(num, den);
    if (g == 0)
        g = 1;
    bm_q q = {num / g, den / g};
    return q;
}

/* Is n/d (reduced, > 0) a decimal of at most 16 significant digits, as a
 * ledger quality holds it exactly? */
static bool q_exact16(int64_t n, int64_t d)
{
    while (d % 10 == 0)
        d /= 10;
    __int128 v = n;
    while (d % 2 == 0) {
        d /= 2;
        v *= 5;
    }
    while (d % 5 == 0) {
        d /= 5;
        v *= 2;
    }
    if (d != 1)
        return false;
    while (v % 10 == 0)
        v /= 10;
    return v < (__int128)10000000000000000;
}

int bm_q_cmp(bm_q a, bm_q b)
{
    __int128 l = (__int128)a.num * b.den, r = (__int128)b.num * a.den;
    return l < r ? -1 : l > r ? 1 : 0;
}

/* x·num/den, for a result in `asset`: SWT is cut toward zero; a token
 * result must be exact (*exact cleared otherwise). */
static int64_t muldiv(int64_t x, int64_t num, int64_t den, int asset, bool *exact)
{
    __int128 p = (__int128)x * num;
    if (p % den != 0 && asset == BM_TOK)
        *exact = false;
    return (int64_t)(p / den);
}

/* ---------------------------------------------------------------- state */

void bm_init(bm *m, int n_accounts, int64_t reserve_base, int64_t reserve_inc)
{
    memset(m, 0, sizeof *m);
    m->n_accounts = n_accounts;
    m->reserve_base = reserve_base;
    m->reserve_inc = reserve_inc;
}

void bm_free(bm *m)
{
    for (int b = 0; b < 2; b++)
        free(m->book[b].v);
    memset(m->book, 0, sizeof m->book);
}

int bm_copy(bm *dst, const bm *src)
{
    bm_book keep[2];
    memcpy(keep, dst->book, sizeof keep);
    memcpy(dst, src, sizeof *dst);
    for (int b = 0; b < 2; b++) {
        bm_book *k = &keep[b];
        if (k->cap < src->book[b].n) {
            size_t cap = src->book[b].n + 16;
            bm_offer *v = realloc(k->v, cap * sizeof *v);
            if (!v) {
                dst->book[b] = *k;
                return BM_NOMEM;
            }
            k->v = v;
            k->cap = cap;
        }
        if (src->book[b].n)
            memcpy(k->v, src->book[b].v, src->book[b].n * sizeof *k->v);
        k->n = src->book[b].n;
        dst->book[b] = *k;
    }
    return BM_OK;
}

void bm_outcome_clear(bm_outcome *o)
{
    o->n = 0;
    o->why = NULL;
}

static int emit(bm_outcome *o, int kind, int why, int book, const bm_offer *of, int64_t a,
                int64_t b)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 32;
        bm_event *v = realloc(o->ev, cap * sizeof *v);
        if (!v)
            return BM_NOMEM;
        o->ev = v;
        o->cap = cap;
    }
    bm_event *e = &o->ev[o->n++];
    e->kind = kind;
    e->why = why;
    e->book = book;
    e->owner = of->owner;
    e->seq = of->seq;
    e->a = a;
    e->b = b;
    return BM_OK;
}

void bm_fee(bm *m, int account, int64_t drops)
{
    m->bal[account][BM_SWT] -= drops;
}

void bm_transfer(bm *m, int from, int to, int asset, int64_t amount)
{
    m->bal[from][asset] -= amount;
    m->bal[to][asset] += amount;
}

const bm_offer *bm_find(const bm *m, int account, uint32_t seq, int *book)
{
    for (int b = 0; b < 2; b++)
        for (size_t i = 0; i < m->book[b].n; i++)
            if (m->book[b].v[i].owner == account && m->book[b].v[i].seq == seq) {
                if (book)
                    *book = b;
                return &m->book[b].v[i];
            }
    return NULL;
}

static void book_remove(bm_book *bk, size_t i)
{
    memmove(&bk->v[i], &bk->v[i + 1], (bk->n - i - 1) * sizeof *bk->v);
    bk->n--;
}

/* Inserts after every offer of better or equal quality (time order). */
static int book_insert(bm_book *bk, const bm_offer *of)
{
    if (bk->n == bk->cap) {
        size_t cap = bk->cap ? bk->cap * 2 : 32;
        bm_offer *v = realloc(bk->v, cap * sizeof *v);
        if (!v)
            return BM_NOMEM;
        bk->v = v;
        bk->cap = cap;
    }
    size_t i = bk->n;
    while (i > 0 && bm_q_cmp(bk->v[i - 1].q, of->q) > 0)
        i--;
    memmove(&bk->v[i + 1], &bk->v[i], (bk->n - i) * sizeof *bk->v);
    bk->v[i] = *of;
    bk->n++;
    return BM_OK;
}

static uint32_t offers_of(const bm *m, int account)
{
    uint32_t n = 0;
    for (int b = 0; b < 2; b++)
        for (size_t i = 0; i < m->book[b].n; i++)
            n += m->book[b].v[i].owner == account;
    return n;
}

/* What `account` can spend of `asset`: SWT above its reserve. */
static int64_t funds(const bm *m, int account, int asset)
{
    int64_t have = m->bal[account][asset];
    if (asset == BM_SWT)
        have -= m->reserve_base +
                m->reserve_inc * (int64_t)(m->reserve_objects[account] + offers_of(m, account));
    return have > 0 ? have : 0;
}

static bool remove_offer(bm *m, int account, uint32_t seq, int why, bm_outcome *out, int *rc)
{
    for (int b = 0; b < 2; b++)
        for (size_t i = 0; i < m->book[b].n; i++)
            if (m->book[b].v[i].owner == account && m->book[b].v[i].seq == seq) {
                *rc = emit(out, BM_GONE, why, b, &m->book[b].v[i], 0, 0);
                book_remove(&m->book[b], i);
                return true;
            }
    return false;
}

int bm_offer_cancel(bm *m, int account, uint32_t seq, bm_outcome *out)
{
    int rc = BM_OK;
    bm_outcome_clear(out);
    remove_offer(m, account, seq, BM_CANCELLED, out, &rc);
    return rc;
}

/* ---------------------------------------------------------------- crossing */

typedef struct taker {
    int account;
    int in_asset; /* what it gives */
    int64_t rem_in, rem_out;
    bm_q Q; /* give/want */
    bool passive, sell;
} taker;

/* Does the taker refuse an offer of quality q? */
static bool rejects(const taker *t, bm_q q)
{
    int c = bm_q_cmp(q, t->Q);
    return t->passive ? c >= 0 : c > 0;
}

static bool done(const taker *t)
{
    return t->rem_in <= 0 || (!t->sell && t->rem_out <= 0);
}

typedef struct walk {
    bm *m;
    bm_book *bk;
    int book;
    uint32_t when;
    size_t pos; /* the tip, when have */
    bm_outcome *out;
    int rc;
    /* Expired offers met, removed even when a FillOrKill is undone. */
    struct {
        int owner;
        uint32_t seq;
    } expired[256];
    size_t n_expired;
} walk;

static void gone(walk *w, size_t i, int why)
{
    if (w->rc == BM_OK)
        w->rc = emit(w->out, BM_GONE, why, w->book, &w->bk->v[i], 0, 0);
    book_remove(w->bk, i);
}

/* OfferStream::step from w->pos: removes expired offers as it meets them;
 * an offer whose owner has no funds would be removed too, which the model
 * refuses (funded accounts only). true with the tip at w->pos. */
static bool stream_step(walk *w)
{
    while (w->pos < w->bk->n) {
        bm_offer *o = &w->bk->v[w->pos];
        if (o->expiration && o->expiration <= w->when) {
            if (w->n_expired < sizeof w->expired / sizeof w->expired[0]) {
                w->expired[w->n_expired].owner = o->owner;
                w->expired[w->n_expired].seq = o->seq;
                w->n_expired++;
            } else if (w->rc == BM_OK) {
                w->rc = BM_NOMEM;
            }
            gone(w, w->pos, BM_EXPIRED);
            continue;
        }
        if (o->pays <= 0 || o->gets <= 0 || funds(w->m, o->owner, 1 - w->book) <= 0) {
            if (w->rc == BM_OK) {
                w->rc = BM_UNFUNDED;
                w->out->why = "a resting offer is empty or unfunded";
            }
            return false;
        }
        return true;
    }
    return false;
}

/* CreateOffer::step_account: the next tip that is either refused by
 * quality or someone else's; the taker's own offers before it are removed. */
static bool step_account(walk *w, const taker *t)
{
    while (stream_step(w)) {
        bm_offer *o = &w->bk->v[w->pos];
        if (rejects(t, o->q) || o->owner != t->account)
            return true;
        gone(w, w->pos, BM_SELF);
    }
    return false;
}

int bm_offer_create(bm *m, const bm_order *ord, uint32_t parent_close, bm_outcome *out)
{
    bm_outcome_clear(out);
    if (ord->give <= 0 || ord->want <= 0 || ord->account < 0 || ord->account >= m->n_accounts ||
        (ord->flags & BM_IOC && ord->flags & BM_FOK)) {
        out->why = "not a valid order";
        return BM_AMBIGUOUS;
    }
    {
        bm_q q = q_make(ord->want, ord->give);
        if (!q_exact16(q.num, q.den) || !q_exact16(q.den, q.num)) {
            out->why = "the order's quality, or its reciprocal, is not exact in 16 digits";
            return BM_AMBIGUOUS;
        }
    }
    /* The checkpoint: fee and sequence only (the caller charged the fee). */
    bm before;
    memset(&before, 0, sizeof before);
    if (bm_copy(&before, m) != BM_OK) {
        bm_free(&before);
        return BM_NOMEM;
    }
    int64_t prior_swt = m->bal[ord->account][BM_SWT];
    int rc = BM_OK;
    int give = ord->give_asset, get = 1 - give;

    if (funds(m, ord->account, give) <= 0) {
        out->why = "the order is unfunded (tecUNFUNDED_OFFER)";
        rc = BM_UNFUNDED;
        goto undo;
    }
    if (ord->cancel_seq)
        remove_offer(m, ord->account, ord->cancel_seq, BM_CANCELLED, out, &rc);
    if (rc != BM_OK)
        goto undo;
    if (ord->expiration && parent_close >= ord->expiration)
        goto keep;

    taker t = {.account = ord->account,
               .in_asset = give,
               .rem_in = ord->give,
               .rem_out = ord->want,
               .Q = q_make(ord->give, ord->want),
               .passive = ord->flags & BM_PASSIVE,
               .sell = ord->flags & BM_SELL};
    /* The opposite book: offers whose TakerPays is what the taker gives. */
    walk *w = calloc(1, sizeof *w);
    if (!w) {
        rc = BM_NOMEM;
        goto undo;
    }
    w->m = m;
    w->book = give;
    w->bk = &m->book[give];
    w->when = parent_close;
    w->out = out;
    bool exact = true;

    bool have = step_account(w, &t);
    while (have && w->rc == BM_OK) {
        bm_offer *o = &w->bk->v[w->pos];
        if (rejects(&t, o->q))
            break;
        /* The flow: the whole offer, cut to what the taker still wants and
         * still gives, at the offer's quality. */
        int64_t f_in = o->pays, f_out = o->gets;
        if (!t.sell && t.rem_out < f_out) {
            f_out = t.rem_out;
            int64_t x = muldiv(f_out, o->q.num, o->q.den, give, &exact);
            f_in = x < o->pays ? x : o->pays;
        }
        if (t.rem_in < f_in) {
            f_in = t.rem_in;
            int64_t x = muldiv(f_in, o->q.den, o->q.num, get, &exact);
            f_out = x < f_out ? x : f_out;
        }
        if (!exact) {
            w->rc = BM_AMBIGUOUS;
            out->why = "a fill's token amount is not a whole micro-token";
            break;
        }
        if (funds(m, o->owner, get) < f_out || funds(m, t.account, give) < f_in) {
            w->rc = BM_UNFUNDED;
            out->why = "funds would limit a fill";
            break;
        }
        if (w->rc == BM_OK)
            w->rc = emit(out, BM_FILL, 0, give, o, f_in, f_out);
        o->pays -= f_in;
        o->gets -= f_out;
        bm_transfer(m, t.account, o->owner, give, f_in);
        bm_transfer(m, o->owner, t.account, get, f_out);
        t.rem_in -= f_in;
        t.rem_out -= f_out;
        bool dry = o->pays <= 0 || o->gets <= 0;
        if (!dry && funds(m, o->owner, get) <= 0) {
            w->rc = BM_UNFUNDED;
            out->why = "an owner runs out of funds";
            break;
        }
        if (dry) {
            gone(w, w->pos, BM_CONSUMED);
            have = step_account(w, &t);
        }
        if (done(&t))
            break;
        if (!dry) {
            w->rc = BM_AMBIGUOUS;
            out->why = "a fill used up neither the offer nor the taker";
            break;
        }
    }
    rc = w->rc;
    if (rc == BM_OK && funds(m, t.account, give) <= 0 && !done(&t)) {
        rc = BM_UNFUNDED;
        out->why = "the taker runs out of funds";
    }
    if (rc != BM_OK) {
        free(w);
        goto undo;
    }

    /* What is left to place. */
    int64_t p_in = 0, p_out = 0; /* TakerGets, TakerPays */
    if (!done(&t)) {
        if (t.rem_in == ord->give && t.rem_out == ord->want) {
            p_in = ord->give;
            p_out = ord->want;
        } else if (t.sell) {
            p_in = t.rem_in;
            p_out = muldiv(t.rem_in, t.Q.den, t.Q.num, get, &exact);
            if ((__int128)p_out * t.Q.num != (__int128)p_in * t.Q.den)
                exact = false;
        } else {
            p_out = t.rem_out;
            p_in = muldiv(t.rem_out, t.Q.num, t.Q.den, give, &exact);
            if ((__int128)p_in * t.Q.den != (__int128)p_out * t.Q.num)
                exact = false;
        }
        if (!exact) {
            free(w);
            rc = BM_AMBIGUOUS;
            out->why = "the remainder would be rounded";
            goto undo;
        }
    }
    if (p_in == 0 || p_out == 0)
        goto placed; /* fully crossed */
    if (ord->flags & BM_FOK) {
        /* Killed: back to the checkpoint, keeping the expired offers'
         * removal, which the walk also made in the checkpoint. */
        size_t n_exp = w->n_expired;
        struct {
            int owner;
            uint32_t seq;
        } exp[256];
        memcpy(exp, w->expired, n_exp * sizeof exp[0]);
        free(w);
        if (bm_copy(m, &before) != BM_OK) {
            bm_free(&before);
            return BM_NOMEM;
        }
        bm_outcome_clear(out);
        for (size_t i = 0; i < n_exp && rc == BM_OK; i++)
            remove_offer(m, exp[i].owner, exp[i].seq, BM_EXPIRED, out, &rc);
        bm_free(&before);
        return rc;
    }
    if (ord->flags & BM_IOC)
        goto placed;
    {
        int64_t need = m->reserve_base + m->reserve_inc * (int64_t)(m->reserve_objects[t.account] +
                                                                    offers_of(m, t.account) + 1);
        if (prior_swt < need) {
            free(w);
            rc = BM_UNFUNDED;
            out->why = "the reserve would refuse the offer";
            goto undo;
        }
    }
    {
        bm_offer of = {.owner = t.account,
                       .seq = ord->seq,
                       .pays = p_out,
                       .gets = p_in,
                       .q = q_make(ord->want, ord->give),
                       .passive = ord->flags & BM_PASSIVE,
                       .sell = ord->flags & BM_SELL,
                       .expiration = ord->expiration,
                       .time = ++m->clock};
        rc = book_insert(&m->book[get], &of);
        if (rc == BM_OK)
            rc = emit(out, BM_PLACED, 0, get, &of, p_out, p_in);
    }
placed:
    free(w);
keep:
    bm_free(&before);
    return rc;
undo:
    bm_copy(m, &before);
    bm_free(&before);
    return rc;
}
