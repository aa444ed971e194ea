/* Unit tests of jt-node's read model: resuming a book walk at a mark
 * (book_offers' marker) while the book changes. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <jt/jt.h>

#include "directory.h"
#include "readmodel.h"
#include "state.h"

enum { POOL = 240, NQ = 3, ROUNDS = 400 };

static const uint64_t qual[NQ] = {0x5510000000000000ull, 0x5520000000000000ull,
                                  0x5530000000000000ull};

typedef struct book {
    jn_map base;
    jn_view v;
    jt_amount pays, gets;
    uint8_t bookbase[32];
    bool in[POOL];
    uint64_t where[POOL]; /* the page each entry went into */
    bool fresh[POOL];     /* added since the mark */
    unsigned gen[POOL];   /* how many times added: a new ID each time, as offers never reuse one */
    uint64_t rng;
} book;

static unsigned quality_of(unsigned i)
{
    return i % NQ;
}

static void item_key(const book *b, unsigned i, uint8_t k[32])
{
    unsigned x[2] = {i, b->gen[i]};
    jt_sha512half(x, sizeof x, k);
}

static unsigned item_of(const book *b, const uint8_t k[32])
{
    for (unsigned i = 0; i < POOL; i++) {
        uint8_t w[32];
        item_key(b, i, w);
        if (!memcmp(w, k, 32))
            return i;
    }
    fail_msg("an entry the book does not hold");
    return 0;
}

static void dir_root(const book *b, unsigned q, uint8_t root[32])
{
    memcpy(root, b->bookbase, 24);
    for (int i = 0; i < 8; i++)
        root[24 + i] = (uint8_t)(qual[q] >> (56 - 8 * i));
}

static void add(book *b, unsigned i)
{
    uint8_t root[32], k[32];
    dir_root(b, quality_of(i), root);
    b->gen[i]++;
    item_key(b, i, k);
    jn_dir_desc d = {.pays = &b->pays, .gets = &b->gets, .quality = qual[quality_of(i)]};
    assert_int_equal(jn_dir_add(&b->v, root, k, &d, &b->where[i]), 0);
    b->in[i] = true;
    b->fresh[i] = true;
}

static void del(book *b, unsigned i)
{
    uint8_t root[32], k[32];
    dir_root(b, quality_of(i), root);
    item_key(b, i, k);
    assert_int_equal(jn_dir_remove(&b->v, root, b->where[i], k, true, false), 0);
    b->in[i] = false;
}

static uint64_t next_rand(book *b)
{
    b->rng ^= b->rng << 13, b->rng ^= b->rng >> 7, b->rng ^= b->rng << 17;
    return b->rng;
}

/* The rest of the walk from c: entries, in order. */
static size_t walk(book *b, jn_book_cursor *c, unsigned *out)
{
    size_t n = 0;
    uint8_t id[32];
    const jt_obj *o;
    uint64_t q;
    while (jn_book_next(&b->v, c, id, &o, &q)) {
        assert_true(n < POOL);
        out[n] = item_of(b, id);
        assert_int_equal(q, qual[quality_of(out[n])]);
        n++;
    }
    return n;
}

/* Random books; a mark after a random number of offers; then changes: random
 * ones, the marked offer going, its whole page going, its whole quality
 * going. The walk resumed from the mark must be the offers after it in the
 * book now: those that were after it and stayed, and those added since at
 * its quality or a later one. Only when the marked offer and every earlier
 * offer of its page have gone does it start again at the mark's quality. */
static void test_book_seek(void **state)
{
    (void)state;
    book *b = calloc(1, sizeof *b);
    assert_non_null(b);
    jn_map_init(&b->base);
    jn_view_init(&b->v, NULL, &b->base);
    b->pays.native = true;
    b->gets.currency.bytes[12] = 'C';
    b->gets.issuer.bytes[0] = 1;
    jn_book_cursor c0;
    jn_book_cursor_init(&c0, &b->pays, &b->gets);
    memcpy(b->bookbase, c0.base, 32);
    jn_book_mark m;
    assert_false(jn_book_mark_get(&b->v, &c0, &m)); /* nothing read yet */
    b->rng = 0x9E3779B97F4A7C15ull;
    unsigned before[POOL], after[POOL], resumed[POOL], want[POOL];
    unsigned fallbacks = 0, exact = 0;
    for (unsigned round = 0; round < ROUNDS; round++) {
        for (unsigned k = 0; k < 40; k++) {
            unsigned i = (unsigned)(next_rand(b) % POOL);
            if (!b->in[i])
                add(b, i);
            else if (next_rand(b) % 3 == 0)
                del(b, i);
        }
        jn_book_cursor c;
        jn_book_cursor_init(&c, &b->pays, &b->gets);
        size_t nb = walk(b, &c, before);
        if (!nb)
            continue;
        /* Read n offers, mark. */
        size_t n = 1 + (size_t)(next_rand(b) % nb);
        jn_book_cursor_init(&c, &b->pays, &b->gets);
        uint8_t id[32];
        const jt_obj *o;
        uint64_t q;
        for (size_t k = 0; k < n; k++)
            assert_true(jn_book_next(&b->v, &c, id, &o, &q));
        assert_true(jn_book_mark_get(&b->v, &c, &m));
        unsigned marked = before[n - 1], mq = quality_of(marked);
        uint64_t mpage = b->where[marked];
        bool read[POOL] = {0}, page_mate[POOL] = {0};
        for (size_t k = 0; k < n; k++) {
            read[before[k]] = true;
            page_mate[before[k]] = quality_of(before[k]) == mq && b->where[before[k]] == mpage;
        }
        memset(b->fresh, 0, sizeof b->fresh);
        /* Changes. */
        switch (round % 4) {
        case 0: break;
        case 1: del(b, marked); break;
        case 2:
            for (unsigned i = 0; i < POOL; i++)
                if (page_mate[i] && b->in[i])
                    del(b, i);
            break;
        case 3:
            for (unsigned i = 0; i < POOL; i++)
                if (b->in[i] && quality_of(i) == mq)
                    del(b, i);
            break;
        }
        for (unsigned k = 0; k < 20; k++) {
            unsigned i = (unsigned)(next_rand(b) % POOL);
            if (!b->in[i])
                add(b, i);
            else if (next_rand(b) % 2)
                del(b, i);
        }
        jn_book_cursor_init(&c, &b->pays, &b->gets);
        size_t na = walk(b, &c, after);
        jn_book_cursor_init(&c, &b->pays, &b->gets);
        jn_book_seek(&b->v, &c, &m);
        size_t nr = walk(b, &c, resumed);
        bool gone = true;
        for (unsigned i = 0; i < POOL; i++)
            if (page_mate[i] && b->in[i] && !b->fresh[i])
                gone = false;
        size_t nw = 0;
        for (size_t k = 0; k < na; k++) {
            unsigned i = after[k];
            bool at_or_after = quality_of(i) >= mq;
            bool take = gone ? at_or_after : b->fresh[i] ? at_or_after : !read[i];
            if (take)
                want[nw++] = i;
        }
        fallbacks += gone;
        exact += !gone;
        assert_int_equal(nr, nw);
        assert_memory_equal(resumed, want, nw * sizeof *want);
    }
    print_message("%u rounds resumed exactly, %u from the start of the quality\n", exact,
                  fallbacks);
    /* Every kind of round happened. */
    assert_true(fallbacks > ROUNDS / 8);
    assert_true(exact > ROUNDS / 4);
    jn_view_clear(&b->v);
    jn_map_clear(&b->base);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_book_seek),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
