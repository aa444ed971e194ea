/*
 * acctidx.c — account ID → subscribers (see acctidx.h).
 */
#include "acctidx.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define MIN_CAP 64u

void jn_acctidx_init(jn_acctidx *x)
{
    memset(x, 0, sizeof *x);
    /* Idempotent; the node calls it at start, a test or fuzz target may
     * not. Without it the key stays zero: IDs are still spread, only not
     * against ones chosen to collide. */
    if (sodium_init() >= 0)
        randombytes_buf(x->key, sizeof x->key);
}

void jn_acctidx_clear(jn_acctidx *x)
{
    for (size_t i = 0; i < x->cap; i++)
        free(x->slots[i].subs);
    free(x->slots);
    x->slots = NULL;
    x->cap = x->used = x->pairs = 0;
}

static size_t home(const jn_acctidx *x, const jt_account_id *a)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, a->bytes, sizeof a->bytes, x->key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return (size_t)v & (x->cap - 1);
}

/* a's slot, or the free slot where it would go. */
static jn_acct_subs *probe(const jn_acctidx *x, const jt_account_id *a)
{
    size_t i = home(x, a);
    while (x->slots[i].subs && memcmp(x->slots[i].id.bytes, a->bytes, sizeof a->bytes))
        i = (i + 1) & (x->cap - 1);
    return &x->slots[i];
}

static int grow(jn_acctidx *x)
{
    size_t ncap = x->cap ? 2 * x->cap : MIN_CAP;
    jn_acct_subs *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    jn_acct_subs *old = x->slots;
    size_t ocap = x->cap;
    x->slots = ns;
    x->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].subs)
            *probe(x, &old[i].id) = old[i];
    free(old);
    return 0;
}

int jn_acctidx_add(jn_acctidx *x, const jt_account_id *a, void *sub)
{
    if ((x->used + 1) * 2 > x->cap && grow(x))
        return -1;
    jn_acct_subs *s = probe(x, a);
    if (!s->subs || s->n == s->cap) {
        uint32_t ncap = s->cap ? 2 * s->cap : 2;
        void **nv = realloc(s->subs, ncap * sizeof *nv);
        if (!nv)
            return -1;
        if (!s->subs) {
            s->id = *a;
            s->n = 0;
            x->used++;
        }
        s->subs = nv;
        s->cap = ncap;
    }
    s->subs[s->n++] = sub;
    x->pairs++;
    return 0;
}

/* Empties slot i, moving back the entries of the run after it that would
 * otherwise no longer be found from their home slots. */
static void vacate(jn_acctidx *x, size_t i)
{
    size_t mask = x->cap - 1, j = i;
    free(x->slots[i].subs);
    memset(&x->slots[i], 0, sizeof x->slots[i]);
    for (;;) {
        j = (j + 1) & mask;
        if (!x->slots[j].subs)
            break;
        size_t h = home(x, &x->slots[j].id);
        /* j stays when its home lies cyclically in (i, j]. */
        if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
            continue;
        x->slots[i] = x->slots[j];
        memset(&x->slots[j], 0, sizeof x->slots[j]);
        i = j;
    }
    x->used--;
}

void jn_acctidx_remove(jn_acctidx *x, const jt_account_id *a, const void *sub)
{
    if (!x->cap)
        return;
    jn_acct_subs *s = probe(x, a);
    if (!s->subs)
        return;
    for (uint32_t k = 0; k < s->n; k++) {
        if (s->subs[k] != sub)
            continue;
        s->subs[k] = s->subs[--s->n];
        x->pairs--;
        if (!s->n)
            vacate(x, (size_t)(s - x->slots));
        return;
    }
}

void *const *jn_acctidx_find(const jn_acctidx *x, const jt_account_id *a, size_t *n)
{
    *n = 0;
    if (!x->cap)
        return NULL;
    const jn_acct_subs *s = probe(x, a);
    if (!s->subs)
        return NULL;
    *n = s->n;
    return s->subs;
}
