/*
 * map.c — string-keyed hash map (map.h).
 */
#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct ent {
    struct ent *next;
    void *val;
    size_t klen;
    uint64_t h;
    char key[];
} ent;

struct gw_map {
    ent **b;
    size_t nb, n;
};

/* FNV-1a: keys are hashes, addresses and client ids, not attacker-chosen
 * in bulk against a process secret; the chains stay short either way
 * because the table grows with the count. */
static uint64_t hash_of(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ull;
    }
    return h;
}

gw_map *gw_map_new(void)
{
    gw_map *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nb = 64;
    m->b = calloc(m->nb, sizeof *m->b);
    if (!m->b) {
        free(m);
        return NULL;
    }
    return m;
}

void gw_map_free(gw_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nb; i++)
        for (ent *e = m->b[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(m->b);
    free(m);
}

static ent **slot(const gw_map *m, const char *key, size_t klen, uint64_t h)
{
    ent **p = &m->b[h & (m->nb - 1)];
    while (*p && !((*p)->h == h && (*p)->klen == klen && !memcmp((*p)->key, key, klen)))
        p = &(*p)->next;
    return p;
}

void *gw_map_get(const gw_map *m, const char *key, size_t klen)
{
    ent **p = slot(m, key, klen, hash_of(key, klen));
    return *p ? (*p)->val : NULL;
}

static void grow(gw_map *m)
{
    size_t nb = m->nb * 2;
    ent **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < m->nb; i++)
        for (ent *e = m->b[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->h & (nb - 1)];
            b[e->h & (nb - 1)] = e;
        }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

int gw_map_put(gw_map *m, const char *key, size_t klen, void *val)
{
    uint64_t h = hash_of(key, klen);
    ent **p = slot(m, key, klen, h);
    if (*p) {
        (*p)->val = val;
        return 0;
    }
    ent *e = malloc(sizeof *e + klen + 1);
    if (!e)
        return -1;
    e->next = NULL;
    e->val = val;
    e->klen = klen;
    e->h = h;
    memcpy(e->key, key, klen);
    e->key[klen] = 0;
    *p = e;
    if (++m->n > m->nb)
        grow(m);
    return 0;
}

void *gw_map_del(gw_map *m, const char *key, size_t klen)
{
    ent **p = slot(m, key, klen, hash_of(key, klen));
    if (!*p)
        return NULL;
    ent *e = *p;
    void *v = e->val;
    *p = e->next;
    free(e);
    m->n--;
    return v;
}

size_t gw_map_count(const gw_map *m)
{
    return m->n;
}

void gw_map_each(gw_map *m, bool (*fn)(void *ctx, const char *key, size_t klen, void *val),
                 void *ctx)
{
    for (size_t i = 0; i < m->nb; i++)
        for (ent *e = m->b[i], *next; e; e = next) {
            next = e->next;
            if (!fn(ctx, e->key, e->klen, e->val))
                return;
        }
}
