/* amt.c — engine amount arithmetic (see amt.h). */
#include "amt.h"

#include <stdio.h>
#include <string.h>

#define MIN_M 1000000000000000ULL /* 10^15 */
#define MAX_M 9999999999999999ULL /* 10^16 - 1 */

typedef unsigned __int128 u128;

void jn_amt_drops(jt_amount *a, int64_t drops)
{
    memset(a, 0, sizeof *a);
    a->native = true;
    a->negative = drops < 0;
    a->mantissa = drops < 0 ? (uint64_t)0 - (uint64_t)drops : (uint64_t)drops;
}

int64_t jn_amt_to_drops(const jt_amount *a)
{
    return a->negative ? -(int64_t)a->mantissa : (int64_t)a->mantissa;
}

void jn_amt_zero_like(jt_amount *a, const jt_amount *like)
{
    *a = *like;
    a->negative = false;
    a->mantissa = 0;
    a->exponent = 0;
}

bool jn_amt_is_zero(const jt_amount *a)
{
    return a->mantissa == 0;
}

int jn_amt_sign(const jt_amount *a)
{
    return a->mantissa == 0 ? 0 : a->negative ? -1 : 1;
}

void jn_amt_negate(jt_amount *a)
{
    if (a->mantissa)
        a->negative = !a->negative;
}

/* Normalizes an unsigned 128-bit mantissa into [10^15, 10^16) (truncating,
 * or rounding up when asked). False when the exponent overflows. */
static bool normalize(u128 m, int e, bool round_up, uint64_t *om, int *oe)
{
    if (m == 0) {
        *om = 0;
        *oe = 0;
        return true;
    }
    bool lost = false;
    while (m > MAX_M) {
        if (m % 10)
            lost = true;
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
    *oe = e;
    return true;
}

void jn_amt_issued(jt_amount *a, int64_t m, int e, const jt_currency *cur, const jt_account_id *iss)
{
    memset(a, 0, sizeof *a);
    a->currency = *cur;
    a->issuer = *iss;
    a->negative = m < 0;
    uint64_t um = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
    uint64_t nm;
    int ne;
    if (!normalize(um, e, false, &nm, &ne)) {
        nm = MAX_M;
        ne = JT_MAX_EXPONENT;
    }
    a->mantissa = nm;
    a->exponent = ne;
    if (!nm)
        a->negative = false;
}

/* Value as (mantissa, exponent) with natives scaled like issued values. */
static void as_value(const jt_amount *a, uint64_t *m, int *e)
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

int jn_amt_cmp(const jt_amount *a, const jt_amount *b)
{
    int sa = jn_amt_sign(a), sb = jn_amt_sign(b);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    int r;
    if (a->native && b->native) {
        r = a->mantissa < b->mantissa ? -1 : a->mantissa > b->mantissa;
    } else {
        uint64_t ma, mb;
        int ea, eb;
        as_value(a, &ma, &ea);
        as_value(b, &mb, &eb);
        if (ea != eb)
            r = ea < eb ? -1 : 1;
        else
            r = ma < mb ? -1 : ma > mb;
    }
    return sa < 0 ? -r : r;
}

bool jn_amt_add(const jt_amount *a, const jt_amount *b, jt_amount *out)
{
    if (a->native) {
        int64_t x = jn_amt_to_drops(a), y = jn_amt_to_drops(b), z;
        if (__builtin_add_overflow(x, y, &z))
            return false;
        jn_amt_drops(out, z);
        return true;
    }
    if (jn_amt_is_zero(b)) {
        *out = *a;
        return true;
    }
    if (jn_amt_is_zero(a)) {
        jt_amount r = *b;
        r.currency = a->currency;
        r.issuer = a->issuer;
        *out = r;
        return true;
    }
    int64_t va = (int64_t)a->mantissa, vb = (int64_t)b->mantissa;
    int ea = a->exponent, eb = b->exponent;
    if (a->negative)
        va = -va;
    if (b->negative)
        vb = -vb;
    /* Align on the larger exponent, truncating the smaller operand. */
    while (ea < eb) {
        va /= 10;
        ea++;
    }
    while (eb < ea) {
        vb /= 10;
        eb++;
    }
    int64_t v = va + vb;
    jt_amount r;
    if (v >= -10 && v <= 10) {
        jn_amt_zero_like(&r, a);
    } else {
        uint64_t m;
        int e;
        if (!normalize(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, ea, false, &m, &e))
            return false;
        r = *a;
        r.negative = v < 0 && m;
        r.mantissa = m;
        r.exponent = e;
    }
    *out = r;
    return true;
}

bool jn_amt_sub(const jt_amount *a, const jt_amount *b, jt_amount *out)
{
    jt_amount nb = *b;
    jn_amt_negate(&nb);
    return jn_amt_add(a, &nb, out);
}

/* out (shaped like `like`) = m·10^e, native results in whole drops. */
static bool build(u128 m, int e, bool neg, bool round_up, const jt_amount *like, jt_amount *out)
{
    jt_amount r = *like;
    if (like->native) {
        /* Scale to exponent 0 (drops). */
        bool lost = false;
        while (e < 0 && m) {
            if (m % 10)
                lost = true;
            m /= 10;
            e++;
        }
        while (e > 0) {
            if (m > (u128)JT_MAX_NATIVE_DROPS * 10)
                return false;
            m *= 10;
            e--;
        }
        if (round_up && lost)
            m++;
        if (m > (u128)INT64_MAX)
            return false;
        r.mantissa = (uint64_t)m;
        r.exponent = 0;
    } else {
        uint64_t nm;
        int ne;
        if (!normalize(m, e, round_up, &nm, &ne))
            return false;
        r.mantissa = nm;
        r.exponent = ne;
    }
    r.negative = neg && r.mantissa;
    *out = r;
    return true;
}

bool jn_amt_mul_rate(const jt_amount *a, uint32_t rate, bool round_up, jt_amount *out)
{
    u128 m = (u128)a->mantissa * rate;
    return build(m, a->exponent - 9, a->negative, round_up, a, out);
}

bool jn_amt_div_rate(const jt_amount *a, uint32_t rate, jt_amount *out)
{
    if (!rate)
        return false;
    /* Keep precision: scale the mantissa up before dividing. */
    u128 m = (u128)a->mantissa * 1000000000000000000ULL; /* 10^18 */
    m /= rate;
    return build(m, a->exponent + 9 - 18, a->negative, false, a, out);
}

uint64_t jn_amt_quality(const jt_amount *pays, const jt_amount *gets)
{
    if (jn_amt_is_zero(pays) || jn_amt_is_zero(gets))
        return 0;
    uint64_t mp, mg;
    int ep, eg;
    as_value(pays, &mp, &ep);
    as_value(gets, &mg, &eg);
    u128 m = (u128)mp * 100000000000000000ULL; /* 10^17 */
    m /= mg;
    uint64_t nm;
    int ne;
    if (!normalize(m, ep - eg - 17, false, &nm, &ne) || nm == 0)
        return 0;
    return ((uint64_t)(ne + 100) << 56) | nm;
}

void jn_quality_text(uint64_t q, char *out, size_t cap)
{
    jt_amount a;
    memset(&a, 0, sizeof a);
    a.mantissa = q & 0x00FFFFFFFFFFFFFFULL;
    a.exponent = (int)(q >> 56) - 100;
    if (!a.mantissa)
        a.exponent = 0;
    if (jt_amount_value_text(&a, out, cap) != JT_OK)
        snprintf(out, cap, "0");
}

bool jn_amt_mul_quality(const jt_amount *gets, uint64_t q, const jt_amount *pays_like, bool round_up,
                        jt_amount *out)
{
    uint64_t mg, qm = q & 0x00FFFFFFFFFFFFFFULL;
    int eg, qe = (int)(q >> 56) - 100;
    as_value(gets, &mg, &eg);
    u128 m = (u128)mg * qm;
    return build(m, eg + qe, false, round_up, pays_like, out);
}

bool jn_amt_div_quality(const jt_amount *pays, uint64_t q, const jt_amount *gets_like, jt_amount *out)
{
    uint64_t mp, qm = q & 0x00FFFFFFFFFFFFFFULL;
    int ep, qe = (int)(q >> 56) - 100;
    if (!qm)
        return false;
    as_value(pays, &mp, &ep);
    u128 m = (u128)mp * 100000000000000000ULL;
    m /= qm;
    return build(m, ep - qe - 17, false, false, gets_like, out);
}
