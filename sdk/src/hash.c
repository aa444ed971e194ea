/* hash.c — SHA-512Half, SHA-256 and RIPEMD-160: OpenSSL's digests, or
 * libsodium's SHA-2 and OpenSSL's EVP RIPEMD-160 where OpenSSL was built
 * without the deprecated API.
 *
 * SHA-512Half is on every hot path (transaction IDs, signing digests, the
 * ledger's hash trees); SHA-256 and RIPEMD-160 make account IDs from public
 * keys and Base58Check checksums, both once or twice per transaction.
 * OpenSSL has assembly for current x86 and ARM cores (SHA extensions where
 * the CPU has them): its SHA-512 is about 1.6 times libsodium's portable
 * code on the 100–500 byte messages of a ledger and its SHA-256 about 4
 * times on a public key. The context API (deprecated, not removed, in 3.x)
 * is used because the EVP one-shot calls look up the algorithm on every
 * call, which costs more than hashing 33 bytes and takes a lock shared by
 * every thread. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ripemd.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "internal.h"
#include "jt/hash.h"

#if defined(OPENSSL_NO_DEPRECATED_3_0) || !defined(SHA512_DIGEST_LENGTH)
#define JT_SHA512_SODIUM 1
typedef crypto_hash_sha512_state sha512_state;
#define SHA_INIT(s) crypto_hash_sha512_init(s)
#define SHA_UPDATE(s, d, n) crypto_hash_sha512_update(s, d, n)
#define SHA_FINAL(s, out) crypto_hash_sha512_final(s, out)
#else
typedef SHA512_CTX sha512_state;
#define SHA_INIT(s) SHA512_Init(s)
#define SHA_UPDATE(s, d, n) SHA512_Update(s, d, n)
#define SHA_FINAL(s, out) SHA512_Final(out, s)
#endif

_Static_assert(sizeof(((jt_sha512half_ctx *)0)->state) >= sizeof(sha512_state),
               "jt_sha512half_ctx too small");

void jt_sha512half(const void *data, size_t len, uint8_t out[32])
{
    sha512_state s;
    uint8_t full[64];
    SHA_INIT(&s);
    SHA_UPDATE(&s, data, len);
    SHA_FINAL(&s, full);
    memcpy(out, full, 32);
    /* Seeds and keys are hashed here too: leave nothing of them behind. */
    sodium_memzero(&s, sizeof s);
    sodium_memzero(full, sizeof full);
}

void jt_sha512half_prefixed(uint32_t prefix, const void *data, size_t len, uint8_t out[32])
{
    jt_sha512half_ctx c;
    uint8_t p[4];
    jt__put_u32(p, prefix);
    jt_sha512half_init(&c);
    jt_sha512half_update(&c, p, 4);
    jt_sha512half_update(&c, data, len);
    jt_sha512half_final(&c, out);
}

void jt_sha512half_init(jt_sha512half_ctx *c)
{
    SHA_INIT((sha512_state *)(void *)c->state);
}

void jt_sha512half_update(jt_sha512half_ctx *c, const void *data, size_t len)
{
    SHA_UPDATE((sha512_state *)(void *)c->state, data, len);
}

void jt_sha512half_final(jt_sha512half_ctx *c, uint8_t out[32])
{
    uint8_t full[64];
    SHA_FINAL((sha512_state *)(void *)c->state, full);
    memcpy(out, full, 32);
    sodium_memzero(c->state, sizeof c->state);
    sodium_memzero(full, sizeof full);
}

void jt_sha256(const void *data, size_t len, uint8_t out[32])
{
#ifdef JT_SHA512_SODIUM
    crypto_hash_sha256(out, data, len);
#else
    SHA256_CTX s;
    SHA256_Init(&s);
    SHA256_Update(&s, data, len);
    SHA256_Final(out, &s);
    sodium_memzero(&s, sizeof s);
#endif
}

jt_err jt_ripemd160(const void *data, size_t len, uint8_t out[20])
{
#if defined(JT_SHA512_SODIUM) || !defined(RIPEMD160_DIGEST_LENGTH)
    unsigned int n = 0;
    /* OpenSSL 3 serves RIPEMD-160 from its default provider (3.0.7+). */
    if (EVP_Digest(data, len, out, &n, EVP_ripemd160(), NULL) != 1 || n != 20)
        return JT_ECRYPTO;
#else
    RIPEMD160_CTX s;
    if (RIPEMD160_Init(&s) != 1 || RIPEMD160_Update(&s, data, len) != 1 ||
        RIPEMD160_Final(out, &s) != 1) {
        sodium_memzero(&s, sizeof s);
        return JT_ECRYPTO;
    }
    sodium_memzero(&s, sizeof s);
#endif
    return JT_OK;
}
