/*
 * reads.c — the REST API's read routes: node requests and their answers in
 * the REST shapes (routes.h). Every request to the node is written with the
 * JSON writer from checked values; nothing from the query is pasted into
 * it, and markers are opaque (hex of the node's marker JSON, checked when
 * they come back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jt/amount_math.h>
#include <jt/base58.h>
#include <jt/util.h>

#include "config.h"
#include "link.h"
#include "map.h"
#include "memo.h"
#include "routes.h"
#include "submit.h"
#include "txbuild.h"

#define LSF_SELL 0x00020000u
#define LSF_PASSIVE 0x00010000u
#define PAGE_MAX 200

/* ------------------------------------------------------------ node calls */

/* The newest validated ledger the node has answered a read at. The
 * gateway learns of a close from the node's stream a little after the
 * node has made it, and jt-node keeps the state of its last closed ledger
 * only: a read pinned to the gateway's validated ledger may find it gone
 * (lgrNotFound). Such a read is asked again at the node's own validated
 * ledger (fan_finish), and from then on no answer may name an older one:
 * the cache of the gateway's ledger is not used and reads are not pinned
 * to it until the gateway has seen this one too. */
static uint32_t node_seen;

typedef struct node_call {
    gw_call *c;
    void (*done)(gw_call *c, const jt_json *result);
} node_call;

static void on_node_reply(void *ctx, const jt_session_reply *r)
{
    node_call *nc = ctx;
    gw_call *c = nc->c;
    void (*done)(gw_call *, const jt_json *) = nc->done;
    free(nc);
    if (r->err == JT_OK) {
        done(c, jt_json_get(r->msg, "result"));
        return;
    }
    if (r->err == JT_ERPC) {
        const char *tok = r->ei && r->ei->field[0] ? r->ei->field : "nodeError";
        int status = 502;
        if (!strcmp(tok, "actNotFound") || !strcmp(tok, "txnNotFound") ||
            !strcmp(tok, "lgrNotFound") || !strcmp(tok, "objectNotFound"))
            status = 404;
        else if (!strcmp(tok, "invalidParams") || !strcmp(tok, "actMalformed") ||
                 strstr(tok, "Malformed") || !strcmp(tok, "badMarket"))
            status = 400;
        else if (!strcmp(tok, "slowDown") || !strcmp(tok, "tooBusy"))
            status = 503;
        gw_fail(c, status, tok, NULL, r->ei ? r->ei->msg : "");
        return;
    }
    gw_fail(c, r->err == JT_ETIMEDOUT ? 504 : 502, "nodeUnavailable", NULL,
            r->ei ? r->ei->msg : "the node did not answer");
}

void gw_node_call(gw_call *c, const char *request, void (*done)(gw_call *c, const jt_json *result))
{
    if (!gw_link_ready(c->g->link)) {
        gw_fail(c, 503, "nodeUnavailable", NULL, "no link to a node with a validated ledger");
        return;
    }
    node_call *nc = malloc(sizeof *nc);
    if (!nc) {
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    nc->c = c;
    nc->done = done;
    jt_errinfo ei;
    if (gw_link_request(c->g->link, request, (int)c->g->cfg->request_timeout_ms, on_node_reply,
                        nc, &ei) != JT_OK) {
        free(nc);
        gw_fail(c, 503, "nodeUnavailable", NULL, ei.msg);
    }
}

/* Writes a request {"command":..., "account": <params[0]>, ...}. */
static bool finish_req(gw_call *c, jt_jw *w, jt_buf *b)
{
    jt_jw_object_end(w);
    if (jt_jw_finish(w) != JT_OK || jt_buf_append(b, "", 1) != JT_OK) {
        jt_buf_clear(b);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return false;
    }
    return true;
}

static void begin_req(jt_jw *w, jt_buf *b, const char *command)
{
    jt_buf_init(b);
    jt_jw_init(w, b);
    jt_jw_object_begin(w);
    jt_jw_key(w, "command");
    jt_jw_string(w, command);
}

static void reply_buf(gw_call *c, jt_jw *w, jt_buf *b)
{
    jt_jw_object_end(w);
    if (jt_jw_finish(w) == JT_OK && b->len >= 2)
        gw_reply(c, 200, (const char *)b->data + 1, b->len - 2);
    else
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
    jt_buf_clear(b);
}

/* A node amount (drops string or {value,currency,issuer}). */
static bool node_amount(const jt_json *v, jt_amount *a)
{
    jt_errinfo ei;
    if (!v)
        return false;
    if (v->kind == JT_JSON_STRING)
        return jt_amount_from_drops(a, v->u.str.s, JT_AMOUNT_ALLOW_NEGATIVE | JT_AMOUNT_LEDGER_RANGE,
                                    &ei) == JT_OK;
    const char *val = jt_json_string(jt_json_get(v, "value"));
    const char *cur = jt_json_string(jt_json_get(v, "currency"));
    const char *iss = jt_json_string(jt_json_get(v, "issuer"));
    return val && cur && iss &&
           jt_amount_issued(a, val, cur, iss, JT_AMOUNT_ALLOW_NEGATIVE, &ei) == JT_OK;
}

/* The amount's value as an issued-kind number (SWT: drops × 10^-6). */
static void as_value(const jt_amount *a, jt_amount *out)
{
    if (a->native)
        (void)jt_amount_from_mantissa(out, (int64_t)a->mantissa * (a->negative ? -1 : 1), -6, NULL,
                                      NULL);
    else
        *out = *a;
}

static void value_text(const jt_amount *a, char *out, size_t cap)
{
    if (a->native)
        jt_amount_swt_text(a, out, cap);
    else
        jt_amount_value_text(a, out, cap);
}

/* num / den as a decimal text (a price). */
static void ratio_text(const jt_amount *num, const jt_amount *den, char *out, size_t cap)
{
    jt_amount n, d, q, like;
    as_value(num, &n);
    as_value(den, &d);
    (void)jt_amount_from_mantissa(&like, 1, 0, NULL, NULL);
    if (jt_amount_is_zero(&d) || jt_amount_div(&n, &d, &like, &q) != JT_OK) {
        snprintf(out, cap, "0");
        return;
    }
    jt_amount_value_text(&q, out, cap);
}

static void pair_side(const jt_amount *a, char *out, size_t cap)
{
    if (a->native) {
        snprintf(out, cap, "SWT");
        return;
    }
    char cur[JT_CURRENCY_TEXT_MAX], iss[JT_ADDRESS_MAX];
    jt_currency_to_text(&a->currency, cur);
    jt_address_encode(&a->issuer, iss);
    snprintf(out, cap, "%s:%s", cur, iss);
}

/* ------------------------------------------------------------ the read cache
 *
 * Reads name the last validated ledger by its index, so an answer about an
 * account is the same for every caller until the next validated ledger: it
 * is kept (per route, account and query) and the cache is emptied when a
 * new validated ledger is announced. Bounded in entries and bytes; when
 * full, answers are simply not kept until the next ledger. */
#define CACHE_MAX_ENTRIES 8192
#define CACHE_MAX_BYTES ((size_t)32 << 20)

typedef struct cached {
    size_t len;
    char members[];
} cached;

static gw_map *cache;
static uint32_t cache_ledger;
static size_t cache_bytes;

static bool drop_cached(void *ctx, const char *k, size_t kl, void *v)
{
    free(v);
    return true;
}

static void cache_clear(void)
{
    if (!cache)
        return;
    gw_map_each(cache, drop_cached, NULL);
    gw_map_free(cache);
    cache = NULL;
    cache_bytes = 0;
}

void gw_reads_on_ledger(uint32_t index)
{
    if (index != cache_ledger) {
        cache_clear();
        cache_ledger = index;
    }
}

void gw_reads_free(void)
{
    cache_clear();
}

/* The cache key of c: route path and query. */
static size_t cache_key(gw_call *c, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s?%s", srv_http_path(c->r), srv_http_query(c->r));
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Answers c from the cache when it holds c's answer for `ledger`. */
static bool reply_from_cache(gw_call *c, uint32_t ledger)
{
    char k[512];
    size_t kl = cache_key(c, k, sizeof k);
    if (!kl || !cache || ledger != cache_ledger || node_seen > ledger)
        return false;
    cached *e = gw_map_get(cache, k, kl);
    if (!e)
        return false;
    gw_reply(c, 200, e->members, e->len);
    return true;
}

/* Answers c with the object being written, keeping it for others when it
 * is about the cache's ledger. */
static void reply_cached(gw_call *c, jt_jw *w, jt_buf *b)
{
    jt_jw_object_end(w);
    if (jt_jw_finish(w) != JT_OK || b->len < 2) {
        jt_buf_clear(b);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    char k[512];
    size_t kl = cache_key(c, k, sizeof k);
    size_t len = b->len - 2;
    uint32_t ledger = c->state_ledger;
    if (kl && ledger && ledger == cache_ledger && cache_bytes + len < CACHE_MAX_BYTES &&
        (!cache || gw_map_count(cache) < CACHE_MAX_ENTRIES)) {
        if (!cache)
            cache = gw_map_new();
        cached *e = cache ? malloc(sizeof *e + len) : NULL;
        if (e) {
            e->len = len;
            memcpy(e->members, b->data + 1, len);
            cached *old = gw_map_get(cache, k, kl);
            if (gw_map_put(cache, k, kl, e) == 0) {
                cache_bytes += len;
                if (old) {
                    cache_bytes -= old->len;
                    free(old);
                }
            } else {
                free(e);
            }
        }
    }
    gw_reply(c, 200, (const char *)b->data + 1, len);
    jt_buf_clear(b);
}

/* ------------------------------------------------------------ several node requests at once
 *
 * A read that needs several node requests sends them together, all about
 * one ledger (the last validated one, by index), and answers once all have
 * come back: with the first failure, or with what `done` makes of them. */
#define FAN_MAX 3

static jt_json_doc *keep(const jt_json *v);

/* How often a read pinned to a ledger the node has closed past is asked
 * again at the node's last validated ledger. */
#define FAN_TRIES 8

typedef struct fan {
    gw_call *c;
    int pending;
    jt_json_doc *docs[FAN_MAX];
    int status;
    char token[48], msg[256];
    void (*done)(gw_call *c, const jt_json *const *results);
    char *reqs[FAN_MAX]; /* kept to be asked again */
    int n, tries;
    bool at_node; /* asked at "validated": the answers say which ledger */
} fan;

typedef struct fan_slot {
    fan *f;
    int i;
} fan_slot;

static void free_fan(void *p)
{
    fan *f = p;
    for (int i = 0; i < FAN_MAX; i++) {
        jt_json_doc_free(f->docs[i]);
        free(f->reqs[i]);
    }
    free(f);
}

/* req (a request object's text) with its ledger_index set to "validated". */
static char *at_validated(const char *req)
{
    jt_json_doc *d = NULL;
    jt_errinfo ei;
    if (jt_json_parse(req, strlen(req), NULL, &d, &ei) != JT_OK)
        return NULL;
    const jt_json *o = jt_json_root(d);
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    for (size_t i = 0; o->kind == JT_JSON_OBJECT && i < o->u.obj.n; i++) {
        jt_jw_key(&w, o->u.obj.keys[i]);
        if (!strcmp(o->u.obj.keys[i], "ledger_index"))
            jt_jw_string(&w, "validated");
        else
            jt_jw_value(&w, o->u.obj.vals[i]);
    }
    jt_jw_object_end(&w);
    jt_json_doc_free(d);
    if (jt_jw_finish(&w) != JT_OK || jt_buf_append(&b, "", 1) != JT_OK) {
        jt_buf_clear(&b);
        return NULL;
    }
    return (char *)b.data; /* the buffer's own allocation */
}

static void fan_send(fan *f);

/* A read pinned to the gateway's validated ledger found it closed past
 * (lgrNotFound): the same requests again at the node's validated ledger. */
static bool fan_again(fan *f)
{
    for (int i = 0; i < f->n; i++) {
        char *r = at_validated(f->reqs[i]);
        if (!r)
            return false;
        free(f->reqs[i]);
        f->reqs[i] = r;
        jt_json_doc_free(f->docs[i]);
        f->docs[i] = NULL;
    }
    f->status = 0;
    f->token[0] = f->msg[0] = '\0';
    f->at_node = true;
    f->tries++;
    fan_send(f);
    return true;
}

/* Asked at "validated": the ledger all the answers are about, or 0 when
 * they are not about one and the same (a close came between them). */
static uint32_t fan_ledger(const fan *f)
{
    uint64_t li = 0;
    for (int i = 0; i < f->n; i++) {
        uint64_t x = 0;
        if (!f->docs[i] ||
            !jt_json_uint64(jt_json_get(jt_json_root(f->docs[i]), "ledger_index"), true, &x) ||
            !x || x > UINT32_MAX || (li && x != li))
            return 0;
        li = x;
    }
    return (uint32_t)li;
}

static void fan_finish(fan *f)
{
    gw_call *c = f->c;
    if (f->status == 404 && !strcmp(f->token, "lgrNotFound") && !f->at_node &&
        f->tries < FAN_TRIES && fan_again(f))
        return;
    if (f->status) {
        gw_fail(c, f->status, f->token, NULL, f->msg);
        return;
    }
    if (f->at_node) {
        uint32_t li = fan_ledger(f);
        if (!li) {
            if (f->tries < FAN_TRIES && fan_again(f))
                return;
            gw_fail(c, 503, "nodeBusy", NULL,
                    "the node's ledgers closed faster than the read could be answered");
            return;
        }
        c->state_ledger = li;
        if (li > node_seen)
            node_seen = li;
    }
    const jt_json *res[FAN_MAX];
    for (int i = 0; i < FAN_MAX; i++)
        res[i] = f->docs[i] ? jt_json_root(f->docs[i]) : NULL;
    f->done(c, res);
}

static void fan_error(fan *f, int status, const char *token, const char *msg)
{
    if (f->status)
        return;
    f->status = status;
    snprintf(f->token, sizeof f->token, "%s", token);
    snprintf(f->msg, sizeof f->msg, "%s", msg ? msg : "");
}

static void on_fan_reply(void *ctx, const jt_session_reply *r)
{
    fan_slot *s = ctx;
    fan *f = s->f;
    int i = s->i;
    free(s);
    if (r->err == JT_OK) {
        f->docs[i] = keep(jt_json_get(r->msg, "result"));
        if (!f->docs[i])
            fan_error(f, 500, "outOfMemory", "out of memory");
    } else if (r->err == JT_ERPC) {
        const char *tok = r->ei && r->ei->field[0] ? r->ei->field : "nodeError";
        int status = !strcmp(tok, "actNotFound") || !strcmp(tok, "lgrNotFound") ? 404 : 502;
        fan_error(f, status, tok, r->ei ? r->ei->msg : "");
    } else {
        fan_error(f, r->err == JT_ETIMEDOUT ? 504 : 502, "nodeUnavailable",
                  r->ei ? r->ei->msg : "the node did not answer");
    }
    if (--f->pending == 0)
        fan_finish(f);
}

/* Sends the fan's requests. */
static void fan_send(fan *f)
{
    gw_call *c = f->c;
    f->pending = f->n + 1; /* one for this function, so nothing finishes while sending */
    for (int i = 0; i < f->n; i++) {
        fan_slot *s = malloc(sizeof *s);
        jt_errinfo ei = {0};
        if (!s) {
            fan_error(f, 500, "outOfMemory", "out of memory");
            f->pending--;
            continue;
        }
        s->f = f;
        s->i = i;
        if (gw_link_request(c->g->link, f->reqs[i], (int)c->g->cfg->request_timeout_ms,
                            on_fan_reply, s, &ei) != JT_OK) {
            free(s);
            fan_error(f, 503, "nodeUnavailable", ei.msg);
            f->pending--;
        }
    }
    if (--f->pending == 0)
        fan_finish(f);
}

/* Sends the n requests (pinned to c->state_ledger); c->state becomes the
 * fan. */
static void fan_out(gw_call *c, const char *const *reqs, int n,
                    void (*done)(gw_call *c, const jt_json *const *results))
{
    fan *f = calloc(1, sizeof *f);
    if (!f) {
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    f->c = c;
    f->done = done;
    f->n = n;
    c->state = f;
    c->free_state = free_fan;
    for (int i = 0; i < n; i++)
        if (!(f->reqs[i] = strdup(reqs[i]))) {
            gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
            return;
        }
    /* The node answered at a newer ledger already: asking at the
     * gateway's would only find it gone. */
    if (node_seen > c->state_ledger) {
        if (!fan_again(f))
            gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    fan_send(f);
}

/* {"command":C,"account":A,"ledger_index":L[,"limit":400]} into out. */
static bool account_req(gw_call *c, const char *command, uint32_t ledger, bool limit, jt_buf *out)
{
    jt_jw w;
    begin_req(&w, out, command);
    jt_jw_key(&w, "account");
    jt_jw_string(&w, c->params[0]);
    jt_jw_key(&w, "ledger_index");
    jt_jw_uint(&w, ledger);
    if (limit) {
        jt_jw_key(&w, "limit");
        jt_jw_uint(&w, 400);
    }
    return finish_req(c, &w, out);
}

/* The ledger a read is about; 0 (and c answered 503) without one. */
static uint32_t read_ledger(gw_call *c)
{
    uint32_t v = gw_link_validated(c->g->link);
    if (!gw_link_ready(c->g->link) || !v) {
        gw_fail(c, 503, "nodeUnavailable", NULL, "no link to a node with a validated ledger");
        return 0;
    }
    c->state_ledger = v;
    return v;
}

/* ------------------------------------------------------------ info */

static void info_done(gw_call *c, const jt_json *const *res)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "account_data");
    jt_jw_value(&w, jt_json_get(res[0], "account_data"));
    jt_jw_key(&w, "ledger_index");
    jt_jw_uint(&w, c->state_ledger);
    jt_jw_key(&w, "validated");
    jt_jw_bool(&w, true);
    reply_cached(c, &w, &b);
}

void gw_get_info(gw_call *c)
{
    uint32_t v = read_ledger(c);
    if (!v || reply_from_cache(c, v))
        return;
    jt_buf b;
    jt_buf_init(&b);
    if (!account_req(c, "account_info", v, false, &b))
        return;
    const char *reqs[1] = {(const char *)b.data};
    fan_out(c, reqs, 1, info_done);
    jt_buf_clear(&b);
}

/* ------------------------------------------------------------ balances */

static jt_json_doc *keep(const jt_json *v)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_value(&w, v);
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    jt_json_limits lim = {.max_bytes = 64 << 20, .max_depth = 64, .max_items = 10000000};
    if (jt_jw_finish(&w) == JT_OK &&
        jt_json_parse((const char *)b.data, b.len, &lim, &doc, &ei) != JT_OK)
        doc = NULL;
    jt_buf_clear(&b);
    return doc;
}

static bool want_currency(gw_call *c, const jt_amount *a)
{
    const char *cur = srv_http_query_arg(c->r, "currency");
    const char *iss = srv_http_query_arg(c->r, "issuer");
    char t[JT_CURRENCY_TEXT_MAX];
    if (a->native)
        snprintf(t, sizeof t, "SWT");
    else
        jt_currency_to_text(&a->currency, t);
    if (cur && cur[0] && strcmp(cur, t))
        return false;
    if (iss && iss[0]) {
        char i[JT_ADDRESS_MAX] = "";
        if (!a->native)
            jt_address_encode(&a->issuer, i);
        if (strcmp(iss, i))
            return false;
    }
    return true;
}

static void compose_balances(gw_call *c, const jt_json *info, const jt_json *lines_res,
                             const jt_json *res)
{
    const jt_json *ad = jt_json_get(info, "account_data");
    const jt_json *lines = jt_json_get(lines_res, "lines");
    const jt_json *offers = jt_json_get(res, "offers");
    uint64_t seq = 0, owners = 0, base = 10000000, inc = 1000000;
    jt_json_uint64(jt_json_get(ad, "Sequence"), true, &seq);
    jt_json_uint64(jt_json_get(ad, "OwnerCount"), true, &owners);
    jt_amount swt;
    if (!node_amount(jt_json_get(ad, "Balance"), &swt)) {
        gw_fail(c, 502, "nodeError", NULL, "account_info without a Balance");
        return;
    }
    /* SWT frozen: the reserve, plus what offers sell. */
    jt_amount swt_frozen;
    jt_amount_native(&swt_frozen, (int64_t)(base + inc * owners));
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "balances");
    jt_jw_array_begin(&w);
    size_t no = offers && offers->kind == JT_JSON_ARRAY ? offers->u.arr.n : 0;
    /* SWT first. */
    for (size_t i = 0; i < no; i++) {
        jt_amount g;
        if (node_amount(jt_json_get(offers->u.arr.items[i], "taker_gets"), &g) && g.native) {
            jt_amount sum;
            if (jt_amount_add(&swt_frozen, &g, &sum) == JT_OK)
                swt_frozen = sum;
        }
    }
    if (want_currency(c, &swt)) {
        char v[JT_AMOUNT_TEXT_MAX], f[JT_AMOUNT_TEXT_MAX];
        jt_amount_swt_text(&swt, v, sizeof v);
        jt_amount_swt_text(&swt_frozen, f, sizeof f);
        jt_jw_object_begin(&w);
        jt_jw_key(&w, "value");
        jt_jw_string(&w, v);
        jt_jw_key(&w, "currency");
        jt_jw_string(&w, "SWT");
        jt_jw_key(&w, "issuer");
        jt_jw_string(&w, "");
        jt_jw_key(&w, "freezed");
        jt_jw_string(&w, f);
        jt_jw_object_end(&w);
    }
    size_t nl = lines && lines->kind == JT_JSON_ARRAY ? lines->u.arr.n : 0;
    for (size_t i = 0; i < nl; i++) {
        const jt_json *l = lines->u.arr.items[i];
        const char *val = jt_json_string(jt_json_get(l, "balance"));
        const char *cur = jt_json_string(jt_json_get(l, "currency"));
        const char *peer = jt_json_string(jt_json_get(l, "account"));
        jt_amount a;
        jt_errinfo ei;
        if (!val || !cur || !peer ||
            jt_amount_issued(&a, val, cur, peer, JT_AMOUNT_ALLOW_NEGATIVE, &ei) != JT_OK)
            continue;
        if (!want_currency(c, &a))
            continue;
        /* Frozen: what this account's offers sell of the line's currency. */
        jt_amount frozen;
        jt_amount_zero_like(&frozen, &a);
        for (size_t k = 0; k < no; k++) {
            jt_amount g;
            if (node_amount(jt_json_get(offers->u.arr.items[k], "taker_gets"), &g) && !g.native &&
                !memcmp(&g.currency, &a.currency, sizeof g.currency) &&
                !memcmp(&g.issuer, &a.issuer, sizeof g.issuer)) {
                jt_amount sum;
                if (jt_amount_add(&frozen, &g, &sum) == JT_OK)
                    frozen = sum;
            }
        }
        char v[JT_AMOUNT_TEXT_MAX], f[JT_AMOUNT_TEXT_MAX];
        jt_amount_value_text(&a, v, sizeof v);
        jt_amount_value_text(&frozen, f, sizeof f);
        jt_jw_object_begin(&w);
        jt_jw_key(&w, "value");
        jt_jw_string(&w, v);
        jt_jw_key(&w, "currency");
        jt_jw_string(&w, cur);
        jt_jw_key(&w, "issuer");
        jt_jw_string(&w, peer);
        jt_jw_key(&w, "freezed");
        jt_jw_string(&w, f);
        jt_jw_object_end(&w);
    }
    jt_jw_array_end(&w);
    jt_jw_key(&w, "sequence");
    jt_jw_uint(&w, seq);
    uint64_t li;
    if (jt_json_uint64(jt_json_get(info, "ledger_index"), true, &li)) {
        jt_jw_key(&w, "ledger_index");
        jt_jw_uint(&w, li);
    }
    reply_cached(c, &w, &b);
}


static void balances_done(gw_call *c, const jt_json *const *res)
{
    compose_balances(c, res[0], res[1], res[2]);
}

void gw_get_balances(gw_call *c)
{
    uint32_t v = read_ledger(c);
    if (!v || reply_from_cache(c, v))
        return;
    jt_buf b[3];
    for (int i = 0; i < 3; i++)
        jt_buf_init(&b[i]);
    if (!account_req(c, "account_info", v, false, &b[0]) ||
        !account_req(c, "account_lines", v, true, &b[1]) ||
        !account_req(c, "account_offers", v, true, &b[2])) {
        for (int i = 0; i < 3; i++)
            jt_buf_clear(&b[i]);
        return;
    }
    const char *reqs[3] = {(const char *)b[0].data, (const char *)b[1].data,
                           (const char *)b[2].data};
    fan_out(c, reqs, 3, balances_done);
    for (int i = 0; i < 3; i++)
        jt_buf_clear(&b[i]);
}

/* account_offers / account_lines about the validated ledger (orders,
 * relations). */
static void account_list_req(gw_call *c, const char *command, void (*done)(gw_call *, const jt_json *))
{
    jt_buf b;
    jt_jw w;
    begin_req(&w, &b, command);
    jt_jw_key(&w, "account");
    jt_jw_string(&w, c->params[0]);
    jt_jw_key(&w, "ledger_index");
    jt_jw_string(&w, "validated");
    jt_jw_key(&w, "limit");
    jt_jw_uint(&w, 400);
    if (!finish_req(c, &w, &b))
        return;
    gw_node_call(c, (const char *)b.data, done);
    jt_buf_clear(&b);
}

/* ------------------------------------------------------------ orders */

/* One offer as the REST API shows it. */
static void write_order(jt_jw *w, const jt_amount *pays, const jt_amount *gets, uint64_t flags,
                        uint64_t seq, const char *account)
{
    bool sell = flags & LSF_SELL;
    /* sell: the owner sells what the taker gets (BASE) for what the taker
     * pays (COUNTER); buy: the owner buys what the taker pays. */
    const jt_amount *base = sell ? gets : pays, *counter = sell ? pays : gets;
    char bs[96], cs[96], pair[200], amt[JT_AMOUNT_TEXT_MAX], price[JT_AMOUNT_TEXT_MAX];
    pair_side(base, bs, sizeof bs);
    pair_side(counter, cs, sizeof cs);
    snprintf(pair, sizeof pair, "%s/%s", bs, cs);
    value_text(base, amt, sizeof amt);
    ratio_text(counter, base, price, sizeof price);
    jt_jw_object_begin(w);
    jt_jw_key(w, "type");
    jt_jw_string(w, sell ? "sell" : "buy");
    jt_jw_key(w, "pair");
    jt_jw_string(w, pair);
    jt_jw_key(w, "amount");
    jt_jw_string(w, amt);
    jt_jw_key(w, "price");
    jt_jw_string(w, price);
    jt_jw_key(w, "sequence");
    jt_jw_uint(w, seq);
    jt_jw_key(w, "passive");
    jt_jw_bool(w, (flags & LSF_PASSIVE) != 0);
    if (account) {
        jt_jw_key(w, "account");
        jt_jw_string(w, account);
    }
    jt_jw_key(w, "taker_gets");
    gw_amount_write(w, gets);
    jt_jw_key(w, "taker_pays");
    gw_amount_write(w, pays);
    jt_jw_object_end(w);
}

static void orders_done(gw_call *c, const jt_json *res)
{
    const jt_json *offers = jt_json_get(res, "offers");
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "orders");
    jt_jw_array_begin(&w);
    for (size_t i = 0; offers && offers->kind == JT_JSON_ARRAY && i < offers->u.arr.n; i++) {
        const jt_json *o = offers->u.arr.items[i];
        jt_amount pays, gets;
        uint64_t flags = 0, seq = 0;
        if (!node_amount(jt_json_get(o, "taker_pays"), &pays) ||
            !node_amount(jt_json_get(o, "taker_gets"), &gets))
            continue;
        jt_json_uint64(jt_json_get(o, "flags"), true, &flags);
        jt_json_uint64(jt_json_get(o, "seq"), true, &seq);
        write_order(&w, &pays, &gets, flags, seq, NULL);
    }
    jt_jw_array_end(&w);
    reply_buf(c, &w, &b);
}

void gw_get_orders(gw_call *c)
{
    account_list_req(c, "account_offers", orders_done);
}

/* ------------------------------------------------------------ order book */

typedef struct book_state {
    char base[160], counter[160];
    jt_json_doc *asks;
} book_state;

static void free_book(void *p)
{
    book_state *st = p;
    jt_json_doc_free(st->asks);
    free(st);
}

/* "SWT", or "CUR+issuer" / "CUR:issuer". */
static bool book_side(jt_jw *w, const char *text)
{
    if (!strcmp(text, "SWT")) {
        jt_jw_object_begin(w);
        jt_jw_key(w, "currency");
        jt_jw_string(w, "SWT");
        jt_jw_key(w, "issuer");
        jt_jw_string(w, "");
        jt_jw_object_end(w);
        return true;
    }
    /* '+' may arrive decoded as a space. */
    const char *sep = strpbrk(text, "+: ");
    if (!sep || sep == text || (size_t)(sep - text) > 40 || !jt_address_is_valid(sep + 1))
        return false;
    char cur[41];
    memcpy(cur, text, (size_t)(sep - text));
    cur[sep - text] = 0;
    jt_currency cc;
    jt_errinfo ei;
    if (jt_currency_from_text(cur, false, &cc, &ei) != JT_OK)
        return false;
    jt_jw_object_begin(w);
    jt_jw_key(w, "currency");
    jt_jw_string(w, cur);
    jt_jw_key(w, "issuer");
    jt_jw_string(w, sep + 1);
    jt_jw_object_end(w);
    return true;
}

static unsigned page_limit(gw_call *c, unsigned dflt)
{
    const char *l = srv_http_query_arg(c->r, "limit");
    if (!l || !*l)
        return dflt;
    char *end;
    unsigned long v = strtoul(l, &end, 10);
    if (*end || v == 0)
        return 0;
    return v > PAGE_MAX ? PAGE_MAX : (unsigned)v;
}

/* Asks for the offers whose owners sell `gets` for `pays`. */
static bool book_req(gw_call *c, const char *gets, const char *pays, unsigned limit,
                     void (*done)(gw_call *, const jt_json *))
{
    jt_buf b;
    jt_jw w;
    begin_req(&w, &b, "book_offers");
    jt_jw_key(&w, "taker_gets");
    if (!book_side(&w, gets)) {
        jt_buf_clear(&b);
        gw_fail(c, 400, "badRequest", "base", "a side must be SWT or CUR+issuer");
        return false;
    }
    jt_jw_key(&w, "taker_pays");
    if (!book_side(&w, pays)) {
        jt_buf_clear(&b);
        gw_fail(c, 400, "badRequest", "counter", "a side must be SWT or CUR+issuer");
        return false;
    }
    jt_jw_key(&w, "limit");
    jt_jw_uint(&w, limit);
    if (!finish_req(c, &w, &b))
        return false;
    gw_node_call(c, (const char *)b.data, done);
    jt_buf_clear(&b);
    return true;
}

static void write_book(jt_jw *w, const jt_json *offers)
{
    jt_jw_array_begin(w);
    for (size_t i = 0; offers && offers->kind == JT_JSON_ARRAY && i < offers->u.arr.n; i++) {
        const jt_json *o = offers->u.arr.items[i];
        jt_amount pays, gets;
        uint64_t flags = 0, seq = 0;
        const jt_json *fp = jt_json_get(o, "taker_pays_funded");
        const jt_json *fg = jt_json_get(o, "taker_gets_funded");
        if (!node_amount(fp ? fp : jt_json_get(o, "TakerPays"), &pays) ||
            !node_amount(fg ? fg : jt_json_get(o, "TakerGets"), &gets))
            continue;
        jt_json_uint64(jt_json_get(o, "Flags"), true, &flags);
        jt_json_uint64(jt_json_get(o, "Sequence"), true, &seq);
        write_order(w, &pays, &gets, flags, seq, jt_json_string(jt_json_get(o, "Account")));
    }
    jt_jw_array_end(w);
}

static void bids_done(gw_call *c, const jt_json *res)
{
    book_state *st = c->state;
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "pair");
    char pair[330];
    snprintf(pair, sizeof pair, "%s/%s", st->base, st->counter);
    jt_jw_string(&w, pair);
    jt_jw_key(&w, "asks");
    write_book(&w, jt_json_get(jt_json_root(st->asks), "offers"));
    jt_jw_key(&w, "bids");
    write_book(&w, jt_json_get(res, "offers"));
    reply_buf(c, &w, &b);
}

static void asks_done(gw_call *c, const jt_json *res)
{
    book_state *st = c->state;
    st->asks = keep(res);
    /* bids: owners buy BASE, i.e. sell COUNTER for BASE. */
    book_req(c, st->counter, st->base, page_limit(c, 20), bids_done);
}

void gw_get_order_book(gw_call *c)
{
    unsigned limit = page_limit(c, 20);
    if (!limit) {
        gw_fail(c, 400, "badRequest", "limit", "limit: a whole number from 1 to 200");
        return;
    }
    book_state *st = calloc(1, sizeof *st);
    if (!st) {
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    snprintf(st->base, sizeof st->base, "%s", c->params[0]);
    snprintf(st->counter, sizeof st->counter, "%s", c->params[1]);
    c->state = st;
    c->free_state = free_book;
    /* asks: owners sell BASE for COUNTER. */
    book_req(c, st->base, st->counter, limit, asks_done);
}

/* ------------------------------------------------------------ relations */

static void trust_done(gw_call *c, const jt_json *res)
{
    const jt_json *lines = jt_json_get(res, "lines");
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "relations");
    jt_jw_array_begin(&w);
    static const char *const bools[] = {"authorized", "peer_authorized", "no_skywell",
                                        "no_skywell_peer", "freeze", "freeze_peer"};
    for (size_t i = 0; lines && lines->kind == JT_JSON_ARRAY && i < lines->u.arr.n; i++) {
        const jt_json *l = lines->u.arr.items[i];
        jt_jw_object_begin(&w);
        jt_jw_key(&w, "type");
        jt_jw_string(&w, "trust");
        jt_jw_key(&w, "counterparty");
        jt_jw_value(&w, jt_json_get(l, "account"));
        jt_jw_key(&w, "currency");
        jt_jw_value(&w, jt_json_get(l, "currency"));
        jt_jw_key(&w, "balance");
        jt_jw_value(&w, jt_json_get(l, "balance"));
        jt_jw_key(&w, "limit");
        jt_jw_value(&w, jt_json_get(l, "limit"));
        jt_jw_key(&w, "limit_peer");
        jt_jw_value(&w, jt_json_get(l, "limit_peer"));
        for (size_t k = 0; k < sizeof bools / sizeof *bools; k++) {
            const jt_json *v = jt_json_get(l, bools[k]);
            jt_jw_key(&w, bools[k]);
            jt_jw_bool(&w, v && v->kind == JT_JSON_BOOL && v->u.b);
        }
        jt_jw_object_end(&w);
    }
    jt_jw_array_end(&w);
    reply_buf(c, &w, &b);
}

static void rel_done(gw_call *c, const jt_json *res)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "relations");
    const jt_json *lines = jt_json_get(res, "lines");
    if (lines)
        jt_jw_value(&w, lines);
    else
        jt_jw_raw(&w, "[]", 2);
    reply_buf(c, &w, &b);
}

void gw_get_relations(gw_call *c)
{
    const char *type = srv_http_query_arg(c->r, "type");
    if (!type || !*type || !strcmp(type, "trust")) {
        account_list_req(c, "account_lines", trust_done);
        return;
    }
    unsigned rel = !strcmp(type, "authorize") ? 1 : !strcmp(type, "freeze") ? 3 : 0;
    if (!rel) {
        gw_fail(c, 400, "badRequest", "type", "type: trust, authorize or freeze");
        return;
    }
    jt_buf b;
    jt_jw w;
    begin_req(&w, &b, "account_relation");
    jt_jw_key(&w, "account");
    jt_jw_string(&w, c->params[0]);
    jt_jw_key(&w, "relation_type");
    jt_jw_uint(&w, rel);
    jt_jw_key(&w, "ledger_index");
    jt_jw_string(&w, "validated");
    if (!finish_req(c, &w, &b))
        return;
    gw_node_call(c, (const char *)b.data, rel_done);
    jt_buf_clear(&b);
}

/* ------------------------------------------------------------ history */

/* The old API's kind of a transaction, seen from `account`. */
static const char *tx_kind(const jt_json *tx, const char *account)
{
    const char *type = jt_json_string(jt_json_get(tx, "TransactionType"));
    const char *from = jt_json_string(jt_json_get(tx, "Account"));
    const char *to = jt_json_string(jt_json_get(tx, "Destination"));
    bool mine = from && !strcmp(from, account);
    if (!type)
        return "unknown";
    if (!strcmp(type, "Payment")) {
        if (mine && to && !strcmp(to, account))
            return "convert";
        return mine ? "sent" : "received";
    }
    if (!strcmp(type, "OfferCreate"))
        return mine ? "offernew" : "offereffect";
    if (!strcmp(type, "OfferCancel"))
        return mine ? "offercancel" : "offereffect";
    if (!strcmp(type, "TrustSet"))
        return mine ? "trusting" : "trusted";
    if (!strcmp(type, "RelationSet"))
        return "relationset";
    if (!strcmp(type, "RelationDel"))
        return "relationdel";
    if (!strcmp(type, "AccountSet"))
        return "accountset";
    if (!strcmp(type, "SetRegularKey"))
        return "setregularkey";
    return "other";
}

/* A page of history. Payments only: the node's pages hold every type, so
 * more pages are asked for (at most HIST_ROUNDS) until `limit` payments
 * are gathered or the history ends. */
#define HIST_ROUNDS 10

typedef struct hist_state {
    bool payments_only;
    unsigned limit, count, rounds;
    bool forward;
    jt_buf items; /* entries written so far, comma separated */
} hist_state;

static void free_hist(void *p)
{
    hist_state *st = p;
    jt_buf_clear(&st->items);
    free(st);
}

/* The node's marker as our opaque one: the hex of its JSON. */
static void write_marker(jt_jw *w, const jt_json *m)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw mw;
    jt_jw_init(&mw, &b);
    jt_jw_value(&mw, m);
    if (jt_jw_finish(&mw) == JT_OK) {
        jt_jw_key(w, "marker");
        jt_jw_hex(w, b.data, b.len);
    }
    jt_buf_clear(&b);
}

/* One history entry, the old API's way, with its memos as text (sealed
 * ones opened where the gateway may: memo.h). */
static void write_entry_tx(gw_call *c, jt_jw *w, const char *account, const jt_json *e)
{
    const jt_json *tx = jt_json_get(e, "tx");
    const jt_json *meta = jt_json_get(e, "meta");
    const char *type = jt_json_string(jt_json_get(tx, "TransactionType"));
    jt_jw_object_begin(w);
    jt_jw_key(w, "type");
    jt_jw_string(w, tx_kind(tx, account));
    jt_jw_key(w, "hash");
    jt_jw_value(w, jt_json_get(tx, "hash"));
    jt_jw_key(w, "ledger_index");
    jt_jw_value(w, jt_json_get(tx, "ledger_index"));
    jt_jw_key(w, "date");
    jt_jw_value(w, jt_json_get(tx, "date"));
    jt_jw_key(w, "result");
    jt_jw_value(w, jt_json_get(meta, "TransactionResult"));
    jt_jw_key(w, "account");
    jt_jw_value(w, jt_json_get(tx, "Account"));
    jt_amount a;
    if (type && !strcmp(type, "Payment")) {
        const jt_json *da = jt_json_get(meta, "delivered_amount");
        const char *from = jt_json_string(jt_json_get(tx, "Account"));
        jt_jw_key(w, "counterparty");
        jt_jw_value(w, jt_json_get(tx, from && !strcmp(from, account) ? "Destination" : "Account"));
        if (node_amount(da, &a) || node_amount(jt_json_get(tx, "Amount"), &a)) {
            jt_jw_key(w, "amount");
            gw_amount_write(w, &a);
        }
    }
    jt_amount fee;
    if (node_amount(jt_json_get(tx, "Fee"), &fee)) {
        char f[JT_AMOUNT_TEXT_MAX];
        jt_amount_swt_text(&fee, f, sizeof f);
        jt_jw_key(w, "fee");
        jt_jw_string(w, f);
    }
    gw_memo_reader r = gw_memo_reader_key(c->g->memos, &c->key);
    gw_memos_write(w, tx, &r);
    jt_jw_key(w, "tx");
    jt_jw_value(w, tx);
    jt_jw_key(w, "meta");
    jt_jw_value(w, meta);
    jt_jw_object_end(w);
}

static void hist_request(gw_call *c, const jt_json *marker);

static void hist_done(gw_call *c, const jt_json *res)
{
    hist_state *st = c->state;
    const jt_json *txs = jt_json_get(res, "transactions");
    const jt_json *m = jt_json_get(res, "marker");
    size_t n = txs && txs->kind == JT_JSON_ARRAY ? txs->u.arr.n : 0;
    size_t i = 0;
    for (; i < n && st->count < st->limit; i++) {
        const jt_json *e = txs->u.arr.items[i];
        const char *type = jt_json_string(jt_json_get(jt_json_get(e, "tx"), "TransactionType"));
        if (st->payments_only && (!type || strcmp(type, "Payment")))
            continue;
        if (st->count && jt_buf_append(&st->items, ",", 1) != JT_OK) {
            gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
            return;
        }
        jt_jw w;
        jt_jw_init(&w, &st->items);
        write_entry_tx(c, &w, c->params[0], e);
        if (jt_jw_finish(&w) != JT_OK) {
            gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
            return;
        }
        st->count++;
    }
    if (st->payments_only && st->count < st->limit && m && ++st->rounds < HIST_ROUNDS) {
        hist_request(c, m);
        return;
    }
    /* Stopped inside the node's page: the next page starts at the first
     * entry not shown (the node's marker would skip the rest of its page). */
    jt_json_doc *mid = NULL;
    for (; st->payments_only && i < n; i++) {
        const jt_json *e = txs->u.arr.items[i];
        const char *type = jt_json_string(jt_json_get(jt_json_get(e, "tx"), "TransactionType"));
        uint64_t li = 0, ti = 0;
        if (!type || strcmp(type, "Payment"))
            continue;
        if (jt_json_uint64(jt_json_get(jt_json_get(e, "tx"), "ledger_index"), true, &li) &&
            jt_json_uint64(jt_json_get(jt_json_get(e, "meta"), "TransactionIndex"), true, &ti)) {
            char text[64];
            int tl = snprintf(text, sizeof text, "{\"ledger\":%llu,\"seq\":%llu}",
                              (unsigned long long)li, (unsigned long long)ti);
            jt_errinfo ei;
            if (jt_json_parse(text, (size_t)tl, NULL, &mid, &ei) == JT_OK)
                m = jt_json_root(mid);
            else
                mid = NULL;
        }
        break;
    }
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, st->payments_only ? "payments" : "transactions");
    /* One raw value: the writer puts commas between raw pieces. */
    jt_buf arr;
    jt_buf_init(&arr);
    if (jt_buf_append(&arr, "[", 1) != JT_OK ||
        (st->items.len && jt_buf_append(&arr, st->items.data, st->items.len) != JT_OK) ||
        jt_buf_append(&arr, "]", 1) != JT_OK) {
        jt_buf_clear(&arr);
        jt_buf_clear(&b);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    jt_jw_raw(&w, (const char *)arr.data, arr.len);
    jt_buf_clear(&arr);
    if (m)
        write_marker(&w, m);
    jt_json_doc_free(mid);
    reply_buf(c, &w, &b);
}

static void hist_request(gw_call *c, const jt_json *marker)
{
    hist_state *st = c->state;
    jt_buf b;
    jt_jw w;
    begin_req(&w, &b, "account_tx");
    jt_jw_key(&w, "account");
    jt_jw_string(&w, c->params[0]);
    jt_jw_key(&w, "ledger_index_min");
    jt_jw_int(&w, -1);
    jt_jw_key(&w, "ledger_index_max");
    jt_jw_int(&w, -1);
    jt_jw_key(&w, "limit");
    jt_jw_uint(&w, st->payments_only ? PAGE_MAX : st->limit);
    if (st->forward) {
        jt_jw_key(&w, "forward");
        jt_jw_bool(&w, true);
    }
    if (marker) {
        jt_jw_key(&w, "marker");
        jt_jw_value(&w, marker);
    }
    if (!finish_req(c, &w, &b))
        return;
    gw_node_call(c, (const char *)b.data, hist_done);
    jt_buf_clear(&b);
}

static void history(gw_call *c, bool payments_only)
{
    unsigned limit = page_limit(c, 20);
    if (!limit) {
        gw_fail(c, 400, "badRequest", "limit", "limit: a whole number from 1 to 200");
        return;
    }
    const char *marker = srv_http_query_arg(c->r, "marker");
    const char *fwd = srv_http_query_arg(c->r, "forward");
    jt_json_doc *mdoc = NULL;
    if (marker && *marker) {
        size_t ml = strlen(marker), n = 0;
        uint8_t buf[256];
        jt_errinfo ei;
        const jt_json *mv;
        uint64_t x;
        if (ml > 2 * sizeof buf || jt_hex_decode(marker, ml, buf, sizeof buf, &n) != JT_OK ||
            jt_json_parse((const char *)buf, n, NULL, &mdoc, &ei) != JT_OK ||
            (mv = jt_json_root(mdoc))->kind != JT_JSON_OBJECT || mv->u.obj.n != 2 ||
            !jt_json_uint64(jt_json_get(mv, "ledger"), false, &x) ||
            !jt_json_uint64(jt_json_get(mv, "seq"), false, &x)) {
            jt_json_doc_free(mdoc);
            gw_fail(c, 400, "badRequest", "marker", "marker: pass back the marker of a page");
            return;
        }
    }
    hist_state *st = calloc(1, sizeof *st);
    if (!st) {
        jt_json_doc_free(mdoc);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    st->payments_only = payments_only;
    st->limit = limit;
    st->forward = fwd && !strcmp(fwd, "true");
    jt_buf_init(&st->items);
    c->state = st;
    c->free_state = free_hist;
    hist_request(c, mdoc ? jt_json_root(mdoc) : NULL);
    jt_json_doc_free(mdoc);
}

void gw_get_transactions(gw_call *c)
{
    history(c, false);
}

void gw_get_payments(gw_call *c)
{
    history(c, true);
}

/* ------------------------------------------------------------ one transaction */

static bool is_hash(const char *s)
{
    size_t n = strlen(s);
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F') ||
              (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void tx_done(gw_call *c, const jt_json *res)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    const jt_json *val = jt_json_get(res, "validated");
    bool validated = val && val->kind == JT_JSON_BOOL && val->u.b;
    const jt_json *meta = jt_json_get(res, "meta");
    jt_jw_key(&w, "hash");
    jt_jw_value(&w, jt_json_get(res, "hash"));
    jt_jw_key(&w, "status");
    jt_jw_string(&w, validated ? "validated" : "pending");
    if (meta) {
        jt_jw_key(&w, "result");
        jt_jw_value(&w, jt_json_get(meta, "TransactionResult"));
    }
    if (jt_json_get(res, "ledger_index")) {
        jt_jw_key(&w, "ledger_index");
        jt_jw_value(&w, jt_json_get(res, "ledger_index"));
    }
    gw_memo_reader r = gw_memo_reader_key(c->g->memos, &c->key);
    gw_memos_write(&w, res, &r);
    jt_jw_key(&w, "transaction");
    jt_jw_value(&w, res);
    reply_buf(c, &w, &b);
}

static void tx_lookup(gw_call *c, const char *hash, void (*done)(gw_call *, const jt_json *))
{
    if (!is_hash(hash)) {
        gw_fail(c, 404, "txnNotFound", NULL, "no such transaction (a hash is 64 hex digits)");
        return;
    }
    jt_buf b;
    jt_jw w;
    begin_req(&w, &b, "tx");
    jt_jw_key(&w, "transaction");
    jt_jw_string(&w, hash);
    if (!finish_req(c, &w, &b))
        return;
    gw_node_call(c, (const char *)b.data, done);
    jt_buf_clear(&b);
}

void gw_get_transaction(gw_call *c)
{
    tx_lookup(c, c->params[2], tx_done);
}

static void payment_done(gw_call *c, const jt_json *res)
{
    const char *type = jt_json_string(jt_json_get(res, "TransactionType"));
    const char *from = jt_json_string(jt_json_get(res, "Account"));
    const char *to = jt_json_string(jt_json_get(res, "Destination"));
    if (!type || strcmp(type, "Payment") ||
        ((!from || strcmp(from, c->params[0])) && (!to || strcmp(to, c->params[0])))) {
        gw_fail(c, 404, "notFound", NULL, "no payment of this account with that id");
        return;
    }
    tx_done(c, res);
}

void gw_get_payment(gw_call *c)
{
    tx_lookup(c, c->params[2], payment_done);
}

/* ------------------------------------------------------------ ledgers */

static void ledger_done(gw_call *c, const jt_json *res)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    const jt_json *l = jt_json_get(res, "ledger");
    if (l) {
        jt_jw_key(&w, "ledger");
        jt_jw_value(&w, l);
    }
    jt_jw_key(&w, "ledger_index");
    jt_jw_value(&w, jt_json_get(res, "ledger_index"));
    jt_jw_key(&w, "ledger_hash");
    jt_jw_value(&w, jt_json_get(res, "ledger_hash"));
    reply_buf(c, &w, &b);
}

void gw_get_ledger(gw_call *c)
{
    const char *path = srv_http_path(c->r);
    jt_buf b;
    jt_jw w;
    begin_req(&w, &b, "ledger");
    if (!strncmp(path, "/v2/ledger/hash/", 16)) {
        if (!is_hash(c->params[0])) {
            jt_buf_clear(&b);
            gw_fail(c, 404, "lgrNotFound", NULL, "no such ledger (a hash is 64 hex digits)");
            return;
        }
        jt_jw_key(&w, "ledger_hash");
        jt_jw_string(&w, c->params[0]);
    } else if (c->params[0][0] && strcmp(path, "/v2/ledger/index")) {
        char *end;
        unsigned long long n = strtoull(c->params[0], &end, 10);
        if (*end || n == 0 || n > UINT32_MAX) {
            jt_buf_clear(&b);
            gw_fail(c, 400, "badRequest", "index", "a ledger index is a whole number");
            return;
        }
        jt_jw_key(&w, "ledger_index");
        jt_jw_uint(&w, n);
    } else {
        jt_jw_key(&w, "ledger_index");
        jt_jw_string(&w, "validated");
    }
    jt_jw_key(&w, "transactions");
    jt_jw_bool(&w, true);
    if (!finish_req(c, &w, &b))
        return;
    gw_node_call(c, (const char *)b.data, ledger_done);
    jt_buf_clear(&b);
}

/* ------------------------------------------------------------ shared */

const char *gw_tx_kind(const jt_json *tx, const char *account)
{
    return tx_kind(tx, account);
}

bool gw_node_amount(const jt_json *v, jt_amount *a)
{
    return node_amount(v, a);
}
