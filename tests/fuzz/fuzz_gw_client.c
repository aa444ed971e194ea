/*
 * fuzz_gw_client.c — what a gateway (or anything on its port) sends back,
 * read by libjt's gateway client: the first two bytes choose the HTTP status
 * and the Content-Type, the rest is the body. The answer is mapped to an
 * outcome, then read by every typed helper.
 * Properties: no crash, leak or undefined behaviour; the outcome is one the
 * header documents for that status (JT_OK only for a 2xx); what reaches a
 * jt_errinfo or a typed helper's strings holds no control character; fixed
 * arrays are NUL-terminated; list strings point into the reply's document.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_client.h"
#include "jt/jt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean(const char *s, size_t cap)
{
    if (!s)
        return;
    size_t n = cap ? strnlen(s, cap) : strlen(s);
    if (cap && n == cap)
        abort(); /* not terminated */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

static void check_amount(const jt_gw_amount *a)
{
    check_clean(a->value, 0);
    check_clean(a->currency, 0);
    check_clean(a->issuer, 0);
}

static bool allowed(int status, jt_err e)
{
    switch (e) {
    case JT_OK: return status >= 200 && status < 300;
    case JT_EBADRESPONSE: return status >= 200 && status < 300;
    case JT_EGATEWAY: return true;
    case JT_EAUTH: return status == 401;
    case JT_EFORBIDDEN: return status == 403;
    case JT_ENOTFOUND: return status == 404;
    case JT_ECONFLICT: return status == 409;
    case JT_EREJECTED: return status == 422;
    case JT_ERATELIMIT: return status == 429;
    case JT_EUNAVAILABLE: return status == 502 || status == 503 || status == 504;
    case JT_EBADREQUEST: return status >= 400 && status < 500;
    default: return false;
    }
}

/* A copy of the finished reply's body, for a typed helper to own. */
static jt_gw_reply again(const jt_gw_reply *r, const char *ctype)
{
    jt_gw_reply c = {.status = r->status, .body_len = r->body_len};
    if (r->body) {
        c.body = malloc(r->body_len + 1);
        if (!c.body)
            abort();
        memcpy(c.body, r->body, r->body_len + 1);
    }
    jt_errinfo ei;
    (void)jt__gw_reply_finish(&c, ctype, (size_t)1 << 20, &ei);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const int statuses[] = {200, 201, 202, 204, 301, 400, 401, 403, 404, 405,
                                   409, 413, 418, 422, 429, 500, 502, 503, 504};
    static const char *const ctypes[] = {"application/json", NULL, "text/plain",
                                         "application/problem+json; charset=utf-8"};
    int status = statuses[data[0] % (sizeof statuses / sizeof *statuses)];
    const char *ctype = ctypes[data[1] % (sizeof ctypes / sizeof *ctypes)];
    jt_gw_reply r = {.status = status, .body_len = size - 2};
    if (size > 2) {
        r.body = malloc(size - 1);
        if (!r.body)
            abort();
        memcpy(r.body, data + 2, size - 2);
        r.body[size - 2] = '\0';
    }
    jt_errinfo ei;
    jt_err e = jt__gw_reply_finish(&r, ctype, (size_t)1 << 20, &ei);
    if (!allowed(status, e) || (e && ei.code != e))
        abort();
    if (e) {
        check_clean(ei.field, sizeof ei.field);
        check_clean(ei.msg, sizeof ei.msg);
    }
    const jt_json *root = jt_gw_reply_json(&r);
    if (root) {
        jt_gw_health h;
        if (jt__gw_health_from(root, &h, &ei) == JT_OK) {
            check_clean(h.status, sizeof h.status);
            check_clean(h.node_url, sizeof h.node_url);
            check_clean(h.node_state, sizeof h.node_state);
            check_clean(h.node_error, sizeof h.node_error);
        }
        jt_gw_tx_status st;
        memset(&st, 0, sizeof st);
        if (jt__gw_tx_status_from(root, &st, &ei) == JT_OK) {
            check_clean(st.client_id, sizeof st.client_id);
            check_clean(st.status, sizeof st.status);
            check_clean(st.result, sizeof st.result);
            if (strlen(st.hash) != 64)
                abort();
        }
        jt_gw_balances b = {.reply = again(&r, ctype)};
        if (jt__gw_balances_from(&b, &ei) == JT_OK)
            for (size_t i = 0; i < b.n; i++) {
                check_amount(&b.items[i].amount);
                check_clean(b.items[i].freezed, 0);
            }
        jt_gw_balances_clear(&b);
        jt_gw_history hi = {.reply = again(&r, ctype)};
        if (jt__gw_history_from(&hi, &ei) == JT_OK) {
            check_clean(hi.marker, sizeof hi.marker);
            for (size_t i = 0; i < hi.n; i++) {
                const jt_gw_history_entry *it = &hi.items[i];
                check_clean(it->type, 0);
                check_clean(it->hash, 0);
                check_clean(it->result, 0);
                check_clean(it->account, 0);
                check_clean(it->counterparty, 0);
                check_clean(it->fee, 0);
                check_amount(&it->amount);
                if (!it->entry)
                    abort();
            }
        }
        jt_gw_history_clear(&hi);
    }
    jt_gw_reply_clear(&r);
    return 0;
}
