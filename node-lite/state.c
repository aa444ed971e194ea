/* state.c — see state.h. */
#include "state.h"
#include "fld.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define LT_DIRECTORY_NODE 0x64

/* Generations come from one counter, so a map at an address where another
 * map was never shows a generation that map had (a book memo compares the
 * pair). Relaxed: a memo is only read by the thread that uses its view. */
static _Atomic uint64_t gen_counter;

static uint64_t gen_next(void)
{
    return atomic_fetch_add_explicit(&gen_counter, 1, memory_order_relaxed) + 1;
}

void jn_map_init(jn_map *m)
{
    memset(m, 0, sizeof *m);
    m->gen = gen_next();
}

void jn_map_clear(jn_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].used)
            jt_obj_free(m->slots[i].obj);
    free(m->slots);
    jn_keyset_free(m->books);
    memset(m, 0, sizeof *m);
    m->gen = gen_next();
}

/* The first and last 8 bytes, mixed: an order book's directories share
 * their first 24 bytes (the book) and differ only in the last 8 (the
 * quality), so the first bytes alone would put every directory of a book
 * in one probe chain. */
static size_t home(const uint8_t id[32], size_t cap)
{
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 24, 8);
    uint64_t h = (a ^ b) * 0x9E3779B97F4A7C15ull;
    return (size_t)((h ^ (h >> 32)) & (cap - 1));
}

jn_slot *jn_map_find(const jn_map *m, const uint8_t id[32])
{
    if (!m->cap)
        return NULL;
    for (size_t i = home(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
        jn_slot *s = &m->slots[i];
        if (!s->used)
            return NULL;
        if (memcmp(s->id, id, 32) == 0)
            return s;
    }
}

void jn_map_prefetch(const jn_map *m, const uint8_t id[32], int stage)
{
    if (!m->cap)
        return;
    if (stage == 0) {
        __builtin_prefetch(&m->slots[home(id, m->cap)]);
        return;
    }
    const jn_slot *s = jn_map_find(m, id);
    if (!s || !s->obj)
        return;
    if (stage == 1)
        jt_obj_prefetch(s->obj, false);
    else
        jt_obj_prefetch(s->obj, true);
}

void jn_view_prefetch(const jn_view *v, const uint8_t id[32], int stage)
{
    if (stage == 0) {
        for (const jn_view *x = v; x; x = x->parent) {
            jn_map_prefetch(&x->changes, id, 0);
            if (!x->parent && x->base)
                jn_map_prefetch(x->base, id, 0);
        }
        return;
    }
    const jt_obj *o = jn_view_read(v, id);
    if (o)
        jt_obj_prefetch(o, stage == 2);
}

static int rehash(jn_map *m, size_t ncap)
{
    jn_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        jn_slot *s = &m->slots[i];
        if (!s->used)
            continue;
        size_t j = home(s->id, ncap);
        while (ns[j].used)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

static int grow(jn_map *m)
{
    return rehash(m, m->cap ? m->cap * 2 : 8); /* a transaction's sandbox holds a few entries */
}

int jn_map_reserve(jn_map *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 8;
    while ((n + 1) * 4 > cap * 3)
        cap *= 2;
    return cap > m->cap ? rehash(m, cap) : 0;
}

jn_slot *jn_map_slot(jn_map *m, const uint8_t id[32])
{
    jn_slot *s = jn_map_find(m, id);
    if (s)
        return s;
    if ((m->n + 1) * 4 > m->cap * 3 && grow(m))
        return NULL;
    size_t i = home(id, m->cap);
    while (m->slots[i].used)
        i = (i + 1) & (m->cap - 1);
    s = &m->slots[i];
    memset(s, 0, sizeof *s);
    memcpy(s->id, id, 32);
    s->used = 1;
    m->n++;
    return s;
}

void jn_map_remove(jn_map *m, const uint8_t id[32])
{
    jn_slot *s = jn_map_find(m, id);
    if (!s)
        return;
    if (m->books)
        (void)jn_keyset_remove(m->books, id);
    jt_obj_free(s->obj);
    /* Backward-shift deletion keeps probe chains intact without tombstones. */
    size_t i = (size_t)(s - m->slots);
    m->slots[i].used = 0;
    m->n--;
    for (size_t j = (i + 1) & (m->cap - 1); m->slots[j].used; j = (j + 1) & (m->cap - 1)) {
        size_t h = home(m->slots[j].id, m->cap);
        /* Move j into the hole at i when its home is not in (i, j]. */
        bool between = (i <= j) ? (h > i && h <= j) : (h > i || h <= j);
        if (!between) {
            m->slots[i] = m->slots[j];
            m->slots[j].used = 0;
            i = j;
        }
    }
}

bool jn_is_book_root(const uint8_t id[32], const jt_obj *o)
{
    uint64_t lt;
    const uint8_t *root;
    size_t n;
    return o && jt_obj_get_uint_f(o, FLD("LedgerEntryType"), &lt) == JT_OK &&
           lt == LT_DIRECTORY_NODE && jt_obj_has_f(o, FLD("ExchangeRate")) &&
           jt_obj_get_bytes_f(o, FLD("RootIndex"), &root, &n) == JT_OK && n == 32 &&
           memcmp(root, id, 32) == 0;
}

/* Adds id to m's book index. -1 on ENOMEM. */
static int books_add(jn_map *m, const uint8_t id[32])
{
    if (!m->books && !(m->books = jn_keyset_new()))
        return -1;
    return jn_keyset_add(m->books, id) < 0 ? -1 : 0;
}

int jn_map_put(jn_map *m, const uint8_t id[32], jt_obj *obj)
{
    m->gen = gen_next();
    if (jn_is_book_root(id, obj)) {
        if (books_add(m, id)) {
            jt_obj_free(obj);
            return -1;
        }
    } else if (m->books) {
        (void)jn_keyset_remove(m->books, id);
    }
    jn_slot *s = jn_map_slot(m, id);
    if (!s) {
        if (m->books)
            (void)jn_keyset_remove(m->books, id);
        jt_obj_free(obj);
        return -1;
    }
    jt_obj_free(s->obj);
    s->obj = obj;
    s->deleted = 0;
    return 0;
}

jn_slot *jn_map_next(const jn_map *m, size_t *i)
{
    while (*i < m->cap) {
        jn_slot *s = &m->slots[(*i)++];
        if (s->used)
            return s;
    }
    return NULL;
}

/* ---------------------------------------------------------------- views */

void jn_view_init(jn_view *v, jn_view *parent, const jn_map *base)
{
    v->parent = parent;
    v->base = base;
    jn_map_init(&v->changes);
    memset(v->memo, 0, sizeof v->memo);
    v->memo_next = 0;
}

void jn_view_clear(jn_view *v)
{
    jn_map_clear(&v->changes);
    memset(v->memo, 0, sizeof v->memo);
}

/* A book directory `id` may have become visible in v: no memo of its book
 * may reach past it, and views over v must check again. */
static void unmask(jn_view *v, const uint8_t id[32])
{
    v->changes.gen = gen_next();
    for (unsigned i = 0; i < JN_BOOK_MEMOS; i++) {
        jn_book_memo *m = &v->memo[i];
        if (m->used && !memcmp(m->lo, id, 24) && memcmp(id, m->lo, 32) < 0)
            memcpy(m->lo, id, 32);
    }
}

const jt_obj *jn_view_read(const jn_view *v, const uint8_t id[32])
{
    for (const jn_view *x = v; x; x = x->parent) {
        const jn_slot *s = jn_map_find(&x->changes, id);
        if (s)
            return s->deleted ? NULL : s->obj;
        if (!x->parent) {
            s = x->base ? jn_map_find(x->base, id) : NULL;
            return s ? s->obj : NULL;
        }
    }
    return NULL;
}

jt_obj *jn_view_peek(jn_view *v, const uint8_t id[32], bool *oom)
{
    if (oom)
        *oom = false;
    jn_slot *s = jn_map_find(&v->changes, id);
    if (s)
        return s->deleted ? NULL : s->obj;
    const jt_obj *cur = v->parent ? jn_view_read(v->parent, id)
                                  : (v->base ? jn_view_read(v, id) : NULL);
    if (!cur)
        return NULL;
    jt_obj *copy = jt_obj_clone(cur);
    if (!copy || !(s = jn_map_slot(&v->changes, id))) {
        jt_obj_free(copy);
        if (oom)
            *oom = true;
        return NULL;
    }
    s->obj = copy;
    return copy;
}

int jn_view_insert(jn_view *v, const uint8_t id[32], jt_obj *obj)
{
    if (jn_is_book_root(id, obj)) {
        unmask(v, id);
        if (books_add(&v->changes, id)) {
            jt_obj_free(obj);
            return -1;
        }
    } else if (v->changes.books) {
        (void)jn_keyset_remove(v->changes.books, id);
    }
    jn_slot *s = jn_map_slot(&v->changes, id);
    if (!s) {
        jt_obj_free(obj);
        return -1;
    }
    jt_obj_free(s->obj);
    s->obj = obj;
    s->deleted = 0;
    return 0;
}

int jn_view_erase(jn_view *v, const uint8_t id[32])
{
    bool oom;
    jt_obj *cur = jn_view_peek(v, id, &oom);
    if (!cur)
        return oom ? -1 : 0;
    jn_slot *s = jn_map_find(&v->changes, id);
    s->deleted = 1;
    if (v->changes.books)
        (void)jn_keyset_remove(v->changes.books, id);
    return 0;
}

int jn_view_merge(jn_view *v)
{
    jn_view *p = v->parent;
    size_t i = 0;
    jn_slot *s;
    int rc = 0;
    while ((s = jn_map_next(&v->changes, &i))) {
        jn_slot *d = jn_map_slot(&p->changes, s->id);
        if (!d) {
            rc = -1;
            continue;
        }
        jt_obj_free(d->obj);
        d->obj = s->obj;
        d->deleted = s->deleted;
        s->obj = NULL;
        if (!d->deleted && jn_is_book_root(d->id, d->obj))
            unmask(p, d->id);
        /* A book directory the parent inserted may be gone or replaced. */
        if (p->changes.books && (s->deleted || !jn_is_book_root(s->id, d->obj)))
            (void)jn_keyset_remove(p->changes.books, s->id);
    }
    /* The book directories this view inserted are the parent's now. */
    size_t bi = 0, pos = 0;
    const uint8_t *k;
    while ((k = jn_keyset_next(v->changes.books, &bi, &pos)))
        if (books_add(&p->changes, k))
            rc = -1;
    jn_map_clear(&v->changes);
    return rc;
}

/* The smallest book root in [from, last] that v's parents (or base) hold
 * and v has not deleted or replaced by a non-root. */
static bool below_next(const jn_view *v, uint8_t from[32], const uint8_t last[32], uint8_t out[32])
{
    for (;;) {
        const uint8_t *k;
        bool found;
        if (v->parent) {
            found = jn_view_book_next(v->parent, from, last, out);
            k = out;
        } else {
            k = v->base ? jn_keyset_ceil(v->base->books, from) : NULL;
            found = k && memcmp(k, last, 32) <= 0;
        }
        if (!found)
            return false;
        const jn_slot *s = jn_map_find(&v->changes, k);
        if (!s || (!s->deleted && jn_is_book_root(k, s->obj))) {
            if (k != out)
                memcpy(out, k, 32);
            return true;
        }
        /* Deleted here: look on from the next ID. */
        memcpy(from, k, 32);
        int i = 31;
        while (i >= 0 && ++from[i] == 0)
            i--;
        if (i < 0)
            return false;
    }
}

/* The maps v's lookups read below its own changes (its parents' changes,
 * then the base), with their gens; JN_BOOK_MEMO_DEPTH + 1 when deeper. */
static unsigned memo_chain(const jn_view *v, const jn_map **maps, uint64_t *gens)
{
    unsigned n = 0;
    const jn_view *x = v;
    while (x->parent) {
        x = x->parent;
        if (n == JN_BOOK_MEMO_DEPTH)
            return JN_BOOK_MEMO_DEPTH + 1;
        maps[n] = &x->changes;
        gens[n++] = x->changes.gen;
    }
    if (x->base) {
        if (n == JN_BOOK_MEMO_DEPTH)
            return JN_BOOK_MEMO_DEPTH + 1;
        maps[n] = x->base;
        gens[n++] = x->base->gen;
    }
    return n;
}

/* v's memo of from's book, still valid, or NULL. */
static jn_book_memo *memo_find(jn_view *v, const uint8_t from[32], const jn_map **maps,
                               const uint64_t *gens, unsigned depth)
{
    for (unsigned i = 0; i < JN_BOOK_MEMOS; i++) {
        jn_book_memo *m = &v->memo[i];
        if (!m->used || memcmp(m->lo, from, 24))
            continue;
        if (m->depth != depth || memcmp(m->maps, maps, depth * sizeof *maps) ||
            memcmp(m->gens, gens, depth * sizeof *gens)) {
            m->used = false; /* something below changed */
            return NULL;
        }
        return m;
    }
    return NULL;
}

static bool book_next(const jn_view *v, const uint8_t from[32], const uint8_t last[32],
                      uint8_t out[32]);

bool jn_view_book_next(const jn_view *v, const uint8_t from[32], const uint8_t last[32],
                       uint8_t out[32])
{
    if (memcmp(from, last, 32) > 0)
        return false;
    if (memcmp(from, last, 24))
        return book_next(v, from, last, out); /* not within one book */
    /* The memo is a cache: filling it in does not change what v holds. */
    jn_view *mv = (jn_view *)v;
    const jn_map *maps[JN_BOOK_MEMO_DEPTH];
    uint64_t gens[JN_BOOK_MEMO_DEPTH];
    unsigned depth = memo_chain(v, maps, gens);
    if (depth > JN_BOOK_MEMO_DEPTH)
        return book_next(v, from, last, out);
    jn_book_memo *m = memo_find(mv, from, maps, gens, depth);
    bool at_start = true; /* nothing visible in the book below from */
    for (int i = 24; i < 32 && at_start; i++)
        at_start = from[i] == 0;
    uint8_t start[32];
    memcpy(start, from, 32);
    if (m && memcmp(from, m->lo, 32) <= 0) {
        memcpy(start, m->lo, 32);
        at_start = true;
    }
    bool found = memcmp(start, last, 32) <= 0 && book_next(v, start, last, out);
    if (at_start && found) {
        if (!m) {
            m = &mv->memo[mv->memo_next++ % JN_BOOK_MEMOS];
            m->used = true;
            m->depth = (uint8_t)depth;
            memcpy(m->maps, maps, depth * sizeof *maps);
            memcpy(m->gens, gens, depth * sizeof *gens);
        }
        memcpy(m->lo, out, 32);
    }
    return found;
}

static bool book_next(const jn_view *v, const uint8_t from[32], const uint8_t last[32],
                      uint8_t out[32])
{
    uint8_t cur[32], below[32];
    memcpy(cur, from, 32);
    bool have_below = below_next(v, cur, last, below);
    const uint8_t *mine = jn_keyset_ceil(v->changes.books, from);
    if (mine && memcmp(mine, last, 32) > 0)
        mine = NULL;
    if (!mine && !have_below)
        return false;
    if (mine && (!have_below || memcmp(mine, below, 32) <= 0))
        memcpy(out, mine, 32);
    else
        memcpy(out, below, 32);
    return true;
}

/* ---------------------------------------------------------------- IDs */

/* Entry IDs are hashes of a few account IDs and currencies, and one apply
 * works out the same ones many times (an account's, its owner directory's,
 * a line's). Each thread keeps the last ones it hashed, direct-mapped by a
 * mix of the input: a hit costs a compare instead of SHA-512. */
#define ID_INPUT_MAX (2 + 20 + 20 + 20 + 20 + 8)
#define ID_CACHE     2048u

typedef struct id_memo {
    uint8_t n; /* input length; 0: empty */
    uint8_t in[ID_INPUT_MAX];
    uint8_t out[32];
} id_memo;

static _Thread_local id_memo id_cache[ID_CACHE];

static unsigned id_slot(const uint8_t *buf, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15u ^ n;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, buf + i, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDu;
    }
    for (size_t i = n & ~(size_t)7; i < n; i++)
        h = (h ^ buf[i]) * 0x100000001B3u;
    return (unsigned)(h >> 40) & (ID_CACHE - 1);
}

static void id_of(uint16_t space, const void *a, size_t an, const void *b, size_t bn,
                  const void *c, size_t cn, uint8_t out[32])
{
    uint8_t buf[ID_INPUT_MAX];
    size_t n = 0;
    buf[n++] = (uint8_t)(space >> 8);
    buf[n++] = (uint8_t)space;
    if (an)
        memcpy(buf + n, a, an), n += an;
    if (bn)
        memcpy(buf + n, b, bn), n += bn;
    if (cn)
        memcpy(buf + n, c, cn), n += cn;
    id_memo *m = &id_cache[id_slot(buf, n)];
    if (m->n == n && !memcmp(m->in, buf, n)) {
        memcpy(out, m->out, 32);
        return;
    }
    jt_sha512half(buf, n, out);
    m->n = (uint8_t)n;
    memcpy(m->in, buf, n);
    memcpy(m->out, out, 32);
}

void jn_id_account(const jt_account_id *a, uint8_t out[32])
{
    id_of('a', a->bytes, 20, NULL, 0, NULL, 0, out);
}

void jn_id_owner_dir(const jt_account_id *a, uint8_t out[32])
{
    id_of('O', a->bytes, 20, NULL, 0, NULL, 0, out);
}

void jn_id_line(const jt_account_id *a, const jt_account_id *b, const jt_currency *c,
                uint8_t out[32])
{
    bool a_low = memcmp(a->bytes, b->bytes, 20) < 0;
    id_of('r', (a_low ? a : b)->bytes, 20, (a_low ? b : a)->bytes, 20, c->bytes, 20, out);
}

void jn_id_offer(const jt_account_id *a, uint32_t seq, uint8_t out[32])
{
    uint8_t s[4] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq};
    id_of('o', a->bytes, 20, s, 4, NULL, 0, out);
}

void jn_id_book_base(const jt_currency *pays_cur, const jt_account_id *pays_iss,
                     const jt_currency *gets_cur, const jt_account_id *gets_iss, uint8_t out[32])
{
    uint8_t buf[2 + 80];
    buf[0] = 0;
    buf[1] = 'B';
    memcpy(buf + 2, pays_cur->bytes, 20);
    memcpy(buf + 22, gets_cur->bytes, 20);
    memcpy(buf + 42, pays_iss->bytes, 20);
    memcpy(buf + 62, gets_iss->bytes, 20);
    jt_sha512half(buf, sizeof buf, out);
    memset(out + 24, 0, 8);
}

void jn_id_fee_settings(uint8_t out[32])
{
    id_of('e', NULL, 0, NULL, 0, NULL, 0, out);
}

void jn_id_relation(const jt_account_id *a, const jt_account_id *target, uint32_t type,
                    const jt_currency *c, uint8_t out[32])
{
    uint8_t buf[2 + 20 + 20 + 4 + 20];
    buf[0] = 0;
    buf[1] = 't';
    memcpy(buf + 2, a->bytes, 20);
    memcpy(buf + 22, target->bytes, 20);
    buf[42] = (uint8_t)(type >> 24);
    buf[43] = (uint8_t)(type >> 16);
    buf[44] = (uint8_t)(type >> 8);
    buf[45] = (uint8_t)type;
    memcpy(buf + 46, c->bytes, 20);
    jt_sha512half(buf, sizeof buf, out);
}

void jn_id_brokerage(const jt_account_id *platform, const jt_currency *c,
                     const jt_account_id *issuer, uint8_t out[32])
{
    id_of('b', platform->bytes, 20, c->bytes, 20, issuer->bytes, 20, out);
}
