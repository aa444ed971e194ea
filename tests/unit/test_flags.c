/* test_flags.c — jt/flags.h against skywelld's numbers (LedgerFormats.h, TxFlags.h). */
#include <stdint.h>

#include "jt/flags.h"
#include "jt/tx.h"
#include "testutil.h"

/* The masks are written as ~(...) over the named bits; their values are
 * skywelld's tf*Mask constants, worked out by hand. A missing parenthesis or
 * bit in a macro shows here. */
static void masks(void **state)
{
    (void)state;
    assert_int_equal((uint32_t)JT_TF_UNIVERSAL_MASK, 0x7FFFFFFFu);
    assert_int_equal((uint32_t)JT_TF_PAYMENT_MASK, 0x7FF8FFFFu);
    assert_int_equal((uint32_t)JT_TF_ACCOUNT_SET_MASK, 0x7FC0FFFFu);
    assert_int_equal((uint32_t)JT_TF_TRUST_SET_MASK, 0x7FC8FFFFu);
    assert_int_equal((uint32_t)JT_TF_OFFER_CREATE_MASK, 0x7FF0FFFFu);
    /* a mask keeps no bit of its own type */
    assert_int_equal(JT_TF_PAYMENT_MASK & JT_TF_PARTIAL_PAYMENT, 0);
    assert_int_equal(JT_TF_OFFER_CREATE_MASK & JT_TF_SELL, 0);
    assert_int_equal(JT_TF_TRUST_SET_MASK & JT_TF_CLEAR_FREEZE, 0);
    assert_int_equal(JT_TF_ACCOUNT_SET_MASK & JT_TF_ALLOW_SWT, 0);
    /* 0x00080000 is no TrustSet flag: skywelld leaves it out of TrustSet */
    assert_int_not_equal(JT_TF_TRUST_SET_MASK & 0x00080000u, 0);
}

static void values(void **state)
{
    (void)state;
    assert_int_equal(JT_TF_FULLY_CANONICAL_SIG, 0x80000000u);
    assert_int_equal(JT_LSF_REQUIRE_DEST_TAG, 0x00020000u);
    assert_int_equal(JT_LSF_DEFAULT_SKYWELL, 0x00800000u);
    assert_int_equal(JT_LSF_HIGH_FREEZE, 0x00800000u);
    assert_int_equal(JT_LSF_SELL, 0x00020000u);
    assert_int_equal(JT_TF_SELL, 0x00080000u);
    assert_int_equal(JT_TF_IMMEDIATE_OR_CANCEL, 0x00020000u);
    assert_int_equal(JT_TF_FILL_OR_KILL, 0x00040000u);
    assert_int_equal(JT_ASF_DEFAULT_SKYWELL, 8);
    assert_int_equal(JT_ASF_ACCOUNT_TXN_ID, 5);
    assert_int_equal(JT_QUALITY_ONE, 1000000000u);
    /* Each line flag pair: High is Low's bit shifted once. */
    assert_int_equal(JT_LSF_HIGH_RESERVE, JT_LSF_LOW_RESERVE << 1);
    assert_int_equal(JT_LSF_HIGH_AUTH, JT_LSF_LOW_AUTH << 1);
    assert_int_equal(JT_LSF_HIGH_NO_SKYWELL, JT_LSF_LOW_NO_SKYWELL << 1);
    assert_int_equal(JT_LSF_HIGH_FREEZE, JT_LSF_LOW_FREEZE << 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(masks),
        cmocka_unit_test(values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
