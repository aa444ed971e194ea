/* codec_json.c — JSON ↔ STObject in skywelld's form (§4.7). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_obj.h"
#include "jt/base58.h"
#include "jt/json.h"
#include "jt/util.h"

/* ---------------------------------------------------------------- JSON → obj */

/* Lower-case keys of node responses that are skipped on input (§7.13). */
static bool skippable_key(const char *k)
{
    static const char *const keys[] = {"hash",      "date", "inLedger", "ledger_index",
                                       "validated", "meta", "metaData"};
    for (size_t i = 0; i < JT__ARRAY_LEN(keys); i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return strncmp(k, "parsed_memo_", 12) == 0;
}

typedef struct conv {
    jt__arena *arena;
    jt_errinfo *ei;
    char path[256];
} conv;

static jt_err bad(conv *c, jt_err code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static jt_err bad(conv *c, jt_err code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return jt__err(c->ei, code, c->path, -1, "%s: %s", c->path[0] ? c->path : "(top level)", msg);
}

static const char *kind_name(const jt_json *v)
{
    static const char *const names[] = {"null",     "a boolean", "a number",
                                        "a string", "an array",  "an object"};
    return names[v->kind];
}

/* Path bookkeeping: push appends ".name" or "[i]", pop restores. */
static size_t path_push(conv *c, const char *name, long index)
{
    size_t old = strlen(c->path);
    size_t room = sizeof c->path - old;
    if (index >= 0)
        snprintf(c->path + old, room, "[%ld]", index);
    else
        snprintf(c->path + old, room, "%s%s", old ? "." : "", name);
    return old;
}

static void path_pop(conv *c, size_t old)
{
    c->path[old] = '\0';
}

static jt_err from_json_obj(conv *c, jt_obj *o, const jt_json *v, int depth);

static jt_err json_uint(conv *c, const jt_field *f, const jt_json *v, uint64_t *out)
{
    uint64_t max = f->type == JT_T_UINT8 ? 0xFF : f->type == JT_T_UINT16 ? 0xFFFF : 0xFFFFFFFFu;
    if (f->type == JT_T_UINT64) {
        /* Hex string (skywelld's form) or a JSON integer (decimal). */
        if (v->kind == JT_JSON_STRING) {
            const char *s = v->u.str.s;
            size_t n = v->u.str.len;
            if (n == 0 || n > 16)
                return bad(c, JT_EFIELD_TYPE, "UInt64 hex string must have 1 to 16 digits");
            uint64_t x = 0;
            for (size_t i = 0; i < n; i++) {
                char ch = s[i];
                int d = ch >= '0' && ch <= '9'   ? ch - '0'
                        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                        : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                                 : -1;
                if (d < 0)
                    return bad(c, JT_EFIELD_TYPE, "UInt64 string \"%s\" is not hex", s);
                x = x << 4 | (unsigned)d;
            }
            *out = x;
            return JT_OK;
        }
        if (jt_json_uint64(v, false, out))
            return JT_OK;
        return bad(c, JT_EFIELD_TYPE, "expected a hex string or a non-negative integer");
    }
    if (!jt_json_uint64(v, true, out))
        return bad(c, JT_EFIELD_TYPE, "expected a non-negative integer");
    if (*out > max) {
        char m[64];
        snprintf(m, sizeof m, "%llu", (unsigned long long)max);
        return bad(c, JT_EFIELD_TYPE, "value is larger than %s", m);
    }
    return JT_OK;
}

static jt_err json_hex(conv *c, const jt_json *v, uint8_t **p, size_t *n)
{
    if (v->kind != JT_JSON_STRING)
        return bad(c, JT_EFIELD_TYPE, "expected a hex string");
    size_t hl = v->u.str.len;
    *p = jt__arena_alloc(c->arena, hl / 2 + 1);
    if (!*p)
        return JT_ENOMEM;
    if (jt_hex_decode(v->u.str.s, hl, *p, hl / 2 + 1, n))
        return bad(c, JT_EHEX, "not a hex string%s",
                   hl % 2 ? " (odd number of digits)" : " (a character is not a hex digit)");
    return JT_OK;
}

static jt_err json_account(conv *c, const jt_json *v, jt_account_id *id)
{
    if (v->kind != JT_JSON_STRING)
        return bad(c, JT_EFIELD_TYPE, "expected an address string");
    jt_errinfo sub;
    jt_errinfo_clear(&sub);
    jt_err e = jt_address_decode(v->u.str.s, id, &sub);
    if (e)
        return bad(c, e, "%s", sub.msg);
    return JT_OK;
}

static jt_err json_amount(conv *c, const jt_json *v, jt_amount *a)
{
    jt_errinfo sub;
    jt_errinfo_clear(&sub);
    jt_err e;
    const unsigned flags = JT_AMOUNT_ALLOW_NEGATIVE | JT_AMOUNT_LEDGER_RANGE;
    if (v->kind == JT_JSON_STRING || v->kind == JT_JSON_NUMBER) {
        /* Native: whole drops. */
        if ((e = jt_amount_from_drops(a, v->u.str.s, flags, &sub)))
            return bad(c, e, "%s", sub.msg);
        return JT_OK;
    }
    if (v->kind != JT_JSON_OBJECT)
        return bad(c, JT_EFIELD_TYPE,
                   "expected a drops string or {\"value\",\"currency\",\"issuer\"}");
    const jt_json *val = NULL, *cur = NULL, *iss = NULL;
    for (size_t i = 0; i < v->u.obj.n; i++) {
        const char *k = v->u.obj.keys[i];
        if (strcmp(k, "value") == 0)
            val = v->u.obj.vals[i];
        else if (strcmp(k, "currency") == 0)
            cur = v->u.obj.vals[i];
        else if (strcmp(k, "issuer") == 0)
            iss = v->u.obj.vals[i];
        else
            return bad(c, JT_EFIELD_UNKNOWN, "unknown key \"%s\" in an amount", k);
    }
    if (!val || !cur)
        return bad(c, JT_EAMOUNT,
                   "an issued amount needs \"value\", \"currency\" and "
                   "\"issuer\"");
    if (cur->kind != JT_JSON_STRING || (val->kind != JT_JSON_STRING && val->kind != JT_JSON_NUMBER))
        return bad(c, JT_EFIELD_TYPE, "amount value and currency must be strings");
    if (strcmp(cur->u.str.s, "SWT") == 0)
        return bad(c, JT_EAMOUNT,
                   "an SWT amount is written as a string of drops, not as an object");
    if (!iss || iss->kind != JT_JSON_STRING)
        return bad(c, JT_EAMOUNT, "an issued amount needs an \"issuer\" address");
    if ((e = jt_amount_issued(a, val->u.str.s, cur->u.str.s, iss->u.str.s, flags, &sub)))
        return bad(c, e, "%s", sub.msg);
    return JT_OK;
}

static jt_err json_pathset(conv *c, const jt_json *v, jt__pathset **out)
{
    if (v->kind != JT_JSON_ARRAY || v->u.arr.n == 0)
        return bad(c, JT_EPATH, "Paths must be a non-empty array of paths");
    jt__pathset *ps = jt__arena_alloc(c->arena, sizeof *ps);
    if (!ps || !(ps->paths = jt__arena_alloc(c->arena, v->u.arr.n * sizeof *ps->paths)))
        return JT_ENOMEM;
    ps->n = v->u.arr.n;
    for (size_t i = 0; i < v->u.arr.n; i++) {
        const jt_json *pj = v->u.arr.items[i];
        size_t mark = path_push(c, NULL, (long)i);
        if (pj->kind != JT_JSON_ARRAY || pj->u.arr.n == 0)
            return bad(c, JT_EPATH, "a path must be a non-empty array of steps");
        jt__path *p = &ps->paths[i];
        p->n = pj->u.arr.n;
        if (!(p->steps = jt__arena_alloc(c->arena, p->n * sizeof *p->steps)))
            return JT_ENOMEM;
        for (size_t j = 0; j < pj->u.arr.n; j++) {
            const jt_json *sj = pj->u.arr.items[j];
            size_t mark2 = path_push(c, NULL, (long)j);
            if (sj->kind != JT_JSON_OBJECT)
                return bad(c, JT_EPATH, "a path step must be an object");
            jt__path_step *s = &p->steps[j];
            for (size_t k = 0; k < sj->u.obj.n; k++) {
                const char *key = sj->u.obj.keys[k];
                const jt_json *val = sj->u.obj.vals[k];
                jt_err e;
                if (strcmp(key, "type") == 0 || strcmp(key, "type_hex") == 0)
                    continue; /* skywelld prints them; they follow from the rest */
                if (strcmp(key, "account") == 0) {
                    if ((e = json_account(c, val, &s->account)))
                        return e;
                    s->type |= 0x01;
                } else if (strcmp(key, "issuer") == 0) {
                    if ((e = json_account(c, val, &s->issuer)))
                        return e;
                    s->type |= 0x20;
                } else if (strcmp(key, "currency") == 0) {
                    jt_errinfo sub;
                    jt_errinfo_clear(&sub);
                    if (val->kind != JT_JSON_STRING)
                        return bad(c, JT_ECURRENCY, "currency must be a string");
                    if ((e = jt_currency_from_text(val->u.str.s, true, &s->currency, &sub)))
                        return bad(c, e, "%s", sub.msg);
                    s->type |= 0x10;
                } else {
                    return bad(c, JT_EPATH, "unknown key \"%s\" in a path step", key);
                }
            }
            if (s->type == 0)
                return bad(c, JT_EPATH, "a path step needs an account, currency or issuer");
            path_pop(c, mark2);
        }
        path_pop(c, mark);
    }
    *out = ps;
    return JT_OK;
}

static jt_err set_from_json(conv *c, jt_obj *o, const jt_field *f, const jt_json *v, int depth)
{
    jt__member *m = jt__obj_slot(o, f);
    if (!m)
        return JT_ENOMEM;
    jt_err e;
    switch (f->type) {
    case JT_T_UINT16:
        if (v->kind == JT_JSON_STRING && (f->code == 1 || f->code == 2)) {
            /* LedgerEntryType (1/1) and TransactionType (1/2) by name. */
            int code =
                f->code == 2 ? jt_tx_type_by_name(v->u.str.s) : jt_ledger_type_by_name(v->u.str.s);
            if (code < 0)
                return bad(c, f->code == 2 ? JT_ETXTYPE : JT_EFIELD_TYPE,
                           "unknown type name \"%s\"", v->u.str.s);
            m->v.u = (uint64_t)code;
            return JT_OK;
        }
        return json_uint(c, f, v, &m->v.u);
    case JT_T_UINT8:
        if (v->kind == JT_JSON_STRING && f->code == 3) { /* TransactionResult */
            const jt_ter *t = jt_ter_by_token(v->u.str.s);
            if (!t || t->code < 0 || t->code > 255)
                return bad(c, JT_EFIELD_TYPE, "\"%s\" is not a result that can be in a ledger",
                           v->u.str.s);
            m->v.u = (uint64_t)t->code;
            return JT_OK;
        }
        return json_uint(c, f, v, &m->v.u);
    case JT_T_UINT32:
    case JT_T_UINT64: return json_uint(c, f, v, &m->v.u);
    case JT_T_HASH128:
    case JT_T_HASH160:
    case JT_T_HASH256:
    case JT_T_BLOB:
    case JT_T_VECTOR256: {
        uint8_t *p = NULL;
        size_t n = 0;
        if (f->type == JT_T_VECTOR256) {
            if (v->kind != JT_JSON_ARRAY)
                return bad(c, JT_EFIELD_TYPE, "expected an array of 64-digit hex strings");
            p = jt__arena_alloc(c->arena, v->u.arr.n * 32 + 1);
            if (!p)
                return JT_ENOMEM;
            for (size_t i = 0; i < v->u.arr.n; i++) {
                const jt_json *h = v->u.arr.items[i];
                size_t got = 0;
                if (h->kind != JT_JSON_STRING || h->u.str.len != 64 ||
                    jt_hex_decode(h->u.str.s, 64, p + 32 * i, 32, &got))
                    return bad(c, JT_EFIELD_TYPE, "element is not a 64-digit hex string");
            }
            n = v->u.arr.n * 32;
        } else if ((e = json_hex(c, v, &p, &n))) {
            return e;
        }
        e = jt__obj_set_bytes_f(o, f, p, n);
        if (e == JT_EFIELD_TYPE) {
            char m2[64];
            snprintf(m2, sizeof m2, "%zu bytes, not %d", n,
                     f->type == JT_T_HASH128   ? 16
                     : f->type == JT_T_HASH160 ? 20
                                               : 32);
            return bad(c, e, "wrong length: %s", m2);
        }
        if (e)
            return bad(c, e, "value too long");
        return JT_OK;
    }
    case JT_T_ACCOUNT: return json_account(c, v, &m->v.acct);
    case JT_T_AMOUNT:
        if (!(m->v.amt = jt__arena_alloc(c->arena, sizeof *m->v.amt)))
            return JT_ENOMEM;
        return json_amount(c, v, m->v.amt);
    case JT_T_OBJECT:
        if (v->kind != JT_JSON_OBJECT)
            return bad(c, JT_EFIELD_TYPE, "expected an object, got %s", kind_name(v));
        if (!(m->v.obj = jt__obj_child(c->arena)))
            return JT_ENOMEM;
        return from_json_obj(c, m->v.obj, v, depth + 1);
    case JT_T_ARRAY:
        if (v->kind != JT_JSON_ARRAY)
            return bad(c, JT_EFIELD_TYPE, "expected an array, got %s", kind_name(v));
        if (depth + 2 > JT_CODEC_MAX_DEPTH)
            return bad(c, JT_EDEPTH, "nested too deeply");
        for (size_t i = 0; i < v->u.arr.n; i++) {
            const jt_json *it = v->u.arr.items[i];
            size_t mark = path_push(c, NULL, (long)i);
            if (it->kind != JT_JSON_OBJECT || it->u.obj.n != 1)
                return bad(c, JT_EFIELD_TYPE,
                           "array elements are objects with one key, like {\"Memo\":{...}}");
            const char *wname = it->u.obj.keys[0];
            const jt_field *wf = jt_field_by_name(wname);
            if (!wf || wf->type != JT_T_OBJECT)
                return bad(c, JT_EFIELD_UNKNOWN, "\"%s\" is not an object field", wname);
            size_t mark2 = path_push(c, wname, -1);
            const jt_json *body = it->u.obj.vals[0];
            if (body->kind != JT_JSON_OBJECT)
                return bad(c, JT_EFIELD_TYPE, "expected an object, got %s", kind_name(body));
            jt_obj *item = jt__obj_child(c->arena);
            if (!item)
                return JT_ENOMEM;
            item->wrapper = wf;
            if ((e = from_json_obj(c, item, body, depth + 2)) || (e = jt__arr_push(o, m, item)))
                return e;
            path_pop(c, mark2);
            path_pop(c, mark);
        }
        return JT_OK;
    case JT_T_PATHSET: return json_pathset(c, v, &m->v.paths);
    default: return bad(c, JT_EFIELD_TYPE, "unsupported field type");
    }
}

static jt_err from_json_obj(conv *c, jt_obj *o, const jt_json *v, int depth)
{
    if (depth > JT_CODEC_MAX_DEPTH)
        return bad(c, JT_EDEPTH, "objects nested too deeply");
    for (size_t i = 0; i < v->u.obj.n; i++) {
        const char *k = v->u.obj.keys[i];
        const jt_field *f = jt_field_by_name(k);
        if (!f) {
            if (skippable_key(k))
                continue;
            size_t mark = path_push(c, k, -1);
            jt_err e = bad(c, JT_EFIELD_UNKNOWN, "unknown field \"%s\"", k);
            path_pop(c, mark);
            return e;
        }
        size_t mark = path_push(c, k, -1);
        if (jt__obj_find(o, f))
            return bad(c, JT_EFIELD_DUP, "field \"%s\" appears twice", k);
        jt_err e = set_from_json(c, o, f, v->u.obj.vals[i], depth);
        if (e) {
            if (e == JT_ENOMEM)
                jt__err(c->ei, e, c->path, -1, NULL);
            return e;
        }
        path_pop(c, mark);
    }
    return JT_OK;
}

jt_err jt_obj_from_jsonv(const jt_json *v, jt_obj **out, jt_errinfo *ei)
{
    *out = NULL;
    if (!v || v->kind != JT_JSON_OBJECT)
        return jt__err(ei, JT_EJSON, NULL, -1, "expected a JSON object, got %s",
                       v ? kind_name(v) : "nothing");
    jt_obj *o = jt_obj_new();
    if (!o)
        return jt__err(ei, JT_ENOMEM, NULL, -1, NULL);
    conv c = {o->arena, ei, ""};
    jt_err e = from_json_obj(&c, o, v, 0);
    if (e) {
        jt_obj_free(o);
        return e;
    }
    *out = o;
    return JT_OK;
}

jt_err jt_obj_from_json(const char *json, size_t len, jt_obj **out, jt_errinfo *ei)
{
    jt_json_doc *doc = NULL;
    *out = NULL;
    jt_err e = jt_json_parse(json, len, NULL, &doc, ei);
    if (e)
        return e;
    e = jt_obj_from_jsonv(jt_json_root(doc), out, ei);
    jt_json_doc_free(doc);
    return e;
}

jt_err jt_obj_set_json(jt_obj *o, const char *field, const jt_json *v, jt_errinfo *ei)
{
    const jt_field *f = jt_field_by_name(field);
    if (!f)
        return jt__err(ei, JT_EFIELD_UNKNOWN, field, -1, "unknown field \"%s\"", field);
    conv c = {o->arena, ei, ""};
    snprintf(c.path, sizeof c.path, "%s", field);
    /* Build into a scratch object so a failure leaves `o` unchanged. */
    jt_obj *tmp = jt__obj_child(o->arena);
    if (!tmp)
        return jt__err(ei, JT_ENOMEM, field, -1, NULL);
    jt_err e = set_from_json(&c, tmp, f, v, 0);
    if (e)
        return e;
    jt__member *m = jt__obj_slot(o, f);
    if (!m)
        return jt__err(ei, JT_ENOMEM, field, -1, NULL);
    *m = tmp->m[0];
    return JT_OK;
}

/* ---------------------------------------------------------------- obj → JSON */

static void write_account(jt_jw *w, const jt_account_id *id)
{
    char addr[JT_ADDRESS_MAX];
    if (jt_address_encode(id, addr)) {
        w->err = JT_EINVAL;
        return;
    }
    jt_jw_string(w, addr);
}

static void write_amount(jt_jw *w, const jt_amount *a)
{
    char val[JT_AMOUNT_TEXT_MAX];
    if (jt_amount_value_text(a, val, sizeof val)) {
        w->err = JT_EINVAL;
        return;
    }
    if (a->native) {
        jt_jw_string(w, val);
        return;
    }
    char cur[JT_CURRENCY_TEXT_MAX];
    jt_currency_to_text(&a->currency, cur);
    jt_jw_object_begin(w);
    jt_jw_key(w, "currency");
    jt_jw_string(w, cur);
    jt_jw_key(w, "issuer");
    write_account(w, &a->issuer);
    jt_jw_key(w, "value");
    jt_jw_string(w, val);
    jt_jw_object_end(w);
}

static void write_pathset(jt_jw *w, const jt__pathset *ps)
{
    jt_jw_array_begin(w);
    for (size_t i = 0; i < ps->n; i++) {
        jt_jw_array_begin(w);
        for (size_t j = 0; j < ps->paths[i].n; j++) {
            const jt__path_step *s = &ps->paths[i].steps[j];
            jt_jw_object_begin(w);
            if (s->type & 0x01) {
                jt_jw_key(w, "account");
                write_account(w, &s->account);
            }
            if (s->type & 0x10) {
                char cur[JT_CURRENCY_TEXT_MAX];
                jt_currency_to_text(&s->currency, cur);
                jt_jw_key(w, "currency");
                jt_jw_string(w, cur);
            }
            if (s->type & 0x20) {
                jt_jw_key(w, "issuer");
                write_account(w, &s->issuer);
            }
            char th[17];
            snprintf(th, sizeof th, "%016X", s->type);
            jt_jw_key(w, "type");
            jt_jw_uint(w, s->type);
            jt_jw_key(w, "type_hex");
            jt_jw_string(w, th);
            jt_jw_object_end(w);
        }
        jt_jw_array_end(w);
    }
    jt_jw_array_end(w);
}

static void write_member(jt_jw *w, const jt__member *m)
{
    const jt_field *f = m->f;
    switch (f->type) {
    case JT_T_UINT16: {
        const char *name = NULL;
        if (f->code == 2)
            name = jt_tx_type_name((unsigned)m->v.u);
        else if (f->code == 1)
            name = jt_ledger_type_name((unsigned)m->v.u);
        if (name)
            jt_jw_string(w, name);
        else
            jt_jw_uint(w, m->v.u);
        return;
    }
    case JT_T_UINT8:
        if (f->code == 3) {
            const jt_ter *t = jt_ter_by_code((int)m->v.u);
            if (t) {
                jt_jw_string(w, t->token);
                return;
            }
        }
        jt_jw_uint(w, m->v.u);
        return;
    case JT_T_UINT32: jt_jw_uint(w, m->v.u); return;
    case JT_T_UINT64: {
        uint8_t be[8];
        for (int i = 0; i < 8; i++)
            be[i] = (uint8_t)(m->v.u >> (56 - 8 * i));
        jt_jw_hex(w, be, 8); /* 16 upper-case digits */
        return;
    }
    case JT_T_HASH128:
    case JT_T_HASH160:
    case JT_T_HASH256:
    case JT_T_BLOB: jt_jw_hex(w, m->v.bytes.p, m->v.bytes.n); return;
    case JT_T_VECTOR256:
        jt_jw_array_begin(w);
        for (size_t i = 0; i + 32 <= m->v.bytes.n; i += 32)
            jt_jw_hex(w, m->v.bytes.p + i, 32);
        jt_jw_array_end(w);
        return;
    case JT_T_ACCOUNT: write_account(w, &m->v.acct); return;
    case JT_T_AMOUNT: write_amount(w, m->v.amt); return;
    case JT_T_OBJECT: jt_obj_write_json(m->v.obj, w); return;
    case JT_T_ARRAY:
        jt_jw_array_begin(w);
        for (size_t i = 0; i < m->v.arr.n; i++) {
            const jt_obj *it = m->v.arr.items[i];
            jt_jw_object_begin(w);
            jt_jw_key(w, it->wrapper->name);
            jt_obj_write_json(it, w);
            jt_jw_object_end(w);
        }
        jt_jw_array_end(w);
        return;
    case JT_T_PATHSET: write_pathset(w, m->v.paths); return;
    default: jt_jw_null(w);
    }
}

void jt_obj_write_json_members(const jt_obj *o, jt_jw *w)
{
    for (size_t i = 0; i < o->n; i++) {
        jt_jw_key(w, o->m[i].f->name);
        write_member(w, &o->m[i]);
    }
}

void jt_obj_write_json(const jt_obj *o, jt_jw *w)
{
    jt_jw_object_begin(w);
    jt_obj_write_json_members(o, w);
    jt_jw_object_end(w);
}

jt_err jt_obj_to_json(const jt_obj *o, jt_buf *out)
{
    jt_jw w;
    jt_jw_init(&w, out);
    jt_obj_write_json(o, &w);
    return jt_jw_finish(&w);
}
