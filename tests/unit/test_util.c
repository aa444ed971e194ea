/* test_util.c — hex, buffers and error tables. */
#include <string.h>

#include "internal.h"
#include "jt/jt.h"
#include "testutil.h"

static void hex_round_trip(void **state)
{
    (void)state;
    uint8_t in[] = {0x00, 0x01, 0xAB, 0xFF};
    char out[9];
    assert_int_equal(jt_hex_encode(in, 4, out, sizeof out), JT_OK);
    assert_string_equal(out, "0001ABFF");
    assert_int_equal(jt_hex_encode(in, 4, out, 8), JT_EBUFSIZE);
    uint8_t back[4];
    size_t n = 0;
    assert_int_equal(jt_hex_decode("0001abFF", 8, back, sizeof back, &n), JT_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(back, in, 4);
    assert_int_equal(jt_hex_decode("0g", 2, back, sizeof back, &n), JT_EHEX);
    assert_int_equal(jt_hex_decode("000", 3, back, sizeof back, &n), JT_EHEX);
    assert_int_equal(jt_hex_decode("0000000000", 10, back, sizeof back, &n), JT_EBUFSIZE);
}

static void error_names(void **state)
{
    (void)state;
    assert_string_equal(jt_errname(JT_OK), "OK");
    assert_string_equal(jt_errname(JT_EAMOUNT_DECIMALS), "EAMOUNT_DECIMALS");
    assert_string_equal(jt_strerror(JT_EAMOUNT_DECIMALS), "SWT has at most 6 decimal places");
    assert_string_equal(jt_strerror((jt_err)9999), "unknown error");
    /* Every code has a distinct name. */
    for (int i = 0; i < JT__ERR_COUNT; i++)
        for (int j = i + 1; j < JT__ERR_COUNT; j++)
            assert_string_not_equal(jt_errname((jt_err)i), jt_errname((jt_err)j));
}

static void buffer_growth(void **state)
{
    (void)state;
    jt_buf b;
    jt_buf_init(&b);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(jt_buf_append(&b, "abc", 3), JT_OK);
    assert_int_equal(b.len, 30000);
    assert_memory_equal(b.data + 29997, "abc", 3);
    assert_int_equal(jt_buf_append(&b, "x", JT_BUF_MAX), JT_ETOOBIG);
    jt_buf_clear(&b);
    assert_null(b.data);
}

static void arena_limits(void **state)
{
    (void)state;
    jt__arena a;
    jt__arena_init(&a, 64 * 1024);
    char *s = jt__arena_strndup(&a, "hello", 3);
    assert_string_equal(s, "hel");
    assert_non_null(jt__arena_alloc(&a, 10000)); /* a one-off large block */
    assert_null(jt__arena_alloc(&a, 1 << 20));   /* over the limit */
    jt__arena_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex_round_trip),
        cmocka_unit_test(error_names),
        cmocka_unit_test(buffer_growth),
        cmocka_unit_test(arena_limits),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
