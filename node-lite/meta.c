/*
 * meta.c — a transaction's metadata and PreviousTxnID threading, from its
 * sandbox: the difference between c->sb and its parent, computed before
 * the sandbox is merged (see engine.h).
 */
#include "engine.h"

#include <stdlib.h>

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

static jt_err fields_into(jt_obj *dst, const jt_obj *src, const jt_obj *other, bool only_changed,
                          bool skip_default, bool final_deleted)
{
    for (size_t i = 0; i < jt_obj_field_count(src); i++) {
        const jt_field *f = jt_obj_field_at(src, i);
        if (meta_skip(f) && !(final_deleted && threading(f)))
            continue;
        if (only_changed && jt_obj_field_equal(src, other, f))
            continue;
        if (skip_default && is_default(src, f))
            continue;
        jt_err e = jt_obj_copy_field(dst, src, f);
        if (e)
            return e;
    }
    return JT_OK;
}

/* AffectedNodes sorted by LedgerIndex (Created/Modified/DeletedNode with
 * NewFields, FinalFields, PreviousFields and the previous threading), then
 * TransactionIndex, TransactionResult and, for a successful partial
 * payment, DeliveredAmount. */
jt_obj *jn_meta_build(jn_txctx *c, int ter, uint32_t index)
{
    jn_map *ch = &c->sb->changes;
    /* For each owner of a created or deleted entry, the first such entry
     * in key order (for the bare nodes below). */
    struct owned {
        uint8_t acct[32];
        const uint8_t *first;
    } *own = malloc((2 * ch->n + 1) * sizeof *own);
    jn_slot **list = malloc((ch->n ? ch->n : 1) * sizeof *list);
    jt_obj *meta = jt_obj_new();
    if (!own || !list || !meta)
        goto fail;
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
    for (size_t k = 0; k < n; k++) {
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
        /* An account changed only by being threaded as the owner of a
         * created or deleted entry whose key is after its own: skywelld's
         * calcRawMeta, visiting entries in key order, has passed it (as an
         * entry only read) when it threads it, and writes a bare node. */
        bool bare = false;
        if (orig && !s->deleted && get_u(cur, FLD("LedgerEntryType"), 0) == JT_LT_ACCOUNT_ROOT &&
            only_threading(orig, cur)) {
            for (size_t x = 0; x < n_own; x++)
                if (!memcmp(own[x].acct, s->id, 32))
                    bare = memcmp(s->id, own[x].first, 32) < 0;
        }
        /* Built in place in the metadata object. */
        const jt_field *kind = !orig ? FLD("CreatedNode")
                               : s->deleted ? FLD("DeletedNode") : FLD("ModifiedNode");
        jt_obj *node = jt_obj_array_add_f(meta, FLD("AffectedNodes"), kind), *a, *b;
        if (!node)
            goto fail;
        jt_err e = jt_obj_copy_field(node, cur, FLD("LedgerEntryType"));
        if (!e)
            e = jt_obj_set_bytes_f(node, FLD("LedgerIndex"), s->id, 32);
        if (bare) {
            if (!e)
                e = jt_obj_copy_field(node, orig, FLD("PreviousTxnID"));
            if (!e)
                e = jt_obj_copy_field(node, orig, FLD("PreviousTxnLgrSeq"));
        } else if (!orig) {
            if (!e)
                e = (a = jt_obj_object_add_f(node, FLD("NewFields")))
                        ? fields_into(a, cur, NULL, false, true, false)
                        : JT_ENOMEM;
        } else {
            if (!e)
                e = (a = jt_obj_object_add_f(node, FLD("FinalFields")))
                        ? fields_into(a, cur, NULL, false, false, s->deleted)
                        : JT_ENOMEM;
            if (!e)
                e = (b = jt_obj_object_add_f(node, FLD("PreviousFields")))
                        ? fields_into(b, orig, cur, true, false, false)
                        : JT_ENOMEM;
            if (!e && !jt_obj_field_count(b))
                e = jt_obj_remove(node, "PreviousFields");
            if (!e && !s->deleted && jt_obj_has_f(orig, FLD("PreviousTxnID")))
                e = jt_obj_copy_field(node, orig, FLD("PreviousTxnID"));
            if (!e && !s->deleted && jt_obj_has_f(orig, FLD("PreviousTxnLgrSeq")))
                e = jt_obj_copy_field(node, orig, FLD("PreviousTxnLgrSeq"));
        }
        if (e)
            goto fail;
    }
    if (jt_obj_set_uint_f(meta, FLD("TransactionIndex"), index) ||
        jt_obj_set_uint_f(meta, FLD("TransactionResult"), (uint64_t)ter))
        goto fail;
    uint32_t flags = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    jt_amount amount;
    /* skywelld records it only when less than the Amount was delivered
     * (Payment.cpp: rc.actualAmountOut != saDstAmount). */
    if (ter == JT_tesSUCCESS && c->has_delivered && (flags & JT_TF_PARTIAL_PAYMENT) &&
        get_amount(c->tx, FLD("Amount"), &amount) && jt_amount_cmp(&amount, &c->delivered) != 0 &&
        jt_obj_set_amount_f(meta, FLD("DeliveredAmount"), &c->delivered))
        goto fail;
    free(own);
    free(list);
    return meta;
fail:
    free(own);
    free(list);
    jt_obj_free(meta);
    return NULL;
}
