/*
 * cmd_book.c — the command that reads an order book: book_offers.
 */
#include "rpc_int.h"

#include <stdlib.h>

static int parse_book_side(req *q, const char *key, jt_amount *out, const char *cur_err, const char *iss_err)
{
    const jt_json *v = jt_json_get(q->p, key);
    if (!v || v->kind != JT_JSON_OBJECT)
        return rpc_fail(q, "invalidParams", "Missing field '%s'.", key);
    const char *c = jt_json_string(jt_json_get(v, "currency"));
    const jt_json *iv = jt_json_get(v, "issuer");
    const char *i = iv ? jt_json_string(iv) : NULL;
    memset(out, 0, sizeof *out);
    jt_errinfo ei;
    if (!c || jt_currency_from_text(c, true, &out->currency, &ei) != JT_OK)
        return rpc_fail(q, cur_err, "Invalid field '%s.currency'.", key);
    bool swt = jt_currency_is_swt(&out->currency);
    if (swt) {
        if (i && *i)
            return rpc_fail(q, iss_err, "Invalid field '%s.issuer', expected empty for SWT.", key);
        out->native = true;
        return 0;
    }
    if (!i || jt_address_decode(i, &out->issuer, &ei) != JT_OK)
        return rpc_fail(q, iss_err, "Invalid field '%s.issuer'.", key);
    return 0;
}

int cmd_book_offers(req *q)
{
    jt_amount pays, gets;
    lsel s;
    if (parse_book_side(q, "taker_pays", &pays, "srcCurMalformed", "srcIsrMalformed") ||
        parse_book_side(q, "taker_gets", &gets, "dstAmtMalformed", "dstIsrMalformed"))
        return -1;
    if (jn_same_asset(&pays, &gets))
        return rpc_fail(q, "badMarket", NULL);
    if (jt_json_get(q->p, "taker")) {
        jt_account_id t;
        if (!rpc_param_account(q, "taker", &t, false))
            return rpc_fail(q, "invalidParams", "Invalid field 'taker'.");
    }
    if (rpc_select_ledger(q, &s, true) || need_state(q, &s))
        return -1;
    unsigned limit = rpc_param_limit(q, 200, 1, 400);
    const jn_params *p = jn_ledger_params(q->rpc->L);
    const jn_env env = {.reserve_base = p->reserve_base, .reserve_inc = p->reserve_inc};
    jn_book_cursor bc;
    jn_book_cursor_init(&bc, &pays, &gets);
    jt_jw *w = q->w;
    rpc_jw_ledger_fields(w, &s, q->rpc->L);
    jt_jw_key(w, "offers");
    jt_jw_array_begin(w);
    /* Funds are consumed offer by offer, per owner. */
    jt_account_id seen[64];
    jt_amount left[64];
    size_t nseen = 0;
    uint8_t id[32];
    const jt_obj *o;
    uint64_t quality;
    for (unsigned i = 0; i < limit && jn_book_next(s.v, &bc, id, &o, &quality);) {
        if (!o)
            continue;
        i++;
        jt_account_id owner;
        jt_amount og, op;
        if (jt_obj_get_account_f(o, FLD("Account"), &owner) || jt_obj_get_amount_f(o, FLD("TakerGets"), &og) ||
            jt_obj_get_amount_f(o, FLD("TakerPays"), &op))
            continue;
        size_t k;
        for (k = 0; k < nseen && memcmp(&seen[k], &owner, 20); k++)
            ;
        bool first = k == nseen;
        jt_amount funds;
        bool limited;
        if (first) {
            limited = jn_read_funds(s.v, &env, &owner, &og, &funds);
            if (nseen < 64) {
                seen[nseen] = owner;
                left[nseen] = funds;
                if (!limited)
                    left[nseen].mantissa = 0, left[nseen].negative = true; /* marker: unlimited */
                nseen++;
            }
        } else {
            funds = left[k];
            limited = !(funds.negative && funds.mantissa == 0);
        }
        extra e;
        extra_begin(&e);
        char qt[64];
        if (first) {
            jt_jw_key(&e.w, "owner_funds");
            if (limited)
                jw_value_text(&e.w, &funds);
            else
                jw_value_text(&e.w, &og);
        }
        (void)jt_amount_quality_text(quality, qt, sizeof qt);
        jt_jw_key(&e.w, "quality");
        jt_jw_string(&e.w, qt);
        if (limited && jt_amount_cmp(&funds, &og) < 0) {
            jt_amount fp;
            jt_jw_key(&e.w, "taker_gets_funded");
            jw_amount(&e.w, &funds);
            if (!jt_amount_mul_quality(&funds, quality, &op, false, &fp)) {
                jt_jw_key(&e.w, "taker_pays_funded");
                jw_amount(&e.w, &fp);
            }
        }
        if (limited && k < 64) {
            jt_amount rest;
            if (!jt_amount_sub(&funds, &og, &rest) && jt_amount_sign(&rest) < 0)
                jt_amount_zero_like(&rest, &og);
            left[k] = rest;
        }
        jt_jw_key(&e.w, "index");
        jt_jw_hex(&e.w, id, 32);
        jw_obj_plus(w, o, extra_end(&e));
        extra_free(&e);
    }
    jt_jw_array_end(w);
    return 0;
}
