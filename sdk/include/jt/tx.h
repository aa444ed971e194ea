/*
 * jt/tx.h — transactions: signing data, signing, IDs, verification and
 * multi-signing (PROTOCOL.md §3). Functions that take a jt_obj follow its
 * threading rule (one thread per object); the rest are thread-safe.
 */
#ifndef JT_TX_H
#define JT_TX_H

#include "jt/codec.h"
#include "jt/flags.h"
#include "jt/keys.h"
#include "jt/secret_key.h"
#include "jt/sign.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Appends STX‖signing blob (every signing field; §3.2) to `out`. */
JT_API jt_err jt_tx_signing_data(const jt_obj *tx, jt_buf *out) JT_MUST_CHECK;

/* Sets SigningPubKey to kp's public key and TxnSignature to a fresh
 * signature. The transaction must have its other fields final. Errors:
 * JT_ECRYPTO, JT_ENOMEM; nothing is changed on failure. */
JT_API jt_err jt_tx_sign(jt_obj *tx, const jt_keypair *kp, jt_errinfo *ei) JT_MUST_CHECK;

/* jt_tx_sign with a key held in guarded memory (jt/secret_key.h); the same
 * bytes as jt_tx_sign with that key's jt_keypair. The handle may be signing
 * for other threads at the same time; `tx` follows jt_obj's rule. */
JT_API jt_err jt_tx_sign_secret(jt_obj *tx, jt_secret_key *sk, jt_errinfo *ei) JT_MUST_CHECK;

/* Transaction ID: SHA-512Half(TXN ‖ full blob). */
JT_API jt_err jt_tx_id(const jt_obj *tx, uint8_t hash[32]) JT_MUST_CHECK;
JT_API void jt_tx_blob_id(const uint8_t *blob, size_t len, uint8_t hash[32]);

/* Verifies a signed transaction: single-signed (SigningPubKey and
 * TxnSignature) or multi-signed (empty SigningPubKey and Signers, each
 * signer's key must hash to its Account). Strict DER always; low-S
 * required when Flags has tfFullyCanonicalSig. Errors: JT_ENOT_SIGNED,
 * JT_EKEY, JT_ESIG_DER, JT_ESIG_HIGH_S, JT_ESIG_INVALID (message says which
 * signer). */
JT_API jt_err jt_tx_verify(const jt_obj *tx, jt_errinfo *ei) JT_MUST_CHECK;
/* jt_tx_verify with parsed public keys kept in `cache` (see jt/sign.h). */
JT_API jt_err jt_tx_verify_cached(const jt_obj *tx, jt_key_cache *cache,
                                  jt_errinfo *ei) JT_MUST_CHECK;

/* Multi-signing: appends SMT‖signing blob‖signer to `out`. */
JT_API jt_err jt_tx_multisign_data(const jt_obj *tx, const jt_account_id *signer,
                                   jt_buf *out) JT_MUST_CHECK;
/* Adds (or replaces) `signer`'s Signer entry signed with kp, keeping
 * Signers sorted by AccountID; sets SigningPubKey to empty. */
JT_API jt_err jt_tx_multisign(jt_obj *tx, const jt_keypair *kp, const jt_account_id *signer,
                              jt_errinfo *ei) JT_MUST_CHECK;
/* jt_tx_multisign with a key in guarded memory; `signer` NULL means the
 * key's own account. */
JT_API jt_err jt_tx_multisign_secret(jt_obj *tx, jt_secret_key *sk, const jt_account_id *signer,
                                     jt_errinfo *ei) JT_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
