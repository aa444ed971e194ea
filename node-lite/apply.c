/*
 * apply.c — the transaction engine's driver (see apply.h, engine.h): the
 * transactor table, the checks every transaction goes through (preflight,
 * sequence, signer, fee), and applying one in its sandbox: fee claim,
 * transactor, tec rollback, threading, metadata, merge.
 *
 * Every transactor works in a child view `sb` of the ledger view; metadata
 * is the difference between `sb` and its parent, computed before merging.
 */
#include "apply.h"
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- shared helpers */

jt_obj *jn_new_entry(jn_txctx *c, const char *type)
{
    jt_obj *o = jt_obj_new();
    int lt = jt_ledger_type_by_name(type);
    if (!o || lt < 0 || jt_obj_set_uint_f(o, FLD("LedgerEntryType"), (uint64_t)lt) != JT_OK) {
        jt_obj_free(o);
        c->oom = true;
        return NULL;
    }
    return o;
}

void jn_adjust_owner_count(jn_txctx *c, const jt_account_id *a, int delta)
{
    jt_obj *r = peek_account(c, a);
    if (!r)
        return;
    uint64_t n = get_u(r, FLD("OwnerCount"), 0);
    if (delta < 0 && n < (uint64_t)-delta)
        n = 0;
    else
        n = (uint64_t)((int64_t)n + delta);
    set_u(c, r, FLD("OwnerCount"), n);
}

/* ---------------------------------------------------------------- dispatch */

/* One line per transaction type: its two steps (engine.h). */
static const jn_transactor transactors[] = {
    {JT_TX_PAYMENT, jn_payment_preflight, jn_payment_apply},
    {JT_TX_TRUST_SET, jn_trust_set_preflight, jn_trust_set_apply},
    {JT_TX_ACCOUNT_SET, jn_account_set_preflight, jn_account_set_apply},
    {JT_TX_SET_REGULAR_KEY, jn_set_regular_key_preflight, jn_set_regular_key_apply},
    {JT_TX_RELATION_SET, jn_relation_preflight, jn_relation_set_apply},
    {JT_TX_RELATION_DEL, jn_relation_preflight, jn_relation_del_apply},
    {JT_TX_OFFER_CREATE, jn_offer_create_preflight, jn_offer_create_apply},
    {JT_TX_OFFER_CANCEL, jn_offer_cancel_preflight, jn_offer_cancel_apply},
};

static const jn_transactor *find_transactor(const jt_obj *tx)
{
    uint64_t t;
    if (jt_obj_get_uint_f(tx, FLD("TransactionType"), &t) != JT_OK)
        return NULL;
    for (size_t i = 0; i < sizeof transactors / sizeof *transactors; i++)
        if ((uint64_t)transactors[i].type == t)
            return &transactors[i];
    return NULL;
}

int jn_preflight(const jt_obj *tx, const jn_env *env)
{
    jt_account_id a;
    if (jt_obj_get_account_f(tx, FLD("Account"), &a) != JT_OK || !jt_obj_has_f(tx, FLD("Sequence")) ||
        !jt_obj_has_f(tx, FLD("TransactionType")))
        return temMALFORMED;
    if (!memcmp(&a, &JT_ACCOUNT_ZERO, 20) || !memcmp(&a, &JT_ACCOUNT_ONE, 20))
        return temBAD_SRC_ACCOUNT;
    if (jt_obj_has_f(tx, FLD("Signers")))
        return temUNKNOWN; /* multi-signing: not on this node yet */
    const jn_transactor *t = find_transactor(tx);
    if (!t)
        return temUNKNOWN;
    jt_amount fee;
    if (!get_amount(tx, FLD("Fee"), &fee))
        return temMALFORMED;
    if (!fee.native || fee.negative || fee.mantissa > JT_MAX_TX_DROPS)
        return temBAD_FEE;
    int r = t->preflight(tx, (uint32_t)get_u(tx, FLD("Flags"), 0));
    if (r)
        return r;
    if (fee.mantissa < env->base_fee)
        return telINSUF_FEE_P;
    return tesSUCCESS;
}

/* ---------------------------------------------------------------- apply */

/* Fee and sequence: the part of a transaction that happens even on tec. */
static int claim_fee(jn_txctx *c)
{
    jt_obj *r = peek_account(c, &c->account);
    if (!r)
        return tefINTERNAL;
    set_balance(c, r, c->prior_balance - c->fee);
    set_u(c, r, FLD("Sequence"), get_u(r, FLD("Sequence"), 0) + 1);
    return c->oom ? tefINTERNAL : tesSUCCESS;
}

void jn_txmemo_keys(jn_txmemo *memo, const jt_obj *tx)
{
    jt_account_id a;
    if (!memo->have_account && jt_obj_get_account_f(tx, FLD("Account"), &a) == JT_OK) {
        jn_id_account(&a, memo->account_key);
        memo->have_account = true;
    }
    if (!memo->have_dest && get_u(tx, FLD("TransactionType"), 0) == JT_TX_PAYMENT &&
        jt_obj_get_account_f(tx, FLD("Destination"), &a) == JT_OK) {
        jn_id_account(&a, memo->dest_key);
        memo->have_dest = true;
    }
}

int jn_apply(jn_view *view, const jn_env *env, const jt_obj *tx, const uint8_t id[32],
             uint32_t index, jn_txmemo *memo, jn_applied *out)
{
    memset(out, 0, sizeof *out);
    /* Preflight depends on the transaction and the base fee only. */
    int r;
    if (memo && memo->preflight_ok && memo->preflight_fee == env->base_fee) {
        r = tesSUCCESS;
    } else {
        r = jn_preflight(tx, env);
        if (memo && r == tesSUCCESS) {
            memo->preflight_ok = true;
            memo->preflight_fee = env->base_fee;
        }
    }
    if (r)
        return out->ter = r;
    jn_view sb;
    jn_view_init(&sb, view, NULL);
    jn_txctx c = {.sb = &sb, .env = env, .tx = tx, .id = id, .memo = memo};
    jt_amount fee;
    if (jt_obj_get_account_f(tx, FLD("Account"), &c.account) != JT_OK || !get_amount(tx, FLD("Fee"), &fee))
        return out->ter = temMALFORMED;
    c.fee = (int64_t)fee.mantissa;
    if (memo && memo->have_account) {
        memcpy(c.account_key, memo->account_key, 32);
    } else {
        jn_id_account(&c.account, c.account_key);
        if (memo) {
            memcpy(memo->account_key, c.account_key, 32);
            memo->have_account = true;
        }
    }

    const jt_obj *root = jn_view_read(view, c.account_key);
    if (!root)
        return out->ter = terNO_ACCOUNT;
    uint64_t aseq = get_u(root, FLD("Sequence"), 0), tseq = get_u(tx, FLD("Sequence"), 0);
    if (tseq < aseq)
        return out->ter = tefPAST_SEQ;
    if (tseq > aseq)
        return out->ter = terPRE_SEQ;
    if (jt_obj_has_f(tx, FLD("LastLedgerSequence")) && get_u(tx, FLD("LastLedgerSequence"), 0) < env->ledger_seq)
        return out->ter = tefMAX_LEDGER;
    /* Who signed: the master key (unless disabled) or the regular key. */
    const uint8_t *pk;
    size_t pklen;
    jt_account_id signer, regular;
    if (memo && memo->have_signer) {
        signer = memo->signer;
    } else {
        if (jt_obj_get_bytes_f(tx, FLD("SigningPubKey"), &pk, &pklen) != JT_OK ||
            jt_account_id_from_pubkey(pk, pklen, &signer) != JT_OK)
            return out->ter = tefBAD_AUTH;
        if (memo) {
            memo->signer = signer;
            memo->have_signer = true;
        }
    }
    uint32_t aflags = (uint32_t)get_u(root, FLD("Flags"), 0);
    if (same_account(&signer, &c.account)) {
        if (aflags & LSF_DISABLE_MASTER)
            return out->ter = tefMASTER_DISABLED;
    } else if (jt_obj_get_account_f(root, FLD("RegularKey"), &regular) != JT_OK ||
               !same_account(&signer, &regular)) {
        return out->ter = tefBAD_AUTH;
    }
    c.prior_balance = jn_read_balance(root);
    if (c.prior_balance < c.fee)
        return out->ter = terINSUF_FEE_B;

    if (jn_fast_payment(view, env, &c, index, out))
        return out->ter;
    const jn_transactor *t = find_transactor(tx);
    r = claim_fee(&c);
    if (!r)
        r = t->apply(&c);
    if (r != tesSUCCESS && JN_TER_CLAIMED(r)) {
        /* tec: undo everything but the fee and the sequence. */
        jn_view_clear(&sb);
        jn_view_init(&sb, view, NULL);
        c.has_delivered = false;
        c.oom = false;
        int r2 = claim_fee(&c);
        if (r2)
            r = r2;
    }
    if (!JN_TER_CLAIMED(r)) {
        jn_view_clear(&sb);
        return out->ter = r;
    }
    jn_meta_thread(&c);
    jt_obj *meta = NULL;
    if (c.oom || (!env->no_meta && !(meta = jn_meta_build(&c, r, index)))) {
        jn_view_clear(&sb);
        return out->ter = tefINTERNAL;
    }
    if (jn_view_merge(&sb)) {
        jt_obj_free(meta);
        jn_view_clear(&sb);
        return out->ter = tefINTERNAL;
    }
    out->meta = meta;
    out->fee = c.fee;
    return out->ter = r;
}

/* ---------------------------------------------------------------- Payment */

static int check_amount(const jt_amount *a)
{
    if (jn_amt_sign(a) <= 0)
        return temBAD_AMOUNT;
    if (a->native && a->mantissa > JT_MAX_TX_DROPS)
        return temBAD_AMOUNT;
    if (bad_currency(a))
        return temBAD_CURRENCY;
    return tesSUCCESS;
}

int jn_payment_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~(TF_FULLY_CANONICAL | TF_NO_SKYWELL_DIRECT | TF_PARTIAL_PAYMENT | TF_LIMIT_QUALITY))
        return temINVALID_FLAG;
    jt_amount amt, smax;
    jt_account_id dst, src;
    if (jt_obj_get_account_f(tx, FLD("Destination"), &dst) != JT_OK)
        return temDST_NEEDED;
    if (!get_amount(tx, FLD("Amount"), &amt))
        return temMALFORMED;
    if (jt_obj_get_account_f(tx, FLD("Account"), &src) != JT_OK)
        return temMALFORMED;
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
            return temBAD_SEND_SWT_MAX;
        if (paths)
            return temBAD_SEND_SWT_PATHS;
        if (flags & TF_PARTIAL_PAYMENT)
            return temBAD_SEND_SWT_PARTIAL;
        if (flags & TF_LIMIT_QUALITY)
            return temBAD_SEND_SWT_LIMIT;
        if (flags & TF_NO_SKYWELL_DIRECT)
            return temBAD_SEND_SWT_NO_DIRECT;
    }
    if (same_account(&src, &dst) && !paths &&
        (swt_direct || !has_smax || memcmp(&smax.currency, &amt.currency, 20) == 0))
        return temREDUNDANT;
    return tesSUCCESS;
}

static int pay_issued(jn_txctx *c, const jt_account_id *dst, const jt_amount *amt, uint32_t flags)
{
    const jt_account_id *S = &c->account, *D = dst, *I = &amt->issuer;
    const jt_currency *C = &amt->currency;
    jt_amount smax;
    bool has_smax = get_amount(c->tx, FLD("SendMax"), &smax);
    if (jt_obj_has_f(c->tx, FLD("Paths")) ||
        (has_smax && (smax.native || memcmp(&smax.currency, C, 20) != 0)))
        return tecPATH_DRY; /* cross-currency payments need the order book */
    if (!read_account(c, I))
        return tecNO_ISSUER;
    bool partial = (flags & TF_PARTIAL_PAYMENT) != 0;
    bool s_is_i = same_account(S, I), d_is_i = same_account(D, I);
    uint32_t rate = QUALITY_ONE;
    if (!s_is_i && !d_is_i) {
        const jt_obj *ir = read_account(c, I);
        uint32_t tr = (uint32_t)get_u(ir, FLD("TransferRate"), 0);
        if (tr > QUALITY_ONE)
            rate = tr;
    }
    jt_amount deliver = *amt, x;
    jn_line dl = {0}, sl = {0};
    if (!d_is_i) {
        if (!jn_line_get(c, D, I, C, &dl))
            return tecPATH_DRY;
        jt_amount lim, bal, room;
        line_limit(&dl, true, &lim);
        line_balance(&dl, &bal);
        if (!jn_amt_sub(&lim, &bal, &room) || jn_amt_sign(&room) <= 0)
            return tecPATH_DRY;
        if (jn_amt_cmp(&room, &deliver) < 0)
            deliver = room, deliver.currency = *C, deliver.issuer = *I;
    }
    if (!s_is_i) {
        if (!jn_line_get(c, S, I, C, &sl))
            return tecPATH_DRY;
        if (!d_is_i && jn_tx_frozen(c, S, I, C))
            return tecFROZEN;
        jt_amount bal;
        line_balance(&sl, &bal);
        if (jn_amt_sign(&bal) <= 0)
            return tecPATH_DRY;
        if (!jn_amt_div_rate(&bal, rate, &x))
            return tefINTERNAL;
        if (jn_amt_cmp(&x, &deliver) < 0)
            deliver = x, deliver.currency = *C, deliver.issuer = *I;
    }
    if (!has_smax) {
        smax = *amt;
    }
    if (!s_is_i || has_smax) {
        if (!jn_amt_div_rate(&smax, rate, &x))
            return tefINTERNAL;
        if (jn_amt_cmp(&x, &deliver) < 0)
            deliver = x, deliver.currency = *C, deliver.issuer = *I;
    }
    if (jn_amt_sign(&deliver) <= 0)
        return tecPATH_DRY;
    if (jn_amt_cmp(&deliver, amt) < 0 && !partial)
        return tecPATH_PARTIAL;
    if (!d_is_i) {
        jt_amount nb, bal;
        line_balance(&dl, &bal);
        if (!jn_amt_add(&bal, &deliver, &nb))
            return tefINTERNAL;
        if (!jn_tx_authorized(c, D, I, C, &nb))
            return tecNO_AUTH;
    }
    jt_amount cost = deliver;
    if (rate != QUALITY_ONE && !jn_amt_mul_rate(&deliver, rate, true, &cost))
        return tefINTERNAL;
    if (!s_is_i) {
        jt_amount bal, nb;
        line_balance(&sl, &bal);
        if (jn_amt_cmp(&bal, &cost) < 0)
            cost = bal; /* rounding: never more than is held */
        if (!jn_amt_sub(&bal, &cost, &nb))
            return tefINTERNAL;
        jn_line_set_balance(c, &sl, &nb);
        if (jn_line_settle(c, &sl, S, I))
            return tefINTERNAL;
    }
    if (!d_is_i) {
        jt_amount bal, nb;
        line_balance(&dl, &bal);
        if (!jn_amt_add(&bal, &deliver, &nb))
            return tefINTERNAL;
        jn_line_set_balance(c, &dl, &nb);
        if (jn_line_settle(c, &dl, D, I))
            return tefINTERNAL;
    }
    c->delivered = deliver;
    c->has_delivered = true;
    return tesSUCCESS;
}

int jn_payment_apply(jn_txctx *c)
{
    uint32_t flags = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    jt_account_id dst;
    jt_amount amt;
    if (jt_obj_get_account_f(c->tx, FLD("Destination"), &dst) != JT_OK ||
        !get_amount(c->tx, FLD("Amount"), &amt))
        return temMALFORMED;
    const jt_obj *droot = read_account(c, &dst);
    if (!droot) {
        if (!amt.native)
            return tecNO_DST;
        if (flags & TF_PARTIAL_PAYMENT)
            return telNO_DST_PARTIAL;
        if (amt.mantissa < c->env->reserve_base)
            return tecNO_DST_INSUF_SWT;
        jt_obj *r = jn_new_entry(c, "AccountRoot");
        if (!r)
            return tefINTERNAL;
        set_acct(c, r, FLD("Account"), &dst);
        set_balance(c, r, 0);
        set_u(c, r, FLD("Sequence"), 1);
        set_u(c, r, FLD("Flags"), 0);
        set_u(c, r, FLD("OwnerCount"), 0);
        uint8_t k[32];
        jn_id_account(&dst, k);
        if (c->oom || jn_view_insert(c->sb, k, r))
            return tefINTERNAL;
    } else if ((get_u(droot, FLD("Flags"), 0) & LSF_REQUIRE_DEST) &&
               !jt_obj_has_f(c->tx, FLD("DestinationTag"))) {
        return tecDST_TAG_NEEDED;
    }
    if (!amt.native)
        return pay_issued(c, &dst, &amt, flags);

    jt_obj *sr = peek_account(c, &c->account);
    jt_obj *dr = peek_account(c, &dst);
    if (!sr || !dr)
        return tefINTERNAL;
    uint64_t reserve = jn_read_account_reserve(c->env, sr);
    int64_t need = (int64_t)amt.mantissa +
                   (int64_t)(reserve > (uint64_t)c->fee ? reserve : (uint64_t)c->fee);
    if (c->prior_balance < need)
        return tecUNFUNDED_PAYMENT;
    set_balance(c, sr, jn_read_balance(sr) - (int64_t)amt.mantissa);
    set_balance(c, dr, jn_read_balance(dr) + (int64_t)amt.mantissa);
    c->delivered = amt;
    c->has_delivered = true;
    return c->oom ? tefINTERNAL : tesSUCCESS;
}

/* ---------------------------------------------------------------- TrustSet */

int jn_trust_set_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~(TF_FULLY_CANONICAL | TF_SET_AUTH | TF_SET_NO_SKYWELL | TF_CLEAR_NO_SKYWELL |
                  TF_SET_FREEZE | TF_CLEAR_FREEZE))
        return temINVALID_FLAG;
    if ((flags & TF_SET_NO_SKYWELL) && (flags & TF_CLEAR_NO_SKYWELL))
        return temINVALID_FLAG;
    if ((flags & TF_SET_FREEZE) && (flags & TF_CLEAR_FREEZE))
        return temINVALID_FLAG;
    jt_amount lim;
    jt_account_id src;
    if (!get_amount(tx, FLD("LimitAmount"), &lim))
        return temBAD_LIMIT;
    if (lim.native || lim.negative)
        return temBAD_LIMIT;
    if (bad_currency(&lim))
        return temBAD_CURRENCY;
    if (jt_obj_get_account_f(tx, FLD("Account"), &src) == JT_OK && same_account(&src, &lim.issuer))
        return temDST_IS_SRC;
    if (!memcmp(&lim.issuer, &JT_ACCOUNT_ZERO, 20) || !memcmp(&lim.issuer, &JT_ACCOUNT_ONE, 20))
        return temDST_NEEDED;
    return tesSUCCESS;
}

int jn_trust_set_apply(jn_txctx *c)
{
    uint32_t flags = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    jt_amount lim;
    if (!get_amount(c->tx, FLD("LimitAmount"), &lim))
        return temBAD_LIMIT;
    jt_account_id peer = lim.issuer;
    const jt_account_id *me = &c->account;
    if (!read_account(c, &peer))
        return tecNO_DST;
    jt_obj *mr = peek_account(c, me);
    if (!mr)
        return tefINTERNAL;
    uint32_t mflags = (uint32_t)get_u(mr, FLD("Flags"), 0);
    if ((flags & TF_SET_AUTH) && !(mflags & LSF_REQUIRE_AUTH))
        return tefNO_AUTH_REQUIRED;
    if ((flags & TF_SET_FREEZE) && (mflags & LSF_NO_FREEZE))
        return tecNO_PERMISSION;
    bool has_qin = jt_obj_has_f(c->tx, FLD("QualityIn"));
    bool has_qout = jt_obj_has_f(c->tx, FLD("QualityOut"));
    uint64_t qin = get_u(c->tx, FLD("QualityIn"), 0), qout = get_u(c->tx, FLD("QualityOut"), 0);
    if (qin == QUALITY_ONE)
        qin = 0;
    if (qout == QUALITY_ONE)
        qout = 0;
    jn_line l;
    bool exists = jn_line_get(c, me, &peer, &lim.currency, &l);
    if (!exists) {
        if (jn_amt_is_zero(&lim) && !qin && !qout &&
            !(flags & (TF_SET_AUTH | TF_SET_FREEZE | TF_SET_NO_SKYWELL)))
            return tecNO_LINE_REDUNDANT;
        uint64_t reserve = jn_reserve(c->env, jn_read_owner_count(mr) + 1);
        if (jn_read_balance(mr) < (int64_t)reserve)
            return tecNO_LINE_INSUF_RESERVE;
        uint32_t lf = 0;
        bool low = is_low(me, &peer);
        if (flags & TF_SET_NO_SKYWELL)
            lf |= low ? LSF_LOW_NO_SKYWELL : LSF_HIGH_NO_SKYWELL;
        if (flags & TF_SET_AUTH)
            lf |= low ? LSF_LOW_AUTH : LSF_HIGH_AUTH;
        if (flags & TF_SET_FREEZE)
            lf |= low ? LSF_LOW_FREEZE : LSF_HIGH_FREEZE;
        if (jn_line_create(c, &l, me, &peer, &lim, lf))
            return tefINTERNAL;
    } else {
        jt_amount mine = lim;
        mine.issuer = *me;
        set_amt(c, l.o, l.low ? FLD("LowLimit") : FLD("HighLimit"), &mine);
        uint32_t lf = line_flags(&l);
        uint32_t ns = side_flag(&l, true, LSF_LOW_NO_SKYWELL, LSF_HIGH_NO_SKYWELL);
        uint32_t au = side_flag(&l, true, LSF_LOW_AUTH, LSF_HIGH_AUTH);
        uint32_t fz = side_flag(&l, true, LSF_LOW_FREEZE, LSF_HIGH_FREEZE);
        if (flags & TF_SET_NO_SKYWELL)
            lf |= ns;
        if (flags & TF_CLEAR_NO_SKYWELL)
            lf &= ~ns;
        if (flags & TF_SET_AUTH)
            lf |= au;
        if (flags & TF_SET_FREEZE)
            lf |= fz;
        if (flags & TF_CLEAR_FREEZE)
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
    uint32_t rf = side_flag(&l, true, LSF_LOW_RESERVE, LSF_HIGH_RESERVE);
    if (!(line_flags(&l) & rf) && jn_line_needs_reserve(&l, true)) {
        uint64_t reserve = jn_reserve(c->env, jn_read_owner_count(mr) + 1);
        if (jn_read_balance(mr) < (int64_t)reserve)
            return exists ? tecINSUF_RESERVE_LINE : tecNO_LINE_INSUF_RESERVE;
    }
    if (jn_line_settle(c, &l, me, &peer))
        return tefINTERNAL;
    return c->oom ? tefINTERNAL : tesSUCCESS;
}

/* ---------------------------------------------------------------- AccountSet, SetRegularKey */

/* ---------------------------------------------------------------- AccountSet */

static uint32_t asf_to_lsf(uint64_t asf)
{
    switch (asf) {
    case 1: return LSF_REQUIRE_DEST;
    case 2: return LSF_REQUIRE_AUTH;
    case 3: return LSF_DISALLOW_SWT;
    case 4: return LSF_DISABLE_MASTER;
    case 6: return LSF_NO_FREEZE;
    case 7: return LSF_GLOBAL_FREEZE;
    case 8: return LSF_DEFAULT_SKYWELL;
    default: return 0; /* 5 (AccountTxnID) and unknown values change no flag */
    }
}

int jn_account_set_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~(TF_FULLY_CANONICAL | TF_REQUIRE_DEST | TF_OPTIONAL_DEST | TF_REQUIRE_AUTH |
                  TF_OPTIONAL_AUTH | TF_DISALLOW_SWT | TF_ALLOW_SWT))
        return temINVALID_FLAG;
    if (((flags & TF_REQUIRE_DEST) && (flags & TF_OPTIONAL_DEST)) ||
        ((flags & TF_REQUIRE_AUTH) && (flags & TF_OPTIONAL_AUTH)) ||
        ((flags & TF_DISALLOW_SWT) && (flags & TF_ALLOW_SWT)))
        return temINVALID_FLAG;
    uint64_t set = get_u(tx, FLD("SetFlag"), 0), clr = get_u(tx, FLD("ClearFlag"), 0);
    if (set && set == clr)
        return temINVALID_FLAG;
    if (jt_obj_has_f(tx, FLD("TransferRate"))) {
        uint64_t r = get_u(tx, FLD("TransferRate"), 0);
        if (r && (r < QUALITY_ONE || r > 2ull * QUALITY_ONE))
            return temBAD_TRANSFER_RATE;
    }
    const uint8_t *p;
    size_t n;
    if (jt_obj_get_bytes_f(tx, FLD("Domain"), &p, &n) == JT_OK && n > 256)
        return telBAD_DOMAIN;
    if (jt_obj_get_bytes_f(tx, FLD("MessageKey"), &p, &n) == JT_OK && n > 33)
        return temMALFORMED;
    return tesSUCCESS;
}

int jn_account_set_apply(jn_txctx *c)
{
    jt_obj *r = peek_account(c, &c->account);
    if (!r)
        return tefINTERNAL;
    uint32_t txf = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    uint32_t f = (uint32_t)get_u(r, FLD("Flags"), 0), nf = f;
    uint64_t set = get_u(c->tx, FLD("SetFlag"), 0), clr = get_u(c->tx, FLD("ClearFlag"), 0);
    uint32_t sf = asf_to_lsf(set), cf = asf_to_lsf(clr);

    if (txf & TF_REQUIRE_DEST)
        sf |= LSF_REQUIRE_DEST;
    if (txf & TF_OPTIONAL_DEST)
        cf |= LSF_REQUIRE_DEST;
    if (txf & TF_REQUIRE_AUTH)
        sf |= LSF_REQUIRE_AUTH;
    if (txf & TF_OPTIONAL_AUTH)
        cf |= LSF_REQUIRE_AUTH;
    if (txf & TF_DISALLOW_SWT)
        sf |= LSF_DISALLOW_SWT;
    if (txf & TF_ALLOW_SWT)
        cf |= LSF_DISALLOW_SWT;

    if ((sf & LSF_REQUIRE_AUTH) && !(f & LSF_REQUIRE_AUTH) && get_u(r, FLD("OwnerCount"), 0))
        return tecOWNERS;
    if ((sf & LSF_DISABLE_MASTER) && !jt_obj_has_f(r, FLD("RegularKey")))
        return tecNO_REGULAR_KEY;
    if (cf & LSF_NO_FREEZE)
        return tecNO_PERMISSION; /* NoFreeze is permanent */
    nf |= sf;
    nf &= ~cf;
    if (nf != f)
        set_u(c, r, FLD("Flags"), nf);

    if (jt_obj_has_f(c->tx, FLD("TransferRate"))) {
        uint64_t rate = get_u(c->tx, FLD("TransferRate"), 0);
        if (rate == 0 || rate == QUALITY_ONE) {
            if (jt_obj_has_f(r, FLD("TransferRate")) && jt_obj_remove(r, "TransferRate") != JT_OK)
                c->oom = true;
        } else {
            set_u(c, r, FLD("TransferRate"), rate);
        }
    }
    static const char *blobs[] = {"Domain", "MessageKey", "EmailHash", "WalletLocator"};
    for (size_t i = 0; i < sizeof blobs / sizeof *blobs; i++) {
        const uint8_t *p;
        size_t n;
        if (jt_obj_get_bytes(c->tx, blobs[i], &p, &n) != JT_OK)
            continue;
        bool empty = true;
        for (size_t j = 0; j < n; j++)
            if (p[j])
                empty = false;
        if (empty) {
            if (jt_obj_has(r, blobs[i]) && jt_obj_remove(r, blobs[i]) != JT_OK)
                c->oom = true;
        } else {
            set_bytes(c, r, jt_field_by_name(blobs[i]), p, n);
        }
    }
    return c->oom ? tefINTERNAL : tesSUCCESS;
}

/* ---------------------------------------------------------------- SetRegularKey */

int jn_set_regular_key_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~TF_FULLY_CANONICAL)
        return temINVALID_FLAG;
    return tesSUCCESS;
}

int jn_set_regular_key_apply(jn_txctx *c)
{
    jt_obj *r = peek_account(c, &c->account);
    if (!r)
        return tefINTERNAL;
    jt_account_id key;
    if (jt_obj_get_account_f(c->tx, FLD("RegularKey"), &key) == JT_OK) {
        set_acct(c, r, FLD("RegularKey"), &key);
    } else {
        if (get_u(r, FLD("Flags"), 0) & LSF_DISABLE_MASTER)
            return tecMASTER_DISABLED;
        if (jt_obj_has_f(r, FLD("RegularKey")) && jt_obj_remove(r, "RegularKey") != JT_OK)
            c->oom = true;
    }
    return c->oom ? tefINTERNAL : tesSUCCESS;
}

/* ---------------------------------------------------------------- RelationSet, RelationDel */

int jn_relation_preflight(const jt_obj *tx, uint32_t flags)
{
    jt_account_id target, src;
    if (jt_obj_get_account_f(tx, FLD("Target"), &target) != JT_OK ||
        !jt_obj_has_f(tx, FLD("RelationType")))
        return temMALFORMED;
    uint64_t type = get_u(tx, FLD("RelationType"), 0);
    if (type != JN_REL_AUTHORIZE && type != JN_REL_FREEZE)
        return temINVALID;
    if (jt_obj_get_account_f(tx, FLD("Account"), &src) == JT_OK && same_account(&src, &target))
        return temDST_IS_SRC;
    jt_amount lim;
    if (!get_amount(tx, FLD("LimitAmount"), &lim))
        return temBAD_LIMIT;
    if (lim.native || lim.negative)
        return temBAD_LIMIT;
    if (bad_currency(&lim))
        return temBAD_CURRENCY;
    return tesSUCCESS;
}

int jn_relation_set_apply(jn_txctx *c)
{
    jt_account_id target;
    jt_amount lim;
    if (jt_obj_get_account_f(c->tx, FLD("Target"), &target) != JT_OK ||
        !get_amount(c->tx, FLD("LimitAmount"), &lim))
        return temMALFORMED;
    uint32_t type = (uint32_t)get_u(c->tx, FLD("RelationType"), 0);
    if (!read_account(c, &target))
        return tecNO_TARGET;
    jt_obj *mr = peek_account(c, &c->account);
    if (!mr)
        return tefINTERNAL;
    if (type == JN_REL_FREEZE && (get_u(mr, FLD("Flags"), 0) & LSF_NO_FREEZE))
        return tecNO_PERMISSION;
    uint8_t k[32];
    bool oom;
    jn_id_relation(&c->account, &target, type, &lim.currency, k);
    jt_obj *rel = jn_view_peek(c->sb, k, &oom);
    if (oom)
        return tefINTERNAL;
    if (!rel) {
        uint64_t reserve = jn_reserve(c->env, jn_read_owner_count(mr) + 1);
        if (jn_read_balance(mr) < (int64_t)reserve)
            return tecINSUFFICIENT_RESERVE;
        if (!(rel = jn_new_entry(c, "TrustState")))
            return tefINTERNAL;
        set_acct(c, rel, FLD("Account"), &c->account);
        set_acct(c, rel, FLD("Target"), &target);
        set_u(c, rel, FLD("RelationType"), type);
        set_u(c, rel, FLD("Flags"), 0);
        set_u(c, rel, FLD("OwnerNode"), 0);
        set_amt(c, rel, FLD("LimitAmount"), &lim);
        if (c->oom || jn_view_insert(c->sb, k, rel) || jn_owner_dir_add(c, &c->account, k))
            return tefINTERNAL;
        jn_adjust_owner_count(c, &c->account, +1);
    } else {
        set_amt(c, rel, FLD("LimitAmount"), &lim);
    }
    return c->oom ? tefINTERNAL : tesSUCCESS;
}

int jn_relation_del_apply(jn_txctx *c)
{
    jt_account_id target;
    jt_amount lim;
    if (jt_obj_get_account_f(c->tx, FLD("Target"), &target) != JT_OK ||
        !get_amount(c->tx, FLD("LimitAmount"), &lim))
        return temMALFORMED;
    uint32_t type = (uint32_t)get_u(c->tx, FLD("RelationType"), 0);
    uint8_t k[32];
    jn_id_relation(&c->account, &target, type, &lim.currency, k);
    if (!jn_view_read(c->sb, k))
        return tecNO_ENTRY;
    if (jn_owner_dir_remove(c, &c->account, k) || jn_view_erase(c->sb, k))
        return tefINTERNAL;
    jn_adjust_owner_count(c, &c->account, -1);
    return c->oom ? tefINTERNAL : tesSUCCESS;
}

/* ---------------------------------------------------------------- OfferCreate, OfferCancel */

/* Deletes the offer `key` (if it exists) from the ledger and both its
 * directories. 0, or -1 on a malformed offer or ENOMEM. */
static int offer_delete(jn_txctx *c, const uint8_t key[32])
{
    const jt_obj *o = jn_view_read(c->sb, key);
    if (!o)
        return 0;
    jt_account_id owner;
    const uint8_t *book;
    size_t n;
    if (jt_obj_get_account_f(o, FLD("Account"), &owner) != JT_OK ||
        jt_obj_get_bytes_f(o, FLD("BookDirectory"), &book, &n) != JT_OK || n != 32)
        return -1;
    uint8_t bk[32];
    memcpy(bk, book, 32);
    if (jn_book_dir_remove(c, bk, key) || jn_owner_dir_remove(c, &owner, key) ||
        jn_view_erase(c->sb, key))
        return -1;
    jn_adjust_owner_count(c, &owner, -1);
    return c->oom ? -1 : 0;
}

int jn_offer_create_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~(TF_FULLY_CANONICAL | TF_PASSIVE | TF_IOC | TF_FOK | TF_SELL))
        return temINVALID_FLAG;
    if ((flags & TF_IOC) && (flags & TF_FOK))
        return temINVALID_FLAG;
    jt_amount pays, gets;
    if (!get_amount(tx, FLD("TakerPays"), &pays) || !get_amount(tx, FLD("TakerGets"), &gets))
        return temMALFORMED;
    if (pays.native && gets.native)
        return temBAD_OFFER;
    if (jn_amt_sign(&pays) <= 0 || jn_amt_sign(&gets) <= 0)
        return temBAD_OFFER;
    if ((pays.native && pays.mantissa > JT_MAX_TX_DROPS) ||
        (gets.native && gets.mantissa > JT_MAX_TX_DROPS))
        return temBAD_OFFER;
    if (bad_currency(&pays) || bad_currency(&gets))
        return temBAD_CURRENCY;
    if (!pays.native && !gets.native && !memcmp(&pays.currency, &gets.currency, 20) &&
        same_account(&pays.issuer, &gets.issuer))
        return temREDUNDANT;
    if (jt_obj_has_f(tx, FLD("Expiration")) && get_u(tx, FLD("Expiration"), 0) == 0)
        return temBAD_EXPIRATION;
    if (jt_obj_has_f(tx, FLD("OfferSequence")) && get_u(tx, FLD("OfferSequence"), 0) == 0)
        return temBAD_SEQUENCE;
    return tesSUCCESS;
}

int jn_offer_create_apply(jn_txctx *c)
{
    uint32_t flags = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    jt_amount pays, gets;
    if (!get_amount(c->tx, FLD("TakerPays"), &pays) || !get_amount(c->tx, FLD("TakerGets"), &gets))
        return temMALFORMED;
    uint32_t seq = (uint32_t)get_u(c->tx, FLD("Sequence"), 0);
    if (jt_obj_has_f(c->tx, FLD("OfferSequence"))) {
        uint8_t k[32];
        jn_id_offer(&c->account, (uint32_t)get_u(c->tx, FLD("OfferSequence"), 0), k);
        if (offer_delete(c, k))
            return tefINTERNAL;
    }
    if (jt_obj_has_f(c->tx, FLD("Expiration")) &&
        get_u(c->tx, FLD("Expiration"), 0) <= c->env->parent_close_time)
        return tesSUCCESS; /* already expired: nothing to place */
    if (!pays.native && !read_account(c, &pays.issuer))
        return tecNO_ISSUER;
    if (!gets.native && !read_account(c, &gets.issuer))
        return tecNO_ISSUER;
    if (!gets.native && jn_tx_frozen(c, &c->account, &gets.issuer, &gets.currency))
        return tecFROZEN;
    jt_amount funds;
    if (jn_tx_funds(c, &c->account, &gets, &funds) && jn_amt_sign(&funds) <= 0)
        return tecUNFUNDED_OFFER;
    if (!pays.native && !jn_tx_authorized(c, &c->account, &pays.issuer, &pays.currency, NULL))
        return tecNO_AUTH;
    if (flags & (TF_IOC | TF_FOK))
        return tesSUCCESS; /* no crossing on this node: nothing would fill */
    jt_obj *mr = peek_account(c, &c->account);
    if (!mr)
        return tefINTERNAL;
    uint64_t reserve = jn_reserve(c->env, jn_read_owner_count(mr) + 1);
    if (c->prior_balance < (int64_t)reserve)
        return tecINSUF_RESERVE_OFFER;
    uint64_t q = jn_amt_quality(&pays, &gets);
    uint8_t book[32], key[32];
    jn_id_book_base(&pays.currency, &pays.issuer, &gets.currency, &gets.issuer, book);
    for (int i = 0; i < 8; i++)
        book[24 + i] = (uint8_t)(q >> (56 - 8 * i));
    jn_id_offer(&c->account, seq, key);
    jt_obj *o = jn_new_entry(c, "Offer");
    if (!o)
        return tefINTERNAL;
    set_acct(c, o, FLD("Account"), &c->account);
    set_u(c, o, FLD("Sequence"), seq);
    set_amt(c, o, FLD("TakerPays"), &pays);
    set_amt(c, o, FLD("TakerGets"), &gets);
    set_bytes(c, o, FLD("BookDirectory"), book, 32);
    set_u(c, o, FLD("BookNode"), 0);
    set_u(c, o, FLD("OwnerNode"), 0);
    set_u(c, o, FLD("Flags"),
          ((flags & TF_PASSIVE) ? LSF_OFFER_PASSIVE : 0) | ((flags & TF_SELL) ? LSF_OFFER_SELL : 0));
    if (jt_obj_has_f(c->tx, FLD("Expiration")))
        set_u(c, o, FLD("Expiration"), get_u(c->tx, FLD("Expiration"), 0));
    if (c->oom || jn_view_insert(c->sb, key, o))
        return tefINTERNAL;
    if (jn_book_dir_add(c, book, key, &pays, &gets, q) || jn_owner_dir_add(c, &c->account, key))
        return tefINTERNAL;
    jn_adjust_owner_count(c, &c->account, +1);
    return c->oom ? tefINTERNAL : tesSUCCESS;
}

int jn_offer_cancel_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~TF_FULLY_CANONICAL)
        return temINVALID_FLAG;
    uint64_t s = get_u(tx, FLD("OfferSequence"), 0);
    if (!s || s >= get_u(tx, FLD("Sequence"), 0))
        return temBAD_SEQUENCE;
    return tesSUCCESS;
}

int jn_offer_cancel_apply(jn_txctx *c)
{
    uint8_t k[32];
    jn_id_offer(&c->account, (uint32_t)get_u(c->tx, FLD("OfferSequence"), 0), k);
    return offer_delete(c, k) ? tefINTERNAL : tesSUCCESS;
}
