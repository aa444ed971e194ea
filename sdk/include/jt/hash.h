/*
 * jt/hash.h — the protocol's hashes: SHA-512Half with 4-byte prefixes,
 * SHA-256, RIPEMD-160 (through OpenSSL). All functions are thread-safe.
 */
#ifndef JT_HASH_H
#define JT_HASH_H

#include "jt/common.h"
#include "jt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hash prefixes (PROTOCOL.md §3.1): three ASCII letters and a zero byte. */
#define JT_PREFIX_TXN 0x54584E00u /* transaction ID */
#define JT_PREFIX_STX 0x53545800u /* single-signature signing data */
#define JT_PREFIX_SMT 0x534D5400u /* multi-signature signing data */
#define JT_PREFIX_SND 0x534E4400u /* transaction-tree leaf */
#define JT_PREFIX_MLN 0x4D4C4E00u /* state-tree leaf */
#define JT_PREFIX_MIN 0x4D494E00u /* inner tree node */
#define JT_PREFIX_LWR 0x4C575200u /* ledger header */

/* out = first 32 bytes of SHA-512(data). */
JT_API void jt_sha512half(const void *data, size_t len, uint8_t out[32]);

/* out = SHA-512Half(u32be(prefix) ‖ data). */
JT_API void jt_sha512half_prefixed(uint32_t prefix, const void *data, size_t len, uint8_t out[32]);

/* Incremental SHA-512Half. */
typedef struct jt_sha512half_ctx {
    uint64_t state[32]; /* opaque; holds the SHA-512 state */
} jt_sha512half_ctx;

JT_API void jt_sha512half_init(jt_sha512half_ctx *c);
JT_API void jt_sha512half_update(jt_sha512half_ctx *c, const void *data, size_t len);
JT_API void jt_sha512half_final(jt_sha512half_ctx *c, uint8_t out[32]);

JT_API void jt_sha256(const void *data, size_t len, uint8_t out[32]);

/* RIPEMD-160 via OpenSSL. Errors: JT_ECRYPTO if OpenSSL lacks it. */
JT_API jt_err jt_ripemd160(const void *data, size_t len, uint8_t out[20]) JT_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
