/* Unit tests of jt-node's ordered key set and the ordered book access of
 * views built on it (jn_view_book_next), each against a plain reference. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <jt/jt.h>

#include "keyset.h"
#include "state.h"

/* xorshift: reproducible choices without libc's rand state. */
static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Keys from a small pool so that adds meet existing keys and removals
 * meet absent ones; they share a prefix to exercise memcmp past byte 0. */
static void pool_key(unsigned i, uint8_t k[32])
{
    memset(k, 0x5A, 32);
    k[24] = (uint8_t)(i >> 16);
    k[28] = (uint8_t)(i >> 8);
    k[29] = (uint8_t)i;
}

/* The reference: a presence flag per pool key, in key order. */
static void check_against(const jn_keyset *s, const bool *in, unsigned pool)
{
    size_t count = 0;
    for (unsigned i = 0; i < pool; i++)
        count += in[i];
    assert_int_equal(jn_keyset_count(s), count);
    /* In-order iteration gives exactly the present keys, sorted. */
    size_t bi = 0, pos = 0, seen = 0;
    const uint8_t *k, *prev = NULL;
    uint8_t prevbuf[32];
    while ((k = jn_keyset_next(s, &bi, &pos))) {
        if (prev)
            assert_true(memcmp(prev, k, 32) < 0);
        memcpy(prevbuf, k, 32);
        prev = prevbuf;
        seen++;
    }
    assert_int_equal(seen, count);
    /* ceil of every pool key (and of a key between two pool keys). */
    for (unsigned i = 0; i < pool; i++) {
        uint8_t probe[32], want[32];
        pool_key(i, probe);
        if (i & 1)
            probe[30] = 0x5B; /* just above pool key i, below i + 1 */
        unsigned j = (i & 1) ? i + 1 : i;
        while (j < pool && !in[j])
            j++;
        const uint8_t *got = jn_keyset_ceil(s, probe);
        if (j == pool) {
            assert_null(got);
        } else {
            pool_key(j, want);
            assert_non_null(got);
            assert_memory_equal(got, want, 32);
        }
        pool_key(i, probe);
        assert_int_equal(jn_keyset_has(s, probe), in[i]);
    }
}

static void test_keyset_random(void **state)
{
    (void)state;
    enum { POOL = 3000, OPS = 60000 };
    jn_keyset *s = jn_keyset_new();
    bool *in = calloc(POOL, sizeof *in);
    assert_non_null(s);
    for (unsigned op = 0; op < OPS; op++) {
        unsigned i = (unsigned)(next_rand() % POOL);
        uint8_t k[32];
        pool_key(i, k);
        /* Mostly adds early, mostly removals late: the set grows past many
         * block splits, then shrinks through merges to empty. */
        bool add = (next_rand() % 100) < (op < OPS / 2 ? 70u : 25u);
        if (add) {
            assert_int_equal(jn_keyset_add(s, k), in[i] ? 0 : 1);
            in[i] = true;
        } else {
            assert_int_equal(jn_keyset_remove(s, k), in[i]);
            in[i] = false;
        }
        if (op % 5000 == 0)
            check_against(s, in, POOL);
    }
    check_against(s, in, POOL);
    for (unsigned i = 0; i < POOL; i++) {
        uint8_t k[32];
        pool_key(i, k);
        (void)jn_keyset_remove(s, k);
    }
    assert_int_equal(jn_keyset_count(s), 0);
    assert_null(jn_keyset_ceil(s, (const uint8_t[32]){0}));
    free(in);
    jn_keyset_free(s);
    jn_keyset_free(NULL);
}

/* Ascending and descending insertion (the worst cases for block splits). */
static void test_keyset_sequential(void **state)
{
    (void)state;
    jn_keyset *s = jn_keyset_new();
    bool in[1000] = {0};
    for (unsigned i = 0; i < 500; i++) {
        uint8_t k[32];
        pool_key(i, k);
        assert_int_equal(jn_keyset_add(s, k), 1);
        in[i] = true;
    }
    for (unsigned i = 1000; i-- > 500;) {
        uint8_t k[32];
        pool_key(i, k);
        assert_int_equal(jn_keyset_add(s, k), 1);
        in[i] = true;
    }
    check_against(s, in, 1000);
    for (unsigned i = 0; i < 1000; i += 3) {
        uint8_t k[32];
        pool_key(i, k);
        assert_true(jn_keyset_remove(s, k));
        in[i] = false;
    }
    check_against(s, in, 1000);
    jn_keyset_free(s);
}

/* ---------------------------------------------------------------- views */

enum { BOOKS = 2, LEVELS = 40 };

static uint8_t book_base[BOOKS][32];

static void dir_key(unsigned book, unsigned level, uint8_t k[32])
{
    memcpy(k, book_base[book], 32);
    uint64_t q = 0x5500000000000000ull + (uint64_t)level * 977;
    for (int i = 0; i < 8; i++)
        k[24 + i] = (uint8_t)(q >> (56 - 8 * i));
}

/* A book directory root page (the fields jn_is_book_root reads). */
static jt_obj *dir_entry(const uint8_t k[32], bool root)
{
    jt_obj *o = jt_obj_new();
    assert_non_null(o);
    assert_int_equal(jt_obj_set_uint(o, "LedgerEntryType", 0x64), JT_OK);
    assert_int_equal(jt_obj_set_uint(o, "Flags", 0), JT_OK);
    uint8_t r[32];
    memcpy(r, k, 32);
    if (!root)
        r[0] ^= 1; /* a later page of some directory: not a root */
    assert_int_equal(jt_obj_set_bytes(o, "RootIndex", r, 32), JT_OK);
    uint64_t q = 0;
    for (int i = 0; i < 8; i++)
        q = q << 8 | k[24 + i];
    assert_int_equal(jt_obj_set_uint(o, "ExchangeRate", q), JT_OK);
    return o;
}

/* Walks book b of v with jn_view_book_next and compares with a scan of
 * every possible level through jn_view_read (the reference). */
static void check_view_book(const jn_view *v, unsigned b)
{
    uint8_t from[32], last[32], got[32], want[32];
    memcpy(from, book_base[b], 32);
    memcpy(last, book_base[b], 32);
    memset(last + 24, 0xFF, 8);
    unsigned lvl = 0;
    for (;;) {
        while (lvl < LEVELS) {
            dir_key(b, lvl, want);
            if (jn_is_book_root(want, jn_view_read(v, want)))
                break;
            lvl++;
        }
        bool found = jn_view_book_next(v, from, last, got);
        if (lvl == LEVELS) {
            assert_false(found);
            return;
        }
        assert_true(found);
        assert_memory_equal(got, want, 32);
        /* from = got + 1 */
        memcpy(from, got, 32);
        for (int i = 31; i >= 0 && ++from[i] == 0; i--)
            ;
        lvl++;
    }
}

static void random_change(jn_view *v)
{
    unsigned b = (unsigned)(next_rand() % BOOKS), lvl = (unsigned)(next_rand() % LEVELS);
    uint8_t k[32];
    dir_key(b, lvl, k);
    unsigned what = (unsigned)(next_rand() % 4);
    if (what == 0 || what == 1) {
        if (!jn_view_read(v, k))
            assert_int_equal(jn_view_insert(v, k, dir_entry(k, what == 0)), 0);
        else
            assert_int_equal(jn_view_erase(v, k), 0);
    } else if (what == 2) {
        assert_int_equal(jn_view_erase(v, k), 0);
    } else {
        bool oom;
        jt_obj *o = jn_view_peek(v, k, &oom); /* a modified copy stays a root */
        assert_false(oom);
        if (o)
            assert_int_equal(jt_obj_set_uint(o, "Flags", 0), JT_OK);
    }
}

static void test_view_book_next(void **state)
{
    (void)state;
    for (unsigned b = 0; b < BOOKS; b++) {
        jt_currency pc = {{0}}, gc = {{0}};
        jt_account_id pi = {{0}}, gi = {{0}};
        gc.bytes[12] = 'C';
        gc.bytes[13] = (uint8_t)('A' + b);
        gi.bytes[0] = 7;
        jn_id_book_base(&pc, &pi, &gc, &gi, book_base[b]);
    }
    jn_map base;
    jn_map_init(&base);
    for (unsigned b = 0; b < BOOKS; b++)
        for (unsigned lvl = 0; lvl < LEVELS; lvl += 3) {
            uint8_t k[32];
            dir_key(b, lvl, k);
            assert_int_equal(jn_map_put(&base, k, dir_entry(k, true)), 0);
        }
    for (unsigned round = 0; round < 200; round++) {
        jn_view open, sb;
        jn_view_init(&open, NULL, &base);
        for (unsigned i = 0; i < 25; i++)
            random_change(&open);
        jn_view_init(&sb, &open, NULL);
        for (unsigned i = 0; i < 25; i++)
            random_change(&sb);
        for (unsigned b = 0; b < BOOKS; b++) {
            check_view_book(&open, b);
            check_view_book(&sb, b);
        }
        if (round % 2) {
            assert_int_equal(jn_view_merge(&sb), 0);
            for (unsigned b = 0; b < BOOKS; b++)
                check_view_book(&open, b);
        } else {
            jn_view_clear(&sb);
        }
        /* Fold the open view into base as a close does (put / remove). */
        size_t i = 0;
        jn_slot *s;
        while ((s = jn_map_next(&open.changes, &i))) {
            if (s->deleted) {
                jn_map_remove(&base, s->id);
            } else {
                assert_int_equal(jn_map_put(&base, s->id, s->obj), 0);
                s->obj = NULL;
            }
        }
        jn_view_clear(&open);
        jn_view base_view;
        jn_view_init(&base_view, NULL, &base);
        for (unsigned b = 0; b < BOOKS; b++)
            check_view_book(&base_view, b);
    }
    jn_map_clear(&base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyset_random),
        cmocka_unit_test(test_keyset_sequential),
        cmocka_unit_test(test_view_book_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
