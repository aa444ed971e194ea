/*
 * tx_brokerage.c — Brokerage (205): a platform sets the fee it charges on
 * the fills of offers that name it as their Platform, for one currency.
 *
 * The sender is the platform. Amount names the fee currency and issuer (its
 * value is a placeholder, as jingtum-lib's builder says, and is ignored);
 * OfferFeeRateNum / OfferFeeRateDen is the rate, 0 ≤ rate < 1; FeeAccountID
 * collects the fees. One Brokerage entry per platform and currency, owned by
 * the platform (its owner directory, one reserve). A rate of 0 removes it.
 * No public source says all of this: the choices and the evidence behind
 * them are in docs/node.md, "Platform fees".
 */
#include "engine.h"

int jn_brokerage_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~JT_TF_FULLY_CANONICAL_SIG)
        return JT_temINVALID_FLAG;
    uint64_t num, den;
    jt_amount amt;
    jt_account_id fee_acct;
    if (jt_obj_get_uint_f(tx, FLD("OfferFeeRateNum"), &num) != JT_OK ||
        jt_obj_get_uint_f(tx, FLD("OfferFeeRateDen"), &den) != JT_OK ||
        !get_amount(tx, FLD("Amount"), &amt) ||
        jt_obj_get_account_f(tx, FLD("FeeAccountID"), &fee_acct) != JT_OK)
        return JT_temMALFORMED;
    if (den == 0 || num >= den)
        return JT_temBAD_AMOUNT; /* the rate must be in [0, 1) */
    if (bad_currency(&amt))
        return JT_temBAD_CURRENCY;
    if (!amt.native && same_account(&amt.issuer, &JT_ACCOUNT_ZERO))
        return JT_temBAD_ISSUER;
    return JT_tesSUCCESS;
}

int jn_brokerage_apply(jn_txctx *c)
{
    uint64_t num = get_u(c->tx, FLD("OfferFeeRateNum"), 0);
    uint64_t den = get_u(c->tx, FLD("OfferFeeRateDen"), 0);
    jt_amount amt;
    jt_account_id fee_acct;
    if (!get_amount(c->tx, FLD("Amount"), &amt) ||
        jt_obj_get_account_f(c->tx, FLD("FeeAccountID"), &fee_acct) != JT_OK)
        return JT_temMALFORMED;
    if (!read_account(c, &fee_acct))
        return JT_tecNO_DST;
    if (!amt.native && !read_account(c, &amt.issuer))
        return JT_tecNO_ISSUER;

    static const jt_currency zc;
    static const jt_account_id za;
    uint8_t key[32];
    jn_id_brokerage(&c->account, amt.native ? &zc : &amt.currency, amt.native ? &za : &amt.issuer,
                    key);
    bool oom = false;
    jt_obj *o = jn_view_peek(c->sb, key, &oom);
    if (oom)
        return JT_tefINTERNAL;

    if (num == 0) { /* a rate of 0: the platform stops charging in this currency */
        if (!o)
            return JT_tecNO_ENTRY;
        if (jn_owner_dir_remove(c, &c->account, key, o, FLD("OwnerNode")))
            return c->oom ? JT_tefINTERNAL : JT_tefBAD_LEDGER;
        jn_adjust_owner_count(c, &c->account, -1);
        if (jn_view_erase(c->sb, key))
            return JT_tefINTERNAL;
        return c->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
    }
    if (o) { /* a new rate or collector for the same currency */
        set_u(c, o, FLD("OfferFeeRateNum"), num);
        set_u(c, o, FLD("OfferFeeRateDen"), den);
        set_acct(c, o, FLD("FeeAccountID"), &fee_acct);
        return c->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
    }
    /* A new entry is one more owned object: the balance before the fee
     * must cover the reserve with it, as for an offer or a line. */
    const jt_obj *root = read_account(c, &c->account);
    if (!root)
        return JT_tefINTERNAL;
    if (c->prior_balance < (int64_t)jn_reserve(c->env, jn_read_owner_count(root) + 1))
        return JT_tecINSUFFICIENT_RESERVE;
    uint64_t page;
    int r = jn_owner_dir_add(c, &c->account, key, &page);
    if (r)
        return r > 0 ? r : JT_tefINTERNAL;
    jn_adjust_owner_count(c, &c->account, +1);
    o = jn_new_entry(c, "Brokerage");
    if (!o)
        return JT_tefINTERNAL;
    jt_amount zero;
    jt_amount_zero_like(&zero, &amt);
    set_u(c, o, FLD("Flags"), 0);
    set_acct(c, o, FLD("Platform"), &c->account);
    set_acct(c, o, FLD("FeeAccountID"), &fee_acct);
    set_amt(c, o, FLD("Amount"), &zero);
    set_u(c, o, FLD("OfferFeeRateNum"), num);
    set_u(c, o, FLD("OfferFeeRateDen"), den);
    set_u(c, o, FLD("OwnerNode"), page);
    if (c->oom) {
        jt_obj_free(o);
        return JT_tefINTERNAL;
    }
    return jn_view_insert(c->sb, key, o) ? JT_tefINTERNAL : JT_tesSUCCESS;
}
