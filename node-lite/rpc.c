/*
 * rpc.c — the command dispatcher (see rpc.h).
 *
 * Each command writes its result object through a jt_jw into its own buffer;
 * the envelope is added around it, so a command that fails half-way sends
 * only the error.
 */
#include "rpc.h"
#include "fld.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amt.h"
#include "verify.h"
#include "rpc_errors.h"

#define S_LEDGER      0x1u
#define S_SERVER      0x2u
#define S_TX          0x4u
#define S_TX_PROPOSED 0x8u

#define MAX_SUB_ACCOUNTS 1000
/* Requests queued behind signature checks before the node says tooBusy. */
#define MAX_PENDING 100000

#define SUCCESS_MSG "The transaction was applied. Only final in a validated ledger."

struct jn_client {
    jn_client *next, *prev;
    jn_send_fn send;
    void *sctx;
    bool admin, loopback;
    unsigned streams;
    jt_account_id *accts; /* accounts (validated) */
    size_t n_accts;
    jt_account_id *accts_p; /* accounts_proposed */
    size_t n_accts_p;
    unsigned pending; /* its requests queued behind a signature check */
};

/* A request waiting for its turn: a submit whose signature a worker checks,
 * or a later request of the same client, which must not overtake it. They
 * are finished strictly in arrival order, so an account's transactions
 * reach the open ledger in the order they were sent. */
typedef struct pending {
    struct pending *next;
    jn_vjob vj;             /* submit: the signature check */
    bool submit;
    const struct command *cmd; /* otherwise: the command to run */
    jn_client *cl;          /* NULL once the client has gone */
    jt_json_doc *doc;       /* the request */
    jt_obj *tx;             /* submit: decoded, owned until applied */
    jt_buf blob;
    jn_txmemo memo;         /* submit: entry IDs, worked out while queued */
    bool memo_set;
    /* A request refused before its turn (a blob that does not decode),
     * answered in its turn: the error to send. */
    const char *err;
    char msg[300];
    char exception[300];
} pending;

struct jn_rpc {
    jn_ledger *L;
    jn_closer *closer;
    jn_rpc_config cfg;
    char pubkey_node[64];
    char hostid[64];
    char version[64];
    jn_client *clients;
    /* Signature checks on workers (jn_rpc_start_verifiers); NULL: inline. */
    jn_verifier *ver;
    int (*post)(void *pctx, void (*cb)(void *ctx), void *ctx);
    void *post_ctx;
    atomic_bool wake; /* a drain is posted and has not started yet */
    pending *q_head, *q_tail;
    size_t q_len;
    /* Reply buffers reused from request to request (loop thread only). */
    struct scratch {
        jt_buf b;
        bool busy;
    } result_buf, reply_buf;
};

/* A reply would otherwise cost a malloc and three or four reallocs per
 * buffer; a reused buffer costs nothing in the steady state. One that grew
 * for a large reply (a whole ledger) is released after it. A nested use
 * (not expected) falls back to `local`. */
#define SCRATCH_KEEP ((size_t)64 << 10)

static jt_buf *scratch_get(struct scratch *s, jt_buf *local)
{
    jt_buf_init(local);
    if (s->busy)
        return local;
    s->busy = true;
    s->b.len = 0;
    return &s->b;
}

static void scratch_put(struct scratch *s, jt_buf *b)
{
    if (b != &s->b) {
        jt_buf_clear(b);
        return;
    }
    s->busy = false;
    if (b->cap > SCRATCH_KEEP)
        jt_buf_clear(b);
}

typedef struct req {
    jn_rpc *rpc;
    jn_client *cl;
    const jt_json *p;
    jt_jw *w;
    const char *err;
    char msg[300];
    char exception[300];
    char account[40]; /* context for actNotFound */
    struct pending *job; /* a queued submit being finished */
} req;

/* ---------------------------------------------------------------- errors */

static const jn_rpc_error *rpc_error(const char *tok)
{
    for (size_t i = 0; i < sizeof jn_rpc_errors / sizeof *jn_rpc_errors; i++)
        if (!strcmp(jn_rpc_errors[i].token, tok))
            return &jn_rpc_errors[i];
    return NULL;
}

static int fail(req *q, const char *tok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(req *q, const char *tok, const char *fmt, ...)
{
    q->err = tok;
    q->msg[0] = 0;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(q->msg, sizeof q->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---------------------------------------------------------------- JSON helpers */

/* Upper-case hex of any length (blobs go through the heap). */
/* Hex needs no escaping: the quoted text goes out as it is. */

static void jw_account(jt_jw *w, const jt_account_id *a)
{
    char addr[JT_ADDRESS_MAX];
    if (jt_address_encode(a, addr) != JT_OK)
        addr[0] = 0;
    jt_jw_string(w, addr);
}

static void jw_value_text(jt_jw *w, const jt_amount *a)
{
    char v[JT_AMOUNT_TEXT_MAX];
    if (jt_amount_value_text(a, v, sizeof v) != JT_OK)
        snprintf(v, sizeof v, "0");
    jt_jw_string(w, v);
}

static void jw_currency(jt_jw *w, const jt_currency *c)
{
    char t[JT_CURRENCY_TEXT_MAX];
    jt_currency_to_text(c, t);
    jt_jw_string(w, t);
}

static void jw_amount(jt_jw *w, const jt_amount *a)
{
    if (a->native) {
        jw_value_text(w, a);
        return;
    }
    jt_jw_object_begin(w);
    jt_jw_key(w, "currency");
    jw_currency(w, &a->currency);
    jt_jw_key(w, "issuer");
    jw_account(w, &a->issuer);
    jt_jw_key(w, "value");
    jw_value_text(w, a);
    jt_jw_object_end(w);
}

/* Writes o's JSON object followed by the members of `extra` (a complete
 * JSON object text, or NULL). */
static void jw_obj_plus(jt_jw *w, const jt_obj *o, const jt_buf *extra)
{
    jt_jw_object_begin(w);
    jt_obj_write_json_members(o, w);
    if (extra && extra->len > 2)
        jt_jw_members(w, (const char *)extra->data, extra->len);
    jt_jw_object_end(w);
}

/* A small JSON object of extras, built by the caller. */
typedef struct extra {
    jt_buf b;
    jt_jw w;
} extra;

static void extra_begin(extra *e)
{
    jt_buf_init(&e->b);
    jt_jw_init(&e->w, &e->b);
    jt_jw_object_begin(&e->w);
}

static const jt_buf *extra_end(extra *e)
{
    jt_jw_object_end(&e->w);
    if (jt_jw_finish(&e->w) != JT_OK)
        e->b.len = 0;
    return &e->b;
}

static void extra_free(extra *e)
{
    jt_buf_clear(&e->b);
}

static bool is_payment(const jt_obj *tx)
{
    uint64_t t;
    return jt_obj_get_uint_f(tx, FLD("TransactionType"), &t) == JT_OK && t == JT_TX_PAYMENT;
}

/* The transaction's JSON with hash (and, for a closed ledger, inLedger,
 * ledger_index and date). */
static void jw_tx(jt_jw *w, const jt_obj *tx, const uint8_t id[32], const jn_header *h, bool in_ledger)
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

/* Metadata JSON plus delivered_amount for payments. */
static void jw_meta(jt_jw *w, const jt_obj *meta, const jt_obj *tx)
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
            jn_amt_zero_like(&d, &d);
    }
    extra e;
    extra_begin(&e);
    jt_jw_key(&e.w, "delivered_amount");
    jw_amount(&e.w, &d);
    jw_obj_plus(w, meta, extra_end(&e));
    extra_free(&e);
}

static void close_time_human(uint32_t t, char out[32])
{
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t u = (time_t)t + JT_EPOCH_OFFSET;
    struct tm tm;
    gmtime_r(&u, &tm);
    snprintf(out, 32, "%04d-%s-%02d %02d:%02d:%02d", tm.tm_year + 1900, mon[tm.tm_mon], tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---------------------------------------------------------------- parameters */

static bool param_account(req *q, const char *key, jt_account_id *a, bool required)
{
    const jt_json *v = jt_json_get(q->p, key);
    if (!v) {
        if (required)
            fail(q, "invalidParams", "Missing field '%s'.", key);
        return false;
    }
    const char *s = jt_json_string(v);
    jt_errinfo ei;
    if (!s || jt_address_decode(s, a, &ei) != JT_OK) {
        fail(q, "actMalformed", NULL);
        return false;
    }
    return true;
}

static bool param_bool(req *q, const char *key)
{
    const jt_json *v = jt_json_get(q->p, key);
    return v && v->kind == JT_JSON_BOOL && v->u.b;
}

/* limit: default when absent, clamped to [lo, hi]. */
static unsigned param_limit(req *q, unsigned dflt, unsigned lo, unsigned hi)
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

typedef struct lsel {
    int kind; /* 0 open, 1 last closed, 2 an older closed ledger (no state) */
    jn_header h;
    const jn_view *v;
} lsel;

static int select_ledger(req *q, lsel *s, bool dflt_current)
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
            return fail(q, "invalidParams", "ledgerHashMalformed");
        if (!memcmp(h, jn_ledger_last(L)->hash, 32))
            goto closed;
        if (jn_store_header_by_hash(jn_ledger_store(L), h, &s->h))
            return fail(q, "lgrNotFound", "ledgerNotFound");
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
        return fail(q, "invalidParams", "ledgerIndexMalformed");
    if (seq == jn_ledger_open_seq(L))
        goto open;
    if (seq == jn_ledger_last(L)->seq)
        goto closed;
    if (seq > UINT32_MAX || jn_store_header_by_seq(jn_ledger_store(L), (uint32_t)seq, &s->h))
        return fail(q, "lgrNotFound", "ledgerNotFound");
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

/* State of the selected ledger, or an error for an older one. */
static int need_state(req *q, const lsel *s)
{
    if (s->kind == 2)
        return fail(q, "lgrNotFound",
                    "ledger %" PRIu32 " is closed and its state is not kept; ask for the last closed "
                    "(validated) or the current ledger",
                    s->h.seq);
    return 0;
}

static void jw_ledger_fields(jt_jw *w, const lsel *s, jn_ledger *L)
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

/* ---------------------------------------------------------------- entries */

static uint64_t get_u(const jt_obj *o, const char *f, uint64_t dflt)
{
    uint64_t v;
    return jt_obj_get_uint(o, f, &v) == JT_OK ? v : dflt;
}

/* Entry JSON plus "index". */
static void jw_entry(jt_jw *w, const jt_obj *o, const uint8_t id[32])
{
    extra e;
    extra_begin(&e);
    jt_jw_key(&e.w, "index");
    jt_jw_hex(&e.w, id, 32);
    jw_obj_plus(w, o, extra_end(&e));
    extra_free(&e);
}

/* The owner directory's item IDs (pointer into the entry) and count. */
static size_t owner_items(const jn_view *v, const jt_account_id *a, const uint8_t **items)
{
    uint8_t dir[32];
    jn_id_owner_dir(a, dir);
    const jt_obj *d = jn_view_read(v, dir);
    size_t n;
    if (!d || jt_obj_get_bytes_f(d, FLD("Indexes"), items, &n) != JT_OK)
        return 0;
    return n / 32;
}

/* ---------------------------------------------------------------- commands */

static int cmd_ping(req *q)
{
    return 0;
}

static void jw_validated_ledgers(jt_jw *w, jn_ledger *L)
{
    char range[48];
    snprintf(range, sizeof range, "%" PRIu32 "-%" PRIu32, jn_ledger_first_seq(L), jn_ledger_last(L)->seq);
    jt_jw_string(w, range);
}

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
    jw_validated_ledgers(w, L);
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
        return fail(q, "invalidParams", "Invalid field 'streams', not array.");
    for (size_t i = 0; i < sv->u.arr.n; i++) {
        const char *s = jt_json_string(sv->u.arr.items[i]);
        if (!s)
            return fail(q, "malformedStream", "Stream malformed.");
        if (!strcmp(s, "ledger"))
            *streams |= S_LEDGER;
        else if (!strcmp(s, "server"))
            *streams |= S_SERVER;
        else if (!strcmp(s, "transactions"))
            *streams |= S_TX;
        else if (!strcmp(s, "transactions_proposed") || !strcmp(s, "rt_transactions"))
            *streams |= S_TX_PROPOSED;
        else
            return fail(q, "unknownStream", "Unknown stream.");
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
        return fail(q, "invalidParams", "Invalid field '%s', not array.", key);
    if (av->u.arr.n > MAX_SUB_ACCOUNTS)
        return fail(q, "invalidParams", "At most %d accounts per request.", MAX_SUB_ACCOUNTS);
    jt_account_id *v = calloc(av->u.arr.n ? av->u.arr.n : 1, sizeof *v);
    if (!v)
        return fail(q, "internal", NULL);
    for (size_t i = 0; i < av->u.arr.n; i++) {
        const char *s = jt_json_string(av->u.arr.items[i]);
        jt_errinfo ei;
        if (!s || jt_address_decode(s, &v[i], &ei) != JT_OK) {
            free(v);
            return fail(q, "actMalformed", NULL);
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
        rc = fail(q, "invalidParams", "At most %d subscribed accounts per connection.", MAX_SUB_ACCOUNTS);
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

static int cmd_subscribe(req *q)
{
    return sub_common(q, false);
}

static int cmd_unsubscribe(req *q)
{
    return sub_common(q, true);
}

static int cmd_account_info(req *q)
{
    jt_account_id a;
    lsel s;
    if (!param_account(q, "account", &a, true) || select_ledger(q, &s, true) || need_state(q, &s))
        return -1;
    uint8_t id[32];
    jn_id_account(&a, id);
    const jt_obj *o = jn_view_read(s.v, id);
    if (!o) {
        const char *t = jt_json_string(jt_json_get(q->p, "account"));
        snprintf(q->account, sizeof q->account, "%s", t ? t : "");
        return fail(q, "actNotFound", NULL);
    }
    jt_jw_key(q->w, "account_data");
    jw_entry(q->w, o, id);
    jw_ledger_fields(q->w, &s, q->rpc->L);
    return 0;
}

static int check_account_exists(req *q, const lsel *s, const jt_account_id *a)
{
    uint8_t id[32];
    jn_id_account(a, id);
    if (jn_view_read(s->v, id))
        return 0;
    const char *t = jt_json_string(jt_json_get(q->p, "account"));
    snprintf(q->account, sizeof q->account, "%s", t ? t : "");
    return fail(q, "actNotFound", NULL);
}

/* Marker: the hex ID of the item to continue from. */
static bool parse_marker(req *q, uint8_t out[32], bool *has)
{
    const jt_json *m = jt_json_get(q->p, "marker");
    *has = false;
    if (!m || m->kind == JT_JSON_NULL)
        return true;
    const char *t = jt_json_string(m);
    size_t n;
    if (!t || jt_hex_decode(t, strlen(t), out, 32, &n) != JT_OK || n != 32) {
        fail(q, "invalidParams", "Invalid field 'marker'.");
        return false;
    }
    *has = true;
    return true;
}

/* The owned-entry listings (account_lines, account_offers, account_objects)
 * share one walk of the owner directory: from the marker, entries that
 * `match` are written by `write` until `limit`; then limit and marker. */
typedef struct owned_list {
    const char *key; /* "lines", "offers", "account_objects" */
    bool (*match)(const jt_obj *o, const jt_account_id *a, void *ctx);
    void (*write)(jt_jw *w, const jt_obj *o, const uint8_t id[32], const jt_account_id *a, void *ctx);
    void *ctx;
} owned_list;

static int list_owned(req *q, const jt_account_id *a, const owned_list *ol)
{
    lsel s;
    if (select_ledger(q, &s, false) || need_state(q, &s) || check_account_exists(q, &s, a))
        return -1;
    unsigned limit = param_limit(q, 200, 10, 400);
    uint8_t marker[32];
    bool has_marker;
    if (!parse_marker(q, marker, &has_marker))
        return -1;
    const uint8_t *items;
    size_t n = owner_items(s.v, a, &items);
    jt_jw *w = q->w;
    jt_jw_key(w, "account");
    jt_jw_string(w, jt_json_string(jt_json_get(q->p, "account")));
    jt_jw_key(w, ol->key);
    jt_jw_array_begin(w);
    unsigned count = 0;
    bool started = !has_marker;
    const uint8_t *next = NULL;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *id = items + i * 32;
        if (!started) {
            if (memcmp(id, marker, 32) != 0)
                continue;
            started = true;
        }
        const jt_obj *o = jn_view_read(s.v, id);
        if (!o || !ol->match(o, a, ol->ctx))
            continue;
        if (count == limit) {
            next = id;
            break;
        }
        count++;
        ol->write(w, o, id, a, ol->ctx);
    }
    jt_jw_array_end(w);
    if (next) {
        jt_jw_key(w, "limit");
        jt_jw_uint(w, limit);
        jt_jw_key(w, "marker");
        jt_jw_hex(w, next, 32);
    }
    jw_ledger_fields(w, &s, q->rpc->L);
    return 0;
}

typedef struct line_filter {
    bool has_peer;
    jt_account_id peer;
} line_filter;

/* A trust line's two limits seen from `a`. */
static bool line_sides(const jt_obj *o, const jt_account_id *a, jt_amount *bal, jt_amount *lo,
                       jt_amount *hi, bool *low)
{
    if (get_u(o, "LedgerEntryType", 0) != JT_LT_SKYWELL_STATE ||
        jt_obj_get_amount_f(o, FLD("Balance"), bal) || jt_obj_get_amount_f(o, FLD("LowLimit"), lo) ||
        jt_obj_get_amount_f(o, FLD("HighLimit"), hi))
        return false;
    *low = !memcmp(&lo->issuer, a, 20);
    return true;
}

static bool match_line(const jt_obj *o, const jt_account_id *a, void *ctx)
{
    const line_filter *f = ctx;
    jt_amount bal, lo, hi;
    bool low;
    if (!line_sides(o, a, &bal, &lo, &hi, &low))
        return false;
    return !f->has_peer || !memcmp(&(low ? &hi : &lo)->issuer, &f->peer, 20);
}

static void write_line(jt_jw *w, const jt_obj *o, const uint8_t id[32], const jt_account_id *a, void *ctx)
{
    jt_amount bal, lo, hi;
    bool low;
    if (!line_sides(o, a, &bal, &lo, &hi, &low))
        return;
    const jt_amount *mine = low ? &lo : &hi, *theirs = low ? &hi : &lo;
    if (!low)
        jn_amt_negate(&bal);
    uint32_t f = (uint32_t)get_u(o, "Flags", 0);
    uint32_t my_ns = low ? LSF_LOW_NO_SKYWELL : LSF_HIGH_NO_SKYWELL;
    uint32_t th_ns = low ? LSF_HIGH_NO_SKYWELL : LSF_LOW_NO_SKYWELL;
    uint32_t my_au = low ? LSF_LOW_AUTH : LSF_HIGH_AUTH, th_au = low ? LSF_HIGH_AUTH : LSF_LOW_AUTH;
    uint32_t my_fz = low ? LSF_LOW_FREEZE : LSF_HIGH_FREEZE, th_fz = low ? LSF_HIGH_FREEZE : LSF_LOW_FREEZE;
    jt_jw_object_begin(w);
    jt_jw_key(w, "account");
    jw_account(w, &theirs->issuer);
    jt_jw_key(w, "balance");
    jw_value_text(w, &bal);
    jt_jw_key(w, "currency");
    jw_currency(w, &bal.currency);
    jt_jw_key(w, "limit");
    jw_value_text(w, mine);
    jt_jw_key(w, "limit_peer");
    jw_value_text(w, theirs);
    jt_jw_key(w, "quality_in");
    jt_jw_uint(w, get_u(o, low ? "LowQualityIn" : "HighQualityIn", 0));
    jt_jw_key(w, "quality_out");
    jt_jw_uint(w, get_u(o, low ? "LowQualityOut" : "HighQualityOut", 0));
    struct {
        const char *k;
        uint32_t bit;
    } flags[] = {{"authorized", my_au},   {"peer_authorized", th_au}, {"no_skywell", my_ns},
                 {"no_skywell_peer", th_ns}, {"freeze", my_fz},         {"freeze_peer", th_fz}};
    for (size_t k = 0; k < sizeof flags / sizeof *flags; k++)
        if (f & flags[k].bit) {
            jt_jw_key(w, flags[k].k);
            jt_jw_bool(w, true);
        }
    jt_jw_object_end(w);
}

static int cmd_account_lines(req *q)
{
    jt_account_id a;
    line_filter f = {0};
    if (!param_account(q, "account", &a, true))
        return -1;
    f.has_peer = jt_json_get(q->p, "peer") != NULL;
    if (f.has_peer && !param_account(q, "peer", &f.peer, true))
        return -1;
    owned_list ol = {"lines", match_line, write_line, &f};
    return list_owned(q, &a, &ol);
}

static bool match_offer(const jt_obj *o, const jt_account_id *a, void *ctx)
{
    return get_u(o, "LedgerEntryType", 0) == JT_LT_OFFER;
}

static void write_offer(jt_jw *w, const jt_obj *o, const uint8_t id[32], const jt_account_id *a, void *ctx)
{
    jt_amount pays, gets;
    if (jt_obj_get_amount_f(o, FLD("TakerPays"), &pays) || jt_obj_get_amount_f(o, FLD("TakerGets"), &gets))
        return;
    jt_jw_object_begin(w);
    jt_jw_key(w, "flags");
    jt_jw_uint(w, get_u(o, "Flags", 0));
    jt_jw_key(w, "seq");
    jt_jw_uint(w, get_u(o, "Sequence", 0));
    jt_jw_key(w, "taker_gets");
    jw_amount(w, &gets);
    jt_jw_key(w, "taker_pays");
    jw_amount(w, &pays);
    jt_jw_object_end(w);
}

static int cmd_account_offers(req *q)
{
    jt_account_id a;
    if (!param_account(q, "account", &a, true))
        return -1;
    owned_list ol = {"offers", match_offer, write_offer, NULL};
    return list_owned(q, &a, &ol);
}

static bool match_type(const jt_obj *o, const jt_account_id *a, void *ctx)
{
    int want = *(const int *)ctx;
    return want < 0 || get_u(o, "LedgerEntryType", 0) == (uint64_t)want;
}

static void write_entry(jt_jw *w, const jt_obj *o, const uint8_t id[32], const jt_account_id *a, void *ctx)
{
    jw_entry(w, o, id);
}

static int cmd_account_objects(req *q)
{
    jt_account_id a;
    if (!param_account(q, "account", &a, true))
        return -1;
    const char *type = jt_json_string(jt_json_get(q->p, "type"));
    int want = -1;
    if (type) {
        static const struct {
            const char *k, *n;
        } alias[] = {{"state", "SkywellState"}, {"offer", "Offer"}, {"signer_list", "SignerList"},
                     {"directory", "DirectoryNode"}, {"trust_state", "TrustState"}};
        const char *name = type;
        for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
            if (!strcmp(type, alias[i].k))
                name = alias[i].n;
        want = jt_ledger_type_by_name(name);
        if (want < 0)
            return fail(q, "invalidParams", "Invalid field 'type'.");
    }
    owned_list ol = {"account_objects", match_type, write_entry, &want};
    return list_owned(q, &a, &ol);
}

static int cmd_account_currencies(req *q)
{
    jt_account_id a;
    lsel s;
    if (!param_account(q, "account", &a, true) || select_ledger(q, &s, false) || need_state(q, &s) ||
        check_account_exists(q, &s, &a))
        return -1;
    const uint8_t *items;
    size_t n = owner_items(s.v, &a, &items);
    jt_currency recv[256], send[256];
    size_t nr = 0, ns = 0;
    for (size_t i = 0; i < n; i++) {
        const jt_obj *o = jn_view_read(s.v, items + i * 32);
        jt_amount bal, lo, hi;
        if (!o || get_u(o, "LedgerEntryType", 0) != JT_LT_SKYWELL_STATE ||
            jt_obj_get_amount_f(o, FLD("Balance"), &bal) || jt_obj_get_amount_f(o, FLD("LowLimit"), &lo) ||
            jt_obj_get_amount_f(o, FLD("HighLimit"), &hi))
            continue;
        bool low = !memcmp(&lo.issuer, &a, 20);
        if (!low)
            jn_amt_negate(&bal);
        jt_amount room;
        const jt_amount *mine = low ? &lo : &hi, *theirs = low ? &hi : &lo;
        /* Can receive when below my limit; can send when I hold some or the peer extends credit. */
        if (jn_amt_sub(mine, &bal, &room) && jn_amt_sign(&room) > 0) {
            size_t k;
            for (k = 0; k < nr && memcmp(&recv[k], &bal.currency, 20); k++)
                ;
            if (k == nr && nr < 256)
                recv[nr++] = bal.currency;
        }
        jt_amount neg = bal;
        jn_amt_negate(&neg);
        if (jn_amt_sign(&bal) > 0 || jn_amt_cmp(theirs, &neg) > 0) {
            size_t k;
            for (k = 0; k < ns && memcmp(&send[k], &bal.currency, 20); k++)
                ;
            if (k == ns && ns < 256)
                send[ns++] = bal.currency;
        }
    }
    jt_jw *w = q->w;
    jt_jw_key(w, "receive_currencies");
    jt_jw_array_begin(w);
    for (size_t i = 0; i < nr; i++)
        jw_currency(w, &recv[i]);
    jt_jw_array_end(w);
    jt_jw_key(w, "send_currencies");
    jt_jw_array_begin(w);
    for (size_t i = 0; i < ns; i++)
        jw_currency(w, &send[i]);
    jt_jw_array_end(w);
    jw_ledger_fields(w, &s, q->rpc->L);
    return 0;
}

static int cmd_account_relation(req *q)
{
    jt_account_id a, peer;
    lsel s;
    if (!param_account(q, "account", &a, true))
        return -1;
    bool has_peer = jt_json_get(q->p, "peer") != NULL;
    if (has_peer && !param_account(q, "peer", &peer, true))
        return -1;
    if (select_ledger(q, &s, false) || need_state(q, &s) || check_account_exists(q, &s, &a))
        return -1;
    uint64_t want = 0;
    const jt_json *rt = jt_json_get(q->p, "relation_type");
    if (rt && rt->kind != JT_JSON_NULL && !jt_json_uint64(rt, true, &want))
        return fail(q, "invalidParams", "Invalid field 'relation_type'.");
    const uint8_t *items;
    size_t n = owner_items(s.v, &a, &items);
    jt_jw *w = q->w;
    jt_jw_key(w, "account");
    jt_jw_string(w, jt_json_string(jt_json_get(q->p, "account")));
    jt_jw_key(w, "lines");
    jt_jw_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        const jt_obj *o = jn_view_read(s.v, items + i * 32);
        jt_account_id target;
        jt_amount lim;
        if (!o || get_u(o, "LedgerEntryType", 0) != JT_LT_TRUST_STATE ||
            jt_obj_get_account_f(o, FLD("Target"), &target) || jt_obj_get_amount_f(o, FLD("LimitAmount"), &lim))
            continue;
        uint64_t type = get_u(o, "RelationType", 0);
        if ((want && type != want) || (has_peer && memcmp(&target, &peer, 20)))
            continue;
        char t[24];
        snprintf(t, sizeof t, "%" PRIu64, type);
        jt_jw_object_begin(w);
        jt_jw_key(w, "currency");
        jw_currency(w, &lim.currency);
        jt_jw_key(w, "issuer");
        jw_account(w, &lim.issuer);
        jt_jw_key(w, "limit");
        jw_value_text(w, &lim);
        jt_jw_key(w, "limit_peer");
        jw_account(w, &target);
        jt_jw_key(w, "relation_type");
        jt_jw_string(w, t);
        jt_jw_object_end(w);
    }
    jt_jw_array_end(w);
    jw_ledger_fields(w, &s, q->rpc->L);
    return 0;
}

/* account_tx ------------------------------------------------------------- */

typedef struct atx_ctx {
    req *q;
    bool binary;
    jn_header h; /* cache */
    bool have_h;
} atx_ctx;

static int atx_cb(void *vctx, const jn_txrec *t)
{
    atx_ctx *a = vctx;
    jt_jw *w = a->q->w;
    jn_store *st = jn_ledger_store(a->q->rpc->L);
    if (!a->have_h || a->h.seq != t->seq) {
        if (jn_store_header_by_seq(st, t->seq, &a->h))
            return 0;
        a->have_h = true;
    }
    jt_jw_object_begin(w);
    if (a->binary) {
        jt_jw_key(w, "ledger_index");
        jt_jw_uint(w, t->seq);
        jt_jw_key(w, "meta");
        jt_jw_hex(w, t->meta, t->meta_len);
        jt_jw_key(w, "tx_blob");
        jt_jw_hex(w, t->blob, t->blob_len);
    } else {
        jt_obj *tx = NULL, *meta = NULL;
        jt_errinfo ei;
        if (jt_obj_from_binary(t->blob, t->blob_len, &tx, &ei) == JT_OK &&
            jt_obj_from_binary(t->meta, t->meta_len, &meta, &ei) == JT_OK) {
            jt_jw_key(w, "meta");
            jw_meta(w, meta, tx);
            jt_jw_key(w, "tx");
            jw_tx(w, tx, t->id, &a->h, true);
        }
        jt_obj_free(tx);
        jt_obj_free(meta);
    }
    jt_jw_key(w, "validated");
    jt_jw_bool(w, true);
    jt_jw_object_end(w);
    return 0;
}

static int cmd_account_tx(req *q)
{
    jt_account_id a;
    if (!param_account(q, "account", &a, true))
        return -1;
    jn_ledger *L = q->rpc->L;
    int64_t lo = -1, hi = -1;
    const jt_json *v;
    if ((v = jt_json_get(q->p, "ledger_index_min")) && !jt_json_int64(v, true, &lo))
        return fail(q, "lgrIdxMalformed", NULL);
    if ((v = jt_json_get(q->p, "ledger_index_max")) && !jt_json_int64(v, true, &hi))
        return fail(q, "lgrIdxMalformed", NULL);
    uint32_t first = jn_ledger_first_seq(L), last = jn_ledger_last(L)->seq;
    /* A single ledger_index / ledger_hash selects one ledger. */
    if (jt_json_get(q->p, "ledger_index") || jt_json_get(q->p, "ledger_hash")) {
        lsel s;
        if (select_ledger(q, &s, false))
            return -1;
        if (s.kind == 0)
            return fail(q, "lgrIdxsInvalid", "Ledger indexes invalid.");
        lo = hi = s.h.seq;
    }
    uint32_t min = lo < 0 || lo < first ? first : (uint32_t)(lo > UINT32_MAX ? UINT32_MAX : lo);
    uint32_t max = hi < 0 || hi > last ? last : (uint32_t)hi;
    if (lo >= 0 && hi >= 0 && lo > hi)
        return fail(q, "lgrIdxsInvalid", "Ledger indexes invalid.");
    unsigned limit = param_limit(q, 200, 1, 1000);
    bool forward = param_bool(q, "forward");
    bool has_marker = false;
    uint64_t mseq = 0, midx = 0;
    const jt_json *m = jt_json_get(q->p, "marker");
    if (m && m->kind != JT_JSON_NULL) {
        if (m->kind != JT_JSON_OBJECT || !jt_json_uint64(jt_json_get(m, "ledger"), true, &mseq) ||
            !jt_json_uint64(jt_json_get(m, "seq"), true, &midx) || mseq > UINT32_MAX || midx > UINT32_MAX)
            return fail(q, "invalidParams", "Invalid field 'marker'.");
        has_marker = true;
    }
    jt_jw *w = q->w;
    jt_jw_key(w, "account");
    jt_jw_string(w, jt_json_string(jt_json_get(q->p, "account")));
    jt_jw_key(w, "ledger_index_max");
    jt_jw_uint(w, max);
    jt_jw_key(w, "ledger_index_min");
    jt_jw_uint(w, min);
    jt_jw_key(w, "limit");
    jt_jw_uint(w, limit);
    jt_jw_key(w, "transactions");
    jt_jw_array_begin(w);
    atx_ctx ac = {.q = q, .binary = param_bool(q, "binary")};
    bool more = false;
    uint32_t nseq = 0, nidx = 0;
    if (min <= max &&
        jn_store_account_tx(jn_ledger_store(L), a.bytes, min, max, forward, has_marker, (uint32_t)mseq,
                            (uint32_t)midx, limit, atx_cb, &ac, &more, &nseq, &nidx) < 0) {
        return fail(q, "internal", "reading history: %s", jn_store_errmsg(jn_ledger_store(L)));
    }
    jt_jw_array_end(w);
    if (more) {
        jt_jw_key(w, "marker");
        jt_jw_object_begin(w);
        jt_jw_key(w, "ledger");
        jt_jw_uint(w, nseq);
        jt_jw_key(w, "seq");
        jt_jw_uint(w, nidx);
        jt_jw_object_end(w);
    }
    jt_jw_key(w, "validated");
    jt_jw_bool(w, true);
    return 0;
}

/* book_offers ------------------------------------------------------------ */

static int parse_book_side(req *q, const char *key, jt_amount *out, const char *cur_err, const char *iss_err)
{
    const jt_json *v = jt_json_get(q->p, key);
    if (!v || v->kind != JT_JSON_OBJECT)
        return fail(q, "invalidParams", "Missing field '%s'.", key);
    const char *c = jt_json_string(jt_json_get(v, "currency"));
    const jt_json *iv = jt_json_get(v, "issuer");
    const char *i = iv ? jt_json_string(iv) : NULL;
    memset(out, 0, sizeof *out);
    jt_errinfo ei;
    if (!c || jt_currency_from_text(c, true, &out->currency, &ei) != JT_OK)
        return fail(q, cur_err, "Invalid field '%s.currency'.", key);
    bool swt = jt_currency_is_swt(&out->currency);
    if (swt) {
        if (i && *i)
            return fail(q, iss_err, "Invalid field '%s.issuer', expected empty for SWT.", key);
        out->native = true;
        return 0;
    }
    if (!i || jt_address_decode(i, &out->issuer, &ei) != JT_OK)
        return fail(q, iss_err, "Invalid field '%s.issuer'.", key);
    return 0;
}

typedef struct book_item {
    const jt_obj *o;
    const uint8_t *id;
    uint64_t q;
    uint64_t seq;
} book_item;

typedef struct book_ctx {
    const jt_amount *pays, *gets;
    book_item *v;
    size_t n, cap;
    bool oom;
} book_ctx;

static bool same_asset(const jt_amount *a, const jt_amount *b)
{
    if (a->native || b->native)
        return a->native == b->native;
    return !memcmp(&a->currency, &b->currency, 20) && !memcmp(&a->issuer, &b->issuer, 20);
}

static void book_collect(void *vctx, const uint8_t id[32], const jt_obj *o)
{
    book_ctx *b = vctx;
    if (get_u(o, "LedgerEntryType", 0) != JT_LT_OFFER)
        return;
    jt_amount p, g;
    if (jt_obj_get_amount_f(o, FLD("TakerPays"), &p) || jt_obj_get_amount_f(o, FLD("TakerGets"), &g))
        return;
    if (!same_asset(&p, b->pays) || !same_asset(&g, b->gets))
        return;
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        book_item *nv = realloc(b->v, nc * sizeof *nv);
        if (!nv) {
            b->oom = true;
            return;
        }
        b->v = nv;
        b->cap = nc;
    }
    const uint8_t *bd;
    size_t bn;
    uint64_t q = 0;
    if (jt_obj_get_bytes_f(o, FLD("BookDirectory"), &bd, &bn) == JT_OK && bn == 32)
        for (int i = 24; i < 32; i++)
            q = (q << 8) | bd[i];
    b->v[b->n++] = (book_item){o, id, q, get_u(o, "PreviousTxnLgrSeq", 0) << 32 | get_u(o, "Sequence", 0)};
}

static int cmp_book(const void *x, const void *y)
{
    const book_item *a = x, *b = y;
    if (a->q != b->q)
        return a->q < b->q ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return memcmp(a->id, b->id, 32);
}

/* What `who` can deliver of asset `like` (SWT above reserve; line balance;
 * "unlimited" issuer returns false). */
static bool owner_funds(const jn_view *v, const jn_params *p, const jt_account_id *who, const jt_amount *like,
                        jt_amount *out)
{
    uint8_t id[32];
    if (like->native) {
        jn_id_account(who, id);
        const jt_obj *r = jn_view_read(v, id);
        jt_amount bal;
        int64_t b = 0, res = 0;
        if (r && jt_obj_get_amount_f(r, FLD("Balance"), &bal) == JT_OK)
            b = jn_amt_to_drops(&bal);
        if (r)
            res = (int64_t)(p->reserve_base + get_u(r, "OwnerCount", 0) * p->reserve_inc);
        jn_amt_drops(out, b > res ? b - res : 0);
        return true;
    }
    if (!memcmp(who, &like->issuer, 20))
        return false;
    jn_id_line(who, &like->issuer, &like->currency, id);
    const jt_obj *l = jn_view_read(v, id);
    jn_amt_zero_like(out, like);
    jt_amount bal;
    if (l && jt_obj_get_amount_f(l, FLD("Balance"), &bal) == JT_OK) {
        if (memcmp(who, &like->issuer, 20) > 0)
            jn_amt_negate(&bal);
        if (jn_amt_sign(&bal) > 0) {
            *out = bal;
            out->currency = like->currency;
            out->issuer = like->issuer;
        }
    }
    return true;
}

static int cmd_book_offers(req *q)
{
    jt_amount pays, gets;
    lsel s;
    if (parse_book_side(q, "taker_pays", &pays, "srcCurMalformed", "srcIsrMalformed") ||
        parse_book_side(q, "taker_gets", &gets, "dstAmtMalformed", "dstIsrMalformed"))
        return -1;
    if (same_asset(&pays, &gets))
        return fail(q, "badMarket", NULL);
    if (jt_json_get(q->p, "taker")) {
        jt_account_id t;
        if (!param_account(q, "taker", &t, false))
            return fail(q, "invalidParams", "Invalid field 'taker'.");
    }
    if (select_ledger(q, &s, true) || need_state(q, &s))
        return -1;
    unsigned limit = param_limit(q, 200, 1, 400);
    book_ctx b = {.pays = &pays, .gets = &gets};
    jn_view_foreach(s.v, book_collect, &b);
    if (b.oom) {
        free(b.v);
        return fail(q, "internal", NULL);
    }
    if (b.n)
        qsort(b.v, b.n, sizeof *b.v, cmp_book);
    const jn_params *p = jn_ledger_params(q->rpc->L);
    jt_jw *w = q->w;
    jw_ledger_fields(w, &s, q->rpc->L);
    jt_jw_key(w, "offers");
    jt_jw_array_begin(w);
    /* Funds are consumed offer by offer, per owner. */
    jt_account_id seen[64];
    jt_amount left[64];
    size_t nseen = 0;
    for (size_t i = 0; i < b.n && i < limit; i++) {
        const jt_obj *o = b.v[i].o;
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
            limited = owner_funds(s.v, p, &owner, &og, &funds);
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
        jn_quality_text(b.v[i].q, qt, sizeof qt);
        jt_jw_key(&e.w, "quality");
        jt_jw_string(&e.w, qt);
        if (limited && jn_amt_cmp(&funds, &og) < 0) {
            jt_amount fp;
            jt_jw_key(&e.w, "taker_gets_funded");
            jw_amount(&e.w, &funds);
            if (jn_amt_mul_quality(&funds, b.v[i].q, &op, false, &fp)) {
                jt_jw_key(&e.w, "taker_pays_funded");
                jw_amount(&e.w, &fp);
            }
        }
        if (limited && k < 64) {
            jt_amount rest;
            if (jn_amt_sub(&funds, &og, &rest) && jn_amt_sign(&rest) < 0)
                jn_amt_zero_like(&rest, &og);
            left[k] = rest;
        }
        jt_jw_key(&e.w, "index");
        jt_jw_hex(&e.w, b.v[i].id, 32);
        jw_obj_plus(w, o, extra_end(&e));
        extra_free(&e);
    }
    jt_jw_array_end(w);
    free(b.v);
    return 0;
}

/* tx ---------------------------------------------------------------------- */

typedef struct txq_ctx {
    req *q;
    bool binary;
    bool found;
} txq_ctx;

static int tx_found(void *vctx, const jn_txrec *t)
{
    txq_ctx *c = vctx;
    jt_jw *w = c->q->w;
    jn_header h;
    if (jn_store_header_by_seq(jn_ledger_store(c->q->rpc->L), t->seq, &h))
        return -1;
    c->found = true;
    if (c->binary) {
        jt_jw_key(w, "date");
        jt_jw_uint(w, h.close_time);
        jt_jw_key(w, "hash");
        jt_jw_hex(w, t->id, 32);
        jt_jw_key(w, "inLedger");
        jt_jw_uint(w, t->seq);
        jt_jw_key(w, "ledger_index");
        jt_jw_uint(w, t->seq);
        jt_jw_key(w, "meta");
        jt_jw_hex(w, t->meta, t->meta_len);
        jt_jw_key(w, "tx");
        jt_jw_hex(w, t->blob, t->blob_len);
        jt_jw_key(w, "validated");
        jt_jw_bool(w, true);
        return 0;
    }
    jt_obj *tx = NULL, *meta = NULL;
    jt_errinfo ei;
    int rc = -1;
    if (jt_obj_from_binary(t->blob, t->blob_len, &tx, &ei) == JT_OK &&
        jt_obj_from_binary(t->meta, t->meta_len, &meta, &ei) == JT_OK) {
        /* The result object is the transaction itself plus meta. */
        extra e;
        extra_begin(&e);
        jt_jw_key(&e.w, "date");
        jt_jw_uint(&e.w, h.close_time);
        jt_jw_key(&e.w, "hash");
        jt_jw_hex(&e.w, t->id, 32);
        jt_jw_key(&e.w, "inLedger");
        jt_jw_uint(&e.w, t->seq);
        jt_jw_key(&e.w, "ledger_index");
        jt_jw_uint(&e.w, t->seq);
        jt_jw_key(&e.w, "meta");
        jw_meta(&e.w, meta, tx);
        jt_jw_key(&e.w, "validated");
        jt_jw_bool(&e.w, true);
        jt_buf merged;
        jt_buf_init(&merged);
        jt_jw mw;
        jt_jw_init(&mw, &merged);
        jw_obj_plus(&mw, tx, extra_end(&e));
        extra_free(&e);
        if (jt_jw_finish(&mw) == JT_OK) {
            jt_jw_members(w, (const char *)merged.data, merged.len);
            rc = 0;
        }
        jt_buf_clear(&merged);
    }
    jt_obj_free(tx);
    jt_obj_free(meta);
    return rc;
}

static int cmd_tx(req *q)
{
    const char *t = jt_json_string(jt_json_get(q->p, "transaction"));
    uint8_t id[32];
    size_t n;
    if (!t)
        return fail(q, "invalidParams", "Missing field 'transaction'.");
    if (jt_hex_decode(t, strlen(t), id, 32, &n) != JT_OK || n != 32)
        return fail(q, "notImpl", "Transaction hash malformed.");
    bool binary = param_bool(q, "binary");
    const jn_tx *open = jn_ledger_open_tx(q->rpc->L, id);
    if (open) {
        if (binary) {
            jt_jw_key(q->w, "hash");
            jt_jw_hex(q->w, id, 32);
            jt_jw_key(q->w, "tx");
            jt_jw_hex(q->w, open->blob, open->blob_len);
        } else {
            /* Splice the transaction's members into the result. */
            jt_buf b;
            jt_buf_init(&b);
            jt_jw bw;
            jt_jw_init(&bw, &b);
            jw_tx(&bw, open->tx, id, NULL, false);
            if (jt_jw_finish(&bw) == JT_OK)
                jt_jw_members(q->w, (const char *)b.data, b.len);
            jt_buf_clear(&b);
        }
        jt_jw_key(q->w, "validated");
        jt_jw_bool(q->w, false);
        return 0;
    }
    txq_ctx c = {.q = q, .binary = binary};
    int r = jn_store_get_tx(jn_ledger_store(q->rpc->L), id, tx_found, &c);
    if (r < 0 && !c.found)
        return fail(q, "internal", "reading transaction: %s", jn_store_errmsg(jn_ledger_store(q->rpc->L)));
    if (!c.found)
        return fail(q, "txnNotFound", NULL);
    return 0;
}

/* ledger ------------------------------------------------------------------ */

typedef struct ltx_ctx {
    jt_jw *w;
    bool expand, binary;
    const jn_header *h;
} ltx_ctx;

static int ledger_tx_cb(void *vctx, const jn_txrec *t)
{
    ltx_ctx *c = vctx;
    if (c->binary) {
        jt_jw_object_begin(c->w);
        jt_jw_key(c->w, "meta");
        jt_jw_hex(c->w, t->meta, t->meta_len);
        jt_jw_key(c->w, "tx_blob");
        jt_jw_hex(c->w, t->blob, t->blob_len);
        jt_jw_object_end(c->w);
        return 0;
    }
    if (!c->expand) {
        jt_jw_hex(c->w, t->id, 32);
        return 0;
    }
    jt_obj *tx = NULL, *meta = NULL;
    jt_errinfo ei;
    if (jt_obj_from_binary(t->blob, t->blob_len, &tx, &ei) == JT_OK &&
        jt_obj_from_binary(t->meta, t->meta_len, &meta, &ei) == JT_OK) {
        extra e;
        extra_begin(&e);
        jt_jw_key(&e.w, "hash");
        jt_jw_hex(&e.w, t->id, 32);
        jt_jw_key(&e.w, "metaData");
        jw_meta(&e.w, meta, tx);
        jw_obj_plus(c->w, tx, extra_end(&e));
        extra_free(&e);
    }
    jt_obj_free(tx);
    jt_obj_free(meta);
    return 0;
}

static void state_dump_cb(void *vctx, const uint8_t id[32], const jt_obj *o)
{
    jt_jw *w = vctx;
    jw_entry(w, o, id);
}

static void jw_ledger_obj(req *q, const lsel *s, bool txs, bool expand, bool binary, bool state)
{
    jn_ledger *L = q->rpc->L;
    jt_jw *w = q->w;
    char num[24], human[32];
    jt_jw_object_begin(w);
    if (s->kind == 0) {
        const jn_header *last = jn_ledger_last(L);
        snprintf(num, sizeof num, "%" PRIu32, jn_ledger_open_seq(L));
        jt_jw_key(w, "accepted");
        jt_jw_bool(w, false);
        jt_jw_key(w, "closed");
        jt_jw_bool(w, false);
        jt_jw_key(w, "ledger_index");
        jt_jw_string(w, num);
        jt_jw_key(w, "parent_hash");
        jt_jw_hex(w, last->hash, 32);
        jt_jw_key(w, "seqNum");
        jt_jw_string(w, num);
        snprintf(num, sizeof num, "%" PRIu64, last->total_coins);
        jt_jw_key(w, "totalCoins");
        jt_jw_string(w, num);
        jt_jw_key(w, "total_coins");
        jt_jw_string(w, num);
        if (txs) {
            const jn_txlist *ot = jn_ledger_open_txs(L);
            jt_jw_key(w, "transactions");
            jt_jw_array_begin(w);
            for (size_t i = 0; i < ot->n; i++) {
                if (expand)
                    jw_tx(w, ot->v[i]->tx, ot->v[i]->id, NULL, false);
                else
                    jt_jw_hex(w, ot->v[i]->id, 32);
            }
            jt_jw_array_end(w);
        }
        jt_jw_object_end(w);
        return;
    }
    const jn_header *h = &s->h;
    jt_jw_key(w, "accepted");
    jt_jw_bool(w, true);
    jt_jw_key(w, "account_hash");
    jt_jw_hex(w, h->account_hash, 32);
    if (state) {
        jt_jw_key(w, "accountState");
        jt_jw_array_begin(w);
        if (s->v)
            jn_view_foreach(s->v, state_dump_cb, w);
        jt_jw_array_end(w);
    }
    jt_jw_key(w, "close_time");
    jt_jw_uint(w, h->close_time);
    close_time_human(h->close_time, human);
    jt_jw_key(w, "close_time_human");
    jt_jw_string(w, human);
    jt_jw_key(w, "close_time_resolution");
    jt_jw_uint(w, h->close_resolution);
    jt_jw_key(w, "closed");
    jt_jw_bool(w, true);
    jt_jw_key(w, "hash");
    jt_jw_hex(w, h->hash, 32);
    jt_jw_key(w, "ledger_hash");
    jt_jw_hex(w, h->hash, 32);
    snprintf(num, sizeof num, "%" PRIu32, h->seq);
    jt_jw_key(w, "ledger_index");
    jt_jw_string(w, num);
    jt_jw_key(w, "parent_close_time");
    jt_jw_uint(w, h->parent_close_time);
    jt_jw_key(w, "parent_hash");
    jt_jw_hex(w, h->parent_hash, 32);
    jt_jw_key(w, "seqNum");
    jt_jw_string(w, num);
    snprintf(num, sizeof num, "%" PRIu64, h->total_coins);
    jt_jw_key(w, "totalCoins");
    jt_jw_string(w, num);
    jt_jw_key(w, "total_coins");
    jt_jw_string(w, num);
    jt_jw_key(w, "transaction_hash");
    jt_jw_hex(w, h->tx_hash, 32);
    if (txs) {
        jt_jw_key(w, "transactions");
        jt_jw_array_begin(w);
        ltx_ctx c = {.w = w, .expand = expand, .binary = binary, .h = h};
        (void)jn_store_ledger_txs(jn_ledger_store(L), h->seq, ledger_tx_cb, &c);
        jt_jw_array_end(w);
    }
    jt_jw_object_end(w);
}

static int cmd_ledger(req *q)
{
    bool full = param_bool(q, "full"), accounts = param_bool(q, "accounts");
    if ((full || accounts) && !q->cl->admin)
        return fail(q, "noPermission", NULL);
    bool txs = param_bool(q, "transactions") || full;
    bool expand = param_bool(q, "expand") || full, binary = param_bool(q, "binary");
    const jt_json *iv = jt_json_get(q->p, "ledger_index"), *hv = jt_json_get(q->p, "ledger_hash");
    if ((!iv || iv->kind == JT_JSON_NULL) && (!hv || hv->kind == JT_JSON_NULL)) {
        lsel c = {.kind = 1, .h = *jn_ledger_last(q->rpc->L), .v = jn_ledger_closed_view(q->rpc->L)};
        lsel o = {.kind = 0, .v = jn_ledger_open_view(q->rpc->L)};
        jt_jw_key(q->w, "closed");
        jt_jw_object_begin(q->w);
        jt_jw_key(q->w, "ledger");
        jw_ledger_obj(q, &c, txs, expand, binary, false);
        jt_jw_object_end(q->w);
        jt_jw_key(q->w, "open");
        jt_jw_object_begin(q->w);
        jt_jw_key(q->w, "ledger");
        jw_ledger_obj(q, &o, txs, expand, binary, false);
        jt_jw_object_end(q->w);
        return 0;
    }
    lsel s;
    if (select_ledger(q, &s, true))
        return -1;
    if ((full || accounts) && s.kind == 2)
        return need_state(q, &s);
    jt_jw_key(q->w, "ledger");
    jw_ledger_obj(q, &s, txs, expand, binary, full || accounts);
    jw_ledger_fields(q->w, &s, q->rpc->L);
    return 0;
}

static int cmd_ledger_closed(req *q)
{
    const jn_header *h = jn_ledger_last(q->rpc->L);
    jt_jw_key(q->w, "ledger_hash");
    jt_jw_hex(q->w, h->hash, 32);
    jt_jw_key(q->w, "ledger_index");
    jt_jw_uint(q->w, h->seq);
    return 0;
}

static int cmd_ledger_current(req *q)
{
    jt_jw_key(q->w, "ledger_current_index");
    jt_jw_uint(q->w, jn_ledger_open_seq(q->rpc->L));
    return 0;
}

static int cmd_server_info(req *q)
{
    jn_ledger *L = q->rpc->L;
    const jn_header *h = jn_ledger_last(L);
    const jn_params *p = jn_ledger_params(L);
    jt_jw *w = q->w;
    char buf[64];
    jt_jw_key(w, "info");
    jt_jw_object_begin(w);
    jt_jw_key(w, "build_version");
    jt_jw_string(w, q->rpc->version);
    jt_jw_key(w, "complete_ledgers");
    jw_validated_ledgers(w, L);
    jt_jw_key(w, "hostid");
    jt_jw_string(w, q->rpc->hostid);
    jt_jw_key(w, "io_latency_ms");
    jt_jw_uint(w, 1);
    jt_jw_key(w, "last_close");
    jt_jw_object_begin(w);
    jt_jw_key(w, "converge_time_s");
    jt_jw_uint(w, 0);
    jt_jw_key(w, "proposers");
    jt_jw_uint(w, 0);
    jt_jw_object_end(w);
    jt_jw_key(w, "load_factor");
    jt_jw_uint(w, 1);
    jt_jw_key(w, "peers");
    jt_jw_uint(w, 0);
    jt_jw_key(w, "pubkey_node");
    jt_jw_string(w, q->rpc->pubkey_node);
    jt_jw_key(w, "server_state");
    jt_jw_string(w, "full");
    jt_jw_key(w, "validated_ledger");
    jt_jw_object_begin(w);
    uint32_t now = jn_now();
    jt_jw_key(w, "age");
    jt_jw_uint(w, now > h->close_time ? now - h->close_time : 0);
    jt_jw_key(w, "base_fee_swt");
    snprintf(buf, sizeof buf, "%" PRIu64 ".%06" PRIu64, p->base_fee / 1000000, p->base_fee % 1000000);
    jt_jw_raw(w, buf, strlen(buf));
    jt_jw_key(w, "hash");
    jt_jw_hex(w, h->hash, 32);
    jt_jw_key(w, "reserve_base_swt");
    jt_jw_uint(w, p->reserve_base / 1000000);
    jt_jw_key(w, "reserve_inc_swt");
    jt_jw_uint(w, p->reserve_inc / 1000000);
    jt_jw_key(w, "seq");
    jt_jw_uint(w, h->seq);
    jt_jw_object_end(w);
    jt_jw_key(w, "validation_quorum");
    jt_jw_uint(w, 0);
    jt_jw_object_end(w);
    return 0;
}

/* submit ------------------------------------------------------------------ */

static void publish_proposed(jn_rpc *r, const jt_obj *tx, const uint8_t id[32], int ter);

static bool wants_proposed(const jn_rpc *r)
{
    for (const jn_client *c = r->clients; c; c = c->next)
        if ((c->streams & S_TX_PROPOSED) || c->n_accts_p)
            return true;
    return false;
}

static void jw_engine_result(jt_jw *w, int ter)
{
    const jt_ter *t = jt_ter_by_code(ter);
    jt_jw_key(w, "engine_result");
    jt_jw_string(w, t ? t->token : "tefINTERNAL");
    jt_jw_key(w, "engine_result_code");
    jt_jw_int(w, ter);
    jt_jw_key(w, "engine_result_message");
    jt_jw_string(w, t && t->message ? t->message : "");
}

/* Signs tx_json with secret (loopback only). On success *blob is the
 * signed transaction (caller frees). */
static int sign_request(req *q, jt_buf *blob)
{
    if (!q->cl->loopback)
        return fail(q, "noPermission", "Signing on the node is allowed only from loopback.");
    const char *secret = jt_json_string(jt_json_get(q->p, "secret"));
    const jt_json *tj = jt_json_get(q->p, "tx_json");
    if (!tj || tj->kind != JT_JSON_OBJECT)
        return fail(q, "invalidParams", "Missing field 'tx_json'.");
    jt_keypair kp;
    jt_errinfo ei;
    if (jt_keypair_from_secret(secret, &kp, &ei) != JT_OK)
        return fail(q, "badSecret", NULL);
    jt_obj *tx = NULL;
    int rc = -1;
    if (jt_obj_from_jsonv(tj, &tx, &ei) != JT_OK) {
        rc = fail(q, "invalidParams", "tx_json: %s", ei.msg);
        goto done;
    }
    jt_account_id acct;
    if (jt_obj_get_account_f(tx, FLD("Account"), &acct) != JT_OK) {
        rc = fail(q, "invalidParams", "Missing field 'tx_json.Account'.");
        goto done;
    }
    if (!jt_obj_has_f(tx, FLD("Sequence"))) {
        uint8_t id[32];
        jn_id_account(&acct, id);
        const jt_obj *root = jn_view_read(jn_ledger_open_view(q->rpc->L), id);
        if (!root) {
            rc = fail(q, "actNotFound", NULL);
            goto done;
        }
        if (jt_obj_set_uint_f(tx, FLD("Sequence"), get_u(root, "Sequence", 0)) != JT_OK)
            goto done;
    }
    if (!jt_obj_has_f(tx, FLD("Fee"))) {
        jt_amount fee;
        jn_amt_drops(&fee, 10000);
        if (jt_obj_set_amount_f(tx, FLD("Fee"), &fee) != JT_OK)
            goto done;
    }
    if (!jt_obj_has_f(tx, FLD("Flags")) && jt_obj_set_uint_f(tx, FLD("Flags"), 0) != JT_OK)
        goto done;
    if (jt_tx_sign(tx, &kp, &ei) != JT_OK) {
        rc = fail(q, "invalidParams", "signing: %s", ei.msg);
        goto done;
    }
    if (jt_obj_to_binary(tx, 0, blob) != JT_OK)
        goto done;
    rc = 0;
done:
    jt_keypair_clear(&kp);
    jt_obj_free(tx);
    if (rc && !q->err)
        rc = fail(q, "internal", NULL);
    return rc;
}

/* The part of submit before the signature check: the blob (given or signed
 * here), decoded and checked for canonical form. On success *txp and *blob
 * belong to the caller. */
static int submit_prepare(req *q, jt_buf *blob_out, jt_obj **txp)
{
    jt_buf blob;
    jt_buf_init(&blob);
    *txp = NULL;
    const jt_json *bv = jt_json_get(q->p, "tx_blob");
    int rc = -1;
    if (!bv) {
        if (!jt_json_get(q->p, "secret"))
            return fail(q, "invalidParams", "Missing field 'tx_blob'.");
        if (sign_request(q, &blob))
            goto done;
    } else {
        const char *hex = jt_json_string(bv);
        size_t hl = hex ? strlen(hex) : 0;
        if (!hex || hl == 0 || hl % 2 || hl / 2 > JT_CODEC_MAX_BYTES) {
            rc = fail(q, "invalidParams", "Invalid field 'tx_blob': expected hex of an encoded transaction.");
            goto done;
        }
        if (!(blob.data = malloc(hl / 2)) ) {
            rc = fail(q, "internal", NULL);
            goto done;
        }
        blob.cap = hl / 2;
        if (jt_hex_decode(hex, hl, blob.data, blob.cap, &blob.len) != JT_OK) {
            rc = fail(q, "invalidParams", "Invalid field 'tx_blob': not hex.");
            goto done;
        }
    }
    jt_obj *tx = NULL;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    if (jt_obj_from_binary(blob.data, blob.len, &tx, &ei) != JT_OK) {
        snprintf(q->exception, sizeof q->exception, "%s", ei.msg[0] ? ei.msg : "blob does not parse");
        rc = fail(q, "invalidTransaction", NULL);
        goto done;
    }
    /* Canonical: re-encoding gives the same bytes. */
    jt_buf again;
    jt_buf_init(&again);
    bool canonical = jt_obj_to_binary(tx, 0, &again) == JT_OK && again.len == blob.len &&
                     !memcmp(again.data, blob.data, blob.len);
    jt_buf_clear(&again);
    if (!canonical) {
        jt_obj_free(tx);
        snprintf(q->exception, sizeof q->exception, "transaction is not in canonical form");
        rc = fail(q, "invalidTransaction", NULL);
        goto done;
    }
    if (!jt_obj_has_f(tx, FLD("TransactionType")) || !jt_obj_has_f(tx, FLD("Account"))) {
        jt_obj_free(tx);
        snprintf(q->exception, sizeof q->exception, "not a transaction: TransactionType and Account are required");
        rc = fail(q, "invalidTransaction", NULL);
        goto done;
    }
    *txp = tx;
    *blob_out = blob;
    return 0;
done:
    jt_buf_clear(&blob);
    return rc;
}

/* The rest of submit, once the signature check gave `verr`: the
 * transaction goes to the open ledger. Takes tx and blob. */
static int submit_finish(req *q, jt_buf *blob, jt_obj *tx, jt_err verr, const jt_errinfo *vei)
{
    int rc = -1;
    if (verr != JT_OK) {
        jt_obj_free(tx);
        snprintf(q->exception, sizeof q->exception, "fails local checks: %s",
                 vei->msg[0] ? vei->msg : "invalid signature");
        rc = fail(q, "invalidTransaction", NULL);
        goto done;
    }
    uint8_t id[32];
    jt_tx_blob_id(blob->data, blob->len, id);
    /* tx_json before the ledger takes the object. */
    jt_buf tj;
    jt_buf_init(&tj);
    (void)jt_buf_reserve(&tj, 1024); /* a payment's tx_json: grown once */
    jt_jw tw;
    jt_jw_init(&tw, &tj);
    jw_tx(&tw, tx, id, NULL, false);
    bool tj_ok = jt_jw_finish(&tw) == JT_OK;
    /* A copy for proposed-stream subscribers only: the ledger takes tx. */
    jt_obj *pub = wants_proposed(q->rpc) ? jt_obj_clone(tx) : NULL;
    const jn_txmemo *memo = q->job && q->job->memo_set ? &q->job->memo : NULL;
    int ter = jn_ledger_submit(q->rpc->L, tx, blob->data, blob->len, id, memo);
    jw_engine_result(q->w, ter);
    jt_jw_key(q->w, "tx_blob");
    jt_jw_hex(q->w, blob->data, blob->len);
    if (tj_ok) {
        jt_jw_key(q->w, "tx_json");
        jt_jw_raw(q->w, (const char *)tj.data, tj.len);
    }
    jt_buf_clear(&tj);
    if (pub && JN_TER_CLAIMED(ter))
        publish_proposed(q->rpc, pub, id, ter);
    jt_obj_free(pub);
    rc = 0;
done:
    jt_buf_clear(blob);
    return rc;
}

static int cmd_submit(req *q)
{
    jt_buf blob;
    jt_obj *tx;
    if (submit_prepare(q, &blob, &tx))
        return -1;
    jt_errinfo ei;
    jt_errinfo_clear(&ei);
    jt_err e = jt_tx_verify(tx, &ei);
    return submit_finish(q, &blob, tx, e, &ei);
}

static int cmd_ledger_accept(req *q)
{
    if (!q->cl->admin)
        return fail(q, "noPermission", NULL);
    char err[256];
    /* Replies once the new ledger is durable (and announced). */
    if (jn_closer_close(q->rpc->closer, true, err, sizeof err))
        return fail(q, "internal", "%s", err);
    jt_jw_key(q->w, "ledger_current_index");
    jt_jw_uint(q->w, jn_ledger_open_seq(q->rpc->L));
    return 0;
}

static int cmd_not_supported(req *q)
{
    return fail(q, "notSupported", NULL);
}

/* ---------------------------------------------------------------- table */

#define C_ADMIN 0x1u

typedef struct command {
    const char *name;
    int (*fn)(req *q);
    unsigned flags;
    const char *help;
} command;

static const command commands[] = {
    {"account_currencies", cmd_account_currencies, 0, "currencies an account can send and receive"},
    {"account_info", cmd_account_info, 0, "an account's AccountRoot"},
    {"account_lines", cmd_account_lines, 0, "an account's trust lines"},
    {"account_objects", cmd_account_objects, 0, "the ledger entries an account owns"},
    {"account_offers", cmd_account_offers, 0, "an account's offers"},
    {"account_relation", cmd_account_relation, 0, "an account's relations (authorize/freeze)"},
    {"account_tx", cmd_account_tx, 0, "an account's transaction history"},
    {"book_offers", cmd_book_offers, 0, "offers in one order book"},
    {"ledger", cmd_ledger, 0, "a ledger header, its transactions or state"},
    {"ledger_accept", cmd_ledger_accept, C_ADMIN, "close the open ledger now (loopback/admin)"},
    {"ledger_closed", cmd_ledger_closed, 0, "the last closed ledger"},
    {"ledger_current", cmd_ledger_current, 0, "the open ledger's index"},
    {"ping", cmd_ping, 0, "liveness"},
    {"server_info", cmd_server_info, 0, "node status"},
    {"server_state", cmd_server_info, 0, "node status"},
    {"submit", cmd_submit, 0, "submit a signed transaction"},
    {"subscribe", cmd_subscribe, 0, "streams and accounts"},
    {"tx", cmd_tx, 0, "a transaction by hash"},
    {"unsubscribe", cmd_unsubscribe, 0, "stop streams and accounts"},
    /* Known Jingtum commands this node does not offer. */
    {"Fee_Info", cmd_not_supported, 0, NULL},
    {"account_count", cmd_not_supported, 0, NULL},
    {"account_erc", cmd_not_supported, 0, NULL},
    {"aleth_eventlog", cmd_not_supported, 0, NULL},
    {"blacklist_info", cmd_not_supported, 0, NULL},
    {"erc_info", cmd_not_supported, 0, NULL},
    {"erc_issue", cmd_not_supported, 0, NULL},
    {"path_find", cmd_not_supported, 0, NULL},
    {"peers", cmd_not_supported, 0, NULL},
    {"sign", cmd_not_supported, 0, NULL},
    {"sign_for", cmd_not_supported, 0, NULL},
    {"skywell_path_find", cmd_not_supported, 0, NULL},
    {"submit_multisigned", cmd_not_supported, 0, NULL},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

/* ---------------------------------------------------------------- envelope */

static void send_buf(jn_client *c, jt_buf *b)
{
    if (c->send)
        c->send(c->sctx, (const char *)b->data, b->len);
}

/* Length of the valid UTF-8 sequence at p (1–4), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t k = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!k || k > n || (k == 2 && p[0] < 0xC2) || (k == 4 && p[0] > 0xF4))
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if (k == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0)))
        return 0;
    if (k == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90)))
        return 0;
    return k;
}

static void send_transport_error(jn_client *c, const char *tok, const char *text, size_t len)
{
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "error");
    jt_jw_string(&w, tok);
    jt_jw_key(&w, "type");
    jt_jw_string(&w, "error");
    if (text) {
        /* Echo the text, with bytes that are not UTF-8 replaced, so the
         * reply itself is always valid JSON. */
        char clean[1024];
        size_t o = 0, i = 0;
        const unsigned char *u = (const unsigned char *)text;
        while (i < len && o + 4 < sizeof clean) {
            size_t k = utf8_seq(u + i, len - i);
            if (k == 0) {
                clean[o++] = '?';
                i++;
                continue;
            }
            memcpy(clean + o, text + i, k);
            o += k;
            i += k;
        }
        jt_jw_key(&w, "value");
        jt_jw_string_n(&w, clean, o);
    }
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        send_buf(c, &b);
    jt_buf_clear(&b);
}

/* Sends the reply to a request: the command's result, or the error in q. */
static void send_reply(jn_client *c, req *q, int rc, const jt_json *root, const jt_buf *result)
{
    const jt_json *id = jt_json_get(root, "id");
    jt_buf local;
    jt_buf *out = scratch_get(&q->rpc->reply_buf, &local);
    if (!rc)
        (void)jt_buf_reserve(out, result->len + 128); /* grows once, or not at all */
    jt_jw w;
    jt_jw_init(&w, out);
    jt_jw_object_begin(&w);
    if (rc) {
        const jn_rpc_error *e = rpc_error(q->err);
        if (!strcmp(q->err, "actNotFound") && q->account[0]) {
            jt_jw_key(&w, "account");
            jt_jw_string(&w, q->account);
        }
        jt_jw_key(&w, "error");
        jt_jw_string(&w, q->err);
        if (e && strcmp(q->err, "missingCommand")) {
            jt_jw_key(&w, "error_code");
            jt_jw_int(&w, e->code);
        }
        if (q->exception[0]) {
            jt_jw_key(&w, "error_exception");
            jt_jw_string(&w, q->exception);
        }
        if (strcmp(q->err, "missingCommand")) {
            jt_jw_key(&w, "error_message");
            jt_jw_string(&w, q->msg[0]                  ? q->msg
                             : e && e->message[0]   ? e->message
                             : q->exception[0]      ? q->exception
                                                    : q->err);
        }
        if (id) {
            jt_jw_key(&w, "id");
            jt_jw_value(&w, id);
        }
        jt_jw_key(&w, "request");
        jt_jw_value(&w, root);
        jt_jw_key(&w, "status");
        jt_jw_string(&w, "error");
    } else {
        if (id) {
            jt_jw_key(&w, "id");
            jt_jw_value(&w, id);
        }
        jt_jw_key(&w, "result");
        jt_jw_raw(&w, (const char *)result->data, result->len);
        jt_jw_key(&w, "status");
        jt_jw_string(&w, "success");
    }
    jt_jw_key(&w, "type");
    jt_jw_string(&w, "response");
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) == JT_OK)
        send_buf(c, out);
    scratch_put(&q->rpc->reply_buf, out);
}

/* Runs one command with its result object written into *result. */
static int run_command(req *q, int (*fn)(req *q))
{
    jt_jw_object_begin(q->w);
    int rc = fn(q);
    jt_jw_object_end(q->w);
    if (!rc && jt_jw_finish(q->w) != JT_OK)
        rc = fail(q, "internal", "response too large");
    return rc;
}

/* The rest of a queued submit, once its signature check is done. */
static int submit_queued(req *q)
{
    pending *p = q->job;
    jt_obj *tx = p->tx;
    p->tx = NULL; /* submit_finish takes it */
    return submit_finish(q, &p->blob, tx, p->vj.err, &p->vj.ei);
}

static void enqueue(jn_rpc *r, pending *p)
{
    p->next = NULL;
    if (r->q_tail)
        r->q_tail->next = p;
    else
        r->q_head = p;
    r->q_tail = p;
    r->q_len++;
    if (p->cl)
        p->cl->pending++;
}

static void pending_free(pending *p)
{
    jt_obj_free(p->tx);
    jt_buf_clear(&p->blob);
    jt_json_doc_free(p->doc);
    free(p);
}

/* Finishes a queued request on the loop thread and replies (if its client
 * is still there). A submit is applied even when its client has gone: the
 * transaction was accepted from the network and must not be lost. */
static void finish_pending(jn_rpc *r, pending *p)
{
    jt_buf local;
    jt_buf *result = scratch_get(&r->result_buf, &local);
    jt_jw rw;
    jt_jw_init(&rw, result);
    const jt_json *root = jt_json_root(p->doc);
    req q = {.rpc = r, .cl = p->cl, .p = root, .w = &rw};
    int rc = -1;
    if (p->err) {
        q.err = p->err;
        memcpy(q.msg, p->msg, sizeof q.msg);
        memcpy(q.exception, p->exception, sizeof q.exception);
    } else if (p->submit) {
        q.job = p;
        rc = run_command(&q, submit_queued);
    } else if (p->cl) {
        rc = run_command(&q, p->cmd->fn);
    }
    if (p->cl)
        send_reply(p->cl, &q, rc, root, result);
    scratch_put(&r->result_buf, result);
}

static bool pending_ready(const pending *p)
{
    return !p->submit || p->err || atomic_load(&p->vj.done);
}

/* Applying a payment reads two account entries that are usually out of
 * cache. While one request finishes, the entries of the ready submits a few
 * places behind it are fetched in stages (PF_* places ahead): their IDs and
 * the map slots, the objects, their members. The transaction is only read:
 * its check is done. */
#define PF_KEYS    6
#define PF_OBJECT  4
#define PF_FIELDS  2

static void prefetch_pending(jn_rpc *r, pending *p, int stage)
{
    if (!p || !p->submit || p->err || !atomic_load(&p->vj.done) || p->vj.err)
        return;
    /* The request was parsed and decoded long ago: its document and
     * transaction too. */
    if (stage == 1) {
        __builtin_prefetch(p->doc);
        jt_obj_prefetch(p->tx, false);
    } else if (stage == 2) {
        jt_json_prefetch(jt_json_root(p->doc));
        jt_obj_prefetch(p->tx, true);
    }
    if (!p->memo_set) {
        if (stage != 0)
            return;
        jn_txmemo_keys(&p->memo, p->tx);
        p->memo_set = true;
    }
    jn_ledger_prefetch(r->L, &p->memo, stage);
}

/* On the loop thread, after a worker finished a check: finishes every
 * request at the head of the queue that is ready, in order. */
static void drain(void *ctx)
{
    jn_rpc *r = ctx;
    atomic_store(&r->wake, false);
    while (r->q_head && pending_ready(r->q_head)) {
        pending *p = r->q_head;
        pending *ahead = p;
        for (int k = 1; k <= PF_KEYS && ahead; k++) {
            ahead = ahead->next;
            if (k == PF_FIELDS)
                prefetch_pending(r, ahead, 2);
            else if (k == PF_OBJECT)
                prefetch_pending(r, ahead, 1);
            else if (k == PF_KEYS)
                prefetch_pending(r, ahead, 0);
        }
        r->q_head = p->next;
        if (!r->q_head)
            r->q_tail = NULL;
        r->q_len--;
        if (p->cl)
            p->cl->pending--;
        finish_pending(r, p);
        pending_free(p);
    }
}

/* Worker thread: one check finished. Posts a drain unless one is waiting. */
static void verified(void *ctx)
{
    jn_rpc *r = ctx;
    if (!atomic_exchange(&r->wake, true) && r->post(r->post_ctx, drain, r))
        atomic_store(&r->wake, false);
}

void jn_rpc_request(jn_rpc *r, jn_client *c, const char *msg, size_t len, bool over_rate)
{
    jt_json_doc *doc = NULL;
    jt_errinfo ei;
    jt_json_limits lim = {.max_bytes = JT_CODEC_MAX_BYTES * 3, .max_depth = 32, .max_items = 100000};
    if (jt_json_parse(msg, len, &lim, &doc, &ei) != JT_OK || jt_json_root(doc)->kind != JT_JSON_OBJECT) {
        jt_json_doc_free(doc);
        send_transport_error(c, "jsonInvalid", msg, len);
        return;
    }
    const jt_json *root = jt_json_root(doc);
    const char *name = jt_json_string(jt_json_get(root, "command"));
    if (!name)
        name = jt_json_string(jt_json_get(root, "method"));

    jt_buf local;
    jt_buf *result = scratch_get(&r->result_buf, &local);
    jt_jw rw;
    jt_jw_init(&rw, result);
    req q = {.rpc = r, .cl = c, .p = root, .w = &rw};
    int rc;
    const command *cmd = name ? find_command(name) : NULL;
    if (over_rate)
        rc = fail(&q, "slowDown", NULL);
    else if (!name)
        rc = fail(&q, "missingCommand", NULL);
    else if (!cmd)
        rc = fail(&q, "unknownCmd", NULL);
    else if ((cmd->flags & C_ADMIN) && !c->admin)
        rc = fail(&q, "noPermission", NULL);
    else if ((r->ver && cmd->fn == cmd_submit) || c->pending) {
        /* Queued: a submit for its signature check, anything else behind
         * this client's earlier submits. */
        pending *p = r->q_len < MAX_PENDING ? calloc(1, sizeof *p) : NULL;
        if (!p) {
            rc = fail(&q, "tooBusy", NULL);
        } else {
            p->cl = c;
            p->cmd = cmd;
            if (r->ver && cmd->fn == cmd_submit) {
                p->submit = true;
                jt_buf_init(&p->blob);
                rc = submit_prepare(&q, &p->blob, &p->tx);
            } else {
                rc = 0;
            }
            if (rc && !c->pending) {
                free(p); /* answered now, below */
            } else {
                /* Queued; a refused submit is answered in its turn too. */
                if (rc) {
                    p->err = q.err;
                    memcpy(p->msg, q.msg, sizeof p->msg);
                    memcpy(p->exception, q.exception, sizeof p->exception);
                }
                p->doc = doc;
                p->vj.tx = p->tx;
                enqueue(r, p);
                if (p->submit && !p->err)
                    jn_verifier_push(r->ver, &p->vj);
                scratch_put(&r->result_buf, result);
                return;
            }
        }
    } else {
        rc = run_command(&q, cmd->fn);
    }
    send_reply(c, &q, rc, root, result);
    scratch_put(&r->result_buf, result);
    jt_json_doc_free(doc);
}

/* ---------------------------------------------------------------- streams */

static bool wants_accounts(const jt_account_id *list, size_t n, const jt_account_id *accts, size_t na)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < na; k++)
            if (!memcmp(&list[i], &accts[k], 20))
                return true;
    return false;
}

static void publish_proposed(jn_rpc *r, const jt_obj *tx, const uint8_t id[32], int ter)
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
    jw_tx(&w, tx, id, NULL, false);
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
static void publish_closed(void *ctx, const jn_txlist *closed)
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
            jw_meta(&w, meta, t->tx);
        else
            jt_jw_null(&w);
        jt_obj_free(meta);
        jt_jw_key(&w, "status");
        jt_jw_string(&w, "closed");
        jt_jw_key(&w, "transaction");
        jw_tx(&w, t->tx, t->id, h, false);
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

/* ---------------------------------------------------------------- lifecycle */

jn_rpc *jn_rpc_new(jn_ledger *L, const jn_rpc_config *cfg)
{
    jn_rpc *r = cfg->closer ? calloc(1, sizeof *r) : NULL;
    if (!r)
        return NULL;
    r->L = L;
    r->closer = cfg->closer;
    r->cfg = *cfg;
    uint8_t pk[33];
    pk[0] = 0xED;
    memcpy(pk + 1, cfg->node_pk, 32);
    if (jt_node_public_encode(pk, r->pubkey_node) != JT_OK)
        r->pubkey_node[0] = 0;
    snprintf(r->hostid, sizeof r->hostid, "%s", cfg->hostid ? cfg->hostid : "jt-node");
    snprintf(r->version, sizeof r->version, "%s", cfg->version ? cfg->version : "0");
    jn_closer_set_announce(r->closer, publish_closed, r);
    return r;
}

int jn_rpc_start_verifiers(jn_rpc *r, unsigned threads,
                           int (*post)(void *pctx, void (*cb)(void *ctx), void *ctx), void *post_ctx)
{
    if (r->ver || !threads)
        return 0;
    r->post = post;
    r->post_ctx = post_ctx;
    r->ver = jn_verifier_new(threads, verified, r);
    return r->ver ? 0 : -1;
}

void jn_rpc_stop_verifiers(jn_rpc *r)
{
    if (!r || !r->ver)
        return;
    jn_verifier_free(r->ver);
    r->ver = NULL;
    /* What the workers finished is applied; what they did not start is
     * dropped unanswered (the node is stopping). */
    drain(r);
    while (r->q_head) {
        pending *p = r->q_head;
        r->q_head = p->next;
        pending_free(p);
    }
    r->q_tail = NULL;
    r->q_len = 0;
}

void jn_rpc_free(jn_rpc *r)
{
    if (!r)
        return;
    jn_rpc_stop_verifiers(r);
    jn_closer_set_announce(r->closer, NULL, NULL);
    while (r->clients)
        jn_rpc_client_free(r, r->clients);
    jt_buf_clear(&r->result_buf.b);
    jt_buf_clear(&r->reply_buf.b);
    free(r);
}

jn_client *jn_rpc_client_new(jn_rpc *r, jn_send_fn send, void *sctx, bool admin, bool loopback)
{
    jn_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->send = send;
    c->sctx = sctx;
    c->admin = admin;
    c->loopback = loopback;
    c->next = r->clients;
    if (r->clients)
        r->clients->prev = c;
    r->clients = c;
    return c;
}

void jn_rpc_client_free(jn_rpc *r, jn_client *c)
{
    if (!c)
        return;
    for (pending *p = r->q_head; p && c->pending; p = p->next)
        if (p->cl == c) {
            p->cl = NULL;
            c->pending--;
        }
    if (c->prev)
        c->prev->next = c->next;
    else
        r->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->accts);
    free(c->accts_p);
    free(c);
}
