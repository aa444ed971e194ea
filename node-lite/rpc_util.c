/*
 * rpc_util.c — what the commands share: request parameters, the choice of
 * ledger a request names, and the JSON of transactions and metadata.
 */
#include "rpc_int.h"

/* ---------------------------------------------------------------- JSON */

static bool is_payment(const jt_obj *tx)
{
    uint64_t t;
    return jt_obj_get_uint_f(tx, FLD("TransactionType"), &t) == JT_OK && t == JT_TX_PAYMENT;
}

void rpc_jw_tx(jt_jw *w, const jt_obj *tx, const uint8_t id[32], const jn_header *h, bool in_ledger)
{
    /* Written in place: every submit reply carries one. */
    jt_jw_object_begin(w);
    jt_obj_write_json_members(tx, w);
    if (h) {
        jt_jw_key(w, "date");
        jt_jw_uint(w, h->close_time);
    }
    jt_jw_key(w, "hash");
    jt_jw_hex(w, id, 32);
    if (h && in_ledger) {
        jt_jw_key(w, "inLedger");
        jt_jw_uint(w, h->seq);
        jt_jw_key(w, "ledger_index");
        jt_jw_uint(w, h->seq);
    }
    jt_jw_object_end(w);
}

void rpc_jw_meta(jt_jw *w, const jt_obj *meta, const jt_obj *tx)
{
    if (!is_payment(tx)) {
        jw_obj_plus(w, meta, NULL);
        return;
    }
    jt_amount d;
    uint64_t res = 0;
    if (jt_obj_get_amount_f(meta, FLD("DeliveredAmount"), &d) != JT_OK) {
        if (jt_obj_get_amount_f(tx, FLD("Amount"), &d) != JT_OK)
            memset(&d, 0, sizeof d), d.native = true;
        if (jt_obj_get_uint_f(meta, FLD("TransactionResult"), &res) == JT_OK && res != 0)
            jt_amount_zero_like(&d, &d);
    }
    extra e;
    extra_begin(&e);
    jt_jw_key(&e.w, "delivered_amount");
    jw_amount(&e.w, &d);
    jw_obj_plus(w, meta, extra_end(&e));
    extra_free(&e);
}

/* ---------------------------------------------------------------- parameters */

/* One side of a book: {"currency", "issuer"}; SWT with an empty or no
 * issuer, any other currency with an issuer that is not ACCOUNT_ONE. */
static int book_side(req *q, const jt_json *book, const char *key, jt_amount *out,
                     const char *cur_err, const char *iss_err)
{
    const jt_json *v = jt_json_get(book, key);
    if (!v || v->kind != JT_JSON_OBJECT)
        return rpc_fail(q, "invalidParams", "Missing field '%s'.", key);
    const jt_json *cv = jt_json_get(v, "currency");
    const char *c = jt_json_string(cv);
    if (!c)
        return rpc_fail(q, cv ? cur_err : "invalidParams", cv ? "Invalid field '%s.currency'." : "Missing field '%s.currency'.", key);
    const jt_json *iv = jt_json_get(v, "issuer");
    const char *i = iv ? jt_json_string(iv) : NULL;
    memset(out, 0, sizeof *out);
    jt_errinfo ei;
    if (jt_currency_from_text(c, true, &out->currency, &ei) != JT_OK)
        return rpc_fail(q, cur_err, "Invalid field '%s.currency', bad currency.", key);
    if (iv && !i)
        return rpc_fail(q, iss_err, "Invalid field '%s.issuer', not a string.", key);
    if (jt_currency_is_swt(&out->currency)) {
        if (i && *i)
            return rpc_fail(q, iss_err, "Unneeded field '%s.issuer' for SWT currency specification.", key);
        out->native = true;
        return 0;
    }
    if (!i || !*i)
        return rpc_fail(q, iss_err, "Invalid field '%s.issuer', expected non-SWT issuer.", key);
    if (jt_address_decode(i, &out->issuer, &ei) != JT_OK ||
        !memcmp(&out->issuer, &JT_ACCOUNT_ONE, sizeof out->issuer))
        return rpc_fail(q, iss_err, "Invalid field '%s.issuer', bad issuer.", key);
    return 0;
}

int rpc_param_book(req *q, const jt_json *book, jt_amount *pays, jt_amount *gets,
                   jt_account_id *taker, const char *taker_err)
{
    if (book_side(q, book, "taker_pays", pays, "srcCurMalformed", "srcIsrMalformed") ||
        book_side(q, book, "taker_gets", gets, "dstAmtMalformed", "dstIsrMalformed"))
        return -1;
    *taker = JT_ACCOUNT_ONE;
    const jt_json *tv = jt_json_get(book, "taker");
    if (tv) {
        const char *t = jt_json_string(tv);
        jt_errinfo ei;
        if (!t || jt_address_decode(t, taker, &ei) != JT_OK)
            return rpc_fail(q, taker_err, "Invalid field 'taker'.");
    }
    if (jn_same_asset(pays, gets))
        return rpc_fail(q, "badMarket", NULL);
    return 0;
}

bool rpc_param_account(req *q, const char *key, jt_account_id *a, bool required)
{
    const jt_json *v = jt_json_get(q->p, key);
    if (!v) {
        if (required)
            rpc_fail(q, "invalidParams", "Missing field '%s'.", key);
        return false;
    }
    const char *s = jt_json_string(v);
    jt_errinfo ei;
    if (!s || jt_address_decode(s, a, &ei) != JT_OK) {
        rpc_fail(q, "actMalformed", NULL);
        return false;
    }
    return true;
}

unsigned rpc_param_limit(req *q, unsigned dflt, unsigned lo, unsigned hi)
{
    const jt_json *v = jt_json_get(q->p, "limit");
    uint64_t n;
    if (!v || !jt_json_uint64(v, true, &n))
        return dflt;
    if (n < lo)
        return lo;
    if (n > hi)
        return hi;
    return (unsigned)n;
}

/* ---------------------------------------------------------------- ledger selection */

int rpc_select_ledger(req *q, lsel *s, bool dflt_current)
{
    jn_ledger *L = q->rpc->L;
    const jt_json *hv = jt_json_get(q->p, "ledger_hash");
    const jt_json *iv = jt_json_get(q->p, "ledger_index");
    memset(s, 0, sizeof *s);
    if (hv && hv->kind != JT_JSON_NULL) {
        const char *t = jt_json_string(hv);
        uint8_t h[32];
        size_t n;
        if (!t || jt_hex_decode(t, strlen(t), h, 32, &n) != JT_OK || n != 32)
            return rpc_fail(q, "invalidParams", "ledgerHashMalformed");
        if (!memcmp(h, jn_ledger_last(L)->hash, 32))
            goto closed;
        if (jn_store_header_by_hash(jn_ledger_store(L), h, &s->h))
            return rpc_fail(q, "lgrNotFound", "ledgerNotFound");
        s->kind = 2;
        return 0;
    }
    if (!iv || iv->kind == JT_JSON_NULL) {
        if (dflt_current)
            goto open;
        goto closed;
    }
    const char *t = jt_json_string(iv);
    if (t && !strcmp(t, "current"))
        goto open;
    if (t && (!strcmp(t, "closed") || !strcmp(t, "validated")))
        goto closed;
    uint64_t seq;
    if (!jt_json_uint64(iv, true, &seq))
        return rpc_fail(q, "invalidParams", "ledgerIndexMalformed");
    if (seq == jn_ledger_open_seq(L))
        goto open;
    if (seq == jn_ledger_last(L)->seq)
        goto closed;
    if (seq > UINT32_MAX || jn_store_header_by_seq(jn_ledger_store(L), (uint32_t)seq, &s->h))
        return rpc_fail(q, "lgrNotFound", "ledgerNotFound");
    s->kind = 2;
    return 0;
open:
    s->kind = 0;
    s->v = jn_ledger_open_view(L);
    return 0;
closed:
    s->kind = 1;
    s->h = *jn_ledger_last(L);
    s->v = jn_ledger_closed_view(L);
    return 0;
}

void rpc_jw_ledger_fields(jt_jw *w, const lsel *s, jn_ledger *L)
{
    if (s->kind == 0) {
        jt_jw_key(w, "ledger_current_index");
        jt_jw_uint(w, jn_ledger_open_seq(L));
        jt_jw_key(w, "validated");
        jt_jw_bool(w, false);
    } else {
        jt_jw_key(w, "ledger_hash");
        jt_jw_hex(w, s->h.hash, 32);
        jt_jw_key(w, "ledger_index");
        jt_jw_uint(w, s->h.seq);
        jt_jw_key(w, "validated");
        jt_jw_bool(w, true);
    }
}

void rpc_jw_validated_ledgers(jt_jw *w, jn_ledger *L)
{
    char range[48];
    snprintf(range, sizeof range, "%" PRIu32 "-%" PRIu32, jn_ledger_first_seq(L), jn_ledger_last(L)->seq);
    jt_jw_string(w, range);
}

