/*
 * tx_trust.c — TrustSet: creates or changes the account's side of a trust
 * line (limit, QualityIn/QualityOut, NoSkywell, Auth, Freeze), charging the
 * owner reserve when that side starts holding state.
 */
#include "engine.h"

int jn_trust_set_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~(JT_TF_FULLY_CANONICAL_SIG | JT_TF_SET_AUTH | JT_TF_SET_NO_SKYWELL | JT_TF_CLEAR_NO_SKYWELL |
                  JT_TF_SET_FREEZE | JT_TF_CLEAR_FREEZE))
        return JT_temINVALID_FLAG;
    if ((flags & JT_TF_SET_NO_SKYWELL) && (flags & JT_TF_CLEAR_NO_SKYWELL))
        return JT_temINVALID_FLAG;
    if ((flags & JT_TF_SET_FREEZE) && (flags & JT_TF_CLEAR_FREEZE))
        return JT_temINVALID_FLAG;
    jt_amount lim;
    jt_account_id src;
    if (!get_amount(tx, FLD("LimitAmount"), &lim))
        return JT_temBAD_LIMIT;
    if (lim.native || lim.negative)
        return JT_temBAD_LIMIT;
    if (bad_currency(&lim))
        return JT_temBAD_CURRENCY;
    if (jt_obj_get_account_f(tx, FLD("Account"), &src) == JT_OK && same_account(&src, &lim.issuer))
        return JT_temDST_IS_SRC;
    if (!memcmp(&lim.issuer, &JT_ACCOUNT_ZERO, 20) || !memcmp(&lim.issuer, &JT_ACCOUNT_ONE, 20))
        return JT_temDST_NEEDED;
    return JT_tesSUCCESS;
}

int jn_trust_set_apply(jn_txctx *c)
{
    uint32_t flags = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    jt_amount lim;
    if (!get_amount(c->tx, FLD("LimitAmount"), &lim))
        return JT_temBAD_LIMIT;
    jt_account_id peer = lim.issuer;
    const jt_account_id *me = &c->account;
    if (!read_account(c, &peer))
        return JT_tecNO_DST;
    jt_obj *mr = peek_account(c, me);
    if (!mr)
        return JT_tefINTERNAL;
    uint32_t mflags = (uint32_t)get_u(mr, FLD("Flags"), 0);
    if ((flags & JT_TF_SET_AUTH) && !(mflags & JT_LSF_REQUIRE_AUTH))
        return JT_tefNO_AUTH_REQUIRED;
    if ((flags & JT_TF_SET_FREEZE) && (mflags & JT_LSF_NO_FREEZE))
        return JT_tecNO_PERMISSION;
    bool has_qin = jt_obj_has_f(c->tx, FLD("QualityIn"));
    bool has_qout = jt_obj_has_f(c->tx, FLD("QualityOut"));
    uint64_t qin = get_u(c->tx, FLD("QualityIn"), 0), qout = get_u(c->tx, FLD("QualityOut"), 0);
    if (qin == JT_QUALITY_ONE)
        qin = 0;
    if (qout == JT_QUALITY_ONE)
        qout = 0;
    jn_line l;
    bool exists = jn_line_get(c, me, &peer, &lim.currency, &l);
    if (!exists) {
        if (jt_amount_is_zero(&lim) && !qin && !qout &&
            !(flags & (JT_TF_SET_AUTH | JT_TF_SET_FREEZE | JT_TF_SET_NO_SKYWELL)))
            return JT_tecNO_LINE_REDUNDANT;
        uint64_t reserve = jn_reserve(c->env, jn_read_owner_count(mr) + 1);
        if (jn_read_balance(mr) < (int64_t)reserve)
            return JT_tecNO_LINE_INSUF_RESERVE;
        uint32_t lf = 0;
        bool low = is_low(me, &peer);
        if (flags & JT_TF_SET_NO_SKYWELL)
            lf |= low ? JT_LSF_LOW_NO_SKYWELL : JT_LSF_HIGH_NO_SKYWELL;
        if (flags & JT_TF_SET_AUTH)
            lf |= low ? JT_LSF_LOW_AUTH : JT_LSF_HIGH_AUTH;
        if (flags & JT_TF_SET_FREEZE)
            lf |= low ? JT_LSF_LOW_FREEZE : JT_LSF_HIGH_FREEZE;
        if (jn_line_create(c, &l, me, &peer, &lim, lf))
            return JT_tefINTERNAL;
    } else {
        jt_amount mine = lim;
        mine.issuer = *me;
        set_amt(c, l.o, l.low ? FLD("LowLimit") : FLD("HighLimit"), &mine);
        uint32_t lf = line_flags(&l);
        uint32_t ns = side_flag(&l, true, JT_LSF_LOW_NO_SKYWELL, JT_LSF_HIGH_NO_SKYWELL);
        uint32_t au = side_flag(&l, true, JT_LSF_LOW_AUTH, JT_LSF_HIGH_AUTH);
        uint32_t fz = side_flag(&l, true, JT_LSF_LOW_FREEZE, JT_LSF_HIGH_FREEZE);
        jt_amount mybal;
        line_balance(&l, &mybal);
        if ((flags & JT_TF_SET_NO_SKYWELL) && jt_amount_sign(&mybal) >= 0)
            lf |= ns; /* skywelld: not on a side that owes */
        if (flags & JT_TF_CLEAR_NO_SKYWELL)
            lf &= ~ns;
        if (flags & JT_TF_SET_AUTH)
            lf |= au;
        if (flags & JT_TF_SET_FREEZE)
            lf |= fz;
        if (flags & JT_TF_CLEAR_FREEZE)
            lf &= ~fz;
        set_u(c, l.o, FLD("Flags"), lf);
    }
    const char *fin = l.low ? "LowQualityIn" : "HighQualityIn";
    const char *fout = l.low ? "LowQualityOut" : "HighQualityOut";
    if (has_qin) {
        if (qin)
            set_u(c, l.o, jt_field_by_name(fin), qin);
        else if (jt_obj_has(l.o, fin) && jt_obj_remove(l.o, fin) != JT_OK)
            c->oom = true;
    }
    if (has_qout) {
        if (qout)
            set_u(c, l.o, jt_field_by_name(fout), qout);
        else if (jt_obj_has(l.o, fout) && jt_obj_remove(l.o, fout) != JT_OK)
            c->oom = true;
    }
    /* A side that starts needing a reserve must be able to pay it. */
    uint32_t rf = side_flag(&l, true, JT_LSF_LOW_RESERVE, JT_LSF_HIGH_RESERVE);
    if (!(line_flags(&l) & rf) && jn_line_needs_reserve(c, &l, true, me)) {
        uint64_t reserve = jn_reserve(c->env, jn_read_owner_count(mr) + 1);
        if (jn_read_balance(mr) < (int64_t)reserve)
            return exists ? JT_tecINSUF_RESERVE_LINE : JT_tecNO_LINE_INSUF_RESERVE;
    }
    if ((exists ? jn_line_settle : jn_line_settle_own)(c, &l, me, &peer))
        return JT_tefINTERNAL;
    return c->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
}
