/*
 * jt/amount_math.h — amount arithmetic as skywelld does it (its STAmount,
 * the 2015 rippled code it forked): the ledger engine, the gateway and the
 * wallets compute balances, transfer fees, offer qualities and crossings
 * with these, so that every program gets the ledger's own numbers.
 *
 * Values: a native amount is a signed count of drops (mantissa, exponent 0);
 * an issued amount is a signed 16-digit mantissa in [10^15, 10^16 − 1] times
 * 10^exponent, exponent in [−96, 80], or zero (mantissa 0, exponent 0, never
 * negative). Results are always in that form. Issued results are cut to 16
 * digits by truncation (toward zero) unless a function says it rounds;
 * below 10^−81 they become zero (underflow is not an error).
 *
 * A "number" is an issued-kind value whose currency and issuer are all zero,
 * as jt_amount_from_rate() and jt_amount_from_transfer_rate() make: a rate or
 * a quality as an amount, never serialized (jt_amount_encode refuses it).
 *
 * Results that take the kind, currency and issuer of a `like` argument are
 * native when like->native, issued otherwise; like's value is not read.
 *
 * Errors, for every function here that returns jt_err:
 *   JT_EAMOUNT_RANGE  the result does not fit (issued exponent above 80;
 *                     native beyond the limit the function names);
 *   JT_EINVAL         division by zero, or operands that cannot be combined
 *                     (native with issued, different currencies).
 * On an error *out is left unchanged. `out` may be one of the operands.
 *
 * No floating point; exact 128-bit integer intermediates. Every function is
 * pure, allocates nothing and is thread-safe. Value comparison is
 * jt_amount_cmp() in jt/amount.h.
 */
#ifndef JT_AMOUNT_MATH_H
#define JT_AMOUNT_MATH_H

#include "jt/amount.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- building and reading ----------------------------------------------- */

/* A native amount of `drops` (may be negative); currency and issuer zero. */
JT_API void jt_amount_native(jt_amount *a, int64_t drops);

/* The signed drops of a native amount (a->mantissa taken as drops whatever
 * the kind; an out-of-range mantissa wraps modulo 2^64). */
JT_API int64_t jt_amount_drops(const jt_amount *a);

/* Zero of the same kind, currency and issuer as `like`. */
JT_API void jt_amount_zero_like(jt_amount *a, const jt_amount *like);

/* The issued-kind amount m·10^e, normalized (truncated to 16 digits, zero on
 * underflow), with `currency` and `issuer` (NULL: all zero). Whatever the
 * currency, the result is issued-kind. Errors: JT_EAMOUNT_RANGE when the
 * exponent overflows — *a is then set to ±9999999999999999e80 all the same,
 * so a caller that ignores the error gets the nearest value. */
JT_API jt_err jt_amount_from_mantissa(jt_amount *a, int64_t m, int e, const jt_currency *currency,
                                      const jt_account_id *issuer);

/* true when the value is zero (mantissa 0), whatever the sign flag. */
JT_API bool jt_amount_is_zero(const jt_amount *a);

/* -1, 0 or 1. */
JT_API int jt_amount_sign(const jt_amount *a);

/* Flips the sign; zero stays non-negative. */
JT_API void jt_amount_negate(jt_amount *a);

/* ---- sums --------------------------------------------------------------- */

/* out = a + b, in a's currency and issuer. Both native, or both issued in
 * the same currency (issuers are not compared, as skywelld does not).
 * Native: exact; JT_EAMOUNT_RANGE only when the sum leaves int64. Issued:
 * the operand with the smaller exponent is first cut (toward zero) to the
 * larger exponent, and a sum within ±10 units of that exponent is zero;
 * JT_EAMOUNT_RANGE above 9999999999999999e80. JT_EINVAL for mixed kinds or
 * currencies. */
JT_API jt_err jt_amount_add(const jt_amount *a, const jt_amount *b, jt_amount *out) JT_MUST_CHECK;

/* out = a − b, as jt_amount_add(a, −b). */
JT_API jt_err jt_amount_sub(const jt_amount *a, const jt_amount *b, jt_amount *out) JT_MUST_CHECK;

/* ---- products and quotients (skywelld's multiply, divide, mulRound, divRound)
 *
 * Both operands are taken as 16-digit mantissas (a native amount's drops are
 * scaled up to at least 10^15 first) and the result goes to like's kind:
 * native results are whole drops, cut toward zero, at most 10^17
 * (JT_EAMOUNT_RANGE above); issued results are normalized. The signs
 * multiply. */

/* skywelld's multiply(): out = a × b. Issued results are computed as
 * ⌊ma·mb / 10^14⌋ + 7 before normalizing (its nudge for products like
 * 0.3333… × 3). A native result of two native operands is their exact
 * product, and then, as in skywelld, refused (JT_EAMOUNT_RANGE) when either
 * operand is negative, when the smaller is above 3×10^9 drops, or when the
 * product leaves int64. */
JT_API jt_err jt_amount_mul(const jt_amount *a, const jt_amount *b, const jt_amount *like,
                            jt_amount *out) JT_MUST_CHECK;

/* skywelld's divide(): out = a / b, computed as ⌊ma·10^17 / mb⌋ + 5 before
 * normalizing. Errors: JT_EINVAL when b is zero; JT_EAMOUNT_RANGE. */
JT_API jt_err jt_amount_div(const jt_amount *a, const jt_amount *b, const jt_amount *like,
                            jt_amount *out) JT_MUST_CHECK;

/* skywelld's mulRound(): out = a × b rounded toward +infinity when round_up,
 * toward −infinity when not (a negative product rounds the other way in
 * magnitude). The rounding is skywelld's, not exact: for an issued result
 * only the last digit cut is rounded up (digits cut before it are
 * truncated); for a native result with at most two digits below the drop
 * the magnitude goes up by one drop even when nothing is cut. Native ×
 * native into native is exact, with jt_amount_mul's limits. */
JT_API jt_err jt_amount_mul_round(const jt_amount *a, const jt_amount *b, const jt_amount *like,
                                  bool round_up, jt_amount *out) JT_MUST_CHECK;

/* skywelld's divRound(): out = a / b, rounded as jt_amount_mul_round.
 * Errors: JT_EINVAL when b is zero; JT_EAMOUNT_RANGE. */
JT_API jt_err jt_amount_div_round(const jt_amount *a, const jt_amount *b, const jt_amount *like,
                                  bool round_up, jt_amount *out) JT_MUST_CHECK;

/* ---- rates and qualities ------------------------------------------------
 *
 * A quality is an exchange rate packed as a book directory stores it:
 * ((exponent + 100) << 56) | mantissa of a normalized value, 0 for none.
 * Lower is better for the taker. */

/* skywelld's getRate(offerOut, offerIn): the quality offer_in / offer_out
 * (an offer's TakerPays over its TakerGets), by jt_amount_div. Signs are
 * ignored. 0 when offer_out or the quotient is zero, or on overflow. */
JT_API uint64_t jt_amount_rate(const jt_amount *offer_out, const jt_amount *offer_in);

/* skywelld's amountFromQuality(): the number a quality stands for, the
 * inverse of jt_amount_rate (0 gives a zero number). Errors:
 * JT_EAMOUNT_RANGE when the packed exponent is beyond 80 even after
 * normalizing. */
JT_API jt_err jt_amount_from_rate(uint64_t quality, jt_amount *out) JT_MUST_CHECK;

/* skywelld's amountFromRate(): a transfer rate (parts per 10^9,
 * JT_QUALITY_ONE = 1) as a number, rate·10^−9; 0 gives zero. */
JT_API void jt_amount_from_transfer_rate(uint32_t rate, jt_amount *out);

/* The engine's transfer-rate arithmetic: out = a × rate / 10^9, from the
 * exact product, in a's kind, currency and issuer. Digits below the last
 * kept one (a drop, or the 16th digit) are cut, and when round_up and any
 * of them is not zero the magnitude goes up by one unit. Native results
 * may reach INT64_MAX drops. Errors: JT_EAMOUNT_RANGE. */
JT_API jt_err jt_amount_mul_rate(const jt_amount *a, uint32_t rate, bool round_up,
                                 jt_amount *out) JT_MUST_CHECK;

/* out = a × 10^9 / rate, cut toward zero: what `a` delivers when `rate` is
 * charged on it. Native: ⌊drops·10^9 / rate⌋. Issued: from ⌊m·10^18 / rate⌋
 * normalized. Errors: JT_EINVAL when rate is 0; JT_EAMOUNT_RANGE. */
JT_API jt_err jt_amount_div_rate(const jt_amount *a, uint32_t rate, jt_amount *out) JT_MUST_CHECK;

/* The quality pays / gets of an offer (TakerPays over TakerGets) as the
 * engine computes its book directory key: both sides as 16-digit mantissas
 * (drops of 10^16 and more cut to 16 digits), ⌊mp·10^17 / mg⌋ normalized,
 * truncated. Signs are ignored. 0 when either side is zero or the quotient
 * under- or overflows. This truncates where jt_amount_rate(gets, pays) adds
 * skywelld's +5 before normalizing, so the two can differ in the last digit. */
JT_API uint64_t jt_amount_quality(const jt_amount *pays, const jt_amount *gets);

/* A quality as decimal text, as jt_amount_value_text writes a value
 * ("0.000000005", "1234567890123456e-30"). Errors: JT_EBUFSIZE, and then
 * `out` holds "0" (or as much of it as fits; JT_AMOUNT_TEXT_MAX always
 * suffices). */
JT_API jt_err jt_amount_quality_text(uint64_t quality, char *out, size_t cap);

/* out = gets × quality: what a taker pays for `gets` at `quality`, in
 * like's kind, currency and issuer, cut toward zero, or rounded up in
 * magnitude when round_up and a non-zero digit was cut. The result is never
 * negative (signs are ignored). Native results are whole drops up to
 * INT64_MAX. Errors: JT_EAMOUNT_RANGE. */
JT_API jt_err jt_amount_mul_quality(const jt_amount *gets, uint64_t quality, const jt_amount *like,
                                    bool round_up, jt_amount *out) JT_MUST_CHECK;

/* out = pays / quality: what `pays` buys at `quality`, in like's kind,
 * currency and issuer, from ⌊mp·10^17 / mq⌋ cut toward zero; never negative.
 * Errors: JT_EINVAL when the quality's mantissa is 0; JT_EAMOUNT_RANGE. */
JT_API jt_err jt_amount_div_quality(const jt_amount *pays, uint64_t quality, const jt_amount *like,
                                    jt_amount *out) JT_MUST_CHECK;

#ifdef __cplusplus
}
#endif
#endif
