/*
 * meta.c — a transaction's metadata and PreviousTxnID threading, from its
 * sandbox: the difference between c->sb and its parent, computed before
 * the sandbox is merged (see engine.h).
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

static bool threaded_type(uint64_t lt)
{
    return lt == JT_LT_ACCOUNT_ROOT || lt == JT_LT_SKYWELL_STATE || lt == JT_LT_OFFER ||
           lt == JT_LT_TRUST_STATE || lt == JT_LT_BROKERAGE;
}

/* Fields metadata never carries: the entry type (the node says it), the
 * threading (written on the node itself), and a directory's Indexes
 * (skywelld's sfIndexes is sMD_Never). */
static bool meta_skip(const jt_field *f)
{
    return f == FLD("LedgerEntryType") || f == FLD("PreviousTxnID") ||
           f == FLD("PreviousTxnLgrSeq") || f == FLD("Indexes");
}

static bool is_default(const jt_obj *o, const jt_field *f)
{
    if (f->type == JT_T_UINT8 || f->type == JT_T_UINT16 || f->type == JT_T_UINT32 ||
        f->type == JT_T_UINT64)
        return get_u(o, f, 0) == 0;
    if (f->type == JT_T_AMOUNT) {
        jt_amount a;
        return get_amount(o, f, &a) && a.native && a.mantissa == 0;
    }
    if (f->type == JT_T_HASH128 || f->type == JT_T_HASH160 || f->type == JT_T_HASH256) {
        /* A zero hash is a default value too (the SWT side of a book). */
        const uint8_t *p;
        size_t n;
        if (jt_obj_get_bytes_f(o, f, &p, &n) != JT_OK)
            return false;
        for (size_t i = 0; i < n; i++)
            if (p[i])
                return false;
        return true;
    }
    return false;
}

/* The accounts that own a line (both sides), an offer or a relation:
 * their AccountRoots are threaded when it is created or deleted. */
static size_t entry_owners(const jt_obj *o, jt_account_id out[2])
{
    uint64_t lt = get_u(o, FLD("LedgerEntryType"), 0);
    if (lt == JT_LT_SKYWELL_STATE) {
        jt_amount lo, hi;
        if (!get_amount(o, FLD("LowLimit"), &lo) || !get_amount(o, FLD("HighLimit"), &hi))
            return 0;
        out[0] = lo.issuer;
        out[1] = hi.issuer;
        return 2;
    }
    if (lt == JT_LT_TRUST_STATE && jt_obj_has_f(o, FLD("LowNode"))) {
        /* listed in both directories: the owner and the target */
        if (jt_obj_get_account_f(o, FLD("Account"), &out[0]) != JT_OK)
            return 0;
        return jt_obj_get_account_f(o, FLD("Target"), &out[1]) == JT_OK ? 2 : 1;
    }
    if (lt == JT_LT_OFFER || lt == JT_LT_TRUST_STATE)
        return jt_obj_get_account_f(o, FLD("Account"), &out[0]) == JT_OK ? 1 : 0;
    if (lt == JT_LT_BROKERAGE)
        return jt_obj_get_account_f(o, FLD("Platform"), &out[0]) == JT_OK ? 1 : 0;
    return 0;
}

/* Threads the transaction through the entries it holds: each AccountRoot,
 * line, offer or relation in the sandbox gets PreviousTxnID and
 * PreviousTxnLgrSeq, and the owners of created or deleted lines, offers and
 * relations are taken into the sandbox first so they are threaded too. */
void jn_meta_thread(jn_txctx *c)
{
    jn_map *ch = &c->sb->changes;
    /* Owners first (may add slots, so collect before walking). */
    jt_account_id local[32];
    jt_account_id *owners = 2 * ch->n <= 32 ? local : malloc(2 * ch->n * sizeof *owners);
    size_t n_owners = 0;
    size_t i = 0;
    jn_slot *s;
    if (!owners) {
        c->oom = true;
        return;
    }
    while ((s = jn_map_next(ch, &i))) {
        bool created = !jn_view_read(c->sb->parent, s->id);
        if (!(created || s->deleted))
            continue;
        jt_account_id two[2];
        size_t k = entry_owners(s->obj, two);
        for (size_t j = 0; j < k; j++)
            owners[n_owners++] = two[j];
    }
    for (size_t k = 0; k < n_owners; k++)
        (void)peek_account(c, &owners[k]);
    if (owners != local)
        free(owners);
    i = 0;
    while ((s = jn_map_next(ch, &i))) {
        if (s->deleted)
            continue;
        if (!threaded_type(get_u(s->obj, FLD("LedgerEntryType"), 0)))
            continue;
        set_bytes(c, s->obj, FLD("PreviousTxnID"), c->id, 32);
        set_u(c, s->obj, FLD("PreviousTxnLgrSeq"), c->env->ledger_seq);
    }
}

static int cmp_slot(const void *a, const void *b)
{
    return memcmp((*(jn_slot *const *)a)->id, (*(jn_slot *const *)b)->id, 32);
}

/* A deleted entry's threading goes into its FinalFields (skywelld's
 * sMD_DeleteFinal), as it stood: deleted entries are not threaded. */
static bool threading(const jt_field *f)
{
    return f == FLD("PreviousTxnID") || f == FLD("PreviousTxnLgrSeq");
}

/* Do two versions of an entry differ only in their threading? */
static bool only_threading(const jt_obj *orig, const jt_obj *cur)
{
    for (size_t f = 0; f < jt_obj_field_count(cur); f++) {
        const jt_field *fl = jt_obj_field_at(cur, f);
        if (!threading(fl) && !jt_obj_field_equal(orig, cur, fl))
            return false;
    }
    for (size_t f = 0; f < jt_obj_field_count(orig); f++) {
        const jt_field *fl = jt_obj_field_at(orig, f);
        if (!threading(fl) && !jt_obj_has_f(cur, fl))
            return false;
    }
    return jt_obj_has_f(orig, FLD("PreviousTxnID")) && jt_obj_has_f(orig, FLD("PreviousTxnLgrSeq"));
}

/* ---------------------------------------------------------------- binary writing */

/* A binary object is its fields in canonical order, which is jt_field
 * pointer order: each level sorts the handles of the fields it will write,
 * then writes each in turn straight into the output. */
void jn_bin_sort(const jt_field **f, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && f[j] < f[j - 1]; j--) {
            const jt_field *t = f[j];
            f[j] = f[j - 1];
            f[j - 1] = t;
        }
}

jt_err jn_bin_uint(jt_buf *b, const jt_field *f, uint64_t v)
{
    uint8_t x[8];
    size_t n = f->type == JT_T_UINT8 ? 1 : f->type == JT_T_UINT16 ? 2 : f->type == JT_T_UINT32 ? 4 : 8;
    for (size_t i = 0; i < n; i++)
        x[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    jt_err e = jt_field_header_to_binary(f, b);
    return e ? e : jt_buf_append(b, x, n);
}

jt_err jn_bin_amount(jt_buf *b, const jt_field *f, const jt_amount *a)
{
    uint8_t x[48];
    size_t n;
    jt_err e = jt_field_header_to_binary(f, b);
    if (!e)
        e = jt_amount_encode(a, x, &n);
    return e ? e : jt_buf_append(b, x, n);
}

jt_err jn_bin_member(jt_buf *b, const jt_obj *o, const jt_field *f)
{
    size_t n = jt_obj_field_count(o);
    for (size_t i = 0; i < n; i++)
        if (jt_obj_field_at(o, i) == f)
            return jt_obj_member_to_binary(o, i, b);
    return JT_EFIELD_MISSING;
}

static jt_err bin_hash(jt_buf *b, const jt_field *f, const uint8_t h[32])
{
    jt_err e = jt_field_header_to_binary(f, b);
    return e ? e : jt_buf_append(b, h, 32);
}

static const uint8_t END_OBJECT = 0xE1, END_ARRAY = 0xF1;

/* ---------------------------------------------------------------- affected accounts */

void jn_accts_add(jn_accts *s, const jt_account_id *a)
{
    for (size_t i = 0; i < s->n; i++)
        if (!memcmp(s->v[i].bytes, a->bytes, 20))
            return;
    if (s->n < JN_TX_ACCOUNTS)
        s->v[s->n++] = *a;
}

/* The accounts an entry's fields name: its account fields, and the issuers
 * of a line's limits and an offer's amounts. */
static void entry_accounts(jn_accts *s, const jt_obj *o)
{
    const jt_field *low = FLD("LowLimit"), *high = FLD("HighLimit"), *pays = FLD("TakerPays"),
                   *gets = FLD("TakerGets");
    size_t k = jt_obj_field_count(o);
    for (size_t i = 0; i < k; i++) {
        const jt_field *f = jt_obj_field_at(o, i);
        jt_account_id a;
        jt_amount am;
        if (f->type == JT_T_ACCOUNT) {
            if (jt_obj_get_account_f(o, f, &a) == JT_OK)
                jn_accts_add(s, &a);
        } else if ((f == low || f == high || f == pays || f == gets) &&
                   jt_obj_get_amount_f(o, f, &am) == JT_OK && !am.native) {
            jn_accts_add(s, &am.issuer);
        }
    }
}

/* ---------------------------------------------------------------- metadata */

/* The members of src for a NewFields/FinalFields/PreviousFields object
 * under field `wrap`: all but those metadata never carries, or only those
 * that differ from `other` (PreviousFields: not written at all when none
 * does), or only those not at their default value. */
static jt_err fields_bin(jt_buf *b, const jt_field *wrap, const jt_obj *src, const jt_obj *other,
                         bool only_changed, bool skip_default, bool final_deleted)
{
    size_t mark = b->len;
    jt_err e = jt_field_header_to_binary(wrap, b);
    size_t start = b->len;
    for (size_t i = 0; !e && i < jt_obj_field_count(src); i++) {
        const jt_field *f = jt_obj_field_at(src, i);
        if (meta_skip(f) && !(final_deleted && threading(f)))
            continue;
        if (only_changed && jt_obj_field_equal(src, other, f))
            continue;
        if (skip_default && is_default(src, f))
            continue;
        e = jt_obj_member_to_binary(src, i, b);
    }
    if (e)
        return e;
    if (only_changed && b->len == start) {
        b->len = mark;
        return JT_OK;
    }
    return jt_buf_append(b, &END_OBJECT, 1);
}

/* One AffectedNodes element: kind (CreatedNode, ModifiedNode,
 * DeletedNode) of entry `id`, from orig (NULL: created) to cur; bare: an
 * account only threaded, written with its previous threading alone. */
static jt_err node_bin(jt_buf *b, const jt_field *kind, const uint8_t id[32], const jt_obj *orig,
                       const jt_obj *cur, bool deleted, bool bare)
{
    const jt_field *let = FLD("LedgerEntryType"), *li = FLD("LedgerIndex"),
                   *ptid = FLD("PreviousTxnID"), *ptls = FLD("PreviousTxnLgrSeq"),
                   *nf = FLD("NewFields"), *ff = FLD("FinalFields"), *pf = FLD("PreviousFields");
    const jt_field *order[7];
    size_t n = 0;
    order[n++] = let;
    order[n++] = li;
    if (bare) {
        order[n++] = ptid;
        order[n++] = ptls;
    } else if (!orig) {
        order[n++] = nf;
    } else {
        order[n++] = ff;
        order[n++] = pf;
        if (!deleted && jt_obj_has_f(orig, ptid))
            order[n++] = ptid;
        if (!deleted && jt_obj_has_f(orig, ptls))
            order[n++] = ptls;
    }
    jn_bin_sort(order, n);
    jt_err e = jt_field_header_to_binary(kind, b);
    for (size_t k = 0; k < n && !e; k++) {
        const jt_field *f = order[k];
        if (f == let)
            e = jn_bin_member(b, cur, let);
        else if (f == li)
            e = bin_hash(b, li, id);
        else if (f == ptid || f == ptls)
            e = jn_bin_member(b, orig, f);
        else if (f == nf)
            e = fields_bin(b, nf, cur, NULL, false, true, false);
        else if (f == ff)
            e = fields_bin(b, ff, cur, NULL, false, false, deleted);
        else
            e = fields_bin(b, pf, orig, cur, true, false, false);
    }
    return e ? e : jt_buf_append(b, &END_OBJECT, 1);
}

/* AffectedNodes sorted by LedgerIndex (Created/Modified/DeletedNode with
 * NewFields, FinalFields, PreviousFields and the previous threading), then
 * TransactionIndex, TransactionResult and, for a successful partial
 * payment, DeliveredAmount: written as bytes, in canonical order. */
int jn_meta_bytes(jn_txctx *c, int ter, uint32_t index, jt_buf *out, jn_accts *accts)
{
    jn_map *ch = &c->sb->changes;
    jn_accts_add(accts, &c->account);
    /* For each owner of a created or deleted entry, the first such entry
     * in key order (for the bare nodes below). */
    struct owned {
        uint8_t acct[32];
        const uint8_t *first;
    } *own = malloc((2 * ch->n + 1) * sizeof *own);
    jn_slot **list = malloc((ch->n ? ch->n : 1) * sizeof *list);
    int rc = -1;
    if (!own || !list)
        goto done;
    size_t n = 0, i = 0;
    jn_slot *s;
    while ((s = jn_map_next(ch, &i)))
        list[n++] = s;
    qsort(list, n, sizeof *list, cmp_slot);
    size_t n_own = 0;
    for (size_t k = 0; k < n; k++) {
        s = list[k];
        bool created = !jn_view_read(c->sb->parent, s->id);
        if (created == (bool)s->deleted)
            continue; /* neither, or both (not in the metadata) */
        jt_account_id two[2];
        size_t m = entry_owners(s->obj, two);
        for (size_t j = 0; j < m; j++) {
            uint8_t key[32];
            size_t x = 0;
            jn_id_account(&two[j], key);
            while (x < n_own && memcmp(own[x].acct, key, 32))
                x++;
            if (x == n_own) {
                memcpy(own[n_own].acct, key, 32);
                own[n_own++].first = s->id;
            }
        }
    }
    const jt_field *ti = FLD("TransactionIndex"), *an = FLD("AffectedNodes"),
                   *tr = FLD("TransactionResult"), *da = FLD("DeliveredAmount");
    uint32_t flags = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    jt_amount amount;
    /* skywelld records it only when less than the Amount was delivered
     * (Payment.cpp: rc.actualAmountOut != saDstAmount). */
    bool delivered = ter == JT_tesSUCCESS && c->has_delivered && (flags & JT_TF_PARTIAL_PAYMENT) &&
                     get_amount(c->tx, FLD("Amount"), &amount) &&
                     jt_amount_cmp(&amount, &c->delivered) != 0;
    const jt_field *order[4] = {ti, an, tr, da};
    size_t n_top = delivered ? 4 : 3;
    jn_bin_sort(order, n_top);
    jt_err e = jt_buf_reserve(out, 256 + 256 * n);
    for (size_t t = 0; t < n_top && !e; t++) {
        if (order[t] == ti) {
            e = jn_bin_uint(out, ti, index);
        } else if (order[t] == tr) {
            e = jn_bin_uint(out, tr, (uint64_t)ter);
        } else if (order[t] == da) {
            e = jn_bin_amount(out, da, &c->delivered);
        } else {
            e = jt_field_header_to_binary(an, out);
            for (size_t k = 0; k < n && !e; k++) {
                s = list[k];
                const jt_obj *orig = jn_view_read(c->sb->parent, s->id);
                const jt_obj *cur = s->obj;
                if (!orig && s->deleted)
                    continue; /* created and deleted within the transaction */
                if (orig && !s->deleted) {
                    /* Unchanged entries are not reported. */
                    bool changed = false;
                    for (size_t f = 0; !changed && f < jt_obj_field_count(cur); f++)
                        if (!jt_obj_field_equal(orig, cur, jt_obj_field_at(cur, f)))
                            changed = true;
                    for (size_t f = 0; !changed && f < jt_obj_field_count(orig); f++)
                        if (!jt_obj_has_f(cur, jt_obj_field_at(orig, f)))
                            changed = true;
                    if (!changed)
                        continue;
                }
                uint64_t lt = get_u(cur, FLD("LedgerEntryType"), 0);
                /* An account changed only by being threaded as the owner
                 * of a created or deleted entry whose key is after its own:
                 * skywelld's calcRawMeta, visiting entries in key order, has
                 * passed it (as an entry only read) when it threads it, and
                 * writes a bare node. */
                bool bare = false;
                if (orig && !s->deleted && lt == JT_LT_ACCOUNT_ROOT && only_threading(orig, cur)) {
                    for (size_t x = 0; x < n_own; x++)
                        if (!memcmp(own[x].acct, s->id, 32))
                            bare = memcmp(s->id, own[x].first, 32) < 0;
                }
                const jt_field *kind = !orig ? FLD("CreatedNode")
                                       : s->deleted ? FLD("DeletedNode") : FLD("ModifiedNode");
                e = node_bin(out, kind, s->id, orig, cur, s->deleted, bare);
                /* The accounts its FinalFields or NewFields name. */
                if (!bare && lt != JT_LT_DIRECTORY_NODE && lt != JT_LT_FEE_SETTINGS)
                    entry_accounts(accts, cur);
            }
            if (!e)
                e = jt_buf_append(out, &END_ARRAY, 1);
        }
    }
    rc = e ? -1 : 0;
done:
    free(own);
    free(list);
    return rc;
}
