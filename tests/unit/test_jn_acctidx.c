/* Unit tests of jt-node's account index (acctidx.c) against a plain
 * reference: random adds and removals over a pool of accounts and
 * subscribers, so that the table grows and removals shift runs back. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <jt/jt.h>

#include "acctidx.h"

enum { NACCT = 600, NSUB = 8, STEPS = 40000 };

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Accounts that share all but two bytes, as IDs chosen by a client could. */
static void pool_acct(unsigned i, jt_account_id *a)
{
    memset(a->bytes, 0x33, sizeof a->bytes);
    a->bytes[18] = (uint8_t)(i >> 8);
    a->bytes[19] = (uint8_t)i;
}

static int subs[NSUB];
static bool model[NACCT][NSUB];

/* The index holds exactly the model's subscribers of account i. */
static void check_acct(const jn_acctidx *x, unsigned i)
{
    jt_account_id a;
    pool_acct(i, &a);
    size_t n;
    void *const *v = jn_acctidx_find(x, &a, &n);
    bool seen[NSUB] = {false};
    for (size_t k = 0; k < n; k++) {
        int s = (int)((int *)v[k] - subs);
        assert_true(s >= 0 && s < NSUB);
        assert_false(seen[s]);
        seen[s] = true;
    }
    for (int s = 0; s < NSUB; s++)
        assert_int_equal(seen[s], model[i][s]);
    assert_true(n || !v);
}

static void against_model(void **state)
{
    (void)state;
    jn_acctidx x;
    jn_acctidx_init(&x);
    size_t pairs = 0;
    for (int step = 0; step < STEPS; step++) {
        unsigned i = (unsigned)(next_rand() % NACCT);
        int s = (int)(next_rand() % NSUB);
        jt_account_id a;
        pool_acct(i, &a);
        /* Grow for the first half, then remove more than add. */
        bool add = next_rand() % 100 < (step < STEPS / 2 ? 70u : 30u);
        if (add && !model[i][s]) {
            assert_int_equal(jn_acctidx_add(&x, &a, &subs[s]), 0);
            model[i][s] = true;
            pairs++;
        } else if (!add) {
            jn_acctidx_remove(&x, &a, &subs[s]); /* absent: nothing happens */
            pairs -= model[i][s];
            model[i][s] = false;
        }
        assert_int_equal(x.pairs, pairs);
        check_acct(&x, i);
        check_acct(&x, (unsigned)(next_rand() % NACCT));
    }
    size_t used = 0;
    for (unsigned i = 0; i < NACCT; i++) {
        check_acct(&x, i);
        bool any = false;
        for (int s = 0; s < NSUB; s++)
            any |= model[i][s];
        used += any;
    }
    assert_int_equal(x.used, used);
    /* Everything out: the table is empty and finds nothing. */
    for (unsigned i = 0; i < NACCT; i++)
        for (int s = 0; s < NSUB; s++) {
            jt_account_id a;
            pool_acct(i, &a);
            jn_acctidx_remove(&x, &a, &subs[s]);
            model[i][s] = false;
        }
    assert_int_equal(x.pairs, 0);
    assert_int_equal(x.used, 0);
    for (unsigned i = 0; i < NACCT; i++)
        check_acct(&x, i);
    jn_acctidx_clear(&x);
    jn_acctidx_clear(&x); /* twice is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
