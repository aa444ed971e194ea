/*
 * amt.h — amount arithmetic for the ledger engine, as skywelld computes it:
 * native amounts are signed drop counts; issued amounts are a signed
 * 16-digit mantissa and an exponent, normalized after every operation, with
 * exponents aligned by truncating the smaller one (STAmount's rules).
 * No floating point. All functions are pure and thread-safe.
 */
#ifndef JN_AMT_H
#define JN_AMT_H

#include <stdbool.h>
#include <stdint.h>

#include <jt/jt.h>

/* Native amount of `drops` (may be negative). */
void jn_amt_drops(jt_amount *a, int64_t drops);
/* Signed drops of a native amount. */
int64_t jn_amt_to_drops(const jt_amount *a);
/* Zero of the same currency and issuer as `like`. */
void jn_amt_zero_like(jt_amount *a, const jt_amount *like);
/* An issued amount m·10^e (normalized), currency/issuer from the arguments. */
void jn_amt_issued(jt_amount *a, int64_t m, int e, const jt_currency *cur, const jt_account_id *iss);

bool jn_amt_is_zero(const jt_amount *a);
/* -1, 0, 1 */
int jn_amt_sign(const jt_amount *a);
void jn_amt_negate(jt_amount *a);
/* Value comparison (currency ignored): -1, 0, 1. */
int jn_amt_cmp(const jt_amount *a, const jt_amount *b);

/* out = a + b (out takes a's currency and issuer). Returns false on
 * overflow (exponent beyond 80 or native beyond int64). */
bool jn_amt_add(const jt_amount *a, const jt_amount *b, jt_amount *out);
bool jn_amt_sub(const jt_amount *a, const jt_amount *b, jt_amount *out);
/* out = a * rate / 10^9 (a transfer rate), rounded up when `round_up`. */
bool jn_amt_mul_rate(const jt_amount *a, uint32_t rate, bool round_up, jt_amount *out);
/* out = a * 10^9 / rate, rounded down: what `a` buys when `rate` is charged. */
bool jn_amt_div_rate(const jt_amount *a, uint32_t rate, jt_amount *out);

/* The offer quality TakerPays/TakerGets as skywelld stores it in a book
 * directory: ((e + 100) << 56) | m, 0 when either side is zero. */
uint64_t jn_amt_quality(const jt_amount *pays, const jt_amount *gets);
/* The quality as decimal text ("0.000000005"), into out (cap >= 48). */
void jn_quality_text(uint64_t q, char *out, size_t cap);
/* out = gets * quality: what a taker pays for `gets` at quality q, with
 * out's currency/issuer from `pays_like`. */
bool jn_amt_mul_quality(const jt_amount *gets, uint64_t q, const jt_amount *pays_like, bool round_up,
                        jt_amount *out);
/* out = pays / quality. */
bool jn_amt_div_quality(const jt_amount *pays, uint64_t q, const jt_amount *gets_like, jt_amount *out);

#endif
