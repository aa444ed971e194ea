/* fuzz_amount.c — libFuzzer target for amount and currency parsing/decoding.
 *
 * The input is used twice: as text for every text parser, and as bytes for
 * jt_amount_decode. Whatever is accepted must survive the round trips
 * (encode ↔ decode, value ↔ text) unchanged; a difference aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jt/amount.h"
#include "jt/base58.h"

#define MAX_TEXT 4096

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_amount(const jt_amount *a, const jt_amount *b)
{
    return a->native == b->native && a->negative == b->negative && a->mantissa == b->mantissa &&
           a->exponent == b->exponent && memcmp(a->currency.bytes, b->currency.bytes, 20) == 0 &&
           memcmp(a->issuer.bytes, b->issuer.bytes, 20) == 0;
}

/* encode → decode gives the same struct and consumes exactly what was written. */
static void check_binary_round_trip(const jt_amount *a)
{
    uint8_t out[48];
    size_t len = 0, used = 0;
    CHECK(jt_amount_encode(a, out, &len) == JT_OK);
    CHECK(len == (a->native ? 8u : 48u));
    jt_amount back;
    CHECK(jt_amount_decode(out, len, &back, &used, NULL) == JT_OK);
    CHECK(used == len);
    CHECK(same_amount(a, &back));
}

/* value text → parse gives the same canonical value. */
static void check_text_round_trip(const jt_amount *a)
{
    char text[JT_AMOUNT_TEXT_MAX];
    CHECK(jt_amount_value_text(a, text, sizeof text) == JT_OK);
    if (a->native) {
        jt_amount b;
        CHECK(jt_amount_from_drops(&b, text, JT_AMOUNT_ALLOW_NEGATIVE | JT_AMOUNT_LEDGER_RANGE,
                                   NULL) == JT_OK);
        CHECK(same_amount(a, &b));
        CHECK(jt_amount_swt_text(a, text, sizeof text) == JT_OK);
        CHECK(jt_amount_from_swt(&b, text, JT_AMOUNT_ALLOW_NEGATIVE | JT_AMOUNT_LEDGER_RANGE,
                                 NULL) == JT_OK);
        CHECK(same_amount(a, &b));
    } else {
        bool neg;
        uint64_t m;
        int32_t ex;
        CHECK(jt_amount_parse_value(text, JT_AMOUNT_ALLOW_NEGATIVE, &neg, &m, &ex, NULL) == JT_OK);
        CHECK(neg == a->negative && m == a->mantissa && ex == a->exponent);
    }
}

static void issued_from_parts(jt_amount *a, bool neg, uint64_t m, int32_t ex)
{
    memset(a, 0, sizeof *a);
    a->negative = neg;
    a->mantissa = m;
    a->exponent = ex;
    a->currency.bytes[12] = 'C';
    a->currency.bytes[13] = 'N';
    a->currency.bytes[14] = 'Y';
    a->issuer.bytes[19] = 7;
}

static void fuzz_text(const char *s)
{
    const unsigned all = JT_AMOUNT_ALLOW_NEGATIVE | JT_AMOUNT_LEDGER_RANGE;
    jt_errinfo ei;

    /* issued values */
    bool neg = false, neg0 = false;
    uint64_t m = 0, m0 = 0;
    int32_t ex = 0, ex0 = 0;
    jt_err e = jt_amount_parse_value(s, JT_AMOUNT_ALLOW_NEGATIVE, &neg, &m, &ex, &ei);
    jt_err e0 = jt_amount_parse_value(s, 0, &neg0, &m0, &ex0, NULL);
    bool value_ok = e == JT_OK;
    jt_amount iv;
    if (value_ok) {
        CHECK(m == 0 ? (ex == 0 && !neg)
                     : (m >= JT_MIN_MANTISSA && m <= JT_MAX_MANTISSA && ex >= JT_MIN_EXPONENT &&
                        ex <= JT_MAX_EXPONENT));
        /* without the flag: the same, unless negative */
        CHECK(neg ? e0 == JT_EAMOUNT_RANGE : (e0 == JT_OK && m0 == m && ex0 == ex && !neg0));
        issued_from_parts(&iv, neg, m, ex);
        check_binary_round_trip(&iv);
        check_text_round_trip(&iv);
    } else {
        CHECK(e0 != JT_OK);
        CHECK(ei.code == e && ei.msg[0] != '\0');
    }

    /* SWT units, then the same value read as drops */
    jt_amount a;
    e = jt_amount_from_swt(&a, s, all, &ei);
    if (e == JT_OK) {
        CHECK(a.native && a.exponent == 0 && a.mantissa <= JT_MAX_NATIVE_DROPS);
        CHECK(!(a.negative && a.mantissa == 0));
        check_binary_round_trip(&a);
        check_text_round_trip(&a);
        /* the same number as an issued value, if it fits 16 digits: equal by value */
        if (value_ok) {
            jt_amount scaled;
            issued_from_parts(&scaled, a.negative, a.mantissa, -6);
            CHECK(jt_amount_cmp(&iv, &scaled) == 0);
        }
    } else {
        CHECK(ei.code == e && ei.msg[0] != '\0');
    }

    e = jt_amount_from_drops(&a, s, all, &ei);
    if (e == JT_OK) {
        CHECK(a.native && a.mantissa <= JT_MAX_NATIVE_DROPS);
        check_binary_round_trip(&a);
        check_text_round_trip(&a);
        if (value_ok) {
            jt_amount d;
            issued_from_parts(&d, a.negative, a.mantissa, 0);
            CHECK(jt_amount_cmp(&iv, &d) == 0);
        }
        /* a whole number of drops is also valid SWT text */
        jt_amount b;
        CHECK(jt_amount_from_swt(&b, s, all, NULL) == JT_OK || a.mantissa > 600000);
    } else {
        CHECK(ei.code == e && ei.msg[0] != '\0');
    }

    /* currencies */
    jt_currency c, c2;
    e = jt_currency_from_text(s, true, &c, &ei);
    if (e == JT_OK) {
        char text[JT_CURRENCY_TEXT_MAX];
        jt_currency_to_text(&c, text);
        CHECK(jt_currency_from_text(text, true, &c2, NULL) == JT_OK);
        CHECK(memcmp(c.bytes, c2.bytes, 20) == 0);
        jt_err e2 = jt_currency_from_text(s, false, &c2, NULL);
        CHECK(jt_currency_is_swt(&c) ? e2 == JT_ECURRENCY : e2 == JT_OK);
    } else {
        CHECK(ei.code == e && ei.msg[0] != '\0');
    }
}

static void fuzz_bytes(const uint8_t *data, size_t size)
{
    jt_amount a;
    size_t used = 0;
    jt_errinfo ei;
    jt_err e = jt_amount_decode(data, size, &a, &used, &ei);
    if (e != JT_OK) {
        CHECK(ei.code == e && ei.msg[0] != '\0');
        return;
    }
    CHECK(used == 8 || used == 48);
    CHECK(used <= size);
    uint8_t out[48];
    size_t len = 0;
    CHECK(jt_amount_encode(&a, out, &len) == JT_OK);
    CHECK(len == used && memcmp(out, data, len) == 0);
    check_text_round_trip(&a);
    char cur[JT_CURRENCY_TEXT_MAX];
    jt_currency_to_text(&a.currency, cur);
    CHECK(a.native == (strcmp(cur, "SWT") == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_TEXT)
        return 0;
    char text[MAX_TEXT + 1];
    memcpy(text, data, size);
    text[size] = '\0';
    fuzz_text(text);
    fuzz_bytes(data, size);
    return 0;
}
