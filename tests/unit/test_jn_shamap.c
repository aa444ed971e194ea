/* Unit tests of jt-node's SHAMap, amount arithmetic and views. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <jt/jt.h>

#include "shamap.h"
#include "state.h"

static void key_of(unsigned i, uint8_t k[32])
{
    jt_sha512half(&i, sizeof i, k);
}

/* The root depends only on the set of leaves, not on insertion order or on
 * leaves inserted and later deleted. */
static void test_shamap_canonical(void **state)
{
    (void)state;
    enum { N = 600 };
    jn_shamap *a = jn_shamap_new(), *b = jn_shamap_new();
    uint8_t k[32], leaf[32], ra[32], rb[32];
    for (unsigned i = 0; i < N; i++) {
        key_of(i, k);
        key_of(i + 100000, leaf);
        assert_int_equal(jn_shamap_set(a, k, leaf), 0);
    }
    /* b: reverse order, with extra leaves inserted then deleted. */
    for (unsigned i = N + 200; i-- > 0;) {
        key_of(i, k);
        key_of(i + 100000, leaf);
        assert_int_equal(jn_shamap_set(b, k, leaf), 0);
    }
    jn_shamap_root(b, rb); /* hash once in between so cached hashes must be invalidated */
    for (unsigned i = N; i < N + 200; i++) {
        key_of(i, k);
        assert_int_equal(jn_shamap_del(b, k), 0);
    }
    jn_shamap_root(a, ra);
    jn_shamap_root(b, rb);
    assert_memory_equal(ra, rb, 32);
    assert_int_equal(jn_shamap_count(a), N);
    /* Changing one leaf changes the root; changing it back restores it. */
    key_of(7, k);
    memset(leaf, 0xAB, 32);
    jn_shamap_set(b, k, leaf);
    jn_shamap_root(b, rb);
    assert_memory_not_equal(ra, rb, 32);
    key_of(7 + 100000, leaf);
    jn_shamap_set(b, k, leaf);
    jn_shamap_root(b, rb);
    assert_memory_equal(ra, rb, 32);
    /* Deleting everything gives the empty tree's zero hash. */
    for (unsigned i = 0; i < N; i++) {
        key_of(i, k);
        assert_int_equal(jn_shamap_del(b, k), 0);
    }
    static const uint8_t zero[32];
    jn_shamap_root(b, rb);
    assert_memory_equal(rb, zero, 32);
    assert_int_equal(jn_shamap_del(b, k), 1);
    jn_shamap_free(a);
    jn_shamap_free(b);
}

/* A one-leaf tree: the root is the inner hash over that leaf in its slot. */
static void test_shamap_single_leaf(void **state)
{
    (void)state;
    jn_shamap *m = jn_shamap_new();
    uint8_t k[32], leaf[32], root[32], want[32];
    key_of(1, k);
    key_of(2, leaf);
    jn_shamap_set(m, k, leaf);
    jn_shamap_root(m, root);
    uint8_t buf[4 + 16 * 32];
    memset(buf, 0, sizeof buf);
    memcpy(buf, "MIN\0", 4);
    memcpy(buf + 4 + 32 * (k[0] >> 4), leaf, 32);
    jt_sha512half(buf, sizeof buf, want);
    assert_memory_equal(root, want, 32);
    jn_shamap_free(m);
}

static void issued(jt_amount *a, const char *v)
{
    jt_currency c;
    jt_errinfo ei;
    assert_int_equal(jt_currency_from_text("CNY", false, &c, &ei), JT_OK);
    bool neg;
    uint64_t m;
    int32_t e;
    assert_int_equal(jt_amount_parse_value(v, JT_AMOUNT_ALLOW_NEGATIVE, &neg, &m, &e, &ei), JT_OK);
    memset(a, 0, sizeof *a);
    a->currency = c;
    a->negative = neg;
    a->mantissa = m;
    a->exponent = e;
}

static void text_is(const jt_amount *a, const char *want)
{
    char t[JT_AMOUNT_TEXT_MAX];
    assert_int_equal(jt_amount_value_text(a, t, sizeof t), JT_OK);
    assert_string_equal(t, want);
}

static void test_amounts(void **state)
{
    (void)state;
    jt_amount a, b, r;
    issued(&a, "500");
    issued(&b, "120");
    assert_true(!jt_amount_sub(&a, &b, &r));
    text_is(&r, "380");
    assert_true(!jt_amount_sub(&b, &a, &r));
    text_is(&r, "-380");
    assert_true(!jt_amount_add(&r, &a, &r));
    text_is(&r, "120");
    issued(&a, "100");
    assert_true(!jt_amount_mul_rate(&a, 1010000000u, true, &r));
    text_is(&r, "101");
    assert_true(!jt_amount_div_rate(&r, 1010000000u, &b));
    text_is(&b, "100");
    issued(&a, "0.1");
    issued(&b, "0.2");
    assert_true(!jt_amount_add(&a, &b, &r));
    text_is(&r, "0.3");
    assert_int_equal(jt_amount_cmp(&a, &b), -1);
    /* Native: signed drops, overflow refused. */
    jt_amount_native(&a, 5);
    jt_amount_native(&b, -7);
    assert_true(!jt_amount_add(&a, &b, &r));
    assert_int_equal(jt_amount_drops(&r), -2);
    jt_amount_native(&a, INT64_MAX);
    jt_amount_native(&b, 1);
    assert_false(!jt_amount_add(&a, &b, &r));
    /* Quality: 0.5 CNY for 100 SWT (1e8 drops) is 5e-9 per drop. */
    issued(&a, "0.5");
    jt_amount_native(&b, 100000000);
    uint64_t q = jt_amount_quality(&a, &b);
    char qt[64];
    assert_int_equal(jt_amount_quality_text(q, qt, sizeof qt), JT_OK);
    assert_string_equal(qt, "0.000000005");
}

static void test_views(void **state)
{
    (void)state;
    jn_map base;
    jn_map_init(&base);
    uint8_t id[32], id2[32];
    key_of(1, id);
    key_of(2, id2);
    jn_slot *s = jn_map_slot(&base, id);
    s->obj = jt_obj_new();
    assert_int_equal(jt_obj_set_uint(s->obj, "Sequence", 1), JT_OK);
    jn_view open, tx;
    jn_view_init(&open, NULL, &base);
    jn_view_init(&tx, &open, NULL);
    jt_obj *w = jn_view_peek(&tx, id, NULL);
    assert_non_null(w);
    assert_int_equal(jt_obj_set_uint(w, "Sequence", 2), JT_OK);
    uint64_t v;
    assert_int_equal(jt_obj_get_uint(jn_view_read(&open, id), "Sequence", &v), JT_OK);
    assert_int_equal(v, 1); /* the parent does not see the child's change */
    assert_int_equal(jn_view_insert(&tx, id2, jt_obj_new()), 0);
    assert_int_equal(jn_view_merge(&tx), 0);
    assert_int_equal(jt_obj_get_uint(jn_view_read(&open, id), "Sequence", &v), JT_OK);
    assert_int_equal(v, 2);
    assert_non_null(jn_view_read(&open, id2));
    assert_null(jn_map_find(&base, id2)); /* the base is untouched */
    jn_view_init(&tx, &open, NULL);
    assert_int_equal(jn_view_erase(&tx, id), 0);
    assert_null(jn_view_read(&tx, id));
    assert_non_null(jn_view_read(&open, id));
    jn_view_clear(&tx); /* discarded */
    assert_non_null(jn_view_read(&open, id));
    /* Map removal keeps other keys reachable. */
    for (unsigned i = 10; i < 400; i++) {
        uint8_t k[32];
        key_of(i, k);
        jn_map_slot(&base, k)->obj = jt_obj_new();
    }
    for (unsigned i = 10; i < 400; i += 2) {
        uint8_t k[32];
        key_of(i, k);
        jn_map_remove(&base, k);
    }
    for (unsigned i = 10; i < 400; i++) {
        uint8_t k[32];
        key_of(i, k);
        assert_true((jn_map_find(&base, k) != NULL) == (i % 2 == 1));
    }
    jn_view_clear(&open);
    jn_map_clear(&base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shamap_canonical),
        cmocka_unit_test(test_shamap_single_leaf),
        cmocka_unit_test(test_amounts),
        cmocka_unit_test(test_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
