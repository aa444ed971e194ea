/*
 * jt/error.h — libjt's error codes.
 *
 * One append-only enum; JT_OK is 0 and every failure is a positive
 * number so that `if (err)` reads naturally. Never renumber: append new codes
 * at the end of JT_ERRORS.
 *
 * Calls that can fail for a reason worth explaining take a `jt_errinfo *`
 * (NULL is allowed) and fill it with the code, a message naming what was
 * wrong, and where (field name, byte offset) when that applies.
 */
#ifndef JT_ERROR_H
#define JT_ERROR_H

#include <stddef.h>

#include "jt/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, text): the generic text for each code. */
#define JT_ERRORS(X)                                                                               \
    X(OK, "success")                                                                               \
    X(EINVAL, "invalid argument")                                                                  \
    X(ENOMEM, "out of memory")                                                                     \
    X(EBUFSIZE, "output buffer too small")                                                         \
    X(ETOOBIG, "input too large")                                                                  \
    X(EHEX, "malformed hex string")                                                                \
    X(EBASE58_CHAR, "character not in the Jingtum base58 alphabet")                                \
    X(EBASE58_CHECKSUM, "base58 checksum does not match")                                          \
    X(EBASE58_VERSION, "wrong base58 version for this kind of string")                             \
    X(EBASE58_LENGTH, "wrong decoded length for this kind of string")                              \
    X(ESECRET, "not a Jingtum secret")                                                             \
    X(EKEY, "invalid key")                                                                         \
    X(ERANDOM, "the system random generator failed")                                               \
    X(ECRYPTO, "cryptographic library failure")                                                    \
    X(ESIG_DER, "signature is not strict DER")                                                     \
    X(ESIG_HIGH_S, "signature is not canonical (high S)")                                          \
    X(ESIG_INVALID, "signature does not verify")                                                   \
    X(EJSON, "malformed JSON")                                                                     \
    X(EJSON_DEPTH, "JSON nested too deeply")                                                       \
    X(EFIELD_UNKNOWN, "unknown field")                                                             \
    X(EFIELD_TYPE, "field has the wrong type or form")                                             \
    X(EFIELD_ORDER, "fields out of canonical order")                                               \
    X(EFIELD_DUP, "duplicate field")                                                               \
    X(EFIELD_MISSING, "required field missing")                                                    \
    X(EFIELD_CODE, "invalid field header")                                                         \
    X(ETRUNCATED, "input truncated")                                                               \
    X(ETRAILING, "trailing bytes after the object")                                                \
    X(EMARKER, "end marker where none is open")                                                    \
    X(EVL, "malformed length prefix")                                                              \
    X(EDEPTH, "objects nested too deeply")                                                         \
    X(EAMOUNT, "malformed amount")                                                                 \
    X(EAMOUNT_RANGE, "amount out of range")                                                        \
    X(EAMOUNT_PRECISION, "amount has more than 16 significant digits")                             \
    X(EAMOUNT_DECIMALS, "SWT has at most 6 decimal places")                                        \
    X(ENONCANONICAL, "amount encoding is not canonical")                                           \
    X(ECURRENCY, "bad currency code")                                                              \
    X(EPATH, "malformed path")                                                                     \
    X(ETXTYPE, "unknown transaction type")                                                         \
    X(ENOT_SIGNED, "transaction is not signed")                                                    \
    X(EIO, "input/output error")                                                                   \
    X(EJTP_MAGIC, "not a jtp peer (bad magic bytes)")                                              \
    X(EJTP_FRAME_SIZE, "jtp frame larger than the limit")                                          \
    X(EJTP_PROTOCOL, "jtp protocol violation")                                                     \
    X(EJTP_AUTH, "jtp handshake authentication failed")                                            \
    X(EJTP_DECRYPT, "jtp message failed to decrypt or authenticate")                               \
    X(EJTP_PLAINTEXT, "plaintext jtp refused")                                                     \
    X(ESTATE, "operation not valid in the current state")                                          \
    X(EURL, "malformed or unsupported URL")                                                        \
    X(ECONNECT, "cannot connect")                                                                  \
    X(ECLOSED, "connection closed")                                                                \
    X(ETIMEDOUT, "timed out")                                                                      \
    X(ERPC, "the node answered with an error")                                                     \
    X(ECANCELED, "canceled")                                                                       \
    X(EPASSPHRASE, "wrong passphrase")                                                             \
    X(EPERM, "file or directory permissions are too open")                                         \
    X(EKEYSTORE, "malformed keystore file")                                                        \
    X(EKEYSTORE_AUTH, "keystore contents fail their integrity check")                              \
    X(ENOTFOUND, "no such entry")                                                                  \
    X(EEXIST, "entry or file already exists")                                                      \
    X(EWATCHONLY, "entry is watch-only: it holds no secret")                                       \
    X(ELOST, "connection lost after the request was sent; its outcome is unknown")                \
    X(EDECRYPT, "ciphertext does not decrypt or authenticate")                                     \
    X(ETLS, "TLS handshake or certificate check failed")                                           \
    X(EAUTH, "the API key is missing or not valid")                                                \
    X(EFORBIDDEN, "the API key is not allowed to do this")                                         \
    X(ECONFLICT, "conflicts with an earlier request or entry (client_id reused)")                  \
    X(EREJECTED, "the transaction was rejected and will never apply")                              \
    X(ERATELIMIT, "too many requests; retry later")                                                \
    X(EUNAVAILABLE, "the service cannot answer now (node unreachable or not synced)")              \
    X(EBADREQUEST, "the server refused the request as malformed")                                  \
    X(EGATEWAY, "the gateway answered with an error")                                              \
    X(EBADRESPONSE, "malformed answer from the server")

typedef enum jt_err {
#define JT__ERR_ENUM(name, text) JT_##name,
    JT_ERRORS(JT__ERR_ENUM)
#undef JT__ERR_ENUM
        JT__ERR_COUNT
} jt_err;

/* Details of a failed call. `offset` is a byte offset into the input
 * (binary or JSON text) or -1; `field` is the protocol field name or "". */
typedef struct jt_errinfo {
    jt_err code;
    long offset;
    char field[48];
    char msg[256];
} jt_errinfo;

/* The generic text of `err` ("unknown error" for an unknown value).
 * Static storage; thread-safe. */
JT_API const char *jt_strerror(jt_err err);

/* The symbolic name of `err` without its prefix ("EAMOUNT"); "?" if unknown.
 * Static storage; thread-safe. */
JT_API const char *jt_errname(jt_err err);

/* Resets `ei` to "no error" (code JT_OK, offset -1, empty strings). NULL is fine. */
JT_API void jt_errinfo_clear(jt_errinfo *ei);

#ifdef __cplusplus
}
#endif
#endif
