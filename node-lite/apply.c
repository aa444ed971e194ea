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
    {JT_TX_BROKERAGE, jn_brokerage_preflight, jn_brokerage_apply},
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
        return JT_temMALFORMED;
    if (!memcmp(&a, &JT_ACCOUNT_ZERO, 20) || !memcmp(&a, &JT_ACCOUNT_ONE, 20))
        return JT_temBAD_SRC_ACCOUNT;
    if (jt_obj_has_f(tx, FLD("Signers")))
        return JT_temUNKNOWN; /* multi-signing: not on this node yet */
    const jn_transactor *t = find_transactor(tx);
    if (!t)
        return JT_temUNKNOWN;
    jt_amount fee;
    if (!get_amount(tx, FLD("Fee"), &fee))
        return JT_temMALFORMED;
    if (!fee.native || fee.negative || fee.mantissa > JT_MAX_TX_DROPS)
        return JT_temBAD_FEE;
    int r = t->preflight(tx, (uint32_t)get_u(tx, FLD("Flags"), 0));
    if (r)
        return r;
    if (fee.mantissa < env->base_fee)
        return JT_telINSUF_FEE_P;
    return JT_tesSUCCESS;
}

/* ---------------------------------------------------------------- apply */

/* Fee and sequence: the part of a transaction that happens even on tec. */
static int claim_fee(jn_txctx *c)
{
    jt_obj *r = peek_account(c, &c->account);
    if (!r)
        return JT_tefINTERNAL;
    set_balance(c, r, c->prior_balance - c->fee);
    set_u(c, r, FLD("Sequence"), get_u(r, FLD("Sequence"), 0) + 1);
    return c->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
}

void jn_txmemo_fill(jn_txmemo *memo, const jt_obj *tx)
{
    jt_account_id a;
    const uint8_t *pk;
    size_t pklen;
    if (!memo->have_signer && jt_obj_get_bytes_f(tx, FLD("SigningPubKey"), &pk, &pklen) == JT_OK &&
        jt_account_id_from_pubkey(pk, pklen, &memo->signer) == JT_OK)
        memo->have_signer = true;
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
    out->ter = 0;
    jt_buf_init(&out->meta_bin);
    out->accts.n = 0;
    out->fee = 0;
    out->fast = false;
    /* Preflight depends on the transaction and the base fee only. */
    int r;
    if (memo && memo->preflight_ok && memo->preflight_fee == env->base_fee) {
        r = JT_tesSUCCESS;
    } else {
        r = jn_preflight(tx, env);
        if (memo && r == JT_tesSUCCESS) {
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
        return out->ter = JT_temMALFORMED;
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
        return out->ter = JT_terNO_ACCOUNT;
    uint64_t aseq = get_u(root, FLD("Sequence"), 0), tseq = get_u(tx, FLD("Sequence"), 0);
    if (tseq < aseq)
        return out->ter = JT_tefPAST_SEQ;
    if (tseq > aseq)
        return out->ter = JT_terPRE_SEQ;
    if (jt_obj_has_f(tx, FLD("LastLedgerSequence")) && get_u(tx, FLD("LastLedgerSequence"), 0) < env->ledger_seq)
        return out->ter = JT_tefMAX_LEDGER;
    /* Who signed: the master key (unless disabled) or the regular key. */
    const uint8_t *pk;
    size_t pklen;
    jt_account_id signer, regular;
    if (memo && memo->have_signer) {
        signer = memo->signer;
    } else {
        if (jt_obj_get_bytes_f(tx, FLD("SigningPubKey"), &pk, &pklen) != JT_OK ||
            jt_account_id_from_pubkey(pk, pklen, &signer) != JT_OK)
            return out->ter = JT_tefBAD_AUTH;
        if (memo) {
            memo->signer = signer;
            memo->have_signer = true;
        }
    }
    uint32_t aflags = (uint32_t)get_u(root, FLD("Flags"), 0);
    if (same_account(&signer, &c.account)) {
        if (aflags & JT_LSF_DISABLE_MASTER)
            return out->ter = JT_tefMASTER_DISABLED;
    } else if (jt_obj_get_account_f(root, FLD("RegularKey"), &regular) != JT_OK ||
               !same_account(&signer, &regular)) {
        return out->ter = JT_tefBAD_AUTH;
    }
    c.prior_balance = jn_read_balance(root);
    if (c.prior_balance < c.fee)
        return out->ter = JT_terINSUF_FEE_B;

    if (jn_fast_payment(view, env, &c, index, out))
        return out->ter;
    const jn_transactor *t = find_transactor(tx);
    r = claim_fee(&c);
    if (!r)
        r = t->apply(&c);
    if (r != JT_tesSUCCESS && jt_ter_is_claimed(r)) {
        /* tec: undo everything but the fee and the sequence. */
        jn_view_clear(&sb);
        jn_view_init(&sb, view, NULL);
        c.has_delivered = false;
        c.oom = false;
        int r2 = claim_fee(&c);
        if (r2)
            r = r2;
    }
    if (!jt_ter_is_claimed(r)) {
        jn_view_clear(&sb);
        return out->ter = r;
    }
    jn_meta_thread(&c);
    if (c.oom || (!env->no_meta && jn_meta_bytes(&c, r, index, &out->meta_bin, &out->accts)) ||
        jn_view_merge(&sb)) {
        jt_buf_clear(&out->meta_bin);
        out->accts.n = 0;
        jn_view_clear(&sb);
        return out->ter = JT_tefINTERNAL;
    }
    out->fee = c.fee;
    return out->ter = r;
}
