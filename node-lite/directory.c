/* directory.c — see directory.h. */
#include "directory.h"
#include "fld.h"

#include <stdlib.h>
#include <string.h>

#include "apply.h"

#define SOFT_PAGES 20 /* how far a removal without a page hint looks */

void jn_id_dir_page(const uint8_t root[32], uint64_t page, uint8_t out[32])
{
    if (!page) {
        memcpy(out, root, 32);
        return;
    }
    uint8_t buf[2 + 32 + 8];
    buf[0] = 0;
    buf[1] = 'd';
    memcpy(buf + 2, root, 32);
    for (int i = 0; i < 8; i++)
        buf[34 + i] = (uint8_t)(page >> (56 - 8 * i));
    jt_sha512half(buf, sizeof buf, out);
}

static uint64_t get_u64(const jt_obj *o, const jt_field *f)
{
    uint64_t v;
    return jt_obj_get_uint_f(o, f, &v) == JT_OK ? v : 0;
}

static const uint8_t *indexes(const jt_obj *o, size_t *count)
{
    const uint8_t *p;
    size_t n;
    if (jt_obj_get_bytes_f(o, FLD("Indexes"), &p, &n) != JT_OK) {
        *count = 0;
        return NULL;
    }
    *count = n / 32;
    return p;
}

static jt_obj *page_peek(jn_view *v, const uint8_t root[32], uint64_t page, uint8_t id[32], bool *oom)
{
    jn_id_dir_page(root, page, id);
    return jn_view_peek(v, id, oom);
}

/* A new, empty page of the directory at root, described by d. */
static jt_obj *page_new(const uint8_t root[32], const jn_dir_desc *d)
{
    jt_obj *o = jt_obj_new();
    if (!o)
        return NULL;
    jt_err e = jt_obj_set_uint_f(o, FLD("LedgerEntryType"), (uint64_t)jt_ledger_type_by_name("DirectoryNode"));
    if (!e)
        e = jt_obj_set_uint_f(o, FLD("Flags"), 0);
    if (!e)
        e = jt_obj_set_bytes_f(o, FLD("RootIndex"), root, 32);
    if (!e && d->owner)
        e = jt_obj_set_account_f(o, FLD("Owner"), d->owner);
    if (!e && d->pays) {
        e = jt_obj_set_bytes_f(o, FLD("TakerPaysCurrency"), d->pays->currency.bytes, 20);
        if (!e)
            e = jt_obj_set_bytes_f(o, FLD("TakerPaysIssuer"), d->pays->issuer.bytes, 20);
        if (!e)
            e = jt_obj_set_bytes_f(o, FLD("TakerGetsCurrency"), d->gets->currency.bytes, 20);
        if (!e)
            e = jt_obj_set_bytes_f(o, FLD("TakerGetsIssuer"), d->gets->issuer.bytes, 20);
        if (!e)
            e = jt_obj_set_uint_f(o, FLD("ExchangeRate"), d->quality);
    }
    if (e) {
        jt_obj_free(o);
        return NULL;
    }
    return o;
}

int jn_dir_add(jn_view *v, const uint8_t root[32], const uint8_t item[32], const jn_dir_desc *d,
               uint64_t *page)
{
    bool oom;
    jt_obj *r = jn_view_peek(v, root, &oom);
    if (oom)
        return -1;
    if (!r) {
        jt_obj *o = page_new(root, d);
        if (!o || jt_obj_set_bytes_f(o, FLD("Indexes"), item, 32) != JT_OK) {
            jt_obj_free(o);
            return -1;
        }
        *page = 0;
        return jn_view_insert(v, root, o);
    }
    uint64_t last = get_u64(r, FLD("IndexPrevious"));
    uint8_t id[32];
    jt_obj *node = last ? page_peek(v, root, last, id, &oom) : r;
    if (!node)
        return oom ? -1 : JT_tefBAD_LEDGER;
    size_t count;
    const uint8_t *p = indexes(node, &count);
    if (count < JN_DIR_PAGE_MAX) {
        uint8_t buf[JN_DIR_PAGE_MAX * 32];
        if (count)
            memcpy(buf, p, count * 32);
        memcpy(buf + count * 32, item, 32);
        *page = last;
        return jt_obj_set_bytes_f(node, FLD("Indexes"), buf, (count + 1) * 32) ? -1 : 0;
    }
    uint64_t next = last + 1;
    if (!next)
        return JT_tecDIR_FULL;
    /* The old last page points to the new one; so does the root. */
    if (jt_obj_set_uint_f(node, FLD("IndexNext"), next) ||
        jt_obj_set_uint_f(r, FLD("IndexPrevious"), next))
        return -1;
    jt_obj *o = page_new(root, d);
    if (!o || (next != 1 && jt_obj_set_uint_f(o, FLD("IndexPrevious"), last)) ||
        jt_obj_set_bytes_f(o, FLD("Indexes"), item, 32)) {
        jt_obj_free(o);
        return -1;
    }
    jn_id_dir_page(root, next, id);
    *page = next;
    return jn_view_insert(v, id, o);
}

/* Both pages, when both are empty, go (the root and the one page after
 * it); otherwise nothing changes. */
static int erase_pair_if_empty(jn_view *v, const uint8_t a[32], const jt_obj *other,
                               const uint8_t other_id[32])
{
    size_t n;
    (void)indexes(other, &n);
    if (n)
        return 0;
    return jn_view_erase(v, a) || jn_view_erase(v, other_id) ? -1 : 0;
}

int jn_dir_remove(jn_view *v, const uint8_t root[32], uint64_t page, const uint8_t item[32],
                  bool stable, bool soft)
{
    bool oom;
    uint8_t id[32];
    jt_obj *node;
    size_t count, at = 0;
    const uint8_t *p;
    for (;; page++) {
        node = page_peek(v, root, page, id, &oom);
        if (oom)
            return -1;
        if (node) {
            p = indexes(node, &count);
            for (at = 0; at < count && memcmp(p + at * 32, item, 32) != 0; at++)
                ;
            if (at < count)
                break;
        }
        /* Not where the hint says: a hint-less entry may be further on. */
        if (!soft || page >= SOFT_PAGES - 1)
            return JT_tefBAD_LEDGER;
    }
    /* Pages written before directories had pages may hold more than 32. */
    uint8_t local[JN_DIR_PAGE_MAX * 32];
    uint8_t *buf = count <= JN_DIR_PAGE_MAX ? local : malloc(count * 32);
    if (!buf)
        return -1;
    memcpy(buf, p, count * 32);
    if (stable)
        memmove(buf + at * 32, buf + (at + 1) * 32, (count - at - 1) * 32);
    else if (at != count - 1)
        memcpy(buf + at * 32, buf + (count - 1) * 32, 32);
    jt_err e = jt_obj_set_bytes_f(node, FLD("Indexes"), buf, (count - 1) * 32);
    if (buf != local)
        free(buf);
    if (e)
        return -1;
    if (count > 1)
        return 0;

    /* The page is empty: it may go. */
    uint64_t prev = get_u64(node, FLD("IndexPrevious"));
    uint64_t next = get_u64(node, FLD("IndexNext"));
    uint8_t other_id[32];
    if (!page) {
        if (!prev)
            return jn_view_erase(v, id) ? -1 : 0; /* never grew past the root */
        if (prev != next)
            return 0; /* more pages than one after the root: the root stays */
        jt_obj *lastp = page_peek(v, root, next, other_id, &oom);
        if (!lastp)
            return oom ? -1 : JT_tefBAD_LEDGER;
        return erase_pair_if_empty(v, id, lastp, other_id);
    }
    if (next) {
        /* A page in the middle: unlink it. */
        uint8_t prev_id[32], next_id[32];
        jt_obj *a = page_peek(v, root, prev, prev_id, &oom);
        if (!a)
            return oom ? -1 : JT_tefBAD_LEDGER;
        jt_obj *b = page_peek(v, root, next, next_id, &oom);
        if (!b)
            return oom ? -1 : JT_tefBAD_LEDGER;
        if (jt_obj_set_uint_f(a, FLD("IndexNext"), next) ||
            jt_obj_set_uint_f(b, FLD("IndexPrevious"), prev))
            return -1;
        return jn_view_erase(v, id) ? -1 : 0;
    }
    if (prev)
        return 0; /* the last page stays while pages before it remain */
    /* The only page after the root: both go when the root is empty too. */
    jt_obj *r = jn_view_peek(v, root, &oom);
    if (!r)
        return oom ? -1 : JT_tefBAD_LEDGER;
    return erase_pair_if_empty(v, id, r, root);
}

bool jn_dir_next(const jn_view *v, const uint8_t root[32], jn_dir_cursor *c, uint8_t item[32])
{
    if (c->done)
        return false;
    if (!c->started) {
        c->started = true;
        c->page = 0;
        c->pos = 0;
    }
    for (;;) {
        uint8_t id[32];
        jn_id_dir_page(root, c->page, id);
        const jt_obj *node = jn_view_read(v, id);
        if (!node)
            break;
        size_t count;
        const uint8_t *p = indexes(node, &count);
        if (c->pos < count) {
            memcpy(item, p + (size_t)c->pos * 32, 32);
            c->pos++;
            return true;
        }
        uint64_t next = get_u64(node, FLD("IndexNext"));
        if (!next)
            break;
        c->page = next;
        c->pos = 0;
    }
    c->done = true;
    return false;
}
