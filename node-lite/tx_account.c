/*
 * tx_account.c — the account's own settings: AccountSet (flags,
 * TransferRate, Domain, MessageKey, EmailHash, WalletLocator) and
 * SetRegularKey.
 */
#include "engine.h"

/* ---------------------------------------------------------------- AccountSet */

static uint32_t asf_to_lsf(uint64_t asf)
{
    switch (asf) {
    case 1: return JT_LSF_REQUIRE_DEST_TAG;
    case 2: return JT_LSF_REQUIRE_AUTH;
    case 3: return JT_LSF_DISALLOW_SWT;
    case 4: return JT_LSF_DISABLE_MASTER;
    case 6: return JT_LSF_NO_FREEZE;
    case 7: return JT_LSF_GLOBAL_FREEZE;
    case 8: return JT_LSF_DEFAULT_SKYWELL;
    default: return 0; /* 5 (AccountTxnID) and unknown values change no flag */
    }
}

int jn_account_set_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~(JT_TF_FULLY_CANONICAL_SIG | JT_TF_REQUIRE_DEST_TAG | JT_TF_OPTIONAL_DEST_TAG | JT_TF_REQUIRE_AUTH |
                  JT_TF_OPTIONAL_AUTH | JT_TF_DISALLOW_SWT | JT_TF_ALLOW_SWT))
        return JT_temINVALID_FLAG;
    if (((flags & JT_TF_REQUIRE_DEST_TAG) && (flags & JT_TF_OPTIONAL_DEST_TAG)) ||
        ((flags & JT_TF_REQUIRE_AUTH) && (flags & JT_TF_OPTIONAL_AUTH)) ||
        ((flags & JT_TF_DISALLOW_SWT) && (flags & JT_TF_ALLOW_SWT)))
        return JT_temINVALID_FLAG;
    uint64_t set = get_u(tx, FLD("SetFlag"), 0), clr = get_u(tx, FLD("ClearFlag"), 0);
    if (set && set == clr)
        return JT_temINVALID_FLAG;
    if (jt_obj_has_f(tx, FLD("TransferRate"))) {
        uint64_t r = get_u(tx, FLD("TransferRate"), 0);
        if (r && (r < JT_QUALITY_ONE || r > 2ull * JT_QUALITY_ONE))
            return JT_temBAD_TRANSFER_RATE;
    }
    const uint8_t *p;
    size_t n;
    if (jt_obj_get_bytes_f(tx, FLD("Domain"), &p, &n) == JT_OK && n > 256)
        return JT_telBAD_DOMAIN;
    if (jt_obj_get_bytes_f(tx, FLD("MessageKey"), &p, &n) == JT_OK && n > 33)
        return JT_temMALFORMED;
    return JT_tesSUCCESS;
}

int jn_account_set_apply(jn_txctx *c)
{
    jt_obj *r = peek_account(c, &c->account);
    if (!r)
        return JT_tefINTERNAL;
    uint32_t txf = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    uint32_t f = (uint32_t)get_u(r, FLD("Flags"), 0), nf = f;
    uint64_t set = get_u(c->tx, FLD("SetFlag"), 0), clr = get_u(c->tx, FLD("ClearFlag"), 0);
    uint32_t sf = asf_to_lsf(set), cf = asf_to_lsf(clr);

    if (txf & JT_TF_REQUIRE_DEST_TAG)
        sf |= JT_LSF_REQUIRE_DEST_TAG;
    if (txf & JT_TF_OPTIONAL_DEST_TAG)
        cf |= JT_LSF_REQUIRE_DEST_TAG;
    if (txf & JT_TF_REQUIRE_AUTH)
        sf |= JT_LSF_REQUIRE_AUTH;
    if (txf & JT_TF_OPTIONAL_AUTH)
        cf |= JT_LSF_REQUIRE_AUTH;
    if (txf & JT_TF_DISALLOW_SWT)
        sf |= JT_LSF_DISALLOW_SWT;
    if (txf & JT_TF_ALLOW_SWT)
        cf |= JT_LSF_DISALLOW_SWT;

    if ((sf & JT_LSF_REQUIRE_AUTH) && !(f & JT_LSF_REQUIRE_AUTH) && get_u(r, FLD("OwnerCount"), 0))
        return JT_tecOWNERS;
    if ((sf & JT_LSF_DISABLE_MASTER) && !jt_obj_has_f(r, FLD("RegularKey")))
        return JT_tecNO_REGULAR_KEY;
    if (cf & JT_LSF_NO_FREEZE)
        return JT_tecNO_PERMISSION; /* NoFreeze is permanent */
    nf |= sf;
    nf &= ~cf;
    if (nf != f)
        set_u(c, r, FLD("Flags"), nf);

    if (jt_obj_has_f(c->tx, FLD("TransferRate"))) {
        uint64_t rate = get_u(c->tx, FLD("TransferRate"), 0);
        if (rate == 0 || rate == JT_QUALITY_ONE) {
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
    return c->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
}

/* ---------------------------------------------------------------- SetRegularKey */

int jn_set_regular_key_preflight(const jt_obj *tx, uint32_t flags)
{
    if (flags & ~JT_TF_FULLY_CANONICAL_SIG)
        return JT_temINVALID_FLAG;
    return JT_tesSUCCESS;
}

int jn_set_regular_key_apply(jn_txctx *c)
{
    jt_obj *r = peek_account(c, &c->account);
    if (!r)
        return JT_tefINTERNAL;
    jt_account_id key;
    if (jt_obj_get_account_f(c->tx, FLD("RegularKey"), &key) == JT_OK) {
        set_acct(c, r, FLD("RegularKey"), &key);
    } else {
        if (get_u(r, FLD("Flags"), 0) & JT_LSF_DISABLE_MASTER)
            return JT_tecMASTER_DISABLED;
        if (jt_obj_has_f(r, FLD("RegularKey")) && jt_obj_remove(r, "RegularKey") != JT_OK)
            c->oom = true;
    }
    return c->oom ? JT_tefINTERNAL : JT_tesSUCCESS;
}
