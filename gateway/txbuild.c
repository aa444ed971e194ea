/*
 * txbuild.c — REST bodies to transactions (txbuild.h).
 */
#include "txbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jt/base58.h>
#include <jt/flags.h>
#include <jt/memo.h>
#include <jt/util.h>

#define TF_PASSIVE 0x00010000u
#define TF_IOC 0x00020000u
#define TF_FOK 0x00040000u
#define TF_SELL 0x00080000u
#define ASF_REQUIRE_DEST 1
#define ASF_REQUIRE_AUTH 2
#define ASF_DISALLOW_SWT 3
#define ASF_NO_FREEZE 6
#define ASF_GLOBAL_FREEZE 7
#define REL_AUTHORIZE 1
#define REL_FREEZE 3

static int fail(gw_txerr *e, const char *field, const char *msg)
{
    snprintf(e->field, sizeof e->field, "%s", field);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    return -1;
}

int gw_check_fields(const jt_json *v, const char *where, const char *const *allowed, gw_txerr *e)
{
    if (!v || v->kind != JT_JSON_OBJECT)
        return fail(e, where, "must be an object");
    for (size_t i = 0; i < v->u.obj.n; i++) {
        bool ok = false;
        for (size_t j = 0; allowed[j] && !ok; j++)
            ok = !strcmp(v->u.obj.keys[i], allowed[j]);
        if (!ok) {
            char f[64];
            snprintf(f, sizeof f, "%s%s%.40s", where, where[0] ? "." : "", v->u.obj.keys[i]);
            return fail(e, f, "unknown field");
        }
    }
    return 0;
}

static const char *str_of(const jt_json *obj, const char *key)
{
    return jt_json_string(jt_json_get(obj, key));
}

int gw_amount_parse(const jt_json *v, const char *field, bool allow_swt, jt_amount *a, gw_txerr *e)
{
    static const char *const keys[] = {"value", "currency", "issuer", NULL};
    if (gw_check_fields(v, field, keys, e))
        return -1;
    const char *value = str_of(v, "value");
    const char *cur = str_of(v, "currency");
    const char *issuer = str_of(v, "issuer");
    char f[64];
    jt_errinfo ei;
    memset(&ei, 0, sizeof ei);
    if (!value) {
        snprintf(f, sizeof f, "%s.value", field);
        return fail(e, f, "is required: a decimal string");
    }
    if (!cur) {
        snprintf(f, sizeof f, "%s.currency", field);
        return fail(e, f, "is required (\"SWT\" or a 3-6 character code)");
    }
    if (!strcmp(cur, "SWT")) {
        if (!allow_swt) {
            snprintf(f, sizeof f, "%s.currency", field);
            return fail(e, f, "cannot be SWT here");
        }
        if (issuer && issuer[0]) {
            snprintf(f, sizeof f, "%s.issuer", field);
            return fail(e, f, "must be empty for SWT");
        }
        if (jt_amount_from_swt(a, value, 0, &ei) != JT_OK) {
            snprintf(f, sizeof f, "%s.value", field);
            return fail(e, f, ei.msg);
        }
        return 0;
    }
    if (!issuer || !jt_address_is_valid(issuer)) {
        snprintf(f, sizeof f, "%s.issuer", field);
        return fail(e, f, "must be the issuing account's address");
    }
    if (jt_amount_issued(a, value, cur, issuer, 0, &ei) != JT_OK) {
        snprintf(f, sizeof f, "%s.%s", field, ei.code == JT_ECURRENCY ? "currency" : "value");
        return fail(e, f, ei.msg);
    }
    return 0;
}

void gw_amount_write(jt_jw *w, const jt_amount *a)
{
    char text[JT_AMOUNT_TEXT_MAX];
    jt_jw_object_begin(w);
    jt_jw_key(w, "value");
    if (a->native) {
        jt_amount_swt_text(a, text, sizeof text);
        jt_jw_string(w, text);
        jt_jw_key(w, "currency");
        jt_jw_string(w, "SWT");
        jt_jw_key(w, "issuer");
        jt_jw_string(w, "");
    } else {
        jt_amount_value_text(a, text, sizeof text);
        jt_jw_string(w, text);
        char cur[JT_CURRENCY_TEXT_MAX], iss[JT_ADDRESS_MAX];
        jt_currency_to_text(&a->currency, cur);
        jt_address_encode(&a->issuer, iss);
        jt_jw_key(w, "currency");
        jt_jw_string(w, cur);
        jt_jw_key(w, "issuer");
        jt_jw_string(w, iss);
    }
    jt_jw_object_end(w);
}

static int set_type(jt_obj *tx, const char *name, gw_txerr *e)
{
    int code = jt_tx_type_by_name(name);
    if (code < 0 || jt_obj_set_uint(tx, "TransactionType", (uint64_t)code) != JT_OK)
        return fail(e, "", "internal: cannot set TransactionType");
    return 0;
}

static int set_account(jt_obj *tx, const char *fname, const char *addr, const char *field,
                       gw_txerr *e)
{
    jt_account_id id;
    jt_errinfo ei;
    if (!addr || jt_address_decode(addr, &id, &ei) != JT_OK)
        return fail(e, field, "must be an account address");
    if (jt_obj_set_account(tx, fname, &id) != JT_OK)
        return fail(e, field, "internal: cannot set the account");
    return 0;
}

static int uint_of(const jt_json *v, const char *field, uint64_t max, uint64_t *out, gw_txerr *e)
{
    if (!v || !jt_json_uint64(v, true, out) || *out > max) {
        char m[64];
        snprintf(m, sizeof m, "must be a whole number from 0 to %llu", (unsigned long long)max);
        return fail(e, field, m);
    }
    return 0;
}

int gw_memos_parse(const jt_json *memos, gw_memo *out, size_t *n, gw_txerr *e)
{
    static const char *const keys[] = {"type", "format", "data", NULL};
    *n = 0;
    if (memos->kind != JT_JSON_ARRAY)
        return fail(e, "payment.memos", "must be an array");
    if (memos->u.arr.n > GW_MEMOS_MAX)
        return fail(e, "payment.memos", "at most 8 memos");
    for (size_t i = 0; i < memos->u.arr.n; i++) {
        const jt_json *m = memos->u.arr.items[i];
        char where[40];
        snprintf(where, sizeof where, "payment.memos[%zu]", i);
        if (gw_check_fields(m, where, keys, e))
            return -1;
        static const char *const parts[] = {"type", "format", "data"};
        const uint8_t *p[3] = {NULL, NULL, NULL};
        size_t len[3] = {0, 0, 0};
        for (size_t k = 0; k < 3; k++) {
            const jt_json *pv = jt_json_get(m, parts[k]);
            if (!pv)
                continue;
            if (pv->kind != JT_JSON_STRING || pv->u.str.len > GW_MEMO_MAX) {
                char f[64];
                snprintf(f, sizeof f, "%s.%s", where, parts[k]);
                return fail(e, f, "must be a string of at most 1024 bytes");
            }
            p[k] = (const uint8_t *)pv->u.str.s;
            len[k] = pv->u.str.len;
        }
        out[i] = (gw_memo){p[0], len[0], p[1], len[1], p[2], len[2]};
    }
    *n = memos->u.arr.n;
    return 0;
}

int gw_tx_set_memos(jt_obj *tx, const gw_memo *memos, size_t n, gw_txerr *e)
{
    jt_buf js;
    jt_buf_init(&js);
    jt_jw w;
    jt_jw_init(&w, &js);
    jt_jw_array_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const gw_memo *m = &memos[i];
        jt_jw_object_begin(&w);
        jt_jw_key(&w, "Memo");
        jt_jw_object_begin(&w);
        /* Present but empty parts are kept: an empty field is a field. */
        if (m->type) {
            jt_jw_key(&w, "MemoType");
            jt_jw_hex(&w, m->type, m->type_len);
        }
        if (m->format) {
            jt_jw_key(&w, "MemoFormat");
            jt_jw_hex(&w, m->format, m->format_len);
        }
        if (m->data) {
            jt_jw_key(&w, "MemoData");
            jt_jw_hex(&w, m->data, m->data_len);
        }
        jt_jw_object_end(&w);
        jt_jw_object_end(&w);
    }
    jt_jw_array_end(&w);
    int rc = 0;
    if (jt_jw_finish(&w) != JT_OK)
        rc = fail(e, "", "out of memory");
    if (!rc) {
        jt_json_doc *doc;
        jt_errinfo ei;
        jt_json_limits lim = {.max_bytes = 1 << 20, .max_depth = 8, .max_items = 1000};
        if (jt_json_parse((const char *)js.data, js.len, &lim, &doc, &ei) != JT_OK) {
            rc = fail(e, "payment.memos", "cannot be encoded");
        } else {
            if (jt_obj_set_json(tx, "Memos", jt_json_root(doc), &ei) != JT_OK)
                rc = fail(e, "payment.memos", ei.msg);
            jt_json_doc_free(doc);
        }
    }
    jt_buf_clear(&js);
    return rc;
}

int gw_payment_encrypt_memos(const jt_json *p, bool *encrypt, gw_txerr *e)
{
    const jt_json *enc = jt_json_get(p, "encrypt_memos");
    *encrypt = false;
    if (!enc)
        return 0;
    if (enc->kind != JT_JSON_BOOL)
        return fail(e, "payment.encrypt_memos", "must be true or false");
    *encrypt = enc->u.b;
    return 0;
}

int gw_tx_payment(const jt_json *p, jt_obj *tx, gw_txerr *e)
{
    static const char *const keys[] = {"destination", "amount",     "send_max",
                                       "memos",       "encrypt_memos", "destination_tag",
                                       "invoice_id",  "paths",      NULL};
    if (gw_check_fields(p, "payment", keys, e) || set_type(tx, "Payment", e) ||
        set_account(tx, "Destination", str_of(p, "destination"), "payment.destination", e))
        return -1;
    jt_amount amt;
    if (!jt_json_get(p, "amount"))
        return fail(e, "payment.amount", "is required");
    if (gw_amount_parse(jt_json_get(p, "amount"), "payment.amount", true, &amt, e))
        return -1;
    if (amt.mantissa == 0)
        return fail(e, "payment.amount.value", "must be more than zero");
    if (jt_obj_set_amount(tx, "Amount", &amt) != JT_OK)
        return fail(e, "payment.amount", "cannot be encoded");
    const jt_json *sm = jt_json_get(p, "send_max");
    if (sm) {
        jt_amount a;
        if (gw_amount_parse(sm, "payment.send_max", true, &a, e))
            return -1;
        if (jt_obj_set_amount(tx, "SendMax", &a) != JT_OK)
            return fail(e, "payment.send_max", "cannot be encoded");
    }
    const jt_json *dt = jt_json_get(p, "destination_tag");
    if (dt) {
        uint64_t t;
        if (uint_of(dt, "payment.destination_tag", UINT32_MAX, &t, e) ||
            jt_obj_set_uint(tx, "DestinationTag", t) != JT_OK)
            return -1;
    }
    const char *inv = str_of(p, "invoice_id");
    if (jt_json_get(p, "invoice_id")) {
        uint8_t h[32];
        size_t hl = 0;
        if (!inv || strlen(inv) != 64 || jt_hex_decode(inv, 64, h, 32, &hl) != JT_OK || hl != 32 ||
            jt_obj_set_bytes(tx, "InvoiceID", h, 32) != JT_OK)
            return fail(e, "payment.invoice_id", "must be 64 hex digits");
    }
    const jt_json *paths = jt_json_get(p, "paths");
    if (paths) {
        jt_errinfo ei;
        if (jt_obj_set_json(tx, "Paths", paths, &ei) != JT_OK)
            return fail(e, "payment.paths", ei.msg);
    }
    bool encrypt;
    if (gw_payment_encrypt_memos(p, &encrypt, e))
        return -1;
    const jt_json *memos = jt_json_get(p, "memos");
    if (memos) {
        gw_memo m[GW_MEMOS_MAX];
        size_t n;
        if (gw_memos_parse(memos, m, &n, e))
            return -1;
        /* Sealed memos are the caller's (memo.h): never set in the clear. */
        if (!encrypt && n && gw_tx_set_memos(tx, m, n, e))
            return -1;
    }
    return 0;
}

/* "CUR" or "CUR:issuer" (SWT takes no issuer). */
static int parse_side(const char *text, size_t n, const char *field, jt_currency *cur,
                      jt_account_id *issuer, bool *swt, gw_txerr *e)
{
    char buf[96];
    if (n == 0 || n >= sizeof buf)
        return fail(e, field, "must be BASE[:issuer]/COUNTER[:issuer]");
    memcpy(buf, text, n);
    buf[n] = 0;
    char *colon = strchr(buf, ':');
    if (colon)
        *colon = 0;
    jt_errinfo ei;
    if (jt_currency_from_text(buf, true, cur, &ei) != JT_OK)
        return fail(e, field, ei.msg);
    *swt = jt_currency_is_swt(cur);
    if (*swt) {
        if (colon)
            return fail(e, field, "SWT takes no issuer");
        memset(issuer, 0, sizeof *issuer);
        return 0;
    }
    if (!colon || jt_address_decode(colon + 1, issuer, &ei) != JT_OK)
        return fail(e, field, "a token needs its issuer: CUR:jIssuer…");
    return 0;
}

/* value × price, both decimal strings, as an amount of `cur`/`issuer`. */
static int times_price(const jt_amount *base, const char *price, const jt_currency *cur,
                       const jt_account_id *issuer, bool swt, jt_amount *out, gw_txerr *e)
{
    bool neg;
    uint64_t pm;
    int32_t pe;
    jt_errinfo ei;
    if (jt_amount_parse_value(price, 0, &neg, &pm, &pe, &ei) != JT_OK || pm == 0)
        return fail(e, "order.price", "must be a positive decimal string");
    /* base as mantissa/exponent in the issued scale (SWT: drops × 10^-6). */
    uint64_t bm = base->mantissa;
    int32_t be = base->native ? -6 : base->exponent;
    /* 128-bit product, cut to 16 significant digits (rounded down: the
     * taker is never asked for more than the price says). */
    unsigned __int128 prod = (unsigned __int128)bm * pm;
    int32_t exp = be + pe;
    while (prod > (unsigned __int128)JT_MAX_MANTISSA) {
        prod /= 10;
        exp++;
    }
    uint64_t m = (uint64_t)prod;
    memset(out, 0, sizeof *out);
    if (swt) {
        /* drops = m × 10^(exp+6) */
        int32_t de = exp + 6;
        while (de < 0) {
            m /= 10;
            de++;
        }
        while (de > 0) {
            if (m > JT_MAX_NATIVE_DROPS / 10)
                return fail(e, "order.price", "gives an SWT total that is too large");
            m *= 10;
            de--;
        }
        if (m == 0 || m > JT_MAX_NATIVE_DROPS)
            return fail(e, "order.price", "gives an SWT total out of range");
        out->native = true;
        out->mantissa = m;
        return 0;
    }
    while (m && m < JT_MIN_MANTISSA) {
        m *= 10;
        exp--;
    }
    if (m == 0 || exp < JT_MIN_EXPONENT || exp > JT_MAX_EXPONENT)
        return fail(e, "order.price", "gives a total out of range");
    out->mantissa = m;
    out->exponent = exp;
    out->currency = *cur;
    out->issuer = *issuer;
    return 0;
}

int gw_tx_order(const jt_json *o, jt_obj *tx, gw_txerr *e)
{
    static const char *const keys[] = {"type", "pair", "amount", "price", "flags", NULL};
    if (gw_check_fields(o, "order", keys, e) || set_type(tx, "OfferCreate", e))
        return -1;
    const char *type = str_of(o, "type");
    if (!type || (strcmp(type, "buy") && strcmp(type, "sell")))
        return fail(e, "order.type", "must be \"buy\" or \"sell\"");
    const char *pair = str_of(o, "pair");
    const char *slash = pair ? strchr(pair, '/') : NULL;
    if (!slash)
        return fail(e, "order.pair", "must be BASE[:issuer]/COUNTER[:issuer]");
    jt_currency bc, cc;
    jt_account_id bi, ci;
    bool bswt, cswt;
    if (parse_side(pair, (size_t)(slash - pair), "order.pair", &bc, &bi, &bswt, e) ||
        parse_side(slash + 1, strlen(slash + 1), "order.pair", &cc, &ci, &cswt, e))
        return -1;
    if (bswt && cswt)
        return fail(e, "order.pair", "needs two different currencies");
    const char *amount = str_of(o, "amount");
    const char *price = str_of(o, "price");
    if (!amount)
        return fail(e, "order.amount", "is required: how much of BASE, a decimal string");
    if (!price)
        return fail(e, "order.price", "is required: COUNTER per BASE, a decimal string");
    jt_amount base, counter;
    jt_errinfo ei;
    if (bswt) {
        if (jt_amount_from_swt(&base, amount, 0, &ei) != JT_OK)
            return fail(e, "order.amount", ei.msg);
    } else {
        char iss[JT_ADDRESS_MAX], cur[JT_CURRENCY_TEXT_MAX];
        jt_address_encode(&bi, iss);
        jt_currency_to_text(&bc, cur);
        if (jt_amount_issued(&base, amount, cur, iss, 0, &ei) != JT_OK)
            return fail(e, "order.amount", ei.msg);
    }
    if (base.mantissa == 0)
        return fail(e, "order.amount", "must be more than zero");
    if (times_price(&base, price, &cc, &ci, cswt, &counter, e))
        return -1;
    /* sell BASE: the taker pays COUNTER and gets BASE. */
    bool sell = !strcmp(type, "sell");
    if (jt_obj_set_amount(tx, "TakerPays", sell ? &counter : &base) != JT_OK ||
        jt_obj_set_amount(tx, "TakerGets", sell ? &base : &counter) != JT_OK)
        return fail(e, "order", "cannot be encoded");
    uint64_t flags = sell ? TF_SELL : 0;
    const jt_json *fl = jt_json_get(o, "flags");
    if (fl) {
        if (fl->kind != JT_JSON_ARRAY)
            return fail(e, "order.flags", "must be an array of names");
        for (size_t i = 0; i < fl->u.arr.n; i++) {
            const char *f = jt_json_string(fl->u.arr.items[i]);
            if (f && !strcmp(f, "passive"))
                flags |= TF_PASSIVE;
            else if (f && !strcmp(f, "immediate_or_cancel"))
                flags |= TF_IOC;
            else if (f && !strcmp(f, "fill_or_kill"))
                flags |= TF_FOK;
            else
                return fail(e, "order.flags",
                            "knows \"passive\", \"immediate_or_cancel\", \"fill_or_kill\"");
        }
    }
    if (flags && jt_obj_set_uint(tx, "Flags", flags) != JT_OK)
        return fail(e, "order.flags", "cannot be encoded");
    return 0;
}

int gw_tx_cancel(uint64_t seq, jt_obj *tx, gw_txerr *e)
{
    if (set_type(tx, "OfferCancel", e))
        return -1;
    if (seq == 0 || seq > UINT32_MAX || jt_obj_set_uint(tx, "OfferSequence", seq) != JT_OK)
        return fail(e, "sequence", "must be the offer's sequence number");
    return 0;
}

int gw_tx_relation(const jt_json *b, bool del, jt_obj *tx, gw_txerr *e)
{
    static const char *const keys[] = {"client_id", "type", "amount", "counterparty", NULL};
    static const char *const lkeys[] = {"limit", "currency", "issuer", NULL};
    if (gw_check_fields(b, "", keys, e))
        return -1;
    const char *type = str_of(b, "type");
    const jt_json *amt = jt_json_get(b, "amount");
    if (!type)
        return fail(e, "type", "is required");
    if (!amt)
        return fail(e, "amount", "is required: {limit, currency, issuer}");
    if (gw_check_fields(amt, "amount", lkeys, e))
        return -1;
    const char *limit = str_of(amt, "limit");
    const char *cur = str_of(amt, "currency");
    const char *iss = str_of(amt, "issuer");
    if (!limit)
        return fail(e, "amount.limit", "is required: a decimal string");
    if (!cur || !strcmp(cur, "SWT"))
        return fail(e, "amount.currency", "must be a token's code (not SWT)");
    if (!iss || !jt_address_is_valid(iss))
        return fail(e, "amount.issuer", "must be the issuing account's address");
    jt_amount la;
    jt_errinfo ei;
    if (jt_amount_issued(&la, limit, cur, iss, 0, &ei) != JT_OK)
        return fail(e, ei.code == JT_ECURRENCY ? "amount.currency" : "amount.limit", ei.msg);
    unsigned rel = 0;
    if (!del && !strcmp(type, "trust")) {
        if (jt_json_get(b, "counterparty"))
            return fail(e, "counterparty", "is not used with type \"trust\"");
        if (set_type(tx, "TrustSet", e) || jt_obj_set_amount(tx, "LimitAmount", &la) != JT_OK)
            return -1;
        return 0;
    }
    if (!del && !strcmp(type, "authorize"))
        rel = REL_AUTHORIZE;
    else if (!del && !strcmp(type, "freeze"))
        rel = REL_FREEZE;
    else if (del && !strcmp(type, "unauthorize"))
        rel = REL_AUTHORIZE;
    else if (del && !strcmp(type, "unfreeze"))
        rel = REL_FREEZE;
    else
        return fail(e, "type",
                    del ? "must be \"unfreeze\" or \"unauthorize\""
                        : "must be \"trust\", \"authorize\" or \"freeze\"");
    if (set_type(tx, del ? "RelationDel" : "RelationSet", e) ||
        set_account(tx, "Target", str_of(b, "counterparty"), "counterparty", e) ||
        jt_obj_set_uint(tx, "RelationType", rel) != JT_OK ||
        jt_obj_set_amount(tx, "LimitAmount", &la) != JT_OK)
        return -1;
    return 0;
}

int gw_tx_settings(const jt_json *s, const uint8_t *message_key, jt_obj *tx, gw_txerr *e)
{
    static const char *const keys[] = {"require_auth",  "require_dest", "disallow_swt",
                                       "global_freeze", "no_freeze",    "transfer_rate",
                                       "domain",        "message_key",  "regular_key",
                                       NULL};
    static const struct {
        const char *name;
        unsigned asf;
    } flags[] = {{"require_dest", ASF_REQUIRE_DEST},   {"require_auth", ASF_REQUIRE_AUTH},
                 {"disallow_swt", ASF_DISALLOW_SWT},   {"no_freeze", ASF_NO_FREEZE},
                 {"global_freeze", ASF_GLOBAL_FREEZE}};
    if (gw_check_fields(s, "settings", keys, e))
        return -1;
    if (s->u.obj.n == 0)
        return fail(e, "settings", "is empty: name at least one setting");
    const jt_json *rk = jt_json_get(s, "regular_key");
    if (rk) {
        if (s->u.obj.n != 1)
            return fail(e, "settings.regular_key", "must be set alone (a SetRegularKey)");
        if (set_type(tx, "SetRegularKey", e))
            return -1;
        if (rk->kind == JT_JSON_NULL || (rk->kind == JT_JSON_STRING && rk->u.str.len == 0))
            return 0; /* removes the regular key */
        return set_account(tx, "RegularKey", jt_json_string(rk), "settings.regular_key", e);
    }
    if (set_type(tx, "AccountSet", e))
        return -1;
    int set = 0, clear = 0;
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        const jt_json *v = jt_json_get(s, flags[i].name);
        if (!v)
            continue;
        char f[64];
        snprintf(f, sizeof f, "settings.%s", flags[i].name);
        if (v->kind != JT_JSON_BOOL)
            return fail(e, f, "must be true or false");
        if (v->u.b ? set++ : clear++)
            return fail(e, f,
                        "one flag can be set and one cleared per request (an AccountSet carries "
                        "one of each)");
        if (jt_obj_set_uint(tx, v->u.b ? "SetFlag" : "ClearFlag", flags[i].asf) != JT_OK)
            return fail(e, f, "cannot be encoded");
    }
    const jt_json *tr = jt_json_get(s, "transfer_rate");
    if (tr) {
        /* A fee of 0..1 as a fraction ("0.002" = 0.2 %), stored as
         * 1e9 × (1 + fee); 0 clears it. */
        const char *t = jt_json_string(tr);
        if (!t && tr->kind == JT_JSON_NUMBER)
            t = tr->u.str.s;
        bool neg;
        uint64_t m;
        int32_t ex;
        jt_errinfo ei;
        if (!t || jt_amount_parse_value(t, 0, &neg, &m, &ex, &ei) != JT_OK)
            return fail(e, "settings.transfer_rate", "must be a fee fraction such as \"0.002\"");
        /* rate = 1e9 + m × 10^(ex+9) */
        int32_t de = ex + 9;
        while (de < 0 && m) {
            if (m % 10)
                return fail(e, "settings.transfer_rate", "has more than 9 decimal places");
            m /= 10;
            de++;
        }
        while (de > 0 && m) {
            m *= 10;
            de--;
            if (m > 1000000000u)
                break;
        }
        if (m > 1000000000u)
            return fail(e, "settings.transfer_rate", "must be at most 1 (a 100 % fee)");
        uint64_t rate = m ? 1000000000u + m : 0;
        if (jt_obj_set_uint(tx, "TransferRate", rate) != JT_OK)
            return fail(e, "settings.transfer_rate", "cannot be encoded");
    }
    const jt_json *dom = jt_json_get(s, "domain");
    if (dom) {
        if (dom->kind != JT_JSON_STRING || dom->u.str.len > 256)
            return fail(e, "settings.domain", "must be a string of at most 256 bytes");
        if (jt_obj_set_bytes(tx, "Domain", (const uint8_t *)dom->u.str.s, dom->u.str.len) != JT_OK)
            return fail(e, "settings.domain", "cannot be encoded");
    }
    const jt_json *mk = jt_json_get(s, "message_key");
    if (mk && jt_json_string(mk) && !strcmp(jt_json_string(mk), "publish")) {
        if (!message_key)
            return fail(e, "settings.message_key", "internal: no message key was derived");
        if (jt_obj_set_bytes(tx, "MessageKey", message_key, JT_MESSAGE_KEY_BYTES) != JT_OK)
            return fail(e, "settings.message_key", "cannot be encoded");
    } else if (mk) {
        const char *h = jt_json_string(mk);
        uint8_t key[33];
        size_t kl = 0;
        if (!h || (strlen(h) != 64 && strlen(h) != 66) ||
            jt_hex_decode(h, strlen(h), key, sizeof key, &kl) != JT_OK)
            return fail(e, "settings.message_key",
                        "must be \"publish\" (the account's own encryption key, for sealed memos) "
                        "or a public key in hex (32 or 33 bytes)");
        if (jt_obj_set_bytes(tx, "MessageKey", key, kl) != JT_OK)
            return fail(e, "settings.message_key", "cannot be encoded");
    }
    return 0;
}
