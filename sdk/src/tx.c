/* tx.c — transaction signing data, signatures, IDs, multi-signing (§3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_obj.h"
#include "jt/base58.h"
#include "jt/hash.h"
#include "jt/tx.h"
#include "jt/util.h"

static const jt_field *field(const char *name)
{
    return jt_field_by_name(name);
}

/* Appends the 4-byte prefix then the signing serialization. */
static jt_err signing_data(const jt_obj *tx, uint32_t prefix, jt_buf *out)
{
    uint8_t p[4];
    jt__put_u32(p, prefix);
    jt_err e = jt_buf_append(out, p, 4);
    return e ? e : jt_obj_to_binary(tx, JT_SER_SIGNING, out);
}

jt_err jt_tx_signing_data(const jt_obj *tx, jt_buf *out)
{
    return signing_data(tx, JT_PREFIX_STX, out);
}

jt_err jt_tx_multisign_data(const jt_obj *tx, const jt_account_id *signer, jt_buf *out)
{
    jt_err e = signing_data(tx, JT_PREFIX_SMT, out);
    return e ? e : jt_buf_append(out, signer->bytes, 20);
}

/* Who signs: a key pair the caller holds, or a key in guarded memory. */
typedef struct key_src {
    const jt_keypair *kp;
    jt_secret_key *sk;
    const uint8_t *pub; /* 33 bytes */
} key_src;

static jt_err signer_sign(const key_src *k, const uint8_t *msg, size_t len, uint8_t sig[JT_SIG_MAX],
                          size_t *siglen)
{
    return k->sk ? jt_secret_sign(k->sk, msg, len, sig, siglen)
                 : jt_sign(k->kp, msg, len, sig, siglen);
}

static jt_err tx_sign(jt_obj *tx, const key_src *k, jt_errinfo *ei)
{
    const jt_field *spk = field("SigningPubKey"), *sig = field("TxnSignature");
    /* SigningPubKey is part of the signed data: set it first, keeping the old
     * value so that a failure changes nothing. */
    const jt__member *old = jt__obj_find(tx, spk);
    uint8_t small[33];
    uint8_t *oldkey = small;
    size_t oldlen = 0;
    bool had = old != NULL;
    if (had) {
        oldlen = old->v.bytes.n;
        /* The setter reuses the old storage, so keep a copy to restore. */
        if (oldlen > sizeof small && !(oldkey = malloc(oldlen)))
            return jt__err(ei, JT_ENOMEM, "SigningPubKey", -1, NULL);
        memcpy(oldkey, old->v.bytes.p, oldlen);
    }
    jt_err e = jt__obj_set_bytes_f(tx, spk, k->pub, 33);
    if (e) {
        if (oldkey != small)
            free(oldkey);
        return jt__err(ei, e, "SigningPubKey", -1, NULL);
    }

    jt_buf b;
    jt_buf_init(&b);
    uint8_t s[JT_SIG_MAX];
    size_t slen = 0;
    e = jt_tx_signing_data(tx, &b);
    if (!e)
        e = signer_sign(k, b.data, b.len, s, &slen);
    jt_buf_clear(&b);
    if (!e)
        e = jt__obj_set_bytes_f(tx, sig, s, slen);
    if (e) {
        if (had)
            (void)jt__obj_set_bytes_f(tx, spk, oldkey, oldlen);
        else
            (void)jt_obj_remove(tx, "SigningPubKey");
    }
    if (oldkey != small)
        free(oldkey);
    if (e)
        return jt__err(ei, e, "TxnSignature", -1, "signing failed: %s", jt_strerror(e));
    return JT_OK;
}

jt_err jt_tx_sign(jt_obj *tx, const jt_keypair *kp, jt_errinfo *ei)
{
    if (!tx || !kp)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_tx_sign: NULL argument");
    key_src k = {.kp = kp, .pub = kp->pub};
    return tx_sign(tx, &k, ei);
}

static jt_err jt_tx_sign_secret__impl(jt_obj *tx, jt_secret_key *sk, jt_errinfo *ei)
{
    if (!tx || !sk)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_tx_sign_secret: NULL argument");
    key_src k = {.sk = sk, .pub = jt_secret_key_public(sk)};
    return tx_sign(tx, &k, ei);
}

/* The work above runs in frames below this one; what it left on the
 * stack (copies of key material in library code that does not wipe)
 * is cleared before returning. */
jt_err jt_tx_sign_secret(jt_obj *tx, jt_secret_key *sk, jt_errinfo *ei)
{
    jt_err e = jt_tx_sign_secret__impl(tx, sk, ei);
    jt__scrub_stack();
    return e;
}

void jt_tx_blob_id(const uint8_t *blob, size_t len, uint8_t hash[32])
{
    jt_sha512half_prefixed(JT_PREFIX_TXN, blob, len, hash);
}

jt_err jt_tx_id(const jt_obj *tx, uint8_t hash[32])
{
    jt_buf b;
    jt_buf_init(&b);
    jt_err e = jt_obj_to_binary(tx, 0, &b);
    if (!e)
        jt_tx_blob_id(b.data, b.len, hash);
    jt_buf_clear(&b);
    return e;
}

static jt_err verify_one(jt_key_cache *cache, const jt_obj *tx, const uint8_t *pub, size_t publen,
                         const uint8_t *sig, size_t siglen, const jt_account_id *signer,
                         unsigned flags, jt_errinfo *ei, const char *who)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_err e = signer ? jt_tx_multisign_data(tx, signer, &b) : jt_tx_signing_data(tx, &b);
    if (!e)
        e = jt_verify_cached(cache, pub, publen, b.data, b.len, sig, siglen, flags);
    jt_buf_clear(&b);
    if (e)
        return jt__err(ei, e, "TxnSignature", -1, "%s: %s", who, jt_strerror(e));
    return JT_OK;
}

jt_err jt_tx_verify(const jt_obj *tx, jt_errinfo *ei)
{
    return jt_tx_verify_cached(tx, NULL, ei);
}

jt_err jt_tx_verify_cached(const jt_obj *tx, jt_key_cache *cache, jt_errinfo *ei)
{
    const jt__member *spk = jt__obj_find(tx, field("SigningPubKey"));
    const jt__member *sig = jt__obj_find(tx, field("TxnSignature"));
    const jt__member *signers = jt__obj_find(tx, field("Signers"));
    const jt__member *fl = jt__obj_find(tx, field("Flags"));
    unsigned flags = fl && (fl->v.u & JT_TF_FULLY_CANONICAL_SIG) ? JT_VERIFY_REQUIRE_LOW_S : 0;

    if (!spk)
        return jt__err(ei, JT_ENOT_SIGNED, "SigningPubKey", -1, "transaction has no SigningPubKey");
    if (spk->v.bytes.n > 0) {
        if (!sig)
            return jt__err(ei, JT_ENOT_SIGNED, "TxnSignature", -1,
                           "transaction has no TxnSignature");
        return verify_one(cache, tx, spk->v.bytes.p, spk->v.bytes.n, sig->v.bytes.p, sig->v.bytes.n,
                          NULL, flags, ei, "signature");
    }
    /* Multi-signed: empty SigningPubKey, one Signer per signing account. */
    if (!signers || signers->v.arr.n == 0)
        return jt__err(ei, JT_ENOT_SIGNED, "Signers", -1,
                       "SigningPubKey is empty and there are no Signers");
    for (size_t i = 0; i < signers->v.arr.n; i++) {
        const jt_obj *s = signers->v.arr.items[i];
        char who[64];
        snprintf(who, sizeof who, "Signers[%zu]", i);
        const jt__member *acc = jt__obj_find(s, field("Account"));
        const jt__member *pk = jt__obj_find(s, field("SigningPubKey"));
        const jt__member *sg = jt__obj_find(s, field("TxnSignature"));
        if (!acc || !pk || !sg || strcmp(s->wrapper->name, "Signer") != 0)
            return jt__err(ei, JT_ENOT_SIGNED, who, -1,
                           "%s needs Account, SigningPubKey and TxnSignature", who);
        jt_account_id derived;
        jt_err e = jt_account_id_from_pubkey(pk->v.bytes.p, pk->v.bytes.n, &derived);
        if (e)
            return jt__err(ei, JT_EKEY, who, -1, "%s: malformed SigningPubKey", who);
        if (memcmp(derived.bytes, acc->v.acct.bytes, 20) != 0)
            return jt__err(ei, JT_ESIG_INVALID, who, -1,
                           "%s: SigningPubKey does not belong to Account", who);
        e = verify_one(cache, tx, pk->v.bytes.p, pk->v.bytes.n, sg->v.bytes.p, sg->v.bytes.n,
                       &acc->v.acct, flags, ei, who);
        if (e)
            return e;
    }
    return JT_OK;
}

static jt_err tx_multisign(jt_obj *tx, const key_src *k, const jt_account_id *signer,
                           jt_errinfo *ei)
{
    const jt_field *spk = field("SigningPubKey");
    jt_err e = jt__obj_set_bytes_f(tx, spk, NULL, 0);
    if (e)
        return jt__err(ei, e, "SigningPubKey", -1, NULL);
    jt_buf b;
    jt_buf_init(&b);
    uint8_t s[JT_SIG_MAX];
    size_t slen = 0;
    e = jt_tx_multisign_data(tx, signer, &b);
    if (!e)
        e = signer_sign(k, b.data, b.len, s, &slen);
    jt_buf_clear(&b);
    if (e)
        return jt__err(ei, e, "Signers", -1, "multi-signing failed: %s", jt_strerror(e));

    jt_obj *item = jt__obj_child(tx->arena);
    if (!item)
        return jt__err(ei, JT_ENOMEM, "Signers", -1, NULL);
    item->wrapper = field("Signer");
    jt__member *m;
    if (!(m = jt__obj_slot(item, field("Account"))))
        return jt__err(ei, JT_ENOMEM, "Signers", -1, NULL);
    m->v.acct = *signer;
    if ((e = jt__obj_set_bytes_f(item, spk, k->pub, 33)) ||
        (e = jt__obj_set_bytes_f(item, field("TxnSignature"), s, slen)))
        return jt__err(ei, e, "Signers", -1, NULL);

    /* Replace this signer's entry or insert it so Signers stays sorted by
     * AccountID, as the network requires. */
    jt__member *arr = jt__obj_slot(tx, field("Signers"));
    if (!arr)
        return jt__err(ei, JT_ENOMEM, "Signers", -1, NULL);
    size_t pos = 0;
    for (; pos < arr->v.arr.n; pos++) {
        const jt__member *a = jt__obj_find(arr->v.arr.items[pos], field("Account"));
        int c = a ? memcmp(a->v.acct.bytes, signer->bytes, 20) : -1;
        if (c == 0) {
            arr->v.arr.items[pos] = item;
            return JT_OK;
        }
        if (c > 0)
            break;
    }
    if ((e = jt__arr_push(tx, arr, item)))
        return jt__err(ei, e, "Signers", -1, NULL);
    memmove(&arr->v.arr.items[pos + 1], &arr->v.arr.items[pos],
            (arr->v.arr.n - 1 - pos) * sizeof(jt_obj *));
    arr->v.arr.items[pos] = item;
    return JT_OK;
}

jt_err jt_tx_multisign(jt_obj *tx, const jt_keypair *kp, const jt_account_id *signer,
                       jt_errinfo *ei)
{
    if (!tx || !kp || !signer)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_tx_multisign: NULL argument");
    key_src k = {.kp = kp, .pub = kp->pub};
    return tx_multisign(tx, &k, signer, ei);
}

static jt_err jt_tx_multisign_secret__impl(jt_obj *tx, jt_secret_key *sk, const jt_account_id *signer,
                              jt_errinfo *ei)
{
    if (!tx || !sk)
        return jt__err(ei, JT_EINVAL, NULL, -1, "jt_tx_multisign_secret: NULL argument");
    key_src k = {.sk = sk, .pub = jt_secret_key_public(sk)};
    return tx_multisign(tx, &k, signer ? signer : jt_secret_key_account_id(sk), ei);
}

jt_err jt_tx_multisign_secret(jt_obj *tx, jt_secret_key *sk, const jt_account_id *signer,
                              jt_errinfo *ei)
{
    jt_err e = jt_tx_multisign_secret__impl(tx, sk, signer, ei);
    jt__scrub_stack();
    return e;
}
