/* test_amount_math.c — amount arithmetic (jt/amount_math.h).
 *
 * Every expected value below is worked out by hand from skywelld's STAmount
 * algorithm (or, for the engine helpers, from the exact product and the
 * stated cut), and the working is written beside it: mantissas are 16
 * digits, "v" is the intermediate integer before normalizing, "e" its
 * exponent. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "jt/amount_math.h"
#include "jt/flags.h"
#include "testutil.h"

static jt_currency cny, usd;
static jt_account_id gw, gw2;

static int setup(void **state)
{
    (void)state;
    memset(&cny, 0, sizeof cny);
    memset(&usd, 0, sizeof usd);
    memcpy(cny.bytes + 12, "CNY", 3);
    memcpy(usd.bytes + 12, "USD", 3);
    memset(gw.bytes, 0xA5, sizeof gw.bytes);
    memset(gw2.bytes, 0x5A, sizeof gw2.bytes);
    return 0;
}

/* m·10^e in CNY (m already 16 digits in most cases, so nothing is cut). */
static jt_amount cnyv(int64_t m, int e)
{
    jt_amount a;
    assert_int_equal(jt_amount_from_mantissa(&a, m, e, &cny, &gw), JT_OK);
    return a;
}

/* m·10^e as a number (issued kind, zero currency and issuer). */
static jt_amount num(int64_t m, int e)
{
    jt_amount a;
    assert_int_equal(jt_amount_from_mantissa(&a, m, e, NULL, NULL), JT_OK);
    return a;
}

static jt_amount drops(int64_t d)
{
    jt_amount a;
    jt_amount_native(&a, d);
    return a;
}

#define EXPECT_ISSUED(a, m, e)                                                                     \
    do {                                                                                           \
        jt_amount t_ = (a);                                                                        \
        expect_issued(&t_, (m), (e), __LINE__);                                                    \
    } while (0)
#define EXPECT_NATIVE(a, d)                                                                        \
    do {                                                                                           \
        jt_amount t_ = (a);                                                                        \
        expect_native(&t_, (d), __LINE__);                                                         \
    } while (0)

static void expect_issued(const jt_amount *a, int64_t m, int e, int line)
{
    uint64_t um = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
    if (a->native || a->mantissa != um || a->exponent != (m ? e : 0) || a->negative != (m < 0)) {
        print_error("line %d: want %s%llue%d, got %s%s%llue%d\n", line, m < 0 ? "-" : "",
                    (unsigned long long)um, e, a->native ? "native " : "", a->negative ? "-" : "",
                    (unsigned long long)a->mantissa, (int)a->exponent);
        fail();
    }
}

static void expect_native(const jt_amount *a, int64_t d, int line)
{
    if (!a->native || jt_amount_drops(a) != d || a->exponent != 0 ||
        (a->mantissa == 0 && a->negative)) {
        print_error("line %d: want %lld drops, got %s%s%llu (e%d)\n", line, (long long)d,
                    a->native ? "" : "issued ", a->negative ? "-" : "",
                    (unsigned long long)a->mantissa, (int)a->exponent);
        fail();
    }
}

static uint64_t quality(int e, uint64_t m)
{
    return ((uint64_t)(e + 100) << 56) | m;
}

/* ---- building ---- */

static void constructors(void **state)
{
    (void)state;
    jt_amount a = drops(-5);
    assert_true(a.native && a.negative);
    assert_int_equal(a.mantissa, 5);
    assert_int_equal(jt_amount_drops(&a), -5);
    a = drops(INT64_MIN);
    assert_int_equal(a.mantissa, (uint64_t)1 << 63);
    assert_int_equal(jt_amount_drops(&a), INT64_MIN);
    a = drops(0);
    assert_false(a.negative);
    assert_true(jt_amount_is_zero(&a));

    /* 123e-2 → 1230000000000000e-15 */
    a = cnyv(123, -2);
    EXPECT_ISSUED(a, 1230000000000000, -15);
    assert_memory_equal(a.currency.bytes, cny.bytes, 20);
    assert_memory_equal(a.issuer.bytes, gw.bytes, 20);
    EXPECT_ISSUED(cnyv(-1, 0), -1000000000000000, -15);
    /* the mantissa bounds: 10^15 − 1 is scaled up, 10^16 down (nothing lost) */
    EXPECT_ISSUED(cnyv(999999999999999, 0), 9999999999999990, -1);
    EXPECT_ISSUED(cnyv(1000000000000000, 0), 1000000000000000, 0);
    EXPECT_ISSUED(cnyv(9999999999999999, 0), 9999999999999999, 0);
    EXPECT_ISSUED(cnyv(10000000000000000, 0), 1000000000000000, 1);
    /* 17 digits: the last is cut toward zero, either sign */
    EXPECT_ISSUED(cnyv(12345678901234567, 0), 1234567890123456, 1);
    EXPECT_ISSUED(cnyv(-12345678901234567, 0), -1234567890123456, 1);
    /* INT64_MIN = −9223372036854775808: 19 digits, three cut */
    EXPECT_ISSUED(cnyv(INT64_MIN, 0), -9223372036854775, 3);
    /* zero whatever the exponent */
    a = cnyv(0, 50);
    EXPECT_ISSUED(a, 0, 0);
    assert_false(a.negative);
    /* exponent range: 1e95 = 10^15·10^80 fits, 1e96 does not; 1e-81 is the
     * smallest value, 1e-82 underflows to zero (not an error) */
    EXPECT_ISSUED(cnyv(1, 95), 1000000000000000, 80);
    EXPECT_ISSUED(cnyv(1, -81), 1000000000000000, -96);
    EXPECT_ISSUED(cnyv(-1, -82), 0, 0);
    assert_int_equal(jt_amount_from_mantissa(&a, -1, 96, &cny, &gw), JT_EAMOUNT_RANGE);
    EXPECT_ISSUED(a, -9999999999999999, 80); /* saturated */
    /* whatever the currency, from_mantissa makes an issued-kind value */
    a = num(5, 0);
    assert_false(a.native);
    EXPECT_ISSUED(a, 5000000000000000, -15);

    jt_amount z;
    jt_amount_zero_like(&z, &a);
    EXPECT_ISSUED(z, 0, 0);
    jt_amount d = drops(-7);
    jt_amount_zero_like(&z, &d);
    EXPECT_NATIVE(z, 0);
}

static void sign_and_negate(void **state)
{
    (void)state;
    jt_amount a = cnyv(5, 0), z = cnyv(0, 0);
    assert_int_equal(jt_amount_sign(&a), 1);
    jt_amount_negate(&a);
    assert_int_equal(jt_amount_sign(&a), -1);
    assert_true(a.negative);
    jt_amount_negate(&z);
    assert_false(z.negative); /* zero stays non-negative */
    assert_int_equal(jt_amount_sign(&z), 0);
    /* a zero with its sign flag set still reads as zero */
    z.negative = true;
    assert_int_equal(jt_amount_sign(&z), 0);
    assert_true(jt_amount_is_zero(&z));
}

/* ---- sums ---- */

static void add_native(void **state)
{
    (void)state;
    jt_amount a = drops(5), b = drops(-7), out;
    assert_int_equal(jt_amount_add(&a, &b, &out), JT_OK);
    EXPECT_NATIVE(out, -2);
    assert_int_equal(jt_amount_sub(&a, &b, &out), JT_OK);
    EXPECT_NATIVE(out, 12);
    /* exact, beyond the total supply: only int64 limits it */
    a = drops(600000000000000000);
    assert_int_equal(jt_amount_add(&a, &a, &out), JT_OK);
    EXPECT_NATIVE(out, 1200000000000000000);
    a = drops(INT64_MAX);
    b = drops(1);
    out = drops(42);
    assert_int_equal(jt_amount_add(&a, &b, &out), JT_EAMOUNT_RANGE);
    EXPECT_NATIVE(out, 42); /* untouched */
    a = drops(INT64_MIN);
    assert_int_equal(jt_amount_sub(&a, &b, &out), JT_EAMOUNT_RANGE);
    a = drops(INT64_MIN + 1);
    assert_int_equal(jt_amount_sub(&a, &b, &out), JT_OK);
    EXPECT_NATIVE(out, INT64_MIN);
    /* 3 − 3 is an unsigned zero */
    a = drops(3);
    assert_int_equal(jt_amount_sub(&a, &a, &out), JT_OK);
    EXPECT_NATIVE(out, 0);
}

static void add_issued(void **state)
{
    (void)state;
    jt_amount one = cnyv(1000000000000000, -15), out;
    assert_int_equal(jt_amount_add(&one, &one, &out), JT_OK);
    EXPECT_ISSUED(out, 2000000000000000, -15);
    assert_int_equal(jt_amount_sub(&one, &one, &out), JT_OK);
    EXPECT_ISSUED(out, 0, 0);

    /* 1 + 1.234567890123456e-17: aligned to e-15 the addend is cut to 0 */
    jt_amount tiny = cnyv(1234567890123456, -32);
    assert_int_equal(jt_amount_add(&one, &tiny, &out), JT_OK);
    EXPECT_ISSUED(out, 1000000000000000, -15);

    /* 1 − 0.05555555555555555: b aligned to e-15 is −55555555555555 (the
     * "55" cut toward zero), v = 944444444444445 e-15 → 9444444444444450e-16.
     * The exact difference, 0.94444444444444445, would truncate to
     * 9444444444444444e-16: skywelld's sum is not the exact one. */
    jt_amount b = cnyv(5555555555555555, -17);
    assert_int_equal(jt_amount_sub(&one, &b, &out), JT_OK);
    EXPECT_ISSUED(out, 9444444444444450, -16);
    /* and b − 1 is its negation */
    assert_int_equal(jt_amount_sub(&b, &one, &out), JT_OK);
    EXPECT_ISSUED(out, -9444444444444450, -16);

    /* a sum within ±10 units of the exponent is zero ... */
    jt_amount a = cnyv(1000000000000005, -15), m1 = cnyv(-1000000000000000, -15);
    assert_int_equal(jt_amount_add(&a, &m1, &out), JT_OK);
    EXPECT_ISSUED(out, 0, 0);
    a = cnyv(1000000000000010, -15);
    assert_int_equal(jt_amount_add(&a, &m1, &out), JT_OK);
    EXPECT_ISSUED(out, 0, 0);
    /* ... but 11 units is 11e-15 = 1100000000000000e-29 */
    a = cnyv(1000000000000011, -15);
    assert_int_equal(jt_amount_add(&a, &m1, &out), JT_OK);
    EXPECT_ISSUED(out, 1100000000000000, -29);

    /* 9999999999999999e80 doubled: v = 19999999999999998, one digit cut
     * takes the exponent to 81 */
    jt_amount max = cnyv(9999999999999999, 80);
    out = one;
    assert_int_equal(jt_amount_add(&max, &max, &out), JT_EAMOUNT_RANGE);
    EXPECT_ISSUED(out, 1000000000000000, -15); /* untouched */
    /* 9999999999999999e80 − 1: 1 vanishes in the alignment */
    assert_int_equal(jt_amount_sub(&max, &one, &out), JT_OK);
    EXPECT_ISSUED(out, 9999999999999999, 80);

    /* zero operands: a + 0 is a; 0 + b is b in a's currency and issuer */
    jt_amount z2;
    assert_int_equal(jt_amount_from_mantissa(&z2, 0, 0, &cny, &gw2), JT_OK);
    jt_amount b2;
    assert_int_equal(jt_amount_from_mantissa(&b2, -7, 0, &cny, &gw2), JT_OK);
    assert_int_equal(jt_amount_add(&one, &z2, &out), JT_OK);
    assert_memory_equal(&out, &one, sizeof out);
    jt_amount z = cnyv(0, 0);
    assert_int_equal(jt_amount_add(&z, &b2, &out), JT_OK);
    EXPECT_ISSUED(out, -7000000000000000, -15);
    assert_memory_equal(out.issuer.bytes, gw.bytes, 20);
    assert_int_equal(jt_amount_sub(&z, &b2, &out), JT_OK);
    EXPECT_ISSUED(out, 7000000000000000, -15);

    /* the issuer is not compared (a balance and a limit differ in it) */
    assert_int_equal(jt_amount_add(&one, &b2, &out), JT_OK);
    EXPECT_ISSUED(out, -6000000000000000, -15);
    assert_memory_equal(out.issuer.bytes, gw.bytes, 20);

    /* out may be an operand */
    a = cnyv(3, 0);
    assert_int_equal(jt_amount_add(&a, &a, &a), JT_OK);
    EXPECT_ISSUED(a, 6000000000000000, -15);
}

static void add_refuses_mixed(void **state)
{
    (void)state;
    jt_amount one = cnyv(1, 0), d = drops(1), out = drops(9);
    jt_amount u;
    assert_int_equal(jt_amount_from_mantissa(&u, 1, 0, &usd, &gw), JT_OK);
    assert_int_equal(jt_amount_add(&one, &d, &out), JT_EINVAL);
    assert_int_equal(jt_amount_add(&d, &one, &out), JT_EINVAL);
    assert_int_equal(jt_amount_sub(&one, &u, &out), JT_EINVAL);
    EXPECT_NATIVE(out, 9);
}

/* ---- the engine's transfer-rate and quality helpers ---- */

static void mul_rate(void **state)
{
    (void)state;
    jt_amount a = drops(1000000), out;
    /* 1 SWT at 0.2%: 10^6 · 1002000000 / 10^9 = 1002000, nothing cut */
    assert_int_equal(jt_amount_mul_rate(&a, 1002000000, false, &out), JT_OK);
    EXPECT_NATIVE(out, 1002000);
    assert_int_equal(jt_amount_mul_rate(&a, 1002000000, true, &out), JT_OK);
    EXPECT_NATIVE(out, 1002000);
    /* 333 · 1.002 = 333.666: cut to 333, up to 334 */
    a = drops(333);
    assert_int_equal(jt_amount_mul_rate(&a, 1002000000, false, &out), JT_OK);
    EXPECT_NATIVE(out, 333);
    assert_int_equal(jt_amount_mul_rate(&a, 1002000000, true, &out), JT_OK);
    EXPECT_NATIVE(out, 334);
    a = drops(-333); /* the sign is kept, rounding is in magnitude */
    assert_int_equal(jt_amount_mul_rate(&a, 1002000000, true, &out), JT_OK);
    EXPECT_NATIVE(out, -334);

    /* 1234567890123456e-15 · 1002000000 = 1237037025903702912000000e-24:
     * 16 digits are 1237037025903702e-15, the cut "912000000" is not zero */
    a = cnyv(1234567890123456, -15);
    assert_int_equal(jt_amount_mul_rate(&a, 1002000000, false, &out), JT_OK);
    EXPECT_ISSUED(out, 1237037025903702, -15);
    assert_memory_equal(out.currency.bytes, cny.bytes, 20);
    assert_int_equal(jt_amount_mul_rate(&a, 1002000000, true, &out), JT_OK);
    EXPECT_ISSUED(out, 1237037025903703, -15);
    /* skywelld's multiply() of the same (its transfer fee) nudges by +7:
     * ⌊1234567890123456 · 1002000000000000 / 10^14⌋ = 12370370259037029,
     * + 7 = 12370370259037036, e-16 → 1237037025903703e-15 */
    jt_amount r;
    jt_amount_from_transfer_rate(1002000000, &r);
    assert_int_equal(jt_amount_mul(&a, &r, &a, &out), JT_OK);
    EXPECT_ISSUED(out, 1237037025903703, -15);

    /* 9999999999999999e-15 · 1000000001 = 10000000009999998999999999e-24:
     * cut to 1000000000999999e-14 ("8999999999" cut), up: ...1000000e-14 */
    a = cnyv(9999999999999999, -15);
    assert_int_equal(jt_amount_mul_rate(&a, 1000000001, false, &out), JT_OK);
    EXPECT_ISSUED(out, 1000000000999999, -14);
    assert_int_equal(jt_amount_mul_rate(&a, 1000000001, true, &out), JT_OK);
    EXPECT_ISSUED(out, 1000000001000000, -14);
    /* QUALITY_ONE changes nothing */
    assert_int_equal(jt_amount_mul_rate(&a, JT_QUALITY_ONE, true, &out), JT_OK);
    EXPECT_ISSUED(out, 9999999999999999, -15);
    /* overflow at the top exponent: ·2 needs e81 */
    a = cnyv(9999999999999999, 80);
    assert_int_equal(jt_amount_mul_rate(&a, 2000000000, false, &out), JT_EAMOUNT_RANGE);
    /* native results up to INT64_MAX drops */
    a = drops(INT64_MAX / 2);
    assert_int_equal(jt_amount_mul_rate(&a, 2000000000, false, &out), JT_OK);
    EXPECT_NATIVE(out, INT64_MAX - 1);
    a = drops(INT64_MAX);
    assert_int_equal(jt_amount_mul_rate(&a, 2000000000, false, &out), JT_EAMOUNT_RANGE);
}

static void div_rate(void **state)
{
    (void)state;
    jt_amount a = drops(1002000), out;
    /* 1002000 · 10^18 / 1002000000 = 10^15, e-9 → 1000000 drops */
    assert_int_equal(jt_amount_div_rate(&a, 1002000000, &out), JT_OK);
    EXPECT_NATIVE(out, 1000000);
    /* 1000 / 1.002 = 998.004: cut to 998 */
    a = drops(1000);
    assert_int_equal(jt_amount_div_rate(&a, 1002000000, &out), JT_OK);
    EXPECT_NATIVE(out, 998);
    /* 1 CNY / 1.002: ⌊10^33 / 1002000000⌋ = 998003992015968063872255e-24
     * → 9980039920159680e-16 (the exact 0.998003992015968063… cut) */
    a = cnyv(1, 0);
    assert_int_equal(jt_amount_div_rate(&a, 1002000000, &out), JT_OK);
    EXPECT_ISSUED(out, 9980039920159680, -16);
    a = cnyv(-1, 0);
    assert_int_equal(jt_amount_div_rate(&a, 1002000000, &out), JT_OK);
    EXPECT_ISSUED(out, -9980039920159680, -16);
    out = drops(9);
    assert_int_equal(jt_amount_div_rate(&a, 0, &out), JT_EINVAL);
    EXPECT_NATIVE(out, 9);
}

static void engine_quality(void **state)
{
    (void)state;
    /* pays 100 CNY, gets 50 SWT: gets as 5000000000000000e-8;
     * 10^15 · 10^17 / (5·10^15) = 2·10^16, e = −13 + 8 − 17 = −22
     * → 2000000000000000e-21 (2 CNY per SWT, 2e-6 per drop) */
    jt_amount pays = cnyv(100, 0), gets = drops(50000000);
    uint64_t q = jt_amount_quality(&pays, &gets);
    assert_int_equal(q, quality(-21, 2000000000000000));
    assert_int_equal(q, 0x4F071AFD498D0000ULL);
    char text[JT_AMOUNT_TEXT_MAX];
    assert_int_equal(jt_amount_quality_text(q, text, sizeof text), JT_OK);
    assert_string_equal(text, "0.000002");
    /* skywelld's getRate agrees here: v = 2·10^16 + 5 cuts to the same */
    assert_int_equal(jt_amount_rate(&gets, &pays), q);

    /* pays 2 CNY, gets 3 SWT: ⌊2·10^32 / (3·10^15)⌋ = 66666666666666666,
     * e-23 → 6666666666666666e-22; getRate adds 5 first: 66666666666666671
     * → 6666666666666667e-22. The engine's key is one below skywelld's. */
    pays = cnyv(2, 0);
    gets = drops(3000000);
    q = jt_amount_quality(&pays, &gets);
    assert_int_equal(q, quality(-22, 6666666666666666));
    assert_int_equal(jt_amount_rate(&gets, &pays), quality(-22, 6666666666666667));
    assert_int_equal(jt_amount_quality_text(q, text, sizeof text), JT_OK);
    assert_string_equal(text, "0.0000006666666666666666");

    /* signs ignored; zero sides give 0 */
    jt_amount npays = pays;
    jt_amount_negate(&npays);
    assert_int_equal(jt_amount_quality(&npays, &gets), q);
    jt_amount z = cnyv(0, 0);
    assert_int_equal(jt_amount_quality(&z, &gets), 0);
    assert_int_equal(jt_amount_quality(&pays, &z), 0);
    /* a quotient beyond e80 is no quality */
    jt_amount big = cnyv(9999999999999999, 80), small = cnyv(1, -81);
    assert_int_equal(jt_amount_quality(&big, &small), 0);
    /* nor one below e-96 */
    assert_int_equal(jt_amount_quality(&small, &big), 0);

    /* drops of 10^16 and more are cut to 16 digits first:
     * 12345678901234567 drops → 1234567890123456e1, so paying that for
     * 1 CNY is 1234567890123456e1 · 10^17 / 10^15 → 1234567890123456e1
     * and getRate, from all 17 digits, gives 1234567890123456e1 as well
     * (v = 1234567890123456700 + 5 cut by three digits) */
    jt_amount many = drops(12345678901234567), one = cnyv(1, 0);
    assert_int_equal(jt_amount_quality(&many, &one), quality(1, 1234567890123456));
    assert_int_equal(jt_amount_rate(&one, &many), quality(1, 1234567890123456));
}

static void quality_text(void **state)
{
    (void)state;
    char text[JT_AMOUNT_TEXT_MAX];
    /* 5000000000000000e-10 = 500000 */
    assert_int_equal(jt_amount_quality_text(quality(-10, 5000000000000000), text, sizeof text),
                     JT_OK);
    assert_string_equal(text, "500000");
    assert_int_equal(jt_amount_quality_text(0, text, sizeof text), JT_OK);
    assert_string_equal(text, "0");
    /* exponent −30 is written with an exponent */
    assert_int_equal(jt_amount_quality_text(quality(-30, 1234567890123456), text, sizeof text),
                     JT_OK);
    assert_string_equal(text, "1234567890123456e-30");
    /* too small a buffer: an error, and "0" where it fits */
    char small[3] = "xx";
    assert_int_equal(jt_amount_quality_text(quality(-10, 5000000000000000), small, sizeof small),
                     JT_EBUFSIZE);
    assert_string_equal(small, "0");
    char one[1] = {'x'};
    assert_int_equal(jt_amount_quality_text(quality(-10, 5000000000000000), one, 1), JT_EBUFSIZE);
    assert_int_equal(one[0], '\0');
}

static void mul_div_quality(void **state)
{
    (void)state;
    /* 25 SWT at 2000000000000000e-21 into CNY: 2500000000000000e-7 ·
     * 2000000000000000 = 5·10^30, e-28 → 5000000000000000e-13 = 50 CNY */
    uint64_t q = quality(-21, 2000000000000000);
    jt_amount funds = drops(25000000), like = cnyv(1, 0), out;
    assert_int_equal(jt_amount_mul_quality(&funds, q, &like, false, &out), JT_OK);
    EXPECT_ISSUED(out, 5000000000000000, -14);
    assert_memory_equal(out.currency.bytes, cny.bytes, 20);

    /* SWT per CNY: 5000000000000000e-10 (0.5 SWT). 33 CNY → 3300000000000000e-14
     * · 5·10^15 = 1.65·10^31 e-24 → 16500000 drops exactly */
    q = quality(-10, 5000000000000000);
    jt_amount sw = drops(1);
    jt_amount g = cnyv(33, 0);
    assert_int_equal(jt_amount_mul_quality(&g, q, &sw, false, &out), JT_OK);
    EXPECT_NATIVE(out, 16500000);
    /* 1/3 CNY: 3333333333333333e-16 · 5·10^15 = 16666666666666665·10^15, e-26
     * → 166666.66666666665 drops: cut 166666, up 166667 */
    g = cnyv(3333333333333333, -16);
    assert_int_equal(jt_amount_mul_quality(&g, q, &sw, false, &out), JT_OK);
    EXPECT_NATIVE(out, 166666);
    assert_int_equal(jt_amount_mul_quality(&g, q, &sw, true, &out), JT_OK);
    EXPECT_NATIVE(out, 166667);
    /* signs are ignored */
    jt_amount_negate(&g);
    assert_int_equal(jt_amount_mul_quality(&g, q, &sw, true, &out), JT_OK);
    EXPECT_NATIVE(out, 166667);

    /* the carry at the top of the mantissa: 9999999999999999e-15 ·
     * 10000000000000001e-16 = 32 nines e-31; cut to 9999999999999999e-15,
     * rounded up it is 10^16 → 1000000000000000e-14 */
    g = cnyv(9999999999999999, -15);
    uint64_t q2 = quality(-16, 10000000000000001ULL);
    assert_int_equal(jt_amount_mul_quality(&g, q2, &like, false, &out), JT_OK);
    EXPECT_ISSUED(out, 9999999999999999, -15);
    assert_int_equal(jt_amount_mul_quality(&g, q2, &like, true, &out), JT_OK);
    EXPECT_ISSUED(out, 1000000000000000, -14);

    /* 16.5 SWT / 0.5 SWT per CNY: 1650000000000000e-7 · 10^17 / 5·10^15 =
     * 3.3·10^16, e-14 → 3300000000000000e-13 = 33 CNY */
    jt_amount pays = drops(16500000);
    assert_int_equal(jt_amount_div_quality(&pays, q, &like, &out), JT_OK);
    EXPECT_ISSUED(out, 3300000000000000, -14);
    out = drops(4);
    assert_int_equal(jt_amount_div_quality(&pays, quality(-10, 0), &like, &out), JT_EINVAL);
    EXPECT_NATIVE(out, 4);
    /* native result from the exact value: 1 CNY / 3·10^-6 CNY per drop
     * = 333333.33 drops → 333333 */
    jt_amount c1 = cnyv(1, 0);
    assert_int_equal(jt_amount_div_quality(&c1, quality(-21, 3000000000000000), &sw, &out), JT_OK);
    EXPECT_NATIVE(out, 333333);
}

/* ---- skywelld's multiply, divide, mulRound, divRound ---- */

static void multiply(void **state)
{
    (void)state;
    jt_amount like = cnyv(1, 0), out;
    /* 100 CNY · 0.5: v = 10^15 · 5·10^15 / 10^14 + 7 = 50000000000000007,
     * e = −13 − 16 + 14 = −15 → 5000000000000000e-14 (the 7 cut) */
    jt_amount a = cnyv(100, 0), half = num(5, -1);
    assert_int_equal(jt_amount_mul(&a, &half, &like, &out), JT_OK);
    EXPECT_ISSUED(out, 5000000000000000, -14);
    assert_memory_equal(out.currency.bytes, cny.bytes, 20);
    jt_amount_negate(&a);
    assert_int_equal(jt_amount_mul(&a, &half, &like, &out), JT_OK);
    EXPECT_ISSUED(out, -5000000000000000, -14);
    jt_amount_negate(&half);
    assert_int_equal(jt_amount_mul(&a, &half, &like, &out), JT_OK);
    EXPECT_ISSUED(out, 5000000000000000, -14);

    /* the +7 nudge rounds a 17th digit of 3 or more up:
     * 0.3333333333333334 · 3 → v = 10000000000000002 + 7, e-16 →
     * 1000000000000000e-15; 0.3333333333333333 · 3 → v = 99999999999999990
     * + 7 = 99999999999999997, e-17 → 9999999999999999e-16 */
    jt_amount t = cnyv(3333333333333334, -16), three = num(3, 0);
    assert_int_equal(jt_amount_mul(&t, &three, &like, &out), JT_OK);
    EXPECT_ISSUED(out, 1000000000000000, -15);
    t = cnyv(3333333333333333, -16);
    assert_int_equal(jt_amount_mul(&t, &three, &like, &out), JT_OK);
    EXPECT_ISSUED(out, 9999999999999999, -16);

    /* native · number into native: 10^6 drops as 10^15e-9; v = 5·10^16 + 7,
     * e = −9 − 16 + 14 = −11 → 500000 drops */
    jt_amount swt = drops(1000000), sw = drops(1);
    half = num(5, -1);
    assert_int_equal(jt_amount_mul(&swt, &half, &sw, &out), JT_OK);
    EXPECT_NATIVE(out, 500000);
    /* native results are at most 10^17 drops: 5·10^16 · 2 → v = 10^18 + 7,
     * e-1 → 10^17 exactly (allowed); 10^17 · 2 → 2·10^17 (refused) */
    jt_amount two = num(2, 0);
    jt_amount big = drops(50000000000000000);
    assert_int_equal(jt_amount_mul(&big, &two, &sw, &out), JT_OK);
    EXPECT_NATIVE(out, 100000000000000000);
    big = drops(100000000000000000);
    assert_int_equal(jt_amount_mul(&big, &two, &sw, &out), JT_EAMOUNT_RANGE);
    /* native · native into issued goes through the mantissas:
     * 3·10^15e-12 · 2·10^15e-12 → v = 6·10^16 + 7, e = −10 → 6000000000000000e-9 */
    jt_amount d3 = drops(3000), d2 = drops(2000);
    assert_int_equal(jt_amount_mul(&d3, &d2, &like, &out), JT_OK);
    EXPECT_ISSUED(out, 6000000000000000, -9);

    /* issued overflow: 9999999999999999e80 · 10 → v = 99999999999999997,
     * e = 80 → needs e81 */
    jt_amount max = cnyv(9999999999999999, 80), ten = num(10, 0);
    out = swt;
    assert_int_equal(jt_amount_mul(&max, &ten, &like, &out), JT_EAMOUNT_RANGE);
    EXPECT_NATIVE(out, 1000000); /* untouched */
    /* underflow is zero: 1e-81 · 1e-81 */
    jt_amount tiny = cnyv(1, -81);
    assert_int_equal(jt_amount_mul(&tiny, &tiny, &like, &out), JT_OK);
    EXPECT_ISSUED(out, 0, 0);
    assert_false(out.native);
    /* zero operand: zero of like's kind */
    jt_amount z = cnyv(0, 0);
    assert_int_equal(jt_amount_mul(&z, &max, &sw, &out), JT_OK);
    EXPECT_NATIVE(out, 0);
    /* out may be an operand */
    a = cnyv(100, 0);
    assert_int_equal(jt_amount_mul(&a, &two, &a, &a), JT_OK);
    EXPECT_ISSUED(a, 2000000000000000, -13);
}

/* Native × native into native: the exact product, with skywelld's limits. */
static void multiply_native(void **state)
{
    (void)state;
    jt_amount sw = drops(1), out;
    jt_amount a = drops(3000), b = drops(2000);
    assert_int_equal(jt_amount_mul(&a, &b, &sw, &out), JT_OK);
    EXPECT_NATIVE(out, 6000000);
    assert_int_equal(jt_amount_mul_round(&a, &b, &sw, true, &out), JT_OK);
    EXPECT_NATIVE(out, 6000000);
    /* skywelld's test reads a negative operand as a huge unsigned one */
    a = drops(-3000);
    assert_int_equal(jt_amount_mul(&a, &b, &sw, &out), JT_EAMOUNT_RANGE);
    assert_int_equal(jt_amount_mul(&b, &a, &sw, &out), JT_EAMOUNT_RANGE);
    assert_int_equal(jt_amount_mul_round(&a, &b, &sw, false, &out), JT_EAMOUNT_RANGE);
    /* the smaller factor at most 3·10^9 */
    a = drops(3000000000);
    assert_int_equal(jt_amount_mul(&a, &a, &sw, &out), JT_OK);
    EXPECT_NATIVE(out, 9000000000000000000);
    b = drops(3000000001);
    assert_int_equal(jt_amount_mul(&b, &b, &sw, &out), JT_EAMOUNT_RANGE);
    /* (hi >> 32) · lo at most 2095475792 */
    a = drops(2095475792);
    b = drops(4294967296);
    assert_int_equal(jt_amount_mul(&a, &b, &sw, &out), JT_OK);
    EXPECT_NATIVE(out, 8999999996199698432);
    a = drops(2095475793);
    assert_int_equal(jt_amount_mul(&a, &b, &sw, &out), JT_EAMOUNT_RANGE);
    /* passes skywelld's test yet leaves int64 (skywelld would wrap): refused */
    a = drops(3000000000);
    b = drops(4294967295);
    assert_int_equal(jt_amount_mul(&a, &b, &sw, &out), JT_EAMOUNT_RANGE);
}

static void divide(void **state)
{
    (void)state;
    jt_amount n, out;
    memset(&n, 0, sizeof n); /* a number */
    /* 1/3: v = 10^32 / (3·10^15) + 5 = 33333333333333338, e-17
     * → 3333333333333333e-16 */
    jt_amount one = num(1, 0), three = num(3, 0), two = num(2, 0);
    assert_int_equal(jt_amount_div(&one, &three, &n, &out), JT_OK);
    EXPECT_ISSUED(out, 3333333333333333, -16);
    /* 2/3: 66666666666666666 + 5 = 66666666666666671 → 6666666666666667e-16 */
    assert_int_equal(jt_amount_div(&two, &three, &n, &out), JT_OK);
    EXPECT_ISSUED(out, 6666666666666667, -16);
    /* signs */
    jt_amount m1 = num(-1, 0);
    assert_int_equal(jt_amount_div(&m1, &three, &n, &out), JT_OK);
    EXPECT_ISSUED(out, -3333333333333333, -16);
    jt_amount m3 = num(-3, 0);
    assert_int_equal(jt_amount_div(&one, &m3, &n, &out), JT_OK);
    EXPECT_ISSUED(out, -3333333333333333, -16);
    assert_int_equal(jt_amount_div(&m1, &m3, &n, &out), JT_OK);
    EXPECT_ISSUED(out, 3333333333333333, -16);

    /* 10 SWT / 3 into drops: 10^15e-8 · 10^17 / 3·10^15 + 5 =
     * 33333333333333338, e = −8 + 15 − 17 = −10 → 3333333 drops */
    jt_amount ten = drops(10000000), sw = drops(1);
    assert_int_equal(jt_amount_div(&ten, &three, &sw, &out), JT_OK);
    EXPECT_NATIVE(out, 3333333);

    /* b zero: an error, out untouched; a zero: zero */
    jt_amount z = num(0, 0);
    out = sw;
    assert_int_equal(jt_amount_div(&one, &z, &n, &out), JT_EINVAL);
    jt_amount zd = drops(0);
    assert_int_equal(jt_amount_div(&one, &zd, &n, &out), JT_EINVAL);
    EXPECT_NATIVE(out, 1);
    assert_int_equal(jt_amount_div(&z, &three, &sw, &out), JT_OK);
    EXPECT_NATIVE(out, 0);
    /* overflow and underflow */
    jt_amount max = num(9999999999999999, 80), tiny = num(1, -81);
    assert_int_equal(jt_amount_div(&max, &tiny, &n, &out), JT_EAMOUNT_RANGE);
    assert_int_equal(jt_amount_div(&tiny, &max, &n, &out), JT_OK);
    EXPECT_ISSUED(out, 0, 0);
}

static void rounding(void **state)
{
    (void)state;
    jt_amount n, out;
    memset(&n, 0, sizeof n);
    jt_amount one = num(1, 0), three = num(3, 0), two = num(2, 0);
    /* 1/3 up: ⌈10^32 / 3·10^15⌉ = 33333333333333334 → +9, /10 →
     * 3333333333333334e-16; down: 33333333333333333 → 3333333333333333e-16 */
    assert_int_equal(jt_amount_div_round(&one, &three, &n, true, &out), JT_OK);
    EXPECT_ISSUED(out, 3333333333333334, -16);
    assert_int_equal(jt_amount_div_round(&one, &three, &n, false, &out), JT_OK);
    EXPECT_ISSUED(out, 3333333333333333, -16);
    /* round_up is toward +infinity: −1/3 up is −0.3333333333333333, down
     * is −0.3333333333333334 */
    jt_amount m1 = num(-1, 0);
    assert_int_equal(jt_amount_div_round(&m1, &three, &n, true, &out), JT_OK);
    EXPECT_ISSUED(out, -3333333333333333, -16);
    assert_int_equal(jt_amount_div_round(&m1, &three, &n, false, &out), JT_OK);
    EXPECT_ISSUED(out, -3333333333333334, -16);
    /* exact quotients are not bumped: 1/2 up → v = 5·10^16 → +9, /10 → 0.5 */
    assert_int_equal(jt_amount_div_round(&one, &two, &n, true, &out), JT_OK);
    EXPECT_ISSUED(out, 5000000000000000, -16);

    /* the rounding starts at the division: 1.000000000000001² =
     * 1.000000000000002000000000000001; ⌊v⌋ = 10000000000000020 would leave
     * nothing to round, ⌈v⌉ = 10000000000000021 → +9, /10 → ...003e-15 */
    jt_amount u = num(1000000000000001, -15);
    assert_int_equal(jt_amount_mul_round(&u, &u, &n, true, &out), JT_OK);
    EXPECT_ISSUED(out, 1000000000000003, -15);
    assert_int_equal(jt_amount_mul_round(&u, &u, &n, false, &out), JT_OK);
    EXPECT_ISSUED(out, 1000000000000002, -15);
    /* likewise 1 / 1.001 = 0.999000999000999000999…: ⌊v⌋ =
     * 99900099900099900, ⌈v⌉ = ...901 → 9990009990009991e-16 */
    jt_amount k = num(1001, -3);
    assert_int_equal(jt_amount_div_round(&one, &k, &n, true, &out), JT_OK);
    EXPECT_ISSUED(out, 9990009990009991, -16);
    assert_int_equal(jt_amount_div_round(&one, &k, &n, false, &out), JT_OK);
    EXPECT_ISSUED(out, 9990009990009990, -16);
    assert_int_equal(jt_amount_div(&one, &k, &n, &out), JT_OK); /* v + 5 */
    EXPECT_ISSUED(out, 9990009990009990, -16);

    /* mulRound of the transfer-fee example: ⌊…/10^14⌋ = 12370370259037029
     * (down → 1237037025903702e-15), ⌈…⌉ = 12370370259037030, +9, /10 →
     * 1237037025903703e-15 (up) */
    jt_amount a = num(1234567890123456, -15), r;
    jt_amount_from_transfer_rate(1002000000, &r);
    assert_int_equal(jt_amount_mul_round(&a, &r, &n, false, &out), JT_OK);
    EXPECT_ISSUED(out, 1237037025903702, -15);
    assert_int_equal(jt_amount_mul_round(&a, &r, &n, true, &out), JT_OK);
    EXPECT_ISSUED(out, 1237037025903703, -15);

    /* skywelld rounds only the last digit it cuts: 0.9090909090909091 · 1.1
     * = 1.00000000000000001 exactly, v = 100000000000000001 (18 digits);
     * the first cut digit (1) is truncated, then +9 on 10000000000000000
     * leaves it: "up" gives exactly 1, not 1.000000000000001 */
    jt_amount p = num(9090909090909091, -16), q = num(11, -1);
    assert_int_equal(jt_amount_mul_round(&p, &q, &n, true, &out), JT_OK);
    EXPECT_ISSUED(out, 1000000000000000, -15);
    assert_int_equal(jt_amount_mul(&p, &q, &n, &out), JT_OK); /* v + 7, /100 */
    EXPECT_ISSUED(out, 1000000000000000, -15);
    /* and a cut digit of 5 does round up: 5000000000000001e-15 · 2 =
     * v 100000000000000020 → 10000000000000002 → +9 /10 → 1000000000000001e-14 */
    p = num(5000000000000001, -15);
    assert_int_equal(jt_amount_mul_round(&p, &two, &n, true, &out), JT_OK);
    EXPECT_ISSUED(out, 1000000000000001, -14);
    assert_int_equal(jt_amount_mul_round(&p, &two, &n, false, &out), JT_OK);
    EXPECT_ISSUED(out, 1000000000000000, -14);
}

static void rounding_native(void **state)
{
    (void)state;
    jt_amount sw = drops(1), out;
    jt_amount three = num(3, 0);
    /* 10 SWT / 3 up: ⌈10^32 / 3·10^15⌉ = 33333333333333334, e-10; nine
     * digits cut (33333333, e-1), +9, /10 → 3333334 drops; down → 3333333 */
    jt_amount ten = drops(10000000);
    assert_int_equal(jt_amount_div_round(&ten, &three, &sw, true, &out), JT_OK);
    EXPECT_NATIVE(out, 3333334);
    assert_int_equal(jt_amount_div_round(&ten, &three, &sw, false, &out), JT_OK);
    EXPECT_NATIVE(out, 3333333);

    /* −1 SWT · 0.3333333333333333 toward −infinity: v = 33333333333333330,
     * e-11 → 3333333 (e-1) → +9, /10 → −333334; toward +infinity the
     * magnitude is cut: −333333 */
    jt_amount m = drops(-1000000), third = num(3333333333333333, -16);
    assert_int_equal(jt_amount_mul_round(&m, &third, &sw, false, &out), JT_OK);
    EXPECT_NATIVE(out, -333334);
    assert_int_equal(jt_amount_mul_round(&m, &third, &sw, true, &out), JT_OK);
    EXPECT_NATIVE(out, -333333);

    /* exact, nine digits to cut: 1 SWT · 2 up → 2·10^16 e-10 → 20000000 (e-1),
     * +9, /10 → 2000000: no bump */
    jt_amount one_swt = drops(1000000), two = num(2, 0);
    assert_int_equal(jt_amount_mul_round(&one_swt, &two, &sw, true, &out), JT_OK);
    EXPECT_NATIVE(out, 2000000);
    /* one digit below the drop: skywelld adds 10 before the last division,
     * so an exact 2·10^15 drops comes out one drop more.
     * 10^15 drops (e0) · 2 → v = 2·10^16, e-1 → (v + 10) / 10 */
    jt_amount big = drops(1000000000000000);
    assert_int_equal(jt_amount_mul_round(&big, &two, &sw, true, &out), JT_OK);
    EXPECT_NATIVE(out, 2000000000000001);
    assert_int_equal(jt_amount_mul_round(&big, &two, &sw, false, &out), JT_OK);
    EXPECT_NATIVE(out, 2000000000000000);
    /* two digits below: one cut, then the same +10: 10^15 · 0.2 → v = 2·10^16,
     * e-2 → 2·10^15 (e-1) → 200000000000001 */
    jt_amount fifth = num(2, -1);
    assert_int_equal(jt_amount_mul_round(&big, &fifth, &sw, true, &out), JT_OK);
    EXPECT_NATIVE(out, 200000000000001);
    assert_int_equal(jt_amount_mul_round(&big, &fifth, &sw, false, &out), JT_OK);
    EXPECT_NATIVE(out, 200000000000000);
}

/* ---- getRate and amountFromQuality ---- */

static void rate(void **state)
{
    (void)state;
    /* an offer selling 100 CNY for 50 SWT: rate = in / out = 50 SWT / 100 CNY;
     * 5·10^15e-8 · 10^17 / 10^15e-13 + 5 = 500000000000000005, e-12
     * → 5000000000000000e-10 (0.5 SWT per CNY, in drops) */
    jt_amount c100 = cnyv(100, 0), s50 = drops(50000000);
    uint64_t q = jt_amount_rate(&c100, &s50);
    assert_int_equal(q, quality(-10, 5000000000000000));
    assert_int_equal(q, 0x5A11C37937E08000ULL);
    /* the other way, 50 SWT for 100 CNY: 2000000000000000e-21 */
    assert_int_equal(jt_amount_rate(&s50, &c100), 0x4F071AFD498D0000ULL);
    /* one for one: skywelld's uRateOne */
    jt_amount one = num(1, 0);
    assert_int_equal(jt_amount_rate(&one, &one), 0x55038D7EA4C68000ULL);
    /* signs are ignored; zero or overflow gives 0 */
    jt_amount neg = c100;
    jt_amount_negate(&neg);
    assert_int_equal(jt_amount_rate(&neg, &s50), q);
    jt_amount z = cnyv(0, 0), zd = drops(0);
    assert_int_equal(jt_amount_rate(&z, &s50), 0);
    assert_int_equal(jt_amount_rate(&c100, &zd), 0);
    jt_amount tiny = cnyv(1, -81), max = cnyv(9999999999999999, 80);
    assert_int_equal(jt_amount_rate(&tiny, &max), 0);
    assert_int_equal(jt_amount_rate(&max, &tiny), 0); /* underflow: zero */

    /* amountFromQuality inverts it */
    jt_amount back;
    assert_int_equal(jt_amount_from_rate(q, &back), JT_OK);
    EXPECT_ISSUED(back, 5000000000000000, -10);
    assert_false(back.native);
    assert_true(jt_currency_is_swt(&back.currency));
    assert_int_equal(jt_amount_rate(&one, &back), q);
    assert_int_equal(jt_amount_from_rate(0, &back), JT_OK);
    EXPECT_ISSUED(back, 0, 0);
    /* a packed mantissa below 10^15 is normalized: 1e90 → 1000000000000000e75 */
    assert_int_equal(jt_amount_from_rate(quality(90, 1), &back), JT_OK);
    EXPECT_ISSUED(back, 1000000000000000, 75);
    back = one;
    assert_int_equal(jt_amount_from_rate(quality(155, 1000000000000000), &back), JT_EAMOUNT_RANGE);
    EXPECT_ISSUED(back, 1000000000000000, -15); /* untouched */

    /* rate × out gives back in: 0.5 SWT/CNY × 100 CNY into drops =
     * v 5·10^30/10^14 + 7, e-8 → 50000000 drops */
    jt_amount r, sw = drops(1), got;
    assert_int_equal(jt_amount_from_rate(q, &r), JT_OK);
    assert_int_equal(jt_amount_mul_round(&c100, &r, &sw, true, &got), JT_OK);
    EXPECT_NATIVE(got, 50000000);
}

static void transfer_rate(void **state)
{
    (void)state;
    jt_amount r;
    jt_amount_from_transfer_rate(1002000000, &r);
    EXPECT_ISSUED(r, 1002000000000000, -15);
    assert_false(r.native);
    jt_amount_from_transfer_rate(JT_QUALITY_ONE, &r);
    EXPECT_ISSUED(r, 1000000000000000, -15);
    jt_amount_from_transfer_rate(0, &r);
    EXPECT_ISSUED(r, 0, 0);
    jt_amount_from_transfer_rate(UINT32_MAX, &r); /* 4.294967295 */
    EXPECT_ISSUED(r, 4294967295000000, -15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(constructors),
        cmocka_unit_test(sign_and_negate),
        cmocka_unit_test(add_native),
        cmocka_unit_test(add_issued),
        cmocka_unit_test(add_refuses_mixed),
        cmocka_unit_test(mul_rate),
        cmocka_unit_test(div_rate),
        cmocka_unit_test(engine_quality),
        cmocka_unit_test(quality_text),
        cmocka_unit_test(mul_div_quality),
        cmocka_unit_test(multiply),
        cmocka_unit_test(multiply_native),
        cmocka_unit_test(divide),
        cmocka_unit_test(rounding),
        cmocka_unit_test(rounding_native),
        cmocka_unit_test(rate),
        cmocka_unit_test(transfer_rate),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
