/*
 * tx_payment.c — Payment: SWT between accounts (creating the destination),
 * and issued currencies issuer→holder, holder→issuer and holder→holder
 * through their common issuer, with TransferRate, SendMax and
 * PartialPayment (the direct rules). A payment with Paths, NoSkywellDirect
 * or a SendMax in another currency runs the payment engine (paths.c).
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

static int pay_issued(jn_txctx *c, const jt_account_id *dst, const jt_amount *amt, uint32_t flags)
{
    const jt_account_id *S = &c->account, *D = dst, *I = &amt->issuer;
    const jt_currency *C = &amt->currency;
    jt_amount smax;
    bool has_smax = get_amount(c->tx, FLD("SendMax"), &smax);
    if (jt_obj_has_f(c->tx, FLD("Paths")) ||
        (has_smax && (smax.native || memcmp(&smax.currency, C, 20) != 0)))
        return JT_tecPATH_DRY; /* cross-currency payments need the order book */
    if (!read_account(c, I))
        return JT_tecPATH_DRY; /* skywelld: no line to the missing issuer (terNO_LINE) */
    bool partial = (flags & JT_TF_PARTIAL_PAYMENT) != 0;
    bool s_is_i = same_account(S, I), d_is_i = same_account(D, I);
    uint32_t rate = JT_QUALITY_ONE;
    if (!s_is_i && !d_is_i) {
        const jt_obj *ir = read_account(c, I);
        uint32_t tr = (uint32_t)get_u(ir, FLD("TransferRate"), 0);
        if (tr > JT_QUALITY_ONE)
            rate = tr;
    }
    jt_amount deliver = *amt, x;
    jn_line dl = {0}, sl = {0};
    if (!d_is_i) {
        if (!jn_line_get(c, D, I, C, &dl))
            return JT_tecPATH_DRY;
        jt_amount lim, bal, room;
        line_limit(&dl, true, &lim);
        line_balance(&dl, &bal);
        if (jt_amount_sub(&lim, &bal, &room) || jt_amount_sign(&room) <= 0)
            return JT_tecPATH_DRY;
        if (jt_amount_cmp(&room, &deliver) < 0)
            deliver = room, deliver.currency = *C, deliver.issuer = *I;
    }
    if (!s_is_i) {
        if (!jn_line_get(c, S, I, C, &sl))
            return JT_tecPATH_DRY;
        if (!d_is_i && jn_tx_frozen(c, S, I, C))
            return JT_tecFROZEN;
        jt_amount bal;
        line_balance(&sl, &bal);
        if (jt_amount_sign(&bal) <= 0)
            return JT_tecPATH_DRY;
        if (jt_amount_div_rate(&bal, rate, &x))
            return JT_tefINTERNAL;
        if (jt_amount_cmp(&x, &deliver) < 0)
            deliver = x, deliver.currency = *C, deliver.issuer = *I;
    }
    if (!has_smax) {
        smax = *amt;
    }
    if (!s_is_i || has_smax) {
        if (jt_amount_div_rate(&smax, rate, &x))
            return JT_tefINTERNAL;
        if (jt_amount_cmp(&x, &deliver) < 0)
            deliver = x, deliver.currency = *C, deliver.issuer = *I;
    }
    if (jt_amount_sign(&deliver) <= 0)
        return JT_tecPATH_DRY;
    if (jt_amount_cmp(&deliver, amt) < 0 && !partial)
        return JT_tecPATH_PARTIAL;
    if (!d_is_i) {
        jt_amount nb, bal;
        line_balance(&dl, &bal);
        if (jt_amount_add(&bal, &deliver, &nb))
            return JT_tefINTERNAL;
        if (!jn_tx_authorized(c, D, I, C, &nb))
            return JT_tecNO_AUTH;
    }
    jt_amount cost = deliver;
    if (rate != JT_QUALITY_ONE && jt_amount_mul_rate(&deliver, rate, true, &cost))
        return JT_tefINTERNAL;
    if (!s_is_i) {
        jt_amount bal, nb;
        line_balance(&sl, &bal);
        if (jt_amount_cmp(&bal, &cost) < 0)
            cost = bal; /* rounding: never more than is held */
        if (jt_amount_sub(&bal, &cost, &nb))
            return JT_tefINTERNAL;
        jn_line_set_balance(c, &sl, &nb);
        if (jn_line_settle(c, &sl, S, I))
            return JT_tefINTERNAL;
    }
    if (!d_is_i) {
        jt_amount bal, nb;
        line_balance(&dl, &bal);
        if (jt_amount_add(&bal, &deliver, &nb))
            return JT_tefINTERNAL;
        jn_line_set_balance(c, &dl, &nb);
        if (jn_line_settle(c, &dl, D, I))
            return JT_tefINTERNAL;
    }
    c->delivered = deliver;
    c->has_delivered = true;
    return JT_tesSUCCESS;
}

/* A payment through the payment engine (paths.c): paths, a SendMax in
 * another currency, or NoSkywellDirect. */
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

/* Does the payment need the payment engine, or is it one the direct
 * rules below take (SWT; an issued currency with at most a SendMax in it,
 * through its issuer)? */
static bool needs_paths(const jt_obj *tx, const jt_amount *amt, uint32_t flags, const jn_pathset *ps)
{
    jt_amount smax;
    if (ps->n || ps->too_big || (flags & JT_TF_NO_SKYWELL_DIRECT))
        return true;
    if (!get_amount(tx, FLD("SendMax"), &smax))
        return false;
    return smax.native != amt->native || memcmp(&smax.currency, &amt->currency, 20) != 0;
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
    int held = jn_read_relation_funds_check(c->sb, &c->account,
                                            get_amount(c->tx, FLD("SendMax"), &smax) ? &smax : &amt);
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
    if (needs_paths(c->tx, &amt, flags, &ps))
        return pay_paths(c, &dst, &amt, flags, &ps);
    if (!amt.native)
        return pay_issued(c, &dst, &amt, flags);

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
