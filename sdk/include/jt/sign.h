/*
 * jt/sign.h — signatures (PROTOCOL.md §3).
 *
 * secp256k1: ECDSA over a 32-byte digest with RFC 6979 nonces, always low-S,
 * strict DER. ed25519: Ed25519 over the whole message (not pre-hashed).
 * All functions are thread-safe (libsecp256k1's context is created once).
 */
#ifndef JT_SIGN_H
#define JT_SIGN_H

#include "jt/common.h"
#include "jt/error.h"
#include "jt/keys.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Large enough for either signature (DER ECDSA ≤ 72 bytes; Ed25519 64). */
#define JT_SIG_MAX 72

/* Verification flags. */
#define JT_VERIFY_REQUIRE_LOW_S 0x1u /* reject high-S ECDSA (tfFullyCanonicalSig) */

/* Signs `msg` with `kp`: for secp256k1 the signed digest is
 * SHA-512Half(msg) (so callers pass the prefixed signing data); for ed25519
 * `msg` itself is signed. Writes the signature to `sig` (JT_SIG_MAX bytes)
 * and its length to *siglen. Errors: JT_EKEY, JT_ECRYPTO. */
JT_API jt_err jt_sign(const jt_keypair *kp, const uint8_t *msg, size_t len, uint8_t sig[JT_SIG_MAX],
                      size_t *siglen) JT_MUST_CHECK;

/* ECDSA over a ready 32-byte digest (secp256k1 keys only). */
JT_API jt_err jt_sign_digest(const jt_keypair *kp, const uint8_t digest[32],
                             uint8_t sig[JT_SIG_MAX], size_t *siglen) JT_MUST_CHECK;

/* Verifies `sig` over `msg` (hashed as jt_sign does) with the 33-byte public
 * key `pub` (its first byte picks the algorithm). Returns JT_OK for a valid
 * signature. Errors: JT_EKEY (malformed key), JT_ESIG_DER (not strict DER),
 * JT_ESIG_HIGH_S (high S and JT_VERIFY_REQUIRE_LOW_S), JT_ESIG_INVALID. */
JT_API jt_err jt_verify(const uint8_t *pub, size_t publen, const uint8_t *msg, size_t len,
                        const uint8_t *sig, size_t siglen, unsigned flags) JT_MUST_CHECK;

/* Like jt_verify for secp256k1 keys over a ready digest. */
JT_API jt_err jt_verify_digest(const uint8_t *pub, size_t publen, const uint8_t digest[32],
                               const uint8_t *sig, size_t siglen, unsigned flags) JT_MUST_CHECK;

/* A cache of parsed secp256k1 public keys for a verifier that sees the same
 * signers again and again (a node): parsing a compressed key costs a field
 * square root, about a seventh of a verification. Direct-mapped, `entries`
 * rounded up to a power of two (~100 bytes each); a new key evicts the one
 * in its slot. Not thread-safe: one cache per thread. NULL when out of
 * memory; every function taking a cache also accepts NULL (no caching). */
typedef struct jt_key_cache jt_key_cache;
JT_API jt_key_cache *jt_key_cache_new(size_t entries);
JT_API void jt_key_cache_free(jt_key_cache *cache); /* accepts NULL */

/* jt_verify through `cache`. */
JT_API jt_err jt_verify_cached(jt_key_cache *cache, const uint8_t *pub, size_t publen,
                               const uint8_t *msg, size_t len, const uint8_t *sig, size_t siglen,
                               unsigned flags) JT_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
