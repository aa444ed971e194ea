/* amount.c — STAmount values and currency codes (PROTOCOL.md §4.12–4.13, §7.1–7.8).
 *
 * Everything is done on the decimal text and on 64-bit integers: a value
 * never passes through a double, so nothing is rounded behind the caller's
 * back (the JS libraries' defects in §7 all come from doing that).
 */
#include <string.h>

#include "internal.h"
#include "jt/amount.h"
#include "jt/base58.h"

#define NATIVE_BIT     0x8000000000000000ULL /* set on issued amounts */
#define POSITIVE_BIT   0x4000000000000000ULL
#define DROPS_MASK     0x3FFFFFFFFFFFFFFFULL
#define MANTISSA_MASK  0x003FFFFFFFFFFFFFULL /* bits 53..0 */
#define EXPONENT_BIAS  97
#define MAX_SIG_DIGITS 16

/* An exponent written with more digits than this is out of range whatever
 * the mantissa; saturating here keeps the arithmetic in int64 for any input
 * length a process can hold. */
#define EXP_CAP 1000000000000000LL

/* Saturation point for drops while parsing: anything above it is over every
 * limit, so the exact value no longer matters. */
#define DROPS_CAP 1000000000000000000ULL

/* Room for a quoted copy of the input inside a 256-byte message. */
#define QUOTE_MAX 64

/* ---- message helpers ---- */

/* A printable, bounded copy of untrusted text for error messages: the input
 * may be megabytes long or hold control bytes. */
static void quote(const char *s, char out[QUOTE_MAX])
{
    size_t k = 0, limit = QUOTE_MAX - 6; /* quotes, "...", NUL */
    out[k++] = '"';
    size_t i = 0;
    for (; s[i] && k < limit; i++) {
        unsigned char c = (unsigned char)s[i];
        out[k++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    if (s[i]) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k++] = '"';
    out[k] = '\0';
}

static void describe_char(const char *s, size_t i, char out[16])
{
    unsigned char c = (unsigned char)s[i];
    static const char hexdig[] = "0123456789ABCDEF";
    if (c == '\0') {
        memcpy(out, "end of text", 12);
    } else if (c >= 0x20 && c < 0x7F) {
        out[0] = '\'';
        out[1] = (char)c;
        out[2] = '\'';
        out[3] = '\0';
    } else {
        memcpy(out, "byte 0x", 7);
        out[7] = hexdig[c >> 4];
        out[8] = hexdig[c & 15];
        out[9] = '\0';
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* Decimal digits of v into out (no NUL); returns the count (1..20). */
static size_t u64_digits(uint64_t v, char out[20])
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* ---- the number grammar ---- */

enum {
    NUM_PLUS = 1u,     /* a leading '+' */
    NUM_FRACTION = 2u, /* ".digits" */
    NUM_EXPONENT = 4u  /* "e[-+]digits" */
};

/* Where the parts of a number sit in its text. */
typedef struct num_parts {
    bool negative;
    size_t int_start, int_len;
    size_t frac_start, frac_len;
    bool exp_negative;
    size_t exp_start, exp_len;
} num_parts;

static jt_err bad_char(jt_errinfo *ei, const char *kind, const char *s, size_t i, const char *what)
{
    char q[QUOTE_MAX], c[16];
    quote(s, q);
    describe_char(s, i, c);
    return jt__err(ei, JT_EAMOUNT, NULL, (long)i, "malformed %s %s: %s at offset %zu, found %s",
                   kind, q, what, i, c);
}

/* Checks `s` against ^[-+]?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$
 * with the parts `allow` does not permit removed, and records where each
 * part is. `kind` names the kind of amount in messages. */
static jt_err scan_number(const char *s, unsigned allow, const char *kind, num_parts *np,
                          jt_errinfo *ei)
{
    memset(np, 0, sizeof *np);
    if (!s)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no %s given", kind);
    if (s[0] == '\0')
        return jt__err(ei, JT_EAMOUNT, NULL, 0, "empty %s", kind);
    size_t i = 0;
    if (s[0] == '+' && !(allow & NUM_PLUS))
        return bad_char(ei, kind, s, 0, "a '+' sign is not allowed");
    if (s[0] == '-' || s[0] == '+') {
        np->negative = s[0] == '-';
        i++;
    }
    np->int_start = i;
    while (is_digit(s[i]))
        i++;
    np->int_len = i - np->int_start;
    if (np->int_len == 0)
        return bad_char(ei, kind, s, i, "expected a digit");
    if (np->int_len > 1 && s[np->int_start] == '0')
        return bad_char(ei, kind, s, np->int_start + 1, "leading zeros are not allowed");
    if (s[i] == '.') {
        if (!(allow & NUM_FRACTION))
            return bad_char(ei, kind, s, i, "a fraction is not allowed (drops are whole)");
        i++;
        np->frac_start = i;
        while (is_digit(s[i]))
            i++;
        np->frac_len = i - np->frac_start;
        if (np->frac_len == 0)
            return bad_char(ei, kind, s, i, "expected a digit after '.'");
    }
    if (s[i] == 'e' || s[i] == 'E') {
        if (!(allow & NUM_EXPONENT))
            return bad_char(ei, kind, s, i, "an exponent is not allowed");
        i++;
        if (s[i] == '-' || s[i] == '+') {
            np->exp_negative = s[i] == '-';
            i++;
        }
        np->exp_start = i;
        while (is_digit(s[i]))
            i++;
        np->exp_len = i - np->exp_start;
        if (np->exp_len == 0)
            return bad_char(ei, kind, s, i, "expected a digit in the exponent");
    }
    if (s[i] != '\0')
        return bad_char(ei, kind, s, i, "unexpected character");
    return JT_OK;
}

/* The integer part as drops-sized integer, saturating at DROPS_CAP + 1. */
static uint64_t int_part_value(const char *s, const num_parts *np)
{
    uint64_t v = 0;
    for (size_t i = 0; i < np->int_len; i++) {
        v = v * 10 + (uint64_t)(s[np->int_start + i] - '0');
        if (v > DROPS_CAP) {
            v = DROPS_CAP + 1;
            break;
        }
    }
    return v;
}

static jt_err refuse_negative(jt_errinfo *ei, const char *s)
{
    char q[QUOTE_MAX];
    quote(s, q);
    return jt__err(ei, JT_EAMOUNT_RANGE, NULL, -1, "negative amounts are not allowed here: %s", q);
}

static void set_native(jt_amount *a, bool negative, uint64_t drops)
{
    memset(a, 0, sizeof *a);
    a->native = true;
    a->negative = negative && drops != 0; /* zero is never negative */
    a->mantissa = drops;
}

static jt_err native_limit(unsigned flags, uint64_t drops, const char *s, const char *unit,
                           jt_errinfo *ei)
{
    bool ledger = flags & JT_AMOUNT_LEDGER_RANGE;
    uint64_t limit = ledger ? JT_MAX_NATIVE_DROPS : JT_MAX_TX_DROPS;
    if (drops <= limit)
        return JT_OK;
    char q[QUOTE_MAX];
    quote(s, q);
    return jt__err(ei, JT_EAMOUNT_RANGE, NULL, -1, "%s %s is above the %s-drop limit (%s SWT)", q,
                   unit, ledger ? "6x10^17" : "10^17", ledger ? "600000000000" : "100000000000");
}

jt_err jt_amount_from_drops(jt_amount *a, const char *drops, unsigned flags, jt_errinfo *ei)
{
    num_parts np;
    jt_err e = scan_number(drops, 0, "drops amount", &np, ei);
    if (e)
        return e;
    uint64_t v = int_part_value(drops, &np);
    if (np.negative && v != 0 && !(flags & JT_AMOUNT_ALLOW_NEGATIVE))
        return refuse_negative(ei, drops);
    e = native_limit(flags, v, drops, "drops", ei);
    if (e)
        return e;
    set_native(a, np.negative, v);
    return JT_OK;
}

jt_err jt_amount_from_swt(jt_amount *a, const char *swt, unsigned flags, jt_errinfo *ei)
{
    num_parts np;
    jt_err e = scan_number(swt, NUM_FRACTION, "SWT amount", &np, ei);
    if (e)
        return e;
    /* A seventh decimal is allowed only as a trailing zero: the value must be
     * a whole number of drops, and it is never rounded (§7.3). */
    uint64_t frac = 0;
    bool frac_nonzero = false;
    for (size_t i = 0; i < np.frac_len; i++) {
        char c = swt[np.frac_start + i];
        if (i < 6)
            frac = frac * 10 + (uint64_t)(c - '0');
        else if (c != '0')
            return jt__err(ei, JT_EAMOUNT_DECIMALS, NULL, (long)(np.frac_start + i),
                           "SWT has at most 6 decimal places: %.200s", swt);
        frac_nonzero |= c != '0';
    }
    for (size_t i = np.frac_len; i < 6; i++)
        frac *= 10;
    uint64_t whole = int_part_value(swt, &np);
    bool nonzero = whole != 0 || frac_nonzero;
    if (np.negative && nonzero && !(flags & JT_AMOUNT_ALLOW_NEGATIVE))
        return refuse_negative(ei, swt);
    /* whole ≤ DROPS_CAP + 1 < 2^60, so this cannot wrap before the check. */
    uint64_t drops;
    if (whole > DROPS_CAP / JT_DROPS_PER_SWT)
        drops = DROPS_CAP + 1;
    else
        drops = whole * JT_DROPS_PER_SWT + frac;
    e = native_limit(flags, drops, swt, "SWT", ei);
    if (e)
        return e;
    set_native(a, np.negative, drops);
    return JT_OK;
}

/* ---- issued values ---- */

static char digit_at(const char *s, const num_parts *np, size_t j)
{
    return j < np->int_len ? s[np->int_start + j] : s[np->frac_start + (j - np->int_len)];
}

jt_err jt_amount_parse_value(const char *value, unsigned flags, bool *negative, uint64_t *mantissa,
                             int32_t *exponent, jt_errinfo *ei)
{
    num_parts np;
    jt_err e = scan_number(value, NUM_PLUS | NUM_FRACTION | NUM_EXPONENT, "amount", &np, ei);
    if (e)
        return e;

    int64_t exp10 = 0;
    for (size_t i = 0; i < np.exp_len; i++) {
        if (exp10 <= EXP_CAP)
            exp10 = exp10 * 10 + (value[np.exp_start + i] - '0');
    }
    if (np.exp_negative)
        exp10 = -exp10;

    /* Significant digits run from the first to the last non-zero digit of
     * int ‖ fraction; zeros after the last one only move the exponent. */
    size_t total = np.int_len + np.frac_len, first = total, last = 0;
    for (size_t j = 0; j < total; j++) {
        if (digit_at(value, &np, j) != '0') {
            if (first == total)
                first = j;
            last = j;
        }
    }
    if (first == total) { /* zero, whatever the sign or exponent */
        *negative = false;
        *mantissa = 0;
        *exponent = 0;
        return JT_OK;
    }
    if (np.negative && !(flags & JT_AMOUNT_ALLOW_NEGATIVE))
        return refuse_negative(ei, value);

    char q[QUOTE_MAX];
    size_t nsig = last - first + 1;
    if (nsig > MAX_SIG_DIGITS) {
        quote(value, q);
        return jt__err(ei, JT_EAMOUNT_PRECISION, NULL, -1,
                       "amount %s has more than 16 significant digits (%zu)", q, nsig);
    }
    uint64_t m = 0;
    for (size_t j = first; j <= last; j++)
        m = m * 10 + (uint64_t)(digit_at(value, &np, j) - '0');
    int64_t ex = exp10 - (int64_t)np.frac_len + (int64_t)(total - 1 - last);

    /* At most 15 steps: m ≥ 1. Normalizing first and range-checking after is
     * the same as skywelld's loop that stops at −96 and then calls the
     * remainder zero: both fail exactly when the value is below 10^-81. */
    while (m < JT_MIN_MANTISSA) {
        m *= 10;
        ex--;
    }
    if (ex > JT_MAX_EXPONENT) {
        quote(value, q);
        return jt__err(ei, JT_EAMOUNT_RANGE, NULL, -1,
                       "amount %s is out of range: above the maximum 9999999999999999e80", q);
    }
    if (ex < JT_MIN_EXPONENT) {
        quote(value, q);
        return jt__err(ei, JT_EAMOUNT_RANGE, NULL, -1,
                       "amount %s is out of range: non-zero but below the minimum 1e-81 "
                       "(underflow)",
                       q);
    }
    *negative = np.negative;
    *mantissa = m;
    *exponent = (int32_t)ex;
    return JT_OK;
}

jt_err jt_amount_issued(jt_amount *a, const char *value, const char *currency, const char *issuer,
                        unsigned flags, jt_errinfo *ei)
{
    jt_amount t;
    memset(&t, 0, sizeof t);
    jt_err e = jt_amount_parse_value(value, flags, &t.negative, &t.mantissa, &t.exponent, ei);
    if (e)
        return e;
    e = jt_currency_from_text(currency, false, &t.currency, ei);
    if (e)
        return e;
    if (!issuer)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no issuer given");
    e = jt_address_decode(issuer, &t.issuer, ei);
    if (e)
        return e;
    if (all_zero(t.issuer.bytes, 20))
        return jt__err(ei, JT_ECURRENCY, NULL, -1,
                       "ACCOUNT_ZERO (%.40s) cannot issue a currency; it is SWT's placeholder",
                       issuer);
    *a = t;
    return JT_OK;
}

/* ---- binary ---- */

jt_err jt_amount_encode(const jt_amount *a, uint8_t out[48], size_t *len)
{
    if (a->native) {
        if (a->exponent != 0 || (a->negative && a->mantissa == 0))
            return JT_ENONCANONICAL;
        if (a->mantissa > JT_MAX_NATIVE_DROPS)
            return JT_EAMOUNT_RANGE;
        if (!all_zero(a->currency.bytes, 20))
            return JT_ECURRENCY;
        if (!all_zero(a->issuer.bytes, 20))
            return JT_ENONCANONICAL;
        jt__put_u64(out, (a->negative ? 0 : POSITIVE_BIT) | a->mantissa);
        *len = 8;
        return JT_OK;
    }
    uint64_t v;
    if (a->mantissa == 0) {
        if (a->negative || a->exponent != 0)
            return JT_ENONCANONICAL;
        v = NATIVE_BIT;
    } else {
        if (a->mantissa < JT_MIN_MANTISSA || a->mantissa > JT_MAX_MANTISSA)
            return JT_ENONCANONICAL;
        if (a->exponent < JT_MIN_EXPONENT || a->exponent > JT_MAX_EXPONENT)
            return JT_EAMOUNT_RANGE;
        v = NATIVE_BIT | (a->negative ? 0 : POSITIVE_BIT) |
            ((uint64_t)(a->exponent + EXPONENT_BIAS) << 54) | a->mantissa;
    }
    if (all_zero(a->currency.bytes, 20) || all_zero(a->issuer.bytes, 20))
        return JT_ECURRENCY;
    jt__put_u64(out, v);
    memcpy(out + 8, a->currency.bytes, 20);
    memcpy(out + 28, a->issuer.bytes, 20);
    *len = 48;
    return JT_OK;
}

jt_err jt_amount_decode(const uint8_t *p, size_t len, jt_amount *a, size_t *used, jt_errinfo *ei)
{
    if (len < 8)
        return jt__err(ei, JT_ETRUNCATED, NULL, (long)len,
                       "amount truncated: %zu of at least 8 bytes", len);
    uint64_t v = jt__get_u64(p);
    jt_amount t;
    memset(&t, 0, sizeof t);
    if (!(v & NATIVE_BIT)) {
        uint64_t drops = v & DROPS_MASK;
        bool positive = v & POSITIVE_BIT;
        if (!positive && drops == 0)
            return jt__err(ei, JT_ENONCANONICAL, NULL, 0,
                           "native amount is negative zero (0000000000000000)");
        if (drops > JT_MAX_NATIVE_DROPS)
            return jt__err(ei, JT_EAMOUNT_RANGE, NULL, 0,
                           "native amount of %llu drops is above the total supply (6x10^17)",
                           (unsigned long long)drops);
        t.native = true;
        t.negative = !positive;
        t.mantissa = drops;
        *a = t;
        *used = 8;
        return JT_OK;
    }
    if (len < 48)
        return jt__err(ei, JT_ETRUNCATED, NULL, (long)len,
                       "issued amount truncated: %zu of 48 bytes", len);
    uint64_t m = v & MANTISSA_MASK;
    int ef = (int)((v >> 54) & 0xFF);
    if (m == 0) {
        if (v != NATIVE_BIT)
            return jt__err(ei, JT_ENONCANONICAL, NULL, 0,
                           "issued zero must be exactly 8000000000000000, not %016llX",
                           (unsigned long long)v);
    } else {
        if (m < JT_MIN_MANTISSA || m > JT_MAX_MANTISSA)
            return jt__err(ei, JT_ENONCANONICAL, NULL, 0,
                           "issued mantissa %llu is outside [10^15, 10^16-1]",
                           (unsigned long long)m);
        int ex = ef - EXPONENT_BIAS;
        if (ex < JT_MIN_EXPONENT || ex > JT_MAX_EXPONENT)
            return jt__err(ei, JT_EAMOUNT_RANGE, NULL, 0, "issued exponent %d is outside [-96, 80]",
                           ex);
        t.negative = !(v & POSITIVE_BIT);
        t.mantissa = m;
        t.exponent = ex;
    }
    memcpy(t.currency.bytes, p + 8, 20);
    memcpy(t.issuer.bytes, p + 28, 20);
    if (all_zero(t.currency.bytes, 20))
        return jt__err(ei, JT_ECURRENCY, NULL, 8, "issued amount has the all-zero (SWT) currency");
    if (all_zero(t.issuer.bytes, 20))
        return jt__err(ei, JT_ECURRENCY, NULL, 28, "issued amount has ACCOUNT_ZERO as issuer");
    *a = t;
    *used = 48;
    return JT_OK;
}

/* ---- text ---- */

jt_err jt_amount_value_text(const jt_amount *a, char *out, size_t cap)
{
    char buf[JT_AMOUNT_TEXT_MAX + 16];
    char dig[20];
    size_t k = 0;
    if (a->negative && a->mantissa != 0)
        buf[k++] = '-';
    size_t nd = u64_digits(a->mantissa, dig);
    int32_t ex = a->exponent;
    if (a->native || a->mantissa == 0 || ex == 0) {
        /* drops, zero, or an integer mantissa with nothing to scale */
        if (a->mantissa == 0)
            k = 0;
        memcpy(buf + k, dig, nd);
        k += nd;
    } else if (ex < -25 || ex > -5) {
        memcpy(buf + k, dig, nd);
        k += nd;
        buf[k++] = 'e';
        uint32_t mag = ex < 0 ? (uint32_t)0 - (uint32_t)ex : (uint32_t)ex;
        if (ex < 0)
            buf[k++] = '-';
        k += u64_digits(mag, buf + k);
    } else {
        /* −25 ≤ ex ≤ −5: the point falls `point` digits into the mantissa
         * (≤ 0: before it, after −point zeros). */
        long point = (long)nd + ex;
        size_t end = nd;
        while (end > 0 && dig[end - 1] == '0')
            end--;
        if (point > 0) {
            size_t pt = (size_t)point;
            memcpy(buf + k, dig, pt);
            k += pt;
            if (end > pt) {
                buf[k++] = '.';
                memcpy(buf + k, dig + pt, end - pt);
                k += end - pt;
            }
        } else {
            buf[k++] = '0';
            buf[k++] = '.';
            for (long i = 0; i < -point; i++)
                buf[k++] = '0';
            memcpy(buf + k, dig, end);
            k += end;
        }
    }
    if (k + 1 > cap)
        return JT_EBUFSIZE;
    memcpy(out, buf, k);
    out[k] = '\0';
    return JT_OK;
}

jt_err jt_amount_swt_text(const jt_amount *a, char *out, size_t cap)
{
    if (!a->native)
        return JT_EINVAL;
    char buf[32];
    size_t k = 0;
    if (a->negative && a->mantissa != 0)
        buf[k++] = '-';
    k += u64_digits(a->mantissa / JT_DROPS_PER_SWT, buf + k);
    uint64_t frac = a->mantissa % JT_DROPS_PER_SWT;
    if (frac) {
        char f[6];
        for (int i = 5; i >= 0; i--) {
            f[i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        size_t end = 6;
        while (f[end - 1] == '0')
            end--;
        buf[k++] = '.';
        memcpy(buf + k, f, end);
        k += end;
    }
    if (k + 1 > cap)
        return JT_EBUFSIZE;
    memcpy(out, buf, k);
    out[k] = '\0';
    return JT_OK;
}

/* Compares |a| and |b| for mantissa×10^exponent values that need not be
 * canonical: first by the position of the leading digit, then digit by digit
 * (as text, so nothing is scaled and nothing can overflow). */
static int cmp_magnitude(uint64_t ma, int32_t ea, uint64_t mb, int32_t eb)
{
    if (ma == 0 || mb == 0)
        return (ma != 0) - (mb != 0);
    char da[20], db[20];
    size_t na = u64_digits(ma, da), nb = u64_digits(mb, db);
    int64_t ta = (int64_t)na + ea, tb = (int64_t)nb + eb;
    if (ta != tb)
        return ta < tb ? -1 : 1;
    for (size_t i = 0; i < 20; i++) {
        char ca = i < na ? da[i] : '0', cb = i < nb ? db[i] : '0';
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return 0;
}

int jt_amount_cmp(const jt_amount *a, const jt_amount *b)
{
    int sa = a->mantissa == 0 ? 0 : (a->negative ? -1 : 1);
    int sb = b->mantissa == 0 ? 0 : (b->negative ? -1 : 1);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    int c = cmp_magnitude(a->mantissa, a->native ? 0 : a->exponent, b->mantissa,
                          b->native ? 0 : b->exponent);
    return sa < 0 ? -c : c;
}

/* ---- currencies ---- */

jt_err jt_currency_from_text(const char *text, bool allow_swt, jt_currency *c, jt_errinfo *ei)
{
    if (!text)
        return jt__err(ei, JT_EINVAL, NULL, -1, "no currency code given");
    char q[QUOTE_MAX];
    size_t n = strlen(text);
    jt_currency t;
    memset(&t, 0, sizeof t);
    if (strcmp(text, "SWT") == 0) {
        if (!allow_swt)
            return jt__err(ei, JT_ECURRENCY, NULL, -1,
                           "SWT is not an issued currency (it is the native currency)");
        *c = t;
        return JT_OK;
    }
    if (n == 40) {
        size_t i = 0;
        while (i < 40 && jt__hex_value(text[i]) >= 0)
            i++;
        if (i == 40) {
            for (size_t j = 0; j < 20; j++)
                t.bytes[j] = (uint8_t)(jt__hex_value(text[2 * j]) << 4 | jt__hex_value(text[2 * j + 1]));
            if (all_zero(t.bytes, 20) && !allow_swt)
                return jt__err(ei, JT_ECURRENCY, NULL, -1,
                               "currency %.40s is all zero, which is SWT, not an issued currency",
                               text);
            /* Raw bytes are taken as they are, even those that spell SWT in
             * the standard layout: every currency the binary decoder accepts
             * must have a text form that reads back. Refusing that currency in
             * a transaction is the ledger's job (temBAD_CURRENCY). */
            *c = t;
            return JT_OK;
        }
        char ch[16];
        quote(text, q);
        describe_char(text, i, ch);
        return jt__err(ei, JT_ECURRENCY, NULL, (long)i,
                       "currency code %s: 40-character codes are hex, found %s at offset %zu", q,
                       ch, i);
    }
    if (n < 3 || n > 6) {
        quote(text, q);
        return jt__err(ei, JT_ECURRENCY, NULL, -1,
                       "currency code %s must be 3 to 6 letters or digits, or 40 hex digits "
                       "(it has %zu characters)",
                       q, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum((uint8_t)text[i])) {
            char ch[16];
            quote(text, q);
            describe_char(text, i, ch);
            return jt__err(ei, JT_ECURRENCY, NULL, (long)i,
                           "currency code %s may hold only A-Z, a-z and 0-9, found %s at offset "
                           "%zu",
                           q, ch, i);
        }
    }
    /* Right-aligned so the last character is at byte 14: for three letters
     * this is rippled's standard layout (bytes 12–14). */
    memcpy(t.bytes + 15 - n, text, n);
    *c = t;
    return JT_OK;
}

void jt_currency_to_text(const jt_currency *c, char out[JT_CURRENCY_TEXT_MAX])
{
    const uint8_t *b = c->bytes;
    if (all_zero(b, 20)) {
        memcpy(out, "SWT", 4);
        return;
    }
    if (all_zero(b + 15, 5)) {
        size_t f = 0;
        while (f < 15 && b[f] == 0)
            f++;
        size_t k = 15 - f;
        bool ok = k >= 3 && k <= 6;
        for (size_t i = f; ok && i < 15; i++)
            ok = is_alnum(b[i]);
        if (ok && !(k == 3 && memcmp(b + 12, "SWT", 3) == 0)) {
            memcpy(out, b + f, k);
            out[k] = '\0';
            return;
        }
    }
    static const char hexdig[] = "0123456789ABCDEF";
    for (size_t i = 0; i < 20; i++) {
        out[2 * i] = hexdig[b[i] >> 4];
        out[2 * i + 1] = hexdig[b[i] & 15];
    }
    out[40] = '\0';
}

bool jt_currency_is_swt(const jt_currency *c)
{
    return all_zero(c->bytes, 20);
}
