/*
 * jt/base58.h — base58 with Jingtum's alphabet, Base58Check, and the text
 * forms built on it: addresses, secrets, node public keys (PROTOCOL.md §2).
 * All functions are thread-safe and allocate nothing.
 */
#ifndef JT_BASE58_H
#define JT_BASE58_H

#include "jt/common.h"
#include "jt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JT_BASE58_ALPHABET "jpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65rkm8oFqi1tuvAxyz"

/* Text capacities including the terminating NUL. */
#define JT_ADDRESS_MAX     40
#define JT_SECRET_MAX      40
#define JT_NODE_PUBLIC_MAX 64

/* Base58 of `len` bytes (each leading zero byte becomes one 'j').
 * Errors: JT_EBUFSIZE, JT_ETOOBIG (input over 256 bytes). */
JT_API jt_err jt_base58_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Decodes base58 text. Errors: JT_EBASE58_CHAR (message names the character
 * and its position), JT_EBUFSIZE, JT_ETOOBIG (text over 256 characters). */
JT_API jt_err jt_base58_decode(const char *text, uint8_t *out, size_t cap, size_t *outlen,
                               jt_errinfo *ei);

/* base58(version ‖ payload ‖ checksum4). Errors: JT_EBUFSIZE, JT_EINVAL. */
JT_API jt_err jt_base58check_encode(const uint8_t *version, size_t vlen, const uint8_t *payload,
                                    size_t plen, char *out, size_t cap);

/* Decodes `text`, then checks, in this order, the checksum
 * (JT_EBASE58_CHECKSUM), the version bytes (JT_EBASE58_VERSION) and that the
 * payload is exactly `plen` bytes (JT_EBASE58_LENGTH); a bad character is
 * JT_EBASE58_CHAR. On success the payload is in `payload`. */
JT_API jt_err jt_base58check_decode(const char *text, const uint8_t *version, size_t vlen,
                                    uint8_t *payload, size_t plen, jt_errinfo *ei);

/* Account addresses: Base58Check(0x00, AccountID). */
JT_API jt_err jt_address_encode(const jt_account_id *id, char out[JT_ADDRESS_MAX]);
JT_API jt_err jt_address_decode(const char *address, jt_account_id *id, jt_errinfo *ei);
/* true when `address` is a well-formed account address. */
JT_API bool jt_address_is_valid(const char *address);

/* Node public keys ('n…', version 0x1C, 33 bytes). */
JT_API jt_err jt_node_public_encode(const uint8_t pub[33], char out[JT_NODE_PUBLIC_MAX]);
JT_API jt_err jt_node_public_decode(const char *text, uint8_t pub[33], jt_errinfo *ei);

/* Well-known accounts (PROTOCOL.md §2.7). */
JT_API extern const jt_account_id JT_ACCOUNT_ZERO; /* 20 × 00: the SWT "issuer" */
JT_API extern const jt_account_id JT_ACCOUNT_ONE;  /* 19 × 00, 01: "no account" */

#ifdef __cplusplus
}
#endif
#endif
