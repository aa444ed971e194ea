/*
 * fastpay.c — the plain SWT payment, applied without a sandbox.
 *
 * The common case, a funded SWT payment between two existing accounts: every
 * check that could fail is made first, then the two AccountRoots are changed
 * in place in `view` (copied into it on first write, as the merge of a
 * sandbox would leave them). The metadata is the one jn_meta_bytes gives for
 * the same change. Anything else (a new account, RequireDest, an unfunded
 * payment, an entry not yet threaded) takes the general path.
 */
#include "engine.h"

typedef struct fp_node {
    const uint8_t *key;
    jt_obj *cur;
    int64_t bal_before, bal_after;
    uint64_t seq_before; /* sender only */
    bool sender;
} fp_node;

static bool fp_threaded(const jt_obj *o)
{
    const uint8_t *p;
    size_t n;
    return jt_obj_get_bytes_f(o, FLD("PreviousTxnID"), &p, &n) == JT_OK && n == 32 &&
           jt_obj_has_f(o, FLD("PreviousTxnLgrSeq"));
}

/* The metadata of a plain payment, written as bytes: the same bytes
 * jn_meta_bytes writes for the general path (test_jn_ledger compares
 * them), without a sandbox to compare. */

static jt_err fp_put_drops(jt_buf *b, const jt_field *f, int64_t drops)
{
    jt_amount a;
    jt_amount_native(&a, drops);
    return jn_bin_amount(b, f, &a);
}

/* The ModifiedNode of one AccountRoot, from its state before the change
 * (`cur` is not changed yet) and the new values. */
static jt_err fp_node_bytes(jt_buf *out, const fp_node *nd)
{
    static const uint8_t end_object = 0xE1;
    const jt_field *let = FLD("LedgerEntryType"), *ptid = FLD("PreviousTxnID"),
                   *ptls = FLD("PreviousTxnLgrSeq"), *bal = FLD("Balance"), *seq = FLD("Sequence"),
                   *li = FLD("LedgerIndex"), *ff = FLD("FinalFields"), *pf = FLD("PreviousFields");
    const jt_field *order[6] = {let, ptid, ptls, li, ff, pf};
    jn_bin_sort(order, 6);
    jt_err e = jt_field_header_to_binary(FLD("ModifiedNode"), out);
    for (int k = 0; k < 6 && !e; k++) {
        const jt_field *f = order[k];
        if (f == li) {
            if (!(e = jt_field_header_to_binary(li, out)))
                e = jt_buf_append(out, nd->key, 32);
        } else if (f == ff) {
            /* Every field but the three kept outside, with the new values. */
            e = jt_field_header_to_binary(ff, out);
            size_t nf = jt_obj_field_count(nd->cur);
            for (size_t i = 0; i < nf && !e; i++) {
                const jt_field *g = jt_obj_field_at(nd->cur, i);
                if (g == let || g == ptid || g == ptls)
                    continue;
                if (g == bal)
                    e = fp_put_drops(out, g, nd->bal_after);
                else if (g == seq && nd->sender)
                    e = jn_bin_uint(out, g, nd->seq_before + 1);
                else
                    e = jt_obj_member_to_binary(nd->cur, i, out);
            }
            if (!e)
                e = jt_buf_append(out, &end_object, 1);
        } else if (f == pf) {
            /* What changed, as it was. */
            const jt_field *changed[2] = {bal, seq};
            size_t nc = nd->sender ? 2 : 1;
            jn_bin_sort(changed, nc);
            e = jt_field_header_to_binary(pf, out);
            for (size_t i = 0; i < nc && !e; i++)
                e = changed[i] == bal ? fp_put_drops(out, bal, nd->bal_before)
                                      : jn_bin_uint(out, seq, nd->seq_before);
            if (!e)
                e = jt_buf_append(out, &end_object, 1);
        } else {
            e = jn_bin_member(out, nd->cur, f); /* type and threading, as they were */
        }
    }
    return e ? e : jt_buf_append(out, &end_object, 1);
}

/* The whole metadata: TransactionIndex, AffectedNodes (the two nodes in
 * ID order), TransactionResult. */
static jt_err fp_meta_bytes(jt_buf *out, const fp_node nodes[2], uint32_t index)
{
    static const uint8_t end_array = 0xF1;
    const jt_field *ti = FLD("TransactionIndex"), *an = FLD("AffectedNodes"),
                   *tr = FLD("TransactionResult");
    const jt_field *order[3] = {ti, an, tr};
    jn_bin_sort(order, 3);
    int first = memcmp(nodes[0].key, nodes[1].key, 32) < 0 ? 0 : 1;
    jt_err e = jt_buf_reserve(out, 384); /* two AccountRoot nodes: about 300 bytes */
    for (int k = 0; k < 3 && !e; k++) {
        if (order[k] == ti) {
            e = jn_bin_uint(out, ti, index);
        } else if (order[k] == tr) {
            e = jn_bin_uint(out, tr, JT_tesSUCCESS);
        } else {
            e = jt_field_header_to_binary(an, out);
            if (!e)
                e = fp_node_bytes(out, &nodes[first]);
            if (!e)
                e = fp_node_bytes(out, &nodes[1 - first]);
            if (!e)
                e = jt_buf_append(out, &end_array, 1);
        }
    }
    return e;
}

bool jn_fast_payment(jn_view *view, const jn_env *env, jn_txctx *c, uint32_t index,
                     jn_applied *out)
{
    if (env->no_fast_path || get_u(c->tx, FLD("TransactionType"), 0) != JT_TX_PAYMENT)
        return false;
    uint32_t flags = (uint32_t)get_u(c->tx, FLD("Flags"), 0);
    jt_account_id dst;
    jt_amount amt;
    if ((flags & ~JT_TF_FULLY_CANONICAL_SIG) ||
        jt_obj_get_account_f(c->tx, FLD("Destination"), &dst) != JT_OK ||
        !get_amount(c->tx, FLD("Amount"), &amt) || !amt.native || amt.negative ||
        jt_obj_has_f(c->tx, FLD("SendMax")) || jt_obj_has_f(c->tx, FLD("Paths")))
        return false; /* SWT bought with another currency: the payment engine */
    uint8_t dkey[32];
    if (c->memo && c->memo->have_dest) {
        memcpy(dkey, c->memo->dest_key, 32);
    } else {
        jn_id_account(&dst, dkey);
        if (c->memo) {
            memcpy(c->memo->dest_key, dkey, 32);
            c->memo->have_dest = true;
        }
    }
    const jt_obj *sroot = jn_view_read(view, c->account_key), *droot = jn_view_read(view, dkey);
    if (!sroot || !droot || sroot == droot || !fp_threaded(sroot) || !fp_threaded(droot))
        return false;
    if ((get_u(droot, FLD("Flags"), 0) & JT_LSF_REQUIRE_DEST_TAG) &&
        !jt_obj_has_f(c->tx, FLD("DestinationTag")))
        return false;
    uint64_t reserve = jn_read_account_reserve(env, sroot);
    int64_t need = (int64_t)amt.mantissa +
                   (int64_t)(reserve > (uint64_t)c->fee ? reserve : (uint64_t)c->fee);
    if (c->prior_balance < need)
        return false;

    bool oom;
    jt_obj *sr = jn_view_peek(view, c->account_key, &oom);
    jt_obj *dr = sr ? jn_view_peek(view, dkey, &oom) : NULL;
    if (!sr || !dr) {
        out->ter = JT_tefINTERNAL;
        return true; /* only unchanged copies were made */
    }
    fp_node nodes[2] = {
        {.key = c->account_key, .cur = sr, .bal_before = c->prior_balance,
         .bal_after = c->prior_balance - c->fee - (int64_t)amt.mantissa,
         .seq_before = get_u(sr, FLD("Sequence"), 0), .sender = true},
        {.key = dkey, .cur = dr, .bal_before = jn_read_balance(dr),
         .bal_after = jn_read_balance(dr) + (int64_t)amt.mantissa},
    };
    /* Metadata first (it reads the entries as they were), so that running
     * out of memory leaves the view untouched. */
    jt_buf meta;
    jt_buf_init(&meta);
    if (!env->no_meta && fp_meta_bytes(&meta, nodes, index)) {
        jt_buf_clear(&meta);
        out->ter = JT_tefINTERNAL;
        return true;
    }
    /* Every field set below exists already: changed in place, no allocation. */
    for (int k = 0; k < 2; k++) {
        set_balance(c, nodes[k].cur, nodes[k].bal_after);
        set_bytes(c, nodes[k].cur, FLD("PreviousTxnID"), c->id, 32);
        set_u(c, nodes[k].cur, FLD("PreviousTxnLgrSeq"), env->ledger_seq);
    }
    set_u(c, sr, FLD("Sequence"), nodes[0].seq_before + 1);
    out->meta_bin = meta;
    if (!env->no_meta) {
        jn_accts_add(&out->accts, &c->account);
        jn_accts_add(&out->accts, &dst);
    }
    out->fee = c->fee;
    out->fast = true;
    out->ter = JT_tesSUCCESS;
    return true;
}
