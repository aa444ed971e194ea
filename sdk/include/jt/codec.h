/*
 * jt/codec.h — the binary codec: fields, serialized objects (STObject), and
 * their JSON form (PROTOCOL.md §4).
 *
 * A jt_obj is an STObject tree: a transaction, a ledger entry, metadata, or
 * a nested object. Its fields are always kept in canonical order. A jt_obj
 * owns every byte reachable from it (one arena, freed by jt_obj_free). A
 * jt_obj is not thread-safe; distinct objects may be used from distinct
 * threads. Every other function here is thread-safe.
 *
 * The decoder is safe on hostile input: it never reads past its buffer,
 * bounds nesting at JT_CODEC_MAX_DEPTH, and reports every failure with a code,
 * the field name and the byte offset.
 */
#ifndef JT_CODEC_H
#define JT_CODEC_H

#include "jt/amount.h"
#include "jt/common.h"
#include "jt/error.h"
#include "jt/json.h"
#include "jt/ter.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Serialized type codes (§4.1). */
typedef enum jt_type {
    JT_T_UINT16 = 1,
    JT_T_UINT32 = 2,
    JT_T_UINT64 = 3,
    JT_T_HASH128 = 4,
    JT_T_HASH256 = 5,
    JT_T_AMOUNT = 6,
    JT_T_BLOB = 7,
    JT_T_ACCOUNT = 8,
    JT_T_OBJECT = 14,
    JT_T_ARRAY = 15,
    JT_T_UINT8 = 16,
    JT_T_HASH160 = 17,
    JT_T_PATHSET = 18,
    JT_T_VECTOR256 = 19,
} jt_type;

#define JT_FIELD_NOT_SIGNING 0x1u /* left out of signing data (TxnSignature, Signers) */

typedef struct jt_field {
    const char *name;
    uint8_t type;  /* jt_type */
    uint8_t code;  /* field code within the type */
    uint8_t flags; /* JT_FIELD_* */
} jt_field;

/* Field lookup by name (case-sensitive) or by (type, code); NULL if unknown. */
JT_API const jt_field *jt_field_by_name(const char *name);
JT_API const jt_field *jt_field_by_code(unsigned type, unsigned code);
/* All known fields, in canonical order. */
JT_API size_t jt_field_count(void);
JT_API const jt_field *jt_field_at(size_t i);

/* Transaction types (§4.9). */
enum {
    JT_TX_PAYMENT = 0,
    JT_TX_ACCOUNT_SET = 3,
    JT_TX_SET_REGULAR_KEY = 5,
    JT_TX_OFFER_CREATE = 7,
    JT_TX_OFFER_CANCEL = 8,
    JT_TX_CONTRACT = 9,
    JT_TX_REMOVE_CONTRACT = 10,
    JT_TX_TRUST_SET = 20,
    JT_TX_RELATION_SET = 21,
    JT_TX_RELATION_DEL = 22,
    JT_TX_CONFIG_CONTRACT = 30,
    JT_TX_ALETH_CONTRACT = 31,
    JT_TX_ENABLE_FEATURE = 100,
    JT_TX_SET_FEE = 101,
    JT_TX_SET_BLACK_LIST = 201,
    JT_TX_REMOVE_BLACK_LIST = 202,
    JT_TX_MANAGE_ISSUER = 203,
    JT_TX_BROKERAGE = 205,
    JT_TX_ISSUE_SET = 206,
    JT_TX_SIGNER_LIST_SET = 207,
    JT_TX_TRANSFER_TOKEN = 208,
    JT_TX_TOKEN_ISSUE = 209,
    JT_TX_TOKEN_DEL = 210,
};

/* Ledger entry types (§4.10), including skywelld's extra ones. */
enum {
    JT_LT_ACCOUNT_ROOT = 97,
    JT_LT_CONTRACT = 99,
    JT_LT_DIRECTORY_NODE = 100,
    JT_LT_ENABLED_FEATURES = 102,
    JT_LT_GENERATOR_MAP = 103,
    JT_LT_LEDGER_HASHES = 104,
    JT_LT_NICKNAME = 110,
    JT_LT_OFFER = 111,
    JT_LT_SKYWELL_STATE = 114,
    JT_LT_FEE_SETTINGS = 115,
    JT_LT_TRUST_STATE = 116,
    JT_LT_TICKET = 84,
    JT_LT_SIGNER_LIST = 83,
    JT_LT_MANAGE_FEE = 109,
    JT_LT_MANAGE_ISSUER = 105,
    JT_LT_BLACK_LIST = 108,
    JT_LT_BROKERAGE = 98, /* jt-node's platform fee entry; code chosen by jtkit */
};

/* Names ↔ codes; -1 / NULL when unknown. */
JT_API int jt_tx_type_by_name(const char *name);
JT_API const char *jt_tx_type_name(unsigned code);
JT_API int jt_ledger_type_by_name(const char *name);
JT_API const char *jt_ledger_type_name(unsigned code);

/* Engine results (jt_ter, jt_ter_by_token, jt_ter_by_code) are in jt/ter.h. */

/* ---- objects ----------------------------------------------------------- */

#define JT_CODEC_MAX_DEPTH 12         /* nested objects and arrays */
#define JT_CODEC_MAX_BYTES (1u << 20) /* largest object the decoder accepts */

typedef struct jt_obj jt_obj;

/* An empty object. NULL on allocation failure. Free with jt_obj_free(). */
JT_API jt_obj *jt_obj_new(void);
/* The same, with room for about `bytes` of members and values in one
 * allocation (for objects built in a hot path whose size is known). */
JT_API jt_obj *jt_obj_new_sized(size_t bytes);
JT_API void jt_obj_free(jt_obj *o);
/* A deep copy, or NULL on allocation failure. */
JT_API jt_obj *jt_obj_clone(const jt_obj *o);

/* Decodes a top-level object (no end marker) from `len` bytes. Errors:
 * JT_ETRUNCATED, JT_ETRAILING, JT_EFIELD_CODE (zero or unknown type/field
 * code), JT_EFIELD_ORDER, JT_EFIELD_DUP, JT_EMARKER, JT_EVL, JT_EDEPTH,
 * JT_ETOOBIG, amount errors (see jt_amount_decode), JT_EPATH, JT_ENOMEM. */
JT_API jt_err jt_obj_from_binary(const uint8_t *p, size_t len, jt_obj **out,
                                 jt_errinfo *ei) JT_MUST_CHECK;
/* Same, from hex text. Adds JT_EHEX. */
JT_API jt_err jt_obj_from_hex(const char *hex, size_t hexlen, jt_obj **out,
                              jt_errinfo *ei) JT_MUST_CHECK;

#define JT_SER_SIGNING 0x1u /* leave out non-signing fields (§3.2) */

/* Appends the canonical serialization to `out`. Errors: JT_ENOMEM, JT_ETOOBIG. */
JT_API jt_err jt_obj_to_binary(const jt_obj *o, unsigned flags, jt_buf *out) JT_MUST_CHECK;

/* Builds an object from its JSON form (§4.7): UInt64 as hex strings or JSON
 * integers, native amounts as drop strings or integers, issued amounts as
 * {value,currency,issuer}, TransactionType/LedgerEntryType/TransactionResult
 * as names. The known response keys (hash, date, inLedger, ledger_index,
 * validated, meta, metaData, parsed_memo_*) are skipped; any other unknown
 * key is an error naming it (JT_EFIELD_UNKNOWN). Other errors name the field
 * path ("Memos[0].Memo.MemoData"): JT_EFIELD_TYPE, amount and currency
 * errors, JT_EHEX, JT_EDEPTH, JT_EJSON (not an object). */
JT_API jt_err jt_obj_from_json(const char *json, size_t len, jt_obj **out,
                               jt_errinfo *ei) JT_MUST_CHECK;
JT_API jt_err jt_obj_from_jsonv(const jt_json *v, jt_obj **out, jt_errinfo *ei) JT_MUST_CHECK;

/* Writes skywelld's JSON form: native amounts as drop strings, issued as
 * {currency,issuer,value}, UInt64 as 16 upper-case hex digits, blobs and
 * hashes upper-case hex, fields in canonical order. */
JT_API void jt_obj_write_json(const jt_obj *o, jt_jw *w);
/* The same members without the braces, into the object `w` has open, so a
 * caller can add members of its own (a transaction's "hash") in place. */
JT_API void jt_obj_write_json_members(const jt_obj *o, jt_jw *w);
/* A hint for code that walks many objects out of cache: starts loading the
 * object's header (members false) or, once the header is in, its members
 * and the values stored after them (members true). No effect on contents. */
JT_API void jt_obj_prefetch(const jt_obj *o, bool members);
/* jt_obj_write_json into `out` with a terminating NUL (not counted). */
JT_API jt_err jt_obj_to_json(const jt_obj *o, jt_buf *out) JT_MUST_CHECK;

/* ---- field access -------------------------------------------------------
 * Setters replace an existing value and keep canonical order; they check
 * that the field exists and has the setter's type (JT_EFIELD_UNKNOWN,
 * JT_EFIELD_TYPE). Getters return JT_EFIELD_MISSING when absent. */
JT_API bool jt_obj_has(const jt_obj *o, const char *field);
JT_API jt_err jt_obj_remove(jt_obj *o, const char *field);
/* UInt8/16/32/64 (range-checked against the width). */
JT_API jt_err jt_obj_set_uint(jt_obj *o, const char *field, uint64_t v) JT_MUST_CHECK;
JT_API jt_err jt_obj_get_uint(const jt_obj *o, const char *field, uint64_t *v) JT_MUST_CHECK;
JT_API jt_err jt_obj_set_amount(jt_obj *o, const char *field, const jt_amount *a) JT_MUST_CHECK;
JT_API jt_err jt_obj_get_amount(const jt_obj *o, const char *field, jt_amount *a) JT_MUST_CHECK;
JT_API jt_err jt_obj_set_account(jt_obj *o, const char *field,
                                 const jt_account_id *id) JT_MUST_CHECK;
JT_API jt_err jt_obj_get_account(const jt_obj *o, const char *field,
                                 jt_account_id *id) JT_MUST_CHECK;
/* Blob, Hash128/160/256 (exact length), Vector256 (multiple of 32). The
 * getter's pointer is valid until the field changes or the object is freed. */
JT_API jt_err jt_obj_set_bytes(jt_obj *o, const char *field, const uint8_t *p,
                               size_t n) JT_MUST_CHECK;
JT_API jt_err jt_obj_get_bytes(const jt_obj *o, const char *field, const uint8_t **p,
                               size_t *n) JT_MUST_CHECK;
/* Any field from its JSON form (as jt_obj_from_json would read it). */
JT_API jt_err jt_obj_set_json(jt_obj *o, const char *field, const jt_json *v,
                              jt_errinfo *ei) JT_MUST_CHECK;
/* Nested STObject field: a deep copy of `child`. */
JT_API jt_err jt_obj_set_object(jt_obj *o, const char *field, const jt_obj *child) JT_MUST_CHECK;
JT_API jt_err jt_obj_get_object(const jt_obj *o, const char *field,
                                const jt_obj **child) JT_MUST_CHECK;
/* STArray fields: append a deep copy of `elem` wrapped as `elem_field`
 * (e.g. "Memos", "Memo"); count; element i (and its wrapper name). */
JT_API jt_err jt_obj_array_append(jt_obj *o, const char *field, const char *elem_field,
                                  const jt_obj *elem) JT_MUST_CHECK;
JT_API size_t jt_obj_array_len(const jt_obj *o, const char *field);
JT_API const jt_obj *jt_obj_array_at(const jt_obj *o, const char *field, size_t i,
                                     const jt_field **elem_field);
/* True when both objects lack field f or both hold the same value. */
JT_API bool jt_obj_field_equal(const jt_obj *a, const jt_obj *b, const jt_field *f);
/* Copies field f (a deep copy) from src into dst, replacing dst's value.
 * Errors: JT_EFIELD_MISSING (src lacks it), JT_ENOMEM. */
JT_API jt_err jt_obj_copy_field(jt_obj *dst, const jt_obj *src, const jt_field *f) JT_MUST_CHECK;
/* Iteration over fields in canonical order. */
JT_API size_t jt_obj_field_count(const jt_obj *o);
JT_API const jt_field *jt_obj_field_at(const jt_obj *o, size_t i);
/* Pieces of the binary form, for writers that assemble an object's bytes
 * themselves (in canonical order, which is jt_field pointer order): a
 * field's header, and the i-th member of `o` (header and value). */
JT_API jt_err jt_field_header_to_binary(const jt_field *f, jt_buf *out) JT_MUST_CHECK;
JT_API jt_err jt_obj_member_to_binary(const jt_obj *o, size_t i, jt_buf *out) JT_MUST_CHECK;

/* ---- field access by handle ---------------------------------------------
 * The same getters and setters with the field given as a handle from
 * jt_field_by_name, for code that touches the same fields many times and
 * should not look names up each time. A NULL handle is JT_EFIELD_UNKNOWN. */
JT_API bool jt_obj_has_f(const jt_obj *o, const jt_field *f);
JT_API jt_err jt_obj_set_uint_f(jt_obj *o, const jt_field *f, uint64_t v) JT_MUST_CHECK;
JT_API jt_err jt_obj_get_uint_f(const jt_obj *o, const jt_field *f, uint64_t *v) JT_MUST_CHECK;
JT_API jt_err jt_obj_set_amount_f(jt_obj *o, const jt_field *f, const jt_amount *a) JT_MUST_CHECK;
JT_API jt_err jt_obj_get_amount_f(const jt_obj *o, const jt_field *f, jt_amount *a) JT_MUST_CHECK;
JT_API jt_err jt_obj_set_account_f(jt_obj *o, const jt_field *f,
                                   const jt_account_id *id) JT_MUST_CHECK;
JT_API jt_err jt_obj_get_account_f(const jt_obj *o, const jt_field *f,
                                   jt_account_id *id) JT_MUST_CHECK;
JT_API jt_err jt_obj_set_bytes_f(jt_obj *o, const jt_field *f, const uint8_t *p,
                                 size_t n) JT_MUST_CHECK;
JT_API jt_err jt_obj_get_bytes_f(const jt_obj *o, const jt_field *f, const uint8_t **p,
                                 size_t *n) JT_MUST_CHECK;
JT_API jt_err jt_obj_set_object_f(jt_obj *o, const jt_field *f, const jt_obj *child) JT_MUST_CHECK;
JT_API jt_err jt_obj_get_object_f(const jt_obj *o, const jt_field *f,
                                  const jt_obj **child) JT_MUST_CHECK;
JT_API jt_err jt_obj_array_append_f(jt_obj *o, const jt_field *f, const jt_field *elem_field,
                                    const jt_obj *elem) JT_MUST_CHECK;
/* Building in place, without the deep copy of jt_obj_set_object and
 * jt_obj_array_append: a new empty nested object set as field f (replacing
 * its value), or appended to array f wrapped as elem_field. The returned
 * object belongs to `o` (valid until o is freed or f changes; never freed on
 * its own). NULL on a wrong field or out of memory. */
JT_API jt_obj *jt_obj_object_add_f(jt_obj *o, const jt_field *f);
JT_API jt_obj *jt_obj_array_add_f(jt_obj *o, const jt_field *f, const jt_field *elem_field);

#ifdef __cplusplus
}
#endif
#endif
