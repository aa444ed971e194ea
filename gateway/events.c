/*
 * events.c — the validated-ledger event hub, GET /v2/events and replay
 * (events.h).
 */
#include "events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <jt/base58.h>
#include <jt/session.h>

#include "apikey.h"
#include "config.h"
#include "hook.h"
#include "link.h"
#include "routes.h"
#include "store.h"
#include "txbuild.h"
#include "webhooks.h"

#define CURSOR_KEY "events_cursor"
/* A ledger the node answers lgrNotFound for this many times in a row is
 * skipped (said loudly): the hub must not stall every client forever. */
#define MISSING_TRIES 20
/* Entries per account_tx page during replay. */
#define REPLAY_PAGE 200
/* Failed authentications before a connection is closed. */
#define MAX_BAD_AUTH 3

enum { SUB_ACCOUNT, SUB_TX, SUB_LEDGER };
static const char *const sub_names[] = {"account", "transactions", "ledger"};

typedef struct wsub {
    uint64_t id;
    int type;
    char account[40];
    uint32_t from;    /* live events of ledgers >= from */
    uint32_t next;    /* replay: the next ledger to read */
    uint32_t target;  /* replay: the ledger the current step reads to */
    bool replaying;
    char *marker;     /* replay (account_tx): the node's marker JSON, or NULL */
} wsub;

typedef struct wconn {
    srv_conn *c;
    uint64_t cid;
    bool authed, closing;
    gw_apikey key; /* from auth: its id, and whose memos it may see opened */
    unsigned bad_auth;
    wsub *subs;
    size_t n_subs;
    uint64_t next_sub;
} wconn;

/* How a reader may see a transaction's sealed memos: bits of a pub's
 * views. */
enum { MAY_FROM = 1, MAY_TO = 2, N_VIEWS = 4 };

/* One event of the ledger being committed, pushed once it is durable.
 * text[0] opens no memo. An event whose transaction carries sealed memos
 * also has text[MAY_FROM], text[MAY_TO] and text[MAY_FROM | MAY_TO]: as
 * seen by a key that may act for its Account, its Destination, or both
 * (NULL where that is text[0] again). */
typedef struct pub {
    int type;
    char account[40];
    char from[40], to[40]; /* the transaction's Account and Destination */
    uint32_t ledger;
    char *text[N_VIEWS];
    size_t len[N_VIEWS];
} pub;

typedef struct replay_ref {
    uint64_t cid, sid;
} replay_ref;

typedef struct replay_ctx {
    struct gw_events *e;
    replay_ref ref;
} replay_ctx;

struct gw_events {
    gw *g;
    uint32_t cursor;    /* 0: not started */
    uint32_t validated; /* as the link last said */
    bool busy;          /* a ledger read or commit under way */
    bool stopping;
    unsigned missing;
    pub *pubs;
    size_t n_pubs, cap_pubs;
    wconn **conns;
    size_t n_conns, cap_conns;
    uint64_t next_cid;
    replay_ref *rq; /* replay queue (FIFO) */
    size_t n_rq, cap_rq;
    bool replay_busy;
    gw_events_stats st;
};

/* ------------------------------------------------------------ builders */

static void add_account(char (*out)[40], size_t cap, size_t *n, const char *a)
{
    if (!a || !jt_address_is_valid(a))
        return;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(out[i], a))
            return;
    if (*n < cap && strlen(a) < 40)
        snprintf(out[(*n)++], 40, "%s", a);
}

static void fields_accounts(const jt_json *f, char (*out)[40], size_t cap, size_t *n)
{
    if (!f || f->kind != JT_JSON_OBJECT)
        return;
    for (size_t i = 0; i < f->u.obj.n; i++) {
        const char *k = f->u.obj.keys[i];
        const jt_json *v = f->u.obj.vals[i];
        if (v->kind == JT_JSON_STRING && v->u.str.s[0] == 'j')
            add_account(out, cap, n, v->u.str.s);
        else if (v->kind == JT_JSON_OBJECT &&
                 (!strcmp(k, "LowLimit") || !strcmp(k, "HighLimit") || !strcmp(k, "TakerPays") ||
                  !strcmp(k, "TakerGets")))
            add_account(out, cap, n, jt_json_string(jt_json_get(v, "issuer")));
    }
}

size_t gw_tx_accounts(const jt_json *tx, const jt_json *meta, char (*out)[40], size_t cap)
{
    size_t n = 0;
    add_account(out, cap, &n, jt_json_string(jt_json_get(tx, "Account")));
    const jt_json *nodes = jt_json_get(meta, "AffectedNodes");
    if (!nodes || nodes->kind != JT_JSON_ARRAY)
        return n;
    for (size_t i = 0; i < nodes->u.arr.n; i++) {
        const jt_json *wrap = nodes->u.arr.items[i];
        if (wrap->kind != JT_JSON_OBJECT || wrap->u.obj.n != 1)
            continue;
        const jt_json *node = wrap->u.obj.vals[0];
        fields_accounts(jt_json_get(node, "NewFields"), out, cap, &n);
        fields_accounts(jt_json_get(node, "FinalFields"), out, cap, &n);
        fields_accounts(jt_json_get(node, "PreviousFields"), out, cap, &n);
    }
    return n;
}

int gw_event_id(char *out, size_t cap, uint32_t ledger_index, uint32_t tx_index,
                const char *account)
{
    int n = account ? snprintf(out, cap, "%" PRIu32 ":%" PRIu32 ":%s", ledger_index, tx_index,
                               account)
                    : snprintf(out, cap, "%" PRIu32 ":%" PRIu32, ledger_index, tx_index);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The transaction's own fields: what the node adds around them (its
 * ledger, date, metadata) differs between `ledger` and `account_tx`. */
static void write_tx_fields(jt_jw *w, const jt_json *tx)
{
    static const char *const skip[] = {"metaData", "meta", "inLedger", "ledger_index", "date",
                                        "validated", NULL};
    jt_jw_object_begin(w);
    if (tx && tx->kind == JT_JSON_OBJECT)
        for (size_t i = 0; i < tx->u.obj.n; i++) {
            bool drop = false;
            for (size_t k = 0; skip[k]; k++)
                drop |= !strcmp(tx->u.obj.keys[i], skip[k]);
            if (drop)
                continue;
            jt_jw_key(w, tx->u.obj.keys[i]);
            jt_jw_value(w, tx->u.obj.vals[i]);
        }
    jt_jw_object_end(w);
}

int gw_event_tx(jt_buf *out, const char *account, const jt_json *tx, const jt_json *meta,
                uint32_t ledger_index, uint64_t date, const gw_memo_reader *r)
{
    uint64_t ti;
    if (!jt_json_uint64(jt_json_get(meta, "TransactionIndex"), false, &ti) || ti > UINT32_MAX)
        return -1;
    char id[GW_EVENT_ID_MAX];
    if (gw_event_id(id, sizeof id, ledger_index, (uint32_t)ti, account))
        return -1;
    const char *type = jt_json_string(jt_json_get(tx, "TransactionType"));
    const char *from = jt_json_string(jt_json_get(tx, "Account"));
    const char *view = account ? account : from ? from : "";
    jt_jw w;
    jt_jw_init(&w, out);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "event");
    jt_jw_string(&w, account ? "account" : "transaction");
    jt_jw_key(&w, "id");
    jt_jw_string(&w, id);
    if (account) {
        jt_jw_key(&w, "account");
        jt_jw_string(&w, account);
    }
    jt_jw_key(&w, "hash");
    jt_jw_value(&w, jt_json_get(tx, "hash"));
    jt_jw_key(&w, "type");
    jt_jw_string(&w, gw_tx_kind(tx, view));
    jt_jw_key(&w, "tx_type");
    jt_jw_string(&w, type ? type : "");
    jt_jw_key(&w, "result");
    jt_jw_value(&w, jt_json_get(meta, "TransactionResult"));
    jt_jw_key(&w, "validated");
    jt_jw_bool(&w, true);
    jt_jw_key(&w, "ledger_index");
    jt_jw_uint(&w, ledger_index);
    jt_jw_key(&w, "tx_index");
    jt_jw_uint(&w, ti);
    jt_jw_key(&w, "date");
    jt_jw_uint(&w, date);
    jt_amount a;
    if (type && !strcmp(type, "Payment")) {
        jt_jw_key(&w, "counterparty");
        jt_jw_value(&w, jt_json_get(tx, from && !strcmp(from, view) ? "Destination" : "Account"));
        /* What the destination was credited: delivered_amount (a partial
         * payment delivers less than Amount, a tec nothing). */
        bool have = gw_node_amount(jt_json_get(meta, "delivered_amount"), &a) ||
                    gw_node_amount(jt_json_get(meta, "DeliveredAmount"), &a);
        if (have) {
            jt_jw_key(&w, "amount");
            gw_amount_write(&w, &a);
            jt_jw_key(&w, "delivered_amount");
            gw_amount_write(&w, &a);
        } else if (gw_node_amount(jt_json_get(tx, "Amount"), &a)) {
            jt_jw_key(&w, "amount");
            gw_amount_write(&w, &a);
        }
    }
    if (gw_node_amount(jt_json_get(tx, "Fee"), &a)) {
        char f[JT_AMOUNT_TEXT_MAX];
        jt_amount_swt_text(&a, f, sizeof f);
        jt_jw_key(&w, "fee");
        jt_jw_string(&w, f);
    }
    gw_memos_write(&w, tx, r);
    jt_jw_key(&w, "tx");
    write_tx_fields(&w, tx);
    jt_jw_key(&w, "meta");
    jt_jw_value(&w, meta);
    jt_jw_object_end(&w);
    return jt_jw_finish(&w) == JT_OK ? 0 : -1;
}

/* Does text hold needle? (Event text has no NUL, but is not terminated.) */
static bool holds(const char *text, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (text[i] == needle[0] && !memcmp(text + i, needle, n))
            return true;
    return false;
}

int gw_event_reopen(jt_buf *out, const char *text, size_t len, const gw_memo_reader *r)
{
    /* How gw_memos_write marks a memo it did not open; a quoted string
     * inside a memo or field has its quotes escaped, so this is cheap and
     * at worst costs a parse that changes nothing. */
    if (!holds(text, len, "\"sealed\":true"))
        return 1;
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    jt_json_limits lim = {.max_bytes = len, .max_depth = 32, .max_items = 100000};
    if (jt_json_parse(text, len, &lim, &doc, &ei) != JT_OK)
        return -1;
    /* Every member of the event comes from its tx and meta, but for its
     * id parts (account, ledger, date): written again from them, it is
     * the same text up to its memos. */
    const jt_json *ev = jt_json_root(doc);
    const char *kind = jt_json_string(jt_json_get(ev, "event"));
    const char *account = jt_json_string(jt_json_get(ev, "account"));
    uint64_t ledger, date;
    int rc = -1;
    if (kind && (!strcmp(kind, "transaction") || (!strcmp(kind, "account") && account)) &&
        jt_json_uint64(jt_json_get(ev, "ledger_index"), false, &ledger) && ledger <= UINT32_MAX &&
        jt_json_uint64(jt_json_get(ev, "date"), false, &date))
        rc = gw_event_tx(out, !strcmp(kind, "account") ? account : NULL, jt_json_get(ev, "tx"),
                         jt_json_get(ev, "meta"), (uint32_t)ledger, date, r);
    jt_json_doc_free(doc);
    return rc;
}

int gw_event_ledger(jt_buf *out, uint32_t index, const char *hash, uint64_t close_time,
                    size_t txn_count)
{
    char id[16];
    snprintf(id, sizeof id, "%" PRIu32, index);
    jt_jw w;
    jt_jw_init(&w, out);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "event");
    jt_jw_string(&w, "ledger");
    jt_jw_key(&w, "id");
    jt_jw_string(&w, id);
    jt_jw_key(&w, "ledger_index");
    jt_jw_uint(&w, index);
    jt_jw_key(&w, "ledger_hash");
    jt_jw_string(&w, hash ? hash : "");
    jt_jw_key(&w, "ledger_time");
    jt_jw_uint(&w, close_time);
    jt_jw_key(&w, "txn_count");
    jt_jw_uint(&w, txn_count);
    jt_jw_object_end(&w);
    return jt_jw_finish(&w) == JT_OK ? 0 : -1;
}

/* ------------------------------------------------------------ ledgers */

typedef struct ltx {
    uint32_t index;
    const jt_json *tx, *meta;
} ltx;

static int cmp_ltx(const void *a, const void *b)
{
    const ltx *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* A `ledger` answer (transactions expanded): its index, hash, close time
 * and transactions in TransactionIndex order (*txs: caller frees). -1 when
 * it is not one. */
static int read_ledger(const jt_json *res, uint32_t *index, const char **hash, uint64_t *time,
                       ltx **txs, size_t *n)
{
    const jt_json *l = jt_json_get(res, "ledger");
    uint64_t idx = 0;
    *txs = NULL;
    *n = 0;
    if (!jt_json_uint64(jt_json_get(res, "ledger_index"), true, &idx) &&
        !jt_json_uint64(jt_json_get(l, "ledger_index"), true, &idx))
        return -1;
    *index = (uint32_t)idx;
    *hash = jt_json_string(jt_json_get(l, "hash"));
    if (!*hash)
        *hash = jt_json_string(jt_json_get(res, "ledger_hash"));
    if (!jt_json_uint64(jt_json_get(l, "close_time"), true, time))
        *time = 0;
    const jt_json *arr = jt_json_get(l, "transactions");
    if (!arr || arr->kind != JT_JSON_ARRAY || !arr->u.arr.n)
        return 0;
    if (!(*txs = calloc(arr->u.arr.n, sizeof **txs)))
        return -1;
    for (size_t i = 0; i < arr->u.arr.n; i++) {
        const jt_json *t = arr->u.arr.items[i];
        const jt_json *m = jt_json_get(t, "metaData");
        uint64_t ti;
        if (t->kind != JT_JSON_OBJECT || !m ||
            !jt_json_uint64(jt_json_get(m, "TransactionIndex"), false, &ti)) {
            /* hashes only (not expanded): counted, no events */
            (*txs)[(*n)++] = (ltx){UINT32_MAX, NULL, NULL};
            continue;
        }
        (*txs)[(*n)++] = (ltx){(uint32_t)ti, t, m};
    }
    qsort(*txs, *n, sizeof **txs, cmp_ltx);
    return 0;
}

/* ------------------------------------------------------------ connections */

static wconn *conn_by_id(gw_events *e, uint64_t cid)
{
    for (size_t i = 0; i < e->n_conns; i++)
        if (e->conns[i]->cid == cid)
            return e->conns[i];
    return NULL;
}

static wsub *sub_by_id(wconn *w, uint64_t sid)
{
    for (size_t i = 0; i < w->n_subs; i++)
        if (w->subs[i].id == sid)
            return &w->subs[i];
    return NULL;
}

/* A stream message; a client whose queue is full is closed (the core
 * schedules it) rather than buffered without bound. */
static bool push(gw_events *e, wconn *w, const char *text, size_t len)
{
    if (w->closing)
        return false;
    if (srv_conn_send(w->c, text, len) != 0) {
        w->closing = true;
        e->st.slow_closed++;
        fprintf(stderr, "level=warn mod=events event=slow_consumer conn=%" PRIu64 " peer=%s\n",
                w->cid, srv_conn_peer(w->c));
        return false;
    }
    e->st.pushed++;
    return true;
}

static void reply_text(wconn *w, jt_jw *jw, jt_buf *b)
{
    if (jt_jw_finish(jw) == JT_OK)
        srv_conn_reply(w->c, (const char *)b->data, b->len);
    jt_buf_clear(b);
}

static void reply_err(wconn *w, const char *command, int status, const char *token,
                      const char *msg)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw jw;
    jt_jw_init(&jw, &b);
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    jt_jw_object_begin(&jw);
    jt_jw_key(&jw, "success");
    jt_jw_bool(&jw, false);
    jt_jw_key(&jw, "status_code");
    jt_jw_string(&jw, code);
    jt_jw_key(&jw, "error_type");
    jt_jw_string(&jw, status >= 500 ? (status >= 502 ? "network" : "server") : "client");
    jt_jw_key(&jw, "error");
    jt_jw_string(&jw, token);
    jt_jw_key(&jw, "message");
    jt_jw_string(&jw, msg);
    if (command) {
        jt_jw_key(&jw, "command");
        jt_jw_string(&jw, command);
    }
    jt_jw_object_end(&jw);
    reply_text(w, &jw, &b);
}

static void sub_members(jt_jw *jw, const wsub *s)
{
    jt_jw_key(jw, "type");
    jt_jw_string(jw, sub_names[s->type]);
    if (s->type == SUB_ACCOUNT) {
        jt_jw_key(jw, "account");
        jt_jw_string(jw, s->account);
    }
}

static void remove_sub(wconn *w, size_t i)
{
    free(w->subs[i].marker);
    w->subs[i] = w->subs[--w->n_subs];
}

static unsigned conns_of_key(const gw_events *e, const char *key_id)
{
    unsigned n = 0;
    for (size_t i = 0; i < e->n_conns; i++)
        n += e->conns[i]->authed && !strcmp(e->conns[i]->key.id, key_id);
    return n;
}

static wconn *conn_of(gw_events *e, srv_conn *c)
{
    wconn *w = srv_conn_user(c);
    if (w)
        return w;
    if (e->n_conns == e->cap_conns) {
        size_t cap = e->cap_conns ? e->cap_conns * 2 : 16;
        wconn **p = realloc(e->conns, cap * sizeof *p);
        if (!p)
            return NULL;
        e->conns = p;
        e->cap_conns = cap;
    }
    if (!(w = calloc(1, sizeof *w)))
        return NULL;
    w->c = c;
    w->cid = ++e->next_cid;
    e->conns[e->n_conns++] = w;
    srv_conn_set_user(c, w);
    return w;
}

/* ------------------------------------------------------------ replay */

static void replay_pump(gw_events *e);

static void rq_push(gw_events *e, uint64_t cid, uint64_t sid)
{
    if (e->n_rq == e->cap_rq) {
        size_t cap = e->cap_rq ? e->cap_rq * 2 : 16;
        replay_ref *p = realloc(e->rq, cap * sizeof *p);
        if (!p)
            return; /* the sub stays replaying; the client sees no replay_done */
        e->rq = p;
        e->cap_rq = cap;
    }
    e->rq[e->n_rq++] = (replay_ref){cid, sid};
}

static void go_live(gw_events *e, wconn *w, wsub *s)
{
    s->replaying = false;
    s->from = s->next;
    free(s->marker);
    s->marker = NULL;
    jt_buf b;
    jt_buf_init(&b);
    jt_jw jw;
    jt_jw_init(&jw, &b);
    jt_jw_object_begin(&jw);
    jt_jw_key(&jw, "event");
    jt_jw_string(&jw, "replay_done");
    sub_members(&jw, s);
    jt_jw_key(&jw, "ledger_index");
    jt_jw_uint(&jw, s->next - 1);
    jt_jw_object_end(&jw);
    if (jt_jw_finish(&jw) == JT_OK)
        push(e, w, (const char *)b.data, b.len);
    jt_buf_clear(&b);
}

/* Ends a replay that cannot go on: the subscription is dropped and the
 * client told, so that it never believes it has everything. */
static void replay_fail(gw_events *e, wconn *w, wsub *s, const char *why)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw jw;
    jt_jw_init(&jw, &b);
    jt_jw_object_begin(&jw);
    jt_jw_key(&jw, "success");
    jt_jw_bool(&jw, false);
    jt_jw_key(&jw, "status_code");
    jt_jw_string(&jw, "502");
    jt_jw_key(&jw, "error_type");
    jt_jw_string(&jw, "network");
    jt_jw_key(&jw, "error");
    jt_jw_string(&jw, "replayFailed");
    jt_jw_key(&jw, "message");
    jt_jw_string(&jw, why);
    sub_members(&jw, s);
    jt_jw_key(&jw, "ledger_index");
    jt_jw_uint(&jw, s->next);
    jt_jw_key(&jw, "subscribed");
    jt_jw_bool(&jw, false);
    jt_jw_object_end(&jw);
    if (jt_jw_finish(&jw) == JT_OK)
        push(e, w, (const char *)b.data, b.len);
    jt_buf_clear(&b);
    remove_sub(w, (size_t)(s - w->subs));
}

static void on_replay_reply(void *ctx, const jt_session_reply *r)
{
    replay_ctx *rc = ctx;
    gw_events *e = rc->e;
    uint64_t cid = rc->ref.cid, sid = rc->ref.sid;
    free(rc);
    if (e->stopping)
        return;
    e->replay_busy = false;
    wconn *w = conn_by_id(e, cid);
    wsub *s = w ? sub_by_id(w, sid) : NULL;
    if (!s || !s->replaying || w->closing) {
        replay_pump(e);
        return;
    }
    if (r->err != JT_OK) {
        const char *tok = r->ei && r->ei->field[0] ? r->ei->field : "";
        if (r->err == JT_ERPC && strcmp(tok, "slowDown") && strcmp(tok, "tooBusy")) {
            char why[300];
            snprintf(why, sizeof why, "the node could not give ledgers from %" PRIu32 ": %.64s %.160s",
                     s->next, tok, r->ei ? r->ei->msg : "");
            replay_fail(e, w, s, why);
            replay_pump(e);
        } else {
            /* the node away or busy: again on a later tick */
            memmove(e->rq + 1, e->rq, e->n_rq * sizeof *e->rq);
            e->n_rq++;
            e->rq[0] = (replay_ref){cid, sid};
        }
        return;
    }
    const jt_json *res = jt_json_get(r->msg, "result");
    /* Replayed events are written for this connection's key: memos opened
     * as it may see them, the same text as its live events. */
    gw_memo_reader kr = gw_memo_reader_key(e->g->memos, &w->key);
    jt_buf b;
    jt_buf_init(&b);
    if (s->type == SUB_ACCOUNT) {
        const jt_json *arr = jt_json_get(res, "transactions");
        for (size_t i = 0; arr && arr->kind == JT_JSON_ARRAY && i < arr->u.arr.n; i++) {
            const jt_json *ent = arr->u.arr.items[i];
            const jt_json *tx = jt_json_get(ent, "tx");
            uint64_t li = 0, date = 0;
            if (!jt_json_uint64(jt_json_get(tx, "ledger_index"), true, &li) &&
                !jt_json_uint64(jt_json_get(tx, "inLedger"), true, &li))
                continue;
            (void)jt_json_uint64(jt_json_get(tx, "date"), true, &date);
            b.len = 0;
            if (gw_event_tx(&b, s->account, tx, jt_json_get(ent, "meta"), (uint32_t)li, date,
                            &kr) == 0 &&
                push(e, w, (const char *)b.data, b.len))
                e->st.replayed++;
        }
        const jt_json *m = jt_json_get(res, "marker");
        free(s->marker);
        s->marker = NULL;
        if (m && m->kind == JT_JSON_OBJECT) {
            jt_buf mb;
            jt_buf_init(&mb);
            jt_jw mw;
            jt_jw_init(&mw, &mb);
            jt_jw_value(&mw, m);
            if (jt_jw_finish(&mw) == JT_OK && jt_buf_append(&mb, "", 1) == JT_OK)
                s->marker = (char *)mb.data;
            else
                jt_buf_clear(&mb);
        }
        if (!s->marker)
            s->next = s->target + 1;
    } else {
        uint32_t index;
        const char *hash;
        uint64_t time;
        ltx *txs;
        size_t n;
        if (read_ledger(res, &index, &hash, &time, &txs, &n) || index != s->next) {
            free(txs);
            replay_fail(e, w, s, "the node's ledger answer was not the ledger asked for");
            jt_buf_clear(&b);
            replay_pump(e);
            return;
        }
        if (s->type == SUB_LEDGER) {
            if (gw_event_ledger(&b, index, hash, time, n) == 0 &&
                push(e, w, (const char *)b.data, b.len))
                e->st.replayed++;
        } else {
            for (size_t i = 0; i < n; i++) {
                if (!txs[i].tx)
                    continue;
                b.len = 0;
                if (gw_event_tx(&b, NULL, txs[i].tx, txs[i].meta, index, time, &kr) == 0 &&
                    push(e, w, (const char *)b.data, b.len))
                    e->st.replayed++;
            }
        }
        free(txs);
        s->next = index + 1;
    }
    jt_buf_clear(&b);
    if (!w->closing) {
        if (!s->marker && s->next > e->cursor)
            go_live(e, w, s);
        else
            rq_push(e, cid, sid);
    }
    replay_pump(e);
}

/* One node request for the replay at the head of the queue. One at a
 * time across all clients: replays must not crowd out the submissions
 * that share the node link. */
static void replay_pump(gw_events *e)
{
    while (!e->replay_busy && !e->stopping && e->n_rq && gw_link_ready(e->g->link) &&
           e->cursor) {
        replay_ref ref = e->rq[0];
        memmove(e->rq, e->rq + 1, (--e->n_rq) * sizeof *e->rq);
        wconn *w = conn_by_id(e, ref.cid);
        wsub *s = w ? sub_by_id(w, ref.sid) : NULL;
        if (!s || !s->replaying || w->closing)
            continue;
        if (!s->marker && s->next > e->cursor) {
            go_live(e, w, s);
            continue;
        }
        jt_buf b;
        jt_buf_init(&b);
        jt_jw jw;
        jt_jw_init(&jw, &b);
        jt_jw_object_begin(&jw);
        if (s->type == SUB_ACCOUNT) {
            if (!s->marker)
                s->target = e->cursor;
            jt_jw_key(&jw, "command");
            jt_jw_string(&jw, "account_tx");
            jt_jw_key(&jw, "account");
            jt_jw_string(&jw, s->account);
            jt_jw_key(&jw, "ledger_index_min");
            jt_jw_uint(&jw, s->next);
            jt_jw_key(&jw, "ledger_index_max");
            jt_jw_uint(&jw, s->target);
            jt_jw_key(&jw, "forward");
            jt_jw_bool(&jw, true);
            jt_jw_key(&jw, "limit");
            jt_jw_uint(&jw, REPLAY_PAGE);
            if (s->marker) {
                jt_jw_key(&jw, "marker");
                jt_jw_raw(&jw, s->marker, strlen(s->marker));
            }
        } else {
            jt_jw_key(&jw, "command");
            jt_jw_string(&jw, "ledger");
            jt_jw_key(&jw, "ledger_index");
            jt_jw_uint(&jw, s->next);
            jt_jw_key(&jw, "transactions");
            jt_jw_bool(&jw, true);
            jt_jw_key(&jw, "expand");
            jt_jw_bool(&jw, s->type == SUB_TX);
        }
        jt_jw_object_end(&jw);
        replay_ctx *ctx = malloc(sizeof *ctx);
        if (jt_jw_finish(&jw) != JT_OK || jt_buf_append(&b, "", 1) != JT_OK || !ctx) {
            free(ctx);
            jt_buf_clear(&b);
            rq_push(e, ref.cid, ref.sid);
            return;
        }
        ctx->e = e;
        ctx->ref = ref;
        jt_errinfo ei;
        e->replay_busy = true;
        if (gw_link_request(e->g->link, (const char *)b.data, (int)e->g->cfg->request_timeout_ms,
                            on_replay_reply, ctx, &ei) != JT_OK) {
            e->replay_busy = false;
            free(ctx);
            memmove(e->rq + 1, e->rq, e->n_rq * sizeof *e->rq);
            e->n_rq++;
            e->rq[0] = ref;
            jt_buf_clear(&b);
            return;
        }
        jt_buf_clear(&b);
    }
}

/* ------------------------------------------------------------ the hub */

static void pump(gw_events *e);

static void pubs_clear(gw_events *e)
{
    for (size_t i = 0; i < e->n_pubs; i++)
        for (size_t v = 0; v < N_VIEWS; v++)
            free(e->pubs[i].text[v]);
    e->n_pubs = 0;
}

static char *copy_text(const jt_buf *text)
{
    char *t = malloc(text->len ? text->len : 1);
    if (t)
        memcpy(t, text->data, text->len);
    return t;
}

static pub *pub_add(gw_events *e, int type, const char *account, uint32_t ledger,
                    const jt_buf *text)
{
    if (e->n_pubs == e->cap_pubs) {
        size_t cap = e->cap_pubs ? e->cap_pubs * 2 : 32;
        pub *p = realloc(e->pubs, cap * sizeof *p);
        if (!p)
            return NULL;
        e->pubs = p;
        e->cap_pubs = cap;
    }
    pub *p = &e->pubs[e->n_pubs];
    memset(p, 0, sizeof *p);
    p->type = type;
    if (account)
        snprintf(p->account, sizeof p->account, "%s", account);
    p->ledger = ledger;
    p->len[0] = text->len;
    if (!(p->text[0] = copy_text(text)))
        return NULL;
    e->n_pubs++;
    return p;
}

/* A reader that may act for some of a transaction's two parties (a pub's
 * view): memos are written for it as for any API key with that reach. */
typedef struct parties {
    const char *from, *to;
    unsigned may; /* MAY_FROM | MAY_TO */
} parties;

static bool may_party(const void *ctx, const char *account)
{
    const parties *p = ctx;
    return ((p->may & MAY_FROM) && !strcmp(account, p->from)) ||
           ((p->may & MAY_TO) && !strcmp(account, p->to));
}

/* Adds a transaction's event (account NULL: the transactions stream) to
 * the ledger's pubs. `t` is left holding text[0], the event with no memo
 * opened (what webhooks store). */
static int pub_tx(gw_events *e, int type, const char *account, const ltx *x, uint32_t index,
                  uint64_t time, jt_buf *t)
{
    t->len = 0;
    pub *p;
    if (gw_event_tx(t, account, x->tx, x->meta, index, time, NULL) ||
        !(p = pub_add(e, type, account, index, t)))
        return -1;
    if (!gw_memos_any_sealed(x->tx))
        return 0;
    const char *from = jt_json_string(jt_json_get(x->tx, "Account"));
    const char *to = jt_json_string(jt_json_get(x->tx, "Destination"));
    snprintf(p->from, sizeof p->from, "%s", from ? from : "");
    snprintf(p->to, sizeof p->to, "%s", to ? to : "");
    jt_buf v;
    jt_buf_init(&v);
    int rc = 0;
    for (unsigned may = 1; may < N_VIEWS && !rc; may++) {
        parties who = {p->from, p->to, may};
        gw_memo_reader r = {e->g->memos, may_party, &who};
        v.len = 0;
        if (gw_event_tx(&v, account, x->tx, x->meta, index, time, &r))
            rc = -1;
        else if (v.len != t->len || memcmp(v.data, t->data, v.len)) {
            p->len[may] = v.len;
            if (!(p->text[may] = copy_text(&v)))
                rc = -1;
        }
    }
    jt_buf_clear(&v);
    return rc;
}

/* Which of p's texts connection w gets: its key's reach over the
 * transaction's parties, as history would judge it (memo.h). */
static size_t pub_view(const gw_events *e, const pub *p, const wconn *w)
{
    if (!p->text[MAY_FROM] && !p->text[MAY_TO] && !p->text[MAY_FROM | MAY_TO])
        return 0;
    gw_memo_reader kr = gw_memo_reader_key(e->g->memos, &w->key);
    size_t v = (p->from[0] && kr.may(kr.ctx, p->from) ? MAY_FROM : 0) |
               (p->to[0] && kr.may(kr.ctx, p->to) ? MAY_TO : 0);
    return p->text[v] ? v : 0;
}

/* Every authenticated connection's key read again: a revoked key (or one
 * that lost the read scope) is told and closed, and a key whose allow list
 * changed sees memos by the new list. Before every publication and on the
 * tick, so a revocation counts at once for events too. */
static void recheck_keys(gw_events *e)
{
    for (size_t i = 0; i < e->n_conns; i++) {
        wconn *w = e->conns[i];
        if (!w->authed || w->closing)
            continue;
        gw_apikey k;
        char err[400];
        int ok = gw_apikey_by_id(e->g->store, w->key.id, &k, err, sizeof err);
        if (ok < 0)
            continue; /* the store could not say: checked again next time */
        if (ok == 1 && (k.scopes & (GW_SCOPE_READ | GW_SCOPE_ADMIN))) {
            gw_apikey_clear(&w->key);
            w->key = k;
            continue;
        }
        gw_apikey_clear(&k);
        reply_err(w, NULL, 401, "unauthorized",
                  ok ? "the API key lost the read scope" : "the API key was revoked");
        fprintf(stderr, "level=info mod=events event=key_revoked conn=%" PRIu64 " key=%s\n",
                w->cid, w->key.id);
        w->authed = false;
        w->closing = true;
        srv_conn_close(w->c);
    }
}

static void publish(gw_events *e)
{
    recheck_keys(e);
    for (size_t k = 0; k < e->n_pubs; k++) {
        const pub *p = &e->pubs[k];
        for (size_t i = 0; i < e->n_conns; i++) {
            wconn *w = e->conns[i];
            if (!w->authed || w->closing)
                continue;
            for (size_t j = 0; j < w->n_subs; j++) {
                const wsub *s = &w->subs[j];
                if (s->replaying || s->type != p->type || p->ledger < s->from ||
                    (p->type == SUB_ACCOUNT && strcmp(s->account, p->account)))
                    continue;
                size_t v = pub_view(e, p, w);
                push(e, w, p->text[v], p->len[v]);
                break; /* once per connection */
            }
        }
    }
}

typedef struct commit_ctx {
    gw_events *e;
    uint32_t ledger;
    int rc;
    char err[256];
} commit_ctx;

static void on_committed_loop(void *ctx)
{
    commit_ctx *cc = ctx;
    gw_events *e = cc->e;
    if (e->stopping) {
        free(cc);
        return;
    }
    gw_webhooks_staged_done(e->g->webhooks, cc->rc == 0);
    e->busy = false;
    if (cc->rc == 0) {
        e->cursor = cc->ledger;
        e->st.ledgers++;
        publish(e);
    } else {
        fprintf(stderr, "level=error mod=events event=cursor_commit_failed ledger=%" PRIu32
                        " why=\"%s\"\n", cc->ledger, cc->err);
    }
    pubs_clear(e);
    bool ok = cc->rc == 0;
    free(cc);
    if (ok)
        replay_pump(e);
    pump(e);
}

static void on_committed(void *ctx, int rc, const char *err)
{
    commit_ctx *cc = ctx;
    cc->rc = rc;
    snprintf(cc->err, sizeof cc->err, "%s", err ? err : "");
    if (srv_net_post(cc->e->g->net, on_committed_loop, cc) != 0)
        free(cc); /* the loop is gone */
}

static int cursor_put(gw_batch *b, uint32_t ledger)
{
    char v[16];
    int n = snprintf(v, sizeof v, "%" PRIu32, ledger);
    return gw_batch_put(b, GW_META, CURSOR_KEY, strlen(CURSOR_KEY), v, (size_t)n);
}

/* Builds ledger L's events, stages its webhook deliveries, and commits
 * them with the cursor. */
static void process_ledger(gw_events *e, const jt_json *res, uint32_t want)
{
    uint32_t index;
    const char *hash;
    uint64_t time;
    ltx *txs = NULL;
    size_t n = 0;
    gw_batch *b = NULL;
    commit_ctx *cc = NULL;
    jt_buf t;
    jt_buf_init(&t);
    if (read_ledger(res, &index, &hash, &time, &txs, &n) || index != want) {
        fprintf(stderr, "level=warn mod=events event=bad_ledger ledger=%" PRIu32 "\n", want);
        goto fail;
    }
    if (!(b = gw_batch_new()) || !(cc = calloc(1, sizeof *cc)) || cursor_put(b, index) ||
        gw_event_ledger(&t, index, hash, time, n) || !pub_add(e, SUB_LEDGER, NULL, index, &t))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!txs[i].tx)
            continue;
        if (pub_tx(e, SUB_TX, NULL, &txs[i], index, time, &t))
            goto fail;
        char accts[64][40];
        size_t na = gw_tx_accounts(txs[i].tx, txs[i].meta, accts, 64);
        for (size_t k = 0; k < na; k++) {
            /* Webhooks store the event with no memo opened: plaintext is
             * never at rest in the store; each attempt opens it. */
            if (pub_tx(e, SUB_ACCOUNT, accts[k], &txs[i], index, time, &t))
                goto fail;
            char id[GW_EVENT_ID_MAX];
            gw_event_id(id, sizeof id, index, txs[i].index, accts[k]);
            if (gw_webhooks_stage(e->g->webhooks, b, accts[k], id, (const char *)t.data, t.len))
                goto fail;
        }
    }
    free(txs);
    jt_buf_clear(&t);
    cc->e = e;
    cc->ledger = index;
    e->busy = true;
    gw_store_commit_async(e->g->store, b, on_committed, cc);
    return;
fail:
    free(txs);
    free(cc);
    gw_batch_free(b);
    jt_buf_clear(&t);
    pubs_clear(e);
    gw_webhooks_staged_done(e->g->webhooks, false);
    e->busy = false;
}

typedef struct fetch_ctx {
    gw_events *e;
    uint32_t ledger;
} fetch_ctx;

static void on_ledger_reply(void *ctx, const jt_session_reply *r)
{
    fetch_ctx *fc = ctx;
    gw_events *e = fc->e;
    uint32_t want = fc->ledger;
    free(fc);
    if (e->stopping)
        return;
    e->busy = false;
    if (r->err != JT_OK) {
        const char *tok = r->ei && r->ei->field[0] ? r->ei->field : "";
        if (r->err == JT_ERPC && !strcmp(tok, "lgrNotFound") && ++e->missing >= MISSING_TRIES) {
            /* Said loudly and counted: the events of this ledger are lost
             * (the node has no record of it). */
            fprintf(stderr, "level=error mod=events event=ledger_skipped ledger=%" PRIu32
                            " why=\"the node does not have it\"\n", want);
            e->st.skipped++;
            e->missing = 0;
            gw_batch *b = gw_batch_new();
            commit_ctx *cc = calloc(1, sizeof *cc);
            if (b && cc && !cursor_put(b, want)) {
                cc->e = e;
                cc->ledger = want;
                e->busy = true;
                gw_store_commit_async(e->g->store, b, on_committed, cc);
            } else {
                gw_batch_free(b);
                free(cc);
            }
        }
        return; /* again on a later tick or ledger */
    }
    e->missing = 0;
    process_ledger(e, jt_json_get(r->msg, "result"), want);
}

static int load_cursor(gw_events *e, uint32_t *out)
{
    jt_buf v;
    jt_buf_init(&v);
    char err[256];
    int found = gw_store_get(e->g->store, GW_META, CURSOR_KEY, strlen(CURSOR_KEY), &v, err,
                             sizeof err);
    *out = 0;
    if (found == 1 && v.len < 16) {
        char t[16];
        memcpy(t, v.data, v.len);
        t[v.len] = 0;
        char *end;
        unsigned long x = strtoul(t, &end, 10);
        if (!*end && x <= UINT32_MAX)
            *out = (uint32_t)x;
    }
    jt_buf_clear(&v);
    return found < 0 ? -1 : 0;
}

/* Reads the next ledger when the node has validated past the cursor. */
/* Some authenticated connection holds a subscription. */
static bool anyone_listening(const gw_events *e)
{
    for (size_t i = 0; i < e->n_conns; i++)
        if (e->conns[i]->authed && !e->conns[i]->closing && e->conns[i]->n_subs)
            return true;
    return false;
}

static void pump(gw_events *e)
{
    if (e->busy || e->stopping || !gw_link_ready(e->g->link))
        return;
    uint32_t v = gw_link_validated(e->g->link);
    if (v > e->validated)
        e->validated = v;
    if (!e->validated)
        return;
    if (!e->cursor) {
        uint32_t stored = 0;
        if (load_cursor(e, &stored))
            return;
        /* Without webhooks nothing waits on a backlog: start at the
         * current ledger (WebSocket clients ask for older ones with
         * since_ledger). */
        if (stored && stored < e->validated && gw_webhooks_count(e->g->webhooks))
            e->cursor = stored;
        else
            e->cursor = e->validated - 1;
        fprintf(stderr, "level=info mod=events event=cursor ledger=%" PRIu32 " stored=%" PRIu32
                        " validated=%" PRIu32 "\n", e->cursor, stored, e->validated);
        if (!e->cursor) {
            e->cursor = 1; /* ledger 1 is genesis: no transactions */
        }
    }
    if (e->cursor >= e->validated)
        return;
    if (!gw_webhooks_count(e->g->webhooks) && !anyone_listening(e)) {
        /* Nobody to tell: the ledgers are not fetched (a ledger with its
         * transactions is large under load); a subscriber that comes later
         * asks for older ones with since_ledger. */
        e->cursor = e->validated;
        /* Recorded too, so that a webhook added later does not make the
         * next start fetch the ledgers nobody wanted. */
        gw_batch *b = gw_batch_new();
        if (b && cursor_put(b, e->cursor) == 0)
            gw_store_commit_async(e->g->store, b, NULL, NULL);
        else
            gw_batch_free(b);
        return;
    }
    fetch_ctx *fc = malloc(sizeof *fc);
    if (!fc)
        return;
    fc->e = e;
    fc->ledger = e->cursor + 1;
    char req[128];
    snprintf(req, sizeof req,
             "{\"command\":\"ledger\",\"ledger_index\":%" PRIu32
             ",\"transactions\":true,\"expand\":true}",
             fc->ledger);
    jt_errinfo ei;
    e->busy = true;
    if (gw_link_request(e->g->link, req, (int)e->g->cfg->request_timeout_ms, on_ledger_reply, fc,
                        &ei) != JT_OK) {
        e->busy = false;
        free(fc);
    }
}

int gw_events_new(gw *g, gw_events **out, char *err, size_t errcap)
{
    gw_events *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    e->g = g;
    *out = e;
    return 0;
}

void gw_events_on_ledger(gw_events *e, uint32_t validated)
{
    if (validated > e->validated)
        e->validated = validated;
    pump(e);
}

void gw_events_on_connected(gw_events *e)
{
    pump(e);
    replay_pump(e);
}

void gw_events_tick(gw_events *e)
{
    recheck_keys(e);
    pump(e);
    replay_pump(e);
}

void gw_events_stop(gw_events *e)
{
    if (e)
        e->stopping = true;
}

void gw_events_free(gw_events *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_conns; i++) {
        wconn *w = e->conns[i];
        for (size_t j = 0; j < w->n_subs; j++)
            free(w->subs[j].marker);
        free(w->subs);
        gw_apikey_clear(&w->key);
        free(w);
    }
    free(e->conns);
    pubs_clear(e);
    free(e->pubs);
    free(e->rq);
    free(e);
}

void gw_events_get_stats(const gw_events *e, gw_events_stats *st)
{
    *st = e->st;
    st->cursor = e->cursor;
    st->conns = 0;
    st->subs = 0;
    for (size_t i = 0; i < e->n_conns; i++) {
        st->conns += e->conns[i]->authed;
        st->subs += (unsigned)e->conns[i]->n_subs;
    }
}

/* ------------------------------------------------------------ commands */

static void cmd_auth(gw_events *e, wconn *w, const jt_json *req)
{
    gw *g = e->g;
    const char *key = jt_json_string(jt_json_get(req, "key"));
    if (w->authed) {
        reply_err(w, "auth", 400, "alreadyAuthenticated", "this connection is authenticated");
        return;
    }
    gw_apikey k;
    memset(&k, 0, sizeof k);
    char err[400];
    int ok = key ? gw_apikey_check(g->store, key, strlen(key), &k, err, sizeof err) : 0;
    if (ok < 0) {
        reply_err(w, "auth", 503, "storeUnavailable", err);
        gw_apikey_clear(&k);
        return;
    }
    if (ok == 0) {
        g->auth_failures++;
        reply_err(w, "auth", 401, "unauthorized",
                  key ? "the API key is not valid" : "{\"command\":\"auth\",\"key\":\"<API key>\"}");
        if (++w->bad_auth >= MAX_BAD_AUTH)
            srv_conn_close(w->c);
        gw_apikey_clear(&k);
        return;
    }
    if (!(k.scopes & (GW_SCOPE_READ | GW_SCOPE_ADMIN))) {
        reply_err(w, "auth", 403, "forbidden", "this API key lacks the read scope");
        gw_apikey_clear(&k);
        return;
    }
    if (conns_of_key(e, k.id) >= g->cfg->ev_conns_per_key) {
        reply_err(w, "auth", 429, "tooManyConnections",
                  "this API key has as many event connections as it may");
        gw_apikey_clear(&k);
        srv_conn_close(w->c);
        return;
    }
    w->authed = true;
    sodium_memzero(k.hash, sizeof k.hash);
    w->key = k; /* the connection's now (freed with it) */
    jt_buf b;
    jt_buf_init(&b);
    jt_jw jw;
    jt_jw_init(&jw, &b);
    jt_jw_object_begin(&jw);
    jt_jw_key(&jw, "success");
    jt_jw_bool(&jw, true);
    jt_jw_key(&jw, "status_code");
    jt_jw_string(&jw, "0");
    jt_jw_key(&jw, "command");
    jt_jw_string(&jw, "auth");
    jt_jw_key(&jw, "key_id");
    jt_jw_string(&jw, w->key.id);
    jt_jw_key(&jw, "ledger_index");
    jt_jw_uint(&jw, e->cursor);
    jt_jw_object_end(&jw);
    reply_text(w, &jw, &b);
}

/* The subscription's type and account from a request; -1 after answering
 * an error. */
static int parse_sub(wconn *w, const char *command, const jt_json *req, int *type,
                     const char **account)
{
    static const char *const keys[] = {"command", "type", "account", "since_ledger", "id", NULL};
    gw_txerr te;
    if (gw_check_fields(req, "", keys, &te)) {
        reply_err(w, command, 400, "badRequest", te.msg);
        return -1;
    }
    const char *t = jt_json_string(jt_json_get(req, "type"));
    *type = -1;
    for (int i = 0; t && i < 3; i++)
        if (!strcmp(t, sub_names[i]))
            *type = i;
    if (*type < 0) {
        reply_err(w, command, 400, "badRequest",
                  "type: \"account\", \"transactions\" or \"ledger\"");
        return -1;
    }
    *account = jt_json_string(jt_json_get(req, "account"));
    if (*type == SUB_ACCOUNT && (!*account || !jt_address_is_valid(*account))) {
        reply_err(w, command, 400, "badAddress", "account: an account address is required");
        return -1;
    }
    if (*type != SUB_ACCOUNT && *account) {
        reply_err(w, command, 400, "badRequest", "account goes with type \"account\" only");
        return -1;
    }
    return 0;
}

static wsub *find_sub(wconn *w, int type, const char *account)
{
    for (size_t i = 0; i < w->n_subs; i++)
        if (w->subs[i].type == type && (type != SUB_ACCOUNT || !strcmp(w->subs[i].account, account)))
            return &w->subs[i];
    return NULL;
}

static void cmd_subscribe(gw_events *e, wconn *w, const jt_json *req)
{
    int type;
    const char *account;
    if (parse_sub(w, "subscribe", req, &type, &account))
        return;
    const jt_json *sv = jt_json_get(req, "since_ledger");
    uint64_t since = 0;
    if (sv && (!jt_json_uint64(sv, false, &since) || since == 0 || since > UINT32_MAX)) {
        reply_err(w, "subscribe", 400, "badRequest", "since_ledger: a ledger index");
        return;
    }
    if (!e->cursor) {
        reply_err(w, "subscribe", 503, "nodeUnavailable",
                  "the gateway has not read a validated ledger from its node yet");
        return;
    }
    if (since && e->cursor >= since && e->cursor - since >= e->g->cfg->ev_max_replay) {
        char msg[160];
        snprintf(msg, sizeof msg, "since_ledger may reach at most %u ledgers back",
                 e->g->cfg->ev_max_replay);
        reply_err(w, "subscribe", 400, "replayTooLong", msg);
        return;
    }
    if (find_sub(w, type, account)) {
        reply_err(w, "subscribe", 409, "alreadySubscribed",
                  "this connection already has that subscription");
        return;
    }
    if (w->n_subs >= e->g->cfg->ev_subs_per_conn) {
        reply_err(w, "subscribe", 429, "tooManySubscriptions",
                  "this connection has as many subscriptions as it may");
        return;
    }
    wsub *p = realloc(w->subs, (w->n_subs + 1) * sizeof *p);
    if (!p) {
        reply_err(w, "subscribe", 500, "outOfMemory", "out of memory");
        return;
    }
    w->subs = p;
    wsub *s = &w->subs[w->n_subs++];
    memset(s, 0, sizeof *s);
    s->id = ++w->next_sub;
    s->type = type;
    if (account)
        snprintf(s->account, sizeof s->account, "%s", account);
    s->from = e->cursor + 1;
    if (since && since <= e->cursor) {
        s->replaying = true;
        s->next = (uint32_t)since;
    } else if (since) {
        s->from = (uint32_t)since; /* a ledger still to come: live from there */
    }
    jt_buf b;
    jt_buf_init(&b);
    jt_jw jw;
    jt_jw_init(&jw, &b);
    jt_jw_object_begin(&jw);
    jt_jw_key(&jw, "success");
    jt_jw_bool(&jw, true);
    jt_jw_key(&jw, "status_code");
    jt_jw_string(&jw, "0");
    jt_jw_key(&jw, "command");
    jt_jw_string(&jw, "subscribe");
    sub_members(&jw, s);
    if (since) {
        jt_jw_key(&jw, "since_ledger");
        jt_jw_uint(&jw, since);
    }
    /* Live events start after this ledger (replay covers up to it). */
    jt_jw_key(&jw, "ledger_index");
    jt_jw_uint(&jw, e->cursor);
    jt_jw_object_end(&jw);
    reply_text(w, &jw, &b);
    if (s->replaying) {
        rq_push(e, w->cid, s->id);
        replay_pump(e);
    }
}

static void cmd_unsubscribe(gw_events *e, wconn *w, const jt_json *req)
{
    int type;
    const char *account;
    if (parse_sub(w, "unsubscribe", req, &type, &account))
        return;
    wsub *s = find_sub(w, type, account);
    if (!s) {
        reply_err(w, "unsubscribe", 404, "notSubscribed", "no such subscription");
        return;
    }
    jt_buf b;
    jt_buf_init(&b);
    jt_jw jw;
    jt_jw_init(&jw, &b);
    jt_jw_object_begin(&jw);
    jt_jw_key(&jw, "success");
    jt_jw_bool(&jw, true);
    jt_jw_key(&jw, "status_code");
    jt_jw_string(&jw, "0");
    jt_jw_key(&jw, "command");
    jt_jw_string(&jw, "unsubscribe");
    sub_members(&jw, s);
    jt_jw_object_end(&jw);
    remove_sub(w, (size_t)(s - w->subs));
    reply_text(w, &jw, &b);
}

void gw_events_on_request(void *ctx, srv_conn *c, const char *msg, size_t len, bool over_rate)
{
    gw *g = ctx;
    gw_events *e = g->events;
    wconn *w = conn_of(e, c);
    if (!w) {
        srv_conn_close(c);
        return;
    }
    if (over_rate) {
        reply_err(w, NULL, 429, "slowDown", "too many requests on this connection");
        return;
    }
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    jt_json_limits lim = {.max_bytes = 8192, .max_depth = 4, .max_items = 64};
    if (jt_json_parse(msg, len, &lim, &doc, &ei) != JT_OK) {
        reply_err(w, NULL, 400, "badJson", ei.msg);
        return;
    }
    const jt_json *req = jt_json_root(doc);
    const char *cmd = jt_json_string(jt_json_get(req, "command"));
    if (!cmd)
        reply_err(w, NULL, 400, "badRequest", "command is required");
    else if (!strcmp(cmd, "auth"))
        cmd_auth(e, w, req);
    else if (!w->authed)
        reply_err(w, cmd, 401, "unauthorized",
                  "authenticate first: {\"command\":\"auth\",\"key\":\"<API key>\"}");
    else if (!strcmp(cmd, "subscribe"))
        cmd_subscribe(e, w, req);
    else if (!strcmp(cmd, "unsubscribe"))
        cmd_unsubscribe(e, w, req);
    else
        reply_err(w, cmd, 400, "unknownCommand", "commands: auth, subscribe, unsubscribe");
    jt_json_doc_free(doc);
}

void gw_events_on_close(void *ctx, srv_conn *c)
{
    gw *g = ctx;
    gw_events *e = g->events;
    wconn *w = srv_conn_user(c);
    if (!e || !w)
        return;
    srv_conn_set_user(c, NULL);
    for (size_t i = 0; i < e->n_conns; i++)
        if (e->conns[i] == w) {
            e->conns[i] = e->conns[--e->n_conns];
            break;
        }
    for (size_t j = 0; j < w->n_subs; j++)
        free(w->subs[j].marker);
    free(w->subs);
    gw_apikey_clear(&w->key);
    free(w);
}

bool gw_events_keep(void *ctx, srv_conn *c)
{
    const wconn *w = srv_conn_user(c);
    return w && w->authed && w->n_subs > 0;
}

/* GET /v2/events without an upgrade. */
void gw_get_events(gw_call *c)
{
    gw_fail(c, 426, "upgradeRequired",
            NULL, "GET /v2/events is a WebSocket: connect with an Upgrade: websocket request");
}
