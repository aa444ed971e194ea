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
