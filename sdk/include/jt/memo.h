/*
 * jt/memo.h — memos sealed to an account's encryption key.
 *
 * Every account has an X25519 key pair derived from its seed, so nothing
 * new has to be stored or backed up: whoever holds the account's secret
 * can read what was sealed to it. The public half is published in the
 * account's MessageKey field (AccountSet) as JT_MESSAGE_KEY_BYTES bytes,
 * JT_MESSAGE_KEY_PREFIX then the 32-byte key. A memo is sealed with
 * libsodium's sealed box (crypto_box_seal: an ephemeral X25519 key,
 * XSalsa20-Poly1305), so only the recipient's private key opens it; the
 * sender keeps a second copy sealed to its own key. The sending account is
 * sealed in with the memo and checked on opening, so a box copied from the
 * ledger into another account's transaction does not open there.
 * docs/memos.md gives the derivation and the byte layout in full.
 *
 * A jt_memo_key keeps the private half in libsodium guarded memory, locked,
 * out of core dumps and inaccessible outside the calls that need it, as
 * jt_secret_key does for the signing key (jt/secret_key.h).
 *
 * Thread safety: every function may be called from any thread; calls on one
 * jt_memo_key are serialized by its mutex.
 */
#ifndef JT_MEMO_H
#define JT_MEMO_H

#include "jt/common.h"
#include "jt/error.h"
#include "jt/secret_key.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JT_MEMO_KEY_BYTES     32   /* an X25519 public key */
#define JT_MESSAGE_KEY_BYTES  33   /* MessageKey as stored: prefix ‖ key */
#define JT_MESSAGE_KEY_PREFIX 0xEC /* never 02/03/ED: not a signing key */

/* MemoType and MemoFormat of a sealed memo (bytes of these ASCII strings). */
#define JT_MEMO_SEALED_TYPE   "jt/sealed"
#define JT_MEMO_SEALED_FORMAT "x25519-xsalsa20poly1305"

#define JT_MEMO_VERSION      1
/* MemoData = version ‖ role ‖ recipient key ‖ sealed box; the box adds an
 * ephemeral public key and a tag (48 bytes) to the sealed plaintext, which
 * is the sender's account ID, type and format with 2-byte lengths, then the
 * data. */
#define JT_MEMO_HEADER_BYTES (2 + JT_MEMO_KEY_BYTES)
#define JT_MEMO_OVERHEAD     (JT_MEMO_HEADER_BYTES + 48 + 20 + 4)
/* The most plaintext (type + format + data) one sealed memo carries. */
#define JT_MEMO_PLAIN_MAX    8192

/* Whose copy a sealed memo is. */
typedef enum jt_memo_role {
    JT_MEMO_FOR_RECIPIENT = 0, /* sealed to the Destination's key */
    JT_MEMO_FOR_SENDER = 1,    /* sealed to the Account's own key */
} jt_memo_role;

/* A memo's three parts. Lengths 0 mean absent (pointers may then be NULL).
 * From jt_memo_open the pointers point into the caller's buffer. */
typedef struct jt_memo_parts {
    const uint8_t *type;
    size_t type_len;
    const uint8_t *format;
    size_t format_len;
    const uint8_t *data;
    size_t data_len;
} jt_memo_parts;

typedef struct jt_memo_key jt_memo_key;

/* Derives the encryption key pair of `sk`'s account (the same for every
 * handle of the same seed; see docs/memos.md), the private half straight
 * into guarded memory. Works for keystore handles too: nothing leaves the
 * handle but the derived key. *out is freed with jt_memo_key_free().
 * Errors: JT_EINVAL (NULL argument), JT_ENOMEM, JT_ECRYPTO. */
JT_API jt_err jt_memo_key_new(jt_secret_key *sk, jt_memo_key **out) JT_MUST_CHECK;

/* Wipes and frees. NULL is fine. */
JT_API void jt_memo_key_free(jt_memo_key *k);

/* The 32-byte X25519 public key (lives as long as the handle). */
JT_API const uint8_t *jt_memo_key_public(const jt_memo_key *k);

/* The public key as it goes into MessageKey: JT_MESSAGE_KEY_PREFIX ‖ key. */
JT_API void jt_memo_key_message_key(const jt_memo_key *k, uint8_t out[JT_MESSAGE_KEY_BYTES]);

/* The X25519 key of a MessageKey field's bytes. Errors: JT_EKEY (not
 * JT_MESSAGE_KEY_BYTES long or another prefix: a key published for some
 * other scheme, which this library does not seal to), JT_EINVAL (NULL). */
JT_API jt_err jt_message_key_decode(const uint8_t *mk, size_t len,
                                    uint8_t pub[JT_MEMO_KEY_BYTES]) JT_MUST_CHECK;

/* The size of MemoData for `in`: the sum of its lengths plus
 * JT_MEMO_OVERHEAD. */
JT_API size_t jt_memo_sealed_size(const jt_memo_parts *in);

/* Seals `in`, from the account `sender` (the transaction's Account), to
 * the X25519 key `to` as MemoData (docs/memos.md) into `out`, which the
 * caller owns; *outlen gets jt_memo_sealed_size(in). Each call uses a fresh
 * ephemeral key, so sealing twice never gives the same bytes. Errors:
 * JT_EINVAL (NULL argument, unknown role), JT_ETOOBIG (type or format over
 * 65535 bytes, or more than JT_MEMO_PLAIN_MAX in all), JT_EBUFSIZE,
 * JT_ENOMEM, JT_ECRYPTO (`to` is a low-order point). */
JT_API jt_err jt_memo_seal(const uint8_t to[JT_MEMO_KEY_BYTES], jt_memo_role role,
                           const jt_account_id *sender, const jt_memo_parts *in, uint8_t *out,
                           size_t cap, size_t *outlen) JT_MUST_CHECK;

/* Reads the clear header of MemoData: whose copy it is and the key it is
 * sealed to, so a reader picks the key to try without trial decryption.
 * role and to may be NULL. Errors: JT_ETRUNCATED (too short to be one),
 * JT_EINVAL (another version, or an unknown role). */
JT_API jt_err jt_memo_peek(const uint8_t *sealed, size_t len, jt_memo_role *role,
                           uint8_t to[JT_MEMO_KEY_BYTES]) JT_MUST_CHECK;

/* Opens MemoData sealed to `k` in a transaction whose Account is
 * `sender`: the plaintext goes into `buf` (the caller's, cap bytes;
 * len - JT_MEMO_OVERHEAD + 24 is always enough) and *out points into it.
 * Errors: those of jt_memo_peek, JT_EKEY (sealed to another key: nothing
 * is decrypted), JT_EDECRYPT (it does not authenticate: altered, not a
 * sealed box, or sealed by another account than `sender`, as when a box is
 * copied into another account's transaction), JT_EINVAL (it authenticates
 * but its plaintext is not sender/type/format/data), JT_EBUFSIZE,
 * JT_ECRYPTO (the key's memory could not be made readable). On error *out
 * is zeroed and buf wiped. */
JT_API jt_err jt_memo_open(jt_memo_key *k, const uint8_t *sealed, size_t len,
                           const jt_account_id *sender, uint8_t *buf, size_t cap,
                           jt_memo_parts *out) JT_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
