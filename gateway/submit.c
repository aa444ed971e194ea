/*
 * submit.c — reliable submission (submit.h).
 */
#include "submit.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <sodium.h>
#include <jt/base58.h>
#include <jt/secret_key.h>
#include <jt/tx.h>
#include <jt/util.h>

#include "gateway.h"
#include "dlist.h"
#include "map.h"
#include "srv.h"
#include "txrec.h"

#define CID_MAX 128
#define API_KEY_MAX 24
/* Signing keys the persister keeps readable at once, and for how long: a
 * key made readable for a batch stays so while batches follow each other
 * (HOLD_IDLE_S apart at most), and never longer than HOLD_MAX_S at a
 * stretch; then every key goes back to PROT_NONE. */
#define HELD_MAX 64
#define HOLD_IDLE_S 0.005
#define HOLD_MAX_S 0.050

typedef struct waiter {
    gw_sub_cb cb;
    void *ctx;
    bool wait;
    double deadline;
    struct waiter *next;
} waiter;

typedef enum stage {
    ST_RESERVED,   /* client id taken; waiting for the account's sequence */
    ST_PERSISTING, /* signed; the persister has it */
    ST_LIVE,       /* recorded; sent or to be sent */
    ST_FINAL,      /* final status; being forgotten */
} stage;

typedef struct acct acct;
typedef struct gw_submit gw_submit;

typedef struct txent {
    gw_submit *owner;
    gw_txinfo info;
    stage stage;
    uint8_t digest[32];
    char api_key[API_KEY_MAX];
    char signing_key[68];
    char *blob_hex;
    uint64_t no;         /* its record's number (txrec.h); 0 before it has one */
    jt_obj *tx;          /* ST_RESERVED: the unsigned fields */
    double sent_at;      /* 0: not sent since the last (re)start */
    unsigned busy;       /* node requests in flight about it */
    bool submitted_once; /* a reply to a first submission was seen */
    bool internal;       /* a gap filler */
    bool cid_in_map;
    bool hash_in_map;
    unsigned recording; /* final records on their way to the store */
    bool final_shown;   /* its final status is durable, so it is reported (shown) */
    bool to_sign;     /* ST_PERSISTING: the persister signs it first */
    bool sign_failed; /* ... and could not (sign_err says why) */
    char sign_err[200];
    waiter *waiters;
    acct *acct;
    struct txent *next_wait; /* acct's queue of reserved writes */
    struct txent *next_job;  /* persister queue */
} txent;

struct acct {
    gw_submit *owner;
    char address[40];
    jt_account_id id; /* the address decoded (get_acct) */
    uint32_t next_seq; /* 0: ask the node */
    bool fetching;
    txent *queue, *queue_tail;
    jt_secret_key *key;
    char pubhex[68];
    /* With a key loaded: its place among the loaded keys, most recently
     * used first, and how many of its transactions the persister holds to
     * sign (the key is not dropped while it is above 0). */
    gw_dnode lru;
    unsigned signing;
};

struct gw_submit {
    gw_config cfg;
    gw_store *store;
    gw_txrec *recs;
    gw_audit *audit;
    jt_keystore *ks;
    gw_link *link;
    srv_net *net;
    gw_map *by_hash; /* pending (and persisting) by hash hex */
    gw_map *by_cid;  /* account \0 client_id -> txent, until final */
    gw_map *accts;
    gw_dlist lru; /* accounts with a key loaded, most recently used first */
    size_t keys_loaded;
    gw_submit_stats stats;
    /* persister */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    txent *jobs, *jobs_tail;
    size_t n_jobs;
    bool stopping;
    /* The persister's: keys it keeps readable between batches (sign_batch),
     * since when, and when it last signed. */
    jt_secret_key *held[HELD_MAX];
    size_t n_held;
    atomic_size_t readable; /* n_held, for /metrics */
    double held_since, held_last;
    /* Keys the loop dropped, for the persister to release and free
     * (guarded by mu); once it is gone (persister_gone), the loop frees
     * them itself. */
    jt_secret_key **retired;
    size_t n_retired, cap_retired;
    bool persister_gone;
    bool stopped; /* loop thread: gw_submit_stop ran */
    /* Final statuses gathered for the store (flush_finals): room for
     * FINALS_MAX, fin_n in use; fin_posted: a flush is posted to the loop. */
    txent **fin;
    size_t fin_n;
    bool fin_posted;
    /* auditor: signed batches whose audit lines are still to be written
     * (guarded by mu) */
    pthread_t auditor;
    pthread_cond_t acv;
    struct done_batch *audit_q, *audit_tail;
    bool audit_stopping;
};

typedef struct done_batch {
    gw_submit *s;
    txent *jobs;
    gw_batch *b;        /* its records, for the auditor to complete */
    gw_audit_entry *ae; /* its audit lines */
    size_t na;
    struct done_batch *next; /* the auditor's queue */
    int rc;
    char err[400];
} done_batch;

const char *gw_status_text(gw_status s)
{
    static const char *const names[] = {"pending", "validated", "failed", "expired"};
    return s <= GW_EXPIRED ? names[s] : "unknown";
}

static int status_parse(const char *t, gw_status *out)
{
    for (int i = 0; i <= GW_EXPIRED; i++)
        if (t && !strcmp(t, gw_status_text((gw_status)i))) {
            *out = (gw_status)i;
            return 0;
        }
    return -1;
}

void gw_txinfo_members(jt_jw *w, const gw_txinfo *t)
{
    jt_jw_key(w, "client_id");
    jt_jw_string(w, t->client_id);
    jt_jw_key(w, "hash");
    jt_jw_string(w, t->hash);
    jt_jw_key(w, "status");
    jt_jw_string(w, gw_status_text(t->status));
    if (t->result[0]) {
        jt_jw_key(w, "result");
        jt_jw_string(w, t->result);
    }
    if (t->ledger_index) {
        jt_jw_key(w, "ledger_index");
        jt_jw_uint(w, t->ledger_index);
    }
    jt_jw_key(w, "account");
    jt_jw_string(w, t->account);
    jt_jw_key(w, "type");
    jt_jw_string(w, t->type);
    jt_jw_key(w, "sequence");
    jt_jw_uint(w, t->sequence);
    if (t->last_ledger) {
        jt_jw_key(w, "last_ledger_sequence");
        jt_jw_uint(w, t->last_ledger);
    }
}

static void log_tx(const char *level, const char *event, const txent *t, const char *extra)
{
    fprintf(stderr,
            "level=%s mod=submit event=%s hash=%s account=%s sequence=%u client_id=\"%.64s\"%s%s\n",
            level, event, t->info.hash[0] ? t->info.hash : "-", t->info.account, t->info.sequence,
            t->info.client_id, extra && extra[0] ? " " : "", extra ? extra : "");
}

/* ------------------------------------------------------------ records */

static size_t cid_key(char *out, size_t cap, const char *account, const char *cid)
{
    size_t a = strlen(account), c = strlen(cid);
    if (a + 1 + c > cap)
        return 0;
    memcpy(out, account, a);
    out[a] = 0;
    memcpy(out + a + 1, cid, c);
    return a + 1 + c;
}

/* Room a pending record keeps for its final status (status, result up to
 * 24 characters, ledger_index up to 10 digits): spaces before its closing
 * brace, so the final record that replaces it is no longer and rewrites it
 * in place in its page (a longer one would split a full page in two). */
#define RECORD_SLACK 64

static int record_json(const txent *t, jt_buf *out)
{
    jt_jw w;
    jt_jw_init(&w, out);
    jt_jw_object_begin(&w);
    gw_txinfo_members(&w, &t->info);
    jt_jw_key(&w, "api_key");
    jt_jw_string(&w, t->api_key);
    jt_jw_key(&w, "digest");
    jt_jw_hex(&w, t->digest, 32);
    if (t->internal) {
        jt_jw_key(&w, "internal");
        jt_jw_bool(&w, true);
    }
    jt_jw_object_end(&w);
    if (jt_jw_finish(&w) != JT_OK)
        return -1;
    if (t->info.status == GW_PENDING) {
        char pad[RECORD_SLACK + 1];
        memset(pad, ' ', RECORD_SLACK);
        pad[RECORD_SLACK] = '}';
        out->len--; /* the closing brace */
        if (jt_buf_append(out, pad, sizeof pad) != JT_OK)
            return -1;
    }
    return 0;
}

/* src cut to fit dst (cap > 0). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}

/* A record back into an entry (info, digest, api key, blob). */
static int record_parse(const void *v, size_t vl, txent *t)
{
    jt_json_doc *doc;
    jt_errinfo ei;
    if (jt_json_parse(v, vl, NULL, &doc, &ei) != JT_OK)
        return -1;
    const jt_json *r = jt_json_root(doc);
    uint64_t u;
    int rc = -1;
    const char *hash = jt_json_string(jt_json_get(r, "hash"));
    const char *dg = jt_json_string(jt_json_get(r, "digest"));
    size_t dl = 0;
    if (!hash || strlen(hash) != 64 ||
        status_parse(jt_json_string(jt_json_get(r, "status")), &t->info.status) || !dg ||
        jt_hex_decode(dg, strlen(dg), t->digest, 32, &dl) != JT_OK || dl != 32)
        goto out;
    copy_str(t->info.hash, sizeof t->info.hash, hash);
    copy_str(t->info.account, sizeof t->info.account, jt_json_string(jt_json_get(r, "account")));
    copy_str(t->info.client_id, sizeof t->info.client_id,
             jt_json_string(jt_json_get(r, "client_id")));
    copy_str(t->info.type, sizeof t->info.type, jt_json_string(jt_json_get(r, "type")));
    copy_str(t->info.result, sizeof t->info.result, jt_json_string(jt_json_get(r, "result")));
    copy_str(t->api_key, sizeof t->api_key, jt_json_string(jt_json_get(r, "api_key")));
    t->info.sequence = jt_json_uint64(jt_json_get(r, "sequence"), false, &u) ? (uint32_t)u : 0;
    t->info.last_ledger =
        jt_json_uint64(jt_json_get(r, "last_ledger_sequence"), false, &u) ? (uint32_t)u : 0;
    t->info.ledger_index =
        jt_json_uint64(jt_json_get(r, "ledger_index"), false, &u) ? (uint32_t)u : 0;
    const jt_json *in = jt_json_get(r, "internal");
    t->internal = in && in->kind == JT_JSON_BOOL && in->u.b;
    const char *blob = jt_json_string(jt_json_get(r, "blob"));
    if (blob && !(t->blob_hex = strdup(blob)))
        goto out;
    rc = 0;
out:
    jt_json_doc_free(doc);
    return rc;
}

static void hash_bin(const char *hex, uint8_t out[32])
{
    size_t n = 0;
    if (jt_hex_decode(hex, 64, out, 32, &n) != JT_OK)
        memset(out, 0, 32);
}

/* Writes t's record as it stands now (status changes), without waiting. */
static void store_done(void *ctx, int rc, const char *err)
{
    if (rc)
        fprintf(stderr, "level=error mod=submit event=record_failed why=\"%s\"\n", err);
}

static void forget(gw_submit *s, txent *t);
static void maybe_free(txent *t);

/* A final entry stays findable in memory until its record is durable, so
 * a lookup never reads the older record. */
static void notify(txent *t);

static void forget_final(void *ctx)
{
    txent *t = ctx;
    t->recording--;
    t->final_shown = true;
    notify(t); /* those waiting for validation */
    forget(t->owner, t);
    maybe_free(t);
}

static void final_recorded(void *ctx, int rc, const char *err)
{
    txent *t = ctx;
    store_done(NULL, rc, err);
    if (srv_net_post(t->owner->net, forget_final, t) != 0) {
        /* No loop any more (shutting down): gw_submit_free frees it. */
    }
}

/* Final statuses gather on the loop until its next tick (250 ms) or until
 * FINALS_FLUSH of them have, and go to the store sorted by record number, in
 * batches of FINALS_BATCH. A ledger lists its transactions by account, not
 * in the order they arrived, so written as they are announced, each final
 * status rewrote a page of records that its neighbours' statuses rewrote
 * again in the next commits; sorted, a page is written once. A status not
 * yet durable is not lost in a crash: its record is still pending, and
 * pending records are looked up at the node after a restart. The entry
 * stays findable in memory until its final record is durable, so a lookup
 * never reads the older record. */
#define FINALS_FLUSH 2048
#define FINALS_MAX 4096 /* past this (a flush not yet run), one at a time */
#define FINALS_BATCH 128

typedef struct finals {
    gw_submit *s;
    gw_batch *b;
    txent *v[FINALS_BATCH];
    size_t n;
} finals;

static void forget_finals(void *ctx)
{
    finals *f = ctx;
    for (size_t i = 0; i < f->n; i++)
        forget_final(f->v[i]);
    free(f);
}

static void finals_recorded(void *ctx, int rc, const char *err)
{
    finals *f = ctx;
    store_done(NULL, rc, err);
    if (srv_net_post(f->s->net, forget_finals, f) != 0)
        free(f); /* no loop any more: gw_submit_free frees the entries */
}

static int by_record_no(const void *a, const void *b)
{
    uint64_t x = (*(txent *const *)a)->no, y = (*(txent *const *)b)->no;
    return (x > y) - (x < y);
}

/* t's final record could not be queued (out of memory): it stays pending
 * in the store, so the next start looks it up at the node again. */
static void final_unqueued(gw_submit *s, txent *t)
{
    fprintf(stderr, "level=error mod=submit event=record_failed why=\"out of memory\"\n");
    t->recording--;
    t->final_shown = true; /* what is known, though a restart reports it pending again */
    notify(t);
    forget(s, t);
    maybe_free(t);
}

/* Hands the gathered final statuses to the store, sorted. */
static void flush_finals(gw_submit *s)
{
    size_t n = s->fin_n;
    s->fin_n = 0;
    if (!n)
        return;
    qsort(s->fin, n, sizeof *s->fin, by_record_no);
    jt_buf rec;
    jt_buf_init(&rec);
    for (size_t i = 0; i < n;) {
        size_t end = n - i > FINALS_BATCH ? i + FINALS_BATCH : n;
        finals *f = malloc(sizeof *f);
        if (f && !(f->b = gw_batch_new())) {
            free(f);
            f = NULL;
        }
        if (f) {
            f->s = s;
            f->n = 0;
        }
        for (; i < end; i++) {
            txent *t = s->fin[i];
            rec.len = 0;
            if (!f || record_json(t, &rec) || gw_txrec_put_final(f->b, t->no, rec.data, rec.len))
                final_unqueued(s, t);
            else
                f->v[f->n++] = t;
        }
        if (f && f->n) {
            gw_store_commit_async(s->store, f->b, finals_recorded, f);
        } else if (f) {
            gw_batch_free(f->b);
            free(f);
        }
    }
    jt_buf_clear(&rec);
}

static void flush_finals_posted(void *ctx)
{
    gw_submit *s = ctx;
    s->fin_posted = false;
    flush_finals(s);
}

/* The gathered final statuses go to the store on the loop's next turn. */
static void flush_soon(gw_submit *s)
{
    if (s->fin_n && !s->fin_posted && srv_net_post(s->net, flush_finals_posted, s) == 0)
        s->fin_posted = true;
}

/* Gathers t's final status for the next flush; 0, or -1 when there is no
 * room (t is not gathered). Never flushes here: a flush can free entries,
 * and the caller may hold some. */
static int add_final(gw_submit *s, txent *t)
{
    if (!s->fin && !(s->fin = malloc(FINALS_MAX * sizeof *s->fin)))
        return -1;
    if (s->fin_n == FINALS_MAX)
        return -1;
    s->fin[s->fin_n++] = t;
    t->recording++;
    if (s->fin_n >= FINALS_FLUSH && !s->fin_posted && srv_net_post(s->net, flush_finals_posted, s) == 0)
        s->fin_posted = true;
    return 0;
}

static void persist_status(gw_submit *s, txent *t)
{
    if (!s->stopped && add_final(s, t) == 0)
        return;
    /* Stopping (the store closes soon), or no room to gather it: on its
     * own, as before the batches. */
    jt_buf rec;
    jt_buf_init(&rec);
    gw_batch *b = NULL;
    if (record_json(t, &rec) || !(b = gw_batch_new()) ||
        gw_txrec_put_final(b, t->no, rec.data, rec.len)) {
        fprintf(stderr, "level=error mod=submit event=record_failed why=\"out of memory\"\n");
        gw_batch_free(b);
        t->final_shown = true; /* what is known, though a restart reports it pending again */
        forget(s, t);
    } else {
        t->recording++;
        gw_store_commit_async(s->store, b, final_recorded, t);
    }
    jt_buf_clear(&rec);
}

/* ------------------------------------------------------------ answers */

/* What t reports: its final status only once the record holding it is
 * durable, so that a status once reported never goes back to pending after
 * a crash; until then it is pending (with the final result as the
 * preliminary one). */
static const gw_txinfo *shown(const txent *t, gw_txinfo *tmp)
{
    if (t->info.status == GW_PENDING || t->final_shown)
        return &t->info;
    *tmp = t->info;
    tmp->status = GW_PENDING;
    tmp->ledger_index = 0;
    return tmp;
}

static void answer(txent *t, waiter *w, int http, const char *error, const char *msg)
{
    gw_txinfo tmp;
    gw_sub_result r = {.http = http, .error = error, .tx = t->info.hash[0] ? shown(t, &tmp) : NULL};
    copy_str(r.message, sizeof r.message, msg);
    w->cb(w->ctx, &r);
}

static int status_http(const gw_txinfo *t)
{
    switch (t->status) {
    case GW_PENDING:
        return 202;
    case GW_FAILED:
        return 422;
    default:
        return 200;
    }
}

/* Answers the waiters that want what t now is: all of them when final,
 * those not waiting for validation otherwise. A final status whose record
 * is not yet durable answers nobody: they all wait for the record, which
 * then goes to the store on the loop's next turn. */
static void notify(txent *t)
{
    if (t->info.status != GW_PENDING && !t->final_shown) {
        if (t->waiters)
            flush_soon(t->owner);
        return;
    }
    const gw_txinfo *info = &t->info;
    bool final = info->status != GW_PENDING;
    waiter **p = &t->waiters;
    while (*p) {
        waiter *w = *p;
        if (final || !w->wait) {
            *p = w->next;
            int http = status_http(info);
            answer(t, w, http, http == 422 ? t->info.result : NULL,
                   http == 422 ? "the node rejected the transaction; it will never apply" : "");
            free(w);
        } else {
            p = &w->next;
        }
    }
}

static int add_waiter(txent *t, bool wait, double wait_s, gw_sub_cb cb, void *ctx)
{
    waiter *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->cb = cb;
    w->ctx = ctx;
    w->wait = wait;
    w->deadline = srv_mono_seconds() + wait_s;
    w->next = t->waiters;
    t->waiters = w;
    return 0;
}

static void forget(gw_submit *s, txent *t)
{
    if (t->hash_in_map) {
        if (gw_map_get(s->by_hash, t->info.hash, strlen(t->info.hash)) == t)
            gw_map_del(s->by_hash, t->info.hash, strlen(t->info.hash));
        t->hash_in_map = false;
    }
    if (t->cid_in_map) {
        char k[200];
        size_t kl = cid_key(k, sizeof k, t->info.account, t->info.client_id);
        if (gw_map_get(s->by_cid, k, kl) == t)
            gw_map_del(s->by_cid, k, kl);
        t->cid_in_map = false;
    }
}

static void free_ent(txent *t)
{
    while (t->waiters) {
        waiter *w = t->waiters;
        t->waiters = w->next;
        free(w);
    }
    jt_obj_free(t->tx);
    free(t->blob_hex);
    free(t);
}

/* Drops t once nothing refers to it any more: no map (a lookup), no
 * request, no waiter, and no final record still being written (its batch
 * comes back to t; an entry that could not be put in a map is in none). */
static void maybe_free(txent *t)
{
    if (t->stage == ST_FINAL && t->busy == 0 && !t->waiters && !t->cid_in_map &&
        !t->hash_in_map && !t->recording)
        free_ent(t);
}

/* A write that ends before anything was signed (or recorded): its client
 * id is released, every waiter gets the same error. */
static void fail_unsigned(gw_submit *s, txent *t, int http, const char *error, const char *msg)
{
    forget(s, t);
    while (t->waiters) {
        waiter *w = t->waiters;
        t->waiters = w->next;
        answer(t, w, http, error, msg);
        free(w);
    }
    t->stage = ST_FINAL;
    maybe_free(t);
}

/* ------------------------------------------------------------ accounts */

static acct *get_acct(gw_submit *s, const char *address)
{
    acct *a = gw_map_get(s->accts, address, strlen(address));
    if (a)
        return a;
    a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->owner = s;
    copy_str(a->address, sizeof a->address, address);
    if (jt_address_decode(address, &a->id, NULL) != JT_OK) {
        free(a);
        return NULL;
    }
    if (gw_map_put(s->accts, a->address, strlen(a->address), a)) {
        free(a);
        return NULL;
    }
    return a;
}

static void sign_and_persist(gw_submit *s, txent *t);

typedef struct pend_scan {
    const char *account;
    uint32_t above;
    uint32_t max_seq;
    bool found;
} pend_scan;

static bool scan_pending(void *ctx, const char *k, size_t kl, void *v)
{
    pend_scan *ps = ctx;
    txent *t = v;
    if (t->info.status == GW_PENDING && !strcmp(t->info.account, ps->account)) {
        if (t->info.sequence > ps->above)
            ps->found = true;
        if (t->info.sequence > ps->max_seq)
            ps->max_seq = t->info.sequence;
    }
    return true;
}

static void run_queue(gw_submit *s, acct *a, int http, const char *error, const char *msg)
{
    while (a->queue) {
        txent *t = a->queue;
        a->queue = t->next_wait;
        t->next_wait = NULL;
        if (http)
            fail_unsigned(s, t, http, error, msg);
        else
            sign_and_persist(s, t);
    }
    a->queue_tail = NULL;
}

static void on_account_info(void *ctx, const jt_session_reply *r)
{
    acct *a = ctx;
    gw_submit *s = a->owner;
    a->fetching = false;
    if (!a->queue)
        return;
    if (r->err == JT_ERPC) {
        const char *tok = r->ei ? r->ei->field : "";
        if (!strcmp(tok, "actNotFound"))
            run_queue(s, a, 404, "actNotFound",
                      "the account is not in the ledger: fund it with SWT first");
        else
            run_queue(s, a, 502, tok[0] ? tok : "nodeError", r->ei ? r->ei->msg : "");
        return;
    }
    if (r->err != JT_OK) {
        run_queue(s, a, 503, "nodeUnavailable",
                  "the node did not answer; nothing was signed, try again");
        return;
    }
    uint64_t seq = 0;
    const jt_json *ad = jt_json_get(jt_json_get(r->msg, "result"), "account_data");
    if (!jt_json_uint64(jt_json_get(ad, "Sequence"), true, &seq) || seq == 0 || seq > UINT32_MAX) {
        run_queue(s, a, 502, "nodeError", "account_info without a Sequence");
        return;
    }
    pend_scan ps = {a->address, 0, 0, false};
    gw_map_each(s->by_cid, scan_pending, &ps); /* every entry, the persister's too */
    a->next_seq = (uint32_t)seq > ps.max_seq ? (uint32_t)seq : ps.max_seq + 1;
    run_queue(s, a, 0, NULL, NULL);
}

static void fetch_seq(gw_submit *s, acct *a)
{
    if (a->fetching)
        return;
    char req[160];
    snprintf(req, sizeof req,
             "{\"command\":\"account_info\",\"account\":\"%s\",\"ledger_index\":\"current\"}",
             a->address);
    a->fetching = true;
    jt_errinfo ei;
    if (gw_link_request(s->link, req, (int)s->cfg.request_timeout_ms, on_account_info, a, &ei) !=
        JT_OK) {
        a->fetching = false;
        run_queue(s, a, 503, "nodeUnavailable", ei.msg);
    }
}

/* A key the loop drops goes to the persister, which may still hold it
 * readable (sign_batch): it releases and frees it. False when there is no
 * memory to hand it over (the key then stays loaded). */
static bool retire_key(gw_submit *s, jt_secret_key *key)
{
    pthread_mutex_lock(&s->mu);
    if (s->persister_gone) {
        pthread_mutex_unlock(&s->mu);
        jt_secret_key_free(key);
        return true;
    }
    if (s->n_retired == s->cap_retired) {
        size_t cap = s->cap_retired ? s->cap_retired * 2 : 16;
        jt_secret_key **r = realloc(s->retired, cap * sizeof *r);
        if (!r) {
            pthread_mutex_unlock(&s->mu);
            return false;
        }
        s->retired = r;
        s->cap_retired = cap;
    }
    s->retired[s->n_retired++] = key;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return true;
}

/* Frees (wipes) the least recently used keys the persister is not signing
 * with until at most `keep` remain. Keys in use stay, so a burst across more
 * accounts than the limit goes over it until its batches are back. */
static void keys_trim(gw_submit *s, size_t keep)
{
    for (gw_dnode *n = s->lru.tail, *prev; n && s->keys_loaded > keep; n = prev) {
        prev = n->prev;
        acct *a = GW_DLIST_ENTRY(n, acct, lru);
        if (!a->signing && retire_key(s, a->key)) {
            gw_dlist_unlink(&s->lru, n);
            a->key = NULL;
            s->keys_loaded--;
            s->stats.keys_dropped++;
        }
    }
}

/* The account's signing key, unsealed from the keystore into guarded memory
 * when not loaded already (at most cfg.keys_loaded are kept). */
static int acct_key(gw_submit *s, acct *a, char *err, size_t errcap)
{
    if (a->key) {
        gw_dlist_to_front(&s->lru, &a->lru);
        return 0;
    }
    keys_trim(s, s->cfg.keys_loaded - 1); /* room for this one */
    jt_errinfo ei;
    if (jt_keystore_get_key(s->ks, a->address, &a->key, &ei) != JT_OK) {
        snprintf(err, errcap, "%s", ei.msg);
        return -1;
    }
    gw_dlist_push_front(&s->lru, &a->lru);
    s->keys_loaded++;
    s->stats.keys_loads++;
    if (!a->pubhex[0]) {
        jt_keystore_entry e;
        if (jt_keystore_find(s->ks, a->address, &e) == JT_OK)
            jt_hex_encode(e.public_key, 33, a->pubhex, sizeof a->pubhex);
    }
    return 0;
}

/* ------------------------------------------------------------ signing */

static void persist_enqueue(gw_submit *s, txent *t)
{
    t->stage = ST_PERSISTING;
    pthread_mutex_lock(&s->mu);
    t->next_job = NULL;
    if (s->jobs_tail)
        s->jobs_tail->next_job = t;
    else
        s->jobs = t;
    s->jobs_tail = t;
    s->n_jobs++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* On the loop: the account's next sequence and the ledger window go into
 * the transaction, and the persister signs it (off the loop, in order)
 * before it records it. */
static void sign_and_persist(gw_submit *s, txent *t)
{
    acct *a = t->acct;
    char err[320];
    if (!gw_link_ready(s->link)) {
        fail_unsigned(s, t, 503, "nodeUnavailable",
                      "no link to a node with a validated ledger; nothing was signed");
        return;
    }
    if (acct_key(s, a, err, sizeof err)) {
        fail_unsigned(s, t, 500, "keyUnavailable", err);
        return;
    }
    uint32_t seq = a->next_seq;
    uint32_t lls = gw_link_validated(s->link) + s->cfg.ledger_window;
    jt_amount fee = {.native = true, .mantissa = s->cfg.fee_drops};
    uint64_t type = 0;
    if (jt_obj_set_account(t->tx, "Account", &a->id) != JT_OK ||
        jt_obj_set_uint(t->tx, "Sequence", seq) != JT_OK ||
        jt_obj_set_amount(t->tx, "Fee", &fee) != JT_OK ||
        jt_obj_set_uint(t->tx, "LastLedgerSequence", lls) != JT_OK ||
        jt_obj_get_uint(t->tx, "TransactionType", &type) != JT_OK) {
        fail_unsigned(s, t, 500, "outOfMemory", "out of memory");
        return;
    }
    a->next_seq = seq + 1;
    copy_str(t->info.type, sizeof t->info.type, jt_tx_type_name((unsigned)type));
    t->info.sequence = seq;
    t->info.last_ledger = lls;
    t->info.status = GW_PENDING;
    copy_str(t->signing_key, sizeof t->signing_key, a->pubhex);
    t->to_sign = true;
    a->signing++;
    s->stats.signed_count++;
    persist_enqueue(s, t);
}

/* Persister thread: every key it holds readable goes back to PROT_NONE. */
static void release_held(gw_submit *s)
{
    for (size_t i = 0; i < s->n_held; i++)
        jt_secret_key_release(s->held[i]);
    s->n_held = 0;
    atomic_store(&s->readable, 0);
}

static void hold_key(gw_submit *s, jt_secret_key *key)
{
    for (size_t i = 0; i < s->n_held; i++)
        if (s->held[i] == key)
            return;
    if (s->n_held == HELD_MAX)
        release_held(s);
    if (jt_secret_key_hold(key) != JT_OK)
        return; /* the signature makes it readable for itself */
    if (!s->n_held)
        s->held_since = srv_mono_seconds();
    s->held[s->n_held++] = key;
    atomic_store(&s->readable, s->n_held);
}

/* Persister thread: the keys the loop dropped, released and freed. */
static void free_retired(gw_submit *s, jt_secret_key **keys, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < s->n_held; i++)
            if (s->held[i] == keys[k]) {
                jt_secret_key_release(keys[k]);
                s->held[i] = s->held[--s->n_held];
                atomic_store(&s->readable, s->n_held);
                break;
            }
        jt_secret_key_free(keys[k]);
    }
    free(keys);
}

/* Persister thread: signs the batch's unsigned transactions. A key is made
 * readable (an mprotect, and making it unreadable again is another, which
 * stops every CPU running the gateway to flush its TLB) once, and stays so
 * while batches follow each other: until none has come for HOLD_IDLE_S, or
 * for HOLD_MAX_S at most (persister_wait). Under load that is one pair of
 * switches per key every 50 ms instead of one per batch. Only t->tx,
 * t->blob_hex, t->info.hash and the sign_* fields are written here; the loop
 * reads none of them (nor copies the whole of t->info) until the batch
 * comes back. */
static void sign_batch(gw_submit *s, txent *jobs)
{
    for (txent *t = jobs; t; t = t->next_job) {
        if (!t->to_sign)
            continue;
        jt_secret_key *key = t->acct->key;
        hold_key(s, key);
        jt_errinfo ei;
        ei.msg[0] = '\0';
        jt_buf blob;
        jt_buf_init(&blob);
        uint8_t hash[32];
        if (jt_tx_sign_secret(t->tx, key, &ei) != JT_OK || jt_obj_to_binary(t->tx, 0, &blob) != JT_OK ||
            !(t->blob_hex = malloc(blob.len * 2 + 1))) {
            t->sign_failed = true;
            copy_str(t->sign_err, sizeof t->sign_err, ei.msg[0] ? ei.msg : "cannot sign");
        } else {
            jt_tx_blob_id(blob.data, blob.len, hash);
            jt_hex_encode(blob.data, blob.len, t->blob_hex, blob.len * 2 + 1);
            jt_hex_encode(hash, 32, t->info.hash, sizeof t->info.hash);
            jt_obj_free(t->tx);
            t->tx = NULL;
        }
        jt_buf_clear(&blob);
    }
    s->held_last = srv_mono_seconds();
    if (s->n_held && s->held_last - s->held_since >= HOLD_MAX_S)
        release_held(s);
}

/* Persister thread, with s->mu held: waits for jobs or the stop, freeing
 * the keys the loop drops and putting the held keys back to PROT_NONE once
 * no batch has come for HOLD_IDLE_S (or they were held HOLD_MAX_S). */
static void persister_wait(gw_submit *s)
{
    for (;;) {
        if (s->n_retired) {
            jt_secret_key **keys = s->retired;
            size_t n = s->n_retired;
            s->retired = NULL;
            s->n_retired = s->cap_retired = 0;
            pthread_mutex_unlock(&s->mu);
            free_retired(s, keys, n);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if (s->jobs || s->stopping)
            return;
        if (!s->n_held) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        double now = srv_mono_seconds(), until = s->held_last + HOLD_IDLE_S;
        if (now >= until || now - s->held_since >= HOLD_MAX_S) {
            pthread_mutex_unlock(&s->mu);
            release_held(s);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long ns = (long)((until - now) * 1e9) + 1;
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec += ns % 1000000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
}

/* ------------------------------------------------------------ persister */

static void persisted(void *ctx);

/* A batch's outcome goes to the loop. */
static void hand_back(done_batch *d)
{
    if (srv_net_post(d->s->net, persisted, d) != 0) {
        /* The loop is gone (shutting down): what was written is sent at the
         * next start. */
        for (txent *t = d->jobs; t;) {
            txent *next = t->next_job;
            t->next_job = NULL;
            t = next;
        }
        free(d);
    }
}

/* The store's writer thread: the batch is durable (or not). */
static void batch_committed(void *ctx, int rc, const char *err)
{
    done_batch *d = ctx;
    d->rc = rc;
    if (rc)
        snprintf(d->err, sizeof d->err, "%s", err);
    hand_back(d);
}

static void *persister_main(void *arg)
{
    gw_submit *s = arg;
    (void)prctl(PR_SET_NAME, "jt-gw-sign", 0, 0, 0); /* ps -L, top -H */
    for (;;) {
        pthread_mutex_lock(&s->mu);
        persister_wait(s);
        txent *jobs = s->jobs;
        s->jobs = s->jobs_tail = NULL;
        s->n_jobs = 0;
        if (!jobs) {
            /* Stopping: no key stays readable, and the loop frees the keys
             * it drops from now on. */
            s->persister_gone = true;
            pthread_mutex_unlock(&s->mu);
            release_held(s);
            return NULL;
        }
        pthread_mutex_unlock(&s->mu);
        done_batch *d = calloc(1, sizeof *d);
        if (!d) {
            /* Nothing to report through: keep the jobs for the next round. */
            pthread_mutex_lock(&s->mu);
            txent *tail = jobs;
            while (tail->next_job)
                tail = tail->next_job;
            tail->next_job = s->jobs;
            s->jobs = jobs;
            if (!s->jobs_tail)
                s->jobs_tail = tail;
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        d->s = s;
        d->jobs = jobs;
        sign_batch(s, jobs);
        size_t n = 0, na = 0;
        for (txent *t = jobs; t; t = t->next_job)
            n++;
        gw_audit_entry *ae = calloc(n, sizeof *ae);
        gw_batch *b = gw_batch_new();
        jt_buf rec;
        jt_buf_init(&rec);
        int rc = ae && b ? 0 : -1;
        if (rc)
            snprintf(d->err, sizeof d->err, "out of memory");
        for (txent *t = jobs; t && !rc; t = t->next_job) {
            if (t->sign_failed)
                continue; /* nothing to record: it goes back unsigned */
            /* Blobs signed elsewhere are recorded, not audited: the
             * gateway did not sign them. */
            if (t->signing_key[0])
                ae[na++] = (gw_audit_entry){t->api_key, t->info.account, t->signing_key,
                                            t->info.type, t->info.hash,
                                            t->info.client_id[0] ? t->info.client_id : NULL};
            rec.len = 0;
            t->no = gw_txrec_number(s->recs);
            if (record_json(t, &rec) ||
                gw_txrec_put_new(b, t->no, rec.data, rec.len, t->blob_hex,
                                 t->blob_hex ? strlen(t->blob_hex) : 0)) {
                snprintf(d->err, sizeof d->err, "out of memory");
                rc = -1;
            }
        }
        jt_buf_clear(&rec);
        if (rc) {
            free(ae);
            gw_batch_free(b);
        } else {
            d->b = b;
            d->ae = ae;
            d->na = na;
        }
        d->rc = rc;
        /* The auditor writes its lines while this thread signs the next
         * batch: a signature's CPU overlaps the audit log's sync. */
        pthread_mutex_lock(&s->mu);
        if (s->audit_tail)
            s->audit_tail->next = d;
        else
            s->audit_q = d;
        s->audit_tail = d;
        pthread_cond_signal(&s->acv);
        pthread_mutex_unlock(&s->mu);
    }
}

/* Auditor thread: one audit append (one fdatasync) for the lines of every
 * signed batch waiting, then each batch's records, with the audit log's new
 * tail, to the store's first lane, in signing order. */
static void audit_batches(gw_submit *s, done_batch *q)
{
    size_t n = 0;
    for (done_batch *d = q; d; d = d->next)
        if (!d->rc)
            n += d->na;
    char err[400] = "";
    int rc = 0;
    gw_audit_entry *all = n ? malloc(n * sizeof *all) : NULL;
    if (n && !all) {
        snprintf(err, sizeof err, "out of memory");
        rc = -1;
    }
    size_t k = 0;
    for (done_batch *d = q; d && all; d = d->next)
        if (!d->rc && d->na) {
            memcpy(all + k, d->ae, d->na * sizeof *all);
            k += d->na;
        }
    if (!rc && n && gw_audit_append(s->audit, all, n, err, sizeof err))
        rc = -1;
    free(all);
    uint64_t tn = 0;
    uint8_t th[32] = {0};
    if (!rc)
        gw_audit_tail(s->audit, &tn, th);
    for (done_batch *d = q, *next; d; d = next) {
        next = d->next;
        d->next = NULL;
        free(d->ae);
        d->ae = NULL;
        if (!d->rc && rc) {
            d->rc = rc;
            snprintf(d->err, sizeof d->err, "%s", err);
        }
        if (!d->rc && gw_tail_put(d->b, tn, th)) {
            snprintf(d->err, sizeof d->err, "out of memory");
            d->rc = -1;
        }
        if (!d->rc) {
            /* The store's writer commits it while the next lines are
             * written (the writer keeps their order): a batch costs the
             * longer of the two syncs, not their sum. The first lane:
             * answers wait on it, and no ordinary batch queued before it
             * writes these keys (a final status follows the record's
             * commit; the audit tail is written only here). */
            gw_batch *b = d->b;
            d->b = NULL;
            gw_store_commit_first(s->store, b, batch_committed, d);
            continue;
        }
        gw_batch_free(d->b);
        d->b = NULL;
        hand_back(d);
    }
}

static void *auditor_main(void *arg)
{
    gw_submit *s = arg;
    (void)prctl(PR_SET_NAME, "jt-gw-audit", 0, 0, 0); /* ps -L, top -H */
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->audit_q && !s->audit_stopping)
            pthread_cond_wait(&s->acv, &s->mu);
        done_batch *q = s->audit_q;
        s->audit_q = s->audit_tail = NULL;
        pthread_mutex_unlock(&s->mu);
        if (!q)
            return NULL;
        audit_batches(s, q);
    }
}

static void send_tx(gw_submit *s, txent *t);

static void persisted(void *ctx)
{
    done_batch *d = ctx;
    gw_submit *s = d->s;
    for (txent *t = d->jobs; t;) {
        txent *next = t->next_job;
        t->next_job = NULL;
        bool to_sign = t->to_sign;
        t->to_sign = false;
        if (to_sign && t->acct && t->acct->signing)
            t->acct->signing--;
        if (t->sign_failed) {
            /* Its sequence is unused: ask the node again. */
            if (t->acct)
                t->acct->next_seq = 0;
            log_tx("error", "signing_failed", t, t->sign_err);
            if (!s->stopped)
                fail_unsigned(s, t, 500, "signingFailed", t->sign_err);
            t = next;
            continue;
        }
        if (!d->rc) {
            /* Findable by hash and client id once its record is durable. */
            uint8_t h[32];
            char ck[200];
            size_t ckl = cid_key(ck, sizeof ck, t->info.account, t->info.client_id);
            hash_bin(t->info.hash, h);
            if (ckl && gw_txrec_note(s->recs, t->no, h, ck, ckl))
                log_tx("warn", "index_in_memory_failed", t, NULL);
        }
        if (to_sign && !d->rc && !t->hash_in_map) {
            if (gw_map_put(s->by_hash, t->info.hash, 64, t) == 0)
                t->hash_in_map = true;
            /* else: recorded, so sent and followed after a restart */
        }
        if (s->stopped) {
            /* Written or not, it is sent (or reported) after the restart. */
            if (!d->rc)
                t->stage = ST_LIVE;
        } else if (d->rc) {
            log_tx("error", "record_failed", t, NULL);
            if (t->acct)
                t->acct->next_seq = 0; /* its sequence is unused: ask the node again */
            char msg[480];
            snprintf(msg, sizeof msg, "the transaction could not be recorded, so it was not sent: %s",
                     d->err);
            fail_unsigned(s, t, 503, "storeUnavailable", msg);
        } else {
            t->stage = ST_LIVE;
            s->stats.by_status[GW_PENDING]++;
            log_tx("info", "signed", t, NULL);
            send_tx(s, t);
        }
        t = next;
    }
    free(d);
    if (s->keys_loaded > s->cfg.keys_loaded)
        keys_trim(s, s->cfg.keys_loaded); /* a burst went over the limit */
}

/* ------------------------------------------------------------ finality */

static void gap_check(gw_submit *s, txent *t);

static void finalize(gw_submit *s, txent *t, gw_status st, const char *result, uint32_t ledger)
{
    if (t->info.status != GW_PENDING)
        return;
    t->info.status = st;
    if (result)
        copy_str(t->info.result, sizeof t->info.result, result);
    t->info.ledger_index = ledger;
    s->stats.by_status[st]++;
    char extra[96];
    snprintf(extra, sizeof extra, "status=%s result=%s ledger=%u", gw_status_text(st),
             t->info.result[0] ? t->info.result : "-", ledger);
    log_tx("info", "final", t, extra);
    t->stage = ST_FINAL;
    persist_status(s, t);
    /* Nothing else is under way (no other final status is coming to share
     * the pages): its record goes on the loop's next turn, not at the next
     * tick (as it does when someone waits for it: notify). */
    if (gw_map_count(s->by_cid) <= s->fin_n)
        flush_soon(s);
    notify(t);
    if (st == GW_FAILED || st == GW_EXPIRED)
        gap_check(s, t);
    maybe_free(t);
}

static bool is_rejected_now(const char *r)
{
    /* Never applied and never will be: malformed, failed the ledger's
     * checks, or refused locally. tefALREADY means it is already in. */
    if (!strncmp(r, "tem", 3) || !strncmp(r, "tel", 3))
        return true;
    if (!strncmp(r, "tef", 3))
        return strcmp(r, "tefALREADY") != 0;
    return false;
}

static void on_submit_reply(void *ctx, const jt_session_reply *r)
{
    txent *t = ctx;
    gw_submit *s = t->owner;
    t->busy--;
    bool first = !t->submitted_once;
    if (t->stage == ST_FINAL) {
        maybe_free(t);
        return;
    }
    if (r->err == JT_OK) {
        t->submitted_once = true;
        const char *er = jt_json_string(jt_json_get(jt_json_get(r->msg, "result"), "engine_result"));
        if (er && first && is_rejected_now(er)) {
            finalize(s, t, GW_FAILED, er, 0);
            return;
        }
        if (er && first)
            copy_str(t->info.result, sizeof t->info.result, er);
    } else if (r->err == JT_ERPC && first) {
        t->submitted_once = true;
        finalize(s, t, GW_FAILED, r->ei && r->ei->field[0] ? r->ei->field : "invalidTransaction", 0);
        return;
    } else if (r->err != JT_ERPC) {
        /* Lost or timed out: it may have been applied. It stays pending
         * and is looked up or sent again. */
        log_tx("warn", "outcome_unknown", t, NULL);
        if (!r->sent)
            t->sent_at = 0;
        else
            t->submitted_once = true; /* it may be in; a later tef… says nothing */
    }
    notify(t);
}

static void send_tx(gw_submit *s, txent *t)
{
    if (!t->blob_hex || t->busy || !gw_link_ready(s->link))
        return;
    size_t n = strlen(t->blob_hex) + 64;
    char *req = malloc(n);
    if (!req)
        return;
    snprintf(req, n, "{\"command\":\"submit\",\"tx_blob\":\"%s\"}", t->blob_hex);
    jt_errinfo ei;
    t->busy++;
    if (gw_link_request(s->link, req, (int)s->cfg.request_timeout_ms, on_submit_reply, t, &ei) !=
        JT_OK) {
        t->busy--;
        log_tx("warn", "send_failed", t, ei.msg);
        notify(t);
    } else {
        if (t->sent_at > 0)
            s->stats.resubmits++;
        t->sent_at = srv_mono_seconds();
    }
    free(req);
}

/* A failed or expired transaction left its sequence unused: later ones of
 * the account wait for it. Fill it with a no-op AccountSet; when none
 * wait, ask the node for the next sequence next time. */
static void gap_check(gw_submit *s, txent *t)
{
    acct *a = t->acct;
    if (!a || !t->info.sequence)
        return;
    /* tefPAST_SEQ: another transaction of the account has this sequence
     * (one signed elsewhere): no gap, but this gateway's count is behind.
     * A gap filler that fails is not filled again (it would loop). */
    if (!strcmp(t->info.result, "tefPAST_SEQ") || t->internal) {
        if (!a->queue)
            a->next_seq = 0;
        return;
    }
    pend_scan ps = {a->address, t->info.sequence, 0, false};
    gw_map_each(s->by_cid, scan_pending, &ps); /* every entry, the persister's too */
    if (!ps.found) {
        if (!a->queue)
            a->next_seq = 0;
        return;
    }
    txent *g = calloc(1, sizeof *g);
    jt_obj *tx = jt_obj_new();
    int type = jt_tx_type_by_name("AccountSet");
    if (!g || !tx || type < 0 || jt_obj_set_uint(tx, "TransactionType", (uint64_t)type) != JT_OK) {
        free(g);
        jt_obj_free(tx);
        return;
    }
    g->owner = s;
    g->tx = tx;
    g->acct = a;
    g->internal = true;
    copy_str(g->info.account, sizeof g->info.account, a->address);
    snprintf(g->info.client_id, sizeof g->info.client_id, "gap-fill:%u:%s", t->info.sequence,
             t->info.hash);
    copy_str(g->api_key, sizeof g->api_key, "gateway");
    uint32_t saved = a->next_seq;
    a->next_seq = t->info.sequence;
    s->stats.gap_fills++;
    log_tx("warn", "gap_fill", t, NULL);
    sign_and_persist(s, g);
    a->next_seq = saved;
}

/* tx lookups of pending transactions. */
static void on_lookup(void *ctx, const jt_session_reply *r)
{
    txent *t = ctx;
    gw_submit *s = t->owner;
    t->busy--;
    if (t->stage == ST_FINAL) {
        maybe_free(t);
        return;
    }
    uint32_t v = gw_link_validated(s->link);
    if (r->err == JT_OK) {
        const jt_json *res = jt_json_get(r->msg, "result");
        const jt_json *val = jt_json_get(res, "validated");
        uint64_t li = 0;
        jt_json_uint64(jt_json_get(res, "ledger_index"), true, &li);
        const char *tr = jt_json_string(jt_json_get(jt_json_get(res, "meta"), "TransactionResult"));
        if (val && val->kind == JT_JSON_BOOL && val->u.b && tr) {
            finalize(s, t, GW_VALIDATED, tr, (uint32_t)li);
            return;
        }
    } else if (r->err == JT_ERPC && r->ei && !strcmp(r->ei->field, "txnNotFound")) {
        if (t->info.last_ledger && t->info.last_ledger <= v) {
            finalize(s, t, GW_EXPIRED, NULL, 0);
            return;
        }
        send_tx(s, t);
        return;
    }
    /* Anything else: ask again after the next ledger. */
}

static void lookup(gw_submit *s, txent *t)
{
    if (t->busy || !gw_link_ready(s->link))
        return;
    char req[128];
    snprintf(req, sizeof req, "{\"command\":\"tx\",\"transaction\":\"%s\"}", t->info.hash);
    jt_errinfo ei;
    t->busy++;
    if (gw_link_request(s->link, req, (int)s->cfg.request_timeout_ms, on_lookup, t, &ei) != JT_OK) {
        t->busy--;
    }
}

typedef struct sweep {
    gw_submit *s;
    uint32_t validated;
    bool all;
    double now;
    txent **list;
    size_t n, cap;
} sweep;

static bool collect(void *ctx, const char *k, size_t kl, void *v)
{
    sweep *sw = ctx;
    txent *t = v;
    if (t->stage != ST_LIVE)
        return true;
    if (sw->n == sw->cap) {
        size_t cap = sw->cap ? sw->cap * 2 : 64;
        txent **l = realloc(sw->list, cap * sizeof *l);
        if (!l)
            return false;
        sw->list = l;
        sw->cap = cap;
    }
    sw->list[sw->n++] = t;
    return true;
}

static void sweep_pending(gw_submit *s, bool all)
{
    sweep sw = {s, gw_link_validated(s->link), all, srv_mono_seconds(), NULL, 0, 0};
    gw_map_each(s->by_hash, collect, &sw);
    for (size_t i = 0; i < sw.n; i++) {
        txent *t = sw.list[i];
        if (t->busy)
            continue;
        if (all || (t->info.last_ledger && t->info.last_ledger <= sw.validated))
            lookup(s, t);
        else if (t->sent_at == 0 || sw.now - t->sent_at >= s->cfg.resubmit_ms / 1000.0)
            send_tx(s, t);
    }
    free(sw.list);
}

void gw_submit_on_connected(void *ctx)
{
    sweep_pending(ctx, true);
}

void gw_submit_on_ledger(void *ctx, uint32_t index)
{
    sweep_pending(ctx, false);
}

void gw_submit_on_tx(void *ctx, const jt_json *msg, const char *text, size_t len)
{
    gw_submit *s = ctx;
    const char *hash = jt_json_string(jt_json_get(jt_json_get(msg, "transaction"), "hash"));
    if (!hash || strlen(hash) != 64)
        return;
    char up[65];
    for (int i = 0; i < 64; i++)
        up[i] = (char)(hash[i] >= 'a' && hash[i] <= 'f' ? hash[i] - 32 : hash[i]);
    up[64] = 0;
    txent *t = gw_map_get(s->by_hash, up, 64);
    if (!t || t->stage != ST_LIVE)
        return;
    const char *er = jt_json_string(jt_json_get(msg, "engine_result"));
    const char *tr = jt_json_string(jt_json_get(jt_json_get(msg, "meta"), "TransactionResult"));
    uint64_t li = 0;
    jt_json_uint64(jt_json_get(msg, "ledger_index"), true, &li);
    finalize(s, t, GW_VALIDATED, tr ? tr : er, (uint32_t)li);
}

void gw_submit_tick(gw_submit *s)
{
    flush_finals(s);
    gw_txrec_tick(s->recs);
    double now = srv_mono_seconds();
    sweep sw = {s, 0, false, now, NULL, 0, 0};
    gw_map_each(s->by_cid, collect, &sw);
    for (size_t i = 0; i < sw.n; i++) {
        txent *t = sw.list[i];
        waiter **p = &t->waiters;
        while (*p) {
            waiter *w = *p;
            if (w->wait && now >= w->deadline) {
                *p = w->next;
                answer(t, w, 202, NULL, "");
                free(w);
            } else {
                p = &w->next;
            }
        }
    }
    free(sw.list);
}

void gw_submit_cancel_wait(gw_submit *s, void *ctx)
{
    /* Waiters are answered exactly once; the HTTP layer drops answers for
     * clients that left, so nothing to do here beyond what notify does. */
    (void)s;
    (void)ctx;
}

/* ------------------------------------------------------------ entry points */

/* An existing request with this client id: the same body gets its status,
 * another body a 409. 1 when answered, 0 when new, -1 on a store error
 * (answered with 503). */
static int existing(gw_submit *s, const char *account, const char *cid, const uint8_t digest[32],
                    bool wait, gw_sub_cb cb, void *ctx)
{
    char k[200];
    size_t kl = cid_key(k, sizeof k, account, cid);
    txent *t = gw_map_get(s->by_cid, k, kl);
    gw_sub_result r = {0};
    if (t) {
        if (sodium_memcmp(t->digest, digest, 32) != 0) {
            r.http = 409;
            r.error = "clientIdReused";
            snprintf(r.message, sizeof r.message,
                     "client_id \"%.64s\" was used for another request", cid);
            cb(ctx, &r);
            return 1;
        }
        gw_txinfo tmp;
        const gw_txinfo *info = shown(t, &tmp);
        if (info->status != GW_PENDING) {
            r.http = status_http(info);
            r.error = r.http == 422 ? t->info.result : NULL;
            r.tx = info;
            cb(ctx, &r);
            return 1;
        }
        if (add_waiter(t, wait, s->cfg.wait_max_s, cb, ctx)) {
            r.http = 500;
            r.error = "outOfMemory";
            cb(ctx, &r);
            return 1;
        }
        if ((t->stage == ST_LIVE || t->stage == ST_FINAL) && !wait)
            notify(t);
        return 1;
    }
    uint64_t no = 0;
    char err[400];
    int found = gw_txrec_by_cid(s->recs, k, kl, &no, err, sizeof err);
    if (found < 0) {
        r.http = 503;
        r.error = "storeUnavailable";
        copy_str(r.message, sizeof r.message, err);
        cb(ctx, &r);
        return -1;
    }
    if (found == 0)
        return 0;
    jt_buf rec;
    jt_buf_init(&rec);
    txent tmp = {0};
    found = gw_txrec_get(s->recs, no, &rec, err, sizeof err);
    if (found == 1 && record_parse(rec.data, rec.len, &tmp) == 0) {
        if (sodium_memcmp(tmp.digest, digest, 32) != 0) {
            r.http = 409;
            r.error = "clientIdReused";
            snprintf(r.message, sizeof r.message,
                     "client_id \"%.64s\" was used for another request", cid);
        } else {
            r.http = status_http(&tmp.info);
            r.error = r.http == 422 ? tmp.info.result : NULL;
            r.tx = &tmp.info;
        }
        cb(ctx, &r);
    } else {
        r.http = 503;
        r.error = "storeUnavailable";
        snprintf(r.message, sizeof r.message, "the record of client_id \"%.64s\" cannot be read",
                 cid);
        cb(ctx, &r);
    }
    free(tmp.blob_hex);
    jt_buf_clear(&rec);
    return 1;
}

static void reply_now(gw_sub_cb cb, void *ctx, int http, const char *error, const char *msg)
{
    gw_sub_result r = {.http = http, .error = error};
    copy_str(r.message, sizeof r.message, msg);
    cb(ctx, &r);
}

static size_t pending_count(gw_submit *s)
{
    return gw_map_count(s->by_cid);
}

int gw_submit_repeat(gw_submit *s, const char *account, const char *client_id,
                     const uint8_t digest[32], bool wait, gw_sub_cb cb, void *ctx)
{
    if (!client_id || !client_id[0] || strlen(client_id) > CID_MAX) {
        reply_now(cb, ctx, 400, "badClientId", "client_id is required: 1 to 128 characters");
        return 1;
    }
    return existing(s, account, client_id, digest, wait, cb, ctx) != 0;
}

void gw_submit_write(gw_submit *s, const char *api_key, const char *account,
                     const char *client_id, const uint8_t digest[32], jt_obj *tx, bool wait,
                     gw_sub_cb cb, void *ctx)
{
    if (!client_id || !client_id[0] || strlen(client_id) > CID_MAX) {
        jt_obj_free(tx);
        reply_now(cb, ctx, 400, "badClientId", "client_id is required: 1 to 128 characters");
        return;
    }
    if (existing(s, account, client_id, digest, wait, cb, ctx)) {
        jt_obj_free(tx);
        return;
    }
    if (!gw_link_ready(s->link)) {
        jt_obj_free(tx);
        reply_now(cb, ctx, 503, "nodeUnavailable",
                  "no link to a node with a validated ledger; nothing was signed");
        return;
    }
    if (pending_count(s) >= s->cfg.max_pending) {
        jt_obj_free(tx);
        reply_now(cb, ctx, 503, "tooBusy",
                  "too many transactions are pending; nothing was signed, try again later");
        return;
    }
    acct *a = get_acct(s, account);
    txent *t = calloc(1, sizeof *t);
    if (!a || !t) {
        free(t);
        jt_obj_free(tx);
        reply_now(cb, ctx, 500, "outOfMemory", "out of memory");
        return;
    }
    t->owner = s;
    t->tx = tx;
    t->acct = a;
    t->stage = ST_RESERVED;
    memcpy(t->digest, digest, 32);
    copy_str(t->api_key, sizeof t->api_key, api_key);
    copy_str(t->info.account, sizeof t->info.account, account);
    copy_str(t->info.client_id, sizeof t->info.client_id, client_id);
    char k[200];
    size_t kl = cid_key(k, sizeof k, account, client_id);
    if (add_waiter(t, wait, s->cfg.wait_max_s, cb, ctx) || gw_map_put(s->by_cid, k, kl, t)) {
        free_ent(t);
        reply_now(cb, ctx, 500, "outOfMemory", "out of memory");
        return;
    }
    t->cid_in_map = true;
    if (a->next_seq && !a->queue) {
        sign_and_persist(s, t);
        return;
    }
    if (a->queue_tail)
        a->queue_tail->next_wait = t;
    else
        a->queue = t;
    a->queue_tail = t;
    if (!a->next_seq)
        fetch_seq(s, a);
}

void gw_submit_blob(gw_submit *s, const char *api_key, const char *blob_hex,
                    const char *client_id, const uint8_t digest[32], bool wait, gw_sub_cb cb,
                    void *ctx)
{
    size_t hl = blob_hex ? strlen(blob_hex) : 0;
    jt_obj *tx = NULL;
    jt_errinfo ei;
    if (!hl || hl > 2 * 65536 || jt_obj_from_hex(blob_hex, hl, &tx, &ei) != JT_OK) {
        reply_now(cb, ctx, 400, "badBlob",
                  hl ? "blob is not a serialized transaction" : "blob is required (hex)");
        return;
    }
    uint8_t hash[32];
    jt_account_id id;
    uint64_t seq = 0, lls = 0, type = 0;
    if (jt_tx_id(tx, hash) != JT_OK || jt_obj_get_account(tx, "Account", &id) != JT_OK ||
        jt_obj_get_uint(tx, "Sequence", &seq) != JT_OK ||
        jt_obj_get_uint(tx, "TransactionType", &type) != JT_OK || jt_tx_verify(tx, &ei) != JT_OK) {
        jt_obj_free(tx);
        reply_now(cb, ctx, 400, "badBlob",
                  "blob must be a signed transaction (Account, Sequence, a valid signature)");
        return;
    }
    if (jt_obj_get_uint(tx, "LastLedgerSequence", &lls) != JT_OK)
        lls = 0;
    jt_obj_free(tx);
    char account[JT_ADDRESS_MAX], hhex[65];
    jt_address_encode(&id, account);
    jt_hex_encode(hash, 32, hhex, sizeof hhex);
    const char *cid = client_id && client_id[0] ? client_id : hhex;
    if (strlen(cid) > CID_MAX) {
        reply_now(cb, ctx, 400, "badClientId", "client_id: 1 to 128 characters");
        return;
    }
    if (existing(s, account, cid, digest, wait, cb, ctx))
        return;
    if (gw_map_get(s->by_hash, hhex, 64)) {
        reply_now(cb, ctx, 409, "alreadyTracked",
                  "this transaction is already tracked under another client_id");
        return;
    }
    if (!gw_link_ready(s->link)) {
        reply_now(cb, ctx, 503, "nodeUnavailable", "no link to a node; the blob was not sent");
        return;
    }
    txent *t = calloc(1, sizeof *t);
    char k[200];
    size_t kl = cid_key(k, sizeof k, account, cid);
    if (!t || !(t->blob_hex = strdup(blob_hex))) {
        free(t);
        reply_now(cb, ctx, 500, "outOfMemory", "out of memory");
        return;
    }
    t->owner = s;
    memcpy(t->digest, digest, 32);
    copy_str(t->api_key, sizeof t->api_key, api_key);
    copy_str(t->info.account, sizeof t->info.account, account);
    copy_str(t->info.client_id, sizeof t->info.client_id, cid);
    copy_str(t->info.hash, sizeof t->info.hash, hhex);
    copy_str(t->info.type, sizeof t->info.type, jt_tx_type_name((unsigned)type));
    t->info.sequence = (uint32_t)seq;
    t->info.last_ledger = (uint32_t)lls;
    t->info.status = GW_PENDING;
    t->acct = gw_map_get(s->accts, account, strlen(account));
    bool ok = add_waiter(t, wait, s->cfg.wait_max_s, cb, ctx) == 0;
    if (ok && (ok = gw_map_put(s->by_cid, k, kl, t) == 0))
        t->cid_in_map = true;
    if (ok && (ok = gw_map_put(s->by_hash, t->info.hash, 64, t) == 0))
        t->hash_in_map = true;
    if (!ok) {
        forget(s, t);
        while (t->waiters) { /* not answered: the reply below is the answer */
            waiter *w = t->waiters;
            t->waiters = w->next;
            free(w);
        }
        free_ent(t);
        reply_now(cb, ctx, 500, "outOfMemory", "out of memory");
        return;
    }
    gw_link_follow(s->link, account);
    persist_enqueue(s, t);
}

int gw_submit_find(gw_submit *s, const char *account, const char *id, gw_txinfo *out, char *err,
                   size_t errcap)
{
    size_t n = strlen(id);
    bool is_hash = n == 64;
    for (size_t i = 0; is_hash && i < n; i++)
        is_hash = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'F') ||
                  (id[i] >= 'a' && id[i] <= 'f');
    uint8_t h[32];
    if (is_hash) {
        char up[65];
        for (size_t i = 0; i < 64; i++)
            up[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
        up[64] = 0;
        txent *t = gw_map_get(s->by_hash, up, 64);
        if (t && (!account || !strcmp(t->info.account, account))) {
            gw_txinfo tmp;
            *out = *shown(t, &tmp);
            return 1;
        }
        hash_bin(up, h);
    }
    uint64_t no = 0;
    int found;
    if (is_hash) {
        found = gw_txrec_by_hash(s->recs, h, &no, err, errcap);
    } else {
        char k[200];
        size_t kl = account ? cid_key(k, sizeof k, account, id) : 0;
        if (!kl)
            return 0;
        txent *t = gw_map_get(s->by_cid, k, kl);
        /* While the persister has it, its hash is the persister's: the
         * store answers (the record, once it is written). */
        if (t && t->stage != ST_RESERVED && t->stage != ST_PERSISTING && t->info.hash[0]) {
            gw_txinfo tmp;
            *out = *shown(t, &tmp);
            return 1;
        }
        found = gw_txrec_by_cid(s->recs, k, kl, &no, err, errcap);
    }
    if (found != 1)
        return found;
    jt_buf rec;
    jt_buf_init(&rec);
    found = gw_txrec_get(s->recs, no, &rec, err, errcap);
    txent tmp = {0};
    int rc = found;
    if (found == 1) {
        rc = record_parse(rec.data, rec.len, &tmp) == 0 &&
                     (!account || !strcmp(tmp.info.account, account))
                 ? 1
                 : 0;
        if (rc)
            *out = tmp.info;
    }
    free(tmp.blob_hex);
    jt_buf_clear(&rec);
    return rc;
}

/* ------------------------------------------------------------ lifecycle */

typedef struct load_ctx {
    gw_submit *s;
    int rc;
} load_ctx;

static bool load_one(void *ctx, uint64_t no, const void *v, size_t vl, const void *blob,
                     size_t bl)
{
    load_ctx *lc = ctx;
    gw_submit *s = lc->s;
    txent tmp = {0};
    if (record_parse(v, vl, &tmp)) {
        free(tmp.blob_hex);
        return true;
    }
    /* The signed transaction is in the pending mark (in the record in a
     * store written before). */
    if (bl && !tmp.blob_hex && !(tmp.blob_hex = strndup(blob, bl))) {
        lc->rc = -1;
        return false;
    }
    if (tmp.info.status != GW_PENDING || !tmp.blob_hex) {
        free(tmp.blob_hex);
        return true;
    }
    txent *t = calloc(1, sizeof *t);
    if (!t) {
        free(tmp.blob_hex);
        lc->rc = -1;
        return false;
    }
    *t = tmp;
    t->owner = s;
    t->no = no;
    t->stage = ST_LIVE;
    t->submitted_once = true; /* it may be in a ledger: never "failed" now */
    char ck[200];
    size_t ckl = cid_key(ck, sizeof ck, t->info.account, t->info.client_id);
    t->acct = get_acct(s, t->info.account);
    if (gw_map_put(s->by_hash, t->info.hash, 64, t) || gw_map_put(s->by_cid, ck, ckl, t)) {
        gw_map_del(s->by_hash, t->info.hash, 64);
        free_ent(t);
        lc->rc = -1;
        return false;
    }
    t->cid_in_map = true;
    t->hash_in_map = true;
    return true;
}

static bool free_acct(void *ctx, const char *k, size_t kl, void *v)
{
    acct *a = v;
    jt_secret_key_free(a->key);
    free(a);
    return true;
}

static bool free_pending(void *ctx, const char *k, size_t kl, void *v)
{
    txent *t = v;
    t->cid_in_map = false;
    free_ent(t);
    return true;
}

int gw_submit_new(const gw_config *cfg, gw_store *store, gw_audit *audit, jt_keystore *ks,
                  gw_link *link, srv_net *net, gw_submit **out, char *err, size_t errcap)
{
    *out = NULL;
    gw_submit *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    s->cfg = *cfg;
    s->persister_gone = true; /* until it starts */
    s->store = store;
    s->audit = audit;
    s->ks = ks;
    s->link = link;
    s->net = net;
    s->by_hash = gw_map_new();
    s->by_cid = gw_map_new();
    s->accts = gw_map_new();
    if (!s->by_hash || !s->by_cid || !s->accts) {
        snprintf(err, errcap, "out of memory");
        gw_submit_free(s);
        return -1;
    }
    load_ctx lc = {s, 0};
    if (gw_txrec_open(store, 0, &s->recs, err, errcap) ||
        gw_txrec_each_pending(s->recs, load_one, &lc, err, errcap) || lc.rc) {
        if (lc.rc)
            snprintf(err, errcap, "out of memory loading pending transactions");
        gw_submit_free(s);
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&s->acv, NULL);
    if (pthread_create(&s->auditor, NULL, auditor_main, s) != 0) {
        s->auditor = 0;
        snprintf(err, errcap, "cannot start the auditor thread");
        gw_submit_free(s);
        return -1;
    }
    s->persister_gone = false;
    if (pthread_create(&s->thread, NULL, persister_main, s) != 0) {
        s->thread = 0;
        s->persister_gone = true;
        snprintf(err, errcap, "cannot start the persister thread");
        gw_submit_free(s);
        return -1;
    }
    fprintf(stderr, "level=info mod=submit event=loaded pending=%zu\n", gw_map_count(s->by_hash));
    *out = s;
    return 0;
}

void gw_submit_stop(gw_submit *s)
{
    if (!s || s->stopped)
        return;
    s->stopped = true;
    gw_txrec_stop(s->recs);
    if (s->thread) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        s->thread = 0;
    }
    /* After the signer: the batches it queued are written first. */
    if (s->auditor) {
        pthread_mutex_lock(&s->mu);
        s->audit_stopping = true;
        pthread_cond_signal(&s->acv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->auditor, NULL);
        s->auditor = 0;
    }
}

static bool drain_one(void *ctx, const char *k, size_t kl, void *v)
{
    txent *t = v;
    while (t->waiters) {
        waiter *w = t->waiters;
        t->waiters = w->next;
        answer(t, w, 503, "stopping",
               "the gateway is stopping; the request is recorded and its status is reported "
               "after the restart (GET it by client_id)");
        free(w);
    }
    return true;
}

void gw_submit_drain(gw_submit *s)
{
    if (!s)
        return;
    flush_finals(s); /* before the store closes */
    gw_map_each(s->by_cid, drain_one, NULL);
}

void gw_submit_free(gw_submit *s)
{
    if (!s)
        return;
    bool had_thread = s->thread != 0 || s->auditor != 0 || s->stopped;
    gw_submit_stop(s);
    if (had_thread) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        pthread_cond_destroy(&s->acv);
    }
    if (s->by_cid) {
        /* Entries are in by_cid (all of them) and by_hash (signed ones). */
        gw_map_each(s->by_cid, free_pending, NULL);
    }
    gw_map_free(s->by_cid);
    gw_map_free(s->by_hash);
    if (s->accts)
        gw_map_each(s->accts, free_acct, NULL);
    gw_map_free(s->accts);
    for (size_t i = 0; i < s->n_retired; i++)
        jt_secret_key_free(s->retired[i]);
    free(s->retired);
    gw_txrec_free(s->recs);
    free(s->fin);
    free(s);
}

void gw_submit_get_stats(gw_submit *s, gw_submit_stats *st)
{
    *st = s->stats;
    st->pending = gw_map_count(s->by_cid);
    st->keys_loaded = s->keys_loaded;
    st->keys_readable = atomic_load(&s->readable);
    pthread_mutex_lock(&s->mu);
    st->persist_queue = s->n_jobs;
    pthread_mutex_unlock(&s->mu);
}
