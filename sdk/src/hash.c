/* hash.c — SHA-512Half, SHA-256 (libsodium) and RIPEMD-160 (OpenSSL). */
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "internal.h"
#include "jt/hash.h"

_Static_assert(sizeof(((jt_sha512half_ctx *)0)->state) >= sizeof(crypto_hash_sha512_state),
               "jt_sha512half_ctx too small");

void jt_sha512half(const void *data, size_t len, uint8_t out[32])
{
    uint8_t full[64];
    crypto_hash_sha512(full, data, len);
    memcpy(out, full, 32);
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
    crypto_hash_sha512_init((crypto_hash_sha512_state *)c->state);
}

void jt_sha512half_update(jt_sha512half_ctx *c, const void *data, size_t len)
{
    crypto_hash_sha512_update((crypto_hash_sha512_state *)c->state, data, len);
}

void jt_sha512half_final(jt_sha512half_ctx *c, uint8_t out[32])
{
    uint8_t full[64];
    crypto_hash_sha512_final((crypto_hash_sha512_state *)c->state, full);
    memcpy(out, full, 32);
}

void jt_sha256(const void *data, size_t len, uint8_t out[32])
{
    crypto_hash_sha256(out, data, len);
}

jt_err jt_ripemd160(const void *data, size_t len, uint8_t out[20])
{
    unsigned int n = 0;
    /* OpenSSL 3 serves RIPEMD-160 from its default provider (3.0.7+). */
    if (EVP_Digest(data, len, out, &n, EVP_ripemd160(), NULL) != 1 || n != 20)
        return JT_ECRYPTO;
    return JT_OK;
}
