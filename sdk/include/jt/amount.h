/*
 * jt/amount.h — STAmount values and currency codes (PROTOCOL.md §4.12–4.13).
 *
 * All arithmetic is 64-bit integer and decimal-string based; no floating
 * point is used anywhere. All functions are thread-safe and allocate nothing.
 */
#ifndef JT_AMOUNT_H
#define JT_AMOUNT_H

#include "jt/common.h"
#include "jt/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits. */
#define JT_DROPS_PER_SWT    1000000ULL
#define JT_MAX_TX_DROPS     100000000000000000ULL /* 10^17: a transaction amount */
#define JT_MAX_NATIVE_DROPS 600000000000000000ULL /* 6×10^17: total supply, any ledger value */
#define JT_MIN_MANTISSA     1000000000000000ULL   /* 10^15 */
#define JT_MAX_MANTISSA     9999999999999999ULL   /* 10^16 − 1 */
#define JT_MIN_EXPONENT     (-96)
#define JT_MAX_EXPONENT     80

/* Text capacities including the NUL. */
#define JT_AMOUNT_TEXT_MAX   48 /* value text: "-9999999999999999e-96" or drops */
#define JT_CURRENCY_TEXT_MAX 41 /* 40 hex digits */

/* An amount. Native (SWT): `mantissa` is drops, `exponent` 0, currency and
 * issuer zero. Issued: canonical `mantissa` in [10^15, 10^16−1] and
 * `exponent` in [−96, 80], or mantissa 0 / exponent 0 for zero. Zero is
 * never negative. */
typedef struct jt_amount {
    bool native;
    bool negative;
    uint64_t mantissa;
    int32_t exponent;
    jt_currency currency;
    jt_account_id issuer;
} jt_amount;

/* Flags for parsing. */
#define JT_AMOUNT_ALLOW_NEGATIVE 0x1u /* ledger/metadata values (default: refuse) */
#define JT_AMOUNT_LEDGER_RANGE   0x2u /* native up to total supply, not 10^17 */

/* Native amount from a decimal string of drops ("1000000"); no fraction, no
 * exponent, no '+'. Errors: JT_EAMOUNT (names the bad character),
 * JT_EAMOUNT_RANGE (over the limit, or negative without the flag). */
JT_API jt_err jt_amount_from_drops(jt_amount *a, const char *drops, unsigned flags,
                                   jt_errinfo *ei) JT_MUST_CHECK;

/* Native amount from SWT units ("1.5" → 1 500 000 drops), as people type it.
 * Errors: JT_EAMOUNT, JT_EAMOUNT_DECIMALS ("SWT has at most 6 decimal places:
 * 0.0000001"), JT_EAMOUNT_RANGE. */
JT_API jt_err jt_amount_from_swt(jt_amount *a, const char *swt, unsigned flags,
                                 jt_errinfo *ei) JT_MUST_CHECK;

/* Parses and canonicalizes an issued value string
 * (^[-+]?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$). Leading zeros in the
 * integer part are also refused. Errors: JT_EAMOUNT (grammar, naming the
 * position), JT_EAMOUNT_PRECISION (> 16 significant digits; trailing zeros do
 * not count), JT_EAMOUNT_RANGE (overflow above 9999999999999999e80, non-zero
 * underflow below 1e-81, negative without JT_AMOUNT_ALLOW_NEGATIVE). */
JT_API jt_err jt_amount_parse_value(const char *value, unsigned flags, bool *negative,
                                    uint64_t *mantissa, int32_t *exponent,
                                    jt_errinfo *ei) JT_MUST_CHECK;

/* Issued amount from text parts. `currency` per jt_currency_from_text
 * ("SWT" refused), `issuer` an address (ACCOUNT_ZERO refused). */
JT_API jt_err jt_amount_issued(jt_amount *a, const char *value, const char *currency,
                               const char *issuer, unsigned flags, jt_errinfo *ei) JT_MUST_CHECK;

/* Serializes the STAmount body (no field header) into `out`: 8 bytes for
 * native, 48 for issued; *len gets the size. Errors: JT_EAMOUNT_RANGE,
 * JT_ENONCANONICAL (the struct is not canonical), JT_ECURRENCY. */
JT_API jt_err jt_amount_encode(const jt_amount *a, uint8_t out[48], size_t *len) JT_MUST_CHECK;

/* Deserializes an STAmount body from `p` (at most `len` bytes available);
 * *used gets 8 or 48. Rejects everything §4.12/§7.5 forbids: native negative
 * zero, native above the total supply, non-canonical issued values, issued
 * zero not exactly 0x8000000000000000, all-zero currency or ACCOUNT_ZERO
 * issuer on an issued amount. Errors: JT_ETRUNCATED, JT_ENONCANONICAL,
 * JT_EAMOUNT_RANGE, JT_ECURRENCY. */
JT_API jt_err jt_amount_decode(const uint8_t *p, size_t len, jt_amount *a, size_t *used,
                               jt_errinfo *ei) JT_MUST_CHECK;

/* The value as skywelld prints it in JSON: native → drops ("-1000000" when
 * negative); issued → "0", "0.5", "123.456", "10000", or
 * "<16-digit mantissa>e<exp>" when exp < −25 or exp > −5 (and exp ≠ 0).
 * Errors: JT_EBUFSIZE. */
JT_API jt_err jt_amount_value_text(const jt_amount *a, char *out, size_t cap);

/* Native amount in SWT units for people: "1.5", "0.000001", "-2". */
JT_API jt_err jt_amount_swt_text(const jt_amount *a, char *out, size_t cap);

/* -1, 0, 1 comparing a and b by value. Both must be native or both issued
 * (currency and issuer are not compared). */
JT_API int jt_amount_cmp(const jt_amount *a, const jt_amount *b);

/* Currency code from text: "SWT" → all zero (only with allow_swt); 3–6
 * characters of [A-Za-z0-9], right-aligned to end at byte 14; or 40 hex
 * digits. Errors: JT_ECURRENCY naming the code. */
JT_API jt_err jt_currency_from_text(const char *text, bool allow_swt, jt_currency *c,
                                    jt_errinfo *ei) JT_MUST_CHECK;

/* Currency code to text (PROTOCOL.md §4.13 bytes → text rule). `out` needs
 * JT_CURRENCY_TEXT_MAX bytes. */
JT_API void jt_currency_to_text(const jt_currency *c, char out[JT_CURRENCY_TEXT_MAX]);

/* true when the currency is SWT (all zero). */
JT_API bool jt_currency_is_swt(const jt_currency *c);

#ifdef __cplusplus
}
#endif
#endif
