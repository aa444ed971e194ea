/* shamap.c — see shamap.h. */
#include "shamap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jt/jt.h>

#define PREFIX_INNER 0x4D494E00u /* MIN\0 */
#define PREFIX_LEAF  0x4D4C4E00u /* MLN\0 */
#define PREFIX_TXMD  0x534E4400u /* SND\0 */

typedef struct node {
    bool leaf;
    bool dirty; /* inner: hash must be recomputed */
    uint8_t hash[32];
    union {
        uint8_t key[32];         /* leaf */
        struct node *child[16];  /* inner */
    } u;
} node;

struct jn_shamap {
    node *root;
    size_t count;
};

static int nibble(const uint8_t key[32], int depth)
{
    uint8_t b = key[depth / 2];
    return (depth & 1) ? (b & 0x0F) : (b >> 4);
}

static node *new_inner(void)
{
    node *n = calloc(1, sizeof *n);
    if (n)
        n->dirty = true;
    return n;
}

jn_shamap *jn_shamap_new(void)
{
    jn_shamap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (!(m->root = new_inner())) {
        free(m);
        return NULL;
    }
    return m;
}

static void free_node(node *n)
{
    if (!n)
        return;
    if (!n->leaf)
        for (int i = 0; i < 16; i++)
            free_node(n->u.child[i]);
    free(n);
}

void jn_shamap_free(jn_shamap *m)
{
    if (!m)
        return;
    free_node(m->root);
    free(m);
}

size_t jn_shamap_count(const jn_shamap *m)
{
    return m->count;
}

int jn_shamap_set(jn_shamap *m, const uint8_t key[32], const uint8_t leaf_hash[32])
{
    node *in = m->root;
    for (int depth = 0; depth < 64; depth++) {
        in->dirty = true;
        int k = nibble(key, depth);
        node *c = in->u.child[k];
        if (!c) {
            node *l = calloc(1, sizeof *l);
            if (!l)
                return -1;
            l->leaf = true;
            memcpy(l->u.key, key, 32);
            memcpy(l->hash, leaf_hash, 32);
            in->u.child[k] = l;
            m->count++;
            return 0;
        }
        if (!c->leaf) {
            in = c;
            continue;
        }
        if (memcmp(c->u.key, key, 32) == 0) {
            memcpy(c->hash, leaf_hash, 32);
            return 0;
        }
        /* Two keys share this path: push the old leaf one level down. */
        node *ni = new_inner();
        if (!ni)
            return -1;
        ni->u.child[nibble(c->u.key, depth + 1)] = c;
        in->u.child[k] = ni;
        in = ni;
    }
    return -1; /* unreachable: distinct keys differ within 64 nibbles */
}

int jn_shamap_del(jn_shamap *m, const uint8_t key[32])
{
    node *path[65];
    int depth = 0;
    node *in = m->root;
    path[0] = in;
    for (;;) {
        int k = nibble(key, depth);
        node *c = in->u.child[k];
        if (!c)
            return 1;
        if (c->leaf) {
            if (memcmp(c->u.key, key, 32) != 0)
                return 1;
            free(c);
            in->u.child[k] = NULL;
            m->count--;
            break;
        }
        in = c;
        path[++depth] = in;
    }
    /* Walk up: mark dirty; collapse inner nodes left with no child or with
     * a single leaf, so the shape stays canonical. */
    for (int d = depth; d >= 0; d--) {
        node *n = path[d];
        n->dirty = true;
        if (d == 0)
            break;
        int count = 0, last = -1;
        for (int i = 0; i < 16; i++)
            if (n->u.child[i]) {
                count++;
                last = i;
            }
        node *parent = path[d - 1];
        int pk = nibble(key, d - 1);
        if (count == 0) {
            free(n);
            parent->u.child[pk] = NULL;
        } else if (count == 1 && n->u.child[last]->leaf) {
            parent->u.child[pk] = n->u.child[last];
            free(n);
        }
    }
    return 0;
}

static void hash_node(node *n)
{
    if (n->leaf || !n->dirty)
        return;
    bool any = false;
    jt_sha512half_ctx c;
    uint8_t pre[4] = {PREFIX_INNER >> 24, (PREFIX_INNER >> 16) & 0xFF, (PREFIX_INNER >> 8) & 0xFF, 0};
    static const uint8_t zero[32];
    jt_sha512half_init(&c);
    jt_sha512half_update(&c, pre, 4);
    for (int i = 0; i < 16; i++) {
        node *ch = n->u.child[i];
        if (ch) {
            hash_node(ch);
            any = true;
        }
        jt_sha512half_update(&c, ch ? ch->hash : zero, 32);
    }
    jt_sha512half_final(&c, n->hash);
    if (!any)
        memset(n->hash, 0, 32);
    n->dirty = false;
}

void jn_shamap_root(jn_shamap *m, uint8_t out[32])
{
    hash_node(m->root);
    memcpy(out, m->root->hash, 32);
}

void jn_shamap_state_leaf(const uint8_t *blob, size_t len, const uint8_t key[32], uint8_t out[32])
{
    jt_sha512half_ctx c;
    uint8_t pre[4] = {0x4D, 0x4C, 0x4E, 0x00};
    jt_sha512half_init(&c);
    jt_sha512half_update(&c, pre, 4);
    jt_sha512half_update(&c, blob, len);
    jt_sha512half_update(&c, key, 32);
    jt_sha512half_final(&c, out);
}

/* The VL length prefix of §4.4. */
static size_t vl(size_t n, uint8_t b[3])
{
    if (n <= 192) {
        b[0] = (uint8_t)n;
        return 1;
    }
    if (n <= 12480) {
        n -= 193;
        b[0] = (uint8_t)(193 + (n >> 8));
        b[1] = (uint8_t)(n & 0xFF);
        return 2;
    }
    n -= 12481;
    b[0] = (uint8_t)(241 + (n >> 16));
    b[1] = (uint8_t)((n >> 8) & 0xFF);
    b[2] = (uint8_t)(n & 0xFF);
    return 3;
}

void jn_shamap_tx_leaf(const uint8_t *tx, size_t txlen, const uint8_t *meta, size_t metalen,
                       const uint8_t key[32], uint8_t out[32])
{
    jt_sha512half_ctx c;
    uint8_t pre[4] = {0x53, 0x4E, 0x44, 0x00}, b[3];
    jt_sha512half_init(&c);
    jt_sha512half_update(&c, pre, 4);
    jt_sha512half_update(&c, b, vl(txlen, b));
    jt_sha512half_update(&c, tx, txlen);
    jt_sha512half_update(&c, b, vl(metalen, b));
    jt_sha512half_update(&c, meta, metalen);
    jt_sha512half_update(&c, key, 32);
    jt_sha512half_final(&c, out);
}
