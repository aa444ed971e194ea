/* amount_math.c — amount arithmetic as skywelld does it (see jt/amount_math.h).
 *
 * Two families live here and are kept apart on purpose:
 *
 *  - skywelld's STAmount operations (add, multiply, divide, mulRound,
 *    divRound, getRate, amountFromQuality), reproduced step for step,
 *    quirks included: the +7 and +5 nudges, canonicalizeRound's partial
 *    rounding, the native multiplication limits. Their results decide
 *    ledger state, so "better" arithmetic here would be a fork.
 *
 *  - the engine's transfer-rate and quality helpers (mul_rate, div_rate,
 *    quality, mul_quality, div_quality), which round from the exact product
 *    and are defined by what jt-node has always computed.
 *
 * Intermediates are unsigned 128-bit: a 64-bit mantissa times 10^17 or
 * times another mantissa always fits, so no step can wrap where skywelld's
 * bignum would not. Exponents are carried as int64 so that no input struct,
 * however far from canonical, can overflow them.
 */
#include <string.h>

#include "internal.h"
#include "jt/amount_math.h"

__extension__ typedef unsigned __int128 u128;

#define MIN_M      JT_MIN_MANTISSA /* 10^15 */
#define MAX_M      JT_MAX_MANTISSA /* 10^16 − 1 */
#define MAX_NATIVE JT_MAX_TX_DROPS /* skywelld's cMaxNativeN, 10^17 */
#define TEN_14     100000000000000ULL
#define TEN_17     100000000000000000ULL
#define TEN_18     1000000000000000000ULL
#define QUALITY_M  0x00FFFFFFFFFFFFFFULL /* mantissa bits of a quality */

/* ---- building and reading ---- */

void jt_amount_native(jt_amount *a, int64_t drops)
{
    memset(a, 0, sizeof *a);
    a->native = true;
    a->negative = drops < 0;
    a->mantissa = drops < 0 ? (uint64_t)0 - (uint64_t)drops : (uint64_t)drops;
}

int64_t jt_amount_drops(const jt_amount *a)
{
    return (int64_t)(a->negative ? (uint64_t)0 - a->mantissa : a->mantissa);
}

void jt_amount_zero_like(jt_amount *a, const jt_amount *like)
{
    jt_amount r = *like;
    r.negative = false;
    r.mantissa = 0;
    r.exponent = 0;
    *a = r;
}

bool jt_amount_is_zero(const jt_amount *a)
{
    return a->mantissa == 0;
}

int jt_amount_sign(const jt_amount *a)
{
    return a->mantissa == 0 ? 0 : a->negative ? -1 : 1;
}

void jt_amount_negate(jt_amount *a)
{
    if (a->mantissa)
        a->negative = !a->negative;
}

/* The engine's normalization: m cut (or, with round_up, rounded up in
 * magnitude when a non-zero digit is cut) to [10^15, 10^16), zero below
 * exponent −96. false when the exponent ends above 80. */
static bool normalize(u128 m, int64_t e, bool round_up, uint64_t *om, int32_t *oe)
{
    if (m == 0) {
        *om = 0;
        *oe = 0;
        return true;
    }
    bool lost = false;
    while (m > MAX_M) {
        lost |= m % 10 != 0;
        m /= 10;
        e++;
    }
    while (m < MIN_M) {
        m *= 10;
        e--;
    }
    if (round_up && lost) {
        m++;
        if (m > MAX_M) {
            m /= 10;
            e++;
        }
    }
    if (e < JT_MIN_EXPONENT) {
        *om = 0;
        *oe = 0;
        return true;
    }
    if (e > JT_MAX_EXPONENT)
        return false;
    *om = (uint64_t)m;
    *oe = (int32_t)e;
    return true;
}

jt_err jt_amount_from_mantissa(jt_amount *a, int64_t m, int e, const jt_currency *currency,
                               const jt_account_id *issuer)
{
    jt_amount r;
    memset(&r, 0, sizeof r);
    if (currency)
        r.currency = *currency;
    if (issuer)
        r.issuer = *issuer;
    r.negative = m < 0;
    uint64_t um = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
    jt_err err = JT_OK;
    if (!normalize(um, e, false, &r.mantissa, &r.exponent)) {
        r.mantissa = MAX_M;
        r.exponent = JT_MAX_EXPONENT;
        err = JT_EAMOUNT_RANGE;
    }
    if (!r.mantissa)
        r.negative = false;
    *a = r;
    return err;
}

/* ---- sums ---- */

static bool same_currency(const jt_amount *a, const jt_amount *b)
{
    return memcmp(a->currency.bytes, b->currency.bytes, sizeof a->currency.bytes) == 0;
}

static jt_err add_signed(const jt_amount *a, const jt_amount *b, bool negate_b, jt_amount *out)
{
    if (a->native != b->native || (!a->native && !same_currency(a, b)))
        return JT_EINVAL;
    bool bneg = b->mantissa && (b->negative != negate_b);
    if (a->native) {
        int64_t x = jt_amount_drops(a),
                y = (int64_t)(bneg ? (uint64_t)0 - b->mantissa : b->mantissa);
        int64_t z;
        if (__builtin_add_overflow(x, y, &z))
            return JT_EAMOUNT_RANGE;
        jt_amount_native(out, z);
        return JT_OK;
    }
    if (b->mantissa == 0) {
        *out = *a;
        return JT_OK;
    }
    if (a->mantissa == 0) {
        jt_amount r = *b;
        r.negative = bneg;
        r.currency = a->currency;
        r.issuer = a->issuer;
        *out = r;
        return JT_OK;
    }
    /* Canonical mantissas are below 2^54, so these signed values and their
     * sum fit easily; the overflow test only guards structs far from
     * canonical. Division in C truncates toward zero, as in C++. */
    int64_t va = (int64_t)(a->negative ? (uint64_t)0 - a->mantissa : a->mantissa);
    int64_t vb = (int64_t)(bneg ? (uint64_t)0 - b->mantissa : b->mantissa);
    int64_t ea = a->exponent, eb = b->exponent;
    while (ea < eb && va) {
        va /= 10;
        ea++;
    }
    while (eb < ea && vb) {
        vb /= 10;
        eb++;
    }
    ea = ea > eb ? ea : eb;
    int64_t v;
    if (__builtin_add_overflow(va, vb, &v))
        return JT_EAMOUNT_RANGE;
    jt_amount r;
    if (v >= -10 && v <= 10) {
        jt_amount_zero_like(&r, a);
    } else {
        uint64_t m;
        int32_t e;
        if (!normalize(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, ea, false, &m, &e))
            return JT_EAMOUNT_RANGE;
        r = *a;
        r.negative = v < 0 && m;
        r.mantissa = m;
        r.exponent = e;
    }
    *out = r;
    return JT_OK;
}

jt_err jt_amount_add(const jt_amount *a, const jt_amount *b, jt_amount *out)
{
    return add_signed(a, b, false, out);
}

jt_err jt_amount_sub(const jt_amount *a, const jt_amount *b, jt_amount *out)
{
    return add_signed(a, b, true, out);
}

/* ---- skywelld's products and quotients ---- */

/* An operand as skywelld's multiply/divide take it: natives scaled up to at
 * least 10^15 (never down: drops of 10^16 and more keep every digit). */
static void operand(const jt_amount *a, u128 *m, int64_t *e)
{
    uint64_t v = a->mantissa;
    int64_t x = a->native ? 0 : a->exponent;
    if (a->native && v) {
        while (v < MIN_M) {
            v *= 10;
            x--;
        }
    }
    *m = v;
    *e = x;
}

/* skywelld's canonicalize() of value·10^e into like's kind: natives cut to
 * whole drops (at most 10^17), issued values cut to 16 digits, zero below
 * 10^−96. Zero is never negative here (skywelld can leave the sign set on a
 * zero it truncated to; the value is the same). */
static jt_err canonical(u128 v, int64_t e, bool neg, const jt_amount *like, jt_amount *out)
{
    jt_amount r;
    jt_amount_zero_like(&r, like);
    if (v == 0) {
        *out = r;
        return JT_OK;
    }
    if (like->native) {
        while (e < 0 && v) {
            v /= 10;
            e++;
        }
        while (e > 0 && v && v <= MAX_NATIVE) {
            v *= 10;
            e--;
        }
        if (v > MAX_NATIVE)
            return JT_EAMOUNT_RANGE;
        r.mantissa = (uint64_t)v;
    } else {
        while (v < MIN_M && e > JT_MIN_EXPONENT) {
            v *= 10;
            e--;
        }
        while (v > MAX_M) {
            if (e >= JT_MAX_EXPONENT)
                return JT_EAMOUNT_RANGE;
            v /= 10;
            e++;
        }
        if (e < JT_MIN_EXPONENT || v < MIN_M) {
            *out = r;
            return JT_OK;
        }
        if (e > JT_MAX_EXPONENT)
            return JT_EAMOUNT_RANGE;
        r.mantissa = (uint64_t)v;
        r.exponent = (int32_t)e;
    }
    r.negative = neg && r.mantissa;
    *out = r;
    return JT_OK;
}

/* skywelld's canonicalizeRound(), applied before canonical() when the
 * magnitude is to be rounded up. Only the last digit cut here is rounded;
 * and a native value one or two digits below the drop gains a drop even
 * when those digits are zero. Both are skywelld's behaviour, kept. */
static void round_up_last(bool native, u128 *v, int64_t *e)
{
    if (native) {
        if (*e < 0) {
            int loops = 0;
            while (*e < -1) {
                if (*v == 0 && loops >= 2) { /* nothing left to cut */
                    *e = -1;
                    break;
                }
                *v /= 10;
                ++*e;
                loops++;
            }
            *v += loops >= 2 ? 9 : 10;
            *v /= 10;
            ++*e;
        }
    } else if (*v > MAX_M) {
        while (*v > (u128)10 * MAX_M) {
            *v /= 10;
            ++*e;
        }
        *v += 9;
        *v /= 10;
        ++*e;
    }
}

/* Native × native into native: skywelld multiplies the drops exactly and
 * refuses what its overflow test refuses. That test reads the drops as
 * unsigned after a signed comparison, so a negative operand always fails
 * it; the INT64_MAX bound is ours (past it skywelld's result wraps). */
static jt_err mul_native(const jt_amount *a, const jt_amount *b, jt_amount *out)
{
    if ((a->negative && a->mantissa) || (b->negative && b->mantissa))
        return JT_EAMOUNT_RANGE;
    uint64_t lo = a->mantissa < b->mantissa ? a->mantissa : b->mantissa;
    uint64_t hi = a->mantissa < b->mantissa ? b->mantissa : a->mantissa;
    if (lo > 3000000000ULL || (hi >> 32) * lo > 2095475792ULL)
        return JT_EAMOUNT_RANGE;
    u128 p = (u128)lo * hi;
    if (p > (u128)INT64_MAX)
        return JT_EAMOUNT_RANGE;
    jt_amount_native(out, (int64_t)p);
    return JT_OK;
}

/* The work of multiply() and mulRound(): `rounding` false is multiply()
 * (+7 after the division), true is mulRound() toward +inf (round_up) or
 * −inf. */
static jt_err mul_impl(const jt_amount *a, const jt_amount *b, const jt_amount *like, bool rounding,
                       bool round_up, jt_amount *out)
{
    if (a->mantissa == 0 || b->mantissa == 0) {
        jt_amount_zero_like(out, like);
        return JT_OK;
    }
    if (a->native && b->native && like->native)
        return mul_native(a, b, out);
    u128 ma, mb;
    int64_t ea, eb;
    operand(a, &ma, &ea);
    operand(b, &mb, &eb);
    bool neg = a->negative != b->negative;
    u128 v = ma * mb;
    int64_t e = ea + eb + 14;
    if (!rounding)
        return canonical(v / TEN_14 + 7, e, neg, like, out);
    bool up = neg != round_up; /* the magnitude rounds up */
    if (up)
        v += TEN_14 - 1;
    v /= TEN_14;
    if (up)
        round_up_last(like->native, &v, &e);
    return canonical(v, e, neg, like, out);
}

static jt_err div_impl(const jt_amount *a, const jt_amount *b, const jt_amount *like, bool rounding,
                       bool round_up, jt_amount *out)
{
    if (b->mantissa == 0)
        return JT_EINVAL;
    if (a->mantissa == 0) {
        jt_amount_zero_like(out, like);
        return JT_OK;
    }
    u128 ma, mb;
    int64_t ea, eb;
    operand(a, &ma, &ea);
    operand(b, &mb, &eb);
    bool neg = a->negative != b->negative;
    u128 v = ma * TEN_17;
    int64_t e = ea - eb - 17;
    if (!rounding)
        return canonical(v / mb + 5, e, neg, like, out);
    bool up = neg != round_up;
    if (up)
        v += mb - 1;
    v /= mb;
    if (up)
        round_up_last(like->native, &v, &e);
    return canonical(v, e, neg, like, out);
}

jt_err jt_amount_mul(const jt_amount *a, const jt_amount *b, const jt_amount *like, jt_amount *out)
{
    return mul_impl(a, b, like, false, false, out);
}

jt_err jt_amount_div(const jt_amount *a, const jt_amount *b, const jt_amount *like, jt_amount *out)
{
    return div_impl(a, b, like, false, false, out);
}

jt_err jt_amount_mul_round(const jt_amount *a, const jt_amount *b, const jt_amount *like,
                           bool round_up, jt_amount *out)
{
    return mul_impl(a, b, like, true, round_up, out);
}

jt_err jt_amount_div_round(const jt_amount *a, const jt_amount *b, const jt_amount *like,
                           bool round_up, jt_amount *out)
{
    return div_impl(a, b, like, true, round_up, out);
}

/* ---- rates and qualities ---- */

/* An issued-kind zero with all-zero currency and issuer: the shape of a
 * number. */
static void number_like(jt_amount *n)
{
    memset(n, 0, sizeof *n);
}

static uint64_t pack_quality(uint64_t m, int32_t e)
{
    return ((uint64_t)(e + 100) << 56) | m;
}

uint64_t jt_amount_rate(const jt_amount *offer_out, const jt_amount *offer_in)
{
    if (offer_out->mantissa == 0)
        return 0;
    jt_amount like, r;
    number_like(&like);
    if (jt_amount_div(offer_in, offer_out, &like, &r) != JT_OK || r.mantissa == 0)
        return 0;
    return pack_quality(r.mantissa, r.exponent);
}

jt_err jt_amount_from_rate(uint64_t quality, jt_amount *out)
{
    jt_amount like;
    number_like(&like);
    return canonical(quality & QUALITY_M, (int64_t)(quality >> 56) - 100, false, &like, out);
}

void jt_amount_from_transfer_rate(uint32_t rate, jt_amount *out)
{
    jt_amount like;
    number_like(&like);
    /* rate < 2^32, exponent −9: always in range. */
    (void)canonical(rate, -9, false, &like, out);
}

/* The value of `a` as a 16-digit mantissa and an exponent, natives included
 * (cut to 16 digits when they have more). */
static void as_value(const jt_amount *a, uint64_t *m, int32_t *e)
{
    if (!a->native) {
        *m = a->mantissa;
        *e = a->exponent;
        return;
    }
    if (!normalize(a->mantissa, 0, false, m, e)) {
        *m = 0;
        *e = 0;
    }
}

/* m·10^e into like's kind for the engine's helpers: natives to whole drops
 * from the exact value (cut, or rounded up in magnitude when round_up and a
 * non-zero digit was cut), issued through normalize(). */
static jt_err build(u128 m, int64_t e, bool neg, bool round_up, const jt_amount *like,
                    jt_amount *out)
{
    jt_amount r = *like;
    if (like->native) {
        bool lost = false;
        while (e < 0 && m) {
            lost |= m % 10 != 0;
            m /= 10;
            e++;
        }
        while (e > 0 && m) {
            if (m > (u128)JT_MAX_NATIVE_DROPS * 10)
                return JT_EAMOUNT_RANGE;
            m *= 10;
            e--;
        }
        if (round_up && lost)
            m++;
        if (m > (u128)INT64_MAX)
            return JT_EAMOUNT_RANGE;
        r.mantissa = (uint64_t)m;
        r.exponent = 0;
    } else {
        if (!normalize(m, e, round_up, &r.mantissa, &r.exponent))
            return JT_EAMOUNT_RANGE;
    }
    r.negative = neg && r.mantissa;
    *out = r;
    return JT_OK;
}

jt_err jt_amount_mul_rate(const jt_amount *a, uint32_t rate, bool round_up, jt_amount *out)
{
    return build((u128)a->mantissa * rate, (int64_t)a->exponent - 9, a->negative, round_up, a, out);
}

jt_err jt_amount_div_rate(const jt_amount *a, uint32_t rate, jt_amount *out)
{
    if (!rate)
        return JT_EINVAL;
    /* Scaled up before dividing so the quotient keeps its digits. */
    u128 m = (u128)a->mantissa * TEN_18 / rate;
    return build(m, (int64_t)a->exponent + 9 - 18, a->negative, false, a, out);
}

uint64_t jt_amount_quality(const jt_amount *pays, const jt_amount *gets)
{
    if (pays->mantissa == 0 || gets->mantissa == 0)
        return 0;
    uint64_t mp, mg, nm;
    int32_t ep, eg, ne;
    as_value(pays, &mp, &ep);
    as_value(gets, &mg, &eg);
    u128 m = (u128)mp * TEN_17 / mg;
    if (!normalize(m, (int64_t)ep - eg - 17, false, &nm, &ne) || nm == 0)
        return 0;
    return pack_quality(nm, ne);
}

jt_err jt_amount_quality_text(uint64_t quality, char *out, size_t cap)
{
    jt_amount a;
    memset(&a, 0, sizeof a);
    a.mantissa = quality & QUALITY_M;
    a.exponent = a.mantissa ? (int32_t)(quality >> 56) - 100 : 0;
    jt_err err = jt_amount_value_text(&a, out, cap);
    if (err != JT_OK && cap > 0) {
        out[0] = cap > 1 ? '0' : '\0';
        out[cap > 1 ? 1 : 0] = '\0';
    }
    return err;
}

jt_err jt_amount_mul_quality(const jt_amount *gets, uint64_t quality, const jt_amount *like,
                             bool round_up, jt_amount *out)
{
    uint64_t mg, qm = quality & QUALITY_M;
    int32_t eg;
    int64_t qe = (int64_t)(quality >> 56) - 100;
    as_value(gets, &mg, &eg);
    return build((u128)mg * qm, eg + qe, false, round_up, like, out);
}

jt_err jt_amount_div_quality(const jt_amount *pays, uint64_t quality, const jt_amount *like,
                             jt_amount *out)
{
    uint64_t mp, qm = quality & QUALITY_M;
    int32_t ep;
    int64_t qe = (int64_t)(quality >> 56) - 100;
    if (!qm)
        return JT_EINVAL;
    as_value(pays, &mp, &ep);
    return build((u128)mp * TEN_17 / qm, ep - qe - 17, false, false, like, out);
}
