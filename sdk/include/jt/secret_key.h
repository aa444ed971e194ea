/*
 * jt/secret_key.h — a signing key held in guarded memory.
 *
 * A jt_keypair is a plain struct: wherever the caller puts it (often the
 * stack) its private key sits in ordinary memory, can be swapped out, ends
 * up in core dumps and is easy to copy by accident. A jt_secret_key is an
 * opaque handle whose seed and private key live in libsodium guarded memory
 * (sodium_malloc): a page of their own between guard pages, locked against
 * swapping where the system allows, left out of core dumps (MADV_DONTDUMP),
 * inaccessible (PROT_NONE) whenever no call is reading them, and wiped when
 * the handle is freed. Signatures are byte for byte those of jt_sign /
 * jt_sign_digest / jt_tx_sign for the same key.
 *
 * Thread safety: every function may be called from any thread, and one
 * handle may sign from several threads at once. The memory is made readable
 * for as long as at least one call is using it: a per-handle mutex guards a
 * count of readers, the first reader makes the pages readable and the last
 * one makes them inaccessible again; the signing itself runs outside the
 * mutex, so concurrent signers do not wait for one another. Freeing a handle
 * while another thread still uses it is, as always, the caller's error.
 *
 * The secret leaves the handle in exactly one way: jt_secret_key_export()
 * (and not at all from a handle a keystore gave out).
 */
#ifndef JT_SECRET_KEY_H
#define JT_SECRET_KEY_H

#include "jt/common.h"
#include "jt/error.h"
#include "jt/keys.h"
#include "jt/sign.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jt_secret_key jt_secret_key;

/* Room for a secret string and its NUL ("s…" is 29 characters, "sEd…" 31). */
#define JT_SECRET_MAX 40

/* A handle for the key of `seed` (account index 0, as jt_keypair_from_seed).
 * The seed is copied into guarded memory; the caller still wipes its own
 * copy. *out is freed with jt_secret_key_free(). Errors: JT_EINVAL (NULL
 * argument or unknown key type), JT_ENOMEM (guarded memory could not be
 * allocated), JT_ECRYPTO. */
JT_API jt_err jt_secret_key_new(const jt_seed *seed, jt_secret_key **out) JT_MUST_CHECK;

/* A handle for a secret string ("s…" secp256k1 or "sEd…" ed25519, as
 * jt_secret_decode reads it). The seed is decoded straight into guarded
 * memory. Errors as jt_secret_decode (the message never quotes the secret)
 * and jt_secret_key_new. */
JT_API jt_err jt_secret_key_new_from_secret(const char *secret, jt_secret_key **out,
                                            jt_errinfo *ei) JT_MUST_CHECK;

/* A handle for a fresh seed from the system's CSPRNG, generated in guarded
 * memory. Errors: JT_EINVAL (unknown type), JT_ERANDOM, JT_ENOMEM. */
JT_API jt_err jt_secret_key_new_random(jt_key_type type, jt_secret_key **out) JT_MUST_CHECK;

/* Wipes and frees the handle. NULL is fine. */
JT_API void jt_secret_key_free(jt_secret_key *sk);

/* Public facts about the key; never touch the guarded memory. The pointers
 * returned live as long as the handle. */
JT_API jt_key_type jt_secret_key_type(const jt_secret_key *sk);
/* The 33-byte public key as in SigningPubKey. */
JT_API const uint8_t *jt_secret_key_public(const jt_secret_key *sk);
JT_API const jt_account_id *jt_secret_key_account_id(const jt_secret_key *sk);
/* The account address ("j…"), NUL-terminated. */
JT_API const char *jt_secret_key_address(const jt_secret_key *sk);

/* As jt_sign: secp256k1 signs SHA-512Half(msg), ed25519 signs msg. Errors:
 * JT_EINVAL (NULL handle), JT_EKEY, JT_ECRYPTO (also if the memory could not
 * be made readable). */
JT_API jt_err jt_secret_sign(jt_secret_key *sk, const uint8_t *msg, size_t len,
                             uint8_t sig[JT_SIG_MAX], size_t *siglen) JT_MUST_CHECK;

/* As jt_sign_digest: ECDSA over a ready 32-byte digest, secp256k1 keys only
 * (JT_EKEY for an ed25519 key). */
JT_API jt_err jt_secret_sign_digest(jt_secret_key *sk, const uint8_t digest[32],
                                    uint8_t sig[JT_SIG_MAX], size_t *siglen) JT_MUST_CHECK;

/* Keeps the memory readable across several signatures: each readable /
 * inaccessible switch is an mprotect, which on a multi-threaded process
 * also makes every other CPU running it flush its TLB. A program signing
 * in bursts (a daemon answering many requests in one turn of its event
 * loop) holds the handle for the burst and releases it right after; the
 * key is readable only in between. Holds are counted with the calls that
 * sign, so the memory turns inaccessible again when the last of either
 * ends. Every successful hold needs exactly one release. Errors: JT_EINVAL
 * (NULL), JT_ECRYPTO (the memory could not be made readable). */
JT_API jt_err jt_secret_key_hold(jt_secret_key *sk) JT_MUST_CHECK;
JT_API void jt_secret_key_release(jt_secret_key *sk);

/* Writes the secret string ("s…" or "sEd…") and a NUL into `out`, which
 * the caller owns and must wipe (sodium_memzero) when done — ideally guarded
 * memory itself. This is the only way the secret leaves the handle; a
 * program should call it only when a person asked to see or move the key.
 * A handle from jt_keystore_get_key refuses (JT_ESTATE): a keystore's
 * secret leaves it only through jt_keystore_export, which asks for the
 * passphrase again. Errors: JT_EINVAL, JT_ESTATE, JT_EBUFSIZE (a buffer of
 * JT_SECRET_MAX bytes is always enough), JT_ECRYPTO. On error the buffer is
 * only wiped. */
JT_API jt_err jt_secret_key_export(jt_secret_key *sk, char *out, size_t cap) JT_MUST_CHECK;

/* Transactions signed through a handle are in jt/tx.h: jt_tx_sign_secret()
 * and jt_tx_multisign_secret(). */

#ifdef __cplusplus
}
#endif
#endif
