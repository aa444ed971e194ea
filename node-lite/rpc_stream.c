/*
 * rpc_stream.c — subscriptions (subscribe, unsubscribe) and the messages
 * pushed to subscribers: proposed transactions as they reach the open
 * ledger, closed ledgers and their transactions once durable.
 */
#include "rpc_int.h"

#include <stdlib.h>

/* ---------------------------------------------------------------- subscribe, unsubscribe */

/* The ledger fields of subscribe's result and of ledgerClosed. */
static void jw_ledger_stream(jt_jw *w, jn_ledger *L)
{
    const jn_header *h = jn_ledger_last(L);
    const jn_params *p = jn_ledger_params(L);
    jt_jw_key(w, "fee_base");
    jt_jw_uint(w, p->base_fee);
    jt_jw_key(w, "fee_ref");
    jt_jw_uint(w, 10);
    jt_jw_key(w, "ledger_hash");
    jt_jw_hex(w, h->hash, 32);
    jt_jw_key(w, "ledger_index");
    jt_jw_uint(w, h->seq);
    jt_jw_key(w, "ledger_time");
    jt_jw_uint(w, h->close_time);
    jt_jw_key(w, "reserve_base");
    jt_jw_uint(w, p->reserve_base);
    jt_jw_key(w, "reserve_inc");
    jt_jw_uint(w, p->reserve_inc);
    jt_jw_key(w, "validated_ledgers");
    rpc_jw_validated_ledgers(w, L);
}

static void random_hex(jt_jw *w)
{
    uint8_t r[32] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(r, 1, 32, f) != 32)
            memset(r, 0, 32);
        fclose(f);
    }
    jt_jw_hex(w, r, 32);
}

static int parse_streams(req *q, unsigned *streams)
{
    const jt_json *sv = jt_json_get(q->p, "streams");
    *streams = 0;
    if (!sv)
        return 0;
    if (sv->kind != JT_JSON_ARRAY)
        return rpc_fail(q, "invalidParams", "Invalid field 'streams', not array.");
    for (size_t i = 0; i < sv->u.arr.n; i++) {
        const char *s = jt_json_string(sv->u.arr.items[i]);
        if (!s)
            return rpc_fail(q, "malformedStream", "Stream malformed.");
        if (!strcmp(s, "ledger"))
            *streams |= S_LEDGER;
        else if (!strcmp(s, "server"))
            *streams |= S_SERVER;
        else if (!strcmp(s, "transactions"))
            *streams |= S_TX;
        else if (!strcmp(s, "transactions_proposed") || !strcmp(s, "rt_transactions"))
            *streams |= S_TX_PROPOSED;
        else
            return rpc_fail(q, "unknownStream", "Unknown stream.");
    }
    return 0;
}

static int parse_accounts(req *q, const char *key, jt_account_id **out, size_t *n)
{
    const jt_json *av = jt_json_get(q->p, key);
    *out = NULL;
    *n = 0;
    if (!av)
        return 0;
    if (av->kind != JT_JSON_ARRAY)
        return rpc_fail(q, "invalidParams", "Invalid field '%s', not array.", key);
    if (av->u.arr.n > MAX_SUB_ACCOUNTS)
        return rpc_fail(q, "invalidParams", "At most %d accounts per request.", MAX_SUB_ACCOUNTS);
    jt_account_id *v = calloc(av->u.arr.n ? av->u.arr.n : 1, sizeof *v);
    if (!v)
        return rpc_fail(q, "internal", NULL);
    for (size_t i = 0; i < av->u.arr.n; i++) {
        const char *s = jt_json_string(av->u.arr.items[i]);
        jt_errinfo ei;
        if (!s || jt_address_decode(s, &v[i], &ei) != JT_OK) {
            free(v);
            return rpc_fail(q, "actMalformed", NULL);
        }
    }
    *out = v;
    *n = av->u.arr.n;
    return 0;
}

/* Adds (or removes) accounts to a subscription list. */
static int merge_accounts(jt_account_id **list, size_t *n, const jt_account_id *add, size_t na, bool remove)
{
    for (size_t i = 0; i < na; i++) {
        size_t k;
        for (k = 0; k < *n; k++)
            if (!memcmp(&(*list)[k], &add[i], 20))
                break;
        if (remove) {
            if (k < *n)
                (*list)[k] = (*list)[--*n];
            continue;
        }
        if (k < *n)
            continue;
        if (*n >= MAX_SUB_ACCOUNTS)
            return -1;
        jt_account_id *nl = realloc(*list, (*n + 1) * sizeof **list);
        if (!nl)
            return -1;
        *list = nl;
        (*list)[(*n)++] = add[i];
    }
    return 0;
}

static int sub_common(req *q, bool remove)
{
    unsigned streams;
    jt_account_id *a = NULL, *ap = NULL;
    size_t na = 0, nap = 0;
    if (parse_streams(q, &streams) || parse_accounts(q, "accounts", &a, &na) ||
        parse_accounts(q, "accounts_proposed", &ap, &nap)) {
        free(a);
        free(ap);
        return -1;
    }
    jn_client *c = q->cl;
    int rc = 0;
    if (merge_accounts(&c->accts, &c->n_accts, a, na, remove) ||
        merge_accounts(&c->accts_p, &c->n_accts_p, ap, nap, remove))
        rc = rpc_fail(q, "invalidParams", "At most %d subscribed accounts per connection.", MAX_SUB_ACCOUNTS);
    free(a);
    free(ap);
    if (rc)
        return rc;
    if (remove) {
        c->streams &= ~streams;
        return 0;
    }
    c->streams |= streams;
    jt_jw *w = q->w;
    if (streams & S_LEDGER)
        jw_ledger_stream(w, q->rpc->L);
    if (streams & S_SERVER) {
        jt_jw_key(w, "hostid");
        jt_jw_string(w, q->rpc->hostid);
        jt_jw_key(w, "load_base");
        jt_jw_uint(w, 256);
        jt_jw_key(w, "load_factor");
        jt_jw_uint(w, 256);
        jt_jw_key(w, "pubkey_node");
        jt_jw_string(w, q->rpc->pubkey_node);
        jt_jw_key(w, "random");
        random_hex(w);
        jt_jw_key(w, "server_status");
        jt_jw_string(w, "full");
        jt_jw_key(w, "stand_alone");
        jt_jw_bool(w, true);
    }
    return 0;
}

int cmd_subscribe(req *q)
{
    return sub_common(q, false);
}

int cmd_unsubscribe(req *q)
{
    return sub_common(q, true);
}

/* ---------------------------------------------------------------- pushed messages */

static bool wants_accounts(const jt_account_id *list, size_t n, const jt_account_id *accts, size_t na)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < na; k++)
            if (!memcmp(&list[i], &accts[k], 20))
                return true;
    return false;
}

void rpc_publish_proposed(jn_rpc *r, const jt_obj *tx, const uint8_t id[32], int ter)
{
    jt_account_id accts[64];
    size_t na = jn_tx_accounts(tx, NULL, accts, 64);
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jw_engine_result(&w, ter);
    jt_jw_key(&w, "ledger_current_index");
    jt_jw_uint(&w, jn_ledger_open_seq(r->L));
    jt_jw_key(&w, "status");
    jt_jw_string(&w, "proposed");
    jt_jw_key(&w, "transaction");
    rpc_jw_tx(&w, tx, id, NULL, false);
    jt_jw_key(&w, "type");
    jt_jw_string(&w, "transaction");
    jt_jw_key(&w, "validated");
    jt_jw_bool(&w, false);
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        for (jn_client *c = r->clients; c; c = c->next)
            if ((c->streams & S_TX_PROPOSED) || wants_accounts(c->accts_p, c->n_accts_p, accts, na))
                send_buf(c, &b);
    jt_buf_clear(&b);
}

/* Announces a ledger that has just become durable (from the closer). */
void rpc_publish_closed(void *ctx, const jn_txlist *closed)
{
    jn_rpc *r = ctx;
    if (!r->clients)
        return;
    const jn_header *h = jn_ledger_last(r->L);
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jw_ledger_stream(&w, r->L);
    jt_jw_key(&w, "txn_count");
    jt_jw_uint(&w, closed->n);
    jt_jw_key(&w, "type");
    jt_jw_string(&w, "ledgerClosed");
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        for (jn_client *c = r->clients; c; c = c->next)
            if (c->streams & S_LEDGER)
                send_buf(c, &b);
    jt_buf_clear(&b);

    bool any = false;
    for (jn_client *c = r->clients; c; c = c->next)
        if ((c->streams & S_TX) || c->n_accts)
            any = true;
    for (size_t i = 0; any && i < closed->n; i++) {
        const jn_tx *t = closed->v[i];
        jt_buf_init(&b);
        jt_jw_init(&w, &b);
        jt_jw_object_begin(&w);
        jw_engine_result(&w, t->ter);
        jt_jw_key(&w, "ledger_hash");
        jt_jw_hex(&w, h->hash, 32);
        jt_jw_key(&w, "ledger_index");
        jt_jw_uint(&w, h->seq);
        jt_jw_key(&w, "meta");
        jt_obj *meta = NULL;
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        if (jt_obj_from_binary(t->meta_blob, t->meta_len, &meta, &ei) == JT_OK)
            rpc_jw_meta(&w, meta, t->tx);
        else
            jt_jw_null(&w);
        jt_obj_free(meta);
        jt_jw_key(&w, "status");
        jt_jw_string(&w, "closed");
        jt_jw_key(&w, "transaction");
        rpc_jw_tx(&w, t->tx, t->id, h, false);
        jt_jw_key(&w, "type");
        jt_jw_string(&w, "transaction");
        jt_jw_key(&w, "validated");
        jt_jw_bool(&w, true);
        jt_jw_object_end(&w);
        if (jt_jw_finish(&w) == JT_OK)
            for (jn_client *c = r->clients; c; c = c->next)
                if ((c->streams & S_TX) || wants_accounts(c->accts, c->n_accts, t->accts, t->n_accts))
                    send_buf(c, &b);
        jt_buf_clear(&b);
    }
}
