/*
 * tx_payment.c — Payment: SWT between accounts (creating the destination),
 * and every payment with an issued currency in Amount or SendMax through
 * the payment engine (paths.c), as skywelld's Payment always calls
 * SkywellCalc: the default path unless NoSkywellDirect, and each path the
 * transaction gives.
 *
 * A funded SWT payment between existing accounts normally takes the plain
 * path in fastpay.c; this is the general one, with the same result.
 */
#include "engine.h"
#include "paths.h"

static int check_amount(const jt_amount *a)
{
    if (jt_amount_sign(a) <= 0)
        return JT_temBAD_AMOUNT;
    if (a->native && a->mantissa > JT_MAX_TX_DROPS)
        return JT_temBAD_AMOUNT;
    if (bad_currency(a))
        return JT_temBAD_CURRENCY;
    return JT_tesSUCCESS;
}

int jn_payment_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~(JT_TF_FULLY_CANONICAL_SIG | JT_TF_NO_SKYWELL_DIRECT | JT_TF_PARTIAL_PAYMENT | JT_TF_LIMIT_QUALITY))
        return JT_temINVALID_FLAG;
    jt_amount amt, smax;
    jt_account_id dst, src;
    if (jt_obj_get_account_f(tx, FLD("Destination"), &dst) != JT_OK)
        return JT_temDST_NEEDED;
    if (!get_amount(tx, FLD("Amount"), &amt))
        return JT_temMALFORMED;
    if (jt_obj_get_account_f(tx, FLD("Account"), &src) != JT_OK)
        return JT_temMALFORMED;
    int r = check_amount(&amt);
    if (r)
        return r;
    bool has_smax = get_amount(tx, FLD("SendMax"), &smax);
    if (has_smax && (r = check_amount(&smax)))
        return r;
    bool paths = jt_obj_has_f(tx, FLD("Paths"));
    bool swt_direct = amt.native && (!has_smax || smax.native);
    if (swt_direct) {
        if (has_smax)
            return JT_temBAD_SEND_SWT_MAX;
        if (paths)
            return JT_temBAD_SEND_SWT_PATHS;
        if (flags & JT_TF_PARTIAL_PAYMENT)
            return JT_temBAD_SEND_SWT_PARTIAL;
        if (flags & JT_TF_LIMIT_QUALITY)
            return JT_temBAD_SEND_SWT_LIMIT;
        if (flags & JT_TF_NO_SKYWELL_DIRECT)
            return JT_temBAD_SEND_SWT_NO_DIRECT;
    }
    if (same_account(&src, &dst) && !paths &&
        (swt_direct || !has_smax || memcmp(&smax.currency, &amt.currency, 20) == 0))
        return JT_temREDUNDANT;
    return JT_tesSUCCESS;
}

/* A payment through the payment engine (paths.c): an issued Amount, or
 * SWT bought with an issued SendMax. */
static int pay_paths(jn_txctx *c, const jt_account_id *dst, const jt_amount *amt, uint32_t flags,
                     const jn_pathset *ps)
{
    jn_ripple_in in;
    memset(&in, 0, sizeof in);
    if (!get_amount(c->tx, FLD("SendMax"), &in.max_in)) {
        in.max_in = *amt;
        if (!amt->native)
            in.max_in.issuer = c->account;
    }
    in.dst_amount = *amt;
    in.src = c->account;
    in.dst = *dst;
    in.paths = ps;
    in.partial = (flags & JT_TF_PARTIAL_PAYMENT) != 0;
    in.default_path = !(flags & JT_TF_NO_SKYWELL_DIRECT);
    in.limit_quality = (flags & JT_TF_LIMIT_QUALITY) != 0;
    jn_ripple_out out;
    int r = jn_ripple_calc(c, &in, &out);
    if (c->oom)
        return JT_tefINTERNAL;
    if (jt_ter_is_retry(r))
        r = JT_tecPATH_DRY; /* as skywelld's Payment */
    if (r == JT_tesSUCCESS) {
        c->delivered = out.out;
        c->delivered.native = amt->native;
        c->delivered.currency = amt->currency;
        c->delivered.issuer = amt->issuer;
        c->has_delivered = true;
    }
    return r;
}

int jn_payment_apply(jn_txctx *c)
{
    uint32_t flags = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    jt_account_id dst;
    jt_amount amt;
    if (jt_obj_get_account_f(c->tx, FLD("Destination"), &dst) != JT_OK ||
        !get_amount(c->tx, FLD("Amount"), &amt))
        return JT_temMALFORMED;
    jt_amount smax;
    bool have_smax = get_amount(c->tx, FLD("SendMax"), &smax);
    int held = jn_read_relation_funds_check(c->sb, &c->account, have_smax ? &smax : &amt);
    if (held)
        return held; /* telINSUF_FUND: a freeze relation holds the funds back */
    const jt_obj *droot = read_account(c, &dst);
    if (!droot) {
        if (!amt.native)
            return JT_tecNO_DST;
        if (flags & JT_TF_PARTIAL_PAYMENT)
            return JT_telNO_DST_PARTIAL;
        if (amt.mantissa < c->env->reserve_base)
            return JT_tecNO_DST_INSUF_SWT;
        jt_obj *r = jn_new_entry(c, "AccountRoot");
        if (!r)
            return JT_tefINTERNAL;
        set_acct(c, r, FLD("Account"), &dst);
        set_balance(c, r, 0);
        set_u(c, r, FLD("Sequence"), 1);
        set_u(c, r, FLD("Flags"), 0);
        set_u(c, r, FLD("OwnerCount"), 0);
        uint8_t k[32];
        jn_id_account(&dst, k);
        if (c->oom || jn_view_insert(c->sb, k, r))
            return JT_tefINTERNAL;
    } else if ((get_u(droot, FLD("Flags"), 0) & JT_LSF_REQUIRE_DEST_TAG) &&
               !jt_obj_has_f(c->tx, FLD("DestinationTag"))) {
        return JT_tecDST_TAG_NEEDED;
    }
    jn_pathset ps;
    if (!jn_pathset_read(c->tx, &ps))
        return JT_temBAD_PATH;
    if (ps.too_big)
        return JT_telBAD_PATH_COUNT; /* skywelld: only in the open ledger; see docs/node.md */
    if (!amt.native || (have_smax && !smax.native))
        return pay_paths(c, &dst, &amt, flags, &ps);

    jt_obj *sr = peek_account(c, &c->account);
    jt_obj *dr = peek_account(c, &dst);
    if (!sr || !dr)
        return JT_tefINTERNAL;
    uint64_t reserve = jn_read_account_reserve(c->env, sr);
    int64_t need = (int64_t)amt.mantissa +
                   (int64_t)(reserve > (uint64_t)c->fee ? reserve : (uint64_t)c->fee);
    if (c->prior_balance < need)
        return JT_tecUNFUNDED_PAYMENT;
    set_balance(c, sr, jn_read_balance(sr) - (int64_t)amt.mantissa);
    set_balance(c, dr, jn_read_balance(dr) + (int64_t)amt.mantissa);
    c->delivered = amt;
    c->has_delivered = true;
    return c->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
}
