/*
 * taker.c — OfferCreate's crossing (see taker.h), in three parts as
 * skywelld's book code has them:
 *  - the book tip and the offer stream: the best offer of a book (first
 *    quality directory, first entry of its first page), the previous tip
 *    deleted as the stream steps past it, offers that cannot be taken
 *    (missing, expired, empty, unfunded) stepped over and so removed;
 *  - the taker: what flows through one offer, or a pair of offers bridged
 *    through SWT, given both sides' funds, the taker's remaining amounts
 *    and the transfer rates, in skywelld's arithmetic (multiply and divide
 *    truncate; the remainder to place is rounded up);
 *  - the fills: offers consumed, IOUs redeemed to and issued by their
 *    issuer (a line created for a receiver that has none, a sender's line
 *    released when it empties), SWT moved between balances, and the
 *    platform fees on what each side received (docs/node.md, "Platform
 *    fees").
 *
 * Entries are read from the sandbox and copied into it only when they
 * change, so the metadata lists exactly what changed.
 */
#include "taker.h"

#include <stdlib.h>

#include "directory.h"

/* Failures, besides tesSUCCESS (0): */
#define X_FATAL  (-1) /* ENOMEM or a damaged directory: tefINTERNAL */
#define X_THROW  (-2) /* where skywelld's crossing throws: tecINTERNAL */
#define X_FAILED (-3) /* a fill the ledger refused: tecFAILED_PROCESSING */

enum cross_type { SWT_TO_IOU, IOU_TO_SWT, IOU_TO_IOU };

typedef struct amounts {
    jt_amount in, out;
} amounts;

/* What moves through one offer: order.in goes to its owner and order.out
 * to the taker; issuers.in leaves the taker and issuers.out the owner,
 * each with the transfer fee its sender pays. */
typedef struct flow {
    amounts order, issuers;
} flow;

/* A transfer rate as it applies to one fill: none, or rate·10^−9. */
typedef struct rate {
    bool one;
    jt_amount amt;
} rate;

/* The offer at the tip of a book. */
typedef struct tip {
    uint8_t key[32];
    uint8_t page[32];  /* the directory page that lists it */
    uint64_t quality;  /* its book directory's, as it was placed */
    jt_amount qrate;   /* the quality as a number: in per out */
    bool entry;        /* the listed offer exists */
    jt_account_id owner;
    amounts amt;       /* in: its TakerPays, out: its TakerGets, as consumed */
    bool has_exp;
    uint32_t expiration;
} tip;

/* Offers one transaction may look at while crossing, over all its books
 * (rippled's StepCounter of 1 000 in CreateOffer, from 0.30; skywelld has
 * no limit). Past it the books count as exhausted: the crossing stops and
 * what is left is placed (or killed, for ImmediateOrCancel/FillOrKill), so
 * one transaction cannot hold the node for the length of a whole book. */
#define CROSS_MAX_STEPS 1000

/* An offer stream over one book. */
typedef struct stream {
    jn_txctx *v, *cancel;
    unsigned *steps_left;       /* the transaction's budget, shared by its streams */
    uint8_t from[32], last[32]; /* where the next directory is looked for */
    bool valid;                 /* t holds a tip */
    bool spent;                 /* stopped by the step budget: counts as exhausted */
    tip t;
} stream;

typedef struct taker {
    jn_txctx *v;
    jt_account_id account;
    enum cross_type type;
    uint64_t quality, threshold; /* the offer's TakerGets/TakerPays; lower is better */
    bool sell;
    amounts original, remaining;
    uint32_t rate_in, rate_out;
    bool err; /* an amount out of range: the crossing throws */
    unsigned steps_left; /* offers its streams may still look at (CROSS_MAX_STEPS) */
    /* The taker's platform fee: the transaction names a Platform that has a
     * Brokerage entry for what the taker receives (out). */
    bool fee;
    uint8_t fee_key[32]; /* that entry */
    uint64_t fee_num, fee_den;
    jt_account_id fee_account;
} taker;

/* ---------------------------------------------------------------- amounts */

static inline int sign(const jt_amount *a)
{
    return jt_amount_sign(a);
}

static inline int cmp(const jt_amount *a, const jt_amount *b)
{
    return jt_amount_cmp(a, b);
}

static inline bool same(const jt_account_id *a, const jt_account_id *b)
{
    return memcmp(a->bytes, b->bytes, 20) == 0;
}

static jt_amount mul(taker *t, const jt_amount *a, const jt_amount *b, const jt_amount *like)
{
    jt_amount r;
    if (jt_amount_mul(a, b, like, &r) != JT_OK) {
        t->err = true;
        jt_amount_zero_like(&r, like);
    }
    return r;
}

static jt_amount dvd(taker *t, const jt_amount *a, const jt_amount *b, const jt_amount *like)
{
    jt_amount r;
    if (jt_amount_div(a, b, like, &r) != JT_OK) {
        t->err = true;
        jt_amount_zero_like(&r, like);
    }
    return r;
}

static void sub(taker *t, jt_amount *a, const jt_amount *b)
{
    if (jt_amount_sub(a, b, a) != JT_OK)
        t->err = true;
}

static jt_amount rmul(taker *t, const rate *r, const jt_amount *a)
{
    return r->one ? *a : mul(t, a, &r->amt, a);
}

static jt_amount rdiv(taker *t, const rate *r, const jt_amount *a)
{
    return r->one ? *a : dvd(t, a, &r->amt, a);
}

/* Through an offer of quality q, what `amount` out costs (qual_mul) or
 * what `amount` in buys (qual_div), never more than `cap`. */
static jt_amount qmul(taker *t, const jt_amount *amount, const jt_amount *q, const jt_amount *cap)
{
    jt_amount r = mul(t, amount, q, cap);
    return cmp(&r, cap) < 0 ? r : *cap;
}

static jt_amount qdiv(taker *t, const jt_amount *amount, const jt_amount *q, const jt_amount *cap)
{
    jt_amount r = dvd(t, amount, q, cap);
    return cmp(&r, cap) < 0 ? r : *cap;
}

/* skywelld's accountFunds(who, like, fhZERO_IF_FROZEN). */
static void funds(jn_txctx *v, const jt_account_id *who, const jt_amount *like, jt_amount *out)
{
    jn_read_offer_funds(v->sb, v->env, who, like, out);
}

/* ---------------------------------------------------------------- book tip and offer stream */

static void stream_init(stream *s, jn_txctx *v, jn_txctx *cancel, unsigned *steps_left,
                        const jt_amount *in, const jt_amount *out)
{
    jn_book_cursor bc;
    memset(s, 0, sizeof *s);
    s->v = v;
    s->cancel = cancel;
    s->steps_left = steps_left;
    /* The book a taker of in for out meets: offers paying in, getting out. */
    jn_book_cursor_init(&bc, in, out);
    memcpy(s->from, bc.base, 32);
    memcpy(s->last, bc.base, 24);
    memset(s->last + 24, 0xFF, 8);
}

/* The tip listed as `item` on page `page` of the book directory `dir`. */
static int tip_load(stream *s, const uint8_t dir[32], uint64_t page, const uint8_t item[32])
{
    tip *t = &s->t;
    memcpy(t->key, item, 32);
    jn_id_dir_page(dir, page, t->page);
    t->quality = 0;
    for (int i = 24; i < 32; i++)
        t->quality = t->quality << 8 | dir[i];
    if (jt_amount_from_rate(t->quality, &t->qrate) != JT_OK)
        return X_THROW;
    const jt_obj *o = jn_view_read(s->v->sb, item);
    t->entry = o != NULL;
    if (!o)
        return 0;
    uint64_t exp;
    if (get_u(o, FLD("LedgerEntryType"), 0) != JT_LT_OFFER ||
        jt_obj_get_account_f(o, FLD("Account"), &t->owner) != JT_OK ||
        !get_amount(o, FLD("TakerPays"), &t->amt.in) || !get_amount(o, FLD("TakerGets"), &t->amt.out))
        return X_FATAL;
    t->has_exp = jt_obj_get_uint_f(o, FLD("Expiration"), &exp) == JT_OK;
    t->expiration = (uint32_t)exp;
    return 0;
}

/* skywelld's BookTip::step: deletes the tip stepped past (when it exists),
 * then finds the first entry of the best quality directory left. 1: a tip;
 * 0: the book is empty; or a failure. */
static int tip_step(stream *s)
{
    jn_view *sb = s->v->sb;
    if (s->valid && s->t.entry) {
        s->t.entry = false;
        if (jn_offer_delete(s->v, s->t.key))
            return X_FATAL;
    }
    for (;;) {
        uint8_t dir[32], item[32];
        if (!jn_view_book_next(sb, s->from, s->last, dir))
            return 0;
        /* The same directory is looked at again next time: its first entry
         * is then the one after this tip. */
        memcpy(s->from, dir, 32);
        jn_dir_cursor dc;
        memset(&dc, 0, sizeof dc);
        if (jn_dir_next(sb, dir, &dc, item)) {
            int r = tip_load(s, dir, dc.page, item);
            s->valid = r == 0;
            return r ? r : 1;
        }
        /* An empty directory (there should be none): the next quality. */
        int i = 31;
        while (i >= 24 && ++s->from[i] == 0)
            i--;
        if (i < 24)
            return 0;
    }
}

/* Takes `item` off the directory page `page` without deleting anything
 * else, as skywelld clears an index whose offer is missing. */
static int erase_item(jn_txctx *v, const uint8_t page[32], const uint8_t item[32])
{
    bool oom;
    const jt_obj *cur = jn_view_read(v->sb, page);
    const uint8_t *p;
    size_t n;
    if (!cur || jt_obj_get_bytes_f(cur, FLD("Indexes"), &p, &n) != JT_OK)
        return 0;
    size_t count = n / 32, at = 0;
    while (at < count && memcmp(p + at * 32, item, 32) != 0)
        at++;
    if (at == count)
        return 0;
    jt_obj *o = jn_view_peek(v->sb, page, &oom);
    if (!o || jt_obj_get_bytes_f(o, FLD("Indexes"), &p, &n) != JT_OK)
        return X_FATAL;
    uint8_t *buf = malloc(n);
    if (!buf)
        return X_FATAL;
    memcpy(buf, p, at * 32);
    memcpy(buf + at * 32, p + (at + 1) * 32, n - (at + 1) * 32);
    jt_err e = jt_obj_set_bytes_f(o, FLD("Indexes"), buf, n - 32);
    free(buf);
    return e ? X_FATAL : 0;
}

/* skywelld's OfferStream::step: the next offer that can be taken. Offers
 * stepped over are removed from the working view (by the next tip step)
 * and, when found so rather than made so by this transaction, from the
 * cancel view. 1: a tip; 0: the book is done; or a failure. */
static int stream_step(stream *s)
{
    if (s->spent)
        return 0;
    for (;;) {
        /* As rippled's OfferStream::step: the tip stepped past is deleted
         * first, then the budget is counted (the tip found then stays, as
         * it was, whatever it is). */
        int r = tip_step(s);
        if (r <= 0)
            return r;
        if (*s->steps_left == 0) {
            s->spent = true;
            return 0;
        }
        --*s->steps_left;
        tip *t = &s->t;
        if (!t->entry) {
            if (erase_item(s->v, t->page, t->key) ||
                (s->cancel && erase_item(s->cancel, t->page, t->key)))
                return X_FATAL;
            continue;
        }
        if (t->has_exp && t->expiration <= s->v->env->parent_close_time) {
            if (s->cancel && jn_offer_delete(s->cancel, t->key))
                return X_FATAL;
            continue;
        }
        if (sign(&t->amt.in) <= 0 || sign(&t->amt.out) <= 0) {
            if (s->cancel && jn_offer_delete(s->cancel, t->key))
                return X_FATAL;
            continue;
        }
        jt_amount have;
        funds(s->v, &t->owner, &t->amt.out, &have);
        if (sign(&have) <= 0) {
            if (s->cancel) {
                jt_amount had;
                funds(s->cancel, &t->owner, &t->amt.out, &had);
                if (cmp(&had, &have) == 0 && jn_offer_delete(s->cancel, t->key))
                    return X_FATAL;
            }
            continue;
        }
        return 1;
    }
}

static bool reject(const taker *t, uint64_t quality)
{
    return quality > t->threshold;
}

/* The next tip the taker may cross: its own offers at a quality it would
 * take are stepped over, and so cancelled. */
static int step_account(stream *s, const taker *t)
{
    int r;
    while ((r = stream_step(s)) > 0)
        if (reject(t, s->t.quality) || !same(&s->t.owner, &t->account))
            return 1;
    return r;
}

/* ---------------------------------------------------------------- the taker */

/* skywelld's Taker::calculateRate: the issuer's TransferRate (account-wide),
 * none for SWT or when the taker is the issuer. */
static uint32_t issuer_rate(jn_txctx *v, const jt_amount *a, const jt_account_id *taker_acct)
{
    if (a->native || same(&a->issuer, taker_acct))
        return JT_QUALITY_ONE;
    const jt_obj *r = jn_read_account(v->sb, &a->issuer);
    uint32_t q = r ? (uint32_t)get_u(r, FLD("TransferRate"), 0) : 0;
    return q ? q : JT_QUALITY_ONE;
}

/* The rate charged when `from` sends to `to` an IOU of `issuer`: none
 * between one account, or when either is the issuer. */
static rate effective_rate(uint32_t q, const jt_account_id *issuer, const jt_account_id *from,
                           const jt_account_id *to)
{
    rate r = {.one = true};
    if (q != JT_QUALITY_ONE && !same(from, to) && !same(from, issuer) && !same(to, issuer)) {
        r.one = false;
        jt_amount_from_transfer_rate(q, &r.amt);
    }
    return r;
}

static rate in_rate(const taker *t, const jt_account_id *owner)
{
    return effective_rate(t->rate_in, &t->original.in.issuer, owner, &t->account);
}

static rate out_rate(const taker *t, const jt_account_id *owner)
{
    return effective_rate(t->rate_out, &t->original.out.issuer, owner, &t->account);
}

static bool done(taker *t)
{
    if (sign(&t->remaining.in) <= 0)
        return true;
    if (!t->sell && sign(&t->remaining.out) <= 0)
        return true;
    jt_amount f;
    funds(t->v, &t->account, &t->remaining.in, &f);
    return sign(&f) <= 0;
}

/* The taker gives SWT; the owner's output is an IOU. `leg2`: the second leg
 * of a bridge, not limited by what the taker has left to give. */
static void flow_swt_to_iou(taker *t, const amounts *offer, const jt_amount *q,
                            const jt_amount *owner_funds, const jt_amount *taker_funds,
                            const rate *rout, bool leg2, flow *f)
{
    f->order = *offer;
    jt_amount_zero_like(&f->issuers.in, &offer->in);
    f->issuers.out = rmul(t, rout, &f->order.out);
    if (cmp(owner_funds, &f->issuers.out) < 0) {
        f->issuers.out = *owner_funds;
        f->order.out = rdiv(t, rout, &f->issuers.out);
        f->order.in = qmul(t, &f->order.out, q, &f->order.in);
    }
    if (!t->sell && cmp(&t->remaining.out, &f->order.out) < 0) {
        f->order.out = t->remaining.out;
        f->order.in = qmul(t, &f->order.out, q, &f->order.in);
        f->issuers.out = rmul(t, rout, &f->order.out);
    }
    if (cmp(taker_funds, &f->order.in) < 0) {
        f->order.in = *taker_funds;
        f->order.out = qdiv(t, &f->order.in, q, &f->order.out);
        f->issuers.out = rmul(t, rout, &f->order.out);
    }
    if (!leg2 && cmp(&t->remaining.in, &f->order.in) < 0) {
        f->order.in = t->remaining.in;
        f->order.out = qdiv(t, &f->order.in, q, &f->order.out);
        f->issuers.out = rmul(t, rout, &f->order.out);
    }
}

/* The taker gives an IOU; the owner's output is SWT. `leg1`: the first leg
 * of a bridge, not limited by what the taker still wants. */
static void flow_iou_to_swt(taker *t, const amounts *offer, const jt_amount *q,
                            const jt_amount *owner_funds, const jt_amount *taker_funds,
                            const rate *rin, bool leg1, flow *f)
{
    f->order = *offer;
    f->issuers.in = rmul(t, rin, &f->order.in);
    jt_amount_zero_like(&f->issuers.out, &offer->out);
    if (cmp(owner_funds, &f->order.out) < 0) {
        f->order.out = *owner_funds;
        f->order.in = qmul(t, &f->order.out, q, &f->order.in);
        f->issuers.in = rmul(t, rin, &f->order.in);
    }
    if (!t->sell && !leg1 && cmp(&t->remaining.out, &f->order.out) < 0) {
        f->order.out = t->remaining.out;
        f->order.in = qmul(t, &f->order.out, q, &f->order.in);
        f->issuers.in = rmul(t, rin, &f->order.in);
    }
    if (cmp(&t->remaining.in, &f->order.in) < 0) {
        f->order.in = t->remaining.in;
        f->issuers.in = rmul(t, rin, &f->order.in);
        f->order.out = qdiv(t, &f->order.in, q, &f->order.out);
    }
    if (cmp(taker_funds, &f->issuers.in) < 0) {
        f->issuers.in = *taker_funds;
        f->order.in = rdiv(t, rin, &f->issuers.in);
        f->order.out = qdiv(t, &f->order.in, q, &f->order.out);
    }
}

static void flow_iou_to_iou(taker *t, const amounts *offer, const jt_amount *q,
                            const jt_amount *owner_funds, const jt_amount *taker_funds,
                            const rate *rin, const rate *rout, flow *f)
{
    f->order = *offer;
    f->issuers.in = rmul(t, rin, &f->order.in);
    f->issuers.out = rmul(t, rout, &f->order.out);
    if (cmp(owner_funds, &f->issuers.out) < 0) {
        f->issuers.out = *owner_funds;
        f->order.out = rdiv(t, rout, &f->issuers.out);
        f->order.in = qmul(t, &f->order.out, q, &f->order.in);
        f->issuers.in = rmul(t, rin, &f->order.in);
    }
    if (!t->sell && cmp(&t->remaining.out, &f->order.out) < 0) {
        f->order.out = t->remaining.out;
        f->order.in = qmul(t, &f->order.out, q, &f->order.in);
        f->issuers.out = rmul(t, rout, &f->order.out);
        f->issuers.in = rmul(t, rin, &f->order.in);
    }
    if (cmp(&t->remaining.in, &f->order.in) < 0) {
        f->order.in = t->remaining.in;
        f->issuers.in = rmul(t, rin, &f->order.in);
        f->order.out = qdiv(t, &f->order.in, q, &f->order.out);
        f->issuers.out = rmul(t, rout, &f->order.out);
    }
    if (cmp(taker_funds, &f->issuers.in) < 0) {
        f->issuers.in = *taker_funds;
        f->order.in = rdiv(t, rin, &f->issuers.in);
        f->order.out = qdiv(t, &f->order.in, q, &f->order.out);
        f->issuers.out = rmul(t, rout, &f->order.out);
    }
}

static bool sane(const flow *f)
{
    if (f->order.in.native && f->order.out.native)
        return false;
    return sign(&f->order.in) >= 0 && sign(&f->order.out) >= 0 && sign(&f->issuers.in) >= 0 &&
           sign(&f->issuers.out) >= 0;
}

/* The flow through one offer of the direct book; takes it off what the
 * taker has left. */
static int cross_direct(taker *t, const tip *o, flow *f)
{
    jt_amount owner_funds, taker_funds;
    funds(t->v, &o->owner, &o->amt.out, &owner_funds);
    funds(t->v, &t->account, &o->amt.in, &taker_funds);
    rate rin = in_rate(t, &o->owner), rout = out_rate(t, &o->owner);
    if (t->type == SWT_TO_IOU)
        flow_swt_to_iou(t, &o->amt, &o->qrate, &owner_funds, &taker_funds, &rout, false, f);
    else if (t->type == IOU_TO_SWT)
        flow_iou_to_swt(t, &o->amt, &o->qrate, &owner_funds, &taker_funds, &rin, false, f);
    else
        flow_iou_to_iou(t, &o->amt, &o->qrate, &owner_funds, &taker_funds, &rin, &rout, f);
    if (t->err || !sane(f))
        return X_THROW;
    sub(t, &t->remaining.out, &f->order.out);
    sub(t, &t->remaining.in, &f->order.in);
    return t->err ? X_THROW : 0;
}

/* The flows through a leg-1 offer (in for SWT) and a leg-2 offer (SWT for
 * out), evened out on the SWT between them. */
static int cross_bridged(taker *t, const tip *o1, const tip *o2, flow *f1, flow *f2)
{
    jt_amount leg1_in, leg2_out, swt;
    /* An offer of the taker's own is limited by itself, not by the
     * taker's funds; SWT between one owner's two offers does not move. */
    funds(t->v, &t->account, &o1->amt.in, &leg1_in);
    if (same(&t->account, &o1->owner) && cmp(&leg1_in, &o1->amt.in) < 0)
        leg1_in = o1->amt.in;
    funds(t->v, &o2->owner, &o2->amt.out, &leg2_out);
    if (same(&t->account, &o2->owner) && cmp(&leg2_out, &o2->amt.out) < 0)
        leg2_out = o2->amt.out;
    funds(t->v, &o1->owner, &o1->amt.out, &swt);
    if (same(&o1->owner, &o2->owner))
        swt = cmp(&o1->amt.out, &o2->amt.in) < 0 ? o2->amt.in : o1->amt.out;
    rate r1 = in_rate(t, &o1->owner), r2 = out_rate(t, &o2->owner);
    flow_iou_to_swt(t, &o1->amt, &o1->qrate, &swt, &leg1_in, &r1, true, f1);
    if (t->err || !sane(f1))
        return X_THROW;
    flow_swt_to_iou(t, &o2->amt, &o2->qrate, &leg2_out, &swt, &r2, true, f2);
    if (t->err || !sane(f2))
        return X_THROW;
    int c = cmp(&f1->order.out, &f2->order.in);
    if (c < 0) {
        f2->order.in = f1->order.out;
        f2->order.out = qdiv(t, &f2->order.in, &o2->qrate, &f2->order.out);
        f2->issuers.out = rmul(t, &r2, &f2->order.out);
    } else if (c > 0) {
        f1->order.out = f2->order.in;
        f1->order.in = qmul(t, &f1->order.out, &o1->qrate, &f1->order.in);
        f1->issuers.in = rmul(t, &r1, &f1->order.in);
    }
    if (t->err || cmp(&f1->order.out, &f2->order.in) != 0)
        return X_THROW;
    sub(t, &t->remaining.out, &f2->order.out);
    sub(t, &t->remaining.in, &f1->order.in);
    return t->err ? X_THROW : 0;
}

/* What is left to place: nothing when done; the original amounts when
 * nothing crossed; else the remainder at the offer's own quality, rounded
 * up (a Sell offer keeps what it gives, a buy what it wants). */
static int remaining_offer(taker *t, jt_amount *in, jt_amount *out)
{
    if (done(t)) {
        jt_amount_zero_like(in, &t->original.in);
        jt_amount_zero_like(out, &t->original.out);
        return 0;
    }
    if (!cmp(&t->original.in, &t->remaining.in) && !cmp(&t->original.out, &t->remaining.out)) {
        *in = t->original.in;
        *out = t->original.out;
        return 0;
    }
    jt_amount q;
    if (jt_amount_from_rate(t->quality, &q) != JT_OK)
        return X_THROW;
    if (t->sell) {
        *in = t->remaining.in;
        return jt_amount_div_round(&t->remaining.in, &q, &t->original.out, true, out) ? X_THROW : 0;
    }
    *out = t->remaining.out;
    return jt_amount_mul_round(&t->remaining.out, &q, &t->original.in, true, in) ? X_THROW : 0;
}

/* ---------------------------------------------------------------- fills */

/* Takes `order` off the offer. */
static int consume(taker *t, tip *o, const amounts *order)
{
    if (sign(&order->in) < 0 || sign(&order->out) < 0 || cmp(&order->in, &o->amt.in) > 0 ||
        cmp(&order->out, &o->amt.out) > 0)
        return X_THROW;
    amounts left = o->amt;
    sub(t, &left.in, &order->in);
    sub(t, &left.out, &order->out);
    if (t->err)
        return X_THROW;
    bool changed = cmp(&left.in, &o->amt.in) || cmp(&left.out, &o->amt.out);
    o->amt = left;
    if (!changed)
        return 0;
    bool oom;
    jt_obj *e = jn_view_peek(t->v->sb, o->key, &oom);
    if (!e)
        return X_FATAL;
    set_amt(t->v, e, FLD("TakerPays"), &left.in);
    set_amt(t->v, e, FLD("TakerGets"), &left.out);
    return t->v->oom ? X_FATAL : 0;
}

/* `sender` sends `amount` to `receiver` on their line, one of them being
 * the issuer (skywelld's redeem_iou and issue_iou), by jn_line_credit; no
 * line: a receiving holder gets one (`open`), else X_FAILED. */
static int line_send(jn_txctx *v, const jt_account_id *sender, const jt_account_id *receiver,
                     const jt_amount *amount, bool open)
{
    int r = jn_line_credit(v, sender, receiver, amount, open);
    return r == 0                   ? 0
           : r == JN_CREDIT_NO_LINE ? X_FAILED
           : r == JN_CREDIT_RANGE   ? X_THROW
                                    : X_FATAL;
}

/* `who` pays `amount` of an IOU to its issuer (Taker::redeem_iou). */
static int redeem(jn_txctx *v, const jt_account_id *who, const jt_amount *amount)
{
    if (same(who, &amount->issuer) || jt_amount_is_zero(amount))
        return 0;
    jt_amount f;
    funds(v, who, amount, &f);
    if (sign(&f) <= 0)
        return X_THROW;
    int r = line_send(v, who, &amount->issuer, amount, false);
    if (r)
        return r;
    funds(v, who, amount, &f);
    return sign(&f) < 0 ? X_THROW : 0;
}

/* The issuer of `amount` gives it to `who` (Taker::issue_iou). */
static int issue(jn_txctx *v, const jt_account_id *who, const jt_amount *amount)
{
    if (same(who, &amount->issuer) || jt_amount_is_zero(amount))
        return 0;
    return line_send(v, &amount->issuer, who, amount, true);
}

/* SWT from one balance to another (Taker::transfer_xrp): only the balance
 * is checked, the reserve having been through the funds. */
static int transfer_swt(jn_txctx *v, const jt_account_id *from, const jt_account_id *to,
                        const jt_amount *amount)
{
    if (same(from, to) || jt_amount_is_zero(amount))
        return 0;
    const jt_obj *s = jn_read_account(v->sb, from);
    if (!s)
        return X_FATAL;
    int64_t have = jn_read_balance(s), drops = jt_amount_drops(amount);
    if (have < drops)
        return X_FAILED;
    jt_obj *so = peek_account(v, from);
    jt_obj *ro = so ? peek_account(v, to) : NULL;
    if (!ro)
        return X_FATAL;
    set_balance(v, so, have - drops);
    set_balance(v, ro, jn_read_balance(ro) + drops);
    return v->oom ? X_FATAL : 0;
}

static int maker_fee(taker *t, const tip *o, const jt_amount *got);
static int taker_fee(taker *t, const jt_amount *got);

static int fill_direct(taker *t, const flow *f, tip *o)
{
    jn_txctx *v = t->v;
    int r = consume(t, o, &f->order);
    if (!r && t->type != SWT_TO_IOU) {
        r = redeem(v, &t->account, &f->issuers.in);
        if (!r)
            r = issue(v, &o->owner, &f->order.in);
    } else if (!r) {
        r = transfer_swt(v, &t->account, &o->owner, &f->order.in);
    }
    if (!r && t->type != IOU_TO_SWT) {
        r = redeem(v, &o->owner, &f->issuers.out);
        if (!r)
            r = issue(v, &t->account, &f->order.out);
    } else if (!r) {
        r = transfer_swt(v, &o->owner, &t->account, &f->order.out);
    }
    if (!r)
        r = maker_fee(t, o, &f->order.in);
    if (!r)
        r = taker_fee(t, &f->order.out);
    return r;
}

static int fill_bridged(taker *t, const flow *f1, tip *o1, const flow *f2, tip *o2)
{
    jn_txctx *v = t->v;
    int r = consume(t, o1, &f1->order);
    if (!r)
        r = consume(t, o2, &f2->order);
    if (!r && !same(&o1->owner, &t->account)) {
        r = redeem(v, &t->account, &f1->issuers.in);
        if (!r)
            r = issue(v, &o1->owner, &f1->order.in);
    }
    if (!r)
        r = transfer_swt(v, &o1->owner, &o2->owner, &f1->order.out);
    if (!r && !same(&o2->owner, &t->account)) {
        r = redeem(v, &o2->owner, &f2->issuers.out);
        if (!r)
            r = issue(v, &t->account, &f2->order.out);
    }
    if (!r)
        r = maker_fee(t, o1, &f1->order.in);
    if (!r)
        r = maker_fee(t, o2, &f1->order.out);
    if (!r)
        r = taker_fee(t, &f2->order.out);
    return r;
}

/* ---------------------------------------------------------------- platform fees */

/* `payer` received `got` in a fill and pays got × num / den of it, rounded
 * down (exactly, in integers), to `collector`: SWT from balance to
 * balance, an IOU redeemed to its issuer and issued to the collector (no
 * transfer rate; a line is opened for a collector without one). A fee
 * that rounds to nothing, or a payer that is the collector, pays none. */
static int pay_fee(jn_txctx *v, const jt_account_id *payer, const jt_account_id *collector,
                   uint64_t num, uint64_t den, const jt_amount *got)
{
    if (!num || !den || num >= den || sign(got) <= 0 || same(payer, collector))
        return 0;
    jt_amount fee;
    if (got->native) {
        jt_amount_native(&fee, (int64_t)((unsigned __int128)(uint64_t)jt_amount_drops(got) * num / den));
    } else {
        uint64_t m = (uint64_t)((unsigned __int128)got->mantissa * num / den);
        if (jt_amount_from_mantissa(&fee, (int64_t)m, got->exponent, &got->currency, &got->issuer))
            return X_THROW;
    }
    if (jt_amount_is_zero(&fee))
        return 0;
    if (fee.native)
        return transfer_swt(v, payer, collector, &fee);
    int r = redeem(v, payer, &fee);
    return r ? r : issue(v, collector, &fee);
}

/* The taker's fee on what it received in one fill, under its Brokerage
 * entry, which the transaction then touches (threads) so that its
 * metadata shows the entry: jingtum-lib reads the platform and the rate
 * of a taker's fills from it. */
static int taker_fee(taker *t, const jt_amount *got)
{
    if (!t->fee)
        return 0;
    bool oom;
    if (!jn_view_peek(t->v->sb, t->fee_key, &oom))
        return X_FATAL;
    return pay_fee(t->v, &t->account, &t->fee_account, t->fee_num, t->fee_den, got);
}

/* The owner of a resting offer that recorded a platform fee when it was
 * placed (Platform, OfferFeeRateNum/Den) pays that rate on what it
 * received, to the FeeAccountID of its platform's Brokerage entry for
 * that currency as it stands now; none when the entry is gone. */
static int maker_fee(taker *t, const tip *o, const jt_amount *got)
{
    const jt_obj *e = jn_view_read(t->v->sb, o->key);
    jt_account_id platform, collector;
    uint64_t num, den;
    if (!e || jt_obj_get_account_f(e, FLD("Platform"), &platform) != JT_OK ||
        jt_obj_get_uint_f(e, FLD("OfferFeeRateNum"), &num) != JT_OK ||
        jt_obj_get_uint_f(e, FLD("OfferFeeRateDen"), &den) != JT_OK)
        return 0;
    const jt_obj *b = jn_read_brokerage(t->v->sb, &platform, got);
    if (!b || jt_obj_get_account_f(b, FLD("FeeAccountID"), &collector) != JT_OK)
        return 0;
    return pay_fee(t->v, &o->owner, &collector, num, den, got);
}

/* Can nothing more flow through the offer: consumed, or its owner has no
 * funds left? */
static bool dry(taker *t, const tip *o)
{
    if (sign(&o->amt.in) <= 0 || sign(&o->amt.out) <= 0)
        return true;
    jt_amount f;
    funds(t->v, &o->owner, &o->amt.out, &f);
    return sign(&f) <= 0;
}

/* ---------------------------------------------------------------- crossing */

/* skywelld's composed_quality: the product of two qualities, rounded up. */
static int composed_quality(uint64_t q1, uint64_t q2, uint64_t *out)
{
    jt_amount a, b, r;
    if (jt_amount_from_rate(q1, &a) || jt_amount_from_rate(q2, &b) ||
        jt_amount_mul_round(&a, &b, &a, true, &r))
        return X_THROW;
    *out = ((uint64_t)(r.exponent + 100) << 56) | r.mantissa;
    return 0;
}

/* Where a step of the loop left off: a failed fill ends the crossing with
 * tecFAILED_PROCESSING, any other failure with its own result. */
static int loop_result(int r)
{
    return r == X_FAILED ? JT_tecFAILED_PROCESSING : r == X_THROW ? JT_tecINTERNAL : JT_tefINTERNAL;
}

/* One direct book (one side SWT): skywelld's direct_cross. */
static int direct_cross(taker *t, jn_txctx *cancel)
{
    stream s;
    stream_init(&s, t->v, cancel, &t->steps_left, &t->original.in, &t->original.out);
    int have = step_account(&s, t);
    while (have > 0) {
        if (reject(t, s.t.quality))
            break;
        flow f;
        int r = cross_direct(t, &s.t, &f);
        if (!r)
            r = fill_direct(t, &f, &s.t);
        if (r == X_THROW || r == X_FATAL)
            return loop_result(r);
        bool consumed = dry(t, &s.t);
        if (consumed && (have = step_account(&s, t)) < 0)
            return loop_result(have);
        if (r)
            return loop_result(r);
        if (done(t))
            return JT_tesSUCCESS;
        if (!consumed)
            return JT_tecINTERNAL; /* skywelld: nothing was fully consumed */
    }
    return have < 0 ? loop_result(have) : JT_tesSUCCESS;
}

/* Neither side SWT: the direct book against the bridge through SWT, the
 * better quality first, ties to the bridge: skywelld's bridged_cross. */
static int bridged_cross(taker *t, jn_txctx *cancel)
{
    static const jt_amount swt = {.native = true};
    stream direct, leg1, leg2;
    stream_init(&direct, t->v, cancel, &t->steps_left, &t->original.in, &t->original.out);
    stream_init(&leg1, t->v, cancel, &t->steps_left, &t->original.in, &swt);
    stream_init(&leg2, t->v, cancel, &t->steps_left, &swt, &t->original.out);
    int have_bridge = stream_step(&leg1);
    if (have_bridge > 0)
        have_bridge = stream_step(&leg2);
    if (have_bridge < 0)
        return loop_result(have_bridge);
    int have_direct = step_account(&direct, t);
    if (have_direct < 0)
        return loop_result(have_direct);
    while (have_direct > 0 || have_bridge > 0) {
        bool use_direct = true;
        uint64_t q = direct.t.quality;
        if (have_bridge > 0) {
            uint64_t bq;
            if (composed_quality(leg1.t.quality, leg2.t.quality, &bq))
                return JT_tecINTERNAL;
            /* The bridge unless the direct offer is strictly better. */
            if (!(have_direct > 0 && bq > direct.t.quality)) {
                use_direct = false;
                q = bq;
            }
        }
        if (reject(t, q))
            break;
        bool consumed = false;
        int r;
        if (use_direct) {
            flow f;
            r = cross_direct(t, &direct.t, &f);
            if (!r)
                r = fill_direct(t, &f, &direct.t);
            if (r == X_THROW || r == X_FATAL)
                return loop_result(r);
            if (dry(t, &direct.t)) {
                consumed = true;
                if ((have_direct = step_account(&direct, t)) < 0)
                    return loop_result(have_direct);
            }
        } else {
            flow f1, f2;
            r = cross_bridged(t, &leg1.t, &leg2.t, &f1, &f2);
            if (!r)
                r = fill_bridged(t, &f1, &leg1.t, &f2, &leg2.t);
            if (r == X_THROW || r == X_FATAL)
                return loop_result(r);
            if (dry(t, &leg1.t)) {
                consumed = true;
                if (have_bridge > 0 && (have_bridge = stream_step(&leg1)) < 0)
                    return loop_result(have_bridge);
            }
            /* A dry leg-2 offer is stepped past (and so removed) even once
             * leg 1's book is exhausted. rippled 0.28 left it in the
             * ledger with zero amounts (fixed in rippled only in 2019); no
             * offer with a zero side rests on this node. */
            if (dry(t, &leg2.t)) {
                consumed = true;
                int r2 = stream_step(&leg2);
                if (r2 < 0)
                    return loop_result(r2);
                if (have_bridge > 0)
                    have_bridge = r2;
            }
        }
        if (r)
            return loop_result(r);
        if (done(t))
            return JT_tesSUCCESS;
        if (!consumed)
            return JT_tecINTERNAL; /* skywelld: nothing was fully consumed */
    }
    return JT_tesSUCCESS;
}

bool jn_offer_fee_rate(jn_txctx *v, const jt_amount *receive, jn_fee_rate *out)
{
    memset(out, 0, sizeof *out);
    if (jt_obj_get_account_f(v->tx, FLD("Platform"), &out->platform) != JT_OK)
        return false;
    static const jt_currency zc;
    static const jt_account_id za;
    jn_id_brokerage(&out->platform, receive->native ? &zc : &receive->currency,
                    receive->native ? &za : &receive->issuer, out->key);
    const jt_obj *b = jn_view_read(v->sb, out->key);
    if (b && jt_obj_get_uint_f(b, FLD("OfferFeeRateNum"), &out->num) == JT_OK &&
        jt_obj_get_uint_f(b, FLD("OfferFeeRateDen"), &out->den) == JT_OK &&
        jt_obj_get_account_f(b, FLD("FeeAccountID"), &out->collector) == JT_OK)
        out->has_entry = true;
    return true;
}

int jn_cross(jn_txctx *v, jn_txctx *cancel, const jt_amount *in, const jt_amount *out,
             uint32_t flags, jt_amount *place_in, jt_amount *place_out)
{
    taker t;
    memset(&t, 0, sizeof t);
    t.v = v;
    t.account = v->account;
    t.type = in->native ? SWT_TO_IOU : out->native ? IOU_TO_SWT : IOU_TO_IOU;
    t.quality = jt_amount_rate(out, in);
    t.threshold = t.quality;
    if ((flags & JT_TF_PASSIVE) && t.threshold)
        t.threshold--; /* Passive: not at its own quality */
    t.sell = flags & JT_TF_SELL;
    t.steps_left = CROSS_MAX_STEPS;
    t.original.in = t.remaining.in = *in;
    t.original.out = t.remaining.out = *out;
    t.rate_in = issuer_rate(v, in, &t.account);
    t.rate_out = issuer_rate(v, out, &t.account);
    jn_fee_rate fr;
    if (jn_offer_fee_rate(v, out, &fr) && fr.has_entry) {
        t.fee = true;
        memcpy(t.fee_key, fr.key, 32);
        t.fee_num = fr.num;
        t.fee_den = fr.den;
        t.fee_account = fr.collector;
    }
    int r = t.type == IOU_TO_IOU ? bridged_cross(&t, cancel) : direct_cross(&t, cancel);
    if (r == JT_tesSUCCESS && remaining_offer(&t, place_in, place_out))
        r = JT_tecINTERNAL;
    if (v->oom || (cancel && cancel->oom))
        r = JT_tefINTERNAL;
    return r;
}
