/* util.c — hex, growable buffers, the arena, jt_free. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jt/util.h"

void jt_free(void *p)
{
    free(p);
}

void jt_buf_init(jt_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void jt_buf_clear(jt_buf *b)
{
    if (!b)
        return;
    free(b->data);
    jt_buf_init(b);
}

jt_err jt_buf_reserve(jt_buf *b, size_t n)
{
    if (n > JT_BUF_MAX || b->len > JT_BUF_MAX - n)
        return JT_ETOOBIG;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        if (cap > JT_BUF_MAX)
            cap = JT_BUF_MAX;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            return JT_ENOMEM;
        b->data = d;
        b->cap = cap;
    }
    return JT_OK;
}

jt_err jt_buf_append(jt_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap || n > JT_BUF_MAX) {
        jt_err e = jt_buf_reserve(b, n);
        if (e)
            return e;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return JT_OK;
}

static const char hexdig[] = "0123456789ABCDEF";

jt_err jt_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    if (cap < 2 * len + 1)
        return JT_EBUFSIZE;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 15];
    }
    out[2 * len] = '\0';
    return JT_OK;
}

jt_err jt_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap, size_t *outlen)
{
    if (hexlen % 2)
        return JT_EHEX;
    if (hexlen / 2 > cap)
        return JT_EBUFSIZE;
    /* Digit value + 1 by character; 0: not a hex digit. Blobs arrive as
     * hex in every submit, so this is a table rather than comparisons. */
    static const uint8_t val[256] = {
        ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
        ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
        ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
    };
    const unsigned char *h = (const unsigned char *)hex;
    for (size_t i = 0; i < hexlen / 2; i++) {
        unsigned hi = val[h[2 * i]], lo = val[h[2 * i + 1]];
        if (!hi || !lo)
            return JT_EHEX;
        out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    if (outlen)
        *outlen = hexlen / 2;
    return JT_OK;
}

/* ---- arena ---- */
struct jt__arena_chunk {
    jt__arena_chunk *next;
    size_t size, used;
    _Alignas(16) uint8_t mem[];
};

#define ARENA_CHUNK 4096
#define ARENA_FIRST 512 /* most objects (an account, a payment) fit in one small chunk */

void jt__arena_init(jt__arena *a, size_t limit)
{
    a->head = NULL;
    a->total = 0;
    a->limit = limit;
    a->first = 0;
}

void jt__arena_init_first(jt__arena *a, size_t limit, size_t first)
{
    jt__arena_init(a, limit);
    a->first = (first + 15) & ~(size_t)15;
}

size_t jt__arena_used(const jt__arena *a)
{
    size_t n = 0;
    for (const jt__arena_chunk *c = a->head; c; c = c->next)
        n += c->used;
    return n;
}

void jt__arena_clear(jt__arena *a)
{
    jt__arena_chunk *c = a->head;
    while (c) {
        jt__arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->total = 0;
}

/* n bytes, not cleared. */
static void *arena_take(jt__arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    jt__arena_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        /* The first chunk as sized by the owner, if it was; then chunks
         * double from ARENA_FIRST up to ARENA_CHUNK. */
        bool sized = a->total == 0 && a->first;
        size_t step = sized                    ? a->first
                      : a->total < ARENA_FIRST ? ARENA_FIRST
                      : a->total < ARENA_CHUNK ? a->total
                                               : ARENA_CHUNK;
        size_t sz = n > (sized ? step : step / 2) ? n : step;
        if (a->limit && a->total + sz > a->limit)
            return NULL;
        c = malloc(sizeof *c + sz);
        if (!c)
            return NULL;
        c->size = sz;
        c->used = 0;
        a->total += sz;
        if (sz == n && a->head) {
            /* A large one-off block: keep the current chunk at the head. */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->mem + c->used;
    c->used += n;
    return p;
}

void *jt__arena_alloc(jt__arena *a, size_t n)
{
    void *p = arena_take(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *jt__arena_memdup(jt__arena *a, const void *p, size_t n)
{
    void *d = arena_take(a, n);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

char *jt__arena_strndup(jt__arena *a, const char *s, size_t n)
{
    char *d = arena_take(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}
