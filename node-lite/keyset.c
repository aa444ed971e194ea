/* keyset.c — see keyset.h. */
#include "keyset.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK_KEYS 64

typedef struct block {
    size_t n;
    uint8_t k[BLOCK_KEYS][32];
} block;

struct jn_keyset {
    block **b;
    size_t nb, cap, n;
};

jn_keyset *jn_keyset_new(void)
{
    return calloc(1, sizeof(jn_keyset));
}

void jn_keyset_free(jn_keyset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nb; i++)
        free(s->b[i]);
    free(s->b);
    free(s);
}

size_t jn_keyset_count(const jn_keyset *s)
{
    return s ? s->n : 0;
}

/* The first block whose last key is >= key; nb when every key is smaller. */
static size_t find_block(const jn_keyset *s, const uint8_t key[32])
{
    size_t lo = 0, hi = s->nb;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const block *b = s->b[mid];
        if (memcmp(b->k[b->n - 1], key, 32) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The first position in b whose key is >= key. */
static size_t lower_bound(const block *b, const uint8_t key[32])
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(b->k[mid], key, 32) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int insert_block(jn_keyset *s, size_t at, block *nb)
{
    if (s->nb == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 4;
        block **v = realloc(s->b, ncap * sizeof *v);
        if (!v)
            return -1;
        s->b = v;
        s->cap = ncap;
    }
    memmove(s->b + at + 1, s->b + at, (s->nb - at) * sizeof *s->b);
    s->b[at] = nb;
    s->nb++;
    return 0;
}

int jn_keyset_add(jn_keyset *s, const uint8_t key[32])
{
    if (!s->nb) {
        block *b = malloc(sizeof *b);
        if (!b || insert_block(s, 0, b)) {
            free(b);
            return -1;
        }
        b->n = 1;
        memcpy(b->k[0], key, 32);
        s->n = 1;
        return 1;
    }
    size_t bi = find_block(s, key);
    if (bi == s->nb)
        bi--; /* larger than every key: append to the last block */
    block *b = s->b[bi];
    size_t pos = lower_bound(b, key);
    if (pos < b->n && memcmp(b->k[pos], key, 32) == 0)
        return 0;
    if (b->n == BLOCK_KEYS) {
        /* Split in halves; the key goes into the half that covers it. */
        block *r = malloc(sizeof *r);
        if (!r || insert_block(s, bi + 1, r)) {
            free(r);
            return -1;
        }
        r->n = BLOCK_KEYS / 2;
        memcpy(r->k, b->k[BLOCK_KEYS / 2], (BLOCK_KEYS / 2) * 32);
        b->n = BLOCK_KEYS / 2;
        if (pos > b->n) {
            pos -= b->n;
            b = r;
        }
    }
    memmove(b->k[pos + 1], b->k[pos], (b->n - pos) * 32);
    memcpy(b->k[pos], key, 32);
    b->n++;
    s->n++;
    return 1;
}

bool jn_keyset_remove(jn_keyset *s, const uint8_t key[32])
{
    if (!s || !s->nb)
        return false;
    size_t bi = find_block(s, key);
    if (bi == s->nb)
        return false;
    block *b = s->b[bi];
    size_t pos = lower_bound(b, key);
    if (pos == b->n || memcmp(b->k[pos], key, 32) != 0)
        return false;
    memmove(b->k[pos], b->k[pos + 1], (b->n - pos - 1) * 32);
    b->n--;
    s->n--;
    if (!b->n) {
        free(b);
        memmove(s->b + bi, s->b + bi + 1, (s->nb - bi - 1) * sizeof *s->b);
        s->nb--;
    } else if (bi + 1 < s->nb && b->n + s->b[bi + 1]->n <= BLOCK_KEYS / 2) {
        /* Keep blocks from thinning out: merge with the next one. */
        block *r = s->b[bi + 1];
        memcpy(b->k[b->n], r->k, r->n * 32);
        b->n += r->n;
        free(r);
        memmove(s->b + bi + 1, s->b + bi + 2, (s->nb - bi - 2) * sizeof *s->b);
        s->nb--;
    }
    return true;
}

const uint8_t *jn_keyset_ceil(const jn_keyset *s, const uint8_t from[32])
{
    if (!s || !s->nb)
        return NULL;
    size_t bi = find_block(s, from);
    if (bi == s->nb)
        return NULL;
    const block *b = s->b[bi];
    return b->k[lower_bound(b, from)]; /* the block's last key is >= from */
}

bool jn_keyset_has(const jn_keyset *s, const uint8_t key[32])
{
    const uint8_t *k = jn_keyset_ceil(s, key);
    return k && memcmp(k, key, 32) == 0;
}

const uint8_t *jn_keyset_next(const jn_keyset *s, size_t *block_i, size_t *pos)
{
    while (s && *block_i < s->nb) {
        const block *b = s->b[*block_i];
        if (*pos < b->n)
            return b->k[(*pos)++];
        (*block_i)++;
        *pos = 0;
    }
    return NULL;
}
