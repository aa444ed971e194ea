/*
 * http.c — the REST API's dispatcher, its write routes and its envelope
 * (http.h). Read routes are in reads.c.
 */
#include "http.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <jt/base58.h>
#include <jt/hash.h>
#include <jt/keystore.h>

#include "config.h"
#include "events.h"
#include "link.h"
#include "map.h"
#include "memo.h"
#include "routes.h"
#include "srv.h"
#include "submit.h"
#include "txbuild.h"
#include "webhooks.h"

enum {
    F_ACCOUNT = 1, /* params[0] is an address the key must be allowed (sign/issue) */
    F_BODY = 2,    /* a JSON object body is required */
    F_HELD = 4,    /* the gateway must hold the account's key */
    F_PUBLIC = 8,  /* no API key */
};

struct gw_route {
    const char *method;
    const char *path; /* "{x}" segments are captured into params */
    void (*fn)(gw_call *c);
    unsigned scope;   /* GW_SCOPE_* needed; 0 with F_PUBLIC */
    unsigned flags;
    const char *summary;
};

/* ------------------------------------------------------------ replies */

static const double latency_ms[] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500};

static void count(gw_call *c, int status)
{
    gw *g = c->g;
    g->requests++;
    g->by_class[status / 100 < 6 ? status / 100 : 5]++;
    double ms = (srv_mono_seconds() - c->started) * 1000.0;
    g->latency_sum += ms / 1000.0;
    size_t i = 0;
    while (i < sizeof latency_ms / sizeof *latency_ms && ms > latency_ms[i])
        i++;
    g->latency_buckets[i]++;
    if (g->cfg->log_requests && !c->quiet) {
        srv_conn *conn = srv_http_conn(c->r);
        fprintf(stderr,
                "level=info mod=http event=request method=%s path=\"%.200s\" status=%d ms=%.1f "
                "key=%s peer=%s\n",
                srv_http_method(c->r), srv_http_path(c->r), status, ms,
                c->authed ? c->key.id : "-", conn ? srv_conn_peer(conn) : "-");
    }
}

static void free_call(gw_call *c)
{
    if (c->free_state)
        c->free_state(c->state);
    jt_json_doc_free(c->body);
    gw_apikey_clear(&c->key);
    free(c);
}

static void respond(gw_call *c, int status, const srv_http_field *extra, size_t nextra,
                    const void *body, size_t len)
{
    srv_http_field h[8];
    size_t n = 0;
    for (size_t i = 0; i < nextra && n < 4; i++)
        h[n++] = extra[i];
    if (c->cors_origin[0]) {
        h[n++] = (srv_http_field){"Access-Control-Allow-Origin", c->cors_origin};
        h[n++] = (srv_http_field){"Vary", "Origin"};
    }
    h[n++] = (srv_http_field){"Cache-Control", "no-store"};
    count(c, status);
    srv_http_respond(c->r, status, "application/json", h, n, body, len);
    free_call(c);
}

void gw_reply(gw_call *c, int status, const char *members, size_t len)
{
    jt_buf b;
    jt_buf_init(&b);
    static const char head[] = "{\"success\":true,\"status_code\":\"0\"";
    int ok = jt_buf_append(&b, head, sizeof head - 1) == JT_OK &&
             (!len || (jt_buf_append(&b, ",", 1) == JT_OK &&
                       jt_buf_append(&b, members, len) == JT_OK)) &&
             jt_buf_append(&b, "}", 1) == JT_OK;
    if (!ok) {
        jt_buf_clear(&b);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    respond(c, status, NULL, 0, b.data, b.len);
    jt_buf_clear(&b);
}

static const char *error_type(int status, const char *token)
{
    if (status == 422)
        return "transaction";
    if (status == 502 || status == 503 || status == 504)
        return "network";
    return status >= 500 ? "server" : "client";
}

static void fail_with(gw_call *c, int status, const char *token, const char *field,
                      const char *msg, const srv_http_field *extra, size_t nextra)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "success");
    jt_jw_bool(&w, false);
    jt_jw_key(&w, "status_code");
    jt_jw_string(&w, code);
    jt_jw_key(&w, "error_type");
    jt_jw_string(&w, error_type(status, token));
    jt_jw_key(&w, "error");
    jt_jw_string(&w, token);
    if (field && field[0]) {
        jt_jw_key(&w, "field");
        jt_jw_string(&w, field);
    }
    jt_jw_key(&w, "message");
    jt_jw_string(&w, msg ? msg : "");
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) != JT_OK)
        b.len = 0;
    respond(c, status, extra, nextra, b.data, b.len);
    jt_buf_clear(&b);
}

void gw_fail(gw_call *c, int status, const char *token, const char *field, const char *msg)
{
    fail_with(c, status, token, field, msg, NULL, 0);
}

static void fail_txerr(gw_call *c, const gw_txerr *e)
{
    char msg[400];
    snprintf(msg, sizeof msg, "%s%s%s", e->field, e->field[0] ? ": " : "", e->msg);
    gw_fail(c, 400, "badRequest", e->field, msg);
}

/* ------------------------------------------------------------ helpers */

static const char *body_str(const gw_call *c, const char *key)
{
    return c->body ? jt_json_string(jt_json_get(jt_json_root(c->body), key)) : NULL;
}

static const jt_json *body_get(const gw_call *c, const char *key)
{
    return c->body ? jt_json_get(jt_json_root(c->body), key) : NULL;
}

static bool wants_wait(const gw_call *c)
{
    const char *w = srv_http_query_arg(c->r, "wait");
    return w && !strcmp(w, "validated");
}

/* What identifies a write for client_id reuse: its route, its path and its
 * body as parsed (so white space and key order of the same JSON text do
 * not matter... order does: the canonical writer keeps document order). */
static void body_digest(const gw_call *c, uint8_t out[32])
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_array_begin(&w);
    jt_jw_string(&w, srv_http_method(c->r));
    jt_jw_string(&w, srv_http_path(c->r));
    if (c->body)
        jt_jw_value(&w, jt_json_root(c->body));
    jt_jw_array_end(&w);
    if (jt_jw_finish(&w) != JT_OK)
        memset(out, 0, 32);
    else
        jt_sha256(b.data, b.len, out);
    jt_buf_clear(&b);
}

/* Answers a submission outcome. */
static void on_submitted(void *ctx, const gw_sub_result *r)
{
    gw_call *c = ctx;
    if (r->http >= 400 && r->http != 422) {
        gw_fail(c, r->http, r->error ? r->error : "error", NULL, r->message);
        return;
    }
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    if (r->tx)
        gw_txinfo_members(&w, r->tx);
    if (r->http == 422) {
        jt_jw_key(&w, "error");
        jt_jw_string(&w, r->error ? r->error : "rejected");
        jt_jw_key(&w, "message");
        jt_jw_string(&w, r->message);
    }
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) != JT_OK || b.len < 2) {
        jt_buf_clear(&b);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    if (r->http == 422) {
        /* The envelope of a failure, with the transaction's fields. */
        jt_buf e;
        jt_buf_init(&e);
        static const char head[] =
            "{\"success\":false,\"status_code\":\"422\",\"error_type\":\"transaction\",";
        if (jt_buf_append(&e, head, sizeof head - 1) == JT_OK &&
            jt_buf_append(&e, b.data + 1, b.len - 1) == JT_OK)
            respond(c, 422, NULL, 0, e.data, e.len);
        else
            gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        jt_buf_clear(&e);
    } else {
        gw_reply(c, r->http, (const char *)b.data + 1, b.len - 2);
    }
    jt_buf_clear(&b);
}

static void submit_tx(gw_call *c, const char *client_id, jt_obj *tx)
{
    uint8_t digest[32];
    body_digest(c, digest);
    gw_submit_write(c->g->submit, c->key.id, c->params[0], client_id, digest, tx, wants_wait(c),
                    on_submitted, c);
}

static jt_obj *new_tx(gw_call *c)
{
    jt_obj *tx = jt_obj_new();
    if (!tx)
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
    return tx;
}

/* ------------------------------------------------------------ writes */

static int check_top(gw_call *c, const char *const *keys)
{
    gw_txerr e;
    if (gw_check_fields(jt_json_root(c->body), "", keys, &e)) {
        fail_txerr(c, &e);
        return -1;
    }
    return 0;
}

/* ---- a payment with sealed memos: the destination's MessageKey from the
 * validated ledger, then the memos sealed to it and to the sender, then the
 * usual submission. A repeat of a recorded request is answered from its
 * record before anything is looked up or sealed, so it is the same
 * transaction although sealing is randomized. */

typedef struct sealing {
    jt_obj *tx;
} sealing;

static void free_sealing(void *p)
{
    sealing *st = p;
    jt_obj_free(st->tx);
    free(st);
}

static void fail_no_key(gw_call *c, const char *dest, const char *why)
{
    char msg[320];
    snprintf(msg, sizeof msg,
             "%s %s, so memos cannot be sealed to it; nothing was signed or sent (memos are never "
             "sent in plaintext instead)",
             dest, why);
    gw_fail(c, 422, "noMessageKey", "payment.destination", msg);
}

static void on_destination_info(void *ctx, const jt_session_reply *r)
{
    gw_call *c = ctx;
    const jt_json *p = body_get(c, "payment");
    const char *dest = jt_json_string(jt_json_get(p, "destination"));
    if (r->err == JT_ERPC && r->ei && !strcmp(r->ei->field, "actNotFound")) {
        fail_no_key(c, dest, "is not in the validated ledger and has published no MessageKey");
        return;
    }
    if (r->err != JT_OK) {
        char msg[320];
        snprintf(msg, sizeof msg, "cannot read the destination's MessageKey: %s; nothing was signed",
                 r->ei ? r->ei->msg : "the node did not answer");
        gw_fail(c, r->err == JT_ETIMEDOUT ? 504 : r->err == JT_ERPC ? 502 : 503,
                r->err == JT_ERPC ? "nodeError" : "nodeUnavailable", NULL, msg);
        return;
    }
    const jt_json *ad = jt_json_get(jt_json_get(r->msg, "result"), "account_data");
    const char *mk = jt_json_string(jt_json_get(ad, "MessageKey"));
    uint8_t raw[JT_MESSAGE_KEY_BYTES], pub[JT_MEMO_KEY_BYTES];
    size_t rl = 0;
    if (!mk || !mk[0]) {
        fail_no_key(c, dest, "has published no MessageKey");
        return;
    }
    if (strlen(mk) != 2 * JT_MESSAGE_KEY_BYTES ||
        jt_hex_decode(mk, strlen(mk), raw, sizeof raw, &rl) != JT_OK ||
        jt_message_key_decode(raw, rl, pub) != JT_OK) {
        fail_no_key(c, dest, "has a MessageKey that is not an encryption key for sealed memos");
        return;
    }
    sealing *st = c->state;
    gw_memo memos[GW_MEMOS_MAX];
    size_t n = 0;
    gw_txerr e = {{0}, {0}};
    if (gw_memos_parse(jt_json_get(p, "memos"), memos, &n, &e) ||
        gw_memos_seal(c->g->memos, c->params[0], pub, memos, n, st->tx, &e)) {
        if (!strcmp(e.field, "payment.destination"))
            fail_no_key(c, dest, "has a MessageKey that is not a usable encryption key");
        else if (e.field[0])
            fail_txerr(c, &e);
        else
            gw_fail(c, 500, "sealingFailed", NULL, e.msg);
        return;
    }
    jt_obj *tx = st->tx;
    st->tx = NULL;
    submit_tx(c, body_str(c, "client_id"), tx);
}

static void post_payment_sealed(gw_call *c, jt_obj *tx)
{
    uint8_t digest[32];
    body_digest(c, digest);
    if (gw_submit_repeat(c->g->submit, c->params[0], body_str(c, "client_id"), digest,
                         wants_wait(c), on_submitted, c)) {
        jt_obj_free(tx);
        return;
    }
    sealing *st = calloc(1, sizeof *st);
    if (!st) {
        jt_obj_free(tx);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    st->tx = tx;
    c->state = st;
    c->free_state = free_sealing;
    if (!gw_link_ready(c->g->link)) {
        gw_fail(c, 503, "nodeUnavailable",
                NULL, "no link to a node with a validated ledger; nothing was signed");
        return;
    }
    const char *dest = jt_json_string(jt_json_get(body_get(c, "payment"), "destination"));
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "command");
    jt_jw_string(&w, "account_info");
    jt_jw_key(&w, "account");
    jt_jw_string(&w, dest ? dest : "");
    jt_jw_key(&w, "ledger_index");
    jt_jw_string(&w, "validated");
    jt_jw_object_end(&w);
    jt_errinfo ei;
    if (jt_jw_finish(&w) != JT_OK) {
        jt_buf_clear(&b);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    jt_err rc = gw_link_request(c->g->link, (const char *)b.data,
                                (int)c->g->cfg->request_timeout_ms, on_destination_info, c, &ei);
    jt_buf_clear(&b);
    if (rc != JT_OK)
        gw_fail(c, 503, "nodeUnavailable", NULL, ei.msg);
}

static void post_payment(gw_call *c)
{
    static const char *const keys[] = {"client_id", "payment", NULL};
    if (check_top(c, keys))
        return;
    const jt_json *p = body_get(c, "payment");
    if (!p) {
        gw_fail(c, 400, "badRequest", "payment", "payment is required");
        return;
    }
    jt_obj *tx = new_tx(c);
    gw_txerr e;
    if (!tx)
        return;
    bool encrypt = false;
    if (gw_tx_payment(p, tx, &e) || gw_payment_encrypt_memos(p, &encrypt, &e)) {
        jt_obj_free(tx);
        fail_txerr(c, &e);
        return;
    }
    const jt_json *memos = jt_json_get(p, "memos");
    /* Nothing to seal: nothing goes in the clear either. */
    if (encrypt && memos && memos->kind == JT_JSON_ARRAY && memos->u.arr.n > 0) {
        post_payment_sealed(c, tx);
        return;
    }
    submit_tx(c, body_str(c, "client_id"), tx);
}

static void post_order(gw_call *c)
{
    static const char *const keys[] = {"client_id", "order", NULL};
    if (check_top(c, keys))
        return;
    const jt_json *o = body_get(c, "order");
    if (!o) {
        gw_fail(c, 400, "badRequest", "order", "order is required");
        return;
    }
    jt_obj *tx = new_tx(c);
    gw_txerr e;
    if (!tx)
        return;
    if (gw_tx_order(o, tx, &e)) {
        jt_obj_free(tx);
        fail_txerr(c, &e);
        return;
    }
    submit_tx(c, body_str(c, "client_id"), tx);
}

static void delete_order(gw_call *c)
{
    char hdr[160];
    const char *cid = body_str(c, "client_id");
    if (!cid && srv_http_header(c->r, "Idempotency-Key", hdr, sizeof hdr) > 0)
        cid = hdr;
    if (c->body) {
        static const char *const keys[] = {"client_id", NULL};
        if (check_top(c, keys))
            return;
    }
    char *end;
    unsigned long long seq = strtoull(c->params[1], &end, 10);
    if (*end || !c->params[1][0]) {
        gw_fail(c, 400, "badRequest", "sequence", "the offer's sequence must be a number");
        return;
    }
    jt_obj *tx = new_tx(c);
    gw_txerr e;
    if (!tx)
        return;
    if (gw_tx_cancel(seq, tx, &e)) {
        jt_obj_free(tx);
        fail_txerr(c, &e);
        return;
    }
    submit_tx(c, cid, tx);
}

static void relation(gw_call *c, bool del)
{
    const char *type = body_str(c, "type");
    /* trust lines are the account's own business (sign); authorizing and
     * freezing others is an issuer's (issue). */
    unsigned need = type && !strcmp(type, "trust") ? GW_SCOPE_SIGN : GW_SCOPE_ISSUE;
    if (!(c->key.scopes & (need | GW_SCOPE_ADMIN))) {
        gw_fail(c, 403, "forbidden", NULL,
                need == GW_SCOPE_ISSUE ? "this API key lacks the issue scope"
                                       : "this API key lacks the sign scope");
        return;
    }
    jt_obj *tx = new_tx(c);
    gw_txerr e;
    if (!tx)
        return;
    if (gw_tx_relation(jt_json_root(c->body), del, tx, &e)) {
        jt_obj_free(tx);
        fail_txerr(c, &e);
        return;
    }
    submit_tx(c, body_str(c, "client_id"), tx);
}

static void post_relation(gw_call *c)
{
    relation(c, false);
}

static void delete_relation(gw_call *c)
{
    relation(c, true);
}

static void post_settings(gw_call *c)
{
    static const char *const keys[] = {"client_id", "settings", NULL};
    if (check_top(c, keys))
        return;
    const jt_json *st = body_get(c, "settings");
    if (!st) {
        gw_fail(c, 400, "badRequest", "settings", "settings is required");
        return;
    }
    jt_obj *tx = new_tx(c);
    gw_txerr e;
    if (!tx)
        return;
    /* "publish": the account's own encryption key, derived from its secret. */
    uint8_t mk[JT_MESSAGE_KEY_BYTES];
    const uint8_t *publish = NULL;
    const char *mkv = jt_json_string(jt_json_get(st, "message_key"));
    if (mkv && !strcmp(mkv, "publish")) {
        jt_memo_key *k = gw_memos_key(c->g->memos, c->params[0]);
        if (!k) {
            jt_obj_free(tx);
            gw_fail(c, 500, "keyUnavailable", "settings.message_key",
                    "the account's encryption key cannot be derived");
            return;
        }
        jt_memo_key_message_key(k, mk);
        publish = mk;
    }
    if (gw_tx_settings(st, publish, tx, &e)) {
        jt_obj_free(tx);
        fail_txerr(c, &e);
        return;
    }
    submit_tx(c, body_str(c, "client_id"), tx);
}

static void post_blob(gw_call *c)
{
    static const char *const keys[] = {"client_id", "blob", NULL};
    if (check_top(c, keys))
        return;
    const char *blob = body_str(c, "blob");
    if (!blob) {
        gw_fail(c, 400, "badRequest", "blob", "blob is required: the signed transaction in hex");
        return;
    }
    /* The key must be allowed to act for the blob's account. */
    jt_obj *tx = NULL;
    jt_errinfo ei;
    jt_account_id id;
    char account[JT_ADDRESS_MAX] = "";
    if (jt_obj_from_hex(blob, strlen(blob), &tx, &ei) == JT_OK &&
        jt_obj_get_account(tx, "Account", &id) == JT_OK)
        jt_address_encode(&id, account);
    jt_obj_free(tx);
    if (account[0] && !gw_apikey_allows_account(&c->key, account) &&
        !(c->key.scopes & GW_SCOPE_ADMIN)) {
        gw_fail(c, 403, "forbidden", NULL, "this API key may not act for the blob's account");
        return;
    }
    uint8_t digest[32];
    body_digest(c, digest);
    gw_submit_blob(c->g->submit, c->key.id, blob, body_str(c, "client_id"), digest, wants_wait(c),
                   on_submitted, c);
}

static void get_payment_or_tx(gw_call *c, bool any_account)
{
    gw_txinfo t;
    char err[400];
    const char *id = any_account ? c->params[0] : c->params[1];
    int found = gw_submit_find(c->g->submit, any_account ? NULL : c->params[0], id, &t, err,
                               sizeof err);
    if (found < 0) {
        gw_fail(c, 503, "storeUnavailable", NULL, err);
        return;
    }
    if (found == 1 && t.status != GW_VALIDATED) {
        jt_buf b;
        jt_buf_init(&b);
        jt_jw w;
        jt_jw_init(&w, &b);
        jt_jw_object_begin(&w);
        gw_txinfo_members(&w, &t);
        jt_jw_object_end(&w);
        if (jt_jw_finish(&w) == JT_OK)
            gw_reply(c, 200, (const char *)b.data + 1, b.len - 2);
        else
            gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        jt_buf_clear(&b);
        return;
    }
    /* Validated, or not ours: the node's record. */
    if (found == 1)
        snprintf(c->params[2], sizeof c->params[2], "%s", t.hash);
    else if (!any_account)
        snprintf(c->params[2], sizeof c->params[2], "%s", c->params[1]);
    else
        snprintf(c->params[2], sizeof c->params[2], "%s", c->params[0]);
    if (any_account)
        gw_get_transaction(c);
    else
        gw_get_payment(c);
}

static void get_payment(gw_call *c)
{
    get_payment_or_tx(c, false);
}

static void get_transaction(gw_call *c)
{
    get_payment_or_tx(c, true);
}

/* ------------------------------------------------------------ keys */

static void write_entry(jt_jw *w, const jt_keystore_entry *e)
{
    jt_jw_object_begin(w);
    jt_jw_key(w, "address");
    jt_jw_string(w, e->address);
    if (!e->watch_only) {
        jt_jw_key(w, "public_key");
        jt_jw_hex(w, e->public_key, 33);
        jt_jw_key(w, "key_type");
        jt_jw_string(w, e->type == JT_KEY_ED25519 ? "ed25519" : "secp256k1");
    }
    jt_jw_key(w, "watch_only");
    jt_jw_bool(w, e->watch_only);
    jt_jw_key(w, "label");
    jt_jw_string(w, e->label);
    jt_jw_object_end(w);
}

static void get_wallets(gw_call *c)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "wallets");
    jt_jw_array_begin(&w);
    size_t n = jt_keystore_count(c->g->ks);
    for (size_t i = 0; i < n; i++) {
        jt_keystore_entry e;
        if (jt_keystore_entry_at(c->g->ks, i, &e) != JT_OK)
            continue;
        /* A key sees the accounts it may act for (admin: all). */
        if (!(c->key.scopes & GW_SCOPE_ADMIN) && !gw_apikey_allows_account(&c->key, e.address))
            continue;
        write_entry(&w, &e);
    }
    jt_jw_array_end(&w);
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        gw_reply(c, 200, (const char *)b.data + 1, b.len - 2);
    else
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
    jt_buf_clear(&b);
}

static void key_created(gw_call *c, const jt_keystore_entry *e, jt_errinfo *ei, jt_err rc)
{
    if (rc == JT_OK && (rc = jt_keystore_save(c->g->ks, ei)) != JT_OK) {
        /* Not on disk, so not added: a key that a restart would lose must
         * never receive funds. The keystore in memory goes back to what the
         * file holds. */
        jt_errinfo ri;
        if (jt_keystore_remove(c->g->ks, e->address, &ri) != JT_OK)
            fprintf(stderr, "level=error mod=keys event=undo_failed address=%s why=\"%s\"\n",
                    e->address, ri.msg);
        fprintf(stderr, "level=error mod=keys event=key_not_saved address=%s why=\"%s\"\n",
                e->address, ei->msg);
        char msg[sizeof ei->msg + 96];
        snprintf(msg, sizeof msg, "the key could not be written to the keystore, so it was not added: %s",
                 ei->msg);
        gw_fail(c, 503, "storeUnavailable", NULL, msg);
        return;
    }
    if (rc == JT_ETOOBIG) {
        gw_fail(c, 409, "keystoreFull", NULL, ei->msg);
        return;
    }
    if (rc != JT_OK) {
        int status = rc == JT_EEXIST ? 409 : rc == JT_EINVAL || rc == JT_EKEY ? 400 : 500;
        gw_fail(c, status, jt_errname(rc), ei->field, ei->msg);
        return;
    }
    fprintf(stderr, "level=info mod=keys event=key_added address=%s key=%s\n", e->address,
            c->key.id);
    gw_link_follow(c->g->link, e->address);
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "wallet");
    write_entry(&w, e);
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        gw_reply(c, 201, (const char *)b.data + 1, b.len - 2);
    else
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
    jt_buf_clear(&b);
}

static void post_wallet_new(gw_call *c)
{
    static const char *const keys[] = {"key_type", "label", NULL};
    if (c->body && check_top(c, keys))
        return;
    const char *kt = body_str(c, "key_type");
    jt_key_type type = JT_KEY_SECP256K1;
    if (kt && !strcmp(kt, "ed25519"))
        type = JT_KEY_ED25519;
    else if (kt && strcmp(kt, "secp256k1")) {
        gw_fail(c, 400, "badRequest", "key_type", "key_type: \"secp256k1\" or \"ed25519\"");
        return;
    }
    jt_keystore_entry e;
    jt_errinfo ei = {0};
    jt_err rc = jt_keystore_generate(c->g->ks, type, body_str(c, "label"), &e, &ei);
    key_created(c, &e, &ei, rc);
}

static void post_wallet_import(gw_call *c)
{
    static const char *const keys[] = {"secret", "label", NULL};
    if (check_top(c, keys))
        return;
    const jt_json *sv = body_get(c, "secret");
    if (!sv || sv->kind != JT_JSON_STRING) {
        gw_fail(c, 400, "badRequest", "secret", "secret is required");
        return;
    }
    jt_keystore_entry e;
    jt_errinfo ei = {0};
    jt_err rc = jt_keystore_import(c->g->ks, sv->u.str.s, body_str(c, "label"), &e, &ei);
    /* The body held the secret: wipe it now (the parsed copy and the bytes
     * as received), the answer never repeats it. */
    sodium_memzero((void *)sv->u.str.s, sv->u.str.len);
    size_t blen;
    const char *raw = srv_http_body(c->r, &blen);
    sodium_memzero((void *)raw, blen);
    key_created(c, &e, &ei, rc);
}

/* ------------------------------------------------------------ health, metrics */

static void get_health(gw_call *c)
{
    gw *g = c->g;
    gw_submit_stats st;
    gw_submit_get_stats(g->submit, &st);
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    bool ready = gw_link_ready(g->link);
    double age = gw_link_validated_age(g->link);
    jt_jw_key(&w, "status");
    jt_jw_string(&w, ready && age >= 0 && age < 60 ? "ok" : "degraded");
    jt_jw_key(&w, "node");
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "url");
    jt_jw_string(&w, gw_link_url(g->link));
    jt_jw_key(&w, "state");
    jt_jw_string(&w, gw_link_state_text(g->link));
    jt_jw_key(&w, "reconnects");
    jt_jw_uint(&w, gw_link_reconnects(g->link));
    if (gw_link_last_error(g->link)[0] && !ready) {
        jt_jw_key(&w, "last_error");
        jt_jw_string(&w, gw_link_last_error(g->link));
    }
    jt_jw_object_end(&w);
    jt_jw_key(&w, "validated_ledger");
    if (gw_link_validated(g->link))
        jt_jw_uint(&w, gw_link_validated(g->link));
    else
        jt_jw_null(&w);
    jt_jw_key(&w, "validated_ledger_age_s");
    if (age >= 0) {
        char t[32];
        snprintf(t, sizeof t, "%.1f", age);
        jt_jw_raw(&w, t, strlen(t));
    } else {
        jt_jw_null(&w);
    }
    jt_jw_key(&w, "pending");
    jt_jw_uint(&w, st.pending);
    jt_jw_key(&w, "uptime_s");
    jt_jw_uint(&w, (uint64_t)(srv_mono_seconds() - g->started));
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        gw_reply(c, ready ? 200 : 503, (const char *)b.data + 1, b.len - 2);
    else
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
    jt_buf_clear(&b);
}

static void get_metrics(gw_call *c)
{
    gw *g = c->g;
    gw_submit_stats st;
    gw_submit_get_stats(g->submit, &st);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    fprintf(f, "# HELP jt_gateway_requests_total HTTP requests answered, by status class.\n"
               "# TYPE jt_gateway_requests_total counter\n");
    for (int i = 1; i < 6; i++)
        fprintf(f, "jt_gateway_requests_total{class=\"%dxx\"} %" PRIu64 "\n", i, g->by_class[i]);
    fprintf(f, "# HELP jt_gateway_request_seconds Time from a request's arrival to its answer.\n"
               "# TYPE jt_gateway_request_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < sizeof latency_ms / sizeof *latency_ms; i++) {
        cum += g->latency_buckets[i];
        fprintf(f, "jt_gateway_request_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                latency_ms[i] / 1000.0, cum);
    }
    cum += g->latency_buckets[sizeof latency_ms / sizeof *latency_ms];
    fprintf(f, "jt_gateway_request_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
    fprintf(f, "jt_gateway_request_seconds_sum %.6f\njt_gateway_request_seconds_count %" PRIu64 "\n",
            g->latency_sum, cum);
    fprintf(f, "# HELP jt_gateway_submissions_total Transactions by the status they reached.\n"
               "# TYPE jt_gateway_submissions_total counter\n");
    for (int i = 0; i < 4; i++)
        fprintf(f, "jt_gateway_submissions_total{status=\"%s\"} %" PRIu64 "\n",
                gw_status_text((gw_status)i), st.by_status[i]);
    fprintf(f,
            "# TYPE jt_gateway_signed_total counter\njt_gateway_signed_total %" PRIu64 "\n"
            "# TYPE jt_gateway_resubmits_total counter\njt_gateway_resubmits_total %" PRIu64 "\n"
            "# TYPE jt_gateway_gap_fills_total counter\njt_gateway_gap_fills_total %" PRIu64 "\n"
            "# HELP jt_gateway_pending Transactions not yet final.\n"
            "# TYPE jt_gateway_pending gauge\njt_gateway_pending %zu\n"
            "# TYPE jt_gateway_persist_queue gauge\njt_gateway_persist_queue %zu\n"
            "# HELP jt_gateway_keys_loaded Signing keys unsealed in guarded memory now.\n"
            "# TYPE jt_gateway_keys_loaded gauge\njt_gateway_keys_loaded %zu\n"
            "# HELP jt_gateway_keys_readable Of those, readable now (held for a burst of signing).\n"
            "# TYPE jt_gateway_keys_readable gauge\njt_gateway_keys_readable %zu\n"
            "# TYPE jt_gateway_key_loads_total counter\njt_gateway_key_loads_total %" PRIu64 "\n"
            "# HELP jt_gateway_memo_keys_loaded Memo encryption keys derived and kept now.\n"
            "# TYPE jt_gateway_memo_keys_loaded gauge\njt_gateway_memo_keys_loaded %zu\n"
            "# TYPE jt_gateway_keys_dropped_total counter\njt_gateway_keys_dropped_total %" PRIu64
            "\n"
            "# HELP jt_gateway_node_up 1 when the node link is connected with a validated ledger.\n"
            "# TYPE jt_gateway_node_up gauge\njt_gateway_node_up %d\n"
            "# TYPE jt_gateway_validated_ledger gauge\njt_gateway_validated_ledger %u\n"
            "# TYPE jt_gateway_node_reconnects_total counter\n"
            "jt_gateway_node_reconnects_total %u\n"
            "# TYPE jt_gateway_rate_limited_total counter\njt_gateway_rate_limited_total %" PRIu64
            "\n"
            "# TYPE jt_gateway_auth_failures_total counter\njt_gateway_auth_failures_total %" PRIu64
            "\n"
            "# TYPE jt_gateway_http_inflight gauge\njt_gateway_http_inflight %u\n",
            st.signed_count, st.resubmits, st.gap_fills, st.pending, st.persist_queue,
            st.keys_loaded, st.keys_readable, st.keys_loads, gw_memos_loaded(g->memos), st.keys_dropped,
            gw_link_ready(g->link) ? 1 : 0, gw_link_validated(g->link),
            gw_link_reconnects(g->link), g->rate_limited, g->auth_failures,
            srv_net_http_inflight(g->net));
    gw_events_stats es;
    gw_events_get_stats(g->events, &es);
    gw_webhooks_stats ws;
    gw_webhooks_get_stats(g->webhooks, &ws);
    fprintf(f,
            "# HELP jt_gateway_events_ledger Last validated ledger whose events are all queued.\n"
            "# TYPE jt_gateway_events_ledger gauge\njt_gateway_events_ledger %" PRIu32 "\n"
            "# TYPE jt_gateway_events_connections gauge\njt_gateway_events_connections %u\n"
            "# TYPE jt_gateway_events_subscriptions gauge\njt_gateway_events_subscriptions %u\n"
            "# TYPE jt_gateway_events_pushed_total counter\njt_gateway_events_pushed_total %" PRIu64
            "\n"
            "# TYPE jt_gateway_events_replayed_total counter\njt_gateway_events_replayed_total %" PRIu64
            "\n"
            "# TYPE jt_gateway_events_slow_closed_total counter\n"
            "jt_gateway_events_slow_closed_total %" PRIu64 "\n"
            "# HELP jt_gateway_events_ledgers_skipped_total Ledgers the node did not have.\n"
            "# TYPE jt_gateway_events_ledgers_skipped_total counter\n"
            "jt_gateway_events_ledgers_skipped_total %" PRIu64 "\n"
            "# HELP jt_gateway_webhook_deliveries_total Webhook attempts by outcome (dead: given up).\n"
            "# TYPE jt_gateway_webhook_deliveries_total counter\n"
            "jt_gateway_webhook_deliveries_total{result=\"ok\"} %" PRIu64 "\n"
            "jt_gateway_webhook_deliveries_total{result=\"failed\"} %" PRIu64 "\n"
            "jt_gateway_webhook_deliveries_total{result=\"dead\"} %" PRIu64 "\n"
            "jt_gateway_webhook_deliveries_total{result=\"skipped\"} %" PRIu64 "\n"
            "# HELP jt_gateway_webhook_queue Deliveries not yet acknowledged.\n"
            "# TYPE jt_gateway_webhook_queue gauge\njt_gateway_webhook_queue %zu\n"
            "# TYPE jt_gateway_webhook_inflight gauge\njt_gateway_webhook_inflight %zu\n"
            "# TYPE jt_gateway_webhooks gauge\njt_gateway_webhooks %zu\n"
            "# HELP jt_gateway_webhook_dead_letters Dead letters kept.\n"
            "# TYPE jt_gateway_webhook_dead_letters gauge\njt_gateway_webhook_dead_letters %zu\n"
            "# TYPE jt_gateway_webhook_dead_letters_dropped_total counter\n"
            "jt_gateway_webhook_dead_letters_dropped_total %" PRIu64 "\n",
            es.cursor, es.conns, es.subs, es.pushed, es.replayed, es.slow_closed, es.skipped, ws.ok,
            ws.failed, ws.dead, ws.skipped, ws.queued, ws.inflight, ws.hooks, ws.dead_letters, ws.dead_dropped);
    fclose(f);
    count(c, 200);
    srv_http_field h = {"Cache-Control", "no-store"};
    srv_http_respond(c->r, 200, "text/plain; version=0.0.4", &h, 1, text, len);
    free(text);
    free_call(c);
}

static void get_openapi(gw_call *c)
{
    jt_buf b;
    jt_buf_init(&b);
    if (gw_openapi(&b)) {
        jt_buf_clear(&b);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    count(c, 200);
    srv_http_respond(c->r, 200, "application/json", NULL, 0, b.data, b.len);
    jt_buf_clear(&b);
    free_call(c);
}

/* ------------------------------------------------------------ the table */

#define ACCT "/v2/accounts/{address}"
static const gw_route routes[] = {
    {"GET", "/v2/health", get_health, 0, F_PUBLIC,
     "liveness: the gateway, its node link, the last validated ledger and its age"},
    {"GET", "/v2/openapi.json", get_openapi, 0, F_PUBLIC, "this API as an OpenAPI 3 document"},
    {"GET", "/metrics", get_metrics, GW_SCOPE_ADMIN, 0, "Prometheus metrics"},
    {"POST", "/v2/wallet/new", post_wallet_new, GW_SCOPE_ADMIN, 0,
     "create a key in the keystore; the secret is never returned"},
    {"POST", "/v2/wallet/import", post_wallet_import, GW_SCOPE_ADMIN, F_BODY,
     "import an existing secret into the keystore"},
    {"GET", "/v2/wallets", get_wallets, GW_SCOPE_READ, 0, "the accounts this gateway can sign for"},
    {"GET", ACCT "/balances", gw_get_balances, GW_SCOPE_READ, F_ACCOUNT,
     "SWT and token balances, with freezed (reserve and offers) and sequence"},
    {"GET", ACCT "/info", gw_get_info, GW_SCOPE_READ, F_ACCOUNT, "the account root"},
    {"POST", ACCT "/payments", post_payment, GW_SCOPE_SIGN, F_ACCOUNT | F_BODY | F_HELD,
     "send a payment (idempotent by client_id; ?wait=validated; encrypt_memos seals the memos "
     "to the destination's MessageKey)"},
    {"GET", ACCT "/payments/{id}", get_payment, GW_SCOPE_READ, F_ACCOUNT,
     "one payment by hash or client_id, with its status"},
    {"GET", ACCT "/payments", gw_get_payments, GW_SCOPE_READ, F_ACCOUNT,
     "payment history, paged (limit, marker, forward)"},
    {"POST", ACCT "/orders", post_order, GW_SCOPE_SIGN, F_ACCOUNT | F_BODY | F_HELD,
     "place an order on the book"},
    {"DELETE", ACCT "/orders/{sequence}", delete_order, GW_SCOPE_SIGN, F_ACCOUNT | F_HELD,
     "cancel an order (client_id in the body or Idempotency-Key)"},
    {"GET", ACCT "/orders", gw_get_orders, GW_SCOPE_READ, F_ACCOUNT, "open orders"},
    {"GET", "/v2/order_book/{base}/{counter}", gw_get_order_book, GW_SCOPE_READ, 0,
     "bids and asks of a pair"},
    {"POST", ACCT "/relations", post_relation, GW_SCOPE_SIGN, F_ACCOUNT | F_BODY | F_HELD,
     "trust (sign scope), authorize or freeze (issue scope)"},
    {"DELETE", ACCT "/relations", delete_relation, GW_SCOPE_ISSUE, F_ACCOUNT | F_BODY | F_HELD,
     "unfreeze or unauthorize"},
    {"GET", ACCT "/relations", gw_get_relations, GW_SCOPE_READ, F_ACCOUNT,
     "trust lines, or authorize/freeze relations (?type=)"},
    {"POST", ACCT "/settings", post_settings, GW_SCOPE_ISSUE, F_ACCOUNT | F_BODY | F_HELD,
     "account settings (AccountSet, SetRegularKey; message_key \"publish\" publishes the "
     "account's encryption key)"},
    {"GET", ACCT "/transactions", gw_get_transactions, GW_SCOPE_READ, F_ACCOUNT,
     "history with the old API's types"},
    {"GET", "/v2/transactions/{hash}", get_transaction, GW_SCOPE_READ, 0,
     "any transaction, with its metadata and validation state"},
    {"GET", "/v2/ledger/index", gw_get_ledger, GW_SCOPE_READ, 0, "the last validated ledger"},
    {"GET", "/v2/ledger/index/{index}", gw_get_ledger, GW_SCOPE_READ, 0, "a ledger by index"},
    {"GET", "/v2/ledger/hash/{hash}", gw_get_ledger, GW_SCOPE_READ, 0, "a ledger by hash"},
    {"POST", "/v2/blob", post_blob, GW_SCOPE_SIGN, F_BODY,
     "submit a transaction signed elsewhere; tracked like the gateway's own"},
    {"GET", "/v2/events", gw_get_events, GW_SCOPE_READ, 0,
     "WebSocket: validated ledger, transaction and account events, with replay (since_ledger); "
     "the API key in the first message {\"command\":\"auth\",\"key\":...}"},
    {"POST", "/v2/webhooks", gw_post_webhook, GW_SCOPE_ADMIN, F_BODY,
     "register a URL for account events ({url, accounts, secret?}); the secret is shown once"},
    {"GET", "/v2/webhooks", gw_get_webhooks, GW_SCOPE_ADMIN, 0,
     "the webhooks, with deliveries owed and dead letters"},
    {"DELETE", "/v2/webhooks/{id}", gw_delete_webhook, GW_SCOPE_ADMIN, 0,
     "remove a webhook, its deliveries and its dead letters"},
    {"GET", "/v2/webhooks/{id}/dead", gw_get_webhook_dead, GW_SCOPE_ADMIN, 0,
     "a webhook's dead letters, with their events"},
    {"POST", "/v2/webhooks/{id}/dead/retry", gw_post_webhook_retry, GW_SCOPE_ADMIN, 0,
     "send a webhook's dead letters again (attempts from zero, due now; ?limit=N, at most 1000 a call, \"more\" when some are left); once its endpoint works"},
};
#define N_ROUTES (sizeof routes / sizeof *routes)

/* 1: match (params captured); 0: no. */
static int match(const char *pattern, const char *path, char params[][160], size_t *np)
{
    *np = 0;
    const char *p = pattern, *q = path;
    while (*p && *q) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            size_t n = strcspn(q, "/");
            if (!pe || n == 0 || n >= 160 || *np == GW_MAX_PARAMS)
                return 0;
            memcpy(params[*np], q, n);
            params[(*np)++][n] = 0;
            p = pe + 1;
            q += n;
        } else if (*p == *q) {
            p++;
            q++;
        } else {
            return 0;
        }
    }
    return !*p && !*q;
}

static const gw_route *find_route(const char *method, const char *path, char params[][160],
                                  bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < N_ROUTES; i++) {
        size_t np;
        if (!match(routes[i].path, path, params, &np))
            continue;
        *path_known = true;
        if (!strcmp(routes[i].method, method) ||
            (!strcmp(method, "HEAD") && !strcmp(routes[i].method, "GET")))
            return &routes[i];
    }
    return NULL;
}

/* ------------------------------------------------------------ rate limits */

typedef struct bucket {
    double tokens, at;
} bucket;

/* Seconds to wait, 0 when the request may go now. */
static double take_token(gw *g, const char *key_id)
{
    bucket *b = gw_map_get(g->buckets, key_id, strlen(key_id));
    double now = srv_mono_seconds();
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b || gw_map_put(g->buckets, key_id, strlen(key_id), b)) {
            free(b);
            return 0;
        }
        b->tokens = g->cfg->key_burst;
        b->at = now;
    }
    b->tokens += (now - b->at) * g->cfg->key_rate;
    if (b->tokens > g->cfg->key_burst)
        b->tokens = g->cfg->key_burst;
    b->at = now;
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return 0;
    }
    return (1 - b->tokens) / g->cfg->key_rate;
}

/* ------------------------------------------------------------ CORS */

static bool origin_allowed(const gw *g, const char *origin)
{
    const char *p = g->cfg->cors_origins;
    size_t ol = strlen(origin);
    while (*p) {
        size_t n = strcspn(p, " ,\t");
        if ((n == 1 && *p == '*') || (n == ol && !memcmp(p, origin, n)))
            return true;
        p += n;
        p += strspn(p, " ,\t");
    }
    return false;
}

/* ------------------------------------------------------------ dispatch */

static void dispatch(gw_call *c, bool over_rate)
{
    gw *g = c->g;
    const char *method = srv_http_method(c->r);
    const char *path = srv_http_path(c->r);
    char origin[256];
    if (g->cfg->cors_origins[0] && srv_http_header(c->r, "Origin", origin, sizeof origin) > 0 &&
        origin_allowed(g, origin))
        snprintf(c->cors_origin, sizeof c->cors_origin, "%s", origin);
    if (!strcmp(method, "OPTIONS") && c->cors_origin[0]) {
        srv_http_field h[] = {
            {"Access-Control-Allow-Methods", "GET, POST, DELETE"},
            {"Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key"},
            {"Access-Control-Max-Age", "600"},
        };
        respond(c, 204, h, 3, NULL, 0);
        return;
    }
    if (over_rate) {
        /* Counted in the metrics, not logged one by one (a flood must not
         * become a flood of log lines). */
        c->g->rate_limited++;
        c->quiet = true;
        srv_http_field h = {"Retry-After", "1"};
        fail_with(c, 429, "slowDown", NULL, "too many requests on this connection", &h, 1);
        return;
    }
    bool known;
    c->route = find_route(method, path, c->params, &known);
    if (!c->route) {
        if (known)
            gw_fail(c, 405, "methodNotAllowed", NULL, "this path does not take that method");
        else
            gw_fail(c, 404, "notFound", NULL, "no such endpoint (see /v2/openapi.json)");
        return;
    }
    const gw_route *rt = c->route;
    if (!(rt->flags & F_PUBLIC)) {
        char auth[256];
        int n = srv_http_header(c->r, "Authorization", auth, sizeof auth);
        char err[400];
        int ok = 0;
        if (n > 7 && !strncmp(auth, "Bearer ", 7))
            ok = gw_apikey_check(g->store, auth + 7, (size_t)n - 7, &c->key, err, sizeof err);
        sodium_memzero(auth, sizeof auth);
        if (ok < 0) {
            gw_fail(c, 503, "storeUnavailable", NULL, err);
            return;
        }
        if (ok == 0) {
            g->auth_failures++;
            srv_http_field h = {"WWW-Authenticate", "Bearer"};
            fail_with(c, 401, "unauthorized", NULL,
                      n > 0 ? "the API key is not valid" : "Authorization: Bearer <API key> is required",
                      &h, 1);
            return;
        }
        c->authed = true;
        double wait = take_token(g, c->key.id);
        if (wait > 0) {
            g->rate_limited++;
            char ra[16];
            snprintf(ra, sizeof ra, "%d", (int)wait + 1);
            srv_http_field h = {"Retry-After", ra};
            fail_with(c, 429, "rateLimited", NULL, "this API key's request rate is exceeded", &h,
                      1);
            return;
        }
        if (rt->scope && !(c->key.scopes & (rt->scope | GW_SCOPE_ADMIN))) {
            char msg[96], sc[32];
            gw_apikey_scopes_text(rt->scope, sc, sizeof sc);
            snprintf(msg, sizeof msg, "this API key lacks the %s scope", sc);
            gw_fail(c, 403, "forbidden", NULL, msg);
            return;
        }
    }
    if (rt->flags & F_ACCOUNT) {
        if (!jt_address_is_valid(c->params[0])) {
            gw_fail(c, 400, "badAddress", "address", "not an account address");
            return;
        }
        bool writes = rt->scope & (GW_SCOPE_SIGN | GW_SCOPE_ISSUE);
        if (writes && !(c->key.scopes & GW_SCOPE_ADMIN) &&
            !gw_apikey_allows_account(&c->key, c->params[0])) {
            gw_fail(c, 403, "forbidden", NULL, "this API key may not act for this account");
            return;
        }
        jt_keystore_entry e;
        if ((rt->flags & F_HELD) &&
            (jt_keystore_find(g->ks, c->params[0], &e) != JT_OK || e.watch_only)) {
            gw_fail(c, 404, "accountNotHeld", "address",
                    "this gateway holds no key for the account");
            return;
        }
    }
    size_t blen;
    const char *body = srv_http_body(c->r, &blen);
    if (blen) {
        jt_errinfo ei;
        jt_json_limits lim = {.max_bytes = g->cfg->max_body, .max_depth = 16, .max_items = 10000};
        if (jt_json_parse(body, blen, &lim, &c->body, &ei) != JT_OK) {
            c->body = NULL;
            gw_fail(c, 400, "badJson", NULL, ei.msg);
            return;
        }
        if (jt_json_root(c->body)->kind != JT_JSON_OBJECT) {
            gw_fail(c, 400, "badJson", NULL, "the body must be a JSON object");
            return;
        }
    } else if (rt->flags & F_BODY) {
        gw_fail(c, 400, "badRequest", NULL, "a JSON body is required");
        return;
    }
    rt->fn(c);
}

void gw_http_on_request(void *ctx, srv_http_req *r, bool over_rate)
{
    gw *g = ctx;
    gw_call *c = calloc(1, sizeof *c);
    if (!c) {
        static const char body[] =
            "{\"success\":false,\"status_code\":\"503\",\"error\":\"outOfMemory\"}";
        srv_http_respond(r, 503, "application/json", NULL, 0, body, sizeof body - 1);
        return;
    }
    c->g = g;
    c->r = r;
    c->started = srv_mono_seconds();
    srv_http_set_user(r, c);
    dispatch(c, over_rate);
}

void gw_http_on_abort(void *ctx, srv_http_req *r)
{
    /* The call still gets its answer (dropped by the core); nothing it
     * waits for may be cancelled without losing track of a write. */
    (void)ctx;
    (void)r;
}

/* ------------------------------------------------------------ OpenAPI */

int gw_openapi(jt_buf *out)
{
    jt_jw w;
    jt_jw_init(&w, out);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "openapi");
    jt_jw_string(&w, "3.0.3");
    jt_jw_key(&w, "info");
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "title");
    jt_jw_string(&w, "jt-gateway");
    jt_jw_key(&w, "version");
    jt_jw_string(&w, "2");
    jt_jw_object_end(&w);
    jt_jw_key(&w, "components");
    jt_jw_raw(&w,
              "{\"securitySchemes\":{\"apiKey\":{\"type\":\"http\",\"scheme\":\"bearer\"}}}",
              strlen("{\"securitySchemes\":{\"apiKey\":{\"type\":\"http\",\"scheme\":\"bearer\"}}}"));
    jt_jw_key(&w, "paths");
    jt_jw_object_begin(&w);
    bool done[N_ROUTES] = {0};
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (done[i])
            continue;
        jt_jw_key(&w, routes[i].path);
        jt_jw_object_begin(&w);
        for (size_t j = i; j < N_ROUTES; j++) {
            if (strcmp(routes[j].path, routes[i].path))
                continue;
            done[j] = true;
            const gw_route *rt = &routes[j];
            char m[8];
            size_t k = 0;
            for (; rt->method[k] && k < sizeof m - 1; k++)
                m[k] = (char)(rt->method[k] + ('a' - 'A'));
            m[k] = 0;
            jt_jw_key(&w, m);
            jt_jw_object_begin(&w);
            jt_jw_key(&w, "summary");
            jt_jw_string(&w, rt->summary);
            if (!(rt->flags & F_PUBLIC)) {
                char sc[32];
                gw_apikey_scopes_text(rt->scope, sc, sizeof sc);
                jt_jw_key(&w, "x-scope");
                jt_jw_string(&w, sc);
                jt_jw_key(&w, "security");
                jt_jw_raw(&w, "[{\"apiKey\":[]}]", 15);
            }
            jt_jw_key(&w, "parameters");
            jt_jw_array_begin(&w);
            for (const char *p = strchr(rt->path, '{'); p; p = strchr(p + 1, '{')) {
                const char *e = strchr(p, '}');
                jt_jw_object_begin(&w);
                jt_jw_key(&w, "name");
                jt_jw_string_n(&w, p + 1, (size_t)(e - p - 1));
                jt_jw_key(&w, "in");
                jt_jw_string(&w, "path");
                jt_jw_key(&w, "required");
                jt_jw_bool(&w, true);
                jt_jw_key(&w, "schema");
                jt_jw_raw(&w, "{\"type\":\"string\"}", 17);
                jt_jw_object_end(&w);
            }
            jt_jw_array_end(&w);
            if (rt->flags & F_BODY) {
                jt_jw_key(&w, "requestBody");
                jt_jw_raw(&w,
                          "{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"type\":"
                          "\"object\"}}}}",
                          strlen("{\"required\":true,\"content\":{\"application/json\":{\"schema\":{"
                                 "\"type\":\"object\"}}}}"));
            }
            jt_jw_key(&w, "responses");
            jt_jw_raw(&w, "{\"default\":{\"description\":\"the success or error envelope\"}}",
                      strlen("{\"default\":{\"description\":\"the success or error envelope\"}}"));
            jt_jw_object_end(&w);
        }
        jt_jw_object_end(&w);
    }
    jt_jw_object_end(&w);
    jt_jw_object_end(&w);
    return jt_jw_finish(&w) == JT_OK ? 0 : -1;
}
