/*
 * cmd_tx.c — the commands about one transaction: tx, and submit (whose
 * queue and halves are in rpc_submit.c).
 */
#include "rpc_int.h"

typedef struct txq_ctx {
    req *q;
    bool binary;
    bool found;
} txq_ctx;

static int tx_found(void *vctx, const jn_txrec *t)
{
    txq_ctx *c = vctx;
    jt_jw *w = c->q->w;
    jn_header h;
    if (jn_store_header_by_seq(jn_ledger_store(c->q->rpc->L), t->seq, &h))
        return -1;
    c->found = true;
    if (c->binary) {
        jt_jw_key(w, "date");
        jt_jw_uint(w, h.close_time);
        jt_jw_key(w, "hash");
        jt_jw_hex(w, t->id, 32);
        jt_jw_key(w, "inLedger");
        jt_jw_uint(w, t->seq);
        jt_jw_key(w, "ledger_index");
        jt_jw_uint(w, t->seq);
        jt_jw_key(w, "meta");
        jt_jw_hex(w, t->meta, t->meta_len);
        jt_jw_key(w, "tx");
        jt_jw_hex(w, t->blob, t->blob_len);
        jt_jw_key(w, "validated");
        jt_jw_bool(w, true);
        return 0;
    }
    jt_obj *tx = NULL, *meta = NULL;
    jt_errinfo ei;
    int rc = -1;
    if (jt_obj_from_binary(t->blob, t->blob_len, &tx, &ei) == JT_OK &&
        jt_obj_from_binary(t->meta, t->meta_len, &meta, &ei) == JT_OK) {
        /* The result object is the transaction itself plus meta. */
        extra e;
        extra_begin(&e);
        jt_jw_key(&e.w, "date");
        jt_jw_uint(&e.w, h.close_time);
        jt_jw_key(&e.w, "hash");
        jt_jw_hex(&e.w, t->id, 32);
        jt_jw_key(&e.w, "inLedger");
        jt_jw_uint(&e.w, t->seq);
        jt_jw_key(&e.w, "ledger_index");
        jt_jw_uint(&e.w, t->seq);
        jt_jw_key(&e.w, "meta");
        rpc_jw_meta(&e.w, meta, tx);
        jt_jw_key(&e.w, "validated");
        jt_jw_bool(&e.w, true);
        jt_buf merged;
        jt_buf_init(&merged);
        jt_jw mw;
        jt_jw_init(&mw, &merged);
        jw_obj_plus(&mw, tx, extra_end(&e));
        extra_free(&e);
        if (jt_jw_finish(&mw) == JT_OK) {
            jt_jw_members(w, (const char *)merged.data, merged.len);
            rc = 0;
        }
        jt_buf_clear(&merged);
    }
    jt_obj_free(tx);
    jt_obj_free(meta);
    return rc;
}

int cmd_tx(req *q)
{
    const char *t = jt_json_string(jt_json_get(q->p, "transaction"));
    uint8_t id[32];
    size_t n;
    if (!t)
        return rpc_fail(q, "invalidParams", "Missing field 'transaction'.");
    if (jt_hex_decode(t, strlen(t), id, 32, &n) != JT_OK || n != 32)
        return rpc_fail(q, "notImpl", "Transaction hash malformed.");
    bool binary = param_bool(q, "binary");
    const jn_tx *open = jn_ledger_open_tx(q->rpc->L, id);
    if (open) {
        if (binary) {
            jt_jw_key(q->w, "hash");
            jt_jw_hex(q->w, id, 32);
            jt_jw_key(q->w, "tx");
            jt_jw_hex(q->w, open->blob, open->blob_len);
        } else {
            /* Splice the transaction's members into the result. */
            jt_buf b;
            jt_buf_init(&b);
            jt_jw bw;
            jt_jw_init(&bw, &b);
            rpc_jw_tx(&bw, open->tx, id, NULL, false);
            if (jt_jw_finish(&bw) == JT_OK)
                jt_jw_members(q->w, (const char *)b.data, b.len);
            jt_buf_clear(&b);
        }
        jt_jw_key(q->w, "validated");
        jt_jw_bool(q->w, false);
        return 0;
    }
    txq_ctx c = {.q = q, .binary = binary};
    int r = jn_store_get_tx(jn_ledger_store(q->rpc->L), id, tx_found, &c);
    if (r < 0 && !c.found)
        return rpc_fail(q, "internal", "reading transaction: %s", jn_store_errmsg(jn_ledger_store(q->rpc->L)));
    if (!c.found)
        return rpc_fail(q, "txnNotFound", NULL);
    return 0;
}

/* ---------------------------------------------------------------- submit */

/* A submit answered at once: the signature is checked here, on the loop
 * (without verify workers; with them, rpc_queue takes submits instead). */
int cmd_submit(req *q)
{
    jt_buf blob;
    jt_obj *tx;
    if (rpc_submit_prepare(q, &blob, &tx))
        return -1;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_tx_verify(tx, &ei);
    return rpc_submit_finish(q, &blob, tx, e, &ei, NULL, NULL);
}
