/* sign.c — ECDSA-secp256k1 and Ed25519 signatures (PROTOCOL.md §3). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>
#include <sodium.h>

#include "internal.h"
#include "jt/hash.h"
#include "jt/sign.h"

/* ---- the process-wide libsecp256k1 context ---- */

static pthread_once_t secp_once = PTHREAD_ONCE_INIT;
static secp256k1_context *secp_ctx;

static void secp_create(void)
{
    secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!c)
        return;
    /* Blinding protects the signing key against side channels. Without a
     * working RNG we refuse to hand out a context at all rather than run
     * unblinded. Randomizing is the only mutation; afterwards the context is
     * used read-only, which libsecp256k1 allows from any thread. */
    uint8_t seed[32];
    if (jt__sodium_ready() != 0) {
        secp256k1_context_destroy(c);
        return;
    }
    randombytes_buf(seed, sizeof seed);
    int ok = secp256k1_context_randomize(c, seed);
    sodium_memzero(seed, sizeof seed);
    if (!ok) {
        secp256k1_context_destroy(c);
        return;
    }
    secp_ctx = c;
}

const struct secp256k1_context_struct *jt__secp_ctx(void)
{
    if (pthread_once(&secp_once, secp_create) != 0)
        return NULL;
    return secp_ctx;
}

/* ---- strict DER (BIP 66 plus range checks) ---- */

/* The group order n, big-endian. */
static const uint8_t ORDER_N[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
};

/* One minimally encoded, positive, non-zero INTEGER below n. */
static bool der_int_ok(const uint8_t *p, size_t len)
{
    if (len == 0 || len > 33)
        return false;
    if (p[0] & 0x80) /* negative */
        return false;
    if (p[0] == 0x00) {
        if (len == 1) /* zero */
            return false;
        if (!(p[1] & 0x80)) /* a leading zero that is not needed */
            return false;
        p++;
        len--;
    }
    if (len > 32)
        return false;
    if (len < 32)
        return true; /* fewer than 32 significant bytes, non-zero: 0 < v < n */
    return memcmp(p, ORDER_N, 32) < 0;
}

/* libsecp256k1's DER parser accepts BER-ish variations (long-form lengths,
 * padding, oversized integers), which would make signatures malleable on
 * the wire. rippled requires the exact form libsecp256k1 produces:
 *   30 L 02 Lr r 02 Ls s   with short-form lengths and nothing after. */
static bool der_is_strict(const uint8_t *sig, size_t len)
{
    if (len < 8 || len > 72)
        return false;
    if (sig[0] != 0x30 || sig[1] != len - 2)
        return false;
    if (sig[2] != 0x02)
        return false;
    size_t lr = sig[3];
    if (lr == 0 || 4 + lr + 2 > len)
        return false;
    if (sig[4 + lr] != 0x02)
        return false;
    size_t ls = sig[5 + lr];
    if (ls == 0 || 6 + lr + ls != len) /* exact: no trailing bytes */
        return false;
    return der_int_ok(sig + 4, lr) && der_int_ok(sig + 6 + lr, ls);
}

/* ---- signing ---- */

jt_err jt_sign_digest(const jt_keypair *kp, const uint8_t digest[32], uint8_t sig[JT_SIG_MAX],
                      size_t *siglen)
{
    if (!kp || kp->type != JT_KEY_SECP256K1)
        return JT_EKEY;
    const secp256k1_context *ctx = jt__secp_ctx();
    if (!ctx)
        return JT_ECRYPTO;
    secp256k1_ecdsa_signature s;
    /* NULL nonce function = RFC 6979, which makes the bytes match the JS
     * libraries; libsecp256k1 always produces low S. */
    if (!secp256k1_ecdsa_sign(ctx, &s, digest, kp->priv, NULL, NULL))
        return JT_EKEY; /* the only failure: priv is 0 or ≥ n */
    size_t n = JT_SIG_MAX;
    if (!secp256k1_ecdsa_signature_serialize_der(ctx, sig, &n, &s))
        return JT_ECRYPTO;
    *siglen = n;
    return JT_OK;
}

jt_err jt_sign(const jt_keypair *kp, const uint8_t *msg, size_t len, uint8_t sig[JT_SIG_MAX],
               size_t *siglen)
{
    if (!kp)
        return JT_EKEY;
    if (kp->type == JT_KEY_SECP256K1) {
        uint8_t digest[32];
        jt_sha512half(msg, len, digest);
        return jt_sign_digest(kp, digest, sig, siglen);
    }
    if (kp->type != JT_KEY_ED25519 || kp->pub[0] != 0xED)
        return JT_EKEY;
    if (jt__sodium_ready() != 0)
        return JT_ECRYPTO;
    /* libsodium's secret key is seed ‖ public key; the public half is used
     * as is, so a keypair whose halves disagree would sign garbage. Key pairs
     * come from jt_keypair_from_seed, which keeps them consistent. */
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    memcpy(sk, kp->priv, 32);
    memcpy(sk + 32, kp->pub + 1, 32);
    unsigned long long n = 0;
    int rc = crypto_sign_detached(sig, &n, msg, len, sk);
    sodium_memzero(sk, sizeof sk);
    if (rc != 0 || n != crypto_sign_BYTES)
        return JT_ECRYPTO;
    *siglen = (size_t)n;
    return JT_OK;
}

/* ---- verification ---- */

/* ---- parsed public keys, cached ---- */

typedef struct key_slot {
    uint8_t key[33];
    bool used;
    secp256k1_pubkey pk;
} key_slot;

struct jt_key_cache {
    size_t mask;
    key_slot slots[];
};

jt_key_cache *jt_key_cache_new(size_t entries)
{
    size_t n = 16;
    while (n < entries && n < ((size_t)1 << 24))
        n <<= 1;
    jt_key_cache *c = calloc(1, sizeof *c + n * sizeof(key_slot));
    if (c)
        c->mask = n - 1;
    return c;
}

void jt_key_cache_free(jt_key_cache *c)
{
    free(c);
}

/* Parses a compressed key, through the cache when there is one. The key's
 * x coordinate is uniformly distributed, so its first bytes are the index. */
static bool parse_pubkey(const secp256k1_context *ctx, jt_key_cache *c, const uint8_t *pub,
                         secp256k1_pubkey *out)
{
    if (!c)
        return secp256k1_ec_pubkey_parse(ctx, out, pub, 33);
    uint64_t h;
    memcpy(&h, pub + 1, sizeof h);
    key_slot *s = &c->slots[h & c->mask];
    if (s->used && !memcmp(s->key, pub, 33)) {
        *out = s->pk;
        return true;
    }
    if (!secp256k1_ec_pubkey_parse(ctx, out, pub, 33))
        return false;
    memcpy(s->key, pub, 33);
    s->pk = *out;
    s->used = true;
    return true;
}

static jt_err verify_digest(jt_key_cache *cache, const uint8_t *pub, size_t publen,
                            const uint8_t digest[32], const uint8_t *sig, size_t siglen,
                            unsigned flags)
{
    if (!pub || publen != 33 || (pub[0] != 0x02 && pub[0] != 0x03))
        return JT_EKEY;
    const secp256k1_context *ctx = jt__secp_ctx();
    if (!ctx)
        return JT_ECRYPTO;
    secp256k1_pubkey pk;
    if (!parse_pubkey(ctx, cache, pub, &pk))
        return JT_EKEY;
    if (!sig || !der_is_strict(sig, siglen))
        return JT_ESIG_DER;
    secp256k1_ecdsa_signature s;
    if (!secp256k1_ecdsa_signature_parse_der(ctx, &s, sig, siglen))
        return JT_ESIG_DER;
    /* secp256k1_ecdsa_verify only accepts low S; skywelld accepts high S
     * unless tfFullyCanonicalSig is set, so normalise and decide here. */
    if (secp256k1_ecdsa_signature_normalize(ctx, &s, &s) && (flags & JT_VERIFY_REQUIRE_LOW_S))
        return JT_ESIG_HIGH_S;
    return secp256k1_ecdsa_verify(ctx, &s, digest, &pk) ? JT_OK : JT_ESIG_INVALID;
}

jt_err jt_verify_digest(const uint8_t *pub, size_t publen, const uint8_t digest[32],
                        const uint8_t *sig, size_t siglen, unsigned flags)
{
    return verify_digest(NULL, pub, publen, digest, sig, siglen, flags);
}

jt_err jt_verify_cached(jt_key_cache *cache, const uint8_t *pub, size_t publen, const uint8_t *msg,
                        size_t len, const uint8_t *sig, size_t siglen, unsigned flags)
{
    if (!pub || publen != 33)
        return JT_EKEY;
    if (pub[0] == 0xED) {
        if (jt__sodium_ready() != 0)
            return JT_ECRYPTO;
        if (!sig || siglen != crypto_sign_BYTES)
            return JT_ESIG_INVALID;
        if (crypto_sign_verify_detached(sig, msg, len, pub + 1) == 0)
            return JT_OK;
        /* Only on failure: tell a key that is not a usable point apart from
         * a signature that does not match. */
        return crypto_core_ed25519_is_valid_point(pub + 1) ? JT_ESIG_INVALID : JT_EKEY;
    }
    if (pub[0] != 0x02 && pub[0] != 0x03)
        return JT_EKEY;
    uint8_t digest[32];
    jt_sha512half(msg, len, digest);
    return verify_digest(cache, pub, publen, digest, sig, siglen, flags);
}

jt_err jt_verify(const uint8_t *pub, size_t publen, const uint8_t *msg, size_t len,
                 const uint8_t *sig, size_t siglen, unsigned flags)
{
    return jt_verify_cached(NULL, pub, publen, msg, len, sig, siglen, flags);
}
