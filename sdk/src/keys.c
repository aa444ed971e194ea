/* keys.c — seeds, secrets, key derivation and account IDs (PROTOCOL.md §2). */
#include <pthread.h>
#include <string.h>

#include <secp256k1.h>
#include <sodium.h>

#include "internal.h"
#include "jt/base58.h"
#include "jt/hash.h"
#include "jt/keys.h"
#include "jt/util.h"

static const uint8_t VER_SECP[] = {0x21};
static const uint8_t VER_ED[] = {0x01, 0xE1, 0x4B};

/* A secret is 17 or 19 bytes plus a 4-byte checksum, about 29-31 characters.
 * Anything much longer cannot be one; refusing it early bounds the work and
 * keeps the error about the secret rather than about base58 limits. */
#define SECRET_TEXT_MAX 64

/* ---- libsodium initialisation ---- */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;

static void sodium_init_once(void)
{
    /* 1 means another part of the process initialised it already: fine. */
    sodium_status = sodium_init() < 0 ? -1 : 0;
}

int jt__sodium_ready(void)
{
    if (pthread_once(&sodium_once, sodium_init_once) != 0)
        return -1;
    return sodium_status;
}

/* 16 KiB: deeper than signing and derivation go (libsecp256k1's signing
 * context and libsodium's ed25519 code use a few KiB). */
#define SCRUB_BYTES 16384

__attribute__((noinline)) void jt__scrub_stack(void)
{
    uint8_t buf[SCRUB_BYTES];
    sodium_memzero(buf, sizeof buf);
    /* keep the buffer (and its clearing) from being optimized away */
    __asm__ __volatile__("" : : "r"(buf) : "memory");
}

/* ---- seeds and secrets ---- */

jt_err jt_seed_generate(jt_key_type type, jt_seed *seed)
{
    if (!seed || (type != JT_KEY_SECP256K1 && type != JT_KEY_ED25519))
        return JT_EINVAL;
    if (jt__sodium_ready() != 0)
        return JT_ERANDOM;
    seed->type = type;
    randombytes_buf(seed->bytes, sizeof seed->bytes);
    return JT_OK;
}

void jt_seed_from_passphrase(const char *passphrase, jt_key_type type, jt_seed *seed)
{
    uint8_t full[crypto_hash_sha512_BYTES];
    crypto_hash_sha512(full, (const unsigned char *)passphrase, strlen(passphrase));
    seed->type = type;
    memcpy(seed->bytes, full, sizeof seed->bytes);
    sodium_memzero(full, sizeof full);
}

jt_err jt_secret_encode(const jt_seed *seed, char *out, size_t cap)
{
    if (!seed || !out)
        return JT_EINVAL;
    switch (seed->type) {
    case JT_KEY_SECP256K1:
        return jt_base58check_encode(VER_SECP, sizeof VER_SECP, seed->bytes, 16, out, cap);
    case JT_KEY_ED25519:
        return jt_base58check_encode(VER_ED, sizeof VER_ED, seed->bytes, 16, out, cap);
    }
    return JT_EINVAL;
}

/* Names what a mis-versioned string most likely is, so that "you pasted an
 * address where a secret goes" is obvious from the message. */
static const char *version_hint(const uint8_t *raw, size_t n /* version + payload */)
{
    if (n == 21 && raw[0] == 0x00)
        return " (it is an account address)";
    if (n == 34 && raw[0] == 0x1C)
        return " (it is a node public key)";
    if (n == 33 && raw[0] == 0x20)
        return " (it is a node private key)";
    return "";
}

jt_err jt_secret_decode(const char *secret, jt_seed *seed, jt_errinfo *ei)
{
    if (!secret || !seed)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no secret given");
    size_t tl = strlen(secret);
    if (tl == 0)
        return jt__err(ei, JT_ESECRET, NULL, -1, "not a Jingtum secret: the string is empty");
    if (tl > SECRET_TEXT_MAX)
        return jt__err(ei, JT_ESECRET, NULL, -1,
                       "not a Jingtum secret: %zu characters is far too long (about 29-31 "
                       "expected)",
                       tl);

    uint8_t raw[256];
    size_t n = 0;
    jt_err e = jt_base58_decode(secret, raw, sizeof raw, &n, NULL);
    if (e == JT_EBASE58_CHAR) {
        /* jt_base58_decode's own message quotes the character; for a secret
         * even one character is too much to put in a log, so only the
         * position is reported. */
        size_t pos = strspn(secret, JT_BASE58_ALPHABET);
        sodium_memzero(raw, sizeof raw);
        return jt__err(ei, JT_EBASE58_CHAR, NULL, (long)pos,
                       "secret has a character at position %zu that is not in the Jingtum "
                       "base58 alphabet",
                       pos);
    }
    if (e) {
        sodium_memzero(raw, sizeof raw);
        return jt__err(ei, JT_ESECRET, NULL, -1, "not a Jingtum secret (%s)", jt_strerror(e));
    }
    if (n < 5) {
        sodium_memzero(raw, sizeof raw);
        return jt__err(ei, JT_ESECRET, NULL, -1,
                       "not a Jingtum secret: it decodes to only %zu bytes", n);
    }

    uint8_t h1[32], h2[32];
    jt_sha256(raw, n - 4, h1);
    jt_sha256(h1, sizeof h1, h2);
    int sum_ok = sodium_memcmp(h2, raw + n - 4, 4) == 0;
    sodium_memzero(h1, sizeof h1);
    sodium_memzero(h2, sizeof h2);
    if (!sum_ok) {
        sodium_memzero(raw, sizeof raw);
        return jt__err(ei, JT_EBASE58_CHECKSUM, NULL, -1,
                       "secret checksum does not match (a character is mistyped)");
    }

    size_t body = n - 4; /* version + payload */
    jt_key_type type;
    size_t vlen;
    if (body >= sizeof VER_ED && memcmp(raw, VER_ED, sizeof VER_ED) == 0) {
        type = JT_KEY_ED25519;
        vlen = sizeof VER_ED;
    } else if (raw[0] == VER_SECP[0]) {
        type = JT_KEY_SECP256K1;
        vlen = sizeof VER_SECP;
    } else {
        uint8_t v = raw[0];
        const char *hint = version_hint(raw, body);
        sodium_memzero(raw, sizeof raw);
        return jt__err(ei, JT_ESECRET, NULL, -1,
                       "not a Jingtum secret: wrong version byte 0x%02X (expected 0x21 for "
                       "secp256k1 or 01 E1 4B for ed25519)%s",
                       v, hint);
    }
    if (body - vlen != 16) {
        size_t got = body - vlen;
        sodium_memzero(raw, sizeof raw);
        return jt__err(ei, JT_ESECRET, NULL, -1,
                       "not a Jingtum secret: wrong length: %s seed is %zu bytes, expected 16",
                       type == JT_KEY_ED25519 ? "ed25519" : "secp256k1", got);
    }
    seed->type = type;
    memcpy(seed->bytes, raw + vlen, 16);
    sodium_memzero(raw, sizeof raw);
    return JT_OK;
}

/* ---- key derivation ---- */

/* scalar(data) of §2.4: the first SHA-512Half(data ‖ u32be(i)) that is a
 * valid secret key (0 < k < n). `data` is at most 37 bytes. A second round
 * happens with probability about 2^-128, so the loop bound is theoretical. */
static jt_err derive_scalar(const secp256k1_context *ctx, const uint8_t *data, size_t len,
                            uint8_t out[32])
{
    uint8_t buf[64];
    if (len + 4 > sizeof buf)
        return JT_EINVAL;
    memcpy(buf, data, len);
    jt_err e = JT_ECRYPTO;
    for (uint32_t i = 0; i < 0xFFFFFFFFu; i++) {
        jt__put_u32(buf + len, i);
        jt_sha512half(buf, len + 4, out);
        if (secp256k1_ec_seckey_verify(ctx, out)) {
            e = JT_OK;
            break;
        }
    }
    sodium_memzero(buf, sizeof buf);
    if (e)
        sodium_memzero(out, 32);
    return e;
}

static jt_err pub_compressed(const secp256k1_context *ctx, const uint8_t priv[32], uint8_t out[33])
{
    secp256k1_pubkey pk;
    size_t len = 33;
    if (!secp256k1_ec_pubkey_create(ctx, &pk, priv))
        return JT_ECRYPTO;
    if (!secp256k1_ec_pubkey_serialize(ctx, out, &len, &pk, SECP256K1_EC_COMPRESSED) || len != 33)
        return JT_ECRYPTO;
    return JT_OK;
}

static jt_err derive_secp256k1(const uint8_t seed[16], jt_keypair *kp)
{
    const secp256k1_context *ctx = jt__secp_ctx();
    if (!ctx)
        return JT_ECRYPTO;
    uint8_t root_priv[32], tweak[32], gen[37];
    jt_err e = derive_scalar(ctx, seed, 16, root_priv);
    if (!e)
        e = pub_compressed(ctx, root_priv, gen); /* root public key */
    if (!e) {
        jt__put_u32(gen + 33, 0); /* account index 0 */
        e = derive_scalar(ctx, gen, sizeof gen, tweak);
    }
    /* (root_priv + tweak) mod n; fails only if the sum is 0 mod n. */
    if (!e && !secp256k1_ec_seckey_tweak_add(ctx, root_priv, tweak))
        e = JT_ECRYPTO;
    if (!e)
        e = pub_compressed(ctx, root_priv, kp->pub);
    if (!e) {
        kp->type = JT_KEY_SECP256K1;
        memcpy(kp->priv, root_priv, 32);
    }
    sodium_memzero(root_priv, sizeof root_priv);
    sodium_memzero(tweak, sizeof tweak);
    sodium_memzero(gen, sizeof gen);
    return e;
}

static jt_err derive_ed25519(const uint8_t seed[16], jt_keypair *kp)
{
    /* libsodium wants sodium_init() before any use; it is cheap after the first. */
    if (jt__sodium_ready() != 0)
        return JT_ECRYPTO;
    uint8_t raw[32], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    jt_sha512half(seed, 16, raw);
    if (crypto_sign_seed_keypair(pk, sk, raw) != 0) {
        sodium_memzero(raw, sizeof raw);
        sodium_memzero(sk, sizeof sk);
        return JT_ECRYPTO;
    }
    kp->type = JT_KEY_ED25519;
    kp->pub[0] = 0xED;
    memcpy(kp->pub + 1, pk, 32);
    memcpy(kp->priv, raw, 32);
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(sk, sizeof sk);
    return JT_OK;
}

jt_err jt_keypair_from_seed(const jt_seed *seed, jt_keypair *kp)
{
    if (!seed || !kp)
        return JT_EINVAL;
    switch (seed->type) {
    case JT_KEY_SECP256K1: return derive_secp256k1(seed->bytes, kp);
    case JT_KEY_ED25519: return derive_ed25519(seed->bytes, kp);
    }
    return JT_EINVAL;
}

jt_err jt_keypair_from_secret(const char *secret, jt_keypair *kp, jt_errinfo *ei)
{
    jt_seed seed;
    jt_err e = jt_secret_decode(secret, &seed, ei);
    if (!e) {
        e = jt_keypair_from_seed(&seed, kp);
        if (e)
            jt__err(ei, e, NULL, -1, "cannot derive a key pair from the secret");
    }
    jt_seed_clear(&seed);
    return e;
}

/* ---- public keys and account IDs ---- */

jt_err jt_pubkey_type(const uint8_t *pub, size_t len, jt_key_type *type)
{
    if (!pub || len != 33)
        return JT_EKEY;
    if (pub[0] == 0xED) {
        *type = JT_KEY_ED25519;
        return JT_OK;
    }
    if (pub[0] == 0x02 || pub[0] == 0x03) {
        *type = JT_KEY_SECP256K1;
        return JT_OK;
    }
    return JT_EKEY;
}

jt_err jt_account_id_from_pubkey(const uint8_t *pub, size_t len, jt_account_id *id)
{
    if (!pub || len != 33)
        return JT_EKEY;
    uint8_t h[32];
    jt_sha256(pub, len, h);
    return jt_ripemd160(h, sizeof h, id->bytes);
}

jt_err jt_keypair_private_hex(const jt_keypair *kp, char *out, size_t cap)
{
    if (!kp || !out)
        return JT_EINVAL;
    if (cap < 67)
        return JT_EBUFSIZE;
    const char *prefix;
    switch (kp->type) {
    case JT_KEY_SECP256K1: prefix = "00"; break;
    case JT_KEY_ED25519: prefix = "ED"; break;
    default: return JT_EINVAL;
    }
    out[0] = prefix[0];
    out[1] = prefix[1];
    return jt_hex_encode(kp->priv, 32, out + 2, cap - 2);
}

void jt_seed_clear(jt_seed *seed)
{
    if (seed)
        sodium_memzero(seed, sizeof *seed);
}

void jt_keypair_clear(jt_keypair *kp)
{
    if (kp)
        sodium_memzero(kp, sizeof *kp);
}
