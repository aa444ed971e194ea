/*
 * cmd_rules.c — the ledger rules the commands apply: the owner directory,
 * the sides of a trust line, what an account can deliver (above its
 * reserve), and the order of a book.
 *
 * These are the dispatcher's own copies of rules the engine also applies.
 * They are all here, behind the rule_* functions of rpc_int.h, so that they
 * can be replaced by the engine's read model in one edit; nothing else in
 * the commands works out a ledger rule.
 */
#include "rpc_int.h"

#include <stdlib.h>

/* ---------------------------------------------------------------- owner directory */

size_t rule_owner_items(const jn_view *v, const jt_account_id *a, const uint8_t **items)
{
    uint8_t dir[32];
    jn_id_owner_dir(a, dir);
    const jt_obj *d = jn_view_read(v, dir);
    size_t n;
    if (!d || jt_obj_get_bytes_f(d, FLD("Indexes"), items, &n) != JT_OK)
        return 0;
    return n / 32;
}

/* ---------------------------------------------------------------- trust lines */

bool rule_line_side(const jt_obj *o, const jt_account_id *a, line_side *out)
{
    jt_amount lo, hi;
    if (get_u(o, "LedgerEntryType", 0) != JT_LT_SKYWELL_STATE ||
        jt_obj_get_amount_f(o, FLD("Balance"), &out->balance) ||
        jt_obj_get_amount_f(o, FLD("LowLimit"), &lo) || jt_obj_get_amount_f(o, FLD("HighLimit"), &hi))
        return false;
    /* The line keeps the balance, and names its fields, from the low
     * account's side. */
    bool low = !memcmp(&lo.issuer, a, 20);
    if (!low)
        jt_amount_negate(&out->balance);
    out->limit = low ? lo : hi;
    out->limit_peer = low ? hi : lo;
    out->quality_in = get_u(o, low ? "LowQualityIn" : "HighQualityIn", 0);
    out->quality_out = get_u(o, low ? "LowQualityOut" : "HighQualityOut", 0);
    uint32_t f = (uint32_t)get_u(o, "Flags", 0);
    out->authorized = f & (low ? JT_LSF_LOW_AUTH : JT_LSF_HIGH_AUTH);
    out->peer_authorized = f & (low ? JT_LSF_HIGH_AUTH : JT_LSF_LOW_AUTH);
    out->no_skywell = f & (low ? JT_LSF_LOW_NO_SKYWELL : JT_LSF_HIGH_NO_SKYWELL);
    out->no_skywell_peer = f & (low ? JT_LSF_HIGH_NO_SKYWELL : JT_LSF_LOW_NO_SKYWELL);
    out->freeze = f & (low ? JT_LSF_LOW_FREEZE : JT_LSF_HIGH_FREEZE);
    out->freeze_peer = f & (low ? JT_LSF_HIGH_FREEZE : JT_LSF_LOW_FREEZE);
    return true;
}

/* ---------------------------------------------------------------- books */

typedef struct book_ctx {
    const jt_amount *pays, *gets;
    book_item *v;
    size_t n, cap;
    bool oom;
} book_ctx;

bool rule_same_asset(const jt_amount *a, const jt_amount *b)
{
    if (a->native || b->native)
        return a->native == b->native;
    return !memcmp(&a->currency, &b->currency, 20) && !memcmp(&a->issuer, &b->issuer, 20);
}

static void book_collect(void *vctx, const uint8_t id[32], const jt_obj *o)
{
    book_ctx *b = vctx;
    if (get_u(o, "LedgerEntryType", 0) != JT_LT_OFFER)
        return;
    jt_amount p, g;
    if (jt_obj_get_amount_f(o, FLD("TakerPays"), &p) || jt_obj_get_amount_f(o, FLD("TakerGets"), &g))
        return;
    if (!rule_same_asset(&p, b->pays) || !rule_same_asset(&g, b->gets))
        return;
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        book_item *nv = realloc(b->v, nc * sizeof *nv);
        if (!nv) {
            b->oom = true;
            return;
        }
        b->v = nv;
        b->cap = nc;
    }
    const uint8_t *bd;
    size_t bn;
    uint64_t q = 0;
    if (jt_obj_get_bytes_f(o, FLD("BookDirectory"), &bd, &bn) == JT_OK && bn == 32)
        for (int i = 24; i < 32; i++)
            q = (q << 8) | bd[i];
    b->v[b->n++] = (book_item){o, id, q, get_u(o, "PreviousTxnLgrSeq", 0) << 32 | get_u(o, "Sequence", 0)};
}

static int cmp_book(const void *x, const void *y)
{
    const book_item *a = x, *b = y;
    if (a->q != b->q)
        return a->q < b->q ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return memcmp(a->id, b->id, 32);
}

int rule_book_offers(const jn_view *v, const jt_amount *pays, const jt_amount *gets,
                     book_item **out, size_t *n)
{
    book_ctx b = {.pays = pays, .gets = gets};
    jn_view_foreach(v, book_collect, &b);
    *out = NULL;
    *n = 0;
    if (b.oom) {
        free(b.v);
        return -1;
    }
    if (b.n)
        qsort(b.v, b.n, sizeof *b.v, cmp_book);
    *out = b.v;
    *n = b.n;
    return 0;
}

/* ---------------------------------------------------------------- funds */

/* The SWT an account must keep: the base reserve and one increment per
 * entry it owns. */
static int64_t reserve(const jn_params *p, const jt_obj *root)
{
    return (int64_t)(p->reserve_base + get_u(root, "OwnerCount", 0) * p->reserve_inc);
}

bool rule_owner_funds(const jn_view *v, const jn_params *p, const jt_account_id *who,
                      const jt_amount *like, jt_amount *out)
{
    uint8_t id[32];
    if (like->native) {
        jn_id_account(who, id);
        const jt_obj *r = jn_view_read(v, id);
        jt_amount bal;
        int64_t b = 0, res = 0;
        if (r && jt_obj_get_amount_f(r, FLD("Balance"), &bal) == JT_OK)
            b = jt_amount_drops(&bal);
        if (r)
            res = reserve(p, r);
        jt_amount_native(out, b > res ? b - res : 0);
        return true;
    }
    if (!memcmp(who, &like->issuer, 20))
        return false;
    jn_id_line(who, &like->issuer, &like->currency, id);
    const jt_obj *l = jn_view_read(v, id);
    jt_amount_zero_like(out, like);
    jt_amount bal;
    if (l && jt_obj_get_amount_f(l, FLD("Balance"), &bal) == JT_OK) {
        /* The balance is held from the low account's side. */
        if (memcmp(who, &like->issuer, 20) > 0)
            jt_amount_negate(&bal);
        if (jt_amount_sign(&bal) > 0) {
            *out = bal;
            out->currency = like->currency;
            out->issuer = like->issuer;
        }
    }
    return true;
}
