/*
 * rpc_int.h — what the dispatcher's files share, and nothing else in the
 * node includes.
 *
 *   rpc.c          the command table, the request entry and the reply envelope
 *   rpc_submit.c   the submit queue: signature checks on the verify workers
 *   rpc_stream.c   subscriptions and the pushed stream messages
 *   rpc_util.c     request parameters, ledger selection, shared JSON writers
 *   cmd_*.c        the commands, grouped by what they read
 *   (ledger rules come from the engine's read model, readmodel.h)
 *
 * Functions named rpc_* and cmd_* are defined in those files; the
 * unprefixed helpers here are static inline, either because the submit
 * path calls them for every payment or because they are a few lines.
 * Everything runs on the loop thread (rpc.h).
 */
#ifndef JN_RPC_INT_H
#define JN_RPC_INT_H

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "acctidx.h"
#include "fld.h"
#include "readmodel.h"
#include "rpc.h"
#include "verify.h"

/* Streams a client subscribed to. */
#define S_LEDGER      0x1u
#define S_SERVER      0x2u
#define S_TX          0x4u
#define S_TX_PROPOSED 0x8u

/* Requests queued behind signature checks before the node says tooBusy. */
#define MAX_PENDING 100000

struct jn_client {
    jn_client *next, *prev;
    jn_send_fn send;
    void *sctx;
    bool admin;
    unsigned streams;
    /* Its accounts (validated) and accounts_proposed, each sorted (memcmp
     * order); the rpc's indexes map them back to it. */
    jt_account_id *accts;
    size_t n_accts;
    jt_account_id *accts_p;
    size_t n_accts_p;
    uint8_t (*books)[32]; /* books, each as its directories' base (jn_id_book_base) */
    size_t n_books;
    unsigned pending; /* its requests queued behind a signature check */
    struct jn_pathreq *preq; /* its path_find request (cmd_path.c), or NULL */
    /* its request budget (rpc_budget.c) and its address's */
    double tokens, tokens_at;
    struct jn_addr_budget *addr_budget;
    unsigned refused;      /* requests refused since the last log line */
    double refused_logged; /* when that was */
    uint64_t pub_mark; /* the last message it was picked for (rpc_stream.c) */
};

/* A request waiting for its turn: a submit whose signature a worker checks,
 * or a later request of the same client, which must not overtake it. They
 * are finished strictly in arrival order, so an account's transactions
 * reach the open ledger in the order they were sent. */
typedef struct pending {
    struct pending *next;
    jn_vjob vj;             /* submit: the worker's part (submit_prepare, _finish) */
    bool submit;
    const struct command *cmd; /* otherwise: the command to run */
    jn_client *cl;          /* NULL once the client has gone */
    jt_json_doc *doc;       /* the request */
    /* A refused request, answered in its turn: the error to send. Set on
     * the loop before the request is queued (err), or by the worker (then
     * read only once vj.done). */
    const char *err;
    char msg[300];
    char exception[300];
    /* submit: decoded (on the loop when signed there, else by the worker),
     * owned until applied; the rest the worker works out after a good
     * signature check, so that the loop does not. */
    jt_obj *tx;
    jt_buf blob;
    const char *w_err;      /* the worker refused it (see err) */
    bool sign_here;         /* submit with secret: signed on the loop in its turn */
    jn_txmemo memo;         /* entry IDs and signer */
    uint8_t id[32];
    jt_buf tx_json;         /* the reply's tx_json */
} pending;

/* A reply buffer reused from request to request (loop thread only). */
struct scratch {
    jt_buf b;
    bool busy;
};

struct jn_rpc {
    jn_ledger *L;
    jn_closer *closer;
    jn_rpc_config cfg;
    char pubkey_node[64];
    char hostid[64];
    char version[64];
    jn_client *clients;
    size_t n_clients;
    size_t n_books; /* books subscribed, all clients together */
    /* Subscribers of each account, validated and proposed; with the
     * counts of transactions and transactions_proposed subscribers, a
     * transaction is published at the cost of the accounts it touches. */
    jn_acctidx acct, acct_p;
    size_t n_stream_tx, n_stream_txp;
    /* The clients one message goes to (rpc_stream.c), each once. */
    jn_client **to;
    size_t n_to, to_cap;
    uint64_t pub_mark;
    size_t n_paths; /* path_find requests open, all clients together */
    struct jn_addr_budget *addr_budgets; /* one per peer address with a client */
    /* Signature checks on workers (jn_rpc_start_verifiers); NULL: inline. */
    jn_verifier *ver;
    int (*post)(void *pctx, void (*cb)(void *ctx), void *ctx);
    void *post_ctx;
    atomic_bool wake; /* a drain is posted and has not started yet */
    /* The closed ledger being announced a slice at a time (rpc_stream.c):
     * its transactions (pub_v[pub_next..pub_n) still to go) and header. */
    jn_tx **pub_v;
    size_t pub_n, pub_next, pub_cap;
    jn_header pub_h;
    bool pub_posted; /* the next slice is posted to the loop */
    int (*after)(void *actx, unsigned us, void (*cb)(void *ctx), void *ctx);
    void *after_ctx;
    unsigned close_ms;   /* the close interval (0: closes are asked for) */
    unsigned pub_gap_us; /* between the current ledger's slices (rpc_stream.c) */
    bool pub_inline; /* the loop has stopped: announce at once */
    uint8_t (*pub_books)[32];
    size_t pub_books_cap;
    pending *q_head, *q_tail;
    size_t q_len;
    struct scratch result_buf, reply_buf;
};

/* One request being answered. A command writes its result members through
 * w, or fails with the error in err/msg/exception (rpc_fail). */
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

/* ---------------------------------------------------------------- request budgets (rpc_budget.c) */

typedef struct jn_addr_budget jn_addr_budget;
/* Gives c a full budget, and shares its address's (NULL: none). -1 on ENOMEM. */
int rpc_budget_attach(jn_rpc *r, jn_client *c, const uint8_t addr[16]);
void rpc_budget_detach(jn_rpc *r, jn_client *c);
struct command;
/* What a request costs (units of about 10 µs of the loop). */
double rpc_request_cost(const struct command *cmd, const jt_json *p);
/* Takes cost from c's budget and its address's; false (nothing taken,
 * logged at most once a second per client) when either falls short. */
bool rpc_budget_take(jn_rpc *r, jn_client *c, double cost);
/* Charges cost after the fact (a reply's size), into debt if need be. */
void rpc_budget_charge(jn_rpc *r, jn_client *c, double cost);

/* ---------------------------------------------------------------- the command table */

#define C_ADMIN  0x1u /* admin connections only */
#define C_SUBMIT 0x2u /* submit: queued for a verify worker, when there are workers */

/* How a request's cost against the budgets grows with what it asks
 * (rpc_budget.c); PRICE_FLAT: its base cost alone. */
enum { PRICE_FLAT, PRICE_BOOK_PAGE, PRICE_TX_PAGE, PRICE_LEDGER };

typedef struct command {
    const char *name;
    int (*fn)(req *q);
    unsigned flags;
    const char *help;
    unsigned cost;  /* base cost in budget units (0: 1) */
    unsigned price; /* PRICE_* */
} command;

/* accounts (cmd_account.c) */
int cmd_account_info(req *q);
int cmd_account_lines(req *q);
int cmd_account_offers(req *q);
int cmd_account_objects(req *q);
int cmd_account_currencies(req *q);
int cmd_account_relation(req *q);
int cmd_account_relcp(req *q);
int cmd_account_tx(req *q);
int cmd_fee_info(req *q);
/* ledgers (cmd_ledger.c) */
int cmd_ledger(req *q);
int cmd_ledger_closed(req *q);
int cmd_ledger_current(req *q);
int cmd_ledger_accept(req *q);
/* transactions (cmd_tx.c) */
int cmd_tx(req *q);
int cmd_submit(req *q);
/* books (cmd_book.c) */
int cmd_book_offers(req *q);
/* Offers in one book page at most (skywelld's getBookPage). */
#define BOOK_PAGE_MAX 300u
/* Writes up to `limit` offers of page p, from where its cursor stands, as
 * elements of the array being written, with skywelld's owner_funds,
 * quality and taker_gets_funded/taker_pays_funded (jn_book_page_next).
 * Returns how many; limit + 1 when more follow and next (not NULL) holds
 * the place after the last one written. */
unsigned rpc_jw_book_page(jt_jw *w, const jn_view *v, const jn_env *env, jn_book_page *p,
                          unsigned limit, jn_book_mark *next);
/* path finding (cmd_path.c) */
typedef struct jn_pathreq jn_pathreq;
int cmd_skywell_path_find(req *q);
int cmd_path_find(req *q);
/* The client's path request goes (close, a new create, the client goes). */
void rpc_path_forget(jn_rpc *r, jn_client *c);
/* A ledger has closed: open path requests are updated and pushed, oldest
 * answer first, within the per-close budget. */
void rpc_path_on_close(jn_rpc *r);
/* the server (cmd_server.c) */
int cmd_ping(req *q);
int cmd_stop(req *q);
int cmd_server_info(req *q);
int cmd_not_supported(req *q);
/* streams (rpc_stream.c) */
int cmd_subscribe(req *q);
int cmd_unsubscribe(req *q);

/* ---------------------------------------------------------------- errors and replies (rpc.c) */

/* Records the error token `tok` (and a message, when fmt is not NULL) in q;
 * returns -1 for `return rpc_fail(...)`. */
int rpc_fail(req *q, const char *tok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sends the reply to a request: the command's result, or the error in q. */
void rpc_send_reply(jn_client *c, req *q, int rc, const jt_json *root, const jt_buf *result);

/* A reply to one of c's requests. */
static inline void send_buf(jn_client *c, const jt_buf *b)
{
    if (c->send)
        c->send(c->sctx, (const char *)b->data, b->len, false);
}

/* A message c did not ask for just now (streams, path_find updates): the
 * transport cannot slow c's requests down to hold these back. */
static inline void send_push(jn_client *c, const jt_buf *b)
{
    if (c->send)
        c->send(c->sctx, (const char *)b->data, b->len, true);
}

/* A reply would otherwise cost a malloc and three or four reallocs per
 * buffer; a reused buffer costs nothing in the steady state. One that grew
 * for a large reply (a whole ledger) is released after it. A nested use
 * (not expected) falls back to `local`. */
#define SCRATCH_KEEP ((size_t)64 << 10)

static inline jt_buf *scratch_get(struct scratch *s, jt_buf *local)
{
    jt_buf_init(local);
    if (s->busy)
        return local;
    s->busy = true;
    s->b.len = 0;
    return &s->b;
}

static inline void scratch_put(struct scratch *s, jt_buf *b)
{
    if (b != &s->b) {
        jt_buf_clear(b);
        return;
    }
    s->busy = false;
    if (b->cap > SCRATCH_KEEP)
        jt_buf_clear(b);
}

/* Runs one command with its result object written through q->w. */
static inline int run_command(req *q, int (*fn)(req *q))
{
    jt_jw_object_begin(q->w);
    int rc = fn(q);
    jt_jw_object_end(q->w);
    if (!rc && jt_jw_finish(q->w) != JT_OK)
        rc = rpc_fail(q, "internal", "response too large");
    return rc;
}

/* ---------------------------------------------------------------- the submit queue (rpc_submit.c) */

/* Queues request q (command cmd, document doc) behind a signature check or
 * the client's earlier submits. true: queued, doc is taken and the reply
 * follows in its turn; false: q holds the error to answer now. */
bool rpc_queue(req *q, const command *cmd, jt_json_doc *doc);
/* The client is going: its queued requests are finished unanswered. */
void rpc_queue_forget(jn_rpc *r, jn_client *c);

/* submit's two halves around the signature check (cmd_submit runs them
 * with the check inline). prepare: the blob (given or signed here),
 * decoded and checked for canonical form; on success *txp and *blob belong
 * to the caller. Without `secret` it reads only q->p and may run on a
 * worker (with a req of its own). finish: the transaction goes to the open
 * ledger; takes tx and blob; id and tx_json, when not NULL, were worked out
 * already. */
int rpc_submit_prepare(req *q, jt_buf *blob, jt_obj **txp);
int rpc_submit_finish(req *q, jt_buf *blob, jt_obj *tx, jt_err verr, const jt_errinfo *vei,
                      const uint8_t *id, const jt_buf *tx_json);

/* ---------------------------------------------------------------- streams (rpc_stream.c) */

/* A proposed transaction to transactions_proposed / accounts_proposed
 * subscribers. */
void rpc_publish_proposed(jn_rpc *r, const jt_obj *tx, const uint8_t id[32], int ter);
/* A ledger that has just become durable (jn_closer_announce_fn, ctx: r). */
void rpc_publish_closed(void *r, const jn_txlist *closed);
/* What is left of the last ledger's announcement, now. */
void rpc_publish_rest(jn_rpc *r);
/* The loop has stopped: what is left of the last ledger is announced now,
 * and any later one at once. */
void rpc_publish_flush(jn_rpc *r);

static inline bool wants_proposed(const jn_rpc *r)
{
    return r->n_stream_txp || r->acct_p.pairs;
}
/* The client is going: its accounts leave the indexes, its streams the
 * counts. */
void rpc_stream_forget(jn_rpc *r, jn_client *c);

/* ---------------------------------------------------------------- JSON (rpc_util.c) */

static inline uint64_t get_u(const jt_obj *o, const char *f, uint64_t dflt)
{
    uint64_t v;
    return jt_obj_get_uint(o, f, &v) == JT_OK ? v : dflt;
}

static inline void jw_account(jt_jw *w, const jt_account_id *a)
{
    char addr[JT_ADDRESS_MAX];
    if (jt_address_encode(a, addr) != JT_OK)
        addr[0] = 0;
    jt_jw_string(w, addr);
}

static inline void jw_value_text(jt_jw *w, const jt_amount *a)
{
    char v[JT_AMOUNT_TEXT_MAX];
    if (jt_amount_value_text(a, v, sizeof v) != JT_OK)
        snprintf(v, sizeof v, "0");
    jt_jw_string(w, v);
}

static inline void jw_currency(jt_jw *w, const jt_currency *c)
{
    char t[JT_CURRENCY_TEXT_MAX];
    jt_currency_to_text(c, t);
    jt_jw_string(w, t);
}

static inline void jw_amount(jt_jw *w, const jt_amount *a)
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
static inline void jw_obj_plus(jt_jw *w, const jt_obj *o, const jt_buf *extra)
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

static inline void extra_begin(extra *e)
{
    jt_buf_init(&e->b);
    jt_jw_init(&e->w, &e->b);
    jt_jw_object_begin(&e->w);
}

static inline const jt_buf *extra_end(extra *e)
{
    jt_jw_object_end(&e->w);
    if (jt_jw_finish(&e->w) != JT_OK)
        e->b.len = 0;
    return &e->b;
}

static inline void extra_free(extra *e)
{
    jt_buf_clear(&e->b);
}

/* Entry JSON plus "index". */
static inline void jw_entry(jt_jw *w, const jt_obj *o, const uint8_t id[32])
{
    extra e;
    extra_begin(&e);
    jt_jw_key(&e.w, "index");
    jt_jw_hex(&e.w, id, 32);
    jw_obj_plus(w, o, extra_end(&e));
    extra_free(&e);
}

static inline void jw_engine_result(jt_jw *w, int ter)
{
    const jt_ter *t = jt_ter_by_code(ter);
    jt_jw_key(w, "engine_result");
    jt_jw_string(w, t ? t->token : "tefINTERNAL");
    jt_jw_key(w, "engine_result_code");
    jt_jw_int(w, ter);
    jt_jw_key(w, "engine_result_message");
    jt_jw_string(w, t && t->message ? t->message : "");
}

/* The transaction's JSON with hash (and, for a closed ledger, inLedger,
 * ledger_index and date). */
void rpc_jw_tx(jt_jw *w, const jt_obj *tx, const uint8_t id[32], const jn_header *h, bool in_ledger);
/* Metadata JSON plus delivered_amount for payments. */
void rpc_jw_meta(jt_jw *w, const jt_obj *meta, const jt_obj *tx);
/* "FIRST-LAST" of the ledgers the node has. */
void rpc_jw_validated_ledgers(jt_jw *w, jn_ledger *L);

/* ---------------------------------------------------------------- parameters (rpc_util.c) */

/* An address parameter: false (with the error in q) when it is missing and
 * required, or malformed; false without an error when it is missing and
 * optional. */
bool rpc_param_account(req *q, const char *key, jt_account_id *a, bool required);
/* A book: taker_pays and taker_gets ({currency, issuer}) and an optional
 * taker (JT_ACCOUNT_ONE when absent; `taker_err` when malformed) in the
 * object `book` (book_offers' request, an entry of subscribe's books).
 * Errors as skywelld's: srcCurMalformed/srcIsrMalformed (taker_pays),
 * dstAmtMalformed/dstIsrMalformed (taker_gets), badMarket (one asset on
 * both sides). 0, or -1 with the error in q. */
int rpc_param_book(req *q, const jt_json *book, jt_amount *pays, jt_amount *gets,
                   jt_account_id *taker, const char *taker_err);
/* limit: default when absent, clamped to [lo, hi]. */
unsigned rpc_param_limit(req *q, unsigned dflt, unsigned lo, unsigned hi);

static inline bool param_bool(req *q, const char *key)
{
    const jt_json *v = jt_json_get(q->p, key);
    return v && v->kind == JT_JSON_BOOL && v->u.b;
}

/* ---------------------------------------------------------------- ledger selection (rpc_util.c) */

typedef struct lsel {
    int kind; /* 0 open, 1 last closed, 2 an older closed ledger (no state) */
    jn_header h;
    const jn_view *v;
} lsel;

/* The ledger that ledger_hash / ledger_index name; when neither does, the
 * open ledger (dflt_current) or the last closed one. */
int rpc_select_ledger(req *q, lsel *s, bool dflt_current);

/* State of the selected ledger, or an error for an older one. */
static inline int need_state(req *q, const lsel *s)
{
    if (s->kind == 2)
        return rpc_fail(q, "lgrNotFound",
                        "ledger %" PRIu32 " is closed and its state is not kept; ask for the last "
                        "closed (validated) or the current ledger",
                        s->h.seq);
    return 0;
}

/* ledger_current_index, or ledger_hash and ledger_index, and validated. */
void rpc_jw_ledger_fields(jt_jw *w, const lsel *s, jn_ledger *L);

#endif
