/*
 * driver.c — the C side of the interop differential test (tests/interop/diff.js).
 *
 * Reads one JSON request per line on stdin and writes one JSON answer per line
 * on stdout, in the same order. Every answer echoes the request's "id". Uses
 * only libjt's public API.
 *
 *   {"op":"check","blob":HEX}
 *       decode, re-encode (must equal), hash, verify, JSON round trip:
 *       {"ok":true,"reencode_equal":B,"reencoded":HEX?,"hash":H,"blob_hash":H,
 *        "signing_hash":H,"verify":"OK"|ERRNAME,"verify_msg":S?,
 *        "json_roundtrip":B,"tx_json":{skywelld JSON}}
 *   {"op":"sign","secret":S,"tx_json":{...}}
 *       {"ok":true,"blob":HEX,"hash":H,"public_key":HEX,"tx_json":{...}}
 *   {"op":"derive","secret":S}
 *       {"ok":true,"public_key":HEX,"private_key":HEX,"address":A}
 *   {"op":"amount","drops":S} | {"op":"amount","swt":S} |
 *   {"op":"amount","value":S,"currency":C,"issuer":A[,"negative_ok":true]}
 *       {"ok":true,"hex":HEX,"text":VALUE}
 * Failures: {"ok":false,"stage":S,"err":ERRNAME,"msg":S}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jt/jt.h"

static char *hex_of(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    if (jt_hex_encode(p, n, s, 2 * n + 1) != JT_OK) {
        free(s);
        return NULL;
    }
    return s;
}

static void put_hex(jt_jw *w, const char *key, const uint8_t *p, size_t n)
{
    char *s = hex_of(p, n);
    jt_jw_key(w, key);
    if (s)
        jt_jw_string(w, s);
    else
        jt_jw_null(w);
    free(s);
}

static void fail(jt_jw *w, const char *stage, jt_err e, const jt_errinfo *ei)
{
    jt_jw_key(w, "ok");
    jt_jw_bool(w, false);
    jt_jw_key(w, "stage");
    jt_jw_string(w, stage);
    jt_jw_key(w, "err");
    jt_jw_string(w, jt_errname(e));
    jt_jw_key(w, "msg");
    if (ei && ei->msg[0]) {
        jt_jw_string(w, ei->msg);
    } else {
        jt_jw_string(w, jt_strerror(e));
    }
    if (ei && ei->field[0]) {
        jt_jw_key(w, "field");
        jt_jw_string(w, ei->field);
    }
}

/* Writes "tx_json" and checks that the JSON form rebuilds the same bytes. */
static bool json_of(jt_jw *w, const jt_obj *o, const jt_buf *bin)
{
    jt_buf js;
    jt_buf_init(&js);
    bool same = false;
    if (jt_obj_to_json(o, &js) == JT_OK) {
        jt_jw_key(w, "tx_json");
        jt_jw_raw(w, (const char *)js.data, js.len);
        jt_obj *back = NULL;
        jt_errinfo ei;
        jt_errinfo_clear(&ei);
        if (jt_obj_from_json((const char *)js.data, js.len, &back, &ei) == JT_OK) {
            jt_buf b2;
            jt_buf_init(&b2);
            if (jt_obj_to_binary(back, 0, &b2) == JT_OK)
                same = b2.len == bin->len && memcmp(b2.data, bin->data, bin->len) == 0;
            jt_buf_clear(&b2);
            jt_obj_free(back);
        } else {
            jt_jw_key(w, "json_roundtrip_error");
            jt_jw_string(w, ei.msg);
        }
    }
    jt_buf_clear(&js);
    return same;
}

static void op_check(jt_jw *w, const jt_json *req)
{
    const char *hex = jt_json_string(jt_json_get(req, "blob"));
    if (!hex) {
        fail(w, "request", JT_EINVAL, NULL);
        return;
    }
    size_t hexlen = strlen(hex);
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_obj *o = NULL;
    jt_err e = jt_obj_from_hex(hex, hexlen, &o, &ei);
    if (e) {
        fail(w, "decode", e, &ei);
        return;
    }
    uint8_t *raw = malloc(hexlen / 2 + 1);
    size_t rawlen = 0;
    jt_buf bin, sd;
    jt_buf_init(&bin);
    jt_buf_init(&sd);
    if (!raw || jt_hex_decode(hex, hexlen, raw, hexlen / 2 + 1, &rawlen) != JT_OK) {
        fail(w, "hex", JT_EHEX, NULL);
        goto out;
    }
    e = jt_obj_to_binary(o, 0, &bin);
    if (e) {
        fail(w, "encode", e, NULL);
        goto out;
    }
    jt_jw_key(w, "ok");
    jt_jw_bool(w, true);
    bool same = bin.len == rawlen && memcmp(bin.data, raw, rawlen) == 0;
    jt_jw_key(w, "reencode_equal");
    jt_jw_bool(w, same);
    if (!same)
        put_hex(w, "reencoded", bin.data, bin.len);

    uint8_t h[32];
    if (jt_tx_id(o, h) == JT_OK)
        put_hex(w, "hash", h, 32);
    jt_tx_blob_id(raw, rawlen, h);
    put_hex(w, "blob_hash", h, 32);
    if (jt_tx_signing_data(o, &sd) == JT_OK) {
        jt_sha512half(sd.data, sd.len, h);
        put_hex(w, "signing_hash", h, 32);
    }

    jt_errinfo_clear(&ei);
    e = jt_tx_verify(o, &ei);
    jt_jw_key(w, "verify");
    jt_jw_string(w, e ? jt_errname(e) : "OK");
    if (e) {
        jt_jw_key(w, "verify_msg");
        jt_jw_string(w, ei.msg);
    }
    bool rt = json_of(w, o, &bin);
    jt_jw_key(w, "json_roundtrip");
    jt_jw_bool(w, rt);
out:
    free(raw);
    jt_buf_clear(&bin);
    jt_buf_clear(&sd);
    jt_obj_free(o);
}

static void op_sign(jt_jw *w, const jt_json *req)
{
    const char *secret = jt_json_string(jt_json_get(req, "secret"));
    const jt_json *txj = jt_json_get(req, "tx_json");
    if (!secret || !txj) {
        fail(w, "request", JT_EINVAL, NULL);
        return;
    }
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_keypair kp;
    jt_err e = jt_keypair_from_secret(secret, &kp, &ei);
    if (e) {
        fail(w, "secret", e, &ei);
        return;
    }
    jt_obj *o = NULL;
    jt_buf bin;
    jt_buf_init(&bin);
    e = jt_obj_from_jsonv(txj, &o, &ei);
    if (e) {
        fail(w, "from_json", e, &ei);
        goto out;
    }
    e = jt_tx_sign(o, &kp, &ei);
    if (e) {
        fail(w, "sign", e, &ei);
        goto out;
    }
    e = jt_obj_to_binary(o, 0, &bin);
    if (e) {
        fail(w, "encode", e, NULL);
        goto out;
    }
    jt_jw_key(w, "ok");
    jt_jw_bool(w, true);
    put_hex(w, "blob", bin.data, bin.len);
    uint8_t h[32];
    jt_tx_blob_id(bin.data, bin.len, h);
    put_hex(w, "hash", h, 32);
    put_hex(w, "public_key", kp.pub, 33);
    jt_buf js;
    jt_buf_init(&js);
    if (jt_obj_to_json(o, &js) == JT_OK) {
        jt_jw_key(w, "tx_json");
        jt_jw_raw(w, (const char *)js.data, js.len);
    }
    jt_buf_clear(&js);
out:
    jt_keypair_clear(&kp);
    jt_buf_clear(&bin);
    jt_obj_free(o);
}

static void op_derive(jt_jw *w, const jt_json *req)
{
    const char *secret = jt_json_string(jt_json_get(req, "secret"));
    if (!secret) {
        fail(w, "request", JT_EINVAL, NULL);
        return;
    }
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_keypair kp;
    jt_err e = jt_keypair_from_secret(secret, &kp, &ei);
    if (e) {
        fail(w, "secret", e, &ei);
        return;
    }
    jt_account_id id;
    char addr[JT_ADDRESS_MAX], priv[67];
    if (jt_account_id_from_pubkey(kp.pub, 33, &id) != JT_OK ||
        jt_address_encode(&id, addr) != JT_OK ||
        jt_keypair_private_hex(&kp, priv, sizeof priv) != JT_OK) {
        fail(w, "derive", JT_ECRYPTO, NULL);
    } else {
        jt_jw_key(w, "ok");
        jt_jw_bool(w, true);
        put_hex(w, "public_key", kp.pub, 33);
        jt_jw_key(w, "private_key");
        jt_jw_string(w, priv);
        jt_jw_key(w, "address");
        jt_jw_string(w, addr);
    }
    jt_keypair_clear(&kp);
}

static void op_amount(jt_jw *w, const jt_json *req)
{
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_amount a;
    jt_err e;
    const char *drops = jt_json_string(jt_json_get(req, "drops"));
    const char *swt = jt_json_string(jt_json_get(req, "swt"));
    const char *value = jt_json_string(jt_json_get(req, "value"));
    const jt_json *neg = jt_json_get(req, "negative_ok");
    unsigned flags = neg && neg->kind == JT_JSON_BOOL && neg->u.b ? JT_AMOUNT_ALLOW_NEGATIVE : 0;
    if (drops) {
        e = jt_amount_from_drops(&a, drops, flags, &ei);
    } else if (swt) {
        e = jt_amount_from_swt(&a, swt, flags, &ei);
    } else if (value) {
        const char *cur = jt_json_string(jt_json_get(req, "currency"));
        const char *iss = jt_json_string(jt_json_get(req, "issuer"));
        e = jt_amount_issued(&a, value, cur ? cur : "", iss ? iss : "", flags, &ei);
    } else {
        fail(w, "request", JT_EINVAL, NULL);
        return;
    }
    if (e) {
        fail(w, "parse", e, &ei);
        return;
    }
    uint8_t buf[48];
    size_t n = 0;
    e = jt_amount_encode(&a, buf, &n);
    if (e) {
        fail(w, "encode", e, NULL);
        return;
    }
    char text[JT_AMOUNT_TEXT_MAX];
    jt_jw_key(w, "ok");
    jt_jw_bool(w, true);
    put_hex(w, "hex", buf, n);
    if (jt_amount_value_text(&a, text, sizeof text) == JT_OK) {
        jt_jw_key(w, "text");
        jt_jw_string(w, text);
    }
}

static void handle(const char *line, size_t len, jt_buf *out)
{
    jt_jw w;
    jt_jw_init(&w, out);
    jt_jw_object_begin(&w);
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_json_doc *doc = NULL;
    jt_json_limits lim = {.max_bytes = 8u << 20, .max_depth = 32, .max_items = 1000000};
    jt_err e = jt_json_parse(line, len, &lim, &doc, &ei);
    if (e) {
        fail(&w, "request", e, &ei);
    } else {
        const jt_json *req = jt_json_root(doc);
        const jt_json *id = jt_json_get(req, "id");
        if (id) {
            jt_jw_key(&w, "id");
            jt_jw_value(&w, id);
        }
        const char *op = jt_json_string(jt_json_get(req, "op"));
        if (!op)
            fail(&w, "request", JT_EINVAL, NULL);
        else if (strcmp(op, "check") == 0)
            op_check(&w, req);
        else if (strcmp(op, "sign") == 0)
            op_sign(&w, req);
        else if (strcmp(op, "derive") == 0)
            op_derive(&w, req);
        else if (strcmp(op, "amount") == 0)
            op_amount(&w, req);
        else
            fail(&w, "op", JT_EINVAL, NULL);
    }
    jt_json_doc_free(doc);
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) != JT_OK) {
        out->len = 0;
        static const char oom[] = "{\"ok\":false,\"stage\":\"output\",\"err\":\"ENOMEM\"}";
        (void)jt_buf_append(out, oom, sizeof oom - 1);
    }
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    jt_buf out;
    jt_buf_init(&out);
    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        out.len = 0;
        handle(line, (size_t)n, &out);
        fwrite(out.data, 1, out.len, stdout);
        fputc('\n', stdout);
        fflush(stdout); /* answer at once: the caller may wait for each line */
    }
    fflush(stdout);
    free(line);
    jt_buf_clear(&out);
    return ferror(stdout) ? 1 : 0;
}
