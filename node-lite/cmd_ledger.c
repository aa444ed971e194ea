/*
 * cmd_ledger.c — the commands that read (or close) a whole ledger: ledger,
 * ledger_closed, ledger_current and ledger_accept.
 */
#include "rpc_int.h"

#include <time.h>

static void close_time_human(uint32_t t, char out[32])
{
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t u = (time_t)t + JT_EPOCH_OFFSET;
    struct tm tm;
    gmtime_r(&u, &tm);
    snprintf(out, 32, "%04d-%s-%02d %02d:%02d:%02d", tm.tm_year + 1900, mon[tm.tm_mon], tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

typedef struct ltx_ctx {
    jt_jw *w;
    bool expand, binary;
    const jn_header *h;
} ltx_ctx;

static int ledger_tx_cb(void *vctx, const jn_txrec *t)
{
    ltx_ctx *c = vctx;
    if (c->binary) {
        jt_jw_object_begin(c->w);
        jt_jw_key(c->w, "meta");
        jt_jw_hex(c->w, t->meta, t->meta_len);
        jt_jw_key(c->w, "tx_blob");
        jt_jw_hex(c->w, t->blob, t->blob_len);
        jt_jw_object_end(c->w);
        return 0;
    }
    if (!c->expand) {
        jt_jw_hex(c->w, t->id, 32);
        return 0;
    }
    jt_obj *tx = NULL, *meta = NULL;
    jt_errinfo ei;
    if (jt_obj_from_binary(t->blob, t->blob_len, &tx, &ei) == JT_OK &&
        jt_obj_from_binary(t->meta, t->meta_len, &meta, &ei) == JT_OK) {
        extra e;
        extra_begin(&e);
        jt_jw_key(&e.w, "hash");
        jt_jw_hex(&e.w, t->id, 32);
        jt_jw_key(&e.w, "metaData");
        rpc_jw_meta(&e.w, meta, tx);
        jw_obj_plus(c->w, tx, extra_end(&e));
        extra_free(&e);
    }
    jt_obj_free(tx);
    jt_obj_free(meta);
    return 0;
}

static void state_dump_cb(void *vctx, const uint8_t id[32], const jt_obj *o)
{
    jt_jw *w = vctx;
    jw_entry(w, o, id);
}

static void jw_ledger_obj(req *q, const lsel *s, bool txs, bool expand, bool binary, bool state)
{
    jn_ledger *L = q->rpc->L;
    jt_jw *w = q->w;
    char num[24], human[32];
    jt_jw_object_begin(w);
    if (s->kind == 0) {
        const jn_header *last = jn_ledger_last(L);
        snprintf(num, sizeof num, "%" PRIu32, jn_ledger_open_seq(L));
        jt_jw_key(w, "accepted");
        jt_jw_bool(w, false);
        jt_jw_key(w, "closed");
        jt_jw_bool(w, false);
        jt_jw_key(w, "ledger_index");
        jt_jw_string(w, num);
        jt_jw_key(w, "parent_hash");
        jt_jw_hex(w, last->hash, 32);
        jt_jw_key(w, "seqNum");
        jt_jw_string(w, num);
        snprintf(num, sizeof num, "%" PRIu64, last->total_coins);
        jt_jw_key(w, "totalCoins");
        jt_jw_string(w, num);
        jt_jw_key(w, "total_coins");
        jt_jw_string(w, num);
        if (txs) {
            const jn_txlist *ot = jn_ledger_open_txs(L);
            jt_jw_key(w, "transactions");
            jt_jw_array_begin(w);
            for (size_t i = 0; i < ot->n; i++) {
                if (expand)
                    rpc_jw_tx(w, ot->v[i]->tx, ot->v[i]->id, NULL, false);
                else
                    jt_jw_hex(w, ot->v[i]->id, 32);
            }
            jt_jw_array_end(w);
        }
        jt_jw_object_end(w);
        return;
    }
    const jn_header *h = &s->h;
    jt_jw_key(w, "accepted");
    jt_jw_bool(w, true);
    jt_jw_key(w, "account_hash");
    jt_jw_hex(w, h->account_hash, 32);
    if (state) {
        jt_jw_key(w, "accountState");
        jt_jw_array_begin(w);
        if (s->v)
            jn_view_foreach(s->v, state_dump_cb, w);
        jt_jw_array_end(w);
    }
    jt_jw_key(w, "close_time");
    jt_jw_uint(w, h->close_time);
    close_time_human(h->close_time, human);
    jt_jw_key(w, "close_time_human");
    jt_jw_string(w, human);
    jt_jw_key(w, "close_time_resolution");
    jt_jw_uint(w, h->close_resolution);
    jt_jw_key(w, "closed");
    jt_jw_bool(w, true);
    jt_jw_key(w, "hash");
    jt_jw_hex(w, h->hash, 32);
    jt_jw_key(w, "ledger_hash");
    jt_jw_hex(w, h->hash, 32);
    snprintf(num, sizeof num, "%" PRIu32, h->seq);
    jt_jw_key(w, "ledger_index");
    jt_jw_string(w, num);
    jt_jw_key(w, "parent_close_time");
    jt_jw_uint(w, h->parent_close_time);
    jt_jw_key(w, "parent_hash");
    jt_jw_hex(w, h->parent_hash, 32);
    jt_jw_key(w, "seqNum");
    jt_jw_string(w, num);
    snprintf(num, sizeof num, "%" PRIu64, h->total_coins);
    jt_jw_key(w, "totalCoins");
    jt_jw_string(w, num);
    jt_jw_key(w, "total_coins");
    jt_jw_string(w, num);
    jt_jw_key(w, "transaction_hash");
    jt_jw_hex(w, h->tx_hash, 32);
    if (txs) {
        jt_jw_key(w, "transactions");
        jt_jw_array_begin(w);
        /* The IDs of the newest ledger's transactions, which every client
         * following the ledger stream asks for, come from memory; the rest
         * from the store. */
        const jn_txlist *last = !expand && !binary && h->seq == jn_ledger_last(L)->seq
                                    ? jn_ledger_last_txs(L)
                                    : NULL;
        if (last) {
            for (size_t i = 0; i < last->n; i++)
                jt_jw_hex(w, last->v[i]->id, 32);
        } else {
            ltx_ctx c = {.w = w, .expand = expand, .binary = binary, .h = h};
            (void)jn_store_ledger_txs(jn_ledger_store(L), h->seq, ledger_tx_cb, &c);
        }
        jt_jw_array_end(w);
    }
    jt_jw_object_end(w);
}

int cmd_ledger(req *q)
{
    bool full = param_bool(q, "full"), accounts = param_bool(q, "accounts");
    if ((full || accounts) && !q->cl->admin)
        return rpc_fail(q, "noPermission", NULL);
    bool txs = param_bool(q, "transactions") || full;
    bool expand = param_bool(q, "expand") || full, binary = param_bool(q, "binary");
    const jt_json *iv = jt_json_get(q->p, "ledger_index"), *hv = jt_json_get(q->p, "ledger_hash");
    if ((!iv || iv->kind == JT_JSON_NULL) && (!hv || hv->kind == JT_JSON_NULL)) {
        lsel c = {.kind = 1, .h = *jn_ledger_last(q->rpc->L), .v = jn_ledger_closed_view(q->rpc->L)};
        lsel o = {.kind = 0, .v = jn_ledger_open_view(q->rpc->L)};
        jt_jw_key(q->w, "closed");
        jt_jw_object_begin(q->w);
        jt_jw_key(q->w, "ledger");
        jw_ledger_obj(q, &c, txs, expand, binary, false);
        jt_jw_object_end(q->w);
        jt_jw_key(q->w, "open");
        jt_jw_object_begin(q->w);
        jt_jw_key(q->w, "ledger");
        jw_ledger_obj(q, &o, txs, expand, binary, false);
        jt_jw_object_end(q->w);
        return 0;
    }
    lsel s;
    if (rpc_select_ledger(q, &s, true))
        return -1;
    if ((full || accounts) && s.kind == 2)
        return need_state(q, &s);
    jt_jw_key(q->w, "ledger");
    jw_ledger_obj(q, &s, txs, expand, binary, full || accounts);
    rpc_jw_ledger_fields(q->w, &s, q->rpc->L);
    return 0;
}

int cmd_ledger_closed(req *q)
{
    const jn_header *h = jn_ledger_last(q->rpc->L);
    jt_jw_key(q->w, "ledger_hash");
    jt_jw_hex(q->w, h->hash, 32);
    jt_jw_key(q->w, "ledger_index");
    jt_jw_uint(q->w, h->seq);
    return 0;
}

int cmd_ledger_current(req *q)
{
    jt_jw_key(q->w, "ledger_current_index");
    jt_jw_uint(q->w, jn_ledger_open_seq(q->rpc->L));
    return 0;
}

int cmd_ledger_accept(req *q)
{
    if (!q->cl->admin)
        return rpc_fail(q, "noPermission", NULL);
    char err[1024];
    /* Replies once the new ledger is durable and announced: its last
     * slices go out before the reply. */
    if (jn_closer_close(q->rpc->closer, true, err, sizeof err))
        return rpc_fail(q, "internal", "%s", err);
    rpc_publish_rest(q->rpc);
    jt_jw_key(q->w, "ledger_current_index");
    jt_jw_uint(q->w, jn_ledger_open_seq(q->rpc->L));
    return 0;
}
