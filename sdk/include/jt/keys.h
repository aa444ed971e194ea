/*
 * jt/keys.h — secrets (seeds), key pairs and account IDs (PROTOCOL.md §2).
 *
 * Two key types: secp256k1 (Jingtum's default, through libsecp256k1) and
 * ed25519 (through libsodium). Derivation is identical to skywelld/rippled.
 *
 * jt_seed and jt_keypair hold secret material: the caller owns them and must
 * wipe them with jt_seed_clear()/jt_keypair_clear() when done (put them in
 * sodium_malloc()ed memory where that matters). All functions are thread-safe.
 */
#ifndef JT_KEYS_H
#define JT_KEYS_H

#include "jt/common.h"
#include "jt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jt_key_type {
    JT_KEY_SECP256K1 = 0,
    JT_KEY_ED25519 = 1,
} jt_key_type;

/* A 16-byte seed and the key type it is for. */
typedef struct jt_seed {
    jt_key_type type;
    uint8_t bytes[16];
} jt_seed;

/* A derived key pair. `pub` is the 33-byte public key as it appears in
 * SigningPubKey (secp256k1: 02/03 ‖ X; ed25519: ED ‖ 32 bytes). `priv` is
 * the 32-byte private scalar (secp256k1) or Ed25519 secret seed (ed25519). */
typedef struct jt_keypair {
    jt_key_type type;
    uint8_t pub[33];
    uint8_t priv[32];
} jt_keypair;

/* A fresh random seed from the operating system's CSPRNG (getrandom via
 * libsodium). Errors: JT_ERANDOM, JT_EINVAL (unknown type). */
JT_API jt_err jt_seed_generate(jt_key_type type, jt_seed *seed) JT_MUST_CHECK;

/* seed = SHA-512(passphrase)[0:16] (only for the development genesis
 * account, "masterpassphrase"). */
JT_API void jt_seed_from_passphrase(const char *passphrase, jt_key_type type, jt_seed *seed);

/* Secret text: Base58Check with version 0x21 (secp256k1, "s…") or
 * 01 E1 4B (ed25519, "sEd…") over the 16-byte seed. */
JT_API jt_err jt_secret_encode(const jt_seed *seed, char *out, size_t cap);

/* Decodes either form. Errors: JT_EBASE58_CHAR, JT_EBASE58_CHECKSUM, and
 * JT_ESECRET for a string with the right checksum that is not a 16-byte
 * secp256k1 or ed25519 seed (the message says whether the version or the
 * length was wrong). The message never contains the secret. */
JT_API jt_err jt_secret_decode(const char *secret, jt_seed *seed, jt_errinfo *ei) JT_MUST_CHECK;

/* Derives the key pair for account index 0. Errors: JT_ECRYPTO (only if the
 * curve library fails). */
JT_API jt_err jt_keypair_from_seed(const jt_seed *seed, jt_keypair *kp) JT_MUST_CHECK;

/* jt_secret_decode + jt_keypair_from_seed. */
JT_API jt_err jt_keypair_from_secret(const char *secret, jt_keypair *kp,
                                     jt_errinfo *ei) JT_MUST_CHECK;

/* Key type of a 33-byte public key: 0xED prefix → ed25519, 02/03 →
 * secp256k1. Errors: JT_EKEY. */
JT_API jt_err jt_pubkey_type(const uint8_t *pub, size_t len, jt_key_type *type);

/* AccountID = RIPEMD-160(SHA-256(pub33)). Errors: JT_EKEY (length is not 33),
 * JT_ECRYPTO. */
JT_API jt_err jt_account_id_from_pubkey(const uint8_t *pub, size_t len,
                                        jt_account_id *id) JT_MUST_CHECK;

/* The private key in the libraries' text form: "00"+64 hex (secp256k1) or
 * "ED"+64 hex (ed25519). `out` needs 67 bytes. */
JT_API jt_err jt_keypair_private_hex(const jt_keypair *kp, char *out, size_t cap);

/* Wipe secret material. NULL is fine. */
JT_API void jt_seed_clear(jt_seed *seed);
JT_API void jt_keypair_clear(jt_keypair *kp);

#ifdef __cplusplus
}
#endif
#endif
