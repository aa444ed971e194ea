/*
 * tx_offer.c — OfferCreate and OfferCancel, as skywelld's (rippled 0.28's
 * CreateOffer and CancelOffer). OfferCreate first crosses the opposite book
 * (taker.c), then places what is left in its book directory and its
 * owner's directory, unless it is ImmediateOrCancel, or FillOrKill (then
 * all or nothing), or short of the reserve.
 */
#include "engine.h"
#include "taker.h"

int jn_offer_create_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~(JT_TF_FULLY_CANONICAL_SIG | JT_TF_PASSIVE | JT_TF_IMMEDIATE_OR_CANCEL | JT_TF_FILL_OR_KILL | JT_TF_SELL))
        return JT_temINVALID_FLAG;
    if ((flags & JT_TF_IMMEDIATE_OR_CANCEL) && (flags & JT_TF_FILL_OR_KILL))
        return JT_temINVALID_FLAG;
    if (jt_obj_has_f(tx, FLD("Expiration")) && get_u(tx, FLD("Expiration"), 0) == 0)
        return JT_temBAD_EXPIRATION;
    if (jt_obj_has_f(tx, FLD("OfferSequence")) && get_u(tx, FLD("OfferSequence"), 0) == 0)
        return JT_temBAD_SEQUENCE;
    jt_amount pays, gets;
    if (!get_amount(tx, FLD("TakerPays"), &pays) || !get_amount(tx, FLD("TakerGets"), &gets))
        return JT_temMALFORMED;
    if ((pays.native && pays.mantissa > JT_MAX_TX_DROPS) ||
        (gets.native && gets.mantissa > JT_MAX_TX_DROPS))
        return JT_temBAD_AMOUNT;
    if (pays.native && gets.native)
        return JT_temBAD_OFFER;
    if (jt_amount_sign(&pays) <= 0 || jt_amount_sign(&gets) <= 0)
        return JT_temBAD_OFFER;
    if (!pays.native && !gets.native && !memcmp(&pays.currency, &gets.currency, 20) &&
        same_account(&pays.issuer, &gets.issuer))
        return JT_temREDUNDANT;
    if (bad_currency(&pays) || bad_currency(&gets))
        return JT_temBAD_CURRENCY;
    return JT_tesSUCCESS;
}

/* Is issuer's GlobalFreeze set (never for SWT)? */
static bool global_frozen(jn_txctx *c, const jt_amount *a)
{
    const jt_obj *r = a->native ? NULL : read_account(c, &a->issuer);
    return r && (get_u(r, FLD("Flags"), 0) & JT_LSF_GLOBAL_FREEZE);
}

/* May the account receive `pays` (skywelld's checkAcceptAsset): its issuer
 * exists and, with RequireAuth, authorized the account's line (or, on
 * this ledger, an authorize relation does). An issuer with RequireAuth
 * has no line with itself: tecNO_LINE, as skywelld answers. */
static int check_accept(jn_txctx *c, const jt_amount *pays)
{
    const jt_obj *ir = read_account(c, &pays->issuer);
    if (!ir)
        return JT_tecNO_ISSUER;
    if (!(get_u(ir, FLD("Flags"), 0) & JT_LSF_REQUIRE_AUTH))
        return JT_tesSUCCESS;
    if (same_account(&c->account, &pays->issuer))
        return JT_tecNO_LINE;
    if (jn_read_authorized(c->sb, &c->account, &pays->issuer, &pays->currency, NULL))
        return JT_tesSUCCESS;
    jn_line_side side;
    return jn_read_line(c->sb, &c->account, &pays->issuer, &pays->currency, &side) ? JT_tecNO_AUTH
                                                                                   : JT_tecNO_LINE;
}

/* Places the offer: owner directory, book directory at `quality`, entry. */
static int place(jn_txctx *c, uint32_t flags, const jt_amount *pays, const jt_amount *gets,
                 uint64_t quality)
{
    uint32_t seq = (uint32_t)get_u(c->tx, FLD("Sequence"), 0);
    uint8_t book[32], key[32];
    jn_book_cursor bc;
    jn_book_cursor_init(&bc, pays, gets);
    memcpy(book, bc.base, 32);
    for (int i = 0; i < 8; i++)
        book[24 + i] = (uint8_t)(quality >> (56 - 8 * i));
    jn_id_offer(&c->account, seq, key);
    uint64_t owner_node, book_node;
    int r = jn_owner_dir_add(c, &c->account, key, &owner_node);
    if (r)
        return r > 0 ? r : JT_tefINTERNAL;
    jn_adjust_owner_count(c, &c->account, +1);
    r = jn_book_dir_add(c, book, key, pays, gets, quality, &book_node);
    if (r)
        return r > 0 ? r : JT_tefINTERNAL;
    jt_obj *o = jn_new_entry(c, "Offer");
    if (!o)
        return JT_tefINTERNAL;
    set_acct(c, o, FLD("Account"), &c->account);
    set_u(c, o, FLD("Sequence"), seq);
    set_amt(c, o, FLD("TakerPays"), pays);
    set_amt(c, o, FLD("TakerGets"), gets);
    set_bytes(c, o, FLD("BookDirectory"), book, 32);
    set_u(c, o, FLD("BookNode"), book_node);
    set_u(c, o, FLD("OwnerNode"), owner_node);
    set_u(c, o, FLD("Flags"),
          ((flags & JT_TF_PASSIVE) ? JT_LSF_PASSIVE : 0) | ((flags & JT_TF_SELL) ? JT_LSF_SELL : 0));
    if (jt_obj_has_f(c->tx, FLD("Expiration")))
        set_u(c, o, FLD("Expiration"), get_u(c->tx, FLD("Expiration"), 0));
    /* The platform, and the rate its Brokerage sets for what the offer
     * receives: the fee its fills pay later (taker.c). */
    jn_fee_rate fr;
    if (jn_offer_fee_rate(c, pays, &fr)) {
        set_acct(c, o, FLD("Platform"), &fr.platform);
        if (fr.has_entry) {
            set_u(c, o, FLD("OfferFeeRateNum"), fr.num);
            set_u(c, o, FLD("OfferFeeRateDen"), fr.den);
        }
    }
    if (c->oom) {
        jt_obj_free(o);
        return JT_tefINTERNAL;
    }
    return jn_view_insert(c->sb, key, o) ? JT_tefINTERNAL : JT_tesSUCCESS;
}

/* From the cancel of OfferSequence on: the steps of skywelld's doApply
 * after its checks, in the working view v. With FillOrKill, v is a child
 * of the transaction's sandbox and *killed says the offer was killed:
 * then only the removals in `cancel` stand. */
static int create(jn_txctx *v, jn_txctx *cancel, uint32_t flags, const jt_amount *pays,
                  const jt_amount *gets, uint64_t quality, bool *killed)
{
    if (jt_obj_has_f(v->tx, FLD("OfferSequence"))) {
        uint8_t k[32];
        jn_id_offer(&v->account, (uint32_t)get_u(v->tx, FLD("OfferSequence"), 0), k);
        if (jn_offer_delete(v, k))
            return JT_tefINTERNAL;
    }
    if (jt_obj_has_f(v->tx, FLD("Expiration")) &&
        get_u(v->tx, FLD("Expiration"), 0) <= v->env->parent_close_time)
        return JT_tesSUCCESS; /* already expired: the cancel stands, nothing else */
    if (!pays->native) {
        int r = check_accept(v, pays);
        if (r)
            return r;
    }
    jt_amount in, out;
    int r = jn_cross(v, cancel, gets, pays, flags, &in, &out);
    if (r)
        return r;
    if (jt_amount_sign(&in) <= 0 || jt_amount_sign(&out) <= 0)
        return JT_tesSUCCESS; /* filled, or the taker's funds ran out */
    if (flags & JT_TF_FILL_OR_KILL) {
        *killed = true;
        return JT_tesSUCCESS;
    }
    if (flags & JT_TF_IMMEDIATE_OR_CANCEL)
        return JT_tesSUCCESS;
    bool crossed = jt_amount_cmp(&in, gets) || jt_amount_cmp(&out, pays);
    const jt_obj *root = read_account(v, &v->account);
    if (!root)
        return JT_tefINTERNAL;
    /* The balance before the fee, the OwnerCount after crossing. */
    if (v->prior_balance < (int64_t)jn_reserve(v->env, jn_read_owner_count(root) + 1))
        return crossed ? JT_tesSUCCESS : JT_tecINSUF_RESERVE_OFFER;
    return place(v, flags, &out, &in, quality);
}

int jn_offer_create_apply(jn_txctx *c)
{
    uint32_t flags = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    jt_amount pays, gets;
    if (!get_amount(c->tx, FLD("TakerPays"), &pays) || !get_amount(c->tx, FLD("TakerGets"), &gets))
        return JT_temMALFORMED;
    /* The book directory: the transaction's own quality, whatever is placed. */
    uint64_t quality = jt_amount_rate(&gets, &pays);
    if (global_frozen(c, &pays) || global_frozen(c, &gets))
        return JT_tecFROZEN;
    jt_amount funds;
    jn_read_offer_funds(c->sb, c->env, &c->account, &gets, &funds);
    if (jt_amount_sign(&funds) <= 0)
        return JT_tecUNFUNDED_OFFER;
    if (jt_obj_has_f(c->tx, FLD("OfferSequence")) &&
        get_u(c->tx, FLD("OfferSequence"), 0) >= get_u(c->tx, FLD("Sequence"), 0))
        return JT_temBAD_SEQUENCE;
    if (!(flags & JT_TF_FILL_OR_KILL)) {
        bool killed = false;
        return create(c, NULL, flags, &pays, &gets, quality, &killed);
    }
    /* FillOrKill: the offer works in a child view; beside it, a view of
     * the removals skywelld makes in its checkpoint (view_cancel), which
     * are all that stand when the offer is killed. */
    jn_view w, k;
    jn_view_init(&w, c->sb, NULL);
    jn_view_init(&k, c->sb, NULL);
    jn_txctx cw = *c, ck = *c;
    cw.sb = &w;
    ck.sb = &k;
    bool killed = false;
    int r = create(&cw, &ck, flags, &pays, &gets, quality, &killed);
    c->oom = c->oom || cw.oom || ck.oom;
    if (r == JT_tesSUCCESS && !c->oom && jn_view_merge(killed ? &k : &w))
        r = JT_tefINTERNAL;
    jn_view_clear(&w);
    jn_view_clear(&k);
    return c->oom ? JT_tefINTERNAL : r;
}

int jn_offer_cancel_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~JT_TF_FULLY_CANONICAL_SIG)
        return JT_temINVALID_FLAG;
    uint64_t s = get_u(tx, FLD("OfferSequence"), 0);
    if (!s || s >= get_u(tx, FLD("Sequence"), 0))
        return JT_temBAD_SEQUENCE;
    return JT_tesSUCCESS;
}

int jn_offer_cancel_apply(jn_txctx *c)
{
    uint8_t k[32];
    jn_id_offer(&c->account, (uint32_t)get_u(c->tx, FLD("OfferSequence"), 0), k);
    return jn_offer_delete(c, k) ? JT_tefINTERNAL : JT_tesSUCCESS;
}
