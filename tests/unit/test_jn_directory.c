/* Unit tests of jt-node's paged directories (skywelld's dirAdd/dirDelete). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <jt/jt.h>

#include "apply.h"
#include "directory.h"
#include "state.h"

static void item_key(unsigned i, uint8_t k[32])
{
    jt_sha512half(&i, sizeof i, k);
}

static jt_account_id owner = {{9, 8, 7}};

static uint64_t get_u64(const jt_obj *o, const char *f, bool *present)
{
    uint64_t v = 0;
    bool ok = jt_obj_get_uint(o, f, &v) == JT_OK;
    if (present)
        *present = ok;
    return ok ? v : 0;
}

static size_t page_count(const jn_view *v, const uint8_t root[32], uint64_t page)
{
    uint8_t id[32];
    jn_id_dir_page(root, page, id);
    const jt_obj *o = jn_view_read(v, id);
    assert_non_null(o);
    const uint8_t *p;
    size_t n;
    assert_int_equal(jt_obj_get_bytes(o, "Indexes", &p, &n), JT_OK);
    return n / 32;
}

static const jt_obj *page_obj(const jn_view *v, const uint8_t root[32], uint64_t page)
{
    uint8_t id[32];
    jn_id_dir_page(root, page, id);
    return jn_view_read(v, id);
}

/* 100 entries: pages 0-3 hold 32, 32, 32, 4, linked as skywelld links them,
 * read back in insertion order. */
static void test_dir_pages(void **state)
{
    (void)state;
    jn_map base;
    jn_map_init(&base);
    jn_view v;
    jn_view_init(&v, NULL, &base);
    uint8_t root[32], k[32];
    jn_id_owner_dir(&owner, root);
    jn_dir_desc d = {.owner = &owner};
    for (unsigned i = 0; i < 100; i++) {
        uint64_t page = 99;
        item_key(i, k);
        assert_int_equal(jn_dir_add(&v, root, k, &d, &page), 0);
        assert_int_equal(page, i / 32);
    }
    assert_int_equal(page_count(&v, root, 0), 32);
    assert_int_equal(page_count(&v, root, 3), 4);
    bool present;
    const jt_obj *r = page_obj(&v, root, 0);
    assert_int_equal(get_u64(r, "IndexPrevious", NULL), 3);
    assert_int_equal(get_u64(r, "IndexNext", NULL), 1);
    const jt_obj *p1 = page_obj(&v, root, 1);
    (void)get_u64(p1, "IndexPrevious", &present);
    assert_false(present); /* page 1's previous is the root: not written */
    assert_int_equal(get_u64(p1, "IndexNext", NULL), 2);
    assert_int_equal(get_u64(page_obj(&v, root, 2), "IndexPrevious", NULL), 1);
    (void)get_u64(page_obj(&v, root, 3), "IndexNext", &present);
    assert_false(present);
    /* Every page names the root and the owner. */
    for (uint64_t pg = 0; pg < 4; pg++) {
        const uint8_t *ri;
        size_t n;
        assert_int_equal(jt_obj_get_bytes(page_obj(&v, root, pg), "RootIndex", &ri, &n), JT_OK);
        assert_memory_equal(ri, root, 32);
        assert_true(jt_obj_has(page_obj(&v, root, pg), "Owner"));
    }
    jn_dir_cursor c = {0};
    unsigned i = 0;
    while (jn_dir_next(&v, root, &c, k)) {
        uint8_t want[32];
        item_key(i++, want);
        assert_memory_equal(k, want, 32);
    }
    assert_int_equal(i, 100);

    /* Unstable removal (owner directories): the page's last entry moves in. */
    uint8_t k0[32], k31[32];
    item_key(0, k0);
    item_key(31, k31);
    assert_int_equal(jn_dir_remove(&v, root, 0, k0, false, false), 0);
    memset(&c, 0, sizeof c);
    assert_true(jn_dir_next(&v, root, &c, k));
    assert_memory_equal(k, k31, 32);
    /* Stable removal keeps the order. */
    uint8_t k32[32], k33[32];
    item_key(32, k32);
    item_key(33, k33);
    assert_int_equal(jn_dir_remove(&v, root, 1, k32, true, false), 0);
    memset(&c, 0, sizeof c);
    for (unsigned j = 0; j < 31; j++)
        assert_true(jn_dir_next(&v, root, &c, k));
    assert_true(jn_dir_next(&v, root, &c, k));
    assert_memory_equal(k, k33, 32);
    /* The wrong page without `soft` is a damaged ledger; soft finds it. */
    item_key(70, k);
    assert_int_equal(jn_dir_remove(&v, root, 0, k, false, false), JT_tefBAD_LEDGER);
    assert_int_equal(jn_dir_remove(&v, root, 0, k, false, true), 0);

    /* Emptying page 2 (a middle page) unlinks and deletes it. */
    for (unsigned j = 64; j < 96; j++) {
        item_key(j, k);
        if (j != 70)
            assert_int_equal(jn_dir_remove(&v, root, 2, k, false, false), 0);
    }
    assert_null(page_obj(&v, root, 2));
    assert_int_equal(get_u64(page_obj(&v, root, 1), "IndexNext", NULL), 3);
    assert_int_equal(get_u64(page_obj(&v, root, 3), "IndexPrevious", NULL), 1);
    /* Emptying the rest deletes the whole directory (root, 1, 3 in an
     * order that lets skywelld's rules reach it: 3, then the root, then 1). */
    for (unsigned j = 96; j < 100; j++) {
        item_key(j, k);
        assert_int_equal(jn_dir_remove(&v, root, 3, k, false, false), 0);
    }
    assert_non_null(page_obj(&v, root, 3)); /* last page stays: pages before it remain */
    for (unsigned j = 1; j < 32; j++) {
        item_key(j, k);
        assert_int_equal(jn_dir_remove(&v, root, 0, k, false, false), 0);
    }
    assert_non_null(page_obj(&v, root, 0));
    for (unsigned j = 33; j < 64; j++) {
        item_key(j, k);
        assert_int_equal(jn_dir_remove(&v, root, 1, k, false, false), 0);
    }
    /* Page 1 unlinked; root and page 3 are both empty but skywelld only
     * deletes the pair when one of them is emptied by a removal. */
    assert_null(page_obj(&v, root, 1));
    assert_int_equal(get_u64(page_obj(&v, root, 0), "IndexNext", NULL), 3);
    memset(&c, 0, sizeof c);
    assert_false(jn_dir_next(&v, root, &c, k));
    jn_view_clear(&v);
    jn_map_clear(&base);
}

/* A directory that never grew past its root goes with its last entry; one
 * root plus one page goes when both are emptied. A book directory's pages
 * carry the book's fields. */
static void test_dir_small(void **state)
{
    (void)state;
    jn_map base;
    jn_map_init(&base);
    jn_view v;
    jn_view_init(&v, NULL, &base);
    uint8_t root[32], k[32];
    memset(root, 0x33, 32);
    jt_amount pays = {0}, gets = {0};
    pays.native = true;
    gets.currency.bytes[12] = 'C';
    gets.issuer.bytes[0] = 1;
    jn_dir_desc d = {.pays = &pays, .gets = &gets, .quality = 0x5510000000000000ull};
    uint64_t page;
    item_key(1, k);
    assert_int_equal(jn_dir_add(&v, root, k, &d, &page), 0);
    assert_true(jn_is_book_root(root, page_obj(&v, root, 0)));
    assert_int_equal(get_u64(page_obj(&v, root, 0), "ExchangeRate", NULL), d.quality);
    assert_int_equal(jn_dir_remove(&v, root, 0, k, true, false), 0);
    assert_null(page_obj(&v, root, 0));

    for (unsigned i = 0; i < 33; i++) {
        item_key(i, k);
        assert_int_equal(jn_dir_add(&v, root, k, &d, &page), 0);
    }
    assert_int_equal(page, 1);
    assert_false(jn_is_book_root(root, NULL));
    uint8_t p1[32];
    jn_id_dir_page(root, 1, p1);
    assert_false(jn_is_book_root(p1, page_obj(&v, root, 1))); /* a page, not a root */
    assert_int_equal(get_u64(page_obj(&v, root, 1), "ExchangeRate", NULL), d.quality);
    item_key(32, k);
    assert_int_equal(jn_dir_remove(&v, root, 1, k, true, false), 0);
    assert_non_null(page_obj(&v, root, 1)); /* the root still has entries */
    for (unsigned i = 0; i < 32; i++) {
        item_key(i, k);
        assert_int_equal(jn_dir_remove(&v, root, 0, k, true, false), 0);
    }
    assert_null(page_obj(&v, root, 0));
    assert_null(page_obj(&v, root, 1));
    jn_view_clear(&v);
    jn_map_clear(&base);
}

/* Random adds and removals (with the page each entry went into) against a
 * plain list: every live entry is read back exactly once, no page holds
 * more than 32, and the page links are consistent both ways. */
static void test_dir_random(void **state)
{
    (void)state;
    enum { POOL = 400, OPS = 6000 };
    jn_map base;
    jn_map_init(&base);
    jn_view v;
    jn_view_init(&v, NULL, &base);
    uint8_t root[32], k[32];
    jn_id_owner_dir(&owner, root);
    jn_dir_desc d = {.owner = &owner};
    bool in[POOL] = {0};
    uint64_t where[POOL] = {0};
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (unsigned op = 0; op < OPS; op++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        unsigned i = (unsigned)(rng % POOL);
        item_key(i, k);
        if (!in[i]) {
            assert_int_equal(jn_dir_add(&v, root, k, &d, &where[i]), 0);
            in[i] = true;
        } else {
            assert_int_equal(jn_dir_remove(&v, root, where[i], k, (rng >> 40) & 1, false), 0);
            in[i] = false;
        }
        if (op % 200)
            continue;
        unsigned seen[POOL] = {0}, total = 0;
        jn_dir_cursor c = {0};
        while (jn_dir_next(&v, root, &c, k)) {
            unsigned j;
            for (j = 0; j < POOL; j++) {
                uint8_t w[32];
                item_key(j, w);
                if (!memcmp(w, k, 32))
                    break;
            }
            assert_true(j < POOL);
            assert_true(in[j]);
            assert_int_equal(where[j], c.page);
            seen[j]++;
            total++;
        }
        unsigned live = 0;
        for (unsigned j = 0; j < POOL; j++) {
            live += in[j];
            assert_true(seen[j] == (in[j] ? 1u : 0u));
        }
        assert_int_equal(total, live);
        /* Links: next's previous is this page (absent means the root). */
        const jt_obj *r = page_obj(&v, root, 0);
        if (!r)
            continue;
        uint64_t pg = 0;
        for (;;) {
            const jt_obj *o = page_obj(&v, root, pg);
            assert_non_null(o);
            assert_true(page_count(&v, root, pg) <= 32);
            uint64_t nx = get_u64(o, "IndexNext", NULL);
            if (!nx) {
                assert_int_equal(get_u64(r, "IndexPrevious", NULL), pg);
                break;
            }
            assert_int_equal(get_u64(page_obj(&v, root, nx), "IndexPrevious", NULL), pg);
            pg = nx;
        }
    }
    jn_view_clear(&v);
    jn_map_clear(&base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dir_pages),
        cmocka_unit_test(test_dir_small),
        cmocka_unit_test(test_dir_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
